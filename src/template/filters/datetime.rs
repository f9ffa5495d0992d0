//! ansible-core's `strftime` and `to_datetime` filters and its `now()` global: Python's
//! `time.strftime` (glibc's conversions, through `jiff` with its POSIX locale and lenient
//! formatting; conversions glibc lacks are written literally, as glibc does), Python's
//! `datetime.strptime` (its `_strptime` patterns, messages and defaults), and a `datetime`
//! object printed and serialised as Python's (`str()` and `isoformat()`).

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use jiff::civil::DateTime;
use jiff::fmt::strtime::{BrokenDownTime, Config, PosixCustom};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};
use minijinja::value::{DynObject, Object, ObjectRepr, Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Error, State};

use super::{Args, err, str_of};

/// The conversions glibc's `strftime` knows (flags and widths aside).
const GLIBC: &str = "aAbBcCdDeFgGhHIjklmMnpPrRsStTuUVwWxXyYzZ%";

/// Prepares a format for jiff as glibc reads it: unknown conversions are kept literally and
/// `%Z` is replaced by `zone` when given.
fn glibc_format(format: &str, zone: Option<&str>) -> String {
    let mut out = String::with_capacity(format.len());
    let mut rest = format;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let spec = &rest[i + 1..];
        let flags = spec
            .find(|c: char| !(matches!(c, '-' | '_' | '0' | '^' | '#') || c.is_ascii_digit()))
            .unwrap_or(spec.len());
        match spec[flags..].chars().next() {
            Some('Z') if zone.is_some() => {
                out.push_str(&zone.unwrap_or_default().replace('%', "%%"));
                rest = &spec[flags + 1..];
            }
            Some(c) if GLIBC.contains(c) => {
                out.push('%');
                out.push_str(&spec[..flags + c.len_utf8()]);
                rest = &spec[flags + c.len_utf8()..];
            }
            _ => {
                out.push_str("%%");
                rest = spec;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `time.strftime(format, tm)` for a broken-down time.
fn format_tm(tm: &BrokenDownTime, format: &str) -> Result<String, Error> {
    let config = Config::new().custom(PosixCustom::new()).lenient(true);
    tm.to_string_with_config(&config, format)
        .map_err(|e| err(format!("strftime: {e}")))
}

/// ansible-core's `strftime(second=None, utc=False)`: the format applied to the epoch
/// seconds (now when absent) in local time or, with `utc`, in UTC (`%Z` is `GMT` there, as
/// `time.gmtime` names it).
pub(super) fn strftime(format: String, rest: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::new(rest);
    let utc = args.flag(1, "utc");
    let ts = match args.get(0, "second").filter(|s| !s.is_none()) {
        None => Timestamp::now(),
        Some(s) => {
            let secs = match s.kind() {
                ValueKind::Number | ValueKind::Bool => f64::try_from(s.clone()).ok(),
                _ => str_of(&s).trim().parse::<f64>().ok(),
            }
            .filter(|f| f.is_finite())
            .ok_or_else(|| err(format!("Invalid value for epoch value ({})", str_of(&s))))?;
            Timestamp::from_second(secs.floor() as i64).map_err(|e| err(format!("strftime: {e}")))?
        }
    };
    let (tz, zone) = if utc {
        (TimeZone::UTC, Some("GMT"))
    } else {
        (TimeZone::system(), None)
    };
    let zoned = ts.to_zoned_datetime(tz);
    format_tm(&BrokenDownTime::from(&zoned), &glibc_format(&format, zone))
}

/// A Python `datetime` (naive, or with a fixed UTC offset from `%z`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyDateTime {
    /// The wall-clock date and time, microsecond precision.
    pub dt: DateTime,
    /// The UTC offset in seconds, for an aware datetime.
    pub offset: Option<i32>,
}

impl PyDateTime {
    fn micro(&self) -> i32 {
        self.dt.subsec_nanosecond() / 1000
    }

    fn offset_text(&self) -> String {
        match self.offset {
            None => String::new(),
            Some(o) => {
                let sign = if o < 0 { '-' } else { '+' };
                let a = o.unsigned_abs();
                let mut s = format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60);
                if a % 60 != 0 {
                    s.push_str(&format!(":{:02}", a % 60));
                }
                s
            }
        }
    }

    /// `isoformat(sep)`.
    pub fn isoformat(&self, sep: char) -> String {
        let d = self.dt;
        let mut s = format!(
            "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}",
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        );
        if self.micro() != 0 {
            s.push_str(&format!(".{:06}", self.micro()));
        }
        s + &self.offset_text()
    }

    /// `datetime.strftime(format)`: `%f` the microseconds, `%z`/`%Z` the offset (empty when
    /// naive), the rest as `time.strftime`.
    pub fn strftime(&self, format: &str) -> Result<String, Error> {
        let z = self.offset_text().replace(':', "");
        let zone = self.offset.map(|_| format!("UTC{}", self.offset_text()));
        let mut prepared = String::new();
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                prepared.push(c);
                continue;
            }
            match chars.next() {
                Some('f') => prepared.push_str(&format!("{:06}", self.micro())),
                Some('z') => prepared.push_str(&z),
                Some('Z') => prepared.push_str(zone.as_deref().unwrap_or("")),
                Some(n) => {
                    prepared.push('%');
                    prepared.push(n);
                }
                None => prepared.push('%'),
            }
        }
        format_tm(&BrokenDownTime::from(self.dt), &glibc_format(&prepared, None))
    }

    /// `timestamp()`: a naive datetime is local time.
    pub fn timestamp(&self) -> Result<f64, Error> {
        let ts = match self.offset {
            Some(o) => {
                let off = jiff::tz::Offset::from_seconds(o).map_err(|e| err(e.to_string()))?;
                off.to_timestamp(self.dt).map_err(|e| err(e.to_string()))?
            }
            None => self
                .dt
                .to_zoned_datetime(TimeZone::system())
                .map_err(|e| err(e.to_string()))?
                .timestamp(),
        };
        Ok(ts.as_microsecond() as f64 / 1e6)
    }
}

impl fmt::Display for PyDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.isoformat(' '))
    }
}

impl Object for PyDateTime {
    /// Plain: printed by its `str()` inside text, not as a mapping.
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let d = self.dt;
        Some(Value::from(match key.as_str()? {
            "year" => i64::from(d.year()),
            "month" => i64::from(d.month()),
            "day" => i64::from(d.day()),
            "hour" => i64::from(d.hour()),
            "minute" => i64::from(d.minute()),
            "second" => i64::from(d.second()),
            "microsecond" => i64::from(self.micro()),
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let d = self.dt;
        match method {
            "strftime" => {
                let f = args.first().map(str_of).unwrap_or_default();
                self.strftime(&f).map(Value::from)
            }
            "isoformat" => {
                let sep = args
                    .first()
                    .map(str_of)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('T');
                Ok(Value::from(self.isoformat(sep)))
            }
            "timestamp" => self.timestamp().map(Value::from),
            "weekday" => Ok(Value::from(i64::from(d.weekday().to_monday_zero_offset()))),
            "isoweekday" => Ok(Value::from(i64::from(d.weekday().to_monday_one_offset()))),
            other => Err(err(format!(
                "'datetime.datetime' object has no attribute '{other}'"
            ))),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_ref(), f)
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        let other = other.downcast_ref::<PyDateTime>()?;
        if self.offset.is_some() != other.offset.is_some() {
            return None;
        }
        let utc = |p: &PyDateTime| p.dt - jiff::SignedDuration::from_secs(i64::from(p.offset.unwrap_or(0)));
        Some(utc(self).cmp(&utc(other)))
    }
}

/// ansible-core's `to_datetime(format='%Y-%m-%d %H:%M:%S')`: `datetime.strptime`.
pub(super) fn to_datetime(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let format = args
        .str(0, "format")
        .unwrap_or_else(|| "%Y-%m-%d %H:%M:%S".into());
    let parsed = super::strptime::strptime(&str_of(&value), &format).map_err(err)?;
    Ok(Value::from_object(parsed))
}

/// ansible-core's `now(utc=False, fmt=None)`: the current local (or UTC) time as a naive
/// datetime, or formatted with `fmt` as `datetime.strftime`.
pub(super) fn now(rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let tz = if args.flag(0, "utc") {
        TimeZone::UTC
    } else {
        TimeZone::system()
    };
    let zoned: ZonedDateTime = Timestamp::now().to_zoned_datetime(tz);
    let dt = zoned.datetime();
    let dt = dt
        .with()
        .subsec_nanosecond(dt.subsec_nanosecond() / 1000 * 1000)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let now = PyDateTime { dt, offset: None };
    match args.str(1, "fmt").filter(|f| !f.is_empty()) {
        Some(f) => now.strftime(&f).map(Value::from),
        None => Ok(Value::from_object(now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(f: &str, secs: i64) -> String {
        let zoned = Timestamp::from_second(secs)
            .unwrap()
            .to_zoned_datetime(TimeZone::UTC);
        format_tm(&BrokenDownTime::from(&zoned), &glibc_format(f, Some("GMT"))).unwrap()
    }

    #[test]
    fn formats_as_python_time_strftime() {
        // time.strftime(f, time.gmtime(1700000000)) on Python 3.11 / glibc.
        assert_eq!(
            epoch(
                "%Y-%m-%d %H:%M:%S %Z %z %f %c %x %X %-d %e %j %a %b %p %s %Q %%",
                1_700_000_000
            ),
            "2023-11-14 22:13:20 GMT +0000 %f Tue Nov 14 22:13:20 2023 11/14/23 22:13:20 14 14 318 Tue Nov PM 1700000000 %Q %"
        );
    }

    #[test]
    fn datetime_prints_as_python() {
        let dt = PyDateTime {
            dt: jiff::civil::datetime(2024, 1, 2, 3, 4, 5, 600_000),
            offset: None,
        };
        assert_eq!(dt.to_string(), "2024-01-02 03:04:05.000600");
        assert_eq!(dt.isoformat('T'), "2024-01-02T03:04:05.000600");
        assert_eq!(dt.strftime("%d/%m/%Y %f|%z|%Z").unwrap(), "02/01/2024 000600||");
        let aware = PyDateTime {
            offset: Some(-5400),
            ..dt
        };
        assert_eq!(aware.to_string(), "2024-01-02 03:04:05.000600-01:30");
    }
}
