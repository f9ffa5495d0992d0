//! The conditional checks of an argument spec, as ansible-core 2.19's
//! module_utils/common/validation.py has them (`check_mutually_exclusive`,
//! `check_required_together`, `check_required_one_of`, `check_required_if`,
//! `check_required_by`) and the `bytes`/`bits` type checkers, with ansible-core's messages.
//!
//! In a role's argument spec these keys sit on an option of `type: dict` (or a list of dicts)
//! beside its `options`, and apply to that option's sub-options: ansible-core's
//! `_validate_sub_spec` runs them; the entry point's own top level has none (the role passes
//! only its `options` to `ArgumentSpecValidator`).

use serde_json::{Map, Value};

/// `count_terms`: how many of `terms` (one name, or a list of names) are keys of `params`.
fn count_terms(terms: &Value, params: &Map<String, Value>) -> usize {
    let mut names: Vec<String> = match terms {
        Value::Array(items) => items.iter().map(super::validate_argument_spec::py_str).collect(),
        Value::Null => Vec::new(),
        one => vec![super::validate_argument_spec::py_str(one)],
    };
    names.sort();
    names.dedup();
    names.iter().filter(|n| params.contains_key(*n)).count()
}

/// The names of a group as Python iterates it: a list's items, a string's characters.
fn names(group: &Value) -> Vec<String> {
    match group {
        Value::Array(items) => items.iter().map(super::validate_argument_spec::py_str).collect(),
        Value::String(s) => s.chars().map(String::from).collect(),
        Value::Null => Vec::new(),
        other => vec![super::validate_argument_spec::py_str(other)],
    }
}

/// The groups of a check (`[[a, b], [c, d]]`); a value that is no list has none.
fn groups(terms: Option<&Value>) -> &[Value] {
    match terms {
        Some(Value::Array(g)) => g,
        _ => &[],
    }
}

/// `" found in a -> b"`, or nothing at the top level.
fn found_in(context: &[String]) -> String {
    if context.is_empty() {
        String::new()
    } else {
        format!(" found in {}", context.join(" -> "))
    }
}

/// `check_mutually_exclusive` of an option's `mutually_exclusive`: one message naming every
/// group with more than one of its names given ("parameters are mutually exclusive: a|b").
pub fn mutually_exclusive(def: &Value, params: &Map<String, Value>, context: &[String]) -> Option<String> {
    let hits: Vec<String> = groups(def.get("mutually_exclusive"))
        .iter()
        .filter(|g| count_terms(g, params) > 1)
        .map(|g| names(g).join("|"))
        .collect();
    (!hits.is_empty()).then(|| {
        format!(
            "parameters are mutually exclusive: {}{}",
            hits.join(", "),
            found_in(context)
        )
    })
}

/// ansible-core's `_ADDITIONAL_CHECKS` in their order (`required_together`, `required_one_of`,
/// `required_if`, `required_by`); each adds at most one message (its first failing group).
pub fn additional(def: &Value, params: &Map<String, Value>, context: &[String], errors: &mut Vec<String>) {
    let ctx = found_in(context);
    // required_together: some but not all of a group given.
    if let Some(g) = groups(def.get("required_together")).iter().find(|g| {
        let counts: Vec<usize> = names(g)
            .iter()
            .map(|n| usize::from(params.contains_key(n)))
            .collect();
        counts.contains(&1) && counts.contains(&0)
    }) {
        errors.push(format!(
            "parameters are required together: {}{ctx}",
            names(g).join(", ")
        ));
    }
    // required_one_of: none of a group given.
    if let Some(g) = groups(def.get("required_one_of"))
        .iter()
        .find(|g| count_terms(g, params) == 0)
    {
        errors.push(format!(
            "one of the following is required: {}{ctx}",
            names(g).join(", ")
        ));
    }
    if let Some(e) = required_if(def.get("required_if"), params) {
        errors.push(format!("{e}{ctx}"));
    }
    // required_by: a given (not null) key needs the listed names given and not null.
    if let Some(Value::Object(reqs)) = def.get("required_by") {
        let given = |k: &str| params.get(k).is_some_and(|v| !v.is_null());
        for (key, wanted) in reqs {
            if !given(key) {
                continue;
            }
            let wanted = match wanted {
                Value::String(s) => vec![s.clone()],
                other => names(other),
            };
            let missing: Vec<String> = wanted.into_iter().filter(|n| !given(n)).collect();
            if !missing.is_empty() {
                errors.push(format!(
                    "missing parameter(s) required by '{key}': {}{ctx}",
                    missing.join(", ")
                ));
                break;
            }
        }
    }
}

/// `check_required_if`: `[key, value, [names], any?]`; the first requirement whose key has
/// that value (Python `==`) and misses all (or, with `any`, every one) of its names.
fn required_if(reqs: Option<&Value>, params: &Map<String, Value>) -> Option<String> {
    use super::validate_argument_spec::{py_eq, py_str};
    for req in groups(reqs) {
        let Some(parts) = req.as_array() else { continue };
        let (key, val, wanted, any) = match parts.as_slice() {
            [k, v, w] => (k, v, w, false),
            [k, v, w, a] => (k, v, w, crate::vars::as_bool(a).unwrap_or(false)),
            _ => continue,
        };
        let key = py_str(key);
        let wanted = names(wanted);
        let mut missing = Vec::new();
        if params.get(&key).is_some_and(|p| py_eq(p, val)) {
            missing = wanted
                .iter()
                .filter(|n| !params.contains_key(*n))
                .cloned()
                .collect();
        }
        let max_missing = if any { wanted.len() } else { 0 };
        if !missing.is_empty() && missing.len() >= max_missing {
            return Some(format!(
                "{key} is {} but {} of the following are missing: {}",
                py_str(val),
                if any { "any" } else { "all" },
                missing.join(", ")
            ));
        }
    }
    None
}

/// `check_type_bytes`/`check_type_bits`: a human size (`"10M"`, `"1Mb"`) as an integer.
pub fn bytes_or_bits(v: &Value, isbits: bool) -> Result<Value, String> {
    let text = super::validate_argument_spec::py_str(v);
    crate::template::filters::human_to_bytes(&text, None, isbits)
        .map(Value::from)
        .map_err(|_| {
            // ansible-core 2.19 names `type(value)`: a string read from a playbook carries
            // its origin, so Python names it by the tagged class.
            let class = match v {
                Value::String(_) => "ansible.module_utils._internal._datatag._AnsibleTaggedStr",
                other => crate::vars::python_type(other),
            };
            format!(
                "<class '{class}'> cannot be converted to a {} value",
                if isbits { "Bit" } else { "Byte" }
            )
        })
}
