//! `copy`: put a controller file or inline `content` on the host, matching `ansible.builtin.copy`
//! (action plugin + module): sha1 decides whether content changes, attributes are fixed
//! separately, `force: false` leaves an existing file alone, `backup` and `validate` as Ansible.
//!
//! The work is [`put_content`] (in `put`, shared with `template`). Round trips: one probe (stat +
//! sha1 + content when diffing) to decide; one write or one chmod/chown to apply (plus one probe
//! more when `dest` is a directory). A directory `src` is [`copy_tree`]: one probe of the whole
//! destination tree, one script for every change.

use crate::modules::files::attributes;
use serde_json::Value;

use super::copy_tree::{TreeRequest, copy_tree};
use super::put::{
    PutOptions, PutRequest, checksum_mismatch, find_local_file, preserved_mode, put_content, put_options,
    read_local_src_vault, registered_diff,
};
use crate::modules::args::Args;
use crate::modules::args::{FileArgs, Mode, files_failure, path_info};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::files;
use crate::vars::Vars;

crate::module_info!(
    /// Arguments `copy` accepts.
    /// `copy` in the registry.
    INFO,
    "copy",
    ArgSpec::new(&[
        ArgDef::path("src"),
        ArgDef::raw("content").delivers(),
        ArgDef::path("dest").required(),
        ArgDef::bool("backup"),
        ArgDef::bool("force").aliases(&["thirsty"]),
        ArgDef::str("validate"),
        ArgDef::bool("follow"),
        ArgDef::mode("directory_mode"),
        ArgDef::bool("local_follow"),
        ArgDef::bool("remote_src"),
        ArgDef::bool("decrypt"),
        ArgDef::str("checksum"),
        ArgDef::mode_or_preserve("mode"),
        ArgDef::str("attributes").aliases(&["attr"]),
        ArgDef::str("owner"),
        ArgDef::str("group"),
        ArgDef::bool("unsafe_writes"),
    ])
    .exclusive(&[&["src", "content"]]),
    run
);

/// Runs `copy`. See the file docs; errors: [`ModuleError::BadArgs`] for missing/conflicting
/// `src`/`content`; [`ModuleError::LocalFile`] when `src` cannot be found or
/// read on the controller.
///
/// Matches ansible.builtin.copy: `mode: preserve` gives the mode of the source file; `checksum`
/// is the sha1 the copied bytes must have, checked only when they are about to be written (a
/// falsy value, as YAML's unquoted `000...` is, checks nothing); `local_follow` (default true)
/// follows links inside a directory `src`.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let want = attributes::arg(&a)?;
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
    let expected_checksum = expected_checksum(a.value("checksum"));
    let directory_mode = a.mode("directory_mode")?;
    if a.bool("remote_src", false)? && a.value("content").is_none() {
        let src = a
            .str("src")?
            .ok_or_else(|| a.bad("src (or content) is required"))?;
        let req = files::HostCopy {
            src,
            dest,
            mode: file.mode.as_ref().map(Mode::chmod_arg).unwrap_or_default(),
            owner: file.owner.clone().unwrap_or_default(),
            group: file.group.clone().unwrap_or_default(),
            preserve,
            force,
            check: ctx.check,
            expected: expected_checksum.unwrap_or_default(),
        };
        let out = copy_on_host(&req, &file, ctx).await;
        let dest = attributes::result_path(&out, "dest");
        return attributes::after(ctx, want.as_deref(), &dest, out, false).await;
    }
    let (content, source_label, src_name, reveal) = match (a.value("content"), a.str("src")?) {
        (Some(v), _) => {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Array(_) | Value::Object(_) => v.to_string(),
                other => crate::vars::as_string(other),
            };
            // ansible-core labels the new side of content with the destination.
            (text.into_bytes(), dest.clone(), None, true)
        }
        (None, Some(src)) => {
            let path = find_local_file(&src, "files", ctx)?;
            if path.is_dir() {
                let req = TreeRequest {
                    src: path,
                    contents: src.ends_with('/'),
                    dest,
                    file,
                    preserve,
                    directory_mode,
                    local_follow: a.bool("local_follow", true)?,
                    force,
                    expected_checksum,
                };
                if want.is_some() {
                    return Err(a.bad(
                        "attributes with a directory src are not supported yet: set them with file on each path",
                    ));
                }
                return copy_tree(req, ctx).await;
            }
            if preserve {
                file.mode = Some(preserved_mode(&path)?);
            }
            let (data, vaulted) = read_local_src_vault(path.clone(), "a copy src file").await?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            // The label ansible-core gives the new side: the source's absolute path.
            let label = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
            // A decrypted vault file is revealed like content, so it is delivered as a secret.
            (data, label.display().to_string(), name, vaulted)
        }
        (None, None) => return Err(a.bad("src (or content) is required")),
    };
    let req = PutRequest {
        module: "copy",
        dest,
        content,
        source_label,
        src_name,
        file,
        backup,
        force,
        validate,
        follow,
        directory_mode,
        reveal,
        expected_checksum,
    };
    let out = registered_diff(put_content(req, ctx).await, ctx);
    let dest = attributes::result_path(&out, "dest");
    attributes::after(ctx, want.as_deref(), &dest, out, false).await
}

/// `remote_src: true`: [`files::copy_on_host`] (a file or a directory `src`), reported as
/// ansible.builtin.copy's module reports it (`dest`, `src`, `checksum`, `changed`, the path
/// information of `dest`; `checksum`/`md5sum` null for a directory).
async fn copy_on_host(
    req: &files::HostCopy,
    file: &FileArgs,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let done = match files::copy_on_host(ctx.conn, req, &ctx.become_).await {
        Ok(d) => d,
        Err(e) => return files_failure(e),
    };
    match done {
        files::HostCopyOutcome::Failed(msg) => Ok(ModuleOutcome::failed(msg)),
        files::HostCopyOutcome::BadChecksum(actual) => Ok(checksum_mismatch(actual, req.expected.clone())),
        files::HostCopyOutcome::Exists(dest) => Ok(ModuleOutcome::ok()
            .with("msg", "file already exists")
            .with("src", req.src.clone())
            .with("dest", dest)),
        files::HostCopyOutcome::Done {
            changed,
            dest,
            checksum,
            md5sum,
            stat,
        } => {
            // A directory has no checksum: ansible-core reports `checksum` and `md5sum` null.
            let mut out = ModuleOutcome::ok()
                .with("dest", dest)
                .with("src", req.src.clone());
            out = if checksum.is_empty() {
                out.with("checksum", Value::Null).with("md5sum", Value::Null)
            } else {
                out.with("checksum", checksum).with("md5sum", md5sum)
            };
            out.changed = changed;
            if let Some(st) = stat {
                // In check mode nothing was applied: the attributes that differ are the change.
                if ctx.check && file.changes(&st).any() {
                    out.changed = true;
                }
                out = path_info(out, &st);
            }
            Ok(out)
        }
    }
}

/// The `checksum` argument, `None` when falsy: Ansible's action plugin tests it for truth
/// (`if not self._task.args.get('checksum')`), so `0`, `''` and `false` check nothing.
fn expected_checksum(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null | Value::Bool(false) => None,
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        Value::String(s) if s.is_empty() => None,
        other => Some(crate::vars::as_string(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d11_a_falsy_checksum_checks_nothing() {
        assert_eq!(expected_checksum(None), None);
        assert_eq!(expected_checksum(Some(&serde_json::json!(0))), None);
        assert_eq!(expected_checksum(Some(&serde_json::json!(""))), None);
        assert_eq!(
            expected_checksum(Some(&serde_json::json!("da39"))),
            Some("da39".to_string())
        );
    }
}
