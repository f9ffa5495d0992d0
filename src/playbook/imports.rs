//! The chain of files being loaded, so that loading always ends.
//!
//! Static imports (`import_playbook`, `import_tasks`, `import_role`, `roles:` and role
//! `meta/main.yml` dependencies) are expanded at load time; a file that imports itself, directly
//! or through others, would expand forever (ansible-core fails with Python's "maximum recursion
//! depth exceeded"). The loader keeps the files it is inside of as a stack of [`Frame`]s: entering
//! a file already on the stack is a cycle, reported with the whole chain and where each step was
//! imported; a stack deeper than [`MAX_IMPORT_DEPTH`] is an error too. Dynamic includes
//! (`include_tasks`, `include_role`) are bounded at run time by [`MAX_INCLUDE_DEPTH`] instead
//! (src/runner/host.rs), since a recursion with a condition that ends it is valid there.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::error::LoadError;
use crate::yaml::Mark;

/// How deep static imports may nest (playbooks, task files, roles, role dependencies).
pub const MAX_IMPORT_DEPTH: usize = 64;

/// How deep dynamic includes (`include_tasks`, `include_role`) may nest at run time before the
/// including task fails on that host.
pub const MAX_INCLUDE_DEPTH: usize = 128;

/// What is entered: a file of tasks or plays, or a role's dependencies (`meta/main.yml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    /// A playbook or task file, shown by its path relative to the playbook folder.
    File,
    /// The dependencies of the role with this name.
    Role(&'a str),
}

/// One file being loaded: which file, how it is shown, and the import that brought it in.
#[derive(Debug, Clone)]
struct Frame {
    /// The file (canonical when it exists), compared to find cycles.
    path: PathBuf,
    /// How the file is named in messages (relative to the playbook folder, or `role NAME`).
    shown: String,
    /// The import statement that entered it (none for the playbook itself).
    at: Option<Mark>,
}

/// The files being loaded right now, outermost first.
#[derive(Debug, Default)]
pub(crate) struct ImportStack {
    /// The playbook folder, to show paths short.
    root: PathBuf,
    frames: Mutex<Vec<Frame>>,
}

impl ImportStack {
    /// An empty stack whose messages show paths relative to `root`.
    pub(crate) fn new(root: &Path) -> Self {
        ImportStack {
            root: canonical(root),
            frames: Mutex::new(Vec::new()),
        }
    }

    fn frames(&self) -> std::sync::MutexGuard<'_, Vec<Frame>> {
        self.frames.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `path` is being loaded now, or the stack is full: a dynamic include of it is then
    /// left to run time instead of being validated again (which would never end).
    pub(crate) fn busy(&self, path: &Path) -> bool {
        let key = canonical(path);
        let frames = self.frames();
        frames.len() + 1 >= MAX_IMPORT_DEPTH || frames.iter().any(|f| f.path == key)
    }

    /// Runs `load` with `path` on the stack; `at` is the import statement (or the dependency
    /// entry of a role).
    ///
    /// Errors: a [`LoadError`] at `at` when `path` is already on the stack (a cycle, with the
    /// chain) or the stack already holds [`MAX_IMPORT_DEPTH`] files; else whatever `load`
    /// returns.
    pub(crate) fn within<T>(
        &self,
        path: &Path,
        entry: Entry<'_>,
        at: Option<&Mark>,
        load: impl FnOnce() -> Result<T, LoadError>,
    ) -> Result<T, LoadError> {
        let path = canonical(path);
        let frame = Frame {
            shown: match entry {
                Entry::File => self.show(&path),
                Entry::Role(name) => format!("role {name}"),
            },
            path,
            at: at.cloned(),
        };
        {
            let mut frames = self.frames();
            let error_at = at.cloned().unwrap_or_else(|| Mark::file(&frame.path));
            if let Some(start) = frames.iter().position(|f| f.path == frame.path) {
                let mut cycle: Vec<Frame> = frames[start..].to_vec();
                cycle.push(frame);
                let message = match entry {
                    Entry::File => format!(
                        "import cycle: {}: a file cannot import itself, directly or through others (use include_tasks or include_role with a condition that ends the recursion)",
                        chain(&cycle)
                    ),
                    Entry::Role(_) => format!(
                        "role dependency cycle: {}: a role cannot depend on itself, directly or through other roles (remove one of these dependencies from meta/main.yml)",
                        chain(&cycle)
                    ),
                };
                return Err(LoadError::at(&error_at, message));
            }
            if frames.len() >= MAX_IMPORT_DEPTH {
                let mut all = frames.clone();
                all.push(frame);
                let tail = &all[all.len().saturating_sub(4)..];
                return Err(LoadError::at(
                    &error_at,
                    format!(
                        "imports nest deeper than {MAX_IMPORT_DEPTH} levels (talon's limit): ... -> {}",
                        chain(tail)
                    ),
                ));
            }
            frames.push(frame);
        }
        let result = load();
        self.frames().pop();
        result
    }

    /// A (canonical) path relative to the playbook folder when it is inside it.
    fn show(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

/// `a.yml -> b.yml (a.yml:3:7) -> a.yml (b.yml:2:5)`: each file with the import that entered it.
fn chain(frames: &[Frame]) -> String {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| match &f.at {
            Some(at) if i > 0 => format!("{} ({at})", f.shown),
            _ => f.shown.clone(),
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(file: &str, line: u64) -> Mark {
        Mark {
            file: std::sync::Arc::new(PathBuf::from(file)),
            line,
            column: 3,
        }
    }

    #[test]
    fn a_cycle_names_the_chain_and_each_import() {
        let stack = ImportStack::new(Path::new("/p"));
        let err = stack
            .within(Path::new("/p/a.yml"), Entry::File, None, || {
                stack.within(
                    Path::new("/p/b.yml"),
                    Entry::File,
                    Some(&mark("/p/a.yml", 2)),
                    || {
                        stack.within(
                            Path::new("/p/a.yml"),
                            Entry::File,
                            Some(&mark("/p/b.yml", 4)),
                            || Ok(()),
                        )
                    },
                )
            })
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "/p/b.yml:4:3: import cycle: a.yml -> b.yml (/p/a.yml:2:3) -> a.yml (/p/b.yml:4:3)"
            ),
            "{err}"
        );
        assert!(stack.frames().is_empty(), "frames are popped on errors too");
    }

    #[test]
    fn siblings_are_not_a_cycle() {
        let stack = ImportStack::new(Path::new("/p"));
        for _ in 0..3 {
            stack
                .within(Path::new("/p/a.yml"), Entry::File, None, || Ok(()))
                .unwrap();
        }
    }

    #[test]
    fn depth_is_bounded() {
        fn nest(stack: &ImportStack, n: usize) -> Result<(), LoadError> {
            stack.within(Path::new(&format!("/p/f{n}.yml")), Entry::File, None, || {
                nest(stack, n + 1)
            })
        }
        let stack = ImportStack::new(Path::new("/p"));
        let err = nest(&stack, 0).unwrap_err().to_string();
        assert!(err.contains("deeper than 64 levels"), "{err}");
        assert!(err.contains("f64.yml"), "{err}");
    }

    #[test]
    fn busy_while_loading_and_free_after() {
        let stack = ImportStack::new(Path::new("/p"));
        stack
            .within(Path::new("/p/a.yml"), Entry::File, None, || {
                assert!(stack.busy(Path::new("/p/a.yml")));
                assert!(!stack.busy(Path::new("/p/b.yml")));
                Ok(())
            })
            .unwrap();
        assert!(!stack.busy(Path::new("/p/a.yml")));
    }
}
