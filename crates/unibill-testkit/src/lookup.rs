//! One lookup suite, run by every backend's `tests/lookup.rs` on the
//! sandbox: how an update, a read and a dry run find the customer named by
//! an email or an external reference (the requests sent, read in the
//! vendor's journal), which customer is written, and the typed errors for
//! ambiguous, missing, malformed and undeclared lookups.
//!
//! A backend describes itself once, as a [`LookupFixture`] (its sandbox
//! vendor, a client, the lookup seeds, and for the lookups it offers a
//! [`Search`]), and runs [`run`] with a function that makes a fresh
//! fixture; each case starts from a fresh one. Cases only one vendor has
//! (ChartMogul's case-insensitive emails, Fusebill's several addresses in
//! one field, ...) stay beside the call in that backend's file.

use std::future::Future;

use unibill_core::{
    Customer, CustomerId, CustomerPatch, CustomerRef, CustomerUpdater, Error, ErrorKind, Field,
    FieldValue, LookupKind, UpdateOptions,
};
use unibill_sandbox::{RequestMatcher, Sandbox, VendorHandle};

use crate::calls;

/// One backend on a fresh sandbox, seeded with the vendor's lookup seeds
/// (`add_lookup_seeds`).
pub struct LookupFixture {
    /// The sandbox (kept alive for the case).
    pub sandbox: Sandbox,
    /// This backend's vendor in `sandbox`.
    pub vendor: fn(&Sandbox) -> &VendorHandle,
    /// A client of that vendor.
    pub updater: Box<dyn CustomerUpdater>,
    /// The customer that alone has [`Self::email`] and [`Self::external`].
    pub id: &'static str,
    /// The unique seed's email.
    pub email: &'static str,
    /// The unique seed's external reference.
    pub external: &'static str,
    /// How the vendor searches, when it can.
    pub search: Option<Search>,
}

/// What the suite needs to know of a vendor that offers both lookups.
pub struct Search {
    /// The request a lookup of `value` by `kind` sends first.
    pub request: fn(LookupKind, &str) -> (String, String),
    /// Gives `to` the `kind` value `value` and `from` another one, in the
    /// vendor's own record.
    pub move_value: fn(&VendorHandle, LookupKind, &str, &str, &str),
    /// An email shared by several customers, and their ids in the vendor's
    /// order.
    pub shared_email: (&'static str, &'static [&'static str]),
    /// An external reference shared by several customers, and their ids.
    pub shared_external: (&'static str, &'static [&'static str]),
    /// Another customer (for a reference that moves to it).
    pub other_id: &'static str,
    /// Values the vendor's search cannot express, with the field
    /// [`Error::Validation`] names.
    pub refused: Vec<(CustomerRef, &'static str)>,
    /// A text field the backend can set, and reads back.
    pub field: Field,
}

impl LookupFixture {
    fn vendor(&self) -> &VendorHandle {
        (self.vendor)(&self.sandbox)
    }

    fn search(&self) -> &Search {
        self.search.as_ref().expect("a backend that can look up")
    }

    fn reference(&self, kind: LookupKind) -> CustomerRef {
        match kind {
            LookupKind::Email => kind.reference(self.email),
            _ => kind.reference(self.external),
        }
    }

    fn writes(&self) -> usize {
        self.vendor()
            .journal()
            .iter()
            .filter(|e| e.is_write())
            .count()
    }

    async fn text(&self, id: &str) -> Option<String> {
        let c: Customer = self.updater.get(&CustomerId::new(id)).await.unwrap();
        match c.get(self.search().field) {
            Some(FieldValue::Text(t)) => Some(t.to_owned()),
            _ => None,
        }
    }
}

fn patch(fixture: &LookupFixture, value: &str) -> CustomerPatch {
    CustomerPatch::new().set_text(fixture.search().field, value)
}

/// Runs every case on fresh fixtures made by `make`: the supported cases
/// for each lookup the backend declares, the refusal for each it does not.
pub async fn run<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = LookupFixture>,
{
    for kind in LookupKind::ALL {
        let declared = make().await.updater.capabilities().can_lookup(*kind);
        if !declared {
            undeclared_lookups_are_refused_before_any_request(make().await, *kind).await;
            continue;
        }
        update_looks_up_twice_then_writes_what_the_same_update_by_id_writes(
            make().await,
            make().await,
            *kind,
        )
        .await;
        a_shared_value_is_ambiguous_and_nothing_is_written(make().await, *kind).await;
        no_match_is_not_found_naming_the_reference_with_nothing_written(make().await, *kind).await;
        get_and_dry_run_look_up_once_and_never_write(make().await, *kind).await;
        a_match_that_moves_before_the_lock_is_resolved_again(make().await, *kind).await;
    }
    an_id_needs_no_lookup(make().await).await;
    if make().await.search.is_some() {
        values_the_search_cannot_express_are_refused_before_any_request(make().await).await;
    }
}

/// An update by reference: the lookup, the confirming lookup under the
/// lock, then exactly the requests of the same update by id (made on
/// `by_id`, a second fresh fixture); the customer found is written.
pub async fn update_looks_up_twice_then_writes_what_the_same_update_by_id_writes(
    f: LookupFixture,
    by_id: LookupFixture,
    kind: LookupKind,
) {
    let patch = patch(&f, "Twin Peaks");
    let got = f.updater.update(&f.reference(kind), &patch).await.unwrap();
    assert_eq!(got.id.as_str(), f.id, "{kind}");
    by_id
        .updater
        .update(&CustomerId::new(f.id), &patch)
        .await
        .unwrap();
    let value = f.reference(kind);
    let lookup = (f.search().request)(kind, value.as_str());
    let mut want = vec![lookup.clone(), lookup];
    want.extend(calls(by_id.vendor()));
    assert_eq!(calls(f.vendor()), want, "{kind}");
    assert_eq!(f.writes(), by_id.writes(), "{kind}");
    assert_eq!(f.text(f.id).await.as_deref(), Some("Twin Peaks"), "{kind}");
    let other = f.search().other_id;
    assert_ne!(f.text(other).await.as_deref(), Some("Twin Peaks"), "{kind}");
}

/// A value several customers share: [`Error::Ambiguous`] with the
/// reference and every match in the vendor's order, after one lookup and
/// no write; `find` lists the same matches.
pub async fn a_shared_value_is_ambiguous_and_nothing_is_written(
    f: LookupFixture,
    kind: LookupKind,
) {
    let (reference, ids) = match kind {
        LookupKind::Email => {
            let (v, ids) = f.search().shared_email;
            (CustomerRef::email(v), ids)
        }
        _ => {
            let (v, ids) = f.search().shared_external;
            (CustomerRef::external(v), ids)
        }
    };
    let want: Vec<CustomerId> = ids.iter().map(|i| CustomerId::new(*i)).collect();
    let e = f
        .updater
        .update(&reference, &patch(&f, "Nowhere"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Ambiguous, "{e}");
    assert!(!e.is_retryable());
    match &e {
        Error::Ambiguous {
            reference: r,
            matches,
            ..
        } => {
            assert_eq!(r, &reference);
            assert_eq!(matches, &want);
        }
        other => panic!("{other:?}"),
    }
    let shown = e.to_string();
    assert!(ids.iter().all(|id| shown.contains(id)), "{shown}");
    assert_eq!(f.vendor().journal().len(), 1, "{:?}", calls(f.vendor()));
    assert_eq!(f.writes(), 0);
    assert_eq!(f.updater.find(&reference).await.unwrap(), want);
    for id in ids {
        assert_ne!(f.text(id).await.as_deref(), Some("Nowhere"));
    }
}

/// A value nobody has: [`Error::NotFound`] naming the reference, after one
/// lookup, for an update and a read; `find` answers no ids.
pub async fn no_match_is_not_found_naming_the_reference_with_nothing_written(
    f: LookupFixture,
    kind: LookupKind,
) {
    let reference = match kind {
        LookupKind::Email => CustomerRef::email("nobody@nowhere.example.com"),
        _ => CustomerRef::external("NO-SUCH-REF"),
    };
    let e = f
        .updater
        .update(&reference, &patch(&f, "X"))
        .await
        .unwrap_err();
    match &e {
        Error::NotFound { id, .. } => assert_eq!(id, &reference.to_string()),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains(reference.as_str()), "{e}");
    assert_eq!(f.vendor().journal().len(), 1);
    let e = f.updater.get(&reference).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(f.vendor().journal().len(), 2);
    assert_eq!(f.writes(), 0);
    assert!(f.updater.find(&reference).await.unwrap().is_empty());
}

/// A read by reference looks up once, then sends what the read by id
/// sends; a dry run looks up once, writes nothing, and plans what the dry
/// run by id plans.
pub async fn get_and_dry_run_look_up_once_and_never_write(f: LookupFixture, kind: LookupKind) {
    let reference = f.reference(kind);
    let by_id = CustomerId::new(f.id);
    let lookup = (f.search().request)(kind, reference.as_str());
    let c = f.updater.get(&reference).await.unwrap();
    assert_eq!(c.id.as_str(), f.id);
    let sent = calls(f.vendor());
    f.vendor().clear_journal();
    f.updater.get(&by_id).await.unwrap();
    let mut want = vec![lookup.clone()];
    want.extend(calls(f.vendor()));
    assert_eq!(sent, want, "{kind}");

    let options = &UpdateOptions::default();
    let dry = |customer: CustomerRef| {
        let patch = patch(&f, "Dry");
        let u = &f.updater;
        async move { u.dry_run(&customer, &patch, options).await.unwrap() }
    };
    f.vendor().clear_journal();
    let planned = dry(reference.clone()).await;
    let sent = calls(f.vendor());
    f.vendor().clear_journal();
    let planned_by_id = dry(CustomerRef::Id(by_id)).await;
    let mut want = vec![lookup];
    want.extend(calls(f.vendor()));
    assert_eq!(sent, want, "{kind}");
    assert!(!planned.writes.is_empty());
    assert_eq!(planned, planned_by_id, "{kind}");
    assert_eq!(f.writes(), 0);
}

/// The value moves to another customer between the lookup and the
/// confirming lookup under the lock: the first match is not written; the
/// reference is resolved again (four lookups in all) and the customer that
/// has the value now is written.
pub async fn a_match_that_moves_before_the_lock_is_resolved_again(
    f: LookupFixture,
    kind: LookupKind,
) {
    let reference = f.reference(kind);
    let lookup = (f.search().request)(kind, reference.as_str());
    let (moved, id, other) = (f.search().move_value, f.id, f.search().other_id);
    let value = reference.as_str().to_owned();
    // The update's first request is the lookup.
    let path = lookup.1.split('?').next().unwrap_or_default();
    f.vendor()
        .on_next_request(RequestMatcher::new("GET", path), move |h| {
            moved(h, kind, &value, id, other)
        });
    let got = f
        .updater
        .update(&reference, &patch(&f, "Moved"))
        .await
        .unwrap();
    assert_eq!(got.id.as_str(), other, "{kind}: {:?}", calls(f.vendor()));
    let sent = calls(f.vendor());
    assert_eq!(sent[..4], vec![lookup.clone(); 4][..], "{sent:?}");
    assert!(sent[4..].iter().all(|c| c != &lookup), "{sent:?}");
    assert_eq!(f.writes(), 1);
    assert_eq!(f.text(other).await.as_deref(), Some("Moved"));
    assert_ne!(f.text(id).await.as_deref(), Some("Moved"));
}

/// An id names itself: no lookup is sent.
pub async fn an_id_needs_no_lookup(f: LookupFixture) {
    let id = CustomerRef::id(f.id);
    assert_eq!(f.updater.resolve(&id).await.unwrap(), CustomerId::new(f.id));
    assert!(f.vendor().journal().is_empty());
    let c = f.updater.get(&id).await.unwrap();
    assert_eq!(c.id, CustomerId::new(f.id));
    assert_eq!(f.vendor().journal().len(), 1);
}

/// Blank values, and values the vendor's search cannot express, are
/// [`Error::Validation`] naming the field, before any request.
pub async fn values_the_search_cannot_express_are_refused_before_any_request(f: LookupFixture) {
    let blank = [
        (CustomerRef::email("  "), "email"),
        (CustomerRef::external(""), "external"),
    ];
    for (reference, field) in blank.iter().chain(&f.search().refused) {
        match f.updater.find(reference).await.unwrap_err() {
            Error::Validation { field: got, .. } => assert_eq!(&got, field, "{reference}"),
            other => panic!("{reference}: {other:?}"),
        }
    }
    assert!(f.vendor().journal().is_empty());
}

/// A lookup the backend does not declare: every call naming a customer by
/// it ([`CustomerUpdater::find`], `resolve`, `get`, `update`, `dry_run`)
/// is [`Error::UnsupportedLookup`], before any request.
pub async fn undeclared_lookups_are_refused_before_any_request(f: LookupFixture, kind: LookupKind) {
    let backend = f.updater.kind();
    let reference = f.reference(kind);
    let patch = CustomerPatch::new().phone("+27 21 555 0100");
    let u = &f.updater;
    let errors = [
        u.find(&reference).await.unwrap_err(),
        u.resolve(&reference).await.unwrap_err(),
        u.get(&reference).await.unwrap_err(),
        u.update(&reference, &patch).await.unwrap_err(),
        u.dry_run(&reference, &patch, &UpdateOptions::default())
            .await
            .unwrap_err(),
    ];
    for e in errors {
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        match &e {
            Error::UnsupportedLookup { backend: b, lookup } => {
                assert_eq!((*b, *lookup), (backend, kind))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            e.to_string(),
            format!("{backend} cannot look up customers by {kind}")
        );
    }
    assert!(f.vendor().journal().is_empty());
}
