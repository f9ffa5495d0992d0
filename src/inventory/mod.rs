//! Inventory (temporary stand-in until the real loader lands).
use std::path::{Path, PathBuf};

use crate::vars::Vars;

/// An inventory.
#[derive(Debug, Default)]
pub struct Inventory {}

/// An inventory problem.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InventoryError(pub String);

impl Inventory {
    /// Loads.
    pub fn load(_sources: &[PathBuf]) -> Result<Inventory, InventoryError> {
        Ok(Inventory {})
    }
    /// Adds playbook-adjacent group_vars/host_vars.
    pub fn add_playbook_dir(&mut self, _dir: &Path) -> Result<(), InventoryError> {
        Ok(())
    }
    /// Host vars.
    pub fn host_vars(&self, _host: &str) -> Vars {
        Vars::new()
    }
    /// Pattern.
    pub fn select(&self, _pattern: &str) -> Result<Vec<String>, InventoryError> {
        Ok(Vec::new())
    }
    /// Groups.
    pub fn groups_map(&self) -> Vars {
        Vars::new()
    }
    /// Graph.
    pub fn graph(&self) -> String {
        String::new()
    }
    /// Host JSON.
    pub fn host_json(&self, _h: &str) -> Option<serde_json::Value> {
        None
    }
    /// List JSON.
    pub fn list_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}
