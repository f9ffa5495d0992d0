//! What each subcommand does, from parsed arguments to an exit code.

use crate::cli::{Cli, Command, InventoryArgs, LabCommand, RunArgs, VerifyArgs};
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
    let mut pb = crate::playbook::load(&args.playbook)?;
    pb.plays.retain(|p| keep(p));
    let mut inv = Inventory::load(&args.inventory).map_err(Error::from)?;
    inv.add_playbook_dir(&pb.dir).map_err(Error::from)?;
    if let Some(limit) = &args.limit {
        check_limit(&inv, limit)?;
    }
    let host_count = inv.select("all").map(|h| h.len()).unwrap_or(1);
    let mut opts = crate::config::resolve(args, host_count)?;
    answer_prompts(&mut pb, &mut opts, args.syntax_check)?;
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

/// Answers the plays' `vars_prompt` before anything runs (see
/// [`crate::playbook::vars_prompt`]): names given with `-e` or as secrets are not asked;
/// private answers become secrets of the run. `--syntax-check` asks nothing (the defaults, as
/// ansible-playbook).
fn answer_prompts(pb: &mut Playbook, opts: &mut Config, syntax_check: bool) -> Result<(), Error> {
    if pb.plays.iter().all(|p| p.vars_prompt.is_empty()) {
        return Ok(());
    }
    struct Quiet;
    impl crate::playbook::vars_prompt::Asker for Quiet {
        fn interactive(&self) -> bool {
            false
        }
        fn ask(&mut self, _: &str, _: bool) -> std::io::Result<String> {
            Ok(String::new())
        }
        fn say(&mut self, _: &str) {}
    }
    let mut terminal = crate::playbook::vars_prompt::Terminal;
    let mut quiet = Quiet;
    let asker: &mut dyn crate::playbook::vars_prompt::Asker =
        if syntax_check { &mut quiet } else { &mut terminal };
    let given: std::collections::HashSet<String> = opts
        .extra_vars
        .keys()
        .cloned()
        .chain(opts.secrets.names().map(str::to_string))
        .collect();
    let (secrets, warnings) =
        crate::playbook::vars_prompt::answer_all(pb, &opts.extra_vars, &|n| given.contains(n), asker)
            .map_err(Error::Options)?;
    if !syntax_check {
        for w in warnings {
            eprintln!("[WARNING]: {w}");
        }
    }
    if secrets.is_empty() {
        return Ok(());
    }
    let store = std::sync::Arc::get_mut(&mut opts.secrets)
        .ok_or_else(|| Error::Options("vars_prompt: the secret store is already shared (internal)".into()))?;
    for (name, value) in secrets {
        // secrets: a private answer is held as a secret from here on.
        store
            .insert(&name, secrecy::SecretString::from(value))
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
    let (reporter, view) = Reporter::start(ViewOptions {
        json: args.json,
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
    let mut inv = Inventory::load(&args.inventory).map_err(Error::from)?;
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
