//! The demo backend (`tests/demo-backend`, feature `demo`, added by
//! `tests/demo-backend/check.sh` in a scratch copy): built through
//! [`Config`] from JSON, TOML and the environment, and the neutral calls
//! on its in-memory store through `Arc<dyn CustomerUpdater>`.

use std::sync::Arc;

use serde_json::Value;
use unibill::{Config, Customer, CustomerId, CustomerPatch, CustomerRef, CustomerUpdater};
use unibill::{Error, ErrorKind, Field, UpdateOptions};

/// A store of its own per test (stores are shared by name in a process),
/// with Ada (id 1) and Bob (id 2), who share an email.
fn seeded(name: &str) -> (String, Arc<unibill_testkit::memory::InMemory>) {
    let url = format!("memory://{name}");
    let (store, authorized) = unibill::demo::store(&url, "k-1");
    assert!(authorized, "{url} opened before");
    for (id, email, external) in [
        ("1", "ada@example.com", "crm-1"),
        ("2", "ada@example.com", "crm-2"),
    ] {
        let mut c = Customer::new(id, Value::Null);
        c.email = Some(email.into());
        c.external_reference = Some(external.into());
        store.insert(c);
    }
    (url, store)
}

fn updater(url: &str, key: &str) -> Arc<dyn CustomerUpdater> {
    Config::demo(key)
        .with_base_url(url)
        .build()
        .expect("builds")
}

#[test]
fn builds_from_json_toml_and_the_environment() {
    let json: Config = serde_json::from_str(
        r#"{"backend": "demo", "api_key": "k-json", "base_url": "memory://json",
            "settings": {"timeout": "2s"}}"#,
    )
    .unwrap();
    let toml: Config =
        toml::from_str("backend = \"demo\"\napi_key = \"k-toml\"\nbase_url = \"memory://toml\"\n")
            .unwrap();
    let env = Config::from_lookup(|name| match name {
        "UNIBILL_BACKEND" => Some("demo".into()),
        "DEMO_API_KEY" => Some("k-env".into()),
        "DEMO_BASE_URL" => Some("memory://env".into()),
        _ => None,
    })
    .unwrap();
    for (config, key, url) in [
        (json, "k-json", "memory://json"),
        (toml, "k-toml", "memory://toml"),
        (env, "k-env", "memory://env"),
    ] {
        assert_eq!(config.backend(), "demo");
        assert!(!format!("{config:?}").contains(key), "{config:?}");
        let client = config.build_client().unwrap();
        assert_eq!(client.updater().kind(), unibill::demo::KIND);
        // The client opened the store its config names, with its key.
        assert!(unibill::demo::store(url, key).1, "{url}");
    }
    assert!(unibill::config::BACKENDS.contains(&"demo"));
    assert!(unibill::capabilities_of("demo").is_some());
}

#[test]
fn a_missing_key_or_foreign_url_is_a_config_error_naming_it() {
    let err =
        Config::from_lookup(|name| (name == "UNIBILL_BACKEND").then(|| "demo".into())).unwrap_err();
    assert!(
        matches!(&err, Error::Config { field, .. } if field == "DEMO_API_KEY"),
        "{err}"
    );
    let err = Config::demo("k")
        .with_base_url("https://x.example")
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config { field, .. } if field == "base_url"),
        "{err}"
    );
}

#[tokio::test]
async fn get_update_clear_and_read_back() {
    let (url, store) = seeded("read-back");
    let u = updater(&url, "k-1");
    let one = CustomerId::from("1");
    assert_eq!(
        u.get(&one).await.unwrap().email.as_deref(),
        Some("ada@example.com")
    );
    let out = u
        .update(&one, &CustomerPatch::new().city("Oslo").add_tag("vip"))
        .await
        .unwrap();
    assert_eq!(out.address.city.as_deref(), Some("Oslo"));
    assert_eq!(u.get(&one).await.unwrap().tags, ["vip"]);
    let patch = CustomerPatch::new().clear(Field::City);
    u.update(&one, &patch).await.unwrap();
    assert_eq!(store.customer("1").unwrap().address.city, None);
}

#[tokio::test]
async fn unsupported_missing_and_unauthorized_write_nothing() {
    let (url, store) = seeded("refusals");
    let u = updater(&url, "k-1");
    let one = CustomerId::from("1");
    let err = u
        .update(&one, &CustomerPatch::new().postal_code("0150"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    let err = u.get(&CustomerId::from("404")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = u
        .update(&CustomerId::from("404"), &CustomerPatch::new().city("X"))
        .await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::NotFound);
    let err = updater(&url, "wrong")
        .update(&one, &CustomerPatch::new().city("X"))
        .await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Unauthorized);
    assert_eq!(store.customer("1").unwrap().address.city, None);
    assert!(store.writes().is_empty(), "{:?}", store.writes());
}

#[tokio::test]
async fn dry_run_and_noop_write_nothing() {
    let (url, store) = seeded("dry-run");
    let u = updater(&url, "k-1");
    let one = CustomerId::from("1");
    let patch = CustomerPatch::new().company("Analytical Engines");
    let dry = u
        .dry_run(&one, &patch, &UpdateOptions::default())
        .await
        .unwrap();
    assert_eq!(dry.writes.len(), 1);
    assert_eq!(store.customer("1").unwrap().company, None);
    let first = u
        .update_with(&one, &patch, &UpdateOptions::default())
        .await
        .unwrap();
    assert_eq!(first.writes, dry.writes);
    let again = u
        .update_with(&one, &patch, &UpdateOptions::default())
        .await
        .unwrap();
    assert!(again.writes.is_empty(), "{:?}", again.writes);
}

#[tokio::test]
async fn lookups_update_by_reference_and_refuse_ambiguity() {
    let (url, store) = seeded("lookups");
    let u = updater(&url, "k-1");
    let found = u.find(&CustomerRef::external("crm-2")).await.unwrap();
    assert_eq!(found, [CustomerId::from("2")]);
    u.update(
        &CustomerRef::external("crm-2"),
        &CustomerPatch::new().city("Turin"),
    )
    .await
    .unwrap();
    assert_eq!(
        store.customer("2").unwrap().address.city.as_deref(),
        Some("Turin")
    );
    let applied = store.applied();
    let err = u
        .update(
            &CustomerRef::email("ada@example.com"),
            &CustomerPatch::new().city("X"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Ambiguous, "{err}");
    let err = u
        .update(
            &CustomerRef::email("nobody@example.com"),
            &CustomerPatch::new().city("X"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(store.applied(), applied);
}
