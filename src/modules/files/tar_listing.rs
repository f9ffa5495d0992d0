//! What ansible.builtin.unarchive's tar handlers compute from tar's output, without the host:
//! the archive's file list as the module reads `tar --list` (`codecs.escape_decode`, a leading
//! `/` dropped, `exclude` patterns by `fnmatch`), its reading of `tar --diff`, and
//! `os.path.abspath` for the destination.

use crate::modules::files::fnmatch::fnmatch;
use crate::modules::sysutil;

/// `os.path.abspath` of an absolute path: `.` and `..` resolved, repeated `/` collapsed.
pub fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The module's `files_in_archive`: tar's listing lines unescaped (`codecs.escape_decode`),
/// a leading `/` dropped, those matching an exclude pattern (`fnmatch`) left out. `None` for a
/// line the module would read differently (escapes talon does not decode, bytes that are not
/// UTF-8).
pub fn archive_files(listing: &str, excludes: &[String]) -> Option<Vec<String>> {
    let mut files = Vec::new();
    for line in sysutil::splitlines(listing) {
        let line = line.as_str().unwrap_or_default();
        let name = escape_decode(line)?;
        let name = name.strip_prefix('/').unwrap_or(&name).to_string();
        if !excludes.iter().any(|e| fnmatch(&name, e)) {
            files.push(name);
        }
    }
    Some(files)
}

/// Python's `codecs.escape_decode` then UTF-8 for the escapes GNU tar writes (`\\`, `\n`,
/// `\t`, `\r`, `\a`, `\b`, `\f`, `\v`, octal `\ooo`); `None` for anything else after a
/// backslash, or bytes that are not UTF-8.
fn escape_decode(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = *b.get(i + 1)?;
        i += 2;
        match c {
            b'\\' => out.push(b'\\'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match b.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(u8::try_from(v & 0xff).ok()?);
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// The module's reading of `tar --diff` (its `is_unarchived` as root without owner, group or
/// mode): true when a line says a file's owner, group, mode, time, link, contents or size
/// differ, or that it is missing or has an invalid owner or group.
pub fn differs(out: &str, err: &str) -> bool {
    const ENDS: &[&str] = &[
        ": Uid differs",
        ": Gid differs",
        ": Mode differs",
        ": Mod time differs",
        ": Warning: Cannot stat: No such file or directory",
        ": Symlink differs",
        ": Contents differ",
        ": Size differs",
    ];
    out.lines().chain(err.lines()).any(|line| {
        if line.ends_with(": : Warning: Cannot stat: No such file or directory") {
            return false;
        }
        ENDS.iter().any(|e| line.ends_with(e))
            || line.contains(": Invalid owner")
            || line.contains(": Invalid group")
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn listings_as_the_module_reads_them() {
        let files = archive_files(
            "top/\ntop/a.txt\n/abs\nsp\\303\\251cial\nskip.log\n",
            &["*.log".into()],
        )
        .unwrap();
        assert_eq!(files, ["top/", "top/a.txt", "abs", "spécial"]);
        assert!(archive_files("a\\qb\n", &[]).is_none());
    }

    #[test]
    fn diff_lines_that_mean_a_change() {
        assert!(!differs("", ""));
        assert!(differs("a.txt: Mod time differs\n", ""));
        assert!(differs(
            "",
            "tar: b.txt: Warning: Cannot stat: No such file or directory\n"
        ));
        assert!(!differs(
            "",
            "tar: : Warning: Cannot stat: No such file or directory\n"
        ));
        assert!(!differs("a.txt: something else\n", ""));
    }

    #[test]
    fn paths_made_absolute_as_python() {
        assert_eq!(normalise("/tmp//a/./b/../c/"), "/tmp/a/c");
        assert_eq!(normalise("/"), "/");
    }
}
