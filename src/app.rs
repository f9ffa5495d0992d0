//! What each subcommand does, from parsed arguments to an exit code.

use crate::cli::{
    AdhocArgs, Cli, Command, ConfigCommand, GalaxyCommand, GalaxyInstallArgs, GalaxyKindCommand,
    InventoryArgs, LabCommand, RunArgs, VerifyArgs,
};
use crate::config::Config;
use crate::error::Error;
use crate::inventory::Inventory;
use crate::playbook::Playbook;
use crate::report::{Reporter, view::ViewOptions};
use crate::runner::Runner;

/// Runs a parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Run(args) => run_playbook(args).await,
        Command::Verify(args) => verify(args).await,
        Command::Inventory(args) => inventory(args),
        Command::Vault { command } => Ok(crate::vault::cmd::run(command)?),
        Command::Config {
            command: ConfigCommand::Dump { only_changed },
        } => {
            let cfg = crate::ansible_cfg::AnsibleCfg::load().map_err(|e| Error::Options(e.to_string()))?;
            for w in &cfg.warnings {
                eprintln!("[WARNING]: {w}");
            }
            print_stdout(&cfg.dump(only_changed))?;
            Ok(crate::error::EXIT_OK)
        }
        Command::Adhoc(args) => adhoc(args).await,
        Command::Galaxy { command } => galaxy(command),
        Command::Lab { command } => lab(command),
    }
}

/// Everything a run needs, loaded and checked before any host is touched: the playbook, the
/// inventory, the resolved options, no secret on a command line. Findings (undefined variables,
/// module arguments that do not fit) are printed once as warnings, or refuse the playbook with
/// `--strict`.
async fn prepare(
    args: &RunArgs,
    keep: impl Fn(&crate::playbook::Play) -> bool,
) -> Result<(Playbook, Inventory, Config), Error> {
    // ansible.cfg first: it sets the roles path the playbook's roles are found on.
    let cfg = crate::config::load_cfg(args)?;
    for w in &cfg.warnings {
        eprintln!("[WARNING]: {w}");
    }
    args.vault.install_for_run_with(&vault_defaults(&cfg))?;
    let mut pb = crate::playbook::load(&args.playbook)?;
    // Further playbooks of the command line: their plays after the first's, as ansible-playbook
    // runs them (each file's roles and paths are its own; `playbook_dir` is the first's).
    for more in &args.more_playbooks {
        let next = crate::playbook::load(more)?;
        pb.findings.extend(next.findings);
        for mut p in next.plays {
            p.index = pb.plays.len();
            pb.plays.push(p);
        }
    }
    pb.plays.retain(|p| keep(p));
    let mut sources = crate::config::inventory_sources(args, &cfg);
    if args.inventory.is_empty() && !cfg.is_set("DEFAULT_HOST_LIST") && !sources.iter().any(|s| s.exists()) {
        // ansible-core's default /etc/ansible/hosts, absent: only the implicit localhost.
        eprintln!("[WARNING]: No inventory was parsed, only implicit localhost is available");
        sources.clear();
    }
    let mut inv = Inventory::load(&sources).map_err(Error::from)?;
    inv.add_playbook_dir(&pb.dir).map_err(Error::from)?;
    if let Some(limit) = &args.limit {
        check_limit(&inv, limit)?;
    }
    let host_count = inv.select("all").map(|h| h.len()).unwrap_or(1);
    let mut opts = crate::config::resolve_with(args, host_count, cfg)?;
    let quiet = args.syntax_check || args.play.list_hosts || args.play.list_tasks || args.play.list_tags;
    answer_prompts(&mut pb, &mut opts)?;
    let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    // secrets: inventory vars too, so a variable defined from a secret is followed.
    let mut inv_vars = Vec::new();
    for h in inv.select("all").unwrap_or_default() {
        let hv = inv.host_vars(&h);
        names.extend(hv.keys().cloned());
        inv_vars.push(hv);
    }
    let secret_names = opts.secrets.names().map(str::to_string);
    let mut findings = std::mem::take(&mut pb.findings);
    findings.extend(crate::playbook::lint::check_undefined(
        &pb,
        names,
        opts.extra_vars.keys().cloned().chain(secret_names),
    ));
    for line in crate::playbook::findings::settle(findings, opts.strict)? {
        eprintln!("{line}");
    }
    inv_vars.push(opts.extra_vars.clone());
    opts.secrets.check_playbook(&pb, &inv_vars)?;
    // Asserts a role marks `talon_load_check`: refused before any host is touched (not for
    // --syntax-check and the --list-* views, which touch none).
    if !quiet {
        crate::playbook::load_asserts::check(
            &pb,
            &inv,
            &crate::playbook::load_asserts::Selection {
                extra_vars: &opts.extra_vars,
                tags: &opts.tags,
                skip_tags: &opts.skip_tags,
                limit: opts.limit.as_deref(),
            },
        )?;
    }
    Ok((pb, inv, opts))
}

/// The vault settings of ansible.cfg and `ANSIBLE_VAULT_*` (already merged by precedence):
/// `vault_identity_list` and `vault_password_file`.
fn vault_defaults(cfg: &crate::ansible_cfg::AnsibleCfg) -> crate::vault::VaultDefaults {
    crate::vault::VaultDefaults::from_cfg(cfg)
}

/// Readies the plays' `vars_prompt` before anything runs (see
/// [`crate::playbook::vars_prompt`]; the runner asks each play's when the play starts): names
/// given with `-e` or as secrets are not asked; private prompts' names are reserved as secrets of
/// the run.
fn answer_prompts(pb: &mut Playbook, opts: &mut Config) -> Result<(), Error> {
    if pb.plays.iter().all(|p| p.vars_prompt.is_empty()) {
        return Ok(());
    }
    let given: std::collections::HashSet<String> = opts
        .extra_vars
        .keys()
        .cloned()
        .chain(opts.secrets.names().map(str::to_string))
        .collect();
    let private = crate::playbook::vars_prompt::prepare(pb, &opts.extra_vars, &|n| given.contains(n))
        .map_err(Error::Options)?;
    if private.is_empty() {
        return Ok(());
    }
    let store = std::sync::Arc::get_mut(&mut opts.secrets)
        .ok_or_else(|| Error::Options("vars_prompt: the secret store is already shared (internal)".into()))?;
    for name in private {
        // secrets: a private answer is a secret, filled when its play asks it.
        store
            .reserve(&name)
            .map_err(|e| Error::Options(format!("vars_prompt: {e}")))?;
    }
    Ok(())
}

/// Like ansible-core `CLI.get_host_list`: a `--limit` that cannot be evaluated, or that leaves
/// none of the inventory's hosts, ends the command (exit 1) before anything runs. An inventory
/// with no hosts at all is not an error here (plays on the implicit localhost still run).
fn check_limit(inv: &Inventory, limit: &str) -> Result<(), Error> {
    let all = inv.select("all").map_err(Error::from)?;
    if all.is_empty() {
        return Ok(());
    }
    // The implicit localhost counts when the limit names it (`--limit localhost`).
    let mut candidates = all;
    candidates.extend(
        ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .filter(|n| inv.host(n).is_some_and(|h| h.is_implicit()))
            .map(str::to_string),
    );
    let left = inv
        .limit(candidates, limit)
        .map_err(|e| Error::NoHosts(e.to_string()))?;
    if left.is_empty() {
        eprintln!("[WARNING]: Could not match supplied host pattern, ignoring: {limit}");
        return Err(Error::NoHosts(crate::error::NO_HOSTS_TO_TARGET.into()));
    }
    Ok(())
}

/// Writes `text` and a newline to stdout. A closed pipe (`talon inventory --list | head -1`) is
/// not an error: the reader wanted no more, so output stops quietly and the command keeps its
/// exit code, as ripgrep and other Rust tools do (Rust ignores SIGPIPE, so the write fails with
/// EPIPE instead of killing the process; talon forbids the unsafe code that restoring it takes).
///
/// Errors: any other write failure (a full disk behind `> file`).
pub fn print_stdout(text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            context: "writing to standard output".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

async fn run_playbook(args: RunArgs) -> Result<i32, Error> {
    let (pb, inv, opts) = prepare(&args, |_| true).await?;
    if args.syntax_check {
        // ansible-playbook's `--syntax-check` output: everything loaded, nothing connected.
        println!("\nplaybook: {}", args.playbook.display());
        return Ok(crate::error::EXIT_OK);
    }
    if args.play.list_hosts || args.play.list_tasks || args.play.list_tags {
        print_stdout(&crate::playbook::listing::render(
            &pb,
            &inv,
            &opts,
            &args.playbook,
            &args.play,
        ))?;
        return Ok(crate::error::EXIT_OK);
    }
    let callback = opts.cfg.as_ref().and_then(|c| c.str("DEFAULT_STDOUT_CALLBACK"));
    let (reporter, view) = Reporter::start(ViewOptions {
        json: args.json || matches!(callback, Some("json" | "ansible.builtin.json")),
        verbosity: args.verbose,
        diff: args.diff,
        adhoc: None,
    });
    let summary = Runner::run(&pb, &inv, &opts, reporter).await;
    let _ = view.await;
    Ok(summary.exit_code())
}

/// Modules whose `-a` is their free-form command (ansible-core's `MODULE_REQUIRE_ARGS` and
/// raw-params modules): the text goes to the module as it is, never split into `k=v`.
const FREE_FORM: &[&str] = &["command", "shell", "raw", "script", "win_command", "win_shell"];

/// `talon adhoc` / `ansible`: one task, `MODULE: ARGS`, in a play over `PATTERN` without fact
/// gathering (ansible-core's `AdHocCLI._play_ds`), run like a playbook and reported as
/// ansible's `minimal` (or with `-o` its `oneline`) callback prints it.
async fn adhoc(args: AdhocArgs) -> Result<i32, Error> {
    let module = args.module.trim().to_string();
    if module.is_empty() {
        return Err(Error::Options("-m needs a module name".into()));
    }
    let short = module.rsplit('.').next().unwrap_or(&module);
    let raw = args.args.trim();
    let module_args: serde_json::Value = if FREE_FORM.contains(&short) {
        if raw.is_empty() {
            return Err(Error::Options(format!(
                "No argument passed to {module} module: give the command with -a"
            )));
        }
        serde_json::Value::String(raw.to_string())
    } else if raw.starts_with('{') {
        let node = crate::yaml::parse_str(raw, std::path::Path::new("-a"))
            .map_err(|e| Error::Options(format!("-a: {e}")))?;
        node.to_json()
    } else if raw.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::String(raw.to_string())
    };
    // The task as ansible-core's error block quotes it (Python's repr of the ad-hoc task).
    let quoted_args = match &module_args {
        serde_json::Value::String(s) if FREE_FORM.contains(&short) => {
            serde_json::json!({"_raw_params": s})
        }
        serde_json::Value::String(s) => serde_json::Value::Object(
            crate::playbook::parse_kv(s, false).map_err(|e| Error::Options(format!("-a: {e}")))?,
        ),
        serde_json::Value::Null => serde_json::json!({}),
        other => other.clone(),
    };
    let quoted = serde_json::json!({
        "action": module, "args": quoted_args, "timeout": 0, "async_val": 0, "poll": 15
    });
    let origin = format!(
        "Origin: <adhoc '{module}' task>\n\n{}\n",
        crate::template::filters::text::py_repr(&crate::template::filters::from_json_value(&quoted))
    );
    let mut task = serde_json::Map::new();
    task.insert(module.clone(), module_args);
    let mut play = serde_json::Map::new();
    play.insert("name".into(), "Ansible Ad-Hoc".into());
    play.insert("hosts".into(), args.pattern.clone().into());
    play.insert("gather_facts".into(), false.into());
    if args.become_root || args.become_user.is_some() {
        play.insert("become".into(), args.become_root.into());
    }
    if let Some(u) = &args.become_user {
        play.insert("become_user".into(), u.clone().into());
    }
    if let Some(u) = &args.user {
        play.insert("remote_user".into(), u.clone().into());
    }
    play.insert("tasks".into(), serde_json::Value::Array(vec![task.into()]));
    // The play is written to a private temporary folder (no group_vars/ beside it), as JSON,
    // which is YAML: the loader reads it like any playbook.
    let dir = tempfile::Builder::new()
        .prefix("talon-adhoc-")
        .tempdir()
        .map_err(|e| Error::Io {
            context: "creating the ad-hoc play's temporary folder".into(),
            source: e,
        })?;
    let path = dir.path().join(format!("<adhoc '{short}' task>.yml"));
    let text = serde_json::to_string_pretty(&serde_json::Value::Array(vec![play.into()]))
        .map_err(|e| Error::Options(format!("-a: {e}")))?;
    std::fs::write(&path, text).map_err(|e| Error::Io {
        context: format!("writing {}", path.display()),
        source: e,
    })?;
    let run_args = RunArgs {
        playbook: path,
        more_playbooks: Vec::new(),
        inventory: args.inventory,
        limit: args.limit,
        tags: Vec::new(),
        skip_tags: Vec::new(),
        check: args.check,
        diff: args.diff,
        forks: args.forks,
        extra_vars: args.extra_vars,
        force_handlers: false,
        json: false,
        verbose: args.verbose,
        syntax_check: false,
        strict: false,
        ssh: args.ssh,
        secret: args.secret,
        vault: args.vault,
        // ansible.cfg and ANSIBLE_* still apply (read in prepare); -u/-b are play keywords here.
        conn: crate::cli::ConnArgs::default(),
        play: crate::cli::PlayArgs::default(),
    };
    let (pb, inv, opts) = prepare(&run_args, |_| true).await?;
    let implicit = crate::inventory::LOCALHOST_NAMES.contains(&args.pattern.as_str());
    if !implicit && inv.select(&args.pattern).map(|h| h.is_empty()).unwrap_or(true) {
        eprintln!(
            "[WARNING]: Could not match supplied host pattern, ignoring: {}",
            args.pattern
        );
        eprintln!("[WARNING]: No hosts matched, nothing to do");
        return Ok(crate::error::EXIT_OK);
    }
    let (reporter, view) = Reporter::start(ViewOptions {
        json: false,
        verbosity: args.verbose,
        diff: args.diff,
        adhoc: Some(crate::report::view::AdhocView {
            one_line: args.one_line,
            origin,
        }),
    });
    let summary = Runner::run(&pb, &inv, &opts, reporter).await;
    let _ = view.await;
    drop(dir);
    Ok(summary.exit_code())
}

/// `talon galaxy install` / `role install` / `collection install`.
fn galaxy(cmd: GalaxyCommand) -> Result<i32, Error> {
    let (args, roles, collections): (GalaxyInstallArgs, bool, bool) = match cmd {
        GalaxyCommand::Install(a) => (a, true, true),
        GalaxyCommand::Role {
            command: GalaxyKindCommand::Install(a),
        } => (a, true, false),
        GalaxyCommand::Collection {
            command: GalaxyKindCommand::Install(a),
        } => (a, false, true),
    };
    if args.requirements.is_none() && args.names.is_empty() {
        return Err(Error::Options(
            "You must specify a user/role name or a roles file".into(),
        ));
    }
    // ansible-galaxy installs to ansible.cfg's roles_path / collections_path too.
    let cfg = crate::ansible_cfg::AnsibleCfg::load().map_err(|e| Error::Options(e.to_string()))?;
    for w in &cfg.warnings {
        eprintln!("[WARNING]: {w}");
    }
    crate::ansible_cfg::set_load_defaults(cfg.loader_defaults());
    crate::galaxy::install(&crate::galaxy::InstallRequest {
        requirements: args.requirements,
        names: args.names,
        path: args.path,
        force: args.force,
        no_deps: args.no_deps,
        roles,
        collections,
    })
}

async fn verify(args: VerifyArgs) -> Result<i32, Error> {
    let no_drift = args.no_drift;
    let run_args = RunArgs::from(args);
    let (pb, inv, opts) = prepare(&run_args, |p| !no_drift || crate::verify::is_verify_play(p)).await?;
    let report = crate::verify::verify(&pb, &inv, &opts).await;
    print_stdout(&report.render())?;
    Ok(report.exit_code())
}

fn inventory(args: InventoryArgs) -> Result<i32, Error> {
    // ansible.cfg: the inventory when no -i is given, and the vault settings.
    let cfg = crate::ansible_cfg::AnsibleCfg::load().map_err(|e| Error::Options(e.to_string()))?;
    for w in &cfg.warnings {
        eprintln!("[WARNING]: {w}");
    }
    args.vault.install_for_run_with(&vault_defaults(&cfg))?;
    let sources: Vec<std::path::PathBuf> = if args.inventory.is_empty() {
        cfg.list("DEFAULT_HOST_LIST")
            .into_iter()
            .map(std::path::PathBuf::from)
            .collect()
    } else {
        args.inventory.clone()
    };
    let mut inv = Inventory::load(&sources).map_err(Error::from)?;
    if let Some(dir) = &args.playbook_dir {
        inv.add_playbook_dir(dir).map_err(Error::from)?;
    }
    if args.toml {
        return Err(Error::Options(
            "talon does not write TOML inventories; use --yaml or the default JSON".into(),
        ));
    }
    let text = if let Some(group) = &args.graph {
        // `ansible-inventory GROUP --graph` names the group positionally.
        let group = match (group.as_str(), &args.group) {
            ("all", Some(g)) => g.as_str(),
            _ => group.as_str(),
        };
        // ansible-inventory's error (a bad option, exit 5) for a group that does not exist.
        inv.graph_group(group, args.show_vars)
            .ok_or_else(|| Error::Options("Pattern must be valid group name when using --graph".into()))?
    } else if let Some(h) = &args.host {
        let v = inv.host_json(h).ok_or_else(|| Error::UnknownHost(h.clone()))?;
        inventory_dump(&v, args.yaml)
    } else {
        let limit = match &args.limit {
            Some(p) => Some(inv.select(p).map_err(Error::from)?.into_iter().collect()),
            None => None,
        };
        let opts = crate::inventory::ListOptions {
            export: args.export,
            limit,
        };
        if args.yaml {
            inv.list_yaml(&opts)
        } else {
            inventory_dump(&inv.list_json_with(&opts), false)
        }
    };
    // Decrypted vault values are secrets: masked here too (ansible-inventory prints inline
    // `!vault` values as their ciphertext, decrypted vault files in clear).
    let text = crate::secrets::SecretStore::empty().mask(&text);
    if let Some(path) = &args.output
        && args.graph.is_none()
        && args.host.is_none()
    {
        // ansible-inventory writes the document without the newline it prints after it.
        std::fs::write(path, text.as_bytes()).map_err(|e| {
            Error::Options(format!(
                "Unable to write to destination file '{}': {e}",
                path.display()
            ))
        })?;
        return Ok(0);
    }
    // Printed as ansible's display does: a newline added unless the document ends with one.
    print_stdout(text.strip_suffix('\n').unwrap_or(&text))?;
    Ok(0)
}

/// The `ansible-inventory` document for `--list`/`--host`: JSON indented by 4 as its
/// `json.dumps(indent=4, sort_keys=True)`, or PyYAML's block YAML with `--yaml`.
fn inventory_dump(v: &serde_json::Value, yaml: bool) -> String {
    if yaml {
        crate::pyyaml::dump(v)
    } else {
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut buf = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        match serde::Serialize::serialize(v, &mut ser) {
            Ok(()) => String::from_utf8_lossy(&buf).into_owned(),
            Err(_) => String::new(),
        }
    }
}

fn lab(cmd: LabCommand) -> Result<i32, Error> {
    match cmd {
        LabCommand::Up {
            count,
            dir,
            docker,
            systemd,
            net_admin,
            extras,
        } => {
            let info = crate::lab::up(&crate::lab::LabOptions {
                dir,
                count,
                docker,
                systemd,
                net_admin,
                extras,
            })
            .map_err(Error::from)?;
            print_stdout(&info.to_string())?;
            Ok(0)
        }
        LabCommand::Image => {
            let tag = crate::lab::ensure_image().map_err(Error::from)?;
            print_stdout(&format!("lab image: {tag}"))?;
            Ok(0)
        }
        LabCommand::Down { dir } => {
            let n = crate::lab::down(&dir).map_err(Error::from)?;
            print_stdout(&format!("lab: removed {n} host(s)"))?;
            Ok(0)
        }
    }
}
