//! Finding customers: `GET /v1/customers/search?email=` and the customer
//! list `GET /v1/customers` (filtered by `external_id`, `data_source_uuid`,
//! `status`, `system`), both paged with `per_page` and an opaque cursor.
//!
//! Shapes follow the official Ruby client's recorded answers
//! (chartmogul-ruby `spec/fixtures/vcr_cassettes/ChartMogul_Customer/`):
//! the first page carries `entries`, the deprecated `current_page`,
//! `total_pages` (`null` on search), `per_page`, `page`, then `has_more`
//! and `cursor`; a page asked for with `cursor` carries only `entries`,
//! `cursor` and `has_more`. Customers come in `customer-since` order
//! (customers without one last), then by `id`; the cursor is the base64
//! of `<customer-since as YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ>&<id>` of the last
//! entry answered (`&<id>` when it has no `customer-since`), `null` when
//! the page is empty.
//!
//! The list is read off the store's ordered index from the cursor on, so a
//! page of 100,000 customers costs a binary search and the page; only a
//! filtered first page counts every match (for `total_pages`).

use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

use super::errors::err_code;
use super::state::State;
use crate::http::{Req, Resp};
use crate::time::parse_timestamp;

/// `per_page` when none is sent, and the largest accepted.
pub(super) const MAX_PER_PAGE: usize = 200;

/// Where a customer sorts: `customer-since` (none sorts last), then `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Key {
    pub(super) since: Option<DateTime<Utc>>,
    id: i64,
}

impl Key {
    pub(super) fn new(since: Option<DateTime<Utc>>, id: i64) -> Key {
        Key { since, id }
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        let since = match (&self.since, &other.since) {
            (Some(a), Some(b)) => a.cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        since.then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Where `c` sorts.
pub(super) fn key_of(c: &Value) -> Key {
    Key {
        since: c
            .get("customer-since")
            .and_then(Value::as_str)
            .and_then(parse_timestamp),
        id: c.get("id").and_then(Value::as_i64).unwrap_or(0),
    }
}

fn encode_cursor(key: &Key) -> String {
    let since = key
        .since
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string())
        .unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(format!("{since}&{}", key.id))
}

fn decode_cursor(cursor: &str) -> Option<Key> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (since, id) = text.rsplit_once('&')?;
    let id = id.parse().ok()?;
    let since = if since.is_empty() {
        None
    } else {
        Some(parse_timestamp(since)?)
    };
    Some(Key { since, id })
}

/// The paging parameters of one request.
struct Paging {
    per_page: usize,
    after: Option<Key>,
}

fn paging(req: &Req) -> Result<Paging, Resp> {
    let per_page = match req.query_param("per_page") {
        None => MAX_PER_PAGE,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
            _ => {
                return Err(err_code(
                    422,
                    &format!("per_page must be an integer from 1 to {MAX_PER_PAGE}, got \"{v}\""),
                    Some("per_page"),
                ))
            }
        },
    };
    let after = match req.query_param("cursor") {
        None => None,
        Some(c) => match decode_cursor(&c) {
            Some(k) => Some(k),
            None => {
                return Err(err_code(
                    400,
                    "cursor is not a cursor this API answered",
                    Some("cursor"),
                ))
            }
        },
    };
    Ok(Paging { per_page, after })
}

/// One page: `entries` (at most `per_page`, in order, after the cursor),
/// whether more match after them, and how many match in all (used by the
/// first page's `total_pages` when `total_pages` is set). The first page
/// has the long shape, a page asked for with a cursor the short one.
fn page(
    entries: &[(Key, &Value)],
    has_more: bool,
    total: usize,
    paging: &Paging,
    total_pages: bool,
) -> Value {
    let cursor = entries
        .last()
        .map(|(k, _)| Value::String(encode_cursor(k)))
        .unwrap_or(Value::Null);
    let mut out = Map::new();
    out.insert(
        "entries".into(),
        Value::Array(entries.iter().map(|(_, c)| (*c).clone()).collect()),
    );
    if paging.after.is_none() {
        out.insert("current_page".into(), json!(1));
        let pages = if total_pages {
            json!(total.div_ceil(paging.per_page).max(1))
        } else {
            Value::Null
        };
        out.insert("total_pages".into(), pages);
        out.insert("has_more".into(), json!(has_more));
        out.insert("per_page".into(), json!(paging.per_page));
        out.insert("page".into(), json!(1));
        out.insert("cursor".into(), cursor);
    } else {
        out.insert("cursor".into(), cursor);
        out.insert("has_more".into(), json!(has_more));
    }
    Value::Object(out)
}

fn contains_text(c: &Value, key: &str, wanted: &str) -> bool {
    match c.get(key) {
        Some(Value::String(s)) => s == wanted,
        Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(wanted)),
        _ => false,
    }
}

impl State {
    /// `GET /v1/customers/search?email=X`: every customer with that email
    /// (compared without regard to case); none is a 404 naming the email.
    pub(super) fn search(&self, req: &Req) -> Resp {
        let email = match req.query_param("email") {
            Some(e) if !e.trim().is_empty() => e,
            _ => return err_code(400, "The email parameter is required", Some("email")),
        };
        let paging = match paging(req) {
            Ok(p) => p,
            Err(resp) => return resp,
        };
        let mut matches: Vec<(Key, usize)> = self
            .with_email(&email)
            .into_iter()
            .map(|i| (self.index.key(i), i))
            .collect();
        if matches.is_empty() {
            return err_code(
                404,
                &format!("Can't find any customers with email: \"{email}\""),
                Some("email"),
            );
        }
        let total = matches.len();
        matches.sort_unstable();
        let rest = match &paging.after {
            Some(after) => &matches[matches.partition_point(|(k, _)| k <= after)..],
            None => &matches[..],
        };
        let entries: Vec<(Key, &Value)> = rest
            .iter()
            .take(paging.per_page)
            .map(|(k, i)| (*k, &self.customers[*i]))
            .collect();
        let has_more = rest.len() > paging.per_page;
        Resp::json(200, &page(&entries, has_more, total, &paging, false))
    }

    /// `GET /v1/customers`: every customer, or those matching all of
    /// `external_id` (one of the customer's `external_ids`),
    /// `data_source_uuid` (one of its `data_source_uuids`), `status` and
    /// `system` (its `billing-system-type`); no match is an empty page.
    pub(super) fn list(&self, req: &Req) -> Resp {
        let paging = match paging(req) {
            Ok(p) => p,
            Err(resp) => return resp,
        };
        let mut filters: Vec<(&str, String)> = Vec::new();
        for (param, key) in [
            ("external_id", "external_ids"),
            ("data_source_uuid", "data_source_uuids"),
            ("status", "status"),
            ("system", "billing-system-type"),
        ] {
            if let Some(v) = req.query_param(param) {
                filters.push((key, v));
            }
        }
        let matches = |c: &Value| filters.iter().all(|(key, v)| contains_text(c, key, v));
        // The page is read off the list order from the cursor on: the
        // customers it skips are the ones the filters refuse.
        let rest = match &paging.after {
            Some(after) => self.index.after(after),
            None => self.index.entries(),
        };
        let mut found = rest
            .iter()
            .map(|(k, i)| (*k, &self.customers[*i]))
            .filter(|(_, c)| matches(c));
        let entries: Vec<(Key, &Value)> = found.by_ref().take(paging.per_page).collect();
        let has_more = found.next().is_some();
        // Only the first page counts the matches (for `total_pages`).
        let total = if paging.after.is_some() {
            0
        } else if filters.is_empty() {
            self.customers.len()
        } else {
            self.customers.iter().filter(|c| matches(c)).count()
        };
        Resp::json(200, &page(&entries, has_more, total, &paging, true))
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_cursor, encode_cursor, key_of};
    use crate::chartmogul::state::State;
    use crate::http::Req;
    use serde_json::{json, Value};

    fn get(state: &State, query: &str) -> Value {
        let resp = state.list(&Req::get("/v1/customers", query));
        assert_eq!(resp.status, 200);
        serde_json::from_slice(&resp.body).unwrap()
    }

    /// Every page of `query`, following the cursors: the uuids in the
    /// order answered, and the first page's `total_pages`.
    fn all_pages(state: &State, query: &str) -> (Vec<String>, Value) {
        let first = get(state, query);
        let total_pages = first["total_pages"].clone();
        let mut uuids = Vec::new();
        let mut page = first;
        loop {
            for c in page["entries"].as_array().unwrap() {
                uuids.push(c["uuid"].as_str().unwrap().to_string());
            }
            if page["has_more"] != json!(true) {
                return (uuids, total_pages);
            }
            let cursor = page["cursor"].as_str().unwrap().to_string();
            page = get(state, &format!("{query}&cursor={cursor}"));
        }
    }

    /// What the list must answer: the customers `keep` accepts, sorted by
    /// `customer-since` (none last) then `id`, as a pass over the whole
    /// store finds them.
    fn expected(state: &State, keep: impl Fn(&Value) -> bool) -> Vec<String> {
        let mut found: Vec<&Value> = state.customers.iter().filter(|c| keep(c)).collect();
        found.sort_by_key(|c| key_of(c));
        found
            .iter()
            .map(|c| c["uuid"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn pages_keep_the_list_order_after_updates_move_customers() {
        let mut state = State::seeded();
        let copies = state.add_copies(40);
        state.add_lookup_seeds();
        // Move customers in the order: earlier, later, out of the dated
        // ones (no customer-since), and by id among equal dates.
        let moves: [(&str, Value, Option<i64>); 5] = [
            (&copies[30], json!("2010-01-01T00:00:00+00:00"), None),
            (&copies[3], json!("2030-05-01T12:00:00Z"), None),
            (&copies[7], Value::Null, None),
            (&copies[12], json!("2015-06-19T13:16:00-04:00"), Some(1)),
            (&copies[20], json!("2022-06-09T13:16:00-04:00"), None),
        ];
        for (uuid, since, id) in moves {
            assert!(state.update_customer(uuid, &mut |c| {
                c["customer-since"] = since.clone();
                if let Some(id) = id {
                    c["id"] = json!(id);
                }
                c["status"] = json!("Working Lead");
            }));
        }
        // And back again: the index follows every change, not the first.
        assert!(state.update_customer(&copies[20], &mut |c| {
            c["customer-since"] = json!("2012-02-02T00:00:00Z");
        }));

        let all = expected(&state, |_| true);
        assert_eq!(all.len(), 2 + 40 + 3);
        assert_eq!(all[0], copies[30]);
        assert_eq!(all[all.len() - 1], copies[7]);
        for per_page in [1, 7, 200] {
            let (uuids, total_pages) = all_pages(&state, &format!("per_page={per_page}"));
            assert_eq!(uuids, all, "per_page={per_page}");
            assert_eq!(total_pages, json!(all.len().div_ceil(per_page)));
        }
        let leads = expected(&state, |c| c["status"] == json!("Working Lead"));
        assert_eq!(leads.len(), 5);
        let (uuids, total_pages) = all_pages(&state, "per_page=2&status=Working+Lead");
        assert_eq!(uuids, leads);
        assert_eq!(total_pages, json!(3));
    }

    #[test]
    fn cursors_spell_like_the_recorded_ones() {
        // chartmogul-ruby's recording: customer-since 2016-01-25, id 114167451.
        let c = json!({"id": 114167451, "customer-since": "2016-01-25T00:00:00+00:00"});
        let cursor = encode_cursor(&key_of(&c));
        assert_eq!(
            cursor,
            "MjAxNi0wMS0yNVQwMDowMDowMC4wMDAwMDAwMDBaJjExNDE2NzQ1MQ=="
        );
        assert_eq!(decode_cursor(&cursor), Some(key_of(&c)));
        // A lead without customer-since: "&132752268".
        let lead = json!({"id": 132752268, "customer-since": null});
        assert_eq!(encode_cursor(&key_of(&lead)), "JjEzMjc1MjI2OA==");
        assert_eq!(decode_cursor("JjEzMjc1MjI2OA=="), Some(key_of(&lead)));
        assert_eq!(decode_cursor("not a cursor"), None);
        assert_eq!(decode_cursor("Zm9v"), None); // "foo"
    }

    #[test]
    fn customers_without_customer_since_sort_last() {
        let lead = key_of(&json!({"id": 1, "customer-since": null}));
        let old = key_of(&json!({"id": 9, "customer-since": "2015-06-19T13:16:00-04:00"}));
        let new = key_of(&json!({"id": 2, "customer-since": "2022-06-09T13:16:00-04:00"}));
        assert!(old < new);
        assert!(new < lead);
    }
}
