//! The stored customers (bare items), their seeds (the emulator's own: the
//! vendor's page documents none) and the `{"links","item"}` wrapper.

use serde_json::{json, Value};

use super::{PutShape, SECOND_CUSTOMER_EMAIL, SEED_CUSTOMER_EMAIL};

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

pub(crate) struct State {
    pub(super) customers: Vec<Value>,
    pub(super) base_url: String,
    pub(crate) put_shape: PutShape,
}

impl State {
    pub(crate) fn seeded(base_url: &str) -> State {
        State {
            customers: seed_items(),
            base_url: base_url.to_string(),
            put_shape: PutShape::Wrapped,
        }
    }

    pub(super) fn find(&self, id: &str) -> Option<usize> {
        let id: i64 = id.trim().parse().ok()?;
        self.customers
            .iter()
            .position(|c| c.get("id").and_then(Value::as_i64) == Some(id))
    }

    /// Adds `n` copies of the first seeded customer under fresh integer
    /// ids (after the highest one held); returns their ids.
    pub(crate) fn add_copies(&mut self, n: usize) -> Vec<String> {
        let template = seed_items()[0].clone();
        let next = self
            .customers
            .iter()
            .filter_map(|c| c.get("id").and_then(Value::as_i64))
            .max()
            .unwrap_or(0)
            + 1;
        (0..n)
            .map(|k| {
                let id = next + k as i64;
                let mut c = template.clone();
                c["id"] = Value::from(id);
                self.customers.push(c);
                id.to_string()
            })
            .collect()
    }

    pub(crate) fn customer(&self, id: &str) -> Option<Value> {
        self.find(id).map(|i| self.customers[i].clone())
    }

    pub(crate) fn update_customer(&mut self, id: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        match self.find(id) {
            Some(i) => {
                f(&mut self.customers[i]);
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
