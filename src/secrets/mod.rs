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

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::{LazyLock, RwLock};

use base64::Engine;
use regex::Regex;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

pub mod held;

use crate::error::LoadError;
use crate::playbook::{Action, Loader, Playbook, Task};
use crate::vars::Vars;

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
    /// A marker was transformed (by a filter) before delivery; the value cannot be put back.
    #[error(
        "a secret was transformed before delivery ({how}): filters cannot see a secret's value, \
         so `{{{{ name | b64encode }}}}`, `| upper`, slicing and the like cannot work (`to_json` \
         and `to_nice_json` can). \
         Insert secrets as is (`{{{{ name }}}}`); store a transformed value as its own secret"
    )]
    Mangled { how: String },
    /// `talon_secret_file` names a secret that was not given.
    #[error(
        "no secret '{name}' was given: add it to the --secrets file, or pass --secret-env / --ask-secret"
    )]
    Unknown { name: String },
}

/// The fix named in every "on the command line" refusal.
const FIX_ARGV: &str = "deliver it as a 0600 file (talon_secret_file, or copy/template with content) \
                        or on stdin (command: stdin:)";
/// The fix named when a secret reaches an argument that is not a delivery channel.
const FIX_ARG: &str = "only copy `content`, template files, talon_secret_file and command/shell \
                       `stdin` deliver secrets (debug, assert, fail and set_fact may hold them)";

/// One loaded secret.
struct Entry {
    name: String,
    value: SecretString,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={MASK}", self.name)
    }
}

/// The secrets of one run: values (as [`SecretString`]), the markers that stand for them in
/// templates, and further values to mask (become passwords).
#[derive(Debug, Default)]
pub struct SecretStore {
    /// 16 hex digits, random per run: markers cannot be guessed or forged by a host's output.
    nonce: String,
    entries: Vec<Entry>,
    /// More values to mask (not usable as variables), e.g. `ansible_become_password`.
    extra: RwLock<Vec<SecretString>>,
    /// The marker pattern, compiled once (the nonce is fixed once a secret is inserted).
    marker_re: std::sync::OnceLock<Option<Regex>>,
    /// Files talon delivered a secret into (their old content is never shown in a diff).
    pub held: held::HeldFiles,
}

/// A store with no secrets, for module contexts outside a run (tests, tools).
pub static NONE: SecretStore = SecretStore::empty();

/// Content with markers replaced by values, for delivery on stdin only.
pub struct Revealed {
    /// The bytes to deliver (zeroed when dropped).
    pub content: Zeroizing<Vec<u8>>,
    /// Whether the content holds a secret value (from a marker, or a value that was already in
    /// plain text, e.g. a registered command output).
    pub has_secret: bool,
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Revealed({} bytes, has_secret: {})",
            self.content.len(),
            self.has_secret
        )
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Environment variables that held a `--secret-env` value: talon's child processes never
/// inherit them (see [`env_var`] and [`scrubbed_env`]).
static SCRUBBED_ENV: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// The environment variables every local child process must be started without (they held a
/// `--secret-env` value): `ansible_connection: local` and `delegate_to: localhost` commands and
/// `lookup('pipe')` remove them (`Command::env_remove`). talon cannot remove them from its own
/// environment (that needs `unsafe` in Rust 2024), so they stay in `/proc/TALON_PID/environ`,
/// readable by the same user and root, as in the shell that set them.
pub fn scrubbed_env() -> Vec<String> {
    SCRUBBED_ENV.read().map(|v| v.clone()).unwrap_or_default()
}

/// `std::env::var` as talon's templates see the environment: a variable that held a
/// `--secret-env` value reads as unset (`lookup('env')` would otherwise put it in plain text).
pub fn env_var(name: &str) -> Option<String> {
    if scrubbed_env().iter().any(|v| v == name) {
        return None;
    }
    std::env::var(name).ok()
}

/// `bytes` random bytes from the OS (`/dev/urandom`) as lowercase hex (2 x `bytes` digits).
/// Errors: the device cannot be opened or read.
pub(crate) fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(hex::encode(buf))
}

fn random_nonce() -> String {
    random_hex(8).unwrap_or_else(|_| {
        use sha2::Digest;
        // A stack address is mixed in: it differs between runs under ASLR.
        let local = 0u8;
        let seed = format!(
            "{:?}{}{:p}",
            std::time::SystemTime::now(),
            std::process::id(),
            &local
        );
        hex::encode(&sha2::Sha256::digest(seed.as_bytes())[..8])
    })
}

/// The uid talon runs as (owner of `/proc/self`, else of a fresh temp file).
fn current_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    if let Ok(m) = std::fs::metadata("/proc/self") {
        return Some(m.uid());
    }
    let f = tempfile::tempfile().ok()?;
    f.metadata().ok().map(|m| m.uid())
}

impl SecretStore {
    /// An empty store without a nonce (no markers can match it).
    pub const fn empty() -> Self {
        SecretStore {
            nonce: String::new(),
            entries: Vec::new(),
            extra: RwLock::new(Vec::new()),
            marker_re: std::sync::OnceLock::new(),
            held: held::HeldFiles::new(),
        }
    }

    /// An empty store with a fresh random nonce, ready to load secrets into.
    pub fn new() -> Self {
        SecretStore {
            nonce: random_nonce(),
            ..Self::empty()
        }
    }

    /// True when no secret was given.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The names of the secrets, in load order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// The value of a secret.
    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.entries.iter().find(|e| e.name == name).map(|e| &e.value)
    }

    /// Adds a secret. Errors ([`SecretError::Invalid`]): the name is not a variable name
    /// (`[A-Za-z_][A-Za-z0-9_]*`), it was already given (`source` names where from), or the
    /// value is empty (an empty value cannot be masked).
    pub fn insert(&mut self, name: &str, value: SecretString) -> Result<(), SecretError> {
        let invalid = |message: String| SecretError::Invalid {
            name: name.to_string(),
            message,
        };
        if !valid_name(name) {
            return Err(invalid(
                "not a valid variable name (letters, digits and _, not starting with a digit)".into(),
            ));
        }
        if self.get(name).is_some() {
            return Err(invalid(
                "given twice (secrets file, --secret-env, --ask-secret)".into(),
            ));
        }
        if value.expose_secret().is_empty() {
            return Err(invalid("the value is empty".into()));
        }
        if self.nonce.is_empty() {
            self.nonce = random_nonce();
        }
        self.entries.push(Entry {
            name: name.to_string(),
            value,
        });
        Ok(())
    }

    /// Loads a YAML secrets file: a mapping of name to string (plain scalars are taken as
    /// written, so `pin: 0123` is the string `0123`).
    ///
    /// Refused ([`SecretError::File`], with the fix) unless `path` is a regular file owned by the
    /// current user whose mode gives nothing to group and others (`chmod 600 FILE`). Parse
    /// errors name the line, never the content.
    pub fn load_file(&mut self, path: &Path) -> Result<(), SecretError> {
        use std::os::unix::fs::MetadataExt;
        let shown = path.display().to_string();
        let err = |message: String| SecretError::File {
            path: shown.clone(),
            message,
        };
        let f = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        // Checked on the open file, so a swap between check and read cannot slip through.
        let md = f.metadata().map_err(|e| err(e.to_string()))?;
        if !md.is_file() {
            return Err(err("not a regular file".into()));
        }
        if let Some(uid) = current_uid()
            && md.uid() != uid
        {
            return Err(err(format!(
                "owned by uid {}, not by you (uid {uid}): secrets must be readable by you alone (chown it, then chmod 600 {shown})",
                md.uid()
            )));
        }
        let mode = md.mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "mode {mode:04o} lets other users read it: run `chmod 600 {shown}`"
            )));
        }
        let text = Zeroizing::new(crate::input::read_text_from(f, path).map_err(|e| match e {
            crate::input::InputError::Io { source, .. } => err(source.to_string()),
            other => err(other.to_string()),
        })?);
        if text.trim().is_empty() {
            return Ok(());
        }
        let map: indexmap::IndexMap<String, String> = serde_saphyr::from_str(&text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" (line {})", l.line()))
                .unwrap_or_default();
            err(format!(
                "expected a YAML mapping of name: string{at}; nested values, lists and null are not secrets"
            ))
        })?;
        for (name, value) in map {
            self.insert(&name, SecretString::from(value))?;
        }
        Ok(())
    }

    /// `--secret-env SPEC`: `NAME` takes env var `NAME` as secret `name` (lowercased);
    /// `name=VAR` takes env var `VAR` as secret `name`.
    /// Errors: [`SecretError::MissingEnv`] when the variable is unset; [`SecretError::Invalid`].
    pub fn load_env(&mut self, spec: &str) -> Result<(), SecretError> {
        let (name, var) = match spec.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => (spec.to_ascii_lowercase(), spec.to_string()),
        };
        let value = std::env::var(&var).map_err(|_| SecretError::MissingEnv {
            spec: spec.to_string(),
            var: var.clone(),
        })?;
        self.insert(&name, SecretString::from(value))?;
        if let Ok(mut scrubbed) = SCRUBBED_ENV.write()
            && !scrubbed.contains(&var)
        {
            scrubbed.push(var);
        }
        Ok(())
    }

    /// `--ask-secret NAME`: prompts on the terminal without echo.
    /// Errors: [`SecretError::Prompt`] when there is no terminal; [`SecretError::Invalid`].
    pub fn ask(&mut self, name: &str) -> Result<(), SecretError> {
        let value =
            rpassword::prompt_password(format!("secret {name}: ")).map_err(|e| SecretError::Prompt {
                name: name.to_string(),
                message: e.to_string(),
            })?;
        self.insert(name, SecretString::from(value))
    }

    /// Masks this value too from now on (become passwords), without making it a variable.
    pub fn also_mask(&self, value: &SecretString) {
        if value.expose_secret().is_empty() {
            return;
        }
        if let Ok(mut extra) = self.extra.write()
            && !extra.iter().any(|v| v.expose_secret() == value.expose_secret())
        {
            extra.push(value.clone());
        }
    }

    fn marker_at(&self, index: usize) -> String {
        format!("__talon_secret_{}_{index}__", self.nonce)
    }

    /// The marker that stands for secret `name` in templates.
    pub fn marker(&self, name: &str) -> Option<String> {
        self.entries
            .iter()
            .position(|e| e.name == name)
            .map(|i| self.marker_at(i))
    }

    /// Every secret as a variable whose value is its marker (what templates see).
    pub fn marker_vars(&self) -> Vars {
        (0..self.entries.len())
            .map(|i| (self.entries[i].name.clone(), Value::String(self.marker_at(i))))
            .collect()
    }

    fn marker_re(&self) -> Option<&Regex> {
        if self.entries.is_empty() {
            return None;
        }
        self.marker_re
            .get_or_init(|| {
                Regex::new(&format!(
                    "__talon_secret_{}_([0-9]+)((?:{JSON_LEVEL})*)__",
                    self.nonce
                ))
                .ok()
            })
            .as_ref()
    }

    /// Traces of a marker changed by a filter: the nonce in any letter case, or inside base64
    /// at any of the three byte alignments.
    fn mangled_trace(&self, text: &str) -> Option<String> {
        if self.entries.is_empty() {
            return None;
        }
        if text.to_ascii_lowercase().contains(&self.nonce) {
            return Some("a marker changed by a filter such as upper, replace or a slice".into());
        }
        let core = format!("__talon_secret_{}_", self.nonce);
        for align in 0..3usize {
            let mut bytes = vec![0u8; align];
            bytes.extend_from_slice(core.as_bytes());
            let enc = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let start = (8 * align).div_ceil(6);
            let end = (8 * (align + core.len())) / 6;
            let Some(frag) = enc.get(start..end) else { continue };
            let url = frag.replace('+', "-").replace('/', "_");
            if text.contains(frag) || text.contains(&url) {
                return Some("a marker inside base64 (b64encode)".into());
            }
        }
        None
    }

    /// Replaces every marker in `text` by its secret's value, for delivery on stdin. A marker
    /// with N `_json` levels (from `to_json`/`to_nice_json`) gets the value escaped as the inside
    /// of a JSON string N times, so the delivered JSON parses back to exactly the value.
    ///
    /// Errors: [`SecretError::Mangled`] when a marker was transformed by a filter (its value
    /// cannot be put back, and delivering the transformed marker would be garbage).
    pub fn reveal(&self, text: &str) -> Result<Revealed, SecretError> {
        let Some(re) = self.marker_re() else {
            return Ok(Revealed {
                content: Zeroizing::new(text.as_bytes().to_vec()),
                has_secret: false,
            });
        };
        let mut out = Zeroizing::new(Vec::with_capacity(text.len()));
        let mut rest_text = String::with_capacity(text.len());
        let mut last = 0;
        let mut found = false;
        for cap in re.captures_iter(text) {
            let (Some(all), Some(idx)) = (cap.get(0), cap.get(1)) else {
                continue;
            };
            let entry = idx
                .as_str()
                .parse::<usize>()
                .ok()
                .and_then(|i| self.entries.get(i))
                .ok_or_else(|| SecretError::Mangled {
                    how: "a marker with an unknown index".into(),
                })?;
            out.extend_from_slice(&text.as_bytes()[last..all.start()]);
            rest_text.push_str(&text[last..all.start()]);
            let levels = cap.get(2).map_or(0, |m| m.len() / JSON_LEVEL.len());
            if levels == 0 {
                out.extend_from_slice(entry.value.expose_secret().as_bytes());
            } else {
                let mut v = Zeroizing::new(entry.value.expose_secret().to_string());
                for _ in 0..levels {
                    v = Zeroizing::new(json_string_inside(&v));
                }
                out.extend_from_slice(v.as_bytes());
            }
            last = all.end();
            found = true;
        }
        out.extend_from_slice(&text.as_bytes()[last..]);
        rest_text.push_str(&text[last..]);
        if let Some(how) = self.mangled_trace(&rest_text) {
            return Err(SecretError::Mangled { how });
        }
        let has_secret = found || self.find_value(text).is_some();
        Ok(Revealed {
            content: out,
            has_secret,
        })
    }

    /// The name of a secret whose marker or value occurs in `text` (become passwords count as
    /// `ansible_become_password`).
    pub fn find_in(&self, text: &str) -> Option<String> {
        if let Some(cap) = self.marker_re().and_then(|re| re.captures(text)) {
            let name = cap
                .get(1)
                .and_then(|i| i.as_str().parse::<usize>().ok())
                .and_then(|i| self.entries.get(i))
                .map(|e| e.name.clone());
            return Some(name.unwrap_or_else(|| "?".into()));
        }
        if self.mangled_trace(text).is_some() {
            return Some("(transformed)".into());
        }
        self.find_value(text)
    }

    fn find_value(&self, text: &str) -> Option<String> {
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| text.contains(e.value.expose_secret()))
        {
            return Some(e.name.clone());
        }
        let extra = self.extra.read().ok()?;
        extra
            .iter()
            .any(|v| text.contains(v.expose_secret()))
            .then(|| "ansible_become_password".to_string())
    }

    /// `text` with every marker and every secret value (longest first) replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        let mut out = match self.marker_re() {
            Some(re) => re.replace_all(text, MASK).into_owned(),
            None => text.to_string(),
        };
        let extra = self.extra.read().map(|e| e.clone()).unwrap_or_default();
        let mut values: Vec<&str> = self
            .entries
            .iter()
            .map(|e| e.value.expose_secret())
            .chain(extra.iter().map(|v| v.expose_secret()))
            .filter(|v| !v.is_empty())
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for v in values {
            if out.contains(v) {
                out = out.replace(v, MASK);
            }
        }
        out
    }

    /// Whether anything needs masking at all (no secrets, no become passwords: output as is).
    fn masks_anything(&self) -> bool {
        !self.entries.is_empty() || self.extra.read().map(|e| !e.is_empty()).unwrap_or(true)
    }

    /// A JSON value with every string (keys included) masked by [`SecretStore::mask`].
    pub fn mask_value(&self, v: Value) -> Value {
        if !self.masks_anything() {
            return v;
        }
        self.mask_json(v)
    }

    fn mask_json(&self, v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.mask(&s)),
            Value::Array(a) => Value::Array(a.into_iter().map(|x| self.mask_json(x)).collect()),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, x)| (self.mask(&k), self.mask_json(x)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// Run-time check of a module's rendered arguments and environment: refuses a secret (marker
    /// or value) in any argument that is not a delivery channel for `module` (see
    /// [`allowed_args`]), and in any `environment:` value (it would become `env K=V` in argv).
    /// `place` names the task for the message.
    pub fn refuse_args(
        &self,
        module: &str,
        args: &Vars,
        env: &[(String, String)],
        place: &str,
    ) -> Result<(), SecretError> {
        if !self.masks_anything() {
            return Ok(());
        }
        for (k, v) in env {
            if let Some(name) = self.find_in(v) {
                return Err(SecretError::OnCommandLine {
                    name: format!("'{name}'"),
                    place: format!("{place} (environment {k})"),
                    fix: FIX_ARGV,
                });
            }
        }
        let short = crate::modules::short_name(module);
        let allowed = allowed_args(short);
        for (k, v) in args {
            if allowed.is_some_and(|a| a.contains(&k.as_str()) || a.contains(&"*")) {
                continue;
            }
            let mut texts = Vec::new();
            collect_strings(v, &mut texts);
            for t in texts {
                if let Some(name) = self.find_in(t) {
                    return Err(refusal(short, k, format!("'{name}'"), place.to_string()));
                }
            }
        }
        Ok(())
    }

    /// Load-time check of a playbook (before any host is touched): refuses every task whose
    /// command line, `environment:` or non-delivering module argument uses a secret, directly
    /// or through variables defined from it (play/role/task vars, `set_fact`, inventory vars in
    /// `more_vars`); and every use of a secret with a filter, slice or method other than
    /// `default`/`string`/`mandatory` (a filter sees only the marker).
    ///
    /// Errors: [`LoadError::At`] naming the secret, the task, its `file:line:col` and the fix.
    pub fn check_playbook(&self, pb: &Playbook, more_vars: &[Vars]) -> Result<(), LoadError> {
        let env = minijinja::Environment::new();
        let loader = Loader::new(&pb.dir);
        let mut tasks: Vec<(Task, Vec<Value>)> = Vec::new();
        let mut defs: Vec<(String, Value)> = Vec::new();
        for vars in more_vars {
            defs.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        for play in &pb.plays {
            defs.extend(play.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            for r in &play.roles {
                for vars in [&r.defaults, &r.vars, &r.params] {
                    defs.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            let env0: Vec<Value> = play.environment.iter().cloned().collect();
            for section in play.sections.iter().chain(std::iter::once(&play.handlers)) {
                walk(&loader, section, &env0, &mut tasks, &mut defs, 0);
            }
        }
        let tainted = taint(&env, self.names().map(str::to_string).collect(), &defs);
        let direct: HashSet<String> = self.names().map(str::to_string).collect();
        for (t, envs) in &tasks {
            // The load error itself starts with the task's file:line:col.
            let place = format!("task '{}'", t.display_name());
            let uses = |text: &str| -> Option<String> {
                let names = referenced(&env, text);
                let mut hits: Vec<&String> = names.iter().filter(|n| tainted.contains_key(*n)).collect();
                hits.sort();
                hits.first().map(|n| describe(n, &tainted))
            };
            let at = |e: SecretError| LoadError::at(&t.mark, e.to_string());
            for e in envs {
                let mut texts = Vec::new();
                collect_strings(e, &mut texts);
                for s in texts {
                    if let Some(name) = uses(s) {
                        return Err(at(SecretError::OnCommandLine {
                            name,
                            place: format!("{place} (environment)"),
                            fix: FIX_ARGV,
                        }));
                    }
                }
            }
            if let Some(Action::Module { name, args }) = &t.action {
                let short = crate::modules::short_name(name);
                if short == "talon_secret_file"
                    && let Some(Value::String(n)) = args.get("secret")
                    && !n.contains("{{")
                    && self.get(n).is_none()
                {
                    return Err(at(SecretError::Unknown { name: n.clone() }));
                }
                let allowed = allowed_args(short);
                for (k, v) in args {
                    if allowed.is_some_and(|a| a.contains(&k.as_str()) || a.contains(&"*")) {
                        continue;
                    }
                    let mut texts = Vec::new();
                    collect_strings(v, &mut texts);
                    for s in texts {
                        if let Some(secret) = uses(s) {
                            return Err(at(refusal(short, k, secret, place.clone())));
                        }
                    }
                }
            }
            for s in task_templates(t) {
                if let Some(msg) = filtered_use(&s, &direct) {
                    return Err(LoadError::at(
                        &t.mark,
                        format!(
                            "{msg} in {place}: a filter sees only an opaque marker, not the value; insert the secret as is (`{{{{ name }}}}`), or store the transformed value as its own secret"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What each JSON-quoting of a marker appends to it (before the closing `__`).
const JSON_LEVEL: &str = "_json";

/// `s` escaped as the inside of a JSON string (what `serde_json` writes between the quotes,
/// the same escaping `to_json`/`to_nice_json` apply to every other string).
fn json_string_inside(s: &str) -> String {
    let quoted = Value::String(s.to_string()).to_string();
    quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default()
        .to_string()
}

/// Rewrites every secret marker in `text` (JSON produced by `to_json`/`to_nice_json`, where a
/// marker can only sit inside a string literal) to record one more level of JSON-string
/// escaping: `__talon_secret_N_I__` becomes `__talon_secret_N_I_json__`, and `..._json__`
/// becomes `..._json_json__`. [`SecretStore::reveal`] then escapes the value accordingly.
/// Markers of any run match (the nonce is not needed); text without markers is returned as is.
pub fn json_escape_markers(text: &str) -> std::borrow::Cow<'_, str> {
    static MARKER: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"(__talon_secret_[0-9a-f]{16}_[0-9]+(?:_json)*)__").ok());
    match MARKER.as_ref() {
        Some(re) if text.contains("__talon_secret_") => {
            re.replace_all(text, format!("${{1}}{JSON_LEVEL}__").as_str())
        }
        _ => std::borrow::Cow::Borrowed(text),
    }
}

/// The module arguments that may carry a secret: delivery channels (`copy` content,
/// `command`/`shell` stdin) and controller-side modules that only hold or print it
/// (printed output is masked). `None`: no argument may.
pub fn allowed_args(module: &str) -> Option<&'static [&'static str]> {
    Some(match module {
        "copy" => &["content"],
        "command" | "shell" => &["stdin"],
        "debug" | "fail" => &["msg", "var"],
        "assert" => &["*"],
        _ => return None,
    })
}

fn refusal(module: &str, arg: &str, name: String, place: String) -> SecretError {
    if matches!(module, "command" | "shell") {
        SecretError::OnCommandLine {
            name,
            place: match arg {
                "_raw_params" | "cmd" => format!("{place} (the command)"),
                _ => format!("{place} (argument {arg})"),
            },
            fix: FIX_ARGV,
        }
    } else {
        SecretError::WrongArgument {
            name,
            arg: arg.to_string(),
            module: module.to_string(),
            place,
            fix: FIX_ARG,
        }
    }
}

fn collect_strings<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Top-level variable names a template string uses (empty when it is no template).
fn referenced(env: &minijinja::Environment<'_>, text: &str) -> HashSet<String> {
    if !text.contains("{{") && !text.contains("{%") {
        return HashSet::new();
    }
    match env.template_from_str(text) {
        Ok(t) => t.undeclared_variables(false),
        Err(_) => HashSet::new(),
    }
}

/// Every leaf task with the `environment:` values it inherits (play, blocks, itself); collects
/// variable definitions (task/block vars, set_fact) along the way. Static includes are followed.
fn walk(
    loader: &Loader,
    list: &[Task],
    env: &[Value],
    out: &mut Vec<(Task, Vec<Value>)>,
    defs: &mut Vec<(String, Value)>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    for t in list {
        defs.extend(t.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut env = env.to_vec();
        env.extend(t.environment.iter().cloned());
        match &t.action {
            Some(Action::Block {
                block,
                rescue,
                always,
            }) => {
                for l in [block, rescue, always] {
                    walk(loader, l, &env, out, defs, depth + 1);
                }
            }
            Some(Action::IncludeTasks { file, base, role }) if !file.contains("{{") => {
                let path = crate::playbook::resolve_task_file(base, role.as_ref(), file);
                if let Ok(sub) = loader.task_file(&path, role.as_ref()) {
                    walk(loader, &sub, &env, out, defs, depth + 1);
                }
            }
            Some(Action::IncludeRole { name, tasks_from }) if !name.contains("{{") => {
                if let Ok(r) = loader.load_role(name, &t.vars, &t.mark) {
                    for vars in [&r.defaults, &r.vars] {
                        defs.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    if let Ok(sub) = loader.role_tasks(&r, tasks_from.as_deref(), &t.mark) {
                        walk(loader, &sub, &env, out, defs, depth + 1);
                    }
                }
            }
            Some(Action::SetFact { args }) => {
                defs.extend(args.iter().map(|(k, v)| (k.clone(), v.clone())));
                out.push((t.clone(), env));
            }
            _ => out.push((t.clone(), env)),
        }
    }
}

/// Names that carry a secret: the secrets, and (to a fixed point) every variable whose
/// definition uses one. Maps each to the secret it carries, for messages.
fn taint(
    env: &minijinja::Environment<'_>,
    secrets: BTreeSet<String>,
    defs: &[(String, Value)],
) -> BTreeMap<String, String> {
    let mut tainted: BTreeMap<String, String> = secrets.iter().map(|s| (s.clone(), s.clone())).collect();
    let refs: Vec<(&String, HashSet<String>)> = defs
        .iter()
        .map(|(k, v)| {
            let mut texts = Vec::new();
            collect_strings(v, &mut texts);
            (k, texts.into_iter().flat_map(|t| referenced(env, t)).collect())
        })
        .collect();
    loop {
        let mut grew = false;
        for (k, names) in &refs {
            if tainted.contains_key(*k) {
                continue;
            }
            if let Some(src) = names.iter().find_map(|n| tainted.get(n)).cloned() {
                tainted.insert((*k).clone(), src);
                grew = true;
            }
        }
        if !grew {
            return tainted;
        }
    }
}

fn describe(name: &str, tainted: &BTreeMap<String, String>) -> String {
    match tainted.get(name) {
        Some(s) if s != name => format!("'{s}' (through variable '{name}')"),
        _ => format!("'{name}'"),
    }
}

/// Every template string of a task outside its module arguments and inside them.
fn task_templates(t: &Task) -> Vec<String> {
    let mut vals: Vec<&str> = Vec::new();
    match &t.action {
        Some(Action::Module { args, .. }) | Some(Action::SetFact { args }) => {
            args.values().for_each(|v| collect_strings(v, &mut vals));
        }
        _ => {}
    }
    t.vars.values().for_each(|v| collect_strings(v, &mut vals));
    if let Some(l) = &t.loop_ {
        collect_strings(l, &mut vals);
    }
    let mut out: Vec<String> = vals.into_iter().map(str::to_string).collect();
    let conds = t
        .when
        .iter()
        .chain(t.changed_when.iter().flatten())
        .chain(t.failed_when.iter().flatten())
        .chain(t.until.iter().flatten());
    out.extend(conds.map(|c| format!("{{{{ {c} }}}}")));
    out
}

/// Filters that leave a secret's marker intact, or (`to_json`, `to_nice_json`) record the
/// escaping its value needs on delivery.
const SAFE_FILTERS: &[&str] = &["default", "d", "string", "mandatory", "to_json", "to_nice_json"];

/// A use of a secret with a filter, slice or method in `text`: the message, or `None`.
fn filtered_use(text: &str, secrets: &HashSet<String>) -> Option<String> {
    static FILTER: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"(?:^|[^.\w'\x22])([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([A-Za-z_][A-Za-z0-9_]*)|([.\[]))")
            .ok()
    });
    // Not `referenced()` alone: minijinja does not report names used only inside a slice.
    if !text.contains("{{") && !text.contains("{%") {
        return None;
    }
    // Only inside `{{ }}` / `{% %}`: literal text around them (`{{ out }}/tok.json`) is no use.
    static BLOCK: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?s)\{\{.*?\}\}|\{%.*?%\}").ok());
    let re = FILTER.as_ref()?;
    let blocks = BLOCK.as_ref()?;
    let exprs: Vec<&str> = blocks
        .find_iter(text)
        .map(|m| m.as_str().get(2..m.len().saturating_sub(2)).unwrap_or(""))
        .collect();
    for cap in exprs.iter().flat_map(|e| re.captures_iter(e)) {
        let Some(name) = cap.get(1).map(|m| m.as_str()) else {
            continue;
        };
        if !secrets.contains(name) {
            continue;
        }
        if let Some(f) = cap.get(2).map(|m| m.as_str()) {
            if !SAFE_FILTERS.contains(&f) {
                return Some(format!("secret '{name}' is passed to the filter '{f}'"));
            }
        } else if cap.get(3).is_some() {
            return Some(format!(
                "secret '{name}' is sliced, indexed or has a method called"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn store(pairs: &[(&str, &str)]) -> SecretStore {
        let mut s = SecretStore::new();
        for (k, v) in pairs {
            s.insert(k, SecretString::from(v.to_string())).unwrap();
        }
        s
    }

    fn write_mode(dir: &Path, text: &str, mode: u32) -> std::path::PathBuf {
        let p = dir.join("secrets.yml");
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn file_mode_is_checked_and_errors_never_show_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_mode(dir.path(), "gateway_token: s3cr3t-value\npin: 0123\n", 0o644);
        let e = SecretStore::new().load_file(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && e.contains("0644"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut s = SecretStore::new();
        s.load_file(&p).unwrap();
        assert_eq!(s.get("gateway_token").unwrap().expose_secret(), "s3cr3t-value");
        assert_eq!(s.get("pin").unwrap().expose_secret(), "0123");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o400)).unwrap();
        SecretStore::new().load_file(&p).unwrap();
        let p = write_mode(dir.path(), "tok: [do-not-print-me]\n", 0o600);
        let e = SecretStore::new().load_file(&p).unwrap_err().to_string();
        assert!(!e.contains("do-not-print-me") && e.contains("mapping"), "{e}");
        let e = SecretStore::new().load_file(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let p = write_mode(dir.path(), "9bad: x\n", 0o600);
        assert!(SecretStore::new().load_file(&p).is_err());
    }

    #[test]
    fn env_names_and_duplicates() {
        let var = "TALON_TEST_SECRET_ENV_UNIQUE";
        let mut s = SecretStore::new();
        let e = s.load_env(var).unwrap_err();
        assert!(matches!(e, SecretError::MissingEnv { .. }), "{e}");
        let mut s = store(&[("talon_test_secret_env_unique", "from-file")]);
        // Names collide: the lowercase form of VAR is already a secret.
        let e = s
            .load_env(&format!("talon_test_secret_env_unique={}", "PATH"))
            .unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
        // A variable no other test reads: it is scrubbed from children for the whole process.
        s.load_env("other=CARGO_MANIFEST_DIR").unwrap();
        assert!(s.get("other").is_some());
        assert!(scrubbed_env().iter().any(|v| v == "CARGO_MANIFEST_DIR"));
        assert_eq!(env_var("CARGO_MANIFEST_DIR"), None);
        assert!(s.insert("empty", SecretString::from(String::new())).is_err());
    }

    #[test]
    fn markers_reveal_and_mask() {
        let s = store(&[("token", "tok-123"), ("pw", "p@ss")]);
        let m = s.marker("token").unwrap();
        assert!(!m.contains("tok-123"));
        assert_eq!(s.marker_vars()["pw"], Value::String(s.marker("pw").unwrap()));
        let text = format!("token={m}\npw={}\n", s.marker("pw").unwrap());
        let r = s.reveal(&text).unwrap();
        assert_eq!(&r.content[..], b"token=tok-123\npw=p@ss\n");
        assert!(r.has_secret);
        assert!(!s.reveal("plain\n").unwrap().has_secret);
        assert!(s.reveal("copied tok-123").unwrap().has_secret);
        assert_eq!(s.mask(&text), "token=********\npw=********\n");
        assert_eq!(s.mask("out: tok-123!"), "out: ********!");
        let v = s.mask_value(serde_json::json!({"stdout": "tok-123", "cmd": [m.clone()], "n": 1}));
        assert_eq!(v, serde_json::json!({"stdout": MASK, "cmd": [MASK], "n": 1}));
        s.also_mask(&SecretString::from("sudo-pw".to_string()));
        assert_eq!(s.mask("x sudo-pw"), "x ********");
        assert_eq!(NONE.mask("tok-123"), "tok-123");
    }

    #[test]
    fn transformed_markers_are_detected() {
        let s = store(&[("token", "tok-123")]);
        let m = s.marker("token").unwrap();
        for bad in [
            m.to_uppercase(),
            m[..m.len() - 3].to_string(),
            serde_json::to_string(&format!("a\"{m}"))
                .unwrap()
                .replace(&m, &m.to_uppercase()),
        ] {
            assert!(
                matches!(s.reveal(&bad), Err(SecretError::Mangled { .. })),
                "{bad}"
            );
        }
        for prefix in ["", "a", "ab"] {
            let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{prefix}{m}"));
            let e = s.reveal(&format!("x: {b64}")).unwrap_err().to_string();
            assert!(e.contains("b64encode"), "{e}");
        }
        // A marker from another run (other nonce) is not ours: left alone.
        let other = store(&[("token", "x")]).marker("token").unwrap();
        assert_eq!(&s.reveal(&other).unwrap().content[..], other.as_bytes());
    }

    #[test]
    fn json_quoted_markers_reveal_escaped_values() {
        let value = "a\"b\\c\nd\u{1}é";
        let s = store(&[("token", value), ("other", "plain")]);
        let m = s.marker("token").unwrap();
        // One level (to_json of a mapping), two levels (to_json of to_json's output).
        let one = json_escape_markers(&serde_json::json!({"t": m, "o": s.marker("other")}).to_string())
            .into_owned();
        assert!(one.contains(&format!("{}_json__", &m[..m.len() - 2])), "{one}");
        let shown = s.reveal(&one).unwrap();
        let back: Value = serde_json::from_slice(&shown.content).unwrap();
        assert_eq!(back["t"], value);
        assert_eq!(back["o"], "plain");
        assert!(shown.has_secret);
        let two = json_escape_markers(&Value::String(one.clone()).to_string()).into_owned();
        assert!(two.contains("_json_json__"), "{two}");
        let shown = s.reveal(&two).unwrap();
        let outer: Value = serde_json::from_slice(&shown.content).unwrap();
        let inner: Value = serde_json::from_str(outer.as_str().unwrap()).unwrap();
        assert_eq!(inner["t"], value);
        // Variants are masked and found like plain markers; text without markers is untouched.
        assert_eq!(s.mask(&one), r#"{"t":"********","o":"********"}"#);
        assert_eq!(s.find_in(&two).as_deref(), Some("token"));
        assert!(matches!(
            json_escape_markers("{\"a\": 1}"),
            std::borrow::Cow::Borrowed(_)
        ));
        // A plain marker still reveals verbatim.
        assert_eq!(&s.reveal(&m).unwrap().content[..], value.as_bytes());
    }

    #[test]
    fn run_time_refusal_names_secret_and_argument() {
        let s = store(&[("token", "tok-123")]);
        let m = s.marker("token").unwrap();
        let args: Vars =
            serde_json::from_value(serde_json::json!({"_raw_params": format!("echo {m}")})).unwrap();
        let e = s
            .refuse_args("command", &args, &[], "task 't'")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("secret 'token' would be on the command line") && e.contains("stdin"),
            "{e}"
        );
        let args: Vars = serde_json::from_value(serde_json::json!({"stdin": m, "cmd": "cat"})).unwrap();
        s.refuse_args("ansible.builtin.command", &args, &[], "t").unwrap();
        let env = vec![("TOKEN".to_string(), "tok-123".to_string())];
        assert!(s.refuse_args("command", &args, &env, "t").is_err());
        let args: Vars = serde_json::from_value(serde_json::json!({"line": m})).unwrap();
        let e = s
            .refuse_args("lineinfile", &args, &[], "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("argument 'line' of module lineinfile"), "{e}");
    }

    fn pb(text: &str) -> (tempfile::TempDir, Playbook) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.yml");
        std::fs::write(&p, text).unwrap();
        let pb = crate::playbook::load(&p).unwrap();
        (dir, pb)
    }

    #[test]
    fn load_time_refusal_follows_variables_and_environment() {
        let s = store(&[("gateway_token", "tok-123")]);
        let check = |text: &str| s.check_playbook(&pb(text).1, &[]).map_err(|e| e.to_string());
        let ok = concat!(
            "- hosts: all\n  tasks:\n",
            "    - copy: {dest: /tmp/x, content: \"t={{ gateway_token }}\"}\n",
            "    - command: {cmd: cat, stdin: \"{{ gateway_token | default('') }}\"}\n",
            "    - debug: {msg: \"{{ gateway_token }}\"}\n",
        );
        check(ok).unwrap();
        let e = check("- hosts: all\n  tasks:\n    - name: leak\n      command: echo {{ gateway_token }}\n")
            .unwrap_err();
        assert!(
            e.contains("secret 'gateway_token' would be on the command line of task 'leak'")
                && e.contains("p.yml:3:7")
                && e.contains("talon_secret_file"),
            "{e}"
        );
        let e = check(concat!(
            "- hosts: all\n  vars: {auth: \"Bearer {{ gateway_token }}\"}\n  tasks:\n",
            "    - shell: curl -H '{{ auth }}' http://x\n",
        ))
        .unwrap_err();
        assert!(e.contains("through variable 'auth'"), "{e}");
        let e = check(concat!(
            "- hosts: all\n  environment: {TOKEN: \"{{ gateway_token }}\"}\n  tasks:\n",
            "    - command: env\n",
        ))
        .unwrap_err();
        assert!(e.contains("(environment)"), "{e}");
        let e = check(
            "- hosts: all\n  tasks:\n    - copy: {dest: /x, content: \"{{ gateway_token | b64encode }}\"}\n",
        )
        .unwrap_err();
        assert!(e.contains("filter 'b64encode'"), "{e}");
        let e =
            check("- hosts: all\n  tasks:\n    - lineinfile: {path: /x, line: \"{{ gateway_token }}\"}\n")
                .unwrap_err();
        assert!(e.contains("module lineinfile"), "{e}");
        let e =
            check("- hosts: all\n  tasks:\n    - talon_secret_file: {secret: nope, dest: /x}\n").unwrap_err();
        assert!(e.contains("no secret 'nope' was given"), "{e}");
        check("- hosts: all\n  tasks:\n    - talon_secret_file: {secret: gateway_token, dest: /x}\n")
            .unwrap();
    }

    #[test]
    fn filter_detection_is_precise() {
        let s: HashSet<String> = ["tok".to_string()].into();
        assert!(filtered_use("{{ tok | upper }}", &s).is_some());
        assert!(filtered_use("{{ tok[:3] }}", &s).is_some());
        assert!(filtered_use("{{ tok | default('') }}", &s).is_none());
        assert!(filtered_use("{{ tok | to_json }}", &s).is_none());
        // Literal text outside the expressions is not a use.
        assert!(filtered_use("{{ out }}/tok.json", &s).is_none());
        assert!(filtered_use("tok.x {{ tok }}", &s).is_none());
        assert!(filtered_use("a {{ x }} b {{ tok.upper() }}", &s).is_some());
        assert!(filtered_use("{% if tok | length %}x{% endif %}", &s).is_some());
        assert!(filtered_use("{{ tok | to_nice_json }}", &s).is_none());
        assert!(filtered_use("{{ hostvars.x.tok | upper }} {{ tok }}", &s).is_none());
        assert!(filtered_use("{{ other.tok | upper }}", &s).is_none());
    }
}
