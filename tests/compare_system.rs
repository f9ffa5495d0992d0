//! Native system modules against ansible-playbook (ansible-core 2.19) on fresh Debian lab
//! hosts: `ping`, `getent`, `ansible.posix.authorized_key`, `ansible.posix.sysctl` and `cron`
//! ran through ansible-core's code on the host (the Python path); talon now runs them itself.
//! Each test takes Python away from talon's host first, so a task that still took the Python
//! path would fail there and the comparison with ansible-playbook (whose host keeps Python)
//! would differ.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

/// Fresh hosts, Python removed from talon's (ansible-playbook's keeps it).
fn compare_without_python_on_talons_host() -> Compare {
    let c = Compare::new();
    c.drop_python_on_talons_host();
    c
}

#[test]
fn d12_ping_is_native_and_matches_ansible() {
    let c = compare_without_python_on_talons_host();
    let (t, _) = c.same(&fixture("ping.yml"), &[]);
    let show = t.line("show ping");
    for want in [
        r#""ping":"pong""#,
        r#""ping":"hello""#,
        r#""ping":"checked""#,
        r#""msg":"Task failed: Module failed: boom""#,
    ] {
        assert!(show.contains(want), "{want} in {show}");
    }
    assert_eq!(t.recap[0], [5, 0, 0, 0, 0, 0, 1], "{:#?}", t.lines);
}

#[test]
fn d12_getent_is_native_and_matches_ansible() {
    let c = compare_without_python_on_talons_host();
    let (t, _) = c.same(&fixture("getent.yml"), &["--diff"]);
    let show = t.line("show getent");
    for want in [
        r#"{"ansible_facts":{"getent_passwd":{"root":["x","0","0","root","/root","/bin/bash"]}},"changed":false"#,
        r#"[["localhost"],["localhost","ip6-localhost","ip6-loopback"]]"#,
        r#""msg":"One or more supplied key could not be found in the database.""#,
        r#"{"getent_passwd":{"nosuch":null}}"#,
        r#""msg":"Missing arguments, or database unknown.""#,
        r#""msg":"Enumeration not supported on this database.""#,
        r#"{"root:":[":0:0:root:/root:/bin/bash"]}"#,
    ] {
        assert!(show.contains(want), "{want} in {show}");
    }
    // The last getent_passwd replaced the earlier ones, as ansible-core merges module facts.
    let facts = t.line("show facts");
    assert!(facts.contains(r#"[{"daemon":["x","1","1","daemon","#), "{facts}");
    assert_eq!(t.recap[0][1], 0, "getent never changes: {:#?}", t.lines);
}

#[test]
fn d12_authorized_key_is_native_and_matches_ansible() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = compare_without_python_on_talons_host();
    let (t, _) = c.same_env(&fixture("authorized_key.yml"), &["--diff"], &env);
    let files = t.line("show user files");
    for want in [
        r#"no-port-forwarding,from=\"10.0.0.1,10.0.0.2\",command=\"echo a,b\" ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC2 renamed key"#,
        r#"from=\"10.0.0.1,10.0.0.2\",no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIThree ""#,
        "# kept comment",
        "700 akuser akuser /home/akuser/.ssh",
        "600 akuser akuser /home/akuser/.ssh/authorized_keys",
    ] {
        assert!(files.contains(want), "{want} in {files}");
    }
    assert!(!files.contains("one@talon"), "removed: {files}");
    let more = t.line("show more results");
    assert!(more.contains(r#""after_header":"/tmp/ak-real/keys""#), "{more}");
    assert!(more.contains(r#""state":"link""#), "{more}");
    assert!(
        t.line("error a missing user =>")
            .contains(r#"Failed to lookup user nobody-here: \"getpwnam(): name not found: 'nobody-here'\""#),
        "{:#?}",
        t.lines
    );
    assert!(
        t.line("show keys from a file")
            .contains(r#""size":142,"state":"file""#),
        "{:#?}",
        t.lines
    );
    // A URL key is refused by talon (the module fetches it on the host), saying so; nothing
    // is written.
    let pb = c.lab.dir.path().join("url-key.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.posix.authorized_key:\n        user: root\n        key: https://example.com/keys\n        path: /tmp/ak-url\n",
    )
    .unwrap();
    let run = c.lab.run(&pb, &["--limit", c.talon_host()]);
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("does not fetch keys from URLs (https://example.com/keys)"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(c.lab.read(c.talon_host(), "/tmp/ak-url").is_none());
    // Again on the same hosts: what is there stays (the first tasks change again because the
    // earlier run's exclusive task removed their key, on both sides).
    let (t2, _) = c.same_env(&fixture("authorized_key.yml"), &[], &env);
    for ok in [
        "a user without ~/.ssh => ok",
        "the same key => ok",
        "remove it again => ok",
        "a path, no managed dir => ok",
        "through the link => ok",
    ] {
        assert!(t2.lines.iter().any(|l| l == ok), "{ok}: {:#?}", t2.lines);
    }
}

#[test]
fn d12_sysctl_is_native_and_matches_ansible() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = compare_without_python_on_talons_host();
    // The whole run in check mode first: nothing is written, /proc is only read.
    let (t, _) = c.same_env(&fixture("sysctl.yml"), &["--check"], &env);
    assert!(
        t.lines
            .iter()
            .any(|l| l == "error setting /proc => changed msg=null"),
        "{:#?}",
        t.lines
    );
    let (t, _) = c.same_env(&fixture("sysctl.yml"), &["--diff"], &env);
    let files = t.line("show files");
    assert!(
        files.contains(
            r##"["# comment","; another","kernel.panic=5","","not a setting","vm.swappiness=10","net.ipv4.ip_forward=1","vm.overcommit_memory=1","kernel.printk=4 4 1 7","644 root /tmp/sysctl-a.conf","644 root /tmp/sysctl-new.conf""##
        ),
        "{files}"
    );
    for want in [
        "the same value => ok",
        "the same with reload, in check mode (/proc has it with tabs, compared word by word) => ok",
        "a file value /proc does not have, with reload, in check mode => changed",
        r#"error setting /proc => failed msg="setting vm.swappiness failed: sysctl: permission denied on key \"vm.swappiness\"\n""#,
        r#"error a reload => failed msg="Failed to reload sysctl: sysctl: permission denied on key \"vm.swappiness\"\n""#,
        "the only key removed, reload of a file without keys => changed",
        r#"error value missing => failed msg="state is present but all of the following are missing: value""#,
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    // Again: the settings of the files the fixture does not rewrite first are there; what /proc
    // cannot take fails again, on both sides.
    let (t2, _) = c.same_env(&fixture("sysctl.yml"), &[], &env);
    for ok in [
        "a new file => ok",
        "a value /proc has, in a file => ok",
        "the same value => ok",
    ] {
        assert!(t2.lines.iter().any(|l| l == ok), "{ok}: {:#?}", t2.lines);
    }
}

#[test]
fn d12_cron_is_native_and_matches_ansible() {
    let c = compare_without_python_on_talons_host();
    let (t, _) = c.same(&fixture("cron.yml"), &["--diff"]);
    let missing = t.line("error no crontab program, a cron file =>");
    assert!(
        missing.contains(r#"Failed to find required executable \"crontab\" in paths: "#),
        "{missing}"
    );
    let tabs = t.line("show crontabs");
    assert!(
        tabs.contains(r##"[["PATH=\"/usr/bin:/bin\"","MAILTO=\"root\"","#Ansible: first","10 2 * * 1-5 /bin/true","#Ansible: deploy job","* 3 * * * echo hi"],1]"##),
        "{tabs}"
    );
    let files = t.line("show cron files");
    for want in [
        "*/5 * * * * root /usr/bin/uptime",
        "@daily nobody /bin/date",
        "644 root /etc/cron.d/talon-test",
    ] {
        assert!(files.contains(want), "{want} in {files}");
    }
    let results = t.line("show file results");
    assert!(results.ends_with(",false]"), "the cron file is gone: {results}");
    assert!(
        results.contains(r#""warnings":["Filename portion of cron_file"#),
        "{results}"
    );
    // Again, now with the stand-in crontab from the start (the first tasks succeed, the jobs
    // the fixture moves change again, on both sides): what is in place stays.
    let (t2, _) = c.same(&fixture("cron.yml"), &[]);
    for ok in [
        "a stand-in crontab => ok",
        "the same job => ok",
        "a variable => ok",
        "a job removed again => ok",
        "another user's job => ok",
        "a cron file with a name cron ignores => ok",
    ] {
        assert!(t2.lines.iter().any(|l| l == ok), "{ok}: {:#?}", t2.lines);
    }
}
