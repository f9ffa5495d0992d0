//! Asserts a role marks to be checked at load time, before any host is touched.
//!
//! ansible-playbook evaluates an `assert` when the task runs: by then earlier tasks (and other
//! roles) may have changed the host. Some settings must never reach a host at all (an Ollama
//! told to listen on `0.0.0.0` is an unauthenticated model server on every interface), so a role
//! can mark an `assert` with the tag [`LOAD_CHECK_TAG`]. talon then evaluates it for every host
//! of its play before the run starts, with the variables known at load: inventory (group_vars,
//! host_vars), `-e`, play `vars`/`vars_files`, role defaults, vars and params, block and task
//! `vars`. The enclosing blocks' and role's `when` conditions are evaluated first (a disabled
//! role is not checked). A false condition refuses the whole run with the host, the assert's
//! `fail_msg`, the task's `file:line:column` and where each value the condition read was set
//! (`-e`, or the line of its key in group_vars/host_vars, role defaults/vars, the play), the
//! last such line being the error's position: the line to edit.
//!
//! What cannot be known at load (facts, registered results, `set_fact`, templated `vars_files`:
//! a condition whose evaluation fails) is left to the run: the task is still an ordinary assert
//! that ansible-playbook and talon run in its place, so the role stays valid Ansible and the
//! check holds under both. The tag is subject to `--tags`/`--skip-tags` like any other.

use std::sync::Arc;

use serde_json::{Value, json};

use super::walk::MAX_WALK_DEPTH;
use super::{Action, Play, Playbook, Task, vars_files};
use crate::error::LoadError;
use crate::inventory::Inventory;
use crate::template::{Scope, Templater};
use crate::vars::{self, Vars};

/// The tag that marks an `assert` for evaluation at load time.
pub const LOAD_CHECK_TAG: &str = "talon_load_check";

/// What the caller's command line selects: `-e`, `--tags`, `--skip-tags`, `--limit`.
pub struct Selection<'a> {
    /// `-e` variables (highest precedence).
    pub extra_vars: &'a Vars,
    /// `--tags` (empty: all).
    pub tags: &'a [String],
    /// `--skip-tags`.
    pub skip_tags: &'a [String],
    /// `--limit`.
    pub limit: Option<&'a str>,
}

/// Evaluates every marked assert of `pb` for every host its play targets.
///
/// Errors: the first assert that is false for a host, as a [`LoadError`] at the task with the
/// host, the failed condition and the assert's `fail_msg` (rendered when it can be).
pub fn check(pb: &Playbook, inv: &Inventory, sel: &Selection<'_>) -> Result<(), LoadError> {
    let templater = Templater::new();
    for play in &pb.plays {
        let mut hosts = inv.select(&play.hosts).unwrap_or_default();
        if let Some(limit) = sel.limit {
            hosts = inv.limit(hosts, limit).unwrap_or_default();
        }
        if hosts.is_empty() {
            continue;
        }
        let mut marked = Vec::new();
        for section in &play.sections {
            collect(section, &Chain::of(play), &mut marked, sel, 0);
        }
        if marked.is_empty() {
            continue;
        }
        let base = play_vars(pb, play);
        for host in &hosts {
            for (task, chain) in &marked {
                let at = At {
                    inv,
                    play,
                    play_vars: &base,
                    host,
                    task,
                    chain,
                    sel,
                };
                check_one(&templater, &at)?;
            }
        }
    }
    Ok(())
}

/// What the enclosing blocks (and role wrappers) pass down: their `when`, `vars` and tags.
#[derive(Clone, Default)]
struct Chain {
    when: Vec<String>,
    vars: Vars,
    tags: Vec<String>,
}

impl Chain {
    fn of(play: &Play) -> Self {
        Chain {
            tags: play.tags.clone(),
            ..Default::default()
        }
    }
}

/// Collects the marked asserts of `list` (blocks followed; includes are run-time and are not)
/// with the chain in force for each.
fn collect<'a>(
    list: &'a [Task],
    chain: &Chain,
    out: &mut Vec<(&'a Task, Chain)>,
    sel: &Selection<'_>,
    depth: usize,
) {
    if depth > MAX_WALK_DEPTH {
        return;
    }
    for t in list {
        let mut c = chain.clone();
        c.tags.extend(t.tags.iter().cloned());
        match &t.action {
            Some(Action::Block { block, .. }) => {
                c.when.extend(t.when.iter().cloned());
                vars::overlay(&mut c.vars, &t.vars);
                // rescue/always run only after a failure or whatever happened: not load checks.
                collect(block, &c, out, sel, depth + 1);
            }
            Some(Action::Module { module, .. })
                if module.name == "assert"
                    && t.tags.iter().any(|x| x == LOAD_CHECK_TAG)
                    && super::listing::tags_selected(&c.tags, sel.tags, sel.skip_tags) =>
            {
                out.push((t, c));
            }
            _ => {}
        }
    }
}

/// The play's own variables: `vars`, then the `vars_files` that name no template.
fn play_vars(pb: &Playbook, play: &Play) -> Vars {
    let mut v = play.vars.clone();
    for candidates in &play.vars_files {
        let found = candidates
            .iter()
            .filter(|f| !f.contains("{{"))
            .map(|f| vars_files::play_vars_file(&pb.dir, f))
            .find(|p| p.is_file());
        if let Some(Ok(more)) = found.map(|p| vars_files::read(&p)) {
            vars::overlay(&mut v, &more);
        }
    }
    v
}

/// One marked assert on one host, with what its scope is made of.
struct At<'a> {
    inv: &'a Inventory,
    play: &'a Play,
    play_vars: &'a Vars,
    host: &'a str,
    task: &'a Task,
    chain: &'a Chain,
    sel: &'a Selection<'a>,
}

/// The variables of the task on the host at load time, in the runner's precedence order (see
/// `src/runner/scope.rs`), without facts and registered results.
fn scope_vars(at: &At<'_>) -> Vars {
    let At {
        inv,
        play,
        play_vars,
        host,
        task,
        chain,
        sel,
    } = at;
    let mut v = Vars::new();
    for r in &play.roles {
        vars::overlay(&mut v, &r.defaults);
    }
    if let Some(r) = &task.role {
        vars::overlay(&mut v, &r.defaults);
    }
    vars::overlay(&mut v, &inv.host_vars(host));
    vars::overlay(&mut v, play_vars);
    for r in &play.roles {
        vars::overlay(&mut v, &r.vars);
    }
    if let Some(r) = &task.role {
        vars::overlay(&mut v, &r.vars);
    }
    vars::overlay(&mut v, &chain.vars);
    vars::overlay(&mut v, &task.vars);
    if let Some(r) = &task.role {
        vars::overlay(&mut v, &r.params);
        v.insert("role_name".into(), json!(r.name));
        v.insert("role_path".into(), json!(r.path.display().to_string()));
    }
    vars::overlay(&mut v, sel.extra_vars);
    v.insert("inventory_hostname".into(), json!(host));
    v.insert("groups".into(), Value::Object(inv.groups_map()));
    v
}

/// Evaluates one marked assert for one host.
fn check_one(templater: &Templater, at: &At<'_>) -> Result<(), LoadError> {
    let (task, chain, host) = (at.task, at.chain, at.host);
    let Some(Action::Module { args, .. }) = &task.action else {
        return Ok(());
    };
    let known = scope_vars(at);
    let scope = Scope::new(Arc::new(known.clone()));
    // Not enabled here (or not decidable at load): the run decides.
    for cond in chain.when.iter().chain(task.when.iter()) {
        if !templater.eval_condition(cond, &scope).unwrap_or(false) {
            return Ok(());
        }
    }
    let thats: Vec<String> = match args.get("that") {
        Some(Value::Array(items)) => items.iter().map(vars::as_string).collect(),
        Some(other) => vec![vars::as_string(other)],
        None => return Ok(()),
    };
    for that in &thats {
        // An error (a fact, a registered result): left to the run, where the assert is a task.
        if let Ok(false) = templater.eval_condition(that, &scope) {
            let msg = args
                .get("fail_msg")
                .or_else(|| args.get("msg"))
                .map(|m| {
                    templater
                        .render_value(m, &scope)
                        .map(|r| vars::as_string(&r))
                        .unwrap_or_else(|_| vars::as_string(m))
                })
                .unwrap_or_else(|| "Assertion failed".into());
            let name = task.name.as_deref().unwrap_or("assert");
            // Where the values the condition reads were set: the last one found in a file (the
            // end of a chain of defaults) becomes the error's position, as that is what to edit;
            // the task's position is named too.
            // A value that is a template (a default built from another variable) is followed to
            // the variables it reads.
            let mut todo = names_in(that);
            let mut origins: Vec<(String, Origin)> = Vec::new();
            while let Some(n) = (!todo.is_empty() && origins.len() < 8).then(|| todo.remove(0)) {
                if origins.iter().any(|(seen, _)| *seen == n) {
                    continue;
                }
                if let Some(Value::String(raw)) = known.get(&n)
                    && raw.contains("{{")
                {
                    todo.extend(names_in(raw));
                }
                if let Some(o) = origin(at, &n) {
                    origins.push((n, o));
                }
            }
            let set: Vec<String> = origins
                .iter()
                .map(|(n, o)| match o {
                    Origin::At(m) => format!("{n} is set at {m}"),
                    Origin::Other(what) => format!("{n} comes from {what}"),
                })
                .collect();
            let mark = origins
                .iter()
                .rev()
                .find_map(|(_, o)| match o {
                    Origin::At(m) => Some(m.clone()),
                    Origin::Other(_) => None,
                })
                .unwrap_or_else(|| task.mark.clone());
            let set = if set.is_empty() {
                String::new()
            } else {
                format!("; {}", set.join(", "))
            };
            return Err(LoadError::at(
                &mark,
                format!(
                    "refusing to run (checked at load, no host was touched): host {host}: {msg} (task '{name}' at {}, failed condition: {that}{set}); fix the value in the inventory, group_vars/host_vars or -e and run again",
                    task.mark
                ),
            ));
        }
    }
    Ok(())
}

/// Where a variable's value came from.
enum Origin {
    /// A file position (group_vars/host_vars, role defaults or vars, the play).
    At(crate::yaml::Mark),
    /// Somewhere without a file position (`-e`, the inventory file's own line, task vars).
    Other(&'static str),
}

/// The names a condition may read: its identifiers outside string literals (filters and tests
/// among them; [`origin`] keeps only those that are variables).
fn names_in(cond: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut quote: Option<char> = None;
    let mut word = String::new();
    for c in cond.chars().chain(std::iter::once(' ')) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            word.push(c);
            continue;
        }
        if let Some(first) = word.split('.').next()
            && first.starts_with(|ch: char| ch.is_ascii_alphabetic() || ch == '_')
            && !out.iter().any(|w| w == first)
        {
            out.push(first.to_string());
        }
        word.clear();
        if c == '\'' || c == '"' {
            quote = Some(c);
        }
    }
    out
}

/// Where the value of `name` the assert saw was set, following the scope's precedence from the
/// top; `None` when `name` is no variable of the scope.
fn origin(at: &At<'_>, name: &str) -> Option<Origin> {
    let role_file = |r: &super::Role, sub: &str| {
        let path = r.path.join(sub).join("main.yml");
        let node = crate::yaml::load_file(&path).ok()?;
        node.as_map()?
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(k, _)| Origin::At(k.mark.clone()))
    };
    let roles: Vec<&super::Role> = at
        .task
        .role
        .iter()
        .map(|r| &**r)
        .chain(at.play.roles.iter().rev().map(|r| &**r))
        .collect();
    if at.sel.extra_vars.contains_key(name) {
        return Some(Origin::Other("-e"));
    }
    if at.task.vars.contains_key(name)
        || at.chain.vars.contains_key(name)
        || at.task.role.as_ref().is_some_and(|r| r.params.contains_key(name))
    {
        return Some(Origin::Other("the task's, block's or role entry's vars"));
    }
    if let Some(o) = roles
        .iter()
        .filter(|r| r.vars.contains_key(name))
        .find_map(|r| role_file(r, "vars"))
    {
        return Some(o);
    }
    if at.play_vars.contains_key(name) {
        return Some(Origin::At(at.play.mark.clone()));
    }
    if at.inv.host_vars(at.host).contains_key(name) {
        return Some(
            at.inv
                .var_origin(at.host, name)
                .map_or(Origin::Other("the inventory file"), Origin::At),
        );
    }
    roles
        .iter()
        .filter(|r| r.defaults.contains_key(name))
        .find_map(|r| role_file(r, "defaults"))
}

#[cfg(test)]
mod tests {
    use super::names_in;

    #[test]
    fn names_in_a_condition_skip_string_literals() {
        assert_eq!(
            names_in("ollama_listen_address | string not in ['0.0.0.0', '::', 'x y']"),
            ["ollama_listen_address", "string", "not", "in"]
        );
        assert_eq!(
            names_in("not (addr | ansible.utils.ipaddr('public')) and cfg.port > 1"),
            ["not", "addr", "ansible", "and", "cfg"]
        );
    }
}
