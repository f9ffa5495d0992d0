//! `talon run` against a lab host that boots systemd as PID 1 (`talon lab up --systemd`): the
//! `systemd` module installs, starts, enables, restarts and stops a real unit, idempotently,
//! with the unit's state read back independently through `docker exec ... systemctl`.
//!
//! Needs `docker`; the first run builds the lab image with extras (Debian packages, a minute).

#![allow(clippy::unwrap_used)]

mod common;

use common::Lab;

const PLAYBOOK: &str = r#"- hosts: lab
  gather_facts: true
  vars:
    demo_state: started
  tasks:
    - name: systemd is the service manager
      assert:
        that: ansible_service_mgr == 'systemd'
    - name: unit file
      copy:
        dest: /etc/systemd/system/talon-demo.service
        mode: "0644"
        content: |
          [Unit]
          Description=talon demo
          [Service]
          ExecStart=/bin/sleep infinity
          [Install]
          WantedBy=multi-user.target
    - name: reload units
      systemd:
        daemon_reload: true
    - name: demo service
      systemd:
        name: talon-demo
        state: "{{ demo_state }}"
        enabled: true
"#;

/// `systemctl VERB talon-demo` on the host, read through Docker (not through talon).
fn unit(lab: &Lab, verb: &str) -> String {
    let out = lab.sh("lab1", &format!("systemctl {verb} talon-demo"));
    common::text(&out.stdout).trim().to_string()
}

/// The main PID of the unit, to tell a restart from doing nothing.
fn main_pid(lab: &Lab) -> String {
    lab.sh_ok("lab1", "systemctl show --property=MainPID --value talon-demo")
        .trim()
        .to_string()
}

#[test]
fn systemd_module_manages_a_real_unit() {
    let lab = Lab::up_with(1, &["--systemd"]);
    assert_eq!(lab.sh_ok("lab1", "ps -p 1 -o comm=").trim(), "systemd");
    let playbook = lab.dir.path().join("demo.yml");
    std::fs::write(&playbook, PLAYBOOK).unwrap();

    // Cold: the unit file is written and the service enabled and started (one task changed for
    // each: copy, and enable+start).
    let run = lab.run(&playbook, &[]);
    run.assert_code(0);
    assert_eq!(run.changed("lab1"), 2, "{}", run.stdout);
    assert_eq!(unit(&lab, "is-active"), "active");
    assert_eq!(unit(&lab, "is-enabled"), "enabled");
    let pid = main_pid(&lab);
    assert_ne!(pid, "0");

    // Warm: nothing to do.
    let run = lab.run(&playbook, &[]);
    run.assert_code(0);
    assert_eq!(run.recap("lab1")[..4], [5, 0, 0, 0], "{}", run.stdout);
    assert_eq!(main_pid(&lab), pid);

    // restarted is always a change, and the process is a new one.
    let run = lab.run(&playbook, &["-e", "demo_state=restarted"]);
    run.assert_code(0);
    assert_eq!(run.changed("lab1"), 1, "{}", run.stdout);
    assert_eq!(unit(&lab, "is-active"), "active");
    assert_ne!(main_pid(&lab), pid, "restart starts a new process");

    // stopped: inactive, still enabled; stopping again changes nothing.
    let run = lab.run(&playbook, &["-e", "demo_state=stopped"]);
    run.assert_code(0);
    assert_eq!(run.changed("lab1"), 1, "{}", run.stdout);
    assert_eq!(unit(&lab, "is-active"), "inactive");
    assert_eq!(unit(&lab, "is-enabled"), "enabled");
    let run = lab.run(&playbook, &["-e", "demo_state=stopped"]);
    run.assert_code(0);
    assert_eq!(run.changed("lab1"), 0, "{}", run.stdout);
}

/// Writes the host's `ansible_facts.services` (from service_facts) to the file `out` names.
const SERVICE_FACTS: &str = r#"- hosts: lab
  gather_facts: false
  tasks:
    - service_facts:
    - copy:
        content: "{{ ansible_facts.services | to_nice_json }}"
        dest: "{{ out }}"
"#;

#[test]
fn d12_service_facts_reads_systemd_units_as_ansible() {
    let lab = Lab::up_with(1, &["--systemd"]);
    let playbook = lab.dir.path().join("sf.yml");
    std::fs::write(&playbook, SERVICE_FACTS).unwrap();
    let run = lab.run(&playbook, &["-e", "out=/tmp/sf-talon.json"]);
    run.assert_code(0);
    let out = common::ansible::ansible_playbook(&lab, &playbook, &["-e", "out=/tmp/sf-ansible.json"], &[])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out.stdout));
    let talon = lab.sh_ok("lab1", "cat /tmp/sf-talon.json");
    let ansible = lab.sh_ok("lab1", "cat /tmp/sf-ansible.json");
    assert!(talon.contains(r#""source": "systemd""#), "{talon}");
    assert_eq!(talon, ansible);
}
