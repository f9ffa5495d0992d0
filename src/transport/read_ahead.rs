//! Reads sent ahead on a host's SFTP session: pipelining across tasks.
//!
//! Before a run of consecutive file tasks (`file`, `copy`, `template`, `lineinfile`,
//! `blockinfile`) starts on a host, the runner names the paths they will look at
//! ([`AheadRead`]); the `stat`, `lstat`, `readlink` and small-file reads those tasks' probes
//! make are sent at once, all in flight together, and each task then finds its answers
//! waiting instead of making one round trip after another. [`super::sftp::SftpFs`] consults
//! this cache before sending a read; an answer it cannot use exactly (an error other than "no
//! such file", a file too large) is simply not used, and the read is sent as before.
//!
//! When an answer sent ahead still holds, as a rule that errs on the side of asking again:
//! - Anything this connection does that may change the host (every command except talon's own
//!   probes, every SFTP write, `mkdir`, `rename`, `setstat`, `symlink`, `remove`) drops every
//!   answer of this connection, before and after it (paths may alias through links).
//! - Every such change, on any connection of this process, advances a counter (the "world");
//!   when a task starts on a host ([`ReadAhead::checkpoint`], after the linear strategy's
//!   barrier), answers sent while the world was different are dropped. So a host never uses
//!   for task N+1 an answer read before another host's change in task N (hosts may share a
//!   filesystem: a local connection, an NFS mount, two inventory names of one machine), which
//!   keeps the order `strategy: linear` promises. Changes made by other hosts *during* the
//!   same task are not ordered with this host's reads in Ansible either.
//! - The runner only reads ahead while the world is quiet (nothing changed anywhere since the
//!   last task started on this host): in a run that changes things every task (a first run),
//!   answers would be dropped before use, so none are sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use russh_sftp::protocol::FileAttributes;

use super::sftp::SftpFs;

/// Regular files up to this size (bytes) are read ahead; larger ones are read when the task
/// asks (their probe may hash them on the host instead).
pub const AHEAD_READ_MAX: u64 = 16 * 1024;

/// Bytes of file content one connection may hold read ahead at once (with [`AHEAD_READ_MAX`]:
/// at least 8 files; 25 MiB for 200 hosts at most); reads beyond it are left to the tasks.
pub const AHEAD_BYTES_MAX: u64 = 128 * 1024;

/// What a task planned ahead will look at: the requests its probe makes on one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AheadRead {
    pub path: String,
    /// `stat` (following links).
    pub stat: bool,
    /// `lstat`, and the link's target when it is a link.
    pub lstat: bool,
    /// The content of a regular file up to [`AHEAD_READ_MAX`] bytes (judged from the `stat`
    /// answer when asked, else from the `lstat` one, as the probes read).
    pub content: bool,
}

impl AheadRead {
    /// `stat` only (a link's source: does it exist).
    pub fn stat(path: String) -> AheadRead {
        AheadRead {
            path,
            stat: true,
            lstat: false,
            content: false,
        }
    }

    /// The probe of a path with or without following links (`follow: true` asks both, as the
    /// probe reports the link's target either way).
    pub fn probe(path: String, follow: bool) -> AheadRead {
        AheadRead {
            path,
            stat: follow,
            lstat: true,
            content: false,
        }
    }

    /// With the file's content too (copy, template, lineinfile compare or edit it).
    pub fn with_content(mut self) -> AheadRead {
        self.content = true;
        self
    }
}

/// Changes made through any connection of this process (see the module docs).
static WORLD: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Stat(String, bool),
    Link(String),
    Read(String),
}

/// One answer sent ahead, as the reader uses it.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    Attrs(FileAttributes),
    Missing,
    Link(String),
    Bytes(Arc<Vec<u8>>),
    /// Not an answer the reader can use exactly: it sends its own request.
    Unusable,
}

type Pending = Shared<BoxFuture<'static, Answer>>;

struct Entry {
    world: u64,
    answer: Pending,
}

#[derive(Default)]
struct State {
    entries: HashMap<Key, Entry>,
    /// The world when the last task started on this host (`None` before the first).
    checkpoint: Option<u64>,
    /// Task starts in a row on this host with nothing changed anywhere in between.
    streak: u32,
}

/// Calls [`ReadAhead::changed`] when dropped (see [`ReadAhead::changing`]).
pub struct Changing<'a>(&'a ReadAhead);

impl Drop for Changing<'_> {
    fn drop(&mut self) {
        self.0.changed();
    }
}

/// The answers read ahead on one connection (shared by its SFTP session and its commands).
#[derive(Default)]
pub struct ReadAhead {
    state: Mutex<State>,
    /// Content bytes reserved by reads ahead since the answers were last dropped.
    bytes: Arc<AtomicU64>,
    /// Reads sent ahead, and answers a reader used, over the connection's life.
    sent: AtomicU64,
    used: AtomicU64,
}

impl std::fmt::Debug for ReadAhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadAhead")
            .field(
                "answers",
                &self.state.lock().map(|s| s.entries.len()).unwrap_or(0),
            )
            .field("quiet", &self.quiet())
            .finish()
    }
}

impl ReadAhead {
    /// This connection is about to change, or has changed, the host: every answer is dropped
    /// and the world advances.
    pub fn changed(&self) {
        WORLD.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut s) = self.state.lock() {
            s.entries.clear();
        }
        self.bytes.store(0, Ordering::SeqCst);
    }

    /// [`ReadAhead::changed`] now and again when the guard is dropped (after the change).
    pub fn changing(&self) -> Changing<'_> {
        self.changed();
        Changing(self)
    }

    /// A task starts on this host: answers read while the world was different are dropped.
    pub fn checkpoint(&self) {
        let world = WORLD.load(Ordering::SeqCst);
        if let Ok(mut s) = self.state.lock() {
            s.streak = if s.checkpoint == Some(world) {
                s.streak.saturating_add(1)
            } else {
                0
            };
            s.checkpoint = Some(world);
            s.entries.retain(|_, e| e.world == world);
            if s.entries.is_empty() {
                self.bytes.store(0, Ordering::SeqCst);
            }
        }
    }

    /// True when nothing changed anywhere since the last task started on this host.
    pub fn quiet(&self) -> bool {
        let world = WORLD.load(Ordering::SeqCst);
        self.state
            .lock()
            .map(|s| s.checkpoint == Some(world))
            .unwrap_or(false)
    }

    /// How many tasks to read ahead for now: 2 after a change, doubling with every quiet task
    /// start in a row up to `max`, so a run that changes things now and then wastes little and
    /// a quiet one sends whole runs of tasks at once.
    pub fn window(&self, max: usize) -> usize {
        let streak = self.state.lock().map(|s| s.streak).unwrap_or(0);
        2usize.checked_shl(streak.min(16)).unwrap_or(max).min(max)
    }

    /// How many reads were sent ahead, and how many answers a reader used (the log prints
    /// them when the connection closes).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.used.load(Ordering::Relaxed),
        )
    }

    fn pending(&self, key: &Key) -> Option<Pending> {
        self.state.lock().ok()?.entries.get(key).map(|e| e.answer.clone())
    }

    /// The answer read ahead for `key`, waiting for it if it is still in flight; `None` when
    /// there is none.
    async fn answer(&self, key: Key) -> Option<Answer> {
        let pending = self.pending(&key)?;
        let answer = pending.await;
        if !matches!(answer, Answer::Unusable) {
            self.used.fetch_add(1, Ordering::Relaxed);
        }
        Some(answer)
    }

    /// `stat`/`lstat` of `path` read ahead: `Some(Ok(attrs))`, `Some(Err(()))` for a missing
    /// path, `None` when there is no usable answer.
    pub(crate) async fn stat(&self, path: &str, follow: bool) -> Option<Result<FileAttributes, ()>> {
        match self.answer(Key::Stat(path.to_string(), follow)).await? {
            Answer::Attrs(a) => Some(Ok(a)),
            Answer::Missing => Some(Err(())),
            _ => None,
        }
    }

    /// The link target of `path` read ahead.
    pub(crate) async fn readlink(&self, path: &str) -> Option<String> {
        match self.answer(Key::Link(path.to_string())).await? {
            Answer::Link(t) => Some(t),
            _ => None,
        }
    }

    /// The whole content of the regular file `path` read ahead.
    pub(crate) async fn read(&self, path: &str) -> Option<Arc<Vec<u8>>> {
        match self.answer(Key::Read(path.to_string())).await? {
            Answer::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// Sends the reads `wanted` names on `fs`, all at once, in place of the answers held
    /// (the tasks they were for have all started). Returns
    /// how many requests went out first (chains such as a read after its `stat` send more).
    pub fn plan(&self, fs: &Arc<SftpFs>, wanted: &[AheadRead]) -> usize {
        let Ok(mut s) = self.state.lock() else {
            return 0;
        };
        let world = WORLD.load(Ordering::SeqCst);
        // The tasks of the window before have all started: their answers are not needed.
        s.entries.clear();
        self.bytes.store(0, Ordering::SeqCst);
        let mut sent = 0;
        let mut spawn = |s: &mut State, key: Key, fut: BoxFuture<'static, Answer>| -> Pending {
            if let Some(e) = s.entries.get(&key) {
                return e.answer.clone();
            }
            // Spawned so the requests go out now; the task runs to its end even when the
            // answer is dropped (a file handle it opened is always closed).
            let handle = tokio::spawn(fut);
            let answer = async move { handle.await.unwrap_or(Answer::Unusable) }
                .boxed()
                .shared();
            s.entries.insert(
                key,
                Entry {
                    world,
                    answer: answer.clone(),
                },
            );
            sent += 1;
            answer
        };
        for read in wanted {
            let path = &read.path;
            let stat = |follow: bool| {
                let fs = fs.clone();
                let path = path.clone();
                async move {
                    match fs.stat_raw(&path, follow).await {
                        Ok(a) => Answer::Attrs(a),
                        Err(e) if e.is_missing() => Answer::Missing,
                        Err(_) => Answer::Unusable,
                    }
                }
                .boxed()
            };
            let followed = read
                .stat
                .then(|| spawn(&mut s, Key::Stat(path.clone(), true), stat(true)));
            let own = read
                .lstat
                .then(|| spawn(&mut s, Key::Stat(path.clone(), false), stat(false)));
            if let Some(own) = own.clone() {
                let fs = fs.clone();
                let target = path.clone();
                let link = async move {
                    match own.await {
                        Answer::Attrs(a) if a.permissions.is_some_and(|p| p & 0o170000 == 0o120000) => {
                            match fs.readlink_raw(&target).await {
                                Ok(t) => Answer::Link(t),
                                Err(_) => Answer::Unusable,
                            }
                        }
                        _ => Answer::Unusable,
                    }
                }
                .boxed();
                drop(spawn(&mut s, Key::Link(path.clone()), link));
            }
            let Some(judged) = followed.or(own).filter(|_| read.content) else {
                continue;
            };
            let fs2 = fs.clone();
            let path2 = path.clone();
            let budget = self.bytes.clone();
            let read = async move {
                let size = match judged.await {
                    Answer::Attrs(a) if a.permissions.is_some_and(|p| p & 0o170000 == 0o100000) => {
                        a.size.unwrap_or(u64::MAX)
                    }
                    _ => return Answer::Unusable,
                };
                // Reserve the bytes first (a file of size 0 may still have content: /proc).
                let want = size.max(1);
                if size > AHEAD_READ_MAX || budget.fetch_add(want, Ordering::SeqCst) + want > AHEAD_BYTES_MAX
                {
                    return Answer::Unusable;
                }
                match fs2.read_all_raw(&path2, Some(AHEAD_READ_MAX)).await {
                    Ok(Some(bytes)) => Answer::Bytes(Arc::new(bytes)),
                    _ => Answer::Unusable,
                }
            }
            .boxed();
            drop(spawn(&mut s, Key::Read(path.clone()), read));
        }
        self.sent.fetch_add(sent as u64, Ordering::Relaxed);
        tracing::debug!("read ahead: {sent} reads for {} paths", wanted.len());
        sent
    }
}
