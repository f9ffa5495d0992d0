//! The `virtualization_*` and `selinux` facts, as ansible-core's Linux collectors decide them
//! (module_utils/facts/virtual/linux.py and system/selinux.py), from what [`PROBE_FILES`] and
//! [`PROBE_REST`] print in the fact script's one round trip.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// The fact-script parts that print what the two collectors read, as `virt.*=` and `se.*=`
/// lines: /proc/1/cgroup lines naming a container runtime, `container=` in PID 1's environment
/// (readable as root), marker files, /proc/xen/capabilities, /run/systemd/container, the DMI
/// names, the VxID line, the cpuinfo lines the collector matches, the kvm/vboxdrv/virtio
/// modules, vdsm under /rhev, dmidecode's product name (root), lscpu's hypervisor on s390; and
/// SELinux's enforce, policyvers and /etc/selinux/config. In two parts: this one reads files
/// only (the SFTP path reads them itself, see
/// `facts_sftp`); it sets `s390` for [`PROBE_S390`].
pub(super) const PROBE_FILES: &str = r#"
if [ -r /proc/1/cgroup ]; then while IFS= read -r l; do case $l in */docker*|*/lxc/*|*/machine.slice/machine-lxc*|*/system.slice/containerd.service*) echo "virt.cg=$l";; esac; done < /proc/1/cgroup; fi
[ -r /proc/1/environ ] && tr '\0' '\n' < /proc/1/environ 2>/dev/null | while IFS= read -r l; do case $l in *container=*) echo "virt.env=$l";; esac; done
for f in /proc/1/cgroup /proc/vz /proc/lve /proc/bc /.dockerenv /.dockerinit /proc/xen /rhev /dev/kvm /proc/modules; do [ -e "$f" ] && echo "virt.f=$f"; done
[ -r /run/systemd/container ] && { IFS= read -r c < /run/systemd/container; echo "virt.sysc=$c"; }
for k in product_name sys_vendor product_family bios_vendor; do [ -r "/sys/devices/virtual/dmi/id/$k" ] && { IFS= read -r v < "/sys/devices/virtual/dmi/id/$k"; echo "virt.dmi.$k=$v"; }; done
s390=; [ -r /proc/cpuinfo ] && awk '/^(model name|vendor_id|machine)/ && !seen[$0]++ { print "virt.cpu=" $0 } /^vendor_id.*IBM\/S390/ { s = 1 } END { exit !s }' /proc/cpuinfo && s390=1
[ -r /proc/modules ] && while read -r m _; do case $m in kvm|vboxdrv|virtio) echo "virt.mod=$m";; esac; done < /proc/modules
"#;

/// lscpu's hypervisor, when `s390` is set (an IBM S/390 CPU in /proc/cpuinfo).
pub(super) const PROBE_S390: &str = r#"
if [ -n "$s390" ]; then command -v lscpu >/dev/null 2>&1 && { echo virt.has_lscpu=1; lscpu 2>/dev/null | while IFS=: read -r k v; do [ "$k" = Hypervisor ] && echo "virt.lscpu=$v"; done; }; fi
"#;

/// The rest of the probe: /proc/xen/capabilities, the VxID line of the shell's own status,
/// vdsm under /rhev, dmidecode and SELinux.
pub(super) const PROBE_REST: &str = r#"
[ -r /proc/xen/capabilities ] && while IFS= read -r l; do echo "virt.xencap=$l"; done < /proc/xen/capabilities
while IFS= read -r l; do case $l in VxID:*) echo "virt.vx=$l";; esac; done < /proc/self/status
if [ -d /rhev ]; then for c in /proc/[0-9]*/comm; do { IFS= read -r n < "$c"; } 2>/dev/null && case $n in vdsm|vdsmd) echo virt.vdsm=1; break;; esac; done; fi
command -v dmidecode >/dev/null 2>&1 && p=$(dmidecode -s system-product-name 2>/dev/null) && { printf '%s\n' "$p" | while IFS= read -r l; do echo "virt.dmidecode=$l"; done; echo virt.dmidecode_ok=1; }
if [ -e /sys/fs/selinux/enforce ]; then
  read -r e < /sys/fs/selinux/enforce; echo "se.enforce=$e"
  [ -r /sys/fs/selinux/policyvers ] && { read -r p < /sys/fs/selinux/policyvers; echo "se.policyvers=$p"; }
  [ -r /etc/selinux/config ] && while IFS='=' read -r k v; do case $k in SELINUX|SELINUXTYPE) echo "se.cfg.$k=$v";; esac; done < /etc/selinux/config
fi
"#;

/// Values of `prefix` lines in order (`virt.cg=` -> each value).
fn values<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    text.lines().filter_map(|l| l.strip_prefix(prefix)).collect()
}

/// The first value of a `prefix` line.
fn value<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    values(text, prefix).into_iter().next()
}

/// `virtualization_type`, `virtualization_role`, `virtualization_tech_guest` and
/// `virtualization_tech_host`, as ansible-core's `LinuxVirtual.get_virtual_facts` decides them
/// in its order (the first finding names the type and role; every finding joins the tech
/// lists; nothing found: `NA`). The tech lists are sorted (ansible-core's are sets, in no
/// fixed order).
pub(super) fn virtual_facts(text: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let mut found = false;
    let mut guest: BTreeSet<String> = BTreeSet::new();
    let mut host: BTreeSet<String> = BTreeSet::new();
    let exists = |f: &str| values(text, "virt.f=").contains(&f);
    let set = |out: &mut Map<String, Value>, found: &mut bool, kind: &str, role: Option<&str>| {
        if !*found {
            out.insert("virtualization_type".into(), json!(kind));
            if let Some(r) = role {
                out.insert("virtualization_role".into(), json!(r));
            }
            *found = true;
        }
    };
    for line in values(text, "virt.cg=") {
        if line.contains("/docker/") || docker_scope(line) {
            guest.insert("docker".into());
            set(&mut out, &mut found, "docker", Some("guest"));
        }
        if line.contains("/lxc/") || line.contains("/machine.slice/machine-lxc") {
            guest.insert("lxc".into());
            set(&mut out, &mut found, "lxc", Some("guest"));
        }
        if line.contains("/system.slice/containerd.service") {
            guest.insert("containerd".into());
            set(&mut out, &mut found, "containerd", Some("guest"));
        }
    }
    for line in values(text, "virt.env=") {
        if line.contains("container=lxc") {
            guest.insert("lxc".into());
            set(&mut out, &mut found, "lxc", Some("guest"));
        }
        if line.contains("container=podman") {
            guest.insert("podman".into());
            set(&mut out, &mut found, "podman", Some("guest"));
        }
        if line.strip_prefix("container=").is_some_and(|v| !v.is_empty()) {
            guest.insert("container".into());
            set(&mut out, &mut found, "container", Some("guest"));
        }
    }
    if exists("/proc/vz") && !exists("/proc/lve") {
        out.insert("virtualization_type".into(), json!("openvz"));
        let role = if exists("/proc/bc") {
            host.insert("openvz".into());
            "host"
        } else {
            guest.insert("openvz".into());
            "guest"
        };
        if !found {
            out.insert("virtualization_role".into(), json!(role));
        }
        found = true;
    }
    let systemd_container = value(text, "virt.sysc=").filter(|c| !c.is_empty());
    if let Some(c) = systemd_container {
        guest.insert(c.to_string());
        set(&mut out, &mut found, c, Some("guest"));
    }
    if exists("/.dockerenv") || exists("/.dockerinit") {
        guest.insert("docker".into());
        set(&mut out, &mut found, "docker", Some("guest"));
    }
    if ["docker", "lxc", "podman", "openvz", "containerd"]
        .iter()
        .any(|t| guest.contains(*t))
        || systemd_container.is_some()
    {
        guest.insert("container".into());
    }
    if exists("/proc/xen") {
        let xen_host = values(text, "virt.xencap=")
            .iter()
            .any(|l| l.contains("control_d"));
        if xen_host {
            host.insert("xen".into());
        }
        set(
            &mut out,
            &mut found,
            "xen",
            Some(if xen_host { "host" } else { "guest" }),
        );
    }
    // ansible-core assumes a guest for the DMI checks, and takes it back if none matched.
    let assumed = !found;
    if assumed {
        out.insert("virtualization_role".into(), json!("guest"));
    }
    let dmi = |k: &str| value(text, &format!("virt.dmi.{k}=")).unwrap_or_default();
    let (product, vendor, family, bios) = (
        dmi("product_name"),
        dmi("sys_vendor"),
        dmi("product_family"),
        dmi("bios_vendor"),
    );
    let mut dmi_found = |tech: &str, kind: &str, out: &mut Map<String, Value>, found: &mut bool| {
        guest.insert(tech.to_string());
        set(out, found, kind, None);
    };
    if ["KVM", "KVM Server", "Bochs", "AHV", "CloudStack KVM Hypervisor"].contains(&product) {
        dmi_found("kvm", "kvm", &mut out, &mut found);
    }
    if vendor == "oVirt" {
        dmi_found("oVirt", "oVirt", &mut out, &mut found);
    }
    if vendor == "Red Hat" {
        if family == "RHV" {
            dmi_found("RHV", "RHV", &mut out, &mut found);
        } else if product == "RHEV Hypervisor" {
            dmi_found("RHEV", "RHEV", &mut out, &mut found);
        }
    }
    if product.starts_with("VMware") {
        dmi_found("VMware", "VMware", &mut out, &mut found);
    }
    if ["OpenStack Compute", "OpenStack Nova"].contains(&product) {
        dmi_found("openstack", "openstack", &mut out, &mut found);
    }
    if bios == "Xen" {
        dmi_found("xen", "xen", &mut out, &mut found);
    }
    if bios == "innotek GmbH" {
        dmi_found("virtualbox", "virtualbox", &mut out, &mut found);
    }
    if ["Amazon EC2", "DigitalOcean", "Hetzner", "Linode"].contains(&bios) {
        dmi_found("kvm", "kvm", &mut out, &mut found);
    }
    if [
        "QEMU",
        "Amazon EC2",
        "DigitalOcean",
        "Google",
        "Scaleway",
        "Nutanix",
    ]
    .contains(&vendor)
    {
        dmi_found("kvm", "kvm", &mut out, &mut found);
    }
    for (v, t) in [
        ("KubeVirt", "KubeVirt"),
        ("Microsoft Corporation", "VirtualPC"),
        ("Parallels Software International Inc.", "parallels"),
        ("OpenStack Foundation", "openstack"),
    ] {
        if vendor == v {
            dmi_found(t, t, &mut out, &mut found);
        }
    }
    if !found {
        out.remove("virtualization_role");
    }
    for line in values(text, "virt.vx=") {
        let id = line.trim_start_matches("VxID:").trim();
        if id.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            if !found {
                out.insert("virtualization_type".into(), json!("linux_vserver"));
            }
            let role = if id.starts_with('0') {
                host.insert("linux_vserver".into());
                "host"
            } else {
                guest.insert("linux_vserver".into());
                "guest"
            };
            if !found {
                out.insert("virtualization_role".into(), json!(role));
            }
            found = true;
        }
    }
    for line in values(text, "virt.cpu=") {
        // ansible-core's cpuinfo matches, in its order: (line start, text in it, tech).
        const CPU: &[(&str, &str, &str)] = &[
            ("model name", "QEMU Virtual CPU", "kvm"),
            ("vendor_id", "User Mode Linux", "uml"),
            ("model name", "UML", "uml"),
            ("machine", "CHRP IBM pSeries (emulated by qemu)", "kvm"),
            ("vendor_id", "PowerVM Lx86", "powervm_lx86"),
        ];
        let matched = CPU
            .iter()
            .find(|(start, needle, _)| line.starts_with(start) && line.contains(needle))
            .map(|(_, _, tech)| (*tech, *tech));
        let tech = if let Some(t) = matched {
            t
        } else if line.starts_with("vendor_id") && line.contains("IBM/S390") {
            guest.insert("PR/SM".into());
            if !found {
                out.insert("virtualization_type".into(), json!("PR/SM"));
            }
            if value(text, "virt.has_lscpu=") == Some("1") {
                for hv in values(text, "virt.lscpu=") {
                    let hv = hv.trim();
                    guest.insert(hv.to_string());
                    if !found {
                        out.insert("virtualization_type".into(), json!(hv));
                    }
                }
            } else {
                guest.insert("ibm_systemz".into());
                if !found {
                    out.insert("virtualization_type".into(), json!("ibm_systemz"));
                }
            }
            let role = if out.get("virtualization_type") == Some(&json!("PR/SM")) {
                "LPAR"
            } else {
                "guest"
            };
            if !found {
                out.insert("virtualization_role".into(), json!(role));
                found = true;
            }
            continue;
        } else {
            continue;
        };
        guest.insert(tech.0.to_string());
        if !found {
            out.insert("virtualization_type".into(), json!(tech.1));
            out.insert("virtualization_role".into(), json!("guest"));
            found = true;
        }
    }
    if exists("/proc/modules") {
        let modules = values(text, "virt.mod=");
        if modules.contains(&"kvm") {
            host.insert("kvm".into());
            if !found {
                out.insert("virtualization_type".into(), json!("kvm"));
                out.insert("virtualization_role".into(), json!("host"));
            }
            if exists("/rhev") && value(text, "virt.vdsm=").is_some() {
                host.insert("RHEV".into());
                if !found {
                    out.insert("virtualization_type".into(), json!("RHEV"));
                }
            }
            found = true;
        }
        if modules.contains(&"vboxdrv") {
            host.insert("virtualbox".into());
            set(&mut out, &mut found, "virtualbox", Some("host"));
        }
        if modules.contains(&"virtio") {
            host.insert("kvm".into());
            set(&mut out, &mut found, "kvm", Some("guest"));
        }
    }
    if value(text, "virt.dmidecode_ok=").is_some() {
        let lines = values(text, "virt.dmidecode=");
        let name: String = lines
            .iter()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.trim())
            .collect();
        if name.starts_with("VMware") {
            guest.insert("VMware".into());
            set(&mut out, &mut found, "VMware", Some("guest"));
        }
        if lines.iter().any(|l| l.contains("BHYVE")) {
            guest.insert("bhyve".into());
            set(&mut out, &mut found, "bhyve", Some("guest"));
        }
    }
    if exists("/dev/kvm") {
        host.insert("kvm".into());
        set(&mut out, &mut found, "kvm", Some("host"));
    }
    if !found {
        out.insert("virtualization_type".into(), json!("NA"));
        out.insert("virtualization_role".into(), json!("NA"));
    }
    out.insert("virtualization_tech_guest".into(), json!(guest));
    out.insert("virtualization_tech_host".into(), json!(host));
    out
}

/// Whether a cgroup line names a docker scope (`/docker-<hex>.scope`), as ansible-core's
/// `/docker(/|-[0-9a-f]+\.scope)`.
fn docker_scope(line: &str) -> bool {
    line.match_indices("/docker-").any(|(i, m)| {
        let rest = &line[i + m.len()..];
        let hex = rest
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            .count();
        hex > 0 && rest[hex..].starts_with(".scope")
    })
}

/// The `selinux` fact as ansible-core's collector gives it: `{status: disabled}` without an
/// enabled SELinux; else `status: enabled`, `mode` (enforcing or permissive), `config_mode` and
/// `type` from /etc/selinux/config, `policyvers`.
pub(super) fn selinux_facts(text: &str) -> Value {
    let Some(enforce) = value(text, "se.enforce=") else {
        return json!({"status": "disabled"});
    };
    let mode = match enforce.trim() {
        "1" => "enforcing",
        "0" => "permissive",
        _ => "unknown",
    };
    let policyvers = value(text, "se.policyvers=")
        .and_then(|p| p.trim().parse::<u64>().ok())
        .map_or(json!("unknown"), |p| json!(p));
    let config_mode = match value(text, "se.cfg.SELINUX=").map(|v| v.trim().trim_matches('"')) {
        Some("enforcing") => "enforcing",
        Some("permissive") => "permissive",
        Some("disabled") => "disabled",
        _ => "unknown",
    };
    let mut facts = json!({
        "status": "enabled",
        "policyvers": policyvers,
        "config_mode": config_mode,
        "mode": mode,
    });
    if let Some(t) = value(text, "se.cfg.SELINUXTYPE=")
        && let Some(m) = facts.as_object_mut()
    {
        m.insert("type".into(), json!(t.trim().trim_matches('"')));
    }
    facts
}

/// The fact-script part for ansible-core's local facts: every `*.fact` of the fact path
/// (`$TALON_FACT_PATH`, set by `setup`'s `fact_path`, else `/etc/ansible/facts.d`) in name order, run once when executable (its stdout, stderr and status), else read, as
/// `local.NAME=KIND RC B64OUT B64ERR` lines (KIND `exec` or `file`).
pub(super) const LOCAL_PROBE: &str = r#"
fp=${TALON_FACT_PATH:-/etc/ansible/facts.d}; echo "localdir=$fp"
for f in "$fp"/*.fact; do
  [ -e "$f" ] || continue; n=${f##*/}; n=${n%.fact}
  if [ -x "$f" ]; then
    t=$(mktemp -d) || continue
    "$f" >"$t/o" 2>"$t/e"; r=$?
    echo "local.$n=exec $r $(base64 -w0 <"$t/o") $(base64 -w0 <"$t/e")"; rm -rf "$t"
  else echo "local.$n=file 0 $(base64 -w0 < "$f" 2>/dev/null) "; fi
done
"#;

/// The `local` fact as ansible-core's local collector builds it from [`LOCAL_PROBE`]'s lines:
/// per fact file (by name without `.fact`), its JSON, else its INI sections (option names
/// lower-cased, `[DEFAULT]` options in every section, `%(name)s` and `%%` interpolated), else
/// ansible-core's error text for it; a script that failed gives "Failure executing fact script
/// ...". `{}` without fact files.
pub(super) fn local_facts(text: &str) -> Value {
    use base64::Engine;
    let mut local = Map::new();
    let dir = text
        .lines()
        .find_map(|l| l.strip_prefix("localdir="))
        .unwrap_or("/etc/ansible/facts.d");
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("local.") else {
            continue;
        };
        let Some((name, data)) = rest.split_once('=') else {
            continue;
        };
        let mut parts = data.splitn(4, ' ');
        let (kind, rc, out, err) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let decode = |b: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .unwrap_or_default()
        };
        let path = format!("{dir}/{name}.fact");
        if kind == "exec" && rc != "0" {
            let err = String::from_utf8_lossy(&decode(err)).into_owned();
            local.insert(
                name.to_string(),
                json!(format!(
                    "Failure executing fact script ({path}), rc: {rc}, err: {err}"
                )),
            );
            continue;
        }
        let Ok(mut out) = String::from_utf8(decode(out)) else {
            local.insert(
                name.to_string(),
                json!(format!(
                    "error loading fact - output of running \"{path}\" was not utf-8"
                )),
            );
            continue;
        };
        if kind == "file" {
            // get_file_content strips the file's text.
            out = out.trim().to_string();
        }
        let fact = match serde_json::from_str::<Value>(&out) {
            Ok(v) => v,
            Err(_) => ini_fact(&out).unwrap_or_else(|| {
                json!(format!(
                    "error loading facts as JSON or ini - please check content: {path}"
                ))
            }),
        };
        local.insert(name.to_string(), fact);
    }
    Value::Object(local)
}

/// An INI fact as Python's `ConfigParser` reads it; `None` where it would fail to parse.
fn ini_fact(text: &str) -> Option<Value> {
    let mut ini = configparser::ini::Ini::new_cs();
    ini.set_multiline(true);
    ini.set_inline_comment_symbols(Some(&[]));
    let map = ini.read(text.to_string()).ok()?;
    // Python refuses options before the first section header (other than [DEFAULT]'s).
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(['#', ';']))?;
    if !first.starts_with('[') {
        return None;
    }
    let lower = |m: &indexmap::IndexMap<String, Option<String>>| -> Option<Vec<(String, String)>> {
        m.iter()
            .map(|(k, v)| Some((k.to_lowercase(), v.clone()?)))
            .collect()
    };
    let defaults = map.get("DEFAULT").map(lower).unwrap_or(Some(Vec::new()))?;
    let mut out = Map::new();
    for (section, options) in &map {
        if section == "DEFAULT" {
            continue;
        }
        let mut own = lower(options)?;
        for (k, v) in &defaults {
            if !own.iter().any(|(o, _)| o == k) {
                own.push((k.clone(), v.clone()));
            }
        }
        let mut values = Map::new();
        for (k, v) in &own {
            values.insert(k.clone(), json!(crate::pyini::interpolate(v, &own, true)?));
        }
        out.insert(section.clone(), Value::Object(values));
    }
    Some(Value::Object(out))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_docker_container_is_a_docker_guest() {
        let t = "virt.f=/proc/1/cgroup\nvirt.f=/.dockerenv\nvirt.f=/proc/modules\n";
        let v = virtual_facts(t);
        assert_eq!(v["virtualization_type"], "docker");
        assert_eq!(v["virtualization_role"], "guest");
        assert_eq!(v["virtualization_tech_guest"], json!(["container", "docker"]));
        assert_eq!(v["virtualization_tech_host"], json!([]));
    }

    #[test]
    fn vms_hosts_and_bare_metal_as_ansible_core_decides() {
        let kvm = virtual_facts("virt.dmi.product_name=KVM\nvirt.dmi.sys_vendor=QEMU\n");
        assert_eq!(
            (
                kvm["virtualization_type"].as_str(),
                kvm["virtualization_role"].as_str()
            ),
            (Some("kvm"), Some("guest"))
        );
        let host = virtual_facts("virt.f=/proc/modules\nvirt.mod=kvm\nvirt.f=/dev/kvm\n");
        assert_eq!(host["virtualization_role"], "host");
        assert_eq!(host["virtualization_tech_host"], json!(["kvm"]));
        let metal = virtual_facts("virt.dmi.product_name=ThinkPad\n");
        assert_eq!(metal["virtualization_type"], "NA");
        assert_eq!(metal["virtualization_role"], "NA");
        let lxc = virtual_facts("virt.env=container=lxc\n");
        assert_eq!(lxc["virtualization_type"], "lxc");
        assert!(docker_scope("0::/system.slice/docker-3f4a.scope"));
        assert!(!docker_scope("0::/system.slice/docker-XYZ.scope"));
    }

    #[test]
    fn local_facts_as_ansible_core_reads_them() {
        use base64::Engine;
        let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let text = format!(
            "local.app=file 0 {} \nlocal.ini=file 0 {} \nlocal.bad=exec 2 {} {}\nlocal.junk=file 0 {} \n",
            b("{\"a\": 1}\n"),
            b("[DEFAULT]\nbase = /opt\n[Paths]\nHome = %(base)s/app\npct = 50%%\n"),
            b(""),
            b("boom\n"),
            b("just text"),
        );
        let v = local_facts(&text);
        assert_eq!(v["app"], json!({"a": 1}));
        assert_eq!(
            v["ini"],
            json!({"Paths": {"home": "/opt/app", "pct": "50%", "base": "/opt"}})
        );
        assert_eq!(
            v["bad"],
            json!("Failure executing fact script (/etc/ansible/facts.d/bad.fact), rc: 2, err: boom\n")
        );
        assert_eq!(
            v["junk"],
            json!(
                "error loading facts as JSON or ini - please check content: /etc/ansible/facts.d/junk.fact"
            )
        );
        assert_eq!(local_facts(""), json!({}));
    }

    #[test]
    fn selinux_disabled_or_enabled() {
        assert_eq!(selinux_facts(""), json!({"status": "disabled"}));
        let on = selinux_facts(
            "se.enforce=1\nse.policyvers=33\nse.cfg.SELINUX=enforcing\nse.cfg.SELINUXTYPE=targeted\n",
        );
        assert_eq!(
            on,
            json!({"status": "enabled", "policyvers": 33, "config_mode": "enforcing", "mode": "enforcing", "type": "targeted"})
        );
    }
}
