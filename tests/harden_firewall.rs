//! The `harden` role's allowlist firewall for real, on lab hosts started with
//! `talon lab up --docker --net-admin`: each host is a container with its own network
//! namespace, so its iptables rules filter only traffic to and from that host (this machine's
//! own firewall and Docker's chains are never touched).
//!
//! lab1 gets the firewall: SSH only from the address the controller's connections arrive from
//! (the Docker network's gateway: Docker's proxy for the published port), port 8080 only from
//! lab2. lab2 is the outsider on the same Docker network, probing with `nc`. Reachability is
//! measured before and after, the rules are read back with `iptables -S` and `ipset` through
//! `docker exec`, talon must still log in afterwards (no lockout), and a second run is
//! changed=0. A hand-deleted jump (what a reboot does to all of it) is reapplied.
//!
//! `DOCKER-USER` is Docker's chain of the namespace where the engine runs. Lab hosts share this
//! machine's engine, whose chain must not be modified, so the test creates an empty
//! `DOCKER-USER` inside lab1's own namespace: the rules land there and are checked, but no
//! engine forwards through them (inert).
//!
//! Needs: Docker, the lab images, deb.debian.org (the role runs `apt` on the hosts).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{Lab, Run, root, talon, text};
use serde_json::{Value, json};

const PLAYBOOK: &str = "- hosts: lab\n  gather_facts: true\n  roles: [stack_common, harden]\n";

/// `docker inspect` of one value of a container's (single) network.
fn net(lab: &Lab, host: &str, field: &str) -> String {
    let out = Command::new("docker")
        .args([
            "inspect",
            "-f",
            &format!("{{{{range .NetworkSettings.Networks}}}}{{{{.{field}}}}}{{{{end}}}}"),
            lab.container(host),
        ])
        .output()
        .unwrap();
    let v = text(&out.stdout).trim().to_string();
    assert!(!v.is_empty(), "no {field} for {host}");
    v
}

/// Runs the harden role on `limit` with the base vars plus `extra`.
fn harden(lab: &Lab, limit: &str, vars: &Value, extra: Value) -> Run {
    let playbook = lab.dir.path().join("harden.yml");
    std::fs::write(&playbook, PLAYBOOK).unwrap();
    let mut all = vars.as_object().unwrap().clone();
    all.extend(extra.as_object().unwrap().clone());
    let out = talon()
        .arg("run")
        .arg(&playbook)
        .arg("-i")
        .arg(lab.inventory())
        .args(["-l", limit, "-e"])
        .arg(Value::Object(all).to_string())
        .env("ANSIBLE_ROLES_PATH", root().join("playbooks/roles"))
        .env("TALON_STATE_DIR", lab.dir.path().join("state"))
        .output()
        .unwrap();
    Run::from(out)
}

/// Can `from` open a TCP connection to `ip:port`? (netcat, 2 s timeout)
fn reaches(lab: &Lab, from: &str, ip: &str, port: u16) -> bool {
    lab.sh(from, &format!("nc -z -w 2 {ip} {port}")).status.success()
}

#[test]
fn harden_firewall_applies_allowlist_without_lockout() {
    let lab = Lab::up_with(2, &["--docker", "--net-admin"]);
    let gateway = net(&lab, "lab1", "Gateway");
    let lab1 = net(&lab, "lab1", "IPAddress");
    let lab2 = net(&lab, "lab2", "IPAddress");
    // Two listeners on lab1 besides sshd: 8080 (allowlisted for lab2) and 8081 (not).
    for port in [8080, 8081] {
        let out = Command::new("docker")
            .args(["exec", "-d", lab.container("lab1")])
            .args(["python3", "-m", "http.server", &port.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    for port in [22, 8080, 8081] {
        assert!(reaches(&lab, "lab2", &lab1, port), "open before: {port}");
    }

    let vars = json!({
        "harden_install_docker": false,
        "stack_templates_dir": root().join("templates"),
        "harden_ssh_sources": [format!("{gateway}/32")],
        "firewall_allowlist": [{"port": 8080, "proto": "tcp", "sources": [format!("{lab2}/32")]}],
    });
    let run = harden(&lab, "lab1", &vars, json!({}));
    run.assert_code(0);
    assert!(run.changed("lab1") >= 4, "{}", run.stdout);

    // The rules, read back: one jump, first in INPUT; SSH from the gateway; 8080 from the set.
    let rules = lab.sh_ok("lab1", "iptables -S");
    let input: Vec<&str> = rules.lines().filter(|l| l.starts_with("-A INPUT")).collect();
    assert_eq!(input, ["-A INPUT -j OPENCLAW-IN"], "{rules}");
    assert!(
        rules.contains(&format!(
            "-A OPENCLAW-IN -s {gateway}/32 -p tcp -m tcp --dport 22 -j RETURN"
        )),
        "{rules}"
    );
    assert!(
        rules.contains(
            "-A OPENCLAW-IN -p tcp -m tcp --dport 8080 -m set --match-set openclaw-allow-1 src -j RETURN"
        ),
        "{rules}"
    );
    assert!(rules.contains("-A OPENCLAW-IN -j DROP"), "{rules}");
    assert!(!rules.contains("DOCKER-USER"), "no Docker chain here: {rules}");
    let set = lab.sh_ok("lab1", "ipset list openclaw-allow-1");
    assert!(set.contains(&format!("{lab2}\n")), "{set}");

    // Reachability: lab2 reaches only 8080; the controller still logs in (a second run).
    assert!(!reaches(&lab, "lab2", &lab1, 22), "SSH from lab2 is dropped");
    assert!(reaches(&lab, "lab2", &lab1, 8080), "8080 is allowed from lab2");
    assert!(!reaches(&lab, "lab2", &lab1, 8081), "8081 is not allowlisted");
    let again = harden(&lab, "lab1", &vars, json!({}));
    again.assert_code(0);
    assert_eq!(again.changed("lab1"), 0, "{}", again.stdout);
    assert_eq!(lab.sh_ok("lab1", "iptables -S"), rules);

    // The rules vanish (as after a reboot, or a hand edit): the next run puts them back.
    lab.sh_ok("lab1", "iptables -D INPUT -j OPENCLAW-IN");
    assert!(reaches(&lab, "lab2", &lab1, 22));
    let repair = harden(&lab, "lab1", &vars, json!({}));
    repair.assert_code(0);
    assert_eq!(repair.changed("lab1"), 1, "{}", repair.stdout);
    assert_eq!(lab.sh_ok("lab1", "iptables -S"), rules);
    assert!(!reaches(&lab, "lab2", &lab1, 22));

    // DOCKER-USER, in lab1's own namespace only (inert: no engine forwards through it here).
    lab.sh_ok(
        "lab1",
        "iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN",
    );
    let docker_user = harden(&lab, "lab1", &vars, json!({}));
    docker_user.assert_code(0);
    assert!(docker_user.changed("lab1") >= 1, "{}", docker_user.stdout);
    let rules = lab.sh_ok("lab1", "iptables -S");
    let chain: Vec<&str> = rules
        .lines()
        .filter(|l| l.starts_with("-A DOCKER-USER"))
        .collect();
    assert_eq!(
        chain,
        ["-A DOCKER-USER -j OPENCLAW-DOCKER", "-A DOCKER-USER -j RETURN"],
        "{rules}"
    );
    assert!(
        rules.contains(
            "-A OPENCLAW-DOCKER -p tcp -m conntrack --ctstate DNAT --ctorigdstport 8080 -m set \
             --match-set openclaw-allow-1 src -j RETURN"
        ),
        "{rules}"
    );
    assert!(
        rules.contains("-A OPENCLAW-DOCKER -p tcp -m conntrack --ctstate DNAT --ctorigdstport 8080 -j DROP"),
        "{rules}"
    );
    let input: Vec<&str> = rules.lines().filter(|l| l.starts_with("-A INPUT")).collect();
    assert_eq!(input, ["-A INPUT -j OPENCLAW-IN"], "{rules}");
    let again = harden(&lab, "lab1", &vars, json!({}));
    again.assert_code(0);
    assert_eq!(again.changed("lab1"), 0, "{}", again.stdout);
    assert_eq!(lab.sh_ok("lab1", "iptables -S"), rules);

    // A missing tool: the role stops before any rule, naming the package. (harden_packages
    // without ipset: an operator who installs packages another way.)
    lab.sh_ok("lab2", "dpkg -r ipset >/dev/null");
    let lab2_vars = json!({
        "harden_install_docker": false,
        "stack_templates_dir": root().join("templates"),
        "harden_ssh_sources": [format!("{gateway}/32")],
        "firewall_allowlist": [{"port": 8080, "proto": "tcp", "sources": [format!("{lab1}/32")]}],
    });
    let missing = harden(
        &lab,
        "lab2",
        &lab2_vars,
        json!({"harden_packages": ["iptables", "netcat-openbsd", "python3-yaml"]}),
    );
    missing.assert_code(2);
    let all = format!("{}{}", missing.stdout, missing.stderr);
    assert!(
        all.contains("these tools are missing on lab2: ipset") && all.contains("apt-get install ipset"),
        "{all}"
    );
    assert!(!lab.sh_ok("lab2", "iptables -S").contains("OPENCLAW"));

    // DOCKER-USER required where there is none: a clear failure, nothing applied.
    let always = harden(
        &lab,
        "lab2",
        &lab2_vars,
        json!({"harden_firewall_docker_user": "always"}),
    );
    always.assert_code(2);
    let all = format!("{}{}", always.stdout, always.stderr);
    assert!(all.contains("has no DOCKER-USER chain"), "{all}");
    assert!(
        lab.sh("lab2", "command -v ipset").status.success(),
        "the role's apt task installed ipset again"
    );
    assert!(!lab.sh_ok("lab2", "iptables -S").contains("OPENCLAW"));
}
