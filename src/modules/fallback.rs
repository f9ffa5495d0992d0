//! The Python path at run time for native modules (`replace`, `ini_file`, `tempfile`,
//! `find`, `service_facts`, `package_facts`, `mount`, `apt_key`, `unarchive`,
//! `deb822_repository`, `apt_repository`, `hostname`, `timezone`, `get_url`, `uri`, `iptables`,
//! `locale_gen`, `modprobe`, `git`, `pip`, `ufw`): what a native module finds
//! it cannot do exactly as ansible-core's own code (a Python-only regex feature, a file that is
//! not UTF-8, another init system, a URL to fetch on the host, ...) it hands to that code on
//! the host, so a rare case is never done differently.

use crate::modules::{ModuleContext, ModuleError, ModuleOutcome};
use crate::vars::Vars;

/// Runs the module `fqcn` (ansible-core's or a collection's) through the Python path with the
/// task's `args`, because of `why` (logged at debug level). `native` names talon's module for
/// messages.
///
/// Errors: [`ModuleError::BadArgs`] when the Python path is not available (no ansible-core or
/// collection on the controller); those of [`crate::modules::python::run`].
pub(crate) async fn python_path(
    fqcn: &'static str,
    native: &'static str,
    args: &Vars,
    ctx: &ModuleContext<'_>,
    why: &str,
) -> Result<ModuleOutcome, ModuleError> {
    tracing::debug!(
        host = ctx.host,
        "{native} runs {fqcn} through the Python path: {why}"
    );
    let resolved = tokio::task::spawn_blocking(move || crate::modules::python::resolve_cached(fqcn))
        .await
        .map_err(|e| ModuleError::BadArgs {
            module: native,
            message: format!("the Python path could not be prepared: {e}"),
        })?;
    let module = resolved.map_err(|e| ModuleError::BadArgs {
        module: native,
        message: format!("{why}: only {fqcn}'s own code runs this, through the Python path: {e}"),
    })?;
    crate::modules::python::run(&module, args, ctx).await
}
