//! Customer lookup by email and by external id on the sandbox: which
//! requests each call sends (journal), which customer is written, and the
//! typed errors for ambiguous and missing matches.

mod common;

use unibill_core::Backend;
use unibill_core::{
    CustomerId, CustomerPatch, CustomerRef, CustomerUpdater, Error, ErrorKind, LookupKind,
    UpdateOptions,
};
use unibill_sandbox::chartmogul::{
    LOOKUP_SHARED_EMAIL, LOOKUP_SHARED_EXTERNAL_ID, LOOKUP_SHARED_UUIDS, LOOKUP_UNIQUE_EMAIL,
    LOOKUP_UNIQUE_EXTERNAL_ID, LOOKUP_UNIQUE_UUID, SEED_CUSTOMER_UUID,
};
use unibill_sandbox::{RequestMatcher, Sandbox};

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

fn patch_of(uuid: &str) -> (String, String) {
    call("PATCH", &format!("/v1/customers/{uuid}"))
}

async fn seeded() -> (Sandbox, unibill_chartmogul::ChartMogul) {
    let (sb, cm) = start().await;
    sb.chartmogul().add_lookup_seeds();
    (sb, cm)
}

fn city_of(sb: &Sandbox, uuid: &str) -> Option<String> {
    sb.chartmogul().customer(uuid).unwrap()["city"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn update_by_email_looks_up_twice_then_writes_the_one_match() {
    let (sb, cm) = seeded().await;
    let h = sb.chartmogul();
    let patch = CustomerPatch::new().city("Twin Peaks");
    let got = cm
        .update(&CustomerRef::email(LOOKUP_UNIQUE_EMAIL), &patch)
        .await
        .unwrap();
    assert_eq!(got.id.as_str(), LOOKUP_UNIQUE_UUID);
    // The lookup, the confirming lookup under the lock, then the write.
    assert_eq!(
        calls(h),
        vec![
            search(LOOKUP_UNIQUE_EMAIL),
            search(LOOKUP_UNIQUE_EMAIL),
            patch_of(LOOKUP_UNIQUE_UUID)
        ]
    );
    assert_eq!(
        city_of(&sb, LOOKUP_UNIQUE_UUID).as_deref(),
        Some("Twin Peaks")
    );
    assert_ne!(
        city_of(&sb, SEED_CUSTOMER_UUID).as_deref(),
        Some("Twin Peaks")
    );
}

#[tokio::test]
async fn email_is_matched_ignoring_ascii_case() {
    let (sb, cm) = seeded().await;
    let upper = LOOKUP_UNIQUE_EMAIL.to_ascii_uppercase();
    let ids = cm.find(&CustomerRef::email(upper.as_str())).await.unwrap();
    assert_eq!(ids, vec![CustomerId::new(LOOKUP_UNIQUE_UUID)]);
    assert_eq!(calls(sb.chartmogul()), vec![search(&upper)]);
}

#[tokio::test]
async fn update_by_external_id_lists_by_external_id_and_writes_the_one_match() {
    let (sb, cm) = seeded().await;
    let h = sb.chartmogul();
    let patch = CustomerPatch::new().city("Lone Pine");
    let outcome = cm
        .update_with(
            &CustomerRef::external(LOOKUP_UNIQUE_EXTERNAL_ID),
            &patch,
            &UpdateOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.customer.id.as_str(), LOOKUP_UNIQUE_UUID);
    assert_eq!(
        calls(h),
        vec![
            list(LOOKUP_UNIQUE_EXTERNAL_ID),
            list(LOOKUP_UNIQUE_EXTERNAL_ID),
            patch_of(LOOKUP_UNIQUE_UUID)
        ]
    );
    assert_eq!(
        city_of(&sb, LOOKUP_UNIQUE_UUID).as_deref(),
        Some("Lone Pine")
    );
}

#[tokio::test]
async fn a_shared_email_or_external_id_is_ambiguous_and_nothing_is_written() {
    let (sb, cm) = seeded().await;
    let h = sb.chartmogul();
    let want: Vec<CustomerId> = LOOKUP_SHARED_UUIDS
        .iter()
        .map(|u| CustomerId::new(*u))
        .collect();
    for reference in [
        CustomerRef::email(LOOKUP_SHARED_EMAIL),
        CustomerRef::external(LOOKUP_SHARED_EXTERNAL_ID),
    ] {
        h.clear_journal();
        let e = cm
            .update(&reference, &CustomerPatch::new().city("Nowhere"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Ambiguous, "{e}");
        assert!(!e.is_retryable());
        match &e {
            Error::Ambiguous {
                reference: r,
                matches,
                ..
            } => {
                assert_eq!(r, &reference);
                assert_eq!(matches, &want);
            }
            other => panic!("{other:?}"),
        }
        let shown = e.to_string();
        assert!(shown.contains(LOOKUP_SHARED_UUIDS[0]) && shown.contains(LOOKUP_SHARED_UUIDS[1]));
        // One lookup, no lock, no write.
        assert_eq!(calls(h).len(), 1, "{:?}", calls(h));
        assert!(writes(h).is_empty());
        assert_eq!(cm.find(&reference).await.unwrap(), want);
    }
    for uuid in LOOKUP_SHARED_UUIDS {
        assert_ne!(city_of(&sb, uuid).as_deref(), Some("Nowhere"));
    }
}

#[tokio::test]
async fn no_match_is_not_found_naming_the_reference_with_nothing_written() {
    let (sb, cm) = seeded().await;
    let h = sb.chartmogul();
    let e = cm
        .update(
            &CustomerRef::email("nobody@nowhere.example.com"),
            &CustomerPatch::new().city("X"),
        )
        .await
        .unwrap_err();
    match &e {
        Error::NotFound { id, .. } => assert_eq!(id, "email nobody@nowhere.example.com"),
        other => panic!("{other:?}"),
    }
    // The search's recorded 404 means "no customer": one request.
    assert_eq!(h.journal().len(), 1);
    assert_eq!(h.journal()[0].status, 404);
    let e = cm
        .get(&CustomerRef::external("acct_none"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(
        e.to_string().contains("external reference acct_none"),
        "{e}"
    );
    assert!(writes(h).is_empty());
    assert!(cm
        .find(&CustomerRef::email("nobody@nowhere.example.com"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn get_and_dry_run_by_reference_look_up_once_and_never_write() {
    let (sb, cm) = seeded().await;
    let h = sb.chartmogul();
    let c = cm
        .get(&CustomerRef::email(LOOKUP_UNIQUE_EMAIL))
        .await
        .unwrap();
    assert_eq!(c.id.as_str(), LOOKUP_UNIQUE_UUID);
    assert_eq!(
        calls(h),
        vec![
            search(LOOKUP_UNIQUE_EMAIL),
            call("GET", &format!("/v1/customers/{LOOKUP_UNIQUE_UUID}"))
        ]
    );
    h.clear_journal();
    let dry = cm
        .dry_run(
            &CustomerRef::external(LOOKUP_UNIQUE_EXTERNAL_ID),
            &CustomerPatch::new().city("Dry"),
            &UpdateOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(dry.writes.len(), 1);
    assert!(
        dry.writes[0].url.ends_with(LOOKUP_UNIQUE_UUID),
        "{}",
        dry.writes[0]
    );
    assert_eq!(calls(h), vec![list(LOOKUP_UNIQUE_EXTERNAL_ID)]);
}

#[tokio::test]
async fn an_id_reference_sends_no_lookup() {
    let (sb, cm) = seeded().await;
    let id = CustomerRef::id(LOOKUP_UNIQUE_UUID);
    assert_eq!(
        cm.resolve(&id).await.unwrap(),
        CustomerId::new(LOOKUP_UNIQUE_UUID)
    );
    assert!(sb.chartmogul().journal().is_empty());
    assert!(cm.capabilities().can_lookup(LookupKind::Email));
    assert!(cm.capabilities().can_lookup(LookupKind::External));
}

#[tokio::test]
async fn bad_lookup_values_are_refused_before_any_request() {
    let (sb, cm) = seeded().await;
    for (reference, field) in [
        (CustomerRef::email("not an email"), "email"),
        (CustomerRef::email("  "), "email"),
        (CustomerRef::external(""), "external"),
    ] {
        match cm.find(&reference).await.unwrap_err() {
            Error::Validation { field: f, .. } => assert_eq!(f, field, "{reference}"),
            other => panic!("{reference}: {other:?}"),
        }
    }
    assert!(sb.chartmogul().journal().is_empty());
}

/// The email moves to another customer between the lookup and the
/// confirming lookup under the lock: the first match is not written; the
/// reference is resolved again and the customer that has the email now
/// is written.
#[tokio::test]
async fn a_match_that_changes_before_the_lock_is_resolved_again() {
    let (sb, cm) = seeded().await;
    let h = sb.chartmogul();
    h.on_next_request(
        RequestMatcher::new("GET", "/v1/customers/search"),
        |h: &unibill_sandbox::VendorHandle| {
            h.update_customer(LOOKUP_UNIQUE_UUID, |c| {
                c["email"] = "moved@lonepine.example.com".into()
            });
            h.update_customer(SEED_CUSTOMER_UUID, |c| {
                c["email"] = LOOKUP_UNIQUE_EMAIL.into()
            });
        },
    );
    let got = cm
        .update(
            &CustomerRef::email(LOOKUP_UNIQUE_EMAIL),
            &CustomerPatch::new().city("Moved"),
        )
        .await
        .unwrap();
    assert_eq!(got.id.as_str(), SEED_CUSTOMER_UUID);
    assert_eq!(
        calls(h),
        vec![
            search(LOOKUP_UNIQUE_EMAIL),
            search(LOOKUP_UNIQUE_EMAIL),
            search(LOOKUP_UNIQUE_EMAIL),
            search(LOOKUP_UNIQUE_EMAIL),
            patch_of(SEED_CUSTOMER_UUID)
        ]
    );
    assert_eq!(city_of(&sb, SEED_CUSTOMER_UUID).as_deref(), Some("Moved"));
    assert_ne!(city_of(&sb, LOOKUP_UNIQUE_UUID).as_deref(), Some("Moved"));
}
