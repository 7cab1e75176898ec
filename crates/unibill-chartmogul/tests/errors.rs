//! Refusals before any request (empty journal), HTTP errors mapped to the
//! neutral `Error`, retries, and partial updates.

mod common;

use chrono::{TimeZone, Utc};
use unibill_chartmogul::{ChartMogul, ChartMogulExtension};
use unibill_core::transport::RetryConfig;
use unibill_core::Backend;
use unibill_core::{
    Change, CustomAttribute, CustomerId, CustomerPatch, CustomerStatus, CustomerUpdater, Error,
    Field, Op, UpdateOptions,
};
use unibill_sandbox::{chartmogul, Fault, Sandbox};

use common::*;
use unibill_core::BackendBuilder;

fn assert_validation(err: Error, expected_field: &str) {
    match err {
        Error::Validation { field, reason } => {
            assert_eq!(field, expected_field, "reason: {reason}");
            assert!(!reason.is_empty());
        }
        other => panic!("expected a validation error on `{expected_field}`, got {other:?}"),
    }
}

#[tokio::test]
async fn every_validation_error_is_raised_before_any_request() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let long = "x".repeat(256);
    let cases: Vec<(CustomerPatch, &str)> = vec![
        (
            CustomerPatch::new()
                .city("Paris")
                .status(CustomerStatus::Active),
            "status",
        ),
        (CustomerPatch::new().status(CustomerStatus::Lead), "status"),
        (
            CustomerPatch::new().status(CustomerStatus::Other("Frozen".into())),
            "status",
        ),
        (
            CustomerPatch::new().lead_created_at(
                Utc.with_ymd_and_hms(2015, 1, 1, 0, 0, 0).unwrap()
                    + chrono::Duration::milliseconds(250),
            ),
            "lead_created_at",
        ),
        (
            CustomerPatch::new()
                .free_trial_started_at(Utc.with_ymd_and_hms(-5, 1, 1, 0, 0, 0).unwrap()),
            "free_trial_started_at",
        ),
        (CustomerPatch::new().country("USA"), "address.country"),
        (CustomerPatch::new().country("ZZ"), "address.country"),
        (CustomerPatch::new().email("not-an-email"), "email"),
        (CustomerPatch::new().email("a b@example.com"), "email"),
        (CustomerPatch::new().city(""), "address.city"),
        (CustomerPatch::new().custom("bad-key", 1), "custom.bad-key"),
        (CustomerPatch::new().custom("s", long.as_str()), "custom.s"),
        (
            CustomerPatch::new().custom_attribute("CAC", CustomAttribute::new(1).with_source(" ")),
            "custom.CAC.source",
        ),
        // ISO 8601 writes years 0001-9999 only (RFC 3339 text of year
        // 10000 is `+10000-...`, which ChartMogul refuses).
        (
            CustomerPatch::new().custom("ts", Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap()),
            "custom.ts",
        ),
        (
            CustomerPatch::new().custom(
                "ts",
                chrono::FixedOffset::east_opt(3600)
                    .unwrap()
                    .with_ymd_and_hms(1, 1, 1, 0, 30, 0)
                    .unwrap(),
            ),
            "custom.ts",
        ),
        (CustomerPatch::new().add_tag(""), "tags"),
        (CustomerPatch::new().add_tag("a").remove_tag("a"), "tags"),
        (
            CustomerPatch::new().extension(ChartMogulExtension {
                owner: Change::Set("nobody".into()),
                ..Default::default()
            }),
            "extensions.chartmogul.owner",
        ),
    ];
    for (patch, field) in cases {
        let err = cm.update(&seed_id(), &patch).await.unwrap_err();
        assert_validation(err, field);
        let err = cm
            .dry_run(&seed_id(), &patch, &UpdateOptions::default())
            .await
            .unwrap_err();
        assert_validation(err, field);
    }
    // Text a custom attribute's type refuses is refused as it is read,
    // naming the attribute: no patch holding it can be built.
    for (key, ty, text) in [
        ("pro", unibill_core::AttributeType::Boolean, "yes"),
        ("n", unibill_core::AttributeType::Integer, "2.5"),
    ] {
        let err = unibill_core::AttributeValue::parse(key, ty, text).unwrap_err();
        assert_validation(err, &format!("custom.{key}"));
    }
    // A malformed extension (unknown field) names the extension.
    let bad: CustomerPatch = serde_json::from_value(serde_json::json!({
        "extensions": {"chartmogul": {"ownr": "x@example.com"}}
    }))
    .unwrap();
    assert_validation(
        cm.update(&seed_id(), &bad).await.unwrap_err(),
        "extensions.chartmogul",
    );
    // Ids that are not ChartMogul customer UUIDs.
    for id in ["12150249", "", "cus_", "cus_../x", "cus_a b"] {
        let id = CustomerId::from(id);
        assert_validation(
            cm.update(&id, &CustomerPatch::new().city("Paris"))
                .await
                .unwrap_err(),
            "id",
        );
        assert_validation(cm.get(&id).await.unwrap_err(), "id");
        assert_validation(cm.add_tags(&id, ["a"]).await.unwrap_err(), "id");
    }
    // The ChartMogul-only operations.
    let empty: Vec<(&str, CustomAttribute)> = Vec::new();
    assert_validation(
        cm.add_custom_attributes_by_email("adam@example.com", empty.clone())
            .await
            .unwrap_err(),
        "custom",
    );
    assert_validation(
        cm.add_custom_attributes_by_email("nobody", vec![("a", CustomAttribute::new(1))])
            .await
            .unwrap_err(),
        "email",
    );
    assert_validation(
        cm.add_custom_attributes_by_email(
            "adam@example.com",
            vec![("a-b", CustomAttribute::new(1))],
        )
        .await
        .unwrap_err(),
        "custom.a-b",
    );
    let no_tags: Vec<&str> = Vec::new();
    assert_validation(
        cm.add_tags_by_email("adam@example.com", no_tags)
            .await
            .unwrap_err(),
        "tags",
    );
    assert_validation(
        cm.add_tags_by_email("adam@example.com", ["ok", " "])
            .await
            .unwrap_err(),
        "tags",
    );
    assert_validation(
        cm.add_tags_by_email("nobody", ["vip"]).await.unwrap_err(),
        "email",
    );
    let far = CustomAttribute::new(Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap());
    assert_validation(
        cm.add_custom_attributes_by_email("adam@example.com", vec![("ts", far.clone())])
            .await
            .unwrap_err(),
        "custom.ts",
    );
    assert_validation(
        cm.update_custom_attributes(&second_id(), vec![("convertedAt", far)])
            .await
            .unwrap_err(),
        "custom.convertedAt",
    );
    assert_validation(
        cm.update_custom_attributes(
            &second_id(),
            vec![
                ("pro", CustomAttribute::new(true)),
                ("pro", CustomAttribute::new(false)),
            ],
        )
        .await
        .unwrap_err(),
        "custom.pro",
    );
    assert_validation(
        cm.update_custom_attributes(&second_id(), empty)
            .await
            .unwrap_err(),
        "custom",
    );
    assert_validation(
        cm.add_tags(&seed_id(), Vec::<String>::new())
            .await
            .unwrap_err(),
        "tags",
    );
    assert_validation(cm.remove_tags(&seed_id(), [" "]).await.unwrap_err(), "tags");
    assert!(h.journal().is_empty(), "{:?}", h.journal());
}

#[tokio::test]
async fn what_chartmogul_cannot_do_is_refused_before_any_request() {
    let (sb, cm) = start().await;
    let cases = [
        (CustomerPatch::new().phone("+1 555"), Field::Phone, Op::Set),
        (
            CustomerPatch::new().clear_name(),
            Field::DisplayName,
            Op::Clear,
        ),
        (
            CustomerPatch::new().clear_status(),
            Field::Status,
            Op::Clear,
        ),
        (
            CustomerPatch::new().external_reference("abc"),
            Field::ExternalReference,
            Op::Set,
        ),
        (
            CustomerPatch::new().currency("EUR"),
            Field::Currency,
            Op::Set,
        ),
        (
            CustomerPatch::new().address_line1("1 Main St"),
            Field::AddressLine1,
            Op::Set,
        ),
        (
            CustomerPatch::new().first_name("Ben"),
            Field::FirstName,
            Op::Set,
        ),
        (
            CustomerPatch::new().campaign("spring"),
            Field::Campaign,
            Op::Set,
        ),
    ];
    for (patch, f, o) in cases {
        match cm.update(&seed_id(), &patch).await.unwrap_err() {
            Error::Unsupported { backend, field, op } => {
                assert_eq!(
                    (backend, field, op),
                    (unibill_chartmogul::KIND, f.into(), o)
                );
            }
            other => panic!("{f}: {other:?}"),
        }
    }
    assert!(sb.chartmogul().journal().is_empty());
}

#[tokio::test]
async fn unauthorized_key_is_401() {
    let sb = Sandbox::start().await.unwrap();
    let cm = ChartMogul::builder()
        .api_key("wrong-key")
        .base_url(sb.chartmogul().base_url())
        .settings(fast_settings())
        .build()
        .unwrap();
    match cm.get(&seed_id()).await.unwrap_err() {
        Error::Unauthorized {
            status, message, ..
        } => {
            assert_eq!(status, 401);
            assert_eq!(message, "No valid API key provided");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sb.chartmogul().journal().len(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn unknown_customer_is_not_found() {
    let (_sb, cm) = start().await;
    let id = CustomerId::from("cus_00000000-0000-0000-0000-000000000000");
    match cm.get(&id).await.unwrap_err() {
        Error::NotFound { id: got, backend } => {
            assert_eq!(got, id.as_str());
            assert_eq!(backend, unibill_chartmogul::KIND);
        }
        other => panic!("{other:?}"),
    }
    match cm
        .update(&id, &CustomerPatch::new().city("Paris"))
        .await
        .unwrap_err()
    {
        Error::NotFound { id: got, .. } => assert_eq!(got, id.as_str()),
        other => panic!("{other:?}"),
    }
    match cm
        .add_custom_attributes_by_email(
            "nobody@example.com",
            vec![("age", CustomAttribute::new(1))],
        )
        .await
        .unwrap_err()
    {
        Error::NotFound { id: got, .. } => assert_eq!(got, "nobody@example.com"),
        other => panic!("{other:?}"),
    }
    match cm
        .add_tags_by_email("nobody@example.com", ["vip"])
        .await
        .unwrap_err()
    {
        Error::NotFound { id: got, .. } => assert_eq!(got, "nobody@example.com"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn refused_input_is_a_vendor_422_with_chartmogul_s_words() {
    let (_sb, cm) = start().await;
    // `owner` must be a user of the account: only ChartMogul knows them.
    let patch = CustomerPatch::new().extension(ChartMogulExtension {
        owner: Change::Set("stranger@example.com".into()),
        ..Default::default()
    });
    let err = cm.update(&seed_id(), &patch).await.unwrap_err();
    assert_eq!(
        vendor_messages(err, 422),
        vec!["'stranger@example.com' is not the email of a user of this account (param: owner)"]
    );
    // A key already defined with another type: `{"errors":{key: ..}}`.
    let err = cm
        .update(&seed_id(), &CustomerPatch::new().custom("CAC", "high"))
        .await
        .unwrap_err();
    assert_eq!(
        vendor_messages(err, 422),
        vec!["CAC: 'CAC' is already defined with type Integer"]
    );
}

#[tokio::test]
async fn rate_limit_that_does_not_lift_is_rate_limited() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    h.inject(Fault::status(429).times(10));
    match cm.get(&seed_id()).await.unwrap_err() {
        Error::RateLimited { backend, .. } => assert_eq!(backend, unibill_chartmogul::KIND),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.journal().len(), 3, "max_attempts = 3");
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_and_succeeds() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    h.inject(
        Fault::status(429)
            .retry_after_secs(1)
            .matching("PATCH", "/v1/customers/"),
    );
    let c = cm
        .update(&seed_id(), &CustomerPatch::new().city("Boston"))
        .await
        .unwrap();
    assert_eq!(c.address.city.as_deref(), Some("Boston"));
    let j = h.journal();
    assert_eq!(
        j.iter()
            .map(|e| (e.method.as_str(), e.status, e.fault.clone()))
            .collect::<Vec<_>>(),
        vec![
            ("PATCH", 429, Some("status 429 retry-after 1".to_string())),
            ("PATCH", 200, None),
        ]
    );
    assert_eq!(j[0].body, j[1].body);
    assert_eq!(cm.retries(), 1);
}

#[tokio::test]
async fn server_errors_keep_the_plain_text_page() {
    let (sb, cm) = start_with(RetryConfig {
        max_attempts: 1,
        ..RetryConfig::default()
    })
    .await;
    let h = sb.chartmogul();
    for status in [500u16, 502, 503, 504] {
        h.inject(Fault::status(status));
        let messages = vendor_messages(cm.get(&seed_id()).await.unwrap_err(), status);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with(&status.to_string()), "{messages:?}");
        assert!(!messages[0].contains('<'), "{messages:?}");
    }
    // Retried (GET is idempotent) and then fine.
    let cm = client(&sb);
    h.inject(Fault::status(502).times(2));
    assert!(cm.get(&seed_id()).await.is_ok());
}

#[tokio::test]
async fn garbage_answer_is_a_decode_error() {
    let (sb, cm) = start().await;
    sb.chartmogul().inject(Fault::garbage_body());
    match cm.get(&seed_id()).await.unwrap_err() {
        Error::Decode { what, .. } => assert_eq!(what, "customer response"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_failure_between_two_calls_is_a_partial_update() {
    let (sb, cm) = start_with(RetryConfig {
        max_attempts: 1,
        ..RetryConfig::default()
    })
    .await;
    let h = sb.chartmogul();
    h.inject(Fault::status(500).matching("POST", &seed_path("/attributes/custom")));
    let patch = CustomerPatch::new()
        .city("Boston")
        .custom("CAC", 99)
        .add_tag("vip");
    match cm.update(&seed_id(), &patch).await.unwrap_err() {
        Error::PartialUpdate {
            backend,
            applied,
            failed,
            source,
        } => {
            assert_eq!(backend, unibill_chartmogul::KIND);
            assert_eq!(applied, vec![format!("PATCH {}", seed_path(""))]);
            assert_eq!(failed, format!("POST {}", seed_path("/attributes/custom")));
            assert!(
                matches!(*source, Error::Vendor { status: 500, .. }),
                "{source:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Later calls were not sent; the PATCH did apply.
    assert_eq!(
        calls(h),
        vec![
            call("PATCH", &seed_path("")),
            call("POST", &seed_path("/attributes/custom")),
        ]
    );
    let stored = h.customer(chartmogul::SEED_CUSTOMER_UUID).unwrap();
    assert_eq!(stored["city"], "Boston");
    assert_eq!(stored["attributes"]["custom"]["CAC"], 25);
    assert_eq!(
        stored["attributes"]["tags"],
        serde_json::json!(["high-value"])
    );

    // Re-running the same patch completes it.
    h.clear_journal();
    let c = cm.update(&seed_id(), &patch).await.unwrap();
    assert_eq!(c.custom.get("CAC"), Some(&serde_json::json!(99)));
    assert_eq!(c.tags, vec!["high-value".to_string(), "vip".to_string()]);
}

#[tokio::test]
async fn partial_update_names_every_applied_call() {
    let (sb, cm) = start_with(RetryConfig {
        max_attempts: 1,
        ..RetryConfig::default()
    })
    .await;
    let h = sb.chartmogul();
    h.inject(Fault::drop_connection().matching("DELETE", &seed_path("/attributes/tags")));
    let patch = CustomerPatch::new()
        .custom("CAC", 99)
        .clear_custom("SalesRep")
        .add_tag("vip")
        .remove_tag("high-value");
    match cm.update(&seed_id(), &patch).await.unwrap_err() {
        Error::PartialUpdate {
            applied,
            failed,
            source,
            ..
        } => {
            assert_eq!(
                applied,
                vec![
                    format!("POST {}", seed_path("/attributes/custom")),
                    format!("DELETE {}", seed_path("/attributes/custom")),
                    format!("POST {}", seed_path("/attributes/tags")),
                ]
            );
            assert_eq!(failed, format!("DELETE {}", seed_path("/attributes/tags")));
            assert!(matches!(*source, Error::Transport { .. }), "{source:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn attribute_posts_are_retried_after_a_5xx() {
    // The POSTs set state (same key, type and value; same tags), so a
    // lost answer may be sent again.
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    h.inject(Fault::status(500).matching("POST", &seed_path("/attributes/custom")));
    h.inject(Fault::status(502).matching("POST", &seed_path("/attributes/tags")));
    let c = cm
        .update(
            &seed_id(),
            &CustomerPatch::new().custom("CAC", 40).add_tag("vip"),
        )
        .await
        .unwrap();
    assert_eq!(c.custom.get("CAC"), Some(&serde_json::json!(40)));
    assert_eq!(
        h.journal()
            .iter()
            .map(|e| (e.method.as_str(), e.status))
            .collect::<Vec<_>>(),
        vec![
            ("POST", 500),
            ("POST", 200),
            ("POST", 502),
            ("POST", 200),
            ("GET", 200)
        ]
    );
}

#[tokio::test]
async fn a_failing_final_read_reports_every_write_as_applied() {
    let (sb, cm) = start_with(RetryConfig {
        max_attempts: 1,
        ..RetryConfig::default()
    })
    .await;
    let h = sb.chartmogul();
    h.inject(Fault::status(503).matching("GET", "/v1/customers/"));
    match cm
        .update(&seed_id(), &CustomerPatch::new().add_tag("vip"))
        .await
        .unwrap_err()
    {
        Error::PartialUpdate {
            applied, failed, ..
        } => {
            assert_eq!(
                applied,
                vec![format!("POST {}", seed_path("/attributes/tags"))]
            );
            assert_eq!(failed, format!("GET {}", seed_path("")));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreadable_patch_answer_is_followed_by_a_read() {
    // The PATCH applied; only its answer is garbage. The update succeeds
    // with the customer as ChartMogul holds it, read once.
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    h.inject(Fault::garbage_body().matching("PATCH", "/v1/customers/"));
    let outcome = cm
        .update_with(
            &seed_id(),
            &CustomerPatch::new().city("Boston"),
            &UpdateOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        calls(h),
        vec![call("PATCH", &seed_path("")), call("GET", &seed_path(""))]
    );
    assert_eq!(outcome.customer.address.city.as_deref(), Some("Boston"));
    assert_eq!(
        outcome.customer.raw,
        h.customer(chartmogul::SEED_CUSTOMER_UUID).unwrap()
    );
    assert_eq!(outcome.writes.len(), 1);
    assert_eq!(outcome.writes[0].method, "PATCH");
}

#[tokio::test]
async fn an_attribute_answer_without_its_map_is_followed_by_a_read() {
    // After a PATCH the answers build the customer, but only while each
    // carries what it documents: a garbage answer to the tags call (the
    // tags applied) says nothing about the tags, so the customer is read
    // once, and the outcome holds the tags ChartMogul now has.
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    h.inject(Fault::garbage_body().matching("POST", &seed_path("/attributes/tags")));
    let outcome = cm
        .update_with(
            &seed_id(),
            &CustomerPatch::new().city("Boston").add_tag("vip"),
            &UpdateOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        calls(h),
        vec![
            call("PATCH", &seed_path("")),
            call("POST", &seed_path("/attributes/tags")),
            call("GET", &seed_path("")),
        ]
    );
    assert_eq!(
        outcome.customer.tags,
        vec!["high-value".to_string(), "vip".to_string()]
    );
    assert_eq!(outcome.customer.address.city.as_deref(), Some("Boston"));
    assert_eq!(
        outcome.customer.raw,
        h.customer(chartmogul::SEED_CUSTOMER_UUID).unwrap()
    );
    assert_eq!(outcome.writes.len(), 2);
}

#[tokio::test]
async fn an_unreadable_patch_answer_and_a_failing_read_is_a_partial_update() {
    let (sb, cm) = start_with(RetryConfig {
        max_attempts: 1,
        ..RetryConfig::default()
    })
    .await;
    let h = sb.chartmogul();
    h.inject(Fault::garbage_body().matching("PATCH", "/v1/customers/"));
    h.inject(Fault::status(503).matching("GET", "/v1/customers/"));
    match cm
        .update(&seed_id(), &CustomerPatch::new().city("Boston"))
        .await
        .unwrap_err()
    {
        Error::PartialUpdate {
            applied,
            failed,
            source,
            ..
        } => {
            assert_eq!(applied, vec![format!("PATCH {}", seed_path(""))]);
            assert_eq!(failed, format!("GET {}", seed_path("")));
            assert!(
                matches!(*source, Error::Vendor { status: 503, .. }),
                "{source:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let stored = h.customer(chartmogul::SEED_CUSTOMER_UUID).unwrap();
    assert_eq!(stored["city"], "Boston");
}

#[tokio::test]
async fn tags_are_checked_alike_in_a_patch_and_in_add_tags() {
    let (sb, cm) = start().await;
    let h = sb.chartmogul();
    let bad = "vip\u{7}";
    let from_patch = cm
        .update(&seed_id(), &CustomerPatch::new().add_tag(bad))
        .await
        .unwrap_err();
    let from_remove = cm
        .update(&seed_id(), &CustomerPatch::new().remove_tag(bad))
        .await
        .unwrap_err();
    let direct = cm.add_tags(&seed_id(), [bad]).await.unwrap_err();
    for err in [from_patch, from_remove, direct] {
        match err {
            Error::Validation { field, reason } => {
                assert_eq!(field, "tags");
                assert!(reason.contains("control characters"), "{reason}");
                assert!(reason.contains("vip"), "names the tag: {reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    // An empty tag says so.
    match cm.add_tags(&seed_id(), [" "]).await.unwrap_err() {
        Error::Validation { field, reason } => {
            assert_eq!(field, "tags");
            assert_eq!(reason, "empty tag");
        }
        other => panic!("{other:?}"),
    }
    assert!(h.journal().is_empty(), "{:?}", h.journal());
}
