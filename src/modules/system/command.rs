//! `command` and `shell`: run a program on the host, as `ansible.builtin.command` and
//! `ansible.builtin.shell` do, in ONE round trip.
//!
//! A small POSIX `sh` wrapper receives everything as positional arguments (never spliced into
//! its text): it changes to `chdir`, evaluates the `creates`/`removes` globs, writes a marker
//! line saying what it decided to stderr, and then `exec`s the command (or stops, in check
//! mode). The marker line is removed from the registered `stderr`.

use std::time::{Instant, SystemTime};

use serde_json::Value;

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::{format_delta, format_time, marker, run_script, splitlines};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::files;
use crate::vars::Vars;

/// The arguments of `command`; `shell` takes the first [`SHELL_ARGS`] of them (not `argv` nor
/// `expand_argument_vars`).
const COMMAND_ARGS: [ArgDef; 10] = [
    ArgDef::str("_raw_params").aliases(&["cmd"]),
    ArgDef::path("chdir"),
    ArgDef::path("creates"),
    ArgDef::path("removes"),
    ArgDef::str("stdin").delivers(),
    ArgDef::bool("stdin_add_newline"),
    ArgDef::bool("strip_empty_ends"),
    ArgDef::path("executable"),
    ArgDef::list("argv"),
    ArgDef::bool("expand_argument_vars"),
];

/// How many of [`COMMAND_ARGS`] `shell` takes.
const SHELL_ARGS: usize = 8;

crate::module_info!(
    /// `command`: free-form text (split like Python `shlex.split`, no shell) or `argv`.
    INFO,
    "command",
    ArgSpec::new(&COMMAND_ARGS).free_form(),
    run
);

crate::module_info!(
    /// `shell`: free-form text run by `/bin/sh -c` (or `executable -c`).
    SHELL_INFO,
    "shell",
    ArgSpec::new(COMMAND_ARGS.split_at(SHELL_ARGS).0).free_form(),
    run_shell
);

/// The wrapper. `$1` marker, `$2` mode (`run`/`check`), `$3` chdir, `$4` creates, `$5`
/// removes, `$6` expand (`1`: expand each argument as `expand_argument_vars` does), then the
/// command's argv. Decisions are reported on stderr as `MARKER WORD`.
///
/// Expansion matches Python's `os.path.expandvars` then `os.path.expanduser`, as ansible-core's
/// `run_command(expand_user_and_vars=True)`: `$NAME` / `${NAME}` from the command's environment
/// (a variable that is not set stays as written), then a leading `~` or `~user`. `chdir` is
/// entered physically (`cd -P`), as Python's `os.chdir` does.
const WRAPPER: &str = r#"m=$1; mode=$2; d=$3; c=$4; r=$5; x=$6; shift 6
talon_expand() {
  w=$1; R=
  while :; do
    case $w in *'$'*) ;; *) R=$R$w; break;; esac
    pre=${w%%\$*}; R=$R$pre; w=${w#"$pre"}; w=${w#?}
    case $w in
      '{'*'}'*) inner=${w#?}; name=${inner%%\}*}; rest=${inner#*\}}; tok="{$name}";;
      [A-Za-z0-9_]*) name=${w%%[!A-Za-z0-9_]*}; rest=${w#"$name"}; tok=$name;;
      *) R=$R\$; continue;;
    esac
    if val=$(printenv -- "$name" && echo .); then R=$R${val%??}; else R=$R\$$tok; fi
    w=$rest
  done
  case $R in
    "~"|"~/"*) R=$HOME${R#"~"};;
    "~"*) u=${R%%/*}; u=${u#"~"}
      h=$(getent passwd -- "$u" 2>/dev/null | cut -d: -f6)
      if [ -n "$h" ]; then R=$h${R#"~$u"}; fi;;
  esac
}
if [ -n "$d" ]; then
  case $d in "~"|"~/"*) d=$HOME${d#"~"};; esac
  if [ ! -d "$d" ]; then printf '%s chdir-missing\n' "$m" >&2; exit 0; fi
  cd -P "$d" 2>/dev/null || { printf '%s chdir-denied\n' "$m" >&2; exit 0; }
fi
if [ -n "$c" ]; then
  case $c in "~"|"~/"*) c=$HOME${c#"~"};; esac
  IFS=
  for f in $c; do
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s creates\n' "$m" >&2; exit 0; fi
  done
  unset IFS
fi
if [ -n "$r" ]; then
  case $r in "~"|"~/"*) r=$HOME${r#"~"};; esac
  found=
  IFS=
  for f in $r; do
    if [ -e "$f" ] || [ -L "$f" ]; then found=1; break; fi
  done
  unset IFS
  if [ -z "$found" ]; then printf '%s removes\n' "$m" >&2; exit 0; fi
fi
printf '%s run\n' "$m" >&2
if [ "$mode" = check ]; then exit 0; fi
if [ "$x" = 1 ]; then
  n=$#
  while [ "$n" -gt 0 ]; do
    talon_expand "$1"; shift; set -- "$@" "$R"; n=$((n - 1))
  done
fi
exec "$@"
"#;

/// Runs `ansible.builtin.command`. See [`run_any`] for the result.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    run_any(args, ctx, false).await
}

/// Runs `ansible.builtin.shell`. See [`run_any`] for the result.
pub async fn run_shell(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    run_any(args, ctx, true).await
}

/// What the wrapper decided.
#[derive(Debug, PartialEq)]
enum Decision {
    Run,
    Creates,
    Removes,
    ChdirMissing,
    ChdirDenied,
}

/// Finds the wrapper's marker line in stderr, removes it, and returns the decision.
fn take_decision(stderr: &str, m: &str) -> (Option<Decision>, String) {
    let mut rest = String::with_capacity(stderr.len());
    let mut decision = None;
    for line in stderr.split_inclusive('\n') {
        if decision.is_none()
            && let Some(word) = line.trim_end().strip_prefix(m)
        {
            decision = match word.trim() {
                "run" => Some(Decision::Run),
                "creates" => Some(Decision::Creates),
                "removes" => Some(Decision::Removes),
                "chdir-missing" => Some(Decision::ChdirMissing),
                "chdir-denied" => Some(Decision::ChdirDenied),
                _ => None,
            };
            if decision.is_some() {
                continue;
            }
        }
        rest.push_str(line);
    }
    (decision, rest)
}

/// Shared body of `command` (`shell = false`) and `shell` (`shell = true`).
///
/// Result (as `ansible.builtin.command`): `cmd` (argv list for command, string for shell), `rc`,
/// `stdout`, `stderr`, `stdout_lines`, `stderr_lines`, `start`, `end`, `delta` (null when the
/// command did not run); `msg` goes to [`ModuleOutcome::msg`] (`""` after a run).
/// - ran: changed; rc != 0 => failed with msg "non-zero return code".
/// - `creates` matched / `removes` did not: ok, rc 0, msg "Did not run command since 'X'
///   exists" / "... does not exist", stdout "skipped, since X exists" / "... does not exist".
/// - check mode: the command never runs. Without creates/removes: skipped, msg "Command would
///   have run if not in check mode" (no round trip unless `chdir` must be checked). With them:
///   they are evaluated on the host; "Would not run command since ..." (ok) or the would-run
///   message with changed=true.
/// - missing program (command only): failed, not changed, rc 2, msg "Error executing command."
///   (ansible-core 2.19's run_command).
pub async fn run_any(
    args: &Vars,
    ctx: &ModuleContext<'_>,
    shell: bool,
) -> Result<ModuleOutcome, ModuleError> {
    let prepared = match prepare(args, ctx, shell)? {
        Ok(p) => p,
        Err(done) => return Ok(done),
    };
    if let Some(decided) = decided_over_sftp(&prepared.job, ctx).await {
        return Ok(decided);
    }
    let started = SystemTime::now();
    let clock = Instant::now();
    let out = run_script(ctx, WRAPPER, &prepared.script_args, prepared.stdin).await?;
    let elapsed = clock.elapsed();
    let ended = SystemTime::now();
    Ok(conclude(
        &prepared.job,
        Ran {
            stdout: out.stdout_str(),
            stderr: out.stderr_str(),
            rc: out.status.rc(),
            status: out.status.to_string(),
            started,
            ended,
            elapsed,
        },
    ))
}

/// The wrapper's `creates`/`removes` decision not to run, made without the wrapper: each path
/// asked for over SFTP (`lstat`, as the wrapper's `[ -e ] || [ -L ]`), where it is a plain
/// absolute path (no glob, `~` or `$` for the host to expand) and there is no `chdir` (whose
/// check comes first). `None`: the wrapper decides (and runs the command when it should).
async fn decided_over_sftp(job: &Job, ctx: &ModuleContext<'_>) -> Option<ModuleOutcome> {
    if job.chdir.is_some() || !job.conditional {
        return None;
    }
    let plain = |p: &str| p.starts_with('/') && !p.contains(['*', '?', '[', '~', '$']);
    let decision = match (&job.creates, &job.removes) {
        (Some(c), _) if !plain(c) => return None,
        (_, Some(r)) if !plain(r) => return None,
        (creates, removes) => {
            let created = match creates {
                Some(c) => files::lexists_sftp(ctx.conn, c, &ctx.become_).await?,
                None => false,
            };
            if created {
                "creates"
            } else {
                match removes {
                    Some(r) if !files::lexists_sftp(ctx.conn, r, &ctx.become_).await? => "removes",
                    _ => return None,
                }
            }
        }
    };
    let now = SystemTime::now();
    Some(conclude(
        job,
        Ran {
            stdout: String::new(),
            stderr: format!("{} {decision}\n", job.marker),
            rc: 0,
            status: "exit status 0".to_string(),
            started: now,
            ended: now,
            elapsed: std::time::Duration::ZERO,
        },
    ))
}

/// A command ready to run: the wrapper's arguments, its stdin, and what [`conclude`] needs.
pub struct Prepared {
    /// `WRAPPER`'s positional arguments.
    pub script_args: Vec<String>,
    /// The command's stdin (`stdin:` with its newline), revealed.
    pub stdin: Option<Vec<u8>>,
    /// What the result is made from once the command ran (kept with an async job).
    pub job: Job,
}

/// How to read a run of the wrapper into the module's result (serialized beside an async job
/// on the host, so that `async_status` can make the result later).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Job {
    shell: bool,
    cmd: Value,
    argv0: String,
    marker: String,
    strip: bool,
    check: bool,
    conditional: bool,
    creates: Option<String>,
    removes: Option<String>,
    chdir: Option<String>,
}

/// One run of the wrapper: its output, exit code (and its text for messages), and times.
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
    pub rc: i64,
    pub status: String,
    pub started: SystemTime,
    pub ended: SystemTime,
    pub elapsed: std::time::Duration,
}

/// The wrapper script, for async jobs that run it detached on the host.
pub const JOB_WRAPPER: &str = WRAPPER;

/// Checks the arguments and prepares the wrapper's run; `Ok(Err(outcome))` when the module's
/// result is known without running anything (argument errors, check mode without a
/// condition).
///
/// Errors: arguments that do not fit the module.
pub fn prepare(
    args: &Vars,
    ctx: &ModuleContext<'_>,
    shell: bool,
) -> Result<Result<Prepared, ModuleOutcome>, ModuleError> {
    let a = Args::new(if shell { &SHELL_INFO } else { &INFO }, args)?;
    let raw = a.str("_raw_params")?;
    let argv_arg = if shell { None } else { a.list("argv")? };
    let chdir = a.str("chdir")?;
    let creates = a.str("creates")?;
    let removes = a.str("removes")?;
    let stdin = a.str("stdin")?;
    let add_newline = a.bool("stdin_add_newline", true)?;
    let strip = a.bool("strip_empty_ends", true)?;
    let executable = if shell { a.str("executable")? } else { None };
    // `shell` leaves expansion to the shell; `command` expands `$VAR` and `~` by default.
    let expand = !shell && a.bool("expand_argument_vars", true)?;

    let base = empty_result;
    // ansible.builtin.command's argument rules, with AnsibleModule's messages.
    match (&raw, &argv_arg) {
        (Some(_), Some(_)) if !shell => {
            return Ok(Err(ModuleOutcome::failed(
                "parameters are mutually exclusive: _raw_params|cmd|argv",
            )));
        }
        (None, None) => {
            return Ok(Err(ModuleOutcome::failed(
                "one of the following is required: _raw_params, cmd, argv",
            )));
        }
        _ => {}
    }
    let raw = raw.filter(|r| !r.trim().is_empty());
    let (cmd_value, argv): (Value, Vec<String>) = match (raw, argv_arg) {
        (Some(_), Some(_)) | (None, None) => {
            let mut o = base("no command given", 256.into(), Value::Null);
            o.failed = true;
            return Ok(Err(o));
        }
        (None, Some(v)) if v.is_empty() => {
            let mut o = base("no command given", 256.into(), Value::Null);
            o.failed = true;
            return Ok(Err(o));
        }
        (Some(text), None) if shell => {
            let exe = executable.unwrap_or_else(|| "/bin/sh".to_string());
            (Value::String(text.clone()), vec![exe, "-c".to_string(), text])
        }
        (Some(text), None) => match crate::transport::quote::split(&text) {
            Ok(words) if !words.is_empty() => (words.clone().into(), words),
            Ok(_) => {
                let mut o = base("no command given", 256.into(), Value::Null);
                o.failed = true;
                return Ok(Err(o));
            }
            Err(e) => {
                let mut o = base(
                    &format!("cannot split command '{text}': {e}"),
                    256.into(),
                    Value::Null,
                );
                o.failed = true;
                return Ok(Err(o));
            }
        },
        (None, Some(v)) => (v.clone().into(), v),
    };

    let conditional = creates.is_some() || removes.is_some();
    if ctx.check && !conditional && chdir.is_none() {
        let mut o = base("Command would have run if not in check mode", 0.into(), cmd_value);
        o.skipped = true;
        return Ok(Err(o));
    }

    let m = marker();
    let mut script_args = vec![
        m.clone(),
        if ctx.check { "check" } else { "run" }.to_string(),
        chdir.clone().unwrap_or_default(),
        creates.clone().unwrap_or_default(),
        removes.clone().unwrap_or_default(),
        if expand { "1" } else { "0" }.to_string(),
    ];
    script_args.extend(argv.iter().cloned());
    let stdin_text = stdin.filter(|s| !s.is_empty()).map(|mut s| {
        if add_newline {
            s.push('\n');
        }
        s
    });
    // secrets: `stdin` is the one place a command may receive a secret; markers become values
    // only in the bytes written to its stdin (the runner refused them everywhere else).
    let stdin_bytes = match stdin_text.map(|t| ctx.secrets.reveal(&t)) {
        None => None,
        Some(Ok(r)) => Some(r.content.to_vec()),
        Some(Err(e)) => {
            let mut o = base(&e.to_string(), 256.into(), cmd_value);
            o.failed = true;
            return Ok(Err(o));
        }
    };

    Ok(Ok(Prepared {
        script_args,
        stdin: stdin_bytes,
        job: Job {
            shell,
            argv0: argv.first().cloned().unwrap_or_default(),
            cmd: cmd_value,
            marker: m,
            strip,
            check: ctx.check,
            conditional,
            creates,
            removes,
            chdir,
        },
    }))
}

/// The module's result from one run of the wrapper (see [`run_any`]).
pub fn conclude(job: &Job, ran: Ran) -> ModuleOutcome {
    let Job {
        shell,
        cmd: cmd_value,
        argv0,
        marker: m,
        strip,
        check,
        conditional,
        creates,
        removes,
        chdir,
    } = job.clone();
    let base = empty_result;
    let Ran {
        stdout: out_stdout,
        stderr: out_stderr,
        rc: out_rc,
        status: out_status,
        started,
        ended,
        elapsed,
    } = ran;

    let (decision, stderr) = take_decision(&out_stderr, &m);
    let shoulda = if check { "Would" } else { "Did" };
    let mut o = match decision {
        None => {
            // The wrapper never started (sudo refused, no /bin/sh): report what the host said.
            let stderr = stderr.trim_end_matches(['\r', '\n']).to_string();
            let mut o = base(
                &format!("the command wrapper did not start ({out_status}): {stderr}"),
                out_rc.into(),
                cmd_value,
            );
            o.failed = true;
            o.result.insert("stderr_lines".into(), splitlines(&stderr).into());
            o.result.insert("stderr".into(), stderr.into());
            return o;
        }
        Some(d @ (Decision::ChdirMissing | Decision::ChdirDenied)) => {
            let why = if d == Decision::ChdirMissing {
                "[Errno 2] No such file or directory"
            } else {
                "[Errno 13] Permission denied"
            };
            let mut o = base(
                &format!(
                    "Unable to change directory before execution: {why}: '{}'",
                    chdir.unwrap_or_default()
                ),
                Value::Null,
                cmd_value,
            );
            o.failed = true;
            return o;
        }
        Some(Decision::Creates) => {
            let c = creates.unwrap_or_default();
            let mut o = base(
                &format!("{shoulda} not run command since '{c}' exists"),
                0.into(),
                cmd_value,
            );
            let so = format!("skipped, since {c} exists");
            o.result.insert("stdout_lines".into(), splitlines(&so).into());
            o.result.insert("stdout".into(), so.into());
            return o;
        }
        Some(Decision::Removes) => {
            let r = removes.unwrap_or_default();
            let mut o = base(
                &format!("{shoulda} not run command since '{r}' does not exist"),
                0.into(),
                cmd_value,
            );
            let so = format!("skipped, since {r} does not exist");
            o.result.insert("stdout_lines".into(), splitlines(&so).into());
            o.result.insert("stdout".into(), so.into());
            return o;
        }
        Some(Decision::Run) if check => {
            let mut o = base("Command would have run if not in check mode", 0.into(), cmd_value);
            if conditional {
                o.changed = true;
            } else {
                o.skipped = true;
            }
            return o;
        }
        Some(Decision::Run) => base("", out_rc.into(), cmd_value.clone()),
    };

    let mut stdout = out_stdout;
    let mut stderr = stderr;
    if strip {
        stdout = stdout.trim_end_matches(['\r', '\n']).to_string();
        stderr = stderr.trim_end_matches(['\r', '\n']).to_string();
    }
    let rc = out_rc;
    o.changed = true;
    if !shell && rc == 127 && stdout.is_empty() && stderr.contains(&format!("exec: {argv0}: not found")) {
        // Ansible runs the program directly, so a missing program is an OSError (errno 2), not
        // rc 127; 2.19's run_command fails then with "Error executing command." and no times.
        let mut o = ModuleOutcome::failed("Error executing command.")
            .with("cmd", cmd_value)
            .with("rc", 2)
            .with("stdout", "")
            .with("stderr", "")
            .with("stdout_lines", Vec::<Value>::new())
            .with("stderr_lines", Vec::<Value>::new());
        o.changed = false;
        return o;
    }
    o.result.insert("stdout_lines".into(), splitlines(&stdout).into());
    o.result.insert("stderr_lines".into(), splitlines(&stderr).into());
    o.result.insert("stdout".into(), stdout.into());
    o.result.insert("stderr".into(), stderr.into());
    o.result.insert("start".into(), format_time(started).into());
    o.result.insert("end".into(), format_time(ended).into());
    o.result.insert("delta".into(), format_delta(elapsed).into());
    if rc != 0 {
        o.failed = true;
        o.msg = Some("non-zero return code".into());
    }
    o
}

/// A command result with `msg`, `rc` and `cmd` and empty output, not failed (the shape
/// ansible.builtin.command returns when it runs nothing: `creates`/`removes`, check mode).
fn empty_result(msg: &str, rc: Value, cmd: Value) -> ModuleOutcome {
    let mut o = ModuleOutcome::failed(msg)
        .with("cmd", cmd)
        .with("rc", rc)
        .with("stdout", "")
        .with("stderr", "")
        .with("stdout_lines", Vec::<Value>::new())
        .with("stderr_lines", Vec::<Value>::new())
        .with("start", Value::Null)
        .with("end", Value::Null)
        .with("delta", Value::Null);
    o.failed = false;
    o
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shell_takes_commands_arguments_but_argv_and_expand_argument_vars() {
        for n in [
            "cmd",
            "chdir",
            "creates",
            "removes",
            "stdin",
            "stdin_add_newline",
            "strip_empty_ends",
            "executable",
        ] {
            assert!(SHELL_INFO.spec.find(n).is_some(), "{n}");
            assert!(INFO.spec.find(n).is_some(), "{n}");
        }
        for n in ["argv", "expand_argument_vars"] {
            assert!(SHELL_INFO.spec.find(n).is_none(), "{n}");
            assert!(INFO.spec.find(n).is_some(), "{n}");
        }
    }

    #[test]
    fn decision_line_is_removed_from_stderr() {
        let (d, rest) = take_decision("sudo: warning\nMK run\nreal error\n", "MK");
        assert_eq!(d, Some(Decision::Run));
        assert_eq!(rest, "sudo: warning\nreal error\n");
        let (d, rest) = take_decision("oops\n", "MK");
        assert_eq!(d, None);
        assert_eq!(rest, "oops\n");
    }
}
