//! Fact gathering over SFTP: the files the fact script reads with shell builtins (`/etc`,
//! `/proc`, `/sys`) are read with SFTP requests all in flight at once, and the script's lines
//! are made from them on the controller; what needs a program (or the shell's own state) stays
//! in one smaller script, sent at the same time (it needs nothing the reads return). The lines
//! are the fact script's, so [`super::facts`] parses them as it parses the script's output and
//! the facts are the same. A second shell step follows only where the reads show it is needed:
//! `getent` (see below) and `lscpu` on an S/390 CPU.
//!
//! What the shell step keeps, and why: `hostname -f` (the resolver's canonical name), the Python
//! path and `python -V`, the user (`$USER`, `id -un`), `getent passwd` unless NSS asks
//! `/etc/passwd` first and it has the user (then the file's line is what `getent` prints), `env`
//! (the shell's environment, not `sftp-server`'s), `date` (the host's clock and zone; one `date -f`
//! process gives both the zone's names and the time, where the script starts two), `lsb_release`,
//! `findmnt` (bind mounts), `lsblk` (UUIDs), `ip` (IPv4 addresses), the package-manager probe and
//! the VxID/vdsm/dmidecode/lscpu/SELinux/facts.d parts (shell builtins, or programs that only run
//! on hosts that need them). What SFTP saves: `awk` on /proc/cpuinfo, `tr` on PID 1's environment
//! and on `python -V`, `stat -f` on the mounts (`statvfs@openssh.com`), one `date`, and usually
//! `getent`.

use std::collections::HashMap;

use futures::future::join_all;

use crate::transport::quote::quote;
use crate::transport::sftp::{SftpFail, SftpFs};
use crate::transport::{Connection, ExecRequest, TransportError};

/// The files read over SFTP, all requested at once.
const FILES: &[&str] = &[
    "/etc/os-release",
    "/proc/sys/kernel/hostname",
    "/proc/sys/kernel/ostype",
    "/proc/sys/kernel/osrelease",
    "/proc/sys/kernel/arch",
    "/etc/debian_version",
    "/proc/meminfo",
    "/sys/devices/system/cpu/online",
    "/proc/1/comm",
    "/etc/machine-id",
    "/var/lib/dbus/machine-id",
    "/etc/lsb-release",
    "/proc/mounts",
    "/proc/net/route",
    "/proc/1/cgroup",
    "/proc/1/environ",
    "/run/systemd/container",
    "/sys/devices/virtual/dmi/id/product_name",
    "/sys/devices/virtual/dmi/id/sys_vendor",
    "/sys/devices/virtual/dmi/id/product_family",
    "/sys/devices/virtual/dmi/id/bios_vendor",
    "/proc/cpuinfo",
    "/proc/modules",
    "/proc/self/status",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/hosts",
];

/// The marker files of the virtualization probe (`[ -e ]`, in its order).
const VIRT_MARKERS: &[&str] = &[
    "/proc/1/cgroup",
    "/proc/vz",
    "/proc/lve",
    "/proc/bc",
    "/.dockerenv",
    "/.dockerinit",
    "/proc/xen",
    "/rhev",
    "/dev/kvm",
    "/proc/modules",
];

/// The shell step, sent with the SFTP reads and answered with them: it needs nothing they
/// return. Fallbacks of the script (`uname -m`, `nproc`) run where the script would run them.
/// What a program prints for a `while read` loop of the script is printed as it is, between
/// `$T name` and `$T end` lines (`T` is a random tag, so no value can end a section early; `tend`
/// prints the end line after a newline, in case the output lacks its last one), and
/// [`shell_lines`] does the loop's work on the controller: the pipe's second process is not
/// started. `date -f` reads a here-document (no `printf` process).
const STEP: &str = r#"[ -r /proc/sys/kernel/arch ] || echo "machine=$(uname -m)"
n=0
if [ -r /sys/devices/system/cpu/online ]; then
  read -r on < /sys/devices/system/cpu/online; IFS=,; set -- $on; unset IFS
  for r in "$@"; do case $r in *-*) n=$((n + ${r#*-} - ${r%-*} + 1));; ?*) n=$((n + 1));; esac; done
fi
[ "$n" -gt 0 ] || echo "vcpus=$(nproc 2>/dev/null || echo 1)"
py=$(command -v python3 || command -v python); echo "python=$py"
[ -n "$py" ] && { echo "$T pyV"; "$py" -V 2>&1; tend; }
echo "user=${USER:-$(id -un)}"
echo "$T env"; env; tend
date -f - '+dtf=%Y|%m|%A|%w|%W|%d|%H|%M|%S|%s|%N|%Z|%z' 2>/dev/null <<'DATES' || date '+now=%Y|%m|%A|%w|%W|%d|%H|%M|%S|%s|%N|%Z|%z'
2000-01-01
2000-07-01
now
DATES
if command -v lsb_release >/dev/null 2>&1; then lsb_release -a 2>/dev/null | while IFS=: read -r k v; do printf 'lsbcmd.%s=%s\n' "$k" "$v"; done; else echo lsbnone=1; fi
if command -v ip >/dev/null 2>&1; then
  echo "$T ip"; ip -4 -o addr 2>/dev/null; tend
fi
printf '%s umask ' "$T"; umask
"#;

/// `hostname -f` (with the script's fallback to the kernel's name), in a second step when
/// `/etc/hosts` cannot answer it (see [`fqdn_from_files`]).
const FQDN: &str = r#"read -r h < /proc/sys/kernel/hostname; echo "fqdn=$(hostname -f 2>/dev/null || echo "$h")"
"#;

/// The user's passwd entry, in a second step when `/etc/passwd` cannot give it exactly.
const GETENT: &str = r#"u=; while read -r k v _; do [ "$k" = Uid: ] && u=$v; done < /proc/self/status; echo "uid=$u"
echo "pw=$(getent passwd "$u")"
"#;

/// The mount lines' programs (the script runs them when `/proc/mounts` lists a mount; without
/// one their lines change no fact).
const MOUNT_PROGRAMS: &str = r#"command -v findmnt >/dev/null 2>&1 && { echo "$T findmnt"; findmnt --list --noheadings --notruncate 2>/dev/null; tend; }
command -v lsblk >/dev/null 2>&1 && { echo "$T lsblk"; lsblk --list --noheadings --paths --output NAME,UUID --exclude 2 2>/dev/null; tend; }
"#;

/// The fact script's output for this host, made from SFTP reads and one shell step sent with
/// them (see the module's doc). `Ok(None)` when the SFTP channel fails under it or the server
/// has no `statvfs@openssh.com` (the caller runs the script).
///
/// Errors: [`TransportError`] when the shell step cannot run.
pub(super) async fn gather_text(
    conn: &Connection,
    fs: &SftpFs,
    fact_path: Option<&str>,
) -> Result<Option<String>, TransportError> {
    if !fs.has_statvfs() {
        return Ok(None);
    }
    // A tag no value on the host can know: without one, read the facts by the script.
    let Ok(tag) = crate::osenv::random_hex(8).map(|h| format!("talon-{h}")) else {
        return Ok(None);
    };
    let mut step = format!("T={tag}\ntend() {{ printf '\\n%s\\n' \"$T end\"; }}\n{STEP}");
    step.push_str(MOUNT_PROGRAMS);
    step.push_str(super::virt_facts::PROBE_REST);
    step.push_str(&super::facts::pkg_mgr_probe());
    if let Some(p) = fact_path {
        step.push_str(&format!("TALON_FACT_PATH={}\n", quote(p)));
    }
    step.push_str(super::virt_facts::LOCAL_PROBE);
    let req = inline(step);
    let (files, shell) = tokio::join!(file_lines(fs), conn.exec(&req));
    let mut shell = shell?.stdout_str();
    // The remote shell's umask (the builtin, no process): what the file primitives would ask
    // it on their first SFTP write, learned now.
    let umask_at = format!("{tag} umask ");
    if let Some(i) = shell.find(&umask_at) {
        let line_end = shell[i..].find('\n').map_or(shell.len(), |e| i + e + 1);
        if let Ok(u) = u32::from_str_radix(shell[i + umask_at.len()..line_end].trim(), 8) {
            crate::transport::files::learn_umask(conn, u);
        }
        shell.replace_range(i..line_end, "");
    }
    let Some(mut files) = files else {
        return Ok(None);
    };
    files
        .text
        .push_str(&shell_lines(&shell, &tag, files.lsb_release.as_deref()));
    if !files.extra.is_empty() {
        let extra = conn.exec(&inline(files.extra)).await?.stdout_str();
        files.text.push_str(&extra);
    }
    Ok(Some(files.text))
}

/// `script` run by the remote shell itself (no `$$` or `$0` in it).
fn inline(mut script: String) -> ExecRequest {
    script.push_str("true\n");
    ExecRequest {
        argv: vec!["/bin/sh".into(), "-c".into(), script, "talon".into()],
        inline: true,
        ..Default::default()
    }
}

/// What the SFTP reads give: the script's lines, `/etc/lsb-release` (used when the host has no
/// `lsb_release`), and a second shell step for what they showed is needed (`getent`, `lscpu`
/// on S/390), usually empty.
struct FileLines {
    text: String,
    lsb_release: Option<String>,
    extra: String,
}

/// Reads the files, stats and mounts over SFTP (all requests in flight together, then the
/// mounts' `statvfs`) and makes the script's lines. `None` when the channel fails.
async fn file_lines(fs: &SftpFs) -> Option<FileLines> {
    let reads = join_all(FILES.iter().map(|p| read(fs, p)));
    let markers = join_all(VIRT_MARKERS.iter().map(|p| fs.stat(p, true)));
    let (reads, markers, net) = tokio::join!(reads, markers, fs.list("/sys/class/net"));
    let mut files: HashMap<&str, String> = HashMap::new();
    for (p, r) in FILES.iter().zip(reads) {
        if let Some(text) = r.ok()? {
            files.insert(p, text);
        }
    }
    let file = |p: &str| files.get(p).map(String::as_str);
    let mut out = String::new();
    let mut extra = String::new();
    if let Some(t) = file("/etc/os-release") {
        out.push_str(&os_release(t));
    }
    let k = |p: &str| file(p).map(read_r).unwrap_or_default();
    out.push_str(&format!(
        "hostname={}\nsystem={}\nkernel={}\n",
        k("/proc/sys/kernel/hostname"),
        k("/proc/sys/kernel/ostype"),
        k("/proc/sys/kernel/osrelease")
    ));
    if let Some(a) = file("/proc/sys/kernel/arch") {
        out.push_str(&format!("machine={}\n", read_r(a)));
    }
    if let Some(v) = file("/etc/debian_version").and_then(read_line) {
        out.push_str(&format!("debian_version={}\n", ifs_trim(v)));
    }
    for line in file("/proc/meminfo").map(lines).unwrap_or_default() {
        let mut w = line.split_ascii_whitespace();
        let (key, v) = (w.next().unwrap_or(""), w.next().unwrap_or(""));
        if matches!(
            key,
            "MemTotal:" | "MemFree:" | "Buffers:" | "Cached:" | "SwapTotal:" | "SwapFree:" | "SwapCached:"
        ) {
            out.push_str(&format!("mem_{}={v}\n", key.trim_end_matches(':')));
        }
    }
    // 0 CPUs: the shell step's `nproc` answers, as in the script.
    if let Some(n) = file("/sys/devices/system/cpu/online").map(|t| online_cpus(&read_r(t)))
        && n > 0
    {
        out.push_str(&format!("vcpus={n}\n"));
    }
    if let Some(p) = file("/proc/1/comm").and_then(read_line) {
        out.push_str(&format!("pid1={}\n", ifs_trim(p)));
    }
    for m in ["/etc/machine-id", "/var/lib/dbus/machine-id"] {
        if let Some(t) = file(m).filter(|t| !t.is_empty()) {
            out.push_str(&format!("machine_id={}\n", read_r(t)));
            break;
        }
    }
    if let Ok(entries) = net {
        let mut names: Vec<String> = entries
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        for n in names {
            out.push_str(&format!("iface={n}\n"));
        }
    }
    let mounts = mount_lines(file("/proc/mounts").unwrap_or_default());
    let stats = join_all(mounts.iter().map(|(_, mnt)| fs.statvfs(mnt))).await;
    for ((line, mnt), st) in mounts.iter().zip(stats) {
        out.push_str(line);
        match st {
            Ok(Some(v)) => out.push_str(&format!(
                "mntst={} {} {} {} {} {} {mnt}\n",
                v[0], v[1], v[2], v[3], v[4], v[5]
            )),
            // Unreadable: `stat -f` prints nothing for it either.
            Ok(None) | Err(SftpFail::Status(..)) => {}
            Err(SftpFail::Other(_)) => return None,
        }
    }
    out.push_str(&route(file("/proc/net/route").unwrap_or_default()));
    // `sftp-server`'s uid: the login user's, as the shell's.
    let uid = lines(file("/proc/self/status").unwrap_or_default())
        .into_iter()
        .rev()
        .find_map(|l| {
            let mut w = l.split_ascii_whitespace();
            (w.next() == Some("Uid:")).then(|| w.next().unwrap_or_default())
        })
        .unwrap_or_default();
    out.push_str(&format!("uid={uid}\n"));
    match passwd_entry(
        file("/proc/self/status"),
        file("/etc/nsswitch.conf"),
        file("/etc/passwd"),
    ) {
        Some(pw) => out.push_str(&format!("pw={pw}\n")),
        None => extra.push_str(GETENT),
    }
    match fqdn_from_files(
        &k("/proc/sys/kernel/hostname"),
        file("/etc/nsswitch.conf"),
        file("/etc/hosts"),
    ) {
        Some(fqdn) => out.push_str(&format!("fqdn={fqdn}\n")),
        None => extra.push_str(FQDN),
    }
    if virt_lines(&file, &markers, &mut out) {
        extra.push_str("s390=1\n");
        extra.push_str(super::virt_facts::PROBE_S390);
    }
    Some(FileLines {
        text: out,
        lsb_release: file("/etc/lsb-release").map(str::to_string),
        extra,
    })
}

/// A file's text (lossy UTF-8); `Ok(None)` when the server refuses it (missing, unreadable: what
/// the script's `[ -r ]` tests), `Err` when the channel fails.
async fn read(fs: &SftpFs, path: &str) -> Result<Option<String>, SftpFail> {
    match fs.read_all(path, None).await {
        Ok(b) => Ok(b.map(|b| String::from_utf8_lossy(&b).into_owned())),
        Err(SftpFail::Status(..)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The lines `while read` sees: each ended by a newline (a last line without one is not read).
fn lines(text: &str) -> Vec<&str> {
    let mut v: Vec<&str> = text.split('\n').collect();
    v.pop();
    v
}

/// The first line when it is ended by a newline (`read` succeeds), else `None`.
fn read_line(text: &str) -> Option<&str> {
    text.split_once('\n').map(|(l, _)| l)
}

/// What `read -r v` puts in `v`: the first line, IFS whitespace trimmed at both ends.
fn read_r(text: &str) -> String {
    ifs_trim(text.split('\n').next().unwrap_or_default()).to_string()
}

/// Trims the default IFS's whitespace (space, tab).
fn ifs_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// `os_*=` lines from `/etc/os-release` as the script prints them after sourcing it: `KEY=value`
/// lines with shell quoting (`"..."` with `\` escapes, `'...'`); expansions are not evaluated.
fn os_release(text: &str) -> String {
    let mut vars: HashMap<&str, String> = HashMap::new();
    for line in text.lines() {
        let line = line.trim_start();
        if let Some((k, v)) = line.split_once('=')
            && !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            vars.insert(k, shell_word(v));
        }
    }
    let get = |k: &str| vars.get(k).cloned().unwrap_or_default();
    format!(
        "os_ID={}\nos_VERSION_ID={}\nos_VERSION_CODENAME={}\nos_ID_LIKE={}\n",
        get("ID"),
        get("VERSION_ID"),
        get("VERSION_CODENAME"),
        get("ID_LIKE")
    )
}

/// One shell word's value: quotes removed, backslash escapes applied, up to unquoted whitespace.
fn shell_word(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => out.extend(chars.by_ref().take_while(|&c| c != '\'')),
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('$' | '`' | '"' | '\\')) => out.push(n),
                            Some('\n') | None => {}
                            Some(n) => {
                                out.push('\\');
                                out.push(n);
                            }
                        },
                        c => out.push(c),
                    }
                }
            }
            '\\' => out.extend(chars.next()),
            ' ' | '\t' | ';' | '#' => break,
            c => out.push(c),
        }
    }
    out
}

/// The login user's `getent passwd UID` line when `/etc/passwd` answers it exactly: NSS asks
/// the `files` source first (`/etc/nsswitch.conf`'s `passwd:` line) and the file has the uid
/// (`sftp-server`'s own, from its `/proc/self/status`: the login user's, as the shell's). Fields
/// as `getent` prints them (numbers without leading zeros). `None`: the shell step asks
/// `getent`.
fn passwd_entry(status: Option<&str>, nsswitch: Option<&str>, passwd: Option<&str>) -> Option<String> {
    let uid: u64 = status?
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()?;
    if !files_first(nsswitch?, "passwd:") {
        return None;
    }
    passwd?.lines().find_map(|l| {
        let l = l.trim_start();
        let f: Vec<&str> = l.split(':').collect();
        if l.starts_with('#') || f.len() != 7 || f[2].parse::<u64>().ok()? != uid {
            return None;
        }
        let gid: u64 = f[3].parse().ok()?;
        Some(format!(
            "{}:{}:{uid}:{gid}:{}:{}:{}",
            f[0], f[1], f[4], f[5], f[6]
        ))
    })
}

/// Whether `/etc/nsswitch.conf` (its text) asks the `files` source first for `db` (`"passwd:"`,
/// `"hosts:"`) and stops there when it answers (no `[...]` action after it).
fn files_first(nsswitch: &str, db: &str) -> bool {
    nsswitch.lines().any(|l| {
        l.strip_prefix(db).is_some_and(|v| {
            let mut w = v.split_ascii_whitespace();
            w.next() == Some("files") && !w.next().is_some_and(|a| a.starts_with('['))
        })
    })
}

/// `hostname -f` when `/etc/hosts` answers it: NSS asks `files` first for `hosts:` and a line
/// of `/etc/hosts` names the kernel's host name (names compare without case, as glibc's files
/// source does). The first such line's first name is what `getaddrinfo` gives as the canonical
/// name, which `hostname -f` prints. `None` (the shell step runs `hostname -f`): another source
/// would answer, no line names the host, or a naming line's address is one this parser does
/// not read as glibc does (not plain IPv4 or IPv6).
fn fqdn_from_files(host: &str, nsswitch: Option<&str>, hosts: Option<&str>) -> Option<String> {
    if host.is_empty() || !files_first(nsswitch?, "hosts:") {
        return None;
    }
    for line in hosts?.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut w = line.split_ascii_whitespace();
        let Some(addr) = w.next() else {
            continue;
        };
        let names: Vec<&str> = w.collect();
        if !names.iter().any(|n| n.eq_ignore_ascii_case(host)) {
            continue;
        }
        addr.parse::<std::net::IpAddr>().ok()?;
        return names.first().map(|n| n.to_string());
    }
    None
}

/// The number of CPUs in `/sys/devices/system/cpu/online` ("0-3,5"), as the script counts.
fn online_cpus(on: &str) -> u64 {
    let mut n = 0u64;
    for r in on.split(',').filter(|r| !r.is_empty()) {
        match r.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<u64>().unwrap_or(0), b.parse::<u64>().unwrap_or(0));
                n += (b + 1).saturating_sub(a);
            }
            None => n += 1,
        }
    }
    n
}

/// The script's `mnt=` lines from `/proc/mounts` (a device that is a path, `\...` or
/// `host:/path`, not `none`), each with its mount point as the file writes it (octal escapes
/// kept: the script's `stat -f` is given it so).
fn mount_lines(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in lines(text) {
        let w: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some([dev, mnt, fs, opts, dump]) = w.get(..5) else {
            continue;
        };
        let pass = w[5..].join(" ");
        if !(dev.starts_with('/') || dev.starts_with('\\') || dev.contains(":/")) || *fs == "none" {
            continue;
        }
        out.push((
            format!("mnt={dev} {mnt} {fs} {opts} {dump} {pass}\n"),
            mnt.to_string(),
        ));
    }
    out
}

/// `ipv4_dev=`/`ipv4_gw=` from the first default route of `/proc/net/route` (the gateway is
/// little-endian hex).
fn route(text: &str) -> String {
    for line in lines(text) {
        let mut w = line.split_ascii_whitespace();
        let (Some(ifc), Some("00000000"), Some(g)) = (w.next(), w.next(), w.next()) else {
            continue;
        };
        let octet = |i: usize| g.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok());
        if let (8, Some(a), Some(b), Some(c), Some(d)) = (g.len(), octet(6), octet(4), octet(2), octet(0)) {
            return format!("ipv4_dev={ifc}\nipv4_gw={a}.{b}.{c}.{d}\n");
        }
        return String::new();
    }
    String::new()
}

/// The `virt.*=` lines of `PROBE_FILES` from the files and marker stats; true when the CPU is
/// IBM S/390 (the shell step then asks `lscpu`).
fn virt_lines<'a>(
    file: &impl Fn(&str) -> Option<&'a str>,
    markers: &[Result<russh_sftp::protocol::FileAttributes, SftpFail>],
    out: &mut String,
) -> bool {
    for l in file("/proc/1/cgroup").map(lines).unwrap_or_default() {
        if [
            "/docker",
            "/lxc/",
            "/machine.slice/machine-lxc",
            "/system.slice/containerd.service",
        ]
        .iter()
        .any(|m| l.contains(m))
        {
            out.push_str(&format!("virt.cg={l}\n"));
        }
    }
    if let Some(env) = file("/proc/1/environ") {
        let mut parts: Vec<&str> = env.split('\0').collect();
        parts.pop();
        for l in parts.iter().flat_map(|p| p.split('\n')) {
            if l.contains("container=") {
                out.push_str(&format!("virt.env={l}\n"));
            }
        }
    }
    for (p, st) in VIRT_MARKERS.iter().zip(markers) {
        if st.is_ok() {
            out.push_str(&format!("virt.f={p}\n"));
        }
    }
    if let Some(c) = file("/run/systemd/container") {
        out.push_str(&format!(
            "virt.sysc={}\n",
            c.split('\n').next().unwrap_or_default()
        ));
    }
    for k in ["product_name", "sys_vendor", "product_family", "bios_vendor"] {
        if let Some(v) = file(&format!("/sys/devices/virtual/dmi/id/{k}")) {
            out.push_str(&format!(
                "virt.dmi.{k}={}\n",
                v.split('\n').next().unwrap_or_default()
            ));
        }
    }
    let mut s390 = false;
    let mut seen: Vec<&str> = Vec::new();
    for l in file("/proc/cpuinfo")
        .map(|t| t.strip_suffix('\n').unwrap_or(t).split('\n'))
        .into_iter()
        .flatten()
    {
        if ["model name", "vendor_id", "machine"]
            .iter()
            .any(|p| l.starts_with(p))
            && !seen.contains(&l)
        {
            seen.push(l);
            out.push_str(&format!("virt.cpu={l}\n"));
        }
        if l.strip_prefix("vendor_id")
            .is_some_and(|r| r.contains("IBM/S390"))
        {
            s390 = true;
        }
    }
    for l in file("/proc/modules").map(lines).unwrap_or_default() {
        let m = l.split_ascii_whitespace().next().unwrap_or_default();
        if matches!(m, "kvm" | "vboxdrv" | "virtio") {
            out.push_str(&format!("virt.mod={m}\n"));
        }
    }
    s390
}

/// The shell step's output as the script's lines: `dtf=` lines (`date -f` of two dates in
/// January and July, then now) become `tzs=` (zone name and offset) and `now=`; without
/// `lsb_release` (`lsbnone=1`) the `lsbfile.` lines come from `/etc/lsb-release`; a section
/// (`tag name` .. `tag end`, see [`STEP`]) becomes the lines its `while read` loop in the script
/// prints (see [`section_lines`]).
fn shell_lines(shell: &str, tag: &str, lsb_release: Option<&str>) -> String {
    let mut out = String::new();
    let mut dtf = 0;
    let end = format!("\n{tag} end\n");
    let mut rest = shell;
    while !rest.is_empty() {
        let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        rest = after;
        if let Some(name) = line.strip_prefix(tag).and_then(|l| l.strip_prefix(' ')) {
            let (body, after) = match rest.find(&end) {
                Some(i) => (&rest[..i], &rest[i + end.len()..]),
                None => (rest, ""),
            };
            rest = after;
            out.push_str(&section_lines(name, body));
        } else if let Some(v) = line.strip_prefix("dtf=") {
            dtf += 1;
            if dtf < 3 {
                let mut f = v.rsplitn(3, '|');
                let (z, name) = (f.next().unwrap_or_default(), f.next().unwrap_or_default());
                out.push_str(&format!("tzs={name} {z}\n"));
            } else {
                out.push_str(&format!("now={v}\n"));
            }
        } else if line == "lsbnone=1" {
            for l in lsb_release.map(lines).unwrap_or_default() {
                out.push_str(&format!("lsbfile.{l}\n"));
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// What the script's `while read` loop (or `$(...)` and word splitting, for `pyV`) prints for a
/// program's output `body`, by section name: `pyV` the words each followed by a space; `env`
/// each line as `env.LINE`; `ip` (`read -r _ ifc _ a _`) `inet=IFC ADDR` without the prefix
/// length; `findmnt` (`read -r t s _`) `mntbind=T` when the source ends with `]`; `lsblk`
/// (`read -r n u`) `mntuuid=N U` when there is a UUID. A last line without a newline is not
/// read, as `read` does not.
fn section_lines(name: &str, body: &str) -> String {
    let mut out = String::new();
    if name == "pyV" {
        // `printf '%s ' $v` prints its format once even without words.
        let words: Vec<&str> = body.split([' ', '\t', '\n']).filter(|w| !w.is_empty()).collect();
        out.push_str("pyV=");
        for w in &words {
            out.push_str(w);
            out.push(' ');
        }
        if words.is_empty() {
            out.push(' ');
        }
        out.push('\n');
        return out;
    }
    for l in lines(body) {
        let words: Vec<&str> = l.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
        let word = |i: usize| words.get(i).copied().unwrap_or_default();
        match name {
            "env" => out.push_str(&format!("env.{l}\n")),
            "ip" => {
                let a = word(3);
                out.push_str(&format!(
                    "inet={} {}\n",
                    word(1),
                    a.split('/').next().unwrap_or(a)
                ));
            }
            "findmnt" if word(1).ends_with(']') => out.push_str(&format!("mntbind={}\n", word(0))),
            "lsblk" => {
                let t = ifs_trim(l);
                if let Some((n, u)) = t.split_once([' ', '\t']) {
                    out.push_str(&format!("mntuuid={n} {}\n", ifs_trim(u)));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
#[path = "facts_sftp_tests.rs"]
mod tests;
