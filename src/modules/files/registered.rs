//! The `diff` value copy, template and file register under `--diff` (or `diff: true`), in
//! ansible-core 2.19's shapes: a list with one content dict for a content change (copy's
//! `_get_diff_data`), the file module's `{"before": {...}, "after": {...}}` dict otherwise.

use serde_json::{Map, Value, json};

use crate::modules::files::put::MAX_DIFF_SIZE;
use crate::modules::{FileDiff, ModuleContext, ModuleError, sysutil};

/// One side of a content change, for [`content_list`].
pub(crate) struct Side<'a> {
    /// The header Ansible gives the side (the destination for `before`; the controller source,
    /// or the destination for `content:`, for `after`).
    pub header: &'a str,
    /// The bytes (`None`: the destination does not exist yet).
    pub data: Option<&'a [u8]>,
    /// The text shown, already masked where a secret lives (see `put::before_side`).
    pub shown: &'a str,
}

/// The list copy and template register for a content change, as ansible-core's copy action's
/// `_get_diff_data`: `[{"before_header": DEST, "before": OLD, "after_header": SRC, "after": NEW}]`;
/// a new file has `"before": ""` and no `before_header`; a side larger than 104448 bytes is
/// `dst_larger`/`src_larger: 104448` and a side with a NUL byte `dst_binary`/`src_binary: 1`
/// instead of its header and text.
pub(crate) fn content_list(before: Side<'_>, after: Side<'_>) -> Value {
    let mut d = Map::new();
    match before.data {
        None => {
            d.insert("before".into(), "".into());
        }
        Some(b) if b.len() > MAX_DIFF_SIZE => {
            d.insert("dst_larger".into(), MAX_DIFF_SIZE.into());
        }
        Some(b) if b.contains(&0) => {
            d.insert("dst_binary".into(), 1.into());
        }
        Some(_) => {
            d.insert("before_header".into(), before.header.into());
            d.insert("before".into(), before.shown.into());
        }
    }
    match after.data.unwrap_or_default() {
        a if a.len() > MAX_DIFF_SIZE => {
            d.insert("src_larger".into(), MAX_DIFF_SIZE.into());
        }
        a if a.contains(&0) => {
            d.insert("src_binary".into(), 1.into());
        }
        _ => {
            d.insert("after_header".into(), after.header.into());
            d.insert("after".into(), after.shown.into());
        }
    }
    Value::Array(vec![Value::Object(d)])
}

/// The dict ansible.builtin.file registers: `{"before": {"path": P, ...}, "after": {"path": P,
/// ...}}` with the keys of every change in `diffs` ([`FileDiff::fields`]: `state`, `mode`,
/// `owner`, `group`, `atime`, `mtime`); only `path` on both sides when nothing changes.
/// `owner`/`group` given as names are resolved to their ids on the host, as the file module's
/// diff holds them (one round trip, only then; a name the host does not know stays a name).
///
/// Errors: [`ModuleError::Transport`] when the host connection broke.
pub(crate) async fn file_dict(
    ctx: &ModuleContext<'_>,
    path: &str,
    diffs: &[FileDiff],
) -> Result<Value, ModuleError> {
    let fields: Vec<_> = diffs.iter().flat_map(|d| &d.fields).collect();
    let name = |key: &str| {
        fields
            .iter()
            .find(|f| f.key == key)
            .and_then(|f| f.after.as_str())
            .map(str::to_string)
    };
    let (user, group) = (name("owner"), name("group"));
    let (uid, gid) = if user.is_some() || group.is_some() {
        resolve_ids(ctx, user, group).await?
    } else {
        (None, None)
    };
    let mut before = Map::from_iter([("path".to_string(), Value::from(path))]);
    let mut after = before.clone();
    for f in fields {
        let new = match (f.key, uid, gid) {
            ("owner", Some(id), _) | ("group", _, Some(id)) => Value::from(id),
            _ => f.after.clone(),
        };
        before.insert(f.key.into(), f.before.clone());
        after.insert(f.key.into(), new);
    }
    Ok(json!({"before": before, "after": after}))
}

/// The uid of `user` and the gid of `group` on the host (`getent`), `None` where unknown.
async fn resolve_ids(
    ctx: &ModuleContext<'_>,
    user: Option<String>,
    group: Option<String>,
) -> Result<(Option<u32>, Option<u32>), ModuleError> {
    const SCRIPT: &str = r#"u=; g=
[ -n "$1" ] && u=$(getent passwd -- "$1" | cut -d: -f3)
[ -n "$2" ] && g=$(getent group -- "$2" | cut -d: -f3)
printf 'u:%s\ng:%s\n' "$u" "$g""#;
    let args = [user.unwrap_or_default(), group.unwrap_or_default()];
    let out = sysutil::run_script(ctx, SCRIPT, &args, None).await?;
    let text = out.stdout_str();
    let id = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    Ok((id("u:"), id("g:")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_list_of_a_new_file_has_no_before_header() {
        let before = Side {
            header: "/d",
            data: None,
            shown: "",
        };
        let after = Side {
            header: "/src",
            data: Some(b"a\n"),
            shown: "a\n",
        };
        assert_eq!(
            content_list(before, after),
            json!([{"before": "", "after_header": "/src", "after": "a\n"}])
        );
    }

    #[test]
    fn content_list_marks_binary_and_large_sides() {
        let big = vec![b'x'; MAX_DIFF_SIZE + 1];
        let before = Side {
            header: "/d",
            data: Some(&big),
            shown: "",
        };
        let after = Side {
            header: "/src",
            data: Some(b"a\0b"),
            shown: "",
        };
        assert_eq!(
            content_list(before, after),
            json!([{"dst_larger": 104448, "src_binary": 1}])
        );
    }

    #[test]
    fn content_list_of_an_existing_text_file_has_both_headers() {
        let before = Side {
            header: "/d",
            data: Some(b"old\n"),
            shown: "old\n",
        };
        let after = Side {
            header: "/d",
            data: Some(b"new\n"),
            shown: "new\n",
        };
        assert_eq!(
            content_list(before, after),
            json!([{"before_header": "/d", "before": "old\n", "after_header": "/d", "after": "new\n"}])
        );
    }
}
