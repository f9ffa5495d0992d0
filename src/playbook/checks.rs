//! Load-time checks of keyword values and of a loaded play, for mistakes ansible-core finds
//! only when the task runs (or never): a `notify:` of no handler, a `register:` that is no
//! variable name, a non-boolean `ignore_errors:`/`no_log:`, a Jinja syntax error. Undefined
//! variables stay lazy (src/playbook/lint.rs decides those).

use std::collections::HashSet;

use serde_json::Value;

use super::{Action, Play, Task, scalar_string};
use crate::error::LoadError;
use crate::template::is_template;
use crate::yaml::{Node, NodeKind};

/// Names Jinja gives a meaning of its own, which ansible-core 2.19 refuses as variable names
/// (`JINJA_KEYWORDS`).
const JINJA_KEYWORDS: &[&str] = &["true", "false", "none", "True", "False", "None", "not"];

/// Whether `name` can be a variable, as ansible-core 2.19's `validate_variable_name`: ASCII
/// letters, digits and `_`, not starting with a digit, and not one of [`JINJA_KEYWORDS`]
/// (Python keywords such as `class` are allowed).
pub(crate) fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !JINJA_KEYWORDS.contains(&name)
}

/// `register:`: a variable name (ansible-core: "Invalid variable name in 'register' specified").
pub(crate) fn register_name(node: &Node) -> Result<String, LoadError> {
    let name = scalar_string(node)?;
    if !is_variable_name(&name) {
        return Err(LoadError::at(
            &node.mark,
            format!(
                "Invalid variable name in 'register' specified: '{name}' (a name is ASCII letters, digits and '_', not starting with a digit, and not true, false, none or not)"
            ),
        ));
    }
    Ok(name)
}

/// A boolean keyword that may also be a template (`ignore_errors`, `no_log`): a boolean, a
/// value Ansible reads as one (`yes`, `0`), or a string with `{{ }}` rendered when the task runs.
pub(crate) fn bool_or_template(node: &Node, what: &str) -> Result<Value, LoadError> {
    let value = node.to_json();
    let ok = match &node.kind {
        NodeKind::Str(s) => is_template(s) || crate::vars::as_bool(&value).is_some(),
        NodeKind::Bool(_) | NodeKind::Int(_) | NodeKind::Float(_) => crate::vars::as_bool(&value).is_some(),
        _ => false,
    };
    if !ok {
        return Err(LoadError::at(
            &node.mark,
            format!(
                "{what} must be a boolean (true/false) or a template that renders to one, not {}",
                describe(node)
            ),
        ));
    }
    Ok(value)
}

/// A keyword that takes an integer (`async`, `poll`, `throttle`, `timeout`): an integer, a
/// string of digits, or a template (rendered when the task runs).
pub(crate) fn int_or_template(node: &Node, what: &str) -> Result<Value, LoadError> {
    let ok = match &node.kind {
        NodeKind::Int(_) => true,
        NodeKind::Str(s) => is_template(s) || s.trim().parse::<i64>().is_ok(),
        _ => false,
    };
    if !ok {
        return Err(LoadError::at(
            &node.mark,
            format!(
                "{what} must be an integer or a template that renders to one, not {}",
                describe(node)
            ),
        ));
    }
    Ok(node.to_json())
}

fn describe(node: &Node) -> String {
    match &node.kind {
        NodeKind::Str(s) => format!("the string '{s}'"),
        NodeKind::Int(i) => format!("the number {i}"),
        NodeKind::Float(f) => format!("the number {f}"),
        _ => format!("a {}", node.type_name()),
    }
}

/// Every literal `notify:` of the play's tasks and handlers names a handler: by `name`, by
/// `role : name`, or by a `listen:` topic. Templated names are decided when they notify, and a
/// play with a templated handler name or topic (which any name might render to) is not checked.
///
/// Errors: ansible-core's message ("The requested handler 'x' was not found in either the main
/// handlers list nor in the listening handlers list") at the notifying task.
pub(crate) fn notified_handlers_exist(play: &Play) -> Result<(), LoadError> {
    let mut names: HashSet<String> = HashSet::new();
    for h in &play.handlers {
        if let Some(n) = &h.name {
            names.insert(n.clone());
            if let Some(r) = &h.role {
                names.insert(format!("{} : {n}", r.name));
            }
        }
        names.extend(h.listen.iter().cloned());
    }
    if names.iter().any(|n| is_template(n)) {
        return Ok(());
    }
    let mut tasks: Vec<&Task> = Vec::new();
    for list in play.sections.iter().chain(std::iter::once(&play.handlers)) {
        flatten(list, &mut tasks);
    }
    for t in tasks {
        if let Some(missing) = t.notify.iter().find(|n| !is_template(n) && !names.contains(*n)) {
            return Err(LoadError::at(
                &t.mark,
                format!(
                    "The requested handler '{missing}' was not found in either the main handlers list nor in the listening handlers list (define a handler with that name or 'listen:' topic in the play, or a role of it)"
                ),
            ));
        }
    }
    Ok(())
}

/// Tasks and the tasks inside their blocks, depth first.
fn flatten<'t>(list: &'t [Task], out: &mut Vec<&'t Task>) {
    for t in list {
        out.push(t);
        if let Some(Action::Block {
            block,
            rescue,
            always,
        }) = &t.action
        {
            for l in [block, rescue, always] {
                flatten(l, out);
            }
        }
    }
}

/// A Jinja syntax error in any string of `node` (keys too) is a load error at that string;
/// whether the variables it uses are defined is left to when it runs.
pub(crate) fn jinja_syntax(node: &Node) -> Result<(), LoadError> {
    match &node.kind {
        NodeKind::Str(s) => template_syntax(s).map_err(|m| LoadError::at(&node.mark, m)),
        NodeKind::Seq(items) => items.iter().try_for_each(jinja_syntax),
        NodeKind::Map(entries) => entries.iter().try_for_each(|(k, v)| {
            template_syntax(&k.name).map_err(|m| LoadError::at(&k.mark, m))?;
            jinja_syntax(v)
        }),
        _ => Ok(()),
    }
}

/// A Jinja condition (`when`, `changed_when`, `failed_when`, `until`): a bare expression, or a
/// template.
pub(crate) fn condition_syntax(node: &Node) -> Result<(), LoadError> {
    let items: Vec<&Node> = match &node.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    for n in items {
        if let NodeKind::Str(s) = &n.kind {
            let result = if is_template(s) {
                template_syntax(s)
            } else {
                expression_syntax(s)
            };
            result.map_err(|m| LoadError::at(&n.mark, m))?;
        }
    }
    Ok(())
}

fn syntax_env() -> &'static minijinja::Environment<'static> {
    static ENV: std::sync::LazyLock<minijinja::Environment<'static>> =
        std::sync::LazyLock::new(minijinja::Environment::new);
    &ENV
}

fn template_syntax(s: &str) -> Result<(), String> {
    if !is_template(s) {
        return Ok(());
    }
    syntax_env()
        .template_from_str(s)
        .map(drop)
        .map_err(|e| syntax_message(s, &e))?;
    known_names(s, false)
}

/// A filter or test talon does not have is a load error (stricter than ansible-core, which
/// fails when the task runs, after earlier tasks changed hosts).
fn known_names(s: &str, expression: bool) -> Result<(), String> {
    match crate::template::unknown_name(s, expression) {
        None => Ok(()),
        Some(what) => {
            let shown: String = s.chars().take(SHOWN_CHARS).collect();
            let more = if shown.len() < s.len() { "..." } else { "" };
            Err(format!(
                "template error while templating string: {what} (talon does not have it; its filters and tests are listed in the README's Templates section). String: {shown}{more}"
            ))
        }
    }
}

fn expression_syntax(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Ok(());
    }
    syntax_env()
        .compile_expression(s)
        .map(drop)
        .map_err(|e| syntax_message(s, &e))?;
    known_names(s, true)
}

/// ansible-core's wording ("template error while templating string: ... String: ..."), with a
/// long string cut to its first [`SHOWN_CHARS`] characters.
fn syntax_message(s: &str, e: &minijinja::Error) -> String {
    let detail = e.detail().map(str::to_string).unwrap_or_else(|| e.to_string());
    let shown: String = s.chars().take(SHOWN_CHARS).collect();
    let more = if shown.len() < s.len() { "..." } else { "" };
    format!("template error while templating string: {detail}. String: {shown}{more}")
}

/// How much of a string a syntax error quotes.
const SHOWN_CHARS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn node(text: &str) -> Node {
        crate::yaml::parse_str(text, Path::new("t.yml")).unwrap()
    }

    #[test]
    fn variable_names_follow_ansible_2_19() {
        for ok in ["x", "_x", "result_1", "Ansible", "class", "with"] {
            assert!(is_variable_name(ok), "{ok}");
        }
        for bad in [
            "",
            "1x",
            "my-var",
            "a.b",
            "None",
            "none",
            "true",
            "not",
            "a b",
            "{{ x }}",
            "x\u{0}",
            "résultat",
        ] {
            assert!(!is_variable_name(bad), "{bad}");
        }
    }

    #[test]
    fn booleans_and_templates_pass_other_values_do_not() {
        for ok in ["true", "no", "'yes'", "0", "\"{{ x }}\""] {
            assert!(bool_or_template(&node(ok), "ignore_errors").is_ok(), "{ok}");
        }
        for bad in ["maybe", "5", "[1]", "{a: 1}", "~"] {
            let e = bool_or_template(&node(bad), "ignore_errors")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("t.yml:1:1: ignore_errors must be a boolean"), "{e}");
        }
    }

    #[test]
    fn jinja_syntax_errors_are_found_variables_are_not_judged() {
        assert!(jinja_syntax(&node("a: '{{ x }}'\nb: ['{% if y %}1{% endif %}']\n")).is_ok());
        let e = jinja_syntax(&node("a: ok\nb: '{{ x | }}'\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.yml:2:4: template error while templating string"),
            "{e}"
        );
        let e = jinja_syntax(&node("'{% if x %}': 1\n")).unwrap_err().to_string();
        assert!(e.starts_with("t.yml:1:1:"), "{e}");
        assert!(condition_syntax(&node("x is defined and y")).is_ok());
        assert!(condition_syntax(&node("x ==")).is_err());
        assert!(condition_syntax(&node("['{{ a }}', 'b )']")).is_err());
        let deep = format!("'{{{{ {}1{} }}}}'", "(".repeat(100_000), ")".repeat(100_000));
        let e = jinja_syntax(&node(&deep)).unwrap_err().to_string();
        assert!(e.contains("recursion") && e.len() < 500, "{e}");
    }
}
