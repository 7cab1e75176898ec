//! [`FusebillExtension`]: writable fields only Fusebill has.

use serde::{Deserialize, Serialize};
use unibill_core::{Change, PatchExtension};

/// Fields only Fusebill has, carried in a [`unibill_core::CustomerPatch`]
/// under the key `"fusebill"` (other backends ignore it).
///
/// | field | Fusebill property | set | clear |
/// |---|---|---|---|
/// | `reference1`..`reference3` | `customerReference.reference1`..`3` (≤ 255) | text | `null` |
/// | `sales_tracking_codes` | `customerReference.salesTrackingCodes` (≤ 5) | replaces the whole list | `[]` |
/// | `parent_id` | `parentId` (hierarchy) | integer | `null` (detach) |
/// | `quickbooks_latch_type` | `quickBooksLatchType` | enum | `null` |
/// | `quickbooks_id` | `quickBooksId` | integer | `null` |
///
/// ```
/// use unibill_core::CustomerPatch;
/// use unibill_fusebill::{FusebillExtension, SalesTrackingCode};
/// let patch = CustomerPatch::new().first_name("Kate").extension(
///     FusebillExtension::new()
///         .reference1("crm-991")
///         .sales_tracking_codes([SalesTrackingCode::new("Sales Tracking Code 1", "EAST")])
///         .clear_parent_id(),
/// );
/// let json = serde_json::to_value(&patch).unwrap();
/// assert_eq!(json["extensions"]["fusebill"]["reference1"], "crm-991");
/// assert_eq!(json["extensions"]["fusebill"]["parent_id"], serde_json::Value::Null);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FusebillExtension {
    /// `customerReference.reference1`.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub reference1: Change<String>,
    /// `customerReference.reference2`.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub reference2: Change<String>,
    /// `customerReference.reference3`.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub reference3: Change<String>,
    /// `customerReference.salesTrackingCodes`: set replaces the whole list
    /// (at most 5 codes, one per type); clear empties it.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub sales_tracking_codes: Change<Vec<SalesTrackingCode>>,
    /// `parentId`: the parent customer in a Fusebill hierarchy.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub parent_id: Change<u64>,
    /// `quickBooksLatchType` (QuickBooks Online plugin).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub quickbooks_latch_type: Change<QuickBooksLatchType>,
    /// `quickBooksId` (QuickBooks Online plugin).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub quickbooks_id: Change<u64>,
}

impl PatchExtension for FusebillExtension {
    const KEY: &'static str = "fusebill";
}

macro_rules! setters {
    ($( $field:ident : $ty:ty => $set:ident, $clear:ident; )*) => {
        $(
            #[doc = concat!("Sets `", stringify!($field), "`.")]
            pub fn $set(mut self, value: impl Into<$ty>) -> Self {
                self.$field = Change::Set(value.into());
                self
            }
            #[doc = concat!("Clears `", stringify!($field), "`.")]
            pub fn $clear(mut self) -> Self {
                self.$field = Change::Clear;
                self
            }
        )*
    };
}

/// Integer setters take the integer type itself (an `impl Into<u64>`
/// would leave a literal such as `5` without a type).
macro_rules! integer_setters {
    ($( $field:ident => $set:ident, $clear:ident; )*) => {
        $(
            #[doc = concat!("Sets `", stringify!($field), "`.")]
            pub fn $set(mut self, value: u64) -> Self {
                self.$field = Change::Set(value);
                self
            }
            #[doc = concat!("Clears `", stringify!($field), "`.")]
            pub fn $clear(mut self) -> Self {
                self.$field = Change::Clear;
                self
            }
        )*
    };
}

impl FusebillExtension {
    /// An extension that changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        reference1: String => reference1, clear_reference1;
        reference2: String => reference2, clear_reference2;
        reference3: String => reference3, clear_reference3;
        quickbooks_latch_type: QuickBooksLatchType => quickbooks_latch_type, clear_quickbooks_latch_type;
    }

    integer_setters! {
        parent_id => parent_id, clear_parent_id;
        quickbooks_id => quickbooks_id, clear_quickbooks_id;
    }

    /// Replaces the sales tracking codes with these (at most 5).
    pub fn sales_tracking_codes(
        mut self,
        codes: impl IntoIterator<Item = SalesTrackingCode>,
    ) -> Self {
        self.sales_tracking_codes = Change::Set(codes.into_iter().collect());
        self
    }

    /// Removes every sales tracking code.
    pub fn clear_sales_tracking_codes(mut self) -> Self {
        self.sales_tracking_codes = Change::Clear;
        self
    }

    /// True when the extension changes nothing.
    pub fn is_empty(&self) -> bool {
        self.reference1.is_keep()
            && self.reference2.is_keep()
            && self.reference3.is_keep()
            && self.sales_tracking_codes.is_keep()
            && self.parent_id.is_keep()
            && self.quickbooks_latch_type.is_keep()
            && self.quickbooks_id.is_keep()
    }
}

/// One sales tracking code: its type (by default `"Sales Tracking Code
/// 1"`..`"5"`, or the name the account gave it) and the code, which must
/// exist under that type in the Fusebill account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesTrackingCode {
    /// The sales tracking code type (≤ 255 characters).
    #[serde(rename = "type")]
    pub kind: String,
    /// The code (≤ 255 characters).
    pub code: String,
}

impl SalesTrackingCode {
    /// A code of a type.
    pub fn new(kind: impl Into<String>, code: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            code: code.into(),
        }
    }
}

/// How Fusebill latches the customer to QuickBooks Online.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuickBooksLatchType {
    /// `CreateNew`.
    CreateNew,
    /// `LatchExisting`.
    LatchExisting,
    /// `DoNothing`.
    DoNothing,
}

impl QuickBooksLatchType {
    /// Fusebill's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            QuickBooksLatchType::CreateNew => "CreateNew",
            QuickBooksLatchType::LatchExisting => "LatchExisting",
            QuickBooksLatchType::DoNothing => "DoNothing",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_form_is_a_merge_patch() {
        let e = FusebillExtension::new()
            .reference2("x")
            .clear_reference3()
            .sales_tracking_codes([SalesTrackingCode::new("Sales Tracking Code 2", "W")])
            .parent_id(12000749u64)
            .quickbooks_latch_type(QuickBooksLatchType::DoNothing);
        let j = serde_json::to_value(&e).unwrap();
        assert_eq!(
            j,
            json!({"reference2": "x", "reference3": null,
                   "sales_tracking_codes": [{"type": "Sales Tracking Code 2", "code": "W"}],
                   "parent_id": 12000749, "quickbooks_latch_type": "DoNothing"})
        );
        let back: FusebillExtension = serde_json::from_value(j).unwrap();
        assert_eq!(back, e);
        assert!(serde_json::from_value::<FusebillExtension>(json!({"referenc1": "x"})).is_err());
        assert!(FusebillExtension::new().is_empty());
        assert!(!e.is_empty());
    }

    #[test]
    fn setters_take_literals_and_into() {
        let e = FusebillExtension::new()
            .parent_id(5)
            .quickbooks_id(7)
            .reference1("r1")
            .reference2(String::from("r2"))
            .clear_reference3();
        assert_eq!(e.parent_id, Change::Set(5));
        assert_eq!(e.quickbooks_id, Change::Set(7));
        assert_eq!(e.reference1, Change::Set("r1".to_string()));
        assert_eq!(e.reference2, Change::Set("r2".to_string()));
        assert_eq!(e.reference3, Change::Clear);
    }
}
