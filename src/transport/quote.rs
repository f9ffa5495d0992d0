//! Quoting for the remote POSIX shell, and the one place a command line is built.
//!
//! An SSH `exec` request carries one string that the login shell parses, so every argument is
//! single-quoted on its own (DESIGN habit 8). Secrets never pass through here: they travel on
//! stdin.

use super::ExecRequest;

/// Quotes one argument for a POSIX shell: safe words stay as they are, everything else is put in
/// single quotes with embedded `'` written as `'\''`.
pub fn quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b))
    {
        return arg.to_string();
    }
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('\'');
    for c in arg.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Quotes and joins an argv.
pub fn join(argv: &[String]) -> String {
    argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

/// Why [`split`] refused a text: the two errors of Python's `shlex`, with its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A `'` or `"` is never closed.
    #[error("No closing quotation")]
    NoClosingQuotation,
    /// The text ends with a backslash that has nothing to escape.
    #[error("No escaped character")]
    NoEscapedCharacter,
}

/// Splits text into words like Python's `shlex.split(s)` (POSIX mode, no comments): the one
/// splitter for a command's free-form text (`ansible.builtin.command`), `validate` commands and
/// shell-style arguments.
///
/// Outside quotes whitespace separates and a backslash escapes any character; inside `'...'`
/// nothing is special; inside `"..."` a backslash escapes only `"` and `\` (otherwise it stays).
/// Quotes glue onto the surrounding word, and `''` is an empty word.
///
/// Errors: [`SplitError`], Python's two messages.
pub fn split(s: &str) -> Result<Vec<String>, SplitError> {
    split_words(s, false)
}

/// [`split`] with `#` starting a comment that runs to the end of the text (outside quotes, also
/// in the middle of a word), like Python's `shlex.split(s, comments=True)`: how ansible-core's INI
/// inventory splits a host line.
pub fn split_with_comments(s: &str) -> Result<Vec<String>, SplitError> {
    split_words(s, true)
}

fn split_words(s: &str, comments: bool) -> Result<Vec<String>, SplitError> {
    #[derive(PartialEq)]
    enum St {
        Space,
        Word,
        Single,
        Double,
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut st = St::Space;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match st {
            St::Space | St::Word => match c {
                c if c.is_whitespace() => {
                    if st == St::Word {
                        out.push(std::mem::take(&mut cur));
                        st = St::Space;
                    }
                }
                '#' if comments => break,
                '\'' => st = St::Single,
                '"' => st = St::Double,
                '\\' => match chars.next() {
                    Some(n) => {
                        cur.push(n);
                        st = St::Word;
                    }
                    None => return Err(SplitError::NoEscapedCharacter),
                },
                c => {
                    cur.push(c);
                    st = St::Word;
                }
            },
            St::Single => match c {
                '\'' => st = St::Word,
                c => cur.push(c),
            },
            St::Double => match c {
                '"' => st = St::Word,
                '\\' => match chars.peek() {
                    Some(&n) if n == '"' || n == '\\' => {
                        cur.push(n);
                        chars.next();
                    }
                    Some(_) => cur.push('\\'),
                    None => return Err(SplitError::NoEscapedCharacter),
                },
                c => cur.push(c),
            },
        }
    }
    match st {
        St::Single | St::Double => Err(SplitError::NoClosingQuotation),
        St::Word => {
            out.push(cur);
            Ok(out)
        }
        St::Space => Ok(out),
    }
}

/// The full command line for a request, and the bytes to send on stdin.
///
/// Shape: `sudo -n -H -u USER -- /bin/sh -c 'cd DIR && exec env K=V ARGV'` (each part only when
/// needed). With a become password the line is [`askpass_wrapper`]'s POSIX shell code around
/// `sudo -A`, and the password is the first line of stdin, read by the wrapper's shell (never by
/// sudo or the command): it reaches sudo only when sudo asks for it.
///
/// Errors: the OS random source for the run's askpass directory name cannot be read.
pub fn command_line(req: &ExecRequest) -> std::io::Result<(String, Option<Vec<u8>>)> {
    let mut inner = String::new();
    if let Some(dir) = &req.chdir {
        inner.push_str("cd ");
        inner.push_str(&quote(dir));
        inner.push_str(" && exec ");
    }
    if !req.env.is_empty() {
        inner.push_str("env ");
        for (k, v) in &req.env {
            inner.push_str(&quote(&format!("{k}={v}")));
            inner.push(' ');
        }
    }
    inner.push_str(&join(&req.argv));
    let needs_shell = req.chdir.is_some();
    let mut stdin = req.stdin.clone();
    let line = match &req.become_ {
        None if needs_shell => format!("/bin/sh -c {}", quote(&inner)),
        None => inner,
        Some(b) => {
            let mut sudo = String::new();
            sudo.push_str(if b.password.is_some() { "-A" } else { "-n" });
            sudo.push_str(" -H -u ");
            sudo.push_str(&quote(&b.user));
            sudo.push_str(" -- ");
            if needs_shell {
                sudo.push_str("/bin/sh -c ");
                sudo.push_str(&quote(&inner));
            } else {
                sudo.push_str(&inner);
            }
            match &b.password {
                Some(pw) => {
                    use secrecy::ExposeSecret;
                    let mut data = pw.expose_secret().as_bytes().to_vec();
                    data.push(b'\n');
                    data.extend(stdin.take().unwrap_or_default());
                    stdin = Some(data);
                    format!("/bin/sh -c {}", quote(&askpass_wrapper(askpass_dir()?, &sudo)))
                }
                None => format!("sudo {sudo}"),
            }
        }
    };
    Ok((line, stdin))
}

/// The name of this run's askpass directory (`$HOME/.talon-become-ID` on the host): random per
/// talon process (64 bits), so no other user can guess and prepare it.
fn askpass_dir() -> std::io::Result<&'static str> {
    static DIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(d) = DIR.get() {
        return Ok(d);
    }
    let d = format!(".talon-become-{}", crate::osenv::random_hex(8)?);
    Ok(DIR.get_or_init(|| d))
}

/// The shell command that removes this run's askpass directory on a host (run when a connection
/// that used a become password closes; the directory holds no secret, only the askpass script
/// and unused FIFOs).
pub fn askpass_cleanup() -> Option<String> {
    let dir = askpass_dir().ok()?;
    Some(format!("rm -rf \"${{HOME:-/tmp}}\"/{dir}"))
}

/// POSIX shell code that gives a become password to `sudo -A` only if sudo asks for it.
///
/// Why: `sudo -S` reads the password from the command's own stdin, and only until the
/// credential is cached (or never, under `NOPASSWD`); after that the password line became the
/// command's data (written into files, given to `docker login --password-stdin`). Here the
/// wrapper's shell reads the first stdin line itself (`read` builtin: no argv, no disk), and a
/// background subshell offers it on a FIFO (mode 0600, in a 0700 directory owned by the login
/// user) that the askpass script `cat`s. sudo runs askpass only when it needs a password; when it
/// does not, the offer is withdrawn (the writer is killed) and the rest of stdin reaches the
/// command untouched. The writer unlinks the FIFO as soon as askpass opens it, so a wrong
/// password fails at once (askpass finds no FIFO: "no password was provided") instead of
/// hanging on a second prompt. The directory lives under `$HOME` (a `noexec` `/tmp` would stop
/// the askpass script) and is created once per run and host; `$$` names the FIFO per shell.
fn askpass_wrapper(dir: &str, sudo_args: &str) -> String {
    format!(
        concat!(
            "IFS= read -r p || exit 125\n",
            "D=\"${{HOME:-/tmp}}/{dir}\"; F=\"$D/f$$\"\n",
            "if ! [ -x \"$D/ask\" ]; then\n",
            "  mkdir -m 700 \"$D\" 2>/dev/null\n",
            "  [ -d \"$D\" ] && [ -O \"$D\" ] && [ ! -L \"$D\" ] || {{ echo \"talon: cannot create $D for the become password\" >&2; exit 125; }}\n",
            "  printf '#!/bin/sh\\nexec cat \"$TALON_BECOME_FIFO\"\\n' >\"$D/ask.$$\" && chmod 700 \"$D/ask.$$\" && mv -f \"$D/ask.$$\" \"$D/ask\" || exit 125\n",
            "fi\n",
            "[ -p \"$F\" ] || mkfifo -m 600 \"$F\" || exit 125\n",
            "(exec >\"$F\"; rm -f \"$F\"; printf '%s\\n' \"$p\") & w=$!\n",
            "p=\n",
            "TALON_BECOME_FIFO=\"$F\" SUDO_ASKPASS=\"$D/ask\" sudo {sudo_args}\n",
            "r=$?; kill \"$w\" 2>/dev/null; wait \"$w\" 2>/dev/null; exit \"$r\"",
        ),
        dir = dir,
        sudo_args = sudo_args,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Become;

    #[test]
    fn split_like_python_shlex() {
        assert_eq!(split("ls -l /tmp").unwrap(), ["ls", "-l", "/tmp"]);
        assert_eq!(split("echo 'a b'  \"c d\"").unwrap(), ["echo", "a b", "c d"]);
        assert_eq!(split("a'b c'd").unwrap(), ["ab cd"]);
        assert_eq!(split("echo '' x").unwrap(), ["echo", "", "x"]);
        assert_eq!(split(r#"echo "a\"b\\c\d""#).unwrap(), ["echo", r#"a"b\c\d"#]);
        assert_eq!(split(r"a\ b c\$").unwrap(), ["a b", "c$"]);
        assert_eq!(split("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split("visudo -cf %s").unwrap(), ["visudo", "-cf", "%s"]);
        assert_eq!(
            split(r#"sh -c 'test -s "%s"' x"#).unwrap(),
            ["sh", "-c", r#"test -s "%s""#, "x"]
        );
        assert_eq!(split("a#b").unwrap(), ["a#b"]);
        assert_eq!(split(r#"a\ b "c\"d" ''"#).unwrap(), ["a b", "c\"d", ""]);
        assert_eq!(split("echo 'x").unwrap_err().to_string(), "No closing quotation");
        assert_eq!(split("echo x\\").unwrap_err().to_string(), "No escaped character");
        assert_eq!(split("echo \"x\\").unwrap_err(), SplitError::NoEscapedCharacter);
    }

    #[test]
    fn split_with_comments_stops_at_hash() {
        assert_eq!(
            split_with_comments(r#"web1 a="x y" b='q' c=d\ e # tail"#).unwrap(),
            ["web1", "a=x y", "b=q", "c=d e"]
        );
        assert_eq!(split_with_comments("h a=b#c").unwrap(), ["h", "a=b"]);
        assert_eq!(split_with_comments("h a='#x'").unwrap(), ["h", "a=#x"]);
        assert!(split_with_comments("h a='x").is_err());
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("abc/def.txt"), "abc/def.txt");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("/a/b-c.d"), "/a/b-c.d");
        assert_eq!(quote("/a b/it's"), r"'/a b/it'\''s'");
        assert_eq!(quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn become_password_goes_to_stdin_not_argv() {
        let req = ExecRequest::argv(["id"]).with_become(Some(Become {
            user: "root".into(),
            password: Some(secrecy::SecretString::from("s3cret")),
        }));
        let (line, stdin) = command_line(&req).unwrap();
        assert!(!line.contains("s3cret"));
        assert_eq!(stdin.as_deref(), Some(&b"s3cret\n"[..]));
        assert!(line.starts_with("/bin/sh -c "), "{line}");
        assert!(line.contains("sudo -A -H -u root -- id"), "{line}");
    }

    #[test]
    fn chdir_and_env_wrap_in_sh() {
        let mut req = ExecRequest::argv(["ls", "-l"]);
        req.chdir = Some("/tmp/x y".into());
        req.env = vec![("A".into(), "1 2".into())];
        let (line, _) = command_line(&req).unwrap();
        assert_eq!(
            line,
            "/bin/sh -c 'cd '\\''/tmp/x y'\\'' && exec env '\\''A=1 2'\\'' ls -l'"
        );
    }
}
