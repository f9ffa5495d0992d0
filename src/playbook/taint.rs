//! The secret policy's load-time half: which task may use a secret where. A secret may reach a
//! host only through a delivery channel (copy/template content, talon_secret_file,
//! command/shell stdin: the arguments a module's spec marks
//! [`delivers`](crate::modules::spec::ArgDef::delivers)); every other use (a command line,
//! `environment:`, another module argument, a filter) is refused before any host is touched,
//! directly or through variables defined from a secret (taint analysis over the static walk,
//! [`super::walk`]). The run-time half is [`crate::secrets::SecretStore::refuse_args`]; it
//! shares the rules and messages here. Knows secrets by name only.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::walk::{Met, walk};
use super::{Action, Loader, Playbook, Task};
use crate::error::{LoadError, PolicyError};
use crate::modules::ModuleInfo;
use crate::vars::Vars;

/// The fix named in every "on the command line" refusal.
pub const FIX_ARGV: &str = "deliver it as a 0600 file (talon_secret_file, or copy/template with content) \
                        or on stdin (command: stdin:)";

/// The fix named when a secret reaches an argument that is not a delivery channel.
pub const FIX_ARG: &str = "only copy `content`, template files, talon_secret_file and command/shell \
                       `stdin` deliver secrets (debug, assert, fail and set_fact may hold them)";

/// True when argument `arg` of `module` may carry a secret: its spec marks it
/// [`ArgDef::delivers`](crate::modules::spec::ArgDef::delivers) (delivery channels such as copy
/// `content` and command `stdin`, and controller-side arguments that only hold or print it,
/// such as debug `msg`: printed output is masked).
pub fn may_carry(module: &ModuleInfo, arg: &str) -> bool {
    module.spec.find(arg).is_some_and(|d| d.delivers)
}

/// The refusal of a secret in argument `arg` of `module`, for the task at `place`.
pub fn refusal(module: &str, arg: &str, name: String, place: String) -> PolicyError {
    if matches!(module, "command" | "shell") {
        PolicyError::OnCommandLine {
            name,
            place: match arg {
                "_raw_params" | "cmd" => format!("{place} (the command)"),
                _ => format!("{place} (argument {arg})"),
            },
            fix: FIX_ARGV,
        }
    } else {
        PolicyError::WrongArgument {
            name,
            arg: arg.to_string(),
            module: module.to_string(),
            place,
            fix: FIX_ARG,
        }
    }
}

/// Every string inside a value (lists and mappings followed).
pub fn collect_strings<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Top-level variable names a template string uses (empty when it is no template).
fn referenced(env: &minijinja::Environment<'_>, text: &str) -> HashSet<String> {
    if !text.contains("{{") && !text.contains("{%") {
        return HashSet::new();
    }
    match env.template_from_str(text) {
        Ok(t) => t.undeclared_variables(false),
        Err(_) => HashSet::new(),
    }
}

/// The load-time check of a playbook against the secrets named in `secrets` (before any host is touched): refuses every task whose
/// command line, `environment:` or non-delivering module argument uses a secret, directly
/// or through variables defined from it (play/role/task vars, `set_fact`, inventory vars in
/// `more_vars`); and every use of a secret with a filter, slice or method other than
/// `default`/`string`/`mandatory` (a filter sees only the marker).
///
/// Errors: [`LoadError::At`] naming the secret, the task, its `file:line:col` and the fix.
pub fn check(pb: &Playbook, secrets: &BTreeSet<String>, more_vars: &[Vars]) -> Result<(), LoadError> {
    let env = minijinja::Environment::new();
    let loader = Loader::new(&pb.dir);
    let mut tasks: Vec<(Task, Vec<Value>)> = Vec::new();
    let mut defs: Vec<(String, Value)> = Vec::new();
    for vars in more_vars {
        defs.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    for play in &pb.plays {
        defs.extend(play.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        for r in &play.roles {
            for vars in [&r.defaults, &r.vars, &r.params] {
                defs.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        let env0: Vec<Value> = play.environment.iter().cloned().collect();
        for section in play.sections.iter().chain(std::iter::once(&play.handlers)) {
            leaf_tasks(&loader, section, &env0, &mut tasks, &mut defs);
        }
    }
    let tainted = taint(&env, secrets.clone(), &defs);
    let direct: HashSet<String> = secrets.iter().cloned().collect();
    for (t, envs) in &tasks {
        // The load error itself starts with the task's file:line:col.
        let place = format!("task '{}'", t.display_name());
        let uses = |text: &str| -> Option<String> {
            let names = referenced(&env, text);
            let mut hits: Vec<&String> = names.iter().filter(|n| tainted.contains_key(*n)).collect();
            hits.sort();
            hits.first().map(|n| describe(n, &tainted))
        };
        let at = |e: PolicyError| LoadError::at(&t.mark, e.to_string());
        for e in envs {
            let mut texts = Vec::new();
            collect_strings(e, &mut texts);
            for s in texts {
                if let Some(name) = uses(s) {
                    return Err(at(PolicyError::OnCommandLine {
                        name,
                        place: format!("{place} (environment)"),
                        fix: FIX_ARGV,
                    }));
                }
            }
        }
        if let Some(Action::Module { module, args }) = &t.action {
            let short = module.name;
            if short == "talon_secret_file"
                && let Some(Value::String(n)) = args.get("secret")
                && !n.contains("{{")
                && !secrets.contains(n)
            {
                return Err(at(PolicyError::Unknown { name: n.clone() }));
            }
            for (k, v) in args {
                if may_carry(module, k) {
                    continue;
                }
                let mut texts = Vec::new();
                collect_strings(v, &mut texts);
                for s in texts {
                    if let Some(secret) = uses(s) {
                        return Err(at(refusal(short, k, secret, place.clone())));
                    }
                }
            }
        }
        for s in task_templates(t) {
            if let Some(msg) = filtered_use(&s, &direct) {
                return Err(LoadError::at(
                    &t.mark,
                    format!(
                        "{msg} in {place}: a filter sees only an opaque marker, not the value; insert the secret as is (`{{{{ name }}}}`), or store the transformed value as its own secret"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every leaf task with the `environment:` values it inherits (play, blocks, itself); collects
/// variable definitions (task/block vars, role defaults and vars, set_fact) along the way.
fn leaf_tasks(
    loader: &Loader,
    list: &[Task],
    env0: &[Value],
    out: &mut Vec<(Task, Vec<Value>)>,
    defs: &mut Vec<(String, Value)>,
) {
    walk(loader, list, env0, &mut |met| match met {
        Met::Task(t, env) => {
            defs.extend(t.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            match &t.action {
                Some(Action::Block { .. }) => {}
                Some(Action::IncludeTasks { file, .. }) if !file.contains("{{") => {}
                Some(Action::IncludeRole { name, .. }) if !name.contains("{{") => {}
                Some(Action::SetFact { args }) => {
                    defs.extend(args.iter().map(|(k, v)| (k.clone(), v.clone())));
                    out.push((t.clone(), env.to_vec()));
                }
                _ => out.push((t.clone(), env.to_vec())),
            }
        }
        Met::Role(r) => {
            for vars in [&r.defaults, &r.vars] {
                defs.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        Met::Dynamic => {}
    });
}

/// Names that carry a secret: the secrets, and (to a fixed point) every variable whose
/// definition uses one. Maps each to the secret it carries, for messages.
fn taint(
    env: &minijinja::Environment<'_>,
    secrets: BTreeSet<String>,
    defs: &[(String, Value)],
) -> BTreeMap<String, String> {
    let mut tainted: BTreeMap<String, String> = secrets.iter().map(|s| (s.clone(), s.clone())).collect();
    let refs: Vec<(&String, HashSet<String>)> = defs
        .iter()
        .map(|(k, v)| {
            let mut texts = Vec::new();
            collect_strings(v, &mut texts);
            (k, texts.into_iter().flat_map(|t| referenced(env, t)).collect())
        })
        .collect();
    loop {
        let mut grew = false;
        for (k, names) in &refs {
            if tainted.contains_key(*k) {
                continue;
            }
            if let Some(src) = names.iter().find_map(|n| tainted.get(n)).cloned() {
                tainted.insert((*k).clone(), src);
                grew = true;
            }
        }
        if !grew {
            return tainted;
        }
    }
}

fn describe(name: &str, tainted: &BTreeMap<String, String>) -> String {
    match tainted.get(name) {
        Some(s) if s != name => format!("'{s}' (through variable '{name}')"),
        _ => format!("'{name}'"),
    }
}

/// Every template string of a task outside its module arguments and inside them.
fn task_templates(t: &Task) -> Vec<String> {
    let mut vals: Vec<&str> = Vec::new();
    match &t.action {
        Some(Action::Module { args, .. })
        | Some(Action::Python { args, .. })
        | Some(Action::SetFact { args })
        | Some(Action::GroupBy { args })
        | Some(Action::AddHost { args }) => {
            args.values().for_each(|v| collect_strings(v, &mut vals));
        }
        _ => {}
    }
    t.vars.values().for_each(|v| collect_strings(v, &mut vals));
    if let Some(l) = &t.loop_ {
        collect_strings(l, &mut vals);
    }
    let mut out: Vec<String> = vals.into_iter().map(str::to_string).collect();
    let conds = t
        .when
        .iter()
        .chain(t.changed_when.iter().flatten())
        .chain(t.failed_when.iter().flatten())
        .chain(t.until.iter().flatten());
    out.extend(conds.map(|c| format!("{{{{ {c} }}}}")));
    out
}

/// Filters that leave a secret's marker intact, or (`to_json`, `to_nice_json`) record the
/// escaping its value needs on delivery.
const SAFE_FILTERS: &[&str] = &["default", "d", "string", "mandatory", "to_json", "to_nice_json"];

/// A use of a secret with a filter, slice or method in `text`: the message, or `None`.
pub(crate) fn filtered_use(text: &str, secrets: &HashSet<String>) -> Option<String> {
    static FILTER: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"(?:^|[^.\w'\x22])([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([A-Za-z_][A-Za-z0-9_]*)|([.\[]))")
            .ok()
    });
    // Not `referenced()` alone: minijinja does not report names used only inside a slice.
    if !text.contains("{{") && !text.contains("{%") {
        return None;
    }
    // Only inside `{{ }}` / `{% %}`: literal text around them (`{{ out }}/tok.json`) is no use.
    static BLOCK: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?s)\{\{.*?\}\}|\{%.*?%\}").ok());
    let re = FILTER.as_ref()?;
    let blocks = BLOCK.as_ref()?;
    let exprs: Vec<&str> = blocks
        .find_iter(text)
        .map(|m| m.as_str().get(2..m.len().saturating_sub(2)).unwrap_or(""))
        .collect();
    for cap in exprs.iter().flat_map(|e| re.captures_iter(e)) {
        let Some(name) = cap.get(1).map(|m| m.as_str()) else {
            continue;
        };
        if !secrets.contains(name) {
            continue;
        }
        if let Some(f) = cap.get(2).map(|m| m.as_str()) {
            if !SAFE_FILTERS.contains(&f) {
                return Some(format!("secret '{name}' is passed to the filter '{f}'"));
            }
        } else if cap.get(3).is_some() {
            return Some(format!(
                "secret '{name}' is sliced, indexed or has a method called"
            ));
        }
    }
    None
}
