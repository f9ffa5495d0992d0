//! Python's `datetime.strptime` (CPython's `_strptime.py`, C locale): the format becomes the
//! same regular expression (its per-directive patterns, runs of blanks as `\s+`, matched
//! without regard to case), then the fields are put together with its defaults (1900-01-01)
//! and its rules (`%y` below 69 is 20xx, `%I` with `%p`, `%j`), with its messages.

use jiff::civil::{Date, DateTime};

use super::datetime::PyDateTime;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// `seq_to_regex`: the names, longest first, as alternatives.
fn names(group: &str, list: &[String]) -> String {
    let mut list = list.to_vec();
    list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    format!("(?P<{group}>{})", list.join("|"))
}

/// The pattern of one directive, as `_strptime.TimeRE`.
fn directive(c: char) -> Option<String> {
    let full = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let abbr = |l: &[&str]| l.iter().map(|s| s[..3].to_string()).collect::<Vec<_>>();
    Some(match c {
        'd' => r"(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])".into(),
        'f' => r"(?P<f>[0-9]{1,6})".into(),
        'H' => r"(?P<H>2[0-3]|[0-1]\d|\d)".into(),
        'I' => r"(?P<I>1[0-2]|0[1-9]|[1-9])".into(),
        'j' => r"(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])".into(),
        'm' => r"(?P<m>1[0-2]|0[1-9]|[1-9])".into(),
        'M' => r"(?P<M>[0-5]\d|\d)".into(),
        'S' => r"(?P<S>6[0-1]|[0-5]\d|\d)".into(),
        'w' => r"(?P<w>[0-6])".into(),
        'u' => r"(?P<u>[1-7])".into(),
        'y' => r"(?P<y>\d\d)".into(),
        'Y' => r"(?P<Y>\d\d\d\d)".into(),
        'z' => r"(?P<z>[+-]\d\d:?[0-5]\d(:?[0-5]\d(\.\d{1,6})?)?|(?-i:Z))".into(),
        'B' => names("B", &full(&MONTHS)),
        'b' | 'h' => names("b", &abbr(&MONTHS)),
        'A' => names("A", &full(&DAYS)),
        'a' => names("a", &abbr(&DAYS)),
        'p' => "(?P<p>am|pm)".into(),
        _ => return None,
    })
}

/// The regular expression of a format, or Python's message for a bad one.
fn format_regex(format: &str) -> Result<regex::Regex, String> {
    let mut re = String::from("(?i)^");
    let mut seen = std::collections::HashSet::new();
    let mut chars = format.chars();
    let mut blank = false;
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            if !blank {
                re.push_str(r"\s+");
            }
            blank = true;
            continue;
        }
        blank = false;
        if c != '%' {
            re.push_str(&regex::escape(&c.to_string()));
            continue;
        }
        let Some(d) = chars.next() else {
            return Err(format!("stray % in format '{format}'"));
        };
        if d == '%' {
            re.push('%');
            continue;
        }
        let Some(pattern) = directive(d) else {
            return Err(format!("'{d}' is a bad directive in format '%{d}'"));
        };
        let name = if d == 'h' { 'b' } else { d };
        if !seen.insert(name) {
            // Python refers back to the group; the same text must appear again.
            return Err(format!(
                "redefinition of group name '{name}' in format '{format}' (talon does not support a repeated directive)"
            ));
        }
        re.push_str(&pattern);
    }
    regex::Regex::new(&re).map_err(|e| format!("to_datetime: {e}"))
}

fn num(caps: &regex::Captures<'_>, name: &str) -> Option<i64> {
    caps.name(name).and_then(|m| m.as_str().trim().parse().ok())
}

/// `datetime.strptime(text, format)`.
pub fn strptime(text: &str, format: &str) -> Result<PyDateTime, String> {
    let re = format_regex(format)?;
    let caps = re
        .captures(text)
        .ok_or_else(|| format!("time data '{text}' does not match format '{format}'"))?;
    let end = caps.get(0).map_or(0, |m| m.end());
    if end != text.len() {
        return Err(format!("unconverted data remains: {}", &text[end..]));
    }
    let mut year = num(&caps, "Y").unwrap_or(1900);
    if let Some(y) = num(&caps, "y") {
        year = if y <= 68 { 2000 + y } else { 1900 + y };
    }
    let month_name = |g: &str, len: Option<usize>| {
        caps.name(g).and_then(|m| {
            let t = m.as_str().to_lowercase();
            MONTHS
                .iter()
                .position(|n| len.map_or(*n == t, |l| n[..l] == t))
                .map(|i| i as i64 + 1)
        })
    };
    let month = num(&caps, "m")
        .or_else(|| month_name("B", None))
        .or_else(|| month_name("b", Some(3)));
    let day = num(&caps, "d");
    let mut hour = num(&caps, "H").unwrap_or(0);
    if let Some(h) = num(&caps, "I") {
        let pm = caps
            .name("p")
            .is_some_and(|p| p.as_str().eq_ignore_ascii_case("pm"));
        hour = match (h, pm) {
            (12, false) => 0,
            (h, false) => h,
            (12, true) => 12,
            (h, true) => h + 12,
        };
    }
    let minute = num(&caps, "M").unwrap_or(0);
    let second = num(&caps, "S").unwrap_or(0);
    let micro = caps.name("f").map_or(0, |f| {
        let s = format!("{:0<6}", f.as_str());
        s.parse::<i64>().unwrap_or(0)
    });
    let offset = caps.name("z").map(|z| parse_offset(z.as_str())).transpose()?;
    let year16 = i16::try_from(year).map_err(|_| "year is out of range".to_string())?;
    let date = match (num(&caps, "j"), month, day) {
        (Some(j), None, None) => Date::new(year16, 1, 1)
            .ok()
            .and_then(|d| d.checked_add(jiff::Span::new().days(j - 1)).ok())
            .ok_or_else(|| "day is out of range for month".to_string())?,
        (_, m, d) => {
            let (m, d) = (m.unwrap_or(1), d.unwrap_or(1));
            Date::new(year16, m as i8, d as i8).map_err(|_| "day is out of range for month".to_string())?
        }
    };
    if second > 59 {
        return Err("second must be in 0..59".into());
    }
    let dt = DateTime::from_parts(
        date,
        jiff::civil::Time::new(hour as i8, minute as i8, second as i8, (micro * 1000) as i32)
            .map_err(|e| e.to_string())?,
    );
    Ok(PyDateTime { dt, offset })
}

/// A `%z` offset (`+HHMM`, `+HH:MM[:SS[.ffffff]]`, `Z`) in seconds.
fn parse_offset(z: &str) -> Result<i32, String> {
    if z.eq_ignore_ascii_case("z") {
        return Ok(0);
    }
    let sign = if z.starts_with('-') { -1 } else { 1 };
    let digits: String = z[1..]
        .chars()
        .take_while(|c| *c != '.')
        .filter(|c| c.is_ascii_digit())
        .collect();
    let part = |i: usize| {
        digits
            .get(i..i + 2)
            .and_then(|s| s.parse::<i32>().ok())
            .unwrap_or(0)
    };
    Ok(sign * (part(0) * 3600 + part(2) * 60 + part(4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_python() {
        // datetime.strptime on Python 3.11: str() of the result, or the error's message.
        let cases = [
            (
                "2016-08-14 20:00:12",
                "%Y-%m-%d %H:%M:%S",
                Ok("2016-08-14 20:00:12"),
            ),
            ("14/Aug/16 8pm", "%d/%b/%y %I%p", Ok("2016-08-14 20:00:00")),
            (
                "1 5 2024 1:2:3.5",
                "%d %m %Y %H:%M:%S.%f",
                Ok("2024-05-01 01:02:03.500000"),
            ),
            ("70 032", "%y %j", Ok("1970-02-01 00:00:00")),
            (
                "2024-01-01T00:00:00+0530",
                "%Y-%m-%dT%H:%M:%S%z",
                Ok("2024-01-01 00:00:00+05:30"),
            ),
            (
                "2024-13-01",
                "%Y-%m-%d",
                Err("time data '2024-13-01' does not match format '%Y-%m-%d'"),
            ),
            ("2024-01-01x", "%Y-%m-%d", Err("unconverted data remains: x")),
            ("2023-02-29", "%Y-%m-%d", Err("day is out of range for month")),
            ("x", "%Q", Err("'Q' is a bad directive in format '%Q'")),
        ];
        for (text, format, want) in cases {
            let got = strptime(text, format).map(|d| d.to_string());
            assert_eq!(
                got,
                want.map(String::from).map_err(String::from),
                "{text} {format}"
            );
        }
    }
}
