//! Native firewall modules against ansible-playbook (ansible-core 2.19) on fresh Debian lab
//! hosts: `iptables` (hosts with NET_ADMIN, each tool in its own network namespace). It ran
//! through the module's Python code on the host (the Python path); talon now runs it itself. Each test takes
//! Python away from talon's host first, so a task that still took the Python path would fail
//! there and differ from ansible-playbook's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

#[test]
fn d12_iptables_is_native_and_matches_ansible() {
    let c = Compare::with_lab_flags(&["--net-admin"]);
    c.take_python_from_talons_host();
    let (t, _) = c.same(&fixture("iptables.yml"), &[]);
    for want in [
        "a rule in check mode => changed",
        "a rule => changed",
        "the same rule => ok",
        "the same rule in check mode => ok",
        "inserted at a number with a wait => changed",
        "inserted again => ok",
        "many match options again => ok",
        "a chain => changed",
        "the same chain => ok",
        "a missing chain without chain_management => changed",
        "a policy => changed",
        "the same policy => ok",
        "the rule removed => changed",
        "the rule removed again => ok",
        "a rule on both => changed",
        "a rule on both again => ok",
        "flush a chain => changed",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    for (task, want) in [
        (
            "error logging with another jump",
            "Logging options can only be used with the LOG jump target.",
        ),
        ("error a rule iptables refuses", "nosuchproto"),
        (
            "error no chain",
            "flush is False but all of the following are missing: chain",
        ),
        (
            "error tee without gateway",
            "jump is TEE but all of the following are missing: gateway",
        ),
        (
            "error a dscp mark without jump",
            "missing parameter(s) required by 'set_dscp_mark': jump",
        ),
    ] {
        let l = t.line(task);
        assert!(l.contains(want), "{want} in {l}");
    }
}

#[test]
fn d12_iptables_hands_what_it_does_not_cover_to_the_python_path() {
    let c = Compare::with_lab_flags(&["--net-admin"]);
    let (t, _) = c.same(&fixture("iptables_python.yml"), &[]);
    let l = t.line("show the table =>");
    assert!(l.contains("home /root"), "{l}");
    for task in [
        "error tcp flags without flags_set",
        "error a set match without flags",
    ] {
        let l = t.line(task);
        assert!(l.contains("failed"), "{l}");
    }
}
