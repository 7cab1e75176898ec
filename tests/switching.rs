//! Switching vendors by configuration alone: the README's switching
//! example, run as written against all three backends on the sandbox (by
//! vendor id, and holding only an email or the caller's own reference),
//! and the portability check agreeing with `update` for every field, op
//! and backend.
#![cfg(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic"))]

mod common;

use std::collections::HashSet;

use unibill::{
    Capabilities, CustomerId, CustomerPatch, CustomerRef, CustomerUpdater, Error, Field, FieldKind,
    FieldValue, Ignored, LookupKind, Op, Target, UpdateOptions, UpdateOutcome,
};
use unibill_sandbox::Sandbox;

// The README's code, character for character (checked by
// `readme_switching_example_is_this_code`).
// <switching>
async fn switching(
    updater: &dyn CustomerUpdater,
    customer: &CustomerRef, // an id, or an email / your own reference
) -> unibill::Result<UpdateOutcome> {
    // A portable patch: only what every compiled-in backend can do
    // (`Capabilities::common` lists it); checked before any request.
    let portable = CustomerPatch::new().email("katelyn@example.com");
    portable.check_portable(unibill::backend_capabilities())?;
    // By email or reference, the vendor's search must find exactly one
    // customer (else `Error::Ambiguous` or `Error::NotFound`, no write); a
    // vendor without that search refuses with `Error::UnsupportedLookup`,
    // before any request.
    updater.update(customer, &portable).await?;

    // A richer patch: what this vendor lacks is skipped, and listed.
    let rich = portable
        .first_name("Katelyn")
        .company("Acme")
        .phone("+1 555 0100");
    println!(
        "not portable: {}",
        rich.portability(unibill::backend_capabilities())
    );
    let outcome = updater
        .update_with(customer, &rich, &UpdateOptions::ignore_unsupported())
        .await?;
    for skipped in &outcome.ignored {
        println!("{}: skipped {skipped}", updater.kind());
    }
    Ok(outcome)
}
// </switching>

/// The text between the switching markers.
fn switching_block(text: &str) -> &str {
    let start = "// <switching>\n";
    let from = text.find(start).expect("start marker") + start.len();
    let to = text[from..].find("// </switching>").expect("end marker") + from;
    &text[from..to]
}

#[test]
fn readme_switching_example_is_this_code() {
    assert_eq!(
        switching_block(include_str!("../README.md")),
        switching_block(include_str!("switching.rs")),
        "README's switching example and tests/switching.rs differ: keep them identical"
    );
}

/// The rich patch of the example, written out again here.
fn rich() -> CustomerPatch {
    CustomerPatch::new()
        .email("katelyn@example.com")
        .first_name("Katelyn")
        .company("Acme")
        .phone("+1 555 0100")
}

fn ignored(list: &[(Field, Op)]) -> Vec<Ignored> {
    list.iter()
        .map(|(field, op)| Ignored {
            field: (*field).into(),
            op: *op,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_switching_example_runs_on_every_backend() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let all = unibill::backend_capabilities();
    assert_eq!(all.len(), common::ENABLED.len());

    // Up front, the rich patch is known not to be portable; the error is
    // the one ChartMogul's update gives.
    let report = rich().portability(&all);
    assert!(!report.is_portable());
    match rich().check_portable(&all) {
        Err(Error::Unsupported { backend, field, op }) => {
            assert_eq!(backend.as_str(), "chartmogul");
            assert_eq!((field, op), (Field::FirstName.into(), Op::Set));
        }
        other => panic!("{other:?}"),
    }
    // Email is the one field all three can set.
    let common = Capabilities::common(&all);
    let settable: Vec<Field> = Field::ALL
        .iter()
        .copied()
        .filter(|f| common.allows(*f, Op::Set))
        .collect();
    assert!(settable.contains(&Field::Email), "{settable:?}");

    // Per backend, what the example skips, from the capability table.
    let expected = [
        (
            "chartmogul",
            ignored(&[(Field::FirstName, Op::Set), (Field::Phone, Op::Set)]),
        ),
        ("fusebill", ignored(&[])),
        (
            "everlytic",
            ignored(&[(Field::FirstName, Op::Set), (Field::Company, Op::Set)]),
        ),
        #[cfg(feature = "stripe")]
        (
            "stripe",
            ignored(&[(Field::FirstName, Op::Set), (Field::Company, Op::Set)]),
        ),
    ];
    for (backend, skipped) in expected {
        // The one line that changes: configuration.
        let updater = common::config(&sandbox, backend).build().expect("builds");
        let id = common::seed_id(backend);
        let vendor = common::vendor(&sandbox, backend);

        let before = vendor.journal().len();
        let outcome = switching(updater.as_ref(), &CustomerRef::id(id.clone()))
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert_eq!(outcome.ignored, skipped, "{backend}");
        assert_eq!(
            outcome.ignored,
            report.refused(updater.kind()),
            "{backend}: portability disagrees with update"
        );

        // The vendor holds what was applied ...
        let c = updater.get(&id).await.expect("get");
        assert_eq!(c.email.as_deref(), Some("katelyn@example.com"), "{backend}");
        let stored = vendor.customer(id.as_str()).expect("stored record");
        assert!(
            stored.to_string().contains("\"katelyn@example.com\""),
            "{backend}: {stored}"
        );
        let caps = updater.capabilities();
        for (field, value) in [
            (Field::FirstName, "Katelyn"),
            (Field::Company, "Acme"),
            (Field::Phone, "+1 555 0100"),
        ] {
            if caps.allows(field, Op::Set) {
                assert_eq!(
                    c.get(field),
                    Some(FieldValue::Text(value)),
                    "{backend}: {field}"
                );
            }
        }
        // ... and no request carried what was skipped.
        let sent = &vendor.journal()[before..];
        assert!(sent.iter().any(|e| e.is_write()), "{backend}: no write");
        for skip in &outcome.ignored {
            let value = match skip.field {
                Target::Field(Field::FirstName) => "Katelyn",
                Target::Field(Field::Company) => "Acme",
                Target::Field(Field::Phone) => "+1 555 0100",
                _ => panic!("unexpected {}", skip.field),
            };
            for e in sent {
                assert!(
                    !e.raw_body.contains(value),
                    "{backend}: skipped {skip} sent in {} {}",
                    e.method,
                    e.path
                );
            }
        }

        // Without `ignore_unsupported()` the rich patch is refused where
        // anything is skipped, naming the field, before any request (on
        // Fusebill it applies, and changes nothing now).
        let before = vendor.journal().len();
        match updater.update(&id, &rich()).await {
            Err(Error::Unsupported {
                backend: b,
                field,
                op,
            }) => {
                assert_eq!(b.as_str(), backend);
                assert_eq!(Some(&Ignored { field, op }), skipped.first(), "{backend}");
            }
            Ok(_) => assert!(skipped.is_empty(), "{backend}: applied"),
            Err(e) => panic!("{backend}: {e}"),
        }
        if !skipped.is_empty() {
            assert_eq!(vendor.journal().len(), before, "{backend}: request sent");
        }
    }
    sandbox.shutdown().await;
}

/// The one email and the one reference the calling code holds for its
/// customer, the same at every vendor.
const EMAIL: &str = "katelyn@example.com";
const REFERENCE: &str = "KATELYN-42";

/// Gives the seeded customer of `backend` the caller's email and own
/// reference, in the vendor's store (ChartMogul sets `external_id` when a
/// customer is created, not on update), as the caller's account holds it.
/// Test setup only: the code under test never asks which backend it runs
/// on.
fn hold_caller_customer(sandbox: &Sandbox, backend: &str) -> CustomerId {
    let id = common::seed_id(backend);
    let (email, reference) = match backend {
        "chartmogul" => ("email", "external_id"),
        "fusebill" => ("primaryEmail", "reference"),
        "everlytic" => ("email", "unique_id"),
        // Stripe: the reference is a metadata key (`external_id`).
        "stripe" => ("email", "metadata.external_id"),
        other => panic!("unknown backend {other}"),
    };
    let pointer = format!("/{}", reference.replace('.', "/"));
    common::vendor(sandbox, backend).update_customer(id.as_str(), |c| {
        c[email] = EMAIL.into();
        match reference.split_once('.') {
            Some((object, key)) => c[object][key] = REFERENCE.into(),
            None => c[reference] = REFERENCE.into(),
        }
        if backend == "chartmogul" {
            c["external_ids"] = serde_json::json!([REFERENCE]);
        }
    });
    let stored = common::vendor(sandbox, backend)
        .customer(id.as_str())
        .expect("seeded customer");
    assert_eq!(stored[email], EMAIL, "{backend}: setup");
    assert_eq!(
        stored.pointer(&pointer),
        Some(&REFERENCE.into()),
        "{backend}: setup"
    );
    id
}

/// Whether a journaled write names the customer `id` (in its path, or, for
/// Fusebill's `PUT /v1/customers`, as the body's `id`).
fn write_targets(e: &unibill_sandbox::JournalEntry, id: &CustomerId) -> bool {
    e.path.contains(id.as_str())
        || e.body
            .as_ref()
            .is_some_and(|b| b["id"].to_string().trim_matches('"') == id.as_str())
}

/// Done when: calling code holding only an email or its own reference
/// updates the same customer on every backend whose vendor can find it,
/// with configuration the only change; where the vendor cannot (Everlytic),
/// the typed refusal comes before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_example_updates_by_email_or_own_reference_on_every_backend() {
    let mut updated = Vec::new();
    let mut refused = Vec::new();
    for backend in common::ENABLED {
        for reference in [CustomerRef::email(EMAIL), CustomerRef::external(REFERENCE)] {
            // A fresh sandbox per case, with the lookup seeds (customers
            // sharing emails and references) around the caller's one.
            let sandbox = Sandbox::start().await.expect("sandbox starts");
            sandbox.add_lookup_seeds();
            let id = hold_caller_customer(&sandbox, backend);
            let vendor = common::vendor(&sandbox, backend);
            let before_record = vendor.customer(id.as_str()).expect("stored");
            let others: Vec<_> = vendor
                .add_lookup_seeds()
                .into_iter()
                .map(|o| (vendor.customer(&o), o))
                .collect();

            // The one line that changes: configuration.
            let updater = common::config(&sandbox, backend).build().expect("builds");
            let kind = reference.lookup_kind().expect("a lookup");
            let result = switching(updater.as_ref(), &reference).await;

            if !updater.capabilities().can_lookup(kind) {
                match result {
                    Err(Error::UnsupportedLookup { backend: b, lookup }) => {
                        assert_eq!((b.as_str(), lookup), (*backend, kind));
                    }
                    other => panic!("{backend} {reference}: {other:?}"),
                }
                assert!(
                    vendor.journal().is_empty(),
                    "{backend}: request before refusing {reference}"
                );
                assert_eq!(vendor.customer(id.as_str()), Some(before_record));
                refused.push((*backend, kind));
                sandbox.shutdown().await;
                continue;
            }

            let outcome = result.unwrap_or_else(|e| panic!("{backend} {reference}: {e}"));
            assert_eq!(outcome.customer.id, id, "{backend} {reference}");
            // The vendor's record of that customer holds the update ...
            let stored = vendor.customer(id.as_str()).expect("stored").to_string();
            assert!(stored.contains(EMAIL), "{backend}: {stored}");
            let caps = updater.capabilities();
            let c = updater.get(&id).await.expect("get by id");
            for (field, value) in [
                (Field::FirstName, "Katelyn"),
                (Field::Company, "Acme"),
                (Field::Phone, "+1 555 0100"),
            ] {
                if caps.allows(field, Op::Set) {
                    assert!(stored.contains(value), "{backend}: {field} in {stored}");
                    assert_eq!(
                        c.get(field),
                        Some(FieldValue::Text(value)),
                        "{backend}: {field}"
                    );
                }
            }
            // ... the same found by reference; every write went to it, after
            // the lookups that found it.
            let by_ref = updater.get(&reference).await.expect("get by reference");
            assert_eq!(by_ref.id, id, "{backend} {reference}");
            let journal = vendor.journal();
            let first_write = journal
                .iter()
                .position(|e| e.is_write())
                .unwrap_or_else(|| panic!("{backend} {reference}: no write"));
            assert!(first_write >= 2, "{backend}: no lookup before the write");
            for e in journal.iter().filter(|e| e.is_write()) {
                assert!(
                    write_targets(e, &id),
                    "{backend} {reference}: write to another customer: {} {}",
                    e.method,
                    e.path
                );
            }
            // No other customer changed, the seeds sharing emails included.
            for (record, other) in &others {
                assert_ne!(other, id.as_str());
                assert_eq!(
                    &vendor.customer(other),
                    record,
                    "{backend}: {other} changed"
                );
            }
            updated.push((*backend, kind));
            sandbox.shutdown().await;
        }
    }
    // Both lookups ran where declared, and the refusal where not: the
    // vendors' own search is what decides, not this test.
    let declared = |b: &str, k| unibill::capabilities_of(b).expect("compiled").can_lookup(k);
    for (b, k) in updated.iter().chain(&refused) {
        assert_eq!(updated.contains(&(*b, *k)), declared(b, *k), "{b} {k}");
    }
    assert_eq!(updated.len() + refused.len(), 2 * common::ENABLED.len());
    // ChartMogul and Fusebill find by both; Everlytic has no search.
    assert_eq!(
        updated,
        [
            ("chartmogul", LookupKind::Email),
            ("chartmogul", LookupKind::External),
            ("fusebill", LookupKind::Email),
            ("fusebill", LookupKind::External),
            #[cfg(feature = "stripe")]
            ("stripe", LookupKind::Email),
            #[cfg(feature = "stripe")]
            ("stripe", LookupKind::External),
        ]
    );
    assert_eq!(
        refused,
        [
            ("everlytic", LookupKind::Email),
            ("everlytic", LookupKind::External)
        ]
    );
}

/// Done when: a reference naming several customers is `Error::Ambiguous`
/// listing them all, one naming none is `Error::NotFound`; neither writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_example_never_guesses_on_ambiguous_or_missing_references() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    sandbox.add_lookup_seeds();
    let mut ambiguous = 0;
    let mut missing = 0;
    for backend in common::ENABLED {
        let updater = common::config(&sandbox, backend).build().expect("builds");
        let vendor = common::vendor(&sandbox, backend);
        let caps = updater.capabilities().clone();
        let records = |ids: &[&str]| -> Vec<_> { ids.iter().map(|i| vendor.customer(i)).collect() };

        for (reference, ids) in common::shared_references(backend) {
            let before = records(&ids);
            vendor.clear_journal();
            let result = switching(updater.as_ref(), &reference).await;
            let kind = reference.lookup_kind().expect("a lookup");
            match result {
                Err(Error::Ambiguous {
                    backend: b,
                    reference: r,
                    matches,
                    count,
                }) => {
                    assert_eq!(count, matches.len(), "{backend} {reference}");
                    assert!(caps.can_lookup(kind), "{backend}: {kind} not declared");
                    assert_eq!(b.as_str(), *backend);
                    assert_eq!(r, reference);
                    let mut got: Vec<&str> = matches.iter().map(CustomerId::as_str).collect();
                    got.sort_unstable();
                    let mut want = ids.clone();
                    want.sort_unstable();
                    assert_eq!(got, want, "{backend} {reference}");
                    assert!(!vendor.journal().is_empty(), "{backend}: no lookup sent");
                    ambiguous += 1;
                }
                Err(Error::UnsupportedLookup { lookup, .. }) => {
                    assert!(!caps.can_lookup(kind));
                    assert_eq!(lookup, kind);
                    assert!(vendor.journal().is_empty(), "{backend}: request sent");
                }
                other => panic!("{backend} {reference}: {other:?}"),
            }
            assert!(
                vendor.journal().iter().all(|e| !e.is_write()),
                "{backend} {reference}: wrote"
            );
            assert_eq!(records(&ids), before, "{backend} {reference}: changed");
        }

        for reference in [
            CustomerRef::email("nobody@nowhere.example.com"),
            CustomerRef::external("NO-SUCH-REF"),
        ] {
            vendor.clear_journal();
            let kind = reference.lookup_kind().expect("a lookup");
            match switching(updater.as_ref(), &reference).await {
                Err(Error::NotFound { backend: b, id }) => {
                    assert!(caps.can_lookup(kind));
                    assert_eq!(b.as_str(), *backend);
                    assert!(id.contains(reference.as_str()), "{backend}: {id}");
                    assert!(!vendor.journal().is_empty(), "{backend}: no lookup sent");
                    missing += 1;
                }
                Err(Error::UnsupportedLookup { lookup, .. }) => {
                    assert!(!caps.can_lookup(kind));
                    assert_eq!(lookup, kind);
                    assert!(vendor.journal().is_empty(), "{backend}: request sent");
                }
                other => panic!("{backend} {reference}: {other:?}"),
            }
            assert!(
                vendor.journal().iter().all(|e| !e.is_write()),
                "{backend} {reference}: wrote"
            );
        }
    }
    // ChartMogul and Fusebill (and Stripe): shared email and shared
    // reference each.
    let searching = if cfg!(feature = "stripe") { 3 } else { 2 };
    assert_eq!((ambiguous, missing), (2 * searching, 2 * searching));
    sandbox.shutdown().await;
}

/// A patch doing `op` to `field` with a well-formed value, or `None` when
/// no patch can carry that change (read-only fields).
fn patch_for(field: Field, op: Op) -> Option<CustomerPatch> {
    if !field.is_writable() {
        return None;
    }
    let p = CustomerPatch::new();
    Some(match (field.kind(), op) {
        (FieldKind::Tags, Op::Set) => p.add_tag("portable"),
        (FieldKind::Tags, Op::Clear) => p.remove_tag("portable"),
        (FieldKind::CustomAttributes, Op::Set) => p.custom("CAC", 25),
        (FieldKind::CustomAttributes, Op::Clear) => p.clear_custom("CAC"),
        (_, Op::Clear) => p.clear(field),
        (kind, Op::Set) => p.set_text(
            field,
            match (kind, field) {
                (FieldKind::Country, _) => "GB",
                (FieldKind::Currency, _) => "EUR",
                (FieldKind::Status, _) => "active",
                (FieldKind::Timestamp, _) => "2024-05-01T12:00:00Z",
                (_, Field::Email | Field::SecondaryEmail) => "ada@example.com",
                (_, Field::Website | Field::LandingPage) => "https://ada.example.com",
                _ => "Ada",
            },
        ),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portability_agrees_with_update_for_every_field_op_and_backend() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let all = unibill::backend_capabilities();
    let mut seen = HashSet::new();
    for backend in common::ENABLED {
        let updater = common::config(&sandbox, backend).build().expect("builds");
        let caps = unibill::capabilities_of(backend).expect("compiled in");
        assert_eq!(&caps, updater.capabilities(), "{backend}");
        let id = common::seed_id(backend);
        let vendor = common::vendor(&sandbox, backend);
        for field in Field::ALL {
            for op in [Op::Set, Op::Clear] {
                let Some(patch) = patch_for(*field, op) else {
                    continue;
                };
                patch
                    .validate()
                    .unwrap_or_else(|e| panic!("{field} {op}: {e}"));
                let report = patch.portability(&all);
                let listed = report.refused(updater.kind()).to_vec();
                let before = vendor.journal().len();
                let result = updater.update(&id, &patch).await;
                match result {
                    Err(Error::Unsupported {
                        backend: b,
                        field: f,
                        op: o,
                    }) => {
                        assert_eq!(b, updater.kind());
                        assert_eq!(
                            listed,
                            [Ignored { field: f, op: o }],
                            "{backend}: update refuses {o} {f}, portability lists {listed:?}"
                        );
                        assert_eq!(
                            vendor.journal().len(),
                            before,
                            "{backend}: request before refusing {o} {f}"
                        );
                        seen.insert((*backend, true));
                    }
                    other => {
                        assert!(
                            listed.is_empty(),
                            "{backend}: portability lists {listed:?}, update gave {other:?}"
                        );
                        seen.insert((*backend, false));
                    }
                }
                // Ignoring gives the same list, and no unsupported error.
                match updater
                    .dry_run(&id, &patch, &UpdateOptions::ignore_unsupported())
                    .await
                {
                    Ok(dry) => assert_eq!(dry.ignored, listed, "{backend}: {op} {field}"),
                    Err(e) => assert!(
                        !matches!(e, Error::Unsupported { .. }),
                        "{backend}: {op} {field}: {e}"
                    ),
                }
            }
        }
    }
    // Every backend both accepted and refused something.
    for backend in common::ENABLED {
        assert!(
            seen.contains(&(*backend, true)),
            "{backend} refused nothing"
        );
        assert!(
            seen.contains(&(*backend, false)),
            "{backend} accepted nothing"
        );
    }
    sandbox.shutdown().await;
}
