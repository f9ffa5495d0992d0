//! `apt_key`: a key in apt's keyrings, matching ansible.builtin.apt_key with the host's
//! `apt-key` and `gpg`, as the module drives them: without either it fails with the "Failed to
//! find required executable" message (a Debian 12 host has apt-key but not gpg unless gnupg is
//! installed); a key's id from `file` or `data` is the first `pub`/`sub` key
//! of `gpg --with-colons` (in the best parsable locale, as the module picks it); the id is
//! checked and split as the module splits it (`short_id` the last 8 digits, `fp` the last 16,
//! `key_id` upper-cased without `0x`); the keys `apt-key adv --list-public-keys
//! --keyid-format=long` lists (not expired; short ids for an 8-digit id) decide the change;
//! `present` runs `apt-key add FILE` or `apt-key add -` with `data` on stdin, `absent` `apt-key
//! del SHORT_ID`, each checked by listing again (`after`). Results `id`, `short_id`, `fp`,
//! `key_id`, `before`, `after`; failures with the module's messages, `cmd`, `rc`, `stdout`,
//! `stderr`. Check mode stops before adding or deleting.
//!
//! Runs ansible-core's module instead (the Python path): `url` and `keyserver` (the host
//! fetches), a key file or data gpg finds
//! no key in, an id Python's `int(..., 16)` reads differently from plain hex digits, and a
//! relative `file` or `keyring` or one the module's command string would split (white space,
//! quotes, backslashes).

use serde_json::json;

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::sysutil::Ran;
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `apt_key`: `id`, `data`, `file`, `keyring`, `state`, `validate_certs` (`url` and
    /// `keyserver` run ansible-core's module).
    INFO,
    "apt_key",
    ArgSpec::new(&[
        ArgDef::str("id"),
        ArgDef::str("url"),
        ArgDef::str("data"),
        ArgDef::path("file"),
        ArgDef::path("keyring"),
        ArgDef::bool("validate_certs"),
        ArgDef::str("keyserver"),
        ArgDef::str("state").choices(&["absent", "present"]),
    ])
    .exclusive(&[&["data", "file", "keyserver", "url"]])
    .python_for(&["url", "keyserver"]),
    run
);

/// The probe's own part: the tools' paths, the locale the module parses in, and (when `$2` is
/// not empty) gpg's reading of the key file `$2` (`-`: the data on stdin).
const PROBE: &str = r#"M=$1
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
P="$PATH:/sbin:/usr/sbin:/usr/local/sbin"
printf '%s bins\n' "$M"; PATH="$P" command -v apt-key; PATH="$P" command -v gpg
l=C
if a=$(PATH="$P" locale -a 2>/dev/null); then
  for p in C.utf8 C.UTF-8 en_US.utf8 en_US.UTF-8 C POSIX; do
    printf '%s\n' "$a" | grep -qxF -- "$p" && { l=$p; break; }
  done
fi
if [ -n "$2" ] && g=$(PATH="$P" command -v gpg); then
  LANG=$l LC_ALL=$l LC_MESSAGES=$l LANGUAGE=$l run gpg "$g" --with-colons "$2"
fi
"#;

/// The module's `parse_output_for_keys`: the key of each `pub`/`sub` line without "expired"
/// (the second word's part after `/`, else the fifth `:` field), the last 8 digits when
/// `short`.
pub fn parse_keys(out: &str, short: bool) -> Vec<String> {
    let mut found = Vec::new();
    for line in out.split('\n') {
        if !(line.starts_with("pub") || line.starts_with("sub")) || line.contains("expired") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let by_words = words.get(1).and_then(|code| {
            let parts: Vec<&str> = code.split('/').collect();
            (parts.len() == 2).then(|| parts[1].to_string())
        });
        let code = by_words.or_else(|| line.split(':').nth(4).map(str::to_string));
        if let Some(c) = code {
            found.push(c);
        }
    }
    if short {
        found = found.iter().map(|k| last(k, 8).to_string()).collect();
    }
    found
}

/// The last `n` characters of `s` (all of it when shorter).
fn last(s: &str, n: usize) -> &str {
    let count = s.chars().count();
    let skip = count.saturating_sub(n);
    s.char_indices().nth(skip).map_or("", |(i, _)| &s[i..])
}

/// The module's `parse_key_id` for plain hex ids (`0x` allowed): `(short_id, fp, key_id)`;
/// `Err(true)` for an id Python's `int(id, 16)` refuses or of a bad length ("Invalid key_id"),
/// `Err(false)` for one `int` reads but that is not plain hex digits (signs, spaces,
/// underscores: the module carries them on).
pub fn parse_key_id(id: &str) -> Result<(String, String, String), bool> {
    let upper = id.to_uppercase();
    let key = upper.strip_prefix("0X").unwrap_or(&upper).to_string();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(!python_reads_hex(id));
    }
    let n = key.len();
    if n != 8 && n != 16 && n <= 16 {
        return Err(true);
    }
    let short = last(&key, 8).to_string();
    let fp = if n > 16 {
        last(&key, 16).to_string()
    } else {
        key.clone()
    };
    Ok((short, fp, key))
}

/// True when Python's `int(s, 16)` reads `s`: white space around, a sign, a `0x` prefix, hex
/// digits with single underscores between them.
fn python_reads_hex(s: &str) -> bool {
    let t = s.trim();
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .map_or(t, |r| r.strip_prefix('_').unwrap_or(r));
    !t.is_empty()
        && !t.starts_with('_')
        && !t.ends_with('_')
        && !t.contains("__")
        && t.chars().all(|c| c.is_ascii_hexdigit() || c == '_')
}

/// The command `name` of an apt_key script's output. Errors: [`ModuleError::BadArgs`] when
/// the script stopped before it (the host's shell failed).
fn ran(secs: &[(&str, &str)], name: &str, host: &str) -> Result<Ran, ModuleError> {
    sysutil::ran_in(secs, name)
        .ok_or_else(|| sysutil::bad("apt_key", format!("{name} did not run on {host}")))
}

/// `o` with a command's `stdout` and `stderr` (and the `_lines` ansible-core's action adds).
fn with_streams(o: ModuleOutcome, r: &Ran) -> ModuleOutcome {
    o.with("stdout", r.out.clone())
        .with("stdout_lines", sysutil::splitlines(&r.out))
        .with("stderr", r.err.clone())
        .with("stderr_lines", sysutil::splitlines(&r.err))
}

/// A failed outcome with the module's `cmd`, `rc`, `stdout`, `stderr`.
fn failed_run(msg: String, cmd: &str, r: &Ran) -> ModuleOutcome {
    with_streams(ModuleOutcome::failed(msg).with("cmd", cmd).with("rc", r.rc), r)
}

/// The keys the `list` command of a script's output printed (the module's `all_keys`), or its
/// failure ("Unable to list public keys").
fn listed(
    secs: &[(&str, &str)],
    host: &str,
    cmd: &str,
    short: bool,
) -> Result<Result<Vec<String>, ModuleOutcome>, ModuleError> {
    let list = ran(secs, "list", host)?;
    if list.rc != 0 {
        return Ok(Err(failed_run("Unable to list public keys".into(), cmd, &list)));
    }
    Ok(Ok(parse_keys(&list.out, short)))
}

/// True when the module's command string (split by `shlex`) would not keep `s` one word.
fn splits(s: &str) -> bool {
    s.chars().any(|c| c.is_whitespace() || "'\"\\".contains(c))
}

/// Runs `apt_key` (see the module doc).
///
/// Errors: [`ModuleError::BadArgs`] for arguments that do not fit, or when a case handed to
/// ansible-core's module cannot take the Python path; [`ModuleError::Transport`] when the host
/// cannot be asked.
pub async fn run(args: &Vars, ctx: &ModuleContext<'_>) -> Result<ModuleOutcome, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let mut id = a.str("id")?.filter(|s| !s.is_empty());
    let data = a.str("data")?.filter(|s| !s.is_empty());
    let file = a.str("file")?.filter(|s| !s.is_empty());
    let keyring = a.str("keyring")?;
    let state = a.choice("state")?.unwrap_or_else(|| "present".into());
    let odd = |p: &Option<String>| p.as_deref().is_some_and(|p| splits(p) || !p.starts_with('/'));
    if odd(&file) || odd(&keyring) {
        return python(
            args,
            ctx,
            "a relative file or keyring, or one the module's command line would split",
        )
        .await;
    }

    // The binaries, then the id from the file or data.
    let m = sysutil::marker();
    let source = match (&id, &file, &data) {
        (None, Some(f), _) => f.clone(),
        (None, None, Some(_)) => "-".into(),
        _ => String::new(),
    };
    let stdin = (source == "-").then(|| data.clone().unwrap_or_default().into_bytes());
    let script = format!(
        "{}{PROBE}{}",
        sysutil::RUN_FN,
        sysutil::tools_probe(&["apt-key", "gpg"])
    );
    let out = sysutil::run_script(ctx, &script, &[m.clone(), source.clone()], stdin).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    // get_bin_path(required=True) fails the module for either.
    for tool in ["apt-key", "gpg"] {
        if let Some(msg) = sysutil::missing_tool(&secs, tool) {
            return Ok(ModuleOutcome::failed(msg));
        }
    }
    let apt_key = sysutil::section(&secs, "bins")
        .and_then(|b| b.lines().next())
        .unwrap_or("apt-key")
        .to_string();
    if !source.is_empty() {
        let g = ran(&secs, "gpg", ctx.host)?;
        if g.rc != 0 {
            let what = if data.is_some() {
                "inline data".to_string()
            } else {
                source.clone()
            };
            let o = ModuleOutcome::failed(format!("Unable to extract key from '{what}'"));
            return Ok(with_streams(o, &g));
        }
        match parse_keys(&g.out, false).into_iter().next() {
            Some(k) => id = Some(k),
            None => return python(args, ctx, "gpg found no key").await,
        }
    }
    let Some(given) = id else {
        return python(args, ctx, "no id, file or data").await;
    };
    let (short_id, fp, key_id) = match parse_key_id(&given) {
        Ok(p) => p,
        Err(true) => return Ok(ModuleOutcome::failed("Invalid key_id").with("id", given)),
        Err(false) => return python(args, ctx, "an id that is not plain hexadecimal").await,
    };
    let short = key_id.len() == 8;
    let mut result = ModuleOutcome::ok()
        .with("id", given.clone())
        .with("short_id", short_id.clone())
        .with("fp", fp.clone())
        .with("key_id", key_id.clone());

    let ring: Vec<String> = keyring
        .iter()
        .flat_map(|k| ["--keyring".to_string(), k.clone()])
        .collect();
    let mut list_argv = vec![apt_key.clone()];
    list_argv.extend(ring.iter().cloned());
    list_argv.extend(["adv", "--list-public-keys", "--keyid-format=long"].map(String::from));
    let list_cmd = list_argv.join(" ");
    let list_sh = format!("run list {}\n", crate::transport::quote::join(&list_argv));
    let head = format!(
        "{}M=$1\nt=$(mktemp -d) || exit 1\ntrap 'rm -rf \"$t\"' EXIT\n",
        sysutil::RUN_FN
    );
    let out = sysutil::run_script(ctx, &format!("{head}{list_sh}"), std::slice::from_ref(&m), None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let before = match listed(&secs, ctx.host, &list_cmd, short)? {
        Ok(keys) => keys,
        Err(failure) => return Ok(failure),
    };
    result = result.with("before", json!(before));
    let wanted = if short { &short_id } else { &fp };
    let (change, present) = match state.as_str() {
        "present" => (!before.contains(wanted), true),
        _ => (before.contains(&fp), false),
    };
    if !change {
        return Ok(result);
    }
    result.changed = true;
    if ctx.check {
        return Ok(result);
    }
    let mut argv = vec![apt_key];
    argv.extend(ring.iter().cloned());
    let (stdin, fail_msg) = if !present {
        argv.extend(["del".to_string(), short_id.clone()]);
        (None, format!("Unable to remove a key with id {short_id}"))
    } else if let Some(f) = &file {
        argv.extend(["add".to_string(), f.clone()]);
        (None, format!("Unable to add a key from file {f}"))
    } else if let Some(d) = &data {
        argv.extend(["add".to_string(), "-".to_string()]);
        (
            Some(d.clone().into_bytes()),
            "Unable to add a key from binary data".to_string(),
        )
    } else {
        return Ok(ModuleOutcome::failed("No key to add ... how did i get here?!?!"));
    };
    let script = format!(
        "{head}run change {} || exit 0\n{list_sh}",
        crate::transport::quote::join(&argv)
    );
    let out = sysutil::run_script(ctx, &script, std::slice::from_ref(&m), stdin).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &m);
    let done = ran(&secs, "change", ctx.host)?;
    if done.rc != 0 {
        let mut o = failed_run(fail_msg, &argv.join(" "), &done);
        if !present {
            o = o.with("key_id", short_id);
        } else if let Some(f) = &file {
            o = o.with("keyfile", f.clone());
        }
        return Ok(o);
    }
    let after = match listed(&secs, ctx.host, &list_cmd, short)? {
        Ok(keys) => keys,
        Err(failure) => return Ok(failure),
    };
    let failed = if present {
        !after.contains(wanted)
    } else {
        after.contains(&fp)
    };
    result = result.with("after", json!(after));
    if failed {
        let what = if present {
            "failed to add the key"
        } else {
            "the key was not removed"
        };
        // fail_json with the result so far: still `changed`.
        result.failed = true;
        result.msg = Some(format!(
            "apt-key did not return an error, but {what} (check that the id is correct and *not* a subkey)"
        ));
    }
    Ok(result)
}

/// Hands the task to ansible-core's apt_key (the Python path) because of `why`.
async fn python(args: &Vars, ctx: &ModuleContext<'_>, why: &str) -> Result<ModuleOutcome, ModuleError> {
    crate::modules::fallback::python_path("ansible.builtin.apt_key", "apt_key", args, ctx, why).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_listings_and_colons_as_the_module_reads_them() {
        let list = "pub   rsa4096/B7C5D7D6350947F8 2023-01-21 [SC] [expires: 2031-01-19]\n\
                    \x20     B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8\n\
                    uid   [ unknown] Debian\n\
                    sub   rsa4096/6ED0E7B82643E131 2023-01-21 [S]\n\
                    pub   rsa2048/0123456789ABCDEF 2010-01-01 [SC] [expired: 2012-01-01]\n";
        assert_eq!(parse_keys(list, false), ["B7C5D7D6350947F8", "6ED0E7B82643E131"]);
        assert_eq!(parse_keys(list, true), ["350947F8", "2643E131"]);
        assert_eq!(
            parse_keys(
                "pub:u:255:22:9CC42D39BE291DF3:1796613719:::u:\nfpr:::::::::AB:\n",
                false
            ),
            ["9CC42D39BE291DF3"]
        );
    }

    #[test]
    fn ids_split_as_the_module_splits_them() {
        assert_eq!(
            parse_key_id("0xbe291df3").unwrap(),
            ("BE291DF3".into(), "BE291DF3".into(), "BE291DF3".into())
        );
        let long = "AB3DC5533CF838E6A50820E99CC42D39BE291DF3";
        assert_eq!(
            parse_key_id(long).unwrap(),
            ("BE291DF3".into(), "9CC42D39BE291DF3".into(), long.into())
        );
        assert_eq!(parse_key_id("ABCDE"), Err(true));
        assert_eq!(parse_key_id("0xzz"), Err(true));
        assert_eq!(parse_key_id("+ABCDEF01"), Err(false));
        assert_eq!(parse_key_id("ABCD__EF01"), Err(true));
        assert_eq!(parse_key_id(" ABCD_EF01 "), Err(false));
    }
}
