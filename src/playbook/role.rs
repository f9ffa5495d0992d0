//! Roles: a folder with `tasks/`, `handlers/`, `templates/`, `files/`, `defaults/`, `vars/` and
//! `meta/` (dependencies), resolved like Ansible.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;
use crate::error::LoadError;
use crate::vars::Vars;
use crate::yaml::{self, Key, Mark, Node, NodeKind};

/// A loaded role (one instance: a role with other params is another instance).
#[derive(Debug, PartialEq)]
pub struct Role {
    /// The name the play used.
    pub name: String,
    /// The role folder.
    pub path: PathBuf,
    /// `defaults/main.yml` (lowest precedence of all variables).
    pub defaults: Vars,
    /// `vars/main.yml` (above play vars).
    pub vars: Vars,
    /// Role params (`- role: x` with extra keys, or `vars:` on the entry): above almost everything.
    pub params: Vars,
    /// `meta/main.yml` dependencies: (name, params, where).
    pub dependencies: Vec<(String, Vars, Mark)>,
    /// The roles whose `include_role`/`import_role` brought this one in, nearest first, with
    /// their folders (`ansible_parent_role_names`/`_paths`, as ansible-core's IncludeRole
    /// include params).
    pub parents: Vec<(String, PathBuf)>,
    /// The role's argument specs by entry point (`main`, a `tasks_from` name): the
    /// `argument_specs` of `meta/argument_specs.yml` (or `.yaml`), else of `meta/main.yml`.
    pub argument_specs: serde_json::Map<String, serde_json::Value>,
    /// Brought in by `include_role`/`import_role` (its `vars` are not role params, so the
    /// argument spec check has no provided arguments, as in ansible-core).
    pub included: bool,
    /// The names a `roles:` entry gave under `vars:` (in `params` too, but role variables to
    /// ansible-core, not role params).
    pub entry_vars: Vec<String>,
}

/// Roles a play references: each role's name with the names of all its dependencies.
pub type PlayRoles = Vec<(String, Vec<String>)>;

/// Which files of a role an `import_role` / `include_role` reads (`tasks_from`,
/// `handlers_from`, `vars_from`, `defaults_from`); `None` is `main`. Matches ansible-core's
/// role include options: a named file that does not exist is an error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleFiles {
    pub tasks: Option<String>,
    pub handlers: Option<String>,
    pub vars: Option<String>,
    pub defaults: Option<String>,
}

/// Finds `dir/NAME.yml`, `dir/NAME.yaml` or `dir/NAME` (a YAML file).
pub fn find_yaml(dir: &Path, name: &str) -> Option<PathBuf> {
    let direct = dir.join(name);
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        return direct.is_file().then_some(direct);
    }
    for ext in ["yml", "yaml"] {
        let p = dir.join(format!("{name}.{ext}"));
        if p.is_file() {
            return Some(p);
        }
    }
    direct.is_file().then_some(direct)
}

/// A role's `defaults/` or `vars/` file: `main` (absent: no variables) or the named one
/// (absent: an error naming it).
fn vars_file(dir: &Path, named: Option<&str>) -> Result<Vars, LoadError> {
    match find_yaml(dir, named.unwrap_or("main")) {
        None => match named {
            None => Ok(Vars::new()),
            Some(n) => Err(LoadError::File {
                path: dir.to_path_buf(),
                message: format!("could not find specified file in role: {n}"),
            }),
        },
        Some(p) => {
            let node = yaml::load_file(&p)?;
            super::vars_of(&node, "a vars file")
        }
    }
}

/// The keys of a role's `meta/main.yml` (ansible-core's `RoleMetadata`, plus `argument_specs`
/// that it reads from the same file).
const META_KEYS: &[&str] = &[
    "dependencies",
    "galaxy_info",
    "allow_duplicates",
    "collections",
    "argument_specs",
];

/// A role's `meta/main.yml`: a mapping (or empty) of [`META_KEYS`], `dependencies` a list.
fn check_meta(node: &Node) -> Result<(), LoadError> {
    let entries = match &node.kind {
        NodeKind::Null => return Ok(()),
        NodeKind::Map(entries) => entries,
        _ => {
            return Err(LoadError::at(
                &node.mark,
                format!(
                    "a role's meta/main.yml must be a mapping, not a {}",
                    node.type_name()
                ),
            ));
        }
    };
    for (k, v) in entries {
        if !META_KEYS.contains(&k.name.as_str()) {
            return Err(LoadError::at(
                &k.mark,
                format!(
                    "unknown key '{}' in a role's meta/main.yml (allowed: {})",
                    k.name,
                    META_KEYS.join(", ")
                ),
            ));
        }
        if k.name == "dependencies" && !matches!(v.kind, NodeKind::Seq(_) | NodeKind::Null) {
            return Err(LoadError::at(
                &v.mark,
                format!(
                    "dependencies must be a list of roles (names or mappings with 'role:'), not a {}",
                    v.type_name()
                ),
            ));
        }
    }
    Ok(())
}

impl Role {
    /// Loads a role folder's defaults, vars (`main`, or the files `from` names) and
    /// dependencies.
    pub fn load(name: &str, path: &Path, params: Vars, from: &RoleFiles) -> Result<Role, LoadError> {
        let defaults = vars_file(&path.join("defaults"), from.defaults.as_deref())?;
        let vars = vars_file(&path.join("vars"), from.vars.as_deref())?;
        let mut dependencies = Vec::new();
        let mut argument_specs = serde_json::Map::new();
        let specs_file = ["yml", "yaml"]
            .iter()
            .map(|e| path.join("meta").join(format!("argument_specs.{e}")))
            .find(|p| p.is_file());
        if let Some(f) = &specs_file {
            let node = yaml::load_file(f)?;
            if let Some(serde_json::Value::Object(m)) = node.get("argument_specs").map(Node::to_json) {
                argument_specs = m;
            }
        }
        if let Some(meta) = find_yaml(&path.join("meta"), "main") {
            let node = yaml::load_file(&meta)?;
            check_meta(&node)?;
            if specs_file.is_none()
                && let Some(serde_json::Value::Object(m)) = node.get("argument_specs").map(Node::to_json)
            {
                argument_specs = m;
            }
            if let Some(deps) = node.get("dependencies") {
                for d in deps.as_seq().unwrap_or_default() {
                    match &d.kind {
                        NodeKind::Str(s) => dependencies.push((s.clone(), Vars::new(), d.mark.clone())),
                        NodeKind::Map(_) => {
                            let mut p = super::vars_of(d, "a dependency")?;
                            let n = p
                                .remove("role")
                                .or_else(|| p.remove("name"))
                                .and_then(|v| v.as_str().map(str::to_string))
                                .ok_or_else(|| LoadError::at(&d.mark, "a dependency needs 'role:'"))?;
                            if let Some(serde_json::Value::Object(v)) = p.remove("vars") {
                                p.extend(v);
                            }
                            dependencies.push((n, p, d.mark.clone()));
                        }
                        _ => {
                            return Err(LoadError::at(
                                &d.mark,
                                "a dependency must be a role name or mapping",
                            ));
                        }
                    }
                }
            }
        }
        Ok(Role {
            name: name.to_string(),
            path: path.to_path_buf(),
            defaults,
            vars,
            params,
            dependencies,
            parents: Vec::new(),
            argument_specs,
            included: false,
            entry_vars: Vec::new(),
        })
    }
}

/// An `import_role` / `include_role` argument as written.
pub(super) struct RoleRef {
    pub(super) name: String,
    pub(super) from: RoleFiles,
    pub(super) vars: Vars,
    /// `apply:` (include_role only; ansible-core refuses it on import_role).
    pub(super) apply: Option<Node>,
}

/// An `import_role` / `include_role` argument (`action` names which): a name, or a mapping
/// with `name`, the `*_from` files, `vars`, `apply` (include_role), and the options talon does
/// not have yet (an error naming them).
pub(super) fn role_ref(value: &Node, action: &Key) -> Result<RoleRef, LoadError> {
    let mark = &action.mark;
    match &value.kind {
        NodeKind::Str(s) => Ok(RoleRef {
            name: s.clone(),
            from: RoleFiles::default(),
            vars: Vars::new(),
            apply: None,
        }),
        NodeKind::Map(m) => {
            let mut name = None;
            let mut files = RoleFiles::default();
            let mut vars = Vars::new();
            let mut apply = None;
            for (k, v) in m {
                match k.name.as_str() {
                    "name" | "role" => name = Some(scalar_string(v)?),
                    "tasks_from" => files.tasks = Some(scalar_string(v)?),
                    "handlers_from" => files.handlers = Some(scalar_string(v)?),
                    "vars_from" => files.vars = Some(scalar_string(v)?),
                    "defaults_from" => files.defaults = Some(scalar_string(v)?),
                    "vars" => vars.extend(vars_of(v, "vars")?),
                    // Matches ansible-core's TaskInclude.load: apply only on include_*.
                    "apply" if action.name.ends_with("include_role") => apply = Some(v.clone()),
                    "apply" => {
                        return Err(LoadError::at(
                            &k.mark,
                            format!("Invalid options for {}: apply", action.name),
                        ));
                    }
                    "public" | "allow_duplicates" => {
                        return Err(LoadError::at(
                            &k.mark,
                            format!(
                                "'{}' is not supported by talon's include_role/import_role yet",
                                k.name
                            ),
                        ));
                    }
                    other => return Err(LoadError::at(&k.mark, format!("unknown role option '{other}'"))),
                }
            }
            Ok(RoleRef {
                name: name.ok_or_else(|| LoadError::at(mark, "needs 'name:'"))?,
                from: files,
                vars,
                apply,
            })
        }
        _ => Err(LoadError::at(mark, "expected a role name or a mapping")),
    }
}

impl Loader {
    pub(super) fn role_entry(
        &self,
        entry: &Node,
        roles: &mut Vec<Arc<Role>>,
        tasks: &mut Vec<Task>,
        handlers: &mut Vec<Task>,
    ) -> Result<(), LoadError> {
        // Keys of the entry's `vars:`: role variables, not role params (the argument spec
        // check does not count them as provided arguments, as ansible-core).
        let mut entry_vars: Vec<String> = Vec::new();
        let (name, tags, when, params) = match &entry.kind {
            NodeKind::Str(s) => (s.clone(), Vec::new(), Vec::new(), Vars::new()),
            NodeKind::Map(m) => {
                let mut name = None;
                let mut tags = Vec::new();
                let mut when = Vec::new();
                let mut params = Vars::new();
                for (k, v) in m {
                    match k.name.as_str() {
                        "role" | "name" => name = Some(scalar_string(v)?),
                        "tags" => tags = string_list(v)?,
                        "when" => when = conditions(v)?,
                        "vars" => {
                            let v = vars_of(v, "vars")?;
                            entry_vars.extend(v.keys().cloned());
                            params.extend(v);
                        }
                        "become" | "become_user" | "environment" | "no_log" => {
                            return Err(LoadError::at(
                                &k.mark,
                                format!(
                                    "'{}' on a role entry is not supported yet: set it on the play or the role's tasks",
                                    k.name
                                ),
                            ));
                        }
                        _ => {
                            params.insert(k.name.clone(), v.to_json());
                        }
                    }
                }
                let name = name.ok_or_else(|| LoadError::at(&entry.mark, "a role entry needs 'role:'"))?;
                (name, tags, when, params)
            }
            _ => {
                return Err(LoadError::at(
                    &entry.mark,
                    "a role entry must be a name or a mapping",
                ));
            }
        };
        let mut role = self.load_role(&name, &params, &entry.mark)?;
        if let Some(r) = Arc::get_mut(&mut role) {
            r.entry_vars = entry_vars;
        }
        // Dependencies first (meta/main.yml), each once per play.
        let mut order = Vec::new();
        self.role_with_deps(&role, &mut order, None)?;
        self.note_play_role(&role)?;
        for r in order {
            if roles
                .iter()
                .any(|x: &Arc<Role>| x.path == r.path && x.params == r.params)
            {
                continue;
            }
            let children = self.role_tasks(&r, None, &entry.mark)?;
            let wrapper = Task {
                id: self.next_id(),
                mark: entry.mark.clone(),
                name: Some(format!("role {}", r.name)),
                tags: tags.clone(),
                when: when.clone(),
                action: Some(Action::Block {
                    block: children,
                    rescue: Vec::new(),
                    always: Vec::new(),
                }),
                ..Default::default()
            };
            tasks.push(wrapper);
            handlers.extend(self.role_handlers(&r, None, &entry.mark)?);
            roles.push(r);
        }
        Ok(())
    }

    /// `role` after its dependencies (depth first, each once); `at` is the dependency entry in
    /// the depending role's `meta/main.yml`. A cycle of dependencies is an error naming that
    /// entry and the chain of roles.
    pub(super) fn role_with_deps(
        &self,
        role: &Arc<Role>,
        out: &mut Vec<Arc<Role>>,
        at: Option<&Mark>,
    ) -> Result<(), LoadError> {
        self.imports
            .within(&role.path.join("meta"), Entry::Role(&role.name), at, || {
                for (dep, params, mark) in &role.dependencies {
                    // ansible-core's get_role_params: a dependency sees the parameters of the
                    // roles that depend on it, under its own.
                    let mut inherited = role.params.clone();
                    crate::vars::overlay(&mut inherited, params);
                    let d = self.load_role(dep, &inherited, mark)?;
                    self.role_with_deps(&d, out, Some(mark))?;
                }
                Ok(())
            })?;
        if !out.iter().any(|x| x.path == role.path && x.params == role.params) {
            out.push(role.clone());
        }
        Ok(())
    }

    /// The tasks of a role (`tasks/main.yml` or `tasks/<tasks_from>.yml`).
    pub fn role_tasks(
        &self,
        role: &Arc<Role>,
        tasks_from: Option<&str>,
        mark: &Mark,
    ) -> Result<Vec<Task>, LoadError> {
        let file = tasks_from.unwrap_or("main");
        let mut tasks = match role::find_yaml(&role.path.join("tasks"), file) {
            Some(p) => self.task_file_at(&p, Some(role), Some(mark))?,
            None if tasks_from.is_none() => Vec::new(),
            None => {
                return Err(LoadError::at(
                    mark,
                    format!("role '{}' has no tasks/{file}.yml", role.name),
                ));
            }
        };
        if let Some(t) = self.validation_task(role, file, mark) {
            tasks.insert(0, t);
        }
        Ok(tasks)
    }

    /// The task ansible-core's Role puts before a role's tasks when its argument specs have
    /// the entry point (`main` or the `tasks_from` name): `validate_argument_spec` with the
    /// entry point's `options`, the role params as provided arguments, named "Validating
    /// arguments against arg spec 'ENTRY' - SHORT_DESCRIPTION" and tagged `always`.
    fn validation_task(&self, role: &Arc<Role>, entry: &str, mark: &Mark) -> Option<Task> {
        // ansible-core keys the spec by the tasks_from value as written.
        let spec = role
            .argument_specs
            .get(entry)
            .filter(|s| !s.is_null() && s != &&serde_json::json!({}))?;
        let module = modules::lookup("validate_argument_spec")?;
        let mut name = format!("Validating arguments against arg spec '{entry}'");
        if let Some(d) = spec.get("short_description") {
            name.push_str(&format!(" - {}", crate::vars::as_string(d)));
        }
        let provided = if role.included {
            Vars::new()
        } else {
            let mut p = role.params.clone();
            p.retain(|k, _| !role.entry_vars.contains(k));
            p
        };
        let mut args = Vars::new();
        args.insert(
            "argument_spec".into(),
            spec.get("options")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({})),
        );
        args.insert("provided_arguments".into(), Value::Object(provided));
        args.insert(
            "validate_args_context".into(),
            serde_json::json!({
                "type": "role",
                "name": role.name,
                "argument_spec_name": entry,
                "path": role.path.display().to_string(),
            }),
        );
        Some(Task {
            id: self.next_id(),
            name: Some(name),
            mark: mark.clone(),
            action: Some(Action::Module { module, args }),
            tags: vec!["always".into()],
            role: Some(role.clone()),
            ..Default::default()
        })
    }

    /// The handlers of a role (`handlers/main.yml` or `handlers/<handlers_from>.yml`).
    pub(super) fn role_handlers(
        &self,
        role: &Arc<Role>,
        handlers_from: Option<&str>,
        mark: &Mark,
    ) -> Result<Vec<Task>, LoadError> {
        let file = handlers_from.unwrap_or("main");
        match role::find_yaml(&role.path.join("handlers"), file) {
            Some(p) => self.task_file(&p, Some(role)),
            None if handlers_from.is_none() => Ok(Vec::new()),
            None => Err(LoadError::at(
                mark,
                format!("role '{}' has no handlers/{file}.yml", role.name),
            )),
        }
    }

    /// Finds a role folder by name: an absolute folder; `NS.COLLECTION.ROLE` in a collection
    /// (`ansible_collections/NS/COLLECTION/roles/ROLE` under the playbook's `collections/` and
    /// each [`collections_path`] entry); else the roles path.
    pub fn find_role(&self, name: &str, mark: &Mark) -> Result<PathBuf, LoadError> {
        let direct = PathBuf::from(name);
        if direct.is_absolute() && direct.is_dir() {
            return Ok(direct);
        }
        let parts: Vec<&str> = name.split('.').collect();
        if let [ns, coll, role] = parts.as_slice() {
            let mut roots = vec![self.playbook_dir.join("collections")];
            roots.extend(collections_path());
            for root in roots {
                let base = if root.ends_with("ansible_collections") {
                    root
                } else {
                    root.join("ansible_collections")
                };
                let p = base.join(ns).join(coll).join("roles").join(role);
                if p.is_dir() {
                    return Ok(p);
                }
            }
        }
        for dir in &self.roles_path {
            let p = dir.join(name);
            if p.is_dir() {
                return Ok(p);
            }
        }
        Err(LoadError::at(
            mark,
            format!(
                "role '{name}' not found in {}",
                self.roles_path
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }

    /// Loads a role folder: defaults, vars, meta dependencies.
    /// Finds and loads a role with its `main` files.
    pub fn load_role(&self, name: &str, params: &Vars, mark: &Mark) -> Result<Arc<Role>, LoadError> {
        self.load_role_from(name, params, mark, &RoleFiles::default())
    }

    /// Finds and loads a role, reading the defaults and vars files `from` names.
    pub fn load_role_from(
        &self,
        name: &str,
        params: &Vars,
        mark: &Mark,
        from: &RoleFiles,
    ) -> Result<Arc<Role>, LoadError> {
        let path = self.find_role(name, mark)?;
        Ok(Arc::new(Role::load(name, &path, params.clone(), from)?))
    }

    /// [`Loader::load_role_from`] for an `include_role`/`import_role` inside the role `parent`.
    pub fn load_role_under(
        &self,
        name: &str,
        params: &Vars,
        mark: &Mark,
        from: &RoleFiles,
        parent: Option<&Arc<Role>>,
    ) -> Result<Arc<Role>, LoadError> {
        let path = self.find_role(name, mark)?;
        let mut role = Role::load(name, &path, params.clone(), from)?;
        role.included = true;
        if let Some(p) = parent {
            role.parents = std::iter::once((p.name.clone(), p.path.clone()))
                .chain(p.parents.iter().cloned())
                .collect();
        }
        Ok(Arc::new(role))
    }

    /// Records a role the play references (`roles:` entries and `import_role` at load time,
    /// `include_role` when it runs) with the names of all its dependencies, for
    /// `ansible_play_role_names` and `ansible_dependent_role_names`.
    pub fn note_play_role(&self, role: &Arc<Role>) -> Result<(), LoadError> {
        let mut order = Vec::new();
        self.role_with_deps(role, &mut order, None)?;
        let deps = order
            .iter()
            .filter(|r| !Arc::ptr_eq(r, role))
            .map(|r| r.name.clone())
            .collect();
        self.play_roles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((role.name.clone(), deps));
        Ok(())
    }

    /// The roles noted by [`Loader::note_play_role`] since the last call, in order.
    pub fn take_play_roles(&self) -> Vec<(String, Vec<String>)> {
        std::mem::take(&mut *self.play_roles.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// `$HOME`, or `/root` when unset.
fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from)
}

/// ansible-core's `DEFAULT_ROLES_PATH`: `ANSIBLE_ROLES_PATH` (colon-separated, `~` expanded)
/// when set, else `~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles`.
/// With ansible.cfg read for the run (src/ansible_cfg.rs), its resolved `roles_path` (CLI >
/// env > file > default).
pub fn default_roles_path() -> Vec<PathBuf> {
    if let Some(d) = crate::ansible_cfg::load_defaults() {
        return d.roles_path;
    }
    match std::env::var("ANSIBLE_ROLES_PATH") {
        Ok(v) if !v.is_empty() => split_paths(&v),
        _ => vec![
            home().join(".ansible").join("roles"),
            PathBuf::from("/usr/share/ansible/roles"),
            PathBuf::from("/etc/ansible/roles"),
        ],
    }
}

/// ansible-core's `COLLECTIONS_PATHS`: `ANSIBLE_COLLECTIONS_PATH` (or the older
/// `ANSIBLE_COLLECTIONS_PATHS`) when set, else
/// `~/.ansible/collections:/usr/share/ansible/collections`.
/// With ansible.cfg read for the run, its resolved `collections_path`.
pub fn collections_path() -> Vec<PathBuf> {
    if let Some(d) = crate::ansible_cfg::load_defaults() {
        return d.collections_path;
    }
    for var in ["ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return split_paths(&v);
        }
    }
    vec![
        home().join(".ansible").join("collections"),
        PathBuf::from("/usr/share/ansible/collections"),
    ]
}

/// A colon-separated path list with `~/` expanded.
fn split_paths(v: &str) -> Vec<PathBuf> {
    v.split(':')
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_prefix("~/") {
            Some(rest) => home().join(rest),
            None if s == "~" => home(),
            None => PathBuf::from(s),
        })
        .collect()
}
