//! `stat`: report facts about a path on the host, matching `ansible.builtin.stat`'s `stat` dict
//! (exists, isdir, isreg, islnk, mode, uid, gid, pw_name, gr_name, size, mtime, checksum, ...).
//!
//! One round trip (`stat -c` + `sha1sum` in one script). Never changes anything.

use serde_json::{Map, Value, json};

use super::args::{Args, files_failure};
use super::{ModuleContext, ModuleError, ModuleInfo, ModuleOutcome};
use crate::transport::files::{self, Checksum, FileKind, FileStat};
use crate::vars::Vars;

const ARGS: &[&str] = &[
    "path",
    "dest",
    "name",
    "follow",
    "get_checksum",
    "checksum_algorithm",
    "checksum",
    "checksum_algo",
    "get_mime",
    "get_md5",
    "get_attributes",
    "mime",
    "mime_type",
    "mime-type",
    "attributes",
    "attr",
];

/// `stat` in the registry.
pub const INFO: ModuleInfo = ModuleInfo {
    name: "stat",
    args: ARGS,
    free_form: false,
    types: &[],
};

/// The `stat` dict for an existing path, with Ansible's key names.
pub fn stat_dict(path: &str, st: &FileStat) -> Map<String, Value> {
    let m = st.mode;
    let mut d = Map::new();
    let mut put = |k: &str, v: Value| {
        d.insert(k.to_string(), v);
    };
    put("exists", json!(true));
    put("path", json!(path));
    put("mode", json!(st.mode_string()));
    put("isdir", json!(st.kind == FileKind::Directory));
    put("ischr", json!(false));
    put("isblk", json!(false));
    put("isreg", json!(st.kind == FileKind::File));
    put("isfifo", json!(false));
    put("islnk", json!(st.kind == FileKind::Link));
    put("issock", json!(false));
    put("uid", json!(st.uid));
    put("gid", json!(st.gid));
    put("size", json!(st.size));
    put("inode", json!(st.inode));
    put("dev", json!(st.dev));
    put("nlink", json!(st.nlink));
    put("atime", json!(st.atime as f64));
    put("mtime", json!(st.mtime as f64));
    put("ctime", json!(st.ctime as f64));
    put("wusr", json!(m & 0o200 != 0));
    put("rusr", json!(m & 0o400 != 0));
    put("xusr", json!(m & 0o100 != 0));
    put("wgrp", json!(m & 0o020 != 0));
    put("rgrp", json!(m & 0o040 != 0));
    put("xgrp", json!(m & 0o010 != 0));
    put("woth", json!(m & 0o002 != 0));
    put("roth", json!(m & 0o004 != 0));
    put("xoth", json!(m & 0o001 != 0));
    put("isuid", json!(m & 0o4000 != 0));
    put("isgid", json!(m & 0o2000 != 0));
    put("pw_name", json!(st.owner));
    put("gr_name", json!(st.group));
    put("readable", json!(st.readable));
    put("writeable", json!(st.writeable));
    put("executable", json!(st.executable));
    if let Some(t) = &st.link_target {
        put("lnk_target", json!(t));
    }
    if let Some(r) = &st.link_resolved {
        put("lnk_source", json!(r));
    }
    if let Some(c) = &st.checksum {
        put("checksum", json!(c));
    }
    d
}

/// Runs `stat`. Errors: [`ModuleError::BadArgs`] for a missing `path` or an unsupported
/// `checksum_algorithm` (sha1 and sha256 are supported).
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new("stat", args, ARGS)?;
    let path = a.req_str(&["path", "dest", "name"])?;
    let follow = a.bool_or(&["follow"], false)?;
    let get_checksum = a.bool_or(&["get_checksum"], true)?;
    let algo = match a
        .opt_str(&["checksum_algorithm", "checksum", "checksum_algo"])?
        .as_deref()
    {
        None | Some("sha1") => Checksum::Sha1,
        Some("sha256") => Checksum::Sha256,
        Some(other) => {
            return Err(a.bad(format!(
                "checksum_algorithm {other} is not supported (sha1, sha256)"
            )));
        }
    };
    if a.bool_or(&["get_mime", "mime", "mime_type", "mime-type"], false)? {
        return Err(a.bad("get_mime is not supported"));
    }
    let checksum = get_checksum.then_some(algo);
    let st = match files::stat(ctx.conn, &path, follow, checksum, &ctx.become_).await {
        Ok(s) => s,
        Err(e) => return files_failure(e),
    };
    let dict = match &st {
        None => json!({"exists": false}),
        Some(st) => Value::Object(stat_dict(&path, st)),
    };
    Ok(ModuleOutcome::ok().with("stat", dict))
}
