//! What `talon inventory` prints: `--list` (ansible-inventory's JSON), `--host`, `--graph`.

use super::*;

impl Inventory {
    /// The `ansible-inventory --list` document: `_meta.hostvars` (each host's merged variables
    /// without magic/internal ones, hosts with none omitted; `profile: inventory_legacy` as
    /// ansible-core 2.19 writes it), then one entry per non-empty group
    /// with `hosts` (direct members) and `children`; keys sorted like its `json.dumps(sort_keys)`.
    pub fn list_json(&self) -> Value {
        let mut out = Map::new();
        let mut seen = HashSet::new();
        self.format_group("all", &mut out, &mut seen);
        let mut hostvars = Map::new();
        for h in self.hosts.values() {
            let v = self.export_vars(h);
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

    fn format_group(&self, name: &str, out: &mut Map<String, Value>, seen: &mut HashSet<String>) {
        let Some(g) = self.groups.get(name) else {
            return;
        };
        let mut entry = Map::new();
        if name != "all" && !g.hosts.is_empty() {
            entry.insert("hosts".into(), Value::from(g.hosts.clone()));
        }
        if !g.children.is_empty() {
            entry.insert("children".into(), Value::from(g.children.clone()));
        }
        for c in &g.children {
            if seen.insert(c.clone()) {
                self.format_group(c, out, seen);
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
        self.graph_group("all").unwrap_or_default()
    }

    /// `ansible-inventory --graph GROUP`; `None` when the group does not exist.
    pub fn graph_group(&self, group: &str) -> Option<String> {
        self.groups.get(group)?;
        let mut lines = Vec::new();
        self.graph_lines(group, 0, &mut lines, &mut Vec::new());
        Some(lines.join("\n"))
    }

    fn graph_lines(&self, name: &str, depth: usize, lines: &mut Vec<String>, path: &mut Vec<String>) {
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
                self.graph_lines(c, depth + 1, lines, path);
            }
        }
        path.pop();
        if name != "all" {
            for h in &g.hosts {
                lines.push(indent(depth + 1, h));
            }
        }
    }
}
