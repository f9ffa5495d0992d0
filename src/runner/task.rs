//! One task on one host: its arguments rendered, `become`, `environment`, delegation, the
//! secret policy's run-time check, and the module (or runner action) executed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::error::TaskError;
use super::host::{Flow, HostState, Inherited, Outcome, Stop, truthy};
use super::{PlayCtx, Runner};
use crate::modules::{self, ModuleContext, ModuleOutcome};
use crate::playbook::{Action, Task};
use crate::report::{Event, Status, TaskReport};
use crate::template::{OMIT, Scope};
use crate::transport::Connection;
use crate::vars::{self, Vars};

impl<'a> Runner<'a> {
    /// A task whose action runs (module, set_fact, meta...), with its loop.
    pub(super) async fn run_leaf(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
        task: &Task,
        inh: &Inherited,
    ) -> Flow {
        if !inh.handler
            && !self.tags_selected(&inh.tags)
            && !matches!(task.action, Some(Action::GatherFacts(_)))
        {
            return Ok(());
        }
        // --start-at-task: the tasks before it; --step: a task the user declined.
        if !inh.handler
            && (self.start_at.as_ref().is_some_and(|s| s.skip.contains(&task.id))
                || self.step.as_ref().is_some_and(|s| !s.allows(task)))
        {
            return Ok(());
        }
        if let Some(Action::Meta(m)) = &task.action {
            // clear_host_errors waits for the batch, as the linear strategy does, so that the
            // failures of the tasks before it are known when it clears them; the metas that act
            // on every host wait too (see `Runner::meta`).
            if ctx.linear
                && matches!(
                    m.as_str(),
                    "clear_host_errors" | "end_play" | "end_batch" | "clear_facts"
                )
            {
                ctx.lockstep.step().await;
            }
            if ctx.ended.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                return Err(Stop::End);
            }
            return self.meta(ctx, st, conn, task, inh, m).await;
        }
        if ctx.linear {
            ctx.lockstep.step().await;
            // What the batch's other hosts gave this one in the task before (delegate_facts).
            self.take_given(st);
        }
        // Answers read ahead before another host's change are not used from here on.
        conn.read_ahead().checkpoint();
        self.fatal_check(ctx, st)?;
        // Another host ended the play or the batch (`meta: end_play` / `end_batch`).
        if ctx.ended.load(std::sync::atomic::Ordering::SeqCst) != 0 {
            return Err(Stop::End);
        }
        // add_host runs once, on the batch's first host still running, and only that host
        // reports and registers it (ansible-core's BYPASS_HOST_LOOP).
        if matches!(task.action, Some(Action::AddHost { .. }))
            && ctx
                .active
                .lock()
                .ok()
                .and_then(|a| a.first().cloned())
                .is_some_and(|first| first != st.name)
        {
            return Ok(());
        }
        // `throttle`: at most N hosts run this task at once (ignored with run_once, as
        // ansible-core's strategy does).
        let _permit = match self.throttle_permit(ctx, st, task, inh).await {
            Ok(p) => p,
            Err(msg) => return self.fail_task(ctx, st, task, msg),
        };
        if ctx.play.strategy == crate::playbook::Strategy::Free
            && task.any_errors_fatal.or(inh.any_errors_fatal).unwrap_or(false)
        {
            self.reporter.send(Event::Warning(
                "Using any_errors_fatal with the free strategy is not supported, as tasks are executed independently on each host".into(),
            ));
        }
        let name = task.display_name();
        self.reporter.send(Event::TaskStart {
            host: st.name.clone(),
            task: name.clone(),
            task_id: task.id,
            mark: task.mark.clone(),
        });
        // `pause` runs once for all hosts of the play, like Ansible's (BYPASS_HOST_LOOP).
        let is_pause = matches!(&task.action, Some(Action::Module { module, .. }) if module.name == "pause");
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
                results.push(r.clone());
                // The item's result as Ansible's callbacks see it (with `item` and
                // `ansible_loop_var`).
                let r = TaskReport::new(ctx.play.index, task.id, &name, &st.name, out.status, r)
                    .item(label.clone())
                    .diff(out.diff.clone())
                    .ignored(self.ignore_errors(ctx, st, task, inh))
                    .handler(self.is_handler(ctx, task))
                    .action(task.action_name())
                    .delegated(st.delegated_label.clone());
                self.report(st, r);
                if let Some(p) = task.loop_control.pause {
                    tokio::time::sleep(Duration::from_secs_f64(p.max(0.0))).await;
                }
            }
            // ansible-core: the loop changed when an item's result did, failed items too.
            any_changed |= out.status == Status::Changed
                || (looped && results.last().is_some_and(|r| truthy(r.get("changed"))));
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
        // The loop's own keys, as ansible-core 2.19's TaskExecutor sets them: `skipped` always,
        // "All items skipped" when every item was, and no `msg` but a `skipped_reason` for an
        // empty loop.
        let empty = results.is_empty();
        let mut result = Map::new();
        result.insert("results".into(), Value::Array(results));
        result.insert("changed".into(), json!(any_changed));
        let msg = if any_failed {
            "One or more items failed"
        } else if all_skipped {
            "All items skipped"
        } else {
            "All items completed"
        };
        if empty {
            result.insert("skipped_reason".into(), json!("No items in the list"));
        } else {
            result.insert("msg".into(), json!(msg));
        }
        if any_failed {
            result.insert("failed".into(), json!(true));
        }
        result.insert("skipped".into(), json!(all_skipped));
        let out = Outcome {
            status,
            result: Value::Object(result),
            diff: Vec::new(),
        };
        // An empty loop is reported as a whole (skipped), as ansible-core's callbacks see it.
        self.finish(ctx, st, task, inh, out, (!empty).then_some(()))
    }

    /// Runs the action itself (no conditions, no retries).
    ///
    /// Errors: a [`TaskError`] when the action could not be carried out at all (its arguments,
    /// `become` or `environment` do not render, e.g. an undefined variable): like ansible-core's
    /// exception path, that failure is final, not judged by `failed_when` or retried by `until`.
    pub(super) async fn execute_action(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
        task: &Task,
        inh: &Inherited,
        scope: &Scope,
    ) -> Result<Outcome, TaskError> {
        // Runner actions whose ansible-core action plugin has no async.
        if task.async_val.is_some() {
            let name = match &task.action {
                Some(Action::SetFact { .. }) => "set_fact",
                Some(Action::GroupBy { .. }) => "group_by",
                Some(Action::AddHost { .. }) => "add_host",
                Some(Action::IncludeVars { .. }) => "include_vars",
                _ => "",
            };
            if !name.is_empty() && self.int_of(task.async_val.as_ref().unwrap_or(&Value::Null), scope)? > 0 {
                return Ok(failed(format!("This action ({name}) does not support async.")));
            }
        }
        let delegated = self.delegated_host(task, scope)?;
        // The default callback's `[host -> delegate]` label: the name, with its address when
        // `ansible_host` differs.
        st.delegated_label = delegated.as_ref().map(|d| {
            let inv = self.inventory();
            let addr = inv
                .host(d)
                .and_then(|_| inv.host_vars(d).get("ansible_host").map(vars::as_string));
            match addr {
                Some(a) if &a != d => format!("{d}({a})"),
                _ => d.clone(),
            }
        });
        // delegate_facts: the facts go to the delegated host (itself: nothing changes).
        st.facts_to = delegated.clone().filter(|d| task.delegate_facts && d != &st.name);
        let facts_to = st.facts_to.clone();
        let conn_vars = if matches!(
            task.action,
            Some(Action::Module { .. } | Action::Python { .. } | Action::GatherFacts(_))
        ) {
            self.connection_vars(task, inh, scope)?
        } else {
            Vars::new()
        };
        Ok(match &task.action {
            Some(Action::SetFact { args }) => {
                let rendered = self.render_args("set_fact", args, scope)?;
                let mut facts = Map::new();
                for (k, v) in rendered {
                    if k == "cacheable" {
                        continue;
                    }
                    // ansible-core templates set_fact's keys ("backward-compatibility for
                    // dynamic storage") and then validates them as variable names.
                    let k = if crate::template::is_template(&k) {
                        let key = self
                            .templater
                            .render_str(&k, scope)
                            .map_err(TaskError::template(format!("key '{k}'")))?;
                        vars::as_string(&key)
                    } else {
                        k
                    };
                    if !crate::playbook::is_variable_name(&k) {
                        return Ok(failed_at(
                            task,
                            format!(
                                "Invalid variable name '{k}'. Variable names must be strings starting with a letter or underscore character, and contain only letters, numbers and underscores."
                            ),
                        ));
                    }
                    if facts_to.is_none() {
                        st.host_facts.insert(k.clone(), v.clone());
                        // Already rendered: data from now on (ansible-core 2.19 never templates
                        // a template's result again).
                        st.registered.insert(k.clone());
                    }
                    facts.insert(k, v);
                }
                if let Some(to) = &facts_to {
                    self.give(
                        to,
                        super::host::Given {
                            host_facts: facts.clone(),
                            ..Default::default()
                        },
                    );
                }
                Outcome {
                    status: Status::Ok,
                    result: json!({"ansible_facts": facts, "changed": false}),
                    diff: Vec::new(),
                }
            }
            Some(Action::GroupBy { args }) => {
                let rendered = self.render_args("group_by", args, scope)?;
                match super::inventory_actions::group_by(&rendered) {
                    Ok((group, parents)) => {
                        let changed = self.change_inventory(|inv| inv.group_by(&st.name, &group, &parents));
                        st.inv_vars = self.inventory().host_vars(&st.name);
                        self.publish_hostvars(st);
                        Outcome {
                            status: if changed { Status::Changed } else { Status::Ok },
                            result: json!({"changed": changed, "add_group": group, "parent_groups": parents}),
                            diff: Vec::new(),
                        }
                    }
                    Err(msg) => failed(msg),
                }
            }
            Some(Action::AddHost { args }) => {
                let rendered = self.render_args("add_host", args, scope)?;
                match super::inventory_actions::add_host(&rendered) {
                    Ok(new) => {
                        let changed =
                            self.change_inventory(|inv| inv.add_host(&new.name, &new.groups, &new.vars));
                        if new.name == st.name {
                            st.inv_vars = self.inventory().host_vars(&st.name);
                        }
                        self.publish_inventory_host(&new.name, st);
                        Outcome {
                            status: if changed { Status::Changed } else { Status::Ok },
                            result: json!({
                                "changed": changed,
                                "add_host": {"host_name": new.name, "groups": new.groups, "host_vars": new.vars},
                            }),
                            diff: Vec::new(),
                        }
                    }
                    Err(msg) => failed(msg),
                }
            }
            Some(Action::IncludeVars { args }) => {
                match self.include_vars(args, scope, task.role.as_ref().map(|r| r.path.as_path())) {
                    Ok((v, files)) => {
                        let facts = v.clone();
                        match &facts_to {
                            Some(to) => self.give(
                                to,
                                super::host::Given {
                                    include_vars: v,
                                    ..Default::default()
                                },
                            ),
                            None => vars::overlay(&mut st.include_vars, &v),
                        }
                        Outcome {
                            status: Status::Ok,
                            result: json!({"ansible_facts": facts, "ansible_included_var_files": files, "changed": false}),
                            diff: Vec::new(),
                        }
                    }
                    // ansible-core's action fails with `message` (not `msg`) and empty results.
                    Err(super::scope::IncludeVarsError::Failed {
                        message,
                        facts,
                        files,
                    }) => Outcome {
                        status: Status::Failed,
                        result: json!({"failed": true, "message": message, "ansible_facts": facts, "ansible_included_var_files": files, "changed": false}),
                        diff: Vec::new(),
                    },
                    Err(super::scope::IncludeVarsError::Task(m)) => failed_at(task, m),
                }
            }
            Some(Action::GatherFacts(args)) => {
                let args = self.render_args("gather_facts", args, scope)?;
                let fact_path = args
                    .get("fact_path")
                    .filter(|v| !v.is_null())
                    .map(vars::as_string);
                let conn = match self.task_connection(ctx, st, conn, &conn_vars, inh, delegated.as_deref()) {
                    Ok(c) => c,
                    Err(e) => return Ok(unreachable(&e, task)),
                };
                match super::facts::gather_from(&conn, fact_path.as_deref())
                    .await
                    .map(|all| super::facts_select::select(all, &args).map_err(TaskError::Invalid))
                {
                    Ok(Err(e)) => failed_at(task, e),
                    Ok(Ok(f)) => {
                        // Gathered facts join (and replace) what the host has, modules' facts too
                        // (the delegated host's with delegate_facts).
                        if facts_to.is_none() {
                            let (facts, plain) = st.facts_mut();
                            for (k, v) in &f {
                                plain.remove(k);
                                facts.insert(k.clone(), v.clone());
                            }
                        }
                        // The result names them as setup returns them (`ansible_distribution`).
                        let returned: Vars = f
                            .into_iter()
                            .map(|(k, v)| (super::facts_select::returned_name(&k), v))
                            .collect();
                        if let Some(to) = &facts_to {
                            self.give(
                                to,
                                super::host::Given {
                                    facts: returned.clone(),
                                    ..Default::default()
                                },
                            );
                        }
                        Outcome {
                            status: Status::Ok,
                            result: json!({"ansible_facts": returned, "changed": false}),
                            diff: Vec::new(),
                        }
                    }
                    Err(e) if e.is_unreachable() => unreachable(&e, task),
                    Err(e) => failed(e.to_string()),
                }
            }
            Some(action @ (Action::Module { args, .. } | Action::Python { args, .. })) => {
                let resolved = match action {
                    Action::Python { module, .. } => module.fqcn.clone(),
                    _ => task.action_name(),
                };
                let args = self.render_args(&resolved, args, scope)?;
                // Under delegate_to, `become` and what depends on the host the module runs on
                // (its Python, `package`'s backend) come from the delegated host's variables,
                // as ansible-core takes them from `ansible_delegated_vars`.
                let dscope = delegated
                    .as_deref()
                    .filter(|d| *d != st.name)
                    .map(|d| self.delegated_scope(ctx, st, task, inh, d));
                let become_ = self.become_for(task, inh, dscope.as_ref().unwrap_or(scope))?;
                // The task runs on the delegated host's connection (built from that host's
                // variables), or on the one its `connection:`/`remote_user:` keywords ask for.
                let conn = match self.task_connection(ctx, st, conn, &conn_vars, inh, delegated.as_deref()) {
                    Ok(c) => c,
                    Err(e) => return Ok(unreachable(&e, task)),
                };
                let conn_ref: &Connection = &conn;
                let check = task.check_mode.or(inh.check_mode).unwrap_or(self.opts.check);
                let diff = task.diff.or(inh.diff).unwrap_or(self.opts.diff);
                let search_paths = self.search_paths(task, inh);
                let env = self.environment(task, inh, scope)?;
                // secrets: refuse a secret on a command line before the module runs (the
                // Python path delivers every argument on stdin).
                let place = format!("task '{}' at {}", task.display_name(), task.mark);
                if let Action::Module { module, .. } = action
                    && let Err(e) = self.opts.secrets.refuse_args(module, &args, &env, &place)
                {
                    return Ok(failed(e.to_string()));
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
                    // Delegated to itself: its own variables (what hostvars would show).
                    delegation: delegated.as_deref().map(|host| modules::Delegation {
                        host,
                        scope: dscope.as_ref().unwrap_or(scope),
                        task_vars: &task.vars,
                        delegate_facts: task.delegate_facts,
                    }),
                };
                // `async:` the job's time limit (0: not async); `poll:` 15 by default.
                let limit = match &task.async_val {
                    // Bounded as ansible-core bounds an alarm (100000000 seconds).
                    Some(v) => self.int_of(v, scope)?.clamp(0, 100_000_000) as u64,
                    None => 0,
                };
                if limit > 0 {
                    let name = match action {
                        Action::Module { module, .. } => module.name,
                        Action::Python { module, .. } => modules::short_name(&module.name),
                        _ => "",
                    };
                    if super::async_job::NO_ASYNC.contains(&name) {
                        return Ok(failed(format!("This action ({name}) does not support async.")));
                    }
                }
                let poll = match &task.poll {
                    Some(v) => self.int_of(v, scope)?.clamp(0, 100_000_000) as u64,
                    None => 15,
                };
                // command/shell jobs run detached on the host (see `async_job`).
                if limit > 0
                    && !check
                    && let Action::Module { module, .. } = action
                    && (module.name == "command" || module.name == "shell")
                {
                    let mut args = args;
                    return Ok(match modules::expand_user_paths(module, &mut args, &mctx).await {
                        Ok(()) => {
                            super::async_job::detached(&mctx, module.name == "shell", &args, limit, poll)
                                .await
                        }
                        Err(modules::ModuleError::Transport(e)) if e.is_unreachable() => {
                            unreachable(&e, task)
                        }
                        Err(e) => failed(e.to_string()),
                    });
                }
                // Python-path modules run detached on the host, as async_wrapper runs them; so
                // does a native module's fire-and-forget job, through ansible-core's module of
                // that name when the host has Python (see `async_job::native_as_python`).
                if limit > 0 && !check {
                    let py = match action {
                        Action::Python { module, .. } => Some(module.clone()),
                        Action::Module { module, .. } if poll == 0 => {
                            super::async_job::native_as_python(&mctx, module.name).await
                        }
                        _ => None,
                    };
                    if let Some(py) = py {
                        if let Ok(mut seen) = self.python_tasks.lock() {
                            seen.insert(format!("task '{}' ({})", task.display_name(), py.fqcn));
                        }
                        return Ok(super::async_job::python(&mctx, &py, &args, limit, poll).await);
                    }
                }
                let run = async {
                    match action {
                        Action::Module { module, .. } => {
                            let mut args = args;
                            match modules::expand_user_paths(module, &mut args, &mctx).await {
                                Ok(()) => (module.run)(&args, &mctx).await,
                                Err(e) => Err(e),
                            }
                        }
                        Action::Python { module, .. } => {
                            if let Ok(mut seen) = self.python_tasks.lock() {
                                seen.insert(format!("task '{}' ({})", task.display_name(), module.fqcn));
                            }
                            modules::python::run(module, &args, &mctx).await
                        }
                        _ => Err(modules::ModuleError::Template(
                            "internal: this action is not a module".into(),
                        )),
                    }
                };
                let judge = |ran| match ran {
                    Ok(o) => outcome_from_module(o),
                    Err(modules::ModuleError::Transport(e)) if e.is_unreachable() => unreachable(&e, task),
                    Err(e) => failed(e.to_string()),
                };
                if limit > 0 {
                    let ran = tokio::time::timeout(Duration::from_secs(limit), run)
                        .await
                        .ok()
                        .map(judge);
                    super::async_job::finish(&mctx, limit, poll, ran).await
                } else {
                    judge(run.await)
                }
            }
            _ => failed("internal: this action cannot run as a leaf task".into()),
        })
    }

    /// A permit of the task's `throttle` semaphore (shared by the batch's hosts), or none when
    /// the task has no throttle (0) or runs once.
    async fn throttle_permit(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        task: &Task,
        inh: &Inherited,
    ) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, TaskError> {
        let Some(v) = task.throttle.as_ref().or(inh.throttle.as_ref()) else {
            return Ok(None);
        };
        let scope = self.scope_for(ctx, st, Some(task), inh, &Vars::new());
        let n = self
            .int_of(v, &scope)
            .map_err(|_| TaskError::Invalid("Failed to convert the throttle value to an integer.".into()))?;
        if n <= 0 || task.run_once {
            return Ok(None);
        }
        let sem = match ctx.throttles.lock() {
            Ok(mut m) => m
                .entry(task.id)
                .or_insert_with(|| {
                    let permits = usize::try_from(n).unwrap_or(usize::MAX);
                    Arc::new(tokio::sync::Semaphore::new(
                        permits.min(tokio::sync::Semaphore::MAX_PERMITS),
                    ))
                })
                .clone(),
            Err(_) => return Ok(None),
        };
        Ok(sem.acquire_owned().await.ok())
    }

    /// `environment:` of the play, enclosing blocks and the task, rendered; later ones win.
    pub(super) fn environment(
        &self,
        task: &Task,
        inh: &Inherited,
        scope: &Scope,
    ) -> Result<Vec<(String, String)>, TaskError> {
        let mut out: Vec<(String, String)> = Vec::new();
        for e in inh.environment.iter().chain(task.environment.iter()) {
            let v = self
                .templater
                .render_value(e, scope)
                .map_err(TaskError::template("environment"))?;
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        out.retain(|(x, _)| x != &k);
                        out.push((k, vars::as_string(&v)));
                    }
                }
                Value::Null => {}
                other => {
                    return Err(TaskError::Invalid(format!(
                        "environment must be a mapping, got {other}"
                    )));
                }
            }
        }
        Ok(out)
    }

    pub(super) fn search_paths(&self, task: &Task, inh: &Inherited) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Some(r) = task.role.as_ref().or(inh.role.as_ref()) {
            out.push(r.path.clone());
        }
        out.push(task.mark.file.parent().map(PathBuf::from).unwrap_or_default());
        out.push(self.pb.dir.clone());
        out
    }

    /// The task's arguments rendered (`omit` dropped). Errors: [`TaskError::Args`] naming
    /// `action` (the module as the task names it) and the argument.
    pub(super) fn render_args(&self, action: &str, args: &Vars, scope: &Scope) -> Result<Vars, TaskError> {
        let mut out = Vars::new();
        for (k, v) in args {
            let r = self
                .templater
                .render_value(v, scope)
                .map_err(|e| TaskError::Args {
                    action: modules::full_name(action),
                    name: k.clone(),
                    source: Box::new(e),
                })?;
            if r.as_str() == Some(OMIT) {
                continue;
            }
            out.insert(k.clone(), r);
        }
        Ok(out)
    }
}

/// A failure found by talon itself (template, condition, bad value): names the task and place.
pub(super) fn failed_at(task: &Task, msg: impl std::fmt::Display) -> Outcome {
    failed(format!("{msg} (task '{}' at {})", task.display_name(), task.mark))
}

/// The outcome of a task whose host could not be reached; a connection that was lost under the
/// task says during which task ("connection to web1 (10.0.0.5:22) lost during TASK [...]").
pub(super) fn unreachable(e: &crate::transport::TransportError, task: &Task) -> Outcome {
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

/// [`unreachable`] without a task to name (an async job's poll).
pub(super) fn unreachable_outcome(e: &crate::transport::TransportError) -> Outcome {
    Outcome {
        status: Status::Unreachable,
        result: json!({"msg": e.to_string(), "unreachable": true}),
        diff: Vec::new(),
    }
}

pub(super) fn failed(msg: String) -> Outcome {
    Outcome {
        status: Status::Failed,
        result: json!({"msg": msg, "failed": true, "changed": false}),
        diff: Vec::new(),
    }
}

pub(super) fn outcome_from_module(o: ModuleOutcome) -> Outcome {
    let mut result = o.result;
    result.insert("changed".into(), json!(o.changed));
    // A module's own `msg` value (debug's list or mapping) wins over its text form.
    if let Some(m) = &o.msg {
        result.entry("msg").or_insert_with(|| json!(m));
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
pub(super) fn render_diff(d: &modules::FileDiff) -> String {
    let diff = similar::TextDiff::from_lines(&d.before, &d.after);
    diff.unified_diff()
        .context_radius(3)
        .header(
            &format!("before: {}", d.before_header),
            &format!("after: {}", d.after_header),
        )
        .to_string()
}
