//! `community.general.modprobe` (and `modprobe`) without Python on the host: the module's
//! `main` in its order: `modprobe` found first, the module loaded or not (`/proc/modules`, then
//! `/lib/modules/RELEASE/modules.builtin`), `modprobe [-n] NAME PARAMS` to load (then loaded
//! again, or `modprobe -n --first-time` whose complaint is a warning), `modprobe -r NAME [-n]`
//! to unload, and `persistent` with the file edits of [`super::modprobe_files`]; its results
//! (`changed`, `name`, `params`, `state`), failures and check mode (`-n`, no files written). One
//! round trip reads; loading, unloading and writing take one each. A `name` its unescaped
//! patterns would read as a pattern, `params` Python's `shlex` refuses, values `run_command`
//! would expand (`$VAR`, `~`), and persistence files it could not read as UTF-8 text run the
//! collection's module (the Python path).

use std::collections::BTreeMap;

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, fallback, sysutil};
use crate::transport::quote;
use crate::vars::Vars;

use super::modprobe_files::{self as files, Patterns};

const FQCN: &str = "community.general.modprobe";
const MODULES_LOAD: &str = "/etc/modules-load.d";
const MODPROBE_D: &str = "/etc/modprobe.d";

crate::module_info!(
    /// `modprobe`: `name`, `state`, `params`, `persistent`.
    INFO,
    "modprobe",
    ArgSpec::new(&[
        ArgDef::str("name").required(),
        ArgDef::str("state").choices(&["absent", "present"]),
        ArgDef::str("params"),
        ArgDef::str("persistent").choices(&["disabled", "present", "absent"]),
    ]),
    run
);

/// `loaded`: prints `/proc/modules` and `modules.builtin` with `readf`.
const LOADED_FN: &str = r#"loaded() { readf proc /proc/modules; readf builtin "/lib/modules/$(uname -r)/modules.builtin"; }
"#;

/// Reads the host (`$1` marker, `$2` = 1 to read the persistence folders too).
const READ: &str = r#"B=$(binpath modprobe) || { printf '%s missing\nmodprobe\n' "$M"; exit 0; }
printf '%s bin\n%s\n%s release\n' "$M" "$B" "$M"; uname -r
loaded
[ "$2" = 1 ] || exit 0
for d in /etc/modules-load.d /etc/modprobe.d; do [ -d "$d" ] || continue; printf '%s dir %s\n' "$M" "$d"
  for f in "$d"/* "$d"/.[!.]* "$d"/..?*; do [ -f "$f" ] && readf "file $f" "$f"; done; done
exit 0
"#;

/// The module's `module_loaded` from the sections of [`LOADED_FN`] (its `fail_json` message on
/// `Err`).
fn module_loaded(secs: &[(&str, &str)], release: &str, name: &str) -> Result<bool, String> {
    let proc = sysutil::read_file_section(
        sysutil::section(secs, "proc").unwrap_or_default(),
        "/proc/modules",
    )?;
    let builtin_path = format!("/lib/modules/{release}/modules.builtin");
    let builtin = sysutil::read_file_section(
        sysutil::section(secs, "builtin").unwrap_or_default(),
        &builtin_path,
    );
    files::loaded(&proc, builtin.as_deref().map_err(Clone::clone), name)
}

/// Runs the module: see the module documentation above.
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`];
/// those of the Python path for the cases it runs.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let handover =
        |why: String| async move { fallback::python_path(FQCN, "modprobe", args, ctx, &why).await };
    let name = a.req_str("name")?;
    let state = a.choice("state")?.unwrap_or_else(|| "present".into());
    let params = a.str("params")?.unwrap_or_default();
    let persistent = a.choice("persistent")?.unwrap_or_else(|| "disabled".into());
    let Some(patterns) = Patterns::new(&name) else {
        return handover(format!("the module reads name {name:?} as a pattern")).await;
    };
    let Ok(words) = quote::split(&params) else {
        return handover("params that Python's shlex refuses".into()).await;
    };
    if words.iter().any(|w| w.contains('$') || w.starts_with('~')) {
        return handover("params run_command would expand on the host".into()).await;
    }
    let m = sysutil::marker();
    let head = format!(
        "M=$1\n{}{}{}{}{LOADED_FN}",
        sysutil::tools_probe(&[]),
        sysutil::STEP_FN,
        sysutil::BIN_PATH_FN,
        sysutil::READ_FILE_FN
    );
    let persist = if persistent == "disabled" { "0" } else { "1" };
    let script = format!("{head}{READ}");
    let out = sysutil::run_script(ctx, &script, &[m.clone(), persist.into()], None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    if let Some(tool) = sysutil::section(&secs, "missing") {
        let msg = sysutil::missing_tool(&secs, tool.trim()).unwrap_or_default();
        return Ok(ModuleOutcome::failed(msg));
    }
    let (Some(bin), Some(release)) = (sysutil::section(&secs, "bin"), sysutil::section(&secs, "release"))
    else {
        return Ok(ModuleOutcome::failed(format!(
            "cannot read kernel modules on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        )));
    };
    let (bin, release) = (bin.trim().to_string(), release.trim().to_string());
    // The persistence folders' files, by folder.
    let mut dirs: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for (sec, body) in &secs {
        if let Some(d) = sec.strip_prefix("dir ") {
            dirs.entry(d).or_default();
        } else if let Some(path) = sec.strip_prefix("file ") {
            let Ok(t) = sysutil::read_file_section(body, path) else {
                return handover(format!("{path} cannot be read")).await;
            };
            if t.contains(['\r', '\u{fffd}']) {
                return handover(format!("{path} is not plain UTF-8 text")).await;
            }
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            let dir = if dir == MODULES_LOAD {
                MODULES_LOAD
            } else {
                MODPROBE_D
            };
            dirs.entry(dir).or_default().push((path.to_string(), t));
        }
    }
    let result = |changed: bool| {
        ModuleOutcome::changed(changed)
            .with("name", name.as_str())
            .with("params", params.as_str())
            .with("state", state.as_str())
    };
    let failed = |msg: &str, changed: bool| {
        let mut o = result(changed);
        o.failed = true;
        o.msg = Some(msg.to_string());
        o
    };
    let loaded = match module_loaded(&secs, &release, &name) {
        Ok(l) => l,
        Err(msg) => return Ok(failed(&msg, false)),
    };
    let mut changed = false;
    let mut warning = None;
    let mut first_time = None;
    let command_failed = |s: &sysutil::Step, changed: bool| {
        failed(&s.err, changed)
            .with("rc", s.rc)
            .with("stdout_lines", sysutil::splitlines(&s.out))
            .with("stderr_lines", sysutil::splitlines(&s.err))
            .with("stdout", s.out.as_str())
            .with("stderr", s.err.as_str())
    };
    if state == "present" && !loaded {
        let mut cmd = vec![bin.clone()];
        if ctx.check {
            cmd.push("-n".into());
        }
        cmd.push(name.clone());
        cmd.extend(words.iter().cloned());
        let script = format!("{head}step load {} && loaded\n", quote::join(&cmd));
        let out = sysutil::run_script(ctx, &script, std::slice::from_ref(&m), None).await?;
        let text = out.stdout_str();
        let secs = sysutil::sections(&text, &m);
        let Some(s) = sysutil::step(&secs, "load") else {
            return Ok(failed("modprobe did not run", changed));
        };
        if s.rc != 0 {
            return Ok(command_failed(&s, changed));
        }
        if ctx.check {
            changed = true;
        } else {
            match module_loaded(&secs, &release, &name) {
                Ok(true) => changed = true,
                Ok(false) => {
                    let mut c = vec![bin.clone(), "-n".into(), "--first-time".into(), name.clone()];
                    c.extend(words.iter().cloned());
                    first_time = Some(c);
                }
                Err(msg) => return Ok(failed(&msg, changed)),
            }
        }
    } else if state == "absent" && loaded {
        let mut cmd = vec![bin.clone(), "-r".into(), name.clone()];
        if ctx.check {
            cmd.push("-n".into());
        }
        let script = format!("{head}step unload {}\n", quote::join(&cmd));
        let out = sysutil::run_script(ctx, &script, std::slice::from_ref(&m), None).await?;
        let text = out.stdout_str();
        let secs = sysutil::sections(&text, &m);
        match sysutil::step(&secs, "unload") {
            Some(s) if s.rc == 0 => changed = true,
            Some(s) => return Ok(command_failed(&s, changed)),
            None => return Ok(failed("modprobe did not run", changed)),
        }
    }

    // Persistence: the writes the module makes, in its order.
    let load_files: Vec<&str> = dirs
        .get(MODULES_LOAD)
        .into_iter()
        .flatten()
        .map(|(_, t)| t.as_str())
        .collect();
    let opt_files = dirs.get(MODPROBE_D).map(Vec::as_slice).unwrap_or_default();
    let persistently = files::loaded_persistently(&patterns, load_files.iter().copied());
    let permanent = files::permanent_params(&patterns, opt_files.iter().map(|(_, t)| t.as_str()));
    let params_ok = files::params_set(&params, &permanent);
    let mut writes: Vec<(String, String)> = Vec::new();
    let disable_params = |writes: &mut Vec<(String, String)>| {
        for (path, t) in opt_files {
            if let Some(new) = files::comment_out(t, |l| patterns.param(l).is_some()) {
                writes.push((path.clone(), new));
            }
        }
    };
    if persistent == "present" && !(persistently && params_ok) {
        if !persistently {
            writes.push((format!("{MODULES_LOAD}/{name}.conf"), format!("{name}\n")));
            changed = true;
        }
        if !params_ok {
            disable_params(&mut writes);
            writes.push((
                format!("{MODPROBE_D}/{name}.conf"),
                files::options_file(&name, &params),
            ));
            changed = true;
        }
    } else if persistent == "absent" && (persistently || !permanent.is_empty()) {
        if persistently {
            for (path, t) in dirs.get(MODULES_LOAD).into_iter().flatten() {
                if let Some(new) = files::comment_out(t, |l| patterns.names_module(l)) {
                    writes.push((path.clone(), new));
                }
            }
        }
        if !permanent.is_empty() {
            disable_params(&mut writes);
        }
        changed = true;
    }
    if ctx.check {
        writes.clear();
    }
    if first_time.is_some() || !writes.is_empty() {
        let mut script = head.clone();
        if let Some(c) = &first_time {
            script.push_str(&format!("step first {}\n", quote::join(c)));
        }
        for (i, (path, content)) in writes.iter().enumerate() {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            // Python's open() in a folder that is not there.
            if !dirs.contains_key(dir) {
                script.push_str(&format!(
                    "printf '%s nodir\\n%s\\n' \"$M\" {}; exit 0\n",
                    quote::quote(path)
                ));
                break;
            }
            script.push_str(&format!(
                "step w{i} sh -c 'printf \"%s\" \"$2\" > \"$1\"' sh {} {} || exit 0\n",
                quote::quote(path),
                quote::quote(content)
            ));
        }
        let out = sysutil::run_script(ctx, &script, std::slice::from_ref(&m), None).await?;
        let text = out.stdout_str();
        let secs = sysutil::sections(&text, &m);
        if first_time.is_some() {
            match sysutil::step(&secs, "first") {
                Some(s) if s.rc != 0 => warning = Some(s.err),
                Some(_) => {}
                None => return Ok(failed("modprobe did not run", changed)),
            }
        }
        for (i, (path, _)) in writes.iter().enumerate() {
            let why = match sysutil::step(&secs, &format!("w{i}")) {
                Some(s) if s.rc == 0 => continue,
                Some(s) => sysutil::python_os_error(&s.err, path).unwrap_or_else(|| s.err.trim().to_string()),
                None if sysutil::section(&secs, "nodir").is_some() => {
                    format!("[Errno 2] No such file or directory: {}", sysutil::py_repr(path))
                }
                None => format!("{path} was not written"),
            };
            // An exception the module does not catch.
            return Ok(ModuleOutcome::failed(format!(
                "Task failed: Module failed: {why}"
            )));
        }
    }
    let mut o = result(changed);
    if let Some(w) = warning {
        o = o.warn(w);
    }
    Ok(o)
}
