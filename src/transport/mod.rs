//! How talon reaches a host: one connection per host for the whole run.
//!
//! Every remote step is a command run on a channel of that connection ([`Connection::exec`]).
//! Modules never build shell strings by hand: they give an argv, which is quoted per argument
//! ([`quote`]); content and secrets travel on stdin, never in argv. File operations
//! ([`files`]) are built on `exec` so that they work the same with and without `become`, and
//! without `become` use an SFTP channel on the same connection where it answers exactly
//! ([`sftp`]: no host process per check or write).

pub mod banner;
pub mod files;
pub mod known_hosts;
pub mod local;
pub mod quote;
pub mod read_ahead;
pub mod sftp;
pub mod shell;
pub mod ssh;
pub mod ssh_config;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

/// How a remote command ended (DESIGN habit 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exited with this code.
    Code(u32),
    /// Killed by this signal (name as the SSH server reports it, e.g. `KILL`).
    Signal(String),
    /// The channel closed without reporting a status.
    Unknown,
}

impl ExitStatus {
    /// True for exit code 0.
    pub fn success(&self) -> bool {
        matches!(self, ExitStatus::Code(0))
    }

    /// The code Ansible registers as `rc`: the exit code, or -1 for signals and unknown.
    pub fn rc(&self) -> i64 {
        match self {
            ExitStatus::Code(c) => i64::from(*c),
            _ => -1,
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit code {c}"),
            ExitStatus::Signal(s) => write!(f, "killed by signal {s}"),
            ExitStatus::Unknown => f.write_str("no exit status"),
        }
    }
}

/// Privilege escalation for one command, through `sudo` (non-interactive).
#[derive(Debug, Clone)]
pub struct Become {
    /// Target user (Ansible's `become_user`, default `root`).
    pub user: String,
    /// Password for sudo, sent on stdin (`sudo -S`), never in argv.
    pub password: Option<SecretString>,
}

/// One command to run on a host.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    /// The program and its arguments; each is quoted separately for the remote shell.
    pub argv: Vec<String>,
    /// Bytes written to the command's stdin, then stdin is closed.
    pub stdin: Option<Vec<u8>>,
    /// Run as another user through sudo.
    pub become_: Option<Become>,
    /// Working directory (`cd DIR &&` before the command).
    pub chdir: Option<String>,
    /// Extra environment variables (`env K=V` before the command). Not for secrets.
    pub env: Vec<(String, String)>,
    /// For talon's own `/bin/sh -c SCRIPT NAME ARGS...` scripts that use neither `$$` nor `$0`:
    /// the remote shell may evaluate SCRIPT in a subshell with `set -- ARGS` instead of starting
    /// another `sh` (one exec fewer). Never set for user commands (`shell`, `command`).
    pub inline: bool,
    /// talon's own probe that changes nothing on the host (`stat`, `umask`): it does not drop
    /// the answers read ahead ([`read_ahead`]). Every other command may change anything.
    pub pure: bool,
}

impl ExecRequest {
    /// A request that runs `argv` with nothing else set.
    pub fn argv<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ExecRequest {
            argv: argv.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }

    /// A request that runs a script with `/bin/sh -c SCRIPT` (the script is one quoted argument).
    pub fn shell(script: impl Into<String>) -> Self {
        Self::argv(["/bin/sh".to_string(), "-c".to_string(), script.into()])
    }

    /// Sets stdin.
    pub fn with_stdin(mut self, data: Vec<u8>) -> Self {
        self.stdin = Some(data);
        self
    }

    /// Sets become.
    /// Marks the request as a probe that changes nothing on the host (see [`ExecRequest::pure`]).
    pub fn pure(mut self) -> Self {
        self.pure = true;
        self
    }

    pub fn with_become(mut self, b: Option<Become>) -> Self {
        self.become_ = b;
        self
    }
}

/// What a command printed and how it ended.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// stdout as (lossy) UTF-8.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// stderr as (lossy) UTF-8.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Where and how to connect to one host, resolved from inventory variables and `~/.ssh/config`.
#[derive(Debug, Clone)]
pub struct ConnectSpec {
    /// The inventory name (for messages).
    pub name: String,
    /// `ansible_connection`: ssh or local.
    pub kind: ConnectionKind,
    /// `ansible_host` (or the inventory name).
    pub address: String,
    /// `ansible_port`, default 22.
    pub port: u16,
    /// `ansible_user`, default the controller user's name (or `~/.ssh/config` User).
    pub user: Option<String>,
    /// `ansible_ssh_private_key_file` first, then `~/.ssh/config` IdentityFile, then `~/.ssh/id_*`.
    pub identity_files: Vec<PathBuf>,
    /// known_hosts file (default `~/.ssh/known_hosts`, or `--known-hosts`).
    pub known_hosts: PathBuf,
    /// `--accept-new-host-keys`: record unknown hosts instead of refusing them.
    pub accept_new_host_keys: bool,
    /// TCP connect + SSH handshake timeout.
    pub connect_timeout: Duration,
    /// `ServerAliveInterval`: how often a keepalive is sent on a quiet connection (zero: never).
    /// A host that leaves [`ConnectSpec::server_alive_count_max`] of them in a row unanswered is
    /// unreachable (`TransportError::Lost`), after about `interval x (count_max + 1)`.
    pub server_alive_interval: Duration,
    /// `ServerAliveCountMax` (OpenSSH's default 3).
    pub server_alive_count_max: usize,
    /// `ProxyJump` (`ansible_ssh_common_args` / `~/.ssh/config`): reach this host through an SSH
    /// connection to the jump host (a `direct-tcpip` channel); both host keys are checked. A
    /// chain `a,b` is `b` with `jump: Some(a)`.
    pub jump: Option<Box<ConnectSpec>>,
    /// `-k`/`--ask-pass`: the SSH password, tried (as OpenSSH's `password` method) after the
    /// agent and the identity files. A secret: never logged.
    pub password: Option<secrecy::SecretString>,
}

impl ConnectSpec {
    /// An SSH spec with the defaults: user from `$USER` at connect time, default identity files,
    /// `~/.ssh/known_hosts`, unknown host keys refused, 10 s connect timeout, no jump host.
    pub fn ssh(name: &str, address: &str, port: u16) -> ConnectSpec {
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
        ConnectSpec {
            name: name.to_string(),
            kind: ConnectionKind::Ssh,
            address: address.to_string(),
            port,
            user: None,
            identity_files: Vec::new(),
            known_hosts: home.join(".ssh").join("known_hosts"),
            accept_new_host_keys: false,
            connect_timeout: Duration::from_secs(10),
            server_alive_interval: DEFAULT_SERVER_ALIVE_INTERVAL,
            server_alive_count_max: DEFAULT_SERVER_ALIVE_COUNT_MAX,
            jump: None,
            password: None,
        }
    }
}

/// Default `ServerAliveInterval`: with [`DEFAULT_SERVER_ALIVE_COUNT_MAX`], a host that stops
/// answering (paused, cut off, powered down) is unreachable after about 20 s; a command that runs
/// long and quietly is not affected (the host's sshd answers the keepalives).
pub const DEFAULT_SERVER_ALIVE_INTERVAL: Duration = Duration::from_secs(5);
/// Default `ServerAliveCountMax` (OpenSSH's).
pub const DEFAULT_SERVER_ALIVE_COUNT_MAX: usize = 3;

/// `ansible_connection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionKind {
    Ssh,
    Local,
}

/// Why a host could not be reached or a command could not be run.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot connect to {host} ({addr}): {message}")]
    Connect {
        host: String,
        addr: String,
        message: String,
    },
    #[error("connecting to {host} timed out after {secs} s")]
    Timeout { host: String, secs: u64 },
    /// An established connection ended: the host stopped answering keepalives, closed the
    /// connection, or the network failed. `reason` says which.
    #[error("connection to {host} ({addr}) lost: {reason}")]
    Lost {
        host: String,
        addr: String,
        reason: String,
    },
    #[error(
        "host key for {host} ({fingerprint}) is not in {known_hosts}; verify it and add it, or run with --accept-new-host-keys to record it"
    )]
    UnknownHostKey {
        host: String,
        known_hosts: String,
        /// `SHA256:...` fingerprint of the key the server presented.
        fingerprint: String,
    },
    #[error(
        "HOST KEY FOR {host} HAS CHANGED (offending line {known_hosts}:{line}). Someone may be intercepting the connection, or the host was reinstalled. talon refuses to connect; if the change is expected, remove the old key (ssh-keygen -R) and connect again"
    )]
    ChangedHostKey {
        host: String,
        known_hosts: String,
        line: usize,
    },
    #[error("host key for {host} is marked @revoked at {known_hosts}:{line}; talon refuses to connect")]
    RevokedHostKey {
        host: String,
        known_hosts: String,
        line: usize,
    },
    #[error("authentication failed for {user}@{host}: tried {tried}")]
    Auth {
        host: String,
        user: String,
        tried: String,
    },
    #[error("{host}: {message}")]
    Channel { host: String, message: String },
    #[error("{host}: {message}")]
    Io { host: String, message: String },
}

impl TransportError {
    /// True when the host should be counted as unreachable (rather than the task failed).
    pub fn is_unreachable(&self) -> bool {
        !matches!(self, TransportError::Io { .. })
    }
}

/// Per-connection state shared by the transports: what the file primitives learned about the
/// host, the number of commands run and of SFTP requests sent, and the file transport chosen.
#[derive(Debug)]
pub struct ConnState {
    learned: std::sync::Mutex<files::Learned>,
    execs: std::sync::atomic::AtomicU64,
    /// The SFTP request counter and the answers read ahead.
    sftp: sftp::SftpShared,
    /// [`sftp::FileTransport`] as its code.
    file_transport: std::sync::atomic::AtomicU8,
    /// A command with a become password ran: the host has this run's askpass directory.
    askpass_used: std::sync::atomic::AtomicBool,
}

impl Default for ConnState {
    /// The file transport from `TALON_FILE_TRANSPORT` ([`sftp::FileTransport::from_env`]).
    fn default() -> Self {
        ConnState {
            learned: Default::default(),
            execs: Default::default(),
            sftp: Default::default(),
            file_transport: std::sync::atomic::AtomicU8::new(sftp::FileTransport::from_env().code()),
            askpass_used: Default::default(),
        }
    }
}

/// An open connection to one host. Cheap to share (`&Connection` across tasks of that host).
pub enum Connection {
    Ssh(ssh::SshConnection),
    Local(local::LocalConnection),
}

impl Connection {
    /// Opens the connection described by `spec` (checking the host key for SSH).
    pub async fn open(spec: &ConnectSpec) -> Result<Connection, TransportError> {
        match spec.kind {
            ConnectionKind::Local => Ok(Connection::Local(local::LocalConnection::new(&spec.name))),
            ConnectionKind::Ssh => Ok(Connection::Ssh(ssh::SshConnection::connect(spec).await?)),
        }
    }

    /// The connection described by `spec`, not opened yet: an SSH session opens (and checks
    /// the host key) on the first command ([`ssh::SshConnection::lazy`]), so a host that cannot
    /// be reached is unreachable for the first task that needs it, as in ansible-core.
    pub fn lazy(spec: &ConnectSpec) -> Connection {
        match spec.kind {
            ConnectionKind::Local => Connection::Local(local::LocalConnection::new(&spec.name)),
            ConnectionKind::Ssh => Connection::Ssh(ssh::SshConnection::lazy(spec)),
        }
    }

    /// Runs one command and waits for it to end, collecting stdout and stderr.
    /// A non-zero exit is not an error here: it is in [`ExecOutput::status`].
    pub async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, TransportError> {
        self.state()
            .execs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if req.become_.as_ref().is_some_and(|b| b.password.is_some()) {
            self.state()
                .askpass_used
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let _changing = (!req.pure).then(|| self.state().sftp.ahead.changing());
        match self {
            Connection::Ssh(c) => c.exec(req).await,
            Connection::Local(c) => c.exec(req).await,
        }
    }

    fn state(&self) -> &ConnState {
        match self {
            Connection::Ssh(c) => &c.state,
            Connection::Local(c) => &c.state,
        }
    }

    /// What the file primitives learned about this host so far (see [`files::Learned`]).
    pub fn learned(&self) -> &std::sync::Mutex<files::Learned> {
        &self.state().learned
    }

    /// How many commands ([`Connection::exec`] calls, i.e. round trips) ran on this connection
    /// so far: tests and profiles count a module's round trips with it.
    pub fn exec_count(&self) -> u64 {
        self.state().execs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many SFTP requests were sent on this connection so far (every `stat`, `read`, `write`,
    /// ... on the SFTP channel, and its start): with [`Connection::exec_count`], what a module
    /// costs on the wire.
    pub fn sftp_request_count(&self) -> u64 {
        self.state()
            .sftp
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The file transport this connection's file primitives use (see [`sftp::FileTransport`]).
    pub fn file_transport(&self) -> sftp::FileTransport {
        sftp::FileTransport::from_code(
            self.state()
                .file_transport
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Chooses the file transport for this connection (tests run both paths with it; the
    /// default comes from `TALON_FILE_TRANSPORT`).
    pub fn set_file_transport(&self, t: sftp::FileTransport) {
        self.state()
            .file_transport
            .store(t.code(), std::sync::atomic::Ordering::Relaxed);
    }

    /// The SFTP session the file primitives may use now: on an SSH connection whose server has
    /// the subsystem (opened on first use, kept for the connection, asked for once per
    /// connection), or a local `sftp-server` for a local connection forced to
    /// [`sftp::FileTransport::Sftp`]. `None`: use the shell.
    pub async fn sftp(&self) -> Option<std::sync::Arc<sftp::SftpFs>> {
        let counter = self.state().sftp.clone();
        match (self, self.file_transport()) {
            (_, sftp::FileTransport::Shell) | (Connection::Local(_), sftp::FileTransport::Auto) => None,
            (Connection::Local(c), sftp::FileTransport::Sftp) => c.sftp(counter).await,
            (Connection::Ssh(c), _) => c.sftp(counter).await,
        }
    }

    /// The SFTP session [`Connection::sftp`] would give, only when it is already open (never
    /// connects or opens a channel): what reads ahead go on.
    pub fn sftp_started(&self) -> Option<std::sync::Arc<sftp::SftpFs>> {
        match (self, self.file_transport()) {
            (_, sftp::FileTransport::Shell) | (Connection::Local(_), sftp::FileTransport::Auto) => None,
            (Connection::Local(c), sftp::FileTransport::Sftp) => c.sftp_started(),
            (Connection::Ssh(c), _) => c.sftp_started(),
        }
    }

    /// The answers read ahead on this connection (see [`read_ahead`]).
    pub fn read_ahead(&self) -> &read_ahead::ReadAhead {
        &self.state().sftp.ahead
    }

    /// The user this connection logs in as (for SSH), or runs as (local): a `become` to this
    /// user sees the host as the connection does.
    pub fn login_user(&self) -> String {
        match self {
            Connection::Ssh(c) => c.login_user(),
            Connection::Local(_) => std::env::var("USER").unwrap_or_default(),
        }
    }

    /// Resets the connection as ansible-core's `meta: reset_connection` does: the SSH session
    /// is closed and the next command opens a new one (checking the host key again). What the
    /// file primitives learned about the host is forgotten. A local connection has nothing to
    /// reset.
    pub async fn reset(&self) {
        self.forget();
        if let Connection::Ssh(c) = self {
            c.reset().await;
        }
    }

    /// Closes the SSH session and opens a new one now (`reboot`, `wait_for_connection`), with
    /// `connect_timeout` instead of the host's when given. Errors as [`Connection::open`]; the
    /// connection stays reset then, and the next command tries again.
    pub async fn reconnect(&self, connect_timeout: Option<Duration>) -> Result<(), TransportError> {
        self.forget();
        match self {
            Connection::Ssh(c) => c.reconnect(connect_timeout).await,
            Connection::Local(_) => Ok(()),
        }
    }

    /// True for `ansible_connection: local`.
    pub fn is_local(&self) -> bool {
        matches!(self, Connection::Local(_))
    }

    fn forget(&self) {
        self.read_ahead().changed();
        if let Ok(mut l) = self.state().learned.lock() {
            *l = files::Learned::default();
        }
    }

    /// Closes the connection politely, first removing this run's askpass directory from the
    /// host when a become password was used (see [`quote::askpass_cleanup`]; failures ignored:
    /// it holds no secret).
    pub async fn close(&self) {
        let (sent, used) = self.read_ahead().counts();
        if sent > 0 {
            tracing::debug!(target: "talon::transport::read_ahead", "answers read ahead: {sent} sent, {used} used");
        }
        if self
            .state()
            .askpass_used
            .load(std::sync::atomic::Ordering::Relaxed)
            && !matches!(self, Connection::Ssh(c) if !c.is_open())
            && let Some(cleanup) = quote::askpass_cleanup()
        {
            let _ = self.exec(&ExecRequest::shell(cleanup)).await;
        }
        if let Connection::Ssh(c) = self {
            c.close().await;
        }
    }
}
