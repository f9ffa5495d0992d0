//! `docker_image` and `docker_compose` against this machine's real Docker engine. A tiny image
//! `talon-test/app:1` (FROM the lab base image, `sleep infinity`) is built once; every test uses
//! its own tags and Compose project names and removes them in a `Drop` guard. Assertions read
//! the engine's state back with the `docker` CLI, not the module's own report.
//!
//! `docker_image` runs through a local connection (`ansible_connection: local`). Every
//! `docker_compose` scenario runs twice, once per Compose flavour, each on its own `--docker`
//! lab host over SSH: v1 is the lab image's `docker-compose` 1.29; v2 is the `docker compose`
//! 2.26 plugin from Debian's package, installed by `common::compose_v2` with v1 removed, so the
//! module's own detection must pick it. Project folders live in the host's shared folder, so
//! bind mounts resolve for the shared engine.
//!
//! Needs: Docker, the `talon-lab-base:bookworm` image (`talon lab image`), `curl` and
//! `dpkg-deb` (Compose v2 from deb.debian.org, cached under the target dir;
//! `TALON_TEST_COMPOSE_V2=skip` skips v2 when offline). The digest and pulled tests need
//! `docker-registry` (Debian package) for a real registry; without it they say so and return.
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

/// Which Compose a [`ComposeHost`] has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// `docker-compose` 1.29 (Debian bookworm's package, in the lab image with extras).
    V1,
    /// The `docker compose` 2.26 plugin (Debian trixie's package), v1 removed.
    V2,
}

impl Flavor {
    fn name(self) -> &'static str {
        match self {
            Flavor::V1 => "v1",
            Flavor::V2 => "v2",
        }
    }
}

/// A `--docker` lab host (this machine's engine through its socket) that has exactly one
/// Compose, driven by the module over a real SSH connection. Every result must name that
/// flavour.
struct ComposeHost {
    lab: common::Lab,
    env: Env,
    flavor: Flavor,
}

impl ComposeHost {
    /// None when Compose v2 cannot be had and `TALON_TEST_COMPOSE_V2=skip` says to skip.
    async fn up(flavor: Flavor) -> Option<ComposeHost> {
        ensure_app_image();
        let lab = common::Lab::up_with(1, &["--docker"]);
        match flavor {
            Flavor::V1 => {
                assert!(
                    !lab.sh("lab1", "docker compose version").status.success(),
                    "the lab image must not have Compose v2"
                );
                lab.sh_ok("lab1", "docker-compose version --short");
            }
            Flavor::V2 => common::compose_v2::install(&lab, "lab1")?,
        }
        let env = Env::with_connection(lab.connect("lab1").await, "lab1");
        Some(ComposeHost { lab, env, flavor })
    }

    /// Runs the module (as `module`, one of its names) and asserts it did not fail and
    /// reported `changed` as expected.
    async fn expect(
        &self,
        module: &str,
        args: Value,
        check: bool,
        changed: bool,
    ) -> talon::modules::ModuleOutcome {
        let o = self.run(module, args, check).await;
        assert!(
            o.changed == changed && !o.failed,
            "expected changed={changed}: {o:?}"
        );
        o
    }

    async fn run(&self, module: &str, args: Value, check: bool) -> talon::modules::ModuleOutcome {
        let o = self.env.run(module, args, check).await;
        if let Some(f) = o.result.get("compose_flavor") {
            assert_eq!(f, &json!(self.flavor.name()), "{o:?}");
        }
        o
    }

    /// A project folder in the host's shared folder (same path on the controller, in the host
    /// and for the engine, so relative bind mounts resolve).
    fn project(&self, compose: &str) -> Project {
        let shared = self.lab.shared_dir("lab1");
        let dir = tempfile::Builder::new()
            .prefix("proj-")
            .tempdir_in(shared)
            .unwrap();
        std::fs::write(dir.path().join("docker-compose.yml"), compose).unwrap();
        Project {
            dir,
            name: unique("talontest"),
        }
    }
}

/// Brings up a [`ComposeHost`] or returns from the test (v2 skipped on request).
macro_rules! compose_host {
    ($flavor:expr) => {
        match ComposeHost::up($flavor).await {
            Some(h) => h,
            None => return,
        }
    };
}

/// One test per Compose flavour for each scenario below.
macro_rules! per_flavor {
    ($($scenario:ident => $v1:ident, $v2:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $v1() {
            $scenario(Flavor::V1).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $v2() {
            $scenario(Flavor::V2).await
        }
    )*};
}

per_flavor! {
    compose_lifecycle => compose_v1_lifecycle_is_idempotent_and_precise, compose_v2_lifecycle_is_idempotent_and_precise;
    compose_config_change => compose_v1_config_change_recreates, compose_v2_config_change_recreates;
    compose_bind_mount_change => compose_v1_bind_mounted_file_needs_force_recreate, compose_v2_bind_mounted_file_needs_force_recreate;
    compose_pulled => compose_v1_pulled_reports_new_images_only, compose_v2_pulled_reports_new_images_only;
    compose_errors => compose_v1_errors_are_clear, compose_v2_errors_are_clear;
}

/// A Compose project in a temp dir, taken down when dropped (through the engine directly, by
/// the project label, whatever Compose made it).
struct Project {
    dir: tempfile::TempDir,
    name: String,
}

impl Project {
    fn src(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    fn args(&self, extra: Value) -> Value {
        let mut v = json!({"project_src": self.src(), "project_name": self.name});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
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
        let label = format!("label=com.docker.compose.project={}", self.name);
        for (list, rm) in [
            (["ps", "-a", "-q"].as_slice(), ["rm", "-f", "-v"].as_slice()),
            (&["network", "ls", "-q"], &["network", "rm"]),
            (&["volume", "ls", "-q"], &["volume", "rm", "-f"]),
        ] {
            let mut cmd = vec!["docker"];
            cmd.extend_from_slice(list);
            cmd.extend(["--filter", &label]);
            let (_, ids) = sh(&cmd);
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut cmd = vec!["docker"];
                cmd.extend_from_slice(rm);
                cmd.extend(ids);
                let _ = sh(&cmd);
            }
        }
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

async fn compose_lifecycle(flavor: Flavor) {
    let h = compose_host!(flavor);
    let p = h.project(TWO);
    let base = p.args(json!({}));

    // Restart before anything exists: ok, nothing to restart, no error (v1 would fail).
    let o = h
        .expect(
            "docker_compose",
            p.args(json!({"state": "restarted", "services": ["web"]})),
            false,
            false,
        )
        .await;
    assert_eq!(o.result["compose_flavor"], flavor.name());

    // Check mode before the first up: predicts, creates nothing.
    h.expect("community.docker.docker_compose_v2", base.clone(), true, true)
        .await;
    assert!(p.containers().is_empty());

    let o = h
        .expect("community.docker.docker_compose_v2", base.clone(), false, true)
        .await;
    let cs = p.containers();
    assert_eq!(cs.len(), 2, "{cs:?}");
    assert!(cs.iter().all(|c| c.2), "all running: {cs:?}");
    assert_eq!(o.result["containers"].as_array().unwrap().len(), 2);
    assert_eq!(o.result["containers"][0]["Service"], "web");
    assert_eq!(o.result["containers"][0]["State"], "running");
    let acts = o.result["actions"].as_array().unwrap();
    assert!(acts.iter().any(|a| a["status"] == "Creating"), "{acts:?}");

    // Second up: nothing changes, in check mode nor for real.
    h.expect("docker_compose_v2", base.clone(), true, false).await;
    h.expect("docker_compose_v2", base.clone(), false, false).await;
    assert_eq!(p.containers(), cs);

    // Restart of a service in a profile that never ran: ok, unchanged.
    h.expect(
        "docker_compose",
        p.args(json!({"state": "restarted", "services": ["later"]})),
        false,
        false,
    )
    .await;

    // Restart of an existing one: changed, same container, new start time.
    let started = |id: &str| sh(&["docker", "inspect", "-f", "{{.State.StartedAt}}", id]).1;
    let web = p.id("web").unwrap();
    let worker = p.id("worker").unwrap();
    let (web_t0, worker_t0) = (started(&web), started(&worker));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let o = h
        .expect(
            "docker_compose",
            p.args(json!({"state": "restarted", "services": ["web"]})),
            false,
            true,
        )
        .await;
    assert_eq!(o.result["actions"][0]["status"], "Restarting");
    assert_eq!(p.id("web").unwrap(), web);
    assert_ne!(started(&web), web_t0, "web restarted");
    assert_eq!(started(&worker), worker_t0, "worker untouched");

    // Force-recreate one service: only its container id changes.
    let o = h
        .expect(
            "docker_compose",
            p.args(json!({"state": "present", "services": ["worker"], "recreate": "always"})),
            false,
            true,
        )
        .await;
    assert_eq!(p.id("web").unwrap(), web, "web kept");
    let worker2 = p.id("worker").unwrap();
    assert_ne!(worker2, worker, "worker recreated");
    assert_eq!(o.result["actions"][0]["status"], "Recreating");

    // Stopped, twice; a subset first.
    h.expect(
        "docker_compose",
        p.args(json!({"state": "stopped", "services": ["web"]})),
        false,
        true,
    )
    .await;
    let cs = p.containers();
    assert!(!cs[0].2 && cs[1].2, "only web stopped: {cs:?}");
    let o = h
        .expect("docker_compose", p.args(json!({"state": "stopped"})), false, true)
        .await;
    assert_eq!(o.result["actions"].as_array().unwrap().len(), 1, "{o:?}");
    assert!(p.containers().iter().all(|c| !c.2));
    h.expect(
        "docker_compose",
        p.args(json!({"state": "stopped"})),
        false,
        false,
    )
    .await;
    // present starts them again, same containers.
    h.expect("docker_compose", base.clone(), false, true).await;
    assert_eq!(p.id("worker").unwrap(), worker2);
    assert!(p.containers().iter().all(|c| c.2));
    h.expect("docker_compose", base.clone(), false, false).await;

    // absent of a subset: only that service's container goes; again: unchanged.
    h.expect(
        "docker_compose",
        p.args(json!({"state": "absent", "services": ["worker"]})),
        false,
        true,
    )
    .await;
    assert_eq!(p.containers().len(), 1);
    assert_eq!(p.id("web").unwrap(), web);
    h.expect(
        "docker_compose",
        p.args(json!({"state": "absent", "services": ["worker"]})),
        false,
        false,
    )
    .await;
    // Restart of a service whose container is gone: ok, unchanged.
    h.expect(
        "docker_compose",
        p.args(json!({"state": "restarted", "services": ["worker"]})),
        false,
        false,
    )
    .await;
    let o = h.run("docker_compose", base.clone(), false).await;
    assert!(o.changed && !o.failed, "worker created again: {o:?}");
    assert_eq!(p.containers().len(), 2);

    // absent: check mode keeps everything; real run removes everything; then unchanged.
    h.expect("docker_compose", p.args(json!({"state": "absent"})), true, true)
        .await;
    assert_eq!(p.containers().len(), 2);
    let o = h
        .expect("docker_compose", p.args(json!({"state": "absent"})), false, true)
        .await;
    assert!(p.containers().is_empty());
    assert_eq!(o.result["containers"], json!([]));
    let (_, nets) = sh(&[
        "docker",
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={}", p.name),
    ]);
    assert!(nets.trim().is_empty(), "down removes the network: {nets}");
    h.expect("docker_compose", p.args(json!({"state": "absent"})), false, false)
        .await;
}

async fn compose_config_change(flavor: Flavor) {
    let h = compose_host!(flavor);
    let p = h.project("services:\n  web:\n    image: talon-test/app:1\n");
    let base = p.args(json!({}));
    h.expect("docker_compose", base.clone(), false, true).await;
    let id = p.id("web").unwrap();

    std::fs::write(
        p.dir.path().join("docker-compose.yml"),
        "services:\n  web:\n    image: talon-test/app:1\n    environment:\n      A: \"1\"\n",
    )
    .unwrap();
    let o = h.run("docker_compose", base.clone(), true).await;
    assert!(o.changed && !o.failed, "the config hash differs: {o:?}");
    assert_eq!(o.result["actions"][0]["status"], "Recreating");
    assert_eq!(p.id("web").unwrap(), id, "check mode changed nothing");

    let o = h
        .run("docker_compose", p.args(json!({"recreate": "never"})), false)
        .await;
    assert!(!o.changed && !o.failed, "recreate: never keeps it: {o:?}");
    h.expect("docker_compose", base.clone(), false, true).await;
    assert_ne!(p.id("web").unwrap(), id);
    h.expect("docker_compose", base.clone(), false, false).await;
}

/// A bind-mounted file replaced the way talon writes files (a rename): Compose cannot see it,
/// the container keeps the old inode, and only a force-recreate of that service applies it
/// (what the stack's handlers do).
async fn compose_bind_mount_change(flavor: Flavor) {
    let h = compose_host!(flavor);
    let p = h.project(
        "services:\n  web:\n    image: talon-test/app:1\n    volumes:\n      - ./app.conf:/etc/app.conf:ro\n  \
         worker:\n    image: talon-test/app:1\n",
    );
    let conf = p.dir.path().join("app.conf");
    std::fs::write(&conf, "version=1\n").unwrap();
    h.expect("docker_compose", p.args(json!({})), false, true).await;
    let (web, worker) = (p.id("web").unwrap(), p.id("worker").unwrap());
    let seen = |id: &str| sh(&["docker", "exec", id, "cat", "/etc/app.conf"]).1;
    assert_eq!(seen(&web), "version=1\n");

    let tmp = p.dir.path().join(".app.conf.tmp");
    std::fs::write(&tmp, "version=2\n").unwrap();
    std::fs::rename(&tmp, &conf).unwrap();
    assert_eq!(seen(&web), "version=1\n", "the container still has the old file");
    let o = h.run("docker_compose", p.args(json!({})), false).await;
    assert!(
        !o.changed && !o.failed,
        "Compose cannot see the file change: {o:?}"
    );

    let handler = p.args(json!({"services": ["web"], "recreate": "always"}));
    h.expect("docker_compose", handler.clone(), true, true).await;
    assert_eq!(p.id("web").unwrap(), web, "check mode changed nothing");
    let o = h.expect("docker_compose", handler, false, true).await;
    let statuses: Vec<&str> = o.result["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["Recreating", "Starting"], "{o:?}");
    let web2 = p.id("web").unwrap();
    assert_ne!(web2, web);
    assert_eq!(p.id("worker").unwrap(), worker, "worker untouched");
    assert_eq!(seen(&web2), "version=2\n");
    h.expect("docker_compose", p.args(json!({})), false, false).await;
}

/// `state: pulled` against a throwaway registry on 127.0.0.1 (the engine pulls from it):
/// changed when the project's image arrives, unchanged on the next pull.
async fn compose_pulled(flavor: Flavor) {
    let h = compose_host!(flavor);
    let Some(reg) = Registry::start() else {
        eprintln!("SKIPPED: /usr/bin/docker-registry is missing (apt-get install docker-registry)");
        return;
    };
    let image = format!("127.0.0.1:{}/talon/{}:1", reg.port, unique("pl"));
    let _g = Tags(vec![image.clone()]);
    assert!(sh(&["docker", "tag", APP, &image]).0);
    let (ok, out) = sh(&["docker", "push", &image]);
    assert!(ok, "{out}");
    assert!(sh(&["docker", "rmi", &image]).0);
    let p = h.project(&format!(
        "services:\n  web:\n    image: {image}\n  local:\n    image: talon-test/app:1\n"
    ));

    let pulled = p.args(json!({"state": "pulled", "services": ["web"]}));
    h.expect("docker_compose", pulled.clone(), false, true).await;
    assert_eq!(image_id(&image), image_id(APP), "pulled from the registry");
    assert!(p.containers().is_empty(), "pulled creates no container");
    let o = h.run("docker_compose", pulled, false).await;
    assert!(!o.changed && !o.failed, "nothing new to pull: {o:?}");
}

async fn compose_errors(flavor: Flavor) {
    let h = compose_host!(flavor);
    let o = h
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

    let p = h.project("services:\n  web:\n    image: talon-test/app:1\n    bogus_key: 1\n");
    let o = h.run("docker_compose", p.args(json!({})), false).await;
    assert!(o.failed, "{o:?}");
    assert!(
        o.msg.as_deref().unwrap().contains("bogus_key"),
        "Compose's reason is kept: {o:?}"
    );

    // A service whose image cannot be had: up fails, nothing claimed as changed beyond reality.
    let p = h.project("services:\n  web:\n    image: talon-test/missing-image:0\n    pull_policy: never\n");
    let o = h.run("docker_compose", p.args(json!({})), false).await;
    assert!(o.failed, "{o:?}");
    assert!(o.result.contains_key("rc"));
    assert!(p.containers().is_empty());

    // Features only v2 has: a clear failure on v1, honoured on v2.
    let p = h.project("services:\n  web:\n    image: talon-test/app:1\n");
    let o = h
        .run(
            "docker_compose",
            p.args(json!({"wait": true, "pull": "never"})),
            false,
        )
        .await;
    match flavor {
        Flavor::V1 => {
            assert!(o.failed && o.msg.as_deref().unwrap().contains("v2"), "{o:?}");
            assert!(p.containers().is_empty());
        }
        Flavor::V2 => {
            assert!(o.changed && !o.failed, "{o:?}");
            assert!(p.containers()[0].2);
        }
    }
}
