//! ansible-core's `urlsplit` filter: Python's `urllib.parse.urlsplit` (3.11) re-done as it
//! parses, not a WHATWG URL parser (the `url` crate normalises paths, hosts and ports where
//! Python keeps the text as written), with the `SplitResult` attributes ansible-core returns.

use std::net::IpAddr;

use minijinja::Error;
use minijinja::value::Value;

use super::err;

/// The parts of a URL and the netloc attributes, as Python's `SplitResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitUrl {
    /// Lower-cased scheme, `""` when none.
    pub scheme: String,
    /// `user:password@host:port` as written.
    pub netloc: String,
    /// The path as written.
    pub path: String,
    /// After `?`, without it.
    pub query: String,
    /// After `#`, without it.
    pub fragment: String,
}

/// C0 controls and space, stripped from the start (WHATWG).
fn c0_or_space(c: char) -> bool {
    c <= ' '
}

/// `urllib.parse.urlsplit(url)`; errors in Python's words.
pub fn urlsplit(url: &str) -> Result<SplitUrl, String> {
    let mut url: String = url
        .trim_start_matches(c0_or_space)
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut scheme = String::new();
    if let Some(i) = url.find(':')
        && i > 0
        && url.starts_with(|c: char| c.is_ascii_alphabetic())
        && url[..i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        scheme = url[..i].to_ascii_lowercase();
        url = url[i + 1..].to_string();
    }
    let mut netloc = String::new();
    if url.starts_with("//") {
        let delim = url[2..].find(['/', '?', '#']).map_or(url.len(), |d| d + 2);
        netloc = url[2..delim].to_string();
        url = url[delim..].to_string();
        let (open, close) = (netloc.contains('['), netloc.contains(']'));
        if open != close {
            return Err("Invalid IPv6 URL".into());
        }
        if open {
            let host = netloc
                .split_once('[')
                .map_or("", |(_, b)| b.split_once(']').map_or(b, |(h, _)| h));
            check_bracketed_host(host)?;
        }
    }
    let mut fragment = String::new();
    if let Some((u, f)) = url.split_once('#') {
        fragment = f.to_string();
        url = u.to_string();
    }
    let mut query = String::new();
    if let Some((u, q)) = url.split_once('?') {
        query = q.to_string();
        url = u.to_string();
    }
    Ok(SplitUrl {
        scheme,
        netloc,
        path: url,
        query,
        fragment,
    })
}

/// Python's `_check_bracketed_host`: an IPv6 address (a `%zone` allowed) or `vX.future`.
fn check_bracketed_host(host: &str) -> Result<(), String> {
    if let Some(rest) = host.strip_prefix('v') {
        let ok = rest.split_once('.').is_some_and(|(hex, tail)| {
            !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) && !tail.is_empty()
        });
        return if ok {
            Ok(())
        } else {
            Err("IPvFuture address is invalid".into())
        };
    }
    let (addr, zone) = match host.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (host, None),
    };
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) if zone.is_none_or(|z| !z.is_empty() && !z.contains('/')) => Ok(()),
        Ok(IpAddr::V4(_)) if zone.is_none() => Err("An IPv4 address cannot be in brackets".into()),
        _ => Err(format!("'{host}' does not appear to be an IPv4 or IPv6 address")),
    }
}

impl SplitUrl {
    fn userinfo(&self) -> (Option<&str>, Option<&str>) {
        match self.netloc.rsplit_once('@') {
            Some((info, _)) => match info.split_once(':') {
                Some((u, p)) => (Some(u), Some(p)),
                None => (Some(info), None),
            },
            None => (None, None),
        }
    }

    fn hostinfo(&self) -> (&str, Option<&str>) {
        let hostinfo = self
            .netloc
            .rsplit_once('@')
            .map_or(self.netloc.as_str(), |(_, h)| h);
        let (host, port) = match hostinfo.split_once('[') {
            Some((_, bracketed)) => {
                let (h, rest) = bracketed.split_once(']').unwrap_or((bracketed, ""));
                (h, rest.split_once(':').map_or("", |(_, p)| p))
            }
            None => hostinfo.split_once(':').unwrap_or((hostinfo, "")),
        };
        (host, Some(port).filter(|p| !p.is_empty()))
    }

    /// `hostname`: lower-cased (an IPv6 zone kept as written), `None` when empty.
    pub fn hostname(&self) -> Option<String> {
        let (host, _) = self.hostinfo();
        if host.is_empty() {
            return None;
        }
        Some(match host.split_once('%') {
            Some((h, zone)) => format!("{}%{zone}", h.to_lowercase()),
            None => host.to_lowercase(),
        })
    }

    /// `port`: an integer 0-65535, `None` when absent; Python's errors otherwise.
    pub fn port(&self) -> Result<Option<u16>, String> {
        let Some(port) = self.hostinfo().1 else {
            return Ok(None);
        };
        if !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("Port could not be cast to integer value as '{port}'"));
        }
        let digits = port.trim_start_matches('0');
        match digits.parse::<u32>() {
            Ok(p) if p <= 65535 => Ok(Some(p as u16)),
            Err(_) if digits.is_empty() => Ok(Some(0)),
            _ => Err("Port out of range 0-65535".into()),
        }
    }
}

/// ansible-core's `urlsplit(query='')`: the dict of all parts (keys in Python's `dir()`
/// order), or the one part named; an unknown part is an error.
pub(super) fn urlsplit_filter(value: String, query: Option<String>) -> Result<Value, Error> {
    let parts = urlsplit(&value).map_err(err)?;
    let (username, password) = parts.userinfo();
    let opt = |s: Option<&str>| s.map_or(Value::from(()), Value::from);
    let port = parts.port().map_err(err)?.map_or(Value::from(()), Value::from);
    let all = [
        ("fragment", Value::from(parts.fragment.as_str())),
        ("hostname", parts.hostname().map_or(Value::from(()), Value::from)),
        ("netloc", Value::from(parts.netloc.as_str())),
        ("password", opt(password)),
        ("path", Value::from(parts.path.as_str())),
        ("port", port),
        ("query", Value::from(parts.query.as_str())),
        ("scheme", Value::from(parts.scheme.as_str())),
        ("username", opt(username)),
    ];
    match query.filter(|q| !q.is_empty()) {
        None => Ok(Value::from(
            all.into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<std::collections::BTreeMap<_, _>>(),
        )),
        Some(q) => all
            .into_iter()
            .find(|(k, _)| *k == q)
            .map(|(_, v)| v)
            .ok_or_else(|| err(format!("urlsplit: unknown URL component: {q}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(u: &str) -> (String, String, String, String, String) {
        let s = urlsplit(u).unwrap();
        (s.scheme, s.netloc, s.path, s.query, s.fragment)
    }

    fn owned(a: [&str; 5]) -> (String, String, String, String, String) {
        let [a, b, c, d, e] = a.map(String::from);
        (a, b, c, d, e)
    }

    #[test]
    fn splits_as_python() {
        // Each expected tuple is urllib.parse.urlsplit's on Python 3.11.
        let cases = [
            (
                "http://user:password@www.acme.com:9000/dir/index.html?query=term#fragment",
                [
                    "http",
                    "user:password@www.acme.com:9000",
                    "/dir/index.html",
                    "query=term",
                    "fragment",
                ],
            ),
            ("HTTP://Example.COM", ["http", "Example.COM", "", "", ""]),
            ("example.com:80/x", ["example.com", "", "80/x", "", ""]),
            ("1http://x", ["", "", "1http://x", "", ""]),
            ("/a/b?c#d?e", ["", "", "/a/b", "c", "d?e"]),
            ("  \thttps://h/p\n", ["https", "h", "/p", "", ""]),
            ("mailto:a@b", ["mailto", "", "a@b", "", ""]),
            ("http://[::1]:8080/", ["http", "[::1]:8080", "/", "", ""]),
            ("file:///etc/x", ["file", "", "/etc/x", "", ""]),
        ];
        for (url, want) in cases {
            assert_eq!(split(url), owned(want), "{url}");
        }
    }

    #[test]
    fn netloc_attributes_as_python() {
        let s = urlsplit("ssh://Bob:pw:x@[FE80::1%eTh0]:022").unwrap();
        assert_eq!(s.userinfo(), (Some("Bob"), Some("pw:x")));
        assert_eq!(s.hostname().as_deref(), Some("fe80::1%eTh0"));
        assert_eq!(s.port(), Ok(Some(22)));
        let s = urlsplit("http://h:x/").unwrap();
        assert_eq!(
            s.port().unwrap_err(),
            "Port could not be cast to integer value as 'x'"
        );
        assert_eq!(
            urlsplit("http://h:70000").unwrap().port().unwrap_err(),
            "Port out of range 0-65535"
        );
        assert_eq!(urlsplit("http://h:/").unwrap().port(), Ok(None));
        assert_eq!(urlsplit("http://[::1/").unwrap_err(), "Invalid IPv6 URL");
        assert_eq!(
            urlsplit("http://[1.2.3.4]/").unwrap_err(),
            "An IPv4 address cannot be in brackets"
        );
        assert_eq!(urlsplit("http://@/").unwrap().hostname(), None);
    }
}
