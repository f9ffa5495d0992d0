//! The lab image: a Debian root filesystem from debootstrap (cached by recipe hash), imported
//! as a base image, and the lab image with sshd and the lab users built on it, all locally (no
//! registry).

use super::*;

/// Makes sure the lab image exists and matches the recipe in `lab/`; returns its tag,
/// [`IMAGE_TAG`].
///
/// Order of preference for the base: the imported debootstrap image [`BASE_IMAGE_TAG`], then
/// `debian:bookworm` if present, then a cached root filesystem tarball
/// (`$XDG_CACHE_HOME/talon/lab/bookworm-rootfs.tar`, default `~/.cache/...`), and last a fresh
/// `debootstrap --variant=minbase` (about a minute with a nearby mirror; `TALON_LAB_MIRROR`
/// overrides `http://deb.debian.org/debian`). Never pulls from a registry. Safe to call from
/// several threads and processes at once (a lock file serialises builds).
///
/// Errors: [`LabError::DockerMissing`], [`LabError::DebootstrapMissing`],
/// [`LabError::Debootstrap`], Docker build/import failures.
pub fn ensure_image() -> Result<String, LabError> {
    let recipe = recipe_hash(&[DOCKERFILE, ENTRYPOINT, SSHD_CONFIG]);
    ensure_built(IMAGE_TAG, &recipe, DOCKERFILE, base_image)
}

/// Makes sure the lab image with extras exists and matches the recipe in `lab/` (both
/// Dockerfiles); returns its tag, [`EXTRAS_IMAGE_TAG`]. Builds [`IMAGE_TAG`] first if needed
/// ([`ensure_image`]), then installs Debian packages on top of it (`docker.io` for the CLI,
/// `docker-compose`, `systemd`, `dbus`: about 20 s with a nearby mirror, ~300 MB more). No
/// registry is asked.
///
/// Errors: those of [`ensure_image`]; a failed `docker build` (e.g. the Debian mirror is not
/// reachable) as [`LabError::Docker`] with the end of the build output.
pub fn ensure_extras_image() -> Result<String, LabError> {
    let base = ensure_image()?;
    let recipe = recipe_hash(&[DOCKERFILE, ENTRYPOINT, SSHD_CONFIG, DOCKERFILE_EXTRAS]);
    ensure_built(EXTRAS_IMAGE_TAG, &recipe, DOCKERFILE_EXTRAS, |_| Ok(base))
}

/// Builds `tag` from `dockerfile` unless an image of that tag carries the label `recipe` already.
/// `base` picks the `FROM` image (called only when a build is needed, under the build lock).
pub(super) fn ensure_built(
    tag: &str,
    recipe: &str,
    dockerfile: &str,
    base: impl FnOnce(&Path) -> Result<String, LabError>,
) -> Result<String, LabError> {
    static IN_PROCESS: Mutex<()> = Mutex::new(());
    let _guard = IN_PROCESS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if image_label(tag, RECIPE_LABEL)?.as_deref() == Some(recipe) {
        return Ok(tag.to_string());
    }
    let cache = cache_dir()?;
    fs::create_dir_all(&cache).map_err(io_err(&cache))?;
    let lock_path = cache.join("image.lock");
    let lock = fs::File::create(&lock_path).map_err(io_err(&lock_path))?;
    lock.lock().map_err(io_err(&lock_path))?;
    // Another process may have built it while this one waited for the lock.
    if image_label(tag, RECIPE_LABEL)?.as_deref() == Some(recipe) {
        return Ok(tag.to_string());
    }
    let base = base(&cache)?;
    let previous = image_id(tag)?;
    build_image(&base, tag, dockerfile, recipe)?;
    if let Some(old) = previous.filter(|old| image_id(tag).ok().flatten().as_ref() != Some(old)) {
        // The outdated image is now untagged; containers of an old lab may still use it.
        if let Err(e) = docker(&["image", "rm", &old], None) {
            tracing::debug!("keeping the previous lab image {old}: {e}");
        }
    }
    Ok(tag.to_string())
}

/// Hash of an image recipe (its files), stored as an image label to notice a changed recipe.
pub(super) fn recipe_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..6])
}

/// `None` if the image does not exist; else the value of `label` on it ("" when unset).
pub(super) fn image_label(image: &str, label: &str) -> Result<Option<String>, LabError> {
    inspect_image(image, &format!("{{{{ index .Config.Labels \"{label}\" }}}}"))
}

/// The id of a local image, `None` if it does not exist.
pub(super) fn image_id(image: &str) -> Result<Option<String>, LabError> {
    inspect_image(image, "{{.Id}}")
}

/// `docker image inspect --format FORMAT IMAGE`, trimmed; `None` if there is no such image.
pub(super) fn inspect_image(image: &str, format: &str) -> Result<Option<String>, LabError> {
    match docker(&["image", "inspect", "--format", format, image], None) {
        Ok(out) => Ok(Some(out.trim().to_string())),
        Err(LabError::Docker { message, .. }) if message.contains("No such image") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The cache folder for the root filesystem tarball and build lock.
pub(super) fn cache_dir() -> Result<PathBuf, LabError> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".cache"),
            None => return Err(LabError::NoCacheDir),
        },
    };
    Ok(base.join("talon").join("lab"))
}

/// Picks (and if needed makes) the local base image the lab image is built from.
pub(super) fn base_image(cache: &Path) -> Result<String, LabError> {
    if image_id(BASE_IMAGE_TAG)?.is_some() {
        return Ok(BASE_IMAGE_TAG.to_string());
    }
    if image_id(DEBIAN_IMAGE)?.is_some() {
        return Ok(DEBIAN_IMAGE.to_string());
    }
    let tarball = cache.join(format!("{SUITE}-rootfs.tar"));
    if !tarball.is_file() {
        build_rootfs(cache, &tarball)?;
    }
    tracing::info!("importing {} as {BASE_IMAGE_TAG}", tarball.display());
    docker(
        &[
            "import",
            "--change",
            "CMD [\"/bin/bash\"]",
            "--message",
            "talon lab base: debootstrap --variant=minbase",
            &tarball.to_string_lossy(),
            BASE_IMAGE_TAG,
        ],
        None,
    )?;
    Ok(BASE_IMAGE_TAG.to_string())
}

/// Runs debootstrap into a scratch folder, trims it, and writes it as `tarball`.
pub(super) fn build_rootfs(cache: &Path, tarball: &Path) -> Result<(), LabError> {
    let program = find_debootstrap()?;
    let work = cache.join(format!("rootfs-build.{}", std::process::id()));
    remove_tree(&work)?;
    let log = cache.join("debootstrap.log");
    let mirror = std::env::var("TALON_LAB_MIRROR").unwrap_or_else(|_| MIRROR.to_string());
    tracing::info!("building the lab root filesystem with debootstrap from {mirror} (once; about a minute)");
    let include = format!("--include={}", PACKAGES.join(","));
    let args: [&OsStr; 5] = [
        "--variant=minbase".as_ref(),
        include.as_ref(),
        SUITE.as_ref(),
        work.as_os_str(),
        mirror.as_ref(),
    ];
    let out = run_tool(&program, &args, None, &[("DEBIAN_FRONTEND", "noninteractive")])
        .map_err(io_err(Path::new(&program)))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    fs::write(&log, &text).map_err(io_err(&log))?;
    if !out.status.success() {
        let _ = remove_tree(&work);
        return Err(LabError::Debootstrap {
            status: out.status.to_string(),
            log,
            tail: tail(&text, 15),
        });
    }
    // Smaller image: package lists, downloaded debs and docs are not needed; host keys made by
    // openssh-server's postinst must not be shared by every lab (each host gets its own).
    for sub in [
        "var/lib/apt/lists",
        "var/cache/apt/archives",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/locale",
    ] {
        empty_dir(&work.join(sub))?;
    }
    let ssh_dir = work.join("etc/ssh");
    for entry in fs::read_dir(&ssh_dir).map_err(io_err(&ssh_dir))? {
        let entry = entry.map_err(io_err(&ssh_dir))?;
        if entry.file_name().to_string_lossy().starts_with("ssh_host_") {
            fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?;
        }
    }
    let partial = tarball.with_extension("tar.partial");
    let args: [&OsStr; 6] = [
        "-C".as_ref(),
        work.as_os_str(),
        "--numeric-owner".as_ref(),
        "-cf".as_ref(),
        partial.as_os_str(),
        ".".as_ref(),
    ];
    let out = run_tool("tar", &args, None, &[]).map_err(|e| LabError::Tool {
        program: "tar".to_string(),
        message: e.to_string(),
    })?;
    remove_tree(&work)?;
    if !out.status.success() {
        return Err(LabError::Tool {
            program: "tar".to_string(),
            message: tool_failure(&out),
        });
    }
    fs::rename(&partial, tarball).map_err(io_err(tarball))
}

/// `debootstrap` on PATH, or in /usr/sbin (not on a non-root user's PATH on Debian).
pub(super) fn find_debootstrap() -> Result<String, LabError> {
    for candidate in ["debootstrap", "/usr/sbin/debootstrap"] {
        match Command::new(candidate)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        {
            Ok(_) => return Ok(candidate.to_string()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(Path::new(candidate))(e)),
        }
    }
    Err(LabError::DebootstrapMissing)
}

/// Builds `tag` from `base` with `dockerfile` and the other files in `lab/`, labelled with
/// `recipe`.
pub(super) fn build_image(base: &str, tag: &str, dockerfile: &str, recipe: &str) -> Result<(), LabError> {
    let context = tempfile::tempdir().map_err(io_err(Path::new("temporary folder")))?;
    for (name, text, mode) in [
        ("Dockerfile", dockerfile, 0o644),
        ("entrypoint.sh", ENTRYPOINT, 0o755),
        ("sshd_config", SSHD_CONFIG, 0o644),
    ] {
        write_atomic(&context.path().join(name), text.as_bytes(), mode)?;
    }
    tracing::info!("building {tag} from {base}");
    let base_arg = format!("BASE={base}");
    let label_arg = format!("{RECIPE_LABEL}={recipe}");
    let context_arg = context.path().to_string_lossy().into_owned();
    let args = [
        "build",
        "--build-arg",
        &base_arg,
        "--label",
        &label_arg,
        "--tag",
        tag,
        &context_arg,
    ];
    // The classic builder uses local images for FROM without asking a registry.
    let out = run_tool("docker", &args, None, &[("DOCKER_BUILDKIT", "0")]).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => LabError::DockerMissing,
        _ => io_err(Path::new("docker"))(e),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Err(LabError::Docker {
            action: args.join(" "),
            message: format!("{}\n({})", tail(&text, 30), out.status),
        })
    }
}

/// One regular file in a tar stream for `docker cp --archive -`.
pub(super) struct TarEntry<'a> {
    path: &'a str,
    mode: u32,
    /// Owner uid; the gid is the same (each user has its own group).
    uid: u32,
    data: &'a [u8],
}

impl<'a> TarEntry<'a> {
    pub(super) fn file(path: &'a str, mode: u32, uid: u32, data: &'a [u8]) -> Self {
        TarEntry {
            path,
            mode,
            uid,
            data,
        }
    }
}

/// A POSIX ustar archive of regular files (paths under 100 bytes), as `docker cp -` reads it.
/// Only files: the folders exist in the image with the right owners and modes already.
pub(super) fn tar_archive(entries: &[TarEntry<'_>]) -> Vec<u8> {
    let mtime = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut out = Vec::new();
    for entry in entries {
        let mut header = [0u8; 512];
        let mut put = |offset: usize, len: usize, value: &[u8]| {
            let n = value.len().min(len);
            header[offset..offset + n].copy_from_slice(&value[..n]);
        };
        put(0, 100, entry.path.as_bytes());
        put(100, 8, format!("{:07o}\0", entry.mode).as_bytes());
        put(108, 8, format!("{:07o}\0", entry.uid).as_bytes());
        put(116, 8, format!("{:07o}\0", entry.uid).as_bytes());
        put(124, 12, format!("{:011o}\0", entry.data.len()).as_bytes());
        put(136, 12, format!("{mtime:011o}\0").as_bytes());
        put(148, 8, b"        ");
        put(156, 1, b"0");
        put(257, 8, b"ustar\x0000");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(entry.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}
