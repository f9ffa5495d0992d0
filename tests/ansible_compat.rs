//! Side by side with `ansible-playbook` (ansible-core from PyPI, in a venv made by the test):
//! the same playbook on two identical fresh labs must give the same per-host recap, cold and
//! warm, and the same resulting trees (paths, modes, owners, types, content hashes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::ansible::ansible_playbook;
use common::{Lab, Run, root};

fn run_ansible(lab: &Lab, playbook: &Path) -> Run {
    let fetch = format!("fetch_dir={}", lab.dir.path().join("fetched").display());
    let out = ansible_playbook(lab, playbook, &["-e", &fetch], &[])
        .output()
        .unwrap();
    Run::from(out)
}

/// The recap of a host, or all zeros when the tool printed no line for it (Ansible leaves out
/// hosts that had no result, e.g. the other hosts of a `run_once`-only play).
fn recap_or_zero(run: &Run, host: &str) -> [u32; 7] {
    if run
        .stdout
        .lines()
        .any(|l| l.split_whitespace().next() == Some(host) && l.contains(" ok="))
    {
        run.recap(host)
    } else {
        [0; 7]
    }
}

/// The host state the fixture produces, as a comparable text.
fn state(lab: &Lab, host: &str) -> String {
    let tree: Vec<String> = lab
        .tree(host, "/srv/talon-test")
        .lines()
        // The retry counter file counts runs by design.
        .filter(|l| !l.starts_with("./counter "))
        .map(str::to_string)
        .collect();
    format!(
        "{}\nhome:\n{}\nuser: {}group: {}",
        tree.join("\n"),
        // Ansible leaves its own remote temp dir (~/.ansible) behind: not playbook state.
        lab.tree(host, "/home/talonuser")
            .lines()
            .filter(|l| !l.starts_with("./.ansible"))
            .collect::<Vec<_>>()
            .join("\n"),
        lab.sh_ok(host, "getent passwd talonuser"),
        lab.sh_ok(host, "getent group talontest"),
    )
}

#[test]
fn full_fixture_matches_ansible_playbook_stats_and_trees() {
    let pb = root().join("tests/fixtures/full/site.yml");
    let talon_lab = Lab::up(2);
    let ansible_lab = Lab::up(2);
    for round in ["cold", "warm"] {
        let t = talon_lab.run(
            &pb,
            &[
                "-e",
                &format!("fetch_dir={}", talon_lab.dir.path().join("fetched").display()),
            ],
        );
        let a = run_ansible(&ansible_lab, &pb);
        t.assert_code(0);
        a.assert_code(0);
        for (host, _) in &talon_lab.hosts {
            assert_eq!(
                recap_or_zero(&t, host),
                recap_or_zero(&a, host),
                "{round} recap of {host} differs\n--- talon:\n{}\n--- ansible:\n{}",
                t.stdout,
                a.stdout
            );
        }
    }
    for (host, _) in &talon_lab.hosts {
        // fetch wrote the same files on the controller.
        let rel = format!("fetched/{host}/srv/talon-test/plain.txt");
        assert_eq!(
            std::fs::read(talon_lab.dir.path().join(&rel)).unwrap(),
            std::fs::read(ansible_lab.dir.path().join(&rel)).unwrap()
        );
        let ts = state(&talon_lab, host);
        let as_ = state(&ansible_lab, host);
        assert!(ts.lines().count() > 30, "suspiciously small tree:\n{ts}");
        assert_eq!(ts, as_, "resulting state of {host} differs");
    }
}
