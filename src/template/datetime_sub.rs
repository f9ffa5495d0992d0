//! Python's datetime arithmetic in templates, as Ansible's Jinja2 has it:
//! `(now() - '2026-01-01' | to_datetime('%Y-%m-%d')).days`, `.total_seconds()`, a timedelta
//! printed as Python's `str()` ("1 day, 0:00:10"), compared with another.
//!
//! minijinja's `-` knows only numbers, so in a template that makes datetimes (it calls
//! `to_datetime` or `now(`) each binary `-` is rewritten before it compiles into a call of
//! [`SUB_FN`]: datetime minus datetime is a [`TimeDelta`], datetime minus timedelta a
//! datetime, timedelta minus timedelta a timedelta; anything else is minijinja's own `-`.
//! Operands are found by Jinja's precedence: `~`, `*`, `/`, `%`, `**`, filters, calls,
//! attributes and items bind tighter than `-`; `+` and `-` group from the left; comparisons,
//! `and`/`or`/`not`, `in`, `is`, `if`/`else`, commas, `:`, `=` and brackets end an operand.

use std::cmp::Ordering;
use std::fmt;
use std::sync::{Arc, LazyLock};

use minijinja::value::{DynObject, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use super::filters::datetime::PyDateTime;

/// The global function the rewritten subtractions call: `__talon_sub(a, b)` is `a - b`.
pub const SUB_FN: &str = "__talon_sub";

/// Registers [`SUB_FN`].
pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_function(SUB_FN, sub);
}

/// Whether a template's text can make datetimes (and so needs its `-` rewritten).
pub fn may_subtract_datetimes(text: &str) -> bool {
    text.contains('-') && (text.contains("to_datetime") || text.contains("now("))
}

/// A plain environment for minijinja's own `-` on values that are no datetimes.
static PLAIN: LazyLock<minijinja::Environment<'static>> = LazyLock::new(minijinja::Environment::new);

fn sub(a: Value, b: Value) -> Result<Value, Error> {
    let dt = |v: &Value| v.downcast_object_ref::<PyDateTime>().cloned();
    let td = |v: &Value| v.downcast_object_ref::<TimeDelta>().cloned();
    match (dt(&a), dt(&b), td(&a), td(&b)) {
        (Some(x), Some(y), _, _) => {
            if x.offset.is_some() != y.offset.is_some() {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "can't subtract offset-naive and offset-aware datetimes",
                ));
            }
            let utc =
                |p: &PyDateTime| p.dt - jiff::SignedDuration::from_secs(i64::from(p.offset.unwrap_or(0)));
            let d = utc(&x).duration_since(utc(&y));
            Ok(Value::from_object(TimeDelta::from_micros(d.as_micros())))
        }
        (Some(x), None, _, Some(t)) => {
            let dt =
                x.dt.checked_sub(jiff::SignedDuration::from_micros(
                    i64::try_from(t.total_micros()).unwrap_or(i64::MAX),
                ))
                .map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("date value out of range: {e}"),
                    )
                })?;
            Ok(Value::from_object(PyDateTime { dt, offset: x.offset }))
        }
        (None, None, Some(x), Some(y)) => Ok(Value::from_object(TimeDelta::from_micros(
            x.total_micros() - y.total_micros(),
        ))),
        _ => {
            let expr = PLAIN.compile_expression("a - b")?;
            expr.eval(minijinja::context! { a => a, b => b })
        }
    }
}

/// A Python `timedelta`: `days` (any sign), `seconds` (0..86400), `microseconds` (0..10^6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeDelta {
    pub days: i64,
    pub seconds: i64,
    pub microseconds: i64,
}

impl TimeDelta {
    /// The timedelta of `micros` microseconds, normalised as Python's.
    pub fn from_micros(micros: i128) -> TimeDelta {
        let day = 86_400_000_000i128;
        let days = micros.div_euclid(day);
        let rest = micros.rem_euclid(day);
        TimeDelta {
            days: i64::try_from(days).unwrap_or(i64::MAX),
            seconds: (rest / 1_000_000) as i64,
            microseconds: (rest % 1_000_000) as i64,
        }
    }

    fn total_micros(&self) -> i128 {
        (i128::from(self.days) * 86_400 + i128::from(self.seconds)) * 1_000_000
            + i128::from(self.microseconds)
    }
}

impl fmt::Display for TimeDelta {
    /// Python's `str(timedelta)`: `[D day[s], ]H:MM:SS[.ffffff]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.days != 0 {
            let s = if self.days.abs() != 1 { "s" } else { "" };
            write!(f, "{} day{s}, ", self.days)?;
        }
        let (h, m, s) = (self.seconds / 3600, self.seconds % 3600 / 60, self.seconds % 60);
        write!(f, "{h}:{m:02}:{s:02}")?;
        if self.microseconds != 0 {
            write!(f, ".{:06}", self.microseconds)?;
        }
        Ok(())
    }
}

impl Object for TimeDelta {
    /// Plain: printed by its `str()`.
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from(match key.as_str()? {
            "days" => self.days,
            "seconds" => self.seconds,
            "microseconds" => self.microseconds,
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "total_seconds" => Ok(Value::from(self.total_micros() as f64 / 1e6)),
            other => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("'datetime.timedelta' object has no attribute '{other}'"),
            )),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_ref(), f)
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        let other = other.downcast_ref::<TimeDelta>()?;
        Some(self.as_ref().cmp(other))
    }
}

/// A token of a code part, as the operand search needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// A name, number or string: ends an operand.
    Atom,
    /// `(`, `[`, `{`.
    Open,
    /// `)`, `]`, `}`.
    Close,
    /// `-`.
    Minus,
    /// `+`.
    Plus,
    /// Binds tighter than `-`: `~ * / % ** | .` (part of an operand).
    Tight,
    /// Ends an operand: `, : =`, comparisons, and the keywords that bind looser.
    Stop,
}

const LOOSE_WORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "elif",
    "for",
    "set",
    "with",
    "as",
    "import",
    "from",
    "recursive",
];

/// The code's tokens with their byte spans.
fn tokens(code: &str) -> Vec<(Tok, usize, usize)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'\'' | b'"' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                Tok::Atom
            }
            b'(' | b'[' | b'{' => {
                i += 1;
                Tok::Open
            }
            b')' | b']' | b'}' => {
                i += 1;
                Tok::Close
            }
            b'-' => {
                i += 1;
                Tok::Minus
            }
            b'+' => {
                i += 1;
                Tok::Plus
            }
            b'=' | b'!' | b'<' | b'>' => {
                i += 1;
                if i < b.len() && b[i] == b'=' {
                    i += 1;
                }
                Tok::Stop
            }
            b',' | b':' => {
                i += 1;
                Tok::Stop
            }
            b'~' | b'*' | b'/' | b'%' | b'|' | b'.' => {
                i += 1;
                Tok::Tight
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                    i += 1;
                }
                if LOOSE_WORDS.contains(&&code[start..i]) {
                    Tok::Stop
                } else {
                    Tok::Atom
                }
            }
            _ => {
                i += 1;
                Tok::Stop
            }
        };
        out.push((tok, start, i.min(b.len())));
    }
    out
}

/// One code part with its first binary `-` rewritten; `None` when it has none left.
fn rewrite_one(code: &str) -> Option<String> {
    let toks = tokens(code);
    for (at, &(tok, start, end)) in toks.iter().enumerate() {
        if tok != Tok::Minus || at == 0 {
            continue;
        }
        // Binary only after an operand.
        if !matches!(toks[at - 1].0, Tok::Atom | Tok::Close) {
            continue;
        }
        // The left operand: back to a Stop or an unclosed opening bracket.
        let mut depth = 0i32;
        let mut first = at;
        for j in (0..at).rev() {
            match toks[j].0 {
                Tok::Close => depth += 1,
                Tok::Open if depth == 0 => break,
                Tok::Open => depth -= 1,
                Tok::Stop if depth == 0 => break,
                _ => {}
            }
            first = j;
        }
        // The right operand: to a Stop, `+`, binary `-` or an unopened closing bracket.
        let mut depth = 0i32;
        let mut last = None;
        for (j, t) in toks.iter().enumerate().skip(at + 1) {
            match t.0 {
                Tok::Open => depth += 1,
                Tok::Close if depth == 0 => break,
                Tok::Close => depth -= 1,
                Tok::Stop if depth == 0 => break,
                Tok::Plus | Tok::Minus
                    if depth == 0 && j > at + 1 && matches!(toks[j - 1].0, Tok::Atom | Tok::Close) =>
                {
                    break;
                }
                _ => {}
            }
            last = Some(j);
        }
        let (Some(last), true) = (last, first < at) else {
            continue;
        };
        if depth != 0 {
            continue;
        }
        let left = &code[toks[first].1..start];
        let right = &code[end..toks[last].2];
        return Some(format!(
            "{}{SUB_FN}({}, {}){}",
            &code[..toks[first].1],
            left.trim(),
            right.trim(),
            &code[toks[last].2..]
        ));
    }
    None
}

/// A code part with every binary `-` made a [`SUB_FN`] call (left to right, so `a - b - c`
/// is `sub(sub(a, b), c)`).
pub fn rewrite(code: &str) -> Option<String> {
    let mut cur = rewrite_one(code)?;
    for _ in 0..64 {
        match rewrite_one(&cur) {
            Some(next) => cur = next,
            None => break,
        }
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_minus_becomes_a_call() {
        assert_eq!(rewrite(" a - b ").as_deref(), Some(" __talon_sub(a, b) "));
        assert_eq!(
            rewrite(" (now() - '2026-01-01' | to_datetime).days ").as_deref(),
            Some(" (__talon_sub(now(), '2026-01-01' | to_datetime)).days ")
        );
        assert_eq!(
            rewrite(" a - b - c ").as_deref(),
            Some(" __talon_sub(__talon_sub(a, b), c) ")
        );
        assert_eq!(
            rewrite(" x + a * 2 - f(b, c) > 3 ").as_deref(),
            Some(" __talon_sub(x + a * 2, f(b, c)) > 3 ")
        );
        assert_eq!(rewrite(" set y = -1 "), None);
        assert_eq!(rewrite(" a -"), None);
        assert_eq!(rewrite("- if a -"), None);
        assert_eq!(
            rewrite(" [a - 1, b] ").as_deref(),
            Some(" [__talon_sub(a, 1), b] ")
        );
    }

    #[test]
    fn timedeltas_print_as_python() {
        assert_eq!(
            TimeDelta::from_micros(86_410_000_000).to_string(),
            "1 day, 0:00:10"
        );
        assert_eq!(
            TimeDelta::from_micros(-10_000_000).to_string(),
            "-1 day, 23:59:50"
        );
        assert_eq!(TimeDelta::from_micros(1_500_000).to_string(), "0:00:01.500000");
        assert_eq!(
            TimeDelta::from_micros(2 * 86_400_000_000).to_string(),
            "2 days, 0:00:00"
        );
    }
}
