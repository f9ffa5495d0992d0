//! `talon_secret_file`: deliver one secret (from `--secrets`/`--secret-env`/`--ask-secret`) as a
//! file holding exactly its value, mode 0600 from the first byte, or remove that file.
//!
//! Why this exists: many programs take a secret from a file (`channels.telegram.tokenFile`,
//! `*_FILE` environment conventions, docker secrets), which keeps it out of argv, environment
//! and config files that are world-readable. No Ansible module does this safely: `copy content`
//! diffs and registers content. Here the value travels only on stdin into a `mktemp` file (0600)
//! in the destination's directory, renamed into place; a missing directory is created 0700.
//! Idempotence compares the sha256 of the host's file with the sha256 computed on the controller:
//! the value is never sent to compare, and neither the value, its size nor its hash appear in the
//! result. For "removed after use", run the consumer in a `block:` and this module with
//! `state: absent` in its `always:`.

use secrecy::ExposeSecret;

use crate::modules::args::{Args, FileArgs, Mode, files_failure};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{FileDiff, ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::files::{self, Checksum, FileAttrs, FileKind, ProbeOptions, WriteOptions};
use crate::vars::Vars;

crate::module_info!(
    /// `talon_secret_file` in the registry.
    INFO,
    "talon_secret_file",
    ArgSpec::new(&[
        ArgDef::str("secret"),
        ArgDef::path("dest").required(),
        ArgDef::str("owner"),
        ArgDef::str("group"),
        ArgDef::str("state").choices(&["present", "absent"]),
    ]),
    run
);

/// The mode of every secret file (and of a directory created for it: [`DIR_MODE`]).
pub const FILE_MODE: u32 = 0o600;
/// The mode of a directory created to hold a secret file.
pub const DIR_MODE: u32 = 0o700;

/// Runs `talon_secret_file`.
///
/// Args: `secret` (a secret's name, required), `dest` (path, required), `owner`, `group`,
/// `state` (`present`, default, or `absent`). Result: `dest`, `state`, and for `present`
/// `mode` (`0600`), `owner`/`group` when changed. Changed when the content (by sha256) or an
/// attribute differed, or (absent) when the file existed.
///
/// Errors: [`ModuleError::BadArgs`] for a missing `secret`/`dest`, an unknown secret or state.
/// A `dest` that is a directory or a link fails the task (it is never followed or replaced).
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let dest = a.req_str("dest")?;
    let state = a.choice("state")?;
    let popts = |checksum| ProbeOptions {
        follow: false,
        checksum,
        content: false,
        sftp: true,
    };
    let base = ModuleOutcome::ok().with("dest", dest.clone());
    if state.as_deref() == Some("absent") {
        let probe = match files::probe(ctx.conn, &dest, popts(None), &ctx.become_).await {
            Ok(p) => p,
            Err(e) => return files_failure(e),
        };
        let mut out = base.with("state", "absent");
        if probe.stat.is_none() {
            return Ok(out);
        }
        out.changed = true;
        if !ctx.check
            && let Err(e) = files::remove(ctx.conn, &dest, &ctx.become_).await
        {
            return files_failure(e);
        }
        return Ok(out);
    }
    let name = a.req_str("secret")?;
    let value = ctx
        .secrets
        .get(&name)
        .ok_or_else(|| a.bad(crate::error::PolicyError::Unknown { name: name.clone() }.to_string()))?;
    let fa = FileArgs {
        mode: Some(Mode::Numeric(FILE_MODE)),
        owner: a.str("owner")?.filter(|s| !s.is_empty()),
        group: a.str("group")?.filter(|s| !s.is_empty()),
    };
    let want = Checksum::Sha256.digest(value.expose_secret().as_bytes());
    let probe = match files::probe(ctx.conn, &dest, popts(Some(Checksum::Sha256)), &ctx.become_).await {
        Ok(p) => p,
        Err(e) => return files_failure(e),
    };
    let mut out = base.with("state", "file");
    if let Some(st) = &probe.stat {
        if st.kind != FileKind::File {
            return Ok(ModuleOutcome::failed(format!(
                "talon_secret_file: {dest} is a {}, not a regular file; refusing to replace it",
                st.kind.ansible_state()
            )));
        }
        if st.checksum.as_deref() == Some(want.as_str()) {
            let ch = fa.changes(st);
            out = out.with("mode", st.mode_string());
            return super::put::fix_attrs(out, &ch, &dest, false, ctx).await;
        }
    }
    out.changed = true;
    if ctx.diff {
        out.diff.push(FileDiff {
            before_header: dest.clone(),
            after_header: format!("secret {name}"),
            before: if probe.stat.is_some() {
                "(old secret content)\n"
            } else {
                ""
            }
            .into(),
            after: format!("(secret {name}, mode 0600)\n"),
            ..FileDiff::default()
        });
    }
    if ctx.check {
        return Ok(out.with("mode", format!("{FILE_MODE:04o}")));
    }
    let parent = std::path::Path::new(&dest)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| !p.is_empty());
    if probe.stat.is_none()
        && let Some(parent) = parent
    {
        let dattrs = FileAttrs {
            mode: Some(DIR_MODE),
            owner: fa.owner.clone(),
            group: fa.group.clone(),
        };
        if let Err(e) = files::mkdir(ctx.conn, &parent, &dattrs, &ctx.become_).await {
            return files_failure(e);
        }
    }
    let wopts = WriteOptions {
        attrs: FileAttrs {
            mode: Some(FILE_MODE),
            owner: fa.owner.clone(),
            group: fa.group.clone(),
        },
        ..Default::default()
    };
    let bytes = value.expose_secret().as_bytes();
    ctx.secrets.held.mark(ctx.host, &dest, true);
    if let Err(e) = files::write_atomic(ctx.conn, &dest, bytes, &wopts, &ctx.become_).await {
        return files_failure(e);
    }
    Ok(out.with("mode", format!("{FILE_MODE:04o}")))
}
