//! Tasks: the task keywords (strict), the action a task names (a module with its arguments
//! checked against the module's spec, or a runner action: block, include/import, set_fact,
//! include_vars, meta, ...), loops and their controls.

use super::findings::Finding;
use super::role::role_ref;
use super::*;

pub(super) const TASK_KEYS: &[&str] = &[
    "name",
    "when",
    "loop",
    "with_items",
    "with_list",
    "loop_control",
    "register",
    "notify",
    "listen",
    "changed_when",
    "failed_when",
    "ignore_errors",
    "tags",
    "become",
    "become_user",
    "become_method",
    "no_log",
    "vars",
    "environment",
    "block",
    "rescue",
    "always",
    "run_once",
    "delegate_to",
    "delegate_facts",
    "connection",
    "remote_user",
    "retries",
    "until",
    "delay",
    "args",
    "check_mode",
    "diff",
    "collections",
    "action",
    "local_action",
    "async",
    "poll",
    "throttle",
    "timeout",
    "ignore_unreachable",
    "any_errors_fatal",
];

/// Actions the runner handles itself (not modules in [`modules::REGISTRY`]).
pub(super) const RUNNER_ACTIONS: &[&str] = &[
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "set_fact",
    "group_by",
    "add_host",
    "include_vars",
    "meta",
    "gather_facts",
    "setup",
    "import_playbook",
];

/// `include_vars`' options as ansible-core's action checks them: file (or free-form) or dir
/// with its options, plus name and hash_behaviour.
fn include_vars_options(args: &Vars, mark: &Mark) -> Result<(), LoadError> {
    const DIR: &[&str] = &[
        "dir",
        "depth",
        "files_matching",
        "ignore_files",
        "extensions",
        "ignore_unknown_extensions",
    ];
    const FILE: &[&str] = &["file", "_raw_params"];
    let (mut dirs, mut files) = (0, 0);
    for k in args.keys() {
        if DIR.contains(&k.as_str()) {
            dirs += 1;
        } else if FILE.contains(&k.as_str()) {
            files += 1;
        } else if k == "hash_behaviour" {
            return Err(LoadError::at(
                mark,
                "include_vars: talon does not support hash_behaviour (variables replace, as with the default)",
            ));
        } else if k != "name" {
            return Err(LoadError::at(
                mark,
                format!("{k} is not a valid option in include_vars"),
            ));
        }
    }
    if dirs > 0 && files > 0 {
        return Err(LoadError::at(
            mark,
            "You are mixing file only and dir only arguments, these are incompatible",
        ));
    }
    Ok(())
}

/// A task has one loop: a second of `loop`/`with_*` is an error, as in ansible-core.
fn no_second_loop(task: &Task, key: &Key) -> Result<(), LoadError> {
    if task.loop_.is_some() {
        return Err(LoadError::at(
            &key.mark,
            format!(
                "'{}': a task has only one loop (loop, with_items or another with_<lookup>)",
                key.name
            ),
        ));
    }
    Ok(())
}

pub(super) fn strip_builtin(name: &str) -> &str {
    modules::short_name(name)
}

pub(super) fn loop_control(node: &Node) -> Result<LoopControl, LoadError> {
    let mut lc = LoopControl::default();
    let entries = node
        .as_map()
        .ok_or_else(|| LoadError::at(&node.mark, "loop_control must be a mapping"))?;
    for (k, v) in entries {
        match k.name.as_str() {
            "loop_var" => lc.loop_var = Some(scalar_string(v)?),
            "index_var" => lc.index_var = Some(scalar_string(v)?),
            "label" => lc.label = Some(scalar_string(v)?),
            "pause" => {
                lc.pause = Some(match &v.kind {
                    NodeKind::Int(i) => *i as f64,
                    NodeKind::Float(f) => *f,
                    _ => {
                        return Err(LoadError::at(
                            &v.mark,
                            "loop_control.pause must be a number of seconds",
                        ));
                    }
                })
            }
            "extended" => lc.extended = bool_of(v, "extended")?,
            other => {
                return Err(LoadError::at(
                    &k.mark,
                    format!(
                        "unknown loop_control key '{other}' (talon supports loop_var, index_var, label, pause, extended)"
                    ),
                ));
            }
        }
    }
    Ok(lc)
}

/// The module and arguments an `action:` or `local_action:` value names, as ansible-core's
/// ModuleArgsParser reads them: `module k=v ...` (the first word is the module, the rest its
/// free-form arguments) or a mapping with `module:` and the arguments (deprecated in 2.19).
fn action_keyword(k: &Key, v: &Node) -> Result<(Key, Node), LoadError> {
    let key = |name: &str| Key {
        name: name.to_string(),
        mark: v.mark.clone(),
    };
    match &v.kind {
        NodeKind::Str(s) => {
            let s = s.trim_start();
            let (module, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
            if module.is_empty() {
                return Err(LoadError::at(&v.mark, format!("'{}' names no module", k.name)));
            }
            let rest = rest.trim_start();
            let kind = if rest.is_empty() {
                NodeKind::Null
            } else {
                NodeKind::Str(rest.to_string())
            };
            Ok((
                key(module),
                Node {
                    mark: v.mark.clone(),
                    kind,
                },
            ))
        }
        NodeKind::Map(entries) => {
            let Some(module) = v.get("module") else {
                return Err(LoadError::at(
                    &v.mark,
                    format!("'{}' as a mapping needs a 'module' key naming the module", k.name),
                ));
            };
            let rest = entries
                .iter()
                .filter(|(ek, _)| ek.name != "module")
                .cloned()
                .collect::<Vec<_>>();
            let kind = if rest.is_empty() {
                NodeKind::Null
            } else {
                NodeKind::Map(rest)
            };
            Ok((
                key(&scalar_string(module)?),
                Node {
                    mark: v.mark.clone(),
                    kind,
                },
            ))
        }
        _ => Err(LoadError::at(
            &v.mark,
            format!("'{}' must be a string (`module k=v ...`) or a mapping", k.name),
        )),
    }
}

pub(super) fn unknown_action_message(name: &str) -> String {
    let mut known: Vec<&str> = modules::REGISTRY.iter().map(|m| m.name).collect();
    known.extend(RUNNER_ACTIONS.iter().filter(|a| **a != "import_playbook"));
    known.sort_unstable();
    format!(
        "unknown module or keyword '{name}': talon does not support it (modules: {}; keywords: {})",
        known.join(", "),
        TASK_KEYS.join(", ")
    )
}

pub(super) fn import_target(value: &Node, mark: &Mark) -> Result<String, LoadError> {
    match &value.kind {
        NodeKind::Str(s) => Ok(s.clone()),
        NodeKind::Map(_) => match value.get("file") {
            Some(f) => scalar_string(f),
            None => Err(LoadError::at(mark, "expected a file name or 'file:'")),
        },
        _ => Err(LoadError::at(mark, "expected a file name")),
    }
}

/// Resolves a task file like Ansible: relative to the including file, then to the role's
/// `tasks/` folder.
pub fn resolve_task_file(base: &Path, role: Option<&Arc<Role>>, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    let candidate = base.join(p);
    if candidate.exists() {
        return candidate;
    }
    if let Some(r) = role {
        let c = r.path.join("tasks").join(p);
        if c.exists() {
            return c;
        }
    }
    candidate
}

pub(super) fn wrap_import(e: LoadError, mark: &Mark) -> LoadError {
    match e {
        LoadError::Yaml(crate::yaml::YamlError::Read { path, source }) => LoadError::at(
            mark,
            format!("cannot read the imported file {}: {source}", path.display()),
        ),
        other => other,
    }
}

/// Checks a task's module arguments as written against the module's spec: every key must be
/// an argument (or an alias) the module takes, mutually exclusive arguments must not be given
/// together, and a value written literally (no template in it) must fit its argument's type and
/// choices. ansible-core finds these only when the task runs (and never in a skipped task), so
/// they are findings ([`super::findings`]), each at `mark` or at the argument's own place.
pub(super) fn check_module_args<'m>(
    info: &modules::ModuleInfo,
    args: &Vars,
    mark: &'m Mark,
    mark_of: impl Fn(&str) -> &'m Mark,
) -> Vec<Finding> {
    let spec = &info.spec;
    let mut out = Vec::new();
    for (name, value) in args {
        let Some(def) = spec.find(name) else {
            // A passthrough module's other arguments are for the module it runs to judge.
            if !(spec.free_form && name == "_raw_params" || spec.passthrough) {
                out.push(Finding::at(
                    mark,
                    format!(
                        "module '{}' does not take the argument '{}' (it takes: {})",
                        info.name,
                        name,
                        spec.names().join(", ")
                    ),
                ));
            }
            continue;
        };
        if let Err(e) = modules::spec::ArgSpec::check_literal(def, value) {
            out.push(Finding::at(mark_of(name), format!("module '{}': {e}", info.name)));
        }
    }
    if let Some(both) = spec.conflict(|k| spec.value(args, k).is_some()) {
        out.push(Finding::at(
            mark,
            format!(
                "module '{}': parameters are mutually exclusive: {both}",
                info.name
            ),
        ));
    }
    if spec.free_form && args.is_empty() {
        out.push(Finding::at(
            mark,
            format!("module '{}' needs a command", info.name),
        ));
    }
    out
}

/// Module arguments from a task: a mapping, a free-form string, plus an `args:` mapping.
pub(super) fn module_args(module: &str, value: &Node, args_kw: Option<&Node>) -> Result<Vars, LoadError> {
    let free_form = modules::lookup(module).map(|m| m.spec.free_form).unwrap_or(false);
    let mut args = match &value.kind {
        NodeKind::Null => Vars::new(),
        NodeKind::Map(_) => vars_of(value, "module arguments")?,
        NodeKind::Str(s) => parse_kv(s, free_form).map_err(|m| LoadError::at(&value.mark, m))?,
        NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_) if free_form => {
            let mut m = Vars::new();
            m.insert("_raw_params".into(), Value::String(scalar_string(value)?));
            m
        }
        _ => {
            return Err(LoadError::at(
                &value.mark,
                format!("arguments of '{module}' must be a mapping or k=v text"),
            ));
        }
    };
    if let Some(extra) = args_kw {
        args.extend(vars_of(extra, "args")?);
    }
    Ok(args)
}

impl Loader {
    /// Loads a list of tasks from a node (a task file's root or a `tasks:` section).
    pub fn task_list(
        &self,
        node: &Node,
        base: &Path,
        role: Option<&Arc<Role>>,
    ) -> Result<Vec<Task>, LoadError> {
        match &node.kind {
            NodeKind::Null => Ok(Vec::new()),
            NodeKind::Seq(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.task(item, base, role)?);
                }
                Ok(out)
            }
            _ => Err(LoadError::at(
                &node.mark,
                format!("expected a list of tasks, found a {}", node.type_name()),
            )),
        }
    }

    /// Loads a task file (for `import_tasks`, `include_tasks` and roles).
    ///
    /// Errors: as [`load`], including a cycle of imports through this file.
    pub fn task_file(&self, path: &Path, role: Option<&Arc<Role>>) -> Result<Vec<Task>, LoadError> {
        self.task_file_at(path, role, None)
    }

    /// [`Loader::task_file`] for the import statement at `at`.
    pub(super) fn task_file_at(
        &self,
        path: &Path,
        role: Option<&Arc<Role>>,
        at: Option<&Mark>,
    ) -> Result<Vec<Task>, LoadError> {
        self.imports.within(path, Entry::File, at, || {
            let node = yaml::load_file(path)?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            self.task_list(&node, &base, role)
        })
    }

    /// One task entry; static imports expand into several tasks (returned as one block).
    pub(super) fn task(
        &self,
        node: &Node,
        base: &Path,
        role: Option<&Arc<Role>>,
    ) -> Result<Vec<Task>, LoadError> {
        let entries = node
            .as_map()
            .ok_or_else(|| LoadError::at(&node.mark, "a task must be a mapping"))?;
        let mut task = Task {
            id: self.next_id(),
            mark: node.mark.clone(),
            role: role.cloned(),
            ..Default::default()
        };
        // `action:` / `local_action:` name the module inside their value: read it first, so
        // the module key and arguments can be borrowed like any other task's.
        let written_action = match entries
            .iter()
            .filter(|(k, _)| k.name == "action" || k.name == "local_action")
            .collect::<Vec<_>>()
            .as_slice()
        {
            [] => None,
            [(k, v)] => Some(action_keyword(k, v)?),
            [_, (k, _), ..] => {
                return Err(LoadError::at(
                    &k.mark,
                    "action and local_action are mutually exclusive",
                ));
            }
        };
        let mut action: Option<(&Key, &Node)> = None;
        let mut args_kw: Option<&Node> = None;
        let mut block: Option<(&Node, Option<&Node>, Option<&Node>)> = None;
        for (k, v) in entries {
            let key = k.name.as_str();
            match key {
                "when" | "changed_when" | "failed_when" | "until" => checks::condition_syntax(v)?,
                "block" | "rescue" | "always" => {}
                _ => checks::jinja_syntax(v)?,
            }
            match key {
                "name" => task.name = Some(scalar_string(v)?),
                "when" => task.when = conditions(v)?,
                "loop" | "with_list" | "with_items" => {
                    no_second_loop(&task, k)?;
                    task.loop_ = Some(v.to_json());
                    task.loop_flatten = key == "with_items";
                }
                with if with.starts_with("with_") => {
                    no_second_loop(&task, k)?;
                    let lookup = &with["with_".len()..];
                    if !crate::template::LOOKUPS.contains(&lookup) {
                        return Err(LoadError::at(
                            &k.mark,
                            format!(
                                "'{with}': talon has no lookup '{lookup}' (with_<lookup> loops over a lookup; talon's lookups: {})",
                                crate::template::LOOKUPS.join(", ")
                            ),
                        ));
                    }
                    task.loop_ = Some(v.to_json());
                    task.loop_with = Some(lookup.to_string());
                }
                "loop_control" => task.loop_control = loop_control(v)?,
                "register" => task.register = Some(checks::register_name(v)?),
                "notify" => task.notify = string_list_plain(v)?,
                "listen" => task.listen = string_list_plain(v)?,
                "changed_when" => task.changed_when = Some(conditions(v)?),
                "failed_when" => task.failed_when = Some(conditions(v)?),
                "ignore_errors" => task.ignore_errors = Some(checks::bool_or_template(v, "ignore_errors")?),
                "tags" => task.tags = string_list(v)?,
                "become" => task.become_ = Some(bool_of(v, "become")?),
                "become_user" => task.become_user = Some(scalar_string(v)?),
                "become_method" => {
                    if scalar_string(v)? != "sudo" {
                        return Err(LoadError::at(&v.mark, "talon supports only become_method: sudo"));
                    }
                }
                "no_log" => task.no_log = Some(checks::bool_or_template(v, "no_log")?),
                "vars" => task.vars = vars_of(v, "vars")?,
                "environment" => task.environment = Some(v.to_json()),
                "block" => block = Some((v, None, None)),
                "rescue" | "always" => {}
                "run_once" => task.run_once = bool_of(v, "run_once")?,
                "delegate_to" => task.delegate_to = Some(scalar_string(v)?),
                "delegate_facts" => task.delegate_facts = bool_of(v, "delegate_facts")?,
                "connection" => task.connection = Some(scalar_string(v)?),
                "remote_user" => task.remote_user = Some(scalar_string(v)?),
                "retries" => task.retries = Some(v.to_json()),
                "until" => task.until = Some(conditions(v)?),
                "delay" => task.delay = Some(v.to_json()),
                "args" => args_kw = Some(v),
                "check_mode" => task.check_mode = Some(bool_of(v, "check_mode")?),
                "diff" => task.diff = Some(bool_of(v, "diff")?),
                "async" => task.async_val = Some(checks::int_or_template(v, "async")?),
                "poll" => task.poll = Some(checks::int_or_template(v, "poll")?),
                "throttle" => task.throttle = Some(checks::int_or_template(v, "throttle")?),
                "timeout" => task.timeout = Some(checks::int_or_template(v, "timeout")?),
                "ignore_unreachable" => task.ignore_unreachable = Some(bool_of(v, "ignore_unreachable")?),
                "any_errors_fatal" => task.any_errors_fatal = Some(bool_of(v, "any_errors_fatal")?),
                "collections" => {}
                "action" | "local_action" => {
                    if key == "local_action" {
                        if entries.iter().any(|(k, _)| k.name == "delegate_to") {
                            return Err(LoadError::at(
                                &k.mark,
                                "local_action and delegate_to are mutually exclusive",
                            ));
                        }
                        task.delegate_to = Some("localhost".into());
                    }
                    if let Some((prev, _)) = action {
                        return Err(LoadError::at(
                            &k.mark,
                            format!("conflicting action statements: '{}' and '{key}'", prev.name),
                        ));
                    }
                    if let Some((mk, mv)) = &written_action {
                        let short = strip_builtin(&mk.name);
                        if modules::lookup(short).is_none()
                            && !RUNNER_ACTIONS.contains(&short)
                            && let Err(why) = modules::python::resolve_cached(&mk.name)
                        {
                            return Err(LoadError::at(
                                &mk.mark,
                                format!("{}\n{why}", unknown_action_message(&mk.name)),
                            ));
                        }
                        action = Some((mk, mv));
                    }
                }
                other => {
                    let short = strip_builtin(other);
                    if TASK_KEYS.contains(&other) {
                        continue;
                    }
                    if let Some((prev, _)) = action {
                        return Err(LoadError::at(
                            &k.mark,
                            format!(
                                "conflicting action statements: '{}' and '{}' (a task runs one module; if '{}' is meant as a keyword, talon does not support it)",
                                prev.name, other, other
                            ),
                        ));
                    }
                    if modules::lookup(short).is_none() && !RUNNER_ACTIONS.contains(&short) {
                        // Not native: ansible-core's own code may run it (the Python path).
                        if let Err(why) = modules::python::resolve_cached(other) {
                            return Err(LoadError::at(
                                &k.mark,
                                format!("{}\n{why}", unknown_action_message(other)),
                            ));
                        }
                    }
                    action = Some((k, v));
                }
            }
        }
        if task.loop_with.is_some() {
            let written = action.map_or("", |(k, _)| k.name.as_str());
            task.loop_subdir = ["template", "var", "file"]
                .into_iter()
                .find(|s| written.contains(s))
                .map_or("files", |s| match s {
                    "template" => "templates",
                    "var" => "vars",
                    _ => "files",
                });
        }
        if let Some((b, _, _)) = block {
            if action.is_some() {
                return Err(LoadError::at(&node.mark, "a block cannot also run a module"));
            }
            let rescue = node.get("rescue");
            let always = node.get("always");
            block = Some((b, rescue, always));
        } else if let Some(k) = entries
            .iter()
            .find(|(k, _)| k.name == "rescue" || k.name == "always")
        {
            return Err(LoadError::at(
                &k.0.mark,
                format!("'{}' is only valid with 'block'", k.0.name),
            ));
        }
        if let Some((b, rescue, always)) = block {
            let list = |n: Option<&Node>| {
                n.map(|n| self.task_list(n, base, role))
                    .transpose()
                    .map(Option::unwrap_or_default)
            };
            task.action = Some(Action::Block {
                block: self.task_list(b, base, role)?,
                rescue: list(rescue)?,
                always: list(always)?,
            });
            return Ok(vec![task]);
        }
        let Some((key, value)) = action else {
            return Err(LoadError::at(
                &node.mark,
                "this task has no action: name a module (e.g. 'command:', 'copy:')",
            ));
        };
        let short = strip_builtin(&key.name);
        match short {
            "import_tasks" => {
                let file = import_target(value, &key.mark)?;
                let path = resolve_task_file(base, role, &file);
                let children = self
                    .task_file_at(&path, role, Some(&key.mark))
                    .map_err(|e| wrap_import(e, &key.mark))?;
                task.action = Some(Action::Block {
                    block: children,
                    rescue: Vec::new(),
                    always: Vec::new(),
                });
                Ok(vec![task])
            }
            "import_role" => {
                let super::role::RoleRef { name, from, vars, .. } = role_ref(value, key)?;
                let r = self.load_role_under(&name, &vars, &key.mark, &from, role)?;
                // ansible-core adds the imported role to the play's roles once its own tasks
                // (and the imports in them) are loaded.
                let children = self.role_tasks(&r, from.tasks.as_deref(), &key.mark)?;
                self.note_play_role(&r)?;
                let handlers = self.role_handlers(&r, from.handlers.as_deref(), &key.mark)?;
                self.imported_handlers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend(handlers);
                task.action = Some(Action::Block {
                    block: children,
                    rescue: Vec::new(),
                    always: Vec::new(),
                });
                Ok(vec![task])
            }
            "include_tasks" => {
                self.include_tasks(&mut task, node, (key, value), base, role)?;
                Ok(vec![task])
            }
            "include_role" => {
                self.include_role(&mut task, node, (key, value), base, role)?;
                Ok(vec![task])
            }
            "set_fact" => {
                let args = module_args(short, value, args_kw)?;
                task.action = Some(Action::SetFact { args });
                Ok(vec![task])
            }
            "group_by" => {
                let args = module_args(short, value, args_kw)?;
                task.action = Some(Action::GroupBy { args });
                Ok(vec![task])
            }
            "add_host" => {
                let args = module_args(short, value, args_kw)?;
                task.action = Some(Action::AddHost { args });
                Ok(vec![task])
            }
            "include_vars" => {
                let mut args = match &value.kind {
                    NodeKind::Str(s) => {
                        let mut m = Vars::new();
                        m.insert("file".into(), Value::String(s.clone()));
                        m
                    }
                    _ => vars_of(value, "include_vars")?,
                };
                args.extend(match args_kw {
                    Some(extra) => vars_of(extra, "args")?,
                    None => Vars::new(),
                });
                include_vars_options(&args, &value.mark)?;
                args.insert("__base".into(), Value::String(base.display().to_string()));
                task.action = Some(Action::IncludeVars { args });
                Ok(vec![task])
            }
            "meta" => {
                let m = scalar_string(value)?;
                const METAS: &[&str] = &[
                    "flush_handlers",
                    "noop",
                    "end_play",
                    "end_host",
                    "end_batch",
                    "clear_facts",
                    "clear_host_errors",
                    "refresh_inventory",
                    "reset_connection",
                ];
                if !METAS.contains(&m.as_str()) {
                    return Err(LoadError::at(
                        &value.mark,
                        format!(
                            "unsupported meta action '{m}' (talon supports: {})",
                            METAS.join(", ")
                        ),
                    ));
                }
                task.action = Some(Action::Meta(m));
                Ok(vec![task])
            }
            "gather_facts" | "setup" => {
                let args = module_args(short, value, args_kw)?;
                for k in args.keys() {
                    if !["gather_subset", "filter", "gather_timeout", "fact_path"].contains(&k.as_str()) {
                        return Err(LoadError::at(
                            &value.mark,
                            format!(
                                "Unsupported parameters for ({short}) module: {k}. Supported parameters include: fact_path, filter, gather_subset, gather_timeout."
                            ),
                        ));
                    }
                }
                task.action = Some(Action::GatherFacts(args));
                Ok(vec![task])
            }
            "import_playbook" => Err(LoadError::at(
                &key.mark,
                "import_playbook is only valid at the top level of a playbook",
            )),
            _ => {
                let native = modules::lookup(short);
                // A native module given an option only ansible-core's module implements runs
                // through the Python path for that task.
                let python_only = match native {
                    Some(info) if !info.spec.python_only.is_empty() => {
                        let args = module_args(info.name, value, args_kw)?;
                        info.spec
                            .needs_python(args.keys().map(String::as_str))
                            .into_iter()
                            .map(str::to_string)
                            .collect()
                    }
                    _ => Vec::new(),
                };
                let native = native.filter(|_| python_only.is_empty());
                let Some(info) = native else {
                    let module = modules::python::resolve_cached(&key.name).map_err(|why| {
                        let head = if python_only.is_empty() {
                            unknown_action_message(&key.name)
                        } else {
                            format!(
                                "talon's native '{short}' does not implement {}: ansible-core's own module does, through the Python path, which is not available",
                                python_only.join(", ")
                            )
                        };
                        LoadError::at(&key.mark, format!("{head}\n{why}"))
                    })?;
                    let args = module_args(&key.name, value, args_kw)?;
                    if let Some(why) = module.needs_action(&args) {
                        return Err(LoadError::at(&key.mark, why));
                    }
                    // The module's documented options, as ansible-core's argument spec checks
                    // them when it runs: a finding (the task's failure if it runs) before.
                    let unknown = module.undocumented(args.keys());
                    let names = module.option_names();
                    task.action = Some(Action::Python { module, args });
                    if !unknown.is_empty() {
                        let finding = Finding::at(
                            &value.mark,
                            format!(
                                "module '{}' does not take the argument(s) {} (it takes: {}) (task '{}' fails if it runs with it)",
                                key.name,
                                unknown.join(", "),
                                names.join(", "),
                                task.display_name()
                            ),
                        );
                        self.findings
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(finding);
                    }
                    return Ok(vec![task]);
                };
                let args = module_args(info.name, value, args_kw)?;
                let mark_of = |name: &str| {
                    value
                        .get(name)
                        .or_else(|| args_kw.and_then(|a| a.get(name)))
                        .map_or(&value.mark, |n| &n.mark)
                };
                let found = check_module_args(info, &args, &value.mark, mark_of);
                task.action = Some(Action::Module { module: info, args });
                let name = task.display_name();
                self.findings
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend(found.into_iter().map(|f| Finding {
                        message: format!("{} (task '{name}' fails if it runs with it)", f.message),
                        ..f
                    }));
                Ok(vec![task])
            }
        }
    }
}
