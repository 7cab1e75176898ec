//! The wire behaviour of updates, reads, lookups and listing, against a
//! loopback server: one `POST` per update with an `Idempotency-Key`
//! kept across retries, the form parameters, errors, and no request at
//! all for input refused beforehand.

mod common;

use common::{customer, ok, status, Reply, Server};
use serde_json::json;
use unibill_core::{
    Backend, CustomerId, CustomerPatch, CustomerRef, CustomerUpdater, Error, ListOptions,
};

fn id() -> CustomerId {
    CustomerId::from("cus_NffrFeUfNV2Hib")
}

fn is_uuid_v4(key: &str) -> bool {
    key.len() == 36
        && key.as_bytes()[14] == b'4'
        && key
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_is_one_post_with_an_idempotency_key() {
    let server = Server::start(vec![ok(customer("cus_NffrFeUfNV2Hib"))]).await;
    let stripe = server.client();
    let patch = CustomerPatch::new()
        .name("Jenny Rosen")
        .clear_phone()
        .custom("plan", "gold")
        .clear_custom("old");
    let out = stripe
        .update_with(&id(), &patch, &Default::default())
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let post = &seen[0];
    assert_eq!(post.method, "POST");
    assert_eq!(post.path(), "/v1/customers/cus_NffrFeUfNV2Hib");
    assert_eq!(
        post.header("authorization"),
        Some("Bearer sk_test_SECRETKEY")
    );
    assert_eq!(
        post.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(
        is_uuid_v4(post.header("idempotency-key").unwrap()),
        "{post:?}"
    );
    assert_eq!(
        post.params(),
        [
            ("name", "Jenny Rosen"),
            ("phone", ""),
            ("metadata[old]", ""),
            ("metadata[plan]", "gold"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    // The answer is the customer: no read after the write.
    assert_eq!(
        out.customer.email.as_deref(),
        Some("jenny.rosen@example.com")
    );
    assert_eq!(out.customer.external_reference.as_deref(), Some("R-1"));
    assert_eq!(out.writes.len(), 1);
    assert_eq!(out.writes[0].method, "POST");
    assert_eq!(
        out.writes[0].body.as_ref().unwrap()["metadata[plan]"],
        "gold"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_a_500_resends_the_same_key() {
    let server = Server::start(vec![
        status(
            500,
            json!({"error": {"type": "api_error", "message": "boom"}}),
        ),
        ok(customer("cus_NffrFeUfNV2Hib")),
    ])
    .await;
    let stripe = server.client();
    stripe
        .update(&id(), &CustomerPatch::new().email("a@b.example"))
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|s| s.method == "POST"));
    let keys: Vec<_> = seen
        .iter()
        .map(|s| s.header("idempotency-key").unwrap())
        .collect();
    assert_eq!(keys[0], keys[1]);
    assert_eq!(seen[0].target, seen[1].target);
    assert_eq!(stripe.retries(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_a_dropped_connection_resends_the_same_key() {
    let server = Server::start(vec![Reply::Drop, ok(customer("cus_NffrFeUfNV2Hib"))]).await;
    let stripe = server.client();
    stripe
        .update(&id(), &CustomerPatch::new().email("a@b.example"))
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0].header("idempotency-key"),
        seen[1].header("idempotency-key")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_update_has_its_own_key() {
    let server = Server::start(vec![
        ok(customer("cus_NffrFeUfNV2Hib")),
        ok(customer("cus_NffrFeUfNV2Hib")),
    ])
    .await;
    let stripe = server.client();
    let patch = CustomerPatch::new().email("a@b.example");
    stripe.update(&id(), &patch).await.unwrap();
    stripe.update(&id(), &patch).await.unwrap();
    let seen = server.seen();
    assert_ne!(
        seen[0].header("idempotency-key"),
        seen[1].header("idempotency-key")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_address_change_reads_then_sends_the_whole_address() {
    let server = Server::start(vec![
        ok(customer("cus_NffrFeUfNV2Hib")),
        ok(customer("cus_NffrFeUfNV2Hib")),
    ])
    .await;
    let stripe = server.client();
    stripe
        .update(
            &id(),
            &CustomerPatch::new().city("Oakland").clear_postal_code(),
        )
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[1].method, "POST");
    assert_eq!(
        seen[1].params(),
        [
            ("address[line1]", "510 Townsend St"),
            ("address[line2]", ""),
            ("address[city]", "Oakland"),
            ("address[state]", "CA"),
            ("address[postal_code]", ""),
            ("address[country]", "US"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_input_sends_nothing() {
    let server = Server::start(vec![]).await;
    let stripe = server.client();
    let field_of = |e: Error| match e {
        Error::Validation { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let e = stripe
        .update(&CustomerId::from("42"), &CustomerPatch::new().name("x"))
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "id");
    let e = stripe
        .get(&CustomerId::from("cus_a/../b"))
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "id");
    let e = stripe
        .update(&id(), &CustomerPatch::new().custom("seats", 5))
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "custom.seats");
    let e = stripe
        .update(&id(), &CustomerPatch::new().custom("k", "v".repeat(501)))
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "custom.k");
    let e = stripe
        .update(&id(), &CustomerPatch::new().company("Acme"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
    let e = stripe
        .update(&id(), &CustomerPatch::new().add_tag("vip"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
    assert!(server.seen().is_empty(), "{:?}", server.seen());
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_neutral_and_keep_no_secret() {
    let server = Server::start(vec![
        status(404, json!({"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "id", "message": "No such customer: 'cus_NffrFeUfNV2Hib'"}})),
        status(400, json!({"error": {"type": "invalid_request_error", "code": "email_invalid", "param": "email", "message": "Invalid email address: x"}})),
        status(401, json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****EKEY"}})),
    ])
    .await;
    let stripe = server.client();
    let patch = CustomerPatch::new().name("x");
    let e = stripe.update(&id(), &patch).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { id, .. } if id == "cus_NffrFeUfNV2Hib"),
        "{e:?}"
    );
    let e = stripe.update(&id(), &patch).await.unwrap_err();
    assert!(
        matches!(&e, Error::Vendor { status: 400, messages, .. } if messages[0].starts_with("email: Invalid email address")),
        "{e:?}"
    );
    let e = stripe.get(&id()).await.unwrap_err();
    assert!(matches!(&e, Error::Unauthorized { .. }), "{e:?}");
    for shown in [e.to_string(), format!("{e:?}"), format!("{stripe:?}")] {
        assert!(!shown.contains("SECRETKEY"), "{shown}");
    }
    // A 4xx is answered at once: one request per call.
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_customer_is_not_found() {
    let server = Server::start(vec![ok(
        json!({"id": "cus_NffrFeUfNV2Hib", "object": "customer", "deleted": true}),
    )])
    .await;
    let e = server.client().get(&id()).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_plans_the_post_without_sending_it() {
    let server = Server::start(vec![]).await;
    let stripe = server.client();
    let planned = stripe
        .dry_run(
            &id(),
            &CustomerPatch::new().external_reference("R-9"),
            &Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(planned.writes.len(), 1, "{planned:?}");
    assert_eq!(planned.writes[0].method, "POST");
    assert_eq!(
        planned.writes[0].body.as_ref().unwrap(),
        &json!({"metadata[external_id]": "R-9"})
    );
    assert!(server.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn email_lookup_pages_with_starting_after() {
    let page = |ids: &[&str], more: bool| {
        ok(json!({"object": "list", "has_more": more,
            "data": ids.iter().map(|i| json!({"id": i, "email": "a@b.example"})).collect::<Vec<_>>()}))
    };
    let server = Server::start(vec![
        page(&["cus_A1", "cus_B2"], true),
        page(&["cus_C3"], false),
    ])
    .await;
    let ids = server
        .client()
        .find(&CustomerRef::email("a@b.example"))
        .await
        .unwrap();
    assert_eq!(ids, ["cus_A1", "cus_B2", "cus_C3"].map(CustomerId::from));
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].path(), "/v1/customers");
    assert_eq!(seen[0].param("email").as_deref(), Some("a@b.example"));
    assert_eq!(seen[0].param("limit").as_deref(), Some("100"));
    assert_eq!(seen[0].param("starting_after"), None);
    assert_eq!(seen[1].param("starting_after").as_deref(), Some("cus_B2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn reference_lookup_searches_metadata_and_follows_next_page() {
    let hit = |id: &str, r: &str| json!({"id": id, "metadata": {"external_id": r}});
    let server = Server::start(vec![
        ok(
            json!({"object": "search_result", "has_more": true, "next_page": "tok_2",
            "data": [hit("cus_A1", "O'Neil"), hit("cus_X9", "o'neil")]}),
        ),
        ok(
            json!({"object": "search_result", "has_more": false, "next_page": null,
            "data": [hit("cus_B2", "O'Neil")]}),
        ),
    ])
    .await;
    let ids = server
        .client()
        .find(&CustomerRef::external("O'Neil"))
        .await
        .unwrap();
    assert_eq!(ids, ["cus_A1", "cus_B2"].map(CustomerId::from));
    let seen = server.seen();
    assert_eq!(seen[0].path(), "/v1/customers/search");
    assert_eq!(
        seen[0].param("query").as_deref(),
        Some(r"metadata['external_id']:'O\'Neil'")
    );
    assert_eq!(seen[0].param("page"), None);
    assert_eq!(seen[1].param("page").as_deref(), Some("tok_2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_pages_by_the_last_id() {
    let server = Server::start(vec![
        ok(json!({"object": "list", "has_more": true, "data": [customer("cus_A1"), customer("cus_B2")]})),
        ok(json!({"object": "list", "has_more": false, "data": [customer("cus_C3")]})),
    ])
    .await;
    let stripe = server.client();
    let first = stripe.list_page(&ListOptions::new()).await.unwrap();
    assert_eq!(first.customers.len(), 2);
    let next = first.next.clone().unwrap();
    assert_eq!(next.as_str(), "cus_B2");
    let second = stripe
        .list_page(&ListOptions::new().from(next))
        .await
        .unwrap();
    assert!(second.next.is_none());
    let seen = server.seen();
    assert_eq!(seen[0].target, "/v1/customers?limit=100");
    assert_eq!(
        seen[1].target,
        "/v1/customers?limit=100&starting_after=cus_B2"
    );
}
