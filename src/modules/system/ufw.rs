//! `community.general.ufw` (and `ufw`) without the collection's module on the host: talon runs
//! the ufw commands the module runs, in its order, and decides `changed` as it does. One round
//! trip reads (`ufw` and `grep` found as `get_bin_path` finds them, `ufw status verbose`, the
//! `### tuple` lines of the user rules files, `ufw --version` for a rule, `ufw status numbered`
//! for `insert_relative_to`); one more runs the commands (`-f enable`/`disable`/`reload`/
//! `reset`, `default POLICY [DIRECTION]`, the rule, `logging LEVEL`) and reads the status and
//! rules again. Check mode runs the rule with `--dry-run` and compares its `### tuple` lines
//! with the rules files (IPv4 or IPv6 lines only when `from_ip`/`to_ip` is an address of that
//! family); states, defaults and logging are compared with `ufw status verbose`. Results
//! `changed`, `commands` (every command as the module records it) and `msg` (the status after);
//! failures `msg` (the command's stderr, else stdout) with `commands`.
//!
//! ufw is a Python program, so the host needs Python for ufw itself, never for talon. Values
//! `run_command` would expand (`$VAR`, `~`) or that Python's shlex refuses run the collection's
//! module (the Python path).

use regex::Regex;
use std::sync::LazyLock;

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, fallback, sysutil};
use crate::transport::quote;
use crate::vars::Vars;

const FQCN: &str = "community.general.ufw";

crate::module_info!(
    /// `ufw`: every option of community.general.ufw.
    INFO,
    "ufw",
    ArgSpec::new(&[
        ArgDef::str("state").choices(&["enabled", "disabled", "reloaded", "reset"]),
        ArgDef::str("default")
            .aliases(&["policy"])
            .choices(&["allow", "deny", "reject"]),
        ArgDef::str("logging").choices(&["full", "high", "low", "medium", "off", "on"]),
        ArgDef::str("direction").choices(&["in", "incoming", "out", "outgoing", "routed"]),
        ArgDef::bool("delete"),
        ArgDef::bool("route"),
        ArgDef::int("insert"),
        ArgDef::str("insert_relative_to").choices(&["zero", "first-ipv4", "last-ipv4", "first-ipv6", "last-ipv6"]),
        ArgDef::str("rule").choices(&["allow", "deny", "limit", "reject"]),
        ArgDef::str("interface").aliases(&["if"]),
        ArgDef::str("interface_in").aliases(&["if_in"]),
        ArgDef::str("interface_out").aliases(&["if_out"]),
        ArgDef::bool("log"),
        ArgDef::str("from_ip").aliases(&["from", "src"]),
        ArgDef::str("from_port"),
        ArgDef::str("to_ip").aliases(&["dest", "to"]),
        ArgDef::str("to_port").aliases(&["port"]),
        ArgDef::str("proto")
            .aliases(&["protocol"])
            .choices(&["ah", "any", "esp", "ipv6", "tcp", "udp", "gre", "igmp", "vrrp"]),
        ArgDef::str("name").aliases(&["app"]),
        ArgDef::str("comment"),
    ])
    .exclusive(&[
        &["name", "proto", "logging"],
        &["direction", "interface_in"],
        &["direction", "interface_out"],
    ]),
    run
);

/// The files whose `### tuple` lines the module reads (`get_current_rules`).
const RULE_FILES: &[&str] = &[
    "/lib/ufw/user.rules",
    "/lib/ufw/user6.rules",
    "/etc/ufw/user.rules",
    "/etc/ufw/user6.rules",
    "/var/lib/ufw/user.rules",
    "/var/lib/ufw/user6.rules",
];

/// The module's IPv4 pattern.
static IPV4: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])")
        .ok()
});

/// The module's IPv6 pattern.
static IPV6: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let r = concat!(
        r"(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:",
        r"|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}",
        r"(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4})",
        r"{1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]",
        r"{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]",
        r"{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4})",
        r"{0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]",
        r"|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}",
        r"[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}",
        r"[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))"
    );
    Regex::new(r).ok()
});

/// The module's `ufw --version` pattern (greedy: `ufw 0.36.2` reads as 6.2, as in Python).
static VERSION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^ufw.+(\d+)\.(\d+)(?:\.(\d+))?.*$").ok());

/// The module's pattern for the logging level in `ufw status verbose`.
static LOGGING: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"Logging: (on|off)(?: \(([a-z]+)\))?").ok());

/// The module's pattern for the default policies in `ufw status verbose`.
static DEFAULTS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"Default: (deny|allow|reject) \(incoming\), (deny|allow|reject) \(outgoing\), (deny|allow|reject|disabled) \(routed\)").ok()
});

/// Lines with their ends, as Python's `splitlines(True)` for `\n` text.
fn lines(s: &str) -> impl Iterator<Item = &str> {
    s.split_inclusive('\n')
}

/// The lines of `s` that `re` finds something in, joined.
fn lines_matching(re: &Option<Regex>, s: &str) -> String {
    lines(s)
        .filter(|l| re.as_ref().is_some_and(|r| r.is_match(l)))
        .collect()
}

/// True when `re` matches at the start of `s` (Python's `re.match`).
fn starts_with(re: &Option<Regex>, s: &str) -> bool {
    re.as_ref()
        .and_then(|r| Regex::new(&format!("^(?:{})", r.as_str())).ok())
        .is_some_and(|a| a.is_match(s))
}

/// One command the module runs: its text as recorded in `commands`, and whether it runs with
/// `LANG=C` (the module's `execute`) and may fail (`ignore_error`).
struct Cmd {
    text: String,
    lang_c: bool,
    ignore: bool,
}

/// How the commands of one batch ended, in order (fewer when one failed).
async fn batch(
    ctx: &ModuleContext<'_>,
    cmds: &[Cmd],
) -> Result<Result<Vec<sysutil::Step>, ModuleOutcome>, ModuleError> {
    let m = sysutil::marker();
    let mut s = format!("M=$1\n{}", sysutil::STEP_FN);
    for (i, c) in cmds.iter().enumerate() {
        let Ok(argv) = quote::split(&c.text) else {
            return Ok(Err(ModuleOutcome::failed(format!("cannot split {}", c.text))));
        };
        let env = if c.lang_c { "env LANG=C " } else { "" };
        let stop = if c.ignore { "" } else { " || exit 0" };
        s.push_str(&format!("step s{i} {env}{}{stop}\n", quote::join(&argv)));
    }
    let out = sysutil::run_script(ctx, &s, std::slice::from_ref(&m), None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let mut done = Vec::new();
    for i in 0..cmds.len() {
        match sysutil::step(&secs, &format!("s{i}")) {
            Some(st) => done.push(st),
            None if done.last().is_some_and(|l: &sysutil::Step| l.rc != 0) => break,
            None => {
                return Ok(Err(ModuleOutcome::failed(format!(
                    "ufw could not be run on {}: {}",
                    ctx.host,
                    out.stderr_str().trim()
                ))));
            }
        }
    }
    Ok(Ok(done))
}

/// The module's `fail_json(msg=err or out, commands=cmds)`.
fn failure(s: &sysutil::Step, commands: &[String]) -> ModuleOutcome {
    let msg = if s.err.is_empty() { &s.out } else { &s.err };
    ModuleOutcome::failed(msg.as_str()).with("commands", commands.to_vec())
}

/// `insert_to` for `insert` relative to `to` (not `zero`), from `ufw status numbered`.
fn insert_position(insert: i64, to: &str, numbered: &str) -> Option<i64> {
    let re = Regex::new(r"^\[ *([0-9]+)\] ").ok()?;
    let rules: Vec<(i64, bool)> = numbered
        .lines()
        .filter_map(|l| {
            let n = re.captures(l)?.get(1)?.as_str().parse().ok()?;
            Some((n, l.contains("(v6)")))
        })
        .collect();
    let last = rules.iter().map(|r| r.0).max().unwrap_or(0);
    let last_v4 = rules.iter().filter(|r| !r.1).map(|r| r.0).max();
    let has_v6 = rules.iter().any(|r| r.1);
    let relative = match to {
        "first-ipv4" => 1,
        "last-ipv4" => last_v4.unwrap_or(1),
        "first-ipv6" => last_v4.map_or(1, |n| n + 1),
        _ => {
            if has_v6 {
                last
            } else {
                last + 1
            }
        }
    };
    let at = insert + relative;
    (at <= last).then_some(at)
}

/// Runs the module: see the module documentation above.
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`];
/// those of the Python path for the cases it runs.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let handover = |why: String| async move { fallback::python_path(FQCN, "ufw", args, ctx, &why).await };
    let get = |k: &str| a.str(k).map(|v| v.filter(|s| !s.is_empty()));
    let given: Vec<(&str, String)> = ["state", "default", "rule", "logging"]
        .into_iter()
        .filter_map(|k| get(k).ok().flatten().map(|v| (k, v)))
        .collect();
    if given.is_empty() {
        return Ok(ModuleOutcome::failed(
            "one of the following is required: state, default, rule, logging",
        ));
    }
    let direction = get("direction")?;
    if get("interface")?.is_some() && direction.is_none() {
        return Ok(ModuleOutcome::failed(
            "missing parameter(s) required by 'interface': direction",
        ));
    }
    let (route, delete, log) = (
        a.bool("route", false)?,
        a.bool("delete", false)?,
        a.bool("log", false)?,
    );
    let insert = a.i64("insert")?;
    let relative = a.choice("insert_relative_to")?.unwrap_or_else(|| "zero".into());
    let from_ip = a.str("from_ip")?.unwrap_or_else(|| "any".into());
    let to_ip = a.str("to_ip")?.unwrap_or_else(|| "any".into());
    let (if_in, if_out) = (get("interface_in")?, get("interface_out")?);
    let has_rule = given.iter().any(|(k, _)| *k == "rule");
    let before_rule = given
        .iter()
        .take_while(|(k, _)| *k != "rule")
        .any(|(k, _)| *k != "logging");
    let numbered_needed = has_rule && insert.is_some() && !delete && relative != "zero";
    let numbered_early = numbered_needed && (ctx.check || !before_rule);

    // The reads: tools, status, rules, version, numbered.
    let m = sysutil::marker();
    let grep_args = format!("-h '^### tuple' {}", RULE_FILES.join(" "));
    let mut s = format!(
        "M=$1\n{}{}{}U=$(binpath ufw) || {{ printf '%s missing\\nufw\\n' \"$M\"; exit 0; }}\nG=$(binpath grep) || {{ printf '%s missing\\ngrep\\n' \"$M\"; exit 0; }}\nprintf '%s bins\\n%s\\n%s\\n' \"$M\" \"$U\" \"$G\"\nstep pre env LANG=C \"$U\" status verbose || exit 0\nstep rules env LANG=C \"$G\" -h '^### tuple' {}\n",
        sysutil::tools_probe(&[]),
        sysutil::STEP_FN,
        sysutil::BIN_PATH_FN,
        RULE_FILES.join(" ")
    );
    if has_rule {
        s.push_str("step ver env LANG=C \"$U\" --version\n");
    }
    if numbered_early {
        s.push_str("step num \"$U\" status numbered\n");
    }
    let out = sysutil::run_script(ctx, &s, std::slice::from_ref(&m), None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    if let Some(tool) = sysutil::section(&secs, "missing") {
        let msg = sysutil::missing_tool(&secs, tool.trim()).unwrap_or_default();
        return Ok(ModuleOutcome::failed(msg));
    }
    let Some(bins) = sysutil::section(&secs, "bins") else {
        return Ok(ModuleOutcome::failed(format!(
            "cannot read ufw on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        )));
    };
    let mut bins = bins.lines();
    let (ufw, grep) = (
        bins.next().unwrap_or_default().to_string(),
        bins.next().unwrap_or_default().to_string(),
    );
    let mut commands = vec![format!("{ufw} status verbose")];
    let Some(pre) = sysutil::step(&secs, "pre") else {
        return Ok(ModuleOutcome::failed("ufw status did not run"));
    };
    if pre.rc != 0 {
        return Ok(failure(&pre, &commands));
    }
    commands.push(format!("{grep} {grep_args}"));
    let pre_rules = sysutil::step(&secs, "rules").map(|s| s.out).unwrap_or_default();
    let pre_state = pre.out;

    let mut changed = false;
    let mut queue: Vec<(Cmd, usize)> = Vec::new();
    let dry = if ctx.check { " --dry-run" } else { "" };
    let mut rule_at: Option<usize> = None;
    let mut fail: Option<ModuleOutcome> = None;
    for (command, value) in &given {
        let base = format!("{ufw}{dry}");
        match *command {
            "state" => {
                if value == "reloaded" || value == "reset" {
                    changed = true;
                }
                if ctx.check {
                    let enabled = pre_state.contains(" active");
                    if (value == "disabled" && enabled) || (value == "enabled" && !enabled) {
                        changed = true;
                    }
                } else {
                    let verb = match value.as_str() {
                        "enabled" => "enable",
                        "disabled" => "disable",
                        "reloaded" => "reload",
                        _ => "reset",
                    };
                    commands.push(format!("{base} -f {verb}"));
                    queue.push((cmd(commands.last()), commands.len()));
                }
            }
            "logging" => {
                match LOGGING.as_ref().and_then(|r| r.captures(&pre_state)) {
                    Some(c) => {
                        let on_off = c.get(1).map_or("", |m| m.as_str());
                        let level = c.get(2).map(|m| m.as_str());
                        if value != "off" {
                            if on_off == "off" || (value != "on" && Some(value.as_str()) != level) {
                                changed = true;
                            }
                        } else if on_off != "off" {
                            changed = true;
                        }
                    }
                    None => changed = true,
                }
                if !ctx.check {
                    commands.push(format!("{base} logging {value}"));
                    queue.push((cmd(commands.last()), commands.len()));
                }
            }
            "default" => {
                if !matches!(
                    direction.as_deref(),
                    None | Some("outgoing" | "incoming" | "routed")
                ) {
                    fail = Some(ModuleOutcome::failed(
                        "For default, direction must be one of \"outgoing\", \"incoming\" and \"routed\", or direction must not be specified.",
                    ));
                    break;
                }
                if ctx.check {
                    match DEFAULTS.as_ref().and_then(|r| r.captures(&pre_state)) {
                        Some(c) => {
                            let i = match direction.as_deref() {
                                Some("outgoing") => 2,
                                Some("routed") => 3,
                                _ => 1,
                            };
                            let v = c.get(i).map_or("", |m| m.as_str());
                            if v != value && v != "disabled" {
                                changed = true;
                            }
                        }
                        None => changed = true,
                    }
                } else {
                    let mut t = format!("{base} default {value}");
                    if let Some(d) = &direction {
                        t.push_str(&format!(" {d}"));
                    }
                    commands.push(t);
                    queue.push((cmd(commands.last()), commands.len()));
                }
            }
            _ => {
                if !matches!(direction.as_deref(), None | Some("in" | "out")) {
                    fail = Some(ModuleOutcome::failed(
                        "For rules, direction must be one of \"in\" and \"out\", or direction must not be specified.",
                    ));
                    break;
                }
                if !route && if_in.is_some() && if_out.is_some() {
                    fail = Some(ModuleOutcome::failed(
                        "Only route rules can combine interface_in and interface_out",
                    ));
                    break;
                }
                let mut parts = vec![base.clone()];
                if route {
                    parts.push("route".into());
                }
                if delete {
                    parts.push("delete".into());
                }
                if let Some(n) = insert.filter(|_| !delete) {
                    let at = if relative == "zero" {
                        Some(n)
                    } else {
                        let numbered = if numbered_early {
                            sysutil::step(&secs, "num").map(|s| s.out).unwrap_or_default()
                        } else {
                            // The state and default commands run first, then ufw is asked.
                            let (early, marks) = drain(&mut queue);
                            match batch(ctx, &early).await? {
                                Ok(done) => {
                                    if let Some(f) = first_failure(&done, &marks, &commands) {
                                        return Ok(f);
                                    }
                                }
                                Err(f) => return Ok(f),
                            }
                            let c = Cmd {
                                text: format!("{ufw} status numbered"),
                                lang_c: false,
                                ignore: true,
                            };
                            match batch(ctx, &[c]).await? {
                                Ok(done) => done.into_iter().next().map(|s| s.out).unwrap_or_default(),
                                Err(f) => return Ok(f),
                            }
                        };
                        insert_position(n, &relative, &numbered)
                    };
                    if let Some(at) = at {
                        parts.push(format!("insert {at}"));
                    }
                }
                parts.push(value.clone());
                parts.extend(direction.clone());
                for (v, t) in [
                    (get("interface")?, "on"),
                    (if_in.clone(), "in on"),
                    (if_out.clone(), "out on"),
                ] {
                    if let Some(v) = v {
                        parts.push(format!("{t} {v}"));
                    }
                }
                if log {
                    parts.push("log".into());
                }
                for (v, t) in [
                    (Some(from_ip.clone()).filter(|s| !s.is_empty()), "from"),
                    (get("from_port")?, "port"),
                    (Some(to_ip.clone()).filter(|s| !s.is_empty()), "to"),
                    (get("to_port")?, "port"),
                    (get("proto")?, "proto"),
                ] {
                    if let Some(v) = v {
                        parts.push(format!("{t} {v}"));
                    }
                }
                if let Some(n) = get("name")? {
                    parts.push(format!("app '{n}'"));
                }
                commands.push(format!("{ufw} --version"));
                let ver = sysutil::step(&secs, "ver");
                let Some(ver) = ver else {
                    return Ok(ModuleOutcome::failed("ufw --version did not run"));
                };
                if ver.rc != 0 {
                    fail = Some(failure(&ver, &commands));
                    break;
                }
                let first = ver.out.split('\n').find(|l| !l.trim().is_empty());
                let Some((major, minor)) = first.and_then(|l| {
                    let c = VERSION.as_ref()?.captures(l)?;
                    Some((
                        c.get(1)?.as_str().parse::<u64>().ok()?,
                        c.get(2)?.as_str().parse::<u64>().ok()?,
                    ))
                }) else {
                    fail = Some(
                        ModuleOutcome::failed("Failed to get ufw version.")
                            .with("rc", 0)
                            .with("out", ver.out.as_str()),
                    );
                    break;
                };
                if ((major == 0 && minor >= 35) || major > 0)
                    && let Some(c) = get("comment")?
                {
                    parts.push(format!("comment '{c}'"));
                }
                let text = parts.join(" ");
                match quote::split(&text) {
                    Ok(w) if !w.iter().any(|w| w.contains('$') || w.starts_with('~')) => {}
                    _ => return handover(format!("{text:?} is split or expanded by run_command")).await,
                }
                commands.push(text);
                rule_at = Some(queue.len());
                queue.push((cmd(commands.last()), commands.len()));
            }
        }
    }
    // The queued commands, then (for real) the status and rules after.
    let queued = queue.len();
    let marks: Vec<usize> = queue.iter().map(|(_, n)| *n).collect();
    let mut cmds: Vec<Cmd> = queue.into_iter().map(|(c, _)| c).collect();
    if fail.is_none() && !ctx.check {
        cmds.push(Cmd {
            text: format!("{ufw} status verbose"),
            lang_c: true,
            ignore: false,
        });
        cmds.push(Cmd {
            text: format!("{grep} {grep_args}"),
            lang_c: true,
            ignore: true,
        });
    }
    let done = if cmds.is_empty() {
        Vec::new()
    } else {
        match batch(ctx, &cmds).await? {
            Ok(d) => d,
            Err(f) => return Ok(f),
        }
    };
    if let Some(f) = first_failure(&done[..done.len().min(queued)], &marks, &commands) {
        return Ok(f);
    }
    if let Some(f) = fail {
        return Ok(f);
    }
    if ctx.check {
        if let Some(i) = rule_at
            && let Some(d) = done.get(i)
        {
            let dry = d.out.clone();
            let all = lines(&dry).count();
            let skipping = lines(&dry).filter(|l| l.contains("Skipping")).count();
            if !(skipping > 0 && skipping == all) {
                let tuples: String = lines(&dry).filter(|l| l.starts_with("### tuple")).collect();
                if starts_with(&IPV4, &from_ip) || starts_with(&IPV4, &to_ip) {
                    changed |= lines_matching(&IPV4, &pre_rules) != lines_matching(&IPV4, &tuples);
                } else if starts_with(&IPV6, &from_ip) || starts_with(&IPV6, &to_ip) {
                    changed |= lines_matching(&IPV6, &pre_rules) != lines_matching(&IPV6, &tuples);
                } else if pre_rules != tuples {
                    changed = true;
                }
            }
        }
        return Ok(ModuleOutcome::changed(changed).with("commands", commands));
    }
    commands.push(format!("{ufw} status verbose"));
    let Some(post) = done.get(queued) else {
        return Ok(ModuleOutcome::failed("ufw status did not run"));
    };
    if post.rc != 0 {
        return Ok(failure(post, &commands));
    }
    let post_state = post.out.clone();
    if !changed {
        commands.push(format!("{grep} {grep_args}"));
        let post_rules = done.get(queued + 1).map(|s| s.out.clone()).unwrap_or_default();
        changed = pre_state != post_state || pre_rules != post_rules;
    }
    Ok(ModuleOutcome::changed(changed)
        .with("commands", commands)
        .with("msg", post_state.trim_end()))
}

/// A command of the module's `execute` (with `LANG=C`, failures fatal) from its recorded text.
fn cmd(text: Option<&String>) -> Cmd {
    Cmd {
        text: text.cloned().unwrap_or_default(),
        lang_c: true,
        ignore: false,
    }
}

/// The queued commands, taken, with how many commands were recorded when each was queued.
fn drain(queue: &mut Vec<(Cmd, usize)>) -> (Vec<Cmd>, Vec<usize>) {
    queue.drain(..).unzip()
}

/// The first failed command of `done`, as the module fails: `commands` up to it (`marks` gives
/// how many recorded commands there were when each was queued).
fn first_failure(done: &[sysutil::Step], marks: &[usize], commands: &[String]) -> Option<ModuleOutcome> {
    let (i, s) = done.iter().enumerate().find(|(_, s)| s.rc != 0)?;
    let upto = marks
        .get(i)
        .copied()
        .unwrap_or(commands.len())
        .min(commands.len());
    Some(failure(s, &commands[..upto]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_positions_read_as_the_module_reads_them() {
        let c = VERSION.as_ref().and_then(|r| r.captures("ufw 0.36.2"));
        let g = |i| c.as_ref().and_then(|c| c.get(i)).map(|m| m.as_str());
        assert_eq!((g(1), g(2)), (Some("6"), Some("2")));
        let numbered = "Status: active\n\n     To                         Action      From\n     --                         ------      ----\n[ 1] 22/tcp                     ALLOW IN    Anywhere\n[ 2] 80/tcp                     ALLOW IN    Anywhere\n[ 3] 22/tcp (v6)                ALLOW IN    Anywhere (v6)\n";
        assert_eq!(insert_position(0, "first-ipv4", numbered), Some(1));
        assert_eq!(insert_position(1, "last-ipv4", numbered), Some(3));
        assert_eq!(insert_position(0, "first-ipv6", numbered), Some(3));
        assert_eq!(insert_position(0, "last-ipv6", numbered), Some(3));
        assert_eq!(insert_position(5, "first-ipv4", numbered), None);
        assert!(starts_with(&IPV4, "10.0.0.1"));
        assert!(!starts_with(&IPV4, "any"));
        assert!(starts_with(&IPV6, "2001:db8::1"));
    }
}
