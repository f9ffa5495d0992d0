//! `async:`/`poll:` on a task, as ansible-core 2.19's TaskExecutor and async_wrapper shape
//! them, with ansible-core's job protocol on the host: the job's result in
//! `~/.ansible_async/<jid>` (read by `async_status`, talon's or ansible-core's). No Python on
//! the host:
//! - `command`/`shell` run detached ([`detached`]): a `setsid` shell runs the command wrapper
//!   with its output in `~/.ansible_async/.<jid>.talon/`, a watcher kills it past the limit and
//!   writes "Timeout exceeded"; the first `async_status` after it ended makes the command's
//!   result and writes it to the results file.
//! - every other module runs before the task returns ([`finish`]), bounded by the limit; its
//!   result file is complete when the task reports the job started (a difference the README
//!   states: such a `poll: 0` job does not overlap the next tasks).

use serde_json::{Value, json};

use super::host::Outcome;
use crate::modules::ModuleContext;
use crate::modules::control::async_status::write_job;
use crate::report::Status;

/// Actions whose ansible-core action plugin does not support async (no `_supports_async`):
/// a task with `async:` on them fails with "This action (NAME) does not support async.".
pub(super) const NO_ASYNC: &[&str] = &[
    "add_host",
    "assemble",
    "assert",
    "async_status",
    "copy",
    "debug",
    "fail",
    "fetch",
    "gather_facts",
    "group_by",
    "include_vars",
    "pause",
    "raw",
    "reboot",
    "script",
    "set_fact",
    "set_stats",
    "template",
    "unarchive",
    "validate_argument_spec",
    "wait_for_connection",
];

/// A job id as ansible-core makes one: `j` and up to 12 random digits, then `.` and a process
/// id (talon's).
pub(super) fn new_jid() -> String {
    let mut b = [0u8; 8];
    let r = getrandom::fill(&mut b)
        .map(|()| u64::from_le_bytes(b))
        .unwrap_or_else(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or_default()
        });
    format!("j{}.{}", r % 999_999_999_999, std::process::id())
}

/// The task's outcome for an async job that ran to `ran` (`None`: past the `async` limit of
/// `limit` seconds), polled every `poll` seconds (0: fire-and-forget).
///
/// - poll > 0: the module's result with `ansible_job_id`, `started`/`finished` true and
///   `results_file` (the file is cleaned up, as ansible-core does after a finished poll); past
///   the limit: async_wrapper's "Timeout exceeded" result when ansible-core's last poll comes
///   at least a second after the limit (the watcher's kill and write), else failed with "async
///   task did not complete within the requested time - Ns" and the last poll in
///   `async_result`.
/// - poll 0: `ansible_job_id`, `results_file`, `started` true, `finished` false, changed; the
///   result (or async_wrapper's "Timeout exceeded") is in the results file.
pub(super) async fn finish(ctx: &ModuleContext<'_>, limit: u64, poll: u64, ran: Option<Outcome>) -> Outcome {
    if let Some(out) = &ran
        && out.status == Status::Unreachable
    {
        return ran.unwrap_or_else(|| failed(String::new()));
    }
    let jid = new_jid();
    let file: Value = match &ran {
        Some(out) => out.result.clone(),
        None => json!({"msg": "Timeout exceeded", "failed": true}),
    };
    // Past the limit, async_wrapper kills the job and writes "Timeout exceeded" about a second
    // later; ansible-core's poll sees it when its last check (every `poll` seconds while the
    // limit lasts) comes after that, else it gives up first ("did not complete").
    let seen_timeout = ran.is_none() && poll > 0 && limit.div_ceil(poll) * poll > limit;
    let keep = poll == 0 || (ran.is_none() && !seen_timeout);
    let path = match write_job(ctx, &jid, keep.then_some(&file)).await {
        Ok(Ok(p)) => p,
        Ok(Err(msg)) => return failed(msg),
        Err(e) => return failed(e.to_string()),
    };
    if poll == 0 {
        return started(&jid, &path);
    }
    match ran {
        Some(mut out) => {
            if let Value::Object(m) = &mut out.result {
                m.insert("ansible_job_id".into(), json!(jid));
                m.insert("started".into(), json!(true));
                m.insert("finished".into(), json!(true));
                m.insert("results_file".into(), json!(path));
                for key in ["stdout", "stderr"] {
                    m.entry(key).or_insert(json!(""));
                    m.entry(format!("{key}_lines")).or_insert(json!([]));
                }
            }
            out
        }
        None if seen_timeout => {
            let o = crate::modules::control::async_status::status_outcome(
                &jid,
                "status",
                &path,
                "found",
                &file.to_string(),
            );
            super::task::outcome_from_module(o)
        }
        None => Outcome {
            status: Status::Failed,
            result: json!({
                "async_result": {
                    "ansible_job_id": jid,
                    "finished": false,
                    "results_file": path,
                    "started": true,
                    "stderr": "",
                    "stderr_lines": [],
                    "stdout": "",
                    "stdout_lines": [],
                },
                "changed": false,
                "failed": true,
                "msg": format!("async task did not complete within the requested time - {limit}s"),
            }),
            diff: Vec::new(),
        },
    }
}

/// Starts `$5...` (the command wrapper's arguments) detached on the host as job `$1` with a
/// limit of `$2` seconds: `$3` is the wrapper script, `$4` the command's result parameters, `$5`
/// the supervisor ([`async_status::supervised`]); stdin is the command's stdin. Prints the
/// results file's path.
const LAUNCH: &str = r#"jid=$1; limit=$2; wrapper=$3; params=$4; supervisor=$5; shift 5
d=$HOME/.ansible_async; f=$d/$jid; w=$d/.$jid.talon
mkdir -p -- "$d" && mkdir -m 700 -- "$w" || exit 1
printf '%s' "$wrapper" > "$w/wrapper" && printf '%s' "$params" > "$w/params" && cat > "$w/stdin" || exit 1
printf '{"started": true, "finished": false, "ansible_job_id": "%s"}' "$jid" > "$f.tmp" && mv -f -- "$f.tmp" "$f" || exit 1
setsid sh -c "$supervisor" talon-async "$w" "$f" "$limit" "$@" </dev/null >/dev/null 2>&1 &
printf '%s\n' "$f"
"#;

/// The command job under its supervisor: start and end times, the wrapper's output, its rc.
const RUN_COMMAND: &str = r#"date +%s%N > "$w/start"
sh "$w/wrapper" "$@" < "$w/stdin" > "$w/stdout" 2> "$w/stderr" &"#;
const AFTER_COMMAND: &str = r#"date +%s%N > "$w/end"
printf "%s" "$rc" > "$w/rc.tmp" && mv -f -- "$w/rc.tmp" "$w/rc""#;

/// Runs `command`/`shell` (`shell`) as a detached job on the host and polls it as
/// ansible-core's TaskExecutor does (`poll` > 0: sleep `poll` seconds, read the job with
/// async_status, until it finished or the `limit` is used up), or returns at once (`poll` 0).
/// Results as [`finish`] describes them.
pub(super) async fn detached(
    ctx: &ModuleContext<'_>,
    shell: bool,
    args: &crate::vars::Vars,
    limit: u64,
    poll: u64,
) -> Outcome {
    use crate::modules::system::command;
    let prepared = match command::prepare(args, ctx, shell) {
        Ok(Ok(p)) => p,
        // Known without running (argument errors, check mode): as any other module.
        Ok(Err(done)) => return finish(ctx, limit, poll, Some(super::task::outcome_from_module(done))).await,
        Err(e) => return finish(ctx, limit, poll, Some(failed(e.to_string()))).await,
    };
    let jid = new_jid();
    let params = serde_json::to_string(&prepared.job).unwrap_or_default();
    let mut launch = vec![
        jid.clone(),
        limit.to_string(),
        command::JOB_WRAPPER.to_string(),
        params,
        crate::modules::control::async_status::supervised(RUN_COMMAND, AFTER_COMMAND),
    ];
    launch.extend(prepared.script_args);
    let out = match crate::modules::sysutil::run_script(
        ctx,
        LAUNCH,
        &launch,
        Some(prepared.stdin.unwrap_or_default()),
    )
    .await
    {
        Ok(o) => o,
        Err(crate::modules::ModuleError::Transport(e)) if e.is_unreachable() => {
            return super::task::unreachable_outcome(&e);
        }
        Err(e) => return failed(e.to_string()),
    };
    if out.status.rc() != 0 {
        return failed(format!(
            "could not start the async job: {}",
            out.stderr_str().trim()
        ));
    }
    let path = out.stdout_str().trim_end_matches('\n').to_string();
    wait(ctx, &jid, &path, limit, poll).await
}

/// Runs a Python-path module (ansible-core's code) as a detached job on the host, as
/// async_wrapper does, and polls it like [`detached`] (or returns at once with `poll` 0).
pub(super) async fn python(
    ctx: &ModuleContext<'_>,
    module: &crate::modules::python::PythonModule,
    args: &crate::vars::Vars,
    limit: u64,
    poll: u64,
) -> Outcome {
    let jid = new_jid();
    match crate::modules::python::detached::start(module, args, ctx, &jid, limit).await {
        Ok(Ok(path)) => wait(ctx, &jid, &path, limit, poll).await,
        Ok(Err(msg)) => failed(msg),
        Err(crate::modules::ModuleError::Transport(e)) if e.is_unreachable() => {
            super::task::unreachable_outcome(&e)
        }
        Err(e) => failed(e.to_string()),
    }
}

/// The ansible-core module to run for native module `name`'s fire-and-forget job (`poll: 0`),
/// as ansible-playbook would: found by ansible-core on the controller, and the host has a
/// Python. `None` (no such module, no Python): the native module runs to its end before the
/// task returns, its result already in the results file (the README states it).
pub(super) async fn native_as_python(
    ctx: &ModuleContext<'_>,
    name: &str,
) -> Option<std::sync::Arc<crate::modules::python::PythonModule>> {
    let owned = name.to_string();
    let module = tokio::task::spawn_blocking(move || crate::modules::python::resolve_cached(&owned))
        .await
        .ok()?
        .ok()?;
    crate::modules::python::interpreter(ctx).await.ok()?;
    Some(module)
}

/// A started job's outcome: at once with `poll` 0, else polled as ansible-core's TaskExecutor
/// does (sleep `poll` seconds, read the job with async_status, until it finished or the
/// `limit` is used up; the results file cleaned up after a finished poll).
async fn wait(ctx: &ModuleContext<'_>, jid: &str, path: &str, limit: u64, poll: u64) -> Outcome {
    use crate::modules::control::async_status;
    if poll == 0 {
        return started(jid, path);
    }
    let mut time_left = limit as i64;
    let mut last = None;
    while time_left > 0 {
        tokio::time::sleep(std::time::Duration::from_secs(poll)).await;
        time_left -= poll as i64;
        // A poll that fails (the connection bounced) is retried while time is left.
        if let Ok(o) = async_status::status(ctx, jid, "status").await {
            let finished = o.result.get("finished").and_then(Value::as_bool).unwrap_or(false);
            let stop = finished || o.failed || o.skipped;
            last = Some(o);
            if stop {
                break;
            }
        }
    }
    match last {
        Some(o) if o.result.get("finished").and_then(Value::as_bool).unwrap_or(false) => {
            let _ = async_status::status(ctx, jid, "cleanup").await;
            super::task::outcome_from_module(o)
        }
        last => Outcome {
            status: Status::Failed,
            result: json!({
                "async_result": last.map(|o| Value::Object(o.result)).unwrap_or_default(),
                "changed": false,
                "failed": true,
                "msg": format!("async task did not complete within the requested time - {limit}s"),
            }),
            diff: Vec::new(),
        },
    }
}

fn failed(msg: String) -> Outcome {
    super::task::failed(msg)
}

/// The result of a fire-and-forget job (`poll: 0`) as ansible-core returns it: started, not
/// finished, with its id and results file.
fn started(jid: &str, path: &str) -> Outcome {
    Outcome {
        status: Status::Changed,
        result: json!({
            "ansible_job_id": jid,
            "changed": true,
            "failed": false,
            "finished": false,
            "results_file": path,
            "started": true,
        }),
        diff: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_look_like_ansible_cores() {
        let j = new_jid();
        assert!(j.starts_with('j'));
        let (n, pid) = j[1..].split_once('.').unwrap_or_default();
        assert!(n.parse::<u64>().is_ok_and(|n| n < 999_999_999_999), "{j}");
        assert_eq!(pid, std::process::id().to_string());
    }
}
