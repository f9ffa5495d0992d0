//! The INI inventory format (`hosts`, `[group]`, `[group:vars]`, `[group:children]`).
//!
//! Most hand-written Ansible inventories are INI files, so talon must read them exactly as
//! ansible-core's `ini` inventory plugin does, including its value typing: every value, on host
//! lines and in `[group:vars]` alike, goes through Python's `ast.literal_eval` and stays a string
//! when that fails (`port=22` is the integer 22, `flag=True` a boolean, `flag=yes` and `mode=0644`
//! strings). Host lines are split like `shlex.split(comments=True)`, so `a="x y"` keeps its space
//! and `#` ends the line; `[group:vars]` lines split at the first `=` and keep the rest whole.

use serde_json::{Map, Number, Value};

use super::{Builder, InventoryError};
use crate::yaml::Mark;

/// What the current section declares.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Hosts,
    Vars,
    Children,
}

/// A group named before it was declared: `[x:vars]` (must be declared somewhere in the file) or a
/// child in `[p:children]` (declared later by `[x]` or `[x:children]`).
struct Pending {
    mark: Mark,
    vars_only: bool,
    parents: Vec<String>,
}

/// Parses INI inventory text into `b`; `file` names the source for marks.
///
/// Errors: an unknown section type (`[g:foo]`), a malformed section line, a host line token
/// without `=`, unbalanced quotes, a `[g:vars]` line without `=`, a bad host range, or a group
/// used in `[g:vars]`/`[p:children]` that is never declared; each with file:line:column.
pub(super) fn parse(text: &str, mark0: &Mark, b: &mut Builder) -> Result<(), InventoryError> {
    let mut group = "ungrouped".to_string();
    let mut state = State::Hosts;
    let mut pending: Vec<(String, Pending)> = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let at = |column: usize| Mark {
            file: mark0.file.clone(),
            line: idx as u64 + 1,
            column: column as u64,
        };
        let indent = raw.len() - raw.trim_start().len() + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            let (name, tag) = section(line).ok_or_else(|| {
                InventoryError::parse(
                    at(indent),
                    format!("invalid section line '{line}'"),
                    "write sections as [group], [group:vars] or [group:children], with no spaces inside the brackets",
                )
            })?;
            state = match tag {
                None | Some("hosts") => State::Hosts,
                Some("vars") => State::Vars,
                Some("children") => State::Children,
                Some(other) => {
                    return Err(InventoryError::parse(
                        at(indent),
                        format!("section [{name}:{other}] has unknown type '{other}'"),
                        "use [group], [group:vars] or [group:children]",
                    ));
                }
            };
            group = name.to_string();
            if !b.has_group(&group) {
                if state == State::Vars && !pending.iter().any(|(g, _)| *g == group) {
                    pending.push((
                        group.clone(),
                        Pending {
                            mark: at(indent),
                            vars_only: true,
                            parents: Vec::new(),
                        },
                    ));
                }
                b.add_group(&group);
            }
            if state != State::Vars {
                resolve_pending(&group, &mut pending, b);
            }
            continue;
        }
        match state {
            State::Hosts => host_line(line, at(indent), &group, b)?,
            State::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(InventoryError::parse(
                        at(indent),
                        format!("expected key=value in [{group}:vars], got '{line}'"),
                        "write one variable per line as name=value",
                    ));
                };
                b.set_group_var(
                    &group,
                    var_name(k.trim(), at(indent))?,
                    literal_or_string(v.trim()),
                );
            }
            State::Children => {
                let child = line.split('#').next().unwrap_or("").trim();
                if child.is_empty() || child.contains([':', ']']) || child.split_whitespace().count() != 1 {
                    return Err(InventoryError::parse(
                        at(indent),
                        format!("expected a group name in [{group}:children], got '{line}'"),
                        "list one child group name per line",
                    ));
                }
                if b.has_group(child) {
                    b.declare_child(&group, child, &at(indent));
                } else if let Some((_, p)) = pending.iter_mut().find(|(g, _)| g == child) {
                    p.parents.push(group.clone());
                    p.vars_only = false;
                } else {
                    pending.push((
                        child.to_string(),
                        Pending {
                            mark: at(indent),
                            vars_only: false,
                            parents: vec![group.clone()],
                        },
                    ));
                }
            }
        }
    }
    if let Some((name, p)) = pending.into_iter().next() {
        let (what, fix) = if p.vars_only {
            (
                format!("section [{name}:vars] is for group '{name}', which is not defined"),
                format!("declare the group with a [{name}] or [{name}:children] section, or fix the name"),
            )
        } else {
            (
                format!(
                    "section [{}:children] includes group '{name}', which is not defined",
                    p.parents.last().map_or("?", String::as_str)
                ),
                format!("declare the group with a [{name}] section (it may be empty), or fix the name"),
            )
        };
        return Err(InventoryError::parse(p.mark, what, &fix));
    }
    Ok(())
}

/// A group declared by `[g]` or `[g:children]`: attach it to the parents that named it earlier,
/// and recursively their own pending parents.
fn resolve_pending(group: &str, pending: &mut Vec<(String, Pending)>, b: &mut Builder) {
    let Some(pos) = pending.iter().position(|(g, _)| g == group) else {
        return;
    };
    let (_, p) = pending.remove(pos);
    for parent in p.parents {
        b.declare_child(&parent, group, &p.mark);
        resolve_pending(&parent, pending, b);
    }
}

/// `[name]` or `[name:tag]` with an optional trailing `# comment`.
fn section(line: &str) -> Option<(&str, Option<&str>)> {
    let close = line.find(']')?;
    let rest = line[close + 1..].trim_start();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let inner = &line[1..close];
    let (name, tag) = match inner.split_once(':') {
        Some((n, t)) => (n, Some(t)),
        None => (inner, None),
    };
    let name_ok = !name.is_empty() && !name.contains(char::is_whitespace);
    let tag_ok = tag.is_none_or(|t| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_'));
    (name_ok && tag_ok).then_some((name, tag))
}

/// A host line: `pattern[:port] [k=v ...] [# comment]`.
fn host_line(line: &str, at: Mark, group: &str, b: &mut Builder) -> Result<(), InventoryError> {
    let tokens = crate::transport::quote::split_with_comments(line).map_err(|e| {
        InventoryError::parse(
            at.clone(),
            format!("cannot split host line '{line}': {e}"),
            "close every quote in the line",
        )
    })?;
    let Some((first, rest)) = tokens.split_first() else {
        return Ok(());
    };
    if first.trim() == "---" {
        return Err(InventoryError::parse(
            at,
            "'---' is not a host; this looks like a YAML file read as INI".to_string(),
            "give YAML inventories a .yml or .yaml extension",
        ));
    }
    let mut vars = Map::new();
    for t in rest {
        let Some((k, v)) = t.split_once('=') else {
            return Err(InventoryError::parse(
                at,
                format!("expected key=value host variable, got '{t}' on the line for '{first}'"),
                "write host variables as name=value, quoting values that contain spaces",
            ));
        };
        vars.insert(var_name(k, at.clone())?.to_string(), literal_or_string(v));
    }
    b.add_host_entry(first, Some(group), vars, &at)
}

/// A variable name from an INI line: not empty, and no control characters (a NUL byte or an
/// escape cannot be part of a name any template could use).
fn var_name(name: &str, at: Mark) -> Result<&str, InventoryError> {
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(InventoryError::parse(
            at,
            format!(
                "invalid variable name {name:?}: a name cannot be empty or hold control characters (such as a NUL byte)"
            ),
            "write variables as name=value with a name of letters, digits and '_'",
        ));
    }
    Ok(name)
}

/// The value of an INI inventory variable: Python `ast.literal_eval(text)` when that succeeds
/// (numbers, quoted strings, `True`/`False`/`None`, lists, tuples, dicts, sets), else the text.
///
/// Matches ansible-core `ini` `_parse_value`: tuples and sets become lists, `...` and complex
/// numbers stay text.
pub fn literal_or_string(text: &str) -> Value {
    let mut p = Py {
        s: text.trim_start_matches([' ', '\t']).as_bytes(),
        i: 0,
    };
    match p.expr() {
        Some(v) => {
            p.skip_ws();
            if p.i == p.s.len() {
                v
            } else {
                Value::String(text.to_string())
            }
        }
        None => Value::String(text.to_string()),
    }
}

/// A recursive-descent reader for the Python literal subset `ast.literal_eval` accepts.
struct Py<'a> {
    s: &'a [u8],
    i: usize,
}

impl Py<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips spaces, tabs, newlines and a `# comment` (literal_eval parses Python source).
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' {
                self.i += 1;
            } else if c == b'#' {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }

    fn expr(&mut self) -> Option<Value> {
        self.skip_ws();
        match self.peek()? {
            b'[' => {
                self.i += 1;
                Some(Value::Array(self.items(b']')?))
            }
            b'(' => {
                self.i += 1;
                let start = self.i;
                // `(x)` is x; `(x,)` and `()` are tuples (lists to us).
                let first = self.expr();
                self.skip_ws();
                if let Some(v) = first
                    && self.peek() == Some(b')')
                {
                    self.i += 1;
                    return Some(v);
                }
                self.i = start;
                Some(Value::Array(self.items(b')')?))
            }
            b'{' => {
                self.i += 1;
                self.dict_or_set()
            }
            b'\'' | b'"' => self.strings(),
            b'+' | b'-' => {
                let neg = self.peek() == Some(b'-');
                self.i += 1;
                self.skip_ws();
                let n = self.number()?;
                if !neg {
                    return Some(n);
                }
                match n {
                    Value::Number(n) => n
                        .as_i64()
                        .and_then(|i| i.checked_neg())
                        .map(Value::from)
                        .or_else(|| n.as_f64().and_then(|f| Number::from_f64(-f)).map(Value::Number)),
                    _ => None,
                }
            }
            c if c.is_ascii_digit() || c == b'.' => {
                if self.s[self.i..].starts_with(b"...") {
                    return None;
                }
                self.number()
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.i += 1;
                }
                let word = &self.s[start..self.i];
                match word {
                    b"True" => Some(Value::Bool(true)),
                    b"False" => Some(Value::Bool(false)),
                    b"None" => Some(Value::Null),
                    _ if matches!(self.peek(), Some(b'\'' | b'"'))
                        && word.len() <= 2
                        && word.iter().all(|c| b"rRuUbB".contains(c)) =>
                    {
                        let raw = word.iter().any(|c| *c == b'r' || *c == b'R');
                        self.string(raw)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Comma-separated items up to `close` (trailing comma allowed).
    fn items(&mut self, close: u8) -> Option<Vec<Value>> {
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.peek()? == close {
                self.i += 1;
                return Some(out);
            }
            out.push(self.expr()?);
            self.skip_ws();
            match self.peek()? {
                b',' => self.i += 1,
                c if c == close => {}
                _ => return None,
            }
        }
    }

    fn dict_or_set(&mut self) -> Option<Value> {
        self.skip_ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(Value::Object(Map::new()));
        }
        let first = self.expr()?;
        self.skip_ws();
        if self.peek()? != b':' {
            // A set: the remaining items, as a list.
            let mut items = vec![first];
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {}
                _ => return None,
            }
            items.extend(self.items(b'}')?);
            return Some(Value::Array(items));
        }
        let mut map = Map::new();
        let mut key = first;
        loop {
            self.i += 1; // the ':'
            let value = self.expr()?;
            map.insert(key_string(&key)?, value);
            self.skip_ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(Value::Object(map));
                }
                _ => return None,
            }
            self.skip_ws();
            if self.peek()? == b'}' {
                self.i += 1;
                return Some(Value::Object(map));
            }
            key = self.expr()?;
            self.skip_ws();
            if self.peek()? != b':' {
                return None;
            }
        }
    }

    /// One or more adjacent string literals, concatenated like Python does.
    fn strings(&mut self) -> Option<Value> {
        let mut out = String::new();
        loop {
            let Value::String(s) = self.string(false)? else {
                return None;
            };
            out.push_str(&s);
            self.skip_ws();
            if !matches!(self.peek(), Some(b'\'' | b'"')) {
                return Some(Value::String(out));
            }
        }
    }

    /// A quoted string (single, double or triple quotes) starting at the quote.
    fn string(&mut self, raw: bool) -> Option<Value> {
        let q = self.peek()?;
        let triple = self.s[self.i..].starts_with(&[q, q, q]);
        self.i += if triple { 3 } else { 1 };
        let mut bytes = Vec::new();
        loop {
            let c = self.peek()?;
            if c == q && (!triple || self.s[self.i..].starts_with(&[q, q, q])) {
                self.i += if triple { 3 } else { 1 };
                return String::from_utf8(bytes).ok().map(Value::String);
            }
            if c == b'\n' && !triple {
                return None;
            }
            self.i += 1;
            if c != b'\\' {
                bytes.push(c);
                continue;
            }
            let e = self.peek()?;
            self.i += 1;
            if raw {
                bytes.extend([b'\\', e]);
                continue;
            }
            let mut push = |ch: char| {
                let mut buf = [0u8; 4];
                bytes.extend(ch.encode_utf8(&mut buf).as_bytes());
            };
            match e {
                b'n' => push('\n'),
                b't' => push('\t'),
                b'r' => push('\r'),
                b'0'..=b'7' => {
                    let mut v = u32::from(e - b'0');
                    for _ in 0..2 {
                        match self.peek() {
                            Some(d @ b'0'..=b'7') => {
                                v = v * 8 + u32::from(d - b'0');
                                self.i += 1;
                            }
                            _ => break,
                        }
                    }
                    push(char::from_u32(v)?);
                }
                b'x' | b'u' | b'U' => {
                    let n = match e {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let hex = std::str::from_utf8(self.s.get(self.i..self.i + n)?).ok()?;
                    self.i += n;
                    push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
                }
                b'\\' | b'\'' | b'"' => push(char::from(e)),
                b'a' => push('\u{7}'),
                b'b' => push('\u{8}'),
                b'f' => push('\u{c}'),
                b'v' => push('\u{b}'),
                b'\n' => {}
                other => {
                    bytes.push(b'\\');
                    bytes.push(other);
                }
            }
        }
    }

    /// An unsigned int (decimal without leading zeros, 0x/0o/0b, `_` separators) or float.
    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        {
            // an exponent sign belongs to the number
            self.i += 1;
            if matches!(self.s.get(self.i - 1), Some(b'e' | b'E'))
                && matches!(self.peek(), Some(b'+' | b'-'))
                && !self.s[start..].starts_with(b"0x")
                && !self.s[start..].starts_with(b"0X")
            {
                self.i += 1;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if text.starts_with('_') || text.ends_with('_') || text.contains("__") {
            return None;
        }
        let clean = text.replace('_', "");
        let lower = clean.to_ascii_lowercase();
        let radix = [("0x", 16), ("0o", 8), ("0b", 2)]
            .into_iter()
            .find(|(p, _)| lower.starts_with(p));
        if let Some((prefix, radix)) = radix {
            return i64::from_str_radix(&lower[prefix.len()..], radix)
                .ok()
                .map(Value::from);
        }
        if lower.bytes().all(|c| c.is_ascii_digit()) {
            // Python 3 rejects leading zeros on non-zero decimals (`0644` stays a string).
            if lower.len() > 1 && lower.starts_with('0') && lower.bytes().any(|c| c != b'0') {
                return None;
            }
            return match lower.parse::<i64>() {
                Ok(i) => Some(Value::from(i)),
                Err(_) => lower
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number),
            };
        }
        let floaty = lower
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
            && lower.bytes().any(|c| c.is_ascii_digit())
            && lower.matches('.').count() <= 1;
        if !floaty {
            return None;
        }
        let f: f64 = lower.parse().ok()?;
        Number::from_f64(f).map(Value::Number)
    }
}

/// A dict key as JSON object key (Python `str()` of scalars).
fn key_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        Value::Null => Some("None".into()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_eval_scalars() {
        assert_eq!(literal_or_string("22"), json!(22));
        assert_eq!(literal_or_string("-3"), json!(-3));
        assert_eq!(literal_or_string("1.5"), json!(1.5));
        assert_eq!(literal_or_string("1e3"), json!(1000.0));
        assert_eq!(literal_or_string("0x1F"), json!(31));
        assert_eq!(literal_or_string("1_000"), json!(1000));
        assert_eq!(literal_or_string("True"), json!(true));
        assert_eq!(literal_or_string("None"), json!(null));
        // Not Python literals: kept as written.
        assert_eq!(literal_or_string("true"), json!("true"));
        assert_eq!(literal_or_string("yes"), json!("yes"));
        assert_eq!(literal_or_string("0644"), json!("0644"));
        assert_eq!(literal_or_string("1.2.3"), json!("1.2.3"));
        assert_eq!(literal_or_string("..."), json!("..."));
        assert_eq!(literal_or_string("/usr/bin/python3"), json!("/usr/bin/python3"));
        assert_eq!(literal_or_string(""), json!(""));
    }

    #[test]
    fn literal_eval_strings_and_containers() {
        assert_eq!(literal_or_string("'a b'"), json!("a b"));
        assert_eq!(literal_or_string(r#""x\ty""#), json!("x\ty"));
        assert_eq!(literal_or_string("'a' 'b'"), json!("ab"));
        assert_eq!(literal_or_string("[1, 'two', [3]]"), json!([1, "two", [3]]));
        assert_eq!(literal_or_string("(1,)"), json!([1]));
        assert_eq!(literal_or_string("(1)"), json!(1));
        assert_eq!(
            literal_or_string("{'a': 1, 'b': [True]}"),
            json!({"a": 1, "b": [true]})
        );
        assert_eq!(literal_or_string("{1, 2}"), json!([1, 2]));
        assert_eq!(literal_or_string("{}"), json!({}));
        assert_eq!(literal_or_string("{'a': 1"), json!("{'a': 1"));
        // Python source comments after a literal are allowed by literal_eval.
        assert_eq!(literal_or_string("1 # one"), json!(1));
        assert_eq!(literal_or_string("hello # c"), json!("hello # c"));
    }

    #[test]
    fn sections() {
        assert_eq!(section("[web]"), Some(("web", None)));
        assert_eq!(section("[web:vars]  # c"), Some(("web", Some("vars"))));
        assert_eq!(section("[web servers]"), None);
        assert_eq!(section("[web] x"), None);
    }
}
