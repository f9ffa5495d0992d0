//! The host's listing for `find`: one script ([`LIST`]) prints every searched folder's entries
//! with GNU `find -printf` (or `find -L` and `stat` with `follow`), NUL-separated, and
//! [`parse_listing`] reads them back as Python's `os.lstat` would give them.

/// One entry of the host's listing: `lstat` data of the path, as Python's `os.lstat` gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Depth below the searched folder (1 for its own entries).
    pub depth: usize,
    /// The entry's name.
    pub name: String,
    /// `find`'s `%y`: `f`, `d`, `l`, `c`, `b`, `p`, `s`.
    pub kind: char,
    /// A folder, links followed (`os.scandir`'s `is_dir()`: decides files or dirs in `os.walk`).
    pub dir_followed: bool,
    /// Permission bits with setuid, setgid and sticky.
    pub mode: u32,
    /// Owner uid.
    pub uid: u64,
    /// Group gid.
    pub gid: u64,
    /// Owner name, empty when the uid has none.
    pub user: String,
    /// Group name, empty when the gid has none.
    pub group: String,
    /// Size in bytes.
    pub size: u64,
    /// Inode number.
    pub inode: u64,
    /// Device number.
    pub dev: u64,
    /// Hard links.
    pub nlink: u64,
    /// Access, modification, change times as Python's float seconds.
    pub times: [f64; 3],
}

/// Python's float of a `find` time (`SECONDS.FRACTION`): `sec + nsec * 1e-9`, as CPython's
/// `os.stat` computes `st_mtime`.
pub fn py_time(s: &str) -> Option<f64> {
    let (sec, frac) = s.split_once('.').unwrap_or((s, ""));
    let sec: i64 = sec.parse().ok()?;
    let mut digits: String = frac.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    let nsec: i64 = digits.parse().ok()?;
    Some(sec as f64 + nsec as f64 * 1e-9)
}

/// `find -printf` fields per entry, NUL-terminated.
const FIELDS: usize = 16;

/// Prints the host's time, then per searched path `P` and `NOTDIR`, or `DIR` and its entries
/// (16 NUL-terminated fields each, `lstat` data, in `find`'s order), then `END`. Arguments:
/// triples of max depth (`-` for none), follow (`1`: `LINKS` then, per entry, depth, name and
/// type with links followed, then `STAT` and `stat`'s `lstat` data in the same order) and path.
/// `find`'s complaints (a link loop, an unreadable folder) go to stderr.
pub const LIST: &str = r#"fmt='%d\0%f\0%y\0%Y\0%m\0%U\0%G\0%u\0%g\0%s\0%i\0%D\0%n\0%A@\0%T@\0%C@\0'
sfmt='%f\0%u\0%g\0%U\0%G\0%s\0%i\0%d\0%h\0%.9X\0%.9Y\0%.9Z\0'
printf '%s\0' "$(date +%s.%N)"
while [ "$#" -gt 2 ]; do
  md=$1 fl=$2 p=$3; shift 3
  printf 'P\0'
  if [ -d "$p" ]; then
    if [ "$fl" = 1 ]; then
      printf 'LINKS\0'
      if [ "$md" = - ]; then
        find -L "$p" -mindepth 1 -printf '%d\0%f\0%Y\0'
        printf 'STAT\0'
        find -L "$p" -mindepth 1 -print0 | xargs -0 -r stat --printf "$sfmt" --
      else
        find -L "$p" -mindepth 1 -maxdepth "$md" -printf '%d\0%f\0%Y\0'
        printf 'STAT\0'
        find -L "$p" -mindepth 1 -maxdepth "$md" -print0 | xargs -0 -r stat --printf "$sfmt" --
      fi
    else
      printf 'DIR\0'
      if [ "$md" = - ]; then
        find -H "$p" -mindepth 1 -printf "$fmt"
      else
        find -H "$p" -mindepth 1 -maxdepth "$md" -printf "$fmt"
      fi
    fi
  else
    printf 'NOTDIR\0'
  fi
  printf 'END\0'
done
"#;

/// `find`'s type letter for the file type bits of a raw `st_mode`.
fn kind_of(raw: u32) -> char {
    match raw & 0o170_000 {
        0o100_000 => 'f',
        0o040_000 => 'd',
        0o120_000 => 'l',
        0o020_000 => 'c',
        0o060_000 => 'b',
        0o010_000 => 'p',
        0o140_000 => 's',
        _ => 'U',
    }
}

/// Parses [`LIST`]'s output: the host's time and, per path, `None` (not a folder) or its
/// entries. `None` when the output is not what the script prints, or a name is not UTF-8.
#[allow(clippy::type_complexity)]
pub fn parse_listing(out: &[u8], paths: usize) -> Option<(f64, Vec<Option<Vec<Entry>>>)> {
    let mut tokens = out.split(|&b| b == 0).map(|t| std::str::from_utf8(t).ok());
    let now = py_time(tokens.next()??)?;
    let mut all = Vec::with_capacity(paths);
    for _ in 0..paths {
        if tokens.next()?? != "P" {
            return None;
        }
        match tokens.next()?? {
            "NOTDIR" => {
                (tokens.next()?? == "END").then_some(())?;
                all.push(None);
            }
            "LINKS" => {
                // Depth, name, type followed; then the same entries' lstat data.
                let mut heads: Vec<(usize, String, bool)> = Vec::new();
                loop {
                    let first = tokens.next()??;
                    if first == "STAT" {
                        break;
                    }
                    let name = tokens.next()??.to_string();
                    let followed = tokens.next()?? == "d";
                    heads.push((first.parse().ok()?, name, followed));
                }
                let mut entries = Vec::with_capacity(heads.len());
                for (depth, name, dir_followed) in heads {
                    let mut f = Vec::with_capacity(12);
                    for _ in 0..12 {
                        f.push(tokens.next()??);
                    }
                    let num = |s: &str| s.parse::<u64>().ok();
                    let raw = u32::from_str_radix(f[0], 16).ok()?;
                    // stat says UNKNOWN for an id without a name; Python says "".
                    let name_of = |n: &str| {
                        if n == "UNKNOWN" {
                            String::new()
                        } else {
                            n.to_string()
                        }
                    };
                    entries.push(Entry {
                        depth,
                        name,
                        kind: kind_of(raw),
                        dir_followed,
                        mode: raw & 0o7777,
                        uid: num(f[1])?,
                        gid: num(f[2])?,
                        user: name_of(f[3]),
                        group: name_of(f[4]),
                        size: num(f[5])?,
                        inode: num(f[6])?,
                        dev: num(f[7])?,
                        nlink: num(f[8])?,
                        times: [py_time(f[9])?, py_time(f[10])?, py_time(f[11])?],
                    });
                }
                (tokens.next()?? == "END").then_some(())?;
                all.push(Some(entries));
            }
            "DIR" => {
                let mut entries = Vec::new();
                loop {
                    let first = tokens.next()??;
                    if first == "END" {
                        break;
                    }
                    let mut f = vec![first];
                    for _ in 1..FIELDS {
                        f.push(tokens.next()??);
                    }
                    let num = |s: &str| s.parse::<u64>().ok();
                    let (uid, gid) = (num(f[5])?, num(f[6])?);
                    // find prints the number when the id has no name; Python says "".
                    let name = |n: &str, id: u64| {
                        if n == id.to_string() {
                            String::new()
                        } else {
                            n.to_string()
                        }
                    };
                    entries.push(Entry {
                        depth: f[0].parse().ok()?,
                        name: f[1].to_string(),
                        kind: f[2].chars().next()?,
                        dir_followed: f[3] == "d",
                        mode: u32::from_str_radix(f[4], 8).ok()?,
                        uid,
                        gid,
                        user: name(f[7], uid),
                        group: name(f[8], gid),
                        size: num(f[9])?,
                        inode: num(f[10])?,
                        dev: num(f[11])?,
                        nlink: num(f[12])?,
                        times: [py_time(f[13])?, py_time(f[14])?, py_time(f[15])?],
                    });
                }
                all.push(Some(entries));
            }
            _ => return None,
        }
    }
    Some((now, all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_pythons_floats() {
        // CPython: 1733530000 + 123456789 * 1e-9
        assert_eq!(
            py_time("1733530000.1234567890"),
            Some(1_733_530_000.0 + 123_456_789.0 * 1e-9)
        );
        assert_eq!(py_time("5.5"), Some(5.5));
        assert_eq!(py_time("x"), None);
    }

    #[test]
    fn listings_parse() {
        let mut out = b"1700000000.5000000000\0P\0NOTDIR\0END\0P\0DIR\0".to_vec();
        for f in [
            "1", "a b", "f", "f", "644", "0", "1234", "root", "1234", "3", "7", "2049", "1", "1.0", "2.0",
            "3.0",
        ] {
            out.extend_from_slice(f.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(b"END\0");
        let (now, l) = parse_listing(&out, 2).unwrap();
        assert_eq!(now, 1_700_000_000.5);
        assert!(l[0].is_none());
        let e = &l[1].as_ref().unwrap()[0];
        assert_eq!((e.name.as_str(), e.kind, e.mode, e.size), ("a b", 'f', 0o644, 3));
        assert_eq!(e.group, "", "a gid without a name is Python's empty gr_name");
        assert!(parse_listing(b"x\0", 1).is_none());
    }

    #[test]
    fn followed_listings_parse_with_their_lstat_data() {
        let mut out = b"5.0\0P\0LINKS\0".to_vec();
        for f in [
            "1", "l", "d", "STAT", "a1ff", "0", "0", "root", "UNKNOWN", "1", "2", "3", "1", "1.5", "2.0",
            "3.0",
        ] {
            out.extend_from_slice(f.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(b"END\0");
        let (_, l) = parse_listing(&out, 1).unwrap();
        let e = &l[0].as_ref().unwrap()[0];
        assert_eq!((e.kind, e.dir_followed, e.mode), ('l', true, 0o777));
        assert_eq!((e.user.as_str(), e.group.as_str(), e.times[0]), ("root", "", 1.5));
        assert_eq!(kind_of(0o100644), 'f');
        assert_eq!(kind_of(0o40755), 'd');
    }
}
