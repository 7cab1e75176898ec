//! The stored customers, their seeds (the customer printed in the vendor's
//! `PUT` page and its parent), the modification clock, and the
//! `X-Rate-Limit-*` headers Fusebill sends on every answer.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{
    LOOKUP_MULTI_EMAIL_ID, LOOKUP_MULTI_PRIMARY_EMAIL, LOOKUP_SHARED_EMAIL,
    LOOKUP_SHARED_EMAIL_IDS, LOOKUP_SHARED_REFERENCE, LOOKUP_SHARED_REFERENCE_IDS,
    LOOKUP_UNIQUE_EMAIL, LOOKUP_UNIQUE_ID, LOOKUP_UNIQUE_REFERENCE, PARENT_CUSTOMER_EMAIL,
    SEED_CUSTOMER_EMAIL, SEED_CUSTOMER_PAGE_JSON, SEED_CUSTOMER_SECONDARY_EMAIL,
};
use crate::fault::RateLimit;
use crate::handle::RateUsage;
use crate::index::SortedIndex;
use crate::time::{format_ticks_z, parse_timestamp};

fn seed_customer() -> Value {
    let mut customer: Value =
        serde_json::from_str(SEED_CUSTOMER_PAGE_JSON).expect("the seed page's customer is JSON");
    customer["primaryEmail"] = json!(SEED_CUSTOMER_EMAIL);
    customer["secondaryEmail"] = json!(SEED_CUSTOMER_SECONDARY_EMAIL);
    customer
}

fn parent_customer() -> Value {
    json!({
        "firstName": "Robert",
        "middleName": null,
        "lastName": "Bertram",
        "companyName": "Ronbert Group",
        "suffix": null,
        "primaryEmail": PARENT_CUSTOMER_EMAIL,
        "primaryPhone": "+1 (613) 555-0142",
        "secondaryEmail": null,
        "secondaryPhone": null,
        "title": "Mr",
        "reference": "RG-0001",
        "status": "Active",
        "customerAccountStatus": "Good",
        "currency": "USD",
        "customerReference": {
            "reference1": null,
            "reference2": null,
            "reference3": null,
            "salesTrackingCodes": [],
            "id": 12000749,
            "uri": "https://secure.fusebill.com/v1/customers/12000749"
        },
        "customerAcquisition": {
            "adContent": null,
            "campaign": null,
            "keyword": null,
            "landingPage": null,
            "medium": null,
            "source": null,
            "id": 12000749,
            "uri": "https://secure.fusebill.com/v1/customers/12000749"
        },
        "monthlyRecurringRevenue": 0,
        "netMonthlyRecurringRevenue": 0,
        "salesforceId": null,
        "salesforceAccountType": null,
        "salesforceSynchStatus": "Enabled",
        "netsuiteId": null,
        "netsuiteSynchStatus": "Enabled",
        "netsuiteCustomerType": "Company",
        "portalUserName": null,
        "parentId": null,
        "quickBooksLatchType": null,
        "quickBooksId": null,
        "quickBooksSyncToken": null,
        "hubSpotId": null,
        "hubSpotCompanyId": null,
        "geotabId": null,
        "modifiedTimestamp": "2019-11-01T09:12:45.5530000Z",
        "createdTimestamp": "2017-12-31T23:10:05.47",
        "id": 12000749,
        "uri": "https://secure.fusebill.com/v1/customers/12000749"
    })
}

/// The customers the emulator starts with, as `GET` answers them.
pub fn seed_customers() -> Vec<Value> {
    vec![seed_customer(), parent_customer()]
}

/// One lookup seed, with every field a `GET` answers (as the parent seed).
fn lookup_customer(
    id: &str,
    first: &str,
    last: &str,
    company: &str,
    email: &str,
    reference: &str,
) -> Value {
    let id: i64 = id.parse().unwrap_or(0);
    let uri = format!("https://secure.fusebill.com/v1/customers/{id}");
    json!({
        "firstName": first,
        "middleName": null,
        "lastName": last,
        "companyName": company,
        "suffix": null,
        "primaryEmail": email,
        "primaryPhone": null,
        "secondaryEmail": null,
        "secondaryPhone": null,
        "title": null,
        "reference": reference,
        "status": "Active",
        "customerAccountStatus": "Good",
        "currency": "USD",
        "customerReference": {
            "reference1": null,
            "reference2": null,
            "reference3": null,
            "salesTrackingCodes": [],
            "id": id,
            "uri": uri
        },
        "customerAcquisition": {
            "adContent": null,
            "campaign": null,
            "keyword": null,
            "landingPage": null,
            "medium": null,
            "source": null,
            "id": id,
            "uri": uri
        },
        "monthlyRecurringRevenue": 0,
        "netMonthlyRecurringRevenue": 0,
        "salesforceId": null,
        "salesforceAccountType": null,
        "salesforceSynchStatus": "Enabled",
        "netsuiteId": null,
        "netsuiteSynchStatus": "Enabled",
        "netsuiteCustomerType": "Company",
        "portalUserName": null,
        "parentId": null,
        "quickBooksLatchType": null,
        "quickBooksId": null,
        "quickBooksSyncToken": null,
        "hubSpotId": null,
        "hubSpotCompanyId": null,
        "geotabId": null,
        "modifiedTimestamp": "2023-05-02T10:00:00.0000000Z",
        "createdTimestamp": "2023-05-02T10:00:00",
        "id": id,
        "uri": uri
    })
}

/// The customers [`VendorHandle::add_lookup_seeds`](crate::VendorHandle::add_lookup_seeds)
/// adds: two sharing a primary email
/// ([`LOOKUP_SHARED_EMAIL_IDS`](super::LOOKUP_SHARED_EMAIL_IDS)), two
/// sharing a reference
/// ([`LOOKUP_SHARED_REFERENCE_IDS`](super::LOOKUP_SHARED_REFERENCE_IDS)),
/// one with two `;`-separated primary addresses
/// ([`LOOKUP_MULTI_EMAIL_ID`](super::LOOKUP_MULTI_EMAIL_ID)) and one found
/// alone by email and by reference
/// ([`LOOKUP_UNIQUE_ID`](super::LOOKUP_UNIQUE_ID)).
pub fn lookup_seed_customers() -> Vec<Value> {
    let [a, b] = LOOKUP_SHARED_EMAIL_IDS;
    let [c, d] = LOOKUP_SHARED_REFERENCE_IDS;
    vec![
        lookup_customer(
            a,
            "Mia",
            "Hart",
            "Hart & Co",
            LOOKUP_SHARED_EMAIL,
            "HC-0801",
        ),
        lookup_customer(
            b,
            "Noah",
            "Hart",
            "Hart Labs",
            LOOKUP_SHARED_EMAIL,
            "HL-0802",
        ),
        lookup_customer(
            c,
            "Olive",
            "Grant",
            "Grant North",
            "olive@grantnorth.example.com",
            LOOKUP_SHARED_REFERENCE,
        ),
        lookup_customer(
            d,
            "Paul",
            "Grant",
            "Grant South",
            "paul@grantsouth.example.com",
            LOOKUP_SHARED_REFERENCE,
        ),
        lookup_customer(
            LOOKUP_MULTI_EMAIL_ID,
            "Quinn",
            "Vale",
            "Vale Partners",
            LOOKUP_MULTI_PRIMARY_EMAIL,
            "VP-0806",
        ),
        lookup_customer(
            LOOKUP_UNIQUE_ID,
            "Rosa",
            "Lind",
            "Lind Solo",
            LOOKUP_UNIQUE_EMAIL,
            LOOKUP_UNIQUE_REFERENCE,
        ),
    ]
}

pub(crate) struct State {
    /// The customers, in the order they were added (never removed).
    pub(super) customers: Vec<Value>,
    /// `customers` in list order (by `id`).
    pub(super) order: SortedIndex<i64>,
    /// `customers` by `modifiedTimestamp` (`None`, first, when it does not
    /// read as a timestamp), for `query=modifiedTimestamp:lower|upper`.
    pub(super) modified: SortedIndex<Option<DateTime<Utc>>>,
    last_modified: DateTime<Utc>,
}

pub(super) fn id_of(c: &Value) -> Option<i64> {
    c.get("id").and_then(Value::as_i64)
}

/// Where a customer sorts in the list: its `id` (none sorts last).
pub(super) fn list_key(c: &Value) -> i64 {
    id_of(c).unwrap_or(i64::MAX)
}

/// A customer's `modifiedTimestamp` as the range filter reads it.
pub(super) fn modified_key(c: &Value) -> Option<DateTime<Utc>> {
    c.get("modifiedTimestamp")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
}

impl State {
    pub(crate) fn seeded() -> State {
        let last_modified =
            parse_timestamp("2019-11-07T15:51:11.1915461Z").unwrap_or_else(Utc::now);
        let mut state = State {
            customers: seed_customers(),
            order: SortedIndex::default(),
            modified: SortedIndex::default(),
            last_modified,
        };
        state.index_added();
        state
    }

    pub(super) fn find(&self, id: i64) -> Option<usize> {
        self.order
            .equal(&id)
            .iter()
            .map(|(_, i)| *i)
            .find(|i| id_of(&self.customers[*i]) == Some(id))
    }

    /// Re-files the customer at `i` in both orders after a change: every
    /// change of a stored customer ends here.
    pub(super) fn reindex(&mut self, i: usize) {
        self.order.set(i, list_key(&self.customers[i]));
        self.modified.set(i, modified_key(&self.customers[i]));
    }

    /// Files the customers added since the orders last grew.
    fn index_added(&mut self) {
        let added = &self.customers[self.order.len()..];
        self.order.extend(added.iter().map(list_key));
        // Copies share their template's timestamp: parse each text once.
        let mut last: Option<(&str, Option<DateTime<Utc>>)> = None;
        let modified: Vec<Option<DateTime<Utc>>> = added
            .iter()
            .map(|c| {
                let text = c.get("modifiedTimestamp").and_then(Value::as_str);
                match (text, last) {
                    (Some(t), Some((seen, key))) if t == seen => key,
                    (Some(t), _) => {
                        let key = parse_timestamp(t);
                        last = Some((t, key));
                        key
                    }
                    (None, _) => None,
                }
            })
            .collect();
        self.modified.extend(modified);
    }

    pub(super) fn next_timestamp(&mut self) -> String {
        let now = Utc::now();
        let min_next = self.last_modified + chrono::Duration::nanoseconds(100);
        let ts = if now > min_next { now } else { min_next };
        self.last_modified = ts;
        format_ticks_z(ts)
    }

    /// Adds `n` copies of the first seeded customer under fresh integer
    /// ids (after the highest one held); returns their ids.
    pub(crate) fn add_copies(&mut self, n: usize) -> Vec<String> {
        let ids = crate::seed::add_int_copies(&mut self.customers, &seed_customers()[0], n);
        self.index_added();
        ids
    }

    /// Adds the lookup seeds not yet held (by id); returns the ids of all
    /// of them.
    pub(crate) fn add_lookup_seeds(&mut self) -> Vec<String> {
        let mut ids = Vec::new();
        for c in lookup_seed_customers() {
            let id = id_of(&c).unwrap_or(0);
            if self.find(id).is_none() {
                self.customers.push(c);
                self.index_added();
            }
            ids.push(id.to_string());
        }
        ids
    }

    pub(crate) fn customer(&self, id: &str) -> Option<Value> {
        let id: i64 = id.trim().parse().ok()?;
        self.find(id).map(|i| self.customers[i].clone())
    }

    pub(crate) fn update_customer(&mut self, id: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        let Ok(id) = id.trim().parse::<i64>() else {
            return false;
        };
        let Some(i) = self.find(id) else {
            return false;
        };
        f(&mut self.customers[i]);
        let ts = self.next_timestamp();
        if let Some(obj) = self.customers[i].as_object_mut() {
            obj.insert("modifiedTimestamp".into(), Value::String(ts));
        }
        self.reindex(i);
        true
    }
}

/// Fusebill's `X-Rate-Limit-*` headers for the current request count: the
/// per-minute limit (the limit set with `set_rate_limit`, else 1000), what
/// is left of it and when the oldest counted request leaves the window, and
/// the daily limit (5000 for the sandbox account limit, else 180000), what
/// is left of it and the seconds until UTC midnight.
pub(crate) fn rate_limit_headers(usage: &RateUsage) -> Vec<(String, String)> {
    let minute_limit = usage.limit.map(|l| l.requests as u64).unwrap_or(1000);
    let reset = match usage.oldest_leaves_in {
        Some(left) => left.as_secs() + u64::from(left.subsec_nanos() > 0),
        None => usage.per.as_secs(),
    };
    let day_limit: u64 = if usage.limit == Some(RateLimit::FUSEBILL_SANDBOX) {
        5_000
    } else {
        180_000
    };
    let now_utc = Utc::now();
    let midnight = (now_utc.date_naive() + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc());
    let day_reset = midnight
        .map(|m| (m - now_utc).num_seconds().max(0))
        .unwrap_or(0);
    vec![
        ("X-Rate-Limit-Limit-Minute".into(), minute_limit.to_string()),
        (
            "X-Rate-Limit-Remaining-Minute".into(),
            minute_limit.saturating_sub(usage.used).to_string(),
        ),
        ("X-Rate-Limit-Reset-Minute".into(), reset.to_string()),
        ("X-Rate-Limit-Limit-Day".into(), day_limit.to_string()),
        (
            "X-Rate-Limit-Remaining-Day".into(),
            day_limit.saturating_sub(usage.today).to_string(),
        ),
        ("X-Rate-Limit-Reset-Day".into(), day_reset.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::rate_limit_headers;
    use crate::fault::RateLimit;
    use crate::handle::RateUsage;

    #[test]
    fn the_seed_is_the_page_customer_with_readable_emails() {
        use super::super::{SEED_CUSTOMER_ID, SEED_CUSTOMER_PAGE_JSON};
        let seed = super::seed_customer();
        assert_eq!(seed["id"].to_string(), SEED_CUSTOMER_ID);
        assert_eq!(seed["primaryEmail"], super::SEED_CUSTOMER_EMAIL);
        assert_eq!(seed["secondaryEmail"], super::SEED_CUSTOMER_SECONDARY_EMAIL);
        let mut page: serde_json::Value = serde_json::from_str(SEED_CUSTOMER_PAGE_JSON).unwrap();
        page["primaryEmail"] = seed["primaryEmail"].clone();
        page["secondaryEmail"] = seed["secondaryEmail"].clone();
        assert_eq!(seed, page);
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    #[test]
    fn headers_follow_the_usage() {
        let usage = RateUsage {
            limit: Some(RateLimit::FUSEBILL_SANDBOX),
            per: Duration::from_secs(60),
            used: 3,
            oldest_leaves_in: Some(Duration::from_millis(1500)),
            today: 10,
        };
        let h = rate_limit_headers(&usage);
        let minute = RateLimit::FUSEBILL_SANDBOX.requests as u64;
        assert_eq!(header(&h, "X-Rate-Limit-Limit-Minute"), minute.to_string());
        assert_eq!(
            header(&h, "X-Rate-Limit-Remaining-Minute"),
            (minute - 3).to_string()
        );
        assert_eq!(header(&h, "X-Rate-Limit-Reset-Minute"), "2");
        assert_eq!(header(&h, "X-Rate-Limit-Limit-Day"), "5000");
        assert_eq!(header(&h, "X-Rate-Limit-Remaining-Day"), "4990");
        let idle = RateUsage {
            limit: None,
            per: Duration::from_secs(60),
            used: 0,
            oldest_leaves_in: None,
            today: 0,
        };
        let h = rate_limit_headers(&idle);
        assert_eq!(header(&h, "X-Rate-Limit-Limit-Minute"), "1000");
        assert_eq!(header(&h, "X-Rate-Limit-Reset-Minute"), "60");
        assert_eq!(header(&h, "X-Rate-Limit-Limit-Day"), "180000");
    }
}
