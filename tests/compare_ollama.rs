//! The `ollama` role run by ansible-playbook and by talon on two identical fresh `--systemd`
//! lab hosts, each running the Ollama stand-in (images/ollama-standin) as the `ollama` unit:
//! the same per-task statuses (handlers included), recap and drop-in tree, and a second talon
//! run that changes nothing. Then the verify role's GPU pre-flight on both hosts, with the same
//! recorded nvidia-smi and docker info outputs (tests/fixtures/gpu/) as their `nvidia-smi` and
//! `docker`: the same statuses as ansible-playbook's, healthy and broken.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, ansible_playbook, collections_path};
use common::root;

const PLAYBOOK: &str = "\
- hosts: all
  become: true
  gather_facts: false
  roles: [stack_common, ollama]
";

const DROPIN_DIR: &str = "/etc/systemd/system/ollama.service.d";

#[test]
fn ollama_role_matches_ansible_playbook_on_systemd_hosts() {
    let c = Compare::with_lab_flags(&["--systemd"]);
    for (host, _) in &c.lab.hosts {
        common::ollama::standin_unit(&c.lab, host, "qwen2.5:7b=completion,tools");
    }
    let pb = c.lab.dir.path().join("ollama.yml");
    std::fs::write(&pb, PLAYBOOK).unwrap();
    let templates = format!("stack_templates_dir={}", root().join("templates").display());
    let extra = [
        "-e",
        templates.as_str(),
        "-e",
        "openclaw_ollama_manage=true",
        "-e",
        "ollama_listen_address=127.0.0.1",
    ];
    let roles = root().join("playbooks/roles");
    let collections = collections_path();
    let env = [
        ("ANSIBLE_ROLES_PATH", roles.to_str().unwrap()),
        ("ANSIBLE_COLLECTIONS_PATH", collections.to_str().unwrap()),
    ];

    let (t, _) = c.same_env(&pb, &extra, &env);
    t.line("ollama : Ollama settings drop-in is rendered => changed");
    t.line("ollama : restart ollama => changed");
    // The folder, the drop-in and the restart (a daemon-reload alone reports ok in both).
    assert_eq!(t.recap[0][1], 3, "{:#?}", t.lines);
    assert_eq!(
        c.lab.tree(c.talon_host(), DROPIN_DIR),
        c.lab.tree(c.ansible_host(), DROPIN_DIR)
    );
    let conf = |h: &str| c.lab.read(h, &format!("{DROPIN_DIR}/talon.conf")).unwrap();
    assert_eq!(conf(c.talon_host()), conf(c.ansible_host()));
    assert!(conf(c.talon_host()).contains("OLLAMA_HOST=127.0.0.1:11434"));

    // Second run on both: nothing changes, no handler runs.
    let (t, a) = c.same_env(&pb, &extra, &env);
    assert_eq!(t.recap[0][1], 0, "{:#?}", t.lines);
    assert_eq!(a.recap[0][1], 0, "{:#?}", a.lines);
    assert!(
        !t.lines.iter().any(|l| l.contains("restart ollama")),
        "{:#?}",
        t.lines
    );

    // An unsafe address: ansible-playbook fails at the role's first task; talon refuses before
    // any task runs (the load-time check), and neither host's drop-in changes.
    let unsafe_extra = [
        extra[0],
        extra[1],
        extra[2],
        extra[3],
        "-e",
        "ollama_listen_address=0.0.0.0",
    ];
    let before = conf(c.talon_host());
    let t = common::Run::from(
        common::talon()
            .arg("run")
            .arg(&pb)
            .arg("-i")
            .arg(c.lab.inventory())
            .args(["--limit", c.talon_host()])
            .args(unsafe_extra)
            .envs(env)
            .env("TALON_STATE_DIR", c.lab.dir.path().join("state"))
            .output()
            .unwrap(),
    );
    assert_ne!(t.code, 0);
    assert!(!t.stdout.contains("TASK ["), "talon ran tasks:\n{}", t.stdout);
    assert!(
        t.stderr.contains("refusing to run (checked at load") && t.stderr.contains("'0.0.0.0'"),
        "{}",
        t.stderr
    );
    let mut args = vec!["--limit", c.ansible_host()];
    args.extend(unsafe_extra);
    let a = common::Run::from(ansible_playbook(&c.lab, &pb, &args, &env).output().unwrap());
    assert_ne!(a.code, 0);
    assert!(
        a.stdout.contains("refusing Ollama settings") && a.stdout.contains("'0.0.0.0'"),
        "{}",
        a.stdout
    );
    assert_eq!(conf(c.talon_host()), before);
    assert_eq!(conf(c.ansible_host()), before);

    gpu_preflight_compared(&c, &extra[..2], &env);
}

/// The GPU pre-flight on both hosts against the same recordings.
fn gpu_preflight_compared(c: &Compare, extra: &[&str], env: &[(&str, &str)]) {
    let pb = c.lab.dir.path().join("gpu.yml");
    std::fs::write(&pb, common::ollama::GPU_PLAYBOOK).unwrap();
    let mut args = extra.to_vec();
    args.extend(["-e", "openclaw_gpu_containers=true"]);
    // No nvidia-smi: the first check passes ("no GPU"), the others are skipped.
    let (t, _) = c.same_env(&pb, &args, env);
    assert!(t.lines[1].ends_with("=> skipped"), "{:#?}", t.lines);
    for (smi, docker, failing) in [
        ("nvidia-smi-550-rtx4070.txt", "docker-info-nvidia.txt", None),
        (
            "nvidia-smi-470-v100.txt",
            "docker-info-nvidia.txt",
            Some("NVIDIA driver is at least"),
        ),
        (
            "nvidia-smi-550-rtx4070.txt",
            "docker-info-no-nvidia.txt",
            Some("Docker lists the nvidia runtime"),
        ),
        (
            "nvidia-smi-550-tesla-p4-busy.txt",
            "docker-info-nvidia.txt",
            Some("free VRAM holds"),
        ),
    ] {
        for (host, _) in &c.lab.hosts {
            common::ollama::place_gpu(&c.lab, host, smi, 0, docker);
        }
        let (t, _) = c.same_env(&pb, &args, env);
        let failed: Vec<&String> = t.lines.iter().filter(|l| l.ends_with("=> failed")).collect();
        match failing {
            None => assert!(failed.is_empty(), "{smi}: {:#?}", t.lines),
            Some(check) => assert!(
                failed.len() == 1 && failed[0].contains(check),
                "{smi}/{docker}: {:#?}",
                t.lines
            ),
        }
    }
}
