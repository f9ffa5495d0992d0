//! The argument building of ansible.builtin.iptables (ansible-core 2.19), as pure functions:
//! the rule (`construct_rule`), each command line (`push_arguments`), and the version test for
//! `-w` (`LooseVersion`). A case where the module's own code raises (an empty string where it
//! reads the first character, a `None` it joins) is `None` here: the Python path runs it.

/// `tcp_flags` after its sub-options: `flags` and `flags_set`, each `None` when not given.
pub type TcpFlags = (Option<Vec<String>>, Option<Vec<String>>);

/// The module's parameters after its argument spec (defaults applied, lists as lists).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub table: String,
    pub chain: Option<String>,
    pub ip_version: String,
    pub rule_num: Option<String>,
    pub wait: Option<String>,
    pub protocol: Option<String>,
    pub source: Option<String>,
    pub destination: Option<String>,
    pub to_source: Option<String>,
    pub to_destination: Option<String>,
    /// `match`.
    pub matches: Vec<String>,
    /// `tcp_flags`: `None` when not given; each side `None` when the dict lacks it.
    pub tcp_flags: Option<TcpFlags>,
    pub jump: Option<String>,
    pub gateway: Option<String>,
    pub log_prefix: Option<String>,
    pub log_level: Option<String>,
    pub goto: Option<String>,
    pub in_interface: Option<String>,
    pub out_interface: Option<String>,
    pub fragment: Option<String>,
    pub set_counters: Option<String>,
    pub source_port: Option<String>,
    pub destination_port: Option<String>,
    pub destination_ports: Vec<String>,
    pub to_ports: Option<String>,
    pub set_dscp_mark: Option<String>,
    pub set_dscp_mark_class: Option<String>,
    pub comment: Option<String>,
    pub ctstate: Vec<String>,
    pub src_range: Option<String>,
    pub dst_range: Option<String>,
    pub match_set: Option<String>,
    pub match_set_flags: Option<String>,
    pub limit: Option<String>,
    pub limit_burst: Option<String>,
    pub uid_owner: Option<String>,
    pub gid_owner: Option<String>,
    pub reject_with: Option<String>,
    pub icmp_type: Option<String>,
    pub syn: String,
    pub numeric: bool,
}

/// Python's truth of an optional string.
fn truthy(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

/// The module's `append_param` for one value: `FLAG VALUE`, or `! FLAG REST` for `!REST`.
/// `None` for an empty string (the module's `param[0]` raises).
fn param(rule: &mut Vec<String>, v: &Option<String>, flag: &str) -> Option<()> {
    let Some(v) = v else { return Some(()) };
    match v.strip_prefix('!') {
        _ if v.is_empty() => return None,
        Some(rest) => rule.extend(["!".to_string(), flag.to_string(), rest.to_string()]),
        None => rule.extend([flag.to_string(), v.clone()]),
    }
    Some(())
}

/// The module's `append_csv`: `FLAG A,B` for a non-empty list.
fn csv(rule: &mut Vec<String>, v: &[String], flag: &str) {
    if !v.is_empty() {
        rule.extend([flag.to_string(), v.join(",")]);
    }
}

/// The module's `append_match` / `append_jump`: `OPT NAME` when `given`.
fn word(rule: &mut Vec<String>, given: bool, opt: &str, name: &str) {
    if given {
        rule.extend([opt.to_string(), name.to_string()]);
    }
}

/// The module's `append_match_flag`: `FLAG` for `match`, `! FLAG` for `negate` when negatable.
fn match_flag(rule: &mut Vec<String>, v: Option<&str>, flag: &str, negatable: bool) {
    match v {
        Some("match") => rule.push(flag.to_string()),
        Some("negate") if negatable => rule.extend(["!".to_string(), flag.to_string()]),
        _ => {}
    }
}

/// The flag `icmp_type` takes for `ip_version` (the module's `ICMP_TYPE_OPTIONS`: `both` gives
/// one argument holding both flags).
fn icmp_flag(ip_version: &str) -> &'static str {
    match ip_version {
        "ipv6" => "--icmpv6-type",
        "both" => "--icmp-type --icmpv6-type",
        _ => "--icmp-type",
    }
}

/// The module's `construct_rule`, argument for argument. `None` where the module raises.
pub fn construct_rule(p: &Params) -> Option<Vec<String>> {
    let mut r = Vec::new();
    param(&mut r, &p.protocol, "-p")?;
    param(&mut r, &p.source, "-s")?;
    param(&mut r, &p.destination, "-d")?;
    for m in &p.matches {
        param(&mut r, &Some(m.clone()), "-m")?;
    }
    if let Some((flags, set)) = &p.tcp_flags {
        r.extend([
            "--tcp-flags".to_string(),
            flags.as_ref()?.join(","),
            set.as_ref()?.join(","),
        ]);
    }
    param(&mut r, &p.jump, "-j")?;
    let jump_lower = p.jump.as_deref().map(str::to_lowercase);
    if truthy(&p.jump) && jump_lower.as_deref() == Some("tee") {
        param(&mut r, &p.gateway, "--gateway")?;
    }
    param(&mut r, &p.log_prefix, "--log-prefix")?;
    param(&mut r, &p.log_level, "--log-level")?;
    param(&mut r, &p.to_destination, "--to-destination")?;
    word(&mut r, !p.destination_ports.is_empty(), "-m", "multiport");
    csv(&mut r, &p.destination_ports, "--dports");
    param(&mut r, &p.to_source, "--to-source")?;
    param(&mut r, &p.goto, "-g")?;
    param(&mut r, &p.in_interface, "-i")?;
    param(&mut r, &p.out_interface, "-o")?;
    param(&mut r, &p.fragment, "-f")?;
    param(&mut r, &p.set_counters, "-c")?;
    param(&mut r, &p.source_port, "--source-port")?;
    param(&mut r, &p.destination_port, "--destination-port")?;
    param(&mut r, &p.to_ports, "--to-ports")?;
    // `params.get('jump').lower()` raises without a jump (the spec's required_by prevents it).
    let not_dscp = |set: bool| -> Option<bool> {
        if !set {
            return Some(false);
        }
        Some(jump_lower.as_deref()? != "dscp")
    };
    param(&mut r, &p.set_dscp_mark, "--set-dscp")?;
    word(&mut r, not_dscp(truthy(&p.set_dscp_mark))?, "-j", "DSCP");
    param(&mut r, &p.set_dscp_mark_class, "--set-dscp-class")?;
    word(&mut r, not_dscp(truthy(&p.set_dscp_mark_class))?, "-j", "DSCP");
    match_flag(&mut r, Some(p.syn.as_str()), "--syn", true);
    let has = |m: &str| p.matches.iter().any(|x| x == m);
    if has("conntrack") {
        csv(&mut r, &p.ctstate, "--ctstate");
    } else if has("state") {
        csv(&mut r, &p.ctstate, "--state");
    } else if !p.ctstate.is_empty() {
        word(&mut r, true, "-m", "conntrack");
        csv(&mut r, &p.ctstate, "--ctstate");
    }
    if has("iprange") || truthy(&p.src_range) || truthy(&p.dst_range) {
        word(&mut r, !has("iprange"), "-m", "iprange");
        param(&mut r, &p.src_range, "--src-range")?;
        param(&mut r, &p.dst_range, "--dst-range")?;
    }
    if has("set") || truthy(&p.match_set) {
        word(&mut r, !has("set"), "-m", "set");
        param(&mut r, &p.match_set, "--match-set")?;
        // The module passes its arguments swapped: the flags' value itself is appended, and
        // a missing one is a None that its later join raises on.
        r.push(p.match_set_flags.clone()?);
    }
    word(&mut r, truthy(&p.limit) || truthy(&p.limit_burst), "-m", "limit");
    param(&mut r, &p.limit, "--limit")?;
    param(&mut r, &p.limit_burst, "--limit-burst")?;
    for (v, flag) in [(&p.uid_owner, "--uid-owner"), (&p.gid_owner, "--gid-owner")] {
        word(&mut r, truthy(v), "-m", "owner");
        match_flag(&mut r, v.as_deref(), flag, true);
        param(&mut r, v, flag)?;
    }
    if p.jump.is_none() {
        word(&mut r, truthy(&p.reject_with), "-j", "REJECT");
        word(&mut r, truthy(&p.set_dscp_mark_class), "-j", "DSCP");
        word(&mut r, truthy(&p.set_dscp_mark), "-j", "DSCP");
    }
    param(&mut r, &p.reject_with, "--reject-with")?;
    param(&mut r, &p.icmp_type, icmp_flag(&p.ip_version))?;
    word(&mut r, truthy(&p.comment), "-m", "comment");
    param(&mut r, &p.comment, "--comment")?;
    Some(r)
}

/// The module's `push_arguments`: `PATH -t TABLE ACTION CHAIN [RULE_NUM] [-w WAIT] [RULE]`.
/// A missing chain is left out (ansible-core's `run_command` drops `None` arguments). `None`
/// where [`construct_rule`] raises.
pub fn push_arguments(path: &str, action: &str, p: &Params, make_rule: bool) -> Option<Vec<String>> {
    let mut cmd = vec![path.to_string(), "-t".into(), p.table.clone(), action.into()];
    cmd.extend(p.chain.clone());
    if action == "-I" && truthy(&p.rule_num) {
        cmd.extend(p.rule_num.clone());
    }
    if truthy(&p.wait) {
        cmd.extend(["-w".to_string(), p.wait.clone().unwrap_or_default()]);
    }
    if make_rule {
        cmd.extend(construct_rule(p)?);
    }
    Some(cmd)
}

/// The `-L CHAIN` listing the module reads a chain's presence and policy from
/// (`--numeric` with `numeric`).
pub fn list_chain(path: &str, p: &Params) -> Vec<String> {
    let mut cmd = push_arguments(path, "-L", p, false).unwrap_or_default();
    if p.numeric {
        cmd.push("--numeric".into());
    }
    cmd
}

/// The policy the module reads from the listing's first line (`(policy ACCEPT)`).
pub fn chain_policy(listing: &str) -> Option<String> {
    let head = listing.split('\n').next().unwrap_or_default();
    let re = regex::Regex::new(r"\(policy ([A-Z]+)\)").ok()?;
    Some(re.captures(head)?.get(1)?.as_str().to_string())
}

/// One part of a Python `LooseVersion`: a number or a run of letters or other characters.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Num(u64),
    Text(String),
}

/// Python's `LooseVersion(s).version`: numbers, lower-case letter runs and other runs, dots
/// dropped.
fn loose_parts(s: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut other = String::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        let run = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, f: fn(&char) -> bool| {
            let mut t = String::new();
            while let Some(c) = chars.next_if(f) {
                t.push(c);
            }
            t
        };
        if c.is_ascii_digit() || c.is_ascii_lowercase() || c == '.' {
            if !other.is_empty() {
                out.push(Part::Text(std::mem::take(&mut other)));
            }
            if c.is_ascii_digit() {
                let d = run(&mut chars, char::is_ascii_digit);
                out.push(d.parse().map_or(Part::Text(d), Part::Num));
            } else if c.is_ascii_lowercase() {
                out.push(Part::Text(run(&mut chars, char::is_ascii_lowercase)));
            } else {
                chars.next();
            }
        } else {
            other.push(c);
            chars.next();
        }
    }
    if !other.is_empty() {
        out.push(Part::Text(other));
    }
    out
}

/// `LooseVersion(version) < LooseVersion(than)` for a numeric `than`; `None` where Python
/// compares a number with text (and raises).
fn loose_lt(version: &str, than: &[u64]) -> Option<bool> {
    let v = loose_parts(version);
    for (i, want) in than.iter().enumerate() {
        match v.get(i) {
            None => return Some(true),
            Some(Part::Num(n)) if n == want => continue,
            Some(Part::Num(n)) => return Some(n < want),
            Some(Part::Text(_)) => return None,
        }
    }
    Some(false)
}

/// The version text the module takes from `iptables --version`'s stdout (after the first
/// `v`, without trailing newlines); `None` where the module raises (no `v`).
pub fn version_text(stdout: &str) -> Option<String> {
    let after = stdout.split('v').nth(1)?;
    Some(after.trim_end_matches('\n').to_string())
}

/// The `wait` the module uses with an iptables of `version`: kept from 1.6.0, empty (no `-w`)
/// from 1.4.20, none before. `None` where the module's comparison raises.
pub fn wait_for_version(version: &str, wait: Option<String>) -> Option<Option<String>> {
    if loose_lt(version, &[1, 4, 20])? {
        return Some(None);
    }
    if loose_lt(version, &[1, 6, 0])? {
        return Some(Some(String::new()));
    }
    Some(wait)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn base() -> Params {
        Params {
            table: "filter".into(),
            chain: Some("INPUT".into()),
            ip_version: "ipv4".into(),
            syn: "ignore".into(),
            ..Params::default()
        }
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn rules_as_the_module_builds_them() {
        let mut p = base();
        p.protocol = s("tcp");
        p.destination_port = s("22");
        p.ctstate = vec!["NEW".into(), "ESTABLISHED".into()];
        p.jump = s("ACCEPT");
        p.comment = s("ssh in");
        assert_eq!(
            construct_rule(&p).unwrap().join(" "),
            "-p tcp -j ACCEPT --destination-port 22 -m conntrack --ctstate NEW,ESTABLISHED -m comment --comment ssh in"
        );
        p.matches = vec!["state".into()];
        p.source = s("!10.0.0.0/8");
        let r = construct_rule(&p).unwrap().join(" ");
        assert!(r.starts_with("-p tcp ! -s 10.0.0.0/8 -m state -j ACCEPT"), "{r}");
        assert!(r.contains("--state NEW,ESTABLISHED"), "{r}");
    }

    #[test]
    fn the_modules_quirks_are_kept() {
        let mut p = base();
        p.match_set = s("admins");
        p.match_set_flags = s("src");
        p.uid_owner = s("match");
        assert_eq!(
            construct_rule(&p).unwrap().join(" "),
            "-m set --match-set admins src -m owner --uid-owner --uid-owner match"
        );
        p.match_set_flags = None;
        assert_eq!(construct_rule(&p), None);
        let mut p = base();
        p.comment = s("");
        assert_eq!(construct_rule(&p), None);
        let mut p = base();
        p.src_range = s("");
        assert_eq!(construct_rule(&p).unwrap(), Vec::<String>::new());
        p.ip_version = "both".into();
        p.icmp_type = s("echo-request");
        p.reject_with = s("icmp-port-unreachable");
        assert_eq!(
            construct_rule(&p).unwrap(),
            [
                "-j",
                "REJECT",
                "--reject-with",
                "icmp-port-unreachable",
                "--icmp-type --icmpv6-type",
                "echo-request"
            ]
        );
        let mut p = base();
        p.tcp_flags = Some((Some(vec!["ALL".into()]), None));
        assert_eq!(construct_rule(&p), None);
        p.tcp_flags = Some((Some(vec!["SYN".into(), "ACK".into()]), Some(vec!["SYN".into()])));
        assert_eq!(construct_rule(&p).unwrap(), ["--tcp-flags", "SYN,ACK", "SYN"]);
    }

    #[test]
    fn command_lines_and_policy() {
        let mut p = base();
        p.rule_num = s("2");
        p.wait = s("5");
        p.jump = s("DROP");
        assert_eq!(
            push_arguments("/sbin/iptables", "-I", &p, true)
                .unwrap()
                .join(" "),
            "/sbin/iptables -t filter -I INPUT 2 -w 5 -j DROP"
        );
        assert_eq!(
            push_arguments("/sbin/iptables", "-A", &p, true)
                .unwrap()
                .join(" "),
            "/sbin/iptables -t filter -A INPUT -w 5 -j DROP"
        );
        p.chain = None;
        assert_eq!(
            push_arguments("ip", "-F", &p, false).unwrap().join(" "),
            "ip -t filter -F -w 5"
        );
        p.numeric = true;
        assert_eq!(list_chain("ip", &p).join(" "), "ip -t filter -L -w 5 --numeric");
        assert_eq!(
            chain_policy("Chain INPUT (policy DROP)\ntarget ...").as_deref(),
            Some("DROP")
        );
        assert_eq!(
            chain_policy("Chain x (policy a) (policy ACCEPT 0 packets)").as_deref(),
            None
        );
        assert_eq!(
            chain_policy("Chain x (policy a) (policy ACCEPT)").as_deref(),
            Some("ACCEPT")
        );
        assert_eq!(chain_policy("Chain DOCKER (1 references)"), None);
    }

    #[test]
    fn wait_by_version() {
        let v = version_text("iptables v1.8.9 (nf_tables)\n").unwrap();
        assert_eq!(v, "1.8.9 (nf_tables)");
        assert_eq!(wait_for_version(&v, s("5")), Some(s("5")));
        assert_eq!(wait_for_version("1.4.21", s("5")), Some(s("")));
        assert_eq!(wait_for_version("1.4.19", s("5")), Some(None));
        assert_eq!(wait_for_version("1.6.0", s("5")), Some(s("5")));
        assert_eq!(wait_for_version("1.6", s("5")), Some(s("")));
        assert_eq!(wait_for_version("x1", s("5")), None);
        assert_eq!(version_text("iptables 1.8"), None);
    }
}
