//! `copy` with a directory `src` on the controller, matching ansible.builtin.copy's action plugin:
//! `src: dir/` copies what is in `dir`, `src: dir` copies `dir` itself into `dest`; files as
//! single copies (sha1 decides, `mode`, `mode: preserve`, `force`, `checksum`), every directory of
//! the tree given `directory_mode` (new or existing) and owner/group, links kept as links when
//! `local_follow: false`. Round trips: one probe of the whole destination tree, one script that
//! makes every change (the bytes of all written files on its stdin).

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::modules::args::{FileArgs, Mode, files_failure};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::files::{self, Checksum, FileAttrs, FileKind, FileStat, TreeOp};

/// What [`walk`] found under a source directory, with paths relative to the destination.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Walked {
    /// Regular files (links followed to them with `local_follow`): (controller path, relative).
    pub files: Vec<(PathBuf, String)>,
    /// Directories below the top (relative).
    pub dirs: Vec<String>,
    /// Links copied as links: (link target, relative).
    pub links: Vec<(String, String)>,
}

/// Walks `top` as ansible.builtin.copy's `_walk_dirs` does: relative paths start below `top`
/// with `contents` (a `src` ending in `/`), else with `top`'s own name; with `local_follow` a
/// link to a file is copied as that file and a link to a directory as that directory, except
/// a link to a directory that contains it (a loop), which stays a link; without, every link
/// stays a link. Entries are in name order, each directory before what it holds.
///
/// Errors: the I/O error of the first entry that cannot be read.
pub(crate) fn walk(top: &Path, contents: bool, local_follow: bool) -> std::io::Result<Walked> {
    let mut out = Walked::default();
    let prefix = if contents {
        String::new()
    } else {
        top.file_name()
            .map(|n| format!("{}/", n.to_string_lossy()))
            .unwrap_or_default()
    };
    let real = top.canonicalize()?;
    walk_dir(&real, &prefix, local_follow, &mut out)?;
    Ok(out)
}

fn walk_dir(dir: &Path, rel: &str, local_follow: bool, out: &mut Walked) -> std::io::Result<()> {
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut subdirs = Vec::new();
    for e in entries {
        let path = e.path();
        let name = format!("{rel}{}", e.file_name().to_string_lossy());
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?.to_string_lossy().into_owned();
            let resolved = path.canonicalize().ok();
            match resolved.as_ref().map(|r| (r, std::fs::metadata(r))) {
                Some((r, Ok(m))) if local_follow && m.is_file() => out.files.push((r.clone(), name)),
                Some((r, Ok(m))) if local_follow && m.is_dir() && !dir.starts_with(r) => {
                    subdirs.push((r.clone(), name))
                }
                _ => out.links.push((target, name)),
            }
        } else if meta.is_dir() {
            subdirs.push((path, name));
        } else {
            out.files.push((path, name));
        }
    }
    for (path, name) in subdirs {
        out.dirs.push(name.clone());
        walk_dir(&path, &format!("{name}/"), local_follow, out)?;
    }
    Ok(())
}

/// A directory `src` copy: the arguments of `copy` that matter to it.
pub(crate) struct TreeRequest {
    /// The source directory found on the controller.
    pub src: PathBuf,
    /// `src` ended in `/`: copy the contents.
    pub contents: bool,
    /// `dest`, a directory (created when missing).
    pub dest: String,
    /// `mode`/`owner`/`group` of the files (owner/group of the directories and links too).
    pub file: FileArgs,
    /// `mode: preserve`.
    pub preserve: bool,
    /// `directory_mode`.
    pub directory_mode: Option<Mode>,
    /// `local_follow` (default true).
    pub local_follow: bool,
    /// `force` (default true).
    pub force: bool,
    /// `checksum`.
    pub expected_checksum: Option<String>,
}

/// A controller file read for the copy.
struct Source {
    rel: String,
    data: Vec<u8>,
    sha1: String,
    mode: u32,
}

fn read_sources(files: &[(PathBuf, String)]) -> Result<Vec<Source>, ModuleError> {
    files
        .iter()
        .map(|(path, rel)| {
            let data = crate::input::read_bytes(path, crate::input::CONTENT_LIMIT, "a copy src file")
                .map_err(|e| ModuleError::Input(Box::new(e)))?;
            let data = if super::put::is_vault(&data) {
                super::put::decrypt_src(&data, path.clone())?
            } else {
                data
            };
            let mode = std::fs::metadata(path)
                .map_err(|e| ModuleError::LocalFile {
                    path: path.clone(),
                    message: e.to_string(),
                })?
                .permissions()
                .mode()
                & 0o7777;
            Ok(Source {
                rel: rel.clone(),
                sha1: Checksum::Sha1.digest(&data),
                data,
                mode,
            })
        })
        .collect()
}

/// The plan of a tree copy: the ops, the bytes they write, and what a one-file copy reports.
#[derive(Default)]
struct Plan {
    ops: Vec<TreeOp>,
    stdin: Vec<u8>,
    changed: bool,
    /// (dest path, sha1, final mode) of each file copied or kept.
    files: Vec<(String, String, u32)>,
}

/// Copies the directory of `req` to the host, as ansible.builtin.copy does. Returns Ansible's
/// result: `dest` (ending in `/`), `src`, `changed`; for a tree of one file, that file's result
/// (`dest`, `checksum`, `mode`). Fails (as a task) when a destination is not of the kind needed,
/// or a file to write does not have the sha1 `checksum` gives.
pub(crate) async fn copy_tree(
    req: TreeRequest,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let (src, contents, follow) = (req.src.clone(), req.contents, req.local_follow);
    let walked = tokio::task::spawn_blocking(move || {
        let w = walk(&src, contents, follow).map_err(|e| ModuleError::LocalFile {
            path: src.clone(),
            message: e.to_string(),
        })?;
        let sources = read_sources(&w.files)?;
        Ok::<_, ModuleError>((w, sources))
    })
    .await
    .map_err(|e| ModuleError::LocalFile {
        path: req.src.clone(),
        message: e.to_string(),
    })?;
    let (walked, sources) = walked?;
    let base = format!("{}/", req.dest.trim_end_matches('/'));
    let top = base.trim_end_matches('/').to_string();
    let top = if top.is_empty() { "/".to_string() } else { top };
    // Paths probed: the destination itself, the source's own directory (`src: dir`), the
    // directories, files and links of the tree.
    let mut implicit = vec![top];
    if !req.contents
        && let Some(name) = req.src.file_name()
    {
        implicit.push(format!("{base}{}", name.to_string_lossy()));
    }
    let dirs: Vec<String> = walked.dirs.iter().map(|d| format!("{base}{d}")).collect();
    let file_paths: Vec<String> = sources.iter().map(|s| format!("{base}{}", s.rel)).collect();
    let link_paths: Vec<String> = walked.links.iter().map(|(_, r)| format!("{base}{r}")).collect();
    let mut paths = implicit.clone();
    paths.extend(dirs.iter().cloned());
    paths.extend(file_paths.iter().cloned());
    paths.extend(link_paths.iter().cloned());
    let (umask, stats) = match files::probe_many(ctx.conn, &paths, &ctx.become_).await {
        Ok(r) => r,
        Err(e) => return files_failure(e),
    };
    let mut stats = stats.into_iter();
    let mut next = || stats.next().flatten();
    let mut plan = Plan::default();
    let dir_attrs = FileArgs {
        mode: req.directory_mode.clone(),
        owner: req.file.owner.clone(),
        group: req.file.group.clone(),
    };
    let new_dir = dir_attrs.for_new(umask, true);
    let mut made: HashSet<String> = HashSet::new();
    for (path, fix) in implicit
        .iter()
        .map(|p| (p, false))
        .chain(dirs.iter().map(|p| (p, true)))
    {
        match next() {
            None => {
                plan.changed = true;
                made.insert(path.clone());
                plan.ops.push(TreeOp::Dir {
                    path: path.clone(),
                    attrs: new_dir.clone(),
                });
            }
            Some(st) if st.kind != FileKind::Directory => {
                return Ok(ModuleOutcome::failed(format!(
                    "copy: {path} exists and is a {}, not a directory",
                    st.kind.ansible_state()
                )));
            }
            Some(st) if fix => {
                let ch = dir_attrs.changes(&st);
                if ch.any() {
                    plan.changed = true;
                    plan.ops.push(TreeOp::Attrs {
                        path: path.clone(),
                        attrs: ch.attrs,
                    });
                }
            }
            Some(_) => {}
        }
    }
    for (s, path) in sources.iter().zip(&file_paths) {
        let wanted = FileArgs {
            mode: if req.preserve {
                Some(Mode::Numeric(s.mode))
            } else {
                req.file.mode.clone()
            },
            ..req.file.clone()
        };
        if let Some(out) = plan_file(&mut plan, s, path, next(), &wanted, umask, &req) {
            return Ok(out);
        }
    }
    for ((target, _), path) in walked.links.iter().zip(&link_paths) {
        let st = next();
        if st.as_ref().and_then(|s| s.link_target.as_deref()) == Some(target.as_str()) {
            continue;
        }
        plan.changed = true;
        plan.ops.push(TreeOp::Link {
            path: path.clone(),
            target: target.clone(),
            attrs: FileAttrs {
                mode: None,
                ..req.file.for_new(umask, false)
            },
        });
    }
    if !ctx.check
        && let Err(e) =
            files::apply_tree(ctx.conn, &plan.ops, std::mem::take(&mut plan.stdin), &ctx.become_).await
    {
        return files_failure(e);
    }
    let mut out = ModuleOutcome::ok();
    out.changed = plan.changed;
    if let [(dest, sha1, mode)] = plan.files.as_slice() {
        return Ok(out
            .with("dest", dest.clone())
            .with("checksum", sha1.clone())
            .with("mode", format!("{mode:04o}")));
    }
    let src = req.src.display().to_string();
    let src = if req.contents {
        format!("{}/", src.trim_end_matches('/'))
    } else {
        src
    };
    Ok(out.with("dest", base).with("src", src))
}

/// Adds what one file of the tree needs to `plan`; `Some` is the task's failure.
fn plan_file(
    plan: &mut Plan,
    s: &Source,
    path: &str,
    st: Option<FileStat>,
    wanted: &FileArgs,
    umask: u32,
    req: &TreeRequest,
) -> Option<ModuleOutcome> {
    let attrs = match &st {
        Some(_) if !req.force => return None,
        Some(st) if st.kind == FileKind::Directory => {
            return Some(ModuleOutcome::failed(format!("copy: dest {path} is a directory")));
        }
        Some(st) if st.kind == FileKind::File && st.checksum.as_deref() == Some(s.sha1.as_str()) => {
            let ch = wanted.changes(st);
            let mode = ch.attrs.mode.unwrap_or(st.mode);
            plan.files.push((path.to_string(), s.sha1.clone(), mode));
            if ch.any() {
                plan.changed = true;
                plan.ops.push(TreeOp::Attrs {
                    path: path.to_string(),
                    attrs: ch.attrs,
                });
            }
            return None;
        }
        // An existing file keeps its mode and owner unless others are asked for (Ansible's
        // atomic_move); a link in the way is replaced by a new file.
        Some(st) if st.kind == FileKind::File => FileAttrs {
            mode: Some(
                wanted
                    .mode
                    .as_ref()
                    .map_or(st.mode, |m| m.resolve(st.mode, false)),
            ),
            owner: Some(wanted.owner.clone().unwrap_or_else(|| st.uid.to_string())),
            group: Some(wanted.group.clone().unwrap_or_else(|| st.gid.to_string())),
        },
        _ => {
            let mut a = wanted.for_new(umask, false);
            a.mode = Some(a.mode.unwrap_or(0o666 & !umask));
            a
        }
    };
    if let Some(expected) = req.expected_checksum.as_ref().filter(|e| **e != s.sha1) {
        return Some(super::put::checksum_mismatch(s.sha1.clone(), expected.clone()));
    }
    plan.changed = true;
    plan.files
        .push((path.to_string(), s.sha1.clone(), attrs.mode.unwrap_or(0o644)));
    plan.ops.push(TreeOp::File {
        path: path.to_string(),
        size: s.data.len() as u64,
        sha1: s.sha1.clone(),
        attrs,
    });
    plan.stdin.extend_from_slice(&s.data);
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("top");
        std::fs::create_dir_all(t.join("sub/deep")).unwrap();
        std::fs::create_dir_all(t.join("other")).unwrap();
        std::fs::write(t.join("a"), "a").unwrap();
        std::fs::write(t.join("sub/b"), "b").unwrap();
        std::fs::write(t.join("other/c"), "c").unwrap();
        std::os::unix::fs::symlink("a", t.join("la")).unwrap();
        std::os::unix::fs::symlink("other", t.join("lo")).unwrap();
        std::os::unix::fs::symlink("..", t.join("sub/up")).unwrap();
        std::os::unix::fs::symlink("nowhere", t.join("broken")).unwrap();
        d
    }

    fn rels(w: &Walked) -> (Vec<&str>, Vec<&str>, Vec<(&str, &str)>) {
        (
            w.files.iter().map(|(_, r)| r.as_str()).collect(),
            w.dirs.iter().map(String::as_str).collect(),
            w.links.iter().map(|(t, r)| (t.as_str(), r.as_str())).collect(),
        )
    }

    #[test]
    fn d11_walk_follows_links_except_loops_and_names_from_the_top() {
        let d = tree();
        let w = walk(&d.path().join("top"), true, true).unwrap();
        let (files, dirs, links) = rels(&w);
        assert_eq!(files, ["a", "la", "lo/c", "other/c", "sub/b"]);
        assert_eq!(dirs, ["lo", "other", "sub", "sub/deep"]);
        assert_eq!(links, [("nowhere", "broken"), ("..", "sub/up")]);
        assert!(w.files[1].0.ends_with("top/a"), "a link copies its target");
    }

    #[test]
    fn d11_walk_without_local_follow_keeps_links_and_without_slash_names_the_dir() {
        let d = tree();
        let w = walk(&d.path().join("top"), false, false).unwrap();
        let (files, dirs, links) = rels(&w);
        assert_eq!(files, ["top/a", "top/other/c", "top/sub/b"]);
        assert_eq!(dirs, ["top/other", "top/sub", "top/sub/deep"]);
        assert_eq!(
            links,
            [
                ("nowhere", "top/broken"),
                ("a", "top/la"),
                ("other", "top/lo"),
                ("..", "top/sub/up")
            ]
        );
    }
}
