//! Data integrity under faults: a write is whole or not at all, whatever dies meanwhile, and what
//! a dead run left behind is cleaned up by the next one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Lab, Run};

/// 150 MiB of content that differs in every block (so nothing compresses it away).
fn big_file(path: &Path) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..150 {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        f.write_all(&block).unwrap();
    }
    f.flush().unwrap();
}

/// The size of the temp file talon is writing for `/root/big.bin`, if one exists.
fn temp_size(lab: &Lab, host: &str) -> Option<u64> {
    let out = lab.sh(host, "stat -c %s /root/.big.bin.talon.* 2>/dev/null | head -1");
    common::text(&out.stdout).trim().parse().ok()
}

fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// D2: content above the inline limit travels on a channel of its own; when talon died or the
/// connection dropped mid-transfer, `dd` saw the end of its input and the script renamed the
/// partial temp file over the destination (the old content was lost).
#[test]
fn d2_an_interrupted_large_write_keeps_the_old_content() {
    let lab = Lab::up(1);
    let host = lab.hosts[0].0.clone();
    let d = lab.dir.path();
    let big = d.join("big.bin");
    big_file(&big);
    let pb = d.join("big.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: {{src: {}, dest: /root/big.bin}}\n",
            big.display()
        ),
    )
    .unwrap();
    for how in ["kill talon", "kill the host's sshd session"] {
        lab.sh_ok(&host, "printf 'old content\\n' > /root/big.bin");
        let mut child = common::talon()
            .arg("run")
            .arg(&pb)
            .arg("-i")
            .arg(lab.inventory())
            .env("TALON_STATE_DIR", d.join("state"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for("a partly written temp file", Duration::from_secs(60), || {
            temp_size(&lab, &host).is_some_and(|n| n > 1 << 20)
        });
        if how == "kill talon" {
            child.kill().unwrap();
        } else {
            lab.sh_ok(&host, "pkill -KILL -f '^sshd: root@notty'");
        }
        let status = child.wait().unwrap();
        assert!(!status.success(), "{how}: the run must not succeed");
        wait_for("the temp file to go", Duration::from_secs(30), || {
            temp_size(&lab, &host).is_none()
        });
        assert_eq!(
            lab.read(&host, "/root/big.bin").as_deref(),
            Some("old content\n"),
            "{how}: the destination lost its old content"
        );
    }
    // A temp file of a run that died before it could clean up is removed by the next write to
    // that destination, and the full write lands.
    lab.sh_ok(
        &host,
        "printf partial > /root/.big.bin.talon.999999.1234; chmod 600 /root/.big.bin.talon.999999.1234",
    );
    let run = lab.run(&pb, &[]);
    run.assert_code(0);
    assert_eq!(temp_size(&lab, &host), None, "stale temp file left");
    let sum = lab.sh_ok(&host, "sha1sum < /root/big.bin");
    let local = Command::new("sh")
        .arg("-c")
        .arg(format!("sha1sum < {}", big.display()))
        .output()
        .unwrap();
    assert_eq!(sum.trim(), common::text(&local.stdout).trim());
    let again: Run = lab.run(&pb, &[]);
    again.assert_code(0);
    assert_eq!(again.changed(&host), 0);
}

/// `file: state=directory` failed with "mkdir: cannot create directory ...: File exists" when
/// another process created the directory between talon's test and its mkdir (hosts sharing a
/// filesystem). Here a `mkdir` first in PATH always loses that race.
#[test]
fn mkdir_race_a_directory_that_appears_meanwhile_is_success() {
    let dir = tempfile::Builder::new()
        .prefix("talon-mkdir-race-")
        .tempdir()
        .unwrap();
    let d = dir.path();
    let bin = d.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = bin.join("mkdir");
    std::fs::write(
        &fake,
        "#!/bin/sh\n# Another process wins the race: the directory appears just before this mkdir.\nfor a; do last=$a; done\n/bin/mkdir -p -- \"$last\" 2>/dev/null\nexec /bin/mkdir \"$@\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        d.join("inventory.yml"),
        "all:\n  hosts:\n    box1:\n      ansible_connection: local\n",
    )
    .unwrap();
    let pb = d.join("race.yml");
    std::fs::write(
        &pb,
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - file: {{path: {0}/a/b/c, state: directory, mode: \"0750\"}}\n    - file: {{path: {0}/x/y, state: directory, owner: root}}\n",
            d.join("out").display()
        ),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = common::talon()
        .arg("run")
        .arg(&pb)
        .arg("-i")
        .arg(d.join("inventory.yml"))
        .env("PATH", path)
        .env("TALON_STATE_DIR", d.join("state"))
        .output()
        .unwrap();
    let run = Run::from(out);
    run.assert_code(0);
    assert_eq!(run.changed("box1"), 2, "{}", run.stdout);
    let mode = std::fs::metadata(d.join("out/a/b/c"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o750);
    assert!(d.join("out/x/y").is_dir());
}

/// D11: SIGINT ended talon at once (exit 130) with no recap and no message, and local child
/// processes outlived it. Now: nothing more starts, the in-flight task is abandoned (its local
/// process killed), the recap of what ran is printed, and the exit code is ansible-playbook's 99.
#[test]
fn d11_interrupt_stops_cleanly_with_a_recap_and_exit_99() {
    let dir = tempfile::Builder::new()
        .prefix("talon-sigint-")
        .tempdir()
        .unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("inventory.yml"),
        "all:\n  hosts:\n    box1:\n      ansible_connection: local\n",
    )
    .unwrap();
    let out = d.join("out");
    let pb = d.join("long.yml");
    std::fs::write(
        &pb,
        format!(
            concat!(
                "- hosts: all\n  gather_facts: false\n  tasks:\n",
                "    - copy: {{content: \"first\\n\", dest: {0}/first.txt}}\n",
                "    - shell: 'touch {0}/started; exec sleep 47.123'\n",
                "    - copy: {{content: \"never\\n\", dest: {0}/never.txt}}\n",
                "- hosts: all\n  gather_facts: false\n  tasks:\n",
                "    - copy: {{content: \"never\\n\", dest: {0}/never2.txt}}\n",
            ),
            out.display()
        ),
    )
    .unwrap();
    std::fs::create_dir(&out).unwrap();
    let child = common::talon()
        .arg("run")
        .arg(&pb)
        .arg("-i")
        .arg(d.join("inventory.yml"))
        .env("TALON_STATE_DIR", d.join("state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the long task to start", Duration::from_secs(30), || {
        out.join("started").exists()
    });
    let start = Instant::now();
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "talon waited for the task"
    );
    let run = Run::from(output);
    assert_eq!(run.code, 99, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("[ERROR]: User interrupted execution"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.recap("box1")[..2],
        [1, 1],
        "the recap counts what ran: {}",
        run.stdout
    );
    assert!(out.join("first.txt").exists());
    assert!(!out.join("never.txt").exists() && !out.join("never2.txt").exists());
    // The local process of the abandoned task did not outlive talon.
    let ps = Command::new("pgrep")
        .args(["-f", "sleep 47.123"])
        .output()
        .unwrap();
    assert!(ps.stdout.is_empty(), "left running: {}", common::text(&ps.stdout));
}

/// Unpauses a container when dropped, so a failed assertion leaves no paused lab host behind.
struct Unpause(String);

impl Drop for Unpause {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["unpause", &self.0]).output();
    }
}

/// A `docker pause`d host held the whole run for 60 s (keepalives 15 s apart) and its error read
/// "cannot connect". Now it is unreachable after `ServerAliveInterval x (ServerAliveCountMax + 1)`
/// (here 1 s x 3), the message names the task the connection was lost under, and the other host
/// goes on: under `strategy: free` it finishes before the paused one is given up.
#[test]
fn stall_a_paused_host_is_unreachable_after_its_keepalives_and_others_go_on() {
    let lab = Lab::up(2);
    let d = lab.dir.path();
    let (h1, h2) = (lab.hosts[0].0.clone(), lab.hosts[1].0.clone());
    let ssh_args = format!(
        "ansible_ssh_common_args='-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o ServerAliveInterval=1 -o ServerAliveCountMax=2'",
        d.join("known_hosts").display()
    );
    for strategy in ["linear", "free"] {
        let pb = d.join(format!("stall-{strategy}.yml"));
        std::fs::write(
            &pb,
            format!(
                concat!(
                    "- hosts: all\n  gather_facts: false\n  strategy: {0}\n  tasks:\n",
                    "    - shell: touch /tmp/started-{0}\n",
                    "    - name: held up\n      shell: 'if [ \"$(hostname)\" = {1} ]; then sleep 30; fi'\n",
                    "    - copy: {{content: \"after\\n\", dest: /tmp/after-{0}}}\n",
                ),
                strategy, h2
            ),
        )
        .unwrap();
        let child = common::talon()
            .arg("run")
            .arg(&pb)
            .arg("-i")
            .arg(lab.inventory())
            .args(["-e", &ssh_args])
            .env("TALON_STATE_DIR", d.join("state"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for(
            "the first task on the second host",
            Duration::from_secs(60),
            || lab.read(&h2, &format!("/tmp/started-{strategy}")).is_some(),
        );
        // Let the second host enter its long task, then freeze it.
        std::thread::sleep(Duration::from_millis(700));
        let container = lab.container(&h2).to_string();
        let paused = Instant::now();
        assert!(
            Command::new("docker")
                .args(["pause", &container])
                .output()
                .unwrap()
                .status
                .success()
        );
        let guard = Unpause(container);
        let run = Run::from(child.wait_with_output().unwrap());
        let took = paused.elapsed();
        drop(guard);
        assert!(
            took < Duration::from_secs(15),
            "{strategy}: the run took {took:?} after the pause"
        );
        run.assert_code(4);
        assert_eq!(run.recap(&h1), [3, 3, 0, 0, 0, 0, 0], "{}", run.stdout);
        assert_eq!(run.recap(&h2)[2], 1, "{}", run.stdout);
        let lost = run
            .stdout
            .lines()
            .position(|l| l.contains(&format!("[{h2}]")) && l.contains("lost during TASK [held up]"))
            .unwrap_or_else(|| panic!("no 'lost during TASK' line:\n{}", run.stdout));
        assert!(run.stdout.contains("stopped answering"), "{}", run.stdout);
        assert_eq!(
            lab.read(&h1, &format!("/tmp/after-{strategy}")).as_deref(),
            Some("after\n")
        );
        if strategy == "free" {
            let last_h1 = run
                .stdout
                .lines()
                .collect::<Vec<_>>()
                .iter()
                .rposition(|l| l.contains(&format!("[{h1}]")))
                .unwrap();
            assert!(last_h1 < lost, "{h1} waited for the paused host:\n{}", run.stdout);
        }
    }
}

/// A port that answers with something else than SSH (here an SMTP greeting) made the connect
/// wait out its whole timeout and say only "timed out". Now it is an error at once that shows
/// what answered.
#[test]
fn stall_a_non_ssh_banner_is_named_at_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut conn in listener.incoming().flatten() {
            use std::io::Write;
            let _ = conn.write_all(b"220 mail.example ESMTP ready\r\n");
            held.push(conn);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("hosts.ini"),
        format!("mail ansible_host=127.0.0.1 ansible_port={port}\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("pb.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n",
    )
    .unwrap();
    let start = Instant::now();
    let out = common::talon()
        .arg("run")
        .arg(d.join("pb.yml"))
        .arg("-i")
        .arg(d.join("hosts.ini"))
        .args(["--known-hosts"])
        .arg(d.join("known_hosts"))
        .args(["--timeout", "30"])
        .env("TALON_STATE_DIR", d.join("state"))
        .output()
        .unwrap();
    let took = start.elapsed();
    let run = Run::from(out);
    run.assert_code(4);
    assert!(
        run.stdout.contains(&format!(
            // The result is shown as JSON, as ansible's default callback dumps it.
            r#"port {port} answered with a non-SSH banner \"220 mail.example ESMTP ready\""#
        )),
        "{}",
        run.stdout
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
