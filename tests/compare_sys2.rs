//! Native system modules against ansible-playbook (ansible-core 2.19 and community.general) on
//! fresh Debian lab hosts: `hostname` and `community.general.timezone` ran through the module's
//! Python code on the host (the Python path); talon now runs them itself (`modprobe` and
//! `locale_gen` are compared in compare_fw.rs). Each test takes Python away from talon's host first, so a
//! task that still took the Python path would fail there and differ from ansible-playbook's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

#[test]
fn d12_hostname_is_native_and_matches_ansible() {
    let c = Compare::without_python_on_talons_host();
    // Pipelining lets ansible-playbook become an unprivileged user without ACLs on the host.
    let env = [("ANSIBLE_PIPELINING", "true")];
    let (t, _) = c.same_env(&fixture("hostname.yml"), &["--diff"], &env);
    for want in [
        "a new name in check mode => changed",
        "a new name => changed",
        "the same name => ok",
        "the same name in check mode => ok",
        "the name with blanks in the file => ok",
        r#"show file => ok msg=["  web02 "]"#,
        r#"error the file cannot be written => failed msg="failed to update hostname: [Errno 13] Permission denied: '/etc/hostname'""#,
        "the systemd strategy => changed",
        "the systemd strategy again => ok",
        "a name too long for systemd in check mode => changed",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    let missing = t.line("error the systemd strategy without hostnamectl =>");
    assert!(
        missing.contains(r#"Failed to find required executable \"hostnamectl\""#),
        "{missing}"
    );
    let failed = t.line("error the transient name cannot be set =>");
    assert!(
        failed.contains("Command failed rc=3, out=out\\n, err=Could not set transient hostname"),
        "{failed}"
    );
    assert!(
        t.lines
            .iter()
            .any(|l| l == r#"show the file and the facts => ok msg=["web02","web02","HOST",""]"#),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d12_timezone_is_native_and_matches_ansible() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::without_python_on_talons_host();
    let (t, _) = c.same_env(&fixture("timezone.yml"), &["--diff"], &env);
    for want in [
        "a zone in check mode => changed",
        "a zone => changed",
        "the same zone => ok",
        "the same zone, a copied file => ok",
        "another zone over the copied file => changed",
        "hwclock UTC without rcS => changed",
        "hwclock UTC again => ok",
        "hwclock local and a zone => changed",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    for (task, want) in [
        (
            "error no hwclock program",
            r#"Failed to find required executable \"hwclock\""#,
        ),
        (
            "error an unknown zone",
            r#"Error message:\ngiven timezone \"Nowhere/City\" is not available"#,
        ),
        ("error hwclock local, adjtime", "still not desired state"),
        ("error hwclock cannot run", "Cannot access the Hardware Clock"),
        (
            "error the real hardware clock",
            "Cannot access the Hardware Clock",
        ),
    ] {
        let l = t.line(task);
        assert!(l.contains(want), "{want} in {l}");
    }
}
