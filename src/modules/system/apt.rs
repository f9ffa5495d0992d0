//! `apt`: install, upgrade or remove Debian packages, as `ansible.builtin.apt` does, without
//! Python on the host.
//!
//! One round trip reads the state (`dpkg-query` for the named packages, the apt cache's age, and
//! for `state: latest` the candidates from `apt-cache policy`); the plan is computed on the
//! controller; a second round trip (only when something must change) runs `apt-get update` and
//! `apt-get install`/`remove` for just the packages that need it and re-reads `dpkg-query`, so
//! `changed` reflects what really happened.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::{bad, marker, run_script, section, sections, splitlines};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan};
use crate::transport::quote::{join, quote};
use crate::vars::Vars;

crate::module_info!(
    /// `apt` arguments (aliases included).
    INFO,
    "apt",
    ArgSpec::new(&[
        ArgDef::list("name").aliases(&["package", "pkg"]),
        ArgDef::str("state").choices(&[
            "present",
            "installed",
            "latest",
            "absent",
            "removed",
            "build-dep",
            "fixed",
        ]),
        ArgDef::bool("update_cache").aliases(&["update-cache"]),
        ArgDef::int("cache_valid_time"),
        ArgDef::path("deb"),
        ArgDef::bool("purge"),
        ArgDef::bool("install_recommends").aliases(&["install-recommends"]),
        ArgDef::bool("autoremove"),
        ArgDef::bool("allow_unauthenticated").aliases(&["allow-unauthenticated"]),
        ArgDef::bool("allow_downgrade").aliases(&["allow-downgrade", "allow_downgrades", "allow-downgrades"]),
        ArgDef::str("default_release").aliases(&["default-release"]),
        ArgDef::bool("force"),
        ArgDef::str("upgrade"),
        ArgDef::int("lock_timeout"),
    ])
    // Options only ansible-core's apt implements: such a task takes the Python path.
    .python_for(&[
        "auto_install_module_deps",
        "update_cache_retries",
        "update_cache_retry_max_delay",
        "clean",
        "allow_change_held_packages",
        "dpkg_options",
        "autoclean",
        "policy_rc_d",
        "only_upgrade",
        "fail_on_autoremove",
        "force_apt_get",
    ]),
    plan = plan,
    apply = apply
);

/// One requested package: `name` or `name=version` (`version` may end in `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkgSpec {
    pub name: String,
    pub version: Option<String>,
}

impl PkgSpec {
    /// Parses `name[=version]`. Errors with Ansible's "invalid package spec: X" for two `=`,
    /// and rejects names that are empty or start with `-` (they would be read as options).
    pub fn parse(s: &str) -> Result<PkgSpec, String> {
        if s.matches('=').count() > 1 {
            return Err(format!("invalid package spec: {s}"));
        }
        let (name, version) = match s.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
            None => (s.trim(), None),
        };
        if name.is_empty() || name.starts_with('-') || name.contains(char::is_whitespace) {
            return Err(format!("invalid package spec: {s}"));
        }
        Ok(PkgSpec {
            name: name.to_string(),
            version,
        })
    }
    /// The text apt-get gets (`name=version`).
    pub fn arg(&self) -> String {
        match &self.version {
            Some(v) => format!("{}={v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// One `dpkg-query -W -f '${Package}\t${Version}\t${db:Status-Abbrev}\n'` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpkgRow {
    pub version: String,
    /// Status letters, e.g. `ii`, `rc`, `un`.
    pub status: String,
}

impl DpkgRow {
    /// Installed (any state but not-installed / config-files).
    pub fn installed(&self) -> bool {
        !matches!(self.status.chars().nth(1), Some('n' | 'c') | None)
    }
    /// Only configuration files remain (`rc`): something for `purge` to remove.
    pub fn config_files(&self) -> bool {
        self.status.chars().nth(1) == Some('c')
    }
}

/// Parses `dpkg-query` output into name -> row (an installed row wins over others of the same
/// name, e.g. for multi-arch packages).
pub fn parse_dpkg(text: &str) -> HashMap<String, DpkgRow> {
    let mut out: HashMap<String, DpkgRow> = HashMap::new();
    for line in text.lines() {
        let mut f = line.split('\t');
        let (Some(name), Some(version), Some(status)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let row = DpkgRow {
            version: version.to_string(),
            status: status.trim().to_string(),
        };
        if out.get(name).is_none_or(|r| !r.installed()) {
            out.insert(name.to_string(), row);
        }
    }
    out
}

/// Parses `LC_ALL=C apt-cache policy A B ...` into name -> candidate version (`None` for
/// `(none)`).
pub fn parse_policy(text: &str) -> HashMap<String, Option<String>> {
    let mut out = HashMap::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            cur = Some(line.trim_end_matches(':').to_string());
        } else if let (Some(name), Some(c)) = (&cur, line.trim().strip_prefix("Candidate:")) {
            let c = c.trim();
            out.insert(name.clone(), (c != "(none)").then(|| c.to_string()));
        }
    }
    out
}

/// Does installed `version` satisfy the requested one (`1.2*` is a prefix match, as Ansible's
/// fnmatch)?
fn version_matches(installed: &str, wanted: &str) -> bool {
    match wanted.strip_suffix('*') {
        Some(prefix) => installed.starts_with(prefix),
        None => installed == wanted,
    }
}

/// What apt must do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AptPlan {
    /// `apt-get install` arguments.
    pub install: Vec<String>,
    /// `apt-get remove` arguments.
    pub remove: Vec<String>,
}

/// Computes the plan for `state` (present | latest | absent), like `ansible.builtin.apt`:
/// present installs what is missing or at another version than `name=version`; latest also
/// upgrades when the candidate differs from the installed version; absent removes what is
/// installed (with `purge`, also packages with only config files left).
pub fn plan_apt(
    state: &str,
    specs: &[PkgSpec],
    installed: &HashMap<String, DpkgRow>,
    candidates: &HashMap<String, Option<String>>,
    purge: bool,
) -> AptPlan {
    let mut plan = AptPlan::default();
    for s in specs {
        let row = installed.get(&s.name).filter(|r| r.installed());
        match state {
            "absent" => {
                let present =
                    row.is_some() || (purge && installed.get(&s.name).is_some_and(DpkgRow::config_files));
                let version_ok = match (&s.version, row) {
                    (Some(v), Some(r)) => version_matches(&r.version, v),
                    _ => true,
                };
                if present && version_ok {
                    plan.remove.push(s.name.clone());
                }
            }
            "latest" => {
                let outdated = match (row, candidates.get(&s.name)) {
                    (None, _) => true,
                    (Some(r), Some(Some(c))) => r.version != *c,
                    _ => false,
                };
                if outdated {
                    plan.install.push(s.arg());
                }
            }
            _ => {
                let ok = match (row, &s.version) {
                    (None, _) => false,
                    (Some(r), Some(v)) => version_matches(&r.version, v),
                    (Some(_), None) => true,
                };
                if !ok {
                    plan.install.push(s.arg());
                }
            }
        }
    }
    plan
}

/// The way out of ansible.builtin.apt a run takes, which decides its result's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Only the cache was refreshed (no package named): `cache_updated`, `cache_update_time`.
    Cache,
    /// `state` present or latest: the cache keys, and for a change `stdout`, `stderr`, `diff`.
    Install,
    /// `state` absent: only `changed`, and for a change `stdout`, `stderr`, `diff`.
    Remove,
    /// `deb`: `stdout`, `stderr` and `diff` always (empty strings when nothing changes), no
    /// cache keys.
    Deb,
}

impl Exit {
    /// The exit for a run's arguments: `deb` given, no package and a stale cache to refresh,
    /// or the `state` (present/latest or absent).
    pub fn of(deb: bool, no_packages: bool, stale: bool, state: &str) -> Exit {
        if deb {
            Exit::Deb
        } else if no_packages && stale {
            Exit::Cache
        } else if state == "absent" {
            Exit::Remove
        } else {
            Exit::Install
        }
    }

    /// Fills `o` with the keys ansible.builtin.apt returns on this exit (plus `stdout_lines`
    /// and `stderr_lines`, which ansible-core adds to any result with `stdout`/`stderr`):
    /// `cache` is (`cache_updated`, `cache_update_time`); `out` apt-get's stdout and stderr
    /// when packages were (or in check mode would be) changed, `None` when none were; `diff`
    /// the `--diff` flag (`diff` is `{"prepared": ...}` then, `{}` otherwise, as apt's
    /// `parse_diff`; a `deb` always has the prepared form).
    pub fn result(
        self,
        mut o: ModuleOutcome,
        cache: (bool, u64),
        out: Option<(&str, &str)>,
        diff: bool,
    ) -> ModuleOutcome {
        if matches!(self, Exit::Cache | Exit::Install) {
            o = o
                .with("cache_updated", cache.0)
                .with("cache_update_time", cache.1);
        }
        let (stdout, stderr, d) = match (self, out) {
            (Exit::Cache, _) => return o,
            (Exit::Deb, None) => ("", "", json!("")),
            (_, None) => return o,
            (Exit::Deb, Some((so, se))) => (so, se, json!({"prepared": prepared(so)})),
            (_, Some((so, se))) if diff => (so, se, json!({"prepared": prepared(so)})),
            (_, Some((so, se))) => (so, se, json!({})),
        };
        o.with("stdout", stdout)
            .with("stdout_lines", splitlines(stdout))
            .with("stderr", stderr)
            .with("stderr_lines", splitlines(stderr))
            .with("diff", d)
    }
}

/// What ansible.builtin.apt's `parse_diff` keeps of apt-get's output: the lines after `Reading
/// state information...` (or all), up to and including the `N upgraded` line.
pub fn prepared(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "Resolving dependencies...")
        .or_else(|| lines.iter().position(|l| *l == "Reading state information..."))
        .map_or(0, |i| i + 1);
    let upgraded = |l: &&str| {
        let digits = l.len() - l.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        digits > 0 && (l[digits..].starts_with(" upgraded") || l[digits..].starts_with(" packages upgraded"))
    };
    let end = lines.iter().position(upgraded).map_or(lines.len(), |i| i + 1);
    lines.get(start..end.max(start)).unwrap_or_default().join("\n")
}

const DPKG_FMT: &str = "${Package}\\t${Version}\\t${db:Status-Abbrev}\\n";

/// Read script: `$1` marker, `$2` "1" for policy, `$3` deb path, `$4` dpkg format, then names.
const READ: &str = r#"m=$1; pol=$2; deb=$3; fmt=$4; shift 4
printf '%s now\n' "$m"; date +%s
printf '%s stamp\n' "$m"
stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null
if [ -n "$deb" ]; then
  p=$(dpkg-deb -f "$deb" Package) || exit 3
  printf '%s deb\n%s\n' "$m" "$p"; dpkg-deb -f "$deb" Version
  set -- "$@" "$p"
fi
printf '%s dpkg\n' "$m"
if [ $# -gt 0 ]; then dpkg-query -W -f="$fmt" "$@" 2>/dev/null; fi
if [ "$pol" = 1 ] && [ $# -gt 0 ]; then printf '%s policy\n' "$m"; LC_ALL=C apt-cache policy "$@"; fi
printf '%s end\n' "$m"
"#;

/// Plans `ansible.builtin.apt` (one round trip reads dpkg, apt-cache policy and the cache age).
///
/// Arguments: `name` (aliases `package`, `pkg`; string, comma list or list; `name=version`),
/// `state` present (default) | installed | latest | absent | removed, `update_cache`,
/// `cache_valid_time` (s), `deb` (a path ON THE HOST), `purge`, `install_recommends`,
/// `autoremove`, `allow_unauthenticated`, `allow_downgrade`, `default_release`, `lock_timeout`
/// (s, default 60: apt waits this long for the dpkg lock).
///
/// Result: the keys of ansible.builtin.apt's for the run's [`Exit`]: `cache_updated`,
/// `cache_update_time` (epoch s) for present/latest and a cache refresh alone; `stdout`,
/// `stderr` (and `_lines`) and `diff` when packages change (and always for `deb`); `absent`
/// without a change has `changed` alone. `changed` when packages were installed/removed; when
/// only the cache is refreshed (no packages), `changed` = `cache_updated` (Ansible). Check mode:
/// the plan decides `changed` (and a stale cache counts as updated), nothing runs, so a planned
/// change has empty `stdout`/`stderr` where ansible-core shows `apt-get --simulate`'s. apt-get failures: failed with
/// "'<cmd>' failed: <stderr>" or "No package matching 'X' is available".
/// Errors: `upgrade` other than no, `state: build-dep|fixed`, `deb` with a state other than present.
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<AptWork>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let names = a.list("name")?.unwrap_or_default();
    let state = match a.choice("state")?.as_deref() {
        None | Some("present" | "installed") => "present",
        Some("absent" | "removed") => "absent",
        Some("latest") => "latest",
        Some(other) => return Err(bad("apt", format!("state={other} is not supported by talon yet"))),
    };
    if let Some(u) = a.str("upgrade")?
        && !matches!(u.as_str(), "no" | "false" | "False")
    {
        return Err(bad("apt", "upgrade is not supported by talon yet"));
    }
    let update_cache = a.bool("update_cache", false)?;
    let valid_time = a.u64("cache_valid_time")?.unwrap_or(0);
    let deb = a.str("deb")?;
    let purge = a.bool("purge", false)?;
    let recommends = a.opt_bool("install_recommends")?;
    let autoremove = a.bool("autoremove", false)?;
    let unauth = a.bool("allow_unauthenticated", false)?;
    let downgrade = a.bool("allow_downgrade", false)?;
    let release = a.str("default_release")?;
    let lock_timeout = a.u64("lock_timeout")?.unwrap_or(60);
    if deb.is_some() && state != "present" {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "deb only supports state=present",
        )));
    }
    let mut specs = Vec::new();
    for n in &names {
        match PkgSpec::parse(n) {
            Ok(s) if s.version.is_some() && state == "latest" => {
                return Ok(Plan::Done(ModuleOutcome::failed(format!(
                    "version number inconsistent with state=latest: {n}"
                ))));
            }
            Ok(s) => specs.push(s),
            Err(e) => return Ok(Plan::Done(ModuleOutcome::failed(e))),
        }
    }

    let m = marker();
    let mut read_args = vec![
        m.clone(),
        if state == "latest" { "1" } else { "0" }.to_string(),
        deb.clone().unwrap_or_default(),
        DPKG_FMT.replace("\\t", "\t").replace("\\n", "\n"),
    ];
    read_args.extend(specs.iter().map(|s| s.name.clone()));
    let out = run_script(ctx, READ, &read_args, None).await?;
    let text = out.stdout_str();
    let secs = sections(&text, &m);
    if section(&secs, "end").is_none() {
        return Ok(Plan::Done(ModuleOutcome::failed(format!(
            "cannot read package state on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        ))));
    }
    let num = |name: &str| -> u64 {
        section(&secs, name)
            .and_then(|b| b.lines().next())
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0)
    };
    let mut now = num("now");
    if now == 0 {
        now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
    }
    let stamp = num("stamp");
    let installed = parse_dpkg(section(&secs, "dpkg").unwrap_or_default());
    let candidates = parse_policy(section(&secs, "policy").unwrap_or_default());
    let mut plan = plan_apt(state, &specs, &installed, &candidates, purge);
    if let Some(path) = &deb {
        let mut lines = section(&secs, "deb").unwrap_or_default().lines();
        let pkg = lines.next().unwrap_or_default().trim().to_string();
        let ver = lines.next().unwrap_or_default().trim().to_string();
        let have = installed
            .get(&pkg)
            .filter(|r| r.installed())
            .map(|r| r.version.as_str());
        if have != Some(ver.as_str()) {
            plan.install.push(path.clone());
        }
    }
    let stale = (update_cache || valid_time > 0) && stamp.saturating_add(valid_time) <= now;
    let no_packages = specs.is_empty() && deb.is_none();
    let exit = Exit::of(deb.is_some(), no_packages, stale, state);
    let empty = plan.install.is_empty() && plan.remove.is_empty();
    // Check mode runs no apt-get: a planned change has empty output.
    let planned = exit.result(
        ModuleOutcome::changed(!empty || (no_packages && stale)),
        (stale, stamp),
        (!empty).then_some(("", "")),
        ctx.diff,
    );
    if empty && !stale {
        return Ok(Plan::Done(planned));
    }

    // The change: one script, one round trip.
    let mut script = String::from("export DEBIAN_FRONTEND=noninteractive\n");
    let fail = |label: &str| {
        format!(
            " || {{ printf '%s\\n' {} >&2; exit 1; }}\n",
            quote(&format!("{m} {label}"))
        )
    };
    if stale {
        script.push_str(&format!(
            "apt-get update -q -o DPkg::Lock::Timeout={lock_timeout}"
        ));
        script.push_str(&fail("update"));
        script.push_str(&format!(
            "printf '%s stamp\\n' {}\nstat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists\n",
            quote(&m)
        ));
    }
    let mut install = plan.install.clone();
    if stale && state == "latest" {
        // Candidates may have moved with the new cache: let apt decide for all of them.
        install = specs.iter().map(PkgSpec::arg).collect();
    }
    let mut cmds = Vec::new();
    if !install.is_empty() {
        let mut c: Vec<String> = ["apt-get", "install", "-y", "-q"].map(String::from).to_vec();
        c.extend(["-o".to_string(), format!("DPkg::Lock::Timeout={lock_timeout}")]);
        c.extend(
            [
                "-o",
                "Dpkg::Options::=--force-confdef",
                "-o",
                "Dpkg::Options::=--force-confold",
            ]
            .map(String::from),
        );
        match recommends {
            Some(true) => c.extend(["-o".to_string(), "APT::Install-Recommends=yes".to_string()]),
            Some(false) => c.push("--no-install-recommends".into()),
            None => {}
        }
        if unauth {
            c.push("--allow-unauthenticated".into());
        }
        if downgrade {
            c.push("--allow-downgrades".into());
        }
        if let Some(r) = &release {
            c.extend(["-t".to_string(), r.clone()]);
        }
        c.extend(install.iter().cloned());
        cmds.push(c);
    }
    if !plan.remove.is_empty() {
        let mut c: Vec<String> = ["apt-get", "remove", "-y", "-q"].map(String::from).to_vec();
        c.extend(["-o".to_string(), format!("DPkg::Lock::Timeout={lock_timeout}")]);
        if purge {
            c.push("--purge".into());
        }
        if autoremove {
            c.push("--auto-remove".into());
        }
        c.extend(plan.remove.iter().cloned());
        cmds.push(c);
    }
    for c in &cmds {
        script.push_str(&join(c));
        script.push_str(&fail(&join(c)));
    }
    let mut names_after: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    if let Some(p) = section(&secs, "deb").and_then(|b| b.lines().next()) {
        names_after.push(p.trim().to_string());
    }
    if !names_after.is_empty() {
        script.push_str(&format!(
            "printf '%s dpkg\\n' {}\ndpkg-query -W -f={} {} 2>/dev/null\n",
            quote(&m),
            quote(&DPKG_FMT.replace("\\t", "\t").replace("\\n", "\n")),
            join(&names_after)
        ));
    }
    script.push_str(&format!("printf '%s end\\n' {}\n", quote(&m)));
    let work = AptWork {
        script,
        marker: m,
        installed,
        names_after,
        stale,
        stamp,
        no_packages,
        exit,
        packages: !empty,
    };
    Ok(Plan::Change(planned, work))
}

/// What a [`plan`] of `apt` decided: the one script that changes the host (cache update,
/// install, remove, then the packages read back), and what the result is computed from.
#[derive(Debug)]
pub struct AptWork {
    script: String,
    marker: String,
    installed: HashMap<String, DpkgRow>,
    names_after: Vec<String>,
    stale: bool,
    stamp: u64,
    no_packages: bool,
    exit: Exit,
    /// Packages are installed or removed (not only the cache refreshed).
    packages: bool,
}

/// Applies a [`plan`]: runs its script (one round trip) and reports whether a package changed,
/// with the keys of ansible.builtin.apt's result for the run's [`Exit`] (`stdout`, `stderr`,
/// `diff`, the cache state).
pub async fn apply(
    w: AptWork,
    _planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let AptWork {
        script,
        marker: m,
        installed,
        names_after,
        stale,
        mut stamp,
        no_packages,
        exit,
        packages,
    } = w;
    let out = run_script(ctx, &script, &[], None).await?;
    let stdout = out.stdout_str();
    let stderr = out.stderr_str();
    let clean_err: String = stderr
        .lines()
        .filter(|l| !l.starts_with(&m))
        .collect::<Vec<_>>()
        .join("\n");
    if !out.status.success() {
        let step = stderr
            .lines()
            .find_map(|l| l.strip_prefix(&m))
            .map(str::trim)
            .unwrap_or("apt-get");
        let msg = if step == "update" {
            format!("Failed to update apt cache: {}", clean_err.trim())
        } else if let Some(p) = clean_err
            .lines()
            .find_map(|l| l.trim().strip_prefix("E: Unable to locate package "))
        {
            format!("No package matching '{}' is available", p.trim())
        } else {
            format!("'{step}' failed: {}", clean_err.trim())
        };
        let printed = before_marker(&stdout, &m);
        let mut f = ModuleOutcome::failed(msg)
            .with("stdout", printed.as_str())
            .with("stdout_lines", splitlines(&printed))
            .with("stderr", clean_err.as_str())
            .with("stderr_lines", splitlines(&clean_err));
        if exit != Exit::Remove {
            f = f.with("cache_updated", false).with("cache_update_time", stamp);
        }
        f.result.insert("rc".into(), Value::from(out.status.rc()));
        return Ok(f);
    }
    let after_secs = sections(&stdout, &m);
    if stale && let Some(s) = section(&after_secs, "stamp").and_then(|b| b.trim().parse().ok()) {
        stamp = s;
    }
    let after = parse_dpkg(section(&after_secs, "dpkg").unwrap_or_default());
    let key =
        |map: &HashMap<String, DpkgRow>, n: &str| map.get(n).map(|r| (r.version.clone(), r.status.clone()));
    let pkgs_changed = names_after.iter().any(|n| key(&installed, n) != key(&after, n));
    let o = ModuleOutcome::changed(pkgs_changed || (no_packages && stale));
    let printed = before_marker(&stdout, &m);
    let out = packages.then_some((printed.as_str(), clean_err.as_str()));
    Ok(exit.result(o, (stale, stamp), out, ctx.diff))
}

/// The text of `stdout` that apt-get printed (everything outside our marker sections).
fn before_marker(stdout: &str, m: &str) -> String {
    sections(stdout, m)
        .into_iter()
        .filter(|(n, _)| n.is_empty())
        .map(|(_, b)| b)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn dpkg() -> HashMap<String, DpkgRow> {
        parse_dpkg(
            "bash\t5.2.15-2+b8\tii \ncurl\t7.88\trc \nvim\t\tun \nlibc6\t2.36\tii \nlibc6\t2.36\tun \n",
        )
    }

    #[test]
    fn parses_dpkg_and_policy() {
        let d = dpkg();
        assert!(d["bash"].installed());
        assert!(!d["curl"].installed() && d["curl"].config_files());
        assert!(!d["vim"].installed());
        assert!(d["libc6"].installed());
        let p = parse_policy(
            "bash:\n  Installed: 5.2.15-2+b8\n  Candidate: 5.2.15-2+b13\n  Version table:\nnope:\n  Installed: (none)\n  Candidate: (none)\n",
        );
        assert_eq!(p["bash"].as_deref(), Some("5.2.15-2+b13"));
        assert_eq!(p["nope"], None);
    }

    #[test]
    fn specs() {
        assert_eq!(
            PkgSpec::parse("nginx=1.2*").unwrap().version.as_deref(),
            Some("1.2*")
        );
        assert!(PkgSpec::parse("a=b=c").is_err());
        assert!(PkgSpec::parse("-oFoo").is_err());
    }

    #[test]
    fn result_keys_follow_the_modules_exit() {
        let keys = |o: &ModuleOutcome| {
            let mut k: Vec<&str> = o.result.keys().map(String::as_str).collect();
            k.sort_unstable();
            k.join(",")
        };
        let out = Some((
            "Reading state information...\nThe following NEW packages will be installed:\n  x\n0 upgraded, 1 newly installed.\nSetting up x\n",
            "",
        ));
        let ok = ModuleOutcome::ok;
        assert_eq!(
            keys(&Exit::Install.result(ok(), (false, 1), None, false)),
            "cache_update_time,cache_updated"
        );
        assert_eq!(keys(&Exit::Remove.result(ok(), (false, 1), None, false)), "");
        assert_eq!(
            keys(&Exit::Cache.result(ok(), (true, 1), out, false)),
            "cache_update_time,cache_updated"
        );
        let changed = Exit::Install.result(ok(), (false, 1), out, false);
        assert_eq!(
            keys(&changed),
            "cache_update_time,cache_updated,diff,stderr,stderr_lines,stdout,stdout_lines"
        );
        assert_eq!(changed.result["diff"], json!({}));
        let removed = Exit::Remove.result(ok(), (false, 1), out, true);
        assert_eq!(keys(&removed), "diff,stderr,stderr_lines,stdout,stdout_lines");
        assert_eq!(
            removed.result["diff"]["prepared"],
            "The following NEW packages will be installed:\n  x\n0 upgraded, 1 newly installed."
        );
        let deb = Exit::Deb.result(ok(), (false, 1), None, false);
        assert_eq!(keys(&deb), "diff,stderr,stderr_lines,stdout,stdout_lines");
        assert_eq!(deb.result["diff"], "");
        assert_eq!(prepared(""), "");
        assert_eq!(prepared("a\nb"), "a\nb");
    }

    #[test]
    fn plans_like_ansible() {
        let d = dpkg();
        let s = |x: &str| PkgSpec::parse(x).unwrap();
        let none = HashMap::new();
        let p = plan_apt("present", &[s("bash"), s("vim"), s("curl")], &d, &none, false);
        assert_eq!(p.install, ["vim", "curl"]);
        let p = plan_apt("present", &[s("bash=5.2*"), s("libc6=2.35")], &d, &none, false);
        assert_eq!(p.install, ["libc6=2.35"]);
        let p = plan_apt("absent", &[s("bash"), s("vim"), s("curl")], &d, &none, false);
        assert_eq!(p.remove, ["bash"]);
        let p = plan_apt("absent", &[s("curl")], &d, &none, true);
        assert_eq!(p.remove, ["curl"]);
        let cand = parse_policy("bash:\n  Candidate: 5.2.15-2+b13\nlibc6:\n  Candidate: 2.36\n");
        let p = plan_apt("latest", &[s("bash"), s("libc6"), s("vim")], &d, &cand, false);
        assert_eq!(p.install, ["bash", "vim"]);
    }
}
