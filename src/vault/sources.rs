//! Where vault passwords come from, as ansible-core's `CLI.build_vault_ids` /
//! `setup_vault_secrets` / `get_file_vault_secret` read them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use secrecy::zeroize::Zeroizing;

use super::{DEFAULT_ID, VaultError};

/// One password source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultSource {
    /// A password file, or an executable that prints the password (a `*-client` script is run
    /// with `--vault-id LABEL`).
    File {
        /// The vault id the password is for (`default` when none was written).
        label: String,
        /// The label as written (`--vault-id label@file`), passed to a client script.
        written: Option<String>,
        /// The file or script.
        path: PathBuf,
    },
    /// A terminal prompt without echo (`--vault-id label@prompt`, `--ask-vault-pass`).
    Prompt {
        /// The vault id the password is for.
        label: String,
        /// `--ask-vault-pass`'s form ("Vault password: ") rather than `label@prompt`'s
        /// ("Vault password (label): ").
        ask: bool,
    },
}

/// Vault settings that come from the environment or ansible.cfg rather than the command line
/// (ansible-core's names): `vault_identity_list` (`ANSIBLE_VAULT_IDENTITY_LIST`, comma-separated
/// `label@source`), `vault_password_file` (`ANSIBLE_VAULT_PASSWORD_FILE`), `vault_identity`
/// (`ANSIBLE_VAULT_IDENTITY`: the label of a password given without one, default `default`),
/// `vault_encrypt_identity` (`ANSIBLE_VAULT_ENCRYPT_IDENTITY`: the vault id to encrypt with when
/// several are given) and `vault_encrypt_salt` (`ANSIBLE_VAULT_ENCRYPT_SALT`: a fixed salt, its
/// UTF-8 bytes, instead of 32 random bytes). [`VaultDefaults::from_cfg`] reads them with
/// ansible.cfg's precedence (environment over file); [`VaultDefaults::from_env`] the
/// environment's alone. Passed to [`crate::cli::VaultArgs::install_for_run_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VaultDefaults {
    /// `label@source` entries, tried before the command line's `--vault-id`s.
    pub identity_list: Vec<String>,
    /// Tried after the command line's `--vault-password-file`s.
    pub password_file: Option<PathBuf>,
    /// The label of a password given without one (empty: `default`).
    pub identity: String,
    /// The vault id `encrypt`-like commands use when `--encrypt-vault-id` is not given.
    pub encrypt_identity: Option<String>,
    /// A fixed salt for every encryption of this process.
    pub encrypt_salt: Option<String>,
}

impl VaultDefaults {
    /// The settings from the `ANSIBLE_VAULT_*` variables above (an unset or empty variable
    /// gives nothing).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let identity_list = var("ANSIBLE_VAULT_IDENTITY_LIST")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        VaultDefaults {
            identity_list,
            password_file: var("ANSIBLE_VAULT_PASSWORD_FILE").map(PathBuf::from),
            identity: var("ANSIBLE_VAULT_IDENTITY").unwrap_or_default(),
            encrypt_identity: var("ANSIBLE_VAULT_ENCRYPT_IDENTITY"),
            encrypt_salt: var("ANSIBLE_VAULT_ENCRYPT_SALT"),
        }
    }

    /// The settings as ansible.cfg and the environment give them (environment first).
    pub fn from_cfg(cfg: &crate::ansible_cfg::AnsibleCfg) -> Self {
        let text = |name: &str| cfg.str(name).filter(|v| !v.is_empty()).map(str::to_string);
        VaultDefaults {
            identity_list: cfg.list("DEFAULT_VAULT_IDENTITY_LIST"),
            password_file: text("DEFAULT_VAULT_PASSWORD_FILE").map(PathBuf::from),
            identity: text("DEFAULT_VAULT_IDENTITY").unwrap_or_default(),
            encrypt_identity: text("DEFAULT_VAULT_ENCRYPT_IDENTITY"),
            encrypt_salt: text("VAULT_ENCRYPT_SALT"),
        }
    }

    /// The label of a password given without one.
    pub fn label(&self) -> &str {
        if self.identity.is_empty() {
            DEFAULT_ID
        } else {
            &self.identity
        }
    }
}

/// The password sources of a command, in the order ansible-core builds them: `defaults`'
/// identity list, the `--vault-id`s, the `--vault-password-file`s, `defaults`' password file,
/// then the `--ask-vault-pass` prompt (also added when nothing else was given and `auto_prompt`:
/// `ansible-vault`'s behaviour, not `ansible-playbook`'s).
///
/// Errors: [`VaultError::Source`] for a vault id holding `;`.
pub fn build_sources(
    vault_ids: &[String],
    password_files: &[PathBuf],
    ask_vault_pass: bool,
    defaults: &VaultDefaults,
    auto_prompt: bool,
) -> Result<Vec<VaultSource>, VaultError> {
    let mut out = Vec::new();
    for spec in defaults.identity_list.iter().chain(vault_ids) {
        out.push(VaultSource::parse_with_label(spec, defaults.label())?);
    }
    for f in password_files.iter().chain(defaults.password_file.as_ref()) {
        out.push(VaultSource::password_file_with_label(f, defaults.label()));
    }
    if ask_vault_pass || (out.is_empty() && auto_prompt) {
        out.push(VaultSource::Prompt {
            label: defaults.label().into(),
            ask: true,
        });
    }
    Ok(out)
}

impl VaultSource {
    /// Parses `--vault-id`'s `label@source` or `source` (`source` is `prompt`, a file or a
    /// script), as ansible-core's `split_vault_id`: split at the first `@`.
    ///
    /// Errors: [`VaultError::Source`] when the id holds `;` (it would break the payload header).
    pub fn parse(spec: &str) -> Result<Self, VaultError> {
        Self::parse_with_label(spec, DEFAULT_ID)
    }

    /// [`VaultSource::parse`] with `default_label` for a spec without a label (ansible.cfg's
    /// `vault_identity`).
    pub fn parse_with_label(spec: &str, default_label: &str) -> Result<Self, VaultError> {
        if spec.contains(';') {
            return Err(VaultError::Options(format!(
                "'{spec}' is not a valid vault id. The character ';' is not allowed in vault ids"
            )));
        }
        let (written, source) = match spec.split_once('@') {
            Some((l, s)) => (Some(l.to_string()), s),
            None => (None, spec),
        };
        let label = written
            .clone()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| default_label.into());
        Ok(match source {
            "prompt" => VaultSource::Prompt { label, ask: false },
            "prompt_ask_vault_pass" => VaultSource::Prompt { label, ask: true },
            _ => VaultSource::File {
                label,
                written,
                path: PathBuf::from(source),
            },
        })
    }

    /// `--vault-password-file FILE`: the `default` vault id.
    pub fn password_file(path: &Path) -> Self {
        Self::password_file_with_label(path, DEFAULT_ID)
    }

    /// `--vault-password-file FILE` with ansible.cfg's `vault_identity` as its vault id.
    pub fn password_file_with_label(path: &Path, label: &str) -> Self {
        VaultSource::File {
            label: label.into(),
            written: Some(label.into()),
            path: path.to_path_buf(),
        }
    }

    /// The vault id this source's password is for.
    pub fn label(&self) -> &str {
        match self {
            VaultSource::File { label, .. } | VaultSource::Prompt { label, .. } => label,
        }
    }

    pub(super) fn is_prompt(&self) -> bool {
        matches!(self, VaultSource::Prompt { .. })
    }

    /// Reads the password. `new`: a prompt asks twice and the answers must match.
    ///
    /// Errors: [`VaultError::Source`] with ansible-core's messages (file not found, a directory,
    /// a script failing, an empty password, no terminal).
    pub fn load(&self, new: bool) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        match self {
            VaultSource::Prompt { label, ask } => prompt(label, *ask, new),
            VaultSource::File { written, path, .. } => read_file(path, written.as_deref()),
        }
    }
}

fn prompt(label: &str, ask: bool, new: bool) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let prompts: Vec<String> = match (ask, new) {
        (true, false) => vec!["Vault password: ".into()],
        (true, true) => vec![
            "New Vault password: ".into(),
            "Confirm New Vault password: ".into(),
        ],
        (false, false) => vec![format!("Vault password ({label}): ")],
        (false, true) => vec![
            format!("New vault password ({label}): "),
            format!("Confirm new vault password ({label}): "),
        ],
    };
    let mut answers: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    for p in prompts {
        let v = Zeroizing::new(
            rpassword::prompt_password(p)
                .map_err(|e| VaultError::Source(format!("vault password prompt ({label}): {e}")))?,
        );
        let v = Zeroizing::new(v.trim().as_bytes().to_vec());
        if v.is_empty() {
            return Err(VaultError::Source("Invalid vault password was provided".into()));
        }
        answers.push(v);
    }
    if answers.iter().any(|a| **a != *answers[0]) {
        return Err(VaultError::Source("Passwords do not match".into()));
    }
    answers
        .into_iter()
        .next()
        .ok_or_else(|| VaultError::Source("no vault password".into()))
}

/// `~` expanded and made absolute, without following a final symlink (ansible-core's
/// `unfrackpath(follow=False)`).
fn unfrack(path: &Path) -> PathBuf {
    let expanded = match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    };
    std::path::absolute(&expanded).unwrap_or(expanded)
}

fn read_file(path: &Path, written: Option<&str>) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let full = unfrack(path);
    let shown = full.display().to_string();
    let md = std::fs::metadata(&full)
        .map_err(|_| VaultError::Source(format!("The vault password file {shown} was not found")))?;
    if md.is_dir() {
        return Err(VaultError::Source(format!(
            "The vault password file provided '{shown}' can not be a directory"
        )));
    }
    if md.permissions().mode() & 0o111 != 0 {
        return run_script(&full, path, written);
    }
    let data = Zeroizing::new(
        std::fs::read(&full)
            .map_err(|e| VaultError::Source(format!("Could not read vault password file '{shown}': {e}")))?,
    );
    let pw = Zeroizing::new(data.trim_ascii().to_vec());
    if pw.is_empty() {
        return Err(VaultError::Source(format!(
            "Invalid vault password was provided from file ({shown})"
        )));
    }
    Ok(pw)
}

/// Whether a script is a vault id client (`NAME-client` or `NAME-client.EXT`).
fn is_client(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| s.ends_with("-client"))
}

fn run_script(
    full: &Path,
    written_path: &Path,
    vault_id: Option<&str>,
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let shown = full.display().to_string();
    let client = is_client(written_path);
    let mut cmd = Command::new(full);
    cmd.stdin(Stdio::inherit()).stdout(Stdio::piped());
    if client {
        cmd.stderr(Stdio::piped());
        if let Some(id) = vault_id {
            cmd.args(["--vault-id", id]);
        }
    } else {
        cmd.stderr(Stdio::inherit());
    }
    let out = cmd.output().map_err(|e| {
        VaultError::Source(format!(
            "Problem running vault password {}script {shown} ({e}). If this is not a script, remove the executable bit from the file.",
            if client { "client " } else { "" }
        ))
    })?;
    let stdout = Zeroizing::new(out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let code = out.status.code().unwrap_or(-1);
    if client && code == 2 {
        return Err(VaultError::Source(format!(
            "Vault password client script {shown} did not find a secret for vault-id={}: {stderr}",
            vault_id.unwrap_or_default()
        )));
    }
    if !out.status.success() {
        return Err(VaultError::Source(if client {
            format!(
                "Vault password client script {shown} returned non-zero ({code}) when getting secret for vault-id={}: {stderr}",
                vault_id.unwrap_or_default()
            )
        } else {
            format!("Vault password script {shown} returned non-zero ({code})")
        }));
    }
    let start = stdout
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(stdout.len());
    let end = stdout
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(start, |i| i + 1);
    let pw = Zeroizing::new(stdout[start..end.max(start)].to_vec());
    if pw.is_empty() {
        return Err(VaultError::Source(format!(
            "Invalid vault password was provided from script ({shown})"
        )));
    }
    Ok(pw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vault_ids_and_orders_sources_as_ansible() {
        assert_eq!(
            VaultSource::parse("dev@prompt").unwrap(),
            VaultSource::Prompt {
                label: "dev".into(),
                ask: false
            }
        );
        let VaultSource::File { label, path, .. } = VaultSource::parse("pw.txt").unwrap() else {
            panic!()
        };
        assert_eq!((label.as_str(), path.as_path()), ("default", Path::new("pw.txt")));
        assert!(VaultSource::parse("a;b@x").is_err());
        let d = VaultDefaults {
            identity_list: vec!["cfg@c.txt".into()],
            password_file: Some("envpw".into()),
            ..VaultDefaults::default()
        };
        let s = build_sources(&["cli@x".into()], &["f".into()], true, &d, false).unwrap();
        let labels: Vec<&str> = s.iter().map(VaultSource::label).collect();
        assert_eq!(labels, ["cfg", "cli", "default", "default", "default"]);
        // ansible.cfg's vault_identity labels what was given without a label.
        let d = VaultDefaults {
            identity: "prod".into(),
            ..d
        };
        let s2 = build_sources(&["x".into(), "cli@y".into()], &["f".into()], true, &d, false).unwrap();
        let labels: Vec<&str> = s2.iter().map(VaultSource::label).collect();
        assert_eq!(labels, ["cfg", "prod", "cli", "prod", "prod", "prod"]);
        assert!(matches!(s[3], VaultSource::File { ref path, .. } if path == Path::new("envpw")));
        assert!(
            build_sources(&[], &[], false, &VaultDefaults::default(), false)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            build_sources(&[], &[], false, &VaultDefaults::default(), true)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn reads_files_and_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "  s3cret \n\n").unwrap();
        assert_eq!(&**VaultSource::password_file(&f).load(false).unwrap(), b"s3cret");
        let s = dir.path().join("pw-client.sh");
        std::fs::write(
            &s,
            "#!/bin/sh\n[ \"$1 $2\" = '--vault-id prod' ] || exit 2\necho \" from-script\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&s, std::fs::Permissions::from_mode(0o700)).unwrap();
        let src = VaultSource::parse(&format!("prod@{}", s.display())).unwrap();
        assert_eq!(&**src.load(false).unwrap(), b" from-script");
        let src = VaultSource::parse(&format!("dev@{}", s.display())).unwrap();
        let e = src.load(false).unwrap_err().to_string();
        assert!(e.contains("did not find a secret for vault-id=dev"), "{e}");
        let e = VaultSource::password_file(&dir.path().join("none"))
            .load(false)
            .unwrap_err();
        assert!(e.to_string().contains("was not found"), "{e}");
    }
}
