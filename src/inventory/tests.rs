//! Tests for inventory loading, precedence, patterns and `ansible-inventory` output.
//!
//! Expected values were taken from ansible-core 2.19 (`ansible-inventory --list/--graph` and
//! `ansible-playbook` debug output) run on the same trees; the tests do not need Ansible.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;

fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, text).unwrap();
    p
}

fn load_text(name: &str, text: &str) -> (tempfile::TempDir, Inventory) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), name, text);
    let inv = Inventory::load(&[p]).unwrap();
    (dir, inv)
}

fn load_err(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), name, text);
    Inventory::load(&[p]).unwrap_err().to_string()
}

const INI: &str = r#"# comment
lonely x_int=5 x_q="5" x_qq='"5"' x_yes=yes x_true=true x_True=True x_oct=0644 x_list="[1, 'a']" x_sp="a b" x_dict="{'k': 1}"
[web]
web[01:02] ansible_user=deploy prec=web_host_line
web03:2222

[db]
db1

[prod:children]
web
db

[prod:vars]
gv_int=7
gv_str=hello world
gv_cmt=1 # one
gv_cmt2=hello # c
gv_q="quoted"
gv_true=True
gv_yes=yes
prec=prod_inv
lvl=prod_inv

[web:vars]
lvl=web_inv
prec2=web_inv

[all:vars]
lvl=all_inv
only_all=all_inv
prec2=all_inv
"#;

/// The tree used with ansible-core to record expected values: `inv/hosts` (INI above) with
/// `inv/group_vars/{all.yml, web/a.yml, web/b.yaml}`, `inv/host_vars/web01.yml`, and a playbook
/// directory `pb/` with `group_vars/{all.yaml, prod.yml}` and `host_vars/web01` (no extension).
fn ansible_tree() -> (tempfile::TempDir, Inventory) {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "inv/hosts", INI);
    write(
        r,
        "inv/group_vars/all.yml",
        "lvl: all_gv_inv\nprec2: all_gv_inv\ngva: inv\n",
    );
    write(r, "inv/group_vars/web/a.yml", "webdir: a\nlvl: web_gv_a\n");
    write(r, "inv/group_vars/web/b.yaml", "webdir: b\n");
    write(r, "inv/group_vars/web/.hidden.yml", "webdir: hidden\n");
    write(r, "inv/group_vars/web/notes.txt", "webdir: txt\n");
    write(r, "inv/host_vars/web01.yml", "hv: inv_hostvars\n");
    write(r, "inv/README.md", "# not an inventory\n");
    write(r, "pb/host_vars/web01", "hv: pb_hostvars\n");
    write(r, "pb/group_vars/all.yaml", "prec2: all_gv_play\n");
    write(r, "pb/group_vars/prod.yml", "lvl: prod_gv_play\n");
    let inv = Inventory::load(&[r.join("inv")]).unwrap();
    (d, inv)
}

#[test]
fn ini_values_are_typed_like_ansible() {
    let (_d, inv) = ansible_tree();
    let v = inv.host_vars("lonely");
    assert_eq!(v["x_int"], json!(5));
    assert_eq!(
        v["x_q"],
        json!(5),
        "shlex strips the quotes, then literal_eval sees 5"
    );
    assert_eq!(v["x_qq"], json!("5"));
    assert_eq!(v["x_yes"], json!("yes"));
    assert_eq!(v["x_true"], json!("true"));
    assert_eq!(v["x_True"], json!(true));
    assert_eq!(v["x_oct"], json!("0644"));
    assert_eq!(v["x_list"], json!([1, "a"]));
    assert_eq!(v["x_sp"], json!("a b"));
    assert_eq!(v["x_dict"], json!({"k": 1}));
    let g = inv.host_vars("db1");
    assert_eq!(g["gv_int"], json!(7));
    assert_eq!(g["gv_str"], json!("hello world"));
    assert_eq!(g["gv_cmt"], json!(1));
    assert_eq!(g["gv_cmt2"], json!("hello # c"));
    assert_eq!(g["gv_q"], json!("quoted"));
    assert_eq!(g["gv_true"], json!(true));
    assert_eq!(g["gv_yes"], json!("yes"));
    assert_eq!(inv.host_vars("web03")["ansible_port"], json!(2222));
}

#[test]
fn precedence_matches_ansible_playbook() {
    let (d, mut inv) = ansible_tree();
    // Without the playbook directory: what `ansible-inventory -i inv --list` printed.
    let web01 = inv.host_vars("web01");
    assert_eq!(
        web01["lvl"],
        json!("web_gv_a"),
        "inventory group_vars/web beats group_vars/all"
    );
    assert_eq!(
        web01["prec2"],
        json!("all_gv_inv"),
        "group_vars/all beats inventory-file [web:vars]"
    );
    assert_eq!(
        web01["prec"],
        json!("web_host_line"),
        "host line beats [prod:vars]"
    );
    assert_eq!(
        web01["webdir"],
        json!("b"),
        "group_vars/web/ files load sorted, later wins"
    );
    assert_eq!(web01["hv"], json!("inv_hostvars"));
    assert_eq!(web01["only_all"], json!("all_inv"));
    assert_eq!(inv.host_vars("web03")["prec"], json!("prod_inv"));
    assert_eq!(inv.host_vars("lonely")["lvl"], json!("all_gv_inv"));

    // With the playbook directory: what `ansible-playbook -i inv pb/site.yml` printed.
    inv.add_playbook_dir(&d.path().join("pb")).unwrap();
    for h in ["web01", "web02", "web03", "db1"] {
        let v = inv.host_vars(h);
        assert_eq!(
            v["lvl"],
            json!("prod_gv_play"),
            "{h}: playbook group_vars/prod beats inventory group_vars/web"
        );
        assert_eq!(v["prec2"], json!("all_gv_play"), "{h}");
    }
    assert_eq!(inv.host_vars("lonely")["lvl"], json!("all_gv_inv"));
    assert_eq!(inv.host_vars("lonely")["prec2"], json!("all_gv_play"));
    assert_eq!(inv.host_vars("web01")["hv"], json!("pb_hostvars"));
    assert!(!inv.host_vars("web02").contains_key("hv"));
}

#[test]
fn magic_variables() {
    let (_d, inv) = ansible_tree();
    assert_eq!(inv.host_vars("web01")["group_names"], json!(["prod", "web"]));
    assert_eq!(inv.host_vars("db1")["group_names"], json!(["db", "prod"]));
    // Ansible keeps `ungrouped` in group_names.
    assert_eq!(inv.host_vars("lonely")["group_names"], json!(["ungrouped"]));
    assert_eq!(inv.host_vars("web01")["inventory_hostname"], json!("web01"));
    let (_d2, inv2) = load_text("h.yml", "all:\n  hosts:\n    web1.example.com:\n    10.0.0.1:\n");
    assert_eq!(
        inv2.host_vars("web1.example.com")["inventory_hostname_short"],
        json!("web1")
    );
    assert_eq!(
        inv2.host_vars("10.0.0.1")["inventory_hostname_short"],
        json!("10.0.0.1")
    );
    let f = inv.host_vars("web01")["inventory_file"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(f.ends_with("inv/hosts"), "{f}");
}

#[test]
fn list_json_matches_ansible_inventory() {
    let (_d, inv) = ansible_tree();
    let l = inv.list_json();
    assert_eq!(l["all"], json!({"children": ["ungrouped", "prod"]}));
    assert_eq!(l["prod"], json!({"children": ["web", "db"]}));
    assert_eq!(l["web"], json!({"hosts": ["web01", "web02", "web03"]}));
    assert_eq!(l["db"], json!({"hosts": ["db1"]}));
    assert_eq!(l["ungrouped"], json!({"hosts": ["lonely"]}));
    assert_eq!(
        l["_meta"]["hostvars"]["web03"],
        json!({
            "ansible_port": 2222, "gv_cmt": 1, "gv_cmt2": "hello # c", "gv_int": 7,
            "gv_q": "quoted", "gv_str": "hello world", "gv_true": true, "gv_yes": "yes",
            "gva": "inv", "lvl": "web_gv_a", "only_all": "all_inv", "prec": "prod_inv",
            "prec2": "all_gv_inv", "webdir": "b"
        })
    );
    let keys: Vec<&String> = l.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["_meta", "all", "db", "prod", "ungrouped", "web"]);
    assert_eq!(inv.host_json("web03").unwrap(), l["_meta"]["hostvars"]["web03"]);
    assert!(inv.host_json("nope").is_none());
}

#[test]
fn graph_matches_ansible_inventory() {
    let (_d, inv) = ansible_tree();
    let expected = "@all:\n  |--@ungrouped:\n  |  |--lonely\n  |--@prod:\n  |  |--@web:\n  |  |  |--web01\n  |  |  |--web02\n  |  |  |--web03\n  |  |--@db:\n  |  |  |--db1";
    assert_eq!(inv.graph(), expected);
    assert_eq!(inv.graph_group("db", false).unwrap(), "@db:\n  |--db1");
    assert!(inv.graph_group("nope", false).is_none());
}

const YAML: &str = "\
all:
  vars:
    v: all
  hosts:
    solo:
  children:
    web:
      hosts:
        web[1:3]:
          role: web
        'web9:2200':
      vars:
        v: web
    db:
      hosts: db-[a:b]
      children:
        replicas:
          hosts:
            db-r1: {v: host}
    empty:
";

#[test]
fn yaml_inventory_groups_hosts_children() {
    let (_d, inv) = load_text("inv.yml", YAML);
    let hosts: Vec<&str> = inv.hosts().map(Host::name).collect();
    assert_eq!(
        hosts,
        ["solo", "web1", "web2", "web3", "web9", "db-a", "db-b", "db-r1"]
    );
    assert_eq!(inv.host_vars("web2")["role"], json!("web"));
    assert_eq!(inv.host_vars("web2")["v"], json!("web"));
    assert_eq!(inv.host_vars("web9")["ansible_port"], json!(2200));
    assert_eq!(inv.host_vars("db-r1")["v"], json!("host"));
    assert_eq!(inv.host_vars("db-a")["v"], json!("all"));
    assert_eq!(inv.host_vars("db-r1")["group_names"], json!(["db", "replicas"]));
    assert_eq!(inv.host_vars("solo")["group_names"], json!(["ungrouped"]));
    let g = inv.groups_map();
    assert_eq!(g["db"], json!(["db-a", "db-b", "db-r1"]));
    assert_eq!(g["ungrouped"], json!(["solo"]));
    assert_eq!(g["empty"], json!([]));
    assert_eq!(
        g["all"],
        json!(["solo", "web1", "web2", "web3", "web9", "db-a", "db-b", "db-r1"])
    );
}

#[test]
fn yaml_unknown_key_is_an_error_with_position() {
    let e = load_err(
        "inv.yml",
        "all:\n  children:\n    web:\n      host:\n        a:\n",
    );
    assert!(e.contains("inv.yml:4:7"), "{e}");
    assert!(e.contains("unknown key 'host'"), "{e}");
    let e = load_err("inv.yml", "web:\n  hosts:\n    - a\n    - b\n");
    assert!(
        e.contains("inv.yml:3:5") && e.contains("must be a mapping"),
        "{e}"
    );
    let e = load_err("inv.yml", "web:\n  hosts:\n    a: 5\n");
    assert!(e.contains("variables of host 'a'"), "{e}");
    let e = load_err("inv.yml", "plugin: aws_ec2\n");
    assert!(e.contains("not supported"), "{e}");
}

#[test]
fn ini_variable_names_cannot_hold_control_characters() {
    let e = load_err("hosts", "h1 a\0b=1\n");
    assert!(
        e.contains("hosts:1:1") && e.contains("invalid variable name \"a\\0b\""),
        "{e}"
    );
    let e = load_err("hosts", "[web]\nh1\n[web:vars]\nok=1\n\u{1b}x=2\n");
    assert!(
        e.contains("hosts:5:1") && e.contains("invalid variable name"),
        "{e}"
    );
    let e = load_err("hosts", "h1 =1\n");
    assert!(e.contains("invalid variable name \"\""), "{e}");
}

#[test]
fn ini_errors_have_positions() {
    let e = load_err("hosts", "[web]\nh1\n[web:bogus]\n");
    assert!(e.contains("hosts:3:1") && e.contains("unknown type"), "{e}");
    let e = load_err("hosts", "[web]\nh1 novalue\n");
    assert!(e.contains("hosts:2:1") && e.contains("key=value"), "{e}");
    let e = load_err("hosts", "[p:children]\nmissing\n");
    assert!(e.contains("hosts:2:1") && e.contains("'missing'"), "{e}");
    let e = load_err("hosts", "[ghost:vars]\na=1\n");
    assert!(e.contains("hosts:1:1") && e.contains("ghost"), "{e}");
    let e = load_err("hosts", "[web]\nh[1-3]\n");
    assert!(e.contains("hosts:2:1") && e.contains("begin:end"), "{e}");
    let e = load_err("hosts", "[web]\nh1 a='x\n");
    assert!(e.contains("quot"), "{e}");
}

#[test]
fn ini_children_declared_later_and_nested() {
    let (_d, inv) = load_text(
        "hosts",
        "[top:children]\nmid\n\n[mid:children]\nleaf\n\n[leaf]\nl1\n\n[top:vars]\nv=top\n[leaf:vars]\nv=leaf\n",
    );
    assert_eq!(inv.select("top").unwrap(), ["l1"]);
    assert_eq!(inv.host_vars("l1")["group_names"], json!(["leaf", "mid", "top"]));
    assert_eq!(inv.host_vars("l1")["v"], json!("leaf"), "deeper group wins");
}

#[test]
fn group_priority_overrides_depth_order_for_siblings() {
    let text = "[a]\nh\n[b]\nh\n[a:vars]\nx=a\nansible_group_priority=10\n[b:vars]\nx=b\n";
    let (_d, inv) = load_text("hosts", text);
    assert_eq!(inv.host_vars("h")["x"], json!("a"));
    let (_d, inv) = load_text("hosts", "[a]\nh\n[b]\nh\n[a:vars]\nx=a\n[b:vars]\nx=b\n");
    assert_eq!(
        inv.host_vars("h")["x"],
        json!("b"),
        "same depth: sorted by name, later wins"
    );
    assert!(!inv.host_vars("h").contains_key("ansible_group_priority"));
}

#[test]
fn cycles_are_errors() {
    let e = load_err(
        "inv.yml",
        "a:\n  children:\n    b:\n      children:\n        a:\n",
    );
    assert!(e.contains("descendant of itself"), "{e}");
}

#[test]
fn ungrouped_host_leaves_ungrouped_when_grouped_later() {
    let (_d, inv) = load_text("hosts", "h1\nh2\n[g]\nh1\n");
    assert_eq!(inv.select("ungrouped").unwrap(), ["h2"]);
    assert_eq!(inv.host_vars("h1")["group_names"], json!(["g"]));
}

fn pattern_inventory() -> (tempfile::TempDir, Inventory) {
    load_text(
        "hosts",
        "[web]\nweb1\nweb2\nweb3\n[db]\ndb1\ndb2\n[prod]\nweb1\ndb1\n[stage]\nweb2\ndb2\n",
    )
}

#[test]
fn patterns_select_like_ansible() {
    let (_d, inv) = pattern_inventory();
    let s = |p: &str| inv.select(p).unwrap();
    assert_eq!(s("all"), ["web1", "web2", "web3", "db1", "db2"]);
    assert_eq!(s("*"), s("all"));
    assert_eq!(s("web"), ["web1", "web2", "web3"]);
    assert_eq!(s("db2,web1"), ["db2", "web1"]);
    assert_eq!(s("web:db"), ["web1", "web2", "web3", "db1", "db2"]);
    assert_eq!(s("web:&prod"), ["web1"]);
    assert_eq!(s("web,!prod"), ["web2", "web3"]);
    assert_eq!(
        s("!prod,&stage,db,web"),
        ["db2", "web2"],
        "unions, then intersections, then exclusions"
    );
    assert_eq!(s("!prod"), ["web2", "web3", "db2"], "only exclusions: from all");
    assert_eq!(s("web*"), ["web1", "web2", "web3"]);
    assert_eq!(s("db?"), ["db1", "db2"]);
    assert_eq!(s(r"~(web|db)[12]"), ["web1", "web2", "db1", "db2"]);
    assert_eq!(s("web[0]"), ["web1"]);
    assert_eq!(s("web[-1]"), ["web3"]);
    assert_eq!(s("web[1:2]"), ["web2", "web3"]);
    assert_eq!(s("web[1:]"), ["web2", "web3"]);
    assert_eq!(s("web1,web1,web"), ["web1", "web2", "web3"]);
    assert!(s("nothing").is_empty());
    assert!(inv.select("web[7]").is_err());
    assert!(inv.select("~(").unwrap_err().to_string().contains("'~('"));
}

#[test]
fn implicit_localhost() {
    let (_d, inv) = load_text("hosts", "[all:vars]\nx=1\n[web]\nweb1\n");
    assert_eq!(inv.select("localhost").unwrap(), ["localhost"]);
    assert_eq!(
        inv.select("all").unwrap(),
        ["web1"],
        "implicit localhost is not in all"
    );
    assert!(
        !inv.list_json()["_meta"]["hostvars"]
            .as_object()
            .unwrap()
            .contains_key("localhost")
    );
    let v = inv.host_vars("localhost");
    assert_eq!(v["ansible_connection"], json!("local"));
    assert_eq!(v["x"], json!(1));
    assert_eq!(v["group_names"], json!([]));
    assert!(inv.host("localhost").unwrap().is_implicit());
    // An explicit localhost is an ordinary host.
    let (_d, inv) = load_text("hosts", "localhost ansible_connection=ssh\n");
    assert_eq!(inv.host_vars("localhost")["ansible_connection"], json!("ssh"));
    assert!(!inv.host("localhost").unwrap().is_implicit());
}

#[test]
fn limit_filters_in_order_and_reads_files() {
    let (d, inv) = pattern_inventory();
    let all = inv.select("all").unwrap();
    assert_eq!(inv.limit(all.clone(), "db,web1").unwrap(), ["web1", "db1", "db2"]);
    assert_eq!(inv.limit(all.clone(), "!stage").unwrap(), ["web1", "web3", "db1"]);
    let f = write(d.path(), "limit.txt", "db2\n\nweb3\n");
    let lim = format!("@{}", f.display());
    assert_eq!(inv.limit(all.clone(), &lim).unwrap(), ["web3", "db2"]);
    assert!(
        inv.limit(all, "@/nonexistent/limit")
            .unwrap_err()
            .to_string()
            .contains("--limit file")
    );
}

#[test]
fn directory_sources_and_multiple_sources_merge() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "inv/01-web.yml", "web:\n  hosts:\n    w1:\n");
    write(r, "inv/02-db", "[db]\nd1\n[web]\nw2\n");
    write(r, "inv/sub/03.ini", "[web]\nw3\n");
    write(r, "inv/notes.md", "not parsed\n");
    write(r, "inv/old.retry", "x\n");
    write(r, "inv/.hidden", "y\n");
    write(r, "inv/ansible.cfg", "[defaults]\n");
    write(r, "inv/group_vars/web.yml", "gv: inv-dir\n");
    write(r, "extra/hosts.yaml", "all:\n  hosts:\n    x1:\n      a: 1\n");
    write(r, "extra/group_vars/all.yml", "gv_all: extra\n");
    let inv = Inventory::load(&[r.join("inv"), r.join("extra/hosts.yaml")]).unwrap();
    assert_eq!(inv.select("web").unwrap(), ["w1", "w2", "w3"]);
    assert_eq!(inv.select("all").unwrap(), ["x1", "w1", "w2", "w3", "d1"]);
    assert_eq!(inv.host_vars("w3")["gv"], json!("inv-dir"));
    assert_eq!(inv.host_vars("d1")["gv_all"], json!("extra"));
    let dir = inv.host_vars("w3")["inventory_dir"].as_str().unwrap().to_string();
    assert!(dir.ends_with("inv/sub"), "{dir}");
}

#[test]
fn host_list_and_missing_sources() {
    let inv = Inventory::load(&[PathBuf::from("h1,h2:2201,")]).unwrap();
    assert_eq!(inv.select("ungrouped").unwrap(), ["h1", "h2"]);
    assert_eq!(inv.host_vars("h2")["ansible_port"], json!(2201));
    let e = Inventory::load(&[PathBuf::from("/no/such/inventory")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("not found"), "{e}");
}

#[test]
fn vars_file_errors() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "hosts", "[web]\nw1\n");
    write(r, "group_vars/web.yml", "- a\n- b\n");
    let e = Inventory::load(&[r.join("hosts")]).unwrap_err().to_string();
    assert!(
        e.contains("web.yml:1:1") && e.contains("must be a mapping"),
        "{e}"
    );
    write(r, "group_vars/web.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n");
    let e = Inventory::load(&[r.join("hosts")]).unwrap_err().to_string();
    assert!(
        e.contains("web.yml") && e.contains("no vault secrets found"),
        "{e}"
    );
}

#[test]
fn extensionless_yaml_is_detected() {
    let (_d, inv) = load_text("inventory", "all:\n  hosts:\n    a:\n      x: yes\n");
    assert_eq!(inv.host_vars("a")["x"], json!(true));
    // And an INI file with a lone host still reads as INI.
    let (_d, inv) = load_text("inventory", "solo\n");
    assert_eq!(inv.select("all").unwrap(), ["solo"]);
}

#[test]
fn d4_host_range_expansion_is_bounded_per_inventory() {
    // Each entry is within the per-range bound; together they pass the inventory's.
    let e = load_err("hosts", "[a]\na[0:59999]\n[b]\nb[0:59999]\n");
    assert!(
        e.contains("hosts:4:1") && e.contains(&MAX_INVENTORY_HOSTS.to_string()),
        "{e}"
    );
    let e = load_err(
        "inv.yml",
        "all:\n  children:\n    a:\n      hosts:\n        a[0:59999]:\n    b:\n      hosts:\n        b[0:59999]:\n",
    );
    assert!(
        e.contains("inv.yml:8:") && e.contains(&MAX_INVENTORY_HOSTS.to_string()),
        "{e}"
    );
    // Across sources too.
    let d = tempfile::tempdir().unwrap();
    let one = write(d.path(), "one", "a[0:59999]\n");
    let two = write(d.path(), "two", "b[0:59999]\n");
    let e = Inventory::load(&[one, two]).unwrap_err().to_string();
    assert!(e.contains("two:1:1"), "{e}");
    // At the bound is fine.
    let (_d, inv) = load_text("hosts", "a[1:50000]\nb[1:50000]\n");
    assert_eq!(inv.hosts().count() as u64, MAX_INVENTORY_HOSTS);
}

#[test]
fn group_cycles_name_the_entries() {
    let e = load_err(
        "hosts",
        "[a:children]\nb\n\n[b:children]\nc\n\n[c:children]\na\n\n[a]\n",
    );
    assert!(e.contains("hosts:2:1") && e.contains("hosts:8:1"), "{e}");
}
