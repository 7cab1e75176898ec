//! `GET /v1/customers` ("List all customers",
//! <https://docs.stripe.com/api/customers/list>) and `GET
//! /v1/customers/search` ("Search customers",
//! <https://docs.stripe.com/api/customers/search>).
//!
//! Both answer newest `created` first. The list pages by object id
//! (`starting_after`, `ending_before`) from the list index, or from the
//! email index when `email` filters it (exact and case-sensitive, as the
//! reference says), so a page is a range, not a pass over the store.
//! Search reads what it can see of each customer (which trails the store
//! by the configured lag) and pages with an opaque `page` token.

use std::ops::Bound;
use std::time::Instant;

use base64::Engine;
use serde_json::{json, Value};

use super::errors::{
    invalid, invalid_code, missing_parameter, no_such_customer, unknown_parameter,
};
use super::search::{self, Parsed};
use super::state::{ListKey, State};
use super::{plain, query_params, DEFAULT_LIMIT, MAX_LIMIT};
use crate::http::{Req, Resp};

/// `limit`: a whole number from 1 to [`MAX_LIMIT`].
fn limit(value: &str) -> Result<usize, Resp> {
    match value.parse::<i64>() {
        Ok(n) if n < 1 => Err(invalid(
            "limit",
            "This value must be greater than or equal to 1.",
        )),
        Ok(n) if n > MAX_LIMIT as i64 => Err(invalid(
            "limit",
            &format!("This value must be less than or equal to {MAX_LIMIT}."),
        )),
        Ok(n) => Ok(n as usize),
        Err(_) => Err(invalid_code(
            "parameter_invalid_integer",
            "limit",
            &format!("Invalid integer: {value}"),
        )),
    }
}

/// The `page` token that continues after the entry filed under `key`.
fn page_token(key: ListKey) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{}", key.0, key.1))
}

fn read_page_token(token: &str) -> Option<ListKey> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (a, b) = text.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

impl State {
    fn page_of(&self, positions: &[usize]) -> Vec<Value> {
        positions
            .iter()
            .map(|p| self.customers[*p].clone())
            .collect()
    }

    /// `GET /v1/customers`.
    pub(super) fn list(&self, req: &Req) -> Resp {
        let params = match query_params(req) {
            Ok(p) => p,
            Err(resp) => return resp,
        };
        let mut count = DEFAULT_LIMIT;
        let (mut after, mut before, mut email) = (None, None, None);
        for (name, value) in &params {
            match name.as_str() {
                "limit" => match plain(name, value).and_then(limit) {
                    Ok(n) => count = n,
                    Err(resp) => return resp,
                },
                "starting_after" | "ending_before" | "email" => {
                    let v = match plain(name, value) {
                        Ok(v) => v.to_string(),
                        Err(resp) => return resp,
                    };
                    match name.as_str() {
                        "starting_after" => after = Some(v),
                        "ending_before" => before = Some(v),
                        _ => email = Some(v),
                    }
                }
                "created" | "test_clock" | "expand" => {
                    return crate::not_emulated::answer("Stripe", req)
                }
                other => return unknown_parameter(other),
            }
        }
        if after.is_some() && before.is_some() {
            return invalid(
                "ending_before",
                "You may only specify one of these parameters: ending_before, starting_after.",
            );
        }
        let cursor = match after.as_ref().or(before.as_ref()) {
            None => None,
            Some(id) => match self.find(id) {
                Some(p) => Some((self.order.key(p), p)),
                None => {
                    let param = if after.is_some() {
                        "starting_after"
                    } else {
                        "ending_before"
                    };
                    return no_such_customer(400, id, param);
                }
            },
        };
        // One more than the page, to know whether more remain.
        let want = count + 1;
        let mut positions: Vec<usize> = match (&email, cursor) {
            (Some(email), cursor) => {
                let empty = Default::default();
                let set = self.by_email.get(email).unwrap_or(&empty);
                match (cursor, before.is_some()) {
                    (None, _) => set.iter().take(want).map(|(_, p)| *p).collect(),
                    (Some(c), false) => set
                        .range((Bound::Excluded(c), Bound::Unbounded))
                        .take(want)
                        .map(|(_, p)| *p)
                        .collect(),
                    (Some(c), true) => {
                        let mut v: Vec<usize> =
                            set.range(..c).rev().take(want).map(|(_, p)| *p).collect();
                        v.reverse();
                        v
                    }
                }
            }
            (None, None) => self
                .order
                .entries()
                .iter()
                .take(want)
                .map(|(_, p)| *p)
                .collect(),
            (None, Some((key, _))) if before.is_none() => self
                .order
                .after(&key)
                .iter()
                .take(want)
                .map(|(_, p)| *p)
                .collect(),
            (None, Some((key, _))) => {
                let earlier = self.order.range(None, Some(&key));
                earlier[earlier.len().saturating_sub(want)..]
                    .iter()
                    .map(|(_, p)| *p)
                    .collect()
            }
        };
        let has_more = positions.len() > count;
        if has_more {
            if before.is_some() {
                positions.remove(0);
            } else {
                positions.truncate(count);
            }
        }
        Resp::json(
            200,
            &json!({
                "object": "list",
                "url": "/v1/customers",
                "has_more": has_more,
                "data": self.page_of(&positions),
            }),
        )
    }

    /// `GET /v1/customers/search`.
    pub(super) fn search(&mut self, req: &Req) -> Resp {
        self.settle_search(Instant::now());
        let params = match query_params(req) {
            Ok(p) => p,
            Err(resp) => return resp,
        };
        let (mut query, mut count, mut page) = (None, DEFAULT_LIMIT, None);
        for (name, value) in &params {
            let v = match name.as_str() {
                "expand" => return crate::not_emulated::answer("Stripe", req),
                "query" | "limit" | "page" => match plain(name, value) {
                    Ok(v) => v,
                    Err(resp) => return resp,
                },
                other => return unknown_parameter(other),
            };
            match name.as_str() {
                "query" => query = Some(v.to_string()),
                "limit" => match limit(v) {
                    Ok(n) => count = n,
                    Err(resp) => return resp,
                },
                _ => match read_page_token(v) {
                    Some(key) => page = Some(key),
                    None => return invalid("page", &format!("Invalid page token: {v}")),
                },
            }
        }
        let Some(query) = query else {
            return missing_parameter("query");
        };
        let clauses = match search::parse(&query) {
            Parsed::All(clauses) => clauses,
            Parsed::NotModelled(_) => return crate::not_emulated::answer("Stripe", req),
            Parsed::Invalid(message) => {
                return invalid("query", &format!("Invalid query: {message}"))
            }
        };
        let entries = match &page {
            Some(key) => self.order.after(key),
            None => self.order.entries(),
        };
        let mut found: Vec<(ListKey, usize)> = entries
            .iter()
            .filter(|(_, p)| clauses.iter().all(|c| c.matches(&self.searchable[*p])))
            .take(count + 1)
            .copied()
            .collect();
        let has_more = found.len() > count;
        found.truncate(count);
        let next_page = match (has_more, found.last()) {
            (true, Some((key, _))) => json!(page_token(*key)),
            _ => Value::Null,
        };
        let positions: Vec<usize> = found.iter().map(|(_, p)| *p).collect();
        Resp::json(
            200,
            &json!({
                "object": "search_result",
                "url": "/v1/customers/search",
                "has_more": has_more,
                "next_page": next_page,
                "data": self.page_of(&positions),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{json, Value};

    use super::*;
    use crate::stripe::{ADDRESS_CUSTOMER_ID, LOOKUP_SHARED_EMAIL, LOOKUP_SHARED_EMAIL_IDS};

    fn get(state: &mut State, path: &str, query: &str) -> (u16, Value) {
        let resp = if path.ends_with("search") {
            state.search(&Req::get(path, query))
        } else {
            state.list(&Req::get(path, query))
        };
        (resp.status, serde_json::from_slice(&resp.body).unwrap())
    }

    fn ids(page: &Value) -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Every id in list order, read forward by `starting_after` pages of
    /// `limit`, then backward by `ending_before` pages.
    fn walk(state: &mut State, limit: usize, filter: &str) -> (Vec<String>, Vec<String>) {
        let mut forward = Vec::new();
        let mut query = format!("limit={limit}{filter}");
        loop {
            let (status, page) = get(state, "/v1/customers", &query);
            assert_eq!(status, 200, "{page}");
            let got = ids(&page);
            forward.extend(got.clone());
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
            query = format!(
                "limit={limit}{filter}&starting_after={}",
                got.last().unwrap()
            );
        }
        let mut backward = Vec::new();
        let mut query = format!(
            "limit={limit}{filter}&ending_before={}",
            forward.last().unwrap()
        );
        backward.push(forward.last().unwrap().clone());
        loop {
            let (_, page) = get(state, "/v1/customers", &query);
            let got = ids(&page);
            for id in got.iter().rev() {
                backward.push(id.clone());
            }
            if !page["has_more"].as_bool().unwrap() || got.is_empty() {
                break;
            }
            query = format!("limit={limit}{filter}&ending_before={}", got[0]);
        }
        backward.reverse();
        (forward, backward)
    }

    #[test]
    fn pages_forward_and_backward_newest_first() {
        let mut state = State::seeded();
        state.add_lookup_seeds();
        state.add_copies(23);
        let mut expected: Vec<(i64, usize, String)> = state
            .customers
            .iter()
            .enumerate()
            .map(|(p, c)| {
                (
                    c["created"].as_i64().unwrap(),
                    p,
                    c["id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        expected.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
        let expected: Vec<String> = expected.into_iter().map(|(_, _, id)| id).collect();
        for limit in [1, 3, 10, 100] {
            let (forward, backward) = walk(&mut state, limit, "");
            assert_eq!(forward, expected, "limit={limit}");
            assert_eq!(backward, expected, "limit={limit}");
        }
        let (forward, backward) = walk(&mut state, 1, &format!("&email={LOOKUP_SHARED_EMAIL}"));
        let mut shared = LOOKUP_SHARED_EMAIL_IDS.map(String::from).to_vec();
        shared.reverse();
        assert_eq!(forward, shared);
        assert_eq!(backward, shared);
        let (_, page) = get(
            &mut state,
            "/v1/customers",
            &format!("email={}", LOOKUP_SHARED_EMAIL.to_uppercase()),
        );
        assert_eq!(
            page,
            json!({"object": "list", "url": "/v1/customers", "has_more": false, "data": []})
        );
        let (_, page) = get(&mut state, "/v1/customers", "");
        assert_eq!(ids(&page).len(), 10);
    }

    #[test]
    fn list_refusals() {
        let mut state = State::seeded();
        for (query, param) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=x", "limit"),
            ("starting_after=cus_nope", "starting_after"),
            ("ending_before=cus_nope", "ending_before"),
            ("starting_after=a&ending_before=b", "ending_before"),
            ("colour=red", "colour"),
            ("email[x]=a", "email"),
        ] {
            let (status, body) = get(&mut state, "/v1/customers", query);
            assert_eq!(status, 400, "{query}");
            assert_eq!(body["error"]["param"], param, "{query}");
        }
    }

    #[test]
    fn search_pages_and_trails_the_store() {
        let mut state = State::seeded();
        state.add_lookup_seeds();
        let (status, page) = get(
            &mut state,
            "/v1/customers/search",
            "query=metadata%5B%27external_id%27%5D%3A%27ACME-7001%27&limit=1",
        );
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["object"], "search_result");
        assert_eq!(page["url"], "/v1/customers/search");
        assert_eq!(page["has_more"], true);
        let token = page["next_page"].as_str().unwrap().to_string();
        let (_, second) = get(
            &mut state,
            "/v1/customers/search",
            &format!(
                "query=metadata%5B%27external_id%27%5D%3A%27ACME-7001%27&limit=1&page={token}"
            ),
        );
        assert_eq!(second["has_more"], false);
        assert_eq!(second["next_page"], Value::Null);
        assert_ne!(ids(&page), ids(&second));
        // Changes reach search after the lag; the answer shows the live customer.
        state.search_lag = Duration::from_millis(50);
        state.update_customer(ADDRESS_CUSTOMER_ID, &mut |c| {
            c["metadata"]["external_id"] = json!("HL-2002")
        });
        let q = "query=metadata%5B%27external_id%27%5D%3A%27HL-2002%27";
        assert_eq!(
            ids(&get(&mut state, "/v1/customers/search", q).1),
            Vec::<String>::new()
        );
        let (_, old) = get(
            &mut state,
            "/v1/customers/search",
            "query=metadata%5B%27external_id%27%5D%3A%27HL-1001%27",
        );
        assert_eq!(old["data"][0]["metadata"]["external_id"], "HL-2002");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(
            ids(&get(&mut state, "/v1/customers/search", q).1),
            [ADDRESS_CUSTOMER_ID]
        );
        for (query, status) in [
            ("", 400),
            ("query=status%3A%27x%27", 400),
            ("query=email%3A%27a%27&page=%25%25", 400),
            ("query=x&bogus=1", 400),
        ] {
            assert_eq!(
                get(&mut state, "/v1/customers/search", query).0,
                status,
                "{query}"
            );
        }
    }
}
