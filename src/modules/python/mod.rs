//! The Python path: a module talon does not implement natively runs as ansible-core runs it,
//! from its own code. On the controller, a long-lived helper (`helper.py`, run by the Python
//! that has ansible-core) finds the module (`ansible.builtin`, `ansible.legacy`, collections)
//! and builds its AnsiballZ payload with ansible-core's `modify_module`; talon sends the payload
//! to the host's Python on stdin over the host's existing connection (ansible-core's
//! pipelining), so arguments, secrets included, never reach argv; the JSON the module prints is
//! the task's result.
//!
//! The controller Python is `TALON_ANSIBLE_PYTHON`, else the interpreter of `ansible-playbook`
//! found on `PATH` (its `#!` line), else `python3`. The host's Python is
//! `ansible_python_interpreter`, else the first of ansible-core's discovery list found there
//! (reported once per host as `ansible_facts.discovered_interpreter_python`, as Ansible does).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};

use secrecy::zeroize::Zeroizing;
use serde_json::{Map, Value, json};

use crate::modules::{FileDiff, ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

pub mod detached;

/// The helper script, run as `PYTHON -c SCRIPT`.
const HELPER: &str = include_str!("helper.py");

/// A module found by ansible-core, to run through the Python path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PythonModule {
    /// The name as the task wrote it.
    pub name: String,
    /// The fully qualified name ansible-core resolved it to (`ansible.builtin.replace`).
    pub fqcn: String,
    /// The module's source file on the controller.
    pub path: String,
    /// Its documented options, each with its aliases (`None`: no readable documentation, so
    /// nothing is checked before the run).
    pub options: Option<Vec<(String, Vec<String>)>>,
    /// Its action plugin when that is one of [`THIN_ACTIONS`] (controller-side work only for
    /// some arguments: see [`PythonModule::needs_action`]).
    pub action: Option<String>,
}

/// Action plugins that only add controller-side work for some arguments, and otherwise run the
/// module with the task's arguments: `uri` (uploads a controller `src` or form-multipart
/// files), `unarchive` (copies a controller `src` unless `remote_src` or a URL).
pub const THIN_ACTIONS: &[&str] = &["ansible.builtin.uri", "ansible.builtin.unarchive"];

/// Whether an argument value is certainly true (`false` for a template not rendered yet).
fn literal_true(v: Option<&Value>) -> bool {
    v.and_then(crate::vars::as_bool).unwrap_or(false)
}

/// Whether an argument value is a template not rendered yet.
fn templated(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str)
        .is_some_and(|s| s.contains("{{") || s.contains("{%"))
}

impl PythonModule {
    /// The names among `args` that the module's documentation does not list (as an option or an
    /// alias); `_raw_params` and internal `_ansible_*` names are never reported. Empty when the
    /// module documents no options.
    pub fn undocumented<'a>(&self, args: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        let Some(opts) = &self.options else {
            return Vec::new();
        };
        args.into_iter()
            .filter(|k| !k.starts_with('_'))
            .filter(|k| !opts.iter().any(|(n, al)| n == *k || al.iter().any(|a| a == *k)))
            .cloned()
            .collect()
    }

    /// Why `args` need the module's action plugin, which talon does not run: `Some(message)`
    /// for uri with a controller `src` or form-multipart body, unarchive of a controller `src`;
    /// `None` when the module alone does what the action would (or, for arguments still
    /// templated at load, cannot be told yet: asked again with the rendered arguments).
    pub fn needs_action(&self, args: &Vars) -> Option<String> {
        let action = self.action.as_deref()?;
        let remote = args.get("remote_src");
        if templated(remote) {
            return None;
        }
        let why = match action {
            "ansible.builtin.uri" => {
                let src = args.get("src").is_some() && !literal_true(remote);
                let multipart = args.get("body_format").and_then(Value::as_str) == Some("form-multipart");
                (src || multipart)
                    .then_some("a controller `src` or a form-multipart body (uploaded by its action plugin)")
            }
            "ansible.builtin.unarchive" => {
                let src = args.get("src");
                let url = src.and_then(Value::as_str).is_some_and(|s| s.contains("://"));
                (!literal_true(remote) && !url && !templated(src)).then_some(
                    "a controller `src` (copied to the host by its action plugin); use remote_src: true for an archive on the host",
                )
            }
            _ => Some("its action plugin"),
        }?;
        Some(format!(
            "{} with {why} needs code that runs on the controller, which talon does not run",
            self.fqcn
        ))
    }

    /// The documented option names, sorted, for messages.
    pub fn option_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .options
            .iter()
            .flatten()
            .flat_map(|(n, al)| std::iter::once(n.clone()).chain(al.iter().cloned()))
            .collect();
        names.sort();
        names
    }
}

/// The running helper: its pipes, and the answer it gave when it started (ansible-core's
/// version and the Python running it).
struct Helper {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    version: String,
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The helper, started on first use; `Err` holds why it could not start (kept, so a run
/// without ansible-core says so once per module instead of trying again).
static HELPER_PROC: OnceLock<Mutex<Result<Helper, String>>> = OnceLock::new();

/// The controller Python that has ansible-core: `TALON_ANSIBLE_PYTHON`, else the `#!`
/// interpreter of `ansible-playbook` on `PATH`, else `python3`.
pub fn controller_python() -> String {
    if let Ok(p) = std::env::var("TALON_ANSIBLE_PYTHON")
        && !p.is_empty()
    {
        return p;
    }
    let from_playbook = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("ansible-playbook"))
            .find(|p| p.is_file())
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| {
                let first = bytes.split(|b| *b == b'\n').next()?.to_vec();
                let line = String::from_utf8(first).ok()?;
                let interp = line.strip_prefix("#!")?.split_whitespace().next()?.to_string();
                // `#!/usr/bin/env python3`: the named program.
                Some(if interp.ends_with("/env") {
                    line.split_whitespace().nth(1).unwrap_or("python3").to_string()
                } else {
                    interp
                })
            })
    });
    from_playbook.unwrap_or_else(|| "python3".to_string())
}

fn start() -> Result<Helper, String> {
    let python = controller_python();
    let mut child = Command::new(&python)
        .args(["-c", HELPER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {python} for ansible-core: {e}"))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        return Err(format!("{python}: no pipes to the ansible-core helper"));
    };
    let mut helper = Helper {
        child,
        stdin,
        stdout: BufReader::new(stdout),
        version: String::new(),
    };
    let hello = helper.read()?;
    if let Some(e) = hello.get("error").and_then(Value::as_str) {
        return Err(e.to_string());
    }
    helper.version = hello
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(helper)
}

impl Helper {
    fn read(&mut self) -> Result<Value, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err("the ansible-core helper exited".into()),
            Ok(_) => serde_json::from_str(&line)
                .map_err(|e| format!("the ansible-core helper answered badly: {e}")),
            Err(e) => Err(format!("reading from the ansible-core helper: {e}")),
        }
    }

    fn ask(&mut self, request: &Value) -> Result<Value, String> {
        let mut text = Zeroizing::new(request.to_string());
        text.push('\n');
        self.stdin
            .write_all(text.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("writing to the ansible-core helper: {e}"))?;
        let answer = self.read()?;
        match answer.get("error").and_then(Value::as_str) {
            Some(e) => Err(e.to_string()),
            None => Ok(answer),
        }
    }
}

/// Sends `request` to the helper (starting it if needed) and returns its answer. Blocking: call
/// from a blocking context.
fn ask(request: &Value) -> Result<Value, String> {
    let cell = HELPER_PROC.get_or_init(|| Mutex::new(start()));
    let mut guard = cell.lock().unwrap_or_else(PoisonError::into_inner);
    let answer = match guard.as_mut() {
        Ok(h) => h.ask(request),
        Err(e) => return Err(e.clone()),
    };
    // A helper that died (killed, out of memory) is started again once for this request.
    if let Ok(h) = guard.as_mut()
        && answer.is_err()
        && h.child.try_wait().ok().flatten().is_some()
    {
        *guard = start();
        return match guard.as_mut() {
            Ok(h) => h.ask(request),
            Err(e) => Err(e.clone()),
        };
    }
    answer
}

/// ansible-core's version as the helper reports it (`None` without a usable ansible-core).
pub fn ansible_version() -> Option<String> {
    let cell = HELPER_PROC.get_or_init(|| Mutex::new(start()));
    let guard = cell.lock().unwrap_or_else(PoisonError::into_inner);
    guard.as_ref().ok().map(|h| h.version.clone())
}

/// Why a module name cannot take the Python path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// No usable ansible-core on the controller (the reason).
    NoAnsible(String),
    /// ansible-core does not know the module: where it looked.
    NotFound { searched: Vec<String> },
    /// The module needs its action plugin (controller-side code), which talon does not run.
    NeedsAction { fqcn: String },
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::NoAnsible(why) => write!(
                f,
                "talon does not implement it, and the Python path needs ansible-core on the controller ({why}; \
                 set TALON_ANSIBLE_PYTHON to a Python that has ansible-core)"
            ),
            Unresolved::NotFound { searched } => write!(
                f,
                "neither talon nor ansible-core knows it (ansible-core searched {} and its collections)",
                searched.join(", ")
            ),
            Unresolved::NeedsAction { fqcn } => write!(
                f,
                "{fqcn} needs its action plugin (code that runs on the controller), which talon does not run"
            ),
        }
    }
}

/// Finds `name` as ansible-core would for a task (blocking: starts the helper on first use).
///
/// Errors: [`Unresolved`] says why the module cannot run through the Python path.
pub fn resolve(name: &str) -> Result<PythonModule, Unresolved> {
    resolve_as(name, false)
}

/// Finds `name` as a module alone, whatever action plugin it has: for an action that runs a
/// module itself (ansible-core's `package` runs its backend's module, not the backend's action).
///
/// Errors: [`Unresolved`] (never [`Unresolved::NeedsAction`]).
pub fn resolve_module(name: &str) -> Result<PythonModule, Unresolved> {
    resolve_as(name, true)
}

fn resolve_as(name: &str, module_only: bool) -> Result<PythonModule, Unresolved> {
    let request = json!({"op": "resolve", "name": name, "module_only": module_only});
    let answer = ask(&request).map_err(Unresolved::NoAnsible)?;
    if answer.get("found") != Some(&Value::Bool(true)) {
        let searched = answer
            .get("searched")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        return Err(Unresolved::NotFound { searched });
    }
    let text = |k: &str| {
        answer
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let action = answer.get("action").and_then(Value::as_str).map(str::to_string);
    if let Some(a) = &action
        && !THIN_ACTIONS.contains(&a.as_str())
    {
        return Err(Unresolved::NeedsAction { fqcn: text("fqcn") });
    }
    let options = answer.get("options").and_then(Value::as_object).map(|m| {
        m.iter()
            .map(|(k, v)| {
                let aliases = v
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .unwrap_or_default();
                (k.clone(), aliases)
            })
            .collect()
    });
    Ok(PythonModule {
        name: name.to_string(),
        fqcn: text("fqcn"),
        path: text("path"),
        options,
        action,
    })
}

/// Answers of [`resolve`] per name, for this process (a playbook names a module many times).
static RESOLVED: OnceLock<Mutex<HashMap<String, Resolution>>> = OnceLock::new();

/// One answer of [`resolve_cached`].
type Resolution = Result<std::sync::Arc<PythonModule>, Unresolved>;

/// [`resolve`], asked once per name.
///
/// Errors: as [`resolve`].
pub fn resolve_cached(name: &str) -> Result<std::sync::Arc<PythonModule>, Unresolved> {
    let cache = RESOLVED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(r) = cache.lock().unwrap_or_else(PoisonError::into_inner).get(name) {
        return r.clone();
    }
    let r = resolve(name).map(std::sync::Arc::new);
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(name.to_string(), r.clone());
    r
}

/// The interpreters ansible-core's discovery tries, in order (`INTERPRETER_PYTHON_FALLBACK`).
/// A candidate must also start (a version manager's shim may name a Python it cannot run).
const DISCOVER: &str = r#"for p in python3.13 python3.12 python3.11 python3.10 python3.9 python3.8 /usr/bin/python3 python3; do
  c=$(command -v "$p") && "$c" -c '' 2>/dev/null && { printf '%s\n' "$c"; exit 0; }
done
exit 1"#;

/// Runs the payload on stdin with the Python in `$1`, after making ansible-core's default
/// remote tmp folder as ansible-core does.
const RUN: &str = r#"( umask 077 && mkdir -p "$HOME/.ansible/tmp" ) 2>/dev/null
exec "$1""#;

/// Interpreters discovered per host name in this run.
static DISCOVERED: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();

/// The host's Python: `ansible_python_interpreter`, else discovered (and whether it was
/// discovered just now, which Ansible reports as a fact). Under `delegate_to`, the delegated
/// host's (its variable, its discovery), as ansible-core's `_configure_module` reads the
/// delegated host's variables.
pub(crate) async fn interpreter(ctx: &ModuleContext<'_>) -> Result<(String, bool), ModuleError> {
    let vars = ctx.target_scope();
    if let Some(v) = vars.vars.get("ansible_python_interpreter") {
        let rendered = ctx
            .templater
            .render_value(v, vars)
            .map_err(|e| ModuleError::Template(format!("ansible_python_interpreter: {e}")))?;
        return Ok((crate::vars::as_string(&rendered), false));
    }
    let cache = DISCOVERED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(p) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(ctx.target())
    {
        return Ok((p.clone(), false));
    }
    let out = sysutil::run_script(ctx, DISCOVER, &[], None).await?;
    let found = out
        .stdout_str()
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    if !out.status.success() || found.is_empty() {
        return Err(ModuleError::BadArgs {
            module: "talon",
            message: format!(
                "no Python found on {} for a module that runs through ansible-core's code (set ansible_python_interpreter)",
                ctx.target()
            ),
        });
    }
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(ctx.target().to_string(), found.clone());
    Ok((found, true))
}

/// `value` with every secret marker replaced by the secret's value, for the payload only.
fn reveal(value: &Value, ctx: &ModuleContext<'_>) -> Result<Value, ModuleError> {
    Ok(match value {
        Value::String(s) => {
            let r = ctx.secrets.reveal(s).map_err(|e| ModuleError::BadArgs {
                module: "talon",
                message: e.to_string(),
            })?;
            Value::String(String::from_utf8_lossy(&r.content).into_owned())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| reveal(v, ctx)).collect::<Result<_, _>>()?),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), reveal(v, ctx)?)))
                .collect::<Result<Map<_, _>, ModuleError>>()?,
        ),
        other => other.clone(),
    })
}

/// Runs `module` with `args` on the context's host through ansible-core's own code.
///
/// The result is the module's JSON (without `invocation`, which talon never reports); with
/// `--diff` the module's `diff` is also shown. A host answer that is not a module result fails
/// the task with ansible-core's "MODULE FAILURE" and the output (`module_stdout`,
/// `module_stderr`, `rc`).
///
/// Errors: [`ModuleError::BadArgs`] when the payload cannot be built (no ansible-core, a secret
/// that cannot be delivered) or no Python is found on the host; [`ModuleError::Transport`] when
/// the connection broke.
pub async fn run(
    module: &PythonModule,
    args: &Vars,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    if let Some(why) = module.needs_action(args) {
        return Ok(ModuleOutcome::failed(why));
    }
    let Built {
        payload,
        interp,
        discovered,
    } = build(module, args, ctx).await?;
    // ansible-core makes the remote tmp folder before a module runs (0700, kept), so the
    // module finds it and does not warn about creating it.
    let out = sysutil::run_script(ctx, RUN, std::slice::from_ref(&interp), Some(payload.to_vec())).await?;
    let stdout = out.stdout_str();
    let mut outcome = match json_object(&stdout) {
        Some(result) => from_result(result, ctx),
        None => ModuleOutcome::failed(
            "MODULE FAILURE: No start of json char found\nSee stdout/stderr for the exact error",
        )
        .with("module_stdout", stdout.clone())
        .with("module_stderr", out.stderr_str())
        .with("rc", out.status.rc()),
    };
    // A delegated task's discovery is not reported (it would land on the task's own host)
    // unless `delegate_facts` gives it to the delegated host, as ansible-core's
    // `_configure_module`.
    if discovered && ctx.delegation.is_none_or(|d| d.delegate_facts) {
        let facts = json!({"discovered_interpreter_python": interp});
        outcome = outcome.with("ansible_facts", facts);
    }
    Ok(outcome)
}

/// A module's AnsiballZ payload, built by ansible-core for the host's Python.
pub(crate) struct Built {
    /// The payload (the module's arguments, secrets revealed, inside): fed to `interp` on stdin.
    pub payload: Zeroizing<Vec<u8>>,
    /// The host's Python.
    pub interp: String,
    /// Whether `interp` was discovered just now (reported as a fact).
    pub discovered: bool,
}

/// Builds `module` with `args` for the context's host (its Python found first).
///
/// Errors: as [`run`]'s, before anything runs on the host but interpreter discovery.
pub(crate) async fn build(
    module: &PythonModule,
    args: &Vars,
    ctx: &ModuleContext<'_>,
) -> Result<Built, ModuleError> {
    let (interp, discovered) = interpreter(ctx).await?;
    // ansible-core hands the module its arguments sorted by name (modules that echo their
    // parameters show that order).
    let mut sorted: Vec<(&String, &Value)> = args.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let sorted: serde_json::Map<String, Value> =
        sorted.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let revealed = reveal(&Value::Object(sorted), ctx)?;
    let request = json!({
        "op": "build",
        "name": module.name,
        "path": module.path,
        "args": revealed,
        "check": ctx.check,
        "diff": ctx.diff,
        "no_log": false,
        "interpreter": interp,
    });
    let built = tokio::task::spawn_blocking(move || ask(&request))
        .await
        .map_err(|e| ModuleError::BadArgs {
            module: "talon",
            message: format!("the ansible-core helper stopped: {e}"),
        })?
        .map_err(|message| ModuleError::BadArgs {
            module: "talon",
            message: format!("building {} with ansible-core: {message}", module.fqcn),
        })?;
    let payload = Zeroizing::new(
        built
            .get("payload")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
    );
    drop(built);
    Ok(Built {
        payload,
        interp,
        discovered,
    })
}

/// The module's JSON result in its output: from the first line that starts with `{` to the
/// last that ends with `}` (ansible-core's `_filter_non_json_lines`), parsed.
fn json_object(stdout: &str) -> Option<Map<String, Value>> {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines.iter().position(|l| l.trim_start().starts_with('{'))?;
    let end = lines.iter().rposition(|l| l.trim_end().ends_with('}'))?;
    if end < start {
        return None;
    }
    match serde_json::from_str(&lines[start..=end].join("\n")) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// A module's JSON result as a [`ModuleOutcome`]: `changed`, `failed`, `skipped` and `msg` from
/// their keys, `diff` shown under `--diff`, the rest registered as is.
fn from_result(mut result: Map<String, Value>, ctx: &ModuleContext<'_>) -> ModuleOutcome {
    result.remove("invocation");
    result.retain(|k, _| !k.starts_with("_ansible_"));
    let flag = |m: &Map<String, Value>, k: &str| m.get(k).and_then(crate::vars::as_bool).unwrap_or(false);
    let mut out = ModuleOutcome {
        changed: flag(&result, "changed"),
        failed: flag(&result, "failed"),
        skipped: flag(&result, "skipped"),
        ..ModuleOutcome::default()
    };
    if ctx.diff
        && let Some(d) = result.get("diff")
    {
        out.diff = shown_diffs(d);
    }
    // ansible-core 2.19 modules send warnings as typed summaries; registered, they are texts.
    if let Some(Value::Array(ws)) = result.get_mut("warnings") {
        for w in ws.iter_mut() {
            if let Some(msg) = w.pointer("/event/msg").and_then(Value::as_str) {
                *w = Value::String(msg.to_string());
            }
        }
    }
    if let Some(Value::String(m)) = result.get("msg") {
        out.msg = Some(m.clone());
    } else if out.failed
        && let Some(m) = result
            .get("exception")
            .and_then(|e| e.pointer("/event/msg"))
            .and_then(Value::as_str)
    {
        // A module that raised: ansible-core 2.19 reports its error summary this way.
        out.msg = Some(format!("Task failed: Module failed: {m}"));
    }
    out.result = result;
    out
}

/// A module's `diff` (one dict or a list of them, with `before`/`after` texts or values and
/// optional headers) as the diffs `--diff` shows.
pub(crate) fn shown_diffs(d: &Value) -> Vec<FileDiff> {
    let items: Vec<&Value> = match d {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let text = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => serde_json::to_string_pretty(other)
            .map(|s| s + "\n")
            .unwrap_or_default(),
    };
    items
        .into_iter()
        .filter(|i| i.get("before").is_some() || i.get("after").is_some())
        .map(|i| FileDiff {
            before_header: text(i.get("before_header")),
            after_header: text(i.get("after_header")),
            before: text(i.get("before")),
            after: text(i.get("after")),
            ..FileDiff::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thin_actions_are_refused_only_for_controller_files() {
        let module = |action: &str| PythonModule {
            fqcn: action.to_string(),
            action: Some(action.to_string()),
            ..PythonModule::default()
        };
        let args = |v: Value| v.as_object().cloned().unwrap_or_default();
        let uri = module("ansible.builtin.uri");
        assert_eq!(uri.needs_action(&args(json!({"url": "http://x"}))), None);
        assert!(
            uri.needs_action(&args(json!({"url": "http://x", "src": "f.json"})))
                .is_some()
        );
        assert_eq!(
            uri.needs_action(&args(json!({"src": "/f", "remote_src": true}))),
            None
        );
        let un = module("ansible.builtin.unarchive");
        assert!(
            un.needs_action(&args(json!({"src": "a.tgz", "dest": "/d"})))
                .is_some()
        );
        assert_eq!(
            un.needs_action(&args(json!({"src": "a.tgz", "remote_src": "yes"}))),
            None
        );
        assert_eq!(un.needs_action(&args(json!({"src": "https://h/a.tgz"}))), None);
        // Templated: decided when the task runs, with the rendered arguments.
        assert_eq!(
            un.needs_action(&args(json!({"src": "a.tgz", "remote_src": "{{ r }}"}))),
            None
        );
        assert_eq!(
            PythonModule::default().needs_action(&args(json!({"src": "x"}))),
            None
        );
    }

    #[test]
    fn undocumented_arguments_are_named_and_aliases_count() {
        let m = PythonModule {
            options: Some(vec![
                ("path".into(), vec!["dest".into()]),
                ("line".into(), vec![]),
            ]),
            ..PythonModule::default()
        };
        let args: Vec<String> = ["dest", "line", "lien", "_raw_params"].map(String::from).to_vec();
        assert_eq!(m.undocumented(&args), ["lien"]);
        assert_eq!(m.option_names(), ["dest", "line", "path"]);
        let none = PythonModule::default();
        assert!(none.undocumented(&args).is_empty());
    }

    #[test]
    fn the_json_object_is_found_among_other_output() {
        let out = "noise\n{\"changed\": true,\n \"x\": 1}\ntrailing\n";
        let m = json_object(out).unwrap_or_default();
        assert_eq!(m.get("x"), Some(&json!(1)));
        assert!(json_object("Traceback (most recent call last):\n  boom\n").is_none());
    }

    #[test]
    fn diffs_of_texts_and_values_are_shown() {
        let d = json!([{"before": "a\n", "after": "b\n", "before_header": "f"}, {"prepared": "x"}]);
        let shown = shown_diffs(&d);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].before_header, "f");
        let d = json!({"before": {"k": 1}, "after": {"k": 2}});
        assert!(shown_diffs(&d)[0].after.contains("\"k\": 2"));
    }
}
