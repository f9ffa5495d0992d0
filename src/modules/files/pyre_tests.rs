//! The unit tests of the parent module: outputs of the reference implementation (Python 3.11,
//! PyYAML 6) for the same inputs.

use super::*;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// `re.subn(pattern, repl, text, flags=re.M)` natively.
    fn subn(pattern: &str, repl: &str, text: &str) -> Result<(String, usize), Unsupported> {
        let re = PyRegex::new(pattern, true, false)?;
        let t = re.template(repl)?;
        re.subn(text, &t)
    }

    fn ok(pattern: &str, repl: &str, text: &str) -> (String, usize) {
        subn(pattern, repl, text).unwrap_or_else(|e| panic!("{pattern:?}: {e}"))
    }

    // Expected values below are Python 3.11's `re.subn(..., flags=re.MULTILINE)`.
    #[test]
    fn empty_matches_follow_python() {
        assert_eq!(ok("x*", "-", "abxd"), ("-a-b--d-".into(), 5));
        assert_eq!(ok("^", "# ", "a\nb\n"), ("# a\n# b\n# ".into(), 3));
        assert_eq!(ok("$", ";", "a\nb"), ("a;\nb;".into(), 2));
        assert_eq!(ok("", "-", "ab"), ("-a-b-".into(), 3));
        assert_eq!(ok("^$", "EMPTY", "a\n\nb\n"), ("a\nEMPTY\nb\nEMPTY".into(), 2));
    }

    #[test]
    fn groups_and_escapes_expand_as_python() {
        assert_eq!(ok(r"(\w+)=(\w+)", r"\2=\1", "a=b\nc=d"), ("b=a\nd=c".into(), 2));
        assert_eq!(ok(r"(?P<k>\w+)=", r"\g<k>: ", "a=1"), ("a: 1".into(), 1));
        assert_eq!(ok(r"(a)(b)?", r"[\2\g<1>\g<0>]", "a"), ("[aa]".into(), 1));
        assert_eq!(ok("a", r"\t\n\\\.", "a"), ("\t\n\\\\.".into(), 1));
        assert!(
            subn("(a)", r"\10", "a").is_err(),
            "\\10 is group 10, which (a) lacks"
        );
    }

    #[test]
    fn refused_templates_are_left_to_python() {
        assert!(subn("(a)", r"\2", "a").is_err(), "invalid group reference");
        assert!(subn("(a)", r"\q", "a").is_err(), "bad escape");
        assert!(subn("(a)", r"\g<x>", "a").is_err(), "unknown group name");
        assert!(subn("(a)", r"\g1", "a").is_err(), "missing <");
        assert!(subn("(a)", r"\0", "a").is_err(), "octal");
        assert!(subn("(a)", r"\101", "a").is_err(), "octal");
        assert!(subn("(a)", "x\\", "a").is_err(), "trailing backslash");
    }

    #[test]
    fn python_only_patterns_are_left_to_python() {
        for p in [
            r"(?<n>a)",
            r"(?x) a",
            r"(?a)\w",
            r"a(?i)b",
            r"(?#c)a",
            r"(?>a)",
            r"a*+",
            r"a**",
            r"*a",
            r"[[a]]",
            r"[a&&b]",
            r"[a--b]",
            r"\z",
            r"\p{L}",
            r"\x{41}",
            r"\N{DIGIT ONE}",
            r"\0",
            r"\q",
            r"(a",
            r"a)",
            r"[a",
            r"(?P<a.b>x)",
            r"(?(1)a|b)",
        ] {
            assert!(
                PyRegex::new(p, true, false).is_err(),
                "{p} should be left to Python"
            );
        }
        // Look-around and backreferences run natively (fancy-regex), as Python's.
        assert_eq!(ok("(?<=a)b", "x", "ab"), ("ax".into(), 1));
        assert_eq!(ok("(?<!a)b", "x", "ab b"), ("ab x".into(), 1));
        assert_eq!(ok(r"(\w)\1", "<\\1>", "aabcc"), ("<a>b<c>".into(), 2));
        assert_eq!(ok("(?P<n>a)(?P=n)", "x", "aaa"), ("xa".into(), 1));
        assert_eq!(ok("a(?=b)", "x", "ab ac"), ("xb ac".into(), 1));
        assert_eq!(ok("a(?!b)", "x", "ab ac"), ("ab xc".into(), 1));
        // A reference to a later or open group is Python's error.
        assert!(PyRegex::new(r"\1(a)", true, false).is_err());
        assert!(PyRegex::new(r"(a\1)", true, false).is_err());
    }

    #[test]
    fn python_literals_stay_literals() {
        assert_eq!(ok(r"\<a\>", "x", "<a>"), ("x".into(), 1));
        assert_eq!(ok(r"a{", "x", "a{"), ("x".into(), 1));
        assert_eq!(ok(r"a{,2}b", "x", "aab"), ("x".into(), 1));
        assert_eq!(ok(r"a{x}", "y", "a{x}"), ("y".into(), 1));
        assert_eq!(ok(r"#&~", "y", "#&~"), ("y".into(), 1));
        assert_eq!(ok(r"[]a]", "y", "]a"), ("yy".into(), 2));
        assert_eq!(ok(r"[\b]", "y", "\x08"), ("y".into(), 1));
        assert_eq!(ok(r"a\Z", "y", "a\na"), ("a\ny".into(), 1));
        assert_eq!(ok(r"(?i)ab", "y", "AB ab"), ("y y".into(), 2));
        assert_eq!(ok(r"(?i:a)b", "y", "Ab AB"), ("y AB".into(), 1));
        assert_eq!(ok(r"\x41\u0042", "y", "AB"), ("y".into(), 1));
        assert_eq!(ok(r"a.c", "y", "abc\na\nc"), ("y\na\nc".into(), 1));
    }

    #[test]
    fn tables_beyond_ascii_are_left_to_python() {
        assert!(subn(r"\w+", "x", "héllo").is_err());
        assert!(subn(r"\s", "x", "a\x1cb").is_err());
        assert_eq!(ok("é", "e", "héllo"), ("hello".into(), 1), "no tables: fine");
        assert_eq!(ok(r"\w+", "x", "a b"), ("x x".into(), 2));
    }

    #[test]
    fn empty_match_with_alternatives_takes_the_lower_choice_as_python() {
        // Python: re.subn('x*|a', '-', 'a') == ('---', 3): after the empty match it takes 'a'.
        assert_eq!(ok("x*|a", "-", "a"), ("---".into(), 3));
        assert_eq!(ok("a*?", "-", "aa"), ("-----".into(), 5));
        // Alternatives without empty matches are fine.
        assert_eq!(ok("cat|dog", "pet", "cat dog"), ("pet pet".into(), 2));
    }

    #[test]
    fn match_and_search_as_python_without_multiline() {
        // Python: re.match(r'.*\.log$', 'a.log\n') matches; re.match(r'b', 'ab') does not.
        let re = PyRegex::new(r".*\.log$", false, false).unwrap();
        assert!(re.finds("a.log\n", true).unwrap());
        assert!(re.finds("a.log", true).unwrap());
        assert!(!re.finds("a.log\nx", true).unwrap());
        // `$` before a final newline is written as Python's, so positions are exact too.
        assert!(re.fits("a.log\n"));
        let c = re.search("a.log\n").unwrap();
        assert_eq!(c.get(0).unwrap().as_str(), "a.log");
        let re = PyRegex::new("b", false, false).unwrap();
        assert!(!re.finds("ab", true).unwrap());
        assert!(re.finds("ab", false).unwrap());
        let re = PyRegex::new(r"^\w+$", false, false).unwrap();
        assert!(re.finds("abc\n", true).unwrap());
        assert!(re.finds("é", true).is_err());
    }

    #[test]
    fn dotall_sections_as_replace_builds_them() {
        let re = PyRegex::new(r"\[a\](?P<subsection>.*?)\[b\]", false, true).unwrap();
        let text = "x\n[a]\n1\n[b]\n";
        let c = re.search(text).unwrap();
        let g = re.group("subsection").unwrap();
        assert_eq!(c.get(g).unwrap().as_str(), "\n1\n");
    }
}

/// Cases generated from Python 3.11's `re.subn(pattern, repl, text, flags=re.MULTILINE)` over
/// random patterns, templates and texts: talon must give Python's result, or leave the case
/// to Python ([`Unsupported`]); never a result where Python fails, never a different one.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod generated {
    use super::*;
    use serde_json::Value;

    #[test]
    fn subn_equals_pythons_or_leaves_it_to_python() {
        let cases: Vec<Value> = serde_json::from_str(include_str!("testdata/pyre_cases.json")).unwrap();
        let (mut native, mut left) = (0, 0);
        for c in &cases {
            let (p, r, t) = (
                c["p"].as_str().unwrap(),
                c["r"].as_str().unwrap(),
                c["t"].as_str().unwrap(),
            );
            let got = PyRegex::new(p, true, false).and_then(|re| {
                let tpl = re.template(r)?;
                re.subn(t, &tpl)
            });
            match (got, c["want"].get("error")) {
                (Err(_), _) => left += 1,
                (Ok(g), Some(e)) => panic!("{p:?} {r:?} {t:?}: Python fails ({e}), talon gave {g:?}"),
                (Ok((text, count)), None) => {
                    native += 1;
                    assert_eq!(text, c["want"]["text"].as_str().unwrap(), "{p:?} {r:?} {t:?}");
                    assert_eq!(
                        count as u64,
                        c["want"]["count"].as_u64().unwrap(),
                        "{p:?} {r:?} {t:?}"
                    );
                }
            }
        }
        // Most of what Python runs, talon runs too.
        assert!(native > 1200, "native {native}, left to Python {left}");
    }

    #[test]
    fn match_and_search_equal_pythons_or_leave_it_to_python() {
        let cases: Vec<Value> = serde_json::from_str(include_str!("testdata/pyre_cases.json")).unwrap();
        let mut native = 0;
        for c in &cases {
            let (p, t) = (c["p"].as_str().unwrap(), c["t"].as_str().unwrap());
            let Ok(re) = PyRegex::new(p, false, false) else {
                continue;
            };
            let want = &c["plain"];
            assert!(
                want.get("error").is_none(),
                "{p:?}: Python refuses it, talon compiled it"
            );
            for (at_start, key) in [(true, "match"), (false, "search")] {
                if let Ok(got) = re.finds(t, at_start) {
                    native += 1;
                    assert_eq!(got, want[key].as_bool().unwrap(), "{key} {p:?} {t:?}");
                }
            }
        }
        assert!(native > 1000, "native {native}");
    }
}
