//! INI text as Python's `configparser.ConfigParser` reads it, for what ansible-core reads with
//! it on the controller (local facts, the `ini` lookup): the `configparser` crate parses
//! (multi-line values, `#`/`;` comments, no inline comments), this module adds Python's rules
//! around it: a section header first, option names lower-cased unless case-sensitive,
//! `[DEFAULT]` options seen in every section, `BasicInterpolation`.

use indexmap::IndexMap;

/// One section's options in file order; `None` for an option written without a value.
pub type Options = Vec<(String, Option<String>)>;

/// A parsed INI file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The `[DEFAULT]` section's options.
    pub defaults: Options,
    /// The other sections, in file order.
    pub sections: IndexMap<String, Options>,
}

impl Parsed {
    /// The options of `section` as Python's `items(section)` lists them: the defaults, then the
    /// section's own (which replace a default of the same name). `None`: no such section.
    pub fn items(&self, section: &str) -> Option<Options> {
        let own = if section == "DEFAULT" {
            &Vec::new()
        } else {
            self.sections.get(section)?
        };
        let mut all = self.defaults.clone();
        for (k, v) in own {
            match all.iter_mut().find(|(n, _)| n == k) {
                Some(slot) => slot.1 = v.clone(),
                None => all.push((k.clone(), v.clone())),
            }
        }
        Some(all)
    }
}

/// Reads INI text. Option names are lower-cased unless `case_sensitive` (Python's
/// `optionxform`); section names keep their case.
///
/// Errors (Python's): text before the first section header ("File contains no section
/// headers."), an option given twice in a section ("Duplicate option"), an option without a
/// value unless `allow_no_value`, text the parser cannot read.
pub fn read(text: &str, case_sensitive: bool, allow_no_value: bool) -> Result<Parsed, String> {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(['#', ';']));
    if first.is_some_and(|l| !l.starts_with('[')) {
        return Err("File contains no section headers.".into());
    }
    let mut ini = configparser::ini::Ini::new_cs();
    ini.set_multiline(true);
    ini.set_inline_comment_symbols(Some(&[]));
    let map = ini.read(text.to_string())?;
    let mut parsed = Parsed::default();
    for (section, options) in map {
        let mut own: Options = Vec::new();
        for (k, v) in options {
            let k = if case_sensitive { k } else { k.to_lowercase() };
            if own.iter().any(|(n, _)| *n == k) {
                return Err(format!("Duplicate option '{k}' in section '{section}'"));
            }
            if v.is_none() && !allow_no_value {
                return Err(format!(
                    "option '{k}' in section '{section}' has no value (allow_no_value is off)"
                ));
            }
            own.push((k, v));
        }
        if section == "DEFAULT" {
            parsed.defaults = own;
        } else {
            parsed.sections.insert(section, own);
        }
    }
    Ok(parsed)
}

/// Python's `BasicInterpolation` of `value` among `options`: `%%` is `%`, `%(name)s` the
/// option's (interpolated) value, `name` lower-cased first when `lower_names`; `None` for
/// anything else after `%`, an unknown name, an option without a value, or more than 10 levels
/// of nesting.
pub fn interpolate<V: AsRef<str>>(value: &str, options: &[(String, V)], lower_names: bool) -> Option<String> {
    fn walk<V: AsRef<str>>(
        value: &str,
        options: &[(String, V)],
        lower: bool,
        depth: usize,
    ) -> Option<String> {
        if depth > 10 {
            return None;
        }
        let mut out = String::new();
        let mut rest = value;
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('%') {
                out.push('%');
                rest = r;
            } else if let Some(r) = after.strip_prefix('(') {
                let (name, tail) = r.split_once(")s")?;
                let name = if lower {
                    name.to_lowercase()
                } else {
                    name.to_string()
                };
                let v = options.iter().find(|(k, _)| *k == name)?.1.as_ref().to_string();
                out.push_str(&walk(&v, options, lower, depth + 1)?);
                rest = tail;
            } else {
                return None;
            }
        }
        out.push_str(rest);
        Some(out)
    }
    walk(value, options, lower_names, 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sections_defaults_case_and_interpolation_as_python() {
        let p = read(
            "[DEFAULT]\nbase = /srv\n[app]\nUser = bob\ndir = %(base)s/app\n",
            false,
            false,
        )
        .unwrap();
        let items = p.items("app").unwrap();
        assert_eq!(items[1], ("user".to_string(), Some("bob".to_string())));
        let plain: Vec<(String, String)> = items.into_iter().map(|(k, v)| (k, v.unwrap())).collect();
        assert_eq!(interpolate("%(base)s/app", &plain, true).unwrap(), "/srv/app");
        assert_eq!(interpolate("100%%", &plain, true).unwrap(), "100%");
        assert!(interpolate("%(nope)s", &plain, true).is_none());
        assert!(p.items("nope").is_none());
        let cs = read("[s]\nUser = a\nuser = b\n", true, false).unwrap();
        assert_eq!(cs.items("s").unwrap().len(), 2);
        assert!(
            read("[s]\nUser = a\nuser = b\n", false, false)
                .unwrap_err()
                .contains("Duplicate option")
        );
        assert!(
            read("x = 1\n[s]\n", false, false)
                .unwrap_err()
                .contains("no section headers")
        );
        assert!(read("[s]\nflag\n", false, false).is_err());
        assert_eq!(
            read("[s]\nflag\n", false, true).unwrap().items("s").unwrap()[0].1,
            None
        );
    }
}
