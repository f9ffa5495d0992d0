//! Package and system modules made native by the "pkg" helper, against ansible-playbook
//! (ansible-core 2.19, ansible.posix from the `ansible` 12 package) on fresh Debian lab hosts:
//! `package_facts`, `ansible.posix.mount`, `apt_key`, `unarchive`. They ran through ansible-core's code on the host (the Python path);
//! each test takes Python away from talon's host first, so a task that still took the Python
//! path would fail there and the comparison with ansible-playbook (whose host keeps Python)
//! would differ.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

#[test]
fn d12_package_facts_is_native_and_matches_ansible() {
    let c = Compare::new();
    c.give_python3_apt();
    c.take_python_from_talons_host();
    let (t, _) = c.same(&fixture("package_facts.yml"), &[]);
    let local = t.line("show the local ones");
    for want in [
        r#"[{"arch":"all","category":"","name":"talon-nosect","origin":"","source":"apt","version":"1:2.0-1"}]"#,
        r#"[{"arch":"i386","category":"libs","name":"talon-foreign:i386","origin":"","source":"apt","version":"1.0"}]"#,
        r#"false,false,false,["ansible_facts","changed","failed"]"#,
    ] {
        assert!(local.contains(want), "{want} in {local}");
    }
    assert!(
        t.line("show the packages")
            .contains(r#""bash":[{"arch":"amd64","category":"shells""#),
        "{:#?}",
        t.lines
    );
    let same = t.line("show the same");
    assert!(
        same.contains(r#"[true,true,true,["Requested package manager pacman was not usable by this module: Failed to find required executable \"pacman\" in paths: "#),
        "{same}"
    );
    assert!(
        t.lines
            .iter()
            .any(|l| l.starts_with("error an unsupported manager => failed")),
        "{:#?}",
        t.lines
    );
    // With a package index in apt's lists, python-apt reads sections and origins from it:
    // talon hands the task to ansible-core's module (its host gets Python back for that).
    c.lab.sh_ok(
        c.talon_host(),
        "for f in /usr/bin/python3*.off; do mv \"$f\" \"${f%.off}\"; done; command -v python3",
    );
    let (t, _) = c.same(&fixture("package_facts_lists.yml"), &[]);
    let indexed = t.line("show the indexed package");
    assert!(
        indexed.contains(r#""category":"web","name":"talon-nosect","origin":"TalonTest""#),
        "{indexed}"
    );
}

#[test]
fn d12_mount_is_native_and_matches_ansible() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::new();
    c.take_python_from_talons_host();
    // The whole run in check mode first: only the missing fstab files are made (as the
    // module makes them in check mode too).
    let (t, _) = c.same_env(&fixture("mount.yml"), &["--check"], &env);
    assert!(
        t.lines.iter().any(|l| l == "present => changed"),
        "{:#?}",
        t.lines
    );
    let (t, _) = c.same_env(&fixture("mount.yml"), &[], &env);
    let files = t.line("show the files");
    assert!(
        files.contains(r"//srv/share\\040a\\046b /mnt/my\\040data cifs credentials=/root/c,noauto 1 2"),
        "{files}"
    );
    for want in [
        r#"error mounted, mount refused (entry and folders undone) => failed msg="Error mounting /tmp/mnt/x/y: mount: /tmp/mnt/x/y: "#,
        r#"error absent on a folder that is not empty => failed msg="Error rmdir /tmp/mnt-full: [Errno 39] Directory not empty: '/tmp/mnt-full'""#,
        r#"error unmounted on a mount point => failed msg="Error unmounting /dev/shm: umount: /dev/shm: "#,
        r#"error remounted with options => failed msg="Options were specified with remounted"#,
    ] {
        assert!(
            t.lines.iter().any(|l| l.starts_with(want)),
            "{want}: {:#?}",
            t.lines
        );
    }
}

/// A fresh signing key made with the controller's gpg in a scratch home: (armored, binary,
/// long id, fingerprint). Panics when the controller has no gpg.
fn controller_key(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>, String, String) {
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    let gpg = |args: &[&str]| {
        let out = std::process::Command::new("gpg")
            .arg("--homedir")
            .arg(&home)
            .args(["--batch", "--passphrase", ""])
            .args(args)
            .output()
            .expect("gpg on the controller (apt-get install gpg)");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    gpg(&[
        "--quick-gen-key",
        "talon test <talon@localhost>",
        "ed25519",
        "sign",
        "never",
    ]);
    let armored = gpg(&["--armor", "--export"]);
    let binary = gpg(&["--export"]);
    let colons = String::from_utf8(gpg(&["--with-colons", "--list-keys"])).unwrap();
    let field = |kind: &str, n: usize| {
        colons
            .lines()
            .find(|l| l.starts_with(kind))
            .and_then(|l| l.split(':').nth(n))
            .unwrap()
            .to_string()
    };
    (armored, binary, field("pub:", 4), field("fpr:", 9))
}

#[test]
fn d12_apt_key_is_native_and_matches_ansible() {
    let c = Compare::new();
    c.take_python_from_talons_host();
    // Debian 12 has apt-key but no gpg: the module fails, saying so.
    let (t, _) = c.same(&fixture("apt_key_nogpg.yml"), &[]);
    assert!(
        t.line("show without gpg")
            .contains(r#""msg":"Failed to find required executable \"gpg\" in paths: "#),
        "{:#?}",
        t.lines
    );
    // The controller's gpg and gpg-agent (and the libraries the hosts lack) on both hosts, and
    // a key.
    let (armored, binary, id, fpr) = controller_key(c.lab.dir.path());
    c.give_from_controller(
        "usr/bin/gpg usr/bin/gpg-agent usr/lib/x86_64-linux-gnu/libassuan.so.0* usr/lib/x86_64-linux-gnu/libnpth.so.0*",
        "gpg",
    );
    for (host, container) in &c.lab.hosts {
        for (path, bytes) in [
            ("/tmp/k.asc", armored.clone()),
            ("/tmp/k.gpg", binary.clone()),
            ("/tmp/k.id", format!("{id}\n{fpr}\n").into_bytes()),
        ] {
            let mut child = std::process::Command::new("docker")
                .args(["exec", "-i", container, "sh", "-c", &format!("cat > {path}")])
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(child.stdin.as_mut().unwrap(), &bytes).unwrap();
            drop(child.stdin.take());
            assert!(child.wait().unwrap().success());
        }
        c.lab.sh_ok(host, "gpg --version >/dev/null");
    }
    let (t, _) = c.same(&fixture("apt_key.yml"), &[]);
    let results = t.line("show results");
    for want in [
        format!(r#""after":["{id}"],"before":[],"changed":true"#),
        format!(r#""key_id":"{}","short_id":"{}""#, &id[8..], &id[8..]),
        format!(r#""fp":"{id}","id":"{fpr}","key_id":"{fpr}""#),
        r#""msg":"Unable to extract key from '/tmp/notakey'""#.to_string(),
        r#""msg":"apt-key did not return an error, but failed to add the key (check that the id is correct and *not* a subkey)""#.to_string(),
    ] {
        assert!(results.contains(&want), "{want} in {results}");
    }
    for want in [
        r#"error an id of a bad length => failed msg="Invalid key_id""#,
        r#"error an id that is not hex => failed msg="Invalid key_id""#,
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}

/// `fixture` copied into the lab's folder beside `files/` with archives made on the
/// controller (`t.tgz`, `t.tar`, `t.tar.xz` of `top/a.txt`, `top/sub/b.txt`, `c.txt`) and an
/// empty `empty.tgz`; the copy's path.
fn beside_archives(c: &Compare, fixture_name: &str) -> std::path::PathBuf {
    let dir = c.lab.dir.path().join("unarchive");
    let files = dir.join("files");
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("top/sub")).unwrap();
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(tree.join("top/a.txt"), "a\n").unwrap();
    std::fs::write(tree.join("top/sub/b.txt"), "b\n").unwrap();
    std::fs::write(tree.join("c.txt"), "c\n").unwrap();
    for (name, flag) in [("t.tgz", "-czf"), ("t.tar", "-cf"), ("t.tar.xz", "-cJf")] {
        let st = std::process::Command::new("tar")
            .arg("-C")
            .arg(&tree)
            .arg(flag)
            .arg(files.join(name))
            .args(["top", "c.txt"])
            .status()
            .unwrap();
        assert!(st.success(), "tar {flag}");
    }
    std::fs::write(files.join("empty.tgz"), "").unwrap();
    let playbook = dir.join(fixture_name);
    std::fs::copy(fixture(fixture_name), &playbook).unwrap();
    playbook
}

#[test]
fn d12_unarchive_is_native_and_matches_ansible() {
    let c = Compare::new();
    c.take_python_from_talons_host();
    let playbook = beside_archives(&c, "unarchive.yml");
    let (t, _) = c.same(&playbook, &[]);
    let results = t.line("show results");
    for want in [
        r#""msg":"remote module (ansible.legacy.unarchive) does not support check mode when using gtar","skipped":true"#,
        r#""files":["top/","top/sub/","top/sub/b.txt","top/a.txt","c.txt"],"gid":0,"group":"root","handler":"TgzArchive","mode":"0755""#,
        r#""handler":"TarArchive""#,
        r#""files":["","sub/","sub/b.txt","a.txt",""]"#,
        r#""msg":"skipped, since /tmp/u1/c.txt exists","skipped":true"#,
        "true,true,true]",
    ] {
        assert!(results.contains(want), "{want} in {results}");
    }
    for want in [
        r#"error dest missing => failed msg="dest '/tmp/nodir' must be an existing dir""#,
        r#"error an empty archive => failed msg="Invalid archive '/tmp/empty.tgz', the file is 0 bytes""#,
        r#"error a missing remote archive => failed msg="Source '/tmp/nothere.tgz' does not exist""#,
        "unpacked again over it => changed",
        "the same again => ok",
        "the remote archive again => ok",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
}

#[test]
fn d12_unarchive_hands_file_options_to_ansible_cores_module() {
    let c = Compare::new();
    let playbook = beside_archives(&c, "unarchive_python.yml");
    let (t, _) = c.same(&playbook, &[]);
    assert!(
        t.lines
            .iter()
            .any(|l| l == r#"show results => ok msg=[true,"TgzArchive","0755",false]"#),
        "{:#?}",
        t.lines
    );
    let modes = t.line("show the modes");
    assert!(
        modes.contains(r#""750 ./c.txt""#) && modes.ends_with(r#""0"]"#),
        "{modes}"
    );
}
