//! The OpenClaw stack end to end on fresh lab hosts (`--docker --systemd`, the machine's engine
//! shared through its socket, images built locally by images/build.sh): site.yml converges,
//! `talon verify` passes, a second run changes nothing, no secret ever reaches a command line,
//! a stopped container and a hand-edited config are caught by verify, and the next run repairs.
//! lab1 also uses a host-side Ollama (the stand-in image, on this machine's docker0 address,
//! reached from the gateway through the egress proxy): its model checks pass, fail naming the
//! model when it lacks `tools` or is not installed, and are skipped on lab2 (no Ollama).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Lab, Run, root, talon, text};

/// Builds the stack images once (cached by Docker afterwards).
fn build_images() {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let out = Command::new(root().join("images/build.sh")).output().unwrap();
        assert!(
            out.status.success(),
            "images/build.sh failed:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    });
}

struct Stack {
    lab: Lab,
    secrets: tempfile::NamedTempFile,
    values: Vec<String>,
    /// Per-host vars: lab1 uses the host-side Ollama, lab2 has none.
    host_vars: tempfile::NamedTempFile,
    ollama: Ollama,
}

/// The Ollama stand-in as a host-side server: host network, listening on docker0's address
/// only (what `host-gateway` resolves to), on a free port. Removed on drop.
struct Ollama {
    name: String,
    port: u16,
}

/// docker0's address on this machine: where a host-side Ollama listens for containers.
const HOST_GATEWAY_IP: &str = "172.17.0.1";

impl Ollama {
    fn start() -> Ollama {
        let port = std::net::TcpListener::bind((HOST_GATEWAY_IP, 0))
            .expect("docker0 must have 172.17.0.1 (Docker's default bridge)")
            .local_addr()
            .unwrap()
            .port();
        let name = format!("talon-ollama-e2e-{}", std::process::id());
        let out = Command::new("docker")
            .args(["run", "-d", "--rm", "--name", &name, "--network", "host"])
            .args(["-e", &format!("OLLAMA_HOST={HOST_GATEWAY_IP}:{port}")])
            .args([
                "-e",
                "OLLAMA_STANDIN_MODELS=qwen2.5:7b=completion,tools;llama3.2:3b=completion",
            ])
            .arg("talon-stack/ollama-standin:1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let o = Ollama { name, port };
        for _ in 0..50 {
            if std::net::TcpStream::connect((HOST_GATEWAY_IP, port)).is_ok() {
                return o;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the Ollama stand-in did not listen on {HOST_GATEWAY_IP}:{port}");
    }
}

impl Drop for Ollama {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.name]).output();
    }
}

impl Stack {
    fn up() -> Stack {
        build_images();
        let lab = Lab::up_with(2, &["--docker", "--systemd"]);
        let n = std::process::id();
        let values = vec![
            format!("gw-token-{n}-a1b2c3d4e5"),
            format!("tg-bot-{n}-f6g7h8i9j0"),
            format!("sk-ant-{n}-k1l2m3n4o5"),
            format!("sk-master-{n}-p6q7r8s9t0"),
        ];
        let mut secrets = tempfile::NamedTempFile::new().unwrap();
        let body = format!(
            "openclaw_gateway_token: {}\ntelegram_bot_token: {}\nanthropic_api_key: {}\nlitellm_master_key: {}\n",
            values[0], values[1], values[2], values[3]
        );
        std::io::Write::write_all(&mut secrets, body.as_bytes()).unwrap();
        std::fs::set_permissions(secrets.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        let ollama = Ollama::start();
        let mut host_vars = tempfile::NamedTempFile::with_suffix(".yml").unwrap();
        // The lab hosts use the machine's engine through its socket: they have no
        // docker.service, so the nightly backup timer (03:15 UTC plus up to 5 minutes), whose
        // service `Requires=docker.service`, fails when it fires and a verify after that sees
        // drift. A schedule no test run reaches keeps the test independent of the time of day.
        let hv = format!(
            "all:\n  vars:\n    backup_on_calendar: \"2100-01-01 00:00:00\"\n  hosts:\n    lab1:\n      openclaw_ollama_enabled: true\n      openclaw_ollama_port: {}\n      openclaw_ollama_host_gateway_ip: {HOST_GATEWAY_IP}\n",
            ollama.port
        );
        std::io::Write::write_all(&mut host_vars, hv.as_bytes()).unwrap();
        Stack {
            lab,
            secrets,
            values,
            host_vars,
            ollama,
        }
    }

    fn args(&self, cmd: &str, playbook: &str) -> Command {
        let mut c = talon();
        c.arg(cmd)
            .arg(root().join(playbook))
            .arg("-i")
            .arg(self.lab.inventory())
            .arg("-i")
            .arg(root().join("inventory/lab.yml"))
            .arg("-i")
            .arg(self.host_vars.path())
            .arg("--secrets")
            .arg(self.secrets.path())
            // Telegram on, so its token is delivered (as a 0600 file) and its path configured.
            .args(["-e", "openclaw_telegram_enabled=true"])
            .env("TALON_STATE_DIR", self.lab.dir.path().join("state"));
        c
    }

    fn run(&self, extra: &[&str]) -> Run {
        Run::from(
            self.args("run", "playbooks/site.yml")
                .args(extra)
                .output()
                .unwrap(),
        )
    }

    fn verify(&self) -> Run {
        self.verify_with(&[])
    }

    fn verify_with(&self, extra: &[&str]) -> Run {
        Run::from(
            self.args("verify", "playbooks/site.yml")
                .args(extra)
                .output()
                .unwrap(),
        )
    }

    fn assert_no_secret(&self, what: &str, text: &str) {
        for v in &self.values {
            assert!(!text.contains(v.as_str()), "a secret value appears in {what}");
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.compose_down();
    }
}

impl Stack {
    /// Removes every host's stack containers and volumes (`docker-compose down -v`).
    fn compose_down(&self) {
        for (host, _) in &self.lab.hosts {
            let idx = host.trim_start_matches("lab");
            let project = format!("openclaw-lab{idx}");
            let dir = self
                .lab
                .dir
                .path()
                .canonicalize()
                .unwrap()
                .join(format!("shared/{host}/openclaw"));
            let _ = Command::new("docker-compose")
                .args(["-p", &project, "down", "-v", "--remove-orphans"])
                .current_dir(&dir)
                .output();
        }
    }
}

/// Reads every process's argv on this machine (which sees the lab hosts' and their containers'
/// processes) until stopped; returns every argv seen that contains one of `needles`.
fn watch_argv(needles: Vec<String>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut hits = Vec::new();
        let mut scans = 0u64;
        while !stop.load(Ordering::Relaxed) {
            if let Ok(dir) = std::fs::read_dir("/proc") {
                for e in dir.flatten() {
                    if let Ok(raw) = std::fs::read(e.path().join("cmdline")) {
                        let argv = String::from_utf8_lossy(&raw).replace('\0', " ");
                        if needles.iter().any(|n| argv.contains(n.as_str())) {
                            hits.push(argv);
                        }
                    }
                }
            }
            scans += 1;
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(scans > 10, "the argv watcher barely ran");
        hits
    })
}

const OLLAMA_INSTALLED: &str = "Ollama model is installed (from the gateway)";
const OLLAMA_TOOLS: &str = "Ollama model has the tools capability (from the gateway)";

/// The verdicts of a check's row for lab1 and lab2, read from verify's table.
fn cells(run: &Run, check: &str) -> Vec<String> {
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains(check))
        .unwrap_or_else(|| panic!("no row {check}:\n{}", run.stdout));
    let rest = &line[line.find(check).unwrap() + check.len()..];
    rest.split_whitespace().map(str::to_string).collect()
}

#[test]
fn openclaw_stack_converges_verifies_and_repairs() {
    let stack = Stack::up();
    let base = |host: &str| {
        stack
            .lab
            .dir
            .path()
            .canonicalize()
            .unwrap()
            .join(format!("shared/{host}/openclaw"))
            .display()
            .to_string()
    };

    // A handler that restarts a service whose container was never created: no failure.
    // Rendering notifies the `recreate` handlers, which run whatever the tags (as in
    // ansible-core) and create containers: remove them again.
    stack.run(&["--tags", "stack_render"]).assert_code(0);
    stack.compose_down();
    let restart = "- hosts: lab\n  gather_facts: false\n  roles: [stack_common]\n  tasks:\n    - command: 'true'\n      changed_when: true\n      notify: restart litellm\n  handlers:\n    - name: restart litellm\n      docker_compose:\n        project_src: \"{{ stack_base_dir }}\"\n        project_name: \"{{ stack_project_name }}\"\n        state: restarted\n        services: [litellm]\n";
    let p = stack.lab.dir.path().join("restart-handler.yml");
    std::fs::write(&p, restart).unwrap();
    let r = Run::from(
        stack
            .args("run", p.to_str().unwrap())
            .env("ANSIBLE_ROLES_PATH", root().join("playbooks/roles"))
            .output()
            .unwrap(),
    );
    r.assert_code(0);
    assert!(
        r.stdout.contains("RUNNING HANDLER [restart litellm] ****") && r.stdout.contains("\nok: [lab1]\n"),
        "{}",
        r.stdout
    );

    // The whole site, watched: no secret value in any process's argv.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_argv(stack.values.clone(), stop.clone());
    let first = stack.run(&[]);
    stop.store(true, Ordering::Relaxed);
    let hits = watcher.join().unwrap();
    first.assert_code(0);
    assert!(
        hits.is_empty(),
        "secret values seen in argv: {} process(es)",
        hits.len()
    );
    stack.assert_no_secret(
        "the first run's output",
        &format!("{}{}", first.stdout, first.stderr),
    );
    for (host, _) in &stack.lab.hosts {
        // Secrets reached their files, 0600, and no temp file was left next to them.
        let tok = format!("{}/openclaw-secrets/telegram_bot_token", base(host));
        assert_eq!(std::fs::read_to_string(&tok).unwrap(), stack.values[1]);
        assert_eq!(
            std::fs::metadata(&tok).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let leftovers = Command::new("sh")
            .args(["-c", &format!("find '{}' -name '.talon*' | head", base(host))])
            .output()
            .unwrap();
        assert_eq!(text(&leftovers.stdout), "", "temp files left behind");
    }

    let verified = stack.verify();
    verified.assert_code(0);
    assert!(
        verified.stdout.contains("checks passed on 2 host(s)"),
        "{}",
        verified.stdout
    );
    for check in [
        "Only Caddy publishes ports",
        "Every image the stack and its jobs use is present",
        "No secret appears in any process command line",
    ] {
        assert!(
            verified
                .stdout
                .lines()
                .any(|l| l.contains(check) && l.contains("PASS")),
            "{check}:\n{}",
            verified.stdout
        );
    }
    stack.assert_no_secret("verify's output", &verified.stdout);
    // Ollama: checked on lab1 (configured), skipped on lab2 (not configured).
    for check in [OLLAMA_INSTALLED, OLLAMA_TOOLS] {
        assert_eq!(cells(&verified, check), ["PASS", "skip"], "{}", verified.stdout);
    }
    // The probe went through the egress proxy (plain HTTP, allowed by the ACL and by
    // --allow-address), as the gateway's own traffic does.
    let logs = Command::new("docker")
        .args(["logs", "openclaw-lab1-egress"])
        .output()
        .unwrap();
    let want = format!("allow host.docker.internal:{} (http)", stack.ollama.port);
    assert!(
        text(&logs.stderr).contains(&want),
        "{want} not in the proxy's log:\n{}",
        text(&logs.stderr)
    );

    // A model without tool calling, then one that is not installed: named in the reasons.
    let no_tools = stack.verify_with(&["--no-drift", "-e", "openclaw_ollama_model=llama3.2:3b"]);
    assert_eq!(no_tools.code, 2, "{}", no_tools.stdout);
    assert_eq!(cells(&no_tools, OLLAMA_INSTALLED), ["PASS", "skip"]);
    assert_eq!(cells(&no_tools, OLLAMA_TOOLS), ["FAIL", "skip"]);
    assert!(
        no_tools.stdout.contains(&format!(
            "- lab1: verify : {OLLAMA_TOOLS}: model llama3.2:3b lacks tools capability (capabilities: completion)"
        )),
        "{}",
        no_tools.stdout
    );
    let missing = stack.verify_with(&["--no-drift", "-e", "openclaw_ollama_model=mistral:7b"]);
    assert_eq!(missing.code, 2, "{}", missing.stdout);
    for check in [OLLAMA_INSTALLED, OLLAMA_TOOLS] {
        assert_eq!(cells(&missing, check), ["FAIL", "skip"], "{}", missing.stdout);
        assert!(
            missing.stdout.contains(&format!(
                "- lab1: verify : {check}: model mistral:7b not installed (installed: llama3.2:3b, qwen2.5:7b)"
            )),
            "{}",
            missing.stdout
        );
    }

    let second = stack.run(&[]);
    second.assert_code(0);
    assert_eq!(second.changed("lab1"), 0, "{}", second.stdout);
    assert_eq!(second.changed("lab2"), 0, "{}", second.stdout);

    // The backup job's script, then data lost, then the restore script brings it back.
    let volume_run = |script: &str| {
        let out = Command::new("docker")
            .args([
                "run",
                "--rm",
                "-v",
                "openclaw-lab1-data:/d",
                "talon-stack/backup:1",
                "sh",
                "-c",
                script,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    volume_run("echo keep-me > /d/restore-marker");
    stack.lab.sh_ok("lab1", "/usr/local/sbin/openclaw-backup");
    let archive = stack.lab.sh_ok(
        "lab1",
        &format!("ls {}/backups/openclaw-data-*.tar.gz | tail -n 1", base("lab1")),
    );
    volume_run("rm /d/restore-marker");
    stack.lab.sh_ok(
        "lab1",
        &format!("/usr/local/sbin/openclaw-restore {}", archive.trim()),
    );
    assert_eq!(volume_run("cat /d/restore-marker"), "keep-me\n");
    stack.verify().assert_code(0);

    // Stop a container on lab2 and edit the golden config by hand on lab1.
    let st = Command::new("docker")
        .args(["stop", "openclaw-lab2-redis"])
        .output()
        .unwrap();
    assert!(st.status.success());
    std::fs::write(
        format!("{}/openclaw/openclaw.json", base("lab1")),
        "{\"gateway\": {\"mode\": \"local\"}}\n",
    )
    .unwrap();
    let bad = stack.verify();
    assert_eq!(bad.code, 2, "{}", bad.stdout);
    assert!(
        bad.stdout
            .contains("- lab2: verify : Every stack container is running and not restarting: exited"),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout.contains("(item=openclaw-lab2-redis)"),
        "{}",
        bad.stdout
    );
    assert!(bad.stdout.contains("- lab1: config drift (check mode: nothing would change): would change: config : OpenClaw golden config"), "{}", bad.stdout);
    assert!(
        !bad.stdout.contains("- lab1: verify : Every stack container"),
        "{}",
        bad.stdout
    );

    let repair = stack.run(&[]);
    repair.assert_code(0);
    assert!(
        repair.changed("lab1") > 0 && repair.changed("lab2") > 0,
        "{}",
        repair.stdout
    );
    stack.verify().assert_code(0);
}
