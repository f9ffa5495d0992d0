//! `community.general.pam_limits` (also `pam_limits`): one limit in
//! `/etc/security/limits.conf` (or `dest`), matching the collection's module line by line: the
//! line for the same domain, type and item gets the new value (`use_max`/`use_min` keep the
//! larger or smaller, `unlimited`/`infinity`/`-1` counting as no limit), else a
//! `DOMAIN<TAB>TYPE<TAB>ITEM<TAB>VALUE` line is appended, with `comment` (or, as the module
//! does, the first inline comment of an earlier line) after a tab and `#`. Values are checked as
//! the module checks them, the file's own lines too. Results: `changed`, `msg` (the line) and
//! the module's `diff` (always present); `backup_file` with `backup`. The file is written
//! atomically, keeping its mode and owner.
//!
//! Differences: the module rewrites the file on every run (and with `backup` copies it even when
//! nothing changes, in check mode too, reporting `backup_file`); talon writes only a change (a
//! backup, and `backup_file`, only then), and check mode touches nothing.

use serde_json::json;

use crate::modules::args::{Args, files_failure};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan, sysutil};
use crate::transport::files::{self, WriteOptions};
use crate::vars::Vars;

/// The items limits.conf knows.
const ITEMS: &[&str] = &[
    "core",
    "data",
    "fsize",
    "memlock",
    "nofile",
    "rss",
    "stack",
    "cpu",
    "nproc",
    "as",
    "maxlogins",
    "maxsyslogins",
    "priority",
    "locks",
    "sigpending",
    "msgqueue",
    "nice",
    "rtprio",
    "chroot",
];

crate::module_info!(
    /// `pam_limits` arguments.
    INFO,
    "pam_limits",
    ArgSpec::new(&[
        ArgDef::str("domain").required(),
        ArgDef::str("limit_type").choices(&["soft", "hard", "-"]).required(),
        ArgDef::str("limit_item").choices(ITEMS).required(),
        ArgDef::str("value").required(),
        ArgDef::bool("use_max"),
        ArgDef::bool("use_min"),
        ArgDef::bool("backup"),
        ArgDef::str("dest"),
        ArgDef::str("comment"),
    ]),
    plan = plan,
    apply = apply
);

/// The new content and where it goes.
pub struct Write {
    dest: String,
    content: Vec<u8>,
    backup: bool,
}

/// What the read found: the file's state and text.
const READ: &str = r#"f=$1; d=$(dirname -- "$f")
if [ -f "$f" ]; then
  [ -w "$f" ] || { echo NOWRITE; exit 0; }
  echo FILE; cat -- "$f"
elif [ -d "$d" ] && [ -w "$d" ]; then echo NEW
else echo NODIR; fi
"#;

/// The module's value check; `prefix` names the file for a value found in it.
fn check_value(item: &str, value: &str, prefix: &str) -> Result<(), String> {
    if item == "nice" || item == "priority" {
        let ok = value.trim().parse::<i64>().is_ok_and(|v| (-20..=19).contains(&v));
        if !ok {
            return Err(format!(
                "{prefix} Value of '{value}' for item '{item}' is invalid. Value must be a number in the range -20 to 19 inclusive. Refer to the limits.conf(5) manual pages for more details."
            ));
        }
    } else if !(["unlimited", "infinity", "-1"].contains(&value)
        || (!value.is_empty() && value.chars().all(|c| c.is_ascii_digit())))
    {
        return Err(format!(
            "{prefix} Value of '{value}' for item '{item}' is invalid. Value must either be 'unlimited', 'infinity' or -1, all of which indicate no limit, or a limit of 0 or larger. Refer to the limits.conf(5) manual pages for more details."
        ));
    }
    Ok(())
}

/// The limit asked for.
struct Limit<'a> {
    domain: &'a str,
    kind: &'a str,
    item: &'a str,
    value: &'a str,
    use_max: bool,
    use_min: bool,
}

/// The file's new text, whether it changed and the module's `msg`, as the module computes them
/// (comment carry-over and its trailing newline included).
fn edit(
    lines: &[String],
    limit: &Limit<'_>,
    comment: &str,
    dest: &str,
) -> Result<(String, bool, String), String> {
    let mut out = String::new();
    let mut new_comment = comment.to_string();
    let mut found = false;
    let mut changed = false;
    let mut message = String::new();
    let mut new_value = limit.value.to_string();
    let unlimited = |v: &str| ["unlimited", "infinity", "-1"].contains(&v);
    for line in lines {
        if line.starts_with('#') {
            out.push_str(line);
            continue;
        }
        let squeezed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if squeezed.is_empty() {
            out.push_str(line);
            continue;
        }
        let content = squeezed
            .split('#')
            .next()
            .unwrap_or_default()
            .trim_end()
            .to_string();
        let old_comment = line
            .split_once('#')
            .map(|(_, c)| c.to_string())
            .unwrap_or_default();
        if new_comment.is_empty() {
            new_comment = old_comment;
        }
        let fields: Vec<&str> = content.split(' ').collect();
        if fields.len() != 4 {
            out.push_str(line);
            continue;
        }
        let (domain, kind, item, actual) = (fields[0], fields[1], fields[2], fields[3]);
        check_value(item, actual, &format!("Invalid configuration found in '{dest}'."))?;
        if domain == limit.domain && kind == limit.kind && item == limit.item {
            found = true;
            if limit.value == actual {
                message = line.clone();
                out.push_str(line);
                continue;
            }
            // As the module: the type (not the item) is compared with nice/priority.
            let (actual_unl, value_unl) = if kind != "nice" && kind != "priority" {
                (unlimited(actual), unlimited(limit.value))
            } else {
                (false, false)
            };
            let num = |v: &str| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("invalid literal for int() with base 10: '{v}'"))
            };
            if limit.use_max {
                new_value = if actual_unl {
                    actual.to_string()
                } else if value_unl {
                    limit.value.to_string()
                } else {
                    num(limit.value)?.max(num(actual)?).to_string()
                };
            }
            if limit.use_min {
                new_value = if actual_unl && value_unl {
                    actual.to_string()
                } else if actual_unl {
                    limit.value.to_string()
                } else if value_unl {
                    actual.to_string()
                } else {
                    num(limit.value)?.min(num(actual)?).to_string()
                };
            }
            if new_value != actual {
                changed = true;
                message = new_limit(limit, &new_value, &mut new_comment);
                out.push_str(&message);
            } else {
                message = line.clone();
                out.push_str(line);
            }
        } else {
            out.push_str(line);
        }
    }
    if !found {
        changed = true;
        message = new_limit(limit, &new_value, &mut new_comment);
        out.push_str(&message);
    }
    Ok((out, changed, message))
}

/// The module's new line `DOMAIN<TAB>TYPE<TAB>ITEM<TAB>VALUE`, with the comment after a tab and
/// `#` (which, as in the module, stays prefixed for any later use).
fn new_limit(limit: &Limit<'_>, value: &str, comment: &mut String) -> String {
    if !comment.is_empty() {
        *comment = format!("\t#{comment}");
    }
    format!(
        "{}\t{}\t{}\t{value}{comment}\n",
        limit.domain, limit.kind, limit.item
    )
}

/// Reads the file and decides. Errors: [`ModuleError::Transport`].
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<Write>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let dest = a
        .str("dest")?
        .unwrap_or_else(|| "/etc/security/limits.conf".into());
    let limit_type = a.req_str("limit_type")?;
    let limit_item = a.req_str("limit_item")?;
    let value = a.req_str("value")?;
    let limit = Limit {
        domain: &a.req_str("domain")?,
        kind: &limit_type,
        item: &limit_item,
        value: &value,
        use_max: a.bool("use_max", false)?,
        use_min: a.bool("use_min", false)?,
    };
    let backup = a.bool("backup", false)?;
    let comment = a.str("comment")?.unwrap_or_default();
    let out = sysutil::run_script(ctx, READ, std::slice::from_ref(&dest), None).await?;
    let raw = out.stdout;
    let (head, body) = match raw.iter().position(|b| *b == b'\n') {
        Some(i) => (&raw[..i], &raw[i + 1..]),
        None => (&raw[..], &[][..]),
    };
    let (exists, before) = match head {
        b"FILE" => (true, body.to_vec()),
        b"NEW" => (false, Vec::new()),
        b"NOWRITE" => {
            return Ok(Plan::Done(ModuleOutcome::failed(format!(
                "{dest} is not writable. Use sudo"
            ))));
        }
        _ => {
            let dir = std::path::Path::new(&dest)
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            return Ok(Plan::Done(ModuleOutcome::failed(format!(
                "directory {dir} is not writable (check presence, access rights, use sudo)"
            ))));
        }
    };
    if limit.use_max && limit.use_min {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "Cannot use use_min and use_max at the same time.",
        )));
    }
    if let Err(m) = check_value(limit.item, limit.value, "") {
        return Ok(Plan::Done(ModuleOutcome::failed(m)));
    }
    let Ok(text) = String::from_utf8(before.clone()) else {
        return Ok(Plan::Done(ModuleOutcome::failed(format!(
            "{dest} is not valid UTF-8"
        ))));
    };
    let lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let (after, changed, msg) = match edit(&lines, &limit, &comment, &dest) {
        Ok(r) => r,
        Err(m) => return Ok(Plan::Done(ModuleOutcome::failed(m))),
    };
    let changed = changed || !exists;
    let result = ModuleOutcome::changed(changed)
        .with("msg", msg)
        .with("diff", json!({"before": text, "after": after}));
    if !changed {
        return Ok(Plan::Done(result));
    }
    Ok(Plan::Change(
        result,
        Write {
            dest,
            content: after.into_bytes(),
            backup,
        },
    ))
}

/// Writes the file. Errors: [`ModuleError::Transport`].
pub async fn apply(
    w: Write,
    planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let opts = WriteOptions {
        backup: w.backup,
        ..Default::default()
    };
    match files::write_atomic(ctx.conn, &w.dest, &w.content, &opts, &ctx.become_).await {
        Ok(done) if w.backup => Ok(planned.with("backup_file", done.backup_file.unwrap_or_default())),
        Ok(_) => Ok(planned),
        Err(e) => files_failure(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn lim<'a>(value: &'a str, use_max: bool, use_min: bool) -> Limit<'a> {
        Limit {
            domain: "@users",
            kind: "hard",
            item: "nofile",
            value,
            use_max,
            use_min,
        }
    }

    fn lines(s: &str) -> Vec<String> {
        s.split_inclusive('\n').map(str::to_string).collect()
    }

    #[test]
    fn limits_edit_as_the_module_edits_them() {
        let f = lines("# comment\n\n@users   hard   nofile   1024\n* soft core 0\n");
        let (out, changed, msg) = edit(&f, &lim("2048", false, false), "", "/x").unwrap();
        assert!(changed);
        assert_eq!(out, "# comment\n\n@users\thard\tnofile\t2048\n* soft core 0\n");
        assert_eq!(msg, "@users\thard\tnofile\t2048\n");
        let (_, changed, _) = edit(&f, &lim("1024", false, false), "", "/x").unwrap();
        assert!(!changed);
        // use_max keeps the larger; an unlimited value wins.
        let (out, changed, _) = edit(&f, &lim("512", true, false), "", "/x").unwrap();
        assert!(!changed, "{out}");
        let (out, _, _) = edit(&f, &lim("unlimited", true, false), "", "/x").unwrap();
        assert!(out.contains("nofile\tunlimited\n"));
        let (out, _, _) = edit(&f, &lim("512", false, true), "", "/x").unwrap();
        assert!(out.contains("nofile\t512\n"));
        // Appended with a comment; an earlier inline comment is carried over, newline and all.
        let (out, _, _) = edit(
            &lines("* soft core 0 # keep\n"),
            &lim("9", false, false),
            "",
            "/x",
        )
        .unwrap();
        assert_eq!(out, "* soft core 0 # keep\n@users\thard\tnofile\t9\t# keep\n\n");
        let (out, _, _) = edit(&[], &lim("9", false, false), "mine", "/x").unwrap();
        assert_eq!(out, "@users\thard\tnofile\t9\t#mine\n");
        assert!(edit(&lines("* soft nofile lots\n"), &lim("9", false, false), "", "/x").is_err());
        assert!(check_value("nice", "-21", "").is_err());
        assert!(check_value("nice", "-20", "").is_ok());
        assert!(check_value("nofile", "-2", "").is_err());
    }
}
