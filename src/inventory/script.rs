//! Executable inventory sources, as ansible-core's `script` inventory plugin reads them: a file
//! that is executable or starts with `#!` is run with `--list`; its standard output must be one
//! JSON object of groups (`{"web": {"hosts": [...], "vars": {...}, "children": [...]}}`, a bare
//! list of hosts, or a mapping of variables that makes a group of one host of the same name),
//! with host variables under `_meta.hostvars`; when `_meta.hostvars` is absent the script is run
//! again with `--host NAME` for each host.
//!
//! The script runs on the controller with the inventory's folder as nothing special: ansible-core
//! runs it by its path with the controller's environment and working directory, and so does
//! talon. Its output is bounded (64 MiB, [`crate::input::TEXT_LIMIT`]).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Map, Value};

use super::{Builder, InventoryError};
use crate::vars::Vars;
use crate::yaml::Mark;

/// Whether ansible-core's `script` plugin would take `path`: a regular file that is executable
/// by someone or begins with `#!`.
pub(super) fn is_script(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    if meta.permissions().mode() & 0o111 != 0 {
        return true;
    }
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"#!")
}

/// Runs `path ARGS` and returns its standard output as text.
///
/// Errors (ansible-core's wording): the script cannot be started, exits non-zero ("had an
/// execution error", with its stderr), prints more than 64 MiB, or prints something not UTF-8.
fn run(path: &Path, args: &[&str]) -> Result<String, InventoryError> {
    let fail = |what: String, fix: &str| InventoryError::parse(Mark::file(path), what, fix);
    let mut child = Command::new(path)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            fail(
                format!("problem running {} {} ({e})", path.display(), args.join(" ")),
                "make the inventory script executable, or give its interpreter a #! line that exists here",
            )
        })?;
    let mut out = Vec::new();
    let limit = crate::input::TEXT_LIMIT;
    let read = child
        .stdout
        .take()
        .map(|s| s.take(limit + 1).read_to_end(&mut out));
    let mut err = Vec::new();
    if let Some(s) = child.stderr.take() {
        let _ = s.take(64 * 1024).read_to_end(&mut err);
    }
    let status = child.wait().map_err(|e| {
        fail(
            format!("problem running {} ({e})", path.display()),
            "check that the inventory script can run here",
        )
    })?;
    if let Some(Err(e)) = read {
        return Err(fail(
            format!("cannot read the output of {}: {e}", path.display()),
            "check that the inventory script writes JSON to its standard output",
        ));
    }
    let stderr = String::from_utf8_lossy(&err);
    if !status.success() {
        return Err(fail(
            format!(
                "Inventory script ({}) had an execution error: {}",
                path.display(),
                stderr.trim_end()
            ),
            "run the script by hand with --list and fix what it reports",
        ));
    }
    if out.len() as u64 > limit {
        return Err(fail(
            format!(
                "inventory script {} printed more than {limit} bytes",
                path.display()
            ),
            "have the script print only the inventory's JSON",
        ));
    }
    String::from_utf8(out).map_err(|e| {
        fail(
            format!(
                "Inventory {} contained characters that cannot be interpreted as UTF-8: {e}",
                path.display()
            ),
            "have the script print UTF-8 JSON",
        )
    })
}

/// Runs the script at `path` with `--list` (and `--host` per host when it gives no
/// `_meta.hostvars`) and adds what it prints to `b`.
///
/// Errors: see [`run`]; output that is not a JSON object ("needs to be a json dict"); a group
/// whose `hosts` is not a list or whose `vars` is not a mapping; host variables that are not a
/// mapping.
pub(super) fn parse(path: &Path, b: &mut Builder) -> Result<(), InventoryError> {
    let at = Mark::file(path);
    let fail = |what: String, fix: &str| InventoryError::parse(at.clone(), what, fix);
    let text = run(path, &["--list"])?;
    let data: Value = serde_json::from_str(&text).map_err(|e| {
        fail(
            format!(
                "failed to parse executable inventory script results from {}: {e}",
                path.display()
            ),
            "have the script print one JSON object for --list",
        )
    })?;
    let Value::Object(groups) = data else {
        return Err(fail(
            format!(
                "failed to parse executable inventory script results from {}: needs to be a json dict",
                path.display()
            ),
            "have the script print one JSON object of groups for --list",
        ));
    };
    let mut hosts: Vec<String> = Vec::new();
    let mut meta: Option<Map<String, Value>> = None;
    for (name, gdata) in &groups {
        if name == "_meta" {
            if let Some(Value::Object(hv)) = gdata.get("hostvars") {
                meta = Some(hv.clone());
            } else if let Some(hv) = gdata.get("hostvars") {
                return Err(fail(
                    format!(
                        "Improperly formatted host information: _meta.hostvars is a {}",
                        kind(hv)
                    ),
                    "make _meta.hostvars a mapping of host name to variables",
                ));
            }
            continue;
        }
        group(name, gdata, b, &mut hosts, &at)?;
    }
    for host in &hosts {
        let vars = match &meta {
            Some(hv) => hv.get(host).cloned().unwrap_or(Value::Object(Map::new())),
            None => {
                let out = run(path, &["--host", host])?;
                if out.trim().is_empty() {
                    Value::Object(Map::new())
                } else {
                    serde_json::from_str(&out).map_err(|e| {
                        fail(
                            format!(
                                "could not parse post variable response: {} --host {host}: {e}",
                                path.display()
                            ),
                            "have the script print a JSON object of the host's variables for --host",
                        )
                    })?
                }
            }
        };
        let Value::Object(vars) = vars else {
            return Err(fail(
                format!(
                    "Invalid data from file, expected dictionary and got a {} for host {host}",
                    kind(&vars)
                ),
                "give each host's variables as a JSON object",
            ));
        };
        b.add_host(host, None, None);
        if let Some(h) = b.hosts.get_mut(host) {
            for (k, v) in vars {
                h.vars.insert(k, v);
            }
        }
    }
    Ok(())
}

/// One group of `--list`'s output, the three forms ansible-core accepts.
fn group(
    name: &str,
    data: &Value,
    b: &mut Builder,
    hosts: &mut Vec<String>,
    at: &Mark,
) -> Result<(), InventoryError> {
    let fail = |what: String, fix: &str| InventoryError::parse(at.clone(), what, fix);
    b.add_group(name);
    let mut map = match data {
        Value::Object(m) => m.clone(),
        other => {
            let mut m = Map::new();
            m.insert("hosts".into(), other.clone());
            m
        }
    };
    if !["hosts", "vars", "children"].iter().any(|k| map.contains_key(*k)) {
        // Simplified syntax: a group that is a host with variables.
        let vars = Value::Object(std::mem::take(&mut map));
        map.insert("hosts".into(), Value::Array(vec![Value::from(name)]));
        map.insert("vars".into(), vars);
    }
    if let Some(list) = map.get("hosts") {
        let Value::Array(list) = list else {
            return Err(fail(
                format!("You defined a group '{name}' with bad data for the host list: {list}"),
                "give the group's hosts as a JSON list of names",
            ));
        };
        for h in list {
            let h = match h {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !hosts.contains(&h) {
                hosts.push(h.clone());
            }
            b.add_host(&h, Some(name), None);
        }
    }
    if let Some(vars) = map.get("vars") {
        let Value::Object(vars) = vars else {
            return Err(fail(
                format!("You defined a group '{name}' with bad data for variables: {vars}"),
                "give the group's vars as a JSON object",
            ));
        };
        let vars: Vars = vars.clone().into_iter().collect();
        for (k, v) in vars {
            b.set_group_var(name, &k, v);
        }
    }
    if let Some(children) = map.get("children") {
        let list: Vec<String> = match children {
            Value::Array(a) => a
                .iter()
                .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string))
                .collect(),
            Value::Object(m) => m.keys().cloned().collect(),
            other => {
                return Err(fail(
                    format!("group '{name}' has bad data for children: {other}"),
                    "give the group's children as a JSON list of group names",
                ));
            }
        };
        for c in list {
            b.add_group(&c);
            b.add_child(name, &c);
        }
    }
    Ok(())
}

/// The JSON type name of a value, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}
