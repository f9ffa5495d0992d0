//! Where variables files are found and how they are read, in one place for the loader's checks
//! ([`super::lint`]) and the runner: a play's `vars_files` (relative to the playbook's folder)
//! and `include_vars` (searched as ansible-core's `include_vars` action searches: the including
//! file's folder, its `vars/`, the `vars/` beside it (a role's), then the playbook's folder).

use std::path::{Path, PathBuf};

use super::vars_of_node;
use crate::error::LoadError;
use crate::vars::Vars;

/// The path of a play's `vars_files` entry `name` (already rendered).
pub fn play_vars_file(playbook_dir: &Path, name: &str) -> PathBuf {
    playbook_dir.join(name)
}

/// The file `include_vars: FILE` reads from a task in folder `base`: the first that exists of
/// `base/FILE`, `base/vars/FILE`, `base/../vars/FILE`, `playbook_dir/FILE`; `None` when none does.
pub fn include_vars_file(base: &Path, playbook_dir: &Path, file: &str) -> Option<PathBuf> {
    let mut candidates = vec![base.join(file), base.join("vars").join(file)];
    if let Some(parent) = base.parent() {
        candidates.push(parent.join("vars").join(file));
    }
    candidates.push(playbook_dir.join(file));
    candidates.into_iter().find(|p| p.is_file())
}

/// The variables of the YAML file at `path` (a mapping, or empty).
///
/// Errors: the file cannot be read (bounded, see [`crate::input`]) or parsed, or its root is
/// not a mapping, as [`LoadError`] naming the file and position.
pub fn read(path: &Path) -> Result<Vars, LoadError> {
    let node = crate::yaml::load_file(path)?;
    vars_of_node(&node)
}
