//! Template files as ansible-core renders them (the `template` module and lookup): the
//! `#jinja2:` first-line header, `{% include %}`/`{% import %}`/`{% from %}`/`{% extends %}`
//! resolved on the task's search path, and ansible-core's trailing newlines (Jinja drops the
//! last newline of a template; ansible-core then pads the output back to the number of
//! newlines the source ended with).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use minijinja::{Environment, ErrorKind};

use super::{Engine, TemplateError, TemplateSyntax, chained, make_env_with, raw_strings, scope::Ctx};

/// ansible-core's header marker: `#jinja2: key: value, ...` on the first line.
pub const HEADER: &str = "#jinja2:";

/// The template text after its `#jinja2:` header, and `base` with the header's overrides, as
/// ansible-core's `TemplateOverrides._extract_template_overrides` reads them: pairs split on
/// `,`, keys from the override fields, values Python literals (`True`, `'[%'`, `"\r\n"`).
///
/// Errors: a header without a newline after it, an empty pair, a pair without `:`, an unknown
/// key, or a value that is not a literal of the key's type (ansible-core's messages).
pub fn extract_header<'t>(
    text: &'t str,
    base: &TemplateSyntax,
) -> Result<(&'t str, TemplateSyntax), TemplateError> {
    let Some(rest) = text.strip_prefix(HEADER) else {
        return Ok((text, base.clone()));
    };
    let Some(eol) = rest.find('\n') else {
        return Err(TemplateError::msg(format!(
            "Missing newline after '{HEADER}' override."
        )));
    };
    let mut syntax = base.clone();
    for pair in rest[..eol].split(',') {
        if pair.trim().is_empty() {
            return Err(TemplateError::msg(format!(
                "Empty '{HEADER}' override pair not allowed."
            )));
        }
        let Some((key, value)) = pair.split_once(':') else {
            return Err(TemplateError::msg(format!(
                "Missing key-value separator `:` in '{HEADER}' override pair '{pair}'."
            )));
        };
        let key = key.trim();
        let value = literal(value.trim()).ok_or_else(|| {
            TemplateError::msg(format!(
                "'{HEADER}' override {key}: {value} is not a Python literal"
            ))
        })?;
        set(&mut syntax, key, value)?;
    }
    Ok((&rest[eol + 1..], syntax))
}

/// A Python literal of a header value: a boolean, `None` or a quoted string.
#[derive(Debug, PartialEq)]
enum Literal {
    Bool(bool),
    None,
    Str(String),
}

fn literal(v: &str) -> Option<Literal> {
    match v {
        "True" => return Some(Literal::Bool(true)),
        "False" => return Some(Literal::Bool(false)),
        "None" => return Some(Literal::None),
        _ => {}
    }
    let quote = v.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let inner = v.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == quote {
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = match chars.next()? {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '0' => '\0',
            other @ ('\\' | '\'' | '"') => other,
            other => {
                out.push('\\');
                other
            }
        };
        out.push(escaped);
    }
    Some(Literal::Str(out))
}

/// Applies one header override to `syntax`.
fn set(syntax: &mut TemplateSyntax, key: &str, value: Literal) -> Result<(), TemplateError> {
    let wrong = |what: &str| TemplateError::msg(format!("'{HEADER}' override {key} must be {what}"));
    let string = |v: Literal| match v {
        Literal::Str(s) => Ok(s),
        _ => Err(wrong("a string")),
    };
    let boolean = |v: Literal| match v {
        Literal::Bool(b) => Ok(b),
        _ => Err(wrong("True or False")),
    };
    let optional = |v: Literal| match v {
        Literal::Str(s) => Ok(Some(s)),
        Literal::None => Ok(None),
        Literal::Bool(_) => Err(wrong("a string or None")),
    };
    match key {
        "block_start_string" => syntax.block.0 = string(value)?,
        "block_end_string" => syntax.block.1 = string(value)?,
        "variable_start_string" => syntax.variable.0 = string(value)?,
        "variable_end_string" => syntax.variable.1 = string(value)?,
        "comment_start_string" => syntax.comment.0 = string(value)?,
        "comment_end_string" => syntax.comment.1 = string(value)?,
        "line_statement_prefix" => syntax.line_statement_prefix = optional(value)?,
        "line_comment_prefix" => syntax.line_comment_prefix = optional(value)?,
        "trim_blocks" => syntax.trim_blocks = boolean(value)?,
        "lstrip_blocks" => syntax.lstrip_blocks = boolean(value)?,
        "keep_trailing_newline" => syntax.keep_trailing_newline = boolean(value)?,
        "newline_sequence" => {
            let s = string(value)?;
            if !matches!(s.as_str(), "\n" | "\r\n" | "\r") {
                return Err(wrong("'\\n', '\\r\\n' or '\\r'"));
            }
            syntax.newline_sequence = s;
        }
        other => {
            return Err(TemplateError::msg(format!(
                "Invalid '{HEADER}' override key '{other}'."
            )));
        }
    }
    Ok(())
}

/// Where `{% include %}` and friends look for a template file of `source`: each search path's
/// `templates/` folder, then the path itself, as ansible-core's template action lists them
/// (the task's search path, then the template's own folder); the `template` lookup puts the
/// template's own folder first.
pub fn include_dirs(search: &[PathBuf], source: &Path, own_first: bool) -> Vec<PathBuf> {
    let own = source.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut roots: Vec<&Path> = search.iter().map(PathBuf::as_path).collect();
    if own_first {
        roots.insert(0, &own);
    } else {
        roots.push(&own);
    }
    let mut out: Vec<PathBuf> = Vec::new();
    for r in roots {
        for d in [r.join("templates"), r.to_path_buf()] {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

/// Whether the template's code names another template (include, import, from, extends).
fn names_other_templates(text: &str, syntax: &TemplateSyntax) -> bool {
    text.contains(syntax.block.0.as_str())
        && ["include", "import", "extends"].iter().any(|w| text.contains(w))
}

/// The file a template name refers to under one of `dirs`, split as Jinja's
/// `split_template_path` does (empty and `.` segments dropped, `..` never found).
fn find_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    let mut rel = PathBuf::new();
    for piece in name.split('/') {
        match piece {
            "" | "." => {}
            ".." => return None,
            p => rel.push(p),
        }
    }
    dirs.iter().map(|d| d.join(&rel)).find(|p| p.is_file())
}

impl Engine {
    /// Renders a template file's text (`name` in errors) with `syntax` (the task's, before the
    /// header's overrides) and `dirs` for the templates it names; the result has ansible-core's
    /// trailing newlines and `newline_sequence`.
    ///
    /// Errors: a bad header, delimiters minijinja refuses, a template that is not found, and
    /// every render error.
    pub(crate) fn render_file(
        &self,
        ctx: &std::sync::Arc<Ctx>,
        name: &str,
        text: &str,
        syntax: &TemplateSyntax,
        dirs: Vec<PathBuf>,
    ) -> Result<String, TemplateError> {
        let (body, syntax) = extract_header(text, syntax)?;
        let loader = names_other_templates(body, &syntax);
        let env: Cow<'_, Environment<'static>> = if syntax == self.file_delims && !loader {
            Cow::Borrowed(&self.file_env)
        } else {
            let mut env = if syntax == self.file_delims {
                self.file_env.clone()
            } else {
                make_env_with(&syntax)?
            };
            if loader {
                let delims = syntax.clone();
                env.set_loader(move |name: &str| {
                    let Some(path) = find_in(&dirs, name) else {
                        return Ok(None);
                    };
                    let text = crate::input::read_text(&path).map_err(|e| {
                        minijinja::Error::new(ErrorKind::InvalidOperation, format!("{name}: {e}"))
                    })?;
                    Ok(Some(chained(&text, &delims.delimiters()).into_owned()))
                });
            }
            Cow::Owned(env)
        };
        let body = chained(body, &syntax.delimiters());
        let mut out = self.render_in(&env, ctx, name, &body)?;
        if !syntax.keep_trailing_newline {
            pad_newlines(&body, &mut out);
        }
        if syntax.newline_sequence != "\n" {
            out = out.replace("\r\n", "\n").replace('\n', &syntax.newline_sequence);
        }
        Ok(out)
    }
}

/// ansible-core's `preserve_trailing_newlines`: Jinja drops the template's last newline, so
/// the output gets back as many `\n` at its end as the source had.
pub(crate) fn pad_newlines(source: &str, out: &mut String) {
    let want = source.bytes().rev().take_while(|b| *b == b'\n').count();
    let have = out.bytes().rev().take_while(|b| *b == b'\n').count();
    for _ in have..want {
        out.push('\n');
    }
}

impl TemplateSyntax {
    /// The delimiters of this syntax, for the code rewriters.
    pub(crate) fn delimiters(&self) -> raw_strings::Delimiters<'_> {
        raw_strings::Delimiters {
            variable: (&self.variable.0, &self.variable.1),
            block: (&self.block.0, &self.block.1),
            comment: (&self.comment.0, &self.comment.1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_overrides_the_syntax_and_is_removed() {
        let base = TemplateSyntax::default();
        let (body, s) = extract_header(
            "#jinja2: trim_blocks: False, lstrip_blocks: True, variable_start_string: '[%', newline_sequence: '\\r\\n'\nx\n",
            &base,
        )
        .unwrap();
        assert_eq!(body, "x\n");
        assert!(!s.trim_blocks && s.lstrip_blocks);
        assert_eq!(s.variable.0, "[%");
        assert_eq!(s.newline_sequence, "\r\n");
        assert_eq!(extract_header("x", &base).unwrap().0, "x");
        for bad in [
            "#jinja2: trim_blocks: False",
            "#jinja2: nope: True\n",
            "#jinja2: trim_blocks\n",
            "#jinja2: trim_blocks: False,\n",
            "#jinja2: trim_blocks: 'yes'\n",
            "#jinja2: newline_sequence: 'x'\n",
        ] {
            assert!(extract_header(bad, &base).is_err(), "{bad}");
        }
    }

    #[test]
    fn trailing_newlines_are_padded_to_the_sources() {
        let mut out = "a\n".to_string();
        pad_newlines("a\n{{ x }}\n", &mut out);
        assert_eq!(out, "a\n");
        let mut out = "line".to_string();
        pad_newlines("line\n\n", &mut out);
        assert_eq!(out, "line\n\n");
    }

    #[test]
    fn template_names_resolve_like_jinjas_loader() {
        let d = std::env::temp_dir().join(format!("talon-files-{}", std::process::id()));
        std::fs::create_dir_all(d.join("templates/sub")).unwrap();
        std::fs::write(d.join("templates/sub/x.j2"), "x").unwrap();
        let dirs = include_dirs(std::slice::from_ref(&d), &d.join("templates/main.j2"), false);
        assert_eq!(dirs[0], d.join("templates"));
        assert_eq!(find_in(&dirs, "./sub//x.j2"), Some(d.join("templates/sub/x.j2")));
        assert_eq!(find_in(&dirs, "sub/../sub/x.j2"), None);
        assert_eq!(find_in(&dirs, "y.j2"), None);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
