//! The production shape: the backend and its credentials come from the
//! environment, the calling code never names a vendor.
//!
//! ```text
//! UNIBILL_BACKEND=fusebill FUSEBILL_API_KEY=... \
//!   cargo run --example from_env -- 12000750 katelyn@example.com
//! ```
//!
//! Try it against the sandbox: start `cargo run -p unibill-sandbox` in one
//! terminal, paste the variables it prints into another, set
//! `UNIBILL_BACKEND`, and run this example.

use unibill::{Config, CustomerId, CustomerPatch, Error};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        if e.is_retryable() {
            eprintln!("(temporary: running again later may succeed)");
        }
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let (Some(id), Some(email)) = (args.next(), args.next()) else {
        return Err(Error::config(
            "arguments",
            "usage: from_env <customer-id> <new-email>",
        ));
    };
    let updater = Config::from_env()?.build()?;
    let patch = CustomerPatch::new().email(email);
    let customer = updater.update(&CustomerId::from(id), &patch).await?;
    println!("{} now has email {:?}", customer.id, customer.email);
    Ok(())
}
