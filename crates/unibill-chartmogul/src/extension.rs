//! [`ChartMogulExtension`]: the customer fields only ChartMogul has.

use serde::{Deserialize, Serialize};
use unibill_core::{Change, PatchExtension};

/// Fields of a ChartMogul customer that have no neutral equivalent, carried
/// in a [`unibill_core::CustomerPatch`] under the key `"chartmogul"` (other
/// backends ignore it).
///
/// ```
/// use unibill_chartmogul::{ChartMogulExtension, PrimaryContactPatch};
/// use unibill_core::{Change, CustomerPatch};
///
/// let patch = CustomerPatch::new().extension(ChartMogulExtension {
///     owner: Change::Set("mike@example.com".into()),
///     primary_contact: PrimaryContactPatch {
///         first_name: Change::Set("Ben".into()),
///         phone: Change::Clear,
///         ..Default::default()
///     },
/// });
/// let json = serde_json::to_value(&patch).unwrap();
/// assert_eq!(json["extensions"]["chartmogul"]["owner"], "mike@example.com");
/// assert!(json["extensions"]["chartmogul"]["primary_contact"]["phone"].is_null());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartMogulExtension {
    /// The customer's owner: the email of an existing user of the
    /// ChartMogul account (ChartMogul refuses any other value).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub owner: Change<String>,
    /// Changes to the customer's primary contact.
    #[serde(default, skip_serializing_if = "PrimaryContactPatch::is_empty")]
    pub primary_contact: PrimaryContactPatch,
}

impl ChartMogulExtension {
    /// True when the extension changes nothing.
    pub fn is_empty(&self) -> bool {
        self.owner.is_keep() && self.primary_contact.is_empty()
    }
}

impl PatchExtension for ChartMogulExtension {
    const KEY: &'static str = "chartmogul";
}

/// Changes to a ChartMogul customer's `primary_contact`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrimaryContactPatch {
    /// Given name.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub first_name: Change<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub last_name: Change<String>,
    /// Email.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub email: Change<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub title: Change<String>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub phone: Change<String>,
    /// LinkedIn profile.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub linked_in: Change<String>,
    /// Twitter handle.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub twitter: Change<String>,
    /// Free notes.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub notes: Change<String>,
}

impl PrimaryContactPatch {
    /// The fields with their ChartMogul names, in ChartMogul's order.
    pub fn fields(&self) -> [(&'static str, &Change<String>); 8] {
        [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("email", &self.email),
            ("title", &self.title),
            ("phone", &self.phone),
            ("linked_in", &self.linked_in),
            ("twitter", &self.twitter),
            ("notes", &self.notes),
        ]
    }

    /// True when no primary contact field changes.
    pub fn is_empty(&self) -> bool {
        self.fields().iter().all(|(_, c)| c.is_keep())
    }
}
