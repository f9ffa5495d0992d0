//! Lookups of names the controller knows: `env` (its environment), `vars` and `varnames` (the
//! task's variables), `inventory_hostnames` (hosts of the inventory, by host pattern).

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::Call;
use crate::template::filters::{compile_regex, err, str_of};

/// `env`, as ansible.builtin.env: each term's first word is a variable of talon's environment
/// (variables given as `--secret-env` read as unset); unset, the `default` option (any value;
/// `''` without one).
pub(super) fn env(call: &Call) -> Result<Vec<Value>, Error> {
    call.opts.allow("env", &["default"])?;
    let default = call.opts.get("default").cloned().unwrap_or(Value::from(""));
    call.flat_terms()?
        .iter()
        .map(|t| {
            let term = str_of(t);
            let var = term
                .split_whitespace()
                .next()
                .ok_or_else(|| err("list index out of range"))?;
            Ok(crate::osenv::env_var(var).map_or_else(|| default.clone(), Value::from))
        })
        .collect()
}

/// `vars`, as ansible.builtin.vars: each term names a variable (templated when read); a
/// missing one is the `default` option, else "No variable found with this name: NAME".
pub(super) fn vars(call: &Call) -> Result<Vec<Value>, Error> {
    call.opts.allow("vars", &["default"])?;
    call.flat_terms()?
        .iter()
        .map(|t| {
            if t.kind() != ValueKind::String {
                return Err(err(format!(
                    "Invalid setting identifier, \"{}\" is not a string, its a {}",
                    str_of(t),
                    crate::template::filters::type_name(t)
                )));
            }
            let key = str_of(t);
            match call.var(&key)? {
                Some(v) => Ok(v),
                None => match call.opts.get("default") {
                    Some(d) => Ok(d.clone()),
                    None => Err(Error::new(
                        ErrorKind::UndefinedError,
                        format!("No variable found with this name: {key}"),
                    )),
                },
            }
        })
        .collect()
}

/// `varnames`, as ansible.builtin.varnames: the names of the task's variables that each term
/// (a regular expression, searched anywhere in the name) matches, in the scope's order.
pub(super) fn varnames(call: &Call) -> Result<Vec<Value>, Error> {
    call.opts.allow("varnames", &[])?;
    let names: Vec<&String> = call
        .scope
        .ctx
        .vars
        .keys()
        .filter(|k| !k.starts_with("__talon"))
        .collect();
    let mut ret = Vec::new();
    for t in call.flat_terms()? {
        if t.kind() != ValueKind::String {
            return Err(err(format!(
                "Invalid setting identifier, \"{}\" is not a string, it is a {}",
                str_of(&t),
                crate::template::filters::type_name(&t)
            )));
        }
        let term = str_of(&t);
        let re = compile_regex(&term, false, false)
            .map_err(|e| err(format!("Unable to use \"{term}\" as a search parameter: {e}")))?;
        for n in names.iter() {
            if re
                .is_match(n)
                .map_err(|e| crate::template::filters::regex_run_err(&re, e))?
            {
                ret.push(Value::from(n.as_str()));
            }
        }
    }
    Ok(ret)
}

/// `inventory_hostnames`, as ansible.builtin.inventory_hostnames: the hosts the terms (host
/// patterns: groups, globs, `~regex`, `&`, `!`, subscripts) select from the `groups` variable,
/// in inventory order; a pattern ansible-core cannot evaluate selects nothing.
pub(super) fn inventory_hostnames(call: &Call) -> Result<Vec<Value>, Error> {
    let groups = match call.var("groups")? {
        Some(g) => crate::template::scope::to_json(&g)?,
        None => {
            return Err(err(
                "'groups' is undefined: inventory_hostnames needs the inventory",
            ));
        }
    };
    let Some(groups) = groups.as_object() else {
        return Err(err("'groups' is not a mapping of group names to hosts"));
    };
    let patterns: Vec<String> = call.flat_terms()?.iter().map(str_of).collect();
    let inv = crate::inventory::Inventory::from_groups(groups);
    Ok(inv
        .select_all(&patterns)
        .unwrap_or_default()
        .into_iter()
        .map(Value::from)
        .collect())
}
