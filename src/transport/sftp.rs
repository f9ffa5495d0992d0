//! SFTP on the host's own connection: file checks and writes as requests to one long-lived
//! `sftp-server`, where the remote shell would start programs (`stat`, `sha1sum`, `dd`, `mv`).
//!
//! Why: on a host, every program costs a fork, an exec and dynamic linking (1.3-2.1 ms of CPU on
//! a lab host, `bench/taskcost`); an SFTP request is a system call in a process that is already
//! running. One `sftp` subsystem channel is opened on first use and kept for the connection (a
//! reset or reconnect opens a new connection, and with it a new channel). A server without the
//! subsystem refuses the request: that is remembered for the connection and the file primitives
//! keep the shell path ([`super::files`] decides, per primitive, what it can do exactly over
//! SFTP and falls back to the shell for everything else).
//!
//! `ansible_connection: local` keeps the shell path unless [`FileTransport::Sftp`] is forced:
//! then a local `sftp-server` process (OpenSSH's) serves the same requests, so that the SFTP
//! path can be tested without a lab host.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use russh_sftp::client::RawSftpSession;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use tokio::sync::OnceCell;

use super::read_ahead::ReadAhead;

/// Which path the file primitives take (`TALON_FILE_TRANSPORT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileTransport {
    /// Always the remote shell (talon's scripts), as before SFTP.
    Shell,
    /// SFTP wherever the primitive can do it exactly; a local connection starts a local
    /// `sftp-server` for it (tests).
    Sftp,
    /// SFTP on SSH connections whose server has the subsystem, the shell elsewhere (default).
    #[default]
    Auto,
}

impl FileTransport {
    /// The environment variable that chooses the path: `shell`, `sftp` or `auto` (default).
    pub const ENV: &'static str = "TALON_FILE_TRANSPORT";

    /// Parses `shell`, `sftp` or `auto` (case-insensitive).
    pub fn parse(s: &str) -> Option<FileTransport> {
        match s.trim().to_ascii_lowercase().as_str() {
            "shell" => Some(FileTransport::Shell),
            "sftp" => Some(FileTransport::Sftp),
            "auto" | "" => Some(FileTransport::Auto),
            _ => None,
        }
    }

    /// The choice in [`FileTransport::ENV`]; `Auto` when unset or not understood (with a
    /// warning in the log).
    pub fn from_env() -> FileTransport {
        match std::env::var(Self::ENV) {
            Ok(v) => Self::parse(&v).unwrap_or_else(|| {
                tracing::warn!("{}={v:?} is not shell, sftp or auto: using auto", Self::ENV);
                FileTransport::Auto
            }),
            Err(_) => FileTransport::Auto,
        }
    }

    pub(crate) fn code(self) -> u8 {
        match self {
            FileTransport::Shell => 0,
            FileTransport::Sftp => 1,
            FileTransport::Auto => 2,
        }
    }

    pub(crate) fn from_code(c: u8) -> FileTransport {
        match c {
            0 => FileTransport::Shell,
            1 => FileTransport::Sftp,
            _ => FileTransport::Auto,
        }
    }
}

/// The SFTP extension for an atomic rename over an existing file (`rename(2)`).
const POSIX_RENAME: &str = "posix-rename@openssh.com";
/// The SFTP extension for `fsync(2)` of an open handle.
const FSYNC: &str = "fsync@openssh.com";
/// The SFTP extension for `statvfs(3)` of a path.
const STATVFS: &str = "statvfs@openssh.com";

/// Seconds one SFTP request may take before it is an error. A host that stops answering is
/// found by the connection's keepalives (which end the channel and every request on it) long
/// before this.
const REQUEST_TIMEOUT_SECS: u64 = 3600;

/// Bytes asked for per read request (OpenSSH's sftp-server answers up to 256 KiB).
const READ_CHUNK: u32 = 64 * 1024;
/// Bytes sent per write request (under OpenSSH's 256 KiB packet limit).
const WRITE_CHUNK: usize = 64 * 1024;
/// Write requests in flight at once (1 MiB).
const WRITES_IN_FLIGHT: usize = 16;

/// Why an SFTP request did not do what was asked: the server's status (`NoSuchFile`,
/// `PermissionDenied`, ...) or anything else (the channel ended, an unexpected answer).
#[derive(Debug)]
pub enum SftpFail {
    /// The server answered with this status.
    Status(StatusCode, String),
    /// No usable answer (channel closed, timeout, protocol error).
    Other(String),
}

impl SftpFail {
    /// True for "no such file" (`ENOENT`).
    pub fn is_missing(&self) -> bool {
        matches!(self, SftpFail::Status(StatusCode::NoSuchFile, _))
    }
}

impl From<russh_sftp::client::error::Error> for SftpFail {
    fn from(e: russh_sftp::client::error::Error) -> Self {
        match e {
            russh_sftp::client::error::Error::Status(s) => SftpFail::Status(s.status_code, s.error_message),
            other => SftpFail::Other(other.to_string()),
        }
    }
}

/// The owner and group names the host's `/etc/passwd` and `/etc/group` give (first entry for
/// an id wins, as `getpwuid` over the `files` database answers). Ids that these files do not
/// name may be known to other NSS sources (LDAP, sssd): callers fall back to the shell's `stat`
/// for them, so names are always what `stat -c %U/%G` prints.
#[derive(Debug, Default)]
pub struct Names {
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
    user_ids: HashMap<String, u32>,
    group_ids: HashMap<String, u32>,
}

impl Names {
    /// Parses the text of `/etc/passwd` and `/etc/group` (`name:x:id:...`).
    pub fn parse(passwd: &str, group: &str) -> Names {
        let mut n = Names::default();
        let entries = |text: &str| -> Vec<(String, u32)> {
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.starts_with('+') && !l.starts_with('-'))
                .filter_map(|l| {
                    let mut f = l.split(':');
                    let name = f.next()?.to_string();
                    let id = f.nth(1)?.parse().ok()?;
                    Some((name, id))
                })
                .collect()
        };
        for (name, id) in entries(passwd) {
            n.users.entry(id).or_insert_with(|| name.clone());
            n.user_ids.entry(name).or_insert(id);
        }
        for (name, id) in entries(group) {
            n.groups.entry(id).or_insert_with(|| name.clone());
            n.group_ids.entry(name).or_insert(id);
        }
        n
    }

    /// The name of a uid, when `/etc/passwd` has it.
    pub fn user(&self, uid: u32) -> Option<&str> {
        self.users.get(&uid).map(String::as_str)
    }

    /// The name of a gid, when `/etc/group` has it.
    pub fn group(&self, gid: u32) -> Option<&str> {
        self.groups.get(&gid).map(String::as_str)
    }

    /// The uid `chown` would use for `owner`: a name in `/etc/passwd`, else a number.
    pub fn uid_of(&self, owner: &str) -> Option<u32> {
        self.user_ids.get(owner).copied().or_else(|| owner.parse().ok())
    }

    /// The gid `chgrp` would use for `group`: a name in `/etc/group`, else a number.
    pub fn gid_of(&self, group: &str) -> Option<u32> {
        self.group_ids.get(group).copied().or_else(|| group.parse().ok())
    }
}

/// One SFTP session on a connection, shared by every task of the host. Requests may be sent
/// concurrently (each has its own id; answers are matched to them).
pub struct SftpFs {
    raw: RawSftpSession,
    /// The server announced `fsync@openssh.com`.
    fsync: bool,
    /// The server announced `statvfs@openssh.com`.
    statvfs: bool,
    /// The server announced `posix-rename@openssh.com` (OpenSSH: then `SSH_FXP_SYMLINK` takes
    /// the target first, as OpenSSH's server reads it).
    openssh: bool,
    names: OnceCell<Option<Names>>,
    requests: Arc<AtomicU64>,
    /// Answers read ahead for the coming tasks ([`super::read_ahead`]), consulted before a
    /// read is sent and dropped by every change.
    ahead: Arc<ReadAhead>,
    /// What must live as long as the session: the local `sftp-server` process, or the session
    /// slot of the SSH channel.
    _keep: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl SftpFs {
    /// Starts the SFTP protocol on `stream` (`SSH_FXP_INIT`, one round trip). `shared.requests`
    /// counts every request sent (see `Connection::sftp_request_count`); `shared.ahead` holds
    /// the connection's answers read ahead.
    pub async fn start<S>(
        stream: S,
        shared: SftpShared,
        keep: Option<Box<dyn std::any::Any + Send + Sync>>,
    ) -> Result<SftpFs, SftpFail>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let SftpShared { requests, ahead } = shared;
        let raw = RawSftpSession::new(stream);
        raw.set_timeout(REQUEST_TIMEOUT_SECS);
        requests.fetch_add(1, Ordering::Relaxed);
        let version = raw.init().await?;
        Ok(SftpFs {
            fsync: version.extensions.contains_key(FSYNC),
            statvfs: version.extensions.contains_key(STATVFS),
            openssh: version.extensions.contains_key(POSIX_RENAME),
            raw,
            names: OnceCell::new(),
            requests,
            ahead,
            _keep: keep,
        })
    }

    /// Starts OpenSSH's `sftp-server` on this machine for a local connection. `None` when it is
    /// not installed or does not start.
    pub async fn start_local(shared: SftpShared) -> Option<SftpFs> {
        const SERVERS: [&str; 4] = [
            "/usr/lib/openssh/sftp-server",
            "/usr/libexec/openssh/sftp-server",
            "/usr/libexec/sftp-server",
            "/usr/lib/sftp-server",
        ];
        let program = SERVERS.iter().find(|p| std::path::Path::new(p).exists())?;
        let mut child = tokio::process::Command::new(program)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .ok()?;
        let stream = tokio::io::join(child.stdout.take()?, child.stdin.take()?);
        Self::start(stream, shared, Some(Box::new(child))).await.ok()
    }

    fn count(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("sftp request");
    }

    /// True when the server has the `statvfs@openssh.com` extension.
    pub fn has_statvfs(&self) -> bool {
        self.statvfs
    }

    /// True when the server is OpenSSH's (it announces `posix-rename@openssh.com`).
    pub fn is_openssh(&self) -> bool {
        self.openssh
    }

    /// `stat` (following links) or `lstat` of `path` (the answer read ahead when there is one).
    pub async fn stat(&self, path: &str, follow: bool) -> Result<FileAttributes, SftpFail> {
        match self.ahead.stat(path, follow).await {
            Some(Ok(a)) => Ok(a),
            Some(Err(())) => Err(SftpFail::Status(StatusCode::NoSuchFile, "No such file".into())),
            None => self.stat_raw(path, follow).await,
        }
    }

    /// [`SftpFs::stat`] sent now.
    pub(crate) async fn stat_raw(&self, path: &str, follow: bool) -> Result<FileAttributes, SftpFail> {
        self.count();
        let attrs = if follow {
            self.raw.stat(path).await?
        } else {
            self.raw.lstat(path).await?
        };
        Ok(attrs.attrs)
    }

    /// `stat`/`lstat` of `path`, `None` when it does not exist.
    pub async fn stat_opt(&self, path: &str, follow: bool) -> Result<Option<FileAttributes>, SftpFail> {
        match self.stat(path, follow).await {
            Ok(a) => Ok(Some(a)),
            Err(e) if e.is_missing() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `statvfs(3)` of `path` as `stat -f -c '%S %b %a %s %c %d'` prints it (fundamental block
    /// size, blocks, blocks available to users, block size, inodes, free inodes). `Ok(None)`
    /// when the server has no `statvfs@openssh.com` extension.
    pub async fn statvfs(&self, path: &str) -> Result<Option<[u64; 6]>, SftpFail> {
        if !self.statvfs {
            return Ok(None);
        }
        self.count();
        let v = self.raw.statvfs(path).await?;
        Ok(Some([
            v.fragment_size,
            v.blocks,
            v.blocks_avail,
            v.block_size,
            v.inodes,
            v.inodes_free,
        ]))
    }

    /// The target of the symlink `path`, as stored (read ahead or asked now).
    pub async fn readlink(&self, path: &str) -> Result<String, SftpFail> {
        match self.ahead.readlink(path).await {
            Some(t) => Ok(t),
            None => self.readlink_raw(path).await,
        }
    }

    /// [`SftpFs::readlink`] sent now.
    pub(crate) async fn readlink_raw(&self, path: &str) -> Result<String, SftpFail> {
        self.count();
        let name = self.raw.readlink(path).await?;
        name.files
            .into_iter()
            .next()
            .map(|f| f.filename)
            .ok_or_else(|| SftpFail::Other("empty readlink answer".into()))
    }

    /// The whole content of the regular file `path` (reads of [`READ_CHUNK`] sent in order until
    /// the server says end of file; or the content read ahead). `limit`: give up (`Ok(None)`)
    /// once more than this was read.
    pub async fn read_all(&self, path: &str, limit: Option<u64>) -> Result<Option<Vec<u8>>, SftpFail> {
        if let Some(bytes) = self.ahead.read(path).await {
            return Ok(limit
                .is_none_or(|l| bytes.len() as u64 <= l)
                .then(|| bytes.to_vec()));
        }
        self.read_all_raw(path, limit).await
    }

    /// [`SftpFs::read_all`] sent now.
    pub(crate) async fn read_all_raw(
        &self,
        path: &str,
        limit: Option<u64>,
    ) -> Result<Option<Vec<u8>>, SftpFail> {
        self.count();
        let handle = self
            .raw
            .open(path, OpenFlags::READ, FileAttributes::empty())
            .await?
            .handle;
        let mut out = Vec::new();
        let result = loop {
            if limit.is_some_and(|l| out.len() as u64 > l) {
                break Ok(None);
            }
            self.count();
            match self.raw.read(handle.as_str(), out.len() as u64, READ_CHUNK).await {
                Ok(d) if d.data.is_empty() => break Ok(Some(())),
                Ok(d) => out.extend_from_slice(&d.data),
                Err(russh_sftp::client::error::Error::Status(s)) if s.status_code == StatusCode::Eof => {
                    break Ok(Some(()));
                }
                Err(e) => break Err(SftpFail::from(e)),
            }
        };
        self.close(&handle).await;
        Ok(result?.map(|()| out))
    }

    /// Creates `path` exclusively (`O_CREAT|O_EXCL`, `mode` under the server's umask) and
    /// returns its handle.
    pub async fn create_excl(&self, path: &str, mode: u32) -> Result<String, SftpFail> {
        let _changing = self.ahead.changing();
        self.count();
        let attrs = FileAttributes {
            permissions: Some(mode),
            ..FileAttributes::empty()
        };
        let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUDE;
        Ok(self.raw.open(path, flags, attrs).await?.handle)
    }

    /// Writes `data` at offset 0 of an open handle, in [`WRITE_CHUNK`] requests, up to
    /// [`WRITES_IN_FLIGHT`] of them in flight at once (a large file is not copied whole into
    /// request buffers).
    pub async fn write_all(&self, handle: &str, data: &[u8]) -> Result<(), SftpFail> {
        self.write_all_at(handle, 0, data).await
    }

    /// [`SftpFs::write_all`] of `data` at `offset`. A window's requests all leave on the first
    /// poll, so data of one window or less is in flight before anything polled after it.
    async fn write_all_at(&self, handle: &str, offset: usize, data: &[u8]) -> Result<(), SftpFail> {
        let _changing = self.ahead.changing();
        let chunks: Vec<(usize, &[u8])> = data.chunks(WRITE_CHUNK).enumerate().collect();
        for window in chunks.chunks(WRITES_IN_FLIGHT) {
            let writes = window.iter().map(|&(i, chunk)| {
                self.count();
                self.raw
                    .write(handle, (offset + i * WRITE_CHUNK) as u64, chunk.to_vec())
            });
            for r in futures::future::join_all(writes).await {
                r?;
            }
        }
        Ok(())
    }

    /// Finishes a file just created with [`SftpFs::create_excl`]: writes `data` at offset 0,
    /// then `fsetstat` of `owner` (chown), `fsetstat` of `mode` (chmod), `fsync` (where the
    /// server has `fsync@openssh.com`), `fstat` when `report`, and `close`, in that order.
    ///
    /// All of them are in flight together: one round trip where one request after another
    /// took six. This relies on the order in which the server processes requests on one
    /// handle, which the SFTP drafts require to be the order of arrival (OpenSSH's
    /// `sftp-server` processes every request in order). Data above one window of writes
    /// ([`WRITES_IN_FLIGHT`] x [`WRITE_CHUNK`], 1 MiB) is written and answered first, so that
    /// the sync is never sent before the last write. Every answer is checked; the first
    /// failure is returned (the handle is closed either way). Returns the `fstat` when asked.
    pub async fn finish_new(
        &self,
        handle: &str,
        data: &[u8],
        owner: Option<FileAttributes>,
        mode: Option<FileAttributes>,
        report: bool,
    ) -> Result<Option<FileAttributes>, SftpFail> {
        let _changing = self.ahead.changing();
        let window = WRITE_CHUNK * WRITES_IN_FLIGHT;
        let (head, tail) = if data.len() > window {
            data.split_at(data.len() - data.len() % WRITE_CHUNK)
        } else {
            (&data[..0], data)
        };
        if !head.is_empty()
            && let Err(e) = self.write_all(handle, head).await
        {
            self.close(handle).await;
            return Err(e);
        }
        // futures::join! polls its futures in the order given, so the requests leave in that
        // order (tokio::join! may start at another branch).
        let set = |attrs: Option<FileAttributes>| async move {
            match attrs {
                Some(a) => self.fsetstat(handle, a).await,
                None => Ok(()),
            }
        };
        let stat = async {
            if report {
                self.fstat(handle).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let (w, o, m, f, st, ()) = futures::join!(
            self.write_all_at(handle, head.len(), tail),
            set(owner),
            set(mode),
            self.fsync(handle),
            stat,
            self.close(handle)
        );
        w?;
        o?;
        m?;
        f?;
        st
    }

    /// `fsync` of an open handle, where the server has the extension (else nothing).
    pub async fn fsync(&self, handle: &str) -> Result<(), SftpFail> {
        if self.fsync {
            self.count();
            self.raw.fsync(handle).await?;
        }
        Ok(())
    }

    /// `fstat` of an open handle.
    pub async fn fstat(&self, handle: &str) -> Result<FileAttributes, SftpFail> {
        self.count();
        Ok(self.raw.fstat(handle).await?.attrs)
    }

    /// `fsetstat` of an open handle (`fchown`/`fchmod`, see [`owner_attrs`], [`mode_attrs`]).
    pub async fn fsetstat(&self, handle: &str, attrs: FileAttributes) -> Result<(), SftpFail> {
        let _changing = self.ahead.changing();
        self.count();
        self.raw.fsetstat(handle, attrs).await?;
        Ok(())
    }

    /// `setstat` of `path`, following links (`chown`/`chmod`, see [`owner_attrs`],
    /// [`mode_attrs`]).
    pub async fn setstat(&self, path: &str, attrs: FileAttributes) -> Result<(), SftpFail> {
        let _changing = self.ahead.changing();
        self.count();
        self.raw.setstat(path, attrs).await?;
        Ok(())
    }

    /// Closes a handle (errors ignored: nothing more is done with it).
    pub async fn close(&self, handle: &str) {
        self.count();
        let _ = self.raw.close(handle).await;
    }

    /// Renames `from` onto `to`, replacing it atomically (`posix-rename@openssh.com`; plain
    /// `SSH_FXP_RENAME`, which refuses an existing `to`, where the server lacks it).
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), SftpFail> {
        let _changing = self.ahead.changing();
        self.count();
        if !self.openssh {
            self.raw.rename(from, to).await?;
            return Ok(());
        }
        let mut data = Vec::with_capacity(from.len() + to.len() + 8);
        for s in [from, to] {
            data.extend_from_slice(&(s.len() as u32).to_be_bytes());
            data.extend_from_slice(s.as_bytes());
        }
        match self.raw.extended(POSIX_RENAME, data).await? {
            Packet::Status(s) if s.status_code == StatusCode::Ok => Ok(()),
            Packet::Status(s) => Err(SftpFail::Status(s.status_code, s.error_message)),
            _ => Err(SftpFail::Other("unexpected answer to posix-rename".into())),
        }
    }

    /// `mkdir` with the server's default mode (0777 under its umask).
    pub async fn mkdir(&self, path: &str) -> Result<(), SftpFail> {
        self.mkdir_mode(path, None).await
    }

    /// `mkdir` with `mode` (OpenSSH's server passes it to `mkdir(2)`, so the umask, and a
    /// default ACL of the parent, still apply: callers check the result); `None`: 0777 under
    /// the umask.
    pub async fn mkdir_mode(&self, path: &str, mode: Option<u32>) -> Result<(), SftpFail> {
        let _changing = self.ahead.changing();
        self.count();
        let attrs = mode.map_or_else(FileAttributes::empty, mode_attrs);
        self.raw.mkdir(path, attrs).await?;
        Ok(())
    }

    /// Creates the symlink `path` pointing to `target`. Only on OpenSSH's server (which reads
    /// the two paths of `SSH_FXP_SYMLINK` in the opposite order of the draft standard).
    pub async fn symlink(&self, target: &str, path: &str) -> Result<(), SftpFail> {
        let _changing = self.ahead.changing();
        if !self.openssh {
            return Err(SftpFail::Other("symlink only on OpenSSH's sftp-server".into()));
        }
        self.count();
        // russh-sftp sends its first argument first: OpenSSH takes that as the target.
        self.raw.symlink(target, path).await?;
        Ok(())
    }

    /// The entries of directory `path` (name and attributes, as `readdir` gives them; `.` and
    /// `..` included). `readdir` requests go two at a time (OpenSSH answers up to 100 entries
    /// each, then end of directory), so a small directory is three round trips: open, read,
    /// close.
    pub async fn list(&self, path: &str) -> Result<Vec<(String, FileAttributes)>, SftpFail> {
        self.count();
        let handle = self.raw.opendir(path).await?.handle;
        let mut out = Vec::new();
        let read = || {
            self.count();
            self.raw.readdir(handle.as_str())
        };
        let mut take = |r: Result<russh_sftp::protocol::Name, russh_sftp::client::error::Error>| match r {
            Ok(name) if name.files.is_empty() => Ok(true),
            Ok(name) => {
                out.extend(name.files.into_iter().map(|f| (f.filename, f.attrs)));
                Ok(false)
            }
            Err(russh_sftp::client::error::Error::Status(s)) if s.status_code == StatusCode::Eof => Ok(true),
            Err(e) => Err(SftpFail::from(e)),
        };
        let result = loop {
            let (a, b) = futures::join!(read(), read());
            match take(a).and_then(|end| if end { Ok(true) } else { take(b) }) {
                Ok(true) => break Ok(()),
                Ok(false) => {}
                Err(e) => break Err(e),
            }
        };
        self.close(&handle).await;
        result.map(|()| out)
    }

    /// Removes a file or a link (`unlink`).
    pub async fn remove(&self, path: &str) -> Result<(), SftpFail> {
        let _changing = self.ahead.changing();
        self.count();
        self.raw.remove(path).await?;
        Ok(())
    }

    /// The host's user and group names, read once per connection from `/etc/passwd` and
    /// `/etc/group` (both requests in flight together); `None` when they cannot be read.
    pub async fn names(&self) -> Option<&Names> {
        self.names
            .get_or_init(|| async {
                let (p, g) = tokio::join!(
                    self.read_all("/etc/passwd", None),
                    self.read_all("/etc/group", None)
                );
                match (p, g) {
                    (Ok(Some(p)), Ok(Some(g))) => Some(Names::parse(
                        &String::from_utf8_lossy(&p),
                        &String::from_utf8_lossy(&g),
                    )),
                    _ => None,
                }
            })
            .await
            .as_ref()
    }
}

/// Attributes that set owner and group (`u32::MAX`: keep that id, as `chown(2)`'s -1).
pub fn owner_attrs(uid: u32, gid: u32) -> FileAttributes {
    FileAttributes {
        uid: Some(uid),
        gid: Some(gid),
        ..FileAttributes::empty()
    }
}

/// Attributes that set the permission bits.
pub fn mode_attrs(mode: u32) -> FileAttributes {
    FileAttributes {
        permissions: Some(mode),
        ..FileAttributes::empty()
    }
}

/// The SFTP session of one connection: opened on first use, then kept; `None` inside when the
/// server has no SFTP subsystem (or it failed to start), remembered for the connection.
pub type SftpSlot = OnceCell<Option<Arc<SftpFs>>>;

/// What a connection shares with each SFTP session it opens: the request counter and the
/// answers read ahead.
#[derive(Debug, Clone, Default)]
pub struct SftpShared {
    /// Every request sent (see `Connection::sftp_request_count`).
    pub requests: Arc<AtomicU64>,
    /// See [`super::read_ahead`].
    pub ahead: Arc<ReadAhead>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_both_ways_first_entry_wins() {
        let n = Names::parse(
            "root:x:0:0:root:/root:/bin/sh\n# c\ntoor:x:0:0::/:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n",
            "root:x:0:\nstaff:x:50:bob\n",
        );
        assert_eq!(n.user(0), Some("root"));
        assert_eq!(n.user(1000), Some("bob"));
        assert_eq!(n.user(7), None);
        assert_eq!(n.group(50), Some("staff"));
        assert_eq!(n.uid_of("toor"), Some(0));
        assert_eq!(n.uid_of("1234"), Some(1234));
        assert_eq!(n.uid_of("nobody"), None);
        assert_eq!(n.gid_of("staff"), Some(50));
    }

    #[test]
    fn transport_names_parse() {
        assert_eq!(FileTransport::parse("SFTP"), Some(FileTransport::Sftp));
        assert_eq!(FileTransport::parse("shell"), Some(FileTransport::Shell));
        assert_eq!(FileTransport::parse(""), Some(FileTransport::Auto));
        assert_eq!(FileTransport::parse("scp"), None);
        for t in [FileTransport::Shell, FileTransport::Sftp, FileTransport::Auto] {
            assert_eq!(FileTransport::from_code(t.code()), t);
        }
    }
}
