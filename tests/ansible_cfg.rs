//! ansible.cfg, `ANSIBLE_*` and ansible-playbook's command line (issue 14): a project laid out
//! for Ansible runs with `talon run` as it stands. Lab tests use real sshd hosts; the listings,
//! `--start-at-task` and `config dump` are compared with the real ansible-playbook and
//! ansible-config from target/ansible-venv.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::ansible::{Compare, ansible_bin};
use common::{Lab, Run, root, talon, text};

fn fixture() -> PathBuf {
    root().join("tests/fixtures/ansible_cfg")
}

/// The tool's stdout, sorted, and its line count (ansible-playbook prints a play's hosts and
/// tags from a Python set, in no fixed order).
fn sorted(out: &std::process::Output) -> (Vec<String>, usize) {
    let t = text(&out.stdout);
    let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
    let n = lines.len();
    lines.sort();
    (lines, n)
}

fn ansible_playbook_in(dir: &Path) -> Command {
    let mut c = Command::new(ansible_bin("ansible-playbook"));
    c.current_dir(dir)
        .env("ANSIBLE_NOCOLOR", "1")
        .env_remove("ANSIBLE_CONFIG");
    c
}

#[test]
fn list_hosts_tasks_tags_as_ansible_playbook() {
    let dir = fixture();
    for flags in [
        &["--list-hosts"][..],
        &["--list-tasks"],
        &["--list-tags"],
        &["--list-tasks", "--tags", "files"],
        &["--list-tags", "--skip-tags", "base"],
        &["--list-hosts", "--list-tasks", "-l", "web1"],
        &["--list-tasks", "--list-tags", "--tags", "never"],
    ] {
        let t = talon()
            .current_dir(&dir)
            .env_remove("ANSIBLE_CONFIG")
            .arg("run")
            .arg("site.yml")
            .args(flags)
            .output()
            .unwrap();
        let a = ansible_playbook_in(&dir)
            .arg("site.yml")
            .args(flags)
            .output()
            .unwrap();
        assert_eq!(t.status.code(), Some(0), "{flags:?}: {}", text(&t.stderr));
        assert_eq!(a.status.code(), Some(0), "{flags:?}: {}", text(&a.stderr));
        assert_eq!(
            sorted(&t),
            sorted(&a),
            "{flags:?}\n--- talon:\n{}\n--- ansible:\n{}",
            text(&t.stdout),
            text(&a.stdout)
        );
    }
}

#[test]
fn config_dump_only_changed_as_ansible_config_and_precedence() {
    let dir = fixture();
    let dump = |cmd: &mut Command| {
        let o = cmd
            .current_dir(&dir)
            .env_remove("ANSIBLE_CONFIG")
            .env("ANSIBLE_TIMEOUT", "33")
            .env("ANSIBLE_FORKS", "4")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let t = dump(talon().args(["config", "dump", "--only-changed"]));
    let a = dump(Command::new(ansible_bin("ansible-config")).args(["dump", "--only-changed"]));
    // Every setting ansible-config reports changed, talon reports the same way (ansible-config
    // also prints a GALAXY_SERVERS section talon has no use for).
    let a_lines: Vec<&str> = a.lines().filter(|l| l.contains(") = ")).collect();
    let t_lines: Vec<&str> = t.lines().collect();
    assert_eq!(t_lines, a_lines, "--- talon:\n{t}\n--- ansible-config:\n{a}");
    // env over file: forks 3 in the file, 4 from ANSIBLE_FORKS.
    assert!(t.contains("DEFAULT_FORKS(env: ANSIBLE_FORKS) = 4"), "{t}");
    assert!(t.contains("DEFAULT_TIMEOUT(env: ANSIBLE_TIMEOUT) = 33"), "{t}");
    let full = dump(talon().args(["config", "dump"]));
    assert!(full.contains("DEFAULT_BECOME(default) = False"), "{full}");
}

#[test]
fn unknown_keys_warn_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ansible.cfg"),
        "[defaults]\ninventory = hosts\nbogus_key = 1\nnocows = 1\n[galaxy]\nserver = https://example.invalid\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("hosts"), "h1 ansible_connection=local\n").unwrap();
    std::fs::write(
        dir.path().join("p.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n",
    )
    .unwrap();
    let out = talon()
        .current_dir(dir.path())
        .env_remove("ANSIBLE_CONFIG")
        .args(["run", "p.yml"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("[WARNING]:")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(warnings[0].contains("[defaults] bogus_key"), "{err}");
    assert!(warnings[1].contains("[galaxy] server"), "{err}");
    // The inventory came from ansible.cfg: h1 ran.
    assert!(text(&out.stdout).contains("h1"), "{}", text(&out.stdout));
    // A value of the wrong type is a bad option, naming the setting and where it came from.
    let out = talon()
        .current_dir(dir.path())
        .env("ANSIBLE_FORKS", "lots")
        .args(["run", "p.yml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("DEFAULT_FORKS from 'env: ANSIBLE_FORKS'"));
}

#[test]
fn start_at_task_as_ansible_playbook() {
    let c = Compare::new();
    let pb = fixture().join("start_at.yml");
    // In the second play, inside a role: the first play runs nothing.
    let (t, _) = c.same(&pb, &["--start-at-task", "base : base w*"]);
    assert!(
        !t.lines
            .iter()
            .any(|l| l.starts_with("one ") || l.starts_with("two ")),
        "{:?}",
        t.lines
    );
    // The first task of a play: ansible-core gathers facts there, gather_facts: false or not.
    let (t, _) = c.same(&pb, &["--start-at-task", "one"]);
    // (the compare lines leave fact gathering out; the recap counts it: one more ok)
    assert_eq!(
        t.recap[0][0],
        t.lines.len() as u64 + 1,
        "{:?} {:?}",
        t.lines,
        t.recap
    );
    // With --tags: only selected tasks can be the start.
    c.same(&pb, &["--start-at-task", "tagged*", "--tags", "late"]);
    // No match: nothing runs, ansible-playbook's error, exit 0 for both.
    let (t, a) = c.run(&pb, &["--start-at-task", "no such task"], &[]);
    assert_eq!((t.code, a.code), (0, 0), "{}\n{}", t.stderr, a.stderr);
    assert!(
        t.lines.is_empty() && a.lines.is_empty(),
        "{:?} {:?}",
        t.lines,
        a.lines
    );
    assert!(
        t.stderr.contains("No matching task \"no such task\" found."),
        "{}",
        t.stderr
    );
    // d14: the stats list only hosts something was counted for, as ansible-core's: none here.
    let stats = |out: &str| -> serde_json::Value {
        let doc = out.lines().rev().find(|l| l.starts_with('{') && l.len() > 1);
        let doc = doc.unwrap_or_else(|| out.find("\n{").map_or(out, |i| &out[i..]));
        serde_json::from_str::<serde_json::Value>(doc).unwrap()["stats"].clone()
    };
    assert_eq!(stats(&t.stdout), serde_json::json!({}), "{}", t.stdout);
    assert_eq!(stats(&a.stdout), serde_json::json!({}), "{}", a.stdout);
}

/// A project as Ansible users lay it out, for the lab's hosts: hosts.ini without users or keys,
/// ansible.cfg giving inventory, remote_user, private_key_file, roles_path, forks and become.
fn project(lab: &Lab, key: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut hosts = String::from("[lab]\n");
    for (h, _) in &lab.hosts {
        hosts.push_str(&format!(
            "{h} ansible_host=127.0.0.1 ansible_port={}\n",
            lab.port(h)
        ));
    }
    hosts.push_str("\n[lab:vars]\nansible_python_interpreter=/usr/bin/python3\n");
    std::fs::write(p.join("hosts.ini"), hosts).unwrap();
    let known = lab.dir.path().join("known_hosts");
    std::fs::write(
        p.join("ansible.cfg"),
        format!(
            "[defaults]\ninventory = hosts.ini\nremote_user = nopw\nprivate_key_file = {key}\n\
             roles_path = shared_roles\nforks = 1\nretry_files_enabled = False\n\n\
             [privilege_escalation]\nbecome = True\n\n\
             [ssh_connection]\nssh_args = -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\npipelining = True\n",
            known.display()
        ),
    )
    .unwrap();
    let role = p.join("shared_roles/probe/tasks");
    std::fs::create_dir_all(&role).unwrap();
    std::fs::write(
        role.join("main.yml"),
        "- name: who connects\n  command: id -un\n  become: false\n  register: conn\n  changed_when: false\n\
         - name: who becomes\n  command: id -un\n  register: bec\n  changed_when: false\n\
         - name: record\n  copy:\n    dest: \"/tmp/probe-{{ conn.stdout }}-{{ bec.stdout }}\"\n    content: \"x\\n\"\n",
    )
    .unwrap();
    std::fs::write(
        p.join("site.yml"),
        "- hosts: all\n  gather_facts: false\n  roles:\n    - probe\n",
    )
    .unwrap();
    dir
}

fn run_in(dir: &Path, lab: &Lab, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = talon();
    cmd.current_dir(dir)
        .env_remove("ANSIBLE_CONFIG")
        .env("TALON_STATE_DIR", lab.dir.path().join("state"))
        .args(["run", "site.yml"])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().unwrap())
}

/// The probe files on `host`, removed after reading.
fn probes(lab: &Lab, host: &str) -> String {
    let out = lab.sh_ok(host, "ls /tmp | grep '^probe-' || true; rm -f /tmp/probe-*");
    out.trim().to_string()
}

#[test]
fn cfg_project_runs_without_i_and_precedence_cli_env_cfg() {
    let lab = Lab::up(2);
    let key = lab.dir.path().join("id_ed25519");
    let dir = project(&lab, &key.display().to_string());
    let (h1, h2) = (lab.hosts[0].0.clone(), lab.hosts[1].0.clone());

    // ansible.cfg alone: inventory, remote_user nopw, the key, roles_path, become.
    let r = run_in(dir.path(), &lab, &["--limit", &h1], &[]);
    r.assert_code(0);
    assert_eq!(probes(&lab, &h1), "probe-nopw-root");
    // ansible-playbook on the same project, unchanged: the same.
    let a = ansible_playbook_in(dir.path())
        .args(["site.yml", "--limit", &h2])
        .output()
        .unwrap();
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}\n{}",
        text(&a.stdout),
        text(&a.stderr)
    );
    assert_eq!(probes(&lab, &h2), "probe-nopw-root");

    // env over the file.
    let r = run_in(
        dir.path(),
        &lab,
        &["--limit", &h1],
        &[("ANSIBLE_REMOTE_USER", "root")],
    );
    r.assert_code(0);
    assert_eq!(probes(&lab, &h1), "probe-root-root");
    let r = run_in(
        dir.path(),
        &lab,
        &["--limit", &h1],
        &[("ANSIBLE_BECOME", "false")],
    );
    r.assert_code(0);
    assert_eq!(probes(&lab, &h1), "probe-nopw-nopw");

    // the command line over env: -u, -b.
    let r = run_in(
        dir.path(),
        &lab,
        &["--limit", &h1, "-u", "nopw", "-b"],
        &[("ANSIBLE_REMOTE_USER", "root"), ("ANSIBLE_BECOME", "false")],
    );
    r.assert_code(0);
    assert_eq!(probes(&lab, &h1), "probe-nopw-root");
    let r = run_in(
        dir.path(),
        &lab,
        &["--limit", &h1, "--user=root", "--become-user", "nopw"],
        &[],
    );
    r.assert_code(0);
    assert_eq!(probes(&lab, &h1), "probe-root-nopw");
}

#[test]
fn private_key_flag_over_cfg() {
    let lab = Lab::up(1);
    let dir = project(&lab, "/nonexistent/key");
    let h1 = lab.hosts[0].0.clone();
    // The key in ansible.cfg does not exist: the host cannot be reached (exit 4).
    let r = run_in(dir.path(), &lab, &[], &[("SSH_AUTH_SOCK", "")]);
    r.assert_code(4);
    // --private-key wins over the file.
    let key = lab.dir.path().join("id_ed25519");
    let r = run_in(
        dir.path(),
        &lab,
        &["--private-key", key.to_str().unwrap()],
        &[("SSH_AUTH_SOCK", "")],
    );
    r.assert_code(0);
    assert_eq!(probes(&lab, &h1), "probe-nopw-root");
    // -c local: the play runs on the controller instead (no key needed).
    let r = run_in(dir.path(), &lab, &["-c", "local", "--become-method", "su"], &[]);
    r.assert_code(5);
    assert!(r.stderr.contains("become_method su"), "{}", r.stderr);
}

/// `-k` and `-K` through a terminal (`script` gives talon one): SSH password authentication as
/// deploy (no key: ansible.cfg's does not exist and there is no agent), then sudo with the
/// become password; an empty `-K` answer means the SSH password, as in ansible-playbook. The
/// password is in no output.
#[test]
fn ask_pass_and_ask_become_pass_on_a_terminal() {
    let lab = Lab::up(1);
    let h1 = lab.hosts[0].0.clone();
    // The lab's sshd takes keys only: allow passwords on this host, then reload it (PID 1).
    lab.sh_ok(
        &h1,
        "sed -i 's/^PasswordAuthentication no/PasswordAuthentication yes/' /etc/ssh/sshd_config.d/talon-lab.conf && kill -HUP 1",
    );
    std::thread::sleep(std::time::Duration::from_secs(1));
    let dir = project(&lab, "/nonexistent/key");
    let cmd = format!("{} run site.yml -u deploy -k -K", env!("CARGO_BIN_EXE_talon"));
    let pw = talon::lab::DEPLOY_PASSWORD;
    let out = Command::new("sh")
        .current_dir(dir.path())
        .env_remove("ANSIBLE_CONFIG")
        .env("SSH_AUTH_SOCK", "")
        .env("TALON_STATE_DIR", lab.dir.path().join("state"))
        .arg("-c")
        .arg(format!(
            "(sleep 2; printf '%s\\n' '{pw}'; sleep 2; printf '\\n'; sleep 8) | script -qec '{cmd}' /dev/null"
        ))
        .output()
        .unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("SSH password:"), "{all}");
    assert!(
        all.contains("BECOME password[defaults to SSH password]:"),
        "{all}"
    );
    assert!(!all.contains(pw), "the password was printed:\n{all}");
    assert_eq!(probes(&lab, &h1), "probe-deploy-root", "{all}");
}

/// `--step` on a terminal: `n` passes over the first task, `y` runs the second, `c` runs the
/// third and every later task without asking; each question is asked once for all hosts.
#[test]
fn step_asks_once_per_task() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hosts"),
        "h1 ansible_connection=local\nh2 ansible_connection=local\n",
    )
    .unwrap();
    let tasks: String = ["first", "second", "third", "fourth"]
        .iter()
        .map(|n| format!("    - name: {n}\n      debug:\n        msg: {n}\n"))
        .collect();
    std::fs::write(
        dir.path().join("p.yml"),
        format!("- hosts: all\n  gather_facts: false\n  tasks:\n{tasks}"),
    )
    .unwrap();
    let cmd = format!("{} run p.yml -i hosts --step", env!("CARGO_BIN_EXE_talon"));
    let out = Command::new("sh")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg(format!(
            "(sleep 2; echo n; sleep 1; echo y; sleep 1; echo c; sleep 2) | script -qec '{cmd}' /dev/null"
        ))
        .output()
        .unwrap();
    let all = text(&out.stdout);
    assert_eq!(all.matches("Perform task: TASK: ").count(), 3, "{all}");
    assert!(
        all.contains("Perform task: TASK: first (N)o/(y)es/(c)ontinue:"),
        "{all}"
    );
    // Each debug result shows its message once per host.
    assert!(!all.contains("\"msg\": \"first\""), "{all}");
    for n in ["second", "third", "fourth"] {
        assert_eq!(all.matches(&format!("\"msg\": \"{n}\"")).count(), 2, "{n}: {all}");
    }
}
