//! Neutral <-> Stripe mapping: every field read and written, clearing,
//! metadata limits, text-only custom attributes, the extension, ids.

use serde_json::json;
use unibill_core::{Change, CustomAttribute, CustomerId, CustomerPatch, Error};
use unibill_stripe::mapping::{
    check_id, check_metadata_key, customer_from_json, form, needs_current_address, validate,
};
use unibill_stripe::wire::AddressResponse;
use unibill_stripe::{Shipping, StripeExtension, TaxExempt};

const KEY: &str = "external_id";

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sent(patch: &CustomerPatch, ext: Option<&StripeExtension>) -> Vec<(String, String)> {
    validate(patch, ext, KEY).unwrap();
    form(patch, ext, KEY, None).pairs().to_vec()
}

fn refused_field(patch: &CustomerPatch) -> String {
    match patch
        .validate()
        .and_then(|()| validate(patch, None, KEY))
        .unwrap_err()
    {
        Error::Validation { field, .. } => field,
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_field_is_read() {
    let raw = json!({
        "id": "cus_1", "object": "customer", "name": "Jenny Rosen",
        "email": "jenny@example.com", "phone": "+1 415", "description": "d",
        "address": {"line1": "1 Main", "line2": "Apt 2", "city": "SF",
                    "state": "CA", "postal_code": "94103", "country": "US"},
        "metadata": {"external_id": "R-1", "plan": "gold"},
        "currency": "eur", "unknown_field": [1, 2]
    });
    let c = customer_from_json(raw.clone(), None, KEY).unwrap();
    assert_eq!(c.id, CustomerId::from("cus_1"));
    assert_eq!(c.name.as_deref(), Some("Jenny Rosen"));
    assert_eq!(c.email.as_deref(), Some("jenny@example.com"));
    assert_eq!(c.phone.as_deref(), Some("+1 415"));
    assert_eq!(c.address.line1.as_deref(), Some("1 Main"));
    assert_eq!(c.address.line2.as_deref(), Some("Apt 2"));
    assert_eq!(c.address.city.as_deref(), Some("SF"));
    assert_eq!(c.address.region.as_deref(), Some("CA"));
    assert_eq!(c.address.postal_code.as_deref(), Some("94103"));
    assert_eq!(c.address.country.as_deref(), Some("US"));
    assert_eq!(c.currency.map(|c| c.as_str()), Some("EUR"));
    assert_eq!(c.external_reference.as_deref(), Some("R-1"));
    // The reference's key is not also a custom attribute.
    assert_eq!(c.custom.len(), 1);
    assert_eq!(c.custom["plan"], "gold");
    assert_eq!(c.raw, raw);
    // Another reference key reads another metadata entry.
    let c = customer_from_json(raw, None, "plan").unwrap();
    assert_eq!(c.external_reference.as_deref(), Some("gold"));
    assert!(c.custom.contains_key("external_id"));
}

#[test]
fn empty_and_null_fields_read_as_absent() {
    let c = customer_from_json(
        json!({"id": "cus_1", "name": "", "email": null, "address": null, "metadata": {}}),
        None,
        KEY,
    )
    .unwrap();
    assert!(c.name.is_none() && c.email.is_none() && c.address.city.is_none());
    assert!(c.external_reference.is_none() && c.custom.is_empty());
    let fallback = CustomerId::from("cus_2");
    assert_eq!(
        customer_from_json(json!({}), Some(&fallback), KEY)
            .unwrap()
            .id,
        fallback
    );
}

#[test]
fn unreadable_answers_are_refused() {
    for raw in [json!([]), json!("x"), json!({"name": "no id"})] {
        let e = customer_from_json(raw.clone(), None, KEY).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{raw}: {e:?}");
    }
    let e = customer_from_json(json!({"id": "cus_1", "currency": "zzz"}), None, KEY).unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    let e = customer_from_json(json!({"id": "cus_1", "deleted": true}), None, KEY).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
}

#[test]
fn every_field_is_written() {
    let patch = CustomerPatch::new()
        .name("Jenny Rosen")
        .email("jenny@example.com")
        .phone("+1 415")
        .address_line1("1 Main")
        .address_line2("Apt 2")
        .city("SF")
        .region("CA")
        .postal_code("94103")
        .country("US")
        .external_reference("R-1")
        .custom("plan", "gold");
    assert!(!needs_current_address(&patch));
    assert_eq!(
        sent(&patch, None),
        pairs(&[
            ("name", "Jenny Rosen"),
            ("email", "jenny@example.com"),
            ("phone", "+1 415"),
            ("address[line1]", "1 Main"),
            ("address[line2]", "Apt 2"),
            ("address[city]", "SF"),
            ("address[state]", "CA"),
            ("address[postal_code]", "94103"),
            ("address[country]", "US"),
            ("metadata[external_id]", "R-1"),
            ("metadata[plan]", "gold"),
        ])
    );
}

#[test]
fn every_field_is_cleared_with_an_empty_value() {
    let patch = CustomerPatch::new()
        .clear_name()
        .clear_email()
        .clear_phone()
        .clear_address_line1()
        .clear_address_line2()
        .clear_city()
        .clear_region()
        .clear_postal_code()
        .clear_country()
        .clear_external_reference()
        .clear_custom("plan");
    assert!(!needs_current_address(&patch));
    assert_eq!(
        sent(&patch, None),
        pairs(&[
            ("name", ""),
            ("email", ""),
            ("phone", ""),
            ("address", ""),
            ("metadata[external_id]", ""),
            ("metadata[plan]", ""),
        ])
    );
}

#[test]
fn a_partial_address_sends_the_rest_as_it_was() {
    let patch = CustomerPatch::new().region("NY").clear_address_line2();
    assert!(needs_current_address(&patch));
    let current: AddressResponse =
        serde_json::from_value(json!({"line1": "1 Main", "line2": "Apt 2", "city": "New York"}))
            .unwrap();
    let f = form(&patch, None, KEY, Some(&current));
    assert_eq!(
        f.pairs(),
        pairs(&[
            ("address[line1]", "1 Main"),
            ("address[line2]", ""),
            ("address[city]", "New York"),
            ("address[state]", "NY"),
            ("address[postal_code]", ""),
            ("address[country]", ""),
        ])
    );
    // Without an address yet, the other fields are sent empty.
    let f = form(&CustomerPatch::new().city("Paris"), None, KEY, None);
    assert_eq!(f.get("address[city]"), Some("Paris"));
    assert_eq!(f.get("address[line1]"), Some(""));
    assert!(!needs_current_address(&CustomerPatch::new().name("x")));
}

#[test]
fn an_empty_patch_sends_nothing() {
    assert!(sent(&CustomerPatch::new(), None).is_empty());
    assert!(sent(&CustomerPatch::new(), Some(&StripeExtension::new())).is_empty());
}

#[test]
fn the_extension_is_written() {
    let ext = StripeExtension::new()
        .description("Key account")
        .preferred_locales(["fr", "en"])
        .invoice_footer("Merci")
        .tax_exempt(TaxExempt::Reverse)
        .shipping(
            Shipping::new("Jenny")
                .phone("+33")
                .line1("1 rue")
                .city("Paris")
                .country("FR"),
        );
    assert_eq!(
        sent(&CustomerPatch::new(), Some(&ext)),
        pairs(&[
            ("description", "Key account"),
            ("preferred_locales[0]", "fr"),
            ("preferred_locales[1]", "en"),
            ("invoice_settings[footer]", "Merci"),
            ("tax_exempt", "reverse"),
            ("shipping[name]", "Jenny"),
            ("shipping[phone]", "+33"),
            ("shipping[address][line1]", "1 rue"),
            ("shipping[address][city]", "Paris"),
            ("shipping[address][country]", "FR"),
        ])
    );
    let cleared = StripeExtension::new()
        .clear_description()
        .clear_preferred_locales()
        .clear_invoice_footer()
        .clear_shipping();
    assert_eq!(
        sent(&CustomerPatch::new(), Some(&cleared)),
        pairs(&[
            ("description", ""),
            ("preferred_locales", ""),
            ("invoice_settings[footer]", ""),
            ("shipping", ""),
        ])
    );
    let bad: StripeExtension = serde_json::from_value(json!({"tax_exempt": null})).unwrap();
    assert_eq!(bad.tax_exempt, Change::Clear);
    assert!(validate(&CustomerPatch::new(), Some(&bad), KEY).is_err());
}

#[test]
fn custom_attributes_are_text_only() {
    assert_eq!(
        refused_field(&CustomerPatch::new().custom("seats", 5)),
        "custom.seats"
    );
    assert_eq!(
        refused_field(&CustomerPatch::new().custom("paid", true)),
        "custom.paid"
    );
    assert_eq!(
        refused_field(
            &CustomerPatch::new().custom("ratio", unibill_core::Decimal::new(15, 1).unwrap())
        ),
        "custom.ratio"
    );
    let at = chrono_free_timestamp();
    assert_eq!(
        refused_field(&CustomerPatch::new().custom("since", at)),
        "custom.since"
    );
    assert_eq!(
        refused_field(
            &CustomerPatch::new()
                .custom_attribute("src", CustomAttribute::new("v").with_source("crm"))
        ),
        "custom.src.source"
    );
    let e = validate(&CustomerPatch::new().custom("seats", 5), None, KEY).unwrap_err();
    assert!(e.to_string().contains("Integer"), "{e}");
}

/// A Timestamp attribute value, parsed by core.
fn chrono_free_timestamp() -> unibill_core::AttributeValue {
    unibill_core::AttributeValue::parse(
        "since",
        unibill_core::AttributeType::Timestamp,
        "2024-01-01T00:00:00Z",
    )
    .unwrap()
}

#[test]
fn metadata_limits_are_checked_before_any_request() {
    let long_key = "k".repeat(41);
    assert_eq!(
        refused_field(&CustomerPatch::new().custom(long_key.clone(), "v")),
        format!("custom.{long_key}")
    );
    assert!(validate(&CustomerPatch::new().custom("k".repeat(40), "v"), None, KEY).is_ok());
    assert!(validate(
        &CustomerPatch::new().custom("k", "v".repeat(500)),
        None,
        KEY
    )
    .is_ok());
    assert_eq!(
        refused_field(&CustomerPatch::new().custom("k", "v".repeat(501))),
        "custom.k"
    );
    assert_eq!(
        refused_field(&CustomerPatch::new().external_reference("r".repeat(501))),
        "external_reference"
    );
    // Brackets: core's key rules already refuse them; the Stripe rule
    // holds on its own too (the reference key is checked with it).
    assert!(check_metadata_key("k", "a[b").is_err());
    assert!(check_metadata_key("k", "a]b").is_err());
    assert!(check_metadata_key("k", "").is_err());
    // 50 keys set by one patch pass; 51 do not, the reference counting.
    let fifty = (0..50).fold(CustomerPatch::new(), |p, i| p.custom(format!("k{i}"), "v"));
    assert!(validate(&fifty, None, KEY).is_ok());
    assert_eq!(
        refused_field(&fifty.clone().external_reference("R")),
        "custom"
    );
    // Deleting keys does not count.
    let deletes = (0..60).fold(CustomerPatch::new(), |p, i| p.clear_custom(format!("k{i}")));
    assert!(validate(&deletes, None, KEY).is_ok());
    // The reference's own key is not a custom attribute.
    assert_eq!(
        refused_field(&CustomerPatch::new().custom(KEY, "x")),
        "custom.external_id"
    );
    assert_eq!(
        refused_field(&CustomerPatch::new().clear_custom(KEY)),
        "custom.external_id"
    );
}

#[test]
fn ids_are_checked() {
    for good in ["cus_NffrFeUfNV2Hib", "cus_1", "cus_ABC123"] {
        assert!(check_id(&CustomerId::from(good)).is_ok(), "{good}");
    }
    for bad in [
        "",
        "cus_",
        "NffrFeUfNV2Hib",
        "cus_a/b",
        "cus_a b",
        "cus_..",
        "cus_é",
        "sub_1",
        "CUS_1",
        "cus_a-b",
    ] {
        let e = check_id(&CustomerId::from(bad)).unwrap_err();
        assert!(
            matches!(&e, Error::Validation { field, .. } if field == "id"),
            "{bad}: {e:?}"
        );
    }
}
