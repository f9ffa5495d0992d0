//! Recognises a port that answers with something other than SSH (an SMTP greeting, an HTTP
//! error page, a database handshake) during the connect, so the error says so at once instead of
//! waiting out the connect timeout.
//!
//! An SSH server's first line is its identification `SSH-2.0-...` (RFC 4253 §4.2); the RFC lets a
//! server send other lines before it, so a non-SSH first line gets [`GRACE`] for the
//! identification to follow before it is an error. Only the first [`WATCH_LIMIT`] bytes are
//! looked at; after the identification the stream is passed through untouched.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How long a non-SSH first line may stand before the identification follows.
pub const GRACE: Duration = Duration::from_millis(1500);

/// Bytes of the server's first output kept to decide (OpenSSH allows 255-byte lines).
const WATCH_LIMIT: usize = 4096;

#[derive(Default)]
struct Seen {
    bytes: Vec<u8>,
    /// An `SSH-` line arrived, or more than [`WATCH_LIMIT`] bytes did: no longer watched.
    decided: bool,
}

/// What a [`Watched`] stream saw the server send before its SSH identification.
#[derive(Clone, Default)]
pub struct Watch(Arc<Mutex<Seen>>);

impl Watch {
    /// The server's first line, when it is complete and not an SSH identification and no
    /// identification followed yet; shown escaped and at most 80 characters long.
    pub fn non_ssh_line(&self) -> Option<String> {
        let seen = self.0.lock().ok()?;
        if seen.decided {
            return None;
        }
        let first = match seen.bytes.iter().position(|&b| b == b'\n') {
            Some(end) => &seen.bytes[..end],
            // A partial line with a byte no identification holds is decided already.
            None if seen.bytes.iter().any(|&b| b == 0 || b >= 0x80) => &seen.bytes[..],
            None => return None,
        };
        let first = first.strip_suffix(b"\r").unwrap_or(first);
        let text: String = String::from_utf8_lossy(first).escape_debug().take(80).collect();
        Some(text)
    }

    /// Completes with the server's first line once it is not SSH and no identification followed
    /// within [`GRACE`]; never completes for an SSH server.
    pub async fn non_ssh_banner(&self) -> String {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if self.non_ssh_line().is_some() {
                tokio::time::sleep(GRACE).await;
                if let Some(line) = self.non_ssh_line() {
                    return line;
                }
            }
        }
    }

    fn saw(&self, data: &[u8]) {
        let Ok(mut seen) = self.0.lock() else { return };
        if seen.decided || data.is_empty() {
            return;
        }
        seen.bytes.extend_from_slice(data);
        let ssh_line = seen.bytes.starts_with(b"SSH-") || seen.bytes.windows(5).any(|w| w == b"\nSSH-");
        if ssh_line || seen.bytes.len() > WATCH_LIMIT {
            seen.decided = true;
            seen.bytes = Vec::new();
        }
    }
}

/// A stream whose incoming bytes are shown to a [`Watch`] until the server identified itself.
pub struct Watched<S> {
    inner: S,
    watch: Watch,
}

/// Wraps `inner`; the returned [`Watch`] reports a non-SSH first line.
pub fn watch<S>(inner: S) -> (Watched<S>, Watch) {
    let watch = Watch::default();
    (
        Watched {
            inner,
            watch: watch.clone(),
        },
        watch,
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.watch.saw(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(chunks: &[&[u8]]) -> Option<String> {
        let w = Watch::default();
        for c in chunks {
            w.saw(c);
        }
        w.non_ssh_line()
    }

    #[test]
    fn an_ssh_identification_is_not_reported() {
        assert_eq!(seen(&[b"SSH-2.0-OpenSSH_9.2p1\r\n"]), None);
        assert_eq!(
            seen(&[b"SSH-2.0-Open", b"SSH_9.2p1\r\n", b"\x00\x00binary"]),
            None
        );
        // Pre-identification lines followed by the identification (RFC 4253 4.2).
        assert_eq!(seen(&[b"welcome\r\n", b"SSH-2.0-x\r\n"]), None);
    }

    #[test]
    fn a_foreign_greeting_is_reported_escaped() {
        assert_eq!(
            seen(&[b"220 smtp.example ESMTP ready\r\n"]).as_deref(),
            Some("220 smtp.example ESMTP ready")
        );
        assert_eq!(
            seen(&[b"HTTP/1.0 400 Bad", b" Request\r\nServer: x\r\n"]).as_deref(),
            Some("HTTP/1.0 400 Bad Request")
        );
        // A binary handshake (MySQL's starts with a length) without a newline.
        assert_eq!(seen(&[b"J\x00\x00\x00\n8.0"]).as_deref(), Some("J\\0\\0\\0"));
        assert_eq!(seen(&[b"\x0a\x00\xff"]).as_deref(), Some(""));
        // Incomplete text line: undecided yet.
        assert_eq!(seen(&[b"220 smtp"]), None);
    }
}
