//! Inventory: hosts, groups, their variables with Ansible's precedence, and host patterns.
//!
//! Users bring their Ansible inventories unchanged, so this module reads the same sources
//! ansible-core does (YAML and INI files, directories of them, `host1,host2,` lists), adds the
//! same `group_vars/` and `host_vars/` files from next to the inventory and next to the playbook,
//! merges variables in the documented order, and selects hosts with the same pattern language
//! (`hosts:` and `--limit`). `list_json`, `graph` and `host_json` reproduce `ansible-inventory`.
//!
//! # Variable precedence (low to high), as ansible-core's `VariableManager.get_vars`
//! 1. inventory file group vars of `all`;
//! 2. inventory file group vars of the host's other groups, by (depth, `ansible_group_priority`,
//!    name): parents before children;
//! 3. `group_vars/all` next to each inventory source (in source order);
//! 4. `group_vars/all` next to each playbook directory;
//! 5. `group_vars/<group>` next to each inventory source (source order, then group order as in 2);
//! 6. `group_vars/<group>` next to each playbook directory;
//! 7. inventory file host vars (including `ansible_port` from `host:port`, `inventory_file`,
//!    `inventory_dir`);
//! 8. `host_vars/<host>` next to each inventory source;
//! 9. `host_vars/<host>` next to each playbook directory;
//! 10. magic variables `inventory_hostname`, `inventory_hostname_short`, `group_names`.
//!
//! Each layer replaces whole values (`hash_behaviour = replace`).
mod builder;
mod constructed;
mod dynamic;
mod files;
mod ini;
pub mod pattern;
mod script;
mod show;
pub use show::ListOptions;
mod yaml;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::vars::{Vars, overlay};
use crate::yaml::{Mark, YamlError};
use builder::Builder;
use files::DirVars;
use pattern::{Matcher, Step, Term};
/// The most hosts one inventory (all its sources together) may hold. ansible-core has no bound;
/// this one keeps a typo such as `web[0:9999][0:99]` from taking gigabytes (each host costs
/// about a kilobyte with its merged variables) while staying far above real fleets.
pub const MAX_INVENTORY_HOSTS: u64 = 100_000;

/// Names Ansible treats as the implicit localhost (`C.LOCALHOST`).
pub const LOCALHOST_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

/// Variables `ansible-inventory` leaves out of its output (part of `C.INTERNAL_STATIC_VARS`;
/// the rest never come from inventory).
const INTERNAL_VARS: [&str; 5] = [
    "inventory_dir",
    "inventory_file",
    "inventory_hostname",
    "inventory_hostname_short",
    "group_names",
];

/// Why an inventory could not be loaded or a pattern evaluated. Every variant says where and
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// A source path that does not exist (and is not a `host1,host2` list).
    #[error(
        "{path}: inventory source not found; check the path given with -i (relative paths start at the current directory)"
    )]
    Missing { path: PathBuf },
    /// A file or directory that could not be read.
    #[error("{path}: cannot read: {source}; check that it exists and is readable")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file too large, not a regular file, or not UTF-8 (see [`crate::input`]).
    #[error(transparent)]
    Input(crate::input::InputError),
    /// A YAML syntax error in an inventory or variables file.
    #[error("{0}; fix the YAML syntax there")]
    Yaml(YamlError),
    /// Vault data in an inventory or variables file that no vault password opens.
    #[error("{0}")]
    Vault(YamlError),
    /// Content that parsed but is not a valid inventory: where, what, and how to fix it.
    #[error("{at}: {what}; {fix}")]
    Parse { at: Mark, what: String, fix: String },
    /// `children` that loop back to themselves; `at` is where the loop's first `children` entry
    /// is, `chain` every entry of the loop with its place.
    #[error(
        "{at}: group '{group}' is a descendant of itself ({chain}); remove one of these children entries"
    )]
    Cycle { at: Mark, group: String, chain: String },
    /// A host pattern that cannot be evaluated (bad `~regex`, subscript out of range).
    #[error("host pattern '{pattern}': {what}; fix the pattern in `hosts:` or --limit")]
    Pattern { pattern: String, what: String },
    /// A `--limit @file` that cannot be read.
    #[error("--limit file {path}: {what}; give a readable file with one host name per line")]
    LimitFile { path: PathBuf, what: String },
}

impl From<YamlError> for InventoryError {
    fn from(e: YamlError) -> Self {
        match e {
            YamlError::Vault { .. } | YamlError::VaultFile { .. } => InventoryError::Vault(e),
            other => InventoryError::Yaml(other),
        }
    }
}

impl InventoryError {
    fn parse(at: Mark, what: String, fix: &str) -> Self {
        InventoryError::Parse {
            at,
            what,
            fix: fix.to_string(),
        }
    }
}

/// One inventory host.
#[derive(Debug, Clone)]
pub struct Host {
    name: String,
    vars: Vars,
    groups: Vec<String>,
    implicit: bool,
}

impl Host {
    /// The inventory hostname (what patterns and `inventory_hostname` see).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Variables set on the host in inventory files only (host lines, `hosts:` entries, `:port`),
    /// in definition order; see [`Inventory::host_vars`] for the merged view.
    pub fn inventory_vars(&self) -> &Vars {
        &self.vars
    }

    /// Every group the host belongs to, directly or through `children`, including `all`.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// Whether this is Ansible's implicit localhost (named in a pattern, absent from the
    /// inventory; `ansible_connection=local`, not a member of `all`).
    pub fn is_implicit(&self) -> bool {
        self.implicit
    }
}

/// `direct` groups and every ancestor of them (through `parents`), each once.
fn with_ancestors(direct: Vec<String>, groups: &IndexMap<String, Group>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    let mut stack = direct;
    while let Some(g) = stack.pop() {
        if all.contains(&g) {
            continue;
        }
        if let Some(grp) = groups.get(&g) {
            stack.extend(grp.parents.iter().cloned());
        }
        all.push(g);
    }
    all
}

/// One group.
#[derive(Debug, Clone, Default)]
struct Group {
    hosts: Vec<String>,
    children: Vec<String>,
    parents: Vec<String>,
    vars: Vars,
    priority: i64,
    depth: usize,
}

/// A loaded inventory: hosts and groups in definition order, variables merged per host.
#[derive(Debug, Clone)]
pub struct Inventory {
    hosts: IndexMap<String, Host>,
    groups: IndexMap<String, Group>,
    /// Base directories of the inventory sources (where their `group_vars/`/`host_vars/` are).
    source_dirs: Vec<PathBuf>,
    source_vars: Vec<DirVars>,
    playbook_dirs: Vec<PathBuf>,
    playbook_vars: Vec<DirVars>,
    /// Implicit localhost entries for the localhost names absent from the inventory.
    implicit: IndexMap<String, Host>,
    /// Merged variables (including magic variables) per host, implicit localhost included.
    merged: HashMap<String, Arc<Vars>>,
}

impl Inventory {
    /// Loads and merges inventory sources, like `ansible-playbook -i SRC -i SRC2`.
    ///
    /// Each source is a file (YAML when named `.yml`/`.yaml`/`.json`, or when it has no
    /// extension and parses as a YAML mapping; INI otherwise), a directory (every entry, sorted,
    /// recursively, skipping dotfiles, `group_vars`, `host_vars`, `*.md`, `*.retry`, `*.cfg` ...),
    /// or, when no such path exists and it contains a comma, a `host1,host2,` list. Then the
    /// `group_vars/`/`host_vars/` beside each source are read (inside a directory source, beside
    /// a file source).
    ///
    /// Errors: see [`InventoryError`]; any source that fails is an error (Ansible only warns).
    pub fn load(sources: &[PathBuf]) -> Result<Inventory, InventoryError> {
        let mut b = Builder::new();
        let mut source_dirs = Vec::new();
        for src in sources {
            if !src.exists() {
                let text = src.to_string_lossy();
                if text.contains(',') {
                    host_list(&text, &mut b)?;
                    continue;
                }
                return Err(InventoryError::Missing { path: src.clone() });
            }
            let abs = std::path::absolute(src).unwrap_or_else(|_| src.clone());
            parse_source(&abs, &mut b)?;
            let dir = if abs.is_dir() {
                abs.clone()
            } else {
                abs.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            source_dirs.push(dir);
        }
        b.reconcile()?;
        let mut inv = Inventory::bare(b);
        for dir in source_dirs {
            let dv = inv.dir_vars(&dir)?;
            inv.source_dirs.push(dir);
            inv.source_vars.push(dv);
        }
        inv.remerge();
        Ok(inv)
    }

    /// The hosts and groups a builder collected, with the implicit localhost for each
    /// localhost name the inventory lacks; no variables merged yet.
    fn bare(b: Builder) -> Inventory {
        let mut inv = Inventory {
            hosts: b.hosts,
            groups: b.groups,
            source_dirs: Vec::new(),
            source_vars: Vec::new(),
            playbook_dirs: Vec::new(),
            playbook_vars: Vec::new(),
            implicit: IndexMap::new(),
            merged: HashMap::new(),
        };
        for name in LOCALHOST_NAMES {
            if !inv.hosts.contains_key(name) {
                let mut vars = inv.groups.get("all").map(|g| g.vars.clone()).unwrap_or_default();
                vars.insert("ansible_connection".into(), Value::from("local"));
                inv.implicit.insert(
                    name.to_string(),
                    Host {
                        name: name.to_string(),
                        vars,
                        groups: Vec::new(),
                        implicit: true,
                    },
                );
            }
        }
        inv
    }

    /// Adds a playbook directory whose `group_vars/` and `host_vars/` apply above the inventory's
    /// (precedence layers 4, 6 and 9 in the module docs). Call once per playbook directory, in
    /// playbook order; adding the same directory twice has no further effect.
    ///
    /// Errors: a variables file there that cannot be read or parsed.
    pub fn add_playbook_dir(&mut self, dir: &Path) -> Result<(), InventoryError> {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        if self.playbook_dirs.contains(&dir) {
            return Ok(());
        }
        let dv = self.dir_vars(&dir)?;
        self.playbook_dirs.push(dir);
        self.playbook_vars.push(dv);
        self.remerge();
        Ok(())
    }

    fn dir_vars(&self, dir: &Path) -> Result<DirVars, InventoryError> {
        DirVars::load(
            dir,
            self.groups.keys().map(String::as_str),
            self.hosts.keys().chain(self.implicit.keys()).map(String::as_str),
        )
    }

    /// Recomputes every host's merged variables.
    fn remerge(&mut self) {
        let mut merged = HashMap::new();
        for h in self.hosts.values().chain(self.implicit.values()) {
            let mut v = self.layered_vars(h);
            add_magic(&mut v, h);
            merged.insert(h.name.clone(), Arc::new(v));
        }
        self.merged = merged;
    }

    /// The host's groups other than `all`, in the order their variables apply: (depth,
    /// `ansible_group_priority`, name), parents before children.
    fn vars_groups(&self, h: &Host) -> Vec<(&String, &Group)> {
        let mut groups: Vec<(&String, &Group)> = h
            .groups
            .iter()
            .filter(|g| g.as_str() != "all")
            .filter_map(|g| self.groups.get_key_value(g.as_str()))
            .collect();
        groups.sort_by(|a, b| (a.1.depth, a.1.priority, a.0).cmp(&(b.1.depth, b.1.priority, b.0)));
        groups
    }

    /// Precedence layers 1-9 (no magic variables) for one host.
    fn layered_vars(&self, h: &Host) -> Vars {
        let groups = self.vars_groups(h);
        let mut v = Vars::new();
        if let Some(all) = self.groups.get("all") {
            overlay(&mut v, &all.vars);
        }
        for (_, g) in &groups {
            overlay(&mut v, &g.vars);
        }
        for dv in self.source_vars.iter().chain(&self.playbook_vars) {
            if let Some(all) = dv.groups.get("all") {
                overlay(&mut v, all);
            }
        }
        for dvs in [&self.source_vars, &self.playbook_vars] {
            for dv in dvs {
                for (name, _) in &groups {
                    if let Some(gv) = dv.groups.get(name.as_str()) {
                        overlay(&mut v, gv);
                    }
                }
            }
        }
        overlay(&mut v, &h.vars);
        for dv in self.source_vars.iter().chain(&self.playbook_vars) {
            if let Some(hv) = dv.hosts.get(&h.name) {
                overlay(&mut v, hv);
            }
        }
        v
    }

    /// The merged variables of a host (every precedence layer in the module docs, magic
    /// variables `inventory_hostname`, `inventory_hostname_short`, `group_names` included; `groups`
    /// is not, see [`Inventory::groups_map`]). Also answers for the implicit localhost
    /// (`localhost`, `127.0.0.1`, `::1` when absent from the inventory). Empty for an unknown host.
    ///
    /// `group_names` is sorted and, as in Ansible, excludes `all` but includes `ungrouped`.
    /// Cached: computed at load and when a playbook directory is added.
    pub fn host_vars(&self, host: &str) -> Vars {
        self.merged.get(host).map(|v| (**v).clone()).unwrap_or_default()
    }

    /// The variables of a host absent from the inventory (a `delegate_to` target reached by
    /// its name): the `all` group's, with the magic variables, as ansible-core's
    /// VariableManager gives a new `Host(name)` in no group.
    pub fn host_vars_unknown(&self, host: &str) -> Vars {
        let h = Host {
            name: host.to_string(),
            vars: Vars::new(),
            groups: Vec::new(),
            implicit: false,
        };
        let mut v = self.layered_vars(&h);
        add_magic(&mut v, &h);
        v
    }

    /// Like [`Inventory::host_vars`] without copying (shared, read-only).
    pub fn host_vars_shared(&self, host: &str) -> Option<Arc<Vars>> {
        self.merged.get(host).cloned()
    }

    /// A host by name, including the implicit localhost names.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name).or_else(|| self.implicit.get(name))
    }

    /// Every inventory host in definition order (the implicit localhost is not one).
    pub fn hosts(&self) -> impl Iterator<Item = &Host> {
        self.hosts.values()
    }

    /// Group names in definition order (`all` and `ungrouped` first).
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.keys().map(String::as_str)
    }

    /// The hosts of a group including its descendants' hosts, in Ansible's order (the group's own
    /// hosts, then its children breadth-first); `None` for an unknown group.
    pub fn group_hosts(&self, group: &str) -> Option<Vec<String>> {
        let g = self.groups.get(group)?;
        let mut order: Vec<&str> = vec![group];
        let mut seen: HashSet<&str> = HashSet::from([group]);
        let mut frontier: Vec<&str> = Vec::new();
        for c in &g.children {
            if seen.insert(c) {
                order.push(c);
                frontier.push(c);
            }
        }
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for f in frontier {
                for c in self
                    .groups
                    .get(f)
                    .map(|g| g.children.as_slice())
                    .unwrap_or_default()
                {
                    if seen.insert(c) {
                        order.push(c);
                        next.push(c.as_str());
                    }
                }
            }
            frontier = next;
        }
        let mut out = Vec::new();
        let mut seen_hosts = HashSet::new();
        for gname in order {
            for h in self
                .groups
                .get(gname)
                .map(|g| g.hosts.as_slice())
                .unwrap_or_default()
            {
                if seen_hosts.insert(h.as_str()) {
                    out.push(h.clone());
                }
            }
        }
        Some(out)
    }

    /// The `groups` magic variable: every group (including `all` and `ungrouped`) -> its hosts
    /// (descendants included, see [`Inventory::group_hosts`]), in group definition order.
    pub fn groups_map(&self) -> Vars {
        self.groups
            .keys()
            .map(|g| {
                let hosts = self.group_hosts(g).unwrap_or_default();
                (
                    g.clone(),
                    Value::Array(hosts.into_iter().map(Value::String).collect()),
                )
            })
            .collect()
    }

    /// The hosts a pattern selects (`hosts:` of a play), in inventory order, without duplicates;
    /// empty when nothing matches (the caller warns like Ansible "no hosts matched").
    ///
    /// Matches ansible-core `InventoryManager.get_hosts`: items separated by `,` (or `:` in the
    /// legacy form); each item is a host or group name, `all`/`*`, a glob (`web*`), or `~regex`
    /// (matched from the start of the name); `&item` intersects, `!item` excludes, applied after
    /// all plain items; `group[0]`, `group[-1]`, `group[1:3]` (inclusive), `group[2:]` subscript a
    /// group's hosts. A name in `localhost`/`127.0.0.1`/`::1` that matches nothing selects the
    /// implicit localhost.
    ///
    /// Errors: an invalid `~regex`, a `[i]` subscript past the end.
    pub fn select(&self, pattern: &str) -> Result<Vec<String>, InventoryError> {
        self.evaluate(pattern::parse(pattern), pattern)
    }

    /// Filters `hosts` (keeping their order) by a `--limit` pattern, like ansible-core
    /// `InventoryManager.subset`: the same pattern language as [`Inventory::select`], plus
    /// `@path` items naming a file with one pattern (usually a host name) per line.
    ///
    /// Errors: an unreadable `@file`, or an invalid pattern.
    pub fn limit(&self, hosts: Vec<String>, limit: &str) -> Result<Vec<String>, InventoryError> {
        let mut items = Vec::new();
        for item in pattern::split_patterns(limit) {
            if let Some(path) = item.strip_prefix('@') {
                let path = PathBuf::from(path);
                if path.is_dir() {
                    return Err(InventoryError::LimitFile {
                        path,
                        what: "is a directory".into(),
                    });
                }
                let text = crate::input::read_text(&path).map_err(|e| InventoryError::LimitFile {
                    path: path.clone(),
                    what: match e {
                        crate::input::InputError::Io { source, .. } => source.to_string(),
                        other => other.to_string(),
                    },
                })?;
                items.extend(
                    text.lines()
                        .map(|l| l.trim().to_string())
                        .filter(|l| !l.is_empty()),
                );
            } else {
                items.push(item);
            }
        }
        let allowed: HashSet<String> = self.evaluate(pattern::order(items), limit)?.into_iter().collect();
        Ok(hosts.into_iter().filter(|h| allowed.contains(h)).collect())
    }

    fn evaluate(&self, steps: Vec<Step>, whole: &str) -> Result<Vec<String>, InventoryError> {
        let mut hosts: Vec<String> = Vec::new();
        for step in steps {
            match step {
                Step::Union(t) => {
                    let matched = if t.subscript.is_none() && self.hosts.contains_key(&t.expr) {
                        vec![t.expr.clone()]
                    } else {
                        self.match_term(&t, whole)?
                    };
                    for h in matched {
                        if !hosts.contains(&h) {
                            hosts.push(h);
                        }
                    }
                }
                Step::Intersect(t) => {
                    let set: HashSet<String> = self.match_term(&t, whole)?.into_iter().collect();
                    hosts.retain(|h| set.contains(h));
                }
                Step::Exclude(t) => {
                    let set: HashSet<String> = self.match_term(&t, whole)?.into_iter().collect();
                    hosts.retain(|h| !set.contains(h));
                }
            }
        }
        Ok(hosts)
    }

    /// ansible-core `_match_one_pattern` + `_enumerate_matches` for one term.
    fn match_term(&self, t: &Term, whole: &str) -> Result<Vec<String>, InventoryError> {
        let err = |what: String| InventoryError::Pattern {
            pattern: whole.to_string(),
            what,
        };
        let m = Matcher::new(&t.expr).map_err(|e| err(e.0))?;
        let mut results = Vec::new();
        let mut matched_group = false;
        for g in self.groups.keys() {
            if m.is_match(g) {
                matched_group = true;
                results.extend(self.group_hosts(g).unwrap_or_default());
            }
        }
        if !matched_group || pattern::is_wild(&t.expr) {
            results.extend(self.hosts.keys().filter(|h| m.is_match(h)).cloned());
        }
        if results.is_empty() && self.implicit.contains_key(&t.expr) {
            results.push(t.expr.clone());
        }
        pattern::apply_subscript(results, t.subscript).map_err(|e| err(e.0))
    }
}

/// `inventory_hostname`, `inventory_hostname_short`, `group_names` (ansible-core
/// `Host.get_magic_vars`: the short name is the text before the first `.`, except for IP
/// addresses).
fn add_magic(v: &mut Vars, h: &Host) {
    let is_ip = h.name.parse::<std::net::IpAddr>().is_ok();
    let short = if is_ip {
        h.name.as_str()
    } else {
        h.name.split('.').next().unwrap_or(&h.name)
    };
    let mut names: Vec<&String> = h.groups.iter().filter(|g| g.as_str() != "all").collect();
    names.sort();
    v.insert("inventory_hostname".into(), Value::from(h.name.clone()));
    v.insert("inventory_hostname_short".into(), Value::from(short));
    v.insert(
        "group_names".into(),
        Value::Array(names.into_iter().map(|n| Value::from(n.clone())).collect()),
    );
}

/// A JSON value with every object's keys sorted (recursively).
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// A `host1,host2:2222,` source (ansible-core `host_list` plugin): hosts into `ungrouped`.
///
/// Errors: more than [`MAX_INVENTORY_HOSTS`] hosts in all.
fn host_list(text: &str, b: &mut Builder) -> Result<(), InventoryError> {
    let at = Mark::file(Path::new("-i host list"));
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (name, port) = pattern::split_host_port(item);
        if !b.hosts.contains_key(&name) {
            b.check_room(1, item, &at)?;
            b.add_host(&name, Some("ungrouped"), port);
        }
    }
    Ok(())
}

/// Reads an inventory or variables file whole, within [`crate::input::TEXT_LIMIT`].
fn read_source(path: &Path) -> Result<String, InventoryError> {
    crate::input::read_text(path).map_err(|e| match e {
        crate::input::InputError::Io { path, source } => InventoryError::Read { path, source },
        other => InventoryError::Input(other),
    })
}

/// Parses one existing source path: a directory recursively, or a file.
fn parse_source(path: &Path, b: &mut Builder) -> Result<(), InventoryError> {
    if path.is_dir() {
        let names = files::sorted_entries(path).map_err(|source| InventoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        for n in names {
            if !files::ignored_in_inventory_dir(&n) {
                parse_source(&path.join(n), b)?;
            }
        }
        return Ok(());
    }
    // ansible-core tries its `script` plugin before the file formats: an executable source (or
    // one starting with `#!`) is run. One that is executable but is no program (a YAML file
    // with the x bit) fails to run and is read as a file, as ansible-core falls through to the
    // next plugin.
    if script::is_script(path) {
        b.source = Some(path.to_path_buf());
        let result = script::parse(path, b);
        b.source = None;
        match result {
            Ok(()) => return Ok(()),
            Err(e) if read_source(path).is_ok_and(|t| t.starts_with("#!")) => return Err(e),
            Err(_) => {}
        }
    }
    let text = files::decrypt_vault(read_source(path)?, path)?;
    b.source = Some(path.to_path_buf());
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    let result = match ext.as_deref() {
        Some("yml" | "yaml" | "json" | "config") | None if text.lines().any(|l| l.starts_with("plugin:")) => {
            let node = crate::yaml::parse_str(&text, path)?;
            plugin_source(&node, path, b)
        }
        Some("yml" | "yaml" | "json") => {
            let node = crate::yaml::parse_str(&text, path)?;
            yaml::parse(&node, b)
        }
        Some("toml") => Err(InventoryError::parse(
            Mark::file(path),
            "TOML inventories are not supported".into(),
            "convert it to YAML or INI",
        )),
        None if text.starts_with("#!") => Err(InventoryError::parse(
            Mark::file(path),
            "executable inventory scripts are not supported".into(),
            "run the script once and save its output as a YAML inventory",
        )),
        None => match crate::yaml::parse_str(&text, path) {
            Ok(node) if node.as_map().is_some() => yaml::parse(&node, b),
            _ => ini::parse(&text, &Mark::file(path), b),
        },
        Some(_) => ini::parse(&text, &Mark::file(path), b),
    };
    b.source = None;
    result
}

/// A YAML inventory source with `plugin:` (ansible-core's `auto` plugin): the constructed
/// plugin is applied; any other plugin is an error naming it.
fn plugin_source(node: &crate::yaml::Node, path: &Path, b: &mut Builder) -> Result<(), InventoryError> {
    let Some(plugin) = node.get("plugin") else {
        return yaml::parse(node, b);
    };
    let Some(name) = plugin.as_str() else {
        return yaml::parse(node, b);
    };
    if constructed::NAMES.contains(&name) {
        return constructed::apply(node, path, b);
    }
    Err(InventoryError::parse(
        plugin.mark.clone(),
        format!(
            "inventory plugin '{name}' is not supported (talon has the constructed plugin and inventory scripts)"
        ),
        "list the hosts in a YAML or INI inventory, or have a script print them as JSON with --list",
    ))
}

#[cfg(test)]
mod tests;
