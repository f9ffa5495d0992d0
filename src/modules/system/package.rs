//! `package`: the generic package module, as ansible-core 2.19's `package` action plugin: it
//! picks the host's package manager and runs that manager's module with the task's arguments,
//! all but `use`, unread (so an argument the manager's module does not take fails there, in its
//! words). talon runs the `apt` backend natively ([`super::apt`]); any other backend runs
//! through the Python path (ansible-core's own module code on the host).
//!
//! The backend ([`choose`]): `use` unless it is `auto`; else the `ansible_package_use` variable;
//! else the host's `pkg_mgr` fact when facts were gathered; else `pkg_mgr` detected on the host
//! in one round trip ([`crate::runner::facts::detect_pkg_mgr`]; ansible-core runs `setup` for
//! `ansible_pkg_mgr`, and keeps the answer no more than talon does). Under `delegate_to` the
//! host is the delegated one (its facts, detection on its connection) and
//! `ansible_package_use` comes from the task's own `vars:` only, as ansible-core's package
//! action reads them.

use serde_json::Value;

use super::apt;
use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::vars::{Vars, as_string};

crate::module_info!(
    /// `package` in the registry: `name` (alias `pkg`; a list or a comma-separated string),
    /// `state`, `use` (default `auto`); any other argument passes through to the backend.
    INFO,
    "package",
    ArgSpec::new(&[
        ArgDef::list("name").aliases(&["pkg"]),
        ArgDef::str("state"),
        ArgDef::str("use"),
    ])
    .passthrough(),
    run
);

/// Where the backend comes from before the host is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// This module name, from `use`, `ansible_package_use` or the `pkg_mgr` fact.
    Module(String),
    /// Nothing names it: detect `pkg_mgr` on the host.
    Detect,
}

/// Chooses the backend as ansible-core 2.19's package action: `use_arg` (`auto` when not
/// given) unless it is `auto`; then `ansible_package_use` when it is set and not empty; then the
/// `pkg_mgr` fact when it is set and not empty; else [`Choice::Detect`].
pub fn choose(use_arg: &str, package_use: Option<&str>, fact: Option<&str>) -> Choice {
    if use_arg != "auto" {
        return Choice::Module(use_arg.to_string());
    }
    match (package_use, fact) {
        (Some(u), _) if !u.is_empty() => Choice::Module(u.to_string()),
        (_, Some(f)) if !f.is_empty() => Choice::Module(f.to_string()),
        _ => Choice::Detect,
    }
}

/// Why the package action cannot run a backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    /// The backend is empty or `auto` after the choice (ansible-core's words).
    #[error(
        "Could not detect which package manager to use. Try gathering facts or setting the \"use\" option."
    )]
    Undetected,
    /// The host's `pkg_mgr` is `unknown`: no module stands for it (ansible-core's words).
    #[error("Could not find a matching action for the \"{0}\" package manager.")]
    NoAction(String),
    /// A package manager whose module talon does not run natively (only apt is); it goes
    /// through the Python path, and this names it when that cannot run it.
    #[error("package: the \"{0}\" package manager's module cannot run")]
    NotNative(String),
}

/// The module a backend name runs: the name ansible-core gives apt in its messages
/// (`ansible.legacy.apt` for `apt`, as it prefixes its own package managers' modules; an FQCN as
/// given).
///
/// Errors: [`PackageError`] for an empty or `auto` backend, `unknown`, or any manager but apt.
pub fn backend(name: &str) -> Result<&'static str, PackageError> {
    match name {
        "apt" | "ansible.legacy.apt" => Ok("ansible.legacy.apt"),
        "ansible.builtin.apt" => Ok("ansible.builtin.apt"),
        "" | "auto" => Err(PackageError::Undetected),
        "unknown" => Err(PackageError::NoAction(name.to_string())),
        other => Err(PackageError::NotNative(other.to_string())),
    }
}

/// Runs ansible.builtin.package: chooses the backend ([`choose`]; one round trip when it must
/// be detected), then runs apt with the arguments minus `use`. The result, check mode and diff
/// are apt's; apt's "Unsupported parameters" message names the module as ansible-core's does
/// (`ansible.legacy.apt`).
///
/// Errors: what apt returns; [`ModuleError::Template`] when `ansible_package_use` does not
/// render; [`ModuleError::Transport`] when detection cannot reach the host. A backend talon
/// does not run is a failed outcome ([`PackageError`]).
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let use_arg = a.str("use")?.unwrap_or_else(|| "auto".to_string());
    let package_use = match ctx.delegation {
        // Under delegate_to, ansible-core's package action reads `ansible_package_use` from the
        // task's own `vars:` only (as written, not templated) and the delegated host's facts.
        Some(d) => d
            .task_vars
            .get("ansible_package_use")
            .map(|v| if v.is_null() { String::new() } else { as_string(v) }),
        None => match ctx.scope.vars.get("ansible_package_use") {
            Some(_) => Some(
                ctx.templater
                    .eval_expr("ansible_package_use", ctx.scope)
                    .map(|v| if v.is_null() { String::new() } else { as_string(&v) })
                    .map_err(|e| ModuleError::Template(format!("ansible_package_use: {}", e.message)))?,
            ),
            None => None,
        },
    };
    let fact = ctx
        .target_scope()
        .vars
        .get("ansible_facts")
        .and_then(|f| f.get("pkg_mgr"))
        .and_then(Value::as_str);
    let name = match choose(&use_arg, package_use.as_deref(), fact) {
        Choice::Module(m) => m,
        Choice::Detect => crate::runner::facts::detect_pkg_mgr(ctx.conn).await?,
    };
    let module = match backend(&name) {
        Ok(m) => m,
        Err(PackageError::NotNative(other)) => return through_python(&other, args, ctx).await,
        Err(e) => return Ok(ModuleOutcome::failed(e.to_string())),
    };
    let mut apt_args = args.clone();
    apt_args.remove("use");
    crate::modules::expand_user_paths(&apt::INFO, &mut apt_args, ctx).await?;
    match (apt::INFO.run)(&apt_args, ctx).await {
        Err(ModuleError::Unsupported { names, supported, .. }) => Err(ModuleError::Unsupported {
            module,
            names,
            supported,
        }),
        other => other,
    }
}

/// A backend talon does not run natively (`dnf`, `zypper`, ...) runs through the Python path
/// ([`crate::modules::python`]) as `ansible.legacy.NAME` (an FQCN as given), as ansible-core's
/// package action names its own managers' modules; the task fails naming the backend and why
/// when ansible-core cannot run it.
async fn through_python(
    name: &str,
    args: &Vars,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let fqcn = if name.contains('.') {
        name.to_string()
    } else {
        format!("ansible.legacy.{name}")
    };
    let lookup = fqcn.clone();
    let resolved = tokio::task::spawn_blocking(move || crate::modules::python::resolve_module(&lookup)).await;
    let module = match resolved {
        Ok(Ok(m)) => m,
        Ok(Err(why)) => {
            return Ok(ModuleOutcome::failed(format!(
                "{} ({why})",
                PackageError::NotNative(name.to_string())
            )));
        }
        Err(e) => return Ok(ModuleOutcome::failed(format!("package: {fqcn}: {e}"))),
    };
    let mut backend_args = args.clone();
    backend_args.remove("use");
    crate::modules::python::run(&module, &backend_args, ctx).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_is_chosen_as_ansible_core_chooses_it() {
        let m = |s: &str| Choice::Module(s.to_string());
        // `use` wins over everything, even over facts and the variable.
        assert_eq!(choose("apt", Some("dnf"), Some("dnf")), m("apt"));
        assert_eq!(choose("dnf", None, Some("apt")), m("dnf"));
        // auto: the variable, then the fact, then the host.
        assert_eq!(choose("auto", Some("apt"), Some("dnf")), m("apt"));
        assert_eq!(choose("auto", Some(""), Some("apt")), m("apt"));
        assert_eq!(choose("auto", None, Some("apt")), m("apt"));
        assert_eq!(choose("auto", None, Some("")), Choice::Detect);
        assert_eq!(choose("auto", None, None), Choice::Detect);
        // The variable set to auto is not looked through (ansible-core then cannot decide).
        assert_eq!(choose("auto", Some("auto"), Some("apt")), m("auto"));
    }

    #[test]
    fn apt_is_the_native_backend_and_others_are_named() {
        assert_eq!(backend("apt"), Ok("ansible.legacy.apt"));
        assert_eq!(backend("ansible.legacy.apt"), Ok("ansible.legacy.apt"));
        assert_eq!(backend("ansible.builtin.apt"), Ok("ansible.builtin.apt"));
        assert_eq!(backend("auto"), Err(PackageError::Undetected));
        assert_eq!(backend(""), Err(PackageError::Undetected));
        let e = backend("unknown").unwrap_err().to_string();
        assert_eq!(
            e,
            "Could not find a matching action for the \"unknown\" package manager."
        );
        let e = backend("dnf").unwrap_err().to_string();
        assert!(e.contains("\"dnf\" package manager"), "{e}");
    }
}
