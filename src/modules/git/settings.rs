//! ansible.builtin.git's settings before its first git command: which text the module would
//! split or expand itself, `umask` read as `int(umask, 8)`, the `GIT_SSH_COMMAND` it exports,
//! the git version and the locale it picks.

use crate::modules::sysutil;

/// Text the module splits with `shlex` or expands (`$VAR`, `~`) before git sees it: talon
/// hands such a task to the module rather than split it differently.
pub fn needs_python(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '\\' | '$'))
        || s.starts_with('~')
}

/// `int(umask, 8)` for the umask text: `Ok(None)` for a value Python parses but talon hands
/// over (negative, wider than 0o777); `Err(details)` with Python's `ValueError` text.
pub fn parse_umask(s: &str) -> Result<Option<u32>, String> {
    let bad = || format!("invalid literal for int() with base 8: {}", sysutil::py_repr(s));
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits = match t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        Some(r) => r.strip_prefix('_').unwrap_or(r),
        None => t,
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return Err(bad());
    }
    let mut v: u64 = 0;
    for c in digits.chars().filter(|c| *c != '_') {
        let d = c.to_digit(8).ok_or_else(bad)?;
        v = v.saturating_mul(8).saturating_add(u64::from(d));
    }
    if neg && v != 0 || v > 0o777 {
        return Ok(None);
    }
    Ok(u32::try_from(v).ok())
}

/// `set_git_ssh_env` for git 2.3 and later: the `GIT_SSH_COMMAND` the module exports, from the
/// host's `GIT_SSH_OPTS`, `GIT_SSH`, `GIT_SSH_COMMAND` and the task's `ssh_opts` (after the
/// host-key options), `accept_hostkey` and `key_file`.
pub fn ssh_command(
    env: &Env,
    ssh_opts: Option<&str>,
    accept_hostkey: bool,
    key_file: Option<&str>,
) -> String {
    let base = env.ssh_opts.clone().unwrap_or_default();
    let mut opts = match ssh_opts {
        None => base,
        Some(o) => format!("{base} {o}"),
    };
    if accept_hostkey && !opts.contains("StrictHostKeyChecking=no") {
        opts.push_str(" -o StrictHostKeyChecking=no");
    }
    if !opts.contains("BatchMode=yes") {
        opts.push_str(" -o BatchMode=yes");
    }
    if let Some(k) = key_file.filter(|k| !k.is_empty()) {
        let key_opt = format!("-i {k}");
        if !opts.contains(&key_opt) {
            opts.push_str(&format!("  {key_opt}"));
        }
        if !opts.contains("IdentitiesOnly=yes") {
            opts.push_str(" -o IdentitiesOnly=yes");
        }
    }
    let mut full = env
        .git_ssh
        .clone()
        .or_else(|| env.git_ssh_command.clone())
        .unwrap_or_else(|| "ssh".into());
    if !opts.is_empty() {
        full.push(' ');
        full.push_str(&opts);
    }
    full
}

/// The module process's environment variables that shape the ssh command.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `GIT_SSH_OPTS`.
    pub ssh_opts: Option<String>,
    /// `GIT_SSH`.
    pub git_ssh: Option<String>,
    /// `GIT_SSH_COMMAND`.
    pub git_ssh_command: Option<String>,
}

/// `ssh_opts` after `accept_hostkey`/`accept_newhostkey` (the module's `main`).
pub fn host_key_opts(ssh_opts: Option<String>, option: &str) -> String {
    match ssh_opts {
        Some(o)
            if o.contains("-o StrictHostKeyChecking=no")
                || o.contains("-o StrictHostKeyChecking=accept-new") =>
        {
            o
        }
        Some(o) => format!("{o} -o StrictHostKeyChecking={option}"),
        None => format!("-o StrictHostKeyChecking={option}"),
    }
}

/// `LooseVersion` of `git --version`'s text, as numbers (`None`: no `git version` in it).
pub fn git_version(out: &str) -> Option<Vec<u64>> {
    let line = out.strip_suffix('\n').unwrap_or(out);
    let v = line.split("git version ").nth(1)?;
    Some(
        v.split(['.', ' ', '-'])
            .map_while(|p| p.parse::<u64>().ok())
            .collect(),
    )
}

/// `get_best_parsable_locale`: the first of the module's preferences `locale -a` lists, else C.
pub fn best_locale(rc: i64, out: &str) -> String {
    if rc != 0 || out.is_empty() {
        return "C".into();
    }
    let available: Vec<&str> = out.trim().lines().collect();
    ["C.utf8", "C.UTF-8", "en_US.utf8", "en_US.UTF-8", "C", "POSIX"]
        .into_iter()
        .find(|p| available.contains(p))
        .unwrap_or("C")
        .to_string()
}
