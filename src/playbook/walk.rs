//! The static walk over a play's tasks that the load-time checks share (undefined variables in
//! [`super::lint`], the secret policy's taint analysis in [`super::taint`]): blocks (with rescue
//! and always) and includes whose file or role name is no template are followed; each task is
//! met with the `environment:` values in force for it.

use serde_json::Value;

use super::{Action, Loader, Role, Task, resolve_task_file};

/// How deep blocks and static includes are followed (a cycle is a load error earlier; this
/// bounds what a walk of a valid playbook can cost).
pub const MAX_WALK_DEPTH: usize = 32;

/// What the walk meets, in order.
pub enum Met<'a> {
    /// A task (a block before its children, an include before what it includes), with the
    /// `environment:` values in force for it: the caller's, the enclosing blocks', its own.
    Task(&'a Task, &'a [Value]),
    /// A role an `include_role` brings in (its defaults and vars come into scope).
    Role(&'a Role),
    /// An include that cannot be followed before run time (templated file or role name).
    Dynamic,
}

/// Walks `list` (loaded by `loader`) with `env` in force, calling `visit` for everything met.
pub fn walk(loader: &Loader, list: &[Task], env: &[Value], visit: &mut dyn FnMut(Met<'_>)) {
    walk_at(loader, list, env, visit, 0);
}

fn walk_at(loader: &Loader, list: &[Task], env: &[Value], visit: &mut dyn FnMut(Met<'_>), depth: usize) {
    if depth > MAX_WALK_DEPTH {
        return;
    }
    for t in list {
        let mut env = env.to_vec();
        env.extend(t.environment.iter().cloned());
        visit(Met::Task(t, &env));
        match &t.action {
            Some(Action::Block {
                block,
                rescue,
                always,
            }) => {
                for l in [block, rescue, always] {
                    walk_at(loader, l, &env, visit, depth + 1);
                }
            }
            Some(Action::IncludeTasks { file, .. }) if file.contains("{{") => visit(Met::Dynamic),
            Some(Action::IncludeTasks {
                file,
                base,
                role,
                apply,
            }) => {
                let path = resolve_task_file(base, role.as_ref(), file);
                if let Ok(sub) = loader.task_file(&path, role.as_ref()) {
                    walk_at(loader, &sub, &applied(&env, apply), visit, depth + 1);
                }
            }
            Some(Action::IncludeRole { name, .. }) if name.contains("{{") => visit(Met::Dynamic),
            Some(Action::IncludeRole { name, from, apply }) => {
                if let Ok(r) = loader.load_role_from(name, &t.vars, &t.mark, from) {
                    visit(Met::Role(&r));
                    if let Ok(sub) = loader.role_tasks(&r, from.tasks.as_deref(), &t.mark) {
                        walk_at(loader, &sub, &applied(&env, apply), visit, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `env` with the `environment:` of an include's `apply:` added (its tasks inherit it).
fn applied(env: &[Value], apply: &Option<Box<Task>>) -> Vec<Value> {
    let mut env = env.to_vec();
    env.extend(apply.iter().filter_map(|a| a.environment.clone()));
    env
}
