//! `pip` (ansible.builtin.pip) and `community.general.ufw` against ansible-playbook
//! (ansible-core 2.19 and community.general) on fresh Debian lab hosts with the extras image
//! (python3-pip, python3-venv, ufw). Both ran through the module's Python code on the host (the
//! Python path); talon now plans and runs the pip and ufw commands itself. pip and ufw are
//! Python programs, so talon's host keeps its Python here: each test asserts the module is in
//! talon's registry and that talon's `-v` recap names no task that took the Python path.
//! Hosts have no package index: pip installs wheels the test makes on each host.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, Outcome, fixture};

/// Asserts `name` reaches talon's native module and that no task of the run `t` (with `-v`)
/// took the Python path.
fn native(name: &str, t: &Outcome) {
    assert!(
        talon::modules::lookup(name).is_some(),
        "{name} must be a native module"
    );
    assert!(
        !t.stderr.contains("python path"),
        "a task took the Python path:\n{}",
        t.stderr
    );
}

/// Fresh extras hosts with the test's wheels in /srv/wheels (talonpkg 1.0, 1.1, 2.0 and
/// talon_extra 0.5, made by tests/fixtures/compare/mkwheels.py with the host's python3).
fn compare_with_wheels() -> Compare {
    let c = Compare::with_lab_flags(&["--extras"]);
    let script = std::fs::read_to_string(fixture("mkwheels.py")).unwrap();
    for (host, _) in &c.lab.hosts {
        c.lab.sh_ok(
            host,
            &format!("cat > /tmp/mkwheels.py <<'PY'\n{script}PY\npython3 /tmp/mkwheels.py /srv/wheels"),
        );
    }
    c
}

/// The dist-info folders of a venv's site-packages on `host` (what is installed).
fn installed(c: &Compare, host: &str, venv: &str) -> String {
    c.lab.sh_ok(
        host,
        &format!("ls {venv}/lib/python3*/site-packages | grep dist-info || true"),
    )
}

#[test]
fn d12_pip_is_native_and_matches_ansible() {
    let c = compare_with_wheels();
    let (t, _) = c.same(&fixture("pip.yml"), &["-v"]);
    native("ansible.builtin.pip", &t);
    for want in [
        "a venv in check mode => changed",
        "a venv and a package => changed",
        "the same package again => ok",
        "present in check mode => ok",
        "another version in check mode => changed",
        "a version range in check mode => ok",
        "names with specifiers => changed",
        "absent in check mode => changed",
        "absent => changed",
        "absent again => ok",
        "requirements => changed",
        "requirements again => ok",
        "latest => changed",
        "latest again => ok",
        "forcereinstall => changed",
        "a wheel file into a relative venv with site packages => changed",
        "the system pip with break_system_packages => changed",
        "the system pip again => ok",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    let shown = t.line("show check mode");
    for want in [
        r#""cmd":"/srv/venv/bin/pip3 list --format=freeze""#,
        r#""cmd":["/srv/venv/bin/pip3","install","--no-index","--find-links","/srv/wheels","talonpkg==1.0"]"#,
        "Successfully installed talonpkg-1.0",
    ] {
        assert!(shown.contains(want), "{want} in {shown}");
    }
    let shown = t.line("show names and absent");
    assert!(shown.contains(r#""talonpkg<3,>1.0","talon_extra"]"#), "{shown}");
    let shown = t.line("show files and executables");
    assert!(shown.contains(r#""virtualenv":"/srv/venv2""#), "{shown}");
    let shown = t.line("show the system pip");
    assert!(
        shown.contains(r#""cmd":["/usr/bin/python3","-m","pip","install""#),
        "{shown}"
    );
    for (task, want) in [
        ("error the system pip refuses", "externally-managed-environment"),
        (
            "error version with latest",
            "version is incompatible with state=latest",
        ),
        ("error an ambiguous version", "'version' argument is ambiguous"),
        (
            "error a version and a specifier",
            "conflicts with any version specifier",
        ),
        ("error a bad umask", "umask must be an octal integer"),
        (
            "error virtualenv_python with venv",
            "virtualenv_python should not be used",
        ),
        (
            "error no virtualenv command",
            r#"Failed to find required executable \"nosuchvirtualenv\""#,
        ),
        (
            "error the default virtualenv command",
            r#"Failed to find required executable \"virtualenv\""#,
        ),
        (
            "error no pip in the venv",
            "Unable to find pip in the virtualenv, /srv/nopip",
        ),
        ("error no executable", "Unable to find any of nosuchpip to use."),
        (
            "error a package that is not there",
            "No matching distribution found for nosuchpkg",
        ),
    ] {
        let l = t.line(task);
        assert!(l.contains(want), "{want} in {l}");
    }
    let (th, ah) = (c.talon_host(), c.ansible_host());
    for venv in ["/srv/venv", "/srv/venv2", "/usr/local"] {
        assert_eq!(installed(&c, th, venv), installed(&c, ah, venv), "{venv}");
    }
    assert!(installed(&c, th, "/srv/venv").contains("talonpkg-2.0.dist-info"));
}

#[test]
fn d12_pip_check_mode_predicts_and_a_warm_run_changes_nothing() {
    let c = compare_with_wheels();
    let pb = fixture("pip_converge.yml");
    let (t, _) = c.same(&pb, &["--check", "-v"]);
    native("pip", &t);
    assert_eq!(t.recap[0][1], 4, "{:#?}", t.lines);
    let (t, _) = c.same(&pb, &["-v"]);
    assert_eq!(t.recap[0][1], 4, "{:#?}", t.lines);
    let (t, _) = c.same(&pb, &["-v"]);
    assert_eq!(t.recap[0][1], 0, "warm run: {:#?}", t.lines);
    // Warm check mode: extra_args and requirements are always "changed" in the module's check
    // mode; the rest is ok.
    let (t, _) = c.same(&pb, &["--check", "-v"]);
    assert!(
        t.lines.iter().any(|l| l == "nothing extra => ok"),
        "{:#?}",
        t.lines
    );
    native("pip", &t);
    let (th, ah) = (c.talon_host(), c.ansible_host());
    assert_eq!(installed(&c, th, "/srv/app"), installed(&c, ah, "/srv/app"));
}

#[test]
fn d12_ufw_is_native_and_matches_ansible() {
    let colls = common::ansible::collections_path();
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.to_str().unwrap())];
    let c = Compare::with_lab_flags(&["--extras", "--net-admin"]);
    let (t, _) = c.same_env(&fixture("ufw.yml"), &["-v"], &env);
    native("community.general.ufw", &t);
    native("ufw", &t);
    for want in [
        "allow ssh in check mode => changed",
        "allow ssh => changed",
        "allow ssh again => ok",
        "allow ssh again in check mode => ok",
        "enable in check mode => changed",
        "enable with a policy => changed",
        "enable again => ok",
        "the same rule again => ok",
        "the same rule in check mode => ok",
        "an ipv6 rule in check mode => changed",
        "the ipv6 rule again => ok",
        "limit again => ok",
        "a route rule again => ok",
        "an app again => ok",
        "logging in check mode => changed",
        "logging => changed",
        "logging again => ok",
        "a default that is set => ok",
        "delete a rule => changed",
        "delete it again => ok",
        "reload => changed",
        "disable => changed",
        "disable again => ok",
        "reset => changed",
    ] {
        assert!(t.lines.iter().any(|l| l == want), "{want}: {:#?}", t.lines);
    }
    let shown = t.line("show rules");
    for want in [
        r#""/usr/sbin/ufw allow from 10.0.0.0/8 to any port 8080 proto tcp comment 'lab web'""#,
        r#""/usr/sbin/ufw --version""#,
        "Status: active",
    ] {
        assert!(shown.contains(want), "{want} in {shown}");
    }
    for (task, want) in [
        ("error a rule direction", "For default, direction must be one of"),
        ("error two interfaces", "Only route rules can combine"),
        ("error an address ufw refuses", "ERROR:"),
        (
            "error nothing to do",
            "one of the following is required: state, default, rule, logging",
        ),
    ] {
        let l = t.line(task);
        assert!(l.contains(want), "{want} in {l}");
    }
    let status = |h: &str| {
        c.lab.sh_ok(
            h,
            "ufw status verbose; cat /etc/ufw/user.rules /etc/ufw/user6.rules",
        )
    };
    assert_eq!(status(c.talon_host()), status(c.ansible_host()));
}
