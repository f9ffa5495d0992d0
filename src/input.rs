//! Reading the controller-side files a run is made of, with a size bound.
//!
//! Every file talon reads whole (playbooks, roles, inventories, variables files, templates,
//! `lookup('file')`, secrets files, `copy src`) goes through here, so a mistyped path such as
//! `-i /dev/zero`, a huge log passed as a vars file or a FIFO that never ends gives a clear error
//! at once instead of exhausting memory. The rules:
//!
//! - a regular file larger than the bound is refused before anything is read (the bound is
//!   checked again while reading, in case the file grows);
//! - a FIFO (`-i <(generate-inventory)`) is read up to the bound;
//! - a device (`/dev/zero`, `/dev/tty`), a socket or a directory is refused without reading;
//! - text must be UTF-8; the error names the file, line and column of the first bad byte.
//!
//! ansible-core reads these files whole without a bound; the bounds here are far above any real
//! playbook, inventory or template ([`TEXT_LIMIT`]) and any file worth pushing with `copy`
//! ([`CONTENT_LIMIT`]).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest playbook, role file, inventory, variables file, template or secrets file talon
/// reads: 64 MiB.
pub const TEXT_LIMIT: u64 = 64 * 1024 * 1024;

/// The largest `copy src` file talon reads into memory to push: 2 GiB.
pub const CONTENT_LIMIT: u64 = 2 * 1024 * 1024 * 1024;

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Opening or reading failed (missing, no permission, a directory ...).
    #[error("{path}: cannot read: {source}; check that it exists and is readable")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A device, socket or other non-file: reading it could never end, or would block.
    #[error("{path}: is a {kind}, not a regular file; give the path of a file")]
    NotAFile { path: PathBuf, kind: &'static str },
    /// Larger than the bound for this kind of file.
    #[error(
        "{path}: larger than {limit}, the most talon reads from {what}; check the path, or split the file"
    )]
    TooLarge {
        path: PathBuf,
        /// The bound, for people ("64 MiB").
        limit: String,
        what: &'static str,
    },
    /// Text that is not UTF-8; line and column (1-based, in characters) of the first bad byte.
    #[error("{path}:{line}:{column}: not valid UTF-8; save the file as UTF-8")]
    Utf8 {
        path: PathBuf,
        line: usize,
        column: usize,
    },
}

/// Reads a text file (playbook, inventory, variables file, template ...) of at most
/// [`TEXT_LIMIT`] bytes.
///
/// Errors: see [`InputError`].
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let bytes = read_bytes(
        path,
        TEXT_LIMIT,
        "a playbook, inventory, variables or template file",
    )?;
    utf8(bytes, path)
}

/// Reads a text file from an already opened `file` (checked by the caller, as for secrets
/// files); same bound and errors as [`read_text`].
pub fn read_text_from(file: File, path: &Path) -> Result<String, InputError> {
    let bytes = read_open(file, path, TEXT_LIMIT, "a secrets file")?;
    utf8(bytes, path)
}

/// Reads a file's bytes, at most `limit` of them; `what` names the kind of file in the error
/// ("a copy src file").
///
/// Errors: see [`InputError`].
pub fn read_bytes(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Checked before opening: opening a FIFO or a tty can block.
    let md = std::fs::metadata(path).map_err(io)?;
    check_kind(&md, path)?;
    let file = File::open(path).map_err(io)?;
    read_open(file, path, limit, what)
}

fn read_open(file: File, path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let md = file.metadata().map_err(io)?;
    check_kind(&md, path)?;
    let too_large = || InputError::TooLarge {
        path: path.to_path_buf(),
        limit: human(limit),
        what,
    };
    if md.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(md.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Regular files and FIFOs are read; anything else is refused by name.
fn check_kind(md: &std::fs::Metadata, path: &Path) -> Result<(), InputError> {
    use std::os::unix::fs::FileTypeExt;
    let t = md.file_type();
    let kind = if t.is_file() || t.is_fifo() {
        return Ok(());
    } else if t.is_dir() {
        "directory"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else {
        "special file"
    };
    Err(InputError::NotAFile {
        path: path.to_path_buf(),
        kind,
    })
}

/// Bytes as UTF-8 text, or an error at the line and column of the first invalid byte.
pub fn utf8(bytes: Vec<u8>, path: &Path) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let (line, column) = line_column(&e.as_bytes()[..valid]);
        InputError::Utf8 {
            path: path.to_path_buf(),
            line,
            column,
        }
    })
}

/// The 1-based line and column (in characters) just after `prefix`, which is valid UTF-8.
fn line_column(prefix: &[u8]) -> (usize, usize) {
    let text = std::str::from_utf8(prefix).unwrap_or_default();
    let line = text.matches('\n').count() + 1;
    let last = text.rfind('\n').map_or(text, |i| &text[i + 1..]);
    (line, last.chars().count() + 1)
}

/// `64 MiB`, `2 GiB`, or bytes.
fn human(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n.is_multiple_of(1024 * MIB) {
        format!("{} GiB", n / (1024 * MIB))
    } else if n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located() {
        let e = utf8(b"a: 1\nb: \xc3\xa9\xff\n".to_vec(), Path::new("f.yml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.yml:2:5: not valid UTF-8; save the file as UTF-8"
        );
    }

    #[test]
    fn bounds_and_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        std::fs::write(&p, vec![b'a'; 11]).unwrap();
        assert!(matches!(
            read_bytes(&p, 10, "x"),
            Err(InputError::TooLarge { .. })
        ));
        assert_eq!(read_bytes(&p, 11, "x").unwrap().len(), 11);
        let e = read_text(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("character device"), "{e}");
        assert!(matches!(read_text(dir.path()), Err(InputError::NotAFile { .. })));
        assert_eq!(human(TEXT_LIMIT), "64 MiB");
        assert_eq!(human(CONTENT_LIMIT), "2 GiB");
    }
}
