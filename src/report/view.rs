//! The reporter task: plain lines when piped, indicatif lines per host on a terminal, the recap.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use super::{Event, HostStats, JsonReport};

/// What the reporter shows.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// Print the `--json` document instead of human output.
    pub json: bool,
    /// `-v` count: 1 shows results of changed/failed tasks, 2 every result.
    pub verbosity: u8,
    /// Show diffs (`--diff`).
    pub diff: bool,
    /// Ad-hoc output (`talon adhoc`): each result as ansible's `minimal` (or `oneline`)
    /// callback prints it, with no banners and no recap.
    pub adhoc: Option<AdhocView>,
}

/// How `talon adhoc` results are shown.
#[derive(Debug, Clone, Default)]
pub struct AdhocView {
    /// `-o`: ansible's `oneline` callback.
    pub one_line: bool,
    /// The task as ansible-core's error block quotes it (`{'action': 'shell', 'args': {...},
    /// 'timeout': 0, 'async_val': 0, 'poll': 15}`), after `Origin: <adhoc 'MODULE' task>`.
    pub origin: String,
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

    /// Waits until the view has written everything sent before (returns at once when the
    /// view is gone, or does not answer: a collector).
    pub async fn flush(&self) {
        let done = std::sync::Arc::new(tokio::sync::Notify::new());
        if self.tx.send(Event::Flush(done.clone())).is_err() {
            return;
        }
        // A collector (talon verify) does not answer; a view answers at once.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), done.notified()).await;
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
    let mut cb = super::callback::Callback::new(
        super::callback::colors_wanted(std::io::stdout().is_terminal()),
        opts.verbosity,
    );
    let err_colors = super::callback::colors_wanted(std::io::stderr().is_terminal());
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
            Event::PlayStart { index, name, .. } if opts.adhoc.is_some() => {
                json.play_start(index, &name, "");
            }
            Event::TaskResult(r) if opts.adhoc.is_some() => {
                let view = opts.adhoc.clone().unwrap_or_default();
                for line in cb.adhoc(&r, &view) {
                    print(&tty, line);
                }
            }
            Event::LoopDone(_) if opts.adhoc.is_some() => {}
            Event::PlayStart {
                index,
                name,
                hosts,
                path,
            } => {
                json.play_start(index, &name, &path);
                print(&tty, cb.play_start(&name));
                if hosts.is_empty() {
                    print(&tty, "skipping: no hosts matched".into());
                }
            }
            Event::TaskStart {
                host,
                task,
                task_id,
                mark,
            } => {
                json.task_start(task_id, &super::place(&mark));
                cb.task_mark(task_id, mark);
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
                for line in cb.result(&r) {
                    print(&tty, line);
                }
            }
            Event::LoopDone(r) => {
                for line in cb.loop_done(&r) {
                    print(&tty, line);
                }
            }
            Event::Warning(w) => {
                if !opts.json {
                    if let Some(t) = &tty {
                        let _ = t.multi.println(cb.warning(&w));
                    } else if err_colors {
                        eprintln!("{}", cb.warning(&w));
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
            Event::Flush(done) => {
                // The hosts' spinners stop (a prompt follows on the terminal); the next task
                // starts new ones.
                if let Some(t) = tty.as_mut() {
                    for b in t.hosts.values() {
                        b.finish_and_clear();
                    }
                    t.hosts.clear();
                    let _ = t.multi.clear();
                }
                let _ = std::io::stdout().flush();
                let _ = std::io::stderr().flush();
                done.notify_one();
            }
            Event::Done { stats, elapsed } => {
                if let Some(t) = tty.take() {
                    for b in t.hosts.values() {
                        b.finish_and_clear();
                    }
                    let _ = t.multi.clear();
                }
                if opts.adhoc.is_some() {
                    // ansible's ad-hoc command prints no recap.
                } else if opts.json {
                    let doc = json.finish(&stats, elapsed);
                    let text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
                    let _ = writeln!(std::io::stdout(), "{text}");
                } else {
                    let _ = writeln!(
                        std::io::stdout(),
                        "\n{}elapsed: {:.2}s",
                        cb.recap(&stats),
                        elapsed.as_secs_f64()
                    );
                }
                final_stats = stats;
            }
        }
    }
    final_stats
}
