//! `pause`: wait on the controller for a while, as `ansible.builtin.pause` does with `seconds`
//! or `minutes`. Interactive prompts are not supported (talon never reads the terminal from a
//! task): a pause that would wait for a key press continues at once and says so.

use std::time::{Duration, Instant, SystemTime};

use super::sysutil::{Args, bad, format_time};
use super::{ModuleContext, ModuleError, ModuleInfo, ModuleOutcome};
use crate::vars::Vars;

/// `pause`: `seconds` or `minutes` (numbers, may be strings), `prompt`, `echo`.
pub static INFO: ModuleInfo = ModuleInfo {
    name: "pause",
    args: &["seconds", "minutes", "prompt", "echo"],
    free_form: false,
    types: &[],
};

/// What [`run`] reports instead of waiting for a key press.
pub const NOT_INTERACTIVE: &str = "Not waiting for response to prompt as talon does not read the terminal";

/// Python's `str(round(x, 2))` for a float: `1.0`, `2.5`, `0.33`.
fn py_float(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r.fract() == 0.0 {
        format!("{r:.1}")
    } else {
        format!("{r}")
    }
}

/// Runs `ansible.builtin.pause` (also in check mode, like Ansible).
///
/// Result: `start`, `stop` (Python datetime strings, UTC), `delta` (whole seconds), `echo`,
/// `rc` 0, `stdout` "Paused for N seconds|minutes", `user_input` "", never changed.
/// Without `seconds`/`minutes`: no wait; `msg` is [`NOT_INTERACTIVE`] (Ansible does the same
/// when stdin is not a terminal).
/// Errors: both `seconds` and `minutes`, or a negative / non-numeric value.
pub async fn run(args: &Vars, _ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new("pause", args);
    let seconds = a.f64(&["seconds"])?;
    let minutes = a.f64(&["minutes"])?;
    let echo = a.bool(&["echo"], true)?;
    let _prompt = a.str(&["prompt"])?;
    let (wait, unit) = match (seconds, minutes) {
        (Some(_), Some(_)) => return Err(bad("pause", "parameters are mutually exclusive: minutes|seconds")),
        (Some(s), None) => (Some(s), "seconds"),
        (None, Some(m)) => (Some(m * 60.0), "minutes"),
        (None, None) => (None, "seconds"),
    };
    let start = SystemTime::now();
    let clock = Instant::now();
    let mut o = ModuleOutcome::ok()
        .with("echo", echo)
        .with("rc", 0)
        .with("stderr", "");
    match wait {
        Some(w) if !w.is_finite() || w < 0.0 => {
            return Err(bad(
                "pause",
                format!("cannot pause for a negative or invalid time ({w})"),
            ));
        }
        Some(w) => tokio::time::sleep(Duration::from_secs_f64(w)).await,
        None => o.msg = Some(NOT_INTERACTIVE.into()),
    }
    let elapsed = clock.elapsed();
    let shown = if unit == "minutes" {
        elapsed.as_secs_f64() / 60.0
    } else {
        elapsed.as_secs_f64()
    };
    Ok(o.with("start", format_time(start))
        .with("stop", format_time(SystemTime::now()))
        .with("delta", elapsed.as_secs())
        .with("stdout", format!("Paused for {} {unit}", py_float(shown)))
        .with("user_input", ""))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::py_float;

    #[test]
    fn floats_print_like_python() {
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(0.333), "0.33");
        assert_eq!(py_float(2.5), "2.5");
    }
}
