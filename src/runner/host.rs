//! One host's walk through a play: tasks, blocks, includes, loops, conditions, handlers.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{PlayCtx, Runner};
use crate::modules::{self, ModuleContext, ModuleOutcome};
use crate::playbook::{Action, Role, Task};
use crate::report::{Event, HostStats, Status, TaskReport};
use crate::template::{OMIT, Scope};
use crate::transport::{Become, Connection};
use crate::vars::{self, Vars};

/// Everything the runner keeps about one host across plays.
#[derive(Debug)]
pub struct HostState {
    pub name: String,
    /// Variables from the inventory (all inventory layers merged).
    pub inv_vars: Vars,
    /// Gathered facts (`ansible_facts`).
    pub facts: Vars,
    /// `set_fact` and `register` results.
    pub host_facts: Vars,
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
}

impl HostState {
    /// Fresh state for a host with its inventory variables.
    pub fn new(name: &str, inv_vars: Vars) -> Self {
        HostState {
            name: name.to_string(),
            inv_vars,
            facts: Vars::new(),
            host_facts: Vars::new(),
            include_vars: Vars::new(),
            vars_files: Vars::new(),
            failed: false,
            unreachable: false,
            stats: HostStats::default(),
            pending_handlers: Vec::new(),
            restored_handlers: Vec::new(),
            censor: false,
        }
    }
}

/// A `run_once` result shared by every host.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    status: Status,
    result: Value,
}

/// Keywords inherited from enclosing blocks, roles and includes.
#[derive(Clone, Default)]
pub(crate) struct Inherited {
    when: Vec<String>,
    tags: Vec<String>,
    become_: Option<bool>,
    become_user: Option<String>,
    vars: Vars,
    params: Vars,
    environment: Vec<Value>,
    no_log: Option<Value>,
    ignore_errors: Option<Value>,
    check_mode: Option<bool>,
    diff: Option<bool>,
    role: Option<Arc<Role>>,
    /// The dynamic includes this task list runs inside, outermost first (`file (file:line:col)`),
    /// bounded by [`crate::playbook::MAX_INCLUDE_DEPTH`].
    includes: Vec<String>,
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

type Flow = Result<(), Stop>;

struct Outcome {
    status: Status,
    result: Value,
    diff: Vec<String>,
}

impl<'a> Runner<'a> {
    /// Runs a whole play on one host and returns the updated host state.
    pub(crate) async fn play_host(&self, ctx: &PlayCtx<'_>, mut st: HostState) -> HostState {
        let conn = match self.connection(&st, ctx.play).await {
            Ok(c) => c,
            Err(e) => {
                st.unreachable = true;
                st.stats.unreachable += 1;
                self.report(
                    ctx,
                    &st,
                    0,
                    "Connect",
                    Status::Unreachable,
                    json!({"msg": e.to_string(), "unreachable": true}),
                    None,
                    Vec::new(),
                    false,
                    false,
                );
                return st;
            }
        };
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
            ..Default::default()
        };
        // vars_files are loaded per host (their names may use host variables).
        if let Err(msg) = self.load_vars_files(ctx, &mut st) {
            st.failed = true;
            st.stats.failures += 1;
            self.report(
                ctx,
                &st,
                0,
                "vars_files",
                Status::Failed,
                json!({"msg": msg}),
                None,
                Vec::new(),
                false,
                false,
            );
            return st;
        }
        if play.gather_facts && self.tags_selected(&["always".to_string()]) {
            let gf = Task {
                id: usize::MAX,
                name: Some("Gathering Facts".into()),
                action: Some(Action::GatherFacts),
                ..Default::default()
            };
            if let Err(stop) = self.run_task(ctx, &mut st, &conn, &gf, &base).await {
                self.after_stop(&mut st, stop);
                return st;
            }
        }
        let force = self.opts.force_handlers || play.force_handlers;
        for (index, section) in play.sections.iter().enumerate() {
            let r = self.run_list(ctx, &mut st, &conn, section, &base).await;
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
                        self.after_stop(&mut st, stop);
                        return st;
                    }
                }
                Err(Stop::End) => break,
                Err(Stop::Interrupted) => return st,
                Err(stop) => {
                    if force && stop == Stop::Failed {
                        let _ = self.flush_handlers(ctx, &mut st, &conn).await;
                    }
                    self.after_stop(&mut st, stop);
                    return st;
                }
            }
        }
        st
    }

    fn after_stop(&self, st: &mut HostState, stop: Stop) {
        match stop {
            Stop::Failed => st.failed = true,
            Stop::Unreachable => st.unreachable = true,
            Stop::End | Stop::Interrupted => {}
        }
    }

    fn load_vars_files(&self, ctx: &PlayCtx<'_>, st: &mut HostState) -> Result<(), String> {
        if ctx.play.vars_files.is_empty() {
            return Ok(());
        }
        let scope = self.scope_for(ctx, st, None, &Inherited::default(), &Vars::new());
        for f in &ctx.play.vars_files {
            let name = self
                .templater
                .render_str(f, &scope)
                .map_err(|e| format!("vars_files '{f}': {e}"))?;
            let path = self.pb.dir.join(vars::as_string(&name));
            let node = crate::yaml::load_file(&path).map_err(|e| e.to_string())?;
            let v = crate::playbook::vars_of_node(&node).map_err(|e| e.to_string())?;
            vars::overlay(&mut st.vars_files, &v);
        }
        Ok(())
    }

    fn run_list<'s>(
        &'s self,
        ctx: &'s PlayCtx<'_>,
        st: &'s mut HostState,
        conn: &'s Arc<Connection>,
        tasks: &'s [Task],
        inh: &'s Inherited,
    ) -> futures::future::BoxFuture<'s, Flow> {
        Box::pin(async move {
            for t in tasks {
                self.run_task(ctx, st, conn, t, inh).await?;
            }
            Ok(())
        })
    }

    /// Runs one task entry: a block, an include, or a module (with its loop).
    fn run_task<'s>(
        &'s self,
        ctx: &'s PlayCtx<'_>,
        st: &'s mut HostState,
        conn: &'s Arc<Connection>,
        task: &'s Task,
        inh: &'s Inherited,
    ) -> futures::future::BoxFuture<'s, Flow> {
        Box::pin(async move {
            if super::interrupt::is_set() {
                return Err(Stop::Interrupted);
            }
            tokio::select! {
                r = self.run_task_inner(ctx, st, conn, task, inh) => r,
                () = super::interrupt::wait() => Err(Stop::Interrupted),
            }
        })
    }

    async fn run_task_inner(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
        task: &Task,
        inh: &Inherited,
    ) -> Flow {
        let child = inherit(inh, task);
        if !matches!(task.action, Some(Action::Block { .. })) {
            st.censor = self.no_log(ctx, st, task, &child);
        }
        match &task.action {
            Some(Action::Block {
                block,
                rescue,
                always,
            }) => {
                let r = self.run_list(ctx, st, conn, block, &child).await;
                let r = match r {
                    Err(Stop::Failed) if !rescue.is_empty() => {
                        st.stats.failures = st.stats.failures.saturating_sub(1);
                        st.stats.rescued += 1;
                        self.run_list(ctx, st, conn, rescue, &child).await
                    }
                    other => other,
                };
                if matches!(r, Err(Stop::Unreachable | Stop::Interrupted)) {
                    return r;
                }
                let a = self.run_list(ctx, st, conn, always, &child).await;
                r.and(a)
            }
            Some(Action::IncludeTasks { .. }) | Some(Action::IncludeRole { .. }) => {
                if !self.tags_selected(&child.tags) {
                    return Ok(());
                }
                let items = match self.prepare_loop(ctx, st, task, inh).await {
                    Ok(i) => i,
                    Err(msg) => return self.fail_task(ctx, st, task, msg),
                };
                for (item_vars, _) in items {
                    let scope = self.scope_for(ctx, st, Some(task), inh, &item_vars);
                    match self.when_holds(&child_when(inh, task), &scope) {
                        Ok(true) => {}
                        Ok(false) => {
                            self.skip(ctx, st, task);
                            continue;
                        }
                        Err(msg) => return self.fail_task(ctx, st, task, msg),
                    }
                    let (tasks, sub) = match self.load_include(task, &child, inh, &scope, &item_vars) {
                        Ok(x) => x,
                        Err(msg) => return self.fail_task(ctx, st, task, msg),
                    };
                    // Ansible counts each include as an ok result of its own.
                    st.stats.ok += 1;
                    self.run_list(ctx, st, conn, &tasks, &sub).await?;
                }
                Ok(())
            }
            _ => self.run_leaf(ctx, st, conn, task, &child).await,
        }
    }

    /// Loads what an `include_tasks` / `include_role` brings in, and the keywords its tasks
    /// inherit: the include's `when` and tags stay on the include itself (Ansible's dynamic
    /// include rules); its vars and loop item become include params.
    fn load_include(
        &self,
        task: &Task,
        child: &Inherited,
        inh: &Inherited,
        scope: &Scope,
        item: &Vars,
    ) -> Result<(Vec<Task>, Inherited), String> {
        let loader = self.loader();
        let mut sub = child.clone();
        sub.when.clear();
        sub.tags = inh.tags.clone();
        let render = |s: &str| {
            self.templater
                .render_str(s, scope)
                .map(|v| vars::as_string(&v))
                .map_err(|e| e.to_string())
        };
        let target = match &task.action {
            Some(Action::IncludeTasks { file, .. }) => render(file)?,
            Some(Action::IncludeRole { name, .. }) => format!("role {}", render(name)?),
            _ => String::new(),
        };
        sub.includes.push(format!("{target} ({})", task.mark));
        if sub.includes.len() > crate::playbook::MAX_INCLUDE_DEPTH {
            return Err(include_depth_message(&sub.includes));
        }
        match &task.action {
            Some(Action::IncludeTasks { file, base, role }) => {
                let path = crate::playbook::resolve_task_file(base, role.as_ref(), &render(file)?);
                let tasks = loader
                    .task_file(&path, role.as_ref())
                    .map_err(|e| e.to_string())?;
                vars::overlay(&mut sub.params, item);
                vars::overlay(&mut sub.params, &task.vars);
                Ok((tasks, sub))
            }
            Some(Action::IncludeRole { name, tasks_from }) => {
                let role = loader
                    .load_role(&render(name)?, &task.vars, &task.mark)
                    .map_err(|e| e.to_string())?;
                let tasks = loader
                    .role_tasks(&role, tasks_from.as_deref(), &task.mark)
                    .map_err(|e| e.to_string())?;
                // The included role's defaults and vars apply to its own tasks.
                let mut params = role.defaults.clone();
                vars::overlay(&mut params, &role.vars);
                vars::overlay(&mut params, item);
                vars::overlay(&mut params, &task.vars);
                sub.params = params;
                sub.role = Some(role);
                Ok((tasks, sub))
            }
            _ => Err("internal: not an include".into()),
        }
    }

    fn loader(&self) -> crate::playbook::Loader {
        crate::playbook::Loader::new(&self.pb.dir)
    }

    /// A task whose action runs (module, set_fact, meta...), with its loop.
    async fn run_leaf(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
        task: &Task,
        inh: &Inherited,
    ) -> Flow {
        if !self.tags_selected(&inh.tags) && !matches!(task.action, Some(Action::GatherFacts)) {
            return Ok(());
        }
        if let Some(Action::Meta(m)) = &task.action {
            return self.meta(ctx, st, conn, task, inh, m).await;
        }
        if ctx.linear {
            ctx.lockstep.step().await;
        }
        let name = task.display_name();
        self.reporter.send(Event::TaskStart {
            host: st.name.clone(),
            task: name.clone(),
        });
        // `pause` runs once for all hosts of the play, like Ansible's (BYPASS_HOST_LOOP).
        let is_pause = matches!(&task.action, Some(Action::Module { name, .. }) if name == "pause");
        if task.run_once || is_pause {
            return self.run_once(ctx, st, conn, task, inh).await;
        }
        let items = match self.prepare_loop(ctx, st, task, inh).await {
            Ok(i) => i,
            Err(msg) => return self.fail_task(ctx, st, task, msg),
        };
        let looped = task.loop_.is_some();
        let mut results = Vec::new();
        let mut any_changed = false;
        let mut any_failed = false;
        let mut all_skipped = true;
        let mut unreachable = false;
        for (item_vars, label) in &items {
            let out = self.run_once_item(ctx, st, conn, task, inh, item_vars).await;
            if looped {
                let mut r = out.result.clone();
                if let Value::Object(m) = &mut r {
                    let loop_var = task
                        .loop_control
                        .loop_var
                        .clone()
                        .unwrap_or_else(|| "item".into());
                    if let Some(v) = item_vars.get(&loop_var) {
                        m.insert(loop_var.clone(), v.clone());
                    }
                    m.insert("ansible_loop_var".into(), json!(loop_var));
                    m.entry("changed").or_insert(json!(out.status == Status::Changed));
                    if out.status == Status::Failed {
                        m.insert("failed".into(), json!(true));
                    }
                    if out.status == Status::Skipped {
                        m.insert("skipped".into(), json!(true));
                    }
                }
                results.push(r);
                self.report(
                    ctx,
                    st,
                    task.id,
                    &name,
                    out.status,
                    out.result.clone(),
                    Some(label.clone()),
                    out.diff.clone(),
                    self.ignore_errors(ctx, st, task, inh),
                    self.is_handler(ctx, task),
                );
                if let Some(p) = task.loop_control.pause {
                    tokio::time::sleep(Duration::from_secs_f64(p.max(0.0))).await;
                }
            }
            any_changed |= out.status == Status::Changed;
            any_failed |= out.status == Status::Failed;
            unreachable |= out.status == Status::Unreachable;
            all_skipped &= out.status == Status::Skipped;
            if !looped {
                return self.finish(ctx, st, task, inh, out, None);
            }
            if unreachable {
                break;
            }
        }
        // The loop as a whole.
        let status = if unreachable {
            Status::Unreachable
        } else if any_failed {
            Status::Failed
        } else if all_skipped {
            Status::Skipped
        } else if any_changed {
            Status::Changed
        } else {
            Status::Ok
        };
        let mut result = Map::new();
        result.insert("results".into(), Value::Array(results));
        result.insert("changed".into(), json!(any_changed));
        result.insert(
            "msg".into(),
            json!(if any_failed {
                "One or more items failed"
            } else {
                "All items completed"
            }),
        );
        if any_failed {
            result.insert("failed".into(), json!(true));
        }
        if all_skipped {
            result.insert("skipped".into(), json!(true));
        }
        let out = Outcome {
            status,
            result: Value::Object(result),
            diff: Vec::new(),
        };
        self.finish(ctx, st, task, inh, out, Some(()))
    }

    /// Records a task's final outcome: register, notify, stats, report; decides whether the host
    /// goes on. `looped` is set when the items were already reported one by one.
    fn finish(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        task: &Task,
        inh: &Inherited,
        out: Outcome,
        looped: Option<()>,
    ) -> Flow {
        if let Some(reg) = &task.register {
            st.host_facts.insert(reg.clone(), out.result.clone());
        }
        if task.register.is_some()
            || matches!(
                task.action,
                Some(Action::SetFact { .. } | Action::IncludeVars { .. } | Action::GatherFacts)
            )
        {
            self.publish_hostvars(st);
        }
        let ignored = self.ignore_errors(ctx, st, task, inh);
        match out.status {
            Status::Ok => st.stats.ok += 1,
            Status::Changed => {
                st.stats.ok += 1;
                st.stats.changed += 1;
            }
            Status::Skipped => st.stats.skipped += 1,
            Status::Failed if ignored => {
                st.stats.ok += 1;
                st.stats.ignored += 1;
            }
            Status::Failed => st.stats.failures += 1,
            Status::Unreachable => st.stats.unreachable += 1,
        }
        if looped.is_none() {
            self.report(
                ctx,
                st,
                task.id,
                &task.display_name(),
                out.status,
                out.result.clone(),
                None,
                out.diff,
                ignored,
                self.is_handler(ctx, task),
            );
        }
        if out.status == Status::Changed {
            for n in &task.notify {
                if !st.pending_handlers.contains(n) {
                    st.pending_handlers.push(n.clone());
                }
            }
        }
        match out.status {
            Status::Unreachable => Err(Stop::Unreachable),
            Status::Failed if !ignored && !self.opts.keep_going => Err(Stop::Failed),
            _ => Ok(()),
        }
    }

    async fn run_once(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
        task: &Task,
        inh: &Inherited,
    ) -> Flow {
        let cell = match ctx.run_once.lock() {
            Ok(mut map) => map
                .entry(task.id)
                .or_insert_with(|| Arc::new(tokio::sync::OnceCell::new()))
                .clone(),
            Err(_) => Arc::new(tokio::sync::OnceCell::new()),
        };
        // The first host of the batch still running executes it (like Ansible); the others wait
        // for its result, or take over if it leaves the play before reaching this task.
        let mut ran_here = false;
        let shared = loop {
            let notified = ctx.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(s) = cell.get() {
                break s.clone();
            }
            let designated = ctx.active.lock().ok().and_then(|a| a.first().cloned());
            if designated.as_deref().is_none_or(|d| d == st.name) {
                let s = cell
                    .get_or_init(|| async {
                        ran_here = true;
                        let out = self.run_once_item(ctx, st, conn, task, inh, &Vars::new()).await;
                        Shared {
                            status: out.status,
                            result: out.result,
                        }
                    })
                    .await
                    .clone();
                ctx.changed.notify_waiters();
                break s;
            }
            notified.await;
        };
        let out = Outcome {
            status: shared.status,
            result: shared.result,
            diff: Vec::new(),
        };
        if ran_here {
            self.finish(ctx, st, task, inh, out, None)
        } else {
            // Other hosts get the registered result and the notifications, not a report line.
            if let Some(reg) = &task.register {
                st.host_facts.insert(reg.clone(), out.result.clone());
            }
            Ok(())
        }
    }

    /// One execution of a task's action for one loop item (or no loop): when, args, module,
    /// retries, changed_when/failed_when.
    async fn run_once_item(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
        task: &Task,
        inh: &Inherited,
        item: &Vars,
    ) -> Outcome {
        let scope = self.scope_for(ctx, st, Some(task), inh, item);
        match self.when_holds(&child_when(inh, task), &scope) {
            Ok(true) => {}
            Ok(false) => {
                let cond = child_when(inh, task).last().cloned().unwrap_or_default();
                return Outcome {
                    status: Status::Skipped,
                    result: json!({"changed": false, "skipped": true, "skip_reason": "Conditional result was False", "false_condition": cond}),
                    diff: Vec::new(),
                };
            }
            Err(msg) => return failed_at(task, msg),
        }
        let retries = match &task.until {
            Some(_) => task
                .retries
                .as_ref()
                .map(|r| self.int_of(r, &scope))
                .unwrap_or(Ok(3)),
            None => Ok(0),
        };
        let retries = match retries {
            Ok(r) => r.max(0) as u32,
            Err(m) => return failed_at(task, m),
        };
        let delay = match task
            .delay
            .as_ref()
            .map(|d| self.int_of(d, &scope))
            .unwrap_or(Ok(5))
        {
            Ok(d) => d.max(0) as u64,
            Err(m) => return failed_at(task, m),
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut out = self.execute_action(ctx, st, conn, task, inh, &scope).await;
            if out.status == Status::Unreachable {
                return out;
            }
            if out.status != Status::Skipped
                && let Err(msg) = self.apply_when_overrides(task, st, &scope, &mut out)
            {
                return failed_at(task, msg);
            }
            let Some(until) = &task.until else { return out };
            // A skipped action (e.g. a command in check mode) has nothing to retry.
            if out.status == Status::Skipped {
                return out;
            }
            let scope2 = self.with_result(&scope, task, &out.result);
            let ok = match self.when_holds(until, &scope2) {
                Ok(b) => b,
                Err(m) => return failed_at(task, m),
            };
            if let Value::Object(m) = &mut out.result {
                m.insert("attempts".into(), json!(attempt));
            }
            if ok {
                if out.status == Status::Failed && task.failed_when.is_none() {
                    out.status = if truthy(out.result.get("changed")) {
                        Status::Changed
                    } else {
                        Status::Ok
                    };
                    if let Value::Object(m) = &mut out.result {
                        m.remove("failed");
                    }
                }
                return out;
            }
            if attempt > retries {
                out.status = Status::Failed;
                if let Value::Object(m) = &mut out.result {
                    m.insert("failed".into(), json!(true));
                    m.entry("msg")
                        .or_insert(json!("Task failed as maximum retries was encountered"));
                }
                return out;
            }
            tokio::time::sleep(Duration::from_secs(delay)).await;
        }
    }

    fn with_result(&self, scope: &Scope, task: &Task, result: &Value) -> Scope {
        let mut vars = (*scope.vars).clone();
        if let Some(reg) = &task.register {
            vars.insert(reg.clone(), result.clone());
        }
        if let Value::Object(m) = result {
            // Ansible exposes the fresh result's fields for changed_when/failed_when too.
            for k in ["rc", "stdout", "stderr", "stdout_lines", "stderr_lines"] {
                if let Some(v) = m.get(k) {
                    vars.entry(k.to_string()).or_insert_with(|| v.clone());
                }
            }
        }
        scope.with_vars(Arc::new(vars))
    }

    fn apply_when_overrides(
        &self,
        task: &Task,
        _st: &HostState,
        scope: &Scope,
        out: &mut Outcome,
    ) -> Result<(), String> {
        if task.changed_when.is_none() && task.failed_when.is_none() {
            return Ok(());
        }
        let scope = self.with_result(scope, task, &out.result);
        if let Some(conds) = &task.changed_when {
            let changed = self.when_holds(conds, &scope)?;
            if out.status == Status::Changed || out.status == Status::Ok {
                out.status = if changed { Status::Changed } else { Status::Ok };
            }
            if let Value::Object(m) = &mut out.result {
                m.insert("changed".into(), json!(changed));
            }
        }
        if let Some(conds) = &task.failed_when {
            let fail = if conds.is_empty() {
                false
            } else {
                self.when_holds(conds, &scope)?
            };
            if fail {
                out.status = Status::Failed;
                if let Value::Object(m) = &mut out.result {
                    m.insert("failed".into(), json!(true));
                    m.insert("failed_when_result".into(), json!(true));
                    m.entry("msg").or_insert(json!("failed_when condition was true"));
                }
            } else if out.status == Status::Failed {
                let changed = truthy(out.result.get("changed"));
                out.status = if changed { Status::Changed } else { Status::Ok };
                if let Value::Object(m) = &mut out.result {
                    m.insert("failed".into(), json!(false));
                    m.insert("failed_when_result".into(), json!(false));
                }
            }
        }
        Ok(())
    }

    fn int_of(&self, v: &Value, scope: &Scope) -> Result<i64, String> {
        let r = self.templater.render_value(v, scope).map_err(|e| e.to_string())?;
        match &r {
            Value::Number(n) => n.as_i64().ok_or_else(|| format!("expected an integer, got {r}")),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("expected an integer, got '{s}'")),
            _ => Err(format!("expected an integer, got {r}")),
        }
    }

    /// Runs the action itself (no conditions, no retries).
    async fn execute_action(
        &self,
        _ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
        task: &Task,
        inh: &Inherited,
        scope: &Scope,
    ) -> Outcome {
        match &task.action {
            Some(Action::SetFact { args }) => {
                let rendered = match self.render_args(args, scope) {
                    Ok(a) => a,
                    Err(m) => return failed_at(task, m),
                };
                let mut facts = Map::new();
                for (k, v) in rendered {
                    if k == "cacheable" {
                        continue;
                    }
                    st.host_facts.insert(k.clone(), v.clone());
                    facts.insert(k, v);
                }
                Outcome {
                    status: Status::Ok,
                    result: json!({"ansible_facts": facts, "changed": false}),
                    diff: Vec::new(),
                }
            }
            Some(Action::IncludeVars { args }) => match self.include_vars(args, scope) {
                Ok(v) => {
                    let facts = v.clone();
                    vars::overlay(&mut st.include_vars, &v);
                    Outcome {
                        status: Status::Ok,
                        result: json!({"ansible_facts": facts, "changed": false}),
                        diff: Vec::new(),
                    }
                }
                Err(m) => failed_at(task, m),
            },
            Some(Action::GatherFacts) => match super::facts::gather(conn).await {
                Ok(f) => {
                    st.facts = f.clone();
                    Outcome {
                        status: Status::Ok,
                        result: json!({"ansible_facts": f, "changed": false}),
                        diff: Vec::new(),
                    }
                }
                Err(e) if e.is_unreachable() => unreachable(&e, task),
                Err(e) => failed(e.to_string()),
            },
            Some(Action::Module { name, args }) => {
                let args = match self.render_args(args, scope) {
                    Ok(a) => a,
                    Err(m) => return failed_at(task, m),
                };
                let become_ = match self.become_for(task, inh, scope) {
                    Ok(b) => b,
                    Err(m) => return failed_at(task, m),
                };
                let local;
                let conn_ref: &Connection = match &task.delegate_to {
                    Some(d) => {
                        let d = self
                            .templater
                            .render_str(d, scope)
                            .map(|v| vars::as_string(&v))
                            .unwrap_or_default();
                        if d == "localhost" || d == "127.0.0.1" {
                            local =
                                Connection::Local(crate::transport::local::LocalConnection::new("localhost"));
                            &local
                        } else {
                            return failed(format!(
                                "delegate_to: '{d}': talon supports delegating only to localhost"
                            ));
                        }
                    }
                    None => conn,
                };
                let check = task.check_mode.or(inh.check_mode).unwrap_or(self.opts.check);
                let diff = task.diff.or(inh.diff).unwrap_or(self.opts.diff);
                let search_paths = self.search_paths(task, inh);
                let env = match self.environment(task, inh, scope) {
                    Ok(e) => e,
                    Err(m) => return failed_at(task, m),
                };
                // secrets: refuse a secret on a command line before the module runs.
                let place = format!("task '{}' at {}", task.display_name(), task.mark);
                if let Err(e) = self.opts.secrets.refuse_args(name, &args, &env, &place) {
                    return failed(e.to_string());
                }
                let mctx = ModuleContext {
                    conn: conn_ref,
                    host: &st.name,
                    check,
                    diff,
                    become_,
                    scope,
                    templater: &self.templater,
                    search_paths: &search_paths,
                    env: &env,
                    secrets: &self.opts.secrets,
                };
                match modules::run(name, &args, &mctx).await {
                    Ok(o) => outcome_from_module(o),
                    Err(modules::ModuleError::Transport(e)) if e.is_unreachable() => unreachable(&e, task),
                    Err(e) => failed(e.to_string()),
                }
            }
            _ => failed("internal: this action cannot run as a leaf task".into()),
        }
    }

    fn include_vars(&self, args: &Vars, scope: &Scope) -> Result<Vars, String> {
        let base = args
            .get("__base")
            .and_then(Value::as_str)
            .map(PathBuf::from)
            .unwrap_or_else(|| self.pb.dir.clone());
        let mut clean = args.clone();
        clean.remove("__base");
        let rendered = self.render_args(&clean, scope)?;
        let file = rendered
            .get("file")
            .or_else(|| rendered.get("_raw_params"))
            .map(vars::as_string);
        let Some(file) = file else {
            return Err("include_vars: give a file (dir: is not supported yet)".into());
        };
        let mut candidates = vec![base.join(&file), base.join("vars").join(&file)];
        if let Some(parent) = base.parent() {
            candidates.push(parent.join("vars").join(&file));
        }
        candidates.push(self.pb.dir.join(&file));
        let path = candidates
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| format!("include_vars: could not find '{file}'"))?;
        let node = crate::yaml::load_file(&path).map_err(|e| e.to_string())?;
        let v = crate::playbook::vars_of_node(&node).map_err(|e| e.to_string())?;
        Ok(match rendered.get("name").and_then(Value::as_str) {
            Some(n) => {
                let mut m = Vars::new();
                m.insert(n.to_string(), Value::Object(v));
                m
            }
            None => v,
        })
    }

    /// `environment:` of the play, enclosing blocks and the task, rendered; later ones win.
    fn environment(
        &self,
        task: &Task,
        inh: &Inherited,
        scope: &Scope,
    ) -> Result<Vec<(String, String)>, String> {
        let mut out: Vec<(String, String)> = Vec::new();
        for e in inh.environment.iter().chain(task.environment.iter()) {
            let v = self
                .templater
                .render_value(e, scope)
                .map_err(|e| format!("environment: {e}"))?;
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        out.retain(|(x, _)| x != &k);
                        out.push((k, vars::as_string(&v)));
                    }
                }
                Value::Null => {}
                other => return Err(format!("environment must be a mapping, got {other}")),
            }
        }
        Ok(out)
    }

    fn search_paths(&self, task: &Task, inh: &Inherited) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Some(r) = task.role.as_ref().or(inh.role.as_ref()) {
            out.push(r.path.clone());
        }
        out.push(task.mark.file.parent().map(PathBuf::from).unwrap_or_default());
        out.push(self.pb.dir.clone());
        out
    }

    fn become_for(&self, task: &Task, inh: &Inherited, scope: &Scope) -> Result<Option<Become>, String> {
        let hv = &scope.vars;
        let on = match task.become_.or(inh.become_) {
            Some(b) => b,
            None => hv.get("ansible_become").and_then(vars::as_bool).unwrap_or(false),
        };
        if !on {
            return Ok(None);
        }
        let user_v = task
            .become_user
            .clone()
            .or_else(|| inh.become_user.clone())
            .or_else(|| hv.get("ansible_become_user").map(vars::as_string))
            .unwrap_or_else(|| "root".into());
        let user = vars::as_string(
            &self
                .templater
                .render_str(&user_v, scope)
                .map_err(|e| e.to_string())?,
        );
        let remote_user = hv
            .get("ansible_user")
            .map(vars::as_string)
            .unwrap_or_else(|| std::env::var("USER").unwrap_or_else(|_| "root".into()));
        if user == remote_user {
            // Already that user: sudo would change nothing.
            return Ok(None);
        }
        let password = match hv
            .get("ansible_become_password")
            .or_else(|| hv.get("ansible_become_pass"))
        {
            Some(p) => {
                let p = self.templater.render_value(p, scope).map_err(|e| e.to_string())?;
                // A password from --secrets/--secret-env/--ask-secret is a marker here: sudo
                // gets the value, never the marker.
                let revealed = self
                    .opts
                    .secrets
                    .reveal(&vars::as_string(&p))
                    .map_err(|e| format!("ansible_become_password: {e}"))?;
                let text = String::from_utf8(revealed.content.to_vec())
                    .map_err(|_| "ansible_become_password is not valid UTF-8".to_string())?;
                let p = secrecy::SecretString::from(text);
                self.opts.secrets.also_mask(&p); // secrets: masked in every report
                Some(p)
            }
            None => None,
        };
        Ok(Some(Become { user, password }))
    }

    fn render_args(&self, args: &Vars, scope: &Scope) -> Result<Vars, String> {
        let mut out = Vars::new();
        for (k, v) in args {
            let r = self
                .templater
                .render_value(v, scope)
                .map_err(|e| format!("argument '{k}': {e}"))?;
            if r.as_str() == Some(OMIT) {
                continue;
            }
            out.insert(k.clone(), r);
        }
        Ok(out)
    }

    fn when_holds(&self, conds: &[String], scope: &Scope) -> Result<bool, String> {
        for c in conds {
            match self.templater.eval_condition(c, scope) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => return Err(format!("the conditional check '{c}' failed: {e}")),
            }
        }
        Ok(true)
    }

    /// Evaluates the loop of a task into (item vars, label) pairs; no loop = one empty item.
    async fn prepare_loop(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        task: &Task,
        inh: &Inherited,
    ) -> Result<Vec<(Vars, String)>, String> {
        let Some(raw) = &task.loop_ else {
            return Ok(vec![(Vars::new(), String::new())]);
        };
        let scope = self.scope_for(ctx, st, Some(task), inh, &Vars::new());
        let v = self
            .templater
            .render_value(raw, &scope)
            .map_err(|e| format!("loop: {e}"))?;
        let list = match v {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            Value::String(s) if task.loop_flatten => vec![Value::String(s)],
            other => {
                return Err(format!(
                    "Invalid data passed to 'loop', it requires a list, got this instead: {other}"
                ));
            }
        };
        let list: Vec<Value> = if task.loop_flatten {
            list.into_iter()
                .flat_map(|x| match x {
                    Value::Array(inner) => inner,
                    other => vec![other],
                })
                .collect()
        } else {
            list
        };
        let loop_var = task
            .loop_control
            .loop_var
            .clone()
            .unwrap_or_else(|| "item".into());
        let n = list.len();
        let mut out = Vec::with_capacity(n);
        for (i, item) in list.into_iter().enumerate() {
            let mut vars = Vars::new();
            vars.insert(loop_var.clone(), item.clone());
            vars.insert("ansible_loop_var".into(), json!(loop_var));
            if let Some(iv) = &task.loop_control.index_var {
                vars.insert(iv.clone(), json!(i));
            }
            if task.loop_control.extended {
                vars.insert(
                    "ansible_loop".into(),
                    json!({"index": i + 1, "index0": i, "first": i == 0, "last": i + 1 == n, "length": n, "revindex": n - i, "revindex0": n - i - 1}),
                );
            }
            let label = match &task.loop_control.label {
                Some(l) => {
                    let s = scope.with_vars(Arc::new({
                        let mut v = (*scope.vars).clone();
                        vars::overlay(&mut v, &vars);
                        v
                    }));
                    self.templater
                        .render_str(l, &s)
                        .map(|v| vars::as_string(&v))
                        .unwrap_or_else(|_| l.clone())
                }
                None => match &item {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            };
            out.push((vars, label));
        }
        Ok(out)
    }

    /// The variables a task sees, merged in Ansible's precedence order (low to high).
    pub(crate) fn scope_for(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        task: Option<&Task>,
        inh: &Inherited,
        item: &Vars,
    ) -> Scope {
        let mut v = ctx.role_defaults.clone();
        if let Some(r) = task.and_then(|t| t.role.as_ref()).or(inh.role.as_ref()) {
            vars::overlay(&mut v, &r.defaults);
        }
        vars::overlay(&mut v, &st.inv_vars);
        if !st.facts.is_empty() {
            for (k, val) in &st.facts {
                v.insert(format!("ansible_{k}"), val.clone());
            }
            v.insert("ansible_facts".into(), Value::Object(st.facts.clone()));
        }
        vars::overlay(&mut v, &ctx.play.vars);
        vars::overlay(&mut v, &st.vars_files);
        vars::overlay(&mut v, &ctx.role_vars);
        if let Some(r) = task.and_then(|t| t.role.as_ref()).or(inh.role.as_ref()) {
            vars::overlay(&mut v, &r.vars);
        }
        vars::overlay(&mut v, &inh.vars);
        if let Some(t) = task
            && !matches!(t.action, Some(Action::Block { .. }))
        {
            vars::overlay(&mut v, &t.vars);
        }
        vars::overlay(&mut v, &st.include_vars);
        vars::overlay(&mut v, &st.host_facts);
        if let Some(r) = task.and_then(|t| t.role.as_ref()).or(inh.role.as_ref()) {
            vars::overlay(&mut v, &r.params);
            v.insert("role_path".into(), json!(r.path.display().to_string()));
            v.insert("role_name".into(), json!(r.name));
        }
        vars::overlay(&mut v, &inh.params);
        vars::overlay(&mut v, &self.opts.extra_vars);
        // secrets: templates see opaque markers, never values (src/secrets/).
        vars::overlay(&mut v, &self.opts.secrets.marker_vars());
        vars::overlay(&mut v, item);
        v.insert("inventory_hostname".into(), json!(st.name));
        v.insert("playbook_dir".into(), json!(self.pb.dir.display().to_string()));
        v.insert("ansible_check_mode".into(), json!(self.opts.check));
        v.insert("ansible_diff_mode".into(), json!(self.opts.diff));
        v.insert("ansible_play_name".into(), json!(ctx.play.name));
        v.insert("ansible_play_hosts".into(), json!(ctx.play_hosts));
        v.insert("ansible_play_batch".into(), json!(ctx.play_hosts));
        v.insert("groups".into(), self.groups.clone());
        v.insert("omit".into(), json!(OMIT));
        let hostvars = self.hostvars.read().map(|h| h.clone()).unwrap_or_default();
        let search = match task {
            Some(t) => self.search_paths(t, inh),
            None => vec![self.pb.dir.clone()],
        };
        Scope::new(Arc::new(v))
            .with_hostvars(hostvars)
            .with_search_paths(search)
    }

    async fn meta(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
        task: &Task,
        inh: &Inherited,
        m: &str,
    ) -> Flow {
        let scope = self.scope_for(ctx, st, Some(task), inh, &Vars::new());
        match self.when_holds(&child_when(inh, task), &scope) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(msg) => return self.fail_task(ctx, st, task, msg),
        }
        match m {
            "flush_handlers" => self.flush_handlers(ctx, st, conn).await,
            "end_play" | "end_host" => Err(Stop::End),
            "clear_host_errors" => Ok(()),
            _ => Ok(()),
        }
    }

    /// Runs notified handlers on this host, in definition order, until none is pending.
    pub(crate) async fn flush_handlers(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
    ) -> Flow {
        let mut rounds = 0;
        while !st.pending_handlers.is_empty() && rounds < 16 {
            rounds += 1;
            let pending: BTreeSet<String> = st.pending_handlers.drain(..).collect();
            for h in &ctx.play.handlers {
                if !handler_matches(h, &pending) {
                    continue;
                }
                let inh = Inherited {
                    become_: ctx.play.become_,
                    become_user: ctx.play.become_user.clone(),
                    ..Default::default()
                };
                self.run_task(ctx, st, conn, h, &inh).await?;
            }
        }
        Ok(())
    }

    fn is_handler(&self, ctx: &PlayCtx<'_>, task: &Task) -> bool {
        ctx.play.handlers.iter().any(|h| h.id == task.id)
    }

    /// `no_log` as inherited by `task` (play, block, task): a boolean, or a template rendered
    /// with the task's variables. A value that renders to no boolean censors (a result is hidden
    /// rather than shown when in doubt).
    fn no_log(&self, ctx: &PlayCtx<'_>, st: &HostState, task: &Task, child: &Inherited) -> bool {
        let Some(v) = &child.no_log else {
            return false;
        };
        if let Some(b) = vars::as_bool(v) {
            return b;
        }
        let scope = self.scope_for(ctx, st, Some(task), child, &Vars::new());
        match self.templater.render_value(v, &scope) {
            Ok(r) => vars::as_bool(&r).unwrap_or(true),
            Err(_) => true,
        }
    }

    /// `ignore_errors` as inherited by `task` (play, block, task): a boolean, or a template
    /// rendered with the task's variables (a value that renders to no boolean does not ignore).
    fn ignore_errors(&self, ctx: &PlayCtx<'_>, st: &HostState, task: &Task, inh: &Inherited) -> bool {
        let Some(v) = task.ignore_errors.as_ref().or(inh.ignore_errors.as_ref()) else {
            return false;
        };
        if let Some(b) = vars::as_bool(v) {
            return b;
        }
        let scope = self.scope_for(ctx, st, Some(task), inh, &Vars::new());
        self.templater
            .render_value(v, &scope)
            .ok()
            .and_then(|r| vars::as_bool(&r))
            .unwrap_or(false)
    }

    fn skip(&self, ctx: &PlayCtx<'_>, st: &mut HostState, task: &Task) {
        st.stats.skipped += 1;
        self.report(
            ctx,
            st,
            task.id,
            &task.display_name(),
            Status::Skipped,
            json!({"changed": false, "skipped": true}),
            None,
            Vec::new(),
            false,
            false,
        );
    }

    fn fail_task(&self, ctx: &PlayCtx<'_>, st: &mut HostState, task: &Task, msg: String) -> Flow {
        let msg = format!("{msg} (task '{}' at {})", task.display_name(), task.mark);
        let out = Outcome {
            status: Status::Failed,
            result: json!({"msg": msg, "failed": true, "changed": false}),
            diff: Vec::new(),
        };
        self.finish(ctx, st, task, &Inherited::default(), out, None)
    }

    /// `--tags` / `--skip-tags` selection for a task with these (inherited) tags.
    pub(crate) fn tags_selected(&self, tags: &[String]) -> bool {
        let has = |t: &str| tags.iter().any(|x| x == t);
        if self
            .opts
            .skip_tags
            .iter()
            .any(|s| has(s) || (s == "tagged" && !tags.is_empty()) || (s == "untagged" && tags.is_empty()))
        {
            return false;
        }
        if has("always") {
            return true;
        }
        if self.opts.tags.is_empty() || self.opts.tags.iter().any(|t| t == "all") {
            return !has("never");
        }
        self.opts
            .tags
            .iter()
            .any(|t| has(t) || (t == "tagged" && !tags.is_empty()) || (t == "untagged" && tags.is_empty()))
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        task_id: usize,
        name: &str,
        status: Status,
        result: Value,
        item: Option<String>,
        diff: Vec<String>,
        ignored: bool,
        handler: bool,
    ) {
        // no_log: the result is shown as Ansible shows it, `censored` with `changed` (and the
        // retry counters) kept; no diff, and a loop item reads `None`. Registered variables keep
        // the whole result.
        let (result, item, diff) = if st.censor {
            let mut shown = serde_json::Map::new();
            shown.insert("censored".into(), json!(NO_LOG_CENSORED));
            for key in ["attempts", "changed", "retries"] {
                if let Some(v) = result.get(key) {
                    shown.insert(key.into(), v.clone());
                }
            }
            (Value::Object(shown), item.map(|_| "None".to_string()), Vec::new())
        } else {
            (result, item, diff)
        };
        // secrets: every value and marker is masked in what is shown or put in JSON.
        let s = &self.opts.secrets;
        self.reporter.send(Event::TaskResult(TaskReport {
            play: ctx.play.index,
            task_id,
            task_name: s.mask(name),
            host: st.name.clone(),
            status,
            ignored,
            item: item.map(|i| s.mask(&i)),
            result: s.mask_value(result),
            diff: diff.iter().map(|d| s.mask(d)).collect(),
            handler,
        }));
    }
}

/// What a `no_log` result shows instead of its content (Ansible's wording).
const NO_LOG_CENSORED: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

fn handler_matches(h: &Task, pending: &BTreeSet<String>) -> bool {
    let name = h.name.clone().unwrap_or_default();
    if pending.contains(&name) || h.listen.iter().any(|l| pending.contains(l)) {
        return true;
    }
    if let Some(r) = &h.role {
        return pending.contains(&format!("{} : {}", r.name, name));
    }
    false
}

fn inherit(inh: &Inherited, task: &Task) -> Inherited {
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
    if task.role.is_some() {
        c.role = task.role.clone();
    }
    c
}

/// The error of an include nested past [`crate::playbook::MAX_INCLUDE_DEPTH`]: the first
/// includes and the last ones (a recursion repeats the same few).
fn include_depth_message(chain: &[String]) -> String {
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

fn child_when(inh: &Inherited, task: &Task) -> Vec<String> {
    let mut w = inh.when.clone();
    if !matches!(task.action, Some(Action::Block { .. })) {
        w.extend(task.when.iter().cloned());
    }
    w
}

fn truthy(v: Option<&Value>) -> bool {
    v.and_then(vars::as_bool).unwrap_or(false)
}

/// A failure found by talon itself (template, condition, bad value): names the task and place.
fn failed_at(task: &Task, msg: String) -> Outcome {
    failed(format!("{msg} (task '{}' at {})", task.display_name(), task.mark))
}

/// The outcome of a task whose host could not be reached; a connection that was lost under the
/// task says during which task ("connection to web1 (10.0.0.5:22) lost during TASK [...]").
fn unreachable(e: &crate::transport::TransportError, task: &Task) -> Outcome {
    let msg = match e {
        crate::transport::TransportError::Lost { host, addr, reason } => format!(
            "connection to {host} ({addr}) lost during TASK [{}]: {reason}",
            task.display_name()
        ),
        other => other.to_string(),
    };
    Outcome {
        status: Status::Unreachable,
        result: json!({"msg": msg, "unreachable": true}),
        diff: Vec::new(),
    }
}

fn failed(msg: String) -> Outcome {
    Outcome {
        status: Status::Failed,
        result: json!({"msg": msg, "failed": true, "changed": false}),
        diff: Vec::new(),
    }
}

fn outcome_from_module(o: ModuleOutcome) -> Outcome {
    let mut result = o.result;
    result.insert("changed".into(), json!(o.changed));
    if let Some(m) = &o.msg {
        result.insert("msg".into(), json!(m));
    }
    if o.failed {
        result.insert("failed".into(), json!(true));
    }
    if o.skipped {
        result.insert("skipped".into(), json!(true));
    }
    let status = if o.failed {
        Status::Failed
    } else if o.skipped {
        Status::Skipped
    } else if o.changed {
        Status::Changed
    } else {
        Status::Ok
    };
    let diff = o.diff.iter().map(render_diff).collect();
    Outcome {
        status,
        result: Value::Object(result),
        diff,
    }
}

/// A unified diff of one file change (for `--diff`).
fn render_diff(d: &modules::FileDiff) -> String {
    let diff = similar::TextDiff::from_lines(&d.before, &d.after);
    diff.unified_diff()
        .context_radius(3)
        .header(
            &format!("before: {}", d.before_header),
            &format!("after: {}", d.after_header),
        )
        .to_string()
}
