//! `community.general.locale_gen` (and `locale_gen`) without Python on the host, for the
//! module's `glibc` mechanism (`/etc/locale.gen` and `locale-gen`, Debian and Ubuntu today):
//! its `ModuleHelper` flow (the names checked against `/usr/share/i18n/SUPPORTED` and
//! `locale -a`, the state tracked as "all names present", the file edit of `set_locale_glibc`,
//! `locale-gen`, `locale -a` again), its results (`name`, `ubuntu_mode`, `mechanism`; `diff`
//! `{}` under `--diff`), its failures (with `output` and `vars` as `ModuleHelper` adds them) and
//! its check mode (nothing run, never changed). One round trip reads; one more edits and
//! generates. The `ubuntu_legacy` mechanism (`/var/lib/locales/supported.d`), names the
//! module's replacement template would read differently (`\`), and files that are not UTF-8
//! or hold `\r` run the collection's module (the Python path).

use serde_json::{Map, Value, json};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan, fallback, sysutil};
use crate::vars::{Vars, as_string};

const FQCN: &str = "community.general.locale_gen";
const ETC_LOCALE_GEN: &str = "/etc/locale.gen";
const SUPPORTED: &str = "/usr/share/i18n/SUPPORTED";

crate::module_info!(
    /// `locale_gen`: `name`, `state`.
    INFO,
    "locale_gen",
    ArgSpec::new(&[
        ArgDef::list("name").required(),
        ArgDef::str("state").choices(&["absent", "present"]),
    ]),
    plan = plan,
    apply = apply
);

/// The module's `LOCALE_NORMALIZATION`, applied in order by its `fix_case`.
const NORMALIZATION: &[(&str, &str)] = &[
    (".utf8", ".UTF-8"),
    (".eucjp", ".EUC-JP"),
    (".iso885915", ".ISO-8859-15"),
    (".cp1251", ".CP1251"),
    (".koi8r", ".KOI8-R"),
    (".armscii8", ".ARMSCII-8"),
    (".euckr", ".EUC-KR"),
    (".gbk", ".GBK"),
    (".gb18030", ".GB18030"),
    (".euctw", ".EUC-TW"),
];

/// The module's `fix_case`: `locale -a`'s lower-case encodings as the names write them.
pub fn fix_case(name: &str) -> String {
    NORMALIZATION
        .iter()
        .fold(name.to_string(), |n, (from, to)| n.replace(from, to))
}

/// The names of `names` that `locale -a` (`listing`) does not show (the module's
/// `locale_get_not_present`).
pub fn not_present(names: &[String], listing: &str) -> Vec<String> {
    let have: Vec<String> = listing.lines().map(fix_case).collect();
    names
        .iter()
        .filter(|n| !have.contains(&fix_case(n)))
        .cloned()
        .collect()
}

/// The names of `names` that no line of `SUPPORTED` offers (the module's `assert_available`
/// before it asks `locale -a`).
pub fn not_in_supported(names: &[String], supported: &str) -> Vec<String> {
    let Ok(re) = regex::Regex::new(r"^\s*#?\s*(?P<locale>\S+[\._\S]+) (?P<charset>\S+)\s*$") else {
        return names.to_vec();
    };
    let offered: Vec<&str> = supported
        .split_inclusive('\n')
        .filter_map(|l| re.captures(l)?.name("locale").map(|m| m.as_str()))
        .collect();
    names
        .iter()
        .filter(|n| !offered.contains(&n.as_str()))
        .cloned()
        .collect()
}

/// The module's `set_locale_glibc`: each line that names one of `names` (commented or not)
/// rewritten as `NAME CHARSET` (`enabled`) or `# NAME CHARSET`.
pub fn set_locales(content: &str, names: &[String], enabled: bool) -> String {
    let edits: Vec<(regex::Regex, String)> = names
        .iter()
        .filter_map(|n| {
            let re = regex::Regex::new(&format!(r"^#?\s*{} (?P<charset>.+)", regex::escape(n))).ok()?;
            let to = if enabled {
                format!("{} ${{charset}}", n.replace('$', "$$"))
            } else {
                format!("# {} ${{charset}}", n.replace('$', "$$"))
            };
            Some((re, to))
        })
        .collect();
    content
        .split_inclusive('\n')
        .map(|line| {
            edits.iter().fold(line.to_string(), |l, (re, to)| {
                re.replacen(&l, 1, to.as_str()).into_owned()
            })
        })
        .collect()
}

/// Reads the host (`$1` the marker): the mechanism, `locale`'s path, `SUPPORTED` and
/// `/etc/locale.gen` (`R` and the text with a newline added, or `E` and `cat`'s error), and
/// `locale -a` in the C locale.
const READ: &str = r#"printf '%s mech\n' "$M"
if [ -e /etc/locale.gen ]; then echo glibc; elif [ -e /var/lib/locales/supported.d ]; then echo ubuntu_legacy; else exit 0; fi
L=$(binpath locale) || { printf '%s missing\nlocale\n' "$M"; exit 0; }
readf supported /usr/share/i18n/SUPPORTED; readf gen /etc/locale.gen
step la env LANGUAGE=C LC_ALL=C "$L" -a
"#;

/// Writes `/etc/locale.gen` from stdin in place (`$2` = 1), then runs `locale-gen` and
/// `locale -a` in the C locale, stopping at the first failure.
const WRITE: &str = r#"if [ "$2" = 1 ]; then step write sh -c 'cat > /etc/locale.gen' || exit 0; fi
G=$(binpath locale-gen) || { printf '%s missing\nlocale-gen\n' "$M"; exit 0; }
printf '%s gen_path\n%s\n' "$M" "$G"
step gen env LANGUAGE=C LC_ALL=C "$G" || exit 0
L=$(binpath locale) || { printf '%s missing\nlocale\n' "$M"; exit 0; }
printf '%s locale_path\n%s\n' "$M" "$L"
step la env LANGUAGE=C LC_ALL=C "$L" -a
"#;

/// A file read by [`READ`]: its text, or the module's exception message for it.
fn file_section(secs: &[(&str, &str)], name: &str, path: &str) -> Result<String, String> {
    let body = sysutil::section(secs, name).unwrap_or_default();
    sysutil::read_file_section(body, path).map_err(|why| format!("Module failed with exception: {why}"))
}

/// The module's output variables so far, in `ModuleHelper`'s order.
fn output(names: &[String], mechanism: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(names));
    if mechanism {
        m.insert("ubuntu_mode".into(), json!(false));
        m.insert("mechanism".into(), json!("glibc"));
    }
    m
}

/// A result with `ModuleHelper`'s output (and `diff: {}` under `--diff`).
fn with_output(mut o: ModuleOutcome, vars: &Map<String, Value>, diff: bool) -> ModuleOutcome {
    let mut out = vars.clone();
    if diff {
        out.insert("diff".into(), json!({}));
    }
    for (k, v) in &out {
        o = o.with(k, v.clone());
    }
    o
}

/// `ModuleHelper`'s failure for an exception: `msg`, the output variables, `output` (with
/// `diff` under `--diff`) and `vars`.
fn mh_failure(msg: &str, vars: &Map<String, Value>, diff: bool) -> ModuleOutcome {
    let mut out = vars.clone();
    if diff {
        out.insert("diff".into(), json!({}));
    }
    with_output(ModuleOutcome::failed(msg), vars, diff)
        .with("output", Value::Object(out))
        .with("vars", Value::Object(vars.clone()))
}

/// What [`apply`] does.
#[derive(Debug)]
pub struct Work {
    names: Vec<String>,
    /// The new `/etc/locale.gen`, or the module's exception reading it.
    content: Result<String, String>,
    was_present: bool,
    diff: bool,
}

/// Reads the host and decides as the module's `__init_module__` and state method: the
/// mechanism, the names' availability, whether all are present; nothing to do when that is
/// the state asked for.
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`];
/// those of the Python path for the cases it runs.
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<Work>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let handover = |why: String| async move {
        fallback::python_path(FQCN, "locale_gen", args, ctx, &why)
            .await
            .map(Plan::Done)
    };
    let names: Vec<String> = match a.value("name") {
        Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
        Some(Value::Array(items))
            if items
                .iter()
                .all(|i| !i.is_array() && !i.is_object() && !i.is_null()) =>
        {
            items.iter().map(as_string).collect()
        }
        Some(v @ (Value::Number(_) | Value::Bool(_))) => vec![as_string(v)],
        _ => return handover("name is not a list of strings".into()).await,
    };
    if names.iter().any(|n| n.contains('\\')) {
        return handover("a name the module's replacement template reads".into()).await;
    }
    let present_wanted = a.choice("state")?.as_deref() != Some("absent");
    let m = sysutil::marker();
    let script = format!(
        "M=$1\n{}{}{}{}{READ}",
        sysutil::tools_probe(&[]),
        sysutil::STEP_FN,
        sysutil::BIN_PATH_FN,
        sysutil::READ_FILE_FN
    );
    let out = sysutil::run_script(ctx, &script, std::slice::from_ref(&m), None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let base = output(&names, false);
    match sysutil::section(&secs, "mech").map(str::trim) {
        Some("glibc") => {}
        Some("ubuntu_legacy") => return handover("the ubuntu_legacy mechanism".into()).await,
        Some(_) => {
            let msg = "/var/lib/locales/supported.d and /etc/locale.gen are missing. Is the package \"locales\" installed?";
            return Ok(Plan::Done(mh_failure(msg, &base, ctx.diff)));
        }
        None => {
            return Ok(Plan::Done(ModuleOutcome::failed(format!(
                "cannot read locales on {} ({}): {}",
                ctx.host,
                out.status,
                out.stderr_str().trim()
            ))));
        }
    }
    if let Some(tool) = sysutil::section(&secs, "missing") {
        let msg = sysutil::missing_tool(&secs, tool.trim()).unwrap_or_default();
        return Ok(Plan::Done(ModuleOutcome::failed(msg)));
    }
    let vars = output(&names, true);
    if text.contains('\u{fffd}') || text.contains('\r') {
        return handover("a file that is not UTF-8 or holds carriage returns".into()).await;
    }
    let supported = match file_section(&secs, "supported", SUPPORTED) {
        Ok(s) => s,
        Err(msg) => return Ok(Plan::Done(mh_failure(&msg, &vars, ctx.diff))),
    };
    let Some(la) = sysutil::step(&secs, "la") else {
        return Ok(Plan::Done(ModuleOutcome::failed("locale -a did not run")));
    };
    let locale_path = sysutil::section(&secs, "locale")
        .unwrap_or_default()
        .trim()
        .to_string();
    if la.rc != 0 {
        let cmd = vec![locale_path, "-a".into()];
        return Ok(Plan::Done(sysutil::command_failure(&cmd, &la)));
    }
    let unavailable = not_present(&not_in_supported(&names, &supported), &la.out);
    if !unavailable.is_empty() {
        let msg = format!(
            "The following locales you have entered are not available on your system: {}",
            unavailable.join(", ")
        );
        return Ok(Plan::Done(mh_failure(&msg, &vars, ctx.diff)));
    }
    let was_present = not_present(&names, &la.out).is_empty();
    let done = with_output(ModuleOutcome::ok(), &vars, ctx.diff);
    if was_present == present_wanted {
        return Ok(Plan::Done(done));
    }
    let content = file_section(&secs, "gen", ETC_LOCALE_GEN).map(|c| set_locales(&c, &names, present_wanted));
    // Check mode skips the change and finds the state unchanged: never changed.
    Ok(Plan::Change(
        done,
        Work {
            names,
            content,
            was_present,
            diff: ctx.diff,
        },
    ))
}

/// Edits `/etc/locale.gen`, runs `locale-gen` and reads `locale -a` again: changed when the
/// names' presence changed. Failures as the module's (`Module failed with exception: [Errno
/// N] ...` with the output variables; `run_command`'s for the commands; a missing program).
///
/// Errors: [`ModuleError::Transport`] when the host connection broke.
pub async fn apply(
    w: Work,
    _planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let vars = output(&w.names, true);
    let content = match w.content {
        Ok(c) => c,
        Err(msg) => return Ok(mh_failure(&msg, &vars, w.diff)),
    };
    let m = sysutil::marker();
    let script = format!(
        "M=$1\n{}{}{}{WRITE}",
        sysutil::tools_probe(&[]),
        sysutil::STEP_FN,
        sysutil::BIN_PATH_FN
    );
    let out = sysutil::run_script(ctx, &script, &[m.clone(), "1".into()], Some(content.into_bytes())).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    if let Some(s) = sysutil::step(&secs, "write")
        && s.rc != 0
    {
        let why =
            sysutil::python_os_error(&s.err, ETC_LOCALE_GEN).unwrap_or_else(|| s.err.trim().to_string());
        return Ok(mh_failure(
            &format!("Module failed with exception: {why}"),
            &vars,
            w.diff,
        ));
    }
    if let Some(tool) = sysutil::section(&secs, "missing") {
        let msg = sysutil::missing_tool(&secs, tool.trim()).unwrap_or_default();
        return Ok(ModuleOutcome::failed(msg));
    }
    let path = |n: &str| sysutil::section(&secs, n).unwrap_or_default().trim().to_string();
    for (step, argv) in [
        ("gen", vec![path("gen_path")]),
        ("la", vec![path("locale_path"), "-a".into()]),
    ] {
        match sysutil::step(&secs, step) {
            Some(s) if s.rc == 0 => {}
            Some(s) => return Ok(sysutil::command_failure(&argv, &s)),
            None => {
                return Ok(ModuleOutcome::failed(format!(
                    "cannot generate locales on {} ({}): {}",
                    ctx.host,
                    out.status,
                    out.stderr_str().trim()
                )));
            }
        }
    }
    let listing = sysutil::step(&secs, "la").map(|s| s.out).unwrap_or_default();
    let now_present = not_present(&w.names, &listing).is_empty();
    Ok(with_output(
        ModuleOutcome::changed(now_present != w.was_present),
        &vars,
        w.diff,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_found_as_the_module_finds_them() {
        assert_eq!(fix_case("en_US.utf8"), "en_US.UTF-8");
        assert_eq!(fix_case("de_DE.iso885915@euro"), "de_DE.ISO-8859-15@euro");
        let listing = "C\nC.utf8\nPOSIX\nen_US.utf8\n";
        assert!(not_present(&v(&["C.UTF-8", "en_US.UTF-8"]), listing).is_empty());
        assert_eq!(not_present(&v(&["de_CH.UTF-8"]), listing), v(&["de_CH.UTF-8"]));
        let supported =
            "C.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\nen_US ISO-8859-1\n# x_Y.UTF-8 UTF-8\nbad line here\n";
        assert_eq!(
            not_in_supported(&v(&["en_US", "x_Y.UTF-8", "bad", "zz"]), supported),
            v(&["bad", "zz"])
        );
    }

    #[test]
    fn locale_gen_lines_edited_as_the_module_edits_them() {
        let f =
            "# header\n# en_US.UTF-8 UTF-8\n#  en_US ISO-8859-1\nde_CH.UTF-8 UTF-8\n# en_US.UTF-8X UTF-8\n";
        assert_eq!(
            set_locales(f, &v(&["en_US.UTF-8", "en_US"]), true),
            "# header\nen_US.UTF-8 UTF-8\nen_US ISO-8859-1\nde_CH.UTF-8 UTF-8\n# en_US.UTF-8X UTF-8\n"
        );
        assert_eq!(
            set_locales(f, &v(&["de_CH.UTF-8"]), false),
            "# header\n# en_US.UTF-8 UTF-8\n#  en_US ISO-8859-1\n# de_CH.UTF-8 UTF-8\n# en_US.UTF-8X UTF-8\n"
        );
        // No newline at the end, a name with regex characters.
        assert_eq!(set_locales("# a+b.X Y", &v(&["a+b.X"]), true), "a+b.X Y");
    }
}
