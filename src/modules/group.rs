//! `group`: make a local group exist (with a gid) or not, as `ansible.builtin.group` does, with
//! `getent` to read the state and `groupadd`/`groupmod`/`groupdel` to change it (no Python).
//! One round trip when nothing changes, two when something does.

use serde_json::Value;

use super::args::ArgType;
use super::sysutil::{Args, bad, chain, marker, run_script, section, sections};
use super::{ModuleContext, ModuleError, ModuleInfo, ModuleOutcome};
use crate::vars::Vars;

/// `group` arguments.
pub static INFO: ModuleInfo = ModuleInfo {
    name: "group",
    args: &["name", "state", "gid", "system", "non_unique", "local", "force"],
    free_form: false,
    types: &[("state", ArgType::Choice(&["present", "absent"]))],
};

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
/// `groupmod -g GID [-o] NAME` when the gid differs, or `groupdel NAME` (matches
/// `ansible.builtin.group`).
pub fn plan_group(
    name: &str,
    present: bool,
    gid: Option<u32>,
    system: bool,
    non_unique: bool,
    current: Option<&GroupEntry>,
) -> GroupPlan {
    let s = |x: &str| x.to_string();
    match (present, current) {
        (false, None) => GroupPlan::Keep,
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

/// Runs `ansible.builtin.group`.
///
/// Result: `name`, `state`, and for present groups `gid` and `system`; changed when a command
/// ran (or would run, in check mode). A failing command fails the task with its stderr as `msg`.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new("group", args);
    let name = a
        .str(&["name"])?
        .ok_or_else(|| bad("group", "missing required argument: name"))?;
    let present = a.choice(&["state"], &["present", "absent"])?.as_deref() != Some("absent");
    let gid = a
        .u64(&["gid"])?
        .map(|g| u32::try_from(g).map_err(|_| bad("group", format!("gid {g} is too large"))))
        .transpose()?;
    let system = a.bool(&["system"], false)?;
    let non_unique = a.bool(&["non_unique"], false)?;

    let m = marker();
    let read = r#"printf '%s group\n' "$1"; getent group "$2" || true"#;
    let out = run_script(ctx, read, &[m.clone(), name.clone()], None).await?;
    let text = out.stdout_str();
    let secs = sections(&text, &m);
    let Some(body) = section(&secs, "group") else {
        return Ok(ModuleOutcome::failed(format!(
            "cannot read groups on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        )));
    };
    let current = parse_groups(body).into_iter().find(|g| g.name == name);
    let plan = plan_group(&name, present, gid, system, non_unique, current.as_ref());
    let mut o = ModuleOutcome::ok()
        .with("name", name.clone())
        .with("state", if present { "present" } else { "absent" });
    if present {
        o = o.with("system", system);
    }
    let cmds = match plan {
        GroupPlan::Keep => {
            if let Some(c) = current {
                o = o.with("gid", c.gid);
            }
            return Ok(o);
        }
        GroupPlan::Run(cmds) => cmds,
    };
    o.changed = true;
    if ctx.check {
        if let Some(g) = gid.or(current.map(|c| c.gid)).filter(|_| present) {
            o = o.with("gid", g);
        }
        return Ok(o);
    }
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
            plan_group("app", true, Some(1001), false, false, Some(&cur)),
            GroupPlan::Keep
        );
        assert_eq!(
            plan_group("app", true, None, true, false, Some(&cur)),
            GroupPlan::Keep
        );
        assert_eq!(
            plan_group("app", true, Some(1002), false, false, Some(&cur)),
            GroupPlan::Run(vec![vec![
                "groupmod".into(),
                "-g".into(),
                "1002".into(),
                "app".into()
            ]])
        );
        assert_eq!(
            plan_group("app", true, Some(900), true, false, None),
            GroupPlan::Run(vec![vec![
                "groupadd".into(),
                "-g".into(),
                "900".into(),
                "-r".into(),
                "app".into()
            ]])
        );
        assert_eq!(
            plan_group("app", false, None, false, false, Some(&cur)),
            GroupPlan::Run(vec![vec!["groupdel".into(), "app".into()]])
        );
        assert_eq!(
            plan_group("app", false, None, false, false, None),
            GroupPlan::Keep
        );
    }
}
