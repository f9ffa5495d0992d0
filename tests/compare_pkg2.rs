//! Package and system modules made native by the "pkg" helper, against ansible-playbook
//! (ansible-core 2.19, ansible.posix from the `ansible` 12 package) on fresh Debian lab hosts:
//! `package_facts`, ... . They ran through ansible-core's code on the host (the Python path);
//! each test takes Python away from talon's host first, so a task that still took the Python
//! path would fail there and the comparison with ansible-playbook (whose host keeps Python)
//! would differ.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

#[test]
fn d12_package_facts_is_native_and_matches_ansible() {
    let c = Compare::new();
    c.give_python3_apt();
    c.drop_python_on_talons_host();
    let (t, _) = c.same(&fixture("package_facts.yml"), &[]);
    let local = t.line("show the local ones");
    for want in [
        r#"[{"arch":"all","category":"","name":"talon-nosect","origin":"","source":"apt","version":"1:2.0-1"}]"#,
        r#"[{"arch":"i386","category":"libs","name":"talon-foreign:i386","origin":"","source":"apt","version":"1.0"}]"#,
        r#"false,false,false,["ansible_facts","changed","failed"]"#,
    ] {
        assert!(local.contains(want), "{want} in {local}");
    }
    assert!(
        t.line("show the packages")
            .contains(r#""bash":[{"arch":"amd64","category":"shells""#),
        "{:#?}",
        t.lines
    );
    let same = t.line("show the same");
    assert!(
        same.contains(r#"[true,true,true,["Requested package manager pacman was not usable by this module: Failed to find required executable \"pacman\" in paths: "#),
        "{same}"
    );
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("error an unsupported manager => failed")),
        "{:#?}",
        t.lines
    );
    // With a package index in apt's lists, python-apt reads sections and origins from it:
    // talon hands the task to ansible-core's module (its host gets Python back for that).
    c.lab.sh_ok(
        c.talon_host(),
        "for f in /usr/bin/python3*.off; do mv \"$f\" \"${f%.off}\"; done; command -v python3",
    );
    let (t, _) = c.same(&fixture("package_facts_lists.yml"), &[]);
    let indexed = t.line("show the indexed package");
    assert!(
        indexed.contains(r#""category":"web","name":"talon-nosect","origin":"TalonTest""#),
        "{indexed}"
    );
}
