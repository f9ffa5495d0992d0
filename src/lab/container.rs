//! The lab's containers: their creation arguments, start, readiness (the SSH banner), the marker
//! that tells talon's containers from others, host keys, and removal.

use super::*;

/// The engine socket `--docker` bind-mounts: the path in `DOCKER_HOST=unix://PATH`, else
/// `/var/run/docker.sock`. It must be a socket on this machine (the daemon resolves the bind
/// mount on its own machine, so a remote engine cannot be shared this way).
pub(super) fn docker_socket() -> Result<PathBuf, LabError> {
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

pub(super) const MARKER_TEXT: &str =
    "This folder is a talon lab: `talon lab down --dir <this folder>` removes it.\n";

/// Refuses a folder whose lab file names are taken by files `talon lab` did not write.
pub(super) fn check_ours(dir: &Path) -> Result<(), LabError> {
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
pub(super) struct HostPlan<'a> {
    pub(super) name: String,
    pub(super) container: String,
    pub(super) image: &'a str,
    pub(super) label: &'a str,
    pub(super) client_pub: &'a str,
    pub(super) key_dir: &'a Path,
    /// The engine socket to bind-mount at [`DOCKER_SOCKET_IN_HOST`] (`--docker`).
    pub(super) docker_socket: Option<&'a Path>,
    /// `--docker`: a controller folder mounted at the same path inside the host, so that bind
    /// mounts of compose projects kept there resolve identically for the shared engine.
    pub(super) shared_dir: Option<PathBuf>,
    /// Boot systemd as PID 1 instead of the image's sshd entrypoint.
    pub(super) systemd: bool,
    /// `--cap-add NET_ADMIN` (the host's own firewall).
    pub(super) net_admin: bool,
}

/// The `docker create` arguments of one host, up to and including the image.
pub(super) fn create_args(plan: &HostPlan<'_>) -> Vec<String> {
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
pub(super) fn start_host(plan: &HostPlan<'_>) -> Result<(LabHost, String), LabError> {
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
pub(super) fn wait_for_banner(host: &str, container: &str, port: u16) -> Result<(), LabError> {
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
pub(super) fn read_banner(addr: &SocketAddr) -> Result<(), String> {
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
pub(super) fn remove_containers(dir: &Path) -> Result<usize, LabError> {
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

/// Generates an ed25519 key pair without passphrase at `path` (replacing one that is there) and
/// returns the public key as `ssh-ed25519 AAAA...` (comment dropped).
pub(super) fn keygen(path: &Path, comment: &str) -> Result<String, LabError> {
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
pub(super) fn lab_id(dir: &Path) -> String {
    let digest = Sha256::digest(dir.to_string_lossy().as_bytes());
    hex::encode(&digest[..4])
}

/// Reads the port from `docker port` output such as `127.0.0.1:49153` (first line that parses).
pub(super) fn parse_port(output: &str) -> Option<u16> {
    output
        .lines()
        .filter_map(|line| line.trim().rsplit_once(':'))
        .find_map(|(_, port)| port.parse().ok())
}
