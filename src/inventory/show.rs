//! What `talon inventory` prints: `--list` (ansible-inventory's JSON, or YAML with `--yaml`,
//! either with `--export`), `--host`, `--graph` (with `--vars`).

use super::*;

/// How `ansible-inventory --list` shapes its document.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// `--export`: each host's and group's own variables (inventory files, then `host_vars/` and
    /// `group_vars/` of the inventory sources and the playbook folder), groups' under `vars`,
    /// instead of every host's merged variables.
    pub export: bool,
    /// `--limit`: only these hosts are listed (groups left empty disappear); `None`: all.
    pub limit: Option<HashSet<String>>,
}

impl Inventory {
    /// The `ansible-inventory --list` document: `_meta.hostvars` (each host's merged variables
    /// without magic/internal ones, hosts with none omitted; `profile: inventory_legacy` as
    /// ansible-core 2.19 writes it), then one entry per non-empty group
    /// with `hosts` (direct members) and `children`; keys sorted like its `json.dumps(sort_keys)`.
    pub fn list_json(&self) -> Value {
        self.list_json_with(&ListOptions::default())
    }

    /// [`Inventory::list_json`] with `--export` and `--limit` (ansible-core's
    /// `InventoryCLI.json_inventory`): with `export`, each group's own variables are its `vars`
    /// and `_meta.hostvars` holds the hosts' own.
    pub fn list_json_with(&self, opts: &ListOptions) -> Value {
        let mut out = Map::new();
        let mut seen = HashSet::new();
        self.format_group("all", opts, &mut out, &mut seen);
        let mut hostvars = Map::new();
        for h in self.hosts.values().filter(|h| opts.listed(&h.name)) {
            let v = self.host_vars_for(h, opts.export);
            if !v.is_empty() {
                hostvars.insert(h.name.clone(), Value::Object(v));
            }
        }
        let mut meta = Map::new();
        meta.insert("hostvars".into(), Value::Object(hostvars));
        // ansible-core 2.19 names the shape of the document (its `inventory_legacy` profile).
        meta.insert("profile".into(), Value::from("inventory_legacy"));
        out.insert("_meta".into(), Value::Object(meta));
        sorted(Value::Object(out))
    }

    fn format_group(
        &self,
        name: &str,
        opts: &ListOptions,
        out: &mut Map<String, Value>,
        seen: &mut HashSet<String>,
    ) {
        let Some(g) = self.groups.get(name) else {
            return;
        };
        let mut entry = Map::new();
        let hosts: Vec<&String> = g.hosts.iter().filter(|h| opts.listed(h)).collect();
        if name != "all" && !hosts.is_empty() {
            entry.insert("hosts".into(), Value::from_iter(hosts.into_iter().cloned()));
        }
        if !g.children.is_empty() {
            entry.insert("children".into(), Value::from(g.children.clone()));
        }
        for c in &g.children {
            if seen.insert(c.clone()) {
                self.format_group(c, opts, out, seen);
            }
        }
        self.finish_group(name, opts, entry, out);
    }

    /// The `ansible-inventory --list --yaml` document (ansible-core's
    /// `InventoryCLI.yaml_inventory`): the group tree from `all` as nested `children`, each
    /// group's `hosts` as a mapping whose first appearance of a host carries its variables
    /// (later ones `{}`), a group already written appearing again as `{}`; with `export`, a
    /// group's own variables under `vars`. Written by [`crate::pyyaml::dump`].
    pub fn list_yaml(&self, opts: &ListOptions) -> String {
        let mut seen_hosts = HashSet::new();
        let mut seen_groups = HashSet::new();
        let mut top = Map::new();
        self.yaml_group("all", opts, &mut top, &mut seen_hosts, &mut seen_groups);
        crate::pyyaml::dump(&Value::Object(top))
    }

    fn yaml_group(
        &self,
        name: &str,
        opts: &ListOptions,
        out: &mut Map<String, Value>,
        seen_hosts: &mut HashSet<String>,
        seen_groups: &mut HashSet<String>,
    ) {
        let Some(g) = self.groups.get(name) else {
            return;
        };
        let mut entry = Map::new();
        let mut children = Map::new();
        for c in g.children.iter().filter(|c| c.as_str() != "all") {
            if seen_groups.contains(c) {
                children.insert(c.clone(), Value::Object(Map::new()));
            } else {
                self.yaml_group(c, opts, &mut children, seen_hosts, seen_groups);
                seen_groups.insert(c.clone());
            }
        }
        if !children.is_empty() {
            entry.insert("children".into(), Value::Object(children));
        }
        let mut hosts = Map::new();
        if name != "all" {
            for h in g.hosts.iter().filter(|h| opts.listed(h)) {
                let mut vars = Vars::new();
                if seen_hosts.insert(h.clone())
                    && let Some(host) = self.hosts.get(h)
                {
                    vars = self.host_vars_for(host, opts.export);
                }
                hosts.insert(h.clone(), Value::Object(vars));
            }
        }
        if !hosts.is_empty() {
            entry.insert("hosts".into(), Value::Object(hosts));
        }
        self.finish_group(name, opts, entry, out);
    }

    /// Adds the group's own `vars` under `--export` and files the entry under the group's name
    /// unless it is empty (ansible-inventory drops empty groups).
    fn finish_group(
        &self,
        name: &str,
        opts: &ListOptions,
        mut entry: Map<String, Value>,
        out: &mut Map<String, Value>,
    ) {
        if opts.export {
            let vars = self.group_own_vars(name);
            if !vars.is_empty() {
                entry.insert("vars".into(), Value::Object(vars));
            }
        }
        if !entry.is_empty() {
            out.insert(name.to_string(), Value::Object(entry));
        }
    }

    /// Merged variables minus the ones `ansible-inventory` hides.
    fn export_vars(&self, h: &Host) -> Vars {
        let mut v = self.layered_vars(h);
        for k in INTERNAL_VARS {
            v.remove(k);
        }
        v
    }

    /// A host's variables as `ansible-inventory` lists them: merged, or with `export` only its
    /// own (inventory files, then `host_vars/` of the sources and the playbook folder).
    fn host_vars_for(&self, h: &Host, export: bool) -> Vars {
        if !export {
            return self.export_vars(h);
        }
        let mut v = Vars::new();
        overlay(&mut v, &h.vars);
        for dv in self.source_vars.iter().chain(&self.playbook_vars) {
            if let Some(hv) = dv.hosts.get(&h.name) {
                overlay(&mut v, hv);
            }
        }
        for k in INTERNAL_VARS {
            v.remove(k);
        }
        v
    }

    /// A group's own variables (ansible-core's `InventoryCLI._get_group_variables`): inventory
    /// files, then `group_vars/` of the sources and the playbook folder, and
    /// `ansible_group_priority` when it is not 1.
    fn group_own_vars(&self, name: &str) -> Vars {
        let mut v = Vars::new();
        let Some(g) = self.groups.get(name) else {
            return v;
        };
        overlay(&mut v, &g.vars);
        for dv in self.source_vars.iter().chain(&self.playbook_vars) {
            if let Some(gv) = dv.groups.get(name) {
                overlay(&mut v, gv);
            }
        }
        if g.priority != 1 {
            v.insert("ansible_group_priority".into(), Value::from(g.priority));
        }
        for k in INTERNAL_VARS {
            v.remove(k);
        }
        v
    }

    /// `ansible-inventory --host NAME`: the host's merged variables (sorted keys, without
    /// magic/internal ones); `None` for a host not in the inventory (the implicit localhost
    /// answers, as in Ansible).
    pub fn host_json(&self, host: &str) -> Option<Value> {
        self.host(host)
            .map(|h| sorted(Value::Object(self.export_vars(h))))
    }

    /// `ansible-inventory --graph` text from `all`: `@all:`, then `  |--@group:` for children and
    /// `  |  |--host` for each group's direct hosts (hosts directly in `all` are not drawn).
    pub fn graph(&self) -> String {
        self.graph_group("all", false).unwrap_or_default()
    }

    /// `ansible-inventory --graph GROUP` (with `--vars` when `vars`: each host's merged variables
    /// under it and each group's own after its hosts, as `{name = value}` sorted by name, the
    /// value as Python's `str()`); `None` when the group does not exist.
    pub fn graph_group(&self, group: &str, vars: bool) -> Option<String> {
        self.groups.get(group)?;
        let mut lines = Vec::new();
        self.graph_lines(group, 0, vars, &mut lines, &mut Vec::new());
        Some(lines.join("\n"))
    }

    fn graph_lines(
        &self,
        name: &str,
        depth: usize,
        vars: bool,
        lines: &mut Vec<String>,
        path: &mut Vec<String>,
    ) {
        let Some(g) = self.groups.get(name) else {
            return;
        };
        let indent = |d: usize, s: &str| {
            if d == 0 {
                s.to_string()
            } else {
                format!("{}--{s}", "  |".repeat(d))
            }
        };
        lines.push(indent(depth, &format!("@{name}:")));
        path.push(name.to_string());
        for c in &g.children {
            if !path.contains(c) {
                self.graph_lines(c, depth + 1, vars, lines, path);
            }
        }
        path.pop();
        let show = |lines: &mut Vec<String>, d: usize, v: Vars| {
            let mut entries: Vec<(String, Value)> = v.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, val) in entries {
                lines.push(indent(
                    d,
                    &format!("{{{k} = {}}}", super::constructed::py_str(&val)),
                ));
            }
        };
        if name != "all" {
            for h in &g.hosts {
                lines.push(indent(depth + 1, h));
                if vars && let Some(host) = self.hosts.get(h) {
                    show(lines, depth + 2, self.export_vars(host));
                }
            }
        }
        if vars {
            show(lines, depth + 1, self.group_own_vars(name));
        }
    }
}

impl ListOptions {
    fn listed(&self, host: &str) -> bool {
        self.limit.as_ref().is_none_or(|l| l.contains(host))
    }
}
