//! What a dynamic include (`include_tasks`, `include_role`) brings in when it runs, and the
//! keywords its tasks inherit.

use super::Runner;
use super::error::TaskError;
use super::host::{Inherited, applied, include_depth_message};
use crate::playbook::{Action, Task};
use crate::template::Scope;
use crate::vars::{self, Vars};

impl Runner<'_> {
    /// Loads what an `include_tasks` / `include_role` brings in, and the keywords its tasks
    /// inherit: the include's `when` and tags stay on the include itself (Ansible's dynamic
    /// include rules); its vars and loop item become include params.
    pub(super) fn load_include(
        &self,
        task: &Task,
        child: &Inherited,
        inh: &Inherited,
        scope: &Scope,
        item: &Vars,
    ) -> Result<(Vec<Task>, Inherited, crate::playbook::PlayRoles), TaskError> {
        let seed = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            task.id.hash(&mut h);
            serde_json::to_string(item).unwrap_or_default().hash(&mut h);
            h.finish()
        };
        let loader = crate::playbook::Loader::for_include(&self.pb.dir, seed);
        // The include's own keywords (ignore_errors, no_log, timeout, tags, when) stay on the
        // include: ansible-core's included blocks skip a parent that was not statically loaded
        // and inherit from the include's parent (and from `apply:`, a block around them).
        let mut sub = inh.clone();
        sub.role = child.role.clone();
        let render = |s: &str| {
            self.templater
                .render_str(s, scope)
                .map(|v| vars::as_string(&v))
                .map_err(TaskError::template(""))
        };
        let target = match &task.action {
            Some(Action::IncludeTasks { file, .. }) => render(file)?,
            Some(Action::IncludeRole { name, .. }) => format!("role {}", render(name)?),
            _ => String::new(),
        };
        sub.includes.push(format!("{target} ({})", task.mark));
        if sub.includes.len() > crate::playbook::MAX_INCLUDE_DEPTH {
            return Err(TaskError::Invalid(include_depth_message(&sub.includes)));
        }
        match &task.action {
            Some(Action::IncludeTasks {
                file,
                base,
                role,
                apply,
            }) => {
                let path = crate::playbook::resolve_task_file(base, role.as_ref(), &render(file)?);
                let tasks = applied(loader.task_file(&path, role.as_ref())?, apply);
                vars::overlay(&mut sub.params, item);
                vars::overlay(&mut sub.params, &task.vars);
                Ok((tasks, sub, loader.take_play_roles()))
            }
            Some(Action::IncludeRole { name, from, apply }) => {
                // The role the include_role is in becomes the new role's parent.
                let parent = task.role.as_ref().or(inh.role.as_ref());
                let role = loader.load_role_under(&render(name)?, &task.vars, &task.mark, from, parent)?;
                let tasks = applied(
                    loader.role_tasks(&role, from.tasks.as_deref(), &task.mark)?,
                    apply,
                );
                // ansible-core adds the included role to the play's roles when it loads it.
                loader.note_play_role(&role)?;
                // The included role's defaults and vars apply to its own tasks.
                let mut params = role.defaults.clone();
                vars::overlay(&mut params, &role.vars);
                // What the enclosing includes gave (an include_tasks loop's `item`) stays in
                // scope, under the role's own defaults and vars.
                for (k, v) in &sub.params {
                    params.entry(k.clone()).or_insert_with(|| v.clone());
                }
                vars::overlay(&mut params, item);
                vars::overlay(&mut params, &task.vars);
                sub.params = params;
                sub.role = Some(role);
                Ok((tasks, sub, loader.take_play_roles()))
            }
            _ => Err(TaskError::Invalid("internal: not an include".into())),
        }
    }
}
