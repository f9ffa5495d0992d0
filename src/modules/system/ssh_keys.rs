//! The authorized_keys model of `ansible.posix.authorized_key`, pure: lines parsed into keys
//! ([`parse_key`], [`parse_options`]), the keys a task wants merged into or removed from a
//! file's ([`edit`]), written back ([`serialize`]). Each function does what the module's
//! Python function of the same name does, quirks included (comment lines collapse when equal,
//! a key without a comment is written with a trailing space), so that talon writes the same
//! bytes.

use std::collections::BTreeMap;

/// The key types ansible.posix.authorized_key recognises (its `VALID_SSH2_KEY_TYPES`).
const KEY_TYPES: &[&str] = &[
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ssh-ed25519@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "ssh-ed25519",
    "ssh-ed25519-cert-v01@openssh.com",
    "ssh-dss",
    "ssh-rsa",
    "ssh-xmss@openssh.com",
    "ssh-xmss-cert-v01@openssh.com",
    "rsa-sha2-256",
    "rsa-sha2-512",
    "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
];

/// The `type` of a line kept as it is (a comment, a blank or unknown line).
const SKIPPED: &str = "skipped";

/// Key options in their order, duplicates kept (the module's `keydict`): `name` or
/// `name=value` pairs. Two option lists are equal as the module's dicts compare: per name the
/// same values in the same order, whatever the order of the names.
#[derive(Debug, Clone, Default)]
pub struct Options(pub Vec<(String, Option<String>)>);

impl Options {
    fn grouped(&self) -> BTreeMap<&str, Vec<Option<&str>>> {
        let mut m: BTreeMap<&str, Vec<Option<&str>>> = BTreeMap::new();
        for (k, v) in &self.0 {
            m.entry(k.as_str()).or_default().push(v.as_deref());
        }
        m
    }
}

impl PartialEq for Options {
    fn eq(&self, other: &Self) -> bool {
        self.grouped() == other.grouped()
    }
}

/// One parsed line (the module's tuple `(key, type, options, comment, rank)`): for a key, its
/// base64 text, type, options and comment; for a line kept as is, the line, type `skipped` and
/// no options or comment. `rank` orders the lines when written.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key's base64 text, or the whole line of a skipped one (its identity in the file).
    pub id: String,
    /// The key type, or `skipped`.
    pub ktype: String,
    /// The key's options (`None` for a skipped line).
    pub options: Option<Options>,
    /// The text after the key, words joined by one space (`None` for a skipped line).
    pub comment: Option<String>,
    /// Where the line goes when the file is written.
    pub rank: usize,
}

impl Entry {
    /// The module's `tuple[:4] == tuple[:4]`: everything but the rank.
    fn same(&self, other: &Entry) -> bool {
        self.id == other.id
            && self.ktype == other.ktype
            && self.options == other.options
            && self.comment == other.comment
    }
}

/// Where the module's Python raises instead of returning: talon reports it as ansible-core
/// 2.19 reports a module's exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A key type with nothing after it: `key_parts[type_index + 1]` raises `IndexError`.
    #[error("Task failed: Module failed: list index out of range")]
    NoKeyAfterType,
    /// A line of the task's `key` that holds no key type (the module's `fail_json`).
    #[error("invalid key specified: {0}")]
    Invalid(String),
}

/// Python's `str.splitlines(keepends)`: every line boundary Python knows (`\n`, `\r\n`, `\r`,
/// `\v`, `\f`, `\x1c`-`\x1e`, `\x85`, `\u2028`, `\u2029`).
pub fn py_splitlines(s: &str, keepends: bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let boundary = matches!(
            c,
            '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}'
        );
        if !boundary {
            continue;
        }
        let mut end = i + c.len_utf8();
        if c == '\r'
            && let Some((j, '\n')) = it.peek().copied()
        {
            it.next();
            end = j + 1;
        }
        out.push(if keepends { &s[start..end] } else { &s[start..i] });
        start = end;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// The module's `parseoptions`: `options` split on commas outside double or single quotes
/// (its `re.split` of `((?:[^,"']|"[^"]*"|'[^']*')+)`, the separators between matches kept
/// as parts and dropped when they are exactly `,`), each part `name=value` or `name`.
pub fn parse_options(options: &str) -> Options {
    // The matches of the module's regex, leftmost first, each as long as it goes.
    let b = options.as_bytes();
    let match_at = |mut q: usize| {
        while q < b.len() {
            match b[q] {
                b',' => break,
                quote @ (b'"' | b'\'') => match b[q + 1..].iter().position(|&c| c == quote) {
                    Some(n) => q += n + 2,
                    None => break,
                },
                _ => q += 1,
            }
        }
        q
    };
    let mut parts: Vec<&str> = Vec::new();
    let (mut p, mut last) = (0, 0);
    let mut first = true;
    while p < b.len() {
        let end = match_at(p);
        if end > p {
            if !first {
                parts.push(&options[last..p]);
            }
            parts.push(&options[p..end]);
            first = false;
            last = end;
            p = end;
        } else {
            p += 1;
        }
    }
    let mut out = Vec::new();
    for part in parts {
        match part.split_once('=') {
            Some((k, v)) => out.push((k.to_string(), Some(v.to_string()))),
            None if part != "," => out.push((part.to_string(), None)),
            None => {}
        }
    }
    Options(out)
}

/// The module's `parsekey` of one line (`raw`, its line ending kept for a file's line):
/// `\#` read as `#`; words split on spaces, tabs, CR and LF (its `shlex` without quotes);
/// a first word `#` makes a skipped line; the first known key type splits options (before)
/// from the key (after) and the comment (the rest). `Ok(None)`: no key type in the line.
///
/// Errors: [`KeyError::NoKeyAfterType`] for a key type that ends the line.
pub fn parse_key(raw: &str, rank: usize) -> Result<Option<Entry>, KeyError> {
    let raw = raw.replace(r"\#", "#");
    let parts: Vec<&str> = raw
        .split([' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
        .collect();
    if parts.first() == Some(&"#") {
        return Ok(Some(Entry {
            id: raw.clone(),
            ktype: SKIPPED.into(),
            options: None,
            comment: None,
            rank,
        }));
    }
    let Some(ti) = parts.iter().position(|p| KEY_TYPES.contains(p)) else {
        return Ok(None);
    };
    let options = if ti > 0 {
        parse_options(&parts[..ti].join(" "))
    } else {
        Options::default()
    };
    let key = parts.get(ti + 1).ok_or(KeyError::NoKeyAfterType)?;
    Ok(Some(Entry {
        id: (*key).to_string(),
        ktype: parts[ti].to_string(),
        options: Some(options),
        comment: Some(parts[ti + 2..].join(" ")),
        rank,
    }))
}

/// The keys of a file in the module's dict: identity -> entry, in first-seen order; a later
/// line with the same identity replaces the entry where it stands.
#[derive(Debug, Clone, Default)]
pub struct Keys(Vec<Entry>);

impl Keys {
    fn position(&self, id: &str) -> Option<usize> {
        self.0.iter().position(|e| e.id == id)
    }
    fn get(&self, id: &str) -> Option<&Entry> {
        self.0.iter().find(|e| e.id == id)
    }
    fn set(&mut self, e: Entry) {
        match self.position(&e.id) {
            Some(i) => self.0[i] = e,
            None => self.0.push(e),
        }
    }
    fn remove(&mut self, id: &str) -> bool {
        match self.position(id) {
            Some(i) => {
                self.0.remove(i);
                true
            }
            None => false,
        }
    }
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True without entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The module's `parsekeys`: every line of a file (Python's `splitlines(True)`), numbered.
///
/// Errors: [`KeyError::NoKeyAfterType`] as [`parse_key`].
pub fn parse_keys(content: &str) -> Result<Keys, KeyError> {
    let mut keys = Keys::default();
    for (rank, line) in py_splitlines(content, true).into_iter().enumerate() {
        let e = parse_key(line, rank)?.unwrap_or_else(|| Entry {
            id: line.to_string(),
            ktype: SKIPPED.into(),
            options: None,
            comment: None,
            rank,
        });
        keys.set(e);
    }
    Ok(keys)
}

/// The module's `serialize`: entries by rank (ties in dict order), a skipped line as it was,
/// a key as `[OPTIONS ]TYPE KEY COMMENT\n` (the space before an empty comment kept).
pub fn serialize(keys: &Keys) -> String {
    let mut entries: Vec<&Entry> = keys.0.iter().collect();
    entries.sort_by_key(|e| e.rank);
    let mut out = String::new();
    for e in entries {
        if e.ktype == SKIPPED {
            out.push_str(&e.id);
            continue;
        }
        if let Some(opts) = e.options.as_ref().filter(|o| !o.0.is_empty()) {
            let words: Vec<String> = opts
                .0
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={v}"),
                    None => k.clone(),
                })
                .collect();
            out.push_str(&words.join(","));
            out.push(' ');
        }
        let comment = e.comment.as_deref().unwrap_or("None");
        out.push_str(&format!("{} {} {comment}\n", e.ktype, e.id));
    }
    out
}

/// What a task asks of the file's keys.
#[derive(Debug, Clone, Default)]
pub struct Want<'a> {
    /// The `key` text: one key per line; blank lines and lines starting with `#` are left out.
    pub keys: &'a str,
    /// `key_options`: replaces every given key's options.
    pub key_options: Option<&'a str>,
    /// `comment`: replaces every given key's comment.
    pub comment: Option<&'a str>,
    /// `state: present` (else absent).
    pub present: bool,
    /// `exclusive`: with present, every other line goes.
    pub exclusive: bool,
}

/// The module's `enforce_state` on the file's `existing` text: `Some(new text)` when it
/// writes (even when the text comes out the same), `None` when nothing is to change. New keys
/// go after the existing lines in the order given; a known key whose type, options or comment
/// differ is replaced there too; absent removes the given keys; exclusive removes every line
/// (comments too) but the given keys.
///
/// Errors: [`KeyError::Invalid`] for a line of `key` without a key type;
/// [`KeyError::NoKeyAfterType`] where the module's Python raises.
pub fn edit(existing: &str, want: &Want<'_>) -> Result<Option<String>, KeyError> {
    let mut keys = parse_keys(existing)?;
    let new_keys: Vec<&str> = py_splitlines(want.keys, false)
        .into_iter()
        .filter(|s| !s.is_empty() && !s.starts_with('#'))
        .collect();
    let max_rank = keys.len();
    let mut keep: Vec<String> = Vec::new();
    let mut write = false;
    for (rank, line) in new_keys.into_iter().enumerate() {
        let mut parsed = parse_key(line, rank)?.ok_or_else(|| KeyError::Invalid(line.to_string()))?;
        if let Some(o) = want.key_options {
            parsed.options = Some(parse_options(o));
        }
        if let Some(c) = want.comment {
            parsed.comment = Some(c.to_string());
        }
        let mut matched = false;
        let mut differing: Option<String> = None;
        if let Some(old) = keys.get(&parsed.id) {
            if !parsed.same(old) && want.present {
                differing = Some(old.id.clone());
            } else {
                matched = true;
            }
        }
        if want.present {
            keep.push(parsed.id.clone());
            if let Some(id) = differing
                && keys.remove(&id)
            {
                write = true;
            }
            if !matched {
                parsed.rank += max_rank;
                keys.set(parsed);
                write = true;
            }
        } else if matched {
            keys.remove(&parsed.id);
            write = true;
        }
    }
    if want.present && want.exclusive {
        let before = keys.len();
        keys.0.retain(|e| keep.contains(&e.id));
        write |= keys.len() != before;
    }
    Ok(write.then(|| serialize(&keys)))
}

/// The path of a `file` URL as Python's `urlparse(key).path` reads it: after the scheme and
/// an authority (`//host`), before a query or fragment.
pub fn url_path(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    let rest = match url.split_once(':') {
        Some((scheme, rest))
            if scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            rest
        }
        _ => url,
    };
    match rest.strip_prefix("//") {
        Some(auth) => auth.find('/').map_or("", |i| &auth[i..]),
        None => rest,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const K1: &str = "ssh-ed25519 AAAAone one@talon";
    const K2: &str = "ssh-rsa AAAAtwo two@talon";

    fn want(keys: &str) -> Want<'_> {
        Want {
            keys,
            present: true,
            ..Want::default()
        }
    }

    fn opts(pairs: &[(&str, Option<&str>)]) -> Options {
        Options(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
        )
    }

    #[test]
    fn options_split_on_commas_outside_quotes() {
        assert_eq!(
            parse_options(r#"no-pty,from="10.0.0.1,10.0.0.2",command="echo a,b""#).0,
            opts(&[
                ("no-pty", None),
                ("from", Some(r#""10.0.0.1,10.0.0.2""#)),
                ("command", Some(r#""echo a,b""#)),
            ])
            .0
        );
        assert_eq!(
            parse_options("a='x,y',b").0,
            opts(&[("a", Some("'x,y'")), ("b", None)]).0
        );
        // Separators other than one comma are kept as option names, as the module's re.split.
        assert_eq!(
            parse_options("a,,b").0,
            opts(&[("a", None), (",,", None), ("b", None)]).0
        );
        assert!(parse_options("").0.is_empty());
        assert!(parse_options(",").0.is_empty());
        // An unclosed quote stops a match: the quote is a separator.
        assert_eq!(
            parse_options("a\"b").0,
            opts(&[("a", None), ("\"", None), ("b", None)]).0
        );
    }

    #[test]
    fn options_compare_as_the_modules_dicts() {
        assert_eq!(parse_options("a,b=1"), parse_options("b=1,a"));
        assert_ne!(parse_options("a,b=1"), parse_options("a,b=2"));
        assert_ne!(parse_options("a=1,a=2"), parse_options("a=2,a=1"));
    }

    #[test]
    fn keys_parse_with_options_and_comments() {
        let e = parse_key("no-pty,x=\"1\" ssh-ed25519 AAAA a comment here\n", 3)
            .unwrap()
            .unwrap();
        assert_eq!(
            (e.id.as_str(), e.ktype.as_str(), e.rank),
            ("AAAA", "ssh-ed25519", 3)
        );
        assert_eq!(e.comment.as_deref(), Some("a comment here"));
        assert_eq!(e.options, Some(opts(&[("no-pty", None), ("x", Some("\"1\""))])));
        let e = parse_key("ssh-rsa BBBB", 0).unwrap().unwrap();
        assert_eq!(e.comment.as_deref(), Some(""));
        assert_eq!(e.options, Some(Options::default()));
    }

    #[test]
    fn comment_lines_are_skipped_and_unknown_lines_are_none() {
        let e = parse_key("# a comment\n", 1).unwrap().unwrap();
        assert_eq!((e.ktype.as_str(), e.id.as_str()), ("skipped", "# a comment\n"));
        // `#word` is no comment word: the line has no key type.
        assert!(parse_key("#ssh-rsa\n", 0).unwrap().is_none());
        assert!(parse_key("not a key\n", 0).unwrap().is_none());
        assert!(parse_key("\n", 0).unwrap().is_none());
        // `\#` reads as `#`.
        assert_eq!(parse_key(r"\# x", 0).unwrap().unwrap().id, "# x");
    }

    #[test]
    fn a_type_without_a_key_raises() {
        assert_eq!(parse_key("ssh-rsa\n", 0).unwrap_err(), KeyError::NoKeyAfterType);
        assert_eq!(
            edit("ssh-rsa\n", &want(K1)).unwrap_err(),
            KeyError::NoKeyAfterType
        );
    }

    #[test]
    fn a_key_is_appended_once() {
        let once = edit("", &want(K1)).unwrap().unwrap();
        assert_eq!(once, format!("{K1}\n"));
        assert_eq!(edit(&once, &want(K1)).unwrap(), None);
        let two = edit(&once, &want(K2)).unwrap().unwrap();
        assert_eq!(two, format!("{K1}\n{K2}\n"));
    }

    #[test]
    fn several_keys_in_one_text_skip_blank_and_comment_lines() {
        let text = format!("{K1}\n# c\n\n{K2}\n");
        assert_eq!(edit("", &want(&text)).unwrap().unwrap(), format!("{K1}\n{K2}\n"));
    }

    #[test]
    fn a_key_without_comment_keeps_the_modules_trailing_space() {
        assert_eq!(
            edit("", &want("ssh-rsa CCCC")).unwrap().unwrap(),
            "ssh-rsa CCCC \n"
        );
    }

    #[test]
    fn a_known_key_with_other_options_or_comment_moves_to_the_end() {
        let file = format!("{K1}\n{K2}\n# tail\n");
        let w = Want {
            key_options: Some("no-pty"),
            comment: Some("renamed"),
            ..want(K1)
        };
        assert_eq!(
            edit(&file, &w).unwrap().unwrap(),
            format!("{K2}\n# tail\nno-pty ssh-ed25519 AAAAone renamed\n")
        );
    }

    #[test]
    fn invalid_lines_are_kept_and_equal_ones_collapse() {
        let file = "junk\n# c\njunk\n# c\n";
        // Both `junk` lines are one entry (rank 2, of the last), as are both comments (rank
        // 3): two entries, so the new key's rank is 2 and it lands before the comment (as the
        // module's serialize does: checked against its Python).
        assert_eq!(
            edit(file, &want(K1)).unwrap().unwrap(),
            format!("junk\n{K1}\n# c\n")
        );
    }

    #[test]
    fn absent_removes_only_given_keys() {
        let file = format!("# c\n{K1}\n{K2}\n");
        let w = Want {
            present: false,
            ..want(K1)
        };
        assert_eq!(edit(&file, &w).unwrap().unwrap(), format!("# c\n{K2}\n"));
        assert_eq!(edit(&format!("{K2}\n"), &w).unwrap(), None);
        // Absent matches by the key alone: other options or comment do not matter.
        let w = Want {
            present: false,
            ..want("ssh-ed25519 AAAAone another comment")
        };
        assert_eq!(edit(&file, &w).unwrap().unwrap(), format!("# c\n{K2}\n"));
    }

    #[test]
    fn exclusive_removes_every_other_line() {
        let file = format!("# c\n{K1}\nx\n{K2}\n");
        let w = Want {
            exclusive: true,
            ..want(K2)
        };
        assert_eq!(edit(&file, &w).unwrap().unwrap(), format!("{K2}\n"));
        assert_eq!(edit(&format!("{K2}\n"), &w).unwrap(), None);
    }

    #[test]
    fn an_invalid_key_fails() {
        assert_eq!(
            edit("", &want("not-a-key AAAA")).unwrap_err(),
            KeyError::Invalid("not-a-key AAAA".into())
        );
        assert_eq!(
            KeyError::Invalid("x".into()).to_string(),
            "invalid key specified: x"
        );
    }

    #[test]
    fn splitlines_knows_pythons_boundaries() {
        assert_eq!(py_splitlines("a\nb\r\nc\rd", true), ["a\n", "b\r\n", "c\r", "d"]);
        assert_eq!(py_splitlines("a\x0bb\u{2028}c\n", false), ["a", "b", "c"]);
        assert!(py_splitlines("", true).is_empty());
        assert_eq!(py_splitlines("\n\n", false), ["", ""]);
    }

    #[test]
    fn file_urls_give_their_path() {
        assert_eq!(url_path("file:///tmp/k.pub"), "/tmp/k.pub");
        assert_eq!(url_path("file:/tmp/k.pub"), "/tmp/k.pub");
        assert_eq!(url_path("file://host/tmp/k.pub?x#y"), "/tmp/k.pub");
        assert_eq!(url_path("filename"), "filename");
    }
}
