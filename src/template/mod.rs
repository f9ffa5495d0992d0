//! Templating: minijinja configured to behave like Ansible's Jinja2 (ansible-core).
//!
//! Ansible users bring playbooks, variables and `.j2` files unchanged, so every string is a
//! template: `{{ }}` expressions, Ansible's filters, tests and lookups, strict undefined
//! variables, lazily templated variables (`app_dir: "{{ base_dir }}/app"`), `hostvars`, and
//! `omit`. This module holds the public API and the lazy variable scope; `filters.rs`,
//! `predicates.rs` (Jinja tests) and `lookups.rs` hold the Ansible plugins.
//!
//! Two environments share one set of plugins: one for strings in playbooks and variables
//! (Jinja2 defaults, like Ansible's templar) and one for the `template` module (Ansible's module
//! defaults: `trim_blocks=True`, `lstrip_blocks=False`). Both keep trailing newlines, as
//! Ansible's templar re-appends them.

mod file_vars;
mod layers;
pub use layers::VarLayers;
pub(crate) mod filters;

/// Python's `json.dumps` of a value (`", "` and `": "` separators), for modules that send JSON.
pub(crate) use filters::python_json;
mod chains;
mod datetime_sub;
pub(crate) mod files;
mod mutable;
mod names;
mod native;
pub use names::unknown_name;
pub(crate) mod lookups;
mod predicates;
mod raw_strings;
mod scope;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::Value as MjValue;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value;

use crate::vars::Vars;

use scope::{Ctx, ScopeObj};

pub use file_vars::{ANSIBLE_MANAGED, with_template_vars};
pub use lookups::{LOOKUPS, WITH_QUERY_FN, WITH_SUBDIR_VAR};

/// Steps (minijinja fuel: about one per instruction) one render may take before it is stopped:
/// a loop of a few million iterations is fine, `range(10**10)`-sized work is not. ansible-core
/// has no bound. The steps of the variables a render renders lazily count towards it too (those
/// with `{% %}` blocks; a bare `{{ expr }}` cannot loop), so a top-level render stops within about
/// twice this many steps.
pub const RENDER_FUEL: u64 = 20_000_000;

/// Bytes of output one top-level render may produce, counting the variables it renders lazily
/// and strings its expressions build: 256 MiB.
pub const MAX_OUTPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Templated variables one top-level render may render (each use counts: `"{{ a ~ a }}"` renders
/// `a` twice), so variables doubling each other stop long before they exhaust time or memory.
pub const MAX_NESTED_RENDERS: u64 = 100_000;

/// Items a list-building filter (`product`) may produce; checked before building.
pub const MAX_LIST_ITEMS: u64 = 1_000_000;

/// The value `omit` renders to. A module argument whose rendered value equals this string is
/// dropped by the runner (ansible: `{{ x | default(omit) }}`; Ansible's own sentinel is
/// `__omit_place_holder__<sha1>`).
pub const OMIT: &str = "__omit_place_holder__talon__";

/// Every host's variables by inventory name, for `hostvars[name].var` (layers shared with the
/// host's own scopes, such as its facts).
pub type HostVars = BTreeMap<String, VarLayers>;

/// The variables visible to one render: a task's merged variables, plus optional context.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The merged variables (including magic vars such as `inventory_hostname`, `groups`), in
    /// shared layers.
    pub vars: VarLayers,
    /// Every host's variables, exposed as `hostvars`; strings in them are templated lazily
    /// against that host's own variables. `None`: `hostvars` is undefined.
    pub hostvars: Option<Arc<HostVars>>,
    /// Directories searched, in order, by `lookup('file')`/`lookup('template')` for a relative
    /// path (each as `DIR/files/PATH`, `DIR/templates/PATH`, then `DIR/PATH`), like Ansible's role
    /// then playbook search path. Empty: relative to the current directory.
    pub search_paths: Arc<Vec<PathBuf>>,
    /// Top-level variables whose values are data, never templated when read (registered task
    /// results: ansible-core marks them unsafe, so a `{{` in a command's output stays text).
    pub raw: Arc<std::collections::HashSet<String>>,
}

impl Scope {
    /// A scope over these variables.
    pub fn new(vars: Arc<Vars>) -> Self {
        Scope::layered(vars.into())
    }
    /// A scope over these layers of variables.
    pub fn layered(vars: VarLayers) -> Self {
        Scope {
            vars,
            hostvars: None,
            search_paths: Arc::new(Vec::new()),
            raw: Arc::default(),
        }
    }
    /// The same scope with `top` above its variables (its names win), sharing the rest.
    pub fn with_top(&self, top: Vars) -> Scope {
        self.with_layers(self.vars.with_top(top))
    }
    /// The same scope (hostvars, search paths, raw names) over other layers of variables.
    pub fn with_layers(&self, vars: VarLayers) -> Scope {
        Scope {
            vars,
            hostvars: self.hostvars.clone(),
            search_paths: self.search_paths.clone(),
            raw: self.raw.clone(),
        }
    }
    /// The same scope with these top-level variables never templated.
    pub fn with_raw(mut self, names: std::collections::HashSet<String>) -> Self {
        self.raw = Arc::new(names);
        self
    }
    /// The same scope with `hostvars` available.
    pub fn with_hostvars(mut self, hostvars: Arc<HostVars>) -> Self {
        self.hostvars = Some(hostvars);
        self
    }
    /// The same scope with the search path for `lookup('file')` (first match wins).
    pub fn with_search_paths(mut self, dirs: Vec<PathBuf>) -> Self {
        self.search_paths = Arc::new(dirs);
        self
    }
}

/// A template that failed to render or evaluate.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// What went wrong, worded like Ansible where it can be (`'app_port' is undefined`).
    pub message: String,
    /// Set when the error is an undefined variable: its name, or the expression that was
    /// undefined (`foo.bar`); empty when minijinja could not tell which value it was.
    pub undefined: Option<String>,
    /// The template name (for `render_template`) the error is in.
    pub template: Option<String>,
    /// The 1-based line in that template.
    pub line: Option<usize>,
}

impl TemplateError {
    fn msg(message: impl Into<String>) -> Self {
        TemplateError {
            message: message.into(),
            undefined: None,
            template: None,
            line: None,
        }
    }
    fn undefined(name: &str) -> Self {
        TemplateError {
            message: format!("'{name}' is undefined"),
            undefined: Some(name.to_string()),
            template: None,
            line: None,
        }
    }
}

/// The two minijinja environments, shared by every render (and by lazily rendered variables).
pub(crate) struct Engine {
    /// Strings in playbooks and variables: `trim_blocks=True` too (ansible-core's
    /// AnsibleEnvironment sets it for every template, strings included).
    vars_env: Environment<'static>,
    /// Template files (the `template` module): `trim_blocks=True`.
    file_env: Environment<'static>,
    /// The delimiters `file_env` reads (`{{ }}`, `{% %}`, `{# #}` unless the task names others).
    file_delims: TemplateSyntax,
}

/// The template engine: cheap to share (`Send + Sync`), one per run.
pub struct Templater {
    engine: Arc<Engine>,
    /// ansible-core 2.19's `ALLOW_BROKEN_CONDITIONALS`: a conditional whose result is not a
    /// boolean is judged by Python truthiness instead of failing.
    allow_broken_conditionals: bool,
}

impl Default for Templater {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Templater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templater")
    }
}

/// The Jinja syntax of one `template` task (ansible.builtin.template's `trim_blocks`,
/// `lstrip_blocks` and delimiter arguments). [`TemplateSyntax::default`] is Ansible's default:
/// `trim_blocks` on, `lstrip_blocks` off, the usual delimiters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSyntax {
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
    pub block: (String, String),
    pub variable: (String, String),
    pub comment: (String, String),
    /// Jinja's `keep_trailing_newline` (off: see [`files::pad_newlines`]).
    pub keep_trailing_newline: bool,
    /// The output's line ending: `\n` (default), `\r\n` or `\r`.
    pub newline_sequence: String,
    pub line_statement_prefix: Option<String>,
    pub line_comment_prefix: Option<String>,
}

impl Default for TemplateSyntax {
    fn default() -> Self {
        TemplateSyntax {
            trim_blocks: true,
            lstrip_blocks: false,
            block: ("{%".into(), "%}".into()),
            variable: ("{{".into(), "}}".into()),
            comment: ("{#".into(), "#}".into()),
            keep_trailing_newline: false,
            newline_sequence: "\n".into(),
            line_statement_prefix: None,
            line_comment_prefix: None,
        }
    }
}

fn make_env(trim_blocks: bool) -> Environment<'static> {
    make_env_with(&TemplateSyntax {
        trim_blocks,
        ..TemplateSyntax::default()
    })
    .unwrap_or_else(|_| Environment::new())
}

/// An environment with Ansible's filters, tests and lookups and this syntax.
///
/// Errors: delimiters minijinja refuses (empty, or one the prefix of another).
fn make_env_with(syntax: &TemplateSyntax) -> Result<Environment<'static>, TemplateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Debug mode makes minijinja remember which expression produced an undefined value, so
    // errors can name the variable; it costs nothing until an error happens.
    env.set_debug(true);
    env.set_fuel(Some(RENDER_FUEL));
    env.set_auto_escape_callback(|_| AutoEscape::None);
    let mut builder = minijinja::syntax::SyntaxConfig::builder();
    builder
        .trim_blocks(syntax.trim_blocks)
        .lstrip_blocks(syntax.lstrip_blocks)
        .keep_trailing_newline(syntax.keep_trailing_newline)
        .block_delimiters(syntax.block.0.clone(), syntax.block.1.clone())
        .variable_delimiters(syntax.variable.0.clone(), syntax.variable.1.clone())
        .comment_delimiters(syntax.comment.0.clone(), syntax.comment.1.clone());
    if let Some(p) = &syntax.line_statement_prefix {
        builder.line_statement_prefix(p.clone());
    }
    if let Some(p) = &syntax.line_comment_prefix {
        builder.line_comment_prefix(p.clone());
    }
    let config = builder
        .build()
        .map_err(|e| TemplateError::msg(format!("template delimiters: {e}")))?;
    env.set_syntax(config);
    env.set_unknown_method_callback(mutable::unknown_method);
    env.set_formatter(filters::python_formatter);
    filters::register(&mut env);
    predicates::register(&mut env);
    lookups::register(&mut env);
    chains::register(&mut env);
    mutable::register(&mut env);
    datetime_sub::register(&mut env);
    Ok(env)
}

impl Templater {
    /// A new engine with Ansible's filters, tests and lookups.
    pub fn new() -> Self {
        Templater {
            engine: Arc::new(Engine {
                vars_env: make_env(true),
                file_env: make_env(true),
                file_delims: TemplateSyntax::default(),
            }),
            allow_broken_conditionals: false,
        }
    }

    /// The same templater with ansible-core's `ALLOW_BROKEN_CONDITIONALS` set.
    pub fn allow_broken_conditionals(mut self, allow: bool) -> Self {
        self.allow_broken_conditionals = allow;
        self
    }

    fn root(&self, scope: &Scope) -> Arc<Ctx> {
        Arc::new(Ctx {
            engine: self.engine.clone(),
            vars: scope.vars.clone(),
            hostvars: scope.hostvars.clone(),
            search_paths: scope.search_paths.clone(),
            raw: scope.raw.clone(),
            chain: Vec::new(),
            budget: Arc::new(scope::Budget::default()),
        })
    }

    /// Renders a string. A string without `{{`/`{%` is returned untouched; a string that is
    /// exactly one `{{ expr }}` (whitespace around allowed) returns the expression's native type
    /// (list, mapping, number, bool); anything else renders to a string.
    ///
    /// Errors: undefined variables (`'x' is undefined`, with [`TemplateError::undefined`] set),
    /// syntax errors, filter errors.
    pub fn render_str(&self, s: &str, scope: &Scope) -> Result<Value, TemplateError> {
        if !is_template(s) {
            return Ok(Value::String(s.to_string()));
        }
        let ctx = self.root(scope);
        let v = ctx.engine.render_native(&ctx, s)?;
        scope::to_json(&v)
            .map_err(|e| scope::name_undefined(&ctx.engine.vars_env, convert_error(e, None), s, scope))
    }

    /// Renders every string inside a value (mappings and lists recursively; keys too, like
    /// Ansible). Non-string scalars are returned as they are.
    pub fn render_value(&self, v: &Value, scope: &Scope) -> Result<Value, TemplateError> {
        match v {
            Value::String(s) => self.render_str(s, scope),
            Value::Array(items) => items
                .iter()
                .map(|i| self.render_value(i, scope))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (k, val) in map {
                    let key = if is_template(k) {
                        crate::vars::as_string(&self.render_str(k, scope)?)
                    } else {
                        k.clone()
                    };
                    out.insert(key, self.render_value(val, scope)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// Renders a whole template file (the `template` module) with Ansible's module settings
    /// (`trim_blocks=True`, ansible-core's trailing newlines). `name` is used in errors, which
    /// also carry the line, and is the template's path for `{% include %}`.
    pub fn render_template(&self, text: &str, name: &str, scope: &Scope) -> Result<String, TemplateError> {
        self.render_template_with(text, name, scope, &TemplateSyntax::default(), Path::new(name))
    }

    /// [`Templater::render_template`] with the task's own Jinja syntax (before the file's
    /// `#jinja2:` header overrides it) for the template file at `source` (templates it
    /// includes are looked up as [`files::include_dirs`] lists).
    ///
    /// Errors: as `render_template`, a bad header, and delimiters minijinja refuses.
    pub fn render_template_with(
        &self,
        text: &str,
        name: &str,
        scope: &Scope,
        syntax: &TemplateSyntax,
        source: &Path,
    ) -> Result<String, TemplateError> {
        let ctx = self.root(scope);
        let dirs = files::include_dirs(&scope.search_paths, source, false);
        self.engine.render_file(&ctx, name, text, syntax, dirs)
    }

    /// Evaluates a bare Jinja expression (`debug: var=`, `that:`) to its native value. An
    /// expression wrapped in `{{ }}` is accepted too.
    pub fn eval_expr(&self, expr: &str, scope: &Scope) -> Result<Value, TemplateError> {
        let expr = expr.trim();
        if is_template(expr) {
            return self.render_str(expr, scope);
        }
        let ctx = self.root(scope);
        let v = ctx.engine.eval_native(&ctx, expr)?;
        scope::to_json(&v).map_err(|e| convert_error(e, None))
    }

    /// Evaluates a condition (`when`, `changed_when`, `failed_when`, `until`, `assert.that`)
    /// like ansible-core 2.19's `evaluate_conditional`: the text is trimmed; a condition
    /// wholly inside template delimiters (`"{{ flag }}"`) is rendered first and a string result
    /// is evaluated again as an expression; the result must be a boolean.
    ///
    /// Errors: an empty condition ("Empty conditional expressions are not allowed."), a result
    /// that is not a boolean ("Conditional result (True) was derived from value of type
    /// 'str' ..."), or a template error. With [`Templater::allow_broken_conditionals`], an
    /// empty condition is true and other results are judged by Python truthiness (the string
    /// `"false"` is then true, as in Python).
    pub fn eval_condition(&self, expr: &str, scope: &Scope) -> Result<bool, TemplateError> {
        let trimmed = expr.trim();
        if trimmed.is_empty() {
            return self.empty_condition();
        }
        let value = if all_template(trimmed) {
            match self.render_str(trimmed, scope)? {
                Value::String(s) if s.trim().is_empty() => return self.empty_condition(),
                Value::String(s) => match s.trim() {
                    t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
                    t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
                    t if t.eq_ignore_ascii_case("none") => Value::Null,
                    t => self.eval_expr(t, scope)?,
                },
                other => other,
            }
        } else if is_template(trimmed) {
            // Templates inside the expression's string constants (`x == '{{ y }}'`): rendered
            // first, as ansible-core still allows (ALLOW_EMBEDDED_TEMPLATES).
            let rendered = crate::vars::as_string(&self.render_str(trimmed, scope)?);
            self.eval_expr(&rendered, scope)?
        } else {
            self.eval_expr(trimmed, scope)?
        };
        match value {
            Value::Bool(b) => Ok(b),
            other if self.allow_broken_conditionals => Ok(truthy(&other)),
            other => Err(TemplateError::msg(format!(
                "Conditional result ({}) was derived from value of type '{}'. Conditionals must \
                 have a boolean result. Broken conditionals can be temporarily allowed with the \
                 `ALLOW_BROKEN_CONDITIONALS` configuration option.",
                if truthy(&other) { "True" } else { "False" },
                crate::vars::python_type(&other)
            ))),
        }
    }

    fn empty_condition(&self) -> Result<bool, TemplateError> {
        if self.allow_broken_conditionals {
            Ok(true)
        } else {
            Err(TemplateError::msg(
                "Empty conditional expressions are not allowed.",
            ))
        }
    }
}

/// Python truthiness of a rendered value.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Whether a condition is wholly inside template delimiters (ansible-core's
/// `is_possibly_all_template`): it starts and ends with `{{ }}`, `{% %}` or `{# #}`.
fn all_template(s: &str) -> bool {
    [("{{", "}}"), ("{%", "%}"), ("{#", "#}")]
        .iter()
        .any(|(o, c)| s.starts_with(o) && s.ends_with(c))
}

/// Whether a string needs rendering at all (Ansible's `is_template`, cheaply).
pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// If `s` is exactly one `{{ expr }}` (`-` trim markers allowed; no text around it, not even a
/// newline: `"{{ x }}\n"` renders to a string that keeps its newline), the inner expression.
fn single_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") || inner.contains("{#") {
        return None;
    }
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    let inner = inner.trim();
    if inner.is_empty() { None } else { Some(inner) }
}

impl Engine {
    /// Renders a string natively: one `{{ expr }}` keeps its type (also among statements that
    /// write nothing: [`native`]), otherwise a string.
    ///
    /// As in ansible-core 2.19, one trailing newline after a lone expression is not text of
    /// its own (Jinja drops it): `"{{ [1, 2] }}\n"` (a `>` block scalar) is the list, while a
    /// string result gets the newline back (`"{{ 'x' }}\n"` is `"x\n"`).
    fn render_native(&self, ctx: &Arc<Ctx>, s: &str) -> Result<MjValue, TemplateError> {
        if let Some(expr) = single_expression(s) {
            return self.eval_native(ctx, expr);
        }
        if let Some(expr) = s.strip_suffix('\n').and_then(single_expression) {
            let v = self.eval_native(ctx, expr)?;
            // Jinja drops the source's newline; ansible-core pads the output back to one.
            return Ok(match v.as_str() {
                Some(text) if text.ends_with('\n') => v,
                Some(text) => MjValue::from(format!("{text}\n")),
                None => v,
            });
        }
        native::listen(s, || self.render_string(ctx, s))
    }

    /// Renders a string of a playbook or variable with the variables environment: its
    /// literals keep their backslashes, chains feeding `default` are chainable, and the output
    /// ends with as many newlines as the string did (ansible-core's trailing newlines).
    fn render_string(&self, ctx: &Arc<Ctx>, text: &str) -> Result<String, TemplateError> {
        let chained_text = chained(text, &raw_strings::DEFAULT);
        let code = raw_strings::template(&chained_text, &raw_strings::DEFAULT);
        let mut out = self.render_in(&self.vars_env, ctx, "<string>", &code)?;
        files::pad_newlines(text, &mut out);
        Ok(out)
    }

    /// Renders template text (already rewritten) in `env`, writing through the render's output
    /// budget; `name` appears in errors unless it is `<string>`.
    pub(crate) fn render_in(
        &self,
        env: &Environment<'static>,
        ctx: &Arc<Ctx>,
        name: &str,
        text: &str,
    ) -> Result<String, TemplateError> {
        let shown = (name != "<string>").then_some(name);
        let fail = |e: minijinja::Error| ctx.budget.exceeded().unwrap_or_else(|| convert_error(e, shown));
        let template = env.template_from_named_str(name, text).map_err(fail)?;
        let mut out = BudgetWriter {
            budget: &ctx.budget,
            bytes: Vec::new(),
        };
        let captured = template
            .render_captured_to(MjValue::from_object(ScopeObj::new(ctx.clone())), &mut out)
            .map_err(fail)?;
        if let Some((used, _)) = captured.state().fuel_levels() {
            ctx.budget.charge_fuel(used)?;
        }
        drop(captured);
        String::from_utf8(out.bytes).map_err(|_| TemplateError::msg("template output is not UTF-8"))
    }

    /// Evaluates a bare expression; an undefined result is an error naming the expression.
    fn eval_native(&self, ctx: &Arc<Ctx>, expr: &str) -> Result<MjValue, TemplateError> {
        let mut chained = rewrite_code(expr, datetime_sub::may_subtract_datetimes(expr));
        if let Some(c) = mutable::wrap_in_place_calls(&chained) {
            chained = std::borrow::Cow::Owned(c);
        }
        let code = raw_strings::expression(&chained);
        let compiled = self
            .vars_env
            .compile_expression(&code)
            .map_err(|e| convert_error(e, None))?;
        let v = compiled
            .eval(MjValue::from_object(ScopeObj::new(ctx.clone())))
            .map_err(|e| ctx.budget.exceeded().unwrap_or_else(|| convert_error(e, None)))?;
        if v.is_undefined() {
            return Err(TemplateError::undefined(expr));
        }
        if let Some(s) = v.as_str() {
            ctx.budget.charge_output(s.len() as u64)?;
        }
        Ok(v)
    }
}

/// Template text with its code rewritten before it compiles: the chains that feed `default`
/// or `defined` ([`chains`]) and the `ansible.builtin.`/`ansible.legacy.` prefixes of filter
/// and test names ([`names::short_names`]).
fn chained<'t>(text: &'t str, d: &raw_strings::Delimiters<'_>) -> std::borrow::Cow<'t, str> {
    let datetimes = datetime_sub::may_subtract_datetimes(text);
    let in_place = text.contains(".append")
        || text.contains(".extend")
        || text.contains(".insert")
        || text.contains(".pop")
        || text.contains(".remove")
        || text.contains(".clear")
        || text.contains(".update")
        || text.contains(".setdefault");
    if chains::may_chain(text) || text.contains("ansible.") || text.contains("set") || datetimes || in_place {
        let (mut called, mut set, mut loops) = (Vec::new(), Vec::new(), Vec::new());
        let body = raw_strings::map_code(text, d, &mut |code, out| {
            if in_place {
                mutable::scan_code(code, &mut called, &mut set, &mut loops);
            }
            out.push_str(&rewrite_code(code, datetimes));
        });
        let prefix = mutable::copies_prefix(&called, &set, &loops, d.block);
        std::borrow::Cow::Owned(if prefix.is_empty() { body } else { prefix + &body })
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// One code part (or a bare expression) rewritten as [`chained`] says.
/// With `datetimes`, binary `-` becomes [`datetime_sub::SUB_FN`] calls.
fn rewrite_code(code: &str, datetimes: bool) -> std::borrow::Cow<'_, str> {
    let mut base = match names::short_names(code) {
        std::borrow::Cow::Borrowed(c) => chains::expression(c),
        std::borrow::Cow::Owned(c) => std::borrow::Cow::Owned(chains::expression(&c).into_owned()),
    };
    if datetimes && let Some(c) = datetime_sub::rewrite(&base) {
        base = std::borrow::Cow::Owned(c);
    }
    match mutable::set_literal(&base) {
        Some(c) => std::borrow::Cow::Owned(c),
        None => base,
    }
}

/// Collects a render's output, charging every write to the render's budget.
struct BudgetWriter<'a> {
    budget: &'a scope::Budget,
    bytes: Vec<u8>,
}

impl std::io::Write for BudgetWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.budget
            .charge_output(buf.len() as u64)
            .map_err(|e| std::io::Error::other(e.message))?;
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The marker a nested (lazily rendered) error travels with through minijinja, so the
/// outermost error still knows which variable was undefined.
#[derive(Debug)]
struct Nested(TemplateError);

impl std::fmt::Display for Nested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Nested {}

/// A [`TemplateError`] as a minijinja error (for errors raised inside lazy variables,
/// filters and lookups).
fn to_mj_error(e: TemplateError) -> minijinja::Error {
    let kind = if e.undefined.is_some() {
        ErrorKind::UndefinedError
    } else {
        ErrorKind::InvalidOperation
    };
    minijinja::Error::new(kind, e.message.clone()).with_source(Nested(e))
}

/// Turns a minijinja error into a [`TemplateError`], naming the undefined variable.
fn convert_error(e: minijinja::Error, name: Option<&str>) -> TemplateError {
    // An error from a lazily rendered variable: keep its message and undefined name.
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&e);
    let mut nested = None;
    while let Some(s) = src {
        if let Some(n) = s.downcast_ref::<Nested>() {
            nested = Some(n.0.clone());
            break;
        }
        src = s.source();
    }
    let line = e.line();
    let (message, undefined) = match nested {
        Some(n) => (n.message, n.undefined),
        None => describe(&e),
    };
    let template = name.map(str::to_string);
    let message = match (&template, line) {
        (Some(t), Some(l)) => format!("{message} (in {t}, line {l})"),
        (Some(t), None) => format!("{message} (in {t})"),
        _ => message,
    };
    TemplateError {
        message,
        undefined,
        template,
        line,
    }
}

/// The error for a render that used up [`RENDER_FUEL`].
fn out_of_fuel() -> String {
    format!(
        "template rendering stopped after {RENDER_FUEL} steps (a loop that is far too long, or run for every use of a variable); make the loop smaller"
    )
}

/// The message and undefined name for a minijinja error, worded like Ansible.
fn describe(e: &minijinja::Error) -> (String, Option<String>) {
    let detail = e.detail().unwrap_or_default();
    if e.kind() == ErrorKind::UndefinedError
        && let Some(start) = detail.find('`')
        && let Some(len) = detail[start + 1..].find("` is undefined")
    {
        let name = &detail[start + 1..start + 1 + len];
        return (format!("'{name}' is undefined"), Some(name.to_string()));
    }
    if e.kind() == ErrorKind::UndefinedError {
        return (format!("undefined value: {detail}"), Some(String::new()));
    }
    if e.kind() == ErrorKind::OutOfFuel {
        return (out_of_fuel(), None);
    }
    let kind = e.kind().to_string();
    let message = if detail.is_empty() {
        kind
    } else if matches!(e.kind(), ErrorKind::InvalidOperation) {
        detail.to_string()
    } else {
        format!("{kind}: {detail}")
    };
    (message, None)
}
