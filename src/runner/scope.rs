//! Variable precedence: the scope a task sees, built from named layers in the README's order,
//! and the variables files (`vars_files`, `include_vars`) that feed it.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};

use super::error::TaskError;
use super::host::{HostState, Inherited};
use super::{PlayCtx, Runner};
use crate::playbook::vars_files;
use crate::playbook::{Action, Task};
use crate::template::{OMIT, Scope};
use crate::vars::{self, Vars};

impl<'a> Runner<'a> {
    pub(super) fn load_vars_files(&self, ctx: &PlayCtx<'_>, st: &mut HostState) -> Result<(), TaskError> {
        if ctx.play.vars_files.is_empty() {
            return Ok(());
        }
        let scope = self.scope_for(ctx, st, None, &Inherited::default(), &Vars::new());
        for candidates in &ctx.play.vars_files {
            let mut paths = Vec::with_capacity(candidates.len());
            for f in candidates {
                let name = self
                    .templater
                    .render_str(f, &scope)
                    .map_err(TaskError::template(format!("vars_files '{f}'")))?;
                paths.push(vars_files::play_vars_file(&self.pb.dir, &vars::as_string(&name)));
            }
            // One name is read (a missing file is the read's error); of alternatives, the
            // first that exists.
            let path = match paths.iter().find(|p| p.is_file()) {
                Some(p) => p.clone(),
                None if paths.len() == 1 => paths[0].clone(),
                None => {
                    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                    return Err(TaskError::Invalid(format!(
                        "none of the vars_files alternatives was found: {}",
                        names.join(", ")
                    )));
                }
            };
            let v = vars_files::read(&path)?;
            vars::overlay(&mut st.vars_files, &v);
        }
        Ok(())
    }

    pub(super) fn include_vars(&self, args: &Vars, scope: &Scope) -> Result<Vars, TaskError> {
        let base = args
            .get("__base")
            .and_then(Value::as_str)
            .map(PathBuf::from)
            .unwrap_or_else(|| self.pb.dir.clone());
        let mut clean = args.clone();
        clean.remove("__base");
        let rendered = self.render_args(&clean, scope)?;
        let file = rendered
            .get("file")
            .or_else(|| rendered.get("_raw_params"))
            .map(vars::as_string);
        let Some(file) = file else {
            return Err(TaskError::Invalid(
                "include_vars: give a file (dir: is not supported yet)".into(),
            ));
        };
        let path = vars_files::include_vars_file(&base, &self.pb.dir, &file)
            .ok_or_else(|| TaskError::Invalid(format!("include_vars: could not find '{file}'")))?;
        let v = vars_files::read(&path)?;
        Ok(match rendered.get("name").and_then(Value::as_str) {
            Some(n) => {
                let mut m = Vars::new();
                m.insert(n.to_string(), Value::Object(v));
                m
            }
            None => v,
        })
    }

    /// The variables a task sees, merged in Ansible's precedence order (low to high).
    pub(crate) fn scope_for(
        &self,
        ctx: &PlayCtx<'_>,
        st: &HostState,
        task: Option<&Task>,
        inh: &Inherited,
        item: &Vars,
    ) -> Scope {
        let mut v = ctx.role_defaults.clone();
        if let Some(r) = task.and_then(|t| t.role.as_ref()).or(inh.role.as_ref()) {
            vars::overlay(&mut v, &r.defaults);
        }
        vars::overlay(&mut v, &st.inv_vars);
        for (k, val) in &st.facts {
            v.insert(st.fact_var(k), val.clone());
        }
        // Defined (empty) before any facts are gathered, as in ansible-core.
        v.insert("ansible_facts".into(), Value::Object(st.facts.clone()));
        vars::overlay(&mut v, &ctx.play.vars);
        vars::overlay(&mut v, &st.vars_files);
        vars::overlay(&mut v, &ctx.role_vars);
        if let Some(r) = task.and_then(|t| t.role.as_ref()).or(inh.role.as_ref()) {
            vars::overlay(&mut v, &r.vars);
        }
        vars::overlay(&mut v, &inh.vars);
        if let Some(t) = task
            && !matches!(t.action, Some(Action::Block { .. }))
        {
            vars::overlay(&mut v, &t.vars);
        }
        vars::overlay(&mut v, &st.include_vars);
        vars::overlay(&mut v, &st.host_facts);
        if let Some(r) = task.and_then(|t| t.role.as_ref()).or(inh.role.as_ref()) {
            vars::overlay(&mut v, &r.params);
            v.insert("role_path".into(), json!(r.path.display().to_string()));
            v.insert("role_name".into(), json!(r.name));
        }
        vars::overlay(&mut v, &inh.params);
        vars::overlay(&mut v, &self.opts.extra_vars);
        // secrets: templates see opaque markers, never values (src/secrets/).
        vars::overlay(&mut v, &self.opts.secrets.marker_vars());
        vars::overlay(&mut v, item);
        v.insert("inventory_hostname".into(), json!(st.name));
        v.insert("playbook_dir".into(), json!(self.pb.dir.display().to_string()));
        v.insert("ansible_check_mode".into(), json!(self.opts.check));
        v.insert("ansible_diff_mode".into(), json!(self.opts.diff));
        v.insert("ansible_play_name".into(), json!(ctx.play.name));
        let (left, batch) = ctx.hosts_left();
        v.insert("ansible_play_hosts_all".into(), json!(ctx.play_hosts));
        v.insert("ansible_play_hosts".into(), json!(left));
        v.insert("ansible_play_batch".into(), json!(batch));
        let groups = self
            .groups
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        v.insert("groups".into(), groups);
        v.insert("omit".into(), json!(OMIT));
        let hostvars = self.hostvars.read().map(|h| h.clone()).unwrap_or_default();
        let search = match task {
            Some(t) => self.search_paths(t, inh),
            None => vec![self.pb.dir.clone()],
        };
        // Registered results are data unless a higher layer replaced the name.
        let higher = |k: &String| {
            task.and_then(|t| t.role.as_ref())
                .or(inh.role.as_ref())
                .is_some_and(|r| r.params.contains_key(k))
                || inh.params.contains_key(k)
                || self.opts.extra_vars.contains_key(k)
                || item.contains_key(k)
        };
        let raw = st.registered.iter().filter(|k| !higher(k)).cloned().collect();
        Scope::new(Arc::new(v))
            .with_hostvars(hostvars)
            .with_search_paths(search)
            .with_raw(raw)
    }
}
