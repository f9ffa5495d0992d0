//! `git` (ansible.builtin.git) without Python on the host: the host's `git` runs the commands
//! ansible-core 2.19's module runs, in its order and with its decisions, and the result is the
//! module's (`before`, `after`, `changed`, `remote_url_changed`, `submodules_changed`, `msg`,
//! `warnings`, `diff` with `--diff`), its check mode (`git ls-remote` for the remote head) and
//! its failures. Covered: clone (HEAD, a branch, a tag, a SHA; `depth`, `single_branch`,
//! `bare`, `remote`, `reference`), update (fetch, switch, `force` over local changes, a changed
//! `repo`), `update: no`, `clone: no`, `recursive` submodules, `accept_hostkey`,
//! `accept_newhostkey`, `key_file`, `ssh_opts` (`GIT_SSH_COMMAND` as the module builds it),
//! `executable`, `umask`.
//!
//! Handed to ansible-core's module (the Python path): `archive`, `separate_git_dir`,
//! `verify_commit`/`gpg_allowlist`, `track_submodules`, `refspec` (at load); at run time a git
//! older than 2.3 (the module writes an ssh wrapper), text the module would split or expand
//! differently (whitespace, quotes, `$`, `~user`), a relative `dest`, a `.git` file, an
//! `executable` that is not there, a negative or over-wide `umask`.

pub mod host;
pub mod ops;
pub mod settings;

use serde_json::Value;

use host::{Flow, Host, Stop, exit, fail};
use ops::Git;
use settings::{Env, best_locale, git_version, host_key_opts, needs_python, parse_umask, ssh_command};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, fallback, sysutil};
use crate::transport::quote;
use crate::vars::Vars;

crate::module_info!(
    /// `git`: every option of ansible.builtin.git.
    INFO,
    "git",
    ArgSpec::new(&[
        ArgDef::path("dest"),
        ArgDef::str("repo").aliases(&["name"]).required(),
        ArgDef::str("version"),
        ArgDef::str("remote"),
        ArgDef::str("refspec"),
        ArgDef::str("reference"),
        ArgDef::bool("force"),
        ArgDef::int("depth"),
        ArgDef::bool("clone"),
        ArgDef::bool("update"),
        ArgDef::bool("verify_commit"),
        ArgDef::list("gpg_allowlist").aliases(&["gpg_whitelist"]),
        ArgDef::bool("accept_hostkey"),
        ArgDef::bool("accept_newhostkey"),
        ArgDef::path("key_file"),
        ArgDef::str("ssh_opts"),
        ArgDef::path("executable"),
        ArgDef::bool("bare"),
        ArgDef::bool("recursive"),
        ArgDef::bool("single_branch"),
        ArgDef::bool("track_submodules"),
        ArgDef::raw("umask"),
        ArgDef::path("archive"),
        ArgDef::str("archive_prefix"),
        ArgDef::path("separate_git_dir"),
    ])
    .exclusive(&[&["separate_git_dir", "bare"], &["accept_hostkey", "accept_newhostkey"]])
    .python_for(&[
        "archive",
        "archive_prefix",
        "separate_git_dir",
        "verify_commit",
        "gpg_allowlist",
        "gpg_whitelist",
        "track_submodules",
        "refspec",
    ]),
    run
);

const FQCN: &str = "ansible.builtin.git";

/// The task's options, read once.
#[derive(Debug, Clone)]
struct Opts {
    dest: Option<String>,
    repo: String,
    version: String,
    remote: String,
    reference: Option<String>,
    force: bool,
    depth: Option<i64>,
    clone: bool,
    update: bool,
    accept_hostkey: bool,
    accept_newhostkey: bool,
    key_file: Option<String>,
    ssh_opts: Option<String>,
    executable: Option<String>,
    bare: bool,
    recursive: bool,
    single_branch: bool,
    umask: Option<Value>,
}

/// Runs `git`. Errors: [`ModuleError::BadArgs`] for arguments the module does not take;
/// transport errors. Everything the module fails on is a failed outcome with its message.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let o = Opts {
        dest: a.str("dest")?,
        repo: a.req_str("repo")?,
        version: a.str("version")?.unwrap_or_else(|| "HEAD".into()),
        remote: a.str("remote")?.unwrap_or_else(|| "origin".into()),
        reference: a.str("reference")?,
        force: a.bool("force", false)?,
        depth: a.i64("depth")?,
        clone: a.bool("clone", true)?,
        update: a.bool("update", true)?,
        accept_hostkey: a.bool("accept_hostkey", false)?,
        accept_newhostkey: a.bool("accept_newhostkey", false)?,
        key_file: a.str("key_file")?,
        ssh_opts: a.str("ssh_opts")?,
        executable: a.str("executable")?,
        bare: a.bool("bare", false)?,
        recursive: a.bool("recursive", true)?,
        single_branch: a.bool("single_branch", false)?,
        umask: a.value("umask").cloned(),
    };
    let texts = [
        Some(&o.version),
        Some(&o.remote),
        o.reference.as_ref(),
        o.executable.as_ref(),
        o.dest.as_ref(),
    ];
    let home_repo = o.repo == "~" || o.repo.starts_with("~/");
    let odd_repo = needs_python(o.repo.strip_prefix('~').filter(|_| home_repo).unwrap_or(&o.repo));
    if odd_repo || texts.into_iter().flatten().any(|t| needs_python(t)) {
        return python(args, ctx, "text the module splits or expands itself").await;
    }
    if o.dest
        .as_deref()
        .is_some_and(|d| !d.is_empty() && !d.starts_with('/'))
    {
        return python(args, ctx, "a relative dest").await;
    }
    let mut warnings = Vec::new();
    let result = flow(&o, ctx, &mut warnings).await;
    let mut out = match result {
        Ok(out) => out,
        Err(Stop::Exit(out)) => *out,
        Err(Stop::Python(why)) => return python(args, ctx, why).await,
        Err(Stop::Error(e)) => return Err(e),
    };
    for w in warnings {
        out = out.warn(w);
    }
    Ok(out)
}

async fn python(args: &Vars, ctx: &ModuleContext<'_>, why: &str) -> Result<ModuleOutcome, ModuleError> {
    fallback::python_path(FQCN, "git", args, ctx, why).await
}

/// Asks the Python path to run the task (the flow stops before changing anything).
fn hand_over(why: &'static str) -> Stop {
    Stop::Python(why)
}

/// What the first round trip read.
struct Probe {
    git: String,
    locale: String,
    home: String,
    env: Env,
    version: Option<Vec<u64>>,
    ssh_accept_new: Option<bool>,
    dotgit: Option<String>,
    gitconfig_exists: bool,
}

async fn probe(o: &Opts, ctx: &ModuleContext<'_>) -> Flow<Probe> {
    let q = quote::quote;
    let mut lines = sysutil::tools_probe(&["git", "ssh"]);
    lines.push_str("printf '%s home\\n%s\\n' \"$M\" \"$HOME\"\n");
    for v in ["GIT_SSH_OPTS", "GIT_SSH", "GIT_SSH_COMMAND"] {
        lines.push_str(&format!(
            "[ -n \"${{{v}+x}}\" ] && printf '%s {v}\\n%s\\n' \"$M\" \"${v}\"\n"
        ));
    }
    lines.push_str("step locale locale -a\n");
    match &o.executable {
        Some(e) => lines.push_str(&format!(
            "g={}; [ -f \"$g\" ] && [ -x \"$g\" ] && printf '%s exe\\n' \"$M\"\n",
            q(e)
        )),
        None => lines.push_str("g=$(command -v git); printf '%s gitpath\\n%s\\n' \"$M\" \"$g\"\n"),
    }
    lines.push_str("[ -n \"$g\" ] && LC_ALL=C step version \"$g\" --version\n");
    lines.push_str("s=$(command -v ssh) && printf '%s sshpath\\n%s\\n' \"$M\" \"$s\" && step sshv \"$s\" -o StrictHostKeyChecking=accept-new -V\n");
    if let Some(d) = &o.dest {
        let rp = if o.bare { d.clone() } else { format!("{d}/.git") };
        lines.push_str(&format!(
            "[ -f {0} ] && {{ printf '%s dotgit\\n' \"$M\"; cat -- {0}; }}\n",
            q(&rp)
        ));
        lines.push_str(&format!(
            "[ -e {} ] && printf '%s config\\n' \"$M\"\n",
            q(&format!("{rp}/config"))
        ));
    }
    lines.push_str("exit 0\n");
    let (text, m) = host::trip(ctx, &lines).await?;
    let secs = sysutil::sections(&text, &m);
    let sec = |n: &str| sysutil::section(&secs, n).map(|s| s.strip_suffix('\n').unwrap_or(s).to_string());
    let git = match &o.executable {
        Some(e) if sec("exe").is_some() => e.clone(),
        Some(_) => return Err(hand_over("an executable that is not there")),
        None => match sec("gitpath").filter(|p| !p.is_empty()) {
            Some(p) => p,
            None => {
                let msg = sysutil::missing_tool(&secs, "git").unwrap_or_else(|| "git not found".into());
                return Err(fail(msg));
            }
        },
    };
    let locale = sysutil::step(&secs, "locale")
        .map(|s| best_locale(s.rc, &s.out))
        .unwrap_or_else(|| "C".into());
    let version = sysutil::step(&secs, "version")
        .filter(|s| s.rc == 0)
        .and_then(|s| git_version(&s.out));
    let ssh_accept_new = sec("sshpath").map(|_| sysutil::step(&secs, "sshv").is_some_and(|s| s.rc == 0));
    if o.accept_newhostkey && ssh_accept_new.is_none() {
        let details = sysutil::missing_tool(&secs, "ssh").unwrap_or_default();
        let out = ModuleOutcome::failed(
            "Remote host is missing ssh command, so you cannot use acceptnewhostkey option.",
        )
        .with("details", details);
        return Err(exit(out));
    }
    Ok(Probe {
        git,
        locale,
        home: sec("home").unwrap_or_default(),
        env: Env {
            ssh_opts: sec("GIT_SSH_OPTS"),
            git_ssh: sec("GIT_SSH"),
            git_ssh_command: sec("GIT_SSH_COMMAND"),
        },
        version,
        ssh_accept_new,
        dotgit: sec("dotgit"),
        gitconfig_exists: sec("config").is_some(),
    })
}

/// The module's `main` from its option checks on.
async fn flow(o: &Opts, ctx: &ModuleContext<'_>, warnings: &mut Vec<String>) -> Flow<ModuleOutcome> {
    let p = probe(o, ctx).await?;
    let mut ssh_opts = o.ssh_opts.clone();
    if o.accept_hostkey {
        ssh_opts = Some(host_key_opts(ssh_opts, "no"));
    }
    if o.accept_newhostkey {
        if p.ssh_accept_new == Some(true) {
            ssh_opts = Some(host_key_opts(ssh_opts, "accept-new"));
        } else {
            warnings.push(
                "Your ssh client does not support accept_newhostkey option, therefore it cannot be used."
                    .into(),
            );
        }
    }
    let umask = match &o.umask {
        None => None,
        Some(Value::String(s)) => match parse_umask(s) {
            Ok(Some(u)) => Some(u),
            Ok(None) => return Err(hand_over("a umask the shell cannot set as Python does")),
            Err(details) => {
                return Err(exit(
                    ModuleOutcome::failed("umask must be an octal integer").with("details", details),
                ));
            }
        },
        Some(_) => return Err(fail("umask must be defined as a quoted octal integer")),
    };
    let home = p.home.clone();
    let expanded = match o.repo.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("{home}{rest}"),
        _ => o.repo.clone(),
    };
    let repo = if expanded.starts_with('/') {
        format!("file://{expanded}")
    } else {
        o.repo.clone()
    };
    let dest = o.dest.clone().filter(|d| !d.is_empty());
    if dest.is_none() && o.clone {
        return Err(fail(
            "the destination directory must be specified unless clone=no",
        ));
    }
    let dest = dest.map(|d| ops::normpath(&d));
    if p.dotgit.is_some() {
        return Err(hand_over("a .git file (a separate git folder)"));
    }
    if p.version
        .as_ref()
        .is_some_and(|v| v.as_slice() < [2, 3].as_slice())
    {
        return Err(hand_over(
            "a git older than 2.3 (the module writes an ssh wrapper)",
        ));
    }
    let ssh = ssh_command(
        &p.env,
        ssh_opts.as_deref(),
        o.accept_hostkey,
        o.key_file.as_deref(),
    );
    let g = Git {
        host: Host::new(ctx, p.git.clone(), &p.locale, &ssh, umask),
        given_repo: o.repo.clone(),
        home,
        git_dir: dest.as_ref().map(|d| format!("{d}/.git")).unwrap_or_default(),
        repo: repo.clone(),
        remote: o.remote.clone(),
        depth: o.depth,
        bare: o.bare,
    };
    let mut before: Option<String> = None;
    let mut result = ModuleOutcome::ok().with("before", Value::Null);
    let mut local_mods = false;
    let mut remote_url_changed = false;
    let d = dest.clone().unwrap_or_default();
    if dest.is_none() || !p.gitconfig_exists {
        if ctx.check || !o.clone {
            let head = g.remote_head(dest.as_deref(), &o.version, &repo, o.bare).await?;
            result = result.with("after", head.as_str());
            result.changed = true;
            if ctx.diff
                && let Some(diff) = g.diff(&d, None, &head).await?
            {
                result = result.with("diff", diff);
            }
            return Ok(result);
        }
        clone(&g, o, &repo, &d, p.version.as_deref(), warnings).await?;
    } else if !o.update {
        let v = g.version(&d).await?;
        return Ok(result.with("before", v.as_str()).with("after", v));
    } else {
        local_mods = g.has_local_mods(&d, o.bare).await?;
        let b = g.version(&d).await?;
        result = result.with("before", b.as_str());
        before = Some(b.clone());
        if local_mods {
            if !o.force {
                let mut f = result;
                f.failed = true;
                f.msg = Some(format!(
                    "Local modifications exist in the destination: {d} (force=no)."
                ));
                return Err(exit(f));
            }
            if !ctx.check {
                g.reset(&d).await?;
                result.changed = true;
                result.msg = Some(format!("Local modifications exist in the destination: {d}"));
            }
        }
        if ctx.check {
            let url = g.remote_url(&d, &o.remote).await?;
            // Python's `url and url != repo and ...`: the first false value, else the last.
            let changed_value = match &url {
                None => Value::Null,
                Some(u) if u.is_empty() => Value::from(""),
                Some(u) => Value::from(u != &repo && !g.same_url(u, &repo)),
            };
            let url_changed = changed_value.as_bool().unwrap_or(false);
            result = result.with("remote_url_changed", changed_value);
            let head = g.remote_head(Some(&d), &o.version, &o.remote, o.bare).await?;
            result.changed = b != head || url_changed;
            result = result.with("after", head.as_str());
            if ctx.diff
                && let Some(diff) = g.diff(&d, Some(&b), &head).await?
            {
                result = result.with("diff", diff);
            }
            return Ok(result);
        }
        remote_url_changed = g.set_remote_url(&repo, &d, &o.remote).await?;
        result = result.with("remote_url_changed", remote_url_changed);
        g.fetch(&d, &o.version, o.force).await?;
    }
    if !o.bare {
        g.switch_version(&d, &o.remote, &o.version, o.depth).await?;
    }
    let mut submodules_updated = false;
    if o.recursive && !o.bare {
        submodules_updated = g.submodules_fetch(&d).await?;
        if submodules_updated {
            result = result.with("submodules_changed", true);
            g.submodule_update(&d, o.force).await?;
        }
    }
    let after = g.version(&d).await?;
    result = result.with("after", after.as_str());
    if before.as_deref() != Some(after.as_str()) || local_mods || submodules_updated || remote_url_changed {
        result.changed = true;
        if ctx.diff
            && let Some(diff) = g.diff(&d, before.as_deref(), &after).await?
        {
            result = result.with("diff", diff);
        }
    }
    Ok(result)
}

/// The module's `clone`: the folder above `dest`, then `git clone` with its options.
async fn clone(
    g: &Git<'_>,
    o: &Opts,
    repo: &str,
    dest: &str,
    version: Option<&[u64]>,
    warnings: &mut Vec<String>,
) -> Flow<()> {
    let dest_dir = dest
        .rsplit_once('/')
        .map(|(d, _)| if d.is_empty() { "/" } else { d })
        .unwrap_or("/");
    let mut cmd = g.host.argv(&["clone"]);
    if o.bare {
        cmd.push("--bare".into());
    } else {
        cmd.extend(["--origin".to_string(), o.remote.clone()]);
    }
    let branch_or_tag = g.is_remote_branch(Some(dest), repo, &o.version).await?
        || g.is_remote_tag(Some(dest), repo, &o.version).await?;
    if let Some(depth) = o.depth.filter(|d| *d != 0) {
        if o.version == "HEAD" {
            cmd.extend(["--depth".to_string(), depth.to_string()]);
        } else if branch_or_tag {
            cmd.extend([
                "--depth".to_string(),
                depth.to_string(),
                "--branch".into(),
                o.version.clone(),
            ]);
        } else {
            warnings.push(
                "Ignoring depth argument. Shallow clones are only available for HEAD, branches, tags or in combination with refspec."
                    .into(),
            );
        }
    }
    if let Some(r) = &o.reference {
        cmd.extend(["--reference".to_string(), r.clone()]);
    }
    if o.single_branch {
        let Some(v) = version else {
            return Err(fail(format!("Cannot find git executable at {}", g.host.git)));
        };
        if v < [1, 7, 10].as_slice() {
            return Err(hand_over("a git too old for single-branch"));
        }
        cmd.push("--single-branch".into());
        if branch_or_tag {
            cmd.extend(["--branch".to_string(), o.version.clone()]);
        }
    }
    cmd.extend([repo.to_string(), dest.to_string()]);
    g.run_clone(dest_dir, cmd).await?;
    if o.bare && o.remote != "origin" {
        let argv = g.host.argv(&["remote", "add", &o.remote, repo]);
        let r = g.host.run(Some(dest), argv.clone()).await?;
        host::check_rc(&argv, r)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
