//! [`Customer`]: the neutral read model.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use serde_json::Value;

use crate::kind::CustomerId;
use crate::status::CustomerStatus;
use crate::values::{Currency, Money};

/// A postal address as the vendor reports it (not validated: a vendor may
/// answer `"United States"` where it accepts only `"US"`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Address {
    /// First line.
    pub line1: Option<String>,
    /// Second line.
    pub line2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State, province or region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country, as the vendor wrote it.
    pub country: Option<String>,
}

/// How the customer was acquired.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Acquisition {
    /// Campaign.
    pub campaign: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// Medium.
    pub medium: Option<String>,
    /// Keyword.
    pub keyword: Option<String>,
    /// Ad content.
    pub ad_content: Option<String>,
    /// Landing page.
    pub landing_page: Option<String>,
}

/// A customer as a vendor holds it, in neutral form, with the vendor's
/// whole answer in [`Customer::raw`] so nothing the model does not cover is
/// lost.
///
/// Fields a backend cannot read stay `None`/empty; see the backend's
/// [`crate::Capabilities`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Customer {
    /// The vendor's id.
    pub id: CustomerId,
    /// Display name.
    pub name: Option<String>,
    /// Courtesy title.
    pub title: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Name suffix.
    pub suffix: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Primary email.
    pub email: Option<String>,
    /// Secondary email.
    pub secondary_email: Option<String>,
    /// Primary phone (numbers the vendor sent as JSON numbers become text
    /// here; [`Customer::raw`] keeps the original).
    pub phone: Option<String>,
    /// Secondary phone.
    pub secondary_phone: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Address.
    pub address: Address,
    /// Status.
    pub status: Option<CustomerStatus>,
    /// Billing currency.
    pub currency: Option<Currency>,
    /// The caller's own reference.
    pub external_reference: Option<String>,
    /// When the customer became a lead.
    pub lead_created_at: Option<DateTime<FixedOffset>>,
    /// When the free trial started.
    pub free_trial_started_at: Option<DateTime<FixedOffset>>,
    /// When the customer started paying.
    pub customer_since: Option<DateTime<FixedOffset>>,
    /// Monthly recurring revenue, in minor units.
    pub mrr: Option<Money>,
    /// Annual run rate, in minor units.
    pub arr: Option<Money>,
    /// Tags.
    pub tags: Vec<String>,
    /// Custom attributes as the vendor reports them (values only: vendors
    /// do not report the types).
    pub custom: BTreeMap<String, Value>,
    /// Acquisition details.
    pub acquisition: Acquisition,
    /// The vendor's whole answer, unchanged.
    pub raw: Value,
}

impl Customer {
    /// A customer with only its id and raw answer; backends fill the rest.
    pub fn new(id: impl Into<CustomerId>, raw: Value) -> Self {
        Self {
            id: id.into(),
            name: None,
            title: None,
            first_name: None,
            middle_name: None,
            last_name: None,
            suffix: None,
            company: None,
            email: None,
            secondary_email: None,
            phone: None,
            secondary_phone: None,
            website: None,
            address: Address::default(),
            status: None,
            currency: None,
            external_reference: None,
            lead_created_at: None,
            free_trial_started_at: None,
            customer_since: None,
            mrr: None,
            arr: None,
            tags: Vec::new(),
            custom: BTreeMap::new(),
            acquisition: Acquisition::default(),
            raw,
        }
    }
}

/// Reads a JSON value as text the way vendors mean it: strings as they
/// are, numbers and booleans in their JSON form (Fusebill sends phone
/// numbers as numbers), `null` and empty strings as `None`.
pub fn json_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
