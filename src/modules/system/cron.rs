//! `cron`: a job (under its `#Ansible: NAME` line) or an environment declaration in a user's
//! crontab (`crontab -l` / `crontab FILE`) or in a cron file (`cron_file`, under `/etc/cron.d`
//! unless absolute), as `ansible.builtin.cron` manages them, without Python on the host. One
//! round trip reads the crontab; the edit is decided on the controller with
//! [`super::crontab::CronTab`] (the module's class); one more writes it (two with `backup`).
//! Like the module, it needs the `crontab` program on the host even for a cron file.

use serde_json::{Value, json};

use super::crontab::{CronTab, JobSpec, cron_job};
use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{FileDiff, ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `cron`: `name`, `user`, `job`/`value`, `cron_file`, `state`, `backup`, `minute`,
    /// `hour`, `day`/`dom`, `month`, `weekday`/`dow`, `special_time`, `disabled`, `env`,
    /// `insertafter`, `insertbefore`.
    INFO,
    "cron",
    ArgSpec::new(&[
        ArgDef::str("name").required(),
        ArgDef::str("user"),
        ArgDef::str("job").aliases(&["value"]),
        ArgDef::path("cron_file"),
        ArgDef::str("state").choices(&["present", "absent"]),
        ArgDef::bool("backup"),
        ArgDef::str("minute"),
        ArgDef::str("hour"),
        ArgDef::str("day").aliases(&["dom"]),
        ArgDef::str("month"),
        ArgDef::str("weekday").aliases(&["dow"]),
        ArgDef::str("special_time")
            .choices(&["reboot", "yearly", "annually", "monthly", "weekly", "daily", "hourly"]),
        ArgDef::bool("disabled"),
        ArgDef::bool("env"),
        ArgDef::str("insertafter"),
        ArgDef::str("insertbefore"),
    ])
    .exclusive(&[&["insertafter", "insertbefore"]]),
    run
);

/// Reads, under marker `$1`: the kernel's name, whether `crontab` is there, the user running, and either the
/// cron file `$2` (its kind and, when a readable regular file, its text) or `crontab [-u $3]
/// -l`'s exit code and output (`-u` when `$3` is not the user running, as the module does).
const READ: &str = r#"m=$1
printf '%s os\n' "$m"; uname -s
printf '%s whoami\n' "$m"; id -un
if command -v crontab >/dev/null 2>&1; then
  if [ -n "$2" ]; then
    printf '%s kind\n' "$m"; if [ -f "$2" ]; then echo file; elif [ -e "$2" ]; then echo other; else echo none; fi
    printf '%s text\n' "$m"; if [ -f "$2" ] && [ -r "$2" ]; then cat -- "$2"; fi; printf '\n'
  else
    if [ -n "$3" ] && [ "$(id -un)" != "$3" ]; then out=$(crontab -u "$3" -l 2>/dev/null; r=$?; echo x; exit $r)
    else out=$(crontab -l 2>/dev/null; r=$?; echo x; exit $r); fi; rc=$?
    printf '%s rc\n%s\n%s text\n%s\n' "$m" "$rc" "$m" "${out%x}"
  fi
fi
"#;

/// Writes stdin: over the cron file `$2` (umask 022, as the module sets), or into a temp file
/// (0666) that `crontab [-u $3] FILE` installs; `$4` = `remove` removes the cron file instead.
/// Under marker `$1`: `removed`/`kept`, or crontab's `rc`, `out`, `err` and the temp `path`.
const WRITE: &str = r#"m=$1
if [ "$4" = remove ]; then printf '%s removed\n' "$m"; if rm -- "$2" 2>/dev/null; then echo yes; else echo no; fi; exit 0; fi
if [ -n "$2" ]; then (umask 022; cat > "$2") || exit 10; exit 0; fi
t=$(mktemp "${TMPDIR:-/tmp}/crontabXXXXXXXX") || exit 11; o=$(mktemp) && e=$(mktemp) || exit 12
chmod 0666 "$t"; cat > "$t" || exit 13
if [ -n "$3" ] && [ "$(id -un)" != "$3" ]; then crontab -u "$3" "$t" >"$o" 2>"$e"; else crontab "$t" >"$o" 2>"$e"; fi; rc=$?
printf '%s rc\n%s\n%s path\n%s\n%s out\n' "$m" "$rc" "$m" "$t" "$m"; cat -- "$o"; printf '\n%s err\n' "$m"; cat -- "$e"; printf '\n%s end\n' "$m"
rm -f -- "$t" "$o" "$e"; exit 0
"#;

/// Writes stdin to a new `crontabXXXXXXXX` temp file (0600) and prints its path: the module's
/// backup.
const BACKUP: &str = r#"t=$(mktemp "${TMPDIR:-/tmp}/crontabXXXXXXXX") && cat > "$t" && printf '%s\n' "$t""#;

/// A failed result with `msg` and the warnings given so far (the module's `fail_json` after
/// `module.warn`).
fn fail(msg: impl Into<String>, warnings: &[String]) -> ModuleOutcome {
    with_warnings(ModuleOutcome::failed(msg), warnings)
}

fn with_warnings(mut o: ModuleOutcome, warnings: &[String]) -> ModuleOutcome {
    for w in warnings {
        o = o.warn(w.clone());
    }
    o
}

/// True when a cron file's name is made of letters, digits, `_` and `-` (the module warns
/// otherwise: cron ignores such files).
pub fn portable_file_name(base: &str) -> bool {
    !base.is_empty()
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Runs `cron`. Result (matches ansible.builtin.cron's `main`): `jobs` and `envs` (the
/// names in the crontab afterwards), `changed`, `cron_file` as given, `backup_file` when
/// backed up and changed, with `--diff` the `diff` (headers: the cron file, or `crontab for
/// user "U"`, or `crontab`). Removing the last job of a cron file removes the file: result
/// `changed`, `cron_file`, `state`, `diff` (empty without `--diff`). The module's messages for
/// `/etc/crontab`, a missing `crontab` program, `special_time` with times, `cron_file` without
/// `user`, a missing `job`, `insertafter`/`insertbefore` without `env`, an environment name with
/// a space, an unknown `insertafter`/`insertbefore` variable, and a failed install; its
/// warnings for a cron file name cron ignores and a job with line breaks.
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`]
/// when the host connection broke.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let name = a.req_str("name")?;
    let user = a.str("user")?.filter(|u| !u.is_empty());
    let job = a.str("job")?;
    let cron_file = a.str("cron_file")?.filter(|c| !c.is_empty());
    let install = a.choice("state")?.as_deref() != Some("absent");
    let state = if install { "present" } else { "absent" };
    let backup = a.bool("backup", false)?;
    let mut times = Vec::with_capacity(5);
    for key in ["minute", "hour", "day", "month", "weekday"] {
        times.push(a.str(key)?.unwrap_or_else(|| "*".into()));
    }
    let special = a.choice("special_time")?;
    let disabled = a.bool("disabled", false)?;
    let env = a.bool("env", false)?;
    let insertafter = a.str("insertafter")?.filter(|s| !s.is_empty());
    let insertbefore = a.str("insertbefore")?.filter(|s| !s.is_empty());

    let mut warnings = Vec::new();
    if let Some(cf) = &cron_file {
        if cf == "/etc/crontab" {
            return Ok(fail(
                "Will not manage /etc/crontab via cron_file, see documentation.",
                &[],
            ));
        }
        let base = cf.rsplit('/').next().unwrap_or_default();
        if !portable_file_name(base) {
            warnings.push(format!(
                "Filename portion of cron_file (\"{base}\") should consist solely of upper- and lower-case letters, digits, underscores, and hyphens"
            ));
        }
    }
    let file_path = cron_file.as_ref().map(|cf| {
        if cf.starts_with('/') {
            cf.clone()
        } else {
            format!("/etc/cron.d/{cf}")
        }
    });

    let m = sysutil::marker();
    let script = format!("{}{READ}", sysutil::tools_probe(&["crontab"]));
    let rargs = [
        m.clone(),
        file_path.clone().unwrap_or_default(),
        user.clone().unwrap_or_default(),
    ];
    let out = sysutil::run_script(ctx, &script, &rargs, None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let os = sysutil::section(&secs, "os").unwrap_or_default().trim();
    if matches!(os, "SunOS" | "AIX" | "HP-UX") {
        // The module reads and installs crontabs with other commands there.
        return Ok(fail(
            format!(
                "talon's native cron does not manage crontabs on {os} hosts (ansible.builtin.cron runs other commands there)"
            ),
            &warnings,
        ));
    }
    if let Some(msg) = sysutil::missing_tool(&secs, "crontab") {
        return Ok(fail(msg, &warnings));
    }
    let Some(body) = sysutil::section(&secs, "text") else {
        return Ok(fail(
            format!(
                "cannot read the crontab on {} ({}): {}",
                ctx.host,
                out.status,
                out.stderr_str().trim()
            ),
            &warnings,
        ));
    };
    let body = body.strip_suffix('\n').unwrap_or(body);
    let kind = sysutil::section(&secs, "kind").unwrap_or_default().trim();
    let mut tab = match &file_path {
        Some(_) => CronTab::from_file(body),
        None => {
            let rc = sysutil::section(&secs, "rc").unwrap_or_default().trim();
            if rc != "0" && rc != "1" {
                return Ok(fail(
                    "Task failed: Module failed: Unable to read crontab",
                    &warnings,
                ));
            }
            CronTab::from_listing(body)
        }
    };
    let header = match (&file_path, &user) {
        (Some(p), _) => p.clone(),
        (None, Some(u)) => format!("crontab for user \"{u}\""),
        (None, None) => "crontab".to_string(),
    };

    // The module's input validation, in its order.
    if special.is_some() && times.iter().any(|t| t != "*") {
        return Ok(fail(
            "You cannot combine special_time with any of the time or day/date parameters.",
            &warnings,
        ));
    }
    if install {
        if cron_file.is_some() && user.is_none() {
            return Ok(fail(
                "To use cron_file=... parameter you must specify user=... as well",
                &warnings,
            ));
        }
        if job.is_none() {
            return Ok(fail(
                "You must specify 'job' to install a new cron job or variable",
                &warnings,
            ));
        }
        if (insertafter.is_some() || insertbefore.is_some()) && !env {
            return Ok(fail(
                "Insertafter and insertbefore parameters are valid only with env=yes",
                &warnings,
            ));
        }
    }
    let original = tab.render();

    let mut changed = false;
    if env {
        if name.contains(' ') {
            return Ok(fail("Invalid name for environment variable", &warnings));
        }
        let decl = format!("{name}=\"{}\"", job.as_deref().unwrap_or("None"));
        let old = match tab.find_env(&name) {
            Ok(o) => o,
            Err(e) => return Ok(fail(e.to_string(), &warnings)),
        };
        let step = if install {
            match &old {
                None => match tab.add_env(&decl, insertafter.as_deref(), insertbefore.as_deref()) {
                    Ok(true) => Ok(true),
                    Ok(false) => {
                        let other = insertafter
                            .as_deref()
                            .or(insertbefore.as_deref())
                            .unwrap_or_default();
                        return Ok(fail(format!("Variable named '{other}' not found."), &warnings));
                    }
                    Err(e) => Err(e),
                },
                Some((_, line)) if *line != decl => tab.update_env(&name, Some(&decl)).map(|()| true),
                Some(_) => Ok(false),
            }
        } else if old.is_some() {
            tab.update_env(&name, None).map(|()| true)
        } else {
            Ok(false)
        };
        match step {
            Ok(c) => changed = c,
            Err(e) => return Ok(fail(e.to_string(), &warnings)),
        }
    } else if install {
        let raw = job.clone().unwrap_or_default();
        if raw.trim_matches(['\r', '\n']).contains(['\r', '\n']) {
            warnings.push("Job should not contain line breaks".into());
        }
        let spec = JobSpec {
            times: [&times[0], &times[1], &times[2], &times[3], &times[4]],
            special: special.as_deref(),
            disabled,
            file_user: file_path.as_ref().and(user.as_deref()),
        };
        let line = cron_job(&spec, &raw);
        match tab.find_job(&name, Some(&line)) {
            None => {
                tab.add_job(&name, &line);
                changed = true;
            }
            Some(found) => {
                if found.job != line || found.fixed {
                    tab.update_job(&name, &line);
                    changed = true;
                }
            }
        }
    } else if tab.find_job(&name, None).is_some() {
        tab.remove_job(&name);
        changed = true;
        if let (Some(path), true) = (&file_path, tab.is_empty()) {
            // The module removes a cron file left without jobs.
            let mut diff = json!({});
            let mut shown = Vec::new();
            if ctx.diff {
                diff = json!({"before": tab.existing, "before_header": path, "after": "", "after_header": "/dev/null"});
                shown.push(FileDiff {
                    before_header: path.clone(),
                    after_header: "/dev/null".into(),
                    before: tab.existing.clone(),
                    after: String::new(),
                    ..FileDiff::default()
                });
            }
            let changed = if ctx.check {
                kind == "file"
            } else {
                let wargs = [m.clone(), path.clone(), String::new(), "remove".into()];
                let out = sysutil::run_script(ctx, WRITE, &wargs, None).await?;
                let text = out.stdout_str();
                let secs = sysutil::sections(&text, &m);
                sysutil::section(&secs, "removed").map(str::trim) == Some("yes")
            };
            let mut o = ModuleOutcome::changed(changed)
                .with("cron_file", cron_file.clone().map_or(Value::Null, Value::from))
                .with("state", state)
                .with("diff", diff);
            o.diff = shown;
            return Ok(with_warnings(o, &warnings));
        }
    }
    // An existing crontab without a final newline gets one.
    if !changed && !tab.existing.is_empty() && !tab.existing.ends_with(['\r', '\n']) {
        changed = true;
    }

    let mut o = ModuleOutcome::changed(changed)
        .with("jobs", tab.job_names())
        .with("envs", tab.env_names());
    if changed {
        let rendered = tab.render();
        if !ctx.check {
            if backup {
                let out = sysutil::run_script(ctx, BACKUP, &[], Some(original.into_bytes())).await?;
                if !out.status.success() {
                    return Ok(fail(
                        format!("cannot back the crontab up: {}", out.stderr_str().trim()),
                        &warnings,
                    ));
                }
                o = o.with("backup_file", out.stdout_str().trim_end_matches('\n'));
            }
            let wargs = [
                m.clone(),
                file_path.clone().unwrap_or_default(),
                user.clone().unwrap_or_default(),
                "write".into(),
            ];
            let out = sysutil::run_script(ctx, WRITE, &wargs, Some(rendered.clone().into_bytes())).await?;
            if !out.status.success() {
                return Ok(fail(
                    format!(
                        "Failed to write {}: {}",
                        file_path.as_deref().unwrap_or("the crontab"),
                        out.stderr_str().trim()
                    ),
                    &warnings,
                ));
            }
            let text = out.stdout_str();
            let secs = sysutil::sections(&text, &m);
            if let Some(rc) = sysutil::section(&secs, "rc").and_then(|r| r.trim().parse::<i64>().ok())
                && rc != 0
            {
                let part = |n: &str| {
                    let s = sysutil::section(&secs, n).unwrap_or_default();
                    s.strip_suffix('\n').unwrap_or(s).to_string()
                };
                let path = part("path");
                let (stdout, stderr) = (part("out"), part("err"));
                let failed = ModuleOutcome::failed(format!("Failed to install new cronfile: {path}"))
                    .with("rc", rc)
                    .with("stdout_lines", sysutil::splitlines(&stdout))
                    .with("stderr_lines", sysutil::splitlines(&stderr))
                    .with("stdout", stdout)
                    .with("stderr", stderr);
                return Ok(with_warnings(failed, &warnings));
            }
        }
        if ctx.diff {
            o = o.with(
                "diff",
                json!({"before": tab.existing, "before_header": header, "after": rendered, "after_header": header}),
            );
            o.diff.push(FileDiff {
                before_header: header.clone(),
                after_header: header.clone(),
                before: tab.existing.clone(),
                after: rendered,
                ..FileDiff::default()
            });
        }
    }
    if let Some(cf) = &cron_file {
        o = o.with("cron_file", cf.clone());
    }
    Ok(with_warnings(o, &warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_file_names_cron_reads() {
        assert!(portable_file_name("talon-test_1"));
        assert!(!portable_file_name("talon.test"));
        assert!(!portable_file_name(""));
        assert!(!portable_file_name("é"));
    }

    #[test]
    fn failures_keep_the_warnings_given() {
        let o = fail("x", &["w".to_string()]);
        assert!(o.failed);
        assert_eq!(o.result.get("warnings"), Some(&json!(["w"])));
    }
}
