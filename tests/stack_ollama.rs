//! The `ollama` role and the host-side Ollama / GPU checks of the verify role, on lab hosts.
//!
//! - `ollama_role_*`: a `--systemd` lab host runs the Ollama stand-in (images/ollama-standin's
//!   server) as the `ollama` systemd unit. The role writes its drop-in, restarts the unit (which
//!   then listens on the configured address), a second run changes nothing, verify passes, a
//!   hand edit and a second drop-in exposing `0.0.0.0` are caught, unsafe settings (`0.0.0.0`,
//!   a public address, q8_0 without flash attention) are refused before anything changes, and a
//!   missing model fails naming the model and why it cannot be pulled.
//! - `gpu_preflight_*`: nvidia-smi outputs in nvidia-smi's CSV query format (`driver_version,
//!   memory.total, memory.free, name`, MiB) placed on a lab host as its `nvidia-smi`, and a
//!   `docker` answering `docker info --format {{json .Runtimes}}`: no GPU (skipped), healthy,
//!   driver too old, no nvidia runtime, low VRAM, nvidia-smi not answering; each check fails
//!   with its reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{Lab, Run, root, talon};

/// A playbook in the lab's folder using the repo's roles (ANSIBLE_ROLES_PATH).
fn playbook(lab: &Lab, name: &str, body: &str) -> PathBuf {
    let p = lab.dir.path().join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn run_cmd(lab: &Lab, cmd: &str, pb: &Path, extra: &[&str]) -> Run {
    let mut c = talon();
    c.arg(cmd).arg(pb).arg("-i").arg(lab.inventory());
    if cmd == "verify" {
        c.arg("--no-drift");
    }
    c.arg("-e")
        .arg(format!(
            "stack_templates_dir={}",
            root().join("templates").display()
        ))
        .args(extra)
        .env("ANSIBLE_ROLES_PATH", root().join("playbooks/roles"))
        .env("TALON_STATE_DIR", lab.dir.path().join("state"));
    Run::from(c.output().unwrap())
}

/// The verdict of a check in `talon verify`'s table (the row whose name contains `check`).
fn verdict<'a>(r: &'a Run, check: &str) -> &'a str {
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains(check) && !l.trim_start().starts_with("- "))
        .unwrap_or_else(|| panic!("no row {check:?} in:\n{}\n{}", r.stdout, r.stderr));
    line.split_whitespace().last().unwrap()
}

const ROLE_PLAYBOOK: &str = "\
- hosts: all
  become: true
  gather_facts: false
  roles: [stack_common, ollama]
- name: verify
  hosts: all
  gather_facts: false
  roles: [stack_common]
  tasks:
    - import_role:
        name: verify
        tasks_from: ollama_host
";

const UNIT: &str = "[Unit]
Description=Ollama (talon lab stand-in)
[Service]
Environment=OLLAMA_STANDIN_MODELS=qwen2.5:7b=completion,tools;llama3.2:3b=completion
ExecStart=/usr/bin/python3 /usr/local/lib/ollama.py
[Install]
WantedBy=multi-user.target
";

const DROPIN: &str = "/etc/systemd/system/ollama.service.d/talon.conf";

#[test]
fn ollama_role_manages_the_dropin_and_verify_catches_drift() {
    let lab = Lab::up_with(1, &["--systemd"]);
    let h = "lab1";
    let c = lab.container(h).to_string();
    let out = std::process::Command::new("docker")
        .arg("cp")
        .arg(root().join("images/ollama-standin/ollama.py"))
        .arg(format!("{c}:/usr/local/lib/ollama.py"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    lab.sh_ok(
        h,
        &format!(
            "cat > /etc/systemd/system/ollama.service <<'EOF'\n{UNIT}EOF\nsystemctl daemon-reload && systemctl enable --now ollama.service"
        ),
    );
    // The host's own (private) address: what the drop-in must make Ollama listen on.
    let ip = lab.sh_ok(h, "hostname -I | awk '{print $1}'").trim().to_string();
    assert!(
        ip.starts_with("172.") || ip.starts_with("10.") || ip.starts_with("192.168."),
        "{ip}"
    );
    let pb = playbook(&lab, "ollama.yml", ROLE_PLAYBOOK);
    let addr = format!("ollama_listen_address={ip}");
    let base = ["-e", "openclaw_ollama_manage=true", "-e", addr.as_str()];

    // Off by default: nothing is written.
    let r = run_cmd(&lab, "run", &pb, &["-e", addr.as_str()]);
    r.assert_code(0);
    assert!(lab.read(h, DROPIN).is_none(), "the role must be off by default");

    // First run: drop-in rendered, unit restarted with it, listening on the address only.
    let r = run_cmd(&lab, "run", &pb, &base);
    r.assert_code(0);
    assert!(r.changed(h) >= 2, "{}", r.stdout);
    let conf = lab.read(h, DROPIN).unwrap();
    for want in [
        format!("Environment=\"OLLAMA_HOST={ip}:11434\""),
        "Environment=\"OLLAMA_CONTEXT_LENGTH=16384\"".into(),
        "Environment=\"OLLAMA_FLASH_ATTENTION=1\"".into(),
        "Environment=\"OLLAMA_KV_CACHE_TYPE=q8_0\"".into(),
        "Environment=\"OLLAMA_NUM_PARALLEL=1\"".into(),
        "Environment=\"OLLAMA_MAX_LOADED_MODELS=1\"".into(),
    ] {
        assert!(conf.contains(&want), "{want} not in:\n{conf}");
    }
    let env = lab.sh_ok(h, "systemctl show -p Environment --value ollama.service");
    assert!(env.contains(&format!("OLLAMA_HOST={ip}:11434")), "{env}");
    let ss = lab.sh_ok(h, "ss -Hltn 'sport = :11434'");
    assert!(
        ss.contains(&format!("{ip}:11434")) && !ss.contains("127.0.0.1:11434"),
        "{ss}"
    );

    // Second run: nothing changes (no restart either).
    let pid = lab.sh_ok(h, "systemctl show -p MainPID --value ollama.service");
    let r = run_cmd(&lab, "run", &pb, &base);
    r.assert_code(0);
    assert_eq!(r.changed(h), 0, "{}", r.stdout);
    assert_eq!(
        pid,
        lab.sh_ok(h, "systemctl show -p MainPID --value ollama.service")
    );

    // verify passes: listener, drop-in, model, tools.
    let v = run_cmd(&lab, "verify", &pb, &base);
    v.assert_code(0);
    for check in [
        "Ollama listens only on OLLAMA_HOST",
        "Ollama override on the host is the rendered one",
        "Ollama model is installed (on the host)",
        "Ollama model has the tools capability (on the host)",
    ] {
        assert_eq!(verdict(&v, check), "PASS", "{check}\n{}", v.stdout);
    }

    // A model without tools, and one not installed: named.
    let v = run_cmd(
        &lab,
        "verify",
        &pb,
        &[
            base[0],
            base[1],
            base[2],
            base[3],
            "-e",
            "openclaw_ollama_model=llama3.2:3b",
        ],
    );
    assert_ne!(v.code, 0);
    assert_eq!(
        verdict(&v, "Ollama model has the tools capability (on the host)"),
        "FAIL"
    );
    assert!(v.stdout.contains("llama3.2:3b lacks tools"), "{}", v.stdout);

    // A hand edit of the drop-in is drift, naming the edited line.
    lab.sh_ok(
        h,
        &format!("sed -i 's/OLLAMA_NUM_PARALLEL=1/OLLAMA_NUM_PARALLEL=4/' {DROPIN}"),
    );
    let v = run_cmd(&lab, "verify", &pb, &base);
    assert_ne!(v.code, 0, "{}", v.stdout);
    assert_eq!(
        verdict(&v, "Ollama override on the host is the rendered one"),
        "FAIL"
    );
    assert!(
        v.stdout.contains("edited by hand") && v.stdout.contains("OLLAMA_NUM_PARALLEL=4"),
        "{}",
        v.stdout
    );
    // The next run repairs it.
    let r = run_cmd(&lab, "run", &pb, &base);
    r.assert_code(0);
    assert!(r.changed(h) >= 1);
    run_cmd(&lab, "verify", &pb, &base).assert_code(0);

    // A second drop-in exposing Ollama on 0.0.0.0 (the post-mortem's drifted override).
    lab.sh_ok(
        h,
        "printf '[Service]\\nEnvironment=\"OLLAMA_HOST=0.0.0.0:11434\"\\n' > /etc/systemd/system/ollama.service.d/zz-local.conf \
         && systemctl daemon-reload && systemctl restart ollama.service && sleep 1",
    );
    let v = run_cmd(&lab, "verify", &pb, &base);
    assert_ne!(v.code, 0);
    assert_eq!(verdict(&v, "Ollama listens only on OLLAMA_HOST"), "FAIL");
    assert_eq!(
        verdict(&v, "Ollama override on the host is the rendered one"),
        "FAIL"
    );
    assert!(v.stdout.contains("0.0.0.0:11434"), "{}", v.stdout);
    assert!(
        v.stdout.contains("second override") && v.stdout.contains("zz-local.conf"),
        "{}",
        v.stdout
    );
    lab.sh_ok(
        h,
        "rm /etc/systemd/system/ollama.service.d/zz-local.conf && systemctl daemon-reload && systemctl restart ollama.service",
    );

    // Unsafe settings are refused before anything changes.
    let before = lab.read(h, DROPIN).unwrap();
    for (extra, why) in [
        ("ollama_listen_address=0.0.0.0", "'0.0.0.0'"),
        ("ollama_listen_address=8.8.8.8", "'8.8.8.8'"),
        (
            "ollama_flash_attention=false",
            "needs ollama_flash_attention: true",
        ),
    ] {
        let r = run_cmd(
            &lab,
            "run",
            &pb,
            &[base[0], base[1], base[2], base[3], "-e", extra],
        );
        assert_ne!(r.code, 0, "{extra} accepted:\n{}", r.stdout);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(
            all.contains("refusing Ollama settings") && all.contains(why),
            "{extra}:\n{all}"
        );
        assert_eq!(
            lab.read(h, DROPIN).unwrap(),
            before,
            "{extra} changed the drop-in"
        );
    }

    // A model that is not installed: pulled, and here (no ollama CLI) a clear failure.
    let r = run_cmd(
        &lab,
        "run",
        &pb,
        &[
            base[0],
            base[1],
            base[2],
            base[3],
            "-e",
            "openclaw_ollama_model=mistral:7b",
        ],
    );
    assert_ne!(r.code, 0);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("cannot pull mistral:7b"), "{all}");

    // With an `ollama` CLI: a pull that hangs is stopped at ollama_pull_timeout, and one that
    // cannot reach the registry fails naming it (the CLI's own message is kept above ours).
    let missing = ["-e", "openclaw_ollama_model=mistral:7b"];
    lab.sh_ok(
        h,
        "printf '#!/bin/sh\\necho \"OLLAMA_HOST=$OLLAMA_HOST $*\" > /tmp/ollama-args\\nexec sleep 30\\n' > /usr/local/bin/ollama && chmod 755 /usr/local/bin/ollama",
    );
    let mut args = base.to_vec();
    args.extend(missing);
    args.extend(["-e", "ollama_pull_timeout=2"]);
    let r = run_cmd(&lab, "run", &pb, &args);
    assert_ne!(r.code, 0);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("ollama pull mistral:7b did not finish in 2 s"),
        "{all}"
    );
    assert_eq!(
        lab.read(h, "/tmp/ollama-args").unwrap().trim(),
        format!("OLLAMA_HOST={ip}:11434 pull mistral:7b")
    );
    lab.sh_ok(
        h,
        "printf '#!/bin/sh\\necho \"Error: pull model manifest: dial tcp: lookup registry.ollama.ai: no such host\" >&2\\nexit 1\\n' > /usr/local/bin/ollama",
    );
    let mut args = base.to_vec();
    args.extend(missing);
    let r = run_cmd(&lab, "run", &pb, &args);
    assert_ne!(r.code, 0);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("no such host") && all.contains("ollama pull mistral:7b failed (rc=1)"),
        "{all}"
    );
}

#[test]
fn ollama_role_restart_handler_tolerates_a_missing_unit() {
    let lab = Lab::up_with(1, &["--systemd"]);
    let role_only = ROLE_PLAYBOOK.split("- name: verify").next().unwrap();
    let pb = playbook(&lab, "ollama.yml", role_only);
    let r = run_cmd(
        &lab,
        "run",
        &pb,
        &[
            "-e",
            "openclaw_ollama_manage=true",
            "-e",
            "ollama_listen_address=127.0.0.1",
        ],
    );
    r.assert_code(0);
    assert!(
        r.stdout.contains("ollama.service is not installed") || r.changed("lab1") >= 2,
        "{}",
        r.stdout
    );
    assert!(
        lab.read("lab1", DROPIN)
            .unwrap()
            .contains("OLLAMA_HOST=127.0.0.1:11434")
    );
    let r = run_cmd(
        &lab,
        "run",
        &pb,
        &[
            "-e",
            "openclaw_ollama_manage=true",
            "-e",
            "ollama_listen_address=127.0.0.1",
        ],
    );
    r.assert_code(0);
    assert_eq!(r.changed("lab1"), 0, "{}", r.stdout);
}

const GPU_PLAYBOOK: &str = "\
- name: verify
  hosts: all
  gather_facts: false
  roles: [stack_common]
  tasks:
    - import_role:
        name: verify
        tasks_from: gpu
";

const PRESENT: &str = "nvidia-smi answers";
const DRIVER: &str = "NVIDIA driver is at least";
const RUNTIME: &str = "Docker lists the nvidia runtime";
const VRAM: &str = "free VRAM holds the model";

/// nvidia-smi outputs (`--query-gpu=driver_version,memory.total,memory.free,name
/// --format=csv,noheader,nounits`), one line per GPU.
const HEALTHY: &str = "550.54.15, 24564, 23012, NVIDIA GeForce RTX 4090\n";
const OLD_DRIVER: &str = "470.223.02, 24576, 22950, NVIDIA GeForce RTX 3090\n";
const LOW_VRAM: &str = "535.183.01, 8192, 3906, NVIDIA GeForce RTX 3070\n";
/// `docker info --format '{{json .Runtimes}}'` without and with the NVIDIA runtime.
const RUNTIMES_PLAIN: &str = r#"{"io.containerd.runc.v2":{"path":"runc"},"runc":{"path":"runc"}}"#;
const RUNTIMES_NVIDIA: &str = r#"{"io.containerd.runc.v2":{"path":"runc"},"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}"#;

fn place(lab: &Lab, smi: &str, runtimes: &str) {
    lab.sh_ok(
        "lab1",
        &format!(
            "printf '%s' '{smi}' > /etc/nvidia-smi.out && printf '%s\\n' '{runtimes}' > /etc/docker-runtimes.out \
             && printf '#!/bin/sh\\ncat /etc/nvidia-smi.out\\n' > /usr/local/bin/nvidia-smi \
             && printf '#!/bin/sh\\ncat /etc/docker-runtimes.out\\n' > /usr/local/bin/docker \
             && chmod 755 /usr/local/bin/nvidia-smi /usr/local/bin/docker"
        ),
    );
}

#[test]
fn gpu_preflight_against_recorded_nvidia_smi_outputs() {
    let lab = Lab::up(1);
    let pb = playbook(&lab, "gpu.yml", GPU_PLAYBOOK);
    let gpu = ["-e", "openclaw_gpu_containers=true"];

    // No nvidia-smi: passes with "no GPU", the rest skipped.
    let v = run_cmd(&lab, "verify", &pb, &gpu);
    v.assert_code(0);
    assert_eq!(verdict(&v, PRESENT), "PASS");
    for c in [DRIVER, RUNTIME, VRAM] {
        assert_eq!(verdict(&v, c), "skip", "{c}\n{}", v.stdout);
    }
    let r = run_cmd(&lab, "run", &pb, &["-t", "gpu", "-v"]);
    r.assert_code(0);
    assert!(r.stdout.contains("no GPU: nvidia-smi not found"), "{}", r.stdout);

    // Healthy: all pass.
    place(&lab, HEALTHY, RUNTIMES_NVIDIA);
    let v = run_cmd(&lab, "verify", &pb, &gpu);
    v.assert_code(0);
    for c in [PRESENT, DRIVER, RUNTIME, VRAM] {
        assert_eq!(verdict(&v, c), "PASS", "{c}\n{}", v.stdout);
    }
    // The runtime is checked only when GPU containers are asked for.
    let v = run_cmd(&lab, "verify", &pb, &[]);
    v.assert_code(0);
    assert_eq!(verdict(&v, RUNTIME), "skip");

    // `talon verify -t gpu` on the stack's own playbook runs only the GPU pre-flight.
    let group = lab.dir.path().join("group.yml");
    std::fs::write(&group, "openclaw:\n  hosts:\n    lab1:\n").unwrap();
    let out = talon()
        .arg("verify")
        .arg(root().join("playbooks/site.yml"))
        .arg("-i")
        .arg(lab.inventory())
        .arg("-i")
        .arg(&group)
        .args(["-t", "gpu", "-e", "openclaw_gpu_containers=true"])
        .env("TALON_STATE_DIR", lab.dir.path().join("state"))
        .output()
        .unwrap();
    let v = Run::from(out);
    v.assert_code(0);
    for c in [PRESENT, DRIVER, RUNTIME, VRAM] {
        assert_eq!(verdict(&v, c), "PASS", "{c}\n{}", v.stdout);
    }
    assert!(!v.stdout.contains("Every stack container"), "{}", v.stdout);

    // Driver too old.
    place(&lab, OLD_DRIVER, RUNTIMES_NVIDIA);
    let v = run_cmd(&lab, "verify", &pb, &gpu);
    assert_ne!(v.code, 0);
    assert_eq!(verdict(&v, DRIVER), "FAIL");
    assert_eq!(verdict(&v, VRAM), "PASS");
    assert!(
        v.stdout
            .contains("NVIDIA driver 470.223.02 on NVIDIA GeForce RTX 3090 is older than the required 535"),
        "{}",
        v.stdout
    );

    // No nvidia runtime in Docker.
    place(&lab, HEALTHY, RUNTIMES_PLAIN);
    let v = run_cmd(&lab, "verify", &pb, &gpu);
    assert_ne!(v.code, 0);
    assert_eq!(verdict(&v, RUNTIME), "FAIL");
    assert_eq!(verdict(&v, DRIVER), "PASS");
    assert!(v.stdout.contains("Docker has no nvidia runtime"), "{}", v.stdout);

    // Low VRAM: qwen2.5:7b (4466 MiB) + KV 16384 x 1 q8_0 (448 MiB) + 1024 MiB = 5938 MiB.
    place(&lab, LOW_VRAM, RUNTIMES_NVIDIA);
    let v = run_cmd(&lab, "verify", &pb, &gpu);
    assert_ne!(v.code, 0);
    assert_eq!(verdict(&v, VRAM), "FAIL");
    assert_eq!(verdict(&v, DRIVER), "PASS");
    assert!(
        v.stdout.contains("the model needs 5938 MiB") && v.stdout.contains("3906 MiB free"),
        "{}",
        v.stdout
    );
    // The formula follows the settings: f16 KV cache doubles it (896 MiB), 4 slots x4.
    let v = run_cmd(
        &lab,
        "verify",
        &pb,
        &["-e", "ollama_kv_cache_type=f16", "-e", "ollama_num_parallel=4"],
    );
    assert!(
        v.stdout
            .contains(&format!("the model needs {} MiB", 4466 + 4 * 896 + 1024)),
        "{}",
        v.stdout
    );

    // nvidia-smi installed but not answering (driver not loaded).
    lab.sh_ok(
        "lab1",
        "printf '#!/bin/sh\\necho \"NVIDIA-SMI has failed because it couldn'\"'\"'t communicate with the NVIDIA driver.\"\\nexit 9\\n' > /usr/local/bin/nvidia-smi",
    );
    let v = run_cmd(&lab, "verify", &pb, &gpu);
    assert_ne!(v.code, 0);
    assert_eq!(verdict(&v, PRESENT), "FAIL");
    assert!(
        v.stdout.contains("nvidia-smi is installed but does not answer"),
        "{}",
        v.stdout
    );
}
