//! File primitives on a host, built on [`Connection::exec`] so they work the same over SSH, locally
//! and with `become` (sudo).
//!
//! Why this exists: the target hosts have coreutils but no Python, and every `exec` is one channel
//! round trip, so each primitive here is exactly one small `/bin/sh` script. Paths and user-given
//! values travel as positional arguments (`"$1"`), never spliced into the script text; file content
//! travels on stdin, never in argv (it may be secret). Output is a format this file controls:
//! fixed newline-separated fields, a NUL after the (arbitrary) link target, then raw content.
//!
//! Without `become` (or with `become` to the login user), each primitive first tries its SFTP
//! form (`sftp_ops`: requests to the host's `sftp-server` on the same connection, no process)
//! and runs the script whenever SFTP cannot give exactly the script's answer.
//!
//! The operations are here; their shell texts and output parsers are in `scripts`, the SFTP
//! forms in `sftp_ops`, the types in `types`.

mod remote_copy;
mod scripts;
mod sftp_ops;
mod stat_full;
mod tree;
mod types;

use super::{Become, Connection, ExecOutput, TransportError};
pub use remote_copy::{HostCopy, HostCopyOutcome, copy_on_host};
use scripts::{
    ATTRS_FN, MKDIR_BODY, ST_FN, algo, attr_args, created_dirs, flag, parse_err, parse_probe, parse_st,
    parse_umask, parse_write, remote_err, take_line, write_args, write_script, write_status,
};
pub use scripts::{script_request, unique_suffix};
pub use stat_full::stat_full;
pub use tree::{TreeOp, apply_tree, probe_many};
pub(crate) use types::learn_umask;
use types::learned_owner;
pub use types::*;

/// Runs [`script_request`] on the host.
async fn run_script(
    conn: &Connection,
    script: &str,
    args: &[String],
    stdin: Option<Vec<u8>>,
    become_: &Option<Become>,
) -> Result<ExecOutput, TransportError> {
    conn.exec(&script_request(script, args, stdin, become_)).await
}

/// Runs a read-only `stat` script (`args` after it) and returns its stdout.
///
/// Errors: [`FilesError::Remote`] (as `stat` on `path`) when the script fails on the host;
/// [`FilesError::Transport`] when the connection breaks.
async fn stat_script(
    conn: &Connection,
    path: &str,
    script: &str,
    args: &[String],
    become_: &Option<Become>,
) -> Result<Vec<u8>, FilesError> {
    let out = conn
        .exec(&script_request(script, args, None, become_).pure())
        .await?;
    if !out.status.success() {
        return Err(remote_err("stat", path, &out));
    }
    Ok(out.stdout)
}

/// Reads the metadata of `path` (and optionally its checksum and content) in one round trip.
///
/// Errors: [`FilesError::Remote`] when `stat`, the checksum tool or `cat` fail (e.g. permission
/// denied); [`FilesError::Transport`] when the connection breaks. A missing path is `stat: None`.
pub async fn probe(
    conn: &Connection,
    path: &str,
    opts: ProbeOptions,
    become_: &Option<Become>,
) -> Result<Probe, FilesError> {
    if opts.sftp
        && let Some(fs) = sftp_ops::usable(conn, become_).await
        && let Some(p) = sftp_ops::probe(conn, &fs, path, &opts).await
    {
        return Ok(p);
    }
    let script = format!("{ST_FN}umask; st \"$1\" \"$2\" \"$3\" \"$4\"");
    let args = [
        path.to_string(),
        flag(opts.follow),
        algo(opts.checksum),
        flag(opts.content),
    ];
    let out = stat_script(conn, path, &script, &args, become_).await?;
    let mut buf = &out[..];
    let p = parse_probe(path, &mut buf, opts.content)?;
    learn_umask(conn, p.umask);
    Ok(p)
}

/// [`probe`] of `path`, and whether `other` exists (`test -e`, following links), in one round
/// trip: `file state=link` learns whether the link's source is there without a `stat` of it.
///
/// Errors: as [`probe`].
pub async fn probe_and_exists(
    conn: &Connection,
    path: &str,
    opts: ProbeOptions,
    other: &str,
    become_: &Option<Become>,
) -> Result<(Probe, bool), FilesError> {
    if opts.sftp
        && let Some(fs) = sftp_ops::usable(conn, become_).await
        && let Some(answer) = sftp_ops::probe_and_exists(conn, &fs, path, &opts, other).await
    {
        return Ok(answer);
    }
    let script = format!(
        "{ST_FN}umask; if [ -e \"$5\" ]; then echo Y; else echo N; fi; st \"$1\" \"$2\" \"$3\" \"$4\""
    );
    let args = [
        path.to_string(),
        flag(opts.follow),
        algo(opts.checksum),
        flag(opts.content),
        other.to_string(),
    ];
    let out = stat_script(conn, path, &script, &args, become_).await?;
    let mut buf = &out[..];
    let umask = parse_umask(path, &mut buf)?;
    learn_umask(conn, umask);
    let exists = match take_line(&mut buf) {
        Some(b"Y") => true,
        Some(b"N") => false,
        _ => return Err(parse_err(other, "no existence line")),
    };
    let stat = parse_st(path, &mut buf, opts.content)?;
    Ok((Probe { umask, stat }, exists))
}

/// `stat` of one path (Ansible's `stat` module data): `None` when it does not exist.
pub async fn stat(
    conn: &Connection,
    path: &str,
    follow: bool,
    checksum: Option<Checksum>,
    become_: &Option<Become>,
) -> Result<Option<FileStat>, FilesError> {
    let opts = ProbeOptions {
        follow,
        checksum,
        content: false,
        sftp: false,
    };
    Ok(probe(conn, path, opts, become_).await?.stat)
}

/// The bytes of a regular file (following links), `None` when it does not exist.
///
/// Errors: [`FilesError::Remote`] when the path is not a regular file or cannot be read.
pub async fn read(
    conn: &Connection,
    path: &str,
    become_: &Option<Become>,
) -> Result<Option<Vec<u8>>, FilesError> {
    let opts = ProbeOptions {
        follow: true,
        checksum: None,
        content: true,
        sftp: true,
    };
    match probe(conn, path, opts, become_).await?.stat {
        None => Ok(None),
        Some(FileStat { content: Some(c), .. }) => Ok(Some(c)),
        Some(st) => Err(FilesError::Remote {
            op: "read",
            path: path.to_string(),
            message: format!("is a {}, not a regular file", st.kind.ansible_state()),
        }),
    }
}

/// Writes `content` to `path` atomically in one round trip: a temp file with a unique name in the
/// destination's directory is created exclusively (`O_EXCL`) and receives the content on stdin,
/// synced (`dd conv=excl,fsync`: one process for create, write and fsync; GNU coreutils), gets
/// the target mode/owner/group, is validated, the old file is backed up when asked, and the temp
/// file is renamed over `path` (`mv -f`). The temp file is removed on any failure. It is never
/// more open than the result: it is created 0600 (umask 077) and then chown'd and chmod'ed,
/// except where its final mode needs no chmod and no owner or group changes: then it is created
/// with that mode (a new file without `mode` under the host's umask, a mode without execute or
/// special bits under the matching umask). The reported checksum is computed on the controller;
/// the file's metadata is read back only when [`WriteOptions::report`] asks.
///
/// Never a partial destination: content that may travel on a channel of its own (above 64 KiB,
/// or base64) is hashed on the host (`sha1sum`) and renamed only when it matches, so a lost
/// connection or a killed talon leaves the old content (the temp file is removed). Temp files of
/// an earlier run that died before its trap ran (`.NAME.talon.PID.*` of another controller
/// process) are removed by the next write to the same destination.
///
/// Matches the observable behaviour of Ansible's `atomic_move` (attributes of an existing file are
/// kept when none are given) and `backup_local` (backup name `PATH.N.YYYY-MM-DD@HH:MM:SS~`, N unique as Ansible's PID).
///
/// Errors: [`FilesError::Validate`] when `validate` fails (nothing is changed);
/// [`FilesError::Remote`] when the directory is missing (and `create_parents` is off), or a step
/// fails on the host.
pub async fn write_atomic(
    conn: &Connection,
    path: &str,
    content: &[u8],
    opts: &WriteOptions,
    become_: &Option<Become>,
) -> Result<WriteOutcome, FilesError> {
    if let Some(fs) = sftp_ops::usable(conn, become_).await
        && let Some(done) = sftp_ops::write_new(conn, &fs, path, content, opts, become_).await
    {
        return done;
    }
    let mut script = String::from(ST_FN);
    script.push_str(ATTRS_FN);
    script.push_str(&write_script(path, opts)?);
    let known = learned_owner(conn, become_);
    let args = write_args(path, opts, known.is_some(), content);
    let out = run_script(conn, &script, &args, Some(content.to_vec()), become_).await?;
    let mut buf = write_status(path, &out)?;
    parse_write(conn, path, &mut buf, content, opts, known, become_)
}

/// What [`put_if_changed`] found and did.
#[derive(Debug, Clone)]
pub struct PutOutcome {
    /// The destination before the write, as [`probe`] reports it (with its sha1).
    pub before: Probe,
    /// Set when the content was written.
    pub written: Option<WriteOutcome>,
}

/// [`probe`] (following links as `opts.follow`, with sha1) and [`write_atomic`] in one round
/// trip: the content is written when `path` is missing, or (with `force`) is a regular file whose
/// sha1 differs from `sha1` and no owner or group is asked for. Everything else (a directory, a
/// link not followed, an existing file without `force`, owner/group to compare) is left for the
/// caller to decide from [`PutOutcome::before`], exactly as after a [`probe`]. `opts.attrs.mode`
/// must not depend on the existing file (numeric or absent, as copy's numeric `mode`).
///
/// For small files the content costs less to send than the round trip it saves: copy and
/// template use this for content up to 64 KiB. Errors: as [`probe`] and [`write_atomic`].
pub async fn put_if_changed(
    conn: &Connection,
    path: &str,
    content: &[u8],
    sha1: &str,
    force: bool,
    opts: &WriteOptions,
    become_: &Option<Become>,
) -> Result<PutOutcome, FilesError> {
    let popts = ProbeOptions {
        follow: opts.follow,
        checksum: Some(Checksum::Sha1),
        content: false,
        sftp: true,
    };
    if let Some(fs) = sftp_ops::usable(conn, become_).await
        && let Some(before) = sftp_ops::probe(conn, &fs, path, &popts).await
    {
        // The script's decision: write when missing, or (force, no owner/group) when a
        // regular file's sha1 differs.
        let differs = force
            && opts.attrs.owner.is_none()
            && opts.attrs.group.is_none()
            && before.stat.as_ref().is_some_and(|s| {
                s.kind == FileKind::File && s.checksum.as_deref().is_some_and(|c| !c.is_empty() && c != sha1)
            });
        if before.stat.is_some() && !differs {
            return Ok(PutOutcome {
                before,
                written: None,
            });
        }
        let written = write_atomic(conn, path, content, opts, become_).await?;
        return Ok(PutOutcome {
            before,
            written: Some(written),
        });
    }
    let mut script = String::from(ST_FN);
    script.push_str(ATTRS_FN);
    script.push_str(
        r#"umask
st "$1" "$7" sha1 0 || exit 1
w=1
if [ "$7" = 1 ]; then [ -e "$1" ] && w=0; else { [ -e "$1" ] || [ -L "$1" ]; } && w=0; fi
if [ "$w" = 0 ] && [ "${14}" = 1 ] && [ -z "$3$4" ] && [ -f "$1" ] && { [ "$7" = 1 ] || [ ! -L "$1" ]; } && [ -n "$sc" ] && [ "$sc" != "${15}" ]; then w=1; fi
if [ "$w" = 0 ]; then echo N; exit 0; fi
echo W
"#,
    );
    script.push_str(&write_script(path, opts)?);
    let known = learned_owner(conn, become_);
    let mut args = write_args(path, opts, known.is_some(), content);
    args.push(flag(force));
    args.push(sha1.to_string());
    let out = run_script(conn, &script, &args, Some(content.to_vec()), become_).await?;
    let mut buf = write_status(path, &out)?;
    let before = parse_probe(path, &mut buf, false)?;
    learn_umask(conn, before.umask);
    let written = match take_line(&mut buf) {
        Some(b"N") => None,
        Some(b"W") => Some(parse_write(conn, path, &mut buf, content, opts, known, become_)?),
        _ => return Err(parse_err(path, "no decision line")),
    };
    Ok(PutOutcome { before, written })
}

/// Sets mode/owner/group of one existing path (`chmod`/`chown`; with `follow == false` a symlink's
/// own owner is changed with `chown -h` and its mode is left alone, as Linux has no link modes).
pub async fn set_attrs(
    conn: &Connection,
    path: &str,
    attrs: &FileAttrs,
    follow: bool,
    become_: &Option<Become>,
) -> Result<(), FilesError> {
    if let Some(fs) = sftp_ops::usable(conn, become_).await
        && sftp_ops::set_attrs(&fs, path, attrs, follow).await.is_some()
    {
        return Ok(());
    }
    let script = r#"p=$1 m=$2 o=$3 g=$4
if [ "$5" = 0 ] && [ -L "$p" ]; then
  if [ -n "$o$g" ]; then chown -h -- "$o${g:+:$g}" "$p" || exit 1; fi; exit 0
fi
if [ -n "$o" ]; then chown -- "$o${g:+:$g}" "$p" || exit 1
elif [ -n "$g" ]; then chgrp -- "$g" "$p" || exit 1; fi
if [ -n "$m" ]; then chmod -- "$m" "$p" || exit 1; fi
"#;
    let [m, o, g] = attr_args(attrs);
    let args = [path.to_string(), m, o, g, flag(follow)];
    let out = run_script(conn, script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("chmod/chown", path, &out));
    }
    Ok(())
}

/// Applies mode (a `chmod` argument: octal or explicit-who symbolic), owner and group to `path`
/// and everything below it (`file recurse=yes`). Returns whether anything changed, decided by
/// comparing a listing of modes and owners before and after. With `check`, nothing is changed and
/// the answer is a prediction from `find -perm/-user/-group` (exact for octal modes; for symbolic
/// modes every entry is compared against the mode computed for `path` itself).
pub async fn set_attrs_recursive(
    conn: &Connection,
    path: &str,
    chmod_arg: Option<&str>,
    owner: Option<&str>,
    group: Option<&str>,
    check: bool,
    become_: &Option<Become>,
) -> Result<bool, FilesError> {
    let script = r#"p=$1 m=$2 o=$3 g=$4
if [ "$5" = 1 ]; then
  set -- "$p"
  [ -n "$m" ] && set -- "$@" -o ! -perm "$m"
  [ -n "$o" ] && set -- "$@" -o ! -user "$o"
  [ -n "$g" ] && set -- "$@" -o ! -group "$g"
  [ $# -gt 1 ] || exit 0
  p1=$1; shift 2
  r=$(find -P -- "$p1" ! -type l \( -false -o "$@" \) -print -quit) || exit 1
  [ -n "$r" ] && echo changed
  exit 0
fi
b=$(find -P -- "$p" -printf '%m %U %G\n' | cksum) || exit 1
if [ -n "$o" ]; then chown -R -- "$o${g:+:$g}" "$p" || exit 1
elif [ -n "$g" ]; then chgrp -R -- "$g" "$p" || exit 1; fi
if [ -n "$m" ]; then chmod -R -- "$m" "$p" || exit 1; fi
a=$(find -P -- "$p" -printf '%m %U %G\n' | cksum) || exit 1
[ "$a" != "$b" ] && echo changed
exit 0
"#;
    let args = [
        path.to_string(),
        chmod_arg.unwrap_or_default().to_string(),
        owner.unwrap_or_default().to_string(),
        group.unwrap_or_default().to_string(),
        flag(check),
    ];
    let out = run_script(conn, script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("chmod -R", path, &out));
    }
    Ok(out.stdout_str().contains("changed"))
}

/// Whether `path` is there, not following a final link (the shell's `[ -e P ] || [ -L P ]`),
/// asked over SFTP without a host process. `None` when SFTP cannot say exactly (no session, a
/// `become` to another user, an error other than "no such file", a relative path): the caller
/// asks the shell.
pub async fn lexists_sftp(conn: &Connection, path: &str, become_: &Option<Become>) -> Option<bool> {
    if !path.starts_with('/') {
        return None;
    }
    let fs = sftp_ops::usable(conn, become_).await?;
    match fs.stat(path, false).await {
        Ok(_) => Some(true),
        Err(e) if e.is_missing() => Some(false),
        Err(_) => None,
    }
}

/// Removes `path` (`rm -rf` semantics for directories, as Ansible's `file state=absent`).
/// Returns whether something was there.
pub async fn remove(conn: &Connection, path: &str, become_: &Option<Become>) -> Result<bool, FilesError> {
    if let Some(fs) = sftp_ops::usable(conn, become_).await
        && let Some(removed) = sftp_ops::remove(&fs, path).await
    {
        return Ok(removed);
    }
    let script = r#"if [ -e "$1" ] || [ -L "$1" ]; then rm -rf -- "$1" || exit 1; echo removed; fi"#;
    let out = run_script(conn, script, &[path.to_string()], None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("remove", path, &out));
    }
    Ok(out.stdout_str().contains("removed"))
}

/// Creates `path` and any missing parents; every directory created gets `attrs` (as Ansible's
/// `file state=directory` does): with only a mode, by `mkdir -m` (one process), else by `mkdir`
/// then `chown` before `chmod`. Returns the directories created, outermost first.
///
/// Errors: [`FilesError::Remote`] when a component exists and is not a directory, or `mkdir`
/// fails.
pub async fn mkdir(
    conn: &Connection,
    path: &str,
    attrs: &FileAttrs,
    become_: &Option<Become>,
) -> Result<Vec<String>, FilesError> {
    let script = format!("{ATTRS_FN}{MKDIR_BODY}");
    let [m, o, g] = attr_args(attrs);
    let args = [path.to_string(), m, o, g];
    let out = run_script(conn, &script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("mkdir", path, &out));
    }
    Ok(created_dirs(&out.stdout))
}

/// [`probe`] of `path` (not following a link) and, when nothing is there, [`mkdir`] with
/// `attrs`, in one round trip. Returns the probe (as before the mkdir), the directories
/// created (empty when `path` existed: then nothing was done) and the new folder's stat. `attrs.mode` must not depend on
/// the umask (numeric or absent).
///
/// Errors: as [`probe`] and [`mkdir`].
pub async fn mkdir_if_missing(
    conn: &Connection,
    path: &str,
    attrs: &FileAttrs,
    become_: &Option<Become>,
) -> Result<(Probe, Vec<String>, Option<FileStat>), FilesError> {
    if let Some(fs) = sftp_ops::usable(conn, become_).await
        && let Some(answer) = sftp_ops::mkdir_if_missing(conn, &fs, path, attrs, become_).await
    {
        return answer;
    }
    // After the created folders (each NUL-terminated) an empty entry ends the list, then the
    // new folder's stat (what ansible.builtin.file's add_path_info reports), in the same trip.
    let script = format!(
        "{ST_FN}{ATTRS_FN}umask; st \"$1\" 0 \"\" 0 || exit 1\n\
         if [ -e \"$1\" ] || [ -L \"$1\" ]; then echo N; exit 0; fi\necho W\n{MKDIR_BODY}\
         set +f; unset IFS; printf '\\000'; st \"$1\" 0 \"\" 0 || exit 1\n"
    );
    let [m, o, g] = attr_args(attrs);
    let args = [path.to_string(), m, o, g];
    let out = run_script(conn, &script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("mkdir", path, &out));
    }
    let mut buf = &out.stdout[..];
    let probed = parse_probe(path, &mut buf, false)?;
    learn_umask(conn, probed.umask);
    let (created, stat) = match take_line(&mut buf) {
        Some(b"N") => (Vec::new(), None),
        Some(b"W") => {
            let mut created = Vec::new();
            loop {
                let Some(end) = buf.iter().position(|&b| b == 0) else {
                    return Err(parse_err(path, "no end of the created folders"));
                };
                let entry = &buf[..end];
                buf = &buf[end + 1..];
                if entry.is_empty() {
                    break;
                }
                created.push(String::from_utf8_lossy(entry).into_owned());
            }
            (created, parse_st(path, &mut buf, false)?)
        }
        _ => return Err(parse_err(path, "no decision line")),
    };
    Ok((probed, created, stat))
}

/// Creates `path` as a link to `src` (symbolic when `symbolic`, else hard), or replaces what is
/// there via a temporary link renamed into place (`mv -T`: there is no moment without `path`),
/// then applies `attrs` (owner/group with `chown -h`
/// for symlinks). A non-empty directory at `path` is never replaced. Returns the new link's own
/// stat (read in the same round trip).
pub async fn link(
    conn: &Connection,
    src: &str,
    path: &str,
    symbolic: bool,
    attrs: &FileAttrs,
    become_: &Option<Become>,
) -> Result<Option<FileStat>, FilesError> {
    if let Some(fs) = sftp_ops::usable(conn, become_).await
        && let Some(st) = sftp_ops::symlink_new(&fs, src, path, symbolic, attrs).await
    {
        return Ok(st);
    }
    let script = format!("{ST_FN}{LINK_BODY}");
    const LINK_BODY: &str = r#"s=$1 p=$2 o=$4 g=$5
if [ ! -e "$p" ] && [ ! -L "$p" ]; then
  if [ "$6" = 1 ]; then ln -s -- "$s" "$p" || exit 1; else ln -- "$s" "$p" || exit 1; fi
else
  t="$p.talon-link.$7"
  if [ "$6" = 1 ]; then ln -s -- "$s" "$t" || exit 1; else ln -- "$s" "$t" || exit 1; fi
  if [ -d "$p" ] && [ ! -L "$p" ]; then rmdir -- "$p" 2>/dev/null || { rm -f -- "$t"; echo "refusing to replace directory $p" >&2; exit 1; }; fi
  mv -f -T -- "$t" "$p" || { rm -f -- "$t"; exit 1; }
fi
if [ -n "$o$g" ]; then
  if [ "$6" = 1 ]; then chown -h -- "$o${g:+:$g}" "$p" || exit 1; else chown -- "$o${g:+:$g}" "$p" || exit 1; fi
fi
if [ "$6" = 0 ] && [ -n "$3" ]; then chmod -- "$3" "$p" || exit 1; fi
st "$p" 0 "" 0
"#;
    let [m, o, g] = attr_args(attrs);
    let args = [
        src.to_string(),
        path.to_string(),
        m,
        o,
        g,
        flag(symbolic),
        unique_suffix(),
    ];
    let out = run_script(conn, &script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("link", path, &out));
    }
    let mut buf = &out.stdout[..];
    parse_st(path, &mut buf, false)
}

/// `touch PATH` (creating an empty file, mode `0666 & ~umask`, when missing), then `attrs`.
pub async fn touch(
    conn: &Connection,
    path: &str,
    attrs: &FileAttrs,
    become_: &Option<Become>,
) -> Result<(), FilesError> {
    let mut script = String::from(ATTRS_FN);
    script.push_str("m=$2 o=$3 g=$4\ntouch -- \"$1\" || exit 1\nattrs \"$1\" || exit 1\n");
    let [m, o, g] = attr_args(attrs);
    let args = [path.to_string(), m, o, g];
    let out = run_script(conn, &script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("touch", path, &out));
    }
    Ok(())
}

/// A time `set_times` sets: the current time, or a local time on the host
/// (`YYYY-MM-DD HH:MM:SS`, read by the host's `date -d` in its own time zone, as Python's
/// `time.mktime` in ansible.builtin.file reads it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeSpec {
    Now,
    At(String),
}

/// Sets the access and modification times of `path` (`None`: keep that one), as
/// ansible.builtin.file's `update_timestamp_for_file`: both `now` always changes; otherwise
/// it changes only when a time differs from the file's (to the nanosecond). With `check`
/// nothing is written. `follow` sets a symlink's target's times, else the link's own.
/// Returns whether the times changed (or would).
///
/// Errors: [`FilesError::Remote`] when the path cannot be read or a time cannot be read by
/// the host's `date`.
pub async fn set_times(
    conn: &Connection,
    path: &str,
    atime: Option<&TimeSpec>,
    mtime: Option<&TimeSpec>,
    follow: bool,
    check: bool,
    become_: &Option<Become>,
) -> Result<bool, FilesError> {
    const SCRIPT: &str = r#"p=$1 fl=$2 ck=$3 at=$4 mt=$5
if [ "$fl" = 1 ]; then so=-L h=; else so= h=-h; fi
tgt() { case $1 in now) date +%s.%N ;; *) e=$(date -d "$1" +%s) || exit 3; echo "$e.000000000" ;; esac; }
pa=$(stat $so -c %.9X -- "$p") || exit 1
pm=$(stat $so -c %.9Y -- "$p") || exit 1
if [ "$at" = now ] && [ "$mt" = now ]; then
  echo changed; [ "$ck" = 1 ] || touch $h -- "$p" || exit 1; exit 0
fi
if [ -n "$at" ]; then ta=$(tgt "$at") || exit 3; else ta=$pa; fi
if [ -n "$mt" ]; then tm=$(tgt "$mt") || exit 3; else tm=$pm; fi
if [ "$ta" = "$pa" ] && [ "$tm" = "$pm" ]; then echo same; exit 0; fi
echo changed
[ "$ck" = 1 ] && exit 0
touch $h -a -d "@$ta" -- "$p" && touch $h -m -d "@$tm" -- "$p" || exit 1
"#;
    let spec = |t: Option<&TimeSpec>| match t {
        None => String::new(),
        Some(TimeSpec::Now) => "now".to_string(),
        Some(TimeSpec::At(s)) => s.clone(),
    };
    let args = [
        path.to_string(),
        flag(follow),
        flag(check),
        spec(atime),
        spec(mtime),
    ];
    let out = run_script(conn, SCRIPT, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("set times", path, &out));
    }
    Ok(out.stdout_str().trim() == "changed")
}

#[cfg(test)]
mod tests;
