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

/// The lookups talon has (by short name), for `lookup()`, `query()` and `with_<lookup>` loops.
pub const LOOKUPS: &[&str] = &[
    "env",
    "file",
    "template",
    "pipe",
    "vars",
    "first_found",
    "items",
    "list",
];

/// The variable a `with_<lookup>` loop sets for its lookup: the folder under each search path
/// that `first_found` searches (`vars` for include_vars, `templates` for template, else
/// `files`), as ansible-core's task executor tells the lookup. Unset for `lookup()`/`query()`,
/// which search the search paths themselves (ansible-core 2.19).
pub const WITH_SUBDIR_VAR: &str = "__talon_with_subdir";

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
                let vars = crate::template::with_template_vars(&scope.ctx.vars, &str_of(t), &path, None);
                let inner = scope
                    .ctx
                    .enter_template(&name, Arc::new(vars))
                    .map_err(to_mj_error)?;
                let dirs = super::files::include_dirs(&scope.ctx.search_paths, &path, true);
                inner
                    .engine
                    .render_file(&inner, &name, &text, &super::TemplateSyntax::default(), dirs)
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
        "first_found" | "ansible.builtin.first_found" => first_found(&scope, &args, &terms)?,
        "items" | "list" | "ansible.builtin.items" | "ansible.builtin.list" => terms,
        other => {
            return Err(err(format!(
                "lookup plugin '{other}' is not supported by talon (supported: {})",
                LOOKUPS.join(", ")
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

/// `first_found`, as ansible-core 2.19's: each term is a file name, a list of terms, or a
/// mapping with `files` (a list, or a string split on `,` and `;`), `paths` (a list, or split on
/// `,`, `:` and `;`: then each path joined with each file) and `skip`; the `files`, `paths` and
/// `skip` keywords work the same. The first candidate found through the search paths (under
/// [`WITH_SUBDIR_VAR`]'s folder for a `with_first_found` loop) is the result; none: an empty
/// list with `skip`, else "No file was found when using first_found.".
fn first_found(scope: &ScopeObj, args: &Args, terms: &[Value]) -> Result<Vec<Value>, Error> {
    fn split(v: &Value, seps: &[char]) -> Vec<String> {
        match v.kind() {
            ValueKind::Seq => v
                .try_iter()
                .map(|it| it.flat_map(|x| split(&x, seps)).collect())
                .unwrap_or_default(),
            ValueKind::None | ValueKind::Undefined => Vec::new(),
            _ => str_of(v).split(seps).map(str::to_string).collect(),
        }
    }
    let mut paths: Vec<String> = args
        .get(usize::MAX, "paths")
        .map(|p| split(&p, &[',', ':', ';']))
        .unwrap_or_default();
    let mut skip = args.flag(usize::MAX, "skip");
    let mut candidates: Vec<String> = Vec::new();
    let add = |files: Vec<String>, paths: &[String], out: &mut Vec<String>| {
        if paths.is_empty() {
            out.extend(files);
        } else {
            for p in paths {
                for f in &files {
                    out.push(Path::new(p).join(f).display().to_string());
                }
            }
        }
    };
    let mut terms: Vec<Value> = terms.to_vec();
    if terms.is_empty()
        && let Some(files) = args.get(usize::MAX, "files")
    {
        terms.push(files);
    }
    let mut stack: Vec<Value> = terms.into_iter().rev().collect();
    while let Some(term) = stack.pop() {
        match term.kind() {
            ValueKind::Map => {
                // ansible-core sets the mapping's options for this term and those after it.
                let get = |k: &str| term.get_attr(k).ok().filter(|v| !v.is_undefined());
                if let Some(p) = get("paths") {
                    paths = split(&p, &[',', ':', ';']);
                }
                if let Some(s) = get("skip") {
                    skip = s.is_true();
                }
                let files = get("files").map(|f| split(&f, &[',', ';'])).unwrap_or_default();
                add(files, &paths, &mut candidates);
            }
            ValueKind::Seq => {
                let items: Vec<Value> = term.try_iter()?.collect();
                stack.extend(items.into_iter().rev());
            }
            ValueKind::String => add(split(&term, &[',', ';']), &paths, &mut candidates),
            ValueKind::Undefined => {}
            _ => {
                return Err(err(format!(
                    "Invalid term supplied. A string, dict or list is required, not {:?}.",
                    term.kind()
                )));
            }
        }
    }
    let subdir = scope
        .ctx
        .vars
        .get(WITH_SUBDIR_VAR)
        .and_then(|v| v.as_str())
        .map(str::to_string);
    for c in &candidates {
        if let Ok(p) = find_in(scope, c, subdir.as_deref()) {
            return Ok(vec![Value::from(p.display().to_string())]);
        }
    }
    if skip {
        return Ok(Vec::new());
    }
    Err(err("No file was found when using first_found."))
}

/// Finds a file for a lookup: absolute as is; else in each search dir as `DIR/SUBDIR/PATH`
/// then `DIR/PATH`; with no search dirs, relative to the current directory.
fn find(scope: &ScopeObj, path: &str, subdir: &str) -> Result<PathBuf, Error> {
    find_in(scope, path, Some(subdir))
}

/// [`find`] with an optional `SUBDIR`: without one, only `DIR/PATH`. A path whose first part
/// is `SUBDIR` already is not searched under `DIR/SUBDIR` again, as ansible-core does.
fn find_in(scope: &ScopeObj, path: &str, subdir: Option<&str>) -> Result<PathBuf, Error> {
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
