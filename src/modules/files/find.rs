//! `find`: list the files under some folders that pass filters, as ansible.builtin.find does.
//!
//! One round trip lists every folder with GNU `find -printf` ([`super::find_listing`]: each
//! entry's `lstat` data, its type with links followed, its depth, in directory order); the
//! controller then replays the module's `os.walk` over that listing ([`walk`]: a folder's
//! files, then its subfolders, each in directory order, `depth` pruning, `hidden`, `limit`)
//! with its filters (patterns as `fnmatch` globs ([`fnmatch`]) or Python regexes, `excludes`,
//! `age`, `size`, `mode`). `contains` and `get_checksum` take one more round trip for the
//! candidate files (content in base64, checksums by the host's `*sum` tools).
//!
//! With `follow`, links to folders are walked into (`find -L` for the order and depths, `stat`
//! for each entry's own `lstat` data, as the module reports links).
//!
//! What only the module's own code does exactly runs it through the Python path instead:
//! a path with `~`, `$` or not absolute or not normalised, another `encoding`
//! than UTF-8, a regex the translation leaves to Python, a file `contains` cannot read as
//! UTF-8, any error `find` meets while walking (the module's `skipped_paths` from
//! `os.walk`'s errors), names that are not UTF-8, and candidate contents over 64 MiB.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::find_listing::{Entry, LIST, parse_listing};
use super::fnmatch::fnmatch;
use super::pyre::PyRegex;
use super::tempfile::{join, normpath};
use crate::modules::args::{Args, Mode};
use crate::modules::fallback::python_path;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `find` in the registry.
    INFO,
    "find",
    ArgSpec::new(&[
        ArgDef::list("paths").aliases(&["name", "path"]).required(),
        ArgDef::list("patterns").aliases(&["pattern"]),
        ArgDef::list("excludes").aliases(&["exclude"]),
        ArgDef::str("contains"),
        ArgDef::bool("read_whole_file"),
        ArgDef::str("file_type").choices(&["any", "directory", "file", "link"]),
        ArgDef::str("age"),
        ArgDef::str("age_stamp").choices(&["atime", "ctime", "mtime"]),
        ArgDef::str("size"),
        ArgDef::bool("recurse"),
        ArgDef::bool("hidden"),
        ArgDef::bool("follow"),
        ArgDef::bool("get_checksum"),
        ArgDef::str("checksum_algorithm")
            .aliases(&["checksum", "checksum_algo"])
            .choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]),
        ArgDef::bool("use_regex"),
        ArgDef::int("depth"),
        ArgDef::raw("mode"),
        ArgDef::bool("exact_mode"),
        ArgDef::str("encoding"),
        ArgDef::int("limit"),
    ]),
    run
);

/// Contents `contains` may fetch in one run before the module's own code is asked instead.
const CONTENT_CAP: u64 = 64 << 20;

/// What the module is asked, read and checked (the name patterns are [`Names`]).
#[derive(Debug, Clone)]
pub struct FindParams {
    /// `file_type`.
    pub file_type: String,
    /// `age` in seconds (negative: younger than).
    pub age: Option<i64>,
    /// `age_stamp`: 0 atime, 1 mtime, 2 ctime.
    pub age_stamp: usize,
    /// `size` in bytes (negative: at most).
    pub size: Option<i64>,
    /// `mode` as bits, and `exact_mode`.
    pub mode: Option<(u32, bool)>,
    /// `hidden`.
    pub hidden: bool,
    /// `recurse`.
    pub recurse: bool,
    /// `depth` (0 counts as none, as the module's `if params['depth']`).
    pub depth: Option<i64>,
    /// `limit`.
    pub limit: Option<usize>,
    /// `contains` is given (its test is the caller's).
    pub contains: bool,
    /// `follow`: links to folders are walked into.
    pub follow: bool,
}

/// Compiled name patterns: globs, or Python regexes.
pub enum Names {
    /// `fnmatch` globs: patterns, excludes.
    Globs(Vec<String>, Vec<String>),
    /// Regexes: patterns, excludes.
    Regexes(Vec<PyRegex>, Vec<PyRegex>),
}

impl Names {
    /// The module's `pfilter(name, patterns, excludes, use_regex)`.
    ///
    /// Errors: [`super::pyre::Unsupported`] for a name Python's tables must judge.
    fn pass(&self, name: &str) -> Result<bool, super::pyre::Unsupported> {
        match self {
            Names::Globs(p, e) => {
                if p.is_empty() && e.is_empty() {
                    return Ok(true);
                }
                if p.is_empty() {
                    return Ok(false);
                }
                Ok(p.iter().any(|p| fnmatch(name, p)) && !e.iter().any(|e| fnmatch(name, e)))
            }
            Names::Regexes(p, e) => {
                if p.is_empty() && e.is_empty() {
                    return Ok(true);
                }
                if p.is_empty() {
                    return Ok(false);
                }
                let mut hit = false;
                for r in p {
                    if r.finds(name, true)? {
                        hit = true;
                        break;
                    }
                }
                if !hit {
                    return Ok(false);
                }
                for r in e {
                    if r.finds(name, true)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }
}

/// One match of [`walk`]: the path as the module reports it, and its entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<'e> {
    /// `os.path.normpath(os.path.join(root, name))`.
    pub path: String,
    /// Its listing entry.
    pub entry: &'e Entry,
}

/// What [`walk`] found for one searched folder.
#[derive(Debug, Default)]
pub struct Walked<'e> {
    /// Matches, in the module's order.
    pub found: Vec<Found<'e>>,
    /// `examined`: every entry of every folder walked.
    pub looked: usize,
    /// The limit was reached.
    pub limited: bool,
}

/// Why [`walk`] stopped for the caller to decide.
#[derive(Debug)]
pub enum WalkStop {
    /// The Python path must decide (see [`super::pyre::Unsupported`]).
    Unsupported(String),
}

/// Replays the module's `os.walk` loop over `npath`'s listing `entries` (pre-order, each
/// folder's entries in directory order, with depths), with `already` matches found in earlier
/// paths (for `limit`), `now` the host's time, and `content(path)` the `contains` test.
///
/// Errors: [`WalkStop`] when a name or content must be judged by Python.
pub fn walk<'e>(
    npath: &str,
    entries: &'e [Entry],
    p: &FindParams,
    names: &Names,
    now: f64,
    already: usize,
    content: &mut dyn FnMut(&str) -> Result<bool, WalkStop>,
) -> Result<Walked<'e>, WalkStop> {
    // The children of each entry (and of the top, `None`), in listing order.
    let mut children: BTreeMap<Option<usize>, Vec<usize>> = BTreeMap::new();
    let mut stack: Vec<usize> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        stack.truncate(e.depth.saturating_sub(1));
        let parent = stack.last().copied();
        children.entry(parent).or_default().push(i);
        stack.push(i);
    }
    let mut out = Walked::default();
    let wpath = format!("{}/", npath.trim_end_matches('/'));
    let wdepth = wpath.matches('/').count();
    // Folders to walk, as (root string, index of the folder entry or None for the top).
    let mut todo: Vec<(String, Option<usize>)> = vec![(npath.to_string(), None)];
    while let Some((root, at)) = todo.pop() {
        let kids = children.get(&at).cloned().unwrap_or_default();
        let (mut files, mut dirs): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
        for k in kids {
            if entries[k].dir_followed {
                dirs.push(k);
            } else {
                files.push(k);
            }
        }
        out.looked += files.len() + dirs.len();
        let mut pruned = false;
        for &k in files.iter().chain(dirs.iter()) {
            let e = &entries[k];
            let fsname = normpath(&join(&root, &e.name));
            if let Some(max) = p.depth.filter(|d| *d != 0) {
                let depth = fsname.matches('/').count() as i64 - wdepth as i64 + 1;
                if depth > max {
                    pruned = true;
                    continue;
                }
            }
            let base = fsname.rsplit('/').next().unwrap_or_default();
            if base.starts_with('.') && !p.hidden {
                continue;
            }
            let name_ok = |n: &Names| n.pass(&e.name).map_err(|u| WalkStop::Unsupported(u.to_string()));
            let age_ok = match p.age {
                None => true,
                Some(a) if a >= 0 => now - e.times[p.age_stamp] >= a.unsigned_abs() as f64,
                Some(a) => now - e.times[p.age_stamp] <= a.unsigned_abs() as f64,
            };
            let size_ok = match p.size {
                None => true,
                Some(s) if s >= 0 => e.size >= s.unsigned_abs(),
                Some(s) => e.size <= s.unsigned_abs(),
            };
            let mode_ok = match p.mode {
                None => true,
                Some((m, true)) => e.mode & 0o7777 == m,
                Some((m, false)) => e.mode & m != 0,
            };
            let take = match (p.file_type.as_str(), e.kind) {
                ("any", _) => name_ok(names)? && age_ok && mode_ok && (e.kind != 'f' || size_ok),
                ("directory", 'd') => name_ok(names)? && age_ok && mode_ok,
                ("file", 'f') => {
                    name_ok(names)? && age_ok && size_ok && (!p.contains || content(&fsname)?) && mode_ok
                }
                ("link", 'l') => name_ok(names)? && age_ok && mode_ok,
                _ => false,
            };
            if take {
                out.found.push(Found {
                    path: fsname,
                    entry: e,
                });
            }
            if p.limit.is_some_and(|l| already + out.found.len() == l) {
                out.limited = true;
                break;
            }
        }
        if !p.recurse || out.limited {
            break;
        }
        if !pruned {
            // Depth first in directory order: the first folder is walked next. A link to a
            // folder is entered only with `follow`.
            for &k in dirs.iter().rev() {
                if p.follow || entries[k].kind != 'l' {
                    todo.push((join(&root, &entries[k].name), Some(k)));
                }
            }
        }
    }
    Ok(out)
}

/// The module's `statinfo(st)` for one match, `path` first, in the module's key order.
pub fn statinfo(f: &Found<'_>) -> Map<String, Value> {
    let e = f.entry;
    let m = e.mode;
    let bit = |b: u32| m & b != 0;
    let mut out = Map::new();
    out.insert("path".into(), json!(f.path));
    out.insert("mode".into(), json!(format!("{:04o}", m & 0o7777)));
    for (key, kind) in [
        ("isdir", 'd'),
        ("ischr", 'c'),
        ("isblk", 'b'),
        ("isreg", 'f'),
        ("isfifo", 'p'),
        ("islnk", 'l'),
        ("issock", 's'),
    ] {
        out.insert(key.into(), json!(e.kind == kind));
    }
    out.insert("uid".into(), json!(e.uid));
    out.insert("gid".into(), json!(e.gid));
    out.insert("size".into(), json!(e.size));
    out.insert("inode".into(), json!(e.inode));
    out.insert("dev".into(), json!(e.dev));
    out.insert("nlink".into(), json!(e.nlink));
    out.insert("atime".into(), json!(e.times[0]));
    out.insert("mtime".into(), json!(e.times[1]));
    out.insert("ctime".into(), json!(e.times[2]));
    out.insert("gr_name".into(), json!(e.group));
    out.insert("pw_name".into(), json!(e.user));
    for (key, b) in [
        ("wusr", 0o200),
        ("rusr", 0o400),
        ("xusr", 0o100),
        ("wgrp", 0o020),
        ("rgrp", 0o040),
        ("xgrp", 0o010),
        ("woth", 0o002),
        ("roth", 0o004),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        out.insert(key.into(), json!(bit(b)));
    }
    out
}

/// The module's `age` (`-?N[smhdw]`) or `size` (`-?N[bkmgt]`) in seconds or bytes; `None`
/// when it does not parse (the module then fails).
pub fn amount(text: &str, units: &[(char, i64)]) -> Option<i64> {
    let t = text.to_lowercase();
    let (num, unit) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => (&t[..t.len() - 1], Some(c)),
        _ => (t.as_str(), None),
    };
    let digits = num.strip_prefix('-').unwrap_or(num);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        None => 1,
        Some(u) => units.iter().find(|(c, _)| *c == u)?.1,
    };
    n.checked_mul(mult)
}

/// Reads, for each file named on stdin (NUL-separated), a record: `OK`/`ERR`, the checksum
/// (with `$1` an algorithm, else `-`), the content in base64 (when `$2` is 1),
/// newline-terminated. `xargs` keeps each batch of names within the host's argument limit.
const READ: &str = r#"xargs -0 -r sh -c '
algo=$1 content=$2; shift 2
for f; do
  if [ -r "$f" ] && [ -f "$f" ]; then
    s=-; [ "$algo" = - ] || s=$("${algo}sum" < "$f" | cut -d" " -f1)
    c=-; [ "$content" = 1 ] && c=$(base64 -w0 < "$f")
    printf "OK %s %s\n" "$s" "$c"
  else
    printf "ERR\n"
  fi
done' sh "$1" "$2"
"#;

/// Python's `universal newlines` reading of a text: `\r\n` and `\r` become `\n`.
fn universal(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The module's `contentfilter` on a file's text: line by line `re.match`, or `re.search`
/// over the whole text.
fn contains_in(re: &PyRegex, text: &str, whole: bool) -> Result<bool, super::pyre::Unsupported> {
    let text = universal(text);
    if whole {
        return re.finds(&text, false);
    }
    for line in text.split_inclusive('\n') {
        if re.finds(line, true)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A `type='list'` argument as ansible-core's `check_type_list` reads it: a string is split
/// on every comma with nothing trimmed or dropped (`"a, b"` is `["a", " b"]`, `""` is
/// `[""]`); otherwise as [`Args::list`].
///
/// Errors: those of [`Args::list`].
pub(crate) fn py_list(a: &Args<'_>, name: &str) -> Result<Option<Vec<String>>, ModuleError> {
    match a.value(name) {
        Some(Value::String(s)) => Ok(Some(s.split(',').map(str::to_string).collect())),
        _ => a.list(name),
    }
}

/// Runs `find`, matching ansible.builtin.find: `files` (each the module's `statinfo` with
/// `path` first, `checksum` with `get_checksum`), `changed: false`, `msg` (`All paths
/// examined`, `Limit of matches reached`, or `Not all paths examined, check warnings for
/// details` with a warning per path that is not a folder), `matched`, `examined`,
/// `skipped_paths`; the module's failures for `age`, `size`, `limit` and a `mode` that is no
/// string. See the module docs for what runs the module's own code instead.
///
/// Errors: [`ModuleError::BadArgs`] for bad arguments; [`ModuleError::Transport`].
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    const FQCN: &str = "ansible.builtin.find";
    let a = Args::new(&INFO, args)?;
    let paths = py_list(&a, "paths")?.unwrap_or_default();
    let use_regex = a.bool("use_regex", false)?;
    let mut patterns = py_list(&a, "patterns")?.unwrap_or_default();
    if patterns.is_empty() {
        patterns = vec![if use_regex { ".*" } else { "*" }.to_string()];
    }
    let excludes = py_list(&a, "excludes")?.unwrap_or_default();
    let contains = a.str("contains")?;
    let whole = a.bool("read_whole_file", false)?;
    let file_type = a.choice("file_type")?.unwrap_or_else(|| "file".into());
    let age_stamp = match a.choice("age_stamp")?.as_deref() {
        Some("atime") => 0,
        Some("ctime") => 2,
        _ => 1,
    };
    let recurse = a.bool("recurse", false)?;
    let hidden = a.bool("hidden", false)?;
    let follow = a.bool("follow", false)?;
    let get_checksum = a.bool("get_checksum", false)?;
    let algo = a.choice("checksum_algorithm")?.unwrap_or_else(|| "sha1".into());
    let depth = a.i64("depth")?;
    let exact = a.bool("exact_mode", true)?;
    let encoding = a.str("encoding")?;
    let limit = a.i64("limit")?;
    // `mode`: a string (octal, else symbolic on a mode of 0); anything else truthy fails.
    let mode = match a.value("mode") {
        None | Some(Value::Bool(false)) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => None,
        Some(Value::String(s)) => {
            let t = s.trim();
            let octal = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")).unwrap_or(t);
            match u32::from_str_radix(octal, 8) {
                Ok(n) if !octal.is_empty() && !octal.starts_with(['+', '-']) => Some((n & 0o7777, exact)),
                _ => match Mode::parse(&Value::String(s.clone())) {
                    Ok(m @ Mode::Symbolic(_)) => Some((m.resolve(0, false) & 0o7777, exact)),
                    _ => return python_path(FQCN, "find", args, ctx, "a mode Python must read").await,
                },
            }
        }
        Some(v) => {
            return Ok(ModuleOutcome::failed(format!(
                "argument 'mode' is not a string and conversion is not allowed, value is of type {}",
                crate::vars::python_type(v)
            )));
        }
    };
    let age = match a.str("age")? {
        None => None,
        Some(t) if !t.is_ascii() => return python_path(FQCN, "find", args, ctx, "a non-ASCII age").await,
        Some(t) => match amount(
            &t,
            &[('s', 1), ('m', 60), ('h', 3600), ('d', 86400), ('w', 604_800)],
        ) {
            Some(n) => Some(n),
            None => {
                return Ok(ModuleOutcome::failed("failed to process age").with("age", t));
            }
        },
    };
    let size = match a.str("size")? {
        None => None,
        Some(t) if !t.is_ascii() => return python_path(FQCN, "find", args, ctx, "a non-ASCII size").await,
        Some(t) => match amount(
            &t,
            &[
                ('b', 1),
                ('k', 1 << 10),
                ('m', 1 << 20),
                ('g', 1 << 30),
                ('t', 1 << 40),
            ],
        ) {
            Some(n) => Some(n),
            None => {
                return Ok(ModuleOutcome::failed("failed to process size").with("size", t));
            }
        },
    };
    if let Some(l) = limit.filter(|l| *l <= 0) {
        return Ok(ModuleOutcome::failed(format!(
            "limit cannot be {l} (use None for unlimited)"
        )));
    }
    // What the module's own code must do.
    let why = if encoding.as_deref().is_some_and(|e| {
        !matches!(
            e.to_ascii_lowercase().replace(['-', ' '], "_").as_str(),
            "utf_8" | "utf8" | "u8" | "utf"
        )
    }) {
        Some("an encoding other than UTF-8")
    } else if paths.iter().any(|p| {
        p.contains(['~', '$'])
            || !p.starts_with('/')
            || normpath(p.trim_end_matches('/')) != p.trim_end_matches('/') && p != "/"
    }) {
        Some("a path Python must expand or normalise")
    } else {
        None
    };
    if let Some(why) = why {
        return python_path(FQCN, "find", args, ctx, why).await;
    }
    let compile = |list: &[String]| -> Result<Vec<PyRegex>, super::pyre::Unsupported> {
        list.iter().map(|p| PyRegex::new(p, false, false)).collect()
    };
    let names = if use_regex {
        match (compile(&patterns), compile(&excludes)) {
            (Ok(p), Ok(e)) => Names::Regexes(p, e),
            (Err(u), _) | (_, Err(u)) => return python_path(FQCN, "find", args, ctx, &u.to_string()).await,
        }
    } else {
        Names::Globs(patterns, excludes)
    };
    let contains_re = match contains
        .as_deref()
        .map(|c| PyRegex::new(c, false, false))
        .transpose()
    {
        Ok(r) => r,
        Err(u) => return python_path(FQCN, "find", args, ctx, &u.to_string()).await,
    };
    let params = FindParams {
        file_type,
        age,
        age_stamp,
        size,
        mode,
        hidden,
        recurse,
        depth: depth.filter(|d| *d != 0),
        limit: limit.and_then(|l| usize::try_from(l).ok()),
        contains: contains_re.is_some(),
        follow,
    };
    // One listing of every path, as deep as the walk can look.
    let maxdepth = if !recurse {
        "1".to_string()
    } else {
        match params.depth {
            Some(d) if d > 0 => (d + 1).to_string(),
            Some(_) => "1".to_string(),
            None => "-".to_string(),
        }
    };
    let mut argv = Vec::new();
    for p in &paths {
        argv.push(maxdepth.clone());
        argv.push(if follow { "1" } else { "0" }.to_string());
        argv.push(p.clone());
    }
    let listed = sysutil::run_script(ctx, LIST, &argv, None).await?;
    if !listed.stderr.is_empty() {
        return python_path(FQCN, "find", args, ctx, "find met errors while walking").await;
    }
    let Some((now, listings)) = parse_listing(&listed.stdout, paths.len()) else {
        return python_path(
            FQCN,
            "find",
            args,
            ctx,
            "a listing talon cannot read (names not UTF-8?)",
        )
        .await;
    };
    // Files whose content or checksum the walk needs: every candidate, in one more round trip.
    let mut contents: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    if params.contains || get_checksum {
        let mut wanted: Vec<String> = Vec::new();
        let mut total = 0u64;
        let loose = FindParams {
            limit: None,
            contains: false,
            ..params.clone()
        };
        let read_content = params.contains && params.file_type == "file";
        for (npath, listing) in paths.iter().zip(&listings) {
            let Some(entries) = listing else { continue };
            let mut never = |_: &str| Ok(true);
            let w = match walk(npath, entries, &loose, &names, now, 0, &mut never) {
                Ok(w) => w,
                Err(WalkStop::Unsupported(u)) => return python_path(FQCN, "find", args, ctx, &u).await,
            };
            for f in w.found.iter().filter(|f| f.entry.kind == 'f') {
                total += f.entry.size;
                wanted.push(f.path.clone());
            }
        }
        if read_content && total > CONTENT_CAP {
            return python_path(FQCN, "find", args, ctx, "contents over 64 MiB").await;
        }
        let argv = vec![
            if get_checksum { algo.clone() } else { "-".into() },
            if read_content { "1" } else { "0" }.into(),
        ];
        let mut names_in = Vec::new();
        for w in &wanted {
            names_in.extend_from_slice(w.as_bytes());
            names_in.push(0);
        }
        let read = if wanted.is_empty() {
            None
        } else {
            Some(sysutil::run_script(ctx, READ, &argv, Some(names_in)).await?)
        };
        let text = read.as_ref().map(|r| r.stdout_str()).unwrap_or_default();
        if read.as_ref().is_some_and(|r| !r.status.success()) || text.lines().count() != wanted.len() {
            return python_path(FQCN, "find", args, ctx, "the candidates could not all be read").await;
        }
        for (path, line) in wanted.iter().zip(text.lines()) {
            let mut parts = line.split(' ');
            if parts.next() != Some("OK") {
                if get_checksum {
                    // The module's digest_from_file fails on it, which skips the whole path.
                    return python_path(FQCN, "find", args, ctx, "a candidate that cannot be read").await;
                }
                contents.insert(path.clone(), (None, None));
                continue;
            }
            let sum = parts.next().filter(|s| *s != "-").map(str::to_string);
            let body = match parts.next().filter(|c| *c != "-") {
                Some(b64) => match base64::engine::general_purpose::STANDARD.decode(b64) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(t) => Some(t),
                        Err(_) => {
                            return python_path(FQCN, "find", args, ctx, "a file that is not UTF-8").await;
                        }
                    },
                    Err(_) => None,
                },
                // An empty file: base64 prints nothing.
                None if read_content => Some(String::new()),
                None => None,
            };
            contents.insert(path.clone(), (sum, body));
        }
    }
    let mut files = Vec::new();
    let mut skipped = Map::new();
    let mut looked = 0;
    let mut limited = false;
    let mut out = ModuleOutcome::ok();
    let mut warned = false;
    for (npath, listing) in paths.iter().zip(&listings) {
        let Some(entries) = listing else {
            let why = format!("'{npath}' is not a directory");
            out = out.warn(format!(
                "Skipped '{npath}' path due to this access issue: {why}\n"
            ));
            skipped.insert(npath.clone(), json!(why));
            warned = true;
            continue;
        };
        let mut test = |path: &str| -> Result<bool, WalkStop> {
            match (&contains_re, contents.get(path)) {
                (Some(re), Some((_, Some(text)))) => {
                    contains_in(re, text, whole).map_err(|u| WalkStop::Unsupported(u.to_string()))
                }
                _ => Ok(false),
            }
        };
        let w = match walk(npath, entries, &params, &names, now, files.len(), &mut test) {
            Ok(w) => w,
            Err(WalkStop::Unsupported(u)) => return python_path(FQCN, "find", args, ctx, &u).await,
        };
        looked += w.looked;
        limited |= w.limited;
        for f in &w.found {
            let mut info = statinfo(f);
            if get_checksum && f.entry.kind == 'f' {
                let sum = contents.get(&f.path).and_then(|(s, _)| s.clone());
                info.insert("checksum".into(), json!(sum));
            }
            files.push(Value::Object(info));
        }
    }
    let msg = if warned {
        "Not all paths examined, check warnings for details"
    } else if limited {
        "Limit of matches reached"
    } else {
        "All paths examined"
    };
    let matched = files.len();
    out = out
        .with("files", Value::Array(files))
        .with("changed", false)
        .with("msg", msg)
        .with("matched", matched)
        .with("examined", looked)
        .with("skipped_paths", Value::Object(skipped));
    out.msg = Some(msg.to_string());
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_sizes_as_the_module_reads_them() {
        let age = [('s', 1), ('m', 60), ('h', 3600), ('d', 86400), ('w', 604_800)];
        assert_eq!(amount("2d", &age), Some(172_800));
        assert_eq!(amount("-1W", &age), Some(-604_800));
        assert_eq!(amount("30", &age), Some(30));
        assert_eq!(amount("1y", &age), None);
        assert_eq!(amount("1.5d", &age), None);
        assert_eq!(amount("-", &age), None);
        let size = [
            ('b', 1),
            ('k', 1024),
            ('m', 1 << 20),
            ('g', 1 << 30),
            ('t', 1 << 40),
        ];
        assert_eq!(amount("10k", &size), Some(10_240));
        assert_eq!(amount("-1m", &size), Some(-(1 << 20)));
    }

    fn entry(depth: usize, name: &str, kind: char) -> Entry {
        Entry {
            depth,
            name: name.into(),
            kind,
            dir_followed: kind == 'd',
            mode: if kind == 'd' { 0o755 } else { 0o644 },
            uid: 0,
            gid: 0,
            user: "root".into(),
            group: "root".into(),
            size: 10,
            inode: 1,
            dev: 1,
            nlink: 1,
            times: [100.0, 100.0, 100.0],
        }
    }

    fn params(file_type: &str, recurse: bool) -> FindParams {
        FindParams {
            file_type: file_type.into(),
            age: None,
            age_stamp: 1,
            size: None,
            mode: None,
            hidden: false,
            recurse,
            depth: None,
            limit: None,
            contains: false,
            follow: false,
        }
    }

    /// /t: a.txt, sub/ (b.txt, deep/ (c.txt)), .h.txt, z.txt — in directory order.
    fn tree() -> Vec<Entry> {
        vec![
            entry(1, "a.txt", 'f'),
            entry(1, "sub", 'd'),
            entry(2, "b.txt", 'f'),
            entry(2, "deep", 'd'),
            entry(3, "c.txt", 'f'),
            entry(1, ".h.txt", 'f'),
            entry(1, "z.txt", 'f'),
        ]
    }

    fn paths(w: &Walked<'_>) -> Vec<String> {
        w.found.iter().map(|f| f.path.clone()).collect()
    }

    fn globs(p: &[&str]) -> Names {
        Names::Globs(p.iter().map(|s| s.to_string()).collect(), Vec::new())
    }

    #[test]
    fn the_walk_is_pythons_os_walk() {
        let t = tree();
        let mut yes = |_: &str| Ok(true);
        // Files before folders of the same folder, then each folder depth first.
        let w = walk("/t", &t, &params("file", true), &globs(&["*"]), 0.0, 0, &mut yes).unwrap();
        assert_eq!(
            paths(&w),
            ["/t/a.txt", "/t/z.txt", "/t/sub/b.txt", "/t/sub/deep/c.txt"]
        );
        assert_eq!(w.looked, 7, "hidden entries are examined too");
        let w = walk("/t/", &t, &params("any", false), &globs(&["*"]), 0.0, 0, &mut yes).unwrap();
        assert_eq!(paths(&w), ["/t/a.txt", "/t/z.txt", "/t/sub"]);
        assert_eq!(w.looked, 4);
        let mut p = params("file", true);
        p.hidden = true;
        p.depth = Some(2);
        let w = walk("/t", &t, &p, &globs(&["*.txt"]), 0.0, 0, &mut yes).unwrap();
        assert_eq!(paths(&w), ["/t/a.txt", "/t/.h.txt", "/t/z.txt", "/t/sub/b.txt"]);
        assert_eq!(w.looked, 7, "the folder at the depth is listed, not walked below");
        let w = walk(
            "/t",
            &t,
            &params("directory", true),
            &globs(&["*"]),
            0.0,
            0,
            &mut yes,
        )
        .unwrap();
        assert_eq!(paths(&w), ["/t/sub", "/t/sub/deep"]);
    }

    #[test]
    fn limits_excludes_and_filters() {
        let t = tree();
        let mut yes = |_: &str| Ok(true);
        let mut p = params("file", true);
        p.limit = Some(2);
        let w = walk("/t", &t, &p, &globs(&["*"]), 0.0, 0, &mut yes).unwrap();
        assert_eq!(paths(&w), ["/t/a.txt", "/t/z.txt"]);
        assert!(w.limited);
        assert_eq!(w.looked, 4, "the walk stops at the limit");
        let names = Names::Globs(vec!["*.txt".into()], vec!["a*".into(), "c*".into()]);
        let w = walk("/t", &t, &params("file", true), &names, 0.0, 0, &mut yes).unwrap();
        assert_eq!(paths(&w), ["/t/z.txt", "/t/sub/b.txt"]);
        let re = Names::Regexes(
            vec![PyRegex::new(r"[bc]\.txt$", false, false).unwrap()],
            Vec::new(),
        );
        let w = walk("/t", &t, &params("file", true), &re, 0.0, 0, &mut yes).unwrap();
        assert_eq!(paths(&w), ["/t/sub/b.txt", "/t/sub/deep/c.txt"]);
        let mut p = params("file", true);
        p.age = Some(50);
        let w = walk("/t", &t, &p, &globs(&["*"]), 200.0, 0, &mut yes).unwrap();
        assert_eq!(w.found.len(), 4, "100 s old is older than 50 s");
        p.age = Some(-50);
        let w = walk("/t", &t, &p, &globs(&["*"]), 200.0, 0, &mut yes).unwrap();
        assert!(w.found.is_empty());
        let mut p = params("file", true);
        p.size = Some(11);
        assert!(
            walk("/t", &t, &p, &globs(&["*"]), 0.0, 0, &mut yes)
                .unwrap()
                .found
                .is_empty()
        );
        let mut p = params("any", false);
        p.mode = Some((0o755, true));
        let w = walk("/t", &t, &p, &globs(&["*"]), 0.0, 0, &mut yes).unwrap();
        assert_eq!(paths(&w), ["/t/sub"]);
        p.mode = Some((0o100, false));
        assert_eq!(
            walk("/t", &t, &p, &globs(&["*"]), 0.0, 0, &mut yes)
                .unwrap()
                .found
                .len(),
            1
        );
        let mut p = params("file", true);
        p.contains = true;
        let mut only_b = |path: &str| Ok(path.ends_with("b.txt"));
        let w = walk("/t", &t, &p, &globs(&["*"]), 0.0, 0, &mut only_b).unwrap();
        assert_eq!(paths(&w), ["/t/sub/b.txt"]);
    }

    #[test]
    fn statinfo_has_the_modules_keys_in_order() {
        let e = entry(1, "a", 'f');
        let f = Found {
            path: "/t/a".into(),
            entry: &e,
        };
        let keys: Vec<String> = statinfo(&f).keys().cloned().collect();
        assert_eq!(
            keys.join(","),
            "path,mode,isdir,ischr,isblk,isreg,isfifo,islnk,issock,uid,gid,size,inode,dev,nlink,atime,mtime,ctime,gr_name,pw_name,wusr,rusr,xusr,wgrp,rgrp,xgrp,woth,roth,xoth,isuid,isgid"
        );
        assert_eq!(statinfo(&f)["mode"], "0644");
    }

    #[test]
    fn contents_are_read_as_python_text_files() {
        let re = PyRegex::new("needle", false, false).unwrap();
        assert!(contains_in(&re, "hay\nneedle here\n", false).unwrap());
        assert!(
            !contains_in(&re, "a needle\n", false).unwrap(),
            "re.match per line"
        );
        assert!(
            contains_in(&re, "a needle\n", true).unwrap(),
            "re.search on the whole file"
        );
        let re = PyRegex::new("x$", false, false).unwrap();
        assert!(
            !contains_in(&re, "ax\r\nb", false).unwrap(),
            "match at line start"
        );
        let re = PyRegex::new(".*x$", false, false).unwrap();
        assert!(contains_in(&re, "ax\r\nb", false).unwrap(), "CRLF read as LF");
    }

    #[test]
    fn list_strings_split_as_ansible_core() {
        use crate::modules::spec::ArgSpec;
        static SPEC: ArgSpec = ArgSpec::new(&[ArgDef::list("l"), ArgDef::list("m"), ArgDef::list("n")]);
        let v = serde_json::json!({"l": "a, b", "m": "", "n": ["x", 1]});
        let a = Args::with_spec("t", &SPEC, v.as_object().unwrap()).unwrap();
        assert_eq!(py_list(&a, "l").unwrap().unwrap(), ["a", " b"]);
        assert_eq!(py_list(&a, "m").unwrap().unwrap(), [""]);
        assert_eq!(py_list(&a, "n").unwrap().unwrap(), ["x", "1"]);
    }
}
