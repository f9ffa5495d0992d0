//! ansible-core's `random` and `shuffle` filters, giving CPython's results for a seed: the
//! Mersenne Twister (MT19937) as CPython's `_random` module seeds it (`random.Random(seed)`:
//! an int's 32-bit words, a str as its UTF-8 bytes followed by their SHA-512, version 2),
//! and `random.py`'s `randrange`, `choice` and `shuffle` on top of `getrandbits`. Without a
//! seed the bits come from the operating system, as `random.SystemRandom`.

use minijinja::Error;
use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use sha2::Digest as _;

use super::{Args, err, str_of};

const N: usize = 624;
const M: usize = 397;

/// CPython's MT19937 state (`Modules/_randommodule.c`).
pub struct Mt19937 {
    state: [u32; N],
    index: usize,
}

impl Mt19937 {
    fn init_genrand(seed: u32) -> Mt19937 {
        let mut state = [0u32; N];
        state[0] = seed;
        for i in 1..N {
            state[i] = 1_812_433_253u32
                .wrapping_mul(state[i - 1] ^ (state[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { state, index: N }
    }

    /// `init_by_array`: the generator CPython seeds from an integer's 32-bit words.
    fn init_by_array(key: &[u32]) -> Mt19937 {
        let mut mt = Mt19937::init_genrand(19_650_218);
        let s = &mut mt.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            s[i] = (s[i] ^ (s[i - 1] ^ (s[i - 1] >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                s[0] = s[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            s[i] = (s[i] ^ (s[i - 1] ^ (s[i - 1] >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                s[0] = s[N - 1];
                i = 1;
            }
        }
        s[0] = 0x8000_0000;
        mt
    }

    /// `random.Random(n)` for an integer: its absolute value's words, least significant first.
    pub fn from_int(n: i128) -> Mt19937 {
        let mut n = n.unsigned_abs();
        let mut key = Vec::new();
        while n > 0 {
            key.push(n as u32);
            n >>= 32;
        }
        if key.is_empty() {
            key.push(0);
        }
        Mt19937::init_by_array(&key)
    }

    /// `random.Random(s)` for a str (version 2): the integer whose big-endian bytes are the
    /// UTF-8 text followed by its SHA-512 digest.
    pub fn from_str(s: &str) -> Mt19937 {
        let mut bytes = s.as_bytes().to_vec();
        bytes.extend_from_slice(&sha2::Sha512::digest(s.as_bytes()));
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        let significant = &bytes[start..];
        let mut key: Vec<u32> = significant
            .rchunks(4)
            .map(|c| c.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
            .collect();
        if key.is_empty() {
            key.push(0);
        }
        Mt19937::init_by_array(&key)
    }

    fn genrand_u32(&mut self) -> u32 {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        if self.index >= N {
            let s = &mut self.state;
            for kk in 0..N {
                let y = (s[kk] & UPPER) | (s[(kk + 1) % N] & LOWER);
                let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
                s[kk] = s[(kk + M) % N] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }
}

/// A source of random bits: a seeded Mersenne Twister, or the operating system.
pub enum PyRandom {
    /// `random.Random(seed)`.
    Seeded(Box<Mt19937>),
    /// `random.SystemRandom()`.
    System,
}

impl PyRandom {
    /// `getrandbits(k)` for `k <= 64` (CPython's word order for the seeded generator).
    fn getrandbits(&mut self, k: u32) -> Result<u64, Error> {
        match self {
            PyRandom::Seeded(mt) => {
                if k == 0 {
                    return Ok(0);
                }
                if k <= 32 {
                    return Ok(u64::from(mt.genrand_u32() >> (32 - k)));
                }
                let low = u64::from(mt.genrand_u32());
                let high = u64::from(mt.genrand_u32() >> (64 - k));
                Ok(low | (high << 32))
            }
            PyRandom::System => {
                let bytes = k.div_ceil(8) as usize;
                let mut buf = [0u8; 8];
                getrandom::fill(&mut buf[8 - bytes..])
                    .map_err(|e| err(format!("random: the operating system gave no randomness: {e}")))?;
                Ok(u64::from_be_bytes(buf) >> (bytes as u32 * 8 - k))
            }
        }
    }

    /// `_randbelow(n)` for `n > 0`: draws of `n.bit_length()` bits until one is below `n`.
    pub fn randbelow(&mut self, n: u64) -> Result<u64, Error> {
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k)?;
            if r < n {
                return Ok(r);
            }
        }
    }

    /// `randrange(start, stop, step)` with CPython's messages.
    pub fn randrange(&mut self, start: i64, stop: i64, step: i64) -> Result<i64, Error> {
        let width = i128::from(stop) - i128::from(start);
        let step = i128::from(step);
        if step == 1 {
            if width > 0 {
                return Ok(start + self.randbelow(width as u64)? as i64);
            }
            return Err(err(format!(
                "empty range for randrange() ({start}, {stop}, {width})"
            )));
        }
        let n = match step {
            s if s > 0 => (width + s - 1).div_euclid(s),
            s if s < 0 => (width + s + 1).div_euclid(s),
            _ => return Err(err("zero step for randrange()")),
        };
        if n <= 0 {
            return Err(err("empty range for randrange()"));
        }
        let r = i128::from(self.randbelow(n as u64)?);
        Ok((i128::from(start) + step * r) as i64)
    }

    /// `shuffle(x)`: Fisher-Yates from the end, as `random.py`.
    pub fn shuffle<T>(&mut self, items: &mut [T]) -> Result<(), Error> {
        for i in (1..items.len()).rev() {
            let j = self.randbelow(i as u64 + 1)? as usize;
            items.swap(i, j);
        }
        Ok(())
    }
}

/// `random.Random(seed)` for the seed types ansible users give (int, bool, str, integral
/// float); `None` for other types (Python raises TypeError).
fn seeded(seed: &Value) -> Option<PyRandom> {
    let mt = match seed.kind() {
        ValueKind::Bool => Mt19937::from_int(i128::from(seed.is_true())),
        ValueKind::Number => match i128::try_from(seed.clone()) {
            Ok(i) => Mt19937::from_int(i),
            Err(_) => return None,
        },
        ValueKind::String => Mt19937::from_str(seed.as_str().unwrap_or_default()),
        _ => return None,
    };
    Some(PyRandom::Seeded(Box::new(mt)))
}

/// Python truthiness of an optional argument (`if not start`).
fn given(v: &Option<Value>) -> bool {
    v.as_ref().is_some_and(|v| v.is_true())
}

/// An integer argument of `random` (`start`, `step`).
fn int_arg(v: Option<Value>, name: &str, default: i64) -> Result<i64, Error> {
    match v {
        Some(v) if v.is_true() => v
            .as_i64()
            .filter(|_| v.is_integer() || v.kind() == ValueKind::Bool)
            .ok_or_else(|| err(format!("random: {name} must be an integer, got {}", str_of(&v)))),
        _ => Ok(default),
    }
}

/// ansible-core's `random(end, start=None, step=None, seed=None)`: an integer in
/// `range(start, end, step)`, or one item of a sequence (or one character of a string);
/// with `seed` the same as CPython's `Random(seed)` gives, without it from the OS.
pub(super) fn random(end: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let start = args.get(0, "start").filter(|v| !v.is_none());
    let step = args.get(1, "step").filter(|v| !v.is_none());
    let mut rng = match args.get(2, "seed").filter(|v| !v.is_none()) {
        None => PyRandom::System,
        Some(s) => seeded(&s).ok_or_else(|| {
            err("The only supported seed types are: None,\nint, float, str, bytes, and bytearray.")
        })?,
    };
    match end.kind() {
        ValueKind::Number | ValueKind::Bool if end.is_integer() || end.kind() == ValueKind::Bool => {
            let stop = end.as_i64().ok_or_else(|| err("random: the end is too large"))?;
            let start = int_arg(start, "start", 0)?;
            let step = int_arg(step, "step", 1)?;
            Ok(Value::from(rng.randrange(start, stop, step)?))
        }
        ValueKind::Seq | ValueKind::Iterable | ValueKind::String | ValueKind::Map => {
            if given(&start) || given(&step) {
                return Err(err("start and step can only be used with integer values"));
            }
            let items: Vec<Value> = match end.as_str() {
                Some(s) => s.chars().map(|c| Value::from(c.to_string())).collect(),
                None if end.kind() == ValueKind::Map => {
                    return Err(err("random: a mapping cannot be indexed by position"));
                }
                None => end.try_iter()?.collect(),
            };
            if items.is_empty() {
                return Err(err("Cannot choose from an empty sequence"));
            }
            let i = rng.randbelow(items.len() as u64)? as usize;
            Ok(items[i].clone())
        }
        _ => Err(err("random can only be used on sequences and integers")),
    }
}

/// ansible-core's `shuffle(seed=None)`: the items in a new order, CPython's for a (truthy)
/// seed; as ansible-core, a seed Python cannot use leaves the list as it was.
pub(super) fn shuffle(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let mut items: Vec<Value> = match value.as_str() {
        Some(s) => s.chars().map(|c| Value::from(c.to_string())).collect(),
        None => value.try_iter()?.collect(),
    };
    let rng = match args.get(0, "seed") {
        Some(s) if s.is_true() => seeded(&s),
        _ => Some(PyRandom::System),
    };
    if let Some(mut rng) = rng {
        rng.shuffle(&mut items)?;
    }
    Ok(Value::from(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded_str(s: &str) -> PyRandom {
        PyRandom::Seeded(Box::new(Mt19937::from_str(s)))
    }

    fn seeded_int(n: i128) -> PyRandom {
        PyRandom::Seeded(Box::new(Mt19937::from_int(n)))
    }

    #[test]
    fn raw_words_match_cpython() {
        // python3 -c "import random; r=random.Random(42); print([r.getrandbits(32) for _ in range(3)])"
        let mut r = seeded_int(42);
        let words: Vec<u64> = (0..3).map(|_| r.getrandbits(32).unwrap()).collect();
        assert_eq!(words, vec![2_746_317_213, 478_163_327, 107_420_369]);
        // random.Random(0).getrandbits(64) and random.Random(-5).getrandbits(40)
        assert_eq!(seeded_int(0).getrandbits(64).unwrap(), 7_106_521_602_475_165_645);
        assert_eq!(seeded_int(-5).getrandbits(40).unwrap(), 281_848_216_645);
        // a seed wider than one word: random.Random(2**40 + 7).getrandbits(32)
        assert_eq!(seeded_int((1 << 40) + 7).getrandbits(32).unwrap(), 2_635_837_658);
    }

    #[test]
    fn str_seeds_match_cpython() {
        // [random.Random('web01').randrange(0, 100) for a fresh generator each], and so on.
        assert_eq!(seeded_str("web01").randrange(0, 100, 1).unwrap(), 45);
        assert_eq!(seeded_str("").randrange(0, 1000, 1).unwrap(), 983);
        assert_eq!(seeded_str("héllo").randrange(10, 60, 5).unwrap(), 10);
        let mut xs: Vec<u32> = (0..10).collect();
        seeded_str("web01").shuffle(&mut xs).unwrap();
        assert_eq!(xs, vec![3, 2, 8, 4, 7, 9, 1, 0, 6, 5]);
    }

    #[test]
    fn randrange_checks_like_cpython() {
        let mut r = seeded_int(1);
        assert_eq!(
            r.randrange(5, 5, 1).unwrap_err().detail(),
            Some("empty range for randrange() (5, 5, 0)")
        );
        assert!(r.randrange(0, 10, 0).is_err());
        assert!(r.randrange(0, 10, -1).is_err());
        assert_eq!(seeded_int(1).randrange(10, 0, -3).unwrap(), 7);
    }

    #[test]
    fn system_randomness_stays_in_range() {
        let mut r = PyRandom::System;
        for _ in 0..200 {
            let x = r.randrange(3, 17, 2).unwrap();
            assert!((3..17).contains(&x) && x % 2 == 1, "{x}");
        }
    }
}
