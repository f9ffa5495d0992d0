//! `ansible.posix.mount` (also `mount`): fstab entries and mounts on Linux, matching the
//! collection's module step by step: the fstab is created when missing (in check mode too, as
//! the module does), its lines edited as the module edits them ([`super::fstab`]), then the
//! state's commands run with the host's `mount`/`umount`: `mounted` makes the missing folders,
//! writes the entry, mounts (or remounts an existing mount whose entry changed; on failure the
//! old fstab is put back and the new folders removed), `unmounted` unmounts, `absent` drops the
//! entry, unmounts and removes the folder, `remounted` remounts (falling back to umount and
//! mount), `ephemeral` mounts without fstab; a mount point is detected as the module does
//! (`ismount`, or a mount in `/proc/self/mountinfo`). Results: the module's `name`, `src`,
//! `fstype`, `opts`, `dump`, `passno`, `fstab`, `boot` (`yes`/`no`), `backup_file` and the
//! deprecation ansible-core 2.19 registers for the module's `warnings` argument; its failure
//! messages with the commands' output. One round trip to read, one to change.
//!
//! Runs the collection's module instead (the Python path): a host that is not Linux, a relative
//! `path` or `fstab`, an fstab that is not a UTF-8 text file with `\n` line ends, an unreadable
//! mountinfo, `ephemeral` on a path already mounted, a folder that cannot be made, and
//! `opts_no_log`. Difference: the fstab is rewritten in place as the module does, but through
//! the shell (`cat >`), keeping its owner and mode.

use serde_json::json;

use super::fstab::{self, Entry};
use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::transport::quote::{join, quote};
use crate::vars::Vars;

crate::module_info!(
    /// `mount`: `path`/`name`, `state`, `src`, `fstype`, `opts`, `dump`, `passno`, `fstab`,
    /// `boot`, `backup` (`opts_no_log` runs the collection's module).
    INFO,
    "mount",
    ArgSpec::new(&[
        ArgDef::path("path").aliases(&["name"]).required(),
        ArgDef::str("state")
            .choices(&[
                "absent",
                "absent_from_fstab",
                "mounted",
                "present",
                "unmounted",
                "remounted",
                "ephemeral",
            ])
            .required(),
        ArgDef::path("src"),
        ArgDef::str("fstype"),
        ArgDef::str("opts"),
        ArgDef::bool("opts_no_log"),
        ArgDef::str("dump"),
        ArgDef::str("passno"),
        ArgDef::str("fstab"),
        ArgDef::bool("backup"),
        ArgDef::bool("boot"),
    ])
    .python_for(&["opts_no_log"]),
    run
);

/// The probe: the system, the fstab created when asked (`$4` = 1) and missing, the path's
/// `lstat` and its parent's (`ismount`), mountinfo, the tools, the fstab's text last.
const PROBE: &str = r#"M=$1 P=$2 F=$3 C=$4
printf '%s os\n' "$M"; uname -s
if [ "$C" = 1 ] && [ ! -e "$F" ]; then
  d=$(dirname -- "$F")
  { [ -e "$d" ] || mkdir -p -- "$d"; } 2>/dev/null && : 2>/dev/null >> "$F" || { printf '%s createfail\n' "$M"; exit 0; }
fi
printf '%s path\n' "$M"
[ -e "$P" ] && echo E
if [ -L "$P" ]; then echo L
elif s=$(stat -c '%d %i' -- "$P" 2>/dev/null); then
  echo "S $s"; p=$(stat -c '%d %i' -- "$(realpath -m -- "$P/..")" 2>/dev/null) && echo "P $p"
fi
printf '%s mountinfo\n' "$M"
cat /proc/self/mountinfo 2>/dev/null || printf '%s nomountinfo\n' "$M"
"#;

/// The apply script's prelude: `M` the marker, `U` a name part unique to this run (the
/// module's PID in backup names), a scratch folder, `run CMD...` (output kept for `msg`), `msg`
/// (prints the last command's stdout then stderr), `put FILE BACKUP` (stdin into the file in
/// place, after a dated copy when BACKUP is 1: `FILE.U.YYYY-MM-DD@HH:MM:SS~`).
const PRELUDE: &str = r#"M=$1 U=$2
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
: > "$t/created"
run() { "$@" >"$t/o" 2>"$t/e"; }
msg() { cat "$t/o" "$t/e"; }
put() {
  if [ "$2" = 1 ] && [ -e "$1" ]; then
    b="$1.$U.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p -- "$1" "$b" || exit 1
    printf '%s backup\n%s\n' "$M" "$b"
  fi
  cat > "$1"
}
mkd() { [ -e "$1" ] && return 0; mkdir -- "$1" 2>/dev/null || { printf '%s mkdirfail\n' "$M"; exit 0; }; printf '%s\n' "$1" >> "$t/created"; }
unmk() { sed '1!G;h;$!d' "$t/created" | while IFS= read -r d; do rmdir -- "$d" 2>/dev/null; done; }
"#;

/// What the probe found.
struct Host {
    linux: bool,
    exists: bool,
    ismount: bool,
    mounts: Option<std::collections::HashMap<String, fstab::Mounted>>,
    fstab: Option<String>,
}

/// Runs `mount`. Results and failures as ansible.posix.mount's on Linux (see the module doc).
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit, or when a case handed to
/// the collection's module cannot take the Python path; [`ModuleError::Transport`] when the
/// host cannot be asked.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let state = a.req_str("state")?;
    let path = a.req_str("path")?;
    let src = a.str("src")?;
    let fstype = a.str("fstype")?;
    if matches!(state.as_str(), "mounted" | "present" | "ephemeral") {
        let missing: Vec<&str> = [("src", &src), ("fstype", &fstype)]
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect();
        if !missing.is_empty() {
            return Ok(ModuleOutcome::failed(format!(
                "state is {state} but all of the following are missing: {}",
                missing.join(", ")
            )));
        }
    }
    let fstab_given = a.str("fstab")?;
    let fstab_path = fstab_given.clone().unwrap_or_else(|| "/etc/fstab".into());
    // The path is looked at (ismount, its folders) in these states only.
    let uses_path = matches!(state.as_str(), "mounted" | "ephemeral" | "absent" | "unmounted");
    if (uses_path && !path.starts_with('/')) || (state != "ephemeral" && !fstab_path.starts_with('/')) {
        return python(args, ctx, "a relative path or fstab").await;
    }
    let boot = a.bool("boot", true)?;
    let mut opts = a.str("opts")?.unwrap_or_else(|| "defaults".into());
    let mut warnings = Vec::new();
    let opt_list: Vec<&str> = opts.split(',').collect();
    if boot && opt_list.contains(&"noauto") {
        warnings.push("Ignore the 'boot' due to 'opts' contains 'noauto'.".to_string());
    } else if !boot {
        opts.push_str(",noauto");
    }
    let entry = Entry {
        src: src.clone(),
        name: path.clone(),
        fstype: fstype.clone(),
        opts,
        dump: a.str("dump")?.unwrap_or_else(|| "0".into()),
        passno: a.str("passno")?.unwrap_or_else(|| "0".into()),
    };
    let backup = a.bool("backup", false)?;

    let m = sysutil::marker();
    let create = if state == "ephemeral" { "0" } else { "1" };
    let script = format!(
        "{PROBE}{}printf '%s fstab\\n' \"$M\"; [ -f \"$F\" ] && cat -- \"$F\"\n",
        sysutil::tools_probe(&["mount", "umount"])
    );
    let probe_args = [m.clone(), path.clone(), fstab_path.clone(), create.into()];
    let out = sysutil::run_script(ctx, &script, &probe_args, None).await?;
    let text = String::from_utf8(out.stdout.clone());
    let Ok(text) = text else {
        return python(args, ctx, "the fstab is not UTF-8").await;
    };
    let secs = sysutil::sections(&text, &m);
    if sysutil::section(&secs, "createfail").is_some() {
        return python(args, ctx, "the fstab could not be created").await;
    }
    let host = read_host(&secs);
    if !host.linux {
        return python(args, ctx, "the host is not Linux").await;
    }
    let Some(mounts) = &host.mounts else {
        return python(args, ctx, "/proc/self/mountinfo could not be read").await;
    };
    let fstab_text = host.fstab.clone().unwrap_or_default();
    if state != "ephemeral" && (host.fstab.is_none() || fstab_text.contains('\r')) {
        return python(args, ctx, "the fstab is not a text file with \\n line ends").await;
    }
    let mounted = |src: Option<&str>| host.ismount || fstab::is_bind_mounted(mounts, &path, src);

    let mut result = Result_ {
        entry: &entry,
        fstab: fstab_path.clone(),
        boot,
        backup_file: String::new(),
        warnings,
    };
    let missing_tools = ["mount", "umount"]
        .iter()
        .any(|t| sysutil::missing_tool(&secs, t).is_some());
    let fstab_args: Vec<String> = if fstab_path != "/etc/fstab" {
        vec!["-T".into(), fstab_path.clone()]
    } else {
        Vec::new()
    };
    let mut mount_cmd = vec!["mount".to_string()];
    if state == "ephemeral" {
        mount_cmd.extend(["-t".into(), fstype.clone().unwrap_or_default()]);
        if entry.opts != "defaults" {
            mount_cmd.extend(["-o".into(), entry.opts.clone()]);
        }
        mount_cmd.push(src.clone().unwrap_or_default());
    } else {
        mount_cmd.extend(fstab_args.iter().cloned());
    }
    mount_cmd.push(path.clone());
    let umount_cmd = vec!["umount".to_string(), path.clone()];
    let mut remount_cmd = vec!["mount".to_string(), "-o".into()];
    remount_cmd.push(if state == "remounted" && entry.opts != "defaults" {
        format!("remount,{}", entry.opts)
    } else {
        "remount".into()
    });
    remount_cmd.extend(fstab_args.iter().cloned());
    remount_cmd.push(path.clone());
    let remount_sh = remount_script(&remount_cmd, &umount_cmd, &mount_cmd, &state, &entry.opts);

    match state.as_str() {
        "present" | "absent_from_fstab" | "absent" => {
            let (new, changed) = if state == "present" {
                let Some((new, _, changed)) = fstab::set_mount(&fstab_text, &entry) else {
                    return Ok(ModuleOutcome::failed("src and fstype are required"));
                };
                (new, changed)
            } else {
                fstab::unset_mount(&fstab_text, &entry)
            };
            if !changed || ctx.check {
                return Ok(result.done(changed));
            }
            if missing_tools {
                return python(args, ctx, "the host has no mount or umount").await;
            }
            let mut s = format!("{PRELUDE}put {} {}\n", quote(&fstab_path), u8::from(backup));
            if state == "absent" {
                if mounted(None) {
                    s.push_str(&format!(
                        "run {} || {{ printf '%s umountfail\\n' \"$M\"; msg; exit 0; }}\n",
                        join(&umount_cmd)
                    ));
                }
                if host.exists {
                    s.push_str(&format!(
                        "rmdir -- {} 2>\"$t/e\" || {{ printf '%s rmdirfail\\n' \"$M\"; cat \"$t/e\"; }}\n",
                        quote(&path)
                    ));
                }
            }
            let secs_out = apply(ctx, &s, &m, new).await?;
            let secs = sysutil::sections(&secs_out, &m);
            if state == "present" {
                result.backup_file = backup_of(&secs);
            }
            if let Some(msg) = sysutil::section(&secs, "umountfail") {
                return Ok(ModuleOutcome::failed(format!("Error unmounting {path}: {msg}")));
            }
            if let Some(err) = sysutil::section(&secs, "rmdirfail") {
                return Ok(ModuleOutcome::failed(format!(
                    "Error rmdir {path}: {}",
                    py_os_error(err, &path)
                )));
            }
            Ok(result.done(true))
        }
        "unmounted" => {
            if !mounted(None) {
                return Ok(result.done(false));
            }
            if ctx.check {
                return Ok(result.done(true));
            }
            if missing_tools {
                return python(args, ctx, "the host has no mount or umount").await;
            }
            let s = format!(
                "{PRELUDE}run {} || {{ printf '%s umountfail\\n' \"$M\"; msg; }}\n",
                join(&umount_cmd)
            );
            let out = apply(ctx, &s, &m, String::new()).await?;
            let secs = sysutil::sections(&out, &m);
            if let Some(msg) = sysutil::section(&secs, "umountfail") {
                return Ok(ModuleOutcome::failed(format!("Error unmounting {path}: {msg}")));
            }
            Ok(result.done(true))
        }
        "remounted" => {
            if ctx.check {
                return Ok(result.done(true));
            }
            if missing_tools {
                return python(args, ctx, "the host has no mount or umount").await;
            }
            let s = format!("{PRELUDE}{remount_sh}");
            let out = apply(ctx, &s, &m, String::new()).await?;
            let secs = sysutil::sections(&out, &m);
            if let Some(msg) = sysutil::section(&secs, "optsfail") {
                return Ok(ModuleOutcome::failed(msg.trim_end()));
            }
            if let Some(msg) = sysutil::section(&secs, "fail") {
                return Ok(ModuleOutcome::failed(format!("Error remounting {path}: {msg}")));
            }
            Ok(result.done(true))
        }
        _ => {
            // mounted, ephemeral
            let ephemeral = state == "ephemeral";
            let is_mounted = mounted(src.as_deref());
            if ephemeral && is_mounted {
                return python(args, ctx, "an ephemeral mount on a path already mounted").await;
            }
            let (new, old, changed) = if ephemeral {
                (String::new(), String::new(), false)
            } else {
                match fstab::set_mount(&fstab_text, &entry) {
                    Some(r) => r,
                    None => return Ok(ModuleOutcome::failed("src and fstype are required")),
                }
            };
            let fstab_changed = changed;
            let changed = changed || !is_mounted;
            if ctx.check || !changed {
                return Ok(result.done(changed));
            }
            if missing_tools {
                return python(args, ctx, "the host has no mount or umount").await;
            }
            let mut s = String::from(PRELUDE);
            if !host.exists {
                for dir in components(&path) {
                    s.push_str(&format!("mkd {}\n", quote(&dir)));
                }
            }
            if fstab_changed {
                s.push_str(&format!("put {} {}\n", quote(&fstab_path), u8::from(backup)));
            }
            if is_mounted {
                s.push_str(&remount_sh);
            } else {
                s.push_str(&format!(
                    "run {} || {{ echo 1 > \"$t/failed\"; printf '%s fail\\n' \"$M\"; msg; }}\n",
                    join(&mount_cmd)
                ));
            }
            // On failure: the old fstab back (the module's write_fstab, backup again), the new
            // folders removed.
            s.push_str("if [ -s \"$t/failed\" ]; then\n");
            if !ephemeral {
                s.push_str(&format!(
                    "printf '%s' {} | put {} {} >/dev/null\n",
                    quote(&old),
                    quote(&fstab_path),
                    u8::from(backup)
                ));
            }
            s.push_str("unmk\nfi\n");
            let out = apply(ctx, &s, &m, new).await?;
            let secs = sysutil::sections(&out, &m);
            if sysutil::section(&secs, "mkdirfail").is_some() {
                return python(args, ctx, "a folder of the path could not be made").await;
            }
            if !ephemeral {
                result.backup_file = backup_of(&secs);
            }
            if let Some(msg) = sysutil::section(&secs, "optsfail") {
                return Ok(ModuleOutcome::failed(msg.trim_end()));
            }
            if let Some(msg) = sysutil::section(&secs, "fail") {
                return Ok(ModuleOutcome::failed(format!("Error mounting {path}: {msg}")));
            }
            Ok(result.done(true))
        }
    }
}

/// The module's `remount` as shell: `mount -o remount[,OPTS]`, else (unless `remounted` with
/// options, which fails with the module's message) `umount` then `mount`; a failure prints
/// section `fail` with the last command's output and marks `$t/failed`.
fn remount_script(
    remount: &[String],
    umount: &[String],
    mount: &[String],
    state: &str,
    opts: &str,
) -> String {
    let strict = if state == "remounted" && opts != "defaults" {
        "printf '%s optsfail\\n%s\\n' \"$M\" 'Options were specified with remounted, but the remount command failed. Failing in order to prevent an unexpected mount result. Try replacing this command with a \"state: unmounted\" followed by a \"state: mounted\" using the full desired mount options instead.'; echo 1 > \"$t/failed\"; exit 0\n"
    } else {
        ""
    };
    format!(
        "if ! run {}; then\n{strict}if run {}; then run {} || {{ echo 1 > \"$t/failed\"; printf '%s fail\\n' \"$M\"; msg; }}\n\
         else echo 1 > \"$t/failed\"; printf '%s fail\\n' \"$M\"; msg; fi\nfi\n",
        join(remount),
        join(umount),
        join(mount)
    )
}

/// The folders the module makes for `path`, outermost first (`/a`, `/a/b`, ...).
fn components(path: &str) -> Vec<String> {
    let mut cur = String::new();
    path.trim_matches('/')
        .split('/')
        .map(|d| {
            cur = format!("{cur}/{d}");
            cur.clone()
        })
        .collect()
}

/// Runs an apply script (`new` on stdin for `put`); its stdout.
async fn apply(ctx: &ModuleContext<'_>, script: &str, m: &str, new: String) -> Result<String, ModuleError> {
    let script_args = [m.to_string(), crate::transport::files::unique_suffix()];
    let out = sysutil::run_script(ctx, script, &script_args, Some(new.into_bytes())).await?;
    if !out.status.success() {
        return Err(sysutil::bad(
            "mount",
            format!("the change failed on {}: {}", ctx.host, out.stderr_str().trim()),
        ));
    }
    Ok(out.stdout_str().to_string())
}

/// The backup file a `put` made (the first one), or "".
fn backup_of(secs: &[(&str, &str)]) -> String {
    sysutil::section(secs, "backup")
        .map(|b| b.trim_end_matches('\n').to_string())
        .unwrap_or_default()
}

/// Python's `str(OSError)` for an `rmdir` failure message (`rmdir: failed to remove 'P':
/// REASON`): `[Errno N] REASON: 'P'`.
fn py_os_error(err: &str, path: &str) -> String {
    let reason = err.trim_end().rsplit(": ").next().unwrap_or_default();
    let errno = match reason {
        "Operation not permitted" => 1,
        "No such file or directory" => 2,
        "Permission denied" => 13,
        "Device or resource busy" => 16,
        "Not a directory" => 20,
        "Read-only file system" => 30,
        "Directory not empty" => 39,
        _ => 0,
    };
    format!("[Errno {errno}] {reason}: '{path}'")
}

/// What the probe printed.
fn read_host(secs: &[(&str, &str)]) -> Host {
    let linux = sysutil::section(secs, "os").is_some_and(|s| s.trim() == "Linux");
    let p = sysutil::section(secs, "path").unwrap_or_default();
    let exists = p.lines().any(|l| l == "E");
    let stat = |tag: &str| {
        p.lines()
            .find_map(|l| l.strip_prefix(tag))
            .map(|s| s.split_whitespace().map(str::to_string).collect::<Vec<_>>())
    };
    let ismount = match (stat("S "), stat("P ")) {
        (Some(s), Some(q)) if s.len() == 2 && q.len() == 2 => s[0] != q[0] || s[1] == q[1],
        _ => false,
    };
    let mounts = if sysutil::section(secs, "nomountinfo").is_some() {
        None
    } else {
        fstab::linux_mounts(sysutil::section(secs, "mountinfo").unwrap_or_default())
    };
    Host {
        linux,
        exists,
        ismount,
        mounts,
        fstab: sysutil::section(secs, "fstab").map(str::to_string),
    }
}

/// The module's `exit_json(changed=..., **args)` on Linux.
struct Result_<'e> {
    entry: &'e Entry,
    fstab: String,
    boot: bool,
    backup_file: String,
    warnings: Vec<String>,
}

impl Result_<'_> {
    fn done(self, changed: bool) -> ModuleOutcome {
        let e = self.entry;
        let mut o = ModuleOutcome::changed(changed)
            .with("name", e.name.clone())
            .with("opts", e.opts.clone())
            .with("dump", e.dump.clone())
            .with("passno", e.passno.clone())
            .with("fstab", self.fstab)
            .with("boot", if self.boot { "yes" } else { "no" })
            .with("backup_file", self.backup_file);
        if let Some(s) = &e.src {
            o = o.with("src", s.clone());
        }
        if let Some(f) = &e.fstype {
            o = o.with("fstype", f.clone());
        }
        for w in self.warnings {
            o = o.warn(w);
        }
        // ansible-core 2.19 deprecates the module's `warnings` argument to exit_json.
        o.with(
            "deprecations",
            json!([{
                "collection_name": "ansible.builtin",
                "deprecator": {"resolved_name": "ansible.builtin", "type": null},
                "msg": "Passing `warnings` to `exit_json` or `fail_json` is deprecated.",
                "version": "2.23",
            }]),
        )
    }
}

/// Hands the task to the collection's module (the Python path) because of `why`.
async fn python(args: &Vars, ctx: &ModuleContext<'_>, why: &str) -> Result<ModuleOutcome, ModuleError> {
    crate::modules::fallback::python_path("ansible.posix.mount", "mount", args, ctx, why).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_outermost_first() {
        assert_eq!(components("/mnt/a/b"), ["/mnt", "/mnt/a", "/mnt/a/b"]);
        assert_eq!(components("/x/"), ["/x"]);
    }

    #[test]
    fn rmdir_failures_as_python_words_them() {
        assert_eq!(
            py_os_error("rmdir: failed to remove '/m': Directory not empty\n", "/m"),
            "[Errno 39] Directory not empty: '/m'"
        );
    }
}
