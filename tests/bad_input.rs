//! Input crafted to break talon (issue 9): every case must end in a clear error naming the file
//! (and line where there is one), quickly and within bounded memory, never a panic or an abort.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{talon, text};

/// Runs talon with `args`; asserts it fails (not by a panic, exit 101) within `limit` seconds.
/// Returns stdout and stderr together.
fn fails_within(args: &[&std::ffi::OsStr], limit: u64) -> String {
    let start = Instant::now();
    let out = talon().args(args).output().unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        start.elapsed() < Duration::from_secs(limit),
        "took {:?}: {all}",
        start.elapsed()
    );
    assert!(
        !out.status.success() && out.status.code() != Some(101) && !all.contains("panicked"),
        "{:?} {all}",
        out.status
    );
    all
}

/// `talon inventory --list -i FILE`: must fail fast.
fn inventory_error(file: &Path) -> String {
    fails_within(
        &[
            "inventory".as_ref(),
            "--list".as_ref(),
            "-i".as_ref(),
            file.as_os_str(),
        ],
        10,
    )
}

/// `talon run PLAYBOOK -i INVENTORY`: must fail fast.
fn run_error(playbook: &Path, inventory: &Path) -> String {
    fails_within(
        &[
            "run".as_ref(),
            playbook.as_os_str(),
            "-i".as_ref(),
            inventory.as_os_str(),
        ],
        20,
    )
}

#[test]
fn d4_host_range_expansion_is_bounded_in_files() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("hosts.ini", "[web]\nok1\nh[0:18446744073709551615]\n", ":3:1"),
        ("wide.ini", "[web]\nh[0:99999999999]\n", ":2:1"),
        ("square.ini", "h[0:9999][0:9999]\n", ":1:1"),
        ("inv.yml", "all:\n  hosts:\n    h[0:99999999999]:\n", ":3:5"),
        (
            "nested.yaml",
            "all:\n  children:\n    web:\n      hosts:\n        h[0:9999][0:9999]:\n",
            ":5:9",
        ),
    ];
    for (name, content, at) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        let err = inventory_error(&p);
        assert!(
            err.contains(&format!("{name}{at}")) && err.contains("1000000"),
            "{name}: {err}"
        );
    }
    // The inventory as a whole is bounded too: two ranges within the per-entry bound.
    let p = dir.path().join("many.ini");
    std::fs::write(&p, "[a]\na[0:99999]\n[b]\nb[0:99999]\n").unwrap();
    let err = inventory_error(&p);
    assert!(err.contains("many.ini:4:1") && err.contains("100000"), "{err}");
}

#[test]
fn d12_dev_zero_inventory_is_a_clear_error() {
    let err = inventory_error(Path::new("/dev/zero"));
    assert!(
        err.contains("/dev/zero") && err.contains("not a regular file"),
        "{err}"
    );
    // A playbook and a vars file from a device are refused the same way.
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts");
    std::fs::write(&inv, "localhost ansible_connection=local\n").unwrap();
    let err = run_error(Path::new("/dev/zero"), &inv);
    assert!(
        err.contains("/dev/zero") && err.contains("not a regular file"),
        "{err}"
    );
    let pb = dir.path().join("p.yml");
    std::fs::write(
        &pb,
        "- hosts: localhost\n  gather_facts: false\n  vars_files: [/dev/zero]\n  tasks:\n    - debug: msg=hi\n",
    )
    .unwrap();
    let all = run_error(&pb, &inv);
    assert!(
        all.contains("/dev/zero") && all.contains("not a regular file"),
        "{all}"
    );
    // copy src and template src too (read at run time, with the task named).
    let dest = dir.path().join("out");
    for module in ["copy", "template"] {
        std::fs::write(
            &pb,
            format!(
                "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: push zeros\n      {module}: {{src: /dev/zero, dest: {}}}\n",
                dest.display()
            ),
        )
        .unwrap();
        let all = run_error(&pb, &inv);
        assert!(
            all.contains("push zeros") && all.contains("/dev/zero") && all.contains("not a regular file"),
            "{module}: {all}"
        );
    }
    assert!(!dest.exists());
}

#[test]
fn d12_invalid_utf8_has_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts");
    std::fs::write(&inv, b"[web]\nw1\nw\xff2\n").unwrap();
    let err = inventory_error(&inv);
    assert!(err.contains("hosts:3:2") && err.contains("UTF-8"), "{err}");

    let good_inv = dir.path().join("good");
    std::fs::write(&good_inv, "localhost ansible_connection=local\n").unwrap();
    let pb = dir.path().join("p.yml");
    std::fs::write(
        &pb,
        b"- hosts: localhost\n  tasks:\n    - debug: msg=\"caf\xe9\"\n",
    )
    .unwrap();
    let err = run_error(&pb, &good_inv);
    assert!(err.contains("p.yml:3:22") && err.contains("UTF-8"), "{err}");

    std::fs::create_dir_all(dir.path().join("group_vars")).unwrap();
    std::fs::write(dir.path().join("group_vars/all.yml"), b"a: 1\nb: \x80\n").unwrap();
    let err = inventory_error(&good_inv);
    assert!(err.contains("all.yml:2:4") && err.contains("UTF-8"), "{err}");
}

#[test]
fn d12_group_cycles_name_their_file() {
    let dir = tempfile::tempdir().unwrap();
    let ini = dir.path().join("hosts.ini");
    std::fs::write(&ini, "[a:children]\nb\n\n[b:children]\na\n").unwrap();
    let err = inventory_error(&ini);
    assert!(
        err.contains("hosts.ini:2:1")
            && err.contains("hosts.ini:5:1")
            && err.contains("descendant of itself"),
        "{err}"
    );
    let yml = dir.path().join("inv.yml");
    std::fs::write(&yml, "a:\n  children:\n    b:\n      children:\n        a:\n").unwrap();
    let err = inventory_error(&yml);
    assert!(
        err.contains("inv.yml:3:5") && err.contains("inv.yml:5:9") && err.contains("descendant of itself"),
        "{err}"
    );
}

/// Runs `tasks` (YAML, indented for a play's task list) with `vars` in a play on the implicit
/// localhost (connection local); returns (exit code, stdout + stderr, seconds taken).
fn run_local(vars: &str, tasks: &str) -> (Option<i32>, String, f64) {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("play.yml");
    std::fs::write(
        &pb,
        format!("- hosts: localhost\n  gather_facts: false\n  vars:\n{vars}  tasks:\n{tasks}"),
    )
    .unwrap();
    let inv = dir.path().join("hosts");
    std::fs::write(&inv, "localhost ansible_connection=local\n").unwrap();
    let start = Instant::now();
    let out = talon()
        .arg("run")
        .arg(&pb)
        .arg("-i")
        .arg(&inv)
        .env("TALON_STATE_DIR", dir.path().join("state"))
        .output()
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.code() != Some(101) && !all.contains("panicked"),
        "{all}"
    );
    (out.status.code(), all, secs)
}

#[test]
fn d5_product_of_big_lists_is_a_clear_error() {
    let (code, all, secs) = run_local(
        "    l: \"{{ range(100) | list }}\"\n",
        "    - name: multiply out\n      debug:\n        msg: \"{{ l | product(l, l, l, l) | length }}\"\n",
    );
    assert_eq!(code, Some(2), "{all}");
    assert!(
        all.contains("multiply out")
            && all.contains("100 x 100 x 100 x 100 x 100")
            && all.contains("1000000"),
        "{all}"
    );
    assert!(secs < 20.0, "{secs}s");
}

#[test]
fn d5_doubling_variables_are_bounded() {
    let mut vars = String::from("    v0: \"0123456789012345678901234567890123456789\"\n");
    for i in 1..26 {
        vars.push_str(&format!("    v{i}: \"{{{{ v{p} ~ v{p} }}}}\"\n", p = i - 1));
    }
    assert!(vars.len() < 1100);
    let (code, all, secs) = run_local(
        &vars,
        "    - name: grow\n      debug:\n        msg: \"{{ v25 | length }}\"\n",
    );
    assert_eq!(code, Some(2), "{all}");
    assert!(
        all.contains("grow") && all.contains("template rendering stopped"),
        "{all}"
    );
    assert!(secs < 30.0, "{secs}s");
}

#[test]
fn d5_loops_and_output_are_bounded() {
    let (code, all, secs) = run_local(
        "    unused: 1\n",
        concat!(
            "    - name: spin\n      debug:\n",
            "        msg: \"{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\"\n",
        ),
    );
    assert_eq!(code, Some(2), "{all}");
    assert!(all.contains("spin") && all.contains("steps"), "{all}");
    assert!(secs < 30.0, "{secs}s");
    // Each use of `inner` loops a little; used 50,000 times the steps add up.
    let (code, all, secs) = run_local(
        "    inner: \"{% for j in range(1000) %}{% endfor %}\"\n",
        "    - name: spin in variables\n      debug:\n        msg: \"{% for i in range(50000) %}{{ inner }}{% endfor %}\"\n",
    );
    assert_eq!(code, Some(2), "{all}");
    assert!(
        all.contains("spin in variables") && all.contains("steps"),
        "{all}"
    );
    assert!(secs < 30.0, "{secs}s");
    let (code, all, _) = run_local(
        "    unused: 1\n",
        "    - name: huge range\n      debug:\n        msg: \"{% for i in range(10**10) %}x{% endfor %}\"\n",
    );
    assert_eq!(code, Some(2), "{all}");
    assert!(all.contains("huge range") && all.contains("range"), "{all}");
    let (code, all, secs) = run_local(
        "    big: \"{{ 'x' * 100000000 }}\"\n",
        "    - name: flood\n      debug:\n        msg: \"{% for i in range(3) %}{{ big }}{% endfor %}\"\n",
    );
    assert_eq!(code, Some(2), "{all}");
    assert!(all.contains("flood") && all.contains("256 MiB"), "{all}");
    assert!(secs < 30.0, "{secs}s");
}
