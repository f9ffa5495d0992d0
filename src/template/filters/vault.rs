//! Ansible Vault in templates: the `vault`/`unvault` filters (ansible-core
//! `plugins/filter/encryption.py`) and the `vault_encrypted`/`vaulted_file` tests
//! (`plugins/test/core.py`). Decrypted text is a secret (masked, refused on command lines).

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error};

use super::{Args, err, str_of};

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("vault", vault);
    env.add_filter("unvault", unvault);
    env.add_test("vault_encrypted", |v: Value| {
        v.as_str().is_some_and(crate::vault::is_inline_plaintext)
    });
    env.add_test("vaulted_file", |v: Value| -> Result<bool, Error> {
        let p = str_of(&v);
        let mut head = [0u8; 14];
        use std::io::Read;
        let mut f = std::fs::File::open(&p)
            .map_err(|e| err(format!("Cannot test if the file '{p}' is a vault: {e}")))?;
        let n = f.read(&mut head).unwrap_or(0);
        Ok(crate::vault::is_encrypted(&head[..n]))
    });
}

fn string_arg(v: &Value, what: &str) -> Result<String, Error> {
    match v.kind() {
        ValueKind::String | ValueKind::Bytes => Ok(str_of(v)),
        _ => Err(err(format!("{what}, instead we got {}.", v.kind()))),
    }
}

/// `data | vault(secret, salt=None, vault_id='filter_default', wrap_object=False)`: the vault
/// payload of `data` (a `1.2` header with `vault_id`, as ansible-core writes it).
fn vault(data: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::new(rest);
    let secret = args
        .get(0, "secret")
        .ok_or_else(|| err("vault: the secret is required"))?;
    let secret = string_arg(&secret, "Secret passed is required to be a string")?;
    let data = string_arg(&data, "Can only vault strings")?;
    let salt = args.str(1, "salt");
    let vault_id = args.str(2, "vault_id").unwrap_or_else(|| "filter_default".into());
    let out = match salt {
        Some(s) if !s.is_empty() => crate::vault::format::encrypt_with_salt(
            data.as_bytes(),
            secret.as_bytes(),
            Some(&vault_id),
            s.as_bytes(),
        ),
        _ => crate::vault::encrypt(data.as_bytes(), secret.as_bytes(), Some(&vault_id)),
    };
    out.map_err(|e| err(format!("Unable to encrypt: {e}")))
}

/// `vault | unvault(secret, vault_id='filter_default')`: the plaintext, a secret from now on.
fn unvault(vault: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::new(rest);
    let secret = args
        .get(0, "secret")
        .ok_or_else(|| err("unvault: the secret is required"))?;
    let secret = string_arg(&secret, "Secret passed is required to be as string")?;
    let text = string_arg(&vault, "Vault should be in the form of a string")?;
    let vault_id = args.str(1, "vault_id").unwrap_or_else(|| "filter_default".into());
    if !crate::vault::is_encrypted(text.trim_start().as_bytes()) {
        return Ok(text);
    }
    let ids = crate::vault::VaultIds::single(&vault_id, secret.as_bytes());
    let (plain, _) = ids
        .decrypt(text.trim_start(), "")
        .map_err(|e| err(format!("Unable to decrypt: {e}")))?;
    let plain = String::from_utf8(plain.to_vec()).map_err(|_| err("unvault: the plaintext is not UTF-8"))?;
    crate::secrets::treat_as_secret(&plain);
    Ok(plain)
}
