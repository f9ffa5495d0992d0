//! The decisions of the `user` module, kept apart from the round trips that feed them so they
//! can be tested without a host: which `useradd`/`usermod`/`userdel` argv (matches
//! ansible.builtin.user's `create_user_useradd`, `modify_user_usermod`, `remove_user_userdel`
//! on Linux), and what follows the account change (a missing home folder, the SSH key,
//! `chage`), as ansible.builtin.user's `main` does them after creating or modifying the account.

use super::group::GroupEntry;
use crate::modules::sysutil::civil_from_days;

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

/// One line of `getent shadow`; empty numeric fields are -1, as glibc's `getspnam` gives them
/// (what ansible.builtin.user compares with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    /// The password hash (`!` prefixed when locked).
    pub hash: String,
    /// Minimum days between password changes (`sp_min`).
    pub min: i64,
    /// Maximum days (`sp_max`).
    pub max: i64,
    /// Warning days (`sp_warn`).
    pub warn: i64,
    /// Account expiry in days since the epoch (`sp_expire`).
    pub expire: i64,
}

/// Parses one `getent shadow` line (`name:hash:last:min:max:warn:inactive:expire:flag`).
pub fn parse_shadow(line: &str) -> Option<ShadowEntry> {
    let f: Vec<&str> = line.trim_end().split(':').collect();
    if f.len() < 8 {
        return None;
    }
    let num = |s: &str| if s.is_empty() { Some(-1) } else { s.parse().ok() };
    Some(ShadowEntry {
        hash: f[1].to_string(),
        min: num(f[3])?,
        max: num(f[4])?,
        warn: num(f[5])?,
        expire: num(f[7])?,
    })
}

/// `generate_ssh_key` and its options.
#[derive(Debug, Clone, Default)]
pub struct KeySpec {
    /// `ssh_key_type` (default `rsa`).
    pub key_type: String,
    /// `ssh_key_bits` (0: ssh-keygen's default, no `-b`).
    pub bits: i64,
    /// `ssh_key_file`, relative to the home folder unless absolute (default `.ssh/id_TYPE`).
    pub file: String,
    /// `ssh_key_comment` (`None`: `ansible-generated on HOSTNAME`, the host's name).
    pub comment: Option<String>,
    /// `ssh_key_passphrase` (a secret: reaches ssh-keygen through a 0600 file, never argv).
    pub passphrase: Option<String>,
}

/// What the task asks for (parsed arguments).
#[derive(Debug, Clone, Default)]
pub struct UserSpec {
    pub name: String,
    pub present: bool,
    pub uid: Option<u32>,
    /// Primary group, by name or gid.
    pub group: Option<String>,
    /// Supplementary groups, by name or gid (`None`: leave alone; empty: none but the primary).
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
    /// `password_lock`: `Some(true)` locks, `Some(false)` unlocks, `None` leaves alone.
    pub password_lock: Option<bool>,
    pub comment: Option<String>,
    pub remove: bool,
    pub force: bool,
    pub non_unique: bool,
    /// `expires`, seconds since the epoch (negative: no expiry).
    pub expires: Option<f64>,
    /// `password_expire_account_disable` (`-f`).
    pub inactive: Option<i64>,
    pub expire_min: Option<i64>,
    pub expire_max: Option<i64>,
    pub expire_warn: Option<i64>,
    pub umask: Option<String>,
    pub uid_min: Option<i64>,
    pub uid_max: Option<i64>,
    pub local: bool,
    /// `generate_ssh_key: true` and its options.
    pub key: Option<KeySpec>,
}

/// The account change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPlan {
    /// Commands to run, in order (never containing the password).
    pub cmds: Vec<Vec<String>>,
    /// Feed `name:hash` to `chpasswd -e` after the commands.
    pub set_password: bool,
    /// The hash fed to `chpasswd` gets a `!` (`password_lock: true` with a new password).
    pub lock_password: bool,
}

impl UserPlan {
    /// True when something would change.
    pub fn changed(&self) -> bool {
        !self.cmds.is_empty() || self.set_password
    }
}

fn find_group<'g>(groups: &'g [GroupEntry], key: &str) -> Option<&'g GroupEntry> {
    // ansible.builtin.user's group_exists: as a gid first, then as a name.
    key.parse::<u32>()
        .ok()
        .and_then(|gid| groups.iter().find(|g| g.gid == gid))
        .or_else(|| groups.iter().find(|g| g.name == key))
}

/// `YYYY-MM-DD` (UTC) of `secs` since the epoch, as `time.strftime('%Y-%m-%d',
/// time.gmtime(secs))`.
pub fn epoch_date(secs: f64) -> String {
    // Saturating float-to-int conversion; dates past the year 250000 are not meaningful here.
    #[allow(clippy::cast_possible_truncation)]
    let days = (secs / 86_400.0).floor() as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The `-e` arguments `expires` needs against the current shadow expiry `current` (days; -1
/// none), or none (matches ansible.builtin.user: a negative `expires` clears an expiry that is
/// set; otherwise the dates are compared by year, month and day).
pub fn expires_args(expires: f64, current: i64) -> Option<String> {
    if expires < 0.0 {
        return (current >= 0).then(String::new);
    }
    let want = epoch_date(expires);
    // current * 86400 seconds, as a date.
    let (y, m, d) = civil_from_days(current);
    let have = format!("{y:04}-{m:02}-{d:02}");
    (current < 0 || have != want).then_some(want)
}

/// Computes the account change, like ansible.builtin.user on Linux (`useradd`/`usermod`/
/// `userdel` flags, in its order).
///
/// `current` is the user's entry (if any), `shadow` its shadow line (if readable), `groups` all
/// of `getent group`. Errors with Ansible's message "Group X does not exist" when `group` or one
/// of `groups` is unknown. The password never appears in the argv: [`UserPlan::set_password`].
pub fn plan_user(
    spec: &UserSpec,
    current: Option<&PasswdEntry>,
    shadow: Option<&ShadowEntry>,
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
        Some(list) => {
            let mut v: Vec<&GroupEntry> = Vec::new();
            for g in list {
                let e = find_group(groups, g).ok_or_else(|| format!("Group {g} does not exist"))?;
                if !v.iter().any(|x| x.name == e.name) {
                    v.push(e);
                }
            }
            Some(v)
        }
        None => None,
    };
    let names = |v: &[&GroupEntry]| v.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(",");
    let lock = spec.password_lock == Some(true);
    match current {
        None => {
            let mut c = vec![s("useradd")];
            if let Some(uid) = spec.uid {
                c.extend([s("-u"), uid.to_string()]);
                if spec.non_unique {
                    c.push(s("-o"));
                }
            }
            if let Some(g) = &spec.group {
                c.extend([s("-g"), g.clone()]);
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
            if let Some(e) = spec.expires {
                c.extend([s("-e"), if e < 0.0 { String::new() } else { epoch_date(e) }]);
            }
            if let Some(f) = spec.inactive {
                c.extend([s("-f"), f.to_string()]);
            }
            if spec.create_home {
                c.push(s("-m"));
                if let Some(u) = &spec.umask {
                    c.extend([s("-K"), format!("UMASK={u}")]);
                }
            } else {
                c.push(s("-M"));
            }
            if spec.system {
                c.push(s("-r"));
            }
            if let Some(v) = spec.uid_min {
                c.extend([s("-K"), format!("UID_MIN={v}")]);
            }
            if let Some(v) = spec.uid_max {
                c.extend([s("-K"), format!("UID_MAX={v}")]);
            }
            c.push(spec.name.clone());
            plan.cmds.push(c);
            plan.set_password = spec.password.is_some();
            plan.lock_password = lock;
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
                c.extend([s("-g"), g.gid.to_string()]);
            }
            if let Some(w) = &wanted {
                // Every group that lists the user, the primary one included.
                let have: Vec<&str> = groups
                    .iter()
                    .filter(|g| g.members.contains(&cur.name))
                    .map(|g| g.name.as_str())
                    .collect();
                let need = if w.is_empty() {
                    !have.is_empty() && !spec.append
                } else {
                    let missing = w.iter().any(|g| !have.contains(&g.name.as_str()));
                    let extra = have.iter().any(|h| !w.iter().any(|g| g.name == *h));
                    if spec.append {
                        if missing {
                            c.push(s("-a"));
                        }
                        missing
                    } else {
                        missing || extra
                    }
                };
                if need {
                    c.extend([s("-G"), names(w)]);
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
            if let Some(e) = spec.expires {
                // No shadow entry reads as expiry 0 in Ansible (`'' or '0'`).
                let current = shadow.map_or(0, |sh| sh.expire);
                if let Some(arg) = expires_args(e, current) {
                    c.extend([s("-e"), arg]);
                }
            }
            if let Some(f) = spec.inactive {
                c.extend([s("-f"), f.to_string()]);
            }
            let hash = shadow.map_or("", |sh| sh.hash.as_str());
            let locked = hash.starts_with('!');
            let new_password = spec.update_password_always
                && spec
                    .password
                    .as_deref()
                    .is_some_and(|p| p.trim_start_matches('!') != hash.trim_start_matches('!'));
            if !new_password {
                if lock && !locked {
                    c.push(s("-L"));
                } else if spec.password_lock == Some(false) && locked {
                    c.push(s("-U"));
                }
            }
            if c.len() > 1 {
                c.push(spec.name.clone());
                plan.cmds.push(c);
            }
            plan.set_password = new_password;
            plan.lock_password = new_password && lock;
        }
    }
    Ok(plan)
}

/// What the host looked like around the account (read by the probe script).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probe {
    /// The home folder (`home` as given, else the passwd entry's) exists.
    pub home_exists: bool,
    /// The home folder's parent is a directory.
    pub home_parent: bool,
    /// `HOME_MODE NNN` / `UMASK NNN` lines of /etc/login.defs, when the home is missing.
    pub login_defs: String,
    /// The SSH key, when one is asked for and the user exists.
    pub key: Option<KeyProbe>,
}

/// The SSH key file's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyProbe {
    /// The private key's path (`ssh_key_file` joined to the home folder).
    pub path: String,
    /// Its folder exists.
    pub dir_exists: bool,
    /// The private key exists.
    pub exists: bool,
    /// The public key exists.
    pub pub_exists: bool,
    /// `ssh-keygen -l -f PATH` (its stdout, or its stderr when it failed; empty without a key).
    pub fingerprint: String,
    /// The public key's text, when readable.
    pub public: Option<String>,
}

/// What happens to the SSH key (ansible.builtin.user's `ssh_key_gen`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAction {
    /// `generate_ssh_key` not asked for.
    None,
    /// A key is there (without `force`): kept, not changed.
    Keep,
    /// Generate it (`force`: over an existing key).
    Generate,
    /// Fails with this message (a relative key path and no home folder).
    Fail(String),
}

/// What follows the account change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterPlan {
    /// Create the home folder (copy of /etc/skel, mode from login.defs, owned by the user).
    pub make_home: Option<String>,
    /// The SSH key.
    pub key: KeyAction,
    /// `chage -m/-M/-W ... NAME` when the password ageing differs.
    pub chage: Option<Vec<String>>,
}

impl AfterPlan {
    /// True when something would change.
    pub fn changed(&self) -> bool {
        self.make_home.is_some()
            || matches!(self.key, KeyAction::Generate | KeyAction::Fail(_))
            || self.chage.is_some()
    }
}

/// Decides what follows the account change for an existing user `entry` (matches
/// ansible.builtin.user's `main`: a missing home folder is created when `create_home`; the key
/// is generated unless one (or its public half) is there without `force`; `chage` runs when
/// `password_expire_min`/`max`/`warn` differ from the shadow entry, and not without one).
pub fn plan_after(
    spec: &UserSpec,
    entry: &PasswdEntry,
    shadow: Option<&ShadowEntry>,
    probe: &Probe,
) -> AfterPlan {
    let home = spec.home.clone().unwrap_or_else(|| entry.home.clone());
    let make_home = (!probe.home_exists && spec.create_home).then_some(home);
    let home_after = probe.home_exists || make_home.is_some();
    let key = match (&spec.key, &probe.key) {
        (Some(k), Some(kp)) => {
            if !k.file.starts_with('/') && !home_after {
                KeyAction::Fail(format!("User {} home directory does not exist", spec.name))
            } else if kp.dir_exists && (kp.exists || kp.pub_exists) && !spec.force {
                KeyAction::Keep
            } else {
                KeyAction::Generate
            }
        }
        _ => KeyAction::None,
    };
    let chage = shadow.and_then(|sh| {
        let mut c = vec!["chage".to_string()];
        for (flag, want, have) in [
            ("-m", spec.expire_min, sh.min),
            ("-M", spec.expire_max, sh.max),
            ("-W", spec.expire_warn, sh.warn),
        ] {
            if let Some(w) = want
                && w != have
            {
                c.extend([flag.to_string(), w.to_string()]);
            }
        }
        (c.len() > 1).then(|| {
            c.push(spec.name.clone());
            c
        })
    });
    AfterPlan {
        make_home,
        key,
        chage,
    }
}

/// The mode of a home folder ansible.builtin.user creates itself, from /etc/login.defs lines:
/// the first `HOME_MODE` wins, else `0777 & !UMASK` (the last `UMASK`), else 0755 (lines must
/// be exactly `KEY<space>DIGITS`).
pub fn home_mode(login_defs: &str) -> u32 {
    let mut mode = 0o755;
    for line in login_defs.lines() {
        let mut it = line.split_whitespace();
        let (Some(k), Some(v), None) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        if line.starts_with(char::is_whitespace) || line.ends_with(char::is_whitespace) {
            continue;
        }
        let Ok(n) = u32::from_str_radix(v, 8) else {
            continue;
        };
        match k {
            "HOME_MODE" => return n,
            "UMASK" => mode = 0o777 & !n,
            _ => {}
        }
    }
    mode
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::modules::system::group::parse_groups;

    fn groups() -> Vec<GroupEntry> {
        parse_groups("alice:x:1000:\nsudo:x:27:alice\ndocker:x:998:\nadm:x:4:alice\n")
    }

    fn alice() -> PasswdEntry {
        parse_passwd("alice:x:1000:1000:Alice:/home/alice:/bin/bash").unwrap()
    }

    fn shadow(hash: &str) -> ShadowEntry {
        parse_shadow(&format!("alice:{hash}:19000:0:99999:7:::")).unwrap()
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
        let sh = parse_shadow("alice:$6$x$y:19000:0:99999:7::20000:").unwrap();
        assert_eq!(
            (sh.hash.as_str(), sh.min, sh.max, sh.warn, sh.expire),
            ("$6$x$y", 0, 99999, 7, 20000)
        );
        assert_eq!(parse_shadow("alice:!:19000::::::").unwrap().max, -1);
    }

    #[test]
    fn unchanged_user_has_empty_plan() {
        let mut s = spec();
        s.shell = Some("/bin/bash".into());
        s.groups = Some(vec!["sudo".into(), "adm".into()]);
        s.password = Some("$6$x$y".into());
        s.password_lock = Some(false);
        let p = plan_user(&s, Some(&alice()), Some(&shadow("$6$x$y")), &groups()).unwrap();
        assert!(!p.changed(), "{p:?}");
    }

    #[test]
    fn groups_append_replace_and_empty() {
        let mut s = spec();
        s.groups = Some(vec!["docker".into()]);
        s.append = true;
        let p = plan_user(&s, Some(&alice()), None, &groups()).unwrap();
        assert_eq!(p.cmds, vec![vec!["usermod", "-a", "-G", "docker", "alice"]]);
        s.append = false;
        let p = plan_user(&s, Some(&alice()), None, &groups()).unwrap();
        assert_eq!(p.cmds, vec![vec!["usermod", "-G", "docker", "alice"]]);
        // groups: '' removes every supplementary group, unless append.
        s.groups = Some(vec![]);
        let p = plan_user(&s, Some(&alice()), None, &groups()).unwrap();
        assert_eq!(p.cmds, vec![vec!["usermod", "-G", "", "alice"]]);
        s.append = true;
        assert!(!plan_user(&s, Some(&alice()), None, &groups()).unwrap().changed());
        // The primary group counts like any other (Ansible's user_group_membership).
        s.append = false;
        s.groups = Some(vec!["alice".into(), "sudo".into(), "adm".into()]);
        let p = plan_user(&s, Some(&alice()), None, &groups()).unwrap();
        assert_eq!(p.cmds, vec![vec!["usermod", "-G", "alice,sudo,adm", "alice"]]);
        s.groups = Some(vec!["nope".into()]);
        assert_eq!(
            plan_user(&s, Some(&alice()), None, &groups()).unwrap_err(),
            "Group nope does not exist"
        );
    }

    #[test]
    fn create_with_everything_and_password_on_stdin_only() {
        let mut s = spec();
        s.name = "bob".into();
        s.uid = Some(1500);
        s.shell = Some("/bin/sh".into());
        s.system = true;
        s.password = Some("$6$secret".into());
        s.password_lock = Some(true);
        s.expires = Some(1_422_403_387.0);
        s.umask = Some("0077".into());
        s.uid_min = Some(2000);
        let p = plan_user(&s, None, None, &groups()).unwrap();
        assert_eq!(
            p.cmds,
            vec![vec![
                "useradd",
                "-u",
                "1500",
                "-s",
                "/bin/sh",
                "-e",
                "2015-01-28",
                "-m",
                "-K",
                "UMASK=0077",
                "-r",
                "-K",
                "UID_MIN=2000",
                "bob"
            ]]
        );
        assert!(p.set_password && p.lock_password);
        assert!(!p.cmds.concat().iter().any(|a| a.contains("secret")));
        // A same-named group exists: -N; no home: -M; a negative expiry: -e ''.
        s.name = "alice".into();
        s.password = None;
        s.create_home = false;
        s.expires = Some(-1.0);
        let p = plan_user(&s, None, None, &groups()).unwrap();
        assert!(p.cmds[0].contains(&"-N".to_string()));
        assert!(p.cmds[0].contains(&"-M".to_string()));
        assert!(p.cmds[0].windows(2).any(|w| w[0] == "-e" && w[1].is_empty()));
    }

    #[test]
    fn modify_password_lock_and_expiry() {
        let mut s = spec();
        s.uid = Some(1001);
        s.home = Some("/srv/alice".into());
        s.move_home = true;
        s.password = Some("$6$new".into());
        s.password_lock = Some(true);
        let p = plan_user(&s, Some(&alice()), Some(&shadow("$6$old")), &groups()).unwrap();
        // A new hash with password_lock: no -L, the hash gets a '!'.
        assert_eq!(
            p.cmds,
            vec![vec!["usermod", "-u", "1001", "-d", "/srv/alice", "-m", "alice"]]
        );
        assert!(p.set_password && p.lock_password);
        // The same hash, locked: nothing; unlocking: -U.
        s = spec();
        s.password = Some("$6$old".into());
        s.password_lock = Some(true);
        assert!(
            !plan_user(&s, Some(&alice()), Some(&shadow("!$6$old")), &groups())
                .unwrap()
                .changed()
        );
        s.password_lock = Some(false);
        let p = plan_user(&s, Some(&alice()), Some(&shadow("!$6$old")), &groups()).unwrap();
        assert_eq!(p.cmds, vec![vec!["usermod", "-U", "alice"]]);
        assert!(!p.set_password);
        s.update_password_always = false;
        s.password = Some("$6$other".into());
        s.password_lock = None;
        assert!(
            !plan_user(&s, Some(&alice()), Some(&shadow("$6$old")), &groups())
                .unwrap()
                .changed()
        );
        // Expiry: same day is no change; -1 clears a set expiry only.
        assert_eq!(expires_args(1_422_403_387.0, 16_463), None);
        assert_eq!(expires_args(1_422_403_387.0, -1).as_deref(), Some("2015-01-28"));
        assert_eq!(expires_args(-1.0, 16_463).as_deref(), Some(""));
        assert_eq!(expires_args(-1.0, -1), None);
    }

    #[test]
    fn delete() {
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

    #[test]
    fn after_steps() {
        let mut s = spec();
        s.expire_max = Some(90);
        s.expire_warn = Some(7);
        s.key = Some(KeySpec {
            key_type: "ed25519".into(),
            file: ".ssh/id_ed25519".into(),
            ..Default::default()
        });
        let mut probe = Probe {
            home_exists: true,
            key: Some(KeyProbe {
                dir_exists: true,
                exists: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        let a = plan_after(&s, &alice(), Some(&shadow("!")), &probe);
        assert_eq!(a.key, KeyAction::Keep);
        assert_eq!(
            a.chage,
            Some(vec!["chage".into(), "-M".into(), "90".into(), "alice".into()])
        );
        assert!(a.make_home.is_none());
        s.force = true;
        assert_eq!(plan_after(&s, &alice(), None, &probe).key, KeyAction::Generate);
        // No home and create_home false: a relative key fails; with create_home it is made.
        s.force = false;
        s.create_home = false;
        probe.home_exists = false;
        probe.key = Some(KeyProbe::default());
        assert_eq!(
            plan_after(&s, &alice(), None, &probe).key,
            KeyAction::Fail("User alice home directory does not exist".into())
        );
        s.create_home = true;
        let a = plan_after(&s, &alice(), None, &probe);
        assert_eq!(
            (a.make_home.as_deref(), a.key),
            (Some("/home/alice"), KeyAction::Generate)
        );
        assert!(a.chage.is_none());
    }

    #[test]
    fn home_mode_from_login_defs() {
        assert_eq!(home_mode(""), 0o755);
        assert_eq!(home_mode("UMASK\t\t027\n"), 0o750);
        assert_eq!(home_mode("UMASK 022\nHOME_MODE 0700\nUMASK 077\n"), 0o700);
        assert_eq!(home_mode("UMASK 022 # comment\n"), 0o755);
    }
}
