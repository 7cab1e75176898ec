//! The stored customers, their seeds, the list order (newest `created`
//! first, an index a page is a slice of), the email index the list's
//! `email` filter pages from, what search can see (which trails the store
//! by the configured lag), the idempotency keys seen and how many updates
//! each customer received.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::index::SortedIndex;

use super::{
    ADDRESS_CUSTOMER_EMAIL, ADDRESS_CUSTOMER_EXTERNAL_ID, ADDRESS_CUSTOMER_ID, LOOKUP_SHARED_EMAIL,
    LOOKUP_SHARED_EMAIL_IDS, LOOKUP_SHARED_EXTERNAL_ID, LOOKUP_SHARED_EXTERNAL_ID_IDS,
    LOOKUP_UNIQUE_EMAIL, LOOKUP_UNIQUE_EXTERNAL_ID, LOOKUP_UNIQUE_ID, SECOND_CUSTOMER_ID,
    SEED_CUSTOMER_EMAIL, SEED_CUSTOMER_ID,
};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in base 62, left-padded with `0` to `width` digits.
pub(crate) fn base62(mut n: u64, width: usize) -> String {
    let mut digits = Vec::with_capacity(width);
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// An address object with the six fields Stripe answers, all `null`.
pub(super) fn empty_address() -> Value {
    json!({"city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null})
}

/// A customer with every field `GET /v1/customers/{id}` answers, set to
/// what a fresh customer holds.
fn customer(id: &str, created: i64, invoice_prefix: &str) -> Value {
    json!({
        "id": id,
        "object": "customer",
        "address": null,
        "balance": 0,
        "created": created,
        "currency": null,
        "default_source": null,
        "delinquent": false,
        "description": null,
        "discount": null,
        "email": null,
        "invoice_prefix": invoice_prefix,
        "invoice_settings": {
            "custom_fields": null,
            "default_payment_method": null,
            "footer": null,
            "rendering_options": null
        },
        "livemode": false,
        "metadata": {},
        "name": null,
        "next_invoice_sequence": 1,
        "phone": null,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null
    })
}

fn seed_items() -> Vec<Value> {
    // The customer the "Update a customer" and "List all customers"
    // reference pages print.
    let mut jenny = customer(SEED_CUSTOMER_ID, 1680893993, "0759376C");
    jenny["name"] = json!("Jenny Rosen");
    jenny["email"] = json!(SEED_CUSTOMER_EMAIL);
    // The customer the "Search customers" reference page prints.
    let mut jane = customer(SECOND_CUSTOMER_ID, 1680569616, "47D37F8F");
    jane["name"] = json!("Jane Doe");
    jane["metadata"] = json!({"foo": "bar"});
    jane["invoice_settings"]["default_payment_method"] = json!("pm_1Msy7wLkdIwHu7ixsxmFvcz7");
    // The sandbox's own: an address, a phone, a currency and the caller's
    // own reference in `metadata[external_id]`.
    let mut harbour = customer(ADDRESS_CUSTOMER_ID, 1690000000, "5E1A2B3C");
    harbour["name"] = json!("Harbour Lights Ltd");
    harbour["email"] = json!(ADDRESS_CUSTOMER_EMAIL);
    harbour["phone"] = json!("+14155550123");
    harbour["currency"] = json!("usd");
    harbour["description"] = json!("Annual plan, invoiced");
    harbour["address"] = json!({
        "city": "San Francisco",
        "country": "US",
        "line1": "510 Townsend St",
        "line2": "Floor 2",
        "postal_code": "94103",
        "state": "CA"
    });
    harbour["metadata"] = json!({"external_id": ADDRESS_CUSTOMER_EXTERNAL_ID, "plan": "annual"});
    harbour["preferred_locales"] = json!(["en"]);
    vec![jenny, jane, harbour]
}

/// The customers the emulator starts with, as `GET` answers them:
/// [`SEED_CUSTOMER_ID`](super::SEED_CUSTOMER_ID) and
/// [`SECOND_CUSTOMER_ID`](super::SECOND_CUSTOMER_ID) as the reference
/// pages print them, and
/// [`ADDRESS_CUSTOMER_ID`](super::ADDRESS_CUSTOMER_ID), the sandbox's own,
/// with an address and `metadata[external_id]`.
pub fn seed_customers() -> Vec<Value> {
    seed_items()
}

fn lookup_item(id: &str, created: i64, name: &str, email: &str, external_id: &str) -> Value {
    let mut c = customer(
        id,
        created,
        &format!("LK{}", &id[id.len() - 4..].to_uppercase()),
    );
    c["name"] = json!(name);
    c["email"] = json!(email);
    c["metadata"] = json!({"external_id": external_id});
    c
}

/// The customers [`VendorHandle::add_lookup_seeds`](crate::VendorHandle::add_lookup_seeds)
/// adds: two sharing an email
/// ([`LOOKUP_SHARED_EMAIL_IDS`](super::LOOKUP_SHARED_EMAIL_IDS)), two
/// sharing `metadata[external_id]`
/// ([`LOOKUP_SHARED_EXTERNAL_ID_IDS`](super::LOOKUP_SHARED_EXTERNAL_ID_IDS)),
/// and one found alone by its email and by its external id
/// ([`LOOKUP_UNIQUE_ID`](super::LOOKUP_UNIQUE_ID)).
pub fn lookup_seed_customers() -> Vec<Value> {
    let [a, b] = LOOKUP_SHARED_EMAIL_IDS;
    let [c, d] = LOOKUP_SHARED_EXTERNAL_ID_IDS;
    vec![
        lookup_item(
            a,
            1700000001,
            "Fjordline AS",
            LOOKUP_SHARED_EMAIL,
            "FJ-0001",
        ),
        lookup_item(
            b,
            1700000002,
            "Fjordline Cargo AS",
            LOOKUP_SHARED_EMAIL,
            "FJ-0002",
        ),
        lookup_item(
            c,
            1700000003,
            "Acme Retail",
            "retail@acme.example.com",
            LOOKUP_SHARED_EXTERNAL_ID,
        ),
        lookup_item(
            d,
            1700000004,
            "Acme Wholesale",
            "wholesale@acme.example.com",
            LOOKUP_SHARED_EXTERNAL_ID,
        ),
        lookup_item(
            LOOKUP_UNIQUE_ID,
            1700000005,
            "Northwind Traders",
            LOOKUP_UNIQUE_EMAIL,
            LOOKUP_UNIQUE_EXTERNAL_ID,
        ),
    ]
}

/// Where a customer sorts in the list: newest `created` first, and among
/// equal ones the one added last first. `(-created, -position)`.
pub(super) type ListKey = (i64, i64);

/// What search sees of a customer: the fields its queries read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SearchDoc {
    pub(super) email: Option<String>,
    pub(super) name: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) metadata: Map<String, Value>,
}

impl SearchDoc {
    fn of(c: &Value) -> SearchDoc {
        let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
        SearchDoc {
            email: text("email"),
            name: text("name"),
            phone: text("phone"),
            metadata: c
                .get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// An idempotent request's answer, kept under its key.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    /// `POST /v1/customers/{id}`: the endpoint the key was first used on.
    pub(super) endpoint: String,
    /// The decoded parameters of the first request, sorted.
    pub(super) params: Vec<(String, String)>,
    pub(super) status: u16,
    pub(super) body: Vec<u8>,
    /// The `Request-Id` of the first request (`Original-Request` on a
    /// replay).
    pub(super) request_id: String,
}

/// How many idempotency keys the emulator remembers. Stripe keeps a key
/// for 24 hours (<https://docs.stripe.com/api/idempotent_requests>); the
/// emulator keeps the latest this many instead, so that a long run (both
/// official SDKs send a key with every `POST`) stays bounded in memory.
pub const MAX_IDEMPOTENCY_KEYS: usize = 100_000;

pub(crate) struct State {
    /// The customers, in the order they were added (never removed).
    pub(super) customers: Vec<Value>,
    /// Position of each id.
    ids: HashMap<String, usize>,
    /// `customers` in list order.
    pub(super) order: SortedIndex<ListKey>,
    /// Positions by exact email, in list order (the list's `email` filter).
    pub(super) by_email: HashMap<String, BTreeSet<(ListKey, usize)>>,
    /// What search sees of each customer.
    pub(super) searchable: Vec<SearchDoc>,
    /// Changes search does not see yet: when they become visible, whose,
    /// and what it will see.
    pending: Vec<(Instant, usize, SearchDoc)>,
    /// How long a change takes to become searchable.
    pub(crate) search_lag: Duration,
    /// Updates applied by `POST /v1/customers/{id}`, per position.
    pub(super) updates: Vec<u64>,
    /// Idempotency keys seen, with the answer kept for each.
    idempotency: HashMap<String, Stored>,
    /// The keys of `idempotency`, oldest first: past
    /// [`MAX_IDEMPOTENCY_KEYS`] the oldest is forgotten.
    idempotency_order: std::collections::VecDeque<String>,
    /// Customers created by the emulator so far (the source of new ids).
    minted: u64,
}

fn list_key(c: &Value, position: usize) -> ListKey {
    let created = c.get("created").and_then(Value::as_i64).unwrap_or(0);
    (-created, -(position as i64))
}

fn email_of(c: &Value) -> Option<String> {
    c.get("email").and_then(Value::as_str).map(str::to_string)
}

impl State {
    /// The answer kept under an idempotency key, if remembered.
    pub(super) fn idempotent_answer(&self, key: &str) -> Option<&Stored> {
        self.idempotency.get(key)
    }

    /// Keeps `stored` under `key`, forgetting the oldest key past `cap`.
    pub(super) fn keep_idempotent_answer(&mut self, key: String, stored: Stored, cap: usize) {
        if self.idempotency.insert(key.clone(), stored).is_none() {
            self.idempotency_order.push_back(key);
        }
        while self.idempotency_order.len() > cap {
            if let Some(old) = self.idempotency_order.pop_front() {
                self.idempotency.remove(&old);
            }
        }
    }

    pub(crate) fn seeded() -> State {
        let mut state = State {
            customers: Vec::new(),
            ids: HashMap::new(),
            order: SortedIndex::new([]),
            by_email: HashMap::new(),
            searchable: Vec::new(),
            pending: Vec::new(),
            search_lag: Duration::ZERO,
            updates: Vec::new(),
            idempotency: HashMap::new(),
            idempotency_order: std::collections::VecDeque::new(),
            minted: 0,
        };
        for c in seed_items() {
            state.push(c);
        }
        state
    }

    /// Adds a customer, searchable at once (it is taken to exist from
    /// before the test).
    fn push(&mut self, c: Value) -> String {
        let position = self.customers.len();
        let id = c
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.ids.insert(id.clone(), position);
        let key = list_key(&c, position);
        if let Some(email) = email_of(&c) {
            self.by_email
                .entry(email)
                .or_default()
                .insert((key, position));
        }
        self.searchable.push(SearchDoc::of(&c));
        self.updates.push(0);
        self.customers.push(c);
        self.order.extend([key]);
        id
    }

    pub(super) fn find(&self, id: &str) -> Option<usize> {
        self.ids.get(id).copied()
    }

    /// A fresh id of Stripe's form: `cus_` and 14 alphanumerics.
    fn mint_id(&mut self) -> String {
        loop {
            self.minted += 1;
            let id = format!("cus_Sbx{}", base62(self.minted, 11));
            if !self.ids.contains_key(&id) {
                return id;
            }
        }
    }

    /// Adds `n` copies of the first seeded customer under fresh ids,
    /// created now (never before the newest customer held); returns their
    /// ids.
    pub(crate) fn add_copies(&mut self, n: usize) -> Vec<String> {
        let template = &seed_items()[0];
        let now = chrono::Utc::now().timestamp();
        let newest = self
            .customers
            .iter()
            .filter_map(|c| c.get("created").and_then(Value::as_i64))
            .max()
            .unwrap_or(0);
        let created = now.max(newest);
        (0..n)
            .map(|_| {
                let id = self.mint_id();
                let mut c = template.clone();
                c["id"] = json!(id);
                c["created"] = json!(created);
                c["invoice_prefix"] = json!(format!(
                    "{:08X}",
                    self.minted.wrapping_mul(0x9E37_79B9) as u32
                ));
                self.push(c)
            })
            .collect()
    }

    /// Adds the lookup seeds not yet held (by id); returns the ids of all
    /// of them.
    pub(crate) fn add_lookup_seeds(&mut self) -> Vec<String> {
        lookup_seed_customers()
            .into_iter()
            .map(|c| {
                let id = c["id"].as_str().unwrap_or_default().to_string();
                if self.find(&id).is_none() {
                    self.push(c);
                }
                id
            })
            .collect()
    }

    pub(crate) fn customer(&self, id: &str) -> Option<Value> {
        self.find(id).map(|i| self.customers[i].clone())
    }

    /// Replaces the customer at `position` with `new`, re-filing it in the
    /// indexes and scheduling what search will see.
    pub(super) fn replace(&mut self, position: usize, new: Value) {
        let old = std::mem::replace(&mut self.customers[position], new);
        let new = &self.customers[position];
        let (old_key, new_key) = (list_key(&old, position), list_key(new, position));
        let (old_email, new_email) = (email_of(&old), email_of(new));
        if old_key != new_key || old_email != new_email {
            if let Some(e) = &old_email {
                if let Some(set) = self.by_email.get_mut(e) {
                    set.remove(&(old_key, position));
                    if set.is_empty() {
                        self.by_email.remove(e);
                    }
                }
            }
            if let Some(e) = new_email {
                self.by_email
                    .entry(e)
                    .or_default()
                    .insert((new_key, position));
            }
            self.order.set(position, new_key);
        }
        let old_id = old.get("id").and_then(Value::as_str).unwrap_or_default();
        let new_id = new
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if old_id != new_id {
            self.ids.remove(old_id);
            self.ids.insert(new_id, position);
        }
        let doc = SearchDoc::of(&self.customers[position]);
        if self.search_lag.is_zero() {
            self.searchable[position] = doc;
        } else {
            self.pending
                .push((Instant::now() + self.search_lag, position, doc));
        }
    }

    /// Makes searchable every change whose lag has passed.
    pub(super) fn settle_search(&mut self, now: Instant) {
        if self.pending.is_empty() {
            return;
        }
        let mut due = Vec::new();
        self.pending.retain(|(at, position, doc)| {
            if *at <= now {
                due.push((*at, *position, doc.clone()));
                false
            } else {
                true
            }
        });
        due.sort_by_key(|(at, _, _)| *at);
        for (_, position, doc) in due {
            self.searchable[position] = doc;
        }
    }

    pub(crate) fn update_customer(&mut self, id: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        match self.find(id) {
            Some(i) => {
                let mut c = self.customers[i].clone();
                f(&mut c);
                self.replace(i, c);
                true
            }
            None => false,
        }
    }

    /// How many `POST /v1/customers/{id}` updates were applied to `id`.
    pub(crate) fn update_count(&self, id: &str) -> Option<u64> {
        self.find(id).map(|i| self.updates[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_past_the_cap_are_forgotten_oldest_first() {
        let mut state = State::seeded();
        let stored = |n: u16| Stored {
            endpoint: "POST /v1/customers/cus_1".into(),
            params: vec![],
            status: 200,
            body: n.to_string().into_bytes(),
            request_id: format!("req_{n}"),
        };
        for n in 0..4u16 {
            state.keep_idempotent_answer(format!("k{n}"), stored(n), 3);
        }
        assert!(
            state.idempotent_answer("k0").is_none(),
            "the oldest is forgotten"
        );
        for n in 1..4u16 {
            let kept = state.idempotent_answer(&format!("k{n}")).expect("kept");
            assert_eq!(kept.body, n.to_string().into_bytes());
        }
        // A key kept again does not count twice.
        state.keep_idempotent_answer("k3".into(), stored(9), 3);
        assert!(state.idempotent_answer("k1").is_some());
        assert_eq!(state.idempotency.len(), 3);
    }

    #[test]
    fn ids_have_stripes_form_and_copies_sort_newest_first() {
        let mut state = State::seeded();
        let ids = state.add_copies(3);
        for id in &ids {
            assert!(id.starts_with("cus_") && id.len() == 18, "{id}");
            assert!(id[4..].bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        }
        for c in seed_customers().iter().chain(&lookup_seed_customers()) {
            let id = c["id"].as_str().unwrap();
            assert!(id.starts_with("cus_") && id.len() == 18, "{id}");
        }
        let order: Vec<&str> = state
            .order
            .entries()
            .iter()
            .map(|(_, p)| state.customers[*p]["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            order,
            [
                ids[2].as_str(),
                &ids[1],
                &ids[0],
                ADDRESS_CUSTOMER_ID,
                SEED_CUSTOMER_ID,
                SECOND_CUSTOMER_ID
            ]
        );
        assert_eq!(base62(61, 3), "00z");
        assert_eq!(base62(62, 3), "010");
    }

    #[test]
    fn email_index_and_search_follow_edits_after_the_lag() {
        let mut state = State::seeded();
        assert_eq!(state.add_lookup_seeds().len(), 5);
        assert_eq!(state.add_lookup_seeds().len(), 5);
        assert_eq!(state.customers.len(), 8);
        assert_eq!(state.by_email[LOOKUP_SHARED_EMAIL].len(), 2);
        state.search_lag = Duration::from_secs(3600);
        assert!(state.update_customer(LOOKUP_UNIQUE_ID, &mut |c| {
            c["email"] = json!("moved@example.com");
            c["metadata"]["external_id"] = json!("NEW");
        }));
        assert!(!state.by_email.contains_key(LOOKUP_UNIQUE_EMAIL));
        assert_eq!(state.by_email["moved@example.com"].len(), 1);
        let p = state.find(LOOKUP_UNIQUE_ID).unwrap();
        state.settle_search(Instant::now());
        assert_eq!(
            state.searchable[p].email.as_deref(),
            Some(LOOKUP_UNIQUE_EMAIL)
        );
        state.settle_search(Instant::now() + Duration::from_secs(3601));
        assert_eq!(
            state.searchable[p].email.as_deref(),
            Some("moved@example.com")
        );
        assert_eq!(state.searchable[p].metadata["external_id"], json!("NEW"));
        assert!(!state.update_customer("cus_missing", &mut |_| {}));
    }
}
