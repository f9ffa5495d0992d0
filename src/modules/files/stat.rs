//! `stat`: report facts about a path on the host, matching `ansible.builtin.stat`'s `stat` dict
//! (exists, isdir, isreg, islnk, mode, uid, gid, pw_name, gr_name, size, mtime, checksum, ...).
//!
//! One round trip (`stat -c`, the checksum, `file` for the mime type and `lsattr` for the
//! attributes in one script). Never changes anything.

use serde_json::{Map, Value, json};

use crate::modules::args::{Args, files_failure};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::files::{self, Checksum, FileKind, FileStat, StatExtra};
use crate::vars::Vars;

crate::module_info!(
    /// `stat` in the registry.
    INFO,
    "stat",
    ArgSpec::new(&[
        ArgDef::path("path").aliases(&["dest", "name"]).required(),
        ArgDef::bool("follow"),
        ArgDef::bool("get_checksum"),
        ArgDef::str("checksum_algorithm")
            .aliases(&["checksum", "checksum_algo"])
            .choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]),
        ArgDef::bool("get_mime").aliases(&["mime", "mime_type", "mime-type"]),
        ArgDef::bool("get_md5"),
        ArgDef::bool("get_attributes").aliases(&["attributes", "attr"]),
    ]),
    run
);

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
    put("atime", json!(st.atime));
    put("mtime", json!(st.mtime));
    put("ctime", json!(st.ctime));
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

/// ansible.builtin.stat's file attribute flags and their names (`format_attributes`).
const ATTRIBUTE_NAMES: &[(char, &str)] = &[
    ('A', "noatime"),
    ('a', "append"),
    ('c', "compressed"),
    ('C', "nocow"),
    ('d', "nodump"),
    ('D', "dirsync"),
    ('e', "extents"),
    ('E', "encrypted"),
    ('h', "blocksize"),
    ('i', "immutable"),
    ('I', "indexed"),
    ('j', "journalled"),
    ('N', "inline"),
    ('s', "zero"),
    ('S', "synchronous"),
    ('t', "notail"),
    ('T', "blockroot"),
    ('u', "undelete"),
    ('X', "compressedraw"),
    ('Z', "compresseddirty"),
];

/// Adds what ansible.builtin.stat reports beyond [`stat_dict`]: `ischr`, `isblk`, `isfifo`,
/// `issock` (the mode's file type), `block_size`, `blocks`,
/// `device_type`; with `get_mime` `mimetype`/`charset` (`unknown` when the host's `file`
/// cannot say); with `get_attributes` `version`, `attr_flags`, `attributes` (null, empty and
/// empty when `lsattr` cannot say, e.g. on overlayfs).
fn add_extra(d: &mut Map<String, Value>, x: &StatExtra, mime: bool, attrs: bool) {
    // [`stat_dict`] knows files, folders and links only; the other kinds from the mode's type.
    for (key, bits) in [
        ("ischr", 0o020000),
        ("isblk", 0o060000),
        ("isfifo", 0o010000),
        ("issock", 0o140000),
    ] {
        d.insert(key.into(), json!(x.file_type == bits));
    }
    d.insert("block_size".into(), json!(x.block_size));
    d.insert("blocks".into(), json!(x.blocks));
    d.insert("device_type".into(), json!(x.device_type));
    if mime {
        let (t, c) = x
            .mime
            .clone()
            .unwrap_or_else(|| ("unknown".into(), "unknown".into()));
        d.insert("mimetype".into(), json!(t));
        d.insert("charset".into(), json!(c));
    }
    if attrs {
        let (version, flags) = match &x.attrs {
            Some((v, f)) => (json!(v), f.clone()),
            None => (Value::Null, String::new()),
        };
        let names: Vec<&str> = ATTRIBUTE_NAMES
            .iter()
            .filter(|(c, _)| flags.contains(*c))
            .map(|(_, n)| *n)
            .collect();
        d.insert("version".into(), version);
        d.insert("attr_flags".into(), json!(flags));
        d.insert("attributes".into(), json!(names));
    }
}

/// Runs `stat`. Errors: [`ModuleError::BadArgs`] for a missing `path` or a
/// `checksum_algorithm` other than ansible.builtin.stat's (md5, sha1, sha224, sha256, sha384,
/// sha512).
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let path = a.req_str("path")?;
    let follow = a.bool("follow", false)?;
    let get_checksum = a.bool("get_checksum", true)?;
    let algo = match a.str("checksum_algorithm")? {
        None => Checksum::Sha1,
        Some(name) => Checksum::from_name(&name).ok_or_else(|| {
            a.bad(format!(
                "value of checksum_algorithm must be one of: md5, sha1, sha224, sha256, sha384, sha512, got: {name}"
            ))
        })?,
    };
    let mime = a.bool("get_mime", true)?;
    let attrs = a.bool("get_attributes", true)?;
    let checksum = get_checksum.then_some(algo);
    let st = match files::stat_full(ctx.conn, &path, follow, checksum, mime, attrs, &ctx.become_).await {
        Ok(s) => s,
        Err(e) => return files_failure(e),
    };
    let dict = match &st {
        None => json!({"exists": false}),
        Some((st, extra)) => {
            let mut d = stat_dict(&path, st);
            add_extra(&mut d, extra, mime, attrs);
            Value::Object(d)
        }
    };
    Ok(ModuleOutcome::ok().with("stat", dict))
}
