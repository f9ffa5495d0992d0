//! Delegation and unreachable hosts, run by talon and by ansible-playbook (ansible-core 2.19)
//! on fresh lab hosts, asserting the same per-task statuses, shown values and recaps: a
//! delegated task's `become` and module dispatch from the delegated host's variables, and
//! connections opened by the first task that needs one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

/// The delegated host's become password (the lab's published sudo password of `deploy`).
const DELEGATED_PASSWORD: &str = "deploy-lab-pass";

/// A delegated task takes `become` (on, user, password) and what its module depends on (the
/// Python interpreter, `package`'s backend) from the delegated host's variables, as
/// ansible-core's `ansible_delegated_vars`; `ansible_become_user` wins over the `become_user`
/// keyword. The delegated become password never shows in talon's output.
#[test]
fn d13_delegated_task_uses_the_delegated_hosts_become_and_vars() {
    let c = Compare::hosts(2);
    c.give_python3_apt();
    let h = |i: usize| c.lab.hosts[i].0.clone();
    let mut inv = String::from("lab:\n  hosts:\n");
    for (first, other) in [(h(0), h(1)), (h(2), h(3))] {
        inv.push_str(&format!(
            "    {first}:\n      ansible_become_user: nopw\n      ansible_become_password: wrong-original-pass\n      ansible_python_interpreter: /nonexistent/python3\n      ansible_package_use: nosuchmgr\n"
        ));
        inv.push_str(&format!(
            "    {other}:\n      ansible_user: deploy\n      ansible_become_user: root\n      ansible_become_password: {DELEGATED_PASSWORD}\n"
        ));
    }
    let extra_inv = c.lab.dir.path().join("delegate_become.yml");
    std::fs::write(&extra_inv, inv).unwrap();
    let (t, _) = c.same(
        &fixture("delegate_become.yml"),
        &["-i", extra_inv.to_str().unwrap()],
    );
    assert_eq!(
        t.line("#0 show who"),
        r#"#0 show who => ok msg=["root","root","root"]"#
    );
    for name in [
        "#0 the delegated host's Python runs a Python-path module => ok",
        "#0 package picks the delegated host's manager => ok",
    ] {
        assert!(t.lines.iter().any(|l| l == name), "{name}: {:#?}", t.lines);
    }
    // secrets: the delegated host's become password is never printed.
    assert!(
        !t.stdout.contains(DELEGATED_PASSWORD) && !t.stderr.contains(DELEGATED_PASSWORD),
        "{}\n{}",
        t.stdout,
        t.stderr
    );
}

/// A host unreachable from the start (a closed port on this machine) runs the tasks that need
/// no connection (`debug`, `set_fact`, `assert`, `group_by`, `include_tasks`, a task delegated
/// to localhost),
/// is unreachable at the first task that connects (ignored with `ignore_unreachable`: it goes
/// on), and at a later play's fact gathering; statuses and recaps as ansible-playbook's.
#[test]
fn d13_unreachable_host_connects_on_the_first_task_that_needs_it() {
    let c = Compare::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = listener.local_addr().unwrap().port();
    drop(listener);
    let ghosts = c.lab.dir.path().join("ghosts.yml");
    std::fs::write(
        &ghosts,
        format!(
            "ghosts:\n  hosts:\n    ghost_t:\n      ansible_host: 127.0.0.1\n      ansible_port: {dead_port}\n    ghost_a:\n      ansible_host: 127.0.0.1\n      ansible_port: {dead_port}\n"
        ),
    )
    .unwrap();
    let c = c.more_hosts(&["ghost_t"], &["ghost_a"]);
    let (t, _) = c.same(
        &fixture("unreachable_lazy.yml"),
        &["-i", ghosts.to_str().unwrap()],
    );
    for want in [
        "#1 show debug needs no connection => ok msg=true",
        "#1 show the included task => ok msg=\"included\"",
        "#1 a task delegated to localhost needs only localhost => ok",
        "#1 the first task that connects => unreachable",
        "#1 show it went on => ok msg=true",
        "#1 connects again, ignored again => unreachable",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    assert!(
        !t.lines.iter().any(|l| l.starts_with("#1 show after gathering")),
        "{:#?}",
        t.lines
    );
    assert_eq!(t.code, 4);
}
