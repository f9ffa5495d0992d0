//! `talon lab`: disposable Debian hosts in Docker containers running a real OpenSSH `sshd`.
//!
//! Tests, the README demo, the benchmark against `ansible-playbook` and users trying a role all
//! need real hosts that cost nothing to throw away. A lab is a folder (default `.talon/lab`)
//! holding a client key, a `known_hosts` with every host's key, an Ansible YAML inventory and an
//! ssh_config, plus N containers named `talon-lab-<id>-<i>` and labelled `talon.lab=<folder>`.
//!
//! Safety: every host gets its own ed25519 host key generated here, so clients check host keys
//! from the first connection (no trust on first use); keys are copied into a created container
//! with `docker cp` before it starts (no bind mounts of secrets, nothing baked into the image);
//! `sshd` accepts keys only; ports are published on 127.0.0.1 only.
//!
//! The image (`talon-lab:bookworm`) is built without a registry: from a root filesystem made
//! once by `debootstrap` (cached as a tarball under `~/.cache/talon/lab/`) and `docker import`ed,
//! or from `debian:bookworm` if that image is already present. The recipe lives in `lab/`.
//!
//! Extras (`talon lab up --docker` / `--systemd` / `--net-admin` / `--extras`) use a second
//! image, `talon-lab:bookworm-extras`, built from the first with Debian packages (Docker CLI,
//! Compose v1, systemd, dbus, iptables, ipset, cron, curl, git, unzip, ufw, python3-pip,
//! python3-venv), so hosts without extras keep the small image and start
//! exactly as before. `--docker` bind-mounts the controller machine's Docker socket: every lab
//! host drives the same engine. `--systemd` boots
//! `/lib/systemd/systemd` as PID 1; on Docker 20.10 with cgroup v1 (cgroupfs driver) it needs
//! only `--tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro` (no `--privileged`,
//! no added capabilities). Without the tmpfs mounts systemd exits with "Failed to mount API
//! filesystems"; without the cgroup mount with "Failed to allocate manager object". No `--init`.
//!
//! `--net-admin` (extras image: iptables, ipset) adds the capability `NET_ADMIN` and nothing
//! else, so a host can change its own firewall (`iptables`, `ipset`). A container has its own
//! network namespace: its rules filter only traffic to and from that host, never the machine's
//! (its INPUT, FORWARD or `DOCKER-USER` chains stay untouched). `--systemd` does not grant it.

mod container;
mod image;
mod render;
#[cfg(test)]
mod tests;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use container::*;
use image::*;
pub use image::{ensure_extras_image, ensure_image};
use render::*;

/// The tag of the lab host image that [`ensure_image`] builds.
pub const IMAGE_TAG: &str = "talon-lab:bookworm";

/// The tag of the lab host image with extras that [`ensure_extras_image`] builds from
/// [`IMAGE_TAG`]: Docker CLI, `docker-compose` (v1) and systemd.
pub const EXTRAS_IMAGE_TAG: &str = "talon-lab:bookworm-extras";

/// `lab_port_base` of host `labI` is `PORT_BASE_START + PORT_BASE_STEP * I`: a block of
/// [`PORT_BASE_STEP`] host ports per lab host that its Docker workloads may publish without
/// colliding with another lab host's (they share one engine under `--docker`).
pub const PORT_BASE_START: u32 = 20000;

/// See [`PORT_BASE_START`].
pub const PORT_BASE_STEP: u32 = 100;

/// Where a `--docker` lab host finds the engine's socket (the Docker CLI's default).
const DOCKER_SOCKET_IN_HOST: &str = "/var/run/docker.sock";

/// `--docker`: per-host folders under the lab dir, mounted at the same path in each host
/// (`lab_shared_dir`), for files the shared engine must bind-mount.
const SHARED_DIR: &str = "shared";

/// The controller's engine socket when `DOCKER_HOST` is not set.
const DEFAULT_DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// The tag of the imported debootstrap root filesystem the lab image is built from.
pub const BASE_IMAGE_TAG: &str = "talon-lab-base:bookworm";

/// Used as the base instead of debootstrap when it is already present locally.
const DEBIAN_IMAGE: &str = "debian:bookworm";

/// Docker label whose value is the canonical lab folder; [`down`] removes by it.
pub const LABEL: &str = "talon.lab";

/// Image label holding a hash of the recipe in `lab/`, so a changed recipe rebuilds the image.
const RECIPE_LABEL: &str = "talon.lab.recipe";

/// Login user with sudo rights that require its password ([`DEPLOY_PASSWORD`]).
pub const DEPLOY_USER: &str = "deploy";

/// The sudo password of [`DEPLOY_USER`] on every lab host: a published fixture, not a secret.
pub const DEPLOY_PASSWORD: &str = "deploy-lab-pass";

/// Login user with password-less sudo (`NOPASSWD: ALL`).
pub const NOPW_USER: &str = "nopw";

/// The largest `--count` accepted (each host is one container and one published port).
pub const MAX_HOSTS: usize = 250;

const DOCKERFILE: &str = include_str!("../../lab/Dockerfile");

const ENTRYPOINT: &str = include_str!("../../lab/entrypoint.sh");

const SSHD_CONFIG: &str = include_str!("../../lab/sshd_config");

const DOCKERFILE_EXTRAS: &str = include_str!("../../lab/Dockerfile.extras");

/// Packages debootstrap adds to the `minbase` variant (the Dockerfile checks the same tools).
const PACKAGES: &[&str] = &[
    "openssh-server",
    "python3",
    "sudo",
    "procps",
    "iproute2",
    "ca-certificates",
];

const SUITE: &str = "bookworm";

/// Default Debian mirror; `TALON_LAB_MIRROR` overrides it.
const MIRROR: &str = "http://deb.debian.org/debian";

/// File that marks a folder as written by `talon lab`; without it [`up`] refuses to overwrite.
const MARKER: &str = ".talon-lab";

const KEY_FILE: &str = "id_ed25519";

const INVENTORY_FILE: &str = "inventory.yml";

const KNOWN_HOSTS_FILE: &str = "known_hosts";

const SSH_CONFIG_FILE: &str = "ssh_config";

/// Every file [`up`] writes into the lab folder (besides [`MARKER`]).
const LAB_FILES: [&str; 5] = [
    INVENTORY_FILE,
    KNOWN_HOSTS_FILE,
    SSH_CONFIG_FILE,
    KEY_FILE,
    "id_ed25519.pub",
];

/// How long one host may take from `docker start` to answering with an SSH banner.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How many hosts are created and started at once (the Docker daemon serialises much of it).
const WORKERS: usize = 8;

/// Uid/gid of the users the Dockerfile creates.
const DEPLOY_UID: u32 = 1000;

const NOPW_UID: u32 = 1001;

/// What can go wrong bringing a lab up or down. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The `docker` command is not installed.
    #[error(
        "`docker` was not found on PATH: install Docker (e.g. `apt-get install docker.io`) to use `talon lab`"
    )]
    DockerMissing,
    /// A `docker` command failed; `message` is its stderr (and output tail for builds).
    #[error("`docker {action}` failed: {message}")]
    Docker { action: String, message: String },
    /// `debootstrap` is needed to build the base image and is not installed.
    #[error(
        "`debootstrap` was not found: install it with `apt-get install debootstrap` (needed once, to build \
         the lab image without a container registry)"
    )]
    DebootstrapMissing,
    /// debootstrap ran and failed; its full output is in `log`.
    #[error("debootstrap failed ({status}); full log in {log}:\n{tail}")]
    Debootstrap {
        status: String,
        log: PathBuf,
        tail: String,
    },

    /// Another helper program (`ssh-keygen`, `tar`) failed or is missing.
    #[error("`{program}` failed: {message}")]
    Tool { program: String, message: String },
    /// Reading or writing a file of the lab or the image cache failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The lab folder holds files `talon lab` did not write (a marker file is missing).
    #[error(
        "{} already holds {file} but was not created by `talon lab` (no {MARKER} file): choose another \
         --dir, or remove that file",
        dir.display()
    )]
    ForeignDir { dir: PathBuf, file: String },
    /// `--count` out of range.
    #[error("a lab has 1 to {MAX_HOSTS} hosts, not {0}")]
    BadCount(usize),
    /// No home or cache folder to keep the image build cache in.
    #[error("no cache folder for the lab image: set HOME or XDG_CACHE_HOME")]
    NoCacheDir,
    /// `docker port` gave something that is not `ADDRESS:PORT`.
    #[error("could not read the published SSH port of container {container} from `docker port`: {output:?}")]
    NoPort { container: String, output: String },
    /// `--docker` needs the engine's unix socket on this machine, and it is not there.
    #[error(
        "`talon lab up --docker` shares this machine's Docker engine through its unix socket, but {reason}: \
         run the lab where the Docker engine runs (with DOCKER_HOST unset or `unix://PATH`)"
    )]
    DockerSocket { reason: String },
    /// A host's sshd did not answer in time; `log` is the tail of `docker logs`.
    #[error(
        "lab host {host} (127.0.0.1:{port}) did not answer with an SSH banner within {}s: {last_error}\n\
         container log:\n{log}",
        waited.as_secs()
    )]
    NotReady {
        host: String,
        port: u16,
        waited: Duration,
        last_error: String,
        log: String,
    },
}

/// What [`up`] builds: where the lab lives, how many hosts it has and what they can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabOptions {
    /// The lab folder (created if missing). Default `.talon/lab`.
    pub dir: PathBuf,
    /// Number of hosts, 1..=[`MAX_HOSTS`]. Default 3.
    pub count: usize,
    /// Share this machine's Docker engine with every host: its socket is bind-mounted at
    /// `/var/run/docker.sock` and the hosts have `docker` and `docker-compose` (v1). Images,
    /// containers, networks and published ports are the engine's, so they are shared by all
    /// hosts (see [`PORT_BASE_START`]). Default false.
    pub docker: bool,
    /// Boot systemd as PID 1 (sshd runs as `ssh.service`), so `systemctl` and the
    /// systemd/service modules work for real. Default false.
    pub systemd: bool,
    /// Add the `NET_ADMIN` capability, so `iptables`/`ipset` work inside each host (on the
    /// host's own network namespace only). Default false.
    pub net_admin: bool,
    /// Start from the extras image (see [`ensure_extras_image`]) even without `docker`,
    /// `systemd` or `net_admin`: hosts with `curl`, `git`, `unzip`, `cron`, ... and nothing
    /// else changed. Default false.
    pub extras: bool,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            dir: PathBuf::from(".talon/lab"),
            count: 3,
            docker: false,
            systemd: false,
            net_admin: false,
            extras: false,
        }
    }
}

/// One running lab host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabHost {
    /// Inventory name and container hostname: `lab1`, `lab2`, ...
    pub name: String,
    /// The port on 127.0.0.1 that Docker forwards to the container's port 22.
    pub port: u16,
    /// The container name, `talon-lab-<id>-<i>`.
    pub container: String,
}

/// A lab that is up: its files (all absolute paths) and hosts, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabInfo {
    /// The canonical lab folder.
    pub dir: PathBuf,
    /// `DIR/inventory.yml`: Ansible YAML inventory, group `lab`.
    pub inventory: PathBuf,
    /// `DIR/id_ed25519` (0600): the client key every lab user accepts; `.pub` beside it.
    pub key: PathBuf,
    /// `DIR/known_hosts`: `[127.0.0.1]:PORT ssh-ed25519 ...` for every host.
    pub known_hosts: PathBuf,
    /// `DIR/ssh_config`: `ssh -F DIR/ssh_config lab1` logs in as root.
    pub ssh_config: PathBuf,
    /// The hosts, `lab1` first.
    pub hosts: Vec<LabHost>,
    /// Whether the hosts share this machine's Docker engine ([`LabOptions::docker`]).
    pub docker: bool,
    /// Whether the hosts run systemd as PID 1 ([`LabOptions::systemd`]).
    pub systemd: bool,
    /// Whether the hosts have `NET_ADMIN` ([`LabOptions::net_admin`]).
    pub net_admin: bool,
}

/// What a user needs after `talon lab up`: the hosts and how to reach them, one item a line.
impl std::fmt::Display for LabInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for host in &self.hosts {
            writeln!(
                f,
                "{:<6} 127.0.0.1:{:<5}  {}",
                host.name, host.port, host.container
            )?;
        }
        writeln!(f, "inventory:   {}", self.inventory.display())?;
        writeln!(f, "key:         {}", self.key.display())?;
        writeln!(f, "known_hosts: {}", self.known_hosts.display())?;
        writeln!(f, "log in:      ssh -F {} lab1", self.ssh_config.display())?;
        if self.docker {
            writeln!(
                f,
                "docker:      this machine's engine (shared by all hosts; use lab_port_base for ports)"
            )?;
        }
        if self.systemd {
            writeln!(f, "systemd:     PID 1 on every host")?;
        }
        if self.net_admin {
            writeln!(
                f,
                "net-admin:   iptables/ipset work on every host (its own network namespace)"
            )?;
        }
        write!(
            f,
            "users:       root (key), {DEPLOY_USER} (sudo password {DEPLOY_PASSWORD}), {NOPW_USER} (sudo, no password)"
        )
    }
}

/// Brings up a lab of `opts.count` hosts in `opts.dir` and returns where everything is.
///
/// Replaces a lab that already lives in the same folder (its containers are removed, a fresh
/// client key is generated). Builds the image first if needed ([`ensure_image`]). With `docker` or
/// `systemd` the hosts use [`EXTRAS_IMAGE_TAG`] ([`ensure_extras_image`]). Returns once
/// every host's sshd answers with an SSH banner; on any failure the containers made so far are
/// removed again.
///
/// Errors: [`LabError::BadCount`], [`LabError::ForeignDir`] when the folder holds files of the
/// same names that `talon lab` did not write, [`LabError::DockerSocket`] (`docker` without a
/// local engine socket), Docker/ssh-keygen failures, [`LabError::NotReady`].
pub fn up(opts: &LabOptions) -> Result<LabInfo, LabError> {
    if opts.count == 0 || opts.count > MAX_HOSTS {
        return Err(LabError::BadCount(opts.count));
    }
    let docker_socket = if opts.docker { Some(docker_socket()?) } else { None };
    fs::create_dir_all(&opts.dir).map_err(io_err(&opts.dir))?;
    let dir = fs::canonicalize(&opts.dir).map_err(io_err(&opts.dir))?;
    check_ours(&dir)?;
    let image = if opts.docker || opts.systemd || opts.net_admin || opts.extras {
        ensure_extras_image()?
    } else {
        ensure_image()?
    };
    write_atomic(&dir.join(MARKER), MARKER_TEXT.as_bytes(), 0o644)?;
    remove_containers(&dir)?;
    // The old lab's files name ports that are gone; none must survive a failed `up`.
    for name in [INVENTORY_FILE, KNOWN_HOSTS_FILE, SSH_CONFIG_FILE] {
        remove_file_if_exists(&dir.join(name))?;
    }

    let key = dir.join(KEY_FILE);
    let client_pub = keygen(&key, "talon-lab")?;
    let host_keys = tempfile::tempdir().map_err(io_err(Path::new("temporary folder")))?;
    let id = lab_id(&dir);
    let label = format!("{LABEL}={}", dir.to_string_lossy());
    let indexes: Vec<usize> = (1..=opts.count).collect();
    let results = parallel_map(&indexes, WORKERS, |&i| {
        start_host(&HostPlan {
            name: format!("lab{i}"),
            container: format!("talon-lab-{id}-{i}"),
            image: &image,
            label: &label,
            client_pub: &client_pub,
            key_dir: host_keys.path(),
            docker_socket: docker_socket.as_deref(),
            shared_dir: opts.docker.then(|| dir.join(SHARED_DIR).join(format!("lab{i}"))),
            systemd: opts.systemd,
            net_admin: opts.net_admin,
        })
    });
    let mut hosts = Vec::with_capacity(results.len());
    let mut host_pubs = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok((host, host_pub)) => {
                hosts.push(host);
                host_pubs.push(host_pub);
            }
            Err(e) => {
                if let Err(cleanup) = remove_containers(&dir) {
                    tracing::warn!("removing the half-built lab failed: {cleanup}");
                }
                return Err(e);
            }
        }
    }

    let info = LabInfo {
        inventory: dir.join(INVENTORY_FILE),
        known_hosts: dir.join(KNOWN_HOSTS_FILE),
        ssh_config: dir.join(SSH_CONFIG_FILE),
        key,
        hosts,
        dir,
        docker: opts.docker,
        systemd: opts.systemd,
        net_admin: opts.net_admin,
    };
    write_atomic(
        &info.known_hosts,
        render_known_hosts(&info.hosts, &host_pubs).as_bytes(),
        0o644,
    )?;
    write_atomic(&info.inventory, render_inventory(&info).as_bytes(), 0o644)?;
    write_atomic(&info.ssh_config, render_ssh_config(&info).as_bytes(), 0o644)?;
    Ok(info)
}

/// Removes the lab in `dir`: exactly the containers labelled `talon.lab=<canonical dir>`, then
/// the files [`up`] wrote (only if the folder carries the `talon lab` marker), then the folder
/// if it is left empty. Returns how many containers were removed; 0 when there was no lab.
///
/// Errors: Docker failures (not running, permission denied), file removal failures.
pub fn down(dir: &Path) -> Result<usize, LabError> {
    let dir = fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .map_err(io_err(dir))?;
    let removed = remove_containers(&dir)?;
    if dir.join(MARKER).is_file() {
        for name in LAB_FILES.iter().chain([&MARKER]) {
            remove_file_if_exists(&dir.join(name))?;
        }
        let shared = dir.join(SHARED_DIR);
        if shared.is_dir() {
            fs::remove_dir_all(&shared).map_err(io_err(&shared))?;
        }
        // Only succeeds when nothing else is in the folder; anything else stays.
        let _ = fs::remove_dir(&dir);
    }
    Ok(removed)
}

/// Runs `f` over `items` on up to `workers` threads; results keep the order of `items`.
fn parallel_map<T: Sync, R: Send>(items: &[T], workers: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..workers.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = f(item);
                    slots.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Runs `docker ARGS` (stdin from `input` if given) and returns its stdout.
fn docker(args: &[&str], input: Option<&[u8]>) -> Result<String, LabError> {
    let out = run_tool("docker", args, input, &[]).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => LabError::DockerMissing,
        _ => LabError::Docker {
            action: args.join(" "),
            message: e.to_string(),
        },
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(LabError::Docker {
            action: args.join(" "),
            message: tool_failure(&out),
        })
    }
}

/// Runs a program to completion with captured stdout/stderr.
fn run_tool<S: AsRef<OsStr>>(
    program: &str,
    args: &[S],
    input: Option<&[u8]>,
    env: &[(&str, &str)],
) -> io::Result<Output> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        // Write on a thread so a child that fills its stdout pipe first cannot deadlock us.
        let bytes = bytes.to_vec();
        let writer = thread::spawn(move || stdin.write_all(&bytes));
        let out = child.wait_with_output()?;
        writer
            .join()
            .map_err(|_| io::Error::other("stdin writer thread panicked"))??;
        return Ok(out);
    }
    child.wait_with_output()
}

/// The exit status and the last lines of stderr (or stdout when stderr is empty).
fn tool_failure(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let text = if stderr.trim().is_empty() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        stderr.into_owned()
    };
    format!("{} ({})", tail(&text, 30).trim_end(), out.status)
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Removes a file if it exists.
fn remove_file_if_exists(path: &Path) -> Result<(), LabError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Removes a folder tree if it exists.
fn remove_tree(path: &Path) -> Result<(), LabError> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Removes everything inside `dir`, keeping `dir` itself; fine if `dir` does not exist.
fn empty_dir(dir: &Path) -> Result<(), LabError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for entry in entries {
        let path = entry.map_err(io_err(dir))?.path();
        let result = if path.is_dir() && !path.is_symlink() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        result.map_err(io_err(&path))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, with
/// permission bits `mode`.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), LabError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(io_err(parent))?;
    tmp.write_all(bytes).map_err(io_err(path))?;
    set_mode(tmp.path(), mode)?;
    tmp.persist(path).map_err(|e| io_err(path)(e.error))?;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), LabError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_err(path))
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LabError + '_ {
    move |source| LabError::Io {
        path: path.to_path_buf(),
        source,
    }
}
