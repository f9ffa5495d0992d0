//! Ansible's Jinja filters (ansible-core `plugins/filter/core.py`, `mathstuff.py`, `urls.py`)
//! on top of minijinja's builtins, plus the Python-style output formatting Ansible users
//! expect (`True`, `['a', 'b']`, `None` printed as nothing).

use std::collections::HashSet;

use base64::Engine as _;
use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, Output, State};
use sha1::Digest as _;

use super::scope::to_json;

/// Positional and keyword arguments of a filter, looked up Python-style (keyword first).
pub(crate) struct Args {
    pos: Vec<Value>,
    kw: Option<Value>,
}

impl Args {
    pub fn new(rest: Rest<ValueOrKwargs>) -> Args {
        let mut pos = rest.into_values();
        let kw = match pos.last() {
            Some(v) if v.is_kwargs() => pos.pop(),
            _ => None,
        };
        Args { pos, kw }
    }
    /// The argument at position `i` or named `name`.
    pub fn get(&self, i: usize, name: &str) -> Option<Value> {
        if let Some(kw) = &self.kw
            && let Ok(v) = kw.get_attr(name)
            && !v.is_undefined()
        {
            return Some(v);
        }
        self.pos.get(i).cloned()
    }
    pub fn str(&self, i: usize, name: &str) -> Option<String> {
        self.get(i, name).filter(|v| !v.is_none()).map(|v| str_of(&v))
    }
    pub fn flag(&self, i: usize, name: &str) -> bool {
        self.get(i, name).is_some_and(|v| v.is_true())
    }
    pub fn positional(&self) -> &[Value] {
        &self.pos
    }
}

pub(crate) fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Python's `str()` of a value.
pub(crate) fn str_of(v: &Value) -> String {
    match v.kind() {
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        ValueKind::Bool | ValueKind::None | ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => {
            py_repr(v)
        }
        _ => v.to_string(),
    }
}

/// Python's `repr()` of a value (strings single-quoted, `True`, `None`, `[...]`, `{...}`).
pub(crate) fn py_repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, v);
    out
}

fn write_repr(out: &mut String, v: &Value) {
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default();
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            out.push(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
        }
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(iter) = v.try_iter() {
                for (i, item) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &item);
                }
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(iter) = v.try_iter() {
                for (i, key) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &key);
                    out.push_str(": ");
                    write_repr(out, &v.get_item(&key).unwrap_or_default());
                }
            }
            out.push('}');
        }
        _ => out.push_str(&v.to_string()),
    }
}

/// Output formatting like Ansible's templar: `None` prints as nothing, booleans and
/// containers as Python prints them; everything else (including strict undefined errors) as
/// minijinja does.
pub(crate) fn python_formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    let text = match value.kind() {
        ValueKind::None => return Ok(()),
        ValueKind::Bool | ValueKind::Seq | ValueKind::Map => {
            let json = to_json(value)?;
            py_repr(&from_json_value(&json))
        }
        _ => return minijinja::escape_formatter(out, state, value),
    };
    out.write_str(&text).map_err(Error::from)
}

fn json_of(v: &Value) -> Result<serde_json::Value, Error> {
    to_json(v)
}

pub(crate) fn from_json_value(v: &serde_json::Value) -> Value {
    Value::from(minijinja::value::Serde(v))
}

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_filter("bool", to_bool);
    env.add_filter("string", |v: Value| str_of(&v));
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", |s: String| regex::escape(&s));
    env.add_filter("to_json", to_json_filter);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("from_json", |s: String| {
        serde_json::from_str::<serde_json::Value>(&s)
            .map(|v| from_json_value(&v))
            .map_err(|e| err(format!("from_json: the input is not valid JSON: {e}")))
    });
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_yaml);
    env.add_filter("from_yaml", from_yaml);
    env.add_filter("from_yaml_all", from_yaml_all);
    env.add_filter("b64encode", |s: String| {
        base64::engine::general_purpose::STANDARD.encode(s)
    });
    env.add_filter("b64decode", |s: String| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| err(format!("b64decode: the input is not valid base64: {e}")))?;
        Ok::<_, Error>(String::from_utf8_lossy(&bytes).into_owned())
    });
    env.add_filter("quote", |v: Value| crate::transport::quote::quote(&str_of(&v)));
    env.add_filter("basename", |s: String| basename(&s).to_string());
    env.add_filter("dirname", |s: String| dirname(&s).to_string());
    env.add_filter("expanduser", expanduser);
    env.add_filter("splitext", splitext);
    env.add_filter("path_join", path_join);
    env.add_filter("combine", combine);
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("flatten", flatten);
    env.add_filter("mandatory", mandatory);
    env.add_filter("ternary", ternary);
    env.add_filter("hash", hash);
    env.add_filter("checksum", |s: String| {
        hex::encode(sha1::Sha1::digest(s.as_bytes()))
    });
    env.add_filter("sha1", |s: String| hex::encode(sha1::Sha1::digest(s.as_bytes())));
    env.add_filter("product", product);
    env.add_filter("type_debug", type_debug);
    env.add_filter("difference", |a: Value, b: Value| {
        set_op(&a, &b, SetOp::Difference)
    });
    env.add_filter("intersect", |a: Value, b: Value| set_op(&a, &b, SetOp::Intersect));
    env.add_filter("union", |a: Value, b: Value| set_op(&a, &b, SetOp::Union));
    env.add_filter("symmetric_difference", |a: Value, b: Value| {
        set_op(&a, &b, SetOp::Symmetric)
    });
    env.add_filter("extract", extract);
    env.add_filter("int", to_int);
    env.add_filter("float", to_float);
    env.add_filter("subelements", subelements);
    env.add_filter("zip_longest", zip_longest);
}

/// `default(value='', boolean=False)`: the default when undefined (or falsy with `boolean`).
fn default(value: Value, rest: Rest<ValueOrKwargs>) -> Value {
    let args = Args::new(rest);
    let other = args.get(0, "default_value").unwrap_or_else(|| Value::from(""));
    if value.is_undefined() || (args.flag(1, "boolean") && !value.is_true()) {
        other
    } else {
        value
    }
}

/// Ansible's `bool`: booleans and None as they are; `yes`/`on`/`1`/`true` (any case) and the
/// number 1 are true; everything else false.
fn to_bool(value: Value) -> Value {
    match value.kind() {
        ValueKind::Bool | ValueKind::None => value,
        ValueKind::Number => Value::from(value.as_i64() == Some(1) || f64::try_from(value).ok() == Some(1.0)),
        _ => {
            let s = str_of(&value).to_lowercase();
            Value::from(matches!(s.trim(), "yes" | "on" | "1" | "true"))
        }
    }
}

/// Jinja2's `int(default=0, base=10)`: strings in the base (prefixes `0x`/`0o`/`0b` allowed),
/// float strings truncated, booleans 1/0.
fn to_int(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let default = args.get(0, "default").unwrap_or_else(|| Value::from(0));
    let base = args.get(1, "base").and_then(|b| b.as_i64()).unwrap_or(10);
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(i64::from(value.is_true())),
        ValueKind::Number => match value.as_i64() {
            Some(i) => Value::from(i),
            None => f64::try_from(value.clone())
                .map(|f| Value::from(f.trunc() as i64))
                .unwrap_or(default),
        },
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default().trim().replace('_', "");
            let (neg, digits) = match s.strip_prefix('-') {
                Some(d) => (true, d.to_string()),
                None => (false, s.trim_start_matches('+').to_string()),
            };
            let lower = digits.to_ascii_lowercase();
            let (radix, body) = match (base, lower.get(..2)) {
                (16, Some("0x")) => (16, &digits[2..]),
                (8, Some("0o")) => (8, &digits[2..]),
                (2, Some("0b")) => (2, &digits[2..]),
                (b, _) => (b, digits.as_str()),
            };
            let radix = u32::try_from(radix).unwrap_or(10).clamp(2, 36);
            match i64::from_str_radix(body, radix) {
                Ok(i) => Value::from(if neg { -i } else { i }),
                Err(_) => match s.parse::<f64>() {
                    Ok(f) if radix == 10 && f.is_finite() => Value::from(f.trunc() as i64),
                    _ => default,
                },
            }
        }
        _ => default,
    })
}

/// Jinja2's `float(default=0.0)`.
fn to_float(value: Value, rest: Rest<ValueOrKwargs>) -> Value {
    let args = Args::new(rest);
    let default = args.get(0, "default").unwrap_or_else(|| Value::from(0.0));
    match value.kind() {
        ValueKind::Bool => Value::from(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(value).map(Value::from).unwrap_or(default),
        ValueKind::String => match value.as_str().unwrap_or_default().trim().parse::<f64>() {
            Ok(f) => Value::from(f),
            Err(_) => default,
        },
        _ => default,
    }
}

/// Compiles a Python regular expression (Rust `regex` syntax is a close superset of the common
/// part; look-around and backreferences are not supported).
pub(crate) fn compile_regex(pattern: &str, ignorecase: bool, multiline: bool) -> Result<regex::Regex, Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| err(format!("invalid regular expression '{pattern}': {e}")))
}

/// A Python `re.sub` replacement string in Rust `regex` syntax: `\1`, `\g<1>`, `\g<name>`
/// become `${1}`/`${name}`, `$` is escaped, `\n`/`\t`/`\\` are unescaped.
fn python_replacement(rep: &str) -> String {
    let mut out = String::with_capacity(rep.len());
    let chars: Vec<char> = rep.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '$' {
            out.push_str("$$");
        } else if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n.is_ascii_digit() {
                let mut j = i + 1;
                let mut num = String::new();
                while j < chars.len() && chars[j].is_ascii_digit() && num.len() < 2 {
                    num.push(chars[j]);
                    j += 1;
                }
                out.push_str(&format!("${{{num}}}"));
                i = j;
                continue;
            }
            if n == 'g'
                && chars.get(i + 2) == Some(&'<')
                && let Some(end) = chars[i + 3..].iter().position(|&c| c == '>')
            {
                {
                    let name: String = chars[i + 3..i + 3 + end].iter().collect();
                    out.push_str(&format!("${{{name}}}"));
                    i = i + 3 + end + 1;
                    continue;
                }
            }
            match n {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '\\' => out.push('\\'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            i += 2;
            continue;
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// `regex_replace(pattern, replacement='', ignorecase=False, multiline=False, count=0)`.
fn regex_replace(value: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::new(rest);
    let s = str_of(&value);
    let pattern = args.str(0, "pattern").unwrap_or_default();
    let rep = python_replacement(&args.str(1, "replacement").unwrap_or_default());
    let re = compile_regex(&pattern, args.flag(2, "ignorecase"), args.flag(3, "multiline"))?;
    let count = args.get(4, "count").and_then(|c| c.as_usize()).unwrap_or(0);
    Ok(re.replacen(&s, count, rep.as_str()).into_owned())
}

/// `regex_search(regex, *groups, ignorecase=False, multiline=False)`: the first match (or
/// None); with `'\\1'`/`'\\g<name>'` arguments, a list of those groups.
fn regex_search(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let s = str_of(&value);
    let pattern = args.str(0, "regex").unwrap_or_default();
    let re = compile_regex(&pattern, args.flag(99, "ignorecase"), args.flag(99, "multiline"))?;
    let Some(caps) = re.captures(&s) else {
        return Ok(Value::from(()));
    };
    let groups: Vec<String> = args.positional().iter().skip(1).map(str_of).collect();
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or_default()));
    }
    let mut out = Vec::new();
    for g in groups {
        let m = if let Some(n) = g.strip_prefix("\\g<").and_then(|r| r.strip_suffix('>')) {
            match n.parse::<usize>() {
                Ok(i) => caps.get(i),
                Err(_) => caps.name(n),
            }
        } else if let Some(n) = g.strip_prefix('\\').and_then(|n| n.parse::<usize>().ok()) {
            caps.get(n)
        } else {
            return Err(err(format!(
                "regex_search: unknown group argument '{g}' (use '\\\\1' or '\\\\g<name>')"
            )));
        };
        out.push(
            m.map(|m| Value::from(m.as_str()))
                .unwrap_or_else(|| Value::from(())),
        );
    }
    Ok(Value::from(out))
}

/// `regex_findall(regex, ignorecase=False, multiline=False)`: all matches; with one group, the
/// group's text; with several, a list per match.
fn regex_findall(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let s = str_of(&value);
    let re = compile_regex(
        &args.str(0, "regex").unwrap_or_default(),
        args.flag(1, "ignorecase"),
        args.flag(2, "multiline"),
    )?;
    let ngroups = re.captures_len() - 1;
    let out: Vec<Value> = re
        .captures_iter(&s)
        .map(|c| match ngroups {
            0 => Value::from(c.get(0).map(|m| m.as_str()).unwrap_or_default()),
            1 => Value::from(c.get(1).map(|m| m.as_str()).unwrap_or_default()),
            n => Value::from(
                (1..=n)
                    .map(|i| Value::from(c.get(i).map(|m| m.as_str()).unwrap_or_default()))
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    Ok(Value::from(out))
}

fn sort_keys(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.sort_keys();
            for (_, item) in m.iter_mut() {
                sort_keys(item);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// Python `json.dumps` separators: `", "` and `": "` on one line.
fn python_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    fn walk(out: &mut String, v: &serde_json::Value) {
        match v {
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    walk(out, x);
                }
                out.push(']');
            }
            serde_json::Value::Object(m) => {
                out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push_str(": ");
                    walk(out, x);
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    walk(&mut out, v);
    out
}

/// `to_json(sort_keys=False)`: one line, Python's separators.
fn to_json_filter(value: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::new(rest);
    let mut j = json_of(&value)?;
    if args.flag(99, "sort_keys") {
        sort_keys(&mut j);
    }
    // A secret's marker is now inside a JSON string: its value must be escaped on delivery.
    Ok(crate::secrets::json_escape_markers(&python_json(&j)).into_owned())
}

/// `to_nice_json(indent=4, sort_keys=True)`.
fn to_nice_json(value: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::new(rest);
    let mut j = json_of(&value)?;
    if args.get(99, "sort_keys").is_none_or(|v| v.is_true()) {
        sort_keys(&mut j);
    }
    let indent = args.get(99, "indent").and_then(|v| v.as_usize()).unwrap_or(4);
    let pad = vec![b' '; indent];
    let fmt = serde_json::ser::PrettyFormatter::with_indent(&pad);
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(&j, &mut ser).map_err(|e| err(format!("to_nice_json: {e}")))?;
    Ok(crate::secrets::json_escape_markers(&String::from_utf8_lossy(&buf)).into_owned())
}

/// `to_yaml`/`to_nice_yaml`: block-style YAML.
fn to_yaml(value: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let _ = Args::new(rest);
    let j = json_of(&value)?;
    serde_saphyr::to_string(&j).map_err(|e| err(format!("to_yaml: {e}")))
}

fn from_yaml(s: String) -> Result<Value, Error> {
    let v: serde_json::Value = serde_saphyr::from_str(&s)
        .map_err(|e| err(format!("from_yaml: the input is not valid YAML: {e}")))?;
    Ok(from_json_value(&v))
}

fn from_yaml_all(s: String) -> Result<Value, Error> {
    let v: Vec<serde_json::Value> = serde_saphyr::from_multiple(&s)
        .map_err(|e| err(format!("from_yaml_all: the input is not valid YAML: {e}")))?;
    Ok(Value::from(minijinja::value::Serde(&v)))
}

pub(crate) fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

pub(crate) fn dirname(s: &str) -> &str {
    match s.rfind('/') {
        Some(0) => "/",
        Some(i) => s[..i]
            .trim_end_matches('/')
            .get(..)
            .filter(|d| !d.is_empty())
            .unwrap_or("/"),
        None => "",
    }
}

fn expanduser(s: String) -> String {
    if (s == "~" || s.starts_with("~/"))
        && let Ok(home) = std::env::var("HOME")
    {
        return format!("{home}{}", &s[1..]);
    }
    s
}

fn splitext(s: String) -> Value {
    let base = basename(&s);
    match base.rfind('.') {
        Some(i) if i > 0 => {
            let cut = s.len() - base.len() + i;
            Value::from(vec![s[..cut].to_string(), s[cut..].to_string()])
        }
        _ => Value::from(vec![s.clone(), String::new()]),
    }
}

/// `path_join`: joins a list of path parts like `os.path.join` (an absolute part restarts).
fn path_join(v: Value) -> Result<String, Error> {
    let mut out = String::new();
    let parts: Vec<String> = match v.kind() {
        ValueKind::String => return Ok(str_of(&v)),
        _ => v.try_iter()?.map(|p| str_of(&p)).collect(),
    };
    for p in parts {
        if p.starts_with('/') {
            out = p;
        } else if out.is_empty() || out.ends_with('/') {
            out.push_str(&p);
        } else {
            out.push('/');
            out.push_str(&p);
        }
    }
    Ok(out)
}

/// How `combine` merges lists (`list_merge`).
#[derive(Clone, Copy)]
enum ListMerge {
    Replace,
    Keep,
    Append,
    Prepend,
    AppendRp,
    PrependRp,
}

fn merge(base: &mut serde_json::Value, top: &serde_json::Value, recursive: bool, lm: ListMerge) {
    use serde_json::Value as J;
    match (base, top) {
        (J::Object(b), J::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(k) {
                    Some(existing) if recursive && (existing.is_object() || existing.is_array()) => {
                        merge(existing, v, recursive, lm)
                    }
                    Some(existing) => *existing = v.clone(),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (J::Array(b), J::Array(t)) => match lm {
            ListMerge::Replace => *b = t.clone(),
            ListMerge::Keep => {}
            ListMerge::Append => b.extend(t.iter().cloned()),
            ListMerge::Prepend => {
                let mut n = t.clone();
                n.append(b);
                *b = n;
            }
            ListMerge::AppendRp => {
                b.retain(|x| !t.contains(x));
                b.extend(t.iter().cloned());
            }
            ListMerge::PrependRp => {
                let mut n = t.clone();
                n.extend(b.iter().filter(|x| !t.contains(x)).cloned());
                *b = n;
            }
        },
        (b, t) => *b = t.clone(),
    }
}

/// `combine(*dicts, recursive=False, list_merge='replace')` (ansible.builtin.combine).
fn combine(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let recursive = args.flag(usize::MAX, "recursive");
    let lm = match args.str(usize::MAX, "list_merge").as_deref() {
        None | Some("replace") => ListMerge::Replace,
        Some("keep") => ListMerge::Keep,
        Some("append") => ListMerge::Append,
        Some("prepend") => ListMerge::Prepend,
        Some("append_rp") => ListMerge::AppendRp,
        Some("prepend_rp") => ListMerge::PrependRp,
        Some(other) => return Err(err(format!("combine: unknown list_merge '{other}'"))),
    };
    let mut dicts = Vec::new();
    let mut push = |v: &Value| -> Result<(), Error> {
        match v.kind() {
            ValueKind::Map => dicts.push(json_of(v)?),
            ValueKind::Seq => {
                for item in v.try_iter()? {
                    dicts.push(json_of(&item)?);
                }
            }
            _ => {
                return Err(err(format!(
                    "combine: expected dictionaries, got {}",
                    type_name(v)
                )));
            }
        }
        Ok(())
    };
    push(&value)?;
    for a in args.positional() {
        push(a)?;
    }
    let mut out = serde_json::Value::Object(serde_json::Map::new());
    for d in &dicts {
        if !d.is_object() {
            return Err(err("combine: every argument must be a dictionary"));
        }
        merge(&mut out, d, recursive, lm);
    }
    Ok(from_json_value(&out))
}

/// `dict2items(key_name='key', value_name='value')`.
fn dict2items(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    if value.kind() != ValueKind::Map {
        return Err(err(format!(
            "dict2items requires a dictionary, got {}",
            type_name(&value)
        )));
    }
    let kn = args.str(0, "key_name").unwrap_or_else(|| "key".into());
    let vn = args.str(1, "value_name").unwrap_or_else(|| "value".into());
    let mut out = Vec::new();
    for k in value.try_iter()? {
        let v = value.get_item(&k)?;
        out.push(Value::from_pairs([
            (Value::from(kn.as_str()), k),
            (Value::from(vn.as_str()), v),
        ]));
    }
    Ok(Value::from(out))
}

/// `items2dict(key_name='key', value_name='value')`.
fn items2dict(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let kn = args.str(0, "key_name").unwrap_or_else(|| "key".into());
    let vn = args.str(1, "value_name").unwrap_or_else(|| "value".into());
    let mut out = Vec::new();
    for item in value.try_iter()? {
        let k = item.get_attr(&kn)?;
        let v = item.get_attr(&vn)?;
        if k.is_undefined() || v.is_undefined() {
            return Err(err(format!(
                "items2dict: every item needs the keys '{kn}' and '{vn}' (got {})",
                py_repr(&item)
            )));
        }
        out.push((k, v));
    }
    Ok(Value::from_pairs(out))
}

/// `flatten(levels=None, skip_nulls=True)`.
fn flatten(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let levels = args.get(0, "levels").and_then(|v| v.as_i64());
    let skip_nulls = args.get(1, "skip_nulls").is_none_or(|v| v.is_true());
    fn walk(v: &Value, level: Option<i64>, skip: bool, out: &mut Vec<Value>) -> Result<(), Error> {
        for item in v.try_iter()? {
            if skip && item.is_none() {
                continue;
            }
            if item.kind() == ValueKind::Seq && level.is_none_or(|l| l > 0) {
                walk(&item, level.map(|l| l - 1), skip, out)?;
            } else {
                out.push(item);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(&value, levels, skip_nulls, &mut out)?;
    Ok(Value::from(out))
}

/// `mandatory(msg=None)`: fails on an undefined value.
fn mandatory(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    if value.is_undefined() {
        let msg = args
            .str(0, "msg")
            .unwrap_or_else(|| "Mandatory variable has not been overridden".into());
        return Err(err(msg));
    }
    Ok(value)
}

/// `ternary(true_val, false_val, none_val=None)`.
fn ternary(value: Value, rest: Rest<ValueOrKwargs>) -> Value {
    let args = Args::new(rest);
    if value.is_none()
        && let Some(n) = args.get(2, "none_val")
    {
        return n;
    }
    if value.is_true() {
        args.get(0, "true_val").unwrap_or_default()
    } else {
        args.get(1, "false_val").unwrap_or_default()
    }
}

/// `hash(hashtype='sha1')`: sha1, sha224, sha256, sha384, sha512 (md5 is not available).
fn hash(value: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::new(rest);
    let data = str_of(&value);
    let b = data.as_bytes();
    Ok(match args.str(0, "hashtype").as_deref().unwrap_or("sha1") {
        "sha1" => hex::encode(sha1::Sha1::digest(b)),
        "sha224" => hex::encode(sha2::Sha224::digest(b)),
        "sha256" => hex::encode(sha2::Sha256::digest(b)),
        "sha384" => hex::encode(sha2::Sha384::digest(b)),
        "sha512" => hex::encode(sha2::Sha512::digest(b)),
        other => {
            return Err(err(format!(
                "hash: unsupported hash type '{other}' (use sha1, sha256 or sha512)"
            )));
        }
    })
}

/// `product(*lists)`: the cartesian product (itertools.product).
fn product(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let mut lists = vec![value.try_iter()?.collect::<Vec<_>>()];
    for a in Args::new(rest).positional() {
        lists.push(a.try_iter()?.collect());
    }
    let total = lists
        .iter()
        .try_fold(1u64, |n, l| n.checked_mul(l.len() as u64))
        .filter(|n| *n <= super::MAX_LIST_ITEMS);
    if total.is_none() {
        let sizes: Vec<String> = lists.iter().map(|l| l.len().to_string()).collect();
        return Err(err(format!(
            "product of lists of {} items would have more than {} items; use smaller lists",
            sizes.join(" x "),
            super::MAX_LIST_ITEMS
        )));
    }
    let mut acc: Vec<Vec<Value>> = vec![Vec::new()];
    for l in &lists {
        let mut next = Vec::with_capacity(acc.len() * l.len());
        for prefix in &acc {
            for item in l {
                let mut p = prefix.clone();
                p.push(item.clone());
                next.push(p);
            }
        }
        acc = next;
    }
    Ok(Value::from(acc.into_iter().map(Value::from).collect::<Vec<_>>()))
}

/// `zip_longest(*lists, fillvalue=None)`.
fn zip_longest(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let fill = args
        .get(usize::MAX, "fillvalue")
        .unwrap_or_else(|| Value::from(()));
    let mut lists = vec![value.try_iter()?.collect::<Vec<_>>()];
    for a in args.positional() {
        lists.push(a.try_iter()?.collect());
    }
    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..n)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or(fill.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// Python type names, as `type_debug` shows them.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if v.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::Iterable => "generator",
        _ => "object",
    }
}

fn type_debug(v: Value) -> &'static str {
    type_name(&v)
}

enum SetOp {
    Difference,
    Intersect,
    Union,
    Symmetric,
}

/// The list set operations of mathstuff.py; order follows the first list, duplicates removed.
fn set_op(a: &Value, b: &Value, op: SetOp) -> Result<Value, Error> {
    let a: Vec<Value> = a.try_iter()?.collect();
    let b: Vec<Value> = b.try_iter()?.collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut add = |v: &Value, out: &mut Vec<Value>| {
        if seen.insert(v.clone()) {
            out.push(v.clone());
        }
    };
    match op {
        SetOp::Difference => a.iter().filter(|x| !b.contains(x)).for_each(|x| add(x, &mut out)),
        SetOp::Intersect => a.iter().filter(|x| b.contains(x)).for_each(|x| add(x, &mut out)),
        SetOp::Union => a.iter().chain(b.iter()).for_each(|x| add(x, &mut out)),
        SetOp::Symmetric => {
            a.iter().filter(|x| !b.contains(x)).for_each(|x| add(x, &mut out));
            b.iter().filter(|x| !a.contains(x)).for_each(|x| add(x, &mut out));
        }
    }
    Ok(Value::from(out))
}

/// `extract(container, morekeys=None)`: `container[item]` (then each of `morekeys`), as in
/// `groups['web'] | map('extract', hostvars, 'ansible_host')`.
fn extract(item: Value, container: Value, morekeys: Option<Value>) -> Result<Value, Error> {
    let mut v = container.get_item(&item)?;
    if let Some(keys) = morekeys {
        let keys: Vec<Value> = if keys.kind() == ValueKind::Seq {
            keys.try_iter()?.collect()
        } else {
            vec![keys]
        };
        for k in keys {
            v = v.get_item(&k)?;
        }
    }
    Ok(v)
}

/// `subelements(subkey, skip_missing=False)`: pairs of (item, element of item[subkey]).
fn subelements(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let key = args.str(0, "subelements").unwrap_or_default();
    let skip = args.flag(1, "skip_missing");
    let mut out = Vec::new();
    for item in value.try_iter()? {
        let mut sub = item.clone();
        for part in key.split('.') {
            sub = sub.get_attr(part)?;
        }
        if sub.is_undefined() {
            if skip {
                continue;
            }
            return Err(err(format!(
                "subelements: could not find '{key}' in {}",
                py_repr(&item)
            )));
        }
        for s in sub.try_iter()? {
            out.push(Value::from(vec![item.clone(), s]));
        }
    }
    Ok(Value::from(out))
}
