//! The `talon` binary: parse the command line, run, map the result to an exit code.

use clap::Parser;

fn main() {
    // Bad options exit 5 like ansible-playbook (clap's own code, 2, would read as "a host failed").
    let cli = match talon::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 5 } else { 0 };
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
            std::process::exit(1);
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
