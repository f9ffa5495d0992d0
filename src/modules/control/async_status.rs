//! `async_status`: the state of an async job, as ansible-core's async_status action and module
//! read it from `~/.ansible_async/<jid>` on the host (no Python needed on the host), and
//! `mode: cleanup` removing that file. Also [`write_job`], which writes a job's results file
//! the way ansible-core's async_wrapper does.

use serde_json::{Map, Value, json};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::run_script;
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::vars::Vars;

crate::module_info!(
    /// `async_status`: `jid` (required), `mode` (`status`, `cleanup`).
    INFO,
    "async_status",
    ArgSpec::new(&[ArgDef::str("jid").required(), ArgDef::str("mode").choices(&["cleanup", "status"])]),
    run
);

/// Reads (`$1` = `status`) or removes (`cleanup`) job `$2`'s file under `$HOME/.ansible_async`
/// (the async_status action's `async_dir` default, expanded for the user the task runs as).
/// Prints the file's path, then `missing`, `erased`, `found` followed by its content, or `job`
/// followed by the sections (marker `$3`) of a detached command that ended but whose result
/// is not made yet (see [`crate::runner`]'s async jobs): `params`, `start`, `end`, `rc`,
/// `stdout`, `stderr`, each ending with one added newline.
const SCRIPT: &str = r#"f=$HOME/.ansible_async/$2; w=$HOME/.ansible_async/.$2.talon; M=$3
printf '%s\n' "$f"
if [ ! -e "$f" ]; then echo missing; exit 0; fi
if [ "$1" = cleanup ]; then rm -f -- "$f"; rm -rf -- "$w"; echo erased; exit 0; fi
if [ -e "$w/rc" ]; then
  echo job
  for part in params start end rc stdout stderr; do
    printf '%s %s\n' "$M" "$part"; cat -- "$w/$part"; echo
  done
  exit 0
fi
echo found
cat -- "$f"
"#;

/// Writes a job's results file (`$2` = jid) from stdin, atomically (a `.tmp` file renamed, as
/// async_wrapper's `jwrite`), creating `$HOME/.ansible_async` and removing a detached job's
/// folder; `$1` = `path` only prints the path. Prints the path.
const WRITE: &str = r#"d=$HOME/.ansible_async; f=$d/$2
if [ "$1" = write ]; then
  mkdir -p -- "$d" && cat > "$f.tmp" && mv -f -- "$f.tmp" "$f" || exit 1
  rm -rf -- "$d/.$2.talon"
fi
printf '%s\n' "$f"
"#;

/// The part of a detached job that runs under `setsid`, talon's async_wrapper: `$1` the job's
/// folder (`$w`), `$2` its results file (`$f`), `$3` the limit in seconds, then `run`'s own
/// arguments. `run` starts the job in the background (`... &`); once it ended within the
/// limit, `$w/done` is made and `after` runs (`$rc` is its exit code). Past the limit a
/// watcher kills it, writes async_wrapper's "Timeout exceeded" (with `child_pid`) a second
/// later and removes `$w`.
pub fn supervised(run: &str, after: &str) -> String {
    format!(
        r#"w=$1; f=$2; limit=$3; shift 3
{run}
pid=$!
( sleep "$limit"
  if [ -d "$w" ] && [ ! -e "$w/done" ]; then
    : > "$w/killed"; kill -9 "$pid" 2>/dev/null; sleep 1
    printf "{{\"msg\": \"Timeout exceeded\", \"failed\": true, \"child_pid\": %s}}" "$pid" > "$f.tmp" && mv -f -- "$f.tmp" "$f"
    rm -rf -- "$w"
  fi ) &
watcher=$!
wait "$pid"; rc=$?
[ -e "$w/killed" ] && exit 0
: > "$w/done"
kill "$watcher" 2>/dev/null
{after}
"#
    )
}

/// Writes job `jid`'s results file with `result` (JSON), or with `result` `None` only works
/// out its path; returns the path (`~/.ansible_async/<jid>` expanded on the host).
///
/// Errors: a transport error; `Ok(Err(msg))` when the host could not write the file.
pub async fn write_job(
    ctx: &ModuleContext<'_>,
    jid: &str,
    result: Option<&Value>,
) -> Result<Result<String, String>, ModuleError> {
    let mode = if result.is_some() { "write" } else { "path" };
    let stdin = result.map(|r| r.to_string().into_bytes());
    let out = run_script(ctx, WRITE, &[mode.into(), jid.into()], stdin).await?;
    if out.status.rc() != 0 {
        return Ok(Err(format!(
            "could not write the async job file for {jid}: {}",
            out.stderr_str().trim()
        )));
    }
    Ok(Ok(out.stdout_str().trim_end_matches('\n').to_string()))
}

/// Runs `async_status` as ansible-core 2.19's action and module do:
/// - `status`: a missing file fails with "could not find job" (`started`/`finished` true); a
///   file that is not JSON yet is a running job (`started` true, `finished` false); a job's
///   JSON is returned as it is, `finished` true when it has no `started` key (a finished job's
///   module result), over the action's defaults (`stdout`, `stderr` and their `_lines` empty,
///   `ansible_job_id`, `results_file`).
/// - `cleanup`: the file removed, `erased` its path, `started`/`finished` false.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let jid = a.str("jid")?.unwrap_or_default();
    let mode = a.str("mode")?.unwrap_or_else(|| "status".into());
    status(ctx, &jid, &mode).await
}

/// [`run`] for job `jid` in `mode` (`status`, `cleanup`). A detached command job that ended is
/// made into the command module's result here, written to its results file, and returned.
///
/// Errors: a transport error.
pub async fn status(ctx: &ModuleContext<'_>, jid: &str, mode: &str) -> Result<ModuleOutcome, ModuleError> {
    let m = crate::modules::sysutil::marker();
    let out = run_script(ctx, SCRIPT, &[mode.into(), jid.into(), m.clone()], None).await?;
    let text = out.stdout_str();
    let mut lines = text.splitn(3, '\n');
    let path = lines.next().unwrap_or_default().to_string();
    let state = lines.next().unwrap_or_default().to_string();
    let content = lines.next().unwrap_or_default();
    if state == "job" {
        let result = match job_result(content, &m) {
            Some(r) => r,
            None => json!({"failed": true, "msg": "the async job's output could not be read"}),
        };
        if let Err(e) = write_job(ctx, jid, Some(&result)).await? {
            return Ok(ModuleOutcome::failed(e));
        }
        return Ok(status_outcome(jid, mode, &path, "found", &result.to_string()));
    }
    Ok(status_outcome(jid, mode, &path, &state, content))
}

/// The command module's result (as its JSON) from a detached job's sections.
fn job_result(content: &str, marker: &str) -> Option<Value> {
    use crate::modules::sysutil::{section, sections};
    let secs = sections(content, marker);
    let part = |name: &str| section(&secs, name).map(|b| b.strip_suffix('\n').unwrap_or(b));
    let job: crate::modules::system::command::Job = serde_json::from_str(part("params")?).ok()?;
    let nanos = |name: &str| part(name).and_then(|t| t.trim().parse::<u64>().ok());
    let at = |n: u64| std::time::UNIX_EPOCH + std::time::Duration::from_nanos(n);
    let (start, end) = (nanos("start")?, nanos("end")?);
    let rc: i64 = part("rc")?.trim().parse().ok()?;
    let o = crate::modules::system::command::conclude(
        &job,
        crate::modules::system::command::Ran {
            stdout: part("stdout")?.to_string(),
            stderr: part("stderr")?.to_string(),
            rc,
            status: format!("exit status {rc}"),
            started: at(start),
            ended: at(end),
            elapsed: std::time::Duration::from_nanos(end.saturating_sub(start)),
        },
    );
    let mut r = o.result;
    r.insert("changed".into(), json!(o.changed));
    r.insert("msg".into(), json!(o.msg.unwrap_or_default()));
    if o.failed {
        r.insert("failed".into(), json!(true));
    }
    Some(Value::Object(r))
}

/// The async_status result for a job file read on the host: `state` is `missing`, `erased` or
/// `found` (with the file's `content`).
pub fn status_outcome(jid: &str, mode: &str, path: &str, state: &str, content: &str) -> ModuleOutcome {
    let mut r = Map::new();
    r.insert("started".into(), json!(false));
    r.insert("finished".into(), json!(false));
    r.insert("stdout".into(), json!(""));
    r.insert("stderr".into(), json!(""));
    r.insert("stdout_lines".into(), json!([]));
    r.insert("stderr_lines".into(), json!([]));
    r.insert("ansible_job_id".into(), json!(jid));
    if mode == "cleanup" {
        r.insert("erased".into(), json!(path));
    } else {
        r.insert("results_file".into(), json!(path));
        r.insert("started".into(), json!(true));
    }
    let mut o = ModuleOutcome::ok();
    match state {
        "missing" => {
            r.insert("started".into(), json!(true));
            r.insert("finished".into(), json!(true));
            o.failed = true;
            o.msg = Some("could not find job".into());
        }
        "erased" => {}
        _ => match serde_json::from_str::<Value>(content) {
            Ok(Value::Object(mut data)) => {
                if !data.contains_key("started") {
                    data.insert("finished".into(), json!(true));
                    data.insert("ansible_job_id".into(), json!(jid));
                } else if !data.contains_key("finished") {
                    data.insert("finished".into(), json!(false));
                }
                // The module's own lines, as ActionBase._execute_module splits them.
                for key in ["stdout", "stderr"] {
                    let lines = format!("{key}_lines");
                    if let Some(v) = data.get(key)
                        && !data.contains_key(&lines)
                    {
                        let text = v.as_str().unwrap_or_default();
                        data.insert(lines, json!(crate::modules::sysutil::splitlines(text)));
                    }
                }
                for (k, v) in data {
                    r.insert(k, v);
                }
                o.changed = r.get("changed").and_then(Value::as_bool).unwrap_or(false);
                // A module result without `failed` fails on a non-zero `rc` (TaskExecutor).
                o.failed = match r.get("failed") {
                    Some(f) => crate::vars::as_bool(f).unwrap_or(false),
                    None => r
                        .get("rc")
                        .is_some_and(|rc| rc.as_i64().is_some_and(|rc| rc != 0)),
                };
                o.skipped = r.get("skipped").and_then(Value::as_bool).unwrap_or(false);
                if let Some(m) = r.get("msg").and_then(Value::as_str) {
                    o.msg = Some(m.to_string());
                }
            }
            // Not written yet (or half-written): the job is running.
            _ => {
                r.insert("finished".into(), json!(false));
            }
        },
    }
    for key in ["started", "finished"] {
        let b = r.get(key).and_then(crate::vars::as_bool).unwrap_or(false);
        r.insert(key.into(), json!(b));
    }
    for key in ["changed", "failed", "skipped", "msg"] {
        r.shift_remove(key);
    }
    o.result = r;
    o
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_job_is_its_module_result() {
        let o = status_outcome(
            "j1.2",
            "status",
            "/root/.ansible_async/j1.2",
            "found",
            r#"{"rc": 3, "stdout": "done", "changed": true, "failed": true, "msg": "non-zero return code"}"#,
        );
        assert!(o.failed && o.changed);
        assert_eq!(o.result["finished"], json!(true));
        assert_eq!(o.result["stdout_lines"], json!(["done"]));
        assert_eq!(o.result["ansible_job_id"], json!("j1.2"));
    }

    #[test]
    fn a_running_job_and_a_missing_one() {
        let o = status_outcome(
            "j",
            "status",
            "/f",
            "found",
            r#"{"started": true, "finished": false, "ansible_job_id": "j"}"#,
        );
        assert!(!o.failed);
        assert_eq!(o.result["finished"], json!(false));
        let o = status_outcome("j", "status", "/f", "found", "");
        assert_eq!(o.result["finished"], json!(false));
        let o = status_outcome("j", "status", "/f", "missing", "");
        assert!(o.failed);
        assert_eq!(o.msg.as_deref(), Some("could not find job"));
        let o = status_outcome("j", "cleanup", "/f", "erased", "");
        assert_eq!(o.result["erased"], json!("/f"));
        assert_eq!(o.result["started"], json!(false));
    }
}
