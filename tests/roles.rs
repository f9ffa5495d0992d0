//! Issue 12's "Done when": roles in the style of real Galaxy roles (tests/fixtures/roles/), run
//! with talon and with `ansible-playbook` on fresh lab hosts: check mode first (predicting the
//! real run), then the real run, then a warm run that changes nothing, each with identical
//! per-task statuses, recaps and registered values on both sides.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, Outcome};

/// Asserts that the check-mode run predicted every change of the real run; `handler`'s command
/// is skipped in check mode (on both sides), so its change was predicted as skipped.
fn check_predicted(check: &Outcome, cold: &Outcome, handler: &str) {
    for line in cold.lines.iter().filter(|l| l.ends_with("=> changed")) {
        let predicted = if line.starts_with(handler) {
            format!("{handler} => skipped")
        } else {
            line.clone()
        };
        assert!(
            check.lines.contains(&predicted),
            "{predicted}: {:#?}",
            check.lines
        );
    }
}

#[test]
fn d12_a_galaxy_style_service_role_runs_as_with_ansible() {
    let c = Compare::new();
    c.give_python3_apt();
    let pb = common::root().join("tests/fixtures/roles/memo.yml");
    let (check, _) = c.same(&pb, &["--check"]);
    let (cold, _) = c.same(&pb, &[]);
    // Check mode predicted every change of the real run (the handler's command is skipped in
    // check mode, on both sides).
    check_predicted(&check, &cold, "memo : restart memo");
    assert!(
        cold.lines.iter().any(|l| l == "memo : restart memo => changed"),
        "{:#?}",
        cold.lines
    );
    // with_first_found chose vars/Debian.yml (the conf folder), the site overrides were
    // skipped, and the template has ansible_managed and the template variables.
    assert!(
        cold.lines.iter().any(|l| l.starts_with("memo : show the configuration")
            && l.contains(r"#\n# Ansible managed\n#\n# memo configuration, from memo.conf.j2 for /etc/memo/memo.conf")),
        "{:#?}",
        cold.lines
    );
    assert!(
        cold.lines
            .contains(&"memo : Include site overrides when there are any => skipped items=[]".to_string()),
        "{:#?}",
        cold.lines
    );
    let (warm, a) = c.same(&pb, &[]);
    assert_eq!((warm.recap[0][1], a.recap[0][1]), (0, 0), "{:#?}", warm.lines);
}

#[test]
fn d12_a_galaxy_style_hardening_role_with_collection_modules() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::new();
    let pb = common::root().join("tests/fixtures/roles/harden.yml");
    let (check, _) = c.same_env(&pb, &["--check"], &env);
    let (cold, _) = c.same_env(&pb, &["--diff"], &env);
    assert!(
        cold.lines.iter().any(|l| l == "harden : apply sysctl => changed"),
        "{:#?}",
        cold.lines
    );
    assert!(
        check
            .lines
            .iter()
            .any(|l| l.starts_with("harden : Kernel settings => changed"))
    );
    let (warm, a) = c.same_env(&pb, &[], &env);
    assert_eq!((warm.recap[0][1], a.recap[0][1]), (0, 0), "{:#?}", warm.lines);
}

#[test]
fn d12_a_galaxy_style_relay_role_with_native_modules() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::new();
    let pb = common::root().join("tests/fixtures/roles/relay.yml");
    let (check, _) = c.same_env(&pb, &["--check"], &env);
    let (cold, _) = c.same_env(&pb, &["--diff"], &env);
    check_predicted(&check, &cold, "relay : reload relay");
    assert!(
        cold.lines.iter().any(|l| l.starts_with("relay : show the relay")
            && l.contains("/etc/relay")
            && l.contains("relayhost = [mail.example.org]")),
        "{:#?}",
        cold.lines
    );
    let (warm, a) = c.same_env(&pb, &[], &env);
    assert_eq!((warm.recap[0][1], a.recap[0][1]), (0, 0), "{:#?}", warm.lines);
}
