//! `talon galaxy install`: roles and collections from a `requirements.yml`, installed where and
//! as `ansible-galaxy` installs them, from sources that need no Galaxy server: git repositories
//! (`git+URL`, or `scm: git` / `type: git`), local role tarballs and built collection tarballs,
//! and collection folders (`type: dir`).
//!
//! Matches ansible-galaxy (ansible-core 2.19): roles go to the first roles path
//! (`-p`, else `ANSIBLE_ROLES_PATH`'s first entry, else `~/.ansible/roles`) as `NAME/` with
//! `meta/.galaxy_install_info` (`install_date`, `version`); a role already there is skipped
//! unless `--force`; a role's `meta/main.yml` dependencies that name a source are installed too
//! (unless `--no-deps`). Collections (installed again each time from git or a folder, from a
//! tarball only when missing or with `--force`) go to `COLLECTIONS_PATH/ansible_collections/NS/NAME/` with
//! the `MANIFEST.json` and `FILES.json` ansible-galaxy writes when it installs from source (built
//! from `galaxy.yml`, skipping what it skips: `.git`, `*.pyc`, `*.retry`, `tests/output`, the
//! `build_ignore` patterns). The programs `git` and `tar` on the controller do the fetching and
//! unpacking, as ansible-galaxy runs `git` itself; nothing is fetched over HTTP by talon (a role
//! named only by its Galaxy name is an error that says so).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::Error;

/// What to install and where (`talon galaxy install` / `role install` / `collection install`).
#[derive(Debug, Clone, Default)]
pub struct InstallRequest {
    /// `-r FILE`.
    pub requirements: Option<PathBuf>,
    /// Sources named on the command line.
    pub names: Vec<String>,
    /// `-p PATH`: the roles path (or, for `collection install`, the collections path).
    pub path: Option<PathBuf>,
    /// `-f/--force`: install again over what is there.
    pub force: bool,
    /// `--no-deps`: do not install a role's dependencies.
    pub no_deps: bool,
    /// Install roles (`install`, `role install`).
    pub roles: bool,
    /// Install collections (`install`, `collection install`).
    pub collections: bool,
}

/// One role requirement: where it comes from and what it is called.
#[derive(Debug, Clone, PartialEq)]
struct RoleSpec {
    src: String,
    name: String,
    version: String,
    scm: Option<String>,
}

fn err(msg: impl Into<String>) -> Error {
    Error::Options(msg.into())
}

/// Runs `talon galaxy install` and returns the exit code (0, or 1 when something failed as
/// ansible-galaxy exits).
///
/// Errors: an unreadable or malformed requirements file, a source that is neither git, a
/// local tarball nor a folder, a `git`/`tar` that fails (their stderr quoted).
pub fn install(req: &InstallRequest) -> Result<i32, Error> {
    let (mut roles, mut colls) = (Vec::new(), Vec::new());
    if let Some(file) = &req.requirements {
        let node = crate::yaml::load_file(file).map_err(|e| err(format!("{e}")))?;
        let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        match node.to_json() {
            Value::Array(items) => roles.extend(items),
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("roles", Value::Array(items)) => roles.extend(items),
                        ("collections", Value::Array(items)) => {
                            colls.extend(items.into_iter().map(|i| (i, base.clone())));
                        }
                        ("roles" | "collections", Value::Null) => {}
                        (other, _) => {
                            return Err(err(format!(
                                "{}: Expected only 'roles' and/or 'collections' as top level dictionary keys, found '{other}'",
                                file.display()
                            )));
                        }
                    }
                }
            }
            Value::Null => {}
            _ => {
                return Err(err(format!(
                    "{}: Expecting requirements file to be a dict with the key 'collections' that contains a list of collections to install",
                    file.display()
                )));
            }
        }
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if req.collections && !req.roles {
        colls.extend(req.names.iter().map(|n| (Value::String(n.clone()), cwd.clone())));
    } else {
        roles.extend(req.names.iter().map(|n| Value::String(n.clone())));
    }
    if req.roles && !roles.is_empty() {
        println!("Starting galaxy role install process");
        let dest = req.path.clone().unwrap_or_else(|| {
            crate::playbook::default_roles_path()
                .into_iter()
                .next()
                .unwrap_or_else(|| PathBuf::from("."))
        });
        let mut queue: Vec<RoleSpec> = roles.iter().map(role_spec).collect::<Result<_, _>>()?;
        let mut done: Vec<String> = Vec::new();
        while let Some(spec) = queue.first().cloned() {
            queue.remove(0);
            if done.contains(&spec.name) {
                continue;
            }
            done.push(spec.name.clone());
            let deps = install_role(&spec, &dest, req.force)?;
            if !req.no_deps {
                queue.extend(deps);
            }
        }
    }
    if req.collections && !colls.is_empty() {
        println!("Starting galaxy collection install process");
        println!("Process install dependency map");
        let root = match (&req.path, req.roles) {
            (Some(p), false) => p.clone(),
            _ => crate::playbook::collections_path()
                .into_iter()
                .next()
                .unwrap_or_else(|| PathBuf::from(".")),
        };
        println!("Starting collection install process");
        for (c, base) in &colls {
            install_collection(c, base, &root, req.force)?;
        }
    }
    Ok(0)
}

/// ansible-galaxy's `repo_url_to_role_name`: the last path part of a URL, without `.git` or
/// an archive extension.
fn role_name_from_src(src: &str) -> String {
    let trimmed = src.trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next().unwrap_or(trimmed);
    let last = last.split(',').next().unwrap_or(last);
    for ext in [".git", ".tar.gz", ".tgz", ".tar.bz2", ".tar"] {
        if let Some(s) = last.strip_suffix(ext) {
            return s.to_string();
        }
    }
    last.to_string()
}

/// A role requirement in any of ansible-galaxy's forms: `src`, `src,version,name`,
/// `git+src,version,name`, or a mapping `{src, name, version, scm}` (`role:` accepted for `src`).
fn role_spec(v: &Value) -> Result<RoleSpec, Error> {
    let (mut src, name, version, mut scm): (String, Option<String>, String, Option<String>) = match v {
        Value::String(s) => {
            let mut parts = s.split(',').map(str::trim);
            let src = parts.next().unwrap_or_default().to_string();
            let version = parts.next().unwrap_or_default().to_string();
            let name = parts.next().filter(|n| !n.is_empty()).map(str::to_string);
            (src, name, version, None)
        }
        Value::Object(m) => {
            let text = |k: &str| {
                m.get(k).and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
            };
            let src = text("src")
                .or_else(|| text("role"))
                .or_else(|| text("name"))
                .unwrap_or_default();
            let name = text("name").filter(|n| text("src").is_some() && n != &src);
            (src, name, text("version").unwrap_or_default(), text("scm"))
        }
        other => {
            return Err(err(format!(
                "a role requirement must be a string or a mapping, got {other}"
            )));
        }
    };
    if let Some(rest) = src.strip_prefix("git+") {
        scm = Some("git".into());
        src = rest.to_string();
    }
    if src.is_empty() {
        return Err(err(format!("a role requirement without src: {v}")));
    }
    let name = name.unwrap_or_else(|| role_name_from_src(&src));
    Ok(RoleSpec {
        src,
        name,
        version,
        scm,
    })
}

/// Runs a program and returns its stdout, or an error quoting its stderr.
fn run(cmd: &mut Command, what: &str) -> Result<Vec<u8>, Error> {
    let out = cmd
        .output()
        .map_err(|e| err(format!("{what}: cannot run it: {e}")))?;
    if !out.status.success() {
        return Err(err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// Clones `src` (a git URL or path) at `version` into a new temporary folder.
fn clone(src: &str, version: &str) -> Result<tempfile::TempDir, Error> {
    let tmp = tempfile::Builder::new()
        .prefix("talon-galaxy-")
        .tempdir()
        .map_err(|e| err(format!("cannot create a temporary folder: {e}")))?;
    let repo = tmp.path().join("repo");
    run(
        Command::new("git")
            .args(["clone", "--quiet", "--", src])
            .arg(&repo),
        &format!("git clone {src}"),
    )?;
    if !version.is_empty() && version != "HEAD" {
        run(
            Command::new("git")
                .arg("-C")
                .arg(&repo)
                .args(["checkout", "--quiet", version, "--"]),
            &format!("git checkout {version} of {src}"),
        )?;
    }
    Ok(tmp)
}

/// Installs one role; returns the dependencies its `meta/main.yml` names with a source.
fn install_role(spec: &RoleSpec, roles_path: &Path, force: bool) -> Result<Vec<RoleSpec>, Error> {
    let dest = roles_path.join(&spec.name);
    let shown = if spec.version.is_empty() {
        spec.name.clone()
    } else {
        format!("{} ({})", spec.name, spec.version)
    };
    if dest.exists() && !force {
        println!("- {shown} is already installed, skipping.");
        return Ok(Vec::new());
    }
    let is_git = spec.scm.as_deref() == Some("git");
    let local = Path::new(spec.src.strip_prefix("file://").unwrap_or(&spec.src)).to_path_buf();
    let tarball = [".tar.gz", ".tgz", ".tar", ".tar.bz2"]
        .iter()
        .any(|e| spec.src.ends_with(e));
    if let Some(scm) = spec.scm.as_deref().filter(|s| *s != "git") {
        return Err(err(format!(
            "role {}: scm '{scm}' is not supported (git is)",
            spec.name
        )));
    }
    if !(is_git || (tarball && local.is_file())) {
        return Err(err(format!(
            "- {}: talon galaxy installs roles from git (src: git+URL, or scm: git) and local tarballs; '{}' would need a Galaxy server or HTTP download",
            spec.name, spec.src
        )));
    }
    std::fs::create_dir_all(roles_path)
        .map_err(|e| err(format!("cannot create {}: {e}", roles_path.display())))?;
    println!("- extracting {} to {}", spec.name, dest.display());
    // Unpack into a fresh folder beside the destination, then rename into place.
    let staging = tempfile::Builder::new()
        .prefix(".talon-galaxy-")
        .tempdir_in(roles_path)
        .map_err(|e| err(format!("cannot create a folder in {}: {e}", roles_path.display())))?;
    if is_git {
        let repo = clone(&spec.src, &spec.version)?;
        let archive = run(
            Command::new("git").arg("-C").arg(repo.path().join("repo")).args([
                "archive",
                "--format=tar",
                "HEAD",
            ]),
            &format!("git archive of {}", spec.src),
        )?;
        let tar_file = repo.path().join("role.tar");
        std::fs::write(&tar_file, archive)
            .map_err(|e| err(format!("cannot write {}: {e}", tar_file.display())))?;
        run(
            Command::new("tar")
                .arg("-xf")
                .arg(&tar_file)
                .arg("-C")
                .arg(staging.path()),
            "tar",
        )?;
    } else {
        // A role tarball has one top folder (`repo-1.0/`), which ansible-galaxy drops.
        run(
            Command::new("tar")
                .arg("-xf")
                .arg(&local)
                .arg("-C")
                .arg(staging.path())
                .arg("--strip-components=1"),
            &format!("tar of {}", local.display()),
        )?;
    }
    let meta = staging.path().join("meta");
    std::fs::create_dir_all(&meta).map_err(|e| err(format!("cannot create {}: {e}", meta.display())))?;
    let date = chrono::Utc::now().format("%a %b %e %H:%M:%S %Y");
    let version = if spec.version.is_empty() {
        "''".to_string()
    } else {
        spec.version.clone()
    };
    std::fs::write(
        meta.join(".galaxy_install_info"),
        format!("install_date: {date}\nversion: {version}\n"),
    )
    .map_err(|e| err(format!("cannot write the install info: {e}")))?;
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| err(format!("cannot remove {}: {e}", dest.display())))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &dest)
        .map_err(|e| err(format!("cannot move the role into {}: {e}", dest.display())))?;
    println!("- {shown} was installed successfully");
    // Dependencies with a source are installed too (ansible-galaxy's dependency install).
    let mut deps = Vec::new();
    let meta_main = ["main.yml", "main.yaml"]
        .iter()
        .map(|f| meta.join(f))
        .find(|p| p.is_file());
    let meta_main = meta_main.map(|p| dest.join("meta").join(p.file_name().unwrap_or_default()));
    if let Some(p) = meta_main
        && let Ok(node) = crate::yaml::load_file(&p)
        && let Some(Value::Array(items)) = node.to_json().get("dependencies").cloned()
    {
        for d in items {
            let has_src = matches!(&d, Value::Object(m) if m.contains_key("src"))
                || matches!(&d, Value::String(s) if s.contains("://") || s.starts_with("git+"));
            if has_src {
                deps.push(role_spec(&d)?);
            }
        }
    }
    Ok(deps)
}

/// ansible-galaxy's default build ignores plus a collection's `build_ignore`.
fn ignored(rel: &str, is_dir: bool, patterns: &[String], ns: &str, name: &str) -> bool {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    if is_dir && ["CVS", ".bzr", ".hg", ".git", ".svn", "__pycache__", ".tox"].contains(&base) {
        return true;
    }
    let built = format!("{ns}-{name}-*.tar.gz");
    let fixed = [
        "MANIFEST.json",
        "FILES.json",
        "galaxy.yml",
        "galaxy.yaml",
        ".git",
        "*.pyc",
        "*.retry",
        "tests/output",
    ];
    fixed
        .iter()
        .map(|s| s.to_string())
        .chain(std::iter::once(built))
        .chain(patterns.iter().cloned())
        .any(|p| crate::modules::files::fnmatch::fnmatch(rel, &p))
}

/// The entries of `FILES.json` for the folder `root` (depth first, sorted by name), copying
/// each file to `dest`.
fn walk_copy(
    root: &Path,
    rel: &str,
    dest: &Path,
    patterns: &[String],
    ns: &str,
    name: &str,
    out: &mut Vec<Value>,
) -> Result<(), Error> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| err(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    for n in names {
        let r = if rel.is_empty() {
            n.clone()
        } else {
            format!("{rel}/{n}")
        };
        let abs = root.join(&r);
        let is_dir = abs.is_dir();
        if ignored(&r, is_dir, patterns, ns, name) {
            continue;
        }
        if is_dir {
            out.push(
                json!({"name": r, "ftype": "dir", "chksum_type": null, "chksum_sha256": null, "format": 1}),
            );
            std::fs::create_dir_all(dest.join(&r))
                .map_err(|e| err(format!("cannot create {}: {e}", dest.join(&r).display())))?;
            if !abs.is_symlink() {
                walk_copy(root, &r, dest, patterns, ns, name, out)?;
            }
        } else {
            let data = std::fs::read(&abs).map_err(|e| err(format!("cannot read {}: {e}", abs.display())))?;
            let sum = hex::encode(Sha256::digest(&data));
            std::fs::write(dest.join(&r), &data)
                .map_err(|e| err(format!("cannot write {}: {e}", dest.join(&r).display())))?;
            out.push(json!({"name": r, "ftype": "file", "chksum_type": "sha256", "chksum_sha256": sum, "format": 1}));
        }
    }
    Ok(())
}

/// Python's `json.dumps(v, indent=1)` (what ansible-galaxy writes MANIFEST.json and FILES.json
/// with).
fn json_indent1(v: &Value) -> String {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b" "));
    match serde::Serialize::serialize(v, &mut ser) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => v.to_string(),
    }
}

/// Installs one collection requirement (`name`/`source`/`type`/`version`).
fn install_collection(c: &Value, base: &Path, root: &Path, force: bool) -> Result<(), Error> {
    let (name, mut kind, version, source): (String, Option<String>, String, Option<String>) = match c {
        Value::String(s) => (s.clone(), None, String::new(), None),
        Value::Object(m) => {
            let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
            (
                text("name").unwrap_or_default(),
                text("type"),
                text("version").unwrap_or_default(),
                text("source"),
            )
        }
        other => {
            return Err(err(format!(
                "a collection requirement must be a string or a mapping, got {other}"
            )));
        }
    };
    let mut src = source.unwrap_or_else(|| name.clone());
    if let Some(rest) = src.strip_prefix("git+") {
        kind = Some("git".into());
        src = rest.to_string();
    }
    let kind = kind.unwrap_or_else(|| {
        if src.ends_with(".tar.gz") {
            "file".into()
        } else if base.join(&src).is_dir() {
            "dir".into()
        } else {
            "galaxy".into()
        }
    });
    let (_keep, tree): (Option<tempfile::TempDir>, PathBuf) = match kind.as_str() {
        "git" => {
            // `URL#subdir` names a collection inside the repository.
            let (url, sub) = match src.split_once('#') {
                Some((u, s)) => (u.to_string(), Some(s.to_string())),
                None => (src.clone(), None),
            };
            let tmp = clone(&url, &version)?;
            let mut t = tmp.path().join("repo");
            if let Some(s) = sub {
                t = t.join(s);
            }
            (Some(tmp), t)
        }
        "dir" => (None, base.join(&src)),
        "file" => {
            let tmp = tempfile::Builder::new()
                .prefix("talon-galaxy-")
                .tempdir()
                .map_err(|e| err(format!("cannot create a temporary folder: {e}")))?;
            run(
                Command::new("tar")
                    .arg("-xzf")
                    .arg(base.join(&src))
                    .arg("-C")
                    .arg(tmp.path()),
                &format!("tar of {src}"),
            )?;
            let t = tmp.path().to_path_buf();
            (Some(tmp), t)
        }
        other => {
            return Err(err(format!(
                "collection '{name}' (type {other}) would need a Galaxy server; talon galaxy installs collections of type git, dir and file"
            )));
        }
    };
    // A built collection (MANIFEST.json) is copied as it is; a source tree gets its manifest.
    let manifest_path = tree.join("MANIFEST.json");
    let (ns, cname, cversion, info) = if manifest_path.is_file() {
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|e| err(format!("cannot read {}: {e}", manifest_path.display())))?;
        let m: Value =
            serde_json::from_str(&text).map_err(|e| err(format!("{}: {e}", manifest_path.display())))?;
        let ci = m.get("collection_info").cloned().unwrap_or(Value::Null);
        let s = |k: &str| ci.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        (s("namespace"), s("name"), s("version"), None)
    } else {
        let galaxy = ["galaxy.yml", "galaxy.yaml"]
            .iter()
            .map(|f| tree.join(f))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                err(format!(
                    "Collection at '{}' does not have a MANIFEST.json or galaxy.yml file",
                    tree.display()
                ))
            })?;
        let g = crate::yaml::load_file(&galaxy)
            .map_err(|e| err(format!("{e}")))?
            .to_json();
        for k in ["namespace", "name", "version", "readme", "authors"] {
            if g.get(k).is_none() {
                return Err(err(format!(
                    "The collection galaxy.yml at '{}' is missing the following mandatory keys: {k}",
                    galaxy.display()
                )));
            }
        }
        let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        (s("namespace"), s("name"), s("version"), Some(g))
    };
    let dest = root.join("ansible_collections").join(&ns).join(&cname);
    // ansible-galaxy installs a collection from a git repository or a folder every time (its
    // content may have changed under the same version); a tarball only with --force.
    if dest.exists() && !force && kind == "file" {
        println!(
            "Nothing to do. All requested collections are already installed. If you want to reinstall them, consider using `--force`."
        );
        return Ok(());
    }
    println!("Installing '{ns}.{cname}:{cversion}' to '{}'", dest.display());
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| err(format!("cannot remove {}: {e}", dest.display())))?;
    }
    std::fs::create_dir_all(&dest).map_err(|e| err(format!("cannot create {}: {e}", dest.display())))?;
    match info {
        None => {
            let mut files = Vec::new();
            walk_copy(&tree, "", &dest, &[], "", "", &mut files)?;
            for f in ["MANIFEST.json", "FILES.json"] {
                if tree.join(f).is_file() {
                    std::fs::copy(tree.join(f), dest.join(f))
                        .map_err(|e| err(format!("cannot copy {f}: {e}")))?;
                }
            }
        }
        Some(g) => {
            let patterns: Vec<String> = g
                .get("build_ignore")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let mut files = vec![
                json!({"name": ".", "ftype": "dir", "chksum_type": null, "chksum_sha256": null, "format": 1}),
            ];
            walk_copy(&tree, "", &dest, &patterns, &ns, &cname, &mut files)?;
            let files_json = json_indent1(&json!({"files": files, "format": 1}));
            let mut ci = Map::new();
            let keys: [(&str, Value); 15] = [
                ("namespace", Value::Null),
                ("name", Value::Null),
                ("version", Value::Null),
                ("authors", json!([])),
                ("readme", Value::Null),
                ("tags", json!([])),
                ("description", Value::Null),
                ("license", json!([])),
                ("license_file", Value::Null),
                ("dependencies", json!({})),
                ("repository", Value::Null),
                ("documentation", Value::Null),
                ("homepage", Value::Null),
                ("issues", Value::Null),
                ("", Value::Null),
            ];
            for (k, default) in keys.into_iter().filter(|(k, _)| !k.is_empty()) {
                let v = g.get(k).cloned().unwrap_or(default);
                // ansible-galaxy writes a single license string as a list.
                let v = match (k, v) {
                    ("license", Value::String(s)) => json!([s]),
                    (_, v) => v,
                };
                ci.insert(k.to_string(), v);
            }
            let manifest = json!({
                "collection_info": ci,
                "file_manifest_file": {
                    "name": "FILES.json",
                    "ftype": "file",
                    "chksum_type": "sha256",
                    "chksum_sha256": hex::encode(Sha256::digest(files_json.as_bytes())),
                    "format": 1
                },
                "format": 1
            });
            std::fs::write(dest.join("FILES.json"), &files_json)
                .map_err(|e| err(format!("cannot write FILES.json: {e}")))?;
            std::fs::write(dest.join("MANIFEST.json"), json_indent1(&manifest))
                .map_err(|e| err(format!("cannot write MANIFEST.json: {e}")))?;
        }
    }
    println!(
        "Created collection for {ns}.{cname}:{cversion} at {}",
        dest.display()
    );
    println!("{ns}.{cname}:{cversion} was installed successfully");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_requirements_in_ansible_galaxys_forms() {
        let s = role_spec(&json!(
            "git+https://example.org/acme/ansible-role-nginx.git,v1.2,nginx"
        ))
        .unwrap();
        assert_eq!(
            s,
            RoleSpec {
                src: "https://example.org/acme/ansible-role-nginx.git".into(),
                name: "nginx".into(),
                version: "v1.2".into(),
                scm: Some("git".into())
            }
        );
        let s = role_spec(&json!({"src": "file:///srv/roles/base", "scm": "git"})).unwrap();
        assert_eq!((s.name.as_str(), s.version.as_str()), ("base", ""));
        assert_eq!(role_name_from_src("/tmp/r/web-1.0.tar.gz"), "web-1.0");
        assert!(role_spec(&json!(3)).is_err());
    }

    #[test]
    fn build_ignores_as_ansible_galaxy() {
        assert!(ignored("a.pyc", false, &[], "n", "c"));
        assert!(ignored("tests/output", true, &[], "n", "c"));
        assert!(ignored(".git", true, &[], "n", "c"));
        assert!(ignored("n-c-1.0.0.tar.gz", false, &[], "n", "c"));
        assert!(ignored("docs/x.md", false, &["docs/*".into()], "n", "c"));
        assert!(!ignored("roles/x/tasks/main.yml", false, &[], "n", "c"));
    }
}
