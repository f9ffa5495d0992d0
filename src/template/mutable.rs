//! Python's in-place list and dict methods in templates, as Jinja2 under Ansible allows them:
//! `{% set names = [] %}{% for u in users %}{% set _ = names.append(u.name) %}{% endfor %}`
//! (the usual way to collect across a loop, whose own `set` does not outlive an iteration) and
//! `{% set d = {} %}{% set _ = d.update({'k': 1}) %}`.
//!
//! minijinja's values are immutable, so a list or dict literal assigned with `{% set NAME =
//! [...] %}` / `{...}` is rewritten before it compiles into a call of [`MUTABLE_FN`], which
//! makes it a [`List`] or [`Dict`] object: they read, iterate, compare and print as the list or
//! dict they hold, and their `append`, `extend`, `insert`, `pop`, `remove`, `clear`, `update`,
//! `setdefault` change them in place (returning what Python returns; `None` prints as
//! nothing). Other methods (`items()`, `get()`, `index()`, ...) are the usual ones. Values not
//! called with an in-place method on a variable the template did not make (a play variable, a
//! fact, a loop item) makes the template start with a changeable copy of that variable
//! ([`copies_prefix`]): Ansible too changes only the template's copy.

use std::sync::{Arc, Mutex, PoisonError};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

/// The global function the rewritten literals call: `__talon_mutable([1, 2])`.
pub const MUTABLE_FN: &str = "__talon_mutable";

/// Registers [`MUTABLE_FN`].
pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_function(MUTABLE_FN, mutable);
}

/// The environment's unknown-method callback: minijinja-contrib's Python methods (`items()`,
/// `get()`, `split()`, ...); an in-place method on a value that is not one of ours (a variable,
/// a fact) fails saying how to get a changeable copy.
pub fn unknown_method(
    state: &mut State<'_, '_>,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args).map_err(|e| {
        let in_place = ["append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault"];
        if e.kind() == ErrorKind::UnknownMethod
            && in_place.contains(&method)
            && matches!(value.kind(), ValueKind::Seq | ValueKind::Map)
        {
            Error::new(
                ErrorKind::UnknownMethod,
                format!(
                    "talon changes in place (`{method}`) only a list or dict made with `{{% set NAME = [...] %}}` or `{{...}}` in the same template; copy the value into one first (`{{% set d = {{}} %}}{{% set _ = d.update(var) %}}`, `{{% set l = [] %}}{{% set _ = l.extend(var) %}}`)"
                ),
            )
        } else {
            e
        }
    })
}

/// A list or dict value as its mutable object, the lists and dicts inside it too (a loop item
/// changed in place changes the list it came from, as in Python); anything else as it is.
fn mutable(v: Value) -> Result<Value, Error> {
    Ok(match v.kind() {
        ValueKind::Seq => {
            let mut items = Vec::new();
            for item in v.try_iter()? {
                items.push(mutable(item)?);
            }
            Value::from_object(List(Mutex::new(items)))
        }
        ValueKind::Map => {
            let mut items = Vec::new();
            for k in v.try_iter()? {
                let val = v.get_item(&k)?;
                items.push((k, mutable(val)?));
            }
            Value::from_object(Dict(Mutex::new(items)))
        }
        _ => v,
    })
}

/// `{% set NAME = LITERAL %}` code whose right side is one list or dict literal, with the
/// literal wrapped in [`MUTABLE_FN`]; `None` for any other code.
pub fn set_literal(code: &str) -> Option<String> {
    let lead = code.len() - code.trim_start_matches(['-', '+', ' ', '\t', '\n', '\r']).len();
    let rest = code[lead..].strip_prefix("set")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let eq = rest.find('=')?;
    let name = rest[..eq].trim();
    if !is_ident(name) || rest[eq + 1..].starts_with('=') {
        return None;
    }
    let after = &rest[eq + 1..];
    let lit_start = after.len() - after.trim_start().len();
    let literal = &after[lit_start..];
    let end = literal_end(literal)?;
    let tail = &literal[end..];
    if !tail
        .trim_end_matches(['-', '+', ' ', '\t', '\n', '\r'])
        .is_empty()
    {
        return None;
    }
    let head_len = lead + 3 + eq + 1 + lit_start;
    Some(format!(
        "{}{MUTABLE_FN}({}){tail}",
        &code[..head_len],
        &literal[..end]
    ))
}

/// The in-place methods a template may call.
const IN_PLACE: [&str; 8] = [
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "clear",
    "update",
    "setdefault",
];

/// The bare variables `code` calls an in-place method on (`names.append(`, not `a.b.append(`),
/// added to `called`; the names it assigns with `set` (`{% set NAME = ... %}`), added to `set`.
pub fn scan_code(
    code: &str,
    called: &mut Vec<String>,
    set: &mut Vec<String>,
    loops: &mut Vec<(String, String)>,
) {
    let trimmed = code.trim_start_matches(['-', '+', ' ', '\t', '\n', '\r']);
    // `for ITEM in LIST`: an in-place call on ITEM changes LIST's element.
    if let Some(rest) = trimmed.strip_prefix("for")
        && rest.starts_with(char::is_whitespace)
        && let Some((item, list)) = rest.split_once(" in ")
    {
        let (item, list) = (
            item.trim(),
            list.trim_end_matches(['-', '+', ' ', '\t', '\n', '\r']).trim(),
        );
        if is_ident(item) && is_ident(list) {
            loops.push((item.to_string(), list.to_string()));
        }
    }
    if let Some(rest) = trimmed.strip_prefix("set")
        && rest.starts_with(char::is_whitespace)
    {
        let name = rest.split(['=', '|']).next().unwrap_or("").trim();
        if !name.is_empty() && !set.iter().any(|n| n == name) {
            set.push(name.to_string());
        }
    }
    for (start, dot) in bare_calls(code) {
        let name = &code[start..dot];
        if !called.iter().any(|n| n == name) {
            called.push(name.to_string());
        }
    }
}

/// Where `code` calls an in-place method on a bare variable (`names.append(`; not `a.b.append(`,
/// `'x'.pop(` or `f().pop(`): the byte spans (variable start, the `.`).
fn bare_calls(code: &str) -> Vec<(usize, usize)> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    for (dot, _) in code.match_indices('.') {
        let after = &code[dot + 1..];
        let is_call = IN_PLACE
            .iter()
            .any(|m| after.starts_with(*m) && after[m.len()..].trim_start().starts_with('('));
        if !is_call {
            continue;
        }
        let start = code[..dot]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |j| j + 1);
        let before = start.checked_sub(1).map(|j| bytes[j]);
        if is_ident(&code[start..dot])
            && before.is_none_or(|b| b != b'.' && b != b'\'' && b != b'"' && b != b']' && b != b')')
        {
            out.push((start, dot));
        }
    }
    out
}

/// A Jinja variable name (`[A-Za-z_][A-Za-z0-9_]*`).
fn is_ident(n: &str) -> bool {
    n.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A bare expression with each in-place call on a bare variable applied to a changeable copy
/// of it (`lst.pop()` -> `__talon_mutable(lst).pop()`: Python's result, the variable
/// unchanged, as ansible-core's template copy); `None` when it makes no such call.
pub fn wrap_in_place_calls(expr: &str) -> Option<String> {
    let calls = bare_calls(expr);
    if calls.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(expr.len() + 32);
    let mut last = 0;
    for (start, dot) in calls {
        out.push_str(&expr[last..start]);
        out.push_str(&format!("{MUTABLE_FN}({})", &expr[start..dot]));
        last = dot;
    }
    out.push_str(&expr[last..]);
    Some(out)
}

/// What goes before a template that calls in-place methods on variables it did not make
/// (ansible-core's Jinja2 changes the template's own copy of the variable): for each such
/// name, `{% if NAME is defined %}{% set NAME = __talon_mutable(NAME) %}{% endif %}` in the
/// template's block delimiters, with `+` so that no trimming option eats the text after it.
pub fn copies_prefix(
    called: &[String],
    set: &[String],
    loops: &[(String, String)],
    block: (&str, &str),
) -> String {
    let (open, close) = block;
    let mut names: Vec<&String> = Vec::new();
    for n in called {
        // A loop item's list is what is copied.
        let n = loops
            .iter()
            .find(|(item, _)| item == n)
            .map_or(n, |(_, list)| list);
        if !set.contains(n) && !names.contains(&n) {
            names.push(n);
        }
    }
    names
        .into_iter()
        .map(|n| {
            format!(
                "{open} if {n} is defined {close}{open} set {n} = {MUTABLE_FN}({n}) {close}{open} endif +{close}"
            )
        })
        .collect()
}

/// The length of the bracketed literal at the start of `s` (`[...]` or `{...}`, strings and
/// nesting skipped), or `None` when `s` does not start with one or it does not close.
fn literal_end(s: &str) -> Option<usize> {
    let first = s.chars().next()?;
    if first != '[' && first != '{' {
        return None;
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn arity(method: &str, args: &[Value], min: usize, max: usize) -> Result<(), Error> {
    if args.len() < min || args.len() > max {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{method}() takes {min} to {max} arguments ({} given)", args.len()),
        ));
    }
    Ok(())
}

/// A list that `append` and the other in-place methods change.
#[derive(Debug)]
pub struct List(Mutex<Vec<Value>>);

impl Object for List {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = lock(&self.0);
        let i = key.as_i64()?;
        let i = if i < 0 { items.len() as i64 + i } else { i };
        items.get(usize::try_from(i).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(lock(&self.0).clone())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.0).len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        // Read an iterable argument before taking the lock: it may be this very list.
        let more: Option<Vec<Value>> = match (method, args) {
            ("extend", [it]) => Some(it.try_iter()?.collect()),
            _ => None,
        };
        let mut items = lock(&self.0);
        match method {
            "append" => {
                arity(method, args, 1, 1)?;
                items.extend(args.iter().cloned());
                Ok(Value::from(()))
            }
            "extend" => {
                arity(method, args, 1, 1)?;
                items.extend(more.unwrap_or_default());
                Ok(Value::from(()))
            }
            "insert" => {
                arity(method, args, 2, 2)?;
                let len = items.len() as i64;
                let i = args[0].as_i64().unwrap_or(len);
                let i = if i < 0 { (len + i).max(0) } else { i.min(len) };
                items.insert(i as usize, args[1].clone());
                Ok(Value::from(()))
            }
            "pop" => {
                arity(method, args, 0, 1)?;
                let len = items.len() as i64;
                let i = args.first().and_then(Value::as_i64).unwrap_or(-1);
                let i = if i < 0 { len + i } else { i };
                if i < 0 || i >= len {
                    return Err(Error::new(ErrorKind::InvalidOperation, "pop index out of range"));
                }
                Ok(items.remove(i as usize))
            }
            "remove" => {
                arity(method, args, 1, 1)?;
                match items.iter().position(|v| v == &args[0]) {
                    Some(i) => {
                        items.remove(i);
                        Ok(Value::from(()))
                    }
                    None => Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "list.remove(x): x not in list",
                    )),
                }
            }
            "clear" => {
                items.clear();
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A dict that `update` and the other in-place methods change (keys in insertion order).
#[derive(Debug)]
pub struct Dict(Mutex<Vec<(Value, Value)>>);

impl Dict {
    fn set(items: &mut Vec<(Value, Value)>, k: Value, v: Value) {
        match items.iter_mut().find(|(x, _)| x == &k) {
            Some(slot) => slot.1 = v,
            None => items.push((k, v)),
        }
    }
}

impl Object for Dict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        lock(&self.0)
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(lock(&self.0).iter().map(|(k, _)| k.clone()).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.0).len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "update" => {
                // Read the arguments first: one of them may be this very dict.
                let mut pairs = Vec::new();
                for a in args {
                    for k in a.try_iter()? {
                        let v = a.get_item(&k)?;
                        pairs.push((k, v));
                    }
                }
                let mut items = lock(&self.0);
                for (k, v) in pairs {
                    Dict::set(&mut items, k, v);
                }
                Ok(Value::from(()))
            }
            "setdefault" => {
                arity(method, args, 1, 2)?;
                let mut items = lock(&self.0);
                if let Some((_, v)) = items.iter().find(|(k, _)| k == &args[0]) {
                    return Ok(v.clone());
                }
                let v = args.get(1).cloned().unwrap_or(Value::from(()));
                items.push((args[0].clone(), v.clone()));
                Ok(v)
            }
            "pop" => {
                arity(method, args, 1, 2)?;
                let mut items = lock(&self.0);
                match items.iter().position(|(k, _)| k == &args[0]) {
                    Some(i) => Ok(items.remove(i).1),
                    None => args.get(1).cloned().ok_or_else(|| {
                        Error::new(ErrorKind::InvalidOperation, format!("KeyError: {}", args[0]))
                    }),
                }
            }
            "clear" => {
                lock(&self.0).clear();
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_literals_are_wrapped() {
        assert_eq!(
            set_literal(" set x = [1, ']'] ").as_deref(),
            Some(" set x = __talon_mutable([1, ']']) ")
        );
        assert_eq!(
            set_literal("- set d = {'a': [1]} -").as_deref(),
            Some("- set d = __talon_mutable({'a': [1]}) -")
        );
        assert_eq!(set_literal(" set x = [1] + y "), None);
        assert_eq!(set_literal(" set x = y "), None);
        assert_eq!(set_literal(" if x == [1] "), None);
        assert_eq!(set_literal(" set a, b = [1, 2] "), None);
    }

    #[test]
    fn in_place_calls_on_variables_get_a_copy() {
        let (mut called, mut set, mut loops) = (Vec::new(), Vec::new(), Vec::new());
        for code in [
            " set _ = base.update({'y': 2}) ",
            " for u in users ",
            " set _ = u.update(x) ",
            " a.b.append(1) ",
            " 'x'.pop() ",
            " set l = [] ",
            " l.append(1) ",
        ] {
            scan_code(code, &mut called, &mut set, &mut loops);
        }
        assert_eq!(called, ["base", "u", "l"]);
        assert_eq!(
            copies_prefix(&called, &set, &loops, ("{%", "%}")),
            "{% if base is defined %}{% set base = __talon_mutable(base) %}{% endif +%}{% if users is defined %}{% set users = __talon_mutable(users) %}{% endif +%}"
        );
        assert_eq!(
            wrap_in_place_calls("lst.pop() + [x.a.pop()]").as_deref(),
            Some("__talon_mutable(lst).pop() + [x.a.pop()]")
        );
        assert_eq!(wrap_in_place_calls("lst | length"), None);
    }
}
