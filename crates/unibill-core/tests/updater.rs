//! The caller path every backend gets ([`CustomerUpdater`]'s blanket
//! implementation): checks before any backend call, ignore mode, object
//! safety, the write lock released before an update returns.

use std::sync::Arc;

use unibill_core::lock::AccountId;
use unibill_core::{
    Backend, BackendKind, Capabilities, Change, CheckedPatch, CustomerId, CustomerLocks,
    CustomerPatch, CustomerUpdater, Error, Field, FieldCaps, Ignored, Op, Target, UpdateOptions,
};
use unibill_testkit::memory::{InMemory, KIND};
use unibill_testkit::RecordingLock;

/// The shared in-memory backend, declaring city (all), email (read, set)
/// and MRR (read).
fn counting() -> InMemory {
    InMemory::new().with_capabilities(
        Capabilities::new(KIND)
            .with(Field::City, FieldCaps::ALL)
            .with(Field::Email, FieldCaps::READ_SET)
            .with(Field::Mrr, FieldCaps::READ),
    )
}

#[tokio::test]
async fn unsupported_field_refused_before_the_backend_is_called() {
    let b = counting();
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
    assert_eq!(b.applied(), 0);
}

#[tokio::test]
async fn invalid_input_refused_before_the_backend_is_called() {
    let b = counting();
    let err = b
        .update(&CustomerId::from("1"), &CustomerPatch::new().city(""))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { field, .. } if field == "address.city"),
        "{err}"
    );
    assert_eq!(b.applied(), 0);
}

#[tokio::test]
async fn ignore_mode_drops_and_lists() {
    let b = counting();
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
    assert_eq!(b.applied(), 1, "dry run must not apply");
}

#[tokio::test]
async fn checked_patch_only_from_check() {
    let caps = counting().capabilities().clone();
    let c = CheckedPatch::check(
        &caps,
        &CustomerPatch::new().city("Paris"),
        &UpdateOptions::default(),
    )
    .unwrap();
    assert_eq!(c.address.city, Change::Set("Paris".into()));
    let refused = CustomerPatch::new().custom("k", 1);
    assert!(CheckedPatch::check(&caps, &refused, &UpdateOptions::default()).is_err());
}

#[tokio::test]
async fn object_safe_in_box_and_arc() {
    let boxed: Box<dyn CustomerUpdater> = Box::new(counting());
    let shared: Arc<dyn CustomerUpdater> = Arc::new(counting());
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
    let u = counting();
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
    assert_eq!(u.applied(), 0, "nothing reached the backend");

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

#[tokio::test]
async fn an_update_releases_its_lock_awaited_before_it_returns() {
    let lock = RecordingLock::default();
    let b = counting().with_locks(CustomerLocks::new(
        KIND,
        AccountId::of("memory://", b""),
        &unibill_core::lock::WriteLocking::Shared(Arc::new(lock.clone())),
        std::time::Duration::from_secs(1),
    ));
    for n in 1..=3 {
        b.update(&CustomerId::from("1"), &CustomerPatch::new().city("Paris"))
            .await
            .unwrap();
        // Released through `Lease::release` (a shared lock can await its
        // service there), never left to a drop.
        assert_eq!(lock.released(), n);
        assert_eq!(lock.dropped(), 0);
    }
}
