//! What ansible.builtin.pip reads from its `name` list without pip: the names split and joined
//! again as its `_recover_package_name` does, each one read as a PEP 508 requirement the way
//! its `Package` reads it (the text pip is given is the requirement's normalised form,
//! `Foo [b,a] >1.0, <2` -> `Foo[a,b]<2,>1.0`), and whether an installed version satisfies it
//! (check mode). Only a plain subset is read here: a name, extras, and `==`/`!=`/`<=`/`>=`/`<`/
//! `>`/`~=` specifiers on release versions (`1.2`, `==1.*`). Anything else that may be a
//! requirement ([`Parsed::Unsure`]: markers, URLs, `===`, pre-releases, ...) is left to the
//! module's own code (the Python path), so it is never read differently.

use std::cmp::Ordering;

/// ansible.builtin.pip's `op_dict` keys: a list item starting with one of these continues the
/// previous package's specifiers.
const OPS: &[&str] = &[">=", "<=", ">", "<", "==", "!=", "~="];

/// The module's `_recover_package_name`: items split at commas, a specifier-only item joined to
/// the package before it (`["a>1", "<2", "b"]` -> `["a>1,<2", "b"]`), commas inside brackets
/// kept.
pub fn recover_names(names: &[String]) -> Vec<String> {
    let parts: Vec<&str> = names.iter().flat_map(|n| n.split(',')).collect();
    let mut out = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    let mut in_brackets = false;
    for part in parts {
        let is_name = !OPS.iter().any(|op| part.trim_start().starts_with(op));
        if is_name && !in_brackets {
            if !cur.is_empty() {
                out.push(cur.join(","));
            }
            cur.clear();
        }
        if part.contains('[') {
            in_brackets = true;
        }
        if in_brackets && part.contains(']') {
            in_brackets = false;
        }
        cur.push(part);
    }
    out.push(cur.join(","));
    out
}

/// The module's `_is_vcs_url`: `svn+`, `git+`, `hg+` or `bzr+` at the start.
pub fn is_vcs_url(name: &str) -> bool {
    ["svn+", "git+", "hg+", "bzr+"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// One version specifier: an operator and a release (`1.2` is `[1, 2]`), `wildcard` for `.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    op: &'static str,
    text: String,
    release: Vec<u64>,
    wildcard: bool,
}

/// A requirement as the module's `Package` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The requirement's name, canonicalised (`[-_.]+` -> `-`, lower case): `package_name`.
    pub key: String,
    /// What pip is given: the normalised requirement, or the text as written when it is not a
    /// requirement (a file path).
    pub text: String,
    /// `None` for text that is not a requirement (it is never installed, as far as the module
    /// can tell).
    specs: Option<Vec<Spec>>,
}

/// How [`parse`] read a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A requirement (or a path that no requirement parser accepts).
    Package(Package),
    /// Something only the module's parser reads the same (markers, URLs, other versions).
    Unsure,
}

/// The canonical form of a project name (the module's `Package.canonicalize_name`).
pub fn canonical(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep {
            out.push('-');
            sep = false;
        }
        out.extend(c.to_lowercase());
    }
    if sep {
        out.push('-');
    }
    out
}

/// A release version (`1`, `1.2.3`) as numbers, or `None`.
fn release(s: &str) -> Option<Vec<u64>> {
    s.split('.')
        .map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect()
}

/// One specifier (`>=1.0`, `==1.*`), spaces between operator and version allowed.
fn spec(s: &str) -> Option<Spec> {
    let s = s.trim();
    // Longest operators first; `===` is arbitrary equality, left to the module.
    if s.starts_with("===") {
        return None;
    }
    let op = ["~=", "==", "!=", "<=", ">=", "<", ">"]
        .into_iter()
        .find(|op| s.starts_with(op))?;
    let v = s[op.len()..].trim();
    let (base, wildcard) = match v.strip_suffix(".*") {
        Some(b) if op == "==" || op == "!=" => (b, true),
        Some(_) => return None,
        None => (v, false),
    };
    let release = release(base)?;
    if op == "~=" && release.len() < 2 {
        return None;
    }
    Some(Spec {
        op,
        text: format!("{op}{v}"),
        release,
        wildcard,
    })
}

/// True when `name` is a project name as PEP 508 writes one.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    let edge = |c: &u8| c.is_ascii_alphanumeric();
    !b.is_empty()
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Reads `text` as the module's `Package(text)` does (see [`Parsed`]).
pub fn parse(text: &str) -> Parsed {
    let t = text.trim();
    let end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(t.len());
    let (name, mut rest) = (&t[..end], t[end..].trim_start());
    if !valid_name(name) {
        // Paths and files are no requirement to any parser: pip gets them as written.
        let path_like = t.starts_with(['/', '.', '~']) && !t.contains(['@', ';', '#']);
        return if path_like {
            Parsed::Package(Package {
                key: text.to_string(),
                text: text.to_string(),
                specs: None,
            })
        } else {
            Parsed::Unsure
        };
    }
    let mut extras: Vec<&str> = Vec::new();
    if let Some(r) = rest.strip_prefix('[') {
        let Some((inside, after)) = r.split_once(']') else {
            return Parsed::Unsure;
        };
        for e in inside.split(',') {
            let e = e.trim();
            if !valid_name(e) {
                return Parsed::Unsure;
            }
            extras.push(e);
        }
        rest = after.trim_start();
    }
    let mut specs = Vec::new();
    if !rest.is_empty() {
        for s in rest.split(',') {
            match spec(s) {
                Some(s) => specs.push(s),
                None => return Parsed::Unsure,
            }
        }
    }
    extras.sort_unstable();
    extras.dedup();
    let mut texts: Vec<&str> = specs.iter().map(|s| s.text.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    let mut out = name.to_string();
    if !extras.is_empty() {
        out.push_str(&format!("[{}]", extras.join(",")));
    }
    out.push_str(&texts.join(","));
    let key = canonical(name);
    let key = if key == "distribute" && t.contains("setuptools") {
        "setuptools".to_string()
    } else {
        key
    };
    Parsed::Package(Package {
        key,
        text: out,
        specs: Some(specs),
    })
}

impl Package {
    /// The module's `has_version_specifier`.
    pub fn has_specifier(&self) -> bool {
        self.specs.as_ref().is_some_and(|s| !s.is_empty())
    }

    /// The module's `Package(str(self), version)`: `NAME==VERSION` for a version starting with a
    /// digit, else `NAME VERSION` (`>=1.0`), read again.
    pub fn with_version(&self, version: &str) -> Parsed {
        let v = version.trim_start();
        if v.is_empty() {
            return Parsed::Package(self.clone());
        }
        let sep = if v.starts_with(|c: char| c.is_ascii_digit()) {
            "=="
        } else {
            " "
        };
        parse(&format!("{}{sep}{v}", self.text))
    }

    /// The module's `is_satisfied_by(version)` for an installed `version`; `None` when the
    /// version is not a plain release (only the module's own code compares those).
    pub fn satisfied_by(&self, version: &str) -> Option<bool> {
        let Some(specs) = &self.specs else {
            return Some(false);
        };
        let have = release(version)?;
        Some(specs.iter().all(|s| s.contains(&have)))
    }
}

/// Compares releases as PEP 440 does (missing parts are zeros).
fn cmp_release(a: &[u64], b: &[u64]) -> Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// True when `have` starts with `prefix` (padded with zeros): `==1.2.*`.
fn has_prefix(have: &[u64], prefix: &[u64]) -> bool {
    prefix
        .iter()
        .enumerate()
        .all(|(i, p)| have.get(i).unwrap_or(&0) == p)
}

impl Spec {
    /// packaging's `Specifier.contains` for a release version.
    fn contains(&self, have: &[u64]) -> bool {
        let o = cmp_release(have, &self.release);
        match (self.op, self.wildcard) {
            ("==", true) => has_prefix(have, &self.release),
            ("!=", true) => !has_prefix(have, &self.release),
            ("==", false) => o.is_eq(),
            ("!=", false) => !o.is_eq(),
            ("<=", _) => o.is_le(),
            (">=", _) => o.is_ge(),
            ("<", _) => o.is_lt(),
            (">", _) => o.is_gt(),
            // ~=: at least this release, within its prefix (all but the last part).
            _ => o.is_ge() && has_prefix(have, &self.release[..self.release.len() - 1]),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pkg(s: &str) -> Package {
        match parse(s) {
            Parsed::Package(p) => p,
            Parsed::Unsure => panic!("{s} unsure"),
        }
    }

    #[test]
    fn names_are_recovered_as_the_module_does() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            recover_names(&v(&[
                "django>1.11.1",
                "<1.11.3",
                "ipaddress",
                "simple>1.1.0",
                "<2.0.0"
            ])),
            ["django>1.11.1,<1.11.3", "ipaddress", "simple>1.1.0,<2.0.0"]
        );
        assert_eq!(
            recover_names(&v(&["django>1.11.1,<1.11.3,ipaddress", "a[x,y]>1"])),
            ["django>1.11.1,<1.11.3", "ipaddress", "a[x,y]>1"]
        );
    }

    #[test]
    fn requirements_print_as_packaging_prints_them() {
        // As pkg_resources (packaging 21.3) on Debian 12 prints them.
        assert_eq!(pkg("Foo_Bar [b,a] >1.0, <2").text, "Foo_Bar[a,b]<2,>1.0");
        assert_eq!(pkg("Foo_Bar [b,a] >1.0, <2").key, "foo-bar");
        assert_eq!(pkg("talonpkg >= 1.0").text, "talonpkg>=1.0");
        assert_eq!(pkg("x>=1,>=1").text, "x>=1");
        assert_eq!(pkg("/srv/x.whl").text, "/srv/x.whl");
        assert!(!pkg("/srv/x.whl").has_specifier());
        for unsure in [
            "a-",
            "a b",
            "a; python_version>'3'",
            "a @ file:///x",
            "a===1",
            "a>=1.0rc1",
        ] {
            assert_eq!(parse(unsure), Parsed::Unsure, "{unsure}");
        }
        assert_eq!(
            pkg("talonpkg").with_version("1.0"),
            Parsed::Package(pkg("talonpkg==1.0"))
        );
        assert_eq!(
            pkg("talonpkg").with_version(" >=1.0").clone(),
            Parsed::Package(pkg("talonpkg>=1.0"))
        );
    }

    #[test]
    fn versions_satisfy_as_pep_440_says() {
        let sat = |r: &str, v: &str| pkg(r).satisfied_by(v).unwrap();
        assert!(sat("a==1.0", "1.0.0"));
        assert!(sat("a==1.*", "1.4"));
        assert!(!sat("a==1.*", "2.0"));
        assert!(sat("a~=1.4.5", "1.4.9"));
        assert!(!sat("a~=1.4.5", "1.5"));
        assert!(sat("a>1.0,<2", "1.1"));
        assert!(!sat("a>1.0,<2", "2.0"));
        assert!(sat("a!=1.1", "1.0"));
        assert!(sat("a", "0.1"));
        assert!(!pkg("/x.whl").satisfied_by("1").unwrap());
        assert_eq!(pkg("a").satisfied_by("1.0rc1"), None);
    }
}
