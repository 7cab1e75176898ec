//! Every endpoint an emulator does not model gets the one not-emulated
//! answer (501, `X-Unibill-Sandbox: not-emulated`, a plain-text body naming
//! the method and path, journaled), never the vendor's own error shape.
//!
//! The lists below are each vendor's documented customer endpoints, from
//! the sources named in `docs/sandbox.md` ("Endpoints the sandbox does not
//! model"): the seeds and their README, the vendors' API references and
//! the public clients that call them.

mod common;

use common::{cm, ev, fb, send, st, start, Res};
use unibill_sandbox::{
    chartmogul, everlytic, fusebill, stripe, Sandbox, NOT_EMULATED_HEADER, NOT_EMULATED_STATUS,
    NOT_EMULATED_VALUE,
};

/// Whether the emulator models an endpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Model {
    Emulated,
    NotEmulated,
}
use Model::{Emulated, NotEmulated};

/// One documented endpoint: method, path (ids filled in), whether the
/// sandbox models it, and where it is documented.
type Endpoint = (&'static str, String, Model, &'static str);

fn chartmogul_endpoints() -> Vec<Endpoint> {
    let c = chartmogul::SEED_CUSTOMER_UUID;
    let ds = chartmogul::SEED_DATA_SOURCE_UUID;
    let api = "dev.chartmogul.com reference, Customers";
    let node = "chartmogul-node lib/chartmogul/customer.js";
    vec![
        ("GET", "/v1/customers".into(), Emulated, "List Customers"),
        (
            "POST",
            "/v1/customers".into(),
            NotEmulated,
            "Create a Customer; chartmogul-python Customer.create",
        ),
        (
            "GET",
            "/v1/customers/search?email=ben@example.com".into(),
            Emulated,
            "Search for Customers",
        ),
        (
            "GET",
            format!("/v1/customers/{c}"),
            Emulated,
            "Retrieve a Customer",
        ),
        ("PATCH", format!("/v1/customers/{c}"), Emulated, "seed 000"),
        (
            "DELETE",
            format!("/v1/customers/{c}"),
            NotEmulated,
            "Delete a Customer; chartmogul-python Customer.destroy",
        ),
        ("POST", "/v1/customers/merges".into(), NotEmulated, node),
        ("POST", "/v1/customers/unmerges".into(), NotEmulated, node),
        (
            "POST",
            format!("/v1/customers/{c}/connect_subscriptions"),
            NotEmulated,
            node,
        ),
        (
            "POST",
            format!("/v1/customers/{c}/disconnect_subscriptions"),
            NotEmulated,
            node,
        ),
        (
            "POST",
            format!("/v1/data_sources/{ds}/customers/{c}/connect_subscriptions"),
            NotEmulated,
            "chartmogul-node lib/chartmogul/metrics/customer.js",
        ),
        (
            "GET",
            format!("/v1/customers/{c}/subscriptions"),
            NotEmulated,
            "chartmogul-node metrics Customer.subscriptions",
        ),
        (
            "GET",
            format!("/v1/customers/{c}/activities"),
            NotEmulated,
            "chartmogul-node metrics Customer.activities",
        ),
        (
            "GET",
            format!("/v1/customers/{c}/contacts"),
            NotEmulated,
            api,
        ),
        (
            "POST",
            format!("/v1/customers/{c}/contacts"),
            NotEmulated,
            api,
        ),
        (
            "GET",
            format!("/v1/customers/{c}/attributes"),
            Emulated,
            "Retrieve Customer's Attributes",
        ),
        (
            "POST",
            format!("/v1/customers/{c}/attributes/custom"),
            Emulated,
            "Add Custom Attributes to a Customer",
        ),
        (
            "PUT",
            format!("/v1/customers/{c}/attributes/custom"),
            Emulated,
            "seed 001",
        ),
        (
            "DELETE",
            format!("/v1/customers/{c}/attributes/custom"),
            Emulated,
            "seeds' README",
        ),
        (
            "POST",
            format!("/v1/customers/{c}/attributes/tags"),
            Emulated,
            "seeds' README",
        ),
        (
            "DELETE",
            format!("/v1/customers/{c}/attributes/tags"),
            Emulated,
            "seeds' README",
        ),
        (
            "POST",
            "/v1/customers/attributes/custom".into(),
            Emulated,
            "seed 002",
        ),
        (
            "POST",
            "/v1/customers/attributes/tags".into(),
            Emulated,
            "Add Tags to Customers by Email",
        ),
        (
            "GET",
            format!("/v1/import/customers/{c}/invoices"),
            NotEmulated,
            "chartmogul-python Invoice.all",
        ),
    ]
}

fn fusebill_endpoints() -> Vec<Endpoint> {
    let c = fusebill::SEED_CUSTOMER_ID;
    let clay = "claygorman/fusebill-node-sdk src/customers/customer.js";
    let md = "mdabydeen/fusebill-node lib/resources/Customers.js";
    vec![
        ("GET", "/v1/customers".into(), Emulated, "List Customers"),
        (
            "GET",
            "/v1/customers?query=reference:CODE".into(),
            Emulated,
            "seeds' README",
        ),
        (
            "GET",
            format!("/v1/customers/{c}"),
            Emulated,
            "seeds' README",
        ),
        ("PUT", "/v1/customers".into(), Emulated, "seed 003"),
        (
            "POST",
            "/v1/customers".into(),
            NotEmulated,
            "Create Customer; fusebill-node-sdk create",
        ),
        ("DELETE", format!("/v1/customers/{c}"), NotEmulated, md),
        (
            "GET",
            format!("/v1/customers/{c}/overview"),
            NotEmulated,
            "Read Customer Overview; fusebill-node-sdk readOverview",
        ),
        (
            "POST",
            "/v1/customerActivation".into(),
            NotEmulated,
            "seeds' README; fusebill-node-sdk activate",
        ),
        (
            "POST",
            format!("/v1/CustomerHold/{c}"),
            NotEmulated,
            "seeds' README; fusebill-node-sdk hold",
        ),
        ("POST", "/v1/customers/unhold".into(), NotEmulated, clay),
        (
            "POST",
            "/v1/customercancellation".into(),
            NotEmulated,
            "seeds' README; fusebill-node-sdk cancel",
        ),
        (
            "POST",
            format!("/v1/customers/uncancel/{c}"),
            NotEmulated,
            clay,
        ),
        (
            "POST",
            format!("/v1/customers/purchase/{c}"),
            NotEmulated,
            clay,
        ),
        ("POST", "/v1/customernotes".into(), NotEmulated, clay),
        ("DELETE", "/v1/customerNotes/77".into(), NotEmulated, clay),
        (
            "GET",
            format!("/v1/customers/{c}/CustomerEmailPreferences"),
            NotEmulated,
            "fusebill-node-sdk src/customers/email.js",
        ),
        (
            "PUT",
            "/v1/CustomerEmailPreferences".into(),
            NotEmulated,
            "fusebill-node-sdk src/customers/email.js",
        ),
        (
            "GET",
            format!("/v1/customers/{c}/subscriptions"),
            NotEmulated,
            md,
        ),
        (
            "GET",
            format!("/v1/customers/{c}/invoices"),
            NotEmulated,
            md,
        ),
        (
            "GET",
            format!("/v1/customers/{c}/DraftInvoices"),
            NotEmulated,
            md,
        ),
        (
            "GET",
            format!("/v1/customers/{c}/paymentmethods"),
            NotEmulated,
            md,
        ),
    ]
}

fn everlytic_endpoints() -> Vec<Endpoint> {
    let c = everlytic::SEED_CUSTOMER_ID;
    vec![
        (
            "GET",
            "/api/2.0/customers".into(),
            Emulated,
            "The REST API; seeds' README",
        ),
        (
            "GET",
            format!("/api/2.0/customers/{c}"),
            Emulated,
            "Get the Specified Customer",
        ),
        (
            "PUT",
            format!("/api/2.0/customers/{c}"),
            Emulated,
            "seed 004",
        ),
        (
            "POST",
            "/api/2.0/customers".into(),
            NotEmulated,
            "Create Customer; seeds' README",
        ),
        (
            "POST",
            format!("/api/2.0/customers/suspend/{c}"),
            NotEmulated,
            "seeds' README",
        ),
        (
            "DELETE",
            format!("/api/2.0/customers/{c}"),
            NotEmulated,
            "The REST API (DELETE deletes a resource)",
        ),
        (
            "GET",
            "/api/2.0/lists".into(),
            NotEmulated,
            "cmercado93/everlytic-api src/Lists.php findAll",
        ),
        (
            "GET",
            "/api/2.0/lists/12".into(),
            NotEmulated,
            "cmercado93/everlytic-api src/Lists.php findById",
        ),
        (
            "POST",
            "/api/2.0/lists".into(),
            NotEmulated,
            "cmercado93/everlytic-api src/Lists.php create",
        ),
        (
            "GET",
            "/api/2.0/contacts".into(),
            NotEmulated,
            "cmercado93/everlytic-api src/Contacts.php",
        ),
        (
            "GET",
            "/api/2.0/definitions".into(),
            NotEmulated,
            "Get the List of Available Field Definitions",
        ),
    ]
}

fn stripe_endpoints() -> Vec<Endpoint> {
    let c = stripe::SEED_CUSTOMER_ID;
    let reference = "Stripe API reference, Customers";
    let mut endpoints: Vec<Endpoint> = vec![
        (
            "GET",
            "/v1/customers".into(),
            Emulated,
            "List all customers",
        ),
        (
            "GET",
            "/v1/customers/search?query=email%3A%27a%40example.com%27".into(),
            Emulated,
            "Search customers",
        ),
        (
            "GET",
            format!("/v1/customers/{c}"),
            Emulated,
            "Retrieve a customer",
        ),
        (
            "POST",
            format!("/v1/customers/{c}"),
            Emulated,
            "Update a customer",
        ),
        (
            "POST",
            "/v1/customers".into(),
            NotEmulated,
            "Create a customer",
        ),
        (
            "DELETE",
            format!("/v1/customers/{c}"),
            NotEmulated,
            "Delete a customer",
        ),
        (
            "DELETE",
            format!("/v1/customers/{c}/discount"),
            NotEmulated,
            "Delete a customer discount",
        ),
    ];
    for (method, tail) in [
        ("GET", "balance_transactions"),
        ("POST", "balance_transactions"),
        ("GET", "cash_balance"),
        ("GET", "payment_methods"),
        ("GET", "sources"),
        ("GET", "tax_ids"),
        ("POST", "tax_ids"),
        ("POST", "funding_instructions"),
    ] {
        endpoints.push((
            method,
            format!("/v1/customers/{c}/{tail}"),
            NotEmulated,
            reference,
        ));
    }
    endpoints
}

fn request(sb: &Sandbox, vendor: &str, method: &str, path: &str) -> reqwest::RequestBuilder {
    match vendor {
        "chartmogul" => cm(sb, method, path),
        "fusebill" => fb(sb, method, path),
        "stripe" => st(sb, method, path),
        _ => ev(sb, method, path),
    }
}

fn assert_not_emulated(r: &Res, method: &str, path: &str, what: &str) {
    assert_eq!(r.status, NOT_EMULATED_STATUS, "{what}: {}", r.text);
    assert_eq!(
        r.header(NOT_EMULATED_HEADER).as_deref(),
        Some(NOT_EMULATED_VALUE),
        "{what}"
    );
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("text/plain"),
        "{what}"
    );
    let bare = path.split('?').next().unwrap_or(path);
    assert!(
        r.text.contains(&format!("{method} {bare}")),
        "{what}: {}",
        r.text
    );
    assert!(r.text.contains("not emulated"), "{what}: {}", r.text);
    // Never one of the vendors' error shapes.
    assert!(
        serde_json::from_str::<serde_json::Value>(&r.text).is_err(),
        "{what}: {}",
        r.text
    );
}

#[tokio::test]
async fn every_documented_customer_endpoint_is_emulated_or_answered_not_emulated() {
    let sb = start().await;
    for (vendor, endpoints) in [
        ("chartmogul", chartmogul_endpoints()),
        ("fusebill", fusebill_endpoints()),
        ("everlytic", everlytic_endpoints()),
        ("stripe", stripe_endpoints()),
    ] {
        for (method, path, model, source) in endpoints {
            let what = format!("{vendor} {method} {path} ({source})");
            let handle = match vendor {
                "chartmogul" => sb.chartmogul(),
                "fusebill" => sb.fusebill(),
                "stripe" => sb.stripe(),
                _ => sb.everlytic(),
            };
            handle.clear_journal();
            let r = send(request(&sb, vendor, method, &path).json(&serde_json::json!({}))).await;
            let journal = handle.journal();
            assert_eq!(journal.len(), 1, "{what}");
            assert_eq!(journal[0].method, method, "{what}");
            assert_eq!(journal[0].path, path, "{what}");
            assert_eq!(journal[0].status, r.status, "{what}");
            match model {
                Emulated => {
                    assert_ne!(r.status, NOT_EMULATED_STATUS, "{what}: {}", r.text);
                    assert_eq!(r.header(NOT_EMULATED_HEADER), None, "{what}");
                }
                NotEmulated => assert_not_emulated(&r, method, &path, &what),
            }
        }
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_get_the_not_emulated_answer_on_every_vendor() {
    let sb = start().await;
    let cases = [
        ("chartmogul", "GET", "/v1/nothing"),
        ("chartmogul", "OPTIONS", "/v1/ping"),
        ("chartmogul", "POST", "/v1/customers/search"),
        ("fusebill", "PATCH", "/v1/customers"),
        ("fusebill", "GET", "/v2/customers"),
        ("everlytic", "PATCH", "/api/2.0/customers/1001"),
        ("everlytic", "GET", "/api/3.0/customers"),
        ("stripe", "PUT", "/v1/customers/cus_NffrFeUfNV2Hib"),
        ("stripe", "GET", "/v1/charges"),
    ];
    for (vendor, method, path) in cases {
        let what = format!("{vendor} {method} {path}");
        let r = send(request(&sb, vendor, method, path)).await;
        assert_not_emulated(&r, method, path, &what);
    }
    // What is modelled keeps the vendor's own answers: an unknown id is
    // still the vendor's 404, in its shape.
    let r = send(cm(
        &sb,
        "GET",
        "/v1/customers/cus_00000000-0000-0000-0000-000000000000",
    ))
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], serde_json::json!(404));
    let r = send(fb(&sb, "GET", "/v1/customers/99")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["HttpStatusCode"], serde_json::json!(404));
    let r = send(ev(&sb, "GET", "/api/2.0/customers/9999")).await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"]["message"].is_string());
    let r = send(st(&sb, "GET", "/v1/customers/cus_00000000000000")).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["error"]["code"],
        serde_json::json!("resource_missing")
    );
}

#[tokio::test]
async fn credentials_are_checked_before_the_not_emulated_answer() {
    let sb = start().await;
    let r = send(common::client().post(format!("{}/v1/customers", sb.fusebill().base_url()))).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header(NOT_EMULATED_HEADER), None);
    let r = send(common::client().post(format!("{}/v1/customers", sb.stripe().base_url()))).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header(NOT_EMULATED_HEADER), None);
}
