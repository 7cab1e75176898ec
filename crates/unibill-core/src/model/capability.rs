//! What each backend can do with the neutral fields.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::field::Field;
use crate::kind::BackendKind;
use crate::listing::Listing;
use crate::patch::CustomerPatch;
use crate::reference::LookupKind;
use crate::update::Ignored;

/// What a refusal ([`crate::Error::Unsupported`]) or an ignored change
/// ([`crate::Ignored`]) names: a neutral [`Field`], or another backend's
/// extension carried by the patch. Shown and serialized as the field's
/// name, or `"extensions"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A neutral field.
    Field(Field),
    /// Another backend's extension (`"extensions"`): a backend always
    /// honours its own extension and never another's, so extensions are
    /// not a row of the capability table.
    Extensions,
}

impl From<Field> for Target {
    fn from(field: Field) -> Self {
        Target::Field(field)
    }
}

impl PartialEq<Field> for Target {
    fn eq(&self, other: &Field) -> bool {
        *self == Target::Field(*other)
    }
}

impl fmt::Display for Target {
    /// The field's name, or `extensions`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Target::Field(field) => field.name(),
            Target::Extensions => "extensions",
        })
    }
}

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a patch does to a field: give it a value or remove it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Give a value (for tags and custom attributes: add or update).
    Set,
    /// Remove the value (for tags and custom attributes: remove entries).
    Clear,
}

impl fmt::Display for Op {
    /// `set` or `clear`, as in JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.serialize(f)
    }
}

/// Whether a backend can read, set and clear one field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct FieldCaps {
    /// The field is filled in on [`crate::Customer`] when the vendor has it.
    pub read: bool,
    /// A patch may set it.
    pub set: bool,
    /// A patch may clear it.
    pub clear: bool,
}

impl FieldCaps {
    /// Not supported at all.
    pub const NONE: FieldCaps = FieldCaps::of(false, false, false);
    /// Read only.
    pub const READ: FieldCaps = FieldCaps::of(true, false, false);
    /// Read and set, but not clear.
    pub const READ_SET: FieldCaps = FieldCaps::of(true, true, false);
    /// Read, set and clear.
    pub const ALL: FieldCaps = FieldCaps::of(true, true, true);

    const fn of(read: bool, set: bool, clear: bool) -> Self {
        Self { read, set, clear }
    }
}

impl fmt::Display for FieldCaps {
    /// `"read set clear"`-style summary, `-` for nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = [
            (self.read, "read"),
            (self.set, "set"),
            (self.clear, "clear"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if parts.is_empty() {
            f.write_str("-")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}

/// What one backend can do with each neutral field.
///
/// A patch touching something the backend cannot do fails with
/// [`crate::Error::Unsupported`] before any request (or is listed as
/// ignored when the caller opts in with [`crate::UpdateOptions`]).
///
/// ```
/// use unibill_core::{BackendKind, Capabilities, Field, FieldCaps, Op};
/// let caps = Capabilities::new(BackendKind::new("demo"))
///     .with(Field::City, FieldCaps::ALL)
///     .with(Field::Mrr, FieldCaps::READ);
/// assert!(caps.allows(Field::City, Op::Clear));
/// assert!(!caps.allows(Field::Mrr, Op::Set));
/// assert_eq!(caps.get(Field::Tags), FieldCaps::NONE);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    backend: BackendKind,
    /// By [`Field`] (its discriminant is its place in [`Field::ALL`]).
    fields: [FieldCaps; Field::ALL.len()],
    lookups: BTreeSet<LookupKind>,
    listing: Listing,
}

impl Capabilities {
    /// A backend that supports nothing yet; add fields with [`Self::with`].
    /// Plain data: building one has no other effect (which extension keys
    /// are known is declared apart, with
    /// [`crate::patch::register_extension_key`]).
    pub fn new(backend: BackendKind) -> Self {
        Self {
            backend,
            fields: [FieldCaps::NONE; Field::ALL.len()],
            lookups: BTreeSet::new(),
            listing: Listing::None,
        }
    }

    /// Sets one field's capabilities.
    pub fn with(mut self, field: Field, caps: FieldCaps) -> Self {
        self.fields[field as usize] = caps;
        self
    }

    /// Sets the same capabilities on several fields.
    pub fn with_all(self, fields: &[Field], caps: FieldCaps) -> Self {
        fields.iter().fold(self, |c, f| c.with(*f, caps))
    }

    /// Declares that the backend can find customers by `lookup` (see
    /// [`crate::CustomerRef`]); a backend offers none until it says so.
    ///
    /// ```
    /// use unibill_core::{BackendKind, Capabilities, LookupKind};
    /// let caps = Capabilities::new(BackendKind::new("demo")).with_lookup(LookupKind::Email);
    /// assert!(caps.can_lookup(LookupKind::Email));
    /// assert!(!caps.can_lookup(LookupKind::External));
    /// ```
    pub fn with_lookup(mut self, lookup: LookupKind) -> Self {
        self.lookups.insert(lookup);
        self
    }

    /// Whether the backend can find customers by `lookup`; a reference it
    /// cannot look up is refused with
    /// [`Error::UnsupportedLookup`](crate::Error::UnsupportedLookup) before
    /// any request.
    pub fn can_lookup(&self, lookup: LookupKind) -> bool {
        self.lookups.contains(&lookup)
    }

    /// Declares how the backend can list its customers; a backend lists
    /// nothing until it says so.
    ///
    /// ```
    /// use unibill_core::{BackendKind, Capabilities, Listing};
    /// let caps = Capabilities::new(BackendKind::new("demo"));
    /// assert_eq!(caps.listing(), Listing::None);
    /// assert_eq!(caps.with_listing(Listing::All).listing(), Listing::All);
    /// ```
    pub fn with_listing(mut self, listing: Listing) -> Self {
        self.listing = listing;
        self
    }

    /// How the backend can list its customers
    /// ([`CustomerUpdater::list`](crate::CustomerUpdater::list)).
    pub fn listing(&self) -> Listing {
        self.listing
    }

    /// The backend these capabilities describe.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// One field's capabilities.
    pub fn get(&self, field: Field) -> FieldCaps {
        self.fields[field as usize]
    }

    /// Whether the backend can do `op` on `field`.
    pub fn allows(&self, field: Field, op: Op) -> bool {
        let caps = self.get(field);
        match op {
            Op::Set => caps.set,
            Op::Clear => caps.clear,
        }
    }

    /// Every field with its capabilities, in [`Field::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Field, FieldCaps)> + '_ {
        Field::ALL.iter().map(move |f| (*f, self.get(*f)))
    }

    /// The parts of `patch` this backend would refuse under the default
    /// policy, and skip under
    /// [`UpdateOptions::ignore_unsupported`](crate::UpdateOptions::ignore_unsupported),
    /// in the order [`crate::CheckedPatch::check`] meets them: every
    /// touched field and op it does not allow ([`CustomerPatch::touched`]
    /// order), then [`Target::Extensions`] when the patch carries another
    /// known backend's extension. Empty: nothing is refused. Callers ask
    /// [`CustomerPatch::portability`].
    pub(crate) fn unsupported_in(&self, patch: &CustomerPatch) -> Vec<Ignored> {
        let mut out: Vec<Ignored> = patch
            .touched()
            .into_iter()
            .filter(|(field, op)| !self.allows(*field, *op))
            .map(|(field, op)| Ignored {
                field: field.into(),
                op,
            })
            .collect();
        let own = self.backend().as_str();
        let known = crate::patch::known_extension_keys();
        if patch
            .extensions
            .keys()
            .any(|key| key != own && known.contains(&key))
        {
            out.push(Ignored {
                field: Target::Extensions,
                op: Op::Set,
            });
        }
        out
    }
}

/// A Markdown table of several backends' capabilities, one row per
/// neutral field and one column per backend (`read set clear`, `-` for
/// nothing). The README's table is generated by this function and checked
/// against it by a test.
pub fn markdown_table(backends: &[&Capabilities]) -> String {
    let names: String = backends
        .iter()
        .map(|c| format!(" {} |", c.backend()))
        .collect();
    let mut out = format!("| field |{names}\n|---|{}\n", "---|".repeat(backends.len()));
    for f in Field::ALL {
        let row: String = backends
            .iter()
            .map(|c| format!(" {} |", c.get(*f)))
            .collect();
        out.push_str(&format!("| `{}` |{row}\n", f.name()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_unique_and_in_order() {
        let mut names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        for (i, f) in Field::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Field::ALL.len());
    }

    #[test]
    fn table_has_a_row_per_field() {
        let a = Capabilities::new(BackendKind::new("a")).with(Field::City, FieldCaps::ALL);
        let b = Capabilities::new(BackendKind::new("b"));
        let t = markdown_table(&[&a, &b]);
        assert!(t.starts_with("| field | a | b |\n|---|---|---|\n"));
        assert!(t.contains("| `address.city` | read set clear | - |\n"));
        assert_eq!(t.lines().count(), Field::ALL.len() + 2);
    }

    /// A target shows and serializes as the field's name, or
    /// `"extensions"`, the names users saw before targets were split from
    /// fields.
    #[test]
    fn targets_are_named_like_fields() {
        for field in Field::ALL.iter().copied() {
            let t = Target::from(field);
            assert_eq!(t.to_string(), field.name());
            assert_eq!(t, Target::Field(field));
            assert_eq!(t, field);
            assert_eq!(serde_json::to_value(t).unwrap(), field.name());
        }
        assert_eq!(Target::Extensions.to_string(), "extensions");
        assert_eq!(
            serde_json::to_value(Target::Extensions).unwrap(),
            "extensions"
        );
    }

    /// Building capabilities is plain data: it registers no extension key
    /// (a key's being known must not depend on what was built first).
    #[test]
    fn building_capabilities_registers_no_extension_key() {
        let probe = BackendKind::new("capability-probe");
        let _ = Capabilities::new(probe).with(Field::City, FieldCaps::ALL);
        assert!(!crate::patch::known_extension_keys().contains(&probe.as_str()));
    }

    #[test]
    fn summary() {
        assert_eq!(FieldCaps::ALL.to_string(), "read set clear");
        assert_eq!(FieldCaps::READ.to_string(), "read");
        assert_eq!(FieldCaps::NONE.to_string(), "-");
    }
}
