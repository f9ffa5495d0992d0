//! Templating: minijinja configured to behave like Ansible's Jinja2.
//! (Placeholder interface; the implementation lands in its own change.)

use std::sync::Arc;

use serde_json::Value;

use crate::vars::Vars;

/// The variables visible to one render: a task's merged variables.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The merged variables.
    pub vars: Arc<Vars>,
}

/// What `{{ omit }}` renders to: the runner drops module arguments with this value.
pub const OMIT: &str = "__omit_place_holder__talon";

impl Scope {
    /// The same scope with other variables.
    pub fn with_vars(&self, vars: Arc<Vars>) -> Scope {
        Scope { vars }
    }

    /// A scope over these variables.
    pub fn new(vars: Arc<Vars>) -> Self {
        Scope { vars }
    }
}

/// A template that failed to render.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// What went wrong.
    pub message: String,
}

/// The template engine.
#[derive(Default)]
pub struct Templater {}

impl Templater {
    /// A new engine.
    pub fn new() -> Self {
        Templater {}
    }
    /// Renders a string; a string that is exactly one `{{ expr }}` keeps the expression's type.
    pub fn render_str(&self, s: &str, _scope: &Scope) -> Result<Value, TemplateError> {
        Ok(Value::String(s.to_string()))
    }
    /// Renders every string inside a value (mappings and lists recursively).
    pub fn render_value(&self, v: &Value, _scope: &Scope) -> Result<Value, TemplateError> {
        Ok(v.clone())
    }
    /// Renders a whole template file (the `template` module); `name` is used in errors.
    pub fn render_template(&self, text: &str, _name: &str, _scope: &Scope) -> Result<String, TemplateError> {
        Ok(text.to_string())
    }
    /// Evaluates a bare Jinja expression (`when:`, `that:`, `debug: var=`) to a value.
    pub fn eval_expr(&self, _expr: &str, _scope: &Scope) -> Result<Value, TemplateError> {
        Ok(Value::Null)
    }
    /// Evaluates a condition (`when`, `changed_when`, `failed_when`, `until`) to a boolean.
    pub fn eval_condition(&self, _expr: &str, _scope: &Scope) -> Result<bool, TemplateError> {
        Ok(true)
    }
}
