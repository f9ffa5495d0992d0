//! Secrets end to end: the real `talon` binary against real processes on this machine
//! (`ansible_connection: local`). Values must reach files (0600) and stdin, and never argv
//! (`/proc/*/cmdline`, watched while talon runs), talon's output, `--json` or temp files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

const GATEWAY: &str = "gw-Tok3n-5f0c9a7e1d2b";
const TELEGRAM: &str = "123456:tg-AAE-zz9yx8wv7";
const FROM_ENV: &str = "envS3cret-77aa31";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("talon-secrets-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("inventory.yml"),
            "all:\n  hosts:\n    box1:\n      ansible_connection: local\n",
        )
        .unwrap();
        let secrets = d.join("secrets.yml");
        std::fs::write(
            &secrets,
            format!("gateway_token: \"{GATEWAY}\"\ntelegram_token: \"{TELEGRAM}\"\n"),
        )
        .unwrap();
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::create_dir(d.join("out")).unwrap();
        std::fs::create_dir(d.join("templates")).unwrap();
        std::fs::write(
            d.join("templates/cfg.json.j2"),
            "{\"gateway\": {\"auth\": {\"token\": \"{{ gateway_token }}\"}}, \"env\": \"{{ env_token }}\"}\n",
        )
        .unwrap();
        std::fs::write(d.join("templates/b64.j2"), "t={{ gateway_token | b64encode }}\n").unwrap();
        Fixture { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn out(&self) -> PathBuf {
        self.path("out")
    }

    fn playbook(&self, name: &str, tasks: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(
            &p,
            format!("- hosts: all\n  gather_facts: false\n  tasks:\n{tasks}"),
        )
        .unwrap();
        p
    }

    /// Runs talon with the secrets file and one `--secret-env`, watching every process's argv.
    fn run(&self, playbook: &Path, extra: &[&str]) -> (Run, Vec<String>) {
        self.run_env(playbook, extra, &[])
    }

    /// [`Fixture::run`] with more environment variables for talon.
    fn run_env(&self, playbook: &Path, extra: &[&str], env: &[(&str, &Path)]) -> (Run, Vec<String>) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_talon"));
        cmd.envs(env.iter().copied());
        cmd.arg("run")
            .arg(playbook)
            .arg("-i")
            .arg(self.path("inventory.yml"))
            .arg("--secrets")
            .arg(self.path("secrets.yml"))
            .args(["--secret-env", "env_token=TALON_TEST_ENV_TOKEN"])
            .arg("-e")
            .arg(format!("out={}", self.out().display()))
            .args(extra)
            .env("TALON_TEST_ENV_TOKEN", FROM_ENV)
            .env("TALON_STATE_DIR", self.path("state"));
        let (stop, watcher) = watch_cmdlines(&[GATEWAY, TELEGRAM, FROM_ENV]);
        let out = cmd.output().unwrap();
        stop.store(true, Ordering::SeqCst);
        let leaks = watcher.join().unwrap();
        (Run::from(out), leaks)
    }

    /// Runs talon with a secrets file holding only `tok: VALUE` (as a rotated secret would be).
    fn run_with_tok(&self, playbook: &Path, value: &str, extra: &[&str]) -> Run {
        let secrets = self.path("tok-secrets.yml");
        std::fs::write(&secrets, format!("tok: {value}\n")).unwrap();
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_talon"))
            .arg("run")
            .arg(playbook)
            .arg("-i")
            .arg(self.path("inventory.yml"))
            .arg("--secrets")
            .arg(&secrets)
            .arg("-e")
            .arg(format!("out={}", self.out().display()))
            .args(extra)
            .env("TALON_STATE_DIR", self.path("state"))
            .output()
            .unwrap();
        Run::from(out)
    }

    /// Temp files talon's atomic writes could leave behind (`.NAME.talon.XXXXXX`).
    fn temp_leftovers(&self) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![self.out()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else if name.contains(".talon") {
                    found.push(e.path().display().to_string());
                }
            }
        }
        found
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
    }

    fn assert_no_value(&self) {
        for v in [GATEWAY, TELEGRAM, FROM_ENV] {
            assert!(
                !self.stdout.contains(v) && !self.stderr.contains(v),
                "secret value in talon output:\n{}\n{}",
                self.stdout,
                self.stderr
            );
        }
        assert!(
            !self.stdout.contains("__talon_secret_"),
            "marker in output:\n{}",
            self.stdout
        );
    }
}

/// A thread reading every `/proc/*/cmdline` every 2 ms until stopped; returns the argv lines
/// that contained one of `needles`.
fn watch_cmdlines(needles: &'static [&'static str]) -> (Arc<AtomicBool>, JoinHandle<Vec<String>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut leaks = Vec::new();
        let mut scans = 0u64;
        while !flag.load(Ordering::SeqCst) || scans < 2 {
            scans += 1;
            let Ok(rd) = std::fs::read_dir("/proc") else { break };
            for e in rd.flatten() {
                let Ok(bytes) = std::fs::read(e.path().join("cmdline")) else {
                    continue;
                };
                let line = String::from_utf8_lossy(&bytes).replace('\0', " ");
                if needles.iter().any(|v| line.contains(v)) {
                    leaks.push(line);
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        leaks
    });
    (stop, handle)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

const DELIVER: &str = r#"    - name: telegram token as a file
      talon_secret_file: {secret: telegram_token, dest: "{{ out }}/secrets/telegram.token"}
    - name: gateway env file
      copy: {dest: "{{ out }}/gateway.env", content: "TOKEN={{ gateway_token }}\n"}
    - name: gateway config
      template: {src: cfg.json.j2, dest: "{{ out }}/cfg.json"}
    - name: token on stdin
      command: {cmd: cat, stdin: "{{ gateway_token }}"}
      register: echoed
    - name: a command that prints a value it read from a file
      command: cat {{ out }}/gateway.env
    - name: show what was registered
      debug: {var: echoed.stdout}
"#;

#[test]
fn secrets_reach_files_and_stdin_never_argv_or_output() {
    let f = Fixture::new();
    let pb = f.playbook("deliver.yml", DELIVER);
    let (run, leaks) = f.run(&pb, &["-v", "--diff"]);
    run.assert_code(0);
    run.assert_no_value();
    assert!(leaks.is_empty(), "secret in a process's argv: {leaks:?}");
    assert!(run.stdout.contains("********"), "{}", run.stdout);

    let out = f.out();
    assert_eq!(
        std::fs::read_to_string(out.join("secrets/telegram.token")).unwrap(),
        TELEGRAM
    );
    assert_eq!(mode(&out.join("secrets/telegram.token")), 0o600);
    assert_eq!(mode(&out.join("secrets")), 0o700);
    assert_eq!(
        std::fs::read_to_string(out.join("gateway.env")).unwrap(),
        format!("TOKEN={GATEWAY}\n")
    );
    assert_eq!(
        mode(&out.join("gateway.env")),
        0o600,
        "content with a secret and no mode: 0600"
    );
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("cfg.json")).unwrap()).unwrap();
    assert_eq!(cfg["gateway"]["auth"]["token"], GATEWAY);
    assert_eq!(cfg["env"], FROM_ENV);
    assert_eq!(mode(&out.join("cfg.json")), 0o600);
    assert!(f.temp_leftovers().is_empty(), "{:?}", f.temp_leftovers());

    // Again, as JSON: content is unchanged (sha256 compared, value never sent); only a loosened
    // mode is put back. Nothing leaks.
    let token = out.join("secrets/telegram.token");
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (run, leaks) = f.run(&pb, &["--json"]);
    run.assert_code(0);
    run.assert_no_value();
    assert!(leaks.is_empty(), "{leaks:?}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let stats = &doc["stats"]["box1"];
    // The mode fix and the two commands.
    assert_eq!(stats["changed"], 3, "{stats}");
    assert_eq!(mode(&token), 0o600);
    assert_eq!(std::fs::read_to_string(&token).unwrap(), TELEGRAM);
    let tasks = doc["plays"][0]["tasks"].as_array().unwrap();
    let echoed = &tasks[3]["hosts"]["box1"];
    assert_eq!(echoed["stdout"], "********", "{echoed}");
    assert_eq!(tasks[4]["hosts"]["box1"]["stdout"], "TOKEN=********");
}

#[test]
fn a_secret_on_a_command_line_is_refused_before_anything_runs() {
    let f = Fixture::new();
    let pb = f.playbook(
        "leak.yml",
        r#"    - name: first change
      file: {path: "{{ out }}/marker", state: touch}
    - name: call the api
      command: 'curl -H "Authorization: Bearer {{ gateway_token }}" http://127.0.0.1:9'
"#,
    );
    let (run, leaks) = f.run(&pb, &[]);
    run.assert_code(4);
    run.assert_no_value();
    assert!(leaks.is_empty(), "{leaks:?}");
    assert!(
        run.stderr
            .contains("secret 'gateway_token' would be on the command line of task 'call the api'")
            && run.stderr.contains("leak.yml:6:7")
            && run.stderr.contains("talon_secret_file")
            && run.stderr.contains("stdin"),
        "{}",
        run.stderr
    );
    assert!(
        !f.out().join("marker").exists(),
        "an earlier task ran before the refusal"
    );

    // Through a variable and through environment: also refused at load time.
    let pb = f.playbook(
        "leak2.yml",
        r#"    - file: {path: "{{ out }}/marker", state: touch}
    - command: env
      environment: {TOKEN: "{{ auth }}"}
      vars: {auth: "Bearer {{ gateway_token }}"}
"#,
    );
    let (run, _) = f.run(&pb, &[]);
    run.assert_code(4);
    assert!(run.stderr.contains("through variable 'auth'"), "{}", run.stderr);
    assert!(!f.out().join("marker").exists());
}

#[test]
fn removed_after_use_even_when_a_later_task_fails_and_no_temp_file_is_left() {
    let f = Fixture::new();
    let pb = f.playbook(
        "use.yml",
        r#"    - block:
        - talon_secret_file: {secret: gateway_token, dest: "{{ out }}/run/token"}
        - name: the consumer reads it
          command: test -s {{ out }}/run/token
        - name: then something fails
          command: "false"
      always:
        - talon_secret_file: {secret: gateway_token, dest: "{{ out }}/run/token", state: absent}
"#,
    );
    let (run, leaks) = f.run(&pb, &[]);
    run.assert_code(2);
    run.assert_no_value();
    assert!(leaks.is_empty(), "{leaks:?}");
    assert!(
        run.stdout.contains("TASK [then something fails] ****")
            && run.stdout.contains("fatal: [box1]: FAILED! => "),
        "{}",
        run.stdout
    );
    assert!(
        !f.out().join("run/token").exists(),
        "the secret file outlived the failure"
    );
    assert!(f.out().join("run").is_dir());
    assert!(f.temp_leftovers().is_empty(), "{:?}", f.temp_leftovers());
}

#[test]
fn a_filtered_secret_fails_instead_of_delivering_garbage() {
    let f = Fixture::new();
    let pb = f.playbook(
        "b64.yml",
        r#"    - template: {src: b64.j2, dest: "{{ out }}/b64.txt"}
"#,
    );
    let (run, _) = f.run(&pb, &[]);
    run.assert_code(2);
    run.assert_no_value();
    assert!(run.stdout.contains("b64encode"), "{}", run.stdout);
    assert!(!f.out().join("b64.txt").exists());
    assert!(f.temp_leftovers().is_empty());
}

#[test]
fn a_readable_secrets_file_is_refused_with_the_fix() {
    let f = Fixture::new();
    std::fs::set_permissions(f.path("secrets.yml"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let pb = f.playbook("noop.yml", "    - debug: {msg: hi}\n");
    let (run, _) = f.run(&pb, &[]);
    run.assert_code(5);
    run.assert_no_value();
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
}

#[test]
fn the_argv_watcher_sees_a_value_in_argv() {
    // Its own value: the other tests' watchers run in parallel and must not see this one.
    const PROBE: &str = "watcher-selftest-9d1e";
    let (stop, watcher) = watch_cmdlines(&[PROBE]);
    let status = Command::new("sh")
        .args(["-c", "sleep 0.2", PROBE])
        .status()
        .unwrap();
    assert!(status.success());
    stop.store(true, Ordering::SeqCst);
    assert!(
        !watcher.join().unwrap().is_empty(),
        "the watcher must catch a value in argv"
    );
}

const ASKED: &str = "asked-V4lue-9c1e0b";

#[test]
fn ask_secret_prompts_without_echo_and_delivers() {
    let f = Fixture::new();
    let pb = f.playbook(
        "ask.yml",
        "    - talon_secret_file: {secret: ask_token, dest: \"{{ out }}/asked.token\"}\n    - debug: {msg: \"token is {{ ask_token }}\"}\n",
    );
    let (stop, watcher) = watch_cmdlines(&[ASKED]);
    let out = Command::new("python3")
        .args(["-c", common::PTY_DRIVER, env!("CARGO_BIN_EXE_talon"), "run"])
        .arg(&pb)
        .arg("-i")
        .arg(f.path("inventory.yml"))
        .args(["-vv", "--ask-secret", "ask_token", "-e"])
        .arg(format!("out={}", f.out().display()))
        .env("ASK_VALUE", ASKED)
        .env("TALON_STATE_DIR", f.path("state"))
        .output()
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    let leaks = watcher.join().unwrap();
    let run = Run::from(out);
    run.assert_code(0);
    assert!(
        run.stdout.contains("secret ask_token: "),
        "no prompt:\n{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains(ASKED),
        "the value was echoed or printed:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("token is ********"), "{}", run.stdout);
    assert!(leaks.is_empty(), "{leaks:?}");
    let token = f.out().join("asked.token");
    assert_eq!(std::fs::read_to_string(&token).unwrap(), ASKED);
    assert_eq!(mode(&token), 0o600);
}

#[test]
fn ask_secret_without_a_terminal_fails_clearly_before_anything_runs() {
    let f = Fixture::new();
    let pb = f.playbook(
        "ask.yml",
        "    - file: {path: \"{{ out }}/touched\", state: touch}\n",
    );
    // A new session has no controlling terminal: /dev/tty cannot be opened.
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, sys; os.setsid(); os.execv(sys.argv[1], sys.argv[1:])",
        ])
        .arg(env!("CARGO_BIN_EXE_talon"))
        .arg("run")
        .arg(&pb)
        .arg("-i")
        .arg(f.path("inventory.yml"))
        .args(["--ask-secret", "ask_token", "-e"])
        .arg(format!("out={}", f.out().display()))
        .stdin(std::process::Stdio::null())
        .env("TALON_STATE_DIR", f.path("state"))
        .output()
        .unwrap();
    let run = Run::from(out);
    run.assert_code(5);
    assert!(
        run.stderr
            .contains("--ask-secret ask_token: cannot read from the terminal"),
        "{}",
        run.stderr
    );
    assert!(
        !f.out().join("touched").exists(),
        "nothing may run without the secret"
    );
}

#[test]
fn to_json_delivers_a_secret_holding_quotes_and_backslashes_as_valid_json() {
    // A value that breaks JSON when inserted verbatim: quote, backslash, tab, newline, non-ASCII.
    const TRICKY: &str = "pa\"ss\\wo\trd\nline2-é-5e1f";
    let f = Fixture::new();
    let d = f.dir.path();
    let secrets = d.join("tricky-secrets.yml");
    std::fs::write(
        &secrets,
        format!("tricky: {}\n", serde_json::to_string(TRICKY).unwrap()),
    )
    .unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(
        d.join("templates/tricky.json.j2"),
        "{\"plain\": {{ tricky | to_json }},\n \"nice\": {{ {'k': tricky, 'list': [tricky]} | to_nice_json }},\n \"twice\": {{ tricky | to_json | to_json }}}\n",
    )
    .unwrap();
    let pb = f.playbook(
        "tricky.yml",
        r#"    - template: {src: tricky.json.j2, dest: "{{ out }}/tricky.json"}
    - copy: {content: "{{ {'token': tricky} | to_json }}", dest: "{{ out }}/inline.json"}
"#,
    );
    let run = |pb: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_talon"))
            .arg("run")
            .arg(pb)
            .arg("-i")
            .arg(f.path("inventory.yml"))
            .arg("--secrets")
            .arg(&secrets)
            .arg("-e")
            .arg(format!("out={}", f.out().display()))
            .arg("--diff")
            .env("TALON_STATE_DIR", f.path("state"))
            .output()
            .unwrap();
        Run::from(out)
    };
    let first = run(&pb);
    first.assert_code(0);
    for text in [&first.stdout, &first.stderr] {
        assert!(!text.contains("line2-é-5e1f"), "value in output:\n{text}");
        assert!(!text.contains("__talon_secret_"), "marker in output:\n{text}");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.out().join("tricky.json")).unwrap()).unwrap();
    assert_eq!(doc["plain"], TRICKY);
    assert_eq!(doc["nice"]["k"], TRICKY);
    assert_eq!(doc["nice"]["list"][0], TRICKY);
    let inner: serde_json::Value = serde_json::from_str(doc["twice"].as_str().unwrap()).unwrap();
    assert_eq!(inner, TRICKY);
    let inline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.out().join("inline.json")).unwrap()).unwrap();
    assert_eq!(inline["token"], TRICKY);
    assert_eq!(mode(&f.out().join("tricky.json")), 0o600);
    // Idempotent: the revealed content is compared by checksum, nothing changes.
    let second = run(&pb);
    second.assert_code(0);
    assert!(second.stdout.contains("changed=0"), "{}", second.stdout);
}

/// D8: the `--secret-env` variable stayed in talon's environment, so every local child process
/// (`connection: local`, `delegate_to: localhost`, `lookup('pipe')`) inherited it and showed it
/// in `/proc/PID/environ`; `lookup('env')` read it in plain text.
#[test]
fn d8_secret_env_values_never_reach_local_child_processes() {
    let f = Fixture::new();
    let pb = f.playbook(
        "d8.yml",
        concat!(
            "    - shell: 'if [ -n \"${TALON_TEST_ENV_TOKEN+x}\" ]; then echo inherited; else echo absent; fi; cat /proc/$$/environ | tr \"\\0\" \"\\n\" > {{ out }}/environ.txt'\n",
            "      register: child\n",
            "    - copy:\n",
            "        dest: \"{{ out }}/d8.txt\"\n",
            "        content: \"{{ child.stdout }} env=[{{ lookup('env', 'TALON_TEST_ENV_TOKEN') }}] pipe=[{{ lookup('pipe', 'printenv TALON_TEST_ENV_TOKEN || true') }}]\\n\"\n",
        ),
    );
    let (run, leaks) = f.run(&pb, &[]);
    run.assert_code(0);
    run.assert_no_value();
    assert!(leaks.is_empty(), "{leaks:?}");
    assert_eq!(
        std::fs::read_to_string(f.out().join("d8.txt")).unwrap(),
        "absent env=[] pipe=[]\n"
    );
    let environ = std::fs::read_to_string(f.out().join("environ.txt")).unwrap();
    assert!(!environ.contains(FROM_ENV), "{environ}");
    assert!(
        environ.contains("PATH="),
        "the rest of the environment is kept: {environ}"
    );
}

/// D6: after a secret was rotated, `--diff` showed the old value in clear on the old side
/// (`-token=OLD`): the masking only knows the current value.
#[test]
fn d6_diff_never_shows_a_rotated_secret() {
    let f = Fixture::new();
    std::fs::write(f.path("templates/rot.j2"), "name=app\ntoken={{ tok }}\n").unwrap();
    let pb = f.playbook(
        "rot.yml",
        "    - template: {src: templates/rot.j2, dest: \"{{ out }}/rot.conf\"}\n",
    );
    let first = f.run_with_tok(&pb, "OLD-rot-5e6f", &[]);
    first.assert_code(0);
    let second = f.run_with_tok(&pb, "NEW-rot-7a8b", &["--diff"]);
    second.assert_code(0);
    assert!(!second.stdout.contains("OLD-rot-5e6f"), "{}", second.stdout);
    assert!(!second.stdout.contains("NEW-rot-7a8b"), "{}", second.stdout);
    assert!(second.stdout.contains("-********"), "{}", second.stdout);
    assert!(second.stdout.contains("+token=********"), "{}", second.stdout);
    assert!(
        second.stdout.contains(" name=app"),
        "unchanged lines still show: {}",
        second.stdout
    );
    assert_eq!(
        std::fs::read_to_string(f.out().join("rot.conf")).unwrap(),
        "name=app\ntoken=NEW-rot-7a8b\n"
    );
}

/// D6, edits: `lineinfile` and `blockinfile` show the whole file as diff context, so a `--diff`
/// of an edit to a file talon delivered a secret into printed the (old, rotated) value on both
/// sides. Only the task's own lines show now.
#[test]
fn d6_line_and_block_edits_of_a_secret_file_mask_their_diff() {
    let f = Fixture::new();
    std::fs::write(f.path("templates/edit.j2"), "name=app\ntoken={{ tok }}\n").unwrap();
    let deliver = f.playbook(
        "deliver.yml",
        "    - template: {src: templates/edit.j2, dest: \"{{ out }}/edit.conf\"}\n",
    );
    let edit = f.playbook(
        "edit.yml",
        concat!(
            "    - lineinfile: {path: \"{{ out }}/edit.conf\", line: \"level=debug\"}\n",
            "    - blockinfile: {path: \"{{ out }}/edit.conf\", block: \"extra=1\"}\n",
        ),
    );
    f.run_with_tok(&deliver, "OLD-edit-3c4d", &[]).assert_code(0);
    let second = f.run_with_tok(&edit, "NEW-edit-9e0f", &["--diff"]);
    second.assert_code(0);
    assert!(!second.stdout.contains("OLD-edit-3c4d"), "{}", second.stdout);
    assert!(second.stdout.contains("+level=debug"), "{}", second.stdout);
    assert!(second.stdout.contains("+extra=1"), "{}", second.stdout);
    assert!(second.stdout.contains("********"), "{}", second.stdout);
    assert_eq!(
        std::fs::read_to_string(f.out().join("edit.conf")).unwrap(),
        concat!(
            "name=app\ntoken=OLD-edit-3c4d\nlevel=debug\n",
            "# BEGIN ANSIBLE MANAGED BLOCK\nextra=1\n# END ANSIBLE MANAGED BLOCK\n"
        )
    );
}

/// D7: `slurp` of a file talon delivered a secret into printed its base64 under `-vv`/`--json`
/// (no mask matches base64), and `fetch` reported its sha1 and wrote the local copy 0644.
#[test]
fn d7_slurp_and_fetch_never_reveal_a_secret_file() {
    let f = Fixture::new();
    let pb = f.playbook(
        "d7.yml",
        concat!(
            "    - talon_secret_file: {secret: gateway_token, dest: \"{{ out }}/gw.token\"}\n",
            "    - slurp: {src: \"{{ out }}/gw.token\"}\n",
            "      register: s\n",
            "    - fetch: {src: \"{{ out }}/gw.token\", dest: \"{{ out }}/fetched/\", flat: true}\n",
            "    - copy: {content: \"plain\\n\", dest: \"{{ out }}/plain.txt\", mode: \"0640\"}\n",
            "    - fetch: {src: \"{{ out }}/plain.txt\", dest: \"{{ out }}/fetched/\", flat: true}\n",
            "      register: p\n",
            "    - copy: {content: \"{{ s.content }} {{ p.checksum }}\\n\", dest: \"{{ out }}/shown.txt\"}\n",
        ),
    );
    let sha1_of = |data: &str| {
        let out = Command::new("sha1sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(data.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let b64 = {
        use std::io::Write;
        let mut c = Command::new("base64")
            .args(["-w", "0"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(GATEWAY.as_bytes()).unwrap();
        String::from_utf8_lossy(&c.wait_with_output().unwrap().stdout).into_owned()
    };
    let secret_sha1 = sha1_of(GATEWAY);
    for extra in [&["-vv", "--diff"][..], &["--json"][..]] {
        let _ = std::fs::remove_dir_all(f.out().join("fetched"));
        let (run, leaks) = f.run(&pb, extra);
        run.assert_code(0);
        run.assert_no_value();
        assert!(leaks.is_empty(), "{leaks:?}");
        for shown in [&b64[..16], &secret_sha1[..]] {
            assert!(!run.stdout.contains(shown), "{shown} in:\n{}", run.stdout);
        }
    }
    let fetched = f.out().join("fetched/gw.token");
    assert_eq!(std::fs::read_to_string(&fetched).unwrap(), GATEWAY);
    assert_eq!(mode(&fetched), 0o600);
    assert_eq!(
        mode(&f.out().join("fetched/plain.txt")),
        0o640,
        "the remote mode is kept"
    );
    assert_eq!(
        std::fs::read_to_string(f.out().join("shown.txt")).unwrap(),
        format!("******** {}\n", sha1_of("plain\n"))
    );
}

/// `no_log` was accepted on plays, blocks and tasks and ignored: the result of a task that
/// prints a credential the playbook knows only as an ordinary variable (from a registered
/// command, say) was shown in full under `-v`, in failures, loop items, `--diff` and `--json`.
/// Now it is censored as Ansible censors it, and the registered variable keeps the result.
#[test]
fn no_log_censors_every_view_of_a_result() {
    let f = Fixture::new();
    let p = f.path("nolog.yml");
    std::fs::write(
        &p,
        concat!(
            "- hosts: all\n  gather_facts: false\n  vars: {hide: true}\n  tasks:\n",
            "    - command: echo PLAIN-cred-41d2\n",
            "      register: r\n      no_log: true\n",
            "    - command: echo PLAIN-cred-41d2 {{ item }}\n",
            "      loop: [one, two]\n      no_log: \"{{ hide }}\"\n",
            "    - block:\n",
            "        - copy: {content: \"PLAIN-cred-41d2\\n\", dest: \"{{ out }}/cred.txt\"}\n",
            "        - shell: echo PLAIN-cred-41d2; exit 3\n          ignore_errors: true\n",
            "      no_log: true\n",
            "    - assert: {that: [\"r.stdout == 'PLAIN-cred-41d2'\"]}\n",
            "- hosts: all\n  gather_facts: false\n  no_log: true\n  tasks:\n",
            "    - command: echo PLAIN-cred-41d2\n",
            "    - command: echo shown-d8e1\n      no_log: false\n",
        ),
    )
    .unwrap();
    for extra in [&["-vvv", "--diff"][..], &["--json"][..]] {
        let _ = std::fs::remove_file(f.out().join("cred.txt"));
        let (run, _) = f.run(&p, extra);
        run.assert_code(0);
        assert!(
            !run.stdout.contains("PLAIN-cred-41d2") && !run.stderr.contains("PLAIN-cred-41d2"),
            "{extra:?}:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        assert!(
            run.stdout.contains("the output has been hidden"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("shown-d8e1"),
            "no_log: false shows: {}",
            run.stdout
        );
        if extra[0] != "--json" {
            let recap = run
                .stdout
                .lines()
                .find(|l| l.starts_with("box1 "))
                .unwrap_or_default();
            // The ignored failure ran its command (changed): ansible-core counts it as changed.
            assert!(
                recap.contains("ok=7 ") && recap.contains("changed=6 ") && recap.contains("ignored=1"),
                "{}",
                run.stdout
            );
        }
        assert_eq!(
            std::fs::read_to_string(f.out().join("cred.txt")).unwrap(),
            "PLAIN-cred-41d2\n"
        );
    }
}

/// talon's native replace hands a task whose `replace` holds a secret to ansible-core's module
/// (the Python path), which receives it on stdin; the `mount_facts` task shows `-v` naming the
/// tasks that took the Python path at load.
#[test]
fn a_secret_argument_of_a_python_path_module_reaches_the_module_never_argv_or_output() {
    let f = Fixture::new();
    std::fs::write(f.out().join("conf"), "token=PLACEHOLDER\n").unwrap();
    let pb = f.playbook(
        "python.yml",
        r#"    - name: the token into a file through ansible-core's replace
      ansible.builtin.replace:
        path: "{{ out }}/conf"
        regexp: PLACEHOLDER
        replace: "{{ gateway_token }}"
      register: r
    - name: show the result
      debug:
        var: r
    - name: a module talon does not have
      ansible.builtin.mount_facts:
        devices: ["/nosuch-device"]
"#,
    );
    let python = common::ansible::ansible_bin("python");
    let (run, leaks) = f.run_env(&pb, &["-v", "--diff"], &[("TALON_ANSIBLE_PYTHON", &python)]);
    run.assert_code(0);
    run.assert_no_value();
    assert!(leaks.is_empty(), "secret in a process's argv: {leaks:?}");
    assert_eq!(
        std::fs::read_to_string(f.out().join("conf")).unwrap(),
        format!("token={GATEWAY}\n")
    );
    assert!(run.stdout.contains("1 replacements made"), "{}", run.stdout);
    // -v names the tasks that took the Python path.
    assert!(
        run.stderr.contains("python path (ansible-core 2.19")
            && run.stderr.contains("(ansible.builtin.mount_facts)"),
        "{}",
        run.stderr
    );
}
