//! `sysctl` (`ansible.posix.sysctl`; ansible-core routes the short name to the collection): a
//! kernel setting kept in a sysctl file, optionally set in `/proc/sys` and reloaded, without
//! Python on the host. One round trip reads the current value (`sysctl -e -n NAME`) and the
//! file; the decision and the file's new lines come from [`decide`] and [`fix_lines`] (the
//! module's `process` and `fix_lines`); one more round trip sets, writes and reloads, in the
//! module's order, when something changes. Linux only (the module's other platforms, OpenBSD
//! and FreeBSD, run other commands).

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `sysctl`: `name`/`key`, `value`/`val`, `state`, `reload`, `sysctl_set`, `ignoreerrors`,
    /// `sysctl_file`.
    INFO,
    "sysctl",
    ArgSpec::new(&[
        ArgDef::str("name").aliases(&["key"]).required(),
        ArgDef::str("value").aliases(&["val"]),
        ArgDef::str("state").choices(&["present", "absent"]),
        ArgDef::bool("reload"),
        ArgDef::bool("sysctl_set"),
        ArgDef::bool("ignoreerrors"),
        ArgDef::path("sysctl_file"),
    ]),
    run
);

/// The module's `_parse_value`: a boolean word (`yes`, `on`, `true`, `t`, `y`, `1` and their
/// false twins, any case) becomes `1` or `0`; anything else is trimmed.
pub fn parse_value(value: &str) -> String {
    match value.to_lowercase().as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" => "1".into(),
        "n" | "no" | "off" | "0" | "false" | "f" => "0".into(),
        _ => value.trim().to_string(),
    }
}

/// The module's `_values_is_equal`: the same words (split on whitespace) in the same order.
pub fn values_equal(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.split_whitespace().eq(b.split_whitespace()))
}

/// A sysctl file as the module reads it: every line trimmed, and the last value of each key
/// (`key = value` with both sides trimmed; blank lines, `#`/`;` comments and lines without
/// `=` hold none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SysctlFile {
    /// The trimmed lines.
    pub lines: Vec<String>,
    /// The keys' values, the last line of a key winning.
    pub values: std::collections::HashMap<String, String>,
}

/// Splits a setting line into its trimmed key and value; `None` for lines that hold none.
fn setting(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
        return None;
    }
    t.split_once('=').map(|(k, v)| (k.trim(), v.trim()))
}

/// The module's `read_sysctl_file` (its lines by Python's `readlines` of a text file, `\r\n`
/// and `\r` read as `\n`; each stripped).
pub fn read_file(text: &str) -> SysctlFile {
    let mut f = SysctlFile::default();
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    for line in text.split_inclusive('\n') {
        let line = line.trim();
        if let Some((k, v)) = setting(line) {
            f.values.insert(k.to_string(), v.to_string());
        }
        f.lines.push(line.to_string());
    }
    f
}

/// The module's `fix_lines`: comments, blank and other lines kept; every setting rewritten as
/// `key=value`, a key's later lines dropped; `name` given `value` where it first stands (or
/// dropped when absent), appended when missing and present. The text written has each line
/// trimmed and ending in `\n`.
pub fn fix_lines(file: &SysctlFile, name: &str, value: &str, present: bool) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::new();
    for line in &file.lines {
        let Some((k, v)) = setting(line) else {
            out.push_str(line.trim());
            out.push('\n');
            continue;
        };
        if seen.contains(&k) {
            continue;
        }
        seen.push(k);
        if k == name {
            if present {
                out.push_str(format!("{k}={value}").trim());
                out.push('\n');
            }
        } else {
            out.push_str(format!("{k}={v}").trim());
            out.push('\n');
        }
    }
    if present && !seen.contains(&name) {
        out.push_str(format!("{name}={value}").trim());
        out.push('\n');
    }
    out
}

/// What the module's `process` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    /// The task reports a change.
    pub changed: bool,
    /// `sysctl -w` sets the value.
    pub set_proc: bool,
    /// The file is rewritten.
    pub write_file: bool,
}

/// The module's `process` decision: `proc` the current value (`None` when `sysctl -e -n`
/// failed), `in_file` the file's value for the key.
pub fn decide(
    proc: Option<&str>,
    in_file: Option<&str>,
    value: &str,
    present: bool,
    reload: bool,
    sysctl_set: bool,
) -> Decision {
    let mut d = Decision::default();
    match in_file {
        None if present => {
            d.changed = true;
            d.write_file = true;
        }
        None => {}
        Some(f) if !f.is_empty() && !present => {
            d.changed = true;
            d.write_file = true;
        }
        Some(f) if f != value => {
            d.changed = true;
            d.write_file = true;
        }
        Some(_) if reload && !values_equal(proc, value) => d.changed = true,
        Some(_) => {}
    }
    if sysctl_set && present {
        if proc.is_none() {
            d.changed = true;
        } else if !values_equal(proc, value) {
            d.changed = true;
            d.set_proc = true;
        }
    }
    d
}

/// The module's `_stderr_failed`: a `setting key "...": Invalid argument` or `Read-only file
/// system` line on stderr fails the command even with exit code 0.
pub fn stderr_failed(err: &str) -> bool {
    err.lines().any(|l| {
        l.strip_prefix("sysctl: setting key \"").is_some_and(|rest| {
            rest.split_once("\": ").is_some_and(|(key, why)| {
                !key.is_empty()
                    && !key.contains('"')
                    && matches!(why, "Invalid argument" | "Read-only file system")
            })
        })
    })
}

/// Reads, in one trip: the kernel's name, whether `sysctl` is there, `sysctl -e -n $2` (its exit code and
/// output, in the C locale), and the file `$3` when it is a regular file.
const READ: &str = r#"printf '%s os\n' "$1"; uname -s
if command -v sysctl >/dev/null 2>&1; then
  v=$(LANG=C LC_ALL=C LC_MESSAGES=C sysctl -e -n "$2" 2>/dev/null; r=$?; echo x; exit $r); rc=$?
  printf '%s rc\n%s\n%s proc\n%s\n' "$1" "$rc" "$1" "${v%x}"
fi
printf '%s file\n' "$1"; if [ -f "$3" ]; then cat -- "$3"; fi; printf '\n'
"#;

/// Sets (`$2` = 1: `sysctl [-e] -w $5`), writes stdin over the real path of `$3` (`$2` = 1 in
/// `$6`; through a temp file beside it with the old file's owner and mode, or the umask's for
/// a new one) and reloads (`$7` = 1: `sysctl [-e] -p $3`), stopping at the first failure;
/// `$4` = `-e` for `ignoreerrors`. Each command's exit code, stdout and stderr under marker
/// `$1`.
const WRITE: &str = r#"m=$1; o=$(mktemp) && e=$(mktemp) || exit 20
trap 'rm -f -- "$o" "$e"' EXIT
step() { n=$1; shift; LANG=C LC_ALL=C LC_MESSAGES=C "$@" >"$o" 2>"$e"; rc=$?
  printf '%s %s_rc\n%s\n%s %s_out\n' "$m" "$n" "$rc" "$m" "$n"; cat -- "$o"
  printf '\n%s %s_err\n' "$m" "$n"; cat -- "$e"; printf '\n%s %s_end\n' "$m" "$n"; return $rc; }
if [ "$2" = 1 ]; then if [ -n "$4" ]; then step set sysctl -e -w "$5"; else step set sysctl -w "$5"; fi
  [ "$rc" = 0 ] || exit 0
  ! grep -Eq '^sysctl: setting key "[^"]+": (Invalid argument|Read-only file system)$' "$e" || exit 0; fi
if [ "$6" = 1 ]; then
  real=$(realpath -m -- "$3") || exit 21
  t=$(mktemp "$(dirname -- "$real")/.ansible_m_sysctl_XXXXXXXX.conf") || exit 22
  cat > "$t" || { rm -f -- "$t"; exit 23; }
  if [ -e "$real" ]; then chown --reference="$real" -- "$t" 2>/dev/null; chmod --reference="$real" -- "$t"
  else chmod "$(printf '%o' $(( 0666 & ~0$(umask) )))" -- "$t"; fi
  mv -f -- "$t" "$real" || { rm -f -- "$t"; exit 24; }
fi
if [ "$7" = 1 ]; then if [ -n "$4" ]; then step reload sysctl -e -p "$3"; else step reload sysctl -p "$3"; fi; fi
exit 0
"#;

/// Runs `sysctl`. Result (matches ansible.posix.sysctl's `main`): `changed` only. Failures with
/// the module's messages: `value` missing or blank for present ("state is present but all of
/// the following are missing: value", "value cannot be blank"), a blank `name`, no `sysctl`
/// program, "setting NAME failed: OUT ERR", "Failed to reload sysctl: OUT ERR".
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`]
/// when the host connection broke.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let raw_name = a.req_str("name")?;
    let raw_value = a.str("value")?;
    let present = a.choice("state")?.as_deref() != Some("absent");
    let reload = a.bool("reload", true)?;
    let sysctl_set = a.bool("sysctl_set", false)?;
    let ignoreerrors = a.bool("ignoreerrors", false)?;
    let file = a.str("sysctl_file")?.unwrap_or_else(|| "/etc/sysctl.conf".into());
    if present && raw_value.is_none() {
        return Ok(ModuleOutcome::failed(
            "state is present but all of the following are missing: value",
        ));
    }
    if raw_name.is_empty() {
        return Ok(ModuleOutcome::failed("name cannot be blank"));
    }
    if present && raw_value.as_deref() == Some("") {
        return Ok(ModuleOutcome::failed("value cannot be blank"));
    }
    let name = raw_name.trim().to_string();
    let value = raw_value.as_deref().map(parse_value).unwrap_or_default();

    let m = sysutil::marker();
    let script = format!("{}{READ}", sysutil::tools_probe(&["sysctl"]));
    let out = sysutil::run_script(ctx, &script, &[m.clone(), name.clone(), file.clone()], None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let os = sysutil::section(&secs, "os").unwrap_or_default().trim();
    if os != "Linux" {
        // The module runs other commands on OpenBSD and FreeBSD.
        return Ok(ModuleOutcome::failed(format!(
            "talon's native sysctl supports Linux hosts only (this host's kernel: {os:?}); ansible.posix.sysctl runs other commands there"
        )));
    }
    if let Some(msg) = sysutil::missing_tool(&secs, "sysctl") {
        return Ok(ModuleOutcome::failed(msg));
    }
    let (Some(rc), Some(proc), Some(content)) = (
        sysutil::section(&secs, "rc"),
        sysutil::section(&secs, "proc"),
        sysutil::section(&secs, "file"),
    ) else {
        return Ok(ModuleOutcome::failed(format!(
            "cannot read {name} and {file} on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        )));
    };
    // The value as the module's run_command returns it: stdout whole (the script's `x` kept
    // its trailing newlines; the marker line adds one).
    let proc = (rc.trim() == "0").then(|| proc.strip_suffix('\n').unwrap_or(proc));
    let content = content.strip_suffix('\n').unwrap_or(content);
    let parsed = read_file(content);
    let d = decide(
        proc,
        parsed.values.get(&name).map(String::as_str),
        &value,
        present,
        reload,
        sysctl_set,
    );
    let outcome = ModuleOutcome::changed(d.changed);
    let reload_now = d.changed && reload;
    if ctx.check || !(d.set_proc || d.write_file || reload_now) {
        return Ok(outcome);
    }
    // The module's set_token_value quotes a value with words in it for its shell-like split.
    let assignment = format!("{name}={value}");
    let flag = |b: bool| if b { "1" } else { "0" }.to_string();
    let wargs = [
        m.clone(),
        flag(d.set_proc),
        file.clone(),
        if ignoreerrors { "-e".into() } else { String::new() },
        assignment,
        flag(d.write_file),
        flag(reload_now),
    ];
    let new = fix_lines(&parsed, &name, &value, present);
    let out = sysutil::run_script(ctx, WRITE, &wargs, Some(new.into_bytes())).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let step = |n: &str| {
        let rc = sysutil::section(&secs, &format!("{n}_rc"))?
            .trim()
            .parse::<i64>()
            .ok()?;
        let o = sysutil::section(&secs, &format!("{n}_out"))?;
        let e = sysutil::section(&secs, &format!("{n}_err"))?;
        let strip = |s: &str| s.strip_suffix('\n').unwrap_or(s).to_string();
        Some((rc, strip(o), strip(e)))
    };
    if let Some((rc, o, e)) = step("set")
        && (rc != 0 || stderr_failed(&e))
    {
        return Ok(ModuleOutcome::failed(format!("setting {name} failed: {o}{e}")));
    }
    if !out.status.success() {
        return Ok(ModuleOutcome::failed(format!(
            "Failed to write to file {file}: {}",
            out.stderr_str().trim()
        )));
    }
    if let Some((rc, o, e)) = step("reload")
        && (rc != 0 || stderr_failed(&e))
    {
        return Ok(ModuleOutcome::failed(format!("Failed to reload sysctl: {o}{e}")));
    }
    Ok(outcome)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_the_module_reads_them() {
        assert_eq!(parse_value("yes"), "1");
        assert_eq!(parse_value("True"), "1");
        assert_eq!(parse_value("OFF"), "0");
        assert_eq!(parse_value(" 5 "), "5");
        assert_eq!(parse_value("4 4 1 7"), "4 4 1 7");
        assert_eq!(parse_value("10"), "10");
    }

    #[test]
    fn proc_values_compare_word_by_word() {
        assert!(values_equal(Some("4\t4\t1\t7\n"), "4 4 1 7"));
        assert!(values_equal(Some("60\n"), "60"));
        assert!(!values_equal(Some("60\n"), "6"));
        assert!(!values_equal(Some(""), "1"));
        assert!(!values_equal(None, "1"));
        assert!(values_equal(Some("\n"), ""));
    }

    #[test]
    fn files_are_read_with_the_last_value_winning() {
        let f = read_file("# c\n ; d\nkernel.panic = 3\n\n a=1\nkernel.panic=4\nnot a setting\n#x=1\n");
        assert_eq!(f.values.get("kernel.panic").map(String::as_str), Some("4"));
        assert_eq!(f.values.get("a").map(String::as_str), Some("1"));
        assert!(!f.values.contains_key("#x"));
        assert_eq!(f.lines[1], "; d");
        assert_eq!(f.lines.len(), 8);
    }

    #[test]
    fn fixed_lines_normalise_and_drop_later_duplicates() {
        let f = read_file("# c\nkernel.panic = 3\nb=2\nkernel.panic=4\n\nnot a setting\n");
        assert_eq!(
            fix_lines(&f, "vm.swappiness", "10", true),
            "# c\nkernel.panic=3\nb=2\n\nnot a setting\nvm.swappiness=10\n"
        );
        assert_eq!(
            fix_lines(&f, "kernel.panic", "5", true),
            "# c\nkernel.panic=5\nb=2\n\nnot a setting\n"
        );
        assert_eq!(
            fix_lines(&f, "b", "", false),
            "# c\nkernel.panic=3\n\nnot a setting\n"
        );
        assert_eq!(fix_lines(&read_file(""), "a", "1", true), "a=1\n");
        // Universal newlines: a CR ends a line too.
        assert_eq!(
            fix_lines(&read_file("a=1\r\nb = 2\rc=3"), "d", "4", true),
            "a=1\nb=2\nc=3\nd=4\n"
        );
    }

    #[test]
    fn decisions_follow_the_modules_process() {
        let d = |proc, file, value, present, reload, set| decide(proc, file, value, present, reload, set);
        // Missing in the file: written.
        assert_eq!(
            d(Some("60\n"), None, "10", true, false, false),
            Decision {
                changed: true,
                set_proc: false,
                write_file: true
            }
        );
        // Absent and missing: nothing.
        assert_eq!(d(Some("60\n"), None, "", false, true, false), Decision::default());
        // Absent and there: written.
        assert!(d(None, Some("1"), "", false, false, false).write_file);
        // The same in the file, /proc differs: a change only with reload.
        assert_eq!(
            d(Some("60\n"), Some("10"), "10", true, false, false),
            Decision::default()
        );
        assert_eq!(
            d(Some("60\n"), Some("10"), "10", true, true, false),
            Decision {
                changed: true,
                set_proc: false,
                write_file: false
            }
        );
        assert_eq!(
            d(Some("10\n"), Some("10"), "10", true, true, false),
            Decision::default()
        );
        // sysctl_set: set when /proc differs; an unreadable key is a change without a set.
        assert_eq!(
            d(Some("60\n"), Some("10"), "10", true, false, true),
            Decision {
                changed: true,
                set_proc: true,
                write_file: false
            }
        );
        assert_eq!(
            d(None, Some("10"), "10", true, false, true),
            Decision {
                changed: true,
                set_proc: false,
                write_file: false
            }
        );
        // Absent with an empty file value: the module's reload comparison with ''.
        assert!(d(Some("60\n"), Some(""), "", false, true, false).changed);
    }

    #[test]
    fn stderr_failures_as_the_modules_regex() {
        assert!(stderr_failed(
            "x\nsysctl: setting key \"vm.a\": Invalid argument\n"
        ));
        assert!(stderr_failed("sysctl: setting key \"k\": Read-only file system"));
        assert!(!stderr_failed(
            "sysctl: permission denied on key \"vm.swappiness\"\n"
        ));
        assert!(!stderr_failed(
            "sysctl: setting key \"k\": Invalid argument (more)"
        ));
    }
}
