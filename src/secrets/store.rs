//! The secret store: loading secrets (file, environment, prompt), holding them as
//! [`SecretString`] (the environment variables that held one are kept in [`crate::osenv`]).

use std::path::Path;
use std::sync::{OnceLock, RwLock};

use regex::Regex;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};

use super::{MASK, SecretError, held};

/// One loaded secret; its value is set once: when loaded, or (a name reserved before the run,
/// a play's private `vars_prompt`) when asked, through a shared store.
pub(super) struct Entry {
    pub(super) name: String,
    pub(super) value: OnceLock<SecretString>,
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
    pub(super) nonce: String,
    pub(super) entries: Vec<Entry>,
    /// More values to mask (not usable as variables), e.g. `ansible_become_password`.
    pub(super) extra: RwLock<Vec<SecretString>>,
    /// The marker pattern, compiled once (the nonce is fixed once a secret is inserted).
    pub(super) marker_re: std::sync::OnceLock<Option<Regex>>,
    /// Files talon delivered a secret into (their old content is never shown in a diff).
    pub held: held::HeldFiles,
}

/// A store with no secrets, for module contexts outside a run (tests, tools).
pub static NONE: SecretStore = SecretStore::empty();

pub(super) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn random_nonce() -> String {
    crate::osenv::random_hex(8).unwrap_or_else(|_| {
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
pub(super) fn current_uid() -> Option<u32> {
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
        self.entries
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.value.get())
    }

    /// Reserves `name` for a secret whose value comes later, during the run ([`Self::fill`]):
    /// its name counts for the load-time checks now; templates see it once it is filled.
    /// Errors: as [`Self::insert`] for the name.
    pub fn reserve(&mut self, name: &str) -> Result<(), SecretError> {
        self.check_new(name)?;
        if self.nonce.is_empty() {
            self.nonce = random_nonce();
        }
        self.entries.push(Entry {
            name: name.to_string(),
            value: OnceLock::new(),
        });
        Ok(())
    }

    /// Sets the value of a secret reserved with [`Self::reserve`], through a shared store (the
    /// run's): masked in all output from here on. An empty value leaves it unset (a plain
    /// variable then stands for it). Errors ([`SecretError::Invalid`]): `name` was not reserved,
    /// or already has its value.
    pub fn fill(&self, name: &str, value: SecretString) -> Result<(), SecretError> {
        let invalid = |message: &str| SecretError::Invalid {
            name: name.to_string(),
            message: message.into(),
        };
        if value.expose_secret().is_empty() {
            return Ok(());
        }
        let entry = self
            .entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| invalid("not reserved for a value asked during the run (internal)"))?;
        entry
            .value
            .set(value)
            .map_err(|_| invalid("given twice (a vars_prompt asked again?)"))
    }

    /// Refuses a name that is no variable name or was already given.
    fn check_new(&self, name: &str) -> Result<(), SecretError> {
        let invalid = |message: String| SecretError::Invalid {
            name: name.to_string(),
            message,
        };
        if !valid_name(name) {
            return Err(invalid(
                "not a valid variable name (letters, digits and _, not starting with a digit)".into(),
            ));
        }
        if self.entries.iter().any(|e| e.name == name) {
            return Err(invalid(
                "given twice (secrets file, --secret-env, --ask-secret)".into(),
            ));
        }
        Ok(())
    }

    /// Adds a secret. Errors ([`SecretError::Invalid`]): the name is not a variable name
    /// (`[A-Za-z_][A-Za-z0-9_]*`), it was already given (`source` names where from), or the
    /// value is empty (an empty value cannot be masked).
    pub fn insert(&mut self, name: &str, value: SecretString) -> Result<(), SecretError> {
        self.check_new(name)?;
        if value.expose_secret().is_empty() {
            return Err(SecretError::Invalid {
                name: name.to_string(),
                message: "the value is empty".into(),
            });
        }
        if self.nonce.is_empty() {
            self.nonce = random_nonce();
        }
        self.entries.push(Entry {
            name: name.to_string(),
            value: OnceLock::from(value),
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
        let map: indexmap::IndexMap<String, serde_saphyr::Tagged<String>> = serde_saphyr::from_str(&text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" (line {})", l.line()))
                .unwrap_or_default();
            err(format!(
                "expected a YAML mapping of name: string{at}; nested values, lists and null are not secrets"
            ))
        })?;
        for (name, serde_saphyr::Tagged(value, tag)) in map {
            let value = if tag.as_deref().is_some_and(crate::yaml::is_vault_tag) {
                // Decrypted with the run's vault passwords; never delivered as ciphertext.
                crate::vault::decrypt_text(&value, "")
                    .map_err(|e| err(format!("'{name}' is an inline '!vault' value: {e}")))?
                    .to_string()
            } else {
                value
            };
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
        crate::osenv::scrub(var);
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
}
