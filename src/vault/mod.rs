//! Ansible Vault: encrypted files and inline `!vault` values, read and written as ansible-core
//! reads and writes them (`ansible.parsing.vault`, `ansible.cli.CLI.setup_vault_secrets`), and the
//! `talon vault` commands (`ansible-vault`'s).
//!
//! - [`format`]: the envelope and the AES256 cipher (RustCrypto crates).
//! - [`VaultSource`] / [`VaultIds`]: where passwords come from (`--vault-id label@source`,
//!   `--vault-password-file`, `--ask-vault-pass`, `ANSIBLE_VAULT_IDENTITY_LIST`,
//!   `ANSIBLE_VAULT_PASSWORD_FILE`, ansible.cfg's `vault_identity_list`/`vault_password_file`)
//!   and the secrets loaded from them.
//! - The run's secrets are installed process-wide ([`install`]) before anything is loaded, so
//!   every YAML file talon reads (`crate::yaml`) and every controller file a module sends
//!   (`copy`/`template` `src`) is decrypted where it is read ([`decrypt_text`]).
//!
//! Beyond Ansible: every decrypted value is a secret ([`crate::secrets::treat_as_secret`]):
//! masked in every output, refused on command lines, delivered only on stdin.

pub mod cmd;
pub mod format;
mod sources;

use std::sync::{Arc, RwLock};

use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretBox};

pub use format::{DEFAULT_ID, Envelope, encrypt, is_encrypted};
pub use sources::{VaultDefaults, VaultSource};

/// Why vault data could not be read, or a password could not be had.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Vault data was met but no password was given (ansible-core's message).
    #[error(
        "Attempting to decrypt but no vault secrets found{}: give --vault-password-file, --vault-id or --ask-vault-pass",
        on(.origin)
    )]
    NoSecrets { origin: String },
    /// No password given could decrypt the data (ansible-core's message).
    #[error(
        "Decryption failed (no vault secrets were found that could decrypt){}",
        on(.origin)
    )]
    NoMatch { origin: String },
    /// The data is not vault data (bad header, bad hex).
    #[error("Vault format error: {0}")]
    Format(String),
    /// A cipher other than AES256.
    #[error("{0} cipher could not be found (talon reads AES256, the only one ansible-vault writes)")]
    Cipher(String),
    /// A password source could not be used.
    #[error("{0}")]
    Source(String),
    /// Options that do not fit together (`ansible-vault`'s `AnsibleOptionsError`, exit 5).
    #[error("{0}")]
    Options(String),
    /// The system could not give random bytes for a salt.
    #[error("no randomness for a vault salt: {0}")]
    Random(String),
}

fn on(origin: &str) -> String {
    if origin.is_empty() {
        String::new()
    } else {
        format!(" on {origin}")
    }
}

/// The vault passwords of a run, each with its vault id, in the order ansible-core tries them.
#[derive(Default)]
pub struct VaultIds {
    secrets: Vec<(String, SecretBox<Vec<u8>>)>,
    /// `ANSIBLE_VAULT_ID_MATCH`: only the password of the payload's own vault id is tried.
    id_match: bool,
}

impl std::fmt::Debug for VaultIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.labels()).finish()
    }
}

impl VaultIds {
    /// Loads the passwords of `sources` in order (see [`VaultSource`]). As ansible-core does, a
    /// source that fails is a warning while another one works; when none works, the last error
    /// is returned. `new` asks prompts for a new password twice (encrypting commands).
    ///
    /// Errors: [`VaultError::Source`] naming the file or script and what to do.
    pub fn load(sources: &[VaultSource]) -> Result<Self, VaultError> {
        Self::load_with(sources, false)
    }

    /// [`VaultIds::load`]; `new` prompts twice ("New vault password", "Confirm ...").
    pub fn load_with(sources: &[VaultSource], new: bool) -> Result<Self, VaultError> {
        let mut ids = VaultIds {
            id_match: std::env::var("ANSIBLE_VAULT_ID_MATCH").is_ok_and(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on" | "y" | "t"
                )
            }),
            ..VaultIds::default()
        };
        let mut last = None;
        for s in sources {
            match s.load(new) {
                Ok(pw) => ids
                    .secrets
                    .push((s.label().to_string(), SecretBox::new(Box::new(pw.to_vec())))),
                Err(e) if s.is_prompt() => return Err(e),
                Err(e) => {
                    eprintln!(
                        "[WARNING]: Error getting vault password file ({}): {e}",
                        s.label()
                    );
                    last = Some(e);
                }
            }
        }
        match last {
            Some(e) if ids.secrets.is_empty() => Err(e),
            _ => Ok(ids),
        }
    }

    /// A set of one password (tests, rekey's new password).
    pub fn single(label: &str, password: &[u8]) -> Self {
        VaultIds {
            secrets: vec![(label.to_string(), SecretBox::new(Box::new(password.to_vec())))],
            id_match: false,
        }
    }

    /// True when no password was given.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The vault ids, in order.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.secrets.iter().map(|(l, _)| l.as_str())
    }

    /// Decrypts vault data as ansible-core's `VaultLib.decrypt`: the password whose vault id is
    /// the payload's is tried first, then every other one in order (only the first with
    /// `ANSIBLE_VAULT_ID_MATCH`). `origin` (a file path, or
    /// `file:line:col`) goes into the error. Returns the plaintext and the vault id that opened it.
    ///
    /// Errors: [`VaultError::NoSecrets`], [`VaultError::NoMatch`], [`VaultError::Format`],
    /// [`VaultError::Cipher`].
    pub fn decrypt(&self, text: &str, origin: &str) -> Result<(Zeroizing<Vec<u8>>, String), VaultError> {
        let env = Envelope::parse(text).map_err(|e| match e {
            VaultError::Format(m) if !origin.is_empty() => VaultError::Format(format!("in {origin}: {m}")),
            other => other,
        })?;
        if self.secrets.is_empty() {
            return Err(VaultError::NoSecrets {
                origin: origin.to_string(),
            });
        }
        let first = self.secrets.iter().filter(|(l, _)| *l == env.vault_id);
        let rest = self
            .secrets
            .iter()
            .filter(|(l, _)| !self.id_match && *l != env.vault_id);
        for (label, pw) in first.chain(rest) {
            if let Some(plain) = env.decrypt(pw.expose_secret())? {
                return Ok((plain, label.clone()));
            }
        }
        Err(VaultError::NoMatch {
            origin: origin.to_string(),
        })
    }

    /// The password to encrypt with, as ansible-core's `match_encrypt_secret`: the one labelled
    /// `encrypt_id` when given, else the first. Returns its vault id and password.
    ///
    /// Errors: [`VaultError::Source`] when `encrypt_id` names no loaded vault id, or there is
    /// no password at all.
    pub fn for_encrypt(&self, encrypt_id: Option<&str>) -> Result<(&str, &[u8]), VaultError> {
        let found = match encrypt_id {
            Some(id) => self.secrets.iter().find(|(l, _)| l == id).ok_or_else(|| {
                VaultError::Source(format!(
                    "Did not find a match for --encrypt-vault-id={id} in the known vault-ids {:?}",
                    self.labels().collect::<Vec<_>>()
                ))
            })?,
            None => self.secrets.first().ok_or_else(|| {
                VaultError::Source("A vault password must be specified to encrypt data".into())
            })?,
        };
        Ok((found.0.as_str(), found.1.expose_secret().as_slice()))
    }
}

/// The run's vault passwords, process-wide: YAML files are parsed deep inside loaders that know
/// nothing of the command line (as `crate::osenv` and the found secrets are process-wide).
static ACTIVE: RwLock<Option<Arc<VaultIds>>> = RwLock::new(None);

/// Makes `ids` the passwords every later decryption uses.
pub fn install(ids: VaultIds) {
    if let Ok(mut a) = ACTIVE.write() {
        *a = Some(Arc::new(ids));
    }
}

/// The installed passwords (none when [`install`] was not called).
pub fn active() -> Arc<VaultIds> {
    ACTIVE.read().ok().and_then(|a| a.clone()).unwrap_or_default()
}

/// Decrypts vault data with the installed passwords; the plaintext must be UTF-8 text.
/// Does not mark anything secret (callers decide which parts are values).
///
/// Errors: those of [`VaultIds::decrypt`]; [`VaultError::Format`] when the plaintext is not
/// UTF-8.
pub fn decrypt_text(text: &str, origin: &str) -> Result<Zeroizing<String>, VaultError> {
    let (plain, _) = active().decrypt(text, origin)?;
    let s = std::str::from_utf8(&plain)
        .map_err(|_| VaultError::Format(format!("{origin}: the decrypted content is not UTF-8 text")))?;
    Ok(Zeroizing::new(s.to_string()))
}

/// Decrypts vault data with the installed passwords and marks the plaintext a secret (when it
/// is text): a controller file sent whole (`copy src`, `template src`).
///
/// Errors: those of [`VaultIds::decrypt`].
pub fn decrypt_secret_bytes(data: &[u8], origin: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let text = std::str::from_utf8(data)
        .map_err(|_| VaultError::Format(format!("in {origin}: vault data must be ASCII text")))?;
    let (plain, _) = active().decrypt(text, origin)?;
    if let Ok(s) = std::str::from_utf8(&plain) {
        mark_secret_text(s);
    }
    Ok(plain)
}

/// Every value decrypted in this run (strings of vaulted files, inline values), to name the
/// variables that hold one ([`holds_decrypted`]).
static DECRYPTED: RwLock<Vec<secrecy::SecretString>> = RwLock::new(Vec::new());

/// Records a decrypted value and makes it a secret ([`crate::secrets::treat_as_secret`]).
pub fn note_value(s: &str) {
    crate::secrets::treat_as_secret(s);
    if s.is_empty() {
        return;
    }
    if let Ok(mut v) = DECRYPTED.write()
        && !v.iter().any(|x| x.expose_secret() == s)
    {
        v.push(secrecy::SecretString::from(s.to_string()));
    }
}

/// Whether `v` holds (anywhere in it) a string that is a value decrypted in this run.
pub fn holds_decrypted(v: &serde_json::Value) -> bool {
    let Ok(known) = DECRYPTED.read() else {
        return false;
    };
    if known.is_empty() {
        return false;
    }
    fn walk(v: &serde_json::Value, known: &[secrecy::SecretString]) -> bool {
        match v {
            serde_json::Value::String(s) => known.iter().any(|k| k.expose_secret() == s),
            serde_json::Value::Array(a) => a.iter().any(|x| walk(x, known)),
            serde_json::Value::Object(m) => m.values().any(|x| walk(x, known)),
            _ => false,
        }
    }
    walk(v, &known)
}

/// Plaintexts of inline `!vault` values, for the `vault_encrypted` test (ansible-core answers
/// true for a variable that holds one).
static INLINE: RwLock<Vec<secrecy::SecretString>> = RwLock::new(Vec::new());

/// Records the plaintext of an inline `!vault` value (and makes it a secret).
pub fn note_inline_plaintext(s: &str) {
    note_value(s);
    if let Ok(mut v) = INLINE.write()
        && !v.iter().any(|x| x.expose_secret() == s)
    {
        v.push(secrecy::SecretString::from(s.to_string()));
    }
}

/// Whether `s` is the plaintext of an inline `!vault` value read in this run.
pub fn is_inline_plaintext(s: &str) -> bool {
    INLINE
        .read()
        .is_ok_and(|v| v.iter().any(|x| x.expose_secret() == s))
}

/// Marks decrypted text a secret: the whole text, and each of its non-blank lines (trimmed)
/// long enough not to mask ordinary words (4 characters or more), so a line shown alone (a diff,
/// a `cat` in a command's output) is masked too.
pub fn mark_secret_text(s: &str) {
    crate::secrets::treat_as_secret(s);
    crate::secrets::treat_as_secret(s.trim());
    for line in s.lines() {
        let t = line.trim();
        if t.chars().count() >= 4 {
            crate::secrets::treat_as_secret(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_the_payloads_vault_id_first_then_the_others() {
        let ids = VaultIds {
            secrets: vec![
                ("dev".into(), SecretBox::new(Box::new(b"devpw".to_vec()))),
                ("prod".into(), SecretBox::new(Box::new(b"prodpw".to_vec()))),
            ],
            id_match: false,
        };
        let v = encrypt(b"x", b"prodpw", Some("prod")).unwrap();
        assert_eq!(ids.decrypt(&v, "f").unwrap().1, "prod");
        // A label that does not match still falls back to every password.
        let v = encrypt(b"x", b"devpw", Some("other")).unwrap();
        assert_eq!(ids.decrypt(&v, "f").unwrap().1, "dev");
        let v = encrypt(b"x", b"zzz", None).unwrap();
        let e = ids.decrypt(&v, "group_vars/all.yml").unwrap_err().to_string();
        assert_eq!(
            e,
            "Decryption failed (no vault secrets were found that could decrypt) on group_vars/all.yml"
        );
        let e = VaultIds::default().decrypt(&v, "a.yml").unwrap_err().to_string();
        assert!(
            e.starts_with("Attempting to decrypt but no vault secrets found on a.yml"),
            "{e}"
        );
        assert_eq!(ids.for_encrypt(Some("prod")).unwrap().0, "prod");
        assert_eq!(ids.for_encrypt(None).unwrap().0, "dev");
        assert!(ids.for_encrypt(Some("nope")).is_err());
        // ANSIBLE_VAULT_ID_MATCH: no fallback to other ids.
        let strict = VaultIds {
            id_match: true,
            ..ids
        };
        let v = encrypt(b"x", b"devpw", Some("other")).unwrap();
        assert!(strict.decrypt(&v, "f").is_err());
        let v = encrypt(b"x", b"devpw", Some("dev")).unwrap();
        assert_eq!(strict.decrypt(&v, "f").unwrap().1, "dev");
    }
}
