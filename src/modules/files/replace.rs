//! `replace`: replace every match of a Python regular expression in a file, as
//! ansible.builtin.replace does: `re.subn(regexp, replace, section)` with `re.MULTILINE` over
//! the whole text, or over the section between the first match of `after` and of `before`
//! (`AFTER(?P<subsection>.*?)BEFORE` with `re.DOTALL`), decided on the controller by
//! [`replace_text`], then written back atomically with the file's attributes kept.
//!
//! Python's regex dialect is carried by [`super::pyre`]; a pattern, template or text it cannot
//! prove to behave as Python's `re` does (verbose mode, conditionals, a non-UTF-8 file, an
//! `encoding` other than UTF-8, ...) runs ansible-core's own module on the host instead (the
//! Python path), never a near miss. So does a secret in `replace` (the one argument that may
//! carry one).
//!
//! Round trips: one probe (stat + content); one atomic write or one chmod/chown to apply.

use std::collections::HashSet;

use super::attributes;
use super::edit::read_target;
use super::pyre::{PyRegex, Unsupported};
use crate::modules::args::{Args, FileArgs, files_failure};
use crate::modules::fallback::python_path;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{FileDiff, ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::files::{self, WriteOptions};
use crate::vars::Vars;

crate::module_info!(
    /// `replace` in the registry.
    INFO,
    "replace",
    ArgSpec::new(&[
        ArgDef::path("path").aliases(&["dest", "destfile", "name"]).required(),
        ArgDef::str("regexp").required(),
        // A secret may be the replacement: ansible-core's module then writes it (see `run`).
        ArgDef::str("replace").delivers(),
        ArgDef::str("after"),
        ArgDef::str("before"),
        ArgDef::bool("backup"),
        ArgDef::str("validate"),
        ArgDef::str("encoding"),
        ArgDef::mode("mode"),
        ArgDef::str("owner"),
        ArgDef::str("group"),
        ArgDef::str("attributes").aliases(&["attr"]),
        ArgDef::bool("unsafe_writes"),
    ])
    .python_for(&["seuser", "serole", "setype", "selevel"]),
    run
);

/// What [`replace_text`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replaced {
    /// `after`/`before` did not match: the module stops with
    /// `Pattern for before/after params did not match the given file: PATTERN`.
    NoSection {
        /// The section pattern as the module built it.
        pattern: String,
    },
    /// The substitution ran.
    Done {
        /// The whole text afterwards.
        text: String,
        /// The number of matches (`N replacements made`).
        count: usize,
        /// The section's text differs from before (ansible-core: `count > 0 and section != new`).
        changed: bool,
    },
}

/// The section pattern ansible.builtin.replace builds from `after`/`before` (empty strings
/// count as not given), `None` for the whole text.
pub fn section_pattern(after: Option<&str>, before: Option<&str>) -> Option<String> {
    match (after.filter(|s| !s.is_empty()), before.filter(|s| !s.is_empty())) {
        (Some(a), Some(b)) => Some(format!("{a}(?P<subsection>.*?){b}")),
        (Some(a), None) => Some(format!("{a}(?P<subsection>.*)")),
        (None, Some(b)) => Some(format!("(?P<subsection>.*){b}")),
        (None, None) => None,
    }
}

/// ansible.builtin.replace's edit of `contents`: the section (see [`section_pattern`]) searched
/// with `re.DOTALL`, then `re.subn(regexp, replace, section)` with `re.MULTILINE` on that
/// section alone (so `^` matches at its start), spliced back.
///
/// Errors: [`Unsupported`] when Python's `re` must decide (see [`super::pyre`]).
pub fn replace_text(
    contents: &str,
    regexp: &str,
    replace: &str,
    after: Option<&str>,
    before: Option<&str>,
) -> Result<Replaced, Unsupported> {
    let (start, end) = match section_pattern(after, before) {
        Some(pattern) => {
            let re = PyRegex::new(&pattern, false, true)?;
            if !re.fits(contents) {
                return Err(Unsupported("a text beyond ASCII for the section pattern".into()));
            }
            let group = re
                .group("subsection")
                .ok_or_else(|| Unsupported("no subsection group".into()))?;
            match re.search(contents).and_then(|c| c.get(group)) {
                Some(m) => (m.start(), m.end()),
                None => return Ok(Replaced::NoSection { pattern }),
            }
        }
        None => (0, contents.len()),
    };
    let section = &contents[start..end];
    let re = PyRegex::new(regexp, true, false)?;
    let template = re.template(replace)?;
    let (new, count) = re.subn(section, &template)?;
    let changed = count > 0 && new != section;
    let text = format!("{}{new}{}", &contents[..start], &contents[end..]);
    Ok(Replaced::Done { text, count, changed })
}

/// True for the names Python's codec registry gives UTF-8 (`utf-8`, `UTF8`, `utf_8`, `u8`, ...).
fn is_utf8(encoding: &str) -> bool {
    let e = encoding.to_ascii_lowercase().replace(['-', ' '], "_");
    matches!(e.as_str(), "utf_8" | "utf8" | "u8" | "utf" | "cp65001")
}

/// Runs `replace`, matching ansible.builtin.replace: `rc: 0`, `msg` (`N replacements made`, or
/// empty; `... and ownership, perms or SE linux context changed` when attributes change),
/// `changed`, `diff` (`before_header`, `before`, `after_header`, `after`) with `--diff` when
/// the content changes, `backup_file` when `backup` made one. A missing path fails with
/// `Path PATH does not exist !` (`rc: 257`), a directory with `Path PATH is a directory !`
/// (`rc: 256`); `after`/`before` that do not match end ok with
/// `Pattern for before/after params did not match the given file: PATTERN`.
///
/// Errors: [`ModuleError::BadArgs`] for bad arguments; [`ModuleError::Transport`].
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let path = a.req_str("path")?;
    let regexp = a.req_str("regexp")?;
    let replace = a.str("replace")?.unwrap_or_default();
    let after = a.str("after")?;
    let before = a.str("before")?;
    let backup = a.bool("backup", false)?;
    let validate = a.str("validate")?;
    let encoding = a.str("encoding")?.unwrap_or_else(|| "utf-8".into());
    let file = FileArgs::parse(&a)?;
    let want_flags = attributes::arg(&a)?;
    a.bool("unsafe_writes", false)?;
    // A secret in the replacement: ansible-core's module receives its arguments on stdin and
    // its output is masked, as for every Python-path module; talon's native edit would have to
    // compare, diff and report the secret's value itself.
    if ctx.secrets.find_in(&replace).is_some() {
        return python_path(
            "ansible.builtin.replace",
            "replace",
            args,
            ctx,
            "a secret in replace",
        )
        .await;
    }
    if !is_utf8(&encoding) {
        return python_path(
            "ansible.builtin.replace",
            "replace",
            args,
            ctx,
            &format!("encoding {encoding}"),
        )
        .await;
    }
    let probe = match read_target(ctx, &path, false, &format!("Path {path} does not exist !")).await? {
        Ok(p) => p,
        Err(failed) => return Ok(failed),
    };
    let st = probe.stat.as_ref();
    let raw = st.and_then(|s| s.content.clone()).unwrap_or_default();
    let Ok(contents) = String::from_utf8(raw) else {
        return python_path(
            "ansible.builtin.replace",
            "replace",
            args,
            ctx,
            "a file that is not UTF-8",
        )
        .await;
    };
    let edit = match replace_text(&contents, &regexp, &replace, after.as_deref(), before.as_deref()) {
        Ok(e) => e,
        Err(why) => {
            return python_path("ansible.builtin.replace", "replace", args, ctx, &why.to_string()).await;
        }
    };
    let (text, count, content_changed) = match edit {
        Replaced::NoSection { pattern } => {
            let mut out = ModuleOutcome::ok().with("rc", 0);
            out.msg = Some(format!(
                "Pattern for before/after params did not match the given file: {pattern}"
            ));
            return Ok(out);
        }
        Replaced::Done { text, count, changed } => (text, count, changed),
    };
    let mut out = ModuleOutcome::ok().with("rc", 0);
    let mut msg = if content_changed {
        format!("{count} replacements made")
    } else {
        String::new()
    };
    if content_changed && ctx.diff {
        let (mut b, mut aft) = (contents.clone(), text.clone());
        if ctx.secrets.held.holds(ctx.host, &path) {
            let shown = HashSet::new();
            b = crate::secrets::held::mask_lines_except(&b, &shown);
            aft = crate::secrets::held::mask_lines_except(&aft, &shown);
        }
        out = out.with(
            "diff",
            serde_json::json!({"before_header": path, "before": b, "after_header": path, "after": aft}),
        );
        out.diff.push(FileDiff {
            before_header: path.clone(),
            after_header: path.clone(),
            before: b,
            after: aft,
            ..FileDiff::default()
        });
    }
    let attr = st.map(|s| file.changes(s)).unwrap_or_default();
    if content_changed && !ctx.check {
        let mut attrs = attr.attrs.clone();
        if let Some(st) = st {
            // The file keeps its mode (atomic_move), unless `mode` changes it.
            attrs.mode = Some(file.mode.as_ref().map_or(st.mode, |m| m.resolve(st.mode, false)));
        }
        let wopts = WriteOptions {
            attrs,
            backup,
            validate,
            create_parents: false,
            follow: true,
            report: false,
            owner_is_creator: st.is_some_and(|s| files::owned_as_new(ctx.conn, &ctx.become_, s)),
        };
        match files::write_atomic(ctx.conn, &path, text.as_bytes(), &wopts, &ctx.become_).await {
            Ok(w) => {
                if let Some(b) = w.backup_file {
                    out = out.with("backup_file", b);
                }
            }
            Err(e) => {
                let mut failed = files_failure(e)?;
                // ansible.builtin.replace's validate failure has only its message.
                failed.result.remove("exit_status");
                failed.result.remove("stderr");
                return Ok(failed);
            }
        }
    } else if attr.any()
        && !ctx.check
        && let Err(e) = files::set_attrs(ctx.conn, &path, &attr.attrs, true, &ctx.become_).await
    {
        return files_failure(e);
    }
    if attr.any() {
        if content_changed {
            msg.push_str(" and ");
        }
        msg.push_str("ownership, perms or SE linux context changed");
    }
    out.changed = content_changed || attr.any();
    out.msg = Some(msg);
    let mut out = attributes::after(ctx, want_flags.as_deref(), &path, Ok(out), true).await?;
    // The module's key order ends with `msg`, `changed`: a registered result printed whole
    // shows it.
    let msg = out.msg.clone().unwrap_or_default();
    let changed = out.changed;
    out = out.with("msg", msg).with("changed", changed);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn done(text: &str, count: usize, changed: bool) -> Replaced {
        Replaced::Done {
            text: text.into(),
            count,
            changed,
        }
    }

    // Expected values: ansible-core 2.19's replace.py logic run by Python 3.11.
    #[test]
    fn replaces_every_match_with_multiline_anchors() {
        let r = replace_text("a=1\nb=2\n", r"^(\w)=", r"\1 = ", None, None).unwrap();
        assert_eq!(r, done("a = 1\nb = 2\n", 2, true));
    }

    #[test]
    fn matches_that_change_nothing_are_not_a_change() {
        let r = replace_text("abc\n", "b", "b", None, None).unwrap();
        assert_eq!(r, done("abc\n", 1, false));
        let r = replace_text("abc\n", "z", "y", None, None).unwrap();
        assert_eq!(r, done("abc\n", 0, false));
    }

    #[test]
    fn after_and_before_bound_the_section() {
        let text = "x=1\n[a]\nx=1\n[b]\nx=1\n";
        let r = replace_text(text, "^x=1$", "x=2", Some(r"\[a\]"), Some(r"\[b\]")).unwrap();
        assert_eq!(r, done("x=1\n[a]\nx=2\n[b]\nx=1\n", 1, true));
        let r = replace_text(text, "^x=1$", "x=2", Some(r"\[a\]"), None).unwrap();
        assert_eq!(r, done("x=1\n[a]\nx=2\n[b]\nx=2\n", 2, true));
        let r = replace_text(text, "^x=1$", "x=2", None, Some(r"\[b\]")).unwrap();
        assert_eq!(r, done("x=2\n[a]\nx=2\n[b]\nx=1\n", 2, true));
        // Empty strings count as not given.
        let r = replace_text(text, "^x=1$", "x=2", Some(""), Some("")).unwrap();
        assert_eq!(r, done("x=2\n[a]\nx=2\n[b]\nx=2\n", 3, true));
    }

    #[test]
    fn the_section_is_searched_alone() {
        // `^` matches at the section's start, which is mid-line in the file.
        let r = replace_text("key: a b\n", "^", ">", Some("key:"), None).unwrap();
        assert_eq!(r, done("key:> a b\n>", 2, true));
    }

    #[test]
    fn a_section_that_does_not_match_is_reported() {
        let r = replace_text("abc", "b", "x", Some("zzz"), None).unwrap();
        assert_eq!(
            r,
            Replaced::NoSection {
                pattern: "zzz(?P<subsection>.*)".into()
            }
        );
    }

    #[test]
    fn python_only_features_are_refused_not_guessed() {
        assert!(replace_text("ab", "(a)", r"\2", None, None).is_err());
        assert!(replace_text("é", r"\w", "x", None, None).is_err());
    }

    #[test]
    fn look_around_and_dollar_as_python() {
        // re.subn('(?<=a)b', 'x', 'ab') == ('ax', 1)
        let r = replace_text("ab", "(?<=a)b", "x", None, None).unwrap();
        assert!(
            matches!(r, Replaced::Done { ref text, count: 1, changed: true } if text == "ax"),
            "{r:?}"
        );
        // The section pattern without MULTILINE: `$` also before the final newline.
        let r = replace_text("ab\n", "a", "x", None, Some("$")).unwrap();
        assert!(
            matches!(r, Replaced::Done { ref text, count: 1, .. } if text == "xb\n"),
            "{r:?}"
        );
    }

    #[test]
    fn utf8_names_as_pythons_codecs_know_them() {
        for e in ["utf-8", "UTF-8", "utf8", "utf_8", "U8"] {
            assert!(is_utf8(e), "{e}");
        }
        for e in ["latin-1", "utf-16", "ascii"] {
            assert!(!is_utf8(e), "{e}");
        }
    }
}
