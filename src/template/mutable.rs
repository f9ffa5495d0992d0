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
//! made this way (play variables, facts) stay immutable: calling `append` on them is an error
//! ("unknown method"), where Ansible would change its copy for the rest of that template.

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

/// A list or dict value as its mutable object (anything else as it is).
fn mutable(v: Value) -> Result<Value, Error> {
    Ok(match v.kind() {
        ValueKind::Seq => Value::from_object(List(Mutex::new(v.try_iter()?.collect()))),
        ValueKind::Map => {
            let mut items = Vec::new();
            for k in v.try_iter()? {
                let val = v.get_item(&k)?;
                items.push((k, val));
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
    let ident = |n: &str| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !ident(name) || rest[eq + 1..].starts_with('=') {
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
}
