//! `known_hosts`: add or remove a host's key in a known_hosts file, matching
//! ansible.builtin.known_hosts. Like the module, it asks the host's `ssh-keygen`: `-F NAME` on
//! the supplied key (it must name the host: "Host parameter does not match hashed host field in
//! supplied key") and on the file (which lines hold the host, hashed entries included); `-H` on
//! a copy of the key for `hash_host`; `-R NAME` to remove every key of a host when no key is
//! given. The key is compared as the module compares it (host, type and key, `@cert-authority`
//! and `@revoked` markers kept; an already hashed host is not re-hashed); a key of the same type
//! that differs replaces the line ssh-keygen found. The file is rewritten atomically (a new file
//! gets 0644 less the umask, as `atomic_move` makes it; an existing one keeps its mode and
//! owner). Results: the arguments (`name`, `key`, `path` expanded, `hash_host`, `state`),
//! `changed` and the module's `diff` (always present). Check mode predicts without writing.
//! One round trip to read, one to write.

use serde_json::{Value, json};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `known_hosts` arguments (aliases included).
    INFO,
    "known_hosts",
    ArgSpec::new(&[
        ArgDef::str("name").aliases(&["host"]).required(),
        ArgDef::str("key"),
        ArgDef::path("path"),
        ArgDef::bool("hash_host"),
        ArgDef::str("state").choices(&["absent", "present"]),
    ]),
    plan = plan,
    apply = apply
);

/// What the write does: `ssh-keygen -R` first (a whole host removed), then the new content.
pub struct Write {
    /// The result once written (check mode reports only `changed` and `diff`, as the module).
    result: ModuleOutcome,
    path: String,
    remove_host: Option<String>,
    content: Option<String>,
}

/// The read: tools, the expanded path, the key checked (and hashed), the file's lines for the
/// host, and the file itself.
const READ: &str = r#"M=$1; name=$2; path=$3; key=$4; hash=$5
PATH="$PATH:/sbin:/usr/sbin:/usr/local/sbin"
printf '%s path\n%s\n' "$M" "$PATH"
printf '%s sbin\n' "$M"; for d in /sbin /usr/sbin /usr/local/sbin; do [ -e "$d" ] && printf '%s\n' "$d"; done
printf '%s tools\n' "$M"; command -v ssh-keygen >/dev/null 2>&1 && echo ssh-keygen
command -v ssh-keygen >/dev/null 2>&1 || exit 0
[ -n "$path" ] || path="$HOME/.ssh/known_hosts"
printf '%s file\n%s\n' "$M" "$path"
t=$(mktemp) || exit 1
trap 'rm -f "$t" "$t.old"' EXIT
if [ -n "$key" ]; then
  if [ "$hash" = 1 ]; then
    printf '%s\n' "$key" > "$t"; ssh-keygen -H -f "$t" >/dev/null 2>&1
    printf '%s hashed\n' "$M"; cat "$t"
  fi
  printf '%s\n' "$key" > "$t"
  printf '%s sane\n' "$M"; ssh-keygen -F "$name" -f "$t" 2>/dev/null
fi
if [ -e "$path" ]; then
  out=$(ssh-keygen -F "$name" -f "$path" 2>"$t"); rc=$?
  printf '%s found %s\n%s\n' "$M" "$rc" "$out"
  printf '%s found_err\n' "$M"; cat "$t"
  if [ -r "$path" ]; then printf '%s content\n' "$M"; cat "$path"; fi
fi
pathinfo "$path"
"#;

/// The write: `ssh-keygen -R` when asked, then the new content from stdin into a temp file
/// beside the file, moved over it (keeping an existing file's mode and owner).
const WRITE: &str = r#"path=$1; remove=$2; write=$3; M=$4
if [ -n "$remove" ]; then ssh-keygen -R "$remove" -f "$path" >/dev/null 2>&1 || exit 1; fi
[ "$write" = 1 ] || { cat >/dev/null; pathinfo "$path"; exit 0; }
dir=$(dirname -- "$path")
t=$(mktemp "$dir/.known_hostsXXXXXX") || { cat >/dev/null; echo "Failed to write to file '$path'." >&2; exit 1; }
cat > "$t" || { rm -f "$t"; exit 1; }
if [ -e "$path" ]; then
  chmod --reference="$path" "$t" && chown --reference="$path" "$t" 2>/dev/null
else
  chmod "$(printf '%o' $((0666 & ~$(umask))))" "$t"
fi
mv -f -- "$t" "$path" || exit 1
pathinfo "$path"
"#;

/// A known_hosts line (or a supplied key) as the module normalizes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyLine {
    options: Option<String>,
    host: String,
    kind: String,
    key: String,
}

impl KeyLine {
    /// The fields of `line`; `None` when it has too few (the module would crash on it).
    fn parse(line: &str) -> Option<KeyLine> {
        let k: Vec<&str> = line.split_whitespace().collect();
        let marker = k.first()?.starts_with('@');
        let (options, rest) = if marker {
            (Some(k[0].to_string()), &k[1..])
        } else {
            (None, &k[..])
        };
        Some(KeyLine {
            options,
            host: rest.first()?.to_string(),
            kind: rest.get(1)?.to_string(),
            key: rest.get(2)?.to_string(),
        })
    }
}

/// Decides as the module's `search_for_host_key`: `(found, replace_or_add, found_line)`.
fn search(found_output: &str, key: Option<&str>) -> Result<(bool, bool, Option<usize>), String> {
    let Some(key) = key else {
        return Ok((true, false, None));
    };
    let Some(mut new) = KeyLine::parse(key) else {
        return Err(format!(
            "the key '{key}' is not a known_hosts line (host, type, key)"
        ));
    };
    let mut found_line = None;
    for l in found_output.split('\n') {
        if l.is_empty() {
            continue;
        }
        if l.starts_with('#') {
            let Some(n) = l
                .split("found: line ")
                .nth(1)
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|d| d.parse().ok())
            else {
                return Err(format!(
                    "failed to parse output of ssh-keygen for line number: '{l}'"
                ));
            };
            found_line = Some(n);
            continue;
        }
        let Some(found) = KeyLine::parse(l) else {
            continue;
        };
        let marked = found
            .options
            .as_deref()
            .is_some_and(|o| o.starts_with("@cert-authority") || o.starts_with("@revoke"));
        if marked {
            if new == found {
                return Ok((true, false, found_line));
            }
            continue;
        }
        if new.host.starts_with("|1|") && found.host.starts_with("|1|") {
            new.host = found.host.clone();
        }
        if new == found {
            return Ok((true, false, found_line));
        }
        if new.kind == found.kind {
            return Ok((true, true, found_line));
        }
    }
    Ok((true, true, None))
}

/// The file's new content, as the module's write and `compute_diff` make it.
fn rewrite(
    before: &str,
    found_line: Option<usize>,
    replace_or_add: bool,
    present: bool,
    key: Option<&str>,
) -> String {
    let mut lines: Vec<&str> = before.split_inclusive('\n').collect();
    if (replace_or_add || !present)
        && let Some(n) = found_line
        && (1..=lines.len()).contains(&n)
    {
        lines.remove(n - 1);
    }
    let mut out: String = lines.concat();
    if present
        && (replace_or_add || found_line.is_none())
        && let Some(k) = key
    {
        out.push_str(k);
    }
    out
}

/// Reads the file and decides. Errors: [`ModuleError::Transport`].
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<Write>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let given_name = a.req_str("name")?;
    let name = given_name.to_lowercase();
    let state = a.choice("state")?.unwrap_or_else(|| "present".into());
    let hash_host = a.bool("hash_host", false)?;
    let given_key = a.str("key")?.filter(|k| !k.is_empty());
    let present = state == "present";
    let marker = sysutil::marker();
    let script_args = [
        marker.clone(),
        name.clone(),
        a.str("path")?.unwrap_or_default(),
        given_key.clone().unwrap_or_default(),
        if hash_host { "1" } else { "0" }.to_string(),
    ];
    let script = format!("{}{READ}", sysutil::PATH_INFO_FN);
    let out = sysutil::run_script(ctx, &script, &script_args, None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &marker);
    let mut result = ModuleOutcome::ok()
        .with("name", given_name)
        .with("key", given_key.clone().map_or(Value::Null, Value::String))
        .with("hash_host", hash_host)
        .with("state", state.clone());
    if let Some(m) = sysutil::missing_tool(&secs, "ssh-keygen") {
        return Ok(Plan::Done(ModuleOutcome::failed(m)));
    }
    let path = sysutil::section(&secs, "file")
        .unwrap_or_default()
        .trim_end_matches('\n')
        .to_string();
    result = result.with("path", path.clone());
    if given_key.is_none() && present {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "No key specified when adding a host",
        )));
    }
    // The key as written to the file: hashed when asked (the module hashes it before checking).
    let key = match (&given_key, hash_host) {
        (Some(_), true) => {
            let hashed = sysutil::section(&secs, "hashed")
                .unwrap_or_default()
                .trim()
                .to_string();
            Some(format!("{hashed}\n"))
        }
        (Some(k), false) if !k.ends_with('\n') => Some(format!("{k}\n")),
        (Some(k), false) => Some(k.clone()),
        (None, _) => None,
    };
    if key.is_some() {
        if name.contains(',') && regex_like_comma(&name) {
            return Ok(Plan::Done(ModuleOutcome::failed(
                "Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file.",
            )));
        }
        if sysutil::section(&secs, "sane").unwrap_or_default().is_empty() {
            return Ok(Plan::Done(ModuleOutcome::failed(
                "Host parameter does not match hashed host field in supplied key",
            )));
        }
    }
    let found_sec = secs.iter().find(|(n, _)| n.starts_with("found "));
    let (found, replace_or_add, found_line) = match found_sec {
        None => (false, false, None),
        Some((n, body)) => {
            let rc: i64 = n.trim_start_matches("found ").parse().unwrap_or(-1);
            let stdout = body.strip_suffix('\n').unwrap_or(body);
            let stderr = sysutil::section(&secs, "found_err").unwrap_or_default();
            if stdout.is_empty() && stderr.is_empty() && (rc == 0 || rc == 1) {
                (false, false, None)
            } else if rc != 0 {
                return Ok(Plan::Done(ModuleOutcome::failed(format!(
                    "ssh-keygen failed (rc={rc}, stdout='{stdout}',stderr='{stderr}')"
                ))));
            } else {
                match search(stdout, key.as_deref()) {
                    Ok(r) => r,
                    Err(m) => return Ok(Plan::Done(ModuleOutcome::failed(m))),
                }
            }
        }
    };
    let before = sysutil::section(&secs, "content");
    let before_text = before.unwrap_or_default();
    let after = rewrite(before_text, found_line, replace_or_add, present, key.as_deref());
    let diff = json!({
        "before_header": if found_sec.is_some() { path.as_str() } else { "/dev/null" },
        "after_header": path,
        "before": before_text,
        "after": after,
    });
    let check_result = ModuleOutcome::changed(true).with("diff", diff.clone());
    result = result.with("diff", diff);
    let read_info = sysutil::path_info_of(sysutil::section(&secs, "pathinfo").unwrap_or_default());
    if !present && found_line.is_none() && key.is_some() {
        return Ok(Plan::Done(sysutil::with_path_info(result, read_info)));
    }
    let remove_host = (found && key.is_none() && !present).then(|| name.clone());
    let write = replace_or_add || found != present;
    if remove_host.is_none() && !write {
        return Ok(Plan::Done(sysutil::with_path_info(result, read_info)));
    }
    // Without a key, ssh-keygen -R removes the host's lines and the module copies the rest.
    let content = write.then(|| if key.is_none() { None } else { Some(after) });
    result.changed = true;
    Ok(Plan::Change(
        check_result,
        Write {
            result,
            path,
            remove_host,
            content: content.flatten(),
        },
    ))
}

/// ansible-core's check for a list of names: a comma after a non-space run.
fn regex_like_comma(name: &str) -> bool {
    name.split(',')
        .next()
        .is_some_and(|first| !first.trim().is_empty())
}

/// Writes the file. Errors: [`ModuleError::Transport`].
pub async fn apply(
    w: Write,
    _check: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let write = if w.content.is_some() { "1" } else { "0" };
    let marker = sysutil::marker();
    let args = [
        w.path.clone(),
        w.remove_host.unwrap_or_default(),
        write.to_string(),
        marker.clone(),
    ];
    let script = format!("{}{WRITE}", sysutil::PATH_INFO_FN);
    let out = sysutil::run_script(
        ctx,
        &script,
        &args,
        Some(w.content.unwrap_or_default().into_bytes()),
    )
    .await?;
    if !out.status.success() {
        let err = out.stderr_str();
        let msg = if err.trim().is_empty() {
            format!("Failed to write to file '{}'.", w.path)
        } else {
            err.trim().to_string()
        };
        return Ok(ModuleOutcome::failed(msg));
    }
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &marker);
    let info = sysutil::path_info_of(sysutil::section(&secs, "pathinfo").unwrap_or_default());
    Ok(sysutil::with_path_info(w.result, info))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const K1: &str = "example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne";
    const K2: &str = "example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITwo";

    #[test]
    fn keys_compare_as_the_module_compares_them() {
        let out = format!("# Host example.org found: line 2 \n{K1}\n");
        assert_eq!(search(&out, Some(K1)).unwrap(), (true, false, Some(2)));
        assert_eq!(search(&out, Some(K2)).unwrap(), (true, true, Some(2)));
        let rsa = "example.org ssh-rsa AAAAB3";
        assert_eq!(search(&out, Some(rsa)).unwrap(), (true, true, None));
        assert_eq!(search(&out, None).unwrap(), (true, false, None));
        // A hashed entry in the file matches a hashed key of the same type and key.
        let hashed =
            "# Host example.org found: line 1 \n|1|abc=|def= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne\n";
        let mine = "|1|xyz=|uvw= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne";
        assert_eq!(search(hashed, Some(mine)).unwrap(), (true, false, Some(1)));
    }

    #[test]
    fn the_file_is_rewritten_as_the_module_writes_it() {
        let before = format!("a.org ssh-rsa X\n{K1}\n");
        assert_eq!(
            rewrite(&before, Some(2), true, true, Some(&format!("{K2}\n"))),
            format!("a.org ssh-rsa X\n{K2}\n")
        );
        assert_eq!(
            rewrite(&before, Some(2), false, false, Some(K1)),
            "a.org ssh-rsa X\n"
        );
        assert_eq!(rewrite("", None, false, true, Some("k\n")), "k\n");
    }
}
