//! How ansible.builtin.git runs the host's `git`: each command as its `run_command` runs it
//! (the C locale it picked, `GIT_SSH_COMMAND` in the environment, the task's `umask`, a `cwd`
//! used only when it is a folder, no stdin), read back as `(rc, stdout, stderr)`; a command the
//! module runs with `check_rc=True` fails as `run_command` fails ([`sysutil::command_failure`]).
//!
//! Everything the host runs reaches its shell on stdin (the exec line is a fixed script), so a
//! URL with credentials or the ssh command never appears in a shell's argv; git itself gets the
//! repository URL as an argument, as the module gives it.

use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::transport::quote;

/// Why the module's flow stopped early.
#[derive(Debug)]
pub enum Stop {
    /// The module's `fail_json` (or `exit_json` before the end): this outcome.
    Exit(Box<ModuleOutcome>),
    /// talon could not go on (the connection broke, the host's shell misbehaved).
    Error(ModuleError),
    /// A case only the module's own code runs as written: the Python path runs the task
    /// (nothing has changed on the host yet).
    Python(&'static str),
}

impl From<ModuleError> for Stop {
    fn from(e: ModuleError) -> Self {
        Stop::Error(e)
    }
}

/// The flow's result: a value, or the module's exit.
pub type Flow<T> = Result<T, Stop>;

/// The module exits with `o`.
pub fn exit(o: ModuleOutcome) -> Stop {
    Stop::Exit(Box::new(o))
}

/// A failed outcome with `msg` (the module's `fail_json(msg=...)`).
pub fn fail(msg: impl Into<String>) -> Stop {
    exit(ModuleOutcome::failed(msg))
}

/// One command for [`Host::run_all`]: its argv and the folder it runs in (`None`: the
/// module's own working folder, the login folder).
#[derive(Debug, Clone)]
pub struct Cmd {
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// `run_command`'s `cwd`.
    pub cwd: Option<String>,
}

impl Cmd {
    /// `argv` run in `cwd`.
    pub fn new<S: AsRef<str>>(cwd: Option<&str>, argv: &[S]) -> Cmd {
        Cmd {
            argv: argv.iter().map(|s| s.as_ref().to_string()).collect(),
            cwd: cwd.map(str::to_string),
        }
    }
}

/// How one command ended (`run_command`'s `(rc, stdout, stderr)`).
pub type Ran = sysutil::Step;

/// Shell functions of the fixed script: `run DIR ARGV...` (in DIR when it is a folder, stdin
/// from /dev/null), `line FILE` (`N` missing, `U` unreadable, else `R` and its first line),
/// `whole FILE` (the same with the whole file), `there PATH` (exit 0 when it exists).
const FUNCS: &str = r#"run() { ( if [ -n "$1" ] && [ -d "$1" ]; then cd -- "$1" || exit 1; fi; shift; exec "$@" </dev/null ) }
line() { if [ -e "$1" ]; then if [ -r "$1" ]; then echo R; head -n 1 -- "$1"; else echo U; fi; else echo N; fi; }
whole() { if [ -e "$1" ]; then if [ -r "$1" ]; then echo R; cat -- "$1"; else echo U; fi; else echo N; fi; }
there() { [ -e "$1" ]; }
"#;

/// Runs shell `lines` (built with [`quote`], read from stdin) after [`sysutil::STEP_FN`] and
/// [`FUNCS`]; returns stdout and the marker of its sections.
pub async fn trip(ctx: &ModuleContext<'_>, lines: &str) -> Result<(String, String), ModuleError> {
    let m = sysutil::marker();
    let script = format!("M=$1\n{}{FUNCS}eval \"$(cat)\"\n", sysutil::STEP_FN);
    let out = sysutil::run_script(
        ctx,
        &script,
        std::slice::from_ref(&m),
        Some(lines.as_bytes().to_vec()),
    )
    .await?;
    Ok((out.stdout_str(), m))
}

/// What `line`/`whole` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// The path does not exist.
    Missing,
    /// It exists but cannot be read.
    Unreadable,
    /// Its text (the first line with its newline for `line`).
    Text(String),
}

/// Reads a `line`/`whole` step's output.
pub fn read_of(step: &Ran) -> Read {
    match step.out.split_once('\n') {
        Some(("R", rest)) => Read::Text(rest.to_string()),
        None if step.out == "R" => Read::Text(String::new()),
        _ if step.out.starts_with('U') => Read::Unreadable,
        _ => Read::Missing,
    }
}

/// The host's git as the module runs it.
pub struct Host<'c> {
    ctx: &'c ModuleContext<'c>,
    /// `git_path`: `executable` or the `git` found on the host.
    pub git: String,
    /// `umask` and the environment lines every command runs under.
    prelude: String,
}

impl<'c> Host<'c> {
    /// A runner for `git` with the locale ansible-core picked, `GIT_SSH_COMMAND` and `umask`.
    pub fn new(
        ctx: &'c ModuleContext<'c>,
        git: String,
        locale: &str,
        ssh_command: &str,
        umask: Option<u32>,
    ) -> Self {
        let mut prelude = String::new();
        if let Some(u) = umask {
            prelude.push_str(&format!("umask {u:04o}\n"));
        }
        prelude.push_str(&format!(
            "GIT_SSH_COMMAND={}; export GIT_SSH_COMMAND\n",
            quote::quote(ssh_command)
        ));
        for k in ["LANG", "LC_ALL", "LC_MESSAGES", "LC_CTYPE", "LANGUAGE"] {
            prelude.push_str(&format!("{k}={}; export {k}\n", quote::quote(locale)));
        }
        Host { ctx, git, prelude }
    }

    /// `git ARGS...` as an argv.
    pub fn argv(&self, args: &[&str]) -> Vec<String> {
        std::iter::once(self.git.as_str())
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect()
    }

    /// Runs `cmds` in order in one round trip (each whatever the others did) and returns how
    /// each ended; `extra` shell lines (from [`FUNCS`]: `step NAME line FILE`) run after them.
    pub async fn run_all(&self, cmds: &[Cmd], extra: &str) -> Flow<(Vec<Ran>, Vec<(String, Ran)>)> {
        let mut lines = self.prelude.clone();
        for (i, c) in cmds.iter().enumerate() {
            let cwd = c.cwd.as_deref().unwrap_or("");
            lines.push_str(&format!(
                "step c{i} run {} {}\n",
                quote::quote(cwd),
                quote::join(&c.argv)
            ));
        }
        lines.push_str(extra);
        let (text, m) = trip(self.ctx, &lines).await?;
        let secs = sysutil::sections(&text, &m);
        let mut ran = Vec::new();
        for i in 0..cmds.len() {
            ran.push(sysutil::step(&secs, &format!("c{i}")).ok_or_else(|| self.broken())?);
        }
        let mut named = Vec::new();
        for l in extra.lines() {
            if let Some(name) = l.strip_prefix("step ").and_then(|r| r.split_whitespace().next()) {
                named.push((
                    name.to_string(),
                    sysutil::step(&secs, name).ok_or_else(|| self.broken())?,
                ));
            }
        }
        Ok((ran, named))
    }

    /// Runs one command (`run_command(args, cwd=cwd)`).
    pub async fn run(&self, cwd: Option<&str>, argv: Vec<String>) -> Flow<Ran> {
        let (mut ran, _) = self
            .run_all(
                &[Cmd {
                    argv,
                    cwd: cwd.map(str::to_string),
                }],
                "",
            )
            .await?;
        ran.pop().ok_or_else(|| self.broken())
    }

    /// Runs one command with `check_rc=True`: a non-zero exit fails as `run_command` fails.
    pub async fn check(&self, cwd: Option<&str>, argv: Vec<String>) -> Flow<Ran> {
        let r = self.run(cwd, argv.clone()).await?;
        check_rc(&argv, r)
    }

    /// Runs a shell line from [`FUNCS`] (`line FILE`, `whole FILE`, `there PATH`) in one trip.
    pub async fn shell(&self, func: &str, path: &str) -> Flow<Ran> {
        let extra = format!("step s {func} {}\n", quote::quote(path));
        let (_, mut named) = self.run_all(&[], &extra).await?;
        named.pop().map(|(_, r)| r).ok_or_else(|| self.broken())
    }

    fn broken(&self) -> Stop {
        Stop::Error(sysutil::bad(
            "git",
            format!("the host {} did not run git's commands to the end", self.ctx.host),
        ))
    }
}

/// `r` when it exited 0, else `run_command(check_rc=True)`'s failure for `argv`.
pub fn check_rc(argv: &[String], r: Ran) -> Flow<Ran> {
    if r.rc == 0 {
        return Ok(r);
    }
    Err(exit(sysutil::command_failure(argv, &r)))
}

/// `o` with `rc`, `stdout`, `stderr` (and the `_lines` ansible-core adds) of `r`.
pub fn with_run(o: ModuleOutcome, r: &Ran) -> ModuleOutcome {
    o.with("rc", r.rc)
        .with("stdout", r.out.as_str())
        .with("stdout_lines", sysutil::splitlines(&r.out))
        .with("stderr", r.err.as_str())
        .with("stderr_lines", sysutil::splitlines(&r.err))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_of_files() {
        let r = |out: &str| {
            read_of(&Ran {
                rc: 0,
                out: out.into(),
                err: String::new(),
            })
        };
        assert_eq!(r("N"), Read::Missing);
        assert_eq!(r("U"), Read::Unreadable);
        assert_eq!(
            r("R\nref: refs/heads/main\n"),
            Read::Text("ref: refs/heads/main\n".into())
        );
        assert_eq!(r("R"), Read::Text(String::new()));
    }
}
