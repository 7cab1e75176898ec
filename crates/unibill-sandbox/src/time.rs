//! Timestamp parsing and formatting shared by the emulators.

use chrono::{DateTime, SecondsFormat, Utc};

/// Parses the timestamp spellings ChartMogul accepts: `YYYY-MM-DD HH:MM:SS`,
/// ISO 8601 / RFC 3339 (`T` or space separator, optional fraction, `Z` or a
/// `+HH:MM`/`+HHMM` offset; no offset means UTC) and a bare `YYYY-MM-DD`.
/// Fields have their fixed widths and nothing may surround the value.
///
/// The one ISO 8601 reader of the workspace,
/// [`unibill_core::attribute::parse_timestamp`], does the parsing; the
/// emulator only refuses the surrounding white space that reader forgives.
pub(crate) fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if s.trim() != s {
        return None;
    }
    unibill_core::attribute::parse_timestamp(s).map(|dt| dt.with_timezone(&Utc))
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
