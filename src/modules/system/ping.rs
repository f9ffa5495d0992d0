//! `ping`: proves the host answers, as `ansible.builtin.ping` does, without Python on the host:
//! one round trip (`true` run by the host's shell) instead of a module. The result is
//! `ping: DATA` (`pong` by default), never changed, the same in check mode. `data: crash` fails
//! the task as the module's deliberate exception does in ansible-core 2.19 (`msg` "Task failed:
//! Module failed: boom") once the host answered.

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `ping`: `data`.
    INFO,
    "ping",
    ArgSpec::new(&[ArgDef::str("data")]),
    run
);

/// What ansible-core 2.19 registers when `ping` raises its `Exception("boom")` (`data: crash`):
/// an unhandled module exception is reported as "Task failed: Module failed: MESSAGE".
pub const CRASH_MSG: &str = "Task failed: Module failed: boom";

/// The outcome of `ping` with `data` once the host answered (matches ansible.builtin.ping's
/// `main`: `data == 'crash'` raises, else `ping: data`).
pub fn outcome(data: &str) -> ModuleOutcome {
    if data == "crash" {
        return ModuleOutcome::failed(CRASH_MSG);
    }
    ModuleOutcome::ok().with("ping", data)
}

/// Runs `ping`. Errors: [`ModuleError::BadArgs`] for arguments other than `data`;
/// [`ModuleError::Transport`] when the host does not answer. A host whose shell cannot run
/// `true` fails the task with the exit status.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let data = a.str("data")?.unwrap_or_else(|| "pong".to_string());
    let out = sysutil::run_script(ctx, "true", &[], None).await?;
    if !out.status.success() {
        return Ok(ModuleOutcome::failed(format!(
            "the host's shell did not run `true` ({}): {}",
            out.status,
            out.stderr_str().trim()
        )));
    }
    Ok(outcome(&data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_is_returned_as_ping() {
        let o = outcome("pong");
        assert!(!o.failed && !o.changed);
        assert_eq!(o.result.get("ping"), Some(&json!("pong")));
        assert_eq!(outcome("hello").result.get("ping"), Some(&json!("hello")));
    }

    #[test]
    fn crash_fails_as_the_modules_exception() {
        let o = outcome("crash");
        assert!(o.failed);
        assert_eq!(o.msg.as_deref(), Some(CRASH_MSG));
        assert!(o.result.get("ping").is_none());
    }
}
