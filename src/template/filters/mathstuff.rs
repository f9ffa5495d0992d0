//! Filters of ansible-core's `plugins/filter/mathstuff.py`: `human_readable`, `human_to_bytes`,
//! `combinations`, `permutations` (`itertools`' order).

use minijinja::Error;
use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};

use super::{Args, err, str_of};

/// ansible-core's SIZE_RANGES, largest first.
const SIZES: &[(char, f64)] = &[
    ('Y', 1_208_925_819_614_629_174_706_176.0),
    ('Z', 1_180_591_620_717_411_303_424.0),
    ('E', 1_152_921_504_606_846_976.0),
    ('P', 1_125_899_906_842_624.0),
    ('T', 1_099_511_627_776.0),
    ('G', 1_073_741_824.0),
    ('M', 1_048_576.0),
    ('K', 1_024.0),
    ('B', 1.0),
];

/// ansible-core's VALID_UNITS: per prefix, the byte word and unit, then the bit word and unit
/// (its spelling `zetabyte` included).
const UNITS: &[(char, [(&str, &str); 2])] = &[
    ('B', [("byte", "B"), ("bit", "b")]),
    ('K', [("kilobyte", "KB"), ("kilobit", "Kb")]),
    ('M', [("megabyte", "MB"), ("megabit", "Mb")]),
    ('G', [("gigabyte", "GB"), ("gigabit", "Gb")]),
    ('T', [("terabyte", "TB"), ("terabit", "Tb")]),
    ('P', [("petabyte", "PB"), ("petabit", "Pb")]),
    ('E', [("exabyte", "EB"), ("exabit", "Eb")]),
    ('Z', [("zetabyte", "ZB"), ("zetabit", "Zb")]),
    ('Y', [("yottabyte", "YB"), ("yottabit", "Yb")]),
];

/// `bytes_to_human(size, isbits=False, unit=None)`: `'%.2f %s'` with the largest unit the size
/// reaches (or `unit`), `KB`/`Kb` style, `Bytes`/`bits` below 1 K.
pub fn bytes_to_human(size: f64, isbits: bool, unit: Option<&str>) -> String {
    let base = if isbits { "bits" } else { "Bytes" };
    let mut chosen = SIZES[SIZES.len() - 1];
    for &(suffix, limit) in SIZES {
        chosen = (suffix, limit);
        let wanted = match unit {
            None => size >= limit,
            Some(u) => u.to_uppercase().starts_with(suffix),
        };
        if wanted {
            break;
        }
    }
    let (suffix, limit) = chosen;
    let name = if limit != 1.0 {
        format!("{suffix}{}", &base[..1])
    } else {
        base.to_string()
    };
    format!("{:.2} {name}", size / limit)
}

/// `human_to_bytes(number, default_unit=None, isbits=False)`, with ansible-core's messages.
pub fn human_to_bytes(number: &str, default_unit: Option<&str>, isbits: bool) -> Result<i64, String> {
    let t = number.trim_end();
    let digits_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num_text, rest) = t.split_at(digits_end);
    let rest_trim = rest.trim_start();
    let valid_num = {
        let mut parts = num_text.splitn(2, '.');
        let int = parts.next().unwrap_or("");
        match parts.next() {
            Some(frac) => !frac.is_empty() && !frac.contains('.'),
            None => !int.is_empty(),
        }
    };
    if !valid_num || !rest_trim.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "human_to_bytes() can't interpret following string: {number}"
        ));
    }
    let num: f64 = num_text
        .parse()
        .map_err(|_| format!("human_to_bytes() can't interpret following string: {number}"))?;
    let unit = if rest_trim.is_empty() {
        default_unit
    } else {
        Some(rest_trim)
    };
    let Some(unit) = unit else {
        return Ok(py_round(num));
    };
    let Some(prefix) = unit.chars().next().map(|c| c.to_ascii_uppercase()) else {
        return Ok(py_round(num));
    };
    let Some(&(_, limit)) = SIZES.iter().find(|(s, _)| *s == prefix) else {
        return Err(format!(
            "human_to_bytes() failed to convert {number} (unit = {unit}). The suffix must be one of Y, Z, E, P, T, G, M, K, B"
        ));
    };
    if unit.chars().count() > 1 {
        let (class, class_name) = if isbits { ("b", "bit") } else { ("B", "byte") };
        let expect = if prefix == 'B' {
            format!("expect {class} or {class_name}")
        } else {
            format!("expect {prefix}{class} or {prefix}")
        };
        let Some((_, words)) = UNITS.iter().find(|(p, _)| *p == prefix) else {
            return Err(format!(
                "human_to_bytes() can't interpret a valid unit for {prefix}"
            ));
        };
        let (word, short) = words[usize::from(isbits)];
        if unit.to_lowercase() != word && unit != short {
            return Err(format!(
                "human_to_bytes() failed to convert {number}. Value is not a valid string ({expect})"
            ));
        }
    }
    Ok(py_round(num * limit))
}

/// Python's `int(round(x))`: halves to even.
fn py_round(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && (r as i64) % 2 != 0 {
        (r - x.signum()) as i64
    } else {
        r as i64
    }
}

/// The `human_readable` filter: numbers only (a string is "bad input", as in Python).
pub(super) fn human_readable(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let size = match value.kind() {
        ValueKind::Number | ValueKind::Bool => {
            f64::try_from(value.clone()).map_err(|_| err("human_readable() failed on bad input"))?
        }
        _ => return Err(err("human_readable() failed on bad input")),
    };
    let unit = args.str(1, "unit");
    Ok(Value::from(bytes_to_human(
        size,
        args.flag(0, "isbits"),
        unit.as_deref(),
    )))
}

/// The `human_to_bytes` filter.
pub(super) fn human_to_bytes_filter(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let unit = args.str(0, "default_unit");
    human_to_bytes(&str_of(&value), unit.as_deref(), args.flag(1, "isbits"))
        .map(Value::from)
        .map_err(|e| err(format!("human_to_bytes() can't interpret the input: {e}")))
}

/// `combinations(r)`: `itertools.combinations` as lists.
pub(super) fn combinations(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let r = Args::new(rest)
        .get(0, "r")
        .and_then(|v| v.as_i64())
        .ok_or_else(|| err("combinations() needs r, the length of each combination"))?
        .max(0) as usize;
    let items: Vec<Value> = value.try_iter()?.collect();
    let n = items.len();
    let mut out = Vec::new();
    if r > n {
        return Ok(Value::from(out));
    }
    let mut idx: Vec<usize> = (0..r).collect();
    loop {
        out.push(Value::from(
            idx.iter().map(|&i| items[i].clone()).collect::<Vec<_>>(),
        ));
        limit(out.len())?;
        let Some(i) = (0..r).rev().find(|&i| idx[i] != i + n - r) else {
            break;
        };
        idx[i] += 1;
        for j in i + 1..r {
            idx[j] = idx[j - 1] + 1;
        }
    }
    Ok(Value::from(out))
}

/// `permutations(r=None)`: `itertools.permutations` as lists.
pub(super) fn permutations(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let items: Vec<Value> = value.try_iter()?.collect();
    let n = items.len();
    let r = Args::new(rest)
        .get(0, "r")
        .filter(|v| !v.is_none())
        .and_then(|v| v.as_i64())
        .map_or(n, |r| r.max(0) as usize);
    let mut out = Vec::new();
    if r > n {
        return Ok(Value::from(out));
    }
    // CPython's algorithm, so the order is itertools'.
    let mut indices: Vec<usize> = (0..n).collect();
    let mut cycles: Vec<usize> = (n - r + 1..=n).rev().collect();
    out.push(Value::from(
        indices[..r].iter().map(|&i| items[i].clone()).collect::<Vec<_>>(),
    ));
    'outer: loop {
        for i in (0..r).rev() {
            cycles[i] -= 1;
            if cycles[i] == 0 {
                let moved = indices.remove(i);
                indices.push(moved);
                cycles[i] = n - i;
            } else {
                let j = cycles[i];
                indices.swap(i, n - j);
                out.push(Value::from(
                    indices[..r].iter().map(|&i| items[i].clone()).collect::<Vec<_>>(),
                ));
                limit(out.len())?;
                continue 'outer;
            }
        }
        break;
    }
    Ok(Value::from(out))
}

/// Stops a result before it exceeds the template engine's list limit.
fn limit(len: usize) -> Result<(), Error> {
    if len as u64 > crate::template::MAX_LIST_ITEMS {
        return Err(err(format!(
            "the result would have more than {} items; use a smaller list",
            crate::template::MAX_LIST_ITEMS
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_and_written_as_ansible_core() {
        assert_eq!(bytes_to_human(1536.0, false, None), "1.50 KB");
        assert_eq!(bytes_to_human(0.5, false, None), "0.50 Bytes");
        assert_eq!(bytes_to_human(1048576.0, true, None), "1.00 Mb");
        assert_eq!(bytes_to_human(1048576.0, false, Some("k")), "1024.00 KB");
        assert_eq!(human_to_bytes("1.5K", None, false), Ok(1536));
        assert_eq!(human_to_bytes("10 MB", None, false), Ok(10485760));
        assert_eq!(human_to_bytes("2", Some("K"), false), Ok(2048));
        assert_eq!(human_to_bytes("1Mb", None, true), Ok(1048576));
        assert!(human_to_bytes("3 megabytes", None, false).is_err());
        assert_eq!(human_to_bytes("3 megabyte", None, false), Ok(3145728));
        assert_eq!(human_to_bytes("2.5", None, false), Ok(2));
        assert!(
            human_to_bytes("1Mb", None, false)
                .unwrap_err()
                .contains("expect MB or M")
        );
        assert!(human_to_bytes("x", None, false).is_err());
        assert!(
            human_to_bytes("1X", None, false)
                .unwrap_err()
                .contains("must be one of")
        );
    }

    #[test]
    fn combinations_and_permutations_in_itertools_order() {
        let v = Value::from(vec![3, 1, 2]);
        let two = || Rest(vec![ValueOrKwargs::from(Value::from(2))]);
        assert_eq!(
            combinations(v.clone(), two()).unwrap().to_string(),
            "[[3, 1], [3, 2], [1, 2]]"
        );
        assert_eq!(
            permutations(v.clone(), two()).unwrap().to_string(),
            "[[3, 1], [3, 2], [1, 3], [1, 2], [2, 3], [2, 1]]"
        );
        assert_eq!(permutations(v, Rest(Vec::new())).unwrap().len(), Some(6));
    }
}
