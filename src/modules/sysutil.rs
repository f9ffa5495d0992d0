//! Helpers shared by the system modules (`command`, `shell`, `wait_for`, `apt`, `service`,
//! `user`, `group`, ...): timestamps formatted like Python's `datetime`, and running small POSIX
//! `sh` scripts on the host with their data passed as positional arguments (never spliced into
//! the script text), so that one check or one change is one round trip.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::{ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::ExecOutput;

/// Builds a [`ModuleError::BadArgs`] for `module`.
pub fn bad(module: &'static str, message: impl Into<String>) -> ModuleError {
    ModuleError::BadArgs {
        module,
        message: message.into(),
    }
}

/// Splits text into lines like Python's `str.splitlines()` for the usual separators (`\n`,
/// `\r\n`, `\r`): no trailing empty line. Used for `stdout_lines`/`stderr_lines`.
pub fn splitlines(s: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(i) => {
                out.push(Value::String(rest[..i].to_string()));
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
            None => {
                out.push(Value::String(rest.to_string()));
                break;
            }
        }
    }
    out
}

/// A fresh token for marking sections of a script's output: unlikely to appear in anything a
/// command prints by chance (not a secret).
pub fn marker() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("__talon_{:x}_{:x}_{:x}__", nanos, std::process::id(), n)
}

/// Splits `text` at lines of the form `MARKER NAME` into `(NAME, body)` pairs, in order.
/// Text before the first marker line is returned under the name `""`.
pub fn sections<'t>(text: &'t str, marker: &str) -> Vec<(&'t str, &'t str)> {
    let mut out = Vec::new();
    let mut name = "";
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end_matches('\n');
        if let Some(rest) = trimmed.strip_prefix(marker)
            && (rest.is_empty() || rest.starts_with(' '))
        {
            out.push((name, &text[start..pos]));
            name = rest.trim();
            start = pos + line.len();
        }
        pos += line.len();
    }
    out.push((name, &text[start..]));
    out
}

/// The body of section `name` from [`sections`], if present.
pub fn section<'t>(secs: &[(&'t str, &'t str)], name: &str) -> Option<&'t str> {
    secs.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Runs `script` with `/bin/sh -c SCRIPT talon ARGS...` on the host (as the task's `become`
/// user), so the data in `args` reaches the script as `$1...` and is never parsed as shell.
pub async fn run_script(
    ctx: &ModuleContext<'_>,
    script: &str,
    args: &[String],
    stdin: Option<Vec<u8>>,
) -> Result<ExecOutput, ModuleError> {
    let mut req = crate::transport::files::script_request(script, args, stdin, &ctx.become_);
    req.env = ctx.env.to_vec();
    Ok(ctx.conn.exec(&req).await?)
}

/// The result ansible-core's raw and script actions give a command that ran: `rc`, `stdout`,
/// `stderr` and their `_lines`, always changed; a non-zero `rc` fails with "non-zero return
/// code".
pub fn ran(out: &ExecOutput) -> ModuleOutcome {
    let rc = out.status.rc();
    let (stdout, stderr) = (out.stdout_str(), out.stderr_str());
    let lines = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
    let mut o = ModuleOutcome::changed(true)
        .with("rc", rc)
        .with("stdout_lines", lines(&stdout))
        .with("stderr_lines", lines(&stderr))
        .with("stdout", stdout)
        .with("stderr", stderr);
    if rc != 0 {
        o.failed = true;
        o.msg = Some("non-zero return code".into());
    }
    o
}

/// A shell function for a script whose marker is in `$M` and scratch folder in `$t`: `run NAME
/// CMD...` runs the command and prints its exit code, stdout and stderr under sections
/// `NAME_rc`, `NAME_out`, `NAME_err` (read back with [`ran_in`]), returning its exit code.
pub const RUN_FN: &str = r#"run() { n=$1; shift; "$@" >"$t/o" 2>"$t/e"; rc=$?; printf '%s %s_rc\n%s\n%s %s_out\n' "$M" "$n" "$rc" "$M" "$n"; cat "$t/o"; printf '%s %s_err\n' "$M" "$n"; cat "$t/e"; return $rc; }
"#;

/// How one command of [`RUN_FN`] ended.
#[derive(Debug, Clone)]
pub struct Ran {
    /// Its exit code.
    pub rc: i64,
    /// Its stdout.
    pub out: String,
    /// Its stderr.
    pub err: String,
}

/// The command `name` that [`RUN_FN`] ran, from the script's `secs`; `None` when it did not
/// run.
pub fn ran_in(secs: &[(&str, &str)], name: &str) -> Option<Ran> {
    let get = |part: &str| section(secs, &format!("{name}_{part}"));
    Some(Ran {
        rc: get("rc")?.trim().parse().ok()?,
        out: get("out")?.to_string(),
        err: get("err")?.to_string(),
    })
}

/// Joins argvs into one `sh` script that runs them in order and stops at the first failure
/// (`set -e`), each argument quoted on its own.
pub fn chain(cmds: &[Vec<String>]) -> String {
    let mut s = String::from("set -e\n");
    for c in cmds {
        s.push_str(&crate::transport::quote::join(c));
        s.push('\n');
    }
    s
}

/// The message ansible-core's `get_bin_path(required=True)` fails with when `tool` is not found:
/// `Failed to find required executable "TOOL" in paths: P1:P2`, the paths being the host's
/// `PATH` and then those of `/sbin`, `/usr/sbin`, `/usr/local/sbin` that exist and are not in it
/// already (matches ansible.module_utils.common.process.get_bin_path).
pub fn bin_path_missing(tool: &str, path: &str, sbin_existing: &[&str]) -> String {
    let mut paths: Vec<&str> = path.split(':').collect();
    for d in sbin_existing {
        if !paths.contains(d) {
            paths.push(d);
        }
    }
    format!(
        "Failed to find required executable \"{tool}\" in paths: {}",
        paths.join(":")
    )
}

/// A script fragment that prints, under section `path` of marker `$1`, the host's `PATH`, and
/// under `sbin` the sbin folders that exist, and under `tools` which of the given programs
/// `command -v` finds: what [`bin_path_missing`] needs.
pub fn tools_probe(tools: &[&str]) -> String {
    format!(
        "printf '%s path\\n' \"$1\"; printf '%s\\n' \"$PATH\"\n\
         printf '%s sbin\\n' \"$1\"; for d in /sbin /usr/sbin /usr/local/sbin; do [ -e \"$d\" ] && printf '%s\\n' \"$d\"; done\n\
         printf '%s tools\\n' \"$1\"; for t in {}; do command -v \"$t\" >/dev/null 2>&1 && printf '%s\\n' \"$t\"; done\n",
        tools.join(" ")
    )
}

/// With the output of [`tools_probe`] split into `secs`: `None` when `tool` was found, else
/// ansible-core's [`bin_path_missing`] message for it.
pub fn missing_tool(secs: &[(&str, &str)], tool: &str) -> Option<String> {
    let found = section(secs, "tools")
        .unwrap_or_default()
        .lines()
        .any(|l| l == tool);
    if found {
        return None;
    }
    let path = section(secs, "path").unwrap_or_default().trim_end_matches('\n');
    let sbin: Vec<&str> = section(secs, "sbin").unwrap_or_default().lines().collect();
    Some(bin_path_missing(tool, path, &sbin))
}

/// Adds `stdout`/`stdout_lines` and `stderr`/`stderr_lines` to a result when the commands
/// printed something (ansible.builtin.user and group return them only then; ansible-core's
/// action adds the `_lines`).
pub fn with_output(mut o: ModuleOutcome, stdout: &str, stderr: &str) -> ModuleOutcome {
    for (key, text) in [("stdout", stdout), ("stderr", stderr)] {
        if !text.is_empty() {
            o = o.with(key, text).with(&format!("{key}_lines"), splitlines(text));
        }
    }
    o
}

/// A script fragment for a script whose marker is in `$M`: temp files for one command's output
/// (removed on exit) and a shell function `step NAME CMD ARGS...` that runs the command and
/// prints its exit code, stdout and stderr as sections `NAME_rc`, `NAME_out`, `NAME_err`,
/// returning its exit code. Read one back with [`step`].
pub const STEP_FN: &str = r#"o=$(mktemp) && e=$(mktemp) || exit 20
trap 'rm -f -- "$o" "$e"' EXIT
step() { n=$1; shift; "$@" >"$o" 2>"$e"; rc=$?
  printf '%s %s_rc\n%s\n%s %s_out\n' "$M" "$n" "$rc" "$M" "$n"; cat -- "$o"
  printf '\n%s %s_err\n' "$M" "$n"; cat -- "$e"; printf '\n%s %s_end\n' "$M" "$n"; return $rc; }
"#;

/// How one command of [`STEP_FN`]'s `step` ended, as ansible-core's `run_command` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The exit code.
    pub rc: i64,
    /// stdout, whole.
    pub out: String,
    /// stderr, whole.
    pub err: String,
}

/// The `step NAME` of [`STEP_FN`] from a script's `secs`; `None` when it did not run.
pub fn step(secs: &[(&str, &str)], name: &str) -> Option<Step> {
    let rc = section(secs, &format!("{name}_rc"))?.trim().parse::<i64>().ok()?;
    let strip = |s: &str| s.strip_suffix('\n').unwrap_or(s).to_string();
    let out = strip(section(secs, &format!("{name}_out"))?);
    let err = strip(section(secs, &format!("{name}_err"))?);
    Some(Step { rc, out, err })
}

/// Python's `str(OSError)` for a failure to open `path` that the host's shell reported in
/// `shell_err` (`sh: 1: cannot create /x: Permission denied`): `[Errno N] TEXT: 'PATH'`, the
/// errno found from the C library's text at the end of the message. `None` when the text is
/// not one of the usual open failures.
pub fn python_os_error(shell_err: &str, path: &str) -> Option<String> {
    const KNOWN: &[(u32, &str)] = &[
        (2, "No such file or directory"),
        (13, "Permission denied"),
        (20, "Not a directory"),
        (21, "Is a directory"),
        (28, "No space left on device"),
        (30, "Read-only file system"),
        (1, "Operation not permitted"),
    ];
    let last = shell_err.trim_end().lines().last()?;
    let (errno, text) = KNOWN.iter().find(|(_, t)| last.ends_with(t))?;
    Some(format!("[Errno {errno}] {text}: {}", py_repr(path)))
}

/// A script fragment defining `binpath TOOL`: prints the path ansible-core's
/// `get_bin_path(TOOL)` finds (the first `PATH` entry, then `/sbin`, `/usr/sbin`,
/// `/usr/local/sbin` when they exist and are not in `PATH`, holding an executable that is not
/// a folder), or returns 1 when there is none.
pub const BIN_PATH_FN: &str = r#"binpath() { _p=$PATH
  for _d in /sbin /usr/sbin /usr/local/sbin; do case ":$PATH:" in *":$_d:"*) ;; *) [ -e "$_d" ] && _p="$_p:$_d" ;; esac; done
  _i=$IFS; IFS=:; for _d in $_p; do [ -n "$_d" ] || continue; _f="${_d%/}/$1"
    if [ -e "$_f" ] && [ ! -d "$_f" ] && [ -x "$_f" ]; then IFS=$_i; printf '%s\n' "$_f"; return 0; fi; done; IFS=$_i; return 1; }
"#;

/// The failure ansible-core's `run_command(..., check_rc=True)` gives a command `argv` that
/// exited non-zero: `msg` its stderr without trailing blanks, `cmd` the arguments as
/// `_clean_args` shows them, `rc`, `stdout`, `stderr` (and their `_lines`, as the action adds).
pub fn command_failure(argv: &[String], s: &Step) -> ModuleOutcome {
    ModuleOutcome::failed(log_sanitize(s.err.trim_end()))
        .with("cmd", clean_args(argv))
        .with("rc", s.rc)
        .with("stdout_lines", splitlines(&s.out))
        .with("stderr_lines", splitlines(&s.err))
        .with("stdout", s.out.as_str())
        .with("stderr", s.err.as_str())
}

/// ansible-core's `AnsibleModule._clean_args`: the argument after one that starts like a
/// password option (`-pass`, `--password`, ... without `=`) masked, `NAME=` values of such
/// options masked, each argument through [`log_sanitize`], joined with Python's `shlex.quote`.
pub fn clean_args(argv: &[String]) -> String {
    let mut out = Vec::with_capacity(argv.len());
    let mut masked = false;
    for arg in argv {
        if masked {
            masked = false;
            out.push("********".to_string());
            continue;
        }
        if is_passwd_arg(arg) {
            if let Some(i) = arg.find('=') {
                out.push(format!("{}=********", &arg[..i]));
                continue;
            }
            masked = true;
        }
        out.push(log_sanitize(arg));
    }
    crate::transport::quote::join(&out)
}

/// ansible-core's `PASSWD_ARG_RE` (`^[-]{0,2}pass[-]?(word|wd)?`) matches at the start of `arg`.
fn is_passwd_arg(arg: &str) -> bool {
    let rest = arg
        .strip_prefix("--")
        .or_else(|| arg.strip_prefix('-'))
        .unwrap_or(arg);
    rest.starts_with("pass")
}

/// ansible-core's `heuristic_log_sanitize` without `no_log` values: `user:PASSWORD@host` and
/// `scheme://user:PASSWORD@host` passwords become `********`.
pub fn log_sanitize(data: &str) -> String {
    let mut output: Vec<&str> = Vec::new();
    let mut begin = data.len();
    let mut prev_begin = begin;
    loop {
        let Some(end) = data[..begin].rfind('@') else {
            output.insert(0, &data[..begin]);
            break;
        };
        let mut sep_search_end = end;
        let sep = loop {
            begin = data[..sep_search_end].rfind("://").unwrap_or(0);
            let from = (begin + 3).min(end);
            if let Some(i) = data[from..end].find(':') {
                break Some(from + i);
            }
            if begin == 0 {
                break None;
            }
            sep_search_end = begin;
        };
        let Some(sep) = sep else {
            output.insert(0, &data[..prev_begin]);
            break;
        };
        output.insert(0, &data[end..prev_begin]);
        output.insert(0, "********");
        output.insert(0, &data[begin..=sep]);
        prev_begin = begin;
    }
    output.concat()
}

/// A script fragment (marker in `$M`) defining `readf NAME PATH`: prints section `NAME` with
/// `R` and the file's text plus a newline, or `E` and `cat`'s complaint. Read it back with
/// [`read_file_section`].
pub const READ_FILE_FN: &str = r#"readf() { printf '%s %s\n' "$M" "$1"; if [ -f "$2" ] && [ -r "$2" ]; then echo R; cat -- "$2"; printf '\n'; else echo E; cat -- "$2" 2>&1 >/dev/null; fi; }
"#;

/// A section of [`READ_FILE_FN`]'s `readf` for `path`: the file's text, or Python's
/// `str(OSError)` for opening it (`[Errno 2] No such file or directory: 'PATH'`).
pub fn read_file_section(body: &str, path: &str) -> Result<String, String> {
    match body.split_once('\n') {
        Some(("R", rest)) => Ok(rest.strip_suffix('\n').unwrap_or(rest).to_string()),
        _ => {
            Err(python_os_error(body, path).unwrap_or_else(|| format!("cannot read {path}: {}", body.trim())))
        }
    }
}

/// Formats a wall-clock time like Python's `str(datetime.datetime.now())`
/// (`2024-05-01 13:02:03.123456`), in UTC (talon does not read the controller's time zone).
pub fn format_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or_default();
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Formats a duration like Python's `str(datetime.timedelta)`: `0:00:01.002003`, or
/// `0:00:01` when there are no microseconds.
pub fn format_delta(d: Duration) -> String {
    let s = d.as_secs();
    let base = format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
    if d.subsec_micros() == 0 {
        base
    } else {
        format!("{base}.{:06}", d.subsec_micros())
    }
}

/// Days since 1970-01-01 -> (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A shell function `pathinfo PATH` for a script whose marker is in `$M`: prints section
/// `pathinfo` with what ansible-core's `add_path_info` reads (nothing when the path does not
/// exist): `uid gid user group` of the path itself (`lstat`, as `user_and_group`) and its
/// link count (following links, as `os.stat`), then `mode size type` of the path itself. Read it
/// back with [`path_info_of`].
pub const PATH_INFO_FN: &str = r#"pathinfo() { printf '%s pathinfo\n' "$M"; [ -e "$1" ] || return 0; printf '%s %s\n' "$(stat -c '%u %g %U %G' -- "$1")" "$(stat -L -c %h -- "$1")"; stat -c '%a %s %F' -- "$1"; }
"#;

/// The result fields ansible-core's `add_path_info` adds for a result naming a `path` or `dest`
/// (`uid`, `gid`, `owner`, `group`, `mode` as "0644", `state` (link, directory, hard when it
/// has several links, else file) and `size`), from the `pathinfo` section [`PATH_INFO_FN`]
/// printed; empty when the path did not exist. An unknown user or group is its number, as
/// Python's `str(uid)`.
pub fn path_info_of(section: &str) -> Vec<(&'static str, Value)> {
    let mut lines = section.lines();
    let (Some(ids), Some(own)) = (lines.next(), lines.next()) else {
        return Vec::new();
    };
    let ids: Vec<&str> = ids.split_whitespace().collect();
    let own: Vec<&str> = own.splitn(3, ' ').collect();
    if ids.len() < 5 || own.len() < 3 {
        return Vec::new();
    }
    let num = |s: &str| s.parse::<u64>().unwrap_or(0);
    let name = |name: &str, id: &str| {
        if name == "UNKNOWN" {
            id.to_string()
        } else {
            name.to_string()
        }
    };
    let mode = u32::from_str_radix(own[0], 8).unwrap_or(0);
    let state = match own[2] {
        "symbolic link" => "link",
        "directory" => "directory",
        _ if num(ids[4]) > 1 => "hard",
        _ => "file",
    };
    vec![
        ("uid", Value::from(num(ids[0]))),
        ("gid", Value::from(num(ids[1]))),
        ("owner", Value::from(name(ids[2], ids[0]))),
        ("group", Value::from(name(ids[3], ids[1]))),
        ("mode", Value::from(format!("0{mode:03o}"))),
        ("state", Value::from(state)),
        ("size", Value::from(num(own[1]))),
    ]
}

/// `out` with the fields of [`path_info_of`] (they replace a `state` the module returned, as
/// ansible-core's `add_path_info` does).
pub fn with_path_info(mut out: ModuleOutcome, info: Vec<(&'static str, Value)>) -> ModuleOutcome {
    for (k, v) in info {
        out = out.with(k, v);
    }
    out
}

/// Python's `repr()` of a string, as the module's messages show it: single quotes unless the
/// text holds one and no double quote; backslashes, the quote, and control characters escaped.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of a list of strings (`['/sbin', '/bin']`), as messages that format a
/// list show it.
pub fn py_list_repr(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| py_repr(s)).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splitlines_like_python() {
        assert_eq!(
            splitlines("a\nb\r\nc\rd\n"),
            vec![json!("a"), json!("b"), json!("c"), json!("d")]
        );
        assert!(splitlines("").is_empty());
        assert_eq!(splitlines("\n"), vec![json!("")]);
    }

    #[test]
    fn sections_split_on_marker_lines() {
        let t = "pre\nM a\n1\n2\nM b\nM c\n3";
        let s = sections(t, "M");
        assert_eq!(section(&s, ""), Some("pre\n"));
        assert_eq!(section(&s, "a"), Some("1\n2\n"));
        assert_eq!(section(&s, "b"), Some(""));
        assert_eq!(section(&s, "c"), Some("3"));
        assert_eq!(section(&s, "d"), None);
    }

    #[test]
    fn shell_open_failures_read_as_pythons_os_error() {
        assert_eq!(
            python_os_error(
                "sh: 1: cannot create /etc/hostname: Permission denied\n",
                "/etc/hostname"
            )
            .as_deref(),
            Some("[Errno 13] Permission denied: '/etc/hostname'")
        );
        assert_eq!(
            python_os_error("sh: 1: cannot create /x: Read-only file system", "/x").as_deref(),
            Some("[Errno 30] Read-only file system: '/x'")
        );
        assert_eq!(python_os_error("something else", "/x"), None);
    }

    #[test]
    fn command_lines_cleaned_as_ansible_core() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            clean_args(&v(&["/usr/sbin/iptables", "-m", "comment", "--comment", "a b"])),
            "/usr/sbin/iptables -m comment --comment 'a b'"
        );
        assert_eq!(
            clean_args(&v(&["x", "--password", "s3", "--pass=1", "passwd"])),
            "x --password '********' '--pass=********' passwd"
        );
        assert_eq!(log_sanitize("http://u:secret@host/x"), "http://u:********@host/x");
        assert_eq!(log_sanitize("u:pw@host"), "u:pw@host");
        assert_eq!(log_sanitize("a:b@c:d@e"), "a:b@c:********@e");
        assert_eq!(log_sanitize("x://a@b:c@d"), "x://a@b:********@d");
        assert_eq!(log_sanitize("://:@"), "://:********@");
        assert_eq!(log_sanitize(":@"), ":@");
        assert_eq!(log_sanitize("no at sign"), "no at sign");
        assert_eq!(log_sanitize("mail@example.com"), "mail@example.com");
    }

    #[test]
    fn times_like_python() {
        let t = UNIX_EPOCH + Duration::new(1_714_568_523, 123_456_000);
        assert_eq!(format_time(t), "2024-05-01 13:02:03.123456");
        assert_eq!(format_delta(Duration::from_micros(1_002_003)), "0:00:01.002003");
        assert_eq!(format_delta(Duration::from_secs(3725)), "1:02:05");
    }
}
