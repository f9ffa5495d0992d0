//! `reboot`: reboots the host and waits until it is back, as ansible-core 2.19's reboot action
//! plugin does (there is no module: the plugin is the whole of it), without Python on the host.
//!
//! The steps are the plugin's: the boot id (`boot_time_command`, default
//! `cat /proc/sys/kernel/random/boot_id`) is read; the shutdown command is found in
//! `search_paths` (as its `find` does: the first folder holding that name) and run with its
//! arguments (`-r {delay_min} "{msg}"` on Linux, the plugin's table for other systems, or the rest
//! of `reboot_command`); a connection lost under it counts as success. After
//! `post_reboot_delay`, the boot id is read again until it differs (the connection reset and
//! opened again after every transport failure, with `connect_timeout` when given), then
//! `test_command` runs until it succeeds; each phase within `reboot_timeout` seconds, retried
//! after the plugin's backoff (`2**n` seconds plus up to 1 s of jitter, at most 12). Every
//! command runs with the task's become, as the plugin's `sudoable` commands.
//!
//! Results: `rebooted`, `changed`, `elapsed` (whole seconds since the shutdown command ran);
//! `msg` on failure. Check mode reports `changed`/`rebooted` without rebooting; a local
//! connection fails (it would reboot the controller).

use std::time::{Duration, Instant};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::transport::{ExecOutput, TransportError};
use crate::vars::Vars;

crate::module_info!(
    /// `reboot`: the plugin's nine options.
    INFO,
    "reboot",
    ArgSpec::new(&[
        ArgDef::str("boot_time_command"),
        ArgDef::int("connect_timeout"),
        ArgDef::str("msg"),
        ArgDef::int("post_reboot_delay"),
        ArgDef::int("pre_reboot_delay"),
        ArgDef::str("reboot_command"),
        ArgDef::int("reboot_timeout"),
        ArgDef::list("search_paths"),
        ArgDef::str("test_command"),
    ]),
    run
);

const DEFAULT_BOOT_TIME_COMMAND: &str = "cat /proc/sys/kernel/random/boot_id";
const DEFAULT_MESSAGE: &str = "Reboot initiated by Ansible";
const DEFAULT_SEARCH_PATHS: &[&str] = &["/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin"];
/// The plugin's longest pause between two attempts, in seconds (before jitter).
const MAX_FAIL_SLEEP: f64 = 12.0;

/// The system as the plugin's tables key it: the distribution's lower-cased name (`debian`,
/// `alpine`, `freebsd`, `macosx`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    /// `ansible_distribution`, lower-cased.
    pub name: String,
}

impl System {
    /// The system from `uname -s` and `/etc/os-release`'s `ID` (as the distribution fact
    /// names them: Darwin is `macosx`, SunOS `solaris`).
    pub fn from_probe(uname: &str, os_id: &str) -> System {
        let name = match uname.trim() {
            "Linux" => os_id.trim().to_ascii_lowercase(),
            "Darwin" => "macosx".to_string(),
            "SunOS" => "solaris".to_string(),
            other => other.to_ascii_lowercase(),
        };
        System { name }
    }

    /// The shutdown program (the plugin's SHUTDOWN_COMMANDS).
    pub fn shutdown_command(&self) -> &'static str {
        match self.name.as_str() {
            "alpine" | "vmkernel" => "reboot",
            _ => "shutdown",
        }
    }

    /// The shutdown arguments (the plugin's SHUTDOWN_COMMAND_ARGS, formatted with the delay
    /// in seconds, in whole minutes, and the message).
    pub fn shutdown_args(&self, delay_sec: u64, msg: &str) -> String {
        let min = delay_sec / 60;
        match self.name.as_str() {
            "alpine" => String::new(),
            "void" | "macosx" | "openbsd" => format!("-r +{min} \"{msg}\""),
            "freebsd" => format!("-r +{delay_sec}s \"{msg}\""),
            "solaris" | "sunos" => format!("-y -g {delay_sec} -i 6 \"{msg}\""),
            "vmkernel" => format!("-d {delay_sec}"),
            "aix" => "-Fr".to_string(),
            _ => format!("-r {min} \"{msg}\""),
        }
    }

    /// The default boot time command (the plugin's BOOT_TIME_COMMANDS).
    pub fn boot_time_command(&self) -> &'static str {
        match self.name.as_str() {
            "freebsd" | "openbsd" => "/sbin/sysctl kern.boottime",
            "macosx" | "solaris" | "sunos" | "aix" => "who -b",
            "vmkernel" => "grep booted /var/log/vmksummary.log | tail -n 1",
            _ => DEFAULT_BOOT_TIME_COMMAND,
        }
    }

    /// The default test command (the plugin's TEST_COMMANDS).
    pub fn test_command(&self) -> &'static str {
        match self.name.as_str() {
            "solaris" | "vmkernel" => "who",
            _ => "whoami",
        }
    }
}

/// The pause before attempt `fail_count + 1`: `2**fail_count` seconds, at most 12, plus
/// `jitter` (0 to 1 s), as the plugin's `do_until_success_or_timeout`.
pub fn fail_sleep(fail_count: u32, jitter: f64) -> Duration {
    let base = 2f64.powi(fail_count.min(16) as i32).min(MAX_FAIL_SLEEP);
    Duration::from_secs_f64(base + jitter)
}

/// A value the plugin converts with `int()`: negative delays count as zero.
fn delay(a: &Args<'_>, name: &str) -> Result<u64, ModuleError> {
    Ok(a.i64(name)?.unwrap_or(0).max(0) as u64)
}

/// Runs `command` with `/bin/sh -c` and the task's become (the plugin's
/// `_low_level_execute_command`).
async fn low_level(ctx: &ModuleContext<'_>, command: &str) -> Result<ExecOutput, ModuleError> {
    sysutil::run_script(ctx, r#"exec /bin/sh -c "$1""#, &[command.to_string()], None).await
}

/// Runs `reboot`. Errors: [`ModuleError::BadArgs`] for arguments the plugin does not take; a
/// host that cannot be reached before the shutdown command is unreachable.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    if ctx.conn.is_local() {
        return Ok(ModuleOutcome::failed(
            "Running reboot with local connection would reboot the control node.",
        )
        .with("elapsed", 0)
        .with("rebooted", false));
    }
    if ctx.check {
        return Ok(ModuleOutcome::changed(true)
            .with("elapsed", 0)
            .with("rebooted", true));
    }
    let pre = delay(&a, "pre_reboot_delay")?;
    let post = delay(&a, "post_reboot_delay")?;
    let reboot_timeout = Duration::from_secs(a.i64("reboot_timeout")?.unwrap_or(600).max(0) as u64);
    let connect_timeout = a
        .i64("connect_timeout")?
        .filter(|t| *t > 0)
        .map(|t| Duration::from_secs(t as u64));
    let probe = sysutil::run_script(
        ctx,
        "uname -s; ( . /etc/os-release 2>/dev/null && echo \"$ID\" )",
        &[],
        None,
    )
    .await?;
    let text = probe.stdout_str();
    let mut words = text.lines();
    let system = System::from_probe(words.next().unwrap_or(""), words.next().unwrap_or(""));
    let boot_cmd = a
        .str("boot_time_command")?
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| system.boot_time_command().to_string());
    let previous = match boot_time(ctx, &boot_cmd).await {
        Ok(b) => b,
        Err(Failure::Transport(e)) => return Err(e.into()),
        Err(Failure::Message(msg)) => {
            return Ok(ModuleOutcome::failed(msg).with("reboot", false));
        }
    };
    let reboot_command = match shutdown_command(ctx, &a, &system, pre).await? {
        Ok(c) => c,
        Err(msg) => return Ok(ModuleOutcome::failed(msg)),
    };
    let ran = low_level(ctx, &reboot_command).await;
    let start = Instant::now();
    let elapsed = |o: ModuleOutcome| o.with("elapsed", start.elapsed().as_secs());
    match ran {
        // The host closed the connection under the command: it is going down.
        Err(ModuleError::Transport(_)) => {}
        Err(e) => return Err(e),
        Ok(out) if !out.status.success() => {
            let msg = format!(
                "Reboot command failed. Error was: '{}, {}'",
                out.stdout_str().trim(),
                out.stderr_str().trim()
            );
            return Ok(elapsed(ModuleOutcome::failed(msg).with("rebooted", false)));
        }
        Ok(_) => {}
    }
    if post > 0 {
        tokio::time::sleep(Duration::from_secs(post)).await;
    }
    let test = a
        .str("test_command")?
        .unwrap_or_else(|| system.test_command().to_string());
    let boot_phase = Phase::BootChanged {
        command: &boot_cmd,
        previous: &previous,
        connect_timeout,
    };
    let mut result = until_success(ctx, reboot_timeout, &boot_phase).await;
    if result.is_ok() {
        if connect_timeout.is_some() {
            // The plugin puts the host's own connect timeout back with a reset.
            ctx.conn.reset().await;
        }
        result = until_success(ctx, reboot_timeout, &Phase::Test { command: &test }).await;
    }
    Ok(elapsed(match result {
        Ok(()) => ModuleOutcome::changed(true).with("rebooted", true),
        Err(msg) => ModuleOutcome::failed(msg).with("rebooted", true),
    }))
}

/// Why one attempt failed.
enum Failure {
    /// The host could not be reached (the connection is reset before the next attempt).
    Transport(TransportError),
    /// The host answered, but not yet as wanted.
    Message(String),
}

impl From<ModuleError> for Failure {
    fn from(e: ModuleError) -> Failure {
        match e {
            ModuleError::Transport(t) => Failure::Transport(t),
            other => Failure::Message(other.to_string()),
        }
    }
}

/// The boot id as `command` prints it, trimmed. A non-zero exit is the plugin's message.
async fn boot_time(ctx: &ModuleContext<'_>, command: &str) -> Result<String, Failure> {
    let out = low_level(ctx, command).await?;
    if !out.status.success() {
        return Err(Failure::Message(format!(
            "reboot: failed to get host boot time info, rc: {}, stdout: {}, stderr: {}",
            out.status.rc(),
            out.stdout_str(),
            out.stderr_str()
        )));
    }
    Ok(out.stdout_str().trim().to_string())
}

/// The whole shutdown command: `reboot_command`'s program (or the system's) found in
/// `search_paths` when it is not absolute, with its arguments. `Ok(Err(message))` when the
/// program is in none of them (the plugin's error).
async fn shutdown_command(
    ctx: &ModuleContext<'_>,
    a: &Args<'_>,
    system: &System,
    pre_delay: u64,
) -> Result<Result<String, String>, ModuleError> {
    let (program, args) = match a.str("reboot_command")? {
        Some(c) => match c.split_once(' ') {
            Some((p, rest)) => (p.to_string(), rest.to_string()),
            None => (c, String::new()),
        },
        None => {
            let msg = a.str("msg")?.unwrap_or_else(|| DEFAULT_MESSAGE.to_string());
            (
                system.shutdown_command().to_string(),
                system.shutdown_args(pre_delay, &msg),
            )
        }
    };
    if program.starts_with('/') {
        return Ok(Ok(format!("{program} {args}")));
    }
    let paths = a
        .list("search_paths")?
        .unwrap_or_else(|| DEFAULT_SEARCH_PATHS.iter().map(|s| s.to_string()).collect());
    let mut script = String::from(
        "n=$1; shift; for d in \"$@\"; do if [ -e \"$d/$n\" ] || [ -L \"$d/$n\" ]; then printf '%s\\n' \"$d/$n\"; exit 0; fi; done; exit 1",
    );
    script.push('\n');
    let mut argv = vec![program.clone()];
    argv.extend(paths.iter().map(|p| p.trim_end_matches('/').to_string()));
    let out = sysutil::run_script(ctx, &script, &argv, None).await?;
    match out.stdout_str().lines().next() {
        Some(found) if out.status.success() => Ok(Ok(format!("{found} {args}"))),
        // An AnsibleError the plugin raises: ansible-core 2.19 prefixes "Task failed: ".
        _ => Ok(Err(format!(
            "Task failed: Unable to find command \"{program}\" in search paths: {}",
            sysutil::py_list_repr(&paths)
        ))),
    }
}

/// What the plugin waits for after the shutdown command.
enum Phase<'p> {
    /// `command` prints a boot id other than `previous` (a new connection first, within
    /// `connect_timeout`, when given).
    BootChanged {
        command: &'p str,
        previous: &'p str,
        connect_timeout: Option<Duration>,
    },
    /// `command` succeeds.
    Test { command: &'p str },
}

impl Phase<'_> {
    /// The plugin's `action_desc`.
    fn desc(&self) -> &'static str {
        match self {
            Phase::BootChanged { .. } => "last boot time check",
            Phase::Test { .. } => "post-reboot test command",
        }
    }

    /// One attempt.
    async fn attempt(&self, ctx: &ModuleContext<'_>) -> Result<(), Failure> {
        match self {
            Phase::BootChanged {
                command,
                previous,
                connect_timeout,
            } => {
                if let Some(t) = connect_timeout {
                    ctx.conn.reconnect(Some(*t)).await.map_err(Failure::Transport)?;
                }
                let now = boot_time(ctx, command).await?;
                if now.is_empty() || now == *previous {
                    return Err(Failure::Message("boot time has not changed".to_string()));
                }
                Ok(())
            }
            Phase::Test { command } => {
                let out = low_level(ctx, command).await?;
                if !out.status.success() {
                    return Err(Failure::Message(format!(
                        "Test command failed: {} {}",
                        out.stderr_str(),
                        out.stdout_str()
                    )));
                }
                Ok(())
            }
        }
    }
}

/// Runs `phase` until it succeeds or `timeout` passes (the plugin's
/// `do_until_success_or_timeout`): after a transport failure the connection is reset, so the
/// next attempt connects again. Errors: the plugin's "Timed out waiting for DESC (timeout=N)".
async fn until_success(ctx: &ModuleContext<'_>, timeout: Duration, phase: &Phase<'_>) -> Result<(), String> {
    let end = Instant::now() + timeout;
    let mut fail_count = 0u32;
    while Instant::now() < end {
        match phase.attempt(ctx).await {
            Ok(()) => return Ok(()),
            Err(Failure::Transport(e)) => {
                tracing::debug!(host = ctx.host, "reboot: {} fail '{e}'", phase.desc());
                ctx.conn.reset().await;
            }
            Err(Failure::Message(m)) => {
                tracing::debug!(host = ctx.host, "reboot: {} fail '{m}'", phase.desc());
            }
        }
        tokio::time::sleep(fail_sleep(fail_count, jitter())).await;
        fail_count += 1;
    }
    Err(format!(
        "Timed out waiting for {} (timeout={})",
        phase.desc(),
        timeout.as_secs()
    ))
}

/// Up to a second of jitter, from the clock's nanoseconds (spreads hosts rebooted together).
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1000) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_arguments_follow_the_plugins_table() {
        let debian = System::from_probe("Linux\n", "debian\n");
        assert_eq!(debian.shutdown_command(), "shutdown");
        assert_eq!(debian.shutdown_args(125, "bye"), "-r 2 \"bye\"");
        assert_eq!(debian.boot_time_command(), DEFAULT_BOOT_TIME_COMMAND);
        assert_eq!(debian.test_command(), "whoami");
        let alpine = System::from_probe("Linux", "alpine");
        assert_eq!(
            (alpine.shutdown_command(), alpine.shutdown_args(60, "x").as_str()),
            ("reboot", "")
        );
        let bsd = System::from_probe("FreeBSD", "");
        assert_eq!(bsd.shutdown_args(30, "m"), "-r +30s \"m\"");
        assert_eq!(bsd.boot_time_command(), "/sbin/sysctl kern.boottime");
        let mac = System::from_probe("Darwin", "");
        assert_eq!(mac.name, "macosx");
        assert_eq!(mac.shutdown_args(120, "m"), "-r +2 \"m\"");
    }

    #[test]
    fn backoff_doubles_up_to_twelve_seconds_plus_jitter() {
        assert_eq!(fail_sleep(0, 0.0), Duration::from_secs(1));
        assert_eq!(fail_sleep(3, 0.5), Duration::from_millis(8500));
        assert_eq!(fail_sleep(4, 0.0), Duration::from_secs(12));
        assert_eq!(fail_sleep(40, 0.25), Duration::from_millis(12250));
    }
}
