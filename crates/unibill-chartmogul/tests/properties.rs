//! No input panics the mapping; a PATCH carries only what the patch touches.

use proptest::prelude::*;
use serde_json::{json, Value};
use unibill_chartmogul::error::vendor_messages;
use unibill_chartmogul::mapping::{customer_from_json, plan_writes, validate, Method};
use unibill_core::CustomerPatch;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("uuid".to_string()),
                    Just("mrr".to_string()),
                    Just("currency".to_string()),
                    Just("attributes".to_string()),
                    Just("customer-since".to_string()),
                    Just("status".to_string()),
                    Just("message".to_string()),
                    Just("errors".to_string()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_answer_decodes_or_errors_without_panicking(v in arb_json()) {
        let _ = customer_from_json(v.clone(), None);
        let _ = vendor_messages(v.to_string().as_bytes());
    }

    #[test]
    fn any_bytes_give_messages_without_panicking(b in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = vendor_messages(&b);
    }

    #[test]
    fn patch_body_holds_exactly_the_touched_plain_fields(
        city in prop::option::of(prop::option::of("[A-Za-z ]{1,10}")),
        company in prop::option::of(prop::option::of("[A-Za-z]{1,10}")),
        zip in prop::option::of(prop::option::of("[0-9]{5}")),
        tag in prop::option::of("[a-z]{1,6}"),
    ) {
        // None = keep, Some(None) = clear, Some(Some(v)) = set.
        let mut p = CustomerPatch::new();
        let mut expected = serde_json::Map::new();
        for (key, change) in [("city", &city), ("company", &company), ("zip", &zip)] {
            match change {
                None => continue,
                Some(None) => {
                    p = match key { "city" => p.clear_city(), "company" => p.clear_company(), _ => p.clear_postal_code() };
                    expected.insert(key.into(), Value::Null);
                }
                Some(Some(v)) if !v.trim().is_empty() => {
                    p = match key { "city" => p.city(v.clone()), "company" => p.company(v.clone()), _ => p.postal_code(v.clone()) };
                    expected.insert(key.into(), json!(v));
                }
                Some(Some(_)) => continue,
            }
        }
        if let Some(t) = &tag {
            p = p.add_tag(t.clone());
        }
        p.validate().unwrap();
        validate(&p, None).unwrap();
        let calls = plan_writes(&p, None, None).unwrap();
        let patch_call = calls.iter().find(|c| c.method == Method::PATCH);
        if expected.is_empty() {
            prop_assert!(patch_call.is_none());
        } else {
            prop_assert_eq!(&patch_call.unwrap().body, &Value::Object(expected));
        }
        prop_assert_eq!(calls.iter().filter(|c| c.method == Method::POST).count(), usize::from(tag.is_some()));
    }
}
