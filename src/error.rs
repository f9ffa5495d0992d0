//! Errors that end a run, and the one place exit codes are decided (DESIGN habit 1).
//!
//! Exit codes follow `ansible-playbook`: 0 all good, 1 other errors, 2 a host failed, 4 a host
//! was unreachable or the playbook/inventory could not be parsed, 5 bad options.

use std::path::PathBuf;

use crate::yaml::{Mark, YamlError};

/// A problem found while loading a playbook, a role or a vars file: always names the place.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Yaml(#[from] YamlError),
    #[error("{mark}: {message}")]
    At { mark: Mark, message: String },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

impl LoadError {
    /// An error at a position.
    pub fn at(mark: &Mark, message: impl Into<String>) -> Self {
        LoadError::At {
            mark: mark.clone(),
            message: message.into(),
        }
    }
}

/// Everything that can end a talon command early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("inventory: {0}")]
    Inventory(String),
    #[error("bad option: {0}")]
    Options(String),
    /// `--limit` leaves no host, or cannot be evaluated (bad `~regex`, unreadable `@file`):
    /// `ansible-playbook` exits 1 for these.
    #[error("{0}")]
    NoHosts(String),
    #[error("{0}")]
    Lab(String),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The process exit code for this error, as `ansible-playbook` would use.
    pub fn code(&self) -> i32 {
        match self {
            Error::Load(_) | Error::Inventory(_) => 4,
            Error::Options(_) => 5,
            Error::NoHosts(_) | Error::Lab(_) | Error::Io { .. } | Error::Other(_) => 1,
        }
    }
}

/// The message of ansible-core 2.19 (`CLI.get_host_list`) when the inventory has hosts but the
/// `--limit` selects none of them.
pub const NO_HOSTS_TO_TARGET: &str =
    "Specified inventory, host pattern and/or --limit leaves us with no hosts to target.";

/// Exit code when every host finished without failures.
pub const EXIT_OK: i32 = 0;
/// Exit code when at least one host failed.
pub const EXIT_HOST_FAILED: i32 = 2;
/// Exit code when at least one host was unreachable.
pub const EXIT_UNREACHABLE: i32 = 4;
/// Exit code when the run was interrupted (Ctrl-C), as `ansible-playbook`'s
/// "User interrupted execution".
pub const EXIT_INTERRUPTED: i32 = 99;
