//! Handlers: which notified handlers run when (`meta: flush_handlers`, end of play), and
//! the other `meta` actions.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::host::{Flow, HostState, Inherited, Stop, child_when};
use super::{PlayCtx, Runner};
use crate::playbook::Task;
use crate::transport::Connection;
use crate::vars::Vars;

impl<'a> Runner<'a> {
    pub(super) async fn meta(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        conn: &Arc<Connection>,
        task: &Task,
        inh: &Inherited,
        m: &str,
    ) -> Flow {
        let scope = self.scope_for(ctx, st, Some(task), inh, &Vars::new());
        let holds = match self.when_holds(&child_when(inh, task), &scope) {
            Ok(b) => b,
            Err(msg) => return self.fail_task(ctx, st, task, msg),
        };
        if matches!(m, "end_play" | "end_batch" | "clear_facts") {
            return self.meta_for_all(ctx, st, task, m, holds).await;
        }
        // noop, refresh_inventory and reset_connection take no condition in ansible-core.
        if !holds && !matches!(m, "noop" | "refresh_inventory" | "reset_connection") {
            self.meta_skipped(ctx, st, task, m);
            return Ok(());
        }
        match m {
            "flush_handlers" => self.flush_handlers(ctx, st, conn).await,
            "end_host" => {
                ctx.remove(&st.name);
                Err(Stop::End)
            }
            "clear_host_errors" => {
                // As ansible-core's strategy: every host of the batch that failed so far is
                // failed no more (run_play clears them at the batch's end; they take part in
                // later plays; the recap keeps their failures);
                // this host's enclosing block goes on after its rescue/always.
                st.errors_cleared = true;
                ctx.cleared_at
                    .store(ctx.tick(), std::sync::atomic::Ordering::SeqCst);
                Ok(())
            }
            "reset_connection" => {
                // The next task connects again (ansible-core's `connection.reset()`).
                conn.reset().await;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A meta task whose condition is false: reported as skipped (ansible-core's callback sees
    /// it; the recap does not count it).
    fn meta_skipped(&self, ctx: &PlayCtx<'_>, st: &HostState, task: &Task, m: &str) {
        let why = match m {
            "end_play" => "end_play conditional evaluated to False, continuing play".to_string(),
            "end_batch" => "end_batch conditional evaluated to False, continuing current batch".to_string(),
            other => format!("{other} conditional evaluated to False"),
        };
        let result = serde_json::json!({"msg": m, "skipped": true, "skip_reason": why, "changed": false});
        let r = crate::report::TaskReport::new(
            ctx.play.index,
            task.id,
            &task.display_name(),
            &st.name,
            crate::report::Status::Skipped,
            result,
        );
        self.report(st, r);
    }

    /// `end_play`, `end_batch` and `clear_facts` act on every host of the play, as ansible-core's
    /// linear strategy runs a meta task host by host in play order: the first host whose
    /// condition holds ends the play (or batch) for all, or clears every host's facts; a host
    /// before it whose condition is false reports a skip first; one after it, for the ends,
    /// reports nothing. Under `linear` the hosts meet twice (all conditions known, then
    /// decided); otherwise a host acts on its own condition.
    async fn meta_for_all(
        &self,
        ctx: &PlayCtx<'_>,
        st: &mut HostState,
        task: &Task,
        m: &str,
        holds: bool,
    ) -> Flow {
        let me = ctx
            .batch
            .lock()
            .ok()
            .and_then(|b| b.iter().position(|h| *h == st.name))
            .unwrap_or(0);
        let first = if ctx.linear {
            if holds && let Ok(mut f) = ctx.meta_first.lock() {
                let slot = f.entry(task.id).or_insert(me);
                *slot = (*slot).min(me);
            }
            ctx.lockstep.step().await;
            ctx.meta_first.lock().ok().and_then(|f| f.get(&task.id).copied())
        } else {
            holds.then_some(me)
        };
        let Some(first) = first else {
            self.meta_skipped(ctx, st, task, m);
            return Ok(());
        };
        if m == "clear_facts" {
            // ansible-core clears the facts of every host of the play.
            let (facts, plain) = st.facts_mut();
            facts.clear();
            plain.clear();
            self.publish_hostvars(st);
            if !holds {
                self.meta_skipped(ctx, st, task, m);
            }
            return Ok(());
        }
        if me < first {
            self.meta_skipped(ctx, st, task, m);
        }
        let how = if m == "end_play" {
            super::ENDED_PLAY
        } else {
            // end_batch also takes the batch's hosts out of ansible_play_hosts.
            ctx.remove(&st.name);
            super::ENDED_BATCH
        };
        ctx.ended.fetch_max(how, std::sync::atomic::Ordering::SeqCst);
        Err(Stop::End)
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
                    handler: true,
                    ..Default::default()
                };
                self.run_task(ctx, st, conn, h, &inh).await?;
            }
        }
        Ok(())
    }

    pub(super) fn is_handler(&self, ctx: &PlayCtx<'_>, task: &Task) -> bool {
        ctx.play.handlers.iter().any(|h| h.id == task.id)
    }
}

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
