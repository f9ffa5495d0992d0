//! Playbooks: raw YAML -> plays, roles and typed tasks (DESIGN habit 2 and 5).
//!
//! Loading is strict: an unknown play or task keyword, an unknown module, or a missing role is an
//! error that names `file:line:column`. Nothing is silently ignored, because a silently ignored
//! key is how a budget limit or a health check quietly stops existing. What ansible-playbook
//! meets only when the task runs (a module argument the module does not take, a literal value of
//! the wrong type) is a [`Finding`]: a warning, or an error with `--strict`.
//!
//! The types and the playbook file are here; the rooms beside: `play` (play keywords and
//! sections), `task` (task keywords and actions), `role` (roles and their dependencies),
//! `imports` (cycle and depth checks), `checks` (whole-play checks such as handlers), `lint`
//! (undefined variables), `findings` (what is a warning unless `--strict`), `vars_files` (where variables files are found), `kv` (`k=v` text).

mod checks;
pub(crate) use checks::is_variable_name;
pub mod findings;
mod imports;
mod include;
mod kv;
pub mod lint;
pub mod listing;
pub mod load_asserts;
mod play;
mod role;
pub mod taint;
mod task;
#[cfg(test)]
mod tests;
pub mod vars_files;
pub mod vars_prompt;
pub mod walk;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::error::LoadError;
use crate::modules;
use crate::vars::Vars;
use crate::yaml::{self, Key, Mark, Node, NodeKind};
pub use findings::Finding;
use imports::{Entry, ImportStack};
pub use imports::{MAX_IMPORT_DEPTH, MAX_INCLUDE_DEPTH};
pub use kv::{parse_kv, parse_kv_words};
pub use role::{PlayRoles, Role, RoleFiles, collections_path, default_roles_path};
pub use task::resolve_task_file;

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
    /// What loading found that fails a task only if it runs (module arguments), in order.
    pub findings: Vec<Finding>,
}

/// `strategy:` of a play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Every host finishes a task before any host starts the next (Ansible's default).
    Linear,
    /// Each host runs through the tasks as fast as it can.
    Free,
}

/// A play's `order:`, as ansible-core's inventory manager orders the play's hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostOrder {
    /// As the inventory lists them (the default).
    #[default]
    Inventory,
    /// The inventory's order reversed.
    ReverseInventory,
    /// By name.
    Sorted,
    /// By name, descending.
    ReverseSorted,
    /// Random (a fresh order for each play).
    Shuffle,
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
    /// `vars_files:` entries (templated at run time, loaded relative to the playbook): each a
    /// list of candidates of which the first that exists is read (one name, or Ansible's
    /// `- [a.yml, b.yml]` alternatives).
    pub vars_files: Vec<Vec<String>>,
    /// `become:` / `become_user:`.
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    /// `gather_facts:` (default true).
    pub gather_facts: bool,
    /// The play's `gather_subset`, `gather_timeout` and `fact_path`, for its fact gathering (raw).
    pub gather_args: Vars,
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
    /// `order:` the order of the play's hosts (ansible-core's `InventoryManager.get_hosts`).
    pub order: HostOrder,
    /// `max_fail_percentage:` once more than this share of the batch failed, every host of the
    /// batch fails and the run ends (linear strategy, as ansible-core).
    pub max_fail_percentage: Option<f64>,
    /// `any_errors_fatal:` on the play (inherited by every task).
    pub any_errors_fatal: Option<bool>,
    /// `throttle:`, `timeout:` and `ignore_unreachable:` on the play (inherited by every task).
    pub throttle: Option<Value>,
    pub timeout: Option<Value>,
    pub ignore_unreachable: Option<bool>,
    /// `tags:` on the play (inherited by every task).
    pub tags: Vec<String>,
    /// Sections run in order with a handler flush after each: pre_tasks, roles + tasks, post_tasks.
    pub sections: Vec<Vec<Task>>,
    /// Handlers of the play, then of its roles, in definition order.
    pub handlers: Vec<Task>,
    /// The roles of this play (their defaults and vars are visible play-wide, like Ansible).
    pub roles: Vec<Arc<Role>>,
    /// The roles the play references directly, in ansible-core's `play.roles` order (`roles:`
    /// entries, then `import_role`s as loaded), each with the names of all its dependencies.
    pub role_names: Vec<(String, Vec<String>)>,
    /// `vars_prompt:` entries (as written; rendered before the run, asked when the play
    /// starts: see [`vars_prompt`]).
    pub vars_prompt: Vec<Vars>,
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
    /// A module talon does not implement, run through ansible-core's own code on the host
    /// (see [`modules::python`]).
    Python {
        /// The module as ansible-core resolved it.
        module: std::sync::Arc<modules::python::PythonModule>,
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
        /// `apply:`, a block (no tasks yet) whose keywords the included tasks inherit.
        apply: Option<Box<Task>>,
    },
    /// `include_role:` (loaded when reached).
    IncludeRole {
        name: String,
        from: RoleFiles,
        /// `apply:`, as for [`Action::IncludeTasks`].
        apply: Option<Box<Task>>,
    },
    /// `set_fact:`.
    SetFact { args: Vars },
    /// `group_by:` (the inventory changes: see `Inventory::group_by`).
    GroupBy { args: Vars },
    /// `add_host:` (once per batch, as ansible-core's BYPASS_HOST_LOOP).
    AddHost { args: Vars },
    /// `include_vars:` (a file or `file:`/`dir:`/`name:`).
    IncludeVars { args: Vars },
    /// `meta:` (flush_handlers, noop, end_play, end_host, clear_host_errors, refresh_inventory).
    Meta(String),
    /// `gather_facts:` / `setup:` as a task, with the setup module's `gather_subset`, `filter`
    /// and `gather_timeout` (raw; templated at run time); the play's fact gathering passes the
    /// play's `gather_subset`/`gather_timeout`.
    GatherFacts(Vars),
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
    /// `with_<lookup>:`: the lookup that turns the (templated) terms in `loop_` into the items,
    /// as ansible-core's `with_` loops run it (`with_first_found` -> `first_found`).
    pub loop_with: Option<String>,
    /// For a `with_<lookup>` loop, the folder `first_found` searches under each search path:
    /// `templates`, `vars` or `files`, after the first of `template`, `var`, `file` found in the
    /// action's name as written (ansible-core's task executor), else `files`.
    pub loop_subdir: &'static str,
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
    /// `delegate_to:` (raw; templated per host): the host whose connection runs the task.
    pub delegate_to: Option<String>,
    /// `delegate_facts:`: facts the task sets (set_fact, gathered, a module's `ansible_facts`)
    /// go to the delegated host instead of the task's host (ansible-core's strategy).
    pub delegate_facts: bool,
    /// `connection:` on the task or block (`ssh`, `local`; raw): applies where the host has no
    /// `ansible_connection` (variables win over keywords, as in Ansible).
    pub connection: Option<String>,
    /// `remote_user:` on the task or block (raw): the user to connect as where the host has no
    /// `ansible_user`.
    pub remote_user: Option<String>,
    pub retries: Option<Value>,
    pub until: Option<Vec<String>>,
    pub delay: Option<Value>,
    pub check_mode: Option<bool>,
    pub diff: Option<bool>,
    /// `async:` the job's time limit in seconds (an integer or a template; 0 or absent: not
    /// async), as ansible-core's `async_val`.
    pub async_val: Option<Value>,
    /// `poll:` seconds between checks of an async job (default 15, ansible-core's
    /// `DEFAULT_POLL_INTERVAL`); 0 starts the job and goes on (fire-and-forget).
    pub poll: Option<Value>,
    /// `throttle:` at most this many hosts run the task at once (0: no limit; inherited from
    /// blocks and the play).
    pub throttle: Option<Value>,
    /// `timeout:` seconds the task's action may take (0: no limit; inherited).
    pub timeout: Option<Value>,
    /// `ignore_unreachable:` an unreachable result is counted ok and ignored, the host goes on.
    pub ignore_unreachable: Option<bool>,
    /// `any_errors_fatal:` a failure of this task on any host fails every host of the batch.
    pub any_errors_fatal: Option<bool>,
    /// The role this task belongs to, if any.
    pub role: Option<Arc<Role>>,
}

impl Task {
    /// The task as ansible-core's `Task.serialize()` shows its main fields (what
    /// `ansible_failed_task` holds in a `rescue`): `name` (`""` when unnamed), `action` (the
    /// module or keyword action), `args` (as written), `register`, `when`, `tags`.
    pub fn serialize(&self) -> serde_json::Value {
        let args = match &self.action {
            Some(Action::Module { args, .. } | Action::Python { args, .. }) => serde_json::json!(args),
            Some(Action::IncludeTasks { file, .. }) => serde_json::json!({"_raw_params": file}),
            Some(Action::IncludeRole { name, .. }) => serde_json::json!({"name": name}),
            Some(
                Action::SetFact { args }
                | Action::GroupBy { args }
                | Action::AddHost { args }
                | Action::IncludeVars { args }
                | Action::GatherFacts(args),
            ) => serde_json::json!(args),
            Some(Action::Meta(m)) => serde_json::json!({"_raw_params": m}),
            Some(Action::Block { .. }) | None => serde_json::json!({}),
        };
        let action = self.action_name();
        serde_json::json!({
            "name": self.name.clone().unwrap_or_default(),
            "action": action,
            "args": args,
            "register": self.register,
            "when": self.when,
            "tags": self.tags,
        })
    }

    /// The task's action as ansible-core names it in results and callbacks (`command`,
    /// `ansible.posix.mount` as written for the Python path, `set_fact`, `meta`, `block`; `""`
    /// for none).
    pub fn action_name(&self) -> String {
        match &self.action {
            Some(Action::Module { module, .. }) => module.name.to_string(),
            Some(Action::Python { module, .. }) => module.name.clone(),
            Some(Action::Block { .. }) => "block".into(),
            Some(Action::IncludeTasks { .. }) => "include_tasks".into(),
            Some(Action::IncludeRole { .. }) => "include_role".into(),
            Some(Action::SetFact { .. }) => "set_fact".into(),
            Some(Action::GroupBy { .. }) => "group_by".into(),
            Some(Action::AddHost { .. }) => "add_host".into(),
            Some(Action::IncludeVars { .. }) => "include_vars".into(),
            Some(Action::Meta(_)) => "meta".into(),
            Some(Action::GatherFacts(_)) => "gather_facts".into(),
            None => String::new(),
        }
    }

    /// The name shown in output: `name:`, or the module name like Ansible. Inside a role,
    /// `role : name`, except for `include_role`, which ansible-core's IncludeRole names
    /// `name` or `include_role : ROLE` without the enclosing role.
    pub fn display_name(&self) -> String {
        if let Some(Action::IncludeRole { name, .. }) = &self.action {
            return match &self.name {
                Some(n) => n.clone(),
                None => format!("include_role : {name}"),
            };
        }
        let base = match (&self.name, &self.action) {
            (Some(n), _) => n.clone(),
            (None, Some(Action::Module { module, .. })) => module.name.to_string(),
            (None, Some(Action::Python { module, .. })) => module.name.clone(),
            (None, Some(Action::Block { .. })) => "block".into(),
            (None, Some(Action::IncludeTasks { file, .. })) => format!("include_tasks {file}"),
            (None, Some(Action::IncludeRole { name, .. })) => format!("include_role {name}"),
            (None, Some(Action::SetFact { .. })) => "set_fact".into(),
            (None, Some(Action::GroupBy { .. })) => "group_by".into(),
            (None, Some(Action::AddHost { .. })) => "add_host".into(),
            (None, Some(Action::IncludeVars { .. })) => "include_vars".into(),
            (None, Some(Action::Meta(m))) => format!("meta: {m}"),
            (None, Some(Action::GatherFacts(_))) => "Gathering Facts".into(),
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
    /// Findings of the tasks loaded so far (warnings unless `--strict`).
    findings: Mutex<Vec<Finding>>,
    /// Roles the play being loaded references, with their dependencies' names (see
    /// `Loader::note_play_role`).
    play_roles: Mutex<Vec<(String, Vec<String>)>>,
}

/// Loads a playbook file with all its roles and static imports.
///
/// Errors: [`LoadError`] naming `file:line:column` for invalid YAML, unknown keywords, unknown
/// modules, missing roles or imported files, and static imports that form a
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
        let mut findings = Vec::new();
        for item in &items {
            if let Some(imp) = item
                .get("import_playbook")
                .or_else(|| item.get("ansible.builtin.import_playbook"))
            {
                let file = imp
                    .as_str()
                    .ok_or_else(|| LoadError::at(&imp.mark, "import_playbook takes a file name"))?;
                let sub = load_nested(&dir.join(file), Some(&self.imports), Some(&imp.mark))?;
                findings.extend(sub.findings);
                for mut p in sub.plays {
                    p.index = plays.len();
                    plays.push(p);
                }
                continue;
            }
            let index = plays.len();
            plays.push(self.play(item, index)?);
            findings.append(&mut self.findings.lock().unwrap_or_else(PoisonError::into_inner));
        }
        Ok(Playbook {
            path: path.to_path_buf(),
            dir,
            plays,
            task_count: self.next_id.load(Ordering::Relaxed),
            findings,
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

pub(super) fn string_list_plain(node: &Node) -> Result<Vec<String>, LoadError> {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().map(scalar_string).collect(),
        NodeKind::Null => Ok(Vec::new()),
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

pub(super) fn bool_of(node: &Node, what: &str) -> Result<bool, LoadError> {
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
pub(super) fn conditions(node: &Node) -> Result<Vec<String>, LoadError> {
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
