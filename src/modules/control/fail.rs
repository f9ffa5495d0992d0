//! `fail`: stop the host with a message, as `ansible.builtin.fail` does (usually with `when:`).

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::vars::Vars;

crate::module_info!(
    /// `fail`: `msg` (default "Failed as requested from task").
    INFO,
    "fail",
    ArgSpec::new(&[ArgDef::raw("msg").delivers()]),
    run
);

/// Runs `ansible.builtin.fail`: always failed, never changed; `msg` may be any value (a list or
/// mapping is shown as JSON in [`ModuleOutcome::msg`] and kept as-is in `result["msg"]`).
pub async fn run(args: &Vars, _ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let (text, value) = match a.value("msg") {
        None => ("Failed as requested from task".to_string(), None),
        Some(serde_json::Value::String(s)) => (s.clone(), None),
        Some(v) => (v.to_string(), Some(v.clone())),
    };
    let mut o = ModuleOutcome::failed(text);
    if let Some(v) = value {
        o.result.insert("msg".into(), v);
    }
    Ok(o)
}
