//! Pipelining across tasks: before a run of file tasks starts on a host, the reads their
//! probes will make are sent together on the host's SFTP session
//! ([`crate::transport::read_ahead`] keeps the answers and says when they still hold).
//!
//! Only what cannot change a decision is done ahead: the tasks' path arguments are rendered
//! with the host's variables as they are now (a path that needs a result not registered yet
//! fails to render and is simply not read ahead; one rendered differently later misses and is
//! read then), nothing is decided from the answers until the task itself runs, and arguments
//! that call a lookup (which may have effects on the controller) are never rendered early.

use std::sync::Arc;

use serde_json::Value;

use super::host::{HostState, Inherited};
use super::{PlayCtx, Runner};
use crate::modules::files::file::link_src_abs;
use crate::playbook::{Action, Task};
use crate::transport::Connection;
use crate::transport::read_ahead::AheadRead;
use crate::vars;

/// `TALON_READ_AHEAD=0` (or `off`, `false`, `no`) turns reading ahead off (benchmarks compare
/// with it; the answers are the same either way).
pub const ENV: &str = "TALON_READ_AHEAD";

fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        !std::env::var(ENV)
            .map(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "0" | "off" | "false" | "no"
                )
            })
            .unwrap_or(false)
    })
}

/// Tasks looked at in one go at most (see `ReadAhead::window`).
const WINDOW: usize = 16;

/// Paths read ahead in one go (loops included).
const MAX_PATHS: usize = 64;

/// The modules whose reads are sent ahead: `file` (its probe: `stat`, `lstat`, a link's
/// target) and the ones that also compare or edit a file's content.
const FILE_MODULES: [&str; 5] = ["file", "copy", "template", "lineinfile", "blockinfile"];

/// True when a value (as written) calls a lookup somewhere: rendering it may do something on
/// the controller (`pipe`, `password`), so it is only rendered when its task runs.
fn calls_lookup(v: &Value) -> bool {
    match v {
        Value::String(s) => {
            (s.contains("{{") || s.contains("{%"))
                && (s.contains("lookup(") || s.contains("query(") || s.contains("q("))
        }
        Value::Array(a) => a.iter().any(calls_lookup),
        Value::Object(m) => m.values().any(calls_lookup),
        _ => false,
    }
}

impl<'a> Runner<'a> {
    /// Sends ahead the reads of the file tasks that begin `tasks` (up to [`WINDOW`]
    /// consecutive ones, stopping at the first task that is not one), on `conn`'s SFTP session
    /// when it is open already and the world is quiet. Returns how many tasks were looked at:
    /// the caller asks again after them (0: ask again at the next task).
    pub(super) async fn read_ahead(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        conn: &Arc<Connection>,
        tasks: &[Task],
        inh: &Inherited,
    ) -> usize {
        let ahead = conn.read_ahead();
        if !enabled() || !ahead.quiet() {
            return 0;
        }
        let Some(fs) = conn.sftp_started() else {
            return 0;
        };
        let login = conn.login_user();
        let mut wanted = Vec::new();
        let mut looked = 0;
        for t in tasks.iter().take(ahead.window(WINDOW)) {
            let Some(reads) = self.task_reads(ctx, st, t, inh, &login).await else {
                break;
            };
            looked += 1;
            wanted.extend(reads);
            if wanted.len() >= MAX_PATHS {
                wanted.truncate(MAX_PATHS);
                break;
            }
        }
        if !wanted.is_empty() {
            ahead.plan(&fs, &wanted);
        }
        looked
    }

    /// The reads `task` will make, `None` when it is not a file task whose reads can be
    /// named now (the window ends there). `Some(empty)`: a file task with nothing to read
    /// ahead (not selected by tags, a path that does not render, become to another user).
    async fn task_reads(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        task: &Task,
        inh: &Inherited,
        login: &str,
    ) -> Option<Vec<AheadRead>> {
        let Some(Action::Module { module, args }) = &task.action else {
            return None;
        };
        if !FILE_MODULES.contains(&module.name)
            || task.delegate_to.is_some()
            || task.run_once
            || task.async_val.is_some()
            || task.connection.is_some()
            || task.remote_user.is_some()
            || args.values().any(calls_lookup)
            || task.loop_.as_ref().is_some_and(calls_lookup)
            || task
                .loop_with
                .as_deref()
                .is_some_and(|l| !matches!(l, "items" | "list"))
        {
            return None;
        }
        let mut tags = inh.tags.clone();
        tags.extend(task.tags.iter().cloned());
        if !inh.handler && !self.tags_selected(&tags) {
            return Some(Vec::new());
        }
        let items = match self.prepare_loop(ctx, st, task, inh).await {
            Ok(items) => items,
            Err(_) => return Some(Vec::new()),
        };
        let mut out = Vec::new();
        for (item, _) in items.iter().take(MAX_PATHS) {
            let scope = self.scope_for(ctx, st, Some(task), inh, item);
            match self.become_for(task, inh, &scope) {
                Ok(Some(b)) if b.user != login => return Some(Vec::new()),
                Ok(_) => {}
                Err(_) => return Some(Vec::new()),
            }
            let value = |name: &str| self.templater.render_value(args.get(name)?, &scope).ok();
            let render = |name: &str| value(name).map(|v| vars::as_string(&v));
            let first = |names: &[&str]| names.iter().find_map(|n| render(n));
            let absolute = |p: String| (p.starts_with('/') && !p.contains("/..")).then_some(p);
            let follow = |default: bool| value("follow").and_then(|v| vars::as_bool(&v)).unwrap_or(default);
            match module.name {
                "file" => {
                    let Some(path) = first(&["path", "dest", "name"]).and_then(absolute) else {
                        continue;
                    };
                    match render("state").as_deref() {
                        // The link's own lstat, and whether its source exists.
                        Some("link") => {
                            // Resolved as the module resolves it, so the answer is found.
                            if let Some(src) = render("src")
                                && let Some(src) = absolute(link_src_abs(&path, &src, true))
                            {
                                out.push(AheadRead::stat(src));
                            }
                            out.push(AheadRead::probe(path, false));
                        }
                        Some("directory" | "absent") => out.push(AheadRead::probe(path, false)),
                        _ => out.push(AheadRead::probe(path, follow(true))),
                    }
                }
                "copy" | "template" => {
                    let Some(dest) = render("dest").and_then(absolute) else {
                        continue;
                    };
                    let dest = if dest.ends_with('/') {
                        let Some(base) = render("src")
                            .as_deref()
                            .and_then(|s| s.trim_end_matches('/').rsplit('/').next().map(String::from))
                            .filter(|b| !b.is_empty())
                        else {
                            continue;
                        };
                        format!("{dest}{base}")
                    } else {
                        dest
                    };
                    out.push(AheadRead::probe(dest, follow(false)).with_content());
                }
                // lineinfile, blockinfile: the file they edit (links followed).
                _ => {
                    if let Some(path) = first(&["path", "dest", "destfile", "name"]).and_then(absolute) {
                        out.push(AheadRead::probe(path, true).with_content());
                    }
                }
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookups_are_found_in_nested_arguments() {
        assert!(calls_lookup(&json!({"dest": "{{ lookup('pipe', 'date') }}"})));
        assert!(calls_lookup(&json!(["a", {"b": "{{ query('x') }}"}])));
        assert!(calls_lookup(&json!("{{ q('inventory_hostnames', 'all') }}")));
        assert!(!calls_lookup(
            &json!({"dest": "{{ base }}/etc/app.conf", "mode": "0644"})
        ));
        // Not a template: plain text that mentions a lookup is never rendered as one.
        assert!(!calls_lookup(&json!("lookup(")));
    }

    #[test]
    fn link_sources_resolve_beside_the_link() {
        assert_eq!(link_src_abs("/opt/bench/current", "bin", true), "/opt/bench/bin");
        assert_eq!(link_src_abs("/opt/bench/current", "/etc/x", true), "/etc/x");
    }
}
