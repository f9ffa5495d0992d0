//! The SSH transport against a real OpenSSH server: each test starts its own `sshd` on
//! 127.0.0.1 with a throwaway host key and client key (needs the `openssh-server` package and
//! root, as in CI), and stops it when the test ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use talon::transport::{ConnectSpec, Connection, ExecRequest, ExitStatus, TransportError};

const SSHD: &str = "/usr/sbin/sshd";

/// A running sshd; killed on drop.
struct Sshd {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default();
            eprintln!("--- sshd log ---\n{log}");
        }
    }
}

fn keygen(path: &Path, passphrase: &str) {
    keygen_type(path, passphrase, "ed25519");
}

fn keygen_type(path: &Path, passphrase: &str, key_type: &str) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", key_type, "-N", passphrase, "-C", "talon-test", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen must be installed (package openssh-client)");
    assert!(status.success(), "ssh-keygen failed for {}", path.display());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn local_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl Sshd {
    fn start() -> Sshd {
        Sshd::start_with("")
    }

    /// A server with `extra` lines appended to its configuration.
    fn start_with(extra: &str) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install it with `apt-get install -y openssh-server` to run the SSH transport tests"
        );
        // sshd insists on its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_ed25519"), "");
        keygen(&d.join("client_ed25519"), "");
        std::fs::copy(d.join("client_ed25519.pub"), d.join("authorized_keys")).unwrap();
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nPidFile none\nUsePAM no\nStrictModes no\n\
             AuthorizedKeysFile {ak}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nAllowTcpForwarding yes\n\
             LogLevel ERROR\n{extra}",
            host = d.join("host_ed25519").display(),
            ak = d.join("authorized_keys").display(),
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("sshd.log")).unwrap())
            .spawn()
            .unwrap();
        let mut sshd = Sshd { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = sshd.child.try_wait().unwrap() {
                panic!("sshd exited early with {status}");
            }
            assert!(Instant::now() < deadline, "sshd did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        sshd
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn host_key_line(&self) -> String {
        std::fs::read_to_string(self.path("host_ed25519.pub")).unwrap()
    }

    /// A spec that trusts this server's host key and logs in with the client key.
    fn spec(&self) -> ConnectSpec {
        let known = self.path("known_hosts");
        if !known.exists() {
            std::fs::write(
                &known,
                format!("[127.0.0.1]:{} {}", self.port, self.host_key_line()),
            )
            .unwrap();
        }
        let mut spec = ConnectSpec::ssh("testhost", "127.0.0.1", self.port);
        spec.user = Some(local_user());
        spec.identity_files = vec![self.path("client_ed25519")];
        spec.known_hosts = known;
        spec.connect_timeout = Duration::from_secs(10);
        spec
    }
}

/// Runs `true`; did it succeed?
async fn runs_true(conn: &Connection) -> bool {
    conn.exec(&ExecRequest::argv(["true"]))
        .await
        .unwrap()
        .status
        .success()
}

async fn connect(spec: &ConnectSpec) -> Connection {
    match Connection::open(spec).await {
        Ok(c) => c,
        Err(e) => panic!("connect failed: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_round_trips_argv_stdin_status_and_stderr() {
    let sshd = Sshd::start();
    let conn = connect(&sshd.spec()).await;

    let nasty = "a b  'single' \"double\" $(echo pwned) `id` \\ *\n\tline2 ; & | > é";
    let out = conn
        .exec(&ExecRequest::argv(["printf", "%s", nasty]))
        .await
        .unwrap();
    assert_eq!(out.status, ExitStatus::Code(0), "stderr: {}", out.stderr_str());
    assert_eq!(out.stdout, nasty.as_bytes());

    let data: Vec<u8> = (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let out = conn
        .exec(&ExecRequest::argv(["cat"]).with_stdin(data.clone()))
        .await
        .unwrap();
    assert_eq!(out.status, ExitStatus::Code(0));
    assert_eq!(out.stdout.len(), data.len());
    assert!(out.stdout == data, "1 MiB stdin must come back byte-identical");

    // No stdin at all: EOF is still sent, so cat ends.
    let out = tokio::time::timeout(Duration::from_secs(10), conn.exec(&ExecRequest::argv(["cat"])))
        .await
        .expect("cat without stdin must not hang")
        .unwrap();
    assert_eq!(out.status, ExitStatus::Code(0));
    assert!(out.stdout.is_empty());

    // A command that ignores a large stdin still completes.
    let out = conn
        .exec(&ExecRequest::argv(["true"]).with_stdin(data))
        .await
        .unwrap();
    assert_eq!(out.status, ExitStatus::Code(0));

    let out = conn.exec(&ExecRequest::shell("exit 3")).await.unwrap();
    assert_eq!(out.status, ExitStatus::Code(3));
    assert_eq!(out.status.rc(), 3);

    let out = conn
        .exec(&ExecRequest::shell("echo before; kill -9 $$"))
        .await
        .unwrap();
    // Commands run on a long-lived remote shell, which reports a signal as sh does: 128 + n.
    assert_eq!(out.status, ExitStatus::Code(137));
    assert_eq!(out.stdout_str(), "before\n");

    let out = conn
        .exec(&ExecRequest::shell("echo out; echo err >&2; exit 1"))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "out\n");
    assert_eq!(out.stderr_str(), "err\n");
    assert_eq!(out.status, ExitStatus::Code(1));

    let mut req = ExecRequest::argv(["sh", "-c", "pwd; printf %s \"$GREETING\""]);
    req.chdir = Some("/tmp".into());
    req.env = vec![("GREETING".into(), "hi there".into())];
    let out = conn.exec(&req).await.unwrap();
    assert_eq!(out.stdout_str(), "/tmp\nhi there");

    let out = conn
        .exec(&ExecRequest::argv(["/nonexistent/program"]))
        .await
        .unwrap();
    assert_eq!(out.status, ExitStatus::Code(127));
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_shell_keeps_commands_apart_and_output_exact() {
    let sshd = Sshd::start();
    let conn = connect(&sshd.spec()).await;

    // Nothing one command does to its shell reaches the next one.
    let out = conn
        .exec(&ExecRequest::shell("cd /tmp; X=1; export Y=2; umask 077; exit 4"))
        .await
        .unwrap();
    assert_eq!(out.status, ExitStatus::Code(4));
    let out = conn
        .exec(&ExecRequest::shell("pwd; echo \"${X-unset} ${Y-unset}\"; umask"))
        .await
        .unwrap();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    assert_eq!(out.stdout_str(), format!("{home}\nunset unset\n0022\n"));

    // `$$` is the command's own shell, different for every command.
    let a = conn
        .exec(&ExecRequest::shell("echo $$"))
        .await
        .unwrap()
        .stdout_str();
    let b = conn
        .exec(&ExecRequest::shell("echo $$"))
        .await
        .unwrap()
        .stdout_str();
    assert_ne!(a, b, "each command must get its own sh (pid {a} twice)");

    // Output without a final newline, binary output and output that looks like a marker.
    let out = conn.exec(&ExecRequest::shell("printf abc")).await.unwrap();
    assert_eq!(out.stdout, b"abc");
    let out = conn
        .exec(&ExecRequest::shell(
            "printf '\\000\\001\\377t0 0\\n'; printf 'e\\000' >&2",
        ))
        .await
        .unwrap();
    assert_eq!(out.stdout, b"\x00\x01\xfft0 0\n");
    assert_eq!(out.stderr, b"e\x00");

    // stdin: empty, small binary, and larger than what is sent inline (a channel of its own).
    let out = conn
        .exec(&ExecRequest::argv(["wc", "-c"]).with_stdin(Vec::new()))
        .await
        .unwrap();
    assert_eq!(out.stdout_str().trim(), "0");
    // stdin without NUL travels as a printf format: every other byte value, printf's own
    // specials, a digit after an escaped byte, a trailing backslash; small, and larger than the
    // always-printf size as text and as mostly non-ASCII (base64 then).
    let mut tricky: Vec<u8> = (1..=255u8).collect();
    tricky.extend_from_slice(b"%s %d %% \\c \\n \\047 '' \n7\x017 end\\");
    let text: Vec<u8> = b"line %s with 'quotes' and \\ \n".repeat(4096);
    let high: Vec<u8> = (0..100_000u32).map(|i| 0x80 + (i % 100) as u8).collect();
    for (what, data) in [
        ("every byte but NUL", tricky),
        ("128 KiB of text", text),
        ("non-ASCII", high),
    ] {
        let out = conn
            .exec(&ExecRequest::argv(["cat"]).with_stdin(data.clone()))
            .await
            .unwrap();
        assert_eq!(out.status, ExitStatus::Code(0), "{what}: {}", out.stderr_str());
        assert!(out.stdout == data, "{what}: stdin altered on the way");
    }
    let big: Vec<u8> = (0..5 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let out = conn
        .exec(&ExecRequest::argv(["sha256sum"]).with_stdin(big.clone()))
        .await
        .unwrap();
    let want = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&big))
    };
    assert!(
        out.stdout_str().starts_with(&want),
        "5 MiB stdin altered: {}",
        out.stdout_str()
    );

    // A background process that keeps stdout open does not hold the command up.
    let started = Instant::now();
    let out = conn
        .exec(&ExecRequest::shell("sleep 3 & echo started"))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "started\n");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );

    // A command that kills the remote shell (its parent is the subshell the shell forked for it)
    // is an error for that command only.
    let err = conn
        .exec(&ExecRequest::shell(
            "read -r _ _ _ d _ </proc/$PPID/stat; kill -9 $d; sleep 1",
        ))
        .await
        .expect_err("the shell running the command was killed");
    assert!(err.to_string().contains("remote shell ended"), "{err}");
    assert!(runs_true(&conn).await, "the next command gets a new shell");
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_execs_share_one_connection() {
    let sshd = Sshd::start();
    let conn = connect(&sshd.spec()).await;
    // 20 > sshd's default MaxSessions (10): the transport must queue, not fail.
    let runs = (0..20).map(|i| {
        let conn = &conn;
        async move {
            let req = ExecRequest::argv(["sh", "-c", "sleep 0.5; printf %s \"$1\"", "sh", &i.to_string()]);
            (i, conn.exec(&req).await)
        }
    });
    let started = Instant::now();
    for (i, res) in futures::future::join_all(runs).await {
        let out = res.unwrap_or_else(|e| panic!("exec {i} failed: {e}"));
        assert_eq!(out.stdout_str(), i.to_string());
        assert!(out.status.success());
    }
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "20 x 0.5 s must run concurrently (10 s one after the other), took {:?}",
        started.elapsed()
    );

    // Warm sequential latency (the benchmark's 25 tasks on one host). Most of it is sshd
    // starting the login shell for each command (Debian's bash sources ~/.bashrc under sshd), so
    // the bound is loose; the number is printed for comparison.
    let started = Instant::now();
    for _ in 0..25 {
        let out = conn.exec(&ExecRequest::argv(["true"])).await.unwrap();
        assert!(out.status.success());
    }
    let elapsed = started.elapsed();
    eprintln!("25 sequential execs on a warm connection: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(25), "25 execs took {elapsed:?}");
    conn.close().await;
}

#[tokio::test]
async fn unknown_host_key_is_refused_then_recorded_on_request() {
    let sshd = Sshd::start();
    let mut spec = sshd.spec();
    spec.known_hosts = sshd.path("fresh/known_hosts");

    match Connection::open(&spec).await {
        Err(TransportError::UnknownHostKey { fingerprint, .. }) => {
            assert!(fingerprint.starts_with("SHA256:"))
        }
        Err(e) => panic!("expected UnknownHostKey, got {e}"),
        Ok(_) => panic!("an unknown host key must be refused by default"),
    }
    assert!(!spec.known_hosts.exists(), "refusing must not record anything");

    spec.accept_new_host_keys = true;
    connect(&spec).await.close().await;
    let recorded = std::fs::read_to_string(&spec.known_hosts).unwrap();
    let key = sshd.host_key_line();
    let key_fields: Vec<&str> = key.split_whitespace().take(2).collect();
    assert_eq!(
        recorded,
        format!("[127.0.0.1]:{} {}\n", sshd.port, key_fields.join(" "))
    );

    spec.accept_new_host_keys = false;
    let conn = connect(&spec).await;
    assert!(runs_true(&conn).await);
    conn.close().await;

    // The same entry hashed by OpenSSH (`ssh-keygen -H`) is still recognised.
    let status = Command::new("ssh-keygen")
        .args(["-q", "-H", "-f"])
        .arg(&spec.known_hosts)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        std::fs::read_to_string(&spec.known_hosts)
            .unwrap()
            .starts_with("|1|")
    );
    connect(&spec).await.close().await;
}

#[tokio::test]
async fn changed_host_key_is_refused_even_with_accept_new() {
    let sshd = Sshd::start();
    keygen(&sshd.path("other_ed25519"), "");
    let other = std::fs::read_to_string(sshd.path("other_ed25519.pub")).unwrap();
    let mut spec = sshd.spec();
    spec.known_hosts = sshd.path("changed_known_hosts");
    std::fs::write(
        &spec.known_hosts,
        format!("# old\n[127.0.0.1]:{} {other}", sshd.port),
    )
    .unwrap();
    spec.accept_new_host_keys = true;
    match Connection::open(&spec).await {
        Err(TransportError::ChangedHostKey {
            line, known_hosts, ..
        }) => {
            assert_eq!(line, 2);
            assert_eq!(known_hosts, spec.known_hosts.display().to_string());
        }
        Err(e) => panic!("expected ChangedHostKey, got {e}"),
        Ok(_) => panic!("a changed host key must be refused"),
    }
    let after = std::fs::read_to_string(&spec.known_hosts).unwrap();
    assert_eq!(
        after.lines().count(),
        2,
        "nothing may be appended for a changed key"
    );
}

#[tokio::test]
async fn connection_refused_is_fast_and_silent_server_times_out() {
    let mut spec = ConnectSpec::ssh("nobody", "127.0.0.1", free_port());
    spec.connect_timeout = Duration::from_secs(5);
    let started = Instant::now();
    match Connection::open(&spec).await {
        Err(TransportError::Connect { message, .. }) => assert!(message.contains("refused"), "{message}"),
        Err(e) => panic!("expected Connect, got {e}"),
        Ok(_) => panic!("nothing listens there"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));

    // Accepts TCP but never speaks SSH: bounded by connect_timeout.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut spec = ConnectSpec::ssh("mute", "127.0.0.1", listener.local_addr().unwrap().port());
    spec.connect_timeout = Duration::from_millis(500);
    let started = Instant::now();
    match Connection::open(&spec).await {
        Err(TransportError::Timeout { host, .. }) => assert_eq!(host, "mute"),
        Err(e) => panic!("expected Timeout, got {e}"),
        Ok(_) => panic!("the server never answered"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(listener);
}

#[tokio::test]
async fn auth_failure_lists_what_was_tried_without_key_material() {
    let sshd = Sshd::start();
    keygen(&sshd.path("stranger_ed25519"), "");
    keygen(&sshd.path("locked_ed25519"), "correct horse");
    let mut spec = sshd.spec();
    spec.identity_files = vec![
        sshd.path("missing_key"),
        sshd.path("stranger_ed25519"),
        sshd.path("locked_ed25519"),
    ];
    let err = match Connection::open(&spec).await {
        Err(e @ TransportError::Auth { .. }) => e.to_string(),
        Err(e) => panic!("expected Auth, got {e}"),
        Ok(_) => panic!("no authorized key was offered"),
    };
    assert!(
        err.contains(&format!("{} (not found)", sshd.path("missing_key").display())),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{} (rejected by the server)",
            sshd.path("stranger_ed25519").display()
        )),
        "{err}"
    );
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("stdin is a terminal: not checking the encrypted-key message (it would prompt)");
    } else {
        assert!(err.contains("encrypted") && err.contains("ssh-add"), "{err}");
    }
    let secret = std::fs::read_to_string(sshd.path("stranger_ed25519")).unwrap();
    for line in secret.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!err.contains(line), "the error must not contain key material");
    }
    let public = std::fs::read_to_string(sshd.path("stranger_ed25519.pub")).unwrap();
    assert!(!err.contains(public.split_whitespace().nth(1).unwrap()));
}

#[tokio::test]
async fn proxy_jump_checks_both_host_keys() {
    let sshd = Sshd::start();
    let jump = sshd.spec();
    let mut target = sshd.spec();
    target.name = "behind".into();
    target.jump = Some(Box::new(jump.clone()));
    let conn = connect(&target).await;
    let out = conn
        .exec(&ExecRequest::argv(["printf", "%s", "via jump"]))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "via jump");
    conn.close().await;

    // The jump host's key is trusted, the target's is not: the target must be refused.
    target.known_hosts = sshd.path("empty_known_hosts");
    std::fs::write(&target.known_hosts, "").unwrap();
    match Connection::open(&target).await {
        Err(TransportError::UnknownHostKey { host, .. }) => assert_eq!(host, "behind"),
        Err(e) => panic!("expected UnknownHostKey for the target, got {e}"),
        Ok(_) => panic!("the target's host key must be checked through the jump host"),
    }

    // An unknown jump host key stops before the target.
    let mut untrusted_jump = jump;
    untrusted_jump.name = "bastion".into();
    untrusted_jump.known_hosts = sshd.path("empty_known_hosts");
    target.known_hosts = sshd.path("known_hosts");
    target.jump = Some(Box::new(untrusted_jump));
    match Connection::open(&target).await {
        Err(TransportError::UnknownHostKey { host, .. }) => assert_eq!(host, "bastion"),
        Err(e) => panic!("expected UnknownHostKey for the jump host, got {e}"),
        Ok(_) => panic!("the jump host's key must be checked"),
    }
}

#[tokio::test]
async fn dropped_connection_is_reported_as_unreachable() {
    let sshd = Sshd::start();
    // A TCP relay we can cut: client -> relay -> sshd.
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_port = relay.local_addr().unwrap().port();
    let sshd_port = sshd.port;
    let relay_task = tokio::spawn(async move {
        let (mut client, _) = relay.accept().await.unwrap();
        let mut server = tokio::net::TcpStream::connect(("127.0.0.1", sshd_port))
            .await
            .unwrap();
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    });
    let mut spec = sshd.spec();
    spec.port = relay_port;
    spec.known_hosts = sshd.path("relay_known_hosts");
    spec.accept_new_host_keys = true;
    let conn = connect(&spec).await;
    assert!(runs_true(&conn).await);

    let cut = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        relay_task.abort();
    };
    let sleeper = ExecRequest::shell("sleep 5");
    let (res, ()) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(20), conn.exec(&sleeper)),
        cut
    );
    match res.expect("a dead connection must not hang exec") {
        Err(e) => assert!(e.is_unreachable(), "{e}"),
        Ok(out) => panic!("exec over a cut connection succeeded: {out:?}"),
    }
    match conn.exec(&ExecRequest::argv(["true"])).await {
        Err(e) => assert!(e.is_unreachable(), "{e}"),
        Ok(out) => panic!("exec after the cut succeeded: {out:?}"),
    }
    let _ = std::io::stderr().flush();
}

#[tokio::test]
async fn rsa_keys_authenticate_with_sha2_signatures() {
    let sshd = Sshd::start();
    // OpenSSH 8.8+ refuses SHA-1 `ssh-rsa` signatures by default, so success means rsa-sha2-*.
    keygen_type(&sshd.path("client_rsa"), "", "rsa");
    let public = std::fs::read_to_string(sshd.path("client_rsa.pub")).unwrap();
    let mut authorized = std::fs::OpenOptions::new()
        .append(true)
        .open(sshd.path("authorized_keys"))
        .unwrap();
    authorized.write_all(public.as_bytes()).unwrap();
    let mut spec = sshd.spec();
    spec.identity_files = vec![sshd.path("client_rsa")];
    let conn = connect(&spec).await;
    assert!(runs_true(&conn).await);
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_connections_record_the_host_once() {
    let sshd = Sshd::start();
    let mut spec = sshd.spec();
    spec.known_hosts = sshd.path("shared/known_hosts");
    spec.accept_new_host_keys = true;
    let conns = futures::future::join_all((0..16).map(|_| Connection::open(&spec))).await;
    for c in conns {
        let c = c.unwrap_or_else(|e| panic!("connect failed: {e}"));
        c.close().await;
    }
    let text = std::fs::read_to_string(&spec.known_hosts).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[tokio::test]
async fn d16_a_mute_host_fails_the_sftp_path_and_its_shell_fallback_in_one_connect_timeout() {
    // Accepts TCP but never speaks SSH. The file primitives and facts try SFTP first and then
    // the shell: the host is reported after one connect timeout, not two.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut spec = ConnectSpec::ssh("mute", "127.0.0.1", listener.local_addr().unwrap().port());
    spec.connect_timeout = Duration::from_millis(800);
    let conn = Connection::lazy(&spec);
    let started = Instant::now();
    assert!(conn.sftp().await.is_none());
    match conn.exec(&ExecRequest::shell("true")).await {
        Err(TransportError::Timeout { host, .. }) => assert_eq!(host, "mute"),
        Err(e) => panic!("expected Timeout, got {e}"),
        Ok(_) => panic!("the server never answered"),
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "two connect timeouts: {took:?}"
    );
    // The failure was reported once: the next command tries to connect again.
    let started = Instant::now();
    assert!(conn.exec(&ExecRequest::shell("true")).await.is_err());
    assert!(started.elapsed() >= Duration::from_millis(700));
    drop(listener);
}

/// stdin with a NUL byte travels as base64 on the remote shell; whether the host has `base64` is
/// asked when the first such request comes (not when the shell starts: most connections never
/// need it). A host without it (here: a PATH without it) runs such requests on a channel of
/// their own, stdin intact, and the shell stays usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_with_nul_on_a_host_without_base64_takes_a_channel_of_its_own() {
    let bin = tempfile::tempdir().unwrap();
    for p in ["cat", "sha256sum"] {
        std::os::unix::fs::symlink(format!("/usr/bin/{p}"), bin.path().join(p)).unwrap();
    }
    let sshd = Sshd::start_with(&format!("SetEnv PATH={}\n", bin.path().display()));
    let conn = connect(&sshd.spec()).await;
    let out = conn
        .exec(&ExecRequest::shell("command -v base64 || echo none"))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "none\n", "the test's PATH has no base64");
    let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    for _ in 0..2 {
        let out = conn
            .exec(&ExecRequest::argv(["cat"]).with_stdin(data.clone()))
            .await
            .unwrap();
        assert_eq!(out.status, ExitStatus::Code(0), "{}", out.stderr_str());
        assert!(out.stdout == data, "stdin altered on the way");
    }
    let out = conn.exec(&ExecRequest::argv(["/bin/true"])).await.unwrap();
    assert_eq!(out.status, ExitStatus::Code(0), "the shell is still usable");
}
