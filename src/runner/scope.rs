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
use crate::template::{Scope, VarLayers};
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

    /// Runs `include_vars` as ansible-core's action does (errors: [`IncludeVarsError`]): `file` (or the free-form name),
    /// searched as [`vars_files::include_vars_file`]; or `dir` (in a role: the role's
    /// `vars/DIR`, or `DIR` under the role when it starts with `vars`; else beside the task's
    /// file) walked in sorted order to `depth` (0: all), its files filtered by
    /// `files_matching` (a regex searched in the name), `ignore_files` (regexes matched at the
    /// name's end), `extensions` (default yaml, yml, json; another extension fails unless
    /// `ignore_unknown_extensions`), a role's `vars/main.yml` left out; `name` puts the
    /// variables under one key. Returns the variables and the files read (absolute).
    ///
    /// Errors: a file that cannot be found or read, a folder that does not exist, a file whose
    /// root is not a mapping, a bad regex: the message ansible-core gives.
    pub(super) fn include_vars(
        &self,
        args: &Vars,
        scope: &Scope,
        role_path: Option<&std::path::Path>,
    ) -> Result<(Vars, Vec<String>), IncludeVarsError> {
        let base = args
            .get("__base")
            .and_then(Value::as_str)
            .map(PathBuf::from)
            .unwrap_or_else(|| self.pb.dir.clone());
        let mut clean = args.clone();
        clean.remove("__base");
        let rendered = self.render_args("include_vars", &clean, scope)?;
        let mut files = Vec::new();
        let mut out = Vars::new();
        if let Some(dir) = rendered.get("dir").map(vars::as_string) {
            let root = match role_path {
                Some(role) if dir.split('/').next() == Some("vars") && role.join(&dir).exists() => {
                    role.join(&dir)
                }
                Some(role) => role.join("vars").join(&dir),
                None => base.join(&dir),
            };
            let opts = vars_files::DirOptions::from_args(&rendered).map_err(TaskError::Invalid)?;
            let main = role_path.map(|r| r.join("vars").join("main.yml"));
            let (groups, error) = vars_files::dir_files(&root, &opts, main.as_deref());
            let last = groups.len();
            for (i, group) in groups.into_iter().enumerate() {
                let mut folder = Vars::new();
                for path in group {
                    let v = vars_files::read(&path).map_err(TaskError::from)?;
                    files.push(path.display().to_string());
                    vars::overlay(&mut folder, &v);
                }
                // The folder whose walk failed keeps its files listed but not its variables.
                if error.is_none() || i + 1 < last {
                    vars::overlay(&mut out, &folder);
                }
            }
            if let Some(message) = error {
                return Err(IncludeVarsError::Failed {
                    message,
                    facts: out,
                    files,
                });
            }
        } else {
            let file = rendered
                .get("file")
                .or_else(|| rendered.get("_raw_params"))
                .map(vars::as_string)
                .map(|f| f.trim_end_matches('\n').to_string());
            let Some(file) = file else {
                return Err(TaskError::Invalid("include_vars: give a file or a dir".into()).into());
            };
            let Some(path) = vars_files::include_vars_file(&base, &self.pb.dir, &file) else {
                return Err(IncludeVarsError::Failed {
                    message: format!("Could not find or access '{file}'"),
                    facts: Vars::new(),
                    files,
                });
            };
            out = vars_files::read(&path).map_err(TaskError::from)?;
            files.push(path.display().to_string());
        }
        Ok(match rendered.get("name").and_then(Value::as_str) {
            Some(n) => {
                let mut m = Vars::new();
                m.insert(n.to_string(), Value::Object(out));
                (m, files)
            }
            None => (out, files),
        })
    }

    /// The variables a task sees, in Ansible's precedence order (low to high), as four layers:
    /// role defaults and inventory variables; the host's facts (shared by its tasks, see
    /// [`HostState::fact_vars`]); everything above them up to the magic variables; and the
    /// play-wide magic variables that grow with the hosts (shared by the play's tasks, see
    /// [`PlayCtx::play_vars_layer`]). A name reads from the highest layer that has it, as one
    /// overlay of the layers in order would give.
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
        let below = Arc::new(std::mem::take(&mut v));
        vars::overlay(&mut v, &ctx.play.vars);
        vars::overlay(&mut v, &ctx.prompted);
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
            v.insert("ansible_role_name".into(), json!(r.name));
            if !r.parents.is_empty() {
                let (names, paths): (Vec<&String>, Vec<String>) = r
                    .parents
                    .iter()
                    .map(|(n, p)| (n, p.display().to_string()))
                    .unzip();
                v.insert("ansible_parent_role_names".into(), json!(names));
                v.insert("ansible_parent_role_paths".into(), json!(paths));
            }
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
        let (play_roles, deps) = ctx.role_names();
        let mut all: Vec<&String> = play_roles.iter().chain(deps.iter()).collect();
        all.sort();
        all.dedup();
        v.insert("ansible_role_names".into(), json!(all));
        v.insert("ansible_dependent_role_names".into(), json!(deps));
        v.insert("role_names".into(), json!(play_roles));
        v.insert("ansible_play_role_names".into(), json!(play_roles));
        v.insert("ansible_version".into(), ansible_version());
        v.insert("ansible_forks".into(), json!(self.opts.forks));
        v.insert("ansible_verbosity".into(), json!(self.opts.verbosity));
        let run_tags = if self.opts.tags.is_empty() {
            vec!["all".to_string()]
        } else {
            self.opts.tags.clone()
        };
        v.insert("ansible_run_tags".into(), json!(run_tags));
        v.insert("ansible_skip_tags".into(), json!(self.opts.skip_tags));
        if let Some(limit) = &self.opts.limit {
            v.insert("ansible_limit".into(), json!(limit));
        }
        if let Some(t) = task {
            // ansible-core's Task.get_search_path: the role's folder, then the task file's.
            let mut path = Vec::new();
            if let Some(r) = t.role.as_ref().or(inh.role.as_ref()) {
                path.push(r.path.display().to_string());
            }
            let file =
                std::path::absolute(t.mark.file.as_path()).unwrap_or_else(|_| t.mark.file.to_path_buf());
            let dir = file.parent().map(|d| d.display().to_string()).unwrap_or_default();
            if !path.contains(&dir) {
                path.push(dir);
            }
            v.insert("ansible_search_path".into(), json!(path));
        }
        let groups = self
            .groups
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        let play_layer = ctx.play_vars_layer(&groups);
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
        // Facts sit above the inventory (they replace its values) and below the play.
        Scope::layered(VarLayers::new([below, st.fact_vars(), Arc::new(v), play_layer]))
            .with_hostvars(hostvars)
            .with_search_paths(search)
            .with_raw(raw)
    }
}

/// The variables of a play that grow with its hosts (`groups`, `ansible_play_hosts_all`,
/// `ansible_play_hosts`, `ansible_play_batch`, and `omit`), built once and shared by every
/// task's scope until one of their sources changes.
#[derive(Debug)]
pub(crate) struct PlayLayer {
    groups: Arc<Value>,
    removed: Vec<String>,
    batch: Vec<String>,
    vars: Arc<Vars>,
}

impl PlayCtx<'_> {
    /// The variables every task of the play sees above all others: `ansible_play_hosts_all`,
    /// `ansible_play_hosts` and `ansible_play_batch` (the play's and the batch's hosts not
    /// removed, as ansible-core's VariableManager lists them), `groups` (the inventory's, as
    /// `groups` holds it now) and `omit`. Built again only when a host left the play, a new
    /// batch started or the inventory changed; shared otherwise (O(1) per task, not O(hosts)).
    pub(crate) fn play_vars_layer(&self, groups: &Arc<Value>) -> Arc<Vars> {
        let (Ok(removed), Ok(batch)) = (self.removed.lock(), self.batch.lock()) else {
            return Arc::new(self.build_play_layer(groups, &[], &[]));
        };
        let Ok(mut cache) = self.play_layer.lock() else {
            return Arc::new(self.build_play_layer(groups, &removed, &batch));
        };
        if let Some(c) = cache.as_ref()
            && Arc::ptr_eq(&c.groups, groups)
            && c.removed == *removed
            && c.batch == *batch
        {
            return c.vars.clone();
        }
        let vars = Arc::new(self.build_play_layer(groups, &removed, &batch));
        *cache = Some(PlayLayer {
            groups: groups.clone(),
            removed: removed.clone(),
            batch: batch.clone(),
            vars: vars.clone(),
        });
        vars
    }

    fn build_play_layer(&self, groups: &Value, removed: &[String], batch: &[String]) -> Vars {
        let left = |v: &[String]| -> Value {
            v.iter()
                .filter(|h| !removed.contains(h))
                .map(|h| Value::String(h.clone()))
                .collect()
        };
        let mut v = Vars::with_capacity(5);
        v.insert("ansible_play_hosts_all".into(), json!(self.play_hosts));
        v.insert("ansible_play_hosts".into(), left(&self.play_hosts));
        v.insert("ansible_play_batch".into(), left(batch));
        v.insert("groups".into(), groups.clone());
        v.insert("omit".into(), json!(crate::template::OMIT));
        v
    }
}

/// The ansible-core release whose behaviour talon follows (the reference of its compare tests).
pub const ANSIBLE_VERSION: (u32, u32, u32) = (2, 19, 14);

/// `ansible_version` as ansible-core sets it: `full`, `major`, `minor`, `revision`, `string`.
fn ansible_version() -> Value {
    let (major, minor, revision) = ANSIBLE_VERSION;
    let full = format!("{major}.{minor}.{revision}");
    json!({"full": full, "major": major, "minor": minor, "revision": revision, "string": full})
}

/// Why `include_vars` failed.
#[derive(Debug)]
pub(super) enum IncludeVarsError {
    /// ansible-core's action result fails: `message`, with the variables and files it read
    /// before (they are reported, not applied).
    Failed {
        message: String,
        facts: Vars,
        files: Vec<String>,
    },
    /// A template, a vars file's syntax, ...: the task fails as any other.
    Task(TaskError),
}

impl From<TaskError> for IncludeVarsError {
    fn from(e: TaskError) -> Self {
        IncludeVarsError::Task(e)
    }
}
