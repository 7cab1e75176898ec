//! How many vendor requests one update costs, per backend, counted in the
//! sandbox's journal: the figure that decides how fast a bulk run can go
//! under a vendor's rate limit.
//!
//! - ChartMogul: a plain-field patch is one `PATCH`; each kind of custom
//!   attribute or tag change adds its call, and no read when a `PATCH` is
//!   sent (2 for a `PATCH` and one attribute call); attribute or tag calls
//!   alone are followed by one `GET` (2 for one call).
//! - Fusebill: `GET` then `PUT` of the whole record (2 requests); a no-op
//!   patch stops after the `GET`. The client's default concurrent-edit
//!   check reads once more only when the `GET` is older than
//!   `max_read_age` (default 1 s) once the `PUT`'s rate-limit slot comes,
//!   which nothing here delays.
//! - Everlytic: one `PUT` when the patch carries `name` and `email` (the
//!   two fields every update must send); otherwise `GET` then `PUT`, with
//!   the same freshness rule as Fusebill (a zero `max_read_age` reads
//!   again before every write: `GET`, `GET`, `PUT`).
//! - By email or external reference: two lookups (each one `GET` when the
//!   matches fit on one page; the second under the customer's write lock)
//!   before the same requests as by id; `get` and `dry_run` by reference
//!   make one lookup. Everlytic has no lookup: zero requests, refused.
//! - In a bulk run, each distinct reference is looked up once, and each
//!   item makes the lookup under the lock: ChartMogul's `PATCH` by a
//!   reference that repeats is 2 requests per item.

// With only some backends compiled in, helpers for the others go unused.
#![cfg_attr(
    not(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic")),
    allow(dead_code, unused_imports)
)]

mod common;

use unibill::BackendBuilder;
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

/// Custom attributes and tags cost one call per kind of change and no
/// read-back when a `PATCH` is sent too: the `PATCH` answers the whole
/// customer and each attribute call the whole map it changed, so the
/// outcome's customer is built from the answers. Without a `PATCH` there
/// is no record to start from: one `GET` after the writes. Either way the
/// outcome's customer is the one a fresh read returns, field by field.
#[cfg(feature = "chartmogul")]
#[tokio::test]
async fn chartmogul_attribute_and_tag_calls_need_no_read_back_after_a_patch() {
    use unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID as ID;
    let (sandbox, updater) = setup("chartmogul").await;
    let vendor = sandbox.chartmogul();
    let id = CustomerId::from(ID);
    let path = format!("/v1/customers/{ID}");
    let patch = format!("PATCH {path}");
    let get = format!("GET {path}");
    let (post_custom, delete_custom) = (
        format!("POST {path}/attributes/custom"),
        format!("DELETE {path}/attributes/custom"),
    );
    let (post_tags, delete_tags) = (
        format!("POST {path}/attributes/tags"),
        format!("DELETE {path}/attributes/tags"),
    );
    let cases: Vec<(&str, CustomerPatch, Vec<String>)> = vec![
        (
            "plain field and a custom attribute",
            CustomerPatch::new().city("Porto").custom("CAC", 31),
            vec![patch.clone(), post_custom.clone()],
        ),
        (
            "plain field and a new tag",
            CustomerPatch::new().city("Braga").add_tag("vip"),
            vec![patch.clone(), post_tags.clone()],
        ),
        (
            "plain field and a removed tag",
            CustomerPatch::new()
                .company("Ben Ltd")
                .remove_tag("high-value"),
            vec![patch.clone(), delete_tags.clone()],
        ),
        (
            "plain field and a cleared custom attribute",
            CustomerPatch::new()
                .company("Ben plc")
                .clear_custom("SalesRep"),
            vec![patch.clone(), delete_custom.clone()],
        ),
        (
            "every kind at once",
            CustomerPatch::new()
                .city("Faro")
                .custom("seats", 12)
                .custom("channel", "Referral")
                .clear_custom("CAC")
                .add_tag("priority")
                .add_tag("renewal")
                .remove_tag("vip"),
            vec![
                patch.clone(),
                post_custom.clone(),
                delete_custom,
                post_tags.clone(),
                delete_tags,
            ],
        ),
        (
            "a custom attribute alone",
            CustomerPatch::new().custom("seats", 14),
            vec![post_custom, get.clone()],
        ),
        (
            "a tag alone",
            CustomerPatch::new().add_tag("expansion"),
            vec![post_tags, get.clone()],
        ),
    ];
    for (case, patch, want) in cases {
        vendor.clear_journal();
        let outcome = updater
            .update_with(&id, &patch, &Default::default())
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(calls(vendor), want, "{case}: requests");
        assert_eq!(
            outcome.writes.len(),
            want.iter().filter(|l| !l.starts_with("GET ")).count(),
            "{case}: writes"
        );

        // The outcome's customer is the one a fresh read returns.
        let fresh = updater.get(&id).await.expect("fresh read");
        let (ours, theirs) = (
            serde_json::to_value(&outcome.customer).expect("JSON"),
            serde_json::to_value(&fresh).expect("JSON"),
        );
        assert_eq!(outcome.customer.custom, fresh.custom, "{case}: custom");
        assert_eq!(outcome.customer.tags, fresh.tags, "{case}: tags");
        let fields = ours.as_object().expect("an object").keys();
        for field in fields {
            assert_eq!(ours[field], theirs[field], "{case}: field `{field}`");
        }
        assert_eq!(outcome.customer, fresh, "{case}");
    }
    let stored = vendor.customer(ID).expect("seeded customer");
    assert_eq!(
        stored["attributes"]["tags"],
        serde_json::json!(["priority", "renewal", "expansion"])
    );
    assert_eq!(
        stored["attributes"]["custom"],
        serde_json::json!({"seats": 14, "channel": "Referral"})
    );
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

    // The default (as built from config) reads once more before the PUT
    // only when the GET is older than `max_read_age` once the PUT may go:
    // nothing delays it here, so 2 requests for a change, still 1 for a
    // no-op (see docs/fusebill.md, "Requests per update").
    let updater = common::config(&sandbox, "fusebill")
        .build()
        .expect("updater builds");
    vendor.clear_journal();
    let patch = CustomerPatch::new().first_name("Katelyn");
    updater.update(&id, &patch).await.expect("update succeeds");
    assert_eq!(calls(vendor), vec![get.clone(), put.clone()]);
    vendor.clear_journal();
    updater
        .update(&id, &patch)
        .await
        .expect("no-op update succeeds");
    assert_eq!(calls(vendor), vec![get.clone()]);

    // A zero bound reads again before every write: today's unconditional
    // re-read, 3 requests.
    let rereading = Fusebill::builder()
        .api_key(unibill_sandbox::FUSEBILL_API_KEY)
        .base_url(vendor.base_url())
        .settings(unibill::Settings {
            max_read_age: std::time::Duration::ZERO,
            ..unibill::Settings::default()
        })
        .build()
        .expect("client builds");
    vendor.clear_journal();
    let patch = CustomerPatch::new().first_name("Kit");
    rereading
        .update(&id, &patch)
        .await
        .expect("update succeeds");
    assert_eq!(calls(vendor), vec![get.clone(), get, put]);
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
    // the default reads once more before the PUT only when that read is
    // older than `max_read_age` once the PUT may go, which nothing delays
    // here.
    vendor.clear_journal();
    let patch = CustomerPatch::new().postal_code("8003");
    updater.update(&id, &patch).await.expect("update succeeds");
    let (get, put) = (format!("GET {path}"), format!("PUT {path}"));
    assert_eq!(calls(vendor), vec![get.clone(), put.clone()]);
    let put_body = vendor.journal()[1].body.clone().expect("JSON body");
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
    assert_eq!(calls(vendor), vec![get.clone(), put.clone()]);

    // A zero bound reads again before every write (3 requests).
    let rereading = unibill::everlytic::Everlytic::builder()
        .base_url(vendor.base_url())
        .username(unibill_sandbox::EVERLYTIC_USERNAME)
        .api_key(unibill_sandbox::EVERLYTIC_API_KEY)
        .settings(unibill::Settings {
            max_read_age: std::time::Duration::ZERO,
            ..unibill::Settings::default()
        })
        .build()
        .expect("client builds");
    vendor.clear_journal();
    let patch = CustomerPatch::new().postal_code("8005");
    rereading
        .update(&id, &patch)
        .await
        .expect("update succeeds");
    assert_eq!(calls(vendor), vec![get.clone(), get, put]);
}

/// The request lines one update of `reference` (item `n`'s patch) sends, on
/// a fresh sandbox holding the lookup seeds, as the journal counts them.
async fn update_calls(
    backend: &'static str,
    reference: &unibill::CustomerRef,
    n: u64,
) -> Result<Vec<String>, unibill::Error> {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    sandbox.add_lookup_seeds();
    let updater = common::config(&sandbox, backend)
        .build()
        .expect("updater builds");
    let (_, patch) = common::item(backend, n);
    let vendor = common::vendor(&sandbox, backend);
    vendor.clear_journal();
    let result = updater.update(reference, &patch).await;
    let lines = calls(vendor);
    sandbox.shutdown().await;
    result.map(|_| lines)
}

/// A request line with its `%XX` escapes decoded (ASCII only).
fn decoded(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| line.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The unique lookup seed of each emulator: its id, email and own
/// reference.
fn unique_seed(backend: &str) -> (&'static str, &'static str, &'static str) {
    use unibill_sandbox::{chartmogul as cm, everlytic as ev, fusebill as fb, stripe as st};
    match backend {
        "stripe" => (
            st::LOOKUP_UNIQUE_ID,
            st::LOOKUP_UNIQUE_EMAIL,
            st::LOOKUP_UNIQUE_EXTERNAL_ID,
        ),
        "chartmogul" => (
            cm::LOOKUP_UNIQUE_UUID,
            cm::LOOKUP_UNIQUE_EMAIL,
            cm::LOOKUP_UNIQUE_EXTERNAL_ID,
        ),
        "fusebill" => (
            fb::LOOKUP_UNIQUE_ID,
            fb::LOOKUP_UNIQUE_EMAIL,
            fb::LOOKUP_UNIQUE_REFERENCE,
        ),
        "everlytic" => (
            ev::LOOKUP_UNIQUE_ID,
            ev::LOOKUP_UNIQUE_EMAIL,
            ev::LOOKUP_UNIQUE_UNIQUE_ID,
        ),
        other => panic!("unknown backend {other}"),
    }
}

/// The requests one update costs by id, by email and by external reference
/// on each backend: the requests-per-update table of `docs/performance.md`.
#[cfg(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic"))]
#[tokio::test]
async fn update_by_email_or_reference_is_two_lookups_then_the_update_by_id() {
    use unibill::CustomerRef;
    use unibill_sandbox::{chartmogul as cm, fusebill as fb};
    let mut table = Vec::new();
    for backend in common::ENABLED {
        let (id, email, external) = unique_seed(backend);
        let by_id = update_calls(backend, &CustomerRef::id(id), 1)
            .await
            .unwrap_or_else(|e| panic!("{backend} by id: {e}"));
        let mut row = vec![by_id.len()];
        for (n, reference) in [CustomerRef::email(email), CustomerRef::external(external)]
            .into_iter()
            .enumerate()
        {
            match update_calls(backend, &reference, 1).await {
                Ok(lines) => {
                    // Two lookups, then exactly what the update by id sends.
                    assert!(lines.len() >= 2, "{backend} {reference}: {lines:?}");
                    assert_eq!(lines[..2][0], lines[..2][1], "{backend}: two same lookups");
                    assert!(lines[0].starts_with("GET "), "{backend}: {lines:?}");
                    assert_eq!(lines[2..], by_id[..], "{backend} {reference}");
                    row.push(lines.len());
                    if n == 0 {
                        let want = match *backend {
                            "chartmogul" => format!(
                                "GET /v1/customers/search?email={email}&per_page=200"
                            ),
                            "stripe" => format!("GET /v1/customers?email={email}&limit=100"),
                            _ => format!(
                                "GET /v1/customers?query=primaryEmail:*{email}*&pageSize=100&pageNumber=0"
                            ),
                        };
                        assert_eq!(decoded(&lines[0]), want, "{backend}");
                    }
                }
                Err(unibill::Error::UnsupportedLookup { .. }) => row.push(0),
                Err(e) => panic!("{backend} {reference}: {e}"),
            }
        }
        table.push((*backend, row));
    }
    // The table in docs/performance.md (by id, by email, by reference).
    assert_eq!(
        table,
        [
            ("chartmogul", vec![1, 3, 3]),
            ("fusebill", vec![2, 4, 4]),
            ("everlytic", vec![2, 0, 0]),
            #[cfg(feature = "stripe")]
            ("stripe", vec![1, 3, 3]),
        ]
    );
    // The external-id lookups, as sent.
    let lines = update_calls(
        "chartmogul",
        &CustomerRef::external(cm::LOOKUP_UNIQUE_EXTERNAL_ID),
        2,
    )
    .await
    .expect("update by external id");
    assert_eq!(
        decoded(&lines[0]),
        format!(
            "GET /v1/customers?external_id={}&per_page=200",
            cm::LOOKUP_UNIQUE_EXTERNAL_ID
        )
    );
    let lines = update_calls(
        "fusebill",
        &CustomerRef::external(fb::LOOKUP_UNIQUE_REFERENCE),
        2,
    )
    .await
    .expect("update by reference");
    assert_eq!(
        decoded(&lines[0]),
        format!(
            "GET /v1/customers?query=reference:{}&pageSize=100&pageNumber=0",
            fb::LOOKUP_UNIQUE_REFERENCE
        )
    );
}

/// `get` and `dry_run` by reference make one lookup, then what they make
/// by id.
#[cfg(all(feature = "chartmogul", feature = "fusebill"))]
#[tokio::test]
async fn get_and_dry_run_by_reference_are_one_lookup() {
    use unibill::{CustomerRef, UpdateOptions};
    for backend in ["chartmogul", "fusebill"] {
        let (id, email, _) = unique_seed(backend);
        let sandbox = Sandbox::start().await.expect("sandbox starts");
        sandbox.add_lookup_seeds();
        let updater = common::config(&sandbox, backend).build().expect("builds");
        let vendor = common::vendor(&sandbox, backend);
        let (_, patch) = common::item(backend, 7);
        let mut by = Vec::new();
        for reference in [CustomerRef::id(id), CustomerRef::email(email)] {
            vendor.clear_journal();
            updater.get(&reference).await.expect("get");
            let get = calls(vendor);
            vendor.clear_journal();
            updater
                .dry_run(&reference, &patch, &UpdateOptions::default())
                .await
                .expect("dry run");
            by.push((get, calls(vendor)));
        }
        let ((get_id, dry_id), (get_ref, dry_ref)) = (&by[0], &by[1]);
        assert_eq!(get_ref.len(), get_id.len() + 1, "{backend}: {get_ref:?}");
        assert_eq!(get_ref[1..], get_id[..], "{backend}");
        assert_eq!(dry_ref.len(), dry_id.len() + 1, "{backend}: {dry_ref:?}");
        assert_eq!(dry_ref[1..], dry_id[..], "{backend}");
        assert_eq!(get_ref[0], dry_ref[0], "{backend}: the same lookup");
        sandbox.shutdown().await;
    }
}

/// A bulk run looks each distinct reference up once, however many items
/// name it, and still confirms under the lock for every item: per item,
/// one lookup and the update by id, plus one lookup per distinct
/// reference. ChartMogul's `PATCH` by reference in bulk is 2 requests per
/// item once a reference repeats (3 alone).
#[cfg(all(feature = "chartmogul", feature = "fusebill"))]
#[tokio::test]
async fn a_bulk_run_looks_each_reference_up_once_and_confirms_every_item() {
    use unibill::bulk::{bulk_update_stream, BulkOptions};
    use unibill::CustomerRef;
    for backend in ["chartmogul", "fusebill"] {
        let (id, email, external) = unique_seed(backend);
        let by_id = update_calls(backend, &CustomerRef::id(id), 1)
            .await
            .expect("by id")
            .len();
        let sandbox = Sandbox::start().await.expect("sandbox starts");
        sandbox.add_lookup_seeds();
        let updater = common::config(&sandbox, backend).build().expect("builds");
        let vendor = common::vendor(&sandbox, backend);
        vendor.clear_journal();
        // Six items, three by email and three by reference, interleaved,
        // each with its own patch (so each writes).
        let items = (0..6u64).map(|n| {
            let reference = if n % 2 == 0 {
                CustomerRef::email(email)
            } else {
                CustomerRef::external(external)
            };
            (reference, common::item(backend, n).1)
        });
        let options = BulkOptions {
            concurrency: 4,
            ..BulkOptions::default()
        };
        let summary = bulk_update_stream(&*updater, futures_util::stream::iter(items), options)
            .for_each_result(|r| {
                let outcome = r.result.unwrap_or_else(|e| panic!("{backend}: {e}"));
                assert_eq!(outcome.customer.id.as_str(), id, "{backend}");
            })
            .await;
        assert_eq!(summary.applied, 6, "{backend}: {summary}");
        let lines = calls(vendor);
        let lookups = lines.iter().filter(|l| l.contains("?")).count();
        // Two distinct references resolved once each, and six confirmations.
        assert_eq!(lookups, 2 + 6, "{backend}: {lines:#?}");
        assert_eq!(lines.len(), 2 + 6 + 6 * by_id, "{backend}: {lines:#?}");
        if backend == "chartmogul" {
            assert_eq!(by_id, 1, "a PATCH");
            assert_eq!(lines.len(), 14, "(2 + 6 × 2) for six items");
        }
        sandbox.shutdown().await;
    }
}

/// A reference a bulk run has already resolved, which comes to name
/// another customer during the run (an earlier item moves the email), is
/// not trusted: the lookup under the lock finds the new customer, and the
/// later items update that one, in input order.
#[cfg(feature = "chartmogul")]
#[tokio::test]
async fn a_bulk_run_follows_a_reference_that_moved_to_another_customer() {
    use unibill::bulk::{bulk_update_stream, BulkOptions};
    use unibill::CustomerRef;
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let vendor = sandbox.chartmogul();
    let ids = vendor.add_customers(2);
    let (x, y) = (
        CustomerId::from(ids[0].as_str()),
        CustomerId::from(ids[1].as_str()),
    );
    let updater = common::config(&sandbox, "chartmogul")
        .build()
        .expect("builds");
    let moving = "moving@lisbon.example.com";
    updater
        .update(&x, &CustomerPatch::new().email(moving))
        .await
        .expect("x gets the email");
    updater
        .update(&y, &CustomerPatch::new().email("other@lisbon.example.com"))
        .await
        .expect("y gets another");
    let by_email = || CustomerRef::email(moving);
    let items: Vec<(CustomerRef, CustomerPatch)> = vec![
        (by_email(), CustomerPatch::new().city("First")),
        (
            x.clone().into(),
            CustomerPatch::new().email("gone@lisbon.example.com"),
        ),
        (y.clone().into(), CustomerPatch::new().email(moving)),
        (by_email(), CustomerPatch::new().city("Second")),
        (by_email(), CustomerPatch::new().city("Third")),
    ];
    let options = BulkOptions {
        concurrency: 1,
        ordered: true,
        ..BulkOptions::default()
    };
    let mut updated = Vec::new();
    bulk_update_stream(&*updater, futures_util::stream::iter(items), options)
        .for_each_result(|r| {
            let outcome = r.result.expect("each item succeeds");
            updated.push(outcome.customer.id.to_string());
        })
        .await;
    assert_eq!(
        updated,
        [&ids[0], &ids[0], &ids[1], &ids[1], &ids[1]].map(|s| s.to_string())
    );
    let y_now = updater.get(&y).await.expect("y");
    assert_eq!(y_now.address.city.as_deref(), Some("Third"));
    let x_now = updater.get(&x).await.expect("x");
    assert_eq!(x_now.address.city.as_deref(), Some("First"));
    sandbox.shutdown().await;
}
