//! The `talon` binary: parse the command line, run, map the result to an exit code.

use clap::Parser;

/// The subcommand the binary stands for when it is called by one of Ansible's program names
/// (a symlink `ansible-playbook -> talon`), so scripts and CI jobs switch without edits.
fn multicall(argv0: &std::ffi::OsStr) -> Option<&'static str> {
    let name = std::path::Path::new(argv0).file_name()?.to_str()?;
    match name {
        "ansible" => Some("adhoc"),
        "ansible-playbook" => Some("run"),
        "ansible-inventory" => Some("inventory"),
        "ansible-vault" => Some("vault"),
        "ansible-config" => Some("config"),
        "ansible-galaxy" => Some("galaxy"),
        _ => None,
    }
}

fn main() {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(sub) = args.first().and_then(|a| multicall(a)) {
        args.insert(1, sub.into());
    }
    let cli = match talon::cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                talon::error::EXIT_USAGE
            } else {
                talon::error::EXIT_OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TALON_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,talon::lab=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("talon: cannot start the async runtime: {e}");
            std::process::exit(talon::error::EXIT_ERROR);
        }
    };
    let code = match runtime.block_on(talon::app::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // ansible-core 2.19 prefixes errors this way ("ERROR! " before 2.19).
            eprintln!("[ERROR]: {e}");
            e.code()
        }
    };
    std::process::exit(code);
}
