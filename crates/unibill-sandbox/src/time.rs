//! Timestamp parsing and formatting shared by the emulators.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// Parses the timestamp spellings ChartMogul accepts: `YYYY-MM-DD HH:MM:SS`,
/// ISO 8601 / RFC 3339 (`T` or space separator, optional fraction, `Z` or a
/// `+HH:MM`/`+HHMM` offset; no offset means UTC) and a bare `YYYY-MM-DD`.
/// Fields have their fixed widths and nothing may surround the value.
pub(crate) fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if !iso8601_shape(s) {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc());
        }
    }
    if s.len() == 10 {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return d.and_hms_opt(0, 0, 0).map(|dt| dt.and_utc());
        }
    }
    None
}

fn all_digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

/// Whether `s` is spelled `YYYY-MM-DD`, optionally followed by `T`/space,
/// `HH:MM`, optional `:SS` with an optional fraction, and an optional `Z` or
/// `+HH:MM` / `+HHMM` offset, every numeric field at its fixed width. The
/// date/time parser alone would also take `2015-1-1 0:0:0`, a two-digit year
/// or surrounding whitespace, none of which is ISO 8601.
///
/// The emulator keeps its own check rather than use the client's
/// (`unibill_core::attribute::parse_timestamp`): a rule shared by both
/// would let a mistake in it pass every test.
fn iso8601_shape(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 10
        || !all_digits(&b[0..4])
        || b[4] != b'-'
        || !all_digits(&b[5..7])
        || b[7] != b'-'
        || !all_digits(&b[8..10])
    {
        return false;
    }
    let rest = &b[10..];
    let Some((sep, rest)) = rest.split_first() else {
        return true;
    };
    if !matches!(sep, b'T' | b't' | b' ')
        || rest.len() < 5
        || !all_digits(&rest[0..2])
        || rest[2] != b':'
        || !all_digits(&rest[3..5])
    {
        return false;
    }
    let mut rest = &rest[5..];
    if let [b':', s1, s2, tail @ ..] = rest {
        if !all_digits(&[*s1, *s2]) {
            return false;
        }
        rest = tail;
        if let [b'.', tail @ ..] = rest {
            let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return false;
            }
            rest = &tail[n..];
        }
    }
    match rest {
        [] | [b'Z'] | [b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2] => {
            all_digits(&[*h1, *h2, *m1, *m2])
        }
        _ => false,
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as ChartMogul answers timestamps.
pub(crate) fn format_millis_z(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, as ChartMogul answers custom attributes
/// of type Timestamp (every vendor page and both official SDKs' fixtures
/// print them so; the fraction is not kept).
pub(crate) fn format_space_seconds(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `YYYY-MM-DDTHH:MM:SS.fffffffZ` (seven fractional digits), as Fusebill
/// answers `modifiedTimestamp`.
pub(crate) fn format_ticks_z(dt: DateTime<Utc>) -> String {
    let ticks = dt.timestamp_subsec_nanos() / 100;
    format!("{}.{:07}Z", dt.format("%Y-%m-%dT%H:%M:%S"), ticks)
}

/// RFC 7231 HTTP-date.
pub(crate) fn http_date(at: std::time::SystemTime) -> String {
    let dt: DateTime<Utc> = at.into();
    dt.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = parse_timestamp("2015-06-13 15:45:13").unwrap();
        assert_eq!(format_millis_z(t), "2015-06-13T15:45:13.000Z");
        let t = parse_timestamp("2015-06-13T17:45:13+02:00").unwrap();
        assert_eq!(format_millis_z(t), "2015-06-13T15:45:13.000Z");
        let t = parse_timestamp("2015-06-13T15:45:13.25Z").unwrap();
        assert_eq!(format_millis_z(t), "2015-06-13T15:45:13.250Z");
        let t = parse_timestamp("2015-01-01").unwrap();
        assert_eq!(format_millis_z(t), "2015-01-01T00:00:00.000Z");
        assert!(parse_timestamp("yesterday").is_none());
        let t = parse_timestamp("2015-06-13T17:45:13.5+0200").unwrap();
        assert_eq!(format_millis_z(t), "2015-06-13T15:45:13.500Z");
        let t = parse_timestamp("2015-06-13 15:45").unwrap();
        assert_eq!(format_millis_z(t), "2015-06-13T15:45:00.000Z");
        assert!(parse_timestamp("2015-13-01 00:00:00").is_none());
        let t = parse_timestamp("2019-11-07T15:51:11.1915461Z").unwrap();
        assert_eq!(format_ticks_z(t), "2019-11-07T15:51:11.1915461Z");
    }

    #[test]
    fn only_fixed_width_iso_8601_spellings_are_timestamps() {
        for bad in [
            "2015-1-1 0:0:0",
            "2015-01-01 0:00:00",
            "15-01-01 00:00:00",
            "+2015-01-01 00:00:00",
            " 2015-01-01 00:00:00",
            "2015-01-01 00:00:00 ",
            "2015-01-01T00:00:00 +02:00",
            "2015-01-01T00:00:00.Z",
            "2015-01-01T00:00.5",
            "2015-01-01T00:00:00+2:00",
            "",
        ] {
            assert!(parse_timestamp(bad).is_none(), "{bad:?}");
        }
    }
}
