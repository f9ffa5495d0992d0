//! Roles: a folder with `tasks/`, `handlers/`, `templates/`, `files/`, `defaults/`, `vars/` and
//! `meta/` (dependencies), resolved like Ansible.

use std::path::{Path, PathBuf};

use crate::error::LoadError;
use crate::vars::Vars;
use crate::yaml::{self, Mark, Node, NodeKind};

/// A loaded role (one instance: a role with other params is another instance).
#[derive(Debug, PartialEq)]
pub struct Role {
    /// The name the play used.
    pub name: String,
    /// The role folder.
    pub path: PathBuf,
    /// `defaults/main.yml` (lowest precedence of all variables).
    pub defaults: Vars,
    /// `vars/main.yml` (above play vars).
    pub vars: Vars,
    /// Role params (`- role: x` with extra keys, or `vars:` on the entry): above almost everything.
    pub params: Vars,
    /// `meta/main.yml` dependencies: (name, params, where).
    pub dependencies: Vec<(String, Vars, Mark)>,
}

/// Finds `dir/NAME.yml`, `dir/NAME.yaml` or `dir/NAME` (a YAML file).
pub fn find_yaml(dir: &Path, name: &str) -> Option<PathBuf> {
    let direct = dir.join(name);
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        return direct.is_file().then_some(direct);
    }
    for ext in ["yml", "yaml"] {
        let p = dir.join(format!("{name}.{ext}"));
        if p.is_file() {
            return Some(p);
        }
    }
    direct.is_file().then_some(direct)
}

fn vars_file(dir: &Path) -> Result<Vars, LoadError> {
    match find_yaml(dir, "main") {
        None => Ok(Vars::new()),
        Some(p) => {
            let node = yaml::load_file(&p)?;
            super::vars_of(&node, "a vars file")
        }
    }
}

/// The keys of a role's `meta/main.yml` (ansible-core's `RoleMetadata`, plus `argument_specs`
/// that it reads from the same file).
const META_KEYS: &[&str] = &[
    "dependencies",
    "galaxy_info",
    "allow_duplicates",
    "collections",
    "argument_specs",
];

/// A role's `meta/main.yml`: a mapping (or empty) of [`META_KEYS`], `dependencies` a list.
fn check_meta(node: &Node) -> Result<(), LoadError> {
    let entries = match &node.kind {
        NodeKind::Null => return Ok(()),
        NodeKind::Map(entries) => entries,
        _ => {
            return Err(LoadError::at(
                &node.mark,
                format!(
                    "a role's meta/main.yml must be a mapping, not a {}",
                    node.type_name()
                ),
            ));
        }
    };
    for (k, v) in entries {
        if !META_KEYS.contains(&k.name.as_str()) {
            return Err(LoadError::at(
                &k.mark,
                format!(
                    "unknown key '{}' in a role's meta/main.yml (allowed: {})",
                    k.name,
                    META_KEYS.join(", ")
                ),
            ));
        }
        if k.name == "dependencies" && !matches!(v.kind, NodeKind::Seq(_) | NodeKind::Null) {
            return Err(LoadError::at(
                &v.mark,
                format!(
                    "dependencies must be a list of roles (names or mappings with 'role:'), not a {}",
                    v.type_name()
                ),
            ));
        }
    }
    Ok(())
}

impl Role {
    /// Loads a role folder's defaults, vars and dependencies.
    pub fn load(name: &str, path: &Path, params: Vars) -> Result<Role, LoadError> {
        let defaults = vars_file(&path.join("defaults"))?;
        let vars = vars_file(&path.join("vars"))?;
        let mut dependencies = Vec::new();
        if let Some(meta) = find_yaml(&path.join("meta"), "main") {
            let node = yaml::load_file(&meta)?;
            check_meta(&node)?;
            if let Some(deps) = node.get("dependencies") {
                for d in deps.as_seq().unwrap_or_default() {
                    match &d.kind {
                        NodeKind::Str(s) => dependencies.push((s.clone(), Vars::new(), d.mark.clone())),
                        NodeKind::Map(_) => {
                            let mut p = super::vars_of(d, "a dependency")?;
                            let n = p
                                .remove("role")
                                .or_else(|| p.remove("name"))
                                .and_then(|v| v.as_str().map(str::to_string))
                                .ok_or_else(|| LoadError::at(&d.mark, "a dependency needs 'role:'"))?;
                            if let Some(serde_json::Value::Object(v)) = p.remove("vars") {
                                p.extend(v);
                            }
                            dependencies.push((n, p, d.mark.clone()));
                        }
                        _ => {
                            return Err(LoadError::at(
                                &d.mark,
                                "a dependency must be a role name or mapping",
                            ));
                        }
                    }
                }
            }
        }
        Ok(Role {
            name: name.to_string(),
            path: path.to_path_buf(),
            defaults,
            vars,
            params,
            dependencies,
        })
    }
}
