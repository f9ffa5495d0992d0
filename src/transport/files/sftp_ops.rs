//! The file primitives over SFTP ([`crate::transport::sftp`]): the same answers as the shell
//! scripts of [`super::scripts`], from requests to the host's `sftp-server` instead of programs.
//!
//! Each function here answers `None` whenever it cannot give exactly what the script would: a
//! field SFTP v3 does not carry, an owner id `/etc/passwd` does not name, an error whose message
//! the host's tools word (permission denied, a missing parent), a case the script handles with
//! a program (a directory to remove recursively, an existing file to replace with its ACLs and
//! extended attributes kept, a validate command). The caller then runs the script, so results
//! and error messages are the shell path's. Nothing here changes the host before it knows it
//! can finish; a write that fails halfway removes its temp file first.
//!
//! `become` keeps the shell path: SFTP runs as the login user, and a `sudo`'d `sftp-server`
//! would need sudo (and its password) on the subsystem's channel, which neither OpenSSH's
//! client nor ansible-core does; a `become` to the login user itself is the login user's view
//! and may use SFTP.

use std::sync::Arc;

use russh_sftp::protocol::FileAttributes;

use super::super::sftp::{Names, SftpFail, SftpFs, mode_attrs, owner_attrs};
use super::super::{Become, Connection};
use super::types::{
    FileAttrs, FileKind, FileOwner, FileStat, FilesError, Probe, ProbeOptions, WriteOptions, WriteOutcome,
    WrittenFile, learn_owner, learn_umask, learned_umask,
};

/// Regular files up to this size (bytes) are read back over SFTP and hashed on the controller
/// when a checksum is asked for; larger ones are hashed on the host (one `sha1sum`), where
/// moving the bytes would cost more than the process (see README "Where talon's time goes").
pub(super) const CONTROLLER_HASH_MAX: u64 = 64 * 1024;

/// The SFTP session to use for a request with `become_`, or `None` for the shell path (no
/// session, `TALON_FILE_TRANSPORT=shell`, or a `become` to another user).
pub(super) async fn usable(conn: &Connection, become_: &Option<Become>) -> Option<Arc<SftpFs>> {
    if let Some(b) = become_
        && b.user != conn.login_user()
    {
        return None;
    }
    conn.sftp().await
}

/// The host's umask for new files: learned from an earlier shell probe, else asked once per
/// connection with the `umask` builtin on the remote shell (a subshell, no program: SFTP
/// cannot ask for it, and `sftp-server` runs under the same umask as that shell). `None`
/// when the shell cannot answer (the caller then runs its script, which reports the error).
async fn umask(conn: &Connection) -> Option<u32> {
    if let Some(u) = learned_umask(conn) {
        return Some(u);
    }
    let req = super::script_request("umask", &[], None, &None).pure();
    let out = conn.exec(&req).await.ok()?;
    let u = u32::from_str_radix(out.stdout_str().trim(), 8).ok()?;
    learn_umask(conn, u);
    Some(u)
}

/// The file type bits of an SFTP mode as a [`FileKind`].
fn kind_of(perm: u32) -> FileKind {
    match perm & 0o170000 {
        0o100000 => FileKind::File,
        0o040000 => FileKind::Directory,
        0o120000 => FileKind::Link,
        _ => FileKind::Other,
    }
}

/// The fields of an SFTP attribute block that a [`FileStat`] reads exactly; `None` when the
/// server left one out or `/etc/passwd`/`/etc/group` do not name the owner.
fn base_stat(a: &FileAttributes, names: &Names) -> Option<FileStat> {
    let perm = a.permissions?;
    let (uid, gid) = (a.uid?, a.gid?);
    Some(FileStat {
        kind: kind_of(perm),
        mode: perm & 0o7777,
        uid,
        gid,
        owner: names.user(uid)?.to_string(),
        group: names.group(gid)?.to_string(),
        size: a.size?,
        mtime: f64::from(a.mtime?),
        atime: f64::from(a.atime?),
        ctime: 0.0,
        inode: 0,
        dev: 0,
        nlink: 0,
        link_target: None,
        link_resolved: None,
        readable: false,
        writeable: false,
        executable: false,
        checksum: None,
        content: None,
    })
}

/// `st PATH FOLLOW ALGO CONTENT` of [`super::scripts::ST_FN`] over SFTP: `Some(None)` for a
/// missing path, `None` when the shell must answer.
async fn stat_path(fs: &SftpFs, path: &str, opts: &ProbeOptions) -> Option<Option<FileStat>> {
    let names = fs.names().await?;
    // `[ -L ]` is asked even when following: the link's target is reported either way.
    let (main, own) = if opts.follow {
        let (m, l) = tokio::join!(fs.stat_opt(path, true), fs.stat_opt(path, false));
        (m.ok()?, l.ok()?)
    } else {
        let l = fs.stat_opt(path, false).await.ok()?;
        (l.clone(), l)
    };
    let Some(main) = main else {
        return Some(None);
    };
    let mut st = base_stat(&main, names)?;
    let is_link = own.as_ref().and_then(|a| a.permissions).map(kind_of) == Some(FileKind::Link);
    if is_link {
        st.link_target = Some(fs.readlink(path).await.ok()?);
    }
    if st.kind == FileKind::File && (opts.follow || !is_link) && (opts.content || opts.checksum.is_some()) {
        let limit = (!opts.content).then_some(CONTROLLER_HASH_MAX);
        if !opts.content && st.size > CONTROLLER_HASH_MAX {
            return None;
        }
        let bytes = fs.read_all(path, limit).await.ok()??;
        st.checksum = opts.checksum.map(|c| c.digest(&bytes));
        if opts.content {
            st.content = Some(bytes);
        }
    }
    Some(Some(st))
}

/// [`super::probe`] over SFTP (only for callers that set [`ProbeOptions::sftp`]).
pub(super) async fn probe(conn: &Connection, fs: &SftpFs, path: &str, opts: &ProbeOptions) -> Option<Probe> {
    if !opts.sftp {
        return None;
    }
    let umask = umask(conn).await?;
    let stat = stat_path(fs, path, opts).await?;
    Some(Probe { umask, stat })
}

/// [`super::probe_and_exists`] over SFTP. A regular file at `path` goes to the shell (its link
/// count names hard links).
pub(super) async fn probe_and_exists(
    conn: &Connection,
    fs: &SftpFs,
    path: &str,
    opts: &ProbeOptions,
    other: &str,
) -> Option<(Probe, bool)> {
    let (p, o) = tokio::join!(probe(conn, fs, path, opts), fs.stat_opt(other, true));
    let p = p?;
    if p.stat.as_ref().is_some_and(|s| s.kind == FileKind::File) {
        return None;
    }
    Some((p, o.ok()?.is_some()))
}

/// `(dir, base)` of a destination as the write script splits it (`${d%/*}`, `${d##*/}`, `.`
/// for a bare name, `/` for an empty dir).
fn split_dest(path: &str) -> (String, String) {
    match path.rsplit_once('/') {
        Some((d, b)) => (
            if d.is_empty() {
                "/".to_string()
            } else {
                d.to_string()
            },
            b.to_string(),
        ),
        None => (".".to_string(), path.to_string()),
    }
}

/// [`super::write_atomic`] over SFTP, for a destination that does not exist yet (nothing to
/// back up, no old attributes to carry over) in an existing directory, without `validate`:
/// temp files of a dead earlier run removed (as the script does), an exclusive temp file
/// `.NAME.talon.PID.N` beside it (mode 0600, or under the umask when no
/// mode, owner or group is asked), written, chown'd then chmod'ed, synced
/// (`fsync@openssh.com`), renamed onto the destination (`posix-rename@openssh.com`).
pub(super) async fn write_new(
    conn: &Connection,
    fs: &SftpFs,
    path: &str,
    content: &[u8],
    opts: &WriteOptions,
    become_: &Option<Become>,
) -> Option<Result<WriteOutcome, FilesError>> {
    if opts.validate.is_some() {
        return None;
    }
    let (dir, base) = split_dest(path);
    let suffix = super::unique_suffix();
    let temp = format!("{dir}/.{base}.talon.{suffix}");
    // Two branches in flight together: the checks, the exclusive create and the finished
    // temp file (three round trips) beside the listing of stale temp files (open, read,
    // close), then the rename: four round trips for a new file.
    let made = async {
        let (dest, folder) = tokio::join!(fs.stat_opt(path, false), fs.stat_opt(&dir, true));
        if dest.ok()?.is_some() {
            return None;
        }
        let folder = folder.ok()??;
        if folder.permissions.map(kind_of) != Some(FileKind::Directory) {
            return None;
        }
        let names = fs.names().await?;
        let uid = match &opts.attrs.owner {
            Some(o) => Some(names.uid_of(o)?),
            None => None,
        };
        let gid = match &opts.attrs.group {
            Some(g) => Some(names.gid_of(g)?),
            None => None,
        };
        let plain = opts.attrs.mode.is_none() && uid.is_none() && gid.is_none();
        let mode = match opts.attrs.mode {
            Some(m) => Some(m),
            None if plain => None,
            None => Some(0o666 & !umask(conn).await?),
        };
        let handle = fs
            .create_excl(&temp, if plain { 0o666 } else { 0o600 })
            .await
            .ok()?;
        let owner = (uid.is_some() || gid.is_some())
            .then(|| owner_attrs(uid.unwrap_or(u32::MAX), gid.unwrap_or(u32::MAX)));
        let done = fs
            .finish_new(&handle, content, owner, mode.map(mode_attrs), opts.report)
            .await;
        Some((done, names, folder, uid, gid))
    };
    let (made, stale) = tokio::join!(made, stale_temps(fs, &dir, &base, &suffix));
    let (done, names, folder, uid, gid) = made?;
    remove_temps(fs, &dir, stale).await;
    let attrs = match done {
        Ok(a) => a,
        Err(_) => {
            let _ = fs.remove(&temp).await;
            return None;
        }
    };
    if fs.rename(&temp, path).await.is_err() {
        let _ = fs.remove(&temp).await;
        return None;
    }
    let written = match attrs {
        None => None,
        Some(a) => {
            let st = match base_stat(&a, names) {
                Some(st) => st,
                // An owner /etc/passwd does not name: the shell's stat names it.
                None => match super::stat(conn, path, false, None, become_).await {
                    Ok(Some(st)) => st,
                    Ok(None) => {
                        return Some(Err(FilesError::Remote {
                            op: "write",
                            path: path.to_string(),
                            message: "the written file disappeared".to_string(),
                        }));
                    }
                    Err(e) => return Some(Err(e)),
                },
            };
            let owner = FileOwner {
                uid: st.uid,
                gid: st.gid,
                owner: st.owner,
                group: st.group,
            };
            // As the script's `L` report: a new file without chown, outside a setgid folder.
            if uid.is_none() && gid.is_none() && folder.permissions.is_some_and(|p| p & 0o2000 == 0) {
                learn_owner(conn, become_, owner.clone());
            }
            Some(WrittenFile {
                mode: st.mode,
                owner,
                size: st.size,
            })
        }
    };
    Some(Ok(WriteOutcome {
        backup_file: None,
        source: temp,
        written,
    }))
}

/// The temp files `.BASE.talon.PID.*` that an earlier run of another controller process left
/// beside the destination when it died mid-write (regular files only, as the write script
/// removes them; [`remove_temps`] removes them). A directory that cannot be listed has none.
async fn stale_temps(fs: &SftpFs, dir: &str, base: &str, suffix: &str) -> Vec<String> {
    let prefix = format!(".{base}.talon.");
    let own = format!("{prefix}{}.", suffix.split('.').next().unwrap_or_default());
    let Ok(entries) = fs.list(dir).await else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter(|(name, attrs)| {
            name.starts_with(&prefix)
                && !name.starts_with(&own)
                && attrs.permissions.map(kind_of) == Some(FileKind::File)
        })
        .map(|(name, _)| name)
        .collect()
}

/// Removes the files `names` of `dir` (all requests in flight together). Failures are
/// ignored: they are leftovers, not this write.
async fn remove_temps(fs: &SftpFs, dir: &str, names: Vec<String>) {
    let paths: Vec<String> = names.iter().map(|n| format!("{dir}/{n}")).collect();
    futures::future::join_all(paths.iter().map(|p| fs.remove(p))).await;
}

/// The directories `mkdir -p PATH` walks, as [`super::scripts::MKDIR_BODY`] builds them.
fn prefixes(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        if cur.is_empty() && !path.starts_with('/') {
            cur = c.to_string();
        } else {
            cur = format!("{cur}/{c}");
        }
        out.push(cur.clone());
    }
    out
}

/// Owner and group of `attrs` as ids (`u32::MAX`: leave), `None` when a name is unknown.
fn ids(attrs: &FileAttrs, names: &Names) -> Option<(Option<u32>, Option<u32>)> {
    let uid = match &attrs.owner {
        Some(o) => Some(names.uid_of(o)?),
        None => None,
    };
    let gid = match &attrs.group {
        Some(g) => Some(names.gid_of(g)?),
        None => None,
    };
    Some((uid, gid))
}

/// chown (when asked) then chmod (when asked) of `path`, as the script's `attrs`.
async fn apply_attrs(
    fs: &SftpFs,
    path: &str,
    mode: Option<u32>,
    (uid, gid): (Option<u32>, Option<u32>),
) -> Result<(), SftpFail> {
    if uid.is_some() || gid.is_some() {
        fs.setstat(
            path,
            owner_attrs(uid.unwrap_or(u32::MAX), gid.unwrap_or(u32::MAX)),
        )
        .await?;
    }
    if let Some(m) = mode {
        fs.setstat(path, mode_attrs(m)).await?;
    }
    Ok(())
}

/// What [`super::mkdir_if_missing`] returns.
pub(super) type MkdirAnswer = (Probe, Vec<String>, Option<FileStat>);

/// [`super::mkdir_if_missing`] over SFTP: an existing directory is reported; a missing path is
/// made folder by folder (`mkdir`, then chown and chmod as asked), each folder's stat asked
/// for at once beforehand. Anything else at the path (a file, a link) goes to the shell.
pub(super) async fn mkdir_if_missing(
    conn: &Connection,
    fs: &SftpFs,
    path: &str,
    attrs: &FileAttrs,
    become_: &Option<Become>,
) -> Option<Result<MkdirAnswer, FilesError>> {
    let umask = umask(conn).await?;
    let names = fs.names().await?;
    let opts = ProbeOptions {
        sftp: true,
        ..Default::default()
    };
    let all = prefixes(path);
    // The path's own lstat and every folder's stat, all in one round trip.
    let (own, stats) = tokio::join!(
        stat_path(fs, path, &opts),
        futures::future::join_all(all.iter().map(|p| fs.stat_opt(p, true)))
    );
    match own? {
        Some(st) if st.kind == FileKind::Directory => {
            return Some(Ok((
                Probe {
                    umask,
                    stat: Some(st),
                },
                Vec::new(),
                None,
            )));
        }
        Some(_) => return None,
        None => {}
    }
    let ids = ids(attrs, names)?;
    // A chown that fails after the mkdir would leave a folder the script never made without
    // its error: only root's chown cannot be refused (the shell does the others).
    if (ids.0.is_some() || ids.1.is_some()) && names.uid_of(&conn.login_user()) != Some(0) {
        return None;
    }
    let mut first_missing = all.len();
    for (i, s) in stats.into_iter().enumerate() {
        match s.ok()? {
            Some(a) if a.permissions.map(kind_of) == Some(FileKind::Directory) => {}
            Some(_) => return None,
            None => {
                first_missing = i;
                break;
            }
        }
    }
    let mut created = Vec::new();
    let mut last = None;
    for cur in &all[first_missing..] {
        // mkdir with the mode asked for (under the umask) and the new folder's lstat in flight
        // together; the folder is chmod'ed only when that lstat shows another mode (a umask
        // that takes bits away, a default ACL, special bits), and chown'd when asked.
        let (made, now) = futures::join!(fs.mkdir_mode(cur, attrs.mode), fs.stat_opt(cur, false));
        let ours = made.is_ok();
        let made = ours
            || {
                // Made by another process meanwhile: success, as the script (and Ansible) see it.
                matches!(fs.stat_opt(cur, true).await, Ok(Some(a)) if a.permissions.map(kind_of) == Some(FileKind::Directory))
            };
        let now = now.ok().flatten().filter(|_| ours);
        let mode_ok = match (attrs.mode, &now) {
            (None, _) => true,
            (Some(m), Some(a)) => a.permissions.map(|p| p & 0o7777) == Some(m),
            (Some(_), None) => false,
        };
        // chown then chmod, as the script's `attrs` (a chown may clear special bits).
        let settle = !mode_ok || ids.0.is_some() || ids.1.is_some();
        if !made || (settle && apply_attrs(fs, cur, attrs.mode, ids).await.is_err()) {
            if created.is_empty() {
                return None;
            }
            // The shell finishes the walk and words the error.
            return Some(match super::mkdir(conn, path, attrs, become_).await {
                Ok(rest) => {
                    created.extend(rest);
                    finish_mkdir(conn, fs, path, umask, created, None, become_).await
                }
                Err(e) => Err(e),
            });
        }
        last = if settle { None } else { now };
        created.push(cur.clone());
    }
    Some(finish_mkdir(conn, fs, path, umask, created, last, become_).await)
}

/// The new folder's own stat after [`mkdir_if_missing`]: `known` (its lstat after the last
/// change) when given, else asked (the shell's when SFTP cannot say).
async fn finish_mkdir(
    conn: &Connection,
    fs: &SftpFs,
    path: &str,
    umask: u32,
    created: Vec<String>,
    known: Option<FileAttributes>,
    become_: &Option<Become>,
) -> Result<MkdirAnswer, FilesError> {
    if let (Some(a), Some(names)) = (&known, fs.names().await)
        && let Some(st) = base_stat(a, names)
    {
        return Ok((Probe { umask, stat: None }, created, Some(st)));
    }
    let opts = ProbeOptions {
        sftp: true,
        ..Default::default()
    };
    let stat = match stat_path(fs, path, &opts).await {
        Some(st) => st,
        None => super::stat(conn, path, false, None, become_).await?,
    };
    Ok((Probe { umask, stat: None }, created, stat))
}

/// [`super::link`] over SFTP: a new symbolic link where nothing is, without owner or group
/// (a link's own owner needs `lchown`, which SFTP v3 lacks). Returns the link's stat.
pub(super) async fn symlink_new(
    fs: &SftpFs,
    src: &str,
    path: &str,
    symbolic: bool,
    attrs: &FileAttrs,
) -> Option<Option<FileStat>> {
    if !symbolic || attrs.owner.is_some() || attrs.group.is_some() || !fs.is_openssh() {
        return None;
    }
    // symlink(2) never replaces what is there (the shell handles that case); the new link's
    // lstat and target are asked in the same round trip (answers ignored if it failed).
    let (made, own, target) =
        futures::join!(fs.symlink(src, path), fs.stat_opt(path, false), fs.readlink(path));
    made.ok()?;
    let own = own.ok()??;
    if own.permissions.map(kind_of) != Some(FileKind::Link) {
        return None;
    }
    let mut st = base_stat(&own, fs.names().await?)?;
    st.link_target = Some(target.ok()?);
    Some(Some(st))
}

/// [`super::set_attrs`] over SFTP: chown then chmod, following links. A link's own owner
/// (`follow == false`) and any failure (the shell words the error) go to the shell.
pub(super) async fn set_attrs(fs: &SftpFs, path: &str, attrs: &FileAttrs, follow: bool) -> Option<()> {
    if !follow {
        let own = fs.stat_opt(path, false).await.ok()?;
        if own.and_then(|a| a.permissions).map(kind_of) == Some(FileKind::Link) {
            return None;
        }
    }
    let names = if attrs.owner.is_some() || attrs.group.is_some() {
        Some(fs.names().await?)
    } else {
        None
    };
    let ids = match names {
        Some(n) => ids(attrs, n)?,
        None => (None, None),
    };
    apply_attrs(fs, path, attrs.mode, ids).await.ok()
}

/// [`super::remove`] over SFTP for what is not a directory (`rm -rf` of a tree stays a
/// single host process): whether something was there.
pub(super) async fn remove(fs: &SftpFs, path: &str) -> Option<bool> {
    match fs.stat_opt(path, false).await.ok()? {
        None => Some(false),
        Some(a) if a.permissions.map(kind_of) == Some(FileKind::Directory) => None,
        Some(_) => fs.remove(path).await.ok().map(|()| true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_split_as_the_script_splits_them() {
        assert_eq!(split_dest("/etc/x"), ("/etc".into(), "x".into()));
        assert_eq!(split_dest("/x"), ("/".into(), "x".into()));
        assert_eq!(split_dest("x"), (".".into(), "x".into()));
        assert_eq!(split_dest("a/b/c"), ("a/b".into(), "c".into()));
    }

    #[test]
    fn mkdir_walks_every_prefix() {
        assert_eq!(prefixes("/a//b/c/"), ["/a", "/a/b", "/a/b/c"]);
        assert_eq!(prefixes("a/b"), ["a", "a/b"]);
    }
}
