//! Undefined variables found before anything runs.
//!
//! Ansible finds an undefined variable only when the task that uses it runs, after earlier
//! tasks already changed hosts. talon collects every name that anything in the run can define
//! (inventory, extra vars, play vars and vars_files, role defaults/vars/params, task and block
//! vars, `register`, `set_fact`, `include_vars`, loop variables, facts, magic variables) and
//! rejects, at load time, a template that uses a name none of them defines, with the task's
//! `file:line:column`. Uses guarded by `default(...)` or `is defined` are left to run time, and a
//! play whose variable sources cannot be known statically (templated `vars_files` or
//! `include_vars` names) is not checked.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use super::findings::Finding;
use super::walk::{Met, walk};
use super::{Action, Loader, Playbook, Role, Task, vars_files};

/// Variables Ansible (and talon) always provide.
const MAGIC: &[&str] = &[
    "hostvars",
    "groups",
    "group_names",
    "inventory_hostname",
    "inventory_hostname_short",
    "inventory_dir",
    "inventory_file",
    "playbook_dir",
    "role_path",
    "role_name",
    "role_names",
    "omit",
    "item",
    "vars",
    "environment",
    "lookup",
    "query",
    "q",
    "now",
    "range",
    "dict",
    "namespace",
    "loop",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "undefined",
];

/// Every name the run can define, plus whether the set is complete.
struct Known {
    names: HashSet<String>,
    complete: bool,
}

impl Known {
    fn add_keys(&mut self, v: &crate::vars::Vars) {
        self.names.extend(v.keys().cloned());
    }

    fn knows(&self, name: &str) -> bool {
        name.starts_with("ansible_") || self.names.contains(name)
    }
}

/// Finds templates that use a variable nothing defines: one finding a task and name, naming
/// the task, the variable and the place, in the order of the playbook.
///
/// `inventory_names` are the variable names of every inventory host; `extra` the `-e` names.
pub fn check_undefined(
    pb: &Playbook,
    inventory_names: impl IntoIterator<Item = String>,
    extra: impl IntoIterator<Item = String>,
) -> Vec<Finding> {
    let mut known = Known {
        names: MAGIC.iter().map(|s| s.to_string()).collect(),
        complete: true,
    };
    known.names.extend(inventory_names);
    known.names.extend(extra);
    let loader = Loader::new(&pb.dir);
    let mut tasks: Vec<Task> = Vec::new();
    for play in &pb.plays {
        known.add_keys(&play.vars);
        // vars_prompt answers are play variables (asked when the play starts).
        known.names.extend(
            play.vars_prompt
                .iter()
                .filter_map(|p| p.get("name"))
                .map(crate::vars::as_string),
        );
        for f in play.vars_files.iter().flatten() {
            if f.contains("{{") {
                known.complete = false;
                continue;
            }
            if let Ok(v) = super::vars_files::read(&super::vars_files::play_vars_file(&pb.dir, f)) {
                known.add_keys(&v);
            }
        }
        for r in &play.roles {
            add_role(&mut known, r);
        }
        for section in &play.sections {
            collect(&loader, section, &mut known, &mut tasks);
        }
        collect(&loader, &play.handlers, &mut known, &mut tasks);
    }
    let mut findings = Vec::new();
    if !known.complete {
        return findings;
    }
    let env = minijinja::Environment::new();
    for t in &tasks {
        check_task(&env, t, &known, &mut findings);
    }
    findings
}

fn add_role(known: &mut Known, r: &Role) {
    known.add_keys(&r.defaults);
    known.add_keys(&r.vars);
    known.add_keys(&r.params);
}

/// Walks tasks (following blocks and static includes, [`super::walk`]) collecting defined names
/// and leaf tasks.
fn collect(loader: &Loader, list: &[Task], known: &mut Known, out: &mut Vec<Task>) {
    walk(loader, list, &[], &mut |met| match met {
        Met::Task(t, _) => {
            known.add_keys(&t.vars);
            if let Some(r) = &t.register {
                known.names.insert(r.clone());
            }
            for v in [&t.loop_control.loop_var, &t.loop_control.index_var]
                .into_iter()
                .flatten()
            {
                known.names.insert(v.clone());
            }
            if let Some(r) = &t.role {
                add_role(known, r);
            }
            match &t.action {
                Some(Action::Block { .. }) => {}
                Some(Action::SetFact { args }) => {
                    if args.keys().any(|k| k.contains("{{")) {
                        known.complete = false;
                    }
                    known.add_keys(args);
                    out.push(t.clone());
                }
                Some(Action::IncludeVars { args }) => match args.get("name").and_then(Value::as_str) {
                    Some(n) if !n.contains("{{") => {
                        known.names.insert(n.to_string());
                    }
                    _ => {
                        let file = args
                            .get("file")
                            .or_else(|| args.get("_raw_params"))
                            .and_then(Value::as_str);
                        let base = args.get("__base").and_then(Value::as_str).unwrap_or(".");
                        match file
                            .filter(|f| !f.contains("{{"))
                            .and_then(|f| {
                                vars_files::include_vars_file(Path::new(base), &loader.playbook_dir, f)
                            })
                            .and_then(|p| vars_files::read(&p).ok())
                        {
                            Some(v) => known.add_keys(&v),
                            None => known.complete = false,
                        }
                    }
                },
                _ => out.push(t.clone()),
            }
        }
        Met::Role(r) => add_role(known, r),
        Met::Dynamic => known.complete = false,
    });
}

/// A use that is guarded (`default`, `is defined`) is decided at run time.
fn guarded(text: &str) -> bool {
    static GUARD: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\bis\s+(not\s+)?(un)?defined\b|\|\s*(default|d)\s*\(|\bmandatory\b").ok()
    });
    GUARD.as_ref().is_none_or(|re| re.is_match(text))
}

fn undeclared(env: &minijinja::Environment<'_>, text: &str) -> HashSet<String> {
    if guarded(text) {
        return HashSet::new();
    }
    match env.template_from_str(text) {
        Ok(t) => t.undeclared_variables(false),
        Err(_) => HashSet::new(), // syntax errors are load errors already (checks.rs)
    }
}

fn strings<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) if s.contains("{{") || s.contains("{%") => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn check_task(env: &minijinja::Environment<'_>, t: &Task, known: &Known, out: &mut Vec<Finding>) {
    let mut templates: Vec<String> = Vec::new();
    let mut vals: Vec<&str> = Vec::new();
    match &t.action {
        Some(Action::Module { args, .. })
        | Some(Action::Python { args, .. })
        | Some(Action::SetFact { args })
        | Some(Action::GroupBy { args })
        | Some(Action::AddHost { args }) => {
            for v in args.values() {
                strings(v, &mut vals);
            }
        }
        Some(Action::IncludeTasks { file, .. }) => vals.push(file),
        _ => {}
    }
    for v in t.vars.values() {
        strings(v, &mut vals);
    }
    if let Some(l) = &t.loop_ {
        strings(l, &mut vals);
    }
    templates.extend(vals.into_iter().map(str::to_string));
    // Conditions are bare expressions.
    let conds = t
        .when
        .iter()
        .chain(t.changed_when.iter().flatten())
        .chain(t.failed_when.iter().flatten());
    for c in conds.chain(t.until.iter().flatten()) {
        if c.contains("{{") {
            templates.push(c.clone());
        } else {
            templates.push(format!("{{{{ {c} }}}}"));
        }
    }
    let mut missing: Vec<String> = templates
        .iter()
        .flat_map(|text| undeclared(env, text))
        .filter(|n| !known.knows(n))
        .collect();
    missing.sort();
    missing.dedup();
    for name in missing {
        out.push(Finding::at(
            &t.mark,
            format!(
                "'{name}' is undefined: task '{}' uses it, and no inventory, play, role, register, set_fact or extra var defines it, so the task fails if it runs (define it, or guard it with default())",
                t.display_name()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pb(text: &str) -> (tempfile::TempDir, Playbook) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.yml");
        std::fs::write(&p, text).unwrap();
        let pb = crate::playbook::load(&p).unwrap();
        (dir, pb)
    }

    #[test]
    fn finds_each_name_nothing_defines_with_its_place() {
        let (_d, pb) = pb(
            "- hosts: all\n  vars: {a: 1}\n  tasks:\n    - debug: msg=ok\n    - name: bad\n      debug:\n        msg: \"{{ a }} {{ nope }} {{ zilch }} {{ nope }}\"\n      when: zilch\n",
        );
        let found: Vec<String> = check_undefined(&pb, Vec::new(), Vec::new())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("'nope' is undefined: task 'bad'") && found[0].contains("p.yml:5:7"),
            "{found:?}"
        );
        assert!(found[1].contains("'zilch' is undefined"), "{found:?}");
    }

    #[test]
    fn accepts_registered_facts_loop_vars_inventory_and_guards() {
        let (_d, pb) = pb(concat!(
            "- hosts: all\n  tasks:\n",
            "    - command: id\n      register: r\n",
            "    - set_fact: {f: 1}\n",
            "    - debug: msg=\"{{ r.stdout }} {{ f }} {{ item }} {{ inv_var }} {{ ansible_facts.os_family }}\"\n      loop: [1]\n",
            "    - debug: msg=\"{{ maybe | default('x') }}\"\n",
            "    - debug: msg=hi\n      when: other is defined\n",
            "    - debug: msg=\"{% for x in [1] %}{{ x }}{% endfor %}\"\n",
        ));
        assert_eq!(check_undefined(&pb, vec!["inv_var".to_string()], Vec::new()), []);
    }

    #[test]
    fn guards_are_recognised_precisely() {
        assert!(guarded("{{ x | default(1) }}") && guarded("x is not defined") && guarded("{{ x|d('') }}"));
        assert!(!guarded("{{ not_defined_anywhere }}") && !guarded("{{ defaults.port }}"));
    }

    #[test]
    fn conditions_are_checked_too() {
        let (_d, pb) = pb("- hosts: all\n  tasks:\n    - debug: msg=x\n      when: flag_nobody_sets\n");
        assert_eq!(check_undefined(&pb, Vec::new(), Vec::new()).len(), 1);
        assert_eq!(
            check_undefined(&pb, Vec::new(), vec!["flag_nobody_sets".to_string()]),
            []
        );
    }
}
