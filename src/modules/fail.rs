//! `fail`: stop the host with a message, as `ansible.builtin.fail` does (usually with `when:`).

use super::sysutil::Args;
use super::{ModuleContext, ModuleError, ModuleInfo, ModuleOutcome};
use crate::vars::Vars;

/// `fail`: `msg` (default "Failed as requested from task").
pub static INFO: ModuleInfo = ModuleInfo {
    name: "fail",
    args: &["msg"],
    free_form: false,
    types: &[],
};

/// Runs `ansible.builtin.fail`: always failed, never changed; `msg` may be any value (a list or
/// mapping is shown as JSON in [`ModuleOutcome::msg`] and kept as-is in `result["msg"]`).
pub async fn run(args: &Vars, _ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new("fail", args);
    let (text, value) = match a.raw(&["msg"]) {
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
