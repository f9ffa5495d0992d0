//! `gather_facts`: a small fact set read in one round trip, named like Ansible's `setup` facts.
//! Also the package manager alone ([`detect_pkg_mgr`]), which the `package` module asks for when
//! no facts were gathered, as ansible-core's package action runs `setup` for `ansible_pkg_mgr`.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::transport::{Connection, ExecRequest, TransportError};
use crate::vars::Vars;

/// `/etc/os-release` as `os_*=` lines (what [`os_family`] and `distribution*` are made of).
const OS_RELEASE: &str = r#"if [ -r /etc/os-release ]; then . /etc/os-release; echo "os_ID=${ID-}"; echo "os_VERSION_ID=${VERSION_ID-}"; echo "os_VERSION_CODENAME=${VERSION_CODENAME-}"; echo "os_ID_LIKE=${ID_LIKE-}"; fi
"#;

/// ansible-core's `PKG_MGRS` (module_utils/facts/system/pkg_mgr.py), in its order: a program's
/// path and the package module it stands for. The last one present on the host wins.
const PKG_MGRS: &[(&str, &str)] = &[
    ("/usr/bin/rpm-ostree", "atomic_container"),
    ("/usr/bin/yum", "dnf"),
    ("/usr/bin/dnf-3", "dnf"),
    ("/usr/bin/dnf5", "dnf5"),
    ("/usr/bin/apt-get", "apt"),
    ("/usr/bin/zypper", "zypper"),
    ("/usr/sbin/urpmi", "urpmi"),
    ("/usr/bin/pacman", "pacman"),
    ("/bin/opkg", "opkg"),
    ("/usr/pkg/bin/pkgin", "pkgin"),
    ("/opt/local/bin/pkgin", "pkgin"),
    ("/opt/tools/bin/pkgin", "pkgin"),
    ("/opt/local/bin/port", "macports"),
    ("/usr/local/bin/brew", "homebrew"),
    ("/opt/homebrew/bin/brew", "homebrew"),
    ("/sbin/apk", "apk"),
    ("/usr/sbin/pkg", "pkgng"),
    ("/usr/sbin/swlist", "swdepot"),
    ("/usr/bin/emerge", "portage"),
    ("/usr/sbin/pkgadd", "svr4pkg"),
    ("/usr/bin/pkg", "pkg5"),
    ("/usr/bin/xbps-install", "xbps"),
    ("/usr/local/sbin/pkg", "pkgng"),
    ("/usr/bin/swupd", "swupd"),
    ("/usr/sbin/sorcery", "sorcery"),
    ("/usr/bin/installp", "installp"),
];

/// What ansible-core's `PkgMgrFactCollector` looks at, as `pkg_*=` lines, with shell builtins
/// only (a process starts only where dnf or rpm is installed): `pkg_paths` the [`PKG_MGRS`]
/// paths that exist; `pkg_ostree=1` for `/run/ostree-booted`; `pkg_dnf` the real path of
/// `/usr/bin/dnf` (else `/usr/bin/microdnf`); `pkg_apt_rpm=1` when rpm owns `/usr/bin/apt-get`.
static PKG_MGR_PROBE: LazyLock<String> = LazyLock::new(|| {
    let paths: Vec<&str> = PKG_MGRS.iter().map(|(p, _)| *p).collect();
    format!(
        r#"p=; for f in {}; do [ -e "$f" ] && p="$p $f"; done; echo "pkg_paths=$p"
[ -e /run/ostree-booted ] && echo pkg_ostree=1
for f in /usr/bin/dnf /usr/bin/microdnf; do if [ -e "$f" ]; then echo "pkg_dnf=$(readlink -f "$f")"; break; fi; done
if [ -e /usr/bin/rpm ] && [ -e /usr/bin/apt-get ] && /usr/bin/rpm -q --whatprovides /usr/bin/apt-get >/dev/null 2>&1; then echo pkg_apt_rpm=1; fi
"#,
        paths.join(" ")
    )
});

/// The fact script: [`OS_RELEASE`], [`SCRIPT`], [`PKG_MGR_PROBE`].
static FACTS_SCRIPT: LazyLock<String> =
    LazyLock::new(|| format!("{OS_RELEASE}{SCRIPT}{}true\n", *PKG_MGR_PROBE));

/// The rest of the fact script; it prints `key=value` lines. It reads /proc and /etc with shell
/// builtins and starts only a handful of processes (hostname, uname, nproc, id, ip), because on a
/// warm run fact gathering is the most expensive round trip.
const SCRIPT: &str = r#"
read -r h < /proc/sys/kernel/hostname; echo "hostname=$h"
echo "fqdn=$(hostname -f 2>/dev/null || echo "$h")"
read -r sys < /proc/sys/kernel/ostype; read -r kr < /proc/sys/kernel/osrelease
if [ -r /proc/sys/kernel/arch ]; then read -r mach < /proc/sys/kernel/arch; else mach=$(uname -m); fi
echo "system=$sys"; echo "kernel=$kr"; echo "machine=$mach"
[ -r /etc/debian_version ] && read -r dv < /etc/debian_version && echo "debian_version=$dv"
while read -r k v _; do case $k in MemTotal:) echo "memtotal_kb=$v";; MemAvailable:) echo "memfree_kb=$v";; esac; done < /proc/meminfo
n=0
if [ -r /sys/devices/system/cpu/online ]; then
  read -r on < /sys/devices/system/cpu/online; IFS=,; set -- $on; unset IFS
  for r in "$@"; do case $r in *-*) n=$((n + ${r#*-} - ${r%-*} + 1));; ?*) n=$((n + 1));; esac; done
fi
[ "$n" -gt 0 ] || n=$(nproc 2>/dev/null || echo 1)
echo "vcpus=$n"
[ -r /proc/1/comm ] && read -r p1 < /proc/1/comm && echo "pid1=$p1"
echo "python=$(command -v python3 || command -v python)"
while read -r k v _; do [ "$k" = Uid: ] && echo "uid=$v"; done < /proc/self/status
echo "user=${USER:-$(id -un)}"
dev=; gw=
if [ -r /proc/net/route ]; then
  while read -r ifc dst g _; do
    if [ "$dst" = 00000000 ]; then
      dev=$ifc; a=${g#??????}; b=${g#????}; b=${b%??}; c=${g#??}; c=${c%????}; d=${g%??????}
      gw=$((0x$a)).$((0x$b)).$((0x$c)).$((0x$d)); break
    fi
  done < /proc/net/route
fi
if [ -n "$dev" ]; then
  echo "ipv4_dev=$dev"; echo "ipv4_gw=$gw"
  if command -v ip >/dev/null 2>&1; then
    set -- $(ip -4 -o addr show dev "$dev" 2>/dev/null)
    while [ $# -gt 0 ]; do [ "$1" = inet ] && { echo "ipv4_addr=${2%%/*}"; break; }; shift; done
  fi
fi
"#;

/// Gathers the fact set on one host. Returns the `ansible_facts` mapping (keys without the
/// `ansible_` prefix, like Ansible's `ansible_facts`).
///
/// Facts: hostname, fqdn, nodename, kernel, architecture, system, os_family, distribution,
/// distribution_version, distribution_major_version, distribution_release, memtotal_mb,
/// memfree_mb, processor_vcpus, processor_count, service_mgr, pkg_mgr, python (interpreter
/// path or null), user_id, user_uid, default_ipv4 {address, interface, gateway}.
///
/// Errors: [`TransportError`] when the host cannot be asked.
pub async fn gather(conn: &Connection) -> Result<Vars, TransportError> {
    Ok(parse(&run(conn, &FACTS_SCRIPT).await?))
}

/// The `pkg_mgr` fact alone (`apt` on Debian), in one round trip: what ansible-core's package
/// action gathers (`setup` with `filter=ansible_pkg_mgr`) when the host has no facts yet.
///
/// Errors: [`TransportError`] when the host cannot be asked.
pub async fn detect_pkg_mgr(conn: &Connection) -> Result<String, TransportError> {
    let script = format!("{OS_RELEASE}{}true\n", *PKG_MGR_PROBE);
    let raw = raw_lines(&run(conn, &script).await?);
    let get = |k: &str| raw.get(k).cloned().unwrap_or_default();
    Ok(pkg_mgr(os_family(&get("os_ID"), &get("os_ID_LIKE")), &raw))
}

/// Runs one fact script on the host; its stdout.
async fn run(conn: &Connection, script: &str) -> Result<String, TransportError> {
    // No `$$` or `$0` in the scripts: the remote shell may run them without another `sh`.
    let req = ExecRequest {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into(), "talon".into()],
        inline: true,
        ..Default::default()
    };
    Ok(conn.exec(&req).await?.stdout_str())
}

/// The script's `key=value` lines as a map (a later line wins; quotes around a value dropped).
fn raw_lines(text: &str) -> HashMap<String, String> {
    let mut raw = HashMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            raw.insert(k.to_string(), v.trim_matches('"').to_string());
        }
    }
    raw
}

/// Ansible's `os_family` from os-release's `ID` and `ID_LIKE`.
fn os_family(id: &str, like: &str) -> &'static str {
    match id {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" => "Debian",
        "rhel" | "centos" | "fedora" | "rocky" | "almalinux" | "amzn" => "RedHat",
        "alpine" => "Alpine",
        "arch" => "Archlinux",
        "opensuse" | "sles" | "opensuse-leap" => "Suse",
        "altlinux" => "Altlinux",
        _ if like.contains("debian") => "Debian",
        _ if like.contains("rhel") || like.contains("fedora") => "RedHat",
        _ => "Unknown",
    }
}

/// The `pkg_mgr` fact from the [`PKG_MGR_PROBE`] lines, as ansible-core's `PkgMgrFactCollector`
/// decides it on Linux: the last [`PKG_MGRS`] path present (Altlinux leaves out
/// `/usr/bin/pkg`), else `unknown`; then the family's default: RedHat `atomic_container` on
/// ostree, else `dnf5` when `/usr/bin/dnf` (or microdnf) resolves to `/usr/bin/dnf5`, `dnf`
/// when it exists, else `unknown`; Debian always `apt`; Altlinux `apt_rpm` for `apt`; and `apt`
/// becomes `apt_rpm` where rpm owns `/usr/bin/apt-get`.
pub fn pkg_mgr(family: &str, raw: &HashMap<String, String>) -> String {
    let get = |k: &str| raw.get(k).map(String::as_str).unwrap_or_default();
    let present: Vec<&str> = get("pkg_paths").split_whitespace().collect();
    let mut name = PKG_MGRS
        .iter()
        .filter(|(path, _)| !(family == "Altlinux" && *path == "/usr/bin/pkg"))
        .filter(|(path, _)| present.contains(path))
        .map(|(_, name)| *name)
        .next_back()
        .unwrap_or("unknown");
    match family {
        "RedHat" => {
            name = match get("pkg_dnf") {
                _ if get("pkg_ostree") == "1" => "atomic_container",
                "" => "unknown",
                "/usr/bin/dnf5" => "dnf5",
                _ => "dnf",
            }
        }
        "Debian" => name = "apt",
        "Altlinux" if name == "apt" => name = "apt_rpm",
        _ => {}
    }
    if name == "apt" && get("pkg_apt_rpm") == "1" {
        name = "apt_rpm";
    }
    name.to_string()
}

/// Turns the fact script's `key=value` lines into Ansible-named facts.
pub fn parse(text: &str) -> Vars {
    let raw = raw_lines(text);
    let get = |k: &str| raw.get(k).cloned().unwrap_or_default();
    let id = get("os_ID");
    let like = get("os_ID_LIKE");
    let family = os_family(&id, &like);
    let mut distribution = match id.as_str() {
        "" => "Unknown".to_string(),
        "rhel" => "RedHat".to_string(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    };
    if distribution == "Centos" {
        distribution = "CentOS".into();
    }
    let mut version = get("os_VERSION_ID");
    if id == "debian" {
        let dv = get("debian_version");
        if dv.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            version = dv;
        }
    }
    let major = version.split('.').next().unwrap_or_default().to_string();
    let num = |k: &str| get(k).parse::<u64>().unwrap_or(0);
    let service_mgr = match get("pid1").as_str() {
        "systemd" => "systemd",
        "init" => "sysvinit",
        "" => "unknown",
        other => {
            if other.contains("systemd") {
                "systemd"
            } else {
                "service"
            }
        }
    };
    let python = get("python");
    let mut f = Map::new();
    f.insert(
        "hostname".into(),
        json!(get("hostname").split('.').next().unwrap_or_default()),
    );
    f.insert("nodename".into(), json!(get("hostname")));
    f.insert("fqdn".into(), json!(get("fqdn")));
    f.insert("kernel".into(), json!(get("kernel")));
    f.insert("architecture".into(), json!(get("machine")));
    f.insert("machine".into(), json!(get("machine")));
    f.insert("system".into(), json!(get("system")));
    f.insert("os_family".into(), json!(family));
    f.insert("distribution".into(), json!(distribution));
    f.insert("distribution_version".into(), json!(version));
    f.insert("distribution_major_version".into(), json!(major));
    f.insert("distribution_release".into(), json!(get("os_VERSION_CODENAME")));
    f.insert("memtotal_mb".into(), json!(num("memtotal_kb") / 1024));
    f.insert("memfree_mb".into(), json!(num("memfree_kb") / 1024));
    f.insert("processor_vcpus".into(), json!(num("vcpus")));
    f.insert("processor_count".into(), json!(num("vcpus")));
    f.insert("service_mgr".into(), json!(service_mgr));
    f.insert("pkg_mgr".into(), json!(pkg_mgr(family, &raw)));
    f.insert(
        "python".into(),
        if python.is_empty() {
            Value::Null
        } else {
            json!({"executable": python})
        },
    );
    f.insert("user_id".into(), json!(get("user")));
    f.insert("user_uid".into(), json!(num("uid")));
    let addr = get("ipv4_addr");
    f.insert(
        "default_ipv4".into(),
        if addr.is_empty() {
            json!({})
        } else {
            json!({"address": addr, "interface": get("ipv4_dev"), "gateway": get("ipv4_gw")})
        },
    );
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debian_facts() {
        let f = parse(
            "hostname=lab1\nfqdn=lab1\nkernel=6.1.0\nmachine=x86_64\nsystem=Linux\nos_ID=debian\nos_VERSION_ID=\"12\"\nos_VERSION_CODENAME=bookworm\ndebian_version=12.5\nmemtotal_kb=2048000\nvcpus=2\npid1=sshd\npython=/usr/bin/python3\nipv4_dev=eth0\nipv4_gw=172.17.0.1\nipv4_addr=172.17.0.2\n",
        );
        assert_eq!(f["os_family"], "Debian");
        assert_eq!(f["distribution"], "Debian");
        assert_eq!(f["distribution_version"], "12.5");
        assert_eq!(f["distribution_major_version"], "12");
        assert_eq!(f["memtotal_mb"], 2000);
        assert_eq!(f["default_ipv4"]["address"], "172.17.0.2");
        assert_eq!(f["python"]["executable"], "/usr/bin/python3");
        // No pkg_paths line at all: Debian's default.
        assert_eq!(f["pkg_mgr"], "apt");
    }

    fn probe(lines: &str) -> HashMap<String, String> {
        raw_lines(lines)
    }

    #[test]
    fn pkg_mgr_as_ansibles_collector_decides() {
        // Debian 12 (the lab): apt-get present.
        assert_eq!(pkg_mgr("Debian", &probe("pkg_paths= /usr/bin/apt-get\n")), "apt");
        // Debian with zypper installed too (later in the list): still apt.
        let both = probe("pkg_paths= /usr/bin/apt-get /usr/bin/zypper\n");
        assert_eq!(pkg_mgr("Debian", &both), "apt");
        assert_eq!(pkg_mgr("Suse", &both), "zypper");
        // apt-get owned by rpm: APT-RPM.
        let rpm = probe("pkg_paths= /usr/bin/apt-get\npkg_apt_rpm=1\n");
        assert_eq!(pkg_mgr("Debian", &rpm), "apt_rpm");
        assert_eq!(
            pkg_mgr("Altlinux", &probe("pkg_paths= /usr/bin/apt-get /usr/bin/pkg\n")),
            "apt_rpm"
        );
        assert_eq!(
            pkg_mgr("Unknown", &probe("pkg_paths= /usr/bin/apt-get /usr/bin/pkg\n")),
            "pkg5"
        );
        // RedHat: from what /usr/bin/dnf is, not from the list.
        let rh = |l: &str| pkg_mgr("RedHat", &probe(l));
        assert_eq!(
            rh("pkg_paths= /usr/bin/yum /usr/bin/dnf5\npkg_dnf=/usr/bin/dnf5\n"),
            "dnf5"
        );
        assert_eq!(rh("pkg_paths= /usr/bin/yum\npkg_dnf=/usr/bin/dnf-3\n"), "dnf");
        assert_eq!(rh("pkg_paths= /usr/bin/yum\n"), "unknown");
        assert_eq!(
            rh("pkg_paths= /usr/bin/rpm-ostree\npkg_ostree=1\npkg_dnf=/usr/bin/dnf-3\n"),
            "atomic_container"
        );
        assert_eq!(pkg_mgr("Alpine", &probe("pkg_paths= /sbin/apk\n")), "apk");
        assert_eq!(pkg_mgr("Unknown", &probe("pkg_paths=\n")), "unknown");
    }

    #[test]
    fn the_probe_tests_every_path_of_the_list() {
        for (path, _) in PKG_MGRS {
            assert!(PKG_MGR_PROBE.contains(path), "{path}");
        }
        assert!(FACTS_SCRIPT.starts_with(OS_RELEASE) && FACTS_SCRIPT.ends_with("true\n"));
    }
}
