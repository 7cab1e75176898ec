//! Quickstart: one neutral patch, three vendors, identical calling code.
//!
//! Starts the embedded sandbox (local emulators of ChartMogul, Fusebill and
//! Everlytic on 127.0.0.1; no vendor account needed), then applies the same
//! `CustomerPatch` through each backend. Only the configuration differs.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::collections::HashMap;

use unibill::{Config, CustomerId, CustomerPatch, UpdateOptions};
use unibill_sandbox::Sandbox;

// `pub` so that tests/readme.rs can run the quickstart as a test.
#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    // The same variables `cargo run -p unibill-sandbox` prints.
    let env: HashMap<&str, String> = sandbox.env_vars().into_iter().collect();

    // One neutral patch. Each backend applies what it can; with
    // `ignore_unsupported` the rest is listed instead of refused.
    let patch = CustomerPatch::new()
        .name("Ada Lovelace")
        .first_name("Ada")
        .last_name("Lovelace")
        .email("ada@example.com")
        .company("Analytical Engines")
        .phone("+44 20 7946 0000")
        .city("London")
        .country("GB")
        .add_tag("vip")
        .custom("CAC", 25);
    println!(
        "neutral patch (JSON Merge Patch):\n  {}\n",
        serde_json::to_string(&patch)?
    );

    let customers: [(&str, CustomerId); 3] = [
        (
            "chartmogul",
            unibill_sandbox::chartmogul::SEED_CUSTOMER_UUID.into(),
        ),
        (
            "fusebill",
            unibill_sandbox::fusebill::SEED_CUSTOMER_ID.into(),
        ),
        (
            "everlytic",
            unibill_sandbox::everlytic::SEED_CUSTOMER_ID.into(),
        ),
    ];
    for (backend, id) in customers {
        // The one line that picks the vendor: configuration.
        let config = Config::from_lookup(|name| match name {
            "UNIBILL_BACKEND" => Some(backend.to_string()),
            other => env.get(other).cloned(),
        })?;

        // From here on the code is the same for every vendor.
        let updater = config.build()?;
        let outcome = updater
            .update_with(&id, &patch, &UpdateOptions::ignore_unsupported())
            .await?;

        println!("== {} (customer {id})", updater.kind());
        for ignored in &outcome.ignored {
            println!("  not supported here, ignored: {ignored}");
        }
        println!("  requests sent:");
        for write in &outcome.writes {
            println!("    {write}");
        }
        let c = &outcome.customer;
        println!("  customer now:");
        println!(
            "    name:    {:?}",
            c.name.as_deref().or(c.first_name.as_deref())
        );
        println!("    email:   {:?}", c.email);
        println!("    company: {:?}", c.company);
        println!("    phone:   {:?}", c.phone);
        println!(
            "    city:    {:?}  country: {:?}",
            c.address.city, c.address.country
        );
        println!(
            "    status:  {:?}",
            c.status.as_ref().map(|s| s.to_string())
        );
        println!("    tags:    {:?}", c.tags);
        println!("    custom:  {}", serde_json::to_string(&c.custom)?);
        if let Some(mrr) = c.mrr {
            println!("    mrr:     {mrr} ({} minor units)", mrr.minor_units);
        }
        println!();
    }
    sandbox.shutdown().await;
    Ok(())
}
