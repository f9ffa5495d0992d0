//! `hostname` (ansible.builtin.hostname) without Python on the host, for the two strategies a
//! Linux host of the Debian family uses: the module's `FileStrategy` (`/etc/hostname` is both
//! the current and the permanent name; Debian, Ubuntu and their kin when systemd is not the
//! init system) and its `SystemdStrategy` (`hostnamectl`; chosen when systemd runs the host, or
//! by `use: systemd` / `use: debian`). One round trip reads the host (kernel, distribution id,
//! systemd's canaries, `/etc/hostname`, `hostnamectl` status, the name's fully qualified form
//! as Python's `socket.getfqdn` finds it); one more writes when the name differs. Every other
//! strategy (`use: redhat`, `alpine`, `openrc`, `generic`, ... or another distribution found on
//! its own) runs ansible-core's module through the Python path.

use serde_json::json;

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{FileDiff, ModuleContext, ModuleError, ModuleOutcome, Plan, fallback, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `hostname`: `name`, `use`.
    INFO,
    "hostname",
    ArgSpec::new(&[
        ArgDef::str("name").required(),
        ArgDef::str("use").choices(&[
            "alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd", "openrc",
            "redhat", "sles", "solaris", "systemd",
        ]),
    ]),
    plan = plan,
    apply = apply
);

/// The distributions (`distro.id()`, lower case) whose `Hostname` subclass uses the module's
/// `FileStrategy`.
const FILE_STRATEGY: &[&str] = &[
    "debian",
    "kylin",
    "cumulus-linux",
    "kali",
    "parrot",
    "ubuntu",
    "linuxmint",
    "linaro",
    "devuan",
    "raspbian",
    "uos",
    "deepin",
    "neon",
    "void",
    "pop",
];

/// The file the module's `FileStrategy` reads and writes.
const FILE: &str = "/etc/hostname";

/// How the module finds and sets the name on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `/etc/hostname` only.
    File,
    /// `hostnamectl`.
    Systemd,
}

/// The module's choice of strategy (`Hostname.__init__` with `get_platform_subclass`): `use`
/// when given (`debian` and `systemd` are both `SystemdStrategy`), else `SystemdStrategy` on a
/// Linux host systemd manages, else the distribution's class. `None`: a strategy talon does
/// not implement (the Python path runs it).
pub fn strategy(
    use_: Option<&str>,
    kernel: &str,
    distro_id: &str,
    systemd_managed: bool,
) -> Option<Strategy> {
    match use_ {
        Some("debian" | "systemd") => Some(Strategy::Systemd),
        Some(_) => None,
        None if kernel != "Linux" => None,
        None if systemd_managed => Some(Strategy::Systemd),
        None if FILE_STRATEGY.contains(&distro_id) => Some(Strategy::File),
        None => None,
    }
}

/// Python's `socket.getfqdn()` from `getent hosts ADDRESS` of the node name's first address:
/// the canonical name when it has a dot, else the first alias with one, else the canonical
/// name; the node name itself when nothing resolved.
pub fn getfqdn(node: &str, hosts_line: &str) -> String {
    let mut fields = hosts_line.split_whitespace().skip(1);
    let Some(canonical) = fields.next() else {
        return node.to_string();
    };
    std::iter::once(canonical)
        .chain(fields)
        .find(|n| n.contains('.'))
        .unwrap_or(canonical)
        .to_string()
}

/// Reads the host in one trip (`$1` the marker; `$2` = 1 runs `hostnamectl` status whatever
/// the host's init): the kernel, the os-release `ID`, systemd's canaries, `/etc/hostname`
/// (`N` not a file, `U` unreadable, `R` and its text), the node name, its `getent hosts` line,
/// and each `hostnamectl` status with its exit code, stdout and stderr.
const READ: &str = r#"printf '%s os\n' "$M"; uname -s
printf '%s id\n' "$M"; for f in /etc/os-release /usr/lib/os-release; do
  if [ -f "$f" ]; then ( . "$f" >/dev/null 2>&1; printf '%s\n' "$ID" ); break; fi; done
printf '%s canary\n' "$M"; for d in /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/; do [ -e "$d" ] && echo "$d"; done
printf '%s file\n' "$M"; if [ -f /etc/hostname ]; then if [ -r /etc/hostname ]; then echo R; cat /etc/hostname; else echo U; fi; else echo N; fi
n=$(uname -n); printf '%s node\n%s\n%s fqdn\n' "$M" "$n" "$M"
a=$(getent ahosts "$n" 2>/dev/null | { read -r a _; printf '%s' "$a"; }); [ -n "$a" ] && getent hosts "$a"
if command -v hostnamectl >/dev/null 2>&1; then
  if [ "$2" = 1 ] || { command -v systemctl >/dev/null 2>&1 && [ -e /run/systemd/system/ ]; }; then
    step transient hostnamectl --transient status && step static hostnamectl --static status; fi; fi
exit 0
"#;

/// Sets the name (`$2`): `$3` = file writes `/etc/hostname` in place (the module's
/// `open('w+')`); `$3` = systemd runs `hostnamectl` for the permanent name (`$4` = 1) and then
/// the transient one (`$5` = 1), stopping at the first failure.
const WRITE: &str = r#"if [ "$3" = file ]; then step write sh -c 'printf "%s\n" "$1" > /etc/hostname' sh "$2"; exit 0; fi
if [ "$4" = 1 ]; then step static hostnamectl --pretty --static set-hostname "$2" || exit 0; fi
if [ "$5" = 1 ]; then step transient hostnamectl --transient set-hostname "$2"; fi
exit 0
"#;

/// The module's message for a command that failed.
fn command_failed(s: &sysutil::Step) -> String {
    format!("Command failed rc={}, out={}, err={}", s.rc, s.out, s.err)
}

/// What [`apply`] changes.
#[derive(Debug)]
pub struct Work {
    name: String,
    strategy: Strategy,
    set_permanent: bool,
    set_current: bool,
}

/// Reads the host and decides, as the module's `main`: the current and permanent names, the
/// change, `name`, the facts (`ansible_hostname`, `ansible_nodename`, `ansible_fqdn`,
/// `ansible_domain`) and, when changed, `diff` (`hostname = NAME`).
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit; [`ModuleError::Transport`]
/// when the host connection broke; those of the Python path for strategies it runs.
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<Work>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let name = a.req_str("name")?;
    let use_ = a.choice("use")?;
    let m = sysutil::marker();
    let forced = if matches!(use_.as_deref(), Some("debian" | "systemd")) {
        "1"
    } else {
        "0"
    };
    let script = format!(
        "{}M=$1\n{}{READ}",
        sysutil::tools_probe(&["systemctl", "hostnamectl"]),
        sysutil::STEP_FN
    );
    let out = sysutil::run_script(ctx, &script, &[m.clone(), forced.into()], None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let (Some(os), Some(id), Some(file), Some(node)) = (
        sysutil::section(&secs, "os"),
        sysutil::section(&secs, "id"),
        sysutil::section(&secs, "file"),
        sysutil::section(&secs, "node"),
    ) else {
        return Ok(Plan::Done(ModuleOutcome::failed(format!(
            "cannot read the host name on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        ))));
    };
    let systemd_managed = sysutil::missing_tool(&secs, "systemctl").is_none()
        && !sysutil::section(&secs, "canary")
            .unwrap_or_default()
            .trim()
            .is_empty();
    // distro.id(): lower case, spaces as underscores.
    let id = id.trim().to_lowercase().replace(' ', "_");
    let Some(strategy) = strategy(use_.as_deref(), os.trim(), &id, systemd_managed) else {
        let why = format!("hostname strategy for use={use_:?} on {} ({id})", os.trim());
        return fallback::python_path("ansible.builtin.hostname", "hostname", args, ctx, &why)
            .await
            .map(Plan::Done);
    };
    let (current, permanent) = match strategy {
        Strategy::File => {
            let content = match file.split_once('\n') {
                Some(("R", rest)) => rest.to_string(),
                _ => String::new(),
            };
            if content.contains('\u{fffd}') {
                let why = "/etc/hostname is not UTF-8";
                return fallback::python_path("ansible.builtin.hostname", "hostname", args, ctx, why)
                    .await
                    .map(Plan::Done);
            }
            let n = content.trim().to_string();
            (n.clone(), n)
        }
        Strategy::Systemd => {
            if let Some(msg) = sysutil::missing_tool(&secs, "hostnamectl") {
                return Ok(Plan::Done(ModuleOutcome::failed(msg)));
            }
            let Some(transient) = sysutil::step(&secs, "transient") else {
                return Ok(Plan::Done(ModuleOutcome::failed("hostnamectl did not run")));
            };
            if transient.rc != 0 {
                return Ok(Plan::Done(ModuleOutcome::failed(command_failed(&transient))));
            }
            let Some(stat) = sysutil::step(&secs, "static") else {
                return Ok(Plan::Done(ModuleOutcome::failed("hostnamectl did not run")));
            };
            if stat.rc != 0 {
                return Ok(Plan::Done(ModuleOutcome::failed(command_failed(&stat))));
            }
            (transient.out.trim().to_string(), stat.out.trim().to_string())
        }
    };
    let set_permanent = permanent != name;
    let set_current = current != name;
    let changed = set_permanent || set_current;
    let before = if name != current { &current } else { &permanent };
    let node = node.trim();
    let fqdn = getfqdn(node, sysutil::section(&secs, "fqdn").unwrap_or_default());
    let domain = fqdn.split('.').skip(1).collect::<Vec<_>>().join(".");
    let short = name.split('.').next().unwrap_or_default();
    let mut o = ModuleOutcome::changed(changed).with("name", name.as_str()).with(
        "ansible_facts",
        json!({
            "ansible_hostname": short,
            "ansible_nodename": name,
            "ansible_fqdn": fqdn,
            "ansible_domain": domain,
        }),
    );
    if !changed {
        return Ok(Plan::Done(o));
    }
    let (b, af) = (format!("hostname = {before}\n"), format!("hostname = {name}\n"));
    o = o.with("diff", json!({"before": b, "after": af}));
    if ctx.diff {
        o.diff.push(FileDiff {
            before: b,
            after: af,
            ..FileDiff::default()
        });
    }
    Ok(Plan::Change(
        o,
        Work {
            name,
            strategy,
            set_permanent,
            set_current,
        },
    ))
}

/// Writes `/etc/hostname`, or runs `hostnamectl` (permanent name first, as the module's
/// `SystemdStrategy`), with the module's failures: "failed to update hostname: [Errno N] ...",
/// "name cannot be longer than 64 characters on systemd servers, try a shorter name",
/// "Command failed rc=N, out=..., err=...".
///
/// Errors: [`ModuleError::Transport`] when the host connection broke.
pub async fn apply(
    w: Work,
    planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    if w.strategy == Strategy::Systemd && w.name.chars().count() > 64 {
        return Ok(ModuleOutcome::failed(
            "name cannot be longer than 64 characters on systemd servers, try a shorter name",
        ));
    }
    let m = sysutil::marker();
    let flag = |b: bool| if b { "1" } else { "0" }.to_string();
    let kind = match w.strategy {
        Strategy::File => "file",
        Strategy::Systemd => "systemd",
    };
    let wargs = [
        m.clone(),
        w.name.clone(),
        kind.into(),
        flag(w.set_permanent),
        flag(w.set_current),
    ];
    let script = format!("M=$1\n{}{WRITE}", sysutil::STEP_FN);
    let out = sysutil::run_script(ctx, &script, &wargs, None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    if let Some(s) = sysutil::step(&secs, "write")
        && s.rc != 0
    {
        let why = sysutil::python_os_error(&s.err, FILE).unwrap_or_else(|| s.err.trim().to_string());
        return Ok(ModuleOutcome::failed(format!("failed to update hostname: {why}")));
    }
    for n in ["static", "transient"] {
        if let Some(s) = sysutil::step(&secs, n)
            && s.rc != 0
        {
            return Ok(ModuleOutcome::failed(command_failed(&s)));
        }
    }
    if !out.status.success() {
        return Ok(ModuleOutcome::failed(format!(
            "cannot set the host name on {} ({}): {}",
            ctx.host,
            out.status,
            out.stderr_str().trim()
        )));
    }
    Ok(planned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_as_the_module_picks_them() {
        assert_eq!(strategy(None, "Linux", "debian", false), Some(Strategy::File));
        assert_eq!(strategy(None, "Linux", "ubuntu", true), Some(Strategy::Systemd));
        assert_eq!(
            strategy(Some("debian"), "Linux", "debian", false),
            Some(Strategy::Systemd)
        );
        assert_eq!(
            strategy(Some("systemd"), "Linux", "centos", false),
            Some(Strategy::Systemd)
        );
        assert_eq!(strategy(Some("redhat"), "Linux", "debian", false), None);
        assert_eq!(strategy(None, "Linux", "centos", false), None);
        assert_eq!(strategy(None, "FreeBSD", "freebsd", false), None);
        assert_eq!(
            strategy(None, "Linux", "cumulus-linux", false),
            Some(Strategy::File)
        );
    }

    #[test]
    fn fqdn_as_python_finds_it() {
        assert_eq!(getfqdn("lab1", "172.17.0.2      lab1\n"), "lab1");
        assert_eq!(
            getfqdn("lab1", "10.0.0.1 lab1 lab1.example.com\n"),
            "lab1.example.com"
        );
        assert_eq!(
            getfqdn("web", "10.0.0.1 web.example.org web\n"),
            "web.example.org"
        );
        assert_eq!(getfqdn("lab1", ""), "lab1");
    }
}
