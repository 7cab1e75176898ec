//! The stored customers (bare items), their seeds (the emulator's own: the
//! vendor's page documents none) and the `{"links","item"}` wrapper.

use serde_json::{json, Value};

use crate::index::SortedIndex;

use super::{
    PutShape, LOOKUP_SHARED_EMAIL, LOOKUP_SHARED_IDS, LOOKUP_UNIQUE_EMAIL, LOOKUP_UNIQUE_ID,
    LOOKUP_UNIQUE_UNIQUE_ID, SECOND_CUSTOMER_EMAIL, SEED_CUSTOMER_EMAIL,
};

fn seed_items() -> Vec<Value> {
    vec![
        json!({
            "id": 1001,
            "name": "Cape Mailers (Pty) Ltd",
            "email": SEED_CUSTOMER_EMAIL,
            "status": "on",
            "email_package_id": 3,
            "email_quota": 50000,
            "sms_quota": 2000,
            "transactions_package_id": 2,
            "transactions_quota": 10000,
            "deleted": "no",
            "address": "12 Loop Street, Cape Town City Centre",
            "state_provinces": "Western Cape",
            "postal_code": "8001",
            "telephone": "+27 21 555 0100",
            "website_url": "https://capemailers.example.com",
            "country": "ZA",
            "industry": "Hospitality, Travel & Tourism",
            "unique_id": "CM-0001"
        }),
        json!({
            "id": 1002,
            "name": "Karoo Books",
            "email": SECOND_CUSTOMER_EMAIL,
            "status": "off",
            "email_package_id": 1,
            "email_quota": 5000,
            "sms_quota": 0,
            "transactions_package_id": 1,
            "transactions_quota": 0,
            "deleted": "no",
            "address": "4 Church Street, Graaff-Reinet",
            "state_provinces": "Eastern Cape",
            "postal_code": "6280",
            "telephone": "+27 49 555 0199",
            "website_url": "https://karoobooks.example.com",
            "country": "ZA",
            "industry": "Publishing & Media",
            "unique_id": "KB-0002"
        }),
    ]
}

/// The customers the emulator starts with (bare items, as
/// [`VendorHandle::customer`](crate::VendorHandle::customer) answers).
pub fn seed_customers() -> Vec<Value> {
    seed_items()
}

fn lookup_item(id: &str, name: &str, email: &str, unique_id: &str) -> Value {
    let id: i64 = id.parse().unwrap_or(0);
    json!({
        "id": id,
        "name": name,
        "email": email,
        "status": "on",
        "email_package_id": 1,
        "email_quota": 5000,
        "sms_quota": 0,
        "transactions_package_id": 1,
        "transactions_quota": 0,
        "deleted": "no",
        "address": "",
        "state_provinces": "",
        "postal_code": "",
        "telephone": "",
        "website_url": "",
        "country": "ZA",
        "industry": "Retail & Wholesale",
        "unique_id": unique_id
    })
}

/// The customers [`VendorHandle::add_lookup_seeds`](crate::VendorHandle::add_lookup_seeds)
/// adds: two sharing an email ([`LOOKUP_SHARED_IDS`](super::LOOKUP_SHARED_IDS))
/// and one with its own email and `unique_id`
/// ([`LOOKUP_UNIQUE_ID`](super::LOOKUP_UNIQUE_ID)). Everlytic documents no
/// customer search: a client can only read the whole collection.
pub fn lookup_seed_customers() -> Vec<Value> {
    let [a, b] = LOOKUP_SHARED_IDS;
    vec![
        lookup_item(a, "Umhlanga Outfitters", LOOKUP_SHARED_EMAIL, "UO-1003"),
        lookup_item(
            b,
            "Umhlanga Outfitters (Events)",
            LOOKUP_SHARED_EMAIL,
            "UO-1004",
        ),
        lookup_item(
            LOOKUP_UNIQUE_ID,
            "Stellenbosch Cellars",
            LOOKUP_UNIQUE_EMAIL,
            LOOKUP_UNIQUE_UNIQUE_ID,
        ),
    ]
}

pub(crate) struct State {
    /// The customers, in the order they were added (never removed).
    pub(super) customers: Vec<Value>,
    /// `customers` in list order (by `id`): whatever may change a
    /// customer's `id` re-files it with [`State::reindex`].
    pub(super) order: SortedIndex<i64>,
    pub(crate) base_url: String,
    pub(crate) put_shape: PutShape,
}

/// Where a customer sorts in the list: its `id` (none sorts last).
fn list_key(c: &Value) -> i64 {
    c.get("id").and_then(Value::as_i64).unwrap_or(i64::MAX)
}

impl State {
    pub(crate) fn seeded(base_url: &str) -> State {
        let customers = seed_items();
        State {
            order: SortedIndex::new(customers.iter().map(list_key)),
            customers,
            base_url: base_url.to_string(),
            put_shape: PutShape::Wrapped,
        }
    }

    pub(super) fn find(&self, id: &str) -> Option<usize> {
        let id: i64 = id.trim().parse().ok()?;
        self.order
            .equal(&id)
            .iter()
            .map(|(_, i)| *i)
            .find(|i| self.customers[*i].get("id").and_then(Value::as_i64) == Some(id))
    }

    /// Re-files the customer at `i` in the list order after a change.
    pub(super) fn reindex(&mut self, i: usize) {
        self.order.set(i, list_key(&self.customers[i]));
    }

    /// Files the customers added since the list order last grew.
    fn index_added(&mut self) {
        let added = &self.customers[self.order.len()..];
        self.order.extend(added.iter().map(list_key));
    }

    /// Adds `n` copies of the first seeded customer under fresh integer
    /// ids (after the highest one held); returns their ids.
    pub(crate) fn add_copies(&mut self, n: usize) -> Vec<String> {
        let ids = crate::seed::add_int_copies(&mut self.customers, &seed_items()[0], n);
        self.index_added();
        ids
    }

    /// Adds the lookup seeds not yet held (by id); returns the ids of all
    /// of them.
    pub(crate) fn add_lookup_seeds(&mut self) -> Vec<String> {
        let mut ids = Vec::new();
        for c in lookup_seed_customers() {
            let id = c.get("id").and_then(Value::as_i64).unwrap_or(0).to_string();
            if self.find(&id).is_none() {
                self.customers.push(c);
                self.index_added();
            }
            ids.push(id);
        }
        ids
    }

    pub(crate) fn customer(&self, id: &str) -> Option<Value> {
        self.find(id).map(|i| self.customers[i].clone())
    }

    pub(crate) fn update_customer(&mut self, id: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        match self.find(id) {
            Some(i) => {
                f(&mut self.customers[i]);
                self.reindex(i);
                true
            }
            None => false,
        }
    }

    fn self_link(&self, id: &Value) -> Value {
        json!({
            "title": "Self",
            "rel": "self",
            "href": format!("{}/api/2.0/customers/{}", self.base_url, id),
        })
    }

    pub(super) fn wrapped(&self, item: &Value) -> Value {
        let id = item.get("id").cloned().unwrap_or(Value::Null);
        json!({"links": [self.self_link(&id)], "item": item})
    }
}
