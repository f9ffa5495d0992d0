//! Issue 14, ad-hoc commands and multicall: the talon binary called through a symlink named
//! `ansible` answers `ansible HOST -m MODULE -a ARGS` (with `-o`, `--check`, `-b`) as the real
//! `ansible` does on an identical fresh lab host: the same lines (host names and timestamps
//! aside), the same exit code, the same resulting host state; and `ansible-playbook` /
//! `ansible-inventory` symlinks behave as `talon run` / `talon inventory`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::ansible::{Compare, ansible_bin};

/// A folder with symlinks named after Ansible's programs, pointing at the talon binary.
fn symlinks() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for name in ["ansible", "ansible-playbook", "ansible-inventory"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_talon"), dir.path().join(name)).unwrap();
    }
    let p = dir.path().to_path_buf();
    (dir, p)
}

/// Lines of an ad-hoc run with the host name replaced and the command timestamps blanked.
fn normalise(out: &[u8], host: &str) -> Vec<String> {
    let text = common::text(out).replace(host, "HOST");
    let time = regex::Regex::new(r#""(start|end|delta)": "[^"]*""#).unwrap();
    text.lines()
        .map(|l| time.replace_all(l, "\"$1\": \"T\"").to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn d14_ansible_adhoc_through_a_symlink_answers_like_ansible() {
    let c = Compare::new();
    let (_keep, bin) = symlinks();
    let inv = c.lab.inventory();
    let cases: &[&[&str]] = &[
        &["-m", "ping"],
        &["-a", "echo hi there"],
        &["-m", "shell", "-a", "echo out; echo err >&2; exit 2"],
        &[
            "-m",
            "file",
            "-a",
            "path=/tmp/adhoc-touched state=directory mode=0750",
        ],
        &[
            "-m",
            "file",
            "-a",
            "path=/tmp/adhoc-touched state=directory mode=0750",
        ],
        &["-o", "-m", "ping"],
        &["-o", "-a", "echo one-line"],
        &["-o", "-m", "shell", "-a", "echo out; echo err >&2; exit 2"],
        &[
            "-m",
            "copy",
            "-a",
            "dest=/tmp/adhoc-copied content=hello",
            "--check",
        ],
        &["-m", "debug", "-a", "msg={{ inventory_hostname | length > 0 }}"],
        &["-b", "-m", "command", "-a", "id -un"],
    ];
    for args in cases {
        let a = Command::new(ansible_bin("ansible"))
            .arg(c.ansible_host())
            .arg("-i")
            .arg(&inv)
            .args(*args)
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_HOST_KEY_CHECKING", "true")
            .env("ANSIBLE_LOCAL_TEMP", c.lab.dir.path().join("ansible-tmp"))
            .env("ANSIBLE_DEPRECATION_WARNINGS", "false")
            .output()
            .unwrap();
        let t = Command::new(bin.join("ansible"))
            .arg(c.talon_host())
            .arg("-i")
            .arg(&inv)
            .args(*args)
            .output()
            .unwrap();
        let (al, tl) = (
            normalise(&a.stdout, c.ansible_host()),
            normalise(&t.stdout, c.talon_host()),
        );
        // ansible's Python modules report the interpreter they discovered; talon's native
        // modules run no interpreter.
        let al: Vec<String> = al
            .into_iter()
            .filter(|l| {
                !l.contains("discovered_interpreter_python")
                    && l.trim() != "\"ansible_facts\": {"
                    && l.trim() != "},"
            })
            .collect();
        assert_eq!(
            al,
            tl,
            "{args:?}\nansible stderr: {}\ntalon stderr: {}",
            common::text(&a.stderr),
            common::text(&t.stderr)
        );
        assert_eq!(a.status.code(), t.status.code(), "{args:?}");
    }
    // The same state on both hosts: the directory was made, the check-mode copy was not.
    for h in [c.talon_host(), c.ansible_host()] {
        let out = c.lab.sh(
            h,
            "stat -c '%a %F' /tmp/adhoc-touched; test ! -e /tmp/adhoc-copied && echo no-copy",
        );
        assert_eq!(common::text(&out.stdout), "750 directory\nno-copy\n", "{h}");
    }
}

#[test]
fn d14_ansible_playbook_and_ansible_inventory_symlinks_run_talon() {
    let c = common::Lab::up(1);
    let (_keep, bin) = symlinks();
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("site.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        dest: /tmp/from-symlink\n        content: \"ok\\n\"\n",
    )
    .unwrap();
    // Two playbooks on one command line run in order, in one run.
    let pb2 = dir.path().join("second.yml");
    std::fs::write(
        &pb2,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        dest: /tmp/from-second\n        content: \"two\\n\"\n",
    )
    .unwrap();
    let out = Command::new(bin.join("ansible-playbook"))
        .arg("-i")
        .arg(c.inventory())
        .arg(&pb)
        .arg(&pb2)
        .output()
        .unwrap();
    let stdout = common::text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", common::text(&out.stderr));
    assert!(stdout.contains("changed=2"), "{stdout}");
    let host = &c.hosts[0].0;
    assert_eq!(
        common::text(&c.sh(host, "cat /tmp/from-symlink /tmp/from-second").stdout),
        "ok\ntwo\n"
    );
    let out = Command::new(bin.join("ansible-inventory"))
        .arg("-i")
        .arg(c.inventory())
        .arg("--list")
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["_meta"]["hostvars"][host].is_object(), "{doc:#}");
}
