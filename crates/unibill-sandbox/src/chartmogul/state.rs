//! The stored customers, their seeds (the customers printed in the vendor's
//! pages) and the account's custom attribute types.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::lookup::{key_of, Key};
use super::validate::AttrType;
use super::{
    LOOKUP_SECOND_DATA_SOURCE_UUID, LOOKUP_SHARED_EMAIL, LOOKUP_SHARED_EXTERNAL_ID,
    LOOKUP_SHARED_UUIDS, LOOKUP_UNIQUE_EMAIL, LOOKUP_UNIQUE_EXTERNAL_ID, LOOKUP_UNIQUE_UUID,
    SECOND_CUSTOMER_EMAIL, SECOND_CUSTOMER_ID, SECOND_CUSTOMER_UUID, SEED_ATTRIBUTE_TYPES,
    SEED_CUSTOMER_EMAIL, SEED_CUSTOMER_PAGE_JSON, SEED_DATA_SOURCE_UUID,
};
use crate::index::SortedIndex;

fn seed_customer() -> Value {
    let mut customer: Value =
        serde_json::from_str(SEED_CUSTOMER_PAGE_JSON).expect("the seed page's customer is JSON");
    customer["email"] = json!(SEED_CUSTOMER_EMAIL);
    customer
}

fn second_customer() -> Value {
    json!({
        "id": SECOND_CUSTOMER_ID,
        "uuid": SECOND_CUSTOMER_UUID,
        "data_source_uuid": "ds_fef05d54-47b4-431b-aed2-eb6b9e545430",
        "data_source_uuids": ["ds_fef05d54-47b4-431b-aed2-eb6b9e545430"],
        "external_id": "cus_0001",
        "external_ids": ["cus_0001"],
        "name": "Smith Company",
        "email": SECOND_CUSTOMER_EMAIL,
        "company": "",
        "city": null,
        "country": null,
        "state": null,
        "zip": null,
        "lead_created_at": null,
        "free_trial_started_at": null,
        "customer-since": "2022-06-09T13:16:00-04:00",
        "status": "Active",
        "address": {
            "address_zip": null,
            "city": null,
            "country": null,
            "state": null
        },
        "attributes": {
            "custom": {
                "CAC": 213,
                "utmCampaign": "social media 1",
                "convertedAt": "2022-09-08 00:00:00",
                "pro": false,
                "channel": "Facebook"
            },
            "clearbit": {},
            "stripe": {"coupon": true},
            "tags": ["important", "Prio1"]
        },
        "mrr": 3000,
        "arr": 36000,
        "billing-system-url": "https://dashboard.stripe.com/customers/cus_4Z2ZpyJFuQ0XMb",
        "chartmogul-url": "https://app.chartmogul.com/#customers/25647-Smith_Company",
        "billing-system-type": "Stripe",
        "currency": "USD",
        "currency-sign": "$"
    })
}

/// The customers the emulator starts with, as `GET` answers them.
pub fn seed_customers() -> Vec<Value> {
    vec![seed_customer(), second_customer()]
}

/// One lookup seed, shaped like the customers of chartmogul-ruby's
/// recorded search answers (`owner` included, `billing-system-url` null).
#[allow(clippy::too_many_arguments)]
fn lookup_customer(
    id: u64,
    uuid: &str,
    data_source: &str,
    external_id: &str,
    name: &str,
    email: &str,
    since: Option<&str>,
    status: &str,
) -> Value {
    let slug = name.replace(' ', "_");
    json!({
        "id": id,
        "uuid": uuid,
        "external_id": external_id,
        "name": name,
        "email": email,
        "status": status,
        "customer-since": since,
        "attributes": {"custom": {}, "clearbit": {}, "stripe": {}, "tags": []},
        "data_source_uuid": data_source,
        "data_source_uuids": [data_source],
        "external_ids": [external_id],
        "company": name,
        "country": "US",
        "state": null,
        "city": "",
        "zip": null,
        "lead_created_at": null,
        "free_trial_started_at": null,
        "address": {"country": "US", "state": null, "city": "", "address_zip": null},
        "mrr": if since.is_some() { 5000 } else { 0 },
        "arr": if since.is_some() { 60000 } else { 0 },
        "billing-system-url": null,
        "chartmogul-url": format!("https://app.chartmogul.com/#/customers/{id}-{slug}"),
        "billing-system-type": "Import API",
        "currency": "USD",
        "currency-sign": "$",
        "owner": null
    })
}

/// The customers [`VendorHandle::add_lookup_seeds`](crate::VendorHandle::add_lookup_seeds)
/// adds: the two of [`LOOKUP_SHARED_UUIDS`](super::LOOKUP_SHARED_UUIDS)
/// (same email and external id, two data sources) and
/// [`LOOKUP_UNIQUE_UUID`](super::LOOKUP_UNIQUE_UUID).
pub fn lookup_seed_customers() -> Vec<Value> {
    vec![
        lookup_customer(
            30001,
            LOOKUP_SHARED_UUIDS[0],
            SEED_DATA_SOURCE_UUID,
            LOOKUP_SHARED_EXTERNAL_ID,
            "Twin Peaks Ltd",
            LOOKUP_SHARED_EMAIL,
            Some("2023-03-01T00:00:00+00:00"),
            "Active",
        ),
        lookup_customer(
            30002,
            LOOKUP_SHARED_UUIDS[1],
            LOOKUP_SECOND_DATA_SOURCE_UUID,
            LOOKUP_SHARED_EXTERNAL_ID,
            "Twin Peaks Ltd",
            LOOKUP_SHARED_EMAIL,
            None,
            "New Lead",
        ),
        lookup_customer(
            30003,
            LOOKUP_UNIQUE_UUID,
            SEED_DATA_SOURCE_UUID,
            LOOKUP_UNIQUE_EXTERNAL_ID,
            "Lone Pine Inc",
            LOOKUP_UNIQUE_EMAIL,
            Some("2024-02-15T09:30:00+00:00"),
            "Active",
        ),
    ]
}

pub(crate) struct State {
    /// The customers, in the order they were added (never removed).
    pub(super) customers: Vec<Value>,
    /// `customers` in list order (`customer-since`, then `id`): whatever
    /// may change a customer's `customer-since` or `id` re-files it with
    /// [`State::reindex`].
    pub(super) index: SortedIndex<Key>,
    pub(super) types: BTreeMap<String, AttrType>,
}

/// Re-derives the `address` object from the top-level `city`, `state`,
/// `zip` and `country`.
pub(super) fn sync_address(c: &mut Value) {
    let get = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
    let address = json!({
        "address_zip": get("zip"),
        "city": get("city"),
        "country": get("country"),
        "state": get("state"),
    });
    if let Some(obj) = c.as_object_mut() {
        obj.insert("address".into(), address);
    }
}

pub(super) fn custom_map(c: &mut Value) -> Option<&mut Map<String, Value>> {
    let attrs = c
        .as_object_mut()?
        .entry("attributes")
        .or_insert_with(|| json!({}));
    if !attrs.is_object() {
        *attrs = json!({});
    }
    let custom = attrs
        .as_object_mut()?
        .entry("custom")
        .or_insert_with(|| json!({}));
    if !custom.is_object() {
        *custom = json!({});
    }
    custom.as_object_mut()
}

pub(super) fn tags_list(c: &mut Value) -> Option<&mut Vec<Value>> {
    let attrs = c
        .as_object_mut()?
        .entry("attributes")
        .or_insert_with(|| json!({}));
    if !attrs.is_object() {
        *attrs = json!({});
    }
    let tags = attrs
        .as_object_mut()?
        .entry("tags")
        .or_insert_with(|| json!([]));
    if !tags.is_array() {
        *tags = json!([]);
    }
    tags.as_array_mut()
}

/// Entry fields of the custom-attributes-by-email answer (seed 002).
pub(super) const CUSTOM_BY_EMAIL_FIELDS: &[&str] = &[
    "id",
    "uuid",
    "external_id",
    "email",
    "name",
    "mrr",
    "arr",
    "status",
    "customer-since",
    "billing-system-url",
    "chartmogul-url",
    "billing-system-type",
    "currency",
    "currency-sign",
];

/// Entry fields of the tags-by-email answer (the vendor's "Add Tags to
/// Customers by Email" page).
pub(super) const TAGS_BY_EMAIL_FIELDS: &[&str] = &[
    "id",
    "uuid",
    "external_id",
    "name",
    "email",
    "status",
    "customer-since",
];

/// One entry of a by-email answer: `fields`, then `attributes` with the
/// groups the vendor prints there (`tags`, `stripe`, `custom`; no
/// `clearbit`).
pub(super) fn summary(c: &Value, fields: &[&str]) -> Value {
    let mut out = Map::new();
    for key in fields {
        out.insert((*key).into(), c.get(*key).cloned().unwrap_or(Value::Null));
    }
    let attrs = c.get("attributes");
    let mut groups = Map::new();
    for (k, default) in [
        ("tags", json!([])),
        ("stripe", json!({})),
        ("custom", json!({})),
    ] {
        let v = attrs.and_then(|a| a.get(k)).cloned().unwrap_or(default);
        groups.insert(k.into(), v);
    }
    out.insert("attributes".into(), Value::Object(groups));
    Value::Object(out)
}

impl State {
    pub(crate) fn seeded() -> State {
        let types = SEED_ATTRIBUTE_TYPES
            .iter()
            .filter_map(|(k, t)| AttrType::parse(t).map(|t| (k.to_string(), t)))
            .collect();
        let customers = seed_customers();
        let index = SortedIndex::new(customers.iter().map(key_of));
        State {
            customers,
            index,
            types,
        }
    }

    /// Re-files the customer at `i` in the list order after a change.
    pub(super) fn reindex(&mut self, i: usize) {
        self.index.set(i, key_of(&self.customers[i]));
    }

    /// Adds `c` to the store and to the list order.
    fn push(&mut self, c: Value) {
        self.index.extend([key_of(&c)]);
        self.customers.push(c);
    }

    pub(super) fn find(&self, uuid: &str) -> Option<usize> {
        self.customers
            .iter()
            .position(|c| c.get("uuid").and_then(Value::as_str) == Some(uuid))
    }

    pub(crate) fn customer(&self, uuid: &str) -> Option<Value> {
        self.find(uuid).map(|i| self.customers[i].clone())
    }

    /// Adds `n` copies of the first seeded customer under fresh ids and
    /// uuids (`cus_00000000-0000-4000-8000-` + a 12-digit counter); returns
    /// their uuids.
    pub(crate) fn add_copies(&mut self, n: usize) -> Vec<String> {
        let template = seed_customer();
        let since = key_of(&template).since;
        let next_id = crate::seed::next_int_id(&self.customers);
        let uuids = (0..n)
            .map(|k| {
                let id = next_id + k as i64;
                let uuid = format!("cus_00000000-0000-4000-8000-{id:012}");
                let mut c = template.clone();
                c["id"] = Value::from(id);
                c["uuid"] = Value::from(uuid.clone());
                c["external_id"] = Value::from(format!("copy_{id}"));
                self.customers.push(c);
                uuid
            })
            .collect();
        self.index
            .extend((0..n).map(|k| Key::new(since, next_id + k as i64)));
        uuids
    }

    /// Adds the lookup seeds not yet held (by uuid); returns the uuids of
    /// all of them.
    pub(crate) fn add_lookup_seeds(&mut self) -> Vec<String> {
        let mut uuids = Vec::new();
        for c in lookup_seed_customers() {
            let uuid = c
                .get("uuid")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if self.find(&uuid).is_none() {
                self.push(c);
            }
            uuids.push(uuid);
        }
        uuids
    }

    pub(crate) fn update_customer(&mut self, uuid: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        match self.find(uuid) {
            Some(i) => {
                f(&mut self.customers[i]);
                sync_address(&mut self.customers[i]);
                self.reindex(i);
                true
            }
            None => false,
        }
    }

    /// Indexes of the customers with this email (case-insensitive).
    pub(super) fn with_email(&self, email: &str) -> Vec<usize> {
        self.customers
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chartmogul::{SEED_CUSTOMER_EXTERNAL_ID, SEED_CUSTOMER_ID, SEED_CUSTOMER_UUID};

    #[test]
    fn the_seed_is_the_page_customer_under_the_documented_constants() {
        let seed = seed_customer();
        assert_eq!(seed["id"], json!(SEED_CUSTOMER_ID));
        assert_eq!(seed["uuid"], json!(SEED_CUSTOMER_UUID));
        assert_eq!(seed["data_source_uuid"], json!(SEED_DATA_SOURCE_UUID));
        assert_eq!(seed["external_id"], json!(SEED_CUSTOMER_EXTERNAL_ID));
        assert_eq!(seed["email"], json!(SEED_CUSTOMER_EMAIL));
        let mut page: Value = serde_json::from_str(SEED_CUSTOMER_PAGE_JSON).unwrap();
        page["email"] = seed["email"].clone();
        assert_eq!(seed, page);
    }
}
