//! Dynamic includes (`include_tasks`, `include_role`) as ansible-core's TaskInclude and
//! IncludeRole load them: only the keywords an include takes (VALID_INCLUDE_KEYWORDS; any other
//! is a load error, as with ansible-core's default INVALID_TASK_ATTRIBUTE_FAILED), and `apply:`,
//! a block whose keywords the included tasks inherit. The include's own `ignore_errors`,
//! `no_log`, `timeout`, `tags` and `when` apply to the include alone (src/runner/walk.rs).

use std::path::Path;
use std::sync::{Arc, PoisonError};

use super::role::{RoleRef, role_ref};
use super::task::{import_target, wrap_import};
use super::*;

/// The keywords an `include_tasks` / `include_role` task takes besides its action and loops
/// (ansible-core's `TaskInclude.VALID_INCLUDE_KEYWORDS`).
const INCLUDE_KEYWORDS: &[&str] = &[
    "action",
    "args",
    "collections",
    "debugger",
    "ignore_errors",
    "loop",
    "loop_control",
    "name",
    "no_log",
    "register",
    "run_once",
    "tags",
    "timeout",
    "vars",
    "when",
];

/// Refuses a keyword a dynamic include does not take, with ansible-core's words ("'become' is
/// not a valid attribute for a TaskInclude", IncludeRole for include_role), at the task.
fn include_keywords(node: &Node, action: &Key, class: &str) -> Result<(), LoadError> {
    for (k, _) in node.as_map().into_iter().flatten() {
        let name = k.name.as_str();
        if k.name == action.name || INCLUDE_KEYWORDS.contains(&name) || name.starts_with("with_") {
            continue;
        }
        // local_action is the `delegate_to: localhost` ansible-core then refuses.
        let shown = if name == "local_action" {
            "delegate_to"
        } else {
            name
        };
        return Err(LoadError::at(
            &node.mark,
            format!("'{shown}' is not a valid attribute for a {class}"),
        ));
    }
    Ok(())
}

impl Loader {
    /// `apply:` of an include: a mapping of block keywords, loaded as a block without tasks.
    fn include_apply(
        &self,
        apply: Option<&Node>,
        base: &Path,
        role: Option<&Arc<Role>>,
    ) -> Result<Option<Box<Task>>, LoadError> {
        let Some(apply) = apply else {
            return Ok(None);
        };
        let NodeKind::Map(entries) = &apply.kind else {
            return Err(LoadError::at(
                &apply.mark,
                format!("Expected a dict for apply but got {} instead", apply.type_name()),
            ));
        };
        if let Some((k, _)) = entries.iter().find(|(k, _)| k.name == "block") {
            return Err(LoadError::at(&k.mark, "'block' is not an option of apply"));
        }
        let mut block = entries.clone();
        block.push((
            Key {
                name: "block".into(),
                mark: apply.mark.clone(),
            },
            Node {
                mark: apply.mark.clone(),
                kind: NodeKind::Seq(Vec::new()),
            },
        ));
        let node = Node {
            mark: apply.mark.clone(),
            kind: NodeKind::Map(block),
        };
        Ok(self.task(&node, base, role)?.pop().map(Box::new))
    }

    /// An `include_tasks` task (`node`, its action `key: value`) made into `task`.
    pub(super) fn include_tasks(
        &self,
        task: &mut Task,
        node: &Node,
        (key, value): (&Key, &Node),
        base: &Path,
        role: Option<&Arc<Role>>,
    ) -> Result<(), LoadError> {
        include_keywords(node, key, "TaskInclude")?;
        if let NodeKind::Map(m) = &value.kind
            && let Some((k, _)) = m
                .iter()
                .find(|(k, _)| !["file", "_raw_params", "apply"].contains(&k.name.as_str()))
        {
            return Err(LoadError::at(
                &k.mark,
                format!("Invalid options for {}: {}", key.name, k.name),
            ));
        }
        let file = import_target(value, &key.mark)?;
        let path = resolve_task_file(base, role, &file);
        // Validate now so that a bad included file fails before anything runs; a file that
        // includes itself (a recursion, valid with a condition that ends it) is checked once,
        // and bounded when it runs (MAX_INCLUDE_DEPTH).
        if !file.contains("{{") && !self.imports.busy(&path) {
            self.task_file_at(&path, role, Some(&key.mark))
                .map_err(|e| wrap_import(e, &key.mark))?;
        }
        task.action = Some(Action::IncludeTasks {
            file,
            base: base.to_path_buf(),
            role: role.cloned(),
            apply: self.include_apply(value.get("apply"), base, role)?,
        });
        Ok(())
    }

    /// An `include_role` task (`node`, its action `key: value`) made into `task`.
    pub(super) fn include_role(
        &self,
        task: &mut Task,
        node: &Node,
        (key, value): (&Key, &Node),
        base: &Path,
        role: Option<&Arc<Role>>,
    ) -> Result<(), LoadError> {
        include_keywords(node, key, "IncludeRole")?;
        let RoleRef {
            name,
            from,
            vars,
            apply,
        } = role_ref(value, key)?;
        if !name.contains("{{") {
            // The role's handlers join the play's, as for import_role, so that its tasks can
            // notify them.
            let r = self.load_role_from(&name, &vars, &key.mark, &from)?;
            let handlers = self.role_handlers(&r, from.handlers.as_deref(), &key.mark)?;
            self.imported_handlers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(handlers);
        }
        task.vars.extend(vars);
        let apply = self.include_apply(apply.as_ref(), base, role)?;
        task.action = Some(Action::IncludeRole { name, from, apply });
        Ok(())
    }
}
