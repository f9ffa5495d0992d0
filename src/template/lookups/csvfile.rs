//! `csvfile`: a column of the row whose key column equals the term, as
//! ansible.builtin.csvfile: options `file` (found as lookup files are; default
//! `ansible.csv`), `delimiter` (`TAB` by default, a tab), `col` (1), `keycol` (0), `default`
//! (no value: nothing for a missing key), `encoding` (`utf-8` only); also inline,
//! `'key file=hosts.csv delimiter=,'`. The `csv` crate reads the file as Python's `excel`
//! dialect does (`"` quotes, doubled to escape).

use minijinja::Error;
use minijinja::value::Value;

use super::files::find;
use super::{Call, Options};
use crate::template::filters::{err, str_of};

const OPTIONS: [&str; 6] = ["col", "keycol", "default", "delimiter", "file", "encoding"];

/// Runs the lookup on every term.
pub(super) fn run(call: &Call) -> Result<Vec<Value>, Error> {
    call.opts.allow("csvfile", &OPTIONS)?;
    let terms = call.flat_terms()?;
    if terms.is_empty() {
        return Err(err("Search key is required but was not found"));
    }
    let mut opts = Options(call.opts.0.clone());
    let mut ret = Vec::new();
    for t in terms {
        let term = str_of(&t);
        let kv = crate::playbook::parse_kv_words(&term).map_err(err)?;
        let mut key = None;
        for (name, value) in kv {
            if name == "_raw_params" {
                key = Some(crate::vars::as_string(&value));
            } else if OPTIONS.contains(&name.as_str()) {
                opts.set(&name, Value::from(crate::vars::as_string(&value)));
            } else {
                return Err(err(format!("'{name}' is not a valid option")));
            }
        }
        let key = key.ok_or_else(|| err("Search key is required but was not found"))?;
        let delimiter = match opts.str("delimiter").as_deref() {
            None | Some("TAB") | Some("\\t") => b'\t',
            Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            Some(_) => return Err(err("\"delimiter\" must be a 1-character string")),
        };
        let encoding = opts.str("encoding").unwrap_or_else(|| "utf-8".into());
        if !matches!(encoding.to_lowercase().as_str(), "utf-8" | "utf8") {
            return Err(err(format!(
                "talon reads CSV files as utf-8 only, not {encoding}"
            )));
        }
        let col = opts.int("csvfile", "col")?.unwrap_or(1);
        let keycol = opts.int("csvfile", "keycol")?.unwrap_or(0);
        let file = opts.str("file").unwrap_or_else(|| "ansible.csv".into());
        let path = find(&call.scope, &file, "files")?;
        let text = crate::input::read_text(&path).map_err(|e| err(e.to_string()))?;
        if let Some(v) = read_csv(&text, &key, delimiter, col, keycol)? {
            ret.push(Value::from(v));
        } else if let Some(d) = opts.get("default").filter(|d| !d.is_none()) {
            ret.push(d.clone());
        }
    }
    Ok(ret)
}

/// Python's `row[i]` (negative counts from the end); out of range is Python's IndexError.
fn column(row: &csv::StringRecord, i: i64) -> Result<String, Error> {
    let n = row.len() as i64;
    let at = if i < 0 { n + i } else { i };
    usize::try_from(at)
        .ok()
        .and_then(|at| row.get(at))
        .map(str::to_string)
        .ok_or_else(|| err("list index out of range"))
}

/// Column `col` of the first row whose column `keycol` is `key`; `None` when no row is.
fn read_csv(text: &str, key: &str, delimiter: u8, col: i64, keycol: i64) -> Result<Option<String>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    for row in reader.records() {
        let row = row.map_err(|e| err(format!("csvfile: {e}")))?;
        if row.is_empty() {
            continue;
        }
        if column(&row, keycol)? == key {
            return column(&row, col).map(Some);
        }
    }
    Ok(None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::read_csv;

    #[test]
    fn rows_columns_and_quotes_as_pythons_excel_dialect() {
        let text = "a,1,x\n\"b,c\",\"say \"\"hi\"\"\",y\n";
        assert_eq!(read_csv(text, "a", b',', 1, 0).unwrap().as_deref(), Some("1"));
        assert_eq!(
            read_csv(text, "b,c", b',', 1, 0).unwrap().as_deref(),
            Some("say \"hi\"")
        );
        assert_eq!(read_csv(text, "x", b',', 0, 2).unwrap().as_deref(), Some("a"));
        assert_eq!(read_csv(text, "a", b',', -1, 0).unwrap().as_deref(), Some("x"));
        assert_eq!(read_csv(text, "z", b',', 1, 0).unwrap(), None);
        assert!(
            read_csv(text, "a", b',', 7, 0)
                .unwrap_err()
                .to_string()
                .contains("list index out of range")
        );
        assert_eq!(
            read_csv("k\tv\n", "k", b'\t', 1, 0).unwrap().as_deref(),
            Some("v")
        );
    }
}
