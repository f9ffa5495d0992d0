//! `talon run` end to end against real lab hosts (Docker containers running OpenSSH sshd).
//! Host state is read back with `docker exec`, independently of talon.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Lab, root};

#[test]
fn full_playbook_converges_then_second_run_changes_nothing() {
    let lab = Lab::up(2);
    let pb = root().join("tests/fixtures/full/site.yml");
    let fetch = format!("fetch_dir={}", lab.dir.path().join("fetched").display());
    let first = lab.run(&pb, &["-e", &fetch]);
    first.assert_code(0);
    for (host, _) in &lab.hosts {
        let base = "/srv/talon-test";
        assert_eq!(
            lab.read(host, &format!("{base}/content.txt")).unwrap(),
            "fruit list: apple,banana,cherry\n"
        );
        assert_eq!(
            lab.stat(host, &format!("{base}/content.txt")).unwrap(),
            "640 root root regular file"
        );
        assert_eq!(
            lab.stat(host, &format!("{base}/plain.txt")).unwrap(),
            "644 root root regular file"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/validated.conf")).unwrap(),
            "key=value\n"
        );
        let report = lab.read(host, &format!("{base}/report.txt")).unwrap();
        assert!(report.contains(&format!("host: {host}\n")), "{report}");
        assert!(report.contains("family: Debian\n"), "{report}");
        assert!(report.contains("- 2 BANANA\n"), "{report}");
        // Role params stay with the role; the play sees the role default (as in Ansible).
        assert!(report.contains("greeting: default-greeting\n"), "{report}");
        assert_eq!(
            lab.stat(host, &format!("{base}/tree/sub")).unwrap(),
            "750 root root directory"
        );
        assert_eq!(
            lab.stat(host, &format!("{base}/link.txt")).unwrap(),
            "777 root root symbolic link"
        );
        assert_eq!(
            lab.sh_ok(host, &format!("stat -c %h {base}/hard.txt")).trim(),
            "2"
        );
        let settings = lab.read(host, &format!("{base}/settings.ini")).unwrap();
        assert!(
            settings.starts_with(&format!(
                "port = 8080\n# after port\n# before host\nhost = {host}\n"
            )),
            "{settings}"
        );
        assert!(
            settings.contains(
                "# BEGIN ANSIBLE MANAGED BLOCK\n[extra]\nenabled = true\n# END ANSIBLE MANAGED BLOCK\n"
            ),
            "{settings}"
        );
        assert!(
            lab.read(host, &format!("{base}/report-size.txt"))
                .unwrap()
                .starts_with("report size ")
        );
        assert!(lab.read(host, &format!("{base}/created-once")).is_some());
        assert_eq!(
            lab.read(host, &format!("{base}/out-of-stdin.txt")).unwrap(),
            "from stdin\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/fruit-banana.txt")).unwrap(),
            "1:banana\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/flat.txt")).unwrap(),
            "x1\nx2\ny1\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/rescued.txt")).unwrap(),
            "rescued\n"
        );
        assert!(lab.read(host, &format!("{base}/never.txt")).is_none());
        assert!(lab.read(host, &format!("{base}/always.txt")).is_some());
        assert_eq!(
            lab.read(host, &format!("{base}/imported.txt")).unwrap(),
            "imported\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/included.txt")).unwrap(),
            "dynamic\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/common.txt")).unwrap(),
            "common-role\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/env.txt")).unwrap(),
            "from-environment\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/sample/sample.conf")).unwrap(),
            "greeting = hello\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/sample/role-file.txt")).unwrap(),
            "from the role\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/sample/handler.txt")).unwrap(),
            "sample handler\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/listener-ran.txt")).unwrap(),
            "listener ran\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/handler-ran.txt")).unwrap(),
            "handler ran\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/whoami.txt")).unwrap(),
            "talonuser\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/backref.txt")).unwrap(),
            "speed is fast\n"
        );
        assert_eq!(
            lab.read(host, &format!("{base}/plain.txt")).unwrap(),
            "plain file content\n"
        );
        assert_eq!(
            lab.stat(host, &format!("{base}/tree/sub")).unwrap(),
            "750 root root directory"
        );
        assert!(
            lab.read(host, &format!("{base}/settings.ini"))
                .unwrap()
                .contains("# before host\nhost = ")
        );
        let fetched = lab
            .dir
            .path()
            .join(format!("fetched/{host}/srv/talon-test/plain.txt"));
        assert_eq!(std::fs::read_to_string(&fetched).unwrap(), "plain file content\n");
        // set_fact on lab1 is visible to every host through hostvars in the same play.
        assert_eq!(
            lab.read(host, &format!("{base}/peer-greeting.txt")).unwrap(),
            "DEFAULT-GREETING-lab1\n"
        );
        assert!(lab.read(host, &format!("{base}/never-tag.txt")).is_none());
        assert_eq!(
            lab.sh_ok(host, "getent passwd talonuser").trim(),
            "talonuser:x:2345:2345::/home/talonuser:/bin/sh"
        );
        assert_eq!(
            lab.sh_ok(host, "getent group talontest").trim(),
            "talontest:x:2345:"
        );
        assert_eq!(
            lab.stat(host, "/home/talonuser").unwrap(),
            "755 talonuser talontest directory"
        );
    }
    // The no_log result never reaches the output.
    assert!(!first.stdout.contains("hidden-value"), "{}", first.stdout);
    let second = lab.run(&pb, &["-e", &fetch]);
    second.assert_code(0);
    for (host, _) in &lab.hosts {
        assert_eq!(
            second.changed(host),
            0,
            "second run changed something on {host}:\n{}",
            second.stdout
        );
        assert_eq!(second.recap(host)[3], 0);
        // One rescued failure and one ignored failure, every run.
        assert_eq!(second.recap(host)[5], 1);
        assert_eq!(second.recap(host)[6], 1);
    }
}

#[test]
fn check_mode_changes_nothing_and_predicts_the_real_run() {
    let lab = Lab::up(1);
    let pb = root().join("playbooks/demo.yml");
    let host = lab.hosts[0].0.clone();
    let check = lab.run(&pb, &["--check", "--diff"]);
    check.assert_code(0);
    // --diff shows what the template would write and the directory it would create.
    assert!(
        check.stdout.contains(&format!("+host = {host}")),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("-state: absent\n+state: directory"),
        "{}",
        check.stdout
    );
    assert!(
        lab.stat(&host, "/opt/demo").is_none(),
        "check mode created /opt/demo"
    );
    assert!(
        lab.read(&host, "/etc/motd")
            .unwrap_or_default()
            .find("talon")
            .is_none()
    );
    let real = lab.run(&pb, &[]);
    real.assert_code(0);
    assert!(real.changed(&host) > 0);
    assert_eq!(
        check.changed(&host),
        real.changed(&host),
        "check:\n{}\nreal:\n{}",
        check.stdout,
        real.stdout
    );
    assert!(
        lab.read(&host, "/opt/demo/app.conf")
            .unwrap()
            .contains(&format!("host = {host}"))
    );
    let again = lab.run(&pb, &[]);
    assert_eq!(again.changed(&host), 0, "{}", again.stdout);
    // --check on a converged host predicts no change.
    assert_eq!(lab.run(&pb, &["--check"]).changed(&host), 0);
}

#[test]
fn unreachable_host_stops_only_itself() {
    let lab = Lab::up(1);
    let host = lab.hosts[0].0.clone();
    // A host on a port where nothing listens, in a second inventory source (-i twice).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = listener.local_addr().unwrap().port();
    drop(listener);
    let ghost = lab.dir.path().join("ghost.yml");
    std::fs::write(
        &ghost,
        format!(
            "lab:\n  hosts:\n    ghost:\n      ansible_host: 127.0.0.1\n      ansible_port: {dead_port}\n"
        ),
    )
    .unwrap();
    let out = common::talon()
        .args(["run"])
        .arg(root().join("playbooks/demo.yml"))
        .arg("-i")
        .arg(lab.inventory())
        .arg("-i")
        .arg(&ghost)
        .env("TALON_STATE_DIR", lab.dir.path().join("state"))
        .output()
        .unwrap();
    let run = common::Run::from(out);
    run.assert_code(4);
    assert_eq!(run.recap("ghost")[2], 1, "{}", run.stdout);
    assert_eq!(run.recap(&host)[3], 0);
    assert!(
        lab.read(&host, "/opt/demo/app.conf").is_some(),
        "the reachable host did not complete"
    );
}

#[test]
fn changed_host_key_is_refused() {
    let lab = Lab::up(1);
    let kh = lab.dir.path().join("known_hosts");
    let text = std::fs::read_to_string(&kh).unwrap();
    // Replace the recorded key with another valid ed25519 key.
    let other = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(other.path().join("k"))
        .status()
        .unwrap();
    assert!(st.success());
    let new_key = std::fs::read_to_string(other.path().join("k.pub")).unwrap();
    let new_key: Vec<&str> = new_key.split_whitespace().collect();
    let line = text.lines().next().unwrap();
    let hostpart = line.split_whitespace().next().unwrap();
    std::fs::write(&kh, format!("{hostpart} {} {}\n", new_key[0], new_key[1])).unwrap();
    let pb = root().join("playbooks/demo.yml");
    let run = lab.run(&pb, &[]);
    run.assert_code(4);
    assert!(
        run.stdout.contains("HOST KEY") && run.stdout.contains("CHANGED"),
        "{}",
        run.stdout
    );
    let host = &lab.hosts[0].0;
    assert!(lab.stat(host, "/opt/demo").is_none());
}

/// Writes a playbook into the lab dir and runs it.
fn run_text(lab: &Lab, name: &str, text: &str) -> common::Run {
    let p = lab.dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    lab.run(&p, &[])
}

#[test]
fn bad_playbooks_fail_with_a_location_and_change_nothing() {
    let lab = Lab::up(1);
    let host = lab.hosts[0].0.clone();
    let marker = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: would change\n      file: path=/tmp/should-not-exist state=touch\n";
    let cases = [
        (
            "malformed.yml",
            format!("{marker}    - name: bad\n      command: [unclosed\n"),
            "malformed.yml:",
        ),
        (
            "unknown-module.yml",
            format!("{marker}    - name: nope\n      not_a_module: x=1\n"),
            "unknown-module.yml:7:7",
        ),
        (
            "unknown-keyword.yml",
            format!("{marker}    - name: typo\n      command: true\n      notifyy: x\n"),
            "unknown-keyword.yml:8:7",
        ),
        (
            "unknown-arg.yml",
            format!("{marker}    - name: bad arg\n      copy:\n        dest: /tmp/x\n        contnet: y\n"),
            "unknown-arg.yml:",
        ),
    ];
    for (name, text, want) in cases {
        // An unknown argument is a warning unless --strict (ansible-playbook meets it only when
        // the task runs); --strict refuses it like the others.
        let strict: &[&str] = if name == "unknown-arg.yml" {
            &["--strict"]
        } else {
            &[]
        };
        let p = lab.dir.path().join(name);
        std::fs::write(&p, &text).unwrap();
        let run = lab.run(&p, strict);
        assert_eq!(run.code, 4, "{name}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(want),
            "{name}: expected '{want}' in:\n{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    // With --strict, an undefined variable, even in a late task, is found before anything runs.
    let undefined = format!(
        "{marker}    - name: uses undefined\n      copy:\n        content: \"{{{{ not_defined_anywhere }}}}\"\n        dest: /tmp/x\n"
    );
    let p = lab.dir.path().join("undefined.yml");
    std::fs::write(&p, &undefined).unwrap();
    let run = lab.run(&p, &["--strict"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("'not_defined_anywhere' is undefined"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("undefined.yml:6:7"), "{}", run.stderr);
    // A variable one host has and another lacks fails at run time on that host, naming it
    // and the place; the task changes nothing there.
    let partial = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: uses a var only other hosts have\n      copy:\n        content: \"{{ only_elsewhere }}\"\n        dest: /tmp/should-not-exist\n      when: inventory_hostname == 'nowhere' or true\n";
    std::fs::write(
        lab.dir.path().join("extra-inv.yml"),
        "other:\n  hosts:\n    nowhere:\n      only_elsewhere: 1\n",
    )
    .unwrap();
    let p = lab.dir.path().join("partial.yml");
    std::fs::write(&p, partial).unwrap();
    let run = lab.run(
        &p,
        &[
            "-i",
            lab.dir.path().join("extra-inv.yml").to_str().unwrap(),
            "-l",
            "lab",
        ],
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("only_elsewhere"), "{}", run.stdout);
    assert!(run.stdout.contains("partial.yml:4:7"), "{}", run.stdout);
    assert!(lab.stat(&host, "/tmp/should-not-exist").is_none());
    // Without --strict, the same findings are warnings before the run, and the task fails
    // when it runs with them (after the tasks before it ran).
    for (name, failure) in [
        (
            "unknown-arg.yml",
            "Unsupported parameters for (copy) module: contnet. Supported parameters include: ",
        ),
        ("undefined.yml", "'not_defined_anywhere' is undefined"),
    ] {
        let run = lab.run(&lab.dir.path().join(name), &[]);
        assert_eq!(run.code, 2, "{name}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.starts_with("[WARNING]: ") && run.stderr.contains(&format!("{name}:")),
            "{name}: {}",
            run.stderr
        );
        assert!(run.stdout.contains(failure), "{name}: {}", run.stdout);
        assert!(lab.stat(&host, "/tmp/should-not-exist").is_some());
    }
}

#[test]
fn json_output_has_the_ansible_callback_shape() {
    let lab = Lab::up(1);
    let host = lab.hosts[0].0.clone();
    let run = lab.run(&root().join("playbooks/demo.yml"), &["--json"]);
    run.assert_code(0);
    let doc: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let stats = &doc["stats"][&host];
    assert_eq!(stats["failures"], 0);
    assert!(stats["changed"].as_u64().unwrap() > 0);
    assert_eq!(
        stats["ok"].as_u64().unwrap(),
        doc["plays"][0]["tasks"].as_array().unwrap().len() as u64
    );
    let task = doc["plays"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task"]["name"] == "App config from a template")
        .unwrap();
    assert_eq!(task["hosts"][&host]["changed"], true);
    assert_eq!(task["hosts"][&host]["dest"], "/opt/demo/app.conf");
}

#[test]
fn become_with_a_sudo_password_from_inventory_vars() {
    let lab = Lab::up(1);
    let host = lab.hosts[0].0.clone();
    let pb = "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: whoami\n      register: who\n      changed_when: false\n    - copy:\n        content: \"{{ who.stdout }}\\n\"\n        dest: /root/become.txt\n      become: true\n";
    let p = lab.dir.path().join("become.yml");
    std::fs::write(&p, pb).unwrap();
    let ok = lab.run(
        &p,
        &[
            "-e",
            "ansible_user=deploy",
            "-e",
            "ansible_become_password=deploy-lab-pass",
        ],
    );
    ok.assert_code(0);
    // The unprivileged login user wrote a root-owned file through sudo.
    assert_eq!(lab.read(&host, "/root/become.txt").unwrap(), "deploy\n");
    assert_eq!(
        lab.stat(&host, "/root/become.txt").unwrap(),
        "644 root root regular file"
    );
    assert!(!ok.stdout.contains("deploy-lab-pass") && !ok.stderr.contains("deploy-lab-pass"));
    let bad = lab.run(
        &p,
        &["-e", "ansible_user=deploy", "-e", "ansible_become_password=wrong"],
    );
    assert_eq!(bad.code, 2, "{}\n{}", bad.stdout, bad.stderr);
    assert!(!bad.stdout.contains("wrong\n"), "{}", bad.stdout);
}

#[test]
fn apt_installs_a_local_deb_and_removes_it_idempotently() {
    let lab = Lab::up(1);
    let host = lab.hosts[0].0.clone();
    // A tiny package built here with dpkg-deb: no network needed.
    let pkg = lab.dir.path().join("pkg");
    std::fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(pkg.join("usr/share/talon-test")).unwrap();
    std::fs::write(
        pkg.join("DEBIAN/control"),
        "Package: talon-test-pkg\nVersion: 1.0\nArchitecture: all\nMaintainer: talon <talon@localhost>\nDescription: talon test package\n",
    )
    .unwrap();
    std::fs::write(pkg.join("usr/share/talon-test/marker"), "installed\n").unwrap();
    let deb = lab.dir.path().join("talon-test-pkg.deb");
    let st = std::process::Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&pkg)
        .arg(&deb)
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", common::text(&st.stderr));
    let install = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: src={} dest=/tmp/talon-test-pkg.deb\n    - apt: deb=/tmp/talon-test-pkg.deb\n",
        deb.display()
    );
    let remove =
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - apt: name=talon-test-pkg state=absent\n";
    let first = run_text(&lab, "install.yml", &install);
    first.assert_code(0);
    assert_eq!(first.changed(&host), 2, "{}", first.stdout);
    assert_eq!(
        lab.read(&host, "/usr/share/talon-test/marker").unwrap(),
        "installed\n"
    );
    assert_eq!(run_text(&lab, "install.yml", &install).changed(&host), 0);
    let gone = run_text(&lab, "remove.yml", remove);
    gone.assert_code(0);
    assert_eq!(gone.changed(&host), 1, "{}", gone.stdout);
    assert!(lab.sh(&host, "dpkg -s talon-test-pkg").status.code() != Some(0));
    assert_eq!(run_text(&lab, "remove.yml", remove).changed(&host), 0);
}

/// Play keywords `remote_user`, `connection`, `ignore_errors`, `check_mode`, `diff` (and
/// `ignore_errors` on a block) were accepted and silently ignored: the play connected as the
/// inventory's user over SSH, failed, changed hosts in check mode. Each is applied now, as is
/// `any_errors_fatal: true` (once a load error).
#[test]
fn d10_play_keywords_are_applied_not_ignored() {
    let lab = Lab::up(1);
    let host = lab.hosts[0].0.clone();
    let d = lab.dir.path();
    let inv = std::fs::read_to_string(lab.inventory()).unwrap();
    assert!(inv.contains("ansible_user: root"), "{inv}");
    let inv = inv.replace("ansible_user: root", "lab_user_removed: true");
    std::fs::write(d.join("nouser.yml"), inv).unwrap();
    let local = d.join("local-marker");
    let pb = d.join("keywords.yml");
    std::fs::write(
        &pb,
        format!(
            concat!(
                "- hosts: all\n  gather_facts: false\n  remote_user: nopw\n  tasks:\n",
                "    - command: whoami\n      register: who\n",
                "    - copy: {{content: \"{{{{ who.stdout }}}}\\n\", dest: /tmp/who-keyword}}\n",
                "- hosts: all\n  gather_facts: false\n  remote_user: nopw\n  vars: {{ansible_user: deploy}}\n  tasks:\n",
                "    - command: whoami\n      register: who\n",
                "    - copy: {{content: \"{{{{ who.stdout }}}}\\n\", dest: /tmp/who-var}}\n",
                "- hosts: all\n  gather_facts: false\n  connection: local\n  tasks:\n",
                "    - copy: {{content: \"controller\\n\", dest: {0}}}\n",
                "- hosts: all\n  gather_facts: false\n  remote_user: root\n  ignore_errors: true\n  tasks:\n",
                "    - command: 'false'\n",
                "    - copy: {{content: \"went on\\n\", dest: /tmp/went-on}}\n",
                "- hosts: all\n  gather_facts: false\n  remote_user: root\n  tasks:\n",
                "    - block:\n        - command: 'false'\n      ignore_errors: true\n",
                "    - copy: {{content: \"block went on\\n\", dest: /tmp/block-went-on}}\n",
                "- hosts: all\n  gather_facts: false\n  remote_user: root\n  check_mode: true\n  tasks:\n",
                "    - copy: {{content: \"x\\n\", dest: /tmp/never-written}}\n",
                "- hosts: all\n  gather_facts: false\n  remote_user: root\n  diff: true\n  tasks:\n",
                "    - copy: {{content: \"diffed-5f1a\\n\", dest: /tmp/diffed}}\n",
            ),
            local.display()
        ),
    )
    .unwrap();
    let run = common::Run::from(
        common::talon()
            .arg("run")
            .arg(&pb)
            .arg("-i")
            .arg(d.join("nouser.yml"))
            .env("TALON_STATE_DIR", d.join("state"))
            .output()
            .unwrap(),
    );
    run.assert_code(0);
    assert_eq!(lab.read(&host, "/tmp/who-keyword").as_deref(), Some("nopw\n"));
    assert_eq!(lab.read(&host, "/tmp/who-var").as_deref(), Some("deploy\n"));
    assert_eq!(std::fs::read_to_string(&local).unwrap(), "controller\n");
    assert_eq!(lab.read(&host, &local.display().to_string()), None);
    assert_eq!(lab.read(&host, "/tmp/went-on").as_deref(), Some("went on\n"));
    assert_eq!(
        lab.read(&host, "/tmp/block-went-on").as_deref(),
        Some("block went on\n")
    );
    assert_eq!(lab.read(&host, "/tmp/never-written"), None);
    assert!(run.stdout.contains("+diffed-5f1a"), "{}", run.stdout);
    assert_eq!(run.recap(&host)[6], 2, "{}", run.stdout);

    // any_errors_fatal is supported now (tests/compare_keywords.rs): the play runs.
    let fatal = run_text(
        &lab,
        "fatal.yml",
        "- hosts: all\n  gather_facts: false\n  any_errors_fatal: true\n  tasks:\n    - command: 'true'\n",
    );
    fatal.assert_code(0);
}
