//! Customer lookups over real HTTP: ChartMogul's search by email and its
//! list filtered by `external_id` (cursor paging), Fusebill's filtered list
//! by `primaryEmail` and `reference` (page paging), Everlytic's collection,
//! and the opt-in lookup seeds.

mod common;

use std::collections::BTreeSet;

use common::{client, cm, ev, fb, send, start};
use serde_json::{json, Value};
use unibill_sandbox::{chartmogul, everlytic, fusebill, Sandbox};

async fn seeded() -> Sandbox {
    let sb = start().await;
    sb.add_lookup_seeds();
    sb
}

fn uuids(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no entries: {page}"))
        .iter()
        .map(|c| c["uuid"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------- ChartMogul

#[tokio::test]
async fn chartmogul_search_answers_every_customer_with_the_email() {
    let sb = seeded().await;
    let r = send(
        cm(&sb, "GET", "/v1/customers/search").query(&[("email", chartmogul::LOOKUP_SHARED_EMAIL)]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let page = r.json();
    assert_eq!(
        uuids(&page),
        chartmogul::LOOKUP_SHARED_UUIDS.map(String::from).to_vec()
    );
    // The first page's shape as recorded by chartmogul-ruby: the deprecated
    // page fields, total_pages null on search, and a cursor even when
    // nothing follows.
    assert_eq!(
        keys(&page),
        set(&[
            "entries",
            "current_page",
            "total_pages",
            "has_more",
            "per_page",
            "page",
            "cursor"
        ])
    );
    assert_eq!(page["current_page"], json!(1));
    assert_eq!(page["page"], json!(1));
    assert_eq!(page["per_page"], json!(200));
    assert_eq!(page["total_pages"], Value::Null);
    assert_eq!(page["has_more"], json!(false));
    assert!(page["cursor"].is_string(), "{page}");
    // Entries are the customers as retrieve answers them.
    for (entry, uuid) in page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .zip(chartmogul::LOOKUP_SHARED_UUIDS)
    {
        assert_eq!(Some(entry.clone()), sb.chartmogul().customer(uuid));
    }
    // The two come from different data sources.
    assert_ne!(
        page["entries"][0]["data_source_uuid"],
        page["entries"][1]["data_source_uuid"]
    );
}

#[tokio::test]
async fn chartmogul_search_ignores_the_case_of_the_email() {
    let sb = seeded().await;
    let upper = chartmogul::LOOKUP_UNIQUE_EMAIL.to_ascii_uppercase();
    let r = send(cm(&sb, "GET", "/v1/customers/search").query(&[("email", upper.as_str())])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(uuids(&r.json()), vec![chartmogul::LOOKUP_UNIQUE_UUID]);
    // The default seeds are found too.
    let r = send(
        cm(&sb, "GET", "/v1/customers/search").query(&[("email", chartmogul::SEED_CUSTOMER_EMAIL)]),
    )
    .await;
    assert_eq!(uuids(&r.json()), vec![chartmogul::SEED_CUSTOMER_UUID]);
}

#[tokio::test]
async fn chartmogul_search_without_a_match_is_the_recorded_404() {
    let sb = seeded().await;
    let r = send(cm(&sb, "GET", "/v1/customers/search").query(&[("email", "no@email.com")])).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"code": 404, "message": "Can't find any customers with email: \"no@email.com\"", "param": "email"})
    );
}

#[tokio::test]
async fn lookup_seeds_are_opt_in_and_idempotent() {
    let sb = start().await;
    let r = send(
        cm(&sb, "GET", "/v1/customers/search").query(&[("email", chartmogul::LOOKUP_SHARED_EMAIL)]),
    )
    .await;
    assert_eq!(r.status, 404, "lookup seeds present without opting in");
    let list = send(cm(&sb, "GET", "/v1/customers")).await.json();
    assert_eq!(
        uuids(&list),
        chartmogul::seed_customers()
            .iter()
            .map(|c| c["uuid"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    );

    let first = sb.chartmogul().add_lookup_seeds();
    let again = sb.chartmogul().add_lookup_seeds();
    assert_eq!(first, again);
    assert_eq!(first.len(), chartmogul::lookup_seed_customers().len());
    let list = send(cm(&sb, "GET", "/v1/customers")).await.json();
    assert_eq!(uuids(&list).len(), 2 + first.len());

    let ids = sb.fusebill().add_lookup_seeds();
    assert_eq!(ids, sb.fusebill().add_lookup_seeds());
    let all = send(fb(&sb, "GET", "/v1/customers")).await;
    assert_eq!(
        all.json().as_array().map(Vec::len),
        Some(fusebill::seed_customers().len() + ids.len())
    );

    let ids = sb.everlytic().add_lookup_seeds();
    assert_eq!(ids, sb.everlytic().add_lookup_seeds());
    let all = send(ev(&sb, "GET", "/api/2.0/customers")).await.json();
    assert_eq!(
        all["collection"].as_array().map(Vec::len),
        Some(everlytic::seed_customers().len() + ids.len())
    );
}

#[tokio::test]
async fn chartmogul_search_pages_with_the_cursor() {
    let sb = seeded().await;
    let first = send(cm(&sb, "GET", "/v1/customers/search").query(&[
        ("email", chartmogul::LOOKUP_SHARED_EMAIL),
        ("per_page", "1"),
    ]))
    .await
    .json();
    assert_eq!(uuids(&first), vec![chartmogul::LOOKUP_SHARED_UUIDS[0]]);
    assert_eq!(first["has_more"], json!(true));
    assert_eq!(first["per_page"], json!(1));
    let cursor = first["cursor"].as_str().expect("cursor").to_string();

    let second = send(cm(&sb, "GET", "/v1/customers/search").query(&[
        ("email", chartmogul::LOOKUP_SHARED_EMAIL),
        ("per_page", "1"),
        ("cursor", cursor.as_str()),
    ]))
    .await;
    assert_eq!(second.status, 200, "{}", second.text);
    let second = second.json();
    // A cursor page carries only entries, cursor and has_more.
    assert_eq!(keys(&second), set(&["entries", "cursor", "has_more"]));
    assert_eq!(uuids(&second), vec![chartmogul::LOOKUP_SHARED_UUIDS[1]]);
    assert_eq!(second["has_more"], json!(false));
    let cursor = second["cursor"].as_str().expect("cursor").to_string();

    let past = send(cm(&sb, "GET", "/v1/customers/search").query(&[
        ("email", chartmogul::LOOKUP_SHARED_EMAIL),
        ("per_page", "1"),
        ("cursor", cursor.as_str()),
    ]))
    .await
    .json();
    assert_eq!(
        past,
        json!({"entries": [], "cursor": null, "has_more": false})
    );
}

#[tokio::test]
async fn chartmogul_list_filters_by_external_id() {
    let sb = seeded().await;
    let shared = send(
        cm(&sb, "GET", "/v1/customers")
            .query(&[("external_id", chartmogul::LOOKUP_SHARED_EXTERNAL_ID)]),
    )
    .await;
    assert_eq!(shared.status, 200, "{}", shared.text);
    let shared = shared.json();
    assert_eq!(
        uuids(&shared),
        chartmogul::LOOKUP_SHARED_UUIDS.map(String::from).to_vec()
    );
    assert_eq!(shared["total_pages"], json!(1));
    assert_eq!(shared["has_more"], json!(false));

    let unique = send(
        cm(&sb, "GET", "/v1/customers")
            .query(&[("external_id", chartmogul::LOOKUP_UNIQUE_EXTERNAL_ID)]),
    )
    .await
    .json();
    assert_eq!(uuids(&unique), vec![chartmogul::LOOKUP_UNIQUE_UUID]);
    let seed = send(
        cm(&sb, "GET", "/v1/customers")
            .query(&[("external_id", chartmogul::SEED_CUSTOMER_EXTERNAL_ID)]),
    )
    .await
    .json();
    assert_eq!(uuids(&seed), vec![chartmogul::SEED_CUSTOMER_UUID]);

    // Narrowed to one data source.
    let narrowed = send(cm(&sb, "GET", "/v1/customers").query(&[
        ("external_id", chartmogul::LOOKUP_SHARED_EXTERNAL_ID),
        (
            "data_source_uuid",
            chartmogul::LOOKUP_SECOND_DATA_SOURCE_UUID,
        ),
    ]))
    .await
    .json();
    assert_eq!(uuids(&narrowed), vec![chartmogul::LOOKUP_SHARED_UUIDS[1]]);
    let by_status = send(cm(&sb, "GET", "/v1/customers").query(&[
        ("external_id", chartmogul::LOOKUP_SHARED_EXTERNAL_ID),
        ("status", "Active"),
    ]))
    .await
    .json();
    assert_eq!(uuids(&by_status), vec![chartmogul::LOOKUP_SHARED_UUIDS[0]]);
}

#[tokio::test]
async fn chartmogul_list_without_a_match_is_an_empty_page() {
    let sb = seeded().await;
    let r = send(cm(&sb, "GET", "/v1/customers").query(&[("external_id", "unknown")])).await;
    assert_eq!(r.status, 200);
    // chartmogul-ruby's recording of the same request.
    assert_eq!(
        r.json(),
        json!({"entries": [], "current_page": 1, "total_pages": 1, "has_more": false, "per_page": 200, "page": 1, "cursor": null})
    );
}

#[tokio::test]
async fn chartmogul_list_cursor_walks_every_customer_once() {
    let sb = seeded().await;
    let first = send(cm(&sb, "GET", "/v1/customers").query(&[("per_page", "2")]))
        .await
        .json();
    assert_eq!(first["total_pages"], json!(3));
    let mut seen = uuids(&first);
    let mut page = first;
    let mut pages = 1;
    while page["has_more"] == json!(true) {
        let cursor = page["cursor"].as_str().expect("cursor").to_string();
        page = send(
            cm(&sb, "GET", "/v1/customers")
                .query(&[("per_page", "2"), ("cursor", cursor.as_str())]),
        )
        .await
        .json();
        seen.extend(uuids(&page));
        pages += 1;
        assert!(pages <= 3, "more pages than total_pages: {page}");
    }
    assert_eq!(pages, 3);
    let mut expected: Vec<String> = chartmogul::seed_customers()
        .iter()
        .chain(chartmogul::lookup_seed_customers().iter())
        .map(|c| c["uuid"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = seen.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected, "each customer exactly once");
    // customer-since order, customers without one last.
    assert_eq!(
        seen.last().map(String::as_str),
        Some(chartmogul::LOOKUP_SHARED_UUIDS[1])
    );
    assert_eq!(
        seen.first().map(String::as_str),
        Some(chartmogul::SEED_CUSTOMER_UUID)
    );
}

#[tokio::test]
async fn chartmogul_lookups_refuse_bad_parameters() {
    let sb = seeded().await;
    for per_page in ["0", "201", "ten", "-1"] {
        for path in ["/v1/customers", "/v1/customers/search"] {
            let r = send(cm(&sb, "GET", path).query(&[
                ("email", chartmogul::LOOKUP_UNIQUE_EMAIL),
                ("per_page", per_page),
            ]))
            .await;
            assert_eq!(r.status, 422, "{path} per_page={per_page}: {}", r.text);
            assert_eq!(r.json()["param"], json!("per_page"));
            assert_eq!(r.json()["code"], json!(422));
        }
    }
    for cursor in ["%%%", "Zm9v", "bm90LWEtZGF0ZSYxMg=="] {
        let r = send(cm(&sb, "GET", "/v1/customers").query(&[("cursor", cursor)])).await;
        assert_eq!(r.status, 400, "cursor {cursor}: {}", r.text);
        assert_eq!(r.json()["param"], json!("cursor"));
    }
    for query in [vec![], vec![("email", "")], vec![("email", "  ")]] {
        let r = send(cm(&sb, "GET", "/v1/customers/search").query(&query)).await;
        assert_eq!(r.status, 400, "{query:?}: {}", r.text);
        assert_eq!(r.json()["param"], json!("email"));
    }
    let r = send(cm(&sb, "POST", "/v1/customers/search").json(&json!({}))).await;
    assert_eq!(r.status, unibill_sandbox::NOT_EMULATED_STATUS);
    assert_eq!(
        r.header(unibill_sandbox::NOT_EMULATED_HEADER).as_deref(),
        Some(unibill_sandbox::NOT_EMULATED_VALUE)
    );
}

#[tokio::test]
async fn chartmogul_lookups_require_the_api_key_and_are_journaled() {
    let sb = seeded().await;
    let base = sb.chartmogul().base_url();
    for path in [
        "/v1/customers?external_id=acct_7001",
        "/v1/customers/search?email=a%40b.c",
    ] {
        let r = send(client().get(format!("{base}{path}"))).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.json()["code"], json!(401));
        let r = send(
            client()
                .get(format!("{base}{path}"))
                .basic_auth("wrong", Some("")),
        )
        .await;
        assert_eq!(r.status, 401, "{path}");
    }
    sb.chartmogul().clear_journal();
    let path = format!(
        "/v1/customers/search?email={}",
        chartmogul::LOOKUP_UNIQUE_EMAIL.replace('@', "%40")
    );
    assert_eq!(send(cm(&sb, "GET", &path)).await.status, 200);
    let journal = sb.chartmogul().journal();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].method, "GET");
    assert_eq!(journal[0].path, path);
    assert_eq!(journal[0].status, 200);
    assert!(!journal[0].is_write());
}

// ------------------------------------------------------------------ Fusebill

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("not an array: {body}"))
        .iter()
        .map(|c| c["id"].to_string())
        .collect()
}

async fn fb_query(sb: &Sandbox, query: &str, extra: &[(&str, &str)]) -> common::Res {
    let mut params = vec![("query", query)];
    params.extend_from_slice(extra);
    send(fb(sb, "GET", "/v1/customers").query(&params)).await
}

#[tokio::test]
async fn fusebill_finds_by_primary_email() {
    let sb = seeded().await;
    let shared = fb_query(
        &sb,
        &format!("primaryEmail:{}", fusebill::LOOKUP_SHARED_EMAIL),
        &[],
    )
    .await;
    assert_eq!(shared.status, 200, "{}", shared.text);
    assert_eq!(
        ids(&shared.json()),
        fusebill::LOOKUP_SHARED_EMAIL_IDS.map(String::from).to_vec()
    );
    assert_eq!(shared.header("x-count").as_deref(), Some("2"));

    let unique = fb_query(
        &sb,
        &format!("primaryEmail:{}", fusebill::LOOKUP_UNIQUE_EMAIL),
        &[],
    )
    .await;
    assert_eq!(ids(&unique.json()), vec![fusebill::LOOKUP_UNIQUE_ID]);
    let seed = fb_query(
        &sb,
        &format!("primaryEmail:{}", fusebill::SEED_CUSTOMER_EMAIL),
        &[],
    )
    .await;
    assert_eq!(ids(&seed.json()), vec![fusebill::SEED_CUSTOMER_ID]);

    let none = fb_query(&sb, "primaryEmail:nobody@example.com", &[]).await;
    assert_eq!(none.status, 200);
    assert_eq!(none.json(), json!([]));
    assert_eq!(none.header("x-count").as_deref(), Some("0"));
}

#[tokio::test]
async fn fusebill_primary_email_with_several_addresses_needs_a_wildcard() {
    let sb = seeded().await;
    // primaryEmail holds "ops@...;billing@...": an exact value matches the
    // whole text only, and ';' cannot be sent inside a value (it separates
    // filters), so a client searches with wildcards and compares itself.
    let exact = fb_query(&sb, "primaryEmail:billing@vale.example.com", &[]).await;
    assert_eq!(exact.json(), json!([]));
    let wild = fb_query(&sb, "primaryEmail:*billing@vale.example.com*", &[]).await;
    assert_eq!(ids(&wild.json()), vec![fusebill::LOOKUP_MULTI_EMAIL_ID]);
    assert_eq!(
        wild.json()[0]["primaryEmail"],
        json!(fusebill::LOOKUP_MULTI_PRIMARY_EMAIL)
    );
    // A wildcard can also match more than asked for: "*ops@vale...*"
    // would match "devops@vale...", hence the client-side comparison.
    let domain = fb_query(&sb, "primaryEmail:*@hart.example.com", &[]).await;
    assert_eq!(ids(&domain.json()).len(), 2);
}

#[tokio::test]
async fn fusebill_finds_by_reference_which_is_not_unique() {
    let sb = seeded().await;
    let shared = fb_query(
        &sb,
        &format!("reference:{}", fusebill::LOOKUP_SHARED_REFERENCE),
        &[],
    )
    .await;
    assert_eq!(
        ids(&shared.json()),
        fusebill::LOOKUP_SHARED_REFERENCE_IDS
            .map(String::from)
            .to_vec()
    );
    let unique = fb_query(
        &sb,
        &format!("reference:{}", fusebill::LOOKUP_UNIQUE_REFERENCE),
        &[],
    )
    .await;
    assert_eq!(ids(&unique.json()), vec![fusebill::LOOKUP_UNIQUE_ID]);
    // The printed seed's reference is a JSON number; it matches by its text.
    let numeric = fb_query(&sb, "reference:100986", &[]).await;
    assert_eq!(ids(&numeric.json()), vec![fusebill::SEED_CUSTOMER_ID]);
    assert_eq!(numeric.json()[0]["reference"], json!(100986));
    let none = fb_query(&sb, "reference:NOPE", &[]).await;
    assert_eq!(none.json(), json!([]));
}

#[tokio::test]
async fn fusebill_lookup_pages_and_refuses_bad_parameters() {
    let sb = seeded().await;
    let q = format!("primaryEmail:{}", fusebill::LOOKUP_SHARED_EMAIL);
    let p0 = fb_query(&sb, &q, &[("pageSize", "1"), ("pageNumber", "0")]).await;
    assert_eq!(ids(&p0.json()), vec![fusebill::LOOKUP_SHARED_EMAIL_IDS[0]]);
    assert_eq!(p0.header("x-nextpage").as_deref(), Some("1"));
    assert_eq!(p0.header("x-count").as_deref(), Some("2"));
    let p1 = fb_query(&sb, &q, &[("pageSize", "1"), ("pageNumber", "1")]).await;
    assert_eq!(ids(&p1.json()), vec![fusebill::LOOKUP_SHARED_EMAIL_IDS[1]]);
    assert_eq!(p1.header("x-nextpage").as_deref(), Some("-1"));
    assert_eq!(p1.header("x-previouspage").as_deref(), Some("0"));

    let bad = fb_query(&sb, &q, &[("pageSize", "0")]).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["Errors"][0]["Key"], json!("pageSize"));
    let bad = fb_query(&sb, "emailAddress:x@y.z", &[]).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["Errors"][0]["Key"], json!("query"));
}

#[tokio::test]
async fn fusebill_lookup_requires_the_key_and_is_journaled() {
    let sb = seeded().await;
    let url = format!(
        "{}/v1/customers?query=reference:GRANT-2023",
        sb.fusebill().base_url()
    );
    let r = send(client().get(&url)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["HttpStatusCode"], json!(401));
    sb.fusebill().clear_journal();
    let r = send(fb(&sb, "GET", "/v1/customers?query=reference:GRANT-2023")).await;
    assert_eq!(r.status, 200);
    let journal = sb.fusebill().journal();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].path, "/v1/customers?query=reference:GRANT-2023");
    assert_eq!(journal[0].status, 200);
    assert!(!journal[0].is_write());
}

// ----------------------------------------------------------------- Everlytic

#[tokio::test]
async fn everlytic_offers_only_its_collection() {
    let sb = seeded().await;
    let r = send(ev(&sb, "GET", "/api/2.0/customers")).await;
    assert_eq!(r.status, 200);
    let body = r.json();
    let items = body["collection"].as_array().expect("collection");
    let shared: Vec<String> = items
        .iter()
        .filter(|c| c["email"] == json!(everlytic::LOOKUP_SHARED_EMAIL))
        .map(|c| c["id"].to_string())
        .collect();
    assert_eq!(
        shared,
        everlytic::LOOKUP_SHARED_IDS.map(String::from).to_vec()
    );
    let unique: Vec<&Value> = items
        .iter()
        .filter(|c| c["unique_id"] == json!(everlytic::LOOKUP_UNIQUE_UNIQUE_ID))
        .collect();
    assert_eq!(unique.len(), 1);
    assert_eq!(unique[0]["id"].to_string(), everlytic::LOOKUP_UNIQUE_ID);
    assert_eq!(unique[0]["email"], json!(everlytic::LOOKUP_UNIQUE_EMAIL));
    let url = format!("{}/api/2.0/customers", sb.everlytic().base_url());
    assert_eq!(send(client().get(&url)).await.status, 401);
}
