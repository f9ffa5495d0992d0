//! `template`: render a controller-side Jinja2 template with the task's variables and put the
//! result on the host, matching `ansible.builtin.template` (same destination semantics as `copy`:
//! sha1 decides content changes, attributes fixed separately, `force`, `backup`, `validate`).
//!
//! Round trips: the same as `copy` (one probe to decide, one write or chmod/chown to apply); the
//! rendering happens on the controller.

use super::put::{
    PutOptions, PutRequest, find_local_file, is_vault, preserved_mode, put_content, put_options,
    registered_diff,
};
use crate::modules::args::Args;
use crate::modules::files::attributes;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::template::TemplateSyntax;
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
        ArgDef::str("attributes").aliases(&["attr"]),
        ArgDef::str("owner"),
        ArgDef::str("group"),
        ArgDef::bool("unsafe_writes"),
        ArgDef::bool("trim_blocks"),
        ArgDef::bool("lstrip_blocks"),
        ArgDef::str("block_start_string"),
        ArgDef::str("block_end_string"),
        ArgDef::str("variable_start_string"),
        ArgDef::str("variable_end_string"),
        ArgDef::str("comment_start_string"),
        ArgDef::str("comment_end_string"),
        ArgDef::str("output_encoding"),
    ]),
    run
);

/// The Jinja syntax the task asks for (ansible.builtin.template's defaults otherwise).
fn syntax(a: &Args) -> Result<TemplateSyntax, ModuleError> {
    let d = TemplateSyntax::default();
    let pair =
        |open: &str, close: &str, default: &(String, String)| -> Result<(String, String), ModuleError> {
            Ok((
                a.str(open)?.unwrap_or_else(|| default.0.clone()),
                a.str(close)?.unwrap_or_else(|| default.1.clone()),
            ))
        };
    Ok(TemplateSyntax {
        trim_blocks: a.bool("trim_blocks", d.trim_blocks)?,
        lstrip_blocks: a.bool("lstrip_blocks", d.lstrip_blocks)?,
        block: pair("block_start_string", "block_end_string", &d.block)?,
        variable: pair("variable_start_string", "variable_end_string", &d.variable)?,
        comment: pair("comment_start_string", "comment_end_string", &d.comment)?,
        newline_sequence: newline_sequence(a)?,
        ..d
    })
}

/// `newline_sequence`: `\n`, `\r\n` or `\r` (written as the characters or as escapes).
fn newline_sequence(a: &Args) -> Result<String, ModuleError> {
    Ok(match a.str("newline_sequence")?.as_deref() {
        None | Some("\n") | Some("\\n") => "\n",
        Some("\r\n") | Some("\\r\\n") => "\r\n",
        Some("\r") | Some("\\r") => "\r",
        Some(other) => {
            return Err(a.bad(format!(
                "newline_sequence must be \\n, \\r or \\r\\n, got {other:?}"
            )));
        }
    }
    .to_string())
}

/// The rendered text in `output_encoding` (Python codec names): UTF-8 (default), Latin-1, or
/// UTF-16 (`utf-16` with a little-endian byte order mark, as Python writes it; `utf-16-le`,
/// `utf-16-be` without). `None` for a text Latin-1 cannot hold; an error for other encodings.
fn encode(text: &str, encoding: &str) -> Result<Option<Vec<u8>>, String> {
    let name = encoding.to_ascii_lowercase().replace('_', "-");
    Ok(match name.as_str() {
        "utf-8" | "utf8" | "u8" => Some(text.as_bytes().to_vec()),
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>(),
        "utf-16" | "utf16" => Some(
            [0xFF, 0xFE]
                .into_iter()
                .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
                .collect(),
        ),
        "utf-16-le" | "utf-16le" => Some(text.encode_utf16().flat_map(u16::to_le_bytes).collect()),
        "utf-16-be" | "utf-16be" => Some(text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        _ => {
            return Err(format!(
                "output_encoding {encoding} is not supported by talon (utf-8, latin-1, utf-16)"
            ));
        }
    })
}

/// Runs `template`: `src` is looked up in each search path's `templates/` first, then the path
/// itself; rendered with `ctx.templater.render_template(text, src, ctx.scope)`.
///
/// Errors: [`ModuleError::LocalFile`] when the template cannot be found or read;
/// [`ModuleError::Template`] (naming the template) when rendering fails; [`ModuleError::BadArgs`]
/// for a missing `src`/`dest` or an unsupported `newline_sequence`.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let want = attributes::arg(&a)?;
    let src = a.req_str("src")?;
    let path = find_local_file(&src, "templates", ctx)?;
    let syntax = syntax(&a)?;
    let encoding = a.str("output_encoding")?.unwrap_or_else(|| "utf-8".into());
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
    // A vault-encrypted template is decrypted on the controller, as Ansible does; its text is
    // a secret (masked, and the result delivered as holding one).
    let vaulted = is_vault(text.trim_start().as_bytes());
    let text = if vaulted {
        let plain = super::put::decrypt_src(text.trim_start().as_bytes(), path.clone())?;
        String::from_utf8(plain).map_err(|_| ModuleError::LocalFile {
            path: path.clone(),
            message: "the decrypted template is not UTF-8 text".into(),
        })?
    } else {
        text
    };
    // ansible-core's template variables (template_path, ansible_managed, ...) for this file.
    let dest_arg = a.str("dest")?;
    let scope = ctx.scope.with_layers(crate::template::with_template_vars(
        &ctx.scope.vars,
        &src,
        &path,
        dest_arg.as_deref(),
    ));
    let rendered = ctx
        .templater
        .render_template_with(&text, &src, &scope, &syntax, &path)
        .map_err(|e| ModuleError::Template(format!("{src}: {e}")))?;
    // What a vaulted template renders is as secret as the template.
    if vaulted {
        crate::vault::mark_secret_text(&rendered);
    }
    let content = match encode(&rendered, &encoding) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Ok(ModuleOutcome::failed(format!(
                "the rendered template cannot be encoded as {encoding}"
            )));
        }
        Err(m) => return Err(a.bad(m)),
    };
    let src_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let req = PutRequest {
        module: "template",
        dest,
        content,
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
    let out = registered_diff(put_content(req, ctx).await, ctx);
    let dest = attributes::result_path(&out, "dest");
    attributes::after(ctx, want.as_deref(), &dest, out, false).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::encode;

    #[test]
    fn output_encodings_as_python_writes_them() {
        assert_eq!(encode("café", "UTF-8").unwrap().unwrap(), "café".as_bytes());
        assert_eq!(encode("café", "latin-1").unwrap().unwrap(), b"caf\xe9");
        assert_eq!(encode("€", "iso-8859-1").unwrap(), None);
        assert_eq!(encode("a", "utf-16").unwrap().unwrap(), vec![0xFF, 0xFE, b'a', 0]);
        assert_eq!(encode("a", "utf_16_be").unwrap().unwrap(), vec![0, b'a']);
        assert!(encode("a", "koi8-r").is_err());
    }
}
