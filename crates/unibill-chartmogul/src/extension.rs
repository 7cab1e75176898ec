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

/// Setters in the style every backend extension shares: `set(impl
/// Into<T>)` and `clear_set()`.
macro_rules! setters {
    ($( $field:ident => $set:ident, $clear:ident; )*) => {
        $(
            #[doc = concat!("Sets `", stringify!($field), "`.")]
            pub fn $set(mut self, value: impl Into<String>) -> Self {
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

impl ChartMogulExtension {
    /// An extension that changes nothing.
    ///
    /// ```
    /// use unibill_chartmogul::{ChartMogulExtension, PrimaryContactPatch};
    /// use unibill_core::Change;
    ///
    /// let ext = ChartMogulExtension::new()
    ///     .owner("mike@example.com")
    ///     .primary_contact(PrimaryContactPatch::new().first_name("Ben").clear_phone());
    /// assert_eq!(ext.owner, Change::Set("mike@example.com".to_string()));
    /// assert_eq!(ext.primary_contact.phone, Change::Clear);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        owner => owner, clear_owner;
    }

    /// The changes to the primary contact.
    pub fn primary_contact(mut self, contact: impl Into<PrimaryContactPatch>) -> Self {
        self.primary_contact = contact.into();
        self
    }

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
    /// Changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        first_name => first_name, clear_first_name;
        last_name => last_name, clear_last_name;
        email => email, clear_email;
        title => title, clear_title;
        phone => phone, clear_phone;
        linked_in => linked_in, clear_linked_in;
        twitter => twitter, clear_twitter;
        notes => notes, clear_notes;
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_match_the_struct_form() {
        let built = ChartMogulExtension::new()
            .owner("o@example.com")
            .primary_contact(
                PrimaryContactPatch::new()
                    .first_name("Ben")
                    .last_name(String::from("Kim"))
                    .email("b@example.com")
                    .title("CTO")
                    .clear_phone()
                    .linked_in("in/ben")
                    .twitter("@ben")
                    .clear_notes(),
            );
        let literal = ChartMogulExtension {
            owner: Change::Set("o@example.com".into()),
            primary_contact: PrimaryContactPatch {
                first_name: Change::Set("Ben".into()),
                last_name: Change::Set("Kim".into()),
                email: Change::Set("b@example.com".into()),
                title: Change::Set("CTO".into()),
                phone: Change::Clear,
                linked_in: Change::Set("in/ben".into()),
                twitter: Change::Set("@ben".into()),
                notes: Change::Clear,
            },
        };
        assert_eq!(built, literal);
        assert_eq!(
            ChartMogulExtension::new().clear_owner().owner,
            Change::Clear
        );
        assert!(ChartMogulExtension::new().is_empty());
    }
}
