//! Helpers shared by the system modules (`command`, `shell`, `wait_for`, `apt`, `service`,
//! `user`, `group`, ...): typed access to a task's arguments with Ansible's coercions, Python
//! `shlex.split`, timestamps formatted like Python's `datetime`, and running small POSIX `sh`
//! scripts on the host with their data passed as positional arguments (never spliced into the
//! script text), so that one check or one change is one round trip.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::{ModuleContext, ModuleError};
use crate::transport::ExecOutput;
use crate::vars::{Vars, as_bool, as_string};

/// Builds a [`ModuleError::BadArgs`] for `module`.
pub fn bad(module: &'static str, message: impl Into<String>) -> ModuleError {
    ModuleError::BadArgs {
        module,
        message: message.into(),
    }
}

/// Read-only view of one task's arguments for one module, with Ansible's type coercions.
///
/// Every getter takes the argument's name followed by its aliases; the first one present wins.
/// A `null` value counts as "not given" (Ansible's `None`). Wrong types give
/// [`ModuleError::BadArgs`] naming the argument.
pub struct Args<'a> {
    module: &'static str,
    args: &'a Vars,
}

impl<'a> Args<'a> {
    /// A view over `args` for `module` (the name is used in error messages).
    pub fn new(module: &'static str, args: &'a Vars) -> Self {
        Args { module, args }
    }

    /// The module name this view reports errors for.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// The raw value of the first of `keys` that is present and not null.
    pub fn raw(&self, keys: &[&str]) -> Option<&'a Value> {
        keys.iter()
            .filter_map(|k| self.args.get(*k))
            .find(|v| !v.is_null())
    }

    /// A string argument; scalars are converted like Python's `str()`. Lists and mappings are
    /// rejected.
    pub fn str(&self, keys: &[&str]) -> Result<Option<String>, ModuleError> {
        match self.raw(keys) {
            None => Ok(None),
            Some(Value::Array(_) | Value::Object(_)) => Err(bad(
                self.module,
                format!("argument '{}' must be a string, not a list or mapping", keys[0]),
            )),
            Some(v) => Ok(Some(as_string(v))),
        }
    }

    /// A boolean argument (`yes`/`no`/`true`/`1`/...), or `None` when not given.
    pub fn opt_bool(&self, keys: &[&str]) -> Result<Option<bool>, ModuleError> {
        match self.raw(keys) {
            None => Ok(None),
            Some(v) => as_bool(v).map(Some).ok_or_else(|| {
                bad(
                    self.module,
                    format!(
                        "argument '{}' must be a boolean (yes/no/true/false), got {v}",
                        keys[0]
                    ),
                )
            }),
        }
    }

    /// A boolean argument with a default.
    pub fn bool(&self, keys: &[&str], default: bool) -> Result<bool, ModuleError> {
        Ok(self.opt_bool(keys)?.unwrap_or(default))
    }

    /// A list of strings. Like Ansible's `type='list'`, a string is split on commas and a
    /// scalar becomes a one-element list.
    pub fn list(&self, keys: &[&str]) -> Result<Option<Vec<String>>, ModuleError> {
        match self.raw(keys) {
            None => Ok(None),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Array(_) | Value::Object(_) => {
                            return Err(bad(
                                self.module,
                                format!("argument '{}' must be a list of strings", keys[0]),
                            ));
                        }
                        v => out.push(as_string(v)),
                    }
                }
                Ok(Some(out))
            }
            Some(Value::String(s)) => Ok(Some(
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
            )),
            Some(Value::Object(_)) => Err(bad(
                self.module,
                format!("argument '{}' must be a list, not a mapping", keys[0]),
            )),
            Some(v) => Ok(Some(vec![as_string(v)])),
        }
    }

    /// A number (integer or float, or a string holding one).
    pub fn f64(&self, keys: &[&str]) -> Result<Option<f64>, ModuleError> {
        match self.raw(keys) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) => s.trim().parse::<f64>().map(Some).map_err(|_| {
                bad(
                    self.module,
                    format!("argument '{}' must be a number, got '{s}'", keys[0]),
                )
            }),
            Some(v) => Err(bad(
                self.module,
                format!("argument '{}' must be a number, got {v}", keys[0]),
            )),
        }
    }

    /// A non-negative integer (a string holding one is accepted).
    pub fn u64(&self, keys: &[&str]) -> Result<Option<u64>, ModuleError> {
        match self.raw(keys) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
                bad(
                    self.module,
                    format!("argument '{}' must be a non-negative integer, got {n}", keys[0]),
                )
            }),
            Some(Value::String(s)) => s.trim().parse::<u64>().map(Some).map_err(|_| {
                bad(
                    self.module,
                    format!("argument '{}' must be a non-negative integer, got '{s}'", keys[0]),
                )
            }),
            Some(v) => Err(bad(
                self.module,
                format!("argument '{}' must be a non-negative integer, got {v}", keys[0]),
            )),
        }
    }

    /// A string that must be one of `choices`.
    pub fn choice(&self, keys: &[&str], choices: &[&str]) -> Result<Option<String>, ModuleError> {
        match self.str(keys)? {
            None => Ok(None),
            Some(s) if choices.contains(&s.as_str()) => Ok(Some(s)),
            Some(s) => Err(bad(
                self.module,
                format!(
                    "value of '{}' must be one of: {}, got: {s}",
                    keys[0],
                    choices.join(", ")
                ),
            )),
        }
    }
}

/// Splits text into lines like Python's `str.splitlines()` for the usual separators (`\n`,
/// `\r\n`, `\r`): no trailing empty line. Used for `stdout_lines`/`stderr_lines`.
pub fn splitlines(s: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(i) => {
                out.push(Value::String(rest[..i].to_string()));
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
            None => {
                out.push(Value::String(rest.to_string()));
                break;
            }
        }
    }
    out
}

/// A fresh token for marking sections of a script's output: unlikely to appear in anything a
/// command prints by chance (not a secret).
pub fn marker() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("__talon_{:x}_{:x}_{:x}__", nanos, std::process::id(), n)
}

/// Splits `text` at lines of the form `MARKER NAME` into `(NAME, body)` pairs, in order.
/// Text before the first marker line is returned under the name `""`.
pub fn sections<'t>(text: &'t str, marker: &str) -> Vec<(&'t str, &'t str)> {
    let mut out = Vec::new();
    let mut name = "";
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end_matches('\n');
        if let Some(rest) = trimmed.strip_prefix(marker)
            && (rest.is_empty() || rest.starts_with(' '))
        {
            out.push((name, &text[start..pos]));
            name = rest.trim();
            start = pos + line.len();
        }
        pos += line.len();
    }
    out.push((name, &text[start..]));
    out
}

/// The body of section `name` from [`sections`], if present.
pub fn section<'t>(secs: &[(&'t str, &'t str)], name: &str) -> Option<&'t str> {
    secs.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Runs `script` with `/bin/sh -c SCRIPT talon ARGS...` on the host (as the task's `become`
/// user), so the data in `args` reaches the script as `$1...` and is never parsed as shell.
pub async fn run_script(
    ctx: &ModuleContext<'_>,
    script: &str,
    args: &[String],
    stdin: Option<Vec<u8>>,
) -> Result<ExecOutput, ModuleError> {
    let mut req = crate::transport::files::script_request(script, args, stdin, &ctx.become_);
    req.env = ctx.env.to_vec();
    Ok(ctx.conn.exec(&req).await?)
}

/// Joins argvs into one `sh` script that runs them in order and stops at the first failure
/// (`set -e`), each argument quoted on its own.
pub fn chain(cmds: &[Vec<String>]) -> String {
    let mut s = String::from("set -e\n");
    for c in cmds {
        s.push_str(&crate::transport::quote::join(c));
        s.push('\n');
    }
    s
}

/// Formats a wall-clock time like Python's `str(datetime.datetime.now())`
/// (`2024-05-01 13:02:03.123456`), in UTC (talon does not read the controller's time zone).
pub fn format_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or_default();
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Formats a duration like Python's `str(datetime.timedelta)`: `0:00:01.002003`, or
/// `0:00:01` when there are no microseconds.
pub fn format_delta(d: Duration) -> String {
    let s = d.as_secs();
    let base = format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
    if d.subsec_micros() == 0 {
        base
    } else {
        format!("{base}.{:06}", d.subsec_micros())
    }
}

/// Days since 1970-01-01 -> (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splitlines_like_python() {
        assert_eq!(
            splitlines("a\nb\r\nc\rd\n"),
            vec![json!("a"), json!("b"), json!("c"), json!("d")]
        );
        assert!(splitlines("").is_empty());
        assert_eq!(splitlines("\n"), vec![json!("")]);
    }

    #[test]
    fn sections_split_on_marker_lines() {
        let t = "pre\nM a\n1\n2\nM b\nM c\n3";
        let s = sections(t, "M");
        assert_eq!(section(&s, ""), Some("pre\n"));
        assert_eq!(section(&s, "a"), Some("1\n2\n"));
        assert_eq!(section(&s, "b"), Some(""));
        assert_eq!(section(&s, "c"), Some("3"));
        assert_eq!(section(&s, "d"), None);
    }

    #[test]
    fn times_like_python() {
        let t = UNIX_EPOCH + Duration::new(1_714_568_523, 123_456_000);
        assert_eq!(format_time(t), "2024-05-01 13:02:03.123456");
        assert_eq!(format_delta(Duration::from_micros(1_002_003)), "0:00:01.002003");
        assert_eq!(format_delta(Duration::from_secs(3725)), "1:02:05");
    }

    #[test]
    fn args_coerce_like_ansible() {
        let v = json!({"a": "x,y", "b": "yes", "c": 3, "d": null, "e": ["p", 1]});
        let m = v.as_object().unwrap();
        let a = Args::new("t", m);
        assert_eq!(a.list(&["a"]).unwrap().unwrap(), ["x", "y"]);
        assert_eq!(a.list(&["e"]).unwrap().unwrap(), ["p", "1"]);
        assert!(a.bool(&["b"], false).unwrap());
        assert!(a.bool(&["d"], true).unwrap());
        assert_eq!(a.u64(&["c"]).unwrap(), Some(3));
        assert_eq!(a.str(&["zz", "c"]).unwrap().as_deref(), Some("3"));
        assert!(a.choice(&["a"], &["q"]).is_err());
        assert!(a.str(&["e"]).is_err());
    }
}
