//! `group_by` and `add_host`: their arguments read as ansible-core 2.19's action plugins read
//! them; the inventory change itself is `Inventory::group_by` / `Inventory::add_host`.

use serde_json::Value;

use super::Runner;
use super::host::HostState;
use crate::vars::{Vars, as_string};

/// `group_by`'s group and parents (`key` required; `parents` a name or a list, default
/// `all`), spaces turned into `-` as ansible-core does. `Err` holds Ansible's message.
pub(super) fn group_by(args: &Vars) -> Result<(String, Vec<String>), String> {
    let key = args
        .get("key")
        .map(as_string)
        .ok_or_else(|| "the 'key' param is required when using group_by".to_string())?;
    let parents = match args.get("parents") {
        None => vec!["all".to_string()],
        Some(Value::Array(a)) => a.iter().map(as_string).collect(),
        Some(other) => vec![as_string(other)],
    };
    Ok((
        key.replace(' ', "-"),
        parents.into_iter().map(|p| p.replace(' ', "-")).collect(),
    ))
}

/// What `add_host` asks for.
pub(super) struct NewHost {
    /// `name` (or `hostname`, `host`).
    pub name: String,
    /// `groups` (or `groupname`, `group`): a list or comma-separated names, deduplicated.
    pub groups: Vec<String>,
    /// Every other argument, as host variables (ansible-core keeps `group` and `host` there
    /// too: only `name`, `hostname`, `groupname`, `groups` are its own).
    pub vars: Vars,
}

/// Reads `add_host`'s arguments as ansible-core's action does. `Err` holds its message.
pub(super) fn add_host(args: &Vars) -> Result<NewHost, String> {
    let name = ["name", "hostname", "host"]
        .iter()
        .find_map(|k| args.get(*k))
        .map(as_string)
        .ok_or_else(|| "name, host or hostname needs to be provided".to_string())?;
    let listed = ["groupname", "groups", "group"].iter().find_map(|k| args.get(*k));
    let mut groups: Vec<String> = Vec::new();
    let names: Vec<String> = match listed {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(as_string).collect(),
        Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
        Some(_) => return Err("Groups must be specified as a list.".into()),
    };
    for g in names {
        let g = g.trim().to_string();
        if !g.is_empty() && !groups.contains(&g) {
            groups.push(g);
        }
    }
    let vars = args
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "name" | "hostname" | "groupname" | "groups"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(NewHost { name, groups, vars })
}

impl Runner<'_> {
    /// Makes a host `add_host` named visible in `hostvars` (its inventory variables), unless it is
    /// `st` itself, which publishes its own.
    pub(super) fn publish_inventory_host(&self, name: &str, st: &HostState) {
        if name == st.name {
            self.publish_hostvars(st);
            return;
        }
        let mut v = self.inventory().host_vars(name);
        v.insert("inventory_hostname".into(), Value::String(name.to_string()));
        if let Ok(mut slot) = self.hostvars.write() {
            let mut map = (**slot).clone();
            map.insert(name.to_string(), v.into());
            *slot = std::sync::Arc::new(map);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Vars {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn group_by_arguments_as_ansible_reads_them() {
        assert_eq!(
            group_by(&vars(json!({"key": "os Debian"}))),
            Ok(("os-Debian".to_string(), vec!["all".to_string()]))
        );
        assert_eq!(
            group_by(&vars(json!({"key": "k", "parents": "p q"}))),
            Ok(("k".to_string(), vec!["p-q".to_string()]))
        );
        assert!(group_by(&vars(json!({}))).is_err());
    }

    #[test]
    fn add_host_arguments_as_ansible_reads_them() {
        let h = add_host(&vars(
            json!({"hostname": "n", "groups": "a, b,a", "color": "blue"}),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.name, "n");
        assert_eq!(h.groups, ["a", "b"]);
        assert_eq!(h.vars.get("color"), Some(&json!("blue")));
        assert!(add_host(&vars(json!({"groups": "a"}))).is_err());
        assert!(add_host(&vars(json!({"name": "n", "groups": 3}))).is_err());
    }
}
