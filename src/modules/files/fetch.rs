//! `fetch`: copy a file from the host to the controller, matching `ansible.builtin.fetch`: the
//! default layout is `DEST/HOSTNAME/SRC`; `flat: true` uses `dest` itself (or `dest/BASENAME`
//! when it ends in `/`); `changed` when the local copy differs (sha1).
//!
//! One round trip (read of the remote file); the local write is atomic (temp file + rename) and
//! gets the remote file's permission bits (`mode & 0o777`; `tempfile` creates it 0600, so it is
//! never wider meanwhile). Beyond Ansible: a file holding a secret value is written at most 0600
//! and its checksum and content are not reported.

use std::path::{Path, PathBuf};

use crate::modules::args::{Args, files_failure};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{FileDiff, ModuleContext, ModuleError, ModuleOutcome, Plan};
use crate::transport::files::{self, Checksum, ProbeOptions};
use crate::vars::Vars;

crate::module_info!(
    /// `fetch` in the registry.
    INFO,
    "fetch",
    ArgSpec::new(&[
        ArgDef::str("src").required(),
        ArgDef::str("dest").required(),
        ArgDef::bool("flat"),
        ArgDef::bool("fail_on_missing"),
        ArgDef::bool("validate_checksum"),
    ]),
    plan = plan,
    apply = apply
);

/// Where the fetched file goes on the controller (Ansible's fetch action plugin rules).
pub fn local_dest(dest: &str, src: &str, host: &str, flat: bool) -> PathBuf {
    if flat {
        if dest.ends_with('/') {
            let base = Path::new(src)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            return Path::new(dest).join(base.unwrap_or_default());
        }
        return PathBuf::from(dest);
    }
    let rel = src.trim_start_matches('/');
    Path::new(dest).join(host).join(rel)
}

fn local_err(path: &Path, e: impl std::fmt::Display) -> ModuleError {
    ModuleError::LocalFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// What a [`plan`] of `fetch` read: the remote content, where it goes and with which mode.
#[derive(Debug)]
pub struct FetchWork {
    data: Vec<u8>,
    target: PathBuf,
    mode: u32,
}

/// Plans `fetch`: reads the remote file (one round trip) and compares it with the local copy. A
/// missing remote file fails the task when `fail_on_missing` (default true), otherwise it is ok
/// with Ansible's message.
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<FetchWork>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let src = a.req_str("src")?;
    let dest = a.req_str("dest")?;
    let flat = a.bool("flat", false)?;
    let fail_on_missing = a.bool("fail_on_missing", true)?;
    a.bool("validate_checksum", true)?;
    let opts = ProbeOptions {
        follow: true,
        checksum: None,
        content: true,
        sftp: true,
    };
    let st = match files::probe(ctx.conn, &src, opts, &ctx.become_).await {
        Ok(p) => p.stat,
        Err(e) => return files_failure(e).map(Plan::Done),
    };
    let Some(data) = st.as_ref().and_then(|s| s.content.clone()) else {
        let msg = if st.is_some() {
            "remote file is a directory, fetch cannot work on directories"
        } else {
            "the remote file does not exist, not transferring, ignored"
        };
        let mut out = ModuleOutcome::ok()
            .with("file", src.clone())
            .with("changed", false);
        out.msg = Some(msg.to_string());
        out.failed = fail_on_missing || st.is_some();
        return Ok(Plan::Done(out));
    };
    let target = local_dest(&dest, &src, ctx.host, flat);
    let checksum = Checksum::Sha1.digest(&data);
    let old = std::fs::read(&target).ok();
    let old_sum = old.as_deref().map(|o| Checksum::Sha1.digest(o));
    // A file holding a secret value: neither its hash (it helps guess a short secret) nor its
    // content is reported, and the local copy is owner-only.
    let secret = ctx.secrets.find_in(&String::from_utf8_lossy(&data)).is_some();
    let shown_sum = if secret {
        crate::secrets::MASK.to_string()
    } else {
        checksum.clone()
    };
    let remote_mode = st.as_ref().map_or(0o600, |s| s.mode & 0o777);
    let mode = if secret { remote_mode & 0o600 } else { remote_mode };
    let mut out = ModuleOutcome::ok()
        .with("checksum", shown_sum.clone())
        .with("remote_checksum", shown_sum)
        .with("dest", target.display().to_string());
    if old_sum.as_deref() == Some(checksum.as_str()) {
        return Ok(Plan::Done(out));
    }
    out.changed = true;
    if ctx.diff && secret {
        out.diff.push(FileDiff {
            before_header: target.display().to_string(),
            after_header: format!("{}:{src}", ctx.host),
            before: String::new(),
            after: "(content holding a secret is not shown)\n".to_string(),
            ..FileDiff::default()
        });
    } else if ctx.diff {
        out.diff.push(FileDiff {
            before_header: target.display().to_string(),
            after_header: format!("{}:{src}", ctx.host),
            before: old
                .map(|o| String::from_utf8_lossy(&o).into_owned())
                .unwrap_or_default(),
            after: String::from_utf8_lossy(&data).into_owned(),
            ..FileDiff::default()
        });
    }
    Ok(Plan::Change(out, FetchWork { data, target, mode }))
}

/// Applies a [`plan`]: writes the local copy atomically (a synced temp file in the same folder,
/// given the mode, renamed over the target). Errors: [`ModuleError::LocalFile`] when the local
/// file cannot be written.
pub async fn apply(
    w: FetchWork,
    out: ModuleOutcome,
    _ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let FetchWork { data, target, mode } = w;
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| local_err(&dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| local_err(&dir, e))?;
    std::io::Write::write_all(&mut tmp, &data).map_err(|e| local_err(&target, e))?;
    tmp.as_file().sync_all().map_err(|e| local_err(&target, e))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(|e| local_err(&target, e))?;
    }
    tmp.persist(&target).map_err(|e| local_err(&target, e.error))?;
    Ok(out)
}
