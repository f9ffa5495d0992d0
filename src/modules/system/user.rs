//! `user`: make a local account exist with the given properties (or not), as
//! `ansible.builtin.user` does, without Python: one `sh` script reads `getent passwd`,
//! `getent shadow` and `getent group` (one round trip), the plan is computed on the controller,
//! and one more round trip runs `useradd`/`usermod`/`userdel` (argv quoted per argument) and
//! re-reads the entry. An already-hashed `password` travels on stdin to `chpasswd -e`, never in
//! argv (Ansible puts it in `usermod -p` argv).

use serde_json::Value;

use super::group::{GroupEntry, parse_groups};
use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::{bad, chain, marker, run_script, section, sections};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan};
use crate::transport::quote::quote;
use crate::vars::Vars;

crate::module_info!(
    /// `user` arguments (aliases included: `createhome`).
    INFO,
    "user",
    ArgSpec::new(&[
        ArgDef::str("name").required(),
        ArgDef::str("state").choices(&["present", "absent"]),
        ArgDef::int("uid"),
        ArgDef::str("group"),
        ArgDef::list("groups"),
        ArgDef::bool("append"),
        ArgDef::str("shell"),
        ArgDef::path("home"),
        ArgDef::bool("create_home").aliases(&["createhome"]),
        ArgDef::bool("move_home"),
        ArgDef::bool("system"),
        ArgDef::str("password").no_log(),
        ArgDef::str("update_password").choices(&["always", "on_create"]),
        ArgDef::str("comment"),
        ArgDef::bool("remove"),
        ArgDef::bool("force"),
        ArgDef::bool("non_unique"),
    ]),
    plan = plan,
    apply = apply
);

/// One line of `getent passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub name: String,
    /// Numeric user id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// GECOS / comment.
    pub comment: String,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

/// Parses one `getent passwd` line (`name:x:uid:gid:gecos:home:shell`).
pub fn parse_passwd(line: &str) -> Option<PasswdEntry> {
    let f: Vec<&str> = line.trim_end().split(':').collect();
    if f.len() < 7 {
        return None;
    }
    Some(PasswdEntry {
        name: f[0].to_string(),
        uid: f[2].parse().ok()?,
        gid: f[3].parse().ok()?,
        comment: f[4].to_string(),
        home: f[5].to_string(),
        shell: f[6].to_string(),
    })
}

/// The password hash field of one `getent shadow` line.
pub fn parse_shadow_hash(line: &str) -> Option<String> {
    line.trim_end().split(':').nth(1).map(str::to_string)
}

/// What the task asks for (parsed arguments).
#[derive(Debug, Clone, Default)]
pub struct UserSpec {
    pub name: String,
    pub present: bool,
    pub uid: Option<u32>,
    /// Primary group, by name or gid.
    pub group: Option<String>,
    /// Supplementary groups, by name or gid (`None`: leave alone).
    pub groups: Option<Vec<String>>,
    pub append: bool,
    pub shell: Option<String>,
    pub home: Option<String>,
    pub create_home: bool,
    pub move_home: bool,
    pub system: bool,
    /// Already-hashed password (a secret).
    pub password: Option<String>,
    /// `update_password: always` (default) rather than `on_create`.
    pub update_password_always: bool,
    pub comment: Option<String>,
    pub remove: bool,
    pub force: bool,
    pub non_unique: bool,
}

/// The computed change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPlan {
    /// Commands to run, in order (never containing the password).
    pub cmds: Vec<Vec<String>>,
    /// Feed `name:hash` to `chpasswd -e` after the commands.
    pub set_password: bool,
}

impl UserPlan {
    /// True when something would change.
    pub fn changed(&self) -> bool {
        !self.cmds.is_empty() || self.set_password
    }
}

fn find_group<'g>(groups: &'g [GroupEntry], key: &str) -> Option<&'g GroupEntry> {
    groups.iter().find(|g| g.name == key).or_else(|| {
        key.parse::<u32>()
            .ok()
            .and_then(|gid| groups.iter().find(|g| g.gid == gid))
    })
}

/// Computes the plan, like `ansible.builtin.user` (`useradd`/`usermod`/`userdel` flags).
///
/// `current` is the user's entry (if any), `hash` its shadow hash (if readable), `groups` all
/// of `getent group`. Errors with Ansible's message "Group X does not exist" when `group` or
/// one of `groups` is unknown.
///
/// Deviation: a primary group listed in `groups` is ignored when comparing (Ansible would
/// report a change on every run).
pub fn plan_user(
    spec: &UserSpec,
    current: Option<&PasswdEntry>,
    hash: Option<&str>,
    groups: &[GroupEntry],
) -> Result<UserPlan, String> {
    let s = |x: &str| x.to_string();
    let mut plan = UserPlan::default();
    if !spec.present {
        if current.is_some() {
            let mut c = vec![s("userdel")];
            if spec.force {
                c.push(s("-f"));
            }
            if spec.remove {
                c.push(s("-r"));
            }
            c.push(spec.name.clone());
            plan.cmds.push(c);
        }
        return Ok(plan);
    }
    let primary = match &spec.group {
        Some(g) => Some(find_group(groups, g).ok_or_else(|| format!("Group {g} does not exist"))?),
        None => None,
    };
    let wanted: Option<Vec<&GroupEntry>> = match &spec.groups {
        Some(list) => Some(
            list.iter()
                .map(|g| find_group(groups, g).ok_or_else(|| format!("Group {g} does not exist")))
                .collect::<Result<_, _>>()?,
        ),
        None => None,
    };
    let names = |v: &[&GroupEntry]| v.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(",");
    match current {
        None => {
            let mut c = vec![s("useradd")];
            if let Some(uid) = spec.uid {
                c.extend([s("-u"), uid.to_string()]);
                if spec.non_unique {
                    c.push(s("-o"));
                }
            }
            if let Some(g) = primary {
                c.extend([s("-g"), g.name.clone()]);
            } else if groups.iter().any(|g| g.name == spec.name) {
                // useradd would try to create a same-named group and fail (USERGROUPS_ENAB).
                c.push(s("-N"));
            }
            if let Some(w) = &wanted
                && !w.is_empty()
            {
                c.extend([s("-G"), names(w)]);
            }
            if let Some(x) = &spec.comment {
                c.extend([s("-c"), x.clone()]);
            }
            if let Some(x) = &spec.home {
                c.extend([s("-d"), x.clone()]);
            }
            if let Some(x) = &spec.shell {
                c.extend([s("-s"), x.clone()]);
            }
            if spec.system {
                c.push(s("-r"));
            }
            c.push(s(if spec.create_home { "-m" } else { "-M" }));
            c.push(spec.name.clone());
            plan.cmds.push(c);
            plan.set_password = spec.password.is_some();
        }
        Some(cur) => {
            let mut c = vec![s("usermod")];
            if let Some(uid) = spec.uid
                && uid != cur.uid
            {
                c.extend([s("-u"), uid.to_string()]);
                if spec.non_unique {
                    c.push(s("-o"));
                }
            }
            if let Some(g) = primary
                && g.gid != cur.gid
            {
                c.extend([s("-g"), g.name.clone()]);
            }
            if let Some(w) = &wanted {
                let new_gid = primary.map_or(cur.gid, |g| g.gid);
                let have: Vec<&str> = groups
                    .iter()
                    .filter(|g| g.gid != new_gid && g.members.contains(&cur.name))
                    .map(|g| g.name.as_str())
                    .collect();
                let want: Vec<&GroupEntry> = w.iter().copied().filter(|g| g.gid != new_gid).collect();
                let missing = want.iter().any(|g| !have.contains(&g.name.as_str()));
                let extra = have.iter().any(|h| !want.iter().any(|g| g.name == *h));
                if spec.append && missing {
                    c.extend([s("-a"), s("-G"), names(&want)]);
                } else if !spec.append && (missing || extra) {
                    c.extend([s("-G"), names(&want)]);
                }
            }
            if let Some(x) = &spec.comment
                && *x != cur.comment
            {
                c.extend([s("-c"), x.clone()]);
            }
            if let Some(x) = &spec.home
                && *x != cur.home
            {
                c.extend([s("-d"), x.clone()]);
                if spec.move_home {
                    c.push(s("-m"));
                }
            }
            if let Some(x) = &spec.shell
                && *x != cur.shell
            {
                c.extend([s("-s"), x.clone()]);
            }
            if c.len() > 1 {
                c.push(spec.name.clone());
                plan.cmds.push(c);
            }
            plan.set_password =
                spec.update_password_always && spec.password.as_deref().is_some_and(|p| Some(p) != hash);
        }
    }
    Ok(plan)
}

/// The read-state script: `$1` marker, `$2` user name.
const READ: &str = r#"m=$1; n=$2
printf '%s passwd\n' "$m"; getent passwd "$n"
printf '%s shadow\n' "$m"; getent shadow "$n" 2>/dev/null
printf '%s group\n' "$m"; getent group
printf '%s end\n' "$m"
"#;

fn parse_spec(args: &Vars) -> Result<UserSpec, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let name = a.req_str("name")?;
    let uid = a
        .u64("uid")?
        .map(|u| u32::try_from(u).map_err(|_| bad("user", format!("uid {u} is too large"))))
        .transpose()?;
    Ok(UserSpec {
        present: a.choice("state")?.as_deref() != Some("absent"),
        uid,
        group: a.str("group")?,
        groups: a.list("groups")?,
        append: a.bool("append", false)?,
        shell: a.str("shell")?,
        home: a.str("home")?,
        create_home: a.bool("create_home", true)?,
        move_home: a.bool("move_home", false)?,
        system: a.bool("system", false)?,
        password: a.str("password")?,
        update_password_always: a.choice("update_password")?.as_deref() != Some("on_create"),
        comment: a.str("comment")?,
        remove: a.bool("remove", false)?,
        force: a.bool("force", false)?,
        non_unique: a.bool("non_unique", false)?,
        name,
    })
}

/// What a [`plan`] of `user` found to change: the spec, the decided commands, the section
/// marker and the outcome to complete after them.
#[derive(Debug)]
pub struct UserWork {
    spec: UserSpec,
    plan: UserPlan,
    marker: String,
    base: ModuleOutcome,
}

/// Plans `ansible.builtin.user` (one round trip reads passwd, shadow and group).
///
/// Result: `name`, `state`; for present users `uid`, `group` (gid), `comment`, `home`, `shell`
/// (after the change: re-read in the same round trip), `append`, `move_home`, `password`
/// "NOT_LOGGING_PASSWORD" when given, and `create_home`/`system` when created; for absent users
/// `force`, `remove`. Check mode reports the plan; nothing runs. A failing command fails the task
/// with its stderr as `msg` and `rc` ([`apply`]).
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<UserWork>, ModuleError> {
    let spec = parse_spec(args)?;
    let m = marker();
    let out = run_script(ctx, READ, &[m.clone(), spec.name.clone()], None).await?;
    let text = out.stdout_str();
    let secs = sections(&text, &m);
    if section(&secs, "end").is_none() {
        return Ok(Plan::Done(ModuleOutcome::failed(format!(
            "cannot read accounts on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        ))));
    }
    let current = section(&secs, "passwd").and_then(|b| b.lines().find_map(parse_passwd));
    let hash = section(&secs, "shadow").and_then(|b| b.lines().find_map(parse_shadow_hash));
    let groups = parse_groups(section(&secs, "group").unwrap_or_default());
    let plan = match plan_user(&spec, current.as_ref(), hash.as_deref(), &groups) {
        Ok(p) => p,
        Err(msg) => {
            return Ok(Plan::Done(
                ModuleOutcome::failed(msg).with("name", spec.name.clone()),
            ));
        }
    };
    let mut o = ModuleOutcome::changed(plan.changed())
        .with("name", spec.name.clone())
        .with("state", if spec.present { "present" } else { "absent" });
    let planned = if spec.present {
        o = o.with("append", spec.append).with("move_home", spec.move_home);
        if spec.password.is_some() {
            o = o.with("password", "NOT_LOGGING_PASSWORD");
        }
        if let Some(g) = &spec.groups {
            o = o.with("groups", g.join(","));
        }
        if current.is_none() {
            o = o
                .with("create_home", spec.create_home)
                .with("system", spec.system);
        }
        with_entry(o.clone(), current.as_ref())
    } else {
        o.clone().with("force", spec.force).with("remove", spec.remove)
    };
    if !plan.changed() {
        return Ok(Plan::Done(planned));
    }
    let work = UserWork {
        spec,
        plan,
        marker: m,
        base: o,
    };
    Ok(Plan::Change(planned, work))
}

/// Applies a [`plan`]: runs the commands and re-reads the account in the same round trip.
pub async fn apply(
    w: UserWork,
    _planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    run_commands(ctx, &w.spec, &w.plan, &w.marker, w.base).await
}

fn with_entry(o: ModuleOutcome, e: Option<&PasswdEntry>) -> ModuleOutcome {
    match e {
        None => o,
        Some(e) => o
            .with("uid", e.uid)
            .with("group", e.gid)
            .with("comment", e.comment.clone())
            .with("home", e.home.clone())
            .with("shell", e.shell.clone()),
    }
}

async fn run_commands(
    ctx: &ModuleContext<'_>,
    spec: &UserSpec,
    plan: &UserPlan,
    m: &str,
    o: ModuleOutcome,
) -> Result<ModuleOutcome, ModuleError> {
    let mut script = chain(&plan.cmds);
    let mut stdin = None;
    if plan.set_password
        && let Some(pw) = &spec.password
    {
        script.push_str("chpasswd -e\n");
        stdin = Some(format!("{}:{pw}\n", spec.name).into_bytes());
    }
    script.push_str(&format!(
        "printf '%s passwd\\n' {}\ngetent passwd {} || true\n",
        quote(m),
        quote(&spec.name)
    ));
    let out = run_script(ctx, &script, &[], stdin).await?;
    if !out.status.success() {
        let mut f =
            ModuleOutcome::failed(out.stderr_str().trim().to_string()).with("name", spec.name.clone());
        f.result.insert("rc".into(), Value::from(out.status.rc()));
        return Ok(f);
    }
    let text = out.stdout_str();
    let secs = sections(&text, m);
    let after = section(&secs, "passwd").and_then(|b| b.lines().find_map(parse_passwd));
    Ok(if spec.present {
        with_entry(o, after.as_ref())
    } else {
        o.with("force", spec.force).with("remove", spec.remove)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn groups() -> Vec<GroupEntry> {
        parse_groups("alice:x:1000:\nsudo:x:27:alice\ndocker:x:998:\nadm:x:4:alice\n")
    }

    fn alice() -> PasswdEntry {
        parse_passwd("alice:x:1000:1000:Alice:/home/alice:/bin/bash").unwrap()
    }

    fn spec() -> UserSpec {
        UserSpec {
            name: "alice".into(),
            present: true,
            create_home: true,
            update_password_always: true,
            ..Default::default()
        }
    }

    #[test]
    fn parses_passwd_and_shadow() {
        assert_eq!(alice().home, "/home/alice");
        assert_eq!(parse_passwd("bad"), None);
        assert_eq!(
            parse_shadow_hash("alice:$6$x$y:19000:0:99999:7:::").as_deref(),
            Some("$6$x$y")
        );
    }

    #[test]
    fn unchanged_user_has_empty_plan() {
        let mut s = spec();
        s.shell = Some("/bin/bash".into());
        s.groups = Some(vec!["sudo".into(), "adm".into()]);
        s.password = Some("$6$x$y".into());
        let p = plan_user(&s, Some(&alice()), Some("$6$x$y"), &groups()).unwrap();
        assert!(!p.changed(), "{p:?}");
    }

    #[test]
    fn groups_append_and_replace() {
        let mut s = spec();
        s.groups = Some(vec!["docker".into()]);
        s.append = true;
        let p = plan_user(&s, Some(&alice()), None, &groups()).unwrap();
        assert_eq!(p.cmds, vec![vec!["usermod", "-a", "-G", "docker", "alice"]]);
        s.append = false;
        let p = plan_user(&s, Some(&alice()), None, &groups()).unwrap();
        assert_eq!(p.cmds, vec![vec!["usermod", "-G", "docker", "alice"]]);
        s.groups = Some(vec!["nope".into()]);
        assert_eq!(
            plan_user(&s, Some(&alice()), None, &groups()).unwrap_err(),
            "Group nope does not exist"
        );
    }

    #[test]
    fn create_and_password_on_stdin_only() {
        let mut s = spec();
        s.name = "bob".into();
        s.uid = Some(1500);
        s.shell = Some("/bin/sh".into());
        s.system = true;
        s.password = Some("$6$secret".into());
        let p = plan_user(&s, None, None, &groups()).unwrap();
        assert_eq!(
            p.cmds,
            vec![vec!["useradd", "-u", "1500", "-s", "/bin/sh", "-r", "-m", "bob"]]
        );
        assert!(p.set_password);
        assert!(!p.cmds.concat().iter().any(|a| a.contains("secret")));
        // A same-named group exists: -N.
        s.name = "alice".into();
        s.password = None;
        let p = plan_user(&s, None, None, &groups()).unwrap();
        assert!(p.cmds[0].contains(&"-N".to_string()));
    }

    #[test]
    fn modify_and_delete() {
        let mut s = spec();
        s.uid = Some(1001);
        s.home = Some("/srv/alice".into());
        s.move_home = true;
        s.password = Some("$6$new".into());
        let p = plan_user(&s, Some(&alice()), Some("$6$old"), &groups()).unwrap();
        assert_eq!(
            p.cmds,
            vec![vec!["usermod", "-u", "1001", "-d", "/srv/alice", "-m", "alice"]]
        );
        assert!(p.set_password);
        s.update_password_always = false;
        assert!(
            !plan_user(&s, Some(&alice()), Some("$6$old"), &groups())
                .unwrap()
                .set_password
        );
        let d = UserSpec {
            name: "alice".into(),
            remove: true,
            ..Default::default()
        };
        assert_eq!(
            plan_user(&d, Some(&alice()), None, &groups()).unwrap().cmds,
            vec![vec!["userdel", "-r", "alice"]]
        );
        assert!(!plan_user(&d, None, None, &groups()).unwrap().changed());
    }
}
