//! Python's `fnmatch.fnmatch` on POSIX, as ansible.builtin.find matches names against its
//! `patterns` and `excludes` (and as setup's `filter` matches fact names).

/// One token of an `fnmatch` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Glob {
    Star,
    Any,
    Lit(char),
    Class { negated: bool, items: Vec<(char, char)> },
}

/// Parses a glob as Python 3.11's `fnmatch.translate` reads it: `*`, `?`, `[seq]`, `[!seq]`
/// (a `]` first in the set is a member; `a-z` ranges, a reversed range matches nothing; `-`
/// first or last is a member; backslash is an ordinary character), and a `[` without its `]`
/// a literal.
fn parse_glob(pattern: &str) -> Vec<Glob> {
    let p: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        let c = p[i];
        i += 1;
        match c {
            '*' => {
                if out.last() != Some(&Glob::Star) {
                    out.push(Glob::Star);
                }
            }
            '?' => out.push(Glob::Any),
            '[' => {
                let mut j = i;
                if j < p.len() && p[j] == '!' {
                    j += 1;
                }
                if j < p.len() && p[j] == ']' {
                    j += 1;
                }
                while j < p.len() && p[j] != ']' {
                    j += 1;
                }
                if j >= p.len() {
                    out.push(Glob::Lit('['));
                    continue;
                }
                let mut body = &p[i..j];
                i = j + 1;
                let negated = body.first() == Some(&'!');
                if negated {
                    body = &body[1..];
                }
                let mut items = Vec::new();
                let mut k = 0;
                while k < body.len() {
                    let lo = body[k];
                    if body.get(k + 1) == Some(&'-') && k + 2 < body.len() {
                        let hi = body[k + 2];
                        if lo <= hi {
                            items.push((lo, hi));
                        }
                        k += 3;
                    } else {
                        items.push((lo, lo));
                        k += 1;
                    }
                }
                out.push(Glob::Class { negated, items });
            }
            c => out.push(Glob::Lit(c)),
        }
    }
    out
}

/// Python's `fnmatch.fnmatch(name, pattern)` on POSIX (case-sensitive; `*` and `?` match any
/// character, `/` and newlines included).
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    let glob = parse_glob(pattern);
    let s: Vec<char> = name.chars().collect();
    let one = |g: &Glob, c: char| match g {
        Glob::Any => true,
        Glob::Lit(l) => *l == c,
        Glob::Class { negated, items } => items.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated,
        Glob::Star => false,
    };
    // Classic wildcard matching with the last star as the backtrack point.
    let (mut gi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if gi < glob.len() && glob[gi] == Glob::Star {
            star = Some((gi, si));
            gi += 1;
        } else if gi < glob.len() && one(&glob[gi], s[si]) {
            gi += 1;
            si += 1;
        } else if let Some((sg, ss)) = star {
            gi = sg + 1;
            si = ss + 1;
            star = Some((sg, ss + 1));
        } else {
            return false;
        }
    }
    glob[gi..].iter().all(|g| *g == Glob::Star)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // Expected values: Python 3.11's fnmatch.fnmatch.
    #[test]
    fn globs_match_as_pythons_fnmatch() {
        for (name, pattern, want) in [
            ("a.log", "*.log", true),
            ("a.log", "*.LOG", false),
            (".x", "*", true),
            ("a/b", "a*b", true),
            ("a\nb", "a?b", true),
            ("b", "[a-c]", true),
            ("d", "[a-c]", false),
            ("d", "[!a-c]", true),
            ("]", "[]]", true),
            ("-", "[a-]", true),
            ("-", "[-a]", true),
            ("b", "[c-a]", false),
            ("[", "[", true),
            ("[x", "[x", true),
            ("\\", "[\\]", true),
            ("ab", "a[!]]", true),
            ("a]", "a[!]]", false),
            ("abc", "a*c*", true),
            ("abcd", "*b*d", true),
            ("x.tar.gz", "*.gz", true),
            ("x", "", false),
        ] {
            assert_eq!(fnmatch(name, pattern), want, "{name:?} {pattern:?}");
        }
    }

    /// Cases generated from Python 3.11's `fnmatch.fnmatch` over random globs and names.
    #[test]
    fn globs_equal_pythons_fnmatch_on_generated_cases() {
        let cases: Vec<(String, String, bool)> =
            serde_json::from_str(include_str!("testdata/fnmatch_cases.json")).unwrap();
        assert!(cases.iter().filter(|c| c.2).count() > 100);
        for (name, pattern, want) in &cases {
            assert_eq!(fnmatch(name, pattern), *want, "{name:?} {pattern:?}");
        }
    }
}
