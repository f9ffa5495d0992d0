//! ansible.builtin.git's helper functions (ansible-core 2.19), one for one and in the same
//! order of commands: what a remote calls a branch or a tag (`ls-remote`), the head branch
//! (`.git/HEAD`, or the remote's `HEAD` when detached), the remote head, the remote URL, fetch,
//! clone, the switch to `version`, submodules, and the `diff`. Their decisions read git's output
//! as the module reads it (a version is a branch when its name is anywhere in the listing).

use serde_json::{Value, json};

use super::host::{Cmd, Flow, Host, Ran, Read, check_rc, exit, fail, read_of, with_run};
use crate::modules::ModuleOutcome;

/// The host's git with what the module's helpers read from its parameters.
pub struct Git<'c> {
    /// Runs the commands.
    pub host: Host<'c>,
    /// `module.params['repo']`, as the task gave it.
    pub given_repo: String,
    /// The expanded `~` of the module's user (`os.path.expanduser`).
    pub home: String,
    /// The repository folder of `dest` (`get_repo_path(dest, False)`): `dest/.git`, or the
    /// folder a `.git` file names.
    pub git_dir: String,
    /// `repo` as the module uses it (a local path as a `file://` URL).
    pub repo: String,
    /// The task's `remote`.
    pub remote: String,
    /// The task's `depth`.
    pub depth: Option<i64>,
    /// The task's `bare`.
    pub bare: bool,
}

/// `head_splitter`: the branch a `HEAD` file's first line names, as the module splits it.
pub fn head_splitter(raw: &str, remote: &str) -> String {
    let replaced = raw.replacen(&format!("refs/remotes/{remote}"), "", 1);
    let last = replaced.split(' ').next_back().unwrap_or_default();
    let part = last.splitn(3, '/').last().unwrap_or_default();
    part.trim_end_matches('\n').to_string()
}

/// `str(x)` of an optional branch: Python prints a missing one as `None`.
pub fn or_none(b: &Option<String>) -> String {
    b.clone().unwrap_or_else(|| "None".into())
}

impl Git<'_> {
    fn git(&self, args: &[&str]) -> Vec<String> {
        self.host.argv(args)
    }

    /// `get_version`: `git rev-parse HEAD` in `dest`, stdout without its newline.
    pub async fn version(&self, dest: &str) -> Flow<String> {
        let r = self
            .host
            .run(Some(dest), self.git(&["rev-parse", "HEAD"]))
            .await?;
        Ok(r.out.trim_end_matches('\n').to_string())
    }

    /// `is_remote_tag`: `git ls-remote REMOTE -t refs/tags/VERSION` (check_rc) names `version`.
    pub async fn is_remote_tag(&self, dest: Option<&str>, remote: &str, version: &str) -> Flow<bool> {
        let argv = self.git(&["ls-remote", remote, "-t", &format!("refs/tags/{version}")]);
        let r = self.host.check(dest, argv).await?;
        Ok(r.out.contains(version))
    }

    /// `is_remote_branch`: `git ls-remote REMOTE -h refs/heads/VERSION` (check_rc) names it.
    pub async fn is_remote_branch(&self, dest: Option<&str>, remote: &str, version: &str) -> Flow<bool> {
        let argv = self.git(&["ls-remote", remote, "-h", &format!("refs/heads/{version}")]);
        let r = self.host.check(dest, argv).await?;
        Ok(r.out.contains(version))
    }

    /// `get_branches` from a `git branch --no-color -a` that ran.
    fn branches_of(r: &Ran) -> Flow<Vec<String>> {
        if r.rc != 0 {
            let o = ModuleOutcome::failed(format!("Could not determine branch data - received {}", r.out))
                .with("stdout", r.out.as_str())
                .with("stdout_lines", crate::modules::sysutil::splitlines(&r.out))
                .with("stderr", r.err.as_str())
                .with("stderr_lines", crate::modules::sysutil::splitlines(&r.err));
            return Err(exit(o));
        }
        Ok(r.out
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }

    /// `get_branches`.
    pub async fn branches(&self, dest: &str) -> Flow<Vec<String>> {
        let r = self
            .host
            .run(Some(dest), self.git(&["branch", "--no-color", "-a"]))
            .await?;
        Self::branches_of(&r)
    }

    /// `is_local_branch`.
    pub async fn is_local_branch(&self, dest: &str, branch: &str) -> Flow<bool> {
        let b = self.branches(dest).await?;
        Ok(b.iter().any(|l| l == branch || *l == format!("* {branch}")))
    }

    /// `get_head_branch`: the branch `HEAD` names, or (detached) the one the remote's `HEAD`
    /// names; `None` when that file is missing. `bare` as the caller passes it.
    pub async fn head_branch(&self, dest: &str, remote: &str, bare: bool) -> Flow<Option<String>> {
        let repo = if bare {
            dest.to_string()
        } else {
            self.git_dir.clone()
        };
        let head = format!("{repo}/HEAD");
        let remote_head = format!("{repo}/refs/remotes/{remote}/HEAD");
        let q = crate::transport::quote::quote;
        let extra = format!(
            "step head line {}\nstep rhead line {}\n",
            q(&head),
            q(&remote_head)
        );
        let cmd = Cmd::new(Some(dest), &self.git(&["branch", "--no-color", "-a"]));
        let (ran, named) = self.host.run_all(&[cmd], &extra).await?;
        let branches = Self::branches_of(&ran[0])?;
        let detached = branches.iter().any(|b| {
            b.starts_with("* ")
                && (b.contains("no branch") || b.contains("detached from") || b.contains("detached at"))
        });
        let (file, r) = if detached {
            (remote_head, &named[1].1)
        } else {
            (head, &named[0].1)
        };
        match read_of(r) {
            Read::Missing => Ok(None),
            Read::Unreadable => Err(fail(format!("Unable to read {file}"))),
            Read::Text(t) if t.is_empty() => Ok(None),
            Read::Text(t) => Ok(Some(head_splitter(&t, remote))),
        }
    }

    /// `get_remote_head`: the SHA `version` has on `remote` (`ls-remote`), or `version` itself
    /// when it is neither a branch nor a tag there.
    pub async fn remote_head(
        &self,
        dest: Option<&str>,
        version: &str,
        remote: &str,
        bare: bool,
    ) -> Flow<String> {
        let cloning =
            remote == self.given_repo || remote == format!("file://{}", self.expanduser(&self.given_repo));
        let cwd = if cloning { None } else { dest };
        let mut tag = false;
        let argv = if version == "HEAD" {
            if cloning {
                self.git(&["ls-remote", remote, "-h", "HEAD"])
            } else {
                let d = dest.unwrap_or_default();
                let head = or_none(&self.head_branch(d, remote, bare).await?);
                self.git(&["ls-remote", remote, "-h", &format!("refs/heads/{head}")])
            }
        } else if self.is_remote_branch(dest, remote, version).await? {
            self.git(&["ls-remote", remote, "-h", &format!("refs/heads/{version}")])
        } else if self.is_remote_tag(dest, remote, version).await? {
            tag = true;
            self.git(&["ls-remote", remote, "-t", &format!("refs/tags/{version}*")])
        } else {
            return Ok(version.to_string());
        };
        let r = self.host.check(cwd, argv).await?;
        if r.out.is_empty() {
            let o = ModuleOutcome::failed(format!("Could not determine remote revision for {version}"));
            return Err(exit(with_run(o, &r)));
        }
        let mut out = r.out.clone();
        if tag {
            for line in r.out.split('\n') {
                if line.ends_with(&format!("{version}^{{}}")) {
                    out = line.to_string();
                    break;
                } else if line.ends_with(version) {
                    out = line.to_string();
                }
            }
        }
        Ok(out.split_whitespace().next().unwrap_or_default().to_string())
    }

    /// `os.path.expanduser` for `~` and `~/...` (a `~user` prefix never reaches here).
    pub fn expanduser(&self, p: &str) -> String {
        match p.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("{}{rest}", self.home),
            _ => p.to_string(),
        }
    }

    /// `get_remote_url`: `git ls-remote --get-url REMOTE`, `None` when it fails.
    pub async fn remote_url(&self, dest: &str, remote: &str) -> Flow<Option<String>> {
        let r = self
            .host
            .run(Some(dest), self.git(&["ls-remote", "--get-url", remote]))
            .await?;
        Ok((r.rc == 0).then(|| r.out.trim_end_matches('\n').to_string()))
    }

    /// `unfrackgitpath` compared: the same URL or the same normalised path.
    pub fn same_url(&self, a: &str, b: &str) -> bool {
        a == b || normpath(&self.expanduser(a)) == normpath(&self.expanduser(b))
    }

    /// `set_remote_url`: points `remote` at `repo` when it differs; whether it changed.
    pub async fn set_remote_url(&self, repo: &str, dest: &str, remote: &str) -> Flow<bool> {
        let url = self.remote_url(dest, remote).await?;
        if url.as_deref().is_some_and(|u| self.same_url(u, repo)) {
            return Ok(false);
        }
        let r = self
            .host
            .run(Some(dest), self.git(&["remote", "set-url", remote, repo]))
            .await?;
        if r.rc != 0 {
            return Err(fail(format!(
                "Failed to set a new url {repo} for {remote}: {} {}",
                r.out, r.err
            )));
        }
        Ok(url.is_some())
    }

    /// `fetch` (without `refspec`): the minimal refs for `version` with `depth`, else
    /// everything with `--tags` (`+refs/heads/*`, `+refs/tags/*` for a bare repository).
    pub async fn fetch(&self, dest: &str, version: &str, force: bool) -> Flow<()> {
        let (repo, remote, depth, bare) = (self.repo.as_str(), self.remote.as_str(), self.depth, self.bare);
        self.set_remote_url(repo, dest, remote).await?;
        let mut cmd = self.git(&["fetch"]);
        // A missing head branch is Python's None: it counts as a refspec but run_command drops it.
        let mut refspecs: Vec<Option<String>> = Vec::new();
        if let Some(d) = depth.filter(|d| *d != 0) {
            let current = self.head_branch(dest, remote, false).await?;
            if version == "HEAD" {
                refspecs.push(current);
            } else if self.is_remote_branch(Some(dest), repo, version).await? {
                if current.as_deref() != Some(version) {
                    refspecs.push(Some(format!("+refs/heads/{version}:refs/heads/{version}")));
                }
                refspecs.push(Some(format!(
                    "+refs/heads/{version}:refs/remotes/{remote}/{version}"
                )));
            } else if self.is_remote_tag(Some(dest), repo, version).await? {
                refspecs.push(Some(format!("+refs/tags/{version}:refs/tags/{version}")));
            }
            if !refspecs.is_empty() {
                cmd.extend(["--depth".to_string(), d.to_string()]);
            }
        }
        if depth.unwrap_or(0) == 0 || refspecs.is_empty() {
            if bare {
                refspecs = vec![
                    Some("+refs/heads/*:refs/heads/*".into()),
                    Some("+refs/tags/*:refs/tags/*".into()),
                ];
            } else {
                cmd.push("--tags".into());
            }
        }
        if force {
            cmd.push("--force".into());
        }
        cmd.push(remote.to_string());
        cmd.extend(refspecs.into_iter().flatten());
        let r = self.host.run(Some(dest), cmd.clone()).await?;
        if r.rc != 0 {
            let o = ModuleOutcome::failed(format!(
                "Failed to download remote objects and refs: {} {}",
                r.out, r.err
            ))
            .with("cmd", cmd);
            return Err(exit(o));
        }
        Ok(())
    }

    /// `has_local_mods`: `git status --porcelain` lists something but untracked files.
    pub async fn has_local_mods(&self, dest: &str, bare: bool) -> Flow<bool> {
        if bare {
            return Ok(false);
        }
        let r = self
            .host
            .run(Some(dest), self.git(&["status", "--porcelain"]))
            .await?;
        Ok(crate::modules::sysutil::splitlines(&r.out)
            .iter()
            .any(|l| !l.as_str().unwrap_or_default().starts_with("??")))
    }

    /// `reset`: `git reset --hard HEAD` (check_rc).
    pub async fn reset(&self, dest: &str) -> Flow<()> {
        self.host
            .check(Some(dest), self.git(&["reset", "--hard", "HEAD"]))
            .await
            .map(|_| ())
    }

    /// `get_diff`: `{'prepared': ...}` between `before` and `after` (fetching `after` first, as
    /// the module does even in check mode); `None` when they are equal.
    pub async fn diff(&self, dest: &str, before: Option<&str>, after: &str) -> Flow<Option<Value>> {
        let Some(before) = before else {
            return Ok(Some(json!({"prepared": format!(">> Newly checked out {after}")})));
        };
        if before == after {
            return Ok(None);
        }
        self.host.run(None, self.git(&["--version"])).await?;
        self.fetch(dest, after, false).await?;
        let r = self
            .host
            .run(Some(dest), self.git(&["diff", before, after]))
            .await?;
        let text = if r.rc == 0 && !r.out.is_empty() {
            r.out
        } else if r.rc == 0 {
            format!(">> No visual differences between {before} and {after}")
        } else if !r.err.is_empty() {
            format!(
                ">> Failed to get proper diff between {before} and {after}:\n>> {}",
                r.err
            )
        } else {
            format!(">> Failed to get proper diff between {before} and {after}")
        };
        Ok(Some(json!({ "prepared": text })))
    }

    /// `switch_version`: checks out `version` (the head branch for `HEAD`, a remote branch
    /// tracked or reset to the remote's, else a tag or SHA).
    pub async fn switch_version(
        &self,
        dest: &str,
        remote: &str,
        version: &str,
        depth: Option<i64>,
    ) -> Flow<Ran> {
        let cmd;
        let mut branch = None;
        if version == "HEAD" {
            branch = Some(or_none(&self.head_branch(dest, remote, false).await?));
            let b = branch.clone().unwrap_or_default();
            let r = self
                .host
                .run(Some(dest), self.git(&["checkout", "--force", &b]))
                .await?;
            if r.rc != 0 {
                return Err(exit(with_run(
                    ModuleOutcome::failed(format!("Failed to checkout branch {b}")),
                    &r,
                )));
            }
            cmd = self.git(&["reset", "--hard", &format!("{remote}/{b}"), "--"]);
        } else if self.is_remote_branch(Some(dest), remote, version).await? {
            if let Some(d) = depth.filter(|d| *d != 0)
                && !self.is_local_branch(dest, version).await?
            {
                self.set_remote_branch(dest, remote, version, d).await?;
            }
            if !self.is_local_branch(dest, version).await? {
                cmd = self.git(&[
                    "checkout",
                    "--track",
                    "-b",
                    version,
                    &format!("{remote}/{version}"),
                ]);
            } else {
                let r = self
                    .host
                    .run(Some(dest), self.git(&["checkout", "--force", version]))
                    .await?;
                if r.rc != 0 {
                    let o = ModuleOutcome::failed(format!("Failed to checkout branch {version}"));
                    return Err(exit(with_run(o, &r)));
                }
                cmd = self.git(&["reset", "--hard", &format!("{remote}/{version}")]);
            }
        } else {
            cmd = self.git(&["checkout", "--force", version]);
        }
        let r = self.host.run(Some(dest), cmd.clone()).await?;
        if r.rc != 0 {
            let msg = match &branch {
                None => format!("Failed to checkout {version}"),
                Some(b) => format!("Failed to checkout branch {b}"),
            };
            let o = with_run(ModuleOutcome::failed(msg), &r).with("cmd", cmd.join(" "));
            return Err(exit(o));
        }
        Ok(r)
    }

    /// `set_remote_branch`: fetches a branch a shallow clone lacks.
    async fn set_remote_branch(&self, dest: &str, remote: &str, version: &str, depth: i64) -> Flow<()> {
        let argv = self.git(&[
            "fetch",
            &format!("--depth={depth}"),
            remote,
            &format!("+refs/heads/{version}:refs/heads/{version}"),
            &format!("+refs/heads/{version}:refs/remotes/{remote}/{version}"),
        ]);
        let r = self.host.run(Some(dest), argv).await?;
        if r.rc != 0 {
            let o = ModuleOutcome::failed(format!("Failed to fetch branch from remote: {version}"));
            return Err(exit(with_run(o, &r)));
        }
        Ok(())
    }

    /// The submodule paths of `.gitmodules` in `dest` (`None`: no such file), as the module
    /// reads them (`path = ...` lines).
    async fn gitmodules(&self, dest: &str) -> Flow<Option<Vec<String>>> {
        let r = self.host.shell("whole", &format!("{dest}/.gitmodules")).await?;
        match read_of(&r) {
            Read::Missing => Ok(None),
            Read::Unreadable => Err(fail(format!(
                "[Errno 13] Permission denied: '{dest}/.gitmodules'"
            ))),
            Read::Text(t) => Ok(Some(
                t.lines()
                    .filter(|l| l.trim().starts_with("path"))
                    .map(|l| {
                        l.split_once('=')
                            .map(|(_, p)| p.trim().to_string())
                            .unwrap_or_default()
                    })
                    .collect(),
            )),
        }
    }

    /// `submodules_fetch` (without `track_submodules`): whether a submodule is new or its
    /// checkout differs from what the superproject records, after fetching each.
    pub async fn submodules_fetch(&self, dest: &str) -> Flow<bool> {
        let Some(paths) = self.gitmodules(dest).await? else {
            return Ok(false);
        };
        let q = crate::transport::quote::quote;
        let extra: String = paths
            .iter()
            .enumerate()
            .map(|(i, p)| format!("step p{i} there {}\n", q(&format!("{dest}/{p}/.git"))))
            .collect();
        let (_, named) = self.host.run_all(&[], &extra).await?;
        if named.iter().any(|(_, r)| r.rc != 0) {
            return Ok(true);
        }
        self.submodule_versions(dest).await?;
        let argv = self.git(&["submodule", "foreach", &self.host.git, "fetch"]);
        self.host.check(Some(dest), argv).await?;
        let r = self
            .host
            .check(Some(dest), self.git(&["submodule", "status"]))
            .await?;
        Ok(r.out.lines().any(|l| !l.starts_with(' ')))
    }

    /// `get_submodule_versions` (only its failures matter without `track_submodules`).
    async fn submodule_versions(&self, dest: &str) -> Flow<()> {
        let argv = self.git(&["submodule", "foreach", &self.host.git, "rev-parse", "HEAD"]);
        let r = self.host.run(Some(dest), argv).await?;
        if r.rc != 0 {
            let o = ModuleOutcome::failed("Unable to determine hashes of submodules");
            return Err(exit(with_run(o, &r)));
        }
        let mut name: Option<&str> = None;
        for line in r.out.lines() {
            if let Some(rest) = line.strip_prefix("Entering '") {
                name = Some(rest.strip_suffix('\'').unwrap_or(rest));
            } else if line.trim().chars().count() == 40 {
                if name.is_none() {
                    return Err(fail(""));
                }
                name = None;
            } else {
                return Err(fail(format!(
                    "Unable to parse submodule hash line: {}",
                    line.trim()
                )));
            }
        }
        if let Some(n) = name {
            return Err(fail(format!("Unable to find hash for submodule: {n}")));
        }
        Ok(())
    }

    /// `submodule_update` (without `track_submodules`): `git submodule sync`, then `update
    /// --init --recursive` (`--force` with `force`).
    pub async fn submodule_update(&self, dest: &str, force: bool) -> Flow<()> {
        if self.gitmodules(dest).await?.is_none() {
            return Ok(());
        }
        self.host
            .check(Some(dest), self.git(&["submodule", "sync"]))
            .await?;
        let mut argv = self.git(&["submodule", "update", "--init", "--recursive"]);
        if force {
            argv.push("--force".into());
        }
        let r = self.host.run(Some(dest), argv).await?;
        if r.rc != 0 {
            return Err(fail(format!(
                "Failed to init/update submodules: {}{}",
                r.out, r.err
            )));
        }
        Ok(())
    }

    /// `clone`'s command run (`check_rc`), after the folder above `dest` is made.
    pub async fn run_clone(&self, dest_dir: &str, argv: Vec<String>) -> Flow<()> {
        let r = self
            .host
            .run_all(
                &[
                    Cmd::new(None, &["mkdir", "-p", "--", dest_dir]),
                    Cmd {
                        argv: argv.clone(),
                        cwd: Some(dest_dir.to_string()),
                    },
                ],
                "",
            )
            .await?;
        let mut ran = r.0;
        let clone = ran.pop().ok_or_else(|| fail("git clone did not run"))?;
        check_rc(&argv, clone).map(|_| ())
    }
}

/// `os.path.normpath` of an absolute or relative path (lexically; the module's `realpath` also
/// resolves links, which only matters for two local paths).
pub fn normpath(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if abs => {}
            c => parts.push(c),
        }
    }
    let joined = parts.join("/");
    if abs { format!("/{joined}") } else { joined }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn head_files_split_as_the_module_splits_them() {
        assert_eq!(head_splitter("ref: refs/heads/main\n", "origin"), "main");
        assert_eq!(
            head_splitter("ref: refs/heads/feature/x\n", "origin"),
            "feature/x"
        );
        assert_eq!(head_splitter("ref: refs/remotes/origin/main\n", "origin"), "main");
        assert_eq!(head_splitter("520aa82\n", "origin"), "520aa82");
    }

    #[test]
    fn paths_normalise_as_python() {
        assert_eq!(normpath("/srv/./a/../repo.git/"), "/srv/repo.git");
        assert_eq!(normpath("file:///srv/repo.git"), "file:/srv/repo.git");
    }
}
