//! Plays: the play keywords (strict), `hosts`, `serial`, `vars_files`, and the sections
//! (pre_tasks, roles, tasks, post_tasks, handlers) loaded into a [`Play`].

use super::*;

pub(super) const PLAY_KEYS: &[&str] = &[
    "name",
    "hosts",
    "vars",
    "vars_files",
    "roles",
    "pre_tasks",
    "tasks",
    "post_tasks",
    "handlers",
    "become",
    "become_user",
    "become_method",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "fact_path",
    "strategy",
    "serial",
    "force_handlers",
    "environment",
    "tags",
    "remote_user",
    "connection",
    "any_errors_fatal",
    "ignore_errors",
    "no_log",
    "check_mode",
    "diff",
    "collections",
    "order",
    "max_fail_percentage",
    "throttle",
    "timeout",
    "ignore_unreachable",
    "vars_prompt",
];

pub(super) fn serial_step(node: &Node) -> Result<SerialStep, LoadError> {
    match &node.kind {
        NodeKind::Int(i) if *i > 0 => Ok(SerialStep::Count(*i as usize)),
        NodeKind::Str(s) => {
            let t = s.trim();
            if let Some(p) = t.strip_suffix('%') {
                p.trim()
                    .parse::<f64>()
                    .map(SerialStep::Percent)
                    .map_err(|_| LoadError::at(&node.mark, "serial: bad percentage"))
            } else {
                t.parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(SerialStep::Count)
                    .ok_or_else(|| LoadError::at(&node.mark, "serial: expected a count or a percentage"))
            }
        }
        _ => Err(LoadError::at(
            &node.mark,
            "serial: expected a positive count, a percentage, or a list of them",
        )),
    }
}

impl Loader {
    /// A loader for tasks and roles relative to a playbook folder (used for dynamic includes).
    pub fn new(playbook_dir: &Path) -> Loader {
        // ansible-core's order: the playbook's roles/, then DEFAULT_ROLES_PATH
        // (ANSIBLE_ROLES_PATH, or ~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles),
        // then the playbook's own folder.
        let mut roles_path = vec![playbook_dir.join("roles")];
        roles_path.extend(super::role::default_roles_path());
        roles_path.push(playbook_dir.to_path_buf());
        // Ids of dynamically loaded tasks live far above the static ones.
        Loader {
            next_id: AtomicUsize::new(1 << 32),
            roles_path,
            playbook_dir: playbook_dir.to_path_buf(),
            imports: Arc::new(ImportStack::new(playbook_dir)),
            imported_handlers: Mutex::new(Vec::new()),
            findings: Mutex::new(Vec::new()),
            play_roles: Mutex::new(Vec::new()),
        }
    }

    /// A loader for one dynamic include (`include_tasks`, `include_role`): its tasks get ids
    /// from a block chosen by `seed` (the include task and its loop item), so two includes never
    /// share task ids while every host running the same include gets the same ones.
    pub fn for_include(playbook_dir: &Path, seed: u64) -> Loader {
        let loader = Loader::new(playbook_dir);
        let block = (seed % (1 << 40)) as usize;
        loader.next_id.store((1 << 32) + (block << 20), Ordering::Relaxed);
        loader
    }

    pub(super) fn next_id(&self) -> usize {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(super) fn play(&self, node: &Node, index: usize) -> Result<Play, LoadError> {
        let entries = node
            .as_map()
            .ok_or_else(|| LoadError::at(&node.mark, "a play must be a mapping"))?;
        for (k, _) in entries {
            if !PLAY_KEYS.contains(&k.name.as_str()) {
                return Err(LoadError::at(
                    &k.mark,
                    format!(
                        "unknown play keyword '{}' (talon supports: {})",
                        k.name,
                        PLAY_KEYS.join(", ")
                    ),
                ));
            }
        }
        let order = match node.get("order") {
            None => HostOrder::Inventory,
            Some(o) => match scalar_string(o)?.as_str() {
                "inventory" => HostOrder::Inventory,
                "reverse_inventory" => HostOrder::ReverseInventory,
                "sorted" => HostOrder::Sorted,
                "reverse_sorted" => HostOrder::ReverseSorted,
                "shuffle" => HostOrder::Shuffle,
                other => {
                    return Err(LoadError::at(
                        &o.mark,
                        format!(
                            "Invalid 'order' specified for inventory hosts: {other} (use inventory, reverse_inventory, sorted, reverse_sorted or shuffle)"
                        ),
                    ));
                }
            },
        };
        let max_fail_percentage = match node.get("max_fail_percentage") {
            None => None,
            Some(m) => Some(match &m.kind {
                NodeKind::Int(i) => *i as f64,
                NodeKind::Float(f) => *f,
                NodeKind::Str(s) => s
                    .trim()
                    .trim_end_matches('%')
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| {
                        LoadError::at(&m.mark, "max_fail_percentage must be a number (a percentage)")
                    })?,
                _ => {
                    return Err(LoadError::at(
                        &m.mark,
                        "max_fail_percentage must be a number (a percentage)",
                    ));
                }
            }),
        };
        let hosts = match node.get("hosts") {
            Some(h) => string_list(h)?.join(","),
            None => return Err(LoadError::at(&node.mark, "the play has no 'hosts:'")),
        };
        let name = match node.get("name") {
            Some(n) => scalar_string(n)?,
            None => hosts.clone(),
        };
        if let Some(m) = node.get("become_method")
            && scalar_string(m)? != "sudo"
        {
            return Err(LoadError::at(&m.mark, "talon supports only become_method: sudo"));
        }
        let strategy = match node.get("strategy") {
            None => Strategy::Linear,
            Some(s) => match scalar_string(s)?.as_str() {
                "linear" => Strategy::Linear,
                "free" => Strategy::Free,
                other => {
                    return Err(LoadError::at(
                        &s.mark,
                        format!("unknown strategy '{other}' (use linear or free)"),
                    ));
                }
            },
        };
        let serial = match node.get("serial") {
            None => Vec::new(),
            Some(s) => {
                let items: Vec<&Node> = match &s.kind {
                    NodeKind::Seq(v) => v.iter().collect(),
                    _ => vec![s],
                };
                items.into_iter().map(serial_step).collect::<Result<_, _>>()?
            }
        };
        let mut roles = Vec::new();
        let mut role_tasks = Vec::new();
        let mut handlers = Vec::new();
        if let Some(r) = node.get("roles") {
            let list = r
                .as_seq()
                .ok_or_else(|| LoadError::at(&r.mark, "roles: must be a list"))?;
            for entry in list {
                self.role_entry(entry, &mut roles, &mut role_tasks, &mut handlers)?;
            }
        }
        let section = |key: &str| -> Result<Vec<Task>, LoadError> {
            match node.get(key) {
                Some(n) => self.task_list(n, &self.playbook_dir, None),
                None => Ok(Vec::new()),
            }
        };
        let pre = section("pre_tasks")?;
        let mut main = role_tasks;
        main.extend(section("tasks")?);
        let post = section("post_tasks")?;
        let mut play_handlers = match node.get("handlers") {
            Some(n) => self.task_list(n, &self.playbook_dir, None)?,
            None => Vec::new(),
        };
        play_handlers.extend(handlers);
        // Handlers of roles brought in by import_role (Ansible adds them to the play's), once per
        // role folder.
        let imported = std::mem::take(
            &mut *self
                .imported_handlers
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for h in imported {
            let same = |p: &Task| {
                p.name == h.name && matches!((&p.role, &h.role), (Some(a), Some(b)) if a.path == b.path)
            };
            if !play_handlers.iter().any(same) {
                play_handlers.push(h);
            }
        }
        let play = Play {
            index,
            name,
            mark: node.mark.clone(),
            hosts,
            vars: match node.get("vars") {
                Some(v) => vars_of(v, "vars")?,
                None => Vars::new(),
            },
            vars_files: match node.get("vars_files") {
                Some(v) => self.vars_files(v)?,
                None => Vec::new(),
            },
            become_: node.get("become").map(|b| bool_of(b, "become")).transpose()?,
            become_user: node.get("become_user").map(scalar_string).transpose()?,
            gather_facts: node
                .get("gather_facts")
                .map(|b| bool_of(b, "gather_facts"))
                .transpose()?
                // ansible.cfg `gathering = explicit`: only plays that ask gather.
                .unwrap_or_else(|| crate::ansible_cfg::load_defaults().is_none_or(|d| d.gather_by_default)),
            gather_args: {
                let mut a = Vars::new();
                for key in ["gather_subset", "gather_timeout", "fact_path"] {
                    if let Some(v) = node.get(key) {
                        a.insert(key.into(), v.to_json());
                    }
                }
                a
            },
            strategy,
            serial,
            force_handlers: node
                .get("force_handlers")
                .map(|b| bool_of(b, "force_handlers"))
                .transpose()?
                .unwrap_or(false),
            environment: node.get("environment").map(Node::to_json),
            no_log: node
                .get("no_log")
                .map(|v| checks::bool_or_template(v, "no_log"))
                .transpose()?,
            remote_user: node.get("remote_user").map(scalar_string).transpose()?,
            ignore_errors: node
                .get("ignore_errors")
                .map(|v| checks::bool_or_template(v, "ignore_errors"))
                .transpose()?,
            check_mode: node
                .get("check_mode")
                .map(|b| bool_of(b, "check_mode"))
                .transpose()?,
            diff: node.get("diff").map(|b| bool_of(b, "diff")).transpose()?,
            order,
            max_fail_percentage,
            any_errors_fatal: node
                .get("any_errors_fatal")
                .map(|b| bool_of(b, "any_errors_fatal"))
                .transpose()?,
            throttle: node
                .get("throttle")
                .map(|v| checks::int_or_template(v, "throttle"))
                .transpose()?,
            timeout: node
                .get("timeout")
                .map(|v| checks::int_or_template(v, "timeout"))
                .transpose()?,
            ignore_unreachable: node
                .get("ignore_unreachable")
                .map(|b| bool_of(b, "ignore_unreachable"))
                .transpose()?,
            connection: node.get("connection").map(scalar_string).transpose()?,
            tags: node.get("tags").map(string_list).transpose()?.unwrap_or_default(),
            sections: vec![pre, main, post],
            handlers: play_handlers,
            roles,
            role_names: self.take_play_roles(),
            vars_prompt: match node.get("vars_prompt") {
                Some(v) => super::vars_prompt::parse(v)?,
                None => Vec::new(),
            },
        };
        checks::notified_handlers_exist(&play)?;
        Ok(play)
    }

    /// `vars_files:` entries: a name, or a list of names of which the first that exists is read
    /// (ansible-core's alternatives). They are read per host at run time (a name may use host
    /// variables); a file named without a template that exists is parsed now too, so that
    /// invalid YAML or an inline `!vault` value in it is a load error.
    pub(super) fn vars_files(&self, node: &Node) -> Result<Vec<Vec<String>>, LoadError> {
        let entries: Vec<Vec<String>> = match &node.kind {
            NodeKind::Seq(items) => items
                .iter()
                .map(|i| match &i.kind {
                    NodeKind::Seq(_) => string_list(i),
                    _ => scalar_string(i).map(|s| vec![s]),
                })
                .collect::<Result<_, _>>()?,
            _ => string_list(node)?.into_iter().map(|s| vec![s]).collect(),
        };
        for name in entries
            .iter()
            .flatten()
            .filter(|n| !crate::template::is_template(n))
        {
            let path = self.playbook_dir.join(name);
            if path.is_file() {
                vars_of_node(&yaml::load_file(&path)?)?;
            }
        }
        Ok(entries)
    }
}
