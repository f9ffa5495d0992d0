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

/// The full command line for a request, and the bytes to send on stdin.
///
/// Shape: `sudo -n -H -u USER -- /bin/sh -c 'cd DIR && exec env K=V ARGV'` (each part only when
/// needed). With a become password, `sudo -S -p ''` reads it as the first line of stdin, before
/// the request's own stdin.
pub fn command_line(req: &ExecRequest) -> (String, Option<Vec<u8>>) {
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
            let mut line = String::from("sudo ");
            if let Some(pw) = &b.password {
                use secrecy::ExposeSecret;
                line.push_str("-S -p '' ");
                let mut data = pw.expose_secret().as_bytes().to_vec();
                data.push(b'\n');
                data.extend(stdin.take().unwrap_or_default());
                stdin = Some(data);
            } else {
                line.push_str("-n ");
            }
            line.push_str("-H -u ");
            line.push_str(&quote(&b.user));
            line.push_str(" -- ");
            if needs_shell {
                line.push_str("/bin/sh -c ");
                line.push_str(&quote(&inner));
            } else {
                line.push_str(&inner);
            }
            line
        }
    };
    (line, stdin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Become;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("abc/def.txt"), "abc/def.txt");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn become_password_goes_to_stdin_not_argv() {
        let req = ExecRequest::argv(["id"]).with_become(Some(Become {
            user: "root".into(),
            password: Some(secrecy::SecretString::from("s3cret")),
        }));
        let (line, stdin) = command_line(&req);
        assert!(!line.contains("s3cret"));
        assert_eq!(stdin.as_deref(), Some(&b"s3cret\n"[..]));
        assert_eq!(line, "sudo -S -p '' -H -u root -- id");
    }

    #[test]
    fn chdir_and_env_wrap_in_sh() {
        let mut req = ExecRequest::argv(["ls", "-l"]);
        req.chdir = Some("/tmp/x y".into());
        req.env = vec![("A".into(), "1 2".into())];
        let (line, _) = command_line(&req);
        assert_eq!(
            line,
            "/bin/sh -c 'cd '\\''/tmp/x y'\\'' && exec env '\\''A=1 2'\\'' ls -l'"
        );
    }
}
