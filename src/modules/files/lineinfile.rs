//! `lineinfile`: ensure one line is present (or lines absent) in a text file, matching
//! `ansible.builtin.lineinfile` line for line: the edit is decided on the controller by
//! [`present`] / [`absent`] (pure functions over the file's lines, same algorithm as Ansible:
//! last match wins unless `firstmatch`, `backrefs` with no match changes nothing, a missing final
//! newline is added before appending), then written back atomically.
//!
//! Round trips: one probe (stat + content); one atomic write or one chmod/chown to apply.

use crate::modules::files::attributes;

use super::edit::{LineRegex, Rewrite, compile, py_search, read_target, rewrite, split_lines, strip_eol};
use crate::modules::args::{Args, FileArgs};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::vars::Vars;

crate::module_info!(
    /// `lineinfile` in the registry.
    INFO,
    "lineinfile",
    ArgSpec::new(&[
        ArgDef::path("path").aliases(&["dest", "destfile", "name"]).required(),
        ArgDef::str("state").choices(&["present", "absent"]),
        ArgDef::str("regexp").aliases(&["regex"]),
        ArgDef::str("search_string"),
        ArgDef::str("line").aliases(&["value"]),
        ArgDef::str("insertafter"),
        ArgDef::str("insertbefore"),
        ArgDef::bool("backrefs"),
        ArgDef::bool("create"),
        ArgDef::bool("backup"),
        ArgDef::bool("firstmatch"),
        ArgDef::str("validate"),
        ArgDef::mode("mode"),
        ArgDef::str("attributes").aliases(&["attr"]),
        ArgDef::str("owner"),
        ArgDef::str("group"),
        ArgDef::bool("unsafe_writes"),
    ])
    .exclusive(&[
        &["insertbefore", "insertafter"],
        &["regexp", "search_string"],
        &["backrefs", "search_string"],
    ]),
    run
);

/// How to find the line (`present`/`absent` share it).
pub struct LineSpec<'a> {
    /// `regexp`, compiled.
    pub regexp: Option<&'a LineRegex>,
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
    pub regex: Option<&'a LineRegex>,
}

/// Python's `match.expand(template)`: `\1`..`\99`, `\g<N>`, `\g<name>`, and the escapes `\n`,
/// `\t`, `\r`, `\\`; a group that did not participate expands to nothing.
pub fn expand_backrefs(template: &[u8], caps: &fancy_regex::Captures<'_, [u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(template.len());
    let mut i = 0;
    let group = |out: &mut Vec<u8>, g: Option<fancy_regex::MatchBytes<'_>>| {
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

/// ansible.builtin.lineinfile's warning for an empty `regexp`.
const EMPTY_REGEXP: &str = "The regular expression is an empty string, which will match every line in the file. \
                            This may have unintended consequences, such as replacing the last line in the file \
                            rather than appending. If this is desired, use '^' to match every line in the file \
                            and avoid this warning.";
/// ansible.builtin.lineinfile's warning for an empty `search_string`.
const EMPTY_SEARCH: &str = "The search string is an empty string, which will match every line in the file. \
                            This may have unintended consequences, such as replacing the last line in the file \
                            rather than appending.";

/// Runs `lineinfile`, with ansible.builtin.lineinfile's warnings for an empty `regexp` or
/// `search_string` (whatever the outcome). Errors: [`ModuleError::BadArgs`] for Ansible's
/// argument rules (`line` required for present, `regexp` required with `backrefs`, mutually
/// exclusive options, bad regexes).
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let mut out = edit(args, ctx).await?;
    let empty = |key: &str| args.get(key).and_then(serde_json::Value::as_str) == Some("");
    if empty("regexp") {
        out = out.warn(EMPTY_REGEXP);
    }
    if empty("search_string") {
        out = out.warn(EMPTY_SEARCH);
    }
    Ok(out)
}

/// [`run`] before its warnings.
async fn edit(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let path = a.req_str("path")?;
    let state = a.choice("state")?.unwrap_or_else(|| "present".into());
    let regexp_s = a.str("regexp")?;
    let search_string = a.str("search_string")?;
    let line = a.str("line")?;
    let insertafter = a.str("insertafter")?;
    let insertbefore = a.str("insertbefore")?;
    let backrefs = a.bool("backrefs", false)?;
    let create = a.bool("create", false)?;
    let backup = a.bool("backup", false)?;
    let firstmatch = a.bool("firstmatch", false)?;
    let validate = a.str("validate")?;
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
    for (key, re) in [
        ("regexp", regexp.as_ref()),
        ("insertafter/insertbefore", ins_regex.as_ref()),
    ] {
        if let Some(why) = re.and_then(LineRegex::failure) {
            return Ok(ModuleOutcome::failed(format!(
                "the {key} pattern failed while matching: {why}"
            )));
        }
    }
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
    let want = attributes::arg(&a)?;
    let out = rewrite(r, &probe, ctx).await;
    let out = attributes::after(ctx, want.as_deref(), &path, out, true).await?;
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
        let re = regexp.map(|r| LineRegex::new(r).unwrap());
        let pat = match (after, before) {
            (Some(p), _) if p != "EOF" && p != "BOF" => Some(p),
            (None, Some(p)) if p != "BOF" => Some(p),
            _ => None,
        };
        let ins_re = pat.map(|p| LineRegex::new(p).unwrap());
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
        let re = LineRegex::new("^#").unwrap();
        let spec = LineSpec {
            regexp: Some(&re),
            search_string: None,
            line: "",
        };
        let e = absent(split_lines(b"a\n"), &spec);
        assert!(!e.changed);
    }
}
