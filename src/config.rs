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
    /// `-u` / ansible.cfg `remote_user` / `ANSIBLE_REMOTE_USER`: the user to connect as when
    /// neither the host's variables nor the play say (as Ansible, below both).
    pub remote_user: Option<String>,
    /// `--private-key` / `private_key_file`: tried before `~/.ssh/config`'s identities, after
    /// the host's `ansible_ssh_private_key_file`.
    pub private_key_file: Option<PathBuf>,
    /// `-c` / `transport`: the connection type when the host and the play name none.
    pub connection: Option<String>,
    /// `-b` / `become`: become when neither the task, block, role, play nor `ansible_become`
    /// says.
    pub become_: bool,
    /// `--become-user` / `become_user`: the user to become when nothing closer says.
    pub become_user: Option<String>,
    /// `-K` / `become_ask_pass`: the become password asked at start (a secret, masked in every
    /// report), used where no `ansible_become_password` is set.
    pub become_password: Option<secrecy::SecretString>,
    /// `-k` / `ask_pass`: the SSH password asked at start (a secret), tried after the keys.
    pub ssh_password: Option<secrecy::SecretString>,
    /// `ssh_args`, `--ssh-common-args`, `--ssh-extra-args` (and their ansible.cfg/env forms):
    /// their `-o` options talon honours are read where the host sets no
    /// `ansible_ssh_args`/`ansible_ssh_common_args`/`ansible_ssh_extra_args`.
    pub ssh_args: [Option<String>; 3],
    /// `--start-at-task NAME`: tasks before the first whose name matches (a glob) are not run.
    pub start_at_task: Option<String>,
    /// `--step`: ask before each task.
    pub step: bool,
    /// ansible.cfg `vault_password_file` / `ANSIBLE_VAULT_PASSWORD_FILE` (resolved path), for
    /// the vault support.
    pub vault_password_file: Option<PathBuf>,
    /// ansible.cfg `vault_identity_list` / `ANSIBLE_VAULT_IDENTITY_LIST` (`label@source` items).
    pub vault_identity_list: Vec<String>,
    /// The ansible.cfg/environment settings this run was resolved from.
    pub cfg: Option<Arc<crate::ansible_cfg::AnsibleCfg>>,
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

/// Reads ansible.cfg and `ANSIBLE_*` ([`crate::ansible_cfg`]) and records the command line's
/// values over them (CLI > env > file > default, as ansible-core), so `cfg` holds what a run
/// uses and where each came from. Also sets the playbook loader's defaults (roles path,
/// gathering) for this process.
///
/// Errors: [`Error::Options`] for an ansible.cfg that cannot be read or a value of the wrong
/// type; [`Error::Usage`] for `--forks 0` (ansible-playbook's exit 2).
pub fn load_cfg(args: &RunArgs) -> Result<crate::ansible_cfg::AnsibleCfg, Error> {
    use crate::ansible_cfg::{AnsibleCfg, Value};
    let mut cfg = AnsibleCfg::load().map_err(|e| Error::Options(e.to_string()))?;
    let c = &args.conn;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let abs = |p: &Path| cwd.join(p).display().to_string();
    if !args.inventory.is_empty() {
        let list = args.inventory.iter().map(|p| abs(p)).collect();
        cfg.set_cli("DEFAULT_HOST_LIST", "inventory", Value::List(list));
    }
    if let Some(0) = args.forks {
        return Err(Error::Usage(
            "The number of processes (--forks) must be >= 1".into(),
        ));
    }
    if let Some(n) = args.forks {
        cfg.set_cli("DEFAULT_FORKS", "forks", Value::Int(n as i64));
    }
    if let Some(u) = &c.user {
        cfg.set_cli("DEFAULT_REMOTE_USER", "remote_user", Value::Str(u.clone()));
    }
    if c.become_ {
        cfg.set_cli("DEFAULT_BECOME", "become", Value::Bool(true));
    }
    if let Some(u) = &c.become_user {
        cfg.set_cli("DEFAULT_BECOME_USER", "become_user", Value::Str(u.clone()));
    }
    if let Some(m) = &c.become_method {
        cfg.set_cli("DEFAULT_BECOME_METHOD", "become_method", Value::Str(m.clone()));
    }
    if c.ask_become_pass {
        cfg.set_cli("DEFAULT_BECOME_ASK_PASS", "become_ask_pass", Value::Bool(true));
    }
    if c.ask_pass {
        cfg.set_cli("DEFAULT_ASK_PASS", "ask_pass", Value::Bool(true));
    }
    if let Some(k) = &c.private_key {
        cfg.set_cli("DEFAULT_PRIVATE_KEY_FILE", "private_key_file", Value::Str(abs(k)));
    }
    if let Some(t) = &c.connection {
        cfg.set_cli("DEFAULT_TRANSPORT", "connection", Value::Str(t.clone()));
    }
    if let Some(t) = args.ssh.timeout {
        cfg.set_cli("DEFAULT_TIMEOUT", "timeout", Value::Int(t as i64));
    }
    if let Some(a) = &c.ssh_common_args {
        cfg.set_cli("SSH_COMMON_ARGS", "ssh_common_args", Value::Str(a.clone()));
    }
    if let Some(a) = &c.ssh_extra_args {
        cfg.set_cli("SSH_EXTRA_ARGS", "ssh_extra_args", Value::Str(a.clone()));
    }
    if args.force_handlers {
        cfg.set_cli("DEFAULT_FORCE_HANDLERS", "force_handlers", Value::Bool(true));
    }
    let gathering = cfg.str("DEFAULT_GATHERING").unwrap_or("implicit").to_string();
    if !matches!(gathering.as_str(), "implicit" | "explicit" | "smart") {
        return Err(Error::Options(format!(
            "DEFAULT_GATHERING ({}) is {gathering:?}: use implicit, explicit or smart",
            cfg.source("DEFAULT_GATHERING")
        )));
    }
    crate::ansible_cfg::set_load_defaults(cfg.loader_defaults());
    Ok(cfg)
}

/// The inventory sources of a run: `-i` as given, else ansible.cfg's `inventory` (or
/// `ANSIBLE_INVENTORY`), else ansible-core's default `/etc/ansible/hosts`.
pub fn inventory_sources(args: &RunArgs, cfg: &crate::ansible_cfg::AnsibleCfg) -> Vec<PathBuf> {
    if !args.inventory.is_empty() {
        return args.inventory.clone();
    }
    cfg.list("DEFAULT_HOST_LIST")
        .into_iter()
        .map(PathBuf::from)
        .collect()
}

/// Warnings for the `-o` options of ssh argument strings that talon does not honour (talon
/// speaks SSH itself: it reads `UserKnownHostsFile`, `ServerAliveInterval`,
/// `ServerAliveCountMax` and `StrictHostKeyChecking`; connection sharing and compression
/// options have no meaning for its one connection per host and are accepted silently).
pub fn unhonoured_ssh_options(args: &str) -> Vec<String> {
    const HONOURED: &[&str] = &[
        "userknownhostsfile",
        "serveraliveinterval",
        "serveralivecountmax",
        "stricthostkeychecking",
        "controlmaster",
        "controlpersist",
        "controlpath",
        "compression",
    ];
    let words: Vec<&str> = args.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if w == "-C" {
            i += 1;
            continue;
        }
        let opt = if w == "-o" {
            i += 1;
            words.get(i).copied()
        } else if let Some(o) = w.strip_prefix("-o") {
            Some(o)
        } else {
            out.push(format!(
                "ssh argument '{w}' is not honoured by talon; it is ignored"
            ));
            None
        };
        if let Some(o) = opt {
            let o = o.trim_matches(|c| c == '"' || c == '\'');
            let name = o.split(['=', ' ']).next().unwrap_or(o);
            if !HONOURED.contains(&name.to_ascii_lowercase().as_str()) {
                out.push(format!(
                    "ssh option -o {name} is not honoured by talon; it is ignored"
                ));
            }
        }
        i += 1;
    }
    out
}

/// Resolves `talon run` arguments into a [`Config`] for `host_count` inventory hosts, with the
/// settings of `cfg` ([`load_cfg`]) where the command line gives none.
///
/// Errors: [`Error::Options`] for a bad `--extra-vars`, secrets that cannot be loaded, an
/// `ANSIBLE_ALLOW_BROKEN_CONDITIONALS`/`TALON_STRICT` that is no boolean, a `become_method`
/// other than sudo, a connection other than ssh/local; a password prompt that cannot read the
/// terminal.
pub fn resolve(args: &RunArgs, host_count: usize) -> Result<Config, Error> {
    let cfg = load_cfg(args)?;
    resolve_with(args, host_count, cfg)
}

/// [`resolve`] with ansible.cfg already loaded.
pub fn resolve_with(
    args: &RunArgs,
    host_count: usize,
    cfg: crate::ansible_cfg::AnsibleCfg,
) -> Result<Config, Error> {
    use crate::ansible_cfg::Value as CfgValue;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut extra_vars = Vars::new();
    for e in &args.extra_vars {
        crate::vars::overlay(&mut extra_vars, &parse_extra_vars(e, &cwd)?);
    }
    let forks = match (cfg.is_set("DEFAULT_FORKS"), cfg.get("DEFAULT_FORKS")) {
        (true, CfgValue::Int(n)) if *n >= 1 => *n as usize,
        (true, _) => {
            return Err(Error::Usage(format!(
                "The number of processes (--forks) must be >= 1 ({})",
                cfg.source("DEFAULT_FORKS")
            )));
        }
        // talon's own default (all hosts, up to 64) rather than ansible-core's 5.
        (false, _) => host_count.clamp(1, MAX_DEFAULT_FORKS),
    };
    let method = cfg.str("DEFAULT_BECOME_METHOD").unwrap_or("sudo");
    if method != "sudo" {
        return Err(Error::Options(format!(
            "become_method {method} ({}) is not supported by talon: use sudo",
            cfg.source("DEFAULT_BECOME_METHOD")
        )));
    }
    let connection = cfg
        .str("DEFAULT_TRANSPORT")
        .filter(|_| cfg.is_set("DEFAULT_TRANSPORT"));
    if let Some(c) = connection
        && !matches!(c, "ssh" | "local" | "smart" | "paramiko")
    {
        return Err(Error::Options(format!(
            "connection {c} ({}) is not supported by talon: use ssh or local",
            cfg.source("DEFAULT_TRANSPORT")
        )));
    }
    let stdout_callback = cfg.str("DEFAULT_STDOUT_CALLBACK").unwrap_or("default");
    if !matches!(
        stdout_callback,
        "default" | "json" | "ansible.builtin.default" | "ansible.builtin.json"
    ) {
        eprintln!(
            "[WARNING]: stdout_callback {stdout_callback} ({}) is not honoured by talon (default and json are); using default",
            cfg.source("DEFAULT_STDOUT_CALLBACK")
        );
    }
    let ssh_args = [
        cfg.str("SSH_ARGS").map(str::to_string),
        cfg.str("SSH_COMMON_ARGS")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        cfg.str("SSH_EXTRA_ARGS")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    ];
    for a in ssh_args.iter().flatten() {
        for w in unhonoured_ssh_options(a) {
            eprintln!("[WARNING]: {w}");
        }
    }
    // ansible-playbook asks no password for what connects to no host.
    let connects =
        !(args.syntax_check || args.play.list_hosts || args.play.list_tasks || args.play.list_tags);
    let ssh_password = if connects && cfg.bool("DEFAULT_ASK_PASS") {
        Some(prompt("SSH password: ")?)
    } else {
        None
    };
    let become_password = if connects && cfg.bool("DEFAULT_BECOME_ASK_PASS") {
        let label = if ssh_password.is_some() {
            "BECOME password[defaults to SSH password]: "
        } else {
            "BECOME password: "
        };
        let p = prompt(label)?;
        // ansible-playbook: an empty answer means "the same as the SSH password".
        match (&ssh_password, secrecy::ExposeSecret::expose_secret(&p).is_empty()) {
            (Some(s), true) => Some(s.clone()),
            _ => Some(p),
        }
    } else {
        None
    };
    let host_key_checking = cfg.bool("HOST_KEY_CHECKING")
        && !ssh_args.iter().flatten().any(|a| {
            crate::runner::connect::ssh_option_from_args(a, "StrictHostKeyChecking")
                .is_some_and(|v| v.eq_ignore_ascii_case("no") || v.eq_ignore_ascii_case("accept-new"))
        });
    let timeout = match cfg.get("DEFAULT_TIMEOUT") {
        CfgValue::Int(n) if *n >= 0 => *n as u64,
        _ => 10,
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
        force_handlers: cfg.bool("DEFAULT_FORCE_HANDLERS"),
        known_hosts: args.ssh.known_hosts.clone(),
        // host_key_checking = False: new keys are recorded in known_hosts (as
        // --accept-new-host-keys); a changed key is still refused, never accepted.
        accept_new_host_keys: args.ssh.accept_new_host_keys || !host_key_checking,
        connect_timeout: Duration::from_secs(timeout.max(1)),
        verbosity: args.verbose,
        state_dir,
        keep_going: false,
        secrets: Arc::new(load_secrets(args)?),
        allow_broken_conditionals: env_bool("ANSIBLE_ALLOW_BROKEN_CONDITIONALS")?
            .unwrap_or_else(|| cfg.bool("ALLOW_BROKEN_CONDITIONALS")),
        strict: args.strict || env_bool("TALON_STRICT")?.unwrap_or(false),
        remote_user: cfg.str("DEFAULT_REMOTE_USER").map(str::to_string),
        private_key_file: cfg.str("DEFAULT_PRIVATE_KEY_FILE").map(PathBuf::from),
        connection: connection.map(str::to_string),
        become_: cfg.bool("DEFAULT_BECOME"),
        become_user: cfg
            .str("DEFAULT_BECOME_USER")
            .filter(|_| cfg.is_set("DEFAULT_BECOME_USER"))
            .map(str::to_string),
        become_password,
        ssh_password,
        ssh_args,
        start_at_task: args.play.start_at_task.clone(),
        step: args.play.step,
        vault_password_file: cfg.str("DEFAULT_VAULT_PASSWORD_FILE").map(PathBuf::from),
        vault_identity_list: cfg.list("DEFAULT_VAULT_IDENTITY_LIST"),
        cfg: Some(Arc::new(cfg)),
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

/// Asks for a password on the terminal without echo, as ansible-playbook's `-k`/`-K` prompts.
fn prompt(label: &str) -> Result<secrecy::SecretString, Error> {
    rpassword::prompt_password(label)
        .map(secrecy::SecretString::from)
        .map_err(|e| {
            Error::Options(format!(
                "{}: cannot read from the terminal: {e}",
                label.trim_end_matches(": ")
            ))
        })
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

    #[test]
    fn ssh_args_options_talon_does_not_honour_warn() {
        assert!(unhonoured_ssh_options("-C -o ControlMaster=auto -o ControlPersist=60s").is_empty());
        assert!(unhonoured_ssh_options("-o UserKnownHostsFile=/x -oServerAliveInterval=5").is_empty());
        let w = unhonoured_ssh_options("-o ForwardAgent=yes -4");
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("ForwardAgent") && w[1].contains("'-4'"));
    }
}
