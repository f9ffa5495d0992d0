//! What ansible.posix.mount computes without touching the host, on Linux: its `fstab` line
//! edits ([`set_mount`], [`unset_mount`], with the module's escaping of spaces, `&` and
//! backslashes), its reading of `/proc/self/mountinfo` ([`linux_mounts`], bind mounts' sources
//! as the module derives them), and Python's `str.split()`/`strip()` whitespace.

use std::collections::HashMap;

/// Python's `str.isspace()` for one character (Unicode white space and the ASCII separators
/// `\x1c`..`\x1f`).
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.split()` (no separator): runs of white space split, ends dropped.
pub fn py_split(s: &str) -> Vec<&str> {
    s.split(py_space).filter(|f| !f.is_empty()).collect()
}

/// Python's `str.strip()`.
fn py_strip(s: &str) -> &str {
    s.trim_matches(py_space)
}

/// The module's `_escape_fstab`: backslash, space and `&` as octal escapes.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\134")
        .replace(' ', "\\040")
        .replace('&', "\\046")
}

/// One fstab entry as the module wants it (values unescaped, as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `src` (`None` when not given: only `absent`/`unmounted`/`remounted`).
    pub src: Option<String>,
    /// The mount point (`path`/`name`).
    pub name: String,
    /// `fstype` (`None` when not given).
    pub fstype: Option<String>,
    /// `opts` (`defaults`, with `noauto` added for `boot: false`).
    pub opts: String,
    /// `dump`.
    pub dump: String,
    /// `passno`.
    pub passno: String,
}

/// True when the fstab fields `f` (src, name, fstype, ...) name the entry's mount point, as
/// the module matches: the same (escaped) name, except a swap line (`none ... swap`) whose
/// source differs from a given `src`.
fn same_point(f: &[&str], e: &Entry, escaped_name: &str) -> bool {
    if f[1] != escaped_name {
        return false;
    }
    let other_swap = e
        .src
        .as_ref()
        .is_some_and(|src| f[1] == "none" && f[2] == "swap" && f[0] != src);
    !other_swap
}

/// The module's `_set_mount_save_old` on Linux: returns the new lines, the old ones (each
/// ending with a newline, as the module keeps them to put back) and whether anything changed.
/// A line for the same mount point with 4 to 6 fields (after dropping an inline `#` comment)
/// is rewritten from its fields with the wanted `src`, `fstype`, `opts`, `dump`, `passno` once
/// anything changed (from then on every matching line is rewritten, as the module's flag stays
/// set; a line lacking `dump` or `passno` always differs); none: the entry is appended.
/// `None` when `src` or `fstype` is missing (the module requires them for these states).
pub fn set_mount(text: &str, e: &Entry) -> Option<(String, String, bool)> {
    let src = escape(e.src.as_deref()?);
    let fstype = escape(e.fstype.as_deref()?);
    let (name, opts, dump, passno) = (
        escape(&e.name),
        escape(&e.opts),
        escape(&e.dump),
        escape(&e.passno),
    );
    let wanted = [
        src.as_str(),
        fstype.as_str(),
        opts.as_str(),
        dump.as_str(),
        passno.as_str(),
    ];
    let mut out = String::new();
    let mut old = String::new();
    let mut exists = false;
    let mut changed = false;
    for raw in text.split_inclusive('\n') {
        let line = if raw.ends_with('\n') {
            raw.to_string()
        } else {
            format!("{raw}\n")
        };
        old.push_str(&line);
        let stripped = py_strip(&line);
        if stripped.is_empty() || stripped.starts_with('#') {
            out.push_str(&line);
            continue;
        }
        let fields = py_split(line.split('#').next().unwrap_or_default());
        if !(4..=6).contains(&fields.len()) || !same_point(&fields, e, &name) {
            out.push_str(&line);
            continue;
        }
        exists = true;
        // src, fstype, opts, dump, passno as the line has them (None: missing, never equal).
        let have = [
            Some(fields[0]),
            Some(fields[2]),
            Some(fields[3]),
            fields.get(4).copied(),
            fields.get(5).copied(),
        ];
        if have.iter().zip(wanted.iter()).any(|(h, w)| *h != Some(*w)) {
            changed = true;
        }
        if changed {
            out.push_str(&format!("{src} {} {fstype} {opts} {dump} {passno}\n", fields[1]));
        } else {
            out.push_str(&line);
        }
    }
    if !exists {
        out.push_str(&format!("{src} {name} {fstype} {opts} {dump} {passno}\n"));
        changed = true;
    }
    Some((out, old, changed))
}

/// The module's `unset_mount` on Linux: drops every 6-field line (split on white space, inline
/// comments included) for the mount point; returns the new text and whether a line went.
pub fn unset_mount(text: &str, e: &Entry) -> (String, bool) {
    let name = escape(&e.name);
    let mut out = String::new();
    let mut changed = false;
    for line in text.split_inclusive('\n') {
        let stripped = py_strip(line);
        if stripped.is_empty() || stripped.starts_with('#') {
            out.push_str(line);
            continue;
        }
        let fields = py_split(line);
        if fields.len() != 6 || !same_point(&fields, e, &name) {
            out.push_str(line);
            continue;
        }
        changed = true;
    }
    (out, changed)
}

/// One mount as the module's `get_linux_mounts` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    /// The source: the device, or for a mount under another mount, the path it binds.
    pub src: String,
}

/// The module's `get_linux_mounts`: `/proc/self/mountinfo` lines to mount point -> source. A
/// mount whose parent is listed (and is not id 1) has as source its root, made relative to the
/// parent's root and prefixed with the parent's mount point (the module rewrites the roots as
/// it goes, in file order); others their device. A later line for the same mount point wins.
/// `None` when a line does not parse (the module would raise).
pub fn linux_mounts(text: &str) -> Option<HashMap<String, Mounted>> {
    struct Rec {
        id: i64,
        parent: i64,
        root: String,
        dst: String,
        src: String,
    }
    let mut recs: Vec<Rec> = Vec::new();
    let mut index: HashMap<i64, usize> = HashMap::new();
    for line in text.lines() {
        let f = py_split(line);
        if f.len() < 5 {
            return None;
        }
        let rec = Rec {
            id: f[0].parse().ok()?,
            parent: f[1].parse().ok()?,
            root: f[3].to_string(),
            dst: f[4].to_string(),
            src: f[f.len() - 2].to_string(),
        };
        // A repeated id replaces the earlier record in place (a Python dict keeps the first
        // position).
        match index.get(&rec.id) {
            Some(&i) => recs[i] = rec,
            None => {
                index.insert(rec.id, recs.len());
                recs.push(rec);
            }
        }
    }
    let mut mounts = HashMap::new();
    for i in 0..recs.len() {
        let parent = recs[i].parent;
        let src = match index.get(&parent) {
            Some(&p) if parent != 1 => {
                let (proot, pdst) = (recs[p].root.clone(), recs[p].dst.clone());
                let mut root = recs[i].root.clone();
                if proot.len() > 1 && root.starts_with(&format!("{proot}/")) {
                    root = root[proot.len()..].to_string();
                }
                if pdst != "/" {
                    root = format!("{pdst}{root}");
                }
                recs[i].root.clone_from(&root);
                root
            }
            _ => recs[i].src.clone(),
        };
        mounts.insert(recs[i].dst.clone(), Mounted { src });
    }
    Some(mounts)
}

/// The module's `is_bind_mounted` on Linux: `dest` is a mount point in `mounts` (with source
/// `src` when given).
pub fn is_bind_mounted(mounts: &HashMap<String, Mounted>, dest: &str, src: Option<&str>) -> bool {
    match (mounts.get(dest), src) {
        (Some(m), Some(s)) => m.src == s,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entry(name: &str) -> Entry {
        Entry {
            src: Some("/dev/x".into()),
            name: name.into(),
            fstype: Some("ext4".into()),
            opts: "defaults".into(),
            dump: "0".into(),
            passno: "0".into(),
        }
    }

    #[test]
    fn a_new_entry_is_appended_escaped() {
        let mut e = entry("/mnt/my data");
        e.opts = "rw,a&b".into();
        let (new, old, changed) = set_mount("# c\nUUID=1 / ext4 defaults 0 1", &e).unwrap();
        assert!(changed);
        assert_eq!(old, "# c\nUUID=1 / ext4 defaults 0 1\n");
        assert_eq!(
            new,
            "# c\nUUID=1 / ext4 defaults 0 1\n/dev/x /mnt/my\\040data ext4 rw,a\\046b 0 0\n"
        );
    }

    #[test]
    fn the_same_entry_is_kept_and_a_short_one_rewritten() {
        let e = entry("/mnt/a");
        let text = "/dev/x   /mnt/a ext4 defaults 0 0 # mine\n";
        let (new, _, changed) = set_mount(text, &e).unwrap();
        assert!(!changed);
        assert_eq!(new, text);
        let (new, _, changed) = set_mount("/dev/x /mnt/a ext4 defaults\n", &e).unwrap();
        assert!(changed);
        assert_eq!(new, "/dev/x /mnt/a ext4 defaults 0 0\n");
        // Once changed, a later identical line is rewritten from its fields too.
        let (new, _, _) = set_mount(
            "/dev/y /mnt/a ext4 defaults 0 0\n/dev/x  /mnt/a  ext4 defaults 0 0\n",
            &e,
        )
        .unwrap();
        assert_eq!(
            new,
            "/dev/x /mnt/a ext4 defaults 0 0\n/dev/x /mnt/a ext4 defaults 0 0\n"
        );
    }

    #[test]
    fn swap_lines_of_other_sources_are_not_the_entry() {
        let mut e = entry("none");
        e.fstype = Some("swap".into());
        let text = "/dev/sdb none swap sw 0 0\n";
        let (new, _, changed) = set_mount(text, &e).unwrap();
        assert!(changed);
        assert_eq!(new, "/dev/sdb none swap sw 0 0\n/dev/x none swap defaults 0 0\n");
        assert_eq!(unset_mount(text, &e), (text.to_string(), false));
    }

    #[test]
    fn unset_drops_six_field_lines_only() {
        let e = Entry {
            src: None,
            fstype: None,
            ..entry("/mnt/a")
        };
        let text = "/dev/x /mnt/a ext4 defaults 0 0\n/dev/x /mnt/a ext4 defaults\n\n# /mnt/a\n";
        assert_eq!(
            unset_mount(text, &e),
            ("/dev/x /mnt/a ext4 defaults\n\n# /mnt/a\n".to_string(), true)
        );
    }

    #[test]
    fn mountinfo_bind_sources_as_the_module_derives_them() {
        let text = "177 100 0:70 / / rw - overlay overlay rw\n\
                    193 179 0:77 / /dev/shm rw - tmpfs shm rw\n\
                    179 177 0:73 / /dev rw - tmpfs tmpfs rw\n\
                    196 177 254:0 /var/lib/docker/x/hostname /etc/hostname rw - ext4 /dev/vda rw\n\
                    200 179 0:73 /null /dev/k rw - tmpfs tmpfs rw\n";
        let m = linux_mounts(text).unwrap();
        assert_eq!(m["/"].src, "overlay");
        assert_eq!(m["/etc/hostname"].src, "/var/lib/docker/x/hostname");
        assert_eq!(m["/dev/k"].src, "/dev/null");
        assert!(is_bind_mounted(&m, "/dev/shm", None));
        assert!(!is_bind_mounted(&m, "/dev/shm", Some("tmpfs")));
        assert!(linux_mounts("x y\n").is_none());
    }

    #[test]
    fn python_whitespace() {
        assert_eq!(py_split(" a\x1cb\t c "), ["a", "b", "c"]);
        assert_eq!(py_strip("\x1f #x \n"), "#x");
    }
}
