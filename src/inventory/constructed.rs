//! The `ansible.builtin.constructed` inventory plugin: a YAML source with
//! `plugin: constructed` (or `ansible.builtin.constructed`) that, over the hosts the sources
//! before it gave, sets variables from Jinja expressions (`compose`), adds hosts to groups whose
//! condition holds (`groups`) and to groups named after a variable's value (`keyed_groups`).
//!
//! Matches ansible-core's `constructed.py` and `Constructable`: expressions see each host's
//! inventory variables (its groups' variables by depth and priority, then its own) and its magic
//! variables `inventory_hostname`, `inventory_hostname_short`, `group_names`; `group_vars/`
//! files are not seen (ansible-core's `use_vars_plugins: false`, the default, which is the only
//! value talon takes). Group names are made safe as ansible-core's constructed features force:
//! every character that is not a word character, and a leading digit, becomes `_`. With
//! `strict: false` (the default) an expression that fails skips that entry for that host, as in
//! ansible-core; with `strict: true` it is an error.

use std::sync::Arc;

use serde_json::Value;

use super::{Builder, InventoryError};
use crate::template::{Scope, Templater, truthy};
use crate::vars::{Vars, overlay};
use crate::yaml::{Mark, Node};

/// The plugin names that select this plugin in a YAML source's `plugin:` key.
pub(super) const NAMES: &[&str] = &[
    "constructed",
    "ansible.builtin.constructed",
    "ansible.legacy.constructed",
];

/// The options ansible-core's constructed plugin documents; any other key is an error.
const OPTIONS: &[&str] = &[
    "plugin",
    "strict",
    "compose",
    "groups",
    "keyed_groups",
    "use_extra_vars",
    "use_vars_plugins",
    "leading_separator",
    "cache",
    "cache_plugin",
    "cache_timeout",
    "cache_connection",
    "cache_prefix",
];

/// Applies the constructed configuration `root` (already known to name this plugin) to every
/// host in `b`.
///
/// Errors: an unknown option, an option of the wrong type, `use_vars_plugins`/`use_extra_vars`
/// true (not supported), a keyed group that is not a mapping or that sets both `default_value`
/// and `trailing_separator`, and with `strict: true` any expression that fails.
pub(super) fn apply(root: &Node, path: &std::path::Path, b: &mut Builder) -> Result<(), InventoryError> {
    let fail = |at: &Mark, what: String, fix: &str| InventoryError::parse(at.clone(), what, fix);
    let entries = root.as_map().unwrap_or(&[]);
    for (k, v) in entries {
        if !OPTIONS.contains(&k.name.as_str()) {
            return Err(fail(
                &k.mark,
                format!("the constructed inventory plugin has no option '{}'", k.name),
                "use strict, compose, groups, keyed_groups or leading_separator",
            ));
        }
        if matches!(k.name.as_str(), "use_vars_plugins" | "use_extra_vars")
            && v.to_json() == Value::Bool(true)
        {
            return Err(fail(
                &k.mark,
                format!("talon's constructed plugin does not support {}: true", k.name),
                "set the variables the expressions need in the inventory sources themselves",
            ));
        }
    }
    let opt = |name: &str| root.get(name).map(Node::to_json);
    let bool_opt = |name: &str, default: bool| -> Result<bool, InventoryError> {
        match opt(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(other) => Err(fail(
                &root
                    .get(name)
                    .map_or_else(|| root.mark.clone(), |n| n.mark.clone()),
                format!("option {name} must be a boolean, got {other}"),
                "write true or false",
            )),
        }
    };
    let strict = bool_opt("strict", false)?;
    let leading_separator = bool_opt("leading_separator", true)?;
    let compose = mapping_opt(root, "compose")?;
    let groups = mapping_opt(root, "groups")?;
    let keyed: Vec<(Mark, serde_json::Map<String, Value>)> = match root.get("keyed_groups") {
        None => Vec::new(),
        Some(n) if n.is_null() => Vec::new(),
        Some(n) => {
            let Some(items) = n.as_seq() else {
                return Err(fail(
                    &n.mark,
                    "keyed_groups must be a list".into(),
                    "give a list of {key, prefix, separator} entries",
                ));
            };
            let mut out = Vec::new();
            for item in items {
                let Value::Object(m) = item.to_json() else {
                    return Err(fail(
                        &item.mark,
                        format!(
                            "Invalid keyed group entry, it must be a dictionary: {}",
                            item.to_json()
                        ),
                        "give each keyed group as a mapping with at least `key:`",
                    ));
                };
                if m.get("trailing_separator").is_some_and(|v| !v.is_null())
                    && m.get("default_value").is_some_and(|v| !v.is_null())
                {
                    return Err(fail(
                        &item.mark,
                        "parameters are mutually exclusive for keyed groups: default_value|trailing_separator".into(),
                        "keep one of default_value and trailing_separator",
                    ));
                }
                out.push((item.mark.clone(), m));
            }
            out
        }
    };
    b.reconcile()?;
    let templater = Templater::new();
    let names: Vec<String> = b.hosts.keys().cloned().collect();
    let err_at = Mark::file(path);
    for host in names {
        // compose: each variable from an expression over the host's variables.
        let vars = host_vars(b, &host);
        for (name, expr) in &compose {
            let scope = Scope::new(Arc::new(vars.clone()));
            match expression(&templater, expr, &scope) {
                Ok(v) => {
                    if let Some(h) = b.hosts.get_mut(&host) {
                        h.vars.insert(name.clone(), v);
                    }
                }
                Err(e) if strict => {
                    return Err(fail(
                        &err_at,
                        format!("Could not set {name} for host {host}: {e}"),
                        "fix the compose expression, or set strict: false",
                    ));
                }
                Err(_) => {}
            }
        }
        let vars = host_vars(b, &host);
        let scope = Scope::new(Arc::new(vars));
        for (name, cond) in &groups {
            let group = safe_group_name(name);
            let result = match cond {
                Value::Bool(v) => Ok(*v),
                Value::String(s) => templater.eval_condition(s, &scope).map_err(|e| e.to_string()),
                other => Ok(truthy(other)),
            };
            match result {
                Ok(true) => {
                    b.add_group(&group);
                    b.add_host(&host, Some(&group), None);
                }
                Ok(false) => {}
                Err(e) if strict => {
                    return Err(fail(
                        &err_at,
                        format!("Could not add host {host} to group {group}: {e}"),
                        "fix the groups condition, or set strict: false",
                    ));
                }
                Err(_) => {}
            }
        }
        for (mark, k) in &keyed {
            let key = match k.get("key") {
                Some(expr) => expression(&templater, expr, &scope),
                None => Err("no key".to_string()),
            };
            let key = match key {
                Ok(v) => v,
                Err(e) if strict => {
                    return Err(fail(
                        mark,
                        format!(
                            "Could not generate group for host {host} from {} entry: {e}",
                            k.get("key").map_or_else(String::new, ToString::to_string)
                        ),
                        "fix the keyed group's key, or set strict: false",
                    ));
                }
                Err(_) => continue,
            };
            let default = k.get("default_value").filter(|v| !v.is_null()).map(py_str);
            let trailing = k.get("trailing_separator").and_then(Value::as_bool);
            let empty = |v: &Value| v.is_null() || v.as_str() == Some("");
            let use_default = empty(&key) && default.is_some();
            if !(truthy(&key) || use_default) {
                let empty_collection = matches!(&key, Value::Array(a) if a.is_empty())
                    || matches!(&key, Value::Object(m) if m.is_empty());
                if strict && !empty_collection {
                    return Err(fail(
                        mark,
                        format!(
                            "No key or key resulted empty for {} in host {host}, invalid entry",
                            k.get("key").map_or_else(String::new, ToString::to_string)
                        ),
                        "make the key give a value for every host, or set strict: false",
                    ));
                }
                continue;
            }
            let prefix = k.get("prefix").map(py_str).unwrap_or_default();
            let mut sep = k.get("separator").map(py_str).unwrap_or_else(|| "_".into());
            let parent = match k.get("parent_group") {
                Some(Value::String(p)) => match templater.render_str(p, &scope) {
                    Ok(v) => Some(py_str(&v)).filter(|s| !s.is_empty()),
                    Err(e) if strict => {
                        return Err(fail(
                            mark,
                            format!("Could not generate parent group {p:?} for group {key}: {e}"),
                            "fix parent_group, or set strict: false",
                        ));
                    }
                    Err(_) => continue,
                },
                Some(Value::Null) | None => None,
                Some(other) => Some(py_str(other)),
            };
            let mut raw: Vec<String> = Vec::new();
            if use_default {
                raw.extend(default.clone());
            } else {
                match &key {
                    Value::String(s) => raw.push(s.clone()),
                    Value::Array(items) => {
                        for i in items {
                            match (&default, empty(i)) {
                                (Some(d), true) => raw.push(d.clone()),
                                _ => raw.push(py_str(i)),
                            }
                        }
                    }
                    Value::Object(m) => {
                        for (name, val) in m {
                            let mut bare = format!("{name}{sep}{}", py_str(val));
                            if empty(val) {
                                if let Some(d) = &default {
                                    bare = format!("{name}{sep}{d}");
                                } else if trailing == Some(false) {
                                    bare = name.clone();
                                }
                            }
                            raw.push(bare);
                        }
                    }
                    other => {
                        return Err(fail(
                            mark,
                            format!(
                                "Invalid group name format, expected a string or a list of them or dictionary, got: {}",
                                kind(other)
                            ),
                            "make the keyed group's key give a string, a list or a mapping",
                        ));
                    }
                }
            }
            for bare in raw {
                if prefix.is_empty() && !leading_separator {
                    sep = String::new();
                }
                let group = safe_group_name(&format!("{prefix}{sep}{bare}"));
                b.add_group(&group);
                b.add_host(&host, Some(&group), None);
                if let Some(p) = &parent {
                    let p = safe_group_name(p);
                    b.add_group(&p);
                    b.add_child(&p, &group);
                }
            }
        }
    }
    b.reconcile()
}

/// A mapping option (`compose`, `groups`) as name -> value, in file order.
fn mapping_opt(root: &Node, name: &str) -> Result<Vec<(String, Value)>, InventoryError> {
    match root.get(name) {
        None => Ok(Vec::new()),
        Some(n) if n.is_null() => Ok(Vec::new()),
        Some(n) => match n.as_map() {
            Some(m) => Ok(m.iter().map(|(k, v)| (k.name.clone(), v.to_json())).collect()),
            None => Err(InventoryError::parse(
                n.mark.clone(),
                format!("option {name} must be a mapping, found a {}", n.type_name()),
                "give a mapping of names to Jinja expressions",
            )),
        },
    }
}

/// Evaluates one compose/key entry: a string is a bare Jinja expression (ansible-core's
/// `evaluate_expression`); any other YAML value is itself.
fn expression(t: &Templater, expr: &Value, scope: &Scope) -> Result<Value, String> {
    match expr {
        Value::String(s) => t.eval_expr(s, scope).map_err(|e| e.to_string()),
        other => Ok(other.clone()),
    }
}

/// A host's inventory variables as constructed expressions see them: `all`'s, then its groups'
/// by (depth, priority, name), then its own, then the magic variables.
fn host_vars(b: &Builder, host: &str) -> Vars {
    let mut v = Vars::new();
    let Some(h) = b.hosts.get(host) else {
        return v;
    };
    if let Some(all) = b.groups.get("all") {
        overlay(&mut v, &all.vars);
    }
    let mut groups: Vec<(&String, &super::Group)> = h
        .groups
        .iter()
        .filter(|g| g.as_str() != "all")
        .filter_map(|g| b.groups.get_key_value(g.as_str()))
        .collect();
    groups.sort_by(|a, c| (a.1.depth, a.1.priority, a.0).cmp(&(c.1.depth, c.1.priority, c.0)));
    for (_, g) in groups {
        overlay(&mut v, &g.vars);
    }
    overlay(&mut v, &h.vars);
    super::add_magic(&mut v, h);
    v
}

/// ansible-core's `to_safe_group_name(name, force=True)`: every match of `^[\d\W]|[^\w]`
/// becomes `_` (word characters as Python's Unicode `\w`).
pub(super) fn safe_group_name(name: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if !word(c) || (i == 0 && c.is_numeric()) {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Python's `str()` of a JSON value, as group names are formatted with `%s` (and
/// `ansible-inventory --graph --vars` prints values).
pub(super) fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => crate::template::filters::text::py_repr(&crate::template::filters::from_json_value(other)),
    }
}

/// The JSON type name of a value, as Python's type names read in messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "<class 'NoneType'>",
        Value::Bool(_) => "<class 'bool'>",
        Value::Number(n) if n.is_f64() => "<class 'float'>",
        Value::Number(_) => "<class 'int'>",
        _ => "<class 'object'>",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_group_name;

    #[test]
    fn group_names_are_made_safe_as_constructed_forces() {
        assert_eq!(safe_group_name("us-west-1"), "us_west_1");
        assert_eq!(safe_group_name("1web"), "_web");
        assert_eq!(safe_group_name("os_Debian"), "os_Debian");
        assert_eq!(safe_group_name("a.b c"), "a_b_c");
    }
}
