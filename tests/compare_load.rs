//! Issue 11, "Loading never refuses what ansible-playbook runs", compared with
//! `ansible-playbook` (ansible-core 2.19): a playbook whose tasks have what talon finds at load
//! (undefined variables, unsupported or ill-typed module arguments) in tasks that are skipped,
//! that expect a failure, or whose variables are defined at run time, loads with warnings and
//! gives ansible-playbook's per-task statuses, recap and exit code on a fresh lab host.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

#[test]
fn d11_findings_in_skipped_or_failing_tasks_do_not_refuse_the_playbook() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("lazy_load.yml"), &[]);
    for line in [
        "undefined variable when false => skipped",
        "undefined variable ignore_errors => failed",
        "failed_when short-circuits => changed",
        "failed_when reaches an undefined variable => failed",
        "arguments that do not render => failed",
        r#"show rescued => ok msg="rescued""#,
        "unsupported argument skipped on Debian => skipped",
        "unsupported argument that runs => failed",
        "misspelled argument of a python-path module skipped on Debian => skipped",
        "misspelled argument of a python-path module that runs => failed",
        r#"show run-time variables => ok msg="registered-fact 0""#,
    ] {
        assert!(t.lines.iter().any(|l| l == line), "{line}\n{:#?}", t.lines);
    }
    // talon warned at load, each finding once with its place.
    let warned: Vec<&str> = t
        .stderr
        .lines()
        .filter(|l| l.starts_with("[WARNING]: "))
        .collect();
    assert!(
        warned
            .iter()
            .any(|l| l.contains("lazy_load.yml:7:7: 'nothing_defines_this' is undefined")),
        "{warned:#?}"
    );
    assert!(
        warned
            .iter()
            .any(|l| l.contains("module 'file' does not take the argument 'no_such_argument'")),
        "{warned:#?}"
    );
    // A Python-path module's documented options are checked the same way.
    assert!(
        warned
            .iter()
            .any(|l| l.contains("module 'expect' does not take the argument(s) respones")),
        "{warned:#?}"
    );
    // --strict refuses the same playbook before anything runs.
    let out = common::talon()
        .arg("run")
        .arg(fixture("lazy_load.yml"))
        .arg("-i")
        .arg(c.lab.inventory())
        .arg("--strict")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", common::text(&out.stderr));
}

#[test]
fn d12_task_files_for_other_systems_are_checked_only_if_included() {
    let c = Compare::new();
    let (t, _) = c.same(&fixture("os_include.yml"), &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l == "osrole : show the Debian setup => ok msg=true"),
        "{:#?}",
        t.lines
    );
}
