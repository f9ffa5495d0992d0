//! Lookups that reshape their terms: `items`, `list`, `dict`, `subelements`, `nested`,
//! `together`, `indexed_items`, `flattened` and `random_choice`, each as the ansible-core 2.19
//! plugin of that name (`flattened` as community.general's), Python's quirks included: a
//! string iterated where the plugin iterates it gives its characters.

use minijinja::Error;
use minijinja::value::{Value, ValueKind};

use crate::template::filters::{err, from_json_value, py_repr, str_of};

/// Runs the list lookup `name` on `terms`.
pub(super) fn run(name: &str, terms: &[Value]) -> Result<Vec<Value>, Error> {
    match name {
        "items" => flatten(terms),
        "list" => Ok(terms.to_vec()),
        "dict" => dict(terms),
        "subelements" => subelements(terms),
        "nested" => nested(terms),
        "together" => together(terms),
        "indexed_items" => Ok(flatten(terms)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| Value::from(vec![Value::from(i), v]))
            .collect()),
        "flattened" => flattened(terms),
        _ => random_choice(terms),
    }
}

/// ansible-core's `LookupBase._flatten`: list items spliced in one level, others kept.
fn flatten(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let mut ret = Vec::new();
    for t in terms {
        if t.kind() == ValueKind::Seq {
            ret.extend(t.try_iter()?);
        } else {
            ret.push(t.clone());
        }
    }
    Ok(ret)
}

/// What Python's `for x in v` yields: a list's items, a string's characters, a mapping's keys;
/// anything else is "'int' object is not iterable".
fn py_iter(v: &Value) -> Result<Vec<Value>, Error> {
    match v.kind() {
        ValueKind::String => Ok(str_of(v).chars().map(|c| Value::from(c.to_string())).collect()),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => Ok(v.try_iter()?.collect()),
        _ => Err(err(format!(
            "'{}' object is not iterable",
            crate::template::filters::type_name(v)
        ))),
    }
}

/// `dict`: each term a mapping, turned into `{key, value}` items in the mapping's order.
fn dict(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let mut ret = Vec::new();
    for t in terms {
        if t.kind() != ValueKind::Map {
            return Err(err(format!(
                "the 'dict' lookup plugin expects a dictionary, got '{}' of type <class '{}'>)",
                str_of(t),
                crate::template::filters::type_name(t)
            )));
        }
        for k in t.try_iter()? {
            let v = t.get_item(&k)?;
            ret.push(Value::from(std::collections::BTreeMap::from([
                ("key", k),
                ("value", v),
            ])));
        }
    }
    Ok(ret)
}

/// Python's `mapping.get(key, False) is not False`: the key is there with any value but
/// `False` (the registered-result `skipped` test of `subelements`).
fn set_and_not_false(m: &Value, key: &str) -> bool {
    match m.get_attr(key) {
        Ok(v) if !v.is_undefined() => v.kind() != ValueKind::Bool || v.is_true(),
        _ => false,
    }
}

/// `subelements`: `[LIST_OR_DICT, 'key.subkey', {skip_missing: BOOL}]` -> `[item, subitem]`
/// pairs, the item without the sub-list (ansible-core pops it from its copy).
fn subelements(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let terms_error = |msg: &str| {
        err(format!(
            "subelements lookup expects a list of two or three items, {msg}"
        ))
    };
    if !(2..=3).contains(&terms.len()) {
        return Err(terms_error(""));
    }
    let (list, key) = (&terms[0], &terms[1]);
    if !matches!(list.kind(), ValueKind::Seq | ValueKind::Map) || key.kind() != ValueKind::String {
        return Err(terms_error(
            "first a dict or a list, second a string pointing to the subkey",
        ));
    }
    let path: Vec<String> = str_of(key).split('.').map(str::to_string).collect();
    let elements: Vec<Value> = if list.kind() == ValueKind::Map {
        if set_and_not_false(list, "skipped") {
            return Ok(Vec::new());
        }
        list.try_iter()?
            .map(|k| list.get_item(&k))
            .collect::<Result<_, _>>()?
    } else {
        list.try_iter()?.collect()
    };
    let mut skip_missing = false;
    if let Some(flags) = terms.get(2) {
        let bad = || terms_error("the optional third item must be a dict with flags ('skip_missing',)");
        if flags.kind() != ValueKind::Map {
            return Err(bad());
        }
        for k in flags.try_iter()? {
            if str_of(&k) != "skip_missing" {
                return Err(bad());
            }
            let v = flags.get_item(&k)?;
            skip_missing = match v.kind() {
                ValueKind::String => {
                    matches!(
                        str_of(&v).to_lowercase().trim(),
                        "y" | "yes" | "on" | "1" | "true" | "t"
                    )
                }
                _ => v.is_true(),
            };
        }
    }
    let last = path.last().cloned().unwrap_or_default();
    let mut ret = Vec::new();
    for item0 in elements {
        if item0.kind() != ValueKind::Map {
            return Err(err(format!(
                "subelements lookup expects a dictionary, got '{}'",
                str_of(&item0)
            )));
        }
        if set_and_not_false(&item0, "skipped") {
            continue;
        }
        let mut item0 = crate::template::scope::to_json(&item0)?;
        // The keys walked into so far (ansible-core walks on past a missing key with
        // skip_missing, looking the next key up in the same mapping).
        let mut at: Vec<String> = Vec::new();
        let mut sublist: Vec<serde_json::Value> = Vec::new();
        for subkey in &path {
            let here = at
                .iter()
                .try_fold(&item0, |v, k| v.get(k))
                .cloned()
                .unwrap_or_default();
            let Some(value) = here.get(subkey) else {
                if skip_missing {
                    continue;
                }
                return Err(err(format!(
                    "could not find '{subkey}' key in iterated item '{}'",
                    py_repr(&from_json_value(&here))
                )));
            };
            if *subkey != last {
                if value.is_object() {
                    at.push(subkey.clone());
                } else if skip_missing {
                    continue;
                } else {
                    return Err(err(format!(
                        "the key {subkey} should point to a dictionary, got '{}'",
                        py_repr(&from_json_value(value))
                    )));
                }
            } else if let serde_json::Value::Array(items) = value {
                sublist = items.clone();
                let parent = at.iter().try_fold(&mut item0, |v, k| v.get_mut(k));
                if let Some(serde_json::Value::Object(m)) = parent {
                    m.shift_remove(subkey);
                }
            } else {
                return Err(err(format!(
                    "the key {subkey} should point to a list, got '{}'",
                    py_repr(&from_json_value(value))
                )));
            }
        }
        let first = from_json_value(&item0);
        for item1 in sublist {
            ret.push(Value::from(vec![first.clone(), from_json_value(&item1)]));
        }
    }
    Ok(ret)
}

/// `nested`: the product of the lists, each combination flattened one level.
fn nested(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let Some((first, rest)) = terms.split_first() else {
        return Err(err(
            "with_nested requires at least one element in the nested list",
        ));
    };
    let mut result = py_iter(first)?;
    for next in rest {
        let b = py_iter(next)?;
        let mut combined = Vec::with_capacity(result.len().saturating_mul(b.len()));
        for x in &result {
            for y in &b {
                if combined.len() as u64 >= crate::template::MAX_LIST_ITEMS {
                    return Err(err(format!(
                        "with_nested would make more than {} items",
                        crate::template::MAX_LIST_ITEMS
                    )));
                }
                combined.push(Value::from(flatten(&[x.clone(), y.clone()])?));
            }
        }
        result = combined;
    }
    result
        .iter()
        .map(|x| Ok(Value::from(flatten(&py_iter(x)?)?)))
        .collect()
}

/// `together`: the lists zipped, the shorter ones padded with `None`, each tuple flattened
/// one level.
fn together(terms: &[Value]) -> Result<Vec<Value>, Error> {
    if terms.is_empty() {
        return Err(err("with_together requires at least one element in each list"));
    }
    let lists: Vec<Vec<Value>> = terms.iter().map(py_iter).collect::<Result<_, _>>()?;
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .map(|i| {
            let row: Vec<Value> = lists
                .iter()
                .map(|l| l.get(i).cloned().unwrap_or(Value::from(())))
                .collect();
            Ok(Value::from(flatten(&row)?))
        })
        .collect()
}

/// community.general's `flattened`: lists flattened at every depth (a list of one list
/// counting as its item); the string `None` or `null` ends the list it is in.
fn flattened(terms: &[Value]) -> Result<Vec<Value>, Error> {
    fn one_of_one(t: Value) -> Result<Value, Error> {
        if t.kind() == ValueKind::Seq && t.len() == Some(1) {
            let inner = t.get_item(&Value::from(0))?;
            return if inner.kind() == ValueKind::Seq {
                one_of_one(inner)
            } else {
                Ok(inner)
            };
        }
        Ok(t)
    }
    let mut ret = Vec::new();
    for t in terms {
        let t = one_of_one(t.clone())?;
        if t.kind() == ValueKind::String && matches!(t.as_str(), Some("None" | "null")) {
            break;
        }
        if t.kind() == ValueKind::Seq {
            let items: Vec<Value> = t.try_iter()?.collect();
            ret.extend(flattened(&items)?);
        } else {
            ret.push(t);
        }
    }
    Ok(ret)
}

/// `random_choice`: one of the terms, chosen with the system's randomness (Python's
/// `secrets.choice`); no terms, no items.
fn random_choice(terms: &[Value]) -> Result<Vec<Value>, Error> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let i = super::password::random_below(terms.len())
        .map_err(|e| err(format!("Unable to choose random term: {e}")))?;
    Ok(vec![terms[i].clone()])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn v(j: serde_json::Value) -> Value {
        from_json_value(&j)
    }

    fn json(r: Vec<Value>) -> serde_json::Value {
        serde_json::to_value(r).unwrap()
    }

    #[test]
    fn subelements_pop_the_sublist_and_skip_missing() {
        use serde_json::json;
        let users = v(json!([
            {"name": "a", "keys": ["k1", "k2"]},
            {"name": "b"},
            {"name": "c", "keys": [], "skipped": false},
        ]));
        let r = subelements(&[
            users.clone(),
            Value::from("keys"),
            v(json!({"skip_missing": true})),
        ])
        .unwrap();
        assert_eq!(json(r), json!([[{"name": "a"}, "k1"], [{"name": "a"}, "k2"]]));
        let e = subelements(&[users, Value::from("keys")]).unwrap_err();
        assert!(
            e.to_string()
                .contains("could not find 'keys' key in iterated item '{'name': 'b'}'"),
            "{e}"
        );
        let e = subelements(&[Value::from(1), Value::from("k")]).unwrap_err();
        assert!(e.to_string().contains("first a dict or a list"), "{e}");
    }

    #[test]
    fn nested_together_and_flattened_as_the_plugins() {
        use serde_json::json;
        let r = nested(&[v(json!([1, 2])), v(json!(["a"])), v(json!(["x", "y"]))]).unwrap();
        assert_eq!(
            json(r),
            json!([[1, "a", "x"], [1, "a", "y"], [2, "a", "x"], [2, "a", "y"]])
        );
        assert_eq!(json(nested(&[v(json!(["ab"]))]).unwrap()), json!([["a", "b"]]));
        let r = together(&[v(json!([1, 2])), v(json!([3]))]).unwrap();
        assert_eq!(json(r), json!([[1, 3], [2, null]]));
        let r = flattened(&[
            v(json!([1, [2, [3, [4]]]])),
            v(json!([[["x"]]])),
            Value::from("None"),
            Value::from(9),
        ])
        .unwrap();
        assert_eq!(json(r), json!([1, 2, 3, 4, "x"]));
    }
}
