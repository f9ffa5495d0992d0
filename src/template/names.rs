//! Load-time check of the filter and test names a template uses: a filter or test talon does not
//! have is an error when the playbook loads (with the string's `file:line:column`), not a
//! failure after earlier tasks changed hosts. Stricter than ansible-core, which fails when the
//! task runs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use minijinja::{Environment, ErrorKind};

use super::{chains, raw_strings};

/// Which names the engine knows, asked once per name.
static KNOWN: LazyLock<Mutex<HashMap<(bool, String), bool>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// An engine with talon's filters and tests, to ask whether a name exists.
static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| super::make_env(false));

/// The first filter or test `text` uses that talon does not have, as a message; `expression`
/// says `text` is a bare expression (`when:`) rather than template text.
pub fn unknown_name(text: &str, expression: bool) -> Option<String> {
    if !text.contains('|') && !text.contains("is") {
        return None;
    }
    if expression {
        return first_unknown(&short_names(text));
    }
    let mut found = None;
    raw_strings::map_code(text, &raw_strings::DEFAULT, &mut |code, _| {
        if found.is_none() {
            found = first_unknown(&short_names(code));
        }
    });
    found
}

/// Code with the `ansible.builtin.` and `ansible.legacy.` prefixes of filter and test names
/// dropped (outside string literals): talon's filters and tests answer to their short names,
/// as ansible-core's builtin plugins answer to both.
pub fn short_names(code: &str) -> Cow<'_, str> {
    const PREFIXES: [&str; 2] = ["ansible.builtin.", "ansible.legacy."];
    if !PREFIXES.iter().any(|p| code.contains(p)) {
        return Cow::Borrowed(code);
    }
    let b = code.as_bytes();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\'' || b[i] == b'"' {
            let end = chains::literal_end(code, i);
            out.push_str(&code[i..end]);
            i = end;
            continue;
        }
        let boundary = i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b'.');
        if let Some(p) = PREFIXES.iter().find(|p| boundary && code[i..].starts_with(*p)) {
            i += p.len();
            continue;
        }
        let len = code[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&code[i..i + len]);
        i += len;
    }
    Cow::Owned(out)
}

/// The first unknown filter (after `|`) or test (after `is` / `is not`) in one code part.
fn first_unknown(code: &str) -> Option<String> {
    let b = code.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => i = chains::literal_end(code, i),
            b'|' => {
                let (name, end) = dotted_name(code, i + 1);
                if !name.is_empty() && !exists(false, name) {
                    return Some(format!("no filter named '{name}'"));
                }
                i = end.max(i + 1);
            }
            b'i' if code[i..].starts_with("is")
                && (i == 0 || !is_ident(b[i - 1]))
                && b.get(i + 2).is_some_and(|c| c.is_ascii_whitespace()) =>
            {
                let mut at = i + 2;
                at += code[at..].len() - code[at..].trim_start().len();
                if code[at..].starts_with("not") && b.get(at + 3).is_some_and(|c| c.is_ascii_whitespace()) {
                    at += 3;
                }
                let (name, end) = dotted_name(code, at);
                if !name.is_empty() && !exists(true, name) {
                    return Some(format!("no test named '{name}'"));
                }
                i = end.max(i + 2);
            }
            _ => i += 1,
        }
    }
    None
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The (possibly dotted) name that starts after optional whitespace at `from`, and its end.
fn dotted_name(code: &str, from: usize) -> (&str, usize) {
    let b = code.as_bytes();
    let mut start = from;
    while b.get(start).is_some_and(u8::is_ascii_whitespace) {
        start += 1;
    }
    if !b
        .get(start)
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return ("", start);
    }
    let mut end = start;
    while b.get(end).is_some_and(|c| is_ident(*c) || *c == b'.') {
        end += 1;
    }
    let name = code[start..end].trim_end_matches('.');
    (name, start + name.len())
}

/// Whether talon's engine has the filter (or test) `name`: applying it to `none` fails with
/// anything but "unknown filter/test" when it exists.
fn exists(test: bool, name: &str) -> bool {
    let key = (test, name.to_string());
    if let Some(k) = KNOWN.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return *k;
    }
    let code = if test {
        format!("none is {name}")
    } else {
        format!("none | {name}")
    };
    let known = match ENV.compile_expression(&code) {
        Ok(expr) => match expr.eval(()) {
            Ok(_) => true,
            Err(e) => !matches!(e.kind(), ErrorKind::UnknownFilter | ErrorKind::UnknownTest),
        },
        // A name the parser cannot read here is left to the syntax check.
        Err(_) => true,
    };
    KNOWN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, known);
    known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_prefixes_are_dropped_outside_literals() {
        assert_eq!(
            short_names(
                "x | ansible.builtin.to_json ~ lookup('ansible.builtin.file', 'a') is ansible.legacy.defined"
            ),
            "x | to_json ~ lookup('ansible.builtin.file', 'a') is defined"
        );
        assert_eq!(short_names("my.ansible.builtin.x"), "my.ansible.builtin.x");
    }

    #[test]
    fn unknown_filters_and_tests_are_named() {
        assert_eq!(
            unknown_name("{{ x | default(1) | nope }}", false).as_deref(),
            Some("no filter named 'nope'")
        );
        assert_eq!(
            unknown_name("x is not frob", true).as_deref(),
            Some("no test named 'frob'")
        );
        assert_eq!(
            unknown_name("{{ x | a.b.c }}", false).as_deref(),
            Some("no filter named 'a.b.c'")
        );
        for ok in [
            "{{ x | default(1) | to_json }}",
            "{{ '| nope' }} is nope",
            "{{ x is defined and this is none }}",
            "{% if x is version('1', '>') %}{% endif %}{# | nope #}",
            "{% raw %}{{ x | nope }}{% endraw %}",
            "{{ x | ansible.builtin.to_json }}",
            "x is ansible.legacy.defined",
        ] {
            assert_eq!(unknown_name(ok, false), None, "{ok}");
        }
    }
}
