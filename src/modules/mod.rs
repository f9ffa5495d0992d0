//! Modules: the units of work a task names (`copy`, `file`, `command`, ...).
//!
//! Each module runs on the controller and drives the host through [`crate::transport`]
//! primitives, so the host needs no Python. Every module first computes what it would change
//! (the plan), stops there in check mode, and otherwise applies the plan: modules written as
//! [`Plan`] and apply leave the stop to [`converge`]; modules whose one round trip checks and
//! writes at once (copy, template, file, the line editors, command) converge by themselves.
//! Results (changed/ok,
//! `rc`, `stdout`, `stat`, ...) follow the matching `ansible.builtin` module so that `register`ed
//! values and changed counts are the same as with `ansible-playbook`.

pub mod args;
pub mod control;
pub mod docker;
pub mod fallback;
pub mod files;
pub mod git;
pub mod mode;
pub mod net;
pub mod python;
pub mod spec;
pub mod system;
pub mod sysutil;

use std::path::PathBuf;

use serde_json::Value;

use crate::template::{Scope, Templater};
use crate::transport::{Become, Connection, TransportError};
use crate::vars::Vars;

/// Everything a module may use while it runs on one host.
pub struct ModuleContext<'a> {
    /// The host's connection.
    pub conn: &'a Connection,
    /// Inventory name of the host (for messages).
    pub host: &'a str,
    /// `--check`: plan only, change nothing.
    pub check: bool,
    /// `--diff`: fill [`ModuleOutcome::diff`].
    pub diff: bool,
    /// `become` for this task, if any.
    pub become_: Option<Become>,
    /// The task's variables (for the `template` module and `debug: var=`).
    pub scope: &'a Scope,
    /// The template engine.
    pub templater: &'a Templater,
    /// Where a relative `src` is looked up, in order: the role's `files/` or `templates/`,
    /// the role dir, the playbook dir. The module picks the sub-folder it needs.
    pub search_paths: &'a [PathBuf],
    /// The task's `environment:` (merged from play, blocks and task), for commands it runs.
    pub env: &'a [(String, String)],
    /// The run's secrets: modules that deliver content reveal markers with it, on stdin only
    /// (`&crate::secrets::NONE` outside a run).
    pub secrets: &'a crate::secrets::SecretStore,
    /// Under `delegate_to`: the host the task runs on and its variables; `None` otherwise.
    pub delegation: Option<Delegation<'a>>,
}

/// The host a delegated task runs on (`delegate_to`), for what depends on that host rather
/// than on the task's own host: the Python interpreter and `package`'s backend, as ansible-core's
/// action plugins read `ansible_delegated_vars` / `hostvars[delegate_to]` for them.
#[derive(Clone, Copy)]
pub struct Delegation<'a> {
    /// The delegated host's inventory name.
    pub host: &'a str,
    /// Its variables as ansible-core gives them to a delegated task (its inventory variables,
    /// facts and `set_fact` values with the play's and the task's variables).
    pub scope: &'a Scope,
    /// The task's own `vars:` (the package action reads `ansible_package_use` only there under
    /// delegation).
    pub task_vars: &'a Vars,
    /// `delegate_facts: true`: facts the module returns are the delegated host's.
    pub delegate_facts: bool,
}

impl ModuleContext<'_> {
    /// The inventory name of the host the task runs on: the delegated host under
    /// `delegate_to`, else the task's own host.
    pub fn target(&self) -> &str {
        self.delegation.map_or(self.host, |d| d.host)
    }

    /// The variables of the host the task runs on (the delegated host's under `delegate_to`,
    /// else the task's scope): where the Python interpreter and other per-host settings are read.
    pub fn target_scope(&self) -> &Scope {
        self.delegation.map_or(self.scope, |d| d.scope)
    }
}

/// One file change shown by `--diff`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FileDiff {
    /// Label of the old side (usually the path).
    pub before_header: String,
    /// Label of the new side.
    pub after_header: String,
    /// Old content (or attribute summary).
    pub before: String,
    /// New content (or attribute summary).
    pub after: String,
    /// The same change as keys of the `diff` dict ansible.builtin.file registers (`state`,
    /// `mode`, `owner`, ...); empty for a content diff.
    #[serde(skip)]
    pub fields: Vec<DiffField>,
}

/// One key of the `{"before": {...}, "after": {...}}` diff ansible.builtin.file registers:
/// `state` and `mode` as strings (`"0644"`), `owner`/`group` as ids (a name is resolved on the
/// host before it is registered), `atime`/`mtime` as float seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffField {
    /// The key (`state`, `mode`, `owner`, `group`, `atime`, `mtime`).
    pub key: &'static str,
    /// The old value.
    pub before: Value,
    /// The new value.
    pub after: Value,
}

/// The result of one module run on one host.
#[derive(Debug, Clone, Default)]
pub struct ModuleOutcome {
    /// The host was (or in check mode would be) changed.
    pub changed: bool,
    /// The module failed (Ansible's `failed: true`); `msg` says why.
    pub failed: bool,
    /// The module skipped itself (e.g. `command` with `creates` that exists is *not* a skip in
    /// Ansible: it is ok; this is for modules that really skip).
    pub skipped: bool,
    /// Human-readable message.
    pub msg: Option<String>,
    /// Diffs for `--diff`.
    pub diff: Vec<FileDiff>,
    /// Module-specific result fields, as `register` exposes them (`rc`, `stdout`, `stat`, ...).
    pub result: Vars,
}

impl ModuleOutcome {
    /// An ok (unchanged) outcome.
    pub fn ok() -> Self {
        Self::default()
    }
    /// An outcome with `changed` as given.
    pub fn changed(changed: bool) -> Self {
        ModuleOutcome {
            changed,
            ..Self::default()
        }
    }
    /// A failed outcome with a message.
    pub fn failed(msg: impl Into<String>) -> Self {
        ModuleOutcome {
            failed: true,
            msg: Some(msg.into()),
            ..Self::default()
        }
    }
    /// Adds a module warning, as ansible-core's `module.warn`: listed in the result's
    /// `warnings` and printed as `[WARNING]: ...` before the task's result line.
    pub fn warn(mut self, message: impl Into<String>) -> Self {
        let message = Value::String(message.into());
        match self.result.get_mut("warnings") {
            Some(Value::Array(list)) => list.push(message),
            _ => {
                self.result.insert("warnings".into(), Value::Array(vec![message]));
            }
        }
        self
    }
    /// Adds a result field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.result.insert(key.to_string(), value.into());
        self
    }
}

/// Why a module could not do its job (beyond a normal `failed` outcome).
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// Arguments that do not fit the module (unknown key, wrong type, missing required key).
    #[error("{module}: {message}")]
    BadArgs { module: &'static str, message: String },
    /// Arguments the module does not take, worded as ansible-core's `AnsibleModule` words them:
    /// `names` sorted, then what the module supports.
    #[error(
        "Unsupported parameters for ({module}) module: {names}. Supported parameters include: {supported}."
    )]
    Unsupported {
        module: &'static str,
        names: String,
        supported: String,
    },
    /// The connection broke while the module ran.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A template inside the module (the `template` module's file) failed.
    #[error("{0}")]
    Template(String),
    /// A controller-side file could not be read (`copy src`, `template src`).
    #[error("{path}: {message}")]
    LocalFile { path: PathBuf, message: String },
    /// A controller-side file was not found on the search path: the message is
    /// ansible-core's, with every place searched.
    #[error("{0}")]
    NotFound(String),
    /// A controller-side file that is too large, not a regular file, or not UTF-8.
    #[error(transparent)]
    Input(Box<crate::input::InputError>),
}

/// The future a module's run returns: boxed so that every module fits one function type.
pub type RunFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<ModuleOutcome, ModuleError>> + Send + 'a>>;

/// How a module runs: its arguments (rendered) and the host's context, to its outcome.
pub type RunFn = for<'a> fn(&'a Vars, &'a ModuleContext<'a>) -> RunFuture<'a>;

/// Everything talon knows about a module: its name, what it accepts, and how it runs. The
/// [`REGISTRY`] of these is the one table both the loader (which checks a task's arguments
/// against [`ModuleInfo::spec`]) and the runner (which calls [`ModuleInfo::run`]) use.
///
/// Adding a module: one file with its `INFO` (see [`module_info!`]) and one line in
/// [`REGISTRY`].
#[derive(Debug)]
pub struct ModuleInfo {
    /// Short name (`copy`); `ansible.builtin.copy` and `ansible.legacy.copy` map to it.
    pub name: &'static str,
    /// What the module accepts.
    pub spec: spec::ArgSpec,
    /// Runs the module on one host.
    pub run: RunFn,
}

impl ModuleInfo {
    /// A module that only has a spec (for unit tests of argument handling); it fails when run.
    #[cfg(test)]
    pub const fn test(spec: spec::ArgSpec) -> Self {
        fn never<'a>(_: &'a Vars, _: &'a ModuleContext<'a>) -> RunFuture<'a> {
            Box::pin(async {
                Err(ModuleError::BadArgs {
                    module: "test",
                    message: "a test spec does not run".into(),
                })
            })
        }
        ModuleInfo {
            name: "test",
            spec,
            run: never,
        }
    }
}

/// What a module's plan found: nothing to change, or a change still to make.
///
/// A module written as plan and apply (`module_info!`'s `plan = ..., apply = ...` form) never
/// tests `ctx.check`: check mode stops after the plan in one place, [`converge`].
#[derive(Debug)]
pub enum Plan<W> {
    /// Nothing to change (or a read-only module): the outcome as it is.
    Done(ModuleOutcome),
    /// A change: the outcome check mode reports (`changed: true`, what would be), and the work
    /// that makes it so.
    Change(ModuleOutcome, W),
}

/// Finishes a module run from its plan: a [`Plan::Done`] outcome as is; a [`Plan::Change`]
/// reported as planned in check mode (`--check`, `check_mode: true`), else applied by `apply`
/// with the work and the planned outcome. The one place check mode stops a plan-and-apply
/// module.
///
/// Errors: what `apply` returns.
pub async fn converge<W, F>(
    plan: Plan<W>,
    ctx: &ModuleContext<'_>,
    apply: impl FnOnce(W, ModuleOutcome) -> F,
) -> Result<ModuleOutcome, ModuleError>
where
    F: std::future::Future<Output = Result<ModuleOutcome, ModuleError>>,
{
    match plan {
        Plan::Done(outcome) => Ok(outcome),
        Plan::Change(planned, _) if ctx.check => Ok(planned),
        Plan::Change(planned, work) => apply(work, planned).await,
    }
}

/// Declares a module's `INFO` (a `pub static ModuleInfo`), in one of two forms:
///
/// - `module_info!(NAME, "name", SPEC, run)`: the async `run(args, ctx)` converges by itself
///   (read-only modules, and modules whose one round trip checks and writes at once; they honour
///   `ctx.check` themselves);
/// - `module_info!(NAME, "name", SPEC, plan = plan, apply = apply)`: the async
///   `plan(args, ctx) -> Result<Plan<W>, ModuleError>` finds what to change, the async
///   `apply(work, planned, ctx)` changes it; check mode stops after the plan ([`converge`]).
#[macro_export]
macro_rules! module_info {
    ($(#[$doc:meta])* $item:ident, $name:literal, $spec:expr, $run:path) => {
        $(#[$doc])*
        pub static $item: $crate::modules::ModuleInfo = $crate::modules::ModuleInfo {
            name: $name,
            spec: $spec,
            run: {
                fn entry<'a>(
                    args: &'a $crate::vars::Vars,
                    ctx: &'a $crate::modules::ModuleContext<'a>,
                ) -> $crate::modules::RunFuture<'a> {
                    Box::pin($run(args, ctx))
                }
                entry
            },
        };
    };
    ($(#[$doc:meta])* $item:ident, $name:literal, $spec:expr, plan = $plan:path, apply = $apply:path) => {
        $(#[$doc])*
        pub static $item: $crate::modules::ModuleInfo = $crate::modules::ModuleInfo {
            name: $name,
            spec: $spec,
            run: {
                fn entry<'a>(
                    args: &'a $crate::vars::Vars,
                    ctx: &'a $crate::modules::ModuleContext<'a>,
                ) -> $crate::modules::RunFuture<'a> {
                    Box::pin(async move {
                        let plan = $plan(args, ctx).await?;
                        $crate::modules::converge(plan, ctx, |work, planned| $apply(work, planned, ctx)).await
                    })
                }
                entry
            },
        };
    };
}

/// Strips `ansible.builtin.` / `ansible.legacy.` / `community.docker.` from a module name;
/// `docker_compose_v2` is talon's `docker_compose`, `systemd_service` its `systemd`; of the
/// collections, only the modules talon implements map to their short names
/// (`community.general.ini_file`, `community.general.pam_limits`, `community.general.timezone`,
/// `community.general.locale_gen`, `community.general.modprobe`, `community.general.ufw`,
/// `ansible.posix.authorized_key`,
/// `ansible.posix.sysctl`, `ansible.posix.mount`, whose short names ansible-core routes to
/// those collections): every
/// other collection name stays whole and takes the Python path.
pub fn short_name(name: &str) -> &str {
    let short = name
        .strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .or_else(|| name.strip_prefix("community.docker."))
        .unwrap_or(name);
    match short {
        // Collection modules talon implements natively, by their FQCN.
        "community.general.pam_limits" => "pam_limits",
        "community.general.ini_file" => "ini_file",
        "community.general.timezone" => "timezone",
        "community.general.locale_gen" => "locale_gen",
        "community.general.modprobe" => "modprobe",
        "community.general.ufw" => "ufw",
        // Only these ansible.posix names: the collection's other modules take the Python path.
        "ansible.posix.authorized_key" => "authorized_key",
        "ansible.posix.sysctl" => "sysctl",
        "ansible.posix.mount" => "mount",
        "docker_compose_v2" => "docker_compose",
        // ansible-core 2.19's real name for the systemd module (`systemd` redirects to it).
        "systemd_service" => "systemd",
        other => other,
    }
}

/// A native module's (or controller action's) name as ansible-core resolves it, for messages
/// that name it (`ansible.builtin.debug`, `community.general.ufw`, `ansible.posix.mount`,
/// `community.docker.docker_compose_v2`); the reverse of [`short_name`].
pub fn full_name(short: &str) -> String {
    match short {
        "pam_limits" | "ini_file" | "timezone" | "locale_gen" | "modprobe" | "ufw" => {
            format!("community.general.{short}")
        }
        "authorized_key" | "sysctl" | "mount" => format!("ansible.posix.{short}"),
        "docker_compose" => "community.docker.docker_compose_v2".into(),
        "systemd" => "ansible.builtin.systemd_service".into(),
        s if s.starts_with("docker_") => format!("community.docker.{s}"),
        s if s.contains('.') => s.to_string(),
        s => format!("ansible.builtin.{s}"),
    }
}

/// The registry: every module talon supports. Returns `None` for unknown names.
pub fn lookup(name: &str) -> Option<&'static ModuleInfo> {
    let short = short_name(name);
    REGISTRY.iter().copied().find(|m| m.name == short)
}

/// All module infos (for messages listing what is supported).
pub static REGISTRY: &[&ModuleInfo] = &[
    &system::command::INFO,
    &system::command::SHELL_INFO,
    &control::debug::INFO,
    &control::async_status::INFO,
    &control::assert::INFO,
    &control::fail::INFO,
    &control::pause::INFO,
    &control::wait_for::INFO,
    &system::apt::INFO,
    &system::apt_key::INFO,
    &system::apt_repository::INFO,
    &system::debconf::INFO,
    &system::deb822_repository::INFO,
    &system::raw::INFO,
    &system::script::INFO,
    &system::package::INFO,
    &system::package_facts::INFO,
    &system::service::INFO,
    &system::service_facts::INFO,
    &system::service::SYSTEMD_INFO,
    &system::user::INFO,
    &system::group::INFO,
    &system::known_hosts::INFO,
    &system::pam_limits::INFO,
    &net::get_url::INFO,
    &net::uri::INFO,
    &git::INFO,
    &system::ping::INFO,
    &control::validate_argument_spec::INFO,
    &system::pip::INFO,
    &system::reboot::INFO,
    &system::wait_for_connection::INFO,
    &system::getent::INFO,
    &system::authorized_key::INFO,
    &system::sysctl::INFO,
    &system::mount::INFO,
    &system::cron::INFO,
    &system::hostname::INFO,
    &system::iptables::INFO,
    &system::locale_gen::INFO,
    &system::modprobe::INFO,
    &system::timezone::INFO,
    &system::ufw::INFO,
    &files::blockinfile::INFO,
    &files::copy::INFO,
    &files::fetch::INFO,
    &files::file::INFO,
    &files::find::INFO,
    &files::ini_file::INFO,
    &files::lineinfile::INFO,
    &files::replace::INFO,
    &files::slurp::INFO,
    &files::stat::INFO,
    &files::template::INFO,
    &files::tempfile::INFO,
    &files::unarchive::INFO,
    &docker::docker_image::INFO,
    &docker::docker_compose::INFO,
    &files::secret_file::INFO,
];

/// Expands a leading `~` or `~user` in the module's `path`-typed arguments to that home folder
/// on the host, as the user the module runs as (the become user, else the connecting user),
/// as ansible-core does (`type='path'` arguments go through `os.path.expanduser` in the module;
/// copy's and template's `dest` through `_remote_expand_user`). A `~user` that names no user
/// stays as written. One round trip per new prefix; the answer is kept for the connection.
///
/// Errors: [`ModuleError::Transport`] when the host cannot be asked.
pub async fn expand_user_paths(
    info: &ModuleInfo,
    args: &mut Vars,
    ctx: &ModuleContext<'_>,
) -> Result<(), ModuleError> {
    let user = crate::transport::files::effective_user(&ctx.become_);
    for def in info.spec.args.iter().filter(|d| d.ty == spec::ArgType::Path) {
        for name in std::iter::once(&def.name).chain(def.aliases.iter()) {
            let Some(serde_json::Value::String(path)) = args.get(*name) else {
                continue;
            };
            if !path.starts_with('~') {
                continue;
            }
            let prefix = path.split('/').next().unwrap_or_default().to_string();
            let known = ctx
                .conn
                .learned()
                .lock()
                .ok()
                .and_then(|l| l.home(&user, &prefix).cloned());
            let home = match known {
                Some(h) => h,
                None => {
                    let script = r#"case $1 in "~") printf '%s' "$HOME" ;; *) getent passwd -- "${1#"~"}" | cut -d: -f6 | tr -d '\n' ;; esac"#;
                    let out = sysutil::run_script(ctx, script, std::slice::from_ref(&prefix), None).await?;
                    let home = if out.status.success() {
                        out.stdout_str().to_string()
                    } else {
                        String::new()
                    };
                    if let Ok(mut l) = ctx.conn.learned().lock() {
                        l.learn_home(&user, &prefix, home.clone());
                    }
                    home
                }
            };
            if !home.is_empty() {
                let expanded = format!("{home}{}", &path[prefix.len()..]);
                args.insert((*name).to_string(), serde_json::Value::String(expanded));
            }
        }
    }
    Ok(())
}

/// Runs module `name` with rendered `args` on the context's host.
///
/// Errors: [`ModuleError::BadArgs`] when the module is unknown or the args do not fit;
/// [`ModuleError::Transport`] when the host connection broke. A module that ran and failed
/// returns `Ok` with `failed: true`.
pub async fn run(name: &str, args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    match lookup(name) {
        Some(info) => (info.run)(args, ctx).await,
        None => Err(ModuleError::BadArgs {
            module: "talon",
            message: format!("module {name} is not implemented"),
        }),
    }
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    #[test]
    fn fqcns_and_ansible_core_names_reach_the_native_modules() {
        assert_eq!(
            lookup("ansible.builtin.systemd_service").map(|m| m.name),
            Some("systemd")
        );
        assert_eq!(lookup("systemd_service").map(|m| m.name), Some("systemd"));
        assert_eq!(lookup("ansible.legacy.copy").map(|m| m.name), Some("copy"));
        assert_eq!(
            lookup("community.docker.docker_compose_v2").map(|m| m.name),
            Some("docker_compose")
        );
        assert_eq!(lookup("ansible.builtin.replace").map(|m| m.name), Some("replace"));
        assert_eq!(
            lookup("community.general.ini_file").map(|m| m.name),
            Some("ini_file")
        );
        assert_eq!(lookup("ini_file").map(|m| m.name), Some("ini_file"));
        assert_eq!(
            lookup("community.general.timezone").map(|m| m.name),
            Some("timezone")
        );
        assert_eq!(
            lookup("community.general.locale_gen").map(|m| m.name),
            Some("locale_gen")
        );
        assert_eq!(
            lookup("ansible.builtin.iptables").map(|m| m.name),
            Some("iptables")
        );
        assert_eq!(lookup("community.general.ufw").map(|m| m.name), Some("ufw"));
        assert_eq!(lookup("ansible.builtin.pip").map(|m| m.name), Some("pip"));
        assert_eq!(lookup("ansible.builtin.git").map(|m| m.name), Some("git"));
        assert_eq!(
            lookup("ansible.posix.authorized_key").map(|m| m.name),
            Some("authorized_key")
        );
        assert_eq!(lookup("authorized_key").map(|m| m.name), Some("authorized_key"));
        // Only the names talon implements: other ansible.posix modules take the Python path,
        // and a posix name is not read as ansible.builtin's.
        assert_eq!(lookup("ansible.posix.mount").map(|m| m.name), Some("mount"));
        for other in ["ansible.posix.acl", "ansible.posix.ping"] {
            assert!(lookup(other).is_none(), "{other} takes the Python path");
        }
    }
}
