//! `sequence`: numbers formatted as strings, as ansible.builtin.sequence. Each term is the
//! shortcut form `[start-]end[/stride][:format]` or `key=value` words (`start`, `end`, `count`,
//! `stride`, `format`); keyword options give the same keys for every term.

use std::sync::LazyLock;

use minijinja::Error;
use minijinja::value::Value;
use regex::Regex;

use super::{Call, Options};
use crate::template::filters::{err, str_of};

const FIELDS: [&str; 5] = ["start", "end", "count", "stride", "format"];

/// The parsed arguments of one term (before validation).
#[derive(Debug, Default, Clone, PartialEq)]
struct Spec {
    start: Option<String>,
    end: Option<String>,
    count: Option<String>,
    stride: Option<String>,
    format: Option<String>,
}

impl Spec {
    fn set(&mut self, key: &str, value: String) {
        match key {
            "start" => self.start = Some(value),
            "end" => self.end = Some(value),
            "count" => self.count = Some(value),
            "stride" => self.stride = Some(value),
            _ => self.format = Some(value),
        }
    }
}

/// Parses the shortcut form (`5`, `2-10/2`, `4:host%02d`); `None` when the term is not one.
fn parse_shortcut(term: &str) -> Option<Spec> {
    static SHORTCUT: LazyLock<Option<Regex>> = LazyLock::new(|| {
        let num = "(0?x?[0-9a-f]+)";
        Regex::new(&format!(r"(?is)^({num}-)?{num}(/{num})?(:(.+))?$")).ok()
    });
    let c = SHORTCUT.as_ref()?.captures(term)?;
    let get = |i: usize| c.get(i).map(|m| m.as_str().to_string());
    Some(Spec {
        start: get(2),
        end: get(3),
        stride: get(5),
        format: get(7),
        count: None,
    })
}

/// Parses `key=value` words; an unknown key is ansible-core's "unrecognized arguments to
/// with_sequence: ['KEY']".
fn parse_kv(term: &str, spec: &mut Spec) -> Result<(), Error> {
    let kv = crate::playbook::parse_kv_words(term).map_err(|e| {
        err(format!(
            "unknown error parsing with_sequence arguments: '{term}'. Error was: {e}"
        ))
    })?;
    let unknown: Vec<String> = kv
        .keys()
        .filter(|k| !FIELDS.contains(&k.as_str()))
        .map(|k| format!("'{k}'"))
        .collect();
    if !unknown.is_empty() {
        return Err(err(format!(
            "unrecognized arguments to with_sequence: [{}]",
            unknown.join(", ")
        )));
    }
    for (k, v) in kv {
        spec.set(&k, crate::vars::as_string(&v));
    }
    Ok(())
}

/// Runs the lookup: every term's sequence, one after another.
pub(super) fn run(call: &Call) -> Result<Vec<Value>, Error> {
    call.opts.allow("sequence", &FIELDS)?;
    let mut terms: Vec<String> = call.flat_terms()?.iter().map(str_of).collect();
    if terms.is_empty() && !call.opts.0.is_empty() {
        terms.push(String::new());
    }
    let mut ret = Vec::new();
    for term in terms {
        let mut spec = Spec::default();
        for f in FIELDS {
            if let Some(v) = call.opts.str(f) {
                spec.set(f, v);
            }
        }
        match parse_shortcut(&term) {
            Some(s) => {
                for (k, v) in [
                    ("start", s.start),
                    ("end", s.end),
                    ("stride", s.stride),
                    ("format", s.format),
                ] {
                    if let Some(v) = v {
                        spec.set(k, v);
                    }
                }
            }
            None => parse_kv(&term, &mut spec)?,
        }
        ret.extend(generate(&spec)?.into_iter().map(Value::from));
    }
    Ok(ret)
}

/// Validates a term's arguments and makes its numbers, as the plugin's `sanity_check` and
/// `generate_sequence`. Errors: neither or both of `count` and `end`, a stride against the
/// direction, a format without exactly one `%`, a value that is not an integer, more than
/// [`crate::template::MAX_LIST_ITEMS`] numbers.
fn generate(spec: &Spec) -> Result<Vec<String>, Error> {
    let mut opts = Options::default();
    for (k, v) in [
        ("start", &spec.start),
        ("end", &spec.end),
        ("count", &spec.count),
        ("stride", &spec.stride),
    ] {
        if let Some(v) = v {
            opts.set(k, Value::from(v.as_str()));
        }
    }
    let start = opts.int("sequence", "start")?.unwrap_or(1);
    let stride = opts.int("sequence", "stride")?.unwrap_or(1);
    let count = opts.int("sequence", "count")?;
    let format = spec.format.clone().unwrap_or_else(|| "%d".into());
    let end = match (count, opts.int("sequence", "end")?) {
        (None, None) => return Err(err("must specify count or end in with_sequence")),
        (Some(_), Some(_)) => return Err(err("can't specify both count and end in with_sequence")),
        (Some(0), None) => return Ok(Vec::new()),
        (Some(c), None) => start
            .checked_add(c.checked_mul(stride).ok_or_else(|| err("sequence too long"))?)
            .and_then(|e| e.checked_sub(1))
            .ok_or_else(|| err("sequence too long"))?,
        (None, Some(e)) => e,
    };
    if stride > 0 && end < start {
        return Err(err("to count backwards make stride negative"));
    }
    if stride < 0 && end > start {
        return Err(err("to count forward don't make stride negative"));
    }
    if stride == 0 {
        return Ok(Vec::new());
    }
    if format.matches('%').count() != 1 {
        return Err(err(format!("bad formatting string: {format}")));
    }
    let span = (i128::from(end) - i128::from(start)).unsigned_abs() / stride.unsigned_abs() as u128 + 1;
    if span > u128::from(crate::template::MAX_LIST_ITEMS) {
        return Err(err(format!(
            "a sequence of {span} numbers is more than talon makes ({})",
            crate::template::MAX_LIST_ITEMS
        )));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        out.push(printf(&format, i).ok_or_else(|| err(format!("problem formatting {i} with '{format}'")))?);
        match i.checked_add(stride) {
            Some(n) => i = n,
            None => break,
        }
    }
    Ok(out)
}

/// Python's `FORMAT % i` for a format with one conversion: flags `-+ 0#`, a width, a
/// precision, and `d i u x X o c s r e E f F`; `None` for what Python would refuse (and `%g`,
/// which talon does not format).
fn printf(format: &str, i: i64) -> Option<String> {
    let (head, spec) = format.split_once('%')?;
    let flags_end = spec.find(|c: char| !"-+ 0#".contains(c)).unwrap_or(spec.len());
    let flags = &spec[..flags_end];
    let rest = &spec[flags_end..];
    let width_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let width: usize = rest[..width_end].parse().unwrap_or(0);
    let rest = &rest[width_end..];
    let (precision, rest) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            (Some(r[..end].parse::<usize>().unwrap_or(0)), &r[end..])
        }
        None => (None, rest),
    };
    let rest = rest.trim_start_matches(['h', 'l', 'L']);
    let mut chars = rest.chars();
    let conv = chars.next()?;
    let tail = chars.as_str();
    let alt = flags.contains('#');
    let (sign, digits) = {
        let neg = i < 0;
        let m = i.unsigned_abs();
        let body = match conv {
            'd' | 'i' | 'u' => m.to_string(),
            'x' => format!("{}{m:x}", if alt { "0x" } else { "" }),
            'X' => format!("{}{m:X}", if alt { "0X" } else { "" }),
            'o' => format!("{}{m:o}", if alt { "0o" } else { "" }),
            'e' | 'E' | 'f' | 'F' => {
                let p = precision.unwrap_or(6);
                let s = if matches!(conv, 'f' | 'F') {
                    format!("{:.p$}", m as f64)
                } else {
                    let s = format!("{:.p$e}", m as f64);
                    // Python writes the exponent with a sign and two digits at least.
                    let (mant, exp) = s.split_once('e')?;
                    let exp: i32 = exp.parse().ok()?;
                    format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
                };
                if conv == 'E' { s.to_uppercase() } else { s }
            }
            's' | 'r' => {
                let s = i.to_string();
                let s = match precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                };
                return Some(format!(
                    "{head}{}{tail}",
                    pad(&s, width, flags.contains('-'), ' ')
                ));
            }
            'c' => {
                let c = char::from_u32(u32::try_from(i).ok()?)?;
                return Some(format!(
                    "{head}{}{tail}",
                    pad(&c.to_string(), width, flags.contains('-'), ' ')
                ));
            }
            _ => return None,
        };
        let body = match (precision, conv) {
            (Some(p), 'd' | 'i' | 'u') if body.len() < p => format!("{}{body}", "0".repeat(p - body.len())),
            _ => body,
        };
        let sign = if neg {
            "-"
        } else if flags.contains('+') {
            "+"
        } else if flags.contains(' ') {
            " "
        } else {
            ""
        };
        (sign, body)
    };
    let left = flags.contains('-');
    let number = if flags.contains('0') && !left {
        // Zeros go between the sign (and a 0x prefix) and the digits.
        let prefix_len = if alt && matches!(conv, 'x' | 'X' | 'o') {
            2
        } else {
            0
        };
        let (prefix, digits) = digits.split_at(prefix_len);
        let fill = width.saturating_sub(sign.len() + digits.len() + prefix.len());
        format!("{sign}{prefix}{}{digits}", "0".repeat(fill))
    } else {
        pad(&format!("{sign}{digits}"), width, left, ' ')
    };
    Some(format!("{head}{number}{tail}"))
}

/// `s` padded to `width` with `fill`, on the right when `left`-aligned.
fn pad(s: &str, width: usize, left: bool, fill: char) -> String {
    let n = width.saturating_sub(s.chars().count());
    let f: String = std::iter::repeat_n(fill, n).collect();
    if left {
        format!("{s}{f}")
    } else {
        format!("{f}{s}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn seq(term: &str) -> Result<Vec<String>, String> {
        let mut spec = Spec::default();
        match parse_shortcut(term) {
            Some(s) => spec = s,
            None => parse_kv(term, &mut spec).map_err(|e| e.to_string())?,
        }
        generate(&spec).map_err(|e| e.to_string())
    }

    #[test]
    fn shortcut_and_key_value_forms() {
        assert_eq!(seq("5").unwrap(), ["1", "2", "3", "4", "5"]);
        assert_eq!(seq("5-8").unwrap(), ["5", "6", "7", "8"]);
        assert_eq!(seq("2-10/2").unwrap(), ["2", "4", "6", "8", "10"]);
        assert_eq!(
            seq("4:host%02d").unwrap(),
            ["host01", "host02", "host03", "host04"]
        );
        assert_eq!(
            seq("start=5 end=11 stride=2 format=0x%02x").unwrap(),
            ["0x05", "0x07", "0x09", "0x0b"]
        );
        assert_eq!(seq("count=3").unwrap(), ["1", "2", "3"]);
        assert_eq!(
            seq("start=0 count=5 stride=2").unwrap(),
            ["0", "2", "4", "6", "8"]
        );
        assert_eq!(seq("start=10 end=0 stride=-5").unwrap(), ["10", "5", "0"]);
        // ansible-core's count with a negative stride: end = start + count * stride - 1.
        assert_eq!(seq("start=10 count=2 stride=-1").unwrap(), ["10", "9", "8", "7"]);
        assert_eq!(seq("count=0").unwrap(), Vec::<String>::new());
        assert_eq!(seq("start=1 end=3 stride=0").unwrap(), Vec::<String>::new());
        assert!(
            seq("start=1 end=3 format=%5.2f|%-4d|")
                .unwrap_err()
                .contains("bad formatting")
        );
        assert_eq!(seq("3:[%-4d]").unwrap(), ["[1   ]", "[2   ]", "[3   ]"]);
        assert_eq!(seq("2:%+05d").unwrap(), ["+0001", "+0002"]);
        assert_eq!(seq("1:%#06x").unwrap(), ["0x0001"]);
        assert_eq!(seq("1:%.2f").unwrap(), ["1.00"]);
        assert_eq!(seq("1:%e").unwrap(), ["1.000000e+00"]);
    }

    #[test]
    fn bad_arguments_give_ansible_cores_messages() {
        for (term, want) in [
            ("start=5 end=1", "to count backwards make stride negative"),
            (
                "start=1 end=5 stride=-1",
                "to count forward don't make stride negative",
            ),
            ("start=1", "must specify count or end in with_sequence"),
            (
                "end=3 count=3",
                "can't specify both count and end in with_sequence",
            ),
            ("end=3 foo=2", "unrecognized arguments to with_sequence: ['foo']"),
            ("end=3 format=%d%d", "bad formatting string: %d%d"),
            ("end=x", "Invalid value provided for 'integer': 'x'"),
            ("0x10-0x12", "Invalid value provided for 'integer': '0x10'"),
            ("3:%q", "problem formatting 1 with '%q'"),
        ] {
            let e = seq(term).unwrap_err();
            assert!(e.contains(want), "{term}: {e}");
        }
        assert!(
            seq("end=100000000")
                .unwrap_err()
                .contains("more than talon makes")
        );
    }
}
