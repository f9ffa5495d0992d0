//! The variable scope as minijinja objects: variables are converted lazily on lookup, and a
//! string that is itself a template is rendered when used (Ansible's lazy variable templating),
//! recursively, with a guard against cycles.
//!
//! Nothing is converted up front: a render touches only the variables it reads, so the cost of a
//! render does not grow with the number of variables a host has.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value as MjValue, ValueKind};
use serde_json::Value;

use super::{
    Engine, HostVars, MAX_NESTED_RENDERS, MAX_OUTPUT_BYTES, OMIT, RENDER_FUEL, TemplateError, VarLayers,
    is_template, out_of_fuel, to_mj_error,
};

/// How deep lazily templated variables may nest before we call it a loop.
const MAX_DEPTH: usize = 64;

/// How deep `lookup('template')` may nest (a template that looks itself up never ends).
pub(crate) const MAX_TEMPLATE_LOOKUP_DEPTH: usize = 32;

/// The mark of a template lookup in [`Ctx::chain`].
const LOOKUP_PREFIX: &str = "lookup('template', ";

/// The hidden variable through which lookups find the render's context.
pub(crate) const SCOPE_KEY: &str = "__talon_scope__";

/// One render's context: the variables, and the chain of variables being rendered right now.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub engine: Arc<Engine>,
    pub vars: VarLayers,
    pub hostvars: Option<Arc<HostVars>>,
    pub search_paths: Arc<Vec<PathBuf>>,
    /// Top-level variables that are data, never templated ([`crate::template::Scope::raw`]).
    pub raw: Arc<HashSet<String>>,
    /// Paths of the templated variables being rendered, outermost first (`a`, `b.c`).
    pub chain: Vec<String>,
    /// The limits of the top-level render this context belongs to.
    pub budget: Arc<Budget>,
}

/// What one top-level render (with every variable it renders lazily, and `lookup('template')`)
/// may use: [`MAX_NESTED_RENDERS`] nested renders, [`MAX_OUTPUT_BYTES`] of output and
/// [`RENDER_FUEL`] steps of the text renders among them. The first
/// limit hit is remembered, so the error that reaches the user names it even after minijinja
/// wrapped it.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    renders: AtomicU64,
    output: AtomicU64,
    fuel: AtomicU64,
    exceeded: Mutex<Option<String>>,
}

impl Budget {
    /// Counts one nested variable render.
    fn charge_render(&self) -> Result<(), TemplateError> {
        if self.renders.fetch_add(1, Ordering::Relaxed) >= MAX_NESTED_RENDERS {
            return Err(self.fail(format!(
                "template rendering stopped: more than {MAX_NESTED_RENDERS} templated variables rendered for one value \
                 (variables that use each other many times over grow without bound); simplify the variables"
            )));
        }
        Ok(())
    }

    /// Counts `bytes` of output (a render's text, or a string an expression produced).
    pub fn charge_output(&self, bytes: u64) -> Result<(), TemplateError> {
        let before = self.output.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > MAX_OUTPUT_BYTES {
            return Err(self.fail(format!(
                "template rendering stopped: the output passed {} MiB (counting the variables it renders); \
                 check for loops or variables that repeat large values",
                MAX_OUTPUT_BYTES / (1024 * 1024)
            )));
        }
        Ok(())
    }

    /// Counts the steps one finished text render took.
    pub fn charge_fuel(&self, steps: u64) -> Result<(), TemplateError> {
        let before = self.fuel.fetch_add(steps, Ordering::Relaxed);
        if before.saturating_add(steps) > RENDER_FUEL {
            return Err(self.fail(out_of_fuel()));
        }
        Ok(())
    }

    fn fail(&self, message: String) -> TemplateError {
        if let Ok(mut e) = self.exceeded.lock()
            && e.is_none()
        {
            *e = Some(message.clone());
        }
        TemplateError::msg(message)
    }

    /// The limit that was hit, if any, as the error to report.
    pub fn exceeded(&self) -> Option<TemplateError> {
        self.exceeded
            .lock()
            .ok()
            .and_then(|e| e.clone())
            .map(TemplateError::msg)
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

impl Ctx {
    /// The context for rendering the variable at `path`, or a loop/depth error.
    fn enter(self: &Arc<Self>, path: String) -> Result<Arc<Ctx>, TemplateError> {
        if self.chain.contains(&path) || self.chain.len() >= MAX_DEPTH {
            let mut chain = self.chain.clone();
            chain.push(path);
            return Err(TemplateError::msg(format!(
                "recursive loop detected in template: {} (a variable refers to itself)",
                chain.join(" -> ")
            )));
        }
        self.budget.charge_render()?;
        Ok(self.pushed(path))
    }

    /// The same context with `label` at the end of its chain.
    fn pushed(self: &Arc<Self>, label: String) -> Arc<Ctx> {
        let mut chain = self.chain.clone();
        chain.push(label);
        Arc::new(Ctx {
            engine: self.engine.clone(),
            vars: self.vars.clone(),
            hostvars: self.hostvars.clone(),
            search_paths: self.search_paths.clone(),
            raw: self.raw.clone(),
            chain,
            budget: self.budget.clone(),
        })
    }

    /// The context for rendering the template file at `path` from `lookup('template')`, or an
    /// error with the chain of lookups once [`MAX_TEMPLATE_LOOKUP_DEPTH`] are open; the template
    /// sees `vars` (this context's variables plus ansible-core's template variables).
    pub(crate) fn enter_template(
        self: &Arc<Self>,
        path: &str,
        vars: VarLayers,
    ) -> Result<Arc<Ctx>, TemplateError> {
        let open = self.chain.iter().filter(|c| c.starts_with(LOOKUP_PREFIX)).count();
        let label = format!("{LOOKUP_PREFIX}'{path}')");
        if open >= MAX_TEMPLATE_LOOKUP_DEPTH {
            let first = self.chain.iter().find(|c| c.starts_with(LOOKUP_PREFIX));
            return Err(TemplateError::msg(format!(
                "lookup('template') nested deeper than {MAX_TEMPLATE_LOOKUP_DEPTH} levels (a template that looks itself up?): {} -> ... -> {label}",
                first.map_or("", String::as_str)
            )));
        }
        // Not `enter`: the same template may be looked up inside itself (up to the limit), as a
        // variable may not.
        self.budget.charge_render()?;
        let mut inner = self.pushed(label);
        if let Some(ctx) = Arc::get_mut(&mut inner) {
            ctx.vars = vars;
        }
        Ok(inner)
    }

    /// The same context over another host's variables (for `hostvars[name]`).
    fn for_host(self: &Arc<Self>, vars: VarLayers) -> Arc<Ctx> {
        Arc::new(Ctx {
            engine: self.engine.clone(),
            vars,
            hostvars: self.hostvars.clone(),
            search_paths: self.search_paths.clone(),
            raw: Arc::new(HashSet::new()),
            chain: self.chain.clone(),
            budget: self.budget.clone(),
        })
    }

    /// Whether the value at `path` (in this host's own variables) is data that is never
    /// templated: inside a registered result, as ansible-core marks task results unsafe.
    fn is_raw(&self, prefix: &str, path: &[Seg]) -> bool {
        prefix.is_empty() && matches!(path.first(), Some(Seg::Key(k)) if self.raw.contains(k))
    }

    /// Renders a templated variable string found at `path`.
    fn render_var(self: &Arc<Self>, path: String, s: &str) -> Result<MjValue, TemplateError> {
        let inner = self.enter(path)?;
        inner.engine.render_native(&inner, s)
    }
}

/// The root object of a render: variable name -> value, plus `omit`, `vars`, `hostvars`.
#[derive(Debug)]
pub(crate) struct ScopeObj {
    pub ctx: Arc<Ctx>,
    /// Prefix for paths in loop errors (`hostvars[web1].`).
    prefix: String,
}

impl ScopeObj {
    pub fn new(ctx: Arc<Ctx>) -> Self {
        ScopeObj {
            ctx,
            prefix: String::new(),
        }
    }
}

impl Object for ScopeObj {
    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        let key = key.as_str()?;
        if let Some(v) = self.ctx.vars.get(key) {
            return Some(convert(&self.ctx, &self.prefix, &[Seg::Key(key.to_string())], v));
        }
        match key {
            "omit" => Some(MjValue::from(OMIT)),
            "vars" => Some(MjValue::from_dyn_object(self.clone())),
            SCOPE_KEY => Some(MjValue::from_dyn_object(self.clone())),
            "hostvars" => self.ctx.hostvars.as_ref().map(|_| {
                MjValue::from_object(HostvarsObj {
                    ctx: self.ctx.clone(),
                })
            }),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.ctx.vars.keys().map(|k| MjValue::from(k.as_str())).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.ctx.vars.len())
    }
}

/// `hostvars`: inventory name -> that host's variables (templated against that host).
#[derive(Debug)]
struct HostvarsObj {
    ctx: Arc<Ctx>,
}

impl Object for HostvarsObj {
    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        let name = key.as_str()?;
        let vars = self.ctx.hostvars.as_ref()?.get(name)?.clone();
        Some(MjValue::from_object(ScopeObj {
            ctx: self.ctx.for_host(vars),
            prefix: format!("hostvars[{name}]."),
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match &self.ctx.hostvars {
            Some(h) => Enumerator::Values(h.keys().map(|k| MjValue::from(k.as_str())).collect()),
            None => Enumerator::Empty,
        }
    }
}

/// One step from a variable into its value.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn path_string(prefix: &str, path: &[Seg]) -> String {
    let mut s = prefix.to_string();
    for (i, seg) in path.iter().enumerate() {
        match seg {
            Seg::Key(k) if i == 0 => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(n) => {
                s.push('[');
                s.push_str(&n.to_string());
                s.push(']');
            }
        }
    }
    s
}

/// A JSON value as a minijinja value: scalars directly, containers as lazy objects, templated
/// strings rendered (errors become invalid values, which fail the render that touches them).
fn convert(ctx: &Arc<Ctx>, prefix: &str, path: &[Seg], v: &Value) -> MjValue {
    match v {
        Value::Null => MjValue::from(()),
        Value::Bool(b) => MjValue::from(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                MjValue::from(i)
            } else if let Some(u) = n.as_u64() {
                MjValue::from(u)
            } else {
                MjValue::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) if is_template(s) && !ctx.is_raw(prefix, path) => {
            match ctx.render_var(path_string(prefix, path), s) {
                Ok(v) => v,
                Err(e) => MjValue::from(to_mj_error(e)),
            }
        }
        Value::String(s) => MjValue::from(s.as_str()),
        Value::Array(_) | Value::Object(_) => MjValue::from_object(LazyNode {
            ctx: ctx.clone(),
            prefix: prefix.to_string(),
            path: path.to_vec(),
        }),
    }
}

/// A list or mapping inside a variable, read on demand from the shared variables.
#[derive(Debug)]
pub(crate) struct LazyNode {
    ctx: Arc<Ctx>,
    prefix: String,
    path: Vec<Seg>,
}

impl LazyNode {
    /// The JSON value this node stands for.
    fn node(&self) -> Option<&Value> {
        let mut it = self.path.iter();
        let mut cur = match it.next()? {
            Seg::Key(k) => self.ctx.vars.get(k)?,
            Seg::Index(_) => return None,
        };
        for seg in it {
            cur = match (seg, cur) {
                (Seg::Key(k), Value::Object(m)) => m.get(k)?,
                (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    fn child(&self, seg: Seg, v: &Value) -> MjValue {
        let mut path = self.path.clone();
        path.push(seg);
        convert(&self.ctx, &self.prefix, &path, v)
    }

    /// The node as plain JSON, templated strings rendered.
    fn materialize(&self) -> Result<Value, minijinja::Error> {
        let node = self.node().unwrap_or(&Value::Null);
        self.materialize_at(&self.path, node)
    }

    fn materialize_at(&self, path: &[Seg], v: &Value) -> Result<Value, minijinja::Error> {
        Ok(match v {
            Value::String(s) if is_template(s) && !self.ctx.is_raw(&self.prefix, path) => {
                let rendered = self
                    .ctx
                    .render_var(path_string(&self.prefix, path), s)
                    .map_err(to_mj_error)?;
                to_json(&rendered)?
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let mut p = path.to_vec();
                    p.push(Seg::Index(i));
                    out.push(self.materialize_at(&p, item)?);
                }
                Value::Array(out)
            }
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (k, item) in map {
                    let mut p = path.to_vec();
                    p.push(Seg::Key(k.clone()));
                    out.insert(k.clone(), self.materialize_at(&p, item)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
}

impl Object for LazyNode {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.node() {
            Some(Value::Array(_)) => ObjectRepr::Seq,
            _ => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        match self.node()? {
            Value::Object(m) => {
                let k = key.as_str()?;
                m.get(k).map(|v| self.child(Seg::Key(k.to_string()), v))
            }
            Value::Array(a) => {
                let i = key.as_i64()?;
                let i = if i < 0 { i + a.len() as i64 } else { i };
                let i = usize::try_from(i).ok()?;
                a.get(i).map(|v| self.child(Seg::Index(i), v))
            }
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.node() {
            Some(Value::Object(m)) => {
                Enumerator::Values(m.keys().map(|k| MjValue::from(k.as_str())).collect())
            }
            Some(Value::Array(a)) => Enumerator::Seq(a.len()),
            _ => Enumerator::Empty,
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        match self.node() {
            Some(Value::Object(m)) => Some(m.len()),
            Some(Value::Array(a)) => Some(a.len()),
            _ => Some(0),
        }
    }
}

/// A minijinja value as JSON (templated strings inside lazy variables rendered). Undefined
/// values are errors; bytes become (lossy) strings; other objects their string form.
pub(crate) fn to_json(v: &MjValue) -> Result<Value, minijinja::Error> {
    if let Some(node) = v.downcast_object_ref::<LazyNode>() {
        return node.materialize();
    }
    if let Some(dt) = v.downcast_object_ref::<super::filters::datetime::PyDateTime>() {
        // ansible-core's JSON encoder writes a datetime as its isoformat().
        return Ok(Value::String(dt.isoformat('T')));
    }
    Ok(match v.kind() {
        ValueKind::Undefined => {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::UndefinedError,
                "an undefined value is part of the result",
            ));
        }
        ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(v.is_true()),
        ValueKind::Number => {
            if let Some(i) = v.as_i64().filter(|_| v.is_integer()) {
                Value::from(i)
            } else {
                serde_json::to_value(v).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
                })?
            }
        }
        ValueKind::String => Value::String(v.as_str().unwrap_or_default().to_string()),
        ValueKind::Bytes => {
            Value::String(String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned())
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let mut out = Vec::new();
            for item in v.try_iter()? {
                out.push(to_json(&item)?);
            }
            Value::Array(out)
        }
        ValueKind::Map => {
            let mut out = serde_json::Map::new();
            for key in v.try_iter()? {
                let val = v.get_item(&key)?;
                let k = match key.as_str() {
                    Some(s) => s.to_string(),
                    None => key.to_string(),
                };
                out.insert(k, to_json(&val)?);
            }
            Value::Object(out)
        }
        ValueKind::Invalid => {
            // Serialising an invalid value reports the error it carries.
            return Err(match serde_json::to_value(v) {
                Err(e) => minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()),
                Ok(_) => minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, "invalid value"),
            });
        }
        _ => Value::String(v.to_string()),
    })
}

/// An undefined value inside a native result (`{{ [1, x] }}`) reaches the end without its
/// name; ansible-core names it ("'x' is undefined"): the first variable the template uses
/// that the scope does not define, by where it appears in `text`.
pub(super) fn name_undefined(
    env: &minijinja::Environment<'_>,
    e: TemplateError,
    text: &str,
    scope: &super::Scope,
) -> TemplateError {
    if e.undefined.as_deref() != Some("") {
        return e;
    }
    let Ok(t) = env.template_from_str(text) else {
        return e;
    };
    let mut missing: Vec<(usize, String)> = t
        .undeclared_variables(false)
        .into_iter()
        .filter(|n| !scope.vars.contains_key(n) && env.globals().all(|(g, _)| g != n.as_str()))
        .filter_map(|n| text.find(n.as_str()).map(|at| (at, n)))
        .collect();
    missing.sort();
    match missing.into_iter().next() {
        Some((_, name)) => TemplateError {
            message: format!("'{name}' is undefined"),
            undefined: Some(name),
            ..e
        },
        None => e,
    }
}
