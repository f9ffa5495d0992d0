//! The walk through a list of tasks: blocks with rescue/always, static and dynamic includes,
//! loops (with `until` retries), conditions, `run_once`, and how each result is counted.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::error::TaskError;
use super::host::{
    Flow, HostState, Inherited, Outcome, Shared, Stop, child_when, include_depth_message, inherit, truthy,
};
use super::task::failed_at;
use super::{PlayCtx, Runner};
use crate::playbook::{Action, Task};
use crate::report::{Status, TaskReport};
use crate::template::Scope;
use crate::transport::Connection;
use crate::vars::{self, Vars};

impl<'a> Runner<'a> {
    pub(super) fn run_list<'s>(
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
    pub(super) fn run_task<'s>(
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

    pub(super) async fn run_task_inner(
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
                st.errors_cleared = false;
                let r = self.run_list(ctx, st, conn, block, &child).await;
                let r = match r {
                    Err(Stop::Failed) if !rescue.is_empty() => {
                        st.stats.rescue();
                        self.run_list(ctx, st, conn, rescue, &child).await
                    }
                    other => other,
                };
                if matches!(r, Err(Stop::Unreachable | Stop::Interrupted)) {
                    return r;
                }
                let a = self.run_list(ctx, st, conn, always, &child).await;
                // `meta: clear_host_errors` in rescue or always: the host goes on.
                let r = match r {
                    Err(Stop::Failed) if std::mem::take(&mut st.errors_cleared) => Ok(()),
                    other => other,
                };
                r.and(a)
            }
            Some(Action::IncludeTasks { .. }) | Some(Action::IncludeRole { .. }) => {
                if !child.handler && !self.tags_selected(&child.tags) {
                    return Ok(());
                }
                let items = match self.prepare_loop(ctx, st, task, inh).await {
                    Ok(i) => i,
                    Err(msg) => return self.fail_task(ctx, st, task, msg),
                };
                let looped = task.loop_.is_some();
                for (item_vars, label) in items {
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
                    // Ansible reports and counts each include (each item of a looped one) as an
                    // ok result of its own.
                    st.stats.record(Status::Ok, false, false);
                    let mut r = TaskReport::new(
                        ctx.play.index,
                        task.id,
                        &task.display_name(),
                        &st.name,
                        Status::Ok,
                        json!({"changed": false, "failed": false}),
                    );
                    if looped {
                        r = r.item(label);
                    }
                    self.report(st, r);
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
    pub(super) fn load_include(
        &self,
        task: &Task,
        child: &Inherited,
        inh: &Inherited,
        scope: &Scope,
        item: &Vars,
    ) -> Result<(Vec<Task>, Inherited), TaskError> {
        let seed = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            task.id.hash(&mut h);
            serde_json::to_string(item).unwrap_or_default().hash(&mut h);
            h.finish()
        };
        let loader = crate::playbook::Loader::for_include(&self.pb.dir, seed);
        let mut sub = child.clone();
        sub.when.clear();
        sub.tags = inh.tags.clone();
        let render = |s: &str| {
            self.templater
                .render_str(s, scope)
                .map(|v| vars::as_string(&v))
                .map_err(TaskError::template(""))
        };
        let target = match &task.action {
            Some(Action::IncludeTasks { file, .. }) => render(file)?,
            Some(Action::IncludeRole { name, .. }) => format!("role {}", render(name)?),
            _ => String::new(),
        };
        sub.includes.push(format!("{target} ({})", task.mark));
        if sub.includes.len() > crate::playbook::MAX_INCLUDE_DEPTH {
            return Err(TaskError::Invalid(include_depth_message(&sub.includes)));
        }
        match &task.action {
            Some(Action::IncludeTasks { file, base, role }) => {
                let path = crate::playbook::resolve_task_file(base, role.as_ref(), &render(file)?);
                let tasks = loader.task_file(&path, role.as_ref())?;
                vars::overlay(&mut sub.params, item);
                vars::overlay(&mut sub.params, &task.vars);
                Ok((tasks, sub))
            }
            Some(Action::IncludeRole { name, from }) => {
                let role = loader.load_role_from(&render(name)?, &task.vars, &task.mark, from)?;
                let tasks = loader.role_tasks(&role, from.tasks.as_deref(), &task.mark)?;
                // The included role's defaults and vars apply to its own tasks.
                let mut params = role.defaults.clone();
                vars::overlay(&mut params, &role.vars);
                vars::overlay(&mut params, item);
                vars::overlay(&mut params, &task.vars);
                sub.params = params;
                sub.role = Some(role);
                Ok((tasks, sub))
            }
            _ => Err(TaskError::Invalid("internal: not an include".into())),
        }
    }

    /// Records a task's final outcome: register, notify, stats, report; decides whether the host
    /// goes on. `looped` is set when the items were already reported one by one.
    pub(super) fn finish(
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
            st.registered.insert(reg.clone());
        }
        // A module's `ansible_facts` (service_facts, getent, a discovered interpreter) become
        // the host's facts, as ansible-core merges them, from each loop item too.
        let module_facts = matches!(task.action, Some(Action::Module { .. } | Action::Python { .. }))
            && out.status != Status::Failed;
        if module_facts {
            let items = out.result.get("results").and_then(Value::as_array);
            let facts: Vec<&serde_json::Map<String, Value>> = std::iter::once(&out.result)
                .chain(items.into_iter().flatten())
                .filter_map(|r| r.get("ansible_facts").and_then(Value::as_object))
                .collect();
            for f in &facts {
                st.merge_module_facts(f);
            }
            if !facts.is_empty() {
                self.publish_hostvars(st);
            }
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
        st.stats
            .record(out.status, ignored, truthy(out.result.get("changed")));
        if looped.is_none() {
            let r = self.task_report(ctx, st, task, &out).ignored(ignored);
            self.report(st, r);
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

    pub(super) async fn run_once(
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
                st.registered.insert(reg.clone());
            }
            Ok(())
        }
    }

    /// One execution of a task's action for one loop item (or no loop): when, args, module,
    /// retries, changed_when/failed_when. A failed result has `exception`, as in ansible-core
    /// 2.19, whose results carry `"(traceback unavailable)"` there when no traceback was kept.
    pub(super) async fn run_once_item(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
        task: &Task,
        inh: &Inherited,
        item: &Vars,
    ) -> Outcome {
        let mut out = self.attempt_item(ctx, st, conn, task, inh, item).await;
        if out.status == Status::Failed
            && let Value::Object(m) = &mut out.result
        {
            m.entry("exception").or_insert(json!("(traceback unavailable)"));
        }
        out
    }

    /// [`Runner::run_once_item`] before the failure's `exception` is added.
    async fn attempt_item(
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
        // Matches ansible-core 2.19's TaskExecutor: `retries` (default 3 with `until`) more
        // attempts after the first; `retries` without `until` retries until the task does not
        // fail; a negative `delay` is 1 second; `attempts` is in the result (also for
        // changed_when/failed_when) whenever more than one attempt is allowed.
        let extra = match (&task.retries, &task.until) {
            (Some(r), _) => match self.int_of(r, &scope) {
                Ok(r) => r.clamp(0, i64::from(u32::MAX)) as u32,
                Err(m) => return failed_at(task, m),
            },
            (None, Some(_)) => 3,
            (None, None) => 0,
        };
        let attempts = extra.saturating_add(1);
        let delay = match task
            .delay
            .as_ref()
            .map(|d| self.float_of(d, &scope))
            .unwrap_or(Ok(5.0))
        {
            Ok(d) if d < 0.0 => 1.0,
            Ok(d) => d.min(MAX_RETRY_DELAY_SECS),
            Err(m) => return failed_at(task, m),
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut out = match self.execute_action(ctx, st, conn, task, inh, &scope).await {
                Ok(out) => out,
                Err(msg) => return failed_at(task, msg),
            };
            if out.status == Status::Unreachable {
                return out;
            }
            // As ansible-core's TaskExecutor: every executed result says whether it failed.
            if let Value::Object(m) = &mut out.result {
                m.entry("failed").or_insert(json!(out.status == Status::Failed));
            }
            if attempts > 1
                && let Value::Object(m) = &mut out.result
            {
                m.insert("attempts".into(), json!(attempt));
            }
            if out.status != Status::Skipped {
                self.apply_when_overrides(task, st, &scope, &mut out);
            }
            // A skipped action (e.g. a command in check mode) has nothing to retry.
            if attempts <= 1 || out.status == Status::Skipped {
                return out;
            }
            let done = match &task.until {
                Some(until) => {
                    let scope2 = self.with_result(&scope, task, &out.result);
                    match self.when_holds(until, &scope2) {
                        Ok(b) => b,
                        Err(m) => return failed_at(task, m),
                    }
                }
                None => out.status != Status::Failed,
            };
            if done {
                return out;
            }
            if attempt >= attempts {
                // Out of attempts: failed, and `attempts` is what ansible-core reports then
                // (the number of retries, one less than the runs).
                out.status = Status::Failed;
                if let Value::Object(m) = &mut out.result {
                    m.insert("attempts".into(), json!(attempts - 1));
                    m.insert("failed".into(), json!(true));
                }
                return out;
            }
            tokio::time::sleep(Duration::from_secs_f64(delay)).await;
        }
    }

    pub(super) fn with_result(&self, scope: &Scope, task: &Task, result: &Value) -> Scope {
        let mut vars = (*scope.vars).clone();
        let mut raw = (*scope.raw).clone();
        if let Some(reg) = &task.register {
            vars.insert(reg.clone(), result.clone());
            raw.insert(reg.clone());
        }
        if let Value::Object(m) = result {
            // Ansible exposes the fresh result's fields for changed_when/failed_when too.
            for k in ["rc", "stdout", "stderr", "stdout_lines", "stderr_lines"] {
                if let Some(v) = m.get(k)
                    && !vars.contains_key(k)
                {
                    vars.insert(k.to_string(), v.clone());
                    raw.insert(k.to_string());
                }
            }
        }
        scope.with_vars(Arc::new(vars)).with_raw(raw)
    }

    /// `changed_when` then `failed_when` over a fresh result. As in ansible-core's
    /// TaskExecutor, a condition that cannot be evaluated (an undefined variable) fails the
    /// task, keeping its result, with the error in `changed_when_result`/`failed_when_result`.
    pub(super) fn apply_when_overrides(
        &self,
        task: &Task,
        _st: &HostState,
        scope: &Scope,
        out: &mut Outcome,
    ) {
        if let Err((cond, e)) = self.when_overrides(task, scope, out) {
            out.status = Status::Failed;
            let detail = match e {
                TaskError::Condition { source, .. } => {
                    format!("Error while evaluating conditional: {source}")
                }
                other => other.to_string(),
            };
            if let Value::Object(m) = &mut out.result {
                m.insert("failed".into(), json!(true));
                m.insert(format!("{cond}_when_result"), json!(detail));
                if m.get("msg").and_then(Value::as_str).is_none_or(str::is_empty) {
                    m.insert("msg".into(), json!(format!("{cond}_when: {detail}")));
                }
            }
        }
    }

    /// [`Runner::apply_when_overrides`] until a condition fails to evaluate: which one
    /// (`changed`, `failed`) and why.
    fn when_overrides(
        &self,
        task: &Task,
        scope: &Scope,
        out: &mut Outcome,
    ) -> Result<(), (&'static str, TaskError)> {
        if task.changed_when.is_none() && task.failed_when.is_none() {
            return Ok(());
        }
        let scope = self.with_result(scope, task, &out.result);
        if let Some(conds) = &task.changed_when {
            let changed = self.when_holds(conds, &scope).map_err(|e| ("changed", e))?;
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
                self.when_holds(conds, &scope).map_err(|e| ("failed", e))?
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

    pub(super) fn int_of(&self, v: &Value, scope: &Scope) -> Result<i64, TaskError> {
        let r = self
            .templater
            .render_value(v, scope)
            .map_err(TaskError::template(""))?;
        match &r {
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| TaskError::Invalid(format!("expected an integer, got {r}"))),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| TaskError::Invalid(format!("expected an integer, got '{s}'"))),
            _ => Err(TaskError::Invalid(format!("expected an integer, got {r}"))),
        }
    }

    /// A number of seconds (`delay`): an integer, a float, or a string holding one.
    pub(super) fn float_of(&self, v: &Value, scope: &Scope) -> Result<f64, TaskError> {
        let r = self
            .templater
            .render_value(v, scope)
            .map_err(TaskError::template(""))?;
        let f = match &r {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        f.filter(|f| f.is_finite())
            .ok_or_else(|| TaskError::Invalid(format!("expected a number of seconds, got {r}")))
    }

    pub(super) fn when_holds(&self, conds: &[String], scope: &Scope) -> Result<bool, TaskError> {
        for c in conds {
            match self.templater.eval_condition(c, scope) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(source) => {
                    return Err(TaskError::Condition {
                        expr: c.clone(),
                        source: Box::new(source),
                    });
                }
            }
        }
        Ok(true)
    }

    /// Evaluates the loop of a task into (item vars, label) pairs; no loop = one empty item.
    pub(super) async fn prepare_loop(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        task: &Task,
        inh: &Inherited,
    ) -> Result<Vec<(Vars, String)>, TaskError> {
        let Some(raw) = &task.loop_ else {
            return Ok(vec![(Vars::new(), String::new())]);
        };
        let scope = self.scope_for(ctx, st, Some(task), inh, &Vars::new());
        let v = self
            .templater
            .render_value(raw, &scope)
            .map_err(TaskError::template("loop"))?;
        let list = match v {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            Value::String(s) if task.loop_flatten => vec![Value::String(s)],
            other => {
                return Err(TaskError::Invalid(format!(
                    "Invalid data passed to 'loop', it requires a list, got this instead: {other}"
                )));
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

    /// `no_log` as inherited by `task` (play, block, task): a boolean, or a template rendered
    /// with the task's variables. A value that renders to no boolean censors (a result is hidden
    /// rather than shown when in doubt).
    pub(super) fn no_log(&self, ctx: &PlayCtx<'_>, st: &HostState, task: &Task, child: &Inherited) -> bool {
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
    pub(super) fn ignore_errors(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        task: &Task,
        inh: &Inherited,
    ) -> bool {
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
}

/// The longest `delay` between retries talon sleeps (a day): a larger value is taken as this.
const MAX_RETRY_DELAY_SECS: f64 = 86_400.0;
