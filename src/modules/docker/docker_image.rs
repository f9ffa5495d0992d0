//! `docker_image`: make sure an image is (or is not) in the host's Docker engine, as
//! `community.docker.docker_image` does, through the `docker` CLI on the host (no Docker SDK, no
//! Python).
//!
//! One round trip reads the image (`docker image inspect REF`); the plan is made on the
//! controller; only when something must change does a second round trip pull, build or remove
//! it, reading the image again in the same script so the result shows the new state.
//!
//! Supported: `source: pull | build | local` (`load` is not), `state: present | absent`,
//! `force_source`, `force_absent`, `pull.platform`, and the common `build` options. Names may
//! carry a tag (`repo:tag`), a digest (`repo@sha256:...`, `repo:tag@sha256:...`) or be an image
//! ID (`sha256:...`); the reference is inspected and removed exactly as written.

use serde_json::{Map, Value};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::{bad, run_script};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan};
use crate::vars::{Vars, as_string};

crate::module_info!(
    /// `docker_image` arguments. `docker_host`, `tls*`, `api_version`, `timeout` and friends are not
    /// accepted: talon talks to the engine through the host's `docker` CLI and its defaults
    /// (`DOCKER_HOST` from the task's `environment:` works).
    INFO,
    "docker_image",
    ArgSpec::new(&[
        ArgDef::str("name").required(),
        ArgDef::str("tag"),
        ArgDef::str("source").choices(&["pull", "build", "local", "load"]),
        ArgDef::str("state").choices(&["present", "absent"]),
        ArgDef::bool("force_source"),
        ArgDef::bool("force_absent"),
        ArgDef::dict("build"),
        ArgDef::raw("pull"),
    ]),
    plan = plan,
    apply = apply
);

/// An image reference split the way Docker reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Repository (`registry:5000/ns/name`), or the ID for an image ID.
    pub repo: String,
    /// Tag, if any (from the name, else from the `tag` argument).
    pub tag: Option<String>,
    /// `sha256:...` digest, if the name carries `@sha256:...`.
    pub digest: Option<String>,
    /// The name is an image ID (`sha256:<64 hex>` or 12..64 hex digits).
    pub is_id: bool,
}

impl ImageRef {
    /// Parses `name` with the `tag` argument as fallback (a tag inside `name` wins, as in
    /// community.docker). Errors on empty names, names starting with `-` or holding whitespace.
    pub fn parse(name: &str, tag: Option<&str>) -> Result<ImageRef, String> {
        let name = name.trim();
        if name.is_empty() || name.starts_with('-') || name.contains(char::is_whitespace) {
            return Err(format!("invalid image name '{name}'"));
        }
        if is_image_id(name) {
            return Ok(ImageRef {
                repo: name.to_string(),
                tag: None,
                digest: None,
                is_id: true,
            });
        }
        let (rest, digest) = match name.split_once('@') {
            Some((r, d)) => {
                if !d.contains(':') || r.is_empty() {
                    return Err(format!("invalid digest in image name '{name}'"));
                }
                (r, Some(d.to_string()))
            }
            None => (name, None),
        };
        // A ':' after the last '/' is a tag; before it, it is a registry port.
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (repo, name_tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_string())),
            None => (rest, None),
        };
        if repo.is_empty() || name_tag.as_deref() == Some("") {
            return Err(format!("invalid image name '{name}'"));
        }
        let tag = name_tag.or_else(|| {
            // With a digest and no tag in the name, the digest alone selects the image.
            if digest.is_some() {
                None
            } else {
                Some(tag.filter(|t| !t.is_empty()).unwrap_or("latest").to_string())
            }
        });
        Ok(ImageRef {
            repo: repo.to_string(),
            tag,
            digest,
            is_id: false,
        })
    }

    /// The reference given to `docker` (`repo:tag`, `repo@digest`, `repo:tag@digest`, or the ID).
    pub fn reference(&self) -> String {
        let mut s = self.repo.clone();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

/// True for `sha256:<64 hex>` and for bare hex IDs of 12 to 64 digits (community.docker's
/// `is_image_name_id`).
pub fn is_image_id(name: &str) -> bool {
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    let full = name.starts_with("sha256:");
    let ok_len = if full {
        hex.len() == 64
    } else {
        (12..=64).contains(&hex.len())
    };
    ok_len
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// `build:` options (the subset talon passes to `docker build`).
#[derive(Debug, Clone, Default)]
struct BuildOpts {
    path: String,
    dockerfile: Option<String>,
    args: Vec<(String, String)>,
    pull: bool,
    nocache: bool,
    target: Option<String>,
    platform: Option<String>,
    network: Option<String>,
}

/// The `build` sub-options talon supports (community.docker's names).
static BUILD_SPEC: ArgSpec = ArgSpec::new(&[
    ArgDef::path("path"),
    ArgDef::str("dockerfile"),
    ArgDef::dict("args"),
    ArgDef::bool("pull"),
    ArgDef::bool("nocache"),
    ArgDef::bool("rm"),
    ArgDef::str("target"),
    ArgDef::str("platform"),
    ArgDef::str("network"),
]);

/// The `pull` sub-options talon supports.
static PULL_SPEC: ArgSpec = ArgSpec::new(&[ArgDef::str("platform")]);

fn parse_build(v: &Value) -> Result<BuildOpts, ModuleError> {
    let Value::Object(map) = v else {
        return Err(bad("docker_image", "build must be a mapping"));
    };
    if let Some(k) = map.keys().find(|k| !BUILD_SPEC.accepts(k)) {
        return Err(bad(
            "docker_image",
            format!(
                "build.{k} is not supported by talon (supported: {})",
                BUILD_SPEC.names().join(", ")
            ),
        ));
    }
    let a = Args::with_spec("docker_image", &BUILD_SPEC, map)?;
    let mut args = Vec::new();
    if let Some(v) = map.get("args").filter(|v| !v.is_null()) {
        let Value::Object(m) = v else {
            return Err(bad("docker_image", "build.args must be a mapping"));
        };
        for (k, v) in m {
            args.push((k.clone(), as_string(v)));
        }
    }
    Ok(BuildOpts {
        path: a
            .str("path")?
            .ok_or_else(|| bad("docker_image", "missing required arguments: path found in build"))?,
        dockerfile: a.str("dockerfile")?,
        args,
        pull: a.bool("pull", false)?,
        nocache: a.bool("nocache", false)?,
        target: a.str("target")?,
        platform: a.str("platform")?,
        network: a.str("network")?,
    })
}

/// Reads the image: stdout is `docker image inspect`'s JSON; a missing image prints nothing and
/// exits 0, any other failure keeps docker's exit code and message.
const READ: &str = r#"out=$(docker image inspect "$1" 2>&1) && { printf '%s\n' "$out"; exit 0; }
rc=$?
case $out in *"No such image"*|*"no such image"*) exit 0;; esac
printf '%s\n' "$out" >&2
exit "$rc"
"#;

/// `$1` action (pull/build/rmi), `$2` reference, then the action's docker arguments. Progress
/// goes to stderr; on success stdout is the image's inspect JSON (nothing after `rmi`).
const APPLY: &str = r#"act=$1; ref=$2; shift 2
case $act in
  pull) docker pull "$@" "$ref" >&2 || exit $? ;;
  build) docker build "$@" >&2 || exit $? ;;
  rmi) docker rmi "$@" "$ref" >&2 || exit $?; exit 0 ;;
esac
docker image inspect "$ref"
"#;

/// Runs `community.docker.docker_image`.
///
/// Result: `image` (the inspect data of the image: `Id`, `RepoTags`, `RepoDigests`, ...; `{}`
/// when absent), `actions` (community.docker's strings: "Pulled image R", "Built image R from
/// PATH", "Removed image R"), `stdout` after a build.
/// - present + exists (and not `force_source`): ok.
/// - present + missing + `source: pull`: `docker pull` (changed); with `force_source` it pulls
///   and is changed only when the image ID changed. A failing pull fails with docker's message.
/// - present + missing + `source: local`: fails "Cannot find the image R locally: it is not
///   present and source is local".
/// - present + `source: build`: `docker build -t R` when missing or forced.
/// - present without `source`: only reports the image (community.docker does the same).
/// - absent: `docker rmi R` when present (changed; `force_absent` adds `--force`).
///
/// Check mode predicts from the inspect read alone. Errors: bad arguments
/// ([`ModuleError::BadArgs`]), a broken connection.
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<ImageWork>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let name = a.req_str("name")?;
    let tag = a.str("tag")?;
    let state = a.choice("state")?.unwrap_or_else(|| "present".into());
    let source = a.choice("source")?;
    if source.as_deref() == Some("load") {
        return Err(bad(
            "docker_image",
            "source: load is not supported by talon; copy the archive and run `docker load` with command",
        ));
    }
    let force_source = a.bool("force_source", false)?;
    let force_absent = a.bool("force_absent", false)?;
    let build = match a.value("build") {
        Some(v) => Some(parse_build(v)?),
        None => None,
    };
    let platform = match a.value("pull") {
        Some(Value::Object(m)) => {
            if let Some(k) = m.keys().find(|k| k.as_str() != "platform") {
                return Err(bad(
                    "docker_image",
                    format!("pull.{k} is not supported (only platform)"),
                ));
            }
            Args::with_spec("docker_image", &PULL_SPEC, m)?.str("platform")?
        }
        Some(_) => {
            return Err(bad(
                "docker_image",
                "pull must be a mapping (pull: {platform: ...})",
            ));
        }
        None => None,
    };
    let r = ImageRef::parse(&name, tag.as_deref()).map_err(|e| bad("docker_image", e))?;
    let reference = r.reference();
    if state == "present" && r.is_id && matches!(source.as_deref(), Some("pull" | "build")) {
        return Err(bad(
            "docker_image",
            format!(
                "image name must not be an image ID for source={}; got: {name}",
                source.as_deref().unwrap_or_default()
            ),
        ));
    }
    if source.as_deref() == Some("build") && build.is_none() {
        return Err(bad(
            "docker_image",
            "source is build but the build option is missing",
        ));
    }

    let before = match read(ctx, &reference).await? {
        Ok(img) => img,
        Err(msg) => return Ok(Plan::Done(ModuleOutcome::failed(msg))),
    };

    let mut actions: Vec<Value> = Vec::new();
    if state == "absent" {
        let Some(_) = before else {
            return Ok(Plan::Done(result(false, None, actions)));
        };
        actions.push(format!("Removed image {reference}").into());
        let mut dargs = Vec::new();
        if force_absent {
            dargs.push("--force".to_string());
        }
        let planned = result(true, None, actions.clone());
        return Ok(Plan::Change(
            planned,
            ImageWork {
                act: "rmi",
                reference,
                dargs,
                actions,
                before: None,
            },
        ));
    }

    if before.is_some() && !force_source {
        return Ok(Plan::Done(result(false, before, actions)));
    }
    let (act, dargs, action) = match source.as_deref() {
        None => return Ok(Plan::Done(result(false, before, actions))),
        Some("local") => {
            if before.is_some() {
                return Ok(Plan::Done(result(false, before, actions)));
            }
            return Ok(Plan::Done(
                ModuleOutcome::failed(format!(
                    "Cannot find the image {reference} locally: it is not present and source is local \
                     (use source: pull or source: build to fetch it)"
                ))
                .with("actions", actions)
                .with("image", Value::Object(Map::new())),
            ));
        }
        Some("pull") => {
            let mut d = Vec::new();
            if let Some(p) = &platform {
                d.push("--platform".to_string());
                d.push(p.clone());
            }
            ("pull", d, format!("Pulled image {reference}"))
        }
        _ => {
            let b = build.unwrap_or_default();
            let mut d = vec!["-t".to_string(), reference.clone()];
            if let Some(f) = &b.dockerfile {
                // community.docker reads `dockerfile` relative to `path`; docker relative to cwd.
                let file = if f.starts_with('/') {
                    f.clone()
                } else {
                    format!("{}/{f}", b.path.trim_end_matches('/'))
                };
                d.extend(["-f".to_string(), file]);
            }
            for (k, v) in &b.args {
                d.extend(["--build-arg".to_string(), format!("{k}={v}")]);
            }
            if b.pull {
                d.push("--pull".into());
            }
            if b.nocache {
                d.push("--no-cache".into());
            }
            for (flag, v) in [
                ("--target", &b.target),
                ("--platform", &b.platform),
                ("--network", &b.network),
            ] {
                if let Some(v) = v {
                    d.extend([flag.to_string(), v.clone()]);
                }
            }
            d.extend(["--".to_string(), b.path.clone()]);
            ("build", d, format!("Built image {reference} from {}", b.path))
        }
    };
    actions.push(action.into());
    let planned = result(true, before.clone(), actions.clone());
    Ok(Plan::Change(
        planned,
        ImageWork {
            act,
            reference,
            dargs,
            actions,
            before,
        },
    ))
}

/// Applies a [`plan`]: removes, pulls or builds the image and reads it back.
pub async fn apply(
    w: ImageWork,
    _planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let ImageWork {
        act,
        reference,
        dargs,
        actions,
        before,
    } = w;
    if act == "rmi" {
        return match run_action(ctx, "rmi", &reference, dargs).await? {
            Ok(_) => Ok(result(true, None, actions)),
            Err(msg) => Ok(ModuleOutcome::failed(format!(
                "Error removing image {reference} - {msg}"
            ))),
        };
    }
    match run_action(ctx, act, &reference, dargs).await? {
        Ok((after, log)) => {
            let id = |v: &Option<Value>| v.as_ref().and_then(|i| i.get("Id")).cloned();
            let changed = before.is_none() || id(&before) != id(&after);
            let mut o = result(changed, after, actions);
            if act == "build" {
                o = o.with("stdout", log);
            }
            Ok(o)
        }
        Err(msg) => {
            let what = if act == "pull" { "pulling" } else { "building" };
            Ok(
                ModuleOutcome::failed(format!("Error {what} image {reference} - {msg}"))
                    .with("actions", actions),
            )
        }
    }
}

/// What a [`plan`] of `docker_image` found to do: the docker action (`rmi`, `pull`, `build`),
/// its arguments, the actions to report, and the image before.
#[derive(Debug)]
pub struct ImageWork {
    act: &'static str,
    reference: String,
    dargs: Vec<String>,
    actions: Vec<Value>,
    before: Option<Value>,
}

fn result(changed: bool, image: Option<Value>, actions: Vec<Value>) -> ModuleOutcome {
    ModuleOutcome::changed(changed)
        .with("image", image.unwrap_or_else(|| Value::Object(Map::new())))
        .with("actions", actions)
}

/// The first element of `docker image inspect`'s JSON array.
fn first_image(stdout: &str) -> Result<Option<Value>, String> {
    if stdout.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(stdout) {
        Ok(Value::Array(mut v)) if !v.is_empty() => Ok(Some(v.swap_remove(0))),
        Ok(_) => Ok(None),
        Err(e) => Err(format!("cannot read `docker image inspect` output: {e}")),
    }
}

/// One round trip: the image's inspect data, `None` when missing, `Err(message)` when docker
/// failed (daemon down, no permission, no docker).
async fn read(
    ctx: &ModuleContext<'_>,
    reference: &str,
) -> Result<Result<Option<Value>, String>, ModuleError> {
    let out = run_script(ctx, READ, &[reference.to_string()], None).await?;
    if !out.status.success() {
        return Ok(Err(docker_error(&out.stderr_str(), &out.status.to_string())));
    }
    Ok(first_image(&out.stdout_str()))
}

/// One round trip: runs `docker <act>` and reads the image again. `Ok((image, log))` with the
/// docker output as log, or `Err(message)`.
async fn run_action(
    ctx: &ModuleContext<'_>,
    act: &str,
    reference: &str,
    dargs: Vec<String>,
) -> Result<Result<(Option<Value>, String), String>, ModuleError> {
    let mut script_args = vec![act.to_string(), reference.to_string()];
    script_args.extend(dargs);
    let out = run_script(ctx, APPLY, &script_args, None).await?;
    let log = out.stderr_str().trim_end().to_string();
    if !out.status.success() {
        return Ok(Err(docker_error(&log, &out.status.to_string())));
    }
    Ok(first_image(&out.stdout_str()).map(|img| (img, log)))
}

/// Docker's message, or a hint when the CLI is missing.
fn docker_error(stderr: &str, status: &str) -> String {
    let s = stderr.trim();
    if s.contains("docker: not found") || s.contains("docker: command not found") {
        return "the docker CLI is not installed on the host (or not in PATH)".into();
    }
    if s.is_empty() {
        format!("docker failed ({status})")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(n: &str, t: Option<&str>) -> String {
        ImageRef::parse(n, t).unwrap().reference()
    }

    #[test]
    fn references_like_docker() {
        assert_eq!(p("nginx", None), "nginx:latest");
        assert_eq!(p("nginx", Some("1.25")), "nginx:1.25");
        assert_eq!(p("nginx:1.24", Some("1.25")), "nginx:1.24");
        assert_eq!(p("localhost:5000/a/b", None), "localhost:5000/a/b:latest");
        assert_eq!(p("localhost:5000/a/b:2", None), "localhost:5000/a/b:2");
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(p(&format!("r/x@{d}"), Some("9")), format!("r/x@{d}"));
        assert_eq!(p(&format!("reg:1/x:3@{d}"), None), format!("reg:1/x:3@{d}"));
        let r = ImageRef::parse(d, None).unwrap();
        assert!(r.is_id);
        assert_eq!(r.reference(), d);
        assert!(ImageRef::parse("0123456789ab", None).unwrap().is_id);
        assert!(ImageRef::parse("-x", None).is_err());
        assert!(ImageRef::parse("a b", None).is_err());
        assert!(ImageRef::parse("x@nodigest", None).is_err());
        assert!(ImageRef::parse("x:", None).is_err());
    }

    #[test]
    fn inspect_output_first_element() {
        let v = first_image(r#"[{"Id":"sha256:1","RepoTags":["a:1"]}]"#)
            .unwrap()
            .unwrap();
        assert_eq!(v["Id"], "sha256:1");
        assert_eq!(first_image("").unwrap(), None);
        assert!(first_image("nope").is_err());
    }
}
