//! The file logic of community.general.modprobe as pure functions: whether a module is loaded
//! (`/proc/modules`, `modules.builtin`), loaded persistently (`/etc/modules-load.d`), its
//! permanent parameters (`/etc/modprobe.d`), and the module's edits with their quirks (a line
//! commented out by prefixing `#`, the file then written as its lines joined with `\n`, so every
//! line it had gains a blank line after it). The module builds its patterns from `name`
//! without escaping: only names that are plain words (letters, digits, `_`, `-`) are read
//! here, which the patterns read literally.

use regex::Regex;

/// True when `name` reads the same as a literal in the module's unescaped patterns.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The module's three patterns for a [`plain_name`].
#[derive(Debug)]
pub struct Patterns {
    module: Regex,
    params: Regex,
}

impl Patterns {
    /// The module's `re_find_module` and `re_get_params_and_values` for `name` (`None` when
    /// `name` is not a [`plain_name`]).
    pub fn new(name: &str) -> Option<Patterns> {
        if !plain_name(name) {
            return None;
        }
        Some(Patterns {
            module: Regex::new(&format!(r"^ *{name} *(?:[#;].*)?\n?\z")).ok()?,
            params: Regex::new(&format!(r"^options {name} (\w+=\S+) *(?:[#;].*)?\n?\z")).ok()?,
        })
    }

    /// The module's `re_find_module` matches `line`.
    pub fn names_module(&self, line: &str) -> bool {
        self.module.is_match(line)
    }

    /// The `KEY=VALUE` a line of a modprobe.d file sets for the module.
    pub fn param(&self, line: &str) -> Option<String> {
        Some(self.params.captures(line)?.get(1)?.as_str().to_string())
    }
}

/// Python's `readlines()` of a text: lines with their `\n`.
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The module's `module_loaded`: a `/proc/modules` line starting with the name (`-` as `_`)
/// and a space; else a `modules.builtin` line ending (blanks stripped) with `/NAME.ko`.
/// `builtin` is read only when `/proc/modules` does not list it: `Err` there is the module's
/// failure to open it.
pub fn loaded(proc_modules: &str, builtin: Result<&str, String>, name: &str) -> Result<bool, String> {
    let prefix = format!("{} ", name.replace('-', "_"));
    if lines(proc_modules).iter().any(|l| l.starts_with(&prefix)) {
        return Ok(true);
    }
    let ko = format!("/{name}.ko");
    Ok(lines(builtin?).iter().any(|l| l.trim_end().ends_with(&ko)))
}

/// The module's `module_is_loaded_persistently`: a modules-load.d file has a line naming it.
pub fn loaded_persistently<'t>(p: &Patterns, files: impl IntoIterator<Item = &'t str>) -> bool {
    files
        .into_iter()
        .any(|f| lines(f).iter().any(|l| p.names_module(l)))
}

/// The module's `permanent_params`: every `KEY=VALUE` the modprobe.d files set for it.
pub fn permanent_params<'t>(p: &Patterns, files: impl IntoIterator<Item = &'t str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in files {
        for v in lines(f).iter().filter_map(|l| p.param(l)) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// The module's `params_is_set`: the words of `params` are, as a set, the permanent ones.
pub fn params_set(params: &str, permanent: &[String]) -> bool {
    let mut want: Vec<&str> = params.split_whitespace().collect();
    want.sort_unstable();
    want.dedup();
    let mut have: Vec<&str> = permanent.iter().map(String::as_str).collect();
    have.sort_unstable();
    want == have
}

/// The module's `disable_old_params` / `disable_module_permanent` for one file: each line
/// `matches` accepts prefixed with `#`, then the lines joined with `\n` (they keep their own
/// newlines). `None` when no line matched (the file is not written).
pub fn comment_out(text: &str, matches: impl Fn(&str) -> bool) -> Option<String> {
    let mut changed = false;
    let out: Vec<String> = lines(text)
        .into_iter()
        .map(|l| {
            if matches(l) {
                changed = true;
                format!("#{l}")
            } else {
                l.to_string()
            }
        })
        .collect();
    changed.then(|| out.join("\n"))
}

/// The module's `module_options_file_content`: one `options NAME PARAM` line per word of
/// `params`, each ended by a newline (a lone newline without words).
pub fn options_file(name: &str, params: &str) -> String {
    let lines: Vec<String> = params
        .split_whitespace()
        .map(|p| format!("options {name} {p}"))
        .collect();
    lines.join("\n") + "\n"
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_and_patterns() {
        assert!(plain_name("nf_conntrack"));
        assert!(plain_name("snd-hda-intel"));
        assert!(!plain_name("a.b"));
        assert!(!plain_name(""));
        assert!(Patterns::new("x(").is_none());
        let p = Patterns::new("dummy").unwrap();
        assert!(p.names_module("dummy\n"));
        assert!(p.names_module("  dummy  # comment\n"));
        assert!(p.names_module("dummy;x"));
        assert!(!p.names_module("#dummy\n"));
        assert!(!p.names_module("dummy2\n"));
        assert!(!p.names_module("dummy\n\n"));
        assert_eq!(
            p.param("options dummy numdummies=2\n").as_deref(),
            Some("numdummies=2")
        );
        assert_eq!(p.param("options dummy a=1 b=2\n"), None);
        assert_eq!(p.param("options dummy a=1 ; why\n").as_deref(), Some("a=1"));
        assert_eq!(p.param("#options dummy a=1\n"), None);
    }

    #[test]
    fn loaded_as_the_module_reads_it() {
        let proc = "snd_hda_intel 57344 2 - Live 0x0\nloop 32768 0 - Live 0x0\n";
        assert_eq!(loaded(proc, Err("unread".into()), "snd-hda-intel"), Ok(true));
        assert_eq!(
            loaded(proc, Ok("kernel/drivers/block/dummy.ko  \n"), "dummy"),
            Ok(true)
        );
        assert_eq!(loaded(proc, Ok("kernel/x/dummy2.ko\n"), "dummy"), Ok(false));
        assert_eq!(
            loaded(proc, Err("[Errno 2] ...".into()), "dummy"),
            Err("[Errno 2] ...".to_string())
        );
    }

    #[test]
    fn persistence_as_the_module_reads_it() {
        let p = Patterns::new("dummy").unwrap();
        assert!(loaded_persistently(&p, ["loop\n", "dummy\n"]));
        assert!(!loaded_persistently(&p, ["# dummy\n"]));
        let perm = permanent_params(
            &p,
            ["options dummy a=1\noptions dummy b=2\n", "options dummy a=1\n"],
        );
        assert_eq!(perm, ["a=1", "b=2"]);
        assert!(params_set("b=2  a=1 a=1", &perm));
        assert!(!params_set("a=1", &perm));
        assert!(params_set("", &[]));
    }

    #[test]
    fn edits_keep_the_modules_quirks() {
        let p = Patterns::new("dummy").unwrap();
        assert_eq!(
            comment_out("loop\ndummy\nother\n", |l| p.names_module(l)).as_deref(),
            Some("loop\n\n#dummy\n\nother\n")
        );
        assert_eq!(comment_out("loop\n", |l| p.names_module(l)), None);
        assert_eq!(
            comment_out("options dummy a=1", |l| p.param(l).is_some()).as_deref(),
            Some("#options dummy a=1")
        );
        assert_eq!(
            options_file("dummy", "a=1  b=2"),
            "options dummy a=1\noptions dummy b=2\n"
        );
        assert_eq!(options_file("dummy", ""), "\n");
    }
}
