//! Compose v2 for tests: the `docker compose` CLI plugin from Debian's own package
//! (trixie's `docker-compose` 2.26.1-4, which needs only libc6 >= 2.34 and so runs on bookworm
//! lab hosts), downloaded once from deb.debian.org, checked against the SHA-256 of trixie's
//! `Packages` index, cached under the target dir, and installed into a lab host.
//!
//! Unreachable registry: the test fails with a message saying so (CI reaches deb.debian.org).
//! `TALON_TEST_COMPOSE_V2=skip` turns that into a skip, for offline machines: [`plugin`]
//! returns None and the caller prints SKIPPED.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::{Lab, text};

/// Debian's package (pool path of trixie's `docker-compose`, version 2.26.1-4).
pub const DEB_URL: &str =
    "http://deb.debian.org/debian/pool/main/d/docker-compose/docker-compose_2.26.1-4_amd64.deb";
/// SHA-256 of [`DEB_URL`], from trixie's `main/binary-amd64/Packages`.
pub const DEB_SHA256: &str = "47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea";
/// What `docker compose version --short` answers with the plugin installed.
pub const VERSION: &str = "2.26.1";
/// Where the package puts the plugin (the Docker CLI's system plugin folder), on the host too.
pub const PLUGIN_PATH: &str = "/usr/libexec/docker/cli-plugins/docker-compose";

/// The verified plugin binary on the controller (downloaded and extracted on first use, under
/// `$CARGO_TARGET_TMPDIR/compose-v2/`). None only when `TALON_TEST_COMPOSE_V2=skip` and the
/// download failed; otherwise a failure panics naming the URL and what to do.
pub fn plugin() -> Option<PathBuf> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compose-v2");
    fs::create_dir_all(&dir).unwrap();
    // Test binaries run at the same time: one downloads, the others wait.
    let lock = fs::File::create(dir.join(".lock")).unwrap();
    lock.lock().unwrap();
    let bin = dir.join("docker-compose");
    if bin.is_file() {
        return Some(bin);
    }
    let deb = dir.join("docker-compose_2.26.1-4_amd64.deb");
    let verified = |p: &PathBuf| fs::read(p).is_ok_and(|b| hex::encode(Sha256::digest(&b)) == DEB_SHA256);
    if !verified(&deb) {
        let part = dir.join("download.part");
        let out = Command::new("curl")
            .args(["-fsSL", "--retry", "3", "--connect-timeout", "20", "-o"])
            .arg(&part)
            .arg(DEB_URL)
            .output();
        let failure = match out {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(format!("curl: {} {}", o.status, text(&o.stderr).trim())),
            Err(e) => Some(format!("curl could not run ({e}); apt-get install curl")),
        };
        if let Some(why) = failure {
            if std::env::var("TALON_TEST_COMPOSE_V2").as_deref() == Ok("skip") {
                eprintln!("SKIPPED Compose v2: downloading {DEB_URL} failed: {why}");
                return None;
            }
            panic!(
                "Compose v2 is needed for these tests and is downloaded from Debian: {DEB_URL} \
                 failed: {why}. Make deb.debian.org reachable, or set TALON_TEST_COMPOSE_V2=skip \
                 to skip the v2 runs"
            );
        }
        assert!(
            verified(&part),
            "{DEB_URL} does not have the SHA-256 of trixie's Packages index ({DEB_SHA256}): \
             refusing to use it"
        );
        fs::rename(&part, &deb).unwrap();
    }
    let root = dir.join("root");
    let _ = fs::remove_dir_all(&root);
    let out = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "dpkg-deb -x: {}", text(&out.stderr));
    fs::rename(root.join(PLUGIN_PATH.trim_start_matches('/')), &bin).unwrap();
    let _ = fs::remove_dir_all(&root);
    Some(bin)
}

/// Installs the v2 plugin into `host` of a `--docker` lab and removes Compose v1 there
/// (`/usr/bin/docker-compose`), so that `docker compose` is v2 and nothing else answers.
/// Checks both through `docker exec`. None when [`plugin`] skipped.
pub fn install(lab: &Lab, host: &str) -> Option<()> {
    let bin = plugin()?;
    let container = lab.container(host);
    lab.sh_ok(
        host,
        "mkdir -p /usr/libexec/docker/cli-plugins && rm -f /usr/bin/docker-compose",
    );
    let out = Command::new("docker")
        .arg("cp")
        .arg(&bin)
        .arg(format!("{container}:{PLUGIN_PATH}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "docker cp: {}", text(&out.stderr));
    let version = lab.sh_ok(host, "docker compose version --short");
    assert!(version.trim().starts_with(VERSION), "{version}");
    assert!(
        !lab.sh(host, "command -v docker-compose").status.success(),
        "Compose v1 must be gone from {host}"
    );
    Some(())
}
