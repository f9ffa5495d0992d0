//! `password`: a random password kept in a file on the controller, as
//! ansible.builtin.password. The first call creates the file (mode 0600, missing folders 0700)
//! with a new password; later calls read it back. Options `length` (20), `chars` (character
//! sets: `ascii_letters`, `digits`, `punctuation`, `hexdigits`, ... or literal characters;
//! default letters, digits and `.,:-_`) and `seed` (the same seed, the same password: Python's
//! `random.Random(seed)`, reproduced with the `rand_mt` Mersenne Twister). `encrypt` is refused:
//! talon does not hash. The password is a secret to talon: masked in every report and refused
//! on command lines ([`crate::secrets::treat_as_secret`]).

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use minijinja::Error;
use minijinja::value::{Value, ValueKind};
use sha2::Digest;

use super::{Call, Options};
use crate::template::filters::{err, str_of};

const PARAMS: [&str; 5] = ["length", "encrypt", "chars", "ident", "seed"];

/// Serialises reading and creating password files between the hosts rendering at once, so
/// two hosts asking for one new file get the same password.
static FILES: Mutex<()> = Mutex::new(());

/// Runs the lookup on every term (`PATH [length=N] [chars=...] [seed=...]`).
pub(super) fn run(call: &Call) -> Result<Vec<Value>, Error> {
    call.opts.allow("password", &PARAMS)?;
    let base = super::files::basedir(call)?;
    let mut ret = Vec::new();
    for t in call.flat_terms()? {
        let term = str_of(&t);
        let mut opts = Options(call.opts.0.clone());
        let relpath = parse_term(&term, &mut opts)?;
        if opts
            .get("encrypt")
            .is_some_and(|e| !e.is_none() && !str_of(e).is_empty())
        {
            return Err(err(
                "talon's password lookup does not hash passwords (encrypt): use the plain password, or store a hash made elsewhere",
            ));
        }
        let length = opts.int("password", "length")?.unwrap_or(20);
        let length =
            usize::try_from(length).map_err(|_| err(format!("length must not be negative: {length}")))?;
        let chars = candidate_chars(opts.get("chars"))?;
        let seed = opts.str("seed");
        let path = dwim(&base, &relpath);
        let password = {
            let _guard = FILES.lock().unwrap_or_else(|e| e.into_inner());
            read_or_create(&path, || generate(length, &chars, seed.as_deref()))?
        };
        crate::secrets::treat_as_secret(&password);
        ret.push(Value::from(password));
    }
    Ok(ret)
}

/// The path of a term and its `key=value` parameters (into `opts`), as the plugin's
/// `_parse_parameters`: the path is the first word, or more words when no `=` follows them.
fn parse_term(term: &str, opts: &mut Options) -> Result<String, Error> {
    let Some((first, rest)) = term.split_once(' ') else {
        return Ok(term.to_string());
    };
    let mut params = crate::playbook::parse_kv_words(rest).map_err(err)?;
    let mut relpath = first.to_string();
    if let Some(raw) = params.shift_remove("_raw_params") {
        relpath = format!("{relpath} {}", crate::vars::as_string(&raw));
        if !term.starts_with(&relpath) {
            return Err(err(
                "Unrecognized value after key=value parameters given to password lookup",
            ));
        }
    }
    let invalid: Vec<&str> = params
        .keys()
        .map(String::as_str)
        .filter(|k| !PARAMS.contains(k))
        .collect();
    if !invalid.is_empty() {
        return Err(err(format!(
            "Unrecognized parameter(s) given to password lookup: {}",
            invalid.join(", ")
        )));
    }
    for (k, v) in params {
        opts.set(&k, Value::from(crate::vars::as_string(&v)));
    }
    Ok(relpath)
}

/// The characters to choose from (the plugin's `_gen_candidate_chars`): each spec a name of a
/// Python `string` constant or literal characters; a string of specs is split on `,` (`,,` for
/// a comma). Quotes are removed.
fn candidate_chars(spec: Option<&Value>) -> Result<Vec<char>, Error> {
    let specs: Vec<String> = match spec {
        None => vec!["ascii_letters".into(), "digits".into(), ".,:-_".into()],
        Some(v) if v.kind() == ValueKind::Seq => v.try_iter()?.map(|s| str_of(&s)).collect(),
        Some(v) => {
            let s = str_of(v);
            let mut out = Vec::new();
            if s.contains(",,") {
                out.push(",".to_string());
            }
            out.extend(
                s.replace(",,", ",")
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            );
            out
        }
    };
    let lower = "abcdefghijklmnopqrstuvwxyz";
    let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    let whitespace = " \t\n\r\x0b\x0c";
    let mut chars = String::new();
    for s in &specs {
        match s.as_str() {
            "ascii_letters" => chars.push_str(&format!("{lower}{upper}")),
            "ascii_lowercase" => chars.push_str(lower),
            "ascii_uppercase" => chars.push_str(upper),
            "digits" => chars.push_str("0123456789"),
            "hexdigits" => chars.push_str("0123456789abcdefABCDEF"),
            "octdigits" => chars.push_str("01234567"),
            "punctuation" => chars.push_str(punctuation),
            "whitespace" => chars.push_str(whitespace),
            "printable" => chars.push_str(&format!("0123456789{lower}{upper}{punctuation}{whitespace}")),
            other => chars.push_str(other),
        }
    }
    let chars: Vec<char> = chars.chars().filter(|c| *c != '"' && *c != '\'').collect();
    if chars.is_empty() {
        return Err(err("password lookup: no characters to choose from (chars)"));
    }
    Ok(chars)
}

/// ansible-core's loader `path_dwim`: absolute or `~` paths as they are (`~` expanded), others
/// under the playbook's directory.
fn dwim(base: &Path, relpath: &str) -> PathBuf {
    if let Some(rest) = relpath.strip_prefix('~')
        && (rest.is_empty() || rest.starts_with('/'))
        && let Some(home) = crate::osenv::env_var("HOME")
    {
        return PathBuf::from(format!("{home}{rest}"));
    }
    let p = Path::new(relpath);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The password in `path` (its content, trailing whitespace stripped, without a ` salt=`
/// suffix), or a new one written there first (0600, created exclusively; missing folders
/// 0700). `/dev/null` is never written: each call gets a new password.
fn read_or_create(path: &Path, new: impl FnOnce() -> Result<String, Error>) -> Result<String, Error> {
    let shown = path.display();
    if path == Path::new("/dev/null") {
        return new();
    }
    let read = |path: &Path| -> Result<String, Error> {
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(|e| err(format!("cannot read password file {shown}: {e}")))?;
        let text = text.trim_end();
        Ok(text.rsplit_once(" salt=").map_or(text, |(p, _)| p).to_string())
    };
    if path.exists() {
        return read(path);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| err(format!("cannot create the folder of password file {shown}: {e}")))?;
    }
    let password = new()?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match file {
        Ok(mut f) => {
            f.write_all(format!("{password}\n").as_bytes())
                .map_err(|e| err(format!("cannot write password file {shown}: {e}")))?;
            Ok(password)
        }
        // Another process made it meanwhile: its password is the password.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(err(format!("cannot create password file {shown}: {e}"))),
    }
}

/// A password of `length` characters from `chars`: with a seed, exactly Python's
/// `random.Random(seed).choice` sequence; without one, from the system's randomness.
fn generate(length: usize, chars: &[char], seed: Option<&str>) -> Result<String, Error> {
    match seed {
        Some(seed) => {
            let mut mt = python_random(seed);
            Ok((0..length)
                .map(|_| chars[below_mt(&mut mt, chars.len())])
                .collect())
        }
        None => (0..length)
            .map(|_| {
                random_below(chars.len())
                    .map(|i| chars[i])
                    .map_err(|e| err(format!("no randomness: {e}")))
            })
            .collect(),
    }
}

/// Python's `random.Random(seed)` for a string seed: the seed's UTF-8 bytes followed by their
/// SHA-512, read as one big-endian integer, given to `init_by_array` as 32-bit words, least
/// significant first.
fn python_random(seed: &str) -> rand_mt::Mt {
    let mut bytes = seed.as_bytes().to_vec();
    bytes.extend_from_slice(&sha2::Sha512::digest(seed.as_bytes()));
    bytes.reverse();
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    let mut key: Vec<u32> = bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect();
    if key.is_empty() {
        key.push(0);
    }
    rand_mt::Mt::new_with_key(key)
}

/// Python's `_randbelow_with_getrandbits(n)` on a Mersenne Twister (`n` at most 2^32).
fn below_mt(mt: &mut rand_mt::Mt, n: usize) -> usize {
    let k = usize::BITS - n.leading_zeros();
    loop {
        let r = (mt.next_u32() >> (32 - k.min(32))) as usize;
        if r < n {
            return r;
        }
    }
}

/// A uniformly random index below `n` (`n > 0`) from `/dev/urandom` (rejection sampling).
///
/// Errors: the device cannot be read.
pub(super) fn random_below(n: usize) -> std::io::Result<usize> {
    let n64 = n as u64;
    let zone = u64::MAX - (u64::MAX % n64);
    let mut f = std::fs::File::open("/dev/urandom")?;
    loop {
        let mut b = [0u8; 8];
        f.read_exact(&mut b)?;
        let r = u64::from_le_bytes(b);
        if r < zone {
            return Ok((r % n64) as usize);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn seeded_passwords_are_pythons() {
        // Made by ansible-core 2.19 (Python 3.11): lookup('password', '/dev/null ... seed=...').
        let digits = candidate_chars(Some(&Value::from("digits"))).unwrap();
        assert_eq!(generate(8, &digits, Some("abc")).unwrap(), "87552403");
        let default = candidate_chars(None).unwrap();
        assert_eq!(generate(12, &default, Some("hello")).unwrap(), "ToqTgVuvgGzW");
        let any = generate(30, &default, None).unwrap();
        assert_eq!(any.chars().count(), 30);
        assert!(any.chars().all(|c| default.contains(&c)));
    }

    #[test]
    fn terms_chars_and_files() {
        let mut opts = Options::default();
        assert_eq!(
            parse_term("creds/db length=8 chars=digits,,", &mut opts).unwrap(),
            "creds/db"
        );
        assert_eq!(
            candidate_chars(opts.get("chars"))
                .unwrap()
                .iter()
                .collect::<String>(),
            ",0123456789"
        );
        assert_eq!(
            parse_term("my file seed=x", &mut Options::default()).unwrap(),
            "my file"
        );
        assert!(
            parse_term("f lenght=3", &mut Options::default())
                .unwrap_err()
                .to_string()
                .contains("lenght")
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/pw");
        let first = read_or_create(&path, || Ok("s3cret".into())).unwrap();
        let again = read_or_create(&path, || Ok("other".into())).unwrap();
        assert_eq!((first.as_str(), again.as_str()), ("s3cret", "s3cret"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        std::fs::write(&path, "pw salt=abc\n").unwrap();
        assert_eq!(read_or_create(&path, || Ok("x".into())).unwrap(), "pw");
    }
}
