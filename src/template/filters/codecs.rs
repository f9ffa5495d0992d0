//! ansible-core's `b64encode`/`b64decode` with `encoding=` and `urlsafe=`: the text is
//! encoded with a Python codec before Base64 (and decoded with it after), and decoding is as
//! lenient as Python's `base64.b64decode` (characters outside the alphabet skipped, data
//! after the padding ignored, "Incorrect padding" otherwise).

use base64::Engine as _;
use minijinja::Error;
use minijinja::value::{Rest, Value, ValueOrKwargs};

use super::{Args, err, str_of};

/// The Python codecs talon knows, by their normalised names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `utf-8` (`utf8`, `u8`).
    Utf8,
    /// `utf-16` (a byte-order mark, then little-endian as on x86).
    Utf16,
    /// `utf-16-le`.
    Utf16Le,
    /// `utf-16-be`.
    Utf16Be,
    /// `utf-32` (a byte-order mark, then little-endian).
    Utf32,
    /// `utf-32-le`.
    Utf32Le,
    /// `utf-32-be`.
    Utf32Be,
    /// `latin-1` (`iso-8859-1`, `l1`).
    Latin1,
    /// `ascii` (`us-ascii`).
    Ascii,
}

impl Codec {
    /// Looks a codec up as Python's `codecs.lookup` normalises names (case, `-`, ` `, `_`);
    /// an unknown one is Python's "unknown encoding" error.
    pub fn lookup(name: &str) -> Result<Codec, String> {
        let n = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Ok(match n.as_str() {
            "utf_8" | "utf8" | "u8" | "utf" | "cp65001" => Codec::Utf8,
            "utf_16" | "utf16" | "u16" => Codec::Utf16,
            "utf_16_le" | "utf_16le" => Codec::Utf16Le,
            "utf_16_be" | "utf_16be" => Codec::Utf16Be,
            "utf_32" | "utf32" | "u32" => Codec::Utf32,
            "utf_32_le" | "utf_32le" => Codec::Utf32Le,
            "utf_32_be" | "utf_32be" => Codec::Utf32Be,
            "latin_1" | "latin1" | "latin" | "l1" | "iso_8859_1" | "iso8859_1" | "8859" | "cp819" => {
                Codec::Latin1
            }
            "ascii" | "us_ascii" | "646" => Codec::Ascii,
            _ => return Err(format!("unknown encoding: {name}")),
        })
    }

    /// `str.encode(codec)` (strict).
    pub fn encode(self, s: &str) -> Result<Vec<u8>, String> {
        let utf16 = |be: bool| -> Vec<u8> {
            s.encode_utf16()
                .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
                .collect()
        };
        let utf32 = |be: bool| -> Vec<u8> {
            s.chars()
                .flat_map(|c| {
                    if be {
                        u32::from(c).to_be_bytes()
                    } else {
                        u32::from(c).to_le_bytes()
                    }
                })
                .collect()
        };
        let narrow = |limit: u32, name: &str| -> Result<Vec<u8>, String> {
            s.chars()
                .enumerate()
                .map(|(i, c)| {
                    u8::try_from(u32::from(c)).ok().filter(|b| u32::from(*b) < limit).ok_or_else(|| {
                        format!(
                            "'{name}' codec can't encode character '\\u{:04x}' in position {i}: ordinal not in range({limit})",
                            u32::from(c)
                        )
                    })
                })
                .collect()
        };
        Ok(match self {
            Codec::Utf8 => s.as_bytes().to_vec(),
            Codec::Utf16 => [vec![0xff, 0xfe], utf16(false)].concat(),
            Codec::Utf16Le => utf16(false),
            Codec::Utf16Be => utf16(true),
            Codec::Utf32 => [vec![0xff, 0xfe, 0, 0], utf32(false)].concat(),
            Codec::Utf32Le => utf32(false),
            Codec::Utf32Be => utf32(true),
            Codec::Latin1 => narrow(256, "latin-1")?,
            Codec::Ascii => narrow(128, "ascii")?,
        })
    }

    /// `bytes.decode(codec)`: UTF-8 replaces what is invalid (ansible-core's `to_text`
    /// keeps it as surrogates), the others are strict.
    pub fn decode(self, b: &[u8]) -> Result<String, String> {
        let units16 = |b: &[u8], be: bool| -> Result<String, String> {
            if !b.len().is_multiple_of(2) {
                return Err("'utf-16' codec can't decode: truncated data".into());
            }
            let units: Vec<u16> = b
                .chunks(2)
                .map(|c| {
                    if be {
                        u16::from_be_bytes([c[0], c[1]])
                    } else {
                        u16::from_le_bytes([c[0], c[1]])
                    }
                })
                .collect();
            String::from_utf16(&units).map_err(|e| format!("'utf-16' codec can't decode: {e}"))
        };
        let units32 = |b: &[u8], be: bool| -> Result<String, String> {
            if !b.len().is_multiple_of(4) {
                return Err("'utf-32' codec can't decode: truncated data".into());
            }
            b.chunks(4)
                .map(|c| {
                    let a = [c[0], c[1], c[2], c[3]];
                    let n = if be {
                        u32::from_be_bytes(a)
                    } else {
                        u32::from_le_bytes(a)
                    };
                    char::from_u32(n).ok_or_else(|| {
                        format!("'utf-32' codec can't decode: code point {n:#x} not in range(0x110000)")
                    })
                })
                .collect()
        };
        match self {
            Codec::Utf8 => Ok(String::from_utf8_lossy(b).into_owned()),
            Codec::Utf16 => match b {
                [0xfe, 0xff, rest @ ..] => units16(rest, true),
                [0xff, 0xfe, rest @ ..] => units16(rest, false),
                _ => units16(b, false),
            },
            Codec::Utf16Le => units16(b, false),
            Codec::Utf16Be => units16(b, true),
            Codec::Utf32 => match b {
                [0, 0, 0xfe, 0xff, rest @ ..] => units32(rest, true),
                [0xff, 0xfe, 0, 0, rest @ ..] => units32(rest, false),
                _ => units32(b, false),
            },
            Codec::Utf32Le => units32(b, false),
            Codec::Utf32Be => units32(b, true),
            Codec::Latin1 => Ok(b.iter().map(|&c| char::from(c)).collect()),
            Codec::Ascii => b
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    if c.is_ascii() {
                        Ok(char::from(c))
                    } else {
                        Err(format!("'ascii' codec can't decode byte {c:#04x} in position {i}: ordinal not in range(128)"))
                    }
                })
                .collect(),
        }
    }
}

/// Python's non-strict `binascii.a2b_base64`: characters outside the alphabet are skipped,
/// decoding ends at complete padding, and a partial last group is an error.
pub fn b64decode_lenient(s: &str, urlsafe: bool) -> Result<Vec<u8>, String> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' if !urlsafe => 62,
            b'/' if !urlsafe => 63,
            b'-' if urlsafe => 62,
            b'_' if urlsafe => 63,
            _ => return None,
        } as u32)
    };
    let (mut out, mut quad, mut pads, mut left) = (Vec::new(), 0usize, 0usize, 0u32);
    let mut data_chars = 0usize;
    for c in s.bytes() {
        if c == b'=' {
            pads += 1;
            if quad >= 2 && quad + pads >= 4 {
                return Ok(out);
            }
            continue;
        }
        let Some(v) = value(c) else { continue };
        data_chars += 1;
        pads = 0;
        match quad {
            0 => left = v,
            1 => {
                out.push(((left << 2) | (v >> 4)) as u8);
                left = v & 0x0f;
            }
            2 => {
                out.push(((left << 4) | (v >> 2)) as u8);
                left = v & 0x03;
            }
            _ => out.push(((left << 6) | v) as u8),
        }
        quad = (quad + 1) % 4;
    }
    match quad {
        0 => Ok(out),
        1 => Err(format!(
            "Invalid base64-encoded string: number of data characters ({data_chars}) cannot be 1 more than a multiple of 4"
        )),
        _ => Err("Incorrect padding".into()),
    }
}

fn codec_arg(args: &Args) -> Result<Codec, Error> {
    let name = args.str(0, "encoding").unwrap_or_else(|| "utf-8".into());
    Codec::lookup(&name).map_err(err)
}

/// ansible-core's `b64encode(encoding='utf-8', urlsafe=False)`.
pub(super) fn b64encode(value: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::new(rest);
    let bytes = codec_arg(&args)?.encode(&str_of(&value)).map_err(err)?;
    Ok(if args.flag(1, "urlsafe") {
        base64::engine::general_purpose::URL_SAFE.encode(bytes)
    } else {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    })
}

/// ansible-core's `b64decode(encoding='utf-8', urlsafe=False)`.
pub(super) fn b64decode(value: Value, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::new(rest);
    let codec = codec_arg(&args)?;
    let bytes = b64decode_lenient(&str_of(&value), args.flag(1, "urlsafe")).map_err(err)?;
    codec.decode(&bytes).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_as_python() {
        // base64.b64decode on Python 3.11.
        assert_eq!(b64decode_lenient("YR==", false).unwrap(), b"a");
        assert_eq!(b64decode_lenient("Y Q = =", false).unwrap(), b"a");
        assert_eq!(b64decode_lenient("YQ==YQ==", false).unwrap(), b"a");
        assert_eq!(b64decode_lenient("!!YQ==", false).unwrap(), b"a");
        assert_eq!(b64decode_lenient("YQ", false).unwrap_err(), "Incorrect padding");
        assert_eq!(b64decode_lenient("", false).unwrap(), b"");
        assert_eq!(b64decode_lenient("_-8=", true).unwrap(), vec![0xff, 0xef]);
    }

    #[test]
    fn codecs_as_python() {
        assert_eq!(Codec::lookup("UTF-16-LE").unwrap(), Codec::Utf16Le);
        assert_eq!(Codec::lookup("nope").unwrap_err(), "unknown encoding: nope");
        // base64.b64encode('hé'.encode('utf-16')) == b'//5oAOkA'
        let b = Codec::Utf16.encode("hé").unwrap();
        assert_eq!(base64::engine::general_purpose::STANDARD.encode(&b), "//5oAOkA");
        assert_eq!(Codec::Utf16.decode(&b).unwrap(), "hé");
        assert!(Codec::Ascii.encode("é").is_err());
        assert_eq!(Codec::Latin1.decode(&[0xe9]).unwrap(), "é");
    }
}
