//! `ini`: values from an INI (or Java properties) file, as ansible.builtin.ini: options
//! `file` (found as lookup files are; default `ansible.ini`), `section` (`global`), `type`
//! (`ini`, or `properties`: a file without sections), `re` (the term is a regular expression
//! matched at the start of the option names: every matching value), `default` (`''`),
//! `case_sensitive`, `allow_no_value`/`allow_none`, `interpolation` (Python's
//! `BasicInterpolation`, on by default), `encoding` (`utf-8` only). Options may also be given
//! inline, `'user section=prod file=users.ini'`.

use minijinja::Error;
use minijinja::value::Value;

use super::files::find;
use super::{Call, Options};
use crate::template::filters::{Anchor, compile_anchored, err, str_of};

const OPTIONS: [&str; 10] = [
    "type",
    "file",
    "section",
    "re",
    "encoding",
    "default",
    "case_sensitive",
    "allow_no_value",
    "allow_none",
    "interpolation",
];

/// The key and options of a term with inline options, as the plugin's `_parse_params`: words
/// split on whitespace; a word with `OPTION=` starts that option, other words continue the
/// current one (the key first). Errors: an unknown option, a word with two `=`, no key.
fn inline(term: &str, opts: &mut Options) -> Result<String, Error> {
    let mut params: Vec<(String, String)> = Vec::new();
    let mut current = "key".to_string();
    for (i, word) in term.split_whitespace().enumerate() {
        if word.contains('=')
            && let Some(k) = OPTIONS.iter().rev().find(|k| word.contains(&format!("{k}=")))
        {
            current = (*k).to_string();
        }
        match params.iter_mut().find(|(k, _)| *k == current) {
            Some((_, v)) if i > 0 && !v.is_empty() => {
                v.push(' ');
                v.push_str(word);
            }
            _ => {
                params.retain(|(k, _)| *k != current);
                params.push((current.clone(), word.to_string()));
            }
        }
    }
    let mut key = None;
    for (_, param) in &params {
        if param.contains('=') {
            let mut parts = param.split('=');
            let (Some(name), Some(value), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(err(format!("Could not use '{param}' from {params:?}.")));
            };
            if !OPTIONS.contains(&name) {
                return Err(err(format!("'{name}' is not a valid option.")));
            }
            opts.set(name, Value::from(value));
        } else if key.is_none() {
            key = Some(param.clone());
        }
    }
    key.ok_or_else(|| {
        err(format!(
            "No key to look up was provided as first term within string inline options: {term}"
        ))
    })
}

/// Runs the lookup on every term.
pub(super) fn run(call: &Call) -> Result<Vec<Value>, Error> {
    call.opts.allow("ini", &OPTIONS)?;
    let mut opts = Options(call.opts.0.clone());
    let mut ret = Vec::new();
    for t in call.flat_terms()? {
        let term = str_of(&t);
        let key = if term.contains('=') || term.trim().contains(' ') {
            inline(&term, &mut opts)?
        } else {
            term.clone()
        };
        let file = opts.str("file").unwrap_or_else(|| "ansible.ini".into());
        let encoding = opts.str("encoding").unwrap_or_else(|| "utf-8".into());
        if !matches!(encoding.to_lowercase().as_str(), "utf-8" | "utf8") {
            return Err(err(format!(
                "talon reads INI files as utf-8 only, not {encoding}"
            )));
        }
        let case_sensitive = opts.bool("case_sensitive").unwrap_or(false);
        let allow_no_value = opts
            .bool("allow_no_value")
            .or(opts.bool("allow_none"))
            .unwrap_or(false);
        let (text, section) = {
            let path = find(&call.scope, &file, "files")?;
            let text = crate::input::read_text(&path).map_err(|e| err(e.to_string()))?;
            match opts.str("type").as_deref() {
                None | Some("ini") => (text, opts.str("section").unwrap_or_else(|| "global".into())),
                Some("properties") => (format!("[java_properties]\n{text}"), "java_properties".into()),
                Some(other) => {
                    return Err(err(format!(
                        "Invalid type for configuration option type: '{other}' is not one of ini, properties"
                    )));
                }
            }
        };
        let parsed = crate::pyini::read(&text, case_sensitive, allow_no_value)
            .map_err(|e| err(format!("{e} (in '{file}')")))?;
        let items = parsed
            .items(&section)
            .ok_or_else(|| err(format!("No section '{section}' in '{file}'.")))?;
        let interpolation = opts.bool("interpolation").unwrap_or(true);
        let plain: Vec<(String, String)> = items
            .iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .collect();
        let value_of = |k: &str, v: &str| -> Result<Value, Error> {
            if !interpolation {
                return Ok(Value::from(v));
            }
            crate::pyini::interpolate(v, &plain, !case_sensitive)
                .map(Value::from)
                .ok_or_else(|| {
                    err(format!(
                        "Bad value substitution: option '{k}' in section '{section}' ({v})"
                    ))
                })
        };
        if opts.bool("re").unwrap_or(false) {
            // ansible-core: `re.compile(key)` and `p.match(k)`.
            let re = compile_anchored(&key, false, false, Anchor::Match)?;
            for (k, v) in &items {
                if let Some(v) = v
                    && re
                        .is_match(k)
                        .map_err(|e| crate::template::filters::regex_run_err(&re, e))?
                {
                    ret.push(value_of(k, v)?);
                }
            }
            continue;
        }
        let wanted = if case_sensitive {
            key.clone()
        } else {
            key.to_lowercase()
        };
        match items.iter().find(|(k, _)| *k == wanted) {
            Some((k, Some(v))) => ret.push(value_of(k, v)?),
            Some((_, None)) => {}
            None => ret.push(opts.get("default").cloned().unwrap_or(Value::from(""))),
        }
    }
    Ok(ret)
}
