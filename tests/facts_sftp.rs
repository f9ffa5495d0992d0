//! Facts gathered over SFTP (files read as requests in flight together, one small shell step for
//! the programs) against the fact script on the shell path, on the same lab host: the same facts,
//! except values that change between two calls (the clock, free memory and space), which are
//! compared by type and range.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use talon::transport::Connection;
use talon::transport::sftp::FileTransport;

mod common;

/// Opens a connection to lab1 as `user` (root: the lab's default).
async fn open_as(lab: &common::Lab, user: &str) -> Result<Connection, talon::transport::TransportError> {
    let mut spec = talon::transport::ConnectSpec::ssh("lab1", "127.0.0.1", lab.port("lab1"));
    spec.user = Some(user.into());
    spec.identity_files = vec![lab.dir.path().join("id_ed25519")];
    spec.known_hosts = lab.dir.path().join("known_hosts");
    Connection::open(&spec).await
}

async fn conn_as(lab: &common::Lab, user: &str) -> Connection {
    open_as(lab, user).await.unwrap()
}

/// Takes out of `facts` what changes between two calls, checking its type: `date_time` (every
/// field a string), free memory and swap, and the free-space fields of `mounts`.
fn volatile(facts: &mut serde_json::Map<String, Value>) -> (i64, Vec<String>) {
    let dt = facts.remove("date_time").expect("date_time");
    let dt = dt.as_object().expect("date_time is a mapping");
    assert!(dt.values().all(Value::is_string), "{dt:?}");
    let epoch: i64 = dt["epoch"].as_str().unwrap().parse().unwrap();
    let mut keys: Vec<String> = dt.keys().cloned().collect();
    keys.sort();
    let stable: Vec<String> = ["tz", "tz_dst", "tz_offset"]
        .iter()
        .map(|k| format!("{k}={}", dt[*k]))
        .collect();
    keys.extend(stable);
    for k in ["memfree_mb", "swapfree_mb", "memory_mb"] {
        let v = facts.remove(k).expect(k);
        assert!(v.is_u64() || v.is_object(), "{k}: {v}");
    }
    if let Some(Value::Array(mounts)) = facts.get_mut("mounts") {
        for m in mounts {
            let m = m.as_object_mut().unwrap();
            for k in [
                "size_available",
                "block_available",
                "block_used",
                "inode_available",
                "inode_used",
            ] {
                let v = m.remove(k).expect(k);
                assert!(v.is_u64(), "{k}: {v}");
            }
        }
    }
    (epoch, keys)
}

#[tokio::test]
async fn d16_facts_over_sftp_are_the_scripts_facts() {
    let lab = common::Lab::up(1);
    // A local fact, and a fact_path, come through the shell step unchanged.
    lab.sh_ok(
        "lab1",
        "mkdir -p /etc/ansible/facts.d /opt/ff && printf '{\"a\": 1}\\n' > /etc/ansible/facts.d/x.fact && printf '[s]\\nk=v\\n' > /opt/ff/y.fact && chmod 644 /etc/ansible/facts.d/x.fact /opt/ff/y.fact",
    );
    // root, and a login that cannot read PID 1's environment.
    for user in ["root", "deploy"] {
        same_facts_both_ways(&conn_as(&lab, user).await, 1).await;
    }
    // The fact step prints the remote shell's umask: the first SFTP probe asks no shell for it.
    let fresh = conn_as(&lab, "root").await;
    talon::runner::facts::gather_from(&fresh, None).await.unwrap();
    let execs = fresh.exec_count();
    let opts = talon::transport::files::ProbeOptions {
        sftp: true,
        ..Default::default()
    };
    let p = talon::transport::files::probe(&fresh, "/etc", opts, &None)
        .await
        .unwrap();
    assert_eq!(fresh.exec_count(), execs, "no umask probe after facts over SFTP");
    let shell = fresh
        .exec(&talon::transport::ExecRequest::shell("umask"))
        .await
        .unwrap();
    assert_eq!(format!("{:04o}\n", p.umask), shell.stdout_str());
    // The fqdn: read from the first /etc/hosts line naming the host (any case), as
    // `hostname -f` on the shell path gives it; and from `hostname -f` in a second step when no
    // line names it (`hosts: files` alone: no DNS query leaves the lab).
    lab.sh_ok(
        "lab1",
        "cp /etc/hosts /tmp/hosts.orig && printf '10.9.9.9 x.example\\n127.0.1.1 lab1.example.org LAB1 # a comment\\n' | cat - /tmp/hosts.orig > /etc/hosts",
    );
    let root = conn_as(&lab, "root").await;
    let facts = same_facts_both_ways(&root, 1).await;
    assert_eq!(facts["fqdn"], "lab1.example.org");
    lab.sh_ok(
        "lab1",
        "grep -viw lab1 /tmp/hosts.orig > /etc/hosts; sed -i 's/^hosts:.*/hosts: files/' /etc/nsswitch.conf",
    );
    let facts = same_facts_both_ways(&root, 2).await;
    assert_eq!(facts["fqdn"], "lab1");
}

/// Gathers facts on `conn` on the shell path, then over SFTP (in `steps` shell steps), compares
/// them, and returns the last facts gathered over SFTP.
async fn same_facts_both_ways(conn: &Connection, steps: u64) -> serde_json::Map<String, Value> {
    let mut last = serde_json::Map::new();
    // One connection for both paths: its environment (SSH_CLIENT's port) is a fact.
    for fact_path in [None, Some("/opt/ff")] {
        conn.set_file_transport(FileTransport::Shell);
        let requests = conn.sftp_request_count();
        let mut a = talon::runner::facts::gather_from(conn, fact_path).await.unwrap();
        assert_eq!(
            conn.sftp_request_count(),
            requests,
            "the shell path sends no SFTP request"
        );
        conn.set_file_transport(FileTransport::Auto);
        let (execs, requests) = (conn.exec_count(), conn.sftp_request_count());
        let mut b = talon::runner::facts::gather_from(conn, fact_path).await.unwrap();
        assert_eq!(conn.exec_count() - execs, steps, "shell steps on the SFTP path");
        assert!(
            conn.sftp_request_count() - requests > 20,
            "the files were read over SFTP"
        );
        let (ea, ka) = volatile(&mut a);
        let (eb, kb) = volatile(&mut b);
        assert_eq!(ka, kb, "date_time's keys and zone");
        assert!((0..=60).contains(&(eb - ea)), "epochs {ea} then {eb}");
        let (ta, tb) = (
            serde_json::to_string_pretty(&a).unwrap(),
            serde_json::to_string_pretty(&b).unwrap(),
        );
        for (la, lb) in ta.lines().zip(tb.lines()) {
            assert_eq!(la, lb, "first differing line of the facts ({fact_path:?})");
        }
        assert_eq!(ta, tb);
        assert!(ta.contains("\"virtualization_type\": \"docker\""), "{ta}");
        // What the comparison covers on the lab host: bind-mounted files with sizes, a local
        // fact, a default route, the zone.
        let mounts = a["mounts"].as_array().unwrap();
        assert!(
            mounts.iter().any(|m| m["size_total"].as_u64() > Some(0)),
            "{mounts:?}"
        );
        let local = if fact_path.is_some() {
            &a["local"]["y"]["s"]["k"]
        } else {
            &a["local"]["x"]["a"]
        };
        assert!(local == "v" || local == 1, "{}", a["local"]);
        assert!(a["default_ipv4"]["gateway"].is_string());
        assert!(a["interfaces"].as_array().unwrap().len() >= 2);
        assert_eq!(a["python"]["executable"], "/usr/bin/python3");
        last = b;
    }
    last
}

#[tokio::test]
async fn d16_facts_without_the_sftp_subsystem_come_from_the_script() {
    let lab = common::Lab::up(1);
    lab.sh_ok(
        "lab1",
        "sed -i '/^Subsystem/d' /etc/ssh/sshd_config && kill -HUP \"$(cat /run/sshd.pid)\"",
    );
    // sshd re-executes itself on SIGHUP: retry until it answers again.
    let mut tries = 0;
    let conn = loop {
        match open_as(&lab, "root").await {
            Ok(c) => break Some(c),
            Err(_) if tries < 50 => tries += 1,
            Err(_) => break None,
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let conn = conn.expect("sshd came back after SIGHUP");
    conn.set_file_transport(FileTransport::Sftp);
    let execs = conn.exec_count();
    let f = talon::runner::facts::gather(&conn).await.unwrap();
    assert_eq!(conn.sftp_request_count(), 0, "no subsystem: no SFTP request");
    assert_eq!(conn.exec_count() - execs, 1, "the fact script, one step");
    assert_eq!(f["distribution"], "Debian");
    assert!(f["mounts"].as_array().is_some_and(|m| !m.is_empty()));
}
