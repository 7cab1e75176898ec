//! Fusebill emulator: documented behaviour over real HTTP.

mod common;

use base64_free::encode;
use common::{client, fb, send, start};
use serde_json::{json, Value};
use unibill_sandbox::fusebill::{PARENT_CUSTOMER_ID, SEED_CUSTOMER_ID};
use unibill_sandbox::{fusebill, FUSEBILL_API_KEY};

/// Tiny base64 encoder so the test does not share the crate's codec.
mod base64_free {
    pub fn encode(input: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in input.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            out.push(T[(n >> 18) as usize & 63] as char);
            out.push(T[(n >> 12) as usize & 63] as char);
            out.push(if chunk.len() > 1 {
                T[(n >> 6) as usize & 63] as char
            } else {
                '='
            });
            out.push(if chunk.len() > 2 {
                T[n as usize & 63] as char
            } else {
                '='
            });
        }
        out
    }
}

fn path() -> String {
    format!("/v1/customers/{SEED_CUSTOMER_ID}")
}

async fn get_seed(sb: &unibill_sandbox::Sandbox) -> Value {
    let r = send(fb(sb, "GET", &path())).await;
    assert_eq!(r.status, 200);
    r.json()
}

fn assert_ticks(ts: &Value) {
    let s = ts.as_str().expect("timestamp is a string");
    // YYYY-MM-DDTHH:MM:SS.fffffffZ
    assert_eq!(s.len(), 28, "{s}");
    assert_eq!(&s[10..11], "T", "{s}");
    assert_eq!(&s[19..20], ".", "{s}");
    assert!(s[20..27].bytes().all(|b| b.is_ascii_digit()), "{s}");
    assert!(s.ends_with('Z'), "{s}");
}

#[tokio::test]
async fn get_answers_the_seed_customer_as_printed() {
    let sb = start().await;
    let r = send(fb(&sb, "GET", &path())).await;
    assert_eq!(r.status, 200);
    let c = r.json();
    assert_eq!(c["id"], json!(12000750));
    assert_eq!(c["firstName"], json!("Katelyn"));
    assert_eq!(c["primaryPhone"], json!(9964413586u64));
    assert_eq!(c["secondaryPhone"], json!(9555473089u64));
    assert_eq!(c["reference"], json!(100986));
    assert_eq!(c["salesforceId"], json!(12345678));
    assert_eq!(c["netsuiteId"], json!(12345678));
    assert_eq!(c["geotabId"], json!("7813"));
    assert_eq!(c["monthlyRecurringRevenue"], json!(250));
    assert_eq!(c["netMonthlyRecurringRevenue"], json!(220));
    assert_eq!(c["parentId"], json!(12000749));
    assert_eq!(
        c["modifiedTimestamp"],
        json!("2019-11-07T15:51:11.1915461Z")
    );
    assert_eq!(c["createdTimestamp"], json!("2018-01-01T03:33:33.02"));
    assert_eq!(c["customerReference"]["reference2"], json!("customValue"));
    assert_eq!(c["customerReference"]["salesTrackingCodes"], json!([]));
    assert_eq!(
        c["uri"],
        json!("https://secure.fusebill.com/v1/customers/12000750")
    );
    assert_eq!(
        r.header("x-rate-limit-limit-minute").as_deref(),
        Some("1000")
    );
    assert_eq!(
        r.header("x-rate-limit-remaining-minute").as_deref(),
        Some("999")
    );
    assert!(r.header("x-rate-limit-reset-minute").is_some());
    assert_eq!(
        r.header("x-rate-limit-limit-day").as_deref(),
        Some("180000")
    );
    assert_eq!(
        r.header("x-rate-limit-remaining-day").as_deref(),
        Some("179999")
    );
    assert!(r.header("x-rate-limit-reset-day").is_some());
    let parent = send(fb(
        &sb,
        "GET",
        &format!("/v1/customers/{PARENT_CUSTOMER_ID}"),
    ))
    .await;
    assert_eq!(parent.status, 200);
}

#[tokio::test]
async fn auth_wants_the_key_exactly_as_issued() {
    let sb = start().await;
    let url = format!("{}{}", sb.fusebill().base_url(), path());
    let double = encode(FUSEBILL_API_KEY.as_bytes());
    let r = send(
        client()
            .get(&url)
            .header("Authorization", format!("Basic {double}")),
    )
    .await;
    assert_eq!(r.status, 401);
    let body = r.json();
    assert_eq!(body["HttpStatusCode"], json!(401));
    assert_eq!(body["ErrorId"], json!(0));
    assert!(body["Errors"][0]["Key"].is_string());
    // base64("key:") as a generic Basic client would send it.
    let r = send(client().get(&url).basic_auth(FUSEBILL_API_KEY, Some(""))).await;
    assert_eq!(r.status, 401);
    let r = send(client().get(&url)).await;
    assert_eq!(r.status, 401);
    let r = send(
        client()
            .get(&url)
            .header("Authorization", format!("Bearer {FUSEBILL_API_KEY}")),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = send(
        client()
            .get(&url)
            .header("Authorization", format!("Basic {FUSEBILL_API_KEY}")),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn get_unknown_id_is_404_in_the_error_shape() {
    let sb = start().await;
    let r = send(fb(&sb, "GET", "/v1/customers/999")).await;
    assert_eq!(r.status, 404);
    let b = r.json();
    assert_eq!(b["HttpStatusCode"], json!(404));
    assert_eq!(b["ErrorId"], json!(0));
    assert_eq!(b["Errors"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn put_nulls_every_absent_field_including_nested_and_undocumented() {
    let sb = start().await;
    let before = get_seed(&sb).await;
    let body = json!({"id": 12000750, "title": "Mr", "firstName": "John", "lastName": "Smith", "companyName": "Acme Inc.", "Status": "Active"});
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = r.json();
    assert_eq!(c["firstName"], json!("John"));
    assert_eq!(c["title"], json!("Mr"));
    assert_eq!(c["status"], json!("Active"));
    assert!(c.get("Status").is_none());
    for nulled in [
        "middleName",
        "suffix",
        "primaryEmail",
        "primaryPhone",
        "secondaryEmail",
        "secondaryPhone",
        "reference",
        "parentId",
        "salesforceId",
        "salesforceSynchStatus",
        "netsuiteId",
        "netsuiteSynchStatus",
        "netsuiteCustomerType",
        "portalUserName",
        "geotabId",
    ] {
        assert_eq!(c[nulled], Value::Null, "{nulled}");
    }
    assert_eq!(c["customerReference"]["reference2"], Value::Null);
    assert_eq!(c["customerReference"]["salesTrackingCodes"], json!([]));
    assert_eq!(c["customerReference"]["id"], json!(12000750));
    assert_eq!(
        c["customerReference"]["uri"],
        before["customerReference"]["uri"]
    );
    assert_eq!(c["customerAcquisition"]["id"], json!(12000750));
    // System-managed fields keep their values; currency defaults.
    assert_eq!(c["id"], json!(12000750));
    assert_eq!(c["uri"], before["uri"]);
    assert_eq!(c["customerAccountStatus"], json!("Good"));
    assert_eq!(c["monthlyRecurringRevenue"], json!(250));
    assert_eq!(c["netMonthlyRecurringRevenue"], json!(220));
    assert_eq!(c["createdTimestamp"], json!("2018-01-01T03:33:33.02"));
    assert_eq!(c["currency"], json!("USD"));
    assert_ne!(c["modifiedTimestamp"], before["modifiedTimestamp"]);
    // PUT answers the stored record.
    assert_eq!(sb.fusebill().customer(SEED_CUSTOMER_ID), Some(c.clone()));
    assert_eq!(get_seed(&sb).await, c);
}

#[tokio::test]
async fn read_modify_write_keeps_everything_with_its_json_type() {
    let sb = start().await;
    let before = get_seed(&sb).await;
    let mut body = before.clone();
    body["companyName"] = json!("Ronbert Ltd");
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut after = r.json();
    assert_eq!(after["companyName"], json!("Ronbert Ltd"));
    assert_eq!(after["primaryPhone"], json!(9964413586u64));
    assert_eq!(after["reference"], json!(100986));
    assert_eq!(after["salesforceId"], json!(12345678));
    assert_eq!(after["geotabId"], json!("7813"));
    after["companyName"] = before["companyName"].clone();
    after["modifiedTimestamp"] = before["modifiedTimestamp"].clone();
    assert_eq!(after, before);
}

#[tokio::test]
async fn fields_only_the_record_knows_are_writable_too() {
    let sb = start().await;
    sb.fusebill().update_customer(SEED_CUSTOMER_ID, |c| {
        c["loyaltyTier"] = json!("gold");
        c["customerReference"]["crmCode"] = json!(77);
    });
    let mut body = get_seed(&sb).await;
    assert_eq!(body["loyaltyTier"], json!("gold"));
    // Sending it back keeps it.
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.json()["loyaltyTier"], json!("gold"));
    assert_eq!(r.json()["customerReference"]["crmCode"], json!(77));
    // Leaving it out nulls it.
    body.as_object_mut().unwrap().remove("loyaltyTier");
    body["customerReference"]
        .as_object_mut()
        .unwrap()
        .remove("crmCode");
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["loyaltyTier"], Value::Null);
    assert_eq!(r.json()["customerReference"]["crmCode"], Value::Null);
    // Keys unknown to the record are ignored, not stored.
    body["favouriteColour"] = json!("teal");
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("favouriteColour").is_none());
}

#[tokio::test]
async fn property_names_are_case_insensitive_and_stored_canonically() {
    let sb = start().await;
    let body = json!({
        "ID": 12000750, "STATUS": "active", "FirstName": "Kate", "primaryemail": "k@example.com",
        "CustomerReference": {"Reference1": "r1", "SalesTrackingCodes": [{"Type": "Sales Tracking Code 1", "Code": "SPRING"}]}
    });
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = r.json();
    assert_eq!(c["firstName"], json!("Kate"));
    assert_eq!(c["primaryEmail"], json!("k@example.com"));
    assert_eq!(c["status"], json!("Active"));
    assert_eq!(c["customerReference"]["reference1"], json!("r1"));
    assert_eq!(
        c["customerReference"]["salesTrackingCodes"],
        json!([{"type": "Sales Tracking Code 1", "code": "SPRING"}])
    );
    for k in [
        "FirstName",
        "primaryemail",
        "STATUS",
        "ID",
        "CustomerReference",
    ] {
        assert!(c.get(k).is_none(), "{k}");
    }
    // The same property twice in different case is ambiguous.
    let r = send(
        fb(&sb, "PUT", "/v1/customers")
            .json(&json!({"id": 12000750, "status": "Active", "firstName": "a", "FIRSTNAME": "b"})),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn id_and_status_are_required() {
    let sb = start().await;
    let before = get_seed(&sb).await;
    let r =
        send(fb(&sb, "PUT", "/v1/customers").json(&json!({"status": "Active", "firstName": "X"})))
            .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["Errors"][0]["Key"], json!("id"));
    assert_eq!(r.json()["HttpStatusCode"], json!(400));
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&json!({"id": 12000750, "firstName": "X"})))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["Errors"][0]["Key"], json!("status"));
    let r =
        send(fb(&sb, "PUT", "/v1/customers").json(&json!({"id": 12000750, "status": null}))).await;
    assert_eq!(r.status, 400);
    let r =
        send(fb(&sb, "PUT", "/v1/customers").json(&json!({"id": "12000750", "status": "Active"})))
            .await;
    assert_eq!(r.status, 400);
    let r =
        send(fb(&sb, "PUT", "/v1/customers").json(&json!({"id": 4242, "status": "Active"}))).await;
    assert_eq!(r.status, 404);
    assert_eq!(get_seed(&sb).await, before);
}

#[tokio::test]
async fn suspended_cannot_be_set_by_hand() {
    let sb = start().await;
    let before = get_seed(&sb).await;
    let r =
        send(fb(&sb, "PUT", "/v1/customers").json(&json!({"id": 12000750, "status": "Suspended"})))
            .await;
    assert_eq!(r.status, 400);
    let b = r.json();
    assert_eq!(b["ErrorId"], json!(0));
    assert_eq!(b["HttpStatusCode"], json!(400));
    assert_eq!(b["Errors"][0]["Key"], json!("Api Error"));
    assert!(b["Errors"][0]["Value"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("suspend"));
    assert_eq!(get_seed(&sb).await, before);
    // A customer the system suspended can be written back unchanged.
    sb.fusebill()
        .update_customer(SEED_CUSTOMER_ID, |c| c["status"] = json!("Suspended"));
    let body = get_seed(&sb).await;
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn enums_are_enforced() {
    let sb = start().await;
    let base = get_seed(&sb).await;
    let cases = [
        ("status", json!("Paused")),
        ("title", json!("Sir")),
        ("quickBooksLatchType", json!("Merge")),
        ("status", json!(1)),
    ];
    for (field, value) in cases {
        let mut body = base.clone();
        body[field] = value.clone();
        let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
        assert_eq!(r.status, 400, "{field}={value}");
        assert_eq!(r.json()["Errors"][0]["Key"], json!(field));
    }
    for (field, value, stored) in [
        ("title", "dr", "Dr"),
        ("quickBooksLatchType", "createnew", "CreateNew"),
        ("status", "Hold", "Hold"),
        ("status", "Cancelled", "Cancelled"),
    ] {
        let mut body = base.clone();
        body[field] = json!(value);
        let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
        assert_eq!(r.status, 200, "{field}={value}");
        assert_eq!(r.json()[field], json!(stored));
    }
}

#[tokio::test]
async fn max_lengths_and_sales_tracking_codes() {
    let sb = start().await;
    let base = get_seed(&sb).await;
    for (field, max) in [
        ("firstName", 50),
        ("middleName", 50),
        ("lastName", 50),
        ("companyName", 50),
        ("suffix", 50),
        ("primaryPhone", 50),
        ("secondaryPhone", 50),
        ("reference", 255),
    ] {
        let mut ok = base.clone();
        ok[field] = json!("a".repeat(max));
        let r = send(fb(&sb, "PUT", "/v1/customers").json(&ok)).await;
        assert_eq!(r.status, 200, "{field} at {max}");
        let mut too_long = base.clone();
        too_long[field] = json!("a".repeat(max + 1));
        let r = send(fb(&sb, "PUT", "/v1/customers").json(&too_long)).await;
        assert_eq!(r.status, 400, "{field} at {}", max + 1);
        assert_eq!(r.json()["Errors"][0]["Key"], json!(field));
    }
    let long_email = format!("{}@example.com", "a".repeat(244));
    assert_eq!(long_email.len(), 256);
    let mut body = base.clone();
    body["primaryEmail"] = json!(long_email);
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        400
    );
    body["primaryEmail"] = json!("a@example.com; b@example.com");
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        200
    );
    body["primaryEmail"] = json!("not an email");
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        400
    );

    let mut body = base.clone();
    body["customerReference"]["reference1"] = json!("r".repeat(256));
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["Errors"][0]["Key"],
        json!("customerReference.reference1")
    );
    let mut body = base.clone();
    body["customerAcquisition"]["campaign"] = json!("c".repeat(256));
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["Errors"][0]["Key"],
        json!("customerAcquisition.campaign")
    );

    let code = |n: usize| json!({"type": format!("Sales Tracking Code {}", (n % 5) + 1), "code": format!("C{n}")});
    let mut body = base.clone();
    body["customerReference"]["salesTrackingCodes"] = json!((0..5).map(code).collect::<Vec<_>>());
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        200
    );
    body["customerReference"]["salesTrackingCodes"] = json!((0..6).map(code).collect::<Vec<_>>());
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        400
    );
    body["customerReference"]["salesTrackingCodes"] =
        json!([{"type": "Sales Tracking Code 1", "code": "x".repeat(256)}]);
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        400
    );
    body["customerReference"]["salesTrackingCodes"] = json!([{"type": "Region", "code": "EU"}]);
    assert_eq!(
        send(fb(&sb, "PUT", "/v1/customers").json(&body))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn currency_and_integer_fields_are_typed() {
    let sb = start().await;
    let base = get_seed(&sb).await;
    for (field, value) in [
        ("currency", json!("usd")),
        ("currency", json!("DOLLARS")),
        ("currency", json!("XYZ")),
        ("parentId", json!("12000749")),
        ("parentId", json!(1.5)),
        ("parentId", json!(777)),
        ("quickBooksId", json!("42")),
        ("firstName", json!(true)),
        ("customerReference", json!("ref")),
    ] {
        let mut body = base.clone();
        body[field] = value.clone();
        let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
        assert_eq!(r.status, 400, "{field}={value}");
    }
    let mut body = base.clone();
    body["currency"] = json!("USD");
    body["quickBooksId"] = json!(42);
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["currency"], json!("USD"));
    assert_eq!(r.json()["quickBooksId"], json!(42));
    // A string stays a string, a number stays a number.
    let mut body = r.json();
    body["primaryPhone"] = json!("613-555-0100");
    body["reference"] = json!(555);
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.json()["primaryPhone"], json!("613-555-0100"));
    assert_eq!(r.json()["reference"], json!(555));
}

#[tokio::test]
async fn modified_timestamp_advances_on_every_write() {
    let sb = start().await;
    let first = get_seed(&sb).await;
    let r1 = send(fb(&sb, "PUT", "/v1/customers").json(&first))
        .await
        .json();
    let r2 = send(fb(&sb, "PUT", "/v1/customers").json(&r1)).await.json();
    assert_ticks(&r1["modifiedTimestamp"]);
    assert_ticks(&r2["modifiedTimestamp"]);
    let t0 = first["modifiedTimestamp"].as_str().unwrap().to_string();
    let t1 = r1["modifiedTimestamp"].as_str().unwrap().to_string();
    let t2 = r2["modifiedTimestamp"].as_str().unwrap().to_string();
    assert!(t0 < t1 && t1 < t2, "{t0} {t1} {t2}");
    sb.fusebill()
        .update_customer(SEED_CUSTOMER_ID, |c| c["firstName"] = json!("Kay"));
    let t3 = sb.fusebill().customer(SEED_CUSTOMER_ID).unwrap()["modifiedTimestamp"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(t2 < t3, "{t2} {t3}");
    // GET does not advance it.
    let g = get_seed(&sb).await;
    assert_eq!(g["modifiedTimestamp"], json!(t3));
}

#[tokio::test]
async fn find_by_reference_and_wrong_content_type() {
    let sb = start().await;
    let r = send(fb(&sb, "GET", "/v1/customers?query=reference:100986")).await;
    assert_eq!(r.status, 200);
    let list = r.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["id"], json!(12000750));
    let r = send(fb(&sb, "GET", "/v1/customers?query=reference:nope")).await;
    assert_eq!(r.json(), json!([]));
    let r = send(
        fb(&sb, "PUT", "/v1/customers")
            .header("content-type", "text/plain")
            .body(r#"{"id":12000750,"status":"Active"}"#),
    )
    .await;
    assert_eq!(r.status, 415);
    let r = send(
        fb(&sb, "PUT", "/v1/customers")
            .header("content-type", "application/json")
            .body("{id:12000750"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["HttpStatusCode"], json!(400));
}

/// Stax Bill "Errors": the documented error bodies put `"Api Error"` in
/// `Key` for errors that name no field, authorization errors included.
#[tokio::test]
async fn unauthorized_answers_key_api_error() {
    let sb = start().await;
    let url = format!("{}{}", sb.fusebill().base_url(), path());
    let r = send(client().get(&url)).await;
    assert_eq!(r.status, 401);
    let body = r.json();
    assert_eq!(body["HttpStatusCode"], json!(401));
    assert_eq!(body["Errors"][0]["Key"], json!("Api Error"));
}

/// Stax Bill "Rate Limits": "If either one of these maximums has been
/// reached, an HTTP 429 error will be returned. The body of the error will
/// indicate which limit."
#[tokio::test]
async fn rate_limited_body_names_the_limit() {
    let sb = start().await;
    let f = sb.fusebill();
    f.set_rate_limit(Some(unibill_sandbox::RateLimit::FUSEBILL_SANDBOX));
    for _ in 0..50 {
        assert_eq!(send(fb(&sb, "GET", &path())).await.status, 200);
    }
    let r = send(fb(&sb, "GET", &path())).await;
    assert_eq!(r.status, 429);
    let body = r.json();
    assert_eq!(body["HttpStatusCode"], json!(429));
    let value = body["Errors"][0]["Value"].as_str().unwrap_or_default();
    assert!(value.contains("50 requests per minute"), "{value}");
    assert_eq!(
        r.header("x-rate-limit-remaining-minute").as_deref(),
        Some("0")
    );
}

/// Stax Bill "Create Customer": the currency "can not be edited after the
/// customer has been created". A `PUT` without it keeps the customer's
/// currency (not the account default); the same code is accepted; another
/// code is refused and nothing changes.
#[tokio::test]
async fn currency_cannot_change_after_creation() {
    let sb = start().await;
    let f = sb.fusebill();
    f.update_customer(SEED_CUSTOMER_ID, |c| c["currency"] = json!("CAD"));
    let base = get_seed(&sb).await;
    let mut body = base.clone();
    body.as_object_mut().unwrap().remove("currency");
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["currency"], json!("CAD"));
    let mut body = base.clone();
    body["currency"] = Value::Null;
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.json()["currency"], json!("CAD"));
    let mut body = base.clone();
    body["currency"] = json!("CAD");
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 200);
    let mut body = base.clone();
    body["currency"] = json!("EUR");
    body["firstName"] = json!("Changed");
    let r = send(fb(&sb, "PUT", "/v1/customers").json(&body)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["Errors"][0]["Key"], json!("currency"));
    let stored = f.customer(SEED_CUSTOMER_ID).unwrap();
    assert_eq!(stored["currency"], json!("CAD"));
    assert_eq!(stored["firstName"], json!("Katelyn"));
}

fn ids(r: &common::Res) -> Vec<i64> {
    r.json()
        .as_array()
        .expect("a JSON array")
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect()
}

/// Stax Bill "String Filtering" and "List Customers": any documented field,
/// pairs joined by `;`, `*` wildcards, `[empty]` for null or empty, comma
/// sets on enum and id fields, nested reference/acquisition fields.
#[tokio::test]
async fn list_filters_as_the_string_filtering_page_describes() {
    let sb = start().await;
    let list = |q: &str| {
        let q = q.to_string();
        let sb = &sb;
        async move { send(fb(sb, "GET", &format!("/v1/customers?query={q}"))).await }
    };
    assert_eq!(ids(&list("firstName:Katelyn").await), vec![12000750]);
    assert_eq!(
        ids(&list("firstName:Katelyn;lastName:Floyd").await),
        vec![12000750]
    );
    assert!(ids(&list("firstName:Katelyn;lastName:Bertram").await).is_empty());
    assert_eq!(ids(&list("primaryPhone:996*").await), vec![12000750]);
    assert_eq!(ids(&list("primaryPhone:*555*").await), vec![12000749]);
    assert_eq!(ids(&list("secondaryEmail:[empty]").await), vec![12000749]);
    assert_eq!(
        ids(&list("status:Active,Draft").await),
        vec![12000749, 12000750]
    );
    assert_eq!(ids(&list("id:12000749,123,456").await), vec![12000749]);
    assert_eq!(
        ids(&list("customerReference.reference2:customValue").await),
        vec![12000750]
    );
    assert_eq!(ids(&list("Reference:RG-0001").await), vec![12000749]);
    // No such field: 400.
    assert_eq!(list("shoeSize:42").await.status, 400);
}

/// Stax Bill "Pagination": `pageSize`/`pageNumber` (from 0) and the
/// `X-Count`, `X-CurrentPage`, `X-PreviousPage` (-1 for none),
/// `X-NextPage`, `X-PageSize`, `X-MaxPageIndex` ("Total number of
/// pages"), `X-MaxCount`, `X-SortOrder` ("Ascending or Descending") and
/// `X-SortExpression` ("The object field being sorted on") headers.
#[tokio::test]
async fn list_pages_with_the_documented_headers() {
    let sb = start().await;
    let r = send(fb(&sb, "GET", "/v1/customers?pageSize=1&pageNumber=0")).await;
    assert_eq!(ids(&r), vec![12000749]);
    assert_eq!(r.header("x-count").as_deref(), Some("2"));
    assert_eq!(r.header("x-currentpage").as_deref(), Some("0"));
    assert_eq!(r.header("x-previouspage").as_deref(), Some("-1"));
    assert_eq!(r.header("x-nextpage").as_deref(), Some("1"));
    assert_eq!(r.header("x-pagesize").as_deref(), Some("1"));
    assert_eq!(r.header("x-maxpageindex").as_deref(), Some("2"));
    assert_eq!(r.header("x-sortorder").as_deref(), Some("Ascending"));
    assert_eq!(r.header("x-sortexpression").as_deref(), Some("id"));
    let r = send(fb(&sb, "GET", "/v1/customers?pageSize=1&pageNumber=1")).await;
    assert_eq!(ids(&r), vec![12000750]);
    assert_eq!(r.header("x-previouspage").as_deref(), Some("0"));
    assert_eq!(r.header("x-nextpage").as_deref(), Some("-1"));
    assert_eq!(r.header("x-maxpageindex").as_deref(), Some("2"));
    // Three customers in pages of two: two pages, whatever page is read.
    sb.fusebill().add_customers(1);
    for page in 0..3 {
        let r = send(fb(
            &sb,
            "GET",
            &format!("/v1/customers?pageSize=2&pageNumber={page}"),
        ))
        .await;
        assert_eq!(
            r.header("x-maxpageindex").as_deref(),
            Some("2"),
            "page {page}"
        );
    }
    // Nothing matches: no pages.
    let r = send(fb(&sb, "GET", "/v1/customers?query=firstName:Nobody")).await;
    assert_eq!(r.header("x-count").as_deref(), Some("0"));
    assert_eq!(r.header("x-maxpageindex").as_deref(), Some("0"));
    assert_eq!(r.header("x-nextpage").as_deref(), Some("-1"));
    let r = send(fb(&sb, "GET", "/v1/customers?pageSize=0")).await;
    assert_eq!(r.status, 400);
}

/// The list answers in the order its sort headers state: by `id`,
/// ascending, whatever order the customers were stored in.
#[tokio::test]
async fn list_is_sorted_as_its_sort_headers_say() {
    let sb = start().await;
    sb.add_lookup_seeds();
    let r = send(fb(&sb, "GET", "/v1/customers")).await;
    assert_eq!(r.header("x-sortexpression").as_deref(), Some("id"));
    assert_eq!(r.header("x-sortorder").as_deref(), Some("Ascending"));
    let got = ids(&r);
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted);
    assert_eq!(got.len(), 8);
}

/// Stax Bill "Date Filtering", examples A-E, on the seeded customers:
/// 12000750 created 2018-01-01T03:33:33.02, modified 2019-11-07, MRR 250;
/// 12000749 created 2017-12-31T23:10:05.47, modified 2019-11-01, MRR 0.
#[tokio::test]
async fn list_filters_ranges_as_the_date_filtering_page_describes() {
    let sb = start().await;
    let list = |q: &str| {
        let q = q.to_string();
        let sb = &sb;
        async move {
            send(
                fb(sb, "GET", "/v1/customers").query(&[("query", q.as_str()), ("pageSize", "100")]),
            )
            .await
        }
    };
    // A: closed interval, the lower bound included, the upper excluded.
    let r = list("createdTimestamp:2018-01-01|2019-01-01").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), vec![12000750]);
    assert_eq!(r.header("x-count").as_deref(), Some("1"));
    assert_eq!(
        ids(&list("createdTimestamp:2017-01-01|2018-01-01").await),
        vec![12000749]
    );
    // A bare date is midnight: the seed created at 03:33:33 on the upper
    // bound's day is excluded, one created before midnight is not.
    assert_eq!(
        ids(&list("createdTimestamp:2017-12-31|2018-01-01T03:33:33").await),
        vec![12000749]
    );
    assert_eq!(
        ids(&list("createdTimestamp:2017-12-31|2018-01-01T03:33:34").await),
        vec![12000749, 12000750]
    );
    // B: lower bounded.
    assert_eq!(
        ids(&list("modifiedTimestamp:2018-01-01|").await),
        vec![12000749, 12000750]
    );
    assert_eq!(
        ids(&list("modifiedTimestamp:2019-11-05|").await),
        vec![12000750]
    );
    // C: upper bounded.
    assert_eq!(
        ids(&list("createdTimestamp:|2019-01-01").await),
        vec![12000749, 12000750]
    );
    assert_eq!(
        ids(&list("createdTimestamp:|2018-01-01").await),
        vec![12000749]
    );
    // D: decimal ranges, closed and open on either side.
    assert_eq!(
        ids(&list("monthlyRecurringRevenue:50.00|180.00").await),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&list("monthlyRecurringRevenue:50.00|").await),
        vec![12000750]
    );
    assert_eq!(
        ids(&list("monthlyRecurringRevenue:|180.00").await),
        vec![12000749]
    );
    assert_eq!(
        ids(&list("monthlyRecurringRevenue:200|250.01").await),
        vec![12000750]
    );
    assert_eq!(
        ids(&list("netMonthlyRecurringRevenue:0|220").await),
        vec![12000749]
    );
    // E: ranges combined with each other and with string filtering.
    assert_eq!(
        ids(&list("monthlyRecurringRevenue:50.00|300;modifiedTimestamp:|2020-01-01").await),
        vec![12000750]
    );
    assert_eq!(
        ids(&list("monthlyRecurringRevenue:50.00|300;modifiedTimestamp:|2019-11-02").await),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&list("createdTimestamp:|2019-01-01;firstName:Katelyn").await),
        vec![12000750]
    );
    // "Changed since": a write moves the customer into the window.
    let before = list("modifiedTimestamp:2020-01-01|").await;
    assert!(ids(&before).is_empty());
    sb.fusebill()
        .update_customer(fusebill::PARENT_CUSTOMER_ID, |c| {
            c["lastName"] = json!("Ronbert")
        });
    assert_eq!(
        ids(&list("modifiedTimestamp:2020-01-01|").await),
        vec![12000749]
    );
    // Refused, in the vendor's error shape: a range on a text field, a
    // bound of the wrong kind, no bound, two pipes.
    for bad in [
        "firstName:a|b",
        "createdTimestamp:yesterday|",
        "createdTimestamp:2018-13-01|",
        "monthlyRecurringRevenue:|lots",
        "monthlyRecurringRevenue:1e3|",
        "modifiedTimestamp:|",
        "createdTimestamp:2018-01-01|2019-01-01|2020-01-01",
    ] {
        let r = list(bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_eq!(r.json()["Errors"][0]["Key"], json!("query"), "{bad}");
    }
}
