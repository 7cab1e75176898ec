//! Everlytic emulator: documented behaviour over real HTTP.

mod common;

use common::{client, ev, send, start};
use serde_json::{json, Value};
use unibill_sandbox::everlytic::{
    INDUSTRIES, SECOND_CUSTOMER_ID, SEED_CUSTOMER_EMAIL, SEED_CUSTOMER_ID,
};
use unibill_sandbox::{PutShape, EVERLYTIC_API_KEY, EVERLYTIC_USERNAME};

fn path() -> String {
    format!("/api/2.0/customers/{SEED_CUSTOMER_ID}")
}

fn required() -> Value {
    json!({"name": "Cape Mailers (Pty) Ltd", "email": SEED_CUSTOMER_EMAIL})
}

fn with(extra: Value) -> Value {
    let mut body = required();
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn get_answers_the_wrapped_item() {
    let sb = start().await;
    let r = send(ev(&sb, "GET", &path()).header("Accept", "application/json")).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        v["links"],
        json!([{"title": "Self", "rel": "self", "href": format!("{}/api/2.0/customers/1001", sb.everlytic().base_url())}])
    );
    let item = &v["item"];
    assert_eq!(item["id"], json!(1001));
    assert_eq!(item["email"], json!(SEED_CUSTOMER_EMAIL));
    assert_eq!(item["industry"], json!("Hospitality, Travel & Tourism"));
    for prop in unibill_sandbox::everlytic::PROPERTIES {
        assert!(item.get(*prop).is_some(), "seed sets {prop}");
    }
    assert_eq!(
        sb.everlytic().customer(SEED_CUSTOMER_ID).as_ref(),
        Some(item)
    );
    let second = send(ev(
        &sb,
        "GET",
        &format!("/api/2.0/customers/{SECOND_CUSTOMER_ID}"),
    ))
    .await;
    assert_eq!(second.status, 200);
    let list = send(ev(&sb, "GET", "/api/2.0/customers")).await.json();
    assert_eq!(list["collection"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn auth_is_basic_username_colon_apikey() {
    let sb = start().await;
    let url = format!("{}{}", sb.everlytic().base_url(), path());
    for rb in [
        client().get(&url),
        client()
            .get(&url)
            .basic_auth(EVERLYTIC_USERNAME, Some("wrong")),
        client()
            .get(&url)
            .basic_auth(EVERLYTIC_API_KEY, None::<&str>),
        client()
            .get(&url)
            .basic_auth("someone", Some(EVERLYTIC_API_KEY)),
        client()
            .get(&url)
            .header("Authorization", format!("Basic {EVERLYTIC_API_KEY}")),
    ] {
        let r = send(rb).await;
        assert_eq!(r.status, 401);
        assert!(r.json()["error"]["message"].is_string());
    }
    let ok = send(
        client()
            .get(&url)
            .basic_auth(EVERLYTIC_USERNAME, Some(EVERLYTIC_API_KEY)),
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let sb = start().await;
    let r = send(ev(&sb, "GET", "/api/2.0/customers/9999")).await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"]["message"].is_string());
    let r = send(ev(&sb, "PUT", "/api/2.0/customers/9999").json(&required())).await;
    assert_eq!(r.status, 404);
    let r = send(ev(&sb, "GET", "/api/2.0/customers/abc")).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn name_and_email_are_required_on_every_update() {
    let sb = start().await;
    let before = sb.everlytic().customer(SEED_CUSTOMER_ID);
    for body in [
        json!({"email": SEED_CUSTOMER_EMAIL, "sms_quota": 10}),
        json!({"name": "Cape Mailers", "sms_quota": 10}),
        json!({"name": "", "email": SEED_CUSTOMER_EMAIL}),
        json!({"name": "Cape", "email": null}),
        json!({"sms_quota": 10}),
    ] {
        let r = send(ev(&sb, "PUT", &path()).json(&body)).await;
        assert_eq!(r.status, 400, "{body}");
        assert!(r.json()["error"]["message"].is_string());
    }
    assert_eq!(sb.everlytic().customer(SEED_CUSTOMER_ID), before);
}

#[tokio::test]
async fn put_is_partial_and_answers_the_wrapped_item() {
    let sb = start().await;
    let before = sb.everlytic().customer(SEED_CUSTOMER_ID).unwrap();
    let r =
        send(ev(&sb, "PUT", &path()).json(&with(json!({"sms_quota": 5, "status": "suspended"}))))
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert!(v["links"].is_array());
    let item = &v["item"];
    assert_eq!(item["sms_quota"], json!(5));
    assert_eq!(item["status"], json!("suspended"));
    let mut expected = before.clone();
    expected["sms_quota"] = json!(5);
    expected["status"] = json!("suspended");
    assert_eq!(item, &expected);
}

#[tokio::test]
async fn put_answer_shape_is_switchable() {
    let sb = start().await;
    sb.everlytic().set_everlytic_put_shape(PutShape::Bare);
    let r = send(ev(&sb, "PUT", &path()).json(&required())).await;
    assert_eq!(r.json()["id"], json!(1001));
    assert!(r.json().get("item").is_none());
    sb.everlytic().set_everlytic_put_shape(PutShape::Integer);
    let r = send(ev(&sb, "PUT", &path()).json(&required())).await;
    assert_eq!(r.text, "1001");
    sb.everlytic().set_everlytic_put_shape(PutShape::Wrapped);
    let r = send(ev(&sb, "PUT", &path()).json(&required())).await;
    assert_eq!(r.json()["item"]["id"], json!(1001));
}

#[tokio::test]
async fn enums_are_enforced() {
    let sb = start().await;
    for status in ["on", "off", "suspended", "deleted"] {
        let r = send(ev(&sb, "PUT", &path()).json(&with(json!({"status": status})))).await;
        assert_eq!(r.status, 200, "{status}");
    }
    for status in ["active", "ON", "paused", ""] {
        let r = send(ev(&sb, "PUT", &path()).json(&with(json!({"status": status})))).await;
        assert_eq!(r.status, 400, "{status}");
    }
    for deleted in ["yes", "no"] {
        let r = send(ev(&sb, "PUT", &path()).json(&with(json!({"deleted": deleted})))).await;
        assert_eq!(r.status, 200, "{deleted}");
    }
    for deleted in [json!("true"), json!(true), json!("YES")] {
        let r = send(ev(&sb, "PUT", &path()).json(&with(json!({"deleted": deleted})))).await;
        assert_eq!(r.status, 400, "{deleted}");
    }
}

#[tokio::test]
async fn industry_list_has_19_values_some_with_commas() {
    assert_eq!(INDUSTRIES.len(), 19);
    let sb = start().await;
    for industry in INDUSTRIES {
        let r = send(ev(&sb, "PUT", &path()).json(&with(json!({"industry": industry})))).await;
        assert_eq!(r.status, 200, "{industry}");
        assert_eq!(r.json()["item"]["industry"], json!(industry));
    }
    for bad in [
        "Hospitality",
        "Travel & Tourism",
        "Industry",
        "Trade & Manufacture",
        "Lifestyle",
        "Arts & Entertainment",
        "technology & science",
        "Ecommerce",
    ] {
        let r = send(ev(&sb, "PUT", &path()).json(&with(json!({"industry": bad})))).await;
        assert_eq!(r.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn types_country_and_unknown_properties() {
    let sb = start().await;
    let before = sb.everlytic().customer(SEED_CUSTOMER_ID);
    for extra in [
        json!({"country": "ZAF"}),
        json!({"country": "Z"}),
        json!({"country": "Z1"}),
        json!({"email_quota": -1}),
        json!({"email_quota": "100"}),
        json!({"sms_quota": 1.5}),
        json!({"transactions_package_id": null}),
        json!({"telephone": 27215550100u64}),
        json!({"id": 1001}),
        json!({"hash": "abc"}),
        json!({"favourite_colour": "teal"}),
        json!({"email": "not-an-email"}),
    ] {
        let r = send(ev(&sb, "PUT", &path()).json(&with(extra.clone()))).await;
        assert_eq!(r.status, 400, "{extra}");
        assert!(r.json()["error"]["message"].is_string());
    }
    assert_eq!(sb.everlytic().customer(SEED_CUSTOMER_ID), before);
    let r = send(ev(&sb, "PUT", &path()).json(&with(json!({
        "country": "NA", "email_quota": 0, "transactions_quota": 250000, "unique_id": "X-9"
    }))))
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let item = &r.json()["item"];
    assert_eq!(item["country"], json!("NA"));
    assert_eq!(item["email_quota"], json!(0));
    assert_eq!(item["transactions_quota"], json!(250000));
}

#[tokio::test]
async fn accept_header_must_allow_json() {
    let sb = start().await;
    let r = send(ev(&sb, "GET", &path()).header("Accept", "application/json")).await;
    assert_eq!(r.status, 200);
    let r =
        send(ev(&sb, "GET", &path()).header("Accept", "application/json, text/plain;q=0.5")).await;
    assert_eq!(r.status, 200);
    let r = send(ev(&sb, "GET", &path()).header("Accept", "application/xml")).await;
    assert_eq!(r.status, 406);
}

/// Everlytic "The REST API": JSON or XML by `Accept`; the browser link
/// (whose `Accept` starts with `text/html`) shows JSON. Only an `Accept`
/// that asks for XML and not JSON gets the sandbox's 406 (it serves no XML).
#[tokio::test]
async fn accept_without_xml_gets_json() {
    let sb = start().await;
    for accept in ["text/html", "text/plain", "text/html,application/xhtml+xml"] {
        let r = send(ev(&sb, "GET", &path()).header("Accept", accept)).await;
        assert_eq!(r.status, 200, "{accept}");
        assert_eq!(r.json()["item"]["id"], json!(1001), "{accept}");
    }
    let r = send(ev(&sb, "GET", &path()).header("Accept", "text/xml")).await;
    assert_eq!(r.status, 406);
    assert!(r.json()["error"]["message"].is_string());
}

/// The error shape the vendor's "Get the List of Available Field
/// Definitions" page prints: `links` (self, home) beside
/// `error.code`/`message`/`additional`. The codes are the emulator's own
/// (`00` + status); only `09001` is documented.
#[tokio::test]
async fn errors_carry_code_additional_and_links() {
    let sb = start().await;
    let base = sb.everlytic().base_url();
    let check = |r: &common::Res, status: u16, self_path: Option<&str>| {
        assert_eq!(r.status, status, "{}", r.text);
        let b = r.json();
        assert_eq!(b["error"]["code"], json!(format!("{status:05}")), "{b}");
        assert!(
            b["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{b}"
        );
        assert_eq!(b["error"]["additional"], Value::Null, "{b}");
        assert!(b["error"].as_object().unwrap().contains_key("additional"));
        let links = b["links"].as_array().expect("links");
        let mut want = Vec::new();
        if let Some(p) = self_path {
            want.push(json!({"title": "Self", "rel": "self", "href": format!("{base}{p}")}));
        }
        want.push(json!({"title": "Home", "rel": "home", "href": format!("{base}/api/2.0/")}));
        assert_eq!(links, &want, "{b}");
    };
    let r = send(ev(&sb, "GET", "/api/2.0/customers/9999")).await;
    check(&r, 404, Some("/api/2.0/customers/9999"));
    let r = send(ev(&sb, "PUT", &path()).json(&json!({"email": SEED_CUSTOMER_EMAIL}))).await;
    check(&r, 400, Some(&path()));
    let r = send(ev(&sb, "GET", "/api/2.0/customers?page=0")).await;
    check(&r, 400, Some("/api/2.0/customers?page=0"));
    let r = send(
        client()
            .get(format!("{base}{}", path()))
            .basic_auth(EVERLYTIC_USERNAME, Some("wrong")),
    )
    .await;
    check(&r, 401, Some(&path()));
    let r = send(ev(&sb, "GET", &path()).header("Accept", "application/xml")).await;
    check(&r, 406, Some(&path()));
    let r = send(
        ev(&sb, "PUT", &path())
            .header("Content-Type", "text/plain")
            .body("x"),
    )
    .await;
    check(&r, 415, Some(&path()));
    // Injected faults: the request's address is not at hand, so only home.
    sb.everlytic().inject(unibill_sandbox::Fault::status(503));
    let r = send(ev(&sb, "GET", &path())).await;
    check(&r, 503, None);
    // Success answers are unchanged.
    let r = send(ev(&sb, "GET", &path())).await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("error").is_none());
}

fn links_of(r: &common::Res) -> std::collections::BTreeMap<String, String> {
    r.json()["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| {
            (
                l["rel"].as_str().unwrap().to_string(),
                l["href"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn collection_ids(r: &common::Res) -> Vec<i64> {
    r.json()["collection"]
        .as_array()
        .expect("collection")
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

/// "The REST API": collections are paged, with `self`, `home`, `next` and
/// `prev` links; following `next` from the first page reads every
/// customer once, in id order.
#[tokio::test]
async fn collection_is_paged_with_home_next_and_prev_links() {
    let sb = start().await;
    sb.everlytic().add_lookup_seeds();
    let base = sb.everlytic().base_url();
    // Five customers, pages of two.
    let r = send(ev(&sb, "GET", "/api/2.0/customers?count=2")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(collection_ids(&r), vec![1001, 1002]);
    let links = links_of(&r);
    assert_eq!(
        links["self"],
        format!("{base}/api/2.0/customers?page=1&count=2")
    );
    assert_eq!(links["home"], format!("{base}/api/2.0/"));
    assert_eq!(
        links["next"],
        format!("{base}/api/2.0/customers?page=2&count=2")
    );
    assert!(!links.contains_key("prev"));
    let mut seen = collection_ids(&r);
    let mut next = links.get("next").cloned();
    let mut pages = 1;
    while let Some(url) = next {
        let path = url.strip_prefix(&base).expect("same origin");
        let r = send(ev(&sb, "GET", path)).await;
        assert_eq!(r.status, 200);
        let links = links_of(&r);
        assert_eq!(links["self"], url);
        assert!(links.contains_key("prev"));
        seen.extend(collection_ids(&r));
        next = links.get("next").cloned();
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, vec![1001, 1002, 1003, 1004, 1005]);
    // The last page links back and not forward; past the end is empty.
    let r = send(ev(&sb, "GET", "/api/2.0/customers?page=3&count=2")).await;
    assert_eq!(collection_ids(&r), vec![1005]);
    assert_eq!(
        links_of(&r)["prev"],
        format!("{base}/api/2.0/customers?page=2&count=2")
    );
    let r = send(ev(&sb, "GET", "/api/2.0/customers?page=9&count=2")).await;
    assert!(collection_ids(&r).is_empty());
    assert!(!links_of(&r).contains_key("next"));
    // Without parameters: the first page of the default size, no next.
    let r = send(ev(&sb, "GET", "/api/2.0/customers")).await;
    assert_eq!(collection_ids(&r).len(), 5);
    assert!(!links_of(&r).contains_key("next"));
    // Bad paging parameters: 400 in the vendor's shape.
    for q in ["page=0", "page=x", "count=0", "count=1001", "count=-1"] {
        let r = send(ev(&sb, "GET", &format!("/api/2.0/customers?{q}"))).await;
        assert_eq!(r.status, 400, "{q}");
        assert!(r.json()["error"]["message"].is_string(), "{q}");
    }
}
