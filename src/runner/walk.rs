//! The walk through a list of tasks: blocks with rescue/always, static and dynamic includes,
//! loops (with `until` retries), conditions, `run_once`, and how each result is counted.

use std::sync::Arc;

use serde_json::{Value, json};

use super::error::TaskError;
use super::host::{Flow, HostState, Inherited, Outcome, Shared, Stop, child_when, inherit, truthy};
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
            // Tasks before this index had their reads sent ahead (or were looked at).
            let mut looked = 0;
            for (i, t) in tasks.iter().enumerate() {
                if i >= looked {
                    looked = i + self.read_ahead(ctx, st, conn, &tasks[i..], inh).await;
                }
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
        st.facts_to = None;
        st.delegated_label = None;
        self.take_given(st);
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
                        if !std::mem::take(&mut st.struck_stop) {
                            st.stats.rescue();
                        }
                        // ansible-core sets these as non-persistent facts of the host (data,
                        // visible from the rescue on).
                        if let Some((failed_task, result)) = st.last_failure.take() {
                            for (k, v) in [
                                ("ansible_failed_task", failed_task),
                                ("ansible_failed_result", result),
                            ] {
                                st.host_facts.insert(k.into(), v);
                                st.registered.insert(k.into());
                            }
                        }
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
                // --start-at-task: an include before the task is passed over with its tasks.
                if !child.handler && self.start_at.as_ref().is_some_and(|s| s.skip.contains(&task.id)) {
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
                    let (tasks, sub, roles) = match self.load_include(task, &child, inh, &scope, &item_vars) {
                        Ok(x) => x,
                        Err(msg) => return self.fail_task(ctx, st, task, msg),
                    };
                    ctx.note_included_roles(task.id, &item_vars, roles);
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
            match st.facts_to.clone() {
                // delegate_facts: the delegated host gets them.
                Some(to) => {
                    let mut given = super::host::Given::default();
                    for f in &facts {
                        given.facts.extend(f.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    self.give(&to, given);
                }
                None => {
                    for f in &facts {
                        st.merge_module_facts(f);
                    }
                    if !facts.is_empty() {
                        self.publish_hostvars(st);
                    }
                }
            }
        }
        if task.register.is_some()
            || matches!(
                task.action,
                Some(Action::SetFact { .. } | Action::IncludeVars { .. } | Action::GatherFacts(_))
            )
        {
            self.publish_hostvars(st);
        }
        let ignored = self.ignore_errors(ctx, st, task, inh);
        // ignore_unreachable: counted ok and ignored, and the host goes on (ansible-core's
        // strategy).
        let unreachable_ignored = out.status == Status::Unreachable
            && task
                .ignore_unreachable
                .or(inh.ignore_unreachable)
                .unwrap_or(false);
        if unreachable_ignored {
            st.stats.ok += 1;
            st.stats.ignored += 1;
        } else {
            st.stats
                .record(out.status, ignored, truthy(out.result.get("changed")));
        }
        // any_errors_fatal (and run_once, which the linear strategy makes fatal too; neither
        // with ignore_errors) and max_fail_percentage, as the linear strategy checks them after
        // the task: the other hosts fail at their next step.
        let failed_here = out.status == Status::Failed && !ignored;
        // The free strategy runs hosts independently: neither applies (ansible-core warns).
        let linear = ctx.play.strategy == crate::playbook::Strategy::Linear;
        if linear
            && (failed_here || (out.status == Status::Unreachable && !unreachable_ignored))
            && !self.ignore_errors_set(task, inh)
            && (task.any_errors_fatal.or(inh.any_errors_fatal).unwrap_or(false) || task.run_once)
        {
            // This host failed on its own: the strike is for the others.
            st.fatal_struck = true;
            ctx.lockstep.mark_fatal(!ctx.linear);
        }
        if linear
            && failed_here
            && let Some(pct) = ctx.play.max_fail_percentage
        {
            let failed = match ctx.batch_failed.lock() {
                Ok(mut f) => {
                    f.insert(st.name.clone());
                    f.len()
                }
                Err(_) => 0,
            };
            let size = ctx.batch.lock().map(|b| b.len()).unwrap_or(1).max(1);
            if failed as f64 / size as f64 > pct / 100.0 {
                st.fatal_struck = true;
                ctx.lockstep.mark_fatal(!ctx.linear);
            }
        }
        let r = self.task_report(ctx, st, task, &out).ignored(ignored);
        if looped.is_none() {
            self.report(st, r);
        } else {
            // The items were reported one by one; views get the loop's status (no result).
            let mut r = r;
            r.result = Value::Null;
            r.diff = Vec::new();
            r.task_name = self.opts.secrets.mask(&r.task_name);
            self.reporter.send(crate::report::Event::LoopDone(r));
        }
        if out.status == Status::Changed {
            for n in &task.notify {
                if !st.pending_handlers.contains(n) {
                    st.pending_handlers.push(n.clone());
                }
            }
        }
        if out.status == Status::Failed && !ignored {
            st.last_failure = Some((task.serialize(), out.result.clone()));
        }
        match out.status {
            Status::Unreachable if unreachable_ignored => Ok(()),
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
        // The facts a run_once task sets go to every host of the play (ansible-core's
        // strategy), unless delegate_facts sends them to the delegated host.
        let to_all = !(task.delegate_facts && task.delegate_to.is_some());
        let given = to_all.then(|| result_facts(task, &out.result)).flatten();
        if ran_here {
            if let Some(g) = &given {
                let batch = ctx.batch.lock().map(|b| b.clone()).unwrap_or_default();
                let removed = ctx.removed.lock().map(|r| r.clone()).unwrap_or_default();
                for h in &ctx.play_hosts {
                    if !batch.contains(h) && !removed.contains(h) {
                        self.give(h, g.clone());
                    }
                }
            }
            self.finish(ctx, st, task, inh, out, None)
        } else {
            // Other hosts get the registered result, the facts and the notifications, not a
            // report line.
            if let Some(reg) = &task.register {
                st.host_facts.insert(reg.clone(), out.result.clone());
                st.registered.insert(reg.clone());
            }
            if let Some(g) = given {
                g.apply(st);
                self.publish_hostvars(st);
            }
            Ok(())
        }
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

    /// The items of a `with_<lookup>` loop, as ansible-core's task executor makes them: the
    /// terms templated (a string templated into a list, or a one-item list), then the lookup
    /// run on them with `wantlist`. For `first_found` a term that is undefined is dropped (the
    /// common `"{{ ansible_distribution }}.yml"` list on a host without that fact), and the
    /// lookup searches `subdir` under each search path.
    fn with_lookup(
        &self,
        lookup: &str,
        subdir: &'static str,
        raw: &Value,
        scope: &crate::template::Scope,
    ) -> Result<Value, TaskError> {
        let render = |v: &Value| self.templater.render_value(v, scope);
        // ansible-core's first_found drops undefined values at any depth of a with_ loop's terms.
        fn defined(
            v: &Value,
            render: &dyn Fn(&Value) -> Result<Value, crate::template::TemplateError>,
        ) -> Result<Option<Value>, crate::template::TemplateError> {
            match v {
                Value::Array(items) => {
                    let mut kept = Vec::with_capacity(items.len());
                    for item in items {
                        kept.extend(defined(item, render)?);
                    }
                    Ok(Some(Value::Array(kept)))
                }
                Value::Object(map) => {
                    let mut kept = serde_json::Map::new();
                    for (k, item) in map {
                        if let Some(x) = defined(item, render)? {
                            kept.insert(k.clone(), x);
                        }
                    }
                    Ok(Some(Value::Object(kept)))
                }
                other => match render(other) {
                    Ok(x) => Ok(Some(x)),
                    Err(e) if e.undefined.is_some() => Ok(None),
                    Err(e) => Err(e),
                },
            }
        }
        let terms = match raw {
            Value::Array(_) if lookup == "first_found" => defined(raw, &render)
                .map_err(TaskError::template("loop"))?
                .unwrap_or_default(),
            other => match render(other).map_err(TaskError::template("loop"))? {
                Value::Array(a) => Value::Array(a),
                Value::Null => Value::Array(Vec::new()),
                one => Value::Array(vec![one]),
            },
        };
        let mut vars = Vars::new();
        vars.insert("__talon_with_terms".into(), terms);
        vars.insert(
            crate::template::WITH_SUBDIR_VAR.into(),
            Value::String(subdir.into()),
        );
        let mut raw_names = (*scope.raw).clone();
        raw_names.insert("__talon_with_terms".into());
        let with_scope = scope.with_top(vars).with_raw(raw_names);
        self.templater
            .eval_expr(
                &format!(
                    "{}('{lookup}', __talon_with_terms)",
                    crate::template::WITH_QUERY_FN
                ),
                &with_scope,
            )
            .map_err(|e| {
                if e.undefined.is_some() {
                    TaskError::template("loop")(e)
                } else if e.message.starts_with("The lookup plugin '") {
                    TaskError::Invalid(e.message)
                } else {
                    TaskError::Invalid(format!("The lookup plugin '{lookup}' failed: {}", e.message))
                }
            })
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
        let v = match &task.loop_with {
            Some(lookup) => self.with_lookup(lookup, task.loop_subdir, raw, &scope)?,
            None => self
                .templater
                .render_value(raw, &scope)
                .map_err(TaskError::template("loop"))?,
        };
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
                    let s = scope.with_top(vars.clone());
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

    /// Whether `ignore_errors` is set on the task (or inherited) at all: ansible-core's linear
    /// strategy then never makes the task fatal (`not task.ignore_errors`).
    fn ignore_errors_set(&self, task: &Task, inh: &Inherited) -> bool {
        task.ignore_errors
            .as_ref()
            .or(inh.ignore_errors.as_ref())
            .is_some_and(|v| vars::as_bool(v) != Some(false))
    }

    /// `--tags` / `--skip-tags` selection for a task with these (inherited) tags.
    pub(crate) fn tags_selected(&self, tags: &[String]) -> bool {
        crate::playbook::listing::tags_selected(tags, &self.opts.tags, &self.opts.skip_tags)
    }
}

/// The facts a task's result sets on a host, by kind (`set_fact`, `include_vars`, a module's or
/// gather's `ansible_facts`); `None` when it sets none (or failed).
pub(super) fn result_facts(task: &Task, result: &Value) -> Option<super::host::Given> {
    if truthy(result.get("failed")) || truthy(result.get("skipped")) {
        return None;
    }
    let facts = result.get("ansible_facts")?.as_object()?.clone();
    let mut g = super::host::Given::default();
    match task.action {
        Some(Action::SetFact { .. }) => g.host_facts = facts,
        Some(Action::IncludeVars { .. }) => g.include_vars = facts,
        Some(Action::GatherFacts(_) | Action::Module { .. } | Action::Python { .. }) => g.facts = facts,
        _ => return None,
    }
    (!g.is_empty()).then_some(g)
}
