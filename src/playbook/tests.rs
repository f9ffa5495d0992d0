//! Loader tests over small projects written to a temp folder.

use super::*;

/// Writes `files` (relative path, content) into a temp folder and loads `pb.yml` from it.
fn load_project(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Playbook, LoadError>) {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }
    let result = load(&dir.path().join("pb.yml"));
    (dir, result)
}

fn load_err(files: &[(&str, &str)]) -> String {
    match load_project(files).1 {
        Ok(_) => panic!("expected a load error for {files:?}"),
        Err(e) => e.to_string(),
    }
}

fn loads(files: &[(&str, &str)]) -> Playbook {
    let (_dir, result) = load_project(files);
    result.unwrap_or_else(|e| panic!("{e}"))
}

const PLAY: &str = "- hosts: all\n  tasks:\n";

#[test]
fn a_playbook_importing_itself_is_a_cycle() {
    let e = load_err(&[("pb.yml", "- import_playbook: pb.yml\n")]);
    assert!(e.contains("pb.yml:1:20: import cycle: pb.yml -> pb.yml ("), "{e}");
}

#[test]
fn a_task_file_cycle_through_a_role_is_found() {
    let e = load_err(&[
        ("pb.yml", &format!("{PLAY}    - import_tasks: a.yml\n")),
        ("a.yml", "- import_role:\n    name: r\n"),
        ("roles/r/tasks/main.yml", "- import_tasks: ../../../a.yml\n"),
    ]);
    assert!(
        e.contains("import cycle: a.yml -> roles/r/tasks/main.yml (") && e.contains("-> a.yml ("),
        "{e}"
    );
}

#[test]
fn an_include_of_itself_loads_and_is_checked_once() {
    let pb = loads(&[
        ("pb.yml", &format!("{PLAY}    - include_tasks: me.yml\n")),
        (
            "me.yml",
            "- debug: msg=x\n- include_tasks: me.yml\n  when: false\n",
        ),
    ]);
    assert_eq!(pb.plays.len(), 1);
    // ...but a bad file it includes is still found at load.
    let e = load_err(&[
        ("pb.yml", &format!("{PLAY}    - include_tasks: me.yml\n")),
        ("me.yml", "- include_tasks: me.yml\n- include_tasks: bad.yml\n"),
        ("bad.yml", "- nosuchmodule: x\n"),
    ]);
    assert!(
        e.contains("bad.yml:1:3: unknown module or keyword 'nosuchmodule'"),
        "{e}"
    );
}

#[test]
fn role_dependency_diamonds_load_and_cycles_do_not() {
    let pb = loads(&[
        ("pb.yml", "- hosts: all\n  roles: [a]\n"),
        ("roles/a/meta/main.yml", "dependencies: [b, c]\n"),
        ("roles/b/meta/main.yml", "dependencies: [d]\n"),
        ("roles/c/meta/main.yml", "dependencies: [d]\n"),
        ("roles/d/tasks/main.yml", "- debug: msg=d\n"),
    ]);
    let names: Vec<&str> = pb.plays[0].roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["d", "b", "c", "a"]);
    let e = load_err(&[
        ("pb.yml", "- hosts: all\n  roles: [a]\n"),
        ("roles/a/meta/main.yml", "dependencies: [b]\n"),
        ("roles/b/meta/main.yml", "dependencies: [c]\n"),
        ("roles/c/meta/main.yml", "dependencies: [a]\n"),
    ]);
    assert!(
        e.contains("roles/c/meta/main.yml:1:16: role dependency cycle: role a -> role b (")
            && e.contains("-> role c (")
            && e.contains("-> role a ("),
        "{e}"
    );
}

#[test]
fn import_role_handlers_join_the_play_once() {
    let pb = loads(&[
        (
            "pb.yml",
            "- hosts: all\n  roles: [r]\n  tasks:\n    - import_role:\n        name: r\n    - import_role:\n        name: s\n    - command: 'true'\n      notify: [bounce, 's : other']\n",
        ),
        ("roles/r/tasks/main.yml", "- debug: msg=r\n"),
        ("roles/r/handlers/main.yml", "- name: bounce\n  command: 'true'\n"),
        ("roles/s/handlers/main.yml", "- name: other\n  command: 'true'\n"),
    ]);
    let handlers: Vec<String> = pb.plays[0].handlers.iter().map(Task::display_name).collect();
    assert_eq!(handlers, ["r : bounce", "s : other"]);
}

#[test]
fn a_notify_of_no_handler_names_the_task() {
    let e = load_err(&[(
        "pb.yml",
        &format!(
            "{PLAY}    - command: 'true'\n      notify: \"{{{{ dynamic }}}}\"\n    - command: 'true'\n      notify: [nothing]\n"
        ),
    )]);
    assert!(
        e.contains("pb.yml:5:7: The requested handler 'nothing' was not found"),
        "{e}"
    );
    // A templated handler name may render to anything: not judged at load.
    loads(&[(
        "pb.yml",
        &format!(
            "{PLAY}    - command: 'true'\n      notify: restart web\n  vars:\n    svc: web\n  handlers:\n    - name: restart {{{{ svc }}}}\n      command: 'true'\n"
        ),
    )]);
}

/// The findings of loading `files` (the playbook loads).
fn found(files: &[(&str, &str)]) -> Vec<String> {
    loads(files).findings.iter().map(ToString::to_string).collect()
}

#[test]
fn typed_module_arguments_are_findings_in_every_form() {
    for (task, at) in [
        ("    - file: path=/x state=dir\n", "pb.yml:3:13"),
        (
            "    - file:\n        path: /x\n        mode: [1]\n",
            "pb.yml:5:15",
        ),
        (
            "    - file: path=/x\n      args:\n        recurse: sometimes\n",
            "pb.yml:5:18",
        ),
        (
            "    - systemd:\n        name: x\n        enabled: {}\n",
            "pb.yml:5:18",
        ),
    ] {
        let f = found(&[("pb.yml", &format!("{PLAY}{task}"))]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains(&format!("/{at}: module '")), "{at}: {f:?}");
    }
    let pb = loads(&[(
        "pb.yml",
        &format!(
            "{PLAY}    - file: path=/x state=directory mode=0755 recurse=yes\n    - file:\n        path: /y\n        state: \"{{{{ s }}}}\"\n        mode: \"{{{{ m }}}}\"\n"
        ),
    )]);
    assert!(pb.findings.is_empty(), "{:?}", pb.findings);
}

#[test]
fn module_argument_findings_name_the_task_and_every_problem() {
    let f = found(&[
        (
            "pb.yml",
            &format!(
                "{PLAY}    - name: touch it\n      file:\n        path: /x\n        nope: 1\n        state: dir\n    - command:\n- import_playbook: other.yml\n"
            ),
        ),
        ("other.yml", "- hosts: all\n  roles: [r]\n"),
        ("roles/r/tasks/main.yml", "- copy: content=x dest=/y src=/z\n"),
    ]);
    assert_eq!(f.len(), 4, "{f:?}");
    assert!(
        f[0].contains("/pb.yml:5:9: module 'file' does not take the argument 'nope' (it takes: ")
            && f[0].ends_with("(task 'touch it' fails if it runs with it)"),
        "{f:?}"
    );
    assert!(
        f[1].contains("/pb.yml:7:16: module 'file': value of state must be one of"),
        "{f:?}"
    );
    assert!(
        f[2].contains("/pb.yml:8:14: module 'command' needs a command (task 'command' fails"),
        "{f:?}"
    );
    assert!(
        f[3].contains("roles/r/tasks/main.yml:1:9: module 'copy': parameters are mutually exclusive: src|content (task 'r : copy'"),
        "{f:?}"
    );
}

#[test]
fn unknown_modules_stay_load_errors() {
    let e = load_err(&[(
        "pb.yml",
        &format!("{PLAY}    - no_such_module: x=1\n      when: false\n"),
    )]);
    assert!(
        e.contains("pb.yml:3:7: unknown module or keyword 'no_such_module'"),
        "{e}"
    );
}

#[test]
fn keyword_values_are_checked_where_they_are_written() {
    let e = load_err(&[(
        "pb.yml",
        &format!("{PLAY}    - block:\n        - debug: msg=x\n      no_log: often\n"),
    )]);
    assert!(e.contains("pb.yml:5:15: no_log must be a boolean"), "{e}");
    let e = load_err(&[(
        "pb.yml",
        &format!("{PLAY}    - debug: msg=x\n      register: not valid\n"),
    )]);
    assert!(
        e.contains("pb.yml:4:17: Invalid variable name in 'register'"),
        "{e}"
    );
    let e = load_err(&[(
        "pb.yml",
        &format!("{PLAY}    - debug: msg=x\n      loop: \"{{{{ items | }}}}\"\n"),
    )]);
    assert!(
        e.contains("pb.yml:4:13: template error while templating string"),
        "{e}"
    );
    let e = load_err(&[(
        "pb.yml",
        &format!("{PLAY}    - command: 'true'\n      changed_when: rc ==\n"),
    )]);
    assert!(e.contains("pb.yml:4:21: template error"), "{e}");
}

#[test]
fn role_meta_is_strict() {
    let e = load_err(&[
        ("pb.yml", "- hosts: all\n  roles: [r]\n"),
        ("roles/r/meta/main.yml", "- dependencies\n"),
    ]);
    assert!(
        e.contains("roles/r/meta/main.yml:1:1: a role's meta/main.yml must be a mapping"),
        "{e}"
    );
    let e = load_err(&[
        ("pb.yml", "- hosts: all\n  roles: [r]\n"),
        ("roles/r/meta/main.yml", "dependencies: {a: 1}\n"),
    ]);
    assert!(e.contains("dependencies must be a list"), "{e}");
}

#[test]
fn with_lookup_loops_name_a_lookup_and_pick_the_actions_folder() {
    let pb = loads(&[(
        "pb.yml",
        &format!(
            "{PLAY}    - include_vars: \"{{{{ item }}}}\"\n      with_first_found: [a.yml]\n    - ansible.builtin.template: src={{{{ item }}}} dest=/tmp/x\n      with_first_found: [a.j2]\n    - debug: msg=x\n      with_first_found: [a]\n"
        ),
    )]);
    let tasks: Vec<&Task> = pb.plays[0].sections.iter().flatten().collect();
    let got: Vec<(Option<&str>, &str)> = tasks
        .iter()
        .map(|t| (t.loop_with.as_deref(), t.loop_subdir))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some("first_found"), "vars"),
            (Some("first_found"), "templates"),
            (Some("first_found"), "files")
        ]
    );
    let e = load_err(&[(
        "pb.yml",
        &format!("{PLAY}    - debug: msg=x\n      with_nonsense: [a]\n"),
    )]);
    assert!(e.contains("talon has no lookup 'nonsense'"), "{e}");
    let e = load_err(&[(
        "pb.yml",
        &format!("{PLAY}    - debug: msg=x\n      loop: [1]\n      with_items: [2]\n"),
    )]);
    assert!(e.contains("a task has only one loop"), "{e}");
}

#[test]
fn include_vars_options_are_checked_as_the_action_checks_them() {
    let e = load_err(&[(
        "pb.yml",
        &format!("{PLAY}    - include_vars:\n        file: a.yml\n        dir: vars\n"),
    )]);
    assert!(
        e.contains("You are mixing file only and dir only arguments"),
        "{e}"
    );
    let e = load_err(&[(
        "pb.yml",
        &format!("{PLAY}    - include_vars:\n        dir: vars\n        depht: 1\n"),
    )]);
    assert!(e.contains("depht is not a valid option in include_vars"), "{e}");
}

#[test]
fn d13_a_dynamic_include_refuses_keywords_ansible_refuses() {
    let e = load_err(&[
        (
            "pb.yml",
            &format!("{PLAY}    - include_tasks: t.yml\n      become: true\n"),
        ),
        ("t.yml", "- debug: msg=x\n"),
    ]);
    assert!(
        e.contains("pb.yml:3:7: 'become' is not a valid attribute for a TaskInclude"),
        "{e}"
    );
    let e = load_err(&[
        (
            "pb.yml",
            &format!("{PLAY}    - include_role: {{name: r}}\n      environment: {{A: b}}\n"),
        ),
        ("roles/r/tasks/main.yml", "- debug: msg=x\n"),
    ]);
    assert!(
        e.contains("'environment' is not a valid attribute for a IncludeRole"),
        "{e}"
    );
    let e = load_err(&[
        (
            "pb.yml",
            &format!("{PLAY}    - import_role: {{name: r, apply: {{tags: x}}}}\n"),
        ),
        ("roles/r/tasks/main.yml", "- debug: msg=x\n"),
    ]);
    assert!(e.contains("Invalid options for import_role: apply"), "{e}");
    let e = load_err(&[
        (
            "pb.yml",
            &format!("{PLAY}    - include_tasks: {{file: t.yml, apply: [1]}}\n"),
        ),
        ("t.yml", "- debug: msg=x\n"),
    ]);
    assert!(e.contains("Expected a dict for apply but got"), "{e}");
    // The keywords an include takes still load, with apply's block keywords.
    loads(&[
        (
            "pb.yml",
            &format!(
                "{PLAY}    - include_tasks: {{file: t.yml, apply: {{become: true, tags: [a]}}}}\n      ignore_errors: true\n      no_log: true\n      timeout: 5\n      run_once: true\n      loop: [1]\n"
            ),
        ),
        ("t.yml", "- debug: msg=x\n"),
    ]);
}
