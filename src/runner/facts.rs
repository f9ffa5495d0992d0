//! `gather_facts`: a small fact set read in one round trip, named like Ansible's `setup` facts.

use serde_json::{Map, Value, json};

use crate::transport::{Connection, ExecRequest, TransportError};
use crate::vars::Vars;

/// The shell script that prints `key=value` lines. It reads /proc and /etc with shell builtins
/// and starts only a handful of processes (hostname, uname, nproc, id, ip), because on a warm run
/// fact gathering is the most expensive round trip.
const SCRIPT: &str = r#"
read -r h < /proc/sys/kernel/hostname; echo "hostname=$h"
echo "fqdn=$(hostname -f 2>/dev/null || echo "$h")"
read -r sys < /proc/sys/kernel/ostype; read -r kr < /proc/sys/kernel/osrelease
if [ -r /proc/sys/kernel/arch ]; then read -r mach < /proc/sys/kernel/arch; else mach=$(uname -m); fi
echo "system=$sys"; echo "kernel=$kr"; echo "machine=$mach"
if [ -r /etc/os-release ]; then . /etc/os-release; echo "os_ID=${ID-}"; echo "os_VERSION_ID=${VERSION_ID-}"; echo "os_VERSION_CODENAME=${VERSION_CODENAME-}"; echo "os_ID_LIKE=${ID_LIKE-}"; fi
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
true
"#;

/// Gathers the fact set on one host. Returns the `ansible_facts` mapping (keys without the
/// `ansible_` prefix, like Ansible's `ansible_facts`).
///
/// Facts: hostname, fqdn, nodename, kernel, architecture, system, os_family, distribution,
/// distribution_version, distribution_major_version, distribution_release, memtotal_mb,
/// memfree_mb, processor_vcpus, processor_count, service_mgr, python (interpreter path or
/// null), user_id, user_uid, default_ipv4 {address, interface, gateway}.
pub async fn gather(conn: &Connection) -> Result<Vars, TransportError> {
    // No `$$` or `$0` in the script: the remote shell may run it without another `sh`.
    let req = ExecRequest {
        argv: vec!["/bin/sh".into(), "-c".into(), SCRIPT.into(), "talon".into()],
        inline: true,
        ..Default::default()
    };
    let out = conn.exec(&req).await?;
    Ok(parse(&out.stdout_str()))
}

/// Turns the script's `key=value` lines into Ansible-named facts.
pub fn parse(text: &str) -> Vars {
    let mut raw = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            raw.insert(k.to_string(), v.trim_matches('"').to_string());
        }
    }
    let get = |k: &str| raw.get(k).cloned().unwrap_or_default();
    let id = get("os_ID");
    let like = get("os_ID_LIKE");
    let family = match id.as_str() {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" => "Debian",
        "rhel" | "centos" | "fedora" | "rocky" | "almalinux" | "amzn" => "RedHat",
        "alpine" => "Alpine",
        "arch" => "Archlinux",
        "opensuse" | "sles" | "opensuse-leap" => "Suse",
        _ if like.contains("debian") => "Debian",
        _ if like.contains("rhel") || like.contains("fedora") => "RedHat",
        _ => "Unknown",
    };
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
    }
}
