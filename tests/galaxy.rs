//! Issue 14, installed roles and collections: `talon galaxy install -r requirements.yml` (here
//! through a symlink named `ansible-galaxy`) writes what the real `ansible-galaxy` writes for
//! roles and a collection from local git repositories (the same files, the same MANIFEST.json
//! and FILES.json, `.galaxy_install_info` but for its date), skips what is installed, and a
//! playbook then finds the roles on ansible-core's default roles path and in the collection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{git, write_file as write};

use std::path::Path;
use std::process::Command;

use common::ansible::ansible_bin;

/// Every file under `dir` with its content (the install date blanked), sorted.
fn tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if rel.starts_with(".ansible/tmp") || rel.starts_with(".ansible/galaxy_cache") {
                continue;
            }
            if p.is_dir() {
                out.push((format!("{rel}/"), String::new()));
                walk(root, &p, out);
            } else {
                let text = std::fs::read_to_string(&p).unwrap();
                let text = if rel.ends_with(".galaxy_install_info") {
                    text.lines()
                        .filter(|l| !l.starts_with("install_date:"))
                        .collect::<Vec<_>>()
                        .join("\n")
                } else {
                    text
                };
                out.push((rel, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn d14_galaxy_install_writes_what_ansible_galaxy_writes() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let role = src.join("ansible-role-motd");
    write(
        &role.join("tasks/main.yml"),
        "- copy:\n    dest: \"{{ motd_path }}\"\n    content: \"from the galaxy role\\n\"\n",
    );
    write(&role.join("defaults/main.yml"), "motd_path: /tmp/motd\n");
    write(
        &role.join("meta/main.yml"),
        "galaxy_info:\n  author: t\ndependencies: []\n",
    );
    git(&role, &["init", "-q"]);
    git(&role, &["add", "."]);
    git(&role, &["commit", "-qm", "one"]);
    git(&role, &["tag", "v1.0"]);
    write(
        &role.join("tasks/main.yml"),
        "- fail: msg=not the tagged version\n",
    );
    git(&role, &["commit", "-qam", "two"]);
    let coll = src.join("coll");
    write(
        &coll.join("galaxy.yml"),
        "namespace: acme\nname: tools\nversion: 1.2.0\nreadme: README.md\nauthors: [t]\nlicense: MIT\nbuild_ignore: ['*.bak']\n",
    );
    write(&coll.join("README.md"), "tools\n");
    write(&coll.join("notes.bak"), "ignored\n");
    write(
        &coll.join("roles/inner/tasks/main.yml"),
        "- copy:\n    dest: \"{{ inner_path }}\"\n    content: \"from the collection\\n\"\n",
    );
    git(&coll, &["init", "-q"]);
    git(&coll, &["add", "."]);
    git(&coll, &["commit", "-qm", "one"]);
    let req = dir.path().join("requirements.yml");
    std::fs::write(
        &req,
        format!(
            "roles:\n  - src: git+file://{}\n    version: v1.0\n    name: acme.motd\n  - src: file://{}\n    scm: git\ncollections:\n  - name: git+file://{}\n    type: git\n",
            role.display(),
            role.display(),
            coll.display()
        ),
    )
    .unwrap();
    let (home_a, home_t) = (dir.path().join("home-ansible"), dir.path().join("home-talon"));
    std::fs::create_dir_all(&home_a).unwrap();
    std::fs::create_dir_all(&home_t).unwrap();
    let a = Command::new(ansible_bin("ansible-galaxy"))
        .args(["install", "-r"])
        .arg(&req)
        .env("HOME", &home_a)
        .output()
        .unwrap();
    assert!(a.status.success(), "{}", common::text(&a.stderr));
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_talon"), bin.join("ansible-galaxy")).unwrap();
    let t = Command::new(bin.join("ansible-galaxy"))
        .args(["install", "-r"])
        .arg(&req)
        .env("HOME", &home_t)
        .output()
        .unwrap();
    let stdout = common::text(&t.stdout);
    assert!(t.status.success(), "{stdout}{}", common::text(&t.stderr));
    assert!(
        stdout.contains("- acme.motd (v1.0) was installed successfully"),
        "{stdout}"
    );
    assert!(
        stdout.contains("acme.tools:1.2.0 was installed successfully"),
        "{stdout}"
    );
    let (ta, tt) = (tree(&home_a), tree(&home_t));
    assert_eq!(ta, tt);
    assert!(
        tt.iter()
            .any(|(p, _)| p == ".ansible/collections/ansible_collections/acme/tools/MANIFEST.json")
    );
    // Installed roles are skipped the second time.
    let again = Command::new(bin.join("ansible-galaxy"))
        .args(["install", "-r"])
        .arg(&req)
        .env("HOME", &home_t)
        .output()
        .unwrap();
    assert!(common::text(&again.stdout).contains("- acme.motd (v1.0) is already installed, skipping."));
    // A playbook finds the role on the default roles path and the collection's role by FQCN.
    let pb = dir.path().join("site.yml");
    let (motd, inner) = (dir.path().join("motd"), dir.path().join("inner"));
    std::fs::write(
        &pb,
        format!(
            "- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: acme.motd\n      motd_path: {}\n    - role: acme.tools.inner\n      inner_path: {}\n",
            motd.display(),
            inner.display()
        ),
    )
    .unwrap();
    let run = common::talon()
        .arg("run")
        .arg(&pb)
        .arg("-i")
        .arg("localhost,")
        .env("HOME", &home_t)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}{}",
        common::text(&run.stdout),
        common::text(&run.stderr)
    );
    assert_eq!(std::fs::read_to_string(&motd).unwrap(), "from the galaxy role\n");
    assert_eq!(std::fs::read_to_string(&inner).unwrap(), "from the collection\n");
}
