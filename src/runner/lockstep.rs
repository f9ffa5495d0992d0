//! `strategy: linear`: hosts move from task to task together, as in Ansible. Each host waits at
//! every task until all hosts still in the batch reached it; a host that finishes or fails
//! leaves, so hosts whose task lists differ (includes, failures) never deadlock.

use std::sync::Mutex;

use tokio::sync::Notify;

#[derive(Debug, Default)]
struct State {
    active: usize,
    arrived: usize,
    generation: u64,
    /// A host's task was fatal (`any_errors_fatal`, `max_fail_percentage`): the other hosts
    /// learn it when the step ends (every host finished that task), as the linear strategy
    /// checks after the task.
    fatal_pending: bool,
    fatal: bool,
}

/// A barrier that hosts can leave.
#[derive(Debug, Default)]
pub struct Lockstep {
    state: Mutex<State>,
    notify: Notify,
}

impl Lockstep {
    /// Starts a batch of `hosts` hosts.
    pub fn reset(&self, hosts: usize) {
        if let Ok(mut s) = self.state.lock() {
            *s = State {
                active: hosts,
                arrived: 0,
                generation: s.generation + 1,
                fatal_pending: false,
                fatal: false,
            };
        }
        self.notify.notify_waiters();
    }

    /// Waits until every active host reached this step.
    pub async fn step(&self) {
        let generation = {
            let Ok(mut s) = self.state.lock() else { return };
            s.arrived += 1;
            if s.arrived >= s.active {
                s.arrived = 0;
                s.generation += 1;
                s.fatal |= s.fatal_pending;
                drop(s);
                self.notify.notify_waiters();
                return;
            }
            s.generation
        };
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.state.lock() {
                Ok(s) if s.generation != generation => return,
                Ok(_) => {}
                Err(_) => return,
            }
            notified.await;
        }
    }

    /// A task was fatal for the batch: known to every host after the current step ends, or at
    /// once when `now` (hosts not in lock-step).
    pub fn mark_fatal(&self, now: bool) {
        if let Ok(mut s) = self.state.lock() {
            s.fatal_pending = true;
            if now {
                s.fatal = true;
            }
        }
    }

    /// Whether a fatal task ended the batch (see [`Lockstep::mark_fatal`]).
    pub fn is_fatal(&self) -> bool {
        self.state.lock().map(|s| s.fatal).unwrap_or(false)
    }

    /// A host is done with the batch (finished, failed or unreachable).
    pub fn leave(&self) {
        let release = match self.state.lock() {
            Ok(mut s) => {
                s.active = s.active.saturating_sub(1);
                if s.arrived > 0 && s.arrived >= s.active {
                    s.arrived = 0;
                    s.generation += 1;
                    s.fatal |= s.fatal_pending;
                    true
                } else {
                    false
                }
            }
            Err(_) => false,
        };
        if release {
            self.notify.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn hosts_move_together_and_leaving_releases_the_rest() {
        let ls = Arc::new(Lockstep::default());
        ls.reset(3);
        let done_step1 = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for steps in [1usize, 3, 3] {
            let ls = ls.clone();
            let d = done_step1.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..steps {
                    ls.step().await;
                    if i == 0 {
                        d.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::task::yield_now().await;
                }
                ls.leave();
            }));
        }
        for t in tasks {
            tokio::time::timeout(std::time::Duration::from_secs(5), t)
                .await
                .unwrap()
                .unwrap();
        }
        assert_eq!(done_step1.load(Ordering::SeqCst), 3);
    }
}
