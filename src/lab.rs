//! Lab hosts (temporary stand-in until the real module lands).
use std::path::{Path, PathBuf};

/// Options.
pub struct LabOptions {
    pub dir: PathBuf,
    pub count: usize,
}
/// A host.
pub struct LabHost {
    pub name: String,
    pub port: u16,
    pub container: String,
}
/// A lab.
pub struct LabInfo {
    pub dir: PathBuf,
    pub inventory: PathBuf,
    pub key: PathBuf,
    pub known_hosts: PathBuf,
    pub hosts: Vec<LabHost>,
}
/// Error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LabError(String);
/// Up.
pub fn up(_o: &LabOptions) -> Result<LabInfo, LabError> {
    Err(LabError("not yet".into()))
}
/// Down.
pub fn down(_d: &Path) -> Result<usize, LabError> {
    Err(LabError("not yet".into()))
}
/// Image.
pub fn ensure_image() -> Result<String, LabError> {
    Err(LabError("not yet".into()))
}
