//! Customer lookup by email and by external id on the sandbox: the shared
//! lookup suite (`unibill_testkit::lookup`), then what only ChartMogul
//! does (emails matched ignoring ASCII case, a search answered 404 when
//! nothing matches).

mod common;

use unibill_core::{CustomerId, CustomerRef, CustomerUpdater, Error, Field, LookupKind};
use unibill_sandbox::chartmogul::{
    LOOKUP_SHARED_EMAIL, LOOKUP_SHARED_EXTERNAL_ID, LOOKUP_SHARED_UUIDS, LOOKUP_UNIQUE_EMAIL,
    LOOKUP_UNIQUE_EXTERNAL_ID, LOOKUP_UNIQUE_UUID, SEED_CUSTOMER_UUID,
};
use unibill_sandbox::{Sandbox, VendorHandle};
use unibill_testkit::lookup::{self, LookupFixture, Search};

use common::*;

fn search(email: &str) -> (String, String) {
    let q = email.replace('@', "%40");
    call(
        "GET",
        &format!("/v1/customers/search?email={q}&per_page=200"),
    )
}

fn list(external_id: &str) -> (String, String) {
    call(
        "GET",
        &format!("/v1/customers?external_id={external_id}&per_page=200"),
    )
}

async fn seeded() -> (Sandbox, unibill_chartmogul::ChartMogul) {
    let (sb, cm) = start().await;
    sb.chartmogul().add_lookup_seeds();
    (sb, cm)
}

async fn fixture() -> LookupFixture {
    let (sandbox, cm) = seeded().await;
    LookupFixture {
        sandbox,
        vendor: Sandbox::chartmogul,
        updater: Box::new(cm),
        id: LOOKUP_UNIQUE_UUID,
        email: LOOKUP_UNIQUE_EMAIL,
        external: LOOKUP_UNIQUE_EXTERNAL_ID,
        search: Some(Search {
            request: |kind, value| match kind {
                LookupKind::Email => search(value),
                _ => list(value),
            },
            // The list filters on any of `external_ids`.
            move_value: |h: &VendorHandle, kind, value, from, to| match kind {
                LookupKind::Email => {
                    h.update_customer(from, |c| c["email"] = "moved@lonepine.example.com".into());
                    h.update_customer(to, |c| c["email"] = value.into());
                }
                _ => {
                    h.update_customer(from, |c| {
                        c["external_id"] = "acct_moved".into();
                        c["external_ids"] = serde_json::json!(["acct_moved"]);
                    });
                    h.update_customer(to, |c| {
                        c["external_id"] = value.into();
                        c["external_ids"] = serde_json::json!([value]);
                    });
                }
            },
            shared_email: (LOOKUP_SHARED_EMAIL, &LOOKUP_SHARED_UUIDS),
            shared_external: (LOOKUP_SHARED_EXTERNAL_ID, &LOOKUP_SHARED_UUIDS),
            other_id: SEED_CUSTOMER_UUID,
            refused: vec![(CustomerRef::email("not an email"), "email")],
            field: Field::City,
        }),
    }
}

#[tokio::test]
async fn the_shared_lookup_suite() {
    lookup::run(fixture).await;
}

#[tokio::test]
async fn email_is_matched_ignoring_ascii_case() {
    let (sb, cm) = seeded().await;
    let upper = LOOKUP_UNIQUE_EMAIL.to_ascii_uppercase();
    let ids = cm.find(&CustomerRef::email(upper.as_str())).await.unwrap();
    assert_eq!(ids, vec![CustomerId::new(LOOKUP_UNIQUE_UUID)]);
    assert_eq!(calls(sb.chartmogul()), vec![search(&upper)]);
}

/// The search's recorded 404 means "no customer": one request, and
/// `NotFound` naming the reference.
#[tokio::test]
async fn a_search_answered_404_is_no_match() {
    let (sb, cm) = seeded().await;
    let h = sb.chartmogul();
    let e = cm
        .resolve(&CustomerRef::email("nobody@nowhere.example.com"))
        .await
        .unwrap_err();
    match &e {
        Error::NotFound { id, .. } => assert_eq!(id, "email nobody@nowhere.example.com"),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.journal().len(), 1);
    assert_eq!(h.journal()[0].status, 404);
}
