//! Ansible lookups: `lookup(name, *terms, wantlist=False, errors='strict', **options)`,
//! `query`/`q` (always a list), and the lookup a `with_<lookup>` loop runs.
//!
//! Lookups run on the controller, like Ansible's. Each family has its file: `files` (file,
//! template, pipe, lines, fileglob and the search for files), `first_found`, `lists` (items,
//! list, dict, subelements, nested, together, indexed_items, flattened, random_choice),
//! `sequence`, `names` (env, vars, varnames, inventory_hostnames), `ini` and `csvfile`, and
//! `password`. This file dispatches, checks options and shapes results as ansible-core 2.19's
//! `_invoke_lookup` does.

mod csvfile;
mod files;
mod first_found;
mod ini;
mod lists;
mod names;
mod password;
mod sequence;

use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State};

use super::filters::{Args, err, str_of};
use super::scope::{SCOPE_KEY, ScopeObj};

/// The lookups talon has (by short name), for `lookup()`, `query()` and `with_<lookup>` loops.
pub const LOOKUPS: &[&str] = &[
    "env",
    "file",
    "template",
    "pipe",
    "vars",
    "first_found",
    "items",
    "list",
    "dict",
    "subelements",
    "nested",
    "together",
    "sequence",
    "fileglob",
    "lines",
    "varnames",
    "indexed_items",
    "flattened",
    "inventory_hostnames",
    "ini",
    "csvfile",
    "password",
    "random_choice",
    "unvault",
];

/// The variable a `with_<lookup>` loop sets for its lookup: the folder under each search path
/// that `first_found` searches (`vars` for include_vars, `templates` for template, else
/// `files`), as ansible-core's task executor tells the lookup. Unset for `lookup()`/`query()`,
/// which search the search paths themselves (ansible-core 2.19).
pub const WITH_SUBDIR_VAR: &str = "__talon_with_subdir";

/// The function a `with_<lookup>` loop evaluates: `__talon_with_query(NAME, TERMS)` runs the
/// lookup with `TERMS` (a list) as its terms and `wantlist`, as ansible-core's executor does.
pub const WITH_QUERY_FN: &str = "__talon_with_query";

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", |state: &State, rest: Rest<ValueOrKwargs>| {
        from_template(state, rest, false)
    });
    env.add_function("query", |state: &State, rest: Rest<ValueOrKwargs>| {
        from_template(state, rest, true)
    });
    env.add_function("q", |state: &State, rest: Rest<ValueOrKwargs>| {
        from_template(state, rest, true)
    });
    env.add_function(WITH_QUERY_FN, |state: &State, name: String, terms: Value| {
        let terms = match terms.kind() {
            ValueKind::Seq => terms.try_iter()?.collect(),
            _ => vec![terms],
        };
        let call = Call {
            scope: scope_of(state)?,
            name: &name,
            terms,
            opts: Options::default(),
        };
        invoke(&call, true, Errors::Strict)
    });
}

/// One lookup call: its terms (the positional arguments after the name, as given) and its
/// options (the keyword arguments but `wantlist` and `errors`).
pub(super) struct Call<'a> {
    pub scope: Arc<ScopeObj>,
    /// The name as written (`ini`, `ansible.builtin.ini`), for messages.
    pub name: &'a str,
    pub terms: Vec<Value>,
    pub opts: Options,
}

impl Call<'_> {
    /// The terms with list terms spliced in one level (`lookup('file', ['a', 'b'])` reads both),
    /// for lookups whose terms are strings.
    pub fn flat_terms(&self) -> Result<Vec<Value>, Error> {
        let mut out = Vec::new();
        for t in &self.terms {
            if t.kind() == ValueKind::Seq {
                out.extend(t.try_iter()?);
            } else {
                out.push(t.clone());
            }
        }
        Ok(out)
    }

    /// A variable of the task's scope (templated), or `None` when it is not defined.
    pub fn var(&self, name: &str) -> Result<Option<Value>, Error> {
        let v = Value::from_dyn_object(self.scope.clone()).get_attr(name)?;
        Ok((!v.is_undefined()).then_some(v))
    }
}

/// The keyword options of one call, in the order given.
#[derive(Default)]
pub(super) struct Options(IndexMap<String, Value>);

impl Options {
    /// Refuses an option the lookup does not have (ansible-core ignores it; a typo would then
    /// silently change nothing).
    pub fn allow(&self, lookup: &str, known: &[&str]) -> Result<(), Error> {
        if let Some(k) = self.0.keys().find(|k| !known.contains(&k.as_str())) {
            let list = if known.is_empty() {
                "it has none".to_string()
            } else {
                format!("its options: {}", known.join(", "))
            };
            return Err(err(format!("lookup '{lookup}' has no option '{k}' ({list})")));
        }
        Ok(())
    }

    pub fn get(&self, k: &str) -> Option<&Value> {
        self.0.get(k).filter(|v| !v.is_undefined())
    }

    pub fn set(&mut self, k: &str, v: Value) {
        self.0.insert(k.to_string(), v);
    }

    pub fn str(&self, k: &str) -> Option<String> {
        self.get(k).filter(|v| !v.is_none()).map(str_of)
    }

    /// An `integer` option as ansible-core converts it (see [`py_int`]).
    pub fn int(&self, lookup: &str, k: &str) -> Result<Option<i64>, Error> {
        let Some(v) = self.get(k).filter(|v| !v.is_none()) else {
            return Ok(None);
        };
        if v.kind() == ValueKind::Bool {
            return Ok(Some(i64::from(v.is_true())));
        }
        if let Some(i) = v.as_i64() {
            return Ok(Some(i));
        }
        py_int(&str_of(v)).map(Some).ok_or_else(|| {
            err(format!(
                "Config '{k}' for '{lookup}' lookup plugin from 'Direct' has an invalid value: Invalid value provided for 'integer': {}",
                super::filters::py_repr(v)
            ))
        })
    }

    /// A `boolean` option as ansible-core's `boolean(strict=False)`.
    pub fn bool(&self, k: &str) -> Option<bool> {
        self.get(k).map(|v| match v.kind() {
            ValueKind::String => matches!(
                str_of(v).to_lowercase().trim(),
                "y" | "yes" | "on" | "1" | "true" | "t"
            ),
            _ => v.is_true(),
        })
    }
}

/// An integer as ansible-core's `integer` option type reads text: Python's `Decimal` of it
/// (surrounding whitespace, a sign, a fraction and an exponent allowed) when it is a whole
/// number, so `" 12 "`, `"1e2"` and `"3.0"` are integers and `"0x10"` and `"1.5"` are not.
pub(super) fn py_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i32>().ok()?),
        None => (t, 0),
    };
    let (int_part, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = format!("{int_part}{frac}");
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The value is digits * 10^(exp - frac.len()).
    let shift = i64::from(exp) - frac.len() as i64;
    let mut value: i128 = 0;
    let keep = if shift < 0 {
        let drop = usize::try_from(-shift).ok()?;
        if drop > digits.len() {
            if digits.bytes().any(|b| b != b'0') {
                return None;
            }
            0
        } else {
            let (kept, dropped) = digits.split_at(digits.len() - drop);
            if dropped.bytes().any(|b| b != b'0') {
                return None;
            }
            kept.len()
        }
    } else {
        digits.len()
    };
    for b in digits.bytes().take(keep) {
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    for _ in 0..shift.max(0) {
        value = value.checked_mul(10)?;
    }
    let value = if neg { -value } else { value };
    i64::try_from(value).ok()
}

/// What `errors=` asks for when the lookup fails (ansible-core: anything else is `strict`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Errors {
    Strict,
    Warn,
    Ignore,
}

fn scope_of(state: &State) -> Result<Arc<ScopeObj>, Error> {
    state
        .lookup(SCOPE_KEY)
        .and_then(|v| v.downcast_object::<ScopeObj>())
        .ok_or_else(|| err("lookups are only available inside talon's templates"))
}

fn from_template(state: &State, rest: Rest<ValueOrKwargs>, always_list: bool) -> Result<Value, Error> {
    let args = Args::new(rest);
    let mut pos = args.positional().iter();
    let name = pos
        .next()
        .map(str_of)
        .ok_or_else(|| err("lookup: the name of a lookup plugin is required, e.g. lookup('env', 'HOME')"))?;
    let mut opts = Options::default();
    let mut wantlist = always_list;
    let mut errors = Errors::Strict;
    for k in args.keyword_names() {
        let v = args.get(usize::MAX, &k).unwrap_or_default();
        match k.as_str() {
            "wantlist" => wantlist |= v.is_true(),
            "errors" => {
                errors = match str_of(&v).as_str() {
                    "warn" => Errors::Warn,
                    "ignore" => Errors::Ignore,
                    _ => Errors::Strict,
                }
            }
            _ => opts.set(&k, v),
        }
    }
    let call = Call {
        scope: scope_of(state)?,
        name: &name,
        terms: pos.cloned().collect(),
        opts,
    };
    invoke(&call, wantlist, errors)
}

/// Runs a lookup and shapes its result as ansible-core's `_invoke_lookup`: with `wantlist` the
/// list as is; else an empty list stays `[]`, one item is that item, several strings are joined
/// with `,`, anything else stays a list. A failure is "The lookup plugin 'NAME' failed: ..."
/// (undefined variables keep their own error), or with `errors=warn`/`ignore` `None` (`[]` with
/// `wantlist`).
fn invoke(call: &Call, wantlist: bool, errors: Errors) -> Result<Value, Error> {
    let results = match dispatch(call) {
        Ok(r) => r,
        Err(e) if e.kind() == ErrorKind::UndefinedError => return Err(e),
        Err(e) => {
            let detail = e.detail().map_or_else(|| e.to_string(), str::to_string);
            let message = if detail.starts_with("The lookup plugin '") {
                detail
            } else {
                format!("The lookup plugin '{}' failed: {detail}", call.name)
            };
            if errors == Errors::Strict {
                return Err(Error::new(ErrorKind::InvalidOperation, message));
            }
            if errors == Errors::Warn {
                tracing::warn!("{message}");
            }
            return Ok(if wantlist {
                Value::from(Vec::<Value>::new())
            } else {
                Value::from(())
            });
        }
    };
    if wantlist || results.is_empty() {
        return Ok(Value::from(results));
    }
    if results.len() == 1 {
        return Ok(results.into_iter().next().unwrap_or_default());
    }
    if results.iter().all(|v| v.kind() == ValueKind::String) {
        let joined: Vec<String> = results.iter().map(str_of).collect();
        return Ok(Value::from(joined.join(",")));
    }
    Ok(Value::from(results))
}

/// The lookup's own result list.
fn dispatch(call: &Call) -> Result<Vec<Value>, Error> {
    let short = call
        .name
        .strip_prefix("ansible.builtin.")
        .or_else(|| call.name.strip_prefix("ansible.legacy."))
        .or_else(|| call.name.strip_prefix("community.general."))
        .unwrap_or(call.name);
    let plain = |known: &[&str]| call.opts.allow(short, known);
    match short {
        "env" => names::env(call),
        "vars" => names::vars(call),
        "varnames" => names::varnames(call),
        "inventory_hostnames" => plain(&[]).and_then(|()| names::inventory_hostnames(call)),
        "file" => files::file(call),
        "unvault" => plain(&[]).and_then(|()| files::unvault(call)),
        "template" => files::template(call),
        "pipe" => plain(&[]).and_then(|()| files::pipe(call)),
        "lines" => plain(&[]).and_then(|()| files::lines(call)),
        "fileglob" => plain(&[]).and_then(|()| files::fileglob(call)),
        "first_found" => first_found::first_found(call),
        "sequence" => sequence::run(call),
        "ini" => ini::run(call),
        "csvfile" => csvfile::run(call),
        "password" => password::run(call),
        _ if call.name.starts_with("community.general.") && short != "flattened" => Err(unknown(call.name)),
        "items" | "list" | "dict" | "subelements" | "nested" | "together" | "indexed_items" | "flattened"
        | "random_choice" => plain(&[]).and_then(|()| lists::run(short, &call.terms)),
        _ => Err(unknown(call.name)),
    }
}

fn unknown(name: &str) -> Error {
    err(format!(
        "lookup plugin '{name}' is not supported by talon (supported: {})",
        LOOKUPS.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::py_int;

    #[test]
    fn integers_read_as_ansible_core_reads_integer_options() {
        for (text, want) in [
            ("12", Some(12)),
            (" 12 ", Some(12)),
            ("-3", Some(-3)),
            ("+4", Some(4)),
            ("1e2", Some(100)),
            ("3.0", Some(3)),
            ("0664", Some(664)),
            ("1.5", None),
            ("0x10", None),
            ("ff", None),
            ("", None),
            (".", None),
            ("10e-1", Some(1)),
        ] {
            assert_eq!(py_int(text), want, "{text}");
        }
    }
}
