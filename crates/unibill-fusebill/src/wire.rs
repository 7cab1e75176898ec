//! Fusebill's JSON vocabulary: property names, enums and the error body.
//!
//! Customers are handled as [`serde_json::Value`] rather than as a struct
//! so that a read-modify-write carries back every property Fusebill sent,
//! known to unibill or not, with the JSON type it came with (Fusebill's
//! real answers put numbers where its documentation says String). This
//! module names the properties unibill understands and reads them
//! case-insensitively, as Fusebill does.

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
