//! `template`: render a controller-side Jinja2 template with the task's variables and put the
//! result on the host, matching `ansible.builtin.template` (same destination semantics as `copy`:
//! sha1 decides content changes, attributes fixed separately, `force`, `backup`, `validate`).
//!
//! Round trips: the same as `copy` (one probe to decide, one write or chmod/chown to apply); the
//! rendering happens on the controller.

use super::put::{
    PutOptions, PutRequest, find_local_file, is_vault, preserved_mode, put_content, put_options, vault_src,
};
use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::vars::Vars;

crate::module_info!(
    /// `template` in the registry.
    INFO,
    "template",
    ArgSpec::new(&[
        ArgDef::path("src").required(),
        ArgDef::path("dest").required(),
        ArgDef::bool("backup"),
        ArgDef::bool("force"),
        ArgDef::str("validate"),
        ArgDef::bool("follow"),
        ArgDef::str("newline_sequence"),
        ArgDef::mode_or_preserve("mode"),
        ArgDef::str("owner"),
        ArgDef::str("group"),
        ArgDef::bool("unsafe_writes"),
    ]),
    run
);

/// Runs `template`: `src` is looked up in each search path's `templates/` first, then the path
/// itself; rendered with `ctx.templater.render_template(text, src, ctx.scope)`.
///
/// Errors: [`ModuleError::LocalFile`] when the template cannot be found or read;
/// [`ModuleError::Template`] (naming the template) when rendering fails; [`ModuleError::BadArgs`]
/// for a missing `src`/`dest` or an unsupported `newline_sequence`.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let src = a.req_str("src")?;
    let PutOptions {
        dest,
        file,
        backup,
        force,
        validate,
        follow,
        preserve,
    } = put_options(&a)?;
    let mut file = file;
    let newline = match a.str("newline_sequence")?.as_deref() {
        None | Some("\n") | Some("\\n") => "\n",
        Some("\r\n") | Some("\\r\\n") => "\r\n",
        Some("\r") | Some("\\r") => "\r",
        Some(other) => {
            return Err(a.bad(format!(
                "newline_sequence must be \\n, \\r or \\r\\n, got {other:?}"
            )));
        }
    };
    let path = find_local_file(&src, "templates", ctx)?;
    if preserve {
        file.mode = Some(preserved_mode(&path)?);
    }
    let read_path = path.clone();
    let text = tokio::task::spawn_blocking(move || crate::input::read_text(&read_path))
        .await
        .map_err(|e| ModuleError::LocalFile {
            path: path.clone(),
            message: e.to_string(),
        })?
        .map_err(|e| ModuleError::Input(Box::new(e)))?;
    // A vault-encrypted template is decrypted by Ansible; talon cannot yet, and never renders
    // the ciphertext.
    if is_vault(text.trim_start().as_bytes()) {
        return Err(vault_src(path));
    }
    let rendered = ctx
        .templater
        .render_template(&text, &src, ctx.scope)
        .map_err(|e| ModuleError::Template(format!("{src}: {e}")))?;
    let rendered = if newline == "\n" {
        rendered
    } else {
        rendered.replace("\r\n", "\n").replace('\n', newline)
    };
    let src_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let req = PutRequest {
        module: "template",
        dest,
        content: rendered.into_bytes(),
        source_label: path.display().to_string(),
        src_name,
        file,
        backup,
        force,
        validate,
        follow,
        directory_mode: None,
        reveal: true,
        expected_checksum: None,
    };
    put_content(req, ctx).await
}
