//! Ansible's Jinja tests (ansible-core `plugins/test/core.py`, `files.py`, `mathstuff.py`):
//! task-result tests, regex tests, `version`, set relations and controller-side path tests.
//! Type tests (`string`, `number`, `mapping`, ...), `defined`, `none` and `in` are minijinja's.

use std::cmp::Ordering;
use std::path::Path;

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error};

use super::filters::{Anchor, Args, compile_anchored, err, str_of};

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_test("truthy", |v: Value| v.is_true());
    env.add_test("falsy", |v: Value| !v.is_true());
    env.add_test("failed", failed);
    env.add_test("failure", failed);
    env.add_test("succeeded", |v: Value| failed(v).map(|f| !f));
    env.add_test("success", |v: Value| failed(v).map(|f| !f));
    env.add_test("successful", |v: Value| failed(v).map(|f| !f));
    env.add_test("changed", changed);
    env.add_test("change", changed);
    env.add_test("skipped", skipped);
    env.add_test("skip", skipped);
    env.add_test("finished", |v: Value| {
        result_flag(&v, "finished", true, "finished")
    });
    env.add_test("unreachable", |v: Value| {
        result_flag(&v, "unreachable", false, "unreachable")
    });
    env.add_test("reachable", |v: Value| {
        result_flag(&v, "unreachable", false, "reachable").map(|u| !u)
    });
    env.add_test("match", |v: Value, rest: Rest<ValueOrKwargs>| {
        regex_test(v, rest, Mode::Match)
    });
    env.add_test("search", |v: Value, rest: Rest<ValueOrKwargs>| {
        regex_test(v, rest, Mode::Search)
    });
    env.add_test("regex", |v: Value, rest: Rest<ValueOrKwargs>| {
        regex_test(v, rest, Mode::Regex)
    });
    env.add_test("version", version_test);
    env.add_test("version_compare", version_test);
    env.add_test("contains", |seq: Value, item: Value| contains(&seq, &item));
    env.add_test("subset", |a: Value, b: Value| -> Result<bool, Error> {
        let b: Vec<Value> = b.try_iter()?.collect();
        Ok(a.try_iter()?.all(|x| b.contains(&x)))
    });
    env.add_test("superset", |a: Value, b: Value| -> Result<bool, Error> {
        let a: Vec<Value> = a.try_iter()?.collect();
        Ok(b.try_iter()?.all(|x| a.contains(&x)))
    });
    env.add_test("file", |p: String| Path::new(&p).is_file());
    env.add_test("directory", |p: String| Path::new(&p).is_dir());
    env.add_test("exists", |p: String| Path::new(&p).exists());
    env.add_test("link", |p: String| Path::new(&p).is_symlink());
    env.add_test("abs", |p: String| Path::new(&p).is_absolute());
    env.add_test("any", |v: Value| -> Result<bool, Error> {
        Ok(v.try_iter()?.any(|x| x.is_true()))
    });
    env.add_test("all", |v: Value| -> Result<bool, Error> {
        Ok(v.try_iter()?.all(|x| x.is_true()))
    });
    env.add_test("nan", |v: Value| f64::try_from(v).is_ok_and(f64::is_nan));
}

fn contains(seq: &Value, item: &Value) -> Result<bool, Error> {
    if let (Some(s), Some(i)) = (seq.as_str(), item.as_str()) {
        return Ok(s.contains(i));
    }
    Ok(seq.try_iter()?.any(|x| &x == item))
}

/// A boolean key of a task result; a non-mapping is an error like Ansible's.
fn result_flag(v: &Value, key: &str, default: bool, test: &str) -> Result<bool, Error> {
    if v.kind() != ValueKind::Map {
        return Err(err(format!(
            "the '{test}' test expects a dictionary (a registered task result), got {}",
            super::filters::type_name(v)
        )));
    }
    let f = v.get_attr(key)?;
    Ok(if f.is_undefined() { default } else { f.is_true() })
}

/// `failed`: the result's `failed` key; without one, a non-zero `rc`.
fn failed(v: Value) -> Result<bool, Error> {
    let f = result_flag(&v, "failed", false, "failed")?;
    if f || !v.get_attr("failed")?.is_undefined() {
        return Ok(f);
    }
    let rc = v.get_attr("rc")?;
    Ok(rc.as_i64().is_some_and(|rc| rc != 0))
}

/// `changed`: the result's `changed` key, or any changed loop item in `results`.
fn changed(v: Value) -> Result<bool, Error> {
    if result_flag(&v, "changed", false, "changed")? {
        return Ok(true);
    }
    let results = v.get_attr("results")?;
    if results.kind() == ValueKind::Seq {
        for r in results.try_iter()? {
            if r.kind() == ValueKind::Map && r.get_attr("changed")?.is_true() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// `skipped`: the result's `skipped` key.
fn skipped(v: Value) -> Result<bool, Error> {
    result_flag(&v, "skipped", false, "skipped")
}

enum Mode {
    Match,
    Search,
    /// `regex(match_type='search'|'match'|'fullmatch')`.
    Regex,
}

/// `match`/`search`/`regex(pattern, ignorecase=False, multiline=False)`.
fn regex_test(v: Value, rest: Rest<ValueOrKwargs>, mode: Mode) -> Result<bool, Error> {
    let args = Args::new(rest);
    let s = str_of(&v);
    let pattern = args.str(0, "pattern").unwrap_or_default();
    let mode = match (mode, args.str(3, "match_type").as_deref()) {
        (Mode::Regex, Some("match")) => "match",
        (Mode::Regex, Some("fullmatch")) => "fullmatch",
        (Mode::Match, _) => "match",
        _ => "search",
    };
    let anchor = match mode {
        "match" => Anchor::Match,
        "fullmatch" => Anchor::Full,
        _ => Anchor::Search,
    };
    let re = compile_anchored(
        &pattern,
        args.flag(1, "ignorecase"),
        args.flag(2, "multiline"),
        anchor,
    )?;
    re.is_match(&s).map_err(|e| super::filters::regex_run_err(&re, e))
}

/// One part of a version: numbers compare numerically and sort before words (LooseVersion).
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Num(u64),
    Word(String),
}

impl PartialOrd for Part {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Part {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Part::Num(a), Part::Num(b)) => a.cmp(b),
            (Part::Word(a), Part::Word(b)) => a.cmp(b),
            (Part::Num(_), Part::Word(_)) => Ordering::Less,
            (Part::Word(_), Part::Num(_)) => Ordering::Greater,
        }
    }
}

/// Splits like distutils' LooseVersion: runs of digits and runs of letters; dots dropped.
fn loose_parts(v: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, parts: &mut Vec<Part>| {
        if cur.is_empty() {
            return;
        }
        parts.push(match cur.parse::<u64>() {
            Ok(n) => Part::Num(n),
            Err(_) => Part::Word(cur.clone()),
        });
        cur.clear();
    };
    for c in v.chars() {
        if c == '.' || c.is_whitespace() {
            flush(&mut cur, &mut parts);
        } else if cur
            .chars()
            .next()
            .is_some_and(|p| p.is_ascii_digit() != c.is_ascii_digit())
        {
            flush(&mut cur, &mut parts);
            cur.push(c);
        } else {
            cur.push(c);
        }
    }
    flush(&mut cur, &mut parts);
    parts
}

/// Compares two versions the loose way (`1.10 > 1.9`, `1.0 < 1.0a`).
pub(crate) fn compare_versions(a: &str, b: &str) -> Ordering {
    loose_parts(a).cmp(&loose_parts(b))
}

/// A StrictVersion: `(major, minor, patch)` and the prerelease (`a`/`b` and its number).
type Strict = ((u64, u64, u64), Option<(char, u64)>);

/// distutils' StrictVersion: `N.N[.N][{a|b}N]`; a version without a prerelease sorts after one
/// with. `None` when the text is not one.
fn strict_version(v: &str) -> Option<Strict> {
    let (body, pre) = match v.find(['a', 'b']) {
        Some(i) => {
            let (b, p) = v.split_at(i);
            let letter = p.chars().next()?;
            let n = &p[1..];
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            (b, Some((letter, n.parse().ok()?)))
        }
        None => (v, None),
    };
    let nums: Vec<&str> = body.split('.').collect();
    if !(2..=3).contains(&nums.len())
        || nums
            .iter()
            .any(|n| n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let n = |i: usize| nums.get(i).map_or(Some(0), |s| s.parse().ok());
    Some(((n(0)?, n(1)?, n(2)?), pre))
}

/// Compares two StrictVersions (the prerelease rule included); errors as ansible-core words
/// an invalid one.
fn compare_strict(a: &str, b: &str) -> Result<Ordering, Error> {
    let parse = |v: &str| {
        strict_version(v)
            .ok_or_else(|| err(format!("Version comparison failed: invalid version number '{v}'")))
    };
    let (va, pa) = parse(a)?;
    let (vb, pb) = parse(b)?;
    Ok(va.cmp(&vb).then(match (pa, pb) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.cmp(&y),
    }))
}

/// ansible-core's SemanticVersion order (the `semver` crate parses SemVer 2.0.0 as its
/// SEMVER_RE does): core, then prerelease (none sorts after any); build metadata ignored.
fn compare_semver(a: &str, b: &str) -> Result<Ordering, Error> {
    let parse = |v: &str| {
        semver::Version::parse(v).map_err(|_| {
            err(format!(
                "Version comparison failed: invalid semantic version '{v}'"
            ))
        })
    };
    let (va, vb) = (parse(a)?, parse(b)?);
    Ok((va.major, va.minor, va.patch)
        .cmp(&(vb.major, vb.minor, vb.patch))
        .then_with(|| va.pre.cmp(&vb.pre)))
}

/// packaging's `Version` order (PEP 440, the `pep440_rs` crate: normalisation, epochs,
/// pre/post/dev releases and local versions).
fn compare_pep440(a: &str, b: &str) -> Result<Ordering, Error> {
    let parse = |v: &str| {
        v.parse::<pep440_rs::Version>()
            .map_err(|_| err(format!("Version comparison failed: Invalid version: '{v}'")))
    };
    let (va, vb) = (parse(a)?, parse(b)?);
    Ok(va.cmp(&vb))
}

/// ansible-core's `version(version, operator='eq', strict=None, version_type=None)`: `loose`
/// (the default), `strict`, `semver`/`semantic` (ansible-core's SemanticVersion) and `pep440`
/// (packaging's Version) comparisons, with its messages.
fn version_test(v: Value, rest: Rest<ValueOrKwargs>) -> Result<bool, Error> {
    let args = Args::new(rest);
    let other = args.str(0, "version").unwrap_or_default();
    let op = args.str(1, "operator").unwrap_or_else(|| "eq".into());
    let strict = args.get(2, "strict").filter(|s| !s.is_none());
    let version_type = args.str(3, "version_type");
    if strict.is_some() && version_type.is_some() {
        return Err(err("Cannot specify both 'strict' and 'version_type'"));
    }
    let value = str_of(&v);
    if value.is_empty() || v.is_none() {
        return Err(err("Input version value cannot be empty"));
    }
    if other.is_empty() {
        return Err(err("Version parameter to compare against cannot be empty"));
    }
    let kind = match (strict.is_some_and(|s| s.is_true()), version_type.as_deref()) {
        (true, _) => "strict",
        (false, None) => "loose",
        (false, Some(t)) => t,
    };
    let ord = match kind {
        "loose" => compare_versions(&value, &other),
        "strict" => compare_strict(&value, &other)?,
        "semver" | "semantic" => compare_semver(&value, &other)?,
        "pep440" => compare_pep440(&value, &other)?,
        other => {
            return Err(err(format!(
                "Invalid version type ({other}). Must be one of 'loose', 'strict', 'semver', 'semantic', 'pep440'"
            )));
        }
    };
    Ok(match op.as_str() {
        "==" | "=" | "eq" => ord == Ordering::Equal,
        "!=" | "<>" | "ne" => ord != Ordering::Equal,
        "<" | "lt" => ord == Ordering::Less,
        "<=" | "le" => ord != Ordering::Greater,
        ">" | "gt" => ord == Ordering::Greater,
        ">=" | "ge" => ord != Ordering::Less,
        other => {
            return Err(err(format!(
                "Invalid operator type ({other}). Must be one of '==', '=', 'eq', '<', 'lt', '<=', 'le', '>', 'gt', '>=', 'ge', '!=', '<>', 'ne'"
            )));
        }
    })
}
