//! What `setup` returns of the gathered facts: `gather_subset` resolved as ansible-core's
//! `get_collector_names` over talon's facts, then `filter`, under the names setup returns.

use serde_json::{Value, json};

use crate::modules::files::fnmatch::fnmatch;
use crate::vars::Vars;

/// The facts of ansible-core's `hardware` collector among those talon gathers.
const HARDWARE: &[&str] = &[
    "memtotal_mb",
    "memfree_mb",
    "swaptotal_mb",
    "swapfree_mb",
    "memory_mb",
    "processor_vcpus",
    "processor_count",
    "mounts",
];

/// The facts of ansible-core's `network` collector among those talon gathers.
const NETWORK: &[&str] = &["interfaces", "default_ipv4", "all_ipv4_addresses"];

/// The facts of ansible-core's `virtual` collector.
const VIRTUAL: &[&str] = &[
    "virtualization_type",
    "virtualization_role",
    "virtualization_tech_guest",
    "virtualization_tech_host",
];

/// The subsets `gather_subset` names, as ansible-core's `get_collector_names` resolves them
/// over talon's facts: `all` (the default), `min` (always, unless `!min`), `hardware`,
/// `network`, `virtual`, `ohai`/`facter` (none), each negated with `!`
/// (`!all` keeps only `min`; so does `!hardware` alone: `min` is always added, so `all` is
/// not assumed); explicitly named subsets win over exclusions.
///
/// Errors: a subset talon does not know (ansible-core's message).
fn subsets(gather_subset: &[String]) -> Result<std::collections::BTreeSet<&'static str>, String> {
    use std::collections::BTreeSet;
    const VALID: &[&str] = &["hardware", "network", "virtual", "ohai", "facter"];
    let mut additional: BTreeSet<&'static str> = BTreeSet::new();
    let mut exclude: BTreeSet<&'static str> = BTreeSet::new();
    let mut explicit: BTreeSet<&'static str> = BTreeSet::new();
    let known = |name: &str| -> Result<&'static str, String> {
        ["min"]
            .iter()
            .chain(VALID)
            .find(|v| **v == name)
            .copied()
            .ok_or_else(|| {
                format!(
                    "Bad subset '{name}' given to talon's setup: gather_subset options allowed: all, {} (and each with '!'); ansible-core also takes its collectors' names (distribution, platform, ...), talon does not yet",
                    ["min"].iter().chain(VALID).copied().collect::<Vec<_>>().join(", ")
                )
            })
    };
    for subset in std::iter::once("min").chain(gather_subset.iter().map(String::as_str)) {
        let subset = subset.trim();
        match subset {
            "all" => additional.extend(VALID.iter().copied().chain(["min"])),
            "!all" => exclude.extend(VALID.iter().copied()),
            "!min" => {
                exclude.insert("min");
            }
            neg if neg.starts_with('!') => {
                exclude.insert(known(&neg[1..])?);
            }
            name => {
                let k = known(name)?;
                explicit.insert(k);
                additional.insert(k);
            }
        }
    }
    Ok(additional
        .into_iter()
        .filter(|s| !exclude.contains(s) || explicit.contains(s))
        .collect())
}

/// The facts `setup` returns from everything talon gathered (`all`), for its arguments:
/// `gather_subset` (a list, or comma-separated; see [`subsets`]), then `filter` (shell-style
/// patterns matched against the `ansible_`-prefixed names, the prefix added to a pattern
/// without it, as ansible-core's collector filters), plus ansible-core's own `gather_subset`
/// and `module_setup` facts. `gather_timeout` is accepted: talon gathers in one round trip
/// bounded by the connection's timeout.
///
/// Errors: a bad subset or a non-list argument, as text for the task's failure.
pub(crate) fn select(mut all: Vars, args: &Vars) -> Result<Vars, String> {
    let list = |name: &str| -> Result<Vec<String>, String> {
        match args.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()),
            Some(Value::Array(a)) => Ok(a.iter().map(crate::vars::as_string).collect()),
            Some(other) => Err(format!("{name} must be a list of strings, got {other}")),
        }
    };
    let given = list("gather_subset")?;
    let gather_subset = if given.is_empty() {
        vec!["all".to_string()]
    } else {
        given
    };
    let keep = subsets(&gather_subset)?;
    all.retain(|k, _| {
        let subset = if HARDWARE.contains(&k.as_str()) {
            "hardware"
        } else if NETWORK.contains(&k.as_str()) {
            "network"
        } else if VIRTUAL.contains(&k.as_str()) {
            "virtual"
        } else {
            "min"
        };
        keep.contains(subset)
    });
    all.insert("gather_subset".into(), json!(gather_subset));
    all.insert("module_setup".into(), json!(true));
    // Patterns match the names setup returns: `ansible_` + the fact, but `gather_subset` and
    // `module_setup` as they are.
    let patterns = list("filter")?;
    if patterns.is_empty() || patterns.iter().any(|p| p == "*") {
        return Ok(all);
    }
    // As the collector's _filter: fnmatch on the name, then (for a pattern without a known
    // prefix) with `ansible_` added to the pattern.
    let matches = |name: &str, p: &str| {
        fnmatch(name, p)
            || (!p.starts_with("ansible_")
                && !p.starts_with("facter")
                && !p.starts_with("ohai")
                && fnmatch(name, &format!("ansible_{p}")))
    };
    all.retain(|k, _| {
        let name = returned_name(k);
        patterns.iter().any(|p| matches(&name, p))
    });
    Ok(all)
}

/// The name under which setup returns fact `k` in its result: `ansible_` + `k`, except
/// `gather_subset` and `module_setup` (the host's facts have them all without the prefix).
pub(crate) fn returned_name(k: &str) -> String {
    match k {
        "gather_subset" | "module_setup" => k.to_string(),
        _ => format!("ansible_{k}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod select_tests {
    use super::*;

    fn facts() -> Vars {
        let mut v = Vars::new();
        for k in [
            "distribution",
            "distribution_version",
            "memtotal_mb",
            "mounts",
            "interfaces",
            "pkg_mgr",
        ] {
            v.insert(k.into(), json!(1));
        }
        v
    }

    fn keys(args: Value) -> Vec<String> {
        let args: Vars = serde_json::from_value(args).unwrap();
        select(facts(), &args).unwrap().keys().cloned().collect()
    }

    #[test]
    fn gather_subset_and_filter_as_ansible_core_resolves_them() {
        let all = keys(json!({}));
        assert!(all.contains(&"memtotal_mb".to_string()) && all.contains(&"module_setup".to_string()));
        let min = keys(json!({"gather_subset": ["!all"]}));
        assert!(!min.contains(&"memtotal_mb".to_string()) && !min.contains(&"interfaces".to_string()));
        assert!(min.contains(&"distribution".to_string()));
        let net = keys(json!({"gather_subset": "!all,network"}));
        assert!(net.contains(&"interfaces".to_string()) && !net.contains(&"mounts".to_string()));
        let no_hw = keys(json!({"gather_subset": ["all", "!hardware"]}));
        assert!(no_hw.contains(&"interfaces".to_string()) && !no_hw.contains(&"mounts".to_string()));
        // As ansible-core: `min` is always added, so a lone exclusion leaves only `min`.
        let lone = keys(json!({"gather_subset": ["!hardware"]}));
        assert!(!lone.contains(&"interfaces".to_string()) && lone.contains(&"pkg_mgr".to_string()));
        let f = keys(json!({"filter": ["ansible_distribution*", "pkg_mgr"]}));
        assert_eq!(f, vec!["distribution", "distribution_version", "pkg_mgr"]);
        let f = keys(json!({"filter": ["module_setup", "gather*"]}));
        assert_eq!(f, vec!["gather_subset", "module_setup"]);
        let args: Vars = serde_json::from_value(json!({"gather_subset": ["hardwar"]})).unwrap();
        assert!(
            select(facts(), &args)
                .unwrap_err()
                .contains("Bad subset 'hardwar'")
        );
    }
}
