//! `--start-at-task` and `--step`, as ansible-playbook runs them.
//!
//! `--start-at-task NAME` (ansible-core's `PlayIterator`): in play order, the first task (among
//! those `--tags`/`--skip-tags` select) whose name, or `role : name`, is NAME or matches it as
//! an `fnmatch` glob is where the run starts. Plays before it run nothing (not even fact
//! gathering); in its play, facts are gathered, then the tasks before it are passed over
//! without a word (when the match is the play's first task, facts are gathered even under
//! `gather_facts: false`, as ansible-core does). Tasks inside dynamic includes cannot be found ("can only follow static
//! includes"). No match: nothing runs and the run ends with ansible-playbook's error line.
//!
//! `--step`: before each task, once for all hosts, `Perform task: TASK: NAME (N)o/(y)es/(c)ontinue:`
//! is asked on the terminal: `y` runs it, `c` runs it and every later task without asking,
//! anything else passes over it.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::playbook::{Action, Playbook, Task};

/// What `--start-at-task` passes over.
#[derive(Debug, Default)]
pub(crate) struct StartAt {
    /// Ids of the tasks not run.
    pub skip: HashSet<usize>,
    /// Indexes of the plays that gather no facts (those before the match).
    pub skip_gather: HashSet<usize>,
    /// False when no task matched (every play is passed over).
    pub matched: bool,
    /// The play whose first task is the match: ansible-core gathers facts there even under
    /// `gather_facts: false` (its iterator, restarted at the setup block, runs that block as
    /// an ordinary one), so talon does too, for the same statuses.
    pub gather_anyway: Option<usize>,
}

impl StartAt {
    /// Plans `--start-at-task pattern` over `pb`, with `selected` telling which tags run.
    pub fn plan(pb: &Playbook, pattern: &str, selected: &dyn Fn(&[String]) -> bool) -> StartAt {
        let mut plan = StartAt::default();
        for play in &pb.plays {
            if plan.matched {
                break;
            }
            plan.skip_gather.insert(play.index);
            let before = plan.skip.len();
            for section in &play.sections {
                walk(section, &play.tags, pattern, selected, &mut plan);
                if plan.matched {
                    break;
                }
            }
            if plan.matched {
                plan.skip_gather.remove(&play.index);
                if plan.skip.len() == before {
                    plan.gather_anyway = Some(play.index);
                }
            }
        }
        plan
    }

    /// ansible-playbook's error at the end of a run whose `--start-at-task` matched nothing.
    pub fn no_match_message(pattern: &str) -> String {
        format!(
            "No matching task \"{pattern}\" found. Note: --start-at-task can only follow static includes."
        )
    }
}

fn matches(task: &Task, pattern: &str) -> bool {
    let full = task.display_name();
    let glob = crate::modules::files::fnmatch::fnmatch;
    task.name
        .as_deref()
        .is_some_and(|n| n == pattern || glob(n, pattern))
        || full == pattern
        || glob(&full, pattern)
}

fn walk(
    tasks: &[Task],
    parent_tags: &[String],
    pattern: &str,
    selected: &dyn Fn(&[String]) -> bool,
    plan: &mut StartAt,
) {
    for task in tasks {
        if plan.matched {
            return;
        }
        let mut tags = parent_tags.to_vec();
        tags.extend(task.tags.iter().cloned());
        if let Some(Action::Block { block, always, .. }) = &task.action {
            // A block's tasks, then its always section (rescue runs only on failure).
            walk(block, &tags, pattern, selected, plan);
            walk(always, &tags, pattern, selected, plan);
            continue;
        }
        if selected(&tags) && matches(task, pattern) {
            plan.matched = true;
            return;
        }
        plan.skip.insert(task.id);
    }
}

/// `--step`'s answers, shared by the hosts: each task is asked about once.
#[derive(Debug, Default)]
pub(crate) struct Step {
    state: Mutex<(bool, HashMap<usize, bool>)>,
}

impl Step {
    /// Whether `task` runs: asked on the terminal the first time, remembered after.
    pub fn allows(&self, task: &Task) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return true;
        };
        if state.0 {
            return true;
        }
        if let Some(&yes) = state.1.get(&task.id) {
            return yes;
        }
        let question = format!(
            "Perform task: TASK: {} (N)o/(y)es/(c)ontinue: ",
            task.display_name()
        );
        let answer = tokio::task::block_in_place(|| {
            use std::io::Write;
            let mut err = std::io::stderr();
            let _ = write!(err, "{question}");
            let _ = err.flush();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .unwrap_or_default();
        let a = answer.trim().to_ascii_lowercase();
        let yes = matches!(a.as_str(), "y" | "yes" | "c" | "continue");
        if matches!(a.as_str(), "c" | "continue") {
            state.0 = true;
        }
        state.1.insert(task.id, yes);
        yes
    }
}
