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

use std::collections::BTreeSet;

use serde_json::Value;

use super::compose_read::*;
use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::{bad, marker, run_script, section, sections};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::vars::Vars;

crate::module_info!(
    /// `docker_compose` / `docker_compose_v2` arguments. `definition`, `docker_host`, TLS options
    /// and `scale` are not accepted.
    INFO,
    "docker_compose",
    ArgSpec::new(&[
        ArgDef::path("project_src"),
        ArgDef::str("project_name"),
        ArgDef::list("files"),
        ArgDef::list("env_files"),
        ArgDef::list("profiles"),
        ArgDef::str("state").choices(&["present", "absent", "stopped", "restarted", "pulled"]),
        ArgDef::list("services"),
        ArgDef::str("recreate").choices(&["auto", "always", "never"]),
        ArgDef::bool("remove_orphans"),
        ArgDef::bool("remove_volumes"),
        ArgDef::str("remove_images").choices(&["all", "local"]),
        ArgDef::str("pull").choices(&["always", "missing", "never", "policy"]),
        ArgDef::str("build").choices(&["always", "never", "policy"]),
        ArgDef::bool("dependencies"),
        ArgDef::int("timeout"),
        ArgDef::bool("wait"),
        ArgDef::int("wait_timeout"),
    ]),
    run
);

/// The parsed task.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub(super) project_src: String,
    pub(super) project_name: String,
    pub(super) files: Vec<String>,
    pub(super) env_file: String,
    pub(super) profiles: Vec<String>,
    pub(super) state: String,
    pub(super) services: Vec<String>,
    pub(super) recreate: String,
    pub(super) remove_orphans: bool,
    pub(super) remove_volumes: bool,
    pub(super) remove_images: Option<String>,
    pub(super) pull: Option<String>,
    pub(super) build: Option<String>,
    pub(super) dependencies: bool,
    pub(super) timeout: Option<u64>,
    pub(super) wait: bool,
    pub(super) wait_timeout: Option<u64>,
}

fn parse_spec(args: &Vars) -> Result<Spec, ModuleError> {
    const M: &str = "docker_compose";
    let a = Args::new(&INFO, args)?;
    let env_files = a.list("env_files")?.unwrap_or_default();
    if env_files.len() > 1 {
        return Err(bad(
            M,
            "talon passes one env file to Compose; give a single entry in env_files",
        ));
    }
    let spec = Spec {
        project_src: a.str("project_src")?.unwrap_or_default(),
        project_name: a.str("project_name")?.unwrap_or_default(),
        files: a.list("files")?.unwrap_or_default(),
        env_file: env_files.into_iter().next().unwrap_or_default(),
        profiles: a.list("profiles")?.unwrap_or_default(),
        state: a.choice("state")?.unwrap_or_else(|| "present".into()),
        services: a.list("services")?.unwrap_or_default(),
        recreate: a.choice("recreate")?.unwrap_or_else(|| "auto".into()),
        remove_orphans: a.bool("remove_orphans", false)?,
        remove_volumes: a.bool("remove_volumes", false)?,
        remove_images: a.choice("remove_images")?,
        pull: a.choice("pull")?.filter(|p| p != "policy"),
        build: a.choice("build")?.filter(|b| b != "policy"),
        dependencies: a.bool("dependencies", true)?,
        timeout: a.u64("timeout")?,
        wait: a.bool("wait", false)?,
        wait_timeout: a.u64("wait_timeout")?,
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
