//! The file modules against a real host: `ansible_connection: local` on temp dirs of this
//! machine. Each module: first run changed, second run unchanged (idempotence), check mode
//! predicts without touching the disk, diff carries content, attributes read back from the disk.
//!
//! Every test runs twice (`on_both_paths!` at the end): `shell::NAME` with the file primitives'
//! shell scripts, `sftp::NAME` with their SFTP path (a local `sftp-server` serves the
//! requests), and must give the same results on both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use talon::modules::{self, ModuleOutcome};
use talon::transport::sftp::FileTransport;
use talon::vars::Vars;

mod common;

struct Env {
    local: common::local::LocalEnv,
    dir: tempfile::TempDir,
    t: FileTransport,
}

impl Env {
    fn new(t: FileTransport) -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("play/files")).unwrap();
        std::fs::create_dir_all(dir.path().join("play/templates")).unwrap();
        let mut local = common::local::LocalEnv::new();
        local.search = vec![dir.path().join("play")];
        local.host = "web1";
        local.conn.set_file_transport(t);
        Env { local, dir, t }
    }

    /// The host commands a step costs on this test's path: `shell` on the shell path, `sftp`
    /// on the SFTP path.
    fn steps(&self, shell: u64, sftp: u64) -> u64 {
        if self.t == FileTransport::Sftp {
            sftp
        } else {
            shell
        }
    }

    fn p(&self, rel: &str) -> String {
        self.dir.path().join(rel).to_str().unwrap().to_string()
    }

    async fn run_mode(&self, module: &str, args: Value, check: bool, diff: bool) -> ModuleOutcome {
        self.local.run_mode(module, args, check, diff).await
    }

    async fn run(&self, module: &str, args: Value) -> ModuleOutcome {
        let out = self.run_mode(module, args, false, false).await;
        assert!(!out.failed, "{module} failed: {:?}", out.msg);
        out
    }
}

/// The owner the connection has learned for new files of the connecting user.
fn learned_owner(env: &Env) -> Option<talon::transport::files::FileOwner> {
    env.local
        .conn
        .learned()
        .lock()
        .unwrap()
        .new_file_owner("")
        .cloned()
}

fn mode_of(p: &str) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

async fn copy_content_idempotent_check_diff_attrs(t: FileTransport) {
    let env = Env::new(t);
    let dest = env.p("app.conf");
    let args = json!({"content": "port=1\n", "dest": dest, "mode": "0640"});
    // Check mode predicts the change and touches nothing.
    let out = env.run_mode("copy", args.clone(), true, true).await;
    assert!(out.changed && !out.failed);
    assert!(!Path::new(&dest).exists());
    assert_eq!(out.diff[0].after, "port=1\n");
    // Real run.
    let out = env.run("copy", args.clone()).await;
    assert!(out.changed);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "port=1\n");
    assert_eq!(mode_of(&dest), 0o640);
    assert_eq!(out.result["mode"], "0640");
    assert_eq!(
        out.result["checksum"],
        talon::transport::files::Checksum::Sha1.digest(b"port=1\n")
    );
    assert_eq!(out.result["size"], 7);
    // Idempotent.
    let out = env.run("copy", args.clone()).await;
    assert!(!out.changed);
    // Attribute-only change: content same, mode differs.
    let out = env
        .run_mode(
            "copy",
            json!({"content": "port=1\n", "dest": dest, "mode": "u=rw,go="}),
            false,
            true,
        )
        .await;
    assert!(out.changed);
    assert_eq!(mode_of(&dest), 0o600);
    assert!(out.diff[0].before.contains("mode: 0640"), "{:?}", out.diff);
    // Content change with diff and backup; no mode given keeps 0600.
    let out = env
        .run_mode(
            "copy",
            json!({"content": "port=2\n", "dest": dest, "backup": true}),
            false,
            true,
        )
        .await;
    assert!(out.changed);
    assert_eq!(out.diff[0].before, "port=1\n");
    assert_eq!(out.diff[0].after, "port=2\n");
    assert_eq!(mode_of(&dest), 0o600);
    let backup = out.result["backup_file"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(backup).unwrap(), "port=1\n");
    // force: false leaves a differing file alone.
    let out = env
        .run(
            "copy",
            json!({"content": "port=3\n", "dest": dest, "force": false}),
        )
        .await;
    assert!(!out.changed);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "port=2\n");
}

/// copy reports mode, owner and size of what it wrote: read back with `stat` for the first new
/// file, then from what that taught the connection, and read back again where the directory's
/// setgid bit or an existing file decides the group or owner.
async fn copy_reports_the_owner_of_new_files_read_once_then_learned(t: FileTransport) {
    let env = Env::new(t);
    let owner_of = |out: &ModuleOutcome, path: &str| {
        let md = std::fs::metadata(path).unwrap();
        assert_eq!(out.result["uid"], md.uid(), "{path}: {:?}", out.result);
        assert_eq!(out.result["gid"], md.gid(), "{path}: {:?}", out.result);
        assert_eq!(
            out.result["mode"],
            format!("{:04o}", md.permissions().mode() & 0o7777)
        );
        assert_eq!(out.result["size"], md.len());
        assert_eq!(out.result["state"], "file");
    };
    assert!(learned_owner(&env).is_none());
    let first = env.p("first");
    let out = env
        .run("copy", json!({"content": "one\n", "dest": first, "mode": "0640"}))
        .await;
    owner_of(&out, &first);
    let learned = learned_owner(&env).expect("the first new file teaches the owner of new files");
    assert_eq!(learned.uid, std::fs::metadata(&first).unwrap().uid());
    // Learned: with a mode, without one (the umask decides), an executable mode.
    for (name, mode) in [
        ("second", Some("0600")),
        ("third", None),
        ("fourth", Some("0755")),
    ] {
        let dest = env.p(name);
        let mut args = json!({"content": format!("{name}\n"), "dest": dest});
        if let Some(m) = mode {
            args["mode"] = json!(m);
        }
        let out = env.run("copy", args).await;
        assert!(out.changed);
        owner_of(&out, &dest);
        assert_eq!(out.result["owner"], learned.owner.as_str());
        assert_eq!(out.result["group"], learned.group.as_str());
    }
    // An existing file keeps its attributes: read back.
    let out = env
        .run("copy", json!({"content": "changed\n", "dest": first}))
        .await;
    owner_of(&out, &first);
    assert_eq!(out.result["mode"], "0640");
    if nix_is_root() {
        // A setgid directory of another group gives new files its group: read back, not learned.
        let sgid = env.p("sgid");
        std::fs::create_dir(&sgid).unwrap();
        std::os::unix::fs::chown(&sgid, None, Some(65534)).unwrap();
        std::fs::set_permissions(&sgid, std::fs::Permissions::from_mode(0o2775)).unwrap();
        let dest = format!("{sgid}/inherits");
        let out = env
            .run("copy", json!({"content": "g\n", "dest": dest, "mode": "0644"}))
            .await;
        owner_of(&out, &dest);
        assert_eq!(out.result["gid"], 65534);
        // Owner given: chown'd, read back.
        let dest = env.p("nobody");
        let out = env
            .run(
                "copy",
                json!({"content": "n\n", "dest": dest, "owner": "nobody", "mode": "0644"}),
            )
            .await;
        owner_of(&out, &dest);
        assert_eq!(out.result["owner"], "nobody");
    }
}

/// Round trips per task (what the benchmark's wire table documents): a copy of small content
/// probes and writes in one; owner/group to compare, diff or a symbolic mode take a second.
async fn copy_and_file_round_trips(t: FileTransport) {
    let env = Env::new(t);
    let trips = |before: u64| env.local.conn.exec_count() - before;
    let dest = env.p("conf");
    let mut n = env.local.conn.exec_count();
    let out = env
        .run("copy", json!({"content": "a\n", "dest": dest, "mode": "0644"}))
        .await;
    assert!(out.changed);
    assert_eq!(trips(n), env.steps(1, 1), "new file: probe and write together");
    n = env.local.conn.exec_count();
    let out = env
        .run("copy", json!({"content": "a\n", "dest": dest, "mode": "0644"}))
        .await;
    assert!(!out.changed);
    assert_eq!(trips(n), env.steps(1, 0), "same content: the probe only");
    n = env.local.conn.exec_count();
    let out = env
        .run("copy", json!({"content": "b\n", "dest": dest, "mode": "0600"}))
        .await;
    assert!(out.changed);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "b\n");
    assert_eq!(mode_of(&dest), 0o600);
    assert_eq!(
        trips(n),
        env.steps(1, 1),
        "differing content: written with the probe"
    );
    n = env.local.conn.exec_count();
    let out = env
        .run("copy", json!({"content": "b\n", "dest": dest, "mode": "0640"}))
        .await;
    assert!(out.changed);
    assert_eq!(mode_of(&dest), 0o640);
    assert_eq!(
        trips(n),
        env.steps(2, 0),
        "same content, other mode: probe, then chmod"
    );
    n = env.local.conn.exec_count();
    let out = env
        .run(
            "copy",
            json!({"content": "c\n", "dest": dest, "mode": "u=rw,g=r"}),
        )
        .await;
    assert!(out.changed);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "c\n");
    assert_eq!(trips(n), env.steps(2, 1), "symbolic mode: probe, then write");
    n = env.local.conn.exec_count();
    let out = env
        .run_mode("copy", json!({"content": "d\n", "dest": dest}), false, true)
        .await;
    assert!(out.changed && out.diff[0].before == "c\n");
    assert_eq!(trips(n), env.steps(2, 1), "diff: probe with content, then write");
    n = env.local.conn.exec_count();
    let out = env
        .run("copy", json!({"content": "e\n", "dest": dest, "force": false}))
        .await;
    assert!(!out.changed);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "d\n");
    assert_eq!(trips(n), env.steps(1, 0), "force: false on an existing file");
    n = env.local.conn.exec_count();
    let out = env
        .run_mode("copy", json!({"content": "f\n", "dest": env.p("")}), false, false)
        .await;
    assert!(out.failed, "content with a directory as dest fails");
    assert_eq!(trips(n), 0);
    let sub = env.p("sub");
    n = env.local.conn.exec_count();
    let out = env
        .run("file", json!({"path": sub, "state": "directory", "mode": "0750"}))
        .await;
    assert!(out.changed);
    assert_eq!(mode_of(&sub), 0o750);
    assert_eq!(
        trips(n),
        env.steps(1, 0),
        "new directory: probe and mkdir together"
    );
    n = env.local.conn.exec_count();
    let out = env
        .run("file", json!({"path": sub, "state": "directory", "mode": "0755"}))
        .await;
    assert!(out.changed);
    assert_eq!(mode_of(&sub), 0o755);
    assert_eq!(
        trips(n),
        env.steps(2, 0),
        "existing directory, other mode: probe, then chmod"
    );
    n = env.local.conn.exec_count();
    let deep = env.p("a/b/c");
    let out = env
        .run(
            "file",
            json!({"path": deep, "state": "directory", "mode": "0700"}),
        )
        .await;
    assert!(out.changed);
    assert_eq!(
        (mode_of(&env.p("a")), mode_of(&deep)),
        (0o700, 0o700),
        "parents get the mode too"
    );
    assert_eq!(trips(n), env.steps(1, 0));
    let link = env.p("link");
    n = env.local.conn.exec_count();
    let out = env
        .run("file", json!({"src": sub, "dest": link, "state": "link"}))
        .await;
    assert!(out.changed);
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new(&sub));
    assert_eq!(
        trips(n),
        env.steps(2, 0),
        "link: probe (with src's existence), then ln"
    );
    n = env.local.conn.exec_count();
    let out = env
        .run("file", json!({"src": sub, "dest": link, "state": "link"}))
        .await;
    assert!(!out.changed);
    assert_eq!(trips(n), env.steps(1, 0));
    let out = env
        .run_mode(
            "file",
            json!({"src": env.p("missing"), "dest": env.p("l2"), "state": "link"}),
            false,
            false,
        )
        .await;
    assert!(
        out.failed
            && out
                .msg
                .as_deref()
                .unwrap_or("")
                .contains("src file does not exist"),
        "{:?}",
        out.msg
    );
}

/// lineinfile rewrites keep the existing file's mode and owner, whether or not the connection
/// has learned that new files get that owner anyway (then no chown runs).
async fn lineinfile_keeps_mode_and_owner_of_existing_files(t: FileTransport) {
    let env = Env::new(t);
    let mine = env.p("mine.conf");
    let out = env
        .run("copy", json!({"content": "a=1\n", "dest": mine, "mode": "0751"}))
        .await;
    assert!(out.changed);
    assert!(learned_owner(&env).is_some());
    let before = std::fs::metadata(&mine).unwrap();
    let out = env.run("lineinfile", json!({"path": mine, "line": "b=2"})).await;
    assert!(out.changed);
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "a=1\nb=2\n");
    let after = std::fs::metadata(&mine).unwrap();
    assert_eq!(mode_of(&mine), 0o751);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert_ne!(after.ino(), before.ino(), "replaced by a rename");
    if nix_is_root() {
        let theirs = env.p("theirs.conf");
        std::fs::write(&theirs, "x=1\n").unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o4640)).unwrap();
        let out = env
            .run(
                "lineinfile",
                json!({"path": theirs, "regexp": "^x=", "line": "x=2"}),
            )
            .await;
        assert!(out.changed);
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "x=2\n");
        let md = std::fs::metadata(&theirs).unwrap();
        assert_eq!((md.uid(), md.gid(), mode_of(&theirs)), (65534, 65534, 0o4640));
    }
}

async fn copy_checksum_is_sha1_of_content(t: FileTransport) {
    let env = Env::new(t);
    let dest = env.p("x");
    let out = env.run("copy", json!({"content": "hello", "dest": dest})).await;
    assert_eq!(out.result["checksum"], "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
}

/// New files of sizes around the write chunk (64 KiB) and the window of writes in flight
/// (1 MiB; on the SFTP path the chunks of one window travel with the chmod, fsync and close of
/// the temp file): every byte arrives in its place, the mode is the one asked for.
async fn new_files_of_every_size_around_the_write_windows_arrive_whole(t: FileTransport) {
    let env = Env::new(t);
    const K: usize = 64 * 1024;
    for (i, len) in [
        0,
        1,
        K - 1,
        K,
        K + 1,
        16 * K - 1,
        16 * K,
        16 * K + 1,
        17 * K + 7,
        32 * K,
    ]
    .into_iter()
    .enumerate()
    {
        // Bytes that differ chunk to chunk, so a chunk written at another offset shows.
        let content: String = (0..len)
            .map(|j| char::from(b'a' + ((j % 23 + j / K) % 26) as u8))
            .collect();
        let dest = env.p(&format!("sized-{i}"));
        let out = env
            .run("copy", json!({"content": content, "dest": dest, "mode": "0640"}))
            .await;
        assert!(out.changed, "{len} bytes");
        assert_eq!(
            out.result["checksum"],
            talon::transport::files::Checksum::Sha1.digest(content.as_bytes()),
            "{len} bytes"
        );
        assert!(
            std::fs::read(&dest).unwrap() == content.as_bytes(),
            "{len} bytes on disk"
        );
        assert_eq!(mode_of(&dest), 0o640, "{len} bytes");
    }
}

/// d16: `stat` (checksum on by default) of a named pipe answers, and the connection's SFTP
/// channel still serves the next task: the checksum's SFTP read opens regular files only
/// (`sftp-server` serves one request at a time, and opening a FIFO blocks until a writer comes).
async fn d16_stat_of_a_fifo_does_not_block_the_sftp_channel(t: FileTransport) {
    let env = Env::new(t);
    let fifo = env.p("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let within = std::time::Duration::from_secs(20);
    let out = tokio::time::timeout(within, env.run("stat", json!({"path": fifo})))
        .await
        .expect("stat of a FIFO answered");
    assert_eq!(out.result["stat"]["isfifo"], true);
    assert!(out.result["stat"].get("checksum").is_none());
    let next = env.p("after");
    tokio::time::timeout(within, env.run("copy", json!({"content": "x\n", "dest": next})))
        .await
        .expect("the next file task answered");
    assert_eq!(std::fs::read_to_string(&next).unwrap(), "x\n");
}

async fn copy_src_from_files_into_dir_owner_and_validate(t: FileTransport) {
    let env = Env::new(t);
    std::fs::write(env.dir.path().join("play/files/motd"), "hi\n").unwrap();
    std::fs::create_dir(env.p("etc")).unwrap();
    let dest_dir = env.p("etc");
    let out = env
        .run("copy", json!({"src": "motd", "dest": format!("{dest_dir}/")}))
        .await;
    assert!(out.changed);
    assert_eq!(std::fs::read_to_string(env.p("etc/motd")).unwrap(), "hi\n");
    // dest is an existing directory without the slash: same file, unchanged.
    let out = env.run("copy", json!({"src": "motd", "dest": dest_dir})).await;
    assert!(!out.changed);
    assert_eq!(out.result["dest"], env.p("etc/motd"));
    // Owner change (tests run as root in CI containers; skip otherwise).
    if nix_is_root() {
        let out = env
            .run(
                "copy",
                json!({"src": "motd", "dest": dest_dir, "owner": "nobody"}),
            )
            .await;
        assert!(out.changed);
        let uid = std::fs::metadata(env.p("etc/motd")).unwrap().uid();
        assert_ne!(uid, 0);
        let out = env
            .run(
                "copy",
                json!({"src": "motd", "dest": dest_dir, "owner": "nobody"}),
            )
            .await;
        assert!(!out.changed);
    }
    // A failing validate leaves the file as it was and fails the task.
    let out = env
        .run_mode(
            "copy",
            json!({"content": "bad\n", "dest": env.p("etc/motd"), "validate": "grep -q good %s"}),
            false,
            false,
        )
        .await;
    assert!(out.failed);
    assert!(out.msg.unwrap().contains("failed to validate"));
    assert_eq!(std::fs::read_to_string(env.p("etc/motd")).unwrap(), "hi\n");
    // Missing local src is an error naming it.
    let args: Vars = serde_json::from_value(json!({"src": "nope.txt", "dest": dest_dir})).unwrap();
    let ctx = env.local.ctx(false, false);
    let err = modules::run("ansible.builtin.copy", &args, &ctx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nope.txt"));
}

fn nix_is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

async fn template_plain_text_idempotent(t: FileTransport) {
    // The placeholder templater returns text unchanged; this checks lookup and put semantics.
    let env = Env::new(t);
    std::fs::write(env.dir.path().join("play/templates/site.conf.j2"), "server {}\n").unwrap();
    let dest = env.p("site.conf");
    let args = json!({"src": "site.conf.j2", "dest": dest, "mode": "0644"});
    let out = env.run_mode("template", args.clone(), true, true).await;
    assert!(out.changed);
    assert!(!Path::new(&dest).exists());
    let out = env.run("template", args.clone()).await;
    assert!(out.changed);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "server {}\n");
    assert_eq!(mode_of(&dest), 0o644);
    assert!(!env.run("template", args).await.changed);
}

async fn file_directory_touch_absent_and_states(t: FileTransport) {
    let env = Env::new(t);
    let d = env.p("a/b/c");
    let args = json!({"path": d, "state": "directory", "mode": "0750"});
    assert!(env.run_mode("file", args.clone(), true, false).await.changed);
    assert!(!Path::new(&d).exists());
    assert!(env.run("file", args.clone()).await.changed);
    assert_eq!(mode_of(&d), 0o750);
    assert_eq!(mode_of(&env.p("a")), 0o750, "created parents get the mode too");
    assert!(!env.run("file", args).await.changed);
    // Mode change on an existing dir.
    let out = env
        .run(
            "file",
            json!({"path": d, "state": "directory", "mode": "u=rwx,g=rx,o=rx"}),
        )
        .await;
    assert!(out.changed);
    assert_eq!(mode_of(&d), 0o755);
    // state=file on a missing path fails like Ansible.
    let out = env
        .run_mode(
            "file",
            json!({"path": env.p("nope"), "state": "file"}),
            false,
            false,
        )
        .await;
    assert!(out.failed);
    assert_eq!(
        out.msg.unwrap(),
        format!("file ({}) is absent, cannot continue", env.p("nope"))
    );
    // touch: created, then always changed.
    let t = env.p("t");
    assert!(
        env.run("file", json!({"path": t, "state": "touch", "mode": "0600"}))
            .await
            .changed
    );
    assert_eq!(mode_of(&t), 0o600);
    assert!(
        env.run("file", json!({"path": t, "state": "touch"}))
            .await
            .changed
    );
    let pres =
        json!({"path": t, "state": "touch", "access_time": "preserve", "modification_time": "preserve"});
    assert!(!env.run("file", pres).await.changed);
    // state=file mode change.
    assert!(env.run("file", json!({"path": t, "mode": "0644"})).await.changed);
    assert_eq!(mode_of(&t), 0o644);
    // absent.
    let out = env
        .run_mode("file", json!({"path": env.p("a"), "state": "absent"}), true, true)
        .await;
    assert!(out.changed && Path::new(&env.p("a")).exists());
    assert!(out.diff[0].after.contains("state: absent"));
    assert!(
        env.run("file", json!({"path": env.p("a"), "state": "absent"}))
            .await
            .changed
    );
    assert!(!Path::new(&env.p("a")).exists());
    assert!(
        !env.run("file", json!({"path": env.p("a"), "state": "absent"}))
            .await
            .changed
    );
}

async fn file_links_and_recurse(t: FileTransport) {
    let env = Env::new(t);
    let target = env.p("target");
    std::fs::write(&target, "x").unwrap();
    let l = env.p("link");
    let args = json!({"path": l, "src": target, "state": "link"});
    assert!(env.run("file", args.clone()).await.changed);
    assert_eq!(std::fs::read_link(&l).unwrap(), PathBuf::from(&target));
    assert!(!env.run("file", args).await.changed);
    // Converting a regular file into a link needs force.
    let f = env.p("plain");
    std::fs::write(&f, "y").unwrap();
    let out = env
        .run_mode(
            "file",
            json!({"path": f, "src": target, "state": "link"}),
            false,
            false,
        )
        .await;
    assert!(out.failed);
    assert!(
        env.run(
            "file",
            json!({"path": f, "src": target, "state": "link", "force": true})
        )
        .await
        .changed
    );
    // Hard link.
    let h = env.p("hard");
    let args = json!({"path": h, "src": target, "state": "hard"});
    assert!(env.run("file", args.clone()).await.changed);
    assert_eq!(
        std::fs::metadata(&h).unwrap().ino(),
        std::fs::metadata(&target).unwrap().ino()
    );
    assert!(!env.run("file", args).await.changed);
    // Recurse.
    let d = env.p("tree");
    std::fs::create_dir_all(format!("{d}/sub")).unwrap();
    std::fs::write(format!("{d}/sub/f"), "z").unwrap();
    std::fs::set_permissions(format!("{d}/sub/f"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let args = json!({"path": d, "state": "directory", "recurse": true, "mode": "0755"});
    assert!(env.run_mode("file", args.clone(), true, false).await.changed);
    assert_eq!(mode_of(&format!("{d}/sub/f")), 0o600);
    assert!(env.run("file", args.clone()).await.changed);
    assert_eq!(mode_of(&format!("{d}/sub/f")), 0o755);
    assert!(!env.run("file", args.clone()).await.changed);
    assert!(!env.run_mode("file", args, true, false).await.changed);
}

async fn lineinfile_end_to_end(t: FileTransport) {
    let env = Env::new(t);
    let f = env.p("sshd_config");
    std::fs::write(&f, "Port 22\nPermitRootLogin yes\n").unwrap();
    let args = json!({"path": f, "regexp": "^PermitRootLogin", "line": "PermitRootLogin no"});
    let out = env.run_mode("lineinfile", args.clone(), true, true).await;
    assert!(out.changed);
    assert_eq!(out.diff[0].after, "Port 22\nPermitRootLogin no\n");
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "Port 22\nPermitRootLogin yes\n"
    );
    let out = env.run("lineinfile", args.clone()).await;
    assert!(out.changed);
    assert_eq!(out.msg.as_deref(), Some("line replaced"));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "Port 22\nPermitRootLogin no\n"
    );
    assert!(!env.run("lineinfile", args).await.changed);
    // Missing file without create fails with Ansible's message; with create it is made.
    let n = env.p("new/dir/file");
    let out = env
        .run_mode("lineinfile", json!({"path": n, "line": "a"}), false, false)
        .await;
    assert!(out.failed);
    assert_eq!(out.msg.unwrap(), format!("Destination {n} does not exist !"));
    let args = json!({"path": n, "line": "a", "create": true, "mode": "0600"});
    assert!(env.run("lineinfile", args.clone()).await.changed);
    assert_eq!(std::fs::read_to_string(&n).unwrap(), "a\n");
    assert_eq!(mode_of(&n), 0o600);
    assert!(!env.run("lineinfile", args).await.changed);
    // Absent.
    let out = env
        .run(
            "lineinfile",
            json!({"path": f, "line": "Port 22", "state": "absent"}),
        )
        .await;
    assert!(out.changed);
    assert_eq!(out.result["found"], 1);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "PermitRootLogin no\n");
    // Attributes only.
    let out = env
        .run(
            "lineinfile",
            json!({"path": f, "line": "PermitRootLogin no", "mode": "0604"}),
        )
        .await;
    assert!(out.changed);
    assert_eq!(mode_of(&f), 0o604);
}

async fn blockinfile_end_to_end(t: FileTransport) {
    let env = Env::new(t);
    let f = env.p("hosts");
    std::fs::write(&f, "127.0.0.1 localhost\n").unwrap();
    let args = json!({"path": f, "block": "10.0.0.1 a\n10.0.0.2 b"});
    let out = env.run_mode("blockinfile", args.clone(), true, true).await;
    assert!(out.changed);
    assert!(
        out.diff[0]
            .after
            .contains("# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 a\n")
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "127.0.0.1 localhost\n");
    assert!(env.run("blockinfile", args.clone()).await.changed);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 a\n10.0.0.2 b\n# END ANSIBLE MANAGED BLOCK\n"
    );
    assert!(!env.run("blockinfile", args).await.changed);
    let out = env
        .run("blockinfile", json!({"path": f, "state": "absent"}))
        .await;
    assert!(out.changed);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "127.0.0.1 localhost\n");
    let out = env
        .run_mode(
            "blockinfile",
            json!({"path": env.p("none"), "block": "x"}),
            false,
            false,
        )
        .await;
    assert!(out.failed);
}

async fn stat_slurp_fetch(t: FileTransport) {
    let env = Env::new(t);
    let f = env.p("data.txt");
    std::fs::write(&f, "hello").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = env.run("stat", json!({"path": f})).await;
    assert!(!out.changed);
    let st = &out.result["stat"];
    assert_eq!(st["exists"], true);
    assert_eq!(st["isreg"], true);
    assert_eq!(st["mode"], "0640");
    assert_eq!(st["size"], 5);
    assert_eq!(st["checksum"], "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    assert_eq!(st["uid"], std::fs::metadata(&f).unwrap().uid());
    let out = env.run("stat", json!({"path": env.p("missing")})).await;
    assert_eq!(out.result["stat"], json!({"exists": false}));
    // slurp
    let out = env.run("slurp", json!({"src": f})).await;
    assert_eq!(out.result["content"], "aGVsbG8=");
    assert_eq!(out.result["encoding"], "base64");
    assert!(
        env.run_mode("slurp", json!({"src": env.p("missing")}), false, false)
            .await
            .failed
    );
    // fetch: default layout dest/HOST/path
    let dest = env.p("fetched");
    let out = env.run("fetch", json!({"src": f, "dest": dest})).await;
    assert!(out.changed);
    let local = format!("{dest}/web1{f}");
    assert_eq!(std::fs::read_to_string(&local).unwrap(), "hello");
    assert!(!env.run("fetch", json!({"src": f, "dest": dest})).await.changed);
    let out = env
        .run(
            "fetch",
            json!({"src": f, "dest": format!("{dest}/flat/"), "flat": true}),
        )
        .await;
    assert!(out.changed);
    assert_eq!(
        std::fs::read_to_string(format!("{dest}/flat/data.txt")).unwrap(),
        "hello"
    );
    let out = env
        .run_mode(
            "fetch",
            json!({"src": env.p("missing"), "dest": dest}),
            false,
            false,
        )
        .await;
    assert!(out.failed);
}

async fn unknown_args_are_rejected(t: FileTransport) {
    let env = Env::new(t);
    let args: Vars = serde_json::from_value(json!({"path": "/tmp", "bogus": 1})).unwrap();
    let ctx = env.local.ctx(false, false);
    let err = modules::run("stat", &args, &ctx).await.unwrap_err();
    assert!(err.to_string().contains("bogus"));
}

async fn edges_links_parents_backups_check(t: FileTransport) {
    let env = Env::new(t);
    // Inline content aimed at a directory fails, nothing created.
    let dir_dest = format!("{}/", env.p("new/dir"));
    let out = env
        .run_mode("copy", json!({"content": "x", "dest": dir_dest}), false, false)
        .await;
    assert!(out.failed);
    assert!(!Path::new(&env.p("new")).exists());
    // copy of a src to a dest ending in / creates the missing directory with directory_mode.
    let src = env.dir.path().join("play/files/app.ini");
    std::fs::write(&src, "a=1\n").unwrap();
    let args = json!({"src": "app.ini", "dest": dir_dest, "directory_mode": "0700"});
    let out = env.run("copy", args).await;
    assert!(out.changed);
    assert_eq!(
        std::fs::read_to_string(env.p("new/dir/app.ini")).unwrap(),
        "a=1\n"
    );
    assert_eq!(mode_of(&env.p("new/dir")), 0o700);
    // copy follow: writes through a symlink instead of replacing it.
    let real = env.p("real.conf");
    std::fs::write(&real, "old").unwrap();
    let link = env.p("link.conf");
    std::os::unix::fs::symlink("real.conf", &link).unwrap();
    assert!(
        env.run("copy", json!({"content": "new", "dest": link, "follow": true}))
            .await
            .changed
    );
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    assert!(
        !env.run("copy", json!({"content": "new", "dest": link, "follow": true}))
            .await
            .changed
    );
    // Without follow the link is replaced by a file (Ansible's default).
    assert!(
        env.run("copy", json!({"content": "new", "dest": link}))
            .await
            .changed
    );
    assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
    // stat on a relative symlink reports target and resolved source.
    std::os::unix::fs::symlink("real.conf", env.p("l2")).unwrap();
    let st = env.run("stat", json!({"path": env.p("l2")})).await.result["stat"].clone();
    assert_eq!(st["islnk"], true);
    assert_eq!(st["lnk_target"], "real.conf");
    assert_eq!(
        st["lnk_source"],
        std::fs::canonicalize(&real).unwrap().to_str().unwrap()
    );
    // file state=link with a relative src.
    let rel = env.p("rel");
    assert!(
        env.run("file", json!({"path": rel, "src": "real.conf", "state": "link"}))
            .await
            .changed
    );
    assert_eq!(std::fs::read_to_string(&rel).unwrap(), "new");
    assert!(
        !env.run("file", json!({"path": rel, "src": "real.conf", "state": "link"}))
            .await
            .changed
    );
    let out = env
        .run_mode(
            "file",
            json!({"path": env.p("dangling"), "src": "nope", "state": "link"}),
            false,
            false,
        )
        .await;
    assert!(out.failed, "missing src without force fails");
    // lineinfile backup keeps the old content.
    let out = env
        .run(
            "lineinfile",
            json!({"path": real, "line": "more", "backup": true}),
        )
        .await;
    assert!(out.changed);
    let b = out.result["backup_file"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(b).unwrap(), "new");
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "new\nmore\n");
    // fetch in check mode writes nothing.
    let dest = env.p("fetched");
    let out = env
        .run_mode("fetch", json!({"src": real, "dest": dest}), true, false)
        .await;
    assert!(out.changed);
    assert!(!Path::new(&dest).exists());
}

/// A vault-encrypted `src` that no vault password opens (ansible-core decrypts it) is refused,
/// never delivered as ciphertext.
async fn d11_vault_encrypted_src_is_refused_never_copied(t: FileTransport) {
    let env = Env::new(t);
    let vaulted = "$ANSIBLE_VAULT;1.1;AES256\n6231336539\n";
    std::fs::write(env.dir.path().join("play/files/secret.txt"), vaulted).unwrap();
    std::fs::write(env.dir.path().join("play/templates/secret.j2"), vaulted).unwrap();
    for (module, src) in [("copy", "secret.txt"), ("template", "secret.j2")] {
        let dest = env.p(&format!("out-{module}"));
        let args: Vars = serde_json::from_value(json!({"src": src, "dest": dest})).unwrap();
        let e = modules::run(module, &args, &env.local.ctx(false, false))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no vault secrets found"), "{module}: {e}");
        assert!(!Path::new(&dest).exists(), "{module} wrote {dest}");
    }
}

/// The flags `lsattr -d` shows for `path`, dashes removed.
fn lsattr(path: &str) -> String {
    let out = std::process::Command::new("lsattr")
        .args(["-d", path])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .replace('-', "")
}

async fn file_attributes_set_and_removed_with_chattr(t: FileTransport) {
    let e = Env::new(t);
    let f = e.p("flagged");
    std::fs::write(&f, "x\n").unwrap();
    let before = lsattr(&f);
    let want = format!("{before}A");
    // Check mode predicts and changes nothing.
    let o = e
        .run_mode("file", json!({"path": f, "attributes": want}), true, false)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert_eq!(lsattr(&f), before);
    let o = e
        .run_mode("file", json!({"path": f, "attributes": want}), false, true)
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    let now = lsattr(&f);
    assert!(now.contains('A') && now.len() == want.len(), "{now}");
    assert_eq!(o.result["diff"]["after"]["attributes"], json!(format!("={want}")));
    assert_eq!(o.result["diff"]["before"]["attributes"], json!(before));
    // The flags as lsattr lists them: unchanged (ansible-core compares them as a string).
    let o = e.run("file", json!({"path": f, "attr": now})).await;
    assert!(!o.changed && !o.failed, "{o:?}");
    // `-` is always a change.
    let o = e
        .run("lineinfile", json!({"path": f, "line": "y", "attributes": "-A"}))
        .await;
    assert!(o.changed && !o.failed, "{o:?}");
    assert_eq!(
        o.msg.as_deref(),
        Some("line added and ownership, perms or SE linux context changed")
    );
    assert_eq!(lsattr(&f), before);
}

/// Instantiates each test on both file transports.
macro_rules! on_both_paths {
    ($($name:ident),* $(,)?) => {
        mod shell {
            use super::FileTransport;
            $(#[tokio::test]
            async fn $name() {
                super::$name(FileTransport::Shell).await
            })*
        }
        mod sftp {
            use super::FileTransport;
            $(#[tokio::test]
            async fn $name() {
                super::$name(FileTransport::Sftp).await
            })*
        }
    };
}

on_both_paths!(
    template_plain_text_idempotent,
    copy_content_idempotent_check_diff_attrs,
    copy_reports_the_owner_of_new_files_read_once_then_learned,
    copy_and_file_round_trips,
    lineinfile_keeps_mode_and_owner_of_existing_files,
    copy_checksum_is_sha1_of_content,
    new_files_of_every_size_around_the_write_windows_arrive_whole,
    d16_stat_of_a_fifo_does_not_block_the_sftp_channel,
    copy_src_from_files_into_dir_owner_and_validate,
    file_directory_touch_absent_and_states,
    file_links_and_recurse,
    lineinfile_end_to_end,
    blockinfile_end_to_end,
    stat_slurp_fetch,
    unknown_args_are_rejected,
    edges_links_parents_backups_check,
    d11_vault_encrypted_src_is_refused_never_copied,
    file_attributes_set_and_removed_with_chattr,
);
