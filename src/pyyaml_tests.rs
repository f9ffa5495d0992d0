//! The unit tests of the parent module: outputs of the reference implementation (Python 3.11,
//! PyYAML 6) for the same inputs.

use super::*;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_style_as_pyyaml_writes_it() {
        let v = json!({"all": {"children": {"web": {"hosts": {"w1": {"l": [1, 2], "x": "yes"}, "w2": {}}}}}, "b": [{"k": 1, "j": [true, null]}, [1, 2], []]});
        assert_eq!(
            dump(&v),
            "all:\n  children:\n    web:\n      hosts:\n        w1:\n          l:\n          - 1\n          - 2\n          x: 'yes'\n        w2: {}\nb:\n- j:\n  - true\n  - null\n  k: 1\n- - 1\n  - 2\n- []\n"
        );
    }

    #[test]
    fn strings_quoted_where_pyyaml_quotes_them() {
        for (s, want) in [
            ("plain", "plain"),
            ("", "''"),
            ("yes", "'yes'"),
            ("on", "'on'"),
            ("y", "y"),
            ("null", "'null'"),
            ("~", "'~'"),
            ("017", "'017'"),
            ("0o17", "0o17"),
            ("1.5", "'1.5'"),
            ("1e3", "1e3"),
            ("10.0.0.1", "10.0.0.1"),
            ("2024-01-02", "'2024-01-02'"),
            ("a: b", "'a: b'"),
            ("a:b", "a:b"),
            ("- x", "'- x'"),
            ("-x", "-x"),
            ("#x", "'#x'"),
            ("a #x", "'a #x'"),
            ("a#x", "a#x"),
            (" lead", "' lead'"),
            ("it's", "it's"),
            ("'q'", "'''q'''"),
            ("a\nb", "'a\n\n  b'"),
            ("tab\there", "\"tab\\there\""),
            ("a,b", "a,b"),
            ("[x", "'[x'"),
            ("x]", "x]"),
            ("?x", "?x"),
            ("? x", "'? x'"),
            (":x", ":x"),
            ("a\n\nb", "'a\n\n\n  b'"),
            ("=", "'='"),
            ("<<", "'<<'"),
            ("1:30", "'1:30'"),
            ("-", "'-'"),
            ("2024-1-2 10:00:00", "'2024-1-2 10:00:00'"),
            ("bell\x07", "\"bell\\a\""),
            ("é ü", "é ü"),
            ("{{ x }}", "'{{ x }}'"),
            ("*star", "'*star'"),
            ("%p", "'%p'"),
        ] {
            assert_eq!(dump(&json!({"k": s})), format!("k: {want}\n"), "{s:?}");
        }
    }

    #[test]
    fn long_strings_fold_past_column_80() {
        let words = vec!["word"; 30].join(" ");
        let out = dump(&json!({"k": words}));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].len() > 80 && lines[0].len() < 86, "{out}");
        assert!(lines[1].starts_with("  word"), "{out}");
    }

    #[test]
    fn floats_as_python_repr() {
        for (f, want) in [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (1e20, "1.0e+20"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (123.456, "123.456"),
            (-2.0, "-2.0"),
            (1e16, "1.0e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (f64::INFINITY, ".inf"),
        ] {
            assert_eq!(float(f), want, "{f}");
        }
    }

    #[test]
    fn lone_scalars_as_ansible_dumper_writes_them() {
        assert_eq!(dump(&json!({})), "{}\n");
        assert_eq!(dump(&json!("x")), "x\n");
    }
}

/// Outputs of PyYAML 6 (`yaml.dump(..., allow_unicode=True)`) for the filters' settings.
#[cfg(test)]
mod filter_styles {
    use super::*;
    use serde_json::json;

    fn with(v: &Value, indent: usize, flow: Option<bool>) -> String {
        dump_with(
            v,
            &DumpOptions {
                indent,
                flow,
                ..DumpOptions::default()
            },
        )
    }

    #[test]
    fn flow_for_leaf_collections_as_to_yaml() {
        let d =
            json!({"a": [1, 2, {"x": "yes"}], "b": {"c": [], "d": {}}, "f": [[1, 2], [3]], "g": {"h": 1}});
        assert_eq!(
            with(&d, 2, None),
            "a:\n- 1\n- 2\n- {x: 'yes'}\nb:\n  c: []\n  d: {}\nf:\n- [1, 2]\n- [3]\ng: {h: 1}\n"
        );
        assert_eq!(
            with(
                &json!({"k": ["a,b", "a:b", ":x", "?x", "x]", "a #b", "- x", "-x", "é"]}),
                2,
                None
            ),
            "k: ['a,b', 'a:b', ':x', '?x', 'x]', 'a #b', '- x', -x, é]\n"
        );
        assert_eq!(
            with(&json!({"k": {"a,b": 1, "c": "d e"}}), 2, None),
            "k: {'a,b': 1, c: d e}\n"
        );
        let n: Vec<u32> = (0..40).collect();
        assert_eq!(
            with(&json!({"k": n}), 2, None),
            "k: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,\n  22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]\n"
        );
        assert_eq!(with(&json!({"k": ["a\nb"]}), 2, None), "k: ['a\n\n    b']\n");
        assert_eq!(
            with(&json!([[1, [2]], {"a": {"b": 1}}]), 2, None),
            "- - 1\n  - [2]\n- a: {b: 1}\n"
        );
    }

    #[test]
    fn block_with_wider_indents_as_to_nice_yaml() {
        assert_eq!(
            with(&json!([[1, [2]], {"a": {"b": 1}}]), 4, Some(false)),
            "-   - 1\n    -   - 2\n-   a:\n        b: 1\n"
        );
        let d = json!({"a": [{"b": [1, 2], "c": {"d": []}}]});
        assert_eq!(
            with(&d, 4, Some(false)),
            "a:\n-   b:\n    - 1\n    - 2\n    c:\n        d: []\n"
        );
        assert_eq!(
            with(&d, 3, Some(false)),
            "a:\n-  b:\n   - 1\n   - 2\n   c:\n      d: []\n"
        );
        let long = format!("{} y", "x".repeat(100));
        assert_eq!(with(&json!(long), 2, None), format!("{}\n  y\n", "x".repeat(100)));
    }
}
