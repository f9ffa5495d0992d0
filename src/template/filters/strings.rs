//! Jinja2 builtins minijinja lacks (`truncate`, `center`, `wordcount`) and ansible-core's
//! `to_uuid`, `md5`, `realpath`, `relpath` (controller-side paths, as `os.path`).

use md5::Digest as _;
use minijinja::Error;
use minijinja::value::{Rest, Value, ValueOrKwargs};

use super::{Args, err, str_of};

/// ansible-core's UUID_NAMESPACE_ANSIBLE.
const ANSIBLE_NAMESPACE: &str = "361E6D51-FAEC-444A-9079-341386DA8E2E";

/// Jinja2's `truncate(length=255, killwords=False, end='...', leeway=5)`.
pub(super) fn truncate(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let s = str_of(&value);
    let length = args.get(0, "length").and_then(|v| v.as_i64()).unwrap_or(255);
    let killwords = args.flag(1, "killwords");
    let end = args.str(2, "end").unwrap_or_else(|| "...".to_string());
    let leeway = args.get(3, "leeway").and_then(|v| v.as_i64()).unwrap_or(5);
    let end_len = end.chars().count() as i64;
    if length < end_len {
        return Err(err(format!("expected length >= {end_len}, got {length}")));
    }
    if leeway < 0 {
        return Err(err(format!("expected leeway >= 0, got {leeway}")));
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.len() as i64 <= length + leeway {
        return Ok(Value::from(s));
    }
    let head: String = chars[..(length - end_len) as usize].iter().collect();
    if killwords {
        return Ok(Value::from(head + &end));
    }
    let kept = head
        .rsplit_once(' ')
        .map_or(head.as_str(), |(a, _)| a)
        .to_string();
    Ok(Value::from(kept + &end))
}

/// Python's `str.center(width)` (CPython puts the odd space on the left when `width` is odd).
pub(super) fn center(value: Value, rest: Rest<ValueOrKwargs>) -> Value {
    let s = str_of(&value);
    let width = Args::new(rest)
        .get(0, "width")
        .and_then(|w| w.as_i64())
        .unwrap_or(80)
        .max(0) as usize;
    let len = s.chars().count();
    if width <= len {
        return Value::from(s);
    }
    let marg = width - len;
    let left = marg / 2 + (marg & width & 1);
    Value::from(format!("{}{s}{}", " ".repeat(left), " ".repeat(marg - left)))
}

/// Jinja2's `wordcount`: the number of `\w+` runs.
pub(super) fn wordcount(value: Value) -> usize {
    let s = str_of(&value);
    let mut n = 0;
    let mut in_word = false;
    for c in s.chars() {
        let w = c.is_alphanumeric() || c == '_';
        if w && !in_word {
            n += 1;
        }
        in_word = w;
    }
    n
}

/// ansible-core's `to_uuid(string, namespace=UUID_NAMESPACE_ANSIBLE)`: `uuid.uuid5`.
pub(super) fn to_uuid(value: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let ns = Args::new(rest)
        .str(0, "namespace")
        .unwrap_or_else(|| ANSIBLE_NAMESPACE.to_string());
    let ns_bytes = hex::decode(ns.replace('-', "").trim_start_matches("urn:uuid:"))
        .ok()
        .filter(|b| b.len() == 16)
        .ok_or_else(|| {
            err(format!(
                "Invalid value '{ns}' for 'namespace': badly formed hexadecimal UUID string"
            ))
        })?;
    let mut h = sha1::Sha1::new();
    sha1::Digest::update(&mut h, &ns_bytes);
    sha1::Digest::update(&mut h, str_of(&value).as_bytes());
    let d = sha1::Digest::finalize(h);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    ))
}

/// ansible-core's `md5`: the hex MD5 of the text.
pub(super) fn md5(value: Value) -> String {
    hex::encode(md5::Md5::digest(str_of(&value).as_bytes()))
}

/// `os.path.normpath` of an absolute or relative path (no file system access).
fn normpath(p: &str) -> String {
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// `os.path.abspath` against the controller's working folder.
fn abspath(p: &str) -> String {
    if p.starts_with('/') {
        return normpath(p);
    }
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "/".to_string());
    normpath(&format!("{cwd}/{p}"))
}

/// `os.path.realpath` on the controller: links resolved where the path exists, the rest
/// normalised.
pub(super) fn realpath(value: Value) -> String {
    let p = abspath(&str_of(&value));
    if let Ok(real) = std::fs::canonicalize(&p) {
        return real.display().to_string();
    }
    // The longest existing prefix resolved, the rest appended as written.
    let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    for cut in (0..parts.len()).rev() {
        let head = format!("/{}", parts[..cut].join("/"));
        if let Ok(real) = std::fs::canonicalize(&head) {
            let tail = parts[cut..].join("/");
            let base = real.display().to_string();
            return normpath(&format!("{}/{tail}", base.trim_end_matches('/')));
        }
    }
    p
}

/// `os.path.relpath(path, start='.')`.
pub(super) fn relpath(value: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let start = Args::new(rest).str(0, "start");
    let path = str_of(&value);
    if path.is_empty() {
        return Err(err("no path specified"));
    }
    let target = abspath(&path);
    let start = abspath(start.as_deref().unwrap_or("."));
    let t: Vec<&str> = target.split('/').filter(|s| !s.is_empty()).collect();
    let s: Vec<&str> = start.split('/').filter(|s| !s.is_empty()).collect();
    let common = t.iter().zip(&s).take_while(|(a, b)| a == b).count();
    let mut out: Vec<&str> = vec![".."; s.len() - common];
    out.extend(&t[common..]);
    Ok(if out.is_empty() {
        ".".to_string()
    } else {
        out.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn width(n: i64) -> Rest<ValueOrKwargs> {
        Rest(vec![ValueOrKwargs::from(Value::from(n))])
    }

    fn width_str(s: &str) -> Rest<ValueOrKwargs> {
        Rest(vec![ValueOrKwargs::from(Value::from(s))])
    }

    #[test]
    fn jinja_text_filters_as_jinja2() {
        assert_eq!(center(Value::from("hi"), width(8)).to_string(), "   hi   ");
        assert_eq!(center(Value::from("abc"), width(6)).to_string(), " abc  ");
        assert_eq!(center(Value::from("ab"), width(5)).to_string(), "  ab ");
        assert_eq!(wordcount(Value::from("a b  c_d, é!")), 4);
    }

    #[test]
    fn uuid_md5_and_paths_as_python() {
        assert_eq!(
            to_uuid(Value::from("x"), Rest(Vec::new())).unwrap(),
            "66b2f013-1baa-5313-9c8c-e6f1182e0e90"
        );
        assert_eq!(md5(Value::from("x")), "9dd4e461268c8034f5c8564e155c67a6");
        assert_eq!(normpath("/a/b/../c/./"), "/a/c");
        assert_eq!(normpath("../a/.."), "..");
        assert_eq!(relpath(Value::from("/a/b/c"), width_str("/a")).unwrap(), "b/c");
        assert_eq!(relpath(Value::from("/a"), width_str("/a/b/c")).unwrap(), "../..");
        assert_eq!(realpath(Value::from("/nonexistent-x/b/../c")), "/nonexistent-x/c");
    }
}
