//! Ansible's free-form `k=v` argument strings (`copy: src=a dest=b`, `command: ls chdir=/tmp`).
//!
//! Matches ansible-core's `ansible.parsing.splitter`: text is split on newlines and single
//! spaces only, words inside quotes or `{{ }}` / `{% %}` / `{# #}` blocks are put back
//! together, and the words that stay free-form are joined again so that the original newlines
//! and runs of spaces survive (`shell: |` scripts, here-documents).

use serde_json::Value;

use crate::vars::Vars;

/// The quote left open after `token`, given the one open before it (`_get_quote_state`): a
/// quote character preceded by a backslash does not count.
fn quote_state(token: &str, mut open: Option<char>) -> Option<char> {
    let mut prev: Option<char> = None;
    for c in token.chars() {
        if (c == '"' || c == '\'') && prev != Some('\\') {
            match open {
                Some(q) if q == c => open = None,
                Some(_) => {}
                None => open = Some(c),
            }
        }
        prev = Some(c);
    }
    open
}

/// The new depth of one kind of jinja block after `token` (never below zero).
fn block_depth(token: &str, depth: usize, open: &str, close: &str) -> usize {
    let opened = token.matches(open).count();
    let closed = token.matches(close).count();
    (depth + opened).saturating_sub(closed)
}

/// Splits text into words like ansible-core's `split_args`: quotes and jinja blocks group
/// words (quotes are kept), a lone `\` at a line's end joins the lines, and each word that
/// ends a line keeps its `\n` so [`join_args`] can rebuild the text.
///
/// Errors: an unbalanced quote or jinja block, with Ansible's message.
fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut params: Vec<String> = Vec::new();
    if text.is_empty() {
        return Ok(params);
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let mut quote: Option<char> = None;
    let (mut print, mut block, mut comment) = (0usize, 0usize, 0usize);
    for (line_no, line) in lines.iter().enumerate() {
        let tokens: Vec<&str> = line.split(' ').collect();
        let mut continued = false;
        for (idx, token) in tokens.iter().enumerate() {
            if token.is_empty() && idx != 0 {
                // A run of spaces: kept on the previous word.
                match params.last_mut() {
                    Some(p) => p.push(' '),
                    None => params.push(" ".into()),
                }
                continue;
            }
            if *token == "\\" && quote.is_none() {
                continued = true;
                continue;
            }
            let was_quoted = quote.is_some();
            quote = quote_state(token, quote);
            let quoted = quote.is_some();
            let in_block = print > 0 || block > 0 || comment > 0;
            let mut appended = false;
            if quoted && !was_quoted && !in_block {
                params.push((*token).to_string());
                appended = true;
            } else if in_block || quoted || was_quoted {
                // Continues the open word: after a space, or right after its newline.
                match params.last_mut() {
                    Some(p) => {
                        if idx > 0 {
                            p.push(' ');
                        }
                        p.push_str(token);
                    }
                    None => params.push((*token).to_string()),
                }
                appended = true;
            }
            for (depth, open, close) in [
                (&mut print, "{{", "}}"),
                (&mut block, "{%", "%}"),
                (&mut comment, "{#", "#}"),
            ] {
                let before = *depth;
                *depth = block_depth(token, before, open, close);
                if *depth != before && !appended {
                    params.push((*token).to_string());
                    appended = true;
                }
            }
            let in_block = print > 0 || block > 0 || comment > 0;
            if !in_block && !quoted && !appended && !token.is_empty() {
                params.push((*token).to_string());
            }
        }
        if lines.len() > 1 && line_no != lines.len() - 1 && !continued {
            match params.last_mut() {
                Some(p) => p.push('\n'),
                None => params.push("\n".into()),
            }
        }
    }
    if print > 0 || block > 0 || comment > 0 || quote.is_some() {
        return Err(format!(
            "failed at splitting arguments, either an unbalanced jinja2 block or quotes: {text}"
        ));
    }
    Ok(params)
}

/// Joins words from [`split_args`] back into text (`join_args`): a space between words,
/// none after a word that ends a line, so newlines and runs of spaces are the original ones.
fn join_args(words: &[String]) -> String {
    let mut out = String::new();
    for w in words {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Decodes Python's backslash escapes in a word (`_decode_escapes`): `\\`, `\'`, `\"`,
/// `\a \b \f \n \r \t \v`, `\xHH`, `\uHHHH`, `\UHHHHHHHH`. Anything else stays as written.
fn decode_escapes(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' || i + 1 >= chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let simple = match chars[i + 1] {
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        let width = match chars[i + 1] {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        if width > 0 && i + 2 + width <= chars.len() {
            let hex: String = chars[i + 2..i + 2 + width].iter().collect();
            if hex.chars().all(|c| c.is_ascii_hexdigit())
                && let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
            {
                out.push(c);
                i += 2 + width;
                continue;
            }
        }
        out.push('\\');
        i += 1;
    }
    out
}

/// Removes one pair of matching outer quotes (`ansible.parsing.quoting.unquote`), unless the
/// closing one is escaped.
fn unquote(v: &str) -> String {
    let b = v.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] && b[b.len() - 2] != b'\\' {
        v[1..v.len() - 1].to_string()
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

/// Parses `k=v` text into arguments, as ansible-core's `parse_kv`. With `free_form`, words
/// that are not one of the keys Ansible extracts from commands stay in `_raw_params`, joined
/// with their original newlines and spacing.
///
/// Errors: unbalanced quotes or jinja blocks; for non-free-form modules, a word without `=`.
pub fn parse_kv(text: &str, free_form: bool) -> Result<Vars, String> {
    parse_kv_mode(text, if free_form { Raw::FreeForm } else { Raw::Refused })
}

/// Parses `k=v` text as ansible-core's `parse_kv(check_raw=False)` (what lookups such as
/// `sequence`, `csvfile` and `password` use): every `k=v` word is an argument, other words are
/// joined into `_raw_params`.
///
/// Errors: unbalanced quotes or jinja blocks.
pub fn parse_kv_words(text: &str) -> Result<Vars, String> {
    parse_kv_mode(text, Raw::Kept)
}

/// What [`parse_kv_mode`] does with words that are not `k=v` arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Raw {
    /// An error (modules without free-form text).
    Refused,
    /// `_raw_params`, with every `k=v` but the command keys (command/shell).
    FreeForm,
    /// `_raw_params`, every `k=v` an argument (lookups).
    Kept,
}

fn parse_kv_mode(text: &str, mode: Raw) -> Result<Vars, String> {
    let free_form = mode == Raw::FreeForm;
    let mut args = Vars::new();
    let mut raw: Vec<String> = Vec::new();
    for word in split_args(text)? {
        let x = decode_escapes(&word);
        // The first `=` after the first character that is not escaped.
        let eq = x
            .char_indices()
            .skip(1)
            .find(|&(i, c)| c == '=' && !x[..i].ends_with('\\'))
            .map(|(i, _)| i);
        let Some(pos) = eq else {
            if x.contains('=') {
                // Only escaped `=`: a free-form word with the escapes removed.
                raw.push(x.replace("\\=", "="));
            } else {
                raw.push(word);
            }
            continue;
        };
        let (k, v) = (&x[..pos], &x[pos + 1..]);
        if free_form && !FREE_FORM_KEYS.contains(&k) {
            raw.push(word);
            continue;
        }
        args.insert(k.trim().to_string(), Value::String(unquote(v.trim())));
    }
    if !raw.is_empty() {
        if mode == Raw::Refused {
            let first = raw[0].trim();
            return Err(format!("expected k=v arguments, found '{first}'"));
        }
        args.insert("_raw_params".into(), Value::String(join_args(&raw)));
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

    #[test]
    fn free_form_keeps_newlines_and_spacing() {
        let a = parse_kv("echo a\necho b\n", true).unwrap();
        assert_eq!(a["_raw_params"], "echo a\necho b\n");
        let doc = "cat <<EOF > /tmp/x\nline one\n  indented  twice\nEOF\n";
        assert_eq!(parse_kv(doc, true).unwrap()["_raw_params"], doc);
        let s = parse_kv("python3 -c 'import sys\nprint(1)'\necho  two   spaces", true).unwrap();
        assert_eq!(
            s["_raw_params"],
            "python3 -c 'import sys\nprint(1)'\necho  two   spaces"
        );
        // A tab is not a separator; `\` at a line's end joins the lines.
        let t = parse_kv("echo\ta \\\nb chdir=/tmp", true).unwrap();
        assert_eq!(t["_raw_params"], "echo\ta b");
        assert_eq!(t["chdir"], "/tmp");
        // Keys at the start of a later line are still extracted.
        let c = parse_kv("echo a\ncreates=/x", true).unwrap();
        assert_eq!(c["creates"], "/x");
        assert_eq!(c["_raw_params"], "echo a\n");
    }

    #[test]
    fn values_decode_escapes_and_lose_one_pair_of_quotes() {
        let a = parse_kv(r#"content="a\nb" line='it\'s' x=\"q\""#, false).unwrap();
        assert_eq!(a["content"], "a\nb");
        assert_eq!(a["line"], "it's");
        assert_eq!(a["x"], "q");
        let e = parse_kv(r"echo a\=b", true).unwrap();
        assert_eq!(e["_raw_params"], "echo a=b");
    }

    #[test]
    fn unbalanced_blocks_use_ansible_wording() {
        let e = parse_kv("msg={{ a", false).unwrap_err();
        assert!(
            e.starts_with("failed at splitting arguments, either an unbalanced jinja2 block or quotes"),
            "{e}"
        );
    }
}
