//! Changes a run makes to the inventory, as ansible-core's `add_host` and `group_by` make them
//! (`InventoryData.add_group`/`add_child`/`add_host`, then `reconcile_inventory`): new groups
//! are children of `all` (or of the given parents), a host in a real group leaves `ungrouped`,
//! and merged variables (group_vars of a new group included) are computed again.

use super::{Group, Host, Inventory};
use crate::vars::Vars;
use serde_json::Value;

impl Inventory {
    /// Makes `group` exist, as a child of each of `parents` (created as children of `all` when
    /// missing). Returns whether anything was created or linked.
    fn ensure_group(&mut self, group: &str, parents: &[String]) -> bool {
        let mut changed = false;
        for p in parents {
            if p != "all" && !self.groups.contains_key(p) {
                self.ensure_group(p, &["all".to_string()]);
                changed = true;
            }
        }
        if !self.groups.contains_key(group) {
            let depth = parents
                .iter()
                .filter_map(|p| self.groups.get(p))
                .map(|g| g.depth + 1)
                .max()
                .unwrap_or(1);
            self.groups.insert(
                group.to_string(),
                Group {
                    depth,
                    priority: 1,
                    ..Group::default()
                },
            );
            changed = true;
        }
        for p in parents {
            if p == group {
                continue;
            }
            let linked = self
                .groups
                .get(p)
                .is_some_and(|g| g.children.iter().any(|c| c == group));
            if !linked {
                if let Some(pg) = self.groups.get_mut(p) {
                    pg.children.push(group.to_string());
                }
                if let Some(g) = self.groups.get_mut(group) {
                    g.parents.push(p.clone());
                }
                changed = true;
            }
        }
        changed
    }

    /// Puts `host` directly in `group`; returns whether it was not there yet.
    fn join(&mut self, host: &str, group: &str) -> bool {
        match self.groups.get_mut(group) {
            Some(g) if !g.hosts.iter().any(|h| h == host) => {
                g.hosts.push(host.to_string());
                true
            }
            _ => false,
        }
    }

    /// Recomputes `host`'s groups (its direct groups and their ancestors) and its `ungrouped`
    /// membership, then every host's merged variables.
    fn settle(&mut self, host: &str) {
        let direct: Vec<String> = self
            .groups
            .iter()
            .filter(|(n, g)| n.as_str() != "ungrouped" && g.hosts.iter().any(|h| h == host))
            .map(|(n, _)| n.clone())
            .collect();
        let real = direct.iter().any(|g| g != "all");
        if let Some(u) = self.groups.get_mut("ungrouped") {
            u.hosts.retain(|h| h != host || !real);
        }
        let mut direct = direct;
        if !real
            && self
                .groups
                .get("ungrouped")
                .is_some_and(|u| u.hosts.iter().any(|h| h == host))
        {
            direct.push("ungrouped".into());
        }
        let mut all = super::with_ancestors(direct, &self.groups);
        if !all.iter().any(|g| g == "all") {
            all.push("all".into());
        }
        if let Some(h) = self.hosts.get_mut(host) {
            h.groups = all;
        }
        self.remerge();
    }

    /// `group_by`: puts `host` in `group` (created as a child of `parents`, `all` when empty).
    /// Returns whether the host was not in the group yet (ansible-core's `changed`).
    pub fn group_by(&mut self, host: &str, group: &str, parents: &[String]) -> bool {
        let parents = if parents.is_empty() {
            vec!["all".to_string()]
        } else {
            parents.to_vec()
        };
        self.ensure_group(group, &parents);
        let changed = self.join(host, group);
        if changed {
            self.settle(host);
        }
        changed
    }

    /// `add_host`: makes `host` exist (in `all`) with `vars` set on it, in each of `groups`
    /// (created as children of `all`). Returns whether anything changed: a new host, a new group
    /// membership or a variable with a new value.
    pub fn add_host(&mut self, host: &str, groups: &[String], vars: &Vars) -> bool {
        let mut changed = false;
        if !self.hosts.contains_key(host) {
            self.implicit.shift_remove(host);
            self.hosts.insert(
                host.to_string(),
                Host {
                    name: host.to_string(),
                    vars: Vars::new(),
                    groups: Vec::new(),
                    implicit: false,
                },
            );
            self.join(host, "all");
            changed = true;
        }
        if let Some(h) = self.hosts.get_mut(host) {
            for (k, v) in vars {
                if h.vars.get(k) != Some(v) {
                    h.vars.insert(k.clone(), v.clone());
                    changed = true;
                }
            }
        }
        for g in groups {
            self.ensure_group(g, &["all".to_string()]);
            changed |= self.join(host, g);
        }
        let real = groups.iter().any(|g| g != "all");
        if !real
            && let Some(u) = self.groups.get_mut("ungrouped")
            && !u.hosts.iter().any(|h| h == host)
        {
            u.hosts.push(host.to_string());
        }
        self.settle(host);
        changed
    }

    /// The `groups` magic variable as a JSON value (see [`Inventory::groups_map`]).
    pub fn groups_value(&self) -> Value {
        Value::Object(self.groups_map())
    }

    /// An inventory of just the hosts and groups of a `groups` variable (group name -> host
    /// names), as the `inventory_hostnames` lookup builds one: each group flat (its list already
    /// holds its descendants' hosts), hosts in order of first appearance, no variables merged,
    /// the localhost names absent from it implicit.
    pub fn from_groups(groups: &serde_json::Map<String, Value>) -> Inventory {
        let mut b = super::Builder::new();
        for (group, hosts) in groups {
            b.add_group(group);
            for h in hosts.as_array().into_iter().flatten().filter_map(Value::as_str) {
                b.add_host(h, Some(group), None);
            }
        }
        Inventory::bare(b)
    }

    /// The hosts a list of patterns selects (ansible-core `get_hosts(pattern=[...])`: each item
    /// split as a pattern string, then all of them ordered and evaluated as one pattern).
    ///
    /// Errors: as [`Inventory::select`].
    pub fn select_all(&self, patterns: &[String]) -> Result<Vec<String>, super::InventoryError> {
        let items: Vec<String> = patterns
            .iter()
            .flat_map(|p| super::pattern::split_patterns(p))
            .collect();
        self.evaluate(super::pattern::order(items), &patterns.join(","))
    }
}
