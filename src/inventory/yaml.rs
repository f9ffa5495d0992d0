//! The YAML inventory format (`all:` / groups with `hosts:`, `children:`, `vars:`).
//!
//! Matches ansible-core's `yaml` inventory plugin, except that talon is strict where Ansible only
//! warns: an unknown key in a group, or a group/section that is not a mapping, is an error that
//! points at its file:line:column (a misspelt `childen:` silently dropping hosts is exactly the
//! kind of mistake that must not pass).

use serde_json::Map;

use super::{Builder, InventoryError};
use crate::yaml::{Key, Node, NodeKind};

/// Reads a parsed YAML inventory document into `b`.
///
/// Errors: the document is not a mapping, is an inventory-plugin config (`plugin:`), or a group
/// has an unknown key, a non-mapping section, or host variables that are not a mapping.
pub(super) fn parse(root: &Node, b: &mut Builder) -> Result<(), InventoryError> {
    let entries = match &root.kind {
        NodeKind::Null => return Ok(()),
        NodeKind::Map(m) => m,
        _ => {
            return Err(InventoryError::parse(
                root.mark.clone(),
                format!(
                    "a YAML inventory must be a mapping of groups, found a {}",
                    root.type_name()
                ),
                "start the file with `all:` and put hosts under `hosts:` and groups under `children:`",
            ));
        }
    };
    if let Some((k, _)) = entries.iter().find(|(k, _)| k.name == "plugin") {
        return Err(InventoryError::parse(
            k.mark.clone(),
            "inventory plugin configuration files (`plugin:`) are not supported".to_string(),
            "list hosts and groups directly in a YAML or INI inventory",
        ));
    }
    for (key, node) in entries {
        group(key, node, b)?;
    }
    Ok(())
}

/// One group entry `name: {hosts, children, vars}` (or `name:` with nothing).
fn group(key: &Key, node: &Node, b: &mut Builder) -> Result<(), InventoryError> {
    let name = key.name.as_str();
    let entries = match &node.kind {
        NodeKind::Null => {
            b.add_group(name);
            return Ok(());
        }
        NodeKind::Map(m) => m,
        _ => {
            return Err(InventoryError::parse(
                node.mark.clone(),
                format!("group '{name}' must be a mapping, found a {}", node.type_name()),
                "give the group `hosts:`, `children:` and/or `vars:` keys, or leave it empty",
            ));
        }
    };
    b.add_group(name);
    for (section_key, section) in entries {
        let section_name = section_key.name.as_str();
        if !matches!(section_name, "hosts" | "children" | "vars") {
            return Err(InventoryError::parse(
                section_key.mark.clone(),
                format!("unknown key '{section_name}' in group '{name}'"),
                "a group may only have `hosts:`, `children:` and `vars:`; put hosts under `hosts:` and variables under `vars:`",
            ));
        }
        let items: Vec<(Key, Node)> = match &section.kind {
            NodeKind::Null => continue,
            NodeKind::Map(m) => m.clone(),
            // Ansible accepts `hosts: web1` as `hosts: {web1: null}`.
            NodeKind::Str(s) if section_name != "vars" => vec![(
                Key {
                    name: s.clone(),
                    mark: section.mark.clone(),
                },
                Node {
                    mark: section.mark.clone(),
                    kind: NodeKind::Null,
                },
            )],
            _ => {
                let example = match section_name {
                    "hosts" => "`hosts:\n    web1:\n    web2:` (each host is a key, not a list item)",
                    "children" => "`children:\n    web:\n    db:` (each child group is a key)",
                    _ => "`vars:\n    name: value`",
                };
                return Err(InventoryError::parse(
                    section.mark.clone(),
                    format!(
                        "`{section_name}` of group '{name}' must be a mapping, found a {}",
                        section.type_name()
                    ),
                    &format!("write it as {example}"),
                ));
            }
        };
        match section_name {
            "vars" => {
                for (k, v) in &items {
                    b.set_group_var(name, &k.name, v.to_json());
                }
            }
            "children" => {
                for (k, v) in &items {
                    group(k, v, b)?;
                    b.declare_child(name, &k.name, &k.mark);
                }
            }
            _ => {
                for (k, v) in &items {
                    let vars = match &v.kind {
                        NodeKind::Null => Map::new(),
                        NodeKind::Map(_) => v.to_json().as_object().cloned().unwrap_or_default(),
                        _ => {
                            return Err(InventoryError::parse(
                                v.mark.clone(),
                                format!(
                                    "variables of host '{}' must be a mapping, found a {}",
                                    k.name,
                                    v.type_name()
                                ),
                                "write `host:` alone, or `host:` followed by indented `name: value` lines",
                            ));
                        }
                    };
                    b.add_host_entry(&k.name, Some(name), vars, &k.mark)?;
                }
            }
        }
    }
    Ok(())
}
