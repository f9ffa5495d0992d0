//! `wait_for`: wait until a TCP port on (or seen from) the host opens or closes, or a file on the
//! host appears, disappears or contains a pattern, as `ansible.builtin.wait_for` does.
//!
//! The whole poll loop runs ON THE HOST in one `sh` script (one round trip, however long the
//! wait): ports are probed with bash's `/dev/tcp` under `timeout` (Debian's `/bin/sh` is dash,
//! which has no `/dev/tcp`), or `nc -z` when bash is missing; `search_regex` uses `grep -Pz`
//! (PCRE over the whole file, close to Python's `re.search(..., re.MULTILINE)`).

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::sysutil::{Args, bad, marker, run_script, section, sections};
use super::{ModuleContext, ModuleError, ModuleInfo, ModuleOutcome};
use crate::vars::Vars;

/// `wait_for` arguments (Ansible's names and aliases).
pub static INFO: ModuleInfo = ModuleInfo {
    name: "wait_for",
    args: &[
        "host",
        "port",
        "path",
        "state",
        "timeout",
        "delay",
        "sleep",
        "connect_timeout",
        "search_regex",
        "regex",
        "msg",
        "exclude_hosts",
        "active_connection_states",
    ],
    free_form: false,
    types: &[],
};

/// The poll loop. `$1` mode (port|path|regex), `$2` wanted result (up|down), `$3` timeout s,
/// `$4` poll interval s, `$5` delay s, `$6` host, `$7` port, `$8` path, `$9` regex,
/// `$10` connect timeout s, `$11` marker. Prints `MARKER ok` (then, for regex, the first match
/// NUL-terminated), `MARKER timeout` or `MARKER noprobe`.
const LOOP: &str = r#"mode=$1; want=$2; to=$3; iv=$4; delay=$5; h=$6; p=$7; f=$8; re=$9; shift 9; ct=$1; m=$2
start=$(date +%s)
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
/// Errors: `state: drained`, `search_regex` with `port`, and both `port` and `path` are not
/// supported ([`ModuleError::BadArgs`]).
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new("wait_for", args);
    let host = a.str(&["host"])?.unwrap_or_else(|| "127.0.0.1".into());
    let port = a.u64(&["port"])?;
    let path = a.str(&["path"])?;
    let state = a
        .choice(
            &["state"],
            &["started", "present", "stopped", "absent", "drained"],
        )?
        .unwrap_or_else(|| "started".into());
    let timeout = a.f64(&["timeout"])?.unwrap_or(300.0).max(0.0);
    let delay = a.f64(&["delay"])?.unwrap_or(0.0).max(0.0);
    let interval = a.f64(&["sleep"])?.unwrap_or(1.0).max(0.0);
    let connect_timeout = a.f64(&["connect_timeout"])?.unwrap_or(5.0).max(0.1);
    let regex = a.str(&["search_regex", "regex"])?;
    let msg = a.str(&["msg"])?;

    if state == "drained" {
        return Err(bad("wait_for", "state=drained is not supported by talon yet"));
    }
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
        (Some(_), _, _) => ("port", format!("{host}:{}", port.unwrap_or_default())),
        (None, Some(p), Some(_)) if up => ("regex", p.clone()),
        (None, Some(p), _) => ("path", p.clone()),
        (None, None, _) => {
            tokio::time::sleep(Duration::from_secs_f64(timeout)).await;
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
    fn groups_like_python() {
        let (l, d) = groups(r"port (?P<p>\d+) (x)?", "port 80 ");
        assert_eq!(l, vec![Value::from("80"), Value::Null]);
        assert_eq!(d.get("p"), Some(&Value::from("80")));
    }
}
