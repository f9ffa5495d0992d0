//! The file primitives over SFTP on a real SSH connection to a lab host, against the same tasks
//! on the shell path: identical registered values, diffs and trees; a warm run that starts no
//! host process on the SFTP path; and a host whose sshd has no SFTP subsystem, where talon keeps
//! the shell path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use talon::transport::Connection;
use talon::transport::sftp::FileTransport;

mod common;

use common::local::LocalEnv;

/// The file tasks of one run under `base` (a typical provisioning mix, as bench/workload).
fn tasks(base: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            "file",
            json!({"path": base, "state": "directory", "mode": "0755"}),
        ),
        (
            "file",
            json!({"path": format!("{base}/etc/app"), "state": "directory", "owner": "root", "group": "root", "mode": "0750"}),
        ),
        (
            "file",
            json!({"path": format!("{base}/plain"), "state": "directory"}),
        ),
        (
            "copy",
            json!({"content": "a=1\n", "dest": format!("{base}/etc/app/a.conf"), "mode": "0644"}),
        ),
        (
            "copy",
            json!({"content": "secret\n", "dest": format!("{base}/etc/app/b.conf"), "owner": "nobody", "group": "nogroup", "mode": "0640"}),
        ),
        (
            "copy",
            json!({"content": "no mode\n", "dest": format!("{base}/c.txt")}),
        ),
        (
            "copy",
            json!({"content": "x".repeat(300_000), "dest": format!("{base}/big.txt"), "mode": "0600"}),
        ),
        // Above one window of writes in flight (1 MiB): written first, then synced.
        (
            "copy",
            json!({"content": "y".repeat(1_500_000), "dest": format!("{base}/bigger.txt"), "mode": "0644"}),
        ),
        // Folders made with their mode: 0770 loses bits to the umask (022) and is chmod'ed,
        // at every level made; 01777 keeps its sticky bit.
        (
            "file",
            json!({"path": format!("{base}/deep/er/dir"), "state": "directory", "mode": "0770"}),
        ),
        (
            "file",
            json!({"path": format!("{base}/sticky"), "state": "directory", "mode": "01777"}),
        ),
        (
            "file",
            json!({"src": format!("{base}/etc/app/a.conf"), "dest": format!("{base}/a.link"), "state": "link"}),
        ),
        (
            "lineinfile",
            json!({"path": format!("{base}/lines"), "line": "x=1", "create": true, "mode": "0644"}),
        ),
        (
            "lineinfile",
            json!({"path": format!("{base}/lines"), "regexp": "^y=", "line": "y=2"}),
        ),
        ("file", json!({"path": format!("{base}/gone"), "state": "absent"})),
        ("file", json!({"path": format!("{base}/c.txt"), "mode": "0600"})),
        ("stat", json!({"path": format!("{base}/etc/app/a.conf")})),
        // The checksum of a small file is taken from its bytes over SFTP (the same step); a
        // link followed is hashed as its target, one not followed is not hashed; a file above
        // 64 KiB is hashed on the host in one more step.
        (
            "stat",
            json!({"path": format!("{base}/a.link"), "follow": true, "checksum_algorithm": "md5"}),
        ),
        ("stat", json!({"path": format!("{base}/a.link")})),
        ("stat", json!({"path": format!("{base}/bigger.txt")})),
        ("slurp", json!({"src": format!("{base}/etc/app/a.conf")})),
    ]
}

/// Runs [`tasks`] and returns each outcome as JSON with `base` replaced by `BASE` and temp
/// file names (unique per write) and times (per run) blanked, so two runs compare.
async fn run(env: &LocalEnv, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (module, args) in tasks(base) {
        let o = env.run_mode(module, args, false, true).await;
        assert!(!o.failed, "{module} failed: {:?}", o.msg);
        let mut result = serde_json::to_value(&o.result).unwrap();
        if module == "stat" {
            // Times, inode and device differ between two files by nature.
            if let Some(st) = result.get_mut("stat").and_then(Value::as_object_mut) {
                for k in ["atime", "mtime", "ctime", "inode", "dev", "version"] {
                    st.remove(k);
                }
            }
        }
        let diffs: Vec<String> = o
            .diff
            .iter()
            .map(|d| format!("{}|{}|{}|{}", d.before_header, d.after_header, d.before, d.after))
            .collect();
        let text = format!("{module} changed={} {result} {diffs:?}", o.changed).replace(base, "BASE");
        let text = blank_temp_names(&text);
        // The large file's content would fill the screen: its digest stands for it.
        out.push(if text.len() > 2000 {
            format!(
                "{} ... sha1 {}",
                &text[..300],
                talon::transport::files::Checksum::Sha1.digest(text.as_bytes())
            )
        } else {
            text
        });
    }
    out
}

/// Asserts that two runs' outcomes are the same, naming the first task that differs.
fn assert_same(a: &[String], b: &[String], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: task counts");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x, y, "{what}: task {i} differs");
    }
}

fn blank_temp_names(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(".talon.") {
        out.push_str(&rest[..i + 7]);
        rest = &rest[i + 7..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        out.push('N');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

async fn env_on(lab: &common::Lab, t: FileTransport) -> LocalEnv {
    let conn: Connection = lab.connect("lab1").await;
    conn.set_file_transport(t);
    LocalEnv::with_connection(conn, "lab1")
}

#[tokio::test]
async fn sftp_and_shell_paths_give_the_same_results_and_trees() {
    let lab = common::Lab::up(1);
    let shell = env_on(&lab, FileTransport::Shell).await;
    let sftp = env_on(&lab, FileTransport::Auto).await;
    let cold_shell = run(&shell, "/opt/p-shell").await;
    let cold_sftp = run(&sftp, "/opt/p-sftpx").await;
    assert_same(&cold_shell, &cold_sftp, "cold run");
    assert_eq!(
        shell.conn.sftp_request_count(),
        0,
        "the shell path sends no SFTP request"
    );
    assert!(
        sftp.conn.sftp_request_count() > 0,
        "auto uses SFTP on a host that has it"
    );
    assert_eq!(
        lab.tree("lab1", "/opt/p-shell"),
        lab.tree("lab1", "/opt/p-sftpx"),
        "the same tree on the host"
    );

    let execs = sftp.conn.exec_count();
    let requests = sftp.conn.sftp_request_count();
    let warm_shell = run(&shell, "/opt/p-shell").await;
    let warm_sftp = run(&sftp, "/opt/p-sftpx").await;
    assert_same(&warm_shell, &warm_sftp, "warm run");
    assert!(
        warm_sftp.iter().all(|l| !l.contains("changed=true")),
        "{warm_sftp:#?}"
    );
    // stat (every field of ansible.builtin.stat: one step each, two for the file above 64 KiB
    // hashed on the host) and `file` on an existing regular file (its link count) are the only
    // host processes; in diff mode the 300 kB copy is read back.
    assert_eq!(
        sftp.conn.exec_count() - execs,
        1 + 5,
        "warm: only stat and file on a regular file start a host process"
    );
    assert!(sftp.conn.sftp_request_count() > requests);
}

#[tokio::test]
async fn sftp_warm_small_file_tasks_start_no_host_process() {
    let lab = common::Lab::up(1);
    let env = env_on(&lab, FileTransport::Auto).await;
    let base = "/opt/warm";
    let small: Vec<_> = tasks(base)
        .into_iter()
        // stat reads every field of ansible.builtin.stat on the shell; `file` on an existing
        // regular file asks the shell for its link count; the large files are hashed on the host.
        .filter(|(m, a)| {
            *m != "stat" && !a.to_string().contains("/big") && !a.to_string().contains("c.txt\",\"mode")
        })
        .collect();
    for (m, a) in &small {
        let o = env.run_mode(m, a.clone(), false, false).await;
        assert!(!o.failed, "{m}: {:?}", o.msg);
    }
    for (m, a) in &small {
        let execs = env.conn.exec_count();
        let requests = env.conn.sftp_request_count();
        let o = env.run_mode(m, a.clone(), false, false).await;
        assert!(!o.failed && !o.changed, "{m} {a}: {:?}", o.msg);
        assert_eq!(
            env.conn.exec_count(),
            execs,
            "{m} {a}: a host process on a warm run"
        );
        assert!(
            env.conn.sftp_request_count() > requests,
            "{m} {a}: no SFTP request"
        );
    }
}

/// A temp file that a dead run left beside a destination (`.NAME.talon.PID.N`) is removed by the
/// next write there, on the SFTP path as on the shell path; this run's own are not touched.
#[tokio::test]
async fn d16_an_sftp_write_removes_temp_files_of_a_dead_run() {
    let lab = common::Lab::up(1);
    let env = env_on(&lab, FileTransport::Auto).await;
    lab.sh_ok(
        "lab1",
        "mkdir -p /opt/stale && echo half > /opt/stale/.new.txt.talon.1.42 && \
         mkdir /opt/stale/.new.txt.talon.1.43 && ln -s /etc/hostname /opt/stale/.new.txt.talon.1.44",
    );
    // The first probe of a connection learns the umask on the shell.
    env.run_mode(
        "file",
        json!({"path": "/opt/stale", "state": "directory"}),
        false,
        false,
    )
    .await;
    let requests = env.conn.sftp_request_count();
    let o = env
        .run_mode(
            "copy",
            json!({"content": "new\n", "dest": "/opt/stale/new.txt"}),
            false,
            false,
        )
        .await;
    assert!(o.changed && !o.failed, "{:?}", o.msg);
    assert!(env.conn.sftp_request_count() > requests, "written over SFTP");
    let left = lab.sh_ok("lab1", "ls -A /opt/stale | sort");
    assert_eq!(
        left, ".new.txt.talon.1.43\n.new.txt.talon.1.44\nnew.txt\n",
        "only the regular temp file is removed"
    );
}

#[tokio::test]
async fn sftp_a_host_without_the_subsystem_keeps_the_shell_path() {
    let lab = common::Lab::up(1);
    lab.sh_ok(
        "lab1",
        "sed -i '/^Subsystem/d' /etc/ssh/sshd_config && kill -HUP \"$(cat /run/sshd.pid)\"",
    );
    // sshd re-executes itself on SIGHUP: wait until it accepts connections again.
    let mut conn = None;
    for _ in 0..50 {
        let mut spec = talon::transport::ConnectSpec::ssh("lab1", "127.0.0.1", lab.port("lab1"));
        spec.user = Some("root".into());
        spec.identity_files = vec![lab.dir.path().join("id_ed25519")];
        spec.known_hosts = lab.dir.path().join("known_hosts");
        match Connection::open(&spec).await {
            Ok(c) => {
                conn = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let conn = conn.expect("sshd came back after SIGHUP");
    conn.set_file_transport(FileTransport::Sftp);
    assert!(conn.sftp().await.is_none(), "the subsystem request is refused");
    let env = LocalEnv::with_connection(conn, "lab1");
    let shell = env_on(&lab, FileTransport::Shell).await;
    let on_shell = run(&shell, "/opt/p-shell").await;
    let fallback = run(&env, "/opt/p-nosub").await;
    assert_same(&on_shell, &fallback, "no subsystem");
    assert_eq!(env.conn.sftp_request_count(), 0);
    assert_eq!(lab.tree("lab1", "/opt/p-shell"), lab.tree("lab1", "/opt/p-nosub"));
    // Remembered for the connection: asked once, not per operation.
    let execs = env.conn.exec_count();
    let o = env
        .run_mode(
            "copy",
            json!({"content": "a=1\n", "dest": "/opt/p-nosub/etc/app/a.conf", "mode": "0644"}),
            false,
            false,
        )
        .await;
    assert!(!o.failed && !o.changed);
    assert_eq!(env.conn.exec_count() - execs, 1, "the shell probe");
}

/// `become` to another user keeps the shell path (SFTP runs as the login user); `become` to the
/// login user itself may use SFTP.
#[tokio::test]
async fn sftp_become_to_another_user_keeps_the_shell_path() {
    let lab = common::Lab::up(1);
    let env = env_on(&lab, FileTransport::Auto).await;
    lab.sh_ok("lab1", "mkdir -p /tmp/b && chmod 1777 /tmp/b");
    let run_as = |user: &str, dest: &str| {
        let mut ctx = env.ctx(false, false);
        ctx.become_ = Some(talon::transport::Become {
            user: user.to_string(),
            password: None,
        });
        let args: talon::vars::Vars =
            serde_json::from_value(json!({"content": "x\n", "dest": dest})).unwrap();
        async move { talon::modules::run("copy", &args, &ctx).await.unwrap() }
    };
    // Learn the umask first (the first probe of a connection runs on the shell).
    run_as("root", "/tmp/b/first").await;
    let (execs, requests) = (env.conn.exec_count(), env.conn.sftp_request_count());
    let o = run_as("nobody", "/tmp/b/as-nobody").await;
    assert!(o.changed && !o.failed, "{:?}", o.msg);
    assert_eq!(env.conn.sftp_request_count(), requests, "no SFTP as another user");
    assert!(env.conn.exec_count() > execs);
    assert_eq!(
        lab.stat("lab1", "/tmp/b/as-nobody").unwrap(),
        "644 nobody nogroup regular file"
    );
    let (execs, requests) = (env.conn.exec_count(), env.conn.sftp_request_count());
    let o = run_as("root", "/tmp/b/as-root").await;
    assert!(o.changed && !o.failed, "{:?}", o.msg);
    assert_eq!(env.conn.exec_count(), execs, "become to the login user: SFTP");
    assert!(env.conn.sftp_request_count() > requests);
}

/// A login user that is not root: what SFTP cannot do exactly (a chown that will be refused)
/// is left to the shell, so failures read the same on both paths.
#[tokio::test]
async fn d16_a_non_root_login_fails_the_same_on_both_paths() {
    let lab = common::Lab::up(1);
    lab.sh_ok("lab1", "mkdir -p /tmp/nr && chmod 1777 /tmp/nr");
    let as_deploy = |t: FileTransport| {
        let lab = &lab;
        async move {
            let mut spec = talon::transport::ConnectSpec::ssh("lab1", "127.0.0.1", lab.port("lab1"));
            spec.user = Some("deploy".into());
            spec.identity_files = vec![lab.dir.path().join("id_ed25519")];
            spec.known_hosts = lab.dir.path().join("known_hosts");
            let conn = Connection::open(&spec).await.unwrap();
            conn.set_file_transport(t);
            LocalEnv::with_connection(conn, "lab1")
        }
    };
    let mut outcomes = Vec::new();
    for (t, dir) in [
        (FileTransport::Shell, "/tmp/nr/a"),
        (FileTransport::Auto, "/tmp/nr/b"),
    ] {
        let env = as_deploy(t).await;
        let mut texts = Vec::new();
        for args in [
            json!({"path": format!("{dir}/d"), "state": "directory", "mode": "0755"}),
            json!({"path": format!("{dir}/d/own"), "state": "directory", "owner": "root"}),
            json!({"content": "x\n", "dest": format!("{dir}/d/f"), "owner": "root"}),
            json!({"content": "x\n", "dest": "/etc/talon-denied"}),
            json!({"path": "/root/x", "state": "absent"}),
        ] {
            let module = if args.get("content").is_some() {
                "copy"
            } else {
                "file"
            };
            let o = env.run_mode(module, args, false, false).await;
            texts.push(
                format!(
                    "{} {} {:?} {}",
                    o.changed,
                    o.failed,
                    o.msg,
                    serde_json::to_value(&o.result).unwrap()
                )
                .replace(dir, "DIR"),
            );
        }
        outcomes.push(blank_temp_names(&texts.join("\n")));
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert!(
        outcomes[0].contains("Operation not permitted") && outcomes[0].contains("Permission denied"),
        "the refused chowns and the unwritable folder fail: {}",
        outcomes[0]
    );
}

/// After `meta: reset_connection` (a new SSH connection), the SFTP channel is opened again on
/// the new connection.
#[tokio::test]
async fn sftp_channel_is_reopened_after_a_reset() {
    let lab = common::Lab::up(1);
    let env = env_on(&lab, FileTransport::Auto).await;
    let task = json!({"path": "/opt/r", "state": "directory"});
    for round in 0..2 {
        let o = env.run_mode("file", task.clone(), false, false).await;
        assert!(!o.failed, "{:?}", o.msg);
        let requests = env.conn.sftp_request_count();
        let execs = env.conn.exec_count();
        let o = env.run_mode("file", task.clone(), false, false).await;
        assert!(!o.failed && !o.changed, "{:?}", o.msg);
        assert!(
            env.conn.sftp_request_count() > requests,
            "round {round}: over SFTP"
        );
        assert_eq!(env.conn.exec_count(), execs, "round {round}: no host process");
        env.conn.reset().await;
    }
}
