//! Everlytic documents no customer search: lookups by email or external
//! reference are refused before any request, and ids still work.

use unibill_core::BackendBuilder;
use unibill_core::{
    CustomerId, CustomerPatch, CustomerRef, CustomerUpdater, Error, ErrorKind, LookupKind,
    UpdateOptions,
};
use unibill_everlytic::{Everlytic, KIND};
use unibill_sandbox::everlytic::{LOOKUP_UNIQUE_EMAIL, LOOKUP_UNIQUE_ID, LOOKUP_UNIQUE_UNIQUE_ID};
use unibill_sandbox::{Sandbox, EVERLYTIC_API_KEY, EVERLYTIC_USERNAME};
use unibill_testkit::fast_retry;

async fn seeded() -> (Sandbox, Everlytic) {
    let sb = Sandbox::start().await.unwrap();
    sb.everlytic().add_lookup_seeds();
    let ev = Everlytic::builder()
        .base_url(sb.everlytic().base_url())
        .username(EVERLYTIC_USERNAME)
        .api_key(EVERLYTIC_API_KEY)
        .retry(fast_retry())
        .build()
        .unwrap();
    (sb, ev)
}

#[tokio::test]
async fn lookups_are_unsupported_and_send_nothing() {
    let (sb, ev) = seeded().await;
    for kind in LookupKind::ALL {
        assert!(!ev.capabilities().can_lookup(*kind));
    }
    let patch = CustomerPatch::new().phone("+27 21 555 0100");
    for (reference, kind) in [
        (CustomerRef::email(LOOKUP_UNIQUE_EMAIL), LookupKind::Email),
        (
            CustomerRef::external(LOOKUP_UNIQUE_UNIQUE_ID),
            LookupKind::External,
        ),
    ] {
        let errors = [
            ev.find(&reference).await.unwrap_err(),
            ev.resolve(&reference).await.unwrap_err(),
            ev.get(&reference).await.unwrap_err(),
            ev.update(&reference, &patch).await.unwrap_err(),
            ev.dry_run(&reference, &patch, &UpdateOptions::default())
                .await
                .unwrap_err(),
        ];
        for e in errors {
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            match &e {
                Error::UnsupportedLookup { backend, lookup } => {
                    assert_eq!((*backend, *lookup), (KIND, kind))
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(
                e.to_string(),
                format!("everlytic cannot look up customers by {}", kind.name())
            );
        }
    }
    assert!(sb.everlytic().journal().is_empty());
    // An id needs no lookup.
    let c = ev.get(&CustomerRef::id(LOOKUP_UNIQUE_ID)).await.unwrap();
    assert_eq!(c.id, CustomerId::new(LOOKUP_UNIQUE_ID));
    assert_eq!(sb.everlytic().journal().len(), 1);
}
