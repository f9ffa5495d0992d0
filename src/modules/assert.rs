//! `assert`: check conditions on the controller and fail the host when one is false, as
//! `ansible.builtin.assert` does.

use serde_json::Value;

use super::sysutil::{Args, bad};
use super::{ModuleContext, ModuleError, ModuleInfo, ModuleOutcome};
use crate::vars::{Vars, as_string};

/// `assert`: `that` (string or list), `fail_msg`/`msg`, `success_msg`, `quiet`.
pub static INFO: ModuleInfo = ModuleInfo {
    name: "assert",
    args: &["that", "fail_msg", "msg", "success_msg", "quiet"],
    free_form: false,
    types: &[],
};

/// The conditions of `that`, as expression texts (YAML booleans become `True`/`False`).
fn conditions(v: &Value) -> Result<Vec<String>, ModuleError> {
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

fn one(v: &Value) -> Result<String, ModuleError> {
    match v {
        Value::Array(_) | Value::Object(_) => Err(bad("assert", "each entry of 'that' must be a string")),
        other => Ok(as_string(other)),
    }
}

/// Runs `ansible.builtin.assert`.
///
/// Each `that` entry is evaluated with [`crate::template::Templater::eval_condition`], in order.
/// The first false one fails the task with `msg` = `fail_msg` (or `msg`, default "Assertion
/// failed"; a list is kept as a list in `result["msg"]`), `evaluated_to: false` and `assertion:
/// <the text>`. All true: ok, `msg` = `success_msg` (default "All assertions passed"). A condition
/// that cannot be evaluated fails with "The conditional check 'X' failed. The error was: ...".
/// `quiet` only affects how much Ansible prints, so it is accepted and ignored here.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new("assert", args);
    let that = a
        .raw(&["that"])
        .ok_or_else(|| bad("assert", "missing required argument: that"))?;
    let thats = conditions(that)?;
    let _quiet = a.bool(&["quiet"], false)?;
    let fail_msg = a
        .raw(&["fail_msg", "msg"])
        .cloned()
        .unwrap_or_else(|| Value::String("Assertion failed".into()));
    let success_msg = a
        .raw(&["success_msg"])
        .cloned()
        .unwrap_or_else(|| Value::String("All assertions passed".into()));
    for cond in thats {
        match ctx.templater.eval_condition(&cond, ctx.scope) {
            Ok(true) => {}
            Ok(false) => {
                let mut o = ModuleOutcome::failed(msg_text(&fail_msg))
                    .with("evaluated_to", false)
                    .with("assertion", cond);
                if !fail_msg.is_string() {
                    o.result.insert("msg".into(), fail_msg);
                }
                return Ok(o);
            }
            Err(e) => {
                return Ok(ModuleOutcome::failed(format!(
                    "The conditional check '{cond}' failed. The error was: {}",
                    e.message
                )));
            }
        }
    }
    let mut o = ModuleOutcome::ok();
    o.msg = Some(msg_text(&success_msg));
    if !success_msg.is_string() {
        o.result.insert("msg".into(), success_msg);
    }
    Ok(o)
}

fn msg_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => v.to_string(),
        other => as_string(other),
    }
}
