//! Side by side with `ansible-playbook` (ansible-core from PyPI, in a venv under target/ made
//! on first use): the same playbook on two identical fresh lab hosts, one run by talon
//! (`--json`) and one by ansible-playbook (our `talon_compare` stdout callback, the same
//! document shape), read back into comparable per-task lines.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;

use super::{Lab, Run, root, text};

/// Serialises venv creation between test threads.
static VENV: Mutex<()> = Mutex::new(());

/// Serialises venv creation between test binaries too (scripts/run-tests runs several at once,
/// and on a fresh clone the first ones all find no venv): an exclusive `flock` on a file beside
/// the venv, held with the returned file, after [`VENV`] is taken.
fn venv_lock() -> std::fs::File {
    let target = root().join("target");
    std::fs::create_dir_all(&target).unwrap();
    let file = std::fs::File::create(target.join(".ansible-venv.lock")).unwrap();
    file.lock().unwrap();
    file
}

/// The ansible-core the comparisons are made against. Pinned: a new release can change what a
/// module does (2.19.15's `git` fails on a shallow clone moved to a branch with "'NoneType'
/// object has no attribute 'startswith'", where 2.19.14 and talon move it), and the suite must
/// not change its verdict by itself. Moved on deliberately, with the compare tests run again.
pub const ANSIBLE_CORE: &str = "ansible-core==2.19.14";

/// A program from the ansible-core venv (`ansible-playbook`, `ansible-vault`, ...).
pub fn ansible_bin(name: &str) -> PathBuf {
    let venv = root().join("target").join("ansible-venv");
    let marker = venv.join(format!(".installed-{ANSIBLE_CORE}"));
    let _guard = VENV.lock().unwrap_or_else(|e| e.into_inner());
    let _file = venv_lock();
    if !marker.exists() {
        let st = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(st.success(), "python3 -m venv failed");
        let out = Command::new(venv.join("bin").join("pip"))
            .args(["install", "-q", ANSIBLE_CORE])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip install {ANSIBLE_CORE} failed: {}",
            text(&out.stderr)
        );
        std::fs::write(&marker, b"").unwrap();
    }
    // What the filters import on the controller: jmespath (json_query), passlib
    // (password_hash) and netaddr (ansible.utils' ipaddr family). Installed once, also into a
    // venv made before they were needed.
    let extras = venv.join(".installed-filter-deps-netaddr");
    if !extras.exists() {
        let out = Command::new(venv.join("bin").join("pip"))
            .args(["install", "-q", "jmespath", "passlib", "netaddr"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip install jmespath passlib netaddr failed: {}",
            text(&out.stderr)
        );
        std::fs::write(&extras, b"").unwrap();
    }
    venv.join("bin").join(name)
}

/// The collections of the `ansible` community package (ansible 12, for ansible-core 2.19) from
/// PyPI, installed once into target/ansible-collections without touching the venv; the value
/// for `ANSIBLE_COLLECTIONS_PATH`.
pub fn collections_path() -> PathBuf {
    let pip = ansible_bin("pip");
    let dir = root().join("target").join("ansible-collections");
    let marker = dir.join(".installed");
    let _guard = VENV.lock().unwrap_or_else(|e| e.into_inner());
    let _file = venv_lock();
    if !marker.exists() {
        let out = Command::new(pip)
            .args(["install", "-q", "--no-deps", "--target"])
            .arg(&dir)
            .arg("ansible>=12,<13")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip install ansible failed: {}",
            text(&out.stderr)
        );
        std::fs::write(&marker, b"").unwrap();
    }
    dir
}

/// `ansible-playbook` with the environment the comparisons use; `extra` goes before the
/// playbook path.
pub fn ansible_playbook(lab: &Lab, playbook: &Path, extra: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(ansible_bin("ansible-playbook"));
    cmd.arg("-i")
        .arg(lab.inventory())
        .args(extra)
        .arg(playbook)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
        .env("ANSIBLE_HOST_KEY_CHECKING", "true")
        .env("ANSIBLE_LOCAL_TEMP", lab.dir.path().join("ansible-tmp"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// One tool's run of a compared playbook on one host.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    /// One line per task the host ran: `NAME => STATUS`, plus ` items=[...]` for loops and
    /// ` msg=JSON` for tasks whose name (after `role : `) starts with `show` or `error`. With
    /// more than one host per tool, each line starts with the host's position: `#0 `, `#1 `.
    pub lines: Vec<String>,
    /// Per host, in order, the recap: ok, changed, unreachable, failures, skipped, rescued,
    /// ignored.
    pub recap: Vec<[u64; 7]>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// The line of the task named `prefix...`, or a panic listing every line.
    pub fn line(&self, prefix: &str) -> &str {
        self.lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}: {:#?}", self.lines))
    }
}

fn status(r: &Value) -> &'static str {
    let flag = |k: &str| r.get(k).and_then(Value::as_bool).unwrap_or(false);
    if flag("unreachable") {
        "unreachable"
    } else if flag("failed") {
        "failed"
    } else if flag("skipped") {
        "skipped"
    } else if flag("changed") {
        "changed"
    } else {
        "ok"
    }
}

/// `v` with every mapping's keys in order (Python's `sort_keys`), so two tools' values compare
/// as data, not as text.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Reads a `--json`-shaped document into per-task lines for `hosts` (in order).
fn outcome(run: Run, hosts: &[String]) -> Outcome {
    let doc: Value = run
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .or_else(|| serde_json::from_str(&run.stdout).ok())
        .unwrap_or_else(|| panic!("no JSON document in stdout:\n{}\n{}", run.stdout, run.stderr));
    let mut lines = Vec::new();
    for play in doc["plays"].as_array().into_iter().flatten() {
        for task in play["tasks"].as_array().into_iter().flatten() {
            let name = task["task"]["name"].as_str().unwrap_or_default();
            if name == "Gathering Facts" {
                continue;
            }
            for (i, host) in hosts.iter().enumerate() {
                let Some(r) = task["hosts"].get(host) else {
                    continue;
                };
                let mut line = if hosts.len() > 1 {
                    format!("#{i} {name} => {}", status(r))
                } else {
                    format!("{name} => {}", status(r))
                };
                if let Some(items) = r.get("results").and_then(Value::as_array) {
                    let s: Vec<&str> = items.iter().map(status).collect();
                    line.push_str(&format!(" items={s:?}"));
                }
                // A role task's name is `role : name`.
                let own = name.rsplit(" : ").next().unwrap_or(name);
                if own.starts_with("show") || own.starts_with("error") {
                    line.push_str(&format!(" msg={}", sorted(r.get("msg").unwrap_or(&Value::Null))));
                }
                lines.push(line);
            }
        }
    }
    let recap = hosts
        .iter()
        .map(|host| {
            let s = &doc["stats"][host];
            let n = |k: &str| s.get(k).and_then(Value::as_u64).unwrap_or(0);
            [
                n("ok"),
                n("changed"),
                n("unreachable"),
                n("failures"),
                n("skipped"),
                n("rescued"),
                n("ignored"),
            ]
        })
        .collect();
    Outcome {
        code: run.code,
        lines,
        recap,
        stdout: run.stdout,
        stderr: run.stderr,
    }
}

/// Fresh identical hosts: the first half for talon, the second for ansible-playbook.
pub struct Compare {
    pub lab: Lab,
    /// Hosts per tool.
    n: usize,
    /// Hosts outside the lab, for talon and for ansible-playbook (see [`Compare::more_hosts`]).
    more: (Vec<String>, Vec<String>),
}

impl Compare {
    /// One host per tool.
    pub fn new() -> Compare {
        Compare::hosts(1)
    }

    /// `n` hosts per tool (for behaviour across the hosts of a play).
    pub fn hosts(n: usize) -> Compare {
        Compare {
            lab: Lab::up(2 * n),
            n,
            more: Default::default(),
        }
    }

    /// One host per tool, started with `talon lab up` `flags` (`--extras`: curl, git, unzip).
    pub fn with_lab_flags(flags: &[&str]) -> Compare {
        Compare {
            lab: Lab::up_with(2, flags),
            n: 1,
            more: Default::default(),
        }
    }

    /// Adds hosts outside the lab (`talon`'s and `ansible`'s), named in an inventory of the
    /// test's own given with `-i` in the run's arguments: their lines and recaps follow the lab
    /// hosts'.
    pub fn more_hosts(mut self, talon: &[&str], ansible: &[&str]) -> Compare {
        self.more = (
            talon.iter().map(|h| h.to_string()).collect(),
            ansible.iter().map(|h| h.to_string()).collect(),
        );
        self
    }

    fn names(&self, range: std::ops::Range<usize>) -> Vec<String> {
        self.lab.hosts[range].iter().map(|(h, _)| h.clone()).collect()
    }

    /// One host per tool, Python removed from talon's (ansible-playbook's keeps it): a task
    /// that still took the Python path fails on talon's host and differs from
    /// ansible-playbook's.
    pub fn without_python_on_talons_host() -> Compare {
        let c = Compare::new();
        c.take_python_from_talons_host();
        c
    }

    /// Moves python3 away on talon's host (programs already running keep their interpreter).
    pub fn take_python_from_talons_host(&self) {
        self.lab.sh_ok(
            self.talon_host(),
            "for f in /usr/bin/python3*; do mv \"$f\" \"$f.off\"; done; ! command -v python3",
        );
    }

    /// The (first) host talon runs on.
    pub fn talon_host(&self) -> &str {
        &self.lab.hosts[0].0
    }

    /// The (first) host ansible-playbook runs on.
    pub fn ansible_host(&self) -> &str {
        &self.lab.hosts[self.n].0
    }

    /// Puts the controller's python3-apt bindings (with `aptsources`, which apt_repository
    /// imports) on every host: ansible-core's apt modules need them and would otherwise install
    /// python3-apt from the Debian mirror (the copy keeps the tests off the network and fast).
    /// talon's modules do not use them. Panics when the controller has no python3-apt or the
    /// hosts' python3 cannot import the copy.
    pub fn give_python3_apt(&self) {
        let dist = "usr/lib/python3/dist-packages";
        self.give_from_controller(
            &format!("{dist}/apt {dist}/aptsources {dist}/apt_pkg.cpython-* {dist}/apt_inst.cpython-*"),
            "python3-apt",
        );
        for (host, _) in &self.lab.hosts {
            let out = self.lab.sh(host, "python3 -c 'import apt, apt.debfile, apt_pkg'");
            assert!(
                out.status.success(),
                "{host} cannot import this machine's python3-apt: {}",
                text(&out.stderr)
            );
        }
    }

    /// Puts the controller's python3-debian (and chardet, which it imports) on every host:
    /// ansible-core's deb822_repository needs it (lab hosts lack it); talon's does not.
    /// Panics when the controller has no python3-debian or the hosts cannot import the copy.
    pub fn give_python3_debian(&self) {
        let dist = "usr/lib/python3/dist-packages";
        self.give_from_controller(&format!("{dist}/debian {dist}/chardet"), "python3-debian");
        for (host, _) in &self.lab.hosts {
            let out = self.lab.sh(host, "python3 -c 'from debian.deb822 import Deb822'");
            assert!(
                out.status.success(),
                "{host} cannot import this machine's python3-debian: {}",
                text(&out.stderr)
            );
        }
    }

    /// Copies this machine's `files` (paths relative to `/`, shell globs allowed) onto every
    /// host at the same paths, keeping tests off the network; `package` names the Debian
    /// package to install here when the copy fails.
    pub fn give_from_controller(&self, files: &str, package: &str) {
        for (host, container) in &self.lab.hosts {
            let copy = format!("cd / && tar -cf - {files} | docker exec -i {container} tar -C / -xf -");
            let out = Command::new("sh").args(["-c", &copy]).output().unwrap();
            assert!(
                out.status.success(),
                "copying {package} to {host} failed (install {package} on this machine): {}",
                text(&out.stderr)
            );
        }
    }

    /// Runs `playbook` with talon (on the first host) and with ansible-playbook (on the
    /// second), both with `extra` arguments and `env` variables.
    pub fn run(&self, playbook: &Path, extra: &[&str], env: &[(&str, &str)]) -> (Outcome, Outcome) {
        let mut talon_hosts = self.names(0..self.n);
        talon_hosts.extend(self.more.0.iter().cloned());
        let mut ansible_hosts = self.names(self.n..2 * self.n);
        ansible_hosts.extend(self.more.1.iter().cloned());
        let th = talon_hosts.join(",");
        let ah = ansible_hosts.join(",");
        let mut talon = super::talon();
        talon
            .arg("run")
            .arg(playbook)
            .arg("-i")
            .arg(self.lab.inventory())
            .args(["--json", "--limit", &th])
            .args(extra)
            .env("TALON_STATE_DIR", self.lab.dir.path().join("state"))
            // The Python path's ansible-core (modules talon does not implement).
            .env("TALON_ANSIBLE_PYTHON", ansible_bin("python"))
            .env(
                "ANSIBLE_LOCAL_TEMP",
                self.lab.dir.path().join("talon-ansible-tmp"),
            );
        for (k, v) in env {
            talon.env(k, v);
        }
        let t = Run::from(talon.output().unwrap());
        let plugins = root().join("tests/fixtures/compare/callback_plugins");
        let mut aargs = vec!["--limit", &ah];
        aargs.extend_from_slice(extra);
        let mut aenv = vec![
            ("ANSIBLE_CALLBACK_PLUGINS", plugins.to_str().unwrap()),
            ("ANSIBLE_STDOUT_CALLBACK", "talon_compare"),
        ];
        aenv.extend_from_slice(env);
        let a = ansible_playbook(&self.lab, playbook, &aargs, &aenv)
            .output()
            .unwrap();
        (outcome(t, &talon_hosts), outcome(Run::from(a), &ansible_hosts))
    }

    /// Runs both and asserts the same exit code, per-task lines and recap; returns both.
    pub fn same(&self, playbook: &Path, extra: &[&str]) -> (Outcome, Outcome) {
        self.same_env(playbook, extra, &[])
    }

    /// [`Compare::same`] with environment variables for both tools.
    pub fn same_env(&self, playbook: &Path, extra: &[&str], env: &[(&str, &str)]) -> (Outcome, Outcome) {
        let (t, a) = self.run(playbook, extra, env);
        let show = |o: &Outcome| format!("{}\n{}", o.stdout, o.stderr);
        assert_eq!(
            t.lines,
            a.lines,
            "per-task results differ\n--- talon:\n{}\n--- ansible:\n{}",
            show(&t),
            show(&a)
        );
        assert_eq!(
            t.recap,
            a.recap,
            "recaps differ\n--- talon:\n{}\n--- ansible:\n{}",
            show(&t),
            show(&a)
        );
        assert_eq!(
            t.code,
            a.code,
            "exit codes differ\n--- talon:\n{}\n--- ansible:\n{}",
            show(&t),
            show(&a)
        );
        assert!(!t.lines.is_empty(), "no task ran:\n{}", show(&t));
        (t, a)
    }
}

/// A fixture under tests/fixtures/compare/.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/compare").join(name)
}
