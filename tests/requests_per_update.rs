//! How many vendor requests one update costs, per backend, counted in the
//! sandbox's journal: the figure that decides how fast a bulk run can go
//! under a vendor's rate limit.
//!
//! - ChartMogul: a plain-field patch is one `PATCH`.
//! - Fusebill: `GET` then `PUT` of the whole record; a no-op patch stops
//!   after the `GET`. The client's default concurrent-edit check reads once
//!   more just before the `PUT` (3 requests); `ConflictCheck::Off` gives 2.
//! - Everlytic: one `PUT` when the patch carries `name` and `email` (the
//!   two fields every update must send); otherwise `GET` then `PUT`, with
//!   the same concurrent-edit check as Fusebill by default (`GET`, `GET`,
//!   `PUT`; `ConflictCheck::Off` gives 2).

// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports)
)]

mod common;

use unibill::{CustomerId, CustomerPatch, CustomerUpdater};
use unibill_sandbox::Sandbox;
use unibill_testkit::call_lines as calls;

async fn setup(backend: &'static str) -> (Sandbox, std::sync::Arc<dyn CustomerUpdater>) {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let updater = common::config(&sandbox, backend)
        .build()
        .expect("updater builds");
    (sandbox, updater)
}

#[cfg(feature = "chartmogul")]
#[tokio::test]
async fn chartmogul_plain_field_patch_is_one_request() {
    use unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID as ID;
    let (sandbox, updater) = setup("chartmogul").await;
    let vendor = sandbox.chartmogul();
    let id = CustomerId::from(ID);

    let patch = CustomerPatch::new()
        .city("Lisbon")
        .company("Ben & Co")
        .email("ben@lisbon.example.com");
    let outcome = updater
        .update_with(&id, &patch, &Default::default())
        .await
        .expect("update succeeds");
    assert_eq!(calls(vendor), vec![format!("PATCH /v1/customers/{ID}")]);
    assert_eq!(outcome.writes.len(), 1);
    let body = vendor.journal()[0].body.clone().expect("JSON body");
    assert_eq!(body["city"], "Lisbon");
    assert_eq!(body["company"], "Ben & Co");
    assert_eq!(body["email"], "ben@lisbon.example.com");

    // The same patch again is still one request: ChartMogul updates are
    // partial, so no read is needed to know what to send.
    vendor.clear_journal();
    updater.update(&id, &patch).await.expect("update succeeds");
    assert_eq!(calls(vendor), vec![format!("PATCH /v1/customers/{ID}")]);
}

#[cfg(feature = "fusebill")]
#[tokio::test]
async fn fusebill_update_is_get_then_put_and_a_no_op_is_one_get() {
    use unibill::fusebill::{ConflictCheck, Fusebill};
    use unibill_sandbox::fusebill::SEED_CUSTOMER_ID as ID;
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let vendor = sandbox.fusebill();
    let id = CustomerId::from(ID);
    let get = format!("GET /v1/customers/{ID}");
    let put = "PUT /v1/customers".to_string();

    // Without the concurrent-edit check: GET, then PUT of the whole record.
    let updater = Fusebill::builder()
        .api_key(unibill_sandbox::FUSEBILL_API_KEY)
        .base_url(vendor.base_url())
        .conflict_check(ConflictCheck::Off)
        .build()
        .expect("client builds");
    let patch = CustomerPatch::new()
        .first_name("Kate")
        .company("Ronbert Ltd");
    let outcome = updater
        .update_with(&id, &patch, &Default::default())
        .await
        .expect("update succeeds");
    assert_eq!(calls(vendor), vec![get.clone(), put.clone()]);
    assert_eq!(outcome.writes.len(), 1);
    let stored = vendor.customer(ID).expect("seeded customer");
    assert_eq!(stored["firstName"], "Kate");
    assert_eq!(stored["companyName"], "Ronbert Ltd");

    // The same patch again changes nothing: the read shows it, no PUT.
    vendor.clear_journal();
    let outcome = updater
        .update_with(&id, &patch, &Default::default())
        .await
        .expect("no-op update succeeds");
    assert_eq!(calls(vendor), vec![get.clone()]);
    assert!(!outcome.changed(), "a no-op reports no write");

    // The default (as built from config) reads once more just before the
    // PUT to catch an edit made in between: 3 requests for a change, still
    // 1 for a no-op (see docs/fusebill.md, "Requests per update").
    let updater = common::config(&sandbox, "fusebill")
        .build()
        .expect("updater builds");
    vendor.clear_journal();
    let patch = CustomerPatch::new().first_name("Katelyn");
    updater.update(&id, &patch).await.expect("update succeeds");
    assert_eq!(calls(vendor), vec![get.clone(), get.clone(), put]);
    vendor.clear_journal();
    updater
        .update(&id, &patch)
        .await
        .expect("no-op update succeeds");
    assert_eq!(calls(vendor), vec![get]);
}

#[cfg(feature = "everlytic")]
#[tokio::test]
async fn everlytic_update_is_one_put_with_name_and_email_else_get_then_put() {
    use unibill_sandbox::everlytic::{SEED_CUSTOMER_EMAIL as EMAIL, SEED_CUSTOMER_ID as ID};
    let (sandbox, updater) = setup("everlytic").await;
    let vendor = sandbox.everlytic();
    let id = CustomerId::from(ID);
    let path = format!("/api/2.0/customers/{ID}");

    // Name and email in the patch: nothing to read first.
    let patch = CustomerPatch::new()
        .name("Cape Mailers Group")
        .email(EMAIL)
        .postal_code("8002");
    updater.update(&id, &patch).await.expect("update succeeds");
    assert_eq!(calls(vendor), vec![format!("PUT {path}")]);
    let stored = vendor.customer(ID).expect("seeded customer");
    assert_eq!(stored["name"], "Cape Mailers Group");
    assert_eq!(stored["postal_code"], "8002");

    // Without them, the current name and email are read and sent back;
    // the default reads once more just before the PUT to catch an edit
    // made in between.
    vendor.clear_journal();
    let patch = CustomerPatch::new().postal_code("8003");
    updater.update(&id, &patch).await.expect("update succeeds");
    let (get, put) = (format!("GET {path}"), format!("PUT {path}"));
    assert_eq!(calls(vendor), vec![get.clone(), get.clone(), put.clone()]);
    let put_body = vendor.journal()[2].body.clone().expect("JSON body");
    let sent = serde_json::to_string(&put_body).expect("JSON");
    assert!(
        sent.contains("Cape Mailers Group"),
        "name sent back: {sent}"
    );
    assert!(sent.contains(EMAIL), "email sent back: {sent}");
    assert_eq!(
        vendor.customer(ID).expect("seeded customer")["postal_code"],
        "8003"
    );

    // Without the check: GET then PUT.
    let unchecked = unibill::everlytic::Everlytic::builder()
        .base_url(vendor.base_url())
        .username(unibill_sandbox::EVERLYTIC_USERNAME)
        .api_key(unibill_sandbox::EVERLYTIC_API_KEY)
        .conflict_check(unibill::ConflictCheck::Off)
        .build()
        .expect("client builds");
    vendor.clear_journal();
    let patch = CustomerPatch::new().postal_code("8004");
    unchecked
        .update(&id, &patch)
        .await
        .expect("update succeeds");
    assert_eq!(calls(vendor), vec![get.clone(), put.clone()]);

    // Only one of the two is not enough to skip the read.
    vendor.clear_journal();
    let patch = CustomerPatch::new().name("Cape Mailers");
    updater.update(&id, &patch).await.expect("update succeeds");
    assert_eq!(calls(vendor), vec![get.clone(), get, put]);
}
