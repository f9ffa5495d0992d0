//! Load findings that ansible-playbook meets only when a task runs: a variable nothing in the
//! playbook defines, an argument the module does not take, a literal value of the wrong type or
//! choice. The task that has one may be skipped (`when`), may expect a failure
//! (`ignore_errors`, `failed_when`, `rescue`), or may find the variable defined at run time, so
//! refusing the playbook would refuse one that `ansible-playbook` runs to success. They are
//! warnings at load, the task's failure if it runs with the problem, and load errors with
//! `--strict` (`TALON_STRICT=1`) for users who want talon's stricter gate.

use std::collections::HashSet;

use crate::error::LoadError;
use crate::yaml::Mark;

/// One finding: where, in which task, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The task (or the argument of it) that has the problem.
    pub mark: Mark,
    /// The message, naming the task.
    pub message: String,
}

impl Finding {
    /// A finding at `mark`.
    pub fn at(mark: &Mark, message: impl Into<String>) -> Self {
        Finding {
            mark: mark.clone(),
            message: message.into(),
        }
    }

    /// The load error this finding is under `--strict`.
    pub fn into_error(self) -> LoadError {
        LoadError::At {
            mark: self.mark,
            message: self.message,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.mark, self.message)
    }
}

/// Settles a run's findings before anything runs: with `strict`, the first one is the load
/// error; otherwise the distinct ones (a role used twice finds the same thing twice), in order,
/// as warning lines (`[WARNING]: file:line:column: message`) for stderr.
///
/// Errors: the first finding as a [`LoadError`] when `strict`.
pub fn settle(findings: Vec<Finding>, strict: bool) -> Result<Vec<String>, LoadError> {
    if strict && let Some(first) = findings.first() {
        return Err(first.clone().into_error());
    }
    let mut seen = HashSet::new();
    Ok(findings
        .into_iter()
        .map(|f| format!("[WARNING]: {f}"))
        .filter(|line| seen.insert(line.clone()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn finding(line: u64, msg: &str) -> Finding {
        let mut mark = Mark::file(Path::new("p.yml"));
        mark.line = line;
        mark.column = 7;
        Finding::at(&mark, msg)
    }

    #[test]
    fn warnings_are_distinct_and_in_order() {
        let lines = settle(vec![finding(5, "b"), finding(3, "a"), finding(5, "b")], false).unwrap();
        assert_eq!(lines, ["[WARNING]: p.yml:5:7: b", "[WARNING]: p.yml:3:7: a"]);
        assert!(settle(Vec::new(), true).unwrap().is_empty());
    }

    #[test]
    fn strict_makes_the_first_an_error_with_its_place() {
        let e = settle(vec![finding(5, "b"), finding(3, "a")], true).unwrap_err();
        assert_eq!(e.to_string(), "p.yml:5:7: b");
    }
}
