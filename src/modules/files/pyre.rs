//! Python `re` patterns and replacement templates, for the native modules that take them
//! (`replace`, `find`) and the template filters (`regex_replace`, ...): Python's syntax
//! translated ([`translate`]) for fancy-regex (the `regex` crate plus backtracking for
//! look-around and backreferences), and `re.subn` with Python's rules for empty matches
//! ([`py_captures`], [`PyRegex::subn`]).
//!
//! Why this exists: Python's and Rust's regex dialects look alike but differ in places a
//! straight `Regex::new` would run silently differently (`[[a]]` is a nested class in Rust and
//! `[` plus `a]` in Python; `\<` is a word start in Rust and `<` in Python; `(?<n>...)` and
//! `\z` are errors in Python 3.11; Rust's `re.replace_all` skips an empty match right after a
//! match, Python's `re.sub` does not). Whatever this module cannot prove to mean the same is
//! [`Unsupported`]: a module then runs ansible-core's own module (the Python path) and a
//! template filter fails naming the pattern, so a rare pattern is never done differently.

/// Why a pattern, template or text is left to Python's own `re`: a feature the translation
/// does not carry (verbose mode, conditionals, classes holding `[`, ...) or one Python refuses
/// (so its error message comes from Python).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not run natively: {0}")]
pub struct Unsupported(pub String);

fn unsupported<T>(why: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(why.into()))
}

/// A Python pattern translated ([`translate`] with `fancy`) and compiled by fancy-regex, with
/// what decides whether a text can be searched natively.
#[derive(Debug, Clone)]
pub struct PyRegex {
    re: fancy_regex::Regex,
    /// The pattern has `\d`, `\w`, `\s`, `\b` (or their negations) or ignores case: Python's
    /// and Rust's Unicode tables differ beyond ASCII (and Python's `\s` holds `\x1c`-`\x1f`).
    tables: bool,
}

/// One piece of a parsed replacement template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Group(usize),
}

/// A Python replacement template (`re.sub`'s `repl` string), parsed against a pattern's groups:
/// `\1`..`\99`, `\g<N>`, `\g<name>`, the escapes `\a \b \f \n \r \t \v \\`, an unknown escape
/// of a non-letter kept as written (matches Python 3.11's `re._parser.parse_template`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Piece>);

impl Template {
    /// Appends the template to `out` with each group reference replaced by what `group` gives
    /// for it (an unmatched group is empty, as in Python 3.5+).
    pub fn expand<'a>(&self, group: impl Fn(usize) -> Option<&'a str>, out: &mut String) {
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Group(g) => out.push_str(group(*g).unwrap_or("")),
            }
        }
    }
}

/// Python's inline flags talon carries: `i`, `m`, `s` (and `u`, Python 3's default for text).
fn flags_ok(flags: &str) -> Result<bool, Unsupported> {
    let mut ignore_case = false;
    for c in flags.chars() {
        match c {
            'i' => ignore_case = true,
            'm' | 's' | 'u' | '-' => {}
            other => return unsupported(format!("the inline flag {other:?}")),
        }
    }
    Ok(ignore_case)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A valid Python counted repetition at the start of `rest` (which starts with `{`): its
/// length and its Rust form. `None` when Python reads the `{` as a literal.
fn repetition(rest: &str) -> Option<(usize, String)> {
    let end = rest.find('}')?;
    let body = &rest[1..end];
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let (lo, hi) = match body.split_once(',') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (body, None),
    };
    if !digits(lo) || !hi.is_none_or(digits) {
        return None;
    }
    match (lo.is_empty(), hi) {
        (true, None) => None,
        (true, Some("")) => None,
        (true, Some(hi)) => Some((end + 1, format!("{{0,{hi}}}"))),
        (false, None) => Some((end + 1, format!("{{{lo}}}"))),
        (false, Some(hi)) => Some((end + 1, format!("{{{lo},{hi}}}"))),
    }
}

/// The Rust form of the escape `\c` (outside a class when `in_class` is false), as Python
/// reads it; `next` is the text after `c`. Returns the form and how many characters after
/// `c` it used; `tables` is set for the class escapes.
fn escape(c: char, next: &str, in_class: bool, tables: &mut bool) -> Result<(String, usize), Unsupported> {
    let hex = |n: usize| -> Result<(String, usize), Unsupported> {
        let digits: String = next.chars().take(n).collect();
        if digits.len() == n && digits.chars().all(|d| d.is_ascii_hexdigit()) {
            Ok((format!("\\x{{{digits}}}"), n))
        } else {
            unsupported(format!("the escape \\{c}{digits}"))
        }
    };
    match c {
        'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
            *tables = true;
            Ok((format!("\\{c}"), 0))
        }
        'b' if in_class => Ok(("\\x08".into(), 0)),
        'b' | 'B' => {
            *tables = true;
            Ok((format!("\\{c}"), 0))
        }
        'A' if !in_class => Ok(("\\A".into(), 0)),
        'Z' if !in_class => Ok(("\\z".into(), 0)),
        'a' => Ok(("\\x07".into(), 0)),
        'f' => Ok(("\\x0C".into(), 0)),
        'n' => Ok(("\\n".into(), 0)),
        'r' => Ok(("\\r".into(), 0)),
        't' => Ok(("\\t".into(), 0)),
        'v' => Ok(("\\x0B".into(), 0)),
        'x' => hex(2),
        'u' => hex(4),
        'U' => hex(8),
        // Octal escapes, backreferences, named characters, and letters Python refuses.
        c if c.is_ascii_alphanumeric() => unsupported(format!("the escape \\{c}")),
        // Any other character escaped is itself.
        c => Ok((regex::escape(c.encode_utf8(&mut [0; 4])), 0)),
    }
}

/// A Python pattern in fancy-regex's syntax, and whether it uses character tables (see
/// [`PyRegex`]).
#[derive(Debug, Clone)]
pub struct Translated {
    /// The pattern, flags first.
    pub pattern: String,
    /// See [`PyRegex`].
    pub tables: bool,
}

/// Translates Python pattern `pattern` (with `re.MULTILINE` / `re.DOTALL`) for fancy-regex,
/// which runs what needs backtracking as Python's `re` does: look-ahead and look-behind,
/// backreferences `\1`..`\99` and `(?P=name)` (to a group already closed, as Python demands),
/// and `$` without MULTILINE as Python's (the end, or before a final newline: `(?=\n?\z)`).
///
/// Errors: [`Unsupported`] for what only Python's `re` runs (conditionals, atomic groups,
/// possessive quantifiers, comments, the flags `x`, `a`, `L`, flags after the start, octal and
/// named-character escapes, classes holding `[`, `&&`, `--` or `~~`) and for patterns Python
/// refuses (so that Python's message is the one shown).
pub fn translate(pattern: &str, multiline: bool, dotall: bool) -> Result<Translated, Unsupported> {
    let mut out = String::new();
    let mut tables = false;
    let mut depth = 0usize;
    // Per open parenthesis, the number of the group it captures (Python's numbering); the
    // groups and names seen so far: a reference to a later or still open group, or a name
    // given twice, is Python's error.
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut groups = 0usize;
    let mut names: Vec<(String, usize)> = Vec::new();
    // True when the last thing written can take a quantifier.
    let mut atom = false;
    // True right after a quantifier (another one is Python's "multiple repeat").
    let mut quantified = false;
    let mut prefix = true;
    let chars: Vec<(usize, char)> = pattern.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (at, c) = chars[k];
        let rest = &pattern[at..];
        let after = &pattern[at + c.len_utf8()..];
        // Global flags: only at the very start (Python 3.11 refuses them later).
        if c == '(' && after.starts_with('?') {
            let body: String = after[1..]
                .chars()
                .take_while(|ch| ch.is_ascii_alphabetic() || *ch == '-')
                .collect();
            let closing = after[1 + body.len()..].chars().next();
            if !body.is_empty() && closing == Some(')') {
                if !prefix || body.contains('-') {
                    return unsupported("inline flags after the start of the pattern");
                }
                tables |= flags_ok(&body)?;
                out.push_str(&format!("(?{body})"));
                k += 2 + body.chars().count() + 1;
                continue;
            }
        }
        prefix = false;
        match c {
            '\\' => {
                let Some(e) = after.chars().next() else {
                    return unsupported("a pattern ending in a backslash");
                };
                if e.is_ascii_digit() && e != '0' {
                    // Python: `\1`..`\99` refer to a group, three octal digits are a character.
                    let digits: String = after.chars().take_while(char::is_ascii_digit).take(3).collect();
                    if digits.len() == 3 && digits.chars().all(|d| d < '8') {
                        return unsupported("an octal escape");
                    }
                    let n: String = digits.chars().take(2).collect();
                    let num: usize = n.parse().unwrap_or(usize::MAX);
                    if num > groups || open.contains(&Some(num)) {
                        return unsupported(format!("invalid group reference {n}"));
                    }
                    out.push_str(&format!("(?:\\{n})"));
                    k += 1 + n.len();
                    atom = true;
                    quantified = false;
                    continue;
                }
                let (form, used) = escape(e, &after[e.len_utf8()..], false, &mut tables)?;
                out.push_str(&form);
                k += 2 + used;
                atom = !matches!(e, 'b' | 'B' | 'A' | 'Z');
                quantified = false;
                continue;
            }
            '[' => {
                let (form, used) = PyRegex::class(&chars[k..], &mut tables)?;
                out.push_str(&form);
                k += used;
                atom = true;
                quantified = false;
                continue;
            }
            '(' => {
                if let Some(ext) = after.strip_prefix('?') {
                    let look = ["=", "!", "<=", "<!"].into_iter().find(|l| ext.starts_with(l));
                    if let Some(look) = look {
                        // Look-ahead and look-behind (fancy-regex's syntax is Python's).
                        out.push_str(&format!("(?{look}"));
                        k += 2 + look.len();
                        depth += 1;
                        open.push(None);
                        atom = false;
                        quantified = false;
                        continue;
                    }
                    if let Some(named) = ext.strip_prefix("P=") {
                        let name: String = named.chars().take_while(|&ch| ch != ')').collect();
                        if !is_identifier(&name) || !named[name.len()..].starts_with(')') {
                            return unsupported(format!("the group reference {name:?}"));
                        }
                        let num = names.iter().find(|(n, _)| *n == name).map(|(_, g)| *g);
                        if num.is_none() || open.contains(&num) {
                            return unsupported(format!("unknown or open group name {name:?}"));
                        }
                        out.push_str(&format!("(?P={name})"));
                        k += 4 + name.chars().count() + 1;
                        atom = true;
                        quantified = false;
                        continue;
                    }
                    if let Some(named) = ext.strip_prefix("P<") {
                        let name: String = named.chars().take_while(|&ch| ch != '>').collect();
                        if !is_identifier(&name) || !named[name.len()..].starts_with('>') {
                            return unsupported(format!("the group name {name:?}"));
                        }
                        if names.iter().any(|(n, _)| *n == name) {
                            return unsupported(format!("redefinition of group name {name:?}"));
                        }
                        groups += 1;
                        names.push((name.clone(), groups));
                        open.push(Some(groups));
                        out.push_str(&format!("(?P<{name}>"));
                        k += 4 + name.chars().count() + 1;
                    } else if ext.starts_with(':') {
                        open.push(None);
                        out.push_str("(?:");
                        k += 3;
                    } else {
                        let body: String = ext
                            .chars()
                            .take_while(|ch| ch.is_ascii_alphabetic() || *ch == '-')
                            .collect();
                        if body.is_empty() || !ext[body.len()..].starts_with(':') {
                            return unsupported(format!(
                                "the group (?{}",
                                ext.chars().take(3).collect::<String>()
                            ));
                        }
                        tables |= flags_ok(&body)?;
                        open.push(None);
                        out.push_str(&format!("(?{body}:"));
                        k += 2 + body.chars().count() + 1;
                    }
                } else {
                    groups += 1;
                    open.push(Some(groups));
                    out.push('(');
                    k += 1;
                }
                depth += 1;
                atom = false;
                quantified = false;
                continue;
            }
            ')' => {
                if depth == 0 {
                    return unsupported("an unbalanced parenthesis");
                }
                depth -= 1;
                open.pop();
                out.push(')');
                atom = true;
                quantified = false;
            }
            '|' => {
                out.push('|');
                atom = false;
                quantified = false;
            }
            '*' | '+' | '?' | '{' => {
                let rep = if c == '{' {
                    repetition(rest)
                } else {
                    Some((1, c.to_string()))
                };
                match rep {
                    None => {
                        // A `{` that is no repetition is a literal in Python.
                        out.push_str("\\{");
                        atom = true;
                        quantified = false;
                    }
                    Some(_) if quantified && c == '?' => {
                        out.push('?');
                        quantified = false;
                        atom = false;
                    }
                    Some(_) if quantified => return unsupported("a quantifier after a quantifier"),
                    Some(_) if !atom => return unsupported("a quantifier with nothing to repeat"),
                    Some((used, form)) => {
                        out.push_str(&form);
                        k += rest[..used].chars().count();
                        quantified = true;
                        atom = false;
                        continue;
                    }
                }
            }
            '$' if !multiline => {
                // Python's `$`: the end, or before a final newline.
                out.push_str("(?=\\n?\\z)");
                atom = false;
                quantified = false;
            }
            '^' | '$' => {
                out.push(c);
                atom = false;
                quantified = false;
            }
            '.' => {
                out.push('.');
                atom = true;
                quantified = false;
            }
            other => {
                out.push_str(&regex::escape(other.encode_utf8(&mut [0; 4])));
                atom = true;
                quantified = false;
            }
        }
        k += 1;
    }
    if depth != 0 {
        return unsupported("an unbalanced parenthesis");
    }
    let mut flags = String::new();
    if multiline {
        flags.push('m');
    }
    if dotall {
        flags.push('s');
    }
    let full = if flags.is_empty() {
        out
    } else {
        format!("(?{flags}){out}")
    };
    Ok(Translated {
        pattern: full,
        tables,
    })
}

/// Parses Python replacement template `template` (`re.sub`'s `repl`) against a pattern with
/// `groups` groups (group 0 included) whose named groups `named` numbers.
///
/// Errors: [`Unsupported`] for octal escapes and for what Python refuses (a bad escape of a
/// letter, a reference to a group the pattern lacks, a malformed `\g<...>`).
pub fn parse_template(
    template: &str,
    groups: usize,
    named: &dyn Fn(&str) -> Option<usize>,
) -> Result<Template, Unsupported> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let chars: Vec<char> = template.chars().collect();
    let mut k = 0;
    let group = |text: &mut String, pieces: &mut Vec<Piece>, n: usize| {
        if n >= groups {
            return unsupported(format!("invalid group reference {n}"));
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(text)));
        }
        pieces.push(Piece::Group(n));
        Ok(())
    };
    while k < chars.len() {
        let c = chars[k];
        if c != '\\' {
            text.push(c);
            k += 1;
            continue;
        }
        let Some(&e) = chars.get(k + 1) else {
            return unsupported("a template ending in a backslash");
        };
        match e {
            'g' => {
                if chars.get(k + 2) != Some(&'<') {
                    return unsupported("\\g without <");
                }
                let name: String = chars[k + 3..].iter().take_while(|&&ch| ch != '>').collect();
                if chars.get(k + 3 + name.chars().count()) != Some(&'>') {
                    return unsupported("\\g< without >");
                }
                let n = if !name.is_empty() && name.chars().all(|d| d.is_ascii_digit()) {
                    name.parse::<usize>()
                        .map_err(|_| Unsupported("a group number".into()))?
                } else if is_identifier(&name) {
                    named(&name).ok_or_else(|| Unsupported(format!("unknown group name {name:?}")))?
                } else {
                    return unsupported(format!("bad character in group name {name:?}"));
                };
                group(&mut text, &mut pieces, n)?;
                k += 4 + name.chars().count();
            }
            '0' => return unsupported("an octal escape"),
            '1'..='9' => {
                let d2 = chars.get(k + 2).filter(|d| d.is_ascii_digit());
                let d3 = chars.get(k + 3).filter(|d| d.is_ascii_digit());
                let octal = |d: char| ('0'..='7').contains(&d);
                if let (Some(&d2), Some(&d3)) = (d2, d3)
                    && octal(e)
                    && octal(d2)
                    && octal(d3)
                {
                    return unsupported("an octal escape");
                }
                let (n, used) = match d2 {
                    Some(&d2) => ((e as usize - '0' as usize) * 10 + (d2 as usize - '0' as usize), 3),
                    None => (e as usize - '0' as usize, 2),
                };
                group(&mut text, &mut pieces, n)?;
                k += used;
            }
            'a' => {
                text.push('\x07');
                k += 2;
            }
            'b' => {
                text.push('\x08');
                k += 2;
            }
            'f' => {
                text.push('\x0c');
                k += 2;
            }
            'n' => {
                text.push('\n');
                k += 2;
            }
            'r' => {
                text.push('\r');
                k += 2;
            }
            't' => {
                text.push('\t');
                k += 2;
            }
            'v' => {
                text.push('\x0b');
                k += 2;
            }
            '\\' => {
                text.push('\\');
                k += 2;
            }
            e if e.is_ascii_alphabetic() => return unsupported(format!("bad escape \\{e}")),
            e => {
                text.push('\\');
                text.push(e);
                k += 2;
            }
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(Template(pieces))
}

impl PyRegex {
    /// Translates Python pattern `pattern`, compiled with `re.MULTILINE` when `multiline` and
    /// `re.DOTALL` when `dotall`.
    ///
    /// Errors: [`Unsupported`] as [`translate`], and when fancy-regex refuses the translation
    /// (a quantified look-around, which Python allows).
    pub fn new(pattern: &str, multiline: bool, dotall: bool) -> Result<PyRegex, Unsupported> {
        let t = translate(pattern, multiline, dotall)?;
        let re = fancy_regex::Regex::new(&t.pattern).map_err(|e| Unsupported(format!("the pattern: {e}")))?;
        Ok(PyRegex { re, tables: t.tables })
    }

    /// Translates the class starting at `chars[0]` (a `[`): its Rust form and how many
    /// characters it used.
    fn class(chars: &[(usize, char)], tables: &mut bool) -> Result<(String, usize), Unsupported> {
        let mut out = String::from("[");
        let mut k = 1;
        if chars.get(k).map(|c| c.1) == Some('^') {
            out.push('^');
            k += 1;
        }
        let mut first = true;
        let mut prev = '\0';
        while k < chars.len() {
            let c = chars[k].1;
            match c {
                ']' if !first => return Ok((out + "]", k + 1)),
                '[' => return unsupported("a class holding '['"),
                '&' | '-' | '~' if prev == c => {
                    return unsupported(format!("a class holding {c}{c}"));
                }
                '\\' => {
                    let Some(&(_, e)) = chars.get(k + 1) else {
                        return unsupported("an unterminated class");
                    };
                    let rest: String = chars[k + 2..].iter().map(|x| x.1).collect();
                    let (form, used) = escape(e, &rest, true, tables)?;
                    out.push_str(&form);
                    k += 2 + used;
                    first = false;
                    prev = '\0';
                    continue;
                }
                '-' => out.push('-'),
                c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
            }
            prev = c;
            first = false;
            k += 1;
        }
        unsupported("an unterminated class")
    }

    /// True when searching `text` natively finds what Python finds: always, unless the
    /// pattern uses character tables (`\w`, `\s`, ignoring case, ...) and `text` holds
    /// characters beyond ASCII or `\x1c`-`\x1f` (where Python's tables differ from Rust's).
    pub fn fits(&self, text: &str) -> bool {
        !self.tables || text.bytes().all(|b| b.is_ascii() && !(0x1c..=0x1f).contains(&b))
    }

    /// Whether Python's `pattern.match(text)` (`at_start`) or `pattern.search(text)` finds a
    /// match.
    ///
    /// Errors: [`Unsupported`] when the text does not fit the character tables, or the
    /// backtracking engine gives up (a pathological pattern: Python decides).
    pub fn finds(&self, text: &str, at_start: bool) -> Result<bool, Unsupported> {
        if !self.fits(text) {
            return unsupported("a text beyond ASCII for a pattern with character classes or ignoring case");
        }
        if at_start {
            // A match at 0 exists exactly when the leftmost match starts there.
            let m = self
                .re
                .find(text)
                .map_err(|e| Unsupported(format!("the pattern while matching: {e}")))?;
            return Ok(m.is_some_and(|m| m.start() == 0));
        }
        self.re
            .is_match(text)
            .map_err(|e| Unsupported(format!("the pattern while matching: {e}")))
    }

    /// Python's `re.search`: the leftmost match, with its groups (`None` also when the
    /// backtracking engine gives up).
    pub fn search<'t>(&self, text: &'t str) -> Option<fancy_regex::Captures<'t, str>> {
        self.re.captures(text).ok().flatten()
    }

    /// The number of the group called `name`, if any.
    pub fn group(&self, name: &str) -> Option<usize> {
        self.re.capture_names().position(|n| n == Some(name))
    }

    /// Parses replacement template `template` against this pattern's groups.
    ///
    /// Errors: [`Unsupported`] for octal escapes and for what Python refuses (a bad escape of a
    /// letter, a reference to a group the pattern lacks, a malformed `\g<...>`).
    pub fn template(&self, template: &str) -> Result<Template, Unsupported> {
        parse_template(template, self.re.captures_len(), &|name| self.group(name))
    }

    /// Python's `re.subn(pattern, template, text)`: the text with every match replaced, and
    /// the number of matches, with Python 3.7+'s empty-match rules ([`py_captures`]).
    ///
    /// Errors: [`Unsupported`] when `text` does not [`PyRegex::fits`] or the backtracking
    /// engine gives up.
    pub fn subn(&self, text: &str, template: &Template) -> Result<(String, usize), Unsupported> {
        if !self.fits(text) {
            return unsupported("a text beyond ASCII for a pattern with character classes or ignoring case");
        }
        let mut out = String::with_capacity(text.len());
        let (mut last, mut n) = (0usize, 0usize);
        for caps in py_captures(&self.re, text)? {
            let Some(m) = caps.get(0) else { continue };
            out.push_str(&text[last..m.start()]);
            template.expand(|g| caps.get(g).map(|x| x.as_str()), &mut out);
            n += 1;
            last = m.end();
        }
        out.push_str(&text[last..]);
        Ok((out, n))
    }
}

/// Every match of `re` in `text` as Python's `re.finditer` (3.7+) finds them: after a
/// non-empty match, an empty one may follow at its end (`re.sub('b*', '-', 'abc')` is
/// `-a--c-`); after an empty match at p, the next one must not be empty at p, so the
/// pattern's lower-priority non-empty choices at p are tried first (fancy-regex's
/// `find_not_empty`, as sre's `must_advance`), else the search goes on from the next
/// character.
///
/// Errors: [`Unsupported`] when the backtracking engine gives up.
pub fn py_captures<'t>(
    re: &fancy_regex::Regex,
    text: &'t str,
) -> Result<Vec<fancy_regex::Captures<'t, str>>, Unsupported> {
    let run = |e: fancy_regex::Error| Unsupported(format!("the pattern while matching: {e}"));
    // The not-empty variant of `re`, compiled on the first empty match only (most patterns
    // never match empty); `Some(None)`: the pattern can only match empty.
    let mut not_empty: Option<Option<fancy_regex::Regex>> = None;
    let mut out = Vec::new();
    let mut pos = 0;
    let mut must_advance = false;
    while pos <= text.len() {
        let caps = if must_advance {
            let ne = not_empty.get_or_insert_with(|| {
                fancy_regex::RegexBuilder::new(re.as_str())
                    .find_not_empty(true)
                    .build()
                    .ok()
            });
            let here = match ne {
                Some(ne) => ne
                    .captures_from_pos(text, pos)
                    .map_err(run)?
                    .filter(|c| c.get(0).is_some_and(|m| m.start() == pos)),
                None => None,
            };
            match here {
                Some(c) => Some(c),
                None => {
                    let Some(ch) = text[pos..].chars().next() else {
                        break;
                    };
                    re.captures_from_pos(text, pos + ch.len_utf8()).map_err(run)?
                }
            }
        } else {
            re.captures_from_pos(text, pos).map_err(run)?
        };
        let Some(c) = caps else {
            break;
        };
        let Some((s, e)) = c.get(0).map(|m| (m.start(), m.end())) else {
            break;
        };
        must_advance = s == e;
        pos = e;
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "pyre_tests.rs"]
mod test_cases;
