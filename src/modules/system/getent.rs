//! `getent`: reads a name-service database on the host (`passwd`, `group`, `hosts`, ...) into
//! the fact `getent_<database>`, as `ansible.builtin.getent` does, without Python on the host:
//! one round trip runs `getent DATABASE [KEY] [-s SERVICE]` (after checking the program is
//! there) and the controller splits its output ([`parse`]).

use serde_json::{Map, Value, json};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `getent`: `database`, `key`, `service`, `split`, `fail_key`.
    INFO,
    "getent",
    ArgSpec::new(&[
        ArgDef::str("database").required(),
        ArgDef::str("key"),
        ArgDef::str("service"),
        ArgDef::str("split"),
        ArgDef::bool("fail_key"),
    ]),
    run
);

/// The databases whose entries ansible.builtin.getent splits on `:` when `split` is not given
/// (every other one on runs of whitespace).
const COLON: &[&str] = &["passwd", "shadow", "group", "gshadow"];

/// Why [`parse`] could not split the output: the Python exception ansible.builtin.getent's
/// `main` raises on it, with its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// `split: ""`: Python's `str.split('')` raises `ValueError: empty separator`.
    #[error("empty separator")]
    EmptySeparator,
    /// A blank line split on whitespace has no first field: `record[0]` raises `IndexError`.
    #[error("list index out of range")]
    NoFields,
}

/// Splits `getent` output into the `getent_<database>` mapping as ansible.builtin.getent builds
/// it: each line (Python's `splitlines`) split on `split` (Python's `str.split(sep)`; `None`:
/// on runs of whitespace, ends trimmed); the first field is the key, the rest a list of
/// strings. A key seen again turns its value into a list of such lists, one per line, in
/// order (`hosts` gives `127.0.0.1` twice on Debian).
///
/// Errors: [`ParseError`] where the module's Python raises (an empty `split`, a blank line
/// split on whitespace).
pub fn parse(out: &str, split: Option<&str>) -> Result<Map<String, Value>, ParseError> {
    let mut tree = Map::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in sysutil::splitlines(out) {
        let line = line.as_str().unwrap_or_default();
        let record: Vec<&str> = match split {
            Some("") => return Err(ParseError::EmptySeparator),
            Some(sep) => line.split(sep).collect(),
            None => line.split_whitespace().collect(),
        };
        let Some((first, rest)) = record.split_first() else {
            return Err(ParseError::NoFields);
        };
        let fields = Value::from(rest.iter().map(|s| Value::from(*s)).collect::<Vec<_>>());
        match seen.get_mut(*first) {
            Some(n) => {
                let slot = tree.entry((*first).to_string()).or_insert(Value::Null);
                if *n == 1 {
                    *slot = Value::Array(vec![slot.take()]);
                }
                if let Value::Array(list) = slot {
                    list.push(fields);
                }
                *n += 1;
            }
            None => {
                tree.insert((*first).to_string(), fields);
                seen.insert((*first).to_string(), 1);
            }
        }
    }
    Ok(tree)
}

/// The message ansible.builtin.getent fails with for `getent`'s exit code `rc` (0 is success).
pub fn rc_message(rc: i64) -> &'static str {
    match rc {
        1 => "Missing arguments, or database unknown.",
        2 => "One or more supplied key could not be found in the database.",
        3 => "Enumeration not supported on this database.",
        _ => "Unexpected failure!",
    }
}

/// Runs `getent`. Result (matches ansible.builtin.getent's `main`): `ansible_facts:
/// {getent_DATABASE: {...}}` (see [`parse`]), never changed, the same in check mode; a key not
/// found fails with "One or more supplied key could not be found in the database." unless
/// `fail_key: false` (then the key maps to null and the message is the result's `msg`); an
/// unknown database or a missing key fails with "Missing arguments, or database unknown.";
/// without a `getent` program, ansible-core's "Failed to find required executable" message.
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`]
/// when the host connection broke.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let database = a.req_str("database")?;
    let key = a.str("key")?;
    let service = a.str("service")?;
    let fail_key = a.bool("fail_key", true)?;
    let split = a
        .str("split")?
        .or_else(|| COLON.contains(&database.as_str()).then(|| ":".to_string()));

    // The argv as the module builds it: getent DATABASE [KEY] [-s SERVICE].
    let mut argv = vec![database.clone()];
    argv.extend(key.iter().cloned());
    if let Some(s) = &service {
        argv.extend(["-s".to_string(), s.clone()]);
    }
    let m = sysutil::marker();
    let script = format!(
        "{}if command -v getent >/dev/null 2>&1; then\n\
         m=$1; shift; printf '%s out\\n' \"$m\"; getent \"$@\"; rc=$?\n\
         printf '\\n%s rc\\n%s\\n' \"$m\" \"$rc\"\nfi\n",
        sysutil::tools_probe(&["getent"])
    );
    let mut script_args = vec![m.clone()];
    script_args.extend(argv);
    let out = sysutil::run_script(ctx, &script, &script_args, None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    if let Some(msg) = sysutil::missing_tool(&secs, "getent") {
        return Ok(ModuleOutcome::failed(msg));
    }
    let rc = sysutil::section(&secs, "rc").and_then(|s| s.trim().parse::<i64>().ok());
    let (Some(rc), Some(body)) = (rc, sysutil::section(&secs, "out")) else {
        return Ok(ModuleOutcome::failed(format!(
            "getent did not finish on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        )));
    };
    // The marker line follows a newline the script added.
    let body = body.strip_suffix('\n').unwrap_or(body);
    let dbtree = format!("getent_{database}");
    match rc {
        0 => match parse(body, split.as_deref()) {
            Ok(tree) => Ok(ModuleOutcome::ok().with("ansible_facts", json!({ dbtree: tree }))),
            Err(e) => Ok(ModuleOutcome::failed(format!("Task failed: Module failed: {e}"))),
        },
        2 if !fail_key => {
            let mut tree = Map::new();
            tree.insert(key.unwrap_or_else(|| "null".into()), Value::Null);
            let mut o = ModuleOutcome::ok().with("ansible_facts", json!({ dbtree: tree }));
            o.msg = Some(rc_message(2).into());
            Ok(o)
        }
        rc => Ok(ModuleOutcome::failed(rc_message(rc))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lines_split_on_colons_keep_empty_fields() {
        let t = parse(
            "root:x:0:0:root:/root:/bin/bash\ndeploy:x:1000:1000::/home/deploy:\n",
            Some(":"),
        )
        .unwrap();
        assert_eq!(t["root"], json!(["x", "0", "0", "root", "/root", "/bin/bash"]));
        assert_eq!(t["deploy"], json!(["x", "1000", "1000", "", "/home/deploy", ""]));
    }

    #[test]
    fn group_without_members_ends_with_an_empty_field() {
        let t = parse("adm:x:4:\nsudo:x:27:deploy,nopw\n", Some(":")).unwrap();
        assert_eq!(t["adm"], json!(["x", "4", ""]));
        assert_eq!(t["sudo"], json!(["x", "27", "deploy,nopw"]));
    }

    #[test]
    fn whitespace_split_trims_and_collapses_runs() {
        let t = parse("127.0.0.1       localhost\n  ::1  a\tb  \n", None).unwrap();
        assert_eq!(t["127.0.0.1"], json!(["localhost"]));
        assert_eq!(t["::1"], json!(["a", "b"]));
    }

    #[test]
    fn a_key_seen_again_becomes_a_list_of_entries() {
        let t = parse(
            "127.0.0.1 localhost\n127.0.0.1 localhost ip6-localhost\n10.0.0.1 x\n127.0.0.1 third\n",
            None,
        )
        .unwrap();
        assert_eq!(
            t["127.0.0.1"],
            json!([["localhost"], ["localhost", "ip6-localhost"], ["third"]])
        );
        assert_eq!(t["10.0.0.1"], json!(["x"]));
    }

    #[test]
    fn a_separator_that_is_not_in_the_line_keeps_it_whole() {
        // split: x on a passwd line: Python's 'root:x:0'.split('x') -> ['root:', ':0'].
        let t = parse("root:x:0:0:root:/root:/bin/bash\n", Some("x")).unwrap();
        assert_eq!(t["root:"], json!([":0:0:root:/root:/bin/bash"]));
        let t = parse("single\n", Some(":")).unwrap();
        assert_eq!(t["single"], json!([]));
    }

    #[test]
    fn empty_output_is_an_empty_tree() {
        assert!(parse("", None).unwrap().is_empty());
        assert!(parse("", Some(":")).unwrap().is_empty());
    }

    #[test]
    fn pythons_exceptions_are_errors() {
        assert_eq!(parse("a b\n", Some("")), Err(ParseError::EmptySeparator));
        assert_eq!(parse("a b\n\n", None), Err(ParseError::NoFields));
        // A blank line split on a separator is the key "" with no fields.
        assert_eq!(parse("\n", Some(":")).unwrap()[""], json!([]));
    }

    #[test]
    fn crlf_and_cr_end_lines_as_splitlines() {
        let t = parse("a:1\r\nb:2\rc:3", Some(":")).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t["c"], json!(["3"]));
    }

    #[test]
    fn exit_codes_give_the_modules_messages() {
        assert_eq!(rc_message(1), "Missing arguments, or database unknown.");
        assert_eq!(
            rc_message(2),
            "One or more supplied key could not be found in the database."
        );
        assert_eq!(rc_message(3), "Enumeration not supported on this database.");
        assert_eq!(rc_message(127), "Unexpected failure!");
    }
}
