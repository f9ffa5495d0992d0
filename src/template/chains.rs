//! Ansible's chainable undefined where it matters: `{{ a.b.c | default('x') }}` gives `x` and
//! `a.b.c is defined` is false when `a` (or `a.b`) is undefined, as in ansible-core 2.19.
//! Everywhere else talon's undefined stays strict (`{{ a.b.c }}` fails with "'a' is undefined").
//!
//! minijinja's strict mode fails on an attribute of an undefined value, and its chainable mode
//! prints undefined values as empty strings. So the code parts of a template are rewritten
//! before they compile: an attribute or item chain whose value goes straight into the
//! `default`/`d` filter or the `defined`/`undefined` test becomes a call of [`CHAIN_FN`], which
//! walks the chain and yields undefined at the first missing step. Chains used in any other way
//! are left alone.

use std::borrow::Cow;

use minijinja::Value;
use minijinja::value::Rest;

/// The global function the rewritten chains call: `__talon_chain(root, '.', 'b', '[', key)`
/// is `root.b[key]`, or undefined from the first step that is undefined.
pub const CHAIN_FN: &str = "__talon_chain";

/// Names Jinja reads as operators or constants, never as a variable that starts a chain.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "for",
    "recursive",
];

/// Registers [`CHAIN_FN`].
pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_function(CHAIN_FN, |root: Value, steps: Rest<Value>| {
        let mut cur = root;
        for pair in steps.chunks(2) {
            let [kind, key] = pair else {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    "chain steps come in pairs",
                ));
            };
            if cur.is_undefined() {
                return Ok(Value::UNDEFINED);
            }
            cur = match (kind.as_str(), key.as_str()) {
                (Some("."), Some(name)) => cur.get_attr(name).unwrap_or(Value::UNDEFINED),
                _ => cur.get_item(key).unwrap_or(Value::UNDEFINED),
            };
        }
        Ok(cur)
    });
}

/// Whether `text` may hold a chain worth rewriting (a cheap test before [`expression`]).
pub fn may_chain(text: &str) -> bool {
    ["defined", "default", "d(", "|d", "| d"]
        .iter()
        .any(|w| text.contains(w))
}

/// The code of one expression with every chain that feeds `default`/`d`/`defined`/`undefined`
/// rewritten into a [`CHAIN_FN`] call; string literals are copied as they are.
pub fn expression(code: &str) -> Cow<'_, str> {
    if !may_chain(code) {
        return Cow::Borrowed(code);
    }
    let b = code.as_bytes();
    let mut out = String::with_capacity(code.len() + 16);
    let mut i = 0;
    let mut changed = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            let end = literal_end(code, i);
            out.push_str(&code[i..end]);
            i = end;
            continue;
        }
        let starts_name = (c.is_ascii_alphabetic() || c == b'_')
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.'));
        if !starts_name {
            // Copy one whole character (the code may hold non-ASCII text).
            let len = code[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&code[i..i + len]);
            i += len;
            continue;
        }
        let root_end = ident_end(b, i);
        let root = &code[i..root_end];
        if let Some((steps, end)) = chain(code, root_end).filter(|_| !KEYWORDS.contains(&root))
            && !steps.is_empty()
            && feeds_default_or_defined(&code[end..])
        {
            out.push_str(CHAIN_FN);
            out.push('(');
            out.push_str(root);
            for step in steps {
                match step {
                    Step::Attr(name) => {
                        out.push_str(", '.', '");
                        out.push_str(name);
                        out.push('\'');
                    }
                    Step::Item(key) => {
                        out.push_str(", '[', ");
                        out.push_str(&expression(key));
                    }
                }
            }
            out.push(')');
            changed = true;
            i = end;
        } else {
            out.push_str(root);
            i = root_end;
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(code)
    }
}

/// One step of a chain: `.name` or `[expr]`.
enum Step<'c> {
    Attr(&'c str),
    Item(&'c str),
}

/// The steps that follow a name at `at`, and where they end; `None` when the chain ends in a
/// call (`a.b.keys()`), which is never rewritten.
fn chain(code: &str, mut at: usize) -> Option<(Vec<Step<'_>>, usize)> {
    let b = code.as_bytes();
    let mut steps = Vec::new();
    loop {
        match b.get(at) {
            Some(b'.')
                if b.get(at + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                let end = ident_end(b, at + 1);
                steps.push(Step::Attr(&code[at + 1..end]));
                at = end;
            }
            Some(b'.') if b.get(at + 1).is_some_and(u8::is_ascii_digit) => {
                let end = at + 1 + b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                steps.push(Step::Item(&code[at + 1..end]));
                at = end;
            }
            Some(b'[') => {
                let end = bracket_end(code, at)?;
                steps.push(Step::Item(code[at + 1..end].trim()));
                at = end + 1;
            }
            Some(b'(') => return None,
            _ => return Some((steps, at)),
        }
    }
}

/// Whether the code after a chain applies `default`/`d` or tests `defined`/`undefined` on it.
fn feeds_default_or_defined(after: &str) -> bool {
    let after = after.trim_start();
    let word_is = |s: &str, w: &str| {
        s.strip_prefix(w)
            .is_some_and(|r| !r.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    };
    if let Some(f) = after.strip_prefix('|') {
        let f = f.trim_start();
        return word_is(f, "default") || word_is(f, "d");
    }
    if let Some(t) = after.strip_prefix("is")
        && t.starts_with(char::is_whitespace)
    {
        let t = t.trim_start();
        let t = match t.strip_prefix("not") {
            Some(r) if r.starts_with(char::is_whitespace) => r.trim_start(),
            _ => t,
        };
        return word_is(t, "defined") || word_is(t, "undefined");
    }
    false
}

fn ident_end(b: &[u8], from: usize) -> usize {
    from + b[from..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count()
}

/// The offset just after the string literal that starts at `at`.
pub(super) fn literal_end(code: &str, at: usize) -> usize {
    let b = code.as_bytes();
    let quote = b[at];
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The offset of the `]` matching the `[` at `at`, outside literals; `None` when unbalanced.
fn bracket_end(code: &str, at: usize) -> Option<usize> {
    let b = code.as_bytes();
    let mut depth = 0usize;
    let mut i = at;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                i = literal_end(code, i);
                continue;
            }
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_feeding_default_or_defined_are_rewritten() {
        assert_eq!(
            expression("a.b.c | default('x')"),
            "__talon_chain(a, '.', 'b', '.', 'c') | default('x')"
        );
        assert_eq!(
            expression("not a['b'].c is not defined"),
            "not __talon_chain(a, '[', 'b', '.', 'c') is not defined"
        );
        assert_eq!(
            expression("hostvars[h[0]].x|d(1)"),
            "__talon_chain(hostvars, '[', h[0], '.', 'x')|d(1)"
        );
        assert_eq!(
            expression("x[y.z | default(0)]"),
            "x[__talon_chain(y, '.', 'z') | default(0)]"
        );
    }

    #[test]
    fn other_chains_and_literals_are_left_alone() {
        for code in [
            "a.b.c",
            "a.b | length",
            "a.b.keys() | default([])",
            "'a.b | default(1)'",
            "x | default(1)",
            "a.b is defined_later",
            "a.b | defaults",
            "x.y is sameas z",
        ] {
            assert_eq!(expression(code), code);
        }
        assert_eq!(
            expression("'é' ~ a.b | d"),
            "'é' ~ __talon_chain(a, '.', 'b') | d"
        );
    }
}
