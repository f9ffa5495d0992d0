//! `file` with `state: link` / `state: hard` (part of [`super`]): where a link's `src` is, the
//! checks ansible.builtin.file makes before it links, and attributes through a symlink.

use super::*;

/// `state: link` / `state: hard`.
/// Where a link's `src` is, seen from the host: a symlink's relative target is relative to the
/// link's directory, a hard link's to the working directory.
pub(crate) fn link_src_abs(path: &str, src: &str, symbolic: bool) -> String {
    if src.starts_with('/') || !symbolic {
        return src.to_string();
    }
    let dir = std::path::Path::new(path)
        .parent()
        .map(|p| p.to_string_lossy().into_owned());
    match dir.filter(|d| !d.is_empty()) {
        Some(d) => format!("{d}/{src}"),
        None => src.to_string(),
    }
}

/// What `state: link|hard` asks for.
pub(super) struct LinkRequest {
    pub(super) symbolic: bool,
    pub(super) src: Option<String>,
    /// Whether `src` exists, when the probe already looked (symbolic links with `src` given).
    pub(super) src_exists: Option<bool>,
    pub(super) force: bool,
    /// `follow`: a symlink's mode, owner and group are its target's.
    pub(super) follow: bool,
}

/// Sets the attributes `fa` asks for on a symlink's target (ansible.builtin.file's
/// `load_file_common_arguments` follows the link), and reports the link itself. A dangling
/// link has no target to set: nothing changes.
async fn attrs_through_link(
    ctx: &ModuleContext<'_>,
    path: &str,
    fa: &FileArgs,
    out: ModuleOutcome,
) -> Result<ModuleOutcome, ModuleError> {
    let target = match files::stat(ctx.conn, path, true, None, &ctx.become_).await {
        Ok(t) => t,
        Err(e) => return files_failure(e),
    };
    let link = match files::stat(ctx.conn, path, false, None, &ctx.become_).await {
        Ok(l) => l,
        Err(e) => return files_failure(e),
    };
    let out = match &target {
        Some(t) => ensure_attrs(ctx, path, t, fa, true, out).await?,
        None => out,
    };
    Ok(match &link {
        Some(l) => path_info(out, l),
        None => out,
    })
}

pub(super) async fn link_state(
    ctx: &ModuleContext<'_>,
    path: &str,
    link: LinkRequest,
    fa: &FileArgs,
    probed: Probe,
    base: ModuleOutcome,
) -> Result<ModuleOutcome, ModuleError> {
    let LinkRequest {
        symbolic,
        src,
        src_exists,
        force,
        follow,
    } = link;
    let want = if symbolic { "link" } else { "hard" };
    let existing = probed.stat.as_ref();
    let src = match (src, existing) {
        (Some(s), _) => s,
        (None, Some(st)) if symbolic && st.kind == FileKind::Link => {
            st.link_target.clone().unwrap_or_default()
        }
        // Already a hard link (a file with more than one name): only its attributes.
        (None, Some(st)) if !symbolic && st.kind == FileKind::File && st.nlink > 1 => {
            let out = base.with("state", want);
            return ensure_attrs(ctx, path, st, fa, false, out)
                .await
                .map(|o| o.with("state", want));
        }
        _ => {
            return Ok(ModuleOutcome::failed(format!(
                "src is required for creating new {}",
                if symbolic { "symlinks" } else { "hardlinks" }
            )));
        }
    };
    let mut out = base.with("state", want).with("src", src.clone());
    let prev = state_name(existing);
    let src_abs = link_src_abs(path, &src, symbolic);
    // Is the link already right?
    let already = match existing {
        Some(st) if symbolic => st.kind == FileKind::Link && st.link_target.as_deref() == Some(src.as_str()),
        Some(st) if st.kind == FileKind::File || st.kind == FileKind::Other => {
            match files::stat(ctx.conn, &src_abs, true, None, &ctx.become_).await {
                Ok(Some(s)) => s.inode == st.inode && s.dev == st.dev,
                Ok(None) => false,
                Err(e) => return files_failure(e),
            }
        }
        _ => false,
    };
    if already {
        let Some(st) = existing else {
            return Ok(out);
        };
        if symbolic && follow && (fa.mode.is_some() || fa.owner.is_some() || fa.group.is_some()) {
            return attrs_through_link(ctx, path, fa, out)
                .await
                .map(|o| o.with("state", want));
        }
        return ensure_attrs(ctx, path, st, fa, !symbolic, out)
            .await
            .map(|o| o.with("state", want));
    }
    // Conflicts Ansible refuses without force.
    match existing.map(|s| s.kind) {
        Some(FileKind::Directory) if !force => {
            return Ok(ModuleOutcome::failed(format!(
                "refusing to convert from directory to {want} for {path}"
            ))
            .with("path", path));
        }
        Some(FileKind::File) | Some(FileKind::Other) if symbolic && !force => {
            return Ok(ModuleOutcome::failed(format!(
                "refusing to convert from {prev} to symlink for {path}"
            ))
            .with("path", path));
        }
        Some(FileKind::Link) if !symbolic && !force => {
            return Ok(ModuleOutcome::failed(format!(
                "refusing to convert from link to hard link for {path}"
            ))
            .with("path", path));
        }
        _ => {}
    }
    // A symlink only needs to know that src exists (the probe may have looked already); a hard
    // link takes its mode from src.
    let (src_stat, src_missing) = match src_exists.filter(|_| symbolic) {
        Some(e) => (None, !e),
        None => match files::stat(ctx.conn, &src_abs, true, None, &ctx.become_).await {
            Ok(s) => {
                let missing = s.is_none();
                (s, missing)
            }
            Err(e) => return files_failure(e),
        },
    };
    if src_missing && !(symbolic && force) {
        let msg = if symbolic {
            format!(
                "src file does not exist, use 'force=yes' if you really want to create the link: {src_abs}"
            )
        } else {
            "src does not exist".to_string()
        };
        return Ok(ModuleOutcome::failed(msg).with("path", path).with("src", src));
    }
    out.changed = true;
    if ctx.diff {
        out.diff.push(state_diff(path, prev, want));
    }
    if ctx.check {
        return Ok(out);
    }
    let attrs = FileAttrs {
        mode: if symbolic {
            None
        } else {
            fa.mode
                .as_ref()
                .map(|m| m.resolve(src_stat.as_ref().map_or(0o644, |s| s.mode), false))
        },
        owner: fa.owner.clone(),
        group: fa.group.clone(),
    };
    let made = match files::link(ctx.conn, &src, path, symbolic, &attrs, &ctx.become_).await {
        Ok(st) => st,
        Err(e) => return files_failure(e),
    };
    let out = out.with("dest", json!(path));
    if symbolic && follow && fa.mode.is_some() {
        return attrs_through_link(ctx, path, fa, out)
            .await
            .map(|o| o.with("state", want));
    }
    // The new link as it is (ansible.builtin.file reports the path's info after the change).
    Ok(match made {
        Some(st) => path_info(out, &st).with("state", want),
        None => out,
    })
}
