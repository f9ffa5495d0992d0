//! YAML written as ansible-core writes it through PyYAML and its AnsibleDumper:
//! `yaml.dump(data, allow_unicode=True, ...)` for `ansible-inventory --yaml` (block style) and
//! the `to_yaml` (flow style for collections holding no collection) and `to_nice_yaml` (block
//! style, indent 4) filters. Mapping keys sorted; a sequence under a mapping key not indented
//! (`key:\n- a`); an item's content at the indent (`-   x: 1` with indent 4); strings plain where
//! PyYAML's YAML 1.1 resolver would read them back as the same string and the context allows
//! (no `,[]{}` in flow style), single-quoted otherwise, double-quoted with escapes when they hold
//! what quotes cannot; long plain and single-quoted strings folded at a space past the width,
//! flow collections after a comma past it; PyYAML's float and null spellings.
//!
//! Not written: anchors and aliases (PyYAML names objects that Python shares, an accident of
//! the producer's memory; a reader sees the same data without them).

use serde_json::Value;

/// How PyYAML is asked to write (the `yaml.dump` keywords ansible-core passes on).
#[derive(Debug, Clone)]
pub struct DumpOptions {
    /// `indent` (PyYAML's `best_indent`, 2 to 9; default 2).
    pub indent: usize,
    /// `width` (`best_width`; default 80; one not above twice the indent is 80, as PyYAML).
    pub width: usize,
    /// `default_flow_style`: `Some(false)` block style everywhere, `Some(true)` flow style
    /// everywhere, `None` flow style for a collection holding no collection (`to_yaml`).
    pub flow: Option<bool>,
    /// `sort_keys` (default true).
    pub sort_keys: bool,
    /// `allow_unicode`: without it, characters beyond ASCII are escaped in double quotes.
    pub allow_unicode: bool,
    /// `explicit_start`: the document starts with `---`.
    pub explicit_start: bool,
}

impl Default for DumpOptions {
    /// `ansible-inventory --yaml`'s: block style, indent 2, width 80, sorted, Unicode kept.
    fn default() -> Self {
        DumpOptions {
            indent: 2,
            width: 80,
            flow: Some(false),
            sort_keys: true,
            allow_unicode: true,
            explicit_start: false,
        }
    }
}

/// `value` as a YAML document, ending with a newline, as PyYAML's block emitter writes it.
pub fn dump(value: &Value) -> String {
    dump_with(value, &DumpOptions::default())
}

/// `value` as `yaml.dump(value, **opts)` writes it (see [`DumpOptions`]).
pub fn dump_with(value: &Value, opts: &DumpOptions) -> String {
    let mut opts = opts.clone();
    opts.indent = opts.indent.clamp(2, 9);
    if opts.width <= 2 * opts.indent {
        opts.width = 80;
    }
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        opts,
    };
    if e.opts.explicit_start {
        e.write("---");
        if e.is_block(value) {
            e.newline_indent(0);
        } else {
            e.write(" ");
        }
    }
    let step = e.opts.indent;
    match value {
        Value::Object(m) if e.is_block(value) => e.mapping(m, 0),
        Value::Array(a) if e.is_block(value) => e.sequence(a, 0),
        Value::Object(_) | Value::Array(_) => e.flow(value, step),
        // A lone scalar: plain PyYAML would add the document end marker `...`; ansible-core's
        // AnsibleDumper, which every YAML ansible-core writes goes through, does not.
        other => e.scalar(other, step, false),
    }
    e.out.push('\n');
    e.out
}

struct Emitter {
    out: String,
    /// The column of the next character written (PyYAML's `column`), in characters.
    column: usize,
    opts: DumpOptions,
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

    /// Whether a collection is written in block style (a non-empty one, unless flow style
    /// applies to it).
    fn is_block(&self, v: &Value) -> bool {
        let children: Vec<&Value> = match v {
            Value::Object(m) if !m.is_empty() => m.values().collect(),
            Value::Array(a) if !a.is_empty() => a.iter().collect(),
            _ => return false,
        };
        match self.opts.flow {
            Some(flow) => !flow,
            None => children
                .iter()
                .any(|c| matches!(c, Value::Object(_) | Value::Array(_))),
        }
    }

    fn keys<'m>(&self, m: &'m serde_json::Map<String, Value>) -> Vec<&'m String> {
        let mut keys: Vec<&String> = m.keys().collect();
        if self.opts.sort_keys {
            keys.sort();
        }
        keys
    }

    /// A block mapping whose keys start at column `indent`; the cursor is at that column.
    fn mapping(&mut self, m: &serde_json::Map<String, Value>, indent: usize) {
        let step = self.opts.indent;
        for (i, k) in self.keys(m).into_iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            self.string(k, indent + step, true, false);
            self.write(":");
            let v = &m[k];
            match v {
                Value::Object(sub) if self.is_block(v) => {
                    self.newline_indent(indent + step);
                    self.mapping(sub, indent + step);
                }
                // A block sequence in a mapping is "indentless": its dashes at the key's column.
                Value::Array(items) if self.is_block(v) => {
                    self.newline_indent(indent);
                    self.sequence(items, indent);
                }
                Value::Object(_) | Value::Array(_) => {
                    self.write(" ");
                    self.flow(v, indent + step);
                }
                v => {
                    self.write(" ");
                    self.scalar(v, indent + step, false);
                }
            }
        }
    }

    /// A block sequence whose dashes are at column `indent`; the cursor is at that column.
    /// An item's content is at `indent` + the indent step (`-   x: 1` with indent 4).
    fn sequence(&mut self, items: &[Value], indent: usize) {
        let inner = indent + self.opts.indent;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            self.write("-");
            match item {
                Value::Object(sub) if self.is_block(item) => {
                    self.pad_to(inner);
                    self.mapping(sub, inner);
                }
                Value::Array(sub) if self.is_block(item) => {
                    self.pad_to(inner);
                    self.sequence(sub, inner);
                }
                Value::Object(_) | Value::Array(_) => {
                    self.write(" ");
                    self.flow(item, inner);
                }
                v => {
                    self.write(" ");
                    self.scalar(v, inner, false);
                }
            }
        }
    }

    fn pad_to(&mut self, column: usize) {
        let n = column.saturating_sub(self.column).max(1);
        self.write(&" ".repeat(n));
    }

    /// A flow collection (`[a, b]`, `{k: v}`) whose continuation lines start at `indent`: after
    /// a comma past the width, the next item goes on a new line.
    fn flow(&mut self, v: &Value, indent: usize) {
        let step = self.opts.indent;
        let (open, close) = if v.is_object() { ("{", "}") } else { ("[", "]") };
        self.write(open);
        let mut first = true;
        let mut item = |e: &mut Emitter, key: Option<&str>, val: &Value| {
            if !first {
                e.write(",");
                if e.column > e.opts.width {
                    e.newline_indent(indent);
                } else {
                    e.write(" ");
                }
            }
            first = false;
            if let Some(k) = key {
                e.string(k, indent + step, true, true);
                e.write(":");
                e.write(" ");
            }
            match val {
                Value::Object(_) | Value::Array(_) => e.flow(val, indent + step),
                other => e.scalar(other, indent + step, true),
            }
        };
        match v {
            Value::Object(m) => {
                for k in self.keys(m) {
                    item(self, Some(k), &m[k]);
                }
            }
            Value::Array(a) => {
                for x in a {
                    item(self, None, x);
                }
            }
            _ => {}
        }
        self.write(close);
    }

    /// A scalar; folded lines continue at column `indent`.
    fn scalar(&mut self, v: &Value, indent: usize, flow: bool) {
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
            Value::String(s) => self.string(s, indent, false, flow),
            Value::Array(_) => self.write("[]"),
            Value::Object(_) => self.write("{}"),
        }
    }

    fn string(&mut self, s: &str, indent: usize, key: bool, flow: bool) {
        match style(s, key, flow, self.opts.allow_unicode) {
            Style::Plain => self.folded(s, indent, false),
            Style::Single => {
                self.write("'");
                self.folded(s, indent, true);
                self.write("'");
            }
            Style::Double => {
                let text = double_quoted(s, self.opts.allow_unicode);
                self.write(&text);
            }
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
                if single && self.column > self.opts.width && (!quoted || (i != 0 && i + 1 != chars.len())) {
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

fn is_space(c: Option<char>) -> bool {
    c.is_none_or(|c| {
        matches!(
            c,
            '\0' | ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    })
}

/// PyYAML's `analyze_scalar` + `choose_scalar_style` for a string (implicit tag `str`), in
/// block or flow context.
fn style(s: &str, key: bool, flow: bool, allow_unicode: bool) -> Style {
    if s.is_empty() {
        return Style::Single;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut special = false;
    let (mut block_ind, mut flow_ind) = (false, false);
    let mut breaks = false;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_space = is_space(chars.get(i + 1).copied());
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                flow_ind = true;
                block_ind = true;
            }
            if c == '?' || c == ':' {
                flow_ind = true;
                block_ind |= followed_by_space;
            }
            if c == '-' && followed_by_space {
                flow_ind = true;
                block_ind = true;
            }
        } else {
            if ",?[]{}".contains(c) {
                flow_ind = true;
            }
            if c == ':' {
                flow_ind = true;
                block_ind |= followed_by_space;
            }
            if c == '#' && is_space(Some(chars[i - 1])) {
                flow_ind = true;
                block_ind = true;
            }
        }
        if c == '\n' {
            breaks = true;
        }
        let ascii = c == '\n' || (' '..='~').contains(&c);
        let unicode =
            c == '\u{85}' || (('\u{A0}'..='\u{FFFD}').contains(&c) && c != '\u{FEFF}') || c >= '\u{10000}';
        if !(ascii || (unicode && allow_unicode)) || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}' {
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
    let indicators = if flow { flow_ind } else { block_ind };
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

/// A double-quoted scalar with PyYAML's escapes (beyond ASCII too, without `allow_unicode`).
fn double_quoted(s: &str, allow_unicode: bool) -> String {
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
            c if !allow_unicode && (c as u32) > 0x7e => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02X}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
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
#[path = "pyyaml_tests.rs"]
mod test_cases;
