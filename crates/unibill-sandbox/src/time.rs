//! Timestamp parsing and formatting shared by the emulators.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// Parses the timestamp spellings ChartMogul accepts: `YYYY-MM-DD HH:MM:SS`,
/// ISO 8601 / RFC 3339 (`T` or space separator, optional fraction, `Z` or a
/// `+HH:MM`/`+HHMM` offset; no offset means UTC) and a bare `YYYY-MM-DD`.
pub(crate) fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
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

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as ChartMogul answers timestamps.
pub(crate) fn format_millis_z(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Millis, true)
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
        assert!(parse_timestamp("2015-13-01 00:00:00").is_none());
        let t = parse_timestamp("2019-11-07T15:51:11.1915461Z").unwrap();
        assert_eq!(format_ticks_z(t), "2019-11-07T15:51:11.1915461Z");
    }
}
