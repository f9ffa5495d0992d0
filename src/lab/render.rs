//! The files a lab writes for its users: known_hosts, the Ansible YAML inventory and an OpenSSH
//! client config.

use super::*;

/// `known_hosts` lines `[127.0.0.1]:PORT ssh-ed25519 AAAA...`, one per host.
pub(super) fn render_known_hosts(hosts: &[LabHost], host_pubs: &[String]) -> String {
    hosts
        .iter()
        .zip(host_pubs)
        .map(|(host, key)| format!("[127.0.0.1]:{} {key}\n", host.port))
        .collect()
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
pub(super) fn yaml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The Ansible YAML inventory: group `lab` with every host, connection settings as group vars,
/// and the lab users as comments.
pub(super) fn render_inventory(info: &LabInfo) -> String {
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
pub(super) fn render_ssh_config(info: &LabInfo) -> String {
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
