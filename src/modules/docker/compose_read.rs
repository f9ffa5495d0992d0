//! Reading a Compose project on the host: the one shell script (`read` and `run`), the
//! containers and services it reports, and the actions that would bring them to the wanted
//! state (the plan `docker_compose` shows in check mode).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::docker_compose::Spec;
use crate::modules::sysutil::{marker, run_script, section, sections};
use crate::modules::{ModuleContext, ModuleError};

/// The script. `$1` marker, `$2` op (`read`/`run`), `$3` project_src, `$4` project_name, `$5`
/// compose files separated by newlines, `$6` profiles (comma-separated), `$7` env file, `$8`
/// extras (`images`: also list, for every `image:` of the project's config, `REF ID`, the ID
/// `missing` when the engine does not have it), `$9` flavour for `run` (`v1`/`v2`); then, for
/// `run`, Compose commands separated by the marker. Everything is data in `$N`; the only `eval`
/// runs text made of `"${N}"` references. Output: `MARKER name` section lines.
pub(super) const SCRIPT: &str = r#"m=$1; op=$2; dir=$3; pn=$4; files=$5; profiles=$6; envf=$7; extras=$8; flavor=$9; shift 9
if [ -n "$dir" ]; then cd "$dir" 2>/dev/null || { printf '%s nodir\n' "$m"; exit 0; }; fi
if [ -n "$pn" ]; then export COMPOSE_PROJECT_NAME="$pn"; fi
if [ -n "$files" ]; then COMPOSE_PATH_SEPARATOR='
'; export COMPOSE_PATH_SEPARATOR; export COMPOSE_FILE="$files"; fi
if [ -n "$profiles" ]; then export COMPOSE_PROFILES="$profiles"; fi
if [ -z "$flavor" ]; then
  if docker compose version >/dev/null 2>&1; then flavor=v2
  elif command -v docker-compose >/dev/null 2>&1; then flavor=v1
  else printf '%s nocompose\n' "$m"; exit 0; fi
fi
printf '%s flavor\n%s\n' "$m" "$flavor"
compose() {
  if [ -n "$envf" ]; then set -- --env-file "$envf" "$@"; fi
  if [ "$flavor" = v2 ]; then docker compose "$@"; else docker-compose "$@"; fi
}
FMT='{{.Id}}	{{.Name}}	{{index .Config.Labels "com.docker.compose.service"}}	{{.State.Status}}	{{.State.StartedAt}}	{{index .Config.Labels "com.docker.compose.config-hash"}}	{{.Config.Image}}	{{index .Config.Labels "com.docker.compose.oneoff"}}	{{index .Config.Labels "com.docker.compose.project"}}'
snap() {
  ids=$(compose ps -a -q) || return 1
  p=
  if [ -n "$ids" ]; then
    set -- $ids
    p=$(docker inspect --format '{{index .Config.Labels "com.docker.compose.project"}}' "$1" 2>/dev/null)
  fi
  if [ -z "$p" ]; then p=$COMPOSE_PROJECT_NAME; fi
  if [ -n "$p" ]; then ids="$ids $(docker ps -a -q --no-trunc --filter "label=com.docker.compose.project=$p")"; fi
  set -- $ids
  if [ $# -gt 0 ]; then docker inspect --format "$FMT" "$@" 2>/dev/null; fi
  case " $extras " in *" images "*)
    printf '%s images\n' "$m"
    compose config 2>/dev/null | sed -n 's/^    image: *//p' | tr -d "\"'" | sort -u | while IFS= read -r ref; do
      printf '%s %s\n' "$ref" "$(docker image inspect --format '{{.Id}}' "$ref" 2>/dev/null || echo missing)"
    done;;
  esac
  return 0
}
if [ "$op" = read ]; then
  printf '%s before\n' "$m"
  snap || { printf '%s psfail\n' "$m"; exit 0; }
  printf '%s hashes\n' "$m"
  compose config --hash '*' 2>/dev/null || { printf '%s services\n' "$m"; compose config --services; }
  exit 0
fi
rc=0
while [ $# -gt 0 ]; do
  n=0
  for a in "$@"; do [ "$a" = "$m" ] && break; n=$((n+1)); done
  args=; i=1
  while [ $i -le $n ]; do args="$args \"\${$i}\""; i=$((i+1)); done
  printf '%s cmd\n' "$m"
  eval "compose $args" 2>&1; rc=$?
  printf '\n%s rc\n%s\n' "$m" "$rc"
  shift $n; if [ $# -gt 0 ]; then shift; fi
  if [ $rc -ne 0 ]; then break; fi
done
printf '%s after\n' "$m"
snap || printf '%s psfail\n' "$m"
exit 0
"#;

/// One container of the project, as read with `docker inspect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctr {
    pub id: String,
    pub name: String,
    pub service: String,
    /// `running`, `exited`, `created`, `paused`, `restarting`, `dead`.
    pub state: String,
    pub started_at: String,
    pub config_hash: String,
    pub image: String,
    pub project: String,
}

impl Ctr {
    pub(super) fn running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "restarting" | "paused")
    }

    pub(super) fn to_value(&self) -> Value {
        json!({
            "ID": self.id,
            "Name": self.name,
            "Service": self.service,
            "State": self.state,
            "Image": self.image,
            "Project": self.project,
        })
    }
}

/// Parses the tab-separated inspect lines (id, name, service, state, started, hash, image,
/// oneoff, project), dropping one-off (`run`) containers and duplicates, sorted by service and
/// name.
pub fn parse_containers(text: &str) -> Vec<Ctr> {
    let mut seen = BTreeSet::new();
    let mut out: Vec<Ctr> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() < 9 || f[0].is_empty() || f[7] == "True" || !seen.insert(f[0].to_string()) {
                return None;
            }
            Some(Ctr {
                id: f[0].to_string(),
                name: f[1].trim_start_matches('/').to_string(),
                service: f[2].to_string(),
                state: f[3].to_string(),
                started_at: f[4].to_string(),
                config_hash: f[5].to_string(),
                image: f[6].to_string(),
                project: f[8].to_string(),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    out
}

/// `config --hash '*'` lines (`service hash`) or `config --services` lines (`service`):
/// service name -> hash (empty when unknown).
pub fn parse_services(hashes: Option<&str>, services: Option<&str>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for l in hashes
        .unwrap_or_default()
        .lines()
        .chain(services.unwrap_or_default().lines())
    {
        let mut w = l.split_whitespace();
        if let Some(s) = w.next() {
            out.insert(s.to_string(), w.next().unwrap_or_default().to_string());
        }
    }
    out
}

pub(super) fn action(id: &str, status: &str) -> Value {
    json!({"what": "container", "id": id, "status": status})
}

/// What happened between two readings, as community.docker's `actions` (`what`, `id` = the
/// container name, `status`). `restarted` names containers talon restarted: a new start time
/// on them is a `Restarting` action; elsewhere a new start time alone is not a change (a
/// container that restarts itself is not talon's doing).
pub fn diff_actions(before: &[Ctr], after: &[Ctr], restarted: &BTreeSet<String>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut paired: BTreeSet<&str> = BTreeSet::new();
    for b in before {
        match after.iter().find(|a| a.id == b.id) {
            Some(a) => {
                if b.running() && !a.running() {
                    out.push(action(&a.name, "Stopping"));
                } else if !b.running() && a.running() {
                    out.push(action(&a.name, "Starting"));
                } else if restarted.contains(&b.id) && a.started_at != b.started_at {
                    out.push(action(&a.name, "Restarting"));
                }
            }
            None => {
                let new = |a: &&Ctr| !before.iter().any(|x| x.id == a.id) && !paired.contains(a.id.as_str());
                let twin = after
                    .iter()
                    .filter(new)
                    .find(|a| a.name == b.name)
                    .or_else(|| after.iter().filter(new).find(|a| a.service == b.service));
                match twin {
                    Some(a) => {
                        paired.insert(a.id.as_str());
                        out.push(action(&a.name, "Recreating"));
                        if a.running() {
                            out.push(action(&a.name, "Starting"));
                        }
                    }
                    None => out.push(action(&b.name, "Removing")),
                }
            }
        }
    }
    for a in after {
        if !before.iter().any(|b| b.id == a.id) && !paired.contains(a.id.as_str()) {
            out.push(action(&a.name, "Creating"));
            if a.running() {
                out.push(action(&a.name, "Starting"));
            }
        }
    }
    out
}

/// What the read round trip found.
pub(super) struct Reading {
    pub(super) flavor: String,
    pub(super) containers: Vec<Ctr>,
    /// Service -> current config hash (empty when Compose could not say).
    pub(super) services: BTreeMap<String, String>,
    pub(super) images: BTreeSet<String>,
}

pub(super) enum ReadResult {
    Ok(Reading),
    Failed(String),
}

pub(super) fn base_args(spec: &Spec, m: &str, op: &str, extras: &str, flavor: &str) -> Vec<String> {
    vec![
        m.to_string(),
        op.to_string(),
        spec.project_src.clone(),
        spec.project_name.clone(),
        spec.files.join("\n"),
        spec.profiles.join(","),
        spec.env_file.clone(),
        extras.to_string(),
        flavor.to_string(),
    ]
}

pub(super) fn images_of(secs: &[(&str, &str)], name: &str) -> BTreeSet<String> {
    // The images list follows its snapshot; find the one after the named snapshot section.
    let mut after = false;
    for (n, body) in secs {
        if *n == name {
            after = true;
        } else if after && *n == "images" {
            return body
                .lines()
                .map(str::to_string)
                .filter(|l| !l.is_empty())
                .collect();
        } else if after {
            break;
        }
    }
    BTreeSet::new()
}

pub(super) async fn read(
    ctx: &ModuleContext<'_>,
    spec: &Spec,
    extras: &str,
) -> Result<ReadResult, ModuleError> {
    let m = marker();
    let out = run_script(ctx, SCRIPT, &base_args(spec, &m, "read", extras, ""), None).await?;
    let stdout = out.stdout_str();
    let secs = sections(&stdout, &m);
    let stderr = out.stderr_str().trim().to_string();
    if section(&secs, "nodir").is_some() {
        return Ok(ReadResult::Failed(format!(
            "project_src {} is not a directory on the host (or cannot be entered)",
            spec.project_src
        )));
    }
    if section(&secs, "nocompose").is_some() {
        return Ok(ReadResult::Failed(
            "neither `docker compose` (Compose v2) nor `docker-compose` (v1) works on the host; install one"
                .into(),
        ));
    }
    let Some(flavor) = section(&secs, "flavor").map(|f| f.trim().to_string()) else {
        return Ok(ReadResult::Failed(format!(
            "the compose script did not run ({}): {stderr}",
            out.status
        )));
    };
    if section(&secs, "psfail").is_some() {
        return Ok(ReadResult::Failed(format!(
            "cannot list the project's containers: {}",
            if stderr.is_empty() {
                "compose ps failed"
            } else {
                &stderr
            }
        )));
    }
    Ok(ReadResult::Ok(Reading {
        flavor,
        containers: parse_containers(section(&secs, "before").unwrap_or_default()),
        services: parse_services(section(&secs, "hashes"), section(&secs, "services")),
        images: images_of(&secs, "before"),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn c(id: &str, name: &str, svc: &str, state: &str, started: &str) -> Ctr {
        Ctr {
            id: id.into(),
            name: name.into(),
            service: svc.into(),
            state: state.into(),
            started_at: started.into(),
            config_hash: "h".into(),
            image: "i".into(),
            project: "p".into(),
        }
    }

    fn statuses(v: &[Value]) -> Vec<String> {
        v.iter()
            .map(|a| format!("{} {}", a["id"].as_str().unwrap(), a["status"].as_str().unwrap()))
            .collect()
    }

    #[test]
    fn parses_inspect_lines() {
        let t = "abc\t/p_web_1\tweb\trunning\tT1\th1\timg\tFalse\tp\n\
                 abc\t/p_web_1\tweb\trunning\tT1\th1\timg\tFalse\tp\n\
                 def\t/p_web_run_1\tweb\texited\tT2\th1\timg\tTrue\tp\n\
                 012\t/p_db_1\tdb\texited\tT3\th2\timg2\tFalse\tp\n";
        let cs = parse_containers(t);
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].service, "db");
        assert_eq!(cs[1].name, "p_web_1");
        assert!(cs[1].running() && !cs[0].running());
    }

    #[test]
    fn services_from_hash_or_list() {
        let s = parse_services(Some("web abc\ndb def\n"), None);
        assert_eq!(s["web"], "abc");
        let s = parse_services(None, Some("web\ndb\n"));
        assert_eq!(s["db"], "");
    }

    #[test]
    fn diff_names_each_change() {
        let none = BTreeSet::new();
        let before = vec![
            c("1", "a", "a", "running", "t"),
            c("2", "b", "b", "running", "t"),
            c("3", "x", "x", "exited", "t"),
            c("4", "gone", "gone", "running", "t"),
        ];
        let after = vec![
            c("1", "a", "a", "running", "t2"),
            c("5", "b", "b", "running", "t3"),
            c("3", "x", "x", "running", "t4"),
            c("6", "new", "new", "created", ""),
        ];
        assert_eq!(
            statuses(&diff_actions(&before, &after, &none)),
            [
                "b Recreating",
                "b Starting",
                "x Starting",
                "gone Removing",
                "new Creating"
            ]
        );
        let restarted: BTreeSet<String> = ["1".to_string()].into();
        assert_eq!(
            statuses(&diff_actions(&before[..1], &after[..1], &restarted)),
            ["a Restarting"]
        );
        assert!(diff_actions(&before, &before, &none).is_empty());
    }
}
