//! Why talon could not carry out a task on a host around its module: rendering a keyword or
//! argument, evaluating a condition, loading an include or a variables file, reading a loop,
//! revealing a become password. Typed, with the source kept; the runner adds the task's name
//! and `file:line:column` when it reports the failure (the module's own failures are its
//! outcome, not this).

use crate::error::LoadError;
use crate::secrets::SecretError;
use crate::template::TemplateError;

/// A task that could not be carried out on a host (it fails on that host; others go on).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TaskError {
    /// A template failed; `what` names where (`environment`, `loop`, `argument 'dest'`,
    /// `vars_files 'x'`), or is empty when the template's message says it all.
    #[error("{}{source}", label(.what))]
    Template {
        what: String,
        #[source]
        source: Box<TemplateError>,
    },
    /// A module argument failed to template: ansible-core 2.19's words ("Task failed:
    /// Finalization of task args for 'ansible.builtin.debug' failed: Error while resolving
    /// value for 'msg': 'x' is undefined"); `action` is the resolved module name.
    #[error(
        "Task failed: Finalization of task args for '{action}' failed: Error while resolving value for '{name}': {source}"
    )]
    Args {
        action: String,
        name: String,
        #[source]
        source: Box<TemplateError>,
    },
    /// A condition (`when`, `changed_when`, `failed_when`, `until`) could not be evaluated.
    #[error("the conditional check '{expr}' failed: {source}")]
    Condition {
        expr: String,
        #[source]
        source: Box<TemplateError>,
    },
    /// An included task file or role, or a variables file, could not be loaded.
    #[error(transparent)]
    Load(Box<LoadError>),
    /// A secret could not be revealed where it is needed (`what` names it).
    #[error("{what}: {source}")]
    Secret {
        what: &'static str,
        #[source]
        source: Box<SecretError>,
    },
    /// A value of the wrong shape, or a limit reached: the message says which and what to do.
    #[error("{0}")]
    Invalid(String),
}

impl TaskError {
    /// A [`TaskError::Template`] for the template at `what` (empty: no label).
    pub(crate) fn template(what: impl Into<String>) -> impl FnOnce(TemplateError) -> TaskError {
        let what = what.into();
        move |source| TaskError::Template {
            what,
            source: Box::new(source),
        }
    }
}

impl From<LoadError> for TaskError {
    fn from(e: LoadError) -> Self {
        TaskError::Load(Box::new(e))
    }
}

fn label(what: &str) -> String {
    if what.is_empty() {
        String::new()
    } else {
        format!("{what}: ")
    }
}
