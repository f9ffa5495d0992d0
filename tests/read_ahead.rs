//! Reads sent ahead across tasks (pipelining, `src/transport/read_ahead.rs`) on real lab hosts:
//! the same statuses, registered values and trees as reads made on demand
//! (`TALON_READ_AHEAD=0`), answers actually used on a warm run, and never an answer read before
//! a change that the linear strategy orders before the task: another host's (two inventory
//! names of one machine share its files) or the host's own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod common;

use common::{Lab, Run, talon, write_file};

/// Runs `playbook` against `inventory` with `TALON_READ_AHEAD` set to `ahead`, logging the
/// read-ahead counts.
fn run(lab: &Lab, playbook: &Path, inventory: &Path, ahead: &str, extra: &[&str]) -> Run {
    let out = talon()
        .arg("run")
        .arg(playbook)
        .arg("-i")
        .arg(inventory)
        .args(extra)
        .env("TALON_READ_AHEAD", ahead)
        .env("TALON_LOG", "talon::transport::read_ahead=debug")
        .env("TALON_STATE_DIR", lab.dir.path().join("state"))
        .output()
        .unwrap();
    Run::from(out)
}

/// `(sent, used)` from the log line each connection writes when it closes, summed.
fn counts(r: &Run) -> (u64, u64) {
    let mut total = (0, 0);
    for line in r.stderr.lines() {
        let Some(rest) = line.split("answers read ahead: ").nth(1) else {
            continue;
        };
        let nums: Vec<u64> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        total.0 += nums[0];
        total.1 += nums[1];
    }
    total
}

/// The task lines of a run's output (headers and per-host results, in order), without the
/// timing-dependent rest.
fn statuses(r: &Run) -> Vec<String> {
    r.stdout
        .lines()
        .filter(|l| {
            l.starts_with("TASK [")
                || l.starts_with("ok:")
                || l.starts_with("changed:")
                || l.starts_with("skipping:")
                || l.starts_with("failed:")
                || l.starts_with("fatal:")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn d16_reads_ahead_give_what_reads_on_demand_give() {
    let lab = Lab::up(1);
    let dir = lab.dir.path().join("pb");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    write_file(&dir.join("templates/t.j2"), "host={{ inventory_hostname }}\n");
    write_file(
        &dir.join("site.yml"),
        r#"- hosts: all
  gather_facts: false
  tasks:
    - file: {path: /opt/ra, state: directory, mode: "0755"}
    - file: {path: "/opt/ra/{{ item }}", state: directory}
      loop: [a, b, c]
    - copy: {content: "one\n", dest: /opt/ra/a/one, mode: "0640"}
      register: r_copy
    - template: {src: t.j2, dest: /opt/ra/b/t, mode: "0644"}
      register: r_template
    - lineinfile: {path: /opt/ra/c/lines, line: "x=1", create: true}
      register: r_line
    - blockinfile: {path: /opt/ra/c/lines, block: "inside"}
      register: r_block
    - file: {src: /opt/ra/a/one, dest: /opt/ra/link, state: link}
      register: r_link
    - file: {src: a, dest: /opt/ra/rel, state: link}
    - copy: {content: "two\n", dest: /opt/ra/a/}
      tags: [never]
    - file: {path: /opt/ra/missing, state: absent}
    - copy: {content: "{{ r_copy.checksum }}\n", dest: /opt/ra/sum}
    - debug:
        msg: "{{ [r_copy.checksum, r_template.mode, r_line.msg, r_block.msg, r_link.dest] }}"
"#,
    );
    let pb = dir.join("site.yml");
    let inv = lab.inventory();
    let cold = run(&lab, &pb, &inv, "1", &["-v"]);
    cold.assert_code(0);
    assert_eq!(cold.changed("lab1"), 9, "{}", cold.stdout);
    let tree = lab.tree("lab1", "/opt/ra");
    // Warm, with reads on demand, then read ahead: the same statuses and results.
    let on_demand = run(&lab, &pb, &inv, "0", &["-v"]);
    let ahead = run(&lab, &pb, &inv, "1", &["-v"]);
    for r in [&on_demand, &ahead] {
        r.assert_code(0);
        assert_eq!(r.changed("lab1"), 0, "{}", r.stdout);
    }
    assert_eq!(statuses(&ahead), statuses(&on_demand));
    assert_eq!(counts(&on_demand), (0, 0), "{}", on_demand.stderr);
    let (sent, used) = counts(&ahead);
    assert!(
        sent >= 20 && used >= 15,
        "sent {sent}, used {used}:\n{}",
        ahead.stderr
    );
    assert_eq!(lab.tree("lab1", "/opt/ra"), tree);
}

#[test]
fn d16_a_read_ahead_is_not_used_after_a_change_ordered_before_its_task() {
    let lab = Lab::up(1);
    lab.sh_ok(
        "lab1",
        "mkdir -p /opt/ra && printf 'old\\n' > /opt/ra/f && printf 'keep\\n' > /opt/ra/g \
         && printf 'k\\n' > /opt/ra/k && chmod 0644 /opt/ra/f /opt/ra/g /opt/ra/k",
    );
    // Two inventory names for the one machine: what h1 changes, h2 sees (as on a shared
    // filesystem).
    let port = lab.port("lab1");
    let d = lab.dir.path();
    let inv = d.join("shared.yml");
    write_file(
        &inv,
        &format!(
            r#"all:
  hosts:
    h1: {{ansible_host: 127.0.0.1, ansible_port: {port}}}
    h2: {{ansible_host: 127.0.0.1, ansible_port: {port}}}
  vars:
    ansible_user: root
    ansible_ssh_private_key_file: "{key}"
    ansible_ssh_common_args: "-o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes"
"#,
            key = d.join("id_ed25519").display(),
            kh = d.join("known_hosts").display(),
        ),
    );
    let pb = d.join("order.yml");
    write_file(
        &pb,
        r#"- hosts: all
  gather_facts: false
  tasks:
    - name: warm 1
      file: {path: /opt/ra, state: directory}
    - name: warm 2
      file: {path: /opt/ra, state: directory}
    - name: h1 links l to k
      file: {src: /opt/ra/k, dest: /opt/ra/l, state: link}
      when: inventory_hostname == 'h1'
      register: link
    - name: the new link as h1 saw it
      assert:
        that: [link.state == 'link', link.size == 9, link.mode == '0777']
      when: inventory_hostname == 'h1'
    - name: warm 3
      file: {path: /opt/ra, state: directory}
    - name: warm 4
      file: {path: /opt/ra, state: directory}
    - name: h1 edits f
      lineinfile: {path: /opt/ra/f, line: h1-was-here}
      when: inventory_hostname == 'h1'
    - name: h2 restores f
      copy: {content: "old\n", dest: /opt/ra/f}
      when: inventory_hostname == 'h2'
    - name: h1 changes the mode of g
      file: {path: /opt/ra/g, mode: "0600"}
      when: inventory_hostname == 'h1'
    - name: h2 sets it back
      file: {path: /opt/ra/g, mode: "0644"}
      when: inventory_hostname == 'h2'
    - name: h1 appends to k
      lineinfile: {path: /opt/ra/k, line: more}
      when: inventory_hostname == 'h1'
    - name: h1 restores k
      copy: {content: "k\n", dest: /opt/ra/k}
      when: inventory_hostname == 'h1'
"#,
    );
    let r = run(&lab, &pb, &inv, "1", &[]);
    r.assert_code(0);
    let (sent, used) = counts(&r);
    assert!(sent > 0 && used > 0, "nothing was read ahead:\n{}", r.stderr);
    for (task, host) in [
        ("h2 restores f", "h2"),
        ("h2 sets it back", "h2"),
        ("h1 restores k", "h1"),
        ("h1 links l to k", "h1"),
    ] {
        let after = r.stdout.split(&format!("TASK [{task}]")).nth(1).unwrap();
        let section = after.split("TASK [").next().unwrap();
        assert!(
            section
                .lines()
                .any(|l| l.starts_with(&format!("changed: [{host}]"))),
            "{task}: not changed on {host}:\n{}",
            r.stdout
        );
    }
    assert_eq!(r.changed("h1"), 5, "{}", r.stdout);
    assert_eq!(r.changed("h2"), 2, "{}", r.stdout);
    assert_eq!(lab.read("lab1", "/opt/ra/f").as_deref(), Some("old\n"));
    assert_eq!(lab.read("lab1", "/opt/ra/k").as_deref(), Some("k\n"));
    assert_eq!(
        lab.stat("lab1", "/opt/ra/g").as_deref(),
        Some("644 root root regular file")
    );
}

/// Remote steps (commands on the host's shell or a channel of their own) in a run's log.
fn steps(r: &Run) -> usize {
    r.stderr
        .lines()
        .filter(|l| l.contains("shell request done") || l.contains("channel request done"))
        .count()
}

#[test]
fn d16_creates_and_removes_decide_over_sftp_as_the_wrapper_decides() {
    let lab = Lab::up(1);
    lab.sh_ok(
        "lab1",
        "mkdir -p /opt/cr && touch /opt/cr/there && ln -s /opt/cr/nowhere /opt/cr/dangling",
    );
    let pb = lab.dir.path().join("creates.yml");
    write_file(
        &pb,
        r#"- hosts: all
  gather_facts: false
  tasks:
    - command: touch /opt/cr/ran1
      args: {creates: /opt/cr/there}
      register: r1
    - command: touch /opt/cr/ran2
      args: {creates: /opt/cr/dangling}
      register: r2
    - shell: touch /opt/cr/ran3
      args: {removes: /opt/cr/absent}
      register: r3
    - command: touch /opt/cr/ran4
      args: {creates: /opt/cr/absent, removes: /opt/cr/also-absent}
      register: r4
    - command: touch /opt/cr/ran5
      args: {creates: "/opt/cr/th*"}
      register: r5
    - command: touch /opt/cr/ran6
      args: {creates: /opt/cr/ran6}
      register: r6
    - command: touch /opt/cr/ran7
      args: {creates: /opt/cr/there}
      check_mode: true
      register: r7
    - debug:
        msg: "{{ [r1, r2, r3, r4, r5, r7] | map(attribute='msg') | list }}"
    - debug:
        msg: "{{ [r1, r2, r3, r4, r5, r7] | map(attribute='stdout') | list }}"
"#,
    );
    let go = |transport: &str| {
        lab.sh_ok("lab1", "rm -f /opt/cr/ran*");
        let out = talon()
            .arg("run")
            .arg(&pb)
            .arg("-i")
            .arg(lab.inventory())
            .arg("-v")
            .env("TALON_FILE_TRANSPORT", transport)
            .env("TALON_LOG", "talon::transport::shell=debug")
            .output()
            .unwrap();
        let r = Run::from(out);
        r.assert_code(0);
        let tree = lab.sh_ok("lab1", "ls /opt/cr");
        (r, tree)
    };
    let (shell, shell_tree) = go("shell");
    let (sftp, sftp_tree) = go("auto");
    // Only the commands that run and the one with a glob start a step on the SFTP path. The
    // command that ran has its own times.
    let timeless = |r: &Run| -> Vec<String> {
        statuses(r)
            .into_iter()
            .map(|l| match l.starts_with("changed:") {
                true => l.split(" => ").next().unwrap_or_default().to_string(),
                false => l,
            })
            .collect()
    };
    assert_eq!(timeless(&sftp), timeless(&shell));
    assert_eq!(sftp_tree, shell_tree);
    assert_eq!(shell_tree, "dangling\nran6\nthere\n");
    assert!(
        steps(&sftp) + 4 <= steps(&shell),
        "sftp {} steps, shell {}",
        steps(&sftp),
        steps(&shell)
    );
    assert!(
        sftp.stdout
            .contains("Did not run command since '/opt/cr/dangling' exists")
    );
    assert!(
        sftp.stdout
            .contains("skipped, since /opt/cr/absent does not exist")
    );
}
