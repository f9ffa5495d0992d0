//! `group_vars/` and `host_vars/` files, and which files of an inventory directory are sources.
//!
//! Ansible users keep most variables in `group_vars/NAME.yml` and `host_vars/NAME.yml` next to the
//! inventory and next to the playbook; talon must find exactly the files ansible-core's
//! `host_group_vars` vars plugin finds (`DataLoader.find_vars_files`) and skip exactly the files
//! ansible-core's inventory manager skips in a directory source.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::InventoryError;
use crate::vars::Vars;
use crate::yaml::{self, NodeKind};

/// Extensions tried after the bare name, in order (`C.YAML_FILENAME_EXTENSIONS`).
const VARS_EXTENSIONS: [&str; 3] = [".yml", ".yaml", ".json"];

/// File name endings ignored in a directory inventory source (`INVENTORY_IGNORE_EXTS`:
/// `REJECT_EXTS` + `.orig`, `.cfg`, `.retry`).
const IGNORED_ENDINGS: [&str; 12] = [
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];

/// Whether a directory entry is skipped when a directory is an inventory source: dotfiles,
/// `group_vars`, `host_vars`, `vars_plugins` and the ignored endings (ansible-core `IGNORED`).
pub(super) fn ignored_in_inventory_dir(name: &str) -> bool {
    name.starts_with('.')
        || matches!(name, "group_vars" | "host_vars" | "vars_plugins")
        || IGNORED_ENDINGS.iter().any(|e| name.ends_with(e))
}

/// The variables found under one base directory: `group_vars/<group>` and `host_vars/<host>`,
/// each the merge of its files in the order Ansible loads them.
#[derive(Debug, Default, Clone)]
pub(super) struct DirVars {
    /// Group name -> variables (only groups that have files).
    pub groups: HashMap<String, Vars>,
    /// Host name -> variables (only hosts that have files).
    pub hosts: HashMap<String, Vars>,
}

impl DirVars {
    /// Loads the files for the given group and host names under `base`.
    ///
    /// Errors: a file that cannot be read, is not valid YAML, is vault-encrypted, or whose top
    /// level is not a mapping.
    pub fn load<'a>(
        base: &Path,
        groups: impl Iterator<Item = &'a str>,
        hosts: impl Iterator<Item = &'a str>,
    ) -> Result<DirVars, InventoryError> {
        let mut out = DirVars::default();
        for (sub, names, map) in [
            ("group_vars", groups.collect::<Vec<_>>(), &mut out.groups),
            ("host_vars", hosts.collect::<Vec<_>>(), &mut out.hosts),
        ] {
            let dir = base.join(sub);
            if !dir.is_dir() {
                continue;
            }
            for name in names {
                // ansible-core skips names that look like absolute paths (chroot hosts).
                if name.starts_with('/') || name.is_empty() {
                    continue;
                }
                let files = find_vars_files(&dir, name);
                if files.is_empty() {
                    continue;
                }
                let mut vars = Vars::new();
                for f in files {
                    crate::vars::overlay(&mut vars, &load_vars_file(&f)?);
                }
                map.insert(name.to_string(), vars);
            }
        }
        Ok(out)
    }
}

/// The files for `name` in a `group_vars`/`host_vars` directory, like ansible-core
/// `find_vars_files`: the first of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json` that exists; when
/// it is a directory, every file in it (recursively, sorted, skipping dotfiles and `~` backups,
/// only files with no extension or a YAML/JSON one).
pub(super) fn find_vars_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    for ext in std::iter::once("").chain(VARS_EXTENSIONS) {
        let p = dir.join(format!("{name}{ext}"));
        if p.is_dir() {
            let mut out = Vec::new();
            dir_vars_files(&p, &mut out);
            return out;
        }
        if p.exists() {
            return vec![p];
        }
    }
    Vec::new()
}

/// The entry names of a directory, sorted (Python `sorted(os.listdir())`).
pub(super) fn sorted_entries(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn dir_vars_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for n in sorted_entries(dir).unwrap_or_default() {
        if n.starts_with('.') || n.ends_with('~') {
            continue;
        }
        let p = dir.join(&n);
        let ext = Path::new(&n)
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()));
        if p.is_dir() && ext.is_none() {
            dir_vars_files(&p, out);
        } else if p.is_file() && ext.as_deref().is_none_or(|e| VARS_EXTENSIONS.contains(&e)) {
            out.push(p);
        }
    }
}

/// Reads one variables file: YAML (or JSON) whose top level is a mapping; empty is no variables.
///
/// Errors: unreadable, invalid YAML, vault-encrypted, or not a mapping.
pub(super) fn load_vars_file(path: &Path) -> Result<Vars, InventoryError> {
    let text = super::read_source(path)?;
    let node = yaml::parse_str(&text, path)?;
    match node.kind {
        NodeKind::Null => Ok(Vars::new()),
        NodeKind::Map(_) => Ok(node.to_json().as_object().cloned().unwrap_or_default()),
        _ => Err(InventoryError::parse(
            node.mark.clone(),
            format!(
                "a variables file must be a mapping of names to values, found a {}",
                node.type_name()
            ),
            "write one `name: value` per line at the top level",
        )),
    }
}

/// An inventory source encrypted with `ansible-vault` (INI too, which is not parsed as YAML),
/// decrypted with the run's vault passwords ([`yaml::decrypt_vault_file`]); other text as is.
pub(super) fn decrypt_vault(text: String, path: &Path) -> Result<String, InventoryError> {
    Ok(match yaml::decrypt_vault_file(&text, path)? {
        Some(plain) => plain.to_string(),
        None => text,
    })
}

impl super::Inventory {
    /// Where `host`'s value of `name` comes from when a `group_vars/` or `host_vars/` file sets
    /// it: the position of its key in the highest precedence layer that has it (the layers of
    /// [`super::Inventory::host_vars`], later files of a directory winning). `None` when the
    /// inventory file itself sets it above those files, or no such file does.
    pub fn var_origin(&self, host: &str, name: &str) -> Option<crate::yaml::Mark> {
        let h = self.hosts.get(host).or_else(|| self.implicit.get(host))?;
        // Low to high: sources, then playbook directories; later files of a directory win.
        let dirs: Vec<&PathBuf> = self.source_dirs.iter().chain(&self.playbook_dirs).collect();
        let find = |dir: &Path, sub: &str, item: &str| {
            find_vars_files(&dir.join(sub), item)
                .into_iter()
                .rev()
                .find_map(|f| key_mark(&f, name))
        };
        if let Some(m) = dirs.iter().rev().find_map(|d| find(d, "host_vars", host)) {
            return Some(m);
        }
        if h.vars.contains_key(name) {
            return None;
        }
        let groups = self.vars_groups(h);
        dirs.iter()
            .rev()
            .find_map(|d| groups.iter().rev().find_map(|(g, _)| find(d, "group_vars", g)))
            .or_else(|| dirs.iter().rev().find_map(|d| find(d, "group_vars", "all")))
    }
}

/// The position of top-level key `name` in a variables file.
fn key_mark(path: &Path, name: &str) -> Option<crate::yaml::Mark> {
    let node = yaml::load_file(path).ok()?;
    node.as_map()?
        .iter()
        .find(|(k, _)| k.name == name)
        .map(|(k, _)| k.mark.clone())
}
