//! Native firewall, locale and kernel-module modules against ansible-playbook (ansible-core 2.19
//! and community.general) on fresh Debian lab hosts: `iptables` (hosts with NET_ADMIN, each tool
//! in its own network namespace), `community.general.locale_gen`, `community.general.modprobe`
//! (its failures: lab hosts have no kernel modules). They ran through the module's
//! Python code on the host (the Python path); talon now runs them itself. Each test takes
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
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let (m, _) = c.same_env(&fixture("modprobe_python.yml"), &[], &env);
    let l = m.line("error a dotted name");
    assert!(
        l.contains(r#"Failed to find required executable \"modprobe\""#),
        "{l}"
    );
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

/// Copies this machine's `locales` package files (Debian's, which the Rust image has) onto
/// every host: `locale-gen`, `/usr/share/i18n` and `locale.alias`, so neither tool's host needs
/// the network. Panics when this machine lacks them.
fn give_locales(c: &Compare) {
    c.give_from_controller(
        "usr/sbin/locale-gen usr/share/i18n etc/locale.alias usr/share/locale/locale.alias",
        "locales",
    );
}

#[test]
fn d12_locale_gen_is_native_and_matches_ansible() {
    let colls = common::ansible::collections_path();
    let c = Compare::without_python_on_talons_host();
    give_locales(&c);
    let env = [
        ("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap()),
        // Pipelining lets ansible-playbook become an unprivileged user without ACLs on the host.
        ("ANSIBLE_PIPELINING", "true"),
    ];
    let (t, _) = c.same_env(&fixture("locale_gen.yml"), &["--diff"], &env);
    for want in [
        "a locale in check mode => ok",
        "a locale => changed",
        "the same locale => ok",
        "two locales, one new => changed",
        "a locale only locale -a lists => ok",
        "absent with one not present => ok",
        "absent in check mode => ok",
        "absent => changed",
        "absent again => ok",
        "a supported locale without a line => ok",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    for (task, want) in [
        ("error no locale.gen", "Is the package \\\"locales\\\" installed?"),
        (
            "error a locale the host does not offer",
            "not available on your system: xx_XX.UTF-8, yy_YY",
        ),
        (
            "error the file cannot be written",
            "Module failed with exception: [Errno 13] Permission denied: '/etc/locale.gen'",
        ),
        (
            "error no locale-gen",
            "Failed to find required executable \\\"locale-gen\\\"",
        ),
    ] {
        let l = t.line(task);
        assert!(l.contains(want), "{want} in {l}");
    }
}

#[test]
fn d12_modprobe_is_native_and_matches_ansible() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::without_python_on_talons_host();
    let (t, _) = c.same_env(&fixture("modprobe.yml"), &[], &env);
    for (task, want) in [
        (
            "error no modprobe =>",
            r#"Failed to find required executable \"modprobe\""#,
        ),
        (
            "error no modprobe, persistent",
            r#"Failed to find required executable \"modprobe\""#,
        ),
        (
            "error no /proc/modules =>",
            "[Errno 2] No such file or directory: '/proc/modules'",
        ),
        (
            "error no /proc/modules, absent",
            "[Errno 2] No such file or directory: '/proc/modules'",
        ),
    ] {
        let l = t.line(task);
        assert!(l.contains(want), "{want} in {l}");
    }
    let shown = t.line("show results");
    assert!(shown.contains(r#""params":"numdummies=2""#), "{shown}");
}
