//! `stat` with everything ansible.builtin.stat reports: one shell step (`stat`, `file`,
//! `lsattr`), and the checksum of a small regular file from its bytes read over SFTP beside it.

use super::scripts::{
    ST_FN, STAT_EXTRA, STAT_EXTRA_COUNT, STAT_EXTRA_FIELDS, algo, flag, parse_st_extra, parse_stat_extra,
    parse_umask,
};
use super::sftp_ops;
use super::types::{Checksum, FileKind, FileStat, FilesError, StatExtra};
use crate::transport::{Become, Connection};

/// `stat` of one path with everything ansible.builtin.stat reports (block size, blocks,
/// device number; with `mime` the `file` command's mime type and charset; with `attrs`
/// `lsattr`'s version and flags), in one round trip. `None` when the path does not exist.
///
/// The checksum of a regular file up to [`sftp_ops::CONTROLLER_HASH_MAX`] is taken on the
/// controller from its bytes read over SFTP while the shell step runs (its `stat` first: only
/// a regular file is opened; no `sha1sum` process on the host), where SFTP serves the task's
/// user; a larger or unreadable file is hashed on the host as before, in one more step.
///
/// Errors: [`FilesError::Remote`] when `stat` fails on the host; [`FilesError::Parse`] on
/// output this module did not produce.
pub async fn stat_full(
    conn: &Connection,
    path: &str,
    follow: bool,
    checksum: Option<Checksum>,
    mime: bool,
    attrs: bool,
    become_: &Option<Become>,
) -> Result<Option<(FileStat, StatExtra)>, FilesError> {
    let fs = match checksum {
        Some(_) => sftp_ops::usable(conn, become_).await,
        None => None,
    };
    let step = |checksum| stat_full_step(conn, path, (follow, checksum, mime, attrs), become_);
    let Some(fs) = fs else {
        return step(checksum).await;
    };
    // Only a regular file is opened: opening a FIFO would block the host's one `sftp-server`
    // (the shell's script tests `-f` before `sha1sum` reads, with the same small race). A link
    // not followed is not hashed: its `lstat` is not a regular file.
    let bytes = async {
        let a = fs.stat(path, follow).await.ok()?;
        let small = a.size.is_some_and(|n| n <= sftp_ops::CONTROLLER_HASH_MAX);
        if a.permissions.is_some_and(|p| p & 0o170000 == 0o100000) && small {
            fs.read_all(path, Some(sftp_ops::CONTROLLER_HASH_MAX)).await.ok()
        } else {
            None
        }
    };
    let (answer, bytes) = tokio::join!(step(None), bytes);
    let Some((mut st, extra)) = answer? else {
        return Ok(None);
    };
    // The script hashes a regular file, followed or not a link itself.
    if st.kind != FileKind::File || !(follow || st.link_target.is_none()) {
        return Ok(Some((st, extra)));
    }
    match (checksum, bytes) {
        (Some(c), Some(Some(b))) => {
            st.checksum = Some(c.digest(&b));
            Ok(Some((st, extra)))
        }
        _ => step(checksum).await,
    }
}

/// [`stat_full`]'s shell step for `(follow, checksum, mime, attrs)` (`checksum` taken by the
/// host's `sha1sum`/`md5sum`/...).
async fn stat_full_step(
    conn: &Connection,
    path: &str,
    (follow, checksum, mime, attrs): (bool, Option<Checksum>, bool, bool),
    become_: &Option<Become>,
) -> Result<Option<(FileStat, StatExtra)>, FilesError> {
    let script =
        format!("{ST_FN}{STAT_EXTRA_FIELDS}umask; st \"$1\" \"$2\" \"$3\" 0 || exit 1\n{STAT_EXTRA}");
    let args = [
        path.to_string(),
        flag(follow),
        algo(checksum),
        "0".to_string(),
        flag(mime),
        flag(attrs),
    ];
    let out = super::stat_script(conn, path, &script, &args, become_).await?;
    let mut buf = &out[..];
    parse_umask(path, &mut buf)?;
    let Some((st, fields)) = parse_st_extra(path, &mut buf, false, STAT_EXTRA_COUNT)? else {
        return Ok(None);
    };
    let extra = parse_stat_extra(path, &fields, &mut buf, mime, attrs)?;
    Ok(Some((st, extra)))
}
