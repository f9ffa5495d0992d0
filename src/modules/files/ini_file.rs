//! `ini_file`: set or remove options and sections of an INI-style file, as
//! community.general.ini_file does (its name also reaches it as `ini_file`, which ansible-core
//! redirects there): the edit is decided on the controller by [`edit`], a line-for-line
//! transcription of the module's `do_ini` (fake first section for options outside any section,
//! last section of a name wins the search, `exclusive`, commented options reactivated unless
//! `modify_inactive_option: false`, a missing final newline added), then written back
//! atomically.
//!
//! Left to the collection's own module (the Python path): `section_has_values` and the SELinux
//! options (at load), and at run time a secret in `value(s)`, a file that is not UTF-8, a
//! symbolic link (whose result describes the link, `follow` or not), a directory (the module
//! fails with a traceback), and an `option`-less present with values (the module fails in
//! `re.escape(None)`).
//!
//! Round trips: one probe (stat + content); one atomic write, or one chmod/chown.

use std::sync::LazyLock;

use regex::Regex;

use super::attributes;
use crate::modules::args::{Args, FileArgs, files_failure};
use crate::modules::fallback::python_path;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{FileDiff, ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::transport::files::{self, FileKind, ProbeOptions, WriteOptions};
use crate::vars::Vars;

crate::module_info!(
    /// `ini_file` (community.general.ini_file) in the registry.
    INFO,
    "ini_file",
    ArgSpec::new(&[
        ArgDef::path("path").aliases(&["dest"]).required(),
        ArgDef::str("section"),
        ArgDef::str("option"),
        // A secret may be the value: the collection's module then writes it (see `run`).
        ArgDef::str("value").delivers(),
        ArgDef::list("values").delivers(),
        ArgDef::bool("backup"),
        ArgDef::str("state").choices(&["absent", "present"]),
        ArgDef::bool("exclusive"),
        ArgDef::bool("no_extra_spaces"),
        ArgDef::bool("ignore_spaces"),
        ArgDef::bool("allow_no_value"),
        ArgDef::bool("modify_inactive_option"),
        ArgDef::bool("create"),
        ArgDef::bool("follow"),
        ArgDef::mode("mode"),
        ArgDef::str("owner"),
        ArgDef::str("group"),
        ArgDef::str("attributes").aliases(&["attr"]),
        ArgDef::bool("unsafe_writes"),
    ])
    .exclusive(&[&["value", "values"]])
    .python_for(&["section_has_values", "seuser", "serole", "setype", "selevel"]),
    run
);

/// The module's name for the fake section holding the options before the first section.
const FAKE_SECTION: &str = "ad01e11446efb704fcdbdb21f2c43757423d91c5";

/// What [`edit`] is asked, as the module's parameters after `main()` read them.
#[derive(Debug, Clone, Default)]
pub struct IniParams<'a> {
    /// `section` (`None` or empty: the options before the first section).
    pub section: Option<&'a str>,
    /// `option`.
    pub option: Option<&'a str>,
    /// `value` as a one-element list, else `values` (duplicates dropped by [`edit`]).
    pub values: Vec<String>,
    /// `state: present` (else absent).
    pub present: bool,
    /// `exclusive`.
    pub exclusive: bool,
    /// `no_extra_spaces`.
    pub no_extra_spaces: bool,
    /// `ignore_spaces`.
    pub ignore_spaces: bool,
    /// `allow_no_value`.
    pub allow_no_value: bool,
    /// `modify_inactive_option`.
    pub modify_inactive_option: bool,
}

/// The outcome of [`edit`]: the file's new lines, whether they changed, the module's `msg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniEdit {
    /// The new content.
    pub text: String,
    /// ansible's `changed` before file attributes.
    pub changed: bool,
    /// `OK`, `option added`, `option changed`, `section and option added`, `only section
    /// added`, `section removed`.
    pub msg: &'static str,
}

/// Why [`edit`] leaves a case to the module's own code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ini_file without an option would fail inside the module ({0})")]
pub struct NeedsModule(&'static str);

/// A match of the module's `match_opt` / `match_active_opt`: whether the line is commented
/// (group 2) and the value (group 8).
struct OptMatch {
    commented: bool,
    value: String,
}

/// The module's `match_opt` and `match_active_opt` for one option, compiled once:
/// `re.match('( |\t)*([#;]?)( |\t)*(OPTION)( |\t)*(=|$)( |\t)*(.*)', line)` (the active form
/// takes no comment sign).
struct OptRes {
    any: Regex,
    active: Regex,
}

impl OptRes {
    /// Errors: [`NeedsModule`] when the option makes a pattern too large for the regex crate.
    fn new(option: &str) -> Result<OptRes, NeedsModule> {
        let build = |comment: &str| {
            Regex::new(&format!(
                r"^( |\t)*{comment}( |\t)*({})( |\t)*(=|$)( |\t)*(.*)",
                regex::escape(option)
            ))
            .map_err(|_| NeedsModule("an option the regex crate cannot hold"))
        };
        Ok(OptRes {
            any: build("([#;]?)")?,
            active: build("()")?,
        })
    }

    /// The match on `line` (`active`: `match_active_opt`).
    fn matches(&self, line: &str, active: bool) -> Option<OptMatch> {
        let re = if active { &self.active } else { &self.any };
        // Python's `$` also matches before a final newline, and `.` never takes it.
        let body = line.strip_suffix('\n').unwrap_or(line);
        let c = re.captures(body)?;
        Some(OptMatch {
            commented: c.get(2).is_some_and(|m| !m.as_str().is_empty()),
            value: c.get(8).map_or("", |m| m.as_str()).to_string(),
        })
    }
}

/// A line that is blank or a comment (`^[ \t]*([#;].*)?$`).
fn blank_or_comment(line: &str) -> bool {
    static RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[ \t]*([#;].*)?$").ok());
    let body = line.strip_suffix('\n').unwrap_or(line);
    RE.as_ref().is_some_and(|re| re.is_match(body))
}

/// Python's `str.isspace` for one character (Unicode white space and `\x1c`-`\x1f`).
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// The module's section header test: `re.match(r'^\[\s*%s\s*]' % re.escape(section.strip()))`.
fn is_header(line: &str, section: &str) -> bool {
    let name = section.trim_matches(py_space);
    line.strip_prefix('[')
        .map(|r| r.trim_start_matches(py_space))
        .and_then(|r| r.strip_prefix(name))
        .map(|r| r.trim_start_matches(py_space))
        .is_some_and(|r| r.starts_with(']'))
}

/// Reads a file's text as the module does (`io.open(..., encoding='utf-8-sig')`,
/// `readlines()`): a leading BOM dropped, `\r\n` and `\r` read as `\n`, lines keeping their
/// `\n`. `None` when the bytes are not UTF-8.
pub fn read_lines(data: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(data).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    Some(text.split_inclusive('\n').map(str::to_string).collect())
}

/// community.general.ini_file's `do_ini` on the file's lines (`None`: the file is missing),
/// without `section_has_values`.
///
/// Errors: [`NeedsModule`] where the module's own code would fail (a present state with
/// values and no `option` reaches `re.escape(None)`).
pub fn edit(lines: Option<Vec<String>>, p: &IniParams<'_>) -> Result<IniEdit, NeedsModule> {
    let mut values: Vec<String> = Vec::new();
    for v in &p.values {
        if !values.contains(v) {
            values.push(v.clone());
        }
    }
    let mut ini_lines = lines.unwrap_or_default();
    let mut changed = false;
    if ini_lines.is_empty() {
        ini_lines.push("\n".into());
    }
    if let Some(last) = ini_lines.last_mut()
        && !last.ends_with('\n')
    {
        last.push('\n');
        changed = true;
    }
    ini_lines.insert(0, format!("[{FAKE_SECTION}]"));
    ini_lines.push("[".into());
    let section = p.section.filter(|s| !s.is_empty()).unwrap_or(FAKE_SECTION);
    let mut within_section = false;
    let (mut section_start, mut section_end) = (0, 0);
    let mut msg = "OK";
    let assign = |o: &str, v: &str| {
        if p.no_extra_spaces {
            format!("{o}={v}\n")
        } else {
            format!("{o} = {v}\n")
        }
    };
    let mut option_no_value_present = false;
    for (index, line) in ini_lines.iter().enumerate() {
        if within_section && line.starts_with('[') {
            section_end = index;
            break;
        }
        if is_header(line, section) {
            within_section = true;
            section_start = index;
        }
    }
    let after_lines = ini_lines.split_off(section_end);
    let mut section_lines = ini_lines.split_off(section_start);
    let before_lines = ini_lines;
    let mut changed_lines = vec![false; section_lines.len()];
    let active = !p.modify_inactive_option;
    let option = p.option;
    let res = option.map(OptRes::new).transpose()?;
    let match_opt = |line: &str, active: bool| res.as_ref().and_then(|r| r.matches(line, active));
    // `match_function(option, line)` where the module calls it with `option` possibly None.
    let mf = |line: &str| -> Result<Option<OptMatch>, NeedsModule> {
        match option {
            Some(_) => Ok(match_opt(line, active)),
            None => Err(NeedsModule("re.escape(None)")),
        }
    };
    let truthy_option = option.filter(|o| !o.is_empty());
    let update = |section_lines: &mut Vec<String>,
                  index: usize,
                  newline: String,
                  changed: &mut bool,
                  msg: &mut &'static str,
                  changed_lines: &mut Vec<bool>| {
        let mut option_changed = None;
        if p.ignore_spaces
            && let Some(old) = match_opt(&section_lines[index], false)
            && !old.commented
        {
            let new = match_opt(&newline, false).map(|m| m.value);
            option_changed = Some(Some(old.value) != new);
        }
        let option_changed = option_changed.unwrap_or(section_lines[index] != newline);
        if option_changed {
            section_lines[index] = newline;
            *changed = true;
            *msg = "option changed";
        }
        changed_lines[index] = true;
    };
    if p.present
        && let Some(opt) = truthy_option
    {
        let mut index = 0;
        while index < section_lines.len() {
            if let Some(m) = match_opt(&section_lines[index], active) {
                if !values.is_empty() && values.contains(&m.value) {
                    let newline = if m.value.is_empty() && p.allow_no_value {
                        option_no_value_present = true;
                        format!("{opt}\n")
                    } else {
                        assign(opt, &m.value)
                    };
                    update(
                        &mut section_lines,
                        index,
                        newline,
                        &mut changed,
                        &mut msg,
                        &mut changed_lines,
                    );
                    if let Some(i) = values.iter().position(|v| *v == m.value) {
                        values.remove(i);
                    }
                } else if values.is_empty() && p.allow_no_value {
                    update(
                        &mut section_lines,
                        index,
                        format!("{opt}\n"),
                        &mut changed,
                        &mut msg,
                        &mut changed_lines,
                    );
                    option_no_value_present = true;
                    break;
                }
            }
            index += 1;
        }
    }
    if p.present && p.exclusive && !p.allow_no_value {
        if !values.is_empty() {
            for index in 0..section_lines.len() {
                if !changed_lines[index] && mf(&section_lines[index])?.is_some() {
                    let opt = option.unwrap_or_default();
                    let newline = assign(opt, &values.remove(0));
                    update(
                        &mut section_lines,
                        index,
                        newline,
                        &mut changed,
                        &mut msg,
                        &mut changed_lines,
                    );
                    if values.is_empty() {
                        break;
                    }
                }
            }
        }
        for index in (1..section_lines.len()).rev() {
            if !changed_lines[index] && mf(&section_lines[index])?.is_some() {
                section_lines.remove(index);
                changed_lines.remove(index);
                changed = true;
                msg = "option changed";
            }
        }
    }
    if p.present {
        for index in (1..=section_lines.len()).rev() {
            if !blank_or_comment(&section_lines[index - 1]) {
                if let Some(opt) = truthy_option {
                    if !values.is_empty() {
                        for element in values.iter().rev() {
                            section_lines.insert(index, assign(opt, element));
                            msg = "option added";
                            changed = true;
                        }
                    } else if p.allow_no_value && !option_no_value_present {
                        section_lines.insert(index, format!("{opt}\n"));
                        msg = "option added";
                        changed = true;
                    }
                }
                break;
            }
        }
    } else if truthy_option.is_some() {
        let keep: Vec<String> = if p.exclusive {
            section_lines
                .iter()
                .filter(|l| match_opt(l, true).is_none())
                .cloned()
                .collect()
        } else if !values.is_empty() {
            section_lines
                .iter()
                .filter(|l| !match_opt(l, true).is_some_and(|m| values.contains(&m.value)))
                .cloned()
                .collect()
        } else {
            section_lines.clone()
        };
        if keep != section_lines {
            changed = true;
            msg = "option changed";
            section_lines = keep;
        }
    } else if !section_lines.is_empty() {
        section_lines.clear();
        msg = "section removed";
        changed = true;
    }
    let mut out: Vec<String> = before_lines;
    out.extend(section_lines);
    out.extend(after_lines);
    if !out.is_empty() {
        out.remove(0);
    }
    out.pop();
    if !within_section && p.present {
        out.push(format!("[{}]\n", p.section.unwrap_or(FAKE_SECTION)));
        msg = "section and option added";
        match truthy_option {
            Some(opt) if !values.is_empty() => {
                for v in &values {
                    out.push(assign(opt, v));
                }
            }
            Some(opt) if p.allow_no_value => out.push(format!("{opt}\n")),
            _ => msg = "only section added",
        }
        changed = true;
    }
    Ok(IniEdit {
        text: out.concat(),
        changed,
        msg,
    })
}

/// A mode as `add_path_info` writes it: `'0%03o' % mode` (`0644`, `02755`).
fn py_mode(mode: u32) -> String {
    format!("0{mode:03o}")
}

/// Adds what ansible-core's `add_path_info` adds to a result naming an existing `path`:
/// `uid`, `gid`, `owner`, `group`, `mode`, `state` (`hard` for a file with more than one
/// link), `size`.
fn with_path_info(out: ModuleOutcome, st: &files::FileStat) -> ModuleOutcome {
    let state = if st.kind == FileKind::File && st.nlink > 1 {
        "hard"
    } else {
        st.kind.ansible_state()
    };
    out.with("uid", st.uid)
        .with("gid", st.gid)
        .with("owner", st.owner.clone())
        .with("group", st.group.clone())
        .with("mode", py_mode(st.mode))
        .with("state", state)
        .with("size", st.size)
}

/// Runs `ini_file`, matching community.general.ini_file: `changed`, `msg` (see [`IniEdit`]),
/// `path`, `diff` (always registered: `before`/`after` filled with `--diff`, headers
/// `PATH (content)`), `backup_file` when `backup` made one, and for an existing path
/// ansible-core's path info (`uid`, `gid`, `owner`, `group`, `mode`, `state`, `size`, read
/// back after a write); `mode`/`owner`/`group`/
/// `attributes` applied after the edit (not in check mode, as the module). A missing file
/// without `create` fails with `Destination PATH does not exist!` (`rc: 257`); a present
/// state without `value(s)` (and without `allow_no_value`) fails with the module's message.
///
/// Errors: [`ModuleError::BadArgs`] for bad arguments; [`ModuleError::Transport`].
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let path = a.req_str("path")?;
    let section = a.str("section")?;
    let option = a.str("option")?;
    let value = a.str("value")?;
    let values = super::find::py_list(&a, "values")?;
    let backup = a.bool("backup", false)?;
    let present = a.choice("state")?.is_none_or(|s| s == "present");
    let allow_no_value = a.bool("allow_no_value", false)?;
    let create = a.bool("create", true)?;
    let follow = a.bool("follow", false)?;
    let file = FileArgs::parse(&a)?;
    let want_flags = attributes::arg(&a)?;
    a.bool("unsafe_writes", false)?;
    // A secret in the value(s): the collection's module receives its arguments on stdin and its
    // output is masked, as for every Python-path module.
    let secret = value
        .iter()
        .chain(values.iter().flatten())
        .any(|v| ctx.secrets.find_in(v).is_some());
    if secret {
        return python_path(
            "community.general.ini_file",
            "ini_file",
            args,
            ctx,
            "a secret in value(s)",
        )
        .await;
    }
    if present && !allow_no_value && value.is_none() && values.as_ref().is_none_or(Vec::is_empty) {
        return Ok(ModuleOutcome::failed(
            "Parameter 'value(s)' must be defined if state=present and allow_no_value=False.",
        ));
    }
    let params = IniParams {
        section: section.as_deref(),
        option: option.as_deref(),
        values: value.map(|v| vec![v]).or(values).unwrap_or_default(),
        present,
        exclusive: a.bool("exclusive", true)?,
        no_extra_spaces: a.bool("no_extra_spaces", false)?,
        ignore_spaces: a.bool("ignore_spaces", false)?,
        allow_no_value,
        modify_inactive_option: a.bool("modify_inactive_option", true)?,
    };
    let opts = ProbeOptions {
        follow: false,
        checksum: None,
        content: true,
        sftp: false,
    };
    let probe = match files::probe(ctx.conn, &path, opts, &ctx.become_).await {
        Ok(p) => p,
        Err(e) => return files_failure(e),
    };
    let st = probe.stat.as_ref();
    let lines = match st {
        Some(s) if s.kind == FileKind::Directory => {
            return python_path("community.general.ini_file", "ini_file", args, ctx, "a directory").await;
        }
        Some(s) if s.kind == FileKind::Link => {
            return python_path(
                "community.general.ini_file",
                "ini_file",
                args,
                ctx,
                "a symbolic link",
            )
            .await;
        }
        Some(s) => match read_lines(s.content.as_deref().unwrap_or_default()) {
            Some(l) => Some(l),
            None => {
                return python_path(
                    "community.general.ini_file",
                    "ini_file",
                    args,
                    ctx,
                    "a file that is not UTF-8",
                )
                .await;
            }
        },
        None if !create => {
            return Ok(ModuleOutcome::failed(format!("Destination {path} does not exist!")).with("rc", 257));
        }
        None => None,
    };
    let before_text = lines.as_ref().map(|l| l.concat()).unwrap_or_default();
    let e = match edit(lines, &params) {
        Ok(e) => e,
        Err(why) => {
            return python_path(
                "community.general.ini_file",
                "ini_file",
                args,
                ctx,
                &why.to_string(),
            )
            .await;
        }
    };
    let header = format!("{path} (content)");
    let (mut before, mut after) = (String::new(), String::new());
    if ctx.diff {
        before = before_text;
        after = e.text.clone();
        if ctx.secrets.held.holds(ctx.host, &path) {
            let shown = std::collections::HashSet::new();
            before = crate::secrets::held::mask_lines_except(&before, &shown);
            after = crate::secrets::held::mask_lines_except(&after, &shown);
        }
    }
    // The module's key order (`changed`, `diff`, `msg`, `path`, then the path info): a
    // registered result printed whole shows it.
    let mut out = ModuleOutcome::changed(e.changed)
        .with("changed", e.changed)
        .with(
            "diff",
            serde_json::json!({"before": before, "after": after, "before_header": header, "after_header": header}),
        )
        .with("msg", e.msg)
        .with("path", path.clone());
    if ctx.diff && e.changed {
        out.diff.push(FileDiff {
            before_header: header.clone(),
            after_header: header,
            before,
            after,
            ..FileDiff::default()
        });
    }
    out.msg = Some(e.msg.to_string());
    if ctx.check {
        return Ok(match st {
            Some(st) => with_path_info(out, st),
            None => out,
        });
    }
    if e.changed {
        let mut attrs = file.for_new(probe.umask, false);
        if let Some(st) = st {
            attrs = file.changes(st).attrs;
            attrs.mode = Some(file.mode.as_ref().map_or(st.mode, |m| m.resolve(st.mode, false)));
        }
        let wopts = WriteOptions {
            attrs,
            backup: backup && st.is_some(),
            validate: None,
            create_parents: true,
            follow,
            report: true,
            owner_is_creator: st.is_some_and(|s| files::owned_as_new(ctx.conn, &ctx.become_, s)),
        };
        match files::write_atomic(ctx.conn, &path, e.text.as_bytes(), &wopts, &ctx.become_).await {
            Ok(w) => {
                if let Some(b) = w.backup_file {
                    out = out.with("backup_file", b);
                }
                if let Some(f) = w.written {
                    out = out
                        .with("uid", f.owner.uid)
                        .with("gid", f.owner.gid)
                        .with("owner", f.owner.owner)
                        .with("group", f.owner.group)
                        .with("mode", py_mode(f.mode))
                        .with("state", "file")
                        .with("size", f.size);
                }
            }
            Err(err) => return files_failure(err),
        }
    } else if let Some(st) = st {
        let attr = file.changes(st);
        if attr.any() {
            if let Err(err) = files::set_attrs(ctx.conn, &path, &attr.attrs, true, &ctx.become_).await {
                return files_failure(err);
            }
            out.changed = true;
            match files::stat(ctx.conn, &path, false, None, &ctx.become_).await {
                Ok(Some(now)) => out = with_path_info(out, &now),
                Ok(None) => {}
                Err(err) => return files_failure(err),
            }
        } else {
            out = with_path_info(out, st);
        }
    } else {
        // The module makes the missing file's folder even when it writes nothing.
        let parent = std::path::Path::new(&path)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|p| !p.is_empty());
        if let Some(parent) = parent {
            sysutil::run_script(ctx, r#"[ -e "$1" ] || mkdir -p -- "$1""#, &[parent], None).await?;
        }
        // Nothing at the path: the module sets no attributes.
        return Ok(out);
    }
    attributes::after(ctx, want_flags.as_deref(), &path, Ok(out), false).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn params<'a>(section: Option<&'a str>, option: Option<&'a str>, values: &[&str]) -> IniParams<'a> {
        IniParams {
            section,
            option,
            values: values.iter().map(|s| s.to_string()).collect(),
            present: true,
            exclusive: true,
            modify_inactive_option: true,
            ..IniParams::default()
        }
    }

    fn run(text: Option<&str>, p: &IniParams<'_>) -> (String, bool, &'static str) {
        let lines = text.map(|t| read_lines(t.as_bytes()).unwrap());
        let e = edit(lines, p).unwrap();
        (e.text, e.changed, e.msg)
    }

    // Expected values: community.general 11.4.2's do_ini run by Python 3.11.
    #[test]
    fn a_missing_file_gets_the_section_and_option() {
        let p = params(Some("drinks"), Some("fav"), &["lemonade"]);
        assert_eq!(
            run(None, &p),
            (
                "\n[drinks]\nfav = lemonade\n".into(),
                true,
                "section and option added"
            )
        );
        let p = params(None, Some("fav"), &["lemonade"]);
        assert_eq!(run(None, &p), ("fav = lemonade\n\n".into(), true, "option added"));
    }

    #[test]
    fn options_are_added_changed_and_left() {
        let text = "[a]\nx = 1\n\n[b]\ny = 2\n";
        let p = params(Some("a"), Some("z"), &["3"]);
        assert_eq!(
            run(Some(text), &p),
            ("[a]\nx = 1\nz = 3\n\n[b]\ny = 2\n".into(), true, "option added")
        );
        let p = params(Some("a"), Some("x"), &["9"]);
        assert_eq!(
            run(Some(text), &p),
            ("[a]\nx = 9\n\n[b]\ny = 2\n".into(), true, "option changed")
        );
        let p = params(Some("a"), Some("x"), &["1"]);
        assert_eq!(run(Some(text), &p), (text.into(), false, "OK"));
    }

    #[test]
    fn commented_options_are_reactivated_unless_asked_not_to() {
        let text = "[a]\n# x = 1\n";
        let p = params(Some("a"), Some("x"), &["2"]);
        assert_eq!(
            run(Some(text), &p),
            ("[a]\nx = 2\n".into(), true, "option changed")
        );
        let mut p = params(Some("a"), Some("x"), &["2"]);
        p.modify_inactive_option = false;
        assert_eq!(
            run(Some(text), &p),
            ("[a]\nx = 2\n# x = 1\n".into(), true, "option added")
        );
    }

    #[test]
    fn exclusive_and_multiple_values() {
        let text = "[a]\nx = 1\nx = 2\nx = 3\n";
        let p = params(Some("a"), Some("x"), &["2", "4"]);
        assert_eq!(
            run(Some(text), &p),
            ("[a]\nx = 4\nx = 2\n".into(), true, "option changed")
        );
        let mut p = params(Some("a"), Some("x"), &["2", "4"]);
        p.exclusive = false;
        assert_eq!(
            run(Some(text), &p),
            ("[a]\nx = 1\nx = 2\nx = 3\nx = 4\n".into(), true, "option added")
        );
    }

    #[test]
    fn absent_options_and_sections() {
        let text = "[a]\nx = 1\nx = 2\n# x = 3\n[b]\n";
        let mut p = params(Some("a"), Some("x"), &[]);
        p.present = false;
        assert_eq!(
            run(Some(text), &p),
            ("[a]\n# x = 3\n[b]\n".into(), true, "option changed")
        );
        p.exclusive = false;
        p.values = vec!["2".into()];
        assert_eq!(
            run(Some(text), &p),
            ("[a]\nx = 1\n# x = 3\n[b]\n".into(), true, "option changed")
        );
        let mut p = params(Some("a"), None, &[]);
        p.present = false;
        assert_eq!(run(Some(text), &p), ("[b]\n".into(), true, "section removed"));
    }

    #[test]
    fn spaces_no_value_and_newlines() {
        let mut p = params(Some("a"), Some("x"), &["1"]);
        p.no_extra_spaces = true;
        assert_eq!(
            run(Some("[a]\n"), &p),
            ("[a]\nx=1\n".into(), true, "option added")
        );
        let mut p = params(Some("a"), Some("x"), &["1"]);
        p.ignore_spaces = true;
        assert_eq!(run(Some("[a]\nx=1\n"), &p), ("[a]\nx=1\n".into(), false, "OK"));
        let mut p = params(Some("a"), Some("flag"), &[]);
        p.allow_no_value = true;
        assert_eq!(
            run(Some("[a]\n"), &p),
            ("[a]\nflag\n".into(), true, "option added")
        );
        assert_eq!(run(Some("[a]\nflag\n"), &p), ("[a]\nflag\n".into(), false, "OK"));
        // A missing final newline is a change by itself.
        let p = params(Some("a"), Some("x"), &["1"]);
        assert_eq!(run(Some("[a]\nx = 1"), &p), ("[a]\nx = 1\n".into(), true, "OK"));
        // CRLF is read as LF; a BOM is dropped.
        assert_eq!(
            run(Some("\u{feff}[a]\r\nx = 1\r\n"), &p),
            ("[a]\nx = 1\n".into(), false, "OK")
        );
    }

    #[test]
    fn only_a_section_and_headers_with_spaces() {
        let mut p = params(Some("new"), None, &[]);
        p.allow_no_value = true;
        assert_eq!(
            run(Some("[a]\n"), &p),
            ("[a]\n[new]\n".into(), true, "only section added")
        );
        let p = params(Some("a"), Some("x"), &["1"]);
        assert_eq!(
            run(Some("[ a ]\n"), &p),
            ("[ a ]\nx = 1\n".into(), true, "option added")
        );
    }

    #[test]
    fn modes_as_add_path_info_writes_them() {
        assert_eq!(py_mode(0o644), "0644");
        assert_eq!(py_mode(0o2755), "02755");
        assert_eq!(py_mode(0o7), "0007");
    }

    #[test]
    fn an_option_less_present_is_left_to_the_module() {
        let p = params(Some("a"), None, &["1"]);
        assert!(edit(read_lines(b"[a]\nx\ny\n"), &p).is_err());
    }
}

/// Cases generated from community.general 11.4.2's `do_ini` (check mode, Python 3.11) over
/// random files and parameters: talon's [`edit`] must give the same text, `changed` and
/// `msg`, or leave to the module the cases where its code fails.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod generated {
    use super::*;
    use serde_json::Value;

    #[test]
    fn edits_equal_the_collections_do_ini() {
        let cases: Vec<Value> = serde_json::from_str(include_str!("testdata/ini_file_cases.json")).unwrap();
        assert!(cases.len() > 300);
        for (n, c) in cases.iter().enumerate() {
            let s = |k: &str| c[k].as_str();
            let b = |k: &str| c[k].as_bool().unwrap();
            let p = IniParams {
                section: s("section"),
                option: s("option"),
                values: c["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect(),
                present: b("present"),
                exclusive: b("exclusive"),
                no_extra_spaces: b("no_extra_spaces"),
                ignore_spaces: b("ignore_spaces"),
                allow_no_value: b("allow_no_value"),
                modify_inactive_option: b("modify_inactive_option"),
            };
            let lines = s("text").map(|t| read_lines(t.as_bytes()).unwrap());
            let want = &c["want"];
            match edit(lines, &p) {
                Ok(e) => {
                    assert!(want.get("error").is_none(), "case {n}: the module fails: {c}");
                    assert_eq!(e.text, want["text"].as_str().unwrap(), "case {n}: {c}");
                    assert_eq!(e.changed, want["changed"].as_bool().unwrap(), "case {n}: {c}");
                    assert_eq!(e.msg, want["msg"].as_str().unwrap(), "case {n}: {c}");
                }
                Err(_) => assert!(want.get("error").is_some(), "case {n}: talon refused: {c}"),
            }
        }
    }
}
