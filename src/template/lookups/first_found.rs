//! `first_found`: the first file found among candidates, as ansible.builtin.first_found.

use std::path::Path;

use minijinja::Error;
use minijinja::value::{Value, ValueKind};

use super::files::find_in;
use super::{Call, WITH_SUBDIR_VAR};
use crate::template::filters::{err, str_of};

/// `first_found`, as ansible-core 2.19's: each term is a file name, a list of terms, or a
/// mapping with `files` (a list, or a string split on `,` and `;`), `paths` (a list, or split on
/// `,`, `:` and `;`: then each path joined with each file) and `skip`; the `files`, `paths` and
/// `skip` keywords work the same. The first candidate found through the search paths (under
/// [`WITH_SUBDIR_VAR`]'s folder for a `with_first_found` loop) is the result; none: an empty
/// list with `skip`, else "No file was found when using first_found.".
pub(super) fn first_found(call: &Call) -> Result<Vec<Value>, Error> {
    call.opts.allow("first_found", &["files", "paths", "skip"])?;
    let scope = &call.scope;
    let terms = &call.terms;
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
    let mut paths: Vec<String> = call
        .opts
        .get("paths")
        .map(|p| split(p, &[',', ':', ';']))
        .unwrap_or_default();
    let mut skip = call.opts.bool("skip").unwrap_or(false);
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
        && let Some(files) = call.opts.get("files").cloned()
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
