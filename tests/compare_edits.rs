//! The file editors and finders talon runs natively (`replace`, `ini_file`, `tempfile`,
//! `find`, the regexes of `lineinfile`/`blockinfile`), compared with `ansible-playbook` (ansible-core 2.19 from PyPI) on fresh lab hosts:
//! per-task statuses, the registered values `show ...` tasks print, the recap and the exit code
//! must be identical. Each test also asserts talon runs the module natively (its registry
//! has it), so a fallback to ansible-core's code cannot pass for the native module.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

/// Asserts `name` reaches a native module of talon (not the Python path).
fn native(name: &str) {
    assert!(
        talon::modules::lookup(name).is_some(),
        "{name} must be a native module"
    );
}

#[test]
fn d12_replace_is_native_and_matches_ansible() {
    native("ansible.builtin.replace");
    let c = Compare::new();
    let (t, _) = c.same(&fixture("replace.yml"), &[]);
    assert!(
        t.lines.iter().any(|l| l.starts_with("show results")
            && l.contains(r#""3 replacements made","1 replacements made"]"#)),
        "{:#?}",
        t.lines
    );
    let (t, _) = c.same(&fixture("replace.yml"), &["--diff"]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show diffs") && l.contains("before_header")),
        "{:#?}",
        t.lines
    );
    // A whole run in check mode: nothing is written, every edit is reported as it would be.
    c.same(&fixture("replace.yml"), &["--check"]);
}

/// d13: lineinfile/blockinfile regexes are Python's bytes patterns (look-around,
/// backreferences, ASCII `\w`), not the `regex` crate's dialect.
#[test]
fn d13_lineinfile_and_blockinfile_regexes_are_pythons() {
    native("ansible.builtin.lineinfile");
    let c = Compare::new();
    let (t, _) = c.same(&fixture("lineinfile_regex.yml"), &[]);
    assert_eq!(
        t.line("show the file"),
        r##"show the file => ok msg="#PermitRootLogin yes\nPermitRootLogin prohibit-password\n# BEGIN ANSIBLE MANAGED BLOCK\n# block\n# END ANSIBLE MANAGED BLOCK\nPort 22\nListenAddress 0.0.0.0\nname=café\ny = x_1\ntwice\n""##
    );
    assert_eq!(t.line("the same again"), "the same again changes nothing => ok");
}

#[test]
fn d12_ini_file_is_native_under_both_names_and_matches_the_collection() {
    native("community.general.ini_file");
    native("ini_file");
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::new();
    let (t, _) = c.same_env(&fixture("ini_file.yml"), &[], &env);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show failures") && l.contains(r#""02640",true"#)),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines.iter().any(|l| l.starts_with("show messages")
            && l.contains("'option changed', 'option added', 'option changed'")),
        "{:#?}",
        t.lines
    );
    let (t, _) = c.same_env(&fixture("ini_file.yml"), &["--diff"], &env);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show full results") && l.contains("[main]")),
        "{:#?}",
        t.lines
    );
    // A whole run in check mode: nothing is written, attributes are not looked at.
    c.same_env(&fixture("ini_file.yml"), &["--check"], &env);
}

#[test]
fn d12_tempfile_is_native_and_matches_ansible() {
    native("ansible.builtin.tempfile");
    let c = Compare::new();
    let (t, _) = c.same(&fixture("tempfile.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l == "show names => ok msg=[true,true,true,true]"),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show check mode") && l.contains("does not support check mode")),
        "{:#?}",
        t.lines
    );
    c.same(&fixture("tempfile.yml"), &["--diff"]);
}

#[test]
fn d12_find_is_native_and_matches_ansible() {
    native("ansible.builtin.find");
    let c = Compare::new();
    let (t, _) = c.same(&fixture("find.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show paths") && l.contains("/tmp/ft/sub/c.log")),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show a missing path") && l.contains("is not a directory")),
        "{:#?}",
        t.lines
    );
    // A whole run in check mode: find changes nothing and reports the same.
    c.same(&fixture("find.yml"), &["--check", "--diff"]);
}

/// Directory order is the filesystem's, so the compare hosts cannot show it: here both tools
/// walk one tree on this machine (local connection), whose large folders list in hash order,
/// and must report the same paths in the same order, with `limit`, `depth` and `follow` (a
/// link to a folder walked into, reported as the link it is).
#[test]
fn d12_find_walks_in_the_order_ansible_core_walks() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    for i in 0..40 {
        let sub = tree.join(format!("d{i}")).join("s");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(tree.join(format!("f{i}.txt")), "x\n").unwrap();
        std::fs::write(tree.join(format!("d{i}")).join(format!("g{i}.txt")), "y\n").unwrap();
        std::fs::write(sub.join(format!("h{i}.txt")), "z\n").unwrap();
    }
    std::os::unix::fs::symlink("d1", tree.join("link1")).unwrap();
    let playbook = dir.path().join("order.yml");
    std::fs::write(
        &playbook,
        format!(
            r#"- hosts: all
  gather_facts: false
  tasks:
    - find:
        paths: {tree}
        recurse: true
        file_type: any
        limit: 150
      register: r
    - find:
        paths: {tree}
        recurse: true
        depth: 2
      register: r2
    - find:
        paths: {tree}
        recurse: true
        follow: true
        file_type: any
      register: r3
    - copy:
        content: "{{{{ r.files | map(attribute='path') | join('\n') }}}}\n{{{{ r.examined }}}} {{{{ r.msg }}}}\n{{{{ r2.files | map(attribute='path') | join('\n') }}}}\n{{{{ r2.examined }}}}\n{{{{ r3.files | map(attribute='path') | join('\n') }}}}\n{{{{ r3.examined }}}} {{{{ r3.files | selectattr('islnk') | map(attribute='path') | list }}}}\n"
        dest: "{{{{ out }}}}"
"#,
            tree = tree.display()
        ),
    )
    .unwrap();
    let inventory = dir.path().join("hosts.ini");
    std::fs::write(
        &inventory,
        "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
    )
    .unwrap();
    let (a_out, t_out) = (dir.path().join("ansible.txt"), dir.path().join("talon.txt"));
    let a = std::process::Command::new(common::ansible::ansible_bin("ansible-playbook"))
        .arg("-i")
        .arg(&inventory)
        .arg(&playbook)
        .arg("-e")
        .arg(format!("out={}", a_out.display()))
        .output()
        .unwrap();
    assert!(a.status.success(), "{}", common::text(&a.stdout));
    let t = common::talon()
        .arg("run")
        .arg(&playbook)
        .arg("-i")
        .arg(&inventory)
        .arg("-e")
        .arg(format!("out={}", t_out.display()))
        .output()
        .unwrap();
    assert!(t.status.success(), "{}", common::text(&t.stderr));
    let (a_text, t_text) = (
        std::fs::read_to_string(&a_out).unwrap(),
        std::fs::read_to_string(&t_out).unwrap(),
    );
    assert!(a_text.contains("Limit of matches reached"), "{a_text}");
    assert!(
        a_text.contains("/link1/s/h1.txt"),
        "follow walks into the link: {a_text}"
    );
    assert_eq!(t_text, a_text);
}
