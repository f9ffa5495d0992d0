//! `docker_compose`: bring a Compose project to a state, with the semantics of
//! `community.docker.docker_compose_v2`, on whichever Compose the host has: the v2 plugin
//! (`docker compose`) when `docker compose version` works, else v1 (`docker-compose`).
//!
//! Why not just run `docker compose up`: Compose's own output does not say reliably whether
//! anything changed (v1 prints "is up-to-date" lines, v2 prints events, both differ across
//! versions). talon reads the project's containers before and after (id, service, state, start
//! time, config hash) and reports `changed` only when a container was created, recreated,
//! started, stopped, restarted or removed. The same reading drives the plan: `restarted` only
//! restarts services that have a container (v1 would fail "No containers to restart"), `stopped`
//! only stops when something runs, `absent` only runs `down` when there is something to remove.
//!
//! Round trips: one read (Compose flavour, containers, `config --hash`), then, only when there
//! is something to do, one run (the Compose commands, then the containers again). Check mode
//! stops after the read and predicts from it.
//!
//! Applying a changed bind-mounted config file (Compose cannot see it change) is a
//! force-recreate of that one service, typically from a handler:
//!
//! ```yaml
//! handlers:
//!   - name: recreate proxy
//!     community.docker.docker_compose_v2:
//!       project_src: /srv/app
//!       services: [proxy]
//!       recreate: always
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::sysutil::{Args, bad, marker, run_script, section, sections};
use super::{ModuleContext, ModuleError, ModuleInfo, ModuleOutcome};
use crate::vars::Vars;

/// `docker_compose` / `docker_compose_v2` arguments. `definition`, `docker_host`, TLS options
/// and `scale` are not accepted.
pub static INFO: ModuleInfo = ModuleInfo {
    name: "docker_compose",
    args: &[
        "project_src",
        "project_name",
        "files",
        "env_files",
        "profiles",
        "state",
        "services",
        "recreate",
        "remove_orphans",
        "remove_volumes",
        "remove_images",
        "pull",
        "build",
        "dependencies",
        "timeout",
        "wait",
        "wait_timeout",
    ],
    free_form: false,
    types: &[],
};

/// The script. `$1` marker, `$2` op (`read`/`run`), `$3` project_src, `$4` project_name, `$5`
/// compose files separated by newlines, `$6` profiles (comma-separated), `$7` env file, `$8`
/// extras (`images`: also list, for every `image:` of the project's config, `REF ID`, the ID
/// `missing` when the engine does not have it), `$9` flavour for `run` (`v1`/`v2`); then, for
/// `run`, Compose commands separated by the marker. Everything is data in `$N`; the only `eval`
/// runs text made of `"${N}"` references. Output: `MARKER name` section lines.
const SCRIPT: &str = r#"m=$1; op=$2; dir=$3; pn=$4; files=$5; profiles=$6; envf=$7; extras=$8; flavor=$9; shift 9
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
    fn running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "restarting" | "paused")
    }

    fn to_value(&self) -> Value {
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

fn action(id: &str, status: &str) -> Value {
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

/// The parsed task.
#[derive(Debug, Clone)]
struct Spec {
    project_src: String,
    project_name: String,
    files: Vec<String>,
    env_file: String,
    profiles: Vec<String>,
    state: String,
    services: Vec<String>,
    recreate: String,
    remove_orphans: bool,
    remove_volumes: bool,
    remove_images: Option<String>,
    pull: Option<String>,
    build: Option<String>,
    dependencies: bool,
    timeout: Option<u64>,
    wait: bool,
    wait_timeout: Option<u64>,
}

fn parse_spec(args: &Vars) -> Result<Spec, ModuleError> {
    const M: &str = "docker_compose";
    let a = Args::new(M, args);
    let env_files = a.list(&["env_files"])?.unwrap_or_default();
    if env_files.len() > 1 {
        return Err(bad(
            M,
            "talon passes one env file to Compose; give a single entry in env_files",
        ));
    }
    let spec = Spec {
        project_src: a.str(&["project_src"])?.unwrap_or_default(),
        project_name: a.str(&["project_name"])?.unwrap_or_default(),
        files: a.list(&["files"])?.unwrap_or_default(),
        env_file: env_files.into_iter().next().unwrap_or_default(),
        profiles: a.list(&["profiles"])?.unwrap_or_default(),
        state: a
            .choice(
                &["state"],
                &["present", "absent", "stopped", "restarted", "pulled"],
            )?
            .unwrap_or_else(|| "present".into()),
        services: a.list(&["services"])?.unwrap_or_default(),
        recreate: a
            .choice(&["recreate"], &["auto", "always", "never"])?
            .unwrap_or_else(|| "auto".into()),
        remove_orphans: a.bool(&["remove_orphans"], false)?,
        remove_volumes: a.bool(&["remove_volumes"], false)?,
        remove_images: a.choice(&["remove_images"], &["all", "local"])?,
        pull: a
            .choice(&["pull"], &["always", "missing", "never", "policy"])?
            .filter(|p| p != "policy"),
        build: a
            .choice(&["build"], &["always", "never", "policy"])?
            .filter(|b| b != "policy"),
        dependencies: a.bool(&["dependencies"], true)?,
        timeout: a.u64(&["timeout"])?,
        wait: a.bool(&["wait"], false)?,
        wait_timeout: a.u64(&["wait_timeout"])?,
    };
    if spec.project_src.is_empty() && spec.files.is_empty() {
        return Err(bad(M, "one of the following is required: project_src, files"));
    }
    if let Some(s) = spec.services.iter().find(|s| s.starts_with('-') || s.is_empty()) {
        return Err(bad(M, format!("invalid service name '{s}'")));
    }
    if spec.files.iter().any(|f| f.contains('\n')) {
        return Err(bad(M, "a file name in files contains a newline"));
    }
    Ok(spec)
}

/// What the read round trip found.
struct Reading {
    flavor: String,
    containers: Vec<Ctr>,
    /// Service -> current config hash (empty when Compose could not say).
    services: BTreeMap<String, String>,
    images: BTreeSet<String>,
}

enum ReadResult {
    Ok(Reading),
    Failed(String),
}

fn base_args(spec: &Spec, m: &str, op: &str, extras: &str, flavor: &str) -> Vec<String> {
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

fn images_of(secs: &[(&str, &str)], name: &str) -> BTreeSet<String> {
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

async fn read(ctx: &ModuleContext<'_>, spec: &Spec, extras: &str) -> Result<ReadResult, ModuleError> {
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

/// Runs `community.docker.docker_compose_v2` (also answering to `docker_compose`).
///
/// States: `present` (`up -d`, with `--force-recreate` for `recreate: always`, `--no-recreate`
/// for `never`, `--remove-orphans`, `--no-deps` for `dependencies: false`, `--pull`/`--wait` on
/// v2), `stopped` (`stop` when a targeted container runs), `restarted` (`restart` of the
/// targeted services that have a container; none is ok and unchanged), `absent` (`down`, or
/// `rm -s -f` of `services`, when there are containers), `pulled` (`pull`; changed when an
/// image the project's config names became present or got another ID; images of other
/// projects do not count, so concurrent work on the same engine is not reported).
///
/// Result: `containers` (`ID`, `Name`, `Service`, `State`, `Image`, `Project`, after the run),
/// `actions` (`{what: container, id: NAME, status: Creating|Recreating|Starting|Stopping|
/// Restarting|Removing}`), `compose_flavor` (`v1`/`v2`); on failure `rc` and `stderr` (Compose's
/// output). `changed` is true only when `actions` is not empty (or, for `pulled`, an image
/// changed).
///
/// Check mode runs the read only and predicts: missing or stopped containers, a config hash
/// that differs from `config --hash`, `recreate: always`. Changes Compose cannot see (a
/// bind-mounted file, a newer image in the registry) cannot be predicted; `msg` says so.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let spec = parse_spec(args)?;
    let extras = if spec.state == "pulled" { "images" } else { "" };
    let r = match read(ctx, &spec, extras).await? {
        ReadResult::Ok(r) => r,
        ReadResult::Failed(msg) => return Ok(ModuleOutcome::failed(msg)),
    };
    let v2 = r.flavor == "v2";
    let targets: Vec<String> = if spec.services.is_empty() {
        r.services.keys().cloned().collect()
    } else {
        spec.services.clone()
    };
    let targeted = |c: &Ctr| spec.services.is_empty() || spec.services.contains(&c.service);
    let tail = |cmd: &mut Vec<String>, svcs: &[String]| {
        cmd.push("--".into());
        cmd.extend(svcs.iter().cloned());
    };

    // The plan: Compose commands, and what check mode predicts.
    let mut cmds: Vec<Vec<String>> = Vec::new();
    let mut predicted: Vec<Value> = Vec::new();
    let mut restarted: BTreeSet<String> = BTreeSet::new();
    match spec.state.as_str() {
        "present" => {
            if !v2 && spec.wait {
                return Ok(unsupported("wait", &r));
            }
            if !v2 && spec.pull.as_deref() == Some("never") {
                return Ok(unsupported("pull: never", &r));
            }
            if !v2 && spec.pull.as_deref() == Some("always") {
                let mut p = vec!["pull".to_string()];
                tail(&mut p, &spec.services);
                cmds.push(p);
            }
            let mut up: Vec<String> = vec!["up".into(), "-d".into()];
            match spec.recreate.as_str() {
                "always" => up.push("--force-recreate".into()),
                "never" => up.push("--no-recreate".into()),
                _ => {}
            }
            if spec.remove_orphans {
                up.push("--remove-orphans".into());
            }
            if !spec.dependencies {
                up.push("--no-deps".into());
            }
            if let Some(t) = spec.timeout {
                up.extend(["--timeout".into(), t.to_string()]);
            }
            match spec.build.as_deref() {
                Some("always") => up.push("--build".into()),
                Some("never") => up.push("--no-build".into()),
                _ => {}
            }
            if v2 {
                if let Some(p) = &spec.pull {
                    up.extend(["--pull".into(), p.clone()]);
                }
                if spec.wait {
                    up.push("--wait".into());
                    if let Some(t) = spec.wait_timeout {
                        up.extend(["--wait-timeout".into(), t.to_string()]);
                    }
                }
            }
            tail(&mut up, &spec.services);
            cmds.push(up);
            for s in &targets {
                let hash = r.services.get(s).cloned().unwrap_or_default();
                let cs: Vec<&Ctr> = r.containers.iter().filter(|c| &c.service == s).collect();
                if cs.is_empty() {
                    predicted.push(action(s, "Creating"));
                }
                for c in cs {
                    let stale = !hash.is_empty() && !c.config_hash.is_empty() && c.config_hash != hash;
                    if spec.recreate == "always" || (spec.recreate == "auto" && stale) {
                        predicted.push(action(&c.name, "Recreating"));
                    } else if !c.running() {
                        predicted.push(action(&c.name, "Starting"));
                    }
                }
            }
            if spec.remove_orphans {
                for c in r
                    .containers
                    .iter()
                    .filter(|c| !r.services.contains_key(&c.service))
                {
                    predicted.push(action(&c.name, "Removing"));
                }
            }
        }
        "stopped" => {
            let running: Vec<&Ctr> = r
                .containers
                .iter()
                .filter(|c| targeted(c) && c.running())
                .collect();
            if !running.is_empty() {
                let mut stop = vec!["stop".to_string()];
                if let Some(t) = spec.timeout {
                    stop.extend(["--timeout".into(), t.to_string()]);
                }
                tail(&mut stop, &spec.services);
                cmds.push(stop);
                predicted.extend(running.iter().map(|c| action(&c.name, "Stopping")));
            }
        }
        "restarted" => {
            let existing: Vec<&Ctr> = r.containers.iter().filter(|c| targeted(c)).collect();
            let svcs: BTreeSet<String> = existing.iter().map(|c| c.service.clone()).collect();
            if !svcs.is_empty() {
                let mut cmd = vec!["restart".to_string()];
                if let Some(t) = spec.timeout {
                    cmd.extend(["--timeout".into(), t.to_string()]);
                }
                tail(&mut cmd, &svcs.into_iter().collect::<Vec<_>>());
                cmds.push(cmd);
                for c in existing {
                    restarted.insert(c.id.clone());
                    predicted.push(action(&c.name, "Restarting"));
                }
            }
        }
        "absent" => {
            let doomed: Vec<&Ctr> = r.containers.iter().filter(|c| targeted(c)).collect();
            if spec.services.is_empty() {
                if !doomed.is_empty() || spec.remove_volumes || spec.remove_images.is_some() {
                    let mut down = vec!["down".to_string()];
                    if spec.remove_orphans {
                        down.push("--remove-orphans".into());
                    }
                    if spec.remove_volumes {
                        down.push("--volumes".into());
                    }
                    if let Some(i) = &spec.remove_images {
                        down.extend(["--rmi".into(), i.clone()]);
                    }
                    if let Some(t) = spec.timeout {
                        down.extend(["--timeout".into(), t.to_string()]);
                    }
                    cmds.push(down);
                }
            } else if !doomed.is_empty() {
                let mut rm = vec!["rm".to_string(), "--stop".into(), "--force".into()];
                if spec.remove_volumes {
                    rm.push("-v".into());
                }
                tail(&mut rm, &spec.services);
                cmds.push(rm);
            }
            predicted.extend(doomed.iter().map(|c| action(&c.name, "Removing")));
        }
        _ => {
            let mut p = vec!["pull".to_string()];
            tail(&mut p, &spec.services);
            cmds.push(p);
        }
    }

    let containers = |cs: &[Ctr]| Value::Array(cs.iter().map(Ctr::to_value).collect());
    if ctx.check {
        let mut o = ModuleOutcome::changed(!predicted.is_empty())
            .with("containers", containers(&r.containers))
            .with("actions", predicted)
            .with("compose_flavor", r.flavor.clone());
        o.msg = Some(
            "check mode: predicted from the containers' state and Compose config hashes; changes \
             Compose cannot see (bind-mounted files, newer images in a registry) are not predicted"
                .into(),
        );
        return Ok(o);
    }
    if cmds.is_empty() {
        return Ok(ModuleOutcome::ok()
            .with("containers", containers(&r.containers))
            .with("actions", Vec::<Value>::new())
            .with("compose_flavor", r.flavor.clone()));
    }

    // The run round trip: the commands, then the containers again.
    let m = marker();
    let mut script_args = base_args(&spec, &m, "run", extras, &r.flavor);
    for (i, c) in cmds.iter().enumerate() {
        if i > 0 {
            script_args.push(m.clone());
        }
        script_args.extend(c.iter().cloned());
    }
    let out = run_script(ctx, SCRIPT, &script_args, None).await?;
    let stdout = out.stdout_str();
    let secs = sections(&stdout, &m);
    let cmd_out: Vec<&str> = secs
        .iter()
        .filter(|(n, _)| *n == "cmd")
        .map(|(_, b)| b.trim())
        .filter(|b| !b.is_empty())
        .collect();
    let rcs: Vec<i64> = secs
        .iter()
        .filter(|(n, _)| *n == "rc")
        .filter_map(|(_, b)| b.trim().parse().ok())
        .collect();
    let after_ok = section(&secs, "after").is_some() && section(&secs, "psfail").is_none();
    let after = if after_ok {
        parse_containers(section(&secs, "after").unwrap_or_default())
    } else {
        r.containers.clone()
    };
    let actions = diff_actions(&r.containers, &after, &restarted);
    let images_changed = spec.state == "pulled" && after_ok && images_of(&secs, "after") != r.images;
    let mut o = ModuleOutcome::changed(!actions.is_empty() || images_changed)
        .with("containers", containers(&after))
        .with("actions", actions)
        .with("compose_flavor", r.flavor.clone());
    let failed_rc = rcs.iter().copied().find(|rc| *rc != 0);
    if failed_rc.is_some() || rcs.len() < cmds.len() {
        let rc = failed_rc.unwrap_or(-1);
        let text = cmd_out.join("\n");
        let stderr = out.stderr_str();
        let detail = if text.is_empty() {
            stderr.trim()
        } else {
            text.as_str()
        };
        o.failed = true;
        o.msg = Some(format!(
            "Error when processing {}: {} failed: {detail}",
            if spec.project_src.is_empty() {
                &spec.files[0]
            } else {
                &spec.project_src
            },
            cmds.get(rcs.len().saturating_sub(1))
                .map_or("compose", |c| c[0].as_str()),
        ));
        o = o.with("rc", rc).with("stderr", text.clone());
    }
    Ok(o)
}

fn unsupported(what: &str, r: &Reading) -> ModuleOutcome {
    ModuleOutcome::failed(format!(
        "{what} needs Compose v2 (`docker compose`); this host only has docker-compose v1"
    ))
    .with("compose_flavor", r.flavor.clone())
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
