//! What each subcommand does, from parsed arguments to an exit code.

use crate::cli::{Cli, Command, ConfigCommand, InventoryArgs, LabCommand, RunArgs, VerifyArgs};
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
    let mut pb = crate::playbook::load(&args.playbook)?;
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
    let opts = crate::config::resolve_with(args, host_count, cfg)?;
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
    Ok((pb, inv, opts))
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
    });
    let summary = Runner::run(&pb, &inv, &opts, reporter).await;
    let _ = view.await;
    Ok(summary.exit_code())
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
    let sources = if args.inventory.is_empty() {
        // ansible-inventory without -i: ansible.cfg's inventory (or ANSIBLE_INVENTORY).
        let cfg = crate::ansible_cfg::AnsibleCfg::load().map_err(|e| Error::Options(e.to_string()))?;
        for w in &cfg.warnings {
            eprintln!("[WARNING]: {w}");
        }
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
    let text = if args.graph {
        inv.graph()
    } else if let Some(h) = &args.host {
        let v = inv.host_json(h).ok_or_else(|| Error::UnknownHost(h.clone()))?;
        serde_json::to_string_pretty(&v).unwrap_or_default()
    } else {
        serde_json::to_string_pretty(&inv.list_json()).unwrap_or_default()
    };
    print_stdout(&text)?;
    Ok(0)
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
