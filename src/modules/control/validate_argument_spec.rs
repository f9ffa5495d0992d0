//! `validate_argument_spec`: checks values against an argument spec, as ansible-core 2.19's
//! action of that name does with `ArgumentSpecValidator` (module_utils/common/arg_spec.py and
//! parameters.py): the values named in the spec are taken from the task's variables (templated)
//! and `provided_arguments` wins over them. A role with `meta/argument_specs.yml` gets this task
//! first ("Validating arguments against arg spec 'main' - ..."), see `Loader::role_tasks`.
//!
//! The checks run in ansible-core's order, and their messages are ansible-core's: aliases,
//! unsupported parameters (reported last), `default` for values not given, `required`, `type`
//! (with ansible-core's conversions: a comma string becomes a list, `"42"` an int, `yes` a bool,
//! `k=v` text a dict), `elements`, `choices`, then the `options` of dicts and lists of dicts with
//! the same checks and "found in 'a -> b'" in their messages, including the sub-options'
//! `mutually_exclusive` and `required_*` checks (see [`super::argspec_checks`]).

use serde_json::{Map, Value, json};

use super::argspec_checks;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::vars::Vars;

crate::module_info!(
    /// `validate_argument_spec`: `argument_spec` (the options), `provided_arguments`, and the
    /// `validate_args_context` echoed in the result.
    INFO,
    "validate_argument_spec",
    ArgSpec::new(&[
        ArgDef::raw("argument_spec"),
        ArgDef::raw("provided_arguments"),
        ArgDef::raw("validate_args_context"),
    ]),
    run
);

/// Runs the validation. Never changes anything; fails with "Validation of arguments failed:"
/// and one line per error (also in `argument_errors`, with the spec in `argument_spec_data`).
///
/// Errors: [`ModuleError::BadArgs`] when `argument_spec` is missing or not a mapping,
/// or `provided_arguments` not a mapping.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let bad = |message: String| ModuleError::BadArgs {
        module: "validate_argument_spec",
        message,
    };
    let context = args
        .get("validate_args_context")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let Some(spec) = args.get("argument_spec") else {
        return Err(bad(format!(
            "\"argument_spec\" arg is required in args: {}",
            py_repr(&Value::Object(args.clone()))
        )));
    };
    let Value::Object(spec) = spec else {
        return Err(bad(format!(
            "Incorrect type for argument_spec, expected dict and got <class '{}'>",
            type_name(spec)
        )));
    };
    let provided = match args.get("provided_arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return Err(bad(format!(
                "Incorrect type for provided_arguments, expected dict and got <class '{}'>",
                type_name(other)
            )));
        }
    };
    // The spec's names taken from the task's variables, templated (get_args_from_task_vars).
    let mut params = Map::new();
    for name in spec.keys() {
        if let Some(raw) = ctx.scope.vars.get(name) {
            let v = ctx
                .templater
                .render_value(raw, ctx.scope)
                .map_err(|e| bad(format!("argument '{name}': {e}")))?;
            params.insert(name.clone(), v);
        }
    }
    params.extend(provided);
    let errors = validate(spec, &mut params);
    let mut o = if errors.is_empty() {
        let mut o = ModuleOutcome::ok();
        o.msg = Some("The arg spec validation passed".into());
        o
    } else {
        let mut o = ModuleOutcome::failed(format!("Validation of arguments failed:\n{}", errors.join("\n")));
        o.result
            .insert("argument_spec_data".into(), Value::Object(spec.clone()));
        o.result.insert("argument_errors".into(), json!(errors));
        o
    };
    o.result.insert("validate_args_context".into(), context);
    Ok(o)
}

/// An unsupported parameter: its context path (`a.b`), the supported names there and aliases.
type Unsupported = (String, Vec<String>, Vec<String>);

/// Validates `params` against `spec` as ansible-core's `ArgumentSpecValidator.validate`:
/// converts values in place (types, defaults) and returns the error messages in ansible-core's
/// order and words (empty: valid).
pub fn validate(spec: &Map<String, Value>, params: &mut Map<String, Value>) -> Vec<String> {
    let mut errors = Vec::new();
    let mut unsupported = Vec::new();
    check_level(spec, None, params, &mut Vec::new(), &mut errors, &mut unsupported);
    if !unsupported.is_empty() {
        let mut names: Vec<&String> = unsupported.iter().map(|(n, _, _)| n).collect();
        names.sort();
        let last = unsupported.last().map(|(_, s, a)| (s.clone(), a.clone()));
        let (mut supported, mut aliases) = last.unwrap_or_default();
        supported.sort();
        aliases.sort();
        let mut s = supported.join(", ");
        if !aliases.is_empty() {
            s.push_str(&format!(" ({})", aliases.join(", ")));
        }
        errors.push(format!(
            "{}. Supported parameters include: {s}.",
            names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    errors
}

fn opt<'a>(def: &'a Value, key: &str) -> Option<&'a Value> {
    def.get(key).filter(|v| !v.is_null())
}

/// One level of the spec (the top, or one element of a sub spec's options; `parent` is then
/// the option whose `options` these are, holding the level's conditional checks).
fn check_level(
    spec: &Map<String, Value>,
    parent: Option<&Value>,
    params: &mut Map<String, Value>,
    context: &mut Vec<String>,
    errors: &mut Vec<String>,
    unsupported: &mut Vec<Unsupported>,
) {
    // Aliases: the alias's value under the option's name.
    let mut all_aliases = Vec::new();
    for (name, def) in spec {
        if opt(def, "default").is_some() && opt(def, "required").is_some_and(is_true) {
            errors.push(format!(
                "internal error: required and default are mutually exclusive for {name}"
            ));
        }
        for alias in opt(def, "aliases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            all_aliases.push(alias.to_string());
            if let Some(v) = params.get(alias).cloned() {
                params.insert(name.clone(), v);
            }
        }
    }
    for k in params.keys() {
        if !spec.contains_key(k) && !all_aliases.contains(k) {
            let mut path = context.clone();
            path.push(k.clone());
            let supported = spec
                .keys()
                .filter(|n| !all_aliases.contains(n))
                .cloned()
                .collect();
            unsupported.push((path.join("."), supported, all_aliases.clone()));
        }
    }
    let found_in = |context: &[String]| {
        if context.is_empty() {
            String::new()
        } else {
            format!(" found in {}", context.join(" -> "))
        }
    };
    if let Some(e) = parent.and_then(|p| argspec_checks::mutually_exclusive(p, params, context)) {
        errors.push(e);
    }
    set_defaults(spec, params, false);
    let mut missing: Vec<&String> = spec
        .iter()
        .filter(|(n, d)| opt(d, "required").is_some_and(is_true) && !params.contains_key(*n))
        .map(|(n, _)| n)
        .collect();
    if !missing.is_empty() {
        missing.sort();
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        errors.push(format!(
            "missing required arguments: {}{}",
            names.join(", "),
            found_in(context)
        ));
    }
    // Types, then elements.
    let quoted = |context: &[String]| {
        if context.is_empty() {
            String::new()
        } else {
            format!(" found in '{}'", context.join(" -> "))
        }
    };
    for (name, def) in spec {
        let Some(value) = params.get(name).cloned() else {
            continue;
        };
        if value.is_null() && !opt(def, "required").is_some_and(is_true) && opt(def, "default").is_none() {
            continue;
        }
        let wanted = opt(def, "type").and_then(Value::as_str).unwrap_or("str");
        match convert(wanted, &value) {
            Ok(v) => {
                let v = match opt(def, "elements").and_then(Value::as_str) {
                    Some(elements) => match &v {
                        Value::Array(items) => {
                            let mut out = Vec::new();
                            for item in items {
                                match convert(elements, item) {
                                    Ok(x) => out.push(x),
                                    Err(e) => errors.push(format!(
                                        "Elements value for option '{name}'{} is of type {} and we were unable to convert to {elements}: {e}",
                                        quoted(context),
                                        type_name(item)
                                    )),
                                }
                            }
                            Value::Array(out)
                        }
                        other => {
                            errors.push(format!(
                                "Invalid type {wanted} for option '{}'{}, elements value check is supported only with 'list' type",
                                py_str(other),
                                if context.is_empty() {
                                    String::new()
                                } else {
                                    format!(" found in '{}'.", context.join(" -> "))
                                }
                            ));
                            v
                        }
                    },
                    None => v,
                };
                params.insert(name.clone(), v);
            }
            Err(e) => errors.push(format!(
                "argument '{name}' is of type {}{} and we were unable to convert to {wanted}: {e}",
                type_name(&value),
                if context.is_empty() {
                    String::new()
                } else {
                    format!(" found in '{}'.", context.join(" -> "))
                }
            )),
        }
    }
    // Choices.
    for (name, def) in spec {
        let Some(choices) = opt(def, "choices") else {
            continue;
        };
        let Some(choices) = choices.as_array() else {
            errors.push(format!(
                "internal error: choices for argument {name} are not iterable: {}{}",
                py_str(choices),
                found_in(context)
            ));
            continue;
        };
        let Some(value) = params.get(name).cloned() else {
            continue;
        };
        let listed = choices.iter().map(py_str).collect::<Vec<_>>().join(", ");
        match &value {
            Value::Array(items) => {
                let diff: Vec<String> = items
                    .iter()
                    .filter(|i| !choices.iter().any(|c| py_eq(c, i)))
                    .map(py_str)
                    .collect();
                if !diff.is_empty() {
                    errors.push(format!(
                        "value of {name} must be one or more of: {listed}. Got no match for: {}{}",
                        diff.join(", "),
                        found_in(context)
                    ));
                }
            }
            v if !choices.iter().any(|c| py_eq(c, v)) => {
                // PyYAML's booleans read back into the one matching choice.
                let mut v = v.clone();
                for (text, set) in [("False", BOOLEANS_FALSE), ("True", BOOLEANS_TRUE)] {
                    if v.as_str() == Some(text) {
                        let overlap: Vec<&Value> = choices
                            .iter()
                            .filter(|c| set.iter().any(|b| py_eq(&b.value(), c)))
                            .collect();
                        if let [one] = overlap.as_slice() {
                            v = (*one).clone();
                        }
                    }
                }
                if choices.iter().any(|c| py_eq(c, &v)) {
                    params.insert(name.clone(), v);
                } else {
                    errors.push(format!(
                        "value of {name} must be one of: {listed}, got: {}{}",
                        py_str(&v),
                        found_in(context)
                    ));
                }
            }
            _ => {}
        }
    }
    if let Some(p) = parent {
        argspec_checks::additional(p, params, context, errors);
    }
    set_defaults(spec, params, true);
    // Sub specs.
    for (name, def) in spec {
        let wanted = opt(def, "type").and_then(Value::as_str).unwrap_or("str");
        let elements = opt(def, "elements").and_then(Value::as_str);
        if !(wanted == "dict" || (wanted == "list" && elements == Some("dict"))) {
            continue;
        }
        let Some(Value::Object(sub)) = opt(def, "options") else {
            continue;
        };
        if opt(def, "apply_defaults").is_some_and(is_true) {
            if params.get(name).is_none_or(Value::is_null) {
                params.insert(name.clone(), json!({}));
            }
        } else if params.get(name).is_none_or(Value::is_null) {
            continue;
        }
        context.push(name.clone());
        if let Some(value) = params.get_mut(name) {
            // A single dict is checked as a list of one (and written back).
            let single = !matches!(value, Value::Array(_));
            let mut items = match &mut *value {
                Value::Array(items) => std::mem::take(items),
                other => vec![other.clone()],
            };
            for item in items.iter_mut() {
                match item {
                    Value::Object(m) => check_level(sub, Some(def), m, context, errors, unsupported),
                    _ => errors.push(format!("value of '{name}' must be of type dict or list of dicts")),
                }
            }
            *value = if single {
                items.pop().unwrap_or(Value::Null)
            } else {
                Value::Array(items)
            };
        }
        context.pop();
    }
}

/// ansible-core's `_set_defaults`: with `all`, every option not given gets its default (or
/// null); without, only those whose default is not null.
fn set_defaults(spec: &Map<String, Value>, params: &mut Map<String, Value>, all: bool) {
    for (name, def) in spec {
        let default = opt(def, "default");
        if !params.contains_key(name) && (default.is_some() || all) {
            params.insert(name.clone(), default.cloned().unwrap_or(Value::Null));
        }
    }
}

/// A Python boolean literal as `BOOLEANS_TRUE`/`BOOLEANS_FALSE` hold them.
#[derive(Clone, Copy)]
enum B {
    S(&'static str),
    I(i64),
    T(bool),
}

impl B {
    fn value(self) -> Value {
        match self {
            B::S(s) => json!(s),
            B::I(i) => json!(i),
            B::T(b) => json!(b),
        }
    }
}

const BOOLEANS_TRUE: &[B] = &[
    B::S("y"),
    B::S("yes"),
    B::S("on"),
    B::S("1"),
    B::S("true"),
    B::S("t"),
    B::I(1),
    B::T(true),
];
const BOOLEANS_FALSE: &[B] = &[
    B::S("n"),
    B::S("no"),
    B::S("off"),
    B::S("0"),
    B::S("false"),
    B::S("f"),
    B::I(0),
    B::T(false),
];

/// ansible-core's type checkers (`check_type_*`); the error is the checker's message.
fn convert(wanted: &str, v: &Value) -> Result<Value, String> {
    match wanted {
        "str" => Ok(match v {
            Value::String(_) => v.clone(),
            Value::Null => json!(""),
            other => json!(py_str(other)),
        }),
        "path" => {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => py_str(other),
            };
            Ok(json!(expand_user(&s)))
        }
        "raw" => Ok(v.clone()),
        "bytes" => argspec_checks::bytes_or_bits(v, false),
        "bits" => argspec_checks::bytes_or_bits(v, true),
        "list" => match v {
            Value::Array(_) => Ok(v.clone()),
            Value::String(s) => Ok(json!(s.split(',').collect::<Vec<_>>())),
            Value::Number(_) => Ok(json!([py_str(v)])),
            other => Err(format!(
                "<class '{}'> cannot be converted to a list",
                type_name(other)
            )),
        },
        "dict" => match v {
            Value::Object(_) => Ok(v.clone()),
            Value::String(s) if s.starts_with('{') => serde_json::from_str::<Value>(s)
                .map_err(|_| "unable to evaluate string as dictionary".to_string()),
            Value::String(s) if s.contains('=') => kv_dict(s),
            Value::String(_) => Err("dictionary requested, could not parse JSON or key=value".into()),
            other => Err(format!(
                "<class '{}'> cannot be converted to a dict",
                type_name(other)
            )),
        },
        "bool" => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(_) | Value::Number(_) => {
                let norm = match v {
                    Value::String(s) => json!(s.trim().to_lowercase()),
                    other => other.clone(),
                };
                if BOOLEANS_TRUE.iter().any(|b| py_eq(&b.value(), &norm)) {
                    Ok(json!(true))
                } else if BOOLEANS_FALSE.iter().any(|b| py_eq(&b.value(), &norm)) {
                    Ok(json!(false))
                } else {
                    let all: Vec<String> = BOOLEANS_TRUE
                        .iter()
                        .chain(BOOLEANS_FALSE)
                        .map(|b| py_repr(&b.value()))
                        .collect();
                    Err(format!(
                        "The value '{}' is not a valid boolean. Valid booleans include: {}",
                        py_str(v),
                        all.join(", ")
                    ))
                }
            }
            other => Err(format!(
                "<class '{}'> cannot be converted to a bool",
                type_name(other)
            )),
        },
        "int" => {
            let fail = || format!("\"{}\" cannot be converted to an int", py_repr(v));
            match v {
                Value::Bool(_) => Ok(v.clone()),
                Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
                Value::Number(n) => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.is_finite() => Ok(json!(f as i64)),
                    _ => Err(fail()),
                },
                Value::String(s) => {
                    let t = s.trim();
                    if let Ok(i) = t.parse::<i64>() {
                        return Ok(json!(i));
                    }
                    match t.parse::<f64>() {
                        Ok(f) if f.is_finite() && f.fract() == 0.0 && !t.contains(['i', 'n']) => {
                            Ok(json!(f as i64))
                        }
                        _ => Err(fail()),
                    }
                }
                _ => Err(fail()),
            }
        }
        "float" => match v {
            Value::Number(n) => Ok(json!(n.as_f64().unwrap_or_default())),
            Value::Bool(b) => Ok(json!(if *b { 1.0 } else { 0.0 })),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| json!(f))
                .ok_or_else(|| "<class 'str'> cannot be converted to a float".to_string()),
            other => Err(format!(
                "<class '{}'> cannot be converted to a float",
                type_name(other)
            )),
        },
        "json" | "jsonarg" => match v {
            Value::String(s) => Ok(json!(s.trim())),
            Value::Array(_) | Value::Object(_) => Ok(json!(py_json(v))),
            other => Err(format!(
                "<class '{}'> cannot be converted to a json string",
                type_name(other)
            )),
        },
        _ => Err("'NoneType' object is not callable".into()),
    }
}

/// `k1=v1, k2=v2` or `k1=v1 k2=v2` as check_type_dict splits it (quotes and backslashes).
fn kv_dict(s: &str) -> Result<Value, String> {
    let mut fields = Vec::new();
    let mut buf = String::new();
    let mut quote: Option<char> = None;
    let mut escape = false;
    for c in s.trim().chars() {
        if escape {
            buf.push(c);
            escape = false;
        } else if c == '\\' {
            escape = true;
        } else if quote.is_none() && (c == '\'' || c == '"') {
            quote = Some(c);
        } else if quote == Some(c) {
            quote = None;
        } else if quote.is_none() && (c == ',' || c == ' ') {
            if !buf.is_empty() {
                fields.push(std::mem::take(&mut buf));
            }
        } else {
            buf.push(c);
        }
    }
    if !buf.is_empty() {
        fields.push(buf);
    }
    let mut out = Map::new();
    for f in fields {
        let (k, v) = f.split_once('=').ok_or_else(|| {
            "unable to evaluate string in the \"key=value\" format as dictionary".to_string()
        })?;
        out.insert(k.to_string(), json!(v));
    }
    Ok(Value::Object(out))
}

fn expand_user(s: &str) -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    if s == "~" {
        home
    } else if let Some(rest) = s.strip_prefix("~/") {
        format!("{home}/{rest}")
    } else {
        s.to_string()
    }
}

fn is_true(v: &Value) -> bool {
    crate::vars::as_bool(v).unwrap_or(false)
}

/// Python's `==` between two JSON values (`1 == 1.0 == True`).
pub(super) fn py_eq(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// ansible-core's `native_type_name`: the Python type's name.
fn type_name(v: &Value) -> &'static str {
    crate::vars::python_type(v)
}

/// Python's `str()` of a value.
pub(super) fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// Python's `repr()` of a value.
fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => (if *b { "True" } else { "False" }).into(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
            _ => n.to_string(),
        },
        Value::String(s) => crate::modules::sysutil::py_repr(s),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", crate::modules::sysutil::py_repr(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `json.dumps` (", " and ": " separators).
fn py_json(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.iter().map(py_json).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), py_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(y: Value) -> Map<String, Value> {
        y.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn messages_are_ansible_cores() {
        let s = spec(json!({
            "name": {"type": "str", "required": true},
            "port": {"type": "int"},
            "mode": {"choices": ["a", "b"]},
            "tags": {"type": "list", "elements": "int"},
            "conf": {"type": "dict", "options": {"x": {"type": "int", "required": true}}},
        }));
        let mut p = spec(json!({"port": "x1", "mode": "c", "tags": "1,z", "conf": {"y": 1}, "extra": 1}));
        let e = validate(&s, &mut p);
        assert_eq!(
            e,
            vec![
                "missing required arguments: name".to_string(),
                "argument 'port' is of type str and we were unable to convert to int: \"'x1'\" cannot be converted to an int".into(),
                "Elements value for option 'tags' is of type str and we were unable to convert to int: \"'z'\" cannot be converted to an int".into(),
                "value of mode must be one of: a, b, got: c".into(),
                "missing required arguments: x found in conf".into(),
                "conf.y, extra. Supported parameters include: x.".into(),
            ]
        );
    }

    #[test]
    fn converts_and_defaults() {
        let s = spec(json!({
            "n": {"type": "int"}, "b": {"type": "bool"}, "l": {"type": "list"},
            "d": {"type": "str", "default": "z"},
        }));
        let mut p = spec(json!({"n": "42", "b": "yes", "l": "a,b"}));
        assert!(validate(&s, &mut p).is_empty());
        assert_eq!(
            Value::Object(p),
            json!({"n": 42, "b": true, "l": ["a", "b"], "d": "z"})
        );
    }
}
