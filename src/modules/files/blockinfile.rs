//! `blockinfile`: keep a marked block of lines in a text file, matching
//! `ansible.builtin.blockinfile`: markers `# {mark} ANSIBLE MANAGED BLOCK` with `{mark}` replaced
//! by `marker_begin`/`marker_end`; an existing block is replaced in place, otherwise inserted per
//! `insertafter`/`insertbefore` (last matching line; `EOF` default); `state: absent` or an empty
//! block removes it. The edit is the pure [`edit`]; writing is shared with `lineinfile`.
//!
//! Round trips: one probe (stat + content); one atomic write or chmod/chown to apply.

use super::edit::LineRegex;
use crate::modules::files::attributes;

use super::edit::{Rewrite, compile, read_target, rewrite};
use crate::modules::args::{Args, FileArgs};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::vars::Vars;

crate::module_info!(
    /// `blockinfile` in the registry.
    INFO,
    "blockinfile",
    ArgSpec::new(&[
        ArgDef::path("path").aliases(&["dest", "destfile", "name"]).required(),
        ArgDef::str("state").choices(&["present", "absent"]),
        ArgDef::str("marker"),
        ArgDef::str("block").aliases(&["content"]),
        ArgDef::str("insertafter"),
        ArgDef::str("insertbefore"),
        ArgDef::bool("create"),
        ArgDef::bool("backup"),
        ArgDef::str("validate"),
        ArgDef::str("marker_begin"),
        ArgDef::str("marker_end"),
        ArgDef::bool("append_newline"),
        ArgDef::bool("prepend_newline"),
        ArgDef::mode("mode"),
        ArgDef::str("attributes").aliases(&["attr"]),
        ArgDef::str("owner"),
        ArgDef::str("group"),
        ArgDef::bool("unsafe_writes"),
    ])
    .exclusive(&[&["insertbefore", "insertafter"]]),
    run
);

/// Python's `bytes.splitlines(keepends=True)`: splits after `\n`, `\r\n` or a lone `\r`.
pub fn splitlines(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\n' => {
                out.push(data[start..=i].to_vec());
                start = i + 1;
            }
            b'\r' => {
                let end = if data.get(i + 1) == Some(&b'\n') { i + 1 } else { i };
                out.push(data[start..=end].to_vec());
                i = end;
                start = end + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < data.len() {
        out.push(data[start..].to_vec());
    }
    out
}

/// The block edit's inputs (already defaulted as Ansible does).
pub struct BlockSpec<'a> {
    /// `marker` with `{mark}`.
    pub marker: &'a str,
    /// `marker_begin`.
    pub begin: &'a str,
    /// `marker_end`.
    pub end: &'a str,
    /// `block` text.
    pub block: &'a str,
    /// `state == present`.
    pub present: bool,
    /// `insertafter` as given.
    pub insertafter: Option<&'a str>,
    /// `insertbefore` as given.
    pub insertbefore: Option<&'a str>,
    /// The compiled insert pattern (of whichever is not `EOF`/`BOF`).
    pub insert_re: Option<&'a LineRegex>,
    /// `prepend_newline`.
    pub prepend_newline: bool,
    /// `append_newline`.
    pub append_newline: bool,
}

/// Computes the new content from `original` (`None` when the file is missing), exactly as
/// ansible.builtin.blockinfile's main(). Returns the new bytes and Ansible's message
/// (`File created`, `Block inserted`, `Block removed`, or empty when unchanged).
pub fn edit(original: Option<&[u8]>, spec: &BlockSpec<'_>) -> (Vec<u8>, &'static str) {
    let mut lines = splitlines(original.unwrap_or_default());
    let (insertafter, insertbefore) = match (spec.insertafter, spec.insertbefore) {
        (None, None) => (Some("EOF"), None),
        other => other,
    };
    let marker0 = format!("{}\n", spec.marker.replace("{mark}", spec.begin)).into_bytes();
    let marker1 = format!("{}\n", spec.marker.replace("{mark}", spec.end)).into_bytes();
    let blocklines: Vec<Vec<u8>> = if spec.present && !spec.block.is_empty() {
        let mut block = spec.block.as_bytes().to_vec();
        if !block.ends_with(b"\n") {
            block.push(b'\n');
        }
        let mut v = vec![marker0.clone()];
        v.extend(splitlines(&block));
        v.push(marker1.clone());
        v
    } else {
        Vec::new()
    };
    let (mut n0, mut n1) = (None, None);
    for (i, l) in lines.iter().enumerate() {
        if *l == marker0 {
            n0 = Some(i);
        }
        if *l == marker1 {
            n1 = Some(i);
        }
    }
    let mut at = match (n0, n1) {
        (Some(a), Some(b)) if a < b => {
            lines.drain(a..=b);
            a
        }
        (Some(a), Some(b)) => {
            lines.drain(b..=a);
            b
        }
        _ => match spec.insert_re {
            Some(re) => {
                let pat = re.as_str();
                let multiline = pat.starts_with("(?m") || pat.starts_with("(?sm") || pat.starts_with("(?im");
                let mut found = None;
                if multiline {
                    let orig = original.unwrap_or_default();
                    if let Some(m) = re.find(orig) {
                        let upto = if insertafter.is_some() { m.end } else { m.start };
                        found = Some(orig[..upto].iter().filter(|&&b| b == b'\n').count());
                    }
                } else {
                    for (i, l) in lines.iter().enumerate() {
                        if super::edit::py_search(re, l).is_some() {
                            found = Some(i);
                        }
                    }
                }
                match found {
                    None => lines.len(),
                    Some(i) if insertafter.is_some() => i + 1,
                    Some(i) => i,
                }
            }
            None if insertbefore.is_some() => 0,
            None => lines.len(),
        },
    };
    if at > 0 && !lines[at - 1].ends_with(b"\n") {
        lines[at - 1].push(b'\n');
    }
    if spec.prepend_newline && spec.present && at != 0 && lines[at - 1] != b"\n" {
        lines.insert(at, b"\n".to_vec());
        at += 1;
    }
    let nblock = blocklines.len();
    lines.splice(at..at, blocklines);
    if spec.append_newline && spec.present {
        let after = at + nblock;
        if after < lines.len() && lines[after] != b"\n" {
            lines.insert(after, b"\n".to_vec());
        }
    }
    let result = lines.concat();
    let msg = match original {
        Some(o) if o == result.as_slice() => "",
        None => "File created",
        _ if nblock == 0 => "Block removed",
        _ => "Block inserted",
    };
    (result, msg)
}

/// Runs `blockinfile`. Task failures: `Path P is a directory !`, `Path P does not exist !`.
/// Errors: [`ModuleError::BadArgs`] for bad options or regexes.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let path = a.req_str("path")?;
    let present = a.choice("state")?.as_deref() != Some("absent");
    let marker = a
        .str("marker")?
        .unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into());
    let block = a.str("block")?.unwrap_or_default();
    let insertafter = a.str("insertafter")?;
    let insertbefore = a.str("insertbefore")?;
    let create = a.bool("create", false)?;
    let backup = a.bool("backup", false)?;
    let validate = a.str("validate")?;
    let begin = a.str("marker_begin")?.unwrap_or_else(|| "BEGIN".into());
    let end = a.str("marker_end")?.unwrap_or_else(|| "END".into());
    let append_newline = a.bool("append_newline", false)?;
    let prepend_newline = a.bool("prepend_newline", false)?;
    let file = FileArgs::parse(&a)?;
    let pattern = match (insertafter.as_deref(), insertbefore.as_deref()) {
        (Some(p), _) if p != "EOF" => Some(p),
        (None, Some(p)) if p != "BOF" => Some(p),
        _ => None,
    };
    let insert_re = pattern
        .map(|p| compile(&a, "insertafter/insertbefore", p))
        .transpose()?;

    let probe = match read_target(ctx, &path, create, &format!("Path {path} does not exist !")).await? {
        Ok(p) => p,
        Err(out) => return Ok(out),
    };
    let original = probe.stat.as_ref().and_then(|s| s.content.clone());
    if !present && probe.stat.is_none() {
        let mut out = ModuleOutcome::ok();
        out.msg = Some(format!("File {path} not present"));
        return Ok(out);
    }
    let spec = BlockSpec {
        marker: &marker,
        begin: &begin,
        end: &end,
        block: &block,
        present,
        insertafter: insertafter.as_deref(),
        insertbefore: insertbefore.as_deref(),
        insert_re: insert_re.as_ref(),
        prepend_newline,
        append_newline,
    };
    let (after, msg) = edit(original.as_deref(), &spec);
    if let Some(why) = insert_re.as_ref().and_then(LineRegex::failure) {
        return Ok(ModuleOutcome::failed(format!(
            "the insertafter/insertbefore pattern failed while matching: {why}"
        )));
    }
    let r = Rewrite {
        path: &path,
        before: original.as_deref(),
        after,
        content_changed: !msg.is_empty(),
        msg: msg.to_string(),
        file: &file,
        backup,
        validate,
        shown: block
            .lines()
            .map(str::to_string)
            .chain([begin.as_str(), end.as_str()].map(|m| marker.replace("{mark}", m)))
            .collect(),
    };
    let want = attributes::arg(&a)?;
    let out = rewrite(r, &probe, ctx).await;
    attributes::after(ctx, want.as_deref(), &path, out, true).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn spec<'a>(
        block: &'a str,
        after: Option<&'a str>,
        before: Option<&'a str>,
        re: Option<&'a LineRegex>,
    ) -> BlockSpec<'a> {
        BlockSpec {
            marker: "# {mark} ANSIBLE MANAGED BLOCK",
            begin: "BEGIN",
            end: "END",
            block,
            present: true,
            insertafter: after,
            insertbefore: before,
            insert_re: re,
            prepend_newline: false,
            append_newline: false,
        }
    }

    const B: &str = "# BEGIN ANSIBLE MANAGED BLOCK\n";
    const E: &str = "# END ANSIBLE MANAGED BLOCK\n";

    fn s(v: Vec<u8>) -> String {
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn appends_at_eof_then_idempotent() {
        let (out, msg) = edit(Some(b"a\nb"), &spec("x\ny", None, None, None));
        assert_eq!(s(out.clone()), format!("a\nb\n{B}x\ny\n{E}"));
        assert_eq!(msg, "Block inserted");
        let (again, msg) = edit(Some(&out), &spec("x\ny", None, None, None));
        assert_eq!(again, out);
        assert_eq!(msg, "");
    }

    #[test]
    fn replaces_existing_block_in_place() {
        let orig = format!("a\n{B}old\n{E}z\n");
        let (out, msg) = edit(Some(orig.as_bytes()), &spec("new", None, None, None));
        assert_eq!(s(out), format!("a\n{B}new\n{E}z\n"));
        assert_eq!(msg, "Block inserted");
    }

    #[test]
    fn removes_with_empty_block_or_absent() {
        let orig = format!("a\n{B}old\n{E}z\n");
        let (out, msg) = edit(Some(orig.as_bytes()), &spec("", None, None, None));
        assert_eq!((s(out), msg), ("a\nz\n".to_string(), "Block removed"));
        let mut sp = spec("x", None, None, None);
        sp.present = false;
        let (out, _) = edit(Some(orig.as_bytes()), &sp);
        assert_eq!(s(out), "a\nz\n");
    }

    #[test]
    fn insert_positions() {
        let re = LineRegex::new("^k").unwrap();
        let (out, _) = edit(Some(b"k1\nk2\nz\n"), &spec("x", Some("^k"), None, Some(&re)));
        assert_eq!(s(out), format!("k1\nk2\n{B}x\n{E}z\n"), "after the last match");
        let (out, _) = edit(Some(b"a\nk1\n"), &spec("x", None, Some("^k"), Some(&re)));
        assert_eq!(s(out), format!("a\n{B}x\n{E}k1\n"));
        let (out, _) = edit(Some(b"a\n"), &spec("x", None, Some("BOF"), None));
        assert_eq!(s(out), format!("{B}x\n{E}a\n"));
        let (out, _) = edit(
            Some(b"a\n"),
            &spec(
                "x",
                Some("^nomatch"),
                None,
                Some(&LineRegex::new("^nomatch").unwrap()),
            ),
        );
        assert_eq!(s(out), format!("a\n{B}x\n{E}"));
    }

    #[test]
    fn new_file_and_custom_markers() {
        let mut sp = spec("x", None, None, None);
        sp.marker = "<!-- {mark} -->";
        sp.begin = "start";
        sp.end = "stop";
        let (out, msg) = edit(None, &sp);
        assert_eq!(
            (s(out), msg),
            ("<!-- start -->\nx\n<!-- stop -->\n".to_string(), "File created")
        );
    }

    #[test]
    fn prepend_and_append_newline() {
        let mut sp = spec("x", Some("^a"), None, None);
        let re = LineRegex::new("^a").unwrap();
        sp.insert_re = Some(&re);
        sp.prepend_newline = true;
        sp.append_newline = true;
        let (out, _) = edit(Some(b"a\nb\n"), &sp);
        assert_eq!(s(out), format!("a\n\n{B}x\n{E}\nb\n"));
    }

    #[test]
    fn splitlines_like_python() {
        assert_eq!(
            splitlines(b"a\r\nb\rc\nd"),
            vec![b"a\r\n".to_vec(), b"b\r".to_vec(), b"c\n".to_vec(), b"d".to_vec()]
        );
    }
}
