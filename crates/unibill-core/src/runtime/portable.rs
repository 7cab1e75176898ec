//! Portable patches: what several backends can all do, and which parts of
//! a patch some of them could not apply, known before any request.
//!
//! Calling code that may be switched between backends by configuration
//! either sends only what every one of them can do, or opts into
//! [`UpdateOptions::ignore_unsupported`](crate::UpdateOptions::ignore_unsupported)
//! and reads what was skipped. [`Capabilities::common`] gives the first;
//! [`CustomerPatch::portability`] says, per backend, what the second would
//! skip (and what the default policy would refuse).
//!
//! ```
//! use unibill_core::{BackendKind, Capabilities, CustomerPatch, Error, Field, FieldCaps, Op};
//!
//! let a = Capabilities::new(BackendKind::new("a"))
//!     .with(Field::Email, FieldCaps::ALL)
//!     .with(Field::Phone, FieldCaps::ALL);
//! let b = Capabilities::new(BackendKind::new("b"))
//!     .with(Field::Email, FieldCaps::READ_SET);
//!
//! // What both can do: set (not clear) the email; nothing with the phone.
//! let common = Capabilities::common([&a, &b]);
//! assert_eq!(common.get(Field::Email), FieldCaps::READ_SET);
//! assert_eq!(common.get(Field::Phone), FieldCaps::NONE);
//!
//! // Before any request: `b` would refuse the phone.
//! let patch = CustomerPatch::new().email("ada@example.com").phone("+44 20 7946 0000");
//! let report = patch.portability([&a, &b]);
//! assert!(!report.is_portable());
//! assert!(report.refused(a.backend()).is_empty());
//! assert_eq!(report.refused(b.backend())[0].field, Field::Phone);
//! assert_eq!(report.to_string(), "b cannot set `phone`");
//!
//! // The same answer as a typed error: the one `update` on `b` returns.
//! match patch.check_portable([&a, &b]) {
//!     Err(Error::Unsupported { backend, field, op }) => {
//!         assert_eq!((backend, field, op), (b.backend(), Field::Phone.into(), Op::Set));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! assert!(CustomerPatch::new().email("ada@example.com").check_portable([&a, &b]).is_ok());
//! ```

use std::fmt;

use serde::Serialize;

use crate::capability::{Capabilities, FieldCaps};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::kind::BackendKind;
use crate::patch::CustomerPatch;
use crate::reference::LookupKind;
use crate::update::Ignored;

/// The backend name of [`Capabilities::common`]'s result. It names no
/// real backend and is not registered as an extension key.
pub(crate) const COMMON: BackendKind = BackendKind::new("common");

impl AsRef<Capabilities> for Capabilities {
    fn as_ref(&self) -> &Capabilities {
        self
    }
}

impl Capabilities {
    /// What every one of `backends` can do: per field, a read, set or
    /// clear is allowed only when each backend allows it. A patch that
    /// [`CheckedPatch::check`](crate::CheckedPatch::check) accepts for the
    /// result is accepted by each of them (as far as capabilities go:
    /// values are still validated, and extensions are never common; see
    /// [`CustomerPatch::portability`]).
    ///
    /// Takes `&[&Capabilities]`, `&[Capabilities]`, `Vec<Capabilities>`
    /// or any iterator of them. With no backends the result allows
    /// nothing. Its [`Capabilities::backend`] is `common`.
    ///
    /// ```
    /// use unibill_core::{BackendKind, Capabilities, Field, FieldCaps};
    /// let a = Capabilities::new(BackendKind::new("a")).with(Field::City, FieldCaps::ALL);
    /// let b = Capabilities::new(BackendKind::new("b")).with(Field::City, FieldCaps::READ);
    /// assert_eq!(Capabilities::common(&[&a, &b]).get(Field::City), FieldCaps::READ);
    /// assert_eq!(Capabilities::common(Vec::<Capabilities>::new()).get(Field::City), FieldCaps::NONE);
    /// ```
    pub fn common(backends: impl IntoIterator<Item = impl AsRef<Capabilities>>) -> Capabilities {
        let backends: Vec<_> = backends.into_iter().collect();
        let mut out = Capabilities::new(COMMON);
        if backends.is_empty() {
            return out;
        }
        for &lookup in LookupKind::ALL {
            if backends.iter().all(|caps| caps.as_ref().can_lookup(lookup)) {
                out = out.with_lookup(lookup);
            }
        }
        for &field in Field::ALL {
            let each = |op: fn(FieldCaps) -> bool| {
                backends.iter().all(|caps| op(caps.as_ref().get(field)))
            };
            let caps = FieldCaps {
                read: each(|caps| caps.read),
                set: each(|caps| caps.set),
                clear: each(|caps| caps.clear),
            };
            out = out.with(field, caps);
        }
        out
    }
}

impl CustomerPatch {
    /// Which parts of this patch each of `backends` could not apply,
    /// worked out before any request from their [`Capabilities`] alone.
    ///
    /// For each backend, the list is what [`crate::CheckedPatch::check`]
    /// (and so `update`, `update_with` and `dry_run`) decides: an update
    /// with the default policy fails with [`Error::Unsupported`] exactly
    /// when the backend's list is not empty (naming its first entry), and
    /// with [`UpdateOptions::ignore_unsupported`](crate::UpdateOptions::ignore_unsupported)
    /// the outcome's `ignored` is that list. Value checks are separate
    /// ([`CustomerPatch::validate`]): an invalid value or a misspelt
    /// extension key fails on every backend with
    /// [`Error::Validation`].
    ///
    /// See the [module documentation](crate::portable) for an example.
    pub fn portability(
        &self,
        backends: impl IntoIterator<Item = impl AsRef<Capabilities>>,
    ) -> Portability {
        Portability {
            backends: backends
                .into_iter()
                .map(|caps| {
                    let caps = caps.as_ref();
                    BackendPortability {
                        backend: caps.backend(),
                        refused: caps.unsupported_in(self),
                    }
                })
                .collect(),
        }
    }

    /// [`Self::portability`] as a `Result`: `Ok` when every backend can
    /// apply the whole patch, otherwise the [`Error::Unsupported`] that an
    /// update on the first backend (in the order given) that cannot would
    /// return, naming that backend, the field and the op.
    pub fn check_portable(
        &self,
        backends: impl IntoIterator<Item = impl AsRef<Capabilities>>,
    ) -> Result<()> {
        let report = self.portability(backends);
        let first = report
            .backends
            .iter()
            .find_map(|b| Some((b.backend, b.refused.first()?)));
        match first {
            Some((backend, &Ignored { field, op })) => {
                Err(Error::Unsupported { backend, field, op })
            }
            None => Ok(()),
        }
    }
}

/// What one backend would refuse of a patch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct BackendPortability {
    /// The backend.
    backend: BackendKind,
    /// The fields and ops it would refuse (or skip when told to), in the
    /// order its check meets them; empty when it can apply the patch.
    refused: Vec<Ignored>,
}

/// Per backend, the parts of a patch it could not apply: the answer of
/// [`CustomerPatch::portability`], known before any request.
///
/// `Display` reads `chartmogul cannot set `phone`; everlytic cannot set
/// `company`` (or `portable` when nothing is refused). It serialises as
/// `{"backends": [{"backend": "chartmogul", "refused": [...]}, ...]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Portability {
    backends: Vec<BackendPortability>,
}

impl Portability {
    /// Whether every backend can apply the whole patch.
    pub fn is_portable(&self) -> bool {
        self.backends.iter().all(|b| b.refused.is_empty())
    }

    /// What `backend` would refuse (empty when it can apply the whole
    /// patch, or was not asked about).
    pub fn refused(&self, backend: BackendKind) -> &[Ignored] {
        self.backends
            .iter()
            .find(|b| b.backend == backend)
            .map_or(&[], |b| b.refused.as_slice())
    }
}

impl fmt::Display for Portability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_portable() {
            return f.write_str("portable");
        }
        let refusals = self
            .backends
            .iter()
            .flat_map(|b| b.refused.iter().map(move |i| (b.backend, i)));
        for (n, (backend, i)) in refusals.enumerate() {
            let sep = if n == 0 { "" } else { "; " };
            write!(f, "{sep}{backend} cannot {} `{}`", i.op, i.field)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{Op, Target};
    use crate::{CheckedPatch, UpdateOptions};

    fn a() -> Capabilities {
        Capabilities::new(BackendKind::new("porta"))
            .with(Field::Email, FieldCaps::ALL)
            .with(Field::Phone, FieldCaps::READ_SET)
            .with(Field::Tags, FieldCaps::ALL)
    }

    fn b() -> Capabilities {
        Capabilities::new(BackendKind::new("portb"))
            .with(Field::Email, FieldCaps::READ_SET)
            .with(Field::City, FieldCaps::ALL)
            .with(Field::Tags, FieldCaps::READ_SET)
    }

    #[test]
    fn common_is_the_intersection_per_field_and_op() {
        let (a, b) = (a(), b());
        let c = Capabilities::common([&a, &b]);
        for f in Field::ALL {
            let (x, y, z) = (a.get(*f), b.get(*f), c.get(*f));
            assert_eq!(z.read, x.read && y.read, "{f}");
            assert_eq!(z.set, x.set && y.set, "{f}");
            assert_eq!(z.clear, x.clear && y.clear, "{f}");
        }
        assert_eq!(c.get(Field::Email), FieldCaps::READ_SET);
        assert_eq!(c.get(Field::Tags), FieldCaps::READ_SET);
        assert_eq!(c.get(Field::City), FieldCaps::NONE);
        assert_eq!(Capabilities::common([&a]), a.clone().renamed_for_test());
        assert_eq!(c.backend(), COMMON);
    }

    impl Capabilities {
        fn renamed_for_test(self) -> Capabilities {
            let mut out = Capabilities::new(COMMON);
            for (f, caps) in self.iter() {
                out = out.with(f, caps);
            }
            out
        }
    }

    #[test]
    fn common_registers_no_extension_key() {
        let _ = Capabilities::common([a(), b()]);
        assert!(!crate::patch::known_extension_keys().contains(&COMMON.as_str()));
    }

    #[test]
    fn portability_agrees_with_checked_patch_for_every_field_and_op() {
        let backends = [a(), b()];
        let mut cases = Vec::new();
        for f in Field::ALL {
            if f.is_writable() {
                cases.push(CustomerPatch::new().clear(*f));
                let set = match f.kind() {
                    crate::FieldKind::CustomAttributes => CustomerPatch::new().custom("k", 1),
                    crate::FieldKind::Tags => CustomerPatch::new().add_tag("t"),
                    crate::FieldKind::Text => CustomerPatch::new().set_text(*f, "x"),
                    _ => continue,
                };
                cases.push(set);
            }
        }
        cases.push(
            CustomerPatch::new()
                .remove_tag("t")
                .add_tag("u")
                .city("Paris"),
        );
        let mut refused = 0;
        for patch in &cases {
            let report = patch.portability(&backends);
            for caps in &backends {
                let listed = report.refused(caps.backend());
                match CheckedPatch::check(caps, patch, &UpdateOptions::default()) {
                    Err(Error::Unsupported { backend, field, op }) => {
                        assert_eq!(backend, caps.backend());
                        assert_eq!(listed.first(), Some(&Ignored { field, op }), "{patch:?}");
                        refused += 1;
                    }
                    _ => assert!(listed.is_empty(), "{patch:?}: {listed:?}"),
                }
                if let Ok(checked) =
                    CheckedPatch::check(caps, patch, &UpdateOptions::ignore_unsupported())
                {
                    assert_eq!(checked.ignored(), listed, "{patch:?}");
                }
            }
        }
        assert!(refused > 10, "only {refused} refusals exercised");
    }

    #[test]
    fn result_names_the_first_refusing_backend() {
        let patch = CustomerPatch::new().city("Paris").clear_phone();
        let report = patch.portability([a(), b()]);
        assert_eq!(
            report.to_string(),
            "porta cannot clear `phone`; porta cannot set `address.city`; portb cannot clear `phone`"
        );
        match patch.check_portable([a(), b()]) {
            Err(Error::Unsupported { backend, field, op }) => {
                assert_eq!(backend.as_str(), "porta");
                assert_eq!((field, op), (Field::Phone.into(), Op::Clear));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            CustomerPatch::new()
                .email("a@b.co")
                .portability([a(), b()])
                .to_string(),
            "portable"
        );
    }

    #[test]
    fn another_backends_extension_is_not_portable() {
        let (a, b) = (a(), b());
        crate::patch::register_extension_key(a.backend());
        #[derive(serde::Serialize, serde::Deserialize)]
        struct PortaExt {
            x: u32,
        }
        impl crate::PatchExtension for PortaExt {
            const KEY: &'static str = "porta";
        }
        let patch = CustomerPatch::new().extension(PortaExt { x: 1 });
        let report = patch.portability([&a, &b]);
        assert!(report.refused(a.backend()).is_empty());
        let extensions = [Ignored {
            field: Target::Extensions,
            op: Op::Set,
        }];
        assert_eq!(report.refused(b.backend()), extensions);
        match CheckedPatch::check(&b, &patch, &UpdateOptions::default()) {
            Err(Error::Unsupported { field, .. }) => assert_eq!(field, Target::Extensions),
            other => panic!("{other:?}"),
        }
    }
}
