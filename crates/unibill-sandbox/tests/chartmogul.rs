//! ChartMogul emulator: documented behaviour over real HTTP.

mod common;

use common::{client, cm, send, start};
use serde_json::{json, Value};
use unibill_sandbox::chartmogul::{
    SECOND_CUSTOMER_EMAIL, SECOND_CUSTOMER_UUID, SEED_CUSTOMER_EMAIL, SEED_CUSTOMER_UUID,
};
use unibill_sandbox::CHARTMOGUL_API_KEY;

fn customer_path() -> String {
    format!("/v1/customers/{SEED_CUSTOMER_UUID}")
}

fn custom_path(uuid: &str) -> String {
    format!("/v1/customers/{uuid}/attributes/custom")
}

#[tokio::test]
async fn get_answers_the_seed_customer_as_printed() {
    let sb = start().await;
    let r = send(cm(&sb, "GET", &customer_path())).await;
    assert_eq!(r.status, 200);
    let c = r.json();
    assert_eq!(c["id"], json!(12150249));
    assert_eq!(c["uuid"], json!(SEED_CUSTOMER_UUID));
    assert_eq!(c["email"], json!(SEED_CUSTOMER_EMAIL));
    assert_eq!(c["name"], json!("Ben"));
    assert_eq!(c["company"], json!("Example Company"));
    assert_eq!(c["mrr"], json!(3000));
    assert_eq!(c["arr"], json!(36000));
    assert_eq!(c["customer-since"], json!("2015-06-19T13:16:00-04:00"));
    assert_eq!(c["billing-system-url"], json!(""));
    assert_eq!(
        c["chartmogul-url"],
        json!("https://app.chartmogul.com/#customers/12150249-Example_Company")
    );
    assert_eq!(c["billing-system-type"], json!("Custom"));
    assert_eq!(c["currency-sign"], json!("$"));
    assert_eq!(c["lead_created_at"], json!("2015-01-01T00:00:00.000Z"));
    assert_eq!(
        c["attributes"],
        json!({"custom": {"CAC": 25, "SalesRep": "Mike"}, "clearbit": {}, "stripe": {}, "tags": ["high-value"]})
    );
    assert_eq!(
        c["address"],
        json!({"address_zip": "99801", "city": "San Francisco", "country": "US", "state": "CA"})
    );
    assert_eq!(sb.chartmogul().customer(SEED_CUSTOMER_UUID), Some(c));
}

#[tokio::test]
async fn auth_requires_the_api_key_as_basic_user() {
    let sb = start().await;
    let url = format!("{}{}", sb.chartmogul().base_url(), customer_path());
    let none = send(client().get(&url)).await;
    assert_eq!(none.status, 401);
    assert_eq!(
        none.json(),
        json!({"code": 401, "message": "No valid API key provided", "param": null})
    );
    let wrong = send(client().get(&url).basic_auth("not-the-key", Some(""))).await;
    assert_eq!(wrong.status, 401);
    // The key as password with another user name is not accepted.
    let swapped = send(
        client()
            .get(&url)
            .basic_auth("user", Some(CHARTMOGUL_API_KEY)),
    )
    .await;
    assert_eq!(swapped.status, 401);
    // Bearer is not Basic.
    let bearer = send(client().get(&url).bearer_auth(CHARTMOGUL_API_KEY)).await;
    assert_eq!(bearer.status, 401);
    // Any password is ignored.
    let with_pw = send(client().get(&url).basic_auth(CHARTMOGUL_API_KEY, Some("x"))).await;
    assert_eq!(with_pw.status, 200);
    let no_pw = send(
        client()
            .get(&url)
            .basic_auth(CHARTMOGUL_API_KEY, None::<&str>),
    )
    .await;
    assert_eq!(no_pw.status, 200);
}

#[tokio::test]
async fn unknown_customer_and_route_are_404() {
    let sb = start().await;
    let r = send(cm(
        &sb,
        "GET",
        "/v1/customers/cus_00000000-0000-0000-0000-000000000000",
    ))
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"code": 404, "message": "Customer not found", "param": null})
    );
    let r = send(cm(&sb, "PATCH", "/v1/customers/cus_nope").json(&json!({"city": "Paris"}))).await;
    assert_eq!(r.status, 404);
    // An unknown route is not the vendor's 404: the sandbox does not model it.
    let r = send(cm(&sb, "GET", "/v1/nothing")).await;
    assert_eq!(r.status, unibill_sandbox::NOT_EMULATED_STATUS);
}

#[tokio::test]
async fn patch_with_the_documented_example_body() {
    let sb = start().await;
    let body = json!({
        "lead_created_at": "2015-01-01 00:00:00",
        "free_trial_started_at": "2015-06-13 15:45:13",
        "city": "San Francisco",
        "country": "US",
        "state": "CA",
        "attributes": {
            "tags": ["high-value"],
            "custom": {"CAC": 25, "channel": {"value": "Twitter", "source": "integration2"}}
        }
    });
    let r = send(cm(&sb, "PATCH", &customer_path()).json(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = r.json();
    assert_eq!(c["lead_created_at"], json!("2015-01-01T00:00:00.000Z"));
    assert_eq!(
        c["free_trial_started_at"],
        json!("2015-06-13T15:45:13.000Z")
    );
    assert_eq!(c["attributes"]["tags"], json!(["high-value"]));
    assert_eq!(
        c["attributes"]["custom"],
        json!({"CAC": 25, "SalesRep": "Mike", "channel": "Twitter"})
    );
    // The full customer is answered.
    assert_eq!(c["mrr"], json!(3000));
    assert_eq!(c["uuid"], json!(SEED_CUSTOMER_UUID));
}

#[tokio::test]
async fn patch_is_partial_and_keeps_address_consistent() {
    let sb = start().await;
    let r = send(
        cm(&sb, "PATCH", &customer_path())
            .json(&json!({"city": "Paris", "country": "FR", "zip": null})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = r.json();
    assert_eq!(c["city"], json!("Paris"));
    assert_eq!(c["country"], json!("FR"));
    assert_eq!(c["zip"], Value::Null);
    assert_eq!(c["state"], json!("CA"));
    assert_eq!(c["name"], json!("Ben"));
    assert_eq!(
        c["address"],
        json!({"address_zip": null, "city": "Paris", "country": "FR", "state": "CA"})
    );
    assert_eq!(sb.chartmogul().customer(SEED_CUSTOMER_UUID), Some(c));
}

#[tokio::test]
async fn patch_accepts_both_timestamp_formats_and_answers_millis_z() {
    let sb = start().await;
    for input in [
        "2016-02-03 04:05:06",
        "2016-02-03T04:05:06Z",
        "2016-02-03T04:05:06.000Z",
        "2016-02-03T06:05:06+02:00",
        "2016-02-03T04:05:06",
    ] {
        let r =
            send(cm(&sb, "PATCH", &customer_path()).json(&json!({"free_trial_started_at": input})))
                .await;
        assert_eq!(r.status, 200, "{input}: {}", r.text);
        assert_eq!(
            r.json()["free_trial_started_at"],
            json!("2016-02-03T04:05:06.000Z"),
            "{input}"
        );
    }
    for bad in ["03/02/2016", "2016-02-30 00:00:00", "soon", ""] {
        let r =
            send(cm(&sb, "PATCH", &customer_path()).json(&json!({"lead_created_at": bad}))).await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(r.json()["param"], json!("lead_created_at"));
    }
    let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({"lead_created_at": 1454472306})))
        .await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn timestamps_must_be_fixed_width_iso_8601() {
    let sb = start().await;
    let before = sb.chartmogul().customer(SEED_CUSTOMER_UUID);
    let not_iso = [
        "2016-2-3 4:5:6",
        "16-02-03 04:05:06",
        " 2016-02-03 04:05:06",
        "2016-02-03T04:05:06Z ",
        "2016-02-03T04:05:06 +02:00",
    ];
    for bad in not_iso {
        let r =
            send(cm(&sb, "PATCH", &customer_path()).json(&json!({"lead_created_at": bad}))).await;
        assert_eq!(r.status, 422, "{bad:?}: {}", r.text);
        assert_eq!(r.json()["param"], json!("lead_created_at"));
        let r =
            send(cm(&sb, "POST", &custom_path(SEED_CUSTOMER_UUID)).json(
                &json!({"custom": [{"type": "Timestamp", "key": "renewal_at", "value": bad}]}),
            ))
            .await;
        assert_eq!(r.status, 422, "{bad:?}: {}", r.text);
        assert!(r.json()["errors"]["renewal_at"].is_string(), "{bad:?}");
    }
    assert_eq!(sb.chartmogul().customer(SEED_CUSTOMER_UUID), before);
}

#[tokio::test]
async fn patch_refuses_read_only_and_unknown_keys_naming_the_param() {
    let sb = start().await;
    let before = sb.chartmogul().customer(SEED_CUSTOMER_UUID);
    for key in [
        "id",
        "uuid",
        "external_id",
        "external_ids",
        "data_source_uuid",
        "data_source_uuids",
        "customer-since",
        "address",
        "mrr",
        "arr",
        "currency",
        "currency-sign",
        "chartmogul-url",
        "billing-system-url",
        "billing-system-type",
        "favourite_colour",
    ] {
        let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({"city": "Paris", key: "x"})))
            .await;
        assert_eq!(r.status, 422, "{key}");
        let body = r.json();
        assert_eq!(body["code"], json!(422), "{key}");
        assert_eq!(body["param"], json!(key), "{key}");
    }
    let r = send(
        cm(&sb, "PATCH", &customer_path()).json(&json!({"attributes": {"stripe": {"uid": 1}}})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["param"], json!("attributes.stripe"));
    // Nothing was applied by the refused requests.
    assert_eq!(sb.chartmogul().customer(SEED_CUSTOMER_UUID), before);
}

#[tokio::test]
async fn patch_status_only_for_lead_statuses() {
    let sb = start().await;
    for status in [
        "New Lead",
        "Working Lead",
        "Qualified Lead",
        "Unqualified Lead",
    ] {
        let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({"status": status}))).await;
        assert_eq!(r.status, 200, "{status}");
        assert_eq!(r.json()["status"], json!(status));
    }
    for status in ["Active", "Cancelled", "Past due", "Lead", "new lead"] {
        let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({"status": status}))).await;
        assert_eq!(r.status, 422, "{status}");
        assert_eq!(r.json()["param"], json!("status"));
    }
    let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({"status": null}))).await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn patch_validates_country_email_owner_and_contact() {
    let sb = start().await;
    for bad in ["XX", "fr", "USA", "U"] {
        let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({"country": bad}))).await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(r.json()["param"], json!("country"));
    }
    let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({"email": "not-an-email"}))).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["param"], json!("email"));
    let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({"name": 7}))).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["param"], json!("name"));
    let r =
        send(cm(&sb, "PATCH", &customer_path()).json(&json!({"owner": "stranger@example.com"})))
            .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["param"], json!("owner"));

    let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({
        "owner": "owner@example.com",
        "website_url": "https://example.com",
        "primary_contact": {"first_name": "Ben", "email": "ben.j@example.com"}
    })))
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = r.json();
    assert_eq!(c["owner"], json!("owner@example.com"));
    assert_eq!(c["website_url"], json!("https://example.com"));
    assert_eq!(c["primary_contact"]["first_name"], json!("Ben"));
    assert_eq!(c["primary_contact"]["email"], json!("ben.j@example.com"));
    assert_eq!(c["primary_contact"]["last_name"], Value::Null);

    let r = send(
        cm(&sb, "PATCH", &customer_path()).json(&json!({"primary_contact": {"shoe_size": "44"}})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["param"], json!("primary_contact.shoe_size"));
}

#[tokio::test]
async fn patch_needs_json() {
    let sb = start().await;
    let r = send(
        cm(&sb, "PATCH", &customer_path())
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].is_string());
    let r = send(
        cm(&sb, "PATCH", &customer_path())
            .header("content-type", "text/plain")
            .body(r#"{"city":"Paris"}"#),
    )
    .await;
    assert_eq!(r.status, 415);
    let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!(["city"]))).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn get_attributes_answers_all_four_groups() {
    let sb = start().await;
    let r = send(cm(
        &sb,
        "GET",
        &format!("/v1/customers/{SECOND_CUSTOMER_UUID}/attributes"),
    ))
    .await;
    assert_eq!(r.status, 200);
    // Unwrapped, as the vendor's "Retrieve Customer's Attributes" page
    // prints it and as both official SDKs (and their fixtures) read it.
    assert_eq!(
        r.json(),
        json!({
            "tags": ["important", "Prio1"],
            "stripe": {"coupon": true},
            "clearbit": {},
            "custom": {
                "CAC": 213,
                "utmCampaign": "social media 1",
                "convertedAt": "2022-09-08 00:00:00",
                "pro": false,
                "channel": "Facebook"
            }
        })
    );
}

#[tokio::test]
async fn put_custom_with_the_documented_example_answers_the_documented_map() {
    let sb = start().await;
    let body =
        json!({"custom": {"pro": true, "channel": {"value": "Twitter", "source": "integration2"}}});
    let r = send(cm(&sb, "PUT", &custom_path(SECOND_CUSTOMER_UUID)).json(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"custom": {
            "CAC": 213,
            "utmCampaign": "social media 1",
            "convertedAt": "2022-09-08 00:00:00",
            "pro": true,
            "channel": "Twitter"
        }})
    );
}

#[tokio::test]
async fn put_custom_refuses_keys_not_on_the_customer() {
    let sb = start().await;
    // Never created anywhere.
    let r = send(
        cm(&sb, "PUT", &custom_path(SEED_CUSTOMER_UUID))
            .json(&json!({"custom": {"plan_tier": "gold"}})),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["param"], json!("plan_tier"));
    // Known to the account (on the other customer) but not on this one.
    let r = send(
        cm(&sb, "PUT", &custom_path(SEED_CUSTOMER_UUID))
            .json(&json!({"custom": {"pro": true, "CAC": 30}})),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["param"], json!("pro"));
    // Nothing applied (CAC unchanged).
    let c = sb.chartmogul().customer(SEED_CUSTOMER_UUID).unwrap();
    assert_eq!(c["attributes"]["custom"]["CAC"], json!(25));
}

#[tokio::test]
async fn put_custom_checks_the_value_against_the_key_type() {
    let sb = start().await;
    let path = custom_path(SECOND_CUSTOMER_UUID);
    for (key, value) in [
        ("pro", json!("maybe")),
        ("CAC", json!("12a")),
        ("CAC", json!(2.5)),
        ("convertedAt", json!("last tuesday")),
        ("channel", json!(5)),
    ] {
        let r = send(cm(&sb, "PUT", &path).json(&json!({"custom": {key: value}}))).await;
        assert_eq!(r.status, 422, "{key}={value}");
        assert!(r.json()["errors"][key].is_string(), "{}", r.text);
    }
    let r = send(cm(&sb, "PUT", &path).json(
        &json!({"custom": {"CAC": "300", "pro": "t", "convertedAt": "2023-01-02T03:04:05Z"}}),
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let custom = &r.json()["custom"];
    assert_eq!(custom["CAC"], json!(300));
    assert_eq!(custom["pro"], json!(true));
    assert_eq!(custom["convertedAt"], json!("2023-01-02 03:04:05"));
}

#[tokio::test]
async fn post_custom_validates_every_type_and_key() {
    let sb = start().await;
    let path = custom_path(SEED_CUSTOMER_UUID);
    let ok = json!({"custom": [
        {"type": "String", "key": "plan_name", "value": "Gold", "source": "integration"},
        {"type": "Integer", "key": "seats", "value": "12"},
        {"type": "Decimal", "key": "discount", "value": "12.5"},
        {"type": "Decimal", "key": "ratio", "value": 0.25},
        {"type": "Timestamp", "key": "renewal_at", "value": "2022-09-08 00:00:00"},
        {"type": "Boolean", "key": "vip", "value": "f"}
    ]});
    let r = send(cm(&sb, "POST", &path).json(&ok)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"custom": {
            "CAC": 25,
            "SalesRep": "Mike",
            "plan_name": "Gold",
            "seats": 12,
            "discount": 12.5,
            "ratio": 0.25,
            "renewal_at": "2022-09-08 00:00:00",
            "vip": false
        }})
    );

    let bad_cases = [
        json!({"type": "Boolean", "key": "b1", "value": "yes"}),
        json!({"type": "Boolean", "key": "b2", "value": 2}),
        json!({"type": "Integer", "key": "i1", "value": "12a"}),
        json!({"type": "Integer", "key": "i2", "value": 1.5}),
        json!({"type": "Integer", "key": "i3", "value": true}),
        json!({"type": "Decimal", "key": "d1", "value": "abc"}),
        json!({"type": "Timestamp", "key": "t1", "value": "tomorrow"}),
        json!({"type": "String", "key": "s1", "value": "x".repeat(256)}),
        json!({"type": "String", "key": "s2", "value": 12}),
        json!({"type": "Text", "key": "s3", "value": "x"}),
        json!({"type": "String", "key": "s4"}),
        json!({"key": "s5", "value": "x"}),
        json!({"type": "String", "key": "CAC", "value": "twenty"}),
        json!({"type": "string", "key": "s6", "value": "x"}),
    ];
    for case in bad_cases {
        let key = case["key"].as_str().unwrap().to_string();
        let r = send(cm(&sb, "POST", &path).json(&json!({"custom": [case.clone()]}))).await;
        assert_eq!(r.status, 422, "{case}: {}", r.text);
        assert!(r.json()["errors"][&key].is_string(), "{case}: {}", r.text);
    }
    for bad_key in ["bad-key", "bad key", "ключ", ""] {
        let r = send(
            cm(&sb, "POST", &path)
                .json(&json!({"custom": [{"type": "String", "key": bad_key, "value": "x"}]})),
        )
        .await;
        assert_eq!(r.status, 422, "{bad_key}");
    }
    // The 255-character boundary is accepted.
    let r = send(cm(&sb, "POST", &path).json(
        &json!({"custom": [{"type": "String", "key": "long_one", "value": "é".repeat(255)}]}),
    ))
    .await;
    assert_eq!(r.status, 200);
    // A batch with one bad entry applies nothing.
    let r = send(cm(&sb, "POST", &path).json(&json!({"custom": [
        {"type": "String", "key": "fine", "value": "x"},
        {"type": "Integer", "key": "broken", "value": "x"}
    ]})))
    .await;
    assert_eq!(r.status, 422);
    let c = sb.chartmogul().customer(SEED_CUSTOMER_UUID).unwrap();
    assert!(c["attributes"]["custom"].get("fine").is_none());
    // Structure errors.
    let r = send(cm(&sb, "POST", &path).json(&json!({"custom": {"a": 1}}))).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["errors"]["custom"].is_string());
}

#[tokio::test]
async fn boolean_spellings_are_exactly_the_documented_ones() {
    let sb = start().await;
    let path = custom_path(SECOND_CUSTOMER_UUID);
    for (spelling, expected) in [
        ("TRUE", true),
        ("true", true),
        ("t", true),
        ("1", true),
        ("FALSE", false),
        ("false", false),
        ("f", false),
        ("0", false),
    ] {
        let r = send(cm(&sb, "PUT", &path).json(&json!({"custom": {"pro": spelling}}))).await;
        assert_eq!(r.status, 200, "{spelling}");
        assert_eq!(r.json()["custom"]["pro"], json!(expected), "{spelling}");
    }
    for spelling in ["True", "T", "yes", "no", "F", "on", ""] {
        let r = send(cm(&sb, "PUT", &path).json(&json!({"custom": {"pro": spelling}}))).await;
        assert_eq!(r.status, 422, "{spelling}");
    }
    let r = send(cm(&sb, "PUT", &path).json(&json!({"custom": {"pro": false}}))).await;
    assert_eq!(r.json()["custom"]["pro"], json!(false));
}

#[tokio::test]
async fn delete_custom_removes_keys() {
    let sb = start().await;
    let r = send(
        cm(&sb, "DELETE", &custom_path(SECOND_CUSTOMER_UUID))
            .json(&json!({"custom": ["pro", "channel", "never_there"]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"custom": {"CAC": 213, "utmCampaign": "social media 1", "convertedAt": "2022-09-08 00:00:00"}})
    );
    // Once removed, PUT needs a POST again.
    let r = send(
        cm(&sb, "PUT", &custom_path(SECOND_CUSTOMER_UUID)).json(&json!({"custom": {"pro": true}})),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn tags_add_and_remove_idempotently() {
    let sb = start().await;
    let path = format!("/v1/customers/{SEED_CUSTOMER_UUID}/attributes/tags");
    let r = send(cm(&sb, "POST", &path).json(&json!({"tags": ["vip", "high-value", "vip"]}))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"tags": ["high-value", "vip"]}));
    let r = send(cm(&sb, "POST", &path).json(&json!({"tags": ["vip"]}))).await;
    assert_eq!(r.json(), json!({"tags": ["high-value", "vip"]}));
    let r = send(cm(&sb, "DELETE", &path).json(&json!({"tags": ["high-value", "absent"]}))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"tags": ["vip"]}));
    let r = send(cm(&sb, "POST", &path).json(&json!({"tags": "vip"}))).await;
    assert_eq!(r.status, 400);
    let r = send(cm(&sb, "POST", &path).json(&json!({"tags": [1]}))).await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn post_custom_by_email_with_the_documented_example() {
    let sb = start().await;
    let body = json!({"email": SECOND_CUSTOMER_EMAIL, "custom": [
        {"type": "String", "key": "channel", "value": "Facebook", "source": "integration"},
        {"type": "Integer", "key": "age", "value": 8}
    ]});
    let r = send(cm(&sb, "POST", "/v1/customers/attributes/custom").json(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["id"], json!(25647));
    assert_eq!(e["uuid"], json!(SECOND_CUSTOMER_UUID));
    assert_eq!(e["external_id"], json!("cus_0001"));
    assert_eq!(e["name"], json!("Smith Company"));
    assert_eq!(e["billing-system-type"], json!("Stripe"));
    assert_eq!(e["attributes"]["custom"]["channel"], json!("Facebook"));
    assert_eq!(e["attributes"]["custom"]["age"], json!(8));
    assert_eq!(e["attributes"]["tags"], json!(["important", "Prio1"]));

    let r = send(
        cm(&sb, "POST", "/v1/customers/attributes/custom").json(&json!({
            "email": "nobody@example.com",
            "custom": [{"type": "String", "key": "channel", "value": "x"}]
        })),
    )
    .await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());

    let r = send(
        cm(&sb, "POST", "/v1/customers/attributes/custom").json(&json!({
            "custom": [{"type": "String", "key": "channel", "value": "x"}]
        })),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["errors"]["email"].is_string());

    // Type clash with the account's definition: nothing applied.
    let r = send(
        cm(&sb, "POST", "/v1/customers/attributes/custom").json(&json!({
            "email": SECOND_CUSTOMER_EMAIL,
            "custom": [{"type": "Integer", "key": "channel", "value": 3}]
        })),
    )
    .await;
    assert_eq!(r.status, 422);
    let c = sb.chartmogul().customer(SECOND_CUSTOMER_UUID).unwrap();
    assert_eq!(c["attributes"]["custom"]["channel"], json!("Facebook"));
}

#[tokio::test]
async fn update_customer_edits_the_store_directly() {
    let sb = start().await;
    sb.chartmogul().update_customer(SEED_CUSTOMER_UUID, |c| {
        c["city"] = json!("Oakland");
    });
    let r = send(cm(&sb, "GET", &customer_path())).await;
    let c = r.json();
    assert_eq!(c["city"], json!("Oakland"));
    assert_eq!(c["address"]["city"], json!("Oakland"));
    assert!(sb.chartmogul().journal().iter().all(|e| e.method == "GET"));
}

#[tokio::test]
async fn ping_checks_credentials() {
    let sb = start().await;
    let r = send(cm(&sb, "GET", "/v1/ping")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"data": "pong!"}));
    let r = send(client().get(format!("{}/v1/ping", sb.chartmogul().base_url()))).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn unset_text_is_answered_as_an_empty_string() {
    let sb = start().await;
    // The second seeded customer prints no company: answered "", as the
    // vendor answers a customer without one (chartmogul-python reads
    // `company` as a non-null string).
    let r = send(cm(
        &sb,
        "GET",
        &format!("/v1/customers/{SECOND_CUSTOMER_UUID}"),
    ))
    .await;
    assert_eq!(r.json()["company"], json!(""));

    // Clearing with null or "" stores the same unset value.
    for clear in [json!(null), json!("")] {
        let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({"company": clear}))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["company"], json!(""), "answer to {clear}");
        let r = send(cm(&sb, "GET", &customer_path())).await;
        assert_eq!(r.json()["company"], json!(""), "read after {clear}");
    }
    let r = send(cm(&sb, "PATCH", &customer_path()).json(&json!({"email": null}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["email"], json!(""));
    // Location fields and timestamps are nullable at the vendor.
    let r = send(
        cm(&sb, "PATCH", &customer_path())
            .json(&json!({"city": null, "zip": null, "lead_created_at": null})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = r.json();
    assert_eq!(c["city"], json!(null));
    assert_eq!(c["address"]["address_zip"], json!(null));
    assert_eq!(c["lead_created_at"], json!(null));
}

#[tokio::test]
async fn custom_timestamps_are_answered_as_the_vendor_prints_them() {
    let sb = start().await;
    let path = custom_path(SECOND_CUSTOMER_UUID);
    let r = send(cm(&sb, "POST", &path).json(&json!({"custom": [
        {"type": "Timestamp", "key": "renewsAt", "value": "2024-03-01T10:00:00Z"},
        {"type": "Timestamp", "key": "trialEnd", "value": "2024-03-01T12:30:00.250+02:00"}
    ]})))
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let custom = &r.json()["custom"];
    // One spelling in the whole map: the seeded `convertedAt`'s.
    assert_eq!(custom["convertedAt"], json!("2022-09-08 00:00:00"));
    assert_eq!(custom["renewsAt"], json!("2024-03-01 10:00:00"));
    assert_eq!(custom["trialEnd"], json!("2024-03-01 10:30:00"));
    // The same through a PATCH.
    let r = send(
        cm(
            &sb,
            "PATCH",
            &format!("/v1/customers/{SECOND_CUSTOMER_UUID}"),
        )
        .json(&json!({"attributes": {"custom": {"convertedAt": "2020-01-02"}}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["attributes"]["custom"]["convertedAt"],
        json!("2020-01-02 00:00:00")
    );
}

#[tokio::test]
async fn by_email_entries_carry_the_printed_attribute_groups_only() {
    let sb = start().await;
    let r = send(
        cm(&sb, "POST", "/v1/customers/attributes/custom").json(&json!({
            "email": SECOND_CUSTOMER_EMAIL,
            "custom": [{"type": "Integer", "key": "age", "value": 8}]
        })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let attrs = r.json()["entries"][0]["attributes"].clone();
    let keys: Vec<&String> = attrs.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["custom", "stripe", "tags"], "{attrs}");
}

#[tokio::test]
async fn tags_by_email_with_the_documented_example() {
    let sb = start().await;
    let path = "/v1/customers/attributes/tags";
    let r = send(cm(&sb, "POST", path).json(&json!({
        "email": SECOND_CUSTOMER_EMAIL.to_uppercase(),
        "tags": ["important", "vip"]
    })))
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["id"], json!(25647));
    assert_eq!(e["uuid"], json!(SECOND_CUSTOMER_UUID));
    assert_eq!(e["external_id"], json!("cus_0001"));
    assert_eq!(e["name"], json!("Smith Company"));
    assert_eq!(e["email"], json!(SECOND_CUSTOMER_EMAIL));
    assert_eq!(e["status"], json!("Active"));
    assert_eq!(e["customer-since"], json!("2022-06-09T13:16:00-04:00"));
    assert_eq!(
        e["attributes"]["tags"],
        json!(["important", "Prio1", "vip"])
    );
    assert_eq!(e["attributes"]["stripe"], json!({"coupon": true}));
    assert_eq!(e["attributes"]["custom"]["CAC"], json!(213));
    let stored = sb.chartmogul().customer(SECOND_CUSTOMER_UUID).unwrap();
    assert_eq!(
        stored["attributes"]["tags"],
        json!(["important", "Prio1", "vip"])
    );

    let r =
        send(cm(&sb, "POST", path).json(&json!({"email": "nobody@example.com", "tags": ["x"]})))
            .await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let r = send(cm(&sb, "POST", path).json(&json!({"tags": ["x"]}))).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["errors"]["email"].is_string());
    let r = send(cm(&sb, "POST", path).json(&json!({"email": SECOND_CUSTOMER_EMAIL}))).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["errors"]["tags"].is_string());
    let r = send(
        cm(&sb, "POST", path).json(&json!({"email": SECOND_CUSTOMER_EMAIL, "tags": ["ok", " "]})),
    )
    .await;
    assert_eq!(r.status, 422);
    // Nothing applied by the refused calls.
    let stored = sb.chartmogul().customer(SECOND_CUSTOMER_UUID).unwrap();
    assert_eq!(
        stored["attributes"]["tags"],
        json!(["important", "Prio1", "vip"])
    );
    let r = send(cm(&sb, "GET", path)).await;
    assert_eq!(r.status, unibill_sandbox::NOT_EMULATED_STATUS);
}
