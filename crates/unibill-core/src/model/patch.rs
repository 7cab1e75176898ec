//! [`CustomerPatch`]: the neutral description of an update.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attribute::{AttributeValue, CustomAttribute};
use crate::change::Change;
use crate::error::Error;
use crate::field::neutral_table;

/// Tags to add and to remove.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagChanges {
    /// Tags to add (adding a tag already present is a no-op).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub add: BTreeSet<String>,
    /// Tags to remove (removing an absent tag is a no-op).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub remove: BTreeSet<String>,
}

/// The extension keys known in this process besides a backend's own: the
/// backends registered with [`register_extension_key`] (the `unibill`
/// facade registers every backend compiled in when it builds an updater).
/// Core itself names no vendor, and building a backend or its
/// [`Capabilities`](crate::Capabilities) registers nothing, so which keys
/// are known never depends on what else was built first.
static KNOWN_EXTENSION_KEYS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Declares `backend`'s name as an extension key, so that a patch carrying
/// it is another backend's extension (refused as
/// [`Error::Unsupported`] or ignored) rather than an unknown key
/// ([`Error::Validation`]). A backend's own key needs no registration.
/// The `unibill` facade registers every backend compiled in; a program
/// that builds backends from their crates directly registers the ones it
/// wants recognised.
pub fn register_extension_key(backend: crate::BackendKind) {
    KNOWN_EXTENSION_KEYS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(backend.as_str());
}

/// The extension keys known in this process, sorted (see
/// [`register_extension_key`]).
pub(crate) fn known_extension_keys() -> Vec<&'static str> {
    KNOWN_EXTENSION_KEYS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .copied()
        .collect()
}

/// A typed set of fields that only one backend has (Fusebill's sales
/// tracking codes, Everlytic's quotas, ...), carried in a patch under the
/// backend's key.
///
/// Each backend crate defines its extension type; core only stores it.
/// Checking a patch for a backend ([`crate::CheckedPatch::check`]) treats
/// every key the same way: the backend's own is applied; another known
/// backend's is [`Error::Unsupported`] on `extensions` (or listed in
/// [`crate::UpdateOutcome::ignored`] under
/// [`crate::UpdateOptions::ignore_unsupported`]); a key no backend has
/// (a misspelling) is [`Error::Validation`] naming the key and the known
/// backends.
pub trait PatchExtension: Serialize + DeserializeOwned {
    /// The key the extension is stored under: the backend's name.
    const KEY: &'static str;
}

/// Per-backend extensions of a patch, keyed by backend name and kept in
/// their JSON form so a patch stays plain data (clonable, comparable,
/// serializable) whatever backends are compiled in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Extensions(BTreeMap<String, Value>);

impl Extensions {
    /// True when there is no extension.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Removes the extension stored under `key`, if any.
    pub(crate) fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }

    /// The keys of the stored extensions.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// A validation error on `extensions.{key}` of `E`.
fn extension_error<E: PatchExtension>(e: serde_json::Error) -> Error {
    Error::validation(format!("extensions.{}", E::KEY), e.to_string())
}

/// Whether a patch field changes nothing (its default: `Keep`, no tags,
/// no attributes, a group with every field `Keep`); such fields are left
/// out of the merge patch.
fn unchanged<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Generates [`CustomerPatch`] and its groups from the table's `patch`
/// and `groups` parts.
macro_rules! patch_model {
    (customer [$($c:tt)*] patch [$({[$(#[$pm:meta])*] $pf:ident ($($pty:tt)*)})*]
     groups [$({[$(#[$gm:meta])*] $g:ident $G:ident $GP:ident
        [$({[$(#[$m:meta])*] $f:ident $kind:ident})*]})*]
     fields [$($fl:tt)*]) => {
        $(
            #[doc = concat!("Changes to a customer's [`", stringify!($G), "`](crate::", stringify!($G), ").")]
            #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
            #[serde(deny_unknown_fields)]
            #[non_exhaustive]
            pub struct $GP {
                $(
                    $(#[$m])*
                    #[serde(default, skip_serializing_if = "unchanged")]
                    pub $f: neutral_table!(@write $kind),
                )*
            }

            impl $GP {
                /// True when no field of the group changes.
                pub fn is_empty(&self) -> bool {
                    unchanged(self)
                }
            }
        )*

        /// A neutral update of a customer: every field is a [`Change`]
        /// (keep, set or clear), so serialized a patch *is* a JSON Merge
        /// Patch (RFC 7396) of the neutral customer.
        ///
        /// Build one fluently; mistakes made while building (a bad country
        /// code, a bad attribute key) are kept and reported by
        /// [`CustomerPatch::validate`], which every backend runs before its
        /// first request.
        ///
        /// ```
        /// use unibill_core::{CustomerPatch, Change};
        /// let patch = CustomerPatch::new()
        ///     .city("Paris")
        ///     .country("FR")
        ///     .clear_phone()
        ///     .custom("CAC", 25)
        ///     .add_tag("vip");
        /// patch.validate().unwrap();
        /// assert_eq!(patch.address.city, Change::Set("Paris".to_string()));
        /// let json = serde_json::to_value(&patch).unwrap();
        /// assert_eq!(json["phone"], serde_json::Value::Null);
        /// assert_eq!(json["address"]["country"], "FR");
        /// ```
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[non_exhaustive]
        pub struct CustomerPatch {
            $(
                $(#[$pm])*
                #[serde(default, skip_serializing_if = "unchanged")]
                pub $pf: $($pty)*,
            )*
            /// Per-backend extensions.
            #[serde(default, skip_serializing_if = "Extensions::is_empty")]
            pub extensions: Extensions,
            /// Mistakes made while building, reported by `validate`.
            #[serde(skip)]
            deferred: Vec<(String, String)>,
        }
    };
}
neutral_table!(patch_model);

impl CustomerPatch {
    /// An empty patch (changes nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tag.
    pub fn add_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.add.insert(tag.into());
        self
    }

    /// Removes a tag.
    pub fn remove_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.remove.insert(tag.into());
        self
    }

    /// Sets a custom attribute (created with the value's type if missing).
    pub fn custom(self, key: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        self.custom_attribute(key, CustomAttribute::new(value))
    }

    /// Sets a custom attribute.
    pub fn custom_attribute(mut self, key: impl Into<String>, attr: CustomAttribute) -> Self {
        self.custom.insert(key.into(), Change::Set(attr));
        self
    }

    /// Deletes a custom attribute from the customer.
    pub fn clear_custom(mut self, key: impl Into<String>) -> Self {
        self.custom.insert(key.into(), Change::Clear);
        self
    }

    /// Attaches a backend's extension (replacing one of the same type); an
    /// extension that cannot be stored is reported by [`Self::validate`].
    pub fn extension<E: PatchExtension>(mut self, ext: E) -> Self {
        match serde_json::to_value(&ext) {
            Ok(v) => {
                self.extensions.0.insert(E::KEY.to_owned(), v);
            }
            Err(e) => self.defer(extension_error::<E>(e)),
        }
        self
    }

    /// Reads the extension of type `E`, if the patch has one; a malformed
    /// one (e.g. from JSON) is a validation error naming its field.
    pub fn get_extension<E: PatchExtension>(&self) -> Result<Option<E>, Error> {
        self.extensions
            .0
            .get(E::KEY)
            .map(|v| E::deserialize(v).map_err(extension_error::<E>))
            .transpose()
    }

    pub(crate) fn defer(&mut self, e: Error) {
        let (field, reason) = match e {
            Error::Validation { field, reason } => (field, reason),
            other => ("patch".to_owned(), other.to_string()),
        };
        self.deferred.push((field, reason));
    }

    /// True when the patch changes nothing (no field, tag, attribute or
    /// extension).
    pub fn is_empty(&self) -> bool {
        self.touched().is_empty() && self.extensions.is_empty()
    }

    /// Checks everything that can be checked without a vendor: mistakes
    /// made while building, custom attribute keys and values, tags, and
    /// empty strings (ambiguous: use `clear_*` to remove a value). The
    /// error names the field and the rule.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some((field, reason)) = self.deferred.first() {
            return Err(Error::validation(field.clone(), reason.clone()));
        }
        self.validate_fields()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::Op;
    use crate::field::Field;
    use crate::field::FieldKind;
    use serde_json::json;

    #[test]
    fn merge_patch_round_trip_keep_set_clear() {
        let p = CustomerPatch::new().city("Paris").clear_phone();
        let j = serde_json::to_value(&p).unwrap();
        assert_eq!(j, json!({"phone": null, "address": {"city": "Paris"}}));
        let back: CustomerPatch = serde_json::from_value(j).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.email, Change::Keep);
        assert_eq!(back.phone, Change::Clear);
        assert_eq!(back.address.city, Change::Set("Paris".into()));
        let empty: CustomerPatch = serde_json::from_str("{}").unwrap();
        assert!(empty.is_empty());
        assert_eq!(serde_json::to_value(&empty).unwrap(), json!({}));
    }

    #[test]
    fn unknown_json_fields_refused() {
        let e = serde_json::from_value::<CustomerPatch>(json!({"citty": "x"})).unwrap_err();
        assert!(e.to_string().contains("citty"));
        assert!(
            serde_json::from_value::<CustomerPatch>(json!({"address": {"country": "us"}})).is_err()
        );
    }

    /// A patch touching every writable field of [`Field::ALL`] (tags and
    /// custom attributes both ways) lists each in `touched` and survives
    /// the JSON round trip.
    #[test]
    fn every_writable_field_is_touched_and_round_trips() {
        let text = |f: Field| match f.kind() {
            FieldKind::Country => "FR",
            FieldKind::Currency => "EUR",
            FieldKind::Status => "active",
            FieldKind::Timestamp => "2024-05-01T12:00:00Z",
            _ if f.max_chars() == Some(crate::check::MAX_EMAIL_CHARS) => "ben@example.com",
            _ => "Ben",
        };
        let writable: Vec<Field> = Field::ALL
            .iter()
            .copied()
            .filter(|f| f.is_writable() && f.kind() != FieldKind::CustomAttributes)
            .collect();
        let p = writable
            .iter()
            .fold(CustomerPatch::new(), |p, f| p.set_text(*f, text(*f)))
            .remove_tag("b")
            .custom("CAC", 25)
            .clear_custom("old");
        p.validate().unwrap();
        // every writable field once, tags and custom twice (set + clear)
        assert_eq!(p.touched().len(), writable.len() + 1 + 2);
        let round: CustomerPatch =
            serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(round, p);
    }

    #[test]
    fn deferred_builder_errors_name_the_field() {
        let e = CustomerPatch::new()
            .country("France")
            .validate()
            .unwrap_err();
        assert!(
            matches!(&e, Error::Validation { field, .. } if field == "address.country"),
            "{e}"
        );
        let e = CustomerPatch::new().currency("usd").validate().unwrap_err();
        assert!(
            matches!(&e, Error::Validation { field, .. } if field == "currency"),
            "{e}"
        );
        let e = AttributeValue::parse("pro", crate::AttributeType::Boolean, "yes").unwrap_err();
        assert!(
            matches!(&e, Error::Validation { field, .. } if field == "custom.pro"),
            "{e}"
        );
    }

    #[test]
    fn validation_rules() {
        let cases = [
            (CustomerPatch::new().custom("bad key", 1), "custom.bad key"),
            (
                CustomerPatch::new().custom("s", "x".repeat(256)),
                "custom.s",
            ),
            (CustomerPatch::new().city("  "), "address.city"),
            (CustomerPatch::new().add_tag("x").remove_tag("x"), "tags"),
            (CustomerPatch::new().add_tag(""), "tags"),
            (CustomerPatch::new().name("a\u{0}b"), "name"),
        ];
        for (p, field) in cases {
            match p.validate() {
                Err(Error::Validation { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn json_attribute_errors_name_the_key() {
        let e = serde_json::from_value::<CustomerPatch>(json!({
            "custom": {"CAC": {"type": "Integer", "value": "x"}}
        }))
        .unwrap_err()
        .to_string();
        assert!(e.contains("`custom.CAC`") && e.contains("digits"), "{e}");
        let p: CustomerPatch = serde_json::from_value(json!({
            "custom": {"CAC": {"type": "Integer", "value": 25}, "old": null}
        }))
        .unwrap();
        assert_eq!(
            p,
            CustomerPatch::new().custom("CAC", 25).clear_custom("old")
        );
    }

    #[test]
    fn without_drops_only_the_named_change() {
        let p = CustomerPatch::new()
            .city("Paris")
            .clear_phone()
            .add_tag("a")
            .remove_tag("b")
            .custom("k", 1)
            .clear_custom("j");
        let q = p.clone().without(Field::City, Op::Set);
        assert!(q.address.city.is_keep());
        assert_eq!(q.phone, Change::Clear);
        let q = p.clone().without(Field::Phone, Op::Set);
        assert_eq!(q.phone, Change::Clear, "op must match");
        let q = p
            .clone()
            .without(Field::Tags, Op::Set)
            .without(Field::CustomAttributes, Op::Clear);
        assert!(q.tags.add.is_empty() && !q.tags.remove.is_empty());
        assert!(q.custom.contains_key("k") && !q.custom.contains_key("j"));
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq, Default)]
    #[serde(deny_unknown_fields)]
    struct DemoExt {
        #[serde(default, skip_serializing_if = "Change::is_keep")]
        quota: Change<u32>,
    }
    impl PatchExtension for DemoExt {
        const KEY: &'static str = "demo";
    }

    #[test]
    fn extensions_are_typed_and_keyed() {
        let p = CustomerPatch::new().extension(DemoExt {
            quota: Change::Set(5),
        });
        assert_eq!(
            p.get_extension::<DemoExt>().unwrap(),
            Some(DemoExt {
                quota: Change::Set(5)
            })
        );
        let j = serde_json::to_value(&p).unwrap();
        assert_eq!(j, json!({"extensions": {"demo": {"quota": 5}}}));
        let bad: CustomerPatch =
            serde_json::from_value(json!({"extensions": {"demo": {"quota": -1}}})).unwrap();
        let e = bad.get_extension::<DemoExt>().unwrap_err();
        assert!(
            matches!(&e, Error::Validation { field, .. } if field == "extensions.demo"),
            "{e}"
        );
        assert!(!p.is_empty());
    }
}
