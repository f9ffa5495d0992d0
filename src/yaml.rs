//! YAML loading with source positions.
//!
//! Ansible content is dynamic (a task's module is whichever key is not a keyword), so it cannot be
//! deserialized straight into fixed structs. Instead every file is read into a [`Node`] tree whose
//! every value and key keeps its `file:line:column`, so that the playbook loader can be strict and
//! still point at the exact place of an unknown key or module. YAML 1.1 booleans (`yes`/`no`) and
//! numbers (`0644`, `0o17`, `1e3`; see `yaml11`) are read the way Ansible's PyYAML reads them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A position in a source file: 1-based line and column, 0 when unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mark {
    /// The file the node came from (shared by every node of that file).
    pub file: Arc<PathBuf>,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub column: u64,
}

impl Mark {
    /// A mark for a whole file (no line known).
    pub fn file(path: &Path) -> Self {
        Mark {
            file: Arc::new(path.to_path_buf()),
            line: 0,
            column: 0,
        }
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
        }
    }
}

/// One YAML value with its position.
#[derive(Debug, Clone)]
pub struct Node {
    /// Where the value starts.
    pub mark: Mark,
    /// The value itself.
    pub kind: NodeKind,
}

/// The shape of a [`Node`].
#[derive(Debug, Clone)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in file order, each with its own position.
    Map(Vec<(Key, Node)>),
}

/// A mapping key (always a string in Ansible content; scalars are stringified).
#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    pub mark: Mark,
}

/// A YAML file that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: invalid YAML: {message}")]
    Parse { path: PathBuf, message: String },
    /// Collections nested deeper than [`MAX_DEPTH`] (a stack overflow guard).
    #[error(
        "{mark}: YAML nested deeper than {MAX_DEPTH} levels (talon's limit, against runaway or hostile input): flatten the data"
    )]
    TooDeep { mark: Mark },
    /// An inline `!vault` value that cannot be decrypted (no password, none that fits, bad data).
    #[error("{mark}: {source}")]
    Vault {
        mark: Mark,
        source: crate::vault::VaultError,
    },
    /// A whole file encrypted with `ansible-vault encrypt` that cannot be decrypted (the
    /// message names the file).
    #[error("{source}")]
    VaultFile {
        path: PathBuf,
        source: crate::vault::VaultError,
    },
    /// Too large, not a regular file, or not UTF-8 (see [`crate::input`]).
    #[error(transparent)]
    Input(crate::input::InputError),
}

/// The deepest nesting of collections (flow or block) accepted in a YAML file; Ansible content
/// never comes near it, and it keeps every recursive walk over a [`Node`] far from the stack's
/// end.
pub const MAX_DEPTH: usize = 64;

impl Node {
    /// The node as a JSON value (positions dropped), as Ansible variables see it.
    pub fn to_json(&self) -> Value {
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The entries when this is a mapping.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items when this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The string when this is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is `null` (an empty value).
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// A short name of the node's type for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "boolean",
            NodeKind::Int(_) => "integer",
            NodeKind::Float(_) => "float",
            NodeKind::Str(_) => "string",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "mapping",
        }
    }

    /// Looks a key up in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.name == key).map(|(_, v)| v)
    }
}

/// Reads and parses one YAML file into a [`Node`] (an empty file is `null`).
///
/// Errors: [`YamlError::Read`] when the file cannot be read, [`YamlError::Parse`] with the
/// parser's line:column when it is not valid YAML, [`YamlError::TooDeep`] past [`MAX_DEPTH`],
/// [`YamlError::Vault`] / [`YamlError::VaultFile`] for Ansible Vault content that the run's
/// vault passwords ([`crate::vault::install`]) cannot decrypt.
pub fn load_file(path: &Path) -> Result<Node, YamlError> {
    let text = crate::input::read_text(path).map_err(|e| match e {
        crate::input::InputError::Io { path, source } => YamlError::Read { path, source },
        other => YamlError::Input(other),
    })?;
    parse_str(&text, path)
}

/// Whether `text` is a file encrypted with `ansible-vault` (it starts with `$ANSIBLE_VAULT;`).
pub fn is_vault_file(text: &str) -> bool {
    text.trim_start().starts_with("$ANSIBLE_VAULT;")
}

/// The plaintext of a file encrypted with `ansible-vault` (`None`: `text` is not vault data),
/// decrypted with the run's vault passwords; for any source talon reads, YAML or INI.
///
/// Errors: [`YamlError::VaultFile`] naming `path` when it cannot be decrypted.
pub fn decrypt_vault_file(
    text: &str,
    path: &Path,
) -> Result<Option<secrecy::zeroize::Zeroizing<String>>, YamlError> {
    if !is_vault_file(text) {
        return Ok(None);
    }
    crate::vault::decrypt_text(text.trim_start(), &path.display().to_string())
        .map(Some)
        .map_err(|source| YamlError::VaultFile {
            path: path.to_path_buf(),
            source,
        })
}

/// Beyond Ansible: every string value of a decrypted vault file is a secret (masked in output,
/// refused on command lines); mapping keys are names, not values, and stay visible.
pub fn mark_secret_leaves(node: &Node) {
    match &node.kind {
        NodeKind::Str(s) => crate::vault::note_value(s),
        NodeKind::Seq(items) => items.iter().for_each(mark_secret_leaves),
        NodeKind::Map(entries) => entries.iter().for_each(|(_, v)| mark_secret_leaves(v)),
        _ => {}
    }
}

/// Parses YAML text; `path` names the source in marks and errors. A file encrypted with
/// `ansible-vault` is decrypted first ([`decrypt_vault_file`]) and its string values become
/// secrets ([`mark_secret_leaves`]); so does each inline `!vault` value.
pub fn parse_str(text: &str, path: &Path) -> Result<Node, YamlError> {
    if let Some(plain) = decrypt_vault_file(text, path)? {
        if is_vault_file(&plain) {
            return Err(YamlError::VaultFile {
                path: path.to_path_buf(),
                source: crate::vault::VaultError::Format("the decrypted content is vault data again".into()),
            });
        }
        let node = parse_str(&plain, path)?;
        mark_secret_leaves(&node);
        return Ok(node);
    }
    let file = Arc::new(path.to_path_buf());
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Ok(Node {
            mark: Mark {
                file,
                line: 0,
                column: 0,
            },
            kind: NodeKind::Null,
        });
    }
    // serde's recursion costs tens of KiB of stack per nesting level in debug builds, more than a
    // 2 MiB runtime worker thread has for MAX_DEPTH levels: parse on a thread of known stack.
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name("talon-yaml".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(s, || parse_tree(text, &file))
        {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(YamlError::Parse {
                    path: path.to_path_buf(),
                    message: "the YAML parser failed".into(),
                })
            }),
            Err(_) => parse_tree(text, &file),
        }
    })
}

/// Parses non-empty YAML text into a [`Node`] tree (see [`parse_str`]).
fn parse_tree(text: &str, file: &Arc<PathBuf>) -> Result<Node, YamlError> {
    let options = serde_saphyr::options! {
        legacy_octal_numbers: true,
        budget: serde_saphyr::budget! { max_depth: MAX_DEPTH },
    };
    let raw: serde_saphyr::Spanned<Tagged> =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| parse_error(&e, file))?;
    convert(raw, file, &Source::new(text))
}

/// The booleans of PyYAML's YAML 1.1 resolver (the forms ansible-core reads as booleans);
/// serde-saphyr also takes `y`/`n` and any letter case, which Ansible reads as strings.
const PYYAML_BOOLS: &[&str] = &[
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On",
    "ON", "off", "Off", "OFF",
];

/// A file's text with the byte offset of each line's start, to read a scalar back at a
/// parser position without rescanning the text.
struct Source<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Source<'t> {
    fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source { text, starts }
    }

    /// The plain scalar written at 1-based `line`:`column` (up to a space, `,`, `]`, `}` or
    /// `#`), if the position is in the text.
    fn token_at(&self, line: u64, column: u64) -> Option<&'t str> {
        let start = *self.starts.get(usize::try_from(line.checked_sub(1)?).ok()?)?;
        let l = self.text[start..].split('\n').next()?;
        let from = l
            .char_indices()
            .nth(usize::try_from(column.checked_sub(1)?).ok()?)
            .map(|(i, _)| i)?;
        let rest = &l[from..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '#'))
            .unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

/// The stack of the thread a YAML file is parsed on (address space; only what is used is
/// touched): room for [`MAX_DEPTH`] levels of serde recursion in a debug build, with margin.
const PARSE_STACK: usize = 32 << 20;

/// A parser error as a [`YamlError`]: nesting past [`MAX_DEPTH`] (the budget, or the parser's
/// own recursion guard for flow collections) is [`YamlError::TooDeep`] at its position.
fn parse_error(e: &serde_saphyr::Error, file: &Arc<PathBuf>) -> YamlError {
    let inner = e.without_snippet();
    let too_deep = matches!(
        inner,
        serde_saphyr::Error::Budget {
            breach: serde_saphyr::budget::BudgetBreach::Depth { .. },
            ..
        }
    ) || inner.to_string().contains("recursion limit exceeded");
    if too_deep {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        return YamlError::TooDeep {
            mark: Mark {
                file: file.clone(),
                line,
                column,
            },
        };
    }
    YamlError::Parse {
        path: file.to_path_buf(),
        message: e.to_string(),
    }
}

/// A parsed value with its tag (`!vault`, `!unsafe`, ...), as serde-saphyr reports it.
type Tagged = serde_saphyr::Tagged<RawNode>;

/// Converts the parser's tree into a [`Node`] tree; an inline `!vault` value (see
/// [`is_vault_tag`]) is decrypted into a string and made a secret, or is [`YamlError::Vault`].
fn convert(
    raw: serde_saphyr::Spanned<Tagged>,
    file: &Arc<PathBuf>,
    text: &Source<'_>,
) -> Result<Node, YamlError> {
    let mark = Mark {
        file: file.clone(),
        line: raw.referenced.line(),
        column: raw.referenced.column(),
    };
    let serde_saphyr::Tagged(value, tag) = raw.value;
    if tag.as_deref().is_some_and(is_vault_tag) {
        let RawNode::Str(ciphertext) = value else {
            return Err(YamlError::Vault {
                mark,
                source: crate::vault::VaultError::Format("a '!vault' value must be a string".into()),
            });
        };
        let plain = crate::vault::decrypt_text(&ciphertext, "").map_err(|source| YamlError::Vault {
            mark: mark.clone(),
            source,
        })?;
        crate::vault::note_inline_plaintext(&plain);
        return Ok(Node {
            mark,
            kind: NodeKind::Str(plain.to_string()),
        });
    }
    let kind = match value {
        RawNode::Null => NodeKind::Null,
        // A plain `y`, `n`, `tRUE`, ... is a string for ansible-core (PyYAML).
        RawNode::Bool(b) => match text.token_at(mark.line, mark.column) {
            Some(t) if !t.is_empty() && !t.starts_with(['*', '!', '&']) && !PYYAML_BOOLS.contains(&t) => {
                NodeKind::Str(t.to_string())
            }
            _ => NodeKind::Bool(b),
        },
        // Numbers as PyYAML resolves the plain scalar written (`0o17`, `1e3` are strings;
        // `0b101`, `1_000` are integers), where the text can be read back.
        RawNode::Int(_) | RawNode::Float(_) if crate::yaml11::available() => {
            match text.token_at(mark.line, mark.column) {
                Some(t) if !t.is_empty() && !t.starts_with(['*', '!', '&', '"', '\'']) => {
                    number_kind(crate::yaml11::resolve(t)).unwrap_or_else(|| NodeKind::Str(t.to_string()))
                }
                _ => raw_number(value),
            }
        }
        RawNode::Int(_) | RawNode::Float(_) => raw_number(value),
        RawNode::Str(s) => match text.token_at(mark.line, mark.column) {
            Some(t) if t == s => number_kind(crate::yaml11::resolve(t)).unwrap_or(NodeKind::Str(s)),
            _ => NodeKind::Str(s),
        },
        RawNode::Seq(items) => NodeKind::Seq(
            items
                .into_iter()
                .map(|n| convert(n, file, text))
                .collect::<Result<_, _>>()?,
        ),
        RawNode::Map(entries) => NodeKind::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    // A plain key `n`/`y` came as a boolean: it is a string for PyYAML.
                    let name = match k.value.as_str() {
                        "True" | "False" => text
                            .token_at(k.referenced.line(), k.referenced.column())
                            .map(|t| t.strip_suffix(':').unwrap_or(t))
                            .filter(|t| {
                                !t.is_empty()
                                    && !t.starts_with(['*', '!', '&', '"', '\''])
                                    && !PYYAML_BOOLS.contains(t)
                            })
                            .map_or(k.value.clone(), str::to_string),
                        _ => k.value,
                    };
                    let key = Key {
                        name,
                        mark: Mark {
                            file: file.clone(),
                            line: k.referenced.line(),
                            column: k.referenced.column(),
                        },
                    };
                    Ok((key, convert(v, file, text)?))
                })
                .collect::<Result<_, YamlError>>()?,
        ),
    };
    Ok(Node { mark, kind })
}

/// A number PyYAML resolved, as a node.
fn number_kind(n: Option<crate::yaml11::Number>) -> Option<NodeKind> {
    n.map(|n| match n {
        crate::yaml11::Number::Int(i) => NodeKind::Int(i),
        crate::yaml11::Number::Float(f) => NodeKind::Float(f),
    })
}

/// A number as the parser read it.
fn raw_number(value: RawNode) -> NodeKind {
    match value {
        RawNode::Int(i) => NodeKind::Int(i),
        RawNode::Float(f) => NodeKind::Float(f),
        _ => NodeKind::Null,
    }
}

/// Whether a resolved YAML tag is Ansible's `!vault` (or its old spelling
/// `!vault-encrypted`), matching ansible-core's `AnsibleConstructor` tags.
pub fn is_vault_tag(tag: &str) -> bool {
    matches!(tag, "!vault" | "!vault-encrypted")
}

/// The serde-facing twin of [`NodeKind`], with `Spanned` children.
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<serde_saphyr::Spanned<Tagged>>),
    Map(Vec<(serde_saphyr::Spanned<String>, serde_saphyr::Spanned<Tagged>)>),
}

/// A key that may be written as any scalar in YAML (`1: x`, `true: y`) but is a string to us.
struct KeyString(String);

impl<'de> Deserialize<'de> for KeyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<KeyString, E> {
                Ok(KeyString(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyString, E> {
                Ok(KeyString(if v { "True".into() } else { "False".into() }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyString, E> {
                Ok(KeyString(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawNode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawNode, E> {
                Ok(RawNode::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<RawNode, E> {
                Ok(RawNode::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<RawNode, D2::Error> {
                RawNode::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawNode, E> {
                Ok(RawNode::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNode, E> {
                Ok(RawNode::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNode, E> {
                Ok(i64::try_from(v)
                    .map(RawNode::Int)
                    .unwrap_or(RawNode::Float(v as f64)))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawNode, E> {
                Ok(i64::try_from(v)
                    .map(RawNode::Int)
                    .unwrap_or(RawNode::Float(v as f64)))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawNode, E> {
                Ok(i64::try_from(v)
                    .map(RawNode::Int)
                    .unwrap_or(RawNode::Float(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNode, E> {
                Ok(RawNode::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNode, E> {
                Ok(RawNode::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<RawNode, E> {
                Ok(RawNode::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<serde_saphyr::Spanned<Tagged>>()? {
                    items.push(item);
                }
                Ok(RawNode::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<serde_saphyr::Spanned<KeyString>>()? {
                    let value = map.next_value::<serde_saphyr::Spanned<Tagged>>()?;
                    let key = serde_saphyr::Spanned::new(key.value.0, key.referenced, key.defined);
                    entries.push((key, value));
                }
                Ok(RawNode::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        parse_str(text, Path::new("t.yml")).unwrap()
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let n = parse("- name: a\n  debug:\n    msg: hi\n");
        let task = &n.as_seq().unwrap()[0];
        let (k, _) = &task.as_map().unwrap()[1];
        assert_eq!(k.name, "debug");
        assert_eq!((k.mark.line, k.mark.column), (2, 3));
    }

    #[test]
    fn reads_yaml11_booleans_and_octal_like_ansible() {
        let n = parse("a: yes\nb: 0644\nc: '0644'\nd: 1.5\n");
        let j = n.to_json();
        assert_eq!(j["a"], Value::Bool(true));
        assert_eq!(j["b"], Value::from(420));
        assert_eq!(j["c"], Value::from("0644"));
        assert_eq!(j["d"], Value::from(1.5));
    }

    #[test]
    fn only_pyyamls_booleans_are_booleans() {
        let n = parse("a: y\nb: N\nc: [n, Off, tRUE]\nd: {e: Y}\nf: 'yes'\ng: ON\n");
        let j = n.to_json();
        assert_eq!(j["a"], Value::from("y"));
        assert_eq!(j["b"], Value::from("N"));
        assert_eq!(j["c"], serde_json::json!(["n", false, "tRUE"]));
        assert_eq!(j["d"]["e"], Value::from("Y"));
        assert_eq!(j["f"], Value::from("yes"));
        assert_eq!(j["g"], Value::Bool(true));
        let n = parse("- {n: data, y: 1}\n- n: x\n  yes: 2\n");
        let j = n.to_json();
        assert_eq!(j[0]["n"], Value::from("data"));
        assert_eq!(j[0]["y"], Value::from(1));
        assert_eq!(j[1]["n"], Value::from("x"));
        assert_eq!(j[1]["True"], Value::from(2));
    }

    #[test]
    fn parse_error_has_location() {
        let e = parse_str("a: [1,\nb: 2\n", Path::new("bad.yml")).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("bad.yml"), "{s}");
        assert!(s.contains("line") || s.contains(':'), "{s}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let flow = format!("x: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let maps = format!("x: {}1{}\n", "{a: ".repeat(100), "}".repeat(100));
        let mut block = String::new();
        for i in 0..100 {
            block.push_str(&format!("{}a:\n", "  ".repeat(i)));
        }
        for text in [flow, maps, block] {
            let e = parse_str(&text, Path::new("deep.yml")).unwrap_err();
            assert!(matches!(e, YamlError::TooDeep { .. }), "{e}");
            let s = e.to_string();
            assert!(
                s.starts_with("deep.yml:") && s.contains("deeper than 64 levels"),
                "{s}"
            );
        }
    }

    #[test]
    fn nesting_up_to_the_limit_is_fine() {
        let text = format!("x: {}{}\n", "[".repeat(60), "]".repeat(60));
        parse(&text);
    }

    #[test]
    fn inline_vault_is_an_error_at_its_value() {
        let text =
            "a: 1\npw: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6231336539\nl:\n  - !vault-encrypted x\n";
        let e = parse_str(text, Path::new("v.yml")).unwrap_err();
        assert!(
            matches!(&e, YamlError::Vault { mark, .. } if mark.line == 3),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("Attempting to decrypt but no vault secrets found"),
            "{e}"
        );
        let e = parse_str("l:\n  - !vault x\n", Path::new("v.yml")).unwrap_err();
        assert!(e.to_string().starts_with("v.yml:2:"), "{e}");
        let e = parse_str("$ANSIBLE_VAULT;1.1;AES256\n6231336539\n", Path::new("all.yml")).unwrap_err();
        assert!(matches!(e, YamlError::VaultFile { .. }), "{e}");
        // Other tags (`!unsafe`) keep their value.
        assert_eq!(
            parse("a: !unsafe '{{ x }}'\n").to_json()["a"],
            Value::from("{{ x }}")
        );
    }

    #[test]
    fn empty_file_is_null() {
        assert!(parse("# only a comment\n---\n").is_null());
    }
}
