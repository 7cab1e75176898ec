//! Switching vendors by configuration alone: the README's switching
//! example, run as written against all three backends on the sandbox, and
//! the portability check agreeing with `update` for every field, op and
//! backend.
#![cfg(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic"))]

mod common;

use std::collections::HashSet;

use unibill::{
    Capabilities, CustomerId, CustomerPatch, CustomerUpdater, Error, Field, FieldKind, Ignored, Op,
    UpdateOptions, UpdateOutcome,
};
use unibill_sandbox::Sandbox;

// The README's code, character for character (checked by
// `readme_switching_example_is_this_code`).
// <switching>
async fn switching(
    updater: &dyn CustomerUpdater,
    id: &CustomerId,
) -> unibill::Result<UpdateOutcome> {
    // A portable patch: only what every compiled-in backend can do
    // (`Capabilities::common` lists it); checked before any request.
    let portable = CustomerPatch::new().email("katelyn@example.com");
    portable.check_portable(unibill::backend_capabilities())?;
    updater.update(id, &portable).await?;

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
        .update_with(id, &rich, &UpdateOptions::ignore_unsupported())
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
            field: *field,
            op: *op,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_switching_example_runs_on_every_backend() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let all = unibill::backend_capabilities();
    assert_eq!(all.len(), 3);

    // Up front, the rich patch is known not to be portable; the error is
    // the one ChartMogul's update gives.
    let report = rich().portability(&all);
    assert!(!report.is_portable());
    match rich().check_portable(&all) {
        Err(Error::Unsupported { backend, field, op }) => {
            assert_eq!(backend.as_str(), "chartmogul");
            assert_eq!((field, op), (Field::FirstName, Op::Set));
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
    ];
    for (backend, skipped) in expected {
        // The one line that changes: configuration.
        let updater = common::config(&sandbox, backend).build().expect("builds");
        let id = common::seed_id(backend);
        let vendor = common::vendor(&sandbox, backend);

        let before = vendor.journal().len();
        let outcome = switching(updater.as_ref(), &id)
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
                let read = c.get(field).and_then(|v| v.as_text().map(str::to_owned));
                assert_eq!(read.as_deref(), Some(value), "{backend}: {field}");
            }
        }
        // ... and no request carried what was skipped.
        let sent = &vendor.journal()[before..];
        assert!(sent.iter().any(|e| e.is_write()), "{backend}: no write");
        for skip in &outcome.ignored {
            let value = match skip.field {
                Field::FirstName => "Katelyn",
                Field::Company => "Acme",
                Field::Phone => "+1 555 0100",
                other => panic!("unexpected {other}"),
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
