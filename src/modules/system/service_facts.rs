//! `service_facts`: the host's services as `ansible_facts.services`, matching
//! ansible.builtin.service_facts on Linux: `service --status-all` (sysv: `[ + ] name` running,
//! `[ - ] name` stopped) when the host has `service` and neither `chkconfig` nor `rc-status`;
//! then, when systemd is the init system (`systemctl` found and one of ansible-core's canaries
//! `/run/systemd/system/`, `/dev/.run/systemd/`, `/dev/.systemd/` exists), `systemctl
//! list-units` (state `running` or `stopped`, status the unit's active state or a bad state
//! `not-found`/`masked`/`failed`) completed by `systemctl list-unit-files` (the status of units
//! not loaded, with their `ActiveState`). systemd's entries replace sysv's of the same name. No
//! service found: skipped with ansible-core's message. One round trip.
//!
//! Hosts with upstart (`initctl`), `chkconfig` or OpenRC (`rc-status`) run ansible-core's own
//! module (the Python path), as talon reads only the sysv and systemd forms natively.

use serde_json::{Map, Value, json};

use crate::modules::args::Args;
use crate::modules::spec::ArgSpec;
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `service_facts` (no arguments).
    INFO,
    "service_facts",
    ArgSpec::new(&[]),
    run
);

/// The probe: which tools the host has, then each source's output in its own section
/// (`sysv RC`, `units RC`, `files RC`, `show` with `NAME<TAB>OUTPUT` lines).
const SCRIPT: &str = r#"M=$1
export LANG=C LC_ALL=C
P="$PATH:/sbin:/usr/sbin:/usr/local/sbin"
have() { PATH="$P:/usr/bin:/usr/local/bin" command -v "$1" 2>/dev/null; }
svc=$(have service); chk=$(have chkconfig); ictl=$(have initctl); rcs=$(have rc-status)
printf '%s tools\nservice=%s\nchkconfig=%s\ninitctl=%s\nrc-status=%s\n' "$M" "$svc" "$chk" "$ictl" "$rcs"
if [ -n "$chk" ] || [ -n "$ictl" ] || [ -n "$rcs" ]; then exit 0; fi
e=$(mktemp 2>/dev/null) || e=/tmp/.talon-service-facts.$$
trap 'rm -f "$e"' EXIT
if [ -n "$svc" ]; then
  out=$("$svc" --status-all 2>"$e"); rc=$?
  [ -d /etc/init.d ] && d=1 || d=0
  printf '%s sysv %s %s\n%s\n%s sysv_err\n' "$M" "$rc" "$d" "$out" "$M"; cat "$e"
fi
sc=$(have systemctl)
if [ -n "$sc" ] && { [ -e /run/systemd/system/ ] || [ -e /dev/.run/systemd/ ] || [ -e /dev/.systemd/ ]; }; then
  units=$("$sc" list-units --no-pager --type service --all --plain 2>"$e"); urc=$?
  printf '%s units %s\n%s\n%s units_err\n' "$M" "$urc" "$units" "$M"; cat "$e"
  files=$("$sc" list-unit-files --no-pager --type service --all 2>"$e"); frc=$?
  printf '%s files %s\n%s\n%s files_err\n' "$M" "$frc" "$files" "$M"; cat "$e"
  printf '%s show\n' "$M"
  if [ "$frc" = 0 ]; then
    loaded=$(printf '%s\n' "$units" | grep -F .service | awk '{print $1}')
    printf '%s\n' "$files" | grep -F .service | awk '{print $1}' | while read -r name; do
      printf '%s\n' "$loaded" | grep -Fqx -- "$name" && continue
      st=$("$sc" show "$name" --property=ActiveState 2>/dev/null) || st=
      printf '%s\t%s\n' "$name" "$st"
    done
  fi
fi
"#;

/// systemd states that replace a unit's active state as its status, in the order checked.
const BAD_STATES: &[&str] = &["not-found", "masked", "failed"];

/// Runs `service_facts`. Errors: [`ModuleError::Transport`] when the host cannot be asked.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    Args::new(&INFO, args)?;
    let marker = sysutil::marker();
    let out = sysutil::run_script(ctx, SCRIPT, std::slice::from_ref(&marker), None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &marker);
    let tools = sysutil::section(&secs, "tools").unwrap_or_default();
    let other_init = tools.lines().any(|l| {
        ["chkconfig=", "initctl=", "rc-status="]
            .iter()
            .any(|p| l.strip_prefix(p).is_some_and(|v| !v.is_empty()))
    });
    if other_init {
        return crate::modules::fallback::python_path(
            "ansible.builtin.service_facts",
            "service_facts",
            args,
            ctx,
            "this host has upstart, chkconfig or OpenRC, which talon's service_facts does not read",
        )
        .await;
    }
    let mut warnings = Vec::new();
    let mut services = Map::new();
    for (name, body) in &secs {
        let mut words = name.split_whitespace();
        if words.next() == Some("sysv") {
            let rc: i32 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
            let init_d = words.next() == Some("1");
            if rc == 4 && !init_d {
                continue;
            }
            if rc != 0 {
                let err = sysutil::section(&secs, "sysv_err").unwrap_or_default();
                warnings.push(format!("Unable to query 'service' tool ({rc}): {err}"));
            }
            sysv(body, &mut services);
        }
    }
    let mut systemd = Map::new();
    let units = secs.iter().find(|(n, _)| n.starts_with("units "));
    if let Some((name, body)) = units {
        if name.ends_with(" 0") {
            systemd_units(body, &mut systemd);
        } else {
            let err = sysutil::section(&secs, "units_err").unwrap_or_default();
            warnings.push(format!("Could not list units from systemd: {err}"));
        }
    }
    if let Some((name, body)) = secs.iter().find(|(n, _)| n.starts_with("files ")) {
        if name.ends_with(" 0") {
            let shown = sysutil::section(&secs, "show").unwrap_or_default();
            systemd_unit_files(body, shown, &mut systemd).map_err(|m| sysutil::bad("service_facts", m))?;
        } else {
            let err = sysutil::section(&secs, "files_err").unwrap_or_default();
            warnings.push(format!("Could not get unit files data from systemd: {err}"));
        }
    }
    services.extend(systemd);
    let mut result = if services.is_empty() {
        let mut o = ModuleOutcome::ok();
        o.skipped = true;
        o.msg = Some(
            "Failed to find any services. This can be due to privileges or some other configuration issue."
                .into(),
        );
        o
    } else {
        ModuleOutcome::ok().with("ansible_facts", json!({"services": services}))
    };
    for w in warnings {
        result = result.warn(w);
    }
    Ok(result)
}

/// `service --status-all` lines: `[ + ] name` running, `[ - ] name` stopped (`[ ? ]` is not
/// listed, as ansible-core's pattern skips it).
fn sysv(text: &str, services: &mut Map<String, Value>) {
    for line in text.lines() {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix("[ ") else {
            continue;
        };
        let mut chars = rest.chars();
        let state = match chars.next() {
            Some('+') => "running",
            Some('-') => "stopped",
            _ => continue,
        };
        let Some(after) = chars.as_str().strip_prefix(" ]") else {
            continue;
        };
        let name = after.trim_start();
        if after.len() == name.len() || name.is_empty() {
            continue;
        }
        services.insert(
            name.to_string(),
            json!({"name": name, "state": state, "source": "sysv"}),
        );
    }
}

/// `systemctl list-units --plain` lines naming a `.service`: state `running` when the sub
/// state is, else `stopped`; status a bad state among the fields before the last, else the
/// active state.
fn systemd_units(text: &str, services: &mut Map<String, Value>) {
    for line in text.lines().filter(|l| l.contains(".service")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 4 {
            continue;
        }
        let head = &fields[..fields.len() - 1];
        let status = BAD_STATES
            .iter()
            .find(|b| head.contains(b))
            .copied()
            .unwrap_or(fields[2]);
        let state = if fields[3] == "running" {
            "running"
        } else {
            "stopped"
        };
        services.insert(
            fields[0].to_string(),
            json!({"name": fields[0], "state": state, "status": status, "source": "systemd"}),
        );
    }
}

/// `systemctl list-unit-files` lines naming a `.service`: a unit not listed by list-units is
/// added with its `ActiveState` (from `shown`: `NAME<TAB>ActiveState=...` lines; `unknown`
/// when empty); a listed unit takes the file's status unless it has a bad state.
///
/// Errors: a line with fewer than two fields (ansible-core's "Malformed output").
fn systemd_unit_files(text: &str, shown: &str, services: &mut Map<String, Value>) -> Result<(), String> {
    for line in text.lines().filter(|l| l.contains(".service")) {
        let mut fields = line.split_whitespace();
        let (Some(name), Some(status)) = (fields.next(), fields.next()) else {
            return Err(format!(
                "Malformed output discovered from systemd list-unit-files: {line}"
            ));
        };
        match services.get_mut(name) {
            Some(Value::Object(entry)) => {
                let bad = entry
                    .get("status")
                    .and_then(Value::as_str)
                    .is_some_and(|s| BAD_STATES.contains(&s));
                if !bad {
                    entry.insert("status".into(), json!(status));
                }
            }
            _ => {
                let state = shown
                    .lines()
                    .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('\t')))
                    .map(|s| s.replace("ActiveState=", "").trim_end().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "unknown".into());
                services.insert(
                    name.to_string(),
                    json!({"name": name, "state": state, "status": status, "source": "systemd"}),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sysv_status_lines_as_ansible_core_reads_them() {
        let mut s = Map::new();
        sysv(
            " [ + ]  cron\n [ - ]  procps\n [ ? ]  hwclock.sh\nnoise\n",
            &mut s,
        );
        assert_eq!(
            s["cron"],
            json!({"name": "cron", "state": "running", "source": "sysv"})
        );
        assert_eq!(s["procps"]["state"], "stopped");
        assert!(!s.contains_key("hwclock.sh"));
    }

    #[test]
    fn systemd_units_and_files_as_ansible_core_reads_them() {
        let mut s = Map::new();
        systemd_units(
            "cron.service loaded active running Regular background program processing daemon\n\
             gone.service not-found inactive dead gone.service\n\
             ssh.service loaded failed failed OpenBSD Secure Shell server\n\
             10 loaded units listed.\n",
            &mut s,
        );
        assert_eq!(s["cron.service"]["state"], "running");
        assert_eq!(s["cron.service"]["status"], "active");
        assert_eq!(s["gone.service"]["status"], "not-found");
        assert_eq!(s["ssh.service"]["status"], "failed");
        systemd_unit_files(
            "UNIT FILE STATE VENDOR PRESET\ncron.service enabled enabled\nssh.service enabled enabled\n\
             idle.service disabled enabled\nodd.service static -\n\n4 unit files listed.\n",
            "idle.service\tActiveState=inactive\nodd.service\t\n",
            &mut s,
        )
        .unwrap();
        assert_eq!(s["cron.service"]["status"], "enabled");
        assert_eq!(s["ssh.service"]["status"], "failed");
        assert_eq!(
            s["idle.service"],
            json!({"name": "idle.service", "state": "inactive", "status": "disabled", "source": "systemd"})
        );
        assert_eq!(s["odd.service"]["state"], "unknown");
        assert!(systemd_unit_files("x.service\n", "", &mut s).is_err());
    }
}
