//! Customer references as the command line takes them.
//!
//! Today a reference is the vendor's customer id. The type is its own so
//! that other kinds (an email, the caller's external reference) can be
//! added here, resolved to an id before the update, without touching the
//! commands.

use unibill::{CustomerId, CustomerUpdater, Error, Result};

/// A customer named on the command line or in an input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerRef {
    /// The vendor's own customer id.
    Id(CustomerId),
}

impl CustomerRef {
    /// Reads a reference; an empty one is a validation error on `id`.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::validation("id", "is empty"));
        }
        Ok(CustomerRef::Id(CustomerId::from(text)))
    }

    /// The id the vendor knows this customer by.
    pub async fn resolve(&self, _updater: &dyn CustomerUpdater) -> Result<CustomerId> {
        match self {
            CustomerRef::Id(id) => Ok(id.clone()),
        }
    }

    /// The id, when the reference needs no lookup (bulk runs take only
    /// these for now).
    pub fn as_id(&self) -> Option<&CustomerId> {
        match self {
            CustomerRef::Id(id) => Some(id),
        }
    }
}

impl std::fmt::Display for CustomerRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CustomerRef::Id(id) => write!(f, "{id}"),
        }
    }
}
