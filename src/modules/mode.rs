//! File modes as Ansible's file-family modules accept them: octal numbers and strings, and
//! symbolic clauses (`u=rw,g=r`), resolved against the current mode
//! (ansible.module_utils.basic's `_symbolic_mode_to_octal`).

use serde_json::Value;

/// A file mode as Ansible accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Absolute permission bits (from `0644`, `"644"`, `"0644"` or YAML's int 420).
    Numeric(u32),
    /// Symbolic clauses (`u=rw,g=r,o=`, `a+X`, `u+s`), applied relative to the current mode.
    Symbolic(Vec<Clause>),
}

/// One symbolic clause: who (bitmask of u=4, g=2, o=1), then operations in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    who: u8,
    ops: Vec<(char, String)>,
}

impl Mode {
    /// Parses Ansible's accepted forms. An integer is taken as the mode itself (YAML 1.1 already
    /// decoded `0644` to 420 = 0o644); a string of octal digits is octal; anything else must be
    /// symbolic (`[ugoa]*[-+=][rwxXst]*|[ugo]`, comma-separated). Errors name the bad value.
    ///
    /// Matches ansible.module_utils.basic `_symbolic_mode_to_octal`: an empty "who" means `a`
    /// (the umask is *not* applied, unlike `chmod`).
    pub fn parse(v: &Value) -> Result<Mode, String> {
        match v {
            Value::Number(n) => match n.as_u64() {
                Some(m) if m <= 0o7777 => Ok(Mode::Numeric(m as u32)),
                _ => Err(format!("mode must be in octal or symbolic form, got {n}")),
            },
            Value::String(s) => Self::parse_str(s.trim()),
            other => Err(format!("mode must be in octal or symbolic form, got {other}")),
        }
    }

    fn parse_str(s: &str) -> Result<Mode, String> {
        let bad = || format!("mode must be in octal or symbolic form, got {s:?}");
        if s.is_empty() {
            return Err(bad());
        }
        if s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            let m = u32::from_str_radix(s, 8).map_err(|_| bad())?;
            if m > 0o7777 {
                return Err(bad());
            }
            return Ok(Mode::Numeric(m));
        }
        let mut clauses = Vec::new();
        for part in s.split(',') {
            let who_end = part.find(['-', '+', '=']).ok_or_else(bad)?;
            let mut who = 0u8;
            for c in part[..who_end].chars() {
                who |= match c {
                    'u' => 4,
                    'g' => 2,
                    'o' => 1,
                    'a' => 7,
                    _ => return Err(bad()),
                };
            }
            if who == 0 {
                who = 7;
            }
            let mut ops = Vec::new();
            let mut rest = &part[who_end..];
            while let Some(op) = rest.chars().next() {
                rest = &rest[1..];
                let end = rest.find(['-', '+', '=']).unwrap_or(rest.len());
                let perms = &rest[..end];
                let valid = perms.chars().all(|c| "rwxXst".contains(c))
                    || (perms.len() == 1 && "ugo".contains(perms));
                if !valid {
                    return Err(bad());
                }
                ops.push((op, perms.to_string()));
                rest = &rest[end..];
            }
            clauses.push(Clause { who, ops });
        }
        Ok(Mode::Symbolic(clauses))
    }

    /// The resulting permission bits for a path whose current mode is `current` (`is_dir` for
    /// `X`). For new files pass the mode the file is created with (`0o666 & !umask`, dirs
    /// `0o777 & !umask`).
    pub fn resolve(&self, current: u32, is_dir: bool) -> u32 {
        match self {
            Mode::Numeric(m) => *m,
            Mode::Symbolic(clauses) => {
                let mut mode = current & 0o7777;
                for c in clauses {
                    for (op, perms) in &c.ops {
                        let bits = perm_bits(c.who, perms, mode, is_dir);
                        mode = match op {
                            '+' => mode | bits,
                            '-' => mode & !bits,
                            _ => (mode & !who_mask(c.who)) | bits,
                        };
                    }
                }
                mode
            }
        }
    }

    /// An argument for `chmod` (recursive use): octal, or the symbolic form with every clause's
    /// "who" spelled out so that `chmod` does not apply the umask.
    pub fn chmod_arg(&self) -> String {
        match self {
            Mode::Numeric(m) => format!("{m:04o}"),
            Mode::Symbolic(clauses) => clauses
                .iter()
                .map(|c| {
                    let mut s = String::new();
                    for (bit, ch) in [(4, 'u'), (2, 'g'), (1, 'o')] {
                        if c.who & bit != 0 {
                            s.push(ch);
                        }
                    }
                    for (op, perms) in &c.ops {
                        s.push(*op);
                        s.push_str(perms);
                    }
                    s
                })
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// Bits cleared by `=` for a who-mask: rwx plus the special bit belonging to each class.
fn who_mask(who: u8) -> u32 {
    let mut m = 0;
    if who & 4 != 0 {
        m |= 0o4700;
    }
    if who & 2 != 0 {
        m |= 0o2070;
    }
    if who & 1 != 0 {
        m |= 0o1007;
    }
    m
}

fn perm_bits(who: u8, perms: &str, current: u32, is_dir: bool) -> u32 {
    // Copy form: `g=u` takes the u bits of the current mode.
    let rwx = match perms {
        "u" => Some((current >> 6) & 7),
        "g" => Some((current >> 3) & 7),
        "o" => Some(current & 7),
        _ => None,
    };
    let mut bits = 0u32;
    let spread = |v: u32| {
        let mut b = 0;
        if who & 4 != 0 {
            b |= v << 6;
        }
        if who & 2 != 0 {
            b |= v << 3;
        }
        if who & 1 != 0 {
            b |= v;
        }
        b
    };
    if let Some(v) = rwx {
        return spread(v);
    }
    for c in perms.chars() {
        match c {
            'r' => bits |= spread(4),
            'w' => bits |= spread(2),
            'x' => bits |= spread(1),
            'X' if is_dir || current & 0o111 != 0 => bits |= spread(1),
            's' => {
                if who & 4 != 0 {
                    bits |= 0o4000;
                }
                if who & 2 != 0 {
                    bits |= 0o2000;
                }
            }
            't' => bits |= 0o1000,
            _ => {}
        }
    }
    bits
}
