//! ansible-core's `password_hash` (`get_encrypted_password`, hashed by passlib when it is
//! installed, as in the reference venv): SHA-512-crypt and SHA-256-crypt with passlib's rules
//! for the salt (at most 16 characters of `./0-9A-Za-z`, a random 16 when none is given) and
//! ansible-core's default rounds (656000 and 535000, written in the hash; 5000 is left out as
//! passlib does). The crypt rounds are RustCrypto's `sha-crypt`; only the output's byte order
//! and its crypt Base64 (`base64ct`) are the crypt format's, written here.

use base64ct::{Base64ShaCrypt, Encoding as _};
use minijinja::Error;
use minijinja::value::{Rest, Value, ValueOrKwargs};

use super::{Args, err, str_of};

/// The crypt Base64 alphabet passlib accepts in a salt.
const H64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// SHA-256-crypt's byte order of the digest before encoding (the crypt specification's).
const ORDER_256: [usize; 32] = [
    20, 10, 0, 11, 1, 21, 2, 22, 12, 23, 13, 3, 14, 4, 24, 5, 25, 15, 26, 16, 6, 17, 7, 27, 8, 28, 18, 29,
    19, 9, 30, 31,
];

/// SHA-512-crypt's byte order of the digest before encoding.
const ORDER_512: [usize; 64] = [
    42, 21, 0, 1, 43, 22, 23, 2, 44, 45, 24, 3, 4, 46, 25, 26, 5, 47, 48, 27, 6, 7, 49, 28, 29, 8, 50, 51,
    30, 9, 10, 52, 31, 32, 11, 53, 54, 33, 12, 13, 55, 34, 35, 14, 56, 57, 36, 15, 16, 58, 37, 38, 17, 59,
    60, 39, 18, 19, 61, 40, 41, 20, 62, 63,
];

/// The two algorithms talon hashes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// `sha256_crypt` (`$5$`).
    Sha256,
    /// `sha512_crypt` (`$6$`).
    Sha512,
}

impl Algo {
    fn name(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256_crypt",
            Algo::Sha512 => "sha512_crypt",
        }
    }

    /// ansible-core's `implicit_rounds` (crypt's defaults it pins passlib to).
    fn default_rounds(self) -> u32 {
        match self {
            Algo::Sha256 => 535_000,
            Algo::Sha512 => 656_000,
        }
    }
}

/// `$5$`/`$6$` crypt of `password` with a checked `salt` (see [`check_salt`]) and `rounds`
/// (1000 to 999999999); errors in passlib's words.
pub fn crypt(algo: Algo, password: &[u8], salt: &str, rounds: u32) -> Result<String, String> {
    let name = algo.name();
    let params = sha_crypt::Params::new(rounds).map_err(|_| {
        if rounds < sha_crypt::Params::ROUNDS_MIN {
            format!("{name}: min_desired_rounds ({rounds}) is too low, must be at least 1000")
        } else {
            format!("{name}: max_desired_rounds ({rounds}) is too high, must be at most 999999999")
        }
    })?;
    let encoded = match algo {
        Algo::Sha256 => {
            let raw = sha_crypt::sha256_crypt(password, salt.as_bytes(), params);
            Base64ShaCrypt::encode_string(&ORDER_256.map(|i| raw[i]))
        }
        Algo::Sha512 => {
            let raw = sha_crypt::sha512_crypt(password, salt.as_bytes(), params);
            Base64ShaCrypt::encode_string(&ORDER_512.map(|i| raw[i]))
        }
    };
    let id = if algo == Algo::Sha256 { 5 } else { 6 };
    Ok(if rounds == 5000 {
        format!("${id}${salt}${encoded}")
    } else {
        format!("${id}$rounds={rounds}${salt}${encoded}")
    })
}

/// passlib's salt checks for the SHA-crypts.
pub fn check_salt(algo: Algo, salt: &str) -> Result<(), String> {
    if !salt.bytes().all(|b| H64.contains(&b)) {
        return Err(format!("invalid characters in {} salt", algo.name()));
    }
    if salt.len() > 16 {
        return Err(format!("salt too large ({} requires <= 16 chars)", algo.name()));
    }
    Ok(())
}

/// A random salt of `size` crypt Base64 characters from the operating system.
fn random_salt(size: usize) -> Result<String, Error> {
    let mut bytes = vec![0u8; size];
    getrandom::fill(&mut bytes).map_err(|e| {
        err(format!(
            "password_hash: the operating system gave no randomness: {e}"
        ))
    })?;
    Ok(bytes
        .iter()
        .map(|b| char::from(H64[usize::from(b & 63)]))
        .collect())
}

/// ansible-core's `password_hash(hashtype='sha512', salt=None, salt_size=None, rounds=None,
/// ident=None)`: `sha512`/`sha512_crypt` and `sha256`/`sha256_crypt`; `md5` and `blowfish`
/// (passlib's md5_crypt and bcrypt) are refused by name, other types with ansible-core's
/// message.
pub(super) fn password_hash(value: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::new(rest);
    for name in args.keyword_names() {
        if !["hashtype", "salt", "salt_size", "rounds", "ident"].contains(&name.as_str()) {
            return Err(err(format!(
                "password_hash: unexpected keyword argument '{name}'"
            )));
        }
    }
    let hashtype = args.str(0, "hashtype").unwrap_or_else(|| "sha512".into());
    let algo = match hashtype.as_str() {
        "sha512" | "sha512_crypt" => Algo::Sha512,
        "sha256" | "sha256_crypt" => Algo::Sha256,
        "md5" | "md5_crypt" | "blowfish" | "bcrypt" => {
            return Err(err(format!(
                "password_hash: '{hashtype}' is not available in talon (sha512 and sha256 are)"
            )));
        }
        other => {
            return Err(err(format!(
                "{other} is not in the list of supported passlib algorithms: md5, blowfish, sha256, sha512"
            )));
        }
    };
    let int_arg = |i: usize, name: &str| -> Result<Option<i64>, Error> {
        match args.get(i, name).filter(|v| v.is_true()) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .filter(|_| v.is_integer())
                .map(Some)
                .ok_or_else(|| err(format!("{name} must be an integer"))),
        }
    };
    let salt_size = int_arg(2, "salt_size")?;
    let rounds = int_arg(3, "rounds")?.unwrap_or(i64::from(algo.default_rounds()));
    let rounds = u32::try_from(rounds).map_err(|_| {
        err(format!(
            "Could not hash the secret: {}: rounds ({rounds}) is out of range",
            algo.name()
        ))
    })?;
    let salt = match args.str(1, "salt").filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => {
            let size = salt_size.unwrap_or(16);
            if !(0..=16).contains(&size) {
                return Err(err(format!(
                    "Could not hash the secret: {}: salt_size ({size}) must be between 0 and 16",
                    algo.name()
                )));
            }
            random_salt(size as usize)?
        }
    };
    let password = str_of(&value);
    check_salt(algo, &salt)
        .and_then(|()| crypt(algo, password.as_bytes(), &salt, rounds))
        .map_err(|e| err(format!("Could not hash the secret: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_passlib() {
        // ansible.plugins.filter.core.get_encrypted_password('secret', 'sha512', 'mysalt', None, 5000)
        assert_eq!(
            crypt(Algo::Sha512, b"secret", "mysalt", 5000).unwrap(),
            "$6$mysalt$UX6P1VKOf6dr0s2pg4pLNvIUB6hLXvP6M5f/Yj9hJgMPdAJ4oArvk5YUD9/XWtk1JOpVwt/JTsczMJr8sFVML1"
        );
        assert_eq!(
            crypt(Algo::Sha256, b"secret", "mysalt", 535_000).unwrap(),
            "$5$rounds=535000$mysalt$GnEktJhWXRuwViyPsEWK9s63HYW1GqXFqU5SdKDqol6"
        );
    }

    #[test]
    fn salts_are_checked_as_passlib() {
        assert_eq!(
            check_salt(Algo::Sha512, "bad!salt").unwrap_err(),
            "invalid characters in sha512_crypt salt"
        );
        assert_eq!(
            check_salt(Algo::Sha512, "abcdefghijklmnopqrstu").unwrap_err(),
            "salt too large (sha512_crypt requires <= 16 chars)"
        );
        assert!(crypt(Algo::Sha512, b"x", "s", 999).is_err());
        let salt = random_salt(16).unwrap();
        assert_eq!(salt.len(), 16);
        assert!(check_salt(Algo::Sha512, &salt).is_ok());
    }
}
