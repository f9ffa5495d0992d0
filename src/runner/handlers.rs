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
        match self.when_holds(&child_when(inh, task), &scope) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(msg) => return self.fail_task(ctx, st, task, msg),
        }
        match m {
            "flush_handlers" => self.flush_handlers(ctx, st, conn).await,
            "end_play" | "end_host" => Err(Stop::End),
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
