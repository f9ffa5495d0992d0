//! [`copy_on_host`]: copy a file or a directory that is already on the host to another path
//! there, in one round trip (ansible.builtin.copy with `remote_src: true`).

use super::scripts::{ATTRS_FN, ST_FN, parse_err, parse_st, remote_err, take_line, unique_suffix};
use super::{Become, Connection, FileStat, FilesError, run_script};

/// What [`copy_on_host`] was asked to do.
#[derive(Debug, Clone, Default)]
pub struct HostCopy {
    /// The source file on the host.
    pub src: String,
    /// The destination (a directory, or ending in `/`: the source's name inside it).
    pub dest: String,
    /// `chmod` argument (octal) for the destination; empty: see [`copy_on_host`].
    pub mode: String,
    /// Owner and group to give (empty: none).
    pub owner: String,
    /// Group to give (empty: none).
    pub group: String,
    /// The destination gets the source's mode (`mode: preserve`).
    pub preserve: bool,
    /// Replace a differing destination (`force`).
    pub force: bool,
    /// Plan only.
    pub check: bool,
    /// The sha1 the source must have (`checksum`); empty: any.
    pub expected: String,
}

/// How [`copy_on_host`] ended.
#[derive(Debug, Clone)]
pub enum HostCopyOutcome {
    /// A failure the module reports (`Source ... not found`, a missing destination directory).
    Failed(String),
    /// The source's sha1 is not the expected one (the actual sum).
    BadChecksum(String),
    /// The destination exists and `force` is off.
    Exists(String),
    /// Done (or, in check mode, planned): whether anything changed, the final destination, the
    /// source's sha1 and md5 (empty for a directory), and the destination's stat (`None` in check mode
    /// when it would be new).
    Done {
        changed: bool,
        dest: String,
        checksum: String,
        md5sum: String,
        stat: Option<Box<FileStat>>,
    },
}

/// The directory part of [`SCRIPT`] (ansible.builtin.copy's `copy_diff_files`,
/// `copy_left_only`, `copy_common_dirs` and `chown_recursive`): `syncdir SRC DST` copies what
/// is missing or differs (by content) from SRC into DST, recursively; files only in DST stay.
/// A copied file gets its source's mode, a new subtree its modes and times; links are copied
/// as links. `copydir` picks the target as the module does from the trailing `/` of `src` and
/// whether `dest` exists, then gives owner/group to the whole target and `mode` to `dest`.
const DIR_FNS: &str = r#"syncdir() {
  local e n t
  for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    n=${e##*/}; t=$2/$n
    if [ -L "$e" ]; then
      [ -L "$t" ] && [ "$(readlink -- "$e")" = "$(readlink -- "$t")" ] && continue
      [ -d "$t" ] && [ ! -L "$t" ] && continue
      ch=1; [ "$ck" = 1 ] && continue
      rm -f -- "$t" && cp -P -- "$e" "$t" || return 1
    elif [ -d "$e" ]; then
      if [ -d "$t" ] && [ ! -L "$t" ]; then syncdir "$e" "$t" || return 1
      elif [ ! -e "$t" ] && [ ! -L "$t" ]; then
        ch=1; [ "$ck" = 1 ] || cp -PR --preserve=mode,timestamps -- "$e" "$t" || return 1
      fi
    elif [ -f "$e" ]; then
      [ -d "$t" ] && [ ! -L "$t" ] && continue
      [ -f "$t" ] && cmp -s -- "$e" "$t" && continue
      ch=1; [ "$ck" = 1 ] && continue
      cp -- "$e" "$t" && chmod --reference="$e" -- "$t" || return 1
    fi
  done
}
copydir() {
  S=${s%/}; [ -n "$S" ] || S=/
  ch=0 out=$d T=
  case $s in
  */) if [ -d "$d" ]; then T=$d out="${d%/}/"; syncdir "$S" "$T" || return 1
      elif [ ! -e "$d" ]; then
        T=$d ch=1
        [ "$ck" = 1 ] || { mkdir -p -- "$(dirname -- "$d")" && cp -PR --preserve=mode,timestamps -- "$S" "$T"; } || return 1
      fi ;;
  *)  T="${d%/}/${S##*/}"
      if [ -d "$d" ]; then
        out=$T
        if [ -e "$T" ] || [ -L "$T" ]; then syncdir "$S" "$T" || return 1
        else ch=1; [ "$ck" = 1 ] || cp -PR --preserve=mode,timestamps -- "$S" "$T" || return 1; fi
      elif [ ! -e "$d" ]; then
        ch=1
        [ "$ck" = 1 ] || { mkdir -p -- "$T" && syncdir "$S" "$T"; } || return 1
      else T=
      fi ;;
  esac
  if [ -n "$o$g" ] && [ -n "$T" ] && [ -e "$T" ]; then
    c=; [ -n "$o" ] && c=$(find "$T" ! -user "$o" -print -quit 2>/dev/null)
    [ -z "$c" ] && [ -n "$g" ] && c=$(find "$T" ! -group "$g" -print -quit 2>/dev/null)
    if [ -n "$c" ]; then ch=1; [ "$ck" = 1 ] || chown -hR -- "$o${g:+:$g}" "$T" || return 1; fi
  fi
  [ "$pr" = 1 ] && { m=$(stat -c %a -- "$S") || return 1; m=$(printf '%04o' "0$m"); }
  if [ -n "$m" ] && [ -e "$out" ] && [ "$ck" != 1 ]; then
    b=$(stat -c %a -- "$out") || return 1
    chmod -- "$m" "$out" || return 1
    [ "$(stat -c %a -- "$out")" != "$b" ] && ch=1
  fi
  printf 'R%s\n%s\n\n\n' "$ch" "$out"
  st "$out" 0 "" 0
}
"#;

const SCRIPT: &str = r#"s=$1 d=$2 m=$3 o=$4 g=$5 pr=$6 fo=$7 ck=$8 xc=$9 u=${10}
[ -e "$s" ] || { echo "FSource $s not found"; exit 0; }
[ -r "$s" ] || { echo "FSource $s not readable"; exit 0; }
[ -d "$s" ] && { copydir; exit $?; }
[ -f "$s" ] || { echo "FCannot copy invalid source '$s': not a file"; exit 0; }
cs=$(sha1sum < "$s") || exit 1; cs=${cs%% *}
if [ -n "$xc" ] && [ "$cs" != "$xc" ]; then echo "X$cs"; exit 0; fi
if [ "$pr" = 1 ]; then m=$(stat -L -c %a -- "$s") || exit 1; m=$(printf '%04o' "0$m"); fi
ch=0
case $d in */)
  if [ ! -d "${d%/}" ]; then
    [ "$ck" = 1 ] && { printf 'R1\n%s\n%s\n' "$d" "$cs"; echo M; exit 0; }
    mkdir -p -- "${d%/}" || exit 1; ch=1
  fi ;;
esac
[ -d "$d" ] && d="${d%/}/${s##*/}"
case $d in */*) dir=${d%/*} ;; *) dir=. ;; esac
[ -n "$dir" ] || dir=/
if [ -e "$d" ] || [ -L "$d" ]; then
  [ "$fo" = 1 ] || { echo "O$d"; exit 0; }
  cd=; if [ -f "$d" ] && [ ! -L "$d" ]; then cd=$(sha1sum < "$d") || exit 1; cd=${cd%% *}; fi
  new=0
else
  [ -d "$dir" ] || { echo "FDestination directory $dir does not exist"; exit 0; }
  cd= new=1
fi
if [ "$cs" != "$cd" ]; then
  ch=1
  if [ "$ck" != 1 ]; then
    t="$dir/.${d##*/}.talon.$u"
    cp --preserve=mode,timestamps -- "$s" "$t" || { rm -f -- "$t"; exit 1; }
    if [ "$new" = 1 ]; then chmod -- "$(printf '%o' $((0666 & ~$(umask))))" "$t" || { rm -f -- "$t"; exit 1; }; fi
    mv -f -T -- "$t" "$d" || { rm -f -- "$t"; exit 1; }
  fi
fi
if [ -e "$d" ] && [ "$ck" != 1 ]; then
  b=$(stat -c '%a %u %g' -- "$d") || exit 1
  attrs "$d" || exit 1
  a=$(stat -c '%a %u %g' -- "$d") || exit 1
  [ "$a" != "$b" ] && ch=1
fi
m5=$(md5sum < "$s") || exit 1
printf 'R%s\n%s\n%s\n%s\n' "$ch" "$d" "$cs" "${m5%% *}"
st "$d" 0 "" 0
"#;

/// Copies `req.src` to `req.dest` on the host, as ansible.builtin.copy's module does with
/// `remote_src: true`: sha1 decides; a new destination gets `0666 & ~umask`, a replaced one the
/// source's mode (the module's `copystat` without keeping the old file's attributes); then
/// `mode`/`owner`/`group` are applied and count as a change when they differ. A `dest` ending
/// in `/` is created when missing; an existing directory `dest` receives the source's name.
///
/// A directory `src` is copied as the module's directory branch does (see [`DIR_FNS`]): `src/`
/// into `dest` itself, `src` into `dest/NAME` (also when `dest` is missing, as the module does).
///
/// In check mode nothing is changed and attributes are not applied: the caller compares them
/// with the returned stat. Errors: [`FilesError::Remote`] when a step fails on the host.
pub async fn copy_on_host(
    conn: &Connection,
    req: &HostCopy,
    become_: &Option<Become>,
) -> Result<HostCopyOutcome, FilesError> {
    let flag = |b: bool| if b { "1" } else { "0" }.to_string();
    let args = [
        req.src.clone(),
        req.dest.clone(),
        req.mode.clone(),
        req.owner.clone(),
        req.group.clone(),
        flag(req.preserve),
        flag(req.force),
        flag(req.check),
        req.expected.clone(),
        unique_suffix(),
    ];
    let script = format!("{ST_FN}{ATTRS_FN}{DIR_FNS}{SCRIPT}");
    let out = run_script(conn, &script, &args, None, become_).await?;
    if !out.status.success() {
        return Err(remote_err("copy", &req.dest, &out));
    }
    let mut buf = &out.stdout[..];
    let line = take_line(&mut buf).ok_or_else(|| parse_err(&req.dest, "no result line"))?;
    let text = String::from_utf8_lossy(line.get(1..).unwrap_or_default()).into_owned();
    match line.first() {
        Some(b'F') => Ok(HostCopyOutcome::Failed(text)),
        Some(b'X') => Ok(HostCopyOutcome::BadChecksum(text)),
        Some(b'O') => Ok(HostCopyOutcome::Exists(text)),
        Some(b'R') => {
            let mut next = || {
                take_line(&mut buf)
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .ok_or_else(|| parse_err(&req.dest, "short result"))
            };
            let dest = next()?;
            let checksum = next()?;
            let md5sum = next()?;
            let stat = parse_st(&dest, &mut buf, false)?.map(Box::new);
            Ok(HostCopyOutcome::Done {
                changed: text == "1",
                dest,
                checksum,
                md5sum,
                stat,
            })
        }
        _ => Err(parse_err(&req.dest, "bad result line")),
    }
}
