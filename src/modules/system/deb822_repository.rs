//! `deb822_repository`: an APT source in deb822 format, matching
//! ansible.builtin.deb822_repository without python3-debian on the host: the file
//! `/etc/apt/sources.list.d/SLUG.sources` (SLUG: the lower-cased `name` with `_` and spaces as
//! `-`, other characters dropped) holds one stanza of the given options in the module's order
//! (sorted by option name: `X-Repolib-Name`, `URIs`, other names title-cased with `-`; booleans
//! `yes`/`no`, lists space-joined, a multi-line value such as an inline key indented with empty
//! lines as `.`), written atomically when its content differs, then given `mode` (default
//! 0644). `signed_by` naming a file on the host is used as is (and reported as `key_filename`);
//! inline key text goes into the stanza. `state: absent` removes the file and the
//! `/etc/apt/keyrings/SLUG.asc`/`.gpg` keys. Results `repo`, `dest`, `key_filename`, `changed`.
//! Check mode changes nothing. No cache update (the module does none either).
//!
//! A `signed_by` URL is fetched on the host by ansible-core's module: such a task runs it
//! through the Python path (it needs python3-debian there, as with ansible-playbook).

use serde_json::Value;

use crate::modules::args::{Args, files_failure};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan, sysutil};
use crate::transport::files::{self, FileAttrs, WriteOptions};
use crate::vars::Vars;

crate::module_info!(
    /// `deb822_repository` arguments.
    INFO,
    "deb822_repository",
    ArgSpec::new(&[
        ArgDef::bool("allow_downgrade_to_insecure"),
        ArgDef::bool("allow_insecure"),
        ArgDef::bool("allow_weak"),
        ArgDef::list("architectures"),
        ArgDef::bool("by_hash"),
        ArgDef::bool("check_date"),
        ArgDef::bool("check_valid_until"),
        ArgDef::list("components"),
        ArgDef::int("date_max_future"),
        ArgDef::bool("enabled"),
        ArgDef::str("inrelease_path"),
        ArgDef::list("languages"),
        ArgDef::str("name").required(),
        ArgDef::bool("pdiffs"),
        ArgDef::str("signed_by"),
        ArgDef::list("suites"),
        ArgDef::list("targets"),
        ArgDef::bool("trusted"),
        ArgDef::list("types"),
        ArgDef::list("uris"),
        ArgDef::mode("mode"),
        ArgDef::str("state").choices(&["present", "absent"]),
    ]),
    plan = plan,
    apply = apply
);

/// The stanza's options, in the module's (sorted) order, with their kinds.
const FIELDS: &[(&str, Kind)] = &[
    ("allow_downgrade_to_insecure", Kind::Bool),
    ("allow_insecure", Kind::Bool),
    ("allow_weak", Kind::Bool),
    ("architectures", Kind::List),
    ("by_hash", Kind::Bool),
    ("check_date", Kind::Bool),
    ("check_valid_until", Kind::Bool),
    ("components", Kind::List),
    ("date_max_future", Kind::Int),
    ("enabled", Kind::Bool),
    ("inrelease_path", Kind::Str),
    ("languages", Kind::List),
    ("name", Kind::Str),
    ("pdiffs", Kind::Bool),
    ("signed_by", Kind::Str),
    ("suites", Kind::List),
    ("targets", Kind::List),
    ("trusted", Kind::Bool),
    ("types", Kind::List),
    ("uris", Kind::List),
];

/// How an option is written.
#[derive(Clone, Copy)]
enum Kind {
    Bool,
    List,
    Int,
    Str,
}

/// What to change.
pub enum Work {
    /// Remove these files.
    Remove(Vec<String>),
    /// Write the content (when `Some`) and set the mode.
    Write {
        dest: String,
        content: Option<Vec<u8>>,
        mode: u32,
    },
}

/// The module's field name: `X-Repolib-Name`, `URIs`, else `a_b` -> `A-B` (Python's title()).
fn field_name(option: &str) -> String {
    match option {
        "name" => "X-Repolib-Name".into(),
        "uris" => "URIs".into(),
        other => {
            let mut out = String::new();
            let mut up = true;
            for c in other.replace('_', "-").chars() {
                if c.is_alphabetic() {
                    if up {
                        out.extend(c.to_uppercase());
                    } else {
                        out.extend(c.to_lowercase());
                    }
                    up = false;
                } else {
                    out.push(c);
                    up = true;
                }
            }
            out
        }
    }
}

/// A multi-line value as the module's `format_multiline` writes it.
fn multiline(v: &str) -> String {
    let body: Vec<String> = v
        .trim()
        .lines()
        .map(|l| {
            let l = l.trim();
            format!("    {}", if l.is_empty() { "." } else { l })
        })
        .collect();
    format!("\n{}", body.join("\n"))
}

/// The stanza, as python-debian's `Deb822.dump()` writes the module's fields.
fn stanza(fields: &[(String, String)]) -> String {
    let mut out = String::new();
    for (k, v) in fields {
        if v.is_empty() || v.starts_with('\n') {
            out.push_str(&format!("{k}:{v}\n"));
        } else {
            out.push_str(&format!("{k}: {v}\n"));
        }
    }
    out
}

/// `name` as the module's file slug.
fn slug(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut dashed = String::new();
    let mut in_run = false;
    for c in lower.chars() {
        if c == '_' || c.is_whitespace() {
            if !in_run {
                dashed.push('-');
            }
            in_run = true;
        } else {
            dashed.push(c);
            in_run = false;
        }
    }
    dashed
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect()
}

/// Whether `v` has a URL scheme (`generic_urlparse(urlparse(v)).scheme`).
fn has_scheme(v: &str) -> bool {
    let Some((scheme, _)) = v.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// The read: what exists, the sources file's mode and content, whether `signed_by` is a file.
const READ: &str = r#"f=$1; sb=$2; slug=$3; M=$4
[ -n "$sb" ] && [ -f "$sb" ] && echo SBFILE
for k in "/etc/apt/keyrings/$slug.asc" "/etc/apt/keyrings/$slug.gpg"; do [ -e "$k" ] && echo "KEY $k"; done
pathinfo "$f"; printf '%s rest\n' "$M"
if [ -f "$f" ]; then echo "MODE $(stat -c %a -- "$f")"; echo CONTENT; cat -- "$f"; elif [ -e "$f" ]; then echo OTHER; else echo NOFILE; fi
"#;

/// Reads and decides. Errors: [`ModuleError::BadArgs`] for a bad `mode`;
/// [`ModuleError::Transport`].
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<Work>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let name = a.req_str("name")?;
    let slug = slug(&name);
    let dest = format!("/etc/apt/sources.list.d/{slug}.sources");
    let state = a.choice("state")?.unwrap_or_else(|| "present".into());
    let signed_by = a.str("signed_by")?;
    let marker = sysutil::marker();
    let script = format!("{}{READ}", sysutil::PATH_INFO_FN);
    let out = sysutil::run_script(
        ctx,
        &script,
        &[
            dest.clone(),
            signed_by.clone().unwrap_or_default(),
            slug.clone(),
            marker.clone(),
        ],
        None,
    )
    .await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &marker);
    let info = sysutil::path_info_of(sysutil::section(&secs, "pathinfo").unwrap_or_default());
    let (head, content) = match text.split_once("CONTENT\n") {
        Some((h, c)) => (h.to_string(), Some(c.to_string())),
        None => (text.clone(), None),
    };
    let keys: Vec<String> = head
        .lines()
        .filter_map(|l| l.strip_prefix("KEY "))
        .map(str::to_string)
        .collect();
    if state == "absent" {
        let mut remove = Vec::new();
        if content.is_some() || head.lines().any(|l| l == "OTHER") {
            remove.push(dest.clone());
        }
        remove.extend(keys);
        let out = ModuleOutcome::changed(!remove.is_empty())
            .with("repo", Value::Null)
            .with("dest", dest)
            .with("key_filename", format!("/etc/apt/keyrings/{slug}.gpg"));
        return Ok(if remove.is_empty() {
            Plan::Done(out)
        } else {
            Plan::Change(out, Work::Remove(remove))
        });
    }
    let sb_file = head.lines().any(|l| l == "SBFILE");
    if let Some(sb) = &signed_by
        && !sb_file
        && has_scheme(sb)
    {
        let why = "a signed_by URL is fetched on the host by ansible-core's module";
        let out = crate::modules::fallback::python_path(
            "ansible.builtin.deb822_repository",
            "deb822_repository",
            args,
            ctx,
            why,
        )
        .await?;
        return Ok(Plan::Done(out));
    }
    let mut fields = Vec::new();
    for (option, kind) in FIELDS {
        let value = match (option, kind) {
            (&"types", _) => Some(a.list("types")?.unwrap_or_else(|| vec!["deb".into()]).join(" ")),
            (_, Kind::Bool) => a
                .opt_bool(option)?
                .map(|b| if b { "yes" } else { "no" }.to_string()),
            (_, Kind::List) => a.list(option)?.map(|l| l.join(" ")),
            (_, Kind::Int) => a.i64(option)?.map(|i| i.to_string()),
            (_, Kind::Str) => a.str(option)?,
        };
        let Some(mut value) = value else {
            continue;
        };
        if *option == "types" {
            let bad: Vec<&str> = value
                .split(' ')
                .filter(|t| *t != "deb" && *t != "deb-src")
                .collect();
            if !bad.is_empty() {
                return Ok(Plan::Done(ModuleOutcome::failed(format!(
                    "value of types must be one or more of: deb, deb-src. Got no match for: {}",
                    bad.join(", ")
                ))));
            }
        }
        if value.contains('\n') {
            value = multiline(&value);
        }
        fields.push((field_name(option), value));
    }
    let repo = stanza(&fields);
    let mode = match a.mode("mode")? {
        Some(m) => m,
        None => crate::modules::mode::Mode::Numeric(0o644),
    };
    let current_mode = head
        .lines()
        .find_map(|l| l.strip_prefix("MODE "))
        .and_then(|m| u32::from_str_radix(m.trim(), 8).ok());
    let want_mode = mode.resolve(current_mode.unwrap_or(0o644), false);
    let write_content = content.as_deref() != Some(repo.as_str());
    let changed = write_content || current_mode != Some(want_mode);
    let out = ModuleOutcome::changed(changed)
        .with("repo", repo.clone())
        .with("dest", dest.clone())
        .with(
            "key_filename",
            match (&signed_by, sb_file) {
                (Some(sb), true) => Value::String(sb.clone()),
                _ => Value::Null,
            },
        );
    if !changed {
        return Ok(Plan::Done(sysutil::with_path_info(out, info)));
    }
    Ok(Plan::Change(
        out,
        Work::Write {
            dest,
            content: write_content.then(|| repo.into_bytes()),
            mode: want_mode,
        },
    ))
}

/// Writes or removes. Errors: [`ModuleError::Transport`].
pub async fn apply(
    work: Work,
    planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    match work {
        Work::Remove(paths) => {
            for p in paths {
                if let Err(e) = files::remove(ctx.conn, &p, &ctx.become_).await {
                    return files_failure(e);
                }
            }
            Ok(planned)
        }
        Work::Write { dest, content, mode } => {
            let attrs = FileAttrs {
                mode: Some(mode),
                ..Default::default()
            };
            let done = match content {
                Some(bytes) => {
                    let opts = WriteOptions {
                        attrs,
                        ..Default::default()
                    };
                    files::write_atomic(ctx.conn, &dest, &bytes, &opts, &ctx.become_)
                        .await
                        .map(|_| ())
                }
                None => files::set_attrs(ctx.conn, &dest, &attrs, true, &ctx.become_).await,
            };
            if let Err(e) = done {
                return files_failure(e);
            }
            // The module's exit adds the written file's path info (add_path_info for `dest`).
            let marker = sysutil::marker();
            let script = format!("{}M=$1; pathinfo \"$2\"\n", sysutil::PATH_INFO_FN);
            let out = sysutil::run_script(ctx, &script, &[marker.clone(), dest], None).await?;
            let text = out.stdout_str();
            let secs = sysutil::sections(&text, &marker);
            let info = sysutil::path_info_of(sysutil::section(&secs, "pathinfo").unwrap_or_default());
            Ok(sysutil::with_path_info(planned, info))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_as_the_module_writes_them() {
        assert_eq!(slug("Docker CE_stable repo!"), "docker-ce-stable-repo");
        assert_eq!(
            field_name("allow_downgrade_to_insecure"),
            "Allow-Downgrade-To-Insecure"
        );
        assert_eq!(field_name("uris"), "URIs");
        assert_eq!(field_name("name"), "X-Repolib-Name");
        assert_eq!(field_name("inrelease_path"), "Inrelease-Path");
        assert_eq!(
            multiline("-----BEGIN-----\n\nabc\n-----END-----\n"),
            "\n    -----BEGIN-----\n    .\n    abc\n    -----END-----"
        );
        let s = stanza(&[("A".into(), "b".into()), ("Signed-By".into(), multiline("x\ny"))]);
        assert_eq!(s, "A: b\nSigned-By:\n    x\n    y\n");
        assert!(has_scheme("https://example.org/key.gpg"));
        assert!(!has_scheme("/etc/apt/keyrings/x.gpg"));
        assert!(!has_scheme("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    }
}
