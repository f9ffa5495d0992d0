//! Host key checking against an OpenSSH `known_hosts` file (DESIGN habit 7): the one thing that
//! stops a man in the middle from receiving every secret a playbook pushes.
//!
//! Format (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): `[marker] hosts keytype base64 [comment]`, where
//! `hosts` is a comma-separated list of patterns (`*`, `?`, `!neg`), `[host]:port` for ports other
//! than 22, or a hashed `|1|base64(salt)|base64(HMAC-SHA1(salt, host))` entry. `@revoked` lines
//! refuse their key; `@cert-authority` lines are ignored (talon does not check host certificates).
//!
//! Decisions follow OpenSSH with one stricter rule: once a host has any key recorded, a different
//! key (of the same or of another type) is a changed key and is refused. The SSH transport asks
//! servers for the recorded key types first ([`KnownHosts::key_types_for`]), as OpenSSH does, so
//! a host with only an RSA key recorded is not refused for offering Ed25519.
//!
//! [`verify`] adds the file I/O: recording new keys is safe with many hosts connecting at once (a
//! process-wide mutex plus an exclusive file lock, re-checking under the lock, append-only).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha1::{Digest, Sha1};

/// A host key as the server presented it: its type name (`ssh-ed25519`, `ssh-rsa`, ...) and the
/// decoded public key blob (which itself starts with the type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    pub key_type: String,
    pub blob: Vec<u8>,
}

impl HostKey {
    /// Parses `keytype base64 [comment]` (the OpenSSH public key format). None when malformed.
    pub fn from_openssh(text: &str) -> Option<HostKey> {
        let mut parts = text.split_whitespace();
        let key_type = parts.next()?.to_string();
        let blob = B64.decode(parts.next()?).ok()?;
        Some(HostKey { key_type, blob })
    }

    /// `keytype base64`, as written in known_hosts.
    pub fn to_openssh(&self) -> String {
        format!("{} {}", self.key_type, B64.encode(&self.blob))
    }

    /// `SHA256:...` fingerprint (unpadded base64, as `ssh-keygen -l` prints it).
    pub fn fingerprint(&self) -> String {
        let digest = sha2::Sha256::digest(&self.blob);
        format!("SHA256:{}", B64.encode(digest).trim_end_matches('='))
    }
}

/// The outcome of looking a presented key up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Recorded for this host at this (1-based) line.
    Known { line: usize },
    /// No key is recorded for this host.
    Unknown,
    /// Keys are recorded for this host, none equal to the presented one; `line` is the first
    /// recorded key of the same type, else the first recorded key.
    Changed { line: usize },
    /// The key is listed under `@revoked` at this line.
    Revoked { line: usize },
    /// Unknown before, and now appended to the file by [`verify`].
    Recorded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    CertAuthority,
    Revoked,
}

#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    marker: Marker,
    hosts: String,
    key: HostKey,
}

/// A parsed known_hosts file. Malformed lines are skipped (as OpenSSH does).
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    entries: Vec<Entry>,
}

/// The name a host is recorded under: `host` on port 22, else `[host]:port`.
pub fn host_token(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

impl KnownHosts {
    /// Parses the text of a known_hosts file.
    pub fn parse(text: &str) -> KnownHosts {
        let mut entries = Vec::new();
        for (idx, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let mut first = parts.next();
            let marker = match first {
                Some(m) if m.eq_ignore_ascii_case("@cert-authority") => Marker::CertAuthority,
                Some(m) if m.eq_ignore_ascii_case("@revoked") => Marker::Revoked,
                Some(m) if m.starts_with('@') => continue,
                _ => Marker::None,
            };
            if marker != Marker::None {
                first = parts.next();
            }
            let (Some(hosts), Some(key_type), Some(b64)) = (first, parts.next(), parts.next()) else {
                continue;
            };
            let Ok(blob) = B64.decode(b64) else {
                continue;
            };
            entries.push(Entry {
                line: idx + 1,
                marker,
                hosts: hosts.to_string(),
                key: HostKey {
                    key_type: key_type.to_string(),
                    blob,
                },
            });
        }
        KnownHosts { entries }
    }

    /// Looks up `key` presented by `host:port`. Never returns [`Verdict::Recorded`].
    pub fn check(&self, host: &str, port: u16, key: &HostKey) -> Verdict {
        let token = host_token(host, port);
        let mut first_recorded = None;
        let mut first_same_type = None;
        for e in &self.entries {
            if !hosts_match(&e.hosts, &token) {
                continue;
            }
            match e.marker {
                Marker::Revoked if e.key.blob == key.blob => return Verdict::Revoked { line: e.line },
                Marker::None if e.key.blob == key.blob => return Verdict::Known { line: e.line },
                Marker::None => {
                    first_recorded.get_or_insert(e.line);
                    if e.key.key_type == key.key_type {
                        first_same_type.get_or_insert(e.line);
                    }
                }
                Marker::Revoked | Marker::CertAuthority => {}
            }
        }
        match first_same_type.or(first_recorded) {
            Some(line) => Verdict::Changed { line },
            None => Verdict::Unknown,
        }
    }

    /// The key types recorded for `host:port`, in file order, without duplicates.
    pub fn key_types_for(&self, host: &str, port: u16) -> Vec<String> {
        let token = host_token(host, port);
        let mut types: Vec<String> = Vec::new();
        for e in &self.entries {
            if e.marker == Marker::None && hosts_match(&e.hosts, &token) && !types.contains(&e.key.key_type) {
                types.push(e.key.key_type.clone());
            }
        }
        types
    }
}

/// Does a known_hosts host field (comma list of patterns and hashed entries) match `token`?
fn hosts_match(hosts: &str, token: &str) -> bool {
    let token = token.to_ascii_lowercase();
    let mut plain = Vec::new();
    for h in hosts.split(',') {
        if h.starts_with("|1|") {
            if hashed_match(h, &token) {
                return true;
            }
        } else {
            plain.push(h);
        }
    }
    super::ssh_config::match_pattern_list(&token, plain)
}

/// `|1|salt|hash` with hash = HMAC-SHA1(key = salt, message = host token).
fn hashed_match(entry: &str, token: &str) -> bool {
    let mut parts = entry.split('|').skip(2);
    let (Some(salt), Some(hash)) = (parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (B64.decode(salt), B64.decode(hash)) else {
        return false;
    };
    hmac_sha1(&salt, token.as_bytes()).as_slice() == hash.as_slice()
}

/// HMAC-SHA1 (RFC 2104), the hash OpenSSH uses for hashed known_hosts names.
fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha1::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The line recorded for a newly accepted host (plain, not hashed, like OpenSSH's default).
pub fn entry_line(host: &str, port: u16, key: &HostKey) -> String {
    format!("{} {}\n", host_token(host, port), key.to_openssh())
}

/// Serializes appends within this process; the file lock serializes against other processes.
static APPEND_LOCK: Mutex<()> = Mutex::new(());

/// Checks `key` for `host:port` against the file at `path` (missing file = nothing recorded).
/// With `accept_new`, an unknown key is appended (parent directory created 0700, file 0600) and
/// [`Verdict::Recorded`] is returned; the check is repeated under the lock so that concurrent
/// connections to the same host record it once and a conflicting key recorded meanwhile is
/// reported as changed.
///
/// Blocking file I/O: call from `spawn_blocking` in async code.
/// Errors: the file or its directory cannot be read, created, locked or written.
pub fn verify(
    path: &Path,
    host: &str,
    port: u16,
    key: &HostKey,
    accept_new: bool,
) -> std::io::Result<Verdict> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let verdict = KnownHosts::parse(&text).check(host, port, key);
    if verdict != Verdict::Unknown || !accept_new {
        return Ok(verdict);
    }
    // A poisoned lock only means another thread panicked while appending; the file lock and the
    // re-check below keep the file consistent, so carry on.
    let _guard = APPEND_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    file.lock()?;
    let result = append_if_unknown(&mut file, host, port, key);
    let _ = file.unlock();
    result
}

fn append_if_unknown(file: &mut File, host: &str, port: u16, key: &HostKey) -> std::io::Result<Verdict> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_string(&mut text)?;
    let verdict = KnownHosts::parse(&text).check(host, port, key);
    if verdict != Verdict::Unknown {
        return Ok(verdict);
    }
    let mut line = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        line.push('\n');
    }
    line.push_str(&entry_line(host, port, key));
    file.write_all(line.as_bytes())?;
    file.flush()?;
    Ok(Verdict::Recorded)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const ED1: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const ED2: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G1sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";
    // Not a valid RSA key, but a distinct blob of another type is all the matcher needs.
    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDd";

    fn key(s: &str) -> HostKey {
        HostKey::from_openssh(s).unwrap()
    }

    #[test]
    fn hmac_sha1_rfc2202() {
        assert_eq!(
            hex::encode(hmac_sha1(&[0x0b; 20], b"Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
        assert_eq!(
            hex::encode(hmac_sha1(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }

    #[test]
    fn hashed_entries_match_their_host_only() {
        let salt = b"0123456789abcdefghij";
        let hash = hmac_sha1(salt, b"[web1.example.com]:2222");
        let line = format!("|1|{}|{} {ED1}\n", B64.encode(salt), B64.encode(hash));
        let kh = KnownHosts::parse(&line);
        assert_eq!(
            kh.check("web1.example.com", 2222, &key(ED1)),
            Verdict::Known { line: 1 }
        );
        assert_eq!(
            kh.check("WEB1.example.com", 2222, &key(ED1)),
            Verdict::Known { line: 1 }
        );
        assert_eq!(kh.check("web1.example.com", 22, &key(ED1)), Verdict::Unknown);
        assert_eq!(
            kh.check("web1.example.com", 2222, &key(ED2)),
            Verdict::Changed { line: 1 }
        );
    }

    #[test]
    fn ssh_keygen_hashed_vector() {
        // Produced by OpenSSH's `ssh-keygen -H` from "[web1.example.com]:2222 <ED1>".
        let line = format!("|1|h2cIjO+xmZ7k0uV8BrsE6n3Nxqw=|2YBz4GuMd91VhLmJxvJjxqVkhBw= {ED1}");
        let kh = KnownHosts::parse(&line);
        assert_eq!(
            kh.check("web1.example.com", 2222, &key(ED1)),
            Verdict::Known { line: 1 }
        );
        assert_eq!(kh.check("web2.example.com", 2222, &key(ED1)), Verdict::Unknown);
    }

    #[test]
    fn plain_lists_ports_and_patterns() {
        let text = format!(
            "# comment\n\nweb1,10.0.0.1 {ED1}\n[db]:2200 {ED1}\n*.lan,!evil.lan {ED2}\n@cert-authority * {ED2}\ngarbage\n"
        );
        let kh = KnownHosts::parse(&text);
        assert_eq!(kh.check("10.0.0.1", 22, &key(ED1)), Verdict::Known { line: 3 });
        assert_eq!(kh.check("db", 2200, &key(ED1)), Verdict::Known { line: 4 });
        assert_eq!(kh.check("db", 22, &key(ED1)), Verdict::Unknown);
        assert_eq!(kh.check("a.lan", 22, &key(ED2)), Verdict::Known { line: 5 });
        assert_eq!(
            kh.check("evil.lan", 22, &key(ED2)),
            Verdict::Unknown,
            "cert-authority ignored"
        );
    }

    #[test]
    fn any_other_key_for_a_known_host_is_changed() {
        let kh = KnownHosts::parse(&format!("h {RSA}\nh {ED1}\n"));
        assert_eq!(kh.check("h", 22, &key(ED2)), Verdict::Changed { line: 2 });
        let only_rsa = KnownHosts::parse(&format!("h {RSA}\n"));
        assert_eq!(only_rsa.check("h", 22, &key(ED1)), Verdict::Changed { line: 1 });
        assert_eq!(only_rsa.key_types_for("h", 22), vec!["ssh-rsa".to_string()]);
    }

    #[test]
    fn revoked_wins() {
        let kh = KnownHosts::parse(&format!("h {ED1}\n@revoked * {ED1}\n"));
        assert_eq!(kh.check("h", 22, &key(ED1)), Verdict::Known { line: 1 });
        let kh = KnownHosts::parse(&format!("@revoked * {ED1}\nh {ED1}\n"));
        assert_eq!(kh.check("h", 22, &key(ED1)), Verdict::Revoked { line: 1 });
    }

    #[test]
    fn verify_records_once_with_private_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/known_hosts");
        assert_eq!(
            verify(&path, "h", 2222, &key(ED1), false).unwrap(),
            Verdict::Unknown
        );
        assert!(!path.exists(), "a refused key must not create the file");
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || verify(&path, "h", 2222, &key(ED1), true).unwrap())
            })
            .collect();
        let verdicts: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Recorded).count(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("[h]:2222 {ED1}\n"));
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let parent = std::fs::metadata(path.parent().unwrap()).unwrap();
        assert_eq!(parent.permissions().mode() & 0o777, 0o700);
        assert_eq!(
            verify(&path, "h", 2222, &key(ED2), true).unwrap(),
            Verdict::Changed { line: 1 }
        );
    }

    #[test]
    fn append_adds_missing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kh");
        std::fs::write(&path, format!("a {ED1}")).unwrap();
        assert_eq!(
            verify(&path, "b", 22, &key(ED2), true).unwrap(),
            Verdict::Recorded
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("a {ED1}\nb {ED2}\n")
        );
    }
}
