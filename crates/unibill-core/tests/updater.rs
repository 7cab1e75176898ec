//! The trait's provided methods: checks before any backend call, ignore
//! mode, object safety.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use unibill_core::lock::AccountId;
use unibill_core::{
    async_trait, BackendKind, Capabilities, Change, CheckedPatch, Customer, CustomerId,
    CustomerLocks, CustomerPatch, CustomerUpdater, Error, Field, FieldCaps, Ignored, LockGuard, Op,
    PlannedRequest, Result, Target, UpdateOptions, UpdateOutcome,
};

const KIND: BackendKind = BackendKind::new("memory");

/// The process-wide in-memory write locks, as every real backend has.
fn locks() -> CustomerLocks {
    CustomerLocks::in_process(KIND, AccountId::of("memory://", b""))
}

/// Counts calls that reach the backend hooks.
#[derive(Debug)]
struct Counting {
    caps: Capabilities,
    locks: CustomerLocks,
    applied: AtomicUsize,
}

impl Counting {
    fn new() -> Self {
        Self {
            caps: Capabilities::new(KIND)
                .with(Field::City, FieldCaps::ALL)
                .with(Field::Email, FieldCaps::READ_SET)
                .with(Field::Mrr, FieldCaps::READ),
            locks: locks(),
            applied: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl CustomerUpdater for Counting {
    fn kind(&self) -> BackendKind {
        KIND
    }
    fn locks(&self) -> &CustomerLocks {
        &self.locks
    }
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
    async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
        Ok(Customer::new(id.clone(), serde_json::json!({})))
    }
    async fn apply(
        &self,
        id: &CustomerId,
        patch: &CheckedPatch,
        _lock: &LockGuard,
    ) -> Result<UpdateOutcome> {
        self.applied.fetch_add(1, Ordering::SeqCst);
        let mut c = Customer::new(id.clone(), serde_json::json!({}));
        c.address.city = patch.address.city.as_set().cloned();
        Ok(UpdateOutcome::new(
            c,
            vec![PlannedRequest::new("PUT", "memory://x", None)],
        ))
    }
    async fn plan(&self, _id: &CustomerId, _patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        Ok(vec![PlannedRequest::new("PUT", "memory://x", None)])
    }
}

#[tokio::test]
async fn unsupported_field_refused_before_the_backend_is_called() {
    let b = Counting::new();
    let id = CustomerId::from("1");
    let err = b
        .update(&id, &CustomerPatch::new().city("Paris").add_tag("vip"))
        .await
        .unwrap_err();
    match err {
        Error::Unsupported { backend, field, op } => {
            assert_eq!((backend, field, op), (KIND, Field::Tags.into(), Op::Set));
        }
        other => panic!("{other:?}"),
    }
    let err = b
        .update(&id, &CustomerPatch::new().clear_email())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                field: Target::Field(Field::Email),
                op: Op::Clear,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(b.applied.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn invalid_input_refused_before_the_backend_is_called() {
    let b = Counting::new();
    let err = b
        .update(&CustomerId::from("1"), &CustomerPatch::new().city(""))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { field, .. } if field == "address.city"),
        "{err}"
    );
    assert_eq!(b.applied.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn ignore_mode_drops_and_lists() {
    let b = Counting::new();
    let patch = CustomerPatch::new()
        .city("Paris")
        .add_tag("vip")
        .clear_email();
    let out = b
        .update_with(
            &CustomerId::from("1"),
            &patch,
            &UpdateOptions::ignore_unsupported(),
        )
        .await
        .unwrap();
    assert_eq!(out.customer.address.city.as_deref(), Some("Paris"));
    assert_eq!(
        out.ignored,
        vec![
            Ignored {
                field: Target::Field(Field::Email),
                op: Op::Clear
            },
            Ignored {
                field: Target::Field(Field::Tags),
                op: Op::Set
            }
        ]
    );
    assert!(out.changed());
    let dry = b
        .dry_run(
            &CustomerId::from("1"),
            &patch,
            &UpdateOptions::ignore_unsupported(),
        )
        .await
        .unwrap();
    assert_eq!(dry.ignored.len(), 2);
    assert_eq!(
        b.applied.load(Ordering::SeqCst),
        1,
        "dry run must not apply"
    );
}

#[tokio::test]
async fn checked_patch_only_from_check() {
    let caps = Counting::new().caps;
    let c = CheckedPatch::check(
        &caps,
        &CustomerPatch::new().city("Paris"),
        &UpdateOptions::default(),
    )
    .unwrap();
    assert_eq!(c.address.city, Change::Set("Paris".into()));
    assert!(caps.check(&CustomerPatch::new().custom("k", 1)).is_err());
}

#[tokio::test]
async fn object_safe_in_box_and_arc() {
    let boxed: Box<dyn CustomerUpdater> = Box::new(Counting::new());
    let shared: Arc<dyn CustomerUpdater> = Arc::new(Counting::new());
    for u in [boxed.as_ref(), shared.as_ref()] {
        assert_eq!(u.kind(), KIND);
        let c = u
            .update(&CustomerId::from("7"), &CustomerPatch::new().city("Lyon"))
            .await
            .unwrap();
        assert_eq!(c.id.as_str(), "7");
    }
    fn assert_send_sync<T: Send + Sync + ?Sized>() {}
    assert_send_sync::<dyn CustomerUpdater>();
}

#[tokio::test]
async fn extensions_of_other_backends_are_refused_or_listed_and_unknown_keys_named() {
    // Another backend, known in this process because it was registered.
    unibill_core::patch::register_extension_key(BackendKind::new("othervendor"));
    let u = Counting::new();
    let id = CustomerId::from("1");
    let with_ext = |key: &str| -> CustomerPatch {
        serde_json::from_value(serde_json::json!({
            "address": {"city": "Paris"},
            "extensions": {key: {"quota": 1}}
        }))
        .unwrap()
    };

    // A misspelt key: Validation naming it and the known backends.
    let err = u.update(&id, &with_ext("othervendr")).await.unwrap_err();
    match &err {
        Error::Validation { field, reason } => {
            assert_eq!(field, "extensions.othervendr");
            assert!(
                reason.contains("othervendor") && reason.contains("memory"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    let err = u
        .update_with(
            &id,
            &with_ext("othervendr"),
            &UpdateOptions::ignore_unsupported(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");

    // Another backend's extension: Unsupported by default...
    let err = u.update(&id, &with_ext("othervendor")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                field: Target::Extensions,
                op: Op::Set,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        u.applied.load(Ordering::SeqCst),
        0,
        "nothing reached the backend"
    );

    // ...and listed as ignored when the caller opts in.
    let out = u
        .update_with(
            &id,
            &with_ext("othervendor"),
            &UpdateOptions::ignore_unsupported(),
        )
        .await
        .unwrap();
    assert_eq!(
        out.ignored,
        vec![Ignored {
            field: Target::Extensions,
            op: Op::Set
        }]
    );

    // The backend's own extension goes through.
    u.update(&id, &with_ext("memory")).await.unwrap();
}

/// A lock whose leases count how they end: released through
/// `Lease::release` (awaited) or merely dropped.
#[derive(Debug, Default)]
struct RecordingLock {
    released: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

struct RecordingLease {
    released: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
    done: bool,
}

#[async_trait]
impl unibill_core::lock::Lease for RecordingLease {
    fn check(&self) -> std::result::Result<(), unibill_core::lock::LockFailure> {
        Ok(())
    }
    async fn release(mut self: Box<Self>) {
        self.done = true;
        self.released.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for RecordingLease {
    fn drop(&mut self) {
        if !self.done {
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[async_trait]
impl unibill_core::lock::WriteLock for RecordingLock {
    async fn acquire(
        &self,
        key: &unibill_core::lock::LockKey,
        _wait: std::time::Duration,
    ) -> Result<LockGuard> {
        Ok(LockGuard::new(
            key.clone(),
            Box::new(RecordingLease {
                released: Arc::clone(&self.released),
                dropped: Arc::clone(&self.dropped),
                done: false,
            }),
        ))
    }
}

#[tokio::test]
async fn an_update_releases_its_lock_awaited_before_it_returns() {
    let lock = Arc::new(RecordingLock::default());
    let b = Counting {
        locks: CustomerLocks::new(
            KIND,
            AccountId::of("memory://", b""),
            &unibill_core::lock::WriteLocking::Shared(lock.clone()),
            std::time::Duration::from_secs(1),
        ),
        ..Counting::new()
    };
    for n in 1..=3 {
        b.update(&CustomerId::from("1"), &CustomerPatch::new().city("Paris"))
            .await
            .unwrap();
        // Released through `Lease::release` (a shared lock can await its
        // service there), never left to a drop.
        assert_eq!(lock.released.load(Ordering::SeqCst), n);
        assert_eq!(lock.dropped.load(Ordering::SeqCst), 0);
    }
}
