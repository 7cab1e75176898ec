//! The API key never shows in Debug output, errors or logs.

mod common;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use unibill_chartmogul::ChartMogul;
use unibill_core::transport::RetryConfig;
use unibill_core::Settings;
use unibill_core::{CustomerPatch, CustomerUpdater};
use unibill_sandbox::{Fault, Sandbox, CHARTMOGUL_API_KEY};

use common::*;
use unibill_core::BackendBuilder;

/// Every span and event field, as text.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next: Arc<AtomicU64>,
}

struct Visitor<'a>(&'a Mutex<String>);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if let Ok(mut t) = self.0.lock() {
            t.push_str(&format!("{}={value:?}\n", field.name()));
        }
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        if let Ok(mut t) = self.text.lock() {
            t.push_str(span.metadata().name());
            t.push('\n');
        }
        span.record(&mut Visitor(&self.text));
        Id::from_u64(self.next.fetch_add(1, Ordering::SeqCst) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Visitor(&self.text));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        event.record(&mut Visitor(&self.text));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn base64(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn assert_clean(what: &str, text: &str) {
    let encoded = base64(format!("{CHARTMOGUL_API_KEY}:").as_bytes());
    assert!(
        !text.contains(CHARTMOGUL_API_KEY),
        "{what} shows the key: {text}"
    );
    assert!(
        !text.contains(&encoded),
        "{what} shows the encoded key: {text}"
    );
}

#[test]
fn base64_helper_is_right() {
    assert_eq!(base64(b"key:"), "a2V5Og==");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"abc"), "YWJj");
}

#[tokio::test]
async fn key_not_in_debug_errors_or_logs() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let sb = Sandbox::start().await.unwrap();
    let builder = ChartMogul::builder()
        .api_key(CHARTMOGUL_API_KEY)
        .base_url(sb.chartmogul().base_url())
        .settings(fast_settings());
    assert_clean("builder Debug", &format!("{builder:?} {builder:#?}"));
    let cm = builder.build().unwrap();
    assert_clean("client Debug", &format!("{cm:?} {cm:#?}"));

    // A successful update with a retried call and an attribute call.
    let h = sb.chartmogul();
    h.inject(Fault::status(503).matching("PATCH", "/v1/"));
    cm.update(
        &seed_id(),
        &CustomerPatch::new().city("Boston").add_tag("vip"),
    )
    .await
    .unwrap();

    // Errors of every kind.
    let mut errors = Vec::new();
    h.inject(Fault::status(500).matching("POST", "/v1/"));
    let no_retry = client_with(
        &sb,
        RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        },
    );
    errors.push(
        no_retry
            .update(&seed_id(), &CustomerPatch::new().city("Paris").add_tag("x"))
            .await
            .unwrap_err(),
    );
    let wrong = ChartMogul::builder()
        .api_key("another-secret-key")
        .base_url(h.base_url())
        .build()
        .unwrap();
    errors.push(wrong.get(&seed_id()).await.unwrap_err());
    let closed = ChartMogul::builder()
        .api_key(CHARTMOGUL_API_KEY)
        .base_url("http://127.0.0.1:9")
        .settings(Settings {
            retry: RetryConfig {
                max_attempts: 1,
                ..RetryConfig::default()
            },
            ..Settings::default()
        })
        .build()
        .unwrap();
    errors.push(closed.get(&seed_id()).await.unwrap_err());
    errors.push(
        ChartMogul::builder()
            .api_key(format!("{CHARTMOGUL_API_KEY}:x"))
            .build()
            .unwrap_err(),
    );
    errors.push(
        ChartMogul::builder()
            .api_key(CHARTMOGUL_API_KEY)
            .base_url("http://example.com")
            .build()
            .unwrap_err(),
    );
    assert_eq!(errors.len(), 5);
    for e in &errors {
        assert_clean("error", &format!("{e} {e:?} {e:#?}"));
    }
    assert!(!format!("{:?}", errors[1]).contains("another-secret-key"));

    let logs = capture.text.lock().unwrap().clone();
    assert!(
        logs.contains("chartmogul update call"),
        "logs were captured: {logs}"
    );
    assert!(
        logs.contains("unibill.request"),
        "transport spans were captured: {logs}"
    );
    assert_clean("logs", &logs);
}

#[test]
fn missing_or_empty_key_is_a_config_error() {
    for b in [ChartMogul::builder(), ChartMogul::builder().api_key("  ")] {
        match b.build().unwrap_err() {
            unibill_core::Error::Config { field, .. } => assert_eq!(field, "api_key"),
            other => panic!("{other:?}"),
        }
    }
}
