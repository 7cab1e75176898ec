//! Shared fixtures for the root test suites (and, through `#[path]`, the
//! benchmarks): a sandbox, and for each enabled backend the config that
//! points at it and a workload over its seeded customers. Only
//! configuration differs between backends; the code under test is the
//! same. The behaviour suite's [`Fixture`] also runs on the `demo`
//! backend (feature `demo`, added by `tests/demo-backend/check.sh`), whose
//! vendor is an in-memory store: the scenarios read either through
//! [`Vendor`].
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
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
    #[cfg(feature = "stripe")]
    "stripe",
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
        "stripe" => sandbox.stripe(),
        other => panic!("unknown backend {other}"),
    }
}

/// The seeded customer of each emulator.
pub fn seed_id(backend: &str) -> CustomerId {
    match backend {
        "chartmogul" => unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID.into(),
        "fusebill" => unibill_sandbox::fusebill::SEED_CUSTOMER_ID.into(),
        "everlytic" => unibill_sandbox::everlytic::SEED_CUSTOMER_ID.into(),
        "stripe" => unibill_sandbox::stripe::ADDRESS_CUSTOMER_ID.into(),
        #[cfg(feature = "demo")]
        "demo" => demo::SEED_CUSTOMER_ID.into(),
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
        "stripe" => [
            unibill_sandbox::stripe::ADDRESS_CUSTOMER_ID,
            unibill_sandbox::stripe::SEED_CUSTOMER_ID,
        ],
        #[cfg(feature = "demo")]
        "demo" => [demo::SEED_CUSTOMER_ID, demo::SECOND_CUSTOMER_ID],
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
        "stripe" => CustomerPatch::new().name(format!("Name {n}")),
        _ => CustomerPatch::new().postal_code(format!("{:04}", n % 10_000)),
    };
    (id, patch)
}

/// A well-formed id that no emulator holds.
pub fn missing_id(backend: &str) -> CustomerId {
    match backend {
        "chartmogul" => "cus_00000000-0000-4000-8000-000000000000".into(),
        "stripe" => "cus_NoSuchCustomer".into(),
        _ => "987654321".into(),
    }
}

/// The lookup seeds (`Sandbox::add_lookup_seeds`) that name several
/// customers at each emulator: each reference with those customers' ids.
pub fn shared_references(backend: &str) -> Vec<(CustomerRef, Vec<&'static str>)> {
    use unibill_sandbox::{chartmogul as cm, everlytic as ev, fusebill as fb, stripe as st};
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
        "stripe" => vec![
            (
                CustomerRef::email(st::LOOKUP_SHARED_EMAIL),
                st::LOOKUP_SHARED_EMAIL_IDS.to_vec(),
            ),
            (
                CustomerRef::external(st::LOOKUP_SHARED_EXTERNAL_ID),
                st::LOOKUP_SHARED_EXTERNAL_ID_IDS.to_vec(),
            ),
        ],
        #[cfg(feature = "demo")]
        "demo" => vec![
            (
                CustomerRef::email(demo::LOOKUP_SHARED_EMAIL),
                demo::LOOKUP_SHARED_EMAIL_IDS.to_vec(),
            ),
            (
                CustomerRef::external(demo::LOOKUP_SHARED_REFERENCE),
                demo::LOOKUP_SHARED_REFERENCE_IDS.to_vec(),
            ),
        ],
        other => panic!("unknown backend {other}"),
    }
}

/// A request a vendor received, as the behaviour scenarios read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// HTTP method, upper case.
    pub method: String,
    /// The JSON body, if any.
    pub body: Option<Value>,
    /// The status answered.
    pub status: u16,
}

impl Request {
    /// Whether the request writes (anything but `GET` and `HEAD`).
    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD")
    }
}

/// The vendor's side, as the behaviour scenarios read it: not through
/// the client under test, but where the vendor keeps its records and
/// journals what it received.
pub trait Vendor {
    /// The stored raw record of customer `id`, if the vendor holds it.
    fn customer(&self, id: &str) -> Option<Value>;
    /// The requests received since the last [`Self::clear_journal`], in
    /// order.
    fn journal(&self) -> Vec<Request>;
    /// Forgets the requests received so far.
    fn clear_journal(&self);
    /// Adds the lookup seeds: other customers, some sharing an email or an
    /// own reference ([`shared_references`]), none sharing the seeded
    /// customer's.
    fn add_lookup_seeds(&self);
}

impl Vendor for VendorHandle {
    fn customer(&self, id: &str) -> Option<Value> {
        VendorHandle::customer(self, id)
    }

    fn journal(&self) -> Vec<Request> {
        VendorHandle::journal(self)
            .into_iter()
            .map(|e| Request {
                method: e.method,
                body: e.body,
                status: e.status,
            })
            .collect()
    }

    fn clear_journal(&self) {
        VendorHandle::clear_journal(self)
    }

    fn add_lookup_seeds(&self) {
        VendorHandle::add_lookup_seeds(self);
    }
}

/// Where a [`Fixture`]'s backend keeps its customers.
enum Site {
    /// A sandbox emulating the vendor.
    Sandbox(Sandbox),
    /// The demo backend's in-memory store of this name (`memory://...`).
    #[cfg(feature = "demo")]
    Demo(demo::Site),
}

/// The config of `backend` at `site` (with `key` instead of the right
/// one), with the fast test settings.
fn site_config(site: &Site, backend: &str, key: Option<&str>) -> Config {
    match site {
        Site::Sandbox(sandbox) => sandbox_config(sandbox, backend, key),
        #[cfg(feature = "demo")]
        Site::Demo(site) => site
            .config(key.unwrap_or(demo::API_KEY))
            .with_settings(test_settings()),
    }
}

/// The vendor and the updater for one backend: a sandbox, or for the demo
/// backend its in-memory store.
pub struct Fixture {
    site: Site,
    /// Which backend.
    pub backend: &'static str,
    /// The updater, as callers hold it.
    pub updater: Arc<dyn CustomerUpdater>,
}

impl Fixture {
    /// Starts the backend's vendor (a sandbox, or a seeded store of its
    /// own for `demo`) and builds its updater from config.
    pub async fn start(backend: &'static str) -> Fixture {
        let site = match backend {
            #[cfg(feature = "demo")]
            "demo" => Site::Demo(demo::Site::start().await),
            _ => Site::Sandbox(Sandbox::start().await.expect("sandbox starts")),
        };
        let updater = site_config(&site, backend, None)
            .build()
            .expect("updater builds");
        Fixture {
            site,
            backend,
            updater,
        }
    }

    /// The vendor this backend talks to.
    pub fn vendor(&self) -> &dyn Vendor {
        match &self.site {
            Site::Sandbox(sandbox) => vendor(sandbox, self.backend),
            #[cfg(feature = "demo")]
            Site::Demo(site) => site,
        }
    }

    /// The vendor's fault injection (HTTP statuses, `Retry-After`), where
    /// its vendor is an emulator; `None` for a vendor in memory, which no
    /// HTTP reaches.
    pub fn faults(&self) -> Option<&VendorHandle> {
        match &self.site {
            Site::Sandbox(sandbox) => Some(vendor(sandbox, self.backend)),
            #[cfg(feature = "demo")]
            Site::Demo(_) => None,
        }
    }

    /// The backend's config, with the fast test settings.
    pub fn config(&self) -> Config {
        site_config(&self.site, self.backend, None)
    }

    /// The same config with a wrong key.
    pub fn bad_key_config(&self) -> Config {
        site_config(&self.site, self.backend, Some("d3Jvbmcta2V5"))
    }

    /// The seeded customer's id.
    pub fn seed_id(&self) -> CustomerId {
        seed_id(self.backend)
    }
}

/// The demo backend's vendor: a store of its own per fixture, seeded like
/// an emulator (a seeded customer and, on demand, lookup seeds).
#[cfg(feature = "demo")]
pub mod demo {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use serde_json::Value;
    use unibill::{Config, Customer, CustomerId, CustomerPatch, CustomerUpdater, Field};
    use unibill_testkit::memory::InMemory;

    use super::Request;

    /// The stores' key.
    pub const API_KEY: &str = "demo-key";
    /// The seeded customer.
    pub const SEED_CUSTOMER_ID: &str = "cus-ada";
    /// The second seeded customer.
    pub const SECOND_CUSTOMER_ID: &str = "cus-bob";
    /// The email two lookup seeds share.
    pub const LOOKUP_SHARED_EMAIL: &str = "shared@lookup.example";
    /// The lookup seeds sharing [`LOOKUP_SHARED_EMAIL`].
    pub const LOOKUP_SHARED_EMAIL_IDS: [&str; 2] = ["lookup-1", "lookup-2"];
    /// The own reference two lookup seeds share.
    pub const LOOKUP_SHARED_REFERENCE: &str = "CRM-SHARED";
    /// The lookup seeds sharing [`LOOKUP_SHARED_REFERENCE`].
    pub const LOOKUP_SHARED_REFERENCE_IDS: [&str; 2] = ["lookup-2", "lookup-3"];

    /// A demo store of its own, seeded.
    pub struct Site {
        url: String,
        store: Arc<InMemory>,
    }

    /// `id`, stored with these text fields, as the store writes them (its
    /// raw record and typed fields agree).
    async fn seed(store: &InMemory, id: &str, fields: &[(Field, &str)]) {
        store.insert(Customer::new(id, Value::Null));
        let patch = fields
            .iter()
            .fold(CustomerPatch::new(), |p, (f, v)| p.set_text(*f, *v));
        store
            .update(&CustomerId::from(id), &patch)
            .await
            .expect("seeded");
    }

    impl Site {
        /// Opens a store no other fixture of this process uses, with the
        /// two seeded customers.
        pub async fn start() -> Site {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let url = format!("memory://behaviour-{}", NEXT.fetch_add(1, Ordering::SeqCst));
            let (store, authorized) = unibill::demo::store(&url, API_KEY);
            assert!(authorized, "{url} was opened before");
            seed(
                &store,
                SEED_CUSTOMER_ID,
                &[
                    (Field::DisplayName, "Ada Byron"),
                    (Field::Company, "Difference Engines"),
                    (Field::Email, "ada@demo.example"),
                    (Field::Phone, "+44 20 7946 0999"),
                    (Field::City, "Marylebone"),
                    (Field::ExternalReference, "crm-ada"),
                ],
            )
            .await;
            seed(
                &store,
                SECOND_CUSTOMER_ID,
                &[
                    (Field::DisplayName, "Bob"),
                    (Field::Email, "bob@demo.example"),
                    (Field::ExternalReference, "crm-bob"),
                ],
            )
            .await;
            store.clear_requests();
            Site { url, store }
        }

        /// The config of this store with `key`.
        pub fn config(&self, key: &str) -> Config {
            Config::demo(key).with_base_url(self.url.clone())
        }
    }

    impl super::Vendor for Site {
        fn customer(&self, id: &str) -> Option<Value> {
            self.store.customer(id).map(|c| c.raw)
        }

        fn journal(&self) -> Vec<Request> {
            self.store
                .requests()
                .into_iter()
                .map(|r| Request {
                    method: r.method,
                    body: r.body,
                    status: 200,
                })
                .collect()
        }

        fn clear_journal(&self) {
            self.store.clear_requests();
        }

        fn add_lookup_seeds(&self) {
            let store = Arc::clone(&self.store);
            let seeds = [
                ("lookup-1", LOOKUP_SHARED_EMAIL, "crm-lookup-1"),
                ("lookup-2", LOOKUP_SHARED_EMAIL, LOOKUP_SHARED_REFERENCE),
                (
                    "lookup-3",
                    "lookup-3@lookup.example",
                    LOOKUP_SHARED_REFERENCE,
                ),
            ];
            for (id, email, reference) in seeds {
                let mut c = Customer::new(id, Value::Null);
                c.email = Some(email.into());
                c.external_reference = Some(reference.into());
                store.insert(c);
            }
        }
    }
}
