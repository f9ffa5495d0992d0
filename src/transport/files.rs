//! File primitives on a host, built on [`Connection::exec`] so they work the same over SSH, locally
//! and with `become` (sudo).
//!
//! Why this exists: the target hosts have coreutils but no Python, and every `exec` is one channel
//! round trip, so each primitive here is exactly one small `/bin/sh` script. Paths and user-given
//! values travel as positional arguments (`"$1"`), never spliced into the script text; file content
//! travels on stdin, never in argv (it may be secret). Output is a format this file controls:
//! fixed newline-separated fields, a NUL after the (arbitrary) link target, then raw content.

use super::{Become, Connection, ExecOutput, ExecRequest, TransportError, quote};

/// What kind of file a path is (after following the link when asked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link (only seen when not following).
    Link,
    /// Anything else: fifo, socket, device.
    Other,
}

impl FileKind {
    /// Ansible's `state` name for this kind (`file`, `directory`, `link`, ...), as `file` reports.
    pub fn ansible_state(self) -> &'static str {
        match self {
            FileKind::File => "file",
            FileKind::Directory => "directory",
            FileKind::Link => "link",
            FileKind::Other => "file",
        }
    }
}

/// Checksum algorithms the host computes with coreutils (`sha1sum`, `sha256sum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// SHA-1, Ansible's default for `stat` and `copy`.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl Checksum {
    fn tool(self) -> &'static str {
        match self {
            Checksum::Sha1 => "sha1",
            Checksum::Sha256 => "sha256",
        }
    }

    /// Hex digest of `data` computed on the controller, comparable with [`FileStat::checksum`].
    pub fn digest(self, data: &[u8]) -> String {
        use sha1::Digest;
        match self {
            Checksum::Sha1 => hex::encode(sha1::Sha1::digest(data)),
            Checksum::Sha256 => hex::encode(sha2::Sha256::digest(data)),
        }
    }
}

/// The metadata of one path, as `stat -c` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileStat {
    /// File, directory, link or other.
    pub kind: FileKind,
    /// Permission bits including setuid/setgid/sticky (`mode & 0o7777`).
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Group gid.
    pub gid: u32,
    /// Owner name (`UNKNOWN` when the uid has no name).
    pub owner: String,
    /// Group name (`UNKNOWN` when the gid has no name).
    pub group: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Access time, seconds since the epoch.
    pub atime: i64,
    /// Status-change time, seconds since the epoch.
    pub ctime: i64,
    /// Inode number.
    pub inode: u64,
    /// Device number.
    pub dev: u64,
    /// Number of hard links.
    pub nlink: u64,
    /// The link's target as stored (`readlink`), when the path is a symlink.
    pub link_target: Option<String>,
    /// The link's fully resolved path (`readlink -f`), when the path is a symlink.
    pub link_resolved: Option<String>,
    /// The running (become) user may read it (`test -r`).
    pub readable: bool,
    /// The running user may write it (`test -w`).
    pub writeable: bool,
    /// The running user may execute/search it (`test -x`).
    pub executable: bool,
    /// Hex checksum, when asked for and the path is a readable regular file.
    pub checksum: Option<String>,
    /// The file's bytes, when asked for and the path is a regular file.
    pub content: Option<Vec<u8>>,
}

impl FileStat {
    /// The mode as Ansible prints it: four octal digits (`"0644"`).
    pub fn mode_string(&self) -> String {
        format!("{:04o}", self.mode)
    }
}

/// What [`probe`] should collect besides the metadata.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProbeOptions {
    /// Follow a symlink at `path` (`stat -L`); a dangling link then reads as missing.
    pub follow: bool,
    /// Compute this checksum for a regular file.
    pub checksum: Option<Checksum>,
    /// Return the content of a regular file.
    pub content: bool,
}

/// The result of [`probe`]: the host's umask (to predict the mode of new files) and the path's
/// metadata (`None` when it does not exist).
#[derive(Debug, Clone)]
pub struct Probe {
    /// The remote shell's umask (e.g. `0o022`).
    pub umask: u32,
    /// The path's metadata, `None` when missing.
    pub stat: Option<FileStat>,
}

/// Target ownership and permissions for a file operation; `None` fields are left as they are
/// (or, for a new file, as the umask and the connecting user make them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileAttrs {
    /// Numeric permission bits (`0o644`), already resolved from Ansible's forms.
    pub mode: Option<u32>,
    /// Owner name or numeric uid.
    pub owner: Option<String>,
    /// Group name or numeric gid.
    pub group: Option<String>,
}

/// Options of [`write_atomic`].
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Attributes the new file gets before it is moved into place. Without a mode, an existing
    /// file's mode (and, when permitted, owner) is kept, a new file gets `0666 & ~umask`.
    pub attrs: FileAttrs,
    /// Copy the old file to `PATH.PID.YYYY-MM-DD@HH:MM:SS~` first (Ansible's `backup_local`).
    pub backup: bool,
    /// A validation command with `%s` for the temp file's path (Ansible's `validate`); the file is
    /// only moved into place when it exits 0.
    pub validate: Option<String>,
    /// Create missing parent directories (`mkdir -p`) instead of failing.
    pub create_parents: bool,
    /// When `path` is a symlink, write to the file it points to (lineinfile/blockinfile) instead of
    /// replacing the link (copy/template without `follow`).
    pub follow: bool,
    /// Report the written file's mode, owner and size ([`WriteOutcome::written`]): read back
    /// with one `stat` on the host, except for a new file created without `chown` in a
    /// directory without the setgid bit once the owner of such files is known ([`Learned`]).
    pub report: bool,
    /// The existing file's owner and group are those a new file gets (see
    /// [`owned_as_new`]): it is not chown'd to them (unless its directory has the setgid bit).
    pub owner_is_creator: bool,
}

/// What [`write_atomic`] did.
#[derive(Debug, Clone)]
pub struct WriteOutcome {
    /// The backup copy, when one was made.
    pub backup_file: Option<String>,
    /// The written file's mode, owner and size, when [`WriteOptions::report`] asked for them.
    pub written: Option<WrittenFile>,
}

/// Owner and group of a file, as `stat` reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOwner {
    /// Owner uid.
    pub uid: u32,
    /// Group gid.
    pub gid: u32,
    /// Owner name (`UNKNOWN` when the uid has no name).
    pub owner: String,
    /// Group name (`UNKNOWN` when the gid has no name).
    pub group: String,
}

/// The metadata of a file [`write_atomic`] just wrote: what copy and template report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Permission bits.
    pub mode: u32,
    /// Owner and group.
    pub owner: FileOwner,
    /// Size in bytes.
    pub size: u64,
}

/// What the file primitives learned about one host during a connection (kept by
/// [`Connection`]): the owner and group of a file created without `chown` in a directory
/// without the setgid bit, per effective user (`""`: the connecting user; else the become
/// user). A later such write reports them without a `stat` on the host. Where a filesystem
/// maps owners (NFS `root_squash`), the reported owner is the creating user's, not the mapped one.
#[derive(Debug, Default)]
pub struct Learned {
    new_file_owner: std::collections::HashMap<String, FileOwner>,
}

impl Learned {
    /// The owner and group learned for new files of `user` (`""`: the connecting user).
    pub fn new_file_owner(&self, user: &str) -> Option<&FileOwner> {
        self.new_file_owner.get(user)
    }
}

/// True when `st` has the owner and group a new file of this connection's effective user gets
/// (learned from an earlier write; false when nothing is learned yet).
pub fn owned_as_new(conn: &Connection, become_: &Option<Become>, st: &FileStat) -> bool {
    learned_owner(conn, become_).is_some_and(|o| o.uid == st.uid && o.gid == st.gid)
}

fn effective_user(become_: &Option<Become>) -> String {
    become_.as_ref().map(|b| b.user.clone()).unwrap_or_default()
}

fn learned_owner(conn: &Connection, become_: &Option<Become>) -> Option<FileOwner> {
    let learned = conn.learned().lock().ok()?;
    learned.new_file_owner.get(&effective_user(become_)).cloned()
}

fn learn_owner(conn: &Connection, become_: &Option<Become>, owner: FileOwner) {
    if let Ok(mut learned) = conn.learned().lock() {
        learned.new_file_owner.insert(effective_user(become_), owner);
    }
}

/// Why a file primitive failed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// The connection broke.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The host refused or the operation failed there; `message` is what the host said.
    #[error("{op} {path}: {message}")]
    Remote {
        /// The operation (`stat`, `write`, `mkdir`, ...).
        op: &'static str,
        /// The path it was applied to.
        path: String,
        /// The host's error output, or a description.
        message: String,
    },
    /// The `validate` command rejected the new content; the destination was not touched.
    #[error("failed to validate: rc:{rc} error:{output}")]
    Validate {
        /// The validation command's exit code.
        rc: i64,
        /// Its combined stdout and stderr.
        output: String,
    },
}

/// Shell function `st PATH FOLLOW ALGO CONTENT` printing `M` for missing, or `E`, twelve fields,
/// the checksum line, the access line (`rwx` subset for the running user), the link target, a
/// NUL, the link's resolved path, a NUL, and the content.
const ST_FN: &str = r#"st() {
  if [ "$2" = 1 ]; then
    [ -e "$1" ] || { echo M; return 0; }; so=-L
  else
    { [ -e "$1" ] || [ -L "$1" ]; } || { echo M; return 0; }; so=
  fi
  echo E
  stat $so -c '%f
%u
%g
%U
%G
%s
%Y
%X
%Z
%i
%d
%h' -- "$1" || return 1
  sc=
  if [ -n "$3" ] && [ -f "$1" ] && { [ "$2" = 1 ] || [ ! -L "$1" ]; }; then
    sc=$("$3"sum < "$1") || return 1; sc=${sc%% *}
  fi
  echo "$sc"
  sa=; [ -r "$1" ] && sa=r; [ -w "$1" ] && sa="${sa}w"; [ -x "$1" ] && sa="${sa}x"; echo "$sa"
  if [ -L "$1" ]; then printf '%s\000%s' "$(readlink -- "$1")" "$(readlink -f -- "$1")"; else printf '\000'; fi
  printf '\000'
  if [ "$4" = 1 ] && [ -f "$1" ] && { [ "$2" = 1 ] || [ ! -L "$1" ]; }; then cat -- "$1" || return 1; fi
  return 0
}
"#;

fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

fn algo(c: Option<Checksum>) -> String {
    c.map(|c| c.tool().to_string()).unwrap_or_default()
}

/// The request that runs `script` as `/bin/sh -c SCRIPT talon ARGS...`: the data in `args`
/// reaches the script as `$1...` and is never parsed as shell.
pub fn script_request(
    script: &str,
    args: &[String],
    stdin: Option<Vec<u8>>,
    become_: &Option<Become>,
) -> ExecRequest {
    let mut argv = vec![
        "/bin/sh".to_string(),
        "-c".to_string(),
        script.to_string(),
        "talon".to_string(),
    ];
    argv.extend(args.iter().cloned());
    ExecRequest {
        argv,
        stdin,
        become_: become_.clone(),
        inline: true,
        ..Default::default()
    }
}

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

fn remote_err(op: &'static str, path: &str, out: &ExecOutput) -> FilesError {
    let err = out.stderr_str();
    let message = if err.trim().is_empty() {
        format!("failed ({})", out.status)
    } else {
        err.trim().to_string()
    };
    FilesError::Remote {
        op,
        path: path.to_string(),
        message,
    }
}

fn parse_err(path: &str, what: &str) -> FilesError {
    FilesError::Remote {
        op: "stat",
        path: path.to_string(),
        message: format!("unexpected output from the host's stat: {what}"),
    }
}

/// Splits off one `\n`-terminated line.
fn take_line<'a>(buf: &mut &'a [u8]) -> Option<&'a [u8]> {
    let pos = buf.iter().position(|&b| b == b'\n')?;
    let line = &buf[..pos];
    *buf = &buf[pos + 1..];
    Some(line)
}

/// Parses the output of `st` starting at `buf`; advances `buf` past it.
fn parse_st(path: &str, buf: &mut &[u8], want_content: bool) -> Result<Option<FileStat>, FilesError> {
    let tag = take_line(buf).ok_or_else(|| parse_err(path, "no status line"))?;
    if tag == b"M" {
        return Ok(None);
    }
    if tag != b"E" {
        return Err(parse_err(path, "bad status line"));
    }
    let mut fields = Vec::with_capacity(14);
    for _ in 0..14 {
        let l = take_line(buf).ok_or_else(|| parse_err(path, "missing fields"))?;
        fields.push(String::from_utf8_lossy(l).into_owned());
    }
    let num = |i: usize| -> Result<u64, FilesError> {
        fields[i]
            .trim()
            .parse::<u64>()
            .map_err(|_| parse_err(path, "bad number"))
    };
    let inum = |i: usize| -> Result<i64, FilesError> {
        fields[i]
            .trim()
            .parse::<i64>()
            .map_err(|_| parse_err(path, "bad time"))
    };
    let raw = u32::from_str_radix(fields[0].trim(), 16).map_err(|_| parse_err(path, "bad mode"))?;
    let kind = match raw & 0o170000 {
        0o100000 => FileKind::File,
        0o040000 => FileKind::Directory,
        0o120000 => FileKind::Link,
        _ => FileKind::Other,
    };
    let nul = buf
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| parse_err(path, "no link terminator"))?;
    let target = &buf[..nul];
    *buf = &buf[nul + 1..];
    let nul = buf
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| parse_err(path, "no realpath terminator"))?;
    let resolved = &buf[..nul];
    *buf = &buf[nul + 1..];
    let text = |b: &[u8]| Some(String::from_utf8_lossy(b).into_owned()).filter(|t| !t.is_empty());
    let access = fields[13].trim();
    let checksum = Some(fields[12].trim().to_string()).filter(|c| !c.is_empty());
    let content = (want_content && kind == FileKind::File).then(|| {
        let c = buf.to_vec();
        *buf = &[];
        c
    });
    Ok(Some(FileStat {
        kind,
        mode: raw & 0o7777,
        uid: u32::try_from(num(1)?).map_err(|_| parse_err(path, "bad uid"))?,
        gid: u32::try_from(num(2)?).map_err(|_| parse_err(path, "bad gid"))?,
        owner: fields[3].clone(),
        group: fields[4].clone(),
        size: num(5)?,
        mtime: inum(6)?,
        atime: inum(7)?,
        ctime: inum(8)?,
        inode: num(9)?,
        dev: num(10)?,
        nlink: num(11)?,
        link_target: text(target),
        link_resolved: text(resolved),
        readable: access.contains('r'),
        writeable: access.contains('w'),
        executable: access.contains('x'),
        checksum,
        content,
    }))
}

fn parse_umask(path: &str, buf: &mut &[u8]) -> Result<u32, FilesError> {
    let l = take_line(buf).ok_or_else(|| parse_err(path, "no umask"))?;
    u32::from_str_radix(String::from_utf8_lossy(l).trim(), 8).map_err(|_| parse_err(path, "bad umask"))
}

/// Parses a probe's output (`umask`, then `st`) starting at `buf`; advances `buf` past it.
fn parse_probe(path: &str, buf: &mut &[u8], want_content: bool) -> Result<Probe, FilesError> {
    let umask = parse_umask(path, buf)?;
    let stat = parse_st(path, buf, want_content)?;
    Ok(Probe { umask, stat })
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
    let script = format!("{ST_FN}umask; st \"$1\" \"$2\" \"$3\" \"$4\"");
    let args = [
        path.to_string(),
        flag(opts.follow),
        algo(opts.checksum),
        flag(opts.content),
    ];
    let out = run_script(conn, &script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("stat", path, &out));
    }
    let mut buf = &out.stdout[..];
    parse_probe(path, &mut buf, opts.content)
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
    let out = run_script(conn, &script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("stat", path, &out));
    }
    let mut buf = &out.stdout[..];
    let umask = parse_umask(path, &mut buf)?;
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

/// A name part unique to this write on the host (temporary names, backup names): the
/// controller's process id, a dot, and a per-process counter with the time in nanoseconds,
/// since talon's scripts run without a shell of their own (`$$` is not theirs). The process id
/// comes first so that a write can tell temp files of another (dead) run from this run's.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}.{n}{nanos:09}", std::process::id())
}

/// Builds the shell text that runs a `validate` command on `"$t"`: the command is split like a
/// shell word list on the controller, each word quoted, and `%s` becomes the temp path.
fn validate_snippet(validate: &str) -> Result<String, String> {
    if !validate.contains("%s") {
        return Err(format!("validate must contain %s: {validate}"));
    }
    let words = quote::split(validate).map_err(|e| format!("cannot split validate {validate:?}: {e}"))?;
    let quoted: Vec<String> = words
        .iter()
        .map(|w| {
            let q = quote::quote(w);
            if q.starts_with('\'') {
                q.replace("%s", "'\"$t\"'")
            } else {
                q.replace("%s", "\"$t\"")
            }
        })
        .collect();
    Ok(quoted.join(" "))
}

/// Shell function `attrs PATH` applying `$o`/`$g` then `$m` (chown before chmod: chown clears
/// setuid/setgid bits).
const ATTRS_FN: &str = r#"attrs() {
  if [ -n "$o" ]; then chown -- "$o${g:+:$g}" "$1" || return 1
  elif [ -n "$g" ]; then chgrp -- "$g" "$1" || return 1; fi
  if [ -n "$m" ]; then chmod -- "$m" "$1" || return 1; fi
  return 0
}
"#;

fn attr_args(attrs: &FileAttrs) -> [String; 3] {
    [
        attrs.mode.map(|m| format!("{m:04o}")).unwrap_or_default(),
        attrs.owner.clone().unwrap_or_default(),
        attrs.group.clone().unwrap_or_default(),
    ]
}

/// The umask under which the temp file is created with exactly `attrs.mode`, so that no `chmod`
/// runs: only for a mode without execute or special bits (`open` gives `0666 & ~umask`) and
/// without an owner or group to set (the file must not be readable by anyone the final owner
/// and group would not be: until the chown it belongs to the connecting user).
fn create_umask(attrs: &FileAttrs) -> Option<u32> {
    let m = attrs.mode?;
    (m & 0o7111 == 0 && attrs.owner.is_none() && attrs.group.is_none()).then_some(0o777 & !m)
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
    let written = match take_line(&mut buf) {
        Some(b"N") => None,
        Some(b"W") => Some(parse_write(conn, path, &mut buf, content, opts, known, become_)?),
        _ => return Err(parse_err(path, "no decision line")),
    };
    Ok(PutOutcome { before, written })
}

/// The write part of [`write_atomic`]'s script (after `ST_FN` and `ATTRS_FN`), reading its
/// arguments as [`write_args`] lays them out.
fn write_script(path: &str, opts: &WriteOptions) -> Result<String, FilesError> {
    let validate = match &opts.validate {
        Some(v) => validate_snippet(v).map_err(|message| FilesError::Remote {
            op: "validate",
            path: path.to_string(),
            message,
        })?,
        None => String::new(),
    };
    let mut script = String::new();
    script.push_str(
        r#"d=$1 m=$2 o=$3 g=$4 bk=$5 mk=$6 fl=$7 u=$8 cu=$9 rs=${10} kn=${11} oc=${12}
if [ "$fl" = 1 ] && [ -L "$d" ]; then d=$(readlink -f -- "$d") || exit 1; fi
case $d in */*) dir=${d%/*} b=${d##*/} ;; *) dir=. b=$d ;; esac
[ -n "$dir" ] || dir=/
if [ ! -d "$dir" ]; then
  if [ "$mk" = 1 ]; then mkdir -p -- "$dir" || exit 1
  else echo "Destination directory $dir does not exist" >&2; exit 1; fi
fi
for s in "$dir/.$b.talon."*; do
  case $s in "$dir/.$b.talon.${u%%.*}".*) ;; *) [ -f "$s" ] && [ ! -L "$s" ] && rm -f -- "$s" ;; esac
done
t="$dir/.$b.talon.$u"
ex=; [ -e "$d" ] && ex=1
trap 'rm -f -- "$t"' EXIT
trap 'exit 1' HUP INT TERM PIPE
km=1
if [ -n "$cu" ]; then m=
elif [ -z "$m$o$g" ] && [ ! -e "$d" ]; then cu=$(umask)
else cu=077 km=0; fi
(umask "$cu"; exec dd of="$t" conv=excl,fsync bs=65536 status=none) || exit 1
if [ -n "${13}" ]; then
  h=$(sha1sum <"$t") && [ "${h%% *}" = "${13}" ] || { echo "the content arrived incomplete (connection lost?); $d is unchanged" >&2; exit 1; }
fi
if [ -z "$o$g" ] && [ -e "$d" ] && { [ "$oc" != 1 ] || [ -g "$dir" ]; }; then chown --reference="$d" -- "$t" 2>/dev/null; fi
if [ "$km" = 0 ] && [ -z "$m" ]; then
  if [ -e "$d" ]; then chmod --reference="$d" -- "$t" || exit 1
  else chmod -- "$(printf '%o' $((0666 & ~$(umask))))" "$t" || exit 1; fi
fi
attrs "$t" || exit 1
"#,
    );
    if !validate.is_empty() {
        script.push_str("vo=$(");
        script.push_str(&validate);
        script.push_str(" 2>&1 </dev/null); vr=$?\nif [ \"$vr\" != 0 ]; then printf '%s' \"$vo\" >&2; echo \"$vr\"; exit 30; fi\n");
    }
    script.push_str(
        r#"bf=
if [ "$bk" = 1 ] && [ -f "$d" ]; then
  bf="$d.$u.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p -- "$d" "$bf" || exit 1
fi
mv -f -- "$t" "$d" || exit 1
trap - EXIT
printf '%s\000' "$bf"
if [ "$rs" = 1 ]; then
  if [ -z "$ex$o$g" ] && [ ! -g "$dir" ]; then
    if [ "$kn" = 1 ]; then echo "K $cu"; exit 0; fi
    echo L
  else echo F; fi
  st "$d" 0 "" 0
fi
"#,
    );
    Ok(script)
}

/// Content above this size (bytes), or that must travel as base64, is hashed on the host before
/// the rename. Smaller text is inlined in the remote shell's request line, which the shell runs
/// only once the whole line has arrived (a lost connection runs nothing); larger content may
/// travel on a channel of its own, where a lost connection looks like the end of the data.
const VERIFY_ABOVE: usize = 64 * 1024;

/// The sha1 the host checks the temp file against before the rename (`${13}` of
/// [`write_script`]), or an empty string when the content cannot arrive partially.
fn verify_sha1(content: &[u8]) -> String {
    if content.len() > VERIFY_ABOVE || super::shell::needs_base64(content) {
        Checksum::Sha1.digest(content)
    } else {
        String::new()
    }
}

/// `$1`..`$13` of [`write_script`].
fn write_args(path: &str, opts: &WriteOptions, known_owner: bool, content: &[u8]) -> Vec<String> {
    let [m, o, g] = attr_args(&opts.attrs);
    vec![
        path.to_string(),
        m,
        o,
        g,
        flag(opts.backup),
        flag(opts.create_parents),
        flag(opts.follow),
        unique_suffix(),
        create_umask(&opts.attrs)
            .map(|u| format!("{u:03o}"))
            .unwrap_or_default(),
        flag(opts.report),
        flag(known_owner),
        flag(opts.owner_is_creator),
        verify_sha1(content),
    ]
}

/// The output of a write script that exited 0, or its error (validation failed: exit 30).
fn write_status<'a>(path: &str, out: &'a ExecOutput) -> Result<&'a [u8], FilesError> {
    if out.status == super::ExitStatus::Code(30) {
        return Err(FilesError::Validate {
            rc: out.stdout_str().trim().parse().unwrap_or(-1),
            output: out.stderr_str(),
        });
    }
    if !out.status.success() {
        return Err(remote_err("write", path, out));
    }
    Ok(&out.stdout[..])
}

/// Parses what [`write_script`] printed (backup name, report) starting at `buf`.
fn parse_write(
    conn: &Connection,
    path: &str,
    buf: &mut &[u8],
    content: &[u8],
    opts: &WriteOptions,
    known: Option<FileOwner>,
    become_: &Option<Become>,
) -> Result<WriteOutcome, FilesError> {
    let nul = buf
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| parse_err(path, "no backup line"))?;
    let bf = String::from_utf8_lossy(&buf[..nul]).into_owned();
    *buf = &buf[nul + 1..];
    let written = if opts.report {
        let tag = take_line(buf).ok_or_else(|| parse_err(path, "no report line"))?;
        match tag {
            [b'K', b' ', cu @ ..] => {
                let cu = u32::from_str_radix(String::from_utf8_lossy(cu).trim(), 8)
                    .map_err(|_| parse_err(path, "bad umask"))?;
                let owner = known.ok_or_else(|| parse_err(path, "owner not known"))?;
                Some(WrittenFile {
                    mode: opts.attrs.mode.unwrap_or(0o666 & !cu),
                    owner,
                    size: content.len() as u64,
                })
            }
            b"L" | b"F" => {
                let st =
                    parse_st(path, buf, false)?.ok_or_else(|| parse_err(path, "written file missing"))?;
                let owner = FileOwner {
                    uid: st.uid,
                    gid: st.gid,
                    owner: st.owner,
                    group: st.group,
                };
                if tag == b"L" {
                    learn_owner(conn, become_, owner.clone());
                }
                Some(WrittenFile {
                    mode: st.mode,
                    owner,
                    size: st.size,
                })
            }
            _ => return Err(parse_err(path, "bad report line")),
        }
    } else {
        None
    };
    Ok(WriteOutcome {
        backup_file: Some(bf).filter(|b| !b.is_empty()),
        written,
    })
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

/// Removes `path` (`rm -rf` semantics for directories, as Ansible's `file state=absent`).
/// Returns whether something was there.
pub async fn remove(conn: &Connection, path: &str, become_: &Option<Become>) -> Result<bool, FilesError> {
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
/// `attrs`, in one round trip. Returns the probe (as before the mkdir) and the directories
/// created (empty when `path` existed: then nothing was done). `attrs.mode` must not depend on
/// the umask (numeric or absent).
///
/// Errors: as [`probe`] and [`mkdir`].
pub async fn mkdir_if_missing(
    conn: &Connection,
    path: &str,
    attrs: &FileAttrs,
    become_: &Option<Become>,
) -> Result<(Probe, Vec<String>), FilesError> {
    let script = format!(
        "{ST_FN}{ATTRS_FN}umask; st \"$1\" 0 \"\" 0 || exit 1\n\
         if [ -e \"$1\" ] || [ -L \"$1\" ]; then echo N; exit 0; fi\necho W\n{MKDIR_BODY}"
    );
    let [m, o, g] = attr_args(attrs);
    let args = [path.to_string(), m, o, g];
    let out = run_script(conn, &script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("mkdir", path, &out));
    }
    let mut buf = &out.stdout[..];
    let probed = parse_probe(path, &mut buf, false)?;
    let created = match take_line(&mut buf) {
        Some(b"N") => Vec::new(),
        Some(b"W") => created_dirs(buf),
        _ => return Err(parse_err(path, "no decision line")),
    };
    Ok((probed, created))
}

/// The directories [`MKDIR_BODY`] reports, NUL-terminated, outermost first.
fn created_dirs(out: &[u8]) -> Vec<String> {
    out.split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// `mkdir -p "$1"` giving every directory it creates `$2` (mode), `$3`/`$4` (owner/group), and
/// printing each one created followed by a NUL. A directory that another process creates between
/// the test and the `mkdir` is success and gets the attributes too, as in Ansible's file module
/// (`EEXIST` on a directory is not an error); only a failure that leaves no directory is one (the
/// `mkdir` is run again to report its message).
const MKDIR_BODY: &str = r#"d=$1 m=$2 o=$3 g=$4
cur=
case $d in /*) abs=1 ;; *) abs=0 ;; esac
set -f; IFS=/
for c in $d; do
  [ -z "$c" ] && continue
  if [ -z "$cur" ]; then if [ "$abs" = 1 ]; then cur="/$c"; else cur=$c; fi; else cur="$cur/$c"; fi
  if [ ! -d "$cur" ]; then
    if [ -e "$cur" ] || [ -L "$cur" ]; then echo "$cur exists and is not a directory" >&2; exit 1; fi
    if [ -n "$m" ] && [ -z "$o$g" ]; then
      mkdir -m "$m" -- "$cur" 2>/dev/null || { [ -d "$cur" ] && chmod -- "$m" "$cur"; } || { mkdir -m "$m" -- "$cur"; exit 1; }
    else
      mkdir -- "$cur" 2>/dev/null || [ -d "$cur" ] || { mkdir -- "$cur"; exit 1; }
      attrs "$cur" || exit 1
    fi
    printf '%s\000' "$cur"
  fi
done
"#;

/// Creates `path` as a link to `src` (symbolic when `symbolic`, else hard), or replaces what is
/// there via a temporary link renamed into place (`mv -T`: there is no moment without `path`),
/// then applies `attrs` (owner/group with `chown -h`
/// for symlinks). A non-empty directory at `path` is never replaced.
pub async fn link(
    conn: &Connection,
    src: &str,
    path: &str,
    symbolic: bool,
    attrs: &FileAttrs,
    become_: &Option<Become>,
) -> Result<(), FilesError> {
    let script = r#"s=$1 p=$2 o=$4 g=$5
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
exit 0
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
    let out = run_script(conn, script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("link", path, &out));
    }
    Ok(())
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::transport::local::LocalConnection;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn local() -> Connection {
        Connection::Local(LocalConnection::new("localhost"))
    }

    #[tokio::test]
    async fn stat_reports_file_dir_link_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a file\nwith newline");
        std::fs::write(&f, b"hello").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        let l = dir.path().join("link");
        std::os::unix::fs::symlink(&f, &l).unwrap();
        let c = local();
        let fs = f.to_str().unwrap();
        let st = stat(&c, fs, false, Some(Checksum::Sha1), &None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(st.kind, FileKind::File);
        assert_eq!(st.mode_string(), "0640");
        assert_eq!(st.size, 5);
        assert_eq!(
            st.checksum.as_deref(),
            Some("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")
        );
        assert_eq!(st.uid, std::fs::metadata(&f).unwrap().uid());
        let ls = stat(&c, l.to_str().unwrap(), false, Some(Checksum::Sha1), &None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ls.kind, FileKind::Link);
        assert_eq!(ls.link_target.as_deref(), Some(fs));
        assert_eq!(ls.checksum, None);
        let lf = stat(&c, l.to_str().unwrap(), true, Some(Checksum::Sha256), &None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(lf.kind, FileKind::File);
        assert_eq!(lf.checksum.unwrap(), Checksum::Sha256.digest(b"hello"));
        let d = stat(&c, dir.path().to_str().unwrap(), false, None, &None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.kind, FileKind::Directory);
        let missing = dir.path().join("nope");
        assert!(
            stat(&c, missing.to_str().unwrap(), false, None, &None)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(read(&c, fs, &None).await.unwrap().unwrap(), b"hello");
        assert!(read(&c, dir.path().to_str().unwrap(), &None).await.is_err());
    }

    #[tokio::test]
    async fn write_atomic_sets_attrs_backs_up_and_validates() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("conf");
        let fs = f.to_str().unwrap();
        let c = local();
        let opts = WriteOptions {
            attrs: FileAttrs {
                mode: Some(0o600),
                ..Default::default()
            },
            report: true,
            ..Default::default()
        };
        let out = write_atomic(&c, fs, b"one\n", &opts, &None).await.unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"one\n");
        assert_eq!(std::fs::metadata(&f).unwrap().mode() & 0o7777, 0o600);
        let written = out.written.unwrap();
        assert_eq!((written.mode, written.size), (0o600, 4));
        assert_eq!(written.owner.uid, std::fs::metadata(&f).unwrap().uid());
        // No mode given: the existing mode is kept; backup made.
        let opts = WriteOptions {
            backup: true,
            ..Default::default()
        };
        let out = write_atomic(&c, fs, b"two\n", &opts, &None).await.unwrap();
        assert_eq!(std::fs::metadata(&f).unwrap().mode() & 0o7777, 0o600);
        let bf = out.backup_file.unwrap();
        assert!(bf.starts_with(&format!("{fs}.")) && bf.ends_with('~'));
        assert_eq!(std::fs::read(&bf).unwrap(), b"one\n");
        // Validation failure leaves the file alone and no temp file behind.
        let opts = WriteOptions {
            validate: Some("grep -q good %s".into()),
            ..Default::default()
        };
        let err = write_atomic(&c, fs, b"bad\n", &opts, &None).await.unwrap_err();
        assert!(matches!(err, FilesError::Validate { rc: 1, .. }), "{err}");
        assert_eq!(std::fs::read(&f).unwrap(), b"two\n");
        write_atomic(&c, fs, b"good\n", &opts, &None).await.unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"good\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2, "only the file and its backup remain");
        // chown happens before chmod, so setuid survives an owner change (root only).
        if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
            let opts = WriteOptions {
                attrs: FileAttrs {
                    mode: Some(0o4750),
                    owner: Some("nobody".into()),
                    group: None,
                },
                ..Default::default()
            };
            write_atomic(&c, fs, b"good\n", &opts, &None).await.unwrap();
            let md = std::fs::metadata(&f).unwrap();
            assert_eq!((md.mode() & 0o7777, md.uid()), (0o4750, 65534));
        }
        // Missing directory fails unless create_parents.
        let deep = dir.path().join("x/y/z");
        let err = write_atomic(&c, deep.to_str().unwrap(), b"", &WriteOptions::default(), &None).await;
        assert!(err.is_err());
    }

    #[tokio::test]
    async fn mkdir_link_touch_remove() {
        let dir = tempfile::tempdir().unwrap();
        let c = local();
        let deep = dir.path().join("a/b c/d");
        let attrs = FileAttrs {
            mode: Some(0o750),
            ..Default::default()
        };
        let created = mkdir(&c, deep.to_str().unwrap(), &attrs, &None).await.unwrap();
        assert_eq!(created.len(), 3);
        assert_eq!(
            std::fs::metadata(dir.path().join("a")).unwrap().mode() & 0o7777,
            0o750
        );
        assert!(
            mkdir(&c, deep.to_str().unwrap(), &attrs, &None)
                .await
                .unwrap()
                .is_empty()
        );
        let t = dir.path().join("t");
        touch(&c, t.to_str().unwrap(), &FileAttrs::default(), &None)
            .await
            .unwrap();
        assert!(t.is_file());
        let l = dir.path().join("l");
        link(&c, "t", l.to_str().unwrap(), true, &FileAttrs::default(), &None)
            .await
            .unwrap();
        assert_eq!(std::fs::read_link(&l).unwrap().to_str().unwrap(), "t");
        link(&c, "a", l.to_str().unwrap(), true, &FileAttrs::default(), &None)
            .await
            .unwrap();
        assert_eq!(std::fs::read_link(&l).unwrap().to_str().unwrap(), "a");
        assert!(
            remove(&c, dir.path().join("a").to_str().unwrap(), &None)
                .await
                .unwrap()
        );
        assert!(
            !remove(&c, dir.path().join("a").to_str().unwrap(), &None)
                .await
                .unwrap()
        );
        let changed = set_attrs_recursive(
            &c,
            dir.path().to_str().unwrap(),
            Some("0700"),
            None,
            None,
            true,
            &None,
        )
        .await
        .unwrap();
        assert!(changed);
    }
}
