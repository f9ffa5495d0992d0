//! Building an inventory from its sources: groups, children, host entries (ranges bounded),
//! group variables, and the checks once all sources are read (cycles, depths, limits).

use super::*;

/// Collects hosts and groups while sources are parsed (ansible-core `InventoryData`).
pub(crate) struct Builder {
    pub(super) hosts: IndexMap<String, Host>,
    pub(super) groups: IndexMap<String, Group>,
    pub(super) source: Option<PathBuf>,
    /// Where each `(parent, child)` relation was first declared, for loop errors.
    pub(super) child_marks: HashMap<(String, String), Mark>,
}

impl Builder {
    pub(super) fn new() -> Self {
        let mut b = Builder {
            hosts: IndexMap::new(),
            groups: IndexMap::new(),
            source: None,
            child_marks: HashMap::new(),
        };
        b.add_group("all");
        b.add_group("ungrouped");
        b.add_child("all", "ungrouped");
        b
    }

    pub(super) fn has_group(&self, name: &str) -> bool {
        self.groups.contains_key(name)
    }

    pub(super) fn add_group(&mut self, name: &str) {
        self.groups.entry(name.to_string()).or_insert_with(|| Group {
            priority: 1,
            ..Group::default()
        });
    }

    pub(super) fn add_child(&mut self, parent: &str, child: &str) {
        self.add_group(parent);
        self.add_group(child);
        if let Some(p) = self.groups.get_mut(parent)
            && !p.children.iter().any(|c| c == child)
        {
            p.children.push(child.to_string());
        }
        if let Some(c) = self.groups.get_mut(child)
            && !c.parents.iter().any(|p| p == parent)
        {
            c.parents.push(parent.to_string());
        }
    }

    /// [`Builder::add_child`] for a `children` entry of a file, remembering where it is.
    pub(super) fn declare_child(&mut self, parent: &str, child: &str, at: &Mark) {
        self.child_marks
            .entry((parent.to_string(), child.to_string()))
            .or_insert_with(|| at.clone());
        self.add_child(parent, child);
    }

    /// Sets a group variable; `ansible_group_priority` sets the priority instead (ansible-core
    /// `Group.set_variable`), a non-integer priority is ignored.
    pub(super) fn set_group_var(&mut self, group: &str, key: &str, value: Value) {
        self.add_group(group);
        let Some(g) = self.groups.get_mut(group) else {
            return;
        };
        if key == "ansible_group_priority" {
            let p = value
                .as_i64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()));
            if let Some(p) = p {
                g.priority = p;
            }
        } else {
            g.vars.insert(key.to_string(), value);
        }
    }

    /// Adds the hosts of one inventory entry (`web[01:03]:2222`) to `group` with `vars`.
    pub(super) fn add_host_entry(
        &mut self,
        entry: &str,
        group: Option<&str>,
        vars: Vars,
        at: &Mark,
    ) -> Result<(), InventoryError> {
        let (name, port) = pattern::split_host_port(entry);
        if entry.trim_end().ends_with(':') && port.is_none() {
            return Err(InventoryError::parse(
                at.clone(),
                format!("host '{entry}' ends in ':'"),
                "':' introduces a port: write host:PORT, or drop the ':'",
            ));
        }
        let range_error = |e: pattern::PatternError| {
            InventoryError::parse(
                at.clone(),
                e.0,
                "write host ranges as name[01:10] or name[a:f], optionally with :step, each giving at most 1000000 names",
            )
        };
        let count = pattern::range_len(&name).map_err(range_error)?;
        self.check_room(count, entry, at)?;
        let names = pattern::expand_range(&name).map_err(range_error)?;
        for n in names {
            self.add_host(&n, group, port);
            if let Some(h) = self.hosts.get_mut(&n) {
                for (k, v) in &vars {
                    h.vars.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(())
    }

    /// Errors when adding `count` more hosts could pass [`MAX_INVENTORY_HOSTS`] (counted before
    /// any host is built; hosts already present count again, so the bound errs on the safe side).
    pub(super) fn check_room(&self, count: u64, entry: &str, at: &Mark) -> Result<(), InventoryError> {
        if (self.hosts.len() as u64).saturating_add(count) > MAX_INVENTORY_HOSTS {
            return Err(InventoryError::parse(
                at.clone(),
                format!(
                    "host entry '{entry}' would take the inventory past {MAX_INVENTORY_HOSTS} hosts ({} so far, {count} more), the most talon loads",
                    self.hosts.len()
                ),
                "check the host range bounds, or split the fleet into several inventories",
            ));
        }
        Ok(())
    }

    /// Adds a host (first definition sets `ansible_port`, `inventory_file`, `inventory_dir`).
    pub(super) fn add_host(&mut self, name: &str, group: Option<&str>, port: Option<u16>) {
        if !self.hosts.contains_key(name) {
            let mut vars = Vars::new();
            if let Some(port) = port {
                vars.insert("ansible_port".into(), Value::from(port));
            }
            let (file, dir) = match &self.source {
                Some(s) => (
                    Value::from(s.display().to_string()),
                    s.parent()
                        .map_or(Value::Null, |d| Value::from(d.display().to_string())),
                ),
                None => (Value::Null, Value::Null),
            };
            vars.insert("inventory_file".into(), file);
            vars.insert("inventory_dir".into(), dir);
            self.hosts.insert(
                name.to_string(),
                Host {
                    name: name.to_string(),
                    vars,
                    groups: Vec::new(),
                    implicit: false,
                },
            );
        }
        if let Some(g) = group {
            self.add_group(g);
            // A host is in a group's list exactly when the group is in the host's (short) list:
            // checking there keeps loading linear in the number of hosts.
            if let Some(h) = self.hosts.get_mut(name)
                && !h.groups.iter().any(|x| x == g)
            {
                h.groups.push(g.to_string());
                if let Some(grp) = self.groups.get_mut(g) {
                    grp.hosts.push(name.to_string());
                }
            }
        }
    }

    /// Ansible's `reconcile_inventory`: parentless groups become children of `all`, hosts with no
    /// group go to `ungrouped` (and leave it once they have another group); then depths and each
    /// host's full group list are computed.
    pub(super) fn reconcile(&mut self) -> Result<(), InventoryError> {
        let orphans: Vec<String> = self
            .groups
            .iter()
            .filter(|(n, g)| n.as_str() != "all" && g.parents.is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        for g in orphans {
            self.add_child("all", &g);
        }
        let names: Vec<String> = self.hosts.keys().cloned().collect();
        let mut leave_ungrouped = HashSet::new();
        for name in names {
            let direct: Vec<String> = self
                .hosts
                .get(&name)
                .map(|h| h.groups.clone())
                .unwrap_or_default();
            let real = direct.iter().any(|g| g != "all" && g != "ungrouped");
            if real && direct.iter().any(|g| g == "ungrouped") {
                if let Some(h) = self.hosts.get_mut(&name) {
                    h.groups.retain(|g| g != "ungrouped");
                }
                leave_ungrouped.insert(name);
            } else if !real && !direct.iter().any(|g| g == "ungrouped") {
                self.add_host(&name, Some("ungrouped"), None);
            }
        }
        if let Some(u) = self.groups.get_mut("ungrouped") {
            u.hosts.retain(|h| !leave_ungrouped.contains(h));
        }
        self.compute_depths()?;
        let names: Vec<String> = self.hosts.keys().cloned().collect();
        for name in names {
            let direct = self
                .hosts
                .get(&name)
                .map(|h| h.groups.clone())
                .unwrap_or_default();
            let all = super::with_ancestors(direct, &self.groups);
            if let Some(h) = self.hosts.get_mut(&name) {
                h.groups = all;
            }
        }
        Ok(())
    }

    /// Depth = longest `children` path from `all`; a loop is an error.
    pub(super) fn compute_depths(&mut self) -> Result<(), InventoryError> {
        fn visit(
            g: &str,
            b: &Builder,
            memo: &mut HashMap<String, usize>,
            path: &mut Vec<String>,
        ) -> Result<usize, InventoryError> {
            if let Some(d) = memo.get(g) {
                return Ok(*d);
            }
            if let Some(pos) = path.iter().position(|p| p == g) {
                // path[i+1] is a parent of path[i]: describe each link with its place.
                let mut chain = path[pos..].to_vec();
                chain.push(g.to_string());
                let links: Vec<(String, Option<&Mark>)> = chain
                    .windows(2)
                    .map(|w| {
                        let mark = b.child_marks.get(&(w[1].clone(), w[0].clone()));
                        let place = mark.map(|m| format!(" at {m}")).unwrap_or_default();
                        (format!("'{}' is a child of '{}'{place}", w[0], w[1]), mark)
                    })
                    .collect();
                let at = links
                    .iter()
                    .find_map(|(_, m)| m.cloned())
                    .or_else(|| b.source.as_deref().map(Mark::file))
                    .unwrap_or_else(|| Mark::file(Path::new("inventory")));
                return Err(InventoryError::Cycle {
                    at,
                    group: g.to_string(),
                    chain: links.into_iter().map(|(l, _)| l).collect::<Vec<_>>().join(", "),
                });
            }
            path.push(g.to_string());
            let mut depth = 0;
            if let Some(grp) = b.groups.get(g) {
                for p in &grp.parents {
                    depth = depth.max(visit(p, b, memo, path)? + 1);
                }
            }
            path.pop();
            memo.insert(g.to_string(), depth);
            Ok(depth)
        }
        let mut memo = HashMap::new();
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for n in &names {
            visit(n, self, &mut memo, &mut Vec::new())?;
        }
        for (n, g) in self.groups.iter_mut() {
            g.depth = memo.get(n).copied().unwrap_or(0);
        }
        Ok(())
    }
}
