//! The lossless merge at the heart of a Fusebill update.
//!
//! Fusebill's `PUT /v1/customers` replaces the whole customer: every
//! property the body leaves out is nulled. An update therefore reads the
//! customer, applies the patch to the JSON *as read*, and sends the result
//! back. [`merge`] is that middle step, a pure function:
//!
//! * every property of the record is kept, known to unibill or not, nested
//!   objects included, with the JSON value and type it came with (a phone
//!   number Fusebill sent as a JSON number stays a number);
//! * only the paths named by the [`Edit`]s change;
//! * property names are matched ignoring ASCII case, as Fusebill matches
//!   them: when the record says `"Status"`, that key is updated rather than
//!   a second `"status"` being added (every case variant present is
//!   updated, so no stale duplicate survives);
//! * clearing a property that is absent, or whose parent object is absent
//!   or `null`, changes nothing: on a `PUT` an absent property already
//!   means `null`, so the merged body stays equal to the record and no
//!   write is needed; nor does clearing one that holds `""`, which reads
//!   as no value (a neutral customer sees `None` there);
//! * setting an empty list (`[]`) where the record holds nothing (the
//!   property, or its parent, absent or `null`) changes nothing either:
//!   there was no list entry to remove (clearing Fusebill's sales
//!   tracking codes sends `[]`);
//! * setting a property under an absent or `null` parent creates the
//!   parent object with just that property (Fusebill nulls its other
//!   members, which were `null` already);
//! * setting a string where the record holds a number or boolean of the
//!   same text (`"9964413586"` over `9964413586`) keeps the value as read:
//!   Fusebill documents these properties as strings and reads both alike,
//!   so the value does not change and neither does its JSON type (nor is a
//!   write needed).
//!
//! ```
//! use serde_json::json;
//! use unibill_fusebill::merge::{merge, Edit};
//! let read = json!({"id": 7, "Status": "Active", "primaryPhone": 5551234,
//!                   "customerAcquisition": {"campaign": null, "id": 7}});
//! let merged = merge(&read, &[
//!     Edit::set(&["status"], json!("Hold")),
//!     Edit::set(&["customerAcquisition", "campaign"], json!("spring")),
//! ]).unwrap();
//! assert_eq!(merged, json!({"id": 7, "Status": "Hold", "primaryPhone": 5551234,
//!                           "customerAcquisition": {"campaign": "spring", "id": 7}}));
//! ```

use std::fmt;

use serde_json::{Map, Value};
use unibill_core::customer::json_text;

/// One change to the customer JSON: set the property at `path` to `value`,
/// or clear it when `value` is `null`.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    /// Property names from the top of the customer object, e.g.
    /// `["customerAcquisition", "campaign"]`. Never empty.
    pub path: Vec<String>,
    /// The new value; `null` clears.
    pub value: Value,
}

impl Edit {
    /// Sets `path` to `value` (a `null` value clears).
    pub fn set(path: &[&str], value: Value) -> Self {
        Self {
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            value,
        }
    }

    /// Clears `path` (sends `null`).
    pub fn clear(path: &[&str]) -> Self {
        Self::set(path, Value::Null)
    }

    /// The path as `a.b`, for messages.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// Why a record could not be merged: the customer JSON is not shaped as
/// Fusebill documents it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeError {
    /// The customer is not a JSON object.
    NotAnObject,
    /// An edit goes through a property that holds neither an object nor
    /// `null` (e.g. `customerAcquisition` holding a string).
    NotAnObjectAt(String),
    /// An edit with an empty path.
    EmptyPath,
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeError::NotAnObject => f.write_str("the customer is not a JSON object"),
            MergeError::NotAnObjectAt(p) => {
                write!(f, "`{p}` holds neither an object nor null")
            }
            MergeError::EmptyPath => f.write_str("an edit has an empty path"),
        }
    }
}

impl std::error::Error for MergeError {}

/// Applies `edits`, in order, to a copy of `record` (see the module docs
/// for the rules). Returns the body to `PUT`; when it equals `record` the
/// patch changes nothing and no write is needed.
pub fn merge(record: &Value, edits: &[Edit]) -> Result<Value, MergeError> {
    let mut out = record.clone();
    let obj = out.as_object_mut().ok_or(MergeError::NotAnObject)?;
    for edit in edits {
        apply(obj, &edit.path, &edit.value, &edit.path)?;
    }
    Ok(out)
}

fn apply(
    obj: &mut Map<String, Value>,
    path: &[String],
    value: &Value,
    full: &[String],
) -> Result<(), MergeError> {
    let Some((name, rest)) = path.split_first() else {
        return Err(MergeError::EmptyPath);
    };
    let mut found = false;
    for (_, slot) in obj.iter_mut().filter(|(k, _)| k.eq_ignore_ascii_case(name)) {
        found = true;
        if rest.is_empty() {
            if !holds_already(slot, value) {
                *slot = value.clone();
            }
            continue;
        }
        match slot {
            Value::Object(child) => apply(child, rest, value, full)?,
            Value::Null => {
                if !empty(value) {
                    *slot = build(rest, value);
                }
            }
            _ => {
                let depth = full.len() - rest.len();
                return Err(MergeError::NotAnObjectAt(full[..depth].join(".")));
            }
        }
    }
    // Absent: a PUT would send null anyway, so clearing is a no-op.
    if !found && !empty(value) {
        obj.insert(name.clone(), build(rest, value));
    }
    Ok(())
}

/// Whether `value` puts nothing where nothing is: `null` or `[]` (see the
/// module docs).
fn empty(value: &Value) -> bool {
    value.is_null() || value.as_array().is_some_and(Vec::is_empty)
}

/// Whether a property holding `slot` (as read) already holds what setting
/// `value` would put there, so it is kept as read (see the module docs):
/// a string whose text is the number or boolean there; nothing (`null`
/// or `[]`) over `null`; a clear over `""`.
fn holds_already(slot: &Value, value: &Value) -> bool {
    match (slot, value) {
        (Value::Number(_) | Value::Bool(_), Value::String(s)) => {
            json_text(Some(slot)).as_deref() == Some(s.as_str())
        }
        (Value::Null, _) => empty(value),
        (Value::String(s), Value::Null) => s.is_empty(),
        _ => false,
    }
}

/// `{rest[0]: {rest[1]: ... value}}`, or `value` itself for an empty path.
fn build(rest: &[String], value: &Value) -> Value {
    rest.iter().rev().fold(value.clone(), |acc, name| {
        let mut m = Map::new();
        m.insert(name.clone(), acc);
        Value::Object(m)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed() -> Value {
        json!({
            "firstName": "Katelyn", "primaryPhone": 9964413586u64, "reference": 100986,
            "status": "Active", "monthlyRecurringRevenue": 250,
            "customerReference": {"reference1": null, "salesTrackingCodes": [], "id": 1, "uri": "u"},
            "customerAcquisition": null,
            "unknownVendorField": {"deep": [1, "two", {"three": 3.5}]},
            "id": 1
        })
    }

    #[test]
    fn only_the_edited_paths_change() {
        let read = seed();
        let merged = merge(&read, &[Edit::set(&["firstName"], json!("Kate"))]).unwrap();
        let mut expected = read.clone();
        expected["firstName"] = json!("Kate");
        assert_eq!(merged, expected);
        assert_eq!(merged["primaryPhone"], json!(9964413586u64));
        assert!(merged["reference"].is_number());
    }

    #[test]
    fn nested_set_keeps_siblings_and_creates_null_parent() {
        let read = seed();
        let merged = merge(
            &read,
            &[
                Edit::set(&["customerReference", "reference1"], json!("r1")),
                Edit::set(&["customerAcquisition", "campaign"], json!("spring")),
            ],
        )
        .unwrap();
        assert_eq!(
            merged["customerReference"],
            json!({"reference1": "r1", "salesTrackingCodes": [], "id": 1, "uri": "u"})
        );
        assert_eq!(merged["customerAcquisition"], json!({"campaign": "spring"}));
    }

    #[test]
    fn clearing_absent_or_under_null_is_a_no_op() {
        let read = seed();
        let merged = merge(
            &read,
            &[
                Edit::clear(&["middleName"]),
                Edit::clear(&["customerAcquisition", "campaign"]),
                Edit::clear(&["customerReference", "reference1"]),
                Edit::clear(&["nowhere", "deeper"]),
            ],
        )
        .unwrap();
        assert_eq!(merged, read);
    }

    #[test]
    fn case_variants_are_updated_not_duplicated() {
        let read = json!({"Status": "Active", "CustomerAcquisition": {"Campaign": "a"}, "id": 1});
        let merged = merge(
            &read,
            &[
                Edit::set(&["status"], json!("Hold")),
                Edit::set(&["customerAcquisition", "campaign"], json!("b")),
            ],
        )
        .unwrap();
        assert_eq!(
            merged,
            json!({"Status": "Hold", "CustomerAcquisition": {"Campaign": "b"}, "id": 1})
        );
        let dup = json!({"status": "Active", "STATUS": "Active"});
        let merged = merge(&dup, &[Edit::set(&["Status"], json!("Hold"))]).unwrap();
        assert_eq!(merged, json!({"status": "Hold", "STATUS": "Hold"}));
    }

    #[test]
    fn a_string_equal_to_the_number_read_keeps_the_number() {
        let read = seed();
        let edits = [
            Edit::set(&["primaryPhone"], json!("9964413586")),
            Edit::set(&["REFERENCE"], json!("100986")),
        ];
        assert_eq!(merge(&read, &edits).unwrap(), read);
        let flag = json!({"active": true, "n": 1.5});
        assert_eq!(
            merge(&flag, &[Edit::set(&["active"], json!("true"))]).unwrap(),
            flag
        );
        // A different text, or a number over a string, is a change.
        let merged = merge(&read, &[Edit::set(&["primaryPhone"], json!("+1 555"))]).unwrap();
        assert_eq!(merged["primaryPhone"], json!("+1 555"));
        let merged = merge(&flag, &[Edit::set(&["n"], json!("1.50"))]).unwrap();
        assert_eq!(merged["n"], json!("1.50"));
        let text = json!({"geotabId": "7813"});
        let merged = merge(&text, &[Edit::set(&["geotabId"], json!(7813))]).unwrap();
        assert_eq!(merged["geotabId"], json!(7813));
    }

    #[test]
    fn clearing_an_empty_string_changes_nothing() {
        // `""` reads as no value, like `null`: clearing it is a no-op, so
        // no write is sent for it.
        let read = json!({"middleName": "", "customerAcquisition": {"campaign": ""}, "id": 1});
        let edits = [
            Edit::clear(&["middleName"]),
            Edit::clear(&["customerAcquisition", "campaign"]),
        ];
        assert_eq!(merge(&read, &edits).unwrap(), read);
        // A blank that is not empty is a value: clearing it sends null.
        let blank = json!({"middleName": " "});
        assert_eq!(
            merge(&blank, &[Edit::clear(&["middleName"])]).unwrap(),
            json!({"middleName": null})
        );
    }

    #[test]
    fn an_empty_list_where_there_is_none_changes_nothing() {
        let read = json!({"customerReference": {"salesTrackingCodes": null, "reference1": "a"},
                          "parent": null});
        let codes = ["customerReference", "salesTrackingCodes"];
        for edits in [
            vec![Edit::set(&codes, json!([]))],
            vec![Edit::set(&["parent", "codes"], json!([]))],
            vec![Edit::set(&["absent"], json!([]))],
            vec![Edit::set(&["absent", "codes"], json!([]))],
        ] {
            assert_eq!(merge(&read, &edits).unwrap(), read, "{edits:?}");
        }
        // A list that is there is emptied.
        let held =
            json!({"customerReference": {"salesTrackingCodes": [{"type": "t", "code": "c"}]}});
        let merged = merge(&held, &[Edit::set(&codes, json!([]))]).unwrap();
        assert_eq!(
            merged,
            json!({"customerReference": {"salesTrackingCodes": []}})
        );
    }

    #[test]
    fn shape_errors() {
        assert_eq!(merge(&json!([1]), &[]), Err(MergeError::NotAnObject));
        let read = json!({"customerAcquisition": "oops"});
        let e = merge(
            &read,
            &[Edit::set(&["customerAcquisition", "campaign"], json!("x"))],
        )
        .unwrap_err();
        assert_eq!(e, MergeError::NotAnObjectAt("customerAcquisition".into()));
        assert!(e.to_string().contains("customerAcquisition"));
        assert_eq!(
            merge(
                &read,
                &[Edit {
                    path: vec![],
                    value: json!(1)
                }]
            ),
            Err(MergeError::EmptyPath)
        );
    }

    #[test]
    fn merge_is_idempotent() {
        let edits = [
            Edit::set(&["firstName"], json!("Kate")),
            Edit::clear(&["reference"]),
            Edit::set(&["customerAcquisition", "campaign"], json!("x")),
        ];
        let once = merge(&seed(), &edits).unwrap();
        assert_eq!(merge(&once, &edits).unwrap(), once);
    }
}
