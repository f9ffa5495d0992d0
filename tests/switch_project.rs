//! Issue 14, "Done when": a project laid out as real ones are — ansible.cfg (inventory,
//! roles_path, remote_user, private_key_file, ssh_args, vault_password_file, become), an
//! executable inventory, a vaulted group_vars file (holding the become password) and an inline
//! `!vault` value, a role installed from a local git repository through requirements.yml — runs
//! with `ansible-playbook` and with talon called as `ansible-playbook` through a symlink, no file
//! changed: the same recap and the same files on two identical fresh lab hosts; the vaulted
//! values never appear in talon's output; `ansible all -m ping` through the symlink answers as
//! Ansible's does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{git, write_file as write};

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::ansible::{Compare, ansible_bin};

/// `ansible-vault` with the project's password file, in the project folder.
fn vault(proj: &Path, args: &[&str]) -> String {
    let out = Command::new(ansible_bin("ansible-vault"))
        .args(args)
        .args(["--vault-password-file", ".vault_pass"])
        .current_dir(proj)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ansible-vault {args:?}: {}",
        common::text(&out.stderr)
    );
    common::text(&out.stdout)
}

/// The recap line of `host` with its name replaced, from a default-callback run.
fn recap(stdout: &str, host: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{host} ")) && l.contains("ok="))
        .unwrap_or_else(|| panic!("no recap for {host} in:\n{stdout}"))
        .replacen(host, "HOST", 1)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn d14_an_ansible_project_runs_unchanged_through_the_symlinks() {
    let c = Compare::new();
    let (th, ah) = (c.talon_host().to_string(), c.ansible_host().to_string());
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("project");
    let lab = c.lab.dir.path();

    // The inventory: a script printing the lab hosts (addresses and ports only: the user, key
    // and known_hosts come from ansible.cfg).
    let listed = common::talon()
        .args(["inventory", "--list", "-i"])
        .arg(c.lab.inventory())
        .output()
        .unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let hostvars = doc["_meta"]["hostvars"].as_object_mut().unwrap();
    for vars in hostvars.values_mut() {
        let m = vars.as_object_mut().unwrap();
        m.retain(|k, _| k == "ansible_host" || k == "ansible_port");
    }
    let json = serde_json::json!({
        "lab": {"hosts": [th.clone(), ah.clone()]},
        "_meta": {"hostvars": doc["_meta"]["hostvars"].clone()},
    });
    let script = proj.join("inventory/hosts.sh");
    write(
        &script,
        &format!("#!/bin/sh\n[ \"$1\" = --list ] && cat <<'EOF'\n{json}\nEOF\n"),
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    // Vault: a vaulted group_vars file (the become password, an API token) and an inline value.
    write(&proj.join(".vault_pass"), "correct horse battery staple\n");
    let vaulted = proj.join("inventory/group_vars/all/vault.yml");
    write(
        &vaulted,
        "ansible_become_password: deploy-lab-pass\nvault_api_token: tok-4f1c9e2a7b\n",
    );
    vault(&proj, &["encrypt", "inventory/group_vars/all/vault.yml"]);
    assert!(
        std::fs::read_to_string(&vaulted)
            .unwrap()
            .starts_with("$ANSIBLE_VAULT;1.1;AES256")
    );
    let inline = vault(
        &proj,
        &["encrypt_string", "inline-9d8e7f6a5b", "--name", "inline_secret"],
    );
    write(
        &proj.join("inventory/group_vars/all/main.yml"),
        &format!("api_token: \"{{{{ vault_api_token }}}}\"\n{inline}"),
    );

    // A role from a local git repository, installed through requirements.yml with the symlink.
    let role = dir.path().join("src/motd");
    write(
        &role.join("tasks/main.yml"),
        "- command: id -un\n  register: who\n  changed_when: false\n- copy:\n    dest: /root/switch-motd\n    content: \"managed as {{ who.stdout }} by {{ role_name }}\\n\"\n    mode: \"0644\"\n",
    );
    write(
        &role.join("meta/main.yml"),
        "galaxy_info:\n  author: t\ndependencies: []\n",
    );
    git(&role, &["init", "-q"]);
    git(&role, &["add", "."]);
    git(&role, &["commit", "-qm", "one"]);
    write(
        &proj.join("requirements.yml"),
        &format!("roles:\n  - src: git+file://{}\n    name: motd\n", role.display()),
    );
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["ansible", "ansible-playbook", "ansible-galaxy"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_talon"), bin.join(name)).unwrap();
    }
    let installed = Command::new(bin.join("ansible-galaxy"))
        .args(["install", "-r", "requirements.yml", "-p", "galaxy_roles"])
        .current_dir(&proj)
        .output()
        .unwrap();
    assert!(installed.status.success(), "{}", common::text(&installed.stderr));

    write(
        &proj.join("ansible.cfg"),
        &format!(
            "[defaults]\ninventory = inventory\nroles_path = galaxy_roles\nremote_user = deploy\nprivate_key_file = {}\nvault_password_file = .vault_pass\nhost_key_checking = True\nretry_files_enabled = False\n\n[privilege_escalation]\nbecome = True\n\n[ssh_connection]\nssh_args = -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\npipelining = True\n",
            lab.join("id_ed25519").display(),
            lab.join("known_hosts").display()
        ),
    );
    write(
        &proj.join("site.yml"),
        "- hosts: lab\n  roles:\n    - motd\n  tasks:\n    - name: secret file from vaulted values\n      copy:\n        dest: /root/switch-secret\n        content: \"{{ api_token }} {{ inline_secret }}\\n\"\n        mode: \"0600\"\n    - name: who runs the tasks\n      command: whoami\n      register: me\n      changed_when: false\n    - assert:\n        that: me.stdout == 'root'\n",
    );

    let ansible = Command::new(ansible_bin("ansible-playbook"))
        .args(["site.yml", "-l", &ah])
        .current_dir(&proj)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", lab.join("ansible-tmp"))
        .output()
        .unwrap();
    let a_out = common::text(&ansible.stdout);
    assert!(
        ansible.status.success(),
        "ansible-playbook:\n{a_out}{}",
        common::text(&ansible.stderr)
    );
    let talon = Command::new(bin.join("ansible-playbook"))
        .args(["site.yml", "-l", &th])
        .current_dir(&proj)
        .env("TALON_STATE_DIR", lab.join("state"))
        .output()
        .unwrap();
    let (t_out, t_err) = (common::text(&talon.stdout), common::text(&talon.stderr));
    assert!(
        talon.status.success(),
        "talon as ansible-playbook:\n{t_out}{t_err}"
    );
    assert_eq!(
        recap(&t_out, &th),
        recap(&a_out, &ah),
        "talon:\n{t_out}\nansible:\n{a_out}"
    );
    for secret in ["tok-4f1c9e2a7b", "inline-9d8e7f6a5b", "deploy-lab-pass"] {
        assert!(
            !t_out.contains(secret) && !t_err.contains(secret),
            "{secret} shown:\n{t_out}{t_err}"
        );
    }
    for h in [&th, &ah] {
        let out = c.lab.sh(
            h,
            "cat /root/switch-motd /root/switch-secret; stat -c '%a %U' /root/switch-secret",
        );
        assert_eq!(
            common::text(&out.stdout),
            "managed as root by motd\ntok-4f1c9e2a7b inline-9d8e7f6a5b\n600 root\n",
            "{h}"
        );
    }

    // `ansible all -m ping` through the symlink answers as Ansible's.
    let pa = Command::new(ansible_bin("ansible"))
        .args([ah.as_str(), "-m", "ping"])
        .current_dir(&proj)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", lab.join("ansible-tmp"))
        .output()
        .unwrap();
    let pt = Command::new(bin.join("ansible"))
        .args([th.as_str(), "-m", "ping"])
        .current_dir(&proj)
        .output()
        .unwrap();
    let clean = |s: &str, h: &str| -> Vec<String> {
        let mut skip = false;
        s.replace(h, "HOST")
            .lines()
            .filter(|l| {
                // ansible's Python modules report the interpreter they discovered.
                if l.trim() == "\"ansible_facts\": {" {
                    skip = true;
                    return false;
                }
                if skip {
                    skip = l.trim() != "},";
                    return false;
                }
                true
            })
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        clean(&common::text(&pt.stdout), &th),
        clean(&common::text(&pa.stdout), &ah),
        "{}",
        common::text(&pt.stderr)
    );
    assert_eq!(pt.status.code(), Some(0));
}
