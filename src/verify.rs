//! `talon verify`: is every host what the playbook says it should be?
//!
//! Two stages, both across the whole inventory in parallel:
//! - **drift**: every play that is not a verification play runs in check mode; any task that
//!   would change something is drift (a deployed file edited by hand, a stopped service, a
//!   missing package), reported with the task's name. Nothing is changed.
//! - **checks**: the verification plays (a play named `verify`, or tagged `verify`) run for real;
//!   they are read-only by convention. Each task is one check; a failed task is a failed check
//!   with its message.
//!
//! The result is a table (check x host: PASS / FAIL / SKIP / UNREACHABLE) followed by the
//! reasons of every failure, and the exit code is 0 only when every check passed everywhere.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::Config;
use crate::inventory::Inventory;
use crate::playbook::{Play, Playbook};
use crate::report::{Event, Reporter, Status, TaskReport};
use crate::runner::Runner;

/// Name of the pseudo-check that holds the drift stage's result.
pub const DRIFT: &str = "config drift (check mode: nothing would change)";

/// One cell of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(String),
    Skip,
    Unreachable(String),
}

impl Verdict {
    fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail(_) => "FAIL",
            Verdict::Skip => "skip",
            Verdict::Unreachable(_) => "UNREACHABLE",
        }
    }
}

/// The outcome of `talon verify`: check name (in playbook order) -> host -> verdict.
#[derive(Debug, Default)]
pub struct Report {
    pub checks: Vec<String>,
    pub cells: BTreeMap<String, BTreeMap<String, Verdict>>,
    pub hosts: Vec<String>,
}

impl Report {
    fn set(&mut self, check: &str, host: &str, v: Verdict) {
        if !self.checks.iter().any(|c| c == check) {
            self.checks.push(check.to_string());
        }
        if !self.hosts.iter().any(|h| h == host) {
            self.hosts.push(host.to_string());
        }
        let row = self.cells.entry(check.to_string()).or_default();
        // A failure for a check (e.g. one loop item) is never hidden by a later pass.
        match (row.get(host), &v) {
            (Some(Verdict::Fail(_)), _) | (Some(Verdict::Unreachable(_)), _) => {}
            (Some(Verdict::Pass), Verdict::Skip) => {}
            _ => {
                row.insert(host.to_string(), v);
            }
        }
    }

    /// True when every cell passed (skips count as passed: the check did not apply).
    pub fn all_passed(&self) -> bool {
        self.cells
            .values()
            .flat_map(|r| r.values())
            .all(|v| matches!(v, Verdict::Pass | Verdict::Skip))
    }

    /// Exit code: 0 all passed, 4 a host was unreachable, 2 a check failed, 1 nothing was
    /// verified (no host, or no check: "0/0 checks passed" must not read as success).
    pub fn exit_code(&self) -> i32 {
        let cells = || self.cells.values().flat_map(|r| r.values());
        if cells().next().is_none() {
            return crate::error::EXIT_ERROR;
        }
        crate::error::Ending {
            interrupted: false,
            unreachable: cells().any(|v| matches!(v, Verdict::Unreachable(_))),
            failed: cells().any(|v| matches!(v, Verdict::Fail(_))),
        }
        .exit_code()
    }

    /// The table and, below it, every failure's reason.
    pub fn render(&self) -> String {
        let mut hosts = self.hosts.clone();
        hosts.sort();
        let width = self
            .checks
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(5)
            .clamp(5, 70);
        let col = hosts.iter().map(String::len).max().unwrap_or(4).max(11);
        let mut s = format!("{:<width$}", "CHECK");
        for h in &hosts {
            s.push_str(&format!("  {h:<col$}"));
        }
        s.push('\n');
        for c in &self.checks {
            let name: String = c.chars().take(width).collect();
            s.push_str(&format!("{name:<width$}"));
            for h in &hosts {
                let v = self
                    .cells
                    .get(c)
                    .and_then(|r| r.get(h))
                    .map(Verdict::label)
                    .unwrap_or("-");
                s.push_str(&format!("  {v:<col$}"));
            }
            s.push('\n');
        }
        let mut reasons = String::new();
        for c in &self.checks {
            for h in &hosts {
                if let Some(Verdict::Fail(r) | Verdict::Unreachable(r)) =
                    self.cells.get(c).and_then(|x| x.get(h))
                {
                    reasons.push_str(&format!("- {h}: {c}: {r}\n"));
                }
            }
        }
        if !reasons.is_empty() {
            s.push_str("\nFailures:\n");
            s.push_str(&reasons);
        }
        let total: usize = self.cells.values().map(BTreeMap::len).sum();
        let passed = self
            .cells
            .values()
            .flat_map(|r| r.values())
            .filter(|v| matches!(v, Verdict::Pass | Verdict::Skip))
            .count();
        s.push_str(&format!(
            "\n{passed}/{total} checks passed on {} host(s)",
            hosts.len()
        ));
        if total == 0 {
            s.push_str(
                "\nNothing was verified: no play matched a host; check the plays' `hosts:`, the inventory and --limit",
            );
        }
        s
    }
}

/// Whether a play is a verification play (named `verify`, or tagged `verify`).
pub fn is_verify_play(p: &Play) -> bool {
    p.name.eq_ignore_ascii_case("verify") || p.tags.iter().any(|t| t == "verify")
}

/// The reason shown for a failed check: the task's `msg`, or what the probe printed (stderr,
/// else stdout) when `msg` is empty (a `failed_when` failure) or only the command module's
/// generic "non-zero return code" (then the rc is kept: `<output> (rc=N)`). First 3 lines.
fn message(r: &TaskReport) -> String {
    let field = |key: &str| {
        r.result
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let mut msg = field("msg");
    let generic = msg == "non-zero return code";
    if msg.is_empty() || generic {
        let printed = [field("stderr"), field("stdout")]
            .into_iter()
            .find(|s| !s.is_empty());
        if let Some(printed) = printed {
            msg = match r.result.get("rc").and_then(Value::as_i64) {
                Some(rc) if generic => format!("{printed} (rc={rc})"),
                _ => printed,
            };
        }
    }
    if msg.is_empty() {
        msg = "failed".into();
    }
    if let Some(item) = &r.item {
        msg = format!("{msg} (item={item})");
    }
    msg.lines().take(3).collect::<Vec<_>>().join(" / ")
}

fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>) -> Vec<TaskReport> {
    let mut out = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let Event::TaskResult(r) = ev {
            out.push(r);
        }
    }
    out
}

/// Runs drift detection and the verification plays, and builds the report.
pub async fn verify(pb: &Playbook, inv: &Inventory, opts: &Config) -> Report {
    let mut report = Report::default();
    let (converge, checks): (Vec<Play>, Vec<Play>) =
        pb.plays.iter().cloned().partition(|p| !is_verify_play(p));
    // Drift: the converge plays in check mode.
    if !converge.is_empty() {
        let drift_pb = Playbook {
            plays: converge,
            ..pb.clone()
        };
        let drift_opts = Config {
            check: true,
            diff: false,
            ..opts.clone()
        };
        let (reporter, mut rx) = Reporter::collector();
        let summary = Runner::run(&drift_pb, inv, &drift_opts, reporter).await;
        let results = drain(&mut rx);
        let mut drifted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut failed: BTreeMap<String, String> = BTreeMap::new();
        for r in &results {
            match r.status {
                Status::Changed => drifted
                    .entry(r.host.clone())
                    .or_default()
                    .push(r.task_name.clone()),
                Status::Failed if !r.ignored => {
                    failed
                        .entry(r.host.clone())
                        .or_insert_with(|| format!("{}: {}", r.task_name, message(r)));
                }
                Status::Unreachable => {
                    failed
                        .entry(r.host.clone())
                        .or_insert_with(|| format!("unreachable: {}", message(r)));
                }
                _ => {}
            }
        }
        for (host, st) in &summary.stats {
            let v = if st.unreachable > 0 {
                Verdict::Unreachable(failed.get(host).cloned().unwrap_or_default())
            } else if let Some(tasks) = drifted.get(host) {
                let mut t = tasks.clone();
                t.dedup();
                Verdict::Fail(format!("would change: {}", t.join("; ")))
            } else if let Some(f) = failed.get(host) {
                Verdict::Fail(format!("check mode failed at {f}"))
            } else {
                Verdict::Pass
            };
            report.set(DRIFT, host, v);
        }
    }
    // Checks: the verification plays for real.
    if !checks.is_empty() {
        let check_pb = Playbook {
            plays: checks,
            ..pb.clone()
        };
        let check_opts = Config {
            check: false,
            keep_going: true,
            ..opts.clone()
        };
        let (reporter, mut rx) = Reporter::collector();
        Runner::run(&check_pb, inv, &check_opts, reporter).await;
        for r in drain(&mut rx) {
            if r.task_name == "Gathering Facts" && r.status == Status::Ok {
                continue;
            }
            let v = match r.status {
                Status::Ok | Status::Changed => Verdict::Pass,
                Status::Skipped => Verdict::Skip,
                Status::Failed if r.ignored => Verdict::Pass,
                Status::Failed => Verdict::Fail(message(&r)),
                Status::Unreachable => Verdict::Unreachable(message(&r)),
            };
            report.set(&r.task_name, &r.host, v);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_never_hidden_and_decides_the_exit_code() {
        let mut r = Report::default();
        r.set("a", "h1", Verdict::Pass);
        r.set(
            "a",
            "h2",
            Verdict::Fail("container openclaw is restarting".into()),
        );
        r.set("a", "h2", Verdict::Pass);
        r.set("b", "h1", Verdict::Skip);
        assert!(!r.all_passed());
        assert_eq!(r.exit_code(), 2);
        let text = r.render();
        assert!(
            text.contains("FAIL") && text.contains("- h2: a: container openclaw is restarting"),
            "{text}"
        );
        assert!(text.contains("2/3 checks passed on 2 host(s)"), "{text}");
        r.set("c", "h3", Verdict::Unreachable("timeout".into()));
        assert_eq!(r.exit_code(), 4);
    }

    fn failed(result: Value) -> TaskReport {
        TaskReport {
            play: 0,
            task_id: 0,
            task_name: "t".into(),
            host: "h".into(),
            status: Status::Failed,
            ignored: false,
            item: None,
            result,
            diff: vec![],
            handler: false,
            action: String::new(),
            delegated: None,
        }
    }

    #[test]
    fn a_probe_that_exits_non_zero_is_reported_by_what_it_printed() {
        let r = failed(serde_json::json!({
            "msg": "non-zero return code", "rc": 1,
            "stdout": "", "stderr": "model llama3.2:3b lacks tools capability (capabilities: completion)"
        }));
        assert_eq!(
            message(&r),
            "model llama3.2:3b lacks tools capability (capabilities: completion) (rc=1)"
        );
        // Silent probe: the generic message stays.
        let r =
            failed(serde_json::json!({"msg": "non-zero return code", "rc": 3, "stdout": "", "stderr": ""}));
        assert_eq!(message(&r), "non-zero return code");
        // failed_when (no msg): stderr first, then stdout.
        let r = failed(serde_json::json!({"msg": "", "rc": 0, "stdout": "exited", "stderr": ""}));
        assert_eq!(message(&r), "exited");
        // A module's own message wins over its output.
        let r = failed(serde_json::json!({"msg": "Could not find", "rc": 1, "stderr": "x"}));
        assert_eq!(message(&r), "Could not find");
    }
}
