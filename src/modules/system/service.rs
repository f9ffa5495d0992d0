//! `service` and `systemd`: start/stop/restart/reload and enable/disable/mask units through
//! `systemctl`, as `ansible.builtin.systemd_service` does (and `ansible.builtin.service`, which
//! delegates to it on systemd hosts). One round trip reads the unit's state (`systemctl show`,
//! `is-enabled`) and a second one runs only the needed `systemctl` actions. Hosts where systemd
//! is not running (most containers) fail with a clear message instead of a confusing one.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::{bad, marker, run_script, section, sections};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::transport::quote::quote;
use crate::vars::Vars;

crate::module_info!(
    /// `service` arguments (`pattern`, `sleep`, `arguments`, `runlevel`, `use` are accepted and
    /// ignored: they only matter for non-systemd init systems).
    INFO,
    "service",
    ArgSpec::new(&[
        ArgDef::str("name").required(),
        ArgDef::str("state").choices(&["started", "stopped", "restarted", "reloaded"]),
        ArgDef::bool("enabled"),
        ArgDef::str("pattern"),
        ArgDef::int("sleep"),
        ArgDef::str("arguments").aliases(&["args"]),
        ArgDef::str("runlevel"),
        ArgDef::str("use"),
    ]),
    run
);

crate::module_info!(
    /// `systemd` arguments (aliases included).
    SYSTEMD_INFO,
    "systemd",
    ArgSpec::new(&[
        ArgDef::str("name").aliases(&["service", "unit"]),
        ArgDef::str("state").choices(&["started", "stopped", "restarted", "reloaded"]),
        ArgDef::bool("enabled"),
        ArgDef::bool("masked"),
        ArgDef::bool("daemon_reload").aliases(&["daemon-reload"]),
        ArgDef::bool("daemon_reexec").aliases(&["daemon-reexec"]),
        ArgDef::bool("no_block"),
        ArgDef::bool("force"),
        ArgDef::str("scope").choices(&["system", "user", "global"]),
    ]),
    run_systemd
);

/// The parsed task.
#[derive(Debug, Clone, Default)]
pub struct UnitSpec {
    pub name: Option<String>,
    /// started | stopped | restarted | reloaded.
    pub state: Option<String>,
    pub enabled: Option<bool>,
    pub masked: Option<bool>,
    pub daemon_reload: bool,
    pub daemon_reexec: bool,
    pub no_block: bool,
    pub force: bool,
}

/// What the unit looks like now.
#[derive(Debug, Clone, Default)]
pub struct UnitState {
    /// `systemctl show` properties.
    pub status: BTreeMap<String, String>,
    /// `systemctl is-enabled` exit code and first output line.
    pub enabled_rc: i32,
    pub enabled_out: String,
}

impl UnitState {
    fn get(&self, k: &str) -> &str {
        self.status.get(k).map_or("", String::as_str)
    }
    /// Ansible's `is_running_service`: active or activating.
    pub fn running(&self) -> bool {
        matches!(self.get("ActiveState"), "active" | "activating")
    }
    /// Ansible: rc 0 means enabled, except the "indirect" and "alias" states.
    pub fn enabled(&self) -> bool {
        self.enabled_rc == 0 && !matches!(self.enabled_out.trim(), "indirect" | "alias")
    }
    /// `LoadState=masked`.
    pub fn masked(&self) -> bool {
        self.get("LoadState") == "masked"
    }
    /// The unit exists (`LoadState` is not `not-found`).
    pub fn found(&self) -> bool {
        !matches!(self.get("LoadState"), "" | "not-found")
    }
}

/// Parses `systemctl show` output (`Key=value` lines; the value keeps any further `=`).
pub fn parse_show(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `systemctl` verbs to run, in Ansible's order: mask/unmask, enable/disable, then the
/// state action (`started` only when not running; `stopped` when running or deactivating;
/// `restarted`/`reloaded` always, as `start` when the unit is not running).
pub fn plan_unit(spec: &UnitSpec, cur: &UnitState) -> Vec<&'static str> {
    let mut verbs = Vec::new();
    if let Some(m) = spec.masked
        && m != cur.masked()
    {
        verbs.push(if m { "mask" } else { "unmask" });
    }
    if let Some(e) = spec.enabled
        && e != cur.enabled()
    {
        verbs.push(if e { "enable" } else { "disable" });
    }
    match spec.state.as_deref() {
        Some("started") if !cur.running() => verbs.push("start"),
        Some("stopped") if cur.running() || cur.get("ActiveState") == "deactivating" => verbs.push("stop"),
        Some("restarted") if cur.running() => verbs.push("restart"),
        Some("reloaded") if cur.running() => verbs.push("reload"),
        Some("restarted" | "reloaded") => verbs.push("start"),
        _ => {}
    }
    verbs
}

/// Read script: `$1` marker, `$2` unit, `$3` "1" to daemon-reload first, `$4` "1" to reexec.
const READ: &str = r#"m=$1; n=$2
if [ ! -d /run/systemd/system ]; then printf '%s nosystemd\n' "$m"; exit 0; fi
if [ "$4" = 1 ]; then systemctl daemon-reexec || exit 1; fi
if [ "$3" = 1 ]; then systemctl daemon-reload || exit 1; fi
if [ -z "$n" ]; then printf '%s end\n' "$m"; exit 0; fi
printf '%s show\n' "$m"; systemctl show -- "$n"
out=$(systemctl is-enabled -- "$n" 2>/dev/null); rc=$?
printf '%s enabled\n%s\n%s\n' "$m" "$rc" "$out"
printf '%s end\n' "$m"
"#;

/// Runs `ansible.builtin.service` on a systemd host (same semantics as [`run_systemd`], without
/// `daemon_reload`/`masked`).
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let spec = UnitSpec {
        name: Some(a.req_str("name")?),
        state: a.choice("state")?,
        enabled: a.opt_bool("enabled")?,
        ..Default::default()
    };
    if spec.state.is_none() && spec.enabled.is_none() {
        return Err(bad("service", "one of the following is required: state, enabled"));
    }
    run_unit("service", spec, ctx).await
}

/// Runs `ansible.builtin.systemd` / `systemd_service`.
///
/// Result: `name`, `state`/`enabled` (when given), `status` (the `systemctl show` properties
/// before the change); changed when a `systemctl` action ran (would run, in check mode).
/// `restarted`/`reloaded` are always changed. `daemon_reload` runs first (not in check mode) and
/// by itself is not a change. Fails with "Could not find the requested service X" for unknown
/// units, "Unable to <verb> service X: <stderr>" when an action fails, and a clear message when
/// systemd is not running on the host.
pub async fn run_systemd(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&SYSTEMD_INFO, args)?;
    let scope = a.choice("scope")?;
    if scope.as_deref().is_some_and(|s| s != "system") {
        return Err(bad("systemd", "only scope=system is supported by talon"));
    }
    let spec = UnitSpec {
        name: a.str("name")?,
        state: a.choice("state")?,
        enabled: a.opt_bool("enabled")?,
        masked: a.opt_bool("masked")?,
        daemon_reload: a.bool("daemon_reload", false)?,
        daemon_reexec: a.bool("daemon_reexec", false)?,
        no_block: a.bool("no_block", false)?,
        force: a.bool("force", false)?,
    };
    if spec.name.is_none() && (spec.state.is_some() || spec.enabled.is_some() || spec.masked.is_some()) {
        return Err(bad(
            "systemd",
            "missing parameter(s) required by 'state/enabled/masked': name",
        ));
    }
    run_unit("systemd", spec, ctx).await
}

async fn run_unit(
    module: &'static str,
    spec: UnitSpec,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let m = marker();
    let flag = |b: bool| if b && !ctx.check { "1" } else { "0" }.to_string();
    let name = spec.name.clone().unwrap_or_default();
    let out = run_script(
        ctx,
        READ,
        &[
            m.clone(),
            name.clone(),
            flag(spec.daemon_reload),
            flag(spec.daemon_reexec),
        ],
        None,
    )
    .await?;
    let text = out.stdout_str();
    let secs = sections(&text, &m);
    if section(&secs, "nosystemd").is_some() {
        return Ok(ModuleOutcome::failed(format!(
            "{module}: systemd is not running on {} (PID 1 is not systemd, as in most containers); \
             manage the process another way (command/shell) or run the host with systemd as init",
            ctx.host
        )));
    }
    if section(&secs, "end").is_none() {
        return Ok(ModuleOutcome::failed(format!(
            "failure {} running systemctl on {}: {}",
            out.status.rc(),
            ctx.host,
            out.stderr_str().trim()
        )));
    }
    let mut o = ModuleOutcome::ok();
    if spec.name.is_none() {
        return Ok(o);
    }
    let mut lines = section(&secs, "enabled").unwrap_or_default().lines();
    let cur = UnitState {
        status: parse_show(section(&secs, "show").unwrap_or_default()),
        enabled_rc: lines.next().and_then(|l| l.trim().parse().ok()).unwrap_or(1),
        enabled_out: lines.next().unwrap_or_default().to_string(),
    };
    o = o.with("name", name.clone());
    if !cur.found() && spec.masked != Some(true) {
        return Ok(ModuleOutcome::failed(format!(
            "Could not find the requested service {name}: no such unit on {}",
            ctx.host
        ))
        .with("name", name));
    }
    let status: Map<String, Value> = cur
        .status
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    o = o.with("status", status);
    if let Some(s) = &spec.state {
        o = o.with("state", s.clone());
    }
    if let Some(e) = spec.enabled {
        o = o.with("enabled", e);
    }
    let verbs = plan_unit(&spec, &cur);
    o.changed = !verbs.is_empty();
    if verbs.is_empty() || ctx.check {
        return Ok(o);
    }
    let mut script = String::new();
    for v in &verbs {
        let mut argv = vec!["systemctl".to_string()];
        if spec.no_block && matches!(*v, "start" | "stop" | "restart" | "reload") {
            argv.push("--no-block".into());
        }
        if spec.force && matches!(*v, "enable" | "disable" | "mask" | "unmask") {
            argv.push("--force".into());
        }
        argv.extend([v.to_string(), "--".to_string(), name.clone()]);
        script.push_str(&format!(
            "{} || {{ printf '%s\\n' {} >&2; exit 1; }}\n",
            crate::transport::quote::join(&argv),
            quote(&format!("{m} {v}"))
        ));
    }
    let out = run_script(ctx, &script, &[], None).await?;
    if !out.status.success() {
        let err = out.stderr_str();
        let failed_verb = err
            .lines()
            .find_map(|l| l.strip_prefix(&m).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| "manage".into());
        let detail: Vec<&str> = err.lines().filter(|l| !l.starts_with(&m)).collect();
        let mut f = ModuleOutcome::failed(format!(
            "Unable to {failed_verb} service {name}: {}",
            detail.join("\n").trim()
        ))
        .with("name", name);
        f.result.insert("rc".into(), out.status.rc().into());
        return Ok(f);
    }
    Ok(o)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn state(active: &str, enabled_rc: i32, out: &str) -> UnitState {
        UnitState {
            status: parse_show(&format!(
                "Id=x.service\nLoadState=loaded\nActiveState={active}\nExecStart={{ a=b }}\n"
            )),
            enabled_rc,
            enabled_out: out.into(),
        }
    }

    fn spec(state: Option<&str>, enabled: Option<bool>) -> UnitSpec {
        UnitSpec {
            name: Some("x".into()),
            state: state.map(str::to_string),
            enabled,
            ..Default::default()
        }
    }

    #[test]
    fn show_keeps_values_with_equals() {
        let s = state("active", 0, "enabled");
        assert_eq!(s.status["ExecStart"], "{ a=b }");
        assert!(s.running() && s.enabled() && s.found());
        assert!(!state("active", 0, "indirect").enabled());
    }

    #[test]
    fn plans_like_ansible() {
        let up = state("active", 0, "enabled");
        let down = state("inactive", 1, "disabled");
        assert!(plan_unit(&spec(Some("started"), Some(true)), &up).is_empty());
        assert_eq!(
            plan_unit(&spec(Some("started"), Some(true)), &down),
            ["enable", "start"]
        );
        assert_eq!(plan_unit(&spec(Some("stopped"), None), &up), ["stop"]);
        assert!(plan_unit(&spec(Some("stopped"), None), &down).is_empty());
        assert_eq!(plan_unit(&spec(Some("restarted"), None), &up), ["restart"]);
        assert_eq!(plan_unit(&spec(Some("reloaded"), None), &down), ["start"]);
        assert_eq!(plan_unit(&spec(None, Some(false)), &up), ["disable"]);
    }
}
