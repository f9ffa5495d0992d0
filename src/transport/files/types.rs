//! The types of the file primitives: what a path is ([`FileStat`], [`Probe`]), what to apply
//! ([`FileAttrs`], [`WriteOptions`]), what a write did ([`WriteOutcome`]), what a connection
//! learned about new files ([`Learned`]), and why a primitive failed ([`FilesError`]).

use super::super::{Become, Connection, TransportError};

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
    /// MD5 (`stat`'s `checksum_algorithm: md5`).
    Md5,
    /// SHA-224.
    Sha224,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Checksum {
    /// The algorithm ansible.builtin.stat's `checksum_algorithm` names (`sha1`, `md5`,
    /// `sha224`, `sha256`, `sha384`, `sha512`), or `None`.
    pub fn from_name(name: &str) -> Option<Checksum> {
        Some(match name {
            "sha1" => Checksum::Sha1,
            "md5" => Checksum::Md5,
            "sha224" => Checksum::Sha224,
            "sha256" => Checksum::Sha256,
            "sha384" => Checksum::Sha384,
            "sha512" => Checksum::Sha512,
            _ => return None,
        })
    }

    /// The coreutils program prefix (`sha1` for `sha1sum`).
    pub(super) fn tool(self) -> &'static str {
        match self {
            Checksum::Sha1 => "sha1",
            Checksum::Sha256 => "sha256",
            Checksum::Md5 => "md5",
            Checksum::Sha224 => "sha224",
            Checksum::Sha384 => "sha384",
            Checksum::Sha512 => "sha512",
        }
    }

    /// The md5 of `data` in hex (what Ansible's copy and template report as `md5sum`).
    pub fn md5(data: &[u8]) -> String {
        Checksum::Md5.digest(data)
    }

    /// Hex digest of `data` computed on the controller, comparable with [`FileStat::checksum`].
    pub fn digest(self, data: &[u8]) -> String {
        use sha1::Digest;
        match self {
            Checksum::Sha1 => hex::encode(sha1::Sha1::digest(data)),
            Checksum::Sha256 => hex::encode(sha2::Sha256::digest(data)),
            Checksum::Md5 => hex::encode(md5::Md5::digest(data)),
            Checksum::Sha224 => hex::encode(sha2::Sha224::digest(data)),
            Checksum::Sha384 => hex::encode(sha2::Sha384::digest(data)),
            Checksum::Sha512 => hex::encode(sha2::Sha512::digest(data)),
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
    /// Modification time, seconds since the epoch (nanosecond resolution, as Python's
    /// `st_mtime`).
    pub mtime: f64,
    /// Access time, seconds since the epoch.
    pub atime: f64,
    /// Status-change time, seconds since the epoch.
    pub ctime: f64,
    /// Inode number.
    pub inode: u64,
    /// Device number.
    pub dev: u64,
    /// Number of hard links; 0 when not read (an SFTP probe, see [`ProbeOptions::sftp`]).
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

/// What `stat` gathers beyond [`FileStat`] (ansible.builtin.stat's platform fields, mime
/// data and file attributes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatExtra {
    /// `st_blksize`.
    pub block_size: u64,
    /// `st_blocks` (512-byte units).
    pub blocks: u64,
    /// `st_rdev` (0 for anything but a device).
    pub device_type: u64,
    /// The file type bits of `st_mode` (`S_IFMT`: `0o010000` FIFO, `0o020000` character
    /// device, `0o060000` block device, `0o140000` socket, ...), which [`FileKind`] folds into
    /// `Other`.
    pub file_type: u32,
    /// `(mimetype, charset)` from `file`, when asked for; `None` when `file` could not say.
    pub mime: Option<(String, String)>,
    /// `(version, flags)` from `lsattr -vd`, when asked for and it answered.
    pub attrs: Option<(String, String)>,
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
    /// The caller reads only what SFTP (protocol version 3) reports exactly: kind, mode,
    /// uid/gid and their names, size, the link target, checksum and content. Then the probe
    /// may run over SFTP (no host process); its `mtime`/`atime` are whole seconds and `ctime`,
    /// `inode`, `dev`, `nlink`, `readable`/`writeable`/`executable` and `link_resolved` are
    /// not read (zero, false, `None`). Leave it false where any of those matters (`stat`,
    /// hard links, `file`'s state names, times).
    pub sftp: bool,
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
    /// The temp file the content was written to and renamed onto the path from (what
    /// Ansible's copy reports as `src`, its uploaded temp file).
    pub source: String,
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
///
/// Also the home folders `~` and `~user` stand for, per effective user.
#[derive(Debug, Default)]
pub struct Learned {
    /// The remote shell's umask, from the first probe on the shell (the SFTP probe reports it
    /// from here: sftp-server runs under the same umask, but SFTP cannot ask for it).
    pub(super) umask: Option<u32>,
    new_file_owner: std::collections::HashMap<String, FileOwner>,
    homes: std::collections::HashMap<(String, String), String>,
}

impl Learned {
    /// The home folder `prefix` (`~` or `~user`) stood for when `user` (`""`: the connecting
    /// user) asked; empty when it names no user.
    pub fn home(&self, user: &str, prefix: &str) -> Option<&String> {
        self.homes.get(&(user.to_string(), prefix.to_string()))
    }

    /// Records what `prefix` stands for for `user`.
    pub fn learn_home(&mut self, user: &str, prefix: &str, home: String) {
        self.homes.insert((user.to_string(), prefix.to_string()), home);
    }

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

/// The user whose view of the host a request has: the become user, or `""` for the
/// connecting user.
pub fn effective_user(become_: &Option<Become>) -> String {
    become_.as_ref().map(|b| b.user.clone()).unwrap_or_default()
}

pub(super) fn learned_owner(conn: &Connection, become_: &Option<Become>) -> Option<FileOwner> {
    let learned = conn.learned().lock().ok()?;
    learned.new_file_owner.get(&effective_user(become_)).cloned()
}

/// Records the umask a shell probe reported (see [`Learned`]); also the remote shell's `umask`
/// printed by the fact step over SFTP (`runner::facts_sftp`), so no probe follows.
pub(crate) fn learn_umask(conn: &Connection, umask: u32) {
    if let Ok(mut learned) = conn.learned().lock() {
        learned.umask = Some(umask);
    }
}

/// The umask learned from an earlier shell probe.
pub(super) fn learned_umask(conn: &Connection) -> Option<u32> {
    conn.learned().lock().ok()?.umask
}

pub(super) fn learn_owner(conn: &Connection, become_: &Option<Become>, owner: FileOwner) {
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
