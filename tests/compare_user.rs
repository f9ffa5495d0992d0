//! Issue 11, "Claimed modules' missing arguments": talon's native `user` and `group` modules
//! against ansible-playbook (ansible-core 2.19) on fresh Debian lab hosts: password ageing,
//! expiry, password locking, umask, SSH key generation (with a passphrase), system users,
//! home folders made or moved, check mode, `local`, and the keys the results carry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

#[test]
fn d11_user_and_group_arguments_apply_as_ansible_and_are_idempotent() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("user_args.yml"), &[]);
    assert!(t.recap[0][1] > 5, "the first run changes: {:?}", t.recap);
    let (t2, _) = c.same(&fixture("user_args.yml"), &[]);
    assert_eq!(
        t2.recap[0][1], 0,
        "the second run changes nothing:\n{:#?}",
        t2.lines
    );
    // The fixture's comparisons are not blind: the values talon reported are the expected ones.
    let line = |prefix: &str| {
        t.lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .cloned()
            .unwrap_or_else(|| panic!("{prefix}: {:#?}", t.lines))
    };
    let account = line("show account");
    for want in [
        "!HASH:1:90:10::21915:",
        r#""700 d11alice d11alice","700 d11alice d11alice","600 d11alice d11alice""#,
        "Account expires\\t\\t\\t\\t\\t\\t: Jan 01, 2030",
    ] {
        assert!(account.contains(want), "{want} in {account}");
    }
    assert!(line("show user values").contains("ssh-ed25519 KEY d11 key"));
    assert!(line("show passphrase key files").contains("600 d11alice"));
}

#[test]
fn d11_user_and_group_check_mode_local_and_failures_as_ansible() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("user_modes.yml"), &[]);
    for line in [
        "error local user => failed",
        "error a missing group => failed msg=\"Group nope does not exist\"",
        "a local user that does not exist, check mode => changed",
    ] {
        assert!(
            t.lines.iter().any(|l| l.starts_with(line)),
            "{line}\n{:#?}",
            t.lines
        );
    }
}
