//! What passes between the caller path and a backend: the checked patch a
//! backend accepts, the options of an update, and what an update or a dry
//! run returns.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::capability::{Capabilities, Op, Target};
use crate::customer::Customer;
use crate::error::Result;
use crate::patch::CustomerPatch;
use crate::reference::CustomerRef;

/// What to do with parts of a patch the backend cannot honour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsupportedPolicy {
    /// Refuse the whole patch with
    /// [`Error::Unsupported`](crate::Error::Unsupported) (the default).
    #[default]
    Fail,
    /// Drop those parts, apply the rest, and list what was dropped in
    /// [`UpdateOutcome::ignored`].
    Ignore,
}

/// Options for [`CustomerUpdater::update_with`](crate::CustomerUpdater::update_with).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateOptions {
    /// What to do with unsupported fields.
    pub unsupported: UnsupportedPolicy,
}

impl UpdateOptions {
    /// Options that ignore unsupported fields instead of failing.
    pub fn ignore_unsupported() -> Self {
        Self {
            unsupported: UnsupportedPolicy::Ignore,
        }
    }
}

/// A change that was left out because the backend cannot do it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// The field, or another backend's extension.
    pub field: Target,
    /// Set or clear.
    pub op: Op,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op, self.field)
    }
}

/// A patch that passed validation and the backend's capability check: the
/// only form a backend's [`Backend::apply`](crate::Backend::apply) accepts, so no backend
/// can skip the checks.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedPatch {
    patch: CustomerPatch,
    ignored: Vec<Ignored>,
    resolved_from: Option<CustomerRef>,
}

impl CheckedPatch {
    /// Checks `patch` against `caps` (refusing or dropping what the
    /// backend cannot do, per `options`), then validates what remains.
    pub fn check(
        caps: &Capabilities,
        patch: &CustomerPatch,
        options: &UpdateOptions,
    ) -> Result<Self> {
        // One list of what this backend refuses, the one the portability
        // check gives: fields first, then another known backend's
        // extension, which comes after a misspelt extension key (below).
        let ignored = caps.unsupported_in(patch);
        let fail = options.unsupported == UnsupportedPolicy::Fail;
        let refuse = |i: &Ignored| crate::Error::Unsupported {
            backend: caps.backend(),
            field: i.field,
            op: i.op,
        };
        if let Some(first) = ignored
            .first()
            .filter(|i| fail && i.field != Target::Extensions)
        {
            return Err(refuse(first));
        }
        let own = caps.backend().as_str();
        let foreign: Vec<&str> = patch.extensions.keys().filter(|k| *k != own).collect();
        if !foreign.is_empty() {
            // The backend's own key is always known.
            let mut known = crate::patch::known_extension_keys();
            if let Err(at) = known.binary_search(&own) {
                known.insert(at, own);
            }
            if let Some(key) = foreign.iter().find(|k| !known.contains(k)) {
                return Err(crate::Error::validation(
                    format!("extensions.{}", crate::error::clip(key)),
                    format!(
                        "unknown extension `{}`: the known backends are {}",
                        crate::error::clip(key),
                        known.join(", ")
                    ),
                ));
            }
        }
        if let Some(first) = ignored.first().filter(|_| fail) {
            return Err(refuse(first));
        }
        let mut effective = ignored.iter().fold(patch.clone(), |p, i| match i.field {
            Target::Field(f) => p.without(f, i.op),
            Target::Extensions => p,
        });
        for key in foreign {
            effective.extensions.remove(key);
        }
        effective.validate()?;
        Ok(Self {
            patch: effective,
            ignored,
            resolved_from: None,
        })
    }

    /// The email or external reference the customer of this update was
    /// looked up by, when it was named so (`None` for an update by id).
    /// A backend whose update reads the customer before writing checks
    /// that the record it last read still matches it, and otherwise writes
    /// nothing and fails with [`Error::Conflict`](crate::Error::Conflict): the reference may have
    /// moved to another customer since it was resolved.
    pub fn resolved_from(&self) -> Option<&CustomerRef> {
        self.resolved_from.as_ref()
    }

    /// The same patch, for a customer found by `reference`
    /// ([`Self::resolved_from`]); set only by the caller path.
    pub(crate) fn with_resolved_from(mut self, reference: CustomerRef) -> Self {
        self.resolved_from = Some(reference);
        self
    }

    /// What was dropped (the caller path copies it into the outcome).
    pub(crate) fn ignored(&self) -> &[Ignored] {
        &self.ignored
    }
}

/// The patch to apply.
impl std::ops::Deref for CheckedPatch {
    type Target = CustomerPatch;
    fn deref(&self) -> &CustomerPatch {
        &self.patch
    }
}

/// One vendor request, as sent or as a dry run would send it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedRequest {
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// JSON body, if any.
    pub body: Option<Value>,
}

impl PlannedRequest {
    /// A request description.
    pub fn new(method: impl Into<String>, url: impl Into<String>, body: Option<Value>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            body,
        }
    }
}

impl fmt::Display for PlannedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)?;
        if let Some(b) = &self.body {
            write!(f, " {b}")?;
        }
        Ok(())
    }
}

/// The result of an update.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct UpdateOutcome {
    /// The customer as the vendor holds it afterwards.
    pub customer: Customer,
    /// The write requests that were sent, in order (empty: the patch
    /// changed nothing and no write was sent).
    pub writes: Vec<PlannedRequest>,
    /// Changes left out under [`UnsupportedPolicy::Ignore`].
    pub ignored: Vec<Ignored>,
    /// When the update went through a mirror (`unibill-migrate`'s
    /// `Mirror`): the same patch at each secondary backend, one result
    /// each, in order. Empty otherwise.
    pub mirrored: Vec<Mirrored>,
}

/// The same update at a secondary backend of a mirror: what it did, or
/// why it failed (drift to repair: the primary's write stands).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Mirrored {
    /// The secondary backend.
    pub backend: crate::kind::BackendKind,
    /// Its outcome, or its error (shared, so that the outcome stays
    /// `Clone`).
    pub result: Result<UpdateOutcome, std::sync::Arc<crate::Error>>,
}

impl Mirrored {
    /// The result of the update at `backend`.
    pub fn new(backend: crate::kind::BackendKind, result: crate::Result<UpdateOutcome>) -> Self {
        Self {
            backend,
            result: result.map_err(std::sync::Arc::new),
        }
    }
}

/// Equal when the backends are, and both succeeded with equal outcomes or
/// both failed with the same error text.
impl PartialEq for Mirrored {
    fn eq(&self, other: &Self) -> bool {
        self.backend == other.backend
            && match (&self.result, &other.result) {
                (Ok(a), Ok(b)) => a == b,
                (Err(a), Err(b)) => a.to_string() == b.to_string(),
                _ => false,
            }
    }
}

impl UpdateOutcome {
    /// An outcome with no ignored changes.
    pub fn new(customer: Customer, writes: Vec<PlannedRequest>) -> Self {
        Self {
            customer,
            writes,
            ignored: Vec::new(),
            mirrored: Vec::new(),
        }
    }

    /// Whether any write was sent.
    pub fn changed(&self) -> bool {
        !self.writes.is_empty()
    }
}

/// What an update would send, computed without writing anything.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct DryRun {
    /// The write requests an update would send now, in order.
    pub writes: Vec<PlannedRequest>,
    /// Changes that would be left out under [`UnsupportedPolicy::Ignore`].
    pub ignored: Vec<Ignored>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::BackendKind;
    use serde_json::json;

    /// A misspelt extension key is reported as such whatever other keys
    /// the patch holds: a known foreign key sorting before it must not
    /// turn the answer into "unsupported" (or, when ignoring, drop it).
    #[test]
    fn an_unknown_extension_key_is_reported_before_a_known_foreign_one() {
        crate::patch::register_extension_key(BackendKind::new("alpha-known"));
        let caps = Capabilities::new(BackendKind::new("own"));
        let patch: CustomerPatch = serde_json::from_value(json!({
            "extensions": {"alpha-known": {}, "beta-misspelt": {}}
        }))
        .unwrap();
        for options in [
            UpdateOptions::default(),
            UpdateOptions::ignore_unsupported(),
        ] {
            match CheckedPatch::check(&caps, &patch, &options) {
                Err(crate::Error::Validation { field, reason }) => {
                    assert_eq!(field, "extensions.beta-misspelt");
                    assert!(reason.contains("alpha-known"), "{reason}");
                }
                other => panic!("{options:?}: {other:?}"),
            }
        }
    }
}
