//! ChartMogul's JSON, as it travels: request bodies the client sends and
//! the parts of the answers it reads.
//!
//! Answers are read leniently (every field optional, unknown fields
//! ignored here and kept whole in [`unibill_core::Customer::raw`]);
//! requests are written strictly (only what a call documents).
//! Conversions to and from the neutral model live in [`crate::mapping`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use unibill_core::{AttributeType, Change};

/// A customer as `GET`/`PATCH /v1/customers/{uuid}` answer it (and, with
/// fewer fields, as the entries of the by-email answer).
///
/// Several keys are hyphenated (`customer-since`); `mrr`/`arr` are cents.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CustomerResponse {
    /// Internal numeric id.
    #[serde(default)]
    pub id: Option<Value>,
    /// `cus_...` UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// The caller's own identifier (read only).
    #[serde(default)]
    pub external_id: Option<Value>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Company.
    #[serde(default)]
    pub company: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State or region.
    #[serde(default)]
    pub state: Option<String>,
    /// ZIP / postal code.
    #[serde(default)]
    pub zip: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[serde(default)]
    pub country: Option<String>,
    /// Website.
    #[serde(default)]
    pub website_url: Option<String>,
    /// `"2015-01-01T00:00:00.000Z"`.
    #[serde(default)]
    pub lead_created_at: Option<String>,
    /// `"2015-06-13T15:45:13.000Z"`.
    #[serde(default)]
    pub free_trial_started_at: Option<String>,
    /// RFC 3339 with offset.
    #[serde(default, rename = "customer-since")]
    pub customer_since: Option<String>,
    /// `Lead`, `Active`, `Past due`, `Cancelled` or a lead stage.
    #[serde(default)]
    pub status: Option<String>,
    /// The address object (the same values as the top-level fields, but
    /// some client libraries show the country spelled out here).
    #[serde(default)]
    pub address: Option<AddressResponse>,
    /// Tags, custom attributes, Stripe and Clearbit data.
    #[serde(default)]
    pub attributes: Option<AttributesResponse>,
    /// Monthly recurring revenue in cents of `currency`.
    #[serde(default)]
    pub mrr: Option<serde_json::Number>,
    /// Annual run rate in cents of `currency`.
    #[serde(default)]
    pub arr: Option<serde_json::Number>,
    /// ISO 4217 currency of `mrr`/`arr`.
    #[serde(default)]
    pub currency: Option<String>,
}

/// `address` of a customer answer.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct AddressResponse {
    /// ZIP.
    #[serde(default)]
    pub address_zip: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State.
    #[serde(default)]
    pub state: Option<String>,
    /// Country.
    #[serde(default)]
    pub country: Option<String>,
}

/// `attributes` of a customer answer.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct AttributesResponse {
    /// Tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Custom attributes, values only.
    #[serde(default)]
    pub custom: Option<BTreeMap<String, Value>>,
}

/// `PATCH /v1/customers/{uuid}`: only the fields that change; `null`
/// clears. Tags and custom attributes are never sent here (whether
/// `attributes` replaces or merges is undocumented): they have their own
/// endpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CustomerUpdate {
    /// Display name.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub name: Change<String>,
    /// Email.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub email: Change<String>,
    /// Company.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub company: Change<String>,
    /// City.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub city: Change<String>,
    /// State.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub state: Change<String>,
    /// ZIP.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub zip: Change<String>,
    /// ISO 3166-1 alpha-2 country.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub country: Change<String>,
    /// Website.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub website_url: Change<String>,
    /// `"YYYY-MM-DD HH:MM:SS"`, UTC.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub lead_created_at: Change<String>,
    /// `"YYYY-MM-DD HH:MM:SS"`, UTC.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub free_trial_started_at: Change<String>,
    /// A lead stage (`"New Lead"`, ...), the only statuses a PATCH sets.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub status: Change<String>,
    /// Email of a user of the ChartMogul account.
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub owner: Change<String>,
    /// The whole primary contact object (see [`crate::mapping`]).
    #[serde(skip_serializing_if = "Change::is_keep")]
    pub primary_contact: Change<serde_json::Map<String, Value>>,
}

impl CustomerUpdate {
    /// True when the PATCH would carry no field.
    pub fn is_empty(&self) -> bool {
        self.name.is_keep()
            && self.email.is_keep()
            && self.company.is_keep()
            && self.city.is_keep()
            && self.state.is_keep()
            && self.zip.is_keep()
            && self.country.is_keep()
            && self.website_url.is_keep()
            && self.lead_created_at.is_keep()
            && self.free_trial_started_at.is_keep()
            && self.status.is_keep()
            && self.owner.is_keep()
            && self.primary_contact.is_keep()
    }
}

/// One typed attribute of `POST .../attributes/custom` (by customer or by
/// email).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NewCustomAttribute {
    /// `String`, `Integer`, `Decimal`, `Timestamp` or `Boolean`.
    #[serde(rename = "type")]
    pub ty: AttributeType,
    /// `[A-Za-z0-9_]+`.
    pub key: String,
    /// The value in the JSON form of its type.
    pub value: Value,
    /// Shown in ChartMogul's UI; ChartMogul defaults it to `"API"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// `POST /v1/customers/{uuid}/attributes/custom`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AddCustomAttributes {
    /// The attributes to create or set.
    pub custom: Vec<NewCustomAttribute>,
}

/// `POST /v1/customers/attributes/custom`: the same attributes on every
/// customer with this email.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AddCustomAttributesByEmail {
    /// The customers' email.
    pub email: String,
    /// The attributes to create or set.
    pub custom: Vec<NewCustomAttribute>,
}

/// `PUT /v1/customers/{uuid}/attributes/custom`: existing keys only;
/// each value bare or `{"value", "source"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UpdateCustomAttributes {
    /// Key -> value or `{"value", "source"}`.
    pub custom: BTreeMap<String, Value>,
}

/// `DELETE /v1/customers/{uuid}/attributes/custom`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RemoveCustomAttributes {
    /// The keys to remove.
    pub custom: Vec<String>,
}

/// `POST`/`DELETE /v1/customers/{uuid}/attributes/tags`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Tags {
    /// The tags to add or remove.
    pub tags: Vec<String>,
}

/// `POST /v1/customers/attributes/tags`: the same tags on every customer
/// with this email.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AddTagsByEmail {
    /// The customers' email.
    pub email: String,
    /// The tags to add.
    pub tags: Vec<String>,
}

/// Answer of the custom attribute calls: the customer's whole map.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CustomAttributesResponse {
    /// Every custom attribute now on the customer (required: an answer
    /// without it says nothing about the attributes).
    pub custom: BTreeMap<String, Value>,
}

/// Answer of the tag calls: every tag now on the customer.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct TagsResponse {
    /// Every tag now on the customer (required: an answer without it
    /// says nothing about the tags).
    pub tags: Vec<String>,
}

/// Answer of the by-email call: the customers it changed.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct EntriesResponse {
    /// One summary per customer, as JSON (decoded one by one so each
    /// keeps its raw form). Required.
    pub entries: Vec<Value>,
}

/// One page of the customer list (`GET /v1/customers`) or of the customer
/// search (`GET /v1/customers/search`): the customers and the cursor to
/// the next page. The first page also carries `current_page`,
/// `total_pages`, `per_page` and `page`, which the client does not read;
/// pages fetched with `cursor=` carry only these three keys. A lookup
/// reads each entry as a [`CustomerEntry`] (the default); a listing reads
/// whole customers (`CustomerPage<Value>`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CustomerPage<E = CustomerEntry> {
    /// The customers of this page. Required.
    pub entries: Vec<E>,
    /// Whether another page follows.
    #[serde(default)]
    pub has_more: Option<bool>,
    /// The cursor of the next page (sent even on the last page; `null`
    /// on an empty one).
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The parts of a listed customer a lookup reads.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CustomerEntry {
    /// `cus_...` UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// The caller's own identifier.
    #[serde(default)]
    pub external_id: Option<Value>,
    /// Every external id the customer has (merged customers have several).
    #[serde(default)]
    pub external_ids: Option<Vec<Value>>,
}
