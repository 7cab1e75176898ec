//! Customer lookup by reference and by email on the Fusebill emulator:
//! the shared lookup suite (`unibill_testkit::lookup`), then what only
//! Fusebill does (several addresses in one email field, references stored
//! as JSON numbers).

use unibill_core::BackendBuilder;
use unibill_core::{CustomerId, CustomerRef, CustomerUpdater, Field, LookupKind};
use unibill_fusebill::Fusebill;
use unibill_sandbox::fusebill::{
    LOOKUP_MULTI_EMAIL_ID, LOOKUP_SHARED_EMAIL, LOOKUP_SHARED_EMAIL_IDS, LOOKUP_SHARED_REFERENCE,
    LOOKUP_SHARED_REFERENCE_IDS, LOOKUP_UNIQUE_EMAIL, LOOKUP_UNIQUE_ID, LOOKUP_UNIQUE_REFERENCE,
    SEED_CUSTOMER_ID,
};
use unibill_sandbox::{Sandbox, VendorHandle, FUSEBILL_API_KEY};
use unibill_testkit::call;
use unibill_testkit::fast_settings;
use unibill_testkit::lookup::{self, LookupFixture, Search};

async fn seeded() -> (Sandbox, Fusebill) {
    let sb = Sandbox::start().await.unwrap();
    sb.fusebill().add_lookup_seeds();
    let f = Fusebill::builder()
        .api_key(FUSEBILL_API_KEY)
        .base_url(sb.fusebill().base_url())
        .settings(fast_settings())
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

async fn fixture() -> LookupFixture {
    let (sandbox, f) = seeded().await;
    LookupFixture {
        sandbox,
        vendor: Sandbox::fusebill,
        updater: Box::new(f),
        id: LOOKUP_UNIQUE_ID,
        email: LOOKUP_UNIQUE_EMAIL,
        external: LOOKUP_UNIQUE_REFERENCE,
        search: Some(Search {
            request: |kind, value| match kind {
                LookupKind::Email => by_email(value),
                _ => by_reference(value),
            },
            move_value: |h: &VendorHandle, kind, value, from, to| {
                let (key, old) = match kind {
                    LookupKind::Email => ("primaryEmail", "moved@vale.example.com"),
                    _ => ("reference", "LIND-OLD"),
                };
                h.update_customer(from, |c| c[key] = old.into());
                h.update_customer(to, |c| c[key] = value.into());
            },
            shared_email: (LOOKUP_SHARED_EMAIL, &LOOKUP_SHARED_EMAIL_IDS),
            shared_external: (LOOKUP_SHARED_REFERENCE, &LOOKUP_SHARED_REFERENCE_IDS),
            other_id: SEED_CUSTOMER_ID,
            refused: vec![
                (CustomerRef::external("A;status:Active"), "external"),
                (CustomerRef::external("a|b"), "external"),
                (CustomerRef::external("[empty]"), "external"),
                (CustomerRef::email("not-an-email"), "email"),
            ],
            field: Field::FirstName,
        }),
    }
}

#[tokio::test]
async fn the_shared_lookup_suite() {
    lookup::run(fixture).await;
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
    assert!(sb.fusebill().journal().iter().all(|e| !e.is_write()));
}

/// The default seed's reference is a JSON number.
#[tokio::test]
async fn a_reference_stored_as_a_json_number_is_found() {
    let (_sb, f) = seeded().await;
    assert_eq!(
        f.find(&CustomerRef::external("100986")).await.unwrap(),
        vec![CustomerId::new(SEED_CUSTOMER_ID)]
    );
}
