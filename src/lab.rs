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
//! Extras (`talon lab up --docker` / `--systemd` / `--net-admin`) use a second image,
//! `talon-lab:bookworm-extras`, built from the first with Debian packages (Docker CLI, Compose
//! v1, systemd, dbus, iptables, ipset), so hosts without extras keep the small image and start
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

const DOCKERFILE: &str = include_str!("../lab/Dockerfile");
const ENTRYPOINT: &str = include_str!("../lab/entrypoint.sh");
const SSHD_CONFIG: &str = include_str!("../lab/sshd_config");
const DOCKERFILE_EXTRAS: &str = include_str!("../lab/Dockerfile.extras");
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
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            dir: PathBuf::from(".talon/lab"),
            count: 3,
            docker: false,
            systemd: false,
            net_admin: false,
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
    let image = if opts.docker || opts.systemd || opts.net_admin {
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

/// Makes sure the lab image exists and matches the recipe in `lab/`; returns its tag,
/// [`IMAGE_TAG`].
///
/// Order of preference for the base: the imported debootstrap image [`BASE_IMAGE_TAG`], then
/// `debian:bookworm` if present, then a cached root filesystem tarball
/// (`$XDG_CACHE_HOME/talon/lab/bookworm-rootfs.tar`, default `~/.cache/...`), and last a fresh
/// `debootstrap --variant=minbase` (about a minute with a nearby mirror; `TALON_LAB_MIRROR`
/// overrides `http://deb.debian.org/debian`). Never pulls from a registry. Safe to call from
/// several threads and processes at once (a lock file serialises builds).
///
/// Errors: [`LabError::DockerMissing`], [`LabError::DebootstrapMissing`],
/// [`LabError::Debootstrap`], Docker build/import failures.
pub fn ensure_image() -> Result<String, LabError> {
    let recipe = recipe_hash(&[DOCKERFILE, ENTRYPOINT, SSHD_CONFIG]);
    ensure_built(IMAGE_TAG, &recipe, DOCKERFILE, base_image)
}

/// Makes sure the lab image with extras exists and matches the recipe in `lab/` (both
/// Dockerfiles); returns its tag, [`EXTRAS_IMAGE_TAG`]. Builds [`IMAGE_TAG`] first if needed
/// ([`ensure_image`]), then installs Debian packages on top of it (`docker.io` for the CLI,
/// `docker-compose`, `systemd`, `dbus`: about 20 s with a nearby mirror, ~300 MB more). No
/// registry is asked.
///
/// Errors: those of [`ensure_image`]; a failed `docker build` (e.g. the Debian mirror is not
/// reachable) as [`LabError::Docker`] with the end of the build output.
pub fn ensure_extras_image() -> Result<String, LabError> {
    let base = ensure_image()?;
    let recipe = recipe_hash(&[DOCKERFILE, ENTRYPOINT, SSHD_CONFIG, DOCKERFILE_EXTRAS]);
    ensure_built(EXTRAS_IMAGE_TAG, &recipe, DOCKERFILE_EXTRAS, |_| Ok(base))
}

/// Builds `tag` from `dockerfile` unless an image of that tag carries the label `recipe` already.
/// `base` picks the `FROM` image (called only when a build is needed, under the build lock).
fn ensure_built(
    tag: &str,
    recipe: &str,
    dockerfile: &str,
    base: impl FnOnce(&Path) -> Result<String, LabError>,
) -> Result<String, LabError> {
    static IN_PROCESS: Mutex<()> = Mutex::new(());
    let _guard = IN_PROCESS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if image_label(tag, RECIPE_LABEL)?.as_deref() == Some(recipe) {
        return Ok(tag.to_string());
    }
    let cache = cache_dir()?;
    fs::create_dir_all(&cache).map_err(io_err(&cache))?;
    let lock_path = cache.join("image.lock");
    let lock = fs::File::create(&lock_path).map_err(io_err(&lock_path))?;
    lock.lock().map_err(io_err(&lock_path))?;
    // Another process may have built it while this one waited for the lock.
    if image_label(tag, RECIPE_LABEL)?.as_deref() == Some(recipe) {
        return Ok(tag.to_string());
    }
    let base = base(&cache)?;
    let previous = image_id(tag)?;
    build_image(&base, tag, dockerfile, recipe)?;
    if let Some(old) = previous.filter(|old| image_id(tag).ok().flatten().as_ref() != Some(old)) {
        // The outdated image is now untagged; containers of an old lab may still use it.
        if let Err(e) = docker(&["image", "rm", &old], None) {
            tracing::debug!("keeping the previous lab image {old}: {e}");
        }
    }
    Ok(tag.to_string())
}

/// The engine socket `--docker` bind-mounts: the path in `DOCKER_HOST=unix://PATH`, else
/// `/var/run/docker.sock`. It must be a socket on this machine (the daemon resolves the bind
/// mount on its own machine, so a remote engine cannot be shared this way).
fn docker_socket() -> Result<PathBuf, LabError> {
    use std::os::unix::fs::FileTypeExt;
    let path = match std::env::var("DOCKER_HOST") {
        Ok(host) if !host.is_empty() => match host.strip_prefix("unix://") {
            Some(path) => PathBuf::from(path),
            None => {
                return Err(LabError::DockerSocket {
                    reason: format!("DOCKER_HOST is {host:?}, not a unix socket"),
                });
            }
        },
        _ => PathBuf::from(DEFAULT_DOCKER_SOCKET),
    };
    match fs::metadata(&path) {
        Ok(meta) if meta.file_type().is_socket() => Ok(path),
        Ok(_) => Err(LabError::DockerSocket {
            reason: format!("{} is not a socket", path.display()),
        }),
        Err(e) => Err(LabError::DockerSocket {
            reason: format!("{}: {e}", path.display()),
        }),
    }
}

const MARKER_TEXT: &str = "This folder is a talon lab: `talon lab down --dir <this folder>` removes it.\n";

/// Refuses a folder whose lab file names are taken by files `talon lab` did not write.
fn check_ours(dir: &Path) -> Result<(), LabError> {
    if dir.join(MARKER).exists() {
        return Ok(());
    }
    for name in LAB_FILES {
        if dir.join(name).exists() {
            return Err(LabError::ForeignDir {
                dir: dir.to_path_buf(),
                file: name.to_string(),
            });
        }
    }
    Ok(())
}

/// Everything one worker needs to create and start one host.
struct HostPlan<'a> {
    name: String,
    container: String,
    image: &'a str,
    label: &'a str,
    client_pub: &'a str,
    key_dir: &'a Path,
    /// The engine socket to bind-mount at [`DOCKER_SOCKET_IN_HOST`] (`--docker`).
    docker_socket: Option<&'a Path>,
    /// `--docker`: a controller folder mounted at the same path inside the host, so that bind
    /// mounts of compose projects kept there resolve identically for the shared engine.
    shared_dir: Option<PathBuf>,
    /// Boot systemd as PID 1 instead of the image's sshd entrypoint.
    systemd: bool,
    /// `--cap-add NET_ADMIN` (the host's own firewall).
    net_admin: bool,
}

/// The `docker create` arguments of one host, up to and including the image.
fn create_args(plan: &HostPlan<'_>) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "create".into(),
        "--name".into(),
        plan.container.clone(),
        "--label".into(),
        plan.label.to_string(),
        "--label".into(),
        format!("{LABEL}.host={}", plan.name),
        format!("--hostname={}", plan.name),
        "-p".into(),
        "127.0.0.1::22".into(),
    ];
    if plan.systemd {
        // The minimum that boots systemd 252 on cgroup v1 here (see the module doc). systemd is
        // PID 1 itself, so no `--init`; it shuts down cleanly on SIGRTMIN+3.
        args.extend(
            [
                "--tmpfs",
                "/run",
                "--tmpfs",
                "/run/lock",
                "-v",
                "/sys/fs/cgroup:/sys/fs/cgroup:ro",
                "-e",
                "container=docker",
                "--stop-signal",
                "SIGRTMIN+3",
                "--entrypoint",
                "/lib/systemd/systemd",
            ]
            .map(String::from),
        );
    } else {
        args.push("--init".into());
    }
    if plan.net_admin {
        args.push("--cap-add=NET_ADMIN".into());
    }
    if let Some(socket) = plan.docker_socket {
        args.push("-v".into());
        args.push(format!("{}:{DOCKER_SOCKET_IN_HOST}", socket.to_string_lossy()));
    }
    if let Some(shared) = &plan.shared_dir {
        let p = shared.to_string_lossy();
        args.push("-v".into());
        args.push(format!("{p}:{p}"));
    }
    args.push(plan.image.to_string());
    args
}

/// Creates, provisions and starts one container and waits for its sshd. Returns the host and
/// its public host key (`ssh-ed25519 AAAA...`).
fn start_host(plan: &HostPlan<'_>) -> Result<(LabHost, String), LabError> {
    let key_dir = plan.key_dir.join(&plan.name);
    fs::create_dir_all(&key_dir).map_err(io_err(&key_dir))?;
    let host_key = key_dir.join("ssh_host_ed25519_key");
    let host_pub = keygen(&host_key, &format!("root@{}", plan.name))?;
    let host_secret = fs::read(&host_key).map_err(io_err(&host_key))?;

    if let Some(shared) = &plan.shared_dir {
        fs::create_dir_all(shared).map_err(io_err(shared))?;
    }
    let args = create_args(plan);
    docker(&args.iter().map(String::as_str).collect::<Vec<_>>(), None)?;

    let authorized = format!("{}\n", plan.client_pub);
    let pub_line = format!("{host_pub}\n");
    let archive = tar_archive(&[
        TarEntry::file("etc/ssh/ssh_host_ed25519_key", 0o600, 0, &host_secret),
        TarEntry::file("etc/ssh/ssh_host_ed25519_key.pub", 0o644, 0, pub_line.as_bytes()),
        TarEntry::file("root/.ssh/authorized_keys", 0o600, 0, authorized.as_bytes()),
        TarEntry::file(
            "home/deploy/.ssh/authorized_keys",
            0o600,
            DEPLOY_UID,
            authorized.as_bytes(),
        ),
        TarEntry::file(
            "home/nopw/.ssh/authorized_keys",
            0o600,
            NOPW_UID,
            authorized.as_bytes(),
        ),
    ]);
    let target = format!("{}:/", plan.container);
    docker(&["cp", "--archive", "-", &target], Some(&archive))?;
    docker(&["start", &plan.container], None)?;
    let port_out = docker(&["port", &plan.container, "22/tcp"], None)?;
    let port = parse_port(&port_out).ok_or_else(|| LabError::NoPort {
        container: plan.container.clone(),
        output: port_out.clone(),
    })?;
    wait_for_banner(&plan.name, &plan.container, port)?;
    Ok((
        LabHost {
            name: plan.name.clone(),
            port,
            container: plan.container.clone(),
        },
        host_pub,
    ))
}

/// Waits until 127.0.0.1:`port` answers with an `SSH-` banner. Docker's proxy accepts TCP even
/// before sshd listens (and then closes), so a TCP connect alone proves nothing.
fn wait_for_banner(host: &str, container: &str, port: u16) -> Result<(), LabError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    let mut last_error;
    loop {
        match read_banner(&addr) {
            Ok(()) => return Ok(()),
            Err(e) => last_error = e,
        }
        if start.elapsed() > READY_TIMEOUT {
            let log = docker(&["logs", "--tail", "20", container], None)
                .unwrap_or_else(|e| format!("(docker logs failed: {e})"));
            return Err(LabError::NotReady {
                host: host.to_string(),
                port,
                waited: start.elapsed(),
                last_error,
                log,
            });
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Connects once and reads the server's first line; Ok if it starts with `SSH-`.
fn read_banner(addr: &SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 256];
    let mut got = 0;
    while got < buf.len() {
        let n = stream.read(&mut buf[got..]).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the SSH banner".to_string());
        }
        got += n;
        if buf[..got].contains(&b'\n') {
            break;
        }
    }
    if buf[..got].starts_with(b"SSH-") {
        Ok(())
    } else {
        Err(format!(
            "unexpected greeting {:?}",
            String::from_utf8_lossy(&buf[..got])
        ))
    }
}

/// Removes every container labelled with this lab's folder; returns how many.
fn remove_containers(dir: &Path) -> Result<usize, LabError> {
    let filter = format!("label={LABEL}={}", dir.to_string_lossy());
    let listed = docker(&["ps", "--all", "--quiet", "--filter", &filter], None)?;
    let ids: Vec<&str> = listed.split_whitespace().collect();
    if ids.is_empty() {
        return Ok(0);
    }
    // `docker rm` of many containers is mostly waiting on the daemon: a few in parallel.
    let chunks: Vec<&[&str]> = ids.chunks(ids.len().div_ceil(WORKERS)).collect();
    let results = parallel_map(&chunks, WORKERS, |chunk| {
        let mut args = vec!["rm", "--force", "--volumes"];
        args.extend_from_slice(chunk);
        docker(&args, None)
    });
    for result in results {
        result?;
    }
    Ok(ids.len())
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

/// Generates an ed25519 key pair without passphrase at `path` (replacing one that is there) and
/// returns the public key as `ssh-ed25519 AAAA...` (comment dropped).
fn keygen(path: &Path, comment: &str) -> Result<String, LabError> {
    let pub_path = path.with_extension("pub");
    remove_file_if_exists(path)?;
    remove_file_if_exists(&pub_path)?;
    let args: [&OsStr; 9] = [
        "-q".as_ref(),
        "-t".as_ref(),
        "ed25519".as_ref(),
        "-N".as_ref(),
        "".as_ref(),
        "-C".as_ref(),
        comment.as_ref(),
        "-f".as_ref(),
        path.as_os_str(),
    ];
    let tool = |message: String| LabError::Tool {
        program: "ssh-keygen".to_string(),
        message,
    };
    let out = run_tool("ssh-keygen", &args, None, &[]).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => tool("not found on PATH: install openssh-client".to_string()),
        _ => tool(e.to_string()),
    })?;
    if !out.status.success() {
        return Err(tool(tool_failure(&out)));
    }
    set_mode(path, 0o600)?;
    let text = fs::read_to_string(&pub_path).map_err(io_err(&pub_path))?;
    let mut fields = text.split_whitespace();
    match (fields.next(), fields.next()) {
        (Some(kind), Some(blob)) => Ok(format!("{kind} {blob}")),
        _ => Err(tool(format!(
            "{} is not an OpenSSH public key",
            pub_path.display()
        ))),
    }
}

/// A short stable id for a canonical lab folder: 8 hex digits of its SHA-256.
fn lab_id(dir: &Path) -> String {
    let digest = Sha256::digest(dir.to_string_lossy().as_bytes());
    hex::encode(&digest[..4])
}

/// Hash of an image recipe (its files), stored as an image label to notice a changed recipe.
fn recipe_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..6])
}

/// Reads the port from `docker port` output such as `127.0.0.1:49153` (first line that parses).
fn parse_port(output: &str) -> Option<u16> {
    output
        .lines()
        .filter_map(|line| line.trim().rsplit_once(':'))
        .find_map(|(_, port)| port.parse().ok())
}

/// `None` if the image does not exist; else the value of `label` on it ("" when unset).
fn image_label(image: &str, label: &str) -> Result<Option<String>, LabError> {
    inspect_image(image, &format!("{{{{ index .Config.Labels \"{label}\" }}}}"))
}

/// The id of a local image, `None` if it does not exist.
fn image_id(image: &str) -> Result<Option<String>, LabError> {
    inspect_image(image, "{{.Id}}")
}

/// `docker image inspect --format FORMAT IMAGE`, trimmed; `None` if there is no such image.
fn inspect_image(image: &str, format: &str) -> Result<Option<String>, LabError> {
    match docker(&["image", "inspect", "--format", format, image], None) {
        Ok(out) => Ok(Some(out.trim().to_string())),
        Err(LabError::Docker { message, .. }) if message.contains("No such image") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The cache folder for the root filesystem tarball and build lock.
fn cache_dir() -> Result<PathBuf, LabError> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".cache"),
            None => return Err(LabError::NoCacheDir),
        },
    };
    Ok(base.join("talon").join("lab"))
}

/// Picks (and if needed makes) the local base image the lab image is built from.
fn base_image(cache: &Path) -> Result<String, LabError> {
    if image_id(BASE_IMAGE_TAG)?.is_some() {
        return Ok(BASE_IMAGE_TAG.to_string());
    }
    if image_id(DEBIAN_IMAGE)?.is_some() {
        return Ok(DEBIAN_IMAGE.to_string());
    }
    let tarball = cache.join(format!("{SUITE}-rootfs.tar"));
    if !tarball.is_file() {
        build_rootfs(cache, &tarball)?;
    }
    tracing::info!("importing {} as {BASE_IMAGE_TAG}", tarball.display());
    docker(
        &[
            "import",
            "--change",
            "CMD [\"/bin/bash\"]",
            "--message",
            "talon lab base: debootstrap --variant=minbase",
            &tarball.to_string_lossy(),
            BASE_IMAGE_TAG,
        ],
        None,
    )?;
    Ok(BASE_IMAGE_TAG.to_string())
}

/// Runs debootstrap into a scratch folder, trims it, and writes it as `tarball`.
fn build_rootfs(cache: &Path, tarball: &Path) -> Result<(), LabError> {
    let program = find_debootstrap()?;
    let work = cache.join(format!("rootfs-build.{}", std::process::id()));
    remove_tree(&work)?;
    let log = cache.join("debootstrap.log");
    let mirror = std::env::var("TALON_LAB_MIRROR").unwrap_or_else(|_| MIRROR.to_string());
    tracing::info!("building the lab root filesystem with debootstrap from {mirror} (once; about a minute)");
    let include = format!("--include={}", PACKAGES.join(","));
    let args: [&OsStr; 5] = [
        "--variant=minbase".as_ref(),
        include.as_ref(),
        SUITE.as_ref(),
        work.as_os_str(),
        mirror.as_ref(),
    ];
    let out = run_tool(&program, &args, None, &[("DEBIAN_FRONTEND", "noninteractive")])
        .map_err(io_err(Path::new(&program)))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    fs::write(&log, &text).map_err(io_err(&log))?;
    if !out.status.success() {
        let _ = remove_tree(&work);
        return Err(LabError::Debootstrap {
            status: out.status.to_string(),
            log,
            tail: tail(&text, 15),
        });
    }
    // Smaller image: package lists, downloaded debs and docs are not needed; host keys made by
    // openssh-server's postinst must not be shared by every lab (each host gets its own).
    for sub in [
        "var/lib/apt/lists",
        "var/cache/apt/archives",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/locale",
    ] {
        empty_dir(&work.join(sub))?;
    }
    let ssh_dir = work.join("etc/ssh");
    for entry in fs::read_dir(&ssh_dir).map_err(io_err(&ssh_dir))? {
        let entry = entry.map_err(io_err(&ssh_dir))?;
        if entry.file_name().to_string_lossy().starts_with("ssh_host_") {
            fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?;
        }
    }
    let partial = tarball.with_extension("tar.partial");
    let args: [&OsStr; 6] = [
        "-C".as_ref(),
        work.as_os_str(),
        "--numeric-owner".as_ref(),
        "-cf".as_ref(),
        partial.as_os_str(),
        ".".as_ref(),
    ];
    let out = run_tool("tar", &args, None, &[]).map_err(|e| LabError::Tool {
        program: "tar".to_string(),
        message: e.to_string(),
    })?;
    remove_tree(&work)?;
    if !out.status.success() {
        return Err(LabError::Tool {
            program: "tar".to_string(),
            message: tool_failure(&out),
        });
    }
    fs::rename(&partial, tarball).map_err(io_err(tarball))
}

/// `debootstrap` on PATH, or in /usr/sbin (not on a non-root user's PATH on Debian).
fn find_debootstrap() -> Result<String, LabError> {
    for candidate in ["debootstrap", "/usr/sbin/debootstrap"] {
        match Command::new(candidate)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        {
            Ok(_) => return Ok(candidate.to_string()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(Path::new(candidate))(e)),
        }
    }
    Err(LabError::DebootstrapMissing)
}

/// Builds `tag` from `base` with `dockerfile` and the other files in `lab/`, labelled with
/// `recipe`.
fn build_image(base: &str, tag: &str, dockerfile: &str, recipe: &str) -> Result<(), LabError> {
    let context = tempfile::tempdir().map_err(io_err(Path::new("temporary folder")))?;
    for (name, text, mode) in [
        ("Dockerfile", dockerfile, 0o644),
        ("entrypoint.sh", ENTRYPOINT, 0o755),
        ("sshd_config", SSHD_CONFIG, 0o644),
    ] {
        write_atomic(&context.path().join(name), text.as_bytes(), mode)?;
    }
    tracing::info!("building {tag} from {base}");
    let base_arg = format!("BASE={base}");
    let label_arg = format!("{RECIPE_LABEL}={recipe}");
    let context_arg = context.path().to_string_lossy().into_owned();
    let args = [
        "build",
        "--build-arg",
        &base_arg,
        "--label",
        &label_arg,
        "--tag",
        tag,
        &context_arg,
    ];
    // The classic builder uses local images for FROM without asking a registry.
    let out = run_tool("docker", &args, None, &[("DOCKER_BUILDKIT", "0")]).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => LabError::DockerMissing,
        _ => io_err(Path::new("docker"))(e),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Err(LabError::Docker {
            action: args.join(" "),
            message: format!("{}\n({})", tail(&text, 30), out.status),
        })
    }
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

/// One regular file in a tar stream for `docker cp --archive -`.
struct TarEntry<'a> {
    path: &'a str,
    mode: u32,
    /// Owner uid; the gid is the same (each user has its own group).
    uid: u32,
    data: &'a [u8],
}

impl<'a> TarEntry<'a> {
    fn file(path: &'a str, mode: u32, uid: u32, data: &'a [u8]) -> Self {
        TarEntry {
            path,
            mode,
            uid,
            data,
        }
    }
}

/// A POSIX ustar archive of regular files (paths under 100 bytes), as `docker cp -` reads it.
/// Only files: the folders exist in the image with the right owners and modes already.
fn tar_archive(entries: &[TarEntry<'_>]) -> Vec<u8> {
    let mtime = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut out = Vec::new();
    for entry in entries {
        let mut header = [0u8; 512];
        let mut put = |offset: usize, len: usize, value: &[u8]| {
            let n = value.len().min(len);
            header[offset..offset + n].copy_from_slice(&value[..n]);
        };
        put(0, 100, entry.path.as_bytes());
        put(100, 8, format!("{:07o}\0", entry.mode).as_bytes());
        put(108, 8, format!("{:07o}\0", entry.uid).as_bytes());
        put(116, 8, format!("{:07o}\0", entry.uid).as_bytes());
        put(124, 12, format!("{:011o}\0", entry.data.len()).as_bytes());
        put(136, 12, format!("{mtime:011o}\0").as_bytes());
        put(148, 8, b"        ");
        put(156, 1, b"0");
        put(257, 8, b"ustar\x0000");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(entry.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// `known_hosts` lines `[127.0.0.1]:PORT ssh-ed25519 AAAA...`, one per host.
fn render_known_hosts(hosts: &[LabHost], host_pubs: &[String]) -> String {
    hosts
        .iter()
        .zip(host_pubs)
        .map(|(host, key)| format!("[127.0.0.1]:{} {key}\n", host.port))
        .collect()
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn yaml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The Ansible YAML inventory: group `lab` with every host, connection settings as group vars,
/// and the lab users as comments.
fn render_inventory(info: &LabInfo) -> String {
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# Written by `talon lab up`; replaced by the next `up`, removed by `talon lab down`."
    );
    let _ = writeln!(
        y,
        "# Disposable Debian {SUITE} hosts in Docker, reachable on 127.0.0.1 only."
    );
    let _ = writeln!(
        y,
        "# Users on every host (each logs in with ansible_ssh_private_key_file):"
    );
    let _ = writeln!(y, "#   root   - key only (no password)");
    let _ = writeln!(
        y,
        "#   {DEPLOY_USER} - sudo with password: become password is \"{DEPLOY_PASSWORD}\""
    );
    let _ = writeln!(y, "#   {NOPW_USER}   - sudo without password (NOPASSWD)");
    if info.docker {
        let _ = writeln!(
            y,
            "# --docker: every host drives this machine's Docker engine (shared images, containers,"
        );
        let _ = writeln!(
            y,
            "# ports): give each host's compose project its own name and publish host ports in"
        );
        let _ = writeln!(y, "# lab_port_base .. lab_port_base + {}.", PORT_BASE_STEP - 1);
    }
    if info.systemd {
        let _ = writeln!(y, "# --systemd: systemd is PID 1 on every host.");
    }
    if info.net_admin {
        let _ = writeln!(
            y,
            "# --net-admin: iptables/ipset work on every host (its own network namespace)."
        );
    }
    let _ = writeln!(y, "all:\n  children:\n    lab:\n      hosts:");
    for (index, host) in (1u32..).zip(&info.hosts) {
        let _ = writeln!(y, "        {}:", host.name);
        let _ = writeln!(y, "          ansible_host: 127.0.0.1");
        let _ = writeln!(y, "          ansible_port: {}", host.port);
        let _ = writeln!(y, "          lab_index: {index}");
        let _ = writeln!(
            y,
            "          lab_port_base: {}",
            PORT_BASE_START + PORT_BASE_STEP * index
        );
        if info.docker {
            let shared = info.dir.join(SHARED_DIR).join(&host.name);
            let _ = writeln!(y, "          lab_shared_dir: {}", shared.to_string_lossy());
        }
    }
    let common = format!(
        "-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes",
        crate::transport::quote::quote(&info.known_hosts.to_string_lossy())
    );
    let _ = writeln!(y, "      vars:");
    let _ = writeln!(y, "        ansible_user: root");
    let _ = writeln!(
        y,
        "        ansible_ssh_private_key_file: {}",
        yaml_str(&info.key.to_string_lossy())
    );
    let _ = writeln!(y, "        ansible_ssh_common_args: {}", yaml_str(&common));
    let _ = writeln!(y, "        ansible_python_interpreter: /usr/bin/python3");
    y
}

/// An OpenSSH client config: `ssh -F DIR/ssh_config lab1` (or `deploy@lab2`).
fn render_ssh_config(info: &LabInfo) -> String {
    let quote = |p: &Path| format!("\"{}\"", p.to_string_lossy());
    let mut s = String::from("# Written by `talon lab up`: ssh -F <this file> lab1\n");
    for host in &info.hosts {
        let _ = write!(
            s,
            "\nHost {}\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n  IdentitiesOnly yes\n  \
             UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n",
            host.name,
            host.port,
            quote(&info.key),
            quote(&info.known_hosts),
        );
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> LabInfo {
        let dir = PathBuf::from("/tmp/my lab");
        LabInfo {
            inventory: dir.join(INVENTORY_FILE),
            known_hosts: dir.join(KNOWN_HOSTS_FILE),
            ssh_config: dir.join(SSH_CONFIG_FILE),
            key: dir.join(KEY_FILE),
            hosts: vec![
                LabHost {
                    name: "lab1".into(),
                    port: 40001,
                    container: "talon-lab-x-1".into(),
                },
                LabHost {
                    name: "lab2".into(),
                    port: 40002,
                    container: "talon-lab-x-2".into(),
                },
            ],
            dir,
            docker: false,
            systemd: false,
            net_admin: false,
        }
    }

    #[test]
    fn inventory_is_ansible_yaml_with_group_lab() {
        let text = render_inventory(&sample());
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let lab = &value["all"]["children"]["lab"];
        assert_eq!(lab["hosts"]["lab2"]["ansible_port"], 40002);
        assert_eq!(lab["hosts"]["lab1"]["ansible_host"], "127.0.0.1");
        assert_eq!(lab["vars"]["ansible_user"], "root");
        assert_eq!(
            lab["vars"]["ansible_ssh_private_key_file"],
            "/tmp/my lab/id_ed25519"
        );
        assert_eq!(
            lab["vars"]["ansible_ssh_common_args"],
            "-o UserKnownHostsFile='/tmp/my lab/known_hosts' -o StrictHostKeyChecking=yes"
        );
        assert_eq!(lab["vars"]["ansible_python_interpreter"], "/usr/bin/python3");
        assert!(text.contains("deploy-lab-pass"));
    }

    #[test]
    fn inventory_gives_each_host_an_index_and_a_port_block() {
        let value: serde_json::Value = serde_saphyr::from_str(&render_inventory(&sample())).unwrap();
        let hosts = &value["all"]["children"]["lab"]["hosts"];
        assert_eq!(hosts["lab1"]["lab_index"], 1);
        assert_eq!(hosts["lab1"]["lab_port_base"], 20100);
        assert_eq!(hosts["lab2"]["lab_index"], 2);
        assert_eq!(hosts["lab2"]["lab_port_base"], 20200);
    }

    fn plan<'a>(docker_socket: Option<&'a Path>, systemd: bool) -> HostPlan<'a> {
        plan_with(docker_socket, systemd, false)
    }

    fn plan_with<'a>(docker_socket: Option<&'a Path>, systemd: bool, net_admin: bool) -> HostPlan<'a> {
        HostPlan {
            name: "lab1".into(),
            container: "talon-lab-x-1".into(),
            image: "img",
            label: "talon.lab=/tmp/x",
            client_pub: "ssh-ed25519 AAAA",
            key_dir: Path::new("/tmp"),
            docker_socket,
            shared_dir: None,
            systemd,
            net_admin,
        }
    }

    #[test]
    fn create_args_per_mode() {
        let plain = create_args(&plan(None, false));
        assert!(plain.contains(&"--init".to_string()), "{plain:?}");
        assert!(
            !plain
                .iter()
                .any(|a| a.contains("systemd") || a.contains("docker.sock"))
        );
        assert_eq!(plain.last().map(String::as_str), Some("img"));

        let sock = Path::new("/run/docker.sock");
        let both = create_args(&plan(Some(sock), true)).join(" ");
        assert!(!both.contains("--init"), "systemd is PID 1: {both}");
        assert!(both.contains("--tmpfs /run --tmpfs /run/lock"), "{both}");
        assert!(both.contains("-v /sys/fs/cgroup:/sys/fs/cgroup:ro"), "{both}");
        assert!(both.contains("--entrypoint /lib/systemd/systemd"), "{both}");
        assert!(
            both.contains("-v /run/docker.sock:/var/run/docker.sock"),
            "{both}"
        );
        assert!(!both.contains("--privileged"), "{both}");
        assert!(!both.contains("--cap-add"), "{both}");
        assert!(both.ends_with(" img"), "{both}");

        let net = create_args(&plan_with(None, false, true));
        let caps: Vec<&String> = net.iter().filter(|a| a.starts_with("--cap-add")).collect();
        assert_eq!(caps, ["--cap-add=NET_ADMIN"], "only NET_ADMIN: {net:?}");
    }

    #[test]
    fn display_lists_hosts_and_files() {
        let text = sample().to_string();
        assert!(
            text.starts_with("lab1   127.0.0.1:40001  talon-lab-x-1\n"),
            "{text}"
        );
        assert!(text.contains("ssh -F /tmp/my lab/ssh_config lab1"), "{text}");
    }

    #[test]
    fn known_hosts_lines_use_bracketed_port() {
        let info = sample();
        let keys = vec!["ssh-ed25519 AAAA1".to_string(), "ssh-ed25519 AAAA2".to_string()];
        assert_eq!(
            render_known_hosts(&info.hosts, &keys),
            "[127.0.0.1]:40001 ssh-ed25519 AAAA1\n[127.0.0.1]:40002 ssh-ed25519 AAAA2\n"
        );
    }

    #[test]
    fn ssh_config_has_one_block_per_host() {
        let text = render_ssh_config(&sample());
        assert_eq!(text.matches("\nHost lab").count(), 2);
        assert!(text.contains("Port 40002"));
        assert!(text.contains("UserKnownHostsFile \"/tmp/my lab/known_hosts\""));
    }

    #[test]
    fn parse_port_reads_docker_port_output() {
        assert_eq!(parse_port("127.0.0.1:49153\n"), Some(49153));
        assert_eq!(parse_port("0.0.0.0:1\n[::]:1\n"), Some(1));
        assert_eq!(parse_port(""), None);
        assert_eq!(parse_port("garbage"), None);
    }

    #[test]
    fn lab_id_is_stable_and_short() {
        let a = lab_id(Path::new("/tmp/a"));
        assert_eq!(a, lab_id(Path::new("/tmp/a")));
        assert_ne!(a, lab_id(Path::new("/tmp/b")));
        assert_eq!(a.len(), 8);
    }

    #[test]
    fn tar_archive_is_readable_by_tar() {
        let archive = tar_archive(&[
            TarEntry::file("root/.ssh/authorized_keys", 0o600, 0, b"key\n"),
            TarEntry::file("home/deploy/x", 0o640, 1000, &[7u8; 700]),
        ]);
        assert_eq!(archive.len() % 512, 0);
        let dir = tempfile::tempdir().unwrap();
        let listed = run_tool("tar", &["-tvf", "-"], Some(&archive), &[]).unwrap();
        assert!(
            listed.status.success(),
            "{}",
            String::from_utf8_lossy(&listed.stderr)
        );
        let listing = String::from_utf8_lossy(&listed.stdout);
        assert!(listing.contains("-rw------- 0/0"), "{listing}");
        assert!(listing.contains("-rw-r----- 1000/1000"), "{listing}");
        let path = dir.path().to_string_lossy().into_owned();
        let extracted = run_tool("tar", &["-xf", "-", "-C", &path], Some(&archive), &[]).unwrap();
        assert!(extracted.status.success());
        assert_eq!(
            fs::read(dir.path().join("root/.ssh/authorized_keys")).unwrap(),
            b"key\n"
        );
        assert_eq!(
            fs::read(dir.path().join("home/deploy/x")).unwrap(),
            vec![7u8; 700]
        );
    }

    #[test]
    fn check_ours_refuses_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_ours(dir.path()).is_ok());
        fs::write(dir.path().join(INVENTORY_FILE), "all: {}\n").unwrap();
        assert!(matches!(check_ours(dir.path()), Err(LabError::ForeignDir { .. })));
        fs::write(dir.path().join(MARKER), MARKER_TEXT).unwrap();
        assert!(check_ours(dir.path()).is_ok());
    }

    #[test]
    fn parallel_map_keeps_order() {
        let items: Vec<usize> = (0..37).collect();
        assert_eq!(
            parallel_map(&items, 5, |i| i * 2),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
        assert!(parallel_map(&[] as &[usize], 5, |i| *i).is_empty());
    }
}
