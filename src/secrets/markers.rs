//! Markers: the opaque stand-ins templates see instead of secret values, turning them back into
//! values for delivery ([`SecretStore::reveal`]), and masking values and markers in everything
//! talon prints ([`SecretStore::mask`]).

use std::sync::LazyLock;

use base64::Engine;
use regex::Regex;
use secrecy::ExposeSecret;
use secrecy::zeroize::Zeroizing;
use serde_json::Value;

use super::{MASK, SecretError, SecretStore};
use crate::vars::Vars;

/// Content with markers replaced by values, for delivery on stdin only.
pub struct Revealed {
    /// The bytes to deliver (zeroed when dropped).
    pub content: Zeroizing<Vec<u8>>,
    /// Whether the content holds a secret value (from a marker, or a value that was already in
    /// plain text, e.g. a registered command output).
    pub has_secret: bool,
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Revealed({} bytes, has_secret: {})",
            self.content.len(),
            self.has_secret
        )
    }
}

/// What each JSON-quoting of a marker appends to it (before the closing `__`).
pub(super) const JSON_LEVEL: &str = "_json";

/// `s` escaped as the inside of a JSON string (what `serde_json` writes between the quotes,
/// the same escaping `to_json`/`to_nice_json` apply to every other string).
pub(super) fn json_string_inside(s: &str) -> String {
    let quoted = Value::String(s.to_string()).to_string();
    quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default()
        .to_string()
}

/// Rewrites every secret marker in `text` (JSON produced by `to_json`/`to_nice_json`, where a
/// marker can only sit inside a string literal) to record one more level of JSON-string
/// escaping: `__talon_secret_N_I__` becomes `__talon_secret_N_I_json__`, and `..._json__`
/// becomes `..._json_json__`. [`SecretStore::reveal`] then escapes the value accordingly.
/// Markers of any run match (the nonce is not needed); text without markers is returned as is.
pub fn json_escape_markers(text: &str) -> std::borrow::Cow<'_, str> {
    static MARKER: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"(__talon_secret_[0-9a-f]{16}_[0-9]+(?:_json)*)__").ok());
    match MARKER.as_ref() {
        Some(re) if text.contains("__talon_secret_") => {
            re.replace_all(text, format!("${{1}}{JSON_LEVEL}__").as_str())
        }
        _ => std::borrow::Cow::Borrowed(text),
    }
}

impl SecretStore {
    pub(super) fn marker_at(&self, index: usize) -> String {
        format!("__talon_secret_{}_{index}__", self.nonce)
    }

    /// The marker that stands for secret `name` in templates.
    pub fn marker(&self, name: &str) -> Option<String> {
        self.entries
            .iter()
            .position(|e| e.name == name && e.value.get().is_some())
            .map(|i| self.marker_at(i))
    }

    /// Every secret with a value as a variable whose value is its marker (what templates see;
    /// a reserved secret not yet asked is not there).
    pub fn marker_vars(&self) -> Vars {
        (0..self.entries.len())
            .filter(|&i| self.entries[i].value.get().is_some())
            .map(|i| (self.entries[i].name.clone(), Value::String(self.marker_at(i))))
            .collect()
    }

    pub(super) fn marker_re(&self) -> Option<&Regex> {
        if self.entries.is_empty() {
            return None;
        }
        self.marker_re
            .get_or_init(|| {
                Regex::new(&format!(
                    "__talon_secret_{}_([0-9]+)((?:{JSON_LEVEL})*)__",
                    self.nonce
                ))
                .ok()
            })
            .as_ref()
    }

    /// Traces of a marker changed by a filter: the nonce in any letter case, or inside base64
    /// at any of the three byte alignments.
    pub(super) fn mangled_trace(&self, text: &str) -> Option<String> {
        if self.entries.is_empty() {
            return None;
        }
        if text.to_ascii_lowercase().contains(&self.nonce) {
            return Some("a marker changed by a filter such as upper, replace or a slice".into());
        }
        let core = format!("__talon_secret_{}_", self.nonce);
        for align in 0..3usize {
            let mut bytes = vec![0u8; align];
            bytes.extend_from_slice(core.as_bytes());
            let enc = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let start = (8 * align).div_ceil(6);
            let end = (8 * (align + core.len())) / 6;
            let Some(frag) = enc.get(start..end) else { continue };
            let url = frag.replace('+', "-").replace('/', "_");
            if text.contains(frag) || text.contains(&url) {
                return Some("a marker inside base64 (b64encode)".into());
            }
        }
        None
    }

    /// Replaces every marker in `text` by its secret's value, for delivery on stdin. A marker
    /// with N `_json` levels (from `to_json`/`to_nice_json`) gets the value escaped as the inside
    /// of a JSON string N times, so the delivered JSON parses back to exactly the value.
    ///
    /// Errors: [`SecretError::Mangled`] when a marker was transformed by a filter (its value
    /// cannot be put back, and delivering the transformed marker would be garbage).
    pub fn reveal(&self, text: &str) -> Result<Revealed, SecretError> {
        let Some(re) = self.marker_re() else {
            // No given secrets, but found ones (decrypted vault values, password lookups) may
            // be in the text as values.
            return Ok(Revealed {
                content: Zeroizing::new(text.as_bytes().to_vec()),
                has_secret: self.find_value(text).is_some(),
            });
        };
        let mut out = Zeroizing::new(Vec::with_capacity(text.len()));
        let mut rest_text = String::with_capacity(text.len());
        let mut last = 0;
        let mut found = false;
        for cap in re.captures_iter(text) {
            let (Some(all), Some(idx)) = (cap.get(0), cap.get(1)) else {
                continue;
            };
            let entry = idx
                .as_str()
                .parse::<usize>()
                .ok()
                .and_then(|i| self.entries.get(i))
                .and_then(|e| e.value.get())
                .ok_or_else(|| SecretError::Mangled {
                    how: "a marker with an unknown index".into(),
                })?;
            out.extend_from_slice(&text.as_bytes()[last..all.start()]);
            rest_text.push_str(&text[last..all.start()]);
            let levels = cap.get(2).map_or(0, |m| m.len() / JSON_LEVEL.len());
            if levels == 0 {
                out.extend_from_slice(entry.expose_secret().as_bytes());
            } else {
                let mut v = Zeroizing::new(entry.expose_secret().to_string());
                for _ in 0..levels {
                    v = Zeroizing::new(json_string_inside(&v));
                }
                out.extend_from_slice(v.as_bytes());
            }
            last = all.end();
            found = true;
        }
        out.extend_from_slice(&text.as_bytes()[last..]);
        rest_text.push_str(&text[last..]);
        if let Some(how) = self.mangled_trace(&rest_text) {
            return Err(SecretError::Mangled { how });
        }
        let has_secret = found || self.find_value(text).is_some();
        Ok(Revealed {
            content: out,
            has_secret,
        })
    }

    /// The name of a secret whose marker or value occurs in `text` (become passwords count as
    /// `ansible_become_password`).
    pub fn find_in(&self, text: &str) -> Option<String> {
        if let Some(cap) = self.marker_re().and_then(|re| re.captures(text)) {
            let name = cap
                .get(1)
                .and_then(|i| i.as_str().parse::<usize>().ok())
                .and_then(|i| self.entries.get(i))
                .map(|e| e.name.clone());
            return Some(name.unwrap_or_else(|| "?".into()));
        }
        if self.mangled_trace(text).is_some() {
            return Some("(transformed)".into());
        }
        self.find_value(text)
    }

    pub(super) fn find_value(&self, text: &str) -> Option<String> {
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.value.get().is_some_and(|v| text.contains(v.expose_secret())))
        {
            return Some(e.name.clone());
        }
        if super::found::found()
            .iter()
            .any(|v| text.contains(v.expose_secret()))
        {
            return Some(super::found::FOUND_NAME.to_string());
        }
        let extra = self.extra.read().ok()?;
        extra
            .iter()
            .any(|v| text.contains(v.expose_secret()))
            .then(|| "ansible_become_password".to_string())
    }

    /// `text` with every marker and every secret value (longest first) replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        let mut out = match self.marker_re() {
            Some(re) => re.replace_all(text, MASK).into_owned(),
            None => text.to_string(),
        };
        let mut extra = self.extra.read().map(|e| e.clone()).unwrap_or_default();
        extra.extend(super::found::found());
        let mut values: Vec<&str> = self
            .entries
            .iter()
            .filter_map(|e| e.value.get().map(|v| v.expose_secret()))
            .chain(extra.iter().map(|v| v.expose_secret()))
            .filter(|v| !v.is_empty())
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for v in values {
            if out.contains(v) {
                out = out.replace(v, MASK);
            }
        }
        out
    }

    /// Whether anything needs masking at all (no secrets, no become passwords: output as is).
    pub(super) fn masks_anything(&self) -> bool {
        !self.entries.is_empty()
            || self.extra.read().map(|e| !e.is_empty()).unwrap_or(true)
            || !super::found::found().is_empty()
    }

    /// A JSON value with every string (keys included) masked by [`SecretStore::mask`].
    pub fn mask_value(&self, v: Value) -> Value {
        if !self.masks_anything() {
            return v;
        }
        self.mask_json(v)
    }

    pub(super) fn mask_json(&self, v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.mask(&s)),
            Value::Array(a) => Value::Array(a.into_iter().map(|x| self.mask_json(x)).collect()),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, x)| (self.mask(&k), self.mask_json(x)))
                    .collect(),
            ),
            other => other,
        }
    }
}
