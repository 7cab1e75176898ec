//! Shared test setup: a client pointed at the sandbox with fast retries.

#![allow(dead_code)]

use unibill_chartmogul::ChartMogul;
use unibill_core::transport::RetryConfig;
use unibill_core::BackendBuilder;
use unibill_core::Settings;
use unibill_core::{CustomerId, Error};
use unibill_sandbox::{chartmogul, JournalEntry, Sandbox, VendorHandle, CHARTMOGUL_API_KEY};
#[allow(unused_imports)] // each test file uses some of them
pub use unibill_testkit::{call, calls, fast_retry, fast_settings};

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
        .settings(Settings {
            retry,
            ..Settings::default()
        })
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
