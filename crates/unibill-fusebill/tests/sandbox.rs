//! Journal-based tests on the Fusebill emulator of `unibill-sandbox`.

use std::time::Duration;

use serde_json::{json, Value};
use unibill_core::transport::RetryConfig;
use unibill_core::Settings;
use unibill_core::{Backend, BackendBuilder};
use unibill_core::{
    CustomerId, CustomerPatch, CustomerStatus, CustomerUpdater, Error, Field, Op, UpdateOptions,
    UpdateOutcome,
};
use unibill_fusebill::{ConflictCheck, Fusebill, FusebillExtension, SalesTrackingCode};
use unibill_sandbox::fusebill::{PARENT_CUSTOMER_ID, SEED_CUSTOMER_ID};
use unibill_sandbox::{Fault, RateLimit, RequestMatcher, Sandbox, VendorHandle, FUSEBILL_API_KEY};
use unibill_testkit::{call, calls};

const GET_SEED: &str = "/v1/customers/12000750";

/// The shared fast settings, with one more attempt (fault tests here fail
/// up to three attempts in a row).
fn fast_settings() -> Settings {
    Settings {
        retry: RetryConfig {
            max_attempts: 4,
            ..unibill_testkit::fast_retry()
        },
        ..unibill_testkit::fast_settings()
    }
}

fn client_with(sb: &Sandbox, key: &str, conflict: ConflictCheck) -> Fusebill {
    Fusebill::builder()
        .api_key(key)
        .base_url(sb.fusebill().base_url())
        .settings(fast_settings())
        .conflict_check(conflict)
        .build()
        .expect("client")
}

/// A client that reads the customer again before every write (a zero
/// `max_read_age`), for the tests of what the re-read does.
fn client_rereading(sb: &Sandbox, conflict: ConflictCheck) -> Fusebill {
    Fusebill::builder()
        .api_key(FUSEBILL_API_KEY)
        .base_url(sb.fusebill().base_url())
        .settings(Settings {
            max_read_age: Duration::ZERO,
            ..fast_settings()
        })
        .conflict_check(conflict)
        .build()
        .expect("client")
}

fn client(sb: &Sandbox) -> Fusebill {
    client_with(sb, FUSEBILL_API_KEY, ConflictCheck::default())
}

/// A fresh sandbox and a client on it with the default conflict check.
async fn start() -> (Sandbox, Fusebill) {
    let sb = Sandbox::start().await.unwrap();
    let f = client(&sb);
    (sb, f)
}

fn seed_id() -> CustomerId {
    CustomerId::new(SEED_CUSTOMER_ID)
}

/// `(method, path)` of every journaled request.
/// The journal entry of a GET of the seed customer.
fn get_seed() -> (String, String) {
    call("GET", GET_SEED)
}

/// The journal entry of a customer PUT.
fn put() -> (String, String) {
    call("PUT", "/v1/customers")
}

/// The seed customer as the emulator holds it now.
fn stored_seed(h: &VendorHandle) -> Value {
    h.customer(SEED_CUSTOMER_ID).unwrap()
}

fn put_bodies(h: &VendorHandle) -> Vec<Value> {
    h.journal()
        .into_iter()
        .filter(|e| e.method == "PUT")
        .map(|e| e.body.expect("PUT body is JSON"))
        .collect()
}

/// Applies `patch` to the seed customer on a cleared journal and checks
/// it was a no-op: only the `GET` went out and no write is reported.
async fn update_sends_only_the_get(
    f: &Fusebill,
    fb: &VendorHandle,
    patch: &CustomerPatch,
) -> UpdateOutcome {
    fb.clear_journal();
    let outcome = f
        .update_with(&seed_id(), patch, &UpdateOptions::default())
        .await
        .unwrap();
    assert_eq!(calls(fb), vec![get_seed()], "{patch:?}");
    assert!(outcome.writes.is_empty(), "{patch:?}");
    outcome
}

#[tokio::test]
async fn first_name_update_sends_back_the_get_answer_except_first_name() {
    let (sb, f) = start().await;
    let fb = sb.fusebill();
    let before = stored_seed(fb);

    let outcome = f
        .update_with(
            &seed_id(),
            &CustomerPatch::new().first_name("Kate"),
            &UpdateOptions::default(),
        )
        .await
        .unwrap();

    // Nothing delayed the write: no second read.
    assert_eq!(calls(fb), vec![get_seed(), put()]);
    let mut expected = before.clone();
    expected["firstName"] = json!("Kate");
    let puts = put_bodies(fb);
    assert_eq!(puts, vec![expected.clone()]);
    // Types as received: numbers stay numbers.
    assert_eq!(puts[0]["primaryPhone"], json!(9964413586u64));
    assert_eq!(puts[0]["reference"], json!(100986));
    assert_eq!(puts[0]["salesforceId"], json!(12345678));
    assert_eq!(puts[0]["geotabId"], json!("7813"));
    assert_eq!(outcome.writes.len(), 1);
    assert_eq!(outcome.writes[0].body.as_ref(), Some(&expected));
    assert!(outcome.writes[0].url.ends_with("/v1/customers"));

    // Fusebill kept everything else.
    let after = stored_seed(fb);
    let mut after_cmp = after.clone();
    after_cmp["modifiedTimestamp"] = before["modifiedTimestamp"].clone();
    assert_eq!(after_cmp, expected);
    assert_eq!(outcome.customer.first_name.as_deref(), Some("Kate"));
    assert_eq!(outcome.customer.last_name.as_deref(), Some("Floyd"));
    assert_eq!(outcome.customer.raw, after);
}

#[tokio::test]
async fn no_op_patch_sends_only_the_get() {
    let (sb, f) = start().await;
    let fb = sb.fusebill();
    let patches = [
        CustomerPatch::new().first_name("Katelyn"),
        // Already null: clearing changes nothing.
        CustomerPatch::new().clear_campaign(),
        CustomerPatch::new()
            .status(CustomerStatus::Active)
            .currency("USD"),
        CustomerPatch::new().extension(FusebillExtension::new().reference2("customValue")),
        CustomerPatch::new(),
    ];
    for patch in patches {
        let outcome = update_sends_only_the_get(&f, fb, &patch).await;
        assert!(!outcome.changed());
        assert_eq!(outcome.customer.first_name.as_deref(), Some("Katelyn"));
    }
}

#[tokio::test]
async fn clearing_sales_tracking_codes_the_customer_lacks_sends_no_put() {
    let (sb, f) = start().await;
    let fb = sb.fusebill();
    let clear =
        CustomerPatch::new().extension(FusebillExtension::new().clear_sales_tracking_codes());
    // The seed holds `[]`; a customer whose reference block is null (as a
    // PUT that left it out makes it) or lacks the list holds none either.
    let states = [
        json!(null),
        json!({"reference1": "customValue"}),
        json!({"reference1": "customValue", "salesTrackingCodes": null}),
    ];
    for state in states {
        fb.update_customer(SEED_CUSTOMER_ID, |c| c["customerReference"] = state.clone());
        let before = stored_seed(fb);
        update_sends_only_the_get(&f, fb, &clear).await;
        assert_eq!(stored_seed(fb), before, "{state}");
    }
}

#[tokio::test]
async fn clearing_a_field_fusebill_holds_as_an_empty_string_sends_no_put() {
    let (sb, f) = start().await;
    let fb = sb.fusebill();
    fb.update_customer(SEED_CUSTOMER_ID, |c| {
        c["middleName"] = json!("");
        c["customerAcquisition"]["medium"] = json!("");
    });
    let clear = CustomerPatch::new().clear_middle_name().clear_medium();
    let outcome = update_sends_only_the_get(&f, fb, &clear).await;
    // `""` reads as no value: the clear is already true.
    assert_eq!(outcome.customer.middle_name, None);
}

#[tokio::test]
async fn setting_the_text_of_a_number_fusebill_holds_changes_nothing() {
    let (sb, f) = start().await;
    let fb = sb.fusebill();
    // The seed answers these as JSON numbers; the neutral customer reads
    // them as this text.
    let same = CustomerPatch::new()
        .phone("9964413586")
        .secondary_phone("9555473089")
        .external_reference("100986");
    let outcome = update_sends_only_the_get(&f, fb, &same).await;
    assert_eq!(outcome.customer.phone.as_deref(), Some("9964413586"));

    // Alongside a real change, they go back as the numbers they were.
    fb.clear_journal();
    f.update(&seed_id(), &same.first_name("Kate"))
        .await
        .unwrap();
    let puts = put_bodies(fb);
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0]["primaryPhone"], json!(9964413586u64));
    assert_eq!(puts[0]["secondaryPhone"], json!(9555473089u64));
    assert_eq!(puts[0]["reference"], json!(100986));
    assert_eq!(puts[0]["firstName"], json!("Kate"));
}

#[tokio::test]
async fn concurrent_edit_between_get_and_put_is_merged_over() {
    let sb = Sandbox::start().await.unwrap();
    let f = client_rereading(&sb, ConflictCheck::default());
    let fb = sb.fusebill();
    fb.on_next_request(RequestMatcher::new("GET", GET_SEED), |h| {
        h.update_customer(SEED_CUSTOMER_ID, |c| {
            c["lastName"] = json!("Floyd-Smith");
            c["customerAcquisition"]["source"] = json!("partner");
        });
    });

    let customer = f
        .update(
            &seed_id(),
            &CustomerPatch::new().first_name("Kate").campaign("spring"),
        )
        .await
        .unwrap();

    // Read, re-read (changed: merge again), re-read (unchanged), write.
    assert_eq!(calls(fb), vec![get_seed(), get_seed(), get_seed(), put()]);
    let put = &put_bodies(fb)[0];
    assert_eq!(
        put["lastName"],
        json!("Floyd-Smith"),
        "the other user's edit survives"
    );
    assert_eq!(put["customerAcquisition"]["source"], json!("partner"));
    assert_eq!(put["firstName"], json!("Kate"), "our edit applies");
    assert_eq!(put["customerAcquisition"]["campaign"], json!("spring"));
    let stored = stored_seed(fb);
    assert_eq!(stored["lastName"], json!("Floyd-Smith"));
    assert_eq!(stored["firstName"], json!("Kate"));
    assert_eq!(customer.last_name.as_deref(), Some("Floyd-Smith"));
    assert_eq!(customer.acquisition.campaign.as_deref(), Some("spring"));
}

/// Edits the seed customer after every GET of it, forever.
fn churn(h: &VendorHandle) {
    h.update_customer(SEED_CUSTOMER_ID, |c| {
        let n = c["middleName"].as_str().map_or(0, str::len);
        c["middleName"] = json!("K".repeat(n % 40 + 1));
    });
    h.on_next_request(RequestMatcher::new("GET", GET_SEED), churn);
}

#[tokio::test]
async fn a_customer_that_keeps_changing_is_a_conflict_and_nothing_is_written() {
    let sb = Sandbox::start().await.unwrap();
    let f = client_rereading(&sb, ConflictCheck::default());
    let fb = sb.fusebill();
    fb.on_next_request(RequestMatcher::new("GET", GET_SEED), churn);

    let err = f
        .update(&seed_id(), &CustomerPatch::new().first_name("Kate"))
        .await
        .unwrap_err();
    match &err {
        Error::Conflict { backend, message } => {
            assert_eq!(backend.as_str(), "fusebill");
            assert!(message.contains("3 rounds"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(calls(fb), vec![get_seed(); 4]);
    assert_eq!(stored_seed(fb)["firstName"], json!("Katelyn"));
}

/// An outside edit lands right after unibill's read, and the client's
/// rate limit holds the `PUT` back past `max_read_age`: the age is checked
/// after that wait, so the customer is read again and the edit merged (or
/// the update is a `Conflict`), never overwritten by an `Ok` update.
#[tokio::test]
async fn an_edit_before_a_write_delayed_past_the_bound_is_merged() {
    let sb = Sandbox::start().await.unwrap();
    let fb = sb.fusebill();
    let f = Fusebill::builder()
        .api_key(FUSEBILL_API_KEY)
        .base_url(fb.base_url())
        .settings(Settings {
            // One request per 300 ms: the `PUT` waits about 300 ms for its
            // slot, three times the bound.
            rate_limit: Some(Some(unibill_core::transport::RateLimit {
                requests: 1,
                per: Duration::from_millis(300),
            })),
            max_read_age: Duration::from_millis(100),
            ..fast_settings()
        })
        .build()
        .unwrap();
    fb.on_next_request(RequestMatcher::new("GET", GET_SEED), |h| {
        h.update_customer(SEED_CUSTOMER_ID, |c| c["lastName"] = json!("Floyd-Smith"));
    });
    let result = f
        .update(&seed_id(), &CustomerPatch::new().first_name("Kate"))
        .await;
    let stored = stored_seed(fb);
    assert_eq!(
        stored["lastName"],
        json!("Floyd-Smith"),
        "the outside edit was lost"
    );
    match result {
        Ok(customer) => {
            assert_eq!(stored["firstName"], json!("Kate"));
            assert_eq!(customer.last_name.as_deref(), Some("Floyd-Smith"));
            // Read, re-read (changed), re-read (its slot came after the
            // bound too; unchanged), write.
            assert_eq!(calls(fb), vec![get_seed(), get_seed(), get_seed(), put()]);
        }
        Err(e) => assert!(matches!(e, Error::Conflict { .. }), "{e:?}"),
    }
}

#[tokio::test]
async fn a_concurrent_edit_that_already_made_the_change_is_a_no_op_not_a_conflict() {
    // Someone else writes the very value this patch sets between the read
    // and the re-read (two workers syncing the same change), on the last
    // round: nothing is left to write, so the update succeeds without a
    // PUT instead of failing with a conflict.
    for rounds in [1, 3] {
        let sb = Sandbox::start().await.unwrap();
        let fb = sb.fusebill();
        let f = client_rereading(&sb, ConflictCheck::Reread { max_rounds: rounds });
        // Every read but the last is followed by an unrelated edit; the
        // last by the same edit the patch makes.
        fn same_edit(h: &VendorHandle) {
            h.update_customer(SEED_CUSTOMER_ID, |c| c["firstName"] = json!("Kate"));
        }
        fn churn_then_same(h: &VendorHandle, left: u32) {
            if left == 0 {
                same_edit(h);
                return;
            }
            h.update_customer(SEED_CUSTOMER_ID, |c| {
                c["middleName"] = json!(format!("K{left}"));
            });
            h.on_next_request(RequestMatcher::new("GET", GET_SEED), move |h| {
                churn_then_same(h, left - 1)
            });
        }
        fb.on_next_request(RequestMatcher::new("GET", GET_SEED), move |h| {
            churn_then_same(h, rounds - 1)
        });

        let outcome = f
            .update_with(
                &seed_id(),
                &CustomerPatch::new().first_name("Kate"),
                &UpdateOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("{rounds} rounds: {e:?}"));
        assert!(outcome.writes.is_empty(), "{rounds} rounds");
        assert_eq!(outcome.customer.first_name.as_deref(), Some("Kate"));
        assert_eq!(calls(fb), vec![get_seed(); rounds as usize + 1]);
    }
}

#[tokio::test]
async fn conflict_check_off_is_get_then_put() {
    let sb = Sandbox::start().await.unwrap();
    let fb = sb.fusebill();
    let f = client_with(&sb, FUSEBILL_API_KEY, ConflictCheck::Off);
    f.update(&seed_id(), &CustomerPatch::new().phone("+1 613 555 0100"))
        .await
        .unwrap();
    assert_eq!(calls(fb), vec![get_seed(), put()]);
    // Set by the patch: now a string.
    assert_eq!(put_bodies(fb)[0]["primaryPhone"], json!("+1 613 555 0100"));
    assert_eq!(put_bodies(fb)[0]["secondaryPhone"], json!(9555473089u64));
}

#[tokio::test]
async fn invalid_patches_fail_before_any_request() {
    let (sb, f) = start().await;
    let fb = sb.fusebill();
    let validation: Vec<(CustomerId, CustomerPatch, &str)> = vec![
        (
            seed_id(),
            CustomerPatch::new().status(CustomerStatus::Suspended),
            "status",
        ),
        (
            seed_id(),
            CustomerPatch::new().first_name("x".repeat(51)),
            "first_name",
        ),
        (
            seed_id(),
            CustomerPatch::new().last_name("y".repeat(51)),
            "last_name",
        ),
        (
            seed_id(),
            CustomerPatch::new().company("z".repeat(51)),
            "company",
        ),
        (seed_id(), CustomerPatch::new().title("Sir"), "title"),
        (seed_id(), CustomerPatch::new().email("katelyn"), "email"),
        (seed_id(), CustomerPatch::new().currency("usd"), "currency"),
        (
            seed_id(),
            CustomerPatch::new().campaign("c".repeat(256)),
            "acquisition.campaign",
        ),
        (
            seed_id(),
            CustomerPatch::new().extension(FusebillExtension::new().sales_tracking_codes(
                (1..=6).map(|i| SalesTrackingCode::new(format!("Sales Tracking Code {i}"), "c")),
            )),
            "extensions.fusebill.sales_tracking_codes",
        ),
        (
            seed_id(),
            CustomerPatch::new().extension(FusebillExtension::new().parent_id(12000750u64)),
            "extensions.fusebill.parent_id",
        ),
        (
            CustomerId::new("cus_123"),
            CustomerPatch::new().first_name("Kate"),
            "id",
        ),
        (
            CustomerId::new("012000750"),
            CustomerPatch::new().first_name("Kate"),
            "id",
        ),
        (
            CustomerId::new("../1"),
            CustomerPatch::new().first_name("Kate"),
            "id",
        ),
    ];
    for (id, patch, field) in validation {
        for dry in [false, true] {
            let err = if dry {
                f.dry_run(&id, &patch, &UpdateOptions::default())
                    .await
                    .unwrap_err()
            } else {
                f.update(&id, &patch).await.unwrap_err()
            };
            match err {
                Error::Validation { field: got, reason } => {
                    assert_eq!(got, field, "{reason}");
                    if field == "status" {
                        assert!(reason.contains("suspends customers itself"), "{reason}");
                    }
                }
                other => panic!("{field}: expected a validation error, got {other:?}"),
            }
        }
    }
    let unsupported = [
        (CustomerPatch::new().add_tag("vip"), Field::Tags),
        (
            CustomerPatch::new().custom("CAC", 25),
            Field::CustomAttributes,
        ),
        (
            CustomerPatch::new().name("Katelyn Floyd"),
            Field::DisplayName,
        ),
        (CustomerPatch::new().city("Ottawa"), Field::City),
        (CustomerPatch::new().clear_status(), Field::Status),
        (CustomerPatch::new().clear_currency(), Field::Currency),
    ];
    for (patch, field) in unsupported {
        match f.update(&seed_id(), &patch).await.unwrap_err() {
            Error::Unsupported { field: got, .. } => assert_eq!(got, field),
            other => panic!("{field}: expected unsupported, got {other:?}"),
        }
    }
    assert!(f.get(&CustomerId::new("abc")).await.is_err());
    assert_eq!(fb.journal(), vec![], "nothing reached the vendor");
}

#[tokio::test]
async fn ignored_unsupported_fields_are_listed_and_the_rest_applies() {
    let (sb, f) = start().await;
    let outcome = f
        .update_with(
            &seed_id(),
            &CustomerPatch::new().add_tag("vip").suffix("Jr."),
            &UpdateOptions::ignore_unsupported(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.ignored.len(), 1);
    assert_eq!(
        (outcome.ignored[0].field, outcome.ignored[0].op),
        (Field::Tags.into(), Op::Set)
    );
    assert_eq!(put_bodies(sb.fusebill())[0]["suffix"], json!("Jr."));
}

/// Standard base64, to build a key encoded a second time.
fn base64(input: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
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
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn error_statuses_map_to_neutral_errors() {
    let sb = Sandbox::start().await.unwrap();
    let fb = sb.fusebill();

    // 401: a wrong key, and the right key base64-encoded again.
    let double = base64(FUSEBILL_API_KEY.as_bytes());
    assert_eq!(base64(b"Man"), "TWFu");
    assert_eq!(base64(b"Ma"), "TWE=");
    for key in ["d3Jvbmc=", double.as_str()] {
        let err = client_with(&sb, key, ConflictCheck::default())
            .get(&seed_id())
            .await
            .unwrap_err();
        match &err {
            Error::Unauthorized {
                status, message, ..
            } => {
                assert_eq!(*status, 401);
                assert!(message.contains("API key"), "{message}");
            }
            other => panic!("expected unauthorized, got {other:?}"),
        }
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains(key) && !shown.contains(FUSEBILL_API_KEY),
            "{shown}"
        );
    }
    let f = client(&sb);
    assert_eq!(
        f.get(&seed_id()).await.unwrap().first_name.as_deref(),
        Some("Katelyn")
    );

    // 404.
    match f
        .update(
            &CustomerId::new("4242"),
            &CustomerPatch::new().first_name("X"),
        )
        .await
    {
        Err(Error::NotFound { id, .. }) => assert_eq!(id, "4242"),
        other => panic!("expected not found, got {other:?}"),
    }

    // 409 on the PUT: a business rule, with Fusebill's text.
    fb.clear_journal();
    fb.inject(Fault::status(409).matching("PUT", "/v1/customers"));
    match f
        .update(&seed_id(), &CustomerPatch::new().first_name("X"))
        .await
    {
        Err(Error::Conflict { message, .. }) => {
            assert!(message.starts_with("Api Error: "), "{message}")
        }
        other => panic!("expected conflict, got {other:?}"),
    }
    assert_eq!(put_bodies(fb).len(), 1);

    // 400 from Fusebill's own validation (a sales tracking code type the
    // account does not have): the vendor's messages, keyed.
    let patch = CustomerPatch::new().extension(
        FusebillExtension::new().sales_tracking_codes([SalesTrackingCode::new("Region", "EAST")]),
    );
    match f.update(&seed_id(), &patch).await {
        Err(Error::Vendor {
            status, messages, ..
        }) => {
            assert_eq!(status, 400);
            assert!(
                messages
                    .iter()
                    .any(|m| m.starts_with("customerReference.salesTrackingCodes[0].type: ")),
                "{messages:?}"
            );
        }
        other => panic!("expected a vendor error, got {other:?}"),
    }

    // A 500 on the PUT is not sent again (it may have applied).
    fb.clear_journal();
    fb.inject(Fault::status(500).matching("PUT", "/v1/customers"));
    match f
        .update(&seed_id(), &CustomerPatch::new().first_name("X"))
        .await
    {
        Err(Error::Vendor { status: 500, .. }) => {}
        other => panic!("expected a 500, got {other:?}"),
    }
    assert_eq!(put_bodies(fb).len(), 1);

    // A 503 on a GET is retried.
    fb.clear_journal();
    fb.inject(Fault::status(503).matching("GET", GET_SEED));
    assert!(f.get(&seed_id()).await.is_ok());
    assert_eq!(calls(fb), vec![get_seed(); 2]);
}

#[tokio::test]
async fn a_429_without_retry_after_waits_for_the_reset_header() {
    let sb = Sandbox::start().await.unwrap();
    let fb = sb.fusebill();
    let f = Fusebill::builder()
        .api_key(FUSEBILL_API_KEY)
        .base_url(fb.base_url())
        .settings(Settings {
            rate_limit: Some(None),
            ..fast_settings()
        })
        .build()
        .unwrap();
    // One request a second: the re-read is refused with 429 and
    // `X-Rate-Limit-Reset-Minute: 1`. Backoff alone (10-50 ms, 4 attempts)
    // would give up; waiting for the reset gets through.
    fb.set_rate_limit(Some(RateLimit::new(1, Duration::from_secs(1))));
    f.update(&seed_id(), &CustomerPatch::new().first_name("Kate"))
        .await
        .unwrap();
    let journal = fb.journal();
    assert!(journal
        .iter()
        .any(|e| e.status == 429 && e.fault.as_deref() == Some("rate_limit")));
    assert!(journal.iter().any(|e| e.method == "PUT" && e.status == 200));
    assert!(f.retries() >= 1);
    fb.set_rate_limit(None);

    // Retries exhausted: RateLimited with the wait Fusebill announced.
    fb.clear_journal();
    fb.inject(Fault::status(429).times(10).matching("GET", GET_SEED));
    match f.get(&seed_id()).await {
        Err(Error::RateLimited { retry_after, .. }) => {
            // The emulator's window is empty: the reset is a full minute,
            // above max_retry_after (5 s), so it is not waited out.
            assert_eq!(retry_after, Some(Duration::from_secs(60)));
        }
        other => panic!("expected rate limited, got {other:?}"),
    }
    assert_eq!(fb.journal().len(), 1);
}

#[tokio::test]
async fn dry_run_reads_and_never_writes() {
    let (sb, f) = start().await;
    let fb = sb.fusebill();
    let before = stored_seed(fb);
    let dry = f
        .dry_run(
            &seed_id(),
            &CustomerPatch::new().title("Dr").clear_secondary_phone(),
            &UpdateOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(calls(fb), vec![get_seed()]);
    let mut expected = before.clone();
    expected["title"] = json!("Dr");
    expected["secondaryPhone"] = Value::Null;
    assert_eq!(dry.writes.len(), 1);
    assert_eq!(dry.writes[0].method, "PUT");
    assert_eq!(dry.writes[0].url, format!("{}/v1/customers", fb.base_url()));
    assert_eq!(dry.writes[0].body.as_ref(), Some(&expected));
    assert_eq!(stored_seed(fb), before);
    let none = f
        .dry_run(
            &seed_id(),
            &CustomerPatch::new().title("Miss"),
            &UpdateOptions::default(),
        )
        .await
        .unwrap();
    assert!(none.writes.is_empty());
}

#[tokio::test]
async fn extension_fields_and_acquisition_are_written_in_place() {
    let (sb, f) = start().await;
    let fb = sb.fusebill();
    let before = stored_seed(fb);
    let patch = CustomerPatch::new()
        .status(CustomerStatus::Hold)
        .landing_page("/pricing")
        .clear_external_reference()
        .extension(
            FusebillExtension::new()
                .reference1("crm-991")
                .clear_reference2()
                .sales_tracking_codes([SalesTrackingCode::new("Sales Tracking Code 2", "EAST")])
                .clear_parent_id(),
        );
    let customer = f.update(&seed_id(), &patch).await.unwrap();
    let mut expected = before.clone();
    expected["status"] = json!("Hold");
    expected["customerAcquisition"]["landingPage"] = json!("/pricing");
    expected["reference"] = Value::Null;
    expected["customerReference"]["reference1"] = json!("crm-991");
    expected["customerReference"]["reference2"] = Value::Null;
    expected["customerReference"]["salesTrackingCodes"] =
        json!([{"type": "Sales Tracking Code 2", "code": "EAST"}]);
    expected["parentId"] = Value::Null;
    assert_eq!(put_bodies(fb), vec![expected]);
    assert_eq!(customer.status, Some(CustomerStatus::Hold));
    assert_eq!(customer.external_reference, None);
    assert_eq!(
        customer.acquisition.landing_page.as_deref(),
        Some("/pricing")
    );
    let stored = stored_seed(fb);
    assert_eq!(stored["customerReference"]["reference1"], json!("crm-991"));
    assert_eq!(
        stored["customerReference"]["uri"],
        before["customerReference"]["uri"]
    );

    // Re-attach to the parent.
    let patch = CustomerPatch::new()
        .extension(FusebillExtension::new().parent_id(PARENT_CUSTOMER_ID.parse::<u64>().unwrap()));
    f.update(&seed_id(), &patch).await.unwrap();
    assert_eq!(stored_seed(fb)["parentId"], json!(12000749));
}

#[tokio::test]
async fn an_unreadable_put_answer_is_read_back() {
    let (sb, f) = start().await;
    let fb = sb.fusebill();
    fb.inject(Fault::garbage_body().matching("PUT", "/v1/customers"));
    let customer = f
        .update(&seed_id(), &CustomerPatch::new().first_name("Kate"))
        .await
        .unwrap();
    assert_eq!(customer.first_name.as_deref(), Some("Kate"));
    assert_eq!(calls(fb), vec![get_seed(), put(), get_seed()]);

    // Read-back failing too (a 404 injected once the PUT is handled): a
    // partial update naming what applied.
    let f2 = client_with(&sb, FUSEBILL_API_KEY, ConflictCheck::Off);
    fb.inject(Fault::garbage_body().matching("PUT", "/v1/customers"));
    fb.on_next_request(RequestMatcher::new("PUT", "/v1/customers"), |h| {
        h.inject(Fault::status(404).matching("GET", GET_SEED));
    });
    match f2
        .update(&seed_id(), &CustomerPatch::new().first_name("Kit"))
        .await
    {
        Err(Error::PartialUpdate {
            applied,
            failed,
            source,
            ..
        }) => {
            assert_eq!(applied, vec!["PUT /v1/customers".to_owned()]);
            assert_eq!(failed, "GET /v1/customers/12000750");
            assert!(matches!(*source, Error::NotFound { .. }), "{source:?}");
        }
        other => panic!("expected a partial update, got {other:?}"),
    }
    assert_eq!(stored_seed(fb)["firstName"], json!("Kit"));
}

#[tokio::test]
async fn find_by_reference_matches_numeric_references() {
    let (sb, f) = start().await;
    let found = f.find_by_reference("100986").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_str(), SEED_CUSTOMER_ID);
    assert_eq!(found[0].external_reference.as_deref(), Some("100986"));
    assert!(f.find_by_reference("RG 0001/x").await.unwrap().is_empty());
    // Fusebill's query reads `*` as a wildcard and documents no escape: a
    // reference holding it is refused before anything is sent (`*` alone
    // would list the whole account).
    let before = sb.fusebill().journal().len();
    for wild in ["RG*", "*"] {
        let err = f.find_by_reference(wild).await.unwrap_err();
        assert!(err.to_string().contains("wildcard"), "{err}");
    }
    assert_eq!(sb.fusebill().journal().len(), before);
    let found = f.find_by_reference("RG-0001").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_str(), PARENT_CUSTOMER_ID);
    // `;` separates filter pairs: refused before anything is sent.
    let before = sb.fusebill().journal().len();
    let err = f
        .find_by_reference("RG-0001;status:Active")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("external_reference"), "{err}");
    assert_eq!(sb.fusebill().journal().len(), before);
    let raw = f.get_raw(&seed_id()).await.unwrap();
    assert_eq!(raw, stored_seed(sb.fusebill()));
}
