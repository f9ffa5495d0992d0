//! `apt_repository`: one APT source line in the one-line format, matching
//! ansible.builtin.apt_repository without python3-apt on the host. The sources are
//! `/etc/apt/sources.list` and `/etc/apt/sources.list.d/*.list`, each line read as the module's
//! `SourcesList._parse` reads it (`# ` disables, a later `#` starts a comment, a line whose first
//! word is `deb`/`deb-src` is a source, spaces normalised). `present` enables every equal source
//! (disabled ones too) or appends the line to `filename` (or the name the module suggests from
//! the line: its first word after the type, options, scheme and credentials dropped, non
//! alphanumerics as `_`, `.list`); `absent` removes every enabled equal line, and a file left
//! without lines. When anything changed, every source file is written back in the module's
//! normalised form (only those whose text differs), a file that got a line gets `mode` (if
//! given), and `update_cache` (default yes) runs `apt-get update` with the module's
//! retries and delays; when it keeps failing, the files are put back and the task fails.
//! Results: `changed`, `repo`, `state`, `sources_added`, `sources_removed` and, with
//! `--diff`, `diff` for added and removed files (as the module gives it). Check mode changes
//! nothing.
//!
//! A `ppa:` repository needs Launchpad (the module looks its key up there): such a task runs
//! ansible-core's module through the Python path.

use serde_json::{Value, json};

use crate::modules::args::{Args, files_failure};
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan, sysutil};
use crate::transport::files::{self, FileAttrs, WriteOptions};
use crate::vars::Vars;

crate::module_info!(
    /// `apt_repository` arguments (aliases included).
    INFO,
    "apt_repository",
    ArgSpec::new(&[
        ArgDef::str("repo").required(),
        ArgDef::str("state").choices(&["absent", "present"]),
        ArgDef::mode("mode"),
        ArgDef::bool("update_cache").aliases(&["update-cache"]),
        ArgDef::int("update_cache_retries"),
        ArgDef::int("update_cache_retry_max_delay"),
        ArgDef::str("filename"),
        ArgDef::bool("install_python_apt"),
        ArgDef::bool("validate_certs"),
        ArgDef::str("codename"),
    ]),
    plan = plan,
    apply = apply
);

/// The sources folder (`Dir::Etc::sourceparts`; READ also reads `Dir::Etc::sourcelist`,
/// /etc/apt/sources.list).
const SOURCES_DIR: &str = "/etc/apt/sources.list.d";

/// One line as the module's `_parse` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    valid: bool,
    enabled: bool,
    source: String,
    comment: String,
}

impl Line {
    /// Parses one line (Python's `str.strip()` whitespace).
    fn parse(raw: &str) -> Line {
        let mut line = raw.trim();
        let mut enabled = true;
        if let Some(rest) = line.strip_prefix('#') {
            enabled = false;
            line = rest;
        }
        let mut comment = String::new();
        let mut body = line;
        if let Some(i) = line.find('#')
            && i > 0
        {
            comment = line[i + 1..].trim().to_string();
            body = &line[..i];
        }
        let mut source = body.trim().to_string();
        let mut valid = false;
        let chunks: Vec<&str> = source.split_whitespace().collect();
        if chunks.first().is_some_and(|c| *c == "deb" || *c == "deb-src") {
            valid = true;
            source = chunks.join(" ");
        }
        Line {
            valid,
            enabled,
            source,
            comment,
        }
    }

    /// The line as the module's `save`/`dump` writes it.
    fn render(&self) -> String {
        let mut out = String::new();
        if !self.enabled {
            out.push_str("# ");
        }
        out.push_str(&self.source);
        if !self.comment.is_empty() {
            out.push_str(" # ");
            out.push_str(&self.comment);
        }
        out.push('\n');
        out
    }
}

/// A source file: its path, its text as read, its lines.
#[derive(Debug, Clone)]
struct SourceFile {
    path: String,
    raw: Option<String>,
    lines: Vec<Line>,
}

impl SourceFile {
    fn dump(&self) -> String {
        self.lines.iter().map(Line::render).collect()
    }
}

/// The file name the module suggests for a source (`_suggest_filename`).
fn suggest_filename(source: &str, filename: Option<&str>) -> String {
    // Drop [options], then scheme://.
    let mut s = String::new();
    let mut depth = false;
    for c in source.chars() {
        match c {
            '[' if !depth => depth = true,
            ']' if depth => depth = false,
            _ if depth => {}
            _ => s.push(c),
        }
    }
    let mut no_scheme = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("://") {
        let head = &rest[..i];
        let word_start = head
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |j| j + head[j..].chars().next().map_or(1, char::len_utf8));
        no_scheme.push_str(&head[..word_start]);
        if word_start == head.len() {
            no_scheme.push_str("://");
        }
        rest = &rest[i + 3..];
    }
    no_scheme.push_str(rest);
    let parts: Vec<&str> = no_scheme
        .split_whitespace()
        .filter(|p| *p != "deb" && *p != "deb-src")
        .collect();
    let first = parts.first().map_or("", |p| match p.split_once('@') {
        Some((_, host)) => host,
        None => p,
    });
    let name = match filename {
        Some(f) => f.to_string(),
        None => first
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("_"),
    };
    format!("{name}.list")
}

/// What to write: files with new text (and whether they get `mode`), files to remove, the
/// texts to put back if the cache update fails.
pub struct Work {
    writes: Vec<(String, String, bool)>,
    removes: Vec<String>,
    before: Vec<(String, Option<String>)>,
    mode: Option<u32>,
    update: Option<(i64, i64)>,
}

/// The read: each source file's path and text, between markers.
const READ: &str = r#"M=$1
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  printf '%s file %s\n' "$M" "$f"; cat -- "$f"; printf '\n%s end\n' "$M"
done
"#;

/// Reads the sources and decides. Errors: [`ModuleError::Transport`].
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<Work>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let repo = a.req_str("repo")?;
    let state = a.choice("state")?.unwrap_or_else(|| "present".into());
    if repo.starts_with("ppa:") {
        let why = "a ppa: repository needs Launchpad, which ansible-core's module asks";
        let out = crate::modules::fallback::python_path(
            "ansible.builtin.apt_repository",
            "apt_repository",
            args,
            ctx,
            why,
        )
        .await?;
        return Ok(Plan::Done(out));
    }
    if repo.is_empty() {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "Please set argument 'repo' to a non-empty value",
        )));
    }
    let wanted = Line::parse(&repo);
    if !wanted.valid || !wanted.enabled {
        let shown = repo.trim().strip_prefix('#').unwrap_or(repo.trim());
        let shown = match shown.find('#') {
            Some(i) if i > 0 => &shown[..i],
            _ => shown,
        };
        return Ok(Plan::Done(ModuleOutcome::failed(format!(
            "Invalid repository string: {shown}"
        ))));
    }
    let marker = sysutil::marker();
    let out = sysutil::run_script(ctx, READ, std::slice::from_ref(&marker), None).await?;
    let text = out.stdout_str();
    let mut files = Vec::new();
    for (name, body) in sysutil::sections(&text, &marker) {
        if let Some(path) = name.strip_prefix("file ") {
            let raw = body.strip_suffix('\n').unwrap_or(body).to_string();
            let lines = raw.split_inclusive('\n').map(Line::parse).collect();
            files.push(SourceFile {
                path: path.to_string(),
                raw: Some(raw),
                lines,
            });
        }
    }
    let before: Vec<(String, String)> = files
        .iter()
        .filter(|f| !f.lines.is_empty())
        .map(|f| (f.path.clone(), f.dump()))
        .collect();
    let mut new_repos: Vec<String> = Vec::new();
    if state == "present" {
        let mut found = false;
        for f in &mut files {
            for l in f
                .lines
                .iter_mut()
                .filter(|l| l.valid && l.source == wanted.source)
            {
                l.enabled = true;
                found = true;
            }
        }
        if !found {
            let name = suggest_filename(&wanted.source, a.str("filename")?.as_deref());
            let path = if name.contains('/') {
                name
            } else {
                format!("{SOURCES_DIR}/{name}")
            };
            let line = Line {
                valid: true,
                enabled: true,
                source: wanted.source.clone(),
                comment: String::new(),
            };
            match files.iter_mut().find(|f| f.path == path) {
                Some(f) => f.lines.push(line),
                None => files.push(SourceFile {
                    path: path.clone(),
                    raw: None,
                    lines: vec![line],
                }),
            }
            new_repos.push(path);
        }
    } else {
        for f in &mut files {
            f.lines
                .retain(|l| !(l.valid && l.enabled && l.source == wanted.source));
        }
    }
    let after: Vec<(String, String)> = files
        .iter()
        .filter(|f| !f.lines.is_empty())
        .map(|f| (f.path.clone(), f.dump()))
        .collect();
    let changed = before != after;
    let keys = |v: &[(String, String)]| v.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    let (bk, ak) = (keys(&before), keys(&after));
    let added: Vec<String> = if changed {
        ak.iter().filter(|p| !bk.contains(p)).cloned().collect()
    } else {
        Vec::new()
    };
    let removed: Vec<String> = if changed {
        bk.iter().filter(|p| !ak.contains(p)).cloned().collect()
    } else {
        Vec::new()
    };
    let mut diff = Vec::new();
    if changed && ctx.diff {
        for p in added.iter().chain(&removed) {
            let b = before.iter().find(|(q, _)| q == p).map(|(_, t)| t.clone());
            let af = after.iter().find(|(q, _)| q == p).map(|(_, t)| t.clone());
            diff.push(json!({
                "before": b.clone().unwrap_or_default(),
                "after": af.clone().unwrap_or_default(),
                "before_header": if b.is_some() { p.as_str() } else { "/dev/null" },
                "after_header": if af.is_some() { p.as_str() } else { "/dev/null" },
            }));
        }
    }
    let result = ModuleOutcome::changed(changed)
        .with("repo", repo.clone())
        .with("sources_added", json!(added))
        .with("sources_removed", json!(removed))
        .with("state", state)
        .with("diff", Value::Array(diff));
    if !changed {
        return Ok(Plan::Done(result));
    }
    // Without `mode` the module sets none: a new file gets 0666 less the umask, an existing
    // one keeps its mode.
    let mode = a.mode("mode")?.map(|m| m.resolve(0o644, false));
    let update = a.bool("update_cache", true)?.then(|| {
        (
            a.i64("update_cache_retries").ok().flatten().unwrap_or(5),
            a.i64("update_cache_retry_max_delay").ok().flatten().unwrap_or(12),
        )
    });
    let mut writes = Vec::new();
    let mut removes = Vec::new();
    for f in &files {
        if f.lines.is_empty() {
            if f.raw.is_some() {
                removes.push(f.path.clone());
            }
            continue;
        }
        let text = f.dump();
        if f.raw.as_deref() != Some(text.as_str()) || new_repos.contains(&f.path) {
            writes.push((f.path.clone(), text, new_repos.contains(&f.path)));
        }
    }
    let before_files = files.iter().map(|f| (f.path.clone(), f.raw.clone())).collect();
    Ok(Plan::Change(
        result,
        Work {
            writes,
            removes,
            before: before_files,
            mode,
            update,
        },
    ))
}

/// The cache update with the module's retries: `apt-get update` up to `$1` times (a run that
/// could not fetch an index counts as failed, as python-apt's update raises), sleeping 2^try
/// (at most `$2`) seconds between tries; prints each failure's error.
const UPDATE: &str = r#"n=$1; max=$2; i=0
while [ "$i" -lt "$n" ]; do
  err=$(apt-get update -q 2>&1 >/dev/null); rc=$?
  # python-apt's update fails on any index it could not fetch; apt-get only warns.
  if [ "$rc" = 0 ] && ! printf '%s\n' "$err" | grep -q 'Failed to fetch'; then exit 0; fi
  printf '%s\n' "$err" | grep -E '^(E|W):' | tr '\n' ' ' | sed 's/ *$//'; echo
  d=$((1 << i)); [ "$d" -gt "$max" ] && d=$max
  i=$((i + 1)); [ "$i" -lt "$n" ] && sleep "$d"
done
exit 1
"#;

/// Writes the files, updates the cache, puts the files back when the update keeps failing.
/// Errors: [`ModuleError::Transport`].
pub async fn apply(
    w: Work,
    planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    for (path, text, is_new) in &w.writes {
        let opts = WriteOptions {
            attrs: FileAttrs {
                mode: if *is_new { w.mode } else { None },
                ..Default::default()
            },
            create_parents: true,
            follow: true,
            ..Default::default()
        };
        if let Err(e) = files::write_atomic(ctx.conn, path, text.as_bytes(), &opts, &ctx.become_).await {
            return files_failure(e);
        }
    }
    for path in &w.removes {
        if let Err(e) = files::remove(ctx.conn, path, &ctx.become_).await {
            return files_failure(e);
        }
    }
    let Some((retries, max_delay)) = w.update else {
        return Ok(planned);
    };
    let out = sysutil::run_script(ctx, UPDATE, &[retries.to_string(), max_delay.to_string()], None).await?;
    if out.status.success() {
        return Ok(planned);
    }
    let errors: Vec<String> = out.stdout_str().lines().map(str::to_string).collect();
    // Put every file back as it was (the module's revert_sources_list).
    for (path, raw) in &w.before {
        let result = match raw {
            Some(text) => {
                let opts = WriteOptions {
                    follow: true,
                    ..Default::default()
                };
                files::write_atomic(ctx.conn, path, text.as_bytes(), &opts, &ctx.become_)
                    .await
                    .map(|_| ())
            }
            None => files::remove(ctx.conn, path, &ctx.become_).await.map(|_| ()),
        };
        if let Err(e) = result {
            return files_failure(e);
        }
    }
    let last = errors.last().cloned().filter(|e| !e.is_empty());
    let mut failed = ModuleOutcome::failed(format!(
        "Failed to update apt cache after {retries} retries: {}",
        last.unwrap_or_else(|| "unknown reason".into())
    ));
    for (i, e) in errors.iter().enumerate() {
        failed = failed.warn(format!(
            "Failed to update cache after {} due to {e} retry, retrying",
            i + 1
        ));
    }
    Ok(failed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_and_render_as_the_module() {
        let l = Line::parse("  deb   [arch=amd64]  http://x.org/debian  stable main  # mine\n");
        assert!(l.valid && l.enabled);
        assert_eq!(l.source, "deb [arch=amd64] http://x.org/debian stable main");
        assert_eq!(l.comment, "mine");
        assert_eq!(
            l.render(),
            "deb [arch=amd64] http://x.org/debian stable main # mine\n"
        );
        let d = Line::parse("#deb http://x.org/debian stable main\n");
        assert!(d.valid && !d.enabled);
        assert_eq!(d.render(), "# deb http://x.org/debian stable main\n");
        let c = Line::parse("# just a comment\n");
        assert!(!c.valid);
        assert_eq!(c.render(), "# just a comment\n");
        assert_eq!(Line::parse("\n").render(), "\n");
    }

    #[test]
    fn file_names_as_the_module_suggests_them() {
        assert_eq!(
            suggest_filename(
                "deb [arch=amd64 signed-by=/k.gpg] https://download.docker.com/linux/debian bookworm stable",
                None
            ),
            "download_docker_com_linux_debian.list"
        );
        assert_eq!(
            suggest_filename("deb http://user:pw@repo.example.org/apt ./", None),
            "repo_example_org_apt.list"
        );
        assert_eq!(
            suggest_filename("deb file:/opt/repo ./", None),
            "file_opt_repo.list"
        );
        assert_eq!(
            suggest_filename("deb http://x.org/ stable main", Some("mine")),
            "mine.list"
        );
    }
}
