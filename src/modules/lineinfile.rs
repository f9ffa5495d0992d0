//! `lineinfile`: ensure one line is present (or lines absent) in a text file, matching
//! `ansible.builtin.lineinfile` line for line: the edit is decided on the controller by
//! [`present`] / [`absent`] (pure functions over the file's lines, same algorithm as Ansible:
//! last match wins unless `firstmatch`, `backrefs` with no match changes nothing, a missing final
//! newline is added before appending), then written back atomically.
//!
//! Round trips: one probe (stat + content); one atomic write or one chmod/chown to apply.

use regex::bytes::{Captures, Regex};

use super::args::{Args, EDIT_TYPES, FileArgs, files_failure};
use super::{FileDiff, ModuleContext, ModuleError, ModuleInfo, ModuleOutcome};
use crate::transport::files::{self, FileKind, ProbeOptions, WriteOptions};
use crate::vars::Vars;

const ARGS: &[&str] = &[
    "path",
    "dest",
    "destfile",
    "name",
    "state",
    "regexp",
    "regex",
    "search_string",
    "line",
    "value",
    "insertafter",
    "insertbefore",
    "backrefs",
    "create",
    "backup",
    "firstmatch",
    "validate",
    "mode",
    "owner",
    "group",
    "unsafe_writes",
];

/// `lineinfile` in the registry.
pub const INFO: ModuleInfo = ModuleInfo {
    name: "lineinfile",
    args: ARGS,
    free_form: false,
    types: EDIT_TYPES,
};

/// Splits bytes into lines keeping each `\n` (Python's `bytes.readlines`).
pub fn split_lines(data: &[u8]) -> Vec<Vec<u8>> {
    data.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Python's `re.search` on one line: its `$` also matches before a final `\n`, Rust's does not,
/// so the line is tried without its final `\n` first, then whole.
pub fn py_search<'h>(re: &Regex, line: &'h [u8]) -> Option<Captures<'h>> {
    match line.strip_suffix(b"\n") {
        Some(short) => re.captures(short).or_else(|| re.captures(line)),
        None => re.captures(line),
    }
}

fn strip_eol(l: &[u8]) -> &[u8] {
    let mut end = l.len();
    while end > 0 && (l[end - 1] == b'\n' || l[end - 1] == b'\r') {
        end -= 1;
    }
    &l[..end]
}

/// How to find the line (`present`/`absent` share it).
pub struct LineSpec<'a> {
    /// `regexp`, compiled.
    pub regexp: Option<&'a Regex>,
    /// `search_string` (a literal substring).
    pub search_string: Option<&'a str>,
    /// `line`.
    pub line: &'a str,
}

/// Where to insert when nothing matches: `insertafter` (`EOF` or a regex) / `insertbefore`
/// (`BOF` or a regex). Both `None` means `insertafter=EOF`.
pub struct Insert<'a> {
    /// `insertafter` as given.
    pub after: Option<&'a str>,
    /// `insertbefore` as given.
    pub before: Option<&'a str>,
    /// The compiled regex of whichever is not `EOF`/`BOF`.
    pub regex: Option<&'a Regex>,
}

/// Python's `match.expand(template)`: `\1`..`\99`, `\g<N>`, `\g<name>`, and the escapes `\n`,
/// `\t`, `\r`, `\\`; a group that did not participate expands to nothing.
pub fn expand_backrefs(template: &[u8], caps: &Captures<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(template.len());
    let mut i = 0;
    let group = |out: &mut Vec<u8>, g: Option<regex::bytes::Match<'_>>| {
        if let Some(m) = g {
            out.extend_from_slice(m.as_bytes());
        }
    };
    while i < template.len() {
        let c = template[i];
        if c != b'\\' || i + 1 == template.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let n = template[i + 1];
        match n {
            b'0'..=b'9' => {
                let mut j = i + 1;
                let mut num = 0usize;
                while j < template.len() && j < i + 3 && template[j].is_ascii_digit() {
                    num = num * 10 + usize::from(template[j] - b'0');
                    j += 1;
                }
                group(&mut out, caps.get(num));
                i = j;
            }
            b'g' if template.get(i + 2) == Some(&b'<') => {
                match template[i + 3..].iter().position(|&b| b == b'>') {
                    Some(end) => {
                        let name = String::from_utf8_lossy(&template[i + 3..i + 3 + end]).into_owned();
                        let g = match name.parse::<usize>() {
                            Ok(n) => caps.get(n),
                            Err(_) => caps.name(&name),
                        };
                        group(&mut out, g);
                        i += 4 + end;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            b'n' => {
                out.push(b'\n');
                i += 2;
            }
            b't' => {
                out.push(b'\t');
                i += 2;
            }
            b'r' => {
                out.push(b'\r');
                i += 2;
            }
            b'\\' => {
                out.push(b'\\');
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The result of an edit: new lines, whether they changed, Ansible's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The file's lines afterwards.
    pub lines: Vec<Vec<u8>>,
    /// True when `lines` differ from the input.
    pub changed: bool,
    /// `line added`, `line replaced`, `N line(s) removed` or empty.
    pub msg: String,
    /// Lines removed (`absent`).
    pub found: usize,
}

/// `state=present`, exactly as ansible.builtin.lineinfile's `present()`.
pub fn present(
    mut lines: Vec<Vec<u8>>,
    spec: &LineSpec<'_>,
    ins: &Insert<'_>,
    backrefs: bool,
    firstmatch: bool,
) -> Edit {
    let b_line = spec.line.as_bytes();
    let mut index: [isize; 2] = [-1, -1];
    let mut matched: Option<Vec<u8>> = None; // the expanded line when a regexp matched
    let mut any_match = false;
    let (insertafter, insertbefore) = match (ins.after, ins.before) {
        (None, None) => (Some("EOF"), None),
        other => other,
    };
    if let Some(re) = spec.regexp {
        for (n, l) in lines.iter().enumerate() {
            if let Some(c) = py_search(re, l) {
                index[0] = n as isize;
                any_match = true;
                matched = Some(if backrefs {
                    expand_backrefs(b_line, &c)
                } else {
                    b_line.to_vec()
                });
                if firstmatch {
                    break;
                }
            }
        }
    }
    if let Some(s) = spec.search_string {
        for (n, l) in lines.iter().enumerate() {
            if memfind(l, s.as_bytes()) {
                index[0] = n as isize;
                any_match = true;
                if firstmatch {
                    break;
                }
            }
        }
    }
    if !any_match {
        for (n, l) in lines.iter().enumerate() {
            if strip_eol(l) == b_line {
                index[0] = n as isize;
            } else if let Some(re) = ins.regex
                && py_search(re, l).is_some()
            {
                if insertafter.is_some() {
                    index[1] = n as isize + 1;
                    if firstmatch {
                        break;
                    }
                }
                if insertbefore.is_some() {
                    index[1] = n as isize;
                    if firstmatch {
                        break;
                    }
                }
            }
        }
    }
    let with_nl = |l: &[u8]| {
        let mut v = l.to_vec();
        v.push(b'\n');
        v
    };
    let ends_nl = |l: &Vec<u8>| matches!(l.last(), Some(b'\n') | Some(b'\r'));
    let mut msg = "";
    let mut changed = false;
    if index[0] != -1 {
        let mut new_line = match (&matched, backrefs) {
            (Some(m), true) => m.clone(),
            _ => b_line.to_vec(),
        };
        if !new_line.ends_with(b"\n") {
            new_line.push(b'\n');
        }
        // (Ansible's "no regexp, no match" insert branch cannot be reached here: without a
        // regexp/search_string, index[0] is only set by an exact line match.)
        if lines[index[0] as usize] != new_line {
            lines[index[0] as usize] = new_line;
            msg = "line replaced";
            changed = true;
        }
    } else if backrefs {
        // Nothing: the backrefs cannot be filled without a match.
    } else if insertbefore == Some("BOF") || insertafter == Some("BOF") {
        lines.insert(0, with_nl(b_line));
        msg = "line added";
        changed = true;
    } else if insertafter == Some("EOF") || index[1] == -1 {
        if let Some(last) = lines.last()
            && !ends_nl(last)
        {
            lines.push(b"\n".to_vec());
        }
        lines.push(with_nl(b_line));
        msg = "line added";
        changed = true;
    } else if insertafter.is_some() && index[1] != -1 {
        let i = index[1] as usize;
        if lines.len() == i {
            if strip_eol(&lines[i - 1]) != b_line {
                lines.push(with_nl(b_line));
                msg = "line added";
                changed = true;
            }
        } else if b_line != strip_eol(&lines[i]) {
            lines.insert(i, with_nl(b_line));
            msg = "line added";
            changed = true;
        }
    } else {
        lines.insert(index[1] as usize, with_nl(b_line));
        msg = "line added";
        changed = true;
    }
    Edit {
        lines,
        changed,
        msg: msg.to_string(),
        found: 0,
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// `state=absent`: drops every line matching `regexp`, containing `search_string`, or equal to
/// `line` (ignoring its line ending), as ansible.builtin.lineinfile's `absent()`.
pub fn absent(lines: Vec<Vec<u8>>, spec: &LineSpec<'_>) -> Edit {
    let before = lines.len();
    let kept: Vec<Vec<u8>> = lines
        .into_iter()
        .filter(|l| {
            let hit = match (spec.regexp, spec.search_string) {
                (Some(re), _) => py_search(re, l).is_some(),
                (None, Some(s)) => memfind(l, s.as_bytes()),
                (None, None) => strip_eol(l) == spec.line.as_bytes(),
            };
            !hit
        })
        .collect();
    let found = before - kept.len();
    Edit {
        lines: kept,
        changed: found > 0,
        msg: if found > 0 {
            format!("{found} line(s) removed")
        } else {
            String::new()
        },
        found,
    }
}

/// Compiles a user regex (Python syntax mostly matches Rust's `regex`; look-around and
/// backreferences inside the pattern are not supported).
pub fn compile(a: &Args<'_>, key: &str, pattern: &str) -> Result<Regex, ModuleError> {
    Regex::new(pattern).map_err(|e| {
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
    if ctx.diff {
        if r.content_changed {
            let mut before = String::from_utf8_lossy(r.before.unwrap_or_default()).into_owned();
            let mut after = String::from_utf8_lossy(&r.after).into_owned();
            // Both sides of a file talon delivered a secret into hold its value (or an old one).
            if ctx.secrets.held.holds(ctx.host, r.path) {
                let shown = r.shown.iter().map(String::as_str).collect();
                before = crate::secrets::held::mask_lines_except(&before, &shown);
                after = crate::secrets::held::mask_lines_except(&after, &shown);
            }
            out.diff.push(FileDiff {
                before_header: format!("{} (content)", r.path),
                after_header: format!("{} (content)", r.path),
                before,
                after,
            });
        }
        if attr.any() {
            out.diff.push(FileDiff {
                before_header: format!("{} (file attributes)", r.path),
                after_header: format!("{} (file attributes)", r.path),
                before: attr.before.clone(),
                after: attr.after.clone(),
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

/// Runs `lineinfile`. Errors: [`ModuleError::BadArgs`] for Ansible's argument rules (`line`
/// required for present, `regexp` required with `backrefs`, mutually exclusive options, bad
/// regexes).
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new("lineinfile", args, ARGS)?;
    let path = a.req_str(&["path", "dest", "destfile", "name"])?;
    let state = a
        .choice(&["state"], &["present", "absent"])?
        .unwrap_or_else(|| "present".into());
    let regexp_s = a.opt_str(&["regexp", "regex"])?;
    let search_string = a.opt_str(&["search_string"])?;
    let line = a.opt_str(&["line", "value"])?;
    let insertafter = a.opt_str(&["insertafter"])?;
    let insertbefore = a.opt_str(&["insertbefore"])?;
    a.exclusive("insertbefore", "insertafter")?;
    if regexp_s.is_some() && search_string.is_some() {
        return Err(a.bad("parameters are mutually exclusive: regexp|search_string"));
    }
    let backrefs = a.bool_or(&["backrefs"], false)?;
    if backrefs && search_string.is_some() {
        return Err(a.bad("parameters are mutually exclusive: backrefs|search_string"));
    }
    let create = a.bool_or(&["create"], false)?;
    let backup = a.bool_or(&["backup"], false)?;
    let firstmatch = a.bool_or(&["firstmatch"], false)?;
    let validate = a.opt_str(&["validate"])?;
    let file = FileArgs::parse(&a)?;
    let regexp = regexp_s
        .as_deref()
        .map(|r| compile(&a, "regexp", r))
        .transpose()?;
    let ins_pattern = match (insertafter.as_deref(), insertbefore.as_deref()) {
        (Some(p), _) if p != "EOF" && p != "BOF" => Some(p),
        (None, Some(p)) if p != "BOF" => Some(p),
        _ => None,
    };
    let ins_regex = ins_pattern
        .map(|p| compile(&a, "insertafter/insertbefore", p))
        .transpose()?;
    if state == "present" {
        if backrefs && regexp.is_none() {
            return Err(a.bad("regexp is required with backrefs=true"));
        }
        if line.is_none() {
            return Err(a.bad("line is required with state=present"));
        }
    } else if regexp.is_none() && search_string.is_none() && line.is_none() {
        return Err(a.bad("one of line, search_string, or regexp is required with state=absent"));
    }
    let line = line.unwrap_or_default();
    let spec = LineSpec {
        regexp: regexp.as_ref(),
        search_string: search_string.as_deref(),
        line: &line,
    };
    let create_now = state == "present" && create;
    let probe = match read_target(
        ctx,
        &path,
        create_now,
        &format!("Destination {path} does not exist !"),
    )
    .await
    {
        Ok(Ok(p)) if state == "absent" && p.stat.is_none() => {
            let mut out = ModuleOutcome::ok();
            out.msg = Some("file not present".into());
            return Ok(out);
        }
        Ok(Ok(p)) => p,
        Ok(Err(out)) if state == "absent" && out.result.get("rc") == Some(&257.into()) => {
            let mut out = ModuleOutcome::ok();
            out.msg = Some("file not present".into());
            return Ok(out);
        }
        Ok(Err(out)) => return Ok(out),
        Err(e) => return Err(e),
    };
    let before = probe.stat.as_ref().and_then(|s| s.content.clone());
    let lines = split_lines(before.as_deref().unwrap_or_default());
    let edit = if state == "present" {
        let ins = Insert {
            after: insertafter.as_deref(),
            before: insertbefore.as_deref(),
            regex: ins_regex.as_ref(),
        };
        present(lines, &spec, &ins, backrefs, firstmatch)
    } else {
        absent(lines, &spec)
    };
    let found = edit.found;
    let r = Rewrite {
        path: &path,
        before: before.as_deref(),
        after: edit.lines.concat(),
        content_changed: edit.changed,
        msg: edit.msg,
        file: &file,
        backup,
        validate,
        // With backrefs the written line holds text of the file's own line.
        shown: if backrefs { Vec::new() } else { vec![line.clone()] },
    };
    let out = rewrite(r, &probe, ctx).await?;
    Ok(if state == "absent" {
        out.with("found", found)
    } else {
        out
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn run_present(
        text: &str,
        regexp: Option<&str>,
        line: &str,
        after: Option<&str>,
        before: Option<&str>,
    ) -> (String, bool) {
        run_present_opts(text, regexp, None, line, after, before, false, false)
    }

    #[allow(clippy::too_many_arguments)]
    fn run_present_opts(
        text: &str,
        regexp: Option<&str>,
        search: Option<&str>,
        line: &str,
        after: Option<&str>,
        before: Option<&str>,
        backrefs: bool,
        firstmatch: bool,
    ) -> (String, bool) {
        let re = regexp.map(|r| Regex::new(r).unwrap());
        let pat = match (after, before) {
            (Some(p), _) if p != "EOF" && p != "BOF" => Some(p),
            (None, Some(p)) if p != "BOF" => Some(p),
            _ => None,
        };
        let ins_re = pat.map(|p| Regex::new(p).unwrap());
        let spec = LineSpec {
            regexp: re.as_ref(),
            search_string: search,
            line,
        };
        let ins = Insert {
            after,
            before,
            regex: ins_re.as_ref(),
        };
        let e = present(split_lines(text.as_bytes()), &spec, &ins, backrefs, firstmatch);
        (String::from_utf8(e.lines.concat()).unwrap(), e.changed)
    }

    #[test]
    fn appends_at_eof_and_is_idempotent() {
        assert_eq!(
            run_present("a\nb\n", None, "c", None, None),
            ("a\nb\nc\n".into(), true)
        );
        assert_eq!(
            run_present("a\nb\nc\n", None, "c", None, None),
            ("a\nb\nc\n".into(), false)
        );
        assert_eq!(run_present("", None, "c", None, None), ("c\n".into(), true));
    }

    #[test]
    fn adds_missing_final_newline_before_appending() {
        assert_eq!(
            run_present("a\nb", None, "c", None, None),
            ("a\nb\nc\n".into(), true)
        );
    }

    #[test]
    fn regexp_replaces_last_match_unless_firstmatch() {
        let t = "x=1\ny=2\nx=3\n";
        assert_eq!(
            run_present(t, Some("^x="), "x=9", None, None),
            ("x=1\ny=2\nx=9\n".into(), true)
        );
        let (out, _) = run_present_opts(t, Some("^x="), None, "x=9", None, None, false, true);
        assert_eq!(out, "x=9\ny=2\nx=3\n");
        assert_eq!(
            run_present("x=9\n", Some("^x="), "x=9", None, None),
            ("x=9\n".into(), false)
        );
    }

    #[test]
    fn regexp_no_match_inserts_per_insertafter() {
        let t = "[a]\nk=1\n[b]\nk=2\n";
        assert_eq!(
            run_present(t, Some("^z="), "z=1", Some(r"^\[a\]"), None),
            ("[a]\nz=1\nk=1\n[b]\nk=2\n".into(), true)
        );
        assert_eq!(
            run_present(t, Some("^z="), "z=1", None, Some(r"^\[b\]")),
            ("[a]\nk=1\nz=1\n[b]\nk=2\n".into(), true)
        );
        assert_eq!(
            run_present(t, Some("^z="), "z=1", None, Some("BOF")).0,
            format!("z=1\n{t}")
        );
        // insertafter regex that does not match: EOF.
        assert_eq!(
            run_present(t, None, "z=1", Some("^nomatch"), None).0,
            format!("{t}z=1\n")
        );
        // Last insertafter match wins.
        assert_eq!(
            run_present("k\nk\nend\n", None, "new", Some("^k"), None).0,
            "k\nk\nnew\nend\n"
        );
    }

    #[test]
    fn insertafter_does_not_duplicate_following_line() {
        assert!(!run_present("[a]\nz=1\n", None, "z=1", Some(r"^\[a\]"), None).1);
    }

    #[test]
    fn backrefs_expand_and_no_match_means_no_change() {
        let (out, ch) = run_present_opts(
            "host=old\n",
            Some("^(host=).*$"),
            None,
            r"\1new",
            None,
            None,
            true,
            false,
        );
        assert_eq!((out.as_str(), ch), ("host=new\n", true));
        let (out, ch) = run_present_opts(
            "a\n",
            Some("^(host=).*$"),
            None,
            r"\g<1>new",
            None,
            None,
            true,
            false,
        );
        assert_eq!((out.as_str(), ch), ("a\n", false));
        let (out, _) = run_present_opts(
            "k: v\n",
            Some("^(?P<key>\\w+): (.*)$"),
            None,
            r"\g<key>=\2",
            None,
            None,
            true,
            false,
        );
        assert_eq!(out, "k=v\n");
    }

    #[test]
    fn search_string_replaces_containing_line() {
        let (out, ch) = run_present_opts(
            "PermitRootLogin yes\n",
            None,
            Some("PermitRootLogin"),
            "PermitRootLogin no",
            None,
            None,
            false,
            false,
        );
        assert_eq!((out.as_str(), ch), ("PermitRootLogin no\n", true));
    }

    #[test]
    fn crlf_line_is_rewritten_with_lf_like_ansible() {
        assert_eq!(
            run_present("a\r\nb\r\n", None, "b", None, None),
            ("a\r\nb\n".into(), true)
        );
    }

    #[test]
    fn absent_removes_all_matches() {
        let spec = LineSpec {
            regexp: None,
            search_string: None,
            line: "b",
        };
        let e = absent(split_lines(b"a\nb\nc\nb"), &spec);
        assert_eq!(e.lines.concat(), b"a\nc\n");
        assert_eq!(e.found, 2);
        assert_eq!(e.msg, "2 line(s) removed");
        let re = Regex::new("^#").unwrap();
        let spec = LineSpec {
            regexp: Some(&re),
            search_string: None,
            line: "",
        };
        let e = absent(split_lines(b"a\n"), &spec);
        assert!(!e.changed);
    }
}
