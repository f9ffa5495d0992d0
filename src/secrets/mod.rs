//! Secrets: values that must reach a host but never argv, logs, diffs or `--json`.
//!
//! Why this exists: a token passed as a command argument is visible to every user of the host
//! in `ps aux` and in `/proc/*/cmdline` (the OpenClaw deploys that motivated this leaked a bot
//! token exactly so). talon therefore keeps secret values apart from ordinary variables:
//!
//! - **Load**: from a YAML file outside the repository (`--secrets FILE`, a mapping of name to
//!   string; refused unless it is a regular file owned by the current user with mode 0600 or
//!   stricter), from environment variables (`--secret-env NAME` / `--secret-env name=VAR`) or
//!   from a prompt without echo (`--ask-secret NAME`). Values are held as
//!   [`secrecy::SecretString`] from load to delivery.
//! - **Templates never see plaintext**: each secret variable is exposed to templates as an
//!   opaque marker (`__talon_secret_<run nonce>_<index>__`). A template that embeds it yields
//!   text containing the marker; registered results, diffs and error messages therefore carry
//!   the marker, not the value. `to_json`/`to_nice_json` put a marker inside a JSON string, so
//!   they rewrite it to a variant that records the escaping owed to the value
//!   (`__talon_secret_<nonce>_<index>_json__`, one `_json` per level: [`json_escape_markers`]).
//! - **Delivery**: only `copy`/`template` content (written through a 0600 temp file on stdin),
//!   the `talon_secret_file` module and `command`/`shell` `stdin` turn markers back into values
//!   ([`SecretStore::reveal`]), in the bytes sent on stdin and nowhere else; a `_json` variant
//!   gets the value JSON-string-escaped (as many times as it was quoted). A marker changed by a
//!   filter (`upper`, `b64encode`, a slice, ...) is detected and the task fails rather than
//!   delivering garbage.
//! - **Refusal**: a task that would put a secret on a command line (command/shell arguments,
//!   `environment:`, any module argument that is not a delivery channel) is refused before any
//!   host is touched ([`SecretStore::check_playbook`], a load error, exit 4), and again at run
//!   time on the rendered arguments ([`SecretStore::refuse_args`]).
//! - **Masking**: every value and every marker is replaced by [`MASK`] in everything the reporter
//!   prints or puts in JSON ([`SecretStore::mask_value`]), including output of commands that
//!   happen to print a value. Registered variables keep what the module returned (so a later
//!   task may deliver it), only the reports are masked.
//!
//! The store (loading, holding) is `store`, the markers and masking `markers`; neither knows
//! playbooks or modules. Which task may use a secret where is the policy in `policy`.

mod found;
pub mod held;
mod markers;
mod policy;
mod store;
#[cfg(test)]
mod tests;

pub use found::treat_as_secret;
pub use markers::{Revealed, json_escape_markers};
pub use store::{NONE, SecretStore};

/// What every secret value and marker is replaced with in output.
pub const MASK: &str = "********";

/// Why secrets could not be loaded, or a task may not use one.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secrets file is not safe to read (mode, owner, type) or cannot be read or parsed.
    /// The message never contains file content.
    #[error("secrets file {path}: {message}")]
    File { path: String, message: String },
    /// A secret name is not a valid variable name, is given twice, or its value is empty.
    #[error("secret '{name}': {message}")]
    Invalid { name: String, message: String },
    /// `--secret-env` names an environment variable that is not set.
    #[error("--secret-env {spec}: environment variable {var} is not set (export it, or drop the option)")]
    MissingEnv { spec: String, var: String },
    /// `--ask-secret` could not read from the terminal.
    #[error("--ask-secret {name}: cannot read from the terminal: {message}")]
    Prompt { name: String, message: String },
    /// A task would use a secret where it may not.
    #[error(transparent)]
    Policy(#[from] crate::error::PolicyError),
    /// A marker was transformed (by a filter) before delivery; the value cannot be put back.
    #[error(
        "a secret was transformed before delivery ({how}): filters cannot see a secret's value, \
         so `{{{{ name | b64encode }}}}`, `| upper`, slicing and the like cannot work (`to_json` \
         and `to_nice_json` can). \
         Insert secrets as is (`{{{{ name }}}}`); store a transformed value as its own secret"
    )]
    Mangled { how: String },
}
