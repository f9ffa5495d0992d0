//! From what the user typed to what a run uses ([`Config`]): extra vars parsed, forks bounded,
//! paths resolved, secrets loaded. The runner and `talon verify` read only this.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::cli::RunArgs;
use crate::error::Error;
use crate::vars::Vars;

/// Options of one `talon run`, already resolved from the command line.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `--check`.
    pub check: bool,
    /// `--diff`.
    pub diff: bool,
    /// `--forks` (at least 1).
    pub forks: usize,
    /// `--limit` pattern.
    pub limit: Option<String>,
    /// `--tags` (empty = all).
    pub tags: Vec<String>,
    /// `--skip-tags`.
    pub skip_tags: Vec<String>,
    /// `--extra-vars`, merged.
    pub extra_vars: Vars,
    /// `--force-handlers`.
    pub force_handlers: bool,
    /// `--known-hosts FILE` (default `~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// `--accept-new-host-keys`.
    pub accept_new_host_keys: bool,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// `-v` count.
    pub verbosity: u8,
    /// Where pending handler notifications are kept between runs.
    pub state_dir: PathBuf,
    /// A failed task does not stop its host (used by `talon verify`, where every check is
    /// independent). Failures are still reported and counted.
    pub keep_going: bool,
    /// Secrets of the run (`--secrets`, `--secret-env`, `--ask-secret`): markers in templates,
    /// revealed only on delivery, masked in every report (src/secrets/).
    pub secrets: Arc<crate::secrets::SecretStore>,
    /// ansible-core 2.19's `ALLOW_BROKEN_CONDITIONALS` (`ANSIBLE_ALLOW_BROKEN_CONDITIONALS`):
    /// non-boolean conditionals are judged by truthiness instead of failing the task.
    pub allow_broken_conditionals: bool,
    /// `--strict` or `TALON_STRICT`: load findings (an undefined variable, a module argument
    /// that does not fit) refuse the playbook (exit 4) instead of being warnings.
    pub strict: bool,
}

/// Default upper bound of hosts run in parallel.
pub const MAX_DEFAULT_FORKS: usize = 64;

/// Parses one `--extra-vars` value like `ansible-playbook`: `@file` (YAML/JSON), an inline
/// YAML/JSON mapping, or `k=v` pairs (values stay strings).
pub fn parse_extra_vars(text: &str, base: &Path) -> Result<Vars, Error> {
    let t = text.trim();
    if let Some(file) = t.strip_prefix('@') {
        let path = base.join(file);
        let node =
            crate::yaml::load_file(&path).map_err(|e| Error::Options(format!("--extra-vars {t}: {e}")))?;
        return match node.to_json() {
            Value::Object(m) => Ok(m),
            Value::Null => Ok(Vars::new()),
            _ => Err(Error::Options(format!(
                "--extra-vars {t}: the file must hold a mapping"
            ))),
        };
    }
    if t.starts_with('{') {
        let node = crate::yaml::parse_str(t, Path::new("--extra-vars"))
            .map_err(|e| Error::Options(format!("--extra-vars: {e}")))?;
        return match node.to_json() {
            Value::Object(m) => Ok(m),
            _ => Err(Error::Options("--extra-vars: expected a mapping".into())),
        };
    }
    crate::playbook::parse_kv(t, false).map_err(|e| Error::Options(format!("--extra-vars: {e}")))
}

/// Resolves `talon run` arguments into a [`Config`] for `host_count` inventory hosts.
///
/// Errors: [`Error::Options`] for `--forks 0`, a bad `--extra-vars`, secrets that cannot be
/// loaded, or an `ANSIBLE_ALLOW_BROKEN_CONDITIONALS`/`TALON_STRICT` that is no boolean.
pub fn resolve(args: &RunArgs, host_count: usize) -> Result<Config, Error> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut extra_vars = Vars::new();
    for e in &args.extra_vars {
        crate::vars::overlay(&mut extra_vars, &parse_extra_vars(e, &cwd)?);
    }
    let forks = match args.forks {
        Some(0) => return Err(Error::Options("--forks must be at least 1".into())),
        Some(n) => n,
        None => host_count.clamp(1, MAX_DEFAULT_FORKS),
    };
    let state_dir = std::env::var_os("TALON_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cwd.join(".talon").join("state"));
    Ok(Config {
        check: args.check,
        diff: args.diff,
        forks,
        limit: args.limit.clone(),
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        extra_vars,
        force_handlers: args.force_handlers,
        known_hosts: args.ssh.known_hosts.clone(),
        accept_new_host_keys: args.ssh.accept_new_host_keys,
        connect_timeout: Duration::from_secs(args.ssh.timeout.max(1)),
        verbosity: args.verbose,
        state_dir,
        keep_going: false,
        secrets: Arc::new(load_secrets(args)?),
        allow_broken_conditionals: env_bool("ANSIBLE_ALLOW_BROKEN_CONDITIONALS")?.unwrap_or(false),
        strict: args.strict || env_bool("TALON_STRICT")?.unwrap_or(false),
    })
}

/// A boolean setting from the environment, read as ansible-core reads booleans (`yes`, `on`,
/// `1`, `true`, `y`, `t` and their opposites, any case). Unset or empty: `None`. Anything
/// else is a bad option naming the variable.
pub fn env_bool(name: &str) -> Result<Option<bool>, Error> {
    let Some(raw) = std::env::var_os(name) else {
        return Ok(None);
    };
    let text = raw.to_string_lossy().trim().to_ascii_lowercase();
    if text.is_empty() {
        return Ok(None);
    }
    // The same reading as every other boolean talon takes (vars::as_bool).
    match crate::vars::as_bool(&Value::String(text.clone())) {
        Some(b) => Ok(Some(b)),
        None => Err(Error::Options(format!(
            "{name}={text:?} is not a boolean (use true or false)"
        ))),
    }
}

/// Loads `--secrets FILE`, `--secret-env` and `--ask-secret` into one store (bad option: exit 5).
pub fn load_secrets(args: &RunArgs) -> Result<crate::secrets::SecretStore, Error> {
    let mut store = crate::secrets::SecretStore::new();
    let opt = |e: crate::secrets::SecretError| Error::Options(e.to_string());
    if let Some(f) = &args.secret.secrets {
        store.load_file(f).map_err(opt)?;
    }
    for spec in &args.secret.secret_env {
        store.load_env(spec).map_err(opt)?;
    }
    for name in &args.secret.ask_secret {
        store.ask(name).map_err(opt)?;
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_vars_forms() {
        let base = Path::new(".");
        assert_eq!(parse_extra_vars("a=1 b='x y'", base).unwrap()["b"], "x y");
        assert_eq!(parse_extra_vars("{\"a\": [1, 2]}", base).unwrap()["a"][1], 2);
        assert!(parse_extra_vars("@/nonexistent.yml", base).is_err());
    }
}
