//! `pip` (ansible.builtin.pip) without ansible-core's module on the host: talon plans the pip
//! commands the module would run and runs them itself, in one round trip: the virtualenv made
//! first when `virtualenv` has no `bin/activate` (`virtualenv_command`, its `--help` read for
//! `--no-site-packages`, `-p` for a command that is not `venv`), pip found as the module finds
//! it (`executable`, the virtualenv's `pip3`/`pip`, the host Python's `-m pip`, else `pip3` on
//! `PATH`), `pip list --format=freeze` (else `pip freeze`) read before and after for
//! `requirements`, then `pip install`/`uninstall -y`/`install -U`/`install -U --force-reinstall`
//! with `extra_args` and the names as the module's `Package` prints them (see
//! [`super::pip_req`]). Changed as the module decides it (`Successfully installed`,
//! `Successfully uninstalled`, the package lists differing, a virtualenv made); check mode reads
//! the installed packages and compares versions. Results `cmd`, `name`, `version`, `state`,
//! `requirements`, `virtualenv`, `stdout`, `stderr`; failures with the module's messages.
//!
//! pip is a Python program, so the host needs Python for pip itself, never for talon. A VCS
//! URL, a name only pip's own requirement parser reads the same (markers, URLs, pre-releases:
//! [`super::pip_req::Parsed::Unsure`]), arguments `run_command` would expand (`$VAR`, `~`) and
//! an installed version check mode cannot compare run the module itself (the Python path).

use serde_json::Value;

use super::pip_req::{self, Package, Parsed};
use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, fallback, sysutil};
use crate::transport::quote;
use crate::vars::Vars;

const FQCN: &str = "ansible.builtin.pip";

crate::module_info!(
    /// `pip`: every option of ansible-core 2.19's module.
    INFO,
    "pip",
    ArgSpec::new(&[
        ArgDef::str("state").choices(&["present", "absent", "latest", "forcereinstall"]),
        ArgDef::list("name"),
        ArgDef::str("version"),
        ArgDef::str("requirements"),
        ArgDef::path("virtualenv"),
        ArgDef::bool("virtualenv_site_packages"),
        ArgDef::path("virtualenv_command"),
        ArgDef::str("virtualenv_python"),
        ArgDef::str("extra_args"),
        ArgDef::bool("editable"),
        ArgDef::path("chdir"),
        ArgDef::path("executable"),
        ArgDef::str("umask"),
        ArgDef::bool("break_system_packages"),
    ])
    .exclusive(&[&["name", "requirements"], &["executable", "virtualenv"]]),
    run
);

/// The shell functions the plan's script uses (marker in `$M`): `pip ARGS` runs the pip found
/// (`$P`, or `-m` for the Python `$PY` with `-m pip`), `lpip` the same in the module's parsable
/// locale (`$L`), `listing NAME` the module's `_get_packages` as steps `NAME`/`NAMEf`.
const FUNCS: &str = r#"pip() { if [ "$P" = -m ]; then "$PY" -m pip "$@"; else "$P" "$@"; fi; }
lpip() ( export LANG="$L" LC_ALL="$L" LC_MESSAGES="$L"; pip "$@" )
listing() { step "$1" lpip list --format=freeze || step "$1f" pip freeze; }
bestlocale() { L=C; lc=$(binpath locale) || return 0; a=$("$lc" -a 2>/dev/null) || return 0
  for p in C.utf8 C.UTF-8 en_US.utf8 en_US.UTF-8 C POSIX; do
    printf '%s\n' "$a" | grep -qxF -- "$p" && { L=$p; return 0; }; done; }
"#;

/// What the module's `state` runs.
fn state_args(state: &str) -> &'static [&'static str] {
    match state {
        "absent" => &["uninstall", "-y"],
        "latest" => &["install", "-U"],
        "forcereinstall" => &["install", "-U", "--force-reinstall"],
        _ => &["install"],
    }
}

/// The module's `_is_venv_command`: `pyvenv`, or `-m venv` among the arguments.
fn is_venv_command(words: &[String]) -> bool {
    if words.first().map(String::as_str) == Some("pyvenv") {
        return true;
    }
    let rest = words.get(1..).unwrap_or_default();
    let mut m = None;
    let mut i = 0;
    while i < rest.len() {
        if rest[i] == "-m" {
            m = rest.get(i + 1).cloned();
            i += 1;
        } else if let Some(v) = rest[i].strip_prefix("-m") {
            m = Some(v.to_string());
        }
        i += 1;
    }
    m.as_deref() == Some("venv")
}

/// `path` joined to `base` as Python's `os.path.join` joins them.
fn join(base: &str, path: &str) -> String {
    if path.starts_with('/') || base.is_empty() {
        path.to_string()
    } else if base.ends_with('/') {
        format!("{base}{path}")
    } else {
        format!("{base}/{path}")
    }
}

/// The module's `_fail`: `stdout: OUT` and `\n:stderr: ERR`, each when not empty.
fn pip_failure(cmd: Value, out: &str, err: &str) -> ModuleOutcome {
    let mut msg = String::new();
    if !out.is_empty() {
        msg.push_str(&format!("stdout: {out}"));
    }
    if !err.is_empty() {
        msg.push_str(&format!("\n:stderr: {err}"));
    }
    ModuleOutcome::failed(msg).with("cmd", cmd)
}

/// A step's output as `run_command` returns it.
fn whole(s: &sysutil::Step) -> (String, String) {
    (s.out.clone(), s.err.clone())
}

/// Runs the module: see the module documentation above.
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`];
/// those of the Python path for the cases it runs.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let handover = |why: String| async move { fallback::python_path(FQCN, "pip", args, ctx, &why).await };
    let state = a.choice("state")?.unwrap_or_else(|| "present".into());
    let name = a.list("name")?;
    let version = a.str("version")?;
    let requirements = a.str("requirements")?;
    let chdir_arg = a.str("chdir")?;
    let executable = a.str("executable")?;
    let site = a.bool("virtualenv_site_packages", false)?;
    let venv_python = a.str("virtualenv_python")?;
    let venv_command = a
        .str("virtualenv_command")?
        .unwrap_or_else(|| "virtualenv".into());
    let mut extra_args = a.str("extra_args")?;
    if name.is_none() && requirements.is_none() {
        return Ok(ModuleOutcome::failed(
            "one of the following is required: name, requirements",
        ));
    }
    let mut env = a.str("virtualenv")?;
    if let (Some(e), Some(c)) = (&env, &chdir_arg) {
        env = Some(join(c, e));
    }
    let umask = match a.str("umask")? {
        Some(u) => match u32::from_str_radix(u.trim(), 8) {
            Ok(v) if !u.trim().is_empty() => Some(format!("{v:o}")),
            _ => {
                let details = format!("invalid literal for int() with base 8: {}", sysutil::py_repr(&u));
                return Ok(ModuleOutcome::failed("umask must be an octal integer").with("details", details));
            }
        },
        None => None,
    };
    if state == "latest" && version.is_some() {
        return Ok(ModuleOutcome::failed("version is incompatible with state=latest"));
    }

    // The names as the module's Package objects print them.
    let names = name.clone().unwrap_or_default();
    let mut packages: Vec<Package> = Vec::new();
    if !names.is_empty() {
        if names.iter().any(|n| pip_req::is_vcs_url(n)) {
            return handover("a VCS URL (the module compares pip freeze before and after)".into()).await;
        }
        for text in pip_req::recover_names(&names) {
            match pip_req::parse(&text) {
                Parsed::Package(p) => packages.push(p),
                Parsed::Unsure => {
                    return handover(format!("{text:?} is read by pip's own requirement parser")).await;
                }
            }
        }
        if let Some(v) = &version {
            if packages.len() > 1 {
                return Ok(ModuleOutcome::failed(
                    "'version' argument is ambiguous when installing multiple package distributions. Please specify version restrictions next to each package in 'name' argument.",
                ));
            }
            if packages[0].has_specifier() {
                return Ok(ModuleOutcome::failed(
                    "The 'version' argument conflicts with any version specifier provided along with a package name. Please keep the version specifier, but remove the 'version' argument.",
                ));
            }
            match packages[0].with_version(v) {
                Parsed::Package(p) => packages[0] = p,
                Parsed::Unsure => {
                    return handover(format!("version {v:?} is read by pip's own parser")).await;
                }
            }
        }
    }
    if a.bool("editable", false)? {
        let mut list: Vec<String> = extra_args
            .as_deref()
            .filter(|e| !e.is_empty())
            .map(|e| e.split(' ').map(str::to_string).collect())
            .unwrap_or_default();
        if !list.iter().any(|x| x == "-e") {
            list.push("-e".into());
            extra_args = Some(list.join(" "));
        }
    }
    let extra_words = match extra_args.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => match quote::split(e) {
            Ok(w) => w,
            Err(_) => return handover("extra_args Python's shlex refuses".into()).await,
        },
        None => Vec::new(),
    };
    let mut pip_args: Vec<String> = state_args(&state).iter().map(|s| s.to_string()).collect();
    pip_args.extend(extra_words);
    if !packages.is_empty() {
        pip_args.extend(packages.iter().map(|p| p.text.clone()));
    } else if let Some(r) = &requirements {
        pip_args.extend(["-r".to_string(), r.clone()]);
    } else {
        return Ok(ModuleOutcome::changed(false).warn("No valid name or requirements file found."));
    }
    let venv_words = match quote::split(&venv_command) {
        Ok(w) if !w.is_empty() => w,
        _ => return handover("a virtualenv_command Python's shlex refuses".into()).await,
    };
    let expands = |w: &String| w.contains('$') || w.starts_with('~');
    if pip_args.iter().chain(&venv_words).any(expands) {
        return handover("arguments run_command would expand on the host".into()).await;
    }
    let check_list = !(extra_args.as_deref().is_some_and(|e| !e.is_empty())
        || requirements.is_some()
        || state == "latest"
        || packages.is_empty());
    let list_around = requirements.is_some();
    let (py, discovered) = crate::modules::python::interpreter(ctx).await?;

    let m = sysutil::marker();
    let mut s = format!(
        "set -f\nM=$1 PY=$2\n{}{}{}{FUNCS}",
        sysutil::tools_probe(&[]),
        sysutil::STEP_FN,
        sysutil::BIN_PATH_FN
    );
    if let Some(u) = &umask {
        s.push_str(&format!("umask {u}\n"));
    }
    let chdir = chdir_arg.clone();
    match &chdir {
        Some(c) => s.push_str(&format!("cd -- {} 2>/dev/null\n", quote::quote(c))),
        None => s.push_str("cd -- \"${TMPDIR:-${TEMP:-${TMP:-/tmp}}}\" 2>/dev/null\n"),
    }
    if let Some(e) = &env {
        let q = quote::quote(e);
        s.push_str(&format!(
            "if [ ! -e {q}/bin/activate ]; then printf '%s created\\n' \"$M\"\n"
        ));
        if ctx.check {
            s.push_str("exit 0\n");
        } else {
            let c0 = quote::quote(&venv_words[0]);
            s.push_str(&format!(
                "c0={c0}; case $c0 in */*) ;; *) c0=$(binpath \"$c0\") || {{ printf '%s missing\\n' \"$M\"; exit 0; }} ;; esac\n"
            ));
            if site {
                s.push_str("x=--system-site-packages\n");
            } else {
                s.push_str("step help \"$c0\" --help || exit 0\nx=; for w in $(cat -- \"$o\"); do [ \"$w\" = --no-site-packages ] && x=$w; done\n");
            }
            let mut tail: Vec<String> = venv_words[1..].to_vec();
            let mut after = String::from(" $x");
            if is_venv_command(&venv_words) {
                if venv_python.is_some() {
                    s.push_str("printf '%s vpython\\n' \"$M\"; exit 0\n");
                }
            } else {
                let p = venv_python.clone().unwrap_or_else(|| py.clone());
                after.push_str(&format!(" {}", quote::quote(&format!("-p{p}"))));
            }
            tail.push(e.clone());
            let (last, front) = tail
                .split_last()
                .map_or((String::new(), &[][..]), |(l, f)| (l.clone(), f));
            s.push_str(&format!(
                "printf '%s venvcmd\\n%s\\n' \"$M\" \"$c0\"; printf '%s venvx\\n%s\\n' \"$M\" \"$x\"\nstep venv \"$c0\" {}{after} {} || exit 0\n",
                quote::join(front),
                quote::quote(&last)
            ));
        }
        s.push_str(&format!(
            "fi\nP=; for n in pip3 pip; do f={q}/bin/$n; [ -e \"$f\" ] && [ -x \"$f\" ] && {{ P=$f; break; }}; done\n"
        ));
    } else {
        match &executable {
            Some(x) if x.starts_with('/') => s.push_str(&format!("P={}\n", quote::quote(x))),
            Some(x) => s.push_str(&format!("P=$(binpath {}) || P=\n", quote::quote(x))),
            None => s.push_str(
                "if \"$PY\" -c 'import importlib.util,sys; sys.exit(not importlib.util.find_spec(\"pip\"))' 2>/dev/null; then P=-m; else P=$(binpath pip3) || P=; fi\n",
            ),
        }
    }
    s.push_str(
        "[ -n \"$P\" ] || { printf '%s nopip\\n' \"$M\"; exit 0; }\nprintf '%s pip\\n%s\\n' \"$M\" \"$P\"\n",
    );
    if a.bool("break_system_packages", false)? {
        s.push_str("export PIP_BREAK_SYSTEM_PACKAGES=1\n");
    }
    s.push_str("bestlocale\n");
    if ctx.check {
        if check_list {
            s.push_str("listing before || exit 0\n");
        }
    } else {
        if list_around {
            s.push_str("listing before || exit 0\n");
        }
        let path = match &env {
            Some(e) => format!("PATH={}/bin:$PATH; export PATH; ", quote::quote(e)),
            None => String::new(),
        };
        s.push_str(&format!(
            "ipip() ( {path}pip \"$@\" )\nstep install ipip {} || exit 0\n",
            quote::join(&pip_args)
        ));
        if list_around {
            s.push_str("listing after || exit 0\n");
        }
    }
    let out = sysutil::run_script(ctx, &s, &[m.clone(), py.clone()], None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let with_facts = |o: ModuleOutcome| {
        if discovered {
            o.with(
                "ansible_facts",
                serde_json::json!({"discovered_interpreter_python": py}),
            )
        } else {
            o
        }
    };
    let created = sysutil::section(&secs, "created").is_some();
    if created && ctx.check {
        return Ok(with_facts(ModuleOutcome::changed(true)));
    }
    let mut stdout = String::new();
    let mut stderr = String::new();
    if created {
        if sysutil::section(&secs, "missing").is_some() {
            let msg = sysutil::missing_tool(&secs, &venv_words[0]).unwrap_or_default();
            return Ok(with_facts(ModuleOutcome::failed(msg)));
        }
        let c0 = sysutil::section(&secs, "venvcmd")
            .unwrap_or_default()
            .trim_end()
            .to_string();
        if let Some(h) = sysutil::step(&secs, "help")
            && h.rc != 0
        {
            let (o, e) = whole(&h);
            return Ok(with_facts(ModuleOutcome::failed(format!(
                "Could not get output from {c0} --help: {o}{e}"
            ))));
        }
        if sysutil::section(&secs, "vpython").is_some() {
            return Ok(with_facts(ModuleOutcome::failed(
                "virtualenv_python should not be used when using the venv module or pyvenv as virtualenv_command",
            )));
        }
        let x = sysutil::section(&secs, "venvx")
            .unwrap_or_default()
            .trim_end()
            .to_string();
        let mut cmd = vec![c0];
        cmd.extend(venv_words[1..].iter().cloned());
        if !x.is_empty() {
            cmd.push(x);
        }
        if !is_venv_command(&venv_words) {
            cmd.push(format!("-p{}", venv_python.clone().unwrap_or_else(|| py.clone())));
        }
        cmd.extend(env.clone());
        let Some(v) = sysutil::step(&secs, "venv") else {
            return Ok(with_facts(ModuleOutcome::failed(format!(
                "the virtualenv could not be made on {}: {}",
                ctx.host,
                out.stderr_str().trim()
            ))));
        };
        let (o, e) = whole(&v);
        stdout.push_str(&o);
        stderr.push_str(&e);
        if v.rc != 0 {
            return Ok(with_facts(pip_failure(Value::from(cmd), &stdout, &stderr)));
        }
    }
    if sysutil::section(&secs, "nopip").is_some() {
        let msg = match (&env, &executable) {
            (Some(e), _) => format!(
                "Unable to find pip in the virtualenv, {e}, under any of these names: pip3, pip. Make sure pip is present in the virtualenv."
            ),
            (None, Some(x)) => format!("Unable to find any of {x} to use.  pip needs to be installed."),
            (None, None) => "Unable to find any of pip3 to use.  pip needs to be installed.".into(),
        };
        return Ok(with_facts(ModuleOutcome::failed(msg)));
    }
    let Some(found) = sysutil::section(&secs, "pip").map(|p| p.trim_end().to_string()) else {
        return Ok(with_facts(ModuleOutcome::failed(format!(
            "pip could not be run on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        ))));
    };
    let pip: Vec<String> = if found == "-m" {
        vec![py.clone(), "-m".into(), "pip".into()]
    } else {
        vec![found]
    };
    // The module's _get_packages: the command run, its output, or its failure.
    #[allow(clippy::result_large_err)] // the failure is the module's outcome, returned at once
    let listing = |n: &str| -> Result<(Vec<String>, String, String), ModuleOutcome> {
        let mut cmd = pip.clone();
        let (s, f) = match sysutil::step(&secs, n) {
            Some(s) if s.rc == 0 => (s, false),
            _ => match sysutil::step(&secs, &format!("{n}f")) {
                Some(s) => (s, true),
                None => return Err(ModuleOutcome::failed(format!("pip did not run on {}", ctx.host))),
            },
        };
        if f {
            cmd.push("freeze".into());
        } else {
            cmd.extend(["list".to_string(), "--format=freeze".to_string()]);
        }
        let (o, e) = whole(&s);
        if s.rc != 0 {
            return Err(pip_failure(Value::from(cmd), &o, &e));
        }
        Ok((cmd, o, e))
    };
    if ctx.check {
        if !check_list {
            return Ok(with_facts(ModuleOutcome::changed(true)));
        }
        let (cmd, o, e) = match listing("before") {
            Ok(l) => l,
            Err(f) => return Ok(with_facts(f)),
        };
        let freeze = cmd.last().map(String::as_str) == Some("freeze");
        if freeze && names.iter().any(|n| n == "pip" || n == "setuptools") {
            return handover("pip freeze leaves pip and setuptools out".into()).await;
        }
        stdout.push_str(&o);
        stderr.push_str(&e);
        let installed: Vec<(String, String)> = stdout
            .split('\n')
            .filter(|l| {
                !l.is_empty() && !l.starts_with("You are using") && !l.starts_with("You should consider")
            })
            .filter_map(|l| {
                let (n, v) = l.split_once("==")?;
                (!v.contains("==")).then(|| (pip_req::canonical(n), v.to_string()))
            })
            .collect();
        let mut changed = false;
        for p in &packages {
            let mut present = false;
            for (n, v) in installed.iter().filter(|(n, _)| *n == p.key) {
                let _ = n;
                match p.satisfied_by(v) {
                    Some(true) => present = true,
                    Some(false) => {}
                    None => {
                        return handover(format!("installed version {v:?} is compared by packaging")).await;
                    }
                }
            }
            if (state == "present" && !present) || (state == "absent" && present) {
                changed = true;
                break;
            }
        }
        let o = ModuleOutcome::changed(changed)
            .with("cmd", cmd.join(" "))
            .with("stdout_lines", sysutil::splitlines(&stdout))
            .with("stderr_lines", sysutil::splitlines(&stderr))
            .with("stdout", stdout)
            .with("stderr", stderr);
        return Ok(with_facts(o));
    }
    let before = if list_around {
        match listing("before") {
            Ok((_, o, _)) => Some(o),
            Err(f) => return Ok(with_facts(f)),
        }
    } else {
        None
    };
    let mut cmd = pip.clone();
    cmd.extend(pip_args.iter().cloned());
    let Some(inst) = sysutil::step(&secs, "install") else {
        return Ok(with_facts(ModuleOutcome::failed(format!(
            "pip did not run on {}: {}",
            ctx.host,
            out.stderr_str().trim()
        ))));
    };
    let (o, e) = whole(&inst);
    stdout.push_str(&o);
    stderr.push_str(&e);
    let not_installed =
        inst.rc == 1 && state == "absent" && (o.contains("not installed") || e.contains("not installed"));
    if inst.rc != 0 && !not_installed {
        return Ok(with_facts(pip_failure(Value::from(cmd), &stdout, &stderr)));
    }
    let changed = if state == "absent" {
        o.contains("Successfully uninstalled")
    } else if let Some(b) = before {
        match listing("after") {
            Ok((_, after, _)) => after != b,
            Err(f) => return Ok(with_facts(f)),
        }
    } else {
        o.contains("Successfully installed")
    };
    let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::from);
    let o = ModuleOutcome::changed(changed || created)
        .with("cmd", cmd)
        .with("name", name.map_or(Value::Null, Value::from))
        .with("version", opt(&version))
        .with("state", state.as_str())
        .with("requirements", opt(&requirements))
        .with("virtualenv", opt(&env))
        .with("stdout_lines", sysutil::splitlines(&stdout))
        .with("stderr_lines", sysutil::splitlines(&stderr))
        .with("stdout", stdout)
        .with("stderr", stderr);
    Ok(with_facts(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venv_commands_are_recognised_as_the_module_does() {
        let w = |s: &str| quote::split(s).unwrap_or_default();
        assert!(is_venv_command(&w("python3 -m venv")));
        assert!(is_venv_command(&w("/usr/bin/python3 -mvenv")));
        assert!(is_venv_command(&w("pyvenv")));
        assert!(!is_venv_command(&w("virtualenv")));
        assert!(!is_venv_command(&w("python3 -m virtualenv")));
        assert_eq!(join("/srv", "venv"), "/srv/venv");
        assert_eq!(join("/srv", "/opt/v"), "/opt/v");
    }
}
