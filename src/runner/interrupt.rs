//! Ctrl-C (SIGINT) and SIGTERM during a run: stop starting tasks, abandon the ones in flight,
//! print the recap of what ran, exit 99 as `ansible-playbook` does ("User interrupted
//! execution").
//!
//! Abandoning an in-flight task never leaves a half-written file: a write request on the remote
//! shell runs on the host only once its whole line has arrived, and one sent on a channel of its
//! own is hashed on the host before its rename (see `transport::files::write_atomic`); local
//! child processes are killed when their task is dropped (`kill_on_drop`). A second signal ends
//! talon at once (exit 130).

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static NOTIFY: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Starts listening for SIGINT and SIGTERM (call once per run, inside the runtime). The first
/// signal sets [`is_set`] and wakes [`wait`]; the second exits the process with 130.
pub fn install() {
    tokio::spawn(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            let got = match term.as_mut() {
                Some(t) => tokio::select! {
                    r = tokio::signal::ctrl_c() => r.is_ok(),
                    r = t.recv() => r.is_some(),
                },
                None => tokio::signal::ctrl_c().await.is_ok(),
            };
            if !got {
                return;
            }
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                eprintln!("\ntalon: interrupted twice, stopping now");
                std::process::exit(130);
            }
            NOTIFY.notify_waiters();
        }
    });
}

/// True once the run was interrupted.
pub fn is_set() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Completes when the run is interrupted (at once if it already was).
pub async fn wait() {
    loop {
        let notified = NOTIFY.notified();
        if is_set() {
            return;
        }
        notified.await;
    }
}
