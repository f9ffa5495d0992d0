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

/// `vars_prompt` without a terminal: ansible-core's warning and defaults, `-e` skipping the
/// prompt, `encrypt` with a salt, trusted and `unsafe` answers; a private answer reaches the
/// host but talon masks it in its output (ansible-playbook shows it).
#[test]
fn vars_prompt_without_a_terminal_matches_ansible() {
    let c = Compare::new();
    let (t, a) = c.same(&fixture("delegate_vars_prompt.yml"), &["-e", "given=from_cli"]);
    assert_eq!(
        t.line("show the answers"),
        r#"show the answers => ok msg=["from play default","None","from_cli","$6$rounds=656000$abcdefgh$/Ei/7YaGhLUaj/.Vzhbn8/qTav7snBIiSWc4ltNfH/h5CKGCnV8KtAzHxd56WDXc3DF7SfbULGkU/EoGIlOV70","from play","{{ base }}"]"#
    );
    for o in [&t, &a] {
        assert!(
            o.stderr
                .contains("Not prompting as we are not in interactive mode"),
            "{}",
            o.stderr
        );
    }
    for h in [c.talon_host(), c.ansible_host()] {
        assert_eq!(c.lab.read(h, "/tmp/pw").as_deref(), Some("hunter2\n"));
    }
    // secrets: a private answer is a secret: talon never prints it.
    assert!(
        !t.stdout.contains("hunter2") && !t.stderr.contains("hunter2"),
        "{}",
        t.stdout
    );
    assert!(a.stdout.contains("hunter2"));
}

/// `vars_prompt` on a terminal (a pty from `script`): the prompt as ansible-core writes it
/// (`PROMPT [DEFAULT]: `, `confirm PROMPT: `), the typed answers used, the private one
/// delivered as a secret.
#[test]
fn vars_prompt_on_a_terminal_asks() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("pw.txt");
    let pb = dir.path().join("pb.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: localhost\n  gather_facts: false\n  vars_prompt:\n    - name: plain\n      prompt: A plain value\n      default: d\n      private: false\n    - name: pw\n      prompt: A private value\n      confirm: true\n  tasks:\n    - name: show plain\n      debug:\n        msg: \"{{{{ plain }}}}\"\n    - name: write pw\n      copy:\n        content: \"{{{{ pw }}}}\"\n        dest: {}\n",
            out_file.display()
        ),
    )
    .unwrap();
    let cmd = format!(
        "{} run {} -i localhost, --json",
        env!("CARGO_BIN_EXE_talon"),
        pb.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("TALON_STATE_DIR", dir.path().join("state"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"typed\nsekrit\nsekrit\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("A plain value [d]: "), "{text}");
    assert!(text.contains("confirm A private value: "), "{text}");
    assert!(text.contains(r#""msg": "typed""#), "{text}");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "sekrit");
}
