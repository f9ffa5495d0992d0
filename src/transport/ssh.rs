//! SSH transport (placeholder).
use super::{ConnectSpec, ExecOutput, ExecRequest, TransportError};

/// An SSH connection.
pub struct SshConnection {}

impl SshConnection {
    /// Connects.
    pub async fn connect(spec: &ConnectSpec) -> Result<SshConnection, TransportError> {
        Err(TransportError::Connect {
            host: spec.name.clone(),
            addr: spec.address.clone(),
            message: "not implemented".into(),
        })
    }
    /// Runs a command.
    pub async fn exec(&self, _req: &ExecRequest) -> Result<ExecOutput, TransportError> {
        Err(TransportError::Channel {
            host: String::new(),
            message: "not implemented".into(),
        })
    }
    /// Closes.
    pub async fn close(&self) {}
}
