//! `talon verify` against real lab hosts: drift found and repaired, failed checks named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Lab, Run, root, talon};

fn verify(lab: &Lab) -> Run {
    let out = talon()
        .arg("verify")
        .arg(root().join("tests/fixtures/verify/site.yml"))
        .arg("-i")
        .arg(lab.inventory())
        .output()
        .unwrap();
    Run::from(out)
}

/// The verdict of a check on a host, read from the table.
fn cell(run: &Run, check: &str, host_col: usize) -> String {
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with(check))
        .unwrap_or_else(|| panic!("no row {check}:\n{}", run.stdout));
    let rest = &line[check.len()..];
    rest.split_whitespace().nth(host_col).unwrap().to_string()
}

#[test]
fn verify_reports_drift_and_failed_checks_by_host_and_the_next_run_repairs() {
    let lab = Lab::up(2);
    let pb = root().join("tests/fixtures/verify/site.yml");
    lab.run(&pb, &[]).assert_code(0);
    let ok = verify(&lab);
    ok.assert_code(0);
    assert!(
        ok.stdout.contains("6/6 checks passed on 2 host(s)"),
        "{}",
        ok.stdout
    );

    // Edit a deployed file by hand on lab2 and remove the marker on lab1.
    lab.sh_ok("lab2", "echo 'listen = 9999' > /etc/talon-verify.conf");
    lab.sh_ok("lab1", "rm /run/talon-verify.ok");
    let bad = verify(&lab);
    assert_eq!(bad.code, 2, "{}", bad.stdout);
    assert_eq!(
        cell(&bad, "config drift (check mode: nothing would change)", 0),
        "FAIL"
    );
    // Every check runs on every host even after one failed there.
    assert_eq!(cell(&bad, "config listens on 8080", 0), "PASS", "{}", bad.stdout);
    assert_eq!(cell(&bad, "config listens on 8080", 1), "FAIL", "{}", bad.stdout);
    assert_eq!(cell(&bad, "service marker present", 1), "PASS", "{}", bad.stdout);
    assert!(
        bad.stdout.contains(
            "- lab2: config drift (check mode: nothing would change): would change: Service config"
        ),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout.contains(
            "- lab1: config drift (check mode: nothing would change): would change: Service marker"
        ),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout.contains("- lab1: service marker present:"),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout.contains("- lab2: config listens on 8080:"),
        "{}",
        bad.stdout
    );
    assert!(
        !bad.stdout.contains("- lab2: service marker present"),
        "{}",
        bad.stdout
    );
    // Nothing was repaired by verify itself.
    assert_eq!(
        lab.read("lab2", "/etc/talon-verify.conf").unwrap(),
        "listen = 9999\n"
    );

    let repair = lab.run(&pb, &[]);
    repair.assert_code(0);
    assert_eq!(repair.changed("lab1"), 1);
    assert_eq!(repair.changed("lab2"), 1);
    verify(&lab).assert_code(0);
}
