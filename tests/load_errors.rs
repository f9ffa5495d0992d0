//! Playbooks, roles, vars and inventories that must be refused at load (exit 4, `file:line:column`
//! and what to do), or bounded at run time, instead of overflowing the stack or shipping the wrong
//! value (issue 9, "found by trying to break talon"). Everything runs against this machine
//! (`ansible_connection=local`); load errors happen before any connection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;

use common::{talon, text};

/// A throwaway project folder: files by relative path, and a local inventory `inv.ini`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(files: &[(&str, &str)]) -> Project {
        let dir = tempfile::Builder::new().prefix("talon-load-").tempdir().unwrap();
        let p = Project { dir };
        p.write("inv.ini", "h1 ansible_connection=local\n");
        for (path, content) in files {
            p.write(path, content);
        }
        p
    }

    fn write(&self, path: &str, content: &str) {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    /// `talon run --syntax-check PLAYBOOK -i inv.ini` (or another inventory).
    fn check_with(&self, playbook: &str, inventory: &str) -> Output {
        talon()
            .current_dir(self.dir.path())
            .args(["run", "--syntax-check", playbook, "-i", inventory])
            .output()
            .unwrap()
    }

    fn check(&self, playbook: &str) -> Output {
        self.check_with(playbook, "inv.ini")
    }

    /// `talon run --syntax-check --strict PLAYBOOK -i inv.ini`.
    fn check_strict(&self, playbook: &str) -> Output {
        talon()
            .current_dir(self.dir.path())
            .args(["run", "--syntax-check", "--strict", playbook, "-i", "inv.ini"])
            .output()
            .unwrap()
    }

    /// `talon run PLAYBOOK -i inv.ini`, for real, on this machine.
    fn run(&self, playbook: &str) -> Output {
        talon()
            .current_dir(self.dir.path())
            .args(["run", playbook, "-i", "inv.ini"])
            .output()
            .unwrap()
    }
}

/// The message of a load error: exit 4 (ansible-playbook's code for a playbook that cannot be
/// parsed), no signal, nothing run.
fn load_error(out: &Output) -> String {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(4),
        "expected a load error (exit 4):\n{all}"
    );
    assert!(!all.contains("PLAY RECAP"), "nothing may run:\n{all}");
    all
}

/// The warnings of a playbook that loads (exit 0) with findings: each line of stderr that
/// starts `[WARNING]: `, once each.
fn warnings(out: &Output) -> Vec<String> {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(0),
        "expected a playbook that loads:\n{all}"
    );
    let lines: Vec<String> = text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("[WARNING]: "))
        .map(str::to_string)
        .collect();
    assert!(!lines.is_empty(), "expected warnings:\n{all}");
    let mut distinct = lines.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), lines.len(), "a warning is printed once:\n{all}");
    lines
}

/// The output of a run that a host failed (exit 2), without a crash.
fn host_failed(out: &Output) -> String {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected a failed host (exit 2):\n{all}"
    );
    all
}

const PLAY: &str = "- hosts: all\n  gather_facts: false\n  tasks:\n";

#[test]
fn d3_import_cycles_are_load_errors_with_the_chain() {
    let p = Project::new(&[
        ("pb_a.yml", "- import_playbook: pb_b.yml\n"),
        ("pb_b.yml", "- import_playbook: pb_a.yml\n"),
        ("tasks.yml", &format!("{PLAY}    - import_tasks: t1.yml\n")),
        ("t1.yml", "- debug: msg=one\n- import_tasks: t2.yml\n"),
        ("t2.yml", "- debug: msg=two\n- import_tasks: t1.yml\n"),
        ("self.yml", &format!("{PLAY}    - import_tasks: me.yml\n")),
        ("me.yml", "- import_tasks: me.yml\n"),
        ("role.yml", "- hosts: all\n  roles: [r]\n"),
        (
            "roles/r/tasks/main.yml",
            "- debug: msg=r\n- import_role:\n    name: r\n",
        ),
    ]);
    let e = load_error(&p.check("pb_a.yml"));
    assert!(
        e.contains("pb_b.yml:1:20: import cycle: pb_a.yml -> pb_b.yml (pb_a.yml:1:20) -> pb_a.yml ("),
        "{e}"
    );
    let e = load_error(&p.check("tasks.yml"));
    assert!(e.contains("import cycle: t1.yml -> t2.yml ("), "{e}");
    assert!(e.contains("t1.yml:2:3) -> t1.yml ("), "{e}");
    assert!(e.contains("t2.yml:2:3"), "{e}");
    assert!(
        e.contains("include_tasks or include_role with a condition"),
        "{e}"
    );
    let e = load_error(&p.check("self.yml"));
    assert!(e.contains("me.yml:1:3: import cycle: me.yml -> me.yml ("), "{e}");
    let e = load_error(&p.check("role.yml"));
    assert!(
        e.contains(
            "roles/r/tasks/main.yml:2:3: import cycle: roles/r/tasks/main.yml -> roles/r/tasks/main.yml"
        ),
        "{e}"
    );

    // A chain of 70 distinct imports is past the static depth limit (64).
    let mut files = vec![(
        "deep.yml".to_string(),
        format!("{PLAY}    - import_tasks: d0.yml\n"),
    )];
    for i in 0..70 {
        files.push((format!("d{i}.yml"), format!("- import_tasks: d{}.yml\n", i + 1)));
    }
    files.push(("d70.yml".into(), "- debug: msg=end\n".into()));
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let p = Project::new(&refs);
    let e = load_error(&p.check("deep.yml"));
    assert!(e.contains("imports nest deeper than 64 levels"), "{e}");

    // The same file imported twice side by side is no cycle.
    let p = Project::new(&[
        (
            "twice.yml",
            &format!("{PLAY}    - import_tasks: t.yml\n    - import_tasks: t.yml\n"),
        ),
        ("t.yml", "- debug: msg=t\n"),
    ]);
    assert!(p.check("twice.yml").status.success());
}

#[test]
fn d3_dynamic_include_recursion_is_bounded() {
    let p = Project::new(&[
        (
            "inc.yml",
            &format!("{PLAY}    - include_tasks: again.yml\n    - debug: msg=after\n"),
        ),
        ("again.yml", "- include_tasks: again.yml\n"),
        (
            "role.yml",
            &format!("{PLAY}    - include_role:\n        name: loop\n"),
        ),
        ("roles/loop/tasks/main.yml", "- include_role:\n    name: loop\n"),
    ]);
    // Loading is lazy: a file that includes itself is valid until it runs.
    assert!(p.check("inc.yml").status.success());
    let out = host_failed(&p.run("inc.yml"));
    assert!(
        out.contains("includes nest deeper than 128 levels")
            && out.contains("again.yml (inc.yml:4:7) -> again.yml ("),
        "{out}"
    );
    assert!(out.contains("(123 more)"), "{out}");
    assert!(
        !out.contains("msg: after"),
        "the host stops at the failed include:\n{out}"
    );
    let out = host_failed(&p.run("role.yml"));
    assert!(
        out.contains("includes nest deeper than 128 levels")
            && out.contains("role loop (role.yml:4:7) -> role loop ("),
        "{out}"
    );
}

#[test]
fn d3_template_lookup_of_itself_is_an_error() {
    let p = Project::new(&[
        (
            "pb.yml",
            &format!("{PLAY}    - debug:\n        msg: \"{{{{ lookup('template', 'self.j2') }}}}\"\n"),
        ),
        ("templates/self.j2", "x{{ lookup('template', 'self.j2') }}\n"),
    ]);
    let out = host_failed(&p.run("pb.yml"));
    assert!(
        out.contains("lookup('template') nested deeper than 32 levels") && out.contains("self.j2"),
        "{out}"
    );
    assert!(out.contains("pb.yml:4:7"), "{out}");
}

#[test]
fn d3_deep_yaml_nesting_is_an_error() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut block = String::from("- hosts: all\n  vars:\n    x:\n");
    for i in 0..100 {
        block.push_str(&format!("{}a:\n", "  ".repeat(i + 3)));
    }
    let p = Project::new(&[
        (
            "flow.yml",
            &format!("- hosts: all\n  vars:\n    x: {deep}\n  tasks: []\n"),
        ),
        ("block.yml", &block),
        ("inv.yml", &format!("all:\n  hosts:\n    h1:\n      x: {deep}\n")),
        ("ok.yml", "- hosts: all\n  tasks: []\n"),
    ]);
    let e = load_error(&p.check("flow.yml"));
    assert!(
        e.contains("flow.yml:3:") && e.contains("YAML nested deeper than 64 levels"),
        "{e}"
    );
    let e = load_error(&p.check("block.yml"));
    assert!(
        e.contains("block.yml:") && e.contains("YAML nested deeper than 64 levels"),
        "{e}"
    );
    let e = load_error(&p.check_with("ok.yml", "inv.yml"));
    assert!(
        e.contains("inv.yml:4:") && e.contains("YAML nested deeper than 64 levels"),
        "{e}"
    );
}

#[test]
fn d12_role_dependency_cycles_name_their_file() {
    let p = Project::new(&[
        ("pb.yml", "- hosts: all\n  roles: [a]\n"),
        ("roles/a/meta/main.yml", "dependencies:\n  - b\n"),
        ("roles/a/tasks/main.yml", "- debug: msg=a\n"),
        (
            "roles/b/meta/main.yml",
            "galaxy_info: {}\ndependencies:\n  - role: a\n",
        ),
        ("self.yml", "- hosts: all\n  roles: [s]\n"),
        ("roles/s/meta/main.yml", "dependencies: [s]\n"),
    ]);
    let e = load_error(&p.check("pb.yml"));
    assert!(
        e.contains("roles/b/meta/main.yml:3:5: role dependency cycle: role a -> role b (")
            && e.contains("roles/a/meta/main.yml:2:5) -> role a ("),
        "{e}"
    );
    let e = load_error(&p.check("self.yml"));
    assert!(
        e.contains("roles/s/meta/main.yml:1:16: role dependency cycle: role s -> role s"),
        "{e}"
    );
    // A diamond (a -> b, a -> c, b -> d, c -> d) is no cycle.
    let p = Project::new(&[
        ("pb.yml", "- hosts: all\n  roles: [a]\n"),
        ("roles/a/meta/main.yml", "dependencies: [b, c]\n"),
        ("roles/b/meta/main.yml", "dependencies: [d]\n"),
        ("roles/c/meta/main.yml", "dependencies: [d]\n"),
        ("roles/d/tasks/main.yml", "- debug: msg=d\n"),
    ]);
    assert!(p.check("pb.yml").status.success());
}

#[test]
/// Without a vault password (talon decrypts vault data since issue 14), still a load error.
fn d13_inline_vault_is_a_load_error_not_ciphertext() {
    const VAULT: &str = "!vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      62313365396662343061393464336163383764373764613633653634306231386433626436623361\n";
    let p = Project::new(&[
        (
            "play.yml",
            &format!("- hosts: all\n  vars:\n    pw: {VAULT}  tasks: []\n"),
        ),
        (
            "files.yml",
            "- hosts: all\n  vars_files: [vars/secret.yml]\n  tasks: []\n",
        ),
        (
            "vars/secret.yml",
            &format!("a: 1\npw: {}", VAULT.replace("\n      ", "\n  ")),
        ),
        ("ok.yml", "- hosts: all\n  tasks: []\n"),
        ("gv/inv.ini", "h1 ansible_connection=local\n"),
        (
            "gv/group_vars/all.yml",
            &format!("pw: {}", VAULT.replace("\n      ", "\n  ")),
        ),
        (
            "inv.yml",
            &format!(
                "all:\n  hosts:\n    h1:\n      pw: {}",
                VAULT.replace("\n      ", "\n        ")
            ),
        ),
        ("enc/inv.ini", "h1 ansible_connection=local\n"),
        (
            "enc/group_vars/all.yml",
            "$ANSIBLE_VAULT;1.1;AES256\n6231336539666234\n",
        ),
    ]);
    let e = load_error(&p.check("play.yml"));
    assert!(
        e.contains("play.yml:4:7: Attempting to decrypt but no vault secrets found"),
        "{e}"
    );
    assert!(!e.contains("$ANSIBLE_VAULT"), "{e}");
    let e = load_error(&p.check("files.yml"));
    assert!(
        e.contains("vars/secret.yml:3:3: Attempting to decrypt but no vault secrets found"),
        "{e}"
    );
    let e = load_error(&p.check_with("ok.yml", "gv/inv.ini"));
    assert!(
        e.contains("group_vars/all.yml:2:3: Attempting to decrypt but no vault secrets found"),
        "{e}"
    );
    let e = load_error(&p.check_with("ok.yml", "inv.yml"));
    assert!(
        e.contains("inv.yml:5:9: Attempting to decrypt but no vault secrets found"),
        "{e}"
    );
    assert!(e.contains("--vault-password-file"), "{e}");
    // A whole file encrypted with ansible-vault is named too (ansible-core's message).
    let e = load_error(&p.check_with("ok.yml", "enc/inv.ini"));
    assert!(
        e.contains("Attempting to decrypt but no vault secrets found on")
            && e.contains("enc/group_vars/all.yml"),
        "{e}"
    );
}

/// Every playbook of the stack and every valid fixture still loads with every load check (so new
/// strictness breaks nothing real): `talon run --syntax-check --strict` with the stack's
/// inventory.
#[test]
fn stack_playbooks_and_fixtures_pass_every_load_check() {
    let root = common::root();
    let mut playbooks = Vec::new();
    for dir in ["playbooks", "tests/fixtures/full", "tests/fixtures/verify"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                playbooks.push(path);
            }
        }
    }
    playbooks.sort();
    assert!(playbooks.len() >= 4, "{playbooks:?}");
    for pb in &playbooks {
        let out = talon()
            .args(["run", "--syntax-check", "--strict"])
            .arg(pb)
            .arg("-i")
            .arg(root.join("inventory"))
            .output()
            .unwrap();
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{}:\n{all}", pb.display());
        assert!(all.contains(&format!("playbook: {}", pb.display())), "{all}");
    }
}

#[test]
fn d10_missing_handler_is_an_error() {
    let p = Project::new(&[
        (
            "missing.yml",
            &format!(
                "{PLAY}    - command: 'true'\n      notify: restart nothing\n  handlers:\n    - name: restart app\n      command: 'true'\n"
            ),
        ),
        (
            "ok.yml",
            &format!(
                "{PLAY}    - command: 'true'\n      notify: [restart app, web restarts, 'r : bounce', bounce, imported]\n    - import_role:\n        name: i\n  roles: [r]\n  handlers:\n    - name: restart app\n      command: 'true'\n    - name: other\n      listen: web restarts\n      command: 'true'\n"
            ),
        ),
        ("roles/r/handlers/main.yml", "- name: bounce\n  command: 'true'\n"),
        ("roles/i/tasks/main.yml", "- debug: msg=i\n"),
        (
            "roles/i/handlers/main.yml",
            "- name: imported\n  command: 'true'\n",
        ),
        (
            "block.yml",
            &format!("{PLAY}    - block:\n        - command: 'true'\n          notify: nope\n"),
        ),
    ]);
    let e = load_error(&p.check("missing.yml"));
    assert!(
        e.contains("missing.yml:4:7: The requested handler 'restart nothing' was not found in either the main handlers list nor in the listening handlers list"),
        "{e}"
    );
    let e = load_error(&p.check("block.yml"));
    assert!(e.contains("block.yml:5:11: The requested handler 'nope'"), "{e}");
    let out = p.check("ok.yml");
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn d10_bad_role_meta_is_a_load_error() {
    let p = Project::new(&[
        ("pb.yml", "- hosts: all\n  roles: [r]\n"),
        ("roles/r/meta/main.yml", "dependencies: 5\n"),
        ("pb2.yml", "- hosts: all\n  roles: [s]\n"),
        (
            "roles/s/meta/main.yml",
            "galaxy_info:\n  author: me\ndependancies: [r]\n",
        ),
        ("pb3.yml", "- hosts: all\n  roles: [ok]\n"),
        (
            "roles/ok/meta/main.yml",
            "galaxy_info: {author: me}\nallow_duplicates: false\ncollections: []\nargument_specs: {}\ndependencies: []\n",
        ),
    ]);
    let e = load_error(&p.check("pb.yml"));
    assert!(
        e.contains("roles/r/meta/main.yml:1:15: dependencies must be a list of roles"),
        "{e}"
    );
    let e = load_error(&p.check("pb2.yml"));
    assert!(
        e.contains("roles/s/meta/main.yml:3:1: unknown key 'dependancies'"),
        "{e}"
    );
    assert!(p.check("pb3.yml").status.success());
}

#[test]
fn d10_jinja_syntax_error_is_a_load_error() {
    let p = Project::new(&[
        (
            "arg.yml",
            &format!("{PLAY}    - debug:\n        msg: \"{{{{ x | }}}}\"\n"),
        ),
        (
            "when.yml",
            &format!("{PLAY}    - debug: msg=hi\n      when: x ==\n"),
        ),
        (
            "name.yml",
            &format!("{PLAY}    - name: \"{{% if x %}}\"\n      debug: msg=hi\n"),
        ),
        (
            "lazy.yml",
            &format!(
                "{PLAY}    - debug:\n        msg: \"{{{{ not_defined_anywhere | default('d') }}}}\"\n      when: also_undefined is not defined\n"
            ),
        ),
    ]);
    let e = load_error(&p.check("arg.yml"));
    assert!(
        e.contains("arg.yml:5:14: template error while templating string"),
        "{e}"
    );
    let e = load_error(&p.check("when.yml"));
    assert!(
        e.contains("when.yml:5:13: template error while templating string"),
        "{e}"
    );
    let e = load_error(&p.check("name.yml"));
    assert!(e.contains("name.yml:4:13: template error"), "{e}");
    // Undefined variables stay lazy.
    assert!(p.check("lazy.yml").status.success());
}

#[test]
fn d10_invalid_register_name() {
    for (name, ok) in [
        ("my-result", false),
        ("1st", false),
        ("class", true),
        ("none", false),
        ("a.b", false),
        ("my_result", true),
    ] {
        let p = Project::new(&[(
            "pb.yml",
            &format!("{PLAY}    - command: 'true'\n      register: {name}\n"),
        )]);
        let out = p.check("pb.yml");
        if ok {
            assert!(out.status.success(), "{name}");
        } else {
            let e = load_error(&out);
            assert!(
                e.contains(&format!(
                    "pb.yml:5:17: Invalid variable name in 'register' specified: '{name}'"
                )),
                "{e}"
            );
        }
    }
}

#[test]
fn d10_ignore_errors_must_be_boolean() {
    let p = Project::new(&[
        (
            "task.yml",
            &format!("{PLAY}    - command: 'false'\n      ignore_errors: sometimes\n"),
        ),
        (
            "nolog.yml",
            &format!("{PLAY}    - command: 'true'\n      no_log: [1]\n"),
        ),
        ("play.yml", "- hosts: all\n  ignore_errors: 5\n  tasks: []\n"),
        (
            "templated.yml",
            "- hosts: all\n  gather_facts: false\n  vars:\n    tolerate: true\n    strict: false\n  tasks:\n    - command: 'false'\n      ignore_errors: \"{{ tolerate }}\"\n    - command: 'false'\n      ignore_errors: \"{{ strict }}\"\n    - debug: msg=unreached\n",
        ),
    ]);
    let e = load_error(&p.check("task.yml"));
    assert!(
        e.contains("task.yml:5:22: ignore_errors must be a boolean (true/false) or a template"),
        "{e}"
    );
    let e = load_error(&p.check("nolog.yml"));
    assert!(e.contains("nolog.yml:5:15: no_log must be a boolean"), "{e}");
    let e = load_error(&p.check("play.yml"));
    assert!(
        e.contains("play.yml:2:18: ignore_errors must be a boolean"),
        "{e}"
    );
    // A templated value is evaluated when the task runs: true ignores, false does not.
    let out = host_failed(&p.run("templated.yml"));
    assert!(out.contains("ignored=1"), "{out}");
    assert!(!out.contains("unreached"), "{out}");
}

#[test]
fn d10_wrong_typed_module_args_warn_and_strict_refuses_them() {
    let p = Project::new(&[
        (
            "state.yml",
            &format!("{PLAY}    - file:\n        path: /tmp/x\n        state: {{a: 1}}\n"),
        ),
        (
            "choice.yml",
            &format!("{PLAY}    - service: name=x state=running\n"),
        ),
        (
            "range.yml",
            &format!("{PLAY}    - copy:\n        content: x\n        dest: /tmp/x\n        mode: '0999'\n"),
        ),
        (
            "big.yml",
            &format!("{PLAY}    - file:\n        path: /tmp/x\n        mode: 99999\n"),
        ),
        (
            "sym.yml",
            &format!("{PLAY}    - file:\n        path: /tmp/x\n      args:\n        mode: u=rwz\n"),
        ),
        (
            "bool.yml",
            &format!(
                "{PLAY}    - lineinfile:\n        path: /tmp/x\n        line: a\n        create: perhaps\n"
            ),
        ),
        (
            "ok.yml",
            &format!(
                "{PLAY}    - file:\n        path: /tmp/x\n        state: \"{{{{ st }}}}\"\n        mode: u=rw,g=r\n      vars:\n        st: touch\n    - copy: content=x dest=/tmp/y mode=0644 force=no\n"
            ),
        ),
    ]);
    let e = lazy_then_strict(&p, "state.yml");
    assert!(
        e.contains("state.yml:6:16: module 'file': argument 'state' is of type dict"),
        "{e}"
    );
    let e = lazy_then_strict(&p, "choice.yml");
    assert!(e.contains("choice.yml:4:16: module 'service': value of state must be one of: started, stopped, restarted, reloaded, got: running"), "{e}");
    let e = lazy_then_strict(&p, "range.yml");
    assert!(
        e.contains("range.yml:7:15: module 'copy': argument 'mode': mode must be in octal or symbolic form"),
        "{e}"
    );
    let e = lazy_then_strict(&p, "big.yml");
    assert!(e.contains("big.yml:6:15: module 'file': argument 'mode'"), "{e}");
    let e = lazy_then_strict(&p, "sym.yml");
    assert!(e.contains("sym.yml:7:15: module 'file': argument 'mode'"), "{e}");
    let e = lazy_then_strict(&p, "bool.yml");
    assert!(e.contains("bool.yml:7:17: module 'lineinfile': argument 'create' is of type str and we were unable to convert to bool"), "{e}");
    let out = p.check_strict("ok.yml");
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!text(&out.stderr).contains("[WARNING]"), "{}", text(&out.stderr));
}

/// A finding ansible-playbook meets only when the task runs: without `--strict` the playbook
/// loads and the finding is one warning with its place; with `--strict` (or `TALON_STRICT=1`)
/// it is the load error, with the same message. Returns the load error.
fn lazy_then_strict(p: &Project, playbook: &str) -> String {
    let w = warnings(&p.check(playbook));
    assert_eq!(w.len(), 1, "{w:?}");
    let e = load_error(&p.check_strict(playbook));
    let message = w[0].trim_start_matches("[WARNING]: ");
    assert!(e.contains(message), "{message}\n{e}");
    e
}

#[test]
fn d10_nul_in_ini_variable_name() {
    let p = Project::new(&[
        ("pb.yml", "- hosts: all\n  tasks: []\n"),
        ("host.ini", "h1 ansible_connection=local a\0b=1\n"),
        ("group.ini", "h1 ansible_connection=local\n[all:vars]\nx\0=2\n"),
    ]);
    let e = load_error(&p.check_with("pb.yml", "host.ini"));
    assert!(e.contains("host.ini:1:1: invalid variable name \"a\\0b\""), "{e}");
    let e = load_error(&p.check_with("pb.yml", "group.ini"));
    assert!(e.contains("group.ini:3:1: invalid variable name \"x\\0\""), "{e}");
}

/// Issue 11: a variable nothing defines, in a task ansible-playbook skips, is a warning (once,
/// with its place and task) and the run succeeds; `--strict` and `TALON_STRICT=1` refuse it
/// (exit 4) before anything runs. Unknown keywords and modules stay load errors.
#[test]
fn d11_undefined_variables_warn_and_strict_refuses_them() {
    let p = Project::new(&[
        (
            "undef.yml",
            &format!(
                "{PLAY}    - name: skipped\n      debug:\n        msg: \"{{{{ nobody_sets_this }}}}\"\n      when: false\n    - import_role: {{name: r}}\n    - import_role: {{name: r}}\n"
            ),
        ),
        (
            "roles/r/tasks/main.yml",
            "- name: role task\n  command: \"echo {{ nor_this }}\"\n  when: false\n",
        ),
        (
            "keyword.yml",
            &format!("{PLAY}    - debug: msg=x\n      when: false\n      wehn: true\n"),
        ),
        (
            "module.yml",
            &format!("{PLAY}    - no_such_module: x=1\n      when: false\n"),
        ),
    ]);
    let w = warnings(&p.check("undef.yml"));
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("[WARNING]: undef.yml:4:7: 'nobody_sets_this' is undefined: task 'skipped' uses it"),
        "{w:?}"
    );
    assert!(
        w[1].contains("roles/r/tasks/main.yml:1:3: 'nor_this' is undefined: task 'r : role task'"),
        "{w:?}"
    );
    let e = load_error(&p.check_strict("undef.yml"));
    assert!(
        e.contains("undef.yml:4:7: 'nobody_sets_this' is undefined"),
        "{e}"
    );
    let env = |v: &str| {
        talon()
            .current_dir(p.dir.path())
            .args(["run", "--syntax-check", "undef.yml", "-i", "inv.ini"])
            .env("TALON_STRICT", v)
            .output()
            .unwrap()
    };
    assert!(load_error(&env("1")).contains("undef.yml:4:7:"));
    assert_eq!(warnings(&env("false")).len(), 2);
    let out = env("maybe");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("TALON_STRICT"),
        "{}",
        text(&out.stderr)
    );
    // The run itself: the tasks are skipped, nothing fails.
    let out = p.run("undef.yml");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("skipped=3"), "{all}");
    // Not findings: an unknown keyword or module is refused even in a skipped task.
    let e = load_error(&p.check("keyword.yml"));
    assert!(e.contains("keyword.yml:6:7:"), "{e}");
    let e = load_error(&p.check("module.yml"));
    assert!(
        e.contains("module.yml:4:7: unknown module or keyword 'no_such_module'"),
        "{e}"
    );
}

#[test]
fn d13_unknown_filter_or_test_is_a_load_error_before_anything_runs() {
    let p = Project::new(&[
        (
            "filter.yml",
            &format!(
                "{PLAY}    - name: changes the host first\n      file: {{path: /tmp/talon-d13-never, state: touch}}\n    - debug:\n        msg: \"{{{{ 'x' | frobnicate }}}}\"\n"
            ),
        ),
        (
            "test.yml",
            &format!("{PLAY}    - debug: msg=hi\n      when: x is not frobbed\n"),
        ),
        (
            "ok.yml",
            &format!(
                "{PLAY}    - copy:\n        dest: \"{{{{ playbook_dir }}}}/out.txt\"\n        content: \"{{{{ '| frob' ~ (x | ansible.builtin.default('a')) | ansible.legacy.upper }}}} {{{{ 'a' is ansible.builtin.string }}}}\"\n"
            ),
        ),
    ]);
    let e = load_error(&p.run("filter.yml"));
    assert!(
        e.contains("filter.yml:7:14: template error while templating string: no filter named 'frobnicate'"),
        "{e}"
    );
    assert!(!std::path::Path::new("/tmp/talon-d13-never").exists());
    let e = load_error(&p.check("test.yml"));
    assert!(
        e.contains("test.yml:5:13: template error while templating string: no test named 'frobbed'"),
        "{e}"
    );
    let out = p.run("ok.yml");
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let written = std::fs::read_to_string(p.dir.path().join("out.txt")).unwrap();
    assert_eq!(written, "| frobA True");
}
