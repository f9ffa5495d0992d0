//! The shared engine of the line editors (`lineinfile`, `blockinfile`): read the target with
//! one probe ([`read_target`]), compute the new lines on the controller, write them back
//! atomically or fix only attributes ([`rewrite`]), with `--diff` and secret masking. Regexes
//! behave as Python's `re.search` with a bytes pattern on a line ([`LineRegex`]).

use std::sync::Mutex;

use super::pyre;

use crate::modules::args::{Args, FileArgs, files_failure};
use crate::modules::{FileDiff, ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::files::{self, FileKind, ProbeOptions, WriteOptions};

/// Splits bytes into lines keeping each `\n` (Python's `bytes.readlines`).
pub fn split_lines(data: &[u8]) -> Vec<Vec<u8>> {
    data.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// A user regex of the line editors (`regexp`, `insertafter`, `insertbefore`) as ansible-core
/// compiles it: `re.compile(to_bytes(pattern))`, a bytes pattern searched in a line that keeps
/// its `\n`. Python's syntax is translated by [`pyre::translate`] (look-around and
/// backreferences included) and run by fancy-regex in its ASCII bytes mode, which is a bytes
/// pattern's meaning in Python: `.` any byte, `\w`/`\d`/`\s`/`\b` and ignoring case ASCII only.
/// A match that fails at run time (fancy-regex's backtracking limit) is remembered and fails
/// the task ([`LineRegex::failure`]), never a wrong "no match".
#[derive(Debug)]
pub struct LineRegex {
    re: fancy_regex::Regex,
    failed: Mutex<Option<String>>,
}

impl LineRegex {
    /// Compiles Python pattern `pattern`.
    ///
    /// Errors: what Python refuses or talon does not run (see [`pyre::translate`]), as text.
    pub fn new(pattern: &str) -> Result<LineRegex, String> {
        let t = pyre::translate(pattern, false, false).map_err(|e| e.0)?;
        let re = fancy_regex::RegexBuilder::new(&t.pattern)
            .bytes_mode(fancy_regex::BytesMode::Ascii)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(LineRegex {
            re,
            failed: Mutex::new(None),
        })
    }

    /// Python's `pattern.search(line)`: the leftmost match with its groups.
    pub fn search<'h>(&self, line: &'h [u8]) -> Option<fancy_regex::Captures<'h, [u8]>> {
        match self.re.captures(line) {
            Ok(c) => c,
            Err(e) => {
                if let Ok(mut f) = self.failed.lock() {
                    f.get_or_insert_with(|| e.to_string());
                }
                None
            }
        }
    }

    /// The leftmost match's byte range in `text`.
    pub fn find(&self, text: &[u8]) -> Option<std::ops::Range<usize>> {
        self.search(text).and_then(|c| c.get(0).map(|m| m.range()))
    }

    /// The translated pattern (its global flags first, as written: `(?m)...`).
    pub fn as_str(&self) -> &str {
        self.re.as_str()
    }

    /// Why a search failed at run time, if one did.
    pub fn failure(&self) -> Option<String> {
        self.failed.lock().ok().and_then(|f| f.clone())
    }
}

/// Python's `re.search` on one line (its `\n` kept, so `$` also matches before it).
pub fn py_search<'h>(re: &LineRegex, line: &'h [u8]) -> Option<fancy_regex::Captures<'h, [u8]>> {
    re.search(line)
}

pub(crate) fn strip_eol(l: &[u8]) -> &[u8] {
    let mut end = l.len();
    while end > 0 && (l[end - 1] == b'\n' || l[end - 1] == b'\r') {
        end -= 1;
    }
    &l[..end]
}

/// Compiles a user regex as [`LineRegex::new`].
///
/// Errors: [`ModuleError::BadArgs`] naming the option and the pattern.
pub fn compile(a: &Args<'_>, key: &str, pattern: &str) -> Result<LineRegex, ModuleError> {
    LineRegex::new(pattern).map_err(|e| {
        a.bad(format!(
            "{key} {pattern:?} is not a supported regular expression: {e}"
        ))
    })
}

/// Writes edited content back (or only fixes attributes), shared with `blockinfile`: fills diff,
/// stops in check mode, backs up, validates, sets mode/owner/group.
pub(crate) struct Rewrite<'a> {
    /// The file as given.
    pub path: &'a str,
    /// Its content before (None when missing).
    pub before: Option<&'a [u8]>,
    /// Its content after the edit.
    pub after: Vec<u8>,
    /// `before != after`.
    pub content_changed: bool,
    /// The edit's message (`line added`, `Block inserted`, ...).
    pub msg: String,
    /// `mode`/`owner`/`group`.
    pub file: &'a FileArgs,
    /// `backup`.
    pub backup: bool,
    /// `validate`.
    pub validate: Option<String>,
    /// Lines of the task's own text (`line`, the block and its markers): in a `--diff` of a file
    /// that holds a secret talon delivered, these are shown and every other line is masked.
    pub shown: Vec<String>,
}

/// Applies a [`Rewrite`] given the earlier probe of the file. Ansible's result: `changed`, `msg`
/// (with " and ownership, perms or SE linux context changed" when attributes changed), `backup`.
pub(crate) async fn rewrite(
    r: Rewrite<'_>,
    probe: &files::Probe,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let mut out = ModuleOutcome::ok();
    let mut msg = r.msg.clone();
    let existing = probe.stat.as_ref();
    let attr = existing.map(|st| r.file.changes(st)).unwrap_or_default();
    // The texts of both sides, for `--diff` (masked where a secret talon delivered lives).
    let (mut before, mut after) = (String::new(), String::new());
    if ctx.diff {
        before = String::from_utf8_lossy(r.before.unwrap_or_default()).into_owned();
        after = String::from_utf8_lossy(&r.after).into_owned();
        // Both sides of a file talon delivered a secret into hold its value (or an old one).
        if ctx.secrets.held.holds(ctx.host, r.path) {
            let shown = r.shown.iter().map(String::as_str).collect();
            before = crate::secrets::held::mask_lines_except(&before, &shown);
            after = crate::secrets::held::mask_lines_except(&after, &shown);
        }
    }
    out = out.with("diff", registered_diff(r.path, &before, &after, &attr, existing));
    if ctx.diff {
        if r.content_changed {
            out.diff.push(FileDiff {
                before_header: format!("{} (content)", r.path),
                after_header: format!("{} (content)", r.path),
                before,
                after,
                ..FileDiff::default()
            });
        }
        if attr.any() {
            out.diff.push(FileDiff {
                before_header: format!("{} (file attributes)", r.path),
                after_header: format!("{} (file attributes)", r.path),
                before: attr.before.clone(),
                after: attr.after.clone(),
                ..FileDiff::default()
            });
        }
    }
    if attr.any() || (existing.is_none() && r.file != &FileArgs::default() && r.content_changed) {
        if !msg.is_empty() {
            msg.push_str(" and ");
        }
        msg.push_str("ownership, perms or SE linux context changed");
    }
    out.changed = r.content_changed || attr.any();
    out.msg = Some(msg);
    out = out.with("backup", "");
    if ctx.check || !out.changed {
        return Ok(out);
    }
    if r.content_changed {
        let attrs = match existing {
            Some(st) => {
                let mut a = attr.attrs.clone();
                // The existing mode, given explicitly: the temp file can then be created with
                // it instead of a chmod --reference.
                a.mode = Some(
                    r.file
                        .mode
                        .as_ref()
                        .map_or(st.mode, |m| m.resolve(st.mode, false)),
                );
                a
            }
            None => r.file.for_new(probe.umask, false),
        };
        let wopts = WriteOptions {
            attrs,
            backup: r.backup && existing.is_some(),
            validate: r.validate.clone(),
            create_parents: true,
            follow: true,
            report: false,
            owner_is_creator: existing.is_some_and(|st| files::owned_as_new(ctx.conn, &ctx.become_, st)),
        };
        match files::write_atomic(ctx.conn, r.path, &r.after, &wopts, &ctx.become_).await {
            // Ansible's lineinfile/blockinfile report no path info (no `path` key): the file's
            // metadata is not read back.
            Ok(w) => {
                if let Some(b) = w.backup_file {
                    out = out.with("backup", b.clone()).with("backup_file", b);
                }
            }
            Err(e) => return files_failure(e),
        }
    } else if let Err(e) = files::set_attrs(ctx.conn, r.path, &attr.attrs, true, &ctx.become_).await {
        return files_failure(e);
    }
    Ok(out)
}

/// The `diff` lineinfile and blockinfile register, as ansible-core's do, with or without
/// `--diff`: the content (`before`/`after` filled only with `--diff`) and the attributes
/// (`before`/`after` with the old and new `mode` when it changes), each with its headers.
fn registered_diff(
    path: &str,
    before: &str,
    after: &str,
    attr: &crate::modules::args::AttrChanges,
    existing: Option<&files::FileStat>,
) -> serde_json::Value {
    let mut attrs = serde_json::json!({
        "before_header": format!("{path} (file attributes)"),
        "after_header": format!("{path} (file attributes)"),
    });
    if let (Some(want), Some(st), serde_json::Value::Object(m)) = (attr.attrs.mode, existing, &mut attrs) {
        m.insert(
            "before".into(),
            serde_json::json!({"mode": format!("{:04o}", st.mode)}),
        );
        m.insert("after".into(), serde_json::json!({"mode": format!("{want:04o}")}));
    }
    serde_json::json!([
        {
            "before": before,
            "after": after,
            "before_header": format!("{path} (content)"),
            "after_header": format!("{path} (content)"),
        },
        attrs,
    ])
}

/// Reads the target for lineinfile/blockinfile: `Ok(Err(outcome))` when the task must stop
/// (directory, missing without `create`, host failure).
pub(crate) async fn read_target(
    ctx: &ModuleContext<'_>,
    path: &str,
    create: bool,
    missing_msg: &str,
) -> Result<Result<files::Probe, ModuleOutcome>, ModuleError> {
    let opts = ProbeOptions {
        follow: true,
        checksum: None,
        content: true,
        sftp: true,
    };
    let probe = match files::probe(ctx.conn, path, opts, &ctx.become_).await {
        Ok(p) => p,
        Err(e) => return files_failure(e).map(Err),
    };
    match &probe.stat {
        Some(st) if st.kind == FileKind::Directory => Ok(Err(ModuleOutcome::failed(format!(
            "Path {path} is a directory !"
        ))
        .with("rc", 256))),
        None if !create => Ok(Err(ModuleOutcome::failed(missing_msg.to_string()).with("rc", 257))),
        _ => Ok(Ok(probe)),
    }
}
