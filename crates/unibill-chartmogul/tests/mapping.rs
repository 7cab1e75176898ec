//! Mapping round trips on the vendor's own samples (no network).

mod seed_000;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use seed_000::{seed_000_patch, seed_000_patch_body};
use unibill_chartmogul::mapping::{self, customer_from_json, plan_writes, Method, Target};
use unibill_core::{Currency, CustomerId, CustomerPatch, CustomerStatus, Error, Money};

/// The "Result Format" of the "Update a Customer" page (seed 000), as
/// captured but for a trailing comma that is not JSON (see the sandbox's
/// `chartmogul::SEED_CUSTOMER_PAGE_JSON`).
use unibill_sandbox::chartmogul::SEED_CUSTOMER_PAGE_JSON as SEED_000_RESPONSE;

/// One entry of the by-email answer (seed 002), as captured.
const SEED_002_ENTRY: &str = r#"{ "id": 25647, "uuid": "cus_de305d54-75b4-431b-adb2-eb6b9e546012", "external_id": "cus_0001", "email": "[email protected]", "name": "Smith Company", "mrr": 3000, "arr": 36000, "status": "Active", "customer-since": "2022-06-09T13:16:00-04:00", "billing-system-url": "https://dashboard.stripe.com/customers/cus_4Z2ZpyJFuQ0XMb", "chartmogul-url": "https://app.chartmogul.com/#customers/25647-Smith_Company", "billing-system-type": "Stripe", "currency": "USD", "currency-sign": "$", "attributes": { "tags": ["important", "Prio1"], "stripe": { "coupon": true }, "custom": { "channel": "Facebook", "age": 8 } } }"#;

#[test]
fn the_captured_sample_really_has_the_trailing_comma() {
    let captured =
        SEED_000_RESPONSE.replace("\"SalesRep\": \"Mike\"\n", "\"SalesRep\": \"Mike\",\n");
    assert!(serde_json::from_str::<Value>(&captured).is_err());
}

#[test]
fn seed_000_response_decodes_with_mrr_tags_custom_and_raw_intact() {
    let raw: Value = serde_json::from_str(SEED_000_RESPONSE).unwrap();
    let c = customer_from_json(raw.clone(), None).unwrap();
    assert_eq!(c.id.as_str(), "cus_ab223d54-75b4-431b-adb2-eb6b9e234571");
    assert_eq!(c.mrr, Some(Money::from_minor(3000, Currency::USD)));
    assert_eq!(c.mrr.unwrap().to_major().to_string(), "30.00");
    assert_eq!(c.arr, Some(Money::from_minor(36000, Currency::USD)));
    assert_eq!(c.currency, Some(Currency::USD));
    assert_eq!(c.tags, vec!["high-value".to_string()]);
    assert_eq!(c.custom.len(), 2);
    assert_eq!(c.custom["CAC"], json!(25));
    assert_eq!(c.custom["SalesRep"], json!("Mike"));
    assert_eq!(c.raw, raw, "raw is the whole answer, unchanged");
    assert_eq!(c.name.as_deref(), Some("Ben"));
    assert_eq!(c.email.as_deref(), Some("[email protected]"));
    assert_eq!(c.company.as_deref(), Some("Example Company"));
    assert_eq!(c.address.city.as_deref(), Some("San Francisco"));
    assert_eq!(c.address.region.as_deref(), Some("CA"));
    assert_eq!(c.address.postal_code.as_deref(), Some("99801"));
    assert_eq!(c.address.country.as_deref(), Some("US"));
    assert_eq!(c.status, Some(CustomerStatus::Active));
    assert_eq!(c.external_reference.as_deref(), Some("34916129"));
    assert_eq!(
        c.lead_created_at,
        Some(
            Utc.with_ymd_and_hms(2015, 1, 1, 0, 0, 0)
                .unwrap()
                .fixed_offset()
        )
    );
    assert_eq!(
        c.free_trial_started_at,
        Some(
            Utc.with_ymd_and_hms(2015, 6, 13, 15, 45, 13)
                .unwrap()
                .fixed_offset()
        )
    );
    let since = c.customer_since.unwrap();
    assert_eq!(
        since,
        DateTime::parse_from_rfc3339("2015-06-19T13:16:00-04:00").unwrap()
    );
    assert_eq!(since.offset().local_minus_utc(), -4 * 3600, "offset kept");
    assert_eq!(c.website, None);
}

#[test]
fn by_email_entry_decodes_without_address_fields() {
    let raw: Value = serde_json::from_str(SEED_002_ENTRY).unwrap();
    let c = customer_from_json(raw.clone(), None).unwrap();
    assert_eq!(c.id.as_str(), "cus_de305d54-75b4-431b-adb2-eb6b9e546012");
    assert_eq!(c.mrr, Some(Money::from_minor(3000, Currency::USD)));
    assert_eq!(c.tags, vec!["important".to_string(), "Prio1".to_string()]);
    assert_eq!(c.custom["age"], json!(8));
    assert_eq!(c.external_reference.as_deref(), Some("cus_0001"));
    assert_eq!(c.address.city, None);
    assert_eq!(c.raw, raw);
}

#[test]
fn vendor_quirks_are_read_not_guessed() {
    let mut raw: Value = serde_json::from_str(SEED_000_RESPONSE).unwrap();
    // Cents sent as a float (the Go and Python clients show 3000.0).
    raw["mrr"] = json!(3000.0);
    // A status unibill does not know survives verbatim.
    raw["status"] = json!("Frozen");
    // Address only in the nested object, country spelled out.
    raw["city"] = Value::Null;
    raw["country"] = Value::Null;
    raw["address"]["country"] = json!("United States");
    let c = customer_from_json(raw, None).unwrap();
    assert_eq!(c.mrr, Some(Money::from_minor(3000, Currency::USD)));
    assert_eq!(c.status, Some(CustomerStatus::Other("Frozen".into())));
    assert_eq!(c.address.city.as_deref(), Some("San Francisco"));
    assert_eq!(c.address.country.as_deref(), Some("United States"));

    for (status, expected) in [
        ("Lead", CustomerStatus::Lead),
        ("New Lead", CustomerStatus::NewLead),
        ("Working Lead", CustomerStatus::WorkingLead),
        ("Qualified Lead", CustomerStatus::QualifiedLead),
        ("Unqualified Lead", CustomerStatus::UnqualifiedLead),
        ("Past due", CustomerStatus::PastDue),
        ("Cancelled", CustomerStatus::Cancelled),
    ] {
        assert_eq!(mapping::status_from_wire(status), expected);
    }
}

#[test]
fn malformed_answers_are_decode_errors() {
    let base: Value = serde_json::from_str(SEED_000_RESPONSE).unwrap();
    let cases = [
        ("mrr", json!(30.5)),
        ("currency", json!("dollars")),
        ("lead_created_at", json!("yesterday")),
        ("name", json!(42)),
        ("attributes", json!({"tags": "high-value"})),
    ];
    for (key, value) in cases {
        let mut raw = base.clone();
        raw[key] = value;
        match customer_from_json(raw, None) {
            Err(Error::Decode { .. }) => {}
            other => panic!("{key}: {other:?}"),
        }
    }
    // No uuid: the id asked for is used; none at all is an error.
    let mut raw = base.clone();
    raw.as_object_mut().unwrap().remove("uuid");
    let id = CustomerId::from("cus_x");
    assert_eq!(customer_from_json(raw.clone(), Some(&id)).unwrap().id, id);
    assert!(matches!(
        customer_from_json(raw, None),
        Err(Error::Decode { .. })
    ));
    // Without a currency, cents cannot become money: left to `raw`.
    let mut raw = base;
    raw["currency"] = Value::Null;
    let c = customer_from_json(raw, None).unwrap();
    assert_eq!((c.mrr, c.currency), (None, None));
}

#[test]
fn seed_000_patch_plans_the_documented_bodies() {
    let patch = seed_000_patch();
    mapping::validate(&patch, None).unwrap();
    let calls = plan_writes(&patch, None, None).unwrap();
    let shape: Vec<(Method, Target)> = calls.iter().map(|c| (c.method.clone(), c.target)).collect();
    assert_eq!(
        shape,
        vec![
            (Method::PATCH, Target::Customer),
            (Method::POST, Target::Custom),
            (Method::POST, Target::Tags),
        ]
    );
    assert_eq!(calls[0].body, seed_000_patch_body());
    assert!(plan_writes(&CustomerPatch::new(), None, None)
        .unwrap()
        .is_empty());
}

#[test]
fn only_lead_stages_map_to_a_patch_status() {
    assert_eq!(
        mapping::lead_status_to_wire(&CustomerStatus::NewLead).unwrap(),
        "New Lead"
    );
    assert_eq!(
        mapping::lead_status_to_wire(&CustomerStatus::Other("Qualified Lead".into())).unwrap(),
        "Qualified Lead"
    );
    for s in [
        CustomerStatus::Lead,
        CustomerStatus::Active,
        CustomerStatus::PastDue,
        CustomerStatus::Cancelled,
        CustomerStatus::Other("new lead".into()),
    ] {
        assert!(
            matches!(mapping::lead_status_to_wire(&s), Err(Error::Validation { ref field, .. }) if field == "status"),
            "{s}"
        );
    }
}

#[test]
fn capabilities_are_what_chartmogul_can_do() {
    use unibill_core::{Field, FieldCaps};
    let caps = unibill_chartmogul::capabilities();
    assert_eq!(caps.backend(), unibill_chartmogul::KIND);
    for (field, got) in caps.iter() {
        let expected = match field {
            Field::DisplayName | Field::Status => FieldCaps::READ_SET,
            Field::Email
            | Field::Company
            | Field::Website
            | Field::City
            | Field::Region
            | Field::PostalCode
            | Field::Country
            | Field::LeadCreatedAt
            | Field::FreeTrialStartedAt
            | Field::Tags
            | Field::CustomAttributes => FieldCaps::ALL,
            Field::ExternalReference
            | Field::Currency
            | Field::CustomerSince
            | Field::Mrr
            | Field::Arr => FieldCaps::READ,
            _ => FieldCaps::NONE,
        };
        assert_eq!(got, expected, "{field}");
    }
}

#[test]
fn answers_that_are_not_objects_are_decode_errors() {
    // Serde reads a struct from an array field by field: `[]` would be a
    // blank customer and `["a", "cus_b"]` one with uuid `cus_b`.
    let id = CustomerId::from("cus_x");
    for raw in [
        json!([]),
        json!([1, "cus_b"]),
        json!("cus_b"),
        json!(42),
        Value::Null,
    ] {
        match customer_from_json(raw.clone(), Some(&id)) {
            Err(Error::Decode { .. }) => {}
            other => panic!("{raw}: {other:?}"),
        }
    }
}

#[test]
fn cents_are_hundredths_whatever_the_currency_s_minor_unit() {
    // ChartMogul's `mrr`/`arr` are hundredths of the currency ("divide by
    // 100"); `Money` counts the currency's own minor unit.
    let base: Value = serde_json::from_str(SEED_000_RESPONSE).unwrap();
    let read = |currency: &str, mrr: i64| {
        let mut raw = base.clone();
        raw["currency"] = json!(currency);
        raw["mrr"] = json!(mrr);
        customer_from_json(raw, None).unwrap().mrr
    };
    let jpy = Currency::new("JPY").unwrap();
    let kwd = Currency::new("KWD").unwrap();
    assert_eq!(
        read("USD", 3000),
        Some(Money::from_minor(3000, Currency::USD))
    );
    assert_eq!(read("JPY", 3000), Some(Money::from_minor(30, jpy)));
    assert_eq!(read("KWD", 3000), Some(Money::from_minor(30000, kwd)));
    // 30.50 yen is not a whole number of yen: left to `raw`, not rounded.
    assert_eq!(read("JPY", 3050), None);
    assert_eq!(
        mapping::money_from_cents(i64::MAX, kwd),
        None,
        "overflow is no amount, not a panic"
    );
}

/// The attribute calls' answers, as ChartMogul documents them, replace the
/// map they answer in a customer answer; an answer that does not carry it,
/// or a customer without `attributes`, leaves the record untouched (the
/// client then reads the customer).
#[test]
fn attribute_answers_replace_their_map_in_the_customer_or_are_refused() {
    let seed: Value = serde_json::from_str(SEED_000_RESPONSE).unwrap();
    // Seed 001: the custom attribute calls answer every attribute now on
    // the customer.
    let custom = br#"{"custom": {"CAC": 213, "convertedAt": "2022-09-08 00:00:00", "pro": true}}"#;
    let mut raw = seed.clone();
    assert!(mapping::merge_attribute_answer(
        &mut raw,
        Target::Custom,
        custom
    ));
    assert_eq!(
        raw["attributes"]["custom"],
        json!({"CAC": 213, "convertedAt": "2022-09-08 00:00:00", "pro": true})
    );
    assert_eq!(raw["attributes"]["tags"], seed["attributes"]["tags"]);
    // The tag calls answer every tag now on the customer.
    let tags = br#"{"tags": ["engage", "unit loss", "important"]}"#;
    assert!(mapping::merge_attribute_answer(
        &mut raw,
        Target::Tags,
        tags
    ));
    let c = customer_from_json(raw.clone(), None).unwrap();
    assert_eq!(c.tags, vec!["engage", "unit loss", "important"]);
    assert_eq!(c.custom.get("CAC"), Some(&json!(213)));
    // Everything else is the customer answer as it was.
    let mut rest = raw.clone();
    rest["attributes"] = seed["attributes"].clone();
    assert_eq!(rest, seed);

    for (target, answer) in [
        (Target::Custom, &b""[..]),
        (Target::Custom, b"not json"),
        (Target::Custom, b"{}"),
        (Target::Custom, br#"{"custom": ["CAC"]}"#),
        (Target::Custom, br#"{"tags": ["a"]}"#),
        (Target::Tags, br#"{"tags": "a"}"#),
        (Target::Tags, br#"{"tags": ["a", 1]}"#),
        (Target::Tags, br#"[["a"]]"#),
        (Target::Customer, br#"{"tags": ["a"]}"#),
    ] {
        let mut untouched = raw.clone();
        assert!(
            !mapping::merge_attribute_answer(&mut untouched, target, answer),
            "{target:?} {}",
            String::from_utf8_lossy(answer)
        );
        assert_eq!(untouched, raw);
    }
    // A customer answer without `attributes` holds no other attributes to
    // keep: refused.
    let mut bare = json!({"uuid": "cus_1", "name": "Ben"});
    assert!(!mapping::merge_attribute_answer(
        &mut bare,
        Target::Tags,
        tags
    ));
    assert_eq!(bare, json!({"uuid": "cus_1", "name": "Ben"}));
}
