//! The Ansible Vault envelope and its `AES256` cipher, matching ansible-core's
//! `ansible.parsing.vault` (`format_vaulttext_envelope`, `parse_vaulttext_envelope`,
//! `VaultAES256`):
//!
//! ```text
//! $ANSIBLE_VAULT;1.1;AES256            (or $ANSIBLE_VAULT;1.2;AES256;LABEL)
//! hex( hex(salt) "\n" hex(hmac) "\n" hex(ciphertext) ), in lines of 80 characters
//! ```
//!
//! PBKDF2-HMAC-SHA256 (10000 iterations) of the password and the 32-byte salt gives 80 bytes:
//! the AES-256 key, the HMAC-SHA256 key and the 16-byte initial counter; the plaintext is
//! PKCS#7-padded to the AES block and encrypted with AES-256-CTR; the HMAC covers the
//! ciphertext and is checked (in constant time, by the `hmac` crate's `verify_slice`) before
//! anything is decrypted. Every primitive comes from the RustCrypto crates.

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::zeroize::Zeroizing;
use sha2::Sha256;

use super::VaultError;

/// The first characters of every vault payload.
pub const HEADER: &str = "$ANSIBLE_VAULT";

/// The vault id a 1.1 payload (which names none) is attributed to: ansible-core's
/// `DEFAULT_VAULT_IDENTITY`.
pub const DEFAULT_ID: &str = "default";

const KEY_LEN: usize = 32;
const IV_LEN: usize = 16;
const ITERATIONS: u32 = 10_000;
const SALT_LEN: usize = 32;
const BLOCK: usize = 16;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

/// Whether `data` is vault-encrypted (starts with `$ANSIBLE_VAULT`), as ansible-core's
/// `is_encrypted`: only the very start counts, no leading whitespace.
pub fn is_encrypted(data: &[u8]) -> bool {
    data.starts_with(HEADER.as_bytes())
}

/// A parsed vault payload.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `1.1` or `1.2`.
    pub version: String,
    /// The cipher name (`AES256`; the obsolete `AES` is refused).
    pub cipher: String,
    /// The vault id of a `1.2` payload, else [`DEFAULT_ID`].
    pub vault_id: String,
    /// The outer hexlified body (header and line breaks removed).
    body: String,
}

impl Envelope {
    /// Parses `text` (a vault file's content or an inline `!vault` value). Lines after the header
    /// are joined as ansible-core joins them, each trimmed (ansible-core strips only the line
    /// break; indentation left over, which it rejects, is accepted here).
    ///
    /// Errors: [`VaultError::Format`] when the header is not `$ANSIBLE_VAULT;VERSION;CIPHER[;ID]`.
    pub fn parse(text: &str) -> Result<Self, VaultError> {
        let text = text.trim_start_matches([' ', '\t', '\n', '\r']);
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default().trim();
        let parts: Vec<&str> = header.split(';').map(str::trim).collect();
        if parts.first() != Some(&HEADER) || parts.len() < 3 {
            return Err(VaultError::Format(format!(
                "the header '{header}' is not $ANSIBLE_VAULT;VERSION;CIPHER"
            )));
        }
        let vault_id = parts
            .get(3)
            .filter(|id| !id.is_empty())
            .map_or(DEFAULT_ID, |id| id)
            .to_string();
        let body: String = lines.map(str::trim).collect();
        Ok(Envelope {
            version: parts[1].to_string(),
            cipher: parts[2].to_string(),
            vault_id,
            body,
        })
    }

    /// Decrypts with one password. `Ok(None)` when the password is not the right one (the HMAC
    /// does not match, or the padding is wrong).
    ///
    /// Errors: [`VaultError::Format`] for a payload that is not vault data (bad hex, missing
    /// parts), [`VaultError::Cipher`] for a cipher other than `AES256`.
    pub fn decrypt(&self, password: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        if self.cipher != "AES256" {
            return Err(VaultError::Cipher(self.cipher.clone()));
        }
        let inner = hex::decode(&self.body)
            .map_err(|e| VaultError::Format(format!("Vault format unhexlify error: {e}")))?;
        let mut parts = inner.splitn(3, |b| *b == b'\n');
        let (Some(salt), Some(mac), Some(ct)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(VaultError::Format(
                "Vault vaulttext format error: expected salt, HMAC and ciphertext".into(),
            ));
        };
        let unhex = |b: &[u8]| {
            hex::decode(b).map_err(|e| VaultError::Format(format!("Vault format unhexlify error: {e}")))
        };
        let salt = unhex(salt)?;
        let mac = unhex(mac)?;
        let mut data = Zeroizing::new(unhex(ct)?);
        let keys = derive(password, &salt);
        let (k_aes, k_mac, iv) = split(&keys);
        let mut check = <Hmac<Sha256> as KeyInit>::new_from_slice(k_mac)
            .map_err(|e| VaultError::Format(e.to_string()))?;
        check.update(&data);
        if check.verify_slice(&mac).is_err() {
            return Ok(None);
        }
        let mut cipher =
            Aes256Ctr::new_from_slices(k_aes, iv).map_err(|e| VaultError::Format(e.to_string()))?;
        cipher.apply_keystream(&mut data);
        let Some(&pad) = data.last() else {
            return Ok(None);
        };
        let pad = usize::from(pad);
        if pad == 0
            || pad > BLOCK
            || pad > data.len()
            || data[data.len() - pad..].iter().any(|b| usize::from(*b) != pad)
        {
            return Ok(None);
        }
        let n = data.len() - pad;
        data.truncate(n);
        Ok(Some(data))
    }
}

/// PBKDF2-HMAC-SHA256 of `password` and `salt`: 80 bytes (AES key, HMAC key, counter).
fn derive(password: &[u8], salt: &[u8]) -> Zeroizing<[u8; 2 * KEY_LEN + IV_LEN]> {
    let mut out = Zeroizing::new([0u8; 2 * KEY_LEN + IV_LEN]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, ITERATIONS, out.as_mut());
    out
}

fn split(keys: &[u8; 2 * KEY_LEN + IV_LEN]) -> (&[u8], &[u8], &[u8]) {
    (
        &keys[..KEY_LEN],
        &keys[KEY_LEN..2 * KEY_LEN],
        &keys[2 * KEY_LEN..],
    )
}

/// ansible-core's `VAULT_ENCRYPT_SALT` for this process, once set.
static CONFIGURED_SALT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// Makes every later [`encrypt`] of this process use `salt`'s UTF-8 bytes as its salt, as
/// ansible-core's `VAULT_ENCRYPT_SALT` (`ANSIBLE_VAULT_ENCRYPT_SALT`, ansible.cfg
/// `vault_encrypt_salt`) does: reproducible payloads, for tests and content kept in git. An
/// empty salt is ignored (random salts, as ansible-core); the first setting wins.
pub fn set_encrypt_salt(salt: &str) {
    if !salt.is_empty() {
        let _ = CONFIGURED_SALT.set(salt.as_bytes().to_vec());
    }
}

/// Encrypts `plaintext` with `password` into a vault payload, as `ansible-vault encrypt` writes
/// it: `$ANSIBLE_VAULT;1.1;AES256` (or `1.2;AES256;ID` when `vault_id` is given and is not
/// `default`), the body in lines of 80 characters, a final newline. A fresh random 32-byte salt
/// each time, unless [`set_encrypt_salt`] gave one.
///
/// Errors: [`VaultError::Random`] when the system has no randomness to give.
pub fn encrypt(plaintext: &[u8], password: &[u8], vault_id: Option<&str>) -> Result<String, VaultError> {
    if let Some(salt) = CONFIGURED_SALT.get() {
        return encrypt_with_salt(plaintext, password, vault_id, salt);
    }
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| VaultError::Random(e.to_string()))?;
    encrypt_with_salt(plaintext, password, vault_id, &salt)
}

/// [`encrypt`] with a given salt (the `vault` filter's `salt=`): the same payload every time.
///
/// Errors: none in practice (key lengths are fixed); [`VaultError::Format`] otherwise.
pub fn encrypt_with_salt(
    plaintext: &[u8],
    password: &[u8],
    vault_id: Option<&str>,
    salt: &[u8],
) -> Result<String, VaultError> {
    let keys = derive(password, salt);
    let (k_aes, k_mac, iv) = split(&keys);
    let pad = BLOCK - plaintext.len() % BLOCK;
    let mut data = Zeroizing::new(Vec::with_capacity(plaintext.len() + pad));
    data.extend_from_slice(plaintext);
    data.extend(std::iter::repeat_n(pad as u8, pad));
    let mut cipher = Aes256Ctr::new_from_slices(k_aes, iv).map_err(|e| VaultError::Format(e.to_string()))?;
    cipher.apply_keystream(&mut data);
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(k_mac).map_err(|e| VaultError::Format(e.to_string()))?;
    mac.update(&data);
    let tag = mac.finalize().into_bytes();
    let inner = format!(
        "{}\n{}\n{}",
        hex::encode(salt),
        hex::encode(tag),
        hex::encode(&*data)
    );
    let body = hex::encode(inner.as_bytes());
    let mut out = match vault_id.filter(|id| !id.is_empty() && *id != DEFAULT_ID) {
        Some(id) => format!("{HEADER};1.2;AES256;{id}\n"),
        None => format!("{HEADER};1.1;AES256\n"),
    };
    for chunk in body.as_bytes().chunks(80) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_password() {
        let v = encrypt(b"hello vault\n", b"pw", None).unwrap();
        assert!(v.starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
        assert!(v.lines().skip(1).all(|l| l.len() <= 80));
        let env = Envelope::parse(&v).unwrap();
        assert_eq!(env.vault_id, DEFAULT_ID);
        assert_eq!(&**env.decrypt(b"pw").unwrap().unwrap(), b"hello vault\n");
        assert!(env.decrypt(b"nope").unwrap().is_none());
        let v = encrypt(b"", b"pw", Some("prod")).unwrap();
        assert!(v.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
        let env = Envelope::parse(&v).unwrap();
        assert_eq!(env.vault_id, "prod");
        assert_eq!(&**env.decrypt(b"pw").unwrap().unwrap(), b"");
    }

    /// A payload written by ansible-vault 2.19 (`echo -n secret-value | ansible-vault
    /// encrypt_string --vault-password-file pw` with `pw` holding `letmein`).
    #[test]
    fn decrypts_ansible_vault_output() {
        let text = "$ANSIBLE_VAULT;1.1;AES256
          63393738396461336666623135643466613561646565333536643537333963363961343866646164
          6433373765653366393531643138346131663837383431350a373930643966336434336462353865
          38353732613761336164303231396432383064396163366239666336383261663166643037613032
          3365373732363332640a383932623361613665306335373839623766363831303935613861613937
          3062";
        let env = Envelope::parse(text).unwrap();
        assert_eq!(&**env.decrypt(b"letmein").unwrap().unwrap(), b"secret-value");
    }

    #[test]
    fn format_errors_are_errors() {
        assert!(Envelope::parse("$ANSIBLE_VAULT;1.1\nabc").is_err());
        let env = Envelope::parse("$ANSIBLE_VAULT;1.1;AES256\nzz\n").unwrap();
        assert!(matches!(env.decrypt(b"pw"), Err(VaultError::Format(_))));
        let env = Envelope::parse("$ANSIBLE_VAULT;1.1;AES\n00\n").unwrap();
        assert!(matches!(env.decrypt(b"pw"), Err(VaultError::Cipher(_))));
    }
}
