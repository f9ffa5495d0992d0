//! `wait_for`: wait until a TCP port on (or seen from) the host opens or closes, or a file on the
//! host appears, disappears or contains a pattern, as `ansible.builtin.wait_for` does.
//!
//! The whole poll loop runs ON THE HOST in one `sh` script (one round trip, however long the
//! wait): ports are probed with bash's `/dev/tcp` under `timeout` (Debian's `/bin/sh` is dash,
//! which has no `/dev/tcp`), or `nc -z` when bash is missing; `search_regex` uses `grep -Pz`
//! (PCRE over the whole file, close to Python's `re.search(..., re.MULTILINE)`).

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::{bad, marker, run_script, section, sections};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::vars::Vars;

crate::module_info!(
    /// `wait_for` arguments (Ansible's names and aliases).
    INFO,
    "wait_for",
    ArgSpec::new(&[
        ArgDef::str("host"),
        ArgDef::int("port"),
        ArgDef::path("path"),
        ArgDef::str("state").choices(&["started", "present", "stopped", "absent", "drained"]),
        ArgDef::float("timeout"),
        ArgDef::float("delay"),
        ArgDef::float("sleep"),
        ArgDef::float("connect_timeout"),
        ArgDef::str("search_regex").aliases(&["regex"]),
        ArgDef::str("msg"),
        ArgDef::list("exclude_hosts"),
        ArgDef::list("active_connection_states"),
    ]),
    run
);

/// The poll loop. `$1` mode (port|path|regex|drained), `$2` wanted result (up|down), `$3`
/// timeout s, `$4` poll interval s, `$5` delay s, `$6` host, `$7` port, `$8` path, `$9` regex,
/// `$10` connect timeout s, `$11` marker, `$12` active states (` 01 06 `: `/proc/net/tcp`
/// state codes), `$13` excluded remote addresses (` 0100007F `). Prints `MARKER ok` (then, for
/// regex, the first match NUL-terminated), `MARKER timeout` or `MARKER noprobe`.
///
/// `drained` counts the host's TCP connections on local port `$7` in one of the active states,
/// whose local address is `$6` (any, for `0.0.0.0` / `::`) and whose remote address is not
/// excluded, from `/proc/net/tcp` and `/proc/net/tcp6`, as ansible.builtin.wait_for's Linux
/// connection counter does; the wait ends when none is left.
const LOOP: &str = r#"mode=$1; want=$2; to=$3; iv=$4; delay=$5; h=$6; p=$7; f=$8; re=$9; shift 9; ct=$1; m=$2; states=$3; excl=$4
start=$(date +%s)
iphex() {
  case $1 in
    0.0.0.0|::) printf '' ;;
    *.*.*.*) ( IFS=.; set -- $1; printf '%02X%02X%02X%02X' "$4" "$3" "$2" "$1" ) ;;
    *) a=$(getent ahostsv4 "$1" 2>/dev/null | awk 'NR==1 {print $1}'); [ -n "$a" ] && iphex "$a" ;;
  esac
}
if [ "$mode" = drained ]; then lip=$(iphex "$h"); phex=$(printf '%04X' "$p"); fi
if [ "$delay" != 0 ]; then sleep "$delay"; fi
if command -v bash >/dev/null 2>&1; then probe=bash
elif command -v nc >/dev/null 2>&1; then probe=nc
else probe=none; fi
check() {
  case $mode in
    port)
      case $probe in
        bash) timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p" 2>/dev/null ;;
        nc) nc -z -w "$ct" "$h" "$p" >/dev/null 2>&1 ;;
        *) printf '%s noprobe\n' "$m"; exit 0 ;;
      esac ;;
    path) [ -e "$f" ] ;;
    regex) [ -f "$f" ] && grep -Pzq -- "$re" "$f" 2>/dev/null ;;
    drained)
      n=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v port="$phex" -v ip="$lip" \
        -v states="$states" -v excl="$excl" '
        { split($2, l, ":"); split($3, r, ":")
          if (l[2] != port || index(states, " " $4 " ") == 0) next
          if (ip != "" && l[1] != ip) next
          if (index(excl, " " r[1] " ") > 0) next
          n++ }
        END { print n + 0 }')
      [ "$n" -gt 0 ] ;;
  esac
}
while :; do
  if check; then r=up; else r=down; fi
  if [ "$r" = "$want" ]; then
    printf '%s ok\n' "$m"
    if [ "$mode" = regex ]; then grep -Pzo -- "$re" "$f" 2>/dev/null | head -c 1048576; fi
    exit 0
  fi
  now=$(date +%s)
  if [ $((now - start)) -ge "$to" ]; then printf '%s timeout\n' "$m"; exit 0; fi
  sleep "$iv"
done
"#;

/// The `/proc/net/tcp` code of a TCP state name (ansible.builtin.wait_for's
/// `active_connection_states`).
fn tcp_state_code(name: &str) -> Option<&'static str> {
    Some(match name {
        "ESTABLISHED" => "01",
        "SYN_SENT" => "02",
        "SYN_RECV" => "03",
        "FIN_WAIT1" => "04",
        "FIN_WAIT2" => "05",
        "TIME_WAIT" => "06",
        "CLOSE" => "07",
        "CLOSE_WAIT" => "08",
        "LAST_ACK" => "09",
        "LISTEN" => "0A",
        "CLOSING" => "0B",
        _ => return None,
    })
}

/// An IPv4 address as `/proc/net/tcp` writes it (little-endian hex), or `None`.
fn ipv4_hex(addr: &str) -> Option<String> {
    let ip: std::net::Ipv4Addr = addr.trim().parse().ok()?;
    let o = ip.octets();
    Some(format!("{:02X}{:02X}{:02X}{:02X}", o[3], o[2], o[1], o[0]))
}

/// The regex groups of the first match, as Ansible's `match_groups` / `match_groupdict`.
fn groups(regex: &str, matched: &str) -> (Vec<Value>, Map<String, Value>) {
    let Ok(re) = regex::Regex::new(&format!("(?m){regex}")) else {
        return (Vec::new(), Map::new());
    };
    let Some(caps) = re.captures(matched) else {
        return (Vec::new(), Map::new());
    };
    let list = caps
        .iter()
        .skip(1)
        .map(|g| g.map_or(Value::Null, |m| Value::String(m.as_str().to_string())))
        .collect();
    let mut dict = Map::new();
    for name in re.capture_names().flatten() {
        dict.insert(
            name.to_string(),
            caps.name(name)
                .map_or(Value::Null, |m| Value::String(m.as_str().to_string())),
        );
    }
    (list, dict)
}

/// Runs `ansible.builtin.wait_for` (also in check mode: it changes nothing).
///
/// Arguments: `host` (default 127.0.0.1, resolved and probed FROM the host), `port`, `path`,
/// `state` started|present (default) / stopped|absent, `search_regex` (alias `regex`; with
/// `path` only), `timeout` (s, default 300, counted from before `delay`), `delay` (s),
/// `sleep` (poll interval s, default 1), `connect_timeout` (s, default 5), `msg`.
/// Without `port` and `path` it simply sleeps `timeout` seconds on the controller.
///
/// Result: `elapsed` (whole seconds), `state`, `port`, `path`, `search_regex`, `match_groups`,
/// `match_groupdict`; never changed. On timeout: failed with `msg` or Ansible's message
/// ("Timeout when waiting for H:P", "... H:P to stop.", "... for file P", "... for P to be
/// absent.", "... for search string R in P").
/// `state: drained` waits until no active TCP connection is left on `port` (see [`LOOP`]);
/// `exclude_hosts` (IPv4 addresses) and `active_connection_states` as Ansible's.
///
/// Errors: `search_regex` with `port`, and both `port` and `path` are not supported
/// ([`ModuleError::BadArgs`]).
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let host = a.str("host")?.unwrap_or_else(|| "127.0.0.1".into());
    let port = a.u64("port")?;
    let path = a.str("path")?;
    let state = a.choice("state")?.unwrap_or_else(|| "started".into());
    let timeout = a.f64("timeout")?.unwrap_or(300.0).max(0.0);
    let delay = a.f64("delay")?.unwrap_or(0.0).max(0.0);
    let interval = a.f64("sleep")?.unwrap_or(1.0).max(0.0);
    let connect_timeout = a.f64("connect_timeout")?.unwrap_or(5.0).max(0.1);
    let regex = a.str("search_regex")?;
    let msg = a.str("msg")?;

    let drained = state == "drained";
    if drained && path.is_some() {
        return Ok(ModuleOutcome::failed(
            "state=drained should only be used for checking a port in the wait_for module",
        )
        .with("elapsed", 0));
    }
    let excluded = a.list("exclude_hosts")?;
    if excluded.is_some() && !drained {
        return Ok(
            ModuleOutcome::failed("exclude_hosts should only be with state=drained").with("elapsed", 0),
        );
    }
    let states = match a.list("active_connection_states")? {
        None => " 01 02 03 04 05 06 ".to_string(),
        Some(names) => {
            let mut codes = String::from(" ");
            for n in names {
                match tcp_state_code(&n) {
                    Some(c) => codes.push_str(&format!("{c} ")),
                    None => {
                        return Ok(ModuleOutcome::failed(format!(
                            "unknown active_connection_state ({n}) defined"
                        ))
                        .with("elapsed", 0));
                    }
                }
            }
            codes
        }
    };
    let excluded = excluded
        .unwrap_or_default()
        .iter()
        .filter_map(|h| ipv4_hex(h))
        .fold(String::from(" "), |acc, h| format!("{acc}{h} "));
    if port.is_some() && path.is_some() {
        return Err(bad(
            "wait_for",
            "port and path parameter can not both be passed to wait_for",
        ));
    }
    if port.is_some() && regex.is_some() {
        return Err(bad(
            "wait_for",
            "search_regex with port is not supported by talon yet; use path",
        ));
    }
    // `drained` waits for the connection count to fall to zero, as `stopped` for a port.
    let up = matches!(state.as_str(), "started" | "present");
    let clock = Instant::now();
    let base = |o: ModuleOutcome, secs: u64| {
        o.with("elapsed", secs)
            .with("state", state.clone())
            .with("port", port.map_or(Value::Null, Value::from))
            .with("path", path.clone().map_or(Value::Null, Value::from))
            .with("search_regex", regex.clone().map_or(Value::Null, Value::from))
    };

    let (mode, target) = match (&port, &path, &regex) {
        (Some(_), _, _) if drained => ("drained", format!("{host}:{}", port.unwrap_or_default())),
        (None, None, _) if drained => ("drained", format!("{host}:")),
        (Some(_), _, _) => ("port", format!("{host}:{}", port.unwrap_or_default())),
        (None, Some(p), Some(_)) if up => ("regex", p.clone()),
        (None, Some(p), _) => ("path", p.clone()),
        (None, None, _) => {
            // Ansible sleeps `delay`, then `timeout`.
            tokio::time::sleep(Duration::from_secs_f64(delay + timeout)).await;
            let secs = clock.elapsed().as_secs();
            return Ok(base(ModuleOutcome::ok(), secs)
                .with("match_groups", Vec::<Value>::new())
                .with("match_groupdict", Map::new()));
        }
    };
    let m = marker();
    let num = |x: f64| format!("{x}");
    let script_args = vec![
        mode.to_string(),
        if up { "up" } else { "down" }.to_string(),
        format!("{}", timeout.ceil()),
        num(interval),
        num(delay),
        host.clone(),
        port.map(|p| p.to_string()).unwrap_or_default(),
        path.clone().unwrap_or_default(),
        regex.as_ref().map(|r| format!("(?m){r}")).unwrap_or_default(),
        format!("{}", connect_timeout.ceil()),
        m.clone(),
        states,
        excluded,
    ];
    let out = run_script(ctx, LOOP, &script_args, None).await?;
    let secs = clock.elapsed().as_secs();
    let text = out.stdout_str();
    let secs_list = sections(&text, &m);
    if section(&secs_list, "noprobe").is_some() {
        return Ok(base(
            ModuleOutcome::failed(format!(
                "cannot probe {target} from {}: neither bash nor nc is installed on the host",
                ctx.host
            )),
            secs,
        ));
    }
    if let Some(body) = section(&secs_list, "ok") {
        let first = body.split('\0').next().unwrap_or_default();
        let (list, dict) = match &regex {
            Some(r) => groups(r, first),
            None => (Vec::new(), Map::new()),
        };
        return Ok(base(ModuleOutcome::ok(), secs)
            .with("match_groups", list)
            .with("match_groupdict", dict));
    }
    if section(&secs_list, "timeout").is_none() {
        return Ok(base(
            ModuleOutcome::failed(format!(
                "wait_for script failed on the host ({}): {}",
                out.status,
                out.stderr_str().trim()
            )),
            secs,
        ));
    }
    let default_msg = match (mode, up) {
        ("drained", _) => format!("Timeout when waiting for {target} to drain"),
        ("port", true) => format!("Timeout when waiting for {target}"),
        ("port", false) => format!("Timeout when waiting for {target} to stop."),
        ("regex", _) => format!(
            "Timeout when waiting for search string {} in {target}",
            regex.clone().unwrap_or_default()
        ),
        (_, true) => format!("Timeout when waiting for file {target}"),
        (_, false) => format!("Timeout when waiting for {target} to be absent."),
    };
    Ok(base(ModuleOutcome::failed(msg.unwrap_or(default_msg)), secs))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_tcp_codes() {
        assert_eq!(ipv4_hex("127.0.0.1").as_deref(), Some("0100007F"));
        assert_eq!(ipv4_hex("10.1.2.3").as_deref(), Some("0302010A"));
        assert_eq!(ipv4_hex("nope"), None);
        assert_eq!(tcp_state_code("TIME_WAIT"), Some("06"));
        assert_eq!(tcp_state_code("BOGUS"), None);
    }

    #[test]
    fn groups_like_python() {
        let (l, d) = groups(r"port (?P<p>\d+) (x)?", "port 80 ");
        assert_eq!(l, vec![Value::from("80"), Value::Null]);
        assert_eq!(d.get("p"), Some(&Value::from("80")));
    }
}
