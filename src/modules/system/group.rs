//! `group`: make a local group exist (with a gid) or not, as `ansible.builtin.group` does, with
//! `getent` to read the state and `groupadd`/`groupmod`/`groupdel` to change it (no Python).
//! One round trip when nothing changes, two when something does.

use serde_json::Value;

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::{bad, chain, marker, run_script, section, sections};
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

/// Computes the plan for `name` given its current entry: `groupadd [-g GID [-o]] [-r] NAME`,
/// `groupmod -g GID [-o] NAME` when the gid differs, or `groupdel [-f] NAME` (matches
/// `ansible.builtin.group`; `force` deletes a group that is a user's primary group).
pub fn plan_group(
    name: &str,
    present: bool,
    gid: Option<u32>,
    system: bool,
    non_unique: bool,
    force: bool,
    current: Option<&GroupEntry>,
) -> GroupPlan {
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
    marker: String,
    base: ModuleOutcome,
}

/// Plans `ansible.builtin.group`: reads the group with `getent` (one round trip) and decides.
///
/// Result: `name`, `state`, and for present groups `gid` and `system`; changed when a command
/// would run (in check mode with the gid asked for or the current one).
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<GroupWork>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let name = a.req_str("name")?;
    let present = a.choice("state")?.as_deref() != Some("absent");
    let gid = a
        .u64("gid")?
        .map(|g| u32::try_from(g).map_err(|_| bad("group", format!("gid {g} is too large"))))
        .transpose()?;
    let system = a.bool("system", false)?;
    let non_unique = a.bool("non_unique", false)?;
    let force = a.bool("force", false)?;
    // ansible.builtin.group's argument rules, with its messages.
    if non_unique && gid.is_none() {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "non_unique is True but all of the following are missing: gid",
        )));
    }
    if force && a.bool("local", false)? {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "force is not a valid option for local, force=True and local=True are mutually exclusive",
        )));
    }

    let m = marker();
    let read = r#"printf '%s group\n' "$1"; getent group "$2" || true"#;
    let out = run_script(ctx, read, &[m.clone(), name.clone()], None).await?;
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
    let decided = plan_group(&name, present, gid, system, non_unique, force, current.as_ref());
    let mut o = ModuleOutcome::ok()
        .with("name", name.clone())
        .with("state", if present { "present" } else { "absent" });
    if present {
        o = o.with("system", system);
    }
    let cmds = match decided {
        GroupPlan::Keep => {
            if let Some(c) = current {
                o = o.with("gid", c.gid);
            }
            return Ok(Plan::Done(o));
        }
        GroupPlan::Run(cmds) => cmds,
    };
    o.changed = true;
    let mut planned = o.clone();
    if let Some(g) = gid.or(current.map(|c| c.gid)).filter(|_| present) {
        planned = planned.with("gid", g);
    }
    let work = GroupWork {
        cmds,
        name,
        present,
        marker: m,
        base: o,
    };
    Ok(Plan::Change(planned, work))
}

/// Applies a [`plan`]: runs the commands and reads the group back for its gid. A failing command
/// fails the task with its stderr as `msg`.
pub async fn apply(
    w: GroupWork,
    _planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let GroupWork {
        cmds,
        name,
        present,
        marker: m,
        base: mut o,
    } = w;
    let mut script = chain(&cmds);
    script.push_str(&format!(
        "printf '%s group\\n' {}\ngetent group {} || true\n",
        crate::transport::quote::quote(&m),
        crate::transport::quote::quote(&name)
    ));
    let out = run_script(ctx, &script, &[], None).await?;
    if !out.status.success() {
        let mut f = ModuleOutcome::failed(out.stderr_str().trim().to_string()).with("name", name);
        f.result.insert("rc".into(), out.status.rc().into());
        return Ok(f);
    }
    let text = out.stdout_str();
    let secs = sections(&text, &m);
    if present && let Some(g) = section(&secs, "group").and_then(|b| parse_groups(b).into_iter().next()) {
        o = o.with("gid", Value::from(g.gid));
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
        assert_eq!(
            plan_group("app", true, Some(1001), false, false, false, Some(&cur)),
            GroupPlan::Keep
        );
        assert_eq!(
            plan_group("app", true, None, true, false, false, Some(&cur)),
            GroupPlan::Keep
        );
        assert_eq!(
            plan_group("app", true, Some(1002), false, false, false, Some(&cur)),
            GroupPlan::Run(vec![vec![
                "groupmod".into(),
                "-g".into(),
                "1002".into(),
                "app".into()
            ]])
        );
        assert_eq!(
            plan_group("app", true, Some(900), true, false, false, None),
            GroupPlan::Run(vec![vec![
                "groupadd".into(),
                "-g".into(),
                "900".into(),
                "-r".into(),
                "app".into()
            ]])
        );
        assert_eq!(
            plan_group("app", false, None, false, false, false, Some(&cur)),
            GroupPlan::Run(vec![vec!["groupdel".into(), "app".into()]])
        );
        assert_eq!(
            plan_group("app", false, None, false, false, true, Some(&cur)),
            GroupPlan::Run(vec![vec!["groupdel".into(), "-f".into(), "app".into()]])
        );
        assert_eq!(
            plan_group("app", false, None, false, false, false, None),
            GroupPlan::Keep
        );
    }
}
