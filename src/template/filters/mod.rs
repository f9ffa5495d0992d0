//! Ansible's Jinja filters (ansible-core `plugins/filter/core.py`, `mathstuff.py`, `urls.py`,
//! `urlsplit.py`; ansible.utils' ipaddr family)
//! on top of minijinja's builtins, plus the Python-style output formatting Ansible users
//! expect (`True`, `['a', 'b']`, `None` printed as nothing).

mod codecs;
mod collections;
mod crypt;
pub(crate) mod datetime;
mod ipaddr;
mod mathstuff;
mod pyrandom;
mod strings;
mod strptime;
pub(crate) mod text;
mod urlsplit;
mod vault;

pub(crate) use mathstuff::human_to_bytes;

use std::collections::HashSet;

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, Output, State};
use sha1::Digest as _;

use super::scope::to_json;
use collections::*;
use text::*;
pub(crate) use text::{
    Anchor, compile_anchored, compile_regex, py_repr, python_formatter, python_json, regex_run_err,
};

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

    /// The names of the keyword arguments given.
    pub fn keyword_names(&self) -> Vec<String> {
        self.kw
            .as_ref()
            .and_then(|kw| kw.try_iter().ok())
            .map(|keys| keys.map(|k| str_of(&k)).collect())
            .unwrap_or_default()
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

fn json_of(v: &Value) -> Result<serde_json::Value, Error> {
    to_json(v)
}

pub(crate) fn from_json_value(v: &serde_json::Value) -> Value {
    Value::from(minijinja::value::Serde(v))
}

pub(crate) fn register(env: &mut Environment<'static>) {
    vault::register(env);
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_filter("bool", to_bool);
    env.add_filter("string", |v: Value| str_of(&v));
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("comment", comment);
    env.add_filter("regex_escape", |s: String| regex::escape(&s));
    env.add_filter("to_json", to_json_filter);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("from_json", |s: String| {
        serde_json::from_str::<serde_json::Value>(&s)
            .map(|v| from_json_value(&v))
            .map_err(|e| err(format!("from_json: the input is not valid JSON: {e}")))
    });
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_nice_yaml);
    env.add_filter("from_yaml", from_yaml);
    env.add_filter("from_yaml_all", from_yaml_all);
    env.add_filter("b64encode", codecs::b64encode);
    env.add_filter("b64decode", codecs::b64decode);
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
    env.add_filter("json_query", json_query);
    env.add_filter("human_readable", mathstuff::human_readable);
    env.add_filter("human_to_bytes", mathstuff::human_to_bytes_filter);
    env.add_filter("combinations", mathstuff::combinations);
    env.add_filter("permutations", mathstuff::permutations);
    env.add_filter("truncate", strings::truncate);
    env.add_filter("center", strings::center);
    env.add_filter("wordcount", strings::wordcount);
    env.add_filter("to_uuid", strings::to_uuid);
    env.add_filter("md5", strings::md5);
    env.add_filter("realpath", strings::realpath);
    env.add_filter("relpath", strings::relpath);
    env.add_filter("password_hash", crypt::password_hash);
    env.add_filter("urlsplit", urlsplit::urlsplit_filter);
    env.add_filter("strftime", datetime::strftime);
    env.add_filter("to_datetime", datetime::to_datetime);
    env.add_function("now", datetime::now);
    env.add_filter("random", pyrandom::random);
    env.add_filter("shuffle", pyrandom::shuffle);
    ipaddr::register(env);
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
