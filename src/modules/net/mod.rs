//! Modules that make HTTP requests from the host: `get_url` and `uri` (with the host's curl, see
//! [`curl`]).

/// The argument definitions `extra` followed by ansible-core's url_argument_spec options that
/// get_url and uri share (but `url_username`/`url_password`, whose aliases differ) and the file
/// options ([`crate::modules::spec::with_file_args`]), as an array for `ArgSpec::new`.
macro_rules! url_and_file_args {
    ($($extra:expr),* $(,)?) => {
        $crate::modules::spec::with_file_args![
            $($extra,)*
            ArgDef::int("timeout"),
            ArgDef::dict("headers"),
            ArgDef::list("unredirected_headers"),
            ArgDef::bool("decompress"),
            ArgDef::list("ciphers"),
            ArgDef::bool("use_netrc"),
            ArgDef::bool("force"),
            ArgDef::str("http_agent"),
            ArgDef::bool("use_proxy"),
            ArgDef::bool("validate_certs"),
            ArgDef::bool("force_basic_auth"),
            ArgDef::path("client_cert"),
            ArgDef::path("client_key"),
            ArgDef::bool("use_gssapi"),
        ]
    };
}
pub(crate) use url_and_file_args;

/// Options of the URL modules only ansible-core's code implements: a task that gives one runs
/// the module through the Python path.
pub const PYTHON_ONLY: &[&str] = &[
    "use_gssapi",
    "unredirected_headers",
    "seuser",
    "serole",
    "setype",
    "selevel",
    "attributes",
];

pub mod curl;
pub mod get_url;
pub mod uri;

use serde_json::Value;

use crate::modules::args::FileArgs;
use crate::modules::{ModuleContext, ModuleError, sysutil};
use crate::transport::files;

/// Sets `mode`/`owner`/`group` on `path` when they differ (the module's
/// `set_fs_attributes_if_different`); returns whether they changed and the path info after
/// (`info` itself when nothing changed). In check mode nothing is set.
pub(super) async fn attributes(
    file: &FileArgs,
    path: &str,
    ctx: &ModuleContext<'_>,
    info: Vec<(&'static str, Value)>,
    module: &'static str,
) -> Result<(bool, Vec<(&'static str, Value)>), ModuleError> {
    if file.mode.is_none() && file.owner.is_none() && file.group.is_none() {
        return Ok((false, info));
    }
    let Some(st) = files::stat(ctx.conn, path, true, None, &ctx.become_)
        .await
        .map_err(|e| sysutil::bad(module, e.to_string()))?
    else {
        return Ok((false, info));
    };
    let c = file.changes(&st);
    if !c.any() {
        return Ok((false, info));
    }
    if !ctx.check {
        files::set_attrs(ctx.conn, path, &c.attrs, true, &ctx.become_)
            .await
            .map_err(|e| sysutil::bad(module, e.to_string()))?;
    }
    let m = sysutil::marker();
    let text = format!("M={m}\n{}pathinfo \"$1\"\n", sysutil::PATH_INFO_FN);
    let out = sysutil::run_script(ctx, &text, &[path.to_string()], None).await?;
    let stdout = out.stdout_str();
    let secs = sysutil::sections(&stdout, &m);
    Ok((
        true,
        sysutil::path_info_of(sysutil::section(&secs, "pathinfo").unwrap_or("")),
    ))
}
