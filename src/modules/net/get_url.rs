//! `get_url`: downloads a URL on the host with the host's `curl`, as ansible.builtin.get_url
//! (ansible-core 2.19) decides and reports it, without Python on the host.
//!
//! Round trips: one probe of `dest` (its kind, SHA-1, the `checksum` algorithm's digest, its
//! mtime as an HTTP date, path info, and whether curl is there), one download into a temporary
//! file (with `If-Modified-Since` from `dest`'s mtime unless `force`, as `fetch_url`; `HEAD` in
//! check mode), one install (SHA-1 compared, `backup`, moved into place keeping an existing
//! file's mode and owner, `md5sum`), then `mode`/`owner`/`group` as the file modules set them.
//! `checksum` may be `ALG:DIGEST` or `ALG:URL` of a digest file (BSD or GNU lines, or one bare
//! digest). The results are the module's: `dest`, `url` (credentials masked), `checksum_src`,
//! `checksum_dest`, `md5sum`, `status_code`, `msg` (`OK (N bytes)`), `elapsed`, `src` (the
//! temporary file), `backup_file`, and `dest`'s path info.
//!
//! Handed to ansible-core's module (the Python path): a host without curl, a digest algorithm
//! coreutils has no tool for, `use_gssapi`, `unredirected_headers`, SELinux and `attributes`
//! options. A connection failure's message is curl's (`Request failed: (7) Failed to connect
//! ...`), not Python's.

use serde_json::Value;

use super::curl::{self, FETCH_FN, Request};
use crate::modules::args::{Args, FileArgs};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, fallback, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `get_url`: the module's options with url_argument_spec's and the file options.
    INFO,
    "get_url",
    ArgSpec::new(super::url_and_file_args![
        ArgDef::str("url").required(),
        ArgDef::path("dest").required(),
        ArgDef::bool("backup"),
        ArgDef::str("checksum"),
        ArgDef::path("tmp_dest"),
        ArgDef::str("url_username").aliases(&["username"]),
        ArgDef::str("url_password").aliases(&["password"]).no_log(),
    ])
    .python_for(super::PYTHON_ONLY),
    run
);

const FQCN: &str = "ansible.builtin.get_url";

/// Digest algorithms with a coreutils tool (`ALGsum`); others run ansible-core's module.
const ALGORITHMS: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

/// Probe: `$1` dest, `$2` algorithm (may be empty). Sections `curl` (yes/no), `kind`
/// (dir/file/none), `sha1`, `digest`, `mtime` (HTTP date), `pathinfo`.
const PROBE: &str = r#"d=$1 a=$2
printf '%s curl\n' "$M"; command -v curl >/dev/null 2>&1 && echo yes || echo no
printf '%s kind\n' "$M"
if [ -d "$d" ]; then echo dir; elif [ -e "$d" ]; then echo file
  printf '%s sha1\n' "$M"; sha1sum < "$d" | cut -d' ' -f1
  if [ -n "$a" ]; then printf '%s digest\n' "$M"; "${a}sum" < "$d" | cut -d' ' -f1; fi
  printf '%s mtime\n' "$M"; LC_ALL=C date -u -r "$d" '+%a, %d %b %Y %H:%M:%S GMT'
else echo none; fi
pathinfo "$d"
"#;

/// Download: `$1` tmp_dest (may be empty), `$2` algorithm (may be empty), `$3` 1 for a HEAD
/// request (curl writes the headers where a body would go: the file is emptied, as urllib's
/// empty body); curl's config on stdin. Sections from [`FETCH_FN`], `tmpdest` (ok/file/missing), `tmp`, `sha1`, `digest`.
const DOWNLOAD: &str = r#"t=$1 a=$2 head=$3 dir=${TMPDIR:-/tmp}
printf '%s tmpdest\n' "$M"
if [ -z "$t" ]; then echo ok; elif [ -d "$t" ]; then echo ok; dir=$t; elif [ -e "$t" ]; then echo file; else echo missing; fi
tmp=$(mktemp "$dir/tmpXXXXXXXX") || exit 90
fetch "$tmp"
[ "$head" = 1 ] && : > "$tmp"
printf '%s tmp\n%s\n' "$M" "$tmp"
printf '%s sha1\n' "$M"; sha1sum < "$tmp" | cut -d' ' -f1
if [ -n "$a" ]; then printf '%s digest\n' "$M"; "${a}sum" < "$tmp" | cut -d' ' -f1; fi
"#;

/// Install: `$1` tmp, `$2` dest, `$3` backup (1/0), `$4` check (1/0). Sections `dest` (the
/// SHA-1 of dest or `none`, or an error: `nodir`, `nowrite`, `noread`), `moved` (1/0, with the
/// backup name), `md5`, `pathinfo`. The temporary file is always removed.
const INSTALL: &str = r#"tmp=$1 d=$2 b=$3 c=$4
printf '%s dest\n' "$M"
if [ -e "$d" ]; then
  if [ ! -w "$d" ]; then echo nowrite; rm -f "$tmp"; exit 0; fi
  if [ ! -r "$d" ]; then echo noread; rm -f "$tmp"; exit 0; fi
  sha1sum < "$d" | cut -d' ' -f1
else
  p=$(dirname -- "$d")
  if [ ! -e "$p" ]; then echo nodir; rm -f "$tmp"; exit 0; fi
  if [ ! -w "$p" ]; then echo nowrite; rm -f "$tmp"; exit 0; fi
  echo none
fi
[ "$c" = 1 ] && { rm -f "$tmp"; exit 0; }
printf '%s moved\n' "$M"
old=none; [ -e "$d" ] && old=$(sha1sum < "$d" | cut -d' ' -f1)
new=$(sha1sum < "$tmp" | cut -d' ' -f1)
if [ "$old" = "$new" ]; then echo 0; rm -f "$tmp"
else
  bf=
  if [ "$b" = 1 ] && [ -e "$d" ]; then bf="$d.$$.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p -- "$d" "$bf" || exit 91; fi
  n="$(dirname -- "$d")/.talon-get_url.$$"
  cp -- "$tmp" "$n" || { rm -f "$tmp" "$n"; exit 92; }
  rm -f "$tmp"
  if [ -e "$d" ]; then chmod --reference="$d" "$n" && chown --reference="$d" "$n" 2>/dev/null
  else chmod "$(printf '%o' $((0666 & ~$(umask))))" "$n"; fi
  mv -f -- "$n" "$d" || { rm -f "$n"; exit 93; }
  echo "1 $bf"
fi
printf '%s md5\n' "$M"; md5sum < "$d" | cut -d' ' -f1
pathinfo "$d"
"#;

/// What the task asks, read once.
struct Want {
    url: String,
    dest: String,
    backup: bool,
    force: bool,
    checksum: Option<(String, String)>,
    tmp_dest: Option<String>,
    file: FileArgs,
    request: Request,
}

/// Runs `get_url`. Errors: [`ModuleError::BadArgs`] for arguments the module does not take;
/// transport errors. Everything the module fails on is a failed outcome with its message.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let url = a.req_str("url")?;
    let dest = a.req_str("dest")?;
    let base = ModuleOutcome::ok()
        .with("checksum_dest", Value::Null)
        .with("checksum_src", Value::Null)
        .with("dest", dest.clone())
        .with("elapsed", 0)
        .with("url", curl::mask_url(&url));
    let checksum = match a.str("checksum")?.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match c.split_once(':') {
            Some((alg, value)) => Some((alg.to_string(), value.to_string())),
            None => {
                return Ok(fail(
                    base,
                    "The checksum parameter has to be in format <algorithm>:<checksum>",
                ));
            }
        },
    };
    if let Some((alg, _)) = &checksum
        && !ALGORITHMS.contains(&alg.as_str())
    {
        return fallback::python_path(
            FQCN,
            "get_url",
            args,
            ctx,
            "a digest algorithm without a coreutils tool",
        )
        .await;
    }
    let force = a.bool("force", false)?;
    let method = if ctx.check { "HEAD" } else { "GET" };
    let request = Request::from_args(&a, &url, method, 10)?;
    let want = Want {
        url,
        dest,
        backup: a.bool("backup", false)?,
        force,
        checksum,
        tmp_dest: a.str("tmp_dest")?.filter(|t| !t.is_empty()),
        file: FileArgs::parse(&a)?,
        request,
    };
    download(want, base, args, ctx).await
}

/// The keys url_get's own `fail_json` gives (no checksums): `url`, `dest`, `elapsed`.
fn url_get_base(w: &Want, elapsed: u64) -> ModuleOutcome {
    ModuleOutcome::ok()
        .with("url", curl::mask_url(&w.url))
        .with("dest", w.dest.clone())
        .with("elapsed", elapsed)
}

/// `out` failed with `msg` (the module's `fail_json(msg=..., **result)`).
fn fail(mut out: ModuleOutcome, msg: impl Into<String>) -> ModuleOutcome {
    out.failed = true;
    out.msg = Some(msg.into());
    out
}

/// Runs `script` (with [`FETCH_FN`] and the path info function) and splits its sections.
async fn script(
    ctx: &ModuleContext<'_>,
    body: &str,
    argv: &[String],
    stdin: Option<Vec<u8>>,
) -> Result<(String, String, i32), ModuleError> {
    let m = sysutil::marker();
    let text = format!("M={m}\n{FETCH_FN}{}{body}", sysutil::PATH_INFO_FN);
    let out = sysutil::run_script(ctx, &text, argv, stdin).await?;
    Ok((out.stdout_str(), m, out.status.rc() as i32))
}

async fn download(
    mut w: Want,
    base: ModuleOutcome,
    args: &Vars,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let alg = w.checksum.as_ref().map(|(a, _)| a.clone()).unwrap_or_default();
    let (text, m, _) = script(ctx, PROBE, &[w.dest.clone(), alg.clone()], None).await?;
    let secs = sysutil::sections(&text, &m);
    let sec = |n: &str| sysutil::section(&secs, n).unwrap_or("").trim().to_string();
    if sec("curl") != "yes" {
        return fallback::python_path(FQCN, "get_url", args, ctx, "the host has no curl").await;
    }
    let kind = sec("kind");
    let dest_info = sysutil::path_info_of(sysutil::section(&secs, "pathinfo").unwrap_or(""));
    let done = |o: ModuleOutcome, info: &[(&'static str, Value)]| sysutil::with_path_info(o, info.to_vec());
    // The digest wanted: given, or read from a digest file the host fetches.
    let mut expected = String::new();
    if let Some((_, value)) = &w.checksum {
        let mut digest = value.clone();
        if is_url(value) {
            let req = Request {
                url: value.clone(),
                method: "GET".into(),
                if_modified_since: None,
                ..w.request.clone()
            };
            let body = "tmp=$(mktemp \"${TMPDIR:-/tmp}/tmpXXXXXXXX\") || exit 90\nfetch \"$tmp\"\nprintf '%s body\\n' \"$M\"; cat \"$tmp\"; rm -f \"$tmp\"\n";
            let (text, m, _) = script(ctx, body, &[], Some(req.config().into_bytes())).await?;
            let secs = sysutil::sections(&text, &m);
            let resp = curl::parse(&secs, value).unwrap_or_default();
            if resp.status != 200 && !value.starts_with("file:/") {
                return Ok(done(
                    fail(url_get_base(&w, 0), "Request failed")
                        .with("status_code", resp.status)
                        .with("response", resp.msg),
                    &dest_info,
                ));
            }
            let lines: Vec<String> = sysutil::section(&secs, "body")
                .unwrap_or("")
                .lines()
                .map(str::to_string)
                .collect();
            let filename = curl::url_filename(&w.url);
            match digest_for(&filename, &lines) {
                Some(d) => digest = d,
                None => {
                    return Ok(fail(
                        ModuleOutcome::ok(),
                        format!(
                            "Unable to find a checksum for file '{filename}' in '{}'",
                            curl::mask_url(value)
                        ),
                    ));
                }
            }
        }
        expected = digest
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>()
            .to_lowercase();
        if expected.is_empty() || !expected.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(done(fail(base, "The checksum format is invalid"), &dest_info));
        }
    }
    if kind == "file" {
        let mismatch = !w.force && !expected.is_empty() && sec("digest") != expected;
        if !w.force && !expected.is_empty() && !mismatch {
            let (changed, info) = super::attributes(&w.file, &w.dest, ctx, dest_info, "get_url").await?;
            let msg = if changed {
                "file already exists but file attributes changed"
            } else {
                "file already exists"
            };
            let mut o = base;
            o.changed = changed;
            o.msg = Some(msg.to_string());
            return Ok(done(o, &info));
        }
        if mismatch {
            w.force = true;
        } else if !w.force {
            w.request.if_modified_since = Some(sec("mtime"));
        }
    }
    let started = std::time::Instant::now();
    let head = if ctx.check { "1" } else { "0" };
    let argv = [w.tmp_dest.clone().unwrap_or_default(), alg, head.to_string()];
    let (text, m, rc) = script(ctx, DOWNLOAD, &argv, Some(w.request.config().into_bytes())).await?;
    let secs = sysutil::sections(&text, &m);
    let sec = |n: &str| sysutil::section(&secs, n).unwrap_or("").trim().to_string();
    let elapsed = started.elapsed().as_secs();
    let base = base.with("elapsed", elapsed);
    let Some(resp) = curl::parse(&secs, &w.url) else {
        return Err(sysutil::bad(
            "get_url",
            format!("the download script failed on the host (exit {rc}): {text}"),
        ));
    };
    let tmp = sec("tmp");
    let remove_tmp = async |tmp: &str| -> Result<(), ModuleError> {
        if !tmp.is_empty() {
            sysutil::run_script(ctx, "rm -f -- \"$1\"", &[tmp.to_string()], None).await?;
        }
        Ok(())
    };
    if resp.status == 304 {
        remove_tmp(&tmp).await?;
        // exit_json with its own keys: no checksums.
        let mut o = ModuleOutcome::ok()
            .with("url", curl::mask_url(&w.url))
            .with("dest", w.dest.clone())
            .with("status_code", 304)
            .with("elapsed", elapsed);
        o.msg = Some(resp.msg);
        return Ok(done(o, &dest_info));
    }
    if resp.status == -1 {
        remove_tmp(&tmp).await?;
        return Ok(done(fail(url_get_base(&w, elapsed), resp.msg), &dest_info));
    }
    if resp.status != 200 && !w.url.starts_with("file:/") {
        remove_tmp(&tmp).await?;
        return Ok(done(
            fail(url_get_base(&w, elapsed), "Request failed")
                .with("status_code", resp.status)
                .with("response", resp.msg),
            &dest_info,
        ));
    }
    if let Some(t) = &w.tmp_dest {
        let why = match sec("tmpdest").as_str() {
            "file" => Some(format!("{t} is a file but should be a directory.")),
            "missing" => Some(format!("{t} directory does not exist.")),
            _ => None,
        };
        if let Some(why) = why {
            remove_tmp(&tmp).await?;
            return Ok(fail(ModuleOutcome::ok().with("elapsed", elapsed), why));
        }
    }
    let mut dest = w.dest.clone();
    if kind == "dir" {
        let name = curl::disposition_filename(&resp.headers).unwrap_or_else(|| curl::url_filename(&resp.url));
        dest = format!("{}/{name}", dest.trim_end_matches('/'));
    }
    let src_sha1 = sec("sha1");
    let mut out = base
        .with("src", tmp.clone())
        .with("dest", dest.clone())
        .with("checksum_src", src_sha1.clone());
    if !ctx.check && !expected.is_empty() && sec("digest") != expected {
        remove_tmp(&tmp).await?;
        let msg = format!(
            "The checksum for {tmp} did not match {expected}; it was {}.",
            sec("digest")
        );
        return Ok(done(fail(out, msg), &dest_info));
    }
    let check = if ctx.check { "1" } else { "0" };
    let backup = if w.backup { "1" } else { "0" };
    let argv = [tmp.clone(), dest.clone(), backup.to_string(), check.to_string()];
    let (text, m, rc) = script(ctx, INSTALL, &argv, None).await?;
    let secs = sysutil::sections(&text, &m);
    let sec = |n: &str| sysutil::section(&secs, n).unwrap_or("").trim().to_string();
    let dest_state = sec("dest");
    let parent = dest
        .rsplit_once('/')
        .map_or(".", |(p, _)| if p.is_empty() { "/" } else { p });
    let problem = match dest_state.as_str() {
        "nodir" => Some(format!("Destination {parent} does not exist")),
        "nowrite" if kind == "file" || dest != w.dest => Some(format!("Destination {dest} is not writable")),
        "nowrite" => Some(format!("Destination {parent} is not writable")),
        "noread" => Some(format!("Destination {dest} is not readable")),
        _ => None,
    };
    if let Some(p) = problem {
        return Ok(fail(out, p));
    }
    if dest_state != "none" {
        out = out.with("checksum_dest", dest_state.clone());
    }
    if ctx.check {
        out.changed = dest_state != src_sha1;
        out.msg = Some(resp.msg.clone());
        return Ok(done(out, &dest_info));
    }
    let moved = sec("moved");
    if rc != 0 || moved.is_empty() {
        return Ok(fail(out, format!("failed to copy {tmp} to {dest}: exit {rc}")));
    }
    let mut words = moved.splitn(2, ' ');
    out.changed = words.next() == Some("1");
    if let Some(bf) = words.next().filter(|b| !b.is_empty()) {
        out = out.with("backup_file", bf.to_string());
    }
    let info = sysutil::path_info_of(sysutil::section(&secs, "pathinfo").unwrap_or(""));
    let (attrs_changed, info) = super::attributes(&w.file, &dest, ctx, info, "get_url").await?;
    out.changed |= attrs_changed;
    out.msg = Some(resp.msg);
    let out = out.with("md5sum", sec("md5")).with("status_code", resp.status);
    Ok(done(out, &info))
}

/// The module's `is_url`: a checksum value with an http, https, ftp or file scheme.
fn is_url(value: &str) -> bool {
    ["http", "https", "ftp", "file"]
        .iter()
        .any(|s| value.strip_prefix(s).is_some_and(|r| r.starts_with(':')))
}

/// The digest for `filename` in a digest file's lines (the module's `parse_digest_lines`): one
/// line with one word is the digest itself; else BSD lines (`SHA256 (name) = digest`) and GNU
/// lines (`digest  name`, `digest *name`, `./name`).
pub fn digest_for(filename: &str, lines: &[String]) -> Option<String> {
    if lines.len() == 1 && lines[0].split_whitespace().count() == 1 {
        return Some(lines[0].clone());
    }
    for line in lines {
        if let Some((digest, path)) = bsd_line(line).or_else(|| gnu_line(line))
            && path == filename
        {
            return Some(digest.to_string());
        }
    }
    None
}

fn word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `^(\w+) ?\((?P<path>.+)\) ?= (?P<digest>[\w.]+)$`
fn bsd_line(line: &str) -> Option<(&str, String)> {
    let open = line.find('(')?;
    let alg = line[..open].strip_suffix(' ').unwrap_or(&line[..open]);
    if alg.is_empty() || !alg.chars().all(word_char) {
        return None;
    }
    let close = line.rfind(')')?;
    let path = &line[open + 1..close];
    let rest = line[close + 1..].strip_prefix(' ').unwrap_or(&line[close + 1..]);
    let digest = rest.strip_prefix("= ")?;
    (!path.is_empty() && !digest.is_empty() && digest.chars().all(|c| word_char(c) || c == '.'))
        .then(|| (digest, path.to_string()))
}

/// `^(?P<digest>[\w.]+)\s+(\*|\.\/|\.)?(?P<path>.+)$`, the path without leading `.`/`/`.
fn gnu_line(line: &str) -> Option<(&str, String)> {
    let end = line.find(|c: char| !(word_char(c) || c == '.'))?;
    let digest = &line[..end];
    let rest = line[end..].trim_start();
    if digest.is_empty() || rest.len() == line[end..].len() {
        return None;
    }
    let path = rest
        .strip_prefix('*')
        .or_else(|| rest.strip_prefix("./"))
        .or_else(|| rest.strip_prefix('.'))
        .unwrap_or(rest);
    (!path.is_empty()).then(|| (digest, path.trim_start_matches(['.', '/']).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn digest_files_are_read_as_the_module_reads_them() {
        assert_eq!(
            digest_for("a.tgz", &lines(&["abc123"])).as_deref(),
            Some("abc123")
        );
        let gnu = lines(&["111  other.tgz", "222 *a.tgz", "333  ./b.tgz"]);
        assert_eq!(digest_for("a.tgz", &gnu).as_deref(), Some("222"));
        assert_eq!(digest_for("b.tgz", &gnu).as_deref(), Some("333"));
        let bsd = lines(&["SHA256 (a.tgz) = 444", "SHA256 (c.tgz) = 555"]);
        assert_eq!(digest_for("c.tgz", &bsd).as_deref(), Some("555"));
        assert_eq!(digest_for("z.tgz", &bsd), None);
    }

    #[test]
    fn checksum_urls_are_recognised_by_scheme() {
        assert!(is_url("http://h/SHA256SUMS") && is_url("file:///x") && is_url("ftp://h/x"));
        assert!(!is_url("deadbeef") && !is_url("httpx://h"));
    }
}
