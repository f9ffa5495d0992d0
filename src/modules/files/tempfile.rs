//! `tempfile`: create a uniquely named temporary file or directory on the host, as
//! ansible.builtin.tempfile does with Python's `mkstemp`/`mkdtemp`: `PREFIX` + eight characters
//! of `[a-z0-9_]` + `SUFFIX`, in `path` or the host's temporary folder (`TMPDIR`, `TEMP`,
//! `TMP`, then `/tmp`, `/var/tmp`, `/usr/tmp`), created exclusively with mode `0600` (a
//! directory `0700`) less the umask. The names are drawn on the controller; one round trip
//! tries them in turn and reports the new path's owner, mode and size.
//!
//! A relative `path` (resolved by Python against the module's working folder) runs
//! ansible-core's module through the Python path instead.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::modules::args::Args;
use crate::modules::fallback::python_path;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `tempfile` in the registry.
    INFO,
    "tempfile",
    ArgSpec::new(&[
        ArgDef::str("state").choices(&["file", "directory"]),
        ArgDef::path("path"),
        ArgDef::str("prefix"),
        ArgDef::str("suffix"),
    ]),
    run
);

/// Python's `tempfile` name characters.
const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";

/// How many names one run tries (Python tries up to 10000; a clash is already unlikely).
const TRIES: usize = 16;

/// `count` candidate names `PREFIX` + 8 random `[a-z0-9_]` + `SUFFIX`, as Python's
/// `_RandomNameSequence` draws them (not secret: the host creates them exclusively).
pub fn names(prefix: &str, suffix: &str, count: usize) -> Vec<String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    (0..count)
        .map(|_| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default(),
            );
            let mut n = h.finish();
            let mut name = String::with_capacity(prefix.len() + 8 + suffix.len());
            name.push_str(prefix);
            for _ in 0..8 {
                name.push(char::from(CHARS[(n % CHARS.len() as u64) as usize]));
                n /= CHARS.len() as u64;
            }
            name.push_str(suffix);
            name
        })
        .collect()
}

/// Python's `os.path.join(dir, name)` for one relative name.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Python's `os.path.normpath` of an absolute path (`//` and `/./` collapsed, `..` resolved
/// lexically; a leading `//` kept, as POSIX allows).
pub fn normpath(path: &str) -> String {
    let lead = if path.starts_with("//") && !path.starts_with("///") {
        "//"
    } else if path.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if lead.is_empty() {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let body = parts.join("/");
    match (lead, body.is_empty()) {
        ("", true) => ".".into(),
        (l, _) => format!("{l}{body}"),
    }
}

/// Finds the folder (given, or Python's `gettempdir()` candidates), then creates the first
/// free name with the umask widened by `077`. Prints `OK INDEX`, the folder, and
/// `uid gid owner group mode size` of the new path; or `ERR ERRNO` (2, 20 or 13).
const SCRIPT: &str = r#"d=$1 kind=$2; shift 2
if [ -z "$d" ]; then
  for c in "$TMPDIR" "$TEMP" "$TMP" /tmp /var/tmp /usr/tmp "$PWD"; do
    if [ -n "$c" ] && [ -d "$c" ] && [ -w "$c" ] && [ -x "$c" ]; then d=$c; break; fi
  done
fi
umask "$(printf '%o' $(( 0$(umask) | 077 )))"
i=0 ok=
for n in "$@"; do
  case $d in */) p=$d$n ;; *) p=$d/$n ;; esac
  if [ "$kind" = directory ]; then mkdir -- "$p" 2>/dev/null && ok=1; else ( set -C; : > "$p" ) 2>/dev/null && ok=1; fi
  if [ -n "$ok" ]; then
    printf 'OK %s\n%s\n' "$i" "$d"
    stat -c '%u %g %U %G %a %s' -- "$p"
    exit 0
  fi
  [ -e "$p" ] || [ -L "$p" ] || break
  i=$((i + 1))
done
if [ ! -e "$d" ]; then echo 'ERR 2'; elif [ ! -d "$d" ]; then echo 'ERR 20'; else echo 'ERR 13'; fi
"#;

/// The message Python's `OSError` gives for `errno` on `path`.
fn os_error(errno: u32, path: &str) -> String {
    let text = match errno {
        2 => "No such file or directory",
        20 => "Not a directory",
        _ => "Permission denied",
    };
    format!("[Errno {errno}] {text}: {}", sysutil::py_repr(path))
}

/// Runs `tempfile`, matching ansible.builtin.tempfile: `changed: true`, `path`, and
/// ansible-core's path info (`uid`, `gid`, `owner`, `group`, `mode`, `state`, `size`). A
/// `prefix` or `suffix` holding `/` fails with the module's message; a folder that is missing,
/// not a folder, or not writable fails with Python's `OSError` text. Check mode skips it, as
/// the module does not support check mode (`remote module (tempfile) does not support check
/// mode`: ansible-core names the module as the task wrote it, talon always `tempfile`).
///
/// Errors: [`ModuleError::BadArgs`] for bad arguments; [`ModuleError::Transport`]; those of
/// the Python path for a relative `path`.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let directory = a.choice("state")?.is_some_and(|s| s == "directory");
    let path = a.str("path")?;
    let prefix = a.str("prefix")?.unwrap_or_else(|| "ansible.".into());
    let suffix = a.str("suffix")?.unwrap_or_default();
    for (key, v) in [("prefix", &prefix), ("suffix", &suffix)] {
        if v.contains('/') {
            return Ok(ModuleOutcome::failed(format!(
                "{key} must be a valid file name component, got {}",
                sysutil::py_repr(v)
            )));
        }
    }
    if ctx.check {
        let mut out = ModuleOutcome::ok();
        out.skipped = true;
        out.msg = Some("remote module (tempfile) does not support check mode".into());
        return Ok(out);
    }
    let dir = path.clone().unwrap_or_default();
    if path.is_some() && !dir.starts_with('/') {
        return python_path(
            "ansible.builtin.tempfile",
            "tempfile",
            args,
            ctx,
            "a relative path",
        )
        .await;
    }
    let candidates = names(&prefix, &suffix, TRIES);
    if directory && path.is_some() && normpath(&join(&dir, &candidates[0])) != join(&dir, &candidates[0]) {
        // Python 3.11's mkdtemp returns the joined path as is, later ones normalise it.
        return python_path(
            "ansible.builtin.tempfile",
            "tempfile",
            args,
            ctx,
            "a path to normalise",
        )
        .await;
    }
    let mut argv = vec![
        dir.clone(),
        if directory { "directory" } else { "file" }.to_string(),
    ];
    argv.extend(candidates.iter().cloned());
    let out = sysutil::run_script(ctx, SCRIPT, &argv, None).await?;
    let stdout = out.stdout_str();
    let mut lines = stdout.lines();
    let head = lines.next().unwrap_or_default();
    if let Some(errno) = head.strip_prefix("ERR ") {
        let errno = errno.trim().parse().unwrap_or(13);
        return Ok(ModuleOutcome::failed(os_error(
            errno,
            &join(&dir, &candidates[0]),
        )));
    }
    let parsed = head
        .strip_prefix("OK ")
        .and_then(|i| i.trim().parse::<usize>().ok())
        .and_then(|i| candidates.get(i))
        .zip(lines.next())
        .zip(lines.next().map(|l| l.split(' ').collect::<Vec<_>>()));
    let Some(((name, folder), [uid, gid, owner, group, mode, size])) =
        parsed.as_ref().map(|((n, f), s)| ((*n, *f), s.as_slice()))
    else {
        return Ok(ModuleOutcome::failed(format!(
            "tempfile could not create a {} on the host: {}{}",
            if directory { "directory" } else { "file" },
            stdout.trim(),
            out.stderr_str().trim()
        )));
    };
    let folder = if path.is_some() {
        folder.to_string()
    } else {
        // gettempdir() answers an absolute, normalised folder.
        normpath(folder)
    };
    let joined = join(&folder, name);
    let reported = if directory { joined } else { normpath(&joined) };
    let num = |s: &str| s.parse::<u64>().unwrap_or_default();
    let principal = |name: &str, id: &str| {
        if name == "UNKNOWN" {
            id.to_string()
        } else {
            name.to_string()
        }
    };
    let mode = u32::from_str_radix(mode, 8).unwrap_or_default();
    Ok(ModuleOutcome::changed(true)
        .with("changed", true)
        .with("path", reported)
        .with("uid", num(uid))
        .with("gid", num(gid))
        .with("owner", principal(owner, uid))
        .with("group", principal(group, gid))
        .with("mode", format!("0{mode:03o}"))
        .with("state", if directory { "directory" } else { "file" })
        .with("size", num(size)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_pythons_shape_and_differ() {
        let n = names("ansible.", ".conf", 16);
        for name in &n {
            let mid = name
                .strip_prefix("ansible.")
                .unwrap()
                .strip_suffix(".conf")
                .unwrap();
            assert_eq!(mid.len(), 8, "{name}");
            assert!(mid.bytes().all(|b| CHARS.contains(&b)), "{name}");
        }
        let mut unique = n.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), n.len());
    }

    #[test]
    fn repr_as_python() {
        assert_eq!(sysutil::py_repr("a/b"), "'a/b'");
        assert_eq!(sysutil::py_repr("it's/x"), "\"it's/x\"");
        assert_eq!(sysutil::py_repr("a'\"/"), "'a\\'\"/'");
        assert_eq!(sysutil::py_repr("a\\b\n"), "'a\\\\b\\n'");
    }

    #[test]
    fn paths_join_and_normalise_as_python() {
        assert_eq!(join("/tmp", "x"), "/tmp/x");
        assert_eq!(join("/tmp/", "x"), "/tmp/x");
        assert_eq!(join("/", "x"), "/x");
        assert_eq!(normpath("/tmp//x"), "/tmp/x");
        assert_eq!(normpath("/tmp/./a/../x"), "/tmp/x");
        assert_eq!(normpath("//tmp/x"), "//tmp/x");
        assert_eq!(normpath("///tmp/x/"), "/tmp/x");
        assert_eq!(normpath("/.."), "/");
    }

    #[test]
    fn os_errors_as_python() {
        assert_eq!(
            os_error(2, "/nonexistent/ansible.abc"),
            "[Errno 2] No such file or directory: '/nonexistent/ansible.abc'"
        );
        assert_eq!(
            os_error(20, "/etc/passwd/x"),
            "[Errno 20] Not a directory: '/etc/passwd/x'"
        );
    }
}
