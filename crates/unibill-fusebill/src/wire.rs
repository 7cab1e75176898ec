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

/// The messages of a Fusebill error body
/// `{"ErrorId":0,"HttpStatusCode":400,"Errors":[{"Key":..,"Value":..}]}`,
/// each as `"Key: Value"` (or just the value when the key is empty; an
/// entry that is a bare string as it is). Also
/// understands the `{"Message": ".."}` shape of the platform's generic
/// errors. Property names are matched case-insensitively.
pub fn error_messages(body: &Value) -> Vec<String> {
    let Some(obj) = body.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(Value::Array(errors)) = get_ci(obj, "Errors") {
        for e in errors {
            let Some(e) = e.as_object() else {
                // A bare message in the list.
                if e.is_string() {
                    out.extend(text(Some(e)));
                }
                continue;
            };
            let key = text(get_ci(e, "Key"));
            let value = text(get_ci(e, "Value"));
            match (key, value) {
                (Some(k), Some(v)) => out.push(format!("{k}: {v}")),
                (None, Some(v)) => out.push(v),
                (Some(k), None) => out.push(k),
                (None, None) => {}
            }
        }
    }
    if out.is_empty() {
        for name in ["Message", "error", "ExceptionMessage"] {
            if let Some(m) = text(get_ci(obj, name)) {
                out.push(m);
            }
        }
    }
    out
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
