//! Issue 14, inventory scripts and plugins: an executable inventory (with and without
//! `_meta.hostvars`), the `ansible.builtin.constructed` plugin (`compose`, `groups`,
//! `keyed_groups`) and the `-i 'a,b,'` host list read as `ansible-inventory` reads them: the same
//! `--list` document; and a playbook run over a script inventory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::ansible::ansible_bin;
use serde_json::Value;

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `--list` from ansible-inventory and from talon on the same sources, as JSON.
fn both(sources: &[&Path]) -> (Value, Value) {
    let mut a = std::process::Command::new(ansible_bin("ansible-inventory"));
    let mut t = common::talon();
    t.arg("inventory");
    for s in sources {
        a.arg("-i").arg(s);
        t.arg("-i").arg(s);
    }
    let a = a
        .arg("--list")
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
        .output()
        .unwrap();
    assert!(
        a.status.success(),
        "ansible-inventory: {}",
        common::text(&a.stderr)
    );
    let t = t.arg("--list").output().unwrap();
    assert!(t.status.success(), "talon inventory: {}", common::text(&t.stderr));
    (
        trusted(serde_json::from_slice(&a.stdout).unwrap()),
        serde_json::from_slice(&t.stdout).unwrap(),
    )
}

/// ansible-inventory 2.19 writes a templated string (a `compose` result) as
/// `{"__ansible_unsafe": "..."}`, its serialisation of a value it does not trust: the value
/// is the string inside.
fn trusted(v: Value) -> Value {
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("__ansible_unsafe") => {
            m.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null)
        }
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, trusted(v))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(trusted).collect()),
        other => other,
    }
}

const SCRIPT_META: &str = r#"#!/usr/bin/env python3
import json, sys
if sys.argv[1:] == ["--list"]:
    print(json.dumps({
        "web": {"hosts": ["web1", "web2"], "vars": {"http_port": 8080}, "children": ["edge"]},
        "edge": ["edge1"],
        "db": {"hosts": ["db1"], "vars": {"engine": "postgres"}},
        "solo": {"role": "lonely"},
        "_meta": {"hostvars": {
            "web1": {"zone": "eu-west-1", "os": "Debian", "labels": ["a", "b"]},
            "web2": {"zone": "us-east-2", "os": "Debian"},
            "db1": {"zone": "eu-west-1", "os": "RedHat", "meta": {"tier": "gold"}},
        }},
    }))
else:
    print("{}")
"#;

const SCRIPT_HOST: &str = r#"#!/bin/sh
case "$1" in
  --list) echo '{"cache": {"hosts": ["cache1", "cache2"]}}' ;;
  --host) echo "{\"cache_name\": \"$2\", \"os\": \"Debian\"}" ;;
esac
"#;

const CONSTRUCTED: &str = r#"plugin: ansible.builtin.constructed
strict: false
compose:
  region: zone[:-2]
  is_web: "'web' in group_names"
groups:
  europe: zone is defined and zone.startswith('eu')
  webs_by_name: inventory_hostname.startswith('web')
keyed_groups:
  - prefix: os
    key: os
  - key: zone
    parent_group: zones
  - prefix: tag
    key: labels | default([])
  - prefix: meta
    key: meta | default({})
  - prefix: ""
    separator: ""
    key: region | default('')
    default_value: noregion
"#;

#[test]
fn d14_inventory_scripts_and_constructed_match_ansible_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inventory");
    std::fs::create_dir(&inv).unwrap();
    write(&inv.join("01-cloud.py"), SCRIPT_META, 0o755);
    write(&inv.join("02-cache"), SCRIPT_HOST, 0o755);
    write(
        &inv.join("03-static.ini"),
        "[static]\nstatic1 os=Alpine zone=ap-south-1\n",
        0o644,
    );
    write(&inv.join("99-constructed.yml"), CONSTRUCTED, 0o644);
    let (a, t) = both(&[&inv]);
    assert_eq!(a, t, "ansible-inventory:\n{a:#}\ntalon:\n{t:#}");
    // The document is not trivially empty: constructed groups exist with their hosts.
    assert_eq!(
        t["os_Debian"]["hosts"],
        serde_json::json!(["web1", "web2", "cache1", "cache2"])
    );
    assert_eq!(t["_meta"]["hostvars"]["web1"]["region"], "eu-west");
    assert_eq!(
        t["zones"]["children"],
        serde_json::json!(["_eu_west_1", "_us_east_2", "_ap_south_1"])
    );
}

#[test]
fn d14_host_lists_match_ansible_inventory() {
    let (a, t) = both(&[Path::new("alpha,beta:2222,10.0.0.5,")]);
    assert_eq!(a, t, "ansible-inventory:\n{a:#}\ntalon:\n{t:#}");
    assert_eq!(
        t["ungrouped"]["hosts"],
        serde_json::json!(["alpha", "beta", "10.0.0.5"])
    );
}

#[test]
fn d14_a_failing_inventory_script_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("broken.sh");
    write(
        &s,
        "#!/bin/sh\necho 'cannot reach the cloud API' >&2\nexit 3\n",
        0o755,
    );
    let out = common::talon()
        .args(["inventory", "--list", "-i"])
        .arg(&s)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = common::text(&out.stderr);
    assert!(
        err.contains("had an execution error: cannot reach the cloud API"),
        "{err}"
    );
    assert!(err.contains("broken.sh"), "{err}");
}

#[test]
fn d14_a_playbook_runs_over_a_script_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("inv.sh");
    write(
        &s,
        "#!/bin/sh\n[ \"$1\" = --list ] && echo '{\"local\": {\"hosts\": [\"here\"], \"vars\": {\"ansible_connection\": \"local\", \"greeting\": \"from-script\"}}, \"_meta\": {\"hostvars\": {}}}'\n",
        0o755,
    );
    let marker = dir.path().join("out.txt");
    let pb = dir.path().join("pb.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: local\n  gather_facts: false\n  tasks:\n    - copy:\n        dest: {}\n        content: \"{{{{ greeting }}}} {{{{ group_names | join(',') }}}}\\n\"\n",
            marker.display()
        ),
    )
    .unwrap();
    let out = common::talon()
        .arg("run")
        .arg(&pb)
        .arg("-i")
        .arg(&s)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        common::text(&out.stdout),
        common::text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "from-script local\n");
}

#[test]
fn d14_graph_of_one_group_as_ansible_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts.ini");
    write(&inv, "[web]\nw1\nw2\n[db]\nd1\n[prod:children]\nweb\ndb\n", 0o644);
    for group in ["prod", "web"] {
        let a = std::process::Command::new(ansible_bin("ansible-inventory"))
            .arg("-i")
            .arg(&inv)
            .args(["--graph", group])
            .output()
            .unwrap();
        let t = common::talon()
            .args(["inventory", "-i"])
            .arg(&inv)
            .args(["--graph", group])
            .output()
            .unwrap();
        assert_eq!(common::text(&t.stdout), common::text(&a.stdout), "{group}");
    }
    let t = common::talon()
        .args(["inventory", "-i"])
        .arg(&inv)
        .args(["--graph", "nope"])
        .output()
        .unwrap();
    // ansible-inventory's message and exit code (a bad option, 5).
    assert_eq!(t.status.code(), Some(5));
    assert!(common::text(&t.stderr).contains("Pattern must be valid group name when using --graph"));
}

/// An inventory file with nested groups, inventory-file vars of several types, and
/// `group_vars/`/`host_vars/` beside it (read by `--export` as the groups' and hosts' own).
fn shaped_inventory(dir: &Path) -> std::path::PathBuf {
    let inv = dir.join("hosts.ini");
    write(
        &inv,
        "[web]\nw1 ansible_host=10.0.0.1 port_x=80\nw2\n\n[db]\nd1 dbv=1 ratio=0.5\n\n[prod:children]\nweb\ndb\n\n[web:vars]\nwv=yes\nrole=web\nnote=\"a long note that goes on and on, past the eightieth column of the YAML line for sure\"\n\n[all:vars]\nav=3\n",
        0o644,
    );
    std::fs::create_dir_all(dir.join("group_vars")).unwrap();
    std::fs::create_dir_all(dir.join("host_vars")).unwrap();
    write(
        &dir.join("group_vars/prod.yml"),
        "gx: [1, 2]\nempty: ''\nwhen: '2024-01-02'\n",
        0o644,
    );
    write(&dir.join("host_vars/w2.yml"), "hy: {a: 1, b: [x, 'on']}\n", 0o644);
    inv
}

fn inventory_outputs(inv: &Path, args: &[&str]) -> (String, String) {
    let a = std::process::Command::new(ansible_bin("ansible-inventory"))
        .arg("-i")
        .arg(inv)
        .args(args)
        .output()
        .unwrap();
    assert!(
        a.status.success(),
        "ansible-inventory {args:?}: {}",
        common::text(&a.stderr)
    );
    let t = common::talon()
        .args(["inventory", "-i"])
        .arg(inv)
        .args(args)
        .output()
        .unwrap();
    assert!(
        t.status.success(),
        "talon inventory {args:?}: {}",
        common::text(&t.stderr)
    );
    (common::text(&a.stdout), common::text(&t.stdout))
}

#[test]
fn d14_inventory_yaml_export_vars_and_limit_print_as_ansible_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let inv = shaped_inventory(dir.path());
    // Line for line: JSON with --export and --limit, YAML with --export (no shared objects),
    // the graph with --vars (Python's str() of each value), one host as YAML.
    for args in [
        &["--list", "--export"][..],
        &["--list", "--limit", "web"],
        &["--list", "--yaml", "--export"],
        &["--list", "--yaml", "--limit", "w1"],
        &["--graph", "--vars"],
        &["prod", "--graph", "--vars"],
        &["--host", "w2", "--yaml"],
    ] {
        let (a, t) = inventory_outputs(&inv, args);
        assert_eq!(t, a, "{args:?}");
    }
    // Merged YAML: PyYAML names the lists Python shares between hosts (`&id001`/`*id001`);
    // talon writes them out. The same document once read.
    let (a, t) = inventory_outputs(&inv, &["--list", "--yaml"]);
    assert!(a.contains("&id001"), "{a}");
    let a: Value = serde_saphyr::from_str(&a).unwrap();
    let t: Value = serde_saphyr::from_str(&t).unwrap();
    assert_eq!(t, a);
    // --output writes the document to a file, as ansible-inventory does (no trailing newline
    // added to JSON).
    let (fa, ft) = (dir.path().join("a.json"), dir.path().join("t.json"));
    inventory_outputs(&inv, &["--list", "--output", fa.to_str().unwrap()]);
    let t = common::talon()
        .args(["inventory", "-i"])
        .arg(&inv)
        .args(["--list", "--output"])
        .arg(&ft)
        .output()
        .unwrap();
    assert!(
        t.status.success() && t.stdout.is_empty(),
        "{}",
        common::text(&t.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&ft).unwrap(),
        std::fs::read_to_string(&fa).unwrap()
    );
}
