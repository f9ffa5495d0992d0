//! `~/.ssh/config`: what a user already told OpenSSH about a host (real address, port, user, key,
//! jump host, known_hosts file), so that an inventory that works with `ansible-playbook` (which
//! runs `ssh`) works with talon too.
//!
//! The parser is pure ([`resolve_with`]); [`load_user_config`] reads the file. Semantics follow
//! ssh_config(5): `Host` blocks with pattern lists (`*`, `?`, `!negation`), keywords are
//! case-insensitive, `Key Value` or `Key=Value`, and for each keyword the **first obtained value
//! wins** (so specific blocks go first and `Host *` last), except `IdentityFile`, whose values
//! accumulate in order. Not supported (skipped, documented): `Match` blocks (treated as never
//! matching) and `Include`.

use std::path::{Path, PathBuf};

/// `StrictHostKeyChecking` (ssh_config(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    /// `yes`: never record new keys; unknown hosts are refused.
    Yes,
    /// `accept-new`: record keys of unknown hosts, refuse changed keys.
    AcceptNew,
    /// `no` / `off`: OpenSSH records new keys (and with `no` even connects on changed keys;
    /// talon never does that: a changed key is always refused).
    No,
    /// `ask` (OpenSSH's default): talon cannot ask per host in a parallel run, so it refuses
    /// unknown hosts unless `--accept-new-host-keys`.
    Ask,
}

impl StrictHostKeyChecking {
    /// True when unknown host keys may be recorded without asking (`accept-new`, `no`).
    pub fn accepts_new(self) -> bool {
        matches!(self, StrictHostKeyChecking::AcceptNew | StrictHostKeyChecking::No)
    }
}

/// One hop of `ProxyJump` (`[user@]host[:port]` or `ssh://[user@]host[:port]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHost {
    /// Login user for the jump host, if given.
    pub user: Option<String>,
    /// Host name or alias (itself resolved through `~/.ssh/config` by the caller).
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
}

/// The options `~/.ssh/config` gives for one host alias. `None`/empty means "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshHostConfig {
    /// `HostName`: the real address (tokens `%h`, `%%` expanded).
    pub host_name: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `User`.
    pub user: Option<String>,
    /// Every `IdentityFile`, in order, with `~` and `%h %r %p %u %d %n %%` expanded.
    pub identity_files: Vec<PathBuf>,
    /// `ProxyJump` hops, first hop first; empty for none (or `ProxyJump none`).
    pub proxy_jump: Vec<JumpHost>,
    /// The first `UserKnownHostsFile` (`~` and tokens expanded). `none` gives `/dev/null`.
    pub user_known_hosts_file: Option<PathBuf>,
    /// `StrictHostKeyChecking`.
    pub strict_host_key_checking: Option<StrictHostKeyChecking>,
    /// `ServerAliveInterval`, in seconds (0 turns keepalives off).
    pub server_alive_interval: Option<u64>,
    /// `ServerAliveCountMax`.
    pub server_alive_count_max: Option<usize>,
}

/// The controller's side, used for `~` and `%u`/`%d` expansion.
#[derive(Debug, Clone)]
pub struct LocalEnv {
    /// Home directory (`~`, `%d`).
    pub home: PathBuf,
    /// Local user name (`%u`, and `%r` when no `User` is set).
    pub user: String,
}

impl LocalEnv {
    /// From `$HOME` and `$USER` (falling back to `/root` and `root`).
    pub fn from_process() -> LocalEnv {
        LocalEnv {
            home: std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/root")),
            user: std::env::var("USER").unwrap_or_else(|_| "root".to_string()),
        }
    }
}

/// Resolves `host_alias` against the text of an ssh config file, with `~` and `%u` taken from the
/// process environment. See [`resolve_with`].
pub fn resolve(config_text: &str, host_alias: &str) -> SshHostConfig {
    resolve_with(config_text, host_alias, &LocalEnv::from_process())
}

/// Reads `~/.ssh/config` and resolves `host_alias`; a missing file gives an empty config.
///
/// Errors: the file exists but cannot be read (the message names the path).
pub fn load_user_config(host_alias: &str) -> Result<SshHostConfig, std::io::Error> {
    let env = LocalEnv::from_process();
    let path = env.home.join(".ssh").join("config");
    load_config_file(&path, host_alias, &env)
}

/// Reads the ssh config at `path` and resolves `host_alias`; a missing file gives an empty config.
pub fn load_config_file(
    path: &Path,
    host_alias: &str,
    env: &LocalEnv,
) -> Result<SshHostConfig, std::io::Error> {
    match crate::input::read_text(path) {
        Ok(text) => Ok(resolve_with(&text, host_alias, env)),
        Err(crate::input::InputError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(SshHostConfig::default())
        }
        Err(crate::input::InputError::Io { source, .. }) => Err(std::io::Error::new(
            source.kind(),
            format!("cannot read {}: {source}", path.display()),
        )),
        Err(e) => Err(std::io::Error::other(e.to_string())),
    }
}

/// Resolves `host_alias` (the name as written in the inventory, matched against `Host` patterns
/// as OpenSSH matches the name typed on its command line).
///
/// Unknown keywords and malformed values are ignored (OpenSSH would refuse the file; talon only
/// reads the few keywords it uses). A bad `Port` value is ignored rather than failing the run.
pub fn resolve_with(config_text: &str, host_alias: &str, env: &LocalEnv) -> SshHostConfig {
    let mut cfg = SshHostConfig::default();
    let mut raw_identity: Vec<String> = Vec::new();
    let mut raw_known_hosts: Option<String> = None;
    let mut proxy_jump_set = false;
    // Options before the first Host line apply to every host.
    let mut active = true;
    for line in config_text.lines() {
        let Some((key, value)) = split_line(line) else {
            continue;
        };
        let key = key.to_ascii_lowercase();
        match key.as_str() {
            "host" => {
                active = match_pattern_list(host_alias, value.split_whitespace());
                continue;
            }
            "match" => {
                active = false;
                continue;
            }
            _ => {}
        }
        if !active {
            continue;
        }
        let value = unquote(value);
        match key.as_str() {
            "hostname" => set_once(&mut cfg.host_name, value.to_string()),
            "port" => {
                if cfg.port.is_none()
                    && let Ok(p) = value.parse::<u16>()
                {
                    cfg.port = Some(p);
                }
            }
            "user" => set_once(&mut cfg.user, value.to_string()),
            "identityfile" => raw_identity.push(value.to_string()),
            "userknownhostsfile" if raw_known_hosts.is_none() => {
                raw_known_hosts = value.split_whitespace().next().map(str::to_string);
            }
            "stricthostkeychecking" => {
                let v = match value.to_ascii_lowercase().as_str() {
                    "yes" => Some(StrictHostKeyChecking::Yes),
                    "accept-new" => Some(StrictHostKeyChecking::AcceptNew),
                    "no" | "off" => Some(StrictHostKeyChecking::No),
                    "ask" => Some(StrictHostKeyChecking::Ask),
                    _ => None,
                };
                if let Some(v) = v {
                    set_once(&mut cfg.strict_host_key_checking, v);
                }
            }
            "serveraliveinterval" => {
                if let Ok(n) = value.parse::<u64>() {
                    set_once(&mut cfg.server_alive_interval, n);
                }
            }
            "serveralivecountmax" => {
                if let Ok(n) = value.parse::<usize>() {
                    set_once(&mut cfg.server_alive_count_max, n);
                }
            }
            "proxyjump" if !proxy_jump_set => {
                proxy_jump_set = true;
                if !value.eq_ignore_ascii_case("none") {
                    cfg.proxy_jump = value.split(',').filter_map(parse_jump).collect();
                }
            }
            _ => {}
        }
    }
    if let Some(h) = &cfg.host_name {
        cfg.host_name = Some(expand_tokens(h, &Tokens::new(host_alias, host_alias, &cfg, env)));
    }
    let host = cfg.host_name.clone().unwrap_or_else(|| host_alias.to_string());
    let tokens = Tokens::new(host_alias, &host, &cfg, env);
    cfg.identity_files = raw_identity
        .iter()
        .map(|p| PathBuf::from(expand_tilde(&expand_tokens(p, &tokens), env)))
        .collect();
    cfg.user_known_hosts_file = raw_known_hosts.map(|p| {
        if p.eq_ignore_ascii_case("none") {
            PathBuf::from("/dev/null")
        } else {
            PathBuf::from(expand_tilde(&expand_tokens(&p, &tokens), env))
        }
    });
    cfg
}

fn set_once<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// Splits `Key Value` / `Key=Value` / `Key = Value`; None for blank and comment lines.
fn split_line(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (key, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    Some((key, rest))
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// `[user@]host[:port]`, `[user@][v6addr]:port` or `ssh://[user@]host[:port]`.
fn parse_jump(hop: &str) -> Option<JumpHost> {
    let hop = hop.trim();
    let hop = hop.strip_prefix("ssh://").unwrap_or(hop);
    if hop.is_empty() {
        return None;
    }
    let (user, rest) = match hop.rsplit_once('@') {
        Some((u, r)) => (Some(u.to_string()), r),
        None => (None, hop),
    };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        (h, after.strip_prefix(':').and_then(|p| p.parse().ok()))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p.parse().ok()),
            _ => (rest, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some(JumpHost {
        user,
        host: host.to_string(),
        port,
    })
}

struct Tokens<'a> {
    alias: &'a str,
    host: &'a str,
    remote_user: String,
    port: String,
    env: &'a LocalEnv,
}

impl<'a> Tokens<'a> {
    fn new(alias: &'a str, host: &'a str, cfg: &SshHostConfig, env: &'a LocalEnv) -> Self {
        Tokens {
            alias,
            host,
            remote_user: cfg.user.clone().unwrap_or_else(|| env.user.clone()),
            port: cfg.port.unwrap_or(22).to_string(),
            env,
        }
    }
}

/// Expands `%h %n %r %p %u %d %%`; unknown tokens are left as written.
fn expand_tokens(s: &str, t: &Tokens<'_>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('h') => out.push_str(t.host),
            Some('n') => out.push_str(t.alias),
            Some('r') => out.push_str(&t.remote_user),
            Some('p') => out.push_str(&t.port),
            Some('u') => out.push_str(&t.env.user),
            Some('d') => out.push_str(&t.env.home.to_string_lossy()),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

fn expand_tilde(path: &str, env: &LocalEnv) -> String {
    if path == "~" {
        return env.home.to_string_lossy().into_owned();
    }
    match path.strip_prefix("~/") {
        Some(rest) => env.home.join(rest).to_string_lossy().into_owned(),
        None => path.to_string(),
    }
}

/// OpenSSH pattern-list matching (ssh_config(5) PATTERNS), case-insensitive: the name matches
/// when at least one positive pattern matches and no `!negated` pattern does.
/// Also used for host lists in known_hosts files.
pub fn match_pattern_list<'a>(name: &str, patterns: impl IntoIterator<Item = &'a str>) -> bool {
    let name = name.to_ascii_lowercase();
    let mut matched = false;
    for pat in patterns {
        let pat = pat.to_ascii_lowercase();
        if let Some(neg) = pat.strip_prefix('!') {
            if wildcard_match(neg.as_bytes(), name.as_bytes()) {
                return false;
            }
        } else if wildcard_match(pat.as_bytes(), name.as_bytes()) {
            matched = true;
        }
    }
    matched
}

/// Glob with `*` (any run, possibly empty) and `?` (exactly one byte).
fn wildcard_match(pat: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_device_as_ssh_config_is_refused_without_reading() {
        let e = load_config_file(Path::new("/dev/zero"), "h", &env()).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert!(load_config_file(Path::new("/no/such/config"), "h", &env()).is_ok());
    }

    fn env() -> LocalEnv {
        LocalEnv {
            home: PathBuf::from("/home/me"),
            user: "me".into(),
        }
    }

    #[test]
    fn server_alive_options_first_value_wins() {
        let text =
            "Host lab*\n  ServerAliveInterval 2\n  ServerAliveCountMax=1\nHost *\n  ServerAliveInterval 30\n";
        let c = resolve_with(text, "lab1", &env());
        assert_eq!(
            (c.server_alive_interval, c.server_alive_count_max),
            (Some(2), Some(1))
        );
        let c = resolve_with(text, "web", &env());
        assert_eq!(
            (c.server_alive_interval, c.server_alive_count_max),
            (Some(30), None)
        );
    }

    #[test]
    fn wildcards_and_negation() {
        assert!(wildcard_match(b"*", b"anything"));
        assert!(wildcard_match(b"web-??.example.com", b"web-01.example.com"));
        assert!(!wildcard_match(b"web-??.example.com", b"web-1.example.com"));
        assert!(wildcard_match(b"*.example.*", b"a.example.org"));
        assert!(!wildcard_match(b"*.example.com", b"example.com"));
        assert!(wildcard_match(b"a*b*c", b"aXXbYYbc"));
        assert!(match_pattern_list("Web1", ["web*"]));
        assert!(!match_pattern_list("bastion", ["*", "!bastion"]));
        assert!(
            !match_pattern_list("x", ["!y"]),
            "only negated patterns never match"
        );
    }

    #[test]
    fn first_value_wins_and_identity_files_accumulate() {
        let text = "\
# global
User globaluser
Host web*  !web-skip
    HostName %h.internal
    Port 2222
    IdentityFile ~/.ssh/web_%r
Host *
    Port=22
    User fallback
    IdentityFile \"~/.ssh/id_ed25519\"
    StrictHostKeyChecking accept-new
    UserKnownHostsFile ~/.ssh/kh_%h other_file
";
        let c = resolve_with(text, "web1", &env());
        assert_eq!(c.host_name.as_deref(), Some("web1.internal"));
        assert_eq!(c.port, Some(2222));
        assert_eq!(c.user.as_deref(), Some("globaluser"));
        assert_eq!(
            c.identity_files,
            vec![
                PathBuf::from("/home/me/.ssh/web_globaluser"),
                PathBuf::from("/home/me/.ssh/id_ed25519")
            ]
        );
        assert_eq!(c.strict_host_key_checking, Some(StrictHostKeyChecking::AcceptNew));
        assert_eq!(
            c.user_known_hosts_file,
            Some(PathBuf::from("/home/me/.ssh/kh_web1.internal"))
        );

        let skipped = resolve_with(text, "web-skip", &env());
        assert_eq!(skipped.port, Some(22));
        assert_eq!(skipped.host_name, None);
    }

    #[test]
    fn match_blocks_are_skipped_and_unknown_keys_ignored() {
        let text = "Match host x\n  User matched\nHost *\n  Frobnicate yes\n  User plain\n";
        assert_eq!(resolve_with(text, "x", &env()).user.as_deref(), Some("plain"));
    }

    #[test]
    fn proxy_jump_forms() {
        let c = resolve_with(
            "Host t\n ProxyJump admin@bastion:2200,ssh://second\n",
            "t",
            &env(),
        );
        assert_eq!(
            c.proxy_jump,
            vec![
                JumpHost {
                    user: Some("admin".into()),
                    host: "bastion".into(),
                    port: Some(2200)
                },
                JumpHost {
                    user: None,
                    host: "second".into(),
                    port: None
                }
            ]
        );
        let v6 = resolve_with("ProxyJump [::1]:22\n", "t", &env());
        assert_eq!(v6.proxy_jump[0].host, "::1");
        assert_eq!(v6.proxy_jump[0].port, Some(22));
        let none = resolve_with("Host t\n ProxyJump none\nHost *\n ProxyJump b\n", "t", &env());
        assert!(none.proxy_jump.is_empty());
    }

    #[test]
    fn empty_and_missing() {
        assert_eq!(resolve_with("", "h", &env()), SshHostConfig::default());
        let missing = load_config_file(Path::new("/nonexistent/talon/config"), "h", &env());
        assert_eq!(missing.ok(), Some(SshHostConfig::default()));
    }
}
