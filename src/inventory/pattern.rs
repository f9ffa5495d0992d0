//! Host names and host patterns: the small languages inventory files and `hosts:` lines share.
//!
//! Three things live here because both inventory formats and the play/`--limit` selection need
//! them: expanding host ranges (`web[01:03].example.com`, `db-[a:c]`), splitting a host entry into
//! name and `:port`, and turning a host pattern (`web*`, `~db\d+`, `a,b:&c:!d`, `g[0:2]`) into the
//! steps Ansible evaluates. Behaviour follows ansible-core's `plugins/inventory/__init__.py`
//! (`expand_hostname_range`), `parsing/utils/addresses.py` (`parse_address`) and
//! `inventory/manager.py` (`split_host_pattern`, `order_patterns`, `_split_subscript`).

use std::sync::LazyLock;

use regex::Regex;

/// A host range or host pattern that cannot be understood; the text says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

/// The most host names one host range (`web[0:99]`, with several ranges their product) may
/// expand to; past it the range is an error, counted before any name is built.
pub const MAX_RANGE_HOSTS: u64 = 1_000_000;

/// Expands every `[begin:end]` / `[begin:end:step]` range in `name` into host names, in order.
///
/// Matches ansible-core `expand_hostname_range`: numeric ranges keep zero padding when `begin`
/// starts with `0` (then `begin` and `end` must have the same width), single letters give
/// alphabetic ranges (`[a:c]`), an empty `begin` means 0, several ranges multiply out left to right.
/// A name without `[` is returned as is.
///
/// Errors: a range with other than 2 or 3 bounds, no end, unequal padded widths, a step of 0,
/// bounds that are neither numbers (below 2^64) nor letters, or more than [`MAX_RANGE_HOSTS`]
/// names in all (Ansible has no bound: `h[0:99999999999]` would exhaust memory).
pub fn expand_range(name: &str) -> Result<Vec<String>, PatternError> {
    let pieces = parse_ranges(name)?;
    let total = count(&pieces, name)?;
    let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut current = String::new();
    expand_pieces(&pieces, &mut current, &mut out);
    Ok(out)
}

/// How many host names [`expand_range`] gives for `name`, without building them.
///
/// Errors: as [`expand_range`].
pub fn range_len(name: &str) -> Result<u64, PatternError> {
    count(&parse_ranges(name)?, name)
}

/// A host name split into literal text and ranges.
enum Piece<'a> {
    Text(&'a str),
    Range(Bounds),
}

/// One parsed `[begin:end:step]`.
enum Bounds {
    /// Numbers, zero-padded to `pad` digits (0: no padding).
    Num {
        beg: u64,
        end: u64,
        step: u64,
        pad: usize,
    },
    /// Indexes into [`LETTERS`].
    Alpha { beg: usize, end: usize, step: usize },
}

impl Bounds {
    /// How many items the range gives (0 when begin > end for numbers, like Python `range`).
    fn len(&self) -> u64 {
        match *self {
            Bounds::Num { beg, end, step, .. } => {
                if beg > end {
                    0
                } else {
                    ((end - beg) / step).saturating_add(1)
                }
            }
            Bounds::Alpha { beg, end, step } => ((end - beg) / step + 1) as u64,
        }
    }

    fn each(&self, mut f: impl FnMut(&str)) {
        match *self {
            Bounds::Num { beg, end, step, pad } => {
                let mut i = beg;
                while i <= end {
                    f(&format!("{i:0pad$}"));
                    match i.checked_add(step) {
                        Some(n) => i = n,
                        None => break,
                    }
                }
            }
            Bounds::Alpha { beg, end, step } => {
                for i in (beg..=end).step_by(step) {
                    f(&LETTERS[i..=i]);
                }
            }
        }
    }
}

fn parse_ranges(name: &str) -> Result<Vec<Piece<'_>>, PatternError> {
    let mut pieces = Vec::new();
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        let Some(close_rel) = rest[open + 1..].find(']') else {
            return Err(PatternError(format!("host range in '{name}' has no closing ']'")));
        };
        let close = open + 1 + close_rel;
        pieces.push(Piece::Text(&rest[..open]));
        pieces.push(Piece::Range(parse_bounds(&rest[open + 1..close], name)?));
        rest = &rest[close + 1..];
    }
    pieces.push(Piece::Text(rest));
    Ok(pieces)
}

fn parse_bounds(range: &str, name: &str) -> Result<Bounds, PatternError> {
    let bounds: Vec<&str> = range.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(PatternError(format!(
            "host range '[{range}]' in '{name}' must be begin:end or begin:end:step"
        )));
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err(PatternError(format!(
            "host range '[{range}]' in '{name}' must specify an end value"
        )));
    }
    let step: u64 = match bounds.get(2) {
        None => 1,
        Some(s) => s.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            PatternError(format!(
                "host range step '{s}' in '{name}' must be a positive number"
            ))
        })?,
    };
    let pad = if beg.len() > 1 && beg.starts_with('0') {
        if beg.len() != end.len() {
            return Err(PatternError(format!(
                "host range '[{range}]' in '{name}' must use equal-length begin and end when zero-padded"
            )));
        }
        beg.len()
    } else {
        0
    };
    if let (Some(b), Some(e)) = (letter_index(beg), letter_index(end)) {
        if b > e {
            return Err(PatternError(format!(
                "host range '[{range}]' in '{name}' must have begin <= end"
            )));
        }
        return Ok(Bounds::Alpha {
            beg: b,
            end: e,
            step: usize::try_from(step).unwrap_or(usize::MAX),
        });
    }
    let number = |s: &str| -> Result<u64, PatternError> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(PatternError(format!(
                "host range '[{range}]' in '{name}' needs numbers or single letters as bounds"
            )));
        }
        s.parse().map_err(|_| {
            PatternError(format!(
                "host range '[{range}]' in '{name}' has a bound past 18446744073709551615; \
                 at most {MAX_RANGE_HOSTS} host names may come from one range"
            ))
        })
    };
    Ok(Bounds::Num {
        beg: number(beg)?,
        end: number(end)?,
        step,
        pad,
    })
}

/// The product of the ranges' lengths, or an error past [`MAX_RANGE_HOSTS`].
fn count(pieces: &[Piece<'_>], name: &str) -> Result<u64, PatternError> {
    let mut total: u64 = 1;
    for p in pieces {
        if let Piece::Range(b) = p {
            total = total
                .checked_mul(b.len())
                .filter(|n| *n <= MAX_RANGE_HOSTS)
                .ok_or_else(|| {
                    PatternError(format!(
                        "host range '{name}' expands to more than {MAX_RANGE_HOSTS} host names, the most talon expands from one entry"
                    ))
                })?;
        }
    }
    Ok(total)
}

/// Appends every name `pieces` give, left-most range varying slowest.
fn expand_pieces(pieces: &[Piece<'_>], current: &mut String, out: &mut Vec<String>) {
    let Some((first, rest)) = pieces.split_first() else {
        out.push(current.clone());
        return;
    };
    let len = current.len();
    match first {
        Piece::Text(t) => {
            current.push_str(t);
            expand_pieces(rest, current, out);
        }
        Piece::Range(b) => b.each(|item| {
            current.push_str(item);
            expand_pieces(rest, current, out);
            current.truncate(len);
        }),
    }
    current.truncate(len);
}

/// Python's `string.ascii_letters`, the alphabet of alphabetic host ranges.
const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn letter_index(s: &str) -> Option<usize> {
    if s.len() == 1 { LETTERS.find(s) } else { None }
}

static BRACKETED_HOSTPORT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern
    Regex::new(r"^\[(.+)\]:([0-9]+)$").expect("valid regex")
});
static HOSTPORT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern
    Regex::new(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$").expect("valid regex")
});

/// Splits an inventory host entry into host (pattern) and optional port: `web1:2222`,
/// `[2001:db8::1]:22`, `db[01:03]:5432`; a bare IPv6 address has no port.
///
/// Matches ansible-core `parse_address(allow_ranges=True)` as used by inventory plugins: when the
/// entry is not a recognisable address the whole text is the host name and there is no port.
pub fn split_host_port(entry: &str) -> (String, Option<u16>) {
    for re in [&*BRACKETED_HOSTPORT, &*HOSTPORT] {
        if let Some(c) = re.captures(entry) {
            let host = c.get(1).map_or("", |m| m.as_str());
            let port = c.get(2).and_then(|m| m.as_str().parse::<u16>().ok());
            if let Some(port) = port
                && !host.is_empty()
            {
                return (host.to_string(), Some(port));
            }
        }
    }
    (entry.to_string(), None)
}

/// One step of a host pattern, after Ansible's reordering (unions, then `&`, then `!`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Add the hosts matched by the term (keeping earlier hosts first).
    Union(Term),
    /// Keep only hosts also matched by the term (`&term`).
    Intersect(Term),
    /// Drop hosts matched by the term (`!term`).
    Exclude(Term),
}

/// One host pattern term: a name, glob or `~regex`, with an optional `[i]` / `[a:b]` subscript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The pattern text without `&`/`!` and without the subscript.
    pub expr: String,
    /// `(start, end)`: `[i]` is `(i, None)`, `[a:b]` is `(a, Some(b))` inclusive, `[a:]` is
    /// `(a, Some(-1))` meaning to the end.
    pub subscript: Option<(i64, Option<i64>)>,
}

/// Splits a host pattern string into single patterns like ansible-core `split_host_pattern`:
/// commas first; without commas, a single address or range (`web[1:3]`, `::1`) stays whole,
/// otherwise `:` separates (the legacy form `web:&prod:!db`). Whitespace around items is dropped.
///
/// Unlike ansible-core, which silently drops what its colon split cannot match (so `~[` became
/// `~`, a regex matching every host), such a pattern stays whole and fails or matches nothing.
pub fn split_patterns(pattern: &str) -> Vec<String> {
    static COLON_ITEMS: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::expect_used)] // a constant pattern
        Regex::new(r"(?:[^\s:\[\]]|\[[^\]]*\])+").expect("valid regex")
    });
    let items: Vec<String> = if pattern.contains(',') {
        pattern.split(',').map(str::to_string).collect()
    } else if looks_like_single_address(pattern.trim()) {
        vec![pattern.to_string()]
    } else {
        let items: Vec<String> = COLON_ITEMS
            .find_iter(pattern)
            .map(|m| m.as_str().to_string())
            .collect();
        let kept: usize = items.iter().map(String::len).sum();
        let meant = pattern
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ':')
            .map(char::len_utf8)
            .sum::<usize>();
        if kept == meant {
            items
        } else {
            vec![pattern.to_string()]
        }
    };
    items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether `s` parses as one host address (name, IPv4, IPv6, with ranges and optional port), the
/// test `split_host_pattern` uses to decide that `:` is not a separator.
fn looks_like_single_address(s: &str) -> bool {
    static LABEL_HOST: LazyLock<Regex> = LazyLock::new(|| {
        // A DNS-ish name whose labels may contain [x:y] ranges. `&`, `!`, `*`, `~` are not allowed,
        // so patterns with operators fall through to the colon split.
        #[allow(clippy::expect_used)] // a constant pattern
        Regex::new(r"^(?:[\w]|\[[a-z0-9]+:[a-z0-9]+(?::[0-9]+)?\])(?:[\w-]|\[[a-z0-9]+:[a-z0-9]+(?::[0-9]+)?\])*(?:\.(?:[\w]|\[[a-z0-9]+:[a-z0-9]+(?::[0-9]+)?\])(?:[\w-]|\[[a-z0-9]+:[a-z0-9]+(?::[0-9]+)?\])*)*$").expect("valid regex")
    });
    static IPV6: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::expect_used)] // a constant pattern
        Regex::new(r"^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$").expect("valid regex")
    });
    let (host, _) = split_host_port(s);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.ends_with('-') || host.ends_with('_') {
        return false;
    }
    (LABEL_HOST.is_match(host) && !host.contains(':'))
        || (IPV6.is_match(host) && host.matches(':').count() >= 2)
}

/// Parses a host pattern into ordered steps like ansible-core `order_patterns`: all plain terms
/// first, then `&` terms, then `!` terms; with no plain term, `all` is implied.
pub fn parse(pattern: &str) -> Vec<Step> {
    order(split_patterns(pattern))
}

/// Orders already split pattern items (`!x`, `&x`, `x`) into steps; empty items are skipped.
pub fn order(items: Vec<String>) -> Vec<Step> {
    let mut unions = Vec::new();
    let mut intersections = Vec::new();
    let mut exclusions = Vec::new();
    for p in items.into_iter().filter(|p| !p.is_empty()) {
        if let Some(rest) = p.strip_prefix('!') {
            exclusions.push(Step::Exclude(term(rest)));
        } else if let Some(rest) = p.strip_prefix('&') {
            intersections.push(Step::Intersect(term(rest)));
        } else {
            unions.push(Step::Union(term(&p)));
        }
    }
    if unions.is_empty() {
        unions.push(Step::Union(term("all")));
    }
    unions
        .into_iter()
        .chain(intersections)
        .chain(exclusions)
        .collect()
}

/// Splits off a trailing `[i]`, `[a:b]` or `[a:]` subscript (not for `~regex` terms), like
/// ansible-core `_split_subscript`.
fn term(p: &str) -> Term {
    static SUBSCRIPT: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::expect_used)] // a constant pattern
        Regex::new(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)[:-]([0-9]*))\]$").expect("valid regex")
    });
    if !p.starts_with('~')
        && let Some(c) = SUBSCRIPT.captures(p)
    {
        let expr = c.get(1).map_or("", |m| m.as_str()).to_string();
        if let Some(idx) = c.get(2).and_then(|m| m.as_str().parse::<i64>().ok()) {
            return Term {
                expr,
                subscript: Some((idx, None)),
            };
        }
        if let Some(start) = c.get(3).and_then(|m| m.as_str().parse::<i64>().ok()) {
            let end = c
                .get(4)
                .and_then(|m| m.as_str().parse::<i64>().ok())
                .unwrap_or(-1);
            return Term {
                expr,
                subscript: Some((start, Some(end))),
            };
        }
    }
    Term {
        expr: p.to_string(),
        subscript: None,
    }
}

/// Applies a subscript to matched hosts like ansible-core `_apply_subscript`: `[i]` picks one
/// (negative counts from the end), `[a:b]` is inclusive, `[a:]` runs to the end.
///
/// Errors: `[i]` out of range (Ansible: "No hosts matched the subscripted pattern").
pub fn apply_subscript(
    hosts: Vec<String>,
    subscript: Option<(i64, Option<i64>)>,
) -> Result<Vec<String>, PatternError> {
    let Some((start, end)) = subscript else {
        return Ok(hosts);
    };
    if hosts.is_empty() {
        return Ok(hosts);
    }
    let len = hosts.len() as i64;
    let norm = |i: i64| if i < 0 { len + i } else { i };
    match end {
        Some(end) if end != 0 => {
            let end = if end == -1 { len - 1 } else { end };
            let (s, e) = (norm(start).clamp(0, len), (end + 1).clamp(0, len));
            Ok(if s < e {
                hosts[s as usize..e as usize].to_vec()
            } else {
                Vec::new()
            })
        }
        _ => {
            let i = norm(start);
            if (0..len).contains(&i) {
                Ok(vec![hosts[i as usize].clone()])
            } else {
                Err(PatternError(format!(
                    "no host at index {start} ({len} hosts matched)"
                )))
            }
        }
    }
}

/// A compiled name matcher: a shell glob (Python `fnmatch`, case-sensitive, whole name) or, when
/// the text starts with `~`, a regex anchored at the start only (Python `re.match`).
pub struct Matcher(Regex);

impl Matcher {
    /// Compiles a pattern term's expression.
    ///
    /// Errors: an invalid `~regex`.
    pub fn new(expr: &str) -> Result<Self, PatternError> {
        let source = match expr.strip_prefix('~') {
            Some(re) => format!("^(?:{re})"),
            None => format!("^(?:{})$", glob_to_regex(expr)),
        };
        Regex::new(&source)
            .map(Matcher)
            .map_err(|e| PatternError(format!("invalid host pattern '{expr}': {e}")))
    }

    /// Whether `name` matches.
    pub fn is_match(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

/// Whether a term uses glob/regex syntax, in which case Ansible also matches host names even when
/// a group name matched (`_enumerate_matches`: `~`, `.`, `?`, `*`, `[`).
pub fn is_wild(expr: &str) -> bool {
    expr.starts_with('~') || expr.contains(['.', '?', '*', '['])
}

/// Translates a shell glob to regex source like Python `fnmatch.translate`.
fn glob_to_regex(glob: &str) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if j < chars.len() && chars[j] == '!' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                } else {
                    let inner: String = chars[i..j].iter().collect();
                    let mut class = String::from("[");
                    let body = match inner.strip_prefix('!') {
                        Some(rest) => {
                            class.push('^');
                            rest.to_string()
                        }
                        None => inner,
                    };
                    for ch in body.chars() {
                        if matches!(ch, '\\' | '[' | ']' | '&' | '~' | '|' | '^') {
                            class.push('\\');
                        }
                        class.push(ch);
                    }
                    class.push(']');
                    out.push_str(&class);
                    i = j + 1;
                }
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn expands_numeric_ranges_with_padding() {
        assert_eq!(
            expand_range("web[01:03].example.com").unwrap(),
            vec!["web01.example.com", "web02.example.com", "web03.example.com"]
        );
        assert_eq!(expand_range("h[1:10:4]").unwrap(), vec!["h1", "h5", "h9"]);
        assert_eq!(expand_range("h[:2]").unwrap(), vec!["h0", "h1", "h2"]);
    }

    #[test]
    fn expands_alpha_and_multiple_ranges() {
        assert_eq!(expand_range("db-[a:c]").unwrap(), vec!["db-a", "db-b", "db-c"]);
        assert_eq!(
            expand_range("r[1:2]n[a:b]").unwrap(),
            vec!["r1na", "r1nb", "r2na", "r2nb"]
        );
    }

    #[test]
    fn rejects_bad_ranges() {
        assert!(expand_range("h[1-3]").is_err());
        assert!(expand_range("h[01:100]").is_err());
        assert!(expand_range("h[1:]").is_err());
        assert!(expand_range("h[c:a]").is_err());
    }

    #[test]
    fn d4_host_range_expansion_is_bounded() {
        for name in [
            "h[0:18446744073709551615]",
            "h[0:99999999999]",
            "h[0:9999][0:9999]",
            "h[0:99999999999999999999999]",
            "h[0:1000000]",
            "h[0:18446744073709551615:1]x[0:1]",
        ] {
            let e = expand_range(name).unwrap_err().0;
            assert!(
                e.contains("1000000") || e.contains("18446744073709551615"),
                "{name}: {e}"
            );
            assert!(range_len(name).is_err(), "{name}");
        }
        assert_eq!(expand_range("h[0:999999]").unwrap().len(), 1_000_000);
        assert_eq!(range_len("h[0:999][0:999]").unwrap(), 1_000_000);
        assert_eq!(
            expand_range("h[18446744073709551614:18446744073709551615]").unwrap(),
            vec!["h18446744073709551614", "h18446744073709551615"]
        );
        assert!(expand_range("h[3:1]").unwrap().is_empty());
    }

    #[test]
    fn splits_ports() {
        assert_eq!(split_host_port("web1:2222"), ("web1".into(), Some(2222)));
        assert_eq!(
            split_host_port("db[01:03]:5432"),
            ("db[01:03]".into(), Some(5432))
        );
        assert_eq!(
            split_host_port("[2001:db8::1]:22"),
            ("2001:db8::1".into(), Some(22))
        );
        assert_eq!(split_host_port("::1"), ("::1".into(), None));
        assert_eq!(split_host_port("web1"), ("web1".into(), None));
    }

    #[test]
    fn splits_patterns_like_ansible() {
        assert_eq!(
            split_patterns("a, b[1], c[2:3] , d"),
            vec!["a", "b[1]", "c[2:3]", "d"]
        );
        assert_eq!(split_patterns("web:&prod:!db1"), vec!["web", "&prod", "!db1"]);
        assert_eq!(split_patterns("web[1:3]"), vec!["web[1:3]"]);
        assert_eq!(split_patterns("fe80::1"), vec!["fe80::1"]);
        assert_eq!(split_patterns("host:2222"), vec!["host:2222"]);
        // Nothing is silently dropped: `~[` is not the match-everything `~`.
        assert_eq!(split_patterns("~["), vec!["~["]);
    }

    #[test]
    fn orders_unions_then_intersections_then_exclusions() {
        let steps = parse("!c,&b,a");
        assert!(matches!(&steps[0], Step::Union(t) if t.expr == "a"));
        assert!(matches!(&steps[1], Step::Intersect(t) if t.expr == "b"));
        assert!(matches!(&steps[2], Step::Exclude(t) if t.expr == "c"));
        assert!(matches!(&parse("!c")[0], Step::Union(t) if t.expr == "all"));
    }

    #[test]
    fn subscripts() {
        let hosts: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let t = term("g[1:2]");
        assert_eq!(t.expr, "g");
        assert_eq!(
            apply_subscript(hosts.clone(), t.subscript).unwrap(),
            vec!["b", "c"]
        );
        assert_eq!(
            apply_subscript(hosts.clone(), term("g[-1]").subscript).unwrap(),
            vec!["d"]
        );
        assert_eq!(
            apply_subscript(hosts.clone(), term("g[2:]").subscript).unwrap(),
            vec!["c", "d"]
        );
        assert!(apply_subscript(hosts, term("g[9]").subscript).is_err());
        assert_eq!(term("~web[0-9]").subscript, None);
    }

    #[test]
    fn globs_and_regexes() {
        assert!(Matcher::new("web*").unwrap().is_match("web01"));
        assert!(!Matcher::new("web*").unwrap().is_match("aweb01"));
        assert!(Matcher::new("web0[12]").unwrap().is_match("web02"));
        assert!(!Matcher::new("web0[!12]").unwrap().is_match("web02"));
        assert!(Matcher::new("web?.a.b").unwrap().is_match("web1.a.b"));
        assert!(!Matcher::new("web?.a.b").unwrap().is_match("web1xaxb"));
        // re.match: anchored at the start only.
        assert!(Matcher::new(r"~web\d+").unwrap().is_match("web12.example.com"));
        assert!(!Matcher::new(r"~web\d+").unwrap().is_match("xweb12"));
        assert!(Matcher::new("~(").is_err());
    }
}
