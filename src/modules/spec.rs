//! Argument specifications: what a module accepts, declared once.
//!
//! Why this exists: a module's argument names, aliases, types and choices were written three
//! times (the registry's name list, each getter's alias list, the argument reader), and two
//! readers disagreed on unknown keys. Now a module declares one [`ArgSpec`]; the loader checks a
//! task's literal arguments against it before anything runs ([`ArgSpec::check_literal`]), and
//! the run-time reader ([`crate::modules::args::Args`]) resolves aliases, types and choices from
//! it.
//!
//! What a spec holds follows ansible-core's `ArgumentSpecValidator`: per argument a type,
//! aliases, `required`, `choices`, `no_log`; per module `mutually_exclusive` groups. talon adds
//! [`ArgDef::delivers`]: the argument is a delivery channel that may carry a secret (see
//! [`crate::secrets`]).

use serde_json::Value;

use crate::vars::as_bool;

/// The type of one module argument, as ansible-core's argument spec `type` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    /// `type='str'`: a string; numbers and booleans are converted (`str()`), lists and
    /// mappings are refused.
    Str,
    /// `type='path'`: a string naming a path.
    Path,
    /// `type='bool'`: `yes`/`no`/`true`/`false`/`on`/`off`/`1`/`0` and YAML booleans.
    Bool,
    /// `type='int'`: an integer, or a string holding one.
    Int,
    /// `type='float'`: a number, or a string holding one.
    Float,
    /// `type='list'`: a list, a comma-separated string, or one scalar.
    List,
    /// `type='dict'`: a mapping (or a `k=v`/JSON string).
    Dict,
    /// `type='raw'`: anything.
    Raw,
    /// A file mode (`raw` in Ansible, but read by `file`-family rules): an octal number or
    /// string, or symbolic clauses.
    Mode,
    /// A [`ArgType::Mode`] or the word `preserve` (the mode of the source file), as
    /// ansible.builtin.copy and ansible.builtin.template read `mode`.
    ModeOrPreserve,
}

/// One accepted argument.
#[derive(Debug, Clone, Copy)]
pub struct ArgDef {
    /// The argument's name (the first of its names in Ansible's docs).
    pub name: &'static str,
    /// Other names accepted for it.
    pub aliases: &'static [&'static str],
    /// Its type.
    pub ty: ArgType,
    /// It must be given (Ansible: "missing required arguments: NAME").
    pub required: bool,
    /// When not empty, the value (as a string) must be one of these.
    pub choices: &'static [&'static str],
    /// Its value is never shown (Ansible's `no_log=True`: passwords).
    pub no_log: bool,
    /// It is a delivery channel: a secret may be passed to it (copy `content`, command
    /// `stdin`, ...). Every other argument refuses a secret.
    pub delivers: bool,
}

impl ArgDef {
    /// An optional argument `name` of type `ty`, without aliases or choices.
    pub const fn new(name: &'static str, ty: ArgType) -> Self {
        ArgDef {
            name,
            aliases: &[],
            ty,
            required: false,
            choices: &[],
            no_log: false,
            delivers: false,
        }
    }
    /// An optional string argument.
    pub const fn str(name: &'static str) -> Self {
        Self::new(name, ArgType::Str)
    }
    /// An optional path argument.
    pub const fn path(name: &'static str) -> Self {
        Self::new(name, ArgType::Path)
    }
    /// An optional boolean argument.
    pub const fn bool(name: &'static str) -> Self {
        Self::new(name, ArgType::Bool)
    }
    /// An optional integer argument.
    pub const fn int(name: &'static str) -> Self {
        Self::new(name, ArgType::Int)
    }
    /// An optional number argument.
    pub const fn float(name: &'static str) -> Self {
        Self::new(name, ArgType::Float)
    }
    /// An optional list argument.
    pub const fn list(name: &'static str) -> Self {
        Self::new(name, ArgType::List)
    }
    /// An optional mapping argument.
    pub const fn dict(name: &'static str) -> Self {
        Self::new(name, ArgType::Dict)
    }
    /// An optional argument of any type.
    pub const fn raw(name: &'static str) -> Self {
        Self::new(name, ArgType::Raw)
    }
    /// An optional file-mode argument.
    pub const fn mode(name: &'static str) -> Self {
        Self::new(name, ArgType::Mode)
    }
    /// An optional file-mode argument that may also be `preserve`.
    pub const fn mode_or_preserve(name: &'static str) -> Self {
        Self::new(name, ArgType::ModeOrPreserve)
    }
    /// The same argument with `aliases`.
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }
    /// The same argument, required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// The same argument, restricted to `choices`.
    pub const fn choices(mut self, choices: &'static [&'static str]) -> Self {
        self.choices = choices;
        self
    }
    /// The same argument, never shown.
    pub const fn no_log(mut self) -> Self {
        self.no_log = true;
        self
    }
    /// The same argument, a delivery channel for secrets.
    pub const fn delivers(mut self) -> Self {
        self.delivers = true;
        self
    }
    /// True when `key` is this argument's name or one of its aliases.
    pub fn answers_to(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }
}

/// Everything a module accepts.
#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    /// The accepted arguments.
    pub args: &'static [ArgDef],
    /// Groups of arguments of which at most one may be given.
    pub mutually_exclusive: &'static [&'static [&'static str]],
    /// Takes Ansible's free-form string (`command: ls -l`, `shell: ...`): the text that is not
    /// `k=v` becomes `_raw_params`.
    pub free_form: bool,
    /// Takes any other argument too, and hands it on unread to the module it runs (ansible's
    /// `package` action passes everything but `use` to the package manager's module, which
    /// judges it).
    pub passthrough: bool,
    /// Arguments of ansible-core's module (names and aliases) that talon's native module does
    /// not implement: a task giving one of them runs the module through the Python path
    /// (ansible-core's own code on the host) instead of the native module, so a rare option
    /// is neither an error nor done wrong.
    pub python_only: &'static [&'static str],
}

impl ArgSpec {
    /// A spec with `args`, no exclusive groups, not free-form.
    pub const fn new(args: &'static [ArgDef]) -> Self {
        ArgSpec {
            args,
            mutually_exclusive: &[],
            free_form: false,
            passthrough: false,
            python_only: &[],
        }
    }
    /// The same spec with mutually exclusive groups.
    pub const fn exclusive(mut self, groups: &'static [&'static [&'static str]]) -> Self {
        self.mutually_exclusive = groups;
        self
    }
    /// The same spec, taking free-form text.
    pub const fn free_form(mut self) -> Self {
        self.free_form = true;
        self
    }
    /// The same spec, taking any other argument for the module it hands them to.
    pub const fn passthrough(mut self) -> Self {
        self.passthrough = true;
        self
    }

    /// The same spec, with the arguments (names and aliases) of ansible-core's module that only
    /// its own code implements: see [`ArgSpec::python_only`].
    pub const fn python_for(mut self, names: &'static [&'static str]) -> Self {
        self.python_only = names;
        self
    }

    /// Keys of `args` that only ansible-core's module implements (see [`ArgSpec::python_only`]),
    /// sorted.
    pub fn needs_python<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Vec<&'k str> {
        let mut out: Vec<&str> = keys
            .into_iter()
            .filter(|k| self.python_only.contains(k))
            .collect();
        out.sort_unstable();
        out
    }

    /// The argument `key` names (by name or alias).
    pub fn find(&self, key: &str) -> Option<&'static ArgDef> {
        self.args.iter().find(|d| d.answers_to(key))
    }

    /// True when `key` may appear in a task's arguments: a name or alias, `_raw_params` of a
    /// free-form module, an internal key (`_` prefix) talon's loader adds, or any key for a
    /// [`ArgSpec::passthrough`] spec.
    pub fn accepts(&self, key: &str) -> bool {
        self.passthrough || self.find(key).is_some() || key.starts_with('_')
    }

    /// Every accepted name, aliases included, in declaration order (for messages).
    pub fn names(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for d in self.args {
            out.push(d.name);
            out.extend(d.aliases.iter().copied());
        }
        out
    }

    /// What the module supports, as ansible-core lists it after "Supported parameters include:":
    /// the argument names sorted, then the aliases sorted in parentheses.
    pub fn supported(&self) -> String {
        let mut names: Vec<&str> = self.args.iter().map(|d| d.name).collect();
        let mut aliases: Vec<&str> = self.args.iter().flat_map(|d| d.aliases.iter().copied()).collect();
        names.sort_unstable();
        aliases.sort_unstable();
        let mut out = names.join(", ");
        if !aliases.is_empty() {
            out.push_str(&format!(" ({})", aliases.join(", ")));
        }
        out
    }

    /// The names of the arguments that are delivery channels for secrets, aliases included.
    pub fn delivering(&self) -> impl Iterator<Item = &'static str> {
        self.args
            .iter()
            .filter(|d| d.delivers)
            .flat_map(|d| std::iter::once(d.name).chain(d.aliases.iter().copied()))
    }

    /// The value `vars` gives argument `name`, under its name or any alias, unless null (a name
    /// the spec does not declare is looked up as is): how the loader and the run-time reader
    /// see an argument as given.
    pub fn value<'v>(&self, vars: &'v crate::vars::Vars, name: &str) -> Option<&'v Value> {
        match self.find(name) {
            Some(d) => std::iter::once(d.name)
                .chain(d.aliases.iter().copied())
                .find_map(|k| vars.get(k).filter(|v| !v.is_null())),
            None => vars.get(name).filter(|v| !v.is_null()),
        }
    }

    /// Keys of `args` that the spec does not accept, sorted (Ansible: "Unsupported parameters").
    pub fn unknown<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Vec<&'k str> {
        let mut out: Vec<&str> = keys.into_iter().filter(|k| !self.accepts(k)).collect();
        out.sort_unstable();
        out
    }

    /// The first mutually exclusive pair both present in `present`, as Ansible words it
    /// (`a|b`).
    pub fn conflict(&self, present: impl Fn(&str) -> bool) -> Option<String> {
        for group in self.mutually_exclusive {
            let given: Vec<&str> = group.iter().copied().filter(|k| present(k)).collect();
            if given.len() > 1 {
                return Some(given.join("|"));
            }
        }
        None
    }

    /// Checks one argument value written literally in a task (no template in it) against its
    /// definition, as far as it can be known before the task runs: its type and its choices.
    /// A value holding a template anywhere is left to run time. Returns the problem, worded as
    /// ansible-core words it where it has a message.
    ///
    /// Errors: a string for a bool that is no boolean word, a list or mapping for a string, a
    /// mapping for a list, a non-number for an int or float, a mode that is neither octal nor
    /// symbolic, a value outside `choices`.
    pub fn check_literal(def: &ArgDef, v: &Value) -> Result<(), String> {
        if holds_template(v) || v.is_null() {
            return Ok(());
        }
        let name = def.name;
        let kind = crate::vars::python_type(v);
        let wrong = |want: &str| {
            format!("argument '{name}' is of type {kind} and we were unable to convert to {want}")
        };
        match def.ty {
            ArgType::Str | ArgType::Path if matches!(v, Value::Array(_) | Value::Object(_)) => {
                return Err(wrong("str"));
            }
            ArgType::Bool if as_bool(v).is_none() => return Err(wrong("bool")),
            ArgType::Int => {
                let ok = match v {
                    Value::Number(n) => n.is_i64() || n.is_u64(),
                    Value::String(s) => s.trim().parse::<i64>().is_ok(),
                    _ => false,
                };
                if !ok {
                    return Err(wrong("int"));
                }
            }
            ArgType::Float => {
                let ok = match v {
                    Value::Number(_) => true,
                    Value::String(s) => s.trim().parse::<f64>().is_ok(),
                    _ => false,
                };
                if !ok {
                    return Err(wrong("float"));
                }
            }
            ArgType::List if v.is_object() => return Err(wrong("list")),
            ArgType::Dict if !(v.is_object() || v.is_string()) => return Err(wrong("dict")),
            ArgType::ModeOrPreserve if v.as_str() == Some("preserve") => {}
            ArgType::Mode | ArgType::ModeOrPreserve => {
                super::args::Mode::parse(v).map_err(|e| format!("argument '{name}': {e}"))?;
            }
            _ => {}
        }
        if !def.choices.is_empty() {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Bool(_) | Value::Number(_) => crate::vars::as_string(v),
                _ => {
                    return Err(format!(
                        "value of {name} must be one of: {}, got: {v}",
                        def.choices.join(", ")
                    ));
                }
            };
            if !def.choices.contains(&s.as_str()) {
                return Err(format!(
                    "value of {name} must be one of: {}, got: {s}",
                    def.choices.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// True when `v` (or anything inside it) is a string holding a Jinja expression or statement.
fn holds_template(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{") || s.contains("{%"),
        Value::Array(a) => a.iter().any(holds_template),
        Value::Object(m) => m
            .iter()
            .any(|(k, x)| holds_template(&Value::String(k.clone())) || holds_template(x)),
        _ => false,
    }
}

/// The argument definitions `extra` followed by ansible-core's common file options (`mode`,
/// `owner`, `group`, the SELinux options, `unsafe_writes`, `attributes`/`attr`), as an array
/// for [`ArgSpec::new`]: modules that take `add_file_common_args` declare them with it.
macro_rules! with_file_args {
    ($($extra:expr),* $(,)?) => {
        &[
            $($extra,)*
            $crate::modules::spec::ArgDef::mode("mode"),
            $crate::modules::spec::ArgDef::str("owner"),
            $crate::modules::spec::ArgDef::str("group"),
            $crate::modules::spec::ArgDef::str("seuser"),
            $crate::modules::spec::ArgDef::str("serole"),
            $crate::modules::spec::ArgDef::str("setype"),
            $crate::modules::spec::ArgDef::str("selevel"),
            $crate::modules::spec::ArgDef::bool("unsafe_writes"),
            $crate::modules::spec::ArgDef::str("attributes").aliases(&["attr"]),
        ]
    };
}
pub(crate) use with_file_args;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: ArgSpec = ArgSpec::new(&[
        ArgDef::path("path").aliases(&["dest", "name"]).required(),
        ArgDef::str("state").choices(&["present", "absent"]),
        ArgDef::bool("force"),
        ArgDef::int("port"),
        ArgDef::list("groups"),
        ArgDef::mode("mode"),
        ArgDef::str("content").delivers(),
    ])
    .exclusive(&[&["force", "port"]]);

    #[test]
    fn names_aliases_and_unknown_keys() {
        assert_eq!(SPEC.find("dest").unwrap().name, "path");
        assert!(SPEC.accepts("_raw_params"));
        assert_eq!(SPEC.unknown(["path", "zzz", "aaa", "dest"]), ["aaa", "zzz"]);
        assert_eq!(SPEC.names()[..3], ["path", "dest", "name"]);
        assert_eq!(SPEC.delivering().collect::<Vec<_>>(), ["content"]);
        assert_eq!(
            SPEC.conflict(|k| k == "force" || k == "port").as_deref(),
            Some("force|port")
        );
        assert_eq!(SPEC.conflict(|k| k == "force"), None);
    }

    #[test]
    fn unsupported_arguments_are_worded_as_ansible_core() {
        assert_eq!(
            SPEC.supported(),
            "content, force, groups, mode, path, port, state (dest, name)"
        );
        static INFO: super::super::ModuleInfo = super::super::ModuleInfo::test(SPEC);
        let vars = json!({"path": "/x", "zzz": 1, "aaa": 2});
        let e = crate::modules::args::Args::new(&INFO, vars.as_object().unwrap())
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "Unsupported parameters for (test) module: aaa, zzz. Supported parameters include: content, force, groups, mode, path, port, state (dest, name)."
        );
    }

    #[test]
    fn literal_values_are_checked_by_type_and_choice() {
        let check = |k: &str, v: Value| ArgSpec::check_literal(SPEC.find(k).unwrap(), &v);
        assert!(check("state", json!("present")).is_ok());
        assert_eq!(
            check("state", json!({"a": 1})).unwrap_err(),
            "argument 'state' is of type dict and we were unable to convert to str"
        );
        assert_eq!(
            check("state", json!("gone")).unwrap_err(),
            "value of state must be one of: present, absent, got: gone"
        );
        assert!(check("force", json!("yes")).is_ok());
        assert!(check("force", json!("maybe")).is_err());
        assert!(check("port", json!("22")).is_ok());
        assert!(check("port", json!("x")).is_err());
        assert!(check("groups", json!("a,b")).is_ok());
        assert!(check("groups", json!({"a": 1})).is_err());
        assert!(check("mode", json!("0644")).is_ok());
        assert!(check("mode", json!(99999)).is_err());
        assert!(check("mode", json!("u=rwz")).is_err());
        // A template anywhere leaves the check to run time.
        assert!(check("state", json!("{{ s }}")).is_ok());
        assert!(check("port", json!(["{{ p }}"])).is_ok());
    }
}
