//! The shared "make this file have these bytes and attributes" engine of `copy`, `template` and
//! `talon_secret_file` ([`put_content`], [`fix_attrs`]), and the controller-side search for a
//! task's `src` ([`find_local_file`]). Round trips: one probe (stat + sha1 + content when
//! diffing) to decide; one write or one chmod/chown to apply (small content goes with the probe
//! in one round trip).

use std::path::{Path, PathBuf};

use crate::modules::args::{Args, FileArgs, files_failure, path_info};
use crate::modules::files::registered;
use crate::modules::{FileDiff, ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::files::{self, Checksum, FileKind, Probe, ProbeOptions, WriteOptions};

/// Ansible's `max_diff_size` default: larger files are not diffed.
pub(crate) const MAX_DIFF_SIZE: usize = 104_448;

/// A request to make `dest` hold `content` with the given attributes (shared by copy/template).
pub(crate) struct PutRequest {
    /// Module name for errors.
    pub module: &'static str,
    /// Destination as given (may end in `/` or be a directory when `src_name` is set).
    pub dest: String,
    /// The bytes wanted.
    pub content: Vec<u8>,
    /// Label of the new side in diffs (the controller source file; the destination for `content`).
    pub source_label: String,
    /// The source's file name, used when `dest` is a directory; `None` for inline content.
    pub src_name: Option<String>,
    /// mode/owner/group.
    pub file: FileArgs,
    /// Back up the old file.
    pub backup: bool,
    /// Replace a differing existing file (`force`).
    pub force: bool,
    /// Validation command with `%s`.
    pub validate: Option<String>,
    /// Follow a symlink at dest.
    pub follow: bool,
    /// Mode of parent directories created for a dest ending in `/` (`directory_mode`).
    pub directory_mode: Option<crate::modules::args::Mode>,
    /// The content is templated text that may hold secret markers (`content:`, template files):
    /// they are revealed into values in the bytes written, and only there.
    pub reveal: bool,
    /// copy's `checksum`: the sha1 the content must have. Matches ansible.builtin.copy: checked
    /// only when the content is about to be written (a destination that already holds the
    /// content is ok whatever this says), failing with the actual and the expected sums.
    pub expected_checksum: Option<String>,
}

/// Renders bytes for a diff side: `None` when binary or too large (Ansible omits those).
pub(crate) fn diff_text(data: &[u8]) -> String {
    if data.len() > MAX_DIFF_SIZE || data.contains(&0) {
        return String::new();
    }
    String::from_utf8_lossy(data).into_owned()
}

/// The "before" side of a content diff: the host's old content, except for a `sensitive` file
/// (it holds a secret now, or talon delivered one into it before): there only the lines that the new content has
/// too are shown, and every other line, where an old or rotated secret may stand, reads
/// [`crate::secrets::MASK`]. Lines of the new content hold markers, never values, so a line with
/// a secret value never matches one.
pub(crate) fn before_side(old: &str, new: &str, sensitive: bool) -> String {
    if !sensitive {
        return old.to_string();
    }
    crate::secrets::held::mask_lines_except(old, &new.lines().collect())
}

pub(crate) fn dest_probe_options(ctx: &ModuleContext<'_>, follow: bool) -> ProbeOptions {
    ProbeOptions {
        follow,
        checksum: Some(Checksum::Sha1),
        content: ctx.diff,
        sftp: true,
    }
}

/// Makes `req.dest` hold `req.content` with `req.file` attributes, as Ansible's copy action does.
///
/// Returns the outcome Ansible registers (`dest`, `checksum`, `size`, `mode`, `owner`, `group`,
/// `uid`, `gid`, `state`, `backup_file`). Fails (as a task) on a validation failure, a missing
/// destination directory, or `content` aimed at a directory.
///
/// Secrets (beyond Ansible): with `req.reveal`, secret markers in the content are replaced by
/// their values in the bytes written (on stdin, into a 0600 temp file) and nowhere else; diffs
/// show the markers (masked when reported). A file whose content holds a secret and whose task
/// gives no `mode` is made owner-only: 0600 when new, an existing file loses its group/other
/// bits; its `checksum` is not reported. A marker changed by a filter fails the task.
pub(crate) async fn put_content(
    mut req: PutRequest,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let text = std::str::from_utf8(&req.content).ok().filter(|_| req.reveal);
    let revealed = match text.map(|t| ctx.secrets.reveal(t)) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Ok(ModuleOutcome::failed(format!("{}: {e}", req.module))),
        None => crate::secrets::Revealed {
            content: secrecy::zeroize::Zeroizing::new(req.content.clone()),
            has_secret: false,
        },
    };
    let has_secret = revealed.has_secret;
    let deliver: &[u8] = &revealed.content;
    let mut dest = req.dest.clone();
    if dest.ends_with('/') {
        match &req.src_name {
            Some(name) => dest.push_str(name),
            None => return Ok(ModuleOutcome::failed("can not use content with a dir as dest")),
        }
    }
    let opts = dest_probe_options(ctx, req.follow);
    let checksum = Checksum::Sha1.digest(deliver);
    let bad_checksum = req
        .expected_checksum
        .as_ref()
        .filter(|e| **e != checksum)
        .cloned();
    // Small content whose attributes do not depend on what is there goes with the probe: a new
    // or differing file is written in the same round trip.
    let combined = match req.file.fixed_attrs() {
        Some(attrs)
            if !ctx.check
                && !ctx.diff
                && !has_secret
                && bad_checksum.is_none()
                && !req.dest.ends_with('/')
                && deliver.len() <= PUT_WITH_PROBE_MAX =>
        {
            Some(WriteOptions {
                attrs,
                backup: req.backup,
                validate: req.validate.clone(),
                create_parents: false,
                follow: req.follow,
                report: true,
                owner_is_creator: false,
            })
        }
        _ => None,
    };
    let mut probe: Probe = match &combined {
        Some(wopts) => {
            let put = files::put_if_changed(
                ctx.conn,
                &dest,
                deliver,
                &checksum,
                req.force,
                wopts,
                &ctx.become_,
            );
            match put.await {
                Ok(files::PutOutcome { written: Some(w), .. }) => {
                    ctx.secrets.held.mark(ctx.host, &dest, false);
                    return Ok(written_outcome(
                        ModuleOutcome::ok().with("dest", dest),
                        w,
                        !has_secret,
                        &checksum,
                        deliver,
                    ));
                }
                Ok(p) => p.before,
                Err(e) => return files_failure(e),
            }
        }
        None => match files::probe(ctx.conn, &dest, opts, &ctx.become_).await {
            Ok(p) => p,
            Err(e) => return files_failure(e),
        },
    };
    if probe.stat.as_ref().is_some_and(|s| s.kind == FileKind::Directory) {
        match &req.src_name {
            Some(name) => {
                dest = format!("{}/{name}", dest.trim_end_matches('/'));
                probe = match files::probe(ctx.conn, &dest, opts, &ctx.become_).await {
                    Ok(p) => p,
                    Err(e) => return files_failure(e),
                };
            }
            None => return Ok(ModuleOutcome::failed("can not use content with a dir as dest")),
        }
    }
    let base = ModuleOutcome::ok().with("dest", dest.clone());
    if has_secret {
        ctx.secrets.held.mark(ctx.host, &dest, true);
    }
    let existing = probe.stat.as_ref();
    if has_secret && req.file.mode.is_none() {
        let owner_only = existing.map_or(0o600, |s| s.mode & 0o700);
        req.file.mode = Some(crate::modules::args::Mode::Numeric(owner_only));
    }
    // A hash of content holding a secret helps guess a short secret: not reported.
    let checksum_shown = (!has_secret).then(|| checksum.clone());
    if existing.is_some() && !req.force {
        return Ok(base);
    }
    if let Some(st) = existing.filter(|s| s.kind == FileKind::Directory) {
        return Ok(ModuleOutcome::failed(format!(
            "{}: dest {dest} is a {}",
            req.module,
            st.kind.ansible_state()
        )));
    }
    let content_changes = existing.and_then(|s| s.checksum.as_deref()) != Some(checksum.as_str());

    if !content_changes {
        // Same bytes: only attributes may differ (Ansible runs the file module here).
        let Some(st) = existing else {
            return Ok(base);
        };
        let ch = req.file.changes(st);
        let mut out = path_info(base, st).with("path", dest.clone());
        if let Some(c) = &checksum_shown {
            out = out.with("checksum", c.clone());
        }
        return fix_attrs(out, &ch, &dest, req.follow, ctx).await;
    }

    let mut out = base;
    out.changed = true;
    if ctx.diff {
        let after = diff_text(&req.content);
        // A file that holds a secret now, or that talon delivered one into before, may hold an
        // old value the masking no longer knows.
        let sensitive = has_secret || ctx.secrets.held.holds(ctx.host, &dest);
        let before = existing
            .and_then(|s| s.content.as_deref())
            .map(|old| before_side(&diff_text(old), &after, sensitive))
            .unwrap_or_default();
        let old = existing.map(|s| s.content.as_deref().unwrap_or_default());
        out = out.with(
            "diff",
            registered::content_list(
                registered::Side {
                    header: &dest,
                    data: old,
                    shown: &before,
                },
                registered::Side {
                    header: &req.source_label,
                    data: Some(&req.content),
                    shown: &after,
                },
            ),
        );
        out.diff.push(FileDiff {
            before_header: dest.clone(),
            after_header: req.source_label.clone(),
            before,
            after,
            ..FileDiff::default()
        });
    }
    if ctx.check {
        // ansible-core's copy action returns `{"changed": true}` (and the diff) in check mode
        // when the content would change, without the module's other keys.
        let mut only = ModuleOutcome::ok();
        only.changed = true;
        only.diff = std::mem::take(&mut out.diff);
        if let Some(d) = out.result.remove("diff") {
            only = only.with("diff", d);
        }
        return Ok(only);
    }
    if let Some(expected) = bad_checksum {
        return Ok(checksum_mismatch(checksum_shown.unwrap_or_default(), expected));
    }
    let attrs = match existing {
        Some(st) => {
            let mut a = req.file.changes(st).attrs;
            // Give the explicit mode even when equal: the temp file starts as 0600.
            if let Some(m) = &req.file.mode {
                a.mode = Some(m.resolve(st.mode, false));
            }
            a
        }
        None => req.file.for_new(probe.umask, false),
    };
    // Ansible creates missing parents only for a dest ending in `/` (with directory_mode and the
    // owner/group); otherwise a missing directory is an error from the write.
    if existing.is_none() && req.dest.ends_with('/') {
        let parent = Path::new(&dest)
            .parent()
            .map(|p| p.to_string_lossy().into_owned());
        if let Some(parent) = parent.filter(|p| !p.is_empty()) {
            let dattrs = crate::transport::files::FileAttrs {
                mode: req
                    .directory_mode
                    .as_ref()
                    .map(|dm| dm.resolve(0o777 & !probe.umask, true)),
                owner: req.file.owner.clone(),
                group: req.file.group.clone(),
            };
            if let Err(e) = files::mkdir(ctx.conn, &parent, &dattrs, &ctx.become_).await {
                return files_failure(e);
            }
        }
    }
    let wopts = WriteOptions {
        attrs,
        backup: req.backup,
        validate: req.validate.clone(),
        create_parents: false,
        follow: req.follow,
        report: true,
        owner_is_creator: existing.is_some_and(|st| files::owned_as_new(ctx.conn, &ctx.become_, st)),
    };
    match files::write_atomic(ctx.conn, &dest, deliver, &wopts, &ctx.become_).await {
        Ok(w) => {
            if !has_secret {
                ctx.secrets.held.mark(ctx.host, &dest, false);
            }
            Ok(written_outcome(
                out,
                w,
                checksum_shown.is_some(),
                &checksum,
                deliver,
            ))
        }
        Err(e) => with_diff_of(files_failure(e), &out),
    }
}

/// A failure that keeps the registered `diff` of `out`: ansible-core computes the diff before
/// the write that fails, and registers both.
fn with_diff_of(
    failure: Result<ModuleOutcome, ModuleError>,
    out: &ModuleOutcome,
) -> Result<ModuleOutcome, ModuleError> {
    match (failure, out.result.get("diff")) {
        (Ok(f), Some(d)) => Ok(f.with("diff", d.clone())),
        (other, _) => other,
    }
}

/// The failure of a copy whose content's sha1 (`actual`) is not its `checksum` argument, as
/// ansible.builtin.copy reports it (`checksum`, `expected_checksum`, not changed).
pub(crate) fn checksum_mismatch(actual: String, expected: String) -> ModuleOutcome {
    ModuleOutcome::failed("Copied file does not match the expected checksum. Transfer failed.")
        .with("checksum", actual)
        .with("expected_checksum", expected)
}

/// Content up to this size (bytes) is sent with the probe ([`files::put_if_changed`]).
pub(crate) const PUT_WITH_PROBE_MAX: usize = 64 * 1024;

/// The result of a write: changed, with what was written (mode, owner, size), the checksum
/// and md5sum of `content` (unless it holds a secret), the temp file it came from (`src`) and
/// the backup, as Ansible's copy reports them.
pub(crate) fn written_outcome(
    mut out: ModuleOutcome,
    w: files::WriteOutcome,
    show_checksum: bool,
    checksum: &str,
    content: &[u8],
) -> ModuleOutcome {
    out.changed = true;
    if let Some(f) = &w.written {
        out = out
            .with("mode", format!("{:04o}", f.mode))
            .with("owner", f.owner.owner.clone())
            .with("group", f.owner.group.clone())
            .with("uid", f.owner.uid)
            .with("gid", f.owner.gid)
            .with("size", f.size)
            .with("state", "file");
    }
    if show_checksum {
        out = out.with("checksum", checksum.to_string());
        out = out.with("md5sum", Checksum::md5(content));
    }
    if !w.source.is_empty() {
        out = out.with("src", w.source);
    }
    if let Some(b) = w.backup_file {
        out = out.with("backup_file", b);
    }
    out
}

/// Applies only attribute changes `ch` to `dest`, whose content is already right: changed and a
/// `--diff` of the attributes when any differ, nothing applied in check mode (Ansible runs the
/// file module here). Shared by copy/template and `talon_secret_file`.
pub(crate) async fn fix_attrs(
    mut out: ModuleOutcome,
    ch: &crate::modules::args::AttrChanges,
    dest: &str,
    follow: bool,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    if !ch.any() {
        if ctx.diff {
            let d = registered::file_dict(ctx, dest, &[]).await?;
            out = out.with("diff", d);
        }
        return Ok(out);
    }
    out.changed = true;
    if ctx.diff {
        out.diff.push(FileDiff {
            before_header: dest.to_string(),
            after_header: dest.to_string(),
            before: ch.before.clone(),
            after: ch.after.clone(),
            fields: ch.fields.clone(),
        });
        let d = registered::file_dict(ctx, dest, &out.diff).await?;
        out = out.with("diff", d);
    }
    if ctx.check {
        return Ok(out);
    }
    if let Err(e) = files::set_attrs(ctx.conn, dest, &ch.attrs, follow, &ctx.become_).await {
        return with_diff_of(files_failure(e), &out);
    }
    Ok(ch.report(out))
}

/// Finds a controller file: absolute as is; relative in each search path's `sub/` first, then the
/// search path itself (Ansible's `find_file_in_search_path`).
pub(crate) fn find_local_file(src: &str, sub: &str, ctx: &ModuleContext<'_>) -> Result<PathBuf, ModuleError> {
    find_local(src, sub, ctx).ok_or_else(|| {
        let searched: Vec<String> = if Path::new(src).is_absolute() {
            vec![src.to_string()]
        } else {
            ctx.search_paths
                .iter()
                .flat_map(|b| [b.join(sub).join(src), b.join(src)])
                .map(|p| p.display().to_string())
                .collect()
        };
        ModuleError::NotFound(format!(
            "Could not find or access '{src}'\nSearched in:\n\t{} on the Ansible Controller.\n\
             If you are using a module and expect the file to exist on the remote, see the remote_src option",
            searched.join("\n\t")
        ))
    })
}

/// Looks a controller-side `src` up: absolute as is, else `DIR/SUB/src` then `DIR/src` for each
/// search path (role folder, task file folder, playbook folder), like Ansible's lookup order.
pub(crate) fn find_local(src: &str, sub: &str, ctx: &ModuleContext<'_>) -> Option<PathBuf> {
    let p = Path::new(src);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    for base in ctx.search_paths {
        for cand in [base.join(sub).join(p), base.join(p)] {
            if cand.exists() {
                return Some(cand);
            }
        }
    }
    let here = PathBuf::from(src);
    (ctx.search_paths.is_empty() && here.exists()).then_some(here)
}

/// The destination arguments copy and template share.
pub(crate) struct PutOptions {
    /// `dest`.
    pub dest: String,
    /// `mode`/`owner`/`group`.
    pub file: FileArgs,
    /// `backup` (default false).
    pub backup: bool,
    /// `force` / `thirsty` (default true).
    pub force: bool,
    /// `validate` (with `%s`).
    pub validate: Option<String>,
    /// `follow` (default false).
    pub follow: bool,
    /// `mode: preserve`: the destination gets the mode of the source file (`file.mode` is then
    /// unset until the caller knows the source).
    pub preserve: bool,
}

/// Reads the common copy/template destination arguments.
pub(crate) fn put_options(a: &Args<'_>) -> Result<PutOptions, ModuleError> {
    let dest = a.req_str("dest")?;
    if dest.is_empty() {
        return Err(a.bad("dest must not be empty"));
    }
    let preserve = a.value("mode").and_then(serde_json::Value::as_str) == Some("preserve");
    let file = if preserve {
        FileArgs {
            mode: None,
            owner: a.str("owner")?.filter(|s| !s.is_empty()),
            group: a.str("group")?.filter(|s| !s.is_empty()),
        }
    } else {
        FileArgs::parse(a)?
    };
    Ok(PutOptions {
        dest,
        file,
        backup: a.bool("backup", false)?,
        force: a.bool("force", true)?,
        validate: a.str("validate")?,
        follow: a.bool("follow", false)?,
        preserve,
    })
}

/// The permission bits of a controller file (following links), for `mode: preserve`: matches
/// ansible.builtin.copy/template's action plugins (`'0%03o' % S_IMODE(os.stat(src).st_mode)`).
pub(crate) fn preserved_mode(path: &Path) -> Result<crate::modules::args::Mode, ModuleError> {
    use std::os::unix::fs::PermissionsExt;
    let md = std::fs::metadata(path).map_err(|e| ModuleError::LocalFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(crate::modules::args::Mode::Numeric(
        md.permissions().mode() & 0o7777,
    ))
}

/// Whether controller file content is encrypted with `ansible-vault` (`$ANSIBLE_VAULT;...`).
pub(crate) fn is_vault(data: &[u8]) -> bool {
    data.starts_with(b"$ANSIBLE_VAULT;")
}

/// The bytes of the controller file `path` (`what` names it in errors); a vault-encrypted file
/// is decrypted ([`decrypt_src`]). Errors: [`ModuleError::LocalFile`], [`ModuleError::Input`].
pub(crate) async fn read_local_src(
    path: std::path::PathBuf,
    what: &'static str,
) -> Result<Vec<u8>, ModuleError> {
    Ok(read_local_src_vault(path, what).await?.0)
}

/// [`read_local_src`], and whether the file was vault-encrypted (its content is then a secret).
pub(crate) async fn read_local_src_vault(
    path: std::path::PathBuf,
    what: &'static str,
) -> Result<(Vec<u8>, bool), ModuleError> {
    let read = path.clone();
    let data = tokio::task::spawn_blocking(move || {
        crate::input::read_bytes(&read, crate::input::CONTENT_LIMIT, what)
    })
    .await
    .map_err(|e| ModuleError::LocalFile {
        path: path.clone(),
        message: e.to_string(),
    })?
    .map_err(|e| ModuleError::Input(Box::new(e)))?;
    // Ansible decrypts a vault-encrypted src on the controller (`decrypt: true`, the default).
    if is_vault(&data) {
        return Ok((decrypt_src(&data, path)?, true));
    }
    Ok((data, false))
}

/// A vault-encrypted controller file decrypted with the run's vault passwords, its content made
/// a secret (masked in output and diffs); never the ciphertext in its place.
///
/// Errors: [`ModuleError::LocalFile`] with ansible-core's message when no password fits.
pub(crate) fn decrypt_src(data: &[u8], path: std::path::PathBuf) -> Result<Vec<u8>, ModuleError> {
    crate::vault::decrypt_secret_bytes(data, &path.display().to_string())
        .map(|p| p.to_vec())
        .map_err(|e| ModuleError::LocalFile {
            path,
            message: e.to_string(),
        })
}

/// The error for a vault-encrypted script: talon does not send one (its content would pass
/// through a command line's reach); decrypt it, or run it with `copy` and `command`.
pub(crate) fn vault_src(path: std::path::PathBuf) -> ModuleError {
    ModuleError::LocalFile {
        path,
        message: "the script is encrypted with ansible-vault, which talon does not run: copy it with \
                  `copy` (which decrypts it) and run it with `command`"
            .into(),
    }
}

/// Without `--diff`, copy and template register `diff: []` as ansible-core's copy action does
/// (with `--diff`, [`put_content`] registers the shape Ansible gives the case: see
/// [`registered`]).
pub(crate) fn registered_diff(
    out: Result<ModuleOutcome, ModuleError>,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    match out {
        Ok(o) if !ctx.diff => Ok(o.with("diff", serde_json::Value::Array(Vec::new()))),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d6_before_side_of_a_sensitive_file_shows_only_lines_the_new_content_has() {
        let old = "a=1\ntoken=OLD\nb=2";
        let new = "a=1\ntoken=__talon_secret_x_0__\nb=2\n";
        assert_eq!(before_side(old, new, false), old);
        assert_eq!(before_side(old, new, true), "a=1\n********\nb=2");
    }
}
