//! `ansible_connection: local`: commands run on the controller, through `/bin/sh -c` with the
//! same command line an SSH host would get, so quoting, become and chdir behave identically.

use std::process::Stdio;

use tokio::io::AsyncWriteExt;

use super::{ExecOutput, ExecRequest, ExitStatus, TransportError, quote};

/// Runs commands on the controller.
pub struct LocalConnection {
    name: String,
    pub(crate) state: super::ConnState,
    /// A local `sftp-server`, when the SFTP path is forced (tests).
    sftp: super::sftp::SftpSlot,
}

impl LocalConnection {
    /// A local connection named after the inventory host.
    pub fn new(name: &str) -> Self {
        LocalConnection {
            name: name.to_string(),
            state: Default::default(),
            sftp: Default::default(),
        }
    }

    /// The local `sftp-server` session (started on first use; `None` when it is not installed).
    pub async fn sftp(&self, shared: super::sftp::SftpShared) -> Option<std::sync::Arc<super::sftp::SftpFs>> {
        self.sftp
            .get_or_init(|| async {
                super::sftp::SftpFs::start_local(shared)
                    .await
                    .map(std::sync::Arc::new)
            })
            .await
            .clone()
    }

    /// The local `sftp-server` session when it is running already.
    pub fn sftp_started(&self) -> Option<std::sync::Arc<super::sftp::SftpFs>> {
        self.sftp.get()?.clone()
    }

    /// Runs one command to completion. Errors only when the process cannot be started or its
    /// pipes fail; a non-zero exit is reported in the output.
    pub async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, TransportError> {
        let io = |e: std::io::Error| TransportError::Io {
            host: self.name.clone(),
            message: e.to_string(),
        };
        let (line, stdin) = quote::command_line(req).map_err(io)?;
        let mut command = tokio::process::Command::new("/bin/sh");
        for var in crate::osenv::scrubbed_env() {
            command.env_remove(var);
        }
        // Its own process group, so that an abandoned command (an interrupted run) is ended
        // with everything it started, not just the outer shell.
        command.process_group(0);
        let mut child = command
            .arg("-c")
            .arg(&line)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(io)?;
        let mut group = child.id().map(|pid| GroupGuard { pid, armed: true });
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A command that does not read its stdin closes the pipe early: not an error.
            let _ = pipe.write_all(&data).await;
            drop(pipe);
        }
        let out = child.wait_with_output().await.map_err(io)?;
        // Finished: what it left running in the background (a daemon it started) stays.
        if let Some(g) = group.as_mut() {
            g.armed = false;
        }
        let status = match out.status.code() {
            Some(c) => ExitStatus::Code(u32::try_from(c).unwrap_or(255)),
            None => {
                use std::os::unix::process::ExitStatusExt;
                match out.status.signal() {
                    Some(s) => ExitStatus::Signal(s.to_string()),
                    None => ExitStatus::Unknown,
                }
            }
        };
        Ok(ExecOutput {
            status,
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}

/// Kills a local command's process group when its task is abandoned (dropped before the command
/// ended, as in an interrupted run).
struct GroupGuard {
    pid: u32,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed
            && let Ok(pid) = i32::try_from(self.pid)
        {
            let _ =
                nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_argv_with_stdin_and_status() {
        let c = LocalConnection::new("localhost");
        let out = c
            .exec(&ExecRequest::argv(["cat"]).with_stdin(b"hello".to_vec()))
            .await
            .unwrap();
        assert_eq!(out.stdout, b"hello");
        assert!(out.status.success());
        let out = c.exec(&ExecRequest::shell("echo err >&2; exit 3")).await.unwrap();
        assert_eq!(out.status, ExitStatus::Code(3));
        assert_eq!(out.stderr_str(), "err\n");
    }
}
