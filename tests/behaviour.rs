//! One behaviour suite, run against every enabled backend on the sandbox.
//!
//! Each scenario is written once, against `Arc<dyn CustomerUpdater>` built
//! from configuration; the macro at the bottom instantiates it per
//! backend. A scenario never asks which backend it runs on: it chooses
//! fields from `capabilities()`, and reads the vendor's side (stored
//! records, the journal of requests) through [`common::Vendor`], which the
//! sandbox's emulators and the `demo` backend's in-memory store (feature
//! `demo`, added by `tests/demo-backend/check.sh`) both provide.

// With no backend compiled in, the scenarios have nothing to run against.
#![cfg_attr(
    not(any(
        feature = "chartmogul",
        feature = "fusebill",
        feature = "everlytic",
        feature = "stripe",
        feature = "demo"
    )),
    allow(dead_code, unused_imports)
)]

mod common;

use common::Fixture;
use serde_json::{json, Value};
use unibill::{
    Change, Customer, CustomerId, CustomerPatch, CustomerRef, Error, ErrorKind, Field, FieldValue,
    LookupKind, Op, UpdateOptions,
};
use unibill_sandbox::Fault;

/// A valid sample value for each plain neutral field, as neutral JSON.
fn sample(field: Field) -> Option<Value> {
    Some(json!(match field {
        Field::DisplayName => "Ada Lovelace",
        Field::Title => "Dr",
        Field::FirstName => "Ada",
        Field::MiddleName => "King",
        Field::LastName => "Lovelace",
        Field::Suffix => "Jr.",
        Field::Company => "Analytical Engines",
        Field::Email => "ada@example.com",
        Field::SecondaryEmail => "ada.king@example.com",
        Field::Phone => "+44 20 7946 0000",
        Field::SecondaryPhone => "+44 20 7946 0001",
        Field::Website => "https://ada.example.com",
        Field::AddressLine1 => "12 St James's Square",
        Field::AddressLine2 => "Floor 2",
        Field::City => "London",
        Field::Region => "Greater London",
        Field::PostalCode => "SW1Y 4JH",
        Field::Country => "GB",
        Field::ExternalReference => "ada-001",
        Field::Campaign => "spring-launch",
        Field::AcquisitionSource => "newsletter",
        Field::Medium => "email",
        Field::Keyword => "billing",
        Field::AdContent => "banner-a",
        Field::LandingPage => "https://example.com/landing",
        _ => return None,
    }))
}

/// A field's value on a customer as neutral JSON (`null` when it has
/// none), through [`Customer::get`].
fn read(c: &Customer, field: Field) -> Value {
    c.get(field).map_or(Value::Null, |v| v.to_json())
}

/// A patch setting each field to its value (`null` clears it), through
/// the by-field accessors.
fn patch_from(fields: &[(Field, Value)]) -> CustomerPatch {
    fields
        .iter()
        .fold(CustomerPatch::new(), |p, (f, v)| match v {
            Value::Null => p.clear(*f),
            Value::String(s) => p.set_text(*f, s),
            other => panic!("{f}: no text for {other}"),
        })
}

/// Fields this backend can set and read, with sample values.
fn settable(fx: &Fixture) -> Vec<(Field, Value)> {
    let caps = fx.updater.capabilities();
    Field::ALL
        .iter()
        .filter(|f| caps.get(**f).set && caps.get(**f).read)
        .filter_map(|f| sample(*f).map(|v| (*f, v)))
        .collect()
}

fn writes(fx: &Fixture) -> usize {
    fx.vendor()
        .journal()
        .iter()
        .filter(|e| e.is_write())
        .count()
}

/// Every string and number in a JSON value, as text.
fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(a) => a.iter().for_each(|v| leaves(v, out)),
        Value::Object(m) => m.values().for_each(|v| leaves(v, out)),
        _ => {}
    }
}

async fn get_seeded_customer(fx: Fixture) {
    let c = fx.updater.get(&fx.seed_id()).await.expect("get");
    assert_eq!(c.id, fx.seed_id());
    // `raw` is the vendor's answer, whole: the stored record (or, on a
    // REST API that wraps its records, the record as its `item`).
    let stored = fx
        .vendor()
        .customer(fx.seed_id().as_str())
        .expect("seeded customer");
    assert!(
        c.raw == stored || c.raw.get("item") == Some(&stored),
        "{}: raw {} is not the stored record {stored}",
        fx.backend,
        c.raw
    );
    assert!(c.email.as_deref().is_some_and(|e| e.contains('@')), "{c:?}");
    // A field the backend says it cannot read is never filled in, and
    // every text field it fills in comes from the vendor's answer.
    let caps = fx.updater.capabilities();
    let mut raw_text = Vec::new();
    leaves(&c.raw, &mut raw_text);
    let mut traced = 0;
    for f in Field::ALL {
        let v = c.get(*f);
        if !caps.get(*f).read {
            assert!(v.is_none(), "{}: unreadable {f} is {v:?}", fx.backend);
        } else if let (Some(_), Some(FieldValue::Text(text))) = (sample(*f), v) {
            assert!(
                raw_text.iter().any(|t| t == text),
                "{}: {f} = {text:?} is not in the vendor's answer",
                fx.backend
            );
            traced += 1;
        }
    }
    assert!(
        traced >= 3,
        "{}: only {traced} text fields read",
        fx.backend
    );
    let again = fx.updater.get(&fx.seed_id()).await.expect("get again");
    assert_eq!(again, c, "reads are stable");
    assert_eq!(fx.vendor().journal().len(), 2);
    assert_eq!(writes(&fx), 0);
}

async fn set_and_read_back(fx: Fixture) {
    let fields = settable(&fx);
    assert!(fields.len() >= 2, "{}: too few settable fields", fx.backend);
    let patch = patch_from(&fields);
    let updated = fx
        .updater
        .update(&fx.seed_id(), &patch)
        .await
        .expect("update");
    let read = fx.updater.get(&fx.seed_id()).await.expect("get");
    for (f, v) in &fields {
        assert_eq!(
            &self::read(&updated, *f),
            v,
            "{}: {f} in the update's answer",
            fx.backend
        );
        assert_eq!(&self::read(&read, *f), v, "{}: {f} read back", fx.backend);
    }
}

async fn clear_where_allowed(fx: Fixture) {
    let caps = fx.updater.capabilities().clone();
    let clearable: Vec<(Field, Value)> = settable(&fx)
        .into_iter()
        .filter(|(f, _)| caps.allows(*f, Op::Clear))
        .collect();
    if clearable.is_empty() {
        // Nothing may be cleared: every clear must be refused cleanly.
        let (f, _) = settable(&fx)[0].clone();
        let p = CustomerPatch::new().clear(f);
        let e = fx.updater.update(&fx.seed_id(), &p).await.unwrap_err();
        assert!(matches!(e, Error::Unsupported { op: Op::Clear, .. }), "{e}");
        return;
    }
    // Give them values first so clearing is observable.
    let all = settable(&fx);
    fx.updater
        .update(&fx.seed_id(), &patch_from(&all))
        .await
        .expect("set");
    let c = fx.updater.get(&fx.seed_id()).await.unwrap();
    for (f, v) in &all {
        assert_eq!(&read(&c, *f), v, "{}: {f} set", fx.backend);
    }
    let nulls: Vec<(Field, Value)> = clearable.iter().map(|(f, _)| (*f, Value::Null)).collect();
    let patch = patch_from(&nulls);
    assert!(patch.touched().iter().all(|(_, op)| *op == Op::Clear));
    fx.updater
        .update(&fx.seed_id(), &patch)
        .await
        .expect("clear");
    let c = fx.updater.get(&fx.seed_id()).await.unwrap();
    for (f, _) in &clearable {
        assert_eq!(read(&c, *f), Value::Null, "{}: {f} cleared", fx.backend);
    }
    // Clearing some fields loses none of the others.
    let kept: Vec<&(Field, Value)> = all
        .iter()
        .filter(|(f, _)| !clearable.iter().any(|(c, _)| c == f))
        .collect();
    for (f, v) in kept {
        assert_eq!(&read(&c, *f), v, "{}: {f} kept", fx.backend);
    }
}

async fn unsupported_refused_before_any_request(fx: Fixture) {
    let caps = fx.updater.capabilities().clone();
    // Candidates: plain fields with a sample, tags, custom attributes.
    let mut candidates: Vec<(Field, CustomerPatch)> = Field::ALL
        .iter()
        .filter_map(|f| sample(*f).map(|v| (*f, patch_from(&[(*f, v)]))))
        .collect();
    candidates.push((Field::Tags, CustomerPatch::new().add_tag("vip")));
    candidates.push((
        Field::CustomAttributes,
        CustomerPatch::new().custom("CAC", 25),
    ));
    let (field, patch) = candidates
        .into_iter()
        .find(|(f, _)| !caps.allows(*f, Op::Set))
        .unwrap_or_else(|| (Field::Mrr, CustomerPatch::new()));
    assert_ne!(
        field,
        Field::Mrr,
        "{}: every field settable? then nothing to refuse",
        fx.backend
    );
    let err = fx.updater.update(&fx.seed_id(), &patch).await.unwrap_err();
    match &err {
        Error::Unsupported {
            backend,
            field: f,
            op,
        } => {
            assert_eq!(backend.as_str(), fx.backend);
            assert_eq!((*f, *op), (field.into(), Op::Set));
        }
        other => panic!("{}: expected Unsupported, got {other}", fx.backend),
    }
    assert!(
        fx.vendor().journal().is_empty(),
        "{}: nothing may be sent",
        fx.backend
    );

    // Opting in to ignore: the rest applies and the outcome lists the field.
    let (ok_field, ok_value) = settable(&fx)[0].clone();
    let both = match sample(field) {
        Some(v) => patch_from(&[(ok_field, ok_value.clone()), (field, v)]),
        None => {
            let mut p = patch_from(&[(ok_field, ok_value.clone())]);
            p.tags = patch.tags.clone();
            p.custom = patch.custom.clone();
            p
        }
    };
    let out = fx
        .updater
        .update_with(&fx.seed_id(), &both, &UpdateOptions::ignore_unsupported())
        .await
        .expect("ignore mode");
    assert!(
        out.ignored
            .iter()
            .any(|i| i.field == field && i.op == Op::Set),
        "{:?}",
        out.ignored
    );
    assert_eq!(read(&out.customer, ok_field), ok_value);
}

async fn invalid_input_refused_before_any_request(fx: Fixture) {
    let (field, _) = settable(&fx)[0].clone();
    let blank = CustomerPatch::new().set_text(field, "   ");
    let cases = [
        (blank, field.name()),
        (CustomerPatch::new().country("XX"), Field::Country.name()),
        (CustomerPatch::new().currency("usd"), Field::Currency.name()),
    ];
    for (patch, expect_field) in cases {
        match fx.updater.update(&fx.seed_id(), &patch).await {
            Err(Error::Validation { field, .. }) => {
                assert_eq!(field, expect_field, "{}", fx.backend)
            }
            other => panic!(
                "{}: expected Validation on {expect_field}, got {other:?}",
                fx.backend
            ),
        }
    }
    // An id that would change the URL path is refused, not sent.
    let e = fx.updater.get(&CustomerId::from("..")).await.unwrap_err();
    assert!(matches!(e, Error::Validation { .. }), "{e}");
    assert!(
        fx.vendor().journal().is_empty(),
        "{}: nothing may be sent",
        fx.backend
    );
}

async fn not_found_is_neutral(fx: Fixture) {
    let missing = common::missing_id(fx.backend);
    let e = fx.updater.get(&missing).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { id, .. } if *id == missing.as_str()),
        "{}: {e}",
        fx.backend
    );
    let patch = patch_from(&settable(&fx));
    let e = fx.updater.update(&missing, &patch).await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { .. }), "{}: {e}", fx.backend);
    assert!(!e.is_retryable());
}

async fn unauthorized_is_neutral(fx: Fixture) {
    let bad = fx.bad_key_config().build().unwrap();
    let e = bad.get(&fx.seed_id()).await.unwrap_err();
    assert!(
        matches!(e, Error::Unauthorized { .. }),
        "{}: {e}",
        fx.backend
    );
    let text = format!("{e} {e:?}");
    assert!(!text.contains("d3Jvbmcta2V5"), "key leaked: {text}");
    let e = bad
        .update(&fx.seed_id(), &patch_from(&settable(&fx)))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Unauthorized { .. }),
        "{}: {e}",
        fx.backend
    );
    assert_eq!(
        writes(&fx),
        fx.vendor()
            .journal()
            .iter()
            .filter(|e| e.is_write() && e.status == 401)
            .count()
    );
}

/// Why a scenario cannot run on a vendor without HTTP fault injection.
const NO_HTTP_FAULTS: &str = "needs HTTP faults (429, 503), which an in-memory store cannot answer";

/// The vendor's fault injection, or `None` after saying why the scenario
/// is skipped.
fn faults<'a>(fx: &'a Fixture, scenario: &str) -> Option<&'a unibill_sandbox::VendorHandle> {
    let faults = fx.faults();
    if faults.is_none() {
        eprintln!("{scenario} skipped on {}: {NO_HTTP_FAULTS}", fx.backend);
    }
    faults
}

async fn rate_limit_retried_transparently(fx: Fixture) {
    let Some(vendor) = faults(&fx, "rate_limit_retried_transparently") else {
        return;
    };
    vendor.inject(Fault::status(429).retry_after_secs(1).times(1));
    let fields = settable(&fx);
    let c = fx
        .updater
        .update(&fx.seed_id(), &patch_from(&fields))
        .await
        .expect("retried");
    assert_eq!(read(&c, fields[0].0), fields[0].1);
    let j = fx.vendor().journal();
    assert_eq!(j[0].status, 429, "{}", fx.backend);
    assert!(
        j[1..].iter().all(|e| e.status < 400),
        "{:?}",
        j.iter().map(|e| e.status).collect::<Vec<_>>()
    );
    assert!(fx.updater.retries() >= 1, "{}: retry counted", fx.backend);
}

/// `max_attempts` from the config is what the client does: as many
/// attempts as configured, then the vendor's refusal, typed.
async fn configured_attempts_are_made_and_no_more(fx: Fixture) {
    let Some(vendor) = faults(&fx, "configured_attempts_are_made_and_no_more") else {
        return;
    };
    for attempts in [1u32, 3] {
        let settings: unibill::Settings = serde_json::from_value(json!({
            "initial_backoff": "1ms",
            "max_attempts": attempts,
            "rate_limit": "off"
        }))
        .unwrap();
        let updater = fx.config().with_settings(settings).build().unwrap();
        fx.vendor().clear_journal();
        vendor.inject(Fault::status(503).times(5));
        let e = updater.get(&fx.seed_id()).await.unwrap_err();
        assert!(e.is_retryable(), "{}: {e}", fx.backend);
        let statuses: Vec<u16> = fx.vendor().journal().iter().map(|e| e.status).collect();
        assert_eq!(
            statuses,
            vec![503; attempts as usize],
            "{}: max_attempts {attempts}",
            fx.backend
        );
        assert_eq!(updater.retries(), u64::from(attempts - 1));
        vendor.clear_faults();
    }
}

async fn dry_run_sends_no_write_and_matches_the_update(fx: Fixture) {
    let patch = patch_from(&settable(&fx));
    let dry = fx
        .updater
        .dry_run(&fx.seed_id(), &patch, &UpdateOptions::default())
        .await
        .expect("dry run");
    assert!(
        !dry.writes.is_empty(),
        "{}: the patch changes something",
        fx.backend
    );
    assert_eq!(writes(&fx), 0, "{}: a dry run writes nothing", fx.backend);
    let out = fx
        .updater
        .update_with(&fx.seed_id(), &patch, &UpdateOptions::default())
        .await
        .expect("update");
    assert_eq!(
        out.writes, dry.writes,
        "{}: the update sent what the dry run listed",
        fx.backend
    );
    let sent: Vec<(String, Option<Value>)> = fx
        .vendor()
        .journal()
        .into_iter()
        .filter(|e| e.is_write())
        .map(|e| (e.method, e.body))
        .collect();
    let listed: Vec<(String, Option<Value>)> = dry
        .writes
        .iter()
        .map(|w| (w.method.clone(), w.body.clone()))
        .collect();
    assert_eq!(sent, listed, "{}: journal matches the dry run", fx.backend);
}

async fn noop_patch_sends_no_write(fx: Fixture) {
    let current = fx.updater.get(&fx.seed_id()).await.unwrap();
    let stored = fx.vendor().customer(fx.seed_id().as_str());
    // Empty, whether built or read from JSON (absent = keep).
    let built = CustomerPatch::new();
    let parsed: CustomerPatch = serde_json::from_value(json!({})).unwrap();
    for patch in [built, parsed] {
        assert!(patch.is_empty());
        assert_eq!(patch.email, Change::<String>::Keep);
        let dry = fx
            .updater
            .dry_run(&fx.seed_id(), &patch, &UpdateOptions::default())
            .await
            .expect("dry run");
        assert!(dry.writes.is_empty(), "{}: {:?}", fx.backend, dry.writes);
        let out = fx
            .updater
            .update_with(&fx.seed_id(), &patch, &UpdateOptions::default())
            .await
            .unwrap();
        assert!(!out.changed(), "{}: {:?}", fx.backend, out.writes);
        assert!(out.ignored.is_empty());
        assert_eq!(
            out.customer, current,
            "{}: the customer as it is",
            fx.backend
        );
    }
    assert_eq!(writes(&fx), 0);
    assert_eq!(fx.vendor().customer(fx.seed_id().as_str()), stored);
}

/// A value for `field` that only update `n` writes, valid wherever the
/// field's sample is; `None` for fields whose values are codes (country,
/// title), which cannot tell 200 updates apart.
fn unique(field: Field, n: usize) -> Option<Value> {
    Some(json!(match field {
        Field::Country | Field::Title => return None,
        Field::Email | Field::SecondaryEmail => format!("u{n:04}@example.com"),
        Field::Phone | Field::SecondaryPhone => format!("+44 20 7946 {n:04}"),
        Field::Website | Field::LandingPage => format!("https://example.com/u{n:04}"),
        Field::PostalCode => format!("{:05}", 10_000 + n),
        f => format!("{} u{n:04}", sample(f)?.as_str()?),
    }))
}

/// Up to 16 fields this backend can set and read, that [`unique`] gives
/// values for.
fn rotating_fields(fx: &Fixture) -> Vec<Field> {
    settable(fx)
        .into_iter()
        .map(|(f, _)| f)
        .filter(|f| unique(*f, 0).is_some())
        .take(16)
        .collect()
}

/// Where in `writes` (the JSON bodies of the writes, in the order the
/// vendor received them) `value` was first sent: the write of the update
/// that set it.
fn first_sent(writes: &[String], value: &Value) -> Option<usize> {
    let needle = value.to_string();
    writes.iter().position(|body| body.contains(&needle))
}

/// The JSON bodies of the vendor's journaled writes, in order.
fn write_bodies(fx: &Fixture) -> Vec<String> {
    fx.vendor()
        .journal()
        .into_iter()
        .filter(|e| e.is_write())
        .map(|e| e.body.map(|b| b.to_string()).unwrap_or_default())
        .collect()
}

/// Checks that, for every field, the stored record (read from the
/// emulator, not through the client) holds the value of the update to it
/// that the vendor received last: no edit that returned `Ok` was lost.
fn assert_last_writes_hold(fx: &Fixture, updates: &[(Field, Value)], label: &str) {
    let writes = write_bodies(fx);
    let stored = fx
        .vendor()
        .customer(fx.seed_id().as_str())
        .expect("seeded customer")
        .to_string();
    let fields: std::collections::BTreeSet<&str> = updates.iter().map(|(f, _)| f.name()).collect();
    for name in fields {
        let last = updates
            .iter()
            .filter(|(f, _)| f.name() == name)
            .map(|(_, v)| {
                let at = first_sent(&writes, v).unwrap_or_else(|| {
                    panic!("{} {label}: {name} = {v} was never sent", fx.backend)
                });
                (at, v)
            })
            .max_by_key(|(at, _)| *at)
            .expect("field updated")
            .1;
        assert!(
            stored.contains(&last.to_string()),
            "{} {label}: `{name}` lost its last update {last}; stored {stored}",
            fx.backend
        );
    }
}

/// 200 concurrent single-field updates of one customer (16 fields in
/// turn), first through clones of one client, then through 8 clients built
/// separately for the same account: every update returns `Ok`, and every
/// field holds the value of the last update the vendor received for it.
async fn concurrent_updates_of_one_customer_lose_nothing(fx: Fixture) {
    let fields = rotating_fields(&fx);
    assert!(fields.len() >= 4, "{}: {fields:?}", fx.backend);
    let separately_built: Vec<_> = (0..8)
        .map(|_| fx.config().build().expect("updater builds"))
        .collect();
    for (round, clients) in [vec![fx.updater.clone()], separately_built]
        .into_iter()
        .enumerate()
    {
        let label = if round == 0 {
            "clones"
        } else {
            "separately built clients"
        };
        fx.vendor().clear_journal();
        let mut tasks = Vec::new();
        let mut updates = Vec::new();
        for n in 0..200 {
            let field = fields[n % fields.len()];
            let value = unique(field, 1000 * round + n).expect("unique value");
            updates.push((field, value.clone()));
            let updater = clients[n % clients.len()].clone();
            let id = fx.seed_id();
            tasks.push(tokio::spawn(async move {
                updater.update(&id, &patch_from(&[(field, value)])).await
            }));
        }
        for (n, task) in tasks.into_iter().enumerate() {
            let result = task.await.expect("task runs");
            assert!(
                result.is_ok(),
                "{} {label}: update {n} failed: {result:?}",
                fx.backend
            );
        }
        assert_last_writes_hold(&fx, &updates, label);
    }
}

/// Runs one single-field item per `(field, value)` on the seeded customer
/// through `bulk` with default options; all must be applied.
async fn bulk_on_seed(fx: &Fixture, items: &[(Field, Value)]) {
    let summary = unibill::bulk::bulk_update_stream(
        &*fx.updater,
        futures_util::stream::iter(
            items
                .iter()
                .map(|(f, v)| (fx.seed_id(), patch_from(&[(*f, v.clone())]))),
        ),
        unibill::bulk::BulkOptions::default(),
    )
    .for_each_result(|_| {})
    .await;
    let n = items.len() as u64;
    assert_eq!(
        (summary.total, summary.applied),
        (n, n),
        "{}: {summary}",
        fx.backend
    );
}

/// `bulk` with 16 items for one customer: each field's last item in input
/// order holds, all 16 are applied; the same field 16 times ends with the
/// last value in the input.
async fn bulk_items_for_one_customer_apply_in_input_order(fx: Fixture) {
    let fields = rotating_fields(&fx);
    let stored = |fx: &Fixture| {
        fx.vendor()
            .customer(fx.seed_id().as_str())
            .expect("seeded customer")
            .to_string()
    };

    let items: Vec<(Field, Value)> = (0..16)
        .map(|n| {
            let f = fields[n % fields.len()];
            (f, unique(f, 2000 + n).expect("unique value"))
        })
        .collect();
    bulk_on_seed(&fx, &items).await;
    let now = stored(&fx);
    for (n, (f, v)) in items.iter().enumerate() {
        let later = items[n + 1..].iter().any(|(g, _)| g == f);
        if !later {
            assert!(
                now.contains(&v.to_string()),
                "{}: `{}` should hold {v} (its last item); stored {now}",
                fx.backend,
                f.name()
            );
        }
    }

    let field = fields[0];
    let values: Vec<Value> = (0..16)
        .map(|n| unique(field, 3000 + n).expect("unique value"))
        .collect();
    let same_field: Vec<(Field, Value)> = values.iter().map(|v| (field, v.clone())).collect();
    bulk_on_seed(&fx, &same_field).await;
    let now = stored(&fx);
    assert!(
        now.contains(&values[15].to_string()),
        "{}: the last value in input order wins; stored {now}",
        fx.backend
    );
    for v in &values[..15] {
        assert!(
            !now.contains(&v.to_string()),
            "{}: {v} was overwritten",
            fx.backend
        );
    }
}

/// The seeded customer's email and own reference, as the neutral API reads
/// them, each as the reference that names it, with the lookup it needs.
async fn seed_references(fx: &Fixture) -> Vec<(LookupKind, CustomerRef)> {
    let c = fx.updater.get(&fx.seed_id()).await.expect("get by id");
    let email = c.email.clone().expect("seeded customer has an email");
    let external = c
        .external_reference
        .clone()
        .expect("seeded customer has an external reference");
    vec![
        (LookupKind::Email, CustomerRef::email(email)),
        (LookupKind::External, CustomerRef::external(external)),
    ]
}

/// Every customer-taking call with `reference` is refused with
/// `Error::UnsupportedLookup` naming `kind`, before any request.
async fn assert_lookup_refused(fx: &Fixture, reference: &CustomerRef, kind: LookupKind) {
    let refused = |label: &str, e: Option<Error>| match e {
        Some(Error::UnsupportedLookup { backend, lookup }) => {
            assert_eq!(backend, fx.updater.kind(), "{label}");
            assert_eq!(lookup, kind, "{}: {label}", fx.backend);
        }
        other => panic!("{}: {label} {reference}: {other:?}", fx.backend),
    };
    let patch = CustomerPatch::new().email("never@example.com");
    fx.vendor().clear_journal();
    refused("find", fx.updater.find(reference).await.err());
    refused("resolve", fx.updater.resolve(reference).await.err());
    refused("get", fx.updater.get(reference).await.err());
    refused("update", fx.updater.update(reference, &patch).await.err());
    refused(
        "dry_run",
        fx.updater
            .dry_run(reference, &patch, &UpdateOptions::default())
            .await
            .err(),
    );
    let mut results = Vec::new();
    unibill::bulk::bulk_update_stream(
        &*fx.updater,
        futures_util::stream::iter([(reference.clone(), patch.clone())]),
        unibill::bulk::BulkOptions::default(),
    )
    .for_each_result(|r| results.push(r))
    .await;
    assert_eq!(results.len(), 1);
    refused("bulk", results.pop().and_then(|r| r.result.err()));
    assert!(
        fx.vendor().journal().is_empty(),
        "{}: request before refusing {reference}",
        fx.backend
    );
}

/// By email and by external reference, `find`, `resolve` and `get` name the
/// seeded customer where the backend declares the lookup (among the lookup
/// seeds, which share other emails and references), with no write; where
/// it does not, every call is refused before any request.
async fn lookup_finds_the_seeded_customer_where_declared(fx: Fixture) {
    fx.vendor().add_lookup_seeds();
    let caps = fx.updater.capabilities().clone();
    for (kind, reference) in seed_references(&fx).await {
        if !caps.can_lookup(kind) {
            assert_lookup_refused(&fx, &reference, kind).await;
            continue;
        }
        fx.vendor().clear_journal();
        let found = fx.updater.find(&reference).await.expect("find");
        assert_eq!(found, [fx.seed_id()], "{}: {reference}", fx.backend);
        assert!(
            !fx.vendor().journal().is_empty(),
            "{}: find sent no request",
            fx.backend
        );
        let id = fx.updater.resolve(&reference).await.expect("resolve");
        assert_eq!(id, fx.seed_id(), "{}: {reference}", fx.backend);
        let c = fx.updater.get(&reference).await.expect("get by reference");
        assert_eq!(c.id, fx.seed_id(), "{}: {reference}", fx.backend);
        assert_eq!(writes(&fx), 0, "{}: a lookup wrote", fx.backend);
    }
    // An id needs no lookup: it names itself, with no request.
    fx.vendor().clear_journal();
    let id = CustomerRef::id(fx.seed_id());
    assert_eq!(fx.updater.find(&id).await.expect("find"), [fx.seed_id()]);
    assert!(fx.vendor().journal().is_empty(), "{}", fx.backend);
}

/// An update by email or external reference lands on the customer found,
/// the vendor's record shows it, and `dry_run` by reference plans the same
/// write without sending it.
async fn update_by_reference_lands(fx: Fixture) {
    fx.vendor().add_lookup_seeds();
    let caps = fx.updater.capabilities().clone();
    // A field to change that leaves the email and the reference as they
    // are, so the reference still names the customer afterwards.
    let fields: Vec<Field> = rotating_fields(&fx)
        .into_iter()
        .filter(|f| !matches!(f, Field::Email | Field::ExternalReference))
        .collect();
    let field = *fields.first().expect("a settable field");
    for (n, (kind, reference)) in seed_references(&fx).await.into_iter().enumerate() {
        if !caps.can_lookup(kind) {
            assert_lookup_refused(&fx, &reference, kind).await;
            continue;
        }
        let value = unique(field, 4000 + n).expect("unique value");
        let patch = patch_from(&[(field, value.clone())]);

        fx.vendor().clear_journal();
        let dry = fx
            .updater
            .dry_run(&reference, &patch, &UpdateOptions::default())
            .await
            .expect("dry run by reference");
        assert_eq!(writes(&fx), 0, "{}: dry run wrote", fx.backend);
        assert!(!dry.writes.is_empty(), "{}: nothing planned", fx.backend);

        let outcome = fx
            .updater
            .update_with(&reference, &patch, &UpdateOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{}: update by {reference}: {e}", fx.backend));
        assert_eq!(outcome.customer.id, fx.seed_id(), "{}", fx.backend);
        assert_eq!(read(&outcome.customer, field), value, "{}", fx.backend);
        assert_eq!(
            outcome.writes.len(),
            dry.writes.len(),
            "{}: the dry run planned another number of writes",
            fx.backend
        );
        assert!(writes(&fx) >= 1, "{}: no write", fx.backend);
        let stored = fx
            .vendor()
            .customer(fx.seed_id().as_str())
            .expect("seeded customer")
            .to_string();
        assert!(
            stored.contains(value.as_str().expect("text")),
            "{}: {field} = {value} not in {stored}",
            fx.backend
        );
        let by_id = fx.updater.get(&fx.seed_id()).await.expect("get by id");
        assert_eq!(read(&by_id, field), value, "{}", fx.backend);
    }
}

/// A reference naming several customers is `Error::Ambiguous` listing
/// every one of them, and one naming none is `Error::NotFound`: from
/// `resolve`, `update` and a bulk item alike, with no write and no record
/// changed. A lookup the backend does not declare is refused instead,
/// before any request.
async fn ambiguous_and_missing_references_write_nothing(fx: Fixture) {
    fx.vendor().add_lookup_seeds();
    let caps = fx.updater.capabilities().clone();
    let patch = CustomerPatch::new().email("never@example.com");
    let records = |ids: &[&str]| -> Vec<Option<Value>> {
        ids.iter().map(|i| fx.vendor().customer(i)).collect()
    };
    let mut cases: Vec<(CustomerRef, Vec<&str>)> = common::shared_references(fx.backend);
    cases.push((CustomerRef::email("nobody@nowhere.example.com"), vec![]));
    cases.push((CustomerRef::external("NO-SUCH-REF"), vec![]));
    for (reference, ids) in cases {
        let kind = reference.lookup_kind().expect("a lookup");
        if !caps.can_lookup(kind) {
            assert_lookup_refused(&fx, &reference, kind).await;
            continue;
        }
        let before = records(&ids);
        fx.vendor().clear_journal();
        let check = |label: &str, e: Option<Error>| {
            let e = e.unwrap_or_else(|| panic!("{}: {label} {reference}: Ok", fx.backend));
            let want_kind = if ids.is_empty() {
                ErrorKind::NotFound
            } else {
                ErrorKind::Ambiguous
            };
            assert_eq!(
                e.kind(),
                want_kind,
                "{}: {label} {reference}: {e}",
                fx.backend
            );
            assert!(!e.is_retryable(), "{}: {label}: {e}", fx.backend);
            match e {
                Error::Ambiguous {
                    backend,
                    reference: r,
                    matches,
                    count,
                } => {
                    assert_eq!(count, matches.len(), "{label}");
                    assert_eq!(backend, fx.updater.kind());
                    assert_eq!(r, reference, "{label}");
                    let mut got: Vec<&str> = matches.iter().map(CustomerId::as_str).collect();
                    got.sort_unstable();
                    let mut want = ids.clone();
                    want.sort_unstable();
                    assert_eq!(got, want, "{}: {label} {reference}", fx.backend);
                }
                Error::NotFound { backend, id } => {
                    assert_eq!(backend, fx.updater.kind());
                    assert!(id.contains(reference.as_str()), "{label}: {id}");
                }
                other => panic!("{}: {label} {reference}: {other:?}", fx.backend),
            }
        };
        check("resolve", fx.updater.resolve(&reference).await.err());
        check("get", fx.updater.get(&reference).await.err());
        check("update", fx.updater.update(&reference, &patch).await.err());
        let mut results = Vec::new();
        let summary = unibill::bulk::bulk_update_stream(
            &*fx.updater,
            futures_util::stream::iter([(reference.clone(), patch.clone())]),
            unibill::bulk::BulkOptions::default(),
        )
        .for_each_result(|r| results.push(r))
        .await;
        assert_eq!((summary.total, summary.failed()), (1, 1), "{}", fx.backend);
        let item = results.pop().expect("one result");
        assert_eq!(
            item.id, reference,
            "{}: bulk item names its reference",
            fx.backend
        );
        check("bulk", item.result.err());
        assert!(
            !fx.vendor().journal().is_empty(),
            "{}: no lookup sent for {reference}",
            fx.backend
        );
        assert_eq!(writes(&fx), 0, "{}: {reference} wrote", fx.backend);
        assert_eq!(records(&ids), before, "{}: {reference} changed", fx.backend);
    }
}

/// Instantiates every scenario per enabled backend. A scenario the demo
/// backend cannot run is marked `[demo: "why"]`: on demo it is ignored
/// with that reason (`cargo test` prints it), and, run anyway, says so and
/// returns.
macro_rules! behaviour {
    ($($scenario:ident $([demo: $skip:literal])?),* $(,)?) => {
        #[cfg(feature = "chartmogul")]
        mod chartmogul {
            $( #[tokio::test] async fn $scenario() { super::$scenario(super::Fixture::start("chartmogul").await).await } )*
        }
        #[cfg(feature = "fusebill")]
        mod fusebill {
            $( #[tokio::test] async fn $scenario() { super::$scenario(super::Fixture::start("fusebill").await).await } )*
        }
        #[cfg(feature = "everlytic")]
        mod everlytic {
            $( #[tokio::test] async fn $scenario() { super::$scenario(super::Fixture::start("everlytic").await).await } )*
        }
        #[cfg(feature = "stripe")]
        mod stripe {
            $( #[tokio::test] async fn $scenario() { super::$scenario(super::Fixture::start("stripe").await).await } )*
        }
        #[cfg(feature = "demo")]
        mod demo {
            $( #[tokio::test] $(#[ignore = $skip])? async fn $scenario() { super::$scenario(super::Fixture::start("demo").await).await } )*
        }
    };
}

behaviour!(
    get_seeded_customer,
    set_and_read_back,
    clear_where_allowed,
    unsupported_refused_before_any_request,
    invalid_input_refused_before_any_request,
    not_found_is_neutral,
    unauthorized_is_neutral,
    rate_limit_retried_transparently [demo: "needs HTTP faults (429 with Retry-After), which an in-memory store cannot answer"],
    configured_attempts_are_made_and_no_more [demo: "needs HTTP faults (503), which an in-memory store cannot answer"],
    dry_run_sends_no_write_and_matches_the_update,
    noop_patch_sends_no_write,
    concurrent_updates_of_one_customer_lose_nothing,
    bulk_items_for_one_customer_apply_in_input_order,
    lookup_finds_the_seeded_customer_where_declared,
    update_by_reference_lands,
    ambiguous_and_missing_references_write_nothing,
);
