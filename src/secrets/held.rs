//! Which files on which hosts talon delivered a secret into, kept across runs.
//!
//! A file that held a secret may still hold an old value that the masking no longer knows
//! (the secret was rotated since), so a `--diff` of it must not show its old content. The list
//! holds paths only, never values, and lives in talon's state directory
//! (`$TALON_STATE_DIR/secret-files.json`, a JSON list of `[host, path]`).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::RwLock;

/// The set of `(host, path)` pairs whose file holds (or held) a secret talon delivered.
#[derive(Debug)]
pub struct HeldFiles {
    set: RwLock<BTreeSet<(String, String)>>,
}

impl Default for HeldFiles {
    fn default() -> Self {
        Self::new()
    }
}

impl HeldFiles {
    /// An empty set.
    pub const fn new() -> Self {
        HeldFiles {
            set: RwLock::new(BTreeSet::new()),
        }
    }

    /// Adds the pairs recorded in `file` (a missing or unreadable file adds nothing: the list
    /// only makes diffs more careful, it never decides what is written).
    pub fn load(&self, file: &Path) {
        let Ok(text) = std::fs::read_to_string(file) else {
            return;
        };
        let Ok(pairs) = serde_json::from_str::<Vec<(String, String)>>(&text) else {
            tracing::warn!(file = %file.display(), "ignoring an unreadable list of secret files");
            return;
        };
        if let Ok(mut set) = self.set.write() {
            set.extend(pairs);
        }
    }

    /// Writes the set to `file` (mode 0600, atomically: temp file and rename; errors are only
    /// logged, as for the pending-handlers file).
    pub fn save(&self, file: &Path) {
        let Ok(set) = self.set.read() else { return };
        if set.is_empty() && !file.exists() {
            return;
        }
        let pairs: Vec<&(String, String)> = set.iter().collect();
        let result = (|| -> std::io::Result<()> {
            let dir = file.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            serde_json::to_writer(&mut tmp, &pairs)?;
            tmp.persist(file).map_err(|e| e.error)?;
            Ok(())
        })();
        if let Err(e) = result {
            tracing::warn!(file = %file.display(), error = %e, "cannot save the list of secret files");
        }
    }

    /// Records whether the file at `path` on `host` now holds a secret talon delivered.
    pub fn mark(&self, host: &str, path: &str, holds: bool) {
        if let Ok(mut set) = self.set.write() {
            let key = (host.to_string(), path.to_string());
            if holds {
                set.insert(key);
            } else {
                set.remove(&key);
            }
        }
    }

    /// True when talon delivered a secret into `path` on `host` (and has not since replaced its
    /// content with content that holds none).
    pub fn holds(&self, host: &str, path: &str) -> bool {
        self.set
            .read()
            .is_ok_and(|s| s.contains(&(host.to_string(), path.to_string())))
    }
}

/// A diff side of a file that holds (or held) a secret: lines in `shown` (text the task itself
/// wrote, which cannot hold a secret value) stay, every other line reads [`super::MASK`] with
/// its line ending kept, so a diff still shows where lines changed but never an old or rotated
/// value.
pub fn mask_lines_except(text: &str, shown: &std::collections::HashSet<&str>) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(t) => (t, "\n"),
            None => (line, ""),
        };
        out.push_str(if shown.contains(body) { body } else { super::MASK });
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_survive_a_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state/secret-files.json");
        let held = HeldFiles::new();
        held.mark("h1", "/etc/app.env", true);
        held.mark("h1", "/etc/other", true);
        held.mark("h1", "/etc/other", false);
        held.save(&file);
        let again = HeldFiles::new();
        again.load(&file);
        assert!(again.holds("h1", "/etc/app.env"));
        assert!(!again.holds("h2", "/etc/app.env"));
        assert!(!again.holds("h1", "/etc/other"));
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text, r#"[["h1","/etc/app.env"]]"#);
    }
}
