//! `timezone` (`community.general.timezone`; ansible-core routes the short name to the
//! collection) without Python on the host, for the module's `NosystemdTimezone` on Debian (a
//! Linux host where `timedatectl` does not answer and `dpkg-reconfigure` is installed):
//! `/etc/timezone` with `/etc/localtime` for `name`, `/etc/default/rcS` and `/etc/adjtime`
//! with `hwclock --systohc` for `hwclock`. One round trip reads the host; one more makes the
//! module's changes in its order and reads the state again for its final comparison. A host
//! whose `timedatectl` answers (`SystemdTimezone`), another family (RHEL's sysconfig, Alpine,
//! Gentoo), another kernel, or a file the module could not read runs the collection's module
//! through the Python path.

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::py_repr;
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan, fallback, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `timezone`: `name`, `hwclock`/`rtc`.
    INFO,
    "timezone",
    ArgSpec::new(&[
        ArgDef::str("hwclock").aliases(&["rtc"]).choices(&["local", "UTC"]),
        ArgDef::str("name"),
    ]),
    plan = plan,
    apply = apply
);

/// The collection's module, for what talon hands over.
const FQCN: &str = "community.general.timezone";

/// A configuration file as the host showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conf {
    /// Missing (`ENOENT`: the module reads it as empty or absent).
    Missing,
    /// Its text.
    Text(String),
    /// A folder or unreadable: the module aborts (the Python path says how).
    Unreadable,
}

/// The state the module's `get` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// `/etc/timezone`.
    pub timezone: Conf,
    /// `/etc/default/rcS`.
    pub rcs: Conf,
    /// `/etc/adjtime`.
    pub adjtime: Conf,
    /// `/etc/localtime`: `L TARGET` (a link to an existing file), `B` (a broken link), `SAME`
    /// or `DIFF` (a file, compared with the planned zone's).
    pub localtime: String,
}

fn first_group(re: &str, text: &str) -> Option<String> {
    Regex::new(re)
        .ok()?
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

/// The module's `get('hwclock', phase)`: `/etc/default/rcS`'s `UTC=` as `UTC` or `local`
/// (`n/a` without one); when that is the planned value, `/etc/adjtime`'s `UTC` or `LOCAL`
/// line decides (`UTC` without one). `Err(value)`: a `UTC=` value that is not a boolean word
/// (the module fails on it).
pub fn get_hwclock(s: &State, planned: &str) -> Result<String, String> {
    let v = match &s.rcs {
        Conf::Text(t) => match first_group(r"(?m)^UTC\s*=\s*(\S+)", t) {
            Some(word) => match crate::vars::as_bool(&Value::String(word.clone())) {
                Some(true) => "UTC".to_string(),
                Some(false) => "local".to_string(),
                None => return Err(word),
            },
            None => "n/a".into(),
        },
        _ => "n/a".into(),
    };
    if v != planned {
        return Ok(v);
    }
    Ok(match &s.adjtime {
        Conf::Text(t) => match first_group(r"(?m)^(UTC|LOCAL)$", t).as_deref() {
            Some("LOCAL") => "local".into(),
            _ => "UTC".into(),
        },
        _ => "UTC".into(),
    })
}

/// The module's `get('name', phase)`: `/etc/timezone`'s first word at a line's start (`n/a`
/// without one; `None` in the `after` phase, where the module aborts); when that is the
/// planned zone, `/etc/localtime` must be a link into a `zoneinfo` folder naming it (the link's
/// zone otherwise, `n/a` for a broken link or one elsewhere) or a file equal to the zone's.
pub fn get_name(s: &State, planned: &str, after: bool) -> Option<String> {
    let v = match &s.timezone {
        Conf::Text(t) => match first_group(r"(?m)^(\S+)", t) {
            Some(v) => v,
            None if after => return None,
            None => "n/a".into(),
        },
        _ => "n/a".into(),
    };
    if v != planned {
        return Some(v);
    }
    let lt = s.localtime.trim_end();
    Some(match lt.split_once('\n') {
        Some(("L", target)) => match first_group(r"/(?:usr/share|etc)/zoneinfo/(.*)", target) {
            Some(z) if z != planned => z,
            Some(_) => v,
            None => "n/a".into(),
        },
        _ if lt == "SAME" => v,
        _ => "n/a".into(),
    })
}

/// The module's `_edit_file`: every line `re` finds removed, `value` put where the first of
/// them was (else first); returns the text and how many lines went.
pub fn edit_file(text: &str, re: &str, value: &str) -> (String, usize) {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let Ok(re) = Regex::new(re) else {
        return (text, 0);
    };
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let matched: Vec<usize> = (0..lines.len()).filter(|i| re.is_match(lines[*i])).collect();
    let at = matched.first().copied().unwrap_or(0);
    for i in matched.iter().rev() {
        lines.remove(*i);
    }
    lines.insert(at, value);
    (lines.concat(), matched.len())
}

/// Python's `str()` of the module's value dict (`{'hwclock': 'UTC', 'name': 'Etc/UTC'}`).
fn py_dict(keys: &[(&str, &str)]) -> String {
    let items: Vec<String> = keys
        .iter()
        .map(|(k, v)| format!("{}: {}", py_repr(k), py_repr(v)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// The module's value dict as JSON.
fn values(v: &[(&str, String)]) -> Value {
    Value::Object(
        v.iter()
            .map(|(k, x)| ((*k).to_string(), json!(x)))
            .collect::<Map<_, _>>(),
    )
}

/// The module's `abort`: the message, then the messages gathered so far.
fn abort(msg: &str, gathered: &[String]) -> ModuleOutcome {
    let mut lines = vec!["Error message:".to_string(), msg.to_string()];
    if !gathered.is_empty() {
        lines.push("Other message(s):".into());
        lines.extend(gathered.iter().cloned());
    }
    ModuleOutcome::failed(lines.join("\n"))
}

/// Prints the state under marker `$M` for zone `$Z`: each file (`N` missing, `D` a folder or
/// unreadable, `R` and its text) and `/etc/localtime`.
const STATE: &str = r#"fstate() { printf '%s %s\n' "$M" "$2"; if [ -d "$1" ]; then echo D; elif [ ! -e "$1" ]; then echo N; elif [ -r "$1" ]; then echo R; cat -- "$1"; else echo D; fi; }
fstate /etc/timezone timezone; fstate /etc/default/rcS rcs; fstate /etc/adjtime adjtime
printf '%s localtime\n' "$M"
if [ -L /etc/localtime ]; then if [ -e /etc/localtime ]; then echo L; readlink /etc/localtime; else echo B; fi
elif [ -n "$Z" ] && cmp -s /etc/localtime "/usr/share/zoneinfo/$Z" 2>/dev/null; then echo SAME; else echo DIFF; fi
printf '%s end\n' "$M"
"#;

/// Reads the host (`$1` marker, `$2` the zone): the kernel, whether `timedatectl` answers,
/// the programs' paths, whether the zone file exists, then [`STATE`].
const READ: &str = r#"M=$1 Z=$2
printf '%s os\n' "$M"; uname -s
printf '%s tdc\n' "$M"; if command -v timedatectl >/dev/null 2>&1; then timedatectl >/dev/null 2>&1; echo $?; fi
printf '%s bins\n' "$M"; for t in cp hwclock dpkg-reconfigure ln; do p=$(command -v "$t") && printf '%s %s\n' "$t" "$p"; done
printf '%s zone\n' "$M"; [ -f "/usr/share/zoneinfo/$Z" ] && echo yes
"#;

/// Makes the changes in the module's order, stopping at the first failure (`$2`..`$4`: rcS
/// text or `-` to leave it, hwclock path, its option; `$5`..`$8`: timezone text or `-`, ln
/// path, zone file, dpkg-reconfigure path), then prints [`STATE`] for zone `$Z`.
const WRITE: &str = r#"if [ "$2" != - ]; then
  printf '%s' "$2" > /etc/default/rcS || { printf '%s werr\nhwclock\n' "$M"; exit 0; }
  step hwclock "$3" --systohc "$4" || exit 0
fi
if [ "$5" != - ]; then
  printf '%s' "$5" > /etc/timezone || { printf '%s werr\nname\n' "$M"; exit 0; }
  step ln "$6" -sf "$7" /etc/localtime || exit 0
  step dpkg "$8" --frontend noninteractive tzdata || exit 0
fi
printf '%s after\n' "$M"
"#;

fn conf(secs: &[(&str, &str)], name: &str) -> Option<Conf> {
    let body = sysutil::section(secs, name)?;
    Some(match body.split_once('\n') {
        Some(("R", text)) => Conf::Text(text.to_string()),
        Some(("N", _)) => Conf::Missing,
        _ => Conf::Unreadable,
    })
}

fn state(secs: &[(&str, &str)]) -> Option<State> {
    Some(State {
        timezone: conf(secs, "timezone")?,
        rcs: conf(secs, "rcs")?,
        adjtime: conf(secs, "adjtime")?,
        localtime: sysutil::section(secs, "localtime")?.to_string(),
    })
}

/// One of [`WRITE`]'s commands: its step name, the file edit before it (text and lines
/// deleted) and the file, its argv.
type Action<'w> = (
    &'static str,
    Option<&'w (String, usize)>,
    &'static str,
    Vec<String>,
);

/// What [`apply`] changes, and what it needs to judge the result.
#[derive(Debug)]
pub struct Work {
    hwclock: Option<String>,
    name: Option<String>,
    before: Vec<(&'static str, String)>,
    rcs: Option<(String, usize)>,
    timezone: Option<(String, usize)>,
    bins: std::collections::HashMap<String, String>,
}

/// Reads the host and decides, as the module's `main` up to its check: the `before` values,
/// `diff` (`before`/`after` dicts of the given keys) and `changed`.
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`];
/// those of the Python path for the cases it runs.
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<Work>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let hwclock = a.choice("hwclock")?;
    let name = a.str("name")?;
    if hwclock.is_none() && name.is_none() {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "one of the following is required: hwclock, name",
        )));
    }
    let m = sysutil::marker();
    let zone = name.clone().unwrap_or_default();
    let script = format!("{}{READ}{STATE}", sysutil::tools_probe(&[]));
    let out = sysutil::run_script(ctx, &script, &[m.clone(), zone.clone()], None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let (Some(os), Some(before_state)) = (sysutil::section(&secs, "os"), state(&secs)) else {
        return Ok(Plan::Done(ModuleOutcome::failed(format!(
            "cannot read the time zone on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        ))));
    };
    let bins: std::collections::HashMap<String, String> = sysutil::section(&secs, "bins")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let handover = |why: String| async move {
        fallback::python_path(FQCN, "timezone", args, ctx, &why)
            .await
            .map(Plan::Done)
    };
    if os.trim() != "Linux" {
        return handover(format!("a {} host", os.trim())).await;
    }
    if sysutil::section(&secs, "tdc").unwrap_or_default().trim() == "0" {
        return handover("timedatectl answers (the module's SystemdTimezone)".into()).await;
    }
    // NosystemdTimezone.__init__, in its order.
    if name.is_some() && sysutil::section(&secs, "zone").unwrap_or_default().trim() != "yes" {
        let msg = format!("given timezone \"{zone}\" is not available");
        return Ok(Plan::Done(abort(&msg, &[])));
    }
    for tool in ["cp", "hwclock"]
        .into_iter()
        .filter(|t| *t == "hwclock" || name.is_some())
    {
        if !bins.contains_key(tool) {
            return Ok(Plan::Done(ModuleOutcome::failed(
                sysutil::missing_tool(&secs, tool).unwrap_or_default(),
            )));
        }
    }
    if !bins.contains_key("dpkg-reconfigure") {
        return handover("no dpkg-reconfigure (not the module's Debian branch)".into()).await;
    }
    if name.is_some() && !bins.contains_key("ln") {
        return Ok(Plan::Done(ModuleOutcome::failed(
            sysutil::missing_tool(&secs, "ln").unwrap_or_default(),
        )));
    }
    let s = &before_state;
    let unreadable = [
        (&s.timezone, name.is_some()),
        (&s.rcs, hwclock.is_some()),
        (&s.adjtime, hwclock.is_some()),
    ];
    if unreadable
        .iter()
        .any(|(c, used)| *used && matches!(c, Conf::Unreadable))
    {
        return handover("a configuration file the module cannot read".into()).await;
    }
    let texts = [&s.timezone, &s.rcs];
    if texts
        .iter()
        .any(|c| matches!(c, Conf::Text(t) if t.contains('\u{fffd}')))
    {
        return handover("a configuration file that is not UTF-8".into()).await;
    }
    // check('before'), keys in the module's order: hwclock, name.
    let mut before: Vec<(&'static str, String)> = Vec::new();
    let mut planned: Vec<(&'static str, String)> = Vec::new();
    if let Some(h) = &hwclock {
        match get_hwclock(s, h) {
            Ok(v) => before.push(("hwclock", v)),
            Err(word) => return handover(format!("UTC={word} in /etc/default/rcS is not a boolean")).await,
        }
        planned.push(("hwclock", h.clone()));
    }
    if let Some(n) = &name {
        before.push(("name", get_name(s, n, false).unwrap_or_default()));
        planned.push(("name", n.clone()));
    }
    let changed = before != planned;
    let diff = json!({"before": values(&before), "after": values(&planned)});
    let mut o = ModuleOutcome::changed(changed).with("diff", diff.clone());
    if ctx.diff {
        o.diff = crate::modules::python::shown_diffs(&diff);
    }
    if !changed {
        return Ok(Plan::Done(o));
    }
    let set = |k: &str| {
        before
            .iter()
            .zip(&planned)
            .any(|((bk, b), (_, p))| *bk == k && b != p)
    };
    let text_of = |c: &Conf| match c {
        Conf::Text(t) => t.clone(),
        _ => String::new(),
    };
    let rcs = (set("hwclock")).then(|| {
        let utc = if hwclock.as_deref() == Some("local") {
            "no"
        } else {
            "yes"
        };
        edit_file(&text_of(&s.rcs), r"^UTC\s*=\s*(\S+)", &format!("UTC={utc}\n"))
    });
    let timezone = set("name").then(|| edit_file(&text_of(&s.timezone), r"^(\S+)", &format!("{zone}\n")));
    Ok(Plan::Change(
        o,
        Work {
            hwclock,
            name,
            before,
            rcs,
            timezone,
            bins,
        },
    ))
}

/// Makes the module's changes (`set` per key whose value differs: the file edit, then its
/// commands) and its final check: the values read again must be the planned ones. Result:
/// `changed`, `diff` (before and after), `msg` with the module's messages (`Added 1 line and
/// deleted N line(s) on FILE`, `executed \`HWCLOCK --systohc --utc\``); a failed command as
/// the module's `run_command(check_rc=True)` (`cmd`, `rc`, `stdout`, `stderr`, `msg`).
///
/// Errors: [`ModuleError::Transport`] when the host connection broke.
pub async fn apply(
    w: Work,
    planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let m = sysutil::marker();
    let bin = |t: &str| w.bins.get(t).cloned().unwrap_or_default();
    let zone = w.name.clone().unwrap_or_default();
    let option = if w.hwclock.as_deref() == Some("local") {
        "--localtime"
    } else {
        "--utc"
    };
    let text = |e: &Option<(String, usize)>| e.as_ref().map_or("-".to_string(), |(t, _)| t.clone());
    let wargs = [
        m.clone(),
        text(&w.rcs),
        bin("hwclock"),
        option.into(),
        text(&w.timezone),
        bin("ln"),
        format!("/usr/share/zoneinfo/{zone}"),
        bin("dpkg-reconfigure"),
        zone.clone(),
    ];
    let script = format!("M=$1 Z=$9\n{}{WRITE}{STATE}", sysutil::STEP_FN);
    let out = sysutil::run_script(ctx, &script, &wargs, None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let mut msgs: Vec<String> = Vec::new();
    let steps: [Action<'_>; 3] = [
        (
            "hwclock",
            w.rcs.as_ref(),
            "/etc/default/rcS",
            vec![bin("hwclock"), "--systohc".into(), option.into()],
        ),
        (
            "ln",
            w.timezone.as_ref(),
            "/etc/timezone",
            vec![bin("ln"), "-sf".into(), wargs[6].clone(), "/etc/localtime".into()],
        ),
        (
            "dpkg",
            None,
            "",
            vec![
                bin("dpkg-reconfigure"),
                "--frontend".into(),
                "noninteractive".into(),
                "tzdata".into(),
            ],
        ),
    ];
    let werr = sysutil::section(&secs, "werr").map(str::trim);
    for (step, edit, file, argv) in steps {
        if let Some((_, deleted)) = edit {
            let key = if step == "hwclock" { "hwclock" } else { "name" };
            if werr == Some(key) {
                let msg =
                    format!("tried to configure {key} using a file \"{file}\", but could not write to it");
                return Ok(abort(&msg, &msgs));
            }
            msgs.push(format!("Added 1 line and deleted {deleted} line(s) on {file}"));
        }
        let Some(s) = sysutil::step(&secs, step) else {
            continue;
        };
        if s.rc != 0 {
            return Ok(sysutil::command_failure(&argv, &s));
        }
        if step == "hwclock" {
            msgs.push(format!("executed `{}`", argv.join(" ")));
        }
    }
    let Some(after_state) = sysutil::section(&secs, "after").and_then(|_| state(&secs)) else {
        return Ok(ModuleOutcome::failed(format!(
            "cannot set the time zone on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        )));
    };
    // check('after') and the comparison with the planned values.
    let mut after: Vec<(&'static str, String)> = Vec::new();
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    if let Some(h) = &w.hwclock {
        let v = get_hwclock(&after_state, h).unwrap_or_else(|word| word);
        after.push(("hwclock", v));
        wanted.push(("hwclock", h));
    }
    if let Some(n) = &w.name {
        let Some(v) = get_name(&after_state, n, true) else {
            let msg = "tried to configure name using a file \"/etc/timezone\", but could not find a valid value in it";
            return Ok(abort(msg, &msgs));
        };
        after.push(("name", v));
        wanted.push(("name", n));
    }
    let got: Vec<(&str, &str)> = after.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if got != wanted {
        let msg = format!(
            "still not desired state, though changes have made - planned: {}, after: {}",
            py_dict(&wanted),
            py_dict(&got)
        );
        return Ok(abort(&msg, &msgs));
    }
    let diff = json!({"before": values(&w.before), "after": values(&after)});
    let mut o = ModuleOutcome::changed(w.before != after).with("diff", diff);
    o.diff = planned.diff;
    if !msgs.is_empty() {
        let msg = msgs.join("\n");
        o.msg = Some(msg.clone());
        o = o.with("msg", msg);
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(tz: &str, rcs: Conf, adj: Conf, lt: &str) -> State {
        State {
            timezone: Conf::Text(tz.into()),
            rcs,
            adjtime: adj,
            localtime: lt.into(),
        }
    }

    #[test]
    fn names_as_the_module_gets_them() {
        let s = st(
            "Etc/UTC\n",
            Conf::Missing,
            Conf::Missing,
            "L\n/usr/share/zoneinfo/Etc/UTC\n",
        );
        assert_eq!(get_name(&s, "Etc/UTC", false).as_deref(), Some("Etc/UTC"));
        assert_eq!(get_name(&s, "Asia/Tokyo", false).as_deref(), Some("Etc/UTC"));
        let s = st(
            "Asia/Tokyo\n",
            Conf::Missing,
            Conf::Missing,
            "L\n/usr/share/zoneinfo/Etc/UTC\n",
        );
        assert_eq!(get_name(&s, "Asia/Tokyo", false).as_deref(), Some("Etc/UTC"));
        let s = st("Asia/Tokyo\n", Conf::Missing, Conf::Missing, "L\n/opt/tz\n");
        assert_eq!(get_name(&s, "Asia/Tokyo", false).as_deref(), Some("n/a"));
        let s = st("Asia/Tokyo\n", Conf::Missing, Conf::Missing, "DIFF\n");
        assert_eq!(get_name(&s, "Asia/Tokyo", false).as_deref(), Some("n/a"));
        let s = st("\n  \n", Conf::Missing, Conf::Missing, "SAME\n");
        assert_eq!(get_name(&s, "Asia/Tokyo", false).as_deref(), Some("n/a"));
        assert_eq!(get_name(&s, "Asia/Tokyo", true), None);
    }

    #[test]
    fn hwclock_as_the_module_gets_it() {
        let s = st("", Conf::Text("# x\nUTC=no\n".into()), Conf::Missing, "");
        assert_eq!(get_hwclock(&s, "UTC").as_deref(), Ok("local"));
        assert_eq!(get_hwclock(&s, "local").as_deref(), Ok("UTC"));
        let s = st(
            "",
            Conf::Text("UTC = yes\n".into()),
            Conf::Text("0.0 0 0.0\n0\nLOCAL\n".into()),
            "",
        );
        assert_eq!(get_hwclock(&s, "UTC").as_deref(), Ok("local"));
        let s = st("", Conf::Missing, Conf::Missing, "");
        assert_eq!(get_hwclock(&s, "UTC").as_deref(), Ok("n/a"));
        let s = st("", Conf::Text("UTC=maybe\n".into()), Conf::Missing, "");
        assert_eq!(get_hwclock(&s, "UTC"), Err("maybe".into()));
    }

    #[test]
    fn files_are_edited_as_the_module_edits_them() {
        assert_eq!(
            edit_file("# c\nUTC=no\nX=1\nUTC=yes\n", r"^UTC\s*=\s*(\S+)", "UTC=yes\n"),
            ("# c\nUTC=yes\nX=1\n".to_string(), 2)
        );
        assert_eq!(
            edit_file("", r"^(\S+)", "Asia/Tokyo\n"),
            ("Asia/Tokyo\n".to_string(), 0)
        );
        assert_eq!(
            edit_file(" x\nEtc/UTC\n# c\n", r"^(\S+)", "Asia/Tokyo\n"),
            (" x\nAsia/Tokyo\n".to_string(), 2)
        );
        assert_eq!(edit_file("a", r"^UTC", "UTC=no\n"), ("UTC=no\na".to_string(), 0));
    }

    #[test]
    fn python_dicts() {
        assert_eq!(
            py_dict(&[("hwclock", "local"), ("name", "Asia/Tokyo")]),
            "{'hwclock': 'local', 'name': 'Asia/Tokyo'}"
        );
    }
}
