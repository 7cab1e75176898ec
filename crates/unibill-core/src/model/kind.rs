//! Identifiers: which backend, which customer.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The name of a backend, such as `"chartmogul"`.
///
/// Core knows no vendor: each backend crate defines its own constant
/// (`unibill_fusebill::KIND`, ...). Errors, capabilities and extensions are
/// tagged with it so a caller can tell which vendor produced them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BackendKind(&'static str);

impl BackendKind {
    /// A backend kind with the given lower-case name.
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// The backend's name, e.g. `"fusebill"`.
    pub const fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A customer's identifier at the vendor (a ChartMogul `cus_...` UUID, a
/// Fusebill or Everlytic integer id), as text.
///
/// Any string is accepted here; each backend checks the form it needs
/// before the first request, and the transport percent-encodes the id into
/// the URL path so that no id can change the path it is placed in.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerId(String);

impl CustomerId {
    /// Wraps a vendor id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for CustomerId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for CustomerId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<u64> for CustomerId {
    fn from(n: u64) -> Self {
        Self(n.to_string())
    }
}
