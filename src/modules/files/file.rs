//! `file`: manage a path's existence, type and attributes, matching `ansible.builtin.file`
//! (states `file`, `directory`, `absent`, `touch`, `link`, `hard`; mode/owner/group; `recurse`;
//! `force` for links; `touch` is always changed unless neither time is `now`).
//!
//! Round trips: one probe to decide; one more to apply (mkdir, rm, touch, ln, chmod/chown).
//! `link`/`hard` that must change probe `src` too (one more); `recurse` does its own check-and-set
//! round trip on the whole tree.

use serde_json::{Value, json};

use crate::modules::args::{Args, FileArgs, files_failure, path_info};
use crate::modules::files::{attributes, registered};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{DiffField, FileDiff, ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::files::{self, FileAttrs, FileKind, FileStat, Probe, ProbeOptions, TimeSpec};
use crate::vars::Vars;

#[path = "file_link.rs"]
mod link;
pub(crate) use link::link_src_abs;
use link::{LinkRequest, link_state};

crate::module_info!(
    /// `file` in the registry.
    INFO,
    "file",
    ArgSpec::new(&[
        ArgDef::path("path").aliases(&["dest", "name"]).required(),
        ArgDef::str("state").choices(&["file", "directory", "absent", "touch", "link", "hard"]),
        ArgDef::path("src"),
        ArgDef::bool("recurse"),
        ArgDef::bool("force"),
        ArgDef::bool("follow"),
        ArgDef::str("access_time"),
        ArgDef::str("modification_time"),
        ArgDef::str("access_time_format"),
        ArgDef::str("modification_time_format"),
        ArgDef::mode("mode"),
        ArgDef::str("attributes").aliases(&["attr"]),
        ArgDef::str("owner"),
        ArgDef::str("group"),
        ArgDef::bool("unsafe_writes"),
    ]),
    run
);

/// Ansible's name for what is at a path (`absent`, `file`, `directory`, `link`, `hard`).
fn state_name(st: Option<&FileStat>) -> &'static str {
    match st {
        None => "absent",
        Some(s) if s.kind == FileKind::File && s.nlink > 1 => "hard",
        Some(s) => s.kind.ansible_state(),
    }
}

fn state_diff(path: &str, before: &str, after: &str) -> FileDiff {
    FileDiff {
        before_header: path.to_string(),
        after_header: path.to_string(),
        before: format!("path: {path}\nstate: {before}\n"),
        after: format!("path: {path}\nstate: {after}\n"),
        fields: vec![DiffField {
            key: "state",
            before: before.into(),
            after: after.into(),
        }],
    }
}

/// Seconds since the epoch on the controller, for the `atime`/`mtime` a touch registers.
fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The file module's probe of `path`. With `sftp`, over SFTP where the connection has it,
/// except for a regular file: its link count (which names a hard link) is not in SFTP's
/// answer, so the shell probes it again. `touch` keeps the shell (its diff reports the times to
/// the nanosecond).
async fn probe(
    ctx: &ModuleContext<'_>,
    path: &str,
    follow: bool,
    sftp: bool,
) -> Result<Probe, files::FilesError> {
    let mut opts = ProbeOptions {
        follow,
        checksum: None,
        content: false,
        sftp,
    };
    let p = files::probe(ctx.conn, path, opts, &ctx.become_).await?;
    if sftp
        && p.stat
            .as_ref()
            .is_some_and(|s| s.kind == FileKind::File && s.nlink == 0)
    {
        opts.sftp = false;
        return files::probe(ctx.conn, path, opts, &ctx.become_).await;
    }
    Ok(p)
}

/// Applies attribute changes to an existing path and fills the outcome (shared by the states).
async fn ensure_attrs(
    ctx: &ModuleContext<'_>,
    path: &str,
    st: &FileStat,
    fa: &FileArgs,
    follow: bool,
    mut out: ModuleOutcome,
) -> Result<ModuleOutcome, ModuleError> {
    let ch = fa.changes(st);
    out = path_info(out, st);
    if !ch.any() {
        return Ok(out);
    }
    out.changed = true;
    if ctx.diff {
        out.diff.push(FileDiff {
            before_header: format!("{path} (file attributes)"),
            after_header: format!("{path} (file attributes)"),
            before: ch.before.clone(),
            after: ch.after.clone(),
            fields: ch.fields.clone(),
        });
    }
    out = ch.report(out);
    if ctx.check {
        return Ok(out);
    }
    match files::set_attrs(ctx.conn, path, &ch.attrs, follow, &ctx.become_).await {
        Ok(()) => Ok(out),
        Err(e) => files_failure(e),
    }
}

/// `access_time` / `modification_time`: `None` to keep the file's, `Now`, or a local time read
/// with its `*_format` (Python `strptime` directives, default `%Y%m%d%H%M.%S`), as
/// ansible.builtin.file's `get_timestamp_for_time`. Unset is `preserve`, except for
/// `state: touch` where it is `now`. `Err` holds Ansible's failure message.
fn time_arg(a: &Args, key: &str, touch: bool) -> Result<Result<Option<TimeSpec>, String>, ModuleError> {
    let format = a
        .str(&format!("{key}_format"))?
        .unwrap_or_else(|| "%Y%m%d%H%M.%S".to_string());
    Ok(match a.str(key)?.as_deref() {
        None if touch => Ok(Some(TimeSpec::Now)),
        None | Some("preserve") => Ok(None),
        Some("now") => Ok(Some(TimeSpec::Now)),
        Some(text) => local_time(text, &format)
            .map(|t| Some(TimeSpec::At(t)))
            .map_err(|e| {
                format!("Error while obtaining timestamp for time {text} using format {format}: {e}")
            }),
    })
}

/// `text` read with a strptime `format`, as `YYYY-MM-DD HH:MM:SS` (a date alone is midnight).
fn local_time(text: &str, format: &str) -> Result<String, String> {
    use chrono::{NaiveDate, NaiveDateTime};
    let t = NaiveDateTime::parse_from_str(text, format)
        .or_else(|e| {
            NaiveDate::parse_from_str(text, format)
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
                .map_err(|_| e)
        })
        .map_err(|e| format!("time data '{text}' does not match format '{format}' ({e})"))?;
    Ok(t.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// Runs `file`. Task failures (Ansible's messages): `file (PATH) is absent, cannot continue`,
/// `PATH already exists as a file`, `refusing to convert from file to symlink for PATH`, ...
/// `access_time` / `modification_time` are set after the state (see [`files::set_times`]).
/// Errors: [`ModuleError::BadArgs`] for a bad `state`/`mode` or `src` missing for links.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let state = a.choice("state")?;
    let touch = state.as_deref() == Some("touch");
    let atime = match time_arg(&a, "access_time", touch)? {
        Ok(t) => t,
        Err(m) => return Ok(ModuleOutcome::failed(m)),
    };
    let mtime = match time_arg(&a, "modification_time", touch)? {
        Ok(t) => t,
        Err(m) => return Ok(ModuleOutcome::failed(m)),
    };
    // An existing file's times are compared, not touched, unless one of them is `now`
    // (ansible.builtin.file's update_timestamp_for_file).
    let no_now = atime != Some(TimeSpec::Now) && mtime != Some(TimeSpec::Now);
    let mut out = run_state(args, ctx, no_now).await?;
    if state.as_deref() != Some("absent") {
        // touch and link report the path as `dest`.
        let path = out
            .result
            .get("path")
            .or_else(|| out.result.get("dest"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let want = attributes::arg(&a)?;
        out = attributes::after(ctx, want.as_deref(), &path, Ok(out), false).await?;
    }
    out = registered_diff(ctx, out).await?;
    let both_now = atime == Some(TimeSpec::Now) && mtime == Some(TimeSpec::Now);
    if out.failed
        || state.as_deref() == Some("absent")
        || (atime.is_none() && mtime.is_none())
        || (touch && both_now)
    {
        return Ok(out);
    }
    let path = a.req_str("path")?;
    let follow = a.bool("follow", true)?;
    match files::set_times(
        ctx.conn,
        &path,
        atime.as_ref(),
        mtime.as_ref(),
        follow,
        ctx.check,
        &ctx.become_,
    )
    .await
    {
        Ok(changed) => out.changed |= changed,
        // In check mode the path may not exist yet: the state already says it would change.
        Err(_) if ctx.check => {}
        Err(e) => return files_failure(e),
    }
    Ok(out)
}

/// With `--diff`, registers the `diff` dict ansible.builtin.file returns (see
/// [`registered::file_dict`]); none for a failure or an `absent` path that stays absent, as
/// Ansible.
async fn registered_diff(ctx: &ModuleContext<'_>, out: ModuleOutcome) -> Result<ModuleOutcome, ModuleError> {
    let stays_absent = !out.changed && out.result.get("state").and_then(|v| v.as_str()) == Some("absent");
    if !ctx.diff || out.failed || stays_absent {
        return Ok(out);
    }
    let path = out
        .result
        .get("path")
        .or_else(|| out.result.get("dest"))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let d = registered::file_dict(ctx, &path, &out.diff).await?;
    Ok(out.with("diff", d))
}

/// The state part of [`run`]; `times_preserved`: neither time is `now` (a `touch` then
/// changes nothing on an existing file unless its attributes differ; [`run`] compares and sets
/// explicit times).
async fn run_state(
    args: &Vars,
    ctx: &ModuleContext<'_>,
    times_preserved: bool,
) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let path = a.req_str("path")?;
    let path = if path.len() > 1 {
        path.trim_end_matches('/').to_string()
    } else {
        path
    };
    let state = a.choice("state")?;
    let fa = FileArgs::parse(&a)?;
    let recurse = a.bool("recurse", false)?;
    let force = a.bool("force", false)?;
    let follow = a.bool("follow", true)?;
    let src = a.str("src")?;
    if recurse && state.as_deref().is_some_and(|s| s != "directory") {
        return Err(a.bad("recurse option requires state to be 'directory'"));
    }
    let base = ModuleOutcome::ok().with("path", path.clone());

    // A new directory whose mode does not depend on the umask is made in the probe's round
    // trip; a symlink's source is looked for in the same round trip as the path.
    let fixed = fa.fixed_attrs();
    let (probed, src_exists) = match (state.as_deref(), &src, fixed) {
        (Some("directory"), None, Some(attrs)) if !recurse && !ctx.check => {
            match files::mkdir_if_missing(ctx.conn, &path, &attrs, &ctx.become_).await {
                Ok((p, created, made)) if p.stat.is_none() && !created.is_empty() => {
                    let mut out = base.with("state", "directory");
                    out.changed = true;
                    if ctx.diff {
                        out.diff.push(state_diff(&path, "absent", "directory"));
                    }
                    if let Some(st) = &made {
                        out = path_info(out, st);
                    } else if let Some(m) = attrs.mode {
                        out = out.with("mode", format!("{m:04o}"));
                    }
                    return Ok(out);
                }
                Ok((p, _, _)) => (p, None),
                Err(e) => return files_failure(e),
            }
        }
        (Some("link"), Some(s), _) => {
            let opts = ProbeOptions {
                follow: false,
                checksum: None,
                content: false,
                sftp: true,
            };
            let other = link_src_abs(&path, s, true);
            match files::probe_and_exists(ctx.conn, &path, opts, &other, &ctx.become_).await {
                Ok((p, e)) => (p, Some(e)),
                Err(e) => return files_failure(e),
            }
        }
        _ => match probe(ctx, &path, false, state.as_deref() != Some("touch")).await {
            Ok(p) => (p, None),
            Err(e) => return files_failure(e),
        },
    };
    let state = match state {
        Some(s) => s,
        None if recurse => "directory".to_string(),
        None => match probed.stat.as_ref().map(|s| s.kind) {
            Some(FileKind::Directory) => "directory".to_string(),
            // Ansible defaults to the current state; a link keeps its target when src is absent.
            Some(FileKind::Link) => "link".to_string(),
            _ => "file".to_string(),
        },
    };
    if matches!(state.as_str(), "link" | "hard") {
        let link = LinkRequest {
            symbolic: state == "link",
            src,
            src_exists,
            force,
            follow,
        };
        // ansible.builtin.file reports a link (made or already there) by `dest`.
        let mut base = base;
        base.result.remove("path");
        let base = base.with("dest", path.clone());
        return link_state(ctx, &path, link, &fa, probed, base).await;
    }
    if src.is_some() {
        return Err(a.bad(format!(
            "src option requires state to be 'link' or 'hard', got '{state}'"
        )));
    }
    let prev = state_name(probed.stat.as_ref());

    if state == "absent" {
        let mut out = base.with("state", "absent");
        if probed.stat.is_none() {
            return Ok(out);
        }
        out.changed = true;
        if ctx.diff {
            out.diff.push(state_diff(&path, prev, "absent"));
        }
        if ctx.check {
            return Ok(out);
        }
        return match files::remove(ctx.conn, &path, &ctx.become_).await {
            Ok(_) => Ok(out),
            Err(e) => files_failure(e),
        };
    }

    // file / directory / touch operate on the link's target when following.
    let (path, probed) = match &probed.stat {
        Some(s) if s.kind == FileKind::Link && follow => match probe(ctx, &path, true, true).await {
            Ok(p) => (path, p),
            Err(e) => return files_failure(e),
        },
        _ => (path, probed),
    };
    let prev = if probed.stat.is_none() && prev == "link" {
        "absent"
    } else {
        state_name(probed.stat.as_ref())
    };
    let umask = probed.umask;

    match state.as_str() {
        "file" => {
            let Some(st) = probed.stat.as_ref().filter(|_| matches!(prev, "file" | "hard")) else {
                return Ok(
                    ModuleOutcome::failed(format!("file ({path}) is {prev}, cannot continue"))
                        .with("path", path.clone())
                        .with("state", prev),
                );
            };
            ensure_attrs(ctx, &path, st, &fa, follow, base).await
        }
        "directory" => {
            let st = match probed.stat.as_ref() {
                Some(st) if st.kind != FileKind::Directory => {
                    return Ok(
                        ModuleOutcome::failed(format!("{path} already exists as a {prev}"))
                            .with("path", path.clone()),
                    );
                }
                other => other,
            };
            let mut out = base.with("state", "directory");
            if st.is_none() {
                out.changed = true;
                if ctx.diff {
                    out.diff.push(state_diff(&path, "absent", "directory"));
                }
                if !ctx.check
                    && let Err(e) =
                        files::mkdir(ctx.conn, &path, &fa.for_new(umask, true), &ctx.become_).await
                {
                    return files_failure(e);
                }
                if let Some(m) = fa.for_new(umask, true).mode {
                    out = out.with("mode", format!("{m:04o}"));
                }
            }
            if recurse {
                let chmod = fa.mode.as_ref().map(|m| match (ctx.check, m) {
                    (true, crate::modules::args::Mode::Symbolic(_)) => {
                        format!("{:04o}", m.resolve(st.map_or(0o777 & !umask, |s| s.mode), true))
                    }
                    _ => m.chmod_arg(),
                });
                if ctx.check && st.is_none() {
                    return Ok(out);
                }
                let r = files::set_attrs_recursive(
                    ctx.conn,
                    &path,
                    chmod.as_deref(),
                    fa.owner.as_deref(),
                    fa.group.as_deref(),
                    ctx.check,
                    &ctx.become_,
                )
                .await;
                return match r {
                    Ok(changed) => {
                        out.changed |= changed;
                        Ok(out)
                    }
                    Err(e) => files_failure(e),
                };
            }
            match st {
                Some(st) => ensure_attrs(ctx, &path, st, &fa, follow, out).await,
                None => Ok(out),
            }
        }
        _ => {
            // ansible.builtin.file's touch reports the path as `dest`.
            let mut base = base;
            base.result.remove("path");
            let base = base.with("dest", path.clone());
            touch(ctx, &path, &probed, &fa, follow, times_preserved, base).await
        }
    }
}

/// `state: touch`: creates the file or updates its times (always changed unless neither time
/// is `now`), then reports the path as it is afterwards (ansible.builtin.file's
/// `add_path_info` runs after the change). A file touch created is removed again when its
/// mode or owner cannot be set, as Ansible does.
async fn touch(
    ctx: &ModuleContext<'_>,
    path: &str,
    probed: &Probe,
    fa: &FileArgs,
    follow: bool,
    times_preserved: bool,
    base: ModuleOutcome,
) -> Result<ModuleOutcome, ModuleError> {
    let mut out = base.with("state", "file");
    let created = probed.stat.is_none();
    let mut fields = Vec::new();
    let attrs = match probed.stat.as_ref() {
        None => {
            let a = fa.for_new(probed.umask, false);
            // Ansible creates the file, then sets the mode: its diff shows that change.
            let made = 0o666 & !probed.umask;
            if let Some(m) = a.mode.filter(|m| *m != made) {
                fields.push(DiffField {
                    key: "mode",
                    before: format!("{made:04o}").into(),
                    after: format!("{m:04o}").into(),
                });
            }
            a
        }
        Some(st) if times_preserved => {
            let out = out.with("state", st.kind.ansible_state());
            return ensure_attrs(ctx, path, st, fa, follow, out).await;
        }
        Some(st) => {
            out = path_info(out, st);
            let ch = fa.changes(st);
            fields = ch.fields;
            ch.attrs
        }
    };
    out.changed = true;
    if ctx.diff {
        let before = if created {
            "absent"
        } else {
            state_name(probed.stat.as_ref())
        };
        let mut d = state_diff(path, before, "touch");
        // Ansible registers the old times (now, for a new file) and the new ones.
        let now = now_secs();
        let (atime, mtime) = probed.stat.as_ref().map_or((now, now), |s| (s.atime, s.mtime));
        d.fields.extend(fields);
        d.fields.push(DiffField {
            key: "atime",
            before: atime.into(),
            after: now.into(),
        });
        d.fields.push(DiffField {
            key: "mtime",
            before: mtime.into(),
            after: now.into(),
        });
        out.diff.push(d);
    }
    if ctx.check {
        return Ok(out);
    }
    if let Err(e) = files::touch(ctx.conn, path, &attrs, &ctx.become_).await {
        if created {
            let _ = files::remove(ctx.conn, path, &ctx.become_).await;
        }
        return files_failure(e);
    }
    // The path itself (a link stays a link), as Ansible's add_path_info reports it.
    match probe(ctx, path, false, false).await {
        Ok(Probe { stat: Some(st), .. }) => Ok(path_info(out, &st)),
        Ok(_) => Ok(out),
        Err(e) => files_failure(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::local_time;

    #[test]
    fn times_read_like_strptime() {
        assert_eq!(
            local_time("202401021530.45", "%Y%m%d%H%M.%S").unwrap(),
            "2024-01-02 15:30:45"
        );
        assert_eq!(
            local_time("2024-01-02", "%Y-%m-%d").unwrap(),
            "2024-01-02 00:00:00"
        );
        assert_eq!(
            local_time("02/01/24 07:05", "%d/%m/%y %H:%M").unwrap(),
            "2024-01-02 07:05:00"
        );
        assert!(local_time("yesterday", "%Y%m%d%H%M.%S").is_err());
    }
}
