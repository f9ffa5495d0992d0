//! Numbers as PyYAML's YAML 1.1 resolver reads plain scalars (the reader ansible-core uses):
//! `0o17` and `1e3` are strings, `017` is octal, `0b101`, `0x1F`, `1_000` and `1:30`
//! (sexagesimal) are integers, a float needs a dot and a signed exponent (`1.5e+3`).

use std::sync::LazyLock;

use regex::Regex;

/// A plain scalar PyYAML resolves as a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

/// PyYAML's `tag:yaml.org,2002:int` implicit resolver.
static INT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    )
    .ok()
});

/// PyYAML's `tag:yaml.org,2002:float` implicit resolver.
static FLOAT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    )
    .ok()
});

/// How PyYAML reads the plain scalar `token`: `Some` number, or `None` for a string. `None`
/// too for an integer beyond `i64` (PyYAML's are unbounded; talon keeps the text).
pub fn resolve(token: &str) -> Option<Number> {
    if INT.as_ref().is_some_and(|r| r.is_match(token)) {
        return int(token).map(Number::Int);
    }
    if FLOAT.as_ref().is_some_and(|r| r.is_match(token)) {
        return float(token).map(Number::Float);
    }
    None
}

/// Whether the resolvers could be built (always, unless the regex crate refuses them).
pub fn available() -> bool {
    INT.is_some() && FLOAT.is_some()
}

/// Splits a leading sign off (PyYAML's constructors: `-` negates, `+` is dropped).
fn sign(v: &str) -> (i8, &str) {
    match v.as_bytes().first() {
        Some(b'-') => (-1, &v[1..]),
        Some(b'+') => (1, &v[1..]),
        _ => (1, v),
    }
}

/// ansible-core's (PyYAML's) `construct_yaml_int`.
fn int(token: &str) -> Option<i64> {
    let v = token.replace('_', "");
    let (s, v) = sign(&v);
    let n = if v == "0" {
        0
    } else if let Some(b) = v.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else if let Some(h) = v.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = v.strip_prefix('0') {
        i64::from_str_radix(o, 8).ok()?
    } else if v.contains(':') {
        v.split(':').try_fold(0i64, |acc, d| {
            acc.checked_mul(60)?.checked_add(d.parse::<i64>().ok()?)
        })?
    } else {
        v.parse().ok()?
    };
    n.checked_mul(i64::from(s))
}

/// ansible-core's (PyYAML's) `construct_yaml_float`.
fn float(token: &str) -> Option<f64> {
    let v = token.replace('_', "").to_lowercase();
    let (s, v) = sign(&v);
    let f = if v == ".inf" {
        f64::INFINITY
    } else if v == ".nan" {
        f64::NAN
    } else if v.contains(':') {
        v.split(':')
            .try_fold(0f64, |acc, d| Some(acc * 60.0 + d.parse::<f64>().ok()?))?
    } else {
        v.parse().ok()?
    };
    Some(f * f64::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_pyyaml_reads_them() {
        assert!(available());
        for (t, want) in [
            ("017", Some(Number::Int(15))),
            ("0o17", None),
            ("0b101", Some(Number::Int(5))),
            ("-0x1F", Some(Number::Int(-31))),
            ("1_000", Some(Number::Int(1000))),
            ("1:30", Some(Number::Int(90))),
            ("+12", Some(Number::Int(12))),
            ("0", Some(Number::Int(0))),
            ("1e3", None),
            ("1.5e3", None),
            ("1.5e+3", Some(Number::Float(1500.0))),
            ("1.", Some(Number::Float(1.0))),
            (".5", Some(Number::Float(0.5))),
            ("-.inf", Some(Number::Float(f64::NEG_INFINITY))),
            ("1:30.5", Some(Number::Float(90.5))),
            ("08", None),
            ("99999999999999999999", None),
            ("1.2.3", None),
        ] {
            assert_eq!(resolve(t), want, "{t}");
        }
    }
}
