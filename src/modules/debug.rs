//! `debug`: print a message or a variable's value, as `ansible.builtin.debug` does. Runs on the
//! controller only; never changes anything.

use serde_json::Value;

use super::sysutil::{Args, bad};
use super::{ModuleContext, ModuleError, ModuleInfo, ModuleOutcome};
use crate::vars::{Vars, as_string};

/// `debug`: `msg` (any value, default "Hello world!") or `var` (an expression), `verbosity`.
pub static INFO: ModuleInfo = ModuleInfo {
    name: "debug",
    args: &["msg", "var", "verbosity"],
    free_form: false,
    types: &[],
};

/// What Ansible prints for a `var` that is not defined.
pub const NOT_DEFINED: &str = "VARIABLE IS NOT DEFINED!";

/// Runs `ansible.builtin.debug`.
///
/// - `msg`: the (already rendered) value goes to `result["msg"]` unchanged (it may be a list or a
///   mapping) and, as a string, to [`ModuleOutcome::msg`].
/// - `var`: evaluated with [`crate::template::Templater::eval_expr`]; the result has one key named
///   after the expression text (`debug: var=x.y` registers `{"x.y": ...}`), with
///   "VARIABLE IS NOT DEFINED!" when evaluation reports an undefined variable.
/// - `verbosity` > 0: talon has no `-v` levels yet, so the task is skipped with
///   `skipped_reason: "Verbosity threshold not met."` (what Ansible does without enough `-v`).
///
/// Errors: both `msg` and `var` given (Ansible: mutually exclusive); `var` whose evaluation fails
/// for another reason than an undefined name ([`ModuleError::Template`]).
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new("debug", args);
    let verbosity = a.u64(&["verbosity"])?.unwrap_or(0);
    let msg = a.raw(&["msg"]);
    let var = a.str(&["var"])?;
    if msg.is_some() && var.is_some() {
        return Err(bad("debug", "parameters are mutually exclusive: msg|var"));
    }
    if verbosity > 0 {
        let mut o = ModuleOutcome::ok().with("skipped_reason", "Verbosity threshold not met.");
        o.skipped = true;
        return Ok(o);
    }
    if let Some(var) = var {
        let value = match ctx.templater.eval_expr(&var, ctx.scope) {
            Ok(v) => v,
            Err(e) if e.message.to_ascii_lowercase().contains("undefined") => NOT_DEFINED.into(),
            Err(e) => return Err(ModuleError::Template(format!("debug var={var}: {}", e.message))),
        };
        return Ok(ModuleOutcome::ok().with(&var, value));
    }
    let value = msg
        .cloned()
        .unwrap_or_else(|| Value::String("Hello world!".into()));
    let text = match &value {
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => value.to_string(),
        other => as_string(other),
    };
    let mut o = ModuleOutcome::ok().with("msg", value);
    o.msg = Some(text);
    Ok(o)
}
