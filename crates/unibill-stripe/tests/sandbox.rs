//! Against the sandbox's Stripe emulator: a dropped connection after an
//! update's `POST` was applied is retried with the same `Idempotency-Key`,
//! Stripe replays its answer, and the customer is updated exactly once.

use unibill_core::{CustomerId, CustomerPatch, CustomerUpdater};
use unibill_sandbox::{stripe, Fault, Sandbox, STRIPE_API_KEY};
use unibill_stripe::{BackendBuilder, Stripe};
use unibill_testkit::fast_settings;

#[tokio::test]
async fn a_post_applied_then_dropped_is_retried_with_its_key_and_applied_once() {
    let sandbox = Sandbox::start().await.unwrap();
    let vendor = sandbox.stripe();
    let client = Stripe::builder()
        .api_key(STRIPE_API_KEY)
        .base_url(vendor.base_url())
        .settings(fast_settings())
        .build()
        .unwrap();
    let id = stripe::SEED_CUSTOMER_ID;
    let before = vendor.stripe_update_count(id).unwrap();
    vendor.inject(Fault::drop_after_handling().matching("POST", "/v1/customers/"));

    let outcome = client
        .update_with(
            &CustomerId::from(id),
            &CustomerPatch::new().name("Applied Once"),
            &Default::default(),
        )
        .await
        .expect("the retry gets the replayed answer");
    assert_eq!(outcome.customer.name.as_deref(), Some("Applied Once"));

    let posts: Vec<_> = vendor
        .journal()
        .into_iter()
        .filter(|e| e.method == "POST")
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    let key = |e: &unibill_sandbox::JournalEntry| e.header("idempotency-key").map(str::to_owned);
    assert!(key(&posts[0]).is_some());
    assert_eq!(key(&posts[0]), key(&posts[1]), "the retry reuses the key");
    assert_eq!(posts[0].fault.as_deref(), Some("drop_after_handling"));
    assert!(!posts[0].replayed && posts[1].replayed, "{posts:?}");
    assert_eq!(vendor.stripe_update_count(id), Some(before + 1));
    assert_eq!(
        vendor.customer(id).unwrap()["name"],
        serde_json::json!("Applied Once")
    );
}
