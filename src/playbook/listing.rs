//! `--list-hosts`, `--list-tasks`, `--list-tags`: what a run would do, printed exactly as
//! ansible-playbook prints it (`lib/ansible/cli/playbook.py`), without connecting to any host.
//!
//! Where ansible-playbook prints a Python set (the hosts of a play, the play's own tags), its
//! order is arbitrary; talon prints inventory order and sorted tags.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use super::{Action, Play, Playbook, Task};
use crate::cli::PlayArgs;
use crate::config::Config;
use crate::inventory::Inventory;

/// Whether a task with these (inherited and own) tags runs under `--tags only` and
/// `--skip-tags skip`, as ansible-core's `Taggable.evaluate_tags`: `always` runs unless skipped
/// by name, `never` only when asked for, `tagged`/`untagged`/`all` as special selections.
pub fn tags_selected(tags: &[String], only: &[String], skip: &[String]) -> bool {
    let has = |t: &str| tags.iter().any(|x| x == t);
    let special =
        |s: &String| has(s) || (s == "tagged" && !tags.is_empty()) || (s == "untagged" && tags.is_empty());
    if skip.iter().any(special) {
        return false;
    }
    if has("always") {
        return true;
    }
    if (only.is_empty() || only.iter().any(|t| t == "all")) && !has("never") {
        return true;
    }
    only.iter().filter(|t| *t != "all").any(special)
}

/// The listing for `pb` (`playbook` as typed on the command line), for the flags set in `what`.
pub fn render(pb: &Playbook, inv: &Inventory, opts: &Config, playbook: &Path, what: &PlayArgs) -> String {
    let mut out = format!("\nplaybook: {}\n", playbook.display());
    // ansible-playbook: --list-tags without --tags/--skip-tags lists every tag, `never` too.
    let only: Vec<String> = if what.list_tags && opts.tags.is_empty() && opts.skip_tags.is_empty() {
        vec!["never".into(), "all".into()]
    } else {
        opts.tags.clone()
    };
    for (i, play) in pb.plays.iter().enumerate() {
        let play_tags: BTreeSet<&str> = play.tags.iter().map(String::as_str).collect();
        let name = if play.name.is_empty() {
            &play.hosts
        } else {
            &play.name
        };
        let _ = write!(
            out,
            "\n  play #{} ({}): {}\tTAGS: [{}]",
            i + 1,
            play.hosts,
            name,
            play_tags.iter().copied().collect::<Vec<_>>().join(",")
        );
        if what.list_hosts {
            let mut hosts = inv.select(&play.hosts).unwrap_or_default();
            if let Some(l) = &opts.limit {
                hosts = inv.limit(hosts, l).unwrap_or_default();
            }
            let _ = write!(
                out,
                "\n    pattern: ['{}']\n    hosts ({}):",
                play.hosts,
                hosts.len()
            );
            for h in hosts {
                let _ = write!(out, "\n      {h}");
            }
        }
        out.push('\n');
        if what.list_tasks || what.list_tags {
            let mut all_tags: BTreeSet<String> = BTreeSet::new();
            let mut tasks = String::new();
            if what.list_tasks {
                tasks.push_str("    tasks:\n");
            }
            for section in &play.sections {
                list_block(
                    play,
                    section,
                    &play.tags,
                    &only,
                    &opts.skip_tags,
                    what.list_tasks,
                    &mut tasks,
                    &mut all_tags,
                );
            }
            if what.list_tags {
                all_tags.extend(play.tags.iter().cloned());
                let tags: Vec<String> = all_tags.into_iter().collect();
                let _ = writeln!(tasks, "      TASK TAGS: [{}]", tags.join(", "));
            }
            // ansible's display adds a newline only to text that has none.
            out.push_str(&tasks);
        }
    }
    out.strip_suffix('\n').map(str::to_string).unwrap_or(out)
}

#[allow(clippy::too_many_arguments)]
fn list_block(
    play: &Play,
    tasks: &[Task],
    parent_tags: &[String],
    only: &[String],
    skip: &[String],
    list_tasks: bool,
    out: &mut String,
    all_tags: &mut BTreeSet<String>,
) {
    for task in tasks {
        let mut tags = parent_tags.to_vec();
        for t in &task.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        if let Some(Action::Block { block, .. }) = &task.action {
            // ansible-playbook lists a block's tasks, not its rescue or always sections.
            list_block(play, block, &tags, only, skip, list_tasks, out, all_tags);
            continue;
        }
        if !tags_selected(&tags, only, skip) {
            continue;
        }
        // The task's own tags with its parents' (the play's are shown apart for list-tags).
        let own: BTreeSet<String> = tags.iter().filter(|t| !play.tags.contains(t)).cloned().collect();
        all_tags.extend(own);
        if list_tasks {
            let sorted: BTreeSet<&String> = tags.iter().collect();
            let names: Vec<&str> = sorted.into_iter().map(String::as_str).collect();
            let _ = writeln!(out, "      {}\tTAGS: [{}]", task.display_name(), names.join(", "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn tag_selection_as_ansible() {
        assert!(tags_selected(&v(&["a"]), &[], &[]));
        assert!(!tags_selected(&v(&["never"]), &[], &[]));
        assert!(tags_selected(&v(&["never"]), &v(&["never", "all"]), &[]));
        assert!(tags_selected(&v(&["always"]), &v(&["x"]), &[]));
        assert!(!tags_selected(&v(&["always"]), &[], &v(&["always"])));
        assert!(tags_selected(&v(&[]), &v(&["untagged"]), &[]));
        assert!(!tags_selected(&v(&["a"]), &v(&["b"]), &[]));
    }
}
