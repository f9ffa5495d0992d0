//! `async:`/`poll:` on a task, as ansible-core 2.19's TaskExecutor and async_wrapper shape
//! them. talon runs the module itself (no async_wrapper, no Python on the host), bounded by
//! the `async` time limit, and keeps ansible-core's job protocol on the host: the job's result
//! in `~/.ansible_async/<jid>` (read by `async_status`, talon's or ansible-core's).
//!
//! Difference (documented in the README): the job runs before the task returns, so `poll: 0`
//! does not overlap the job with the next tasks; its result file is complete when the task
//! reports the job started.

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
        return Outcome {
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
        };
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

fn failed(msg: String) -> Outcome {
    super::task::failed(msg)
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
