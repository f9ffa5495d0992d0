//! The command line without hosts: option errors and `talon inventory`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{talon, text};

#[test]
fn bad_options_exit_5_like_ansible_playbook() {
    let out = talon()
        .args(["run", "site.yml", "-i", "inv", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
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
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
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
