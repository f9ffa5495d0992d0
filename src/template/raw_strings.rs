//! String literals in the Jinja code of playbook strings (`when:`, task arguments, variables) as
//! ansible-core 2.19 reads them: backslashes are kept, not escapes. `'\1'` is a backslash and a `1` (so `regex_replace('(a)(b)', '\2\1')` swaps the
//! groups, as Python's `re.sub` reads the replacement), `'a\tb'` has four characters, and `\'`
//! keeps its backslash while not ending the literal. minijinja unescapes literals, so the code
//! parts of a template are rewritten before it compiles them: inside a literal every backslash
//! is doubled and an escaped quote becomes `\\\'`, which minijinja turns back into exactly the
//! characters written. Text outside code, comments and `{% raw %}` blocks are left as they are.
//! Template files (the `template` module and lookup) are not rewritten: ansible-core reads their
//! literals with Jinja's escapes (`'\t'` is a tab there).

use std::borrow::Cow;

/// The delimiters of one Jinja syntax (`{{ }}`, `{% %}`, `{# #}` by default).
#[derive(Debug, Clone, Copy)]
pub struct Delimiters<'d> {
    /// `{{` and `}}`.
    pub variable: (&'d str, &'d str),
    /// `{%` and `%}`.
    pub block: (&'d str, &'d str),
    /// `{#` and `#}`.
    pub comment: (&'d str, &'d str),
}

/// Jinja2's default delimiters.
pub const DEFAULT: Delimiters<'static> = Delimiters {
    variable: ("{{", "}}"),
    block: ("{%", "%}"),
    comment: ("{#", "#}"),
};

/// A bare expression (`when:`, `debug: var=`) with its literals kept raw.
pub fn expression(code: &str) -> Cow<'_, str> {
    if !code.contains('\\') {
        return Cow::Borrowed(code);
    }
    let mut out = String::with_capacity(code.len() + 8);
    raw_literals(code, &mut out);
    Cow::Owned(out)
}

/// Template text (a string in a playbook, a `.j2` file) with the literals of its code parts
/// kept raw.
pub fn template<'t>(text: &'t str, d: &Delimiters<'_>) -> Cow<'t, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(map_code(text, d, &mut |code, out| {
        out.push_str(&expression(code))
    }))
}

/// `text` with the code of every `{{ }}` and `{% %}` part replaced by what `f(code, out)` writes
/// to `out`; text outside
/// code, comments and `{% raw %}` blocks are copied as they are. A closing delimiter inside a
/// string literal does not end the code.
pub fn map_code(text: &str, d: &Delimiters<'_>, f: &mut dyn FnMut(&str, &mut String)) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    loop {
        let next = [d.variable.0, d.block.0, d.comment.0]
            .iter()
            .filter_map(|open| rest.find(open).map(|i| (i, *open)))
            .min_by_key(|(i, _)| *i);
        let Some((at, open)) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at + open.len()]);
        rest = &rest[at + open.len()..];
        if open == d.comment.0 {
            let end = rest
                .find(d.comment.1)
                .map_or(rest.len(), |i| i + d.comment.1.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if open == d.block.0 && is_raw_block(rest, d) {
            let end = endraw_end(rest, d).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else {
            let close = if open == d.variable.0 {
                d.variable.1
            } else {
                d.block.1
            };
            let end = code_end(rest, close);
            f(&rest[..end], &mut out);
            rest = &rest[end..];
        }
    }
    out
}

/// The offset of `close` in `code` outside string literals (`code.len()` without one).
fn code_end(code: &str, close: &str) -> usize {
    let mut chars = code.char_indices();
    while let Some((i, c)) = chars.next() {
        if code[i..].starts_with(close) {
            return i;
        }
        if c == '\'' || c == '"' {
            while let Some((_, s)) = chars.next() {
                if s == '\\' {
                    chars.next();
                } else if s == c {
                    break;
                }
            }
        }
    }
    code.len()
}

/// Copies `code` into `out`, rewriting its string literals.
fn raw_literals(code: &str, out: &mut String) {
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' && c != '"' {
            out.push(c);
            continue;
        }
        // A string literal: up to the same quote not preceded by an escaping backslash.
        out.push(c);
        while let Some(s) = chars.next() {
            match s {
                '\\' => {
                    out.push_str("\\\\");
                    match chars.peek() {
                        Some(q) if *q == c => {
                            out.push('\\');
                            out.push(c);
                            chars.next();
                        }
                        Some('\\') => {
                            out.push_str("\\\\");
                            chars.next();
                        }
                        _ => {}
                    }
                }
                s if s == c => {
                    out.push(c);
                    break;
                }
                s => out.push(s),
            }
        }
    }
}

/// Whether the block that starts at `rest` (just after `{%`) is `{% raw %}`.
fn is_raw_block(rest: &str, d: &Delimiters<'_>) -> bool {
    let Some(end) = rest.find(d.block.1) else {
        return false;
    };
    let inner = rest[..end]
        .trim_start_matches(['-', '+'])
        .trim_end_matches(['-', '+']);
    inner.trim() == "raw"
}

/// The end of the `{% endraw %}` block after a raw block's text (offset into `rest`).
fn endraw_end(rest: &str, d: &Delimiters<'_>) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = rest[from..].find(d.block.0) {
        let start = from + i + d.block.0.len();
        let end = rest[start..].find(d.block.1)? + start;
        let inner = rest[start..end]
            .trim_start_matches(['-', '+'])
            .trim_end_matches(['-', '+']);
        if inner.trim() == "endraw" {
            return Some(end + d.block.1.len());
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backslashes_in_literals_are_doubled_and_escaped_quotes_kept() {
        assert_eq!(
            expression(r"x | regex_replace('(a)', '\1')"),
            r"x | regex_replace('(a)', '\\1')"
        );
        assert_eq!(expression(r"'it\'s'"), r"'it\\\'s'");
        assert_eq!(expression(r#""a\\b""#), r#""a\\\\b""#);
        assert_eq!(expression(r#""q\"" ~ 'x'"#), r#""q\\\"" ~ 'x'"#);
        assert_eq!(expression("a and b"), "a and b");
    }

    #[test]
    fn only_code_parts_of_a_template_change() {
        let t = r"text \n {{ 'a\tb' }} more\ {% if x == '\\' %}y{% endif %}";
        assert_eq!(
            template(t, &DEFAULT),
            r"text \n {{ 'a\\tb' }} more\ {% if x == '\\\\' %}y{% endif %}"
        );
        let raw = r"{% raw %}{{ '\1' }}{% endraw %}{# '\2' #}{{ '\3' }}";
        assert_eq!(
            template(raw, &DEFAULT),
            r"{% raw %}{{ '\1' }}{% endraw %}{# '\2' #}{{ '\\3' }}"
        );
        // A closing delimiter inside a literal does not end the code.
        assert_eq!(template(r"{{ '}}\x' }}", &DEFAULT), r"{{ '}}\\x' }}");
        let custom = Delimiters {
            variable: ("[[", "]]"),
            ..DEFAULT
        };
        assert_eq!(
            template(r"{{ '\1' }} [[ '\1' ]]", &custom),
            r"{{ '\1' }} [[ '\\1' ]]"
        );
    }
}
