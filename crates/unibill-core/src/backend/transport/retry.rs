//! Retry policy: which outcomes are retried, backoff with full jitter and
//! `Retry-After` parsing.

use std::time::{Duration, SystemTime};

use super::Idempotency;

/// How failed attempts are retried; see [`Transport`](super::Transport)
/// for the policy table.
///
/// ```
/// use std::time::Duration;
/// use unibill_core::transport::RetryConfig;
///
/// let retry = RetryConfig { max_attempts: 6, deadline: Duration::from_secs(120), ..RetryConfig::default() };
/// assert_eq!(retry.initial_backoff, Duration::from_millis(100));
/// // No retries: every request is attempted exactly once.
/// let once = RetryConfig { max_attempts: 1, ..RetryConfig::default() };
/// ```
///
/// In a config ([`Settings`](crate::builder::Settings)) its fields are
/// keys; durations are seconds or text like `"500ms"`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct RetryConfig {
    /// Total attempts, the first one included (`1` = never retry; `0` is
    /// treated as `1`). Default 4.
    #[serde(deserialize_with = "crate::builder::de::attempts")]
    pub max_attempts: u32,
    /// Upper bound of the first backoff; it doubles per retry. Default
    /// 100 ms.
    #[serde(deserialize_with = "crate::builder::de::duration")]
    pub initial_backoff: Duration,
    /// Upper bound of any backoff, and never less than the first one.
    /// Default 5 s.
    #[serde(deserialize_with = "crate::builder::de::duration")]
    pub max_backoff: Duration,
    /// Time budget for one [`send`](super::Transport::send), attempts and
    /// sleeps together, counted from the first attempt (the wait for the
    /// first rate-limit permit is not included): no retry sleeps or starts
    /// past it, and a retry's timeout is cut to the time left. The first
    /// attempt always gets the full
    /// [`request_timeout`](super::TransportConfig::request_timeout).
    /// Default 60 s.
    #[serde(
        alias = "retry_deadline",
        alias = "retry_deadline_secs",
        deserialize_with = "crate::builder::de::duration"
    )]
    pub deadline: Duration,
    /// The longest `Retry-After` (or [`retry_hint`]) that is waited out;
    /// if the server asks for more, its answer is returned at once.
    /// Default 60 s.
    ///
    /// [`retry_hint`]: super::TransportConfig::retry_hint
    #[serde(
        alias = "max_retry_after_secs",
        deserialize_with = "crate::builder::de::duration"
    )]
    pub max_retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryConfig {
    /// The upper bound of the backoff before retry number `retry` (0 for
    /// the first retry): `min(max_backoff, initial_backoff * 2^retry)`,
    /// where a `max_backoff` shorter than `initial_backoff` counts as
    /// `initial_backoff` (a first backoff asked for is never cut).
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff.max(self.initial_backoff))
    }

    /// A "full jitter" backoff before retry number `retry` (0 for the
    /// first retry): uniformly random in `[0, backoff_ceiling(retry)]`.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }
}

/// Why an attempt may be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// 429 or 503: the server refused without processing.
    Refused(u16),
    /// Another 5xx on a request that may be repeated.
    ServerError(u16),
    /// The connection could not be made: nothing was sent.
    Connect,
    /// Timeout or a connection lost after the request may have been sent.
    Interrupted,
    /// An error answer the vendor said may be retried
    /// ([`super::TransportConfig::retry_advice`]).
    Advised(u16),
}

fn repeatable(idempotency: Idempotency) -> bool {
    idempotency != Idempotency::NonIdempotent
}

/// Whether an answer with this status may be retried.
pub(crate) fn classify_status(status: u16, idempotency: Idempotency) -> Option<Reason> {
    match status {
        429 | 503 => Some(Reason::Refused(status)),
        // 501 Not Implemented and 505 HTTP Version Not Supported are
        // permanent: repeating cannot change the answer.
        501 | 505 => None,
        500..=599 if repeatable(idempotency) => Some(Reason::ServerError(status)),
        _ => None,
    }
}

/// Whether a failed attempt may be retried.
pub(crate) fn classify_error(err: &reqwest::Error, idempotency: Idempotency) -> Option<Reason> {
    if !crate::error::may_complete(err) {
        None
    } else if err.is_connect() {
        Some(Reason::Connect)
    } else if repeatable(idempotency) {
        Some(Reason::Interrupted)
    } else {
        None
    }
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP-date (IMF-fixdate,
/// RFC 850 or asctime form, read by `httpdate`). A date in the past means
/// "now" (zero); `httpdate` knows no year before 1970, so such a date (from
/// a server with a wrong clock; no vendor documents one) is unreadable and
/// the transport backs off as without a `Retry-After`.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to fit: far beyond any cap, so "wait forever".
        return Some(
            value
                .parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_ceiling_doubles_up_to_max() {
        let cfg = RetryConfig::default();
        let ms = Duration::from_millis;
        let expected = [100, 200, 400, 800, 1600, 3200, 5000, 5000];
        for (n, want) in expected.iter().enumerate() {
            assert_eq!(cfg.backoff_ceiling(n as u32), ms(*want));
        }
        assert_eq!(cfg.backoff_ceiling(31), ms(5000));
        assert_eq!(cfg.backoff_ceiling(32), ms(5000));
        assert_eq!(cfg.backoff_ceiling(u32::MAX), ms(5000));
    }

    #[test]
    fn full_jitter_stays_in_bounds_and_spreads() {
        let cfg = RetryConfig::default();
        for n in 0..8 {
            let ceiling = cfg.backoff_ceiling(n);
            let samples: Vec<Duration> = (0..2000).map(|_| cfg.backoff(n)).collect();
            assert!(samples.iter().all(|d| *d <= ceiling));
            assert!(
                samples.iter().any(|d| *d < ceiling / 4),
                "full jitter reaches near zero"
            );
            assert!(
                samples.iter().any(|d| *d > ceiling * 3 / 4),
                "full jitter reaches near the ceiling"
            );
        }
        let zero = RetryConfig {
            initial_backoff: Duration::ZERO,
            ..RetryConfig::default()
        };
        assert_eq!(zero.backoff(3), Duration::ZERO);
    }

    #[test]
    fn status_classification() {
        use Idempotency::*;
        for i in [Idempotent, NonIdempotent, RetrySafe] {
            assert_eq!(classify_status(429, i), Some(Reason::Refused(429)));
            assert_eq!(classify_status(503, i), Some(Reason::Refused(503)));
            for s in [200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 501, 505] {
                assert_eq!(classify_status(s, i), None, "{s}");
            }
        }
        for s in [500, 502, 504, 599] {
            assert_eq!(classify_status(s, Idempotent), Some(Reason::ServerError(s)));
            assert_eq!(classify_status(s, RetrySafe), Some(Reason::ServerError(s)));
            assert_eq!(classify_status(s, NonIdempotent), None);
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let s = Duration::from_secs;
        assert_eq!(parse_retry_after("120", now), Some(s(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(s(0)));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::MAX)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(s(60))
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:51:37 GMT", now),
            Some(s(120))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:47 1994", now),
            Some(s(10))
        );
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(s(0))
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 99 Nov 1994 08:49:37 GMT",
            // Before 1970: unreadable to `httpdate`, so backoff applies.
            "Fri, 01 Jan 1960 00:00:00 GMT",
            "Thu Jan  1 00:00:00 1570",
            "Fri, 01 Jan 19x0 00:00:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }
}
