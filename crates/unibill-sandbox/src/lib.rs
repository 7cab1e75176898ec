//! Faithful local emulators of the ChartMogul, Fusebill, Everlytic and
//! Stripe customer APIs, for tests, examples and benchmarks (in the spirit
//! of stripe-mock or LocalStack).
//!
//! [`Sandbox::start`] binds four HTTP/1.1 listeners on `127.0.0.1` (free
//! ports), one per vendor, each seeded with the vendors' documented example
//! customers. The emulators are deliberately strict: they validate what the
//! vendors' pages say they validate, null what Fusebill nulls on `PUT`,
//! require what Everlytic requires, replay what Stripe replays under an
//! idempotency key, and answer errors in each vendor's own
//! shape. What an emulator does not model gets one distinct answer, never
//! in a vendor's shape: [`NOT_EMULATED_STATUS`] (501) with the header
//! [`NOT_EMULATED_HEADER`]`: not-emulated`. Each [`VendorHandle`] offers a request [`journal`], [fault
//! injection](Fault), latency, a server-side [rate limit](RateLimit),
//! connection counting, direct access to the stored customers and hooks that
//! run between a request and its response.
//!
//! This crate shares no code with the unibill client crates, on purpose.
//!
//! ```no_run
//! use unibill_sandbox::{chartmogul, Fault, Sandbox, CHARTMOGUL_API_KEY};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let sandbox = Sandbox::start().await?;
//! let cm = sandbox.chartmogul();
//! // Point your client at cm.base_url() with CHARTMOGUL_API_KEY ...
//! cm.inject(Fault::status(503));
//! // ... exercise it, then inspect what it sent:
//! for entry in cm.journal() {
//!     println!("{} {} -> {}", entry.method, entry.path, entry.status);
//! }
//! let stored = cm.customer(chartmogul::SEED_CUSTOMER_UUID);
//! # let _ = (stored, CHARTMOGUL_API_KEY);
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! [`journal`]: VendorHandle::journal
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The crate README's example, compiled as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod chartmogul;
pub mod everlytic;
mod fault;
pub mod fusebill;
mod handle;
mod http;
mod index;
mod journal;
mod migration;
mod not_emulated;
mod seed;
mod server;
pub mod stripe;
mod time;

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use everlytic::PutShape;
pub use fault::{Fault, RateLimit, RequestMatcher};
pub use handle::{Vendor, VendorHandle};
pub use journal::JournalEntry;
pub use migration::{MigrationScenario, SeededDifference, SeededDrift};
pub use not_emulated::{NOT_EMULATED_HEADER, NOT_EMULATED_STATUS, NOT_EMULATED_VALUE};

/// The ChartMogul API key the emulator accepts (as the Basic user name; the
/// password is ignored).
pub const CHARTMOGUL_API_KEY: &str = chartmogul::API_KEY;
/// The Fusebill API key the emulator accepts, exactly as issued (already
/// base64 text): send `Authorization: Basic {FUSEBILL_API_KEY}` without
/// encoding it again.
pub const FUSEBILL_API_KEY: &str = fusebill::API_KEY;
/// The Everlytic user name the emulator accepts.
pub const EVERLYTIC_USERNAME: &str = everlytic::USERNAME;
/// The Everlytic API key the emulator accepts (Basic `username:apikey`).
pub const EVERLYTIC_API_KEY: &str = everlytic::API_KEY;
/// The Stripe secret test-mode key the emulator accepts
/// (`Authorization: Bearer {STRIPE_API_KEY}`, or Basic with the key as
/// user name).
pub const STRIPE_API_KEY: &str = stripe::API_KEY;

/// The credentials each emulator accepts, gathered in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    /// ChartMogul API key ([`CHARTMOGUL_API_KEY`]).
    pub chartmogul_api_key: &'static str,
    /// Fusebill API key as issued ([`FUSEBILL_API_KEY`]).
    pub fusebill_api_key: &'static str,
    /// Everlytic user name ([`EVERLYTIC_USERNAME`]).
    pub everlytic_username: &'static str,
    /// Everlytic API key ([`EVERLYTIC_API_KEY`]).
    pub everlytic_api_key: &'static str,
    /// Stripe secret key ([`STRIPE_API_KEY`]).
    pub stripe_api_key: &'static str,
}

/// Ports and latency for [`Sandbox::start_with`].
///
/// ```
/// use std::time::Duration;
/// use unibill_sandbox::SandboxConfig;
/// let config = SandboxConfig {
///     fusebill_port: 0, // any free port
///     latency: Duration::from_millis(5),
///     ..SandboxConfig::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Port for the ChartMogul emulator; 0 picks a free one.
    pub chartmogul_port: u16,
    /// Port for the Fusebill emulator; 0 picks a free one.
    pub fusebill_port: u16,
    /// Port for the Everlytic emulator; 0 picks a free one.
    pub everlytic_port: u16,
    /// Port for the Stripe emulator; 0 picks a free one.
    pub stripe_port: u16,
    /// Latency added to every request of every emulator (changeable later
    /// with [`VendorHandle::set_latency`]).
    pub latency: Duration,
}

/// The four running emulators.
///
/// Dropping the sandbox stops the listeners and closes open connections;
/// [`Sandbox::shutdown`] does the same and waits until it is done.
pub struct Sandbox {
    chartmogul: VendorHandle,
    fusebill: VendorHandle,
    everlytic: VendorHandle,
    stripe: VendorHandle,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("chartmogul", &self.chartmogul.base_url())
            .field("fusebill", &self.fusebill.base_url())
            .field("everlytic", &self.everlytic.base_url())
            .field("stripe", &self.stripe.base_url())
            .finish()
    }
}

impl Sandbox {
    /// Start all four emulators on free ports of `127.0.0.1`.
    pub async fn start() -> std::io::Result<Sandbox> {
        Sandbox::start_with(SandboxConfig::default()).await
    }

    /// Start all four emulators with fixed ports (0 = free) and latency.
    pub async fn start_with(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let (tx, rx) = watch::channel(false);
        let mut tasks = Vec::with_capacity(Vendor::ALL.len());
        let mut handles = Vec::with_capacity(Vendor::ALL.len());
        for (vendor, port) in [
            (Vendor::ChartMogul, config.chartmogul_port),
            (Vendor::Fusebill, config.fusebill_port),
            (Vendor::Everlytic, config.everlytic_port),
            (Vendor::Stripe, config.stripe_port),
        ] {
            let listener = match TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => l,
                Err(e) => {
                    let _ = tx.send(true);
                    return Err(e);
                }
            };
            let addr = listener.local_addr()?;
            let base_url = format!("http://127.0.0.1:{}", addr.port());
            let inner = std::sync::Arc::new(handle::Inner::new(vendor, base_url, config.latency));
            handles.push(VendorHandle {
                inner: std::sync::Arc::clone(&inner),
            });
            tasks.push(tokio::spawn(server::accept_loop(
                listener,
                inner,
                rx.clone(),
            )));
        }
        let stripe = handles.pop();
        let everlytic = handles.pop();
        let fusebill = handles.pop();
        let chartmogul = handles.pop();
        match (chartmogul, fusebill, everlytic, stripe) {
            (Some(chartmogul), Some(fusebill), Some(everlytic), Some(stripe)) => Ok(Sandbox {
                chartmogul,
                fusebill,
                everlytic,
                stripe,
                shutdown: tx,
                tasks,
            }),
            _ => Err(std::io::Error::other(
                "sandbox listeners could not be set up",
            )),
        }
    }

    /// The ChartMogul emulator.
    pub fn chartmogul(&self) -> &VendorHandle {
        &self.chartmogul
    }

    /// The Fusebill emulator.
    pub fn fusebill(&self) -> &VendorHandle {
        &self.fusebill
    }

    /// The Everlytic emulator.
    pub fn everlytic(&self) -> &VendorHandle {
        &self.everlytic
    }

    /// The Stripe emulator.
    pub fn stripe(&self) -> &VendorHandle {
        &self.stripe
    }

    /// The emulator playing `vendor`.
    pub fn vendor(&self, vendor: Vendor) -> &VendorHandle {
        match vendor {
            Vendor::ChartMogul => &self.chartmogul,
            Vendor::Fusebill => &self.fusebill,
            Vendor::Everlytic => &self.everlytic,
            Vendor::Stripe => &self.stripe,
        }
    }

    /// Adds every vendor's lookup seeds
    /// ([`VendorHandle::add_lookup_seeds`]): customers sharing an email
    /// or a reference, and one found alone by each. Idempotent.
    pub fn add_lookup_seeds(&self) {
        for handle in self.handles() {
            handle.add_lookup_seeds();
        }
    }

    /// Bounds every vendor's journal
    /// ([`VendorHandle::set_journal_capacity`]): the latest `capacity`
    /// requests each, `Some(0)` for none, `None` (the default) for all.
    pub fn set_journal_capacity(&self, capacity: Option<usize>) {
        for handle in self.handles() {
            handle.set_journal_capacity(capacity);
        }
    }

    /// The credentials each emulator accepts.
    pub fn credentials(&self) -> Credentials {
        Credentials {
            chartmogul_api_key: CHARTMOGUL_API_KEY,
            fusebill_api_key: FUSEBILL_API_KEY,
            everlytic_username: EVERLYTIC_USERNAME,
            everlytic_api_key: EVERLYTIC_API_KEY,
            stripe_api_key: STRIPE_API_KEY,
        }
    }

    /// The variables a unibill client reads to reach this sandbox
    /// (`CHARTMOGUL_BASE_URL`, `CHARTMOGUL_API_KEY`, `FUSEBILL_BASE_URL`,
    /// `FUSEBILL_API_KEY`, `EVERLYTIC_URL`, `EVERLYTIC_USERNAME`,
    /// `EVERLYTIC_API_KEY`, `STRIPE_BASE_URL`, `STRIPE_API_KEY`), as the
    /// binary prints them.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CHARTMOGUL_BASE_URL", self.chartmogul.base_url()),
            ("CHARTMOGUL_API_KEY", CHARTMOGUL_API_KEY.to_string()),
            ("FUSEBILL_BASE_URL", self.fusebill.base_url()),
            ("FUSEBILL_API_KEY", FUSEBILL_API_KEY.to_string()),
            ("EVERLYTIC_URL", self.everlytic.base_url()),
            ("EVERLYTIC_USERNAME", EVERLYTIC_USERNAME.to_string()),
            ("EVERLYTIC_API_KEY", EVERLYTIC_API_KEY.to_string()),
            ("STRIPE_BASE_URL", self.stripe.base_url()),
            ("STRIPE_API_KEY", STRIPE_API_KEY.to_string()),
        ]
    }

    /// Every emulator, in [`Vendor::ALL`] order.
    fn handles(&self) -> [&VendorHandle; 4] {
        [
            &self.chartmogul,
            &self.fusebill,
            &self.everlytic,
            &self.stripe,
        ]
    }

    /// Stop the listeners, close open connections and wait (up to about a
    /// second) until every connection is closed. Handles stay readable.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
        let handles = self.handles();
        for _ in 0..200 {
            let live: usize = handles
                .iter()
                .map(|h| h.inner.live_connections.load(Ordering::SeqCst))
                .sum();
            if live == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}
