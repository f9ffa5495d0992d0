//! Events from the runner and the views that show them (DESIGN habit 10).
//!
//! The runner sends [`Event`]s to one reporter task; the reporter prints plain lines (piped
//! output, CI logs) or an indicatif view (a terminal), keeps the recap counters, and builds the
//! `--json` document in the shape of Ansible's `json` stdout callback.

pub mod callback;
mod json;
pub mod view;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

pub use json::JsonReport;
pub use view::Reporter;

/// How one task ended on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Changed,
    Failed,
    Skipped,
    Unreachable,
}

/// Per-host counters of the recap, as Ansible counts them: `ok` includes changed tasks;
/// an ignored failure counts as ok and ignored; a rescued failure counts as rescued, not failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub failures: u32,
    pub skipped: u32,
    pub unreachable: u32,
    pub rescued: u32,
    pub ignored: u32,
}

impl HostStats {
    /// Whether anything was counted for the host (ansible-core's `AggregateStats.processed`):
    /// the recap and the JSON stats list only such hosts, so a play whose tasks all were
    /// filtered out (tags, `--start-at-task` with no match) recaps no host, as in Ansible.
    pub fn processed(&self) -> bool {
        *self != HostStats::default()
    }

    /// Counts one task result (the one place results are counted): `ok` includes changed
    /// tasks; a failure whose errors are `ignored` counts as ok and ignored, and as changed too
    /// when its result says `changed` (ansible-core's strategy counts it so).
    pub fn record(&mut self, status: Status, ignored: bool, changed: bool) {
        match status {
            Status::Ok => self.ok += 1,
            Status::Changed => {
                self.ok += 1;
                self.changed += 1;
            }
            Status::Skipped => self.skipped += 1,
            Status::Failed if ignored => {
                self.ok += 1;
                self.ignored += 1;
                self.changed += u32::from(changed);
            }
            Status::Failed => self.failures += 1,
            Status::Unreachable => self.unreachable += 1,
        }
    }

    /// A failure counted earlier was rescued (`rescue:` ran): it counts as rescued, not failed.
    pub fn rescue(&mut self) {
        self.failures = self.failures.saturating_sub(1);
        self.rescued += 1;
    }
}

/// Something that happened during a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// A play starts on these hosts.
    PlayStart {
        index: usize,
        name: String,
        hosts: Vec<String>,
        /// Where the play is: `FILE:LINE` (the json callback's `play.path`).
        path: String,
    },
    /// A host starts a task (progress display only).
    TaskStart {
        host: String,
        task: String,
        /// The task's id (as [`TaskReport::task_id`]).
        task_id: usize,
        /// Where the task is (the json callback's `task.path` is its `FILE:LINE`; the default
        /// callback's error block quotes the lines around it).
        mark: crate::yaml::Mark,
    },
    /// A task (or one loop item) finished on a host.
    TaskResult(TaskReport),
    /// A loop finished on a host (its items were sent as [`Event::TaskResult`]s): the loop's
    /// overall status, for views that show a line for it (a loop whose items all skipped, an
    /// ignored failure).
    LoopDone(TaskReport),
    /// A warning for the user.
    Warning(String),
    /// Information shown with `-v` and more (never in `--json`), on stderr.
    Note(String),
    /// An error that ends the run early (shown as `[ERROR]: ...`, on stderr), e.g. "User
    /// interrupted execution".
    Error(String),
    /// Everything sent before is written: the view flushes its output and notifies (before a
    /// play's `vars_prompt` asks on the terminal).
    Flush(std::sync::Arc<tokio::sync::Notify>),
    /// The run is over: final per-host counters and elapsed time.
    Done {
        stats: BTreeMap<String, HostStats>,
        elapsed: Duration,
    },
}

/// The result of one task on one host, ready to show.
#[derive(Debug, Clone)]
pub struct TaskReport {
    pub play: usize,
    pub task_id: usize,
    pub task_name: String,
    pub host: String,
    pub status: Status,
    /// Whether a failure was ignored (`ignore_errors`).
    pub ignored: bool,
    /// The loop item label, for one item of a loop.
    pub item: Option<String>,
    /// The registered result (already masked; `no_log` already applied).
    pub result: Value,
    /// Unified diffs to show with `--diff`.
    pub diff: Vec<String>,
    /// Whether this is a handler.
    pub handler: bool,
    /// The task's action (`debug`, `command`, ...), as ansible-core's result `action`.
    pub action: String,
    /// The host the task was delegated to, as the default callback labels it (`h2`, or
    /// `h2(ADDRESS)` when its `ansible_host` differs from its name).
    pub delegated: Option<String>,
}

impl TaskReport {
    /// A report of `status` and `result` for task `task_id` (`task_name` as shown) on `host` in
    /// play `play`: no loop item, no diff, not ignored, not a handler until said otherwise.
    pub fn new(
        play: usize,
        task_id: usize,
        task_name: &str,
        host: &str,
        status: Status,
        result: Value,
    ) -> Self {
        TaskReport {
            play,
            task_id,
            task_name: task_name.to_string(),
            host: host.to_string(),
            status,
            ignored: false,
            item: None,
            result,
            diff: Vec::new(),
            handler: false,
            action: String::new(),
            delegated: None,
        }
    }

    /// The same report of a task delegated to the host labelled `label`.
    pub fn delegated(mut self, label: Option<String>) -> Self {
        self.delegated = label;
        self
    }

    /// The same report with the task's action.
    pub fn action(mut self, action: String) -> Self {
        self.action = action;
        self
    }

    /// The same report for one loop item (its label).
    pub fn item(mut self, label: String) -> Self {
        self.item = Some(label);
        self
    }

    /// The same report with unified diffs.
    pub fn diff(mut self, diff: Vec<String>) -> Self {
        self.diff = diff;
        self
    }

    /// The same report, its failure ignored (`ignore_errors`) or not.
    pub fn ignored(mut self, ignored: bool) -> Self {
        self.ignored = ignored;
        self
    }

    /// The same report, of a handler or not.
    pub fn handler(mut self, handler: bool) -> Self {
        self.handler = handler;
        self
    }
}

/// `FILE:LINE` with the file made absolute, as ansible-core's `get_path()` gives a play's or a
/// task's place in the json callback.
pub fn place(mark: &crate::yaml::Mark) -> String {
    let file = std::path::absolute(mark.file.as_path()).unwrap_or_else(|_| mark.file.to_path_buf());
    format!("{}:{}", file.display(), mark.line)
}
