//! Fusebill's JSON: wire types next to the readers and writers that
//! [`crate::mapping`] maps to and from the neutral model.
//!
//! * Write: [`CustomerEdits`] (with [`AcquisitionEdits`],
//!   [`ReferenceEdits`], [`Status`], [`Title`]) is what a patch changes,
//!   typed, Fusebill's property names given as serde renames. It becomes
//!   the [`Edit`]s that [`crate::merge`] applies to the record as read.
//! * Read: [`CustomerView`] borrows the properties unibill understands
//!   from the record, found ignoring ASCII case as Fusebill matches names
//!   (which serde renames cannot express).
//! * Errors: [`ErrorBody`], read with the same case-insensitive names.
//!
//! The customer record itself stays a [`serde_json::Value`], by design:
//! Fusebill's `PUT` replaces the whole customer, so an update must send
//! back every property Fusebill sent, known to unibill or not, with the
//! JSON type it came with (Fusebill's real answers put numbers where its
//! documentation says String) and under the letter case it was read with.
//! A deserialized struct, even with a `#[serde(flatten)]` catch-all,
//! would lose the case of known names and could not keep a known
//! property's unexpected JSON type; only the typed edits are merged onto
//! the record.

use std::borrow::Cow;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::merge::Edit;

/// `id` (integer, required on `PUT`).
pub const ID: &str = "id";
/// `reference`: the caller's own id for the customer.
pub const REFERENCE: &str = "reference";
/// `primaryEmail`: one address, or several separated by `;`.
pub const PRIMARY_EMAIL: &str = "primaryEmail";

/// A customer status, as Fusebill spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Status {
    /// `Draft`.
    Draft,
    /// `Active`.
    Active,
    /// `Hold`.
    Hold,
    /// `Suspended` (set by Fusebill only).
    Suspended,
    /// `Cancelled`.
    Cancelled,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::Active,
        Status::Hold,
        Status::Suspended,
        Status::Cancelled,
    ];

    /// Fusebill's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::Active => "Active",
            Status::Hold => "Hold",
            Status::Suspended => "Suspended",
            Status::Cancelled => "Cancelled",
        }
    }

    /// The status spelled `text`, ignoring ASCII case and surrounding
    /// spaces.
    pub fn from_text(text: &str) -> Option<Status> {
        let t = text.trim();
        Status::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(t))
    }
}

/// A name title, as Fusebill spells it (the only five it accepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Title {
    /// `Mr`.
    Mr,
    /// `Mrs`.
    Mrs,
    /// `Ms`.
    Ms,
    /// `Miss`.
    Miss,
    /// `Dr`.
    Dr,
}

impl Title {
    /// Every title.
    pub const ALL: [Title; 5] = [Title::Mr, Title::Mrs, Title::Ms, Title::Miss, Title::Dr];

    /// Fusebill's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Title::Mr => "Mr",
            Title::Mrs => "Mrs",
            Title::Ms => "Ms",
            Title::Miss => "Miss",
            Title::Dr => "Dr",
        }
    }

    /// The title spelled `text`, ignoring ASCII case (no spaces or final
    /// dot allowed here).
    pub fn from_text(text: &str) -> Option<Title> {
        Title::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(text))
    }
}

/// What a write changes, typed, with Fusebill's property names as serde
/// renames: each property `None` when untouched, `Some(None)` (sent as
/// `null`) when cleared. [`CustomerEdits::into_edits`] turns it into the
/// [`Edit`]s that [`crate::merge::merge`] applies to the record as read.
///
/// Only the edits are typed: the record itself stays a
/// [`serde_json::Value`], because Fusebill's `PUT` replaces the whole
/// customer and must get back every property as read, unknown ones and
/// their JSON types included (a phone sent as a number stays a number),
/// under the letter case it was read with; a deserialized struct could
/// promise none of that.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerEdits {
    /// `title`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Option<Title>>,
    /// `firstName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Option<String>>,
    /// `middleName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<Option<String>>,
    /// `lastName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<Option<String>>,
    /// `suffix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<Option<String>>,
    /// `companyName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<Option<String>>,
    /// `primaryEmail` (`;`-separated list allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_email: Option<Option<String>>,
    /// `secondaryEmail` (`;`-separated list allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_email: Option<Option<String>>,
    /// `primaryPhone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_phone: Option<Option<String>>,
    /// `secondaryPhone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_phone: Option<Option<String>>,
    /// `reference`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<Option<String>>,
    /// `status` (required: never cleared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// `currency` (ISO 4217; never cleared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// `customerAcquisition`.
    #[serde(skip_serializing_if = "AcquisitionEdits::is_empty")]
    pub customer_acquisition: AcquisitionEdits,
    /// `customerReference`.
    #[serde(skip_serializing_if = "ReferenceEdits::is_empty")]
    pub customer_reference: ReferenceEdits,
    /// `parentId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Option<u64>>,
    /// `quickBooksLatchType` (CreateNew, LatchExisting, DoNothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quick_books_latch_type: Option<Option<&'static str>>,
    /// `quickBooksId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quick_books_id: Option<Option<u64>>,
}

/// `customerAcquisition` edits (see [`CustomerEdits`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcquisitionEdits {
    /// `campaign`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<Option<String>>,
    /// `source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Option<String>>,
    /// `medium`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medium: Option<Option<String>>,
    /// `keyword`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<Option<String>>,
    /// `adContent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_content: Option<Option<String>>,
    /// `landingPage`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landing_page: Option<Option<String>>,
}

impl AcquisitionEdits {
    /// True when nothing here changes.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `customerReference` edits (see [`CustomerEdits`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceEdits {
    /// `reference1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference1: Option<Option<String>>,
    /// `reference2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference2: Option<Option<String>>,
    /// `reference3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference3: Option<Option<String>>,
    /// `salesTrackingCodes`: the whole list; clearing sends `[]` (the
    /// customer keeps a list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_tracking_codes: Option<Vec<TrackingCode>>,
}

impl ReferenceEdits {
    /// True when nothing here changes.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One entry of `salesTrackingCodes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrackingCode {
    /// `type` (e.g. `Sales Tracking Code 1`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `code`.
    pub code: String,
}

impl CustomerEdits {
    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The [`Edit`]s, one per property set or cleared, in the order of
    /// the fields (nested groups give paths such as
    /// `customerAcquisition.campaign`).
    pub fn into_edits(self) -> Result<Vec<Edit>, serde_json::Error> {
        // Through JSON text, whose properties stay in field order
        // (`serde_json::Map` would sort them); only the few edits are
        // written, never the record.
        let text = serde_json::to_string(&self)?;
        let tree: Tree = serde_json::from_str(&text)?;
        let mut out = Vec::new();
        tree.flatten(&mut Vec::new(), &mut out);
        Ok(out)
    }
}

/// A JSON object with its properties in the order read.
struct Tree(Vec<(String, Node)>);

/// A property of a [`Tree`]: an object, or any other value.
enum Node {
    Tree(Tree),
    Leaf(Value),
}

impl Tree {
    fn flatten(self, path: &mut Vec<String>, out: &mut Vec<Edit>) {
        for (name, node) in self.0 {
            path.push(name);
            match node {
                Node::Tree(t) => t.flatten(path, out),
                Node::Leaf(value) => out.push(Edit {
                    path: path.clone(),
                    value,
                }),
            }
            path.pop();
        }
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Node::deserialize(d)? {
            Node::Tree(t) => Ok(t),
            Node::Leaf(_) => Err(serde::de::Error::custom("expected an object")),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut props = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Node>()? {
                    props.push((k, v));
                }
                Ok(Node::Tree(Tree(props)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element::<Value>()? {
                    items.push(v);
                }
                Ok(Node::Leaf(Value::Array(items)))
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Leaf(Value::Null))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
                Ok(Node::Leaf(Value::Bool(b)))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
                Ok(Node::Leaf(Value::from(n)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
                Ok(Node::Leaf(Value::from(n)))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Node, E> {
                Ok(Node::Leaf(Value::from(n)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Node, E> {
                Ok(Node::Leaf(Value::from(s)))
            }
            fn visit_string<E>(self, s: String) -> Result<Node, E> {
                Ok(Node::Leaf(Value::String(s)))
            }
        }
        d.deserialize_any(V)
    }
}

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
            title: get("title"),
            first_name: get("firstName"),
            middle_name: get("middleName"),
            last_name: get("lastName"),
            suffix: get("suffix"),
            company_name: get("companyName"),
            primary_email: get("primaryEmail"),
            secondary_email: get("secondaryEmail"),
            primary_phone: get("primaryPhone"),
            secondary_phone: get("secondaryPhone"),
            reference: get(REFERENCE),
            status: get("status"),
            currency: get("currency"),
            monthly_recurring_revenue: get("monthlyRecurringRevenue"),
            customer_acquisition: match get("customerAcquisition") {
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
            campaign: get("campaign"),
            source: get("source"),
            medium: get("medium"),
            keyword: get("keyword"),
            ad_content: get("adContent"),
            landing_page: get("landingPage"),
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
    fn typed_edits_flatten_in_field_order() {
        assert!(CustomerEdits::default().into_edits().unwrap().is_empty());
        let w = CustomerEdits {
            title: Some(Some(Title::Miss)),
            middle_name: Some(None),
            status: Some(Status::Hold),
            customer_acquisition: AcquisitionEdits {
                landing_page: Some(None),
                ad_content: Some(Some("ad".into())),
                ..AcquisitionEdits::default()
            },
            customer_reference: ReferenceEdits {
                sales_tracking_codes: Some(Vec::new()),
                reference3: Some(Some("r3".into())),
                ..ReferenceEdits::default()
            },
            quick_books_latch_type: Some(Some("DoNothing")),
            quick_books_id: Some(Some(9)),
            ..CustomerEdits::default()
        };
        assert!(!w.is_empty());
        let got: Vec<(String, Value)> = w
            .into_edits()
            .unwrap()
            .into_iter()
            .map(|e| (e.dotted(), e.value))
            .collect();
        let want = [
            ("title", json!("Miss")),
            ("middleName", Value::Null),
            ("status", json!("Hold")),
            ("customerAcquisition.adContent", json!("ad")),
            ("customerAcquisition.landingPage", Value::Null),
            ("customerReference.reference3", json!("r3")),
            ("customerReference.salesTrackingCodes", json!([])),
            ("quickBooksLatchType", json!("DoNothing")),
            ("quickBooksId", json!(9)),
        ];
        let want: Vec<(String, Value)> = want.into_iter().map(|(p, v)| (p.to_owned(), v)).collect();
        assert_eq!(got, want);
        let codes = CustomerEdits {
            customer_reference: ReferenceEdits {
                sales_tracking_codes: Some(vec![TrackingCode {
                    kind: "Sales Tracking Code 1".into(),
                    code: "X".into(),
                }]),
                ..ReferenceEdits::default()
            },
            ..CustomerEdits::default()
        };
        let e = codes.into_edits().unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].path, ["customerReference", "salesTrackingCodes"]);
        assert_eq!(
            e[0].value,
            json!([{"type": "Sales Tracking Code 1", "code": "X"}])
        );
    }

    #[test]
    fn statuses_and_titles_spelled_as_fusebill_does() {
        for s in Status::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
            assert_eq!(
                Status::from_text(&format!(" {} ", s.as_str().to_lowercase())),
                Some(s)
            );
        }
        for t in Title::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
            assert_eq!(Title::from_text(&t.as_str().to_uppercase()), Some(t));
        }
        assert_eq!(Status::from_text("Frozen"), None);
        assert_eq!(Title::from_text("Sir"), None);
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
