//! Ansible's free-form `k=v` argument strings (`copy: src=a dest=b`, `command: ls chdir=/tmp`).

use serde_json::Value;

use crate::vars::Vars;

/// Splits text into words like Ansible's `split_args`: quotes group words (and are removed
/// from values), and `{{ }}` / `{% %}` blocks are never split.
fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let mut has = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if depth == 0 && quote.is_none() && c.is_whitespace() {
            if has {
                words.push(std::mem::take(&mut cur));
                has = false;
            }
            i += 1;
            continue;
        }
        has = true;
        if (c == '{' && (next == Some('{') || next == Some('%'))) && quote.is_none() {
            depth += 1;
            cur.push(c);
            cur.push(next.unwrap_or('{'));
            i += 2;
            continue;
        }
        if depth > 0 && (c == '}' || c == '%') && next == Some('}') {
            depth -= 1;
            cur.push(c);
            cur.push('}');
            i += 2;
            continue;
        }
        if depth == 0 {
            match quote {
                Some(q) if c == q => quote = None,
                None if c == '"' || c == '\'' => quote = Some(c),
                _ => {}
            }
        }
        if c == '\\' && quote.is_some() && next.is_some_and(|n| Some(n) == quote) {
            cur.push(c);
            cur.push(next.unwrap_or(' '));
            i += 2;
            continue;
        }
        cur.push(c);
        i += 1;
    }
    if quote.is_some() {
        return Err(format!("unbalanced quotes in '{text}'"));
    }
    if depth > 0 {
        return Err(format!("unbalanced jinja2 block in '{text}'"));
    }
    if has {
        words.push(cur);
    }
    Ok(words)
}

fn unquote(v: &str) -> String {
    let b = v.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        let q = b[0] as char;
        v[1..v.len() - 1].replace(&format!("\\{q}"), &q.to_string())
    } else {
        v.to_string()
    }
}

/// Arguments that Ansible pulls out of a free-form command string.
const FREE_FORM_KEYS: &[&str] = &[
    "chdir",
    "creates",
    "removes",
    "executable",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
    "warn",
];

/// Parses `k=v` text into arguments. With `free_form`, words that are not one of the keys
/// Ansible extracts from commands stay in `_raw_params` (verbatim, in order).
///
/// Errors: unbalanced quotes or jinja blocks; for non-free-form modules, a word without `=`.
pub fn parse_kv(text: &str, free_form: bool) -> Result<Vars, String> {
    let mut args = Vars::new();
    let mut raw: Vec<String> = Vec::new();
    for word in split_args(text)? {
        if let Some((k, v)) = word.split_once('=') {
            let key_ok = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if key_ok && (!free_form || FREE_FORM_KEYS.contains(&k)) {
                args.insert(k.to_string(), Value::String(unquote(v)));
                continue;
            }
        }
        if !free_form {
            return Err(format!("expected k=v arguments, found '{word}'"));
        }
        raw.push(word);
    }
    if free_form && !raw.is_empty() {
        args.insert("_raw_params".into(), Value::String(raw.join(" ")));
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_with_quotes_and_jinja() {
        let a = parse_kv(
            "src=a.txt dest='/tmp/x y' mode=0644 content=\"{{ a | default('b c') }}\"",
            false,
        )
        .unwrap();
        assert_eq!(a["dest"], "/tmp/x y");
        assert_eq!(a["mode"], "0644");
        assert_eq!(a["content"], "{{ a | default('b c') }}");
    }

    #[test]
    fn free_form_keeps_command_and_extracts_known_keys() {
        let a = parse_kv("echo 'a b' > /tmp/f chdir=/tmp creates=/tmp/f", true).unwrap();
        assert_eq!(a["_raw_params"], "echo 'a b' > /tmp/f");
        assert_eq!(a["chdir"], "/tmp");
        assert_eq!(a["creates"], "/tmp/f");
        let b = parse_kv("env FOO=bar printenv FOO", true).unwrap();
        assert_eq!(b["_raw_params"], "env FOO=bar printenv FOO");
    }

    #[test]
    fn bad_kv_is_an_error() {
        assert!(parse_kv("src=a dest", false).is_err());
        assert!(parse_kv("a='b", false).is_err());
    }
}
