//! `slurp`: read a file from the host and return it base64-encoded, matching
//! `ansible.builtin.slurp` (`content`, `encoding: base64`, `source`). One round trip.

use base64::Engine;

use crate::modules::args::{Args, files_failure};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::files;
use crate::vars::Vars;

crate::module_info!(
    /// `slurp` in the registry.
    INFO,
    "slurp",
    ArgSpec::new(&[ArgDef::path("src").aliases(&["path"]).required()]),
    run
);

/// Runs `slurp`. A missing file fails the task with Ansible's message (`File not found: SRC`);
/// a directory fails with `source is a directory and must be a file`. Beyond Ansible: the
/// `content` of a file that holds a secret value is [`crate::secrets::MASK`], not its base64.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let src = a.req_str("src")?;
    let st = match files::probe(
        ctx.conn,
        &src,
        files::ProbeOptions {
            follow: true,
            checksum: None,
            content: true,
            sftp: true,
        },
        &ctx.become_,
    )
    .await
    {
        Ok(p) => p.stat,
        Err(e) => return files_failure(e),
    };
    let Some(st) = st else {
        return Ok(ModuleOutcome::failed(format!("File not found: {src}")));
    };
    let Some(data) = st.content else {
        return Ok(ModuleOutcome::failed(format!(
            "source is a directory and must be a file: {src}"
        )));
    };
    // A file holding a secret value (one talon delivered, say) is not read back into results:
    // its base64 would pass every mask.
    let content = if ctx.secrets.find_in(&String::from_utf8_lossy(&data)).is_some() {
        crate::secrets::MASK.to_string()
    } else {
        base64::engine::general_purpose::STANDARD.encode(data)
    };
    Ok(ModuleOutcome::ok()
        .with("content", content)
        .with("encoding", "base64")
        .with("source", src))
}
