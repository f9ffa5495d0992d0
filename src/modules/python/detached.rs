//! A Python-path module started as an async job on the host, as ansible-core's async_wrapper
//! runs one: detached from the connection (`setsid`), its results file
//! `~/.ansible_async/<jid>` saying `{"started": true, "finished": false, ...}` while it runs
//! and the module's JSON when it ends (non-JSON lines around it dropped, its `stderr` added,
//! as `_run_module` writes it), or async_wrapper's "Timeout exceeded" when a watcher killed it
//! past the job's limit. `async_status` (talon's or ansible-core's) reads that file.

use super::{Built, PythonModule, build};
use crate::modules::control::async_status::supervised;
use crate::modules::{ModuleContext, ModuleError, sysutil};
use crate::vars::Vars;

/// Starts job `$1` with a limit of `$2` seconds: the payload (stdin) run by the host's Python
/// `$3`, the results made by the Python snippet `$4`, under the supervisor `$5`
/// ([`supervised`]). Prints the results file's path. The job's folder
/// `~/.ansible_async/.<jid>.talon` (0700) holds the payload and the module's output until the
/// job ends.
const LAUNCH: &str = r#"jid=$1; limit=$2; interp=$3; finish=$4; supervisor=$5
d=$HOME/.ansible_async; f=$d/$jid; w=$d/.$jid.talon
( umask 077 && mkdir -p "$HOME/.ansible/tmp" ) 2>/dev/null
mkdir -p -- "$d" && mkdir -m 700 -- "$w" || exit 1
( umask 077 && cat > "$w/payload" ) || exit 1
printf '{"started": true, "finished": false, "ansible_job_id": "%s"}' "$jid" > "$f.tmp" && mv -f -- "$f.tmp" "$f" || exit 1
setsid sh -c "$supervisor" talon-async "$w" "$f" "$limit" "$interp" "$finish" "$jid" </dev/null >/dev/null 2>&1 &
printf '%s\n' "$f"
"#;

/// The module under its supervisor (`$1` the host's Python, `$2` [`FINISH`], `$3` the job id).
const RUN: &str = r#""$1" < "$w/payload" > "$w/stdout" 2> "$w/stderr" &"#;
const AFTER: &str = r#""$1" -c "$2" "$w" "$f" "$3"
rm -rf -- "$w""#;

/// async_wrapper's `_run_module` after the module ended, on the host's Python: the JSON
/// between the first line starting with `{` and the last ending with `}`, the module's stderr
/// added, else a failure with the output; talon drops `invocation` (it never reports one) and
/// gives 2.19's typed warnings as their texts, as for a module run in the foreground.
const FINISH: &str = r#"import json, os, sys
w, f, jid = sys.argv[1:4]
def read(n):
    with open(os.path.join(w, n), encoding='utf-8', errors='surrogateescape') as h:
        return h.read()
out, err = read('stdout'), read('stderr')
try:
    lines = out.splitlines()
    s = next(i for i, l in enumerate(lines) if l.lstrip().startswith('{'))
    e = max(i for i, l in enumerate(lines) if l.rstrip().endswith('}'))
    res = json.loads('\n'.join(lines[s:e + 1]))
    if not isinstance(res, dict):
        raise ValueError('not a JSON object')
    if err:
        res['stderr'] = err
except Exception as x:
    res = {'failed': True, 'cmd': 'python', 'data': out, 'stderr': err, 'msg': str(x), 'ansible_job_id': jid}
res.pop('invocation', None)
ws = res.get('warnings')
if isinstance(ws, list):
    res['warnings'] = [x.get('event', {}).get('msg', x) if isinstance(x, dict) else x for x in ws]
with open(f + '.tmp', 'w') as h:
    json.dump(res, h)
os.replace(f + '.tmp', f)
"#;

/// Builds `module` with `args` and starts it as job `jid` on the host, limited to `limit`
/// seconds. Returns the results file's path (`~/.ansible_async/<jid>` expanded on the host),
/// or `Ok(Err(message))` when the host could not start it.
///
/// Errors: as [`super::run`] (no ansible-core, no Python on the host, a broken connection).
pub async fn start(
    module: &PythonModule,
    args: &Vars,
    ctx: &ModuleContext<'_>,
    jid: &str,
    limit: u64,
) -> Result<Result<String, String>, ModuleError> {
    if let Some(why) = module.needs_action(args) {
        return Ok(Err(why));
    }
    let Built { payload, interp, .. } = build(module, args, ctx).await?;
    let launch = [
        jid.to_string(),
        limit.to_string(),
        interp,
        FINISH.to_string(),
        supervised(RUN, AFTER),
    ];
    let out = sysutil::run_script(ctx, LAUNCH, &launch, Some(payload.to_vec())).await?;
    if out.status.rc() != 0 {
        return Ok(Err(format!(
            "could not start the async job: {}",
            out.stderr_str().trim()
        )));
    }
    Ok(Ok(out.stdout_str().trim_end_matches('\n').to_string()))
}
