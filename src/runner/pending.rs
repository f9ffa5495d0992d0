//! Handler notifications that were pending when a host failed are kept on the controller and
//! run on the next run (Ansible forgets them: its long-standing "handlers lost on failure"
//! complaint). Stored as JSON under the state dir, keyed by playbook path, play and host.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// play index -> host -> handler names.
type Table = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// The pending notifications of one playbook.
pub struct Pending {
    file: PathBuf,
    table: Table,
    dirty: bool,
}

impl Pending {
    /// Loads the pending notifications saved for this playbook (none if the file is missing or
    /// unreadable: a lost notification list must not stop a run).
    pub fn load(state_dir: &Path, playbook: &Path) -> Pending {
        let canon = std::fs::canonicalize(playbook).unwrap_or_else(|_| playbook.to_path_buf());
        use sha2::Digest;
        let key = hex::encode(sha2::Sha256::digest(canon.display().to_string().as_bytes()));
        let file = state_dir.join(format!("pending-handlers-{}.json", &key[..16]));
        let table = crate::input::read_text(&file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        Pending {
            file,
            table,
            dirty: false,
        }
    }

    /// Takes (and forgets) what was pending for a host in a play.
    pub fn take(&mut self, play: usize, host: &str) -> Vec<String> {
        let got = self
            .table
            .get_mut(&play.to_string())
            .and_then(|m| m.remove(host))
            .unwrap_or_default();
        if !got.is_empty() {
            self.dirty = true;
        }
        got
    }

    /// Records what is still pending for a host after a play.
    pub fn put(&mut self, play: usize, host: &str, handlers: &[String]) {
        if handlers.is_empty() {
            return;
        }
        self.table
            .entry(play.to_string())
            .or_default()
            .insert(host.to_string(), handlers.to_vec());
        self.dirty = true;
    }

    /// Writes the table back (removes the file when nothing is pending).
    pub fn save(&self) {
        if !self.dirty {
            return;
        }
        if self.table.values().all(BTreeMap::is_empty) {
            let _ = std::fs::remove_file(&self.file);
        } else {
            if let Some(dir) = self.file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Ok(text) = serde_json::to_string_pretty(&self.table) {
                let _ = std::fs::write(&self.file, text);
            }
        }
    }
}
