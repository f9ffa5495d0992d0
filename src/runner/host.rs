//! One host's state across plays and the start of its walk through a play; the walk itself is
//! in the rooms beside this one: `walk` (blocks, includes, loops, conditions), `task` (render,
//! become, environment, execute one task), `scope` (variable precedence), `handlers`.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{PlayCtx, Runner};
use crate::playbook::{Action, Role, Task};
use crate::report::{Event, HostStats, Status, TaskReport};
use crate::vars::{self, Vars};

/// Everything the runner keeps about one host across plays.
#[derive(Debug)]
pub struct HostState {
    pub name: String,
    /// Variables from the inventory (all inventory layers merged).
    pub inv_vars: Vars,
    /// Gathered facts (`ansible_facts`): read with [`HostState::facts`], changed through
    /// [`HostState::facts_mut`] (which drops [`HostState::fact_vars`]'s copy).
    facts: Vars,
    /// Facts a module set under a name without `ansible_` (`services`, `getent_passwd`): their
    /// variable is that name, as ansible-core injects facts (see [`HostState::fact_var`]).
    plain_facts: std::collections::BTreeSet<String>,
    /// The facts as variables, built once after each change and shared by every task's scope.
    fact_vars: std::sync::OnceLock<Arc<Vars>>,
    /// `set_fact` and `register` results.
    pub host_facts: Vars,
    /// The names in `host_facts` (all of them: registered results and rendered `set_fact`
    /// values) that are data, never templated again when read.
    pub registered: std::collections::HashSet<String>,
    /// `include_vars` results.
    pub include_vars: Vars,
    /// The current play's `vars_files`.
    pub vars_files: Vars,
    pub failed: bool,
    pub unreachable: bool,
    pub stats: HostStats,
    /// Notified handlers not yet run, by handler name (kept across runs when a run fails).
    pub pending_handlers: Vec<String>,
    /// Notifications saved by an earlier failed run: they join `pending_handlers` at the flush
    /// after the play's main section (roles + tasks), so they run once what they restart exists.
    pub restored_handlers: Vec<String>,
    /// `no_log` of the task running now: its results are shown censored (set per task).
    pub(crate) censor: bool,
    /// `meta: clear_host_errors` ran since the enclosing block failed: the block's failure
    /// no longer stops the host once its `always` section ends.
    pub(crate) errors_cleared: bool,
    /// The last task that failed this host (not ignored) and its result: a `rescue` section
    /// sees them as `ansible_failed_task` and `ansible_failed_result`.
    pub(crate) last_failure: Option<(Value, Value)>,
    /// When the host failed or became unreachable in the current play, on the play's clock
    /// ([`PlayCtx::tick`]): a later `meta: clear_host_errors` on any host of the same batch
    /// clears it.
    pub(crate) failed_at: u64,
    /// `any_errors_fatal`/`max_fail_percentage` already failed this host in the current play
    /// (it then runs its `rescue`/`always` sections, as ansible-core's `mark_host_failed`).
    pub(crate) fatal_struck: bool,
    /// The host's last stop came from [`Runner::fatal_check`] (no failure of its own: a
    /// `rescue` that follows is not counted as rescued).
    pub(crate) struck_stop: bool,
    /// The task running now has `delegate_facts` and is delegated to this other host: the
    /// facts its module returns go there (set per task).
    pub(crate) facts_to: Option<String>,
    /// The running task's delegated host as the default callback labels it (set per task).
    pub(crate) delegated_label: Option<String>,
}

/// Facts a task gave a host other than the one it ran for (`delegate_facts: true`, or a
/// `run_once` task's facts for the play's hosts outside the batch), kept until that host
/// takes them before its next task (see `Runner::give`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Given {
    /// A module's or gather's `ansible_facts`, as returned (`ansible_X` or a plain name).
    pub(crate) facts: Vars,
    /// `set_fact` values.
    pub(crate) host_facts: Vars,
    /// `include_vars` values.
    pub(crate) include_vars: Vars,
}

impl Given {
    /// Whether nothing is given.
    pub(crate) fn is_empty(&self) -> bool {
        self.facts.is_empty() && self.host_facts.is_empty() && self.include_vars.is_empty()
    }

    /// Adds `other` (later values win).
    pub(crate) fn merge(&mut self, other: Given) {
        self.facts.extend(other.facts);
        self.host_facts.extend(other.host_facts);
        self.include_vars.extend(other.include_vars);
    }

    /// Puts the given facts into the host's state, as if its own task had set them.
    pub(crate) fn apply(self, st: &mut HostState) {
        st.merge_module_facts(&self.facts);
        for (k, v) in self.host_facts {
            st.registered.insert(k.clone());
            st.host_facts.insert(k, v);
        }
        vars::overlay(&mut st.include_vars, &self.include_vars);
    }

    /// Puts the given facts into a host's `hostvars` entry (`ansible_X` and `ansible_facts`).
    pub(crate) fn apply_vars(&self, v: &mut Vars) {
        for (k, val) in &self.facts {
            let bare = k.strip_prefix("ansible_").filter(|b| !b.is_empty());
            let entry = v
                .entry("ansible_facts")
                .or_insert_with(|| Value::Object(Vars::new()));
            if let Value::Object(m) = entry {
                m.insert(bare.unwrap_or(k).to_string(), val.clone());
            }
            v.insert(k.clone(), val.clone());
        }
        vars::overlay(v, &self.include_vars);
        vars::overlay(v, &self.host_facts);
    }
}

impl HostState {
    /// The gathered facts (`ansible_facts`), by name without `ansible_`.
    pub(crate) fn facts(&self) -> &Vars {
        &self.facts
    }

    /// The facts and the names without `ansible_` (see [`HostState::fact_var`]), to change.
    pub(crate) fn facts_mut(&mut self) -> (&mut Vars, &mut std::collections::BTreeSet<String>) {
        self.fact_vars.take();
        (&mut self.facts, &mut self.plain_facts)
    }

    /// The facts as the variables a task sees: each fact under [`HostState::fact_var`]'s name,
    /// then `ansible_facts` holding them all (defined, empty, before any gathering, as in
    /// ansible-core). Built once per change of the facts; shared (`Arc`) by every scope.
    pub(crate) fn fact_vars(&self) -> Arc<Vars> {
        self.fact_vars
            .get_or_init(|| {
                let mut v = Vars::with_capacity(self.facts.len() + 1);
                for (k, val) in &self.facts {
                    v.insert(self.fact_var(k), val.clone());
                }
                v.insert("ansible_facts".into(), Value::Object(self.facts.clone()));
                Arc::new(v)
            })
            .clone()
    }

    /// The variable a fact is also visible as: `ansible_KEY` for gathered facts, the key itself
    /// for a module's fact that had no `ansible_` prefix.
    pub(crate) fn fact_var(&self, key: &str) -> String {
        if self.plain_facts.contains(key) {
            key.to_string()
        } else {
            format!("ansible_{key}")
        }
    }

    /// Merges a module's `ansible_facts`: `ansible_X` keys as fact `X`, others under their own
    /// name (ansible-core's namespace_facts), replacing earlier values.
    pub(crate) fn merge_module_facts(&mut self, facts: &serde_json::Map<String, Value>) {
        if facts.is_empty() {
            return;
        }
        self.fact_vars.take();
        for (k, v) in facts {
            match k.strip_prefix("ansible_") {
                Some(bare) if !bare.is_empty() => {
                    self.plain_facts.remove(bare);
                    self.facts.insert(bare.to_string(), v.clone());
                }
                _ => {
                    self.plain_facts.insert(k.clone());
                    self.facts.insert(k.clone(), v.clone());
                }
            }
        }
    }

    /// Fresh state for a host with its inventory variables.
    pub fn new(name: &str, inv_vars: Vars) -> Self {
        HostState {
            name: name.to_string(),
            inv_vars,
            facts: Vars::new(),
            plain_facts: std::collections::BTreeSet::new(),
            fact_vars: std::sync::OnceLock::new(),
            host_facts: Vars::new(),
            registered: std::collections::HashSet::new(),
            include_vars: Vars::new(),
            vars_files: Vars::new(),
            failed: false,
            unreachable: false,
            stats: HostStats::default(),
            pending_handlers: Vec::new(),
            restored_handlers: Vec::new(),
            censor: false,
            errors_cleared: false,
            last_failure: None,
            failed_at: 0,
            fatal_struck: false,
            struck_stop: false,
            facts_to: None,
            delegated_label: None,
        }
    }
}
/// A `run_once` result shared by every host.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(super) status: Status,
    pub(super) result: Value,
}
/// Keywords inherited from enclosing blocks, roles and includes.
#[derive(Clone, Default)]
pub(crate) struct Inherited {
    pub(super) when: Vec<String>,
    pub(super) tags: Vec<String>,
    pub(super) become_: Option<bool>,
    pub(super) become_user: Option<String>,
    pub(super) vars: Vars,
    pub(super) params: Vars,
    pub(super) environment: Vec<Value>,
    pub(super) no_log: Option<Value>,
    pub(super) ignore_errors: Option<Value>,
    pub(super) check_mode: Option<bool>,
    pub(super) diff: Option<bool>,
    /// `throttle`, `timeout`, `ignore_unreachable`, `any_errors_fatal` of the play and the
    /// enclosing blocks (ansible-core's Base attributes, inherited).
    pub(super) throttle: Option<Value>,
    pub(super) timeout: Option<Value>,
    pub(super) ignore_unreachable: Option<bool>,
    pub(super) any_errors_fatal: Option<bool>,
    pub(super) role: Option<Arc<Role>>,
    /// `connection:` and `remote_user:` of the play, replaced by a block's or the task's.
    pub(super) keywords: super::connect::Keywords,
    /// The dynamic includes this task list runs inside, outermost first (`file (file:line:col)`),
    /// bounded by [`crate::playbook::MAX_INCLUDE_DEPTH`].
    pub(super) includes: Vec<String>,
    /// Inside a handler: `--tags` / `--skip-tags` do not select handlers (a notified handler
    /// runs whatever its tags, as in ansible-core).
    pub(super) handler: bool,
}
/// Why a host stopped walking its tasks.
#[derive(Debug, PartialEq)]
pub(crate) enum Stop {
    /// A task failed (and was not ignored or rescued).
    Failed,
    /// The host could not be reached.
    Unreachable,
    /// `meta: end_play` / `end_host`.
    End,
    /// The run was interrupted (Ctrl-C): nothing more starts, handlers do not run.
    Interrupted,
}
/// How a walk ends: on to the next task, or stopped.
pub(super) type Flow = Result<(), Stop>;

/// The result of one task (or loop item) on one host, before it is counted and shown.
pub(super) struct Outcome {
    pub(super) status: Status,
    pub(super) result: Value,
    pub(super) diff: Vec<String>,
}
impl<'a> Runner<'a> {
    /// Runs a whole play on one host and returns the updated host state.
    pub(crate) async fn play_host(&self, ctx: &PlayCtx<'_>, mut st: HostState) -> HostState {
        // Made here, opened by the first task that needs it (lazily, in this host's own flow:
        // hosts still connect in parallel), as ansible-core connects on the first such task.
        let conn = match self.connection(&st, ctx.play) {
            Ok(c) => c,
            Err(e) => {
                st.unreachable = true;
                st.stats.record(Status::Unreachable, false, false);
                let result = json!({"msg": e.to_string(), "unreachable": true});
                let r = TaskReport::new(
                    ctx.play.index,
                    0,
                    "Connect",
                    &st.name,
                    Status::Unreachable,
                    result,
                );
                self.report(&st, r);
                return st;
            }
        };
        st.fatal_struck = false;
        st.struck_stop = false;
        let play = ctx.play;
        let base = Inherited {
            tags: play.tags.clone(),
            become_: play.become_,
            become_user: play.become_user.clone(),
            environment: play.environment.iter().cloned().collect(),
            no_log: play.no_log.clone(),
            ignore_errors: play.ignore_errors.clone(),
            check_mode: play.check_mode,
            diff: play.diff,
            throttle: play.throttle.clone(),
            timeout: play.timeout.clone(),
            ignore_unreachable: play.ignore_unreachable,
            any_errors_fatal: play.any_errors_fatal,
            keywords: super::connect::Keywords {
                connection: play.connection.clone(),
                remote_user: play.remote_user.clone(),
            },
            ..Default::default()
        };
        // vars_files are loaded per host (their names may use host variables).
        if let Err(msg) = self.load_vars_files(ctx, &mut st) {
            self.after_stop(ctx, &mut st, Stop::Failed);
            st.stats.record(Status::Failed, false, false);
            let r = TaskReport::new(
                ctx.play.index,
                0,
                "vars_files",
                &st.name,
                Status::Failed,
                json!({"msg": msg.to_string()}),
            );
            self.report(&st, r);
            return st;
        }
        let passed_over = self
            .start_at
            .as_ref()
            .is_some_and(|s| s.skip_gather.contains(&play.index));
        let anyway = self
            .start_at
            .as_ref()
            .is_some_and(|s| s.gather_anyway == Some(play.index));
        if (play.gather_facts || anyway) && self.tags_selected(&["always".to_string()]) && !passed_over {
            let gf = Task {
                id: usize::MAX,
                name: Some("Gathering Facts".into()),
                action: Some(Action::GatherFacts(play.gather_args.clone())),
                ..Default::default()
            };
            if let Err(stop) = self.run_task(ctx, &mut st, &conn, &gf, &base).await {
                self.after_stop(ctx, &mut st, stop);
                return st;
            }
        }
        let force = self.opts.force_handlers || play.force_handlers;
        for (index, section) in play.sections.iter().enumerate() {
            let mut r = self.run_list(ctx, &mut st, &conn, section, &base).await;
            // The last task of the section may have been fatal on another host: every host
            // waits for it before its handlers, as the linear strategy does.
            if r.is_ok() {
                if ctx.linear {
                    ctx.lockstep.step().await;
                }
                r = self.fatal_check(ctx, &mut st);
            }
            if index == 1 || r.is_err() {
                for h in std::mem::take(&mut st.restored_handlers) {
                    if !st.pending_handlers.contains(&h) {
                        st.pending_handlers.push(h);
                    }
                }
            }
            match r {
                Ok(()) => {
                    if let Err(stop) = self.flush_handlers(ctx, &mut st, &conn).await {
                        self.after_stop(ctx, &mut st, stop);
                        return st;
                    }
                }
                Err(Stop::End) => break,
                Err(Stop::Interrupted) => return st,
                Err(stop) => {
                    if force && stop == Stop::Failed {
                        let _ = self.flush_handlers(ctx, &mut st, &conn).await;
                    }
                    self.after_stop(ctx, &mut st, stop);
                    return st;
                }
            }
        }
        st
    }

    /// `any_errors_fatal` or `max_fail_percentage` struck on another host: this host fails
    /// too (once per play; not counted as a failure in its recap, as ansible-core's
    /// `mark_host_failed`).
    pub(super) fn fatal_check(&self, ctx: &PlayCtx<'_>, st: &mut HostState) -> Flow {
        if ctx.lockstep.is_fatal() && !st.fatal_struck {
            st.fatal_struck = true;
            st.struck_stop = true;
            return Err(Stop::Failed);
        }
        Ok(())
    }

    pub(super) fn after_stop(&self, ctx: &PlayCtx<'_>, st: &mut HostState, stop: Stop) {
        match stop {
            Stop::Failed => st.failed = true,
            Stop::Unreachable => st.unreachable = true,
            Stop::End | Stop::Interrupted => return,
        }
        st.failed_at = ctx.tick();
        ctx.remove(&st.name);
    }

    pub(super) fn skip(&self, ctx: &PlayCtx<'_>, st: &mut HostState, task: &Task) {
        st.stats.record(Status::Skipped, false, false);
        let result = json!({"changed": false, "skipped": true});
        let r = TaskReport::new(
            ctx.play.index,
            task.id,
            &task.display_name(),
            &st.name,
            Status::Skipped,
            result,
        );
        self.report(st, r);
    }

    pub(super) fn fail_task(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        task: &Task,
        msg: impl std::fmt::Display,
    ) -> Flow {
        let msg = format!("{msg} (task '{}' at {})", task.display_name(), task.mark);
        let out = Outcome {
            status: Status::Failed,
            result: json!({"msg": msg, "failed": true, "changed": false}),
            diff: Vec::new(),
        };
        self.finish(ctx, st, task, &Inherited::default(), out, None)
    }

    /// A task report for `task` on this host in this play, to fill in and [`Self::report`].
    pub(super) fn task_report(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        task: &Task,
        out: &Outcome,
    ) -> TaskReport {
        TaskReport::new(
            ctx.play.index,
            task.id,
            &task.display_name(),
            &st.name,
            out.status,
            out.result.clone(),
        )
        .diff(out.diff.clone())
        .handler(self.is_handler(ctx, task))
        .action(task.action_name())
        .delegated(st.delegated_label.clone())
    }

    /// Shows a task result: `no_log` applied as Ansible shows it (`censored`, with `changed`
    /// and the retry counters kept; no diff; a loop item reads `None`; registered variables keep
    /// the whole result), then every secret value and marker masked.
    pub(super) fn report(&self, st: &HostState, mut r: TaskReport) {
        if st.censor {
            let mut shown = serde_json::Map::new();
            shown.insert("censored".into(), json!(NO_LOG_CENSORED));
            for key in ["attempts", "changed", "retries"] {
                if let Some(v) = r.result.get(key) {
                    shown.insert(key.into(), v.clone());
                }
            }
            r.result = Value::Object(shown);
            r.item = r.item.map(|_| "None".to_string());
            r.diff = Vec::new();
        }
        let s = &self.opts.secrets;
        r.task_name = s.mask(&r.task_name);
        r.item = r.item.map(|i| s.mask(&i));
        r.result = s.mask_value(r.result);
        r.diff = r.diff.iter().map(|d| s.mask(d)).collect();
        // A module's warnings come before its result line, as ansible-core prints them.
        if let Some(Value::Array(warnings)) = r.result.get("warnings") {
            for w in warnings.iter().filter_map(Value::as_str) {
                self.reporter.send(Event::Warning(w.to_string()));
            }
        }
        self.reporter.send(Event::TaskResult(r));
    }
}

/// What a `no_log` result shows instead of its content (Ansible's wording).
const NO_LOG_CENSORED: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

pub(super) fn inherit(inh: &Inherited, task: &Task) -> Inherited {
    let mut c = inh.clone();
    if matches!(task.action, Some(Action::Block { .. })) {
        c.when.extend(task.when.iter().cloned());
        vars::overlay(&mut c.vars, &task.vars);
    }
    c.tags.extend(task.tags.iter().cloned());
    if task.become_.is_some() {
        c.become_ = task.become_;
    }
    if task.become_user.is_some() {
        c.become_user = task.become_user.clone();
    }
    if let Some(e) = &task.environment {
        c.environment.push(e.clone());
    }
    if task.no_log.is_some() {
        c.no_log = task.no_log.clone();
    }
    if task.check_mode.is_some() {
        c.check_mode = task.check_mode;
    }
    if task.diff.is_some() {
        c.diff = task.diff;
    }
    if task.ignore_errors.is_some() {
        c.ignore_errors = task.ignore_errors.clone();
    }
    if task.throttle.is_some() {
        c.throttle = task.throttle.clone();
    }
    if task.timeout.is_some() {
        c.timeout = task.timeout.clone();
    }
    if task.ignore_unreachable.is_some() {
        c.ignore_unreachable = task.ignore_unreachable;
    }
    if task.any_errors_fatal.is_some() {
        c.any_errors_fatal = task.any_errors_fatal;
    }
    if task.role.is_some() {
        c.role = task.role.clone();
    }
    if task.connection.is_some() {
        c.keywords.connection = task.connection.clone();
    }
    if task.remote_user.is_some() {
        c.keywords.remote_user = task.remote_user.clone();
    }
    c
}

/// The `tasks` an include brought in, inside its `apply:` block when it has one (ansible-core's
/// `build_parent_block`): they inherit the block's keywords, not the include's.
pub(super) fn applied(tasks: Vec<Task>, apply: &Option<Box<Task>>) -> Vec<Task> {
    let Some(apply) = apply else {
        return tasks;
    };
    let mut block = (**apply).clone();
    // The included tasks keep their own role (an include_role's is the included role).
    block.role = None;
    block.action = Some(Action::Block {
        block: tasks,
        rescue: Vec::new(),
        always: Vec::new(),
    });
    vec![block]
}

/// The error of an include nested past [`crate::playbook::MAX_INCLUDE_DEPTH`]: the first
/// includes and the last ones (a recursion repeats the same few).
pub(super) fn include_depth_message(chain: &[String]) -> String {
    let shown = if chain.len() > 6 {
        format!(
            "{} -> ... ({} more) -> {}",
            chain[..3].join(" -> "),
            chain.len() - 6,
            chain[chain.len() - 3..].join(" -> ")
        )
    } else {
        chain.join(" -> ")
    };
    format!(
        "includes nest deeper than {} levels (talon's limit; a recursion without a condition that ends it?): {shown}",
        crate::playbook::MAX_INCLUDE_DEPTH
    )
}

pub(super) fn child_when(inh: &Inherited, task: &Task) -> Vec<String> {
    let mut w = inh.when.clone();
    if !matches!(task.action, Some(Action::Block { .. })) {
        w.extend(task.when.iter().cloned());
    }
    w
}

pub(super) fn truthy(v: Option<&Value>) -> bool {
    v.and_then(vars::as_bool).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Vars {
        match v {
            Value::Object(m) => m,
            _ => Vars::new(),
        }
    }

    #[test]
    fn fact_vars_follow_every_change_of_the_facts() {
        let mut st = HostState::new("web1", Vars::new());
        assert_eq!(
            Value::Object((*st.fact_vars()).clone()),
            json!({"ansible_facts": {}})
        );
        st.merge_module_facts(&obj(
            json!({"ansible_os_family": "Debian", "services": {"ssh": 1}}),
        ));
        assert_eq!(
            Value::Object((*st.fact_vars()).clone()),
            json!({"ansible_os_family": "Debian", "services": {"ssh": 1},
                   "ansible_facts": {"os_family": "Debian", "services": {"ssh": 1}}})
        );
        let shared = st.fact_vars();
        assert!(
            Arc::ptr_eq(&shared, &st.fact_vars()),
            "built once while the facts stay"
        );
        let (facts, plain) = st.facts_mut();
        facts.insert("services".into(), json!({}));
        plain.remove("services");
        assert_eq!(st.fact_vars().get("ansible_services"), Some(&json!({})));
        assert_eq!(st.fact_vars().get("services"), None);
        let (facts, plain) = st.facts_mut();
        facts.clear();
        plain.clear();
        assert_eq!(
            Value::Object((*st.fact_vars()).clone()),
            json!({"ansible_facts": {}})
        );
    }
}
