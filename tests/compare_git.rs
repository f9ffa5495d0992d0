//! `git` against ansible-playbook (ansible-core 2.19) on fresh Debian lab hosts with git
//! (`--extras`): the module ran through ansible-core's code on the host (the Python path);
//! talon now runs the host's git itself. The repositories are made on each host by the test
//! (no network), with fixed names and dates so that their commits have the same SHAs on both
//! hosts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ansible::{Compare, fixture};

/// Makes /srv/repo.git (main: one, two; dev; tags v1 and annotated v1a), /srv/repo2.git (a
/// copy), /srv/sub.git and /srv/super.git (with sub as a submodule), the work trees under
/// /srv/work, and /srv/fakessh (an `ssh` that logs its arguments and runs the remote command
/// locally).
const SETUP: &str = r#"set -e
export GIT_AUTHOR_NAME=Talon GIT_AUTHOR_EMAIL=talon@example.com GIT_COMMITTER_NAME=Talon GIT_COMMITTER_EMAIL=talon@example.com
export GIT_AUTHOR_DATE='2024-01-01T00:00:00+0000' GIT_COMMITTER_DATE='2024-01-01T00:00:00+0000'
git config --system protocol.file.allow always
git config --system init.defaultBranch main
mkdir -p /srv/work && cd /srv/work
git init -q sub && cd sub && echo sub1 > s.txt && git add . && git commit -qm s1 && cd ..
git clone -q --bare sub /srv/sub.git
git init -q repo && cd repo && echo one > a.txt && git add . && git commit -qm one
git tag v1 && git tag -a v1a -m 'annotated v1'
echo two > a.txt && git commit -qam two
git checkout -qb dev && echo dev > d.txt && git add . && git commit -qm dev && git checkout -q main
cd .. && git clone -q --bare repo /srv/repo.git && git clone -q --bare repo /srv/repo2.git
git init -q super && cd super && echo top > t.txt && git add . && git commit -qm top
git submodule -q add file:///srv/sub.git sub && git commit -qm 'with sub'
cd .. && git clone -q --bare super /srv/super.git
cat > /srv/fakessh <<'SSH'
#!/bin/sh
printf '%s\n' "$*" >> /tmp/ssh.log
for last; do :; done
case " $* " in *" -G "*) exit 1 ;; esac
exec sh -c "$last"
SSH
chmod 755 /srv/fakessh
"#;

/// Fresh hosts with git and the repositories; Python removed from talon's host afterwards.
fn compare_with_repositories() -> Compare {
    let c = Compare::with_lab_flags(&["--extras"]);
    for (host, _) in &c.lab.hosts {
        c.lab.sh_ok(host, SETUP);
    }
    c.take_python_from_talons_host();
    c
}

#[test]
fn d12_git_is_native_and_matches_ansible() {
    let c = compare_with_repositories();
    let (t, _) = c.same(&fixture("git.yml"), &["--diff"]);
    let clones = t.line("show clones");
    for want in [
        r#""after":"520aa8262518600ce3c7335026e09024a068a212","before":null,"changed":true"#,
        r#""prepared":">> Newly checked out 520aa8262518600ce3c7335026e09024a068a212""#,
        "Ignoring depth argument.",
    ] {
        assert!(clones.contains(want), "{want} in {clones}");
    }
    let updates = t.line("show updates");
    for want in [
        r#""remote_url_changed":true"#,
        r#""msg":"Local modifications exist in the destination: /tmp/g/branch (force=no).""#,
        r#""msg":"Local modifications exist in the destination: /tmp/g/branch""#,
    ] {
        assert!(updates.contains(want), "{want} in {updates}");
    }
    assert!(
        t.line("show submodules").contains(r#""submodules_changed":true"#),
        "{:#?}",
        t.lines
    );
    let ssh = t.line("show the ssh commands as listed");
    assert!(
        ssh.contains("-o ConnectTimeout=5 -o StrictHostKeyChecking=no -o BatchMode=yes -i /root/.ssh/gitkey -o IdentitiesOnly=yes"),
        "{ssh}"
    );
    let errors = t.line("show errors");
    for want in [
        r#""msg":"Failed to checkout nosuch""#,
        r#""msg":"the destination directory must be specified unless clone=no""#,
        r#""msg":"umask must be defined as a quoted octal integer""#,
        r#""details":"invalid literal for int() with base 8: '089'""#,
    ] {
        assert!(errors.contains(want), "{want} in {errors}");
    }
    // Warm: check mode predicts the real run (three checkouts are behind upstream); then
    // nothing changes, in check mode or for real.
    let (check, _) = c.same(&fixture("git_warm.yml"), &["--check"]);
    let (real, _) = c.same(&fixture("git_warm.yml"), &[]);
    assert_eq!(check.lines[0], real.lines[0]);
    assert_eq!(real.recap[0][1], 1, "{:#?}", real.lines);
    for extra in [&["--check"][..], &[]] {
        let (t, _) = c.same(&fixture("git_warm.yml"), extra);
        assert_eq!(t.recap[0][1], 0, "{:#?}", t.lines);
    }
}
