//! Errors that end a run, and the one place exit codes are decided (DESIGN habit 1).
//!
//! Exit codes follow `ansible-playbook`: 0 all good, 1 other errors, 2 a host failed, 4 a host
//! was unreachable or the playbook/inventory could not be parsed, 5 bad options, 2 usage errors
//! (what ansible-playbook's argument parser refuses).

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

/// Why a task may not use a secret where it does: the secret policy's refusals, at load time
/// ([`crate::playbook::taint`]) and at run time ([`crate::secrets::SecretStore::refuse_args`]).
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A secret would end up on a command line. `name` is quoted, and says through which
    /// variable when the use is indirect.
    #[error("secret {name} would be on the command line of {place}: {fix}")]
    OnCommandLine {
        name: String,
        place: String,
        fix: &'static str,
    },

    /// A secret is passed to a module argument that cannot deliver it safely.
    #[error("secret {name} is passed to argument '{arg}' of module {module} ({place}): {fix}")]
    WrongArgument {
        name: String,
        arg: String,
        module: String,
        place: String,
        fix: &'static str,
    },

    /// `talon_secret_file` names a secret that was not given.
    #[error(
        "no secret '{name}' was given: add it to the --secrets file, or pass --secret-env / --ask-secret"
    )]
    Unknown { name: String },
}

/// Everything that can end a talon command early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("inventory: {0}")]
    Inventory(#[from] crate::inventory::InventoryError),
    /// `talon inventory --host NAME` names no host of the inventory.
    #[error("inventory: no host '{0}' in the inventory")]
    UnknownHost(String),
    #[error("bad option: {0}")]
    Options(String),
    /// A command-line usage error ansible-playbook's argument parser reports (`--forks 0`):
    /// exit 2, as it.
    #[error("{0}")]
    Usage(String),
    /// `--limit` leaves no host, or cannot be evaluated (bad `~regex`, unreadable `@file`):
    /// `ansible-playbook` exits 1 for these.
    #[error("{0}")]
    NoHosts(String),
    #[error("{0}")]
    Lab(#[from] crate::lab::LabError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// Vault passwords could not be loaded, or `talon vault` failed (`ansible-vault` exits 1;
    /// 5 for options that do not fit together).
    #[error("{0}")]
    Vault(#[from] crate::vault::VaultError),
}

impl Error {
    /// The process exit code for this error, as `ansible-playbook` would use.
    pub fn code(&self) -> i32 {
        match self {
            Error::Load(_) | Error::Inventory(_) => EXIT_LOAD_ERROR,
            Error::Options(_) | Error::Vault(crate::vault::VaultError::Options(_)) => EXIT_BAD_OPTIONS,
            Error::Usage(_) => EXIT_USAGE,
            Error::NoHosts(_)
            | Error::UnknownHost(_)
            | Error::Lab(_)
            | Error::Io { .. }
            | Error::Vault(_) => EXIT_ERROR,
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
/// Exit code when a playbook, inventory or vars file could not be loaded (`ansible-playbook`
/// uses 4 for parser errors as for unreachable hosts).
pub const EXIT_LOAD_ERROR: i32 = 4;
/// Exit code of any other error (`ansible-playbook`'s generic failure).
pub const EXIT_ERROR: i32 = 1;
/// Exit code of bad command-line options (`ansible-playbook` exits 5; clap's own 2 would read as
/// "a host failed").
pub const EXIT_BAD_OPTIONS: i32 = 5;

/// Exit code of command-line usage errors (an unknown option, a missing argument, `--forks 0`):
/// ansible-playbook's argument parser exits 2 (the same code as "a host failed").
pub const EXIT_USAGE: i32 = 2;

/// How a run or a verification ended, as far as its exit code cares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ending {
    /// Ctrl-C or SIGTERM stopped it.
    pub interrupted: bool,
    /// Some host was unreachable.
    pub unreachable: bool,
    /// Some task (or check) failed.
    pub failed: bool,
}

impl Ending {
    /// `ansible-playbook`'s exit code, the one mapping for `talon run` and `talon verify`: 99
    /// interrupted, else 4 when a host was unreachable, else 2 when something failed, else 0.
    pub fn exit_code(self) -> i32 {
        if self.interrupted {
            EXIT_INTERRUPTED
        } else if self.unreachable {
            EXIT_UNREACHABLE
        } else if self.failed {
            EXIT_HOST_FAILED
        } else {
            EXIT_OK
        }
    }
}
