//! `vars_prompt:` on plays, as ansible-core 2.19's PlaybookExecutor and `Display.do_var_prompt`
//! handle it: each entry's fields are templated with the play's variables; a name given with
//! `-e` is not asked; on a terminal the prompt is `PROMPT [DEFAULT]: ` (`private`, the default,
//! without echo; `confirm` asks twice until both answers match, printing
//! "***** VALUES ENTERED DO NOT MATCH ****"); without a terminal on stdin nothing is asked and
//! ansible-core's warning "Not prompting as we are not in interactive mode" is printed. An empty
//! answer takes the default; no answer and no default gives the string `None` (ansible-core's
//! `to_text(None)`). `encrypt` hashes the answer with the `password_hash` filter (`salt`,
//! `salt_size`); `unsafe: true` keeps `{{` in an answer as text.
//!
//! Each play's prompts are asked when the play starts, before its `PLAY` banner and after the
//! previous play's output, as ansible-core's PlaybookExecutor asks them. Before the run, every
//! entry is rendered ([`prepare`]) and the names of `private` prompts are reserved in the run's
//! secret store (see `src/secrets/`), so that the load-time checks know them as secrets; the
//! answer fills the reserved secret when asked ([`answer_play`]), masked in every output from
//! then on and held to the store's delivery rules, instead of a play variable. An empty private
//! answer is a plain variable.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::{Value, json};

use super::{Playbook, vars_of};
use crate::error::LoadError;
use crate::vars::{self, Vars};
use crate::yaml::Node;

/// The keys of a `vars_prompt` entry (ansible-core's `Play._load_vars_prompt`).
const KEYS: &[&str] = &[
    "name",
    "prompt",
    "default",
    "private",
    "confirm",
    "encrypt",
    "salt_size",
    "salt",
    "unsafe",
];

/// Reads a play's `vars_prompt:` list, checked as ansible-core checks it.
///
/// Errors: [`LoadError`] for an entry without `name` or with another key, in ansible-core's
/// words ("Invalid vars_prompt data structure, ...").
pub(super) fn parse(node: &Node) -> Result<Vec<Vars>, LoadError> {
    let Some(items) = node.as_seq() else {
        if matches!(node.kind, crate::yaml::NodeKind::Null) {
            return Ok(Vec::new());
        }
        return Err(LoadError::at(
            &node.mark,
            "vars_prompt must be a list of mappings",
        ));
    };
    let mut out = Vec::new();
    for item in items {
        let entry = vars_of(item, "a vars_prompt entry")?;
        if !entry.contains_key("name") {
            return Err(LoadError::at(
                &item.mark,
                "Invalid vars_prompt data structure, missing 'name' key",
            ));
        }
        if let Some(k) = entry.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(LoadError::at(
                &item.mark,
                format!("Invalid vars_prompt data structure, found unsupported key '{k}'"),
            ));
        }
        out.push(entry);
    }
    Ok(out)
}

/// Where answers come from and how prompts are shown (a terminal, or a test's script).
pub trait Asker {
    /// Whether stdin is a terminal (else nothing is asked).
    fn interactive(&self) -> bool;
    /// Shows `msg` and reads one answer (without echo when `private`).
    fn ask(&mut self, msg: &str, private: bool) -> std::io::Result<String>;
    /// Prints a line to the user (the confirm mismatch).
    fn say(&mut self, line: &str);
}

/// The controller's terminal: prompts on stderr's terminal, private answers without echo.
pub struct Terminal;

impl Asker for Terminal {
    fn interactive(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    fn ask(&mut self, msg: &str, private: bool) -> std::io::Result<String> {
        if private {
            return rpassword::prompt_password(msg);
        }
        let mut err = std::io::stderr();
        err.write_all(msg.as_bytes())?;
        err.flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }

    fn say(&mut self, line: &str) {
        eprintln!("{line}");
    }
}

/// An answered prompt: a play variable, or (private) a secret.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// A play variable (into the play's `vars`).
    Var(String, Value),
    /// A private answer: a secret of the run.
    Secret(String, String),
}

/// What [`answer_play`] found: the plain answers (play variables), the private ones (name,
/// value) and the warnings to print.
pub type Answered = (Vars, Vec<(String, String)>, Vec<String>);

/// Renders every play's `vars_prompt` entries with the play's variables and `extra`, keeping
/// those to ask (`skip` names, extra vars and secrets already given, are not asked), and
/// returns the names of the `private` ones (secrets of the run once answered).
///
/// Errors: a message naming the play when a field does not render.
pub fn prepare(pb: &mut Playbook, extra: &Vars, skip: &dyn Fn(&str) -> bool) -> Result<Vec<String>, String> {
    let templater = crate::template::Templater::new();
    let mut private = Vec::new();
    for play in &mut pb.plays {
        let mut kept = Vec::new();
        for entry in &play.vars_prompt {
            let mut scope_vars = play.vars.clone();
            vars::overlay(&mut scope_vars, extra);
            let scope = crate::template::Scope::new(std::sync::Arc::new(scope_vars));
            let rendered = templater
                .render_value(&Value::Object(entry.clone()), &scope)
                .map_err(|e| format!("play '{}': vars_prompt: {e}", play.name))?;
            let Value::Object(rendered) = rendered else {
                continue;
            };
            let name = rendered.get("name").map(vars::as_string).unwrap_or_default();
            if skip(&name) {
                continue;
            }
            let is_private = rendered
                .get("private")
                .filter(|v| !v.is_null())
                .is_none_or(|v| vars::as_bool(v).unwrap_or(true));
            if is_private && !private.contains(&name) {
                private.push(name);
            }
            kept.push(rendered);
        }
        play.vars_prompt = kept;
    }
    Ok(private)
}

/// Asks one play's prompts (rendered by [`prepare`]), in order.
///
/// Errors: a message when `encrypt` fails (an unknown algorithm, a bad salt) or the terminal
/// cannot be read.
pub fn answer_play(entries: &[Vars], asker: &mut dyn Asker) -> Result<Answered, String> {
    let templater = crate::template::Templater::new();
    let mut plain = Vars::new();
    let mut secrets = Vec::new();
    let mut warnings = Vec::new();
    for entry in entries {
        let entry = Value::Object(entry.clone());
        match answer(&entry, &templater, &|_| false, asker, &mut warnings)? {
            None => {}
            Some(Answer::Var(name, v)) => {
                plain.insert(name, v);
            }
            Some(Answer::Secret(name, v)) => secrets.push((name, v)),
        }
    }
    Ok((plain, secrets, warnings))
}

/// One entry, rendered: `None` when skipped.
fn answer(
    entry: &Value,
    templater: &crate::template::Templater,
    skip: &dyn Fn(&str) -> bool,
    asker: &mut dyn Asker,
    warnings: &mut Vec<String>,
) -> Result<Option<Answer>, String> {
    let field = |k: &str| entry.get(k).filter(|v| !v.is_null());
    let name = field("name").map(vars::as_string).unwrap_or_default();
    if skip(&name) {
        return Ok(None);
    }
    let flag = |k: &str, default: bool| {
        field(k)
            .map(|v| vars::as_bool(v).unwrap_or(default))
            .unwrap_or(default)
    };
    let private = flag("private", true);
    let confirm = flag("confirm", false);
    let unsafe_ = flag("unsafe", false);
    let prompt = field("prompt")
        .map(vars::as_string)
        .unwrap_or_else(|| name.clone());
    let default = field("default").map(vars::as_string);
    let mut result: Option<String> = None;
    if asker.interactive() {
        let msg = match (&default, prompt.is_empty()) {
            (Some(d), false) => format!("{prompt} [{d}]: "),
            (None, false) => format!("{prompt}: "),
            (_, true) => format!("input for {name}: "),
        };
        let read = |asker: &mut dyn Asker, m: &str| {
            asker
                .ask(m, private)
                .map_err(|e| format!("vars_prompt '{name}': reading the terminal: {e}"))
        };
        result = Some(if confirm {
            loop {
                let first = read(asker, &msg)?;
                let second = read(asker, &format!("confirm {msg}"))?;
                if first == second {
                    break first;
                }
                asker.say("***** VALUES ENTERED DO NOT MATCH ****");
            }
        } else {
            read(asker, &msg)?
        });
    } else {
        warnings.push("Not prompting as we are not in interactive mode".into());
    }
    if result.as_deref().is_none_or(str::is_empty)
        && let Some(d) = default
    {
        result = Some(d);
    }
    let mut text = result.unwrap_or_else(|| "None".into());
    if let Some(algo) = field("encrypt").map(vars::as_string) {
        let mut v = Vars::new();
        v.insert("__talon_prompt_value".into(), json!(text));
        v.insert("__talon_prompt_algo".into(), json!(algo));
        v.insert(
            "__talon_prompt_salt".into(),
            field("salt").cloned().unwrap_or(Value::Null),
        );
        v.insert(
            "__talon_prompt_salt_size".into(),
            field("salt_size").cloned().unwrap_or(Value::Null),
        );
        let s = crate::template::Scope::new(std::sync::Arc::new(v));
        let hashed = templater
            .render_str(
                "{{ __talon_prompt_value | password_hash(__talon_prompt_algo, salt=__talon_prompt_salt, salt_size=__talon_prompt_salt_size) }}",
                &s,
            )
            .map_err(|e| format!("vars_prompt '{name}': encrypt: {e}"))?;
        text = vars::as_string(&hashed);
    }
    if private && !text.is_empty() {
        return Ok(Some(Answer::Secret(name, text)));
    }
    // A trusted answer is templated when used, as ansible-core tags it; an unsafe one is text.
    let value = if unsafe_ && crate::template::is_template(&text) {
        json!(format!("{{% raw %}}{text}{{% endraw %}}"))
    } else {
        json!(text)
    };
    Ok(Some(Answer::Var(name, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Script(Vec<&'static str>, Vec<String>, bool);

    impl Asker for Script {
        fn interactive(&self) -> bool {
            self.2
        }
        fn ask(&mut self, msg: &str, _private: bool) -> std::io::Result<String> {
            self.1.push(msg.to_string());
            Ok(if self.0.is_empty() {
                String::new()
            } else {
                self.0.remove(0).to_string()
            })
        }
        fn say(&mut self, line: &str) {
            self.1.push(line.to_string());
        }
    }

    fn one(entry: Value, asker: &mut Script) -> (Option<Answer>, Vec<String>) {
        let t = crate::template::Templater::new();
        let mut w = Vec::new();
        let a = answer(&entry, &t, &|n| n == "given", asker, &mut w);
        (a.unwrap_or(None), w)
    }

    #[test]
    fn prompts_as_ansible_core() {
        let mut a = Script(vec!["x", "y", "z", "z"], Vec::new(), true);
        let (r, _) = one(
            json!({"name": "v", "prompt": "Give", "default": "d", "private": false, "confirm": true}),
            &mut a,
        );
        assert_eq!(r, Some(Answer::Var("v".into(), json!("z"))));
        assert_eq!(
            a.1,
            vec![
                "Give [d]: ",
                "confirm Give [d]: ",
                "***** VALUES ENTERED DO NOT MATCH ****",
                "Give [d]: ",
                "confirm Give [d]: "
            ]
        );
        let mut a = Script(vec![""], Vec::new(), true);
        let (r, _) = one(json!({"name": "v", "default": "d"}), &mut a);
        assert_eq!(r, Some(Answer::Secret("v".into(), "d".into())));
        assert_eq!(a.1, vec!["v [d]: "]);
    }

    #[test]
    fn without_a_terminal_the_default_or_none() {
        let mut a = Script(vec![], Vec::new(), false);
        let (r, w) = one(json!({"name": "v", "private": false}), &mut a);
        assert_eq!(r, Some(Answer::Var("v".into(), json!("None"))));
        assert_eq!(w, vec!["Not prompting as we are not in interactive mode"]);
        let (r, _) = one(json!({"name": "given", "default": 1}), &mut a);
        assert_eq!(r, None);
    }
}
