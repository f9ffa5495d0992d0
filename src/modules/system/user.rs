//! `user`: make a local account exist with the given properties (or not), as
//! `ansible.builtin.user` does on Linux, without Python: one `sh` script reads the account
//! (`getent passwd`, `shadow`, `group`), its home folder and SSH key (one round trip), the plan
//! is computed on the controller ([`super::user_plan`]), and the change runs in at most two more
//! round trips: `useradd`/`usermod`/`userdel` (argv quoted per argument), then what follows the
//! account as in Ansible (a missing home folder, `ssh-keygen`, `chage`), each re-reading the
//! account. Secrets never reach argv: an already-hashed `password` travels on stdin to
//! `chpasswd -e` (Ansible puts it in `usermod -p` argv), and `ssh_key_passphrase` on stdin to a
//! 0600 file that an `SSH_ASKPASS` script gives to `ssh-keygen` (Ansible types it on a pty).

use serde_json::Value;

use super::group::parse_groups;
use super::user_plan::{
    AfterPlan, KeyAction, KeyProbe, KeySpec, Probe, ShadowEntry, UserPlan, home_mode, parse_shadow,
    plan_after, plan_user,
};
pub use super::user_plan::{PasswdEntry, UserSpec, parse_passwd};
use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::{
    bad, marker, missing_tool, run_script, section, sections, tools_probe, with_output,
};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan};
use crate::transport::quote::{join, quote};
use crate::vars::Vars;

crate::module_info!(
    /// `user` arguments (aliases included: `user`, `createhome`).
    INFO,
    "user",
    ArgSpec::new(&[
        ArgDef::str("name").required().aliases(&["user"]),
        ArgDef::str("state").choices(&["present", "absent"]),
        ArgDef::int("uid"),
        ArgDef::str("group"),
        ArgDef::list("groups"),
        ArgDef::bool("append"),
        ArgDef::path("shell"),
        ArgDef::path("home"),
        ArgDef::bool("create_home").aliases(&["createhome"]),
        ArgDef::bool("move_home"),
        ArgDef::bool("system"),
        ArgDef::str("password").no_log(),
        ArgDef::str("update_password").choices(&["always", "on_create"]),
        ArgDef::bool("password_lock"),
        ArgDef::str("comment"),
        ArgDef::bool("remove"),
        ArgDef::bool("force"),
        ArgDef::bool("non_unique"),
        ArgDef::float("expires"),
        ArgDef::int("password_expire_min"),
        ArgDef::int("password_expire_max"),
        ArgDef::int("password_expire_warn"),
        ArgDef::int("password_expire_account_disable"),
        ArgDef::bool("generate_ssh_key"),
        ArgDef::int("ssh_key_bits"),
        ArgDef::str("ssh_key_type"),
        ArgDef::path("ssh_key_file"),
        ArgDef::str("ssh_key_comment"),
        ArgDef::str("ssh_key_passphrase").no_log(),
        ArgDef::bool("local"),
        ArgDef::str("umask"),
        ArgDef::int("uid_min"),
        ArgDef::int("uid_max"),
    ])
    // SELinux user and skeleton folder (and other systems' options, which ansible-core's Linux
    // user ignores): such a task takes the Python path.
    .python_for(&["seuser", "skeleton", "hidden", "login_class", "profile", "authorization", "role"]),
    run
);

/// The warning ansible.builtin.user gives a `password` that does not look like a crypt(3)
/// hash.
const UNHASHED: &str = "The input password appears not to have been hashed. The 'password' argument must be \
                        encrypted for this module to work properly.";

/// Whether `password` does not look hashed, by ansible.builtin.user's rules: `*`, `!` and
/// `*************` are fine (they disable the account); `:`, `*` or `!` elsewhere, no `$`, fewer
/// than three `$` fields, a salt-and-hash field outside `[a-zA-Z0-9./=]`, or the wrong length for
/// md5 (`$1$`, 22), sha256 (`$5$`, 43), sha512 (`$6$`, 86) or yescrypt (`$y$`, 43) are not.
fn looks_unhashed(password: &str) -> bool {
    if matches!(password, "*" | "!" | "*************") {
        return false;
    }
    if password.contains([':', '*', '!']) || !password.contains('$') {
        return true;
    }
    let fields: Vec<&str> = password.split('$').collect();
    let [_, kind, .., last] = fields.as_slice() else {
        return true;
    };
    if fields.len() < 3 {
        return true;
    }
    let odd = |c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '='));
    let length = match *kind {
        "1" => Some(22),
        "5" | "y" => Some(43),
        "6" => Some(86),
        _ => None,
    };
    last.contains(odd) || length.is_some_and(|n| last.len() != n)
}

/// Runs `user`: [`plan`] then [`apply`], with ansible.builtin.user's warning for a `password`
/// that [`looks_unhashed`] (in check mode too).
async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let planned = plan(args, ctx).await?;
    let out = crate::modules::converge(planned, ctx, |w, p| apply(w, p, ctx)).await?;
    let password = args.get("password").and_then(serde_json::Value::as_str);
    Ok(match password {
        Some(pw) if looks_unhashed(pw) => out.warn(UNHASHED),
        _ => out,
    })
}

/// The read-state script: `$1` marker, `$2` user name, `$3` the `home` asked for (or empty),
/// `$4` the SSH key file asked for (or empty: no key), `$5` non-empty with `local`. Prints the
/// passwd, shadow and group entries, whether the home folder (and its parent) exists with the
/// login.defs lines that give a new one its mode, and the key's state, fingerprint and public
/// half. Diagnostics go to /dev/null: stderr is left to the commands that change things.
const PROBE: &str = r#"m=$1; n=$2; h=$3; k=$4
printf '%s passwd\n' "$m"; pw=$(getent passwd "$n") && printf '%s\n' "$pw"
printf '%s shadow\n' "$m"; getent shadow "$n" 2>/dev/null
printf '%s group\n' "$m"; getent group
ph=${pw#*:*:*:*:*:}; ph=${ph%%:*}
[ -n "$h" ] || h=$ph
if [ -n "$h" ]; then
  printf '%s home\n' "$m"
  if [ -e "$h" ]; then echo exists; else
    p=${h%/*}; [ -d "${p:-/}" ] && echo parent
    grep -E '^(HOME_MODE|UMASK)[[:space:]]' /etc/login.defs 2>/dev/null
  fi
fi
if [ -n "$k" ] && [ -n "$pw" ]; then
  case $k in /*) f=$k ;; *) f=${ph%/}/$k ;; esac
  printf '%s key\n' "$m"; printf '%s\n' "$f"
  [ -d "${f%/*}" ] && echo dir
  [ -e "$f" ] && echo exists
  [ -e "$f.pub" ] && echo pub
  printf '%s fingerprint\n' "$m"
  if [ -e "$f" ]; then ssh-keygen -l -f "$f" 2>/dev/null || ssh-keygen -l -f "$f" 2>&1 >/dev/null; fi
  [ -r "$f.pub" ] && { printf '%s public\n' "$m"; cat "$f.pub"; }
fi
"#;

/// The `libuser` programs `local: true` needs (ansible.builtin.user looks them up first).
const LOCAL_TOOLS: &[&str] = &["lgroupmod", "luserdel"];

fn parse_spec(args: &Vars) -> Result<UserSpec, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let name = a.req_str("name")?;
    let uid = a
        .u64("uid")?
        .map(|u| u32::try_from(u).map_err(|_| bad("user", format!("uid {u} is too large"))))
        .transpose()?;
    let key = if a.bool("generate_ssh_key", false)? {
        let key_type = a.str("ssh_key_type")?.unwrap_or_else(|| "rsa".into());
        Some(KeySpec {
            file: a
                .str("ssh_key_file")?
                .unwrap_or_else(|| format!(".ssh/id_{key_type}")),
            bits: a.i64("ssh_key_bits")?.unwrap_or(0),
            comment: a.str("ssh_key_comment")?,
            passphrase: a.str("ssh_key_passphrase")?,
            key_type,
        })
    } else {
        None
    };
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
        password_lock: a.opt_bool("password_lock")?,
        comment: a.str("comment")?,
        remove: a.bool("remove", false)?,
        force: a.bool("force", false)?,
        non_unique: a.bool("non_unique", false)?,
        expires: a.f64("expires")?,
        inactive: a.i64("password_expire_account_disable")?,
        expire_min: a.i64("password_expire_min")?,
        expire_max: a.i64("password_expire_max")?,
        expire_warn: a.i64("password_expire_warn")?,
        umask: a.str("umask")?,
        uid_min: a.i64("uid_min")?,
        uid_max: a.i64("uid_max")?,
        local: a.bool("local", false)?,
        key,
        name,
    })
}

/// The account as one probe read it.
#[derive(Debug, Clone, Default)]
struct State {
    entry: Option<PasswdEntry>,
    shadow: Option<ShadowEntry>,
    probe: Probe,
    /// Output before the first section (what the commands ahead of the probe printed).
    stdout: String,
    /// `Some(message)` when `local` needs a libuser program the host lacks.
    local_missing: Option<String>,
    local_tool_found: bool,
}

fn probe_args(spec: &UserSpec, m: &str) -> Vec<String> {
    vec![
        m.to_string(),
        spec.name.clone(),
        spec.home.clone().unwrap_or_default(),
        spec.key.as_ref().map(|k| k.file.clone()).unwrap_or_default(),
        if spec.local { "1".into() } else { String::new() },
    ]
}

fn probe_script(spec: &UserSpec) -> String {
    let mut s = PROBE.to_string();
    if spec.local {
        s.push_str(&tools_probe(LOCAL_TOOLS));
    }
    s.push_str("printf '%s end\\n' \"$m\"\n");
    s
}

/// Reads a probe's output; `None` when it did not finish (the account could not be read).
fn read_state(text: &str, m: &str, tool: &str) -> Option<State> {
    let secs = sections(text, m);
    section(&secs, "end")?;
    let key = section(&secs, "key").map(|body| {
        let mut lines = body.lines();
        let path = lines.next().unwrap_or_default().to_string();
        let flags: Vec<&str> = lines.collect();
        KeyProbe {
            path,
            dir_exists: flags.contains(&"dir"),
            exists: flags.contains(&"exists"),
            pub_exists: flags.contains(&"pub"),
            fingerprint: section(&secs, "fingerprint")
                .unwrap_or_default()
                .trim()
                .to_string(),
            public: section(&secs, "public").map(|p| p.trim().to_string()),
        }
    });
    let home = section(&secs, "home").unwrap_or_default();
    let local_missing = missing_tool(&secs, tool);
    Some(State {
        entry: section(&secs, "passwd").and_then(|b| b.lines().find_map(parse_passwd)),
        shadow: section(&secs, "shadow").and_then(|b| b.lines().find_map(parse_shadow)),
        probe: Probe {
            home_exists: home.lines().any(|l| l == "exists"),
            home_parent: home.lines().any(|l| l == "parent"),
            login_defs: home.to_string(),
            key,
        },
        stdout: section(&secs, "").unwrap_or_default().to_string(),
        local_tool_found: section(&secs, "tools").is_some() && local_missing.is_none(),
        local_missing,
    })
}

async fn probe(
    ctx: &ModuleContext<'_>,
    spec: &UserSpec,
    prefix: &str,
    m: &str,
    stdin: Option<Vec<u8>>,
) -> Result<(crate::transport::ExecOutput, Option<State>), ModuleError> {
    let script = format!("{prefix}{}", probe_script(spec));
    let out = run_script(ctx, &script, &probe_args(spec, m), stdin).await?;
    let tool = if spec.present { "lgroupmod" } else { "luserdel" };
    let state = read_state(&out.stdout_str(), m, tool);
    Ok((out, state))
}

/// What `local: true` does on this host: fails with ansible-core's message when the libuser
/// program is missing (Debian has none by default), and with talon's when it is there (talon
/// does not drive libuser's `luseradd`/`lusermod`).
fn local_failure(spec: &UserSpec, st: &State) -> Option<ModuleOutcome> {
    if !spec.local {
        return None;
    }
    if let Some(msg) = &st.local_missing {
        return Some(ModuleOutcome::failed(msg.clone()));
    }
    st.local_tool_found.then(|| {
        ModuleOutcome::failed("local: true: talon does not run libuser's luseradd/lusermod/luserdel")
    })
}

/// What a [`plan`] of `user` found to change.
#[derive(Debug)]
pub struct UserWork {
    spec: UserSpec,
    /// The account change, or why it fails (a missing group, found only when creating).
    account: Result<UserPlan, String>,
    state: State,
    marker: String,
}

/// Plans `ansible.builtin.user` (one round trip reads the account, home folder and key).
///
/// Check mode reports what Ansible's does: `changed` alone when the user would be created or
/// removed; for an existing user the current entry with `changed` when `usermod`, a missing home
/// folder, the SSH key or `chage` would change something. Result (matches ansible.builtin.user's
/// `main`): `name`, `state`; for present users `uid`, `group` (gid), `comment`, `home`, `shell`,
/// `groups` (as given, joined), `password` "NOT_LOGGING_PASSWORD" when given, `append` and
/// `move_home` (existing users), `system` and `create_home` (created users), `ssh_fingerprint`,
/// `ssh_key_file`, `ssh_public_key` (`generate_ssh_key`), `stdout`/`stderr` of the account
/// commands when they printed; for removed users `force`, `remove`.
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<UserWork>, ModuleError> {
    let spec = parse_spec(args)?;
    if spec.local {
        for (arg, set) in [
            ("umask", spec.umask.is_some()),
            ("uid_min", spec.uid_min.is_some()),
            ("uid_max", spec.uid_max.is_some()),
        ] {
            if set {
                return Ok(Plan::Done(ModuleOutcome::failed(format!(
                    "'{arg}' can not be used with 'local'"
                ))));
            }
        }
    }
    let m = marker();
    let (out, state) = probe(ctx, &spec, "", &m, None).await?;
    let Some(state) = state else {
        return Ok(Plan::Done(ModuleOutcome::failed(format!(
            "cannot read accounts on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        ))));
    };
    let groups = parse_groups(&section_text(&out.stdout_str(), &m, "group"));
    let account = plan_user(&spec, state.entry.as_ref(), state.shadow.as_ref(), &groups);
    let base = ModuleOutcome::ok()
        .with("name", spec.name.clone())
        .with("state", if spec.present { "present" } else { "absent" });
    let Some(entry) = state.entry.clone() else {
        if !spec.present {
            return Ok(Plan::Done(base));
        }
        // Ansible's check mode ends here with `changed` alone; a missing group fails only then.
        return Ok(Plan::Change(
            ModuleOutcome::changed(true),
            work(spec, account, state, m),
        ));
    };
    if !spec.present {
        return Ok(Plan::Change(
            ModuleOutcome::changed(true),
            work(spec, account, state, m),
        ));
    }
    if let Some(f) = local_failure(&spec, &state) {
        return Ok(Plan::Done(f));
    }
    let account_plan = match &account {
        Ok(p) => p.clone(),
        Err(msg) => return Ok(Plan::Done(ModuleOutcome::failed(msg.clone()))),
    };
    let after = plan_after(&spec, &entry, state.shadow.as_ref(), &state.probe);
    let mut o = present_result(base, &spec, false, &entry, state.probe.key.as_ref());
    o.changed = account_plan.changed() || after.changed();
    if !o.changed {
        return Ok(Plan::Done(o));
    }
    Ok(Plan::Change(o, work(spec, account, state, m)))
}

fn work(spec: UserSpec, account: Result<UserPlan, String>, state: State, marker: String) -> UserWork {
    UserWork {
        spec,
        account,
        state,
        marker,
    }
}

fn section_text(text: &str, m: &str, name: &str) -> String {
    section(&sections(text, m), name).unwrap_or_default().to_string()
}

/// The result of a present user: the entry, and the key when one was asked for.
fn present_result(
    mut o: ModuleOutcome,
    spec: &UserSpec,
    created: bool,
    e: &PasswdEntry,
    key: Option<&KeyProbe>,
) -> ModuleOutcome {
    if created {
        o = o
            .with("system", spec.system)
            .with("create_home", spec.create_home);
    } else {
        o = o.with("append", spec.append).with("move_home", spec.move_home);
    }
    if spec.password.is_some() {
        o = o.with("password", "NOT_LOGGING_PASSWORD");
    }
    o = o
        .with("uid", e.uid)
        .with("group", e.gid)
        .with("comment", e.comment.clone())
        .with("home", e.home.clone())
        .with("shell", e.shell.clone());
    if let Some(g) = &spec.groups {
        o = o.with("groups", g.join(","));
    }
    if spec.key.is_some()
        && let Some(k) = key
    {
        o = o
            .with("ssh_fingerprint", k.fingerprint.clone())
            .with("ssh_key_file", k.path.clone())
            .with(
                "ssh_public_key",
                k.public.clone().map_or(Value::Null, Value::from),
            );
    }
    o
}

fn failed_run(name: &str, out: &crate::transport::ExecOutput) -> ModuleOutcome {
    let mut f = ModuleOutcome::failed(out.stderr_str()).with("name", name.to_string());
    f.result.insert("rc".into(), Value::from(out.status.rc()));
    f
}

/// Applies a [`plan`]: the account commands (re-reading the account in the same round trip),
/// then what follows them (home folder, SSH key, `chage`) in one more when needed.
pub async fn apply(
    w: UserWork,
    _planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let UserWork {
        spec,
        account,
        mut state,
        marker: m,
    } = w;
    let base = ModuleOutcome::changed(true)
        .with("name", spec.name.clone())
        .with("state", if spec.present { "present" } else { "absent" });
    let created = state.entry.is_none();
    if let Some(f) = local_failure(&spec, &state) {
        return Ok(f);
    }
    let account = match account {
        Ok(p) => p,
        Err(msg) => return Ok(ModuleOutcome::failed(msg)),
    };
    let mut o = base;
    if account.changed() {
        let (script, stdin) = account_script(&spec, &account, &state);
        let (out, after) = probe(ctx, &spec, &script, &m, stdin).await?;
        if !out.status.success() {
            return Ok(failed_run(&spec.name, &out));
        }
        let Some(after) = after else {
            return Ok(ModuleOutcome::failed(format!(
                "cannot read accounts on {}: {}",
                ctx.host,
                out.stderr_str().trim()
            )));
        };
        o = with_output(o, &after.stdout, &out.stderr_str());
        state = after;
    }
    if !spec.present {
        return Ok(o.with("force", spec.force).with("remove", spec.remove));
    }
    let Some(entry) = state.entry.clone() else {
        return Ok(ModuleOutcome::failed(format!(
            "failed to look up user name: {}",
            spec.name
        )));
    };
    o.changed = account.changed();
    let after = plan_after(&spec, &entry, state.shadow.as_ref(), &state.probe);
    let mut key = state.probe.key.clone();
    if after.changed() {
        o.changed = true;
        let (script, stdin) = after_script(&spec, &entry, &after, &state.probe);
        let (out, st) = probe(ctx, &spec, &script, &m, stdin).await?;
        if !out.status.success() {
            return Ok(failed_run(&spec.name, &out));
        }
        if let KeyAction::Fail(msg) = &after.key {
            let mut f = ModuleOutcome::failed(msg.clone()).with("name", spec.name.clone());
            f.result.insert("rc".into(), Value::from(1));
            return Ok(f);
        }
        if let Some(st) = st {
            key = st.probe.key;
        }
    }
    Ok(present_result(o, &spec, created, &entry, key.as_ref()))
}

/// The account commands as script lines, each ending the script with its status when it fails;
/// the password (with `!` when locking) on stdin to `chpasswd -e`. A new user whose home
/// folder's parent is missing gets the folder first, as Ansible makes it (`useradd` does not
/// create parents), and owns it after.
fn account_script(spec: &UserSpec, plan: &UserPlan, st: &State) -> (String, Option<Vec<u8>>) {
    let mut s = String::new();
    let pre_home = (spec.present
        && st.entry.is_none()
        && spec.create_home
        && !st.probe.home_exists
        && !st.probe.home_parent)
        .then_some(spec.home.as_deref())
        .flatten();
    if let Some(h) = pre_home {
        s.push_str(&make_home(h, home_mode(&st.probe.login_defs)));
    }
    for c in &plan.cmds {
        s.push_str(&format!("{} || exit $?\n", join(c)));
    }
    if let Some(h) = pre_home {
        s.push_str(&format!(
            "chown -R -- {n}:\"$(id -g {n})\" {h} || exit $?\n",
            n = quote(&spec.name),
            h = quote(h)
        ));
    }
    let mut stdin = None;
    if plan.set_password
        && let Some(pw) = &spec.password
    {
        s.push_str("chpasswd -e || exit $?\n");
        let bang = if plan.lock_password { "!" } else { "" };
        stdin = Some(format!("{}:{bang}{}\n", spec.name, pw.trim_start_matches('!')).into_bytes());
    }
    (s, stdin)
}

/// Creates home folder `h` as ansible.builtin.user's `create_homedir` does: a copy of
/// /etc/skel (or an empty folder, parents included), then `mode`.
fn make_home(h: &str, mode: u32) -> String {
    let h = quote(h);
    format!(
        "mkdir -p -- \"$(dirname -- {h})\" && if [ -d /etc/skel ]; then cp -RPp /etc/skel {h}; else mkdir -- {h}; fi && chmod {mode:o} {h} || exit $?\n"
    )
}

/// The steps after the account: the home folder, the SSH key, `chage` (in Ansible's order).
fn after_script(
    spec: &UserSpec,
    e: &PasswdEntry,
    after: &AfterPlan,
    probe: &Probe,
) -> (String, Option<Vec<u8>>) {
    let own = format!("{}:{}", e.uid, e.gid);
    let mut s = String::new();
    let mut stdin = None;
    if let Some(h) = &after.make_home {
        s.push_str(&make_home(h, home_mode(&probe.login_defs)));
        s.push_str(&format!("chown -R -- {own} {} || exit $?\n", quote(h)));
    }
    if let KeyAction::Fail(_) = after.key {
        return (s, None);
    }
    if let (KeyAction::Generate, Some(k)) = (&after.key, &spec.key) {
        let path = probe
            .key
            .as_ref()
            .map(|kp| kp.path.clone())
            .unwrap_or_else(|| format!("{}/{}", e.home.trim_end_matches('/'), k.file));
        let f = quote(&path);
        s.push_str(&format!(
            "d=$(dirname -- {f}); [ -d \"$d\" ] || {{ mkdir -m 0700 -- \"$d\" && chown -- {own} \"$d\"; }} || exit $?\n"
        ));
        if spec.force {
            s.push_str(&format!("rm -f -- {f} {f}.pub\n"));
        }
        let mut argv = vec!["ssh-keygen".to_string(), "-t".into(), k.key_type.clone()];
        if k.bits > 0 {
            argv.extend(["-b".into(), k.bits.to_string()]);
        }
        let comment = match &k.comment {
            Some(c) => quote(c),
            None => "\"ansible-generated on $(uname -n)\"".to_string(),
        };
        let keygen = format!("{} -C {comment} -f {f}", join(&argv));
        match &k.passphrase {
            None => s.push_str(&format!("{keygen} -N '' </dev/null >/dev/null || exit $?\n")),
            Some(pp) => {
                // The passphrase: stdin -> a 0600 file in a 0700 folder -> the askpass script.
                s.push_str(concat!(
                    "t=$(mktemp -d) || exit $?\n",
                    "( umask 077; cat > \"$t/p\"; printf '#!/bin/sh\\ncat \"%s/p\"\\n' \"$t\" > \"$t/a\"; chmod 700 \"$t/a\" )",
                    " || { rc=$?; rm -rf \"$t\"; exit $rc; }\n",
                ));
                s.push_str(&format!(
                    "SSH_ASKPASS_REQUIRE=force SSH_ASKPASS=\"$t/a\" {keygen} </dev/null >/dev/null; rc=$?; rm -rf \"$t\"; [ $rc = 0 ] || exit $rc\n"
                ));
                stdin = Some(pp.clone().into_bytes());
            }
        }
        s.push_str(&format!("chown -- {own} {f} {f}.pub || exit $?\n"));
    }
    if let Some(c) = &after.chage {
        s.push_str(&format!("{} || exit $?\n", join(c)));
    }
    (s, stdin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_that_look_unhashed_as_ansible_judges_them() {
        let sha512 = format!("$6$salt${}", "a".repeat(86));
        for (pw, unhashed) in [
            ("plain", true),
            ("!", false),
            ("*", false),
            ("$6$abc$xyz", true),
            (sha512.as_str(), false),
            ("$1$salt$0123456789012345678901", false),
            ("$y$j9T$salt$0123456789012345678901234567890123456789012", false),
            ("$6$x", true),
            ("!$6$x$y", true),
            ("$6$salt$bad:char", true),
        ] {
            assert_eq!(looks_unhashed(pw), unhashed, "{pw}");
        }
    }
}
