//! Shared fixtures for the root test suites (and, through `#[path]`, the
//! benchmarks): a sandbox, and for each enabled backend the config that
//! points at it and a workload over its seeded customers. Only
//! configuration differs between backends; the code under test is the
//! same.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use unibill::{Config, CustomerId, CustomerPatch, CustomerRef, CustomerUpdater, Settings};
use unibill_sandbox::{Sandbox, VendorHandle};

/// The backends compiled into this test binary.
pub const ENABLED: &[&str] = &[
    #[cfg(feature = "chartmogul")]
    "chartmogul",
    #[cfg(feature = "fusebill")]
    "fusebill",
    #[cfg(feature = "everlytic")]
    "everlytic",
];

/// Fast retries for tests: the transport's rules, with short sleeps.
pub fn test_settings() -> Settings {
    serde_json::from_value(serde_json::json!({
        "initial_backoff": "10ms",
        "max_attempts": 4,
        "timeout_secs": 10
    }))
    .expect("valid settings")
}

/// The config for `backend` on this sandbox, built the way a user would:
/// from the variables the sandbox binary prints.
pub fn config(sandbox: &Sandbox, backend: &str) -> Config {
    sandbox_config(sandbox, backend, None)
}

/// The same config with a wrong key.
pub fn bad_key_config(sandbox: &Sandbox, backend: &str) -> Config {
    sandbox_config(sandbox, backend, Some("d3Jvbmcta2V5"))
}

fn sandbox_config(sandbox: &Sandbox, backend: &str, key: Option<&str>) -> Config {
    lookup_config(sandbox, backend, key).with_settings(test_settings())
}

/// The config for `backend` on this sandbox with the backend's default
/// settings (its retries and rate limit), as a caller would write it.
pub fn default_config(sandbox: &Sandbox, backend: &str) -> Config {
    lookup_config(sandbox, backend, None)
}

fn lookup_config(sandbox: &Sandbox, backend: &str, key: Option<&str>) -> Config {
    let vars: HashMap<&str, String> = sandbox.env_vars().into_iter().collect();
    Config::from_lookup(|name| match name {
        "UNIBILL_BACKEND" => Some(backend.to_string()),
        n if n.ends_with("_API_KEY") && key.is_some() => key.map(str::to_string),
        n => vars.get(n).cloned(),
    })
    .expect("sandbox config")
}

/// The emulator a backend talks to.
pub fn vendor<'a>(sandbox: &'a Sandbox, backend: &str) -> &'a VendorHandle {
    match backend {
        "chartmogul" => sandbox.chartmogul(),
        "fusebill" => sandbox.fusebill(),
        "everlytic" => sandbox.everlytic(),
        other => panic!("unknown backend {other}"),
    }
}

/// The seeded customer of each emulator.
pub fn seed_id(backend: &str) -> CustomerId {
    match backend {
        "chartmogul" => unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID.into(),
        "fusebill" => unibill_sandbox::fusebill::SEED_CUSTOMER_ID.into(),
        "everlytic" => unibill_sandbox::everlytic::SEED_CUSTOMER_ID.into(),
        other => panic!("unknown backend {other}"),
    }
}

/// The two seeded customers of each emulator.
pub fn ids(backend: &str) -> [&'static str; 2] {
    match backend {
        "chartmogul" => [
            unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID,
            unibill_sandbox::chartmogul::SECOND_CUSTOMER_UUID,
        ],
        "fusebill" => [
            unibill_sandbox::fusebill::SEED_CUSTOMER_ID,
            unibill_sandbox::fusebill::PARENT_CUSTOMER_ID,
        ],
        "everlytic" => [
            unibill_sandbox::everlytic::SEED_CUSTOMER_ID,
            unibill_sandbox::everlytic::SECOND_CUSTOMER_ID,
        ],
        other => panic!("unknown backend {other}"),
    }
}

/// Item `n` of a bulk workload: the two seeded customers in turn, and a
/// field every backend can set, with a value that changes per item so
/// that every update writes.
pub fn item(backend: &str, n: u64) -> (CustomerId, CustomerPatch) {
    let id = CustomerId::from(ids(backend)[(n % 2) as usize]);
    let patch = match backend {
        "chartmogul" => CustomerPatch::new().city(format!("City {n}")),
        "fusebill" => CustomerPatch::new().first_name(format!("Name {n}")),
        _ => CustomerPatch::new().postal_code(format!("{:04}", n % 10_000)),
    };
    (id, patch)
}

/// A well-formed id that no emulator holds.
pub fn missing_id(backend: &str) -> CustomerId {
    match backend {
        "chartmogul" => "cus_00000000-0000-4000-8000-000000000000".into(),
        _ => "987654321".into(),
    }
}

/// The lookup seeds (`Sandbox::add_lookup_seeds`) that name several
/// customers at each emulator: each reference with those customers' ids.
pub fn shared_references(backend: &str) -> Vec<(CustomerRef, Vec<&'static str>)> {
    use unibill_sandbox::{chartmogul as cm, everlytic as ev, fusebill as fb};
    match backend {
        "chartmogul" => vec![
            (
                CustomerRef::email(cm::LOOKUP_SHARED_EMAIL),
                cm::LOOKUP_SHARED_UUIDS.to_vec(),
            ),
            (
                CustomerRef::external(cm::LOOKUP_SHARED_EXTERNAL_ID),
                cm::LOOKUP_SHARED_UUIDS.to_vec(),
            ),
        ],
        "fusebill" => vec![
            (
                CustomerRef::email(fb::LOOKUP_SHARED_EMAIL),
                fb::LOOKUP_SHARED_EMAIL_IDS.to_vec(),
            ),
            (
                CustomerRef::external(fb::LOOKUP_SHARED_REFERENCE),
                fb::LOOKUP_SHARED_REFERENCE_IDS.to_vec(),
            ),
        ],
        "everlytic" => vec![(
            CustomerRef::email(ev::LOOKUP_SHARED_EMAIL),
            ev::LOOKUP_SHARED_IDS.to_vec(),
        )],
        other => panic!("unknown backend {other}"),
    }
}

/// A running sandbox and the updater for one backend.
pub struct Fixture {
    /// The sandbox (dropped with the fixture).
    pub sandbox: Sandbox,
    /// Which backend.
    pub backend: &'static str,
    /// The updater, as callers hold it.
    pub updater: Arc<dyn CustomerUpdater>,
}

impl Fixture {
    /// Starts a sandbox and builds the backend's updater from config.
    pub async fn start(backend: &'static str) -> Fixture {
        let sandbox = Sandbox::start().await.expect("sandbox starts");
        let updater = config(&sandbox, backend).build().expect("updater builds");
        Fixture {
            sandbox,
            backend,
            updater,
        }
    }

    /// The emulator this backend talks to.
    pub fn vendor(&self) -> &VendorHandle {
        vendor(&self.sandbox, self.backend)
    }

    /// The seeded customer's id.
    pub fn seed_id(&self) -> CustomerId {
        seed_id(self.backend)
    }
}
