//! `authorized_key` (`ansible.posix.authorized_key`; ansible-core routes the short name to the
//! collection): SSH keys added to or removed from a user's `authorized_keys` without Python on
//! the host. One round trip reads the user, the key file (and a `file:` key source); the edit
//! is decided on the controller by [`super::ssh_keys::edit`] (the module's algorithm); one
//! more round trip writes (the `.ssh` folder made 0700 and owned by the user when
//! `manage_dir`, the file 0600 owned by the user, replaced atomically).
//!
//! As the module does, `manage_dir` with a `path` makes the path's folder 0700 and owned by
//! the user (give `manage_dir: false` for a path in a shared folder).
//!
//! A `key` that starts with `http` is fetched on the host by the module: talon refuses it (the
//! task fails, saying so) rather than fetch it otherwise.

use serde_json::{Value, json};

use super::ssh_keys::{KeyError, Want, edit, url_path};
use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{FileDiff, ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `authorized_key`: `user`, `key`, `path`, `manage_dir`, `state`, `key_options`,
    /// `exclusive`, `validate_certs`, `comment`, `follow`.
    INFO,
    "authorized_key",
    ArgSpec::new(&[
        ArgDef::str("user").required(),
        ArgDef::str("key").required(),
        ArgDef::path("path"),
        ArgDef::bool("manage_dir"),
        ArgDef::str("state").choices(&["absent", "present"]),
        ArgDef::str("key_options"),
        ArgDef::bool("exclusive"),
        ArgDef::str("comment"),
        ArgDef::bool("validate_certs"),
        ArgDef::bool("follow"),
    ]),
    run
);

/// Reads, in one trip: `$2`'s passwd entry, the key file (`$3`, else `~$2/.ssh/
/// authorized_keys`) and its real path, a `file:` key source (`$4`), and the path info of
/// `$3`. Sections under marker `$1`.
const READ: &str = r#"m=$1
printf '%s pw\n' "$m"; getent passwd -- "$2" | head -n 1
kf=$3
if [ -z "$kf" ]; then
  home=$(getent passwd -- "$2" | head -n 1 | cut -d: -f6)
  case $home in "") sd=.ssh ;; */) sd="${home}.ssh" ;; *) sd="$home/.ssh" ;; esac
  kf="$sd/authorized_keys"
fi
printf '%s keyfile\n%s\n' "$m" "$kf"
printf '%s real\n' "$m"; realpath -m -- "$kf" 2>/dev/null || printf '%s\n' "$kf"
if [ -n "$4" ]; then
  printf '%s source\n' "$m"
  if [ ! -e "$4" ]; then echo missing; elif [ ! -f "$4" ]; then echo notfile; else
    echo file; printf '%s sourcetext\n' "$m"; cat -- "$4"; printf '\n'; fi
fi
printf '%s content\n' "$m"; if [ -f "$kf" ]; then cat -- "$kf"; fi; printf '\n'
"#;

/// Prints, under marker `$m`, section `info` with the path info of `$1` when it exists:
/// `UID GID OWNER GROUP MODE SIZE` of lstat, then `link`/`directory`/`hard`/`file`.
const INFO_FN: &str = r#"info() { [ -e "$1" ] || return 0; printf '%s info\n' "$m"
  stat -c '%u %g %U %G %a %s' -- "$1"
  if [ -L "$1" ]; then echo link; elif [ -d "$1" ]; then echo directory
  elif [ "$(stat -L -c %h -- "$1")" -gt 1 ]; then echo hard; else echo file; fi; }
"#;

/// Writes stdin to the key file `$3` for uid `$4`, gid `$5` (the module's `keyfile(write=True)`
/// and `writefile`): `$2` (the `.ssh` folder, when `manage_dir`) made 0700 and owned by the
/// user; a missing file created (its folder too), owned by the user, 0600; the text written
/// to a temp file beside it with the file's owner and mode and renamed over it.
const WRITE: &str = r#"m=$1
if [ -n "$2" ]; then
  if [ ! -e "$2" ]; then mkdir -m 0700 -- "$2" || exit 10; fi
  chown -- "$4:$5" "$2" && chmod 0700 -- "$2" || exit 11
fi
if [ ! -e "$3" ]; then d=$(dirname -- "$3"); [ -e "$d" ] || mkdir -p -- "$d" || exit 12; : > "$3" || exit 13; fi
chown -- "$4:$5" "$3" 2>/dev/null; chmod 0600 -- "$3" 2>/dev/null
t=$(mktemp "$(dirname -- "$3")/.talon_authorized_keys.XXXXXX") || exit 14
cat > "$t" || { rm -f -- "$t"; exit 15; }
chown --reference="$3" -- "$t" 2>/dev/null; chmod --reference="$3" -- "$t" 2>/dev/null
mv -f -- "$t" "$3" || { rm -f -- "$t"; exit 16; }
"#;

/// A passwd entry's uid, gid and home, when it names `user` (`getent passwd 0` answers for
/// uid 0; the module's `pwd.getpwnam` does not).
fn passwd_entry(text: &str, user: &str) -> Option<(String, String)> {
    let line = text.lines().next()?;
    let f: Vec<&str> = line.split(':').collect();
    (f.len() >= 7 && f[0] == user).then(|| (f[2].to_string(), f[3].to_string()))
}

/// The path info ansible-core's `add_path_info` adds to a result with a `path` that exists
/// (`uid`, `gid`, `owner`, `group`, `mode`, `size`, and `state` replaced by the path's kind),
/// from the `info` section [`INFO_FN`] prints.
fn add_path_info(mut o: ModuleOutcome, info: Option<&str>) -> ModuleOutcome {
    let Some(info) = info else { return o };
    let mut lines = info.lines();
    let (Some(st), Some(kind)) = (lines.next(), lines.next()) else {
        return o;
    };
    let f: Vec<&str> = st.split(' ').collect();
    if f.len() != 6 {
        return o;
    }
    let num = |s: &str| s.parse::<u64>().map(Value::from).unwrap_or(Value::Null);
    let name = |n: &str, id: &str| {
        if n == "UNKNOWN" {
            id.to_string()
        } else {
            n.to_string()
        }
    };
    let mode = u32::from_str_radix(f[4], 8).unwrap_or_default();
    o = o
        .with("uid", num(f[0]))
        .with("gid", num(f[1]))
        .with("owner", name(f[2], f[0]))
        .with("group", name(f[3], f[1]))
        .with("mode", format!("0{mode:03o}"))
        .with("state", kind)
        .with("size", num(f[5]));
    o
}

/// Runs `authorized_key`. Result (matches ansible.posix.authorized_key's `enforce_state`):
/// the module's parameters (`user`, `key`, `path`, `manage_dir`, `state`, `key_options`,
/// `exclusive`, `comment`, `validate_certs`, `follow`), `keyfile`, `changed`, with `--diff`
/// its `diff` (`before_header` the key file, `after_header` its real path with `follow`), and
/// ansible-core's path info when `path` exists. Check mode with a `path` needs no user.
/// Failures with the module's messages: a missing user ("Failed to lookup user ..."; in check
/// mode without `path`, "Either user must exist ..."), an invalid key line, a missing `file:`
/// key source; a key starting with `http` is refused (the module fetches it on the host).
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`]
/// when the host connection broke.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let user = a.req_str("user")?;
    let key_param = a.req_str("key")?;
    let path = a.str("path")?;
    let manage_dir = a.bool("manage_dir", true)?;
    let state = a.choice("state")?.unwrap_or_else(|| "present".into());
    let key_options = a.str("key_options")?;
    let exclusive = a.bool("exclusive", false)?;
    let comment = a.str("comment")?;
    let validate_certs = a.bool("validate_certs", true)?;
    let follow = a.bool("follow", false)?;

    if key_param.starts_with("http") {
        return Ok(ModuleOutcome::failed(format!(
            "talon's native authorized_key does not fetch keys from URLs ({key_param}): \
             ansible.posix.authorized_key fetches them on the host; give the keys' text in `key` \
             (e.g. from lookup('url', ...))"
        )));
    }
    let source = key_param
        .starts_with("file")
        .then(|| url_path(&key_param).to_string());
    let m = sysutil::marker();
    let script = format!("{INFO_FN}{READ}[ -n \"$3\" ] && info \"$3\"\n");
    let read_args = [
        m.clone(),
        user.clone(),
        path.clone().unwrap_or_default(),
        source.clone().unwrap_or_default(),
    ];
    let out = sysutil::run_script(ctx, &script, &read_args, None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let sec = |n: &str| sysutil::section(&secs, n);
    let Some(content) = sec("content") else {
        return Ok(ModuleOutcome::failed(format!(
            "cannot read the key file on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        )));
    };
    let existing = content.strip_suffix('\n').unwrap_or(content);

    // The key text, from `file:` on the host when so given.
    let mut key = key_param.clone();
    if let Some(src) = &source {
        match sec("source").map(str::trim) {
            Some("file") => {
                let t = sec("sourcetext").unwrap_or_default();
                key = t.strip_suffix('\n').unwrap_or(t).to_string();
            }
            Some("notfile") => {
                return Ok(ModuleOutcome::failed(format!(
                    "Path to a key is a directory and must be a file: {src}"
                )));
            }
            _ => {
                return Ok(ModuleOutcome::failed(format!(
                    "Path to a key file not found: {src}"
                )));
            }
        }
    }

    // The module's keyfile(): check mode with a path asks nothing of the user.
    let pw = passwd_entry(sec("pw").unwrap_or_default(), &user);
    let line = |n: &str| sec(n).unwrap_or_default().trim_end_matches('\n').to_string();
    let keyfile = line("keyfile");
    if pw.is_none() && !(ctx.check && path.is_some()) {
        let msg = if ctx.check {
            "Either user must exist or you must provide full path to key file in check mode".to_string()
        } else {
            let e = format!("getpwnam(): name not found: {}", sysutil::py_repr(&user));
            format!("Failed to lookup user {user}: {}", sysutil::py_repr(&e))
        };
        return Ok(ModuleOutcome::failed(msg));
    }
    let filename = if follow { line("real") } else { keyfile.clone() };

    let want = Want {
        keys: &key,
        key_options: key_options.as_deref(),
        comment: comment.as_deref(),
        present: state == "present",
        exclusive,
    };
    let new = match edit(existing, &want) {
        Ok(n) => n,
        Err(e @ (KeyError::Invalid(_) | KeyError::NoKeyAfterType)) => {
            return Ok(ModuleOutcome::failed(e.to_string()));
        }
    };
    let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::from);
    let mut o = ModuleOutcome::changed(new.is_some())
        .with("user", user.clone())
        .with("key", key_param.clone())
        .with("path", opt(&path))
        .with("manage_dir", manage_dir)
        .with("state", state.clone())
        .with("key_options", opt(&key_options))
        .with("exclusive", exclusive)
        .with("comment", opt(&comment))
        .with("validate_certs", validate_certs)
        .with("follow", follow)
        .with("keyfile", keyfile.clone());
    let Some(new) = new else {
        return Ok(add_path_info(o, sec("info")));
    };
    if ctx.diff {
        o = o.with(
            "diff",
            json!({"before_header": keyfile, "after_header": filename, "before": existing, "after": new}),
        );
        o.diff.push(FileDiff {
            before_header: keyfile.clone(),
            after_header: filename.clone(),
            before: existing.to_string(),
            after: new.clone(),
            ..FileDiff::default()
        });
    }
    if ctx.check {
        return Ok(add_path_info(o, sec("info")));
    }
    let Some((uid, gid)) = pw else {
        return Ok(ModuleOutcome::failed(format!("Failed to lookup user {user}")));
    };
    let sshdir = match (&path, manage_dir) {
        (_, false) => String::new(),
        (None, true) => parent(&keyfile),
        (Some(p), true) => parent(p),
    };
    let m = sysutil::marker();
    let script = format!("{INFO_FN}{WRITE}[ -n \"$6\" ] && info \"$6\"\nexit 0\n");
    let wargs = [
        m.clone(),
        sshdir.clone(),
        filename.clone(),
        uid,
        gid,
        path.clone().unwrap_or_default(),
    ];
    let out = sysutil::run_script(ctx, &script, &wargs, Some(new.into_bytes())).await?;
    if !out.status.success() {
        let why = match out.status.rc() {
            10 => format!("Failed to create directory {sshdir}"),
            11 => format!("Failed to set the owner and mode of {sshdir}"),
            _ => format!("Failed to write to file {filename}"),
        };
        return Ok(ModuleOutcome::failed(format!(
            "{why} : {}",
            out.stderr_str().trim()
        )));
    }
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    Ok(add_path_info(o, sysutil::section(&secs, "info")))
}

/// Python's `os.path.dirname`.
fn parent(p: &str) -> String {
    match p.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => {
            let head = &p[..i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                "/".into()
            } else {
                trimmed.to_string()
            }
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_entries_must_name_the_user() {
        let root = "root:x:0:0:root:/root:/bin/bash\n";
        assert_eq!(passwd_entry(root, "root"), Some(("0".into(), "0".into())));
        // `getent passwd 0` answers with root: pwd.getpwnam("0") would not.
        assert_eq!(passwd_entry(root, "0"), None);
        assert_eq!(passwd_entry("", "root"), None);
        assert_eq!(passwd_entry("root:x:0\n", "root"), None);
    }

    #[test]
    fn python_reprs_pick_quotes_as_python() {
        assert_eq!(sysutil::py_repr("bob"), "'bob'");
        assert_eq!(
            sysutil::py_repr("getpwnam(): name not found: 'bob'"),
            "\"getpwnam(): name not found: 'bob'\""
        );
        assert_eq!(sysutil::py_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(sysutil::py_repr("a\\b\n"), "'a\\\\b\\n'");
    }

    #[test]
    fn path_info_as_add_path_info() {
        let o = add_path_info(
            ModuleOutcome::ok().with("state", "present"),
            Some("0 0 root root 600 51\nfile\n"),
        );
        assert_eq!(o.result.get("mode"), Some(&json!("0600")));
        assert_eq!(o.result.get("state"), Some(&json!("file")));
        assert_eq!(o.result.get("size"), Some(&json!(51)));
        let o = add_path_info(ModuleOutcome::ok(), Some("1234 5 UNKNOWN UNKNOWN 4755 9\nlink\n"));
        assert_eq!(o.result.get("owner"), Some(&json!("1234")));
        assert_eq!(o.result.get("group"), Some(&json!("5")));
        assert_eq!(o.result.get("mode"), Some(&json!("04755")));
        // No info (the path does not exist): the result as it was.
        let o = add_path_info(ModuleOutcome::ok().with("state", "present"), None);
        assert_eq!(o.result.get("state"), Some(&json!("present")));
    }

    #[test]
    fn parents_as_os_path_dirname() {
        assert_eq!(parent("/home/u/.ssh/authorized_keys"), "/home/u/.ssh");
        assert_eq!(parent("/keys"), "/");
        assert_eq!(parent("/a//b"), "/a");
        assert_eq!(parent("keys"), "");
    }
}
