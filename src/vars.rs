//! Variables: the value type every source shares, and Ansible's merge rules.
//!
//! Variables are JSON values (`serde_json::Value` with insertion order kept), which is what
//! Ansible's own variables are at heart: scalars, lists and string-keyed mappings.

use serde_json::{Map, Value};

/// A set of variables: name -> value, in definition order.
pub type Vars = Map<String, Value>;

/// Overlays `top` onto `base`: later sources win, whole values replaced (Ansible's default
/// `hash_behaviour = replace`).
pub fn overlay(base: &mut Vars, top: &Vars) {
    for (k, v) in top {
        base.insert(k.clone(), v.clone());
    }
}

/// Deep-merges `top` into `base` like Ansible's `combine(recursive=True)`: mappings merge key by
/// key, anything else is replaced.
pub fn merge_recursive(base: &mut Value, top: &Value) {
    match (base, top) {
        (Value::Object(b), Value::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(k) {
                    Some(existing) => merge_recursive(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, t) => *b = t.clone(),
    }
}

/// Ansible's truthiness for a value given as a boolean-ish option (`yes`, `true`, `1`, `on`...),
/// matching `ansible.module_utils.parsing.convert_bool.boolean`. Returns `None` for values that
/// are not recognisably boolean.
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => match n.as_f64() {
                Some(1.0) => Some(true),
                Some(0.0) => Some(false),
                _ => None,
            },
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "on" | "1" | "true" | "t" | "y" => Some(true),
            "no" | "off" | "0" | "false" | "f" | "n" | "" => Some(false),
            _ => None,
        },
        Value::Null => Some(false),
        _ => None,
    }
}

/// A value as the string Ansible would put into a module argument (`str()` of scalars).
pub fn as_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// Python's type name for a value (`NoneType`, `bool`, `int`, `float`, `str`, `list`, `dict`),
/// as ansible-core's messages show it.
pub fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recursive_merge_keeps_untouched_keys() {
        let mut a = json!({"x": {"a": 1, "b": 2}, "y": [1]});
        merge_recursive(&mut a, &json!({"x": {"b": 3}, "y": [2]}));
        assert_eq!(a, json!({"x": {"a": 1, "b": 3}, "y": [2]}));
    }

    #[test]
    fn booleans_like_ansible() {
        assert_eq!(as_bool(&json!("yes")), Some(true));
        assert_eq!(as_bool(&json!("Off")), Some(false));
        assert_eq!(as_bool(&json!(1)), Some(true));
        assert_eq!(as_bool(&json!("maybe")), None);
    }
}
