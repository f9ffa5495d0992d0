//! Test support: lab hosts through the real `talon lab`, the real `talon` binary, and
//! independent read-back of host state through `docker exec` (never through talon itself).

#![allow(dead_code)]

pub mod ansible;
pub mod compose_v2;
pub mod local;
pub mod ollama;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The talon binary under test.
pub fn talon() -> Command {
    Command::new(env!("CARGO_BIN_EXE_talon"))
}

/// A lab of N hosts in its own temp dir, removed on drop.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub hosts: Vec<(String, String)>, // (name, container)
}

impl Lab {
    /// Starts `n` fresh hosts.
    pub fn up(n: usize) -> Lab {
        Lab::up_with(n, &[])
    }

    /// Starts `n` fresh hosts with extra `talon lab up` flags (`--docker`, `--systemd`).
    pub fn up_with(n: usize, flags: &[&str]) -> Lab {
        let dir = tempfile::Builder::new()
            .prefix("talon-test-lab-")
            .tempdir()
            .unwrap();
        let out = talon()
            .args(["lab", "up", "-n", &n.to_string(), "--dir"])
            .arg(dir.path())
            .args(flags)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "lab up failed:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let ps = Command::new("docker")
            .args(["ps", "--format", "{{.Names}} {{.Label \"talon.lab\"}}"])
            .output()
            .unwrap();
        let canon = std::fs::canonicalize(dir.path()).unwrap();
        let mut hosts: Vec<(String, String)> = text(&ps.stdout)
            .lines()
            .filter_map(|l| {
                let (name, label) = l.split_once(' ')?;
                (Path::new(label) == canon).then(|| name.to_string())
            })
            .map(|c| {
                let h = Command::new("docker")
                    .args(["exec", &c, "hostname"])
                    .output()
                    .unwrap();
                (text(&h.stdout).trim().to_string(), c)
            })
            .collect();
        hosts.sort();
        assert_eq!(hosts.len(), n, "expected {n} lab containers");
        Lab { dir, hosts }
    }

    pub fn inventory(&self) -> PathBuf {
        self.dir.path().join("inventory.yml")
    }

    pub fn container(&self, host: &str) -> &str {
        &self.hosts.iter().find(|(h, _)| h == host).unwrap().1
    }

    /// The port on 127.0.0.1 that reaches a host's sshd (`docker port`).
    pub fn port(&self, host: &str) -> u16 {
        let out = Command::new("docker")
            .args(["port", self.container(host), "22/tcp"])
            .output()
            .unwrap();
        let out = text(&out.stdout);
        let first = out.lines().next().unwrap_or_default();
        first
            .rsplit_once(':')
            .and_then(|(_, p)| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no published SSH port for {host}: {out:?}"))
    }

    /// A talon SSH connection to a host as root, with the lab's key and known_hosts.
    pub async fn connect(&self, host: &str) -> talon::transport::Connection {
        let mut spec = talon::transport::ConnectSpec::ssh(host, "127.0.0.1", self.port(host));
        spec.user = Some("root".into());
        spec.identity_files = vec![self.dir.path().join("id_ed25519")];
        spec.known_hosts = self.dir.path().join("known_hosts");
        match talon::transport::Connection::open(&spec).await {
            Ok(c) => c,
            Err(e) => panic!("connecting to {host}: {e}"),
        }
    }

    /// The `--docker` folder shared between the controller and `host` at the same path
    /// (`lab_shared_dir`): files the shared engine bind-mounts live there.
    pub fn shared_dir(&self, host: &str) -> PathBuf {
        std::fs::canonicalize(self.dir.path())
            .unwrap()
            .join("shared")
            .join(host)
    }

    /// Runs a shell command on a host through `docker exec` (independent of talon).
    pub fn sh(&self, host: &str, script: &str) -> Output {
        Command::new("docker")
            .args(["exec", self.container(host), "sh", "-c", script])
            .output()
            .unwrap()
    }

    /// stdout of [`Lab::sh`], asserting success.
    pub fn sh_ok(&self, host: &str, script: &str) -> String {
        let o = self.sh(host, script);
        assert!(o.status.success(), "{script}: {}", text(&o.stderr));
        text(&o.stdout)
    }

    /// A file's content on a host, or None.
    pub fn read(&self, host: &str, path: &str) -> Option<String> {
        let o = self.sh(host, &format!("cat '{path}'"));
        o.status.success().then(|| text(&o.stdout))
    }

    /// `mode owner group type` of a path (`stat -c '%a %U %G %F'`).
    pub fn stat(&self, host: &str, path: &str) -> Option<String> {
        let o = self.sh(host, &format!("stat -c '%a %U %G %F' '{path}'"));
        o.status.success().then(|| text(&o.stdout).trim().to_string())
    }

    /// A manifest of a tree: `path mode owner group sha1` per line, sorted.
    pub fn tree(&self, host: &str, root: &str) -> String {
        self.sh_ok(
            host,
            &format!(
                "cd '{root}' 2>/dev/null && find . -mindepth 1 | sort | while read -r p; do \
                 if [ -f \"$p\" ] && [ ! -L \"$p\" ]; then s=$(sha1sum \"$p\" | cut -c1-40); else s=-; fi; \
                 echo \"$p $(stat -c '%a %U %G %F' \"$p\") $s\"; done"
            ),
        )
    }

    /// Runs talon against this lab.
    pub fn run(&self, playbook: &Path, extra: &[&str]) -> Run {
        let mut cmd = talon();
        cmd.arg("run")
            .arg(playbook)
            .arg("-i")
            .arg(self.inventory())
            .args(extra);
        cmd.env("TALON_STATE_DIR", self.dir.path().join("state"));
        Run::from(cmd.output().unwrap())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = talon()
            .args(["lab", "down", "--dir"])
            .arg(self.dir.path())
            .output();
    }
}

/// The outcome of one `talon run`.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: text(&o.stdout),
            stderr: text(&o.stderr),
        }
    }
}

impl Run {
    /// The recap counters of a host: (ok, changed, unreachable, failed, skipped, rescued, ignored).
    pub fn recap(&self, host: &str) -> [u32; 7] {
        let line = self
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(host) && l.contains(" ok="))
            .unwrap_or_else(|| panic!("no recap line for {host} in:\n{}\n{}", self.stdout, self.stderr));
        let mut out = [0u32; 7];
        for (i, key) in [
            "ok",
            "changed",
            "unreachable",
            "failed",
            "skipped",
            "rescued",
            "ignored",
        ]
        .iter()
        .enumerate()
        {
            let tok = line
                .split_whitespace()
                .find(|t| t.starts_with(&format!("{key}=")))
                .unwrap();
            out[i] = tok[key.len() + 1..].parse().unwrap();
        }
        out
    }

    pub fn changed(&self, host: &str) -> u32 {
        self.recap(host)[1]
    }

    pub fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The repository root (for playbooks/ and tests/fixtures/).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `argv` under a new pseudo-terminal (Python's `pty`, the machine's python3): answers the
/// prompt `$ASK_PROMPT` (default `secret ask_token: `) with `$ASK_VALUE` once it appears and the terminal's echo is off
/// (as a person typing would: the prompt is printed just before echo is turned off), and
/// returns what the terminal showed (talon's output plus any echo) and the exit code. Fails
/// (exit 97) when echo is not turned off within 5 s of the prompt.
pub const PTY_DRIVER: &str = r#"
import os, pty, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
value, shown, sent = os.environ["ASK_VALUE"].encode(), b"", False
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
    if not sent and os.environ.get("ASK_PROMPT", "secret ask_token: ").encode() in shown:
        deadline = time.time() + 5
        while termios.tcgetattr(fd)[3] & termios.ECHO:
            if time.time() > deadline:
                sys.stdout.buffer.write(shown + b"\n[echo never turned off]\n")
                sys.exit(97)
            time.sleep(0.005)
        os.write(fd, value + b"\n")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(shown)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// Writes `text` to `path`, creating its folders.
pub fn write_file(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// Runs `git ARGS` in `dir` with a fixed identity; panics with git's stderr on failure.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.email=t@example.org", "-c", "user.name=t"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}
