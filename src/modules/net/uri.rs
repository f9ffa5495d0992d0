//! `uri`: an HTTP request made by the host with its `curl`, as ansible.builtin.uri (ansible-core
//! 2.19) makes and reports it, without Python on the host.
//!
//! Two round trips: the request (after `creates`/`removes` are checked; the body, headers and
//! credentials travel on curl's stdin, never argv; `If-Modified-Since` from a `dest` file unless
//! `force`), then what the response needs: its content read back (when `return_content`, a JSON
//! content type, or a status not in `status_code` ask for it) and `dest` written when its SHA-1
//! differs. The result is the module's: every response header (lower-cased, `-` as `_`),
//! `status`, `url`, `msg`, `redirected`, `cookies`, `cookies_string`, `elapsed`, `content`,
//! `json`, `path`, `location` joined to the URL, and "Status code was N and not [..]: ..." when
//! the status is not wanted. `body_format` `json` (Python's `json.dumps`), `form-urlencoded`
//! (Python's `urlencode`) and `raw`; `follow_redirects` `safe` (GET and HEAD only), `all`,
//! `urllib2`, `yes`, `none`, `no`.
//!
//! Handed to ansible-core's module (the Python path): a host without curl,
//! `body_format: form-multipart`, `use_gssapi`, `unredirected_headers`, SELinux and
//! `attributes` options. `src` must be on the host (`remote_src: true`): talon does not upload a
//! controller file for uri. Check mode skips the task, as the action plugin does.

use serde_json::{Map, Value};

use super::curl::{self, FETCH_FN, Request};
use crate::modules::args::{Args, FileArgs};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, fallback, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `uri`: the module's options with url_argument_spec's and the file options.
    INFO,
    "uri",
    ArgSpec::new(super::url_and_file_args![
        ArgDef::str("url").required(),
        ArgDef::path("dest"),
        ArgDef::str("url_username").aliases(&["user"]),
        ArgDef::str("url_password").aliases(&["password"]).no_log(),
        ArgDef::raw("body"),
        ArgDef::str("body_format").choices(&["form-urlencoded", "json", "raw", "form-multipart"]),
        ArgDef::path("src"),
        ArgDef::str("method"),
        ArgDef::bool("return_content"),
        ArgDef::str("follow_redirects").choices(&["all", "no", "none", "safe", "urllib2", "yes"]),
        ArgDef::path("creates"),
        ArgDef::path("removes"),
        ArgDef::list("status_code"),
        ArgDef::path("unix_socket"),
        ArgDef::bool("remote_src"),
        ArgDef::path("ca_path"),
    ])
    .exclusive(&[&["body", "src"]])
    .python_for(super::PYTHON_ONLY),
    run
);

const FQCN: &str = "ansible.builtin.uri";

/// The request: `$1` creates, `$2` removes, `$3` dest, `$4` 1 to send If-Modified-Since from
/// dest; curl's config on stdin. Sections `skip` (why, when creates/removes say so), `curl`
/// (yes/no), `destkind`, then [`FETCH_FN`]'s, `tmp`, `size`.
const REQUEST: &str = r#"c=$1 r=$2 d=$3 ims=$4
if [ -n "$c" ] && [ -e "$c" ]; then printf '%s skip\ncreates\n' "$M"; exit 0; fi
if [ -n "$r" ] && [ ! -e "$r" ]; then printf '%s skip\nremoves\n' "$M"; exit 0; fi
command -v curl >/dev/null 2>&1 || { printf '%s curl\nno\n' "$M"; exit 0; }
printf '%s destkind\n' "$M"
if [ -z "$d" ]; then echo none; elif [ -d "$d" ]; then echo dir; elif [ -f "$d" ]; then echo file; else echo none; fi
tmp=$(mktemp "${TMPDIR:-/tmp}/tmpXXXXXXXX") || exit 90
{ cat; if [ "$ims" = 1 ] && [ -f "$d" ]; then printf 'header = "If-Modified-Since: %s"\n' "$(LC_ALL=C date -u -r "$d" '+%a, %d %b %Y %H:%M:%S GMT')"; fi; } | fetch "$tmp"
printf '%s tmp\n%s\n' "$M" "$tmp"
"#;

/// After the response: `$1` tmp, `$2` 1 to print the content (base64), `$3` dest ('' for none).
/// Sections `content`, `dest` (written/same/ERROR), `pathinfo`. The temporary file is removed.
const FINISH: &str = r#"tmp=$1 show=$2 d=$3
if [ "$show" = 1 ]; then printf '%s content\n' "$M"; base64 -w0 < "$tmp"; echo; fi
if [ -n "$d" ]; then
  printf '%s dest\n' "$M"
  if [ -e "$d" ] && [ "$(sha1sum < "$d")" = "$(sha1sum < "$tmp")" ]; then echo same
  else
    n="$(dirname -- "$d")/.talon-uri.$$"
    if cp -- "$tmp" "$n" 2>/dev/null; then
      if [ -e "$d" ]; then chmod --reference="$d" "$n"; chown --reference="$d" "$n" 2>/dev/null
      else chmod "$(printf '%o' $((0666 & ~$(umask))))" "$n"; fi
      mv -f -- "$n" "$d" && echo written || { rm -f "$n"; echo "cannot move into $d"; }
    else rm -f "$n"; echo "cannot write in $(dirname -- "$d")"; fi
  fi
  pathinfo "$d"
fi
rm -f -- "$tmp"
"#;

/// Runs `uri`. Errors: [`ModuleError::BadArgs`] for arguments the module does not take;
/// transport errors. What the module fails on is a failed outcome with its message.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    if ctx.check {
        let mut o = ModuleOutcome::ok();
        o.skipped = true;
        o.msg = Some("This action (uri) does not support check mode.".into());
        return Ok(o);
    }
    let url = a.req_str("url")?;
    let method = a.str("method")?.unwrap_or_else(|| "GET".into()).to_uppercase();
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
        return Ok(ModuleOutcome::failed(
            "Parameter 'method' needs to be a single word in uppercase, like GET or POST.",
        ));
    }
    let format = a
        .str("body_format")?
        .unwrap_or_else(|| "raw".into())
        .to_lowercase();
    if format == "form-multipart" {
        return fallback::python_path(FQCN, "uri", args, ctx, "body_format form-multipart").await;
    }
    let src = a.str("src")?;
    if src.is_some() && !a.bool("remote_src", false)? {
        return Err(a.bad(
            "src on the controller is not uploaded by talon's uri: copy it to the host first and set remote_src: true",
        ));
    }
    let mut request = Request::from_args(&a, &url, &method, 30)?;
    let has_type = request
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let body = match (a.value("body"), format.as_str()) {
        (None | Some(Value::Null), _) => None,
        (Some(Value::String(s)), _) => Some(s.clone()),
        (Some(v), "json") => Some(crate::template::python_json(v)),
        (Some(v), "form-urlencoded") => Some(form_urlencoded(v)),
        (Some(v), _) => Some(crate::vars::as_string(v)),
    };
    match format.as_str() {
        "json" if !has_type => request
            .headers
            .push(("Content-Type".into(), "application/json".into())),
        "form-urlencoded" if !has_type => request
            .headers
            .push(("Content-Type".into(), "application/x-www-form-urlencoded".into())),
        _ => {}
    }
    let follow = match a.str("follow_redirects")?.as_deref().unwrap_or("safe") {
        "safe" => matches!(method.as_str(), "GET" | "HEAD"),
        "none" | "no" => false,
        _ => true,
    };
    let force = a.bool("force", false)?;
    let status_codes: Vec<i64> = match a.value("status_code") {
        None | Some(Value::Null) => vec![200],
        Some(Value::Array(items)) => items
            .iter()
            .map(status_of)
            .collect::<Result<_, _>>()
            .map_err(|m| a.bad(m))?,
        Some(v) => vec![status_of(v).map_err(|m| a.bad(m))?],
    };
    request.follow = follow;
    request.body = body;
    request.body_file = src;
    request.unix_socket = a.str("unix_socket")?;
    request.ca_path = a.str("ca_path")?;
    let dest = a.str("dest")?;
    let m = sysutil::marker();
    let text = format!("M={m}\n{FETCH_FN}{}{REQUEST}", sysutil::PATH_INFO_FN);
    let argv = [
        a.str("creates")?.unwrap_or_default(),
        a.str("removes")?.unwrap_or_default(),
        dest.clone().unwrap_or_default(),
        if force { "0" } else { "1" }.to_string(),
    ];
    let started = std::time::Instant::now();
    let out = sysutil::run_script(ctx, &text, &argv, Some(request.config().into_bytes())).await?;
    let elapsed = started.elapsed().as_secs();
    let stdout = out.stdout_str();
    let secs = sysutil::sections(&stdout, &m);
    let sec = |n: &str| sysutil::section(&secs, n).map(|s| s.trim().to_string());
    match sec("skip").as_deref() {
        // exit_json(stdout=...): ansible-core adds stdout_lines.
        Some("creates") => {
            let c = a.str("creates")?.unwrap_or_default();
            return Ok(sysutil::with_output(
                ModuleOutcome::ok(),
                &format!("skipped, since '{c}' exists"),
                "",
            ));
        }
        Some(_) => {
            let r = a.str("removes")?.unwrap_or_default();
            let text = format!("skipped, since '{r}' does not exist");
            return Ok(sysutil::with_output(ModuleOutcome::ok(), &text, ""));
        }
        None => {}
    }
    if sec("curl").as_deref() == Some("no") {
        return fallback::python_path(FQCN, "uri", args, ctx, "the host has no curl").await;
    }
    let Some(resp) = curl::parse(&secs, &url) else {
        return Err(sysutil::bad(
            "uri",
            format!(
                "the request script failed on the host ({}): {}",
                out.status,
                out.stderr_str().trim()
            ),
        ));
    };
    let tmp = sec("tmp").unwrap_or_default();
    let masked = curl::mask_url(&url);
    let answered = resp.status != -1;
    let ok_status = (200..300).contains(&resp.status);
    let (ctype, charset) = content_type(resp.headers.get("content-type").map(String::as_str), answered);
    let sub = ctype.split_once('/').map_or("", |(_, s)| s);
    let sub = sub
        .split_once('+')
        .map_or(sub, |(_, suffix)| suffix)
        .to_lowercase();
    let maybe_json = sub == "json" || sub == "javascript";
    let return_content = a.bool("return_content", false)?;
    let wanted = status_codes.contains(&resp.status);
    let show = maybe_json || return_content || !wanted;
    // What dest becomes: a folder names the file from the response.
    let dest_path = dest.as_ref().filter(|_| answered).map(|d| {
        if sec("destkind").as_deref() == Some("dir") {
            let name = curl::disposition_filename(&resp.headers)
                .or_else(|| response_filename(&resp.url))
                .unwrap_or_else(|| "index.html".to_string());
            format!("{}/{name}", d.trim_end_matches('/'))
        } else {
            d.clone()
        }
    });
    let write = dest_path.clone().filter(|_| wanted && resp.status != 304);
    let text = format!("M={m}\n{}{FINISH}", sysutil::PATH_INFO_FN);
    let argv = [
        tmp,
        if show && answered { "1" } else { "0" }.to_string(),
        write.clone().unwrap_or_default(),
    ];
    let out = sysutil::run_script(ctx, &text, &argv, None).await?;
    let stdout = out.stdout_str();
    let secs = sysutil::sections(&stdout, &m);
    let content = sysutil::section(&secs, "content").map(|b64| {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .unwrap_or_default();
        decode(&bytes, &charset)
    });
    // The result: fetch_url's info (headers, then url, status, msg), as the module updates it.
    let mut r = Map::new();
    r.insert("redirected".into(), Value::Bool(resp.url != masked));
    for (k, v) in &resp.headers {
        r.insert(k.replace('-', "_"), Value::String(v.clone()));
    }
    if ok_status {
        let cookies: Map<String, Value> = resp
            .cookies
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let string: Vec<String> = resp.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        r.insert("cookies_string".into(), Value::String(string.join("; ")));
        r.insert("cookies".into(), Value::Object(cookies));
        r.insert("url".into(), Value::String(resp.url.clone()));
    } else {
        // An HTTPError or no answer: fetch_url's info keeps the URL asked for.
        r.insert("url".into(), Value::String(masked.clone()));
    }
    r.insert("msg".into(), Value::String(resp.msg.clone()));
    r.insert("status".into(), Value::from(resp.status));
    r.insert("elapsed".into(), Value::from(elapsed));
    let mut changed = false;
    let mut info = Vec::new();
    if let Some(path) = &dest_path {
        if let Some(w) = &write {
            match sysutil::section(&secs, "dest").map(str::trim) {
                Some("written") | Some("same") => {
                    let shown = sysutil::path_info_of(sysutil::section(&secs, "pathinfo").unwrap_or(""));
                    let (_, after) = super::attributes(&FileArgs::parse(&a)?, w, ctx, shown, "uri").await?;
                    changed = true;
                    info = after;
                }
                Some(why) => {
                    let mut o = ModuleOutcome::failed(format!("failed to copy to {w}: {why}"));
                    o.result = r.into_iter().collect();
                    return Ok(o);
                }
                None => {}
            }
        }
        r.insert("path".into(), Value::String(path.clone()));
    }
    if let Some(loc) = r.get("location").and_then(Value::as_str) {
        let joined = url_join(&masked, loc);
        r.insert("location".into(), Value::String(joined));
    }
    if maybe_json
        && let Some(c) = &content
        && let Ok(js) = serde_json::from_str::<Value>(c)
    {
        r.insert("json".into(), js);
    }
    if !wanted {
        let msg = format!(
            "Status code was {} and not {}: {}",
            resp.status,
            py_int_list(&status_codes),
            resp.msg
        );
        r.insert("msg".into(), Value::String(msg));
    }
    if return_content {
        r.insert("content".into(), content.map_or(Value::Null, Value::String));
    }
    let mut o = ModuleOutcome::changed(changed);
    o.failed = !wanted;
    o.msg = r.get("msg").and_then(Value::as_str).map(str::to_string);
    o.result = r.into_iter().collect();
    Ok(sysutil::with_path_info(o, info))
}

/// The content as text in its charset (Latin-1 byte for byte, anything else as UTF-8 with
/// undecodable bytes replaced).
fn decode(bytes: &[u8], charset: &str) -> String {
    match charset.to_ascii_lowercase().as_str() {
        "iso-8859-1" | "latin-1" | "latin1" => bytes.iter().map(|b| char::from(*b)).collect(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// One `status_code` entry as the module's `int()`.
fn status_of(v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| format!("status_code {n} is not an integer")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("status_code '{s}' is not an integer")),
        other => Err(format!("status_code {other} is not an integer")),
    }
}

/// A list of integers as Python prints it (`[200, 201]`).
fn py_int_list(codes: &[i64]) -> String {
    let items: Vec<String> = codes.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// The content type and charset as `parse_content_type` reads them: `text/plain` when the
/// response has no Content-Type (email.message's default), `application/octet-stream` when
/// there was no response; the charset `utf-8` unless given.
fn content_type(header: Option<&str>, answered: bool) -> (String, String) {
    let Some(h) = header.filter(|_| answered) else {
        let t = if answered {
            "text/plain"
        } else {
            "application/octet-stream"
        };
        return (t.to_string(), "utf-8".to_string());
    };
    let mut parts = h.split(';');
    let t = parts.next().unwrap_or("").trim().to_lowercase();
    let t = if t.matches('/').count() == 1 {
        t
    } else {
        "text/plain".to_string()
    };
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| "utf-8".to_string());
    (t, charset)
}

/// `get_response_filename` without Content-Disposition: the last part of the URL's path (after
/// trailing slashes), percent-decoded; `None` when empty.
fn response_filename(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("").trim_end_matches('/');
    let name = path.rsplit('/').next().unwrap_or("");
    (!name.is_empty()).then(|| percent_decode(name))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Python's `urljoin` for a Location value: absolute URLs as they are, `/path` on the base's
/// scheme and host, other relative paths beside the base's last folder.
fn url_join(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
    let host_end = rest.find('/').unwrap_or(rest.len());
    let host = &rest[..host_end];
    if let Some(p) = loc.strip_prefix("//") {
        return format!("{scheme}://{p}");
    }
    if loc.starts_with('/') {
        return format!("{scheme}://{host}{loc}");
    }
    let path = rest[host_end..].split(['?', '#']).next().unwrap_or("");
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{scheme}://{host}{dir}/{loc}")
}

/// Python's `urlencode(pairs, doseq=True)` of a mapping or a list of pairs (the module's
/// `form_urlencoded`): a list value gives one pair per item, `None` values are dropped.
pub fn form_urlencoded(body: &Value) -> String {
    let pairs: Vec<(String, &Value)> = match body {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|i| match i {
                Value::Array(kv) if kv.len() == 2 => Some((crate::vars::as_string(&kv[0]), &kv[1])),
                _ => None,
            })
            .collect(),
        other => return crate::vars::as_string(other),
    };
    let mut out = Vec::new();
    for (k, v) in pairs {
        let values: Vec<&Value> = match v {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for v in values.into_iter().filter(|v| !v.is_null()) {
            out.push(format!("{}={}", quote_plus(&k), quote_plus(&py_text(v))));
        }
    }
    out.join("&")
}

/// A value as Python's `to_text` writes it (`True`, `1.5`, strings as they are).
fn py_text(v: &Value) -> String {
    match v {
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => crate::vars::as_string(other),
    }
}

/// Python's `quote_plus`: letters, digits and `_.-~` kept, space as `+`, the rest `%XX`.
fn quote_plus(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_bodies_are_encoded_as_python_urlencode() {
        assert_eq!(
            form_urlencoded(&json!({"a b": "c&d", "n": [1, 2], "t": true, "z": null})),
            "a+b=c%26d&n=1&n=2&t=True"
        );
        assert_eq!(form_urlencoded(&json!([["k", "v/w"]])), "k=v%2Fw");
    }

    #[test]
    fn locations_join_as_urljoin() {
        assert_eq!(url_join("http://h:8/a/b?x", "/c"), "http://h:8/c");
        assert_eq!(url_join("http://h/a/b", "c"), "http://h/a/c");
        assert_eq!(url_join("http://h/a/b", "https://o/x"), "https://o/x");
    }

    #[test]
    fn content_types_are_read_as_the_module() {
        assert_eq!(
            content_type(Some("application/json; charset=latin-1"), true),
            ("application/json".into(), "latin-1".into())
        );
        assert_eq!(content_type(None, true).0, "text/plain");
        assert_eq!(content_type(None, false).0, "application/octet-stream");
        assert_eq!(response_filename("http://h/a/b%20c/"), Some("b c".into()));
        assert_eq!(py_int_list(&[200, 201]), "[200, 201]");
    }
}
