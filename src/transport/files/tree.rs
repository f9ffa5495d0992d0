//! Many paths at once: [`probe_many`] stats a whole destination tree in one round trip, and
//! [`apply_tree`] makes every change a directory copy needs (directories, files, attributes,
//! links) in one more, the files' bytes concatenated on stdin. `copy` with a directory `src`
//! uses them so that its round trips do not grow with the number of files.

use super::scripts::{
    ATTRS_FN, MKDIR_BODY, ST_FN, parse_err, parse_st, parse_umask, remote_err, unique_suffix,
};
use super::{Become, Connection, FileAttrs, FileStat, FilesError, run_script};

/// [`super::probe`] of every path in `paths` (not following links, with sha1, no content) in
/// one round trip: the umask, then each path's stat (`None` when missing), in order.
///
/// Errors: [`FilesError::Remote`] when a `stat` or `sha1sum` fails on the host.
pub async fn probe_many(
    conn: &Connection,
    paths: &[String],
    become_: &Option<Become>,
) -> Result<(u32, Vec<Option<FileStat>>), FilesError> {
    let first = paths.first().map(String::as_str).unwrap_or("");
    let script = format!("{ST_FN}umask; for p in \"$@\"; do st \"$p\" 0 sha1 0 || exit 1; done");
    let req = super::script_request(&script, paths, None, become_).pure();
    let out = conn.exec(&req).await?;
    if !out.status.success() {
        return Err(remote_err("stat", first, &out));
    }
    let mut buf = &out.stdout[..];
    let umask = parse_umask(first, &mut buf)?;
    let mut stats = Vec::with_capacity(paths.len());
    for p in paths {
        stats.push(parse_st(p, &mut buf, false)?);
    }
    if stats.len() != paths.len() {
        return Err(parse_err(first, "fewer stats than paths"));
    }
    Ok((umask, stats))
}

/// One change of [`apply_tree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeOp {
    /// Create the directory and its missing parents, each with `attrs` (as `file
    /// state=directory` does); nothing when it exists.
    Dir { path: String, attrs: FileAttrs },
    /// Apply `attrs` to an existing path (chown/chgrp before chmod).
    Attrs { path: String, attrs: FileAttrs },
    /// Replace `path` atomically by a file of the next `size` bytes of stdin whose sha1 is
    /// `sha1` (checked before the rename), with `attrs`.
    File {
        path: String,
        size: u64,
        sha1: String,
        attrs: FileAttrs,
    },
    /// Replace `path` atomically by a symbolic link to `target`; `attrs` owner/group on the link.
    Link {
        path: String,
        target: String,
        attrs: FileAttrs,
    },
}

/// The script of [`apply_tree`]: the ops as groups of seven arguments (kind, path, mode, owner,
/// group, size, sha1 or link target) after `$1` (a unique temp-name part).
const TREE_BODY: &str = r#"u=$1; shift; i=0
while [ $# -ge 7 ]; do
  k=$1 p=$2 m=$3 o=$4 g=$5 n=$6 x=$7; shift 7; i=$((i+1))
  case $p in */*) dir=${p%/*} b=${p##*/} ;; *) dir=. b=$p ;; esac
  [ -n "$dir" ] || dir=/
  t="$dir/.$b.talon.$u.$i"
  case $k in
  D) mkd "$p" "$m" "$o" "$g" >/dev/null || exit 1 ;;
  A) attrs "$p" || exit 1 ;;
  F)
    q=$((n / 65536)) r=$((n % 65536))
    (umask 077; set -C
     { if [ "$q" -gt 0 ]; then dd iflag=fullblock bs=65536 count="$q" conv=fsync status=none || exit 1; fi
       if [ "$r" -gt 0 ]; then dd iflag=fullblock bs="$r" count=1 conv=fsync status=none || exit 1; fi
     } > "$t") || { rm -f -- "$t"; exit 1; }
    h=$(sha1sum < "$t") && [ "${h%% *}" = "$x" ] || { rm -f -- "$t"; echo "the content of $p arrived incomplete (connection lost?); it is unchanged" >&2; exit 1; }
    attrs "$t" || { rm -f -- "$t"; exit 1; }
    mv -f -T -- "$t" "$p" || { rm -f -- "$t"; exit 1; } ;;
  L)
    ln -s -- "$x" "$t" || exit 1
    if [ -n "$o$g" ]; then chown -h -- "$o${g:+:$g}" "$t" || { rm -f -- "$t"; exit 1; }; fi
    mv -f -T -- "$t" "$p" || { rm -f -- "$t"; exit 1; } ;;
  esac
done
"#;

/// The arguments of [`TREE_BODY`] for `ops`, and the bytes of the `File` ops to concatenate.
fn tree_args(ops: &[TreeOp]) -> Vec<String> {
    let mut args = vec![unique_suffix()];
    for op in ops {
        let (kind, path, attrs, size, extra) = match op {
            TreeOp::Dir { path, attrs } => ("D", path, attrs, 0, String::new()),
            TreeOp::Attrs { path, attrs } => ("A", path, attrs, 0, String::new()),
            TreeOp::File {
                path,
                size,
                sha1,
                attrs,
            } => ("F", path, attrs, *size, sha1.clone()),
            TreeOp::Link { path, target, attrs } => ("L", path, attrs, 0, target.clone()),
        };
        args.push(kind.to_string());
        args.push(path.clone());
        args.push(attrs.mode.map(|m| format!("{m:04o}")).unwrap_or_default());
        args.push(attrs.owner.clone().unwrap_or_default());
        args.push(attrs.group.clone().unwrap_or_default());
        args.push(size.to_string());
        args.push(extra);
    }
    args
}

/// Applies `ops` in order in one round trip; `stdin` is the content of the `File` ops, one after
/// the other. Each file is written beside its destination under a temporary name (created
/// exclusively, 0600), checked against its sha1, given its attributes and renamed over the
/// destination, so a destination is never partial; the first failure stops the rest.
///
/// Errors: [`FilesError::Remote`] with the host's message when a step fails.
pub async fn apply_tree(
    conn: &Connection,
    ops: &[TreeOp],
    stdin: Vec<u8>,
    become_: &Option<Become>,
) -> Result<(), FilesError> {
    let Some(first) = ops.first() else {
        return Ok(());
    };
    let script = format!("{ATTRS_FN}mkd() (\n{MKDIR_BODY})\n{TREE_BODY}");
    let args = tree_args(ops);
    let out = run_script(conn, &script, &args, Some(stdin), become_).await?;
    if !out.status.success() {
        let path = match first {
            TreeOp::Dir { path, .. }
            | TreeOp::Attrs { path, .. }
            | TreeOp::File { path, .. }
            | TreeOp::Link { path, .. } => path,
        };
        return Err(remote_err("copy", path, &out));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::transport::files::Checksum;
    use crate::transport::local::LocalConnection;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn apply_tree_writes_files_dirs_links_and_probe_many_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let c = Connection::Local(LocalConnection::new("localhost"));
        let base = dir.path().to_str().unwrap();
        let big = vec![b'x'; 65536 * 2 + 7];
        let mode = |m| FileAttrs {
            mode: Some(m),
            ..Default::default()
        };
        let ops = vec![
            TreeOp::Dir {
                path: format!("{base}/a/b"),
                attrs: mode(0o750),
            },
            TreeOp::File {
                path: format!("{base}/a/b/big"),
                size: big.len() as u64,
                sha1: Checksum::Sha1.digest(&big),
                attrs: mode(0o640),
            },
            TreeOp::File {
                path: format!("{base}/a/empty"),
                size: 0,
                sha1: Checksum::Sha1.digest(b""),
                attrs: mode(0o600),
            },
            TreeOp::File {
                path: format!("{base}/a/small"),
                size: 3,
                sha1: Checksum::Sha1.digest(b"abc"),
                attrs: mode(0o644),
            },
            TreeOp::Link {
                path: format!("{base}/a/l"),
                target: "small".into(),
                attrs: FileAttrs::default(),
            },
            TreeOp::Attrs {
                path: format!("{base}/a"),
                attrs: mode(0o700),
            },
        ];
        let mut stdin = big.clone();
        stdin.extend_from_slice(b"abc");
        apply_tree(&c, &ops, stdin, &None).await.unwrap();
        assert_eq!(std::fs::read(dir.path().join("a/b/big")).unwrap(), big);
        assert_eq!(std::fs::read(dir.path().join("a/small")).unwrap(), b"abc");
        assert_eq!(std::fs::read(dir.path().join("a/empty")).unwrap(), b"");
        let m = |p: &str| {
            std::fs::metadata(dir.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        };
        assert_eq!(
            (m("a"), m("a/b"), m("a/b/big"), m("a/empty")),
            (0o700, 0o750, 0o640, 0o600)
        );
        assert_eq!(
            std::fs::read_link(dir.path().join("a/l")).unwrap().to_str(),
            Some("small")
        );
        let paths = vec![
            format!("{base}/a/small"),
            format!("{base}/a/missing"),
            format!("{base}/a/l"),
        ];
        let (_, st) = probe_many(&c, &paths, &None).await.unwrap();
        assert_eq!(
            st[0].as_ref().unwrap().checksum,
            Some(Checksum::Sha1.digest(b"abc"))
        );
        assert!(st[1].is_none());
        assert_eq!(st[2].as_ref().unwrap().link_target.as_deref(), Some("small"));
        // Content that does not arrive whole is never renamed into place.
        let ops = vec![TreeOp::File {
            path: format!("{base}/a/small"),
            size: 3,
            sha1: Checksum::Sha1.digest(b"xyz"),
            attrs: mode(0o644),
        }];
        assert!(apply_tree(&c, &ops, b"xy".to_vec(), &None).await.is_err());
        assert_eq!(std::fs::read(dir.path().join("a/small")).unwrap(), b"abc");
        let left: Vec<_> = std::fs::read_dir(dir.path().join("a")).unwrap().collect();
        assert_eq!(left.len(), 4, "no temp file left");
    }
}
