//! `ansible.cfg` and the `ANSIBLE_*` environment, read as ansible-core reads them
//! (`lib/ansible/config/manager.py`, names, keys, types and defaults from `config/base.yml` and
//! the ssh connection plugin's options), for the settings that map to talon features.
//!
//! - **Which file**: the first of `$ANSIBLE_CONFIG` (a folder means its `ansible.cfg`),
//!   `./ansible.cfg` (skipped, with ansible-core's warning, when the working directory is
//!   world-writable), `~/.ansible.cfg`, `/etc/ansible/ansible.cfg` that exists and is readable
//!   ([`find_config_file`]).
//! - **Parsing**: Python's `configparser` rules through [`crate::pyini`] (no interpolation,
//!   `;` inline comments as ansible-core configures the parser); quoted values are unquoted,
//!   relative paths are resolved against the file's folder, `~` and `$VAR` expanded.
//! - **Precedence**: command line > environment > file > default, per setting
//!   ([`AnsibleCfg::set_cli`] records command-line values so `talon config dump` names them).
//! - **Strictness**: a key talon does not honour is a one-line warning naming it; keys that
//!   only change cosmetics (`nocows`, `retry_files_enabled`, colours, `pipelining`) are
//!   accepted without effect and listed in the README.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod settings;

use settings::{DEFS, Def, Effect, Kind};

/// Where a setting's value came from, as `ansible-config dump` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The configuration file (its path).
    File(PathBuf),
    /// An environment variable (its name).
    Env(String),
    /// The command line (the option).
    Cli(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Env(n) => write!(f, "env: {n}"),
            Source::Cli(n) => write!(f, "cli: {n}"),
        }
    }
}

/// A typed setting value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// No value (`None` in ansible-config's output).
    None,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// A list of strings or paths.
    List(Vec<String>),
}

impl fmt::Display for Value {
    /// Python's `str()` of the value, as `ansible-config dump` prints it: `True`, `5`, `text`,
    /// `['a', 'b']`, `None`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => f.write_str(s),
            Value::List(items) => {
                let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
                write!(f, "[{}]", quoted.join(", "))
            }
        }
    }
}

/// Why `ansible.cfg` or an `ANSIBLE_*` variable could not be used: a bad option (exit 5, as
/// ansible-core's `AnsibleOptionsError` for an invalid config value).
#[derive(Debug, thiserror::Error)]
pub enum CfgError {
    /// The file cannot be read or parsed.
    #[error("{path}: {message} (fix the file, or point ANSIBLE_CONFIG elsewhere)")]
    File { path: PathBuf, message: String },
    /// A value does not have the setting's type.
    #[error("config {name} from '{origin}' has an invalid value {value:?}: {expected}")]
    Invalid {
        name: String,
        origin: Source,
        value: String,
        expected: String,
    },
}

/// The resolved settings: every known setting with its value and source, the file used, and the
/// warnings to print once (unhonoured keys, a skipped world-writable `./ansible.cfg`).
#[derive(Debug, Clone)]
pub struct AnsibleCfg {
    /// The configuration file used, if any.
    pub file: Option<PathBuf>,
    values: Vec<(Value, Source)>,
    /// One line each, without the `[WARNING]: ` prefix.
    pub warnings: Vec<String>,
}

/// Finds the configuration file as ansible-core's `find_ini_config_file` does. `env` reads an
/// environment variable. Returns the file (if any) and a warning when a world-writable working
/// directory's `ansible.cfg` was skipped.
pub fn find_config_file(
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
    home: &Path,
) -> (Option<PathBuf>, Option<String>) {
    let mut candidates: Vec<PathBuf> = Vec::new();
    let from_env = env("ANSIBLE_CONFIG").map(|p| {
        let p = resolve_path(&p, cwd, home, env);
        if p.is_dir() { p.join("ansible.cfg") } else { p }
    });
    if let Some(p) = &from_env {
        candidates.push(p.clone());
    }
    let cwd_cfg = cwd.join("ansible.cfg");
    let mut skipped_public = false;
    if world_writable(cwd) {
        skipped_public = cwd_cfg.exists();
    } else {
        candidates.push(cwd_cfg);
    }
    candidates.push(home.join(".ansible.cfg"));
    candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));
    let found = candidates
        .into_iter()
        .find(|p| p.is_file() && std::fs::File::open(p).is_ok());
    let warning = (skipped_public && found != from_env).then(|| {
        format!(
            "Ansible is being run in a world writable directory ({}), ignoring it as an ansible.cfg source. For more information see https://docs.ansible.com/ansible/devel/reference_appendices/config.html#cfg-in-world-writable-dir",
            cwd.display()
        )
    });
    (found, warning)
}

fn world_writable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o002 != 0)
}

/// ansible-core's `resolve_path`/`unfrackpath` without following links: `$VAR` and `~`
/// expanded, a relative path joined to `base`, `.`/`..` folded.
fn resolve_path(p: &str, base: &Path, home: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let expanded = expand_vars(p, env);
    let expanded = if expanded == "~" {
        home.to_string_lossy().into_owned()
    } else if let Some(rest) = expanded.strip_prefix("~/") {
        home.join(rest).to_string_lossy().into_owned()
    } else {
        expanded
    };
    let joined = base.join(expanded);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Python's `os.path.expandvars`: `$NAME` and `${NAME}` of set variables replaced, the rest
/// left as written.
fn expand_vars(s: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail, braced) = if let Some(b) = after.strip_prefix('{') {
            match b.find('}') {
                Some(j) => (&b[..j], &b[j + 1..], true),
                None => ("", after, false),
            }
        } else {
            let n = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..n], &after[n..], false)
        };
        match (name.is_empty(), env(name)) {
            (false, Some(v)) => {
                out.push_str(&v);
                rest = tail;
            }
            _ => {
                out.push('$');
                if braced {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                    rest = tail;
                } else {
                    rest = after;
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// `ANSIBLE_*` variables among `names` that are no setting talon knows: one warning each.
/// Not warned: `ANSIBLE_CONFIG` (it chooses the file), `ANSIBLE_LOCAL_TEMP` and `ANSIBLE_HOME`
/// (read by ansible-core's own module code, which talon runs for the modules it does not
/// implement), and `ANSIBLE_VAULT_*` (the vault settings, src/vault).
pub fn unhonoured_env(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = names
        .iter()
        .filter(|n| n.starts_with("ANSIBLE_") && !n.starts_with("ANSIBLE_VAULT_"))
        .filter(|n| {
            !matches!(
                n.as_str(),
                "ANSIBLE_CONFIG" | "ANSIBLE_LOCAL_TEMP" | "ANSIBLE_HOME"
            )
        })
        .filter(|n| !DEFS.iter().any(|d| d.env.contains(&n.as_str())))
        .map(|n| format!("environment variable {n} is not a setting talon honours; it is ignored"))
        .collect();
    out.sort();
    out
}

/// Python's ansible `unquote`: one pair of matching outer quotes removed.
fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// ansible-core's non-strict boolean (`boolean(value, strict=False)`).
fn ansible_bool(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "y" | "yes" | "on" | "1" | "true" | "t" | "1.0"
    )
}

impl AnsibleCfg {
    /// Reads the settings from this process's environment, working directory and home.
    ///
    /// Errors: [`CfgError`] for a file that cannot be parsed or a value of the wrong type.
    pub fn load() -> Result<AnsibleCfg, CfgError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
        let env = |n: &str| std::env::var(n).ok();
        let mut cfg = AnsibleCfg::load_from(&env, &cwd, &home)?;
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect();
        cfg.warnings.extend(unhonoured_env(&names));
        Ok(cfg)
    }

    /// [`AnsibleCfg::load`] with the environment, working directory and home given (for tests).
    pub fn load_from(
        env: &dyn Fn(&str) -> Option<String>,
        cwd: &Path,
        home: &Path,
    ) -> Result<AnsibleCfg, CfgError> {
        let (file, warning) = find_config_file(env, cwd, home);
        let mut warnings: Vec<String> = warning.into_iter().collect();
        let parsed = match &file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| CfgError::File {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                let text = strip_inline_comments(&text);
                Some(
                    crate::pyini::read(&text, false, true).map_err(|message| CfgError::File {
                        path: path.clone(),
                        message,
                    })?,
                )
            }
            None => None,
        };
        let cfg_dir = file
            .as_ref()
            .and_then(|f| f.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| cwd.to_path_buf());
        if let (Some(p), Some(path)) = (&parsed, &file) {
            for (section, options) in &p.sections {
                for (key, _) in options {
                    let known = DEFS
                        .iter()
                        .any(|d| d.ini.iter().any(|(s, k)| s == section && k == key));
                    if !known {
                        warnings.push(format!(
                            "{}: [{section}] {key} is not a setting talon honours; it is ignored",
                            path.display()
                        ));
                    }
                }
            }
        }
        let mut values = Vec::with_capacity(DEFS.len());
        for d in DEFS {
            let from_env = d.env.iter().find_map(|n| {
                env(n)
                    .filter(|v| !v.is_empty())
                    .map(|v| (v, Source::Env((*n).to_string())))
            });
            let from_file = || -> Option<(String, Source)> {
                let p = parsed.as_ref()?;
                d.ini.iter().find_map(|(s, k)| {
                    let items = p.sections.get(*s)?;
                    let v = items.iter().find(|(n, _)| n == k)?.1.clone()?;
                    Some((unquote(v.trim()).to_string(), Source::File(file.clone()?)))
                })
            };
            let (raw, source) = match from_env.or_else(from_file) {
                Some((raw, source)) => (Some(raw), source),
                None => (d.default.map(str::to_string), Source::Default),
            };
            let base = match source {
                Source::File(_) => cfg_dir.as_path(),
                _ => cwd,
            };
            let value = match raw {
                None => Value::None,
                Some(raw) => convert(d, &raw, &source, base, home, env)?,
            };
            if d.effect == Effect::NoOp && source != Source::Default {
                tracing::debug!("{} is accepted without effect", d.name);
            }
            values.push((value, source));
        }
        Ok(AnsibleCfg {
            file,
            values,
            warnings,
        })
    }

    fn index(name: &str) -> Option<usize> {
        DEFS.iter().position(|d| d.name == name)
    }

    /// The value of setting `name` (ansible-core's name, e.g. `DEFAULT_REMOTE_USER`);
    /// [`Value::None`] for a name talon does not know.
    pub fn get(&self, name: &str) -> &Value {
        static NONE: Value = Value::None;
        Self::index(name).map_or(&NONE, |i| &self.values[i].0)
    }

    /// Where setting `name`'s value came from.
    pub fn source(&self, name: &str) -> Source {
        Self::index(name).map_or(Source::Default, |i| self.values[i].1.clone())
    }

    /// True when setting `name` was set by the file, the environment or the command line.
    pub fn is_set(&self, name: &str) -> bool {
        self.source(name) != Source::Default
    }

    /// A boolean setting (false when unset or not a boolean).
    pub fn bool(&self, name: &str) -> bool {
        matches!(self.get(name), Value::Bool(true))
    }

    /// A string setting (`None` when it has no value).
    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A list or path-list setting (empty when it has no value).
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Value::List(l) => l.clone(),
            Value::Str(s) if !s.is_empty() => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// Records a command-line value for `name` (`option` is the flag, e.g. `remote_user`):
    /// the command line wins over everything else.
    pub fn set_cli(&mut self, name: &str, option: &str, value: Value) {
        if let Some(i) = Self::index(name) {
            self.values[i] = (value, Source::Cli(option.to_string()));
        }
    }

    /// The loader's defaults from these settings: `DEFAULT_ROLES_PATH`, `COLLECTIONS_PATHS`,
    /// and `DEFAULT_GATHERING` (`explicit`: plays gather only when they ask).
    pub fn loader_defaults(&self) -> LoadDefaults {
        let paths = |name: &str| self.list(name).into_iter().map(PathBuf::from).collect();
        LoadDefaults {
            roles_path: paths("DEFAULT_ROLES_PATH"),
            collections_path: paths("COLLECTIONS_PATHS"),
            gather_by_default: self.str("DEFAULT_GATHERING") != Some("explicit"),
        }
    }

    /// `ansible-config dump [--only-changed]`: `NAME(source) = value` lines sorted by name,
    /// with `CONFIG_FILE() = path` among them.
    pub fn dump(&self, only_changed: bool) -> String {
        let mut lines: Vec<(String, String)> = Vec::new();
        lines.push((
            "CONFIG_FILE".into(),
            format!(
                "CONFIG_FILE() = {}",
                self.file
                    .as_ref()
                    .map_or_else(|| "None".to_string(), |f| f.display().to_string())
            ),
        ));
        for (d, (v, s)) in DEFS.iter().zip(&self.values) {
            if only_changed && *s == Source::Default {
                continue;
            }
            lines.push((d.name.to_string(), format!("{}({s}) = {v}", d.name)));
        }
        lines.sort();
        lines.into_iter().map(|(_, l)| l).collect::<Vec<_>>().join("\n")
    }
}

/// ansible-core's parser takes `;` as an inline comment prefix (after whitespace, as Python's
/// `configparser` requires); `pyini` takes none, so they are cut here.
fn strip_inline_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let cut = line
            .char_indices()
            .find(|&(i, c)| c == ';' && i > 0 && line[..i].ends_with(char::is_whitespace))
            .map_or(line, |(i, _)| &line[..i]);
        out.push_str(if line.trim_start().starts_with([';', '#']) {
            line
        } else {
            cut
        });
        out.push('\n');
    }
    out
}

fn convert(
    d: &Def,
    raw: &str,
    source: &Source,
    base: &Path,
    home: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, CfgError> {
    let invalid = |expected: &str| CfgError::Invalid {
        name: d.name.to_string(),
        origin: source.clone(),
        value: raw.to_string(),
        expected: expected.to_string(),
    };
    Ok(match d.kind {
        Kind::Bool => Value::Bool(ansible_bool(raw)),
        Kind::Int => Value::Int(
            raw.trim()
                .parse::<i64>()
                .map_err(|_| invalid("expected an integer"))?,
        ),
        Kind::Str => Value::Str(raw.to_string()),
        Kind::Path => Value::Str(resolve_path(raw, base, home, env).display().to_string()),
        Kind::PathSpec => Value::List(
            raw.split(':')
                .map(|p| resolve_path(p, base, home, env).display().to_string())
                .collect(),
        ),
        Kind::PathList => Value::List(
            raw.split(',')
                .map(|p| resolve_path(p.trim(), base, home, env).display().to_string())
                .collect(),
        ),
        Kind::List => {
            if raw.trim().is_empty() {
                Value::List(Vec::new())
            } else {
                Value::List(raw.split(',').map(|x| unquote(x.trim()).to_string()).collect())
            }
        }
    })
}

/// What the playbook loader takes from the configuration: the roles and collections paths and
/// whether plays gather facts unless they say otherwise (`gathering`). Set once per process by
/// the command that loads playbooks ([`set_load_defaults`]); unset (library use, unit tests)
/// the loader reads `ANSIBLE_ROLES_PATH`/`ANSIBLE_COLLECTIONS_PATH` itself and gathering is
/// `implicit`.
#[derive(Debug, Clone)]
pub struct LoadDefaults {
    /// `DEFAULT_ROLES_PATH`, searched after the playbook's `roles/` and folder.
    pub roles_path: Vec<PathBuf>,
    /// `COLLECTIONS_PATHS`, where `NS.COLLECTION.ROLE` names are looked up.
    pub collections_path: Vec<PathBuf>,
    /// False for `gathering = explicit`: a play gathers facts only with `gather_facts: true`.
    pub gather_by_default: bool,
}

static LOAD_DEFAULTS: OnceLock<LoadDefaults> = OnceLock::new();

/// Sets the loader's defaults for this process (the first call wins).
pub fn set_load_defaults(d: LoadDefaults) {
    let _ = LOAD_DEFAULTS.set(d);
}

/// The loader's defaults (see [`LoadDefaults`]); `None` until [`set_load_defaults`].
pub fn load_defaults() -> Option<LoadDefaults> {
    LOAD_DEFAULTS.get().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    #[test]
    fn precedence_cli_env_file_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ansible.cfg"),
            "[defaults]\nremote_user = fromfile\nforks = 7 ; inline\ninventory = hosts.ini\nunknown_thing = 1\n\
             [privilege_escalation]\nbecome = yes\n[ssh_connection]\npipelining = True\n",
        )
        .unwrap();
        let home = dir.path().join("home");
        let env = env_of(&[("ANSIBLE_FORKS", "3")]);
        let mut c = AnsibleCfg::load_from(&env, dir.path(), &home).unwrap();
        assert_eq!(c.file.as_deref(), Some(dir.path().join("ansible.cfg").as_path()));
        assert_eq!(c.str("DEFAULT_REMOTE_USER"), Some("fromfile"));
        assert_eq!(
            c.source("DEFAULT_REMOTE_USER"),
            Source::File(dir.path().join("ansible.cfg"))
        );
        assert_eq!(*c.get("DEFAULT_FORKS"), Value::Int(3));
        assert_eq!(c.source("DEFAULT_FORKS"), Source::Env("ANSIBLE_FORKS".into()));
        assert!(c.bool("DEFAULT_BECOME"));
        assert_eq!(*c.get("DEFAULT_TIMEOUT"), Value::Int(10));
        assert_eq!(
            c.list("DEFAULT_HOST_LIST"),
            vec![dir.path().join("hosts.ini").display().to_string()]
        );
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("[defaults] unknown_thing"));
        c.set_cli("DEFAULT_FORKS", "forks", Value::Int(9));
        assert_eq!(*c.get("DEFAULT_FORKS"), Value::Int(9));
        let dump = c.dump(true);
        assert!(dump.contains("DEFAULT_FORKS(cli: forks) = 9"), "{dump}");
        assert!(dump.contains(&format!(
            "DEFAULT_BECOME({}) = True",
            dir.path().join("ansible.cfg").display()
        )));
        assert!(!dump.contains("DEFAULT_TIMEOUT"));
        assert!(c.dump(false).contains("DEFAULT_TIMEOUT(default) = 10"));
    }

    #[test]
    fn file_order_and_world_writable_cwd() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().join("cwd");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(cwd.join("ansible.cfg"), "[defaults]\n").unwrap();
        std::fs::write(home.join(".ansible.cfg"), "[defaults]\n").unwrap();
        let none = env_of(&[]);
        assert_eq!(
            find_config_file(&none, &cwd, &home).0,
            Some(cwd.join("ansible.cfg"))
        );
        let elsewhere = dir.path().join("other");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("ansible.cfg"), "[defaults]\n").unwrap();
        let env = env_of(&[("ANSIBLE_CONFIG", elsewhere.to_str().unwrap())]);
        assert_eq!(
            find_config_file(&env, &cwd, &home).0,
            Some(elsewhere.join("ansible.cfg"))
        );
        std::fs::set_permissions(&cwd, std::fs::Permissions::from_mode(0o777)).unwrap();
        let (f, w) = find_config_file(&none, &cwd, &home);
        assert_eq!(f, Some(home.join(".ansible.cfg")));
        assert!(w.unwrap().contains("world writable directory"));
    }

    #[test]
    fn bad_values_and_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ansible.cfg"), "[defaults]\nforks = many\n").unwrap();
        let env = env_of(&[]);
        let err = AnsibleCfg::load_from(&env, dir.path(), dir.path()).unwrap_err();
        assert!(err.to_string().contains("DEFAULT_FORKS"), "{err}");
        let env = env_of(&[("X", "/opt")]);
        assert_eq!(
            resolve_path("$X/roles:~/r", Path::new("/b"), Path::new("/h"), &env),
            PathBuf::from("/opt/roles:~/r")
        );
        assert_eq!(
            resolve_path("~/r/../s", Path::new("/b"), Path::new("/h"), &env),
            PathBuf::from("/h/s")
        );
        assert_eq!(unquote("'a b'"), "a b");
        let w = unhonoured_env(&[
            "ANSIBLE_FORKS".into(),
            "ANSIBLE_STRATEGY".into(),
            "ANSIBLE_LOCAL_TEMP".into(),
            "PATH".into(),
        ]);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("ANSIBLE_STRATEGY"));
        assert_eq!(
            Value::List(vec!["a".into(), "b".into()]).to_string(),
            "['a', 'b']"
        );
    }
}
