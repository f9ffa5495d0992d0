//! Unit tests for the Ansible-compatible templating.

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;

fn scope(v: Value) -> Scope {
    match v {
        Value::Object(m) => Scope::new(Arc::new(m)),
        _ => panic!("scope needs an object"),
    }
}

fn r(s: &str, vars: Value) -> Value {
    Templater::new().render_str(s, &scope(vars)).unwrap()
}

fn rs(s: &str, vars: Value) -> String {
    match r(s, vars) {
        Value::String(s) => s,
        other => panic!("expected a string, got {other}"),
    }
}

fn re(s: &str, vars: Value) -> TemplateError {
    Templater::new().render_str(s, &scope(vars)).unwrap_err()
}

#[test]
fn plain_strings_untouched() {
    assert_eq!(r("hello } {", json!({})), json!("hello } {"));
}

#[test]
fn native_types() {
    let v = json!({"l": [1, 2], "d": {"a": 1}, "n": 5, "b": true});
    assert_eq!(r("{{ l }}", v.clone()), json!([1, 2]));
    assert_eq!(r("  {{ d }} ", v.clone()), json!({"a": 1}));
    assert_eq!(r("{{ n + 1 }}", v.clone()), json!(6));
    assert_eq!(r("{{ b }}", v.clone()), json!(true));
    assert_eq!(r("x{{ n }}", v.clone()), json!("x5"));
}
