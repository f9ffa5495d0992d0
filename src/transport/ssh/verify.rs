//! Host key checking: the russh client handler that compares the server's key with
//! known_hosts (never weakened: a changed key is refused, an unknown one only with
//! `--accept-new-host-keys`), and records why a connection ended.

use super::*;

/// The russh client handler: checks the server's host key.
#[derive(Clone)]
pub(super) struct Verifier {
    pub(super) name: String,
    pub(super) address: String,
    pub(super) port: u16,
    pub(super) known_hosts: PathBuf,
    pub(super) accept_new: bool,
    /// Why the connection ended, once it did (set by `disconnected`).
    pub(super) ended: Arc<std::sync::Mutex<Option<String>>>,
    /// `ServerAliveInterval` and `ServerAliveCountMax`, for the message when keepalives go
    /// unanswered.
    pub(super) alive: (Duration, usize),
}

#[derive(Debug)]
pub(super) enum HandlerError {
    Ssh(russh::Error),
    /// Not retried: host key refused, jump channel refused, known_hosts unusable.
    Fatal(TransportError),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        HandlerError::Ssh(e)
    }
}

impl client::Handler for Verifier {
    type Error = HandlerError;

    async fn disconnected(
        &mut self,
        reason: client::DisconnectReason<HandlerError>,
    ) -> Result<(), HandlerError> {
        let (why, result) = match reason {
            client::DisconnectReason::ReceivedDisconnect(info) => (
                format!("the host closed the connection ({})", info.message.trim()),
                Ok(()),
            ),
            client::DisconnectReason::Error(HandlerError::Ssh(russh::Error::KeepaliveTimeout)) => {
                let (interval, max) = self.alive;
                (
                    format!(
                        "the host stopped answering (nothing for {} s: {max} keepalives {} s apart unanswered; ServerAliveInterval and ServerAliveCountMax set this)",
                        interval.as_secs().saturating_mul(max as u64 + 1),
                        interval.as_secs()
                    ),
                    Err(HandlerError::Ssh(russh::Error::KeepaliveTimeout)),
                )
            }
            client::DisconnectReason::Error(HandlerError::Ssh(e)) => {
                (describe(&e), Err(HandlerError::Ssh(e)))
            }
            client::DisconnectReason::Error(e) => ("the connection failed".to_string(), Err(e)),
        };
        if let Ok(mut slot) = self.ended.lock() {
            slot.get_or_insert(why);
        }
        result
    }

    async fn check_server_key(&mut self, server_key: &PublicKeyOrCertificate) -> Result<bool, HandlerError> {
        // A certificate is checked as the plain key it certifies (talon does not trust CAs), and
        // russh only receives one if the client asks for certificates, which talon does not.
        let public = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => {
                russh::keys::PublicKey::from(cert.public_key().clone())
            }
        };
        let key = public
            .to_openssh()
            .ok()
            .and_then(|s| HostKey::from_openssh(&s))
            .ok_or_else(|| self.key_error("the server presented a host key talon cannot encode"))?;
        let (path, address, port, accept) = (
            self.known_hosts.clone(),
            self.address.clone(),
            self.port,
            self.accept_new,
        );
        let check_key = key.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            known_hosts::verify(&path, &address, port, &check_key, accept)
        })
        .await
        .map_err(|e| self.key_error(&format!("host key check failed: {e}")))?
        .map_err(|e| {
            self.key_error(&format!(
                "cannot read or update known_hosts file {}: {e}",
                self.known_hosts.display()
            ))
        })?;
        let known_hosts = self.known_hosts.display().to_string();
        let host = self.name.clone();
        match verdict {
            Verdict::Known { .. } => Ok(true),
            Verdict::Recorded => {
                tracing::warn!(
                    host = %self.name,
                    "recorded new host key {} for {} in {known_hosts}",
                    key.fingerprint(),
                    known_hosts::host_token(&self.address, self.port)
                );
                Ok(true)
            }
            Verdict::Unknown => Err(HandlerError::Fatal(TransportError::UnknownHostKey {
                host,
                known_hosts,
                fingerprint: key.fingerprint(),
            })),
            Verdict::Changed { line } => Err(HandlerError::Fatal(TransportError::ChangedHostKey {
                host,
                known_hosts,
                line,
            })),
            Verdict::Revoked { line } => Err(HandlerError::Fatal(TransportError::RevokedHostKey {
                host,
                known_hosts,
                line,
            })),
        }
    }
}

impl Verifier {
    pub(super) fn key_error(&self, message: &str) -> HandlerError {
        HandlerError::Fatal(TransportError::Connect {
            host: self.name.clone(),
            addr: format!("{}:{}", self.address, self.port),
            message: message.to_string(),
        })
    }
}

/// The known_hosts key type for a host key algorithm (all RSA signature variants are `ssh-rsa`).
pub(super) fn key_type_name(alg: &Algorithm) -> &str {
    if matches!(alg, Algorithm::Rsa { .. }) {
        "ssh-rsa"
    } else {
        alg.as_str()
    }
}
