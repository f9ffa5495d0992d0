//! `--json`: one document shaped like Ansible's `json` stdout callback:
//! `{"plays": [{"play": {"name", "id", "path", "duration"}, "tasks": [{"task": {"name", "id",
//! "path", "duration"}, "hosts": {HOST: RESULT}}]}],
//!   "stats": {HOST: {ok, changed, failures, skipped, unreachable, rescued, ignored}}}`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{HostStats, Status, TaskReport};

/// Collects results as they arrive, grouped by play and task.
#[derive(Default)]
pub struct JsonReport {
    plays: Vec<PlayEntry>,
    /// When each task id was last seen starting (its `duration.start`) and where it is.
    started: std::collections::HashMap<usize, (String, String)>,
}

/// One play: index, name, `FILE:LINE`, start time, tasks.
struct PlayEntry {
    index: usize,
    name: String,
    path: String,
    start: String,
    tasks: Vec<TaskHosts>,
}

/// One task's results: (task id, task name, host -> result, duration start and end, path).
type TaskHosts = (usize, String, Map<String, Value>, (String, String), String);

/// Now as the json callback writes times: UTC ISO 8601 with microseconds and `Z`.
fn now_iso() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl JsonReport {
    /// A play starts.
    pub fn play_start(&mut self, index: usize, name: &str, path: &str) {
        self.plays.push(PlayEntry {
            index,
            name: name.to_string(),
            path: path.to_string(),
            start: now_iso(),
            tasks: Vec::new(),
        });
    }

    /// A task starts on a host: the first start of a task's run is its `duration.start`.
    pub fn task_start(&mut self, task_id: usize, path: &str) {
        self.started
            .entry(task_id)
            .or_insert_with(|| (now_iso(), path.to_string()));
    }

    /// Adds one result (loop items are gathered into `results` like Ansible's callback).
    pub fn task_result(&mut self, r: &TaskReport) {
        let Some(play) = self.plays.iter_mut().rev().find(|p| p.index == r.play) else {
            return;
        };
        // The same task again for a host that already has its result (a file included twice
        // with the same item) is a new entry, as ansible-core's callback sees a new task start.
        let again = |t: &TaskHosts| r.item.is_none() && t.2.contains_key(&r.host);
        let now = now_iso();
        let pos = match play.tasks.iter().rposition(|t| t.0 == r.task_id) {
            Some(p) if !again(&play.tasks[p]) => p,
            _ => {
                // A task run again (an include's second pass) starts anew.
                let (start, path) = self
                    .started
                    .remove(&r.task_id)
                    .unwrap_or_else(|| (now.clone(), String::new()));
                play.tasks.push((
                    r.task_id,
                    r.task_name.clone(),
                    Map::new(),
                    (start, String::new()),
                    path,
                ));
                play.tasks.len() - 1
            }
        };
        play.tasks[pos].3.1 = now;
        let hosts = &mut play.tasks[pos].2;
        let mut result = r.result.clone();
        if let Value::Object(m) = &mut result {
            if r.item.is_none() && !r.action.is_empty() && !m.contains_key("action") {
                m.insert("action".into(), Value::String(r.action.clone()));
            }
            // ansible-core's result flags the json callback shows as they are.
            let censored = m.contains_key("censored");
            m.entry("_ansible_no_log").or_insert(Value::Bool(censored));
            if r.item.is_none() && matches!(r.action.as_str(), "debug" | "ansible.builtin.debug") {
                m.insert("_ansible_verbose_always".into(), Value::Bool(true));
            }
            m.insert(
                "changed".into(),
                Value::Bool(r.status == Status::Changed || m.get("changed") == Some(&Value::Bool(true))),
            );
            if r.status == Status::Failed {
                m.insert("failed".into(), Value::Bool(true));
            } else if m.get("failed") == Some(&Value::Bool(false)) {
                // The json callback's result has no `failed: false` (registered values do).
                m.remove("failed");
            }
            if r.status == Status::Skipped {
                m.insert("skipped".into(), Value::Bool(true));
            }
            if r.status == Status::Unreachable {
                m.insert("unreachable".into(), Value::Bool(true));
            }
        }
        if r.item.is_none() {
            hosts.insert(r.host.clone(), result);
            return;
        }
        // One item of a loop: gathered into the task's `results`, with the loop's flags and
        // message as ansible-core's result of the whole loop has them.
        let entry = hosts.entry(r.host.clone()).or_insert_with(
            || json!({"action": r.action, "results": [], "changed": false, "msg": "All items completed"}),
        );
        let Value::Object(agg) = entry else {
            return;
        };
        let flag = |k: &str| result.get(k).and_then(Value::as_bool).unwrap_or(false);
        let (changed, failed, skipped, unreachable) = (
            flag("changed"),
            flag("failed"),
            flag("skipped"),
            flag("unreachable"),
        );
        let first = agg
            .get("results")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if changed {
            agg.insert("changed".into(), Value::Bool(true));
        }
        if failed {
            agg.insert("failed".into(), Value::Bool(true));
            agg.insert("msg".into(), Value::String("One or more items failed".into()));
        }
        if unreachable {
            agg.insert("unreachable".into(), Value::Bool(true));
        }
        // Skipped only while every item so far was skipped.
        if skipped && (first || agg.get("skipped") == Some(&Value::Bool(true))) {
            agg.insert("skipped".into(), Value::Bool(true));
        } else {
            agg.remove("skipped");
        }
        if let Some(Value::Array(items)) = agg.get_mut("results") {
            items.push(result);
        }
    }

    /// The final document.
    pub fn finish(&self, stats: &BTreeMap<String, HostStats>, elapsed: Duration) -> Value {
        let end = now_iso();
        let plays: Vec<Value> = self
            .plays
            .iter()
            .enumerate()
            .map(|(i, p)| {
                // A play ends when the next one starts (or now, for the last).
                let play_end = self
                    .plays
                    .get(i + 1)
                    .map_or_else(|| end.clone(), |n| n.start.clone());
                json!({
                    "play": {
                        "name": p.name,
                        "id": format!("play-{}", p.index),
                        "path": p.path,
                        "duration": {"start": p.start, "end": play_end},
                    },
                    "tasks": p.tasks.iter().map(|(id, tname, hosts, (start, end), path)| json!({
                        "task": {
                            "name": tname,
                            "id": id.to_string(),
                            "path": path,
                            "duration": {"start": start, "end": end},
                        },
                        "hosts": hosts,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let stats: BTreeMap<&String, &HostStats> = stats.iter().filter(|(_, st)| st.processed()).collect();
        json!({
            "plays": plays,
            "stats": stats,
            "global_custom_stats": {},
            "custom_stats": {},
            "elapsed_seconds": elapsed.as_secs_f64(),
        })
    }
}
