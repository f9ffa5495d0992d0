//! The SSH transport (russh): one authenticated connection per host for the whole run, every
//! command a session channel multiplexed on it.
//!
//! Connecting checks the host key against known_hosts ([`super::known_hosts`], DESIGN habit 7),
//! then authenticates like `ssh` would: ssh-agent identities first, then the identity files
//! (asking for a passphrase on the terminal when one is needed and possible). `ProxyJump` is a
//! `direct-tcpip` channel on the jump host's connection carrying the target's SSH session.
//!
//! Commands run through [`super::quote::command_line`], stdin is always closed after it is sent (so
//! `cat` cannot hang), and the channel is read until it closes, keeping the exit code or signal
//! (DESIGN habit 4).

mod auth;
mod verify;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect, Sig};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

use super::banner;
use super::known_hosts::{self, HostKey, Verdict};
use super::shell::{self, RemoteShell, ShellError};
use super::{ConnectSpec, ExecOutput, ExecRequest, ExitStatus, TransportError, quote};
use auth::*;
use verify::*;

/// Session channels open at once on one connection. OpenSSH's sshd refuses more than
/// `MaxSessions` (default 10) per connection, so further commands wait for a free slot.
pub const MAX_CONCURRENT_CHANNELS: usize = 10;

/// How long a refused channel open is retried before it is an error.
const CHANNEL_RETRY_LIMIT: Duration = Duration::from_secs(5);

/// Handshake attempts when the server resets a new connection before the key exchange.
const HANDSHAKE_ATTEMPTS: u64 = 4;

/// Passphrase attempts per encrypted key (as `ssh`).
const PASSPHRASE_ATTEMPTS: usize = 3;

/// Idle remote shells kept per connection (each holds one of the [`MAX_CONCURRENT_CHANNELS`]
/// session slots).
const MAX_IDLE_SHELLS: usize = 2;

/// How long a connect failure met while opening the SFTP channel is reported to the next
/// command instead of connecting again (that command is the shell path of the same step).
const FAILURE_REPORTED_WITHIN: Duration = Duration::from_secs(2);

/// An SSH connection to one host for the whole run: one [`Session`] at a time, replaced when
/// the connection is reset (`meta: reset_connection`, `reboot`, `wait_for_connection`). `exec`
/// may be called concurrently from many tasks.
pub struct SshConnection {
    /// How to connect again after a reset.
    spec: Box<ConnectSpec>,
    /// The open session; `None` after [`SshConnection::reset`] until the next command.
    session: std::sync::RwLock<Option<Arc<Session>>>,
    /// Held while a session is being opened, so concurrent commands after a reset open one.
    opening: Mutex<()>,
    /// A connect that just failed where nothing could report it (opening the SFTP channel):
    /// the command that follows at once (the shell path) reports it instead of waiting for a
    /// second connect timeout.
    failed: std::sync::Mutex<Option<(std::time::Instant, TransportError)>>,
    pub(crate) state: super::ConnState,
}

impl SshConnection {
    /// Connects to `spec` (through `spec.jump` first, if set), checks the host key and
    /// authenticates as `spec.user` (default `$USER`, else `root`).
    ///
    /// TCP connect and SSH handshake together are bounded by `spec.connect_timeout`
    /// ([`TransportError::Timeout`]); a passphrase prompt is not. Errors: `Connect` (refused,
    /// unresolvable, handshake failure, jump channel refused), `UnknownHostKey` (unless
    /// `accept_new_host_keys`), `ChangedHostKey`, `RevokedHostKey`, `Auth` (listing what was
    /// tried, never key material).
    pub async fn connect(spec: &ConnectSpec) -> Result<SshConnection, TransportError> {
        let session = Session::connect(spec).await?;
        Ok(SshConnection {
            spec: Box::new(spec.clone()),
            session: std::sync::RwLock::new(Some(Arc::new(session))),
            opening: Mutex::new(()),
            failed: std::sync::Mutex::new(None),
            state: Default::default(),
        })
    }

    /// A connection to `spec` that connects on its first command, as ansible-core opens a
    /// host's connection on the first task that needs one: a host that cannot be reached is
    /// found unreachable by that command (errors as [`SshConnection::connect`] then), and tasks
    /// that need no connection (`debug`, `set_fact`, ...) run before it on that host. The host
    /// key is checked when the session opens, as with [`SshConnection::connect`].
    pub fn lazy(spec: &ConnectSpec) -> SshConnection {
        SshConnection {
            spec: Box::new(spec.clone()),
            session: std::sync::RwLock::new(None),
            opening: Mutex::new(()),
            failed: std::sync::Mutex::new(None),
            state: Default::default(),
        }
    }

    /// The open session, or a new one after a reset (errors as [`SshConnection::connect`]).
    async fn current(&self) -> Result<Arc<Session>, TransportError> {
        if let Some(s) = self.open_session() {
            return Ok(s);
        }
        if let Some((at, e)) = self.failed.lock().ok().and_then(|mut f| f.take())
            && at.elapsed() < FAILURE_REPORTED_WITHIN
        {
            return Err(e);
        }
        let _opening = self.opening.lock().await;
        if let Some(s) = self.open_session() {
            return Ok(s);
        }
        self.replace(&self.spec).await
    }

    fn open_session(&self) -> Option<Arc<Session>> {
        self.session.read().ok().and_then(|s| s.clone())
    }

    /// Opens a session with `spec` and makes it the current one.
    async fn replace(&self, spec: &ConnectSpec) -> Result<Arc<Session>, TransportError> {
        let s = Arc::new(Session::connect(spec).await?);
        if let Ok(mut slot) = self.session.write() {
            *slot = Some(s.clone());
        }
        Ok(s)
    }

    /// True while a session is open (false after a reset, until the next command).
    pub fn is_open(&self) -> bool {
        self.open_session().is_some()
    }

    /// Runs one command and waits for it to end, on the open session (a new one is opened
    /// first after a reset). A non-zero exit is reported in the output, not as an error. The
    /// command runs on an idle remote shell, or on a channel of its own when its stdin is larger
    /// than [`shell::MAX_INLINE_STDIN`] or must travel as base64 and the host lacks `base64`.
    /// Errors: `Channel` (the server refused the channel, or the remote shell ended during the
    /// command), `Connect`/`Lost` (the connection was lost: the host is unreachable), and those
    /// of [`SshConnection::connect`] when a session had to be opened.
    pub async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, TransportError> {
        self.current().await?.exec(req).await
    }

    /// Closes the open session (as ansible-core's `reset()` of a connection: the next command
    /// connects again, checking the host key again). Errors are ignored: the session is going
    /// away either way.
    pub async fn reset(&self) {
        let old = self.session.write().ok().and_then(|mut s| s.take());
        if let Some(s) = old {
            s.close().await;
        }
    }

    /// Closes the open session and opens a new one now, with `connect_timeout` instead of the
    /// spec's when given. Errors as [`SshConnection::connect`]; the connection stays reset then
    /// (the next command tries again).
    pub async fn reconnect(&self, connect_timeout: Option<Duration>) -> Result<(), TransportError> {
        let _opening = self.opening.lock().await;
        self.reset().await;
        let mut spec = (*self.spec).clone();
        if let Some(t) = connect_timeout {
            spec.connect_timeout = t;
        }
        self.replace(&spec).await.map(|_| ())
    }

    /// The SFTP session of the open connection (see [`Session::sftp`]); `None` when the server
    /// has no SFTP subsystem or no connection can be opened (the shell path then says why).
    pub async fn sftp(&self, shared: super::sftp::SftpShared) -> Option<Arc<super::sftp::SftpFs>> {
        match self.current().await {
            Ok(session) => session.sftp(shared).await,
            Err(e) => {
                if let Ok(mut f) = self.failed.lock() {
                    *f = Some((std::time::Instant::now(), e));
                }
                None
            }
        }
    }

    /// The SFTP session when the connection and its SFTP channel are both open already.
    pub fn sftp_started(&self) -> Option<Arc<super::sftp::SftpFs>> {
        self.open_session()?.sftp.get()?.clone()
    }

    /// The user this connection authenticates as (`spec.user`, else `$USER`, else `root`).
    pub fn login_user(&self) -> String {
        login_user(&self.spec)
    }

    /// Disconnects politely (then from the jump host, if any). Errors are ignored.
    pub async fn close(&self) {
        self.reset().await;
    }
}

/// One authenticated SSH session to one host (one TCP connection). `exec` may be called
/// concurrently from many tasks; each call runs on a long-lived remote shell ([`shell`]) or,
/// for large stdin, on a channel of its own.
struct Session {
    name: String,
    addr: String,
    handle: Handle<Verifier>,
    channels: Arc<Semaphore>,
    /// Remote shells not running anything now, each with its session slot.
    idle_shells: std::sync::Mutex<Vec<PooledShell>>,
    /// Kept open for as long as this connection runs through it.
    jump: Option<Box<Session>>,
    /// Why the connection ended, once it did.
    ended: Arc<std::sync::Mutex<Option<String>>>,
    /// The SFTP channel, opened on first use (`None` inside: the server refused the subsystem).
    sftp: super::sftp::SftpSlot,
}

/// A remote shell with the session slot it occupies.
struct PooledShell {
    shell: RemoteShell,
    /// Whether the host has `base64` (requests whose stdin must travel as base64 may run on
    /// this shell): asked on this shell when the first such request comes, `None` until then.
    has_base64: Option<bool>,
    /// The shell has answered a request: it started.
    started: bool,
    _permit: OwnedSemaphorePermit,
}

impl Session {
    /// Connects to `spec` (through `spec.jump` first, if set), checks the host key and
    /// authenticates as `spec.user` (default `$USER`, else `root`).
    ///
    /// TCP connect and SSH handshake together are bounded by `spec.connect_timeout`
    /// ([`TransportError::Timeout`]); a passphrase prompt is not. Errors: `Connect` (refused,
    /// unresolvable, handshake failure, jump channel refused), `UnknownHostKey` (unless
    /// `accept_new_host_keys`), `ChangedHostKey`, `RevokedHostKey`, `Auth` (listing what was
    /// tried, never key material).
    async fn connect(spec: &ConnectSpec) -> Result<Session, TransportError> {
        // Boxed: a jump host is connected with this same function.
        Box::pin(Self::connect_inner(spec)).await
    }

    async fn connect_inner(spec: &ConnectSpec) -> Result<Session, TransportError> {
        let jump = match &spec.jump {
            Some(j) => Some(Box::new(Self::connect(j).await?)),
            None => None,
        };
        let addr = format!("{}:{}", spec.address, spec.port);
        let connect_err = |message: String| TransportError::Connect {
            host: spec.name.clone(),
            addr: addr.clone(),
            message,
        };
        let recorded_types = match tokio::fs::read_to_string(&spec.known_hosts).await {
            Ok(text) => known_hosts::KnownHosts::parse(&text).key_types_for(&spec.address, spec.port),
            Err(_) => Vec::new(),
        };
        let config = Arc::new(client_config(
            &recorded_types,
            spec.server_alive_interval,
            spec.server_alive_count_max,
        ));
        let ended = Arc::new(std::sync::Mutex::new(None));
        let verifier = Verifier {
            name: spec.name.clone(),
            address: spec.address.clone(),
            port: spec.port,
            known_hosts: spec.known_hosts.clone(),
            accept_new: spec.accept_new_host_keys,
            ended: ended.clone(),
            alive: (spec.server_alive_interval, spec.server_alive_count_max),
        };
        let handshake = async {
            let mut attempt = 1;
            loop {
                let result = match &jump {
                    None => {
                        let tcp = tokio::net::TcpStream::connect((spec.address.as_str(), spec.port))
                            .await
                            .map_err(|e| HandlerError::Ssh(russh::Error::IO(e)))?;
                        // As russh's own connect: no Nagle delay.
                        let _ = tcp.set_nodelay(true);
                        let (stream, watch) = banner::watch(tcp);
                        let not_ssh = |line: String| {
                            HandlerError::Fatal(connect_err(format!(
                                "port {} answered with a non-SSH banner \"{line}\": is ansible_port right?",
                                spec.port
                            )))
                        };
                        tokio::select! {
                            r = client::connect_stream(config.clone(), stream, verifier.clone()) => {
                                // sshd itself says "Exceeded MaxStartups" before dropping a
                                // connection beyond its limit: retried below, not foreign.
                                r.map_err(|e| match watch.non_ssh_line() {
                                    Some(line) if !line.starts_with("Exceeded MaxStartups") => not_ssh(line),
                                    _ => e,
                                })
                            }
                            line = watch.non_ssh_banner() => Err(not_ssh(line)),
                        }
                    }
                    Some(j) => {
                        let channel = j
                            .handle
                            .channel_open_direct_tcpip(
                                spec.address.clone(),
                                u32::from(spec.port),
                                "127.0.0.1",
                                0,
                            )
                            .await
                            .map_err(|e| {
                                HandlerError::Fatal(connect_err(format!(
                                    "jump host {} could not open a connection to {addr}: {}",
                                    j.name,
                                    describe(&e)
                                )))
                            })?;
                        client::connect_stream(config.clone(), channel.into_stream(), verifier.clone()).await
                    }
                };
                match result {
                    // sshd drops new connections at random beyond MaxStartups (default 10
                    // unauthenticated at once): try again shortly, within the connect timeout.
                    Err(HandlerError::Ssh(e)) if attempt < HANDSHAKE_ATTEMPTS && is_transient(&e) => {
                        tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                        attempt += 1;
                    }
                    other => return other,
                }
            }
        };
        let mut handle = match tokio::time::timeout(spec.connect_timeout, handshake).await {
            Err(_) => {
                return Err(TransportError::Timeout {
                    host: spec.name.clone(),
                    secs: spec.connect_timeout.as_secs().max(1),
                });
            }
            Ok(Err(HandlerError::Fatal(e))) => return Err(e),
            Ok(Err(HandlerError::Ssh(e))) => return Err(connect_err(describe(&e))),
            Ok(Ok(h)) => h,
        };
        let user = login_user(spec);
        authenticate(&mut handle, spec, &user).await?;
        Ok(Session {
            name: spec.name.clone(),
            addr,
            handle,
            channels: Arc::new(Semaphore::new(MAX_CONCURRENT_CHANNELS)),
            idle_shells: std::sync::Mutex::new(Vec::new()),
            jump,
            ended,
            sftp: Default::default(),
        })
    }

    /// The SFTP session on this connection: one `sftp` subsystem channel, opened on the first
    /// call and kept. A server that refuses the subsystem (no `Subsystem sftp` in its
    /// sshd_config), or a channel that cannot be opened, gives `None`, remembered for this
    /// connection: the file primitives use the remote shell then.
    async fn sftp(&self, shared: super::sftp::SftpShared) -> Option<Arc<super::sftp::SftpFs>> {
        self.sftp
            .get_or_init(|| async {
                let fs = self.open_sftp(shared).await;
                if fs.is_none() {
                    tracing::debug!(host = %self.name, "no SFTP subsystem: file operations use the remote shell");
                }
                fs.map(Arc::new)
            })
            .await
            .clone()
    }

    async fn open_sftp(&self, shared: super::sftp::SftpShared) -> Option<super::sftp::SftpFs> {
        let permit = self.channels.clone().acquire_owned().await.ok()?;
        let mut channel = self.open_session().await.ok()?;
        channel.request_subsystem(true, "sftp").await.ok()?;
        loop {
            match channel.wait().await {
                Some(ChannelMsg::Success) => break,
                Some(ChannelMsg::Failure | ChannelMsg::Eof | ChannelMsg::Close) | None => {
                    let _ = channel.close().await;
                    return None;
                }
                Some(_) => {}
            }
        }
        super::sftp::SftpFs::start(channel.into_stream(), shared, Some(Box::new(permit)))
            .await
            .ok()
    }

    /// Runs one command and waits for it to end. A non-zero exit is reported in the output, not
    /// as an error. The command runs on an idle remote shell of this connection (one is opened
    /// when none is idle), or on a channel of its own when its stdin is larger than
    /// [`shell::MAX_INLINE_STDIN`] or must travel as base64 and the host lacks `base64`. Errors: `Channel` (the
    /// server refused the channel, or the remote shell ended during the command), `Connect` (the
    /// connection was lost: the host is unreachable).
    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, TransportError> {
        if !RemoteShell::accepts(req) {
            return self.exec_channel(req).await;
        }
        let idle = self.idle_shells.lock().ok().and_then(|mut v| v.pop());
        let mut pooled = match idle {
            Some(p) => p,
            None => self.open_shell().await?,
        };
        if req.stdin.as_ref().is_some_and(|d| shell::needs_base64(d)) {
            let has = match pooled.has_base64 {
                Some(has) => has,
                None => {
                    let probe = ExecRequest {
                        inline: true,
                        ..ExecRequest::shell("command -v base64 >/dev/null 2>&1")
                    };
                    let (p, out) = self.run_pooled(pooled, &probe).await?;
                    pooled = p;
                    pooled.has_base64 = Some(out.status.success());
                    out.status.success()
                }
            };
            if !has {
                self.park(pooled).await;
                return self.exec_channel(req).await;
            }
        }
        let (pooled, out) = self.run_pooled(pooled, req).await?;
        self.park(pooled).await;
        Ok(out)
    }

    /// Runs `req` on `pooled` and hands the shell back with the output. On an error the shell is
    /// parked again when it is still usable (the request could not be prepared) and dropped when
    /// it ended; a shell that never answered could not start, and its error says so.
    async fn run_pooled(
        &self,
        mut pooled: PooledShell,
        req: &ExecRequest,
    ) -> Result<(PooledShell, ExecOutput), TransportError> {
        match pooled.shell.run(req).await {
            Ok(out) => {
                pooled.started = true;
                Ok((pooled, out))
            }
            Err(ShellError::Prepare(e)) => {
                self.park(pooled).await;
                Err(self.prepare_failed(&e))
            }
            Err(ShellError::Ended(message)) if pooled.started => {
                Err(self.shell_ended("while running a command", message))
            }
            Err(ShellError::Ended(message)) => Err(self.shell_ended(
                "while starting a remote shell",
                format!("cannot start /bin/sh on the host, or it ended during its first command: {message}"),
            )),
        }
    }

    /// Opens a session channel running a remote shell (no round trip: the first request shows
    /// whether it started).
    async fn open_shell(&self) -> Result<PooledShell, TransportError> {
        let permit = self
            .channels
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| self.lost("opening a channel"))?;
        let token = crate::osenv::random_hex(16)
            .map(|hex| format!("t{hex}"))
            .map_err(|e| TransportError::Io {
                host: self.name.clone(),
                message: format!("cannot read /dev/urandom for a marker token: {e}"),
            })?;
        let channel = self.open_session().await?;
        channel
            .exec(true, shell::SHELL_COMMAND)
            .await
            .map_err(|e| self.lost(&describe(&e)))?;
        let (reader, writer) = channel.split();
        Ok(PooledShell {
            shell: RemoteShell::new(reader, writer, token),
            has_base64: None,
            started: false,
            _permit: permit,
        })
    }

    /// The error for a remote shell that ended: the connection is lost (`Connect`, unreachable)
    /// when the whole connection closed, else `Channel` with `message`.
    fn shell_ended(&self, when: &str, message: String) -> TransportError {
        if self.handle.is_closed() {
            return self.lost(when);
        }
        TransportError::Channel {
            host: self.name.clone(),
            message,
        }
    }

    /// Returns a shell to the idle pool, or closes it when the pool is full.
    async fn park(&self, pooled: PooledShell) {
        let overflow = match self.idle_shells.lock() {
            Ok(mut idle) if idle.len() < MAX_IDLE_SHELLS => {
                idle.push(pooled);
                None
            }
            _ => Some(pooled),
        };
        if let Some(p) = overflow {
            p.shell.close().await;
        }
    }

    /// Runs one command on a new channel and waits until the channel closes. stdin (if any) is
    /// sent, then EOF always. Errors as [`Session::exec`].
    async fn exec_channel(&self, req: &ExecRequest) -> Result<ExecOutput, TransportError> {
        let (line, stdin) = quote::command_line(req).map_err(|e| self.prepare_failed(&e))?;
        tracing::debug!(bytes = line.len(), "channel request");
        let _permit = self
            .channels
            .acquire()
            .await
            .map_err(|_| self.lost("opening a channel"))?;
        let channel = self.open_session().await?;
        channel
            .exec(true, line)
            .await
            .map_err(|e| self.lost(&describe(&e)))?;
        let (mut reader, writer) = channel.split();
        let mut out = ExecOutput {
            status: ExitStatus::Unknown,
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        let mut closed = false;
        let mut refused = false;
        {
            let write = async {
                if let Some(data) = stdin.filter(|d| !d.is_empty()) {
                    writer.data_bytes(data).await?;
                }
                writer.eof().await
            };
            tokio::pin!(write);
            let mut writing = true;
            loop {
                tokio::select! {
                    // A command that exits without reading stdin makes the write fail: not an error.
                    _ = &mut write, if writing => writing = false,
                    msg = reader.wait() => match msg {
                        Some(ChannelMsg::Data { data }) => out.stdout.extend_from_slice(&data),
                        Some(ChannelMsg::ExtendedData { data, ext: 1 }) => out.stderr.extend_from_slice(&data),
                        Some(ChannelMsg::ExitStatus { exit_status }) => out.status = ExitStatus::Code(exit_status),
                        Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                            out.status = ExitStatus::Signal(signal_label(&signal_name));
                        }
                        // The only request on this channel that wants a reply is `exec`.
                        Some(ChannelMsg::Failure) => {
                            refused = true;
                            break;
                        }
                        Some(ChannelMsg::Close) => {
                            closed = true;
                            break;
                        }
                        Some(_) => {}
                        None => break,
                    },
                }
            }
        }
        if refused {
            let _ = writer.close().await;
            return Err(TransportError::Channel {
                host: self.name.clone(),
                message: "the server refused to run the command".to_string(),
            });
        }
        if !closed && out.status == ExitStatus::Unknown && self.handle.is_closed() {
            return Err(self.lost("while running a command"));
        }
        tracing::debug!(
            stdout = out.stdout.len(),
            stderr = out.stderr.len(),
            "channel request done"
        );
        Ok(out)
    }

    /// Opens a session channel. sshd frees a session slot only after our close reaches it, so a
    /// refusal right after another command ended is retried for a while (bounded backoff).
    async fn open_session(&self) -> Result<russh::Channel<client::Msg>, TransportError> {
        let mut delay = Duration::from_millis(5);
        let mut waited = Duration::ZERO;
        loop {
            match self.handle.channel_open_session().await {
                Ok(c) => return Ok(c),
                Err(e) if self.handle.is_closed() => return Err(self.lost(&describe(&e))),
                Err(russh::Error::ChannelOpenFailure(_)) if waited < CHANNEL_RETRY_LIMIT => {
                    tokio::time::sleep(delay).await;
                    waited += delay;
                    delay = (delay * 2).min(Duration::from_millis(200));
                }
                Err(e) => {
                    return Err(TransportError::Channel {
                        host: self.name.clone(),
                        message: format!(
                            "the server refused a session channel: {} (is sshd's MaxSessions below {MAX_CONCURRENT_CHANNELS}?)",
                            describe(&e)
                        ),
                    });
                }
            }
        }
    }

    /// Disconnects politely (then from the jump host, if any). Errors are ignored: the
    /// connection is going away either way.
    async fn close(&self) {
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "talon done", "en")
            .await;
        if let Some(j) = &self.jump {
            Box::pin(j.close()).await;
        }
    }

    /// The error for a request that could not be built on the controller (nothing was sent).
    fn prepare_failed(&self, e: &std::io::Error) -> TransportError {
        TransportError::Io {
            host: self.name.clone(),
            message: format!("cannot prepare the command on the controller: {e}"),
        }
    }

    /// The connection ended under a command: the recorded reason (keepalives unanswered, the
    /// host closed it) when russh reported one, else `what` happened.
    fn lost(&self, what: &str) -> TransportError {
        let recorded = self.ended.lock().ok().and_then(|r| r.clone());
        TransportError::Lost {
            host: self.name.clone(),
            addr: self.addr.clone(),
            reason: recorded.unwrap_or_else(|| what.to_string()),
        }
    }
}

/// The user a connection to `spec` authenticates as: `spec.user`, else `$USER`, else `root`.
fn login_user(spec: &ConnectSpec) -> String {
    spec.user
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "root".to_string())
}

/// Client settings: keepalives instead of an inactivity timeout (long quiet commands are fine,
/// dead hosts are not), no Nagle delay, AES-GCM first (hardware accelerated), and the host key
/// types already recorded for this host asked for first (as OpenSSH orders HostKeyAlgorithms).
fn client_config(recorded_types: &[String], alive_interval: Duration, alive_max: usize) -> client::Config {
    let mut preferred = russh::Preferred::default();
    let mut keys: Vec<Algorithm> = preferred.key.to_vec();
    keys.sort_by_key(|alg| !recorded_types.iter().any(|t| t == key_type_name(alg)));
    preferred.key = Cow::Owned(keys);
    let mut ciphers = preferred.cipher.to_vec();
    ciphers.sort_by_key(|c| *c != russh::cipher::AES_256_GCM);
    preferred.cipher = Cow::Owned(ciphers);
    client::Config {
        preferred,
        keepalive_interval: (!alive_interval.is_zero()).then_some(alive_interval),
        keepalive_max: alive_max,
        inactivity_timeout: None,
        nodelay: true,
        ..Default::default()
    }
}

fn signal_label(sig: &Sig) -> String {
    match sig {
        Sig::Custom(name) => name.clone(),
        other => format!("{other:?}"),
    }
}

/// A connection closed or reset by the server before the handshake completed (worth a retry).
fn is_transient(e: &russh::Error) -> bool {
    use std::io::ErrorKind;
    match e {
        russh::Error::IO(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::UnexpectedEof
                | ErrorKind::BrokenPipe
        ),
        russh::Error::Disconnect | russh::Error::HUP => true,
        _ => false,
    }
}

/// A russh error as a sentence for the user.
fn describe(e: &russh::Error) -> String {
    match e {
        russh::Error::IO(io) => io.to_string(),
        russh::Error::ChannelOpenFailure(reason) => format!("channel open refused ({reason:?})"),
        russh::Error::Disconnect | russh::Error::SendError => "the server closed the connection".to_string(),
        other => format!("SSH protocol error: {other}"),
    }
}
