//! Property tests of the lossless merge (pure, no network): over generated
//! customer JSON (unknown keys, nested objects, mixed JSON types, names in
//! several cases) and generated patches, the merged body equals the input
//! except exactly at the patched paths.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use unibill_core::{CustomerPatch, CustomerStatus};
use unibill_fusebill::mapping;
use unibill_fusebill::merge::{merge, Edit};

const TOP: &[&str] = &[
    "firstName",
    "lastName",
    "status",
    "primaryPhone",
    "reference",
    "customerAcquisition",
    "customerReference",
    "parentId",
    "geotabId",
    "id",
];
const NESTED: &[&str] = &[
    "campaign",
    "source",
    "reference1",
    "salesTrackingCodes",
    "id",
    "uri",
];

/// A name in one of several casings (`status`, `Status`, `STATUS`).
fn cased(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    (prop::sample::select(names), 0..4u8).prop_map(|(n, c)| match c {
        0 | 1 => n.to_owned(),
        2 => {
            let mut s = n.to_owned();
            if let Some(f) = s.get(0..1) {
                let up = f.to_ascii_uppercase();
                s.replace_range(0..1, &up);
            }
            s
        }
        _ => n.to_ascii_uppercase(),
    })
}

fn any_key(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![3 => cased(names), 1 => "[a-zA-Z_]{1,8}"]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1.0e12f64..1.0e12).prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,12}".prop_map(Value::String),
        // Small numbers and their text, so that a string edit often meets
        // a number (or boolean) of the same text.
        (0u8..3).prop_map(Value::from),
        (0u8..3).prop_map(|n| Value::String(n.to_string())),
        Just(Value::String("true".to_owned())),
        // An empty list: where the record holds nothing, it changes nothing.
        Just(Value::Array(Vec::new())),
    ]
}

/// Whether an edit of `v` puts nothing where nothing is (`null` or `[]`).
fn empty(v: &Value) -> bool {
    v.is_null() || v.as_array().is_some_and(Vec::is_empty)
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn nested_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((any_key(NESTED), value()), 0..6)
        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>()))
}

fn customer() -> impl Strategy<Value = Value> {
    let member = prop_oneof![
        2 => (any_key(TOP), value()),
        1 => (cased(&["customerAcquisition", "customerReference"]), nested_object()),
    ];
    prop::collection::vec(member, 0..14)
        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>()))
}

/// Edits with distinct paths (ignoring case), none a prefix of another.
fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let one = prop_oneof![
        (cased(TOP), leaf()).prop_map(|(k, v)| Edit {
            path: vec![k],
            value: v
        }),
        (
            cased(&["customerAcquisition", "customerReference", "firstName"]),
            cased(NESTED),
            leaf()
        )
            .prop_map(|(a, b, v)| Edit {
                path: vec![a, b],
                value: v
            }),
    ];
    prop::collection::vec(one, 0..6).prop_map(|all| {
        let mut kept: Vec<Edit> = Vec::new();
        for e in all {
            let lower: Vec<String> = e.path.iter().map(|s| s.to_ascii_lowercase()).collect();
            let clash = kept.iter().any(|k| {
                let kl: Vec<String> = k.path.iter().map(|s| s.to_ascii_lowercase()).collect();
                let n = kl.len().min(lower.len());
                kl[..n] == lower[..n]
            });
            if !clash {
                kept.push(e);
            }
        }
        kept
    })
}

/// Whether the merge must refuse: an edit goes through a property holding
/// neither an object nor null.
fn must_fail(obj: &Map<String, Value>, edits: &[Edit]) -> bool {
    edits.iter().any(|e| {
        let (first, rest) = e.path.split_first().expect("non-empty path");
        if rest.is_empty() {
            return false;
        }
        obj.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(first))
            .any(|(_, v)| match v {
                Value::Object(child) => must_fail(
                    child,
                    &[Edit {
                        path: rest.to_vec(),
                        value: e.value.clone(),
                    }],
                ),
                Value::Null => false,
                _ => true,
            })
    })
}

/// What a newly created property holds: the edits under it that are
/// neither `null` nor `[]`, as nested objects (`None` when there are none).
fn created(edits: &[(Vec<String>, Value)]) -> Option<Value> {
    if let Some((_, v)) = edits.iter().find(|(p, _)| p.is_empty()) {
        return (!empty(v)).then(|| v.clone());
    }
    // Edits whose first names differ only in case land in one property,
    // spelled as the first of them that creates something (Fusebill's
    // names are case-insensitive; a clear or `[]` never creates).
    let mut out = Map::new();
    let mut firsts: Vec<&String> = Vec::new();
    for (p, v) in edits {
        if !empty(v) && !firsts.iter().any(|f| f.eq_ignore_ascii_case(&p[0])) {
            firsts.push(&p[0]);
        }
    }
    for f in firsts {
        let tails: Vec<(Vec<String>, Value)> = edits
            .iter()
            .filter(|(p, _)| p[0].eq_ignore_ascii_case(f))
            .map(|(p, v)| (p[1..].to_vec(), v.clone()))
            .collect();
        if let Some(v) = created(&tails) {
            out.insert(f.clone(), v);
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// What a property holding `before` holds once set to `v`: `v`, except
/// that a string whose text is the number or boolean already there keeps
/// the value as read (same value, same JSON type), `[]` over `null`
/// leaves the `null`, and clearing `""` leaves the `""`.
fn patched<'a>(before: &'a Value, v: &'a Value) -> &'a Value {
    if before.is_null() && empty(v) {
        return before;
    }
    // `""` reads as no value: clearing it changes nothing.
    if v.is_null() && before.as_str() == Some("") {
        return before;
    }
    let read_text = match before {
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return v,
    };
    match v {
        Value::String(s) if *s == read_text => before,
        _ => v,
    }
}

/// Checks `output` against `input` and the edits (paths relative to this
/// object): untouched properties are identical (JSON types included),
/// touched ones hold the edit's value, nothing else appears.
fn check(
    input: &Map<String, Value>,
    output: &Map<String, Value>,
    edits: &[(Vec<String>, Value)],
) -> Result<(), TestCaseError> {
    for (k, before) in input {
        let after = output.get(k);
        prop_assert!(after.is_some(), "property `{}` was dropped", k);
        let after = after.unwrap_or(&Value::Null);
        let rel: Vec<(Vec<String>, Value)> = edits
            .iter()
            .filter(|(p, _)| p[0].eq_ignore_ascii_case(k))
            .map(|(p, v)| (p[1..].to_vec(), v.clone()))
            .collect();
        if rel.is_empty() {
            prop_assert_eq!(after, before, "untouched `{}` changed", k);
        } else if let Some((_, v)) = rel.iter().find(|(p, _)| p.is_empty()) {
            prop_assert_eq!(
                after,
                patched(before, v),
                "`{}` does not hold the patched value",
                k
            );
        } else {
            match before {
                Value::Object(bm) => {
                    let am = after.as_object();
                    prop_assert!(am.is_some(), "`{}` is no longer an object", k);
                    check(bm, am.unwrap_or(&Map::new()), &rel)?;
                }
                Value::Null => {
                    prop_assert_eq!(
                        after,
                        &created(&rel).unwrap_or(Value::Null),
                        "under null `{}`",
                        k
                    );
                }
                other => prop_assert!(false, "merged through a non-object `{}`: {}", k, other),
            }
        }
    }
    // New properties: exactly the edits, neither null nor `[]`, whose first name matches
    // nothing in the input, under the edit's own spelling.
    let mut expected_new = Map::new();
    let unmatched: Vec<(Vec<String>, Value)> = edits
        .iter()
        .filter(|(p, _)| !input.keys().any(|k| k.eq_ignore_ascii_case(&p[0])))
        .cloned()
        .collect();
    if let Some(Value::Object(m)) = created(&unmatched) {
        expected_new = m;
    }
    let actual_new: Map<String, Value> = output
        .iter()
        .filter(|(k, _)| !input.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    prop_assert_eq!(actual_new, expected_new);
    Ok(())
}

fn verify(input: &Value, edits: &[Edit]) -> Result<(), TestCaseError> {
    let obj = input.as_object().expect("object");
    let result = merge(input, edits);
    if must_fail(obj, edits) {
        prop_assert!(result.is_err(), "merge went through a non-object");
        return Ok(());
    }
    let output = result.map_err(|e| TestCaseError::fail(format!("merge failed: {e}")))?;
    let flat: Vec<(Vec<String>, Value)> = edits
        .iter()
        .map(|e| (e.path.clone(), e.value.clone()))
        .collect();
    check(obj, output.as_object().expect("object"), &flat)?;
    // Merging again changes nothing: an update re-run is a no-op.
    prop_assert_eq!(merge(&output, edits).ok(), Some(output.clone()));
    // No edits: the body is the input, so no PUT would be sent.
    prop_assert_eq!(merge(input, &[]).ok(), Some(input.clone()));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(4000) })]

    #[test]
    fn merged_body_equals_input_except_the_patched_paths(input in customer(), edits in edits()) {
        verify(&input, &edits)?;
    }
}

fn neutral_text() -> impl Strategy<Value = Option<Option<String>>> {
    prop::option::of(prop::option::of("[A-Za-z][A-Za-z0-9 .'-]{0,20}"))
}

fn set_or_clear(
    patch: CustomerPatch,
    c: Option<Option<String>>,
    set: fn(CustomerPatch, String) -> CustomerPatch,
    clear: fn(CustomerPatch) -> CustomerPatch,
) -> CustomerPatch {
    match c {
        None => patch,
        Some(Some(v)) => set(patch, v),
        Some(None) => clear(patch),
    }
}

fn neutral_patch() -> impl Strategy<Value = CustomerPatch> {
    (
        neutral_text(),
        neutral_text(),
        neutral_text(),
        neutral_text(),
        neutral_text(),
        prop::option::of(prop::sample::select(vec![
            CustomerStatus::Draft,
            CustomerStatus::Active,
            CustomerStatus::Hold,
            CustomerStatus::Cancelled,
        ])),
    )
        .prop_map(|(first, last, company, campaign, phone, status)| {
            let mut p = CustomerPatch::new();
            p = set_or_clear(
                p,
                first,
                |p, v| p.first_name(v),
                CustomerPatch::clear_first_name,
            );
            p = set_or_clear(
                p,
                last,
                |p, v| p.last_name(v),
                CustomerPatch::clear_last_name,
            );
            p = set_or_clear(
                p,
                company,
                |p, v| p.company(v),
                CustomerPatch::clear_company,
            );
            p = set_or_clear(
                p,
                campaign,
                |p, v| p.campaign(v),
                CustomerPatch::clear_campaign,
            );
            p = set_or_clear(p, phone, |p, v| p.phone(v), CustomerPatch::clear_phone);
            if let Some(s) = status {
                p = p.status(s);
            }
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(2000) })]

    /// The same property through the neutral mapping: a neutral patch
    /// changes exactly the Fusebill paths it maps to.
    #[test]
    fn neutral_patches_change_only_their_fusebill_paths(input in customer(), patch in neutral_patch()) {
        let edits = mapping::edits(12000750, &patch)
            .map_err(|e| TestCaseError::fail(format!("valid patch refused: {e}")))?;
        verify(&input, &edits)?;
    }
}
