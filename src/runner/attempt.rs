//! One execution of a task's action for one loop item: its `when`, its action, `retries`/
//! `until`/`delay`, `changed_when`/`failed_when`, as ansible-core's TaskExecutor runs them.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::error::TaskError;
use super::host::{HostState, Inherited, Outcome, child_when, truthy};
use super::task::failed_at;
use super::{PlayCtx, Runner};
use crate::playbook::Task;
use crate::report::Status;
use crate::template::Scope;
use crate::transport::Connection;
use crate::vars::Vars;

/// The longest `delay` between retries talon sleeps (a day): a larger value is taken as this.
const MAX_RETRY_DELAY_SECS: f64 = 86_400.0;

impl Runner<'_> {
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
        // `timeout`: each run of the action (not the retries' delays) is bounded.
        let timeout = match task.timeout.as_ref().or(inh.timeout.as_ref()) {
            None => 0,
            Some(t) => match self.int_of(t, &scope) {
                Ok(t) if (0..=100_000_000).contains(&t) => t as u64,
                Ok(t) => {
                    return failed_at(
                        task,
                        format!("Timeout {t} is invalid, it must be between 0 and 100000000."),
                    );
                }
                Err(m) => return failed_at(task, m),
            },
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let run = self.execute_action(ctx, st, conn, task, inh, &scope);
            let ran = if timeout > 0 {
                match tokio::time::timeout(Duration::from_secs(timeout), run).await {
                    Ok(r) => r,
                    // ansible-core's TaskTimeoutError: final, no retries, no failed_when.
                    Err(_) => return timed_out(timeout),
                }
            } else {
                run.await
            };
            let mut out = match ran {
                Ok(out) => out,
                // ansible-core's own words, whole: the error block shows where.
                Err(e @ super::error::TaskError::Args { .. }) => return super::task::failed(e.to_string()),
                Err(msg) => return failed_at(task, msg),
            };
            if out.status == Status::Unreachable {
                // ignore_unreachable: the next task connects anew, as ansible-core's next task
                // opens its own connection.
                if task
                    .ignore_unreachable
                    .or(inh.ignore_unreachable)
                    .unwrap_or(false)
                {
                    conn.reset().await;
                }
                return out;
            }
            // As ansible-core's TaskExecutor: every executed result says whether it failed.
            if let Value::Object(m) = &mut out.result {
                // ... except an action plugin's own skip (AnsibleActionSkip, e.g. unarchive's
                // `creates`), which a module marks with `_ansible_action_skip`.
                if m.shift_remove("_ansible_action_skip").is_none() {
                    m.entry("failed").or_insert(json!(out.status == Status::Failed));
                }
                // ansible-core's executor takes the warnings and deprecations out of a result
                // and puts them back last.
                for key in ["warnings", "deprecations"] {
                    if let Some(v) = m.shift_remove(key) {
                        m.insert(key.into(), v);
                    }
                }
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
        let mut vars = Vars::new();
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
                    && !scope.vars.contains_key(k)
                {
                    vars.insert(k.to_string(), v.clone());
                    raw.insert(k.to_string());
                }
            }
        }
        scope.with_top(vars).with_raw(raw)
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
}

/// The result of a task whose action ran past its `timeout`, as ansible-core 2.19 reports a
/// TaskTimeoutError: `msg` "Task failed: Timed out after N second(s).", `timedout` with the
/// `frame` notice and the `period`.
fn timed_out(seconds: u64) -> Outcome {
    Outcome {
        status: Status::Failed,
        result: json!({
            "changed": false,
            "failed": true,
            "msg": format!("Task failed: Timed out after {seconds} second(s)."),
            "timedout": {
                "frame": "Configure `DISPLAY_TRACEBACK` to see a traceback on timeout errors.",
                "period": seconds,
            },
        }),
        diff: Vec::new(),
    }
}
