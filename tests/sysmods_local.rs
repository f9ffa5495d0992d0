//! The system modules against a real local connection (`ansible_connection: local`): command,
//! shell, debug, assert, fail, pause, wait_for run for real; apt, user, group and service only
//! in check mode (nothing is installed or created on the controller).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};
use talon::modules::ModuleOutcome;

mod common;

use common::local::LocalEnv as Env;

fn r<'a>(o: &'a ModuleOutcome, k: &str) -> &'a Value {
    o.result.get(k).unwrap_or(&Value::Null)
}

#[tokio::test]
async fn command_runs_argv_without_a_shell() {
    let e = Env::new();
    let o = e
        .run("command", json!({"_raw_params": "echo 'a  b' $HOME;"}), false)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    // `$HOME` is expanded (expand_argument_vars, on by default), quotes or not, as Python's
    // os.path.expandvars does in ansible-core's command module.
    let home = std::env::var("HOME").unwrap();
    assert_eq!(r(&o, "stdout"), &json!(format!("a  b {home};")));
    assert_eq!(r(&o, "stdout_lines"), &json!([format!("a  b {home};")]));
    assert_eq!(r(&o, "rc"), 0);
    assert_eq!(r(&o, "cmd"), &json!(["echo", "a  b", "$HOME;"]));
    assert!(r(&o, "delta").as_str().unwrap().starts_with("0:00:0"));
    assert_eq!(o.msg.as_deref(), Some(""));
}

#[tokio::test]
async fn command_nonzero_rc_fails_and_keeps_output() {
    let e = Env::new();
    let o = e
        .run(
            "command",
            json!({"argv": ["sh", "-c", "echo out; echo err >&2; exit 3"]}),
            false,
        )
        .await;
    assert!(o.failed && o.changed);
    assert_eq!(o.msg.as_deref(), Some("non-zero return code"));
    assert_eq!(r(&o, "rc"), 3);
    assert_eq!(r(&o, "stdout"), "out");
    assert_eq!(r(&o, "stderr"), "err");
}

#[tokio::test]
async fn command_missing_program_is_errno_2_in_2_19s_words() {
    let e = Env::new();
    let o = e
        .run(
            "command",
            json!({"_raw_params": "no-such-program-talon x"}),
            false,
        )
        .await;
    assert!(o.failed && !o.changed);
    assert_eq!(r(&o, "rc"), 2);
    // ansible-core 2.19's run_command message (it said "[Errno 2] ..." before 2.19).
    assert_eq!(o.msg.as_deref(), Some("Error executing command."));
}

#[tokio::test]
async fn command_creates_removes_chdir_and_stdin() {
    let e = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    std::fs::write(dir.path().join("exists.txt"), "x").unwrap();

    // creates with a glob that matches, relative to chdir: not run.
    let o = e
        .run(
            "command",
            json!({"_raw_params": "touch ran", "chdir": d, "creates": "*.txt"}),
            false,
        )
        .await;
    assert!(!o.changed && !o.failed, "{o:?}");
    assert_eq!(o.msg.as_deref(), Some("Did not run command since '*.txt' exists"));
    assert_eq!(r(&o, "stdout"), "skipped, since *.txt exists");
    assert!(!dir.path().join("ran").exists());

    // removes that does not exist: not run.
    let o = e
        .run(
            "command",
            json!({"_raw_params": "touch ran", "chdir": d, "removes": "nope"}),
            false,
        )
        .await;
    assert_eq!(
        o.msg.as_deref(),
        Some("Did not run command since 'nope' does not exist")
    );
    assert!(!dir.path().join("ran").exists());

    // creates that does not exist: runs in chdir.
    let o = e
        .run(
            "command",
            json!({"_raw_params": "touch ran", "chdir": d, "creates": "ran"}),
            false,
        )
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert!(dir.path().join("ran").exists());

    // stdin with the default trailing newline.
    let o = e
        .run("command", json!({"argv": ["od", "-c"], "stdin": "hi"}), false)
        .await;
    assert!(r(&o, "stdout").as_str().unwrap().contains("h   i  \\n"), "{o:?}");

    // a missing chdir fails like Ansible.
    let o = e
        .run(
            "command",
            json!({"_raw_params": "true", "chdir": format!("{d}/missing")}),
            false,
        )
        .await;
    assert!(o.failed);
    assert!(
        o.msg
            .unwrap()
            .starts_with("Unable to change directory before execution")
    );
}

#[tokio::test]
async fn command_check_mode_never_runs() {
    let e = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("made");
    let fs = f.to_str().unwrap();
    let o = e.run("command", json!({"argv": ["touch", fs]}), true).await;
    assert!(o.skipped && !o.changed);
    assert_eq!(
        o.msg.as_deref(),
        Some("Command would have run if not in check mode")
    );
    let o = e
        .run("command", json!({"argv": ["touch", fs], "creates": fs}), true)
        .await;
    assert!(!o.skipped && o.changed);
    assert!(!f.exists());
    std::fs::write(&f, "").unwrap();
    let o = e
        .run("command", json!({"argv": ["touch", fs], "creates": fs}), true)
        .await;
    assert!(!o.changed);
    assert_eq!(
        o.msg.unwrap(),
        format!("Would not run command since '{fs}' exists")
    );
}

#[tokio::test]
async fn shell_uses_sh_and_executable() {
    let e = Env::new();
    let o = e
        .run(
            "shell",
            json!({"_raw_params": "echo $((1+2)) | tr 3 x\n\n"}),
            false,
        )
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert_eq!(r(&o, "stdout"), "x");
    assert_eq!(r(&o, "cmd"), "echo $((1+2)) | tr 3 x\n\n");
    let o = e
        .run(
            "shell",
            json!({"cmd": "echo ${BASH_VERSION:+bash}", "executable": "/bin/bash"}),
            false,
        )
        .await;
    assert_eq!(r(&o, "stdout"), "bash");
    let o = e
        .run(
            "shell",
            json!({"cmd": "exit 4", "strip_empty_ends": false}),
            false,
        )
        .await;
    assert!(o.failed);
    assert_eq!(r(&o, "rc"), 4);
}

#[tokio::test]
async fn debug_fail_assert() {
    let e = Env::new();
    let o = e.run("debug", json!({}), false).await;
    assert_eq!(o.msg.as_deref(), Some("Hello world!"));
    assert!(!o.changed);
    let o = e.run("debug", json!({"msg": ["a", 1]}), false).await;
    assert_eq!(r(&o, "msg"), &json!(["a", 1]));
    // The placeholder templater evaluates every expression to null; the key is the var name.
    let o = e.run("debug", json!({"var": "x.y"}), false).await;
    assert!(o.result.contains_key("x.y"));
    let o = e.run("debug", json!({"msg": "hi", "verbosity": 2}), false).await;
    assert!(o.skipped);

    let o = e.run("fail", json!({}), false).await;
    assert!(o.failed);
    assert_eq!(o.msg.as_deref(), Some("Failed as requested from task"));
    let o = e.run("fail", json!({"msg": "boom"}), false).await;
    assert_eq!(o.msg.as_deref(), Some("boom"));

    // The placeholder templater says every condition is true.
    let o = e
        .run(
            "assert",
            json!({"that": ["1 == 1", true], "success_msg": "fine"}),
            false,
        )
        .await;
    assert!(!o.failed && !o.changed);
    assert_eq!(o.msg.as_deref(), Some("fine"));
}

#[tokio::test]
async fn pause_sleeps_on_the_controller() {
    let e = Env::new();
    let t = std::time::Instant::now();
    let o = e.run("pause", json!({"seconds": "0.3"}), false).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert!(
        r(&o, "stdout").as_str().unwrap().starts_with("Paused for 0.3"),
        "{o:?}"
    );
    let o = e.run("pause", json!({"prompt": "continue?"}), false).await;
    assert!(!o.failed && o.msg.is_some());
}

#[tokio::test]
async fn wait_for_port_opened_and_closed() {
    let e = Env::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let o = e
        .run("wait_for", json!({"port": port, "timeout": 5}), false)
        .await;
    assert!(!o.failed, "{o:?}");
    assert_eq!(r(&o, "port"), port);
    assert_eq!(r(&o, "state"), "started");
    drop(listener);
    let o = e
        .run(
            "wait_for",
            json!({"port": port, "state": "stopped", "timeout": 5}),
            false,
        )
        .await;
    assert!(!o.failed, "{o:?}");
    let o = e
        .run(
            "wait_for",
            json!({"port": port, "timeout": 1, "sleep": 0.2}),
            false,
        )
        .await;
    assert!(o.failed);
    assert_eq!(
        o.msg.unwrap(),
        format!("Timeout when waiting for 127.0.0.1:{port}")
    );
}

#[tokio::test]
async fn wait_for_path_and_regex() {
    let e = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ready");
    let fs = f.to_str().unwrap().to_string();
    let writer = {
        let f = f.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(600)).await;
            std::fs::write(&f, "booting\nlistening on port 8080\n").unwrap();
        })
    };
    let o = e
        .run(
            "wait_for",
            json!({"path": fs, "search_regex": r"^listening on port (?P<port>\d+)$", "timeout": 10, "sleep": 0.2}),
            false,
        )
        .await;
    writer.await.unwrap();
    assert!(!o.failed, "{o:?}");
    assert_eq!(r(&o, "match_groups"), &json!(["8080"]));
    assert_eq!(r(&o, "match_groupdict"), &json!({"port": "8080"}));

    let o = e
        .run(
            "wait_for",
            json!({"path": fs, "state": "absent", "timeout": 1}),
            false,
        )
        .await;
    assert!(o.failed);
    assert_eq!(
        o.msg.unwrap(),
        format!("Timeout when waiting for {fs} to be absent.")
    );
    let o = e
        .run(
            "wait_for",
            json!({"path": fs, "search_regex": "nothere", "timeout": 1, "msg": "custom"}),
            false,
        )
        .await;
    assert_eq!(o.msg.as_deref(), Some("custom"));
}

#[tokio::test]
async fn apt_check_mode_plans_without_installing() {
    let e = Env::new();
    // bash is installed on Debian; a made-up package is not.
    let o = e.run("apt", json!({"name": ["bash"]}), true).await;
    assert!(!o.changed && !o.failed, "{o:?}");
    assert_eq!(r(&o, "cache_updated"), false);
    let o = e
        .run(
            "apt",
            json!({"name": "bash,talon-no-such-pkg", "state": "present"}),
            true,
        )
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    let o = e
        .run(
            "apt",
            json!({"name": "talon-no-such-pkg", "state": "absent"}),
            true,
        )
        .await;
    assert!(!o.changed, "{o:?}");
    let o = e
        .run("apt", json!({"name": "bash", "state": "absent"}), true)
        .await;
    assert!(o.changed, "{o:?}");
    let o = e.run("apt", json!({"update_cache": true}), true).await;
    assert!(o.changed && r(&o, "cache_updated") == true, "{o:?}");
    let o = e
        .run(
            "apt",
            json!({"update_cache": true, "cache_valid_time": 315360000}),
            true,
        )
        .await;
    assert!(!o.changed, "{o:?}");
    assert!(r(&o, "cache_update_time").as_u64().unwrap() > 0);
}

#[tokio::test]
async fn user_and_group_check_mode() {
    let e = Env::new();
    let o = e
        .run(
            "user",
            json!({"name": "root", "uid": 0, "shell": "/bin/bash"}),
            true,
        )
        .await;
    assert!(!o.failed, "{o:?}");
    assert_eq!(r(&o, "uid"), 0);
    assert_eq!(r(&o, "home"), "/root");
    let o = e
        .run("user", json!({"name": "root", "shell": "/bin/talon-shell"}), true)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    let o = e
        .run(
            "user",
            json!({"name": "talon-no-such-user", "groups": ["root"]}),
            true,
        )
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert!(
        std::process::Command::new("id")
            .arg("talon-no-such-user")
            .status()
            .map(|s| !s.success())
            .unwrap()
    );
    let o = e
        .run(
            "user",
            json!({"name": "talon-no-such-user", "state": "absent"}),
            true,
        )
        .await;
    assert!(!o.changed, "{o:?}");
    // As ansible.builtin.user: check mode stops at "would create" before the groups are
    // looked up; an existing user meets the missing group in check mode too.
    let o = e
        .run("user", json!({"name": "x", "group": "talon-no-such-group"}), true)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    let o = e
        .run(
            "user",
            json!({"name": "root", "group": "talon-no-such-group"}),
            true,
        )
        .await;
    assert!(o.failed);
    assert_eq!(o.msg.as_deref(), Some("Group talon-no-such-group does not exist"));

    let o = e.run("group", json!({"name": "root", "gid": 0}), true).await;
    assert!(!o.changed && !o.failed, "{o:?}");
    assert_eq!(r(&o, "gid"), 0);
    let o = e
        .run(
            "group",
            json!({"name": "talon-no-such-group", "system": true}),
            true,
        )
        .await;
    assert!(o.changed, "{o:?}");
    let o = e
        .run(
            "group",
            json!({"name": "talon-no-such-group", "state": "absent"}),
            true,
        )
        .await;
    assert!(!o.changed, "{o:?}");
}

#[tokio::test]
async fn systemd_reads_its_arguments_with_its_own_spec() {
    // Regression: run_systemd read its arguments against service's spec, so daemon_reload (a
    // systemd argument service does not take) was refused as unsupported at run time.
    let e = Env::new();
    let o = e
        .run(
            "systemd",
            json!({"name": "cron", "state": "started", "daemon_reload": true, "masked": false}),
            true,
        )
        .await;
    let msg = o.msg.unwrap_or_default();
    assert!(!msg.contains("Unsupported parameters"), "{msg}");
}

#[tokio::test]
async fn service_without_systemd_fails_clearly() {
    let e = Env::new();
    let o = e
        .run("service", json!({"name": "cron", "state": "started"}), true)
        .await;
    if std::path::Path::new("/run/systemd/system").is_dir() {
        assert!(!o.msg.unwrap_or_default().contains("systemd is not running"));
    } else {
        assert!(o.failed);
        assert!(o.msg.unwrap().contains("systemd is not running"), "clear message");
    }
}
