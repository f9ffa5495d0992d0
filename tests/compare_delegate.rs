//! Delegation, connection keywords, role magic variables, role argument specs and
//! `vars_prompt`, each run by talon and by ansible-playbook (ansible-core 2.19) on fresh lab
//! hosts, asserting the same per-task statuses, shown values and recaps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

/// delegate_to another inventory host runs on that host's connection (each lab host has its
/// own ansible_port) with the original host's variables; delegate_facts, run_once.
#[test]
fn delegate_to_inventory_hosts_matches_ansible() {
    let c = Compare::hosts(2);
    let (t, _) = c.same(&fixture("delegate_hosts.yml"), &[]);
    for want in [
        "#0 show where and with what => ok msg=[true,true]",
        "#1 show the facts => ok msg=[true,true,true]",
        "#0 show the gathered facts landed on the second host => ok msg=[true,false]",
        "#1 show run once results => ok msg=[true,true]",
        "#0 show localhost => ok msg=true",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    // Each talon host's file was written on the other one.
    let (h0, h1) = (&c.lab.hosts[0].0, &c.lab.hosts[1].0);
    assert_eq!(
        c.lab.read(h1, &format!("/tmp/from_{h0}")).as_deref(),
        Some(format!("{h0}\n").as_str())
    );
    assert_eq!(
        c.lab.read(h0, &format!("/tmp/from_{h1}")).as_deref(),
        Some(format!("{h1}\n").as_str())
    );
    assert_eq!(c.lab.read(h0, &format!("/tmp/from_{h0}")), None);
}

/// delegate_to a host absent from the inventory connects to it by name, as ansible-core: a
/// name that does not resolve makes the task's host unreachable.
#[test]
fn delegate_to_unknown_host_is_reached_by_name() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("delegate_unknown.yml"), &[]);
    assert_eq!(
        t.line("to a host not in the inventory"),
        "to a host not in the inventory => unreachable"
    );
}

/// `connection:` on a task, a block and a play, `ansible_connection` in a task's vars, and
/// `remote_user` below the inventory's `ansible_user`.
#[test]
fn connection_keyword_per_play_and_task_matches_ansible() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("delegate_connection.yml"), &[]);
    assert_eq!(
        t.line("show where each ran"),
        r#"show where each ran => ok msg=[false,true,true,true,"root"]"#
    );
    assert_eq!(
        t.line("show the play's connection"),
        "show the play's connection => ok msg=[false,true]"
    );
}

/// Role magic variables as ansible-core sets them, through `roles:`, a meta dependency,
/// `include_role` and `import_role`.
#[test]
fn role_magic_variables_match_ansible() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("delegate_roles.yml"), &[]);
    assert_eq!(
        t.line("mv_inner : show in inner"),
        r#"mv_inner : show in inner => ok msg=["mv_inner",["mv_outer"],["mv_outer"],["mv_outer","mv_leaf","mv_leaf","mv_inner"]]"#
    );
}

/// A role's `meta/argument_specs.yml` checked before its tasks (`roles:`, `include_role`,
/// `tasks_from` entry points), and the `validate_argument_spec` module, with ansible-core's
/// messages.
#[test]
fn role_argument_specs_match_ansible() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("argspec_roles.yml"), &[]);
    let shown = t.line("show the failed validation");
    for want in [
        "Validation of arguments failed:",
        "missing required arguments: as_name",
        "value of as_mode must be one of: fast, slow, got: medium",
        "missing required arguments: size found in as_conf",
    ] {
        assert!(shown.contains(want), "{want} in {shown}");
    }
    assert!(
        t.lines.iter().any(|l| l.starts_with(
            "as_role : Validating arguments against arg spec 'main' - The argspec test role => failed"
        )),
        "{:#?}",
        t.lines
    );
}
