//! The `/bin/sh` texts of the file primitives, the positional arguments each one reads, and the
//! parsers of what each prints (a format this module controls: fixed newline-separated fields, a
//! NUL after the arbitrary link target, then raw content). A script and its parser change
//! together, so they live together.

use super::super::{Become, Connection, ExecOutput, ExecRequest, quote};
use super::types::{
    Checksum, FileAttrs, FileKind, FileOwner, FileStat, FilesError, Probe, StatExtra, WriteOptions,
    WriteOutcome, WrittenFile, learn_owner,
};

/// Shell function `st PATH FOLLOW ALGO CONTENT` printing `M` for missing, or `E`, twelve fields,
/// the checksum line, the access line (`rwx` subset for the running user), the link target, a
/// NUL, the link's resolved path, a NUL, and the content. `$stx` (empty here; see
/// [`STAT_EXTRA_FIELDS`]) adds `stat -c` fields after the twelfth.
pub(super) const ST_FN: &str = r#"stx=
st() {
  if [ "$2" = 1 ]; then
    [ -e "$1" ] || { echo M; return 0; }; so=-L
  else
    { [ -e "$1" ] || [ -L "$1" ]; } || { echo M; return 0; }; so=
  fi
  echo E
  stat $so -c '%f
%u
%g
%U
%G
%s
%.9Y
%.9X
%.9Z
%i
%d
%h'"$stx" -- "$1" || return 1
  sc=
  if [ -n "$3" ] && [ -f "$1" ] && { [ "$2" = 1 ] || [ ! -L "$1" ]; }; then
    sc=$("$3"sum < "$1") || return 1; sc=${sc%% *}
  fi
  echo "$sc"
  sa=; [ -r "$1" ] && sa=r; [ -w "$1" ] && sa="${sa}w"; [ -x "$1" ] && sa="${sa}x"; echo "$sa"
  if [ -L "$1" ]; then printf '%s\000%s' "$(readlink -- "$1")" "$(readlink -f -- "$1")"; else printf '\000'; fi
  printf '\000'
  if [ "$4" = 1 ] && [ -f "$1" ] && { [ "$2" = 1 ] || [ ! -L "$1" ]; }; then cat -- "$1" || return 1; fi
  return 0
}
"#;

pub(super) fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

pub(super) fn algo(c: Option<Checksum>) -> String {
    c.map(|c| c.tool().to_string()).unwrap_or_default()
}

/// The request that runs `script` as `/bin/sh -c SCRIPT talon ARGS...`: the data in `args`
/// reaches the script as `$1...` and is never parsed as shell.
pub fn script_request(
    script: &str,
    args: &[String],
    stdin: Option<Vec<u8>>,
    become_: &Option<Become>,
) -> ExecRequest {
    let mut argv = vec![
        "/bin/sh".to_string(),
        "-c".to_string(),
        script.to_string(),
        "talon".to_string(),
    ];
    argv.extend(args.iter().cloned());
    ExecRequest {
        argv,
        stdin,
        become_: become_.clone(),
        inline: true,
        ..Default::default()
    }
}

pub(super) fn remote_err(op: &'static str, path: &str, out: &ExecOutput) -> FilesError {
    let err = out.stderr_str();
    let message = if err.trim().is_empty() {
        format!("failed ({})", out.status)
    } else {
        err.trim().to_string()
    };
    FilesError::Remote {
        op,
        path: path.to_string(),
        message,
    }
}

pub(super) fn parse_err(path: &str, what: &str) -> FilesError {
    FilesError::Remote {
        op: "stat",
        path: path.to_string(),
        message: format!("unexpected output from the host's stat: {what}"),
    }
}

/// Splits off one `\n`-terminated line.
pub(super) fn take_line<'a>(buf: &mut &'a [u8]) -> Option<&'a [u8]> {
    let pos = buf.iter().position(|&b| b == b'\n')?;
    let line = &buf[..pos];
    *buf = &buf[pos + 1..];
    Some(line)
}

/// Parses the output of `st` starting at `buf`; advances `buf` past it.
pub(super) fn parse_st(
    path: &str,
    buf: &mut &[u8],
    want_content: bool,
) -> Result<Option<FileStat>, FilesError> {
    Ok(parse_st_extra(path, buf, want_content, 0)?.map(|(st, _)| st))
}

/// [`parse_st`] of an `st` run with `extra` more `stat -c` fields (`$stx`, after `%h`), which
/// are returned beside the stat as printed.
pub(super) fn parse_st_extra(
    path: &str,
    buf: &mut &[u8],
    want_content: bool,
    extra: usize,
) -> Result<Option<(FileStat, Vec<String>)>, FilesError> {
    let tag = take_line(buf).ok_or_else(|| parse_err(path, "no status line"))?;
    if tag == b"M" {
        return Ok(None);
    }
    if tag != b"E" {
        return Err(parse_err(path, "bad status line"));
    }
    let mut fields = Vec::with_capacity(14 + extra);
    for _ in 0..14 + extra {
        let l = take_line(buf).ok_or_else(|| parse_err(path, "missing fields"))?;
        fields.push(String::from_utf8_lossy(l).into_owned());
    }
    let num = |i: usize| -> Result<u64, FilesError> {
        fields[i]
            .trim()
            .parse::<u64>()
            .map_err(|_| parse_err(path, "bad number"))
    };
    let time = |i: usize| -> Result<f64, FilesError> {
        parse_time(fields[i].trim()).ok_or_else(|| parse_err(path, "bad time"))
    };
    let raw = u32::from_str_radix(fields[0].trim(), 16).map_err(|_| parse_err(path, "bad mode"))?;
    let kind = match raw & 0o170000 {
        0o100000 => FileKind::File,
        0o040000 => FileKind::Directory,
        0o120000 => FileKind::Link,
        _ => FileKind::Other,
    };
    let nul = buf
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| parse_err(path, "no link terminator"))?;
    let target = &buf[..nul];
    *buf = &buf[nul + 1..];
    let nul = buf
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| parse_err(path, "no realpath terminator"))?;
    let resolved = &buf[..nul];
    *buf = &buf[nul + 1..];
    let text = |b: &[u8]| Some(String::from_utf8_lossy(b).into_owned()).filter(|t| !t.is_empty());
    let access = fields[13 + extra].trim().to_string();
    let checksum = Some(fields[12 + extra].trim().to_string()).filter(|c| !c.is_empty());
    let more = fields[12..12 + extra].to_vec();
    let content = (want_content && kind == FileKind::File).then(|| {
        let c = buf.to_vec();
        *buf = &[];
        c
    });
    let st = FileStat {
        kind,
        mode: raw & 0o7777,
        uid: u32::try_from(num(1)?).map_err(|_| parse_err(path, "bad uid"))?,
        gid: u32::try_from(num(2)?).map_err(|_| parse_err(path, "bad gid"))?,
        owner: fields[3].clone(),
        group: fields[4].clone(),
        size: num(5)?,
        mtime: time(6)?,
        atime: time(7)?,
        ctime: time(8)?,
        inode: num(9)?,
        dev: num(10)?,
        nlink: num(11)?,
        link_target: text(target),
        link_resolved: text(resolved),
        readable: access.contains('r'),
        writeable: access.contains('w'),
        executable: access.contains('x'),
        checksum,
        content,
    };
    Ok(Some((st, more)))
}

/// A time as `stat -c %.9Y` prints it (`SECONDS.NANOSECONDS`, or whole seconds), as the float
/// Python's `os.stat` gives (`seconds + nanoseconds * 1e-9`), so it prints the same.
pub(super) fn parse_time(t: &str) -> Option<f64> {
    let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
    let secs: i64 = secs.parse().ok()?;
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    Some(secs as f64 + f64::from(nanos) * 1e-9)
}

/// `$stx` for `st` in the `stat` module (set after [`ST_FN`], which empties it): block size,
/// blocks and device numbers, asked of the same `stat` process as the other fields, and the raw
/// mode again (`%f`: its file type bits).
pub(super) const STAT_EXTRA_FIELDS: &str = "stx='\n%o\n%b\n%t\n%T\n%f'\n";

/// The number of `stat -c` fields in [`STAT_EXTRA_FIELDS`].
pub(super) const STAT_EXTRA_COUNT: usize = 5;

/// Shell text run after `st` for the `stat` module (`$1` path, `$2` follow, `$5` get_mime,
/// `$6` get_attributes): `F` + `file -b --mime-type --mime-encoding` (empty when `file` is
/// missing or fails), then `A` + the first line of `lsattr -vd` (empty when it fails; the first
/// line taken by the shell, not by `head`), as ansible.builtin.stat gathers them.
pub(super) const STAT_EXTRA: &str = r#"
if [ "$2" = 1 ]; then [ -e "$1" ] || exit 0; else { [ -e "$1" ] || [ -L "$1" ]; } || exit 0; fi
if [ "$5" = 1 ]; then
  if o=$(file -b --mime-type --mime-encoding -- "$1" 2>/dev/null); then echo "F$o"; else echo F; fi
fi
if [ "$6" = 1 ]; then
  nl='
'
  if o=$(lsattr -vd -- "$1" 2>/dev/null); then printf 'A%s\n' "${o%%"$nl"*}"; else echo A; fi
fi
"#;

/// Parses `fields` (the [`STAT_EXTRA_FIELDS`] lines, as [`parse_st_extra`] returns them) and
/// [`STAT_EXTRA`]'s output (after `st`'s) into a [`StatExtra`].
pub(super) fn parse_stat_extra(
    path: &str,
    fields: &[String],
    buf: &mut &[u8],
    mime: bool,
    attrs: bool,
) -> Result<StatExtra, FilesError> {
    let mut line = |what: &str| -> Result<String, FilesError> {
        take_line(buf)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .ok_or_else(|| parse_err(path, &format!("no {what}")))
    };
    let num = |i: usize, radix: u32| {
        fields
            .get(i)
            .and_then(|t| u64::from_str_radix(t.trim(), radix).ok())
            .ok_or_else(|| parse_err(path, "bad number"))
    };
    let block_size = num(0, 10)?;
    let blocks = num(1, 10)?;
    let major = num(2, 16)?;
    let minor = num(3, 16)?;
    let file_type = u32::try_from(num(4, 16)? & 0o170000).map_err(|_| parse_err(path, "bad mode"))?;
    // glibc's makedev.
    let device_type =
        (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32);
    let mut extra = StatExtra {
        block_size,
        blocks,
        device_type,
        file_type,
        ..Default::default()
    };
    if mime {
        let l = line("mime line")?;
        let text = l.strip_prefix('F').unwrap_or_default();
        extra.mime = text.split_once(';').and_then(|(t, c)| {
            let charset = c.split_once('=')?.1.trim().to_string();
            Some((t.trim().to_string(), charset))
        });
    }
    if attrs {
        let l = line("attributes line")?;
        let mut words = l.strip_prefix('A').unwrap_or_default().split_whitespace();
        if let (Some(v), Some(f)) = (words.next(), words.next()) {
            extra.attrs = Some((v.to_string(), f.replace('-', "")));
        }
    }
    Ok(extra)
}

pub(super) fn parse_umask(path: &str, buf: &mut &[u8]) -> Result<u32, FilesError> {
    let l = take_line(buf).ok_or_else(|| parse_err(path, "no umask"))?;
    u32::from_str_radix(String::from_utf8_lossy(l).trim(), 8).map_err(|_| parse_err(path, "bad umask"))
}

/// Parses a probe's output (`umask`, then `st`) starting at `buf`; advances `buf` past it.
pub(super) fn parse_probe(path: &str, buf: &mut &[u8], want_content: bool) -> Result<Probe, FilesError> {
    let umask = parse_umask(path, buf)?;
    let stat = parse_st(path, buf, want_content)?;
    Ok(Probe { umask, stat })
}

/// A name part unique to this write on the host (temporary names, backup names): the
/// controller's process id, a dot, and a per-process counter with the time in nanoseconds,
/// since talon's scripts run without a shell of their own (`$$` is not theirs). The process id
/// comes first so that a write can tell temp files of another (dead) run from this run's.
pub fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}.{n}{nanos:09}", std::process::id())
}

/// Builds the shell text that runs a `validate` command on `"$t"`: the command is split like a
/// shell word list on the controller, each word quoted, and `%s` becomes the temp path.
pub(super) fn validate_snippet(validate: &str) -> Result<String, String> {
    if !validate.contains("%s") {
        return Err(format!("validate must contain %s: {validate}"));
    }
    let words = quote::split(validate).map_err(|e| format!("cannot split validate {validate:?}: {e}"))?;
    let quoted: Vec<String> = words
        .iter()
        .map(|w| {
            let q = quote::quote(w);
            if q.starts_with('\'') {
                q.replace("%s", "'\"$t\"'")
            } else {
                q.replace("%s", "\"$t\"")
            }
        })
        .collect();
    Ok(quoted.join(" "))
}

/// Shell function `attrs PATH` applying `$o`/`$g` then `$m` (chown before chmod: chown clears
/// setuid/setgid bits).
pub(super) const ATTRS_FN: &str = r#"attrs() {
  if [ -n "$o" ]; then chown -- "$o${g:+:$g}" "$1" || return 1
  elif [ -n "$g" ]; then chgrp -- "$g" "$1" || return 1; fi
  if [ -n "$m" ]; then chmod -- "$m" "$1" || return 1; fi
  return 0
}
"#;

pub(super) fn attr_args(attrs: &FileAttrs) -> [String; 3] {
    [
        attrs.mode.map(|m| format!("{m:04o}")).unwrap_or_default(),
        attrs.owner.clone().unwrap_or_default(),
        attrs.group.clone().unwrap_or_default(),
    ]
}

/// The umask under which the temp file is created with exactly `attrs.mode`, so that no `chmod`
/// runs: only for a mode without execute or special bits (`open` gives `0666 & ~umask`) and
/// without an owner or group to set (the file must not be readable by anyone the final owner
/// and group would not be: until the chown it belongs to the connecting user).
pub(super) fn create_umask(attrs: &FileAttrs) -> Option<u32> {
    let m = attrs.mode?;
    (m & 0o7111 == 0 && attrs.owner.is_none() && attrs.group.is_none()).then_some(0o777 & !m)
}

/// The write part of [`write_atomic`]'s script (after `ST_FN` and `ATTRS_FN`), reading its
/// arguments as [`write_args`] lays them out.
pub(super) fn write_script(path: &str, opts: &WriteOptions) -> Result<String, FilesError> {
    let validate = match &opts.validate {
        Some(v) => validate_snippet(v).map_err(|message| FilesError::Remote {
            op: "validate",
            path: path.to_string(),
            message,
        })?,
        None => String::new(),
    };
    let mut script = String::new();
    script.push_str(
        r#"d=$1 m=$2 o=$3 g=$4 bk=$5 mk=$6 fl=$7 u=$8 cu=$9 rs=${10} kn=${11} oc=${12}
if [ "$fl" = 1 ] && [ -L "$d" ]; then d=$(readlink -f -- "$d") || exit 1; fi
case $d in */*) dir=${d%/*} b=${d##*/} ;; *) dir=. b=$d ;; esac
[ -n "$dir" ] || dir=/
if [ ! -d "$dir" ]; then
  if [ "$mk" = 1 ]; then mkdir -p -- "$dir" || exit 1
  else echo "Destination directory $dir does not exist" >&2; exit 1; fi
fi
for s in "$dir/.$b.talon."*; do
  case $s in "$dir/.$b.talon.${u%%.*}".*) ;; *) [ -f "$s" ] && [ ! -L "$s" ] && rm -f -- "$s" ;; esac
done
t="$dir/.$b.talon.$u"
ex=; [ -e "$d" ] && ex=1
trap 'rm -f -- "$t"' EXIT
trap 'exit 1' HUP INT TERM PIPE
km=1 m0=$m
if [ -n "$cu" ]; then m=
elif [ -z "$m$o$g" ] && [ ! -e "$d" ]; then cu=$(umask)
else cu=077 km=0; fi
(umask "$cu"; exec dd of="$t" conv=excl,fsync bs=65536 status=none) || exit 1
if [ -n "${13}" ]; then
  h=$(sha1sum <"$t") && [ "${h%% *}" = "${13}" ] || { echo "the content arrived incomplete (connection lost?); $d is unchanged" >&2; exit 1; }
fi
if [ -z "$o$g" ] && [ -e "$d" ] && { [ "$oc" != 1 ] || [ -g "$dir" ]; }; then chown --reference="$d" -- "$t" 2>/dev/null; fi
if [ -e "$d" ]; then
  # As Ansible's atomic_move (shutil.copystat): the new file keeps the old one's mode, POSIX
  # ACL and extended attributes; a mode asked for is applied after.
  if cp --attributes-only --preserve=mode,xattr -- "$d" "$t" 2>/dev/null; then m=$m0
  elif [ "$km" = 0 ] && [ -z "$m" ]; then chmod --reference="$d" -- "$t" || exit 1; fi
elif [ "$km" = 0 ] && [ -z "$m" ]; then
  chmod -- "$(printf '%o' $((0666 & ~$(umask))))" "$t" || exit 1
fi
attrs "$t" || exit 1
"#,
    );
    if !validate.is_empty() {
        script.push_str("vo=$(");
        script.push_str(&validate);
        script.push_str(" 2>&1 </dev/null); vr=$?\nif [ \"$vr\" != 0 ]; then printf '%s' \"$vo\" >&2; echo \"$vr\"; exit 30; fi\n");
    }
    script.push_str(
        r#"bf=
if [ "$bk" = 1 ] && [ -f "$d" ]; then
  bf="$d.$u.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p -- "$d" "$bf" || exit 1
fi
mv -f -- "$t" "$d" || exit 1
trap - EXIT
printf '%s\000%s\000' "$bf" "$t"
if [ "$rs" = 1 ]; then
  if [ -z "$ex$o$g" ] && [ ! -g "$dir" ]; then
    if [ "$kn" = 1 ]; then echo "K $cu"; exit 0; fi
    echo L
  else echo F; fi
  st "$d" 0 "" 0
fi
"#,
    );
    Ok(script)
}

/// Content above this size (bytes), or that must travel as base64, is hashed on the host before
/// the rename. Smaller text is inlined in the remote shell's request line, which the shell runs
/// only once the whole line has arrived (a lost connection runs nothing); larger content may
/// travel on a channel of its own, where a lost connection looks like the end of the data.
pub(super) const VERIFY_ABOVE: usize = 64 * 1024;

/// The sha1 the host checks the temp file against before the rename (`${13}` of
/// [`write_script`]), or an empty string when the content cannot arrive partially.
pub(super) fn verify_sha1(content: &[u8]) -> String {
    if content.len() > VERIFY_ABOVE || super::super::shell::needs_base64(content) {
        Checksum::Sha1.digest(content)
    } else {
        String::new()
    }
}

/// `$1`..`$13` of [`write_script`].
pub(super) fn write_args(path: &str, opts: &WriteOptions, known_owner: bool, content: &[u8]) -> Vec<String> {
    let [m, o, g] = attr_args(&opts.attrs);
    vec![
        path.to_string(),
        m,
        o,
        g,
        flag(opts.backup),
        flag(opts.create_parents),
        flag(opts.follow),
        unique_suffix(),
        create_umask(&opts.attrs)
            .map(|u| format!("{u:03o}"))
            .unwrap_or_default(),
        flag(opts.report),
        flag(known_owner),
        flag(opts.owner_is_creator),
        verify_sha1(content),
    ]
}

/// The output of a write script that exited 0, or its error (validation failed: exit 30).
pub(super) fn write_status<'a>(path: &str, out: &'a ExecOutput) -> Result<&'a [u8], FilesError> {
    if out.status == super::super::ExitStatus::Code(30) {
        return Err(FilesError::Validate {
            rc: out.stdout_str().trim().parse().unwrap_or(-1),
            output: out.stderr_str(),
        });
    }
    if !out.status.success() {
        return Err(remote_err("write", path, out));
    }
    Ok(&out.stdout[..])
}

/// Parses what [`write_script`] printed (backup name, report) starting at `buf`.
pub(super) fn parse_write(
    conn: &Connection,
    path: &str,
    buf: &mut &[u8],
    content: &[u8],
    opts: &WriteOptions,
    known: Option<FileOwner>,
    become_: &Option<Become>,
) -> Result<WriteOutcome, FilesError> {
    let nul = buf
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| parse_err(path, "no backup line"))?;
    let bf = String::from_utf8_lossy(&buf[..nul]).into_owned();
    *buf = &buf[nul + 1..];
    let nul = buf
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| parse_err(path, "no temp file line"))?;
    let source = String::from_utf8_lossy(&buf[..nul]).into_owned();
    *buf = &buf[nul + 1..];
    let written = if opts.report {
        let tag = take_line(buf).ok_or_else(|| parse_err(path, "no report line"))?;
        match tag {
            [b'K', b' ', cu @ ..] => {
                let cu = u32::from_str_radix(String::from_utf8_lossy(cu).trim(), 8)
                    .map_err(|_| parse_err(path, "bad umask"))?;
                let owner = known.ok_or_else(|| parse_err(path, "owner not known"))?;
                Some(WrittenFile {
                    mode: opts.attrs.mode.unwrap_or(0o666 & !cu),
                    owner,
                    size: content.len() as u64,
                })
            }
            b"L" | b"F" => {
                let st =
                    parse_st(path, buf, false)?.ok_or_else(|| parse_err(path, "written file missing"))?;
                let owner = FileOwner {
                    uid: st.uid,
                    gid: st.gid,
                    owner: st.owner,
                    group: st.group,
                };
                if tag == b"L" {
                    learn_owner(conn, become_, owner.clone());
                }
                Some(WrittenFile {
                    mode: st.mode,
                    owner,
                    size: st.size,
                })
            }
            _ => return Err(parse_err(path, "bad report line")),
        }
    } else {
        None
    };
    Ok(WriteOutcome {
        backup_file: Some(bf).filter(|b| !b.is_empty()),
        source,
        written,
    })
}

/// The directories [`MKDIR_BODY`] reports, NUL-terminated, outermost first.
pub(super) fn created_dirs(out: &[u8]) -> Vec<String> {
    out.split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// `mkdir -p "$1"` giving every directory it creates `$2` (mode), `$3`/`$4` (owner/group), and
/// printing each one created followed by a NUL. A directory that another process creates between
/// the test and the `mkdir` is success and gets the attributes too, as in Ansible's file module
/// (`EEXIST` on a directory is not an error); only a failure that leaves no directory is one (the
/// `mkdir` is run again to report its message).
pub(super) const MKDIR_BODY: &str = r#"d=$1 m=$2 o=$3 g=$4
cur=
case $d in /*) abs=1 ;; *) abs=0 ;; esac
set -f; IFS=/
for c in $d; do
  [ -z "$c" ] && continue
  if [ -z "$cur" ]; then if [ "$abs" = 1 ]; then cur="/$c"; else cur=$c; fi; else cur="$cur/$c"; fi
  if [ ! -d "$cur" ]; then
    if [ -e "$cur" ] || [ -L "$cur" ]; then echo "$cur exists and is not a directory" >&2; exit 1; fi
    if [ -n "$m" ] && [ -z "$o$g" ]; then
      mkdir -m "$m" -- "$cur" 2>/dev/null || { [ -d "$cur" ] && chmod -- "$m" "$cur"; } || { mkdir -m "$m" -- "$cur"; exit 1; }
    else
      mkdir -- "$cur" 2>/dev/null || [ -d "$cur" ] || { mkdir -- "$cur"; exit 1; }
      attrs "$cur" || exit 1
    fi
    printf '%s\000' "$cur"
  fi
done
"#;
