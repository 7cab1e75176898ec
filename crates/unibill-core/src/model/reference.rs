//! Naming a customer without its vendor id: [`CustomerRef`] (an id, an
//! email, or the caller's own reference) and what a backend can look up
//! ([`LookupKind`]).
//!
//! Every call that takes a customer ([`CustomerUpdater::get`],
//! [`CustomerUpdater::update`], [`CustomerUpdater::dry_run`], bulk items)
//! takes a `&dyn AsCustomerRef`, so a [`CustomerId`] and a [`CustomerRef`]
//! are both accepted:
//!
//! ```no_run
//! # async fn demo(updater: &dyn unibill_core::CustomerUpdater) -> unibill_core::Result<()> {
//! use unibill_core::{CustomerId, CustomerPatch, CustomerRef};
//! let patch = CustomerPatch::new().city("Paris");
//! updater.update(&CustomerId::new("cus_1"), &patch).await?;
//! updater.update(&CustomerRef::email("ops@acme.example"), &patch).await?;
//! updater.update(&CustomerRef::external("ACME-42"), &patch).await?;
//! # Ok(()) }
//! ```
//!
//! [`CustomerUpdater::get`]: crate::CustomerUpdater::get
//! [`CustomerUpdater::update`]: crate::CustomerUpdater::update
//! [`CustomerUpdater::dry_run`]: crate::CustomerUpdater::dry_run

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Result;
use crate::kind::CustomerId;

/// The most matches one lookup keeps. A lookup that finds more stops
/// reading the vendor's pages after the page that went past it and fails
/// with [`Error::Ambiguous`](crate::Error::Ambiguous) carrying the first `MAX_MATCHES` ids and the
/// count (never a list silently cut short): a reference meant to name one
/// customer that names a thousand is a mistake, and reading on would only
/// spend the vendor's request budget and memory.
pub const MAX_MATCHES: usize = 1000;

/// A way to name one customer at a vendor.
///
/// `Id` names it directly; `Email` and `External` are looked up with the
/// vendor's own search ([`crate::CustomerUpdater::find`]), and must match
/// exactly one customer to be updated: several matches give
/// [`Error::Ambiguous`](crate::Error::Ambiguous), none
/// [`Error::NotFound`](crate::Error::NotFound).
///
/// In JSON (bulk input) a plain string or number is an id; an object with
/// one key `id`, `email` or `external` names the kind:
///
/// ```
/// use unibill_core::CustomerRef;
/// let r: CustomerRef = serde_json::from_str(r#"{"email":"a@b.example"}"#).unwrap();
/// assert_eq!(r, CustomerRef::email("a@b.example"));
/// let r: CustomerRef = serde_json::from_str(r#""cus_1""#).unwrap();
/// assert_eq!(r, CustomerRef::id("cus_1"));
/// assert_eq!(serde_json::to_string(&CustomerRef::external("X-1")).unwrap(), r#"{"external":"X-1"}"#);
/// assert_eq!(CustomerRef::email("a@b.example").to_string(), "email a@b.example");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CustomerRef {
    /// The vendor's own id.
    Id(CustomerId),
    /// The customer's (primary) email address, compared ignoring ASCII case.
    Email(String),
    /// The caller's own reference for the customer: ChartMogul's
    /// `external_id`, Fusebill's `reference`.
    External(String),
}

impl CustomerRef {
    /// A reference by the vendor's id.
    pub fn id(id: impl Into<CustomerId>) -> Self {
        CustomerRef::Id(id.into())
    }

    /// A reference by email address.
    pub fn email(email: impl Into<String>) -> Self {
        CustomerRef::Email(email.into())
    }

    /// A reference by the caller's own reference (external id).
    pub fn external(reference: impl Into<String>) -> Self {
        CustomerRef::External(reference.into())
    }

    /// The referenced value as text (the id, the email or the reference).
    pub fn as_str(&self) -> &str {
        match self {
            CustomerRef::Id(id) => id.as_str(),
            CustomerRef::Email(s) | CustomerRef::External(s) => s,
        }
    }

    /// The lookup this reference needs, or `None` for an id.
    pub fn lookup_kind(&self) -> Option<LookupKind> {
        match self {
            CustomerRef::Id(_) => None,
            CustomerRef::Email(_) => Some(LookupKind::Email),
            CustomerRef::External(_) => Some(LookupKind::External),
        }
    }
}

impl fmt::Display for CustomerRef {
    /// An id as it is; otherwise `email …` / `external reference …`.
    /// Control and invisible characters are escaped and the value is cut
    /// after [`crate::error::MAX_EXCERPT_CHARS`] characters, as ids are in
    /// errors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomerRef::Id(_) => {}
            CustomerRef::Email(_) => f.write_str("email ")?,
            CustomerRef::External(_) => f.write_str("external reference ")?,
        }
        fmt::Display::fmt(&crate::error::shown_id(self.as_str()), f)
    }
}

impl From<CustomerId> for CustomerRef {
    fn from(id: CustomerId) -> Self {
        CustomerRef::Id(id)
    }
}

impl PartialEq<CustomerId> for CustomerRef {
    fn eq(&self, other: &CustomerId) -> bool {
        matches!(self, CustomerRef::Id(id) if id == other)
    }
}

impl Serialize for CustomerRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (key, value) = match self {
            CustomerRef::Id(id) => return s.serialize_str(id.as_str()),
            CustomerRef::Email(e) => ("email", e),
            CustomerRef::External(r) => ("external", r),
        };
        s.collect_map([(key, value)])
    }
}

impl<'de> Deserialize<'de> for CustomerRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// An id: text, or a number (vendors' integer ids).
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum IdText {
            Text(String),
            Number(u64),
        }
        /// An object with exactly one key (serde's external tagging).
        #[derive(Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Tagged {
            Id(IdText),
            Email(String),
            External(String),
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Plain(IdText),
            Tagged(Tagged),
        }
        let repr = Repr::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "a customer reference is an id (string or number) or an object with exactly one of `id`, `email`, `external`",
            )
        })?;
        Ok(match repr {
            Repr::Plain(id) | Repr::Tagged(Tagged::Id(id)) => CustomerRef::Id(match id {
                IdText::Text(s) => CustomerId::new(s),
                IdText::Number(n) => CustomerId::from(n),
            }),
            Repr::Tagged(Tagged::Email(e)) => CustomerRef::Email(e),
            Repr::Tagged(Tagged::External(r)) => CustomerRef::External(r),
        })
    }
}

/// Anything that names a customer: a [`CustomerId`] or a [`CustomerRef`]
/// (or a reference to either). The customer-taking methods of
/// [`crate::CustomerUpdater`] take `&dyn AsCustomerRef`, so existing calls
/// with `&CustomerId` keep working.
pub trait AsCustomerRef: Send + Sync {
    /// The customer reference.
    fn customer_ref(&self) -> Cow<'_, CustomerRef>;
}

impl AsCustomerRef for CustomerRef {
    fn customer_ref(&self) -> Cow<'_, CustomerRef> {
        Cow::Borrowed(self)
    }
}

impl AsCustomerRef for CustomerId {
    fn customer_ref(&self) -> Cow<'_, CustomerRef> {
        Cow::Owned(CustomerRef::Id(self.clone()))
    }
}

impl<T: AsCustomerRef + ?Sized> AsCustomerRef for &T {
    fn customer_ref(&self) -> Cow<'_, CustomerRef> {
        (**self).customer_ref()
    }
}

/// A kind of lookup a backend may offer (see
/// [`crate::Capabilities::can_lookup`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LookupKind {
    /// By email address ([`CustomerRef::Email`]).
    Email,
    /// By the caller's own reference ([`CustomerRef::External`]).
    External,
}

impl LookupKind {
    /// Every lookup kind.
    pub const ALL: &'static [LookupKind] = &[LookupKind::Email, LookupKind::External];

    /// The field an [`Error::Validation`](crate::Error::Validation) about
    /// such a value names: `"email"` or `"external"`.
    pub fn field(&self) -> &'static str {
        match self {
            LookupKind::Email => "email",
            LookupKind::External => "external",
        }
    }

    /// The reference of this kind for `value` ([`CustomerRef::Email`] or
    /// [`CustomerRef::External`]).
    pub fn reference(&self, value: &str) -> CustomerRef {
        match self {
            LookupKind::Email => CustomerRef::email(value),
            LookupKind::External => CustomerRef::external(value),
        }
    }
}

impl fmt::Display for LookupKind {
    /// `email` or `external reference`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LookupKind::Email => "email",
            LookupKind::External => "external reference",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms() {
        let parse = |s: &str| serde_json::from_str::<CustomerRef>(s);
        assert_eq!(parse("12000750").unwrap(), CustomerRef::id("12000750"));
        assert_eq!(parse(r#"{"id":7}"#).unwrap(), CustomerRef::id("7"));
        assert_eq!(
            parse(r#"{"external":"A-1"}"#).unwrap(),
            CustomerRef::external("A-1")
        );
        assert!(parse(r#"{"email":"a","external":"b"}"#).is_err());
        assert!(parse(r#"{"name":"a"}"#).is_err());
        assert!(parse("{}").is_err());
        assert!(parse("[1]").is_err());
        for r in [
            CustomerRef::id("cus_1"),
            CustomerRef::email("a@b.example"),
            CustomerRef::external("X"),
        ] {
            let text = serde_json::to_string(&r).unwrap();
            assert_eq!(parse(&text).unwrap(), r, "{text}");
        }
    }

    #[test]
    fn display_escapes_and_caps() {
        let r = CustomerRef::email("a\u{1b}[31m@b\n");
        assert_eq!(r.to_string(), "email a\\u{1b}[31m@b\\u{a}");
        let long = CustomerRef::external("x".repeat(10_000)).to_string();
        assert!(long.chars().count() < 400, "{}", long.len());
        assert!(long.ends_with('…'));
        assert_eq!(CustomerRef::id("cus_1").to_string(), "cus_1");
    }

    #[test]
    fn ids_and_refs_are_customer_refs() {
        let id = CustomerId::new("7");
        let dyn_ref: &dyn AsCustomerRef = &id;
        assert_eq!(*dyn_ref.customer_ref(), CustomerRef::id("7"));
        let by_ref = &&id;
        assert_eq!(*by_ref.customer_ref(), id);
        assert_eq!(CustomerRef::from(id.clone()), id);
        assert_ne!(CustomerRef::email("7"), id);
    }
}
