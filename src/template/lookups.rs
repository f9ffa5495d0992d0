//! Ansible lookups: `lookup(name, *terms, wantlist=False)`, `query`/`q` (always a list).
//!
//! Lookups run on the controller, like Ansible's: `env`, `file` (found through the scope's
//! search path, trailing whitespace stripped), `template`, `pipe`, `vars`, `first_found`,
//! `items`/`list`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, State};

use super::filters::{Args, err, str_of};
use super::scope::{SCOPE_KEY, ScopeObj};
use super::to_mj_error;

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", |state: &State, rest: Rest<ValueOrKwargs>| {
        run(state, rest, false)
    });
    env.add_function("query", |state: &State, rest: Rest<ValueOrKwargs>| {
        run(state, rest, true)
    });
    env.add_function("q", |state: &State, rest: Rest<ValueOrKwargs>| {
        run(state, rest, true)
    });
}

fn scope_of(state: &State) -> Result<Arc<ScopeObj>, Error> {
    state
        .lookup(SCOPE_KEY)
        .and_then(|v| v.downcast_object::<ScopeObj>())
        .ok_or_else(|| err("lookups are only available inside talon's templates"))
}

fn run(state: &State, rest: Rest<ValueOrKwargs>, always_list: bool) -> Result<Value, Error> {
    let args = Args::new(rest);
    let mut pos = args.positional().iter();
    let name = pos
        .next()
        .map(str_of)
        .ok_or_else(|| err("lookup: the name of a lookup plugin is required, e.g. lookup('env', 'HOME')"))?;
    // Terms may be given as one list.
    let mut terms = Vec::new();
    for t in pos {
        if t.kind() == ValueKind::Seq {
            terms.extend(t.try_iter()?);
        } else {
            terms.push(t.clone());
        }
    }
    let scope = scope_of(state)?;
    let results: Vec<Value> = match name.as_str() {
        "env" | "ansible.builtin.env" => terms
            .iter()
            .map(|t| {
                let default = args
                    .get(usize::MAX, "default")
                    .map(|d| str_of(&d))
                    .unwrap_or_default();
                Value::from(crate::osenv::env_var(&str_of(t)).unwrap_or(default))
            })
            .collect(),
        "file" | "ansible.builtin.file" => terms
            .iter()
            .map(|t| {
                let path = find(&scope, &str_of(t), "files")?;
                let text = crate::input::read_text(&path).map_err(|e| err(format!("lookup('file'): {e}")))?;
                let text = if args.get(usize::MAX, "rstrip").is_none_or(|v| v.is_true()) {
                    text.trim_end().to_string()
                } else {
                    text
                };
                Ok(Value::from(text))
            })
            .collect::<Result<_, Error>>()?,
        "template" | "ansible.builtin.template" => terms
            .iter()
            .map(|t| {
                let path = find(&scope, &str_of(t), "templates")?;
                let text =
                    crate::input::read_text(&path).map_err(|e| err(format!("lookup('template'): {e}")))?;
                let name = path.display().to_string();
                let inner = scope.ctx.enter_template(&name).map_err(to_mj_error)?;
                inner
                    .engine
                    .render_text(&inner, true, &name, &text)
                    .map(Value::from)
                    .map_err(super::to_mj_error)
            })
            .collect::<Result<_, Error>>()?,
        "pipe" | "ansible.builtin.pipe" => terms
            .iter()
            .map(|t| {
                let cmd = str_of(t);
                let mut command = std::process::Command::new("/bin/sh");
                command.arg("-c").arg(&cmd);
                for var in crate::osenv::scrubbed_env() {
                    command.env_remove(var);
                }
                let out = command
                    .output()
                    .map_err(|e| err(format!("lookup('pipe'): could not run '{cmd}': {e}")))?;
                if !out.status.success() {
                    return Err(err(format!("lookup('pipe'): '{cmd}' exited with {}", out.status)));
                }
                Ok(Value::from(
                    String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
                ))
            })
            .collect::<Result<_, Error>>()?,
        "vars" | "ansible.builtin.vars" => terms
            .iter()
            .map(|t| {
                let key = str_of(t);
                match Value::from_dyn_object(scope.clone()).get_attr(&key)? {
                    v if v.is_undefined() => match args.get(usize::MAX, "default") {
                        Some(d) => Ok(d),
                        None => Err(Error::new(
                            minijinja::ErrorKind::UndefinedError,
                            format!("No variable found with this name: {key}"),
                        )),
                    },
                    v => Ok(v),
                }
            })
            .collect::<Result<_, Error>>()?,
        "first_found" | "ansible.builtin.first_found" => {
            let mut found = None;
            for t in &terms {
                if let Ok(p) = find(&scope, &str_of(t), "files") {
                    found = Some(Value::from(p.display().to_string()));
                    break;
                }
            }
            match found {
                Some(f) => vec![f],
                None if args.flag(usize::MAX, "skip") => vec![],
                None => {
                    let names: Vec<String> = terms.iter().map(str_of).collect();
                    return Err(err(format!("lookup('first_found'): none of {names:?} was found")));
                }
            }
        }
        "items" | "list" | "ansible.builtin.items" | "ansible.builtin.list" => terms,
        other => {
            return Err(err(format!(
                "lookup plugin '{other}' is not supported by talon (supported: env, file, template, pipe, \
                 vars, first_found, items, list)"
            )));
        }
    };
    if always_list || args.flag(usize::MAX, "wantlist") {
        return Ok(Value::from(results));
    }
    Ok(match results.len() {
        1 => results.into_iter().next().unwrap_or_default(),
        _ => Value::from(results.iter().map(str_of).collect::<Vec<_>>().join(",")),
    })
}

/// Finds a file for a lookup: absolute as is; else in each search dir as `DIR/SUBDIR/PATH`
/// then `DIR/PATH`; with no search dirs, relative to the current directory.
fn find(scope: &ScopeObj, path: &str, subdir: &str) -> Result<PathBuf, Error> {
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
    for d in dirs.iter() {
        for candidate in [d.join(subdir).join(p), d.join(p)] {
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
