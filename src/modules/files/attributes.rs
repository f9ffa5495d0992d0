//! `attributes` (alias `attr`): a path's ext2/3/4-style flags (`lsattr`/`chattr`), for file,
//! copy, template, lineinfile and blockinfile, as ansible.module_utils.basic's
//! `set_attributes_if_different` sets them: one round trip, only when the task asks.

use serde_json::Value;

use crate::modules::args::{Args, path_info};
use crate::modules::{DiffField, FileDiff, ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::transport::files;

/// Reads `lsattr -vd`'s flags (dashes removed), decides as ansible-core does (a change when the
/// flags differ from the asked ones as strings, or always for `-`), and runs `chattr` (found on
/// PATH, called by its full path as the module does) unless in check mode. Output: `S` (same),
/// `C` (changed) or `N` (no chattr on the host) with the old flags; `E` with the old flags,
/// then chattr's output.
const SCRIPT: &str = r#"p=$1 op=$2 a=$3 ck=$4
case $p in -*) p=./$p ;; esac
f=$(lsattr -vd -- "$p" 2>/dev/null | awk 'NR==1 {print $2}' | tr -d -)
if [ "$f" = "$a" ] && [ "$op" != - ]; then printf 'S%s\n' "$f"; exit 0; fi
c=$(command -v chattr) || { printf 'N%s\n' "$f"; exit 0; }
[ "$ck" = 1 ] && { printf 'C%s\n' "$f"; exit 0; }
if r=$("$c" "$op$a" "$p" 2>&1) && [ -z "$r" ]; then printf 'C%s\n' "$f"; else printf 'E%s\n%s\n' "$f" "$r"; fi
"#;

/// Applies `want` ([`apply`]) to `path` after a module's own work `out`, unless that failed;
/// `edit_msg`: the module is lineinfile/blockinfile, whose `msg` then says
/// "ownership, perms or SE linux context changed" (ansible-core's `check_file_attrs`).
///
/// Errors: those of `out`, and [`ModuleError::Transport`].
pub(crate) async fn after(
    ctx: &ModuleContext<'_>,
    want: Option<&str>,
    path: &str,
    out: Result<ModuleOutcome, ModuleError>,
    edit_msg: bool,
) -> Result<ModuleOutcome, ModuleError> {
    let out = out?;
    let Some(want) = want.filter(|_| !out.failed && !path.is_empty()) else {
        return Ok(out);
    };
    let (mut out, changed) = apply(ctx, path, want, out).await?;
    const WORDS: &str = "ownership, perms or SE linux context changed";
    if edit_msg && changed && !out.msg.as_deref().is_some_and(|m| m.contains(WORDS)) {
        let msg = match out.msg.as_deref() {
            Some(m) if !m.is_empty() => format!("{m} and {WORDS}"),
            _ => WORDS.to_string(),
        };
        out.msg = Some(msg);
    }
    Ok(out)
}

/// The path a result names under `key` (`path`, `dest`), empty when it names none.
pub(crate) fn result_path(out: &Result<ModuleOutcome, ModuleError>, key: &str) -> String {
    out.as_ref()
        .ok()
        .and_then(|o| o.result.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The `attributes`/`attr` argument (`None` when unset or empty).
///
/// Errors: [`ModuleError::BadArgs`] when it is not a string.
pub(crate) fn arg(a: &Args<'_>) -> Result<Option<String>, ModuleError> {
    Ok(a.str("attributes")?.filter(|s| !s.is_empty()))
}

/// Gives `path` the flags `want` (`i`, `+A`, `-i`, `=e`...: `+`/`-` add or remove, else `=`),
/// matches ansible-core's `set_attributes_if_different`: changed when the current flags are not
/// `want` without its operator (compared as strings), always for `-`; with `--diff` the change
/// is `attributes` in the registered diff (old flags, then `want` with its operator). Nothing
/// changes in check mode (the failure also has the path's `mode`, `owner`, ... as Ansible's). Returns the outcome and whether the flags changed. A failing `chattr` fails the task with Ansible's `msg` "chattr failed",
/// `details` and `path`. A host without `chattr` changes nothing, as the module skips it.
///
/// Errors: [`ModuleError::Transport`] when the host connection broke.
pub(crate) async fn apply(
    ctx: &ModuleContext<'_>,
    path: &str,
    want: &str,
    mut out: ModuleOutcome,
) -> Result<(ModuleOutcome, bool), ModuleError> {
    let (op, flags) = match want.split_at_checked(1) {
        Some((op @ ("+" | "-"), rest)) => (op, rest),
        _ => ("=", want),
    };
    let args = [
        path.to_string(),
        op.to_string(),
        flags.to_string(),
        if ctx.check { "1" } else { "0" }.to_string(),
    ];
    let res = sysutil::run_script(ctx, SCRIPT, &args, None).await?;
    let text = res.stdout_str();
    let (first, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let old = first.get(1..).unwrap_or_default().to_string();
    match first.chars().next() {
        Some('C') => {
            out.changed = true;
            if ctx.diff {
                out.diff.push(FileDiff {
                    before_header: format!("{path} (file attributes)"),
                    after_header: format!("{path} (file attributes)"),
                    before: format!("attributes: {old}\n"),
                    after: format!("attributes: {op}{flags}\n"),
                    fields: vec![DiffField {
                        key: "attributes",
                        before: Value::from(old),
                        after: Value::from(format!("{op}{flags}")),
                    }],
                });
            }
            Ok((out, true))
        }
        Some('E') => {
            // ansible-core's fail_json adds the path's information.
            let mut failed = ModuleOutcome::failed("chattr failed")
                .with("path", path)
                .with("details", format!("Error while setting attributes: {rest}"));
            if let Ok(Some(st)) = files::stat(ctx.conn, path, false, None, &ctx.become_).await {
                failed = path_info(failed, &st);
            }
            Ok((failed, false))
        }
        Some('S' | 'N') => Ok((out, false)),
        _ => Ok((
            ModuleOutcome::failed(format!(
                "reading the attributes of {path} failed: {}",
                res.stderr_str().trim()
            ))
            .with("path", path),
            false,
        )),
    }
}
