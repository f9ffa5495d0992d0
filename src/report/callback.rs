//! The human output of a run, shaped like ansible-core's `default` stdout callback: `PLAY [..]`,
//! `TASK [role : name]` and `RUNNING HANDLER [..]` banners padded with `*` to 79 columns,
//! `ok: [host]`, `changed: [host] => (item=x)`, `skipping: [host]`,
//! `fatal: [host]: FAILED! => {...}` with `...ignoring`, results dumped as Python's
//! `json.dumps(sort_keys=True)` (indented by 4 for `debug` and `assert`, which ansible-core
//! always shows, and from `-vvv`), and the `PLAY RECAP` table. Colors as ansible-core's
//! (`ok` green, `changed` yellow, `skipping` cyan, failures red), only on a terminal and
//! never with `NO_COLOR` or `ANSIBLE_NOCOLOR` set (`ANSIBLE_FORCE_COLOR` forces them).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::Value;

use super::{HostStats, Status, TaskReport};

/// ansible-core's `Display.columns` when stdout is not a terminal: banners are this wide.
const COLUMNS: usize = 79;

/// ansible-core's color names, as ANSI SGR codes (`ansible.utils.color`).
const GREEN: &str = "0;32";
const YELLOW: &str = "0;33";
const CYAN: &str = "0;36";
const RED: &str = "0;31";
const BRIGHT_RED: &str = "1;31";
const BRIGHT_PURPLE: &str = "1;35";

/// Whether output is colored: on a terminal (or `ANSIBLE_FORCE_COLOR`), unless `NO_COLOR` or
/// `ANSIBLE_NOCOLOR` is set (ansible-core's `ANSIBLE_NOCOLOR`/`ANSIBLE_FORCE_COLOR`, and the
/// `NO_COLOR` convention it honours).
pub fn colors_wanted(terminal: bool) -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    if set("NO_COLOR") || set("ANSIBLE_NOCOLOR") {
        return false;
    }
    terminal || set("ANSIBLE_FORCE_COLOR")
}

/// Formats events as the default callback prints them.
pub struct Callback {
    colors: bool,
    verbosity: u8,
    /// The task whose banner was printed last: (play, task id, handler).
    last_banner: Option<(usize, usize, bool)>,
    /// Where each task is, for the error block before a failure.
    marks: std::collections::HashMap<usize, crate::yaml::Mark>,
    /// (play, task id, host) whose error block was printed (once per task and host; ids of
    /// imported playbooks repeat across plays).
    errored: std::collections::HashSet<(usize, usize, String)>,
    /// Source files read for error blocks, by path.
    sources: std::collections::HashMap<std::path::PathBuf, Vec<String>>,
}

impl Callback {
    /// A formatter; `colors` from [`colors_wanted`], `verbosity` the `-v` count.
    pub fn new(colors: bool, verbosity: u8) -> Self {
        Callback {
            colors,
            verbosity,
            last_banner: None,
            marks: std::collections::HashMap::new(),
            errored: std::collections::HashSet::new(),
            sources: std::collections::HashMap::new(),
        }
    }

    /// Remembers where task `id` is (from its start event).
    pub fn task_mark(&mut self, id: usize, mark: crate::yaml::Mark) {
        self.marks.insert(id, mark);
    }

    /// ansible-core 2.19's error block before a task's first failure on a host:
    /// `[ERROR]: Task failed: Module failed: MSG` (`Action failed` for actions that run on the
    /// controller), `Origin: FILE:LINE:COLUMN`, then the task's line and the two before it,
    /// numbered, with a caret under the column.
    fn error_block(&mut self, r: &TaskReport) -> Vec<String> {
        // A `no_log` result shows nothing more than its censored line: ansible-core prints the
        // block (and the task's source lines, which may hold the very values) anyway.
        if r.result.get("censored").is_some() || !self.errored.insert((r.play, r.task_id, r.host.clone())) {
            return Vec::new();
        }
        let msg = r.result.get("msg").map_or_else(String::new, |m| match m {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let head = if msg.starts_with("Task failed") {
            msg
        } else if matches!(
            short(&r.action),
            "fail"
                | "assert"
                | "debug"
                | "set_fact"
                | "include_vars"
                | "add_host"
                | "group_by"
                | "pause"
                | "meta"
        ) {
            format!("Task failed: Action failed: {msg}")
        } else {
            format!("Task failed: Module failed: {msg}")
        };
        let mut out = vec![format!("[ERROR]: {head}")];
        let Some(mark) = self.marks.get(&r.task_id).cloned() else {
            return vec![self.paint(RED, &out.join("\n"))];
        };
        let file = std::path::absolute(mark.file.as_path()).unwrap_or_else(|_| mark.file.to_path_buf());
        out.push(format!(
            "Origin: {}:{}:{}",
            file.display(),
            mark.line,
            mark.column
        ));
        let lines = self.sources.entry(file.clone()).or_insert_with(|| {
            crate::input::read_text(&file)
                .map(|t| t.lines().map(str::to_string).collect())
                .unwrap_or_default()
        });
        let line = usize::try_from(mark.line).unwrap_or(0);
        if line >= 1 && line <= lines.len() {
            out.push(String::new());
            let first = line.saturating_sub(2).max(1);
            let width = line.to_string().len();
            for n in first..=line {
                out.push(format!("{n:>width$} {}", lines[n - 1]));
            }
            let pad = width + usize::try_from(mark.column).unwrap_or(1).max(1);
            out.push(format!("{}^ column {}", " ".repeat(pad), mark.column));
        }
        out.push(String::new());
        vec![self.paint(RED, &out.join("\n"))]
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if !self.colors {
            return text.to_string();
        }
        text.split('\n')
            .map(|l| format!("\x1b[{code}m{l}\x1b[0m"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `PLAY [name]` (or `PLAY` for a play without a name).
    pub fn play_start(&mut self, name: &str) -> String {
        self.last_banner = None;
        let name = name.trim();
        if name.is_empty() {
            banner("PLAY")
        } else {
            banner(&format!("PLAY [{name}]"))
        }
    }

    /// The lines of one result (a task's, or one loop item's), after the task's banner when
    /// it is the first result of its task.
    pub fn result(&mut self, r: &TaskReport) -> Vec<String> {
        let mut out = self.banner_for(r);
        // A diff (only when diff mode was on for the task) comes before the status line.
        out.extend(r.diff.iter().cloned());
        // A delegated task reads `[host -> delegate]`.
        let host = &match &r.delegated {
            Some(d) => format!("{} -> {d}", r.host),
            None => r.host.clone(),
        };
        let action = r.action.as_str();
        let always = shows_always(action, &r.result);
        let verbose = always || self.verbosity > 0;
        match (&r.item, r.status) {
            (None, Status::Ok | Status::Changed) => {
                let (label, color) = if r.status == Status::Changed {
                    ("changed", YELLOW)
                } else {
                    ("ok", GREEN)
                };
                let mut line = format!("{label}: [{host}]");
                if verbose {
                    line.push_str(" => ");
                    line.push_str(&self.dump(action, &r.result, always));
                }
                out.push(self.paint(color, &line));
            }
            (Some(item), Status::Ok | Status::Changed) => {
                let (label, color) = if r.status == Status::Changed {
                    ("changed", YELLOW)
                } else {
                    ("ok", GREEN)
                };
                let mut line = format!("{label}: [{host}] => (item={item})");
                if verbose {
                    line.push_str(" => ");
                    line.push_str(&self.dump(action, &r.result, always));
                }
                out.push(self.paint(color, &line));
            }
            (None, Status::Skipped) => {
                let mut line = format!("skipping: [{host}]");
                if self.verbosity > 0 {
                    line.push_str(" => ");
                    line.push_str(&self.dump(action, &r.result, false));
                }
                out.push(self.paint(CYAN, &line));
            }
            (Some(item), Status::Skipped) => {
                let mut line = format!("skipping: [{host}] => (item={item}) ");
                if self.verbosity > 0 {
                    line.push_str(" => ");
                    line.push_str(&self.dump(action, &r.result, false));
                }
                out.push(self.paint(CYAN, &line));
            }
            (None, Status::Failed) => {
                out.extend(self.error_block(r));
                // A debug that failed before it ran (its arguments did not render) has no
                // `_ansible_verbose_always`: its result is dumped on one line.
                let always = always && short(action) != "debug";
                let line = format!(
                    "fatal: [{host}]: FAILED! => {}",
                    self.dump(action, &r.result, always)
                );
                out.push(self.paint(RED, &line));
                if r.ignored {
                    out.push(self.paint(CYAN, "...ignoring"));
                }
            }
            (Some(item), Status::Failed) => {
                out.extend(self.error_block(r));
                let line = format!(
                    "failed: [{host}] (item={item}) => {}",
                    self.dump(action, &r.result, always)
                );
                out.push(self.paint(RED, &line));
            }
            (_, Status::Unreachable) => {
                let line = format!(
                    "fatal: [{host}]: UNREACHABLE! => {}",
                    self.dump(action, &r.result, false)
                );
                out.push(self.paint(BRIGHT_RED, &line));
            }
        }
        out
    }

    /// One ad-hoc result as ansible's `minimal` callback prints it (`HOST | CHANGED => {...}`,
    /// `HOST | CHANGED | rc=0 >>` then the output for command/shell/raw), or with `one_line`
    /// as its `oneline` callback (`HOST | CHANGED | rc=0 | (stdout) ...`, JSON on one line).
    ///
    /// A failure without `-o` comes after ansible-core 2.19's error block: `[ERROR]: Task
    /// failed: Module failed: MSG`, `Origin: ...` and the task as `view.origin` quotes it.
    pub fn adhoc(&self, r: &TaskReport, view: &super::view::AdhocView) -> Vec<String> {
        let one_line = view.one_line;
        let host = &r.host;
        let action = r.action.as_str();
        let command_like = matches!(short(action), "command" | "shell" | "raw");
        let mut result = r.result.clone();
        if let Value::Object(m) = &mut result {
            let changed = r.status == Status::Changed || m.get("changed") == Some(&Value::Bool(true));
            m.insert("changed".into(), Value::Bool(changed));
        }
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let rc = result
            .get("rc")
            .map_or_else(|| "-1".to_string(), ToString::to_string);
        let generic = |state: &str| {
            if one_line {
                let esc = |s: String| s.replace('\n', "\\n").replace('\r', "\\r");
                let stdout = esc(text(&result, "stdout"));
                let stderr = esc(text(&result, "stderr"));
                if stderr.is_empty() {
                    format!("{host} | {state} | rc={rc} | (stdout) {stdout}")
                } else {
                    format!("{host} | {state} | rc={rc} | (stdout) {stdout} (stderr) {stderr}")
                }
            } else {
                format!(
                    "{host} | {state} | rc={rc} >>\n{}{}{}",
                    text(&result, "stdout"),
                    text(&result, "stderr"),
                    text(&result, "msg")
                )
            }
        };
        let json = |v: &Value| {
            if one_line {
                one_line_json(&self.dump(action, v, true))
            } else {
                self.dump(action, v, true)
            }
        };
        match r.status {
            Status::Ok | Status::Changed => {
                let (state, color) = if r.status == Status::Changed {
                    ("CHANGED", YELLOW)
                } else {
                    ("SUCCESS", GREEN)
                };
                let line = if command_like && result.get("ansible_job_id").is_none() {
                    generic(state)
                } else {
                    format!("{host} | {state} => {}", json(&result))
                };
                vec![self.paint(color, &line)]
            }
            Status::Failed => {
                let plain_command = command_like && result.get("module_stderr").is_none();
                if one_line {
                    let first = if plain_command {
                        generic("FAILED")
                    } else {
                        "An exception occurred during task execution. To see the full traceback, use -vvv. The error was: (traceback unavailable)".to_string()
                    };
                    vec![
                        self.paint(RED, &first),
                        self.paint(RED, &format!("{host} | FAILED! => {}", json(&result))),
                    ]
                } else {
                    let error = format!(
                        "[ERROR]: Task failed: Module failed: {}\n{}",
                        text(&result, "msg"),
                        view.origin
                    );
                    let line = if plain_command {
                        generic("FAILED")
                    } else {
                        format!("{host} | FAILED! => {}", json(&result))
                    };
                    vec![self.paint(RED, &error), self.paint(RED, &line)]
                }
            }
            Status::Skipped => vec![self.paint(CYAN, &format!("{host} | SKIPPED"))],
            Status::Unreachable => {
                let line = if one_line {
                    format!("{host} | UNREACHABLE!: {}", text(&result, "msg"))
                } else {
                    format!("{host} | UNREACHABLE! => {}", json(&result))
                };
                vec![self.paint(BRIGHT_RED, &line)]
            }
        }
    }

    /// What ansible-core prints when a loop ends on a host: `skipping: [host]` when every item
    /// skipped, `...ignoring` after an ignored failure, else nothing (the items were shown).
    pub fn loop_done(&mut self, r: &TaskReport) -> Vec<String> {
        match r.status {
            Status::Skipped => {
                let mut out = self.banner_for(r);
                out.push(self.paint(CYAN, &format!("skipping: [{}]", r.host)));
                out
            }
            Status::Failed if r.ignored => vec![self.paint(CYAN, "...ignoring")],
            _ => Vec::new(),
        }
    }

    /// A warning line, as ansible-core's `Display.warning` prints it.
    pub fn warning(&self, w: &str) -> String {
        self.paint(BRIGHT_PURPLE, &format!("[WARNING]: {w}"))
    }

    /// The task's banner when `r` is the first result shown of its task.
    fn banner_for(&mut self, r: &TaskReport) -> Vec<String> {
        let key = (r.play, r.task_id, r.handler);
        if self.last_banner == Some(key) {
            return Vec::new();
        }
        self.last_banner = Some(key);
        let prefix = if r.handler { "RUNNING HANDLER" } else { "TASK" };
        vec![banner(&format!("{prefix} [{}]", r.task_name.trim()))]
    }

    /// A result as the callback's `_dump_results` writes it: internal keys, `invocation` and
    /// `diff` (below `-vvv`) and warnings left out, keys sorted, indented by 4 for results
    /// shown always and from `-vvv`, else on one line with Python's separators.
    fn dump(&self, action: &str, result: &Value, always: bool) -> String {
        let mut shown = clean(action, result);
        if let Value::Object(m) = &mut shown {
            m.retain(|k, _| !k.starts_with("_ansible_"));
            if self.verbosity < 3 {
                m.remove("invocation");
                m.remove("diff");
            }
            // ansible-core's callbacks see the status flags apart from the result.
            for k in ["exception", "warnings", "deprecations", "failed"] {
                m.remove(k);
            }
        }
        python_json(&shown, always || self.verbosity > 2)
    }

    /// The `PLAY RECAP` banner and one line per host, as the callback's `v2_playbook_on_stats`.
    pub fn recap(&self, stats: &BTreeMap<String, HostStats>) -> String {
        let mut s = banner("PLAY RECAP");
        s.remove(0);
        s.push('\n');
        let count = |lead: &str, n: u32, color: &str| {
            let text = format!("{lead}={n:<4}");
            if n != 0 { self.paint(color, &text) } else { text }
        };
        for (host, st) in stats.iter().filter(|(_, st)| st.processed()) {
            let shown_host = if self.colors {
                let color = if st.failures != 0 || st.unreachable != 0 {
                    RED
                } else if st.changed != 0 {
                    YELLOW
                } else {
                    GREEN
                };
                format!("{:<37}", self.paint(color, host))
            } else {
                format!("{host:<26}")
            };
            s.push_str(&format!(
                "{shown_host} : {} {} {} {} {} {} {}\n",
                count("ok", st.ok, GREEN),
                count("changed", st.changed, YELLOW),
                count("unreachable", st.unreachable, BRIGHT_RED),
                count("failed", st.failures, RED),
                count("skipped", st.skipped, CYAN),
                count("rescued", st.rescued, GREEN),
                count("ignored", st.ignored, BRIGHT_PURPLE),
            ));
        }
        s
    }
}

/// `\n<msg> <stars>`: ansible-core's `Display.banner` at [`COLUMNS`] (at least 3 stars).
pub fn banner(msg: &str) -> String {
    let stars = COLUMNS.saturating_sub(msg.chars().count()).max(3);
    format!("\n{msg} {}", "*".repeat(stars))
}

/// Whether ansible-core always shows this result (`_ansible_verbose_always`: `debug`, and
/// `assert` unless `quiet`), unless it asks not to (`_ansible_verbose_override`).
fn shows_always(action: &str, result: &Value) -> bool {
    if result.get("_ansible_verbose_override").is_some() {
        return false;
    }
    result.get("_ansible_verbose_always").is_some()
        || matches!(short(action), "debug")
        || (short(action) == "assert" && result.get("msg").is_some())
}

fn short(action: &str) -> &str {
    action
        .strip_prefix("ansible.builtin.")
        .or_else(|| action.strip_prefix("ansible.legacy."))
        .unwrap_or(action)
}

/// The callback's `_clean_results`: a `debug` result shows its `msg` alone, or its variable.
fn clean(action: &str, result: &Value) -> Value {
    let mut shown = result.clone();
    if short(action) != "debug" {
        return shown;
    }
    if let Value::Object(m) = &mut shown {
        if m.contains_key("msg") {
            m.retain(|k, _| {
                matches!(k.as_str(), "msg" | "exception" | "warnings" | "deprecations") || k.starts_with('_')
            });
        } else {
            for k in ["changed", "failed", "skipped", "invocation", "skip_reason"] {
                m.remove(k);
            }
        }
    }
    shown
}

/// Python's `json.dumps(v, sort_keys=True, ensure_ascii=False, indent=4 if indent else None)`.
pub fn python_json(v: &Value, indent: bool) -> String {
    let sorted = sort_keys(v);
    let mut out = Vec::new();
    let result = if indent {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            serde_json::ser::PrettyFormatter::with_indent(b"    "),
        );
        serde::Serialize::serialize(&sorted, &mut ser)
    } else {
        let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonCompact);
        serde::Serialize::serialize(&sorted, &mut ser)
    };
    match result {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => sorted.to_string(),
    }
}

/// The oneline callback's JSON: `json.dumps(indent=0)` with the newlines removed, i.e. the
/// indented dump with each line's leading indentation and its newline dropped.
fn one_line_json(indented: &str) -> String {
    indented.lines().map(str::trim_start).collect()
}

/// A copy of `v` with every mapping's keys in sorted order.
fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Python's default JSON separators on one line: `", "` and `": "`.
struct PythonCompact;

impl serde_json::ser::Formatter for PythonCompact {
    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(status: Status, action: &str, result: Value) -> TaskReport {
        TaskReport::new(0, 1, "t", "h1", status, result).action(action.into())
    }

    #[test]
    fn lines_as_the_default_callback_prints_them() {
        let mut c = Callback::new(false, 0);
        let lines = c.result(&report(
            Status::Ok,
            "debug",
            json!({"msg": "hi", "changed": false, "failed": false}),
        ));
        assert_eq!(lines[0], format!("\nTASK [t] {}", "*".repeat(71)));
        assert_eq!(lines[1], "ok: [h1] => {\n    \"msg\": \"hi\"\n}");
        let lines = c.result(&report(Status::Changed, "command", json!({"rc": 0})));
        assert_eq!(lines, vec!["changed: [h1]"]);
        let r = report(
            Status::Failed,
            "command",
            json!({"rc": 1, "cmd": ["false"], "msg": "é", "_ansible_no_log": false}),
        )
        .ignored(true);
        assert_eq!(
            c.result(&r),
            vec![
                "[ERROR]: Task failed: Module failed: é",
                r#"fatal: [h1]: FAILED! => {"cmd": ["false"], "msg": "é", "rc": 1}"#,
                "...ignoring"
            ]
        );
        let r = report(Status::Skipped, "command", json!({})).item("2".into());
        assert_eq!(c.result(&r), vec!["skipping: [h1] => (item=2) "]);
        assert_eq!(
            c.loop_done(&report(Status::Skipped, "command", Value::Null)),
            vec!["skipping: [h1]"]
        );
        let r = report(Status::Changed, "command", json!({})).delegated(Some("h2(10.0.0.2)".into()));
        assert_eq!(c.result(&r), vec!["changed: [h1 -> h2(10.0.0.2)]"]);
        let r = report(Status::Ok, "debug", json!({"xs": [1], "changed": false})).item("a".into());
        assert_eq!(
            c.result(&r),
            vec!["ok: [h1] => (item=a) => {\n    \"xs\": [\n        1\n    ]\n}"]
        );
    }

    #[test]
    fn a_failure_comes_after_ansible_cores_error_block_once_per_task_and_host() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.yml");
        let text = (1..=9)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n")
            + "\n    - command: \"false\"\n";
        std::fs::write(&file, text).unwrap();
        let mut c = Callback::new(false, 0);
        let mark = crate::yaml::Mark {
            file: std::sync::Arc::new(file.clone()),
            line: 10,
            column: 7,
        };
        c.task_mark(1, mark);
        let r = report(
            Status::Failed,
            "command",
            json!({"msg": "non-zero return code", "rc": 1}),
        );
        let lines = c.result(&r);
        assert_eq!(
            lines[1],
            format!(
                "[ERROR]: Task failed: Module failed: non-zero return code\nOrigin: {}:10:7\n\n 8 line 8\n 9 line 9\n10     - command: \"false\"\n         ^ column 7\n",
                file.display()
            )
        );
        assert_eq!(
            lines[2],
            r#"fatal: [h1]: FAILED! => {"msg": "non-zero return code", "rc": 1}"#
        );
        // Once per task and host (a loop's second failed item has none).
        assert_eq!(c.result(&r.clone().item("2".into())).len(), 1);
        let f = report(Status::Failed, "fail", json!({"msg": "boom"}));
        assert!(
            Callback::new(false, 0).result(&f)[1].starts_with("[ERROR]: Task failed: Action failed: boom")
        );
    }

    #[test]
    fn adhoc_lines_as_the_minimal_and_oneline_callbacks_print_them() {
        let c = Callback::new(false, 0);
        let minimal = crate::report::view::AdhocView {
            one_line: false,
            origin: "Origin: <adhoc 'shell' task>\n\n{}\n".into(),
        };
        let oneline = crate::report::view::AdhocView {
            one_line: true,
            origin: String::new(),
        };
        let ping = report(Status::Ok, "ping", json!({"ping": "pong"}));
        assert_eq!(
            c.adhoc(&ping, &minimal),
            vec!["h1 | SUCCESS => {\n    \"changed\": false,\n    \"ping\": \"pong\"\n}"]
        );
        assert_eq!(
            c.adhoc(&ping, &oneline),
            vec![r#"h1 | SUCCESS => {"changed": false,"ping": "pong"}"#]
        );
        let cmd = report(
            Status::Changed,
            "command",
            json!({"rc": 0, "stdout": "hi\nthere", "stderr": ""}),
        );
        assert_eq!(c.adhoc(&cmd, &minimal), vec!["h1 | CHANGED | rc=0 >>\nhi\nthere"]);
        assert_eq!(
            c.adhoc(&cmd, &oneline),
            vec![r"h1 | CHANGED | rc=0 | (stdout) hi\nthere"]
        );
        let bad = report(
            Status::Failed,
            "ansible.builtin.shell",
            json!({"rc": 2, "stdout": "out", "stderr": "err", "msg": "non-zero return code"}),
        );
        assert_eq!(
            c.adhoc(&bad, &minimal),
            vec![
                "[ERROR]: Task failed: Module failed: non-zero return code\nOrigin: <adhoc 'shell' task>\n\n{}\n",
                "h1 | FAILED | rc=2 >>\nouterrnon-zero return code"
            ]
        );
        assert_eq!(
            c.adhoc(&bad, &oneline)[0],
            "h1 | FAILED | rc=2 | (stdout) out (stderr) err"
        );
        assert!(
            c.adhoc(&bad, &oneline)[1]
                .starts_with(r#"h1 | FAILED! => {"changed": false,"msg": "non-zero return code","rc": 2,"#)
        );
    }

    #[test]
    fn the_recap_and_banners_are_as_wide_as_ansibles() {
        let c = Callback::new(false, 0);
        let mut stats = BTreeMap::new();
        stats.insert(
            "h1".to_string(),
            HostStats {
                ok: 8,
                changed: 5,
                failures: 1,
                ..HostStats::default()
            },
        );
        assert_eq!(
            c.recap(&stats),
            format!(
                "PLAY RECAP {}\nh1                         : ok=8    changed=5    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0   \n",
                "*".repeat(69)
            )
        );
        assert_eq!(banner(&"x".repeat(90)), format!("\n{} ***", "x".repeat(90)));
        let colored = Callback::new(true, 0);
        assert!(colored.recap(&stats).contains("\x1b[0;31mh1\x1b[0m"));
    }
}
