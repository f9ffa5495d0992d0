//! A template of statements around one expression (`{% set x = [1, 2] %}{{ x }}`) keeps the
//! expression's native type, as ansible-core 2.19's native concatenation does: Jinja's output
//! is a list of nodes (each `{{ }}` result, each piece of literal text); exactly one node is
//! returned as it is, more are joined into a string. Statements that write nothing (`set`,
//! comments, an `if` or a loop around the one expression) are no nodes; no node at all is
//! none. The formatter records
//! what each `{{ }}` wrote while a native render listens ([`listen`]); literal text shows as
//! output the records do not account for.

use std::cell::RefCell;

use minijinja::value::Value as MjValue;

thread_local! {
    /// Per render being listened to (renders nest: a variable's own template renders while
    /// another renders), the values written by `{{ }}` and their text, at most two.
    static HEARD: RefCell<Vec<Vec<(MjValue, String)>>> = const { RefCell::new(Vec::new()) };
}

/// Called by the formatter for each `{{ }}` result and the text it wrote.
pub(crate) fn heard(value: &MjValue, text: &str) {
    HEARD.with(|h| {
        if let Some(frame) = h.borrow_mut().last_mut()
            && frame.len() < 2
        {
            frame.push((value.clone(), text.to_string()));
        }
    });
}

/// Runs `render` (which returns the template's output, its trailing newlines as in the source
/// `source`) and returns the one expression's native value when the output is exactly that
/// one non-string value (with the one trailing newline Jinja drops), none when nothing was
/// written; else the output.
pub(crate) fn listen<E>(source: &str, render: impl FnOnce() -> Result<String, E>) -> Result<MjValue, E> {
    HEARD.with(|h| h.borrow_mut().push(Vec::new()));
    let out = render();
    let heard = HEARD.with(|h| h.borrow_mut().pop()).unwrap_or_default();
    let out = out?;
    let one_newline = source.ends_with('\n') && !source.ends_with("\n\n");
    let is = |text: &str| out == text || (one_newline && out.strip_suffix('\n') == Some(text));
    match heard.as_slice() {
        // No node at all (`{% if false %}x{% endif %}`), or one that is none: None.
        [] if is("") => return Ok(MjValue::from(())),
        [(value, _)] if value.is_none() && is("") => return Ok(MjValue::from(())),
        [(value, text)]
            if value.as_str().is_none() && !value.is_none() && !value.is_undefined() && is(text) =>
        {
            return Ok(value.clone());
        }
        _ => {}
    }
    Ok(MjValue::from(out))
}
