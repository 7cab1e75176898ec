//! Shared test setup: a client pointed at the sandbox with fast retries.

#![allow(dead_code)]

use std::time::Duration;

use unibill_chartmogul::BackendBuilder;
use unibill_chartmogul::ChartMogul;
use unibill_core::transport::RetryConfig;
use unibill_core::{CustomerId, Error};
use unibill_sandbox::{chartmogul, JournalEntry, Sandbox, VendorHandle, CHARTMOGUL_API_KEY};

pub fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        deadline: Duration::from_secs(20),
        max_retry_after: Duration::from_secs(5),
    }
}

pub fn client(sb: &Sandbox) -> ChartMogul {
    client_with(sb, fast_retry())
}

/// A fresh sandbox and a client on it with fast retries.
pub async fn start() -> (Sandbox, ChartMogul) {
    start_with(fast_retry()).await
}

/// A fresh sandbox and a client on it with the given retries.
pub async fn start_with(retry: RetryConfig) -> (Sandbox, ChartMogul) {
    let sb = Sandbox::start().await.unwrap();
    let cm = client_with(&sb, retry);
    (sb, cm)
}

pub fn client_with(sb: &Sandbox, retry: RetryConfig) -> ChartMogul {
    ChartMogul::builder()
        .api_key(CHARTMOGUL_API_KEY)
        .base_url(sb.chartmogul().base_url())
        .retry(retry)
        .build()
        .expect("client")
}

pub fn seed_id() -> CustomerId {
    CustomerId::from(chartmogul::SEED_CUSTOMER_UUID)
}

pub fn second_id() -> CustomerId {
    CustomerId::from(chartmogul::SECOND_CUSTOMER_UUID)
}

pub fn seed_path(rest: &str) -> String {
    format!("/v1/customers/{}{rest}", chartmogul::SEED_CUSTOMER_UUID)
}

pub fn second_path(rest: &str) -> String {
    format!("/v1/customers/{}{rest}", chartmogul::SECOND_CUSTOMER_UUID)
}

/// `(method, path)` of every journal entry.
pub fn calls(h: &VendorHandle) -> Vec<(String, String)> {
    h.journal()
        .into_iter()
        .map(|e| (e.method, e.path))
        .collect()
}

pub fn call(method: &str, path: &str) -> (String, String) {
    (method.to_owned(), path.to_owned())
}

pub fn writes(h: &VendorHandle) -> Vec<JournalEntry> {
    h.journal().into_iter().filter(|e| e.is_write()).collect()
}

/// Asserts `err` is a vendor error with HTTP `status` and returns its messages.
pub fn vendor_messages(err: Error, status: u16) -> Vec<String> {
    match err {
        Error::Vendor {
            status: got,
            messages,
            ..
        } => {
            assert_eq!(got, status);
            messages
        }
        other => panic!("{other:?}"),
    }
}
