//! Argument reading shared by every module: typed getters over the rendered `Vars` that resolve
//! names, aliases and choices from the module's [`super::spec::ArgSpec`], and the file-common
//! arguments (`mode` in Ansible's forms, `owner`, `group`).
//!
//! Why this exists: every module must reject bad arguments the same way (a
//! [`ModuleError::BadArgs`] naming the module and the key) and read booleans, modes and aliases
//! exactly as Ansible's `AnsibleModule` argument spec does.

use serde_json::Value;

use super::spec::ArgSpec;
use super::{ModuleError, ModuleInfo, ModuleOutcome};
use crate::transport::files::{FileAttrs, FileKind, FileStat, FilesError};
use crate::vars::python_type as type_word;
use crate::vars::{Vars, as_bool, as_string};

pub use super::mode::{Clause, Mode};

/// One task's arguments as its module reads them: every getter takes the argument's name (as
/// declared in the module's [`ArgSpec`]) and finds it under any of its aliases, with Ansible's
/// type coercions. A `null` value counts as "not given" (Ansible's `None`).
///
/// Matches ansible-core's `AnsibleModule` argument handling: unknown keys are refused
/// ("Unsupported parameters for (file) module: x"), required arguments must be given ("missing required
/// arguments"), mutually exclusive ones must not be given together ("parameters are mutually
/// exclusive"), values outside `choices` are refused ("value of X must be one of").
pub struct Args<'a> {
    module: &'static str,
    spec: &'static ArgSpec,
    vars: &'a Vars,
}

impl<'a> Args<'a> {
    /// Reads `vars` for the module `info` describes.
    ///
    /// Errors: [`ModuleError::Unsupported`] for keys the spec does not accept;
    /// [`ModuleError::BadArgs`] for a missing required argument, or two mutually exclusive
    /// arguments given together.
    pub fn new(info: &'static ModuleInfo, vars: &'a Vars) -> Result<Self, ModuleError> {
        Self::with_spec(info.name, &info.spec, vars)
    }

    /// Reads `vars` against `spec` for `module` (a module's sub-options, such as
    /// `docker_image`'s `build`). Errors: as [`Args::new`].
    pub fn with_spec(
        module: &'static str,
        spec: &'static ArgSpec,
        vars: &'a Vars,
    ) -> Result<Self, ModuleError> {
        let a = Args { module, spec, vars };
        let unknown = spec.unknown(vars.keys().map(String::as_str));
        if !unknown.is_empty() {
            return Err(ModuleError::Unsupported {
                module,
                names: unknown.join(", "),
                supported: spec.supported(),
            });
        }
        let mut missing: Vec<&str> = spec
            .args
            .iter()
            .filter(|d| d.required && a.value(d.name).is_none())
            .map(|d| d.name)
            .collect();
        if !missing.is_empty() {
            missing.sort_unstable();
            return Err(a.bad(format!("missing required arguments: {}", missing.join(", "))));
        }
        if let Some(both) = spec.conflict(|k| a.value(k).is_some()) {
            return Err(a.bad(format!("parameters are mutually exclusive: {both}")));
        }
        Ok(a)
    }

    /// The module's name (for messages).
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// A [`ModuleError::BadArgs`] for this module.
    pub fn bad(&self, message: impl Into<String>) -> ModuleError {
        ModuleError::BadArgs {
            module: self.module,
            message: message.into(),
        }
    }

    /// The value given for argument `name` under its name or any alias, unless null. A name the
    /// spec does not declare is looked up as is.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.spec.value(self.vars, name)
    }

    /// An optional string (scalars are converted as Ansible's `str` type does; lists and
    /// mappings are refused).
    pub fn str(&self, name: &str) -> Result<Option<String>, ModuleError> {
        match self.value(name) {
            None => Ok(None),
            Some(v @ (Value::Array(_) | Value::Object(_))) => Err(self.unconvertible(name, v, "str")),
            Some(v) => Ok(Some(as_string(v))),
        }
    }

    /// A required string.
    pub fn req_str(&self, name: &str) -> Result<String, ModuleError> {
        self.str(name)?
            .ok_or_else(|| self.bad(format!("missing required arguments: {name}")))
    }

    /// An optional boolean, read like Ansible's `type='bool'` (`yes`, `on`, `1`, ...).
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ModuleError> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => as_bool(v)
                .map(Some)
                .ok_or_else(|| self.unconvertible(name, v, "bool")),
        }
    }

    /// A boolean with a default.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ModuleError> {
        Ok(self.opt_bool(name)?.unwrap_or(default))
    }

    /// A list of strings. Like Ansible's `type='list'`, a string is split on commas and a
    /// scalar becomes a one-element list; a mapping is refused.
    pub fn list(&self, name: &str) -> Result<Option<Vec<String>>, ModuleError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Array(_) | Value::Object(_) => {
                            return Err(self.bad(format!("argument '{name}' must be a list of strings")));
                        }
                        v => out.push(as_string(v)),
                    }
                }
                Ok(Some(out))
            }
            Some(Value::String(s)) => Ok(Some(
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
            )),
            Some(v @ Value::Object(_)) => Err(self.unconvertible(name, v, "list")),
            Some(v) => Ok(Some(vec![as_string(v)])),
        }
    }

    /// A number (integer or float, or a string holding one).
    pub fn f64(&self, name: &str) -> Result<Option<f64>, ModuleError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(v @ Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| self.unconvertible(name, v, "float")),
            Some(v) => Err(self.unconvertible(name, v, "float")),
        }
    }

    /// A non-negative integer (a string holding one is accepted).
    pub fn u64(&self, name: &str) -> Result<Option<u64>, ModuleError> {
        let fail = |v: &Value| {
            self.bad(format!(
                "argument '{name}' must be a non-negative integer, got {}",
                as_string(v)
            ))
        };
        match self.value(name) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| fail(v)),
            Some(v @ Value::String(s)) => s.trim().parse::<u64>().map(Some).map_err(|_| fail(v)),
            Some(v) => Err(fail(v)),
        }
    }

    /// An optional integer that may be negative (Ansible's `type='int'`; a string holding one
    /// is accepted), e.g. `password_expire_max: -1`.
    pub fn i64(&self, name: &str) -> Result<Option<i64>, ModuleError> {
        match self.value(name) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.unconvertible(name, v, "int")),
            Some(v @ Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| self.unconvertible(name, v, "int")),
            Some(v) => Err(self.unconvertible(name, v, "int")),
        }
    }

    /// An optional string that must be one of the argument's declared `choices`.
    pub fn choice(&self, name: &str) -> Result<Option<String>, ModuleError> {
        let choices = self.spec.find(name).map(|d| d.choices).unwrap_or(&[]);
        match self.str(name)? {
            Some(s) if !choices.is_empty() && !choices.contains(&s.as_str()) => Err(self.bad(format!(
                "value of {name} must be one of: {}, got: {s}",
                choices.join(", ")
            ))),
            other => Ok(other),
        }
    }

    /// An optional file mode in any Ansible form.
    pub fn mode(&self, name: &str) -> Result<Option<Mode>, ModuleError> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => Mode::parse(v).map(Some).map_err(|e| self.bad(e)),
        }
    }

    fn unconvertible(&self, name: &str, v: &Value, want: &str) -> ModuleError {
        self.bad(format!(
            "argument '{name}' is of type {} and we were unable to convert to {want}",
            type_word(v)
        ))
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
    /// The same changes as registered `diff` keys (`mode`, `owner`, `group`).
    pub fields: Vec<super::DiffField>,
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

/// An `owner`/`group` argument as a registered diff value: the id when numeric, else the name
/// (resolved to its id on the host by the module that registers it).
fn principal_value(wanted: &str) -> Value {
    wanted
        .parse::<u32>()
        .map_or_else(|_| Value::from(wanted), Value::from)
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
            mode: a.mode("mode")?,
            owner: a.str("owner")?.filter(|s| !s.is_empty()),
            group: a.str("group")?.filter(|s| !s.is_empty()),
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
                c.fields.push(super::DiffField {
                    key: "mode",
                    before: Value::from(format!("{:04o}", st.mode)),
                    after: Value::from(format!("{want:04o}")),
                });
            }
        }
        if let Some(o) = &self.owner
            && !same_principal(o, &st.owner, st.uid)
        {
            c.attrs.owner = Some(o.clone());
            c.before.push_str(&format!("owner: {}\n", st.owner));
            c.after.push_str(&format!("owner: {o}\n"));
            c.fields.push(super::DiffField {
                key: "owner",
                before: Value::from(st.uid),
                after: principal_value(o),
            });
        }
        if let Some(g) = &self.group
            && !same_principal(g, &st.group, st.gid)
        {
            c.attrs.group = Some(g.clone());
            c.before.push_str(&format!("group: {}\n", st.group));
            c.after.push_str(&format!("group: {g}\n"));
            c.fields.push(super::DiffField {
                key: "group",
                before: Value::from(st.gid),
                after: principal_value(g),
            });
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Mode {
        Mode::parse(&v).unwrap()
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

    use crate::modules::spec::{ArgDef, ArgSpec};

    const BOTH: ModuleInfo = ModuleInfo::test(ArgSpec::new(&[
        ArgDef::path("path").aliases(&["dest"]),
        ArgDef::bool("force"),
        ArgDef::str("src"),
    ]));
    const PATH_ONLY: ModuleInfo = ModuleInfo::test(ArgSpec::new(&[ArgDef::path("path")]));

    #[test]
    fn args_reject_unknown_and_read_bools() {
        let v: Vars = serde_json::from_value(json!({"path": "/x", "force": "yes"})).unwrap();
        let a = Args::new(&BOTH, &v).unwrap();
        assert!(a.bool("force", false).unwrap());
        assert_eq!(a.req_str("path").unwrap(), "/x");
        assert!(a.req_str("src").is_err());
        assert!(Args::new(&PATH_ONLY, &v).is_err());
    }

    #[test]
    fn args_coerce_like_ansible() {
        static SPEC: ArgSpec = ArgSpec::new(&[
            ArgDef::list("a").choices(&["q"]),
            ArgDef::bool("b"),
            ArgDef::int("c"),
            ArgDef::bool("d"),
            ArgDef::list("e"),
            ArgDef::str("zz").aliases(&["c"]),
        ]);
        let v = json!({"a": "x,y", "b": "yes", "c": 3, "d": null, "e": ["p", 1]});
        let m = v.as_object().unwrap();
        let a = Args::with_spec("t", &SPEC, m).unwrap();
        assert_eq!(a.list("a").unwrap().unwrap(), ["x", "y"]);
        assert_eq!(a.list("e").unwrap().unwrap(), ["p", "1"]);
        assert!(a.bool("b", false).unwrap());
        assert!(a.bool("d", true).unwrap());
        assert_eq!(a.u64("c").unwrap(), Some(3));
        assert_eq!(a.str("zz").unwrap().as_deref(), Some("3"));
        assert!(a.choice("a").is_err());
        assert!(a.str("e").is_err());
    }

    #[test]
    fn args_resolve_aliases_and_check_required_and_exclusive() {
        const SPEC: ModuleInfo = ModuleInfo::test(
            ArgSpec::new(&[
                ArgDef::path("path").aliases(&["dest"]).required(),
                ArgDef::str("state").choices(&["present", "absent"]),
                ArgDef::str("a"),
                ArgDef::str("b"),
            ])
            .exclusive(&[&["a", "b"]]),
        );
        let v: Vars = serde_json::from_value(json!({"dest": "/x", "state": "gone"})).unwrap();
        let a = Args::new(&SPEC, &v).unwrap();
        assert_eq!(a.str("path").unwrap().as_deref(), Some("/x"));
        assert!(
            a.choice("state")
                .unwrap_err()
                .to_string()
                .contains("must be one of: present, absent")
        );
        let v: Vars = serde_json::from_value(json!({"state": "present"})).unwrap();
        assert!(
            Args::new(&SPEC, &v)
                .err()
                .unwrap()
                .to_string()
                .contains("missing required arguments: path")
        );
        let v: Vars = serde_json::from_value(json!({"path": "/", "a": "1", "b": "2"})).unwrap();
        assert!(
            Args::new(&SPEC, &v)
                .err()
                .unwrap()
                .to_string()
                .contains("mutually exclusive: a|b")
        );
    }
}
