//! `docker_image` and `docker_compose` against this machine's real Docker engine, through a
//! local connection (`ansible_connection: local`). A tiny image `talon-test/app:1` (FROM the lab
//! base image, `sleep infinity`) is built once; every test uses its own tags and Compose project
//! names and removes them in a `Drop` guard. Assertions read the engine's state back with the
//! `docker` CLI, not the module's own report.
//!
//! Needs: Docker, the `talon-lab-base:bookworm` image (`talon lab image`), and a Compose (v1
//! `docker-compose` or the v2 plugin). The digest test needs `docker-registry` (Debian package)
//! to get a real repo digest; without it that test says so and returns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};

const APP: &str = "talon-test/app:1";

mod common;

use common::local::LocalEnv as Env;

fn sh(args: &[&str]) -> (bool, String) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn image_id(reference: &str) -> Option<String> {
    let (ok, out) = sh(&["docker", "image", "inspect", "-f", "{{.Id}}", reference]);
    ok.then(|| out.trim().to_string())
}

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Builds `talon-test/app:1` once per test binary (tests run in parallel).
fn ensure_app_image() {
    static BUILT: Mutex<bool> = Mutex::new(false);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if *built {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM talon-lab-base:bookworm\nSTOPSIGNAL SIGKILL\nCMD [\"sleep\", \"infinity\"]\n",
    )
    .unwrap();
    let out = Command::new("docker")
        .args(["build", "-q", "-t", APP])
        .arg(dir.path())
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    *built = true;
}

/// Removes image tags when dropped.
struct Tags(Vec<String>);
impl Drop for Tags {
    fn drop(&mut self) {
        for t in &self.0 {
            let _ = sh(&["docker", "rmi", "-f", t]);
        }
    }
}

#[tokio::test]
async fn image_local_present_absent_and_check_mode() {
    ensure_app_image();
    let e = Env::new();
    let tag = format!("talon-test/{}:x", unique("img"));
    let _g = Tags(vec![tag.clone()]);
    assert!(sh(&["docker", "tag", APP, &tag]).0);

    let o = e
        .run(
            "community.docker.docker_image",
            json!({"name": tag, "source": "local"}),
            false,
        )
        .await;
    assert!(!o.changed && !o.failed, "{o:?}");
    assert_eq!(o.result["image"]["Id"].as_str(), image_id(APP).as_deref());
    assert!(
        o.result["image"]["RepoTags"]
            .as_array()
            .unwrap()
            .contains(&json!(tag))
    );
    assert_eq!(o.result["actions"], json!([]));

    // name + separate tag.
    let (repo, t) = tag.split_once(':').unwrap();
    let o = e
        .run(
            "docker_image",
            json!({"name": repo, "tag": t, "source": "local"}),
            false,
        )
        .await;
    assert!(!o.changed && !o.failed, "{o:?}");

    // absent in check mode: predicted, nothing removed.
    let o = e
        .run("docker_image", json!({"name": tag, "state": "absent"}), true)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert!(image_id(&tag).is_some());

    let o = e
        .run("docker_image", json!({"name": tag, "state": "absent"}), false)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert_eq!(o.result["actions"], json!([format!("Removed image {tag}")]));
    assert!(image_id(&tag).is_none(), "tag removed");
    assert!(image_id(APP).is_some(), "other tags of the same image stay");

    let o = e
        .run("docker_image", json!({"name": tag, "state": "absent"}), false)
        .await;
    assert!(!o.changed && !o.failed, "{o:?}");

    // local source, image missing: a clear failure.
    let o = e
        .run("docker_image", json!({"name": tag, "source": "local"}), false)
        .await;
    assert!(o.failed, "{o:?}");
    let msg = o.msg.unwrap();
    assert!(msg.contains(&tag) && msg.contains("source is local"), "{msg}");
}

#[tokio::test]
async fn image_pull_without_registry_fails_with_docker_message() {
    let e = Env::new();
    let name = format!("talon-test/{}:1", unique("nopull"));
    let o = e
        .run("docker_image", json!({"name": name, "source": "pull"}), true)
        .await;
    assert!(o.changed && !o.failed, "check mode predicts the pull: {o:?}");
    assert_eq!(o.result["actions"], json!([format!("Pulled image {name}")]));

    let started = std::time::Instant::now();
    let o = e
        .run("docker_image", json!({"name": name, "source": "pull"}), false)
        .await;
    assert!(o.failed && !o.changed, "{o:?}");
    let msg = o.msg.unwrap();
    assert!(
        msg.starts_with(&format!("Error pulling image {name} - ")),
        "{msg}"
    );
    assert!(
        msg.len() > format!("Error pulling image {name} - ").len(),
        "docker's reason is kept"
    );
    assert!(started.elapsed().as_secs() < 60);
    assert!(image_id(&name).is_none());
}

#[tokio::test]
async fn image_build_source_builds_once() {
    ensure_app_image();
    let e = Env::new();
    let tag = format!("talon-test/{}:b", unique("built"));
    let _g = Tags(vec![tag.clone()]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Custom.df"),
        format!("FROM {APP}\nARG X\nRUN echo \"$X\" > /x\n"),
    )
    .unwrap();
    let args = json!({
        "name": tag, "source": "build",
        "build": {"path": dir.path().to_str().unwrap(), "dockerfile": "Custom.df", "args": {"X": "a b;c"}}
    });
    let o = e.run("docker_image", args.clone(), false).await;
    assert!(o.changed && !o.failed, "{o:?}");
    let id = image_id(&tag).expect("built");
    assert_eq!(o.result["image"]["Id"].as_str(), Some(id.as_str()));
    let (ok, x) = sh(&["docker", "run", "--rm", &tag, "cat", "/x"]);
    assert!(ok && x.trim() == "a b;c", "{x}");
    let o = e.run("docker_image", args, false).await;
    assert!(!o.changed && !o.failed, "{o:?}");
}

/// A digest reference needs a repo digest, which only a registry gives: push to a throwaway
/// `docker-registry` on 127.0.0.1 (Docker trusts loopback registries without TLS).
#[tokio::test]
async fn image_digest_reference() {
    ensure_app_image();
    let e = Env::new();
    // Without a registry: a digest that is not there is absent (ok) and local fails clearly.
    let bogus = format!("talon-test/app@sha256:{}", "0".repeat(64));
    let o = e
        .run("docker_image", json!({"name": bogus, "state": "absent"}), false)
        .await;
    assert!(!o.changed && !o.failed, "{o:?}");
    let o = e
        .run("docker_image", json!({"name": bogus, "source": "local"}), false)
        .await;
    assert!(o.failed && o.msg.as_deref().unwrap().contains(&bogus), "{o:?}");

    let Some(reg) = Registry::start() else {
        eprintln!(
            "SKIPPED the registry part: /usr/bin/docker-registry is missing (apt-get install docker-registry)"
        );
        return;
    };
    let repo = format!("127.0.0.1:{}/talon/{}", reg.port, unique("dg"));
    let tagged = format!("{repo}:1");
    let _g = Tags(vec![tagged.clone()]);
    assert!(sh(&["docker", "tag", APP, &tagged]).0);
    let (ok, out) = sh(&["docker", "push", &tagged]);
    assert!(ok, "{out}");
    let (_, digests) = sh(&[
        "docker",
        "image",
        "inspect",
        "-f",
        "{{json .RepoDigests}}",
        &tagged,
    ]);
    let digests: Vec<String> = serde_json::from_str(digests.trim()).unwrap();
    let by_digest = digests.iter().find(|d| d.starts_with(&repo)).unwrap().clone();
    let digest = by_digest.split_once('@').unwrap().1.to_string();

    for name in [by_digest.clone(), format!("{repo}:1@{digest}")] {
        let o = e
            .run("docker_image", json!({"name": name, "source": "pull"}), false)
            .await;
        assert!(!o.changed && !o.failed, "present by digest, no pull: {o:?}");
        assert_eq!(o.result["image"]["Id"].as_str(), image_id(APP).as_deref());
    }
    // Remove locally, then pull by digest from the registry.
    assert!(sh(&["docker", "rmi", &tagged]).0);
    let o = e
        .run(
            "docker_image",
            json!({"name": by_digest, "source": "pull"}),
            false,
        )
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert!(image_id(&by_digest).is_some());
    let o = e
        .run(
            "docker_image",
            json!({"name": by_digest, "state": "absent"}),
            false,
        )
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert!(image_id(&by_digest).is_none());
}

struct Registry {
    port: u16,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Option<Registry> {
        let bin = Path::new("/usr/bin/docker-registry");
        if !bin.exists() {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.yml");
        std::fs::write(
            &cfg,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let mut child = Command::new(bin)
            .arg("serve")
            .arg(&cfg)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(Registry {
                    port,
                    child,
                    _dir: dir,
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("docker-registry did not listen on {port}");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Compose project in a temp dir, taken down when dropped.
struct Project {
    dir: tempfile::TempDir,
    name: String,
}

impl Project {
    fn new(compose: &str) -> Project {
        ensure_app_image();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("docker-compose.yml"), compose).unwrap();
        Project {
            dir,
            name: unique("talontest"),
        }
    }

    fn src(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    /// Container ids by service, and whether each runs, read from the engine.
    fn containers(&self) -> Vec<(String, String, bool)> {
        let (ok, out) = sh(&[
            "docker",
            "ps",
            "-a",
            "--no-trunc",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
            "--format",
            "{{.Label \"com.docker.compose.service\"}}\t{{.ID}}\t{{.State}}",
        ]);
        assert!(ok, "{out}");
        let mut v: Vec<(String, String, bool)> = out
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].to_string(), f[1].to_string(), f[2] == "running")
            })
            .collect();
        v.sort();
        v
    }

    fn id(&self, service: &str) -> Option<String> {
        self.containers()
            .into_iter()
            .find(|c| c.0 == service)
            .map(|c| c.1)
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let file = self.dir.path().join("docker-compose.yml");
        let file = file.to_str().unwrap();
        let v2 = sh(&["docker", "compose", "version"]).0;
        let mut cmd: Vec<&str> = if v2 {
            vec!["docker", "compose"]
        } else {
            vec!["docker-compose"]
        };
        cmd.extend(["-p", &self.name, "-f", file, "down", "-v", "--remove-orphans"]);
        let _ = sh(&cmd);
    }
}

const TWO: &str = "services:
  web:
    image: talon-test/app:1
  worker:
    image: talon-test/app:1
  later:
    image: talon-test/app:1
    profiles: [later]
";

#[tokio::test]
async fn compose_lifecycle_is_idempotent_and_precise() {
    let p = Project::new(TWO);
    let e = Env::new();
    let base = json!({"project_src": p.src(), "project_name": p.name});
    let with = |extra: Value| {
        let mut v = base.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };

    // Restart before anything exists: ok, nothing to restart, no error (v1 would fail).
    let o = e
        .run(
            "docker_compose",
            with(json!({"state": "restarted", "services": ["web"]})),
            false,
        )
        .await;
    assert!(!o.changed && !o.failed, "{o:?}");

    // Check mode before the first up: predicts, creates nothing.
    let o = e
        .run("community.docker.docker_compose_v2", base.clone(), true)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert!(p.containers().is_empty());

    let o = e
        .run("community.docker.docker_compose_v2", base.clone(), false)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    let cs = p.containers();
    assert_eq!(cs.len(), 2, "{cs:?}");
    assert!(cs.iter().all(|c| c.2), "all running: {cs:?}");
    assert_eq!(o.result["containers"].as_array().unwrap().len(), 2);
    assert_eq!(o.result["containers"][0]["Service"], "web");
    assert_eq!(o.result["containers"][0]["State"], "running");
    let acts = o.result["actions"].as_array().unwrap();
    assert!(acts.iter().any(|a| a["status"] == "Creating"), "{acts:?}");

    // Second up: nothing changes, in check mode nor for real.
    let o = e.run("docker_compose_v2", base.clone(), true).await;
    assert!(!o.changed && !o.failed, "{o:?}");
    let o = e.run("docker_compose_v2", base.clone(), false).await;
    assert!(!o.changed && !o.failed, "{o:?}");
    assert_eq!(p.containers(), cs);

    // Restart of a service in a profile that never ran: ok, unchanged.
    let o = e
        .run(
            "docker_compose",
            with(json!({"state": "restarted", "services": ["later"]})),
            false,
        )
        .await;
    assert!(!o.changed && !o.failed, "{o:?}");

    // Restart of an existing one: changed, same container, new start time.
    let started = |id: &str| sh(&["docker", "inspect", "-f", "{{.State.StartedAt}}", id]).1;
    let web = p.id("web").unwrap();
    let worker = p.id("worker").unwrap();
    let (web_t0, worker_t0) = (started(&web), started(&worker));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let o = e
        .run(
            "docker_compose",
            with(json!({"state": "restarted", "services": ["web"]})),
            false,
        )
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert_eq!(o.result["actions"][0]["status"], "Restarting");
    assert_eq!(p.id("web").unwrap(), web);
    assert_ne!(started(&web), web_t0, "web restarted");
    assert_eq!(started(&worker), worker_t0, "worker untouched");

    // Force-recreate one service: only its container id changes.
    let o = e
        .run(
            "docker_compose",
            with(json!({"state": "present", "services": ["worker"], "recreate": "always"})),
            false,
        )
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert_eq!(p.id("web").unwrap(), web, "web kept");
    let worker2 = p.id("worker").unwrap();
    assert_ne!(worker2, worker, "worker recreated");
    assert_eq!(o.result["actions"][0]["status"], "Recreating");

    // Stopped, twice.
    let o = e
        .run("docker_compose", with(json!({"state": "stopped"})), false)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert!(p.containers().iter().all(|c| !c.2));
    let o = e
        .run("docker_compose", with(json!({"state": "stopped"})), false)
        .await;
    assert!(!o.changed && !o.failed, "{o:?}");
    // present starts them again, same containers.
    let o = e.run("docker_compose", base.clone(), false).await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert_eq!(p.id("worker").unwrap(), worker2);
    assert!(p.containers().iter().all(|c| c.2));

    // absent: check mode keeps everything; real run removes everything; then unchanged.
    let o = e
        .run("docker_compose", with(json!({"state": "absent"})), true)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert_eq!(p.containers().len(), 2);
    let o = e
        .run("docker_compose", with(json!({"state": "absent"})), false)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert!(p.containers().is_empty());
    assert_eq!(o.result["containers"], json!([]));
    let o = e
        .run("docker_compose", with(json!({"state": "absent"})), false)
        .await;
    assert!(!o.changed && !o.failed, "{o:?}");
}

#[tokio::test]
async fn compose_config_change_recreates_and_check_mode_sees_it() {
    let p = Project::new("services:\n  web:\n    image: talon-test/app:1\n");
    let e = Env::new();
    let base = json!({"project_src": p.src(), "project_name": p.name});
    let o = e.run("docker_compose", base.clone(), false).await;
    assert!(o.changed && !o.failed, "{o:?}");
    let id = p.id("web").unwrap();

    std::fs::write(
        p.dir.path().join("docker-compose.yml"),
        "services:\n  web:\n    image: talon-test/app:1\n    environment:\n      A: \"1\"\n",
    )
    .unwrap();
    let o = e.run("docker_compose", base.clone(), true).await;
    assert!(o.changed && !o.failed, "the config hash differs: {o:?}");
    assert_eq!(o.result["actions"][0]["status"], "Recreating");
    assert_eq!(p.id("web").unwrap(), id, "check mode changed nothing");

    let o = e
        .run(
            "docker_compose",
            json!({"project_src": p.src(), "project_name": p.name, "recreate": "never"}),
            false,
        )
        .await;
    assert!(!o.changed && !o.failed, "recreate: never keeps it: {o:?}");
    let o = e.run("docker_compose", base.clone(), false).await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert_ne!(p.id("web").unwrap(), id);
}

#[tokio::test]
async fn compose_errors_are_clear() {
    let e = Env::new();
    let o = e
        .run(
            "docker_compose",
            json!({"project_src": "/nonexistent/talon"}),
            false,
        )
        .await;
    assert!(
        o.failed && o.msg.as_deref().unwrap().contains("/nonexistent/talon"),
        "{o:?}"
    );

    let p = Project::new("services:\n  web:\n    image: talon-test/app:1\n    bogus_key: 1\n");
    let o = e
        .run(
            "docker_compose",
            json!({"project_src": p.src(), "project_name": p.name}),
            false,
        )
        .await;
    assert!(o.failed, "{o:?}");
    assert!(
        o.msg.as_deref().unwrap().contains("bogus_key"),
        "Compose's reason is kept: {o:?}"
    );

    // A service whose image cannot be had: up fails, nothing claimed as changed beyond reality.
    let p =
        Project::new("services:\n  web:\n    image: talon-test/missing-image:0\n    pull_policy: never\n");
    let o = e
        .run(
            "docker_compose",
            json!({"project_src": p.src(), "project_name": p.name}),
            false,
        )
        .await;
    assert!(o.failed, "{o:?}");
    assert!(o.result.contains_key("rc"));
    assert!(p.containers().is_empty());
}
