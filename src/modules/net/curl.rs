//! HTTP requests made by the host itself with its `curl`, for `get_url` (and later `uri`), shaped
//! as ansible-core's `fetch_url` reports them: the status, the reason, the response headers
//! (lower-cased, repeated ones joined with ", "), the final URL and the message (`OK (N bytes)`,
//! `HTTP Error 404: Not Found`, `Request failed: ...`).
//!
//! The controller never fetches on the host's behalf. curl reads its whole configuration
//! (URL, headers, credentials) from stdin (`-K -`), so a password or token in a header never
//! reaches a command line on the host. HTTP/1.1 is asked for, as Python's urllib speaks it (so a
//! reason phrase always comes back).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::modules::args::Args;
use crate::modules::{ModuleError, sysutil};

/// What a request asks for, from the url_argument_spec options ansible-core's modules share.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `url`.
    pub url: String,
    /// `GET`, `HEAD`, `POST`, ...
    pub method: String,
    /// `headers` (name, value), in order.
    pub headers: Vec<(String, String)>,
    /// `url_username` / `url_password`.
    pub user: Option<(String, String)>,
    /// `force_basic_auth`: send the credentials without waiting for a 401 challenge.
    pub force_basic_auth: bool,
    /// `validate_certs`.
    pub validate_certs: bool,
    /// `use_proxy`: false ignores the host's `*_proxy` variables.
    pub use_proxy: bool,
    /// `http_agent`.
    pub agent: String,
    /// `timeout`, seconds (the whole transfer; urllib's is per socket operation).
    pub timeout: u64,
    /// `client_cert` / `client_key` (paths on the host).
    pub client_cert: Option<String>,
    /// See `client_cert`.
    pub client_key: Option<String>,
    /// `ciphers` (OpenSSL names).
    pub ciphers: Vec<String>,
    /// Follow redirects (ansible-core's `urllib2`/`all`/`yes`/`safe` for GET and HEAD).
    pub follow: bool,
    /// `decompress`: ask for gzip and decompress it.
    pub decompress: bool,
    /// `use_netrc`: credentials from the host's `~/.netrc` when none are given.
    pub use_netrc: bool,
    /// Send `If-Modified-Since` with this HTTP date.
    pub if_modified_since: Option<String>,
    /// The request body, sent as it is (`--data-raw`).
    pub body: Option<String>,
    /// A file on the host sent as the body (`--data-binary @FILE`).
    pub body_file: Option<String>,
    /// `unix_socket`: connect through this socket on the host.
    pub unix_socket: Option<String>,
    /// `ca_path`: the CA bundle on the host.
    pub ca_path: Option<String>,
}

/// curl's config-file quoting: a double-quoted string with `\\`, `\"`, `\n`, `\r`, `\t` escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Request {
    /// A request for `url` with `method` and the options ansible-core's url_argument_spec gives
    /// every URL module (`headers`, `url_username`/`url_password`, `force_basic_auth`,
    /// `validate_certs`, `use_proxy`, `http_agent`, `timeout` (default `timeout` seconds),
    /// `client_cert`, `client_key`, `ciphers`, `decompress`, `use_netrc`) read from `a`;
    /// `force` adds `cache-control: no-cache`, as `open_url` does. Errors: `headers` that is not
    /// a mapping.
    pub fn from_args(a: &Args<'_>, url: &str, method: &str, timeout: i64) -> Result<Request, ModuleError> {
        let mut headers: Vec<(String, String)> = match a.value("headers") {
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| (k.clone(), crate::vars::as_string(v)))
                .collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(_) => return Err(a.bad("headers must be a dictionary")),
        };
        if a.bool("force", false)? {
            headers.push(("cache-control".to_string(), "no-cache".to_string()));
        }
        let user = match a.str("url_username")? {
            Some(u) => Some((u, a.str("url_password")?.unwrap_or_default())),
            None => None,
        };
        Ok(Request {
            url: url.to_string(),
            method: method.to_string(),
            headers,
            user,
            force_basic_auth: a.bool("force_basic_auth", false)?,
            validate_certs: a.bool("validate_certs", true)?,
            use_proxy: a.bool("use_proxy", true)?,
            agent: a
                .str("http_agent")?
                .unwrap_or_else(|| "ansible-httpget".to_string()),
            timeout: a.i64("timeout")?.unwrap_or(timeout).max(0) as u64,
            client_cert: a.str("client_cert")?,
            client_key: a.str("client_key")?,
            ciphers: a.list("ciphers")?.unwrap_or_default(),
            follow: true,
            decompress: a.bool("decompress", true)?,
            use_netrc: a.bool("use_netrc", true)?,
            ..Request::default()
        })
    }

    /// The curl configuration for this request (read by `curl -K -`): it holds the secrets, so
    /// it travels on stdin only.
    pub fn config(&self) -> String {
        let mut c = String::new();
        let mut line = |k: &str, v: Option<&str>| {
            c.push_str(k);
            if let Some(v) = v {
                c.push_str(" = ");
                c.push_str(&quote(v));
            }
            c.push('\n');
        };
        line("url", Some(&self.url));
        line("http1.1", None);
        match self.method.as_str() {
            "HEAD" => line("head", None),
            "GET" => {}
            m => line("request", Some(m)),
        }
        line("user-agent", Some(&self.agent));
        for (k, v) in &self.headers {
            line("header", Some(&format!("{k}: {v}")));
        }
        if let Some(date) = &self.if_modified_since {
            line("header", Some(&format!("If-Modified-Since: {date}")));
        }
        if let Some((u, p)) = &self.user {
            line("user", Some(&format!("{u}:{p}")));
            line(if self.force_basic_auth { "basic" } else { "anyauth" }, None);
        } else if self.use_netrc {
            line("netrc-optional", None);
        }
        if !self.validate_certs {
            line("insecure", None);
        }
        if !self.use_proxy {
            line("noproxy", Some("*"));
        }
        if self.timeout > 0 {
            line("max-time", Some(&self.timeout.to_string()));
        }
        if let Some(cert) = &self.client_cert {
            line("cert", Some(cert));
        }
        if let Some(key) = &self.client_key {
            line("key", Some(key));
        }
        if !self.ciphers.is_empty() {
            line("ciphers", Some(&self.ciphers.join(":")));
        }
        if self.follow {
            line("location", None);
            // urllib's HTTPRedirectHandler gives up after 10 redirections.
            line("max-redirs", Some("10"));
        }
        if self.decompress {
            line("compressed", None);
        }
        if let Some(b) = &self.body {
            line("data-raw", Some(b));
        }
        if let Some(f) = &self.body_file {
            line("data-binary", Some(&format!("@{f}")));
        }
        if let Some(sock) = &self.unix_socket {
            line("unix-socket", Some(sock));
        }
        if let Some(ca) = &self.ca_path {
            line("cacert", Some(ca));
        }
        c
    }
}

/// The shell function `fetch OUT` for a script with its marker in `$M`: runs curl with the
/// configuration on stdin, the body into OUT, and prints sections `curl` (curl's exit code, the
/// status code and the final URL), `headers` (every response's header block, as received) and
/// `curlerr` (curl's error text). Needs `mktemp`.
pub const FETCH_FN: &str = r#"fetch() {
  h=$(mktemp "${TMPDIR:-/tmp}/talon-hdr.XXXXXXXX") || return 1
  w=$(curl -K - -sS -o "$1" -D "$h" -w '%{http_code} %{url_effective}' 2>"$h.err"); rc=$?
  printf '%s curl\n%s %s\n' "$M" "$rc" "$w"
  printf '%s headers\n' "$M"; cat "$h"
  printf '%s curlerr\n' "$M"; cat "$h.err"
  rm -f "$h" "$h.err"
}
"#;

/// A response as `fetch_url`'s `info` describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    /// The HTTP status; -1 when there was no response (connection refused, timeout, TLS).
    pub status: i64,
    /// The final URL (after redirects), masked as ansible-core's `mask_url`.
    pub url: String,
    /// Lower-cased header names, repeated headers joined with ", " (the last response only).
    pub headers: BTreeMap<String, String>,
    /// `OK (N bytes)`, `HTTP Error CODE: REASON`, or `Request failed: WHY`.
    pub msg: String,
    /// The cookies every response of the chain set (`Set-Cookie`), name and value, in order.
    pub cookies: Vec<(String, String)>,
}

/// Reads the sections [`FETCH_FN`] printed. `None` when they are missing (the script did not
/// run fetch).
pub fn parse(secs: &[(&str, &str)], requested: &str) -> Option<Response> {
    let curl = sysutil::section(secs, "curl")?;
    let mut words = curl.trim().splitn(3, ' ');
    let rc: i64 = words.next()?.parse().ok()?;
    let code: i64 = words.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    let effective = words.next().unwrap_or(requested).to_string();
    let raw_headers = sysutil::section(secs, "headers").unwrap_or("");
    let err = sysutil::section(secs, "curlerr").unwrap_or("").trim();
    let (reason, headers) = last_block(raw_headers);
    let mut r = Response {
        status: code,
        url: mask_url(if effective.is_empty() {
            requested
        } else {
            &effective
        }),
        headers,
        msg: String::new(),
        cookies: set_cookies(raw_headers),
    };
    // A transfer curl could not finish (no answer, timeout, a body cut short) is no response.
    if rc != 0 {
        r.status = -1;
        let why = err.strip_prefix("curl: ").unwrap_or(err);
        r.msg = format!("Request failed: {why}");
        return Some(r);
    }
    if (200..300).contains(&code) {
        let len = r.headers.get("content-length").map_or("unknown", String::as_str);
        r.msg = format!("OK ({len} bytes)");
    } else {
        r.msg = format!("HTTP Error {code}: {reason}");
    }
    Some(r)
}

/// The reason phrase and headers of the last response in curl's `-D` output (one block per
/// response when redirects were followed).
fn last_block(raw: &str) -> (String, BTreeMap<String, String>) {
    let mut reason = String::new();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for line in raw.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with("HTTP/") {
            reason = line.splitn(3, ' ').nth(2).unwrap_or("").to_string();
            headers.clear();
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim().to_string();
            headers
                .entry(k)
                .and_modify(|e| {
                    e.push_str(", ");
                    e.push_str(&v);
                })
                .or_insert(v);
        }
    }
    (reason, headers)
}

/// The name and value of every `Set-Cookie` header in curl's `-D` output, in order.
fn set_cookies(raw: &str) -> Vec<(String, String)> {
    raw.lines()
        .filter_map(|line| {
            let (k, v) = line.trim_end_matches('\r').split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("set-cookie") {
                return None;
            }
            let pair = v.trim().split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            Some((name.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

/// ansible-core's `mask_url`: credentials in the URL become `****`.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (netloc, tail) = rest.split_at(end);
    let Some((cred, host)) = netloc.rsplit_once('@') else {
        return url.to_string();
    };
    let masked = if cred.contains(':') { "****:****" } else { "****" };
    format!("{scheme}://{masked}@{host}{tail}")
}

/// ansible-core's `url_filename`: the last part of the URL's path, `index.html` when empty.
pub fn url_filename(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest
        .find('/')
        .map_or("", |i| &rest[i..])
        .split(['?', '#'])
        .next()
        .unwrap_or("");
    match path.rsplit('/').next() {
        Some(f) if !f.is_empty() => f.to_string(),
        _ => "index.html".to_string(),
    }
}

/// The `filename` parameter of a `Content-Disposition` header, without folders, as
/// `email.message`'s `get_param` reads the common forms (`attachment; filename="a.tgz"`).
pub fn disposition_filename(headers: &BTreeMap<String, String>) -> Option<String> {
    let cd = headers.get("content-disposition")?;
    cd.split(';').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("filename") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        let base = v.rsplit('/').next().unwrap_or(v);
        (!base.is_empty()).then(|| base.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_carries_secrets_and_options_quoted() {
        let r = Request {
            url: "http://h/x".into(),
            method: "GET".into(),
            headers: vec![("X-Token".into(), "a\"b".into())],
            user: Some(("u".into(), "p w".into())),
            agent: "ansible-httpget".into(),
            timeout: 10,
            follow: true,
            use_proxy: false,
            validate_certs: true,
            ..Default::default()
        };
        let c = r.config();
        assert!(c.contains("url = \"http://h/x\"\n"), "{c}");
        assert!(c.contains("header = \"X-Token: a\\\"b\"\n"), "{c}");
        assert!(c.contains("user = \"u:p w\"\nanyauth\n"), "{c}");
        assert!(
            c.contains("noproxy = \"*\"\n") && c.contains("max-time = \"10\"\n"),
            "{c}"
        );
        assert!(
            c.contains("location\nmax-redirs = \"10\"\n") && !c.contains("insecure"),
            "{c}"
        );
    }

    #[test]
    fn responses_read_as_fetch_url_reports_them() {
        let text = "__m curl\n0 200 http://h/b\n__m headers\nHTTP/1.0 301 Moved Permanently\r\nLocation: /b\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n__m curlerr\n";
        let secs = sysutil::sections(text, "__m");
        let r = parse(&secs, "http://h/a").unwrap();
        assert_eq!(
            (r.status, r.url.as_str(), r.msg.as_str()),
            (200, "http://h/b", "OK (5 bytes)")
        );
        assert_eq!(r.headers.get("set-cookie").map(String::as_str), Some("a=1, b=2"));
        assert!(!r.headers.contains_key("location"));
        let text =
            "__m curl\n0 404 http://h/x\n__m headers\nHTTP/1.0 404 File not found\r\n\r\n__m curlerr\n";
        let r = parse(&sysutil::sections(text, "__m"), "http://h/x").unwrap();
        assert_eq!(r.msg, "HTTP Error 404: File not found");
        let text = "__m curl\n7 000 http://h:1/\n__m headers\n__m curlerr\ncurl: (7) Failed to connect\n";
        let r = parse(&sysutil::sections(text, "__m"), "http://h:1/").unwrap();
        assert_eq!(
            (r.status, r.msg.as_str()),
            (-1, "Request failed: (7) Failed to connect")
        );
    }

    #[test]
    fn urls_are_masked_and_named_as_ansible() {
        assert_eq!(mask_url("https://u:p@h/x?q"), "https://****:****@h/x?q");
        assert_eq!(mask_url("https://u@h/x"), "https://****@h/x");
        assert_eq!(mask_url("https://h/x"), "https://h/x");
        assert_eq!(url_filename("http://h/a/b.tgz?x=1"), "b.tgz");
        assert_eq!(url_filename("http://h/a/"), "index.html");
        assert_eq!(url_filename("http://h"), "index.html");
        let mut h = BTreeMap::new();
        h.insert(
            "content-disposition".into(),
            "attachment; filename=\"../x.tgz\"".into(),
        );
        assert_eq!(disposition_filename(&h).as_deref(), Some("x.tgz"));
    }
}
