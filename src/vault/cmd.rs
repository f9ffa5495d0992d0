//! `talon vault encrypt|decrypt|view|edit|create|encrypt_string|rekey`: `ansible-vault`'s
//! commands with its argument forms and output (`ansible.cli.vault.VaultCLI`), interoperable
//! with it both ways.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use secrecy::zeroize::Zeroizing;

pub use crate::cli::VaultArgs;

use super::{VaultDefaults, VaultError, VaultIds, VaultSource, encrypt, is_encrypted, sources};

impl VaultArgs {
    /// The password sources these options give, after `defaults` (environment or ansible.cfg)
    /// as ansible-core orders them ([`sources::build_sources`]).
    ///
    /// Errors: [`VaultError::Source`] for a malformed `--vault-id`.
    pub fn sources(
        &self,
        defaults: &VaultDefaults,
        auto_prompt: bool,
    ) -> Result<Vec<VaultSource>, VaultError> {
        sources::build_sources(
            &self.vault_id,
            &self.vault_password_file,
            self.ask_vault_pass,
            defaults,
            auto_prompt,
        )
    }

    /// Loads the passwords for a run (no prompt unless asked: `ansible-playbook`'s behaviour)
    /// with the environment's defaults, and installs them for every later decryption.
    ///
    /// Errors: those of [`VaultIds::load`].
    pub fn install_for_run(&self) -> Result<(), VaultError> {
        self.install_for_run_with(&VaultDefaults::from_env())
    }

    /// [`VaultArgs::install_for_run`] with given defaults: ansible.cfg's `vault_identity_list`
    /// and `vault_password_file`, each replaced by its environment variable when that is set
    /// (ansible-core's precedence: command line, then environment, then ansible.cfg).
    ///
    /// Errors: those of [`VaultIds::load`].
    pub fn install_for_run_with(&self, defaults: &VaultDefaults) -> Result<(), VaultError> {
        let sources = self.sources(defaults, false)?;
        if let Some(salt) = &defaults.encrypt_salt {
            super::format::set_encrypt_salt(salt);
        }
        super::install(VaultIds::load(&sources)?);
        Ok(())
    }
}

/// `--output FILE` (`-` for standard output).
#[derive(Debug, Args, Default, Clone)]
pub struct OutputArg {
    /// Output file name for encrypt or decrypt; `-` for standard output.
    #[arg(long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `--encrypt-vault-id LABEL`.
#[derive(Debug, Args, Default, Clone)]
pub struct EncryptIdArg {
    /// The vault id to encrypt with (required when more than one vault id is given).
    #[arg(long = "encrypt-vault-id", value_name = "LABEL")]
    pub encrypt_vault_id: Option<String>,
}

/// `talon vault` subcommands.
#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Encrypt files in place (or standard input to standard output).
    Encrypt {
        files: Vec<PathBuf>,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        id: EncryptIdArg,
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Decrypt files in place (or standard input to standard output).
    Decrypt {
        files: Vec<PathBuf>,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Print the decrypted content of files.
    View {
        files: Vec<PathBuf>,
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Decrypt a file into a private temporary file, open `$EDITOR` on it, encrypt it back.
    Edit {
        files: Vec<PathBuf>,
        #[command(flatten)]
        id: EncryptIdArg,
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Create a new encrypted file with `$EDITOR`.
    Create {
        file: PathBuf,
        #[command(flatten)]
        id: EncryptIdArg,
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Encrypt strings into `!vault |` YAML values.
    #[command(name = "encrypt_string", alias = "encrypt-string")]
    EncryptString {
        /// Strings to encrypt (`-` or none: standard input).
        strings: Vec<String>,
        /// Prompt for the string to encrypt.
        #[arg(short = 'p', long = "prompt")]
        prompt: bool,
        /// Show the string typed at the prompt.
        #[arg(long = "show-input")]
        show_input: bool,
        /// Variable name for each string, in order (repeatable).
        #[arg(short = 'n', long = "name")]
        name: Vec<String>,
        /// Variable name for the string read on standard input.
        #[arg(long = "stdin-name")]
        stdin_name: Option<String>,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        id: EncryptIdArg,
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Re-encrypt files with a new password.
    Rekey {
        files: Vec<PathBuf>,
        /// The new password's file or script.
        #[arg(
            long = "new-vault-password-file",
            value_name = "FILE",
            conflicts_with = "new_vault_id"
        )]
        new_vault_password_file: Option<PathBuf>,
        /// The new vault id, `LABEL@SOURCE`.
        #[arg(long = "new-vault-id", value_name = "LABEL@SOURCE")]
        new_vault_id: Option<String>,
        #[command(flatten)]
        id: EncryptIdArg,
        #[command(flatten)]
        vault: VaultArgs,
    },
}

/// A string to encrypt, where it came from, its variable name.
type Plain = (Zeroizing<Vec<u8>>, &'static str, Option<String>);

/// Runs a `talon vault` command; returns the exit code.
///
/// Errors: [`VaultError`] with `ansible-vault`'s messages (files are named).
pub fn run(cmd: VaultCommand) -> Result<i32, VaultError> {
    // ansible-vault reads ansible.cfg's vault settings too (environment over file).
    let cfg = crate::ansible_cfg::AnsibleCfg::load().map_err(|e| VaultError::Options(e.to_string()))?;
    let defaults = VaultDefaults::from_cfg(&cfg);
    if let Some(salt) = &defaults.encrypt_salt {
        super::format::set_encrypt_salt(salt);
    }
    match cmd {
        VaultCommand::Encrypt {
            files,
            output,
            id,
            vault,
        } => {
            check_output(&files, &output)?;
            let ids = encrypt_ids(&vault, &defaults)?;
            let (label, pw) = pick(&ids, &id, &defaults)?;
            let inputs = if files.is_empty() {
                vec![PathBuf::from("-")]
            } else {
                files
            };
            for f in inputs {
                let data = read_input(&f)?;
                if is_encrypted(&data) {
                    return Err(VaultError::Source(format!(
                        "{}: input is already encrypted",
                        f.display()
                    )));
                }
                let out = encrypt(&data, pw, Some(label))?;
                write_output(output.output.as_deref().unwrap_or(&f), out.as_bytes())?;
            }
            success("Encryption successful");
            Ok(0)
        }
        VaultCommand::Decrypt { files, output, vault } => {
            check_output(&files, &output)?;
            let ids = decrypt_ids(&vault, &defaults)?;
            let inputs = if files.is_empty() {
                vec![PathBuf::from("-")]
            } else {
                files
            };
            for f in inputs {
                let plain = decrypt_input(&ids, &f)?;
                write_output(output.output.as_deref().unwrap_or(&f), &plain)?;
            }
            success("Decryption successful");
            Ok(0)
        }
        VaultCommand::View { files, vault } => {
            let ids = decrypt_ids(&vault, &defaults)?;
            for f in files {
                let plain = decrypt_input(&ids, &f)?;
                write_output(Path::new("-"), &plain)?;
            }
            Ok(0)
        }
        VaultCommand::Edit { files, id, vault } => {
            let ids = decrypt_ids(&vault, &defaults)?;
            for f in files {
                let text = read_input(&f)?;
                let shown = f.display().to_string();
                let text = std::str::from_utf8(&text)
                    .map_err(|_| VaultError::Format(format!("in {shown}: vault data must be ASCII text")))?;
                let (plain, used) = ids.decrypt(text, &shown)?;
                let label = id.encrypt_vault_id.clone().unwrap_or(used);
                let (label, pw) = ids.for_encrypt(Some(&label))?;
                if let Some(edited) = edit_in_editor(&plain)? {
                    write_output(&f, encrypt(&edited, pw, Some(label))?.as_bytes())?;
                }
            }
            Ok(0)
        }
        VaultCommand::Create { file, id, vault } => {
            if file.exists() {
                return Err(VaultError::Source(format!(
                    "{} exists, please use 'edit' instead",
                    file.display()
                )));
            }
            let ids = encrypt_ids(&vault, &defaults)?;
            let (label, pw) = pick(&ids, &id, &defaults)?;
            let edited = edit_in_editor(b"")?.unwrap_or_default();
            write_output(&file, encrypt(&edited, pw, Some(label))?.as_bytes())?;
            Ok(0)
        }
        VaultCommand::EncryptString {
            strings,
            prompt,
            show_input,
            name,
            stdin_name,
            output,
            id,
            vault,
        } => {
            let read_stdin =
                strings.iter().any(|s| s == "-") || stdin_name.is_some() || (strings.is_empty() && !prompt);
            if prompt && read_stdin {
                return Err(VaultError::Options(
                    "The --prompt option is not supported if also reading input from stdin".into(),
                ));
            }
            let ids = encrypt_ids(&vault, &defaults)?;
            let (label, pw) = pick(&ids, &id, &defaults)?;
            let mut items: Vec<Plain> = Vec::new();
            if prompt {
                let n = prompt_line("Variable name (enter for no name): ", true)?;
                let msg = if show_input {
                    "String to encrypt:"
                } else {
                    "String to encrypt (hidden): "
                };
                let v = prompt_line(msg, show_input)?;
                if v.is_empty() {
                    return Err(VaultError::Options(
                        "The plaintext provided from the prompt was empty, not encrypting".into(),
                    ));
                }
                items.push((
                    Zeroizing::new(v.as_bytes().to_vec()),
                    "prompt",
                    Some(n.to_string()).filter(|n| !n.is_empty()),
                ));
            }
            if read_stdin {
                let data = read_input(Path::new("-"))?;
                if data.is_empty() {
                    return Err(VaultError::Options("stdin was empty, not encrypting".into()));
                }
                items.push((data, "stdin", stdin_name));
            }
            let args: Vec<&String> = strings.iter().filter(|s| *s != "-").collect();
            if !name.is_empty() && args.len() > name.len() {
                eprintln!("The number of --name options do not match the number of args.");
                eprintln!(
                    "The last named variable will be \"{}\". The rest will not have names.",
                    name.last().map_or("", String::as_str)
                );
            }
            for (i, a) in args.iter().enumerate() {
                if a.is_empty() {
                    return Err(VaultError::Options(
                        "The plaintext provided from the command line args was empty, not encrypting".into(),
                    ));
                }
                items.push((
                    Zeroizing::new(a.as_bytes().to_vec()),
                    "the command line args",
                    name.get(i).cloned(),
                ));
            }
            let many = items.len() > 1;
            let mut out = String::new();
            for (i, (plain, from, var)) in items.iter().enumerate() {
                if many {
                    match var {
                        Some(v) => eprintln!(
                            "# The encrypted version of variable (\"{v}\", the string #{} from {from}).",
                            i + 1
                        ),
                        None => eprintln!("# The encrypted version of the string #{} from {from}.)", i + 1),
                    }
                }
                let ct = encrypt(plain, pw, Some(label))?;
                out.push_str(&yaml_block(&ct, var.as_deref()));
                out.push('\n');
            }
            write_output(output.output.as_deref().unwrap_or(Path::new("-")), out.as_bytes())?;
            success("Encryption successful");
            Ok(0)
        }
        VaultCommand::Rekey {
            files,
            new_vault_password_file,
            new_vault_id,
            id,
            vault,
        } => {
            let ids = decrypt_ids(&vault, &defaults)?;
            let mut new_ids: Vec<String> = Vec::new();
            if id.encrypt_vault_id.is_some() {
                new_ids.extend(defaults.identity_list.iter().cloned());
            }
            new_ids.extend(new_vault_id);
            let new_files: Vec<PathBuf> = new_vault_password_file.into_iter().collect();
            let new_sources = sources::build_sources(
                &new_ids,
                &new_files,
                vault.ask_vault_pass,
                &VaultDefaults::default(),
                true,
            )?;
            let new = VaultIds::load_with(&new_sources, true)?;
            if new.is_empty() {
                return Err(VaultError::Options(
                    "A new vault password is required to use Ansible's Vault rekey".into(),
                ));
            }
            let (label, pw) = new.for_encrypt(id.encrypt_vault_id.as_deref())?;
            for f in files {
                let plain = decrypt_input(&ids, &f)?;
                write_output(&f, encrypt(&plain, pw, Some(label))?.as_bytes())?;
            }
            eprintln!("Rekey successful");
            Ok(0)
        }
    }
}

/// `ansible-vault`'s `format_ciphertext_yaml`: `[NAME: ]!vault |` and the payload indented by
/// 10 spaces.
pub fn yaml_block(ciphertext: &str, name: Option<&str>) -> String {
    let mut lines = vec![match name {
        Some(n) => format!("{n}: !vault |"),
        None => "!vault |".to_string(),
    }];
    lines.extend(ciphertext.lines().map(|l| format!("{}{l}", " ".repeat(10))));
    lines.join("\n")
}

fn success(msg: &str) {
    if std::io::stdout().is_terminal() {
        eprintln!("{msg}");
    }
}

fn check_output(files: &[PathBuf], output: &OutputArg) -> Result<(), VaultError> {
    if output.output.is_some() && files.len() > 1 {
        return Err(VaultError::Options(
            "At most one input file may be used with the --output option".into(),
        ));
    }
    Ok(())
}

fn decrypt_ids(vault: &VaultArgs, defaults: &VaultDefaults) -> Result<VaultIds, VaultError> {
    let ids = VaultIds::load(&vault.sources(defaults, true)?)?;
    if ids.is_empty() {
        return Err(VaultError::Options(
            "A vault password is required to use Ansible's Vault".into(),
        ));
    }
    Ok(ids)
}

fn encrypt_ids(vault: &VaultArgs, defaults: &VaultDefaults) -> Result<VaultIds, VaultError> {
    let ids = VaultIds::load_with(&vault.sources(defaults, true)?, true)?;
    if ids.is_empty() {
        return Err(VaultError::Options(
            "A vault password is required to use Ansible's Vault".into(),
        ));
    }
    Ok(ids)
}

/// The password to encrypt with: `--encrypt-vault-id`'s (or ansible.cfg's
/// `vault_encrypt_identity` / `ANSIBLE_VAULT_ENCRYPT_IDENTITY`), else the only one; more than
/// one without a choice is `ansible-vault`'s error.
fn pick<'a>(
    ids: &'a VaultIds,
    id: &EncryptIdArg,
    defaults: &VaultDefaults,
) -> Result<(&'a str, &'a [u8]), VaultError> {
    let chosen = id
        .encrypt_vault_id
        .clone()
        .or_else(|| defaults.encrypt_identity.clone());
    if chosen.is_none() && ids.labels().count() > 1 {
        return Err(VaultError::Options(format!(
            "The vault-ids {} are available to encrypt. Specify the vault-id to encrypt with --encrypt-vault-id",
            ids.labels().collect::<Vec<_>>().join(",")
        )));
    }
    ids.for_encrypt(chosen.as_deref())
}

fn read_input(f: &Path) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let mut data = Zeroizing::new(Vec::new());
    if f == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut data)
            .map_err(|e| VaultError::Source(format!("reading standard input: {e}")))?;
    } else {
        *data = std::fs::read(f).map_err(|e| VaultError::Source(format!("{}: {e}", f.display())))?;
    }
    Ok(data)
}

fn decrypt_input(ids: &VaultIds, f: &Path) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let data = read_input(f)?;
    let shown = f.display().to_string();
    let text = std::str::from_utf8(&data)
        .ok()
        .filter(|t| is_encrypted(t.trim_start().as_bytes()))
        .ok_or_else(|| {
            VaultError::Source(format!(
                "input is not vault encrypted data{shown} is not a vault encrypted file"
            ))
        })?;
    Ok(ids.decrypt(text, &shown)?.0)
}

/// Writes `data` to `path` (`-`: standard output): through a temporary file renamed over it,
/// keeping an existing file's mode, 0600 for a new one.
fn write_output(path: &Path, data: &[u8]) -> Result<(), VaultError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |e: std::io::Error| VaultError::Source(format!("{}: {e}", path.display()));
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out.write_all(data).and_then(|()| out.flush()).map_err(err);
    }
    let mode = std::fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o7777);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(data).map_err(err)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

fn prompt_line(msg: &str, echo: bool) -> Result<Zeroizing<String>, VaultError> {
    let e = |e: std::io::Error| VaultError::Source(format!("prompt: {e}"));
    if echo {
        eprint!("{msg}");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(e)?;
        Ok(Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string()))
    } else {
        rpassword::prompt_password(msg).map(Zeroizing::new).map_err(e)
    }
}

/// Opens `$EDITOR` (default `vi`, split as a shell would not: on whitespace) on a 0600 file in a
/// private temporary directory holding `plain`; the edited content, or `None` when unchanged.
fn edit_in_editor(plain: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |e: std::io::Error| VaultError::Source(format!("editing: {e}"));
    let dir = tempfile::tempdir().map_err(err)?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    let file = dir.path().join("vault-edit.yml");
    std::fs::write(&file, plain).map_err(err)?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    let editor = std::env::var("EDITOR").unwrap_or_else(|_| "vi".into());
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(&file)
        .status()
        .map_err(|e| VaultError::Source(format!("cannot run the editor '{editor}': {e}")))?;
    if !status.success() {
        return Err(VaultError::Source(format!(
            "the editor '{editor}' failed ({status}); the file was left unchanged"
        )));
    }
    let edited = Zeroizing::new(std::fs::read(&file).map_err(err)?);
    Ok((*edited != plain).then_some(edited))
}
