//! Privilege escalation with a sudo password on a real lab host (user `deploy`, whose sudo asks
//! for its password): the password reaches sudo and nothing else, whatever sudo's credential
//! cache holds, and it may come from every secret source.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Lab, Run};

const PASSWORD: &str = "deploy-lab-pass";

/// Every file under `/root/d1` and the whole home of `deploy`, with the password nowhere.
fn assert_password_nowhere(lab: &Lab, host: &str) {
    let hits = lab.sh(
        host,
        &format!("grep -rl -- '{PASSWORD}' /root /home /tmp /var/tmp 2>/dev/null || true"),
    );
    let hits = common::text(&hits.stdout);
    assert!(hits.trim().is_empty(), "the sudo password is in: {hits}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const D1_PLAYBOOK: &str = r#"- hosts: all
  gather_facts: false
  become: true
  tasks:
    - file: {path: /root/d1, state: directory, mode: "0700"}
    - copy: {content: "alpha\n", dest: /root/d1/copy.txt}
    - template: {src: d1.j2, dest: /root/d1/tpl.txt}
    - lineinfile: {path: /root/d1/line.txt, line: "k=v", create: true}
    - command:
        cmd: cat
        stdin: from-stdin
      register: fed
      changed_when: false
    - copy: {content: "{{ fed.stdout }}\n", dest: /root/d1/stdin.txt}
    - talon_secret_file: {secret: app_token, dest: /root/d1/secret.txt}
    - command: whoami
      register: who
      changed_when: false
    - copy: {content: "{{ who.stdout }}\n", dest: /root/d1/who.txt}
"#;

/// D1: with `sudo -S`, once sudo had cached the credential on the long-lived remote shell, the
/// password line became data: the first line of every file written with become and of every
/// command's stdin.
#[test]
fn d1_become_password_never_reaches_stdin() {
    let lab = Lab::up(1);
    let host = lab.hosts[0].0.clone();
    let d = lab.dir.path();
    write(d, "d1.j2", "tpl {{ inventory_hostname }}\n");
    let pb = write(d, "d1.yml", D1_PLAYBOOK);
    let secrets = write(d, "secrets.yml", "app_token: tok-D1-a1b2c3\n");
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let args = [
        "-e",
        "ansible_user=deploy",
        "-e",
        "ansible_become_password=deploy-lab-pass",
        "--secrets",
        secrets.to_str().unwrap(),
    ];
    let first = lab.run(&pb, &args);
    first.assert_code(0);
    let expect = [
        ("copy.txt", "alpha\n".to_string()),
        ("tpl.txt", format!("tpl {host}\n")),
        ("line.txt", "k=v\n".to_string()),
        ("stdin.txt", "from-stdin\n".to_string()),
        ("secret.txt", "tok-D1-a1b2c3".to_string()),
        ("who.txt", "root\n".to_string()),
    ];
    for (name, content) in &expect {
        assert_eq!(
            lab.read(&host, &format!("/root/d1/{name}")).as_deref(),
            Some(content.as_str()),
            "{name}\n{}",
            first.stdout
        );
    }
    assert_password_nowhere(&lab, &host);
    // The second run finds everything in place: the password did not end up in any content.
    let second = lab.run(&pb, &args);
    second.assert_code(0);
    assert_eq!(second.changed(&host), 0, "{}", second.stdout);
    for (name, content) in &expect {
        assert_eq!(
            lab.read(&host, &format!("/root/d1/{name}")).as_deref(),
            Some(content.as_str())
        );
    }
    assert_password_nowhere(&lab, &host);
    for run in [&first, &second] {
        assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD));
    }
    // No askpass directory is left in deploy's home once the run ended.
    let left = lab.sh_ok(&host, "ls -A /home/deploy");
    assert!(!left.contains(".talon-become"), "{left}");

    // A login whose sudo needs no password (NOPASSWD) never reads one: given one anyway, it is
    // not data either.
    let nopw = lab.run(
        &pb,
        &[
            "-e",
            "ansible_user=nopw",
            "-e",
            "ansible_become_password=deploy-lab-pass",
            "--secrets",
            secrets.to_str().unwrap(),
        ],
    );
    nopw.assert_code(0);
    assert_eq!(nopw.changed(&host), 0, "{}", nopw.stdout);
    assert_password_nowhere(&lab, &host);

    // A wrong password fails the task at once (no hang on a second prompt), and says so.
    let bad = lab.run(
        &pb,
        &[
            "-e",
            "ansible_user=deploy",
            "-e",
            "ansible_become_password=wrong-pass",
            "--secrets",
            secrets.to_str().unwrap(),
        ],
    );
    assert_eq!(bad.code, 2, "{}\n{}", bad.stdout, bad.stderr);
    assert!(
        bad.stdout.contains("incorrect password") || bad.stdout.contains("no password"),
        "{}",
        bad.stdout
    );
    assert!(!bad.stdout.contains("wrong-pass"), "{}", bad.stdout);
}

/// The become password as a secret: from `--secrets`, `--secret-env` and `--ask-secret`, sudo
/// gets the value (before, it got the secret's marker: "Sorry, try again"), and it is masked.
#[test]
fn become_password_from_every_secret_source() {
    let lab = Lab::up(1);
    let d = lab.dir.path();
    let pb = write(
        d,
        "who.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: whoami\n      become: true\n      register: who\n      changed_when: false\n    - debug: {msg: \"pw {{ ansible_become_password }} user {{ who.stdout }}\"}\n",
    );
    let secrets = write(d, "secrets.yml", "ansible_become_password: deploy-lab-pass\n");
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let check = |run: &Run, how: &str| {
        run.assert_code(0);
        assert!(run.stdout.contains("user root"), "{how}:\n{}", run.stdout);
        assert!(run.stdout.contains("pw ********"), "{how}:\n{}", run.stdout);
        assert!(!run.stdout.contains(PASSWORD), "{how}:\n{}", run.stdout);
        assert!(!run.stderr.contains(PASSWORD), "{how}:\n{}", run.stderr);
    };
    let from_file = lab.run(
        &pb,
        &[
            "-vv",
            "-e",
            "ansible_user=deploy",
            "--secrets",
            secrets.to_str().unwrap(),
        ],
    );
    check(&from_file, "--secrets");

    let mut cmd = common::talon();
    cmd.arg("run")
        .arg(&pb)
        .arg("-i")
        .arg(lab.inventory())
        .args(["-vv", "-e", "ansible_user=deploy"])
        .args(["--secret-env", "ansible_become_password=TALON_TEST_SUDO"])
        .env("TALON_TEST_SUDO", PASSWORD)
        .env("TALON_STATE_DIR", d.join("state"));
    check(&Run::from(cmd.output().unwrap()), "--secret-env");

    let out = Command::new("python3")
        .args(["-c", common::PTY_DRIVER, env!("CARGO_BIN_EXE_talon"), "run"])
        .arg(&pb)
        .arg("-i")
        .arg(lab.inventory())
        .args(["-vv", "-e", "ansible_user=deploy"])
        .args(["--ask-secret", "ansible_become_password"])
        .env("ASK_PROMPT", "secret ansible_become_password: ")
        .env("ASK_VALUE", PASSWORD)
        .env("TALON_STATE_DIR", d.join("state"))
        .output()
        .unwrap();
    check(&Run::from(out), "--ask-secret");
}
