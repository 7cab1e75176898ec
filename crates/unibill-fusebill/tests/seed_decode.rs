//! Decoding the customer printed in Fusebill's `PUT /v1/customers` page
//! (seed 003, the "Response" example, verbatim: the sandbox's
//! `fusebill::SEED_CUSTOMER_PAGE_JSON`) into a neutral customer.

use serde_json::Value;
use unibill_core::{Currency, CustomerId, CustomerStatus, Money};
use unibill_fusebill::mapping::customer_from_json;
use unibill_sandbox::fusebill::SEED_CUSTOMER_PAGE_JSON;

#[test]
fn seed_response_decodes_without_losing_a_value() {
    let raw: Value = serde_json::from_str(SEED_CUSTOMER_PAGE_JSON).unwrap();
    let c = customer_from_json(&CustomerId::new("12000750"), raw.clone()).unwrap();
    assert_eq!(c.id.as_str(), "12000750");
    assert_eq!(c.first_name.as_deref(), Some("Katelyn"));
    assert_eq!(c.middle_name.as_deref(), Some("Kent"));
    assert_eq!(c.last_name.as_deref(), Some("Floyd"));
    assert_eq!(c.company.as_deref(), Some("Ronbert"));
    assert_eq!(c.suffix.as_deref(), Some("Sr."));
    assert_eq!(c.title.as_deref(), Some("Miss"));
    assert_eq!(c.email.as_deref(), Some("[email protected]"));
    assert_eq!(c.secondary_email.as_deref(), Some("[email protected]"));
    // Numbers where the docs say String, read as text.
    assert_eq!(c.phone.as_deref(), Some("9964413586"));
    assert_eq!(c.secondary_phone.as_deref(), Some("9555473089"));
    assert_eq!(c.external_reference.as_deref(), Some("100986"));
    assert_eq!(c.status, Some(CustomerStatus::Active));
    assert_eq!(c.currency, Some(Currency::USD));
    // 250 (decimal dollars) = 25000 cents, exactly.
    assert_eq!(c.mrr, Some(Money::from_minor(25000, Currency::USD)));
    assert_eq!(c.mrr.map(|m| m.to_string()).as_deref(), Some("250.00 USD"));
    assert_eq!(c.acquisition, Default::default());
    // Fusebill has no display name, website, address, tags or custom
    // attributes on this endpoint.
    assert_eq!(c.name, None);
    assert!(c.tags.is_empty() && c.custom.is_empty());
    assert_eq!(c.arr, None);
    // Everything else, unchanged, types included.
    assert_eq!(c.raw, raw);
    assert_eq!(c.raw["customerReference"]["reference2"], "customValue");
    assert!(c.raw["reference"].is_u64());
    assert_eq!(c.raw["netMonthlyRecurringRevenue"], 220);
    assert_eq!(c.raw["geotabId"], "7813");
}
