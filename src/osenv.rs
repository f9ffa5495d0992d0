//! The process environment as talon's children and templates see it, and random names.
//!
//! Why this exists: the transport (local commands, the askpass directory, remote shell tokens),
//! the templates (`lookup('env')`, `lookup('pipe')`) and the secret store all need these, and
//! none of them should import another for it: this sits below all of them.

use std::io::Read;

/// Environment variables that held a `--secret-env` value: talon's child processes never
/// inherit them (see [`env_var`] and [`scrubbed_env`]).
static SCRUBBED_ENV: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// The environment variables every local child process must be started without (they held a
/// `--secret-env` value): `ansible_connection: local` and `delegate_to: localhost` commands and
/// `lookup('pipe')` remove them (`Command::env_remove`). talon cannot remove them from its own
/// environment (that needs `unsafe` in Rust 2024), so they stay in `/proc/TALON_PID/environ`,
/// readable by the same user and root, as in the shell that set them.
pub fn scrubbed_env() -> Vec<String> {
    SCRUBBED_ENV.read().map(|v| v.clone()).unwrap_or_default()
}

/// `std::env::var` as talon's templates see the environment: a variable that held a
/// `--secret-env` value reads as unset (`lookup('env')` would otherwise put it in plain text).
pub fn env_var(name: &str) -> Option<String> {
    if scrubbed_env().iter().any(|v| v == name) {
        return None;
    }
    std::env::var(name).ok()
}

/// `bytes` random bytes from the OS (`/dev/urandom`) as lowercase hex (2 x `bytes` digits).
/// Errors: the device cannot be opened or read.
pub fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(hex::encode(buf))
}

/// Marks environment variable `var` as holding a secret (`--secret-env`): from now on no
/// local child process gets it and templates read it as unset.
pub fn scrub(var: String) {
    if let Ok(mut scrubbed) = SCRUBBED_ENV.write()
        && !scrubbed.contains(&var)
    {
        scrubbed.push(var);
    }
}
