//! `iptables` (ansible.builtin.iptables) without Python on the host: the module's argument
//! building ([`super::iptables_rule`]), its branches (flush, policy, a chain without rule
//! arguments, a rule checked with `-C` and appended, inserted or deleted), `ip_version`
//! `ipv4`, `ipv6` or `both` (iptables, then ip6tables), `wait` by the iptables version, its
//! results, failures and check mode. One round trip finds the programs, their versions and
//! reads the chain or rule; one more makes the changes. Arguments the module's own code raises
//! on, values its `run_command` would expand (`$VAR`, `~`), and arguments only Python converts
//! the same way (lists or mappings where a string goes) run ansible-core's module through the
//! Python path.

use serde_json::Value;

use super::iptables_rule::{self as rule, Params};
use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan, fallback, sysutil};
use crate::transport::quote;
use crate::vars::{Vars, as_string};

const FQCN: &str = "ansible.builtin.iptables";

crate::module_info!(
    /// `iptables`: every option of ansible-core 2.19's module.
    INFO,
    "iptables",
    ArgSpec::new(&[
        ArgDef::str("table").choices(&["filter", "nat", "mangle", "raw", "security"]),
        ArgDef::str("state").choices(&["absent", "present"]),
        ArgDef::str("action").choices(&["append", "insert"]),
        ArgDef::str("ip_version").choices(&["ipv4", "ipv6", "both"]),
        ArgDef::str("chain"),
        ArgDef::str("rule_num"),
        ArgDef::str("protocol"),
        ArgDef::str("wait"),
        ArgDef::str("source"),
        ArgDef::str("to_source"),
        ArgDef::str("destination"),
        ArgDef::str("to_destination"),
        ArgDef::list("match"),
        ArgDef::dict("tcp_flags"),
        ArgDef::str("jump"),
        ArgDef::str("gateway"),
        ArgDef::str("log_prefix"),
        ArgDef::str("log_level").choices(&[
            "0", "1", "2", "3", "4", "5", "6", "7", "emerg", "alert", "crit", "error", "warning",
            "notice", "info", "debug",
        ]),
        ArgDef::str("goto"),
        ArgDef::str("in_interface"),
        ArgDef::str("out_interface"),
        ArgDef::str("fragment"),
        ArgDef::str("set_counters"),
        ArgDef::str("source_port"),
        ArgDef::str("destination_port"),
        ArgDef::list("destination_ports"),
        ArgDef::str("to_ports"),
        ArgDef::str("set_dscp_mark"),
        ArgDef::str("set_dscp_mark_class"),
        ArgDef::str("comment"),
        ArgDef::list("ctstate"),
        ArgDef::str("src_range"),
        ArgDef::str("dst_range"),
        ArgDef::str("match_set"),
        ArgDef::str("match_set_flags").choices(&["src", "dst", "src,dst", "dst,src", "src,src", "dst,dst"]),
        ArgDef::str("limit"),
        ArgDef::str("limit_burst"),
        ArgDef::str("uid_owner"),
        ArgDef::str("gid_owner"),
        ArgDef::str("reject_with"),
        ArgDef::str("icmp_type"),
        ArgDef::str("syn").choices(&["ignore", "match", "negate"]),
        ArgDef::bool("flush"),
        ArgDef::str("policy").choices(&["ACCEPT", "DROP", "QUEUE", "RETURN"]),
        ArgDef::bool("chain_management"),
        ArgDef::bool("numeric"),
    ])
    .exclusive(&[&["set_dscp_mark", "set_dscp_mark_class"], &["flush", "policy"]]),
    plan = plan,
    apply = apply
);

/// Why a task goes to the Python path.
type Handover = String;

/// A `type='str'` value as the module sees it; lists and mappings go to the Python path.
fn text(a: &Args<'_>, name: &str) -> Result<Option<String>, Handover> {
    match a.value(name) {
        None => Ok(None),
        Some(Value::Array(_) | Value::Object(_)) => Err(format!("{name} is not a scalar")),
        Some(v) => Ok(Some(as_string(v))),
    }
}

/// ansible-core's `type='list', elements='str'` of one value: a string split on commas, a
/// number as one element.
fn py_list(name: &str, v: &Value) -> Result<Vec<String>, Handover> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Array(_) | Value::Object(_) | Value::Null => Err(format!("{name} holds a non-scalar")),
                i => Ok(as_string(i)),
            })
            .collect(),
        Value::String(s) => Ok(s.split(',').map(str::to_string).collect()),
        Value::Number(_) | Value::Bool(_) => Ok(vec![as_string(v)]),
        _ => Err(format!("{name} is not a list")),
    }
}

fn list(a: &Args<'_>, name: &str) -> Result<Vec<String>, Handover> {
    a.value(name).map_or(Ok(Vec::new()), |v| py_list(name, v))
}

/// `tcp_flags` as the module reads it after its sub-options (`flags`, `flags_set`).
fn tcp_flags(a: &Args<'_>) -> Result<Option<rule::TcpFlags>, Handover> {
    let Some(v) = a.value("tcp_flags") else {
        return Ok(None);
    };
    let Value::Object(m) = v else {
        return Err("tcp_flags is not a mapping".into());
    };
    if m.keys().any(|k| k != "flags" && k != "flags_set") {
        return Err("tcp_flags has other keys".into());
    }
    let side = |k: &str| match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => py_list(k, v).map(Some),
    };
    Ok(Some((side("flags")?, side("flags_set")?)))
}

/// Reads the task's arguments into the module's parameters (defaults applied).
fn params(a: &Args<'_>) -> Result<Result<Params, Handover>, ModuleError> {
    let choice =
        |n: &str, d: &str| -> Result<String, ModuleError> { Ok(a.choice(n)?.unwrap_or_else(|| d.into())) };
    let (table, ip_version, syn) = (
        choice("table", "filter")?,
        choice("ip_version", "ipv4")?,
        choice("syn", "ignore")?,
    );
    let (log_level, match_set_flags) = (a.choice("log_level")?, a.choice("match_set_flags")?);
    let numeric = a.bool("numeric", false)?;
    let read = || -> Result<Params, Handover> {
        Ok(Params {
            table,
            ip_version,
            syn,
            log_level,
            match_set_flags,
            numeric,
            chain: text(a, "chain")?,
            rule_num: text(a, "rule_num")?,
            wait: text(a, "wait")?,
            protocol: text(a, "protocol")?,
            source: text(a, "source")?,
            destination: text(a, "destination")?,
            to_source: text(a, "to_source")?,
            to_destination: text(a, "to_destination")?,
            matches: list(a, "match")?,
            tcp_flags: tcp_flags(a)?,
            jump: text(a, "jump")?,
            gateway: text(a, "gateway")?,
            log_prefix: text(a, "log_prefix")?,
            goto: text(a, "goto")?,
            in_interface: text(a, "in_interface")?,
            out_interface: text(a, "out_interface")?,
            fragment: text(a, "fragment")?,
            set_counters: text(a, "set_counters")?,
            source_port: text(a, "source_port")?,
            destination_port: text(a, "destination_port")?,
            destination_ports: list(a, "destination_ports")?,
            to_ports: text(a, "to_ports")?,
            set_dscp_mark: text(a, "set_dscp_mark")?,
            set_dscp_mark_class: text(a, "set_dscp_mark_class")?,
            comment: text(a, "comment")?,
            ctstate: list(a, "ctstate")?,
            src_range: text(a, "src_range")?,
            dst_range: text(a, "dst_range")?,
            match_set: text(a, "match_set")?,
            limit: text(a, "limit")?,
            limit_burst: text(a, "limit_burst")?,
            uid_owner: text(a, "uid_owner")?,
            gid_owner: text(a, "gid_owner")?,
            reject_with: text(a, "reject_with")?,
            icmp_type: text(a, "icmp_type")?,
        })
    };
    Ok(read())
}

/// The module's `required_if` and `required_by` failures, in its order.
fn requirement_failure(p: &Params, flush: bool, set: impl Fn(&str) -> bool) -> Option<String> {
    for val in ["TEE", "tee"] {
        if p.jump.as_deref() == Some(val) && !set("gateway") {
            return Some(format!(
                "jump is {val} but all of the following are missing: gateway"
            ));
        }
    }
    if !flush && !set("chain") {
        return Some("flush is False but all of the following are missing: chain".into());
    }
    for key in ["set_dscp_mark", "set_dscp_mark_class"] {
        if set(key) && p.jump.is_none() {
            return Some(format!("missing parameter(s) required by '{key}': jump"));
        }
    }
    None
}

/// What the module does on each program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Branch {
    Flush,
    Policy,
    ChainAbsent,
    ChainPresent,
    Rule,
}

/// The read command of `branch` (`None`: the branch reads nothing).
fn read_cmd(branch: Branch, bin: &str, p: &Params) -> Option<Vec<String>> {
    match branch {
        Branch::Flush => None,
        Branch::Policy | Branch::ChainAbsent | Branch::ChainPresent => Some(rule::list_chain(bin, p)),
        Branch::Rule => rule::push_arguments(bin, "-C", p, true),
    }
}

/// A value ansible-core's `run_command` would expand on the host (`expandvars`,
/// `expanduser`).
fn expands(arg: &str) -> bool {
    arg.contains('$') || arg.starts_with('~')
}

/// The script line that runs program `i`'s read command `cmd` (its path in `$B{i}`).
fn read_line(i: usize, cmd: &[String]) -> String {
    format!(
        "step r{i} \"$B{i}\" {}\n",
        quote::join(cmd.get(1..).unwrap_or_default())
    )
}

/// What [`apply`] runs.
#[derive(Debug)]
pub struct Work {
    cmds: Vec<Vec<String>>,
    /// The failure a later program's read gave, reported once the earlier changes are made.
    then: Option<ModuleOutcome>,
}

/// Reads the host and decides as the module's `main`: the branch per program, `changed`, and
/// the commands that make the change; the module's results (`ip_version`, `table`, `chain`,
/// `flush`, `rule`, `state`, `chain_management`, `wait`) and failures.
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`];
/// those of the Python path for the cases it runs.
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<Work>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let handover = |why: String| async move {
        fallback::python_path(FQCN, "iptables", args, ctx, &why)
            .await
            .map(Plan::Done)
    };
    let state = a.choice("state")?.unwrap_or_else(|| "present".into());
    let insert = a.choice("action")?.as_deref() == Some("insert");
    let flush = a.bool("flush", false)?;
    let chain_management = a.bool("chain_management", false)?;
    let policy = a.choice("policy")?;
    let mut p = match params(&a)? {
        Ok(p) => p,
        Err(why) => return handover(why).await,
    };
    if let Some(msg) = requirement_failure(&p, flush, |k| a.value(k).is_some()) {
        return Ok(Plan::Done(ModuleOutcome::failed(msg)));
    }
    let Some(rule_args) = rule::construct_rule(&p) else {
        return handover("ansible-core's module raises on these arguments".into()).await;
    };
    let rule_text = rule_args.join(" ");
    let result = |changed: bool| {
        ModuleOutcome::changed(changed)
            .with("ip_version", p.ip_version.as_str())
            .with("table", p.table.as_str())
            .with("chain", p.chain.clone().map_or(Value::Null, Value::from))
            .with("flush", flush)
            .with("rule", rule_text.as_str())
            .with("state", state.as_str())
            .with("chain_management", chain_management)
            .with("wait", p.wait.clone().map_or(Value::Null, Value::from))
    };
    let branch = if flush {
        Branch::Flush
    } else if policy.as_deref().is_some_and(|s| !s.is_empty()) {
        Branch::Policy
    } else if rule_text.is_empty() {
        if state == "absent" {
            Branch::ChainAbsent
        } else {
            Branch::ChainPresent
        }
    } else {
        Branch::Rule
    };
    let tools: &[&str] = match p.ip_version.as_str() {
        "ipv6" => &["ip6tables"],
        "both" => &["iptables", "ip6tables"],
        _ => &["iptables"],
    };
    // The module sets `jump: LOG` for logging options before its first command.
    let logging = [&p.log_prefix, &p.log_level]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| !s.is_empty()));
    let log_failure = match (&p.jump, logging) {
        (None, true) => {
            p.jump = Some("LOG".into());
            false
        }
        (Some(j), true) => j != "LOG",
        _ => false,
    };
    let mut all = rule::construct_rule(&p).unwrap_or_default();
    all.extend([p.table.clone(), p.chain.clone().unwrap_or_default()]);
    all.extend(p.wait.clone().into_iter().chain(p.rule_num.clone()));
    if let Some(arg) = all.iter().find(|s| expands(s)) {
        return handover(format!("run_command would expand {arg:?} on the host")).await;
    }

    // Programs (all found first, as the module), versions, and the reads with `wait` as
    // given (the iptables of today keep it).
    let m = sysutil::marker();
    let mut script = format!(
        "M=$1\n{}{}{}",
        sysutil::tools_probe(&[]),
        sysutil::STEP_FN,
        sysutil::BIN_PATH_FN
    );
    for (i, t) in tools.iter().enumerate() {
        script.push_str(&format!(
            "B{i}=$(binpath {t}) || {{ printf '%s missing\\n{t}\\n' \"$M\"; exit 0; }}\n"
        ));
    }
    for i in 0..tools.len() {
        script.push_str(&format!(
            "printf '%s bin\\n%s\\n' \"$M\" \"$B{i}\"\nstep v{i} \"$B{i}\" --version\n"
        ));
        if let Some(cmd) = read_cmd(branch, "", &p) {
            script.push_str(&read_line(i, &cmd));
        }
    }
    let out = sysutil::run_script(ctx, &script, std::slice::from_ref(&m), None).await?;
    let text_out = out.stdout_str();
    let secs = sysutil::sections(&text_out, &m);
    if let Some(tool) = sysutil::section(&secs, "missing") {
        let msg = sysutil::missing_tool(&secs, tool.trim()).unwrap_or_default();
        return Ok(Plan::Done(ModuleOutcome::failed(msg)));
    }
    let bins: Vec<String> = secs
        .iter()
        .filter(|(n, _)| *n == "bin")
        .map(|(_, b)| b.trim_end_matches('\n').to_string())
        .collect();
    if bins.len() != tools.len() {
        return Ok(Plan::Done(ModuleOutcome::failed(format!(
            "cannot read iptables on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        ))));
    }
    if log_failure {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "Logging options can only be used with the LOG jump target.",
        )));
    }
    // `wait` as each program's version has it (the module changes it program by program).
    let mut waits = Vec::new();
    let mut wait = p.wait.clone();
    for (i, bin) in bins.iter().enumerate() {
        let Some(v) = sysutil::step(&secs, &format!("v{i}")) else {
            return Ok(Plan::Done(ModuleOutcome::failed(
                "iptables --version did not run",
            )));
        };
        if v.rc != 0 {
            let cmd = vec![bin.clone(), "--version".into()];
            return Ok(Plan::Done(sysutil::command_failure(&cmd, &v)));
        }
        let Some(w) = rule::version_text(&v.out).and_then(|t| rule::wait_for_version(&t, wait.clone()))
        else {
            return handover(format!("iptables --version printed {:?}", v.out)).await;
        };
        wait = w;
        waits.push(wait.clone());
    }
    let mut read_steps: Vec<Option<sysutil::Step>> = (0..bins.len())
        .map(|i| sysutil::step(&secs, &format!("r{i}")))
        .collect();
    if waits.iter().any(|w| *w != p.wait) && truthy(&p.wait) && branch != Branch::Flush {
        // An older iptables: read again without `-w` or with an empty one.
        let mut s = format!("M=$1\n{}", sysutil::STEP_FN);
        for (i, bin) in bins.iter().enumerate() {
            let q = Params {
                wait: waits[i].clone(),
                ..p.clone()
            };
            s.push_str(&format!("B{i}={}\n", quote::quote(bin)));
            if let Some(cmd) = read_cmd(branch, bin, &q) {
                s.push_str(&read_line(i, &cmd));
            }
        }
        let out = sysutil::run_script(ctx, &s, std::slice::from_ref(&m), None).await?;
        let t = out.stdout_str();
        let secs = sysutil::sections(&t, &m);
        read_steps = (0..bins.len())
            .map(|i| sysutil::step(&secs, &format!("r{i}")))
            .collect();
    }

    let mut changed = false;
    let mut cmds = Vec::new();
    for (i, bin) in bins.iter().enumerate() {
        let q = Params {
            wait: waits[i].clone(),
            ..p.clone()
        };
        let read = read_steps[i].clone();
        if branch != Branch::Flush && read.is_none() {
            return Ok(Plan::Done(ModuleOutcome::failed(format!(
                "cannot read iptables on {}: the read command did not run",
                ctx.host
            ))));
        }
        let present = read.as_ref().is_some_and(|s| s.rc == 0);
        let cmd = |action: &str, rule: bool| rule::push_arguments(bin, action, &q, rule).unwrap_or_default();
        match branch {
            Branch::Flush => {
                changed = true;
                cmds.push(cmd("-F", false));
            }
            Branch::Policy => {
                let Some(s) = read else { continue };
                let want = policy.clone().unwrap_or_default();
                let failure = if s.rc != 0 {
                    Some(sysutil::command_failure(&rule::list_chain(bin, &q), &s))
                } else if let Some(current) = rule::chain_policy(&s.out) {
                    if current != want {
                        changed = true;
                        let mut c = cmd("-P", false);
                        c.push(want);
                        cmds.push(c);
                    }
                    None
                } else {
                    Some(ModuleOutcome::failed("Can't detect current policy"))
                };
                if let Some(f) = failure {
                    if cmds.is_empty() {
                        return Ok(Plan::Done(f));
                    }
                    return Ok(Plan::Change(f.clone(), Work { cmds, then: Some(f) }));
                }
            }
            Branch::ChainAbsent => {
                changed |= present;
                if present && chain_management {
                    cmds.push(cmd("-X", false));
                }
            }
            Branch::ChainPresent => {
                changed |= !present;
                if !present && chain_management {
                    cmds.push(cmd("-N", false));
                }
            }
            Branch::Rule => {
                let should = state == "present";
                if present != should {
                    changed = true;
                    let action = match (should, insert) {
                        (false, _) => "-D",
                        (true, true) => "-I",
                        (true, false) => "-A",
                    };
                    cmds.push(cmd(action, true));
                }
            }
        }
    }
    let o = result(changed);
    if cmds.is_empty() {
        return Ok(Plan::Done(o));
    }
    Ok(Plan::Change(o, Work { cmds, then: None }))
}

fn truthy(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

/// Runs the changes in the module's order, stopping at the first that fails with
/// `run_command`'s failure (`cmd`, `rc`, `stdout`, `stderr`, `msg`).
///
/// Errors: [`ModuleError::Transport`] when the host connection broke.
pub async fn apply(
    w: Work,
    planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let m = sysutil::marker();
    let mut script = format!("M=$1\n{}", sysutil::STEP_FN);
    for (i, c) in w.cmds.iter().enumerate() {
        script.push_str(&format!("step c{i} {} || exit 0\n", quote::join(c)));
    }
    let out = sysutil::run_script(ctx, &script, std::slice::from_ref(&m), None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    for (i, c) in w.cmds.iter().enumerate() {
        match sysutil::step(&secs, &format!("c{i}")) {
            Some(s) if s.rc == 0 => {}
            Some(s) => return Ok(sysutil::command_failure(c, &s)),
            None => {
                return Ok(ModuleOutcome::failed(format!(
                    "cannot change iptables on {} ({}): {}",
                    ctx.host,
                    out.status,
                    out.stderr_str().trim()
                )));
            }
        }
    }
    Ok(w.then.unwrap_or(planned))
}
