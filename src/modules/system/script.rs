//! `script`: a controller file run on the host, as ansible.builtin.script's action does: the
//! file (found like copy's `src`, under `files/`) goes to a 0700 temp file on the host (on
//! stdin, removed afterwards) and runs with the rest of the free-form text as its arguments
//! (parsed by the host's shell, as ansible-core leaves them), with `executable` when given, in
//! `chdir`. `creates`/`removes` skip it first; check mode skips it ("Check mode is not supported
//! for this task."). Result: `rc`, `stdout`, `stderr` and their `_lines`, changed; a non-zero
//! `rc` fails with "non-zero return code".
//!
//! Difference: over SSH ansible-core asks for a terminal (`\r\n` line ends, stderr joined to
//! stdout); talon does not, as ansible-core on a local connection.

use crate::modules::args::Args;
use crate::modules::files::put::{find_local_file, is_vault, vault_src};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `script`: free-form `PATH ARGS...` (or `cmd`), `creates`, `removes`, `chdir`,
    /// `executable`, `decrypt`.
    INFO,
    "script",
    ArgSpec::new(&[
        ArgDef::str("_raw_params").aliases(&["cmd"]),
        ArgDef::path("creates"),
        ArgDef::path("removes"),
        ArgDef::path("chdir"),
        ArgDef::str("executable"),
        ArgDef::bool("decrypt"),
    ])
    .free_form(),
    run
);

/// Writes the script (stdin) to a temp file, runs it with `$2` (the argument text) through
/// the shell, with `$1` as interpreter when set, in `$3` when set, and removes it.
const RUN: &str = r#"t=$(mktemp "${TMPDIR:-/tmp}/talon-script.XXXXXX") || exit 125
cat > "$t" && chmod 700 "$t" || { rm -f "$t"; exit 125; }
if [ -n "$3" ]; then cd "$3" || { rm -f "$t"; exit 125; }; fi
if [ -n "$1" ]; then eval "\"\$1\" \"\$t\" $2" < /dev/null; else eval "\"\$t\" $2" < /dev/null; fi
rc=$?; rm -f "$t"; exit $rc"#;

/// Runs `script`. Errors: [`ModuleError::BadArgs`] without a script; [`ModuleError::NotFound`]
/// when the file is not on the controller; [`ModuleError::LocalFile`] for a vault-encrypted
/// one; [`ModuleError::Transport`] when the host connection broke.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let text = a
        .str("_raw_params")?
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| a.bad("script needs the path of a script"))?;
    let text = text.trim_start();
    let (path, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let file = find_local_file(path, "files", ctx)?;
    let read = file.clone();
    let content = tokio::task::spawn_blocking(move || {
        crate::input::read_bytes(&read, crate::input::CONTENT_LIMIT, "a script")
    })
    .await
    .map_err(|e| ModuleError::LocalFile {
        path: file.clone(),
        message: e.to_string(),
    })?
    .map_err(|e| ModuleError::Input(Box::new(e)))?;
    if is_vault(&content) {
        return Err(vault_src(file));
    }
    for (key, exists_skips) in [("creates", true), ("removes", false)] {
        let Some(p) = a.str(key)? else { continue };
        let probe = sysutil::run_script(ctx, r#"[ -e "$1" ]"#, std::slice::from_ref(&p), None).await?;
        if probe.status.success() == exists_skips {
            let how = if exists_skips { "exists" } else { "does not exist" };
            let mut out = ModuleOutcome::ok();
            out.skipped = true;
            out.msg = Some(format!("{p} {how}, matching {key} option"));
            return Ok(out);
        }
    }
    if ctx.check {
        let mut out = ModuleOutcome::ok();
        out.skipped = true;
        out.msg = Some("Check mode is not supported for this task.".into());
        return Ok(out);
    }
    let script_args = [
        a.str("executable")?.unwrap_or_default(),
        rest.to_string(),
        a.str("chdir")?.unwrap_or_default(),
    ];
    let out = sysutil::run_script(ctx, RUN, &script_args, Some(content)).await?;
    Ok(sysutil::ran(&out))
}
