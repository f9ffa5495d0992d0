//! More of the playbook language compared with `ansible-playbook` (ansible-core 2.19): role
//! argument specs' conditional checks and `bytes`/`bits` types, `async` on every module,
//! argument-templating errors, in-place list/dict methods and datetime arithmetic in
//! templates, the keywords of dynamic includes. Each fixture
//! (tests/fixtures/compare/lang2_*.yml) runs with talon on a fresh lab host and with
//! ansible-playbook on another; per-task statuses, the shown values, recaps and
//! exit codes must be identical. One lab pair serves every fixture (none changes its host in a
//! way another reads).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

#[test]
fn d13_lang2_compared_with_ansible() {
    let c = Compare::new();
    argspec_conditional_checks(&c);
    async_on_every_module(&c);
    argument_errors(&c);
    template_mutation_and_datetimes(&c);
    d13_include_keywords_stay_on_the_include(&c);
}

/// d13: `mutually_exclusive`, `required_together`, `required_one_of`, `required_if`,
/// `required_by` on sub-options and the `bytes`/`bits` types, with ansible-core's messages.
fn argspec_conditional_checks(c: &Compare) {
    let (t, _) = c.same(&fixture("lang2_argspec.yml"), &[]);
    let shown = t.line("show the module's result");
    for want in [
        "parameters are mutually exclusive: a|b found in top",
        "one of the following is required: a, b found in top",
        "a is 1 but all of the following are missing: c found in top",
        "missing parameter(s) required by 'x': y found in top -> d",
    ] {
        assert!(shown.contains(want), "{want} in {shown}");
    }
}

/// d13: `async` with `poll: 0` on a Python-path module and on a native one starts a job in the
/// background on the host (async_wrapper's results file), which `async_status` reads until it
/// finished; a polled Python-path job; a job past its limit is killed ("Timeout exceeded").
fn async_on_every_module(c: &Compare) {
    let (t, _) = c.same(&fixture("lang2_async.yml"), &[]);
    assert_eq!(
        t.line("show the native job"),
        r#"show the native job => ok msg="False True False True False""#
    );
    assert!(
        t.line("show the slow job").contains("Timeout exceeded"),
        "{:#?}",
        t.lines
    );
}

/// d13: a module argument that does not template fails with ansible-core 2.19's words,
/// naming the resolved module and the argument (a nested undefined value by its name too).
fn argument_errors(c: &Compare) {
    let (t, _) = c.same(&fixture("lang2_errors.yml"), &[]);
    assert_eq!(
        t.line("error debug"),
        r#"error debug => failed msg="Task failed: Finalization of task args for 'ansible.builtin.debug' failed: Error while resolving value for 'msg': 'nothing_here' is undefined""#
    );
    assert!(
        t.line("error nested value")
            .ends_with(r#"Error while resolving value for 'content': 'nothing_here' is undefined""#),
        "{:#?}",
        t.lines
    );
}

/// d13: `append`/`update` and the other in-place methods on lists and dicts made in the
/// template, and datetime arithmetic, rendered as ansible-playbook renders them.
fn template_mutation_and_datetimes(c: &Compare) {
    let (t, _) = c.same(&fixture("lang2_templates.yml"), &[]);
    assert_eq!(
        t.line("show a list collected in a loop"),
        r#"show a list collected in a loop => ok msg="names=['ann', 'cy'] 2 ann,cy""#
    );
    assert!(
        t.line("show datetime arithmetic")
            .contains("59 86410.0 1 day, 0:00:10 -1 day, 23:59:50 10"),
        "{:#?}",
        t.lines
    );
}

/// d13: `ignore_errors` and `no_log` on `include_tasks` / `include_role` apply to the include
/// alone (a failing included task fails the host; the included results are shown); `apply:`
/// keywords are inherited by the included tasks.
fn d13_include_keywords_stay_on_the_include(c: &Compare) {
    let (t, _) = c.same(&fixture("lang2_includes.yml"), &[]);
    assert_eq!(
        t.line("lang2_inc : show the role's message"),
        r#"lang2_inc : show the role's message => ok msg="role applied""#
    );
    assert_eq!(
        t.line("lang2_inc : role task that fails"),
        "lang2_inc : role task that fails => failed"
    );
    assert_eq!(
        t.lines.last().map(String::as_str),
        Some("included task that fails => failed"),
        "{:#?}",
        t.lines
    );
    // One ignored failure (apply), one that stops the host (the include's ignore_errors).
    assert_eq!((t.recap[0][3], t.recap[0][6]), (1, 1), "{:#?}", t.recap);
}
