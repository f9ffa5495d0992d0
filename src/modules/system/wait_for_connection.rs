//! `wait_for_connection`: waits until the host can be reached and run a command again, as
//! ansible-core 2.19's wait_for_connection action plugin does, without Python on the host.
//!
//! After `delay` seconds, each attempt resets the connection and opens a new one (within
//! `connect_timeout` seconds), then runs the native `ping` (`true` in the host's shell) where
//! the plugin runs the ping module; a failed attempt is retried after `sleep` seconds until
//! `timeout` seconds have passed since the first. Results: `elapsed` (whole seconds, delay
//! included), never changed; on timeout `failed` with the plugin's "timed out waiting for ping
//! module test: ERROR" (ERROR is talon's transport error, not Python's). Check mode skips it,
//! as the plugin does.

use std::time::{Duration, Instant};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `wait_for_connection`: `connect_timeout`, `delay`, `sleep`, `timeout`.
    INFO,
    "wait_for_connection",
    ArgSpec::new(&[
        ArgDef::int("connect_timeout"),
        ArgDef::int("delay"),
        ArgDef::int("sleep"),
        ArgDef::int("timeout"),
    ]),
    run
);

/// Seconds, as the plugin's `int()` of the option (negative counts as zero).
fn secs(a: &Args<'_>, name: &str, default: i64) -> Result<Duration, ModuleError> {
    Ok(Duration::from_secs(a.i64(name)?.unwrap_or(default).max(0) as u64))
}

/// Runs `wait_for_connection`. Errors: [`ModuleError::BadArgs`] for arguments the plugin does
/// not take; the host not answering in time is the task's failure, not an error.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let connect_timeout = secs(&a, "connect_timeout", 5)?;
    let delay = secs(&a, "delay", 0)?;
    let sleep = secs(&a, "sleep", 1)?;
    let timeout = secs(&a, "timeout", 600)?;
    if ctx.check {
        let mut o = ModuleOutcome::ok();
        o.skipped = true;
        return Ok(o);
    }
    let start = Instant::now();
    tokio::time::sleep(delay).await;
    let end = Instant::now() + timeout;
    let mut last = String::new();
    while Instant::now() < end {
        match ping(ctx, connect_timeout).await {
            Ok(()) => {
                return Ok(ModuleOutcome::ok().with("elapsed", start.elapsed().as_secs()));
            }
            Err(e) => last = e,
        }
        tokio::time::sleep(sleep).await;
    }
    Ok(
        ModuleOutcome::failed(format!("timed out waiting for ping module test: {last}"))
            .with("elapsed", start.elapsed().as_secs()),
    )
}

/// One attempt: a new connection, then `true` on it. `Err` says why it failed.
async fn ping(ctx: &ModuleContext<'_>, connect_timeout: Duration) -> Result<(), String> {
    ctx.conn
        .reconnect(Some(connect_timeout))
        .await
        .map_err(|e| e.to_string())?;
    let out = sysutil::run_script(ctx, "true", &[], None)
        .await
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "the host's shell did not run `true` ({}): {}",
            out.status,
            out.stderr_str().trim()
        ));
    }
    Ok(())
}
