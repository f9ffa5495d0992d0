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

/// How `include_vars` with `dir` picks files: ansible-core's `depth`, `files_matching`,
/// `ignore_files`, `extensions`, `ignore_unknown_extensions`.
#[derive(Debug, Clone)]
pub struct DirOptions {
    /// Folder levels walked (the folder itself is 1); 0: every level.
    pub depth: usize,
    /// Only names in which this regex is found.
    pub files_matching: Option<regex::Regex>,
    /// Names matching one of these regexes at their end are left out.
    pub ignore_files: Vec<regex::Regex>,
    /// Extensions read (without the dot).
    pub extensions: Vec<String>,
    /// Files with other extensions are left out instead of failing the task.
    pub ignore_unknown_extensions: bool,
}

impl DirOptions {
    /// The options from `include_vars`' rendered arguments.
    ///
    /// Errors: a bad regex or a non-number depth, in ansible-core's words where it has them.
    pub fn from_args(args: &Vars) -> Result<DirOptions, String> {
        let depth = match args.get("depth") {
            None | Some(serde_json::Value::Null) => 0,
            Some(v) => crate::vars::as_string(v)
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("include_vars: depth must be a number, got {v}"))?,
        };
        let files_matching = match args.get("files_matching").filter(|v| !v.is_null()) {
            None => None,
            Some(v) => {
                let re = crate::vars::as_string(v);
                Some(regex::Regex::new(&re).map_err(|_| format!("Invalid regular expression: {re}"))?)
            }
        };
        let list = |name: &str, split_string: bool| -> Vec<String> {
            match args.get(name) {
                Some(serde_json::Value::Array(a)) => a.iter().map(crate::vars::as_string).collect(),
                Some(serde_json::Value::String(s)) if split_string => {
                    s.split_whitespace().map(str::to_string).collect()
                }
                // ansible-core's list(str): one extension per character.
                Some(serde_json::Value::String(s)) => s.chars().map(String::from).collect(),
                _ => Vec::new(),
            }
        };
        let ignore_files = list("ignore_files", true)
            .iter()
            .map(|p| {
                regex::Regex::new(&format!("(?:{p})$"))
                    .map_err(|_| format!("Invalid regular expression: {p}"))
            })
            .collect::<Result<_, _>>()?;
        let extensions = if args.contains_key("extensions") {
            list("extensions", false)
        } else {
            vec!["yaml".into(), "yml".into(), "json".into()]
        };
        let ignore_unknown_extensions = args
            .get("ignore_unknown_extensions")
            .is_some_and(|v| crate::vars::as_bool(v) == Some(true));
        Ok(DirOptions {
            depth,
            files_matching,
            ignore_files,
            extensions,
            ignore_unknown_extensions,
        })
    }
}

/// The files `include_vars: dir=ROOT` reads, in ansible-core's order: folders sorted by path
/// (walked to `depth`, links followed), the files of each sorted by name; `skip` (a role's
/// `vars/main.yml`) left out.
///
/// Each folder's files come as one group (ansible-core keeps a folder's variables only when
/// every file of it loaded). The second value is the error that stopped the walk, after the
/// files before it: `ROOT directory does not exist`, `ROOT is not a directory`, or a file with
/// an extension not in `extensions` (`F does not have a valid extension: yaml, yml, json`)
/// unless `ignore_unknown_extensions`.
pub fn dir_files(root: &Path, opts: &DirOptions, skip: Option<&Path>) -> (Vec<Vec<PathBuf>>, Option<String>) {
    if !root.exists() {
        return (
            Vec::new(),
            Some(format!("{} directory does not exist", root.display())),
        );
    }
    if !root.is_dir() {
        return (Vec::new(), Some(format!("{} is not a directory", root.display())));
    }
    // (folder, its file names), every folder below root; bounded by the walk itself.
    let mut folders: Vec<(PathBuf, Vec<String>)> = Vec::new();
    let mut pending = vec![(root.to_path_buf(), 1usize)];
    while let Some((dir, level)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names = Vec::new();
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                // A link cycle would walk forever: folders are followed only below the root's
                // own depth limit, and at most 64 levels down.
                if level < 64 {
                    pending.push((path, level + 1));
                }
            } else {
                names.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        if opts.depth == 0 || level <= opts.depth {
            folders.push((dir, names));
        }
    }
    folders.sort_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
    let mut out = Vec::new();
    for (dir, names) in folders {
        let mut group = Vec::new();
        for name in names {
            let path = dir.join(&name);
            if skip.is_some_and(|s| s == path) {
                continue;
            }
            if opts.files_matching.as_ref().is_some_and(|m| !m.is_match(&name)) {
                continue;
            }
            if opts.ignore_files.iter().any(|r| r.is_match(&name)) {
                continue;
            }
            let ext = Path::new(&name)
                .extension()
                .map(|e| e.to_string_lossy().into_owned());
            let valid = ext.as_ref().is_some_and(|e| opts.extensions.contains(e));
            if !valid {
                if opts.ignore_unknown_extensions {
                    continue;
                }
                let message = format!(
                    "{} does not have a valid extension: {}",
                    path.display(),
                    opts.extensions.join(", ")
                );
                out.push(group);
                return (out, Some(message));
            }
            group.push(path);
        }
        out.push(group);
    }
    (out, None)
}
