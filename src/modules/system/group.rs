//! `group`: make a local group exist (with a gid) or not, as `ansible.builtin.group` does, with
//! `getent` to read the state and `groupadd`/`groupmod`/`groupdel` to change it (no Python).
//! One round trip when nothing changes, two when something does.

use serde_json::Value;

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::{
    bad, marker, missing_tool, run_script, section, sections, tools_probe, with_output,
};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan};
use crate::vars::Vars;

crate::module_info!(
    /// `group` arguments.
    INFO,
    "group",
    ArgSpec::new(&[
        ArgDef::str("name").required(),
        ArgDef::str("state").choices(&["present", "absent"]),
        ArgDef::int("gid"),
        ArgDef::bool("system"),
        ArgDef::bool("non_unique"),
        ArgDef::bool("local"),
        ArgDef::bool("force"),
        ArgDef::int("gid_min"),
        ArgDef::int("gid_max"),
    ]),
    plan = plan,
    apply = apply
);

/// One line of `getent group`: `name:x:gid:member,member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Group name.
    pub name: String,
    /// Numeric group id.
    pub gid: u32,
    /// Supplementary members (user names).
    pub members: Vec<String>,
}

/// Parses `getent group` output; malformed lines are skipped.
pub fn parse_groups(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
                members: f[3]
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect()
}

/// What the `group` module will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupPlan {
    /// Nothing to do.
    Keep,
    /// Run these commands.
    Run(Vec<Vec<String>>),
}

/// What the `group` task asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSpec {
    pub name: String,
    pub present: bool,
    pub gid: Option<u32>,
    pub system: bool,
    pub non_unique: bool,
    pub force: bool,
    /// `gid_min`/`gid_max`: `-K GID_MIN=N`/`-K GID_MAX=N` for `groupadd`.
    pub gid_min: Option<i64>,
    pub gid_max: Option<i64>,
}

/// Computes the plan for the group given its current entry:
/// `groupadd [-g GID [-o]] [-r] [-K GID_MIN=N] [-K GID_MAX=N] NAME`, `groupmod -g GID [-o] NAME`
/// when the gid differs, or `groupdel [-f] NAME` (matches `ansible.builtin.group`; `force`
/// deletes a group that is a user's primary group).
pub fn plan_group(spec: &GroupSpec, current: Option<&GroupEntry>) -> GroupPlan {
    let GroupSpec {
        name,
        present,
        gid,
        system,
        non_unique,
        force,
        gid_min,
        gid_max,
    } = spec;
    let (present, gid, system, non_unique, force) = (*present, *gid, *system, *non_unique, *force);
    let s = |x: &str| x.to_string();
    match (present, current) {
        (false, None) => GroupPlan::Keep,
        (false, Some(_)) if force => GroupPlan::Run(vec![vec![s("groupdel"), s("-f"), s(name)]]),
        (false, Some(_)) => GroupPlan::Run(vec![vec![s("groupdel"), s(name)]]),
        (true, None) => {
            let mut c = vec![s("groupadd")];
            if let Some(g) = gid {
                c.extend([s("-g"), g.to_string()]);
                if non_unique {
                    c.push(s("-o"));
                }
            }
            if system {
                c.push(s("-r"));
            }
            if let Some(v) = gid_min {
                c.extend([s("-K"), format!("GID_MIN={v}")]);
            }
            if let Some(v) = gid_max {
                c.extend([s("-K"), format!("GID_MAX={v}")]);
            }
            c.push(s(name));
            GroupPlan::Run(vec![c])
        }
        (true, Some(cur)) => match gid {
            Some(g) if g != cur.gid => {
                let mut c = vec![s("groupmod"), s("-g"), g.to_string()];
                if non_unique {
                    c.push(s("-o"));
                }
                c.push(s(name));
                GroupPlan::Run(vec![c])
            }
            _ => GroupPlan::Keep,
        },
    }
}

/// The commands that bring a group to the wanted state, and what to report after them.
#[derive(Debug)]
pub struct GroupWork {
    cmds: Vec<Vec<String>>,
    name: String,
    present: bool,
    system: bool,
    marker: String,
    /// `local: true` fails here, with this message, when the group would change.
    local_failure: Option<String>,
}

/// The libuser programs ansible.builtin.group's `local: true` runs.
const LOCAL_TOOLS: &[&str] = &["lgroupadd", "lgroupmod", "lgroupdel"];

/// Plans `ansible.builtin.group`: reads the group with `getent` (one round trip) and decides.
///
/// Result (matches ansible.builtin.group's `main`): `name`, `state`, and while the group exists
/// `gid` and `system`, `stdout`/`stderr` when the command printed; check mode reports `changed`
/// alone for a group it would add or delete, and the current gid for one whose gid would
/// change. `local: true` needs libuser's `lgroupadd`/`lgroupmod`/`lgroupdel`: without them the
/// task fails with ansible-core's "Failed to find required executable" (on an existing group
/// even in check mode, as Ansible's `group_mod` looks `lgroupmod` up first); talon does not run
/// them when they are there.
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<GroupWork>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let name = a.req_str("name")?;
    let present = a.choice("state")?.as_deref() != Some("absent");
    let gid = a
        .u64("gid")?
        .map(|g| u32::try_from(g).map_err(|_| bad("group", format!("gid {g} is too large"))))
        .transpose()?;
    let local = a.bool("local", false)?;
    let spec = GroupSpec {
        present,
        gid,
        system: a.bool("system", false)?,
        non_unique: a.bool("non_unique", false)?,
        force: a.bool("force", false)?,
        gid_min: a.i64("gid_min")?,
        gid_max: a.i64("gid_max")?,
        name: name.clone(),
    };
    // ansible.builtin.group's argument rules, with its messages, in its order.
    if spec.non_unique && gid.is_none() {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "non_unique is True but all of the following are missing: gid",
        )));
    }
    if spec.force && local {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "force is not a valid option for local, force=True and local=True are mutually exclusive",
        )));
    }
    if local {
        for (arg, set) in [
            ("gid_min", spec.gid_min.is_some()),
            ("gid_max", spec.gid_max.is_some()),
        ] {
            if set {
                return Ok(Plan::Done(ModuleOutcome::failed(format!(
                    "'{arg}' can not be used with 'local'"
                ))));
            }
        }
    }

    let m = marker();
    let mut read = String::from("printf '%s group\\n' \"$1\"; getent group \"$2\" || true\n");
    if local {
        read.push_str("printf '%s all\\n' \"$1\"; getent group\n");
        read.push_str(&tools_probe(LOCAL_TOOLS));
    }
    let out = run_script(ctx, &read, &[m.clone(), name.clone()], None).await?;
    let text = out.stdout_str();
    let secs = sections(&text, &m);
    let Some(body) = section(&secs, "group") else {
        return Ok(Plan::Done(ModuleOutcome::failed(format!(
            "cannot read groups on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        ))));
    };
    let current = parse_groups(body).into_iter().find(|g| g.name == name);
    let local_failure = local.then(|| {
        let all = parse_groups(section(&secs, "all").unwrap_or_default());
        local_check(&spec, current.is_some(), &all, |tool| missing_tool(&secs, tool))
    });
    let local_failure = local_failure.flatten();
    let mut o = ModuleOutcome::ok()
        .with("name", name.clone())
        .with("state", if present { "present" } else { "absent" });
    if let Some(c) = &current {
        o = o.with("system", spec.system).with("gid", c.gid);
    }
    // An existing group asked present meets lgroupmod even in check mode.
    if present
        && current.is_some()
        && let Some(msg) = local_failure.clone()
    {
        return Ok(Plan::Done(ModuleOutcome::failed(msg)));
    }
    let cmds = match plan_group(&spec, current.as_ref()) {
        GroupPlan::Keep => return Ok(Plan::Done(o)),
        GroupPlan::Run(cmds) => cmds,
    };
    // Ansible's check mode ends with `changed` alone for a group it adds or deletes.
    let planned = if current.is_some() && present {
        o.changed = true;
        o
    } else {
        ModuleOutcome::changed(true)
    };
    let work = GroupWork {
        cmds,
        name,
        present,
        system: spec.system,
        marker: m,
        local_failure,
    };
    Ok(Plan::Change(planned, work))
}

/// What `local: true` meets before a command (ansible.builtin.group's `_local_check_gid_exists`
/// and `get_bin_path`): another group with the gid asked for, or a missing libuser program
/// (`tool_missing` gives ansible-core's message for one); with the program there, talon's own
/// refusal.
fn local_check(
    spec: &GroupSpec,
    exists: bool,
    all: &[GroupEntry],
    tool_missing: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let tool = match (spec.present, exists) {
        (false, _) => "lgroupdel",
        (true, false) => "lgroupadd",
        (true, true) => "lgroupmod",
    };
    if spec.present
        && let Some(gid) = spec.gid.filter(|g| *g != 0)
        && let Some(other) = all.iter().find(|g| g.gid == gid && g.name != spec.name)
    {
        return Some(format!("GID '{gid}' already exists with group '{}'", other.name));
    }
    Some(tool_missing(tool).unwrap_or_else(|| format!("local: true: talon does not run libuser's {tool}")))
}

/// Applies a [`plan`]: runs the commands and reads the group back for its gid. A failing command
/// fails the task with its stderr as `msg` (and `name`, as Ansible's `fail_json`).
pub async fn apply(
    w: GroupWork,
    _planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let GroupWork {
        cmds,
        name,
        present,
        system,
        marker: m,
        local_failure,
    } = w;
    if let Some(msg) = local_failure {
        return Ok(ModuleOutcome::failed(msg));
    }
    let mut script = String::new();
    for c in &cmds {
        script.push_str(&format!("{} || exit $?\n", crate::transport::quote::join(c)));
    }
    script.push_str(&format!(
        "exec 2>/dev/null\nprintf '%s group\\n' {}\ngetent group {} || true\n",
        crate::transport::quote::quote(&m),
        crate::transport::quote::quote(&name)
    ));
    let out = run_script(ctx, &script, &[], None).await?;
    if !out.status.success() {
        return Ok(ModuleOutcome::failed(out.stderr_str()).with("name", name));
    }
    let text = out.stdout_str();
    let secs = sections(&text, &m);
    let mut o = ModuleOutcome::changed(true)
        .with("name", name)
        .with("state", if present { "present" } else { "absent" });
    o = with_output(o, section(&secs, "").unwrap_or_default(), &out.stderr_str());
    if let Some(g) = section(&secs, "group").and_then(|b| parse_groups(b).into_iter().next()) {
        o = o.with("system", system).with("gid", Value::from(g.gid));
    }
    Ok(o)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_getent_group() {
        let g = parse_groups("sudo:x:27:alice,bob\nstaff:x:50:\nbad line\n");
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].members, ["alice", "bob"]);
        assert_eq!(g[1].gid, 50);
    }

    #[test]
    fn plans_like_ansible() {
        let cur = GroupEntry {
            name: "app".into(),
            gid: 1001,
            members: vec![],
        };
        let spec = |present: bool, gid: Option<u32>, system: bool, force: bool| GroupSpec {
            name: "app".into(),
            present,
            gid,
            system,
            force,
            ..Default::default()
        };
        let run = |v: &[&str]| GroupPlan::Run(vec![v.iter().map(|s| s.to_string()).collect()]);
        assert_eq!(
            plan_group(&spec(true, Some(1001), false, false), Some(&cur)),
            GroupPlan::Keep
        );
        assert_eq!(
            plan_group(&spec(true, None, true, false), Some(&cur)),
            GroupPlan::Keep
        );
        assert_eq!(
            plan_group(&spec(true, Some(1002), false, false), Some(&cur)),
            run(&["groupmod", "-g", "1002", "app"])
        );
        assert_eq!(
            plan_group(&spec(true, Some(900), true, false), None),
            run(&["groupadd", "-g", "900", "-r", "app"])
        );
        let mut ranged = spec(true, None, false, false);
        ranged.gid_min = Some(5000);
        ranged.gid_max = Some(5100);
        assert_eq!(
            plan_group(&ranged, None),
            run(&["groupadd", "-K", "GID_MIN=5000", "-K", "GID_MAX=5100", "app"])
        );
        // The range only matters when adding.
        assert_eq!(plan_group(&ranged, Some(&cur)), GroupPlan::Keep);
        assert_eq!(
            plan_group(&spec(false, None, false, false), Some(&cur)),
            run(&["groupdel", "app"])
        );
        assert_eq!(
            plan_group(&spec(false, None, false, true), Some(&cur)),
            run(&["groupdel", "-f", "app"])
        );
        assert_eq!(
            plan_group(&spec(false, None, false, false), None),
            GroupPlan::Keep
        );
    }

    #[test]
    fn local_meets_a_taken_gid_then_the_missing_program() {
        let all = parse_groups("app:x:1001:\nother:x:1500:\n");
        let missing = |t: &str| Some(format!("no {t}"));
        let mut s = GroupSpec {
            name: "app".into(),
            present: true,
            gid: Some(1500),
            ..Default::default()
        };
        assert_eq!(
            local_check(&s, true, &all, missing).as_deref(),
            Some("GID '1500' already exists with group 'other'")
        );
        s.gid = None;
        assert_eq!(
            local_check(&s, true, &all, missing).as_deref(),
            Some("no lgroupmod")
        );
        assert_eq!(
            local_check(&s, false, &all, missing).as_deref(),
            Some("no lgroupadd")
        );
        s.present = false;
        assert_eq!(
            local_check(&s, true, &all, missing).as_deref(),
            Some("no lgroupdel")
        );
    }
}
