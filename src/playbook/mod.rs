//! Playbooks: raw YAML -> plays, roles and typed tasks (DESIGN habit 2 and 5).
//!
//! Loading is strict: an unknown play or task keyword, an unknown module or module argument, or a
//! missing role is an error that names `file:line:column`. Nothing is silently ignored, because a
//! silently ignored key is how a budget limit or a health check quietly stops existing.

mod checks;
mod imports;
mod kv;
pub mod lint;
mod role;
pub mod vars_files;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::error::LoadError;
use crate::modules;
use crate::vars::Vars;
use crate::yaml::{self, Key, Mark, Node, NodeKind};

use imports::{Entry, ImportStack};
pub use imports::{MAX_IMPORT_DEPTH, MAX_INCLUDE_DEPTH};
pub use kv::parse_kv;
pub use role::Role;

/// A loaded playbook: its plays in order.
#[derive(Debug, Clone)]
pub struct Playbook {
    /// The playbook file.
    pub path: PathBuf,
    /// The folder of the playbook (`playbook_dir`; also where `roles/`, `group_vars/` are looked up).
    pub dir: PathBuf,
    /// The plays.
    pub plays: Vec<Play>,
    /// How many task ids were given out (ids are `0..task_count`).
    pub task_count: usize,
}

/// `strategy:` of a play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Every host finishes a task before any host starts the next (Ansible's default).
    Linear,
    /// Each host runs through the tasks as fast as it can.
    Free,
}

/// `serial:` of a play: batch sizes, as counts or percentages of the play's hosts.
#[derive(Debug, Clone, PartialEq)]
pub enum SerialStep {
    Count(usize),
    Percent(f64),
}

/// One play.
#[derive(Debug, Clone)]
pub struct Play {
    /// Position of the play in the playbook (0-based).
    pub index: usize,
    /// `name:` (or the hosts pattern when absent, like Ansible).
    pub name: String,
    /// Where the play starts.
    pub mark: Mark,
    /// `hosts:` pattern.
    pub hosts: String,
    /// `vars:` (raw; templated lazily when used).
    pub vars: Vars,
    /// `vars_files:` entries (templated at run time, loaded relative to the playbook).
    pub vars_files: Vec<String>,
    /// `become:` / `become_user:`.
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    /// `gather_facts:` (default true).
    pub gather_facts: bool,
    pub strategy: Strategy,
    /// `serial:` batches (empty = all hosts at once).
    pub serial: Vec<SerialStep>,
    /// `force_handlers:` on the play.
    pub force_handlers: bool,
    /// `environment:` for every task of the play.
    pub environment: Option<Value>,
    /// `no_log:` for every task of the play (a boolean or a template), as the task keyword.
    pub no_log: Option<Value>,
    /// `remote_user:` the user to connect as when the host has no `ansible_user`.
    pub remote_user: Option<String>,
    /// `connection:` (`ssh`, `local`) when the host has no `ansible_connection`.
    pub connection: Option<String>,
    /// `ignore_errors:` for every task of the play (a boolean or a template).
    pub ignore_errors: Option<Value>,
    /// `check_mode:` for every task of the play.
    pub check_mode: Option<bool>,
    /// `diff:` for every task of the play.
    pub diff: Option<bool>,
    /// `tags:` on the play (inherited by every task).
    pub tags: Vec<String>,
    /// Sections run in order with a handler flush after each: pre_tasks, roles + tasks, post_tasks.
    pub sections: Vec<Vec<Task>>,
    /// Handlers of the play, then of its roles, in definition order.
    pub handlers: Vec<Task>,
    /// The roles of this play (their defaults and vars are visible play-wide, like Ansible).
    pub roles: Vec<Arc<Role>>,
}

/// Options for a task's loop (`loop_control:`).
#[derive(Debug, Clone, Default)]
pub struct LoopControl {
    pub loop_var: Option<String>,
    pub index_var: Option<String>,
    pub label: Option<String>,
    pub pause: Option<f64>,
    pub extended: bool,
}

/// What a task does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Run a module with these (raw, untemplated) arguments.
    Module {
        /// The module, from the registry.
        module: &'static modules::ModuleInfo,
        /// Its arguments as written.
        args: Vars,
    },
    /// `block:` with optional `rescue:` and `always:`.
    Block {
        block: Vec<Task>,
        rescue: Vec<Task>,
        always: Vec<Task>,
    },
    /// `include_tasks:` (loaded when reached, per host).
    IncludeTasks {
        file: String,
        base: PathBuf,
        role: Option<Arc<Role>>,
    },
    /// `include_role:` (loaded when reached).
    IncludeRole {
        name: String,
        tasks_from: Option<String>,
    },
    /// `set_fact:`.
    SetFact { args: Vars },
    /// `include_vars:` (a file or `file:`/`dir:`/`name:`).
    IncludeVars { args: Vars },
    /// `meta:` (flush_handlers, noop, end_play, end_host, clear_host_errors, refresh_inventory).
    Meta(String),
    /// `gather_facts:` / `setup:` as a task.
    GatherFacts,
}

/// Keywords that apply to a task (and are inherited from blocks, roles and imports).
#[derive(Debug, Clone, Default)]
pub struct Task {
    /// Unique id within the playbook (stable between runs of the same playbook).
    pub id: usize,
    pub name: Option<String>,
    pub mark: Mark,
    pub action: Option<Action>,
    /// `when:` conditions (all must hold).
    pub when: Vec<String>,
    /// `loop:` / `with_items:` (raw; templated at run time) and whether it came from `with_items`
    /// (which flattens one level, like Ansible).
    pub loop_: Option<Value>,
    pub loop_flatten: bool,
    pub loop_control: LoopControl,
    pub register: Option<String>,
    pub notify: Vec<String>,
    /// For handlers: `listen:` topics.
    pub listen: Vec<String>,
    pub changed_when: Option<Vec<String>>,
    pub failed_when: Option<Vec<String>>,
    pub ignore_errors: Option<Value>,
    pub tags: Vec<String>,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    pub no_log: Option<Value>,
    pub vars: Vars,
    pub environment: Option<Value>,
    pub run_once: bool,
    pub delegate_to: Option<String>,
    pub retries: Option<Value>,
    pub until: Option<Vec<String>>,
    pub delay: Option<Value>,
    pub check_mode: Option<bool>,
    pub diff: Option<bool>,
    /// The role this task belongs to, if any.
    pub role: Option<Arc<Role>>,
}

impl Task {
    /// The name shown in output: `name:`, or the module name like Ansible.
    pub fn display_name(&self) -> String {
        let base = match (&self.name, &self.action) {
            (Some(n), _) => n.clone(),
            (None, Some(Action::Module { module, .. })) => module.name.to_string(),
            (None, Some(Action::Block { .. })) => "block".into(),
            (None, Some(Action::IncludeTasks { file, .. })) => format!("include_tasks {file}"),
            (None, Some(Action::IncludeRole { name, .. })) => format!("include_role {name}"),
            (None, Some(Action::SetFact { .. })) => "set_fact".into(),
            (None, Some(Action::IncludeVars { .. })) => "include_vars".into(),
            (None, Some(Action::Meta(m))) => format!("meta: {m}"),
            (None, Some(Action::GatherFacts)) => "Gathering Facts".into(),
            (None, None) => "(empty)".into(),
        };
        match &self.role {
            Some(r) => format!("{} : {}", r.name, base),
            None => base,
        }
    }
}

/// Shared state while loading one playbook: the id counter and the roles search path.
pub struct Loader {
    next_id: AtomicUsize,
    /// Folders searched for roles, in order: `<playbook dir>/roles`, then `<playbook dir>`,
    /// then `ANSIBLE_ROLES_PATH` entries.
    pub roles_path: Vec<PathBuf>,
    /// The playbook folder.
    pub playbook_dir: PathBuf,
    /// The files being loaded now (cycle and depth checks of static imports).
    imports: Arc<ImportStack>,
    /// Handlers of roles imported by `import_role` in the play being loaded.
    imported_handlers: Mutex<Vec<Task>>,
}

const PLAY_KEYS: &[&str] = &[
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
];

const TASK_KEYS: &[&str] = &[
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
    "retries",
    "until",
    "delay",
    "args",
    "check_mode",
    "diff",
    "collections",
];

/// Actions the runner handles itself (not modules in [`modules::REGISTRY`]).
const RUNNER_ACTIONS: &[&str] = &[
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "set_fact",
    "include_vars",
    "meta",
    "gather_facts",
    "setup",
    "import_playbook",
];

fn strip_builtin(name: &str) -> &str {
    modules::short_name(name)
}

/// Loads a playbook file with all its roles and static imports.
///
/// Errors: [`LoadError`] naming `file:line:column` for invalid YAML, unknown keywords, unknown
/// modules or module arguments, missing roles or imported files, and static imports that form a
/// cycle or nest deeper than [`MAX_IMPORT_DEPTH`] (with the chain of imports).
pub fn load(path: &Path) -> Result<Playbook, LoadError> {
    load_nested(path, None, None)
}

/// Loads a playbook; `imports` is the import stack and `at` the `import_playbook` statement when
/// this playbook is imported by another.
fn load_nested(
    path: &Path,
    imports: Option<&Arc<ImportStack>>,
    at: Option<&Mark>,
) -> Result<Playbook, LoadError> {
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    // `playbook_dir` is absolute in Ansible; paths built from it must not depend on the cwd.
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let mut loader = Loader::new(&dir);
    loader.next_id = AtomicUsize::new(0);
    if let Some(stack) = imports {
        loader.imports = stack.clone();
    }
    let stack = loader.imports.clone();
    stack.within(path, Entry::File, at, || loader.playbook(path, dir))
}

impl Loader {
    /// The plays of one playbook file (imported playbooks expanded in place).
    fn playbook(&self, path: &Path, dir: PathBuf) -> Result<Playbook, LoadError> {
        let root = yaml::load_file(path)?;
        let items = match &root.kind {
            NodeKind::Seq(items) => items.clone(),
            NodeKind::Null => Vec::new(),
            _ => return Err(LoadError::at(&root.mark, "a playbook must be a list of plays")),
        };
        let mut plays = Vec::new();
        for item in &items {
            if let Some(imp) = item
                .get("import_playbook")
                .or_else(|| item.get("ansible.builtin.import_playbook"))
            {
                let file = imp
                    .as_str()
                    .ok_or_else(|| LoadError::at(&imp.mark, "import_playbook takes a file name"))?;
                let sub = load_nested(&dir.join(file), Some(&self.imports), Some(&imp.mark))?;
                for mut p in sub.plays {
                    p.index = plays.len();
                    plays.push(p);
                }
                continue;
            }
            let index = plays.len();
            plays.push(self.play(item, index)?);
        }
        Ok(Playbook {
            path: path.to_path_buf(),
            dir,
            plays,
            task_count: self.next_id.load(Ordering::Relaxed),
        })
    }
}

/// Reads a scalar or list of scalars as strings (`tags: a` or `tags: [a, b]`).
pub(crate) fn string_list(node: &Node) -> Result<Vec<String>, LoadError> {
    match &node.kind {
        NodeKind::Null => Ok(Vec::new()),
        NodeKind::Seq(items) => items.iter().map(scalar_string).collect(),
        NodeKind::Str(s) if s.contains(',') && !s.contains("{{") => Ok(s
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()),
        _ => Ok(vec![scalar_string(node)?]),
    }
}

/// A scalar as a string (numbers and booleans stringified like Python would).
pub(crate) fn scalar_string(node: &Node) -> Result<String, LoadError> {
    match &node.kind {
        NodeKind::Str(s) => Ok(s.clone()),
        NodeKind::Int(i) => Ok(i.to_string()),
        NodeKind::Float(f) => Ok(f.to_string()),
        NodeKind::Bool(b) => Ok(if *b { "True".into() } else { "False".into() }),
        _ => Err(LoadError::at(
            &node.mark,
            format!("expected a string, found a {}", node.type_name()),
        )),
    }
}

fn bool_of(node: &Node, what: &str) -> Result<bool, LoadError> {
    match &node.kind {
        NodeKind::Bool(b) => Ok(*b),
        _ => crate::vars::as_bool(&node.to_json())
            .ok_or_else(|| LoadError::at(&node.mark, format!("{what} must be a boolean"))),
    }
}

/// A mapping node as variables.
pub(crate) fn vars_of(node: &Node, what: &str) -> Result<Vars, LoadError> {
    match node.to_json() {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Vars::new()),
        _ => Err(LoadError::at(
            &node.mark,
            format!("{what} must be a mapping of variables"),
        )),
    }
}

/// Conditions: a string, a bool, or a list of them.
fn conditions(node: &Node) -> Result<Vec<String>, LoadError> {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().map(scalar_string).collect(),
        NodeKind::Null => Ok(Vec::new()),
        _ => Ok(vec![scalar_string(node)?]),
    }
}

/// A vars file's root node as variables (a mapping, or empty).
pub fn vars_of_node(node: &Node) -> Result<Vars, LoadError> {
    vars_of(node, "a vars file")
}

impl Loader {
    /// A loader for tasks and roles relative to a playbook folder (used for dynamic includes).
    pub fn new(playbook_dir: &Path) -> Loader {
        let mut roles_path = vec![playbook_dir.join("roles"), playbook_dir.to_path_buf()];
        if let Ok(extra) = std::env::var("ANSIBLE_ROLES_PATH") {
            roles_path.extend(extra.split(':').filter(|s| !s.is_empty()).map(PathBuf::from));
        }
        // Ids of dynamically loaded tasks live far above the static ones.
        Loader {
            next_id: AtomicUsize::new(1 << 32),
            roles_path,
            playbook_dir: playbook_dir.to_path_buf(),
            imports: Arc::new(ImportStack::new(playbook_dir)),
            imported_handlers: Mutex::new(Vec::new()),
        }
    }

    fn next_id(&self) -> usize {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn play(&self, node: &Node, index: usize) -> Result<Play, LoadError> {
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
        if let Some(v) = node.get("any_errors_fatal")
            && bool_of(v, "any_errors_fatal")?
        {
            return Err(LoadError::at(
                &v.mark,
                "any_errors_fatal: true is not supported yet (talon would let the other hosts go on after one fails); remove it to run with the default behaviour",
            ));
        }
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
                .unwrap_or(true),
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
            connection: node.get("connection").map(scalar_string).transpose()?,
            tags: node.get("tags").map(string_list).transpose()?.unwrap_or_default(),
            sections: vec![pre, main, post],
            handlers: play_handlers,
            roles,
        };
        checks::notified_handlers_exist(&play)?;
        Ok(play)
    }

    /// `vars_files:` names. They are read per host at run time (a name may use host variables);
    /// a file named without a template that exists is parsed now too, so that invalid YAML or an
    /// inline `!vault` value in it is a load error.
    fn vars_files(&self, node: &Node) -> Result<Vec<String>, LoadError> {
        let names = string_list(node)?;
        for name in names.iter().filter(|n| !crate::template::is_template(n)) {
            let path = self.playbook_dir.join(name);
            if path.is_file() {
                vars_of_node(&yaml::load_file(&path)?)?;
            }
        }
        Ok(names)
    }

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
    fn task_file_at(
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
    fn task(&self, node: &Node, base: &Path, role: Option<&Arc<Role>>) -> Result<Vec<Task>, LoadError> {
        let entries = node
            .as_map()
            .ok_or_else(|| LoadError::at(&node.mark, "a task must be a mapping"))?;
        let mut task = Task {
            id: self.next_id(),
            mark: node.mark.clone(),
            role: role.cloned(),
            ..Default::default()
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
                "loop" | "with_list" => task.loop_ = Some(v.to_json()),
                "with_items" => {
                    task.loop_ = Some(v.to_json());
                    task.loop_flatten = true;
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
                "retries" => task.retries = Some(v.to_json()),
                "until" => task.until = Some(conditions(v)?),
                "delay" => task.delay = Some(v.to_json()),
                "args" => args_kw = Some(v),
                "check_mode" => task.check_mode = Some(bool_of(v, "check_mode")?),
                "diff" => task.diff = Some(bool_of(v, "diff")?),
                "collections" => {}
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
                        return Err(LoadError::at(&k.mark, unknown_action_message(other)));
                    }
                    action = Some((k, v));
                }
            }
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
                let (name, tasks_from, vars) = role_ref(value, &key.mark)?;
                let r = self.load_role(&name, &vars, &key.mark)?;
                let children = self.role_tasks(&r, tasks_from.as_deref(), &key.mark)?;
                let handlers = self.role_handlers(&r)?;
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
                let file = import_target(value, &key.mark)?;
                let path = resolve_task_file(base, role, &file);
                // Validate now so that a bad included file fails before anything runs; a file
                // that includes itself (a recursion, valid with a condition that ends it) is
                // checked once, and bounded when it runs (MAX_INCLUDE_DEPTH).
                if !file.contains("{{") && !self.imports.busy(&path) {
                    self.task_file_at(&path, role, Some(&key.mark))
                        .map_err(|e| wrap_import(e, &key.mark))?;
                }
                task.action = Some(Action::IncludeTasks {
                    file,
                    base: base.to_path_buf(),
                    role: role.cloned(),
                });
                Ok(vec![task])
            }
            "include_role" => {
                let (name, tasks_from, vars) = role_ref(value, &key.mark)?;
                if !name.contains("{{") {
                    self.find_role(&name, &key.mark)?;
                }
                task.vars.extend(vars);
                task.action = Some(Action::IncludeRole { name, tasks_from });
                Ok(vec![task])
            }
            "set_fact" => {
                let args = module_args(short, value, args_kw)?;
                task.action = Some(Action::SetFact { args });
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
                task.action = Some(Action::GatherFacts);
                Ok(vec![task])
            }
            "import_playbook" => Err(LoadError::at(
                &key.mark,
                "import_playbook is only valid at the top level of a playbook",
            )),
            _ => {
                let info = modules::lookup(short)
                    .ok_or_else(|| LoadError::at(&key.mark, unknown_action_message(&key.name)))?;
                let args = module_args(info.name, value, args_kw)?;
                let mark_of = |name: &str| {
                    value
                        .get(name)
                        .or_else(|| args_kw.and_then(|a| a.get(name)))
                        .map_or(&value.mark, |n| &n.mark)
                };
                check_module_args(info, &args, &value.mark, mark_of)?;
                if info.spec.free_form && args.is_empty() {
                    return Err(LoadError::at(
                        &value.mark,
                        format!("module '{}' needs a command", info.name),
                    ));
                }
                task.action = Some(Action::Module { module: info, args });
                Ok(vec![task])
            }
        }
    }

    fn role_entry(
        &self,
        entry: &Node,
        roles: &mut Vec<Arc<Role>>,
        tasks: &mut Vec<Task>,
        handlers: &mut Vec<Task>,
    ) -> Result<(), LoadError> {
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
                        "vars" => params.extend(vars_of(v, "vars")?),
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
        let role = self.load_role(&name, &params, &entry.mark)?;
        // Dependencies first (meta/main.yml), each once per play.
        let mut order = Vec::new();
        self.role_with_deps(&role, &mut order, None)?;
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
            handlers.extend(self.role_handlers(&r)?);
            roles.push(r);
        }
        Ok(())
    }

    /// `role` after its dependencies (depth first, each once); `at` is the dependency entry in
    /// the depending role's `meta/main.yml`. A cycle of dependencies is an error naming that
    /// entry and the chain of roles.
    fn role_with_deps(
        &self,
        role: &Arc<Role>,
        out: &mut Vec<Arc<Role>>,
        at: Option<&Mark>,
    ) -> Result<(), LoadError> {
        self.imports
            .within(&role.path.join("meta"), Entry::Role(&role.name), at, || {
                for (dep, params, mark) in &role.dependencies {
                    let d = self.load_role(dep, params, mark)?;
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
        match role::find_yaml(&role.path.join("tasks"), file) {
            Some(p) => self.task_file_at(&p, Some(role), Some(mark)),
            None if tasks_from.is_none() => Ok(Vec::new()),
            None => Err(LoadError::at(
                mark,
                format!("role '{}' has no tasks/{file}.yml", role.name),
            )),
        }
    }

    fn role_handlers(&self, role: &Arc<Role>) -> Result<Vec<Task>, LoadError> {
        match role::find_yaml(&role.path.join("handlers"), "main") {
            Some(p) => self.task_file(&p, Some(role)),
            None => Ok(Vec::new()),
        }
    }

    /// Finds a role folder by name on the roles path.
    pub fn find_role(&self, name: &str, mark: &Mark) -> Result<PathBuf, LoadError> {
        let direct = PathBuf::from(name);
        if direct.is_absolute() && direct.is_dir() {
            return Ok(direct);
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
    pub fn load_role(&self, name: &str, params: &Vars, mark: &Mark) -> Result<Arc<Role>, LoadError> {
        let path = self.find_role(name, mark)?;
        Ok(Arc::new(Role::load(name, &path, params.clone())?))
    }
}

fn string_list_plain(node: &Node) -> Result<Vec<String>, LoadError> {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().map(scalar_string).collect(),
        NodeKind::Null => Ok(Vec::new()),
        _ => Ok(vec![scalar_string(node)?]),
    }
}

fn serial_step(node: &Node) -> Result<SerialStep, LoadError> {
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

fn loop_control(node: &Node) -> Result<LoopControl, LoadError> {
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

fn unknown_action_message(name: &str) -> String {
    let mut known: Vec<&str> = modules::REGISTRY.iter().map(|m| m.name).collect();
    known.extend(RUNNER_ACTIONS.iter().filter(|a| **a != "import_playbook"));
    known.sort_unstable();
    format!(
        "unknown module or keyword '{name}': talon does not support it (modules: {}; keywords: {})",
        known.join(", "),
        TASK_KEYS.join(", ")
    )
}

fn import_target(value: &Node, mark: &Mark) -> Result<String, LoadError> {
    match &value.kind {
        NodeKind::Str(s) => Ok(s.clone()),
        NodeKind::Map(_) => match value.get("file") {
            Some(f) => scalar_string(f),
            None => Err(LoadError::at(mark, "expected a file name or 'file:'")),
        },
        _ => Err(LoadError::at(mark, "expected a file name")),
    }
}

fn role_ref(value: &Node, mark: &Mark) -> Result<(String, Option<String>, Vars), LoadError> {
    match &value.kind {
        NodeKind::Str(s) => Ok((s.clone(), None, Vars::new())),
        NodeKind::Map(m) => {
            let mut name = None;
            let mut tasks_from = None;
            let mut vars = Vars::new();
            for (k, v) in m {
                match k.name.as_str() {
                    "name" | "role" => name = Some(scalar_string(v)?),
                    "tasks_from" => tasks_from = Some(scalar_string(v)?),
                    "vars" => vars.extend(vars_of(v, "vars")?),
                    "public" | "apply" | "allow_duplicates" | "handlers_from" | "defaults_from"
                    | "vars_from" => {
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
            Ok((
                name.ok_or_else(|| LoadError::at(mark, "needs 'name:'"))?,
                tasks_from,
                vars,
            ))
        }
        _ => Err(LoadError::at(mark, "expected a role name or a mapping")),
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

fn wrap_import(e: LoadError, mark: &Mark) -> LoadError {
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
/// choices (ansible-core finds these only when the task runs, after earlier tasks changed hosts).
///
/// Errors: [`LoadError::At`] at `mark` naming the module and the argument.
fn check_module_args<'m>(
    info: &modules::ModuleInfo,
    args: &Vars,
    mark: &'m Mark,
    mark_of: impl Fn(&str) -> &'m Mark,
) -> Result<(), LoadError> {
    let spec = &info.spec;
    for (name, value) in args {
        let Some(def) = spec.find(name) else {
            if spec.free_form && name == "_raw_params" {
                continue;
            }
            return Err(LoadError::at(
                mark,
                format!(
                    "module '{}' does not take the argument '{}' (it takes: {})",
                    info.name,
                    name,
                    spec.names().join(", ")
                ),
            ));
        };
        modules::spec::ArgSpec::check_literal(def, value)
            .map_err(|e| LoadError::at(mark_of(name), format!("module '{}': {e}", info.name)))?;
    }
    if let Some(both) = spec.conflict(|k| {
        spec.find(k).is_some_and(|d| {
            std::iter::once(d.name)
                .chain(d.aliases.iter().copied())
                .any(|n| args.get(n).is_some_and(|v| !v.is_null()))
        })
    }) {
        return Err(LoadError::at(
            mark,
            format!(
                "module '{}': parameters are mutually exclusive: {both}",
                info.name
            ),
        ));
    }
    Ok(())
}

/// Module arguments from a task: a mapping, a free-form string, plus an `args:` mapping.
fn module_args(module: &str, value: &Node, args_kw: Option<&Node>) -> Result<Vars, LoadError> {
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

#[cfg(test)]
mod tests;
