//! The example patch of ChartMogul's "Update a Customer" page (seed 000)
//! and the PATCH body it must produce, shared by the mapping and sandbox
//! tests.

#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use serde_json::json;
use unibill_core::{CustomAttribute, CustomerPatch};

/// The example of the "Update a Customer" page (seed 000): location,
/// lead and trial timestamps, custom `CAC` and `channel` (with a source)
/// and the tag `high-value`.
pub fn seed_000_patch() -> CustomerPatch {
    CustomerPatch::new()
        .lead_created_at(Utc.with_ymd_and_hms(2015, 1, 1, 0, 0, 0).unwrap())
        .free_trial_started_at(Utc.with_ymd_and_hms(2015, 6, 13, 15, 45, 13).unwrap())
        .city("San Francisco")
        .country("US")
        .region("CA")
        .custom("CAC", 25)
        .custom_attribute(
            "channel",
            CustomAttribute::new("Twitter").with_source("integration2"),
        )
        .add_tag("high-value")
}

/// The body of the PATCH that `seed_000_patch` makes.
pub fn seed_000_patch_body() -> serde_json::Value {
    json!({
        "lead_created_at": "2015-01-01 00:00:00",
        "free_trial_started_at": "2015-06-13 15:45:13",
        "city": "San Francisco",
        "country": "US",
        "state": "CA"
    })
}
