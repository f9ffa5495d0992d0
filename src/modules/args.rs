//! Argument parsing shared by the file modules: typed getters over the rendered `Vars`, Ansible's
//! file-mode forms, and a small shell-word splitter for `validate`.
//!
//! Why this exists: every module must reject bad arguments the same way (a
//! [`ModuleError::BadArgs`] naming the module and the key) and read booleans, modes and aliases
//! exactly as Ansible's `AnsibleModule` argument spec does.

use serde_json::Value;

use super::{ModuleError, ModuleOutcome};
use crate::transport::files::{FileAttrs, FileKind, FileStat, FilesError};
use crate::vars::{Vars, as_bool, as_string};

/// The type of a module argument, as Ansible's argument spec declares it.
#[derive(Debug, Clone, Copy)]
pub enum ArgType {
    /// A scalar read as a string (`type='str'`): not a mapping or a list.
    Str,
    /// A boolean in any form Ansible reads (`yes`, `on`, `1`, ...).
    Bool,
    /// An integer, or a string of one.
    Int,
    /// A file mode: octal (number or string, at most `07777`) or symbolic (`u=rw,g=r`).
    Mode,
    /// One of these strings.
    Choice(&'static [&'static str]),
}

impl ArgType {
    /// Checks a value against the type; the error reads like `AnsibleModule`'s.
    pub fn check(self, name: &str, v: &Value) -> Result<(), String> {
        let convert = |to: &str| {
            format!(
                "argument '{name}' is of type {} and we were unable to convert to {to}",
                type_name(v)
            )
        };
        match self {
            ArgType::Str => match v {
                Value::Array(_) | Value::Object(_) => Err(convert("str")),
                _ => Ok(()),
            },
            ArgType::Bool => as_bool(v).map(drop).ok_or_else(|| convert("bool")),
            ArgType::Int => match v {
                Value::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
                Value::String(s) if s.trim().parse::<i64>().is_ok() => Ok(()),
                _ => Err(convert("int")),
            },
            ArgType::Mode => Mode::parse(v)
                .map(drop)
                .map_err(|e| format!("argument '{name}': {e}")),
            ArgType::Choice(choices) => match v {
                Value::String(s) if choices.contains(&s.as_str()) => Ok(()),
                Value::Array(_) | Value::Object(_) => Err(convert("str")),
                other => Err(format!(
                    "value of {name} must be one of: {}, got: {}",
                    choices.join(", "),
                    as_string(other)
                )),
            },
        }
    }
}

/// The typed arguments of modules that write a whole file (copy, template).
pub const PUT_TYPES: &[(&str, ArgType)] = &[
    ("mode", ArgType::Mode),
    ("owner", ArgType::Str),
    ("group", ArgType::Str),
    ("backup", ArgType::Bool),
    ("force", ArgType::Bool),
];

/// The typed arguments of modules that edit a file in place (lineinfile, blockinfile).
pub const EDIT_TYPES: &[(&str, ArgType)] = &[
    ("state", ArgType::Choice(&["present", "absent"])),
    ("mode", ArgType::Mode),
    ("owner", ArgType::Str),
    ("group", ArgType::Str),
    ("create", ArgType::Bool),
    ("backup", ArgType::Bool),
];

/// Checks the arguments of a task that are written without a template against the module's
/// declared [`ArgType`]s (templated values are checked when the module runs). Returns the name of
/// the first bad argument and why.
pub fn check_literal(types: &[(&str, ArgType)], args: &Vars) -> Result<(), (String, String)> {
    for (name, ty) in types {
        match args.get(*name) {
            None | Some(Value::Null) => {}
            Some(v) if has_template(v) => {}
            Some(v) => ty.check(name, v).map_err(|m| ((*name).to_string(), m))?,
        }
    }
    Ok(())
}

fn has_template(v: &Value) -> bool {
    match v {
        Value::String(s) => crate::template::is_template(s),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| crate::template::is_template(k) || has_template(v)),
        _ => false,
    }
}

/// A module's view of its arguments: getters that know the module name for errors.
pub struct Args<'a> {
    module: &'static str,
    vars: &'a Vars,
}

impl<'a> Args<'a> {
    /// Wraps `vars` for `module`, rejecting any key not in `accepted` (Ansible: "Unsupported
    /// parameters").
    pub fn new(module: &'static str, vars: &'a Vars, accepted: &[&str]) -> Result<Self, ModuleError> {
        let mut unknown: Vec<&str> = vars
            .keys()
            .map(String::as_str)
            .filter(|k| !accepted.contains(k) && !k.starts_with('_'))
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            return Err(ModuleError::BadArgs {
                module,
                message: format!(
                    "Unsupported parameters: {}. Supported parameters include: {}",
                    unknown.join(", "),
                    accepted.join(", ")
                ),
            });
        }
        Ok(Args { module, vars })
    }

    /// A [`ModuleError::BadArgs`] for this module.
    pub fn bad(&self, message: impl Into<String>) -> ModuleError {
        ModuleError::BadArgs {
            module: self.module,
            message: message.into(),
        }
    }

    /// The first of `names` (a key and its aliases) that is set and not null.
    pub fn value(&self, names: &[&str]) -> Option<&'a Value> {
        names
            .iter()
            .find_map(|n| self.vars.get(*n))
            .filter(|v| !v.is_null())
    }

    /// An optional string (scalars are converted as Ansible's `str` type does).
    pub fn opt_str(&self, names: &[&str]) -> Result<Option<String>, ModuleError> {
        match self.value(names) {
            None => Ok(None),
            Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => Ok(Some(as_string(v))),
            Some(_) => Err(self.bad(format!("{} must be a string", names[0]))),
        }
    }

    /// A required string.
    pub fn req_str(&self, names: &[&str]) -> Result<String, ModuleError> {
        self.opt_str(names)?
            .ok_or_else(|| self.bad(format!("missing required arguments: {}", names[0])))
    }

    /// A boolean with a default, read like Ansible's `type='bool'` (`yes`, `on`, `1`, ...).
    pub fn bool_or(&self, names: &[&str], default: bool) -> Result<bool, ModuleError> {
        match self.value(names) {
            None => Ok(default),
            Some(v) => as_bool(v).ok_or_else(|| {
                self.bad(format!(
                    "argument '{}' is of type {} and we were unable to convert to bool",
                    names[0],
                    type_name(v)
                ))
            }),
        }
    }

    /// An optional string that must be one of `choices`.
    pub fn choice(&self, names: &[&str], choices: &[&str]) -> Result<Option<String>, ModuleError> {
        match self.opt_str(names)? {
            Some(s) if !choices.contains(&s.as_str()) => Err(self.bad(format!(
                "value of {} must be one of: {}, got: {s}",
                names[0],
                choices.join(", ")
            ))),
            other => Ok(other),
        }
    }

    /// An optional file mode in any Ansible form.
    pub fn mode(&self, names: &[&str]) -> Result<Option<Mode>, ModuleError> {
        match self.value(names) {
            None => Ok(None),
            Some(v) => Mode::parse(v).map(Some).map_err(|e| self.bad(e)),
        }
    }

    /// Fails when two mutually exclusive options are both given.
    pub fn exclusive(&self, a: &str, b: &str) -> Result<(), ModuleError> {
        if self.value(&[a]).is_some() && self.value(&[b]).is_some() {
            return Err(self.bad(format!("parameters are mutually exclusive: {a}|{b}")));
        }
        Ok(())
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Turns a file-primitive failure into the module's result: a host-side failure is a normal
/// failed task (Ansible's `fail_json`), a broken connection is an error.
pub fn files_failure(e: FilesError) -> Result<ModuleOutcome, ModuleError> {
    match e {
        FilesError::Transport(t) => Err(ModuleError::Transport(t)),
        FilesError::Validate { rc, output } => Ok(ModuleOutcome::failed(format!(
            "failed to validate: rc:{rc} error:{output}"
        ))
        .with("exit_status", rc)
        .with("stderr", output)),
        other => Ok(ModuleOutcome::failed(other.to_string())),
    }
}

/// `mode`/`owner`/`group` as given to a file module: the part of Ansible's file-common arguments
/// (`add_file_common_args`) talon supports. `unsafe_writes` is accepted by the modules and ignored
/// (writes are always atomic); SELinux and `attributes` are rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileArgs {
    /// Wanted mode, if any.
    pub mode: Option<Mode>,
    /// Wanted owner (name or uid), if any.
    pub owner: Option<String>,
    /// Wanted group (name or gid), if any.
    pub group: Option<String>,
}

/// The attribute changes a path needs: what to apply, and a before/after summary for `--diff`.
#[derive(Debug, Clone, Default)]
pub struct AttrChanges {
    /// Only the attributes that differ (all `None`: nothing to do).
    pub attrs: FileAttrs,
    /// `mode: 0644\n`-style lines of the old values.
    pub before: String,
    /// The same lines with the new values.
    pub after: String,
}

impl AttrChanges {
    /// Adds the changed attributes to a result (`mode` as `0644`, `owner`, `group`), as
    /// Ansible's file-family modules report them.
    pub fn report(&self, mut out: ModuleOutcome) -> ModuleOutcome {
        if let Some(m) = self.attrs.mode {
            out = out.with("mode", format!("{m:04o}"));
        }
        if let Some(o) = &self.attrs.owner {
            out = out.with("owner", o.clone());
        }
        if let Some(g) = &self.attrs.group {
            out = out.with("group", g.clone());
        }
        out
    }

    /// True when some attribute must change.
    pub fn any(&self) -> bool {
        self.attrs != FileAttrs::default()
    }
}

fn same_principal(wanted: &str, name: &str, id: u32) -> bool {
    match wanted.parse::<u32>() {
        Ok(n) => n == id,
        Err(_) => wanted == name,
    }
}

impl FileArgs {
    /// Reads `mode`, `owner`, `group`.
    pub fn parse(a: &Args<'_>) -> Result<Self, ModuleError> {
        Ok(FileArgs {
            mode: a.mode(&["mode"])?,
            owner: a.opt_str(&["owner"])?.filter(|s| !s.is_empty()),
            group: a.opt_str(&["group"])?.filter(|s| !s.is_empty()),
        })
    }

    /// The attributes a *new* file or directory is given: the mode resolved against what the
    /// umask would make (`0o666`/`0o777 & !umask`), owner and group as given.
    pub fn for_new(&self, umask: u32, is_dir: bool) -> FileAttrs {
        let base = if is_dir { 0o777 } else { 0o666 } & !umask;
        FileAttrs {
            mode: self.mode.as_ref().map(|m| m.resolve(base, is_dir)),
            owner: self.owner.clone(),
            group: self.group.clone(),
        }
    }

    /// The attributes a new path gets when they depend on nothing on the host (a numeric mode
    /// or none; owner and group as given), as [`FileArgs::for_new`] gives them; `None` for a
    /// symbolic mode, which applies to the umask or the existing mode. Modules that check and
    /// create in one round trip use this.
    pub fn fixed_attrs(&self) -> Option<FileAttrs> {
        match self.mode {
            Some(Mode::Symbolic(_)) => None,
            _ => Some(self.for_new(0, false)),
        }
    }

    /// What differs on an existing path (Ansible's `set_fs_attributes_if_different`).
    pub fn changes(&self, st: &FileStat) -> AttrChanges {
        let mut c = AttrChanges::default();
        let is_dir = st.kind == FileKind::Directory;
        if let Some(m) = &self.mode {
            let want = m.resolve(st.mode, is_dir);
            if want != st.mode && st.kind != FileKind::Link {
                c.attrs.mode = Some(want);
                c.before.push_str(&format!("mode: {:04o}\n", st.mode));
                c.after.push_str(&format!("mode: {want:04o}\n"));
            }
        }
        if let Some(o) = &self.owner
            && !same_principal(o, &st.owner, st.uid)
        {
            c.attrs.owner = Some(o.clone());
            c.before.push_str(&format!("owner: {}\n", st.owner));
            c.after.push_str(&format!("owner: {o}\n"));
        }
        if let Some(g) = &self.group
            && !same_principal(g, &st.group, st.gid)
        {
            c.attrs.group = Some(g.clone());
            c.before.push_str(&format!("group: {}\n", st.group));
            c.after.push_str(&format!("group: {g}\n"));
        }
        c
    }
}

/// Adds the usual file result fields (`mode`, `owner`, `group`, `uid`, `gid`, `size`, `state`)
/// from a stat, as Ansible's `add_path_info` does.
pub fn path_info(mut out: ModuleOutcome, st: &FileStat) -> ModuleOutcome {
    out = out
        .with("mode", st.mode_string())
        .with("owner", st.owner.clone())
        .with("group", st.group.clone())
        .with("uid", st.uid)
        .with("gid", st.gid)
        .with("size", st.size)
        .with("state", st.kind.ansible_state());
    if let Some(t) = &st.link_target {
        out = out.with("src", t.clone());
    }
    out
}

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

/// Splits a command line into words like Python's `shlex.split` (POSIX mode): whitespace
/// separates, `'...'` is literal, `"..."` allows `\"`, `\\`, `\$`, backslash escapes outside
/// quotes. Errors on an unterminated quote.
pub fn shell_split(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("no closing quotation in {s:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err(format!("no closing quotation in {s:?}")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(format!("no closing quotation in {s:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    cur.push(c);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Mode {
        Mode::parse(&v).unwrap()
    }

    fn literal(types: &[(&str, ArgType)], args: Value) -> Result<(), (String, String)> {
        let Value::Object(args) = args else { unreachable!() };
        check_literal(types, &args)
    }

    #[test]
    fn literal_arguments_are_checked_against_their_declared_type() {
        let types = &[
            ("state", ArgType::Choice(&["present", "absent"])),
            ("mode", ArgType::Mode),
            ("owner", ArgType::Str),
            ("create", ArgType::Bool),
            ("port", ArgType::Int),
        ];
        let ok = json!({"state": "absent", "mode": "u=rw", "owner": 0, "create": "yes", "port": "22", "other": [1]});
        assert_eq!(literal(types, ok), Ok(()));
        for (args, name, says) in [
            (
                json!({"state": {"a": 1}}),
                "state",
                "argument 'state' is of type dict and we were unable to convert to str",
            ),
            (
                json!({"state": "gone"}),
                "state",
                "value of state must be one of: present, absent, got: gone",
            ),
            (
                json!({"mode": "0999"}),
                "mode",
                "mode must be in octal or symbolic form",
            ),
            (
                json!({"mode": 8191}),
                "mode",
                "mode must be in octal or symbolic form",
            ),
            (json!({"owner": ["root"]}), "owner", "is of type list"),
            (
                json!({"create": "perhaps"}),
                "create",
                "unable to convert to bool",
            ),
            (json!({"port": "http"}), "port", "unable to convert to int"),
        ] {
            let (n, m) = literal(types, args).unwrap_err();
            assert_eq!(n, name);
            assert!(m.contains(says), "{m}");
        }
        // Templates and nulls are left to run time.
        let later = json!({"state": "{{ s }}", "mode": "{{ m }}", "owner": null, "create": {"k": "{{ x }}"}});
        assert_eq!(literal(types, later), Ok(()));
    }

    #[test]
    fn octal_forms() {
        assert_eq!(m(json!("0644")), Mode::Numeric(0o644));
        assert_eq!(m(json!("644")), Mode::Numeric(0o644));
        assert_eq!(m(json!(420)), Mode::Numeric(0o644));
        assert_eq!(m(json!("01777")), Mode::Numeric(0o1777));
        assert!(Mode::parse(&json!("0999")).is_err());
        assert!(Mode::parse(&json!(99999)).is_err());
        assert!(Mode::parse(&json!("rw")).is_err());
        assert!(Mode::parse(&json!("u=q")).is_err());
        assert!(Mode::parse(&json!(true)).is_err());
    }

    #[test]
    fn symbolic_forms() {
        assert_eq!(m(json!("u=rw,g=r,o=r")).resolve(0o777, false), 0o644);
        assert_eq!(m(json!("u=rw,g=r,o=")).resolve(0o000, false), 0o640);
        assert_eq!(m(json!("go-w")).resolve(0o666, false), 0o644);
        assert_eq!(
            m(json!("+x")).resolve(0o644, false),
            0o755,
            "empty who is a, no umask"
        );
        assert_eq!(m(json!("a+X")).resolve(0o644, false), 0o644);
        assert_eq!(m(json!("a+X")).resolve(0o644, true), 0o755);
        assert_eq!(m(json!("a+X")).resolve(0o744, false), 0o755);
        assert_eq!(m(json!("u+s,g+s")).resolve(0o755, false), 0o6755);
        assert_eq!(m(json!("+t")).resolve(0o777, true), 0o1777);
        assert_eq!(m(json!("u=rwx-x+r")).resolve(0o000, false), 0o600);
        assert_eq!(m(json!("g=u")).resolve(0o740, false), 0o770);
        assert_eq!(m(json!("u=rw")).resolve(0o4755, false), 0o655, "= clears setuid");
    }

    #[test]
    fn chmod_arg_spells_out_who() {
        assert_eq!(m(json!("+x,go-w")).chmod_arg(), "ugo+x,go-w");
        assert_eq!(m(json!(420)).chmod_arg(), "0644");
    }

    #[test]
    fn shell_split_like_shlex() {
        assert_eq!(shell_split("visudo -cf %s").unwrap(), ["visudo", "-cf", "%s"]);
        assert_eq!(
            shell_split(r#"sh -c 'test -s "%s"' x"#).unwrap(),
            ["sh", "-c", "test -s \"%s\"", "x"]
        );
        assert_eq!(shell_split(r#"a\ b "c\"d" ''"#).unwrap(), ["a b", "c\"d", ""]);
        assert!(shell_split("'open").is_err());
    }

    #[test]
    fn args_reject_unknown_and_read_bools() {
        let v: Vars = serde_json::from_value(json!({"path": "/x", "force": "yes"})).unwrap();
        let a = Args::new("file", &v, &["path", "force"]).unwrap();
        assert!(a.bool_or(&["force"], false).unwrap());
        assert_eq!(a.req_str(&["path", "dest"]).unwrap(), "/x");
        assert!(a.req_str(&["src"]).is_err());
        assert!(Args::new("file", &v, &["path"]).is_err());
    }
}
