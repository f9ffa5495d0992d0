//! More of the playbook language compared with `ansible-playbook` (ansible-core 2.19): role
//! argument specs' conditional checks and `bytes`/`bits` types, `async` on every module,
//! argument-templating errors, in-place list/dict methods and datetime arithmetic in
//! templates, the keywords of dynamic includes, native results of statements around one
//! expression, `vars_prompt` asked per play. Each fixture
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
    d13_statements_around_one_expression_keep_its_type(&c);
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
    // d13: in-place methods on play variables and loop items change the template's copy.
    assert_eq!(
        t.line("show in-place methods on variables"),
        r#"show in-place methods on variables change the template's copy => ok msg=[{"x":1,"y":2},{"x":1},3,[true,true,true],2,[1,2]]"#
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

/// d13: `{% set x = [1, 2] %}{{ x }}` is the list, as ansible-core's native concatenation
/// returns one output node as it is (none for no node; a string for more).
fn d13_statements_around_one_expression_keep_its_type(c: &Compare) {
    let (t, _) = c.same(&fixture("lang2_native.yml"), &[]);
    assert_eq!(
        t.line("show the types"),
        r#"show the types => ok msg=["list","str","list","dict","int","list","int","str","str","float","bool","NoneType","NoneType","str"]"#
    );
    assert_eq!(
        t.line("show the fact's type"),
        r#"show the fact's type => ok msg="list""#
    );
}

/// Runs `cmd` (a shell command line) on a terminal (a pty from `script`), answering `answer`
/// once `prompt` is on the screen (typed after it shows, so that a private answer is never
/// echoed by the terminal); returns everything the terminal showed.
fn on_a_terminal(cmd: &str, prompt: &str, answer: &str, dir: &std::path::Path) -> String {
    use std::io::{Read, Write};
    let mut child = std::process::Command::new("script")
        .args(["-qec", cmd, "/dev/null"])
        .env("TALON_STATE_DIR", dir.join("state"))
        .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut stdin = child.stdin.take().unwrap();
    let mut answered = false;
    while let Ok(chunk) = rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
        seen.extend(chunk);
        if !answered && String::from_utf8_lossy(&seen).contains(prompt) {
            // The terminal's echo is off once the prompt is shown; a moment for it.
            std::thread::sleep(std::time::Duration::from_millis(500));
            stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
            stdin.flush().unwrap();
            answered = true;
        }
    }
    drop(stdin);
    let _ = child.wait();
    let _ = reader.join();
    assert!(
        answered,
        "no prompt {prompt:?} in:\n{}",
        String::from_utf8_lossy(&seen)
    );
    String::from_utf8_lossy(&seen).into_owned()
}

/// d13: a play's `vars_prompt` is asked when that play starts, after the previous play's
/// output and before its banner, by talon as by ansible-playbook (each on a terminal); the
/// private answer reaches the task as a secret and talon never shows it.
#[test]
fn d13_vars_prompt_is_asked_when_its_play_starts() {
    let dir = tempfile::tempdir().unwrap();
    let pb = fixture("lang2_vars_prompt.yml");
    let python = common::ansible::ansible_bin("python");
    let answer = "s3kr1t-answer";
    let mut shown = Vec::new();
    for tool in ["talon", "ansible"] {
        let out = dir.path().join(format!("{tool}.txt"));
        let args = format!(
            "{} -i localhost, -c local -e out={} -e ansible_python_interpreter={}",
            pb.display(),
            out.display(),
            python.display()
        );
        let cmd = match tool {
            "talon" => format!("{} run {args}", env!("CARGO_BIN_EXE_talon")),
            _ => format!(
                "{} {args}",
                common::ansible::ansible_bin("ansible-playbook").display()
            ),
        };
        let text = on_a_terminal(&cmd, "The second play's secret: ", answer, dir.path());
        let at = |s: &str| {
            text.find(s)
                .unwrap_or_else(|| panic!("{tool}: no {s:?} in:\n{text}"))
        };
        assert!(
            at("first play's output") < at("The second play's secret: ")
                && at("The second play's secret: ") < at("PLAY [second]"),
            "{tool}: the prompt is not between the plays:\n{text}"
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), answer, "{tool}");
        shown.push(text);
    }
    // secrets: talon masks the private answer (ansible-playbook's debug shows it).
    assert!(!shown[0].contains(answer), "{}", shown[0]);
    assert!(shown[1].contains(answer), "{}", shown[1]);
}
