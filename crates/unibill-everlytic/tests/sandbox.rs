//! The Everlytic backend against the sandbox's emulator: exact requests
//! (journal), answer shapes, errors, and nothing sent for refused patches.

use serde_json::{json, Value};
use unibill_core::transport::RetryConfig;
use unibill_core::Backend;
use unibill_core::Settings;
use unibill_core::{
    Change, ConflictCheck, CustomerId, CustomerPatch, CustomerStatus, CustomerUpdater, DryRun,
    Error, Field, Op, UpdateOptions,
};
use unibill_core::{ListOptions, ListPage};
use unibill_everlytic::{Everlytic, EverlyticExtension, EverlyticFields, Industry, IndustryValue};
use unibill_sandbox::everlytic::{SEED_CUSTOMER_EMAIL, SEED_CUSTOMER_ID};
use unibill_sandbox::{
    Fault, JournalEntry, PutShape, RequestMatcher, Sandbox, VendorHandle, EVERLYTIC_API_KEY,
    EVERLYTIC_USERNAME,
};
use unibill_testkit::fast_settings;

use unibill_core::BackendBuilder;
use unibill_testkit::calls_in;

const SEED_NAME: &str = "Cape Mailers (Pty) Ltd";

/// A client without the concurrent-edit re-read, so that the journal of
/// an update that reads first is exactly `GET`, `PUT` (the re-read has
/// tests of its own, with [`checked_client`]).
fn client(ev: &VendorHandle) -> Everlytic {
    builder(ev)
        .conflict_check(ConflictCheck::Off)
        .build()
        .unwrap()
}

/// A client with the default concurrent-edit check that reads the
/// customer again before every write (a zero `max_read_age`), for the
/// tests of what the re-read does.
fn checked_client(ev: &VendorHandle) -> Everlytic {
    builder(ev)
        .settings(Settings {
            max_read_age: std::time::Duration::ZERO,
            ..fast_settings()
        })
        .build()
        .unwrap()
}

fn builder(ev: &VendorHandle) -> unibill_everlytic::EverlyticBuilder {
    Everlytic::builder()
        .base_url(ev.base_url())
        .username(EVERLYTIC_USERNAME)
        .api_key(EVERLYTIC_API_KEY)
        .settings(fast_settings())
}

fn seed() -> CustomerId {
    CustomerId::new(SEED_CUSTOMER_ID)
}

fn path(id: &str) -> String {
    format!("/api/2.0/customers/{id}")
}

/// `(method, path)` of every journaled request.
/// `(method, path)` of a request on customer `id`.
fn call(method: &str, id: &str) -> (String, String) {
    (method.to_owned(), path(id))
}

fn get_put(id: &str) -> Vec<(String, String)> {
    vec![call("GET", id), call("PUT", id)]
}

/// Asserts the journal is a GET then a PUT of the seed customer with
/// `body`, and returns the PUT.
fn assert_get_then_put(ev: &VendorHandle, body: Value) -> JournalEntry {
    let j = ev.journal();
    assert_eq!(calls_in(&j), get_put(SEED_CUSTOMER_ID));
    assert_eq!(j[1].body, Some(body));
    j[1].clone()
}

/// The dry run of `patch` on the seed customer, with default options.
async fn dry_run_seed(everlytic: &Everlytic, patch: &CustomerPatch) -> DryRun {
    everlytic
        .dry_run(&seed(), patch, &UpdateOptions::default())
        .await
        .unwrap()
}

/// The seed customer as the emulator holds it now.
fn stored_seed(ev: &VendorHandle) -> Value {
    ev.customer(SEED_CUSTOMER_ID).unwrap()
}

/// A patch that names the seed customer's own name and email, so the
/// PUT needs no read first.
fn seed_name_and_email() -> CustomerPatch {
    CustomerPatch::new()
        .name(SEED_NAME)
        .email(SEED_CUSTOMER_EMAIL)
}

type Platform = (
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<IndustryValue>,
    Option<bool>,
);

/// The platform-only fields of a customer, in the order of
/// [`EverlyticFields`].
fn platform(c: &unibill_core::Customer) -> Platform {
    let f = EverlyticFields::from_customer(c);
    (
        f.email_package_id,
        f.email_quota,
        f.sms_quota,
        f.transactions_package_id,
        f.transactions_quota,
        f.industry,
        f.deleted,
    )
}

fn quota(n: u64) -> CustomerPatch {
    CustomerPatch::new().extension(EverlyticExtension::new().email_quota(n))
}

#[tokio::test]
async fn seeded_customer_decodes_with_every_value_and_raw() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let c = client(ev).get(&seed()).await.unwrap();

    assert_eq!(c.id, seed());
    assert_eq!(c.name.as_deref(), Some(SEED_NAME));
    assert_eq!(c.email.as_deref(), Some(SEED_CUSTOMER_EMAIL));
    assert_eq!(c.status, Some(CustomerStatus::Active));
    assert_eq!(
        c.address.line1.as_deref(),
        Some("12 Loop Street, Cape Town City Centre")
    );
    assert_eq!(c.address.region.as_deref(), Some("Western Cape"));
    assert_eq!(c.address.postal_code.as_deref(), Some("8001"));
    assert_eq!(c.address.country.as_deref(), Some("ZA"));
    assert_eq!(c.phone.as_deref(), Some("+27 21 555 0100"));
    assert_eq!(
        c.website.as_deref(),
        Some("https://capemailers.example.com")
    );
    assert_eq!(c.external_reference.as_deref(), Some("CM-0001"));
    // Fields the platform does not have stay empty.
    assert_eq!(c.company, None);
    assert_eq!(c.address.city, None);
    assert!(c.tags.is_empty() && c.custom.is_empty());

    // raw is the whole answer: the envelope, its links and the item.
    let stored = stored_seed(ev);
    assert_eq!(c.raw["item"], stored);
    assert_eq!(c.raw["links"][0]["rel"], "self");
    assert_eq!(
        c.raw["links"][0]["href"],
        format!("{}{}", ev.base_url(), path(SEED_CUSTOMER_ID))
    );

    assert_eq!(
        platform(&c),
        (
            Some(3),
            Some(50000),
            Some(2000),
            Some(2),
            Some(10000),
            Some(IndustryValue::Known(Industry::HospitalityTravelTourism)),
            Some(false)
        )
    );

    // Every stored property is accounted for: neutral fields + platform
    // fields + id.
    let keys: Vec<&str> = stored
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 18, "{keys:?}");

    let j = ev.journal();
    assert_eq!(calls_in(&j), [call("GET", SEED_CUSTOMER_ID)]);
    assert_eq!(j[0].header("accept"), Some("application/json"));
    assert_eq!(j[0].header("authorization"), Some("Basic ***"));
    assert_eq!(j[0].status, 200);
}

#[tokio::test]
async fn quota_only_patch_reads_then_puts_name_email_and_quota() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let out = client(ev)
        .update_with(&seed(), &quota(75_000), &UpdateOptions::default())
        .await
        .unwrap();

    let put = assert_get_then_put(
        ev,
        json!({"name": SEED_NAME, "email": SEED_CUSTOMER_EMAIL, "email_quota": 75000}),
    );
    assert_eq!(put.header("content-type"), Some("application/json"));
    assert_eq!(out.writes.len(), 1);
    assert_eq!(out.writes[0].method, "PUT");
    assert_eq!(
        out.writes[0].url,
        format!("{}{}", ev.base_url(), path(SEED_CUSTOMER_ID))
    );
    assert_eq!(out.writes[0].body, put.body);
    assert_eq!(
        EverlyticFields::from_customer(&out.customer).email_quota,
        Some(75000)
    );
    assert_eq!(stored_seed(ev)["email_quota"], 75000);
}

#[tokio::test]
async fn patch_setting_name_and_email_sends_one_put() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let patch = CustomerPatch::new()
        .name("Cape Mailers Group")
        .email("billing@capemailers.example.com")
        .phone("+27 21 555 0111");
    let c = client(ev).update(&seed(), &patch).await.unwrap();

    let j = ev.journal();
    assert_eq!(calls_in(&j), [call("PUT", SEED_CUSTOMER_ID)]);
    assert_eq!(
        j[0].body,
        Some(json!({
            "name": "Cape Mailers Group",
            "email": "billing@capemailers.example.com",
            "telephone": "+27 21 555 0111"
        }))
    );
    assert_eq!(c.name.as_deref(), Some("Cape Mailers Group"));
    assert_eq!(c.email.as_deref(), Some("billing@capemailers.example.com"));
    assert_eq!(c.phone.as_deref(), Some("+27 21 555 0111"));
    // Untouched values survive.
    assert_eq!(c.external_reference.as_deref(), Some("CM-0001"));
}

#[tokio::test]
async fn one_required_property_in_the_patch_reads_the_other() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let patch = CustomerPatch::new().name("Cape Mailers Group");
    client(ev).update(&seed(), &patch).await.unwrap();
    assert_get_then_put(
        ev,
        json!({"name": "Cape Mailers Group", "email": SEED_CUSTOMER_EMAIL}),
    );
}

#[tokio::test]
async fn every_neutral_and_platform_field_is_written_and_read_back() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let patch = CustomerPatch::new()
        .status(CustomerStatus::Suspended)
        .address_line1("1 Long Street")
        .region("Gauteng")
        .postal_code("2000")
        .country("NA")
        .website("https://cm.example.com")
        .external_reference("CM-9")
        .extension(
            EverlyticExtension::new()
                .email_package_id(4)
                .email_quota(1)
                .sms_quota(0)
                .transactions_package_id(5)
                .transactions_quota(6)
                .industry(Industry::IndustryTradeManufacture)
                .deleted(true),
        );
    let c = client(ev).update(&seed(), &patch).await.unwrap();
    assert_get_then_put(
        ev,
        json!({
            "name": SEED_NAME, "email": SEED_CUSTOMER_EMAIL, "status": "suspended",
            "address": "1 Long Street", "state_provinces": "Gauteng", "postal_code": "2000",
            "country": "NA", "website_url": "https://cm.example.com", "unique_id": "CM-9",
            "email_package_id": 4, "email_quota": 1, "sms_quota": 0,
            "transactions_package_id": 5, "transactions_quota": 6,
            "industry": "Industry, Trade & Manufacture", "deleted": "yes"
        }),
    );
    assert_eq!(c.status, Some(CustomerStatus::Suspended));
    assert_eq!(c.address.line1.as_deref(), Some("1 Long Street"));
    assert_eq!(c.address.region.as_deref(), Some("Gauteng"));
    assert_eq!(c.address.postal_code.as_deref(), Some("2000"));
    assert_eq!(c.address.country.as_deref(), Some("NA"));
    assert_eq!(c.website.as_deref(), Some("https://cm.example.com"));
    assert_eq!(c.external_reference.as_deref(), Some("CM-9"));
    assert_eq!(
        platform(&c),
        (
            Some(4),
            Some(1),
            Some(0),
            Some(5),
            Some(6),
            Some(IndustryValue::Known(Industry::IndustryTradeManufacture)),
            Some(true)
        )
    );
    // Each neutral status reaches the platform as its own value.
    for (status, text) in [
        (CustomerStatus::Inactive, "off"),
        (CustomerStatus::Deleted, "deleted"),
        (CustomerStatus::Active, "on"),
    ] {
        let c = client(ev)
            .update(&seed(), &CustomerPatch::new().status(status.clone()))
            .await
            .unwrap();
        assert_eq!(c.status, Some(status));
        assert_eq!(stored_seed(ev)["status"], text);
    }
}

#[tokio::test]
async fn cleared_strings_are_emptied_on_the_platform() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let patch = CustomerPatch::new()
        .clear_address_line1()
        .clear_region()
        .clear_postal_code()
        .clear_phone()
        .clear_website()
        .clear_external_reference();
    let c = client(ev).update(&seed(), &patch).await.unwrap();
    let put = assert_get_then_put(
        ev,
        json!({
            "name": SEED_NAME, "email": SEED_CUSTOMER_EMAIL, "address": "",
            "state_provinces": "", "postal_code": "", "telephone": "",
            "website_url": "", "unique_id": ""
        }),
    );
    assert_eq!(put.status, 200);
    let stored = stored_seed(ev);
    for key in [
        "address",
        "state_provinces",
        "postal_code",
        "telephone",
        "website_url",
        "unique_id",
    ] {
        assert_eq!(stored[key], "", "{key}");
    }
    assert_eq!(c.address.line1, None);
    assert_eq!(c.address.region, None);
    assert_eq!(c.address.postal_code, None);
    assert_eq!(c.phone, None);
    assert_eq!(c.website, None);
    assert_eq!(c.external_reference, None);
    assert_eq!(c.address.country.as_deref(), Some("ZA"));
}

fn validation_field(e: Error) -> String {
    match e {
        Error::Validation { field, .. } => field,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_input_fails_before_any_request() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let everlytic = client(ev);
    let from_json = |v: Value| -> CustomerPatch { serde_json::from_value(v).unwrap() };
    let cases: Vec<(CustomerPatch, &str)> = vec![
        (
            from_json(json!({"extensions": {"everlytic": {"industry": "Hospitality"}}})),
            "extensions.everlytic.industry",
        ),
        (
            from_json(json!({"extensions": {"everlytic": {"industry": "travel"}}})),
            "extensions.everlytic.industry",
        ),
        (
            from_json(json!({"extensions": {"everlytic": {"email_quota": -5}}})),
            "extensions.everlytic.email_quota",
        ),
        (
            from_json(json!({"extensions": {"everlytic": {"sms_quota": -1}}})),
            "extensions.everlytic.sms_quota",
        ),
        (
            from_json(json!({"extensions": {"everlytic": {"transactions_quota": null}}})),
            "extensions.everlytic.transactions_quota",
        ),
        (
            from_json(json!({"extensions": {"everlytic": {"deleted": "maybe"}}})),
            "extensions.everlytic.deleted",
        ),
        (
            from_json(json!({"extensions": {"everlytic": {"smsQuota": 1}}})),
            "extensions.everlytic.smsQuota",
        ),
        (
            CustomerPatch::new().status(CustomerStatus::Cancelled),
            "status",
        ),
        (from_json(json!({"status": "frozen"})), "status"),
        (CustomerPatch::new().country("France"), "address.country"),
        (CustomerPatch::new().country("XX"), "address.country"),
        (CustomerPatch::new().email("nobody"), "email"),
        (CustomerPatch::new().name("  "), "name"),
    ];
    for (patch, field) in cases {
        let e = everlytic.update(&seed(), &patch).await.unwrap_err();
        assert_eq!(validation_field(e), field);
        let e = everlytic
            .dry_run(&seed(), &patch, &UpdateOptions::default())
            .await
            .unwrap_err();
        assert_eq!(validation_field(e), field);
    }
    for bad_id in ["abc", "10 01", "../1001", "", "-1"] {
        let e = everlytic.get(&CustomerId::new(bad_id)).await.unwrap_err();
        assert_eq!(validation_field(e), "id", "{bad_id:?}");
        let e = everlytic
            .update(&CustomerId::new(bad_id), &quota(1))
            .await
            .unwrap_err();
        assert_eq!(validation_field(e), "id", "{bad_id:?}");
    }
    assert!(ev.journal().is_empty(), "{:?}", calls_in(&ev.journal()));
}

#[tokio::test]
async fn unsupported_fields_are_refused_before_any_request() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let everlytic = client(ev);
    let cases = [
        (CustomerPatch::new().city("Cape Town"), Field::City, Op::Set),
        (
            CustomerPatch::new().company("Acme"),
            Field::Company,
            Op::Set,
        ),
        (CustomerPatch::new().add_tag("vip"), Field::Tags, Op::Set),
        (
            CustomerPatch::new().custom("CAC", 25),
            Field::CustomAttributes,
            Op::Set,
        ),
        (
            CustomerPatch::new().currency("ZAR"),
            Field::Currency,
            Op::Set,
        ),
        (
            CustomerPatch::new().clear_name(),
            Field::DisplayName,
            Op::Clear,
        ),
        (CustomerPatch::new().clear_email(), Field::Email, Op::Clear),
        (
            CustomerPatch::new().clear_status(),
            Field::Status,
            Op::Clear,
        ),
        (
            CustomerPatch::new().clear_country(),
            Field::Country,
            Op::Clear,
        ),
    ];
    for (patch, field, op) in cases {
        match everlytic.update(&seed(), &patch).await {
            Err(Error::Unsupported {
                backend,
                field: f,
                op: o,
            }) => {
                assert_eq!(backend, unibill_everlytic::KIND);
                assert_eq!((f, o), (field.into(), op));
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(ev.journal().is_empty());

    // Opting in to ignoring them applies the rest and says what was left out.
    let patch = CustomerPatch::new().city("Cape Town").postal_code("8005");
    let out = everlytic
        .update_with(&seed(), &patch, &UpdateOptions::ignore_unsupported())
        .await
        .unwrap();
    assert_eq!(out.ignored.len(), 1);
    assert_eq!(
        (out.ignored[0].field, out.ignored[0].op),
        (Field::City.into(), Op::Set)
    );
    assert_eq!(out.customer.address.postal_code.as_deref(), Some("8005"));
    assert_eq!(
        ev.journal()[1].body,
        Some(json!({"name": SEED_NAME, "email": SEED_CUSTOMER_EMAIL, "postal_code": "8005"}))
    );
}

#[tokio::test]
async fn bad_credentials_are_unauthorized_with_the_platform_message() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let everlytic = Everlytic::builder()
        .base_url(ev.base_url())
        .username(EVERLYTIC_USERNAME)
        .api_key("wrong-key")
        .settings(fast_settings())
        .build()
        .unwrap();
    match everlytic.get(&seed()).await {
        Err(Error::Unauthorized {
            backend,
            status,
            message,
        }) => {
            assert_eq!(backend, unibill_everlytic::KIND);
            assert_eq!(status, 401);
            assert_eq!(
                message,
                "Authentication failed: invalid username or API key (code 00401)"
            );
            assert!(!message.contains("wrong-key"));
        }
        other => panic!("{other:?}"),
    }
    let e = everlytic
        .update(
            &seed(),
            &CustomerPatch::new().name("A").email("a@b.example"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Unauthorized { status: 401, .. }),
        "{e:?}"
    );
    assert!(!format!("{e} {e:?}").contains("wrong-key"));
    // Not retried: one request each.
    assert_eq!(
        calls_in(&ev.journal()),
        [call("GET", SEED_CUSTOMER_ID), call("PUT", SEED_CUSTOMER_ID)]
    );
}

#[tokio::test]
async fn missing_customer_is_not_found() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let everlytic = client(ev);
    let missing = CustomerId::new("9999");
    for result in [
        everlytic.get(&missing).await.map(|_| ()),
        everlytic.update(&missing, &quota(1)).await.map(|_| ()),
        everlytic
            .update(
                &missing,
                &CustomerPatch::new().name("A").email("a@b.example"),
            )
            .await
            .map(|_| ()),
    ] {
        match result {
            Err(Error::NotFound { backend, id }) => {
                assert_eq!(backend, unibill_everlytic::KIND);
                assert_eq!(id, "9999");
            }
            other => panic!("{other:?}"),
        }
    }
    // The quota patch stopped at its read: no PUT.
    assert_eq!(
        calls_in(&ev.journal()),
        [
            call("GET", "9999"),
            call("GET", "9999"),
            call("PUT", "9999")
        ]
    );
}

#[tokio::test]
async fn platform_refusal_keeps_its_message() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    // Valid to the client; the platform refuses it with its own words.
    ev.inject(Fault::status(400).matching("PUT", "/api/2.0/customers/"));
    let patch = CustomerPatch::new()
        .name("Someone")
        .email("someone@example.com");
    match client(ev).update(&seed(), &patch).await {
        Err(Error::Vendor {
            backend,
            status,
            messages,
        }) => {
            assert_eq!(backend, unibill_everlytic::KIND);
            assert_eq!(status, 400);
            // The platform's message, with its `error.code` beside it.
            assert_eq!(messages, ["Bad Request (injected fault) (code 00400)"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stored_seed(ev)["email"], SEED_CUSTOMER_EMAIL);
}

#[tokio::test]
async fn every_put_answer_shape_yields_the_customer_as_held_afterwards() {
    for (shape, reads_again) in [
        (PutShape::Wrapped, false),
        (PutShape::Bare, false),
        (PutShape::Integer, true),
    ] {
        let sb = Sandbox::start().await.unwrap();
        let ev = sb.everlytic();
        ev.set_everlytic_put_shape(shape);
        let everlytic = client(ev);

        // Name and email in the patch: no read before the PUT.
        let patch = CustomerPatch::new()
            .name("Cape Mailers Group")
            .email(SEED_CUSTOMER_EMAIL)
            .extension(EverlyticExtension::new().sms_quota(2500));
        let c = everlytic.update(&seed(), &patch).await.unwrap();
        let mut expected = vec![call("PUT", SEED_CUSTOMER_ID)];
        if reads_again {
            expected.push(call("GET", SEED_CUSTOMER_ID));
        }
        assert_eq!(calls_in(&ev.journal()), expected, "{shape:?}");
        assert_eq!(c.id, seed(), "{shape:?}");
        assert_eq!(c.name.as_deref(), Some("Cape Mailers Group"), "{shape:?}");
        assert_eq!(c.email.as_deref(), Some(SEED_CUSTOMER_EMAIL));
        assert_eq!(c.external_reference.as_deref(), Some("CM-0001"));
        assert_eq!(EverlyticFields::from_customer(&c).sms_quota, Some(2500));
        let stored = stored_seed(ev);
        match shape {
            PutShape::Bare => assert_eq!(c.raw, stored),
            _ => assert_eq!(c.raw["item"], stored),
        }

        // Without them: read, PUT, and (integer answer) read again.
        ev.clear_journal();
        let c = everlytic.update(&seed(), &quota(60_000)).await.unwrap();
        let mut expected = get_put(SEED_CUSTOMER_ID);
        if reads_again {
            expected.push(call("GET", SEED_CUSTOMER_ID));
        }
        assert_eq!(calls_in(&ev.journal()), expected, "{shape:?}");
        assert_eq!(EverlyticFields::from_customer(&c).email_quota, Some(60_000));
        assert_eq!(c.name.as_deref(), Some("Cape Mailers Group"));
    }
}

#[tokio::test]
async fn unreadable_put_answer_is_followed_by_a_read() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    ev.inject(Fault::garbage_body().matching("PUT", "/api/2.0/customers"));
    let patch = seed_name_and_email().postal_code("8005");
    let c = client(ev).update(&seed(), &patch).await.unwrap();
    assert_eq!(
        calls_in(&ev.journal()),
        [call("PUT", SEED_CUSTOMER_ID), call("GET", SEED_CUSTOMER_ID)]
    );
    assert_eq!(c.address.postal_code.as_deref(), Some("8005"));
}

#[tokio::test]
async fn failed_read_after_the_put_is_a_partial_update() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    ev.set_everlytic_put_shape(PutShape::Integer);
    ev.inject(Fault::status(500).matching("GET", "/api/2.0/customers"));
    let everlytic = Everlytic::builder()
        .base_url(ev.base_url())
        .username(EVERLYTIC_USERNAME)
        .api_key(EVERLYTIC_API_KEY)
        .settings(Settings {
            retry: RetryConfig {
                max_attempts: 1,
                ..RetryConfig::default()
            },
            ..Settings::default()
        })
        .build()
        .unwrap();
    let patch = seed_name_and_email().postal_code("8005");
    match everlytic.update(&seed(), &patch).await {
        Err(Error::PartialUpdate {
            backend,
            applied,
            failed,
            source,
        }) => {
            assert_eq!(backend, unibill_everlytic::KIND);
            assert_eq!(applied, [format!("PUT {}", path(SEED_CUSTOMER_ID))]);
            assert_eq!(failed, format!("GET {}", path(SEED_CUSTOMER_ID)));
            assert!(
                matches!(*source, Error::Vendor { status: 500, .. }),
                "{source:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stored_seed(ev)["postal_code"], "8005");
}

#[tokio::test]
async fn patch_the_platform_already_holds_sends_no_put() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let everlytic = client(ev);
    let patch = CustomerPatch::new()
        .status(CustomerStatus::Active)
        .postal_code("8001")
        .extension(
            EverlyticExtension::new()
                .email_quota(50000)
                .deleted(false)
                .industry(Industry::HospitalityTravelTourism),
        );
    let out = everlytic
        .update_with(&seed(), &patch, &UpdateOptions::default())
        .await
        .unwrap();
    assert!(!out.changed());
    assert_eq!(out.customer.name.as_deref(), Some(SEED_NAME));
    assert_eq!(calls_in(&ev.journal()), [call("GET", SEED_CUSTOMER_ID)]);

    // An empty patch: just the read that returns the customer.
    ev.clear_journal();
    let out = everlytic
        .update_with(&seed(), &CustomerPatch::new(), &UpdateOptions::default())
        .await
        .unwrap();
    assert!(out.writes.is_empty());
    assert_eq!(out.customer.id, seed());
    assert_eq!(calls_in(&ev.journal()), [call("GET", SEED_CUSTOMER_ID)]);
}

#[tokio::test]
async fn held_email_that_is_no_address_is_refused_not_sent_back() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let everlytic = client(ev);
    // Someone else stored an email the platform itself would refuse on an
    // update (no dotted domain).
    ev.update_customer(SEED_CUSTOMER_ID, |c| {
        c["email"] = json!("accounts@localhost")
    });

    let e = everlytic.update(&seed(), &quota(1)).await.unwrap_err();
    assert_eq!(validation_field(e), "email");
    // The read happened; no PUT carrying the bad value was sent.
    assert_eq!(calls_in(&ev.journal()), [call("GET", SEED_CUSTOMER_ID)]);
    assert_eq!(stored_seed(ev)["email_quota"], 50000);

    // Setting a good email in the same patch goes through.
    ev.clear_journal();
    let patch = quota(1).email(SEED_CUSTOMER_EMAIL);
    everlytic.update(&seed(), &patch).await.unwrap();
    assert_get_then_put(
        ev,
        json!({"name": SEED_NAME, "email": SEED_CUSTOMER_EMAIL, "email_quota": 1}),
    );
}

#[tokio::test]
async fn dry_run_reads_but_never_writes() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let everlytic = client(ev);
    let before = stored_seed(ev);

    let plan = dry_run_seed(&everlytic, &quota(1)).await;
    assert_eq!(plan.writes.len(), 1);
    assert_eq!(plan.writes[0].method, "PUT");
    assert_eq!(
        plan.writes[0].url,
        format!("{}{}", ev.base_url(), path(SEED_CUSTOMER_ID))
    );
    assert_eq!(
        plan.writes[0].body,
        Some(json!({"name": SEED_NAME, "email": SEED_CUSTOMER_EMAIL, "email_quota": 1}))
    );
    assert_eq!(calls_in(&ev.journal()), [call("GET", SEED_CUSTOMER_ID)]);

    // Name and email given: nothing to read, nothing sent.
    ev.clear_journal();
    let patch = CustomerPatch::new().name("N").email("n@x.example");
    let plan = dry_run_seed(&everlytic, &patch).await;
    assert_eq!(
        plan.writes[0].body,
        Some(json!({"name": "N", "email": "n@x.example"}))
    );
    assert!(ev.journal().is_empty());

    // A no-op plan is empty.
    let plan = dry_run_seed(&everlytic, &quota(50000)).await;
    assert!(plan.writes.is_empty());
    assert_eq!(stored_seed(ev), before);
}

#[tokio::test]
async fn put_is_retried_on_server_errors() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    ev.inject(Fault::status(503).matching("PUT", "/api/2.0/customers"));
    let everlytic = client(ev);
    let patch = seed_name_and_email().phone("1");
    let c = everlytic.update(&seed(), &patch).await.unwrap();
    assert_eq!(c.phone.as_deref(), Some("1"));
    let j = ev.journal();
    assert_eq!(j.len(), 2);
    assert_eq!((j[0].status, j[1].status), (503, 200));
    assert_eq!(j[0].body, j[1].body);
    assert_eq!(everlytic.retries(), 1);
}

#[tokio::test]
async fn numbers_sent_as_strings_are_read() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    ev.update_customer(SEED_CUSTOMER_ID, |v| {
        v["email_quota"] = json!("50000");
        v["sms_quota"] = json!("2000");
        v["postal_code"] = json!(8001);
    });
    let everlytic = client(ev);
    let c = everlytic.get(&seed()).await.unwrap();
    assert_eq!(c.id, seed());
    assert_eq!(c.address.postal_code.as_deref(), Some("8001"));
    let f = EverlyticFields::from_customer(&c);
    assert_eq!((f.email_quota, f.sms_quota), (Some(50000), Some(2000)));
    // The same value given as a number is recognised as held: no PUT.
    ev.clear_journal();
    let out = everlytic
        .update_with(&seed(), &quota(50000), &UpdateOptions::default())
        .await
        .unwrap();
    assert!(!out.changed());
    assert_eq!(ev.journal().len(), 1);
}

#[tokio::test]
async fn install_path_prefix_is_kept() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    let everlytic = Everlytic::builder()
        .base_url(format!("{}/mail/", ev.base_url()))
        .username(EVERLYTIC_USERNAME)
        .api_key(EVERLYTIC_API_KEY)
        .build()
        .unwrap();
    let patch = CustomerPatch::new().name("N").email("n@x.example");
    let plan = dry_run_seed(&everlytic, &patch).await;
    assert_eq!(
        plan.writes[0].url,
        format!("{}/mail/api/2.0/customers/1001", ev.base_url())
    );
    assert!(ev.journal().is_empty());
}

#[test]
fn builder_requires_install_user_and_key() {
    let config_field = |r: Result<Everlytic, Error>| match r {
        Err(Error::Config { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let full = || {
        Everlytic::builder()
            .base_url("https://mail.example.com")
            .username("u")
            .api_key("k")
    };
    full().build().unwrap();
    assert_eq!(
        config_field(Everlytic::builder().username("u").api_key("k").build()),
        "base_url"
    );
    assert_eq!(config_field(full().base_url("  ").build()), "base_url");
    assert_eq!(
        config_field(full().base_url("https://mail.example.com/api/2.0").build()),
        "base_url"
    );
    assert_eq!(
        config_field(full().base_url("http://mail.example.com").build()),
        "base_url"
    );
    assert_eq!(
        config_field(
            Everlytic::builder()
                .base_url("https://mail.example.com")
                .api_key("k")
                .build()
        ),
        "username"
    );
    assert_eq!(config_field(full().username("a:b").build()), "username");
    assert_eq!(
        config_field(
            Everlytic::builder()
                .base_url("https://mail.example.com")
                .username("u")
                .build()
        ),
        "api_key"
    );
    assert_eq!(config_field(full().api_key("").build()), "api_key");
}

#[test]
fn debug_never_shows_the_key() {
    let key = "ev_super_secret_key_123";
    let builder = Everlytic::builder()
        .base_url("https://mail.example.com")
        .username("acme-admin")
        .api_key(key);
    let shown = format!("{builder:?}");
    assert!(!shown.contains(key), "{shown}");
    assert!(shown.contains("acme-admin"));
    let client = builder.build().unwrap();
    let shown = format!("{client:?} {client:#?}");
    assert!(!shown.contains(key), "{shown}");
    assert!(shown.contains("https://mail.example.com"));
}

#[test]
fn capabilities_are_true_to_the_platform() {
    let everlytic = Everlytic::builder()
        .base_url("https://mail.example.com")
        .username("u")
        .api_key("k")
        .build()
        .unwrap();
    let caps = everlytic.capabilities();
    let table: Vec<(Field, String)> = caps
        .iter()
        .filter(|(_, c)| c.read || c.set || c.clear)
        .map(|(f, c)| (f, c.to_string()))
        .collect();
    let rs = "read set".to_string();
    let all = "read set clear".to_string();
    assert_eq!(
        table,
        [
            (Field::DisplayName, rs.clone()),
            (Field::Email, rs.clone()),
            (Field::Phone, all.clone()),
            (Field::Website, all.clone()),
            (Field::AddressLine1, all.clone()),
            (Field::Region, all.clone()),
            (Field::PostalCode, all.clone()),
            (Field::Country, rs.clone()),
            (Field::Status, rs),
            (Field::ExternalReference, all),
        ]
    );
    assert_eq!(everlytic.kind(), unibill_everlytic::KIND);
    assert_eq!(unibill_everlytic::KIND.as_str(), "everlytic");
    // Other backends' extensions are not ours to judge.
    let mut p = CustomerPatch::new();
    p.name = Change::Set("x".into());
    assert!(p.get_extension::<EverlyticExtension>().unwrap().is_none());
}

/// An edit made outside unibill between the update's read and its `PUT`
/// (here: the name, which the update must send back) is seen by the
/// re-read, and the write is worked out again over it: both edits hold.
#[tokio::test]
async fn an_outside_edit_between_read_and_put_is_merged_not_overwritten() {
    let sandbox = Sandbox::start().await.unwrap();
    let ev = sandbox.everlytic();
    let everlytic = checked_client(ev);
    ev.on_next_request(RequestMatcher::new("GET", &path(SEED_CUSTOMER_ID)), |ev| {
        ev.update_customer(SEED_CUSTOMER_ID, |c| {
            c["name"] = json!("Renamed Elsewhere");
        })
    });
    let out = everlytic
        .update(&seed(), &CustomerPatch::new().postal_code("7700"))
        .await
        .unwrap();
    let stored = stored_seed(ev);
    assert_eq!(stored["name"], "Renamed Elsewhere", "{stored}");
    assert_eq!(stored["postal_code"], "7700", "{stored}");
    assert_eq!(out.name.as_deref(), Some("Renamed Elsewhere"));
    let j = ev.journal();
    // GET (then the outside edit), GET (differs), GET (same), PUT.
    assert_eq!(
        calls_in(&j),
        vec![
            call("GET", SEED_CUSTOMER_ID),
            call("GET", SEED_CUSTOMER_ID),
            call("GET", SEED_CUSTOMER_ID),
            call("PUT", SEED_CUSTOMER_ID),
        ]
    );
    assert_eq!(j[3].body.as_ref().unwrap()["name"], "Renamed Elsewhere");
}

/// An outside edit lands right after the update's read, and the client's
/// rate limit holds the `PUT` back past `max_read_age`: the age is checked
/// after that wait, so the customer is read again and the write worked
/// out over the edit (or the update is a `Conflict`), never an `Ok` that
/// overwrote it.
#[tokio::test]
async fn an_edit_before_a_write_delayed_past_the_bound_is_merged() {
    let sandbox = Sandbox::start().await.unwrap();
    let ev = sandbox.everlytic();
    let everlytic = builder(ev)
        .settings(Settings {
            // One request per 300 ms: the `PUT` waits about 300 ms for its
            // slot, three times the bound.
            rate_limit: Some(Some(unibill_core::transport::RateLimit {
                requests: 1,
                per: std::time::Duration::from_millis(300),
            })),
            max_read_age: std::time::Duration::from_millis(100),
            ..fast_settings()
        })
        .build()
        .unwrap();
    ev.on_next_request(RequestMatcher::new("GET", &path(SEED_CUSTOMER_ID)), |ev| {
        ev.update_customer(SEED_CUSTOMER_ID, |c| {
            c["name"] = json!("Renamed Elsewhere");
        })
    });
    let result = everlytic
        .update(&seed(), &CustomerPatch::new().postal_code("7700"))
        .await;
    let stored = stored_seed(ev);
    assert_eq!(
        stored["name"], "Renamed Elsewhere",
        "the outside edit was lost"
    );
    match result {
        Ok(out) => {
            assert_eq!(stored["postal_code"], "7700", "{stored}");
            assert_eq!(out.name.as_deref(), Some("Renamed Elsewhere"));
            // GET (then the outside edit), GET (differs), GET (its slot
            // came after the bound too; same), PUT.
            assert_eq!(
                calls_in(&ev.journal()),
                vec![
                    call("GET", SEED_CUSTOMER_ID),
                    call("GET", SEED_CUSTOMER_ID),
                    call("GET", SEED_CUSTOMER_ID),
                    call("PUT", SEED_CUSTOMER_ID),
                ]
            );
        }
        Err(e) => assert!(matches!(e, Error::Conflict { .. }), "{e:?}"),
    }
}

/// A customer edited outside unibill before every re-read: after the
/// allowed rounds the update fails with `Conflict` and writes nothing.
#[tokio::test]
async fn a_customer_that_keeps_changing_is_a_conflict_and_nothing_is_written() {
    let sandbox = Sandbox::start().await.unwrap();
    let ev = sandbox.everlytic();
    let everlytic = checked_client(ev);
    edit_on_each_read(ev, 3);
    let before = {
        // The hooks fire on GETs only: the stored record is read directly.
        stored_seed(ev)
    };
    let e = everlytic
        .update(&seed(), &CustomerPatch::new().postal_code("7701"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
    assert!(e.is_retryable());
    assert!(ev.journal().iter().all(|e| e.method == "GET"));
    let after = stored_seed(ev);
    assert_ne!(after["postal_code"], "7701");
    assert_ne!(before["name"], after["name"]);
}

/// Edits the seed customer's name right after each of the next `n` reads
/// of it (every pending hook fires on the next matching request, so each
/// one registers the next).
fn edit_on_each_read(ev: &VendorHandle, n: u32) {
    if n == 0 {
        return;
    }
    ev.on_next_request(
        RequestMatcher::new("GET", &path(SEED_CUSTOMER_ID)),
        move |ev| {
            ev.update_customer(SEED_CUSTOMER_ID, |c| {
                c["name"] = json!(format!("Outside edit {n}"));
            });
            edit_on_each_read(ev, n - 1);
        },
    );
}

/// Every page of the listing, read in order.
async fn all_pages(everlytic: &Everlytic, options: ListOptions) -> Result<Vec<ListPage>, Error> {
    use futures_util::TryStreamExt;
    everlytic.list(options).try_collect().await
}

/// The paged listing follows the collection's `next` links to the end:
/// every customer once, in the platform's order, one `GET` per page, the
/// pages after the first read at the address the previous one linked.
#[tokio::test]
async fn the_listing_follows_next_links_to_the_last_page() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    // 2 seeded + 250 copies: three pages of the emulator's default 100.
    let added = ev.add_customers(250);
    assert_eq!(added.len(), 250);
    let everlytic = client(ev);
    let pages = all_pages(&everlytic, ListOptions::new()).await.unwrap();
    let all: Vec<_> = pages.iter().flat_map(|p| p.customers.clone()).collect();
    assert_eq!(all.len(), 252);
    let ids: Vec<u64> = all.iter().map(|c| c.id.as_str().parse().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "every customer once, in order");
    assert_eq!(all[0].name.as_deref(), Some(SEED_NAME));
    assert_eq!(all[0].email.as_deref(), Some(SEED_CUSTOMER_EMAIL));
    let journal: Vec<(String, String)> = ev
        .journal()
        .iter()
        .map(|e| (e.method.clone(), e.path.clone()))
        .collect();
    assert_eq!(
        journal,
        [
            ("GET".to_owned(), "/api/2.0/customers".to_owned()),
            (
                "GET".to_owned(),
                "/api/2.0/customers?page=2&count=100".to_owned()
            ),
            (
                "GET".to_owned(),
                "/api/2.0/customers?page=3&count=100".to_owned()
            ),
        ]
    );
    let positions: Vec<Option<&str>> = pages
        .iter()
        .map(|p| p.next.as_ref().map(|n| n.as_str()))
        .collect();
    assert_eq!(
        positions,
        [
            Some("/api/2.0/customers?page=2&count=100"),
            Some("/api/2.0/customers?page=3&count=100"),
            None
        ]
    );

    // Resumed from the second page's position: the rest, as before.
    let from = pages[0].next.clone().unwrap();
    let rest = all_pages(&everlytic, ListOptions::new().from(from))
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0].customers[0].id, all[100].id);
    assert_eq!(rest[1].customers.len(), 52);

    // A position that leads elsewhere is refused before any request.
    ev.clear_journal();
    for bad in [
        "https://evil.example/api/2.0/customers?page=2",
        "/api/2.0/lists?page=2",
    ] {
        let from = unibill_core::ListPosition::new(bad);
        match all_pages(&everlytic, ListOptions::new().from(from)).await {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "from"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(ev.journal().is_empty());
}

#[tokio::test]
async fn listing_errors_map_like_every_other_call() {
    let sb = Sandbox::start().await.unwrap();
    let ev = sb.everlytic();
    ev.inject(Fault::status(400).matching("GET", "/api/2.0/customers"));
    match all_pages(&client(ev), ListOptions::new()).await {
        Err(Error::Vendor {
            status, messages, ..
        }) => {
            assert_eq!(status, 400);
            assert_eq!(messages, ["Bad Request (injected fault) (code 00400)"]);
        }
        other => panic!("{other:?}"),
    }
}
