//! Fusebill's JSON vocabulary: property names, enums and the error body.
//!
//! Customers are handled as [`serde_json::Value`] rather than as a struct
//! so that a read-modify-write carries back every property Fusebill sent,
//! known to unibill or not, with the JSON type it came with (Fusebill's
//! real answers put numbers where its documentation says String). This
//! module names the properties unibill understands, reads them
//! case-insensitively, as Fusebill does, into the typed
//! [`CustomerView`] that [`crate::mapping`] maps, and the edits of a write
//! address them by the same names.

use std::borrow::Cow;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// `id` (integer, required on `PUT`).
pub const ID: &str = "id";
/// `firstName`.
pub const FIRST_NAME: &str = "firstName";
/// `middleName`.
pub const MIDDLE_NAME: &str = "middleName";
/// `lastName`.
pub const LAST_NAME: &str = "lastName";
/// `companyName`.
pub const COMPANY_NAME: &str = "companyName";
/// `suffix`.
pub const SUFFIX: &str = "suffix";
/// `title` (Mr, Mrs, Ms, Miss, Dr).
pub const TITLE: &str = "title";
/// `primaryEmail` (`;`-separated list allowed).
pub const PRIMARY_EMAIL: &str = "primaryEmail";
/// `secondaryEmail` (`;`-separated list allowed).
pub const SECONDARY_EMAIL: &str = "secondaryEmail";
/// `primaryPhone`.
pub const PRIMARY_PHONE: &str = "primaryPhone";
/// `secondaryPhone`.
pub const SECONDARY_PHONE: &str = "secondaryPhone";
/// `reference`: the caller's own id for the customer.
pub const REFERENCE: &str = "reference";
/// `status` (required on `PUT`).
pub const STATUS: &str = "status";
/// `currency` (ISO 4217).
pub const CURRENCY: &str = "currency";
/// `customerReference` (nested object).
pub const CUSTOMER_REFERENCE: &str = "customerReference";
/// `customerReference.reference1`..`reference3`.
pub const REFERENCE_N: [&str; 3] = ["reference1", "reference2", "reference3"];
/// `customerReference.salesTrackingCodes` (array of `{type, code}`).
pub const SALES_TRACKING_CODES: &str = "salesTrackingCodes";
/// `customerAcquisition` (nested object).
pub const CUSTOMER_ACQUISITION: &str = "customerAcquisition";
/// `customerAcquisition.campaign`.
pub const CAMPAIGN: &str = "campaign";
/// `customerAcquisition.source`.
pub const SOURCE: &str = "source";
/// `customerAcquisition.medium`.
pub const MEDIUM: &str = "medium";
/// `customerAcquisition.keyword`.
pub const KEYWORD: &str = "keyword";
/// `customerAcquisition.adContent`.
pub const AD_CONTENT: &str = "adContent";
/// `customerAcquisition.landingPage`.
pub const LANDING_PAGE: &str = "landingPage";
/// `parentId` (integer or null).
pub const PARENT_ID: &str = "parentId";
/// `quickBooksLatchType` (CreateNew, LatchExisting, DoNothing).
pub const QUICKBOOKS_LATCH_TYPE: &str = "quickBooksLatchType";
/// `quickBooksId` (integer or null).
pub const QUICKBOOKS_ID: &str = "quickBooksId";
/// `monthlyRecurringRevenue`, in decimal currency units (read only).
pub const MONTHLY_RECURRING_REVENUE: &str = "monthlyRecurringRevenue";
/// `modifiedTimestamp` (read only; not checked by Fusebill on `PUT`).
pub const MODIFIED_TIMESTAMP: &str = "modifiedTimestamp";

/// Customer statuses, as Fusebill spells them.
pub const STATUSES: [&str; 5] = ["Draft", "Active", "Hold", "Suspended", "Cancelled"];
/// Name titles, as Fusebill spells them.
pub const TITLES: [&str; 5] = ["Mr", "Mrs", "Ms", "Miss", "Dr"];

/// A Fusebill customer as read, with the properties unibill understands
/// as typed fields: each borrowed from the JSON object as Fusebill sent it
/// (found ignoring ASCII case, as Fusebill matches names), `None` when
/// absent. The object itself stays whole: the write back sends every
/// property, known or not, with its JSON type ([`crate::merge`]), which a
/// deserialized struct could not promise.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CustomerView<'a> {
    /// `id`.
    pub id: Option<&'a Value>,
    /// `title`.
    pub title: Option<&'a Value>,
    /// `firstName`.
    pub first_name: Option<&'a Value>,
    /// `middleName`.
    pub middle_name: Option<&'a Value>,
    /// `lastName`.
    pub last_name: Option<&'a Value>,
    /// `suffix`.
    pub suffix: Option<&'a Value>,
    /// `companyName`.
    pub company_name: Option<&'a Value>,
    /// `primaryEmail`.
    pub primary_email: Option<&'a Value>,
    /// `secondaryEmail`.
    pub secondary_email: Option<&'a Value>,
    /// `primaryPhone`.
    pub primary_phone: Option<&'a Value>,
    /// `secondaryPhone`.
    pub secondary_phone: Option<&'a Value>,
    /// `reference`.
    pub reference: Option<&'a Value>,
    /// `status`.
    pub status: Option<&'a Value>,
    /// `currency`.
    pub currency: Option<&'a Value>,
    /// `monthlyRecurringRevenue`.
    pub monthly_recurring_revenue: Option<&'a Value>,
    /// `customerAcquisition`, when it is an object.
    pub customer_acquisition: Option<AcquisitionView<'a>>,
}

impl<'a> CustomerView<'a> {
    /// The typed view of a customer object.
    pub fn of(obj: &'a Map<String, Value>) -> Self {
        let get = |name| get_ci(obj, name);
        CustomerView {
            id: get(ID),
            title: get(TITLE),
            first_name: get(FIRST_NAME),
            middle_name: get(MIDDLE_NAME),
            last_name: get(LAST_NAME),
            suffix: get(SUFFIX),
            company_name: get(COMPANY_NAME),
            primary_email: get(PRIMARY_EMAIL),
            secondary_email: get(SECONDARY_EMAIL),
            primary_phone: get(PRIMARY_PHONE),
            secondary_phone: get(SECONDARY_PHONE),
            reference: get(REFERENCE),
            status: get(STATUS),
            currency: get(CURRENCY),
            monthly_recurring_revenue: get(MONTHLY_RECURRING_REVENUE),
            customer_acquisition: match get(CUSTOMER_ACQUISITION) {
                Some(Value::Object(a)) => Some(AcquisitionView::of(a)),
                _ => None,
            },
        }
    }
}

/// `customerAcquisition` as read (see [`CustomerView`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AcquisitionView<'a> {
    /// `campaign`.
    pub campaign: Option<&'a Value>,
    /// `source`.
    pub source: Option<&'a Value>,
    /// `medium`.
    pub medium: Option<&'a Value>,
    /// `keyword`.
    pub keyword: Option<&'a Value>,
    /// `adContent`.
    pub ad_content: Option<&'a Value>,
    /// `landingPage`.
    pub landing_page: Option<&'a Value>,
}

impl<'a> AcquisitionView<'a> {
    /// The typed view of a `customerAcquisition` object.
    pub fn of(obj: &'a Map<String, Value>) -> Self {
        let get = |name| get_ci(obj, name);
        AcquisitionView {
            campaign: get(CAMPAIGN),
            source: get(SOURCE),
            medium: get(MEDIUM),
            keyword: get(KEYWORD),
            ad_content: get(AD_CONTENT),
            landing_page: get(LANDING_PAGE),
        }
    }
}

/// Looks a property up ignoring ASCII case (Fusebill's names are
/// case-insensitive: `"Status"` and `"status"` are the same property).
/// An exact match wins over a case variant.
pub fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Follows a path of property names, case-insensitively.
pub fn get_path<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = value;
    for name in path {
        cur = get_ci(cur.as_object()?, name)?;
    }
    Some(cur)
}

/// Which of `names` a property name `key` is, ignoring ASCII case, and
/// whether it matches exactly.
fn field_ci(key: &str, names: &[&str]) -> Option<(usize, bool)> {
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(key))
        .map(|i| (i, names[i] == key))
}

/// One property of a struct read ignoring the case of its name: the first
/// case variant found, unless the exact name comes later (as [`get_ci`]).
struct CiSlot<T> {
    value: Option<T>,
    exact: bool,
}

impl<T> CiSlot<T> {
    const EMPTY: Self = CiSlot {
        value: None,
        exact: false,
    };

    fn offer(&mut self, value: T, exact: bool) {
        if self.value.is_none() || (exact && !self.exact) {
            self.value = Some(value);
            self.exact = exact;
        }
    }
}

/// Any JSON read as message text: a string trimmed (`None` when blank),
/// `null` as `None`, anything else as its JSON text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LooseText(pub Option<String>);

impl<'de> Deserialize<'de> for LooseText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(LooseText(text(Some(&Value::deserialize(d)?))))
    }
}

/// Fusebill's error body,
/// `{"ErrorId":0,"HttpStatusCode":400,"Errors":[{"Key":..,"Value":..}]}`,
/// and the `{"Message":".."}` (or `error`, `ExceptionMessage`) of its
/// generic errors. Property names are matched ignoring ASCII case, as
/// Fusebill writes them either way, so this type reads them itself rather
/// than through serde renames; every property takes any JSON.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorBody {
    /// `Errors`, when present (whatever it holds, even `null`).
    pub errors: Option<ErrorList>,
    /// `Message`.
    pub message: LooseText,
    /// `error`.
    pub error: LooseText,
    /// `ExceptionMessage`.
    pub exception_message: LooseText,
}

/// The `Errors` property of an [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ErrorList {
    /// The documented list.
    List(Vec<ErrorEntry>),
    /// Anything else (`"nope"`, `null`): no messages.
    Other(IgnoredAny),
}

/// One entry of `Errors`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ErrorEntry {
    /// A bare message.
    Text(String),
    /// `{"Key":..,"Value":..}` (names in any case).
    Pair(KeyValue),
    /// Anything else: no message.
    Other(IgnoredAny),
}

/// `{"Key":..,"Value":..}`, each any JSON read as [`LooseText`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyValue {
    /// `Key`.
    pub key: LooseText,
    /// `Value`.
    pub value: LooseText,
}

impl<'de> Deserialize<'de> for ErrorBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ErrorBody;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a Fusebill error object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorBody, A::Error> {
                const NAMES: [&str; 4] = ["Errors", "Message", "error", "ExceptionMessage"];
                let mut errors = CiSlot::EMPTY;
                let mut texts = [CiSlot::EMPTY, CiSlot::EMPTY, CiSlot::EMPTY];
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match field_ci(&key, &NAMES) {
                        Some((0, exact)) => errors.offer(map.next_value::<ErrorList>()?, exact),
                        Some((i, exact)) => {
                            texts[i - 1].offer(map.next_value::<LooseText>()?, exact)
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let [message, error, exception_message] =
                    texts.map(|t| t.value.unwrap_or_default());
                Ok(ErrorBody {
                    errors: errors.value,
                    message,
                    error,
                    exception_message,
                })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for KeyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object with Key and Value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyValue, A::Error> {
                let mut slots = [CiSlot::EMPTY, CiSlot::EMPTY];
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match field_ci(&key, &["Key", "Value"]) {
                        Some((i, exact)) => slots[i].offer(map.next_value::<LooseText>()?, exact),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let [key, value] = slots.map(|s| s.value.unwrap_or_default());
                Ok(KeyValue { key, value })
            }
        }
        d.deserialize_map(V)
    }
}

impl ErrorBody {
    /// The messages: each `Errors` entry as `"Key: Value"` (or just the
    /// value when the key is empty; a bare string as it is), else
    /// `Message`, `error` and `ExceptionMessage`.
    pub fn into_messages(self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(ErrorList::List(entries)) = self.errors {
            for e in entries {
                match e {
                    ErrorEntry::Text(s) if s.trim().is_empty() => {}
                    ErrorEntry::Text(s) => out.push(s.trim().to_owned()),
                    ErrorEntry::Pair(KeyValue { key, value }) => match (key.0, value.0) {
                        (Some(k), Some(v)) => out.push(format!("{k}: {v}")),
                        (None, Some(v)) => out.push(v),
                        (Some(k), None) => out.push(k),
                        (None, None) => {}
                    },
                    ErrorEntry::Other(_) => {}
                }
            }
        }
        if out.is_empty() {
            for t in [self.message, self.error, self.exception_message] {
                out.extend(t.0);
            }
        }
        out
    }
}

/// The messages of a Fusebill error body read as JSON (see
/// [`ErrorBody`]); none when it is not an object.
pub fn error_messages(body: &Value) -> Vec<String> {
    if !body.is_object() {
        return Vec::new();
    }
    ErrorBody::deserialize(body)
        .map(ErrorBody::into_messages)
        .unwrap_or_default()
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn case_insensitive_lookup_prefers_exact() {
        let v = json!({"Status": "Hold", "x": {"Campaign": "c"}});
        let o = v.as_object().unwrap();
        assert_eq!(get_ci(o, "status"), Some(&json!("Hold")));
        assert_eq!(get_path(&v, &["X", "campaign"]), Some(&json!("c")));
        let both = json!({"status": "Active", "STATUS": "Hold"});
        assert_eq!(
            get_ci(both.as_object().unwrap(), "status"),
            Some(&json!("Active"))
        );
        assert_eq!(get_path(&v, &["x", "campaign", "deeper"]), None);
    }

    #[test]
    fn customer_view_reads_any_case_and_keeps_json_types() {
        let v = json!({"ID": 7, "firstName": "Kate", "PrimaryPhone": 5551234,
                       "customerAcquisition": {"CAMPAIGN": "c", "landingPage": null},
                       "unknownThing": true});
        let view = CustomerView::of(v.as_object().unwrap());
        assert_eq!(view.id, Some(&json!(7)));
        assert_eq!(view.first_name, Some(&json!("Kate")));
        assert_eq!(view.primary_phone, Some(&json!(5551234)));
        assert_eq!(view.last_name, None);
        let a = view.customer_acquisition.unwrap();
        assert_eq!(a.campaign, Some(&json!("c")));
        assert_eq!(a.landing_page, Some(&Value::Null));
        assert_eq!(a.medium, None);
        let odd = json!({"customerAcquisition": "not an object"});
        assert_eq!(
            CustomerView::of(odd.as_object().unwrap()).customer_acquisition,
            None
        );
    }

    #[test]
    fn typed_error_body_matches_names_like_get_ci() {
        let body = |v: Value| ErrorBody::deserialize(&v).unwrap();
        // The exact name wins over a case variant, wherever it comes.
        let b = body(json!({"errors": [{"Key": "a", "Value": "x"}], "Errors": "nope"}));
        assert!(matches!(b.errors, Some(ErrorList::Other(_))));
        assert!(b.into_messages().is_empty());
        let b = body(json!({"Errors": [" y "], "errors": "nope"}));
        assert_eq!(b.into_messages(), ["y"]);
        // Between case variants, the first one read.
        let b = body(json!({"MESSAGE": "first", "message": "second"}));
        assert_eq!(b.message, LooseText(Some("first".into())));
        let e = body(json!({"Errors": [{"KEY": "k1", "Key": "k2", "value": "v"}]}));
        assert_eq!(e.into_messages(), ["k2: v"]);
        // `Errors` present as `null` is still Fusebill's shape.
        assert!(body(json!({"Errors": null})).errors.is_some());
        assert!(body(json!({"ErrorId": 1})).errors.is_none());
        // Entries of any shape; text from any JSON.
        let b =
            body(json!({"Errors": [5, [1], {"Key": null, "Value": {"a": 1}}, " ", {"Key": true}]}));
        assert_eq!(b.into_messages(), [r#"{"a":1}"#, "true"]);
        let b = body(json!({"Message": " ", "error": 3, "exceptionmessage": "boom"}));
        assert_eq!(b.into_messages(), ["3", "boom"]);
        assert!(ErrorBody::deserialize(&json!([1, 2])).is_err());
    }

    #[test]
    fn error_body_messages() {
        let body = json!({"ErrorId": 0, "HttpStatusCode": 400, "Errors": [
            {"Key": "Api Error", "Value": "Cannot manually suspend customer"},
            {"Key": "firstName", "Value": "too long"},
            {"Key": "", "Value": "bare"},
            {"key": "lower", "value": 5}
        ]});
        assert_eq!(
            error_messages(&body),
            vec![
                "Api Error: Cannot manually suspend customer",
                "firstName: too long",
                "bare",
                "lower: 5"
            ]
        );
        assert_eq!(
            error_messages(&json!({"Message": "Authorization has been denied"})),
            vec!["Authorization has been denied"]
        );
        assert!(error_messages(&json!([1, 2])).is_empty());
        assert!(error_messages(&json!({"Errors": "nope"})).is_empty());
    }
}
