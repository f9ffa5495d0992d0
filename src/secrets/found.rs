//! Secret values a run comes upon while it renders templates (`lookup('password')`'s
//! passwords), rather than being given them: masked and refused on command lines like given
//! secrets, from the moment they are found.
//!
//! Process-wide, like the environment variables `--secret-env` scrubs ([`crate::osenv`]): a
//! lookup runs deep inside a template render, far from the run's [`super::SecretStore`].

use std::sync::RwLock;

use secrecy::{ExposeSecret, SecretString};

/// What `find_in` names a found value by.
pub(super) const FOUND_NAME: &str = "password lookup";

static FOUND: RwLock<Vec<SecretString>> = RwLock::new(Vec::new());

/// Treats `value` as a secret from now on: masked as `********` in everything talon shows and
/// refused where a secret may not go. An empty value is ignored (it cannot be masked).
pub fn treat_as_secret(value: &str) {
    if value.is_empty() {
        return;
    }
    if let Ok(mut found) = FOUND.write()
        && !found.iter().any(|v| v.expose_secret() == value)
    {
        found.push(SecretString::from(value.to_string()));
    }
}

/// The values found so far.
pub(super) fn found() -> Vec<SecretString> {
    FOUND.read().map(|f| f.clone()).unwrap_or_default()
}
