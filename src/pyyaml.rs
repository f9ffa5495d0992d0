//! YAML written as PyYAML's `yaml.dump(data, default_flow_style=False, allow_unicode=True)`
//! writes it (ansible-core's `ansible-inventory --yaml`): block style, mapping keys sorted, a
//! sequence under a mapping key not indented (`key:\n- a`), strings plain where PyYAML's YAML 1.1
//! resolver would read them back as the same string and single-quoted otherwise, long plain and
//! single-quoted strings folded at a space past column 80, PyYAML's float and null spellings.
//!
//! Not written: anchors and aliases (PyYAML names objects that Python shares, an accident of
//! the producer's memory; a reader sees the same data without them).

use serde_json::Value;

/// PyYAML's default `best_width`.
const WIDTH: usize = 80;
/// PyYAML's default `best_indent`.
const INDENT: usize = 2;

/// `value` as a YAML document, ending with a newline, as PyYAML's block emitter writes it.
pub fn dump(value: &Value) -> String {
    let mut e = Emitter::default();
    match value {
        Value::Object(m) if !m.is_empty() => e.mapping(m, 0),
        Value::Array(a) if !a.is_empty() => e.sequence(a, 0),
        Value::Object(_) | Value::Array(_) => e.scalar(value, 0),
        other => {
            // A lone scalar is followed by PyYAML's document end marker.
            e.scalar(other, 0);
            e.out.push_str("\n...");
        }
    }
    e.out.push('\n');
    e.out
}

#[derive(Default)]
struct Emitter {
    out: String,
    /// The column of the next character written (PyYAML's `column`), in characters.
    column: usize,
}

impl Emitter {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count();
    }

    fn newline_indent(&mut self, indent: usize) {
        self.out.push('\n');
        self.column = 0;
        self.write(&" ".repeat(indent));
    }

    /// A non-empty mapping whose keys start at column `indent`; the cursor is at that column.
    fn mapping(&mut self, m: &serde_json::Map<String, Value>, indent: usize) {
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        for (i, k) in keys.into_iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            self.string(k, indent + INDENT, true);
            self.write(":");
            match &m[k] {
                Value::Object(sub) if !sub.is_empty() => {
                    self.newline_indent(indent + INDENT);
                    self.mapping(sub, indent + INDENT);
                }
                // A sequence in a mapping is "indentless": its dashes at the key's column.
                Value::Array(items) if !items.is_empty() => {
                    self.newline_indent(indent);
                    self.sequence(items, indent);
                }
                v => {
                    self.write(" ");
                    self.scalar(v, indent + INDENT);
                }
            }
        }
    }

    /// A non-empty sequence whose dashes are at column `indent`; the cursor is at that column.
    fn sequence(&mut self, items: &[Value], indent: usize) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            self.write("- ");
            match item {
                Value::Object(sub) if !sub.is_empty() => self.mapping(sub, indent + INDENT),
                Value::Array(inner) if !inner.is_empty() => self.sequence(inner, indent + INDENT),
                v => self.scalar(v, indent + INDENT),
            }
        }
    }

    /// A scalar or an empty collection; folded lines continue at column `indent`.
    fn scalar(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Null => self.write("null"),
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                let text = match (n.as_i64(), n.as_u64(), n.as_f64()) {
                    (Some(i), _, _) => i.to_string(),
                    (_, Some(u), _) => u.to_string(),
                    (_, _, Some(f)) => float(f),
                    _ => n.to_string(),
                };
                self.write(&text);
            }
            Value::String(s) => self.string(s, indent, false),
            Value::Array(_) => self.write("[]"),
            Value::Object(_) => self.write("{}"),
        }
    }

    fn string(&mut self, s: &str, indent: usize, key: bool) {
        match style(s, key) {
            Style::Plain => self.folded(s, indent, false),
            Style::Single => {
                self.write("'");
                self.folded(s, indent, true);
                self.write("'");
            }
            Style::Double => self.write(&double_quoted(s)),
        }
    }

    /// PyYAML's `write_plain`/`write_single_quoted`: a single space past the width becomes a
    /// line break (not the first or last character when quoted); in quoted text `'` is doubled
    /// and a run of n line breaks is written as n + 1 (a lone break would fold to a space).
    fn folded(&mut self, s: &str, indent: usize, quoted: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                let single = chars.get(i + 1) != Some(&' ') && (i == 0 || chars[i - 1] != ' ');
                if single && self.column > WIDTH && (!quoted || (i != 0 && i + 1 != chars.len())) {
                    self.newline_indent(indent);
                } else {
                    self.write(" ");
                }
                i += 1;
            } else if c == '\n' {
                let start = i;
                while i < chars.len() && chars[i] == '\n' {
                    i += 1;
                }
                self.out.push('\n');
                for _ in start..i {
                    self.out.push('\n');
                }
                self.column = 0;
                self.write(&" ".repeat(indent));
            } else {
                if c == '\'' && quoted {
                    self.write("'");
                }
                let mut b = [0u8; 4];
                self.write(c.encode_utf8(&mut b));
                i += 1;
            }
        }
    }
}

#[derive(Debug, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
}

/// PyYAML's `analyze_scalar` + `choose_scalar_style` for a string (implicit tag `str`).
fn style(s: &str, key: bool) -> Style {
    if s.is_empty() {
        return Style::Single;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut special = false;
    let mut indicators = false;
    let mut breaks = false;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_space = next.is_none_or(|n| n == ' ' || n == '\n' || n == '\t');
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                indicators = true;
            }
            if (c == '?' || c == ':' || c == '-') && followed_by_space {
                indicators = true;
            }
        } else {
            if ",?[]{}".contains(c) {
                // Flow indicators: plain only in block context, which is all this writes.
            }
            if c == ':' && followed_by_space {
                indicators = true;
            }
            if c == '#' && chars[i - 1] == ' ' {
                indicators = true;
            }
        }
        if c == '\n' {
            breaks = true;
        }
        let printable = c == '\n'
            || (' '..='~').contains(&c)
            || (('\u{A0}'..='\u{FFFD}').contains(&c) && c != '\u{FEFF}')
            || c >= '\u{10000}';
        if !printable || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}' {
            special = true;
        }
    }
    let first = chars[0];
    let last = chars[chars.len() - 1];
    let edge_space = first == ' ' || last == ' ';
    let edge_break = first == '\n' || last == '\n';
    let space_break = chars
        .windows(2)
        .any(|w| (w[0] == ' ' && w[1] == '\n') || (w[0] == '\n' && w[1] == ' '));
    if special || space_break {
        return Style::Double;
    }
    let plain_ok = !indicators && !breaks && !edge_space && !edge_break && !resolves_to_other_type(s);
    if plain_ok {
        return Style::Plain;
    }
    if key && breaks {
        return Style::Double;
    }
    Style::Single
}

/// Whether PyYAML's YAML 1.1 resolvers read the plain scalar `s` as something other than a
/// string (bool, null, int, float, timestamp, merge key or value key), so it must be quoted.
fn resolves_to_other_type(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On",
        "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "<<", "=",
    ];
    if WORDS.contains(&s) || crate::yaml11::resolve(s).is_some() {
        return true;
    }
    // The float resolver also matches spellings `resolve` does not convert (`.inf` variants are
    // covered; a bare `.` is a string); the timestamp resolver: `YYYY-MM-DD` and datetimes.
    let b = s.as_bytes();
    let date = b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && s[5..]
            .split(['-', 'T', 't', ' '])
            .next()
            .is_some_and(|m| !m.is_empty() && m.len() <= 2 && m.bytes().all(|c| c.is_ascii_digit()));
    date && timestamp_like(s)
}

/// PyYAML's timestamp resolver: `YYYY-MM-DD`, or `YYYY-M-D` followed by a time.
fn timestamp_like(s: &str) -> bool {
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3
        || parts[0].len() != 4
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    match rest {
        None => parts[1].len() == 2 && parts[2].len() == 2,
        Some(r) => {
            let t = r.trim_start_matches(['T', 't', ' ', '\t']);
            let hms: Vec<&str> = t.splitn(3, ':').collect();
            hms.len() == 3
                && hms[0].len() <= 2
                && hms[1].len() == 2
                && hms[0].bytes().all(|c| c.is_ascii_digit())
        }
    }
}

/// A double-quoted scalar with PyYAML's escapes.
fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\x1b' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) < 0x20
                || c == '\u{7f}'
                || c == '\u{FEFF}'
                || ('\u{FFFE}'..='\u{FFFF}').contains(&c) =>
            {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// PyYAML's `represent_float`: Python's `repr(f).lower()`, `.inf`/`-.inf`/`.nan`, and `1e+20`
/// written `1.0e+20`.
pub fn float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf".into() } else { "-.inf".into() };
    }
    let r = python_float_repr(f);
    if !r.contains('.') && r.contains('e') {
        r.replacen('e', ".0e", 1)
    } else {
        r
    }
}

/// Python's `repr(float)`: the shortest round-tripping digits, positional for exponents -4 to
/// 15 (`0.0001`, `1e+16`, `1e-05`), always with a `.0` or an exponent.
fn python_float_repr(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-tripping digits: "1.2345e3".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if neg { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let s = if exp >= n - 1 {
            format!("{digits}{}.0", "0".repeat((exp - (n - 1)) as usize))
        } else if exp >= 0 {
            let (a, b) = digits.split_at((exp + 1) as usize);
            format!("{a}.{b}")
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        format!("{sign}{s}")
    } else {
        let (a, b) = digits.split_at(1);
        let m = if b.is_empty() {
            a.to_string()
        } else {
            format!("{a}.{b}")
        };
        let es = if exp < 0 { "-" } else { "+" };
        format!("{sign}{m}e{es}{:02}", exp.abs())
    }
}

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
    fn lone_scalars_end_the_document() {
        assert_eq!(dump(&json!({})), "{}\n");
        assert_eq!(dump(&json!("x")), "x\n...\n");
    }
}
