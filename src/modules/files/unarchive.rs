//! `unarchive`: a tar archive unpacked into a folder on the host, matching ansible.builtin
//! unarchive's action and module with the host's GNU tar. The action's part: `copy` read as
//! the opposite of `remote_src`, `creates` (skipped when it exists), `dest` an existing folder,
//! a controller `src` (found under `files/` as copy finds it) copied to a scratch folder on the
//! host and removed after. The module's part: the source's checks, the handler the module picks
//! (`TgzArchive` `-z`, `TarArchive` with tar's own detection, `TarBzipArchive` `-j`,
//! `TarXzArchive` `-J`, `TarZstdArchive` zstd: the first whose `tar --list` finds files), `tar
//! --diff` read with the module's patterns to decide (`changed` when anything differs or is
//! missing), `tar --extract` otherwise; `extra_opts` (with `--show-transformed-names`),
//! `exclude`/`include`, `keep_newer`, `list_files` (`files`), `extract_results`, `handler`,
//! `src`, `dest` and its path info; in check mode skipped with the module's message, as
//! ansible-core's tar handlers do. One round trip for the action's checks, one for the
//! module's, one to extract.
//!
//! Runs ansible-core's module on the host instead (the Python path, after the action's part,
//! with the copied source): a host with `unzip` (the module's zip handlers come first), a URL
//! `src` with `remote_src`, `owner`/`group`/`mode`/`attributes`/SELinux options (applied to
//! every unpacked file), a relative `dest` or remote `src`, a tar that is not GNU tar, and
//! listings talon cannot read back as the module does. A vault-encrypted controller `src` is
//! refused (ansible-core decrypts it).

use serde_json::{Value, json};

use super::tar_listing::{archive_files, differs, normalise};
use crate::modules::args::Args;
use crate::modules::files::put::{find_local_file, read_local_src};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::transport::quote::join;
use crate::vars::Vars;

crate::module_info!(
    /// `unarchive`: the module's options and the file options (which run ansible-core's module).
    INFO,
    "unarchive",
    ArgSpec::new(crate::modules::spec::with_file_args![
        ArgDef::path("src").required(),
        ArgDef::path("dest").required(),
        ArgDef::bool("remote_src"),
        ArgDef::path("creates"),
        ArgDef::bool("list_files"),
        ArgDef::bool("keep_newer"),
        ArgDef::list("exclude"),
        ArgDef::list("include"),
        ArgDef::list("extra_opts"),
        ArgDef::bool("validate_certs"),
        ArgDef::int("io_buffer_size"),
        ArgDef::bool("copy"),
        ArgDef::bool("decrypt"),
    ])
    .exclusive(&[&["include", "exclude"]]),
    run
);

/// The file options the module applies to every unpacked file (left to its own code).
const FILE_OPTS: &[&str] = &[
    "mode",
    "owner",
    "group",
    "seuser",
    "serole",
    "setype",
    "selevel",
    "attributes",
    "attr",
];

/// The tar handlers in the module's order: class name and compression flag.
const HANDLERS: &[(&str, &str)] = &[
    ("TgzArchive", "-z"),
    ("TarArchive", ""),
    ("TarBzipArchive", "-j"),
    ("TarXzArchive", "-J"),
    ("TarZstdArchive", "--use-compress-program=zstd"),
];

/// The action's checks: `creates`, `dest` a folder (followed), the tools, the locale the module
/// parses in. `$2` dest, `$3` creates.
const ACTION: &str = r#"M=$1 D=$2 C=$3
if [ -n "$C" ] && [ -e "$C" ]; then printf '%s creates\n' "$M"; exit 0; fi
[ -d "$D" ] || { printf '%s nodest\n' "$M"; exit 0; }
P="$PATH:/sbin:/usr/sbin:/usr/local/sbin"
printf '%s bins\n' "$M"
for b in gtar tar unzip zipinfo; do p=$(PATH="$P" command -v "$b") && printf '%s=%s\n' "$b" "$p"; done
l=C
if a=$(PATH="$P" locale -a 2>/dev/null); then
  for p in C.utf8 C.UTF-8 en_US.utf8 en_US.UTF-8 C POSIX; do
    printf '%s\n' "$a" | grep -qxF -- "$p" && { l=$p; break; }
  done
fi
printf '%s locale\n%s\n' "$M" "$l"
"#;

/// What the action's probe found.
struct Tools {
    tar: Option<String>,
    unzip: bool,
    locale: String,
}

/// Runs `unarchive` (see the module doc).
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit or when a case handed to
/// ansible-core's module cannot take the Python path; [`ModuleError::NotFound`] and
/// [`ModuleError::LocalFile`] for a controller `src`; [`ModuleError::Transport`] when the host
/// cannot be asked.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    if a.value("copy").is_some() && a.value("remote_src").is_some() {
        return Ok(ModuleOutcome::failed(
            "parameters are mutually exclusive: ('copy', 'remote_src')",
        ));
    }
    let remote_src = match a.opt_bool("copy")? {
        Some(copy) => !copy,
        None => a.bool("remote_src", false)?,
    };
    let src = a.req_str("src")?;
    let dest = a.req_str("dest")?;
    let creates = a.str("creates")?.unwrap_or_default();

    let m = sysutil::marker();
    let out = sysutil::run_script(ctx, ACTION, &[m.clone(), dest.clone(), creates.clone()], None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    if sysutil::section(&secs, "creates").is_some() {
        // The action's AnsibleActionSkip: registered without `failed`.
        let mut o = ModuleOutcome::ok().with("_ansible_action_skip", true);
        o.skipped = true;
        o.msg = Some(format!("skipped, since {creates} exists"));
        return Ok(o);
    }
    let local = if remote_src {
        None
    } else if src.contains("://") {
        return Ok(ModuleOutcome::failed(format!(
            "Unsupported option, an URI src ({src}) is only supported when remote_src is True"
        )));
    } else {
        Some(read_local(&src, ctx).await?)
    };
    if sysutil::section(&secs, "nodest").is_some() {
        return Ok(ModuleOutcome::failed(format!(
            "dest '{dest}' must be an existing dir"
        )));
    }
    let tools = read_tools(&secs);

    // The controller's file goes to a scratch folder on the host, removed at the end.
    let scratch = match local {
        Some(bytes) => Some(upload(ctx, bytes).await?),
        None => None,
    };
    let module_src = scratch.as_ref().map_or(src.clone(), |d| format!("{d}/source"));
    let result = module(args, &a, ctx, &module_src, &dest, &tools, scratch.is_some()).await;
    if let Some(dir) = scratch {
        let rm = sysutil::run_script(ctx, r#"rm -rf -- "$1""#, &[dir], None).await;
        if let Err(e) = rm {
            tracing::debug!(host = ctx.host, "removing unarchive's scratch folder: {e}");
        }
    }
    result
}

/// Reads the controller's `src` (under `files/` first, as the action's `_find_needle`).
async fn read_local(src: &str, ctx: &ModuleContext<'_>) -> Result<Vec<u8>, ModuleError> {
    read_local_src(find_local_file(src, "files", ctx)?, "an unarchive src file").await
}

/// Makes a scratch folder on the host and writes `bytes` to `source` in it; the folder.
async fn upload(ctx: &ModuleContext<'_>, bytes: Vec<u8>) -> Result<String, ModuleError> {
    let script = r#"umask 077; d=$(mktemp -d "${TMPDIR:-/tmp}/talon-unarchive.XXXXXXXX") && cat > "$d/source" && printf '%s' "$d""#;
    let out = sysutil::run_script(ctx, script, &[], Some(bytes)).await?;
    let dir = out.stdout_str().to_string();
    if !out.status.success() || dir.is_empty() {
        return Err(sysutil::bad(
            "unarchive",
            format!(
                "the archive could not be copied to {}: {}",
                ctx.host,
                out.stderr_str().trim()
            ),
        ));
    }
    Ok(dir)
}

fn read_tools(secs: &[(&str, &str)]) -> Tools {
    let bins = sysutil::section(secs, "bins").unwrap_or_default();
    let bin = |name: &str| {
        bins.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    };
    Tools {
        tar: bin("gtar").or_else(|| bin("tar")),
        unzip: bin("unzip").is_some(),
        locale: sysutil::section(secs, "locale").unwrap_or("C").trim().to_string(),
    }
}

/// Hands the module's part to ansible-core's module with `src` (the copied source, or the
/// remote one) and `remote_src: true`, without the action's `copy`/`decrypt`.
async fn python(
    args: &Vars,
    src: &str,
    ctx: &ModuleContext<'_>,
    why: &str,
) -> Result<ModuleOutcome, ModuleError> {
    let mut module_args = args.clone();
    for key in ["copy", "decrypt", "creates"] {
        module_args.shift_remove(key);
    }
    module_args.insert("src".into(), Value::String(src.into()));
    module_args.insert("remote_src".into(), Value::Bool(true));
    crate::modules::fallback::python_path("ansible.builtin.unarchive", "unarchive", &module_args, ctx, why)
        .await
}

/// The module's own part on `src` (see the module doc).
async fn module(
    args: &Vars,
    a: &Args<'_>,
    ctx: &ModuleContext<'_>,
    src: &str,
    dest: &str,
    tools: &Tools,
    copied: bool,
) -> Result<ModuleOutcome, ModuleError> {
    if let Some(opt) = FILE_OPTS.iter().find(|o| a.value(o).is_some()) {
        return python(args, src, ctx, &format!("`{opt}` applies to every unpacked file")).await;
    }
    if src.contains("://") {
        return python(args, src, ctx, "the host fetches a URL src").await;
    }
    if !dest.starts_with('/') || !src.starts_with('/') {
        return python(args, src, ctx, "a relative src or dest").await;
    }
    if tools.unzip {
        return python(
            args,
            src,
            ctx,
            "the host has unzip: the module's zip handlers come first",
        )
        .await;
    }
    let excludes: Vec<String> = a
        .list("exclude")?
        .unwrap_or_default()
        .iter()
        .map(|e| e.trim_end_matches('/').to_string())
        .collect();
    let includes = a.list("include")?.unwrap_or_default();
    let opts = a.list("extra_opts")?.unwrap_or_default();
    let keep_newer = a.bool("keep_newer", false)?;
    let list_files = a.bool("list_files", false)?;
    let dest_abs = normalise(dest);

    // The tar command of one handler: --list, --diff or --extract.
    let tar = tools.tar.clone().unwrap_or_else(|| "tar".into());
    let command = |op: &str, flag: &str| {
        let mut cmd = vec![tar.clone(), op.to_string(), "-C".into(), dest_abs.clone()];
        if !flag.is_empty() {
            cmd.push(flag.into());
        }
        if !opts.is_empty() {
            cmd.push("--show-transformed-names".into());
            cmd.extend(opts.iter().cloned());
        }
        if op != "--list" && keep_newer {
            cmd.push("--keep-newer-files".into());
        }
        cmd.extend(excludes.iter().map(|e| format!("--exclude={e}")));
        cmd.extend(["-f".to_string(), src.to_string()]);
        cmd.extend(includes.iter().cloned());
        cmd
    };
    let l = &tools.locale;
    let env = format!("env LANG={l} LC_ALL={l} LC_MESSAGES={l} LANGUAGE={l}");
    let mut script = format!(
        "{}M=$1 S=$2 D=$3\nt=$(mktemp -d) || exit 1\ntrap 'rm -rf \"$t\"' EXIT\n{}\
         printf '%s src\\n' \"$M\"; [ -e \"$S\" ] && echo E; [ -r \"$S\" ] && echo R; [ -e \"$S\" ] && stat -L -c %s -- \"$S\"\n\
         pathinfo \"$D\"\n",
        sysutil::RUN_FN,
        sysutil::PATH_INFO_FN
    );
    if !ctx.check && tools.tar.is_some() {
        script.push_str(&format!(
            "[ -r \"$S\" ] || exit 0\nprintf '%s version\\n' \"$M\"; {} --version 2>/dev/null | head -n 1\ncd \"$D\" || exit 0\nh=\n",
            crate::transport::quote::quote(&tar)
        ));
        for (i, (_, flag)) in HANDLERS.iter().enumerate() {
            script.push_str(&format!(
                "[ -z \"$h\" ] && {{ run list{i} {env} {}; [ $? = 0 ] && [ -s \"$t/o\" ] && h={i}; }}\n",
                join(&command("--list", flag))
            ));
        }
        script.push_str("case $h in\n");
        for (i, (_, flag)) in HANDLERS.iter().enumerate() {
            script.push_str(&format!(
                "{i}) run diff {env} {} ;;\n",
                join(&command("--diff", flag))
            ));
        }
        script.push_str("esac\n");
    }
    let m = sysutil::marker();
    let out = sysutil::run_script(
        ctx,
        &script,
        &[m.clone(), src.to_string(), dest_abs.clone()],
        None,
    )
    .await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);

    // The module's source checks.
    let info = sysutil::section(&secs, "src").unwrap_or_default();
    let mut lines = info.lines();
    let (exists, readable) = (lines.next() == Some("E"), info.lines().any(|l| l == "R"));
    let size: u64 = info.lines().last().and_then(|s| s.parse().ok()).unwrap_or(0);
    if !exists {
        return Ok(ModuleOutcome::failed(if copied {
            format!("Source '{src}' failed to transfer")
        } else {
            format!("Source '{src}' does not exist")
        }));
    }
    if !readable {
        return Ok(ModuleOutcome::failed(format!("Source '{src}' not readable")));
    }
    if size == 0 {
        return Ok(ModuleOutcome::failed(format!(
            "Invalid archive '{src}', the file is 0 bytes"
        )));
    }
    if ctx.check {
        let mut o = ModuleOutcome::ok();
        o.skipped = true;
        o.msg = Some(
            "remote module (ansible.legacy.unarchive) does not support check mode when using gtar".into(),
        );
        return Ok(o);
    }
    let Some(tar_path) = &tools.tar else {
        return Ok(no_handler(
            src,
            &["Unable to find required 'gtar' or 'tar' binary in the path".into()],
        ));
    };
    let version = sysutil::section(&secs, "version").unwrap_or_default();
    if !(version.starts_with("tar") && version.contains("GNU")) {
        return python(args, src, ctx, "the host's tar is not GNU tar").await;
    }
    let chosen = (0..HANDLERS.len()).find(|i| {
        sysutil::section(&secs, &format!("list{i}_rc")).is_some_and(|r| r.trim() == "0")
            && sysutil::ran_in(&secs, &format!("list{i}")).is_some_and(|r| !r.out.is_empty())
    });
    let Some(h) = chosen else {
        let reasons: Vec<String> = (0..HANDLERS.len())
            .filter_map(|i| sysutil::ran_in(&secs, &format!("list{i}")))
            .map(|r| {
                if r.rc == 0 {
                    format!("Command \"{tar_path}\" found no files in archive. Empty archive files are not supported.")
                } else {
                    format!(
                        "Command \"{tar_path}\" could not handle archive: Unable to list files in the archive: {}",
                        r.err
                    )
                }
            })
            .collect();
        return Ok(no_handler(src, &reasons));
    };
    let listing = sysutil::ran_in(&secs, &format!("list{h}"))
        .map(|r| r.out)
        .unwrap_or_default();
    let Some(files) = archive_files(&listing, &excludes) else {
        return python(
            args,
            src,
            ctx,
            "a listing talon cannot read back as the module does",
        )
        .await;
    };
    if files.is_empty() {
        return python(args, src, ctx, "every listed file is excluded").await;
    }
    let diff = sysutil::ran_in(&secs, "diff").unwrap_or(sysutil::Ran {
        rc: 1,
        out: String::new(),
        err: String::new(),
    });
    let unarchived = !differs(&diff.out, &diff.err);

    let (name, flag) = HANDLERS[h];
    let mut result = ModuleOutcome::changed(!unarchived)
        .with("handler", name)
        .with("dest", dest)
        .with("src", src);
    let mut path_section = sysutil::section(&secs, "pathinfo")
        .unwrap_or_default()
        .to_string();
    if !unarchived {
        let cmd = command("--extract", flag);
        let script = format!(
            "{}{}M=$1 D=$2\nt=$(mktemp -d) || exit 1\ntrap 'rm -rf \"$t\"' EXIT\ncd \"$D\" || exit 1\nrun extract {env} {}\npathinfo \"$D\"\n",
            sysutil::RUN_FN,
            sysutil::PATH_INFO_FN,
            join(&cmd)
        );
        let out = sysutil::run_script(ctx, &script, &[m.clone(), dest_abs.clone()], None).await?;
        let text = out.stdout_str();
        let secs = sysutil::sections(&text, &m);
        let Some(done) = sysutil::ran_in(&secs, "extract") else {
            return Err(sysutil::bad(
                "unarchive",
                format!("tar did not run on {}", ctx.host),
            ));
        };
        path_section = sysutil::section(&secs, "pathinfo")
            .unwrap_or_default()
            .to_string();
        result = result.with(
            "extract_results",
            json!({"cmd": cmd, "rc": done.rc, "out": done.out, "err": done.err}),
        );
        if done.rc != 0 {
            result.failed = true;
            result.changed = false;
            result.msg = Some(format!("failed to unpack {src} to {dest}"));
            return Ok(result);
        }
    }
    if list_files {
        result = result.with("files", json!(files));
    }
    Ok(sysutil::with_path_info(
        result,
        sysutil::path_info_of(&path_section),
    ))
}

/// The module's failure when no handler takes the archive (its reasons are a Python set: their
/// order is not ansible-core's from run to run either).
fn no_handler(src: &str, tar_reasons: &[String]) -> ModuleOutcome {
    let mut reasons = vec![
        "Unable to find required 'unzip' or 'zipinfo' binary in the path.".to_string(),
        "Unable to find required 'unzip' or 'unzip' binary in the path.".to_string(),
    ];
    for r in tar_reasons {
        if !reasons.contains(r) {
            reasons.push(r.clone());
        }
    }
    ModuleOutcome::failed(format!(
        "Failed to find handler for \"{src}\". Make sure the required command to extract the file is installed.\n{}",
        reasons.join("\n")
    ))
}
