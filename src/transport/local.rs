//! Local transport (placeholder).
use super::{ExecOutput, ExecRequest, TransportError};

/// Runs commands on the controller.
pub struct LocalConnection {
    name: String,
}

impl LocalConnection {
    /// A local connection named after the inventory host.
    pub fn new(name: &str) -> Self {
        LocalConnection {
            name: name.to_string(),
        }
    }
    /// Runs a command.
    pub async fn exec(&self, _req: &ExecRequest) -> Result<ExecOutput, TransportError> {
        Err(TransportError::Channel {
            host: self.name.clone(),
            message: "not implemented".into(),
        })
    }
}
