//! Everlytic's JSON, as the `/api/2.0` customer endpoints speak it.
//!
//! The platform is a PHP application: it answers numbers as JSON numbers or
//! as strings depending on the install and the field, wraps REST answers in
//! `{"links":[..],"item":{..}}`, and its XML-RPC twin answers an update with
//! a bare integer. The readers here accept all of those forms; the writers
//! send exactly the documented types (strings, integers, `yes`/`no`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The path segments of the customer collection: `/api/2.0/customers`.
pub(crate) const CUSTOMERS: [&str; 3] = ["api", "2.0", "customers"];

/// The names of the [`EverlyticExtension`](crate::EverlyticExtension)
/// properties, which are the platform's property names too (the `PUT`
/// body itself is the typed [`CustomerWrite`]).
pub(crate) mod prop {
    pub const EMAIL_PACKAGE_ID: &str = "email_package_id";
    pub const EMAIL_QUOTA: &str = "email_quota";
    pub const SMS_QUOTA: &str = "sms_quota";
    pub const TRANSACTIONS_PACKAGE_ID: &str = "transactions_package_id";
    pub const TRANSACTIONS_QUOTA: &str = "transactions_quota";
    pub const INDUSTRY: &str = "industry";
    pub const DELETED: &str = "deleted";
}

/// The platform's `status` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// `on`.
    On,
    /// `off`.
    Off,
    /// `suspended`.
    Suspended,
    /// `deleted`.
    Deleted,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [Status::On, Status::Off, Status::Suspended, Status::Deleted];

    /// The platform's text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::On => "on",
            Status::Off => "off",
            Status::Suspended => "suspended",
            Status::Deleted => "deleted",
        }
    }

    /// The status whose text is `text` ignoring case and surrounding
    /// spaces.
    pub fn from_text_loose(text: &str) -> Option<Status> {
        let t = text.trim();
        Status::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(t))
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The body of `PUT /api/2.0/customers/{id}`: the properties an update
/// sends, each `None` when not sent, in the documented types (strings,
/// integers, `yes`/`no`). A cleared text is `Some("")`: the platform
/// takes `""` as empty and refuses `null` for strings. `name` and `email`
/// are required on every update; [`crate::mapping::put_body`] fills them
/// in from the customer as read when the patch does not set them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct CustomerWrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_provinces: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_package_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_quota: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_quota: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions_package_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions_quota: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<Industry>,
    /// Sent as `yes`/`no`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_yes_no"
    )]
    pub deleted: Option<bool>,
}

impl CustomerWrite {
    /// True when nothing is sent.
    pub fn is_empty(&self) -> bool {
        *self == CustomerWrite::default()
    }

    /// The body as JSON. The JSON object keeps its keys sorted, as the
    /// body has always been sent.
    pub fn to_json(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(self)
    }
}

fn serialize_yes_no<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_str(yes_no(*b)),
        None => s.serialize_none(),
    }
}

macro_rules! industries {
    ($( $(#[$m:meta])* $v:ident => $text:literal ),* $(,)?) => {
        /// A customer industry, one of the platform's fixed list (19
        /// values). Several contain a comma (`"Hospitality, Travel &
        /// Tourism"`): each is one value, never split.
        ///
        /// Serialized as the platform's exact text. Deserializing is
        /// strict (anything else is refused), so a patch can only carry a
        /// value the platform accepts; reading a customer is tolerant, see
        /// [`IndustryValue`].
        ///
        /// ```
        /// use unibill_everlytic::Industry;
        /// let i: Industry = "Hospitality, Travel & Tourism".parse().unwrap();
        /// assert_eq!(i, Industry::HospitalityTravelTourism);
        /// assert!("Hospitality".parse::<Industry>().is_err());
        /// assert_eq!(Industry::ALL.len(), 19);
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Industry {
            $( $(#[$m])* $v, )*
        }

        impl Industry {
            /// Every industry, in the platform's order.
            pub const ALL: &'static [Industry] = &[ $( Industry::$v, )* ];

            /// The platform's text for this industry.
            pub const fn as_str(self) -> &'static str {
                match self { $( Industry::$v => $text, )* }
            }
        }
    };
}

industries! {
    /// `Personal Use`
    PersonalUse => "Personal Use",
    /// `Agriculture & Environmental`
    AgricultureEnvironmental => "Agriculture & Environmental",
    /// `Automotive`
    Automotive => "Automotive",
    /// `Business & Consulting Services`
    BusinessConsultingServices => "Business & Consulting Services",
    /// `E-commerce`
    ECommerce => "E-commerce",
    /// `Education & Training`
    EducationTraining => "Education & Training",
    /// `Financial Institutions`
    FinancialInstitutions => "Financial Institutions",
    /// `Governmental Organisations`
    GovernmentalOrganisations => "Governmental Organisations",
    /// `Hospitality, Travel & Tourism`
    HospitalityTravelTourism => "Hospitality, Travel & Tourism",
    /// `Industry, Trade & Manufacture`
    IndustryTradeManufacture => "Industry, Trade & Manufacture",
    /// `Lifestyle, Arts & Entertainment`
    LifestyleArtsEntertainment => "Lifestyle, Arts & Entertainment",
    /// `Logistic Services`
    LogisticServices => "Logistic Services",
    /// `Publishing & Media`
    PublishingMedia => "Publishing & Media",
    /// `Agencies & Marketing`
    AgenciesMarketing => "Agencies & Marketing",
    /// `Medical & Healthcare`
    MedicalHealthcare => "Medical & Healthcare",
    /// `Non Governmental Organisations`
    NonGovernmentalOrganisations => "Non Governmental Organisations",
    /// `Property & Real Estate`
    PropertyRealEstate => "Property & Real Estate",
    /// `Retail & Wholesale`
    RetailWholesale => "Retail & Wholesale",
    /// `Technology & Science`
    TechnologyScience => "Technology & Science",
}

impl Industry {
    /// The industry whose platform text is exactly `text`.
    pub fn from_text(text: &str) -> Option<Industry> {
        Industry::ALL.iter().copied().find(|i| i.as_str() == text)
    }

    /// The industry whose text matches `text` ignoring case and surrounding
    /// spaces (how values are recognised when reading a customer).
    fn from_text_loose(text: &str) -> Option<Industry> {
        let t = text.trim();
        Industry::ALL
            .iter()
            .copied()
            .find(|i| i.as_str().eq_ignore_ascii_case(t))
    }

    fn refusal(text: &str) -> String {
        let list: Vec<&str> = Industry::ALL.iter().map(|i| i.as_str()).collect();
        format!(
            "`{text}` is not an Everlytic industry; expected one of: {}",
            list.join(" | ")
        )
    }
}

impl fmt::Display for Industry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an [`Industry`]: the text is not on the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownIndustry(pub String);

impl fmt::Display for UnknownIndustry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Industry::refusal(&self.0))
    }
}

impl std::error::Error for UnknownIndustry {}

impl FromStr for Industry {
    type Err = UnknownIndustry;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Industry::from_text(s).ok_or_else(|| UnknownIndustry(s.to_owned()))
    }
}

impl Serialize for Industry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Industry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Industry::from_text(&text).ok_or_else(|| serde::de::Error::custom(Industry::refusal(&text)))
    }
}

/// An industry as read from the platform: one of the list, or a value the
/// list does not have (older installs, white-label customisations), kept
/// verbatim.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum IndustryValue {
    /// A value of the documented list.
    Known(Industry),
    /// Any other text, verbatim.
    Other(String),
}

impl IndustryValue {
    /// Reads the platform's text (case and surrounding spaces are
    /// forgiven when recognising a listed value).
    pub fn from_text(text: &str) -> IndustryValue {
        match Industry::from_text_loose(text) {
            Some(i) => IndustryValue::Known(i),
            None => IndustryValue::Other(text.to_owned()),
        }
    }

    /// The platform's text.
    pub fn as_str(&self) -> &str {
        match self {
            IndustryValue::Known(i) => i.as_str(),
            IndustryValue::Other(s) => s,
        }
    }
}

/// A customer as the platform answers it, with every property unibill
/// reads as a typed field, borrowed from the JSON as received (`None` when
/// absent); the JSON itself stays whole in [`unibill_core::Customer::raw`].
/// The readers ([`read_u64`], [`read_yes_no`], `json_text`) then accept
/// every type a PHP install sends.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct CustomerView<'a> {
    pub id: Option<&'a Value>,
    pub name: Option<&'a Value>,
    pub email: Option<&'a Value>,
    pub status: Option<&'a Value>,
    pub address: Option<&'a Value>,
    pub state_provinces: Option<&'a Value>,
    pub postal_code: Option<&'a Value>,
    pub telephone: Option<&'a Value>,
    pub website_url: Option<&'a Value>,
    pub country: Option<&'a Value>,
    pub unique_id: Option<&'a Value>,
    pub email_package_id: Option<&'a Value>,
    pub email_quota: Option<&'a Value>,
    pub sms_quota: Option<&'a Value>,
    pub transactions_package_id: Option<&'a Value>,
    pub transactions_quota: Option<&'a Value>,
    pub industry: Option<&'a Value>,
    pub deleted: Option<&'a Value>,
}

impl<'a> CustomerView<'a> {
    /// The customer in an answer of any of the three shapes (REST
    /// envelope, bare customer object, anything else: see
    /// [`customer_object`]); `None` when it holds none.
    pub fn of_answer(answer: &'a Value) -> Option<Self> {
        customer_object(answer).map(Self::of)
    }

    /// The typed view of a customer object.
    pub fn of(obj: &'a Map<String, Value>) -> Self {
        CustomerView {
            id: obj.get("id"),
            name: obj.get("name"),
            email: obj.get("email"),
            status: obj.get("status"),
            address: obj.get("address"),
            state_provinces: obj.get("state_provinces"),
            postal_code: obj.get("postal_code"),
            telephone: obj.get("telephone"),
            website_url: obj.get("website_url"),
            country: obj.get("country"),
            unique_id: obj.get("unique_id"),
            email_package_id: obj.get("email_package_id"),
            email_quota: obj.get("email_quota"),
            sms_quota: obj.get("sms_quota"),
            transactions_package_id: obj.get("transactions_package_id"),
            transactions_quota: obj.get("transactions_quota"),
            industry: obj.get("industry"),
            deleted: obj.get("deleted"),
        }
    }
}

/// The customer object inside an answer: the `item` of the REST envelope,
/// or the answer itself when it is a bare customer object (one with an
/// `id`, `name` or `email`). `None` for anything else (an integer, `true`,
/// an envelope without an item, ...).
pub(crate) fn customer_object(answer: &Value) -> Option<&Map<String, Value>> {
    let obj = answer.as_object()?;
    if let Some(item) = obj.get("item") {
        return item.as_object();
    }
    if ["id", "name", "email"].iter().any(|k| obj.contains_key(*k)) {
        return Some(obj);
    }
    None
}

/// Reads a non-negative integer sent as a JSON number or as digits in a
/// string (`12`, `"12"`, `" 12 "`); `None` for null, `""` or anything else.
pub(crate) fn read_u64(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            // `12.0` from a float-happy PHP encoder.
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads the `deleted` flag: `yes`/`no` as documented, and the other
/// spellings PHP backends produce (`true`/`false`, `1`/`0`).
pub(crate) fn read_yes_no(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "1" => Some(true),
            "no" | "n" | "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The wire text of the `deleted` flag.
pub(crate) fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// An error answer's body, as the platform and the proxies in front of it
/// send it: `{"error":{"message":".."}}` (documented), `{"error":".."}`,
/// `{"errors":[..]}` or `{"errors":{"field":".."}}`, `{"message":".."}`.
/// Every property may hold any JSON; what is not text is skipped.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub error: Option<ErrorDetail>,
    #[serde(default)]
    pub errors: Option<ErrorList>,
    #[serde(default)]
    pub message: Option<Messages>,
}

/// The `error` property. The variants are tried in order: the object
/// variant comes after the list so that an array is never read as a
/// struct.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ErrorDetail {
    /// `"error": ".."`.
    Text(String),
    /// `"error": [..]`.
    List(Vec<Messages>),
    /// `"error": {"code": .., "message": .., "messages": ..}` (the
    /// documented shape; its `additional` is not read).
    Detail {
        #[serde(default)]
        code: Option<ErrorCode>,
        #[serde(default)]
        message: Option<Messages>,
        #[serde(default)]
        messages: Option<Messages>,
    },
    /// Anything else (`true`, `3`, `null`).
    Other(IgnoredAny),
}

/// The platform's error code (`"09001"`), as text or a number; anything
/// else holds none.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ErrorCode {
    /// `"code": "09001"`.
    Text(String),
    /// `"code": 9001`.
    Number(serde_json::Number),
    /// Anything else.
    Other(IgnoredAny),
}

/// Longest error code kept, in characters: codes are short, a longer
/// value is cut.
const MAX_CODE_CHARS: usize = 32;

impl ErrorCode {
    /// The code as text, trimmed and cut to [`MAX_CODE_CHARS`]; `None`
    /// when blank or not text or a number.
    pub fn text(&self) -> Option<String> {
        let raw = match self {
            ErrorCode::Text(s) => s.trim().to_owned(),
            ErrorCode::Number(n) => n.to_string(),
            ErrorCode::Other(_) => return None,
        };
        (!raw.is_empty()).then(|| raw.chars().take(MAX_CODE_CHARS).collect())
    }
}

/// The `errors` property.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ErrorList {
    /// `"errors": ".."`.
    Text(String),
    /// `"errors": [..]`.
    List(Vec<Messages>),
    /// `"errors": {"email": "is invalid"}`, one entry per property.
    ByField(BTreeMap<String, Messages>),
    /// Anything else.
    Other(IgnoredAny),
}

/// Message text wherever it sits: a string, a list of them, an object's
/// `message`; anything else holds none.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Messages {
    /// A message.
    Text(String),
    /// Messages in a list.
    List(Vec<Messages>),
    /// `{"message": ..}`.
    Object {
        #[serde(default)]
        message: Option<Box<Messages>>,
    },
    /// Anything else.
    Other(IgnoredAny),
}

impl Messages {
    /// Appends the non-blank messages, trimmed, in order.
    pub fn collect_into(&self, out: &mut Vec<String>) {
        match self {
            Messages::Text(s) => push_message(out, s),
            Messages::Other(_) => {}
            Messages::List(items) => items.iter().for_each(|m| m.collect_into(out)),
            Messages::Object { message } => {
                if let Some(m) = message {
                    m.collect_into(out);
                }
            }
        }
    }
}

/// Appends `s`, trimmed, unless it is blank.
pub(crate) fn push_message(out: &mut Vec<String>, s: &str) {
    let s = s.trim();
    if !s.is_empty() {
        out.push(s.to_owned());
    }
}

impl ErrorBody {
    /// The platform's code in `error.code`, when there is one.
    pub fn code(&self) -> Option<String> {
        match &self.error {
            Some(ErrorDetail::Detail { code: Some(c), .. }) => c.text(),
            _ => None,
        }
    }

    /// The messages, in order: `error` (each followed by ` (code X)` when
    /// `error.code` is given), then `errors` (each prefixed by its
    /// property when keyed by property), else `message`.
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.error {
            Some(ErrorDetail::Text(s)) => push_message(&mut out, s),
            Some(ErrorDetail::List(items)) => items.iter().for_each(|m| m.collect_into(&mut out)),
            Some(ErrorDetail::Detail {
                code,
                message,
                messages,
            }) => {
                let start = out.len();
                for m in [message, messages].into_iter().flatten() {
                    m.collect_into(&mut out);
                }
                // The platform's code goes with each of its messages.
                if let Some(code) = code.as_ref().and_then(ErrorCode::text) {
                    for m in &mut out[start..] {
                        m.push_str(&format!(" (code {code})"));
                    }
                }
            }
            Some(ErrorDetail::Other(_)) | None => {}
        }
        match &self.errors {
            Some(ErrorList::Text(s)) => push_message(&mut out, s),
            Some(ErrorList::List(items)) => items.iter().for_each(|m| m.collect_into(&mut out)),
            Some(ErrorList::ByField(fields)) => {
                for (field, m) in fields {
                    let mut msgs = Vec::new();
                    m.collect_into(&mut msgs);
                    out.extend(msgs.into_iter().map(|m| format!("{field}: {m}")));
                }
            }
            Some(ErrorList::Other(_)) | None => {}
        }
        if out.is_empty() {
            if let Some(m) = &self.message {
                m.collect_into(&mut out);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nineteen_industries_with_commas_kept_whole() {
        assert_eq!(Industry::ALL.len(), 19);
        let comma: Vec<&str> = Industry::ALL
            .iter()
            .map(|i| i.as_str())
            .filter(|t| t.contains(','))
            .collect();
        assert_eq!(
            comma,
            [
                "Hospitality, Travel & Tourism",
                "Industry, Trade & Manufacture",
                "Lifestyle, Arts & Entertainment"
            ]
        );
        for i in Industry::ALL {
            assert_eq!(Industry::from_text(i.as_str()), Some(*i));
            let j = serde_json::to_value(i).unwrap();
            assert_eq!(serde_json::from_value::<Industry>(j).unwrap(), *i);
        }
        let mut texts: Vec<&str> = Industry::ALL.iter().map(|i| i.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), 19);
    }

    #[test]
    fn industry_strict_for_writing_tolerant_for_reading() {
        for bad in ["Hospitality", "Travel & Tourism", "automotive", "", "Other"] {
            let e = serde_json::from_value::<Industry>(json!(bad)).unwrap_err();
            assert!(e.to_string().contains("not an Everlytic industry"), "{e}");
            assert!(bad.parse::<Industry>().is_err());
        }
        assert_eq!(
            IndustryValue::from_text(" automotive "),
            IndustryValue::Known(Industry::Automotive)
        );
        assert_eq!(
            IndustryValue::from_text("Space Mining"),
            IndustryValue::Other("Space Mining".into())
        );
    }

    #[test]
    fn numbers_as_numbers_or_strings() {
        assert_eq!(read_u64(Some(&json!(12))), Some(12));
        assert_eq!(read_u64(Some(&json!("12"))), Some(12));
        assert_eq!(read_u64(Some(&json!(" 7 "))), Some(7));
        assert_eq!(read_u64(Some(&json!(3.0))), Some(3));
        assert_eq!(read_u64(Some(&json!(""))), None);
        assert_eq!(read_u64(Some(&json!(-1))), None);
        assert_eq!(read_u64(Some(&json!("-1"))), None);
        assert_eq!(read_u64(Some(&json!(null))), None);
        assert_eq!(read_u64(None), None);
    }

    #[test]
    fn yes_no_spellings() {
        for (v, b) in [
            (json!("yes"), Some(true)),
            (json!("No"), Some(false)),
            (json!(true), Some(true)),
            (json!(0), Some(false)),
            (json!("1"), Some(true)),
            (json!("maybe"), None),
            (json!(""), None),
        ] {
            assert_eq!(read_yes_no(Some(&v)), b, "{v}");
        }
        assert_eq!(yes_no(true), "yes");
        assert_eq!(yes_no(false), "no");
    }

    #[test]
    fn customer_view_in_every_shape() {
        let item = json!({"id": "7", "name": "A", "email_quota": 5, "deleted": "no"});
        for answer in [json!({"links": [], "item": item.clone()}), item.clone()] {
            let v = CustomerView::of_answer(&answer).unwrap();
            assert_eq!(v.id, Some(&json!("7")));
            assert_eq!(v.name, Some(&json!("A")));
            assert_eq!(v.email_quota, Some(&json!(5)));
            assert_eq!(v.deleted, Some(&json!("no")));
            assert_eq!(v.email, None);
        }
        assert_eq!(CustomerView::of_answer(&json!(1001)), None);
    }

    #[test]
    fn write_body_sends_only_what_is_set_in_documented_types() {
        assert_eq!(CustomerWrite::default().to_json().unwrap(), json!({}));
        assert!(CustomerWrite::default().is_empty());
        let w = CustomerWrite {
            name: Some("A".into()),
            status: Some(Status::Suspended),
            telephone: Some(String::new()),
            sms_quota: Some(0),
            industry: Some(Industry::HospitalityTravelTourism),
            deleted: Some(false),
            ..CustomerWrite::default()
        };
        assert!(!w.is_empty());
        assert_eq!(
            w.to_json().unwrap(),
            json!({"name": "A", "status": "suspended", "telephone": "", "sms_quota": 0,
                   "industry": "Hospitality, Travel & Tourism", "deleted": "no"})
        );
        let yes = CustomerWrite {
            deleted: Some(true),
            ..CustomerWrite::default()
        };
        assert_eq!(serde_json::to_string(&yes).unwrap(), r#"{"deleted":"yes"}"#);
        for s in Status::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
            assert_eq!(
                Status::from_text_loose(&format!(" {} ", s.as_str().to_uppercase())),
                Some(s)
            );
        }
        assert_eq!(Status::from_text_loose("pending"), None);
    }

    #[test]
    fn error_body_in_every_shape() {
        let msgs = |v: Value| ErrorBody::deserialize(&v).unwrap().messages();
        assert_eq!(msgs(json!({"error": {"message": " m "}})), ["m"]);
        assert_eq!(
            msgs(json!({"error": {"message": "a", "messages": ["b", {"message": "c"}, 4]}})),
            ["a", "b", "c"]
        );
        // A list is a list, never a struct read by position.
        assert_eq!(msgs(json!({"error": ["a", "b", "c"]})), ["a", "b", "c"]);
        assert_eq!(msgs(json!({"error": "x", "errors": ["y"]})), ["x", "y"]);
        assert_eq!(
            msgs(json!({"errors": {"b": "2", "a": ["1", {"message": "1b"}], "c": 3}})),
            ["a: 1", "a: 1b", "b: 2"]
        );
        // `message` only when nothing else said anything.
        assert_eq!(msgs(json!({"error": true, "message": "m"})), ["m"]);
        assert_eq!(msgs(json!({"error": "e", "message": "m"})), ["e"]);
        assert!(msgs(json!({"error": null, "errors": 5, "message": {"x": 1}})).is_empty());
        assert!(msgs(json!({"error": {"message": [[[" "]]]}})).is_empty());
    }

    #[test]
    fn error_code_goes_with_the_message() {
        let body = |v: Value| ErrorBody::deserialize(&v).unwrap();
        // The documented shape ("Get the List of Available Field Definitions").
        let documented = json!({
            "links": [{"title": "Self", "rel": "self", "href": "https://x.example/api/2.0/definitions"}],
            "error": {"code": "09001", "message": "Definitions Error Occured: Access Denied", "additional": null}
        });
        assert_eq!(
            body(documented.clone()).messages(),
            ["Definitions Error Occured: Access Denied (code 09001)"]
        );
        assert_eq!(body(documented).code().as_deref(), Some("09001"));
        assert_eq!(
            body(json!({"error": {"code": 404, "message": "m"}})).messages(),
            ["m (code 404)"]
        );
        assert_eq!(
            body(json!({"error": {"code": " ", "message": "m"}})).messages(),
            ["m"]
        );
        assert_eq!(
            body(json!({"error": {"code": {"x": 1}, "message": "m"}})).messages(),
            ["m"]
        );
        assert_eq!(
            body(json!({"error": {"code": [1], "message": "m"}})).code(),
            None
        );
        let long = "9".repeat(500);
        let code = body(json!({"error": {"code": long, "message": "m"}}))
            .code()
            .unwrap();
        assert_eq!(code.chars().count(), MAX_CODE_CHARS);
        // Without a message the code is kept apart; `errors` take none.
        assert!(body(json!({"error": {"code": "00404"}}))
            .messages()
            .is_empty());
        assert_eq!(
            body(json!({"error": {"code": "00404"}})).code().as_deref(),
            Some("00404")
        );
        assert_eq!(
            body(json!({"errors": ["a"], "error": {"code": "1", "message": "b"}})).messages(),
            ["b (code 1)", "a"]
        );
    }

    #[test]
    fn customer_object_in_every_shape() {
        let item = json!({"id": "7", "name": "A"});
        let wrapped = json!({"links": [], "item": item.clone()});
        assert_eq!(customer_object(&wrapped), item.as_object());
        assert_eq!(customer_object(&item), item.as_object());
        assert_eq!(customer_object(&json!(1)), None);
        assert_eq!(customer_object(&json!(true)), None);
        assert_eq!(customer_object(&json!({"links": []})), None);
        assert_eq!(customer_object(&json!({"links": [], "item": 1})), None);
    }
}
