//! Client authentication: the ssh-agent, then identity files (as OpenSSH orders them), with
//! loaded keys cached per run and passphrases asked at most a few times.

use super::*;

/// Tries ssh-agent identities, then the identity files, as `user`.
pub(super) async fn authenticate(
    handle: &mut Handle<Verifier>,
    spec: &ConnectSpec,
    user: &str,
) -> Result<(), TransportError> {
    let mut tried: Vec<String> = Vec::new();
    let mut rsa_hash: Option<Option<HashAlg>> = None;
    if try_agent(handle, user, &mut tried, &mut rsa_hash).await {
        return Ok(());
    }
    for path in identity_files(spec) {
        let key = match load_key(&path).await {
            Ok(k) => k,
            Err(reason) => {
                tried.push(format!("{} ({reason})", path.display()));
                continue;
            }
        };
        let hash = if key.algorithm().is_rsa() {
            rsa_hash_for(handle, &mut rsa_hash).await
        } else {
            None
        };
        match handle
            .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key, hash))
            .await
        {
            Ok(r) if r.success() => return Ok(()),
            Ok(_) => tried.push(format!("{} (rejected by the server)", path.display())),
            Err(e) => tried.push(format!("{} ({})", path.display(), describe(&e))),
        }
    }
    if let Some(password) = &spec.password {
        use secrecy::ExposeSecret;
        match handle.authenticate_password(user, password.expose_secret()).await {
            Ok(r) if r.success() => return Ok(()),
            Ok(_) => tried.push("password (-k, rejected by the server)".to_string()),
            Err(e) => tried.push(format!("password (-k, {})", describe(&e))),
        }
    }
    Err(TransportError::Auth {
        host: spec.name.clone(),
        user: user.to_string(),
        tried: if tried.is_empty() {
            "nothing (no ssh-agent, no identity file)".to_string()
        } else {
            tried.join(", ")
        },
    })
}

/// Offers every agent key; true on success. Notes what happened in `tried`.
pub(super) async fn try_agent(
    handle: &mut Handle<Verifier>,
    user: &str,
    tried: &mut Vec<String>,
    rsa_hash: &mut Option<Option<HashAlg>>,
) -> bool {
    let Some(sock) = std::env::var_os("SSH_AUTH_SOCK").filter(|s| !s.is_empty()) else {
        tried.push("ssh-agent (SSH_AUTH_SOCK not set)".to_string());
        return false;
    };
    let mut agent = match AgentClient::connect_uds(&sock).await {
        Ok(a) => a,
        Err(e) => {
            tried.push(format!("ssh-agent (cannot connect: {e})"));
            return false;
        }
    };
    let identities = match agent.request_identities().await {
        Ok(ids) => ids,
        Err(e) => {
            tried.push(format!("ssh-agent (cannot list keys: {e})"));
            return false;
        }
    };
    let mut offered = 0;
    for identity in identities {
        let AgentIdentity::PublicKey { key, .. } = identity else {
            continue;
        };
        offered += 1;
        let hash = if key.algorithm().is_rsa() {
            rsa_hash_for(handle, rsa_hash).await
        } else {
            None
        };
        if let Ok(r) = handle
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
            && r.success()
        {
            return true;
        }
    }
    tried.push(format!("ssh-agent ({offered} keys rejected)"));
    false
}

/// rsa-sha2-512/256 as the server announces (asked once per connection); rsa-sha2-256 when the
/// server does not say.
pub(super) async fn rsa_hash_for(
    handle: &Handle<Verifier>,
    cached: &mut Option<Option<HashAlg>>,
) -> Option<HashAlg> {
    if let Some(h) = cached {
        return *h;
    }
    let h = match handle.best_supported_rsa_hash().await {
        Ok(Some(h)) => h,
        _ => Some(HashAlg::Sha256),
    };
    *cached = Some(h);
    h
}

/// `spec.identity_files`, or the default `~/.ssh/id_{ed25519,ecdsa,rsa}` that exist.
pub(super) fn identity_files(spec: &ConnectSpec) -> Vec<PathBuf> {
    if !spec.identity_files.is_empty() {
        return spec.identity_files.clone();
    }
    let Some(home) = std::env::var_os("HOME") else {
        return Vec::new();
    };
    let ssh = PathBuf::from(home).join(".ssh");
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|n| ssh.join(n))
        .filter(|p| p.exists())
        .collect()
}

/// A key ready to sign with, or a short reason why it cannot be used.
pub(super) type LoadedKey = Result<Arc<PrivateKey>, String>;

/// Keys loaded so far in this process, by path (or why they cannot be used), so that 50 hosts
/// ask for a passphrase once, not 50 times.
pub(super) static KEY_CACHE: LazyLock<Mutex<HashMap<PathBuf, LoadedKey>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Loads a private key, asking for its passphrase on the terminal if it is encrypted.
/// Errors are short reasons for the `Auth` message.
pub(super) async fn load_key(path: &Path) -> LoadedKey {
    let mut cache = KEY_CACHE.lock().await;
    if let Some(cached) = cache.get(path) {
        return cached.clone();
    }
    let loaded = read_key(path).await.map(Arc::new);
    cache.insert(path.to_path_buf(), loaded.clone());
    loaded
}

pub(super) async fn read_key(path: &Path) -> Result<PrivateKey, String> {
    // Bounded (a key path from inventory could name /dev/zero); blocking, as a FIFO may be.
    let owned = path.to_path_buf();
    let text = match tokio::task::spawn_blocking(move || crate::input::read_text(&owned)).await {
        Ok(Ok(t)) => t,
        Ok(Err(crate::input::InputError::Io { source, .. }))
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return Err("not found".to_string());
        }
        Ok(Err(crate::input::InputError::Io { source, .. })) => return Err(format!("cannot read: {source}")),
        Ok(Err(e)) => return Err(e.to_string()),
        Err(e) => return Err(format!("cannot read: {e}")),
    };
    match russh::keys::decode_secret_key(&text, None) {
        Ok(k) => return Ok(k),
        Err(russh::keys::Error::KeyIsEncrypted) => {}
        Err(e) => return Err(format!("not a usable private key: {e}")),
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            "key is encrypted and there is no terminal to ask for its passphrase: load it into ssh-agent with `ssh-add`"
                .to_string(),
        );
    }
    for _ in 0..PASSPHRASE_ATTEMPTS {
        let prompt = format!("Enter passphrase for key '{}': ", path.display());
        let passphrase = tokio::task::spawn_blocking(move || rpassword::prompt_password(prompt))
            .await
            .map_err(|e| format!("passphrase prompt failed: {e}"))?
            .map(SecretString::from)
            .map_err(|e| format!("cannot read the passphrase from the terminal: {e}"))?;
        if let Ok(k) = russh::keys::decode_secret_key(&text, Some(passphrase.expose_secret())) {
            return Ok(k);
        }
    }
    Err("wrong passphrase".to_string())
}
