//! Lookups that read files or run commands on the controller: `file`, `template`, `pipe`,
//! `lines`, `fileglob`, and the search for a lookup's file through the scope's search paths.

use std::path::{Path, PathBuf};

use minijinja::Error;
use minijinja::value::{Value, ValueKind};

use super::Call;
use crate::template::filters::{err, str_of};
use crate::template::scope::ScopeObj;
use crate::template::to_mj_error;

/// `file`, as ansible.builtin.file: each term found under `files/` then in each search path,
/// read as UTF-8; `rstrip` (default true) and `lstrip` (default false) strip whitespace.
pub(super) fn file(call: &Call) -> Result<Vec<Value>, Error> {
    call.opts.allow("file", &["rstrip", "lstrip"])?;
    let rstrip = call.opts.bool("rstrip").unwrap_or(true);
    let lstrip = call.opts.bool("lstrip").unwrap_or(false);
    call.flat_terms()?
        .iter()
        .map(|t| {
            let path = find(&call.scope, &str_of(t), "files")?;
            let text = crate::input::read_text(&path).map_err(|e| err(format!("lookup('file'): {e}")))?;
            // ansible-core reads a lookup's file through its loader, which decrypts vault files.
            let text = unvaulted(text, &path)?;
            let text = if rstrip { text.trim_end() } else { text.as_str() };
            let text = if lstrip { text.trim_start() } else { text };
            Ok(Value::from(text))
        })
        .collect()
}

/// `unvault`, as ansible.builtin.unvault: each term found under `files/` then in each search
/// path, its content decrypted when vault-encrypted (a secret from then on), not stripped.
pub(super) fn unvault(call: &Call) -> Result<Vec<Value>, Error> {
    call.flat_terms()?
        .iter()
        .map(|t| {
            let path = find(&call.scope, &str_of(t), "files")?;
            let text = crate::input::read_text(&path).map_err(|e| err(format!("lookup('unvault'): {e}")))?;
            Ok(Value::from(unvaulted(text, &path)?))
        })
        .collect()
}

/// `text` decrypted with the run's vault passwords when it is vault data (its content then a
/// secret), else as is.
fn unvaulted(text: String, path: &Path) -> Result<String, Error> {
    if !crate::vault::is_encrypted(text.trim_start().as_bytes()) {
        return Ok(text);
    }
    let plain = crate::vault::decrypt_secret_bytes(text.trim_start().as_bytes(), &path.display().to_string())
        .map_err(|e| err(e.to_string()))?;
    String::from_utf8(plain.to_vec())
        .map_err(|_| err(format!("{}: the decrypted content is not UTF-8", path.display())))
}

/// `template`, as ansible.builtin.template: each term found under `templates/` then in each
/// search path, rendered with the task's variables, ansible-core's template variables and
/// `template_vars` (a mapping, over the rest).
pub(super) fn template(call: &Call) -> Result<Vec<Value>, Error> {
    call.opts.allow("template", &["template_vars"])?;
    let extra = match call.opts.get("template_vars") {
        None => serde_json::Map::new(),
        Some(v) if v.kind() == ValueKind::Map => match crate::template::scope::to_json(v)? {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
        Some(v) => return Err(err(format!("template_vars must be a mapping, not {v}"))),
    };
    let scope = &call.scope;
    call.flat_terms()?
        .iter()
        .map(|t| {
            let path = find(scope, &str_of(t), "templates")?;
            let text = crate::input::read_text(&path).map_err(|e| err(format!("lookup('template'): {e}")))?;
            let name = path.display().to_string();
            let vars = crate::template::with_template_vars(&scope.ctx.vars, &str_of(t), &path, None)
                .with_top(extra.clone());
            let inner = scope.ctx.enter_template(&name, vars).map_err(to_mj_error)?;
            let dirs = crate::template::files::include_dirs(&scope.ctx.search_paths, &path, true);
            inner
                .engine
                .render_file(
                    &inner,
                    &name,
                    &text,
                    &crate::template::TemplateSyntax::default(),
                    dirs,
                )
                .map(Value::from)
                .map_err(to_mj_error)
        })
        .collect()
}

/// The directory ansible-core's loader calls its base directory: the playbook's (where `pipe`
/// and `lines` run and `password` files are relative to); the current directory without one.
pub(super) fn basedir(call: &Call) -> Result<PathBuf, Error> {
    Ok(match call.var("playbook_dir")? {
        Some(d) => PathBuf::from(str_of(&d)),
        None => PathBuf::from("."),
    })
}

/// Runs `cmd` with `/bin/sh -c` in the playbook's directory (scrubbed secret variables left out
/// of its environment); its stdout, or ansible-core's "lookup_plugin.NAME(CMD) returned RC".
fn shell(call: &Call, lookup: &str, cmd: &str) -> Result<Vec<u8>, Error> {
    let mut command = std::process::Command::new("/bin/sh");
    command.arg("-c").arg(cmd).current_dir(basedir(call)?);
    command.stdin(std::process::Stdio::null());
    for var in crate::osenv::scrubbed_env() {
        command.env_remove(var);
    }
    let out = command
        .output()
        .map_err(|e| err(format!("lookup('{lookup}'): could not run '{cmd}': {e}")))?;
    if !out.status.success() {
        let rc = out
            .status
            .code()
            .map_or_else(|| out.status.to_string(), |c| c.to_string());
        return Err(err(format!("lookup_plugin.{lookup}({cmd}) returned {rc}")));
    }
    Ok(out.stdout)
}

/// `pipe`, as ansible.builtin.pipe: each term run by the shell; its output, trailing
/// whitespace stripped.
pub(super) fn pipe(call: &Call) -> Result<Vec<Value>, Error> {
    call.flat_terms()?
        .iter()
        .map(|t| {
            let out = shell(call, "pipe", &str_of(t))?;
            Ok(Value::from(String::from_utf8_lossy(&out).trim_end().to_string()))
        })
        .collect()
}

/// `lines`, as ansible.builtin.lines: each term run by the shell; every line of its output
/// (split as Python's `bytes.splitlines`: `\n`, `\r\n`, `\r`).
pub(super) fn lines(call: &Call) -> Result<Vec<Value>, Error> {
    let mut ret = Vec::new();
    for t in call.flat_terms()? {
        let out = shell(call, "lines", &str_of(&t))?;
        let text = String::from_utf8_lossy(&out);
        let mut rest: &str = &text;
        while !rest.is_empty() {
            let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
            ret.push(Value::from(&rest[..end]));
            let skip = if rest[end..].starts_with("\r\n") {
                2
            } else {
                usize::from(end < rest.len())
            };
            rest = &rest[end + skip..];
        }
    }
    Ok(ret)
}

/// `fileglob`, as ansible.builtin.fileglob: a term with a folder globs in that folder (found
/// as a lookup file is); a bare pattern globs in `files/` then the folder itself of each search
/// path, the first that matches winning. Only regular files; names starting with `.` only
/// where the pattern says so (Python's `glob`). Sorted, where Python gives directory order.
pub(super) fn fileglob(call: &Call) -> Result<Vec<Value>, Error> {
    let mut ret = Vec::new();
    for t in call.flat_terms()? {
        let term = str_of(&t);
        let (dir, file) = match term.rsplit_once('/') {
            Some((d, f)) => (Some(if d.is_empty() { "/" } else { d }), f),
            None => (None, term.as_str()),
        };
        let places: Vec<PathBuf> = match dir {
            Some(d) => find(&call.scope, d, "files").ok().into_iter().collect(),
            None => {
                let dirs = search_dirs(&call.scope);
                dirs.iter().flat_map(|p| [p.join("files"), p.clone()]).collect()
            }
        };
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        for place in places {
            let pattern = format!("{}/{file}", glob::Pattern::escape(&place.display().to_string()));
            let found: Vec<Value> = glob::glob_with(&pattern, options)
                .map_err(|e| err(format!("fileglob: bad pattern '{term}': {e}")))?
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .map(|p| Value::from(p.display().to_string()))
                .collect();
            if !found.is_empty() {
                ret.extend(found);
                break;
            }
        }
    }
    Ok(ret)
}

/// The search paths, or the current directory when the scope has none.
fn search_dirs(scope: &ScopeObj) -> Vec<PathBuf> {
    if scope.ctx.search_paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        scope.ctx.search_paths.to_vec()
    }
}

/// Finds a file for a lookup: absolute as is; else in each search dir as `DIR/SUBDIR/PATH`
/// then `DIR/PATH`; with no search dirs, relative to the current directory.
pub(super) fn find(scope: &ScopeObj, path: &str, subdir: &str) -> Result<PathBuf, Error> {
    find_in(scope, path, Some(subdir))
}

/// [`find`] with an optional `SUBDIR`: without one, only `DIR/PATH`. A path whose first part
/// is `SUBDIR` already is not searched under `DIR/SUBDIR` again, as ansible-core does.
pub(super) fn find_in(scope: &ScopeObj, path: &str, subdir: Option<&str>) -> Result<PathBuf, Error> {
    let p = Path::new(path);
    if p.is_absolute() {
        return if p.exists() {
            Ok(p.to_path_buf())
        } else {
            Err(err(format!("could not find or access '{path}'")))
        };
    }
    let dirs = &scope.ctx.search_paths;
    if dirs.is_empty() {
        return if p.exists() {
            Ok(p.to_path_buf())
        } else {
            Err(err(format!(
                "could not find or access '{path}' (relative to the current directory)"
            )))
        };
    }
    let mut tried = Vec::new();
    let under = subdir.filter(|s| path.split('/').next() != Some(*s));
    for d in dirs.iter() {
        let first = under.map(|s| d.join(s).join(p));
        for candidate in first.into_iter().chain([d.join(p)]) {
            if candidate.exists() {
                return Ok(candidate);
            }
            tried.push(candidate.display().to_string());
        }
    }
    Err(err(format!(
        "could not find or access '{path}'; searched: {}",
        tried.join(", ")
    )))
}
