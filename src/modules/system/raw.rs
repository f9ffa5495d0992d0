//! `raw`: a command line run by the host's shell, no module and no Python on the host, as
//! ansible.builtin.raw runs it (`executable -c COMMAND`, `/bin/sh` by default). The result is
//! `rc`, `stdout`, `stderr` and their `_lines`, always `changed`; a non-zero `rc` fails with
//! "non-zero return code"; check mode skips it (the action does not support check mode).
//!
//! Difference: over SSH ansible-core asks for a terminal (`-tt`), so its `stdout` has `\r\n`
//! line ends and stderr joins stdout; talon runs raw like every command, without one, as
//! ansible-core does on a local connection.

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `raw`: free-form command text, `executable`.
    INFO,
    "raw",
    ArgSpec::new(&[ArgDef::str("_raw_params"), ArgDef::path("executable")]).free_form(),
    run
);

/// Runs `raw`. Errors: [`ModuleError::BadArgs`] without a command; [`ModuleError::Transport`]
/// when the host connection broke.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let command = a
        .str("_raw_params")?
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| a.bad("raw needs a command"))?;
    if ctx.check {
        let mut out = ModuleOutcome::ok();
        out.skipped = true;
        return Ok(out);
    }
    let shell = a.str("executable")?.unwrap_or_else(|| "/bin/sh".to_string());
    let out = sysutil::run_script(ctx, r#"exec "$1" -c "$2""#, &[shell, command], None).await?;
    Ok(sysutil::ran(&out))
}
