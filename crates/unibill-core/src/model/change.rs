//! [`Change<T>`]: keep, set or clear one field.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a patch does to one field.
///
/// In JSON a `Change` follows JSON Merge Patch (RFC 7396): an absent key is
/// [`Change::Keep`], `null` is [`Change::Clear`] and any other value is
/// [`Change::Set`]. Fields of type `Change` must therefore be declared with
/// `#[serde(default, skip_serializing_if = "Change::is_keep")]`, which is
/// how every field of [`crate::CustomerPatch`] is declared.
///
/// ```
/// use unibill_core::Change;
/// #[derive(serde::Serialize, serde::Deserialize, Default, Debug, PartialEq)]
/// struct P {
///     #[serde(default, skip_serializing_if = "Change::is_keep")]
///     city: Change<String>,
/// }
/// let p: P = serde_json::from_str(r#"{"city":null}"#).unwrap();
/// assert_eq!(p.city, Change::Clear);
/// let p: P = serde_json::from_str(r#"{}"#).unwrap();
/// assert_eq!(p.city, Change::Keep);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Change<T> {
    /// Leave the field as it is (the default).
    #[default]
    Keep,
    /// Give the field this value.
    Set(T),
    /// Remove the field's value (the vendor's "null").
    Clear,
}

impl<T> Change<T> {
    /// True for [`Change::Keep`].
    pub fn is_keep(&self) -> bool {
        matches!(self, Change::Keep)
    }

    /// Maps the value of a [`Change::Set`].
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Change<U> {
        match self {
            Change::Keep => Change::Keep,
            Change::Set(v) => Change::Set(f(v)),
            Change::Clear => Change::Clear,
        }
    }

    /// Maps the value of a [`Change::Set`] with a fallible function.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Change<U>, E> {
        Ok(match self {
            Change::Keep => Change::Keep,
            Change::Set(v) => Change::Set(f(v)?),
            Change::Clear => Change::Clear,
        })
    }
}

impl<T> From<Option<T>> for Change<T> {
    /// `Some(v)` sets, `None` clears.
    fn from(o: Option<T>) -> Self {
        match o {
            Some(v) => Change::Set(v),
            None => Change::Clear,
        }
    }
}

impl<T: Serialize> Serialize for Change<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Change::Set(v) => v.serialize(s),
            // Keep is skipped by `skip_serializing_if`; if it is serialized
            // anyway (e.g. inside a sequence) it has no better form than null.
            Change::Clear | Change::Keep => s.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Change<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.into())
    }
}
