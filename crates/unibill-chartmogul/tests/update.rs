//! Updates on the sandbox: the calls each patch makes, in order, with
//! their exact bodies, and the customer returned.

mod common;
mod seed_000;

use chrono::{TimeZone, Utc};
use serde_json::json;
use unibill_chartmogul::{ChartMogulExtension, PrimaryContactPatch};
use unibill_core::{
    Change, Currency, CustomAttribute, CustomerPatch, CustomerStatus, CustomerUpdater, Decimal,
    Money, UpdateOptions,
};
use unibill_sandbox::chartmogul;

use common::*;
use seed_000::{seed_000_patch, seed_000_patch_body};
use unibill_core::BackendBuilder;

#[tokio::test]
async fn seed_000_example_makes_one_patch_with_only_its_fields_then_the_attribute_calls_and_no_read(
) {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let outcome = cm
        .update_with(&seed_id(), &seed_000_patch(), &UpdateOptions::default())
        .await
        .unwrap();

    assert_eq!(
        calls(h),
        vec![
            call("PATCH", &seed_path("")),
            call("POST", &seed_path("/attributes/custom")),
            call("POST", &seed_path("/attributes/tags")),
        ]
    );
    let j = h.journal();
    assert!(j.iter().all(|e| e.status == 200), "{j:?}");
    assert_eq!(j[0].body, Some(seed_000_patch_body()));
    assert_eq!(
        j[1].body,
        Some(json!({"custom": [
            {"type": "Integer", "key": "CAC", "value": 25},
            {"type": "String", "key": "channel", "value": "Twitter", "source": "integration2"}
        ]}))
    );
    assert_eq!(j[2].body, Some(json!({"tags": ["high-value"]})));
    assert_eq!(j[0].header("authorization"), Some("Basic ***"));
    assert!(j[0]
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json")));

    // The result is the customer as ChartMogul holds it afterwards, built
    // from the answers: the PATCH's whole customer with the custom map and
    // the tags the attribute calls answered.
    let c = &outcome.customer;
    assert_eq!(c.raw, h.customer(chartmogul::SEED_CUSTOMER_UUID).unwrap());
    assert_eq!(c.address.city.as_deref(), Some("San Francisco"));
    assert_eq!(c.custom.get("channel"), Some(&json!("Twitter")));
    assert_eq!(c.custom.get("CAC"), Some(&json!(25)));
    assert_eq!(c.tags, vec!["high-value".to_string()]);
    assert_eq!(c.mrr, Some(Money::from_minor(3000, Currency::USD)));
    assert_eq!(
        outcome
            .writes
            .iter()
            .map(|w| (w.method.as_str(), w.url.clone()))
            .collect::<Vec<_>>(),
        vec![
            ("PATCH", format!("{}{}", h.base_url(), seed_path(""))),
            (
                "POST",
                format!("{}{}", h.base_url(), seed_path("/attributes/custom"))
            ),
            (
                "POST",
                format!("{}{}", h.base_url(), seed_path("/attributes/tags"))
            ),
        ]
    );
    assert_eq!(outcome.writes[0].body, j[0].body);
}

#[tokio::test]
async fn dry_run_lists_the_same_writes_and_sends_nothing() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let dry = cm
        .dry_run(&seed_id(), &seed_000_patch(), &UpdateOptions::default())
        .await
        .unwrap();
    assert!(h.journal().is_empty());
    let methods: Vec<&str> = dry.writes.iter().map(|w| w.method.as_str()).collect();
    assert_eq!(methods, vec!["PATCH", "POST", "POST"]);
    assert_eq!(dry.writes[0].body, Some(seed_000_patch_body()));
    assert_eq!(dry.writes[2].body, Some(json!({"tags": ["high-value"]})));
}

#[tokio::test]
async fn plain_field_patch_is_exactly_one_request_and_null_clears() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let patch = CustomerPatch::new()
        .name("Ben Smith")
        .company("Acme")
        .website("https://acme.example")
        .clear_postal_code()
        .status(CustomerStatus::WorkingLead);
    let c = cm.update(&seed_id(), &patch).await.unwrap();
    assert_eq!(calls(h), vec![call("PATCH", &seed_path(""))]);
    assert_eq!(
        h.journal()[0].body,
        Some(json!({
            "name": "Ben Smith",
            "company": "Acme",
            "website_url": "https://acme.example",
            "zip": null,
            "status": "Working Lead"
        }))
    );
    assert_eq!(c.name.as_deref(), Some("Ben Smith"));
    assert_eq!(c.website.as_deref(), Some("https://acme.example"));
    assert_eq!(c.address.postal_code, None);
    assert_eq!(c.status, Some(CustomerStatus::WorkingLead));
    assert_eq!(c.raw, h.customer(chartmogul::SEED_CUSTOMER_UUID).unwrap());
}

#[tokio::test]
async fn custom_set_clear_and_tags_make_the_documented_calls_in_order() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let at = Utc.with_ymd_and_hms(2022, 9, 8, 0, 0, 0).unwrap();
    let patch = CustomerPatch::new()
        .custom("seats", 12)
        .custom("discount", "12.5".parse::<Decimal>().unwrap())
        .custom("pro", true)
        .custom("renewal", at)
        .custom("CAC", 30) // an existing key: set by the same POST
        .clear_custom("SalesRep")
        .add_tag("vip")
        .remove_tag("high-value");
    let c = cm.update(&seed_id(), &patch).await.unwrap();
    assert_eq!(
        calls(h),
        vec![
            call("POST", &seed_path("/attributes/custom")),
            call("DELETE", &seed_path("/attributes/custom")),
            call("POST", &seed_path("/attributes/tags")),
            call("DELETE", &seed_path("/attributes/tags")),
            call("GET", &seed_path("")),
        ]
    );
    let j = h.journal();
    assert_eq!(
        j[0].body,
        Some(json!({"custom": [
            {"type": "Integer", "key": "CAC", "value": 30},
            {"type": "Decimal", "key": "discount", "value": 12.5},
            {"type": "Boolean", "key": "pro", "value": true},
            {"type": "Timestamp", "key": "renewal", "value": "2022-09-08T00:00:00+00:00"},
            {"type": "Integer", "key": "seats", "value": 12}
        ]}))
    );
    assert_eq!(j[1].body, Some(json!({"custom": ["SalesRep"]})));
    assert_eq!(j[2].body, Some(json!({"tags": ["vip"]})));
    assert_eq!(j[3].body, Some(json!({"tags": ["high-value"]})));
    assert_eq!(c.tags, vec!["vip".to_string()]);
    assert_eq!(c.custom.get("SalesRep"), None);
    assert_eq!(c.custom.get("CAC"), Some(&json!(30)));
    assert_eq!(c.custom.get("seats"), Some(&json!(12)));
    assert_eq!(c.custom.get("pro"), Some(&json!(true)));
    assert_eq!(c.raw, h.customer(chartmogul::SEED_CUSTOMER_UUID).unwrap());
}

#[tokio::test]
async fn a_patch_with_nothing_to_do_sends_no_write() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let outcome = cm
        .update_with(&seed_id(), &CustomerPatch::new(), &UpdateOptions::default())
        .await
        .unwrap();
    assert!(outcome.writes.is_empty());
    assert!(!outcome.changed());
    assert_eq!(calls(h), vec![call("GET", &seed_path(""))]);
    assert_eq!(outcome.customer.name.as_deref(), Some("Ben"));
}

#[tokio::test]
async fn put_updates_existing_custom_attributes_only() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let map = cm
        .update_custom_attributes(
            &second_id(),
            vec![
                ("pro", CustomAttribute::new(true)),
                (
                    "channel",
                    CustomAttribute::new("Twitter").with_source("integration2"),
                ),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        calls(h),
        vec![call("PUT", &second_path("/attributes/custom"))]
    );
    assert_eq!(
        h.journal()[0].body,
        Some(json!({"custom": {
            "pro": true,
            "channel": {"value": "Twitter", "source": "integration2"}
        }}))
    );
    assert_eq!(map.get("pro"), Some(&json!(true)));
    assert_eq!(map.get("channel"), Some(&json!("Twitter")));
    assert_eq!(map.get("CAC"), Some(&json!(213)));

    // A key the customer does not have is refused by ChartMogul (400).
    let err = cm
        .update_custom_attributes(&second_id(), vec![("missing", CustomAttribute::new(1))])
        .await
        .unwrap_err();
    let messages = vendor_messages(err, 400);
    assert!(messages[0].contains("missing"), "{messages:?}");
}

#[tokio::test]
async fn add_custom_attributes_by_email_changes_every_matching_customer() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let customers = cm
        .add_custom_attributes_by_email(
            chartmogul::SECOND_CUSTOMER_EMAIL,
            vec![
                (
                    "channel",
                    CustomAttribute::new("Facebook").with_source("integration"),
                ),
                ("age", CustomAttribute::new(8)),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        calls(h),
        vec![call("POST", "/v1/customers/attributes/custom")]
    );
    assert_eq!(
        h.journal()[0].body,
        Some(json!({
            "email": chartmogul::SECOND_CUSTOMER_EMAIL,
            "custom": [
                {"type": "String", "key": "channel", "value": "Facebook", "source": "integration"},
                {"type": "Integer", "key": "age", "value": 8}
            ]
        }))
    );
    assert_eq!(customers.len(), 1);
    let c = &customers[0];
    assert_eq!(c.id.as_str(), chartmogul::SECOND_CUSTOMER_UUID);
    assert_eq!(c.custom.get("age"), Some(&json!(8)));
    assert_eq!(c.custom.get("channel"), Some(&json!("Facebook")));
    assert_eq!(c.mrr, Some(Money::from_minor(3000, Currency::USD)));
    assert_eq!(c.tags, vec!["important".to_string(), "Prio1".to_string()]);
}

#[tokio::test]
async fn add_and_remove_tags_directly() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let tags = cm
        .add_tags(&seed_id(), ["vip", "beta", "vip"])
        .await
        .unwrap();
    assert_eq!(tags, vec!["high-value", "vip", "beta"]);
    let tags = cm.remove_tags(&seed_id(), ["high-value"]).await.unwrap();
    assert_eq!(tags, vec!["vip", "beta"]);
    assert_eq!(
        calls(h),
        vec![
            call("POST", &seed_path("/attributes/tags")),
            call("DELETE", &seed_path("/attributes/tags")),
        ]
    );
    let j = h.journal();
    assert_eq!(j[0].body, Some(json!({"tags": ["vip", "beta"]})));
    assert_eq!(j[1].body, Some(json!({"tags": ["high-value"]})));
}

#[tokio::test]
async fn primary_contact_and_owner_go_in_the_patch_with_the_whole_contact() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    h.update_customer(chartmogul::SEED_CUSTOMER_UUID, |c| {
        c["primary_contact"] = json!({
            "first_name": "Ben", "last_name": "Old", "email": "ben@example.com",
            "title": null, "phone": "+1 555", "linked_in": null, "twitter": null, "notes": null
        });
    });
    let patch = CustomerPatch::new().extension(ChartMogulExtension {
        owner: Change::Set(chartmogul::ACCOUNT_USERS[1].to_owned()),
        primary_contact: PrimaryContactPatch {
            last_name: Change::Set("Smith".into()),
            phone: Change::Clear,
            ..Default::default()
        },
    });
    let c = cm.update(&seed_id(), &patch).await.unwrap();
    assert_eq!(
        calls(h),
        vec![call("GET", &seed_path("")), call("PATCH", &seed_path(""))]
    );
    assert_eq!(
        h.journal()[1].body,
        Some(json!({
            "owner": chartmogul::ACCOUNT_USERS[1],
            "primary_contact": {
                "first_name": "Ben", "last_name": "Smith", "email": "ben@example.com",
                "title": null, "phone": null, "linked_in": null, "twitter": null, "notes": null
            }
        }))
    );
    assert_eq!(c.raw["primary_contact"]["last_name"], json!("Smith"));
    assert_eq!(c.raw["owner"], json!(chartmogul::ACCOUNT_USERS[1]));
}

#[tokio::test]
async fn get_reads_the_seed_customer() {
    let (sb, cm) = start().await;
    let c = cm.get(&seed_id()).await.unwrap();
    assert_eq!(c.id.as_str(), chartmogul::SEED_CUSTOMER_UUID);
    assert_eq!(c.mrr, Some(Money::from_minor(3000, Currency::USD)));
    assert_eq!(c.arr, Some(Money::from_minor(36000, Currency::USD)));
    assert_eq!(c.status, Some(CustomerStatus::Active));
    assert_eq!(c.external_reference.as_deref(), Some("34916129"));
    assert_eq!(calls(sb.chartmogul()), vec![call("GET", &seed_path(""))]);
}

#[tokio::test]
async fn cleared_company_and_email_read_back_as_unset() {
    // ChartMogul answers unset text as "" (not null); the client sends
    // null to clear and reads "" back as no value.
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let patch = CustomerPatch::new().clear_company().clear_email();
    let c = cm.update(&seed_id(), &patch).await.unwrap();
    assert_eq!(
        h.journal()[0].body,
        Some(json!({"company": null, "email": null}))
    );
    assert_eq!(c.raw["company"], json!(""));
    assert_eq!(c.raw["email"], json!(""));
    assert_eq!(c.company, None);
    assert_eq!(c.email, None);
    // The second seeded customer has no company: read as unset too.
    let c = cm.get(&second_id()).await.unwrap();
    assert_eq!(c.raw["company"], json!(""));
    assert_eq!(c.company, None);
}

#[tokio::test]
async fn add_tags_by_email_changes_every_matching_customer() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let customers = cm
        .add_tags_by_email(chartmogul::SECOND_CUSTOMER_EMAIL, ["vip", "Prio1"])
        .await
        .unwrap();
    assert_eq!(
        calls(h),
        vec![call("POST", "/v1/customers/attributes/tags")]
    );
    assert_eq!(
        h.journal()[0].body,
        Some(json!({"email": chartmogul::SECOND_CUSTOMER_EMAIL, "tags": ["vip", "Prio1"]}))
    );
    assert_eq!(customers.len(), 1);
    let c = &customers[0];
    assert_eq!(c.id.as_str(), chartmogul::SECOND_CUSTOMER_UUID);
    assert_eq!(
        c.tags,
        vec![
            "important".to_string(),
            "Prio1".to_string(),
            "vip".to_string()
        ]
    );
    assert_eq!(c.custom.get("CAC"), Some(&json!(213)));
    assert_eq!(
        h.customer(chartmogul::SECOND_CUSTOMER_UUID).unwrap()["attributes"]["tags"],
        json!(["important", "Prio1", "vip"])
    );
}

/// An update needing several calls (the `PATCH`, then the custom
/// attributes) holds the customer's write lock across all of them:
/// concurrent updates never interleave their calls, so the customer never
/// ends with one update's city and another's attribute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_multi_call_updates_never_interleave() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    h.set_latency(std::time::Duration::from_millis(2));
    let mut tasks = Vec::new();
    for n in 0..24i64 {
        let cm = cm.clone();
        tasks.push(tokio::spawn(async move {
            let patch = CustomerPatch::new()
                .city(format!("City {n}"))
                .custom("Round", n);
            cm.update(&seed_id(), &patch).await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("update succeeds");
    }
    // Each update's PATCH is followed by its own custom-attributes call.
    let writes: Vec<_> = h.journal().into_iter().filter(|e| e.is_write()).collect();
    assert_eq!(writes.len(), 48);
    for pair in writes.chunks(2) {
        let city = pair[0].body.as_ref().unwrap()["city"]
            .as_str()
            .unwrap()
            .to_owned();
        let round = &pair[1].body.as_ref().unwrap()["custom"][0]["value"];
        assert_eq!(city, format!("City {round}"), "{pair:?}");
    }
    let stored = h.customer(chartmogul::SEED_CUSTOMER_UUID).unwrap();
    let round = &stored["attributes"]["custom"]["Round"];
    assert_eq!(stored["city"], json!(format!("City {round}")), "{stored}");
}

/// The vendor-only calls hold the customer's write lock like `update`, and
/// release it awaited before they answer, so a process that ends right
/// after one (a script, a cron job) leaves no lock behind in a shared lock
/// service.
#[tokio::test]
async fn vendor_only_calls_release_their_lock_awaited_before_answering() {
    let sb = unibill_sandbox::Sandbox::start().await.unwrap();
    let lock = unibill_testkit::RecordingLock::default();
    let cm = unibill_chartmogul::ChartMogul::builder()
        .api_key(unibill_sandbox::CHARTMOGUL_API_KEY)
        .base_url(sb.chartmogul().base_url())
        .settings(fast_settings())
        .write_locking(unibill_core::lock::WriteLocking::Shared(
            std::sync::Arc::new(lock.clone()),
        ))
        .build()
        .unwrap();
    cm.add_tags(&second_id(), ["vip"]).await.unwrap();
    cm.remove_tags(&second_id(), ["vip"]).await.unwrap();
    cm.update_custom_attributes(&second_id(), vec![("pro", CustomAttribute::new(true))])
        .await
        .unwrap();
    // A refused call releases its lock the same way.
    cm.update_custom_attributes(&second_id(), vec![("missing", CustomAttribute::new(1))])
        .await
        .unwrap_err();
    assert_eq!((lock.released(), lock.dropped()), (4, 0));
}
