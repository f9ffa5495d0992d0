//! Collection and path filters: merging and reshaping dicts and lists, set operations,
//! `product`, `zip_longest`, `subelements`, and the `os.path` family.

use super::*;

pub(crate) fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

pub(crate) fn dirname(s: &str) -> &str {
    match s.rfind('/') {
        Some(0) => "/",
        Some(i) => s[..i]
            .trim_end_matches('/')
            .get(..)
            .filter(|d| !d.is_empty())
            .unwrap_or("/"),
        None => "",
    }
}

pub(super) fn expanduser(s: String) -> String {
    if (s == "~" || s.starts_with("~/"))
        && let Ok(home) = std::env::var("HOME")
    {
        return format!("{home}{}", &s[1..]);
    }
    s
}

pub(super) fn splitext(s: String) -> Value {
    let base = basename(&s);
    match base.rfind('.') {
        Some(i) if i > 0 => {
            let cut = s.len() - base.len() + i;
            Value::from(vec![s[..cut].to_string(), s[cut..].to_string()])
        }
        _ => Value::from(vec![s.clone(), String::new()]),
    }
}

/// `path_join`: joins a list of path parts like `os.path.join` (an absolute part restarts).
pub(super) fn path_join(v: Value) -> Result<String, Error> {
    let mut out = String::new();
    let parts: Vec<String> = match v.kind() {
        ValueKind::String => return Ok(str_of(&v)),
        _ => v.try_iter()?.map(|p| str_of(&p)).collect(),
    };
    for p in parts {
        if p.starts_with('/') {
            out = p;
        } else if out.is_empty() || out.ends_with('/') {
            out.push_str(&p);
        } else {
            out.push('/');
            out.push_str(&p);
        }
    }
    Ok(out)
}

/// How `combine` merges lists (`list_merge`).
#[derive(Clone, Copy)]
pub(super) enum ListMerge {
    Replace,
    Keep,
    Append,
    Prepend,
    AppendRp,
    PrependRp,
}

pub(super) fn merge(base: &mut serde_json::Value, top: &serde_json::Value, recursive: bool, lm: ListMerge) {
    use serde_json::Value as J;
    match (base, top) {
        (J::Object(b), J::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(k) {
                    Some(existing) if recursive && (existing.is_object() || existing.is_array()) => {
                        merge(existing, v, recursive, lm)
                    }
                    Some(existing) => *existing = v.clone(),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (J::Array(b), J::Array(t)) => match lm {
            ListMerge::Replace => *b = t.clone(),
            ListMerge::Keep => {}
            ListMerge::Append => b.extend(t.iter().cloned()),
            ListMerge::Prepend => {
                let mut n = t.clone();
                n.append(b);
                *b = n;
            }
            ListMerge::AppendRp => {
                b.retain(|x| !t.contains(x));
                b.extend(t.iter().cloned());
            }
            ListMerge::PrependRp => {
                let mut n = t.clone();
                n.extend(b.iter().filter(|x| !t.contains(x)).cloned());
                *b = n;
            }
        },
        (b, t) => *b = t.clone(),
    }
}

/// `combine(*dicts, recursive=False, list_merge='replace')` (ansible.builtin.combine).
pub(super) fn combine(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let recursive = args.flag(usize::MAX, "recursive");
    let lm = match args.str(usize::MAX, "list_merge").as_deref() {
        None | Some("replace") => ListMerge::Replace,
        Some("keep") => ListMerge::Keep,
        Some("append") => ListMerge::Append,
        Some("prepend") => ListMerge::Prepend,
        Some("append_rp") => ListMerge::AppendRp,
        Some("prepend_rp") => ListMerge::PrependRp,
        Some(other) => return Err(err(format!("combine: unknown list_merge '{other}'"))),
    };
    let mut dicts = Vec::new();
    let mut push = |v: &Value| -> Result<(), Error> {
        match v.kind() {
            ValueKind::Map => dicts.push(json_of(v)?),
            ValueKind::Seq => {
                for item in v.try_iter()? {
                    dicts.push(json_of(&item)?);
                }
            }
            _ => {
                return Err(err(format!(
                    "combine: expected dictionaries, got {}",
                    type_name(v)
                )));
            }
        }
        Ok(())
    };
    push(&value)?;
    for a in args.positional() {
        push(a)?;
    }
    let mut out = serde_json::Value::Object(serde_json::Map::new());
    for d in &dicts {
        if !d.is_object() {
            return Err(err("combine: every argument must be a dictionary"));
        }
        merge(&mut out, d, recursive, lm);
    }
    Ok(from_json_value(&out))
}

/// `dict2items(key_name='key', value_name='value')`.
pub(super) fn dict2items(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    if value.kind() != ValueKind::Map {
        return Err(err(format!(
            "dict2items requires a dictionary, got {}",
            type_name(&value)
        )));
    }
    let kn = args.str(0, "key_name").unwrap_or_else(|| "key".into());
    let vn = args.str(1, "value_name").unwrap_or_else(|| "value".into());
    let mut out = Vec::new();
    for k in value.try_iter()? {
        let v = value.get_item(&k)?;
        out.push(Value::from_pairs([
            (Value::from(kn.as_str()), k),
            (Value::from(vn.as_str()), v),
        ]));
    }
    Ok(Value::from(out))
}

/// `items2dict(key_name='key', value_name='value')`.
pub(super) fn items2dict(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let kn = args.str(0, "key_name").unwrap_or_else(|| "key".into());
    let vn = args.str(1, "value_name").unwrap_or_else(|| "value".into());
    let mut out = Vec::new();
    for item in value.try_iter()? {
        let k = item.get_attr(&kn)?;
        let v = item.get_attr(&vn)?;
        if k.is_undefined() || v.is_undefined() {
            return Err(err(format!(
                "items2dict: every item needs the keys '{kn}' and '{vn}' (got {})",
                py_repr(&item)
            )));
        }
        out.push((k, v));
    }
    Ok(Value::from_pairs(out))
}

/// `flatten(levels=None, skip_nulls=True)`.
pub(super) fn flatten(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let levels = args.get(0, "levels").and_then(|v| v.as_i64());
    let skip_nulls = args.get(1, "skip_nulls").is_none_or(|v| v.is_true());

    fn walk(v: &Value, level: Option<i64>, skip: bool, out: &mut Vec<Value>) -> Result<(), Error> {
        for item in v.try_iter()? {
            if skip && item.is_none() {
                continue;
            }
            if item.kind() == ValueKind::Seq && level.is_none_or(|l| l > 0) {
                walk(&item, level.map(|l| l - 1), skip, out)?;
            } else {
                out.push(item);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(&value, levels, skip_nulls, &mut out)?;
    Ok(Value::from(out))
}

/// `product(*lists)`: the cartesian product (itertools.product).
pub(super) fn product(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let mut lists = vec![value.try_iter()?.collect::<Vec<_>>()];
    for a in Args::new(rest).positional() {
        lists.push(a.try_iter()?.collect());
    }
    let total = lists
        .iter()
        .try_fold(1u64, |n, l| n.checked_mul(l.len() as u64))
        .filter(|n| *n <= crate::template::MAX_LIST_ITEMS);
    if total.is_none() {
        let sizes: Vec<String> = lists.iter().map(|l| l.len().to_string()).collect();
        return Err(err(format!(
            "product of lists of {} items would have more than {} items; use smaller lists",
            sizes.join(" x "),
            crate::template::MAX_LIST_ITEMS
        )));
    }
    let mut acc: Vec<Vec<Value>> = vec![Vec::new()];
    for l in &lists {
        let mut next = Vec::with_capacity(acc.len() * l.len());
        for prefix in &acc {
            for item in l {
                let mut p = prefix.clone();
                p.push(item.clone());
                next.push(p);
            }
        }
        acc = next;
    }
    Ok(Value::from(acc.into_iter().map(Value::from).collect::<Vec<_>>()))
}

/// `zip_longest(*lists, fillvalue=None)`.
pub(super) fn zip_longest(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let fill = args
        .get(usize::MAX, "fillvalue")
        .unwrap_or_else(|| Value::from(()));
    let mut lists = vec![value.try_iter()?.collect::<Vec<_>>()];
    for a in args.positional() {
        lists.push(a.try_iter()?.collect());
    }
    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..n)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or(fill.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

pub(super) enum SetOp {
    Difference,
    Intersect,
    Union,
    Symmetric,
}

/// The list set operations of mathstuff.py; order follows the first list, duplicates removed.
pub(super) fn set_op(a: &Value, b: &Value, op: SetOp) -> Result<Value, Error> {
    let a: Vec<Value> = a.try_iter()?.collect();
    let b: Vec<Value> = b.try_iter()?.collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut add = |v: &Value, out: &mut Vec<Value>| {
        if seen.insert(v.clone()) {
            out.push(v.clone());
        }
    };
    match op {
        SetOp::Difference => a.iter().filter(|x| !b.contains(x)).for_each(|x| add(x, &mut out)),
        SetOp::Intersect => a.iter().filter(|x| b.contains(x)).for_each(|x| add(x, &mut out)),
        SetOp::Union => a.iter().chain(b.iter()).for_each(|x| add(x, &mut out)),
        SetOp::Symmetric => {
            a.iter().filter(|x| !b.contains(x)).for_each(|x| add(x, &mut out));
            b.iter().filter(|x| !a.contains(x)).for_each(|x| add(x, &mut out));
        }
    }
    Ok(Value::from(out))
}

/// `extract(container, morekeys=None)`: `container[item]` (then each of `morekeys`), as in
/// `groups['web'] | map('extract', hostvars, 'ansible_host')`.
pub(super) fn extract(item: Value, container: Value, morekeys: Option<Value>) -> Result<Value, Error> {
    let mut v = container.get_item(&item)?;
    if let Some(keys) = morekeys {
        let keys: Vec<Value> = if keys.kind() == ValueKind::Seq {
            keys.try_iter()?.collect()
        } else {
            vec![keys]
        };
        for k in keys {
            v = v.get_item(&k)?;
        }
    }
    Ok(v)
}

/// `subelements(subkey, skip_missing=False)`: pairs of (item, element of item[subkey]).
pub(super) fn subelements(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let key = args.str(0, "subelements").unwrap_or_default();
    let skip = args.flag(1, "skip_missing");
    let mut out = Vec::new();
    for item in value.try_iter()? {
        let mut sub = item.clone();
        for part in key.split('.') {
            sub = sub.get_attr(part)?;
        }
        if sub.is_undefined() {
            if skip {
                continue;
            }
            return Err(err(format!(
                "subelements: could not find '{key}' in {}",
                py_repr(&item)
            )));
        }
        for s in sub.try_iter()? {
            out.push(Value::from(vec![item.clone(), s]));
        }
    }
    Ok(Value::from(out))
}

/// community.general's `json_query(expr)`: a JMESPath search of the value (the jmespath crate,
/// as the filter uses Python's jmespath). Errors: an invalid expression or a search error, with
/// the filter's "JMESPathError in json_query filter plugin:" prefix.
pub(super) fn json_query(value: Value, expr: String) -> Result<Value, Error> {
    let data = to_json(&value)?;
    let fail = |e: String| err(format!("JMESPathError in json_query filter plugin:\n{e}"));
    let compiled = jmespath::compile(&expr).map_err(|e| fail(e.to_string()))?;
    let var = jmespath::Variable::from_serializable(&data).map_err(|e| fail(e.to_string()))?;
    let found = compiled.search(var).map_err(|e| fail(e.to_string()))?;
    let json = serde_json::to_value(&*found).map_err(|e| fail(e.to_string()))?;
    Ok(super::from_json_value(&json))
}
