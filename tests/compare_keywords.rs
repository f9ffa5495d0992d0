//! Task and play keywords compared with `ansible-playbook` (ansible-core 2.19): `order`,
//! `any_errors_fatal`, `max_fail_percentage`, `throttle`, `timeout`, `async`/`poll` with
//! `async_status`. Each fixture (tests/fixtures/compare/keywords_*.yml) runs with talon on
//! fresh lab hosts and with ansible-playbook on others; per-task statuses, the chosen values
//! (tasks named `show ...`/`error ...`), recaps and exit codes must be identical.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

fn has(lines: &[String], line: &str) -> bool {
    lines.iter().any(|l| l == line)
}

#[test]
fn d13_play_order_orders_the_hosts_as_ansible() {
    let c = Compare::hosts(2);
    let (t, _) = c.same(&fixture("keywords_order.yml"), &[]);
    // With serial 1 the lines follow the batches: reverse orders run the second host first.
    let first = |what: &str| {
        t.lines
            .iter()
            .find(|l| l.contains(what))
            .map(|l| l[..2].to_string())
            .unwrap_or_default()
    };
    assert_eq!(first("reverse_inventory"), "#1", "{:#?}", t.lines);
    assert_eq!(first("reverse_sorted"), "#1", "{:#?}", t.lines);
    assert_eq!(first("show sorted"), "#0", "{:#?}", t.lines);
}

#[test]
fn d13_any_errors_fatal_and_max_fail_percentage_fail_every_host() {
    let c = Compare::hosts(2);
    let (t, _) = c.same(&fixture("keywords_aef_task.yml"), &[]);
    assert_eq!(t.code, 2);
    assert!(
        !t.lines
            .iter()
            .any(|l| l.contains("after the fatal task") || l.contains("next play")),
        "{:#?}",
        t.lines
    );
    let (t, _) = c.same(&fixture("keywords_aef_ignored.yml"), &[]);
    assert!(
        has(&t.lines, "#0 only the first host goes on => ok"),
        "{:#?}",
        t.lines
    );
    c.same(&fixture("keywords_aef_rescue.yml"), &[]);
    // Under the free strategy the compare callback may file a host's result under the task
    // another host started last (its results are not in task order), so only the recaps and
    // exit codes are compared; talon's lines are checked as they must be.
    let (t, a) = c.run(&fixture("keywords_aef_free.yml"), &[], &[]);
    assert_eq!(
        (&t.recap, t.code),
        (&a.recap, a.code),
        "{}
{}",
        t.stdout,
        a.stdout
    );
    assert_eq!(
        t.lines,
        [
            "#0 the first host fails => failed",
            "#1 the first host fails => skipped",
            "#1 the other host goes on => ok"
        ],
        "{:#?}",
        t.lines
    );
    let (t, _) = c.same(&fixture("keywords_run_once_fatal.yml"), &[]);
    assert!(
        !t.lines.iter().any(|l| l.contains("after the run_once")),
        "{:#?}",
        t.lines
    );
    let (t, _) = c.same(&fixture("keywords_max_fail.yml"), &[]);
    assert!(
        has(&t.lines, "#1 the second host goes on => ok"),
        "{:#?}",
        t.lines
    );
    assert!(
        !t.lines
            .iter()
            .any(|l| l.contains("after the failure") || l.contains("play after")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d13_throttle_and_timeout_as_ansible() {
    let c = Compare::hosts(2);
    let (t, _) = c.same(&fixture("keywords_throttle_timeout.yml"), &[]);
    assert!(
        has(&t.lines, "#0 one host at a time => changed"),
        "{:#?}",
        t.lines
    );
    assert!(
        has(&t.lines, "#1 one host at a time in the block => changed"),
        "{:#?}",
        t.lines
    );
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("#0 error too slow => failed")
                && l.contains("Timed out after 1 second(s).")),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d13_async_poll_and_async_status_as_ansible() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("keywords_async.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show the job result => ok") && l.contains("3 done")),
        "{:#?}",
        t.lines
    );
    assert!(has(&t.lines, "wait for the job => failed"), "{:#?}", t.lines);
    // poll: 0 overlaps the job with the next tasks.
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("show the background job => ok") && l.contains("False True 0")),
        "{:#?}",
        t.lines
    );
}

/// The new keywords are checked at load: a misspelt one is still an unknown keyword, a value
/// that is no integer (`throttle`), no boolean (`any_errors_fatal`) or no known `order` is a
/// load error with file:line:column (exit 4), before anything runs.
#[test]
fn d13_keyword_values_and_unknown_keywords_are_load_errors() {
    let dir = tempfile::Builder::new().prefix("talon-kw-").tempdir().unwrap();
    std::fs::write(dir.path().join("inv.ini"), "h1 ansible_connection=local\n").unwrap();
    let cases = [
        (
            "- hosts: all\n  tasks:\n    - command: 'true'\n      asynch: 5\n",
            "asynch",
            ":4:7",
        ),
        (
            "- hosts: all\n  tasks:\n    - command: 'true'\n      throttle: many\n",
            "throttle must be an integer",
            ":4:17",
        ),
        (
            "- hosts: all\n  order: alphabetical\n  tasks: []\n",
            "Invalid 'order'",
            ":2:10",
        ),
        (
            "- hosts: all\n  max_fail_percentage: lots\n  tasks: []\n",
            "max_fail_percentage",
            ":2:24",
        ),
        (
            "- hosts: all\n  tasks:\n    - command: 'true'\n      any_errors_fatal: maybe\n",
            "any_errors_fatal",
            ":4:25",
        ),
    ];
    for (i, (yml, want, at)) in cases.iter().enumerate() {
        let pb = dir.path().join(format!("pb{i}.yml"));
        std::fs::write(&pb, yml).unwrap();
        let out = common::talon()
            .current_dir(dir.path())
            .args(["run", "--syntax-check"])
            .arg(&pb)
            .args(["-i", "inv.ini"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{yml}\n{err}");
        assert!(
            err.contains(want) && err.contains(&format!("pb{i}.yml{at}")),
            "{yml}\n{err}"
        );
    }
}

#[test]
fn d13_check_mode_and_diff_per_task_as_ansible() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("keywords_check_diff.yml"), &["--check", "--diff"]);
    assert!(
        has(&t.lines, r#"show the content => ok msg="a""#),
        "{:#?}",
        t.lines
    );
}

#[test]
fn d13_ignore_unreachable_lets_the_host_go_on() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("keywords_ignore_unreachable.yml"), &[]);
    assert!(
        has(&t.lines, "cut the connection => unreachable"),
        "{:#?}",
        t.lines
    );
    assert!(
        has(&t.lines, r#"show it is back => ok msg="back""#),
        "{:#?}",
        t.lines
    );
}
