//! `package_facts`: the host's installed packages as `ansible_facts.packages`, matching
//! ansible.builtin.package_facts with its apt backend, without Python (or python3-apt) on the
//! host: one round trip reads dpkg's database with `dpkg-query` and the controller builds what
//! python-apt's cache gives the module for a version only dpkg's status file knows (name
//! `NAME` or `NAME:ARCH` for a foreign architecture, `version`, `arch`, `category` the
//! section, `origin` empty, `source: apt`).
//!
//! The module's manager walk is followed (`manager` list with `auto`, the aliases, `strategy`
//! `first`/`all`, its unsupported-manager and nothing-found failures, its warnings for a
//! requested CLI manager that is missing). What talon does not read runs ansible-core's own
//! module (the Python path): a host with another package manager the walk would reach (`apk`,
//! `pacman`, `pkg`, `pkg_info`, `qlist`, `rpm`), a requested `rpm`, a host without dpkg-query
//! or apt, and a host whose apt lists hold package indexes: python-apt then takes a version's
//! section and origin from the first index that lists it, which dpkg does not know.
//!
//! Difference: ansible-core's apt backend fails on a host without python3-apt ("Could not
//! detect a supported package manager"); talon's needs none.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `package_facts`: `manager` (default `auto`), `strategy` (`first`, `all`).
    INFO,
    "package_facts",
    ArgSpec::new(&[
        ArgDef::list("manager"),
        ArgDef::str("strategy").choices(&["first", "all"]),
    ]),
    run
);

/// The module's manager names: its backends' class names sorted, then the aliases
/// (ansible-core 2.19's `PKG_MANAGER_NAMES`).
const NAMES: &[&str] = &[
    "apk",
    "apt",
    "pacman",
    "pkg",
    "pkg_info",
    "portage",
    "rpm",
    "dnf",
    "dnf5",
    "yum",
    "zypper",
    "pkg5",
    "pkgng",
    "openbsd_pkg",
];

/// The backend an alias stands for (the module's `ALIASES`).
fn backend(name: &str) -> &str {
    match name {
        "dnf" | "dnf5" | "yum" | "zypper" => "rpm",
        "pkg5" | "pkgng" => "pkg",
        "openbsd_pkg" => "pkg_info",
        other => other,
    }
}

/// The program a command-line backend looks for (`None` for apt and rpm, which need Python
/// libraries).
fn cli(backend: &str) -> Option<&'static str> {
    match backend {
        "apk" => Some("apk"),
        "pacman" => Some("pacman"),
        "pkg" => Some("pkg"),
        "pkg_info" => Some("pkg_info"),
        "portage" => Some("qlist"),
        _ => None,
    }
}

/// The probe: the tools the backends look for, whether apt's lists hold package indexes, the
/// native architecture and dpkg's database (`STATUS<TAB>PACKAGE<TAB>ARCH<TAB>VERSION<TAB>SECTION`).
const SCRIPT: &str = r#"M=$1
export LANG=C LC_ALL=C
PATH="$PATH:/sbin:/usr/sbin:/usr/local/sbin"
printf '%s rpmlib\n' "$M"
ls -d /usr/lib/python3*/*-packages/rpm /usr/local/lib/python3*/*-packages/rpm 2>/dev/null
L=/var/lib/apt/lists/
command -v apt-config >/dev/null 2>&1 && eval "$(apt-config shell L Dir::State::lists/d 2>/dev/null)"
printf '%s lists\n' "$M"; ls -A "$L" 2>/dev/null | grep Packages
command -v dpkg-query >/dev/null 2>&1 || exit 0
printf '%s arch\n' "$M"; dpkg --print-architecture
printf '%s pkgs\n' "$M"
dpkg-query -W -f '${db:Status-Status}\t${Package}\t${Architecture}\t${Version}\t${Section}\n'
"#;

/// One installed package as the module's apt backend reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// python-apt's cache key: the name, `NAME:ARCH` for a foreign architecture.
    pub key: String,
    /// The version, epoch included.
    pub version: String,
    /// The version's architecture (`all` too).
    pub arch: String,
    /// The section (`category`).
    pub section: String,
}

/// The packages of `dpkg-query` output (see [`SCRIPT`]) that python-apt counts as installed
/// (a current version: every dpkg state but `not-installed` and `config-files`), keyed as its
/// cache keys them (`Package.get_fullname(pretty=True)`: the name alone for the native
/// architecture and `all`).
pub fn parse_dpkg(text: &str, native_arch: &str) -> Vec<Installed> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.splitn(5, '\t').collect();
            let [status, name, arch, version, section] = f[..] else {
                return None;
            };
            if matches!(status, "not-installed" | "config-files") || name.is_empty() {
                return None;
            }
            let key = if arch == native_arch || arch == "all" || arch.is_empty() {
                name.to_string()
            } else {
                format!("{name}:{arch}")
            };
            Some(Installed {
                key,
                version: version.to_string(),
                arch: arch.to_string(),
                section: section.to_string(),
            })
        })
        .collect()
}

/// `ansible_facts.packages` from the installed packages: name -> list of
/// `{name, version, arch, category, origin, source}`.
pub fn facts(installed: &[Installed]) -> Map<String, Value> {
    let mut by_name: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for p in installed {
        by_name.entry(&p.key).or_default().push(json!({
            "name": p.key,
            "version": p.version,
            "arch": p.arch,
            "category": p.section,
            "origin": "",
            "source": "apt",
        }));
    }
    by_name
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::Array(v)))
        .collect()
}

/// Python's `repr` of a list of names (`['apt', 'rpm']`).
fn py_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The managers the module walks, in order: the requested ones lowercased, `auto` replaced by
/// every name (its first occurrence removed, the names appended, as the module does).
fn walk_order(requested: &[String]) -> Vec<String> {
    let mut managers: Vec<String> = requested.iter().map(|m| m.to_lowercase()).collect();
    if let Some(i) = managers.iter().position(|m| m == "auto") {
        managers.extend(NAMES.iter().map(|n| (*n).to_string()));
        managers.remove(i);
    }
    managers
}

/// Runs `package_facts`. Result (matches ansible.builtin.package_facts with its apt backend):
/// `ansible_facts: {packages: {...}}` (see [`facts`]), never changed, the same in check mode.
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit, or when a case talon hands
/// to ansible-core's module cannot take the Python path; [`ModuleError::Transport`] when the
/// host cannot be asked.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let requested = a.list("manager")?.unwrap_or_else(|| vec!["auto".into()]);
    let strategy = a.choice("strategy")?.unwrap_or_else(|| "first".into());
    let managers = walk_order(&requested);
    let mut unsupported: Vec<&String> = managers.iter().filter(|m| !NAMES.contains(&m.as_str())).collect();
    unsupported.dedup();
    if let Some(first) = unsupported.first() {
        if requested.iter().any(|m| m == "auto") {
            return Ok(ModuleOutcome::failed(
                "Could not auto detect a usable package manager, check warnings for details.",
            ));
        }
        if unsupported.iter().all(|u| u == first) {
            return Ok(ModuleOutcome::failed(format!(
                "Unsupported package managers requested: {first}"
            )));
        }
        return python(
            args,
            ctx,
            "several unsupported managers (listed in Python's set order)",
        )
        .await;
    }

    let m = sysutil::marker();
    let script = format!("{}{SCRIPT}", sysutil::tools_probe(&TOOLS));
    let out = sysutil::run_script(ctx, &script, std::slice::from_ref(&m), None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let has = |tool: &str| sysutil::missing_tool(&secs, tool).is_none();

    let mut warnings = Vec::new();
    let mut packages = Map::new();
    let mut found = 0;
    let mut seen: Vec<&str> = Vec::new();
    for name in &managers {
        if strategy == "first" && found > 0 {
            break;
        }
        let pkgmgr = backend(name);
        if seen.contains(&pkgmgr) {
            continue;
        }
        seen.push(pkgmgr);
        let asked = requested.iter().any(|r| r == pkgmgr);
        if pkgmgr == "apt" {
            if !has("dpkg-query") || !["apt", "apt-get", "aptitude"].iter().any(|t| has(t)) {
                return python(args, ctx, "the host has no dpkg-query or apt").await;
            }
            let lists = sysutil::section(&secs, "lists").unwrap_or_default();
            if !lists.trim().is_empty() {
                return python(
                    args,
                    ctx,
                    "apt's lists hold package indexes (python-apt reads sections and origins from them)",
                )
                .await;
            }
            let arch = sysutil::section(&secs, "arch").unwrap_or_default().trim();
            let installed = parse_dpkg(sysutil::section(&secs, "pkgs").unwrap_or_default(), arch);
            if installed.is_empty() {
                return python(args, ctx, "dpkg lists no installed package").await;
            }
            found += 1;
            packages.extend(facts(&installed));
            continue;
        }
        let rpm_lib = !sysutil::section(&secs, "rpmlib")
            .unwrap_or_default()
            .trim()
            .is_empty();
        match cli(pkgmgr) {
            Some(tool) if has(tool) => {
                return python(args, ctx, &format!("the host has {tool}")).await;
            }
            Some(tool) if asked => {
                let msg = sysutil::missing_tool(&secs, tool).unwrap_or_default();
                warnings.push(format!(
                    "Requested package manager {pkgmgr} was not usable by this module: {msg}"
                ));
            }
            Some(_) => {}
            None if has("rpm") || rpm_lib || asked => {
                return python(args, ctx, "rpm is requested or on the host").await;
            }
            None => {}
        }
    }
    let mut result = if found == 0 {
        ModuleOutcome::failed(format!(
            "Could not detect a supported package manager from the following list: {}, or the required Python library is not installed. Check warnings for details.",
            py_list(&managers)
        ))
    } else {
        ModuleOutcome::ok().with("ansible_facts", json!({ "packages": packages }))
    };
    for w in warnings {
        result = result.warn(w);
    }
    Ok(result)
}

/// The programs the backends look for.
const TOOLS: [&str; 10] = [
    "apk",
    "apt",
    "apt-get",
    "aptitude",
    "dpkg-query",
    "pacman",
    "pkg",
    "pkg_info",
    "qlist",
    "rpm",
];

/// Hands the task to ansible-core's package_facts (the Python path) because of `why`.
async fn python(args: &Vars, ctx: &ModuleContext<'_>, why: &str) -> Result<ModuleOutcome, ModuleError> {
    crate::modules::fallback::python_path("ansible.builtin.package_facts", "package_facts", args, ctx, why)
        .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_states_and_keys_as_python_apt_sees_them() {
        let text = "installed\tbash\tamd64\t5.2.15-2+b2\tshells\n\
                    config-files\told\tamd64\t1.0\tmisc\n\
                    not-installed\tgone\tamd64\t\t\n\
                    half-configured\thalf\tall\t1:2.0-1\tadmin\n\
                    installed\tlibc6\ti386\t2.36-9\tlibs\n\
                    unpacked\tnosect\tamd64\t0.1\t\n";
        let p = parse_dpkg(text, "amd64");
        let keys: Vec<&str> = p.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["bash", "half", "libc6:i386", "nosect"]);
        assert_eq!(p[1].version, "1:2.0-1");
        assert_eq!(p[1].arch, "all");
        let f = facts(&p);
        assert_eq!(
            f["libc6:i386"],
            json!([{"name": "libc6:i386", "version": "2.36-9", "arch": "i386", "category": "libs", "origin": "", "source": "apt"}])
        );
        assert_eq!(f["nosect"][0]["category"], "");
    }

    #[test]
    fn auto_is_replaced_by_every_name_in_the_modules_order() {
        let order = walk_order(&["APT".into(), "auto".into()]);
        assert_eq!(order[0], "apt");
        assert_eq!(order[1], "apk");
        assert_eq!(order.len(), 1 + NAMES.len());
        assert_eq!(backend("zypper"), "rpm");
        assert_eq!(py_list(&["apt".into(), "rpm".into()]), "['apt', 'rpm']");
    }
}
