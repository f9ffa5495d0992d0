//! Asserts a role marks to be checked at load time, before any host is touched.
//!
//! ansible-playbook evaluates an `assert` when the task runs: by then earlier tasks (and other
//! roles) may have changed the host. Some settings must never reach a host at all (an Ollama
//! told to listen on `0.0.0.0` is an unauthenticated model server on every interface), so a role
//! can mark an `assert` with the tag [`LOAD_CHECK_TAG`]. talon then evaluates it for every host
//! of its play before the run starts, with the variables known at load: inventory (group_vars,
//! host_vars), `-e`, play `vars`/`vars_files`, role defaults, vars and params, block and task
//! `vars`. The enclosing blocks' and role's `when` conditions are evaluated first (a disabled
//! role is not checked). A false condition refuses the whole run with the task's
//! `file:line:column`, the host and the assert's `fail_msg`.
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

/// The scope of the task on the host at load time, in the runner's precedence order (see
/// `src/runner/scope.rs`), without facts and registered results.
fn scope(at: &At<'_>) -> Scope {
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
    Scope::new(Arc::new(v))
}

/// Evaluates one marked assert for one host.
fn check_one(templater: &Templater, at: &At<'_>) -> Result<(), LoadError> {
    let (task, chain, host) = (at.task, at.chain, at.host);
    let Some(Action::Module { args, .. }) = &task.action else {
        return Ok(());
    };
    let scope = scope(at);
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
            return Err(LoadError::at(
                &task.mark,
                format!(
                    "refusing to run (checked at load, no host was touched): task '{name}', host {host}: {msg} (failed condition: {that}); fix the value in the inventory, group_vars/host_vars or -e and run again"
                ),
            ));
        }
    }
    Ok(())
}
