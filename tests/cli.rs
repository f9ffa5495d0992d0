//! The command line without hosts: option errors and `talon inventory`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{talon, text};

#[test]
fn bad_options_exit_2_like_ansible_playbook() {
    // ansible-playbook's argument parser exits 2 for an unknown option and for --forks 0.
    let out = talon()
        .args(["run", "site.yml", "-i", "inv", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yml"), "- hosts: all\n  tasks: []\n").unwrap();
    std::fs::write(dir.path().join("inv.ini"), "h1 ansible_connection=local\n").unwrap();
    let out = talon()
        .arg("run")
        .arg(dir.path().join("p.yml"))
        .arg("-i")
        .arg(dir.path().join("inv.ini"))
        .args(["--forks", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--forks"));
}

#[test]
fn inventory_list_graph_and_host() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts.ini");
    std::fs::write(
        &inv,
        "[web]\nweb[1:2] port=80\n\n[db]\ndb1\n\n[prod:children]\nweb\ndb\n\n[prod:vars]\nenv=prod\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("host_vars")).unwrap();
    std::fs::write(dir.path().join("host_vars/db1.yml"), "port: 5432\n").unwrap();
    let out = talon()
        .args(["inventory", "--graph", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    let graph = text(&out.stdout);
    assert!(
        graph.contains("@prod:") && graph.contains("|--@web:") && graph.contains("web2"),
        "{graph}"
    );
    let out = talon()
        .args(["inventory", "--host", "db1", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["port"], 5432);
    assert_eq!(v["env"], "prod");
    let out = talon()
        .args(["inventory", "--list", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["web"]["hosts"], serde_json::json!(["web1", "web2"]));
    assert_eq!(v["_meta"]["hostvars"]["web1"]["port"], 80);
}

#[test]
fn d9_limit_matching_nothing_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yml");
    // A play that would fail if it ran: nothing may connect (the hosts do not exist).
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - fail: msg=ran\n",
    )
    .unwrap();
    let inv = dir.path().join("hosts.ini");
    std::fs::write(
        &inv,
        "[web]\nweb1 ansible_host=192.0.2.1\nweb2 ansible_host=192.0.2.2\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.txt");
    let missing_limit = format!("@{}", missing.display());
    for (limit, expect) in [
        ("nomatch", "leaves us with no hosts to target"),
        ("web1:&nomatch", "leaves us with no hosts to target"),
        ("~[", "~["),
        (missing_limit.as_str(), "missing.txt"),
    ] {
        for cmd in ["run", "verify"] {
            let out = talon()
                .arg(cmd)
                .arg(&pb)
                .arg("-i")
                .arg(&inv)
                .args(["--limit", limit])
                .output()
                .unwrap();
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{cmd} --limit {limit}: {err}");
            assert!(
                err.contains("[ERROR]: ") && err.contains(expect),
                "{cmd} --limit {limit}: {err}"
            );
            assert!(!text(&out.stdout).contains("ran"), "{cmd} --limit {limit}");
        }
    }
    let out = talon()
        .arg("run")
        .arg(&pb)
        .arg("-i")
        .arg(&inv)
        .args(["--limit", "nomatch"])
        .output()
        .unwrap();
    assert!(
        text(&out.stderr).contains(
            "[ERROR]: Specified inventory, host pattern and/or --limit leaves us with no hosts to target."
        ),
        "{}",
        text(&out.stderr)
    );
    // verify with no host to verify (the play's pattern matches nothing) fails too.
    let none = dir.path().join("none.yml");
    std::fs::write(
        &none,
        "- hosts: nomatch\n  name: verify\n  gather_facts: false\n  tasks:\n    - fail: msg=ran\n",
    )
    .unwrap();
    let out = talon()
        .arg("verify")
        .arg(&none)
        .arg("-i")
        .arg(&inv)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("Nothing was verified"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn broken_pipe_on_stdout_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts.ini");
    // Output far larger than a pipe buffer, so talon is still writing when the reader leaves.
    std::fs::write(&inv, "[web]\nweb[0:19999].example.com some_var=some_value\n").unwrap();
    for args in [vec!["inventory", "--list"], vec!["inventory", "--graph"]] {
        let mut child = talon()
            .args(&args)
            .arg("-i")
            .arg(&inv)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}
