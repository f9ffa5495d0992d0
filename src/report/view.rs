//! The reporter task: plain lines when piped, indicatif lines per host on a terminal, the recap.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;
use tokio::sync::mpsc;

use super::{Event, HostStats, JsonReport, Status, TaskReport};

/// What the reporter shows.
#[derive(Debug, Clone, Copy)]
pub struct ViewOptions {
    /// Print the `--json` document instead of human output.
    pub json: bool,
    /// `-v` count: 1 shows results of changed/failed tasks, 2 every result.
    pub verbosity: u8,
    /// Show diffs (`--diff`).
    pub diff: bool,
}

/// The handle the runner uses to send events; the reporter runs in its own task.
#[derive(Clone)]
pub struct Reporter {
    tx: mpsc::UnboundedSender<Event>,
}

impl Reporter {
    /// Starts the reporter task; returns the handle and the task to await at the end (it yields
    /// the final per-host stats).
    pub fn start(opts: ViewOptions) -> (Reporter, tokio::task::JoinHandle<BTreeMap<String, HostStats>>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = tokio::spawn(run(rx, opts));
        (Reporter { tx }, handle)
    }

    /// A reporter whose events go to the caller instead of a view (for commands such as
    /// `talon verify` that present results their own way).
    pub fn collector() -> (Reporter, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Reporter { tx }, rx)
    }

    /// Sends an event (dropped silently if the reporter is gone: output is best effort).
    pub fn send(&self, e: Event) {
        let _ = self.tx.send(e);
    }
}

struct Tty {
    multi: MultiProgress,
    hosts: BTreeMap<String, ProgressBar>,
    style: ProgressStyle,
}

async fn run(mut rx: mpsc::UnboundedReceiver<Event>, opts: ViewOptions) -> BTreeMap<String, HostStats> {
    let mut json = JsonReport::default();
    let mut final_stats = BTreeMap::new();
    let mut tty = (!opts.json && std::io::stdout().is_terminal()).then(|| Tty {
        multi: MultiProgress::new(),
        hosts: BTreeMap::new(),
        style: ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    });
    let mut out = std::io::stdout();
    let mut print = |tty: &Option<Tty>, line: String| {
        if opts.json {
            return;
        }
        match tty {
            Some(t) => {
                let _ = t.multi.println(line);
            }
            None => {
                let _ = writeln!(out, "{line}");
            }
        }
    };
    while let Some(ev) = rx.recv().await {
        match ev {
            Event::PlayStart { index, name, hosts } => {
                json.play_start(index, &name);
                print(&tty, format!("\nPLAY [{name}] {}", stars(&name)));
                if hosts.is_empty() {
                    print(&tty, "skipping: no hosts matched".into());
                }
            }
            Event::TaskStart { host, task } => {
                if let Some(t) = tty.as_mut() {
                    let bar = t.hosts.entry(host.clone()).or_insert_with(|| {
                        let b = t.multi.add(ProgressBar::new_spinner());
                        b.set_style(t.style.clone());
                        b.set_prefix(host.clone());
                        b.enable_steady_tick(Duration::from_millis(120));
                        b
                    });
                    bar.set_message(task);
                }
            }
            Event::TaskResult(r) => {
                json.task_result(&r);
                let line = result_line(&r, opts);
                print(&tty, line);
                // A result carries a diff only when diff mode was on for its task (`--diff`,
                // or the `diff` keyword on the task, block or play).
                for d in &r.diff {
                    print(&tty, d.clone());
                }
            }
            Event::Warning(w) => {
                if !opts.json {
                    if let Some(t) = &tty {
                        let _ = t.multi.println(format!("[WARNING]: {w}"));
                    } else {
                        eprintln!("[WARNING]: {w}");
                    }
                }
            }
            Event::Note(n) => {
                if !opts.json && opts.verbosity > 0 {
                    if let Some(t) = &tty {
                        let _ = t.multi.println(n);
                    } else {
                        eprintln!("{n}");
                    }
                }
            }
            Event::Error(e) => {
                if let Some(t) = &tty {
                    let _ = t.multi.println(format!("[ERROR]: {e}"));
                } else {
                    eprintln!("[ERROR]: {e}");
                }
            }
            Event::Done { stats, elapsed } => {
                if let Some(t) = tty.take() {
                    for b in t.hosts.values() {
                        b.finish_and_clear();
                    }
                    let _ = t.multi.clear();
                }
                if opts.json {
                    let doc = json.finish(&stats, elapsed);
                    let text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
                    let _ = writeln!(std::io::stdout(), "{text}");
                } else {
                    let _ = writeln!(std::io::stdout(), "\n{}", recap(&stats, elapsed));
                }
                final_stats = stats;
            }
        }
    }
    final_stats
}

fn stars(title: &str) -> String {
    "*".repeat(70usize.saturating_sub(title.len() + 8).max(3))
}

/// The `PLAY RECAP` table, in Ansible's layout, and the elapsed time.
pub fn recap(stats: &BTreeMap<String, HostStats>, elapsed: Duration) -> String {
    let width = stats.keys().map(String::len).max().unwrap_or(0).max(20);
    let mut s = format!("PLAY RECAP {}\n", "*".repeat(60));
    for (host, st) in stats {
        s.push_str(&format!(
            "{host:<width$} : ok={:<4} changed={:<4} unreachable={:<4} failed={:<4} skipped={:<4} rescued={:<4} ignored={}\n",
            st.ok, st.changed, st.unreachable, st.failures, st.skipped, st.rescued, st.ignored
        ));
    }
    s.push_str(&format!("elapsed: {:.2}s", elapsed.as_secs_f64()));
    s
}

fn result_line(r: &TaskReport, opts: ViewOptions) -> String {
    let label = match r.status {
        Status::Ok => "ok",
        Status::Changed => "changed",
        Status::Skipped => "skipping",
        Status::Failed if r.ignored => "failed (ignored)",
        Status::Failed => "fatal",
        Status::Unreachable => "unreachable",
    };
    let item = r
        .item
        .as_ref()
        .map(|i| format!(" (item={i})"))
        .unwrap_or_default();
    let handler = if r.handler { "RUNNING HANDLER " } else { "" };
    let mut line = format!("{label}: [{}] {handler}{}{item}", r.host, r.task_name);
    let show_detail = matches!(r.status, Status::Failed | Status::Unreachable)
        || (opts.verbosity >= 1 && r.status == Status::Changed)
        || opts.verbosity >= 2;
    if show_detail {
        line.push_str(" => ");
        line.push_str(&detail(
            &r.result,
            matches!(r.status, Status::Failed | Status::Unreachable) && opts.verbosity == 0,
        ));
    }
    line
}

/// A failed task shows its message, rc and the tail of stdout/stderr; `-v` shows everything.
fn detail(result: &Value, brief: bool) -> String {
    if !brief {
        return serde_json::to_string(result).unwrap_or_default();
    }
    let mut parts = Vec::new();
    if let Some(m) = result.get("msg").and_then(Value::as_str) {
        parts.push(format!("msg: {m}"));
    }
    if let Some(rc) = result.get("rc") {
        parts.push(format!("rc: {rc}"));
    }
    for key in ["stdout", "stderr"] {
        if let Some(text) = result.get(key).and_then(Value::as_str) {
            let tail: Vec<&str> = text.lines().rev().take(10).collect();
            if !tail.is_empty() {
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                parts.push(format!("{key} (last lines):\n  {}", tail.join("\n  ")));
            }
        }
    }
    if parts.is_empty() {
        serde_json::to_string(result).unwrap_or_default()
    } else {
        parts.join("\n")
    }
}
