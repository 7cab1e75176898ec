//! Customer lookup by reference and by email on the Fusebill emulator:
//! the list queries sent (journal), which customer is written, and the
//! typed errors for ambiguous and missing matches.

use unibill_core::BackendBuilder;
use unibill_core::{
    CustomerId, CustomerPatch, CustomerRef, CustomerUpdater, Error, ErrorKind, LookupKind,
};
use unibill_fusebill::Fusebill;
use unibill_sandbox::fusebill::{
    LOOKUP_MULTI_EMAIL_ID, LOOKUP_SHARED_EMAIL, LOOKUP_SHARED_EMAIL_IDS, LOOKUP_SHARED_REFERENCE,
    LOOKUP_SHARED_REFERENCE_IDS, LOOKUP_UNIQUE_EMAIL, LOOKUP_UNIQUE_ID, LOOKUP_UNIQUE_REFERENCE,
    SEED_CUSTOMER_ID,
};
use unibill_sandbox::{RequestMatcher, Sandbox, VendorHandle, FUSEBILL_API_KEY};
use unibill_testkit::{call, calls, fast_retry};

async fn seeded() -> (Sandbox, Fusebill) {
    let sb = Sandbox::start().await.unwrap();
    sb.fusebill().add_lookup_seeds();
    let f = Fusebill::builder()
        .api_key(FUSEBILL_API_KEY)
        .base_url(sb.fusebill().base_url())
        .retry(fast_retry())
        .build()
        .unwrap();
    (sb, f)
}

/// Percent-encodes a query value as the client does.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn by_email(email: &str) -> (String, String) {
    let q = enc(&format!("primaryEmail:*{email}*"));
    call(
        "GET",
        &format!("/v1/customers?query={q}&pageSize=100&pageNumber=0"),
    )
}

fn by_reference(reference: &str) -> (String, String) {
    let q = enc(&format!("reference:{reference}"));
    call(
        "GET",
        &format!("/v1/customers?query={q}&pageSize=100&pageNumber=0"),
    )
}

fn writes(h: &VendorHandle) -> usize {
    h.journal().iter().filter(|e| e.is_write()).count()
}

fn first_name(h: &VendorHandle, id: &str) -> Option<String> {
    h.customer(id).unwrap()["firstName"]
        .as_str()
        .map(str::to_owned)
}

/// The requests of the same update by id, on a fresh sandbox.
async fn by_id_calls(id: &str, patch: &CustomerPatch) -> Vec<(String, String)> {
    let (sb, f) = seeded().await;
    f.update(&CustomerId::new(id), patch).await.unwrap();
    calls(sb.fusebill())
}

#[tokio::test]
async fn update_by_email_finds_the_one_customer_and_writes_it() {
    let (sb, f) = seeded().await;
    let h = sb.fusebill();
    let patch = CustomerPatch::new().first_name("Rosa Maria");
    let got = f
        .update(&CustomerRef::email(LOOKUP_UNIQUE_EMAIL), &patch)
        .await
        .unwrap();
    assert_eq!(got.id.as_str(), LOOKUP_UNIQUE_ID);
    // Two lookups (the second under the lock), then exactly what the
    // update by id sends.
    let mut want = vec![by_email(LOOKUP_UNIQUE_EMAIL), by_email(LOOKUP_UNIQUE_EMAIL)];
    want.extend(by_id_calls(LOOKUP_UNIQUE_ID, &patch).await);
    assert_eq!(calls(h), want);
    assert_eq!(writes(h), 1);
    assert_eq!(
        first_name(h, LOOKUP_UNIQUE_ID).as_deref(),
        Some("Rosa Maria")
    );
}

#[tokio::test]
async fn one_of_several_addresses_in_primary_email_is_found() {
    let (sb, f) = seeded().await;
    let ids = f
        .find(&CustomerRef::email("billing@vale.example.com"))
        .await
        .unwrap();
    assert_eq!(ids, vec![CustomerId::new(LOOKUP_MULTI_EMAIL_ID)]);
    // A part of an address is not an address.
    assert!(f
        .find(&CustomerRef::email("illing@vale.example.com"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(writes(sb.fusebill()), 0);
}

#[tokio::test]
async fn update_by_reference_finds_the_one_customer_and_writes_it() {
    let (sb, f) = seeded().await;
    let h = sb.fusebill();
    let patch = CustomerPatch::new().first_name("Lind");
    let got = f
        .update(&CustomerRef::external(LOOKUP_UNIQUE_REFERENCE), &patch)
        .await
        .unwrap();
    assert_eq!(got.id.as_str(), LOOKUP_UNIQUE_ID);
    let mut want = vec![
        by_reference(LOOKUP_UNIQUE_REFERENCE),
        by_reference(LOOKUP_UNIQUE_REFERENCE),
    ];
    want.extend(by_id_calls(LOOKUP_UNIQUE_ID, &patch).await);
    assert_eq!(calls(h), want);
    assert_eq!(first_name(h, LOOKUP_UNIQUE_ID).as_deref(), Some("Lind"));
    // The default seed's reference is a JSON number.
    assert_eq!(
        f.find(&CustomerRef::external("100986")).await.unwrap(),
        vec![CustomerId::new(SEED_CUSTOMER_ID)]
    );
}

#[tokio::test]
async fn shared_email_or_reference_is_ambiguous_and_nothing_is_written() {
    let (sb, f) = seeded().await;
    let h = sb.fusebill();
    for (reference, ids) in [
        (
            CustomerRef::email(LOOKUP_SHARED_EMAIL),
            LOOKUP_SHARED_EMAIL_IDS,
        ),
        (
            CustomerRef::external(LOOKUP_SHARED_REFERENCE),
            LOOKUP_SHARED_REFERENCE_IDS,
        ),
    ] {
        h.clear_journal();
        let e = f
            .update(&reference, &CustomerPatch::new().first_name("Nobody"))
            .await
            .unwrap_err();
        match &e {
            Error::Ambiguous {
                reference: r,
                matches,
                ..
            } => {
                assert_eq!(r, &reference);
                let want: Vec<CustomerId> = ids.iter().map(|i| CustomerId::new(*i)).collect();
                assert_eq!(matches, &want);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            e.to_string().contains(ids[0]) && e.to_string().contains(ids[1]),
            "{e}"
        );
        assert_eq!(h.journal().len(), 1);
        assert_eq!(writes(h), 0);
        for id in ids {
            assert_ne!(first_name(h, id).as_deref(), Some("Nobody"));
        }
    }
}

#[tokio::test]
async fn no_match_is_not_found_and_nothing_is_written() {
    let (sb, f) = seeded().await;
    let h = sb.fusebill();
    for reference in [
        CustomerRef::email("nobody@nowhere.example.com"),
        CustomerRef::external("NO-SUCH-REF"),
    ] {
        let e = f
            .update(&reference, &CustomerPatch::new().first_name("X"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        assert!(e.to_string().contains(reference.as_str()), "{e}");
    }
    assert_eq!(h.journal().len(), 2);
    assert_eq!(writes(h), 0);
}

#[tokio::test]
async fn values_the_filter_cannot_express_are_refused_before_any_request() {
    let (sb, f) = seeded().await;
    for (reference, field) in [
        (CustomerRef::external("A;status:Active"), "external"),
        (CustomerRef::external("a|b"), "external"),
        (CustomerRef::external("[empty]"), "external"),
        (CustomerRef::email("not-an-email"), "email"),
    ] {
        match f.find(&reference).await.unwrap_err() {
            Error::Validation { field: got, .. } => assert_eq!(got, field, "{reference}"),
            other => panic!("{reference}: {other:?}"),
        }
    }
    assert!(sb.fusebill().journal().is_empty());
    assert!(f.capabilities().can_lookup(LookupKind::Email));
    assert!(f.capabilities().can_lookup(LookupKind::External));
}

/// The reference moves to another customer between the lookup and the
/// confirming lookup: the first match is not written; the customer that
/// holds the reference now is.
#[tokio::test]
async fn a_match_that_changes_before_the_lock_is_resolved_again() {
    let (sb, f) = seeded().await;
    let h = sb.fusebill();
    h.on_next_request(RequestMatcher::new("GET", "/v1/customers?query="), |h| {
        h.update_customer(LOOKUP_UNIQUE_ID, |c| c["reference"] = "LIND-OLD".into());
        h.update_customer(SEED_CUSTOMER_ID, |c| {
            c["reference"] = LOOKUP_UNIQUE_REFERENCE.into()
        });
    });
    let got = f
        .update(
            &CustomerRef::external(LOOKUP_UNIQUE_REFERENCE),
            &CustomerPatch::new().first_name("Moved"),
        )
        .await
        .unwrap();
    assert_eq!(got.id.as_str(), SEED_CUSTOMER_ID);
    let sent = calls(h);
    assert_eq!(
        sent[..4],
        vec![by_reference(LOOKUP_UNIQUE_REFERENCE); 4][..]
    );
    assert!(sent[4..].iter().all(|(_, p)| !p.contains("query=")));
    assert_eq!(writes(h), 1);
    assert_eq!(first_name(h, SEED_CUSTOMER_ID).as_deref(), Some("Moved"));
    assert_ne!(first_name(h, LOOKUP_UNIQUE_ID).as_deref(), Some("Moved"));
}
