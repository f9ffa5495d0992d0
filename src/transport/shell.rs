//! A long-lived remote shell per host: commands without a new SSH session each.
//!
//! Opening a session channel costs the host a fork of `sshd`, its session setup and an exec of
//! the login shell, before the command does anything (~5-8 ms of host CPU on a lab host). A
//! [`RemoteShell`] is one session channel running `/bin/sh` that reads commands from its stdin;
//! each request is one line of shell code written to it:
//!
//! ```text
//! (eval 'SCRIPT') </dev/null; printf '%s %d\n' TOKEN "$?"; printf '%s\n' TOKEN >&2
//! printf 'DATA' | (eval 'SCRIPT'); printf ...                         # with stdin
//! printf %s 'BASE64' | base64 -d | (eval 'SCRIPT'); printf ...        # stdin with a NUL byte
//! ```
//!
//! - The command line is the one a session channel would run (`/bin/sh -c ...` for scripts),
//!   evaluated in a subshell: `$$`, `exit`, `cd` and variables mean what they mean under a fresh
//!   `sh -c`, and nothing leaks into the next command.
//! - Its stdout and stderr are the channel's; the end of each is a marker line holding a random
//!   token (128 bits, per shell, sent on stdin, never in argv), so any output, binary included,
//!   passes through unchanged. The exit status is the subshell's: `128 + n` for a command killed by
//!   signal `n` (a channel of its own reports the signal by name).
//! - stdin data travels inside the request as a single-quoted `printf` format (octal escapes for
//!   everything but printable ASCII; see [`needs_base64`] for when it is base64 instead, decoded
//!   by the host's `base64`) given to the `printf` builtin: it never appears in any process's argv (`printf` is not exec'd), never
//!   touches the disk (no here-document, which some shells back with a temporary file) and can
//!   never be read as commands by the shell. Data above [`MAX_INLINE_STDIN`] takes a channel of
//!   its own instead.
//!
//! A command that leaves a background process holding stdout open no longer blocks the task (it
//! would block a channel until the process ends); whatever that process prints later is read as
//! output of a later command on that shell.

use base64::Engine;
use russh::ChannelMsg;
use russh::client::Msg;
use russh::{ChannelReadHalf, ChannelWriteHalf};

use super::{ExecOutput, ExecRequest, ExitStatus, quote};

/// stdin larger than this (bytes) is sent on a channel of its own rather than inline.
pub const MAX_INLINE_STDIN: usize = 4 * 1024 * 1024;

/// The command a shell channel runs: a POSIX shell reading commands from the channel's stdin.
pub const SHELL_COMMAND: &str = "exec /bin/sh";

/// One remote `/bin/sh` on its own session channel, running one request at a time.
pub struct RemoteShell {
    reader: ChannelReadHalf,
    writer: ChannelWriteHalf<Msg>,
    token: String,
}

/// Why a request on a remote shell did not complete.
#[derive(Debug)]
pub enum ShellError {
    /// The shell's channel ended or failed (the shell is unusable; the command may have run).
    Ended(String),
    /// The request could not be prepared (nothing was sent; the shell is still usable).
    Prepare(std::io::Error),
}

impl RemoteShell {
    /// Wraps a session channel on which [`SHELL_COMMAND`] was just executed. `token` is the
    /// random marker for this shell (hex digits only).
    pub fn new(reader: ChannelReadHalf, writer: ChannelWriteHalf<Msg>, token: String) -> RemoteShell {
        RemoteShell {
            reader,
            writer,
            token,
        }
    }

    /// True when `req` can run on a remote shell: its stdin is small enough to send inline.
    pub fn accepts(req: &ExecRequest) -> bool {
        req.stdin.as_ref().is_none_or(|d| d.len() <= MAX_INLINE_STDIN)
    }

    /// Runs one request and collects its output. A non-zero exit is in the output; an `Err`
    /// means the shell is gone (drop it).
    pub async fn run(&mut self, req: &ExecRequest) -> Result<ExecOutput, ShellError> {
        let line = self.request_line(req).map_err(ShellError::Prepare)?;
        tracing::debug!(bytes = line.len(), "shell request");
        self.writer
            .data_bytes(line.into_bytes())
            .await
            .map_err(|e| ShellError::Ended(format!("writing to the remote shell: {e}")))?;
        let out_marker = format!("{} ", self.token);
        let err_marker = format!("{}\n", self.token);
        let mut stdout: Vec<u8> = Vec::new();
        let mut stderr: Vec<u8> = Vec::new();
        let mut status: Option<ExitStatus> = None;
        let mut stderr_done = false;
        while status.is_none() || !stderr_done {
            match self.reader.wait().await {
                Some(ChannelMsg::Data { data }) if status.is_none() => {
                    let from = stdout.len().saturating_sub(out_marker.len() + 12);
                    stdout.extend_from_slice(&data);
                    if let Some(code) = take_status(&mut stdout, from, out_marker.as_bytes()) {
                        status = Some(code);
                    }
                }
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) if !stderr_done => {
                    let from = stderr.len().saturating_sub(err_marker.len());
                    stderr.extend_from_slice(&data);
                    if let Some(at) = find(&stderr[from..], err_marker.as_bytes()) {
                        stderr.truncate(from + at);
                        stderr_done = true;
                    }
                }
                // Output after a marker belongs to a background process of this command.
                Some(ChannelMsg::Data { .. } | ChannelMsg::ExtendedData { .. }) => {}
                Some(ChannelMsg::Eof | ChannelMsg::Close | ChannelMsg::ExitStatus { .. })
                | Some(ChannelMsg::ExitSignal { .. })
                | None => {
                    return Err(ShellError::Ended(
                        "the remote shell ended while running a command (did the command kill its parent shell?)"
                            .to_string(),
                    ));
                }
                Some(_) => {}
            }
        }
        tracing::debug!(stdout = stdout.len(), stderr = stderr.len(), "shell request done");
        Ok(ExecOutput {
            status: status.unwrap_or(ExitStatus::Unknown),
            stdout,
            stderr,
        })
    }

    /// Asks the shell to exit and closes the channel (errors ignored: it is going away).
    pub async fn close(self) {
        let _ = self.writer.data_bytes(&b"exit 0\n"[..]).await;
        let _ = self.writer.eof().await;
        let _ = self.writer.close().await;
    }

    /// The line of shell code for one request (see the module documentation).
    fn request_line(&self, req: &ExecRequest) -> std::io::Result<String> {
        let (script, stdin) = match inline_script(req) {
            Some(code) => (code, req.stdin.clone()),
            // The same command line a session channel would run, so `$$`, `exit` and `exec`
            // mean what they mean under `sh -c`.
            None => quote::command_line(req)?,
        };
        let mut line = String::with_capacity(script.len() + 128);
        match stdin.filter(|d| !d.is_empty()) {
            Some(data) => {
                if needs_base64(&data) {
                    line.push_str("printf %s '");
                    line.push_str(&base64::engine::general_purpose::STANDARD.encode(data));
                    line.push_str("' | base64 -d | (eval ");
                } else {
                    line.push_str("printf '");
                    push_printf_format(&mut line, &data);
                    line.push_str("' | (eval ");
                }
                line.push_str(&quote::quote(&script));
                line.push(')');
            }
            None => {
                line.push_str("(eval ");
                line.push_str(&quote::quote(&script));
                line.push_str(") </dev/null");
            }
        }
        line.push_str("; printf '%s %d\\n' ");
        line.push_str(&self.token);
        line.push_str(" \"$?\"; printf '%s\\n' ");
        line.push_str(&self.token);
        line.push_str(" >&2\n");
        Ok(line)
    }
}

/// Data up to this size (bytes) travels as a `printf` format even where that is larger than
/// base64; above it, only when it is at most twice the size of base64.
const PRINTF_ALWAYS: usize = 64 * 1024;

/// True when `data` must travel as base64 (decoded by the host's `base64`): it holds a NUL byte,
/// which a `printf` format cannot carry portably, or it is large and mostly non-ASCII, where
/// octal escapes would more than double base64's size. Everything else travels as a `printf`
/// format (see [`push_printf_format`]), which costs the host no `base64` process.
pub fn needs_base64(data: &[u8]) -> bool {
    if data.contains(&0) {
        return true;
    }
    if data.len() <= PRINTF_ALWAYS {
        return false;
    }
    let escaped = data.iter().filter(|&&b| !(0x20..0x7f).contains(&b)).count();
    data.len() + 3 * escaped > 2 * (data.len().div_ceil(3) * 4)
}

/// Appends `data` (no NUL) as the body of a single-quoted POSIX `printf` format that prints
/// exactly those bytes: printable ASCII as itself, `%` as `%%`, `\` as `\\`, and everything
/// else (the quote, newlines, control and non-ASCII bytes) as a three-digit octal escape
/// (`\ooo`, POSIX `printf`), so the line stays one line of plain ASCII. A leading `-` is
/// escaped too: dash's `printf` reads a format starting with `-` as an option ("Illegal
/// option"), which lost stdin that began with one (an armored key, a YAML document's `---`).
fn push_printf_format(line: &mut String, data: &[u8]) {
    line.reserve(data.len() + data.len() / 8);
    for (i, &b) in data.iter().enumerate() {
        match b {
            b'-' if i == 0 => line.push_str("\\055"),
            b'%' => line.push_str("%%"),
            b'\\' => line.push_str("\\\\"),
            b'\'' => line.push_str("\\047"),
            0x20..=0x7e => line.push(char::from(b)),
            _ => {
                line.push('\\');
                line.push(char::from(b'0' + (b >> 6)));
                line.push(char::from(b'0' + ((b >> 3) & 7)));
                line.push(char::from(b'0' + (b & 7)));
            }
        }
    }
}

/// For an [`ExecRequest::inline`] script (`/bin/sh -c SCRIPT NAME ARGS...`, no become, chdir or
/// env): `set -- ARGS` then SCRIPT, evaluated in the request's subshell without another `sh`.
fn inline_script(req: &ExecRequest) -> Option<String> {
    if !req.inline
        || req.become_.is_some()
        || req.chdir.is_some()
        || !req.env.is_empty()
        || req.argv.len() < 3
        || req.argv[0] != "/bin/sh"
        || req.argv[1] != "-c"
    {
        return None;
    }
    let mut code = String::from("set --");
    for arg in req.argv.iter().skip(4) {
        code.push(' ');
        code.push_str(&quote::quote(arg));
    }
    code.push('\n');
    code.push_str(&req.argv[2]);
    Some(code)
}

/// Finds `marker` in `buf[from..]` followed by a decimal status and a newline; on success cuts
/// the marker line off `buf` and returns the status.
fn take_status(buf: &mut Vec<u8>, from: usize, marker: &[u8]) -> Option<ExitStatus> {
    let at = from + find(&buf[from..], marker)?;
    let rest = &buf[at + marker.len()..];
    let nl = rest.iter().position(|&b| b == b'\n')?;
    let code = std::str::from_utf8(&rest[..nl])
        .ok()?
        .trim()
        .parse::<u32>()
        .ok()?;
    buf.truncate(at);
    Some(ExitStatus::Code(code))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_get_their_arguments_from_set() {
        let mut req = ExecRequest::argv(["/bin/sh", "-c", "echo \"$2\"", "talon", "a b", "it's"]);
        assert_eq!(inline_script(&req), None, "only when asked for");
        req.inline = true;
        assert_eq!(
            inline_script(&req).as_deref(),
            Some("set -- 'a b' 'it'\\''s'\necho \"$2\"")
        );
        req.chdir = Some("/tmp".into());
        assert_eq!(inline_script(&req), None);
    }

    #[test]
    fn a_format_starting_with_a_dash_is_no_option() {
        let data = b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n--x\n";
        let mut fmt = String::new();
        push_printf_format(&mut fmt, data);
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("printf '{fmt}'"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, data);
    }

    #[test]
    fn printf_formats_print_the_exact_bytes_in_the_local_sh() {
        let mut data: Vec<u8> = (1..=255u8).collect();
        data.extend_from_slice(b"%s%%\\c\\0477'\n1");
        let mut fmt = String::new();
        push_printf_format(&mut fmt, &data);
        assert!(fmt.is_ascii() && !fmt.contains('\'') && !fmt.contains('\n'));
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("printf '{fmt}'"))
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, data);
    }

    #[test]
    fn base64_only_for_nul_or_large_non_ascii_data() {
        assert!(needs_base64(b"a\0b"));
        assert!(
            !needs_base64("é".repeat(1000).as_bytes()),
            "small data: always printf"
        );
        assert!(!needs_base64(&b"plain text\n".repeat(20_000)));
        assert!(needs_base64("é".repeat(100_000).as_bytes()));
    }

    #[test]
    fn status_marker_is_cut_off_even_without_a_trailing_newline_in_output() {
        let mut buf = b"partial outputTOK 3\n".to_vec();
        assert_eq!(take_status(&mut buf, 0, b"TOK "), Some(ExitStatus::Code(3)));
        assert_eq!(buf, b"partial output");
    }

    #[test]
    fn status_waits_for_the_whole_marker_line() {
        let mut buf = b"outTOK 1".to_vec();
        assert_eq!(take_status(&mut buf, 0, b"TOK "), None);
        buf.extend_from_slice(b"27\n");
        assert_eq!(take_status(&mut buf, 0, b"TOK "), Some(ExitStatus::Code(127)));
        assert_eq!(buf, b"out");
    }
}
