//! `debconf`: read and set a package's debconf answers, matching ansible.builtin.debconf:
//! `debconf-show NAME` gives the current answers (`* question: value`); a `question` whose
//! value differs (booleans compared lower-cased, `password` values read with
//! `debconf-get-selections`, `multiselect` lists compared sorted) is set with
//! `debconf-set-selections` (`-u` for `unseen`), the line `NAME QUESTION VTYPE VALUE` on its
//! stdin, so a password never reaches argv. Results `current`, `previous`, `msg` (the setter's
//! output) and, with `--diff`, `{before, after}`; without a question the task only reads.
//! Check mode reports the change without setting it. Two round trips when it sets, one
//! otherwise.

use serde_json::{Map, Value, json};

use crate::modules::args::Args;
use crate::modules::spec::{ArgDef, ArgSpec};
use crate::modules::{ModuleContext, ModuleError, ModuleOutcome, Plan, sysutil};
use crate::vars::Vars;

crate::module_info!(
    /// `debconf` arguments (aliases included).
    INFO,
    "debconf",
    ArgSpec::new(&[
        ArgDef::str("name").aliases(&["pkg"]).required(),
        ArgDef::str("question").aliases(&["selection", "setting"]),
        ArgDef::str("vtype").choices(&[
            "boolean",
            "error",
            "multiselect",
            "note",
            "password",
            "seen",
            "select",
            "string",
            "text",
            "title",
        ]),
        ArgDef::raw("value").aliases(&["answer"]).delivers(),
        ArgDef::bool("unseen"),
    ]),
    plan = plan,
    apply = apply
);

/// The line to give `debconf-set-selections` and whether to pass `-u`.
pub struct Set {
    line: secrecy::zeroize::Zeroizing<Vec<u8>>,
    unseen: bool,
}

/// Reads the answers and decides. Errors: [`ModuleError::BadArgs`] for a question without
/// `vtype` and `value`; [`ModuleError::Transport`].
pub async fn plan(args: &Vars, ctx: &ModuleContext<'_>) -> Result<Plan<Set>, ModuleError> {
    let a = Args::new(&INFO, args)?;
    let pkg = a.req_str("name")?;
    let question = a.str("question")?;
    let vtype = a.choice("vtype")?;
    let value = a.value("value").filter(|v| !v.is_null()).cloned();
    let unseen = a.bool("unseen", false)?;
    // ansible-core's required_together.
    let given = [question.is_some(), vtype.is_some(), value.is_some()];
    if given.iter().any(|g| *g) && !given.iter().all(|g| *g) {
        return Ok(Plan::Done(ModuleOutcome::failed(
            "parameters are required together: question, vtype, value",
        )));
    }
    // A secret answer is compared and delivered as its value, shown as its mask.
    let value = match value {
        Some(Value::String(text)) => match ctx.secrets.reveal(&text) {
            Ok(r) => Some((
                Value::String(text),
                String::from_utf8_lossy(&r.content).into_owned(),
            )),
            Err(e) => return Ok(Plan::Done(ModuleOutcome::failed(e.to_string()))),
        },
        Some(other) => {
            let text = crate::vars::as_string(&other);
            Some((other, text))
        }
        None => None,
    };
    let marker = sysutil::marker();
    let password = vtype.as_deref() == Some("password");
    let script = format!(
        "{}printf '%s show\\n' \"$1\"; debconf-show \"$2\" 2>&1; printf '%s rc %s\\n' \"$1\" \"$?\"\n{}",
        sysutil::tools_probe(&["debconf-show", "debconf-get-selections", "debconf-set-selections"]),
        if password {
            "printf '%s get\\n' \"$1\"; debconf-get-selections 2>&1; printf '%s getrc %s\\n' \"$1\" \"$?\"\n"
        } else {
            ""
        }
    );
    let out = sysutil::run_script(ctx, &script, &[marker.clone(), pkg.clone()], None).await?;
    let text = out.stdout_str();
    let secs = sysutil::sections(&text, &marker);
    if let Some(m) = sysutil::missing_tool(&secs, "debconf-show") {
        return Ok(Plan::Done(ModuleOutcome::failed(m)));
    }
    let shown = sysutil::section(&secs, "show").unwrap_or_default();
    if !secs.iter().any(|(n, _)| *n == "rc 0") {
        return Ok(Plan::Done(ModuleOutcome::failed(shown.trim_end().to_string())));
    }
    let mut prev = selections(shown);
    let (Some(question), Some(vtype), Some((value, revealed))) = (question, vtype, value) else {
        return Ok(Plan::Done(
            ModuleOutcome::ok()
                .with("msg", "")
                .with("current", Value::Object(prev)),
        ));
    };
    let deliver = match &value {
        Value::String(_) => Value::String(revealed),
        other => other.clone(),
    };
    let (value, changed) = match prev.get(&question).and_then(Value::as_str) {
        None => (wanted(&vtype, &value), true),
        Some(existing) => {
            let existing = match vtype.as_str() {
                "boolean" => existing.to_lowercase(),
                "password" => {
                    if let Some(m) = sysutil::missing_tool(&secs, "debconf-get-selections") {
                        return Ok(Plan::Done(ModuleOutcome::failed(m)));
                    }
                    password_value(
                        sysutil::section(&secs, "get").unwrap_or_default(),
                        &pkg,
                        &question,
                        &vtype,
                    )
                }
                _ => existing.to_string(),
            };
            let want = wanted(&vtype, &value);
            let same = match (&wanted(&vtype, &deliver), vtype.as_str()) {
                (Value::Array(items), "multiselect") => {
                    let mut w: Vec<String> = items.iter().map(crate::vars::as_string).collect();
                    w.sort();
                    let mut e: Vec<String> = existing.split(',').map(|i| i.trim().to_string()).collect();
                    e.sort();
                    w == e
                }
                (Value::String(w), _) => *w == existing,
                // A number or a mapping never equals the text debconf shows (as in Python).
                _ => false,
            };
            (want, !same)
        }
    };
    if !changed {
        return Ok(Plan::Done(
            ModuleOutcome::ok()
                .with("msg", "")
                .with("current", Value::Object(prev)),
        ));
    }
    let text_value = match wanted(&vtype, &deliver) {
        Value::String(s) => s,
        Value::Array(items) if vtype == "multiselect" => items
            .iter()
            .map(crate::vars::as_string)
            .collect::<Vec<_>>()
            .join(", "),
        other => {
            // ansible-core joins the line with ' '.join(...), which refuses anything but text.
            return Ok(Plan::Done(ModuleOutcome::failed(format!(
                "sequence item 3: expected str instance, {} found",
                python_type(&other)
            ))));
        }
    };
    let mut current = Map::new();
    current.insert(question.clone(), value.clone());
    let previous = match prev.remove(&question) {
        Some(v) => {
            let mut m = Map::new();
            m.insert(question.clone(), v);
            m
        }
        None => {
            prev.insert(question.clone(), json!(""));
            prev
        }
    };
    let mut after = previous.clone();
    after.insert(question.clone(), value);
    let diff = if ctx.diff {
        json!({"before": previous, "after": after})
    } else {
        json!({})
    };
    let planned = ModuleOutcome::changed(true)
        .with("msg", "")
        .with("current", Value::Object(current))
        .with("previous", Value::Object(previous))
        .with("diff", diff);
    Ok(Plan::Change(
        planned,
        Set {
            line: secrecy::zeroize::Zeroizing::new(
                format!("{pkg} {question} {vtype} {text_value}").into_bytes(),
            ),
            unseen,
        },
    ))
}

/// Sets the answer. Errors: [`ModuleError::Transport`].
pub async fn apply(
    set: Set,
    planned: ModuleOutcome,
    ctx: &ModuleContext<'_>,
) -> Result<ModuleOutcome, ModuleError> {
    let script =
        r#"if [ "$1" = 1 ]; then exec debconf-set-selections -u; else exec debconf-set-selections; fi"#;
    let flag = if set.unseen { "1" } else { "0" };
    let out = sysutil::run_script(ctx, script, &[flag.to_string()], Some(set.line.to_vec())).await?;
    if !out.status.success() {
        return Ok(ModuleOutcome::failed(out.stderr_str()));
    }
    Ok(planned.with("msg", out.stdout_str()))
}

/// `debconf-show` lines (`* question: value`, `  question: value`) as a mapping.
fn selections(text: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for line in text.lines() {
        if let Some((key, value)) = line.split_once(':') {
            let key = key.trim_matches(|c: char| c == '*' || c.is_whitespace());
            out.insert(key.to_string(), json!(value.trim()));
        }
    }
    out
}

/// The value as ansible-core compares it: a boolean's text lower-cased, else as given.
fn wanted(vtype: &str, value: &Value) -> Value {
    if vtype == "boolean" {
        let text = match value {
            Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            other => crate::vars::as_string(other),
        };
        return Value::String(text.to_lowercase());
    }
    value.clone()
}

/// Python's name for a value's type, for its TypeError message.
fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Object(_) => "dict",
        Value::Array(_) => "list",
        Value::Null => "NoneType",
        Value::String(_) => "str",
    }
}

/// A password question's value from `debconf-get-selections` (tab-separated `pkg question
/// vtype value` lines), as ansible-core reads it: the first line starting with the package
/// name decides when it has no value (empty), else the matching question's value.
fn password_value(text: &str, pkg: &str, question: &str, vtype: &str) -> String {
    for line in text.lines().filter(|l| l.starts_with(pkg)) {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() <= 3 {
            return String::new();
        }
        if fields[1] == question && fields[2] == vtype {
            return fields[3].to_string();
        }
    }
    String::new()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debconf_show_and_get_selections_as_ansible_core_reads_them() {
        let s = selections("* tzdata/Areas: Europe\n  locales/default: en_US.UTF-8\n  x/y: a: b\n");
        assert_eq!(s["tzdata/Areas"], "Europe");
        assert_eq!(s["locales/default"], "en_US.UTF-8");
        assert_eq!(s["x/y"], "a: b");
        let sel = "mysql\tmysql/pw\tpassword\tsecret\nmysql\tmysql/other\tstring\tv\n";
        assert_eq!(password_value(sel, "mysql", "mysql/pw", "password"), "secret");
        assert_eq!(
            password_value("mysql\tmysql/pw\tpassword\n", "mysql", "mysql/pw", "password"),
            ""
        );
        assert_eq!(wanted("boolean", &json!(true)), json!("true"));
        assert_eq!(wanted("boolean", &json!("YES")), json!("yes"));
        assert_eq!(wanted("string", &json!(1)), json!(1));
    }
}
