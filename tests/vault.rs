//! Ansible Vault end to end: `talon vault` and `ansible-vault` (ansible-core 2.19, from
//! `target/ansible-venv`) decrypt each other's files and strings; runs read vaulted files and
//! inline `!vault` values with ansible-core's password sources and errors; every decrypted value
//! is a secret (never in argv, never in output); and a comparison with `ansible-playbook` on lab
//! hosts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use common::ansible::{Compare, ansible_bin};

/// A value only a vaulted group_vars file holds.
const GROUP_SECRET: &str = "grp-V4ult-9c1e77ab";
/// A value only an inline `!vault` holds.
const INLINE_SECRET: &str = "inl-V4ult-3d0f12ce";
/// The content of a vaulted `copy src` file.
const FILE_SECRET: &str = "file-V4ult-b7e2a951";

fn ansible_vault() -> Command {
    let mut c = Command::new(ansible_bin("ansible-vault"));
    c.env("ANSIBLE_NOCOLOR", "1");
    c
}

fn talon_vault() -> Command {
    let mut c = common::talon();
    c.arg("vault");
    c
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn ok(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn with_stdin(mut c: Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// Encrypts `text` with `ansible-vault` into `rel` (password file `pw`, vault id `id` if any).
fn av_encrypt(dir: &Path, rel: &str, text: &str, pw: &Path, id: Option<&str>) -> PathBuf {
    let p = write(dir, rel, text);
    let mut c = ansible_vault();
    c.arg("encrypt");
    match id {
        Some(id) => c.arg("--vault-id").arg(format!("{id}@{}", pw.display())),
        None => c.arg("--vault-password-file").arg(pw),
    };
    c.arg(&p);
    ok(c);
    p
}

#[test]
fn talon_and_ansible_vault_decrypt_each_others_files() {
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    let p1 = write(d, "pw1", "first-pass\n");
    let p2 = write(d, "pw2", "  second-pass  \n");
    let plain = "a: 1\nb: \"two words\"\nc: [x, y]\n";

    // ansible-vault writes (1.1 and 1.2 with a vault id), talon reads.
    let f = av_encrypt(d, "a.yml", plain, &p1, None);
    assert!(
        std::fs::read_to_string(&f)
            .unwrap()
            .starts_with("$ANSIBLE_VAULT;1.1;AES256\n")
    );
    let mut c = talon_vault();
    c.args(["view", "--vault-password-file"]).arg(&p1).arg(&f);
    assert_eq!(ok(c), plain);
    let g = av_encrypt(d, "b.yml", plain, &p2, Some("prod"));
    let mut c = talon_vault();
    c.args(["decrypt", "--vault-id"])
        .arg(format!("dev@{}", p1.display()))
        .arg("--vault-id")
        .arg(format!("prod@{}", p2.display()))
        .arg(&g);
    ok(c);
    assert_eq!(std::fs::read_to_string(&g).unwrap(), plain);

    // talon writes, ansible-vault reads (in place, and with --output).
    let h = write(d, "c.yml", plain);
    let mut c = talon_vault();
    c.args(["encrypt", "--vault-id"])
        .arg(format!("prod@{}", p2.display()))
        .arg(&h);
    ok(c);
    let text = std::fs::read_to_string(&h).unwrap();
    assert!(text.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"), "{text}");
    assert!(text.lines().skip(1).all(|l| l.len() <= 80));
    let mut c = ansible_vault();
    c.args(["view", "--vault-id"])
        .arg(format!("prod@{}", p2.display()))
        .arg(&h);
    assert_eq!(ok(c), plain);
    let out = d.join("c.out");
    let mut c = talon_vault();
    c.args(["encrypt", "--vault-password-file"])
        .arg(&p1)
        .arg("--output")
        .arg(&out)
        .arg(d.join("a.yml.plain"));
    write(d, "a.yml.plain", plain);
    ok(c);
    let mut c = ansible_vault();
    c.args(["decrypt", "--vault-password-file"])
        .arg(&p1)
        .args(["--output", "-"])
        .arg(&out);
    assert_eq!(ok(c), plain);

    // The wrong password: ansible-core's message, exit 1.
    let mut c = talon_vault();
    let o = c
        .args(["view", "--vault-password-file"])
        .arg(&p2)
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("Decryption failed (no vault secrets were found that could decrypt)")
            && e.contains("a.yml"),
        "{e}"
    );

    // Rekey by talon, read by ansible-vault with the new password.
    let mut c = talon_vault();
    c.args(["rekey", "--vault-password-file"])
        .arg(&p1)
        .arg("--new-vault-password-file")
        .arg(&p2)
        .arg(&f);
    ok(c);
    let mut c = ansible_vault();
    c.args(["view", "--vault-password-file"]).arg(&p2).arg(&f);
    assert_eq!(ok(c), plain);

    // Two vault ids and no --encrypt-vault-id: ansible-vault's refusal.
    let mut c = talon_vault();
    let o = c
        .args(["encrypt", "--vault-id"])
        .arg(format!("a@{}", p1.display()))
        .arg("--vault-id")
        .arg(format!("b@{}", p2.display()))
        .arg(&h)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("Specify the vault-id to encrypt with --encrypt-vault-id")
    );
    assert_eq!(
        o.status.code(),
        Some(5),
        "ansible-vault's exit code for option errors"
    );
}

#[test]
fn encrypt_string_interoperates_and_client_scripts_get_the_vault_id() {
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    let p1 = write(d, "pw1", "first-pass\n");
    // A vault id client script: answers only for `--vault-id prod`.
    let client = write(
        d,
        "pass-client.sh",
        "#!/bin/sh\n[ \"$1\" = --vault-id ] && [ \"$2\" = prod ] || { echo \"unknown $2\" >&2; exit 2; }\necho client-pass\n",
    );
    std::fs::set_permissions(&client, std::fs::Permissions::from_mode(0o700)).unwrap();
    let prod = format!("prod@{}", client.display());

    // talon encrypt_string (--name), used by ansible-playbook.
    let mut c = talon_vault();
    c.args([
        "encrypt_string",
        "--vault-id",
        &prod,
        "--name",
        "tok",
        "interop-one",
    ]);
    let yaml = ok(c);
    assert!(
        yaml.starts_with("tok: !vault |\n          $ANSIBLE_VAULT;1.2;AES256;prod\n"),
        "{yaml}"
    );
    write(d, "vars.yml", &yaml);
    let pb = write(
        d,
        "pb.yml",
        "- hosts: localhost\n  gather_facts: false\n  vars_files: [vars.yml]\n  tasks:\n    - debug: {msg: \"{{ tok }}\"}\n",
    );
    let o = Command::new(ansible_bin("ansible-playbook"))
        .args(["-i", "localhost,", "-c", "local", "--vault-id", &prod])
        .arg(&pb)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("interop-one"),
        "{o:?}"
    );

    // ansible-vault encrypt_string from stdin (--stdin-name), read by talon vault decrypt.
    let mut c = ansible_vault();
    c.args(["encrypt_string", "--vault-password-file"])
        .arg(&p1)
        .args(["--stdin-name", "other"]);
    let o = with_stdin(c, "interop-two");
    let yaml = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(yaml.starts_with("other: !vault |"), "{yaml}");
    let payload: String = yaml.lines().skip(1).map(|l| format!("{}\n", l.trim())).collect();
    let mut c = talon_vault();
    c.args(["decrypt", "--vault-password-file"]).arg(&p1);
    let o = with_stdin(c, &payload);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "interop-two", "{o:?}");

    // talon encrypt_string from stdin, decrypted by ansible-vault.
    let mut c = talon_vault();
    c.args(["encrypt_string", "--vault-password-file"])
        .arg(&p1)
        .args(["--stdin-name", "x"]);
    let o = with_stdin(c, "interop-three");
    let yaml = String::from_utf8_lossy(&o.stdout).into_owned();
    let payload: String = yaml.lines().skip(1).map(|l| format!("{}\n", l.trim())).collect();
    let mut c = ansible_vault();
    c.args(["decrypt", "--vault-password-file"])
        .arg(&p1)
        .args(["--output", "-"]);
    let o = with_stdin(c, &payload);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "interop-three", "{o:?}");

    // The client script told another vault id: its error, as ansible-core words it.
    let mut c = talon_vault();
    let o = c
        .args(["encrypt_string", "--vault-id"])
        .arg(format!("dev@{}", client.display()))
        .arg("zz")
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("did not find a secret for vault-id=dev: unknown dev"),
        "{e}"
    );
}

/// A thread reading every `/proc/*/cmdline` until stopped; returns argv lines holding a needle.
fn watch_cmdlines(needles: &'static [&'static str]) -> (Arc<AtomicBool>, JoinHandle<Vec<String>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut leaks = Vec::new();
        let mut scans = 0u64;
        while !flag.load(Ordering::SeqCst) || scans < 2 {
            scans += 1;
            let Ok(rd) = std::fs::read_dir("/proc") else { break };
            for e in rd.flatten() {
                let Ok(bytes) = std::fs::read(e.path().join("cmdline")) else {
                    continue;
                };
                let line = String::from_utf8_lossy(&bytes).replace('\0', " ");
                if needles.iter().any(|v| line.contains(v)) {
                    leaks.push(line);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        leaks
    });
    (stop, handle)
}

/// A project with a vaulted group_vars file (folder form), a vars file with an inline
/// `!vault` value and a vaulted `copy src` file, all encrypted by ansible-vault.
fn vaulted_project(d: &Path) -> (PathBuf, PathBuf) {
    let p1 = write(d, "pw1", "first-pass\n");
    let p2 = write(d, "pw2", "second-pass\n");
    av_encrypt(
        d,
        "group_vars/all/vault.yml",
        &format!("vault_group: \"{GROUP_SECRET}\"\n"),
        &p1,
        None,
    );
    write(d, "group_vars/all/plain.yml", "group_plain: visible\n");
    // From stdin: a value in ansible-vault's argv would trip the argv watchers of other tests.
    let mut c = ansible_vault();
    c.args(["encrypt_string", "--vault-id"])
        .arg(format!("inl@{}", p2.display()))
        .args(["--stdin-name", "inline_value"]);
    let o = with_stdin(c, INLINE_SECRET);
    assert!(o.status.success(), "{o:?}");
    let yaml = String::from_utf8_lossy(&o.stdout);
    write(
        d,
        "vars/inline.yml",
        &format!("{yaml}\nplain_value: also-visible\n"),
    );
    av_encrypt(d, "files/secret.conf", &format!("key={FILE_SECRET}\n"), &p1, None);
    (p1, p2)
}

const LOCAL_TASKS: &str = r#"- hosts: all
  gather_facts: false
  vars_files: [vars/inline.yml, vars/whole.yml]
  tasks:
    - name: copy the vaulted file
      copy: {src: secret.conf, dest: "{{ out }}/secret.conf", mode: "0600"}
    - name: copy it without a mode
      copy: {src: secret.conf, dest: "{{ out }}/nomode.conf"}
    - name: a vaulted template
      template: {src: t.j2, dest: "{{ out }}/t.conf"}
    - name: include vaulted vars
      include_vars: vars/inc.yml
    - name: a role with vaulted defaults
      include_role: {name: r1}
    - name: every source decrypted
      assert:
        that:
          - host_secret is match('grp-V4ult-.*-host$')
          - whole_value is match('grp-V4ult-.*-whole$')
          - inc_value is match('grp-V4ult-.*-inc$')
    - name: write the inline value through stdin
      shell: cat > "{{ out }}/inline.txt"
      args: {stdin: "{{ inline_value }}"}
    - name: show it
      debug: {var: inline_value}
    - name: show the group value
      debug: {msg: "group={{ vault_group }} plain={{ group_plain }}"}
    - name: echo it
      shell: cat "{{ out }}/inline.txt"
    - name: tests and lookups
      assert:
        that:
          - inline_value is vault_encrypted
          - group_plain is not vault_encrypted
          - (playbook_dir ~ '/files/secret.conf') is vaulted_file
          - (playbook_dir ~ '/vars/inline.yml') is not vaulted_file
          - lookup('unvault', 'secret.conf') is match('key=file-V4ult-.*\n$')
          - (inline_value | vault('k', salt='s') | unvault('k')) == inline_value
"#;

#[test]
fn vaulted_values_are_secrets_never_in_argv_or_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (p1, p2) = vaulted_project(d);
    let out = d.join("out");
    std::fs::create_dir(&out).unwrap();
    write(
        d,
        "inventory.yml",
        "all:\n  hosts:\n    box1:\n      ansible_connection: local\n",
    );
    // host_vars (folder form), a whole vars file, include_vars, role defaults: all vaulted.
    for (rel, text) in [
        (
            "host_vars/box1/vault.yml",
            format!("host_secret: \"{GROUP_SECRET}-host\"\n"),
        ),
        (
            "vars/whole.yml",
            format!("whole_value: \"{GROUP_SECRET}-whole\"\n"),
        ),
        ("vars/inc.yml", format!("inc_value: \"{GROUP_SECRET}-inc\"\n")),
        (
            "roles/r1/defaults/main.yml",
            format!("role_default: \"{GROUP_SECRET}-role\"\n"),
        ),
    ] {
        av_encrypt(d, rel, &text, &p1, None);
    }
    av_encrypt(d, "templates/t.j2", "tpl={{ group_plain }}\n", &p1, None);
    write(
        d,
        "roles/r1/tasks/main.yml",
        "- name: show the role default\n  debug: {msg: \"{{ role_default }} {{ host_secret }}\"}\n- assert: {that: \"role_default is match('grp-V4ult-.*-role$')\"}\n",
    );
    let pb = write(d, "site.yml", LOCAL_TASKS);
    let run = |extra: &[&str]| {
        let (stop, watcher) = watch_cmdlines(&[GROUP_SECRET, INLINE_SECRET, FILE_SECRET]);
        let o = common::talon()
            .arg("run")
            .arg(&pb)
            .arg("-i")
            .arg(d.join("inventory.yml"))
            .arg("--vault-password-file")
            .arg(&p1)
            .arg("--vault-id")
            .arg(format!("inl@{}", p2.display()))
            .arg("-e")
            .arg(format!("out={}", out.display()))
            .args(extra)
            .env("TALON_STATE_DIR", d.join("state"))
            .output()
            .unwrap();
        stop.store(true, Ordering::SeqCst);
        (o, watcher.join().unwrap())
    };
    for extra in [&["-vv", "--diff"][..], &["--json"][..]] {
        let (o, leaks) = run(extra);
        let (so, se) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert_eq!(o.status.code(), Some(0), "{so}\n{se}");
        assert!(
            leaks.is_empty(),
            "a vaulted value in a process's argv: {:?}",
            leaks.first()
        );
        for v in [GROUP_SECRET, INLINE_SECRET, FILE_SECRET] {
            assert!(
                !so.contains(v) && !se.contains(v),
                "{v} in talon's output:\n{so}\n{se}"
            );
        }
        assert!(so.contains("********"), "{so}");
        assert!(so.contains("visible"), "plain values stay visible: {so}");
        assert!(
            !so.contains("\"checksum\""),
            "the checksum of secret content is not reported: {so}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.join("t.conf")).unwrap(),
        "tpl=visible\n"
    );
    assert_eq!(
        mode(&out.join("nomode.conf")),
        0o600,
        "a vaulted file's content is a secret: owner-only without a mode"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("secret.conf")).unwrap(),
        format!("key={FILE_SECRET}\n")
    );
    assert_eq!(
        std::fs::read_to_string(out.join("inline.txt")).unwrap(),
        format!("{INLINE_SECRET}\n"),
        "stdin_add_newline"
    );

    // A vaulted value on a command line is refused, and never reaches argv.
    let leak = write(
        d,
        "leak.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: leak\n      command: echo {{ vault_group }}\n",
    );
    let (stop, watcher) = watch_cmdlines(&[GROUP_SECRET]);
    let o = common::talon()
        .arg("run")
        .arg(&leak)
        .arg("-i")
        .arg(d.join("inventory.yml"))
        .arg("--vault-password-file")
        .arg(&p1)
        .output()
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    let leaks = watcher.join().unwrap();
    let (so, se) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    // Refused at load time (exit 4), as a `--secrets` value is: the group_vars variable holds a
    // decrypted value.
    assert_eq!(o.status.code(), Some(4), "{so}\n{se}");
    assert!(
        se.contains("secret 'vault_group' would be on the command line of task 'leak'"),
        "{se}"
    );
    assert!(leaks.is_empty(), "{leaks:?}");
    assert!(
        !so.contains(GROUP_SECRET) && !se.contains(GROUP_SECRET),
        "{so}\n{se}"
    );
    assert!(format!("{so}{se}").contains("command line"), "{so}\n{se}");
}

#[test]
fn without_the_password_the_error_is_ansibles_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (p1, _p2) = vaulted_project(d);
    write(
        d,
        "inventory.yml",
        "all:\n  hosts:\n    box1:\n      ansible_connection: local\n",
    );
    let pb = write(
        d,
        "site.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: {var: vault_group}\n",
    );
    let run = |extra: &[&str], env: &[(&str, &Path)]| {
        let o = common::talon()
            .arg("run")
            .arg(&pb)
            .arg("-i")
            .arg(d.join("inventory.yml"))
            .args(extra)
            .envs(env.iter().copied())
            .env("TALON_STATE_DIR", d.join("state"))
            .output()
            .unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (code, e) = run(&[], &[]);
    assert_ne!(code, Some(0));
    assert!(
        e.contains("Attempting to decrypt but no vault secrets found")
            && e.contains("group_vars/all/vault.yml"),
        "{e}"
    );
    let wrong = write(d, "wrong", "nope\n");
    let (code, e) = run(&["--vault-password-file", wrong.to_str().unwrap()], &[]);
    assert_ne!(code, Some(0));
    assert!(
        e.contains("Decryption failed (no vault secrets were found that could decrypt) on")
            && e.contains("group_vars/all/vault.yml"),
        "{e}"
    );
    // ANSIBLE_VAULT_PASSWORD_FILE is honoured.
    let (code, e) = run(&["-v"], &[("ANSIBLE_VAULT_PASSWORD_FILE", &p1)]);
    assert_eq!(code, Some(0), "{e}");
    // A missing password file: ansible-core's message.
    let (_, e) = run(&["--vault-password-file", "/nonexistent/pw"], &[]);
    assert!(
        e.contains("The vault password file /nonexistent/pw was not found"),
        "{e}"
    );
}

const COMPARE_PLAY: &str = r#"- hosts: all
  gather_facts: false
  vars_files: [vars/inline.yml]
  tasks:
    - name: a folder
      file: {path: /tmp/vault14, state: directory}
    - name: copy the vaulted file
      copy: {src: secret.conf, dest: /tmp/vault14/secret.conf, mode: "0640"}
    - name: template a vaulted group value
      copy: {content: "group={{ vault_group }}\ninline={{ inline_value }}\n", dest: /tmp/vault14/values.conf, mode: "0600"}
    - name: check the values
      assert:
        that:
          - vault_group is match('grp-V4ult-')
          - inline_value is match('inl-V4ult-')
          - group_plain == 'visible'
    - name: debug them
      debug: {msg: "{{ vault_group }} {{ inline_value }}"}
"#;

#[test]
fn compare_vaulted_group_vars_inline_value_and_copy_src_with_ansible_playbook() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (p1, p2) = vaulted_project(d);
    let pb = write(d, "site.yml", COMPARE_PLAY);
    let c = Compare::new();
    let inl = format!("inl@{}", p2.display());
    let args = ["--vault-password-file", p1.to_str().unwrap(), "--vault-id", &inl];
    let (t, _) = c.same(&pb, &args);
    for v in [GROUP_SECRET, INLINE_SECRET, FILE_SECRET] {
        assert!(
            !t.stdout.contains(v) && !t.stderr.contains(v),
            "{v} in talon's output:\n{}",
            t.stdout
        );
    }
    for f in ["/tmp/vault14/secret.conf", "/tmp/vault14/values.conf"] {
        assert_eq!(
            c.lab.read(c.talon_host(), f),
            c.lab.read(c.ansible_host(), f),
            "{f} differs"
        );
        assert_eq!(
            c.lab.stat(c.talon_host(), f),
            c.lab.stat(c.ansible_host(), f),
            "{f} differs"
        );
    }
    assert_eq!(
        c.lab.read(c.talon_host(), "/tmp/vault14/secret.conf").unwrap(),
        format!("key={FILE_SECRET}\n")
    );
    // Again: nothing changes on either side.
    let (t, a) = c.same(&pb, &args);
    assert_eq!((t.recap[0][1], a.recap[0][1]), (0, 0), "{:#?}", t.lines);
}

#[test]
fn ask_vault_pass_prompts_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let _ = vaulted_project(d);
    write(
        d,
        "inventory.yml",
        "all:\n  hosts:\n    box1:\n      ansible_connection: local\n",
    );
    let pb = write(
        d,
        "site.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: {msg: \"group={{ vault_group }}\"}\n",
    );
    let out = Command::new("python3")
        .args(["-c", common::PTY_DRIVER, env!("CARGO_BIN_EXE_talon"), "run"])
        .arg(&pb)
        .arg("-i")
        .arg(d.join("inventory.yml"))
        .args(["-v", "--ask-vault-pass"])
        .env("ASK_VALUE", "first-pass")
        .env("ASK_PROMPT", "Vault password: ")
        .env("TALON_STATE_DIR", d.join("state"))
        .output()
        .unwrap();
    let so = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{so}");
    assert!(so.contains("Vault password: "), "{so}");
    assert!(!so.contains("first-pass") && !so.contains(GROUP_SECRET), "{so}");
    assert!(so.contains("ok=1 "), "{so}");
}

#[test]
fn edit_and_create_go_through_the_editor_and_stay_readable_by_ansible_vault() {
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    let p2 = write(d, "pw2", "second-pass\n");
    let id = format!("prod@{}", p2.display());
    let f = av_encrypt(d, "e.yml", "a: one\n", &p2, Some("prod"));
    // An "editor" that changes the file it is given.
    let editor = write(
        d,
        "ed.sh",
        "#!/bin/sh\nsed -i s/one/two/ \"$1\"\necho 'b: new' >> \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut c = talon_vault();
    c.args(["edit", "--vault-id", &id]).arg(&f).env("EDITOR", &editor);
    ok(c);
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"), "{text}");
    let mut c = ansible_vault();
    c.args(["view", "--vault-id", &id]).arg(&f);
    assert_eq!(ok(c), "a: two\nb: new\n");
    let n = d.join("new.yml");
    let mut c = talon_vault();
    c.args(["create", "--vault-id", &id])
        .arg(&n)
        .env("EDITOR", &editor);
    ok(c);
    assert_eq!(mode(&n), 0o600);
    let mut c = ansible_vault();
    c.args(["view", "--vault-id", &id]).arg(&n);
    assert_eq!(ok(c), "b: new\n");
}

#[test]
fn the_binary_called_ansible_vault_is_talon_vault() {
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    let p1 = write(d, "pw1", "first-pass\n");
    let link = d.join("ansible-vault");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_talon"), &link).unwrap();
    let f = av_encrypt(d, "m.yml", "m: 1\n", &p1, None);
    let mut c = Command::new(&link);
    c.args(["view", "--vault-password-file"]).arg(&p1).arg(&f);
    assert_eq!(ok(c), "m: 1\n");
}

/// d14: `ANSIBLE_VAULT_ENCRYPT_SALT` / `vault_encrypt_salt` make payloads reproducible and
/// `ANSIBLE_VAULT_IDENTITY` / `vault_identity` label passwords given without one, in the
/// environment and in ansible.cfg: with the same salt, talon's payload is ansible-vault's, byte
/// for byte.
#[test]
fn d14_vault_identity_and_encrypt_salt_as_ansible_vault() {
    let dir = tempfile::tempdir().unwrap();
    let pw = write(dir.path(), "pw", "pw1\n");
    let run = |mut c: Command, env: &[(&str, &str)]| {
        c.current_dir(dir.path()).env_remove("ANSIBLE_CONFIG");
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(["encrypt_string", "--vault-password-file"])
            .arg(&pw)
            .args(["s3cret", "-n", "tok"]);
        ok(c)
    };
    let salt = [("ANSIBLE_VAULT_ENCRYPT_SALT", "fixedsalt")];
    let a = run(ansible_vault(), &salt);
    assert_eq!(run(talon_vault(), &salt), a);
    assert!(a.contains("$ANSIBLE_VAULT;1.1;AES256"), "{a}");
    let labelled = [
        ("ANSIBLE_VAULT_ENCRYPT_SALT", "fixedsalt"),
        ("ANSIBLE_VAULT_IDENTITY", "prod"),
    ];
    let a = run(ansible_vault(), &labelled);
    assert_eq!(run(talon_vault(), &labelled), a);
    assert!(a.contains("$ANSIBLE_VAULT;1.2;AES256;prod"), "{a}");
    // The same settings from ansible.cfg in the working directory.
    write(
        dir.path(),
        "ansible.cfg",
        "[defaults]\nvault_encrypt_salt = abc\nvault_identity = stage\n",
    );
    let a = run(ansible_vault(), &[]);
    assert_eq!(run(talon_vault(), &[]), a);
    assert!(a.contains("$ANSIBLE_VAULT;1.2;AES256;stage"), "{a}");
    // Without a salt, two payloads differ (random salts).
    std::fs::remove_file(dir.path().join("ansible.cfg")).unwrap();
    assert_ne!(run(talon_vault(), &[]), run(talon_vault(), &[]));
}
