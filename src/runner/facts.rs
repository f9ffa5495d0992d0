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

/// [`PKG_MGR_PROBE`] for the SFTP path's shell step.
pub(super) fn pkg_mgr_probe() -> String {
    PKG_MGR_PROBE.clone()
}

/// The fact script: [`OS_RELEASE`], [`SCRIPT`], [`PKG_MGR_PROBE`], the virtualization and
/// SELinux probe.
static FACTS_SCRIPT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{OS_RELEASE}{SCRIPT}{}{}{}{}{}true\n",
        *PKG_MGR_PROBE,
        super::virt_facts::PROBE_FILES,
        super::virt_facts::PROBE_S390,
        super::virt_facts::PROBE_REST,
        super::virt_facts::LOCAL_PROBE
    )
});

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
while read -r k v _; do case $k in MemTotal:|MemFree:|Buffers:|Cached:|SwapTotal:|SwapFree:|SwapCached:) echo "mem_${k%:}=$v";; esac; done < /proc/meminfo
n=0
if [ -r /sys/devices/system/cpu/online ]; then
  read -r on < /sys/devices/system/cpu/online; IFS=,; set -- $on; unset IFS
  for r in "$@"; do case $r in *-*) n=$((n + ${r#*-} - ${r%-*} + 1));; ?*) n=$((n + 1));; esac; done
fi
[ "$n" -gt 0 ] || n=$(nproc 2>/dev/null || echo 1)
echo "vcpus=$n"
[ -r /proc/1/comm ] && read -r p1 < /proc/1/comm && echo "pid1=$p1"
py=$(command -v python3 || command -v python); echo "python=$py"
[ -n "$py" ] && echo "pyV=$("$py" -V 2>&1 | tr '\n' ' ')"
u=; while read -r k v _; do [ "$k" = Uid: ] && u=$v; done < /proc/self/status; echo "uid=$u"
echo "user=${USER:-$(id -un)}"
echo "pw=$(getent passwd "$u")"
env | while IFS= read -r l; do printf 'env.%s\n' "$l"; done
printf '%s\n' 2000-01-01 2000-07-01 | date -f - '+tzs=%Z %z' 2>/dev/null
date '+now=%Y|%m|%A|%w|%W|%d|%H|%M|%S|%s|%N|%Z|%z'
for m in /etc/machine-id /var/lib/dbus/machine-id; do [ -s "$m" ] && { read -r mid < "$m"; echo "machine_id=$mid"; break; }; done
if command -v lsb_release >/dev/null 2>&1; then lsb_release -a 2>/dev/null | while IFS=: read -r k v; do printf 'lsbcmd.%s=%s\n' "$k" "$v"; done
elif [ -r /etc/lsb-release ]; then while IFS= read -r l; do printf 'lsbfile.%s\n' "$l"; done < /etc/lsb-release; fi
for i in /sys/class/net/*; do [ -e "$i" ] && echo "iface=${i##*/}"; done
set --; while read -r dev mnt fs opts dump pass; do
  case $dev in /*|\\*|*:/*) ;; *) continue ;; esac; [ "$fs" = none ] && continue
  echo "mnt=$dev $mnt $fs $opts $dump $pass"; set -- "$@" "$mnt"
done < /proc/mounts
if [ $# -gt 0 ]; then stat -f -c 'mntst=%S %b %a %s %c %d %n' "$@" 2>/dev/null
  command -v findmnt >/dev/null 2>&1 && findmnt --list --noheadings --notruncate 2>/dev/null | while read -r t s _; do case $s in *]) echo "mntbind=$t";; esac; done
  command -v lsblk >/dev/null 2>&1 && lsblk --list --noheadings --paths --output NAME,UUID --exclude 2 2>/dev/null | while read -r n u; do [ -n "$u" ] && echo "mntuuid=$n $u"; done
fi
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
fi
if command -v ip >/dev/null 2>&1; then
  ip -4 -o addr 2>/dev/null | while read -r _ ifc _ a _; do echo "inet=$ifc ${a%%/*}"; done
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
    gather_from(conn, None).await
}

/// [`gather`] with the local facts read from `fact_path` (setup's `fact_path`) instead of
/// `/etc/ansible/facts.d`. Where the connection has an SFTP session (see
/// `Connection::sftp`, `TALON_FILE_TRANSPORT`), the files are read over SFTP and only the
/// programs run in a shell step (`facts_sftp`); the facts are the same.
///
/// Errors: as [`gather`].
pub async fn gather_from(conn: &Connection, fact_path: Option<&str>) -> Result<Vars, TransportError> {
    if let Some(fs) = conn.sftp().await
        && let Some(text) = super::facts_sftp::gather_text(conn, &fs, fact_path).await?
    {
        return Ok(parse(&text));
    }
    match fact_path {
        None => Ok(parse(&run(conn, &FACTS_SCRIPT).await?)),
        Some(p) => {
            let script = format!(
                "TALON_FACT_PATH={}\n{}",
                crate::transport::quote::quote(p),
                *FACTS_SCRIPT
            );
            Ok(parse(&run(conn, &script).await?))
        }
    }
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
    // ansible-core's distribution file facts: Debian's family is read from /etc/os-release.
    // Other families' files are not read by talon: the keys are left out, not guessed.
    if family == "Debian" {
        f.insert("distribution_file_path".into(), json!("/etc/os-release"));
        f.insert("distribution_file_variety".into(), json!("Debian"));
        f.insert("distribution_file_parsed".into(), json!(true));
        if let Some(minor) = version.split('.').nth(1) {
            f.insert("distribution_minor_version".into(), json!(minor));
        }
    }
    // Matches ansible-core's Linux hardware facts: memfree is MemFree, not MemAvailable.
    let mb = |k: &str| num(&format!("mem_{k}")) / 1024;
    let (total, free) = (mb("MemTotal"), mb("MemFree"));
    let nocache_free = free + mb("Buffers") + mb("Cached");
    f.insert("memtotal_mb".into(), json!(total));
    f.insert("memfree_mb".into(), json!(free));
    f.insert("swaptotal_mb".into(), json!(mb("SwapTotal")));
    f.insert("swapfree_mb".into(), json!(mb("SwapFree")));
    f.insert(
        "memory_mb".into(),
        json!({
            "real": {"total": total, "used": total.saturating_sub(free), "free": free},
            "nocache": {"free": nocache_free, "used": total.saturating_sub(nocache_free)},
            "swap": {
                "total": mb("SwapTotal"),
                "free": mb("SwapFree"),
                "used": mb("SwapTotal").saturating_sub(mb("SwapFree")),
                "cached": mb("SwapCached"),
            },
        }),
    );
    f.insert("processor_vcpus".into(), json!(num("vcpus")));
    f.insert("processor_count".into(), json!(num("vcpus")));
    f.insert("service_mgr".into(), json!(service_mgr));
    f.insert("pkg_mgr".into(), json!(pkg_mgr(family, &raw)));
    let (pyv, pyt) = python_v(&get("pyV"));
    f.insert("python".into(), python_fact(&python, &pyv, &pyt));
    if let Some(v) = python_version(&pyv) {
        f.insert("python_version".into(), json!(v));
    }
    f.insert("user_id".into(), json!(get("user")));
    f.insert("user_uid".into(), json!(num("uid")));
    // getent passwd: name:x:uid:gid:gecos:home:shell
    let pw: Vec<String> = get("pw").split(':').map(str::to_string).collect();
    if pw.len() >= 7 {
        f.insert("user_gid".into(), json!(pw[3].parse::<u64>().unwrap_or(0)));
        f.insert("user_gecos".into(), json!(pw[4]));
        f.insert("user_dir".into(), json!(pw[5]));
        f.insert("user_shell".into(), json!(pw[6]));
    }
    let mut env = Map::new();
    let mut inets: Vec<(String, String)> = Vec::new();
    let mut ifaces: Vec<String> = Vec::new();
    let mut tzs: Vec<(String, String)> = Vec::new();
    let mut lsb_cmd: Vec<(String, String)> = Vec::new();
    let mut lsb_file: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(kv) = line.strip_prefix("env.")
            && let Some((k, v)) = kv.split_once('=')
        {
            env.insert(k.to_string(), json!(v));
        } else if let Some(v) = line.strip_prefix("inet=")
            && let Some((dev, a)) = v.split_once(' ')
        {
            inets.push((dev.to_string(), a.to_string()));
        } else if let Some(v) = line.strip_prefix("iface=") {
            ifaces.push(v.to_string());
        } else if let Some(v) = line.strip_prefix("tzs=")
            && let Some((name, off)) = v.split_once(' ')
        {
            tzs.push((name.to_string(), off.to_string()));
        } else if let Some(kv) = line.strip_prefix("lsbcmd.")
            && let Some((k, v)) = kv.split_once('=')
        {
            lsb_cmd.push((k.trim().to_string(), v.trim().to_string()));
        } else if let Some(kv) = line.strip_prefix("lsbfile.")
            && let Some((k, v)) = kv.split_once('=')
        {
            lsb_file.push((k.trim().to_string(), v.trim().trim_matches('"').to_string()));
        }
    }
    f.insert("env".into(), Value::Object(env));
    // In the order of the interfaces' names, as ansible-core lists them.
    inets.sort_by_key(|(d, _)| ifaces.iter().position(|i| i == d).unwrap_or(usize::MAX));
    f.insert(
        "all_ipv4_addresses".into(),
        json!(
            inets
                .iter()
                .map(|(_, a)| a.clone())
                .filter(|a| !a.starts_with("127."))
                .collect::<Vec<_>>()
        ),
    );
    f.insert("interfaces".into(), json!(ifaces));
    if let Some(dt) = date_time(&get("now"), &tzs) {
        f.insert("date_time".into(), dt);
    }
    let mid = get("machine_id");
    if !mid.is_empty() {
        f.insert("machine_id".into(), json!(mid));
    }
    f.insert("lsb".into(), lsb(&lsb_cmd, &lsb_file));
    f.insert("mounts".into(), mounts(text));
    f.extend(super::virt_facts::virtual_facts(text));
    f.insert("selinux".into(), super::virt_facts::selinux_facts(text));
    f.insert("local".into(), super::virt_facts::local_facts(text));
    let dev = get("ipv4_dev");
    let addr = inets
        .iter()
        .find(|(d, _)| *d == dev)
        .map(|(_, a)| a.clone())
        .unwrap_or_default();
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

/// The `python` fact from the host's interpreter path and `sys.version_info` (`pyv`: "3 11 2
/// final 0") and implementation (`pyt`), as ansible-core's python facts: `executable`,
/// `version` {major, minor, micro, releaselevel, serial}, `version_info`, `type`,
/// `has_sslcontext`. `null` without a Python on the host.
fn python_fact(executable: &str, pyv: &str, pyt: &str) -> Value {
    if executable.is_empty() {
        return Value::Null;
    }
    let parts: Vec<&str> = pyv.split(' ').collect();
    let Some([major, minor, micro, level, serial]) = parts.get(..5) else {
        return json!({"executable": executable});
    };
    let n = |s: &str| s.parse::<u64>().unwrap_or(0);
    json!({
        "executable": executable,
        "version": {"major": n(major), "minor": n(minor), "micro": n(micro), "releaselevel": level, "serial": n(serial)},
        "version_info": [n(major), n(minor), n(micro), level, n(serial)],
        "type": if pyt == "cpython" { "cpython".to_string() } else { pyt.to_string() },
        "has_sslcontext": true,
    })
}

/// `python -V` ("Python 3.11.2", "Python 3.13.0rc1", PyPy's two lines) as `sys.version_info`
/// text ("3 11 2 final 0") and the implementation (`cpython`, `pypy`): `python -V` answers
/// without starting the interpreter (2 ms where `-c` takes 15-30).
fn python_v(text: &str) -> (String, String) {
    let kind = if text.contains("PyPy") { "pypy" } else { "cpython" };
    let Some(v) = text.split_whitespace().nth(1) else {
        return (String::new(), kind.into());
    };
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let (nums, tail) = v.split_at(split);
    let mut n: Vec<&str> = nums.split('.').collect();
    n.resize(3, "0");
    let serial_at = tail.find(|c: char| c.is_ascii_digit()).unwrap_or(tail.len());
    let (level, serial) = tail.split_at(serial_at);
    let level = match level {
        "" => "final",
        "a" => "alpha",
        "b" => "beta",
        "rc" => "candidate",
        other => other,
    };
    let serial = if serial.is_empty() { "0" } else { serial };
    (
        format!("{} {} {} {level} {serial}", n[0], n[1], n[2]),
        kind.into(),
    )
}

/// `python_version` ("3.11.2") from `pyv`.
fn python_version(pyv: &str) -> Option<String> {
    let parts: Vec<&str> = pyv.split(' ').collect();
    (parts.len() >= 3).then(|| parts[..3].join("."))
}

/// The `date_time` fact from `date '+%Y|%m|%A|%w|%W|%d|%H|%M|%S|%s|%N|%Z|%z'` on the host and
/// the zone's names in January and July (`tzs`), as ansible-core's date_time facts: local
/// fields, `epoch`/`epoch_int`, ISO 8601 forms in UTC (`iso8601`, `iso8601_micro`) and local
/// (`iso8601_basic`, `_short`), `tz`, `tz_offset`, and `tz_dst` (the zone's summer name: the
/// one with the larger offset).
fn date_time(now: &str, tzs: &[(String, String)]) -> Option<Value> {
    let p: Vec<&str> = now.split('|').collect();
    let [
        year,
        month,
        weekday,
        wdn,
        weeknumber,
        day,
        hour,
        minute,
        second,
        epoch,
        nanos,
        tz,
        offset,
    ] = p.as_slice()
    else {
        return None;
    };
    let secs: i64 = epoch.parse().ok()?;
    let micros = nanos.get(..6).unwrap_or("000000");
    let utc = chrono::DateTime::from_timestamp(secs, 0)?;
    let off = |o: &str| {
        o.replace(['+', ':'], "").parse::<i64>().unwrap_or(0) * if o.starts_with('-') { -1 } else { 1 }
    };
    let dst = match tzs {
        [(a, ao), (b, bo)] if off(bo) > off(ao) => b.clone(),
        [(a, _), _] => a.clone(),
        _ => tz.to_string(),
    };
    Some(json!({
        "year": year, "month": month, "weekday": weekday, "weekday_number": wdn,
        "weeknumber": weeknumber, "day": day, "hour": hour, "minute": minute, "second": second,
        "epoch": epoch, "epoch_int": epoch,
        "date": format!("{year}-{month}-{day}"),
        "time": format!("{hour}:{minute}:{second}"),
        "iso8601_micro": format!("{}.{micros}Z", utc.format("%Y-%m-%dT%H:%M:%S")),
        "iso8601": utc.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "iso8601_basic": format!("{year}{month}{day}T{hour}{minute}{second}{micros}"),
        "iso8601_basic_short": format!("{year}{month}{day}T{hour}{minute}{second}"),
        "tz": tz, "tz_dst": dst, "tz_offset": offset,
    }))
}

/// `/proc/mounts` text with its octal escapes (`\040` for a space) decoded, as ansible-core's
/// `_replace_octal_escapes`.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `mounts` fact, as ansible-core's Linux mount facts: the mounts of `/proc/mounts` whose
/// device is a path (or `host:/path`), not `none`, in that order, each with `mount`, `device`,
/// `fstype`, `options` (`,bind` added for a bind mount, which `findmnt` shows with a `[...]`
/// source), `dump`, `passno`, statvfs sizes (`size_total`, `size_available`, `block_size`,
/// `block_total`, `block_available`, `block_used`, `inode_total`, `inode_available`,
/// `inode_used`) and `uuid` (`lsblk`, else "N/A").
fn mounts(text: &str) -> Value {
    let mut entries: Vec<Vec<String>> = Vec::new();
    let mut stats: HashMap<String, Vec<u64>> = HashMap::new();
    let mut binds: Vec<String> = Vec::new();
    let mut uuids: HashMap<String, String> = HashMap::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("mnt=") {
            entries.push(v.split(' ').map(unescape_octal).collect());
        } else if let Some(v) = line.strip_prefix("mntst=") {
            // Six numbers, then the mount point (which may hold spaces).
            let mut parts = v.splitn(7, ' ');
            let nums: Vec<u64> = parts.by_ref().take(6).map(|n| n.parse().unwrap_or(0)).collect();
            if let Some(path) = parts.next() {
                stats.insert(path.to_string(), nums);
            }
        } else if let Some(v) = line.strip_prefix("mntbind=") {
            binds.push(unescape_octal(v));
        } else if let Some((dev, u)) = line.strip_prefix("mntuuid=").and_then(|v| v.split_once(' ')) {
            uuids.insert(dev.to_string(), u.to_string());
        }
    }
    let list: Vec<Value> = entries
        .iter()
        .filter_map(|e| {
            let [dev, mnt, fs, opts, dump, pass] = e.get(..6)? else {
                return None;
            };
            let mut options = opts.clone();
            if binds.contains(mnt) && !options.contains("bind") {
                options.push_str(",bind");
            }
            let st = stats.get(mnt).cloned().unwrap_or_default();
            let n = |k: usize| st.get(k).copied().unwrap_or(0);
            let (frsize, blocks, avail, bsize, files, ffree) = (n(0), n(1), n(2), n(3), n(4), n(5));
            Some(json!({
                "mount": mnt, "device": dev, "fstype": fs, "options": options,
                "dump": dump.parse::<u64>().unwrap_or(0), "passno": pass.parse::<u64>().unwrap_or(0),
                "size_total": frsize * blocks, "size_available": frsize * avail,
                "block_size": bsize, "block_total": blocks, "block_available": avail,
                "block_used": blocks.saturating_sub(avail),
                "inode_total": files, "inode_available": ffree, "inode_used": files.saturating_sub(ffree),
                "uuid": uuids.get(dev).cloned().unwrap_or_else(|| "N/A".to_string()),
            }))
        })
        .collect();
    Value::Array(list)
}

/// The `lsb` fact: from `lsb_release -a` when the host has it, else `/etc/lsb-release`, else
/// `{}` (as ansible-core's LSB facts).
fn lsb(cmd: &[(String, String)], file: &[(String, String)]) -> Value {
    let mut m = Map::new();
    let keys: &[(&str, &str)] = if cmd.is_empty() {
        &[
            ("DISTRIB_ID", "id"),
            ("DISTRIB_RELEASE", "release"),
            ("DISTRIB_DESCRIPTION", "description"),
            ("DISTRIB_CODENAME", "codename"),
        ]
    } else {
        &[
            ("Distributor ID", "id"),
            ("Release", "release"),
            ("Description", "description"),
            ("Codename", "codename"),
        ]
    };
    for (k, v) in if cmd.is_empty() { file } else { cmd } {
        if let Some((_, name)) = keys.iter().find(|(from, _)| from == k) {
            m.insert((*name).to_string(), json!(v));
        }
    }
    if let Some(r) = m.get("release").and_then(Value::as_str).map(str::to_string) {
        m.insert(
            "major_release".into(),
            json!(r.split('.').next().unwrap_or_default()),
        );
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_with_escapes_binds_sizes_and_uuids() {
        let text = "mnt=/dev/vda /etc/my\\040hosts ext4 rw,relatime 0 0\nmnt=/dev/sda1 / ext4 rw 0 1\nmntst=4096 100 40 4096 50 20 /etc/my hosts\nmntbind=/etc/my\\040hosts\nmntuuid=/dev/sda1 abcd-1234\n";
        let m = mounts(text);
        assert_eq!(m[0]["mount"], "/etc/my hosts");
        assert_eq!(m[0]["options"], "rw,relatime,bind");
        assert_eq!(m[0]["size_total"], 409600);
        assert_eq!(m[0]["block_used"], 60);
        assert_eq!(m[0]["uuid"], "N/A");
        assert_eq!(m[1]["uuid"], "abcd-1234");
        assert_eq!(m[1]["passno"], 1);
        assert_eq!(m[1]["size_total"], 0);
    }

    #[test]
    fn python_dash_v_reads_as_version_info() {
        assert_eq!(
            python_v("Python 3.11.2 "),
            ("3 11 2 final 0".into(), "cpython".into())
        );
        assert_eq!(
            python_v("Python 3.13.0rc1"),
            ("3 13 0 candidate 1".into(), "cpython".into())
        );
        assert_eq!(
            python_v("Python 3.9.16 (feeb, Jan 2023) [PyPy 7.3.11]").1,
            "pypy".to_string()
        );
        assert_eq!(python_version("3 11 2 final 0").as_deref(), Some("3.11.2"));
    }

    #[test]
    fn parses_debian_facts() {
        let f = parse(
            "hostname=lab1\nfqdn=lab1\nkernel=6.1.0\nmachine=x86_64\nsystem=Linux\nos_ID=debian\nos_VERSION_ID=\"12\"\nos_VERSION_CODENAME=bookworm\ndebian_version=12.5\nmem_MemTotal=2048000\nvcpus=2\npid1=sshd\npython=/usr/bin/python3\nipv4_dev=eth0\nipv4_gw=172.17.0.1\ninet=eth0 172.17.0.2\n",
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
