//! [`EverlyticExtension`]: the platform-only properties a patch can change.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unibill_core::{Change, CustomerPatch, Error, PatchExtension};

use crate::wire::{prop, Industry};

/// The largest quota or package id sent: PHP's `PHP_INT_MAX` on 64-bit
/// installs (`i64::MAX`); anything above would overflow on the platform.
pub const MAX_INTEGER: u64 = i64::MAX as u64;

/// Properties only Everlytic has, carried in a neutral patch under the key
/// `"everlytic"` (other backends ignore it).
///
/// Quotas and package ids are unsigned, so a negative value cannot even be
/// written in Rust; one arriving in JSON is refused by
/// [`Everlytic`](crate::Everlytic) before any request, as is an industry
/// not on the platform's list and any unknown key.
///
/// ```
/// use unibill_core::CustomerPatch;
/// use unibill_everlytic::{EverlyticExtension, Industry};
/// let patch = CustomerPatch::new().extension(
///     EverlyticExtension::new()
///         .email_quota(50_000)
///         .industry(Industry::HospitalityTravelTourism),
/// );
/// assert_eq!(
///     serde_json::to_value(&patch).unwrap(),
///     serde_json::json!({"extensions": {"everlytic": {
///         "email_quota": 50000,
///         "industry": "Hospitality, Travel & Tourism"
///     }}})
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EverlyticExtension {
    /// Email package id (`email_package_id`).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub email_package_id: Change<u64>,
    /// Prepaid email quota (`email_quota`).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub email_quota: Change<u64>,
    /// Prepaid SMS quota (`sms_quota`).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub sms_quota: Change<u64>,
    /// Transactions package id (`transactions_package_id`).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub transactions_package_id: Change<u64>,
    /// Prepaid transactions quota (`transactions_quota`).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub transactions_quota: Change<u64>,
    /// Industry (`industry`), one of the platform's list.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub industry: Change<Industry>,
    /// The customer's deleted flag (`deleted`, sent as `yes`/`no`).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub deleted: Change<bool>,
}

impl PatchExtension for EverlyticExtension {
    const KEY: &'static str = "everlytic";
}

/// Setters in the style every backend extension shares: `impl Into<T>`,
/// except integers, which take the integer type itself (so that a literal
/// such as `5` has a type). There are no `clear_` setters: the platform
/// refuses clearing these properties.
macro_rules! setters {
    ($( $field:ident : $ty:ty, $doc:literal; )*) => {
        $(
            #[doc = concat!("Sets ", $doc, ".")]
            pub fn $field(mut self, value: impl Into<$ty>) -> Self {
                self.$field = Change::Set(value.into());
                self
            }
        )*
    };
}

macro_rules! integer_setters {
    ($( $field:ident, $doc:literal; )*) => {
        $(
            #[doc = concat!("Sets ", $doc, ".")]
            pub fn $field(mut self, value: u64) -> Self {
                self.$field = Change::Set(value);
                self
            }
        )*
    };
}

impl EverlyticExtension {
    /// An extension that changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    integer_setters! {
        email_package_id, "the email package id";
        email_quota, "the prepaid email quota";
        sms_quota, "the prepaid SMS quota";
        transactions_package_id, "the transactions package id";
        transactions_quota, "the prepaid transactions quota";
    }

    setters! {
        industry: Industry, "the industry";
        deleted: bool, "the deleted flag (`yes` when true, `no` when false)";
    }

    /// True when the extension changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The integer properties with their names, which are the platform's
    /// property names too.
    pub(crate) fn integers(&self) -> [(&'static str, &Change<u64>); 5] {
        [
            (prop::EMAIL_PACKAGE_ID, &self.email_package_id),
            (prop::EMAIL_QUOTA, &self.email_quota),
            (prop::SMS_QUOTA, &self.sms_quota),
            (prop::TRANSACTIONS_PACKAGE_ID, &self.transactions_package_id),
            (prop::TRANSACTIONS_QUOTA, &self.transactions_quota),
        ]
    }

    /// Checks what a Rust type cannot rule out: integers above
    /// [`MAX_INTEGER`], and clearing (`null` in JSON), which the platform
    /// does not accept for these properties: its integer properties take
    /// only integers and its enumerations only listed values. The error
    /// names the field.
    pub fn validate(&self) -> Result<(), Error> {
        for (name, c) in self.integers() {
            match c {
                Change::Set(n) if *n > MAX_INTEGER => {
                    return Err(Error::validation(
                        field_path(name),
                        format!("{n} exceeds the platform's largest integer {MAX_INTEGER}"),
                    ));
                }
                Change::Clear => {
                    return Err(Error::validation(
                        field_path(name),
                        "cannot be cleared: the platform accepts only a non-negative integer (set 0 for none)",
                    ));
                }
                _ => {}
            }
        }
        if self.industry == Change::Clear {
            return Err(Error::validation(
                field_path(prop::INDUSTRY),
                "cannot be cleared: the platform accepts only an industry of its list",
            ));
        }
        if self.deleted == Change::Clear {
            return Err(Error::validation(
                field_path(prop::DELETED),
                "cannot be cleared: set it to true (yes) or false (no)",
            ));
        }
        Ok(())
    }
}

fn field_path(name: &str) -> String {
    format!("extensions.{}.{name}", EverlyticExtension::KEY)
}

/// The extension in its JSON form, read so that a malformed one is
/// reported field by field (`extensions.everlytic.email_quota`) instead of
/// as one opaque error.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct RawExtension(Value);

impl PatchExtension for RawExtension {
    const KEY: &'static str = EverlyticExtension::KEY;
}

/// The keys the extension accepts, for the error naming an unknown one.
const KEYS: [&str; 7] = [
    prop::EMAIL_PACKAGE_ID,
    prop::EMAIL_QUOTA,
    prop::SMS_QUOTA,
    prop::TRANSACTIONS_PACKAGE_ID,
    prop::TRANSACTIONS_QUOTA,
    prop::INDUSTRY,
    prop::DELETED,
];

/// One property of the extension, typed; the error names it.
fn typed<T: DeserializeOwned>(key: &str, value: &Value, rule: &str) -> Result<Change<T>, Error> {
    Change::<T>::deserialize(value)
        .map_err(|e| Error::validation(field_path(key), format!("{rule}{e}")))
}

/// The patch's Everlytic extension, checked: an unknown key, a negative or
/// fractional or too large number, a number given as text, an industry off
/// the list or a cleared property is an [`Error::Validation`] naming
/// `extensions.everlytic.<key>`. Each property is read once, straight from
/// the patch's JSON.
pub(crate) fn from_patch(patch: &CustomerPatch) -> Result<Option<EverlyticExtension>, Error> {
    let Some(RawExtension(raw)) = patch.get_extension::<RawExtension>()? else {
        return Ok(None);
    };
    let Value::Object(map) = &raw else {
        return Err(Error::validation(
            format!("extensions.{}", EverlyticExtension::KEY),
            "must be a JSON object",
        ));
    };
    const INTEGER: &str = "must be a non-negative integer: ";
    let mut ext = EverlyticExtension::default();
    for (key, value) in map {
        match key.as_str() {
            prop::EMAIL_PACKAGE_ID => ext.email_package_id = typed(key, value, INTEGER)?,
            prop::EMAIL_QUOTA => ext.email_quota = typed(key, value, INTEGER)?,
            prop::SMS_QUOTA => ext.sms_quota = typed(key, value, INTEGER)?,
            prop::TRANSACTIONS_PACKAGE_ID => {
                ext.transactions_package_id = typed(key, value, INTEGER)?
            }
            prop::TRANSACTIONS_QUOTA => ext.transactions_quota = typed(key, value, INTEGER)?,
            prop::INDUSTRY => ext.industry = typed(key, value, "")?,
            prop::DELETED => ext.deleted = typed(key, value, "")?,
            _ => {
                return Err(Error::validation(
                    field_path(key),
                    format!(
                        "unknown Everlytic property; expected one of: {}",
                        KEYS.join(", ")
                    ),
                ))
            }
        }
    }
    ext.validate()?;
    Ok(Some(ext))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch_with(ext: Value) -> CustomerPatch {
        serde_json::from_value(json!({"extensions": {"everlytic": ext}})).unwrap()
    }

    fn field_of(e: Error) -> String {
        match e {
            Error::Validation { field, .. } => field,
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn typed_values_read_back() {
        let p = patch_with(json!({
            "email_quota": 5, "sms_quota": 0, "industry": "Industry, Trade & Manufacture",
            "deleted": false
        }));
        let ext = from_patch(&p).unwrap().unwrap();
        assert_eq!(ext.email_quota, Change::Set(5));
        assert_eq!(ext.sms_quota, Change::Set(0));
        assert_eq!(
            ext.industry,
            Change::Set(Industry::IndustryTradeManufacture)
        );
        assert_eq!(ext.deleted, Change::Set(false));
        assert_eq!(ext.transactions_quota, Change::Keep);
        assert_eq!(from_patch(&CustomerPatch::new()).unwrap(), None);
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases = [
            (
                json!({"email_quota": -1}),
                "extensions.everlytic.email_quota",
            ),
            (json!({"sms_quota": 1.5}), "extensions.everlytic.sms_quota"),
            (
                json!({"transactions_quota": "10"}),
                "extensions.everlytic.transactions_quota",
            ),
            (
                json!({"email_package_id": u64::MAX}),
                "extensions.everlytic.email_package_id",
            ),
            (
                json!({"industry": "Hospitality"}),
                "extensions.everlytic.industry",
            ),
            (json!({"deleted": "yes"}), "extensions.everlytic.deleted"),
            (json!({"deleted": null}), "extensions.everlytic.deleted"),
            (json!({"sms_quota": null}), "extensions.everlytic.sms_quota"),
            (json!({"industry": null}), "extensions.everlytic.industry"),
            (json!({"quota": 1}), "extensions.everlytic.quota"),
            (json!([1]), "extensions.everlytic"),
        ];
        for (ext, field) in cases {
            let e = from_patch(&patch_with(ext.clone())).unwrap_err();
            assert_eq!(field_of(e), field, "{ext}");
        }
    }

    #[test]
    fn builder_methods() {
        let e = EverlyticExtension::new()
            .email_package_id(1)
            .transactions_quota(0)
            .deleted(true);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"email_package_id": 1, "transactions_quota": 0, "deleted": true})
        );
        assert!(!e.is_empty());
        assert!(EverlyticExtension::new().is_empty());
    }
}
