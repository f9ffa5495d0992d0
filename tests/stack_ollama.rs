//! The `ollama` role and the host-side Ollama / GPU checks of the verify role, on lab hosts.
//!
//! - `ollama_role_*`: a `--systemd` lab host runs the Ollama stand-in (images/ollama-standin's
//!   server) as the `ollama` systemd unit. The role writes its drop-in, restarts the unit (which
//!   then listens on the configured address), a second run changes nothing, verify passes, a
//!   hand edit and a second drop-in exposing `0.0.0.0` are caught, unsafe settings (`0.0.0.0`,
//!   a public address, q8_0 without flash attention) are refused before anything changes, and a
//!   missing model fails naming the model and why it cannot be pulled.
//! - `gpu_preflight_*`: what `nvidia-smi` and `docker info` printed on real machines (posted
//!   publicly; tests/fixtures/gpu/README.md names each source) placed on a lab host as its
//!   `nvidia-smi` and `docker`: no GPU (skipped), healthy (drivers 550 and 610), driver too old
//!   (470), no nvidia runtime, a GPU mostly used, nvidia-smi not answering; each check fails
//!   with its own reason.
//! - `vram_formula_*`: the KV cache formula against numbers worked out by hand.
//! - `d15_*`: an unsafe `OLLAMA_HOST` refused at load, before any host is contacted.

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

const DROPIN: &str = "/etc/systemd/system/ollama.service.d/talon.conf";

#[test]
fn ollama_role_manages_the_dropin_and_verify_catches_drift() {
    let lab = Lab::up_with(1, &["--systemd"]);
    let h = "lab1";
    common::ollama::standin_unit(&lab, h, "qwen2.5:7b=completion,tools;llama3.2:3b=completion");
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
        assert!(!r.stdout.contains("TASK ["), "{extra}: tasks ran:\n{}", r.stdout);
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

const PRESENT: &str = "nvidia-smi answers";
const DRIVER: &str = "NVIDIA driver is at least";
const RUNTIME: &str = "Docker lists the nvidia runtime";
const VRAM: &str = "free VRAM holds the model";

/// The recordings (tests/fixtures/gpu/) as lab1's `nvidia-smi` (exiting `smi_rc`) and `docker`.
fn place(lab: &Lab, smi: &str, smi_rc: i32, docker_info: &str) {
    common::ollama::place_gpu(lab, "lab1", smi, smi_rc, docker_info);
}

const NVIDIA: &str = "docker-info-nvidia.txt";
const NO_NVIDIA: &str = "docker-info-no-nvidia.txt";

#[test]
fn gpu_preflight_against_recorded_nvidia_smi_outputs() {
    let lab = Lab::up(1);
    let pb = playbook(&lab, "gpu.yml", common::ollama::GPU_PLAYBOOK);
    let gpu = ["-e", "openclaw_gpu_containers=true"];
    let fails = |v: &Run, check: &str, why: &str| {
        assert_ne!(v.code, 0, "{}", v.stdout);
        assert_eq!(verdict(v, check), "FAIL", "{check}\n{}", v.stdout);
        assert!(v.stdout.contains(why), "{why:?} not in:\n{}", v.stdout);
    };

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

    // Healthy: driver 550 (and 610, whose header says "KMD Version"), VRAM to spare.
    for (smi, seen) in [
        (
            "nvidia-smi-550-rtx4070.txt",
            "free VRAM 11852 MiB on NVIDIA GeForce RTX 4070",
        ),
        ("nvidia-smi-610-kmd.txt", "driver 610.43.03 >= 535"),
    ] {
        place(&lab, smi, 0, NVIDIA);
        let v = run_cmd(
            &lab,
            "run",
            &pb,
            &["-t", "gpu", "-v", "-e", "openclaw_gpu_containers=true"],
        );
        v.assert_code(0);
        assert!(v.stdout.contains(seen), "{seen:?} not in:\n{}", v.stdout);
        let v = run_cmd(&lab, "verify", &pb, &gpu);
        v.assert_code(0);
        for c in [PRESENT, DRIVER, RUNTIME, VRAM] {
            assert_eq!(verdict(&v, c), "PASS", "{smi}: {c}\n{}", v.stdout);
        }
    }
    // The runtime is checked only when GPU containers are asked for.
    place(&lab, "nvidia-smi-550-rtx4070.txt", 0, NO_NVIDIA);
    let v = run_cmd(&lab, "verify", &pb, &[]);
    v.assert_code(0);
    assert_eq!(verdict(&v, RUNTIME), "skip");

    // `talon verify -t gpu` on the stack's own playbook runs only the GPU pre-flight.
    place(&lab, "nvidia-smi-550-rtx4070.txt", 0, NVIDIA);
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

    // Driver too old (470 on a 32 GB V100), and Docker without the nvidia runtime: only the
    // check at fault fails.
    for (smi, docker, check, why, passes) in [
        (
            "nvidia-smi-470-v100.txt",
            NVIDIA,
            DRIVER,
            "NVIDIA driver 470.223.02 on Tesla V100-PCIE... is older than the required 535",
            VRAM,
        ),
        (
            "nvidia-smi-550-rtx4070.txt",
            NO_NVIDIA,
            RUNTIME,
            "Docker has no nvidia runtime (runtimes: io.containerd.runc.v2 runc)",
            DRIVER,
        ),
    ] {
        place(&lab, smi, 0, docker);
        let v = run_cmd(&lab, "verify", &pb, &gpu);
        fails(&v, check, why);
        assert_eq!(verdict(&v, passes), "PASS", "{smi}\n{}", v.stdout);
    }

    // A GPU mostly used (473 MiB free of 8 GB): qwen2.5:7b (4466 MiB) + KV 16384 x 1 q8_0
    // (476 MiB) + 1024 MiB = 5966 MiB do not fit.
    place(&lab, "nvidia-smi-550-tesla-p4-busy.txt", 0, NVIDIA);
    let v = run_cmd(&lab, "verify", &pb, &gpu);
    fails(&v, VRAM, "the model needs 5966 MiB");
    assert!(
        v.stdout.contains("the best GPU (Tesla P4) has 473 MiB free"),
        "{}",
        v.stdout
    );
    assert_eq!(verdict(&v, DRIVER), "PASS");
    // The need follows the settings: an f16 KV cache (896 MiB a slot) for 4 slots.
    let v = run_cmd(
        &lab,
        "verify",
        &pb,
        &["-e", "ollama_kv_cache_type=f16", "-e", "ollama_num_parallel=4"],
    );
    fails(
        &v,
        VRAM,
        &format!("the model needs {} MiB", 4466 + 4 * 896 + 1024),
    );

    // nvidia-smi installed but not answering (driver and library versions differ).
    place(&lab, "nvidia-smi-nvml-mismatch.txt", 1, NVIDIA);
    let v = run_cmd(&lab, "verify", &pb, &gpu);
    fails(
        &v,
        PRESENT,
        "nvidia-smi is installed but does not answer: Failed to initialize NVML: Driver/library version mismatch",
    );
}

/// A playbook on the controller itself (no host): the verify role's KV cache formula
/// rendered with the given model shape and settings.
fn kv_cache_mb(extra: &[&str]) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("kv.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: localhost\n  connection: local\n  gather_facts: false\n  roles: [stack_common]\n  vars_files: [{}]\n  tasks:\n    - debug:\n        msg: \"KV={{{{ verify_gpu_kv_cache_mb }}}}\"\n",
            root().join("playbooks/roles/verify/defaults/main.yml").display()
        ),
    )
    .unwrap();
    let out = talon()
        .arg("run")
        .arg(&pb)
        .args(["-i", "localhost,"])
        .args(extra)
        .env("ANSIBLE_ROLES_PATH", root().join("playbooks/roles"))
        .env("TALON_STATE_DIR", dir.path().join("state"))
        .output()
        .unwrap();
    let r = Run::from(out);
    r.assert_code(0);
    let at = r.stdout.find("KV=").unwrap_or_else(|| panic!("{}", r.stdout));
    r.stdout[at + 3..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// Ollama's KV cache estimate (fs/ggml/ggml.go, GraphSize) with ggml's bytes per element, for
/// llama3.1:8b (32 layers, 8 KV heads, head dim 128), 16384 tokens, 1 slot, by hand:
/// 32 x 16384 x 8 x (128 + 128) = 2^30 elements; f16 x 2 = 2048 MiB; q8_0 x 34/32 = 1088 MiB;
/// q4_0 x 18/32 = 576 MiB; two slots double it.
#[test]
fn vram_formula_counts_the_kv_cache_as_ollama_and_ggml_do() {
    let llama = [
        "-e",
        "gpu_model_layers=32",
        "-e",
        "gpu_model_kv_heads=8",
        "-e",
        "gpu_model_head_dim=128",
        "-e",
        "ollama_context_length=16384",
    ];
    let with = |kv: &str, parallel: &str| {
        let mut a = llama.to_vec();
        a.extend(["-e", kv, "-e", parallel]);
        kv_cache_mb(&a)
    };
    assert_eq!(with("ollama_kv_cache_type=f16", "ollama_num_parallel=1"), 2048);
    assert_eq!(with("ollama_kv_cache_type=q8_0", "ollama_num_parallel=1"), 1088);
    assert_eq!(with("ollama_kv_cache_type=q4_0", "ollama_num_parallel=1"), 576);
    assert_eq!(with("ollama_kv_cache_type=q8_0", "ollama_num_parallel=2"), 2176);
    // The defaults (qwen2.5:7b: 28 layers, 4 KV heads, head dim 128; 16384 x 1, q8_0):
    // 28 x 16384 x 4 x 256 x 34/32 B = 476 MiB.
    assert_eq!(kv_cache_mb(&[]), 476);
}

/// d15: an unsafe OLLAMA_HOST is refused when the playbook loads, before any host is
/// contacted: the inventory's only host is an address nothing answers on (TEST-NET-1), so a
/// run that got as far as a task would report it unreachable instead.
#[test]
fn d15_unsafe_ollama_host_is_refused_at_load_before_any_host_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("ollama.yml");
    std::fs::write(&pb, ROLE_PLAYBOOK.split("- name: verify").next().unwrap()).unwrap();
    std::fs::create_dir_all(dir.path().join("inv/group_vars")).unwrap();
    std::fs::write(dir.path().join("inv/hosts"), "ghost ansible_host=192.0.2.1\n").unwrap();
    let run_with = |manage: bool, value: &str, extra: &[&str]| {
        std::fs::write(
            dir.path().join("inv/group_vars/all.yml"),
            format!("openclaw_ollama_manage: {manage}\nollama_listen_address: \"{value}\"\n"),
        )
        .unwrap();
        let start = std::time::Instant::now();
        let out = talon()
            .arg("run")
            .arg(&pb)
            .arg("-i")
            .arg(dir.path().join("inv/hosts"))
            .args(extra)
            .env("ANSIBLE_ROLES_PATH", root().join("playbooks/roles"))
            .env("TALON_STATE_DIR", dir.path().join("state"))
            .output()
            .unwrap();
        (Run::from(out), start.elapsed())
    };
    let run = |value: &str| run_with(true, value, &[]);
    for value in ["0.0.0.0", "::", "8.8.8.8", "ollama.example.com"] {
        let (r, took) = run(value);
        assert_ne!(r.code, 0, "{value} accepted:\n{}", r.stdout);
        assert!(!r.stdout.contains("TASK ["), "{value}: tasks ran:\n{}", r.stdout);
        assert!(
            took.as_secs() < 10,
            "{value}: took {took:?} (a connection was tried?)"
        );
        // The error points at the line that set the value (what to edit), and names the task.
        let set_at = format!("{}:2:1", dir.path().join("inv/group_vars/all.yml").display());
        for want in [
            &format!("[ERROR]: {set_at}: refusing to run"),
            &format!("ollama_listen_address is set at {set_at}"),
            "roles/ollama/tasks/main.yml:",
            "refusing to run (checked at load, no host was touched)",
            "host ghost",
            &format!("ollama_listen_address is '{value}'"),
            "fix the value in the inventory, group_vars/host_vars or -e",
        ] {
            assert!(r.stderr.contains(want), "{value}: {want:?} not in:\n{}", r.stderr);
        }
    }
    // A default built from another variable is followed to where that one was set.
    std::fs::write(
        dir.path().join("inv/group_vars/all.yml"),
        "openclaw_ollama_manage: true\nopenclaw_ollama_host_gateway_ip: 0.0.0.0\n",
    )
    .unwrap();
    let out = talon()
        .arg("run")
        .arg(&pb)
        .arg("-i")
        .arg(dir.path().join("inv/hosts"))
        .env("ANSIBLE_ROLES_PATH", root().join("playbooks/roles"))
        .env("TALON_STATE_DIR", dir.path().join("state"))
        .output()
        .unwrap();
    let r = Run::from(out);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("ollama_listen_address is set at")
            && r.stderr.contains("stack_common/defaults/main.yml:")
            && r.stderr.contains(&format!(
                "openclaw_ollama_host_gateway_ip is set at {}:2:1",
                dir.path().join("inv/group_vars/all.yml").display()
            )),
        "{}",
        r.stderr
    );
    // On this machine itself (connection local), so that a run that passes the load check ends
    // quickly: a disabled role is not checked (every task of it is skipped); --skip-tags of
    // another tag leaves the check on.
    std::fs::write(dir.path().join("inv/hosts"), "ghost ansible_connection=local\n").unwrap();
    let (r, _) = run_with(false, "0.0.0.0", &[]);
    r.assert_code(0);
    assert!(!r.stderr.contains("refusing"), "{}", r.stderr);
    let (r, _) = run_with(true, "0.0.0.0", &["--skip-tags", "nothing_else"]);
    assert!(r.stderr.contains("checked at load"), "{}", r.stderr);
}
