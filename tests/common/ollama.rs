//! Lab hosts for the `ollama` role and the GPU pre-flight: the Ollama stand-in as the host's
//! `ollama` systemd unit, and recorded `nvidia-smi`/`docker info` outputs of real machines
//! (tests/fixtures/gpu/, sources in its README) as the host's `nvidia-smi` and `docker`.

use std::process::Command;

use super::{Lab, root, text};

/// A playbook running only the verify role's GPU pre-flight (`tasks/gpu.yml`).
pub const GPU_PLAYBOOK: &str = "\
- name: verify
  hosts: all
  gather_facts: false
  roles: [stack_common]
  tasks:
    - import_role:
        name: verify
        tasks_from: gpu
";

/// Copies `from` (a path under the repository) to `to` on `host`.
pub fn copy_in(lab: &Lab, host: &str, from: &str, to: &str) {
    let out = Command::new("docker")
        .arg("cp")
        .arg(root().join(from))
        .arg(format!("{}:{to}", lab.container(host)))
        .output()
        .unwrap();
    assert!(out.status.success(), "docker cp {from}: {}", text(&out.stderr));
}

/// Installs images/ollama-standin's server as `ollama.service` on a `--systemd` host and
/// starts it; `models` is its `OLLAMA_STANDIN_MODELS` (`name=capability,...;...`).
pub fn standin_unit(lab: &Lab, host: &str, models: &str) {
    copy_in(
        lab,
        host,
        "images/ollama-standin/ollama.py",
        "/usr/local/lib/ollama.py",
    );
    lab.sh_ok(
        host,
        &format!(
            "cat > /etc/systemd/system/ollama.service <<'EOF'\n[Unit]\nDescription=Ollama (talon lab stand-in)\n[Service]\nEnvironment=OLLAMA_STANDIN_MODELS={models}\nExecStart=/usr/bin/python3 /usr/local/lib/ollama.py\n[Install]\nWantedBy=multi-user.target\nEOF\nsystemctl daemon-reload && systemctl enable --now ollama.service"
        ),
    );
}

/// Makes `host`'s `nvidia-smi` print the recording `smi` and exit `smi_rc`, and its
/// `docker info` print the recording `docker_info` (file names under tests/fixtures/gpu/).
pub fn place_gpu(lab: &Lab, host: &str, smi: &str, smi_rc: i32, docker_info: &str) {
    copy_in(
        lab,
        host,
        &format!("tests/fixtures/gpu/{smi}"),
        "/etc/nvidia-smi.out",
    );
    copy_in(
        lab,
        host,
        &format!("tests/fixtures/gpu/{docker_info}"),
        "/etc/docker-info.out",
    );
    lab.sh_ok(
        host,
        &format!(
            "printf '#!/bin/sh\\ncat /etc/nvidia-smi.out\\nexit {smi_rc}\\n' > /usr/local/bin/nvidia-smi \
             && printf '#!/bin/sh\\n[ \"$1\" = info ] || exit 2\\ncat /etc/docker-info.out\\n' > /usr/local/bin/docker \
             && chmod 755 /usr/local/bin/nvidia-smi /usr/local/bin/docker"
        ),
    );
}
