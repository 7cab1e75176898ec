//! Everlytic documents no customer search: the shared lookup suite
//! (`unibill_testkit::lookup`) checks that lookups by email or external
//! reference are refused before any request, and that ids still work.

use unibill_core::LookupKind;
use unibill_core::{Backend, BackendBuilder};
use unibill_everlytic::Everlytic;
use unibill_sandbox::everlytic::{LOOKUP_UNIQUE_EMAIL, LOOKUP_UNIQUE_ID, LOOKUP_UNIQUE_UNIQUE_ID};
use unibill_sandbox::{Sandbox, EVERLYTIC_API_KEY, EVERLYTIC_USERNAME};
use unibill_testkit::fast_settings;
use unibill_testkit::lookup::{self, LookupFixture};

async fn seeded() -> (Sandbox, Everlytic) {
    let sb = Sandbox::start().await.unwrap();
    sb.everlytic().add_lookup_seeds();
    let ev = Everlytic::builder()
        .base_url(sb.everlytic().base_url())
        .username(EVERLYTIC_USERNAME)
        .api_key(EVERLYTIC_API_KEY)
        .settings(fast_settings())
        .build()
        .unwrap();
    (sb, ev)
}

async fn fixture() -> LookupFixture {
    let (sandbox, ev) = seeded().await;
    LookupFixture {
        sandbox,
        vendor: Sandbox::everlytic,
        updater: Box::new(ev),
        id: LOOKUP_UNIQUE_ID,
        email: LOOKUP_UNIQUE_EMAIL,
        external: LOOKUP_UNIQUE_UNIQUE_ID,
        search: None,
    }
}

#[tokio::test]
async fn the_shared_lookup_suite() {
    let (_sb, ev) = seeded().await;
    for kind in LookupKind::ALL {
        assert!(!ev.capabilities().can_lookup(*kind));
    }
    lookup::run(fixture).await;
}
