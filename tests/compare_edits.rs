//! The file editors and finders talon runs natively (`replace`, `ini_file`, `tempfile`,
//! `find`), compared with `ansible-playbook` (ansible-core 2.19 from PyPI) on fresh lab hosts:
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
