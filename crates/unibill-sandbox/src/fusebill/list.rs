//! `GET /v1/customers`: string and range filtering, pagination and sort
//! headers.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::errors::error;
use super::fields::{ACQUISITION_FIELDS, REFERENCE_FIELDS, WRITABLE};
use super::state::State;
use super::validate::canonical;
use super::SYSTEM_FIELDS;
use crate::http::{Req, Resp};

/// Fields a range (`lower|upper`) filters as timestamps.
pub(crate) const DATE_RANGE_FIELDS: &[&str] = &["createdTimestamp", "modifiedTimestamp"];
/// Fields a range (`lower|upper`) filters as decimals.
pub(crate) const DECIMAL_RANGE_FIELDS: &[&str] =
    &["monthlyRecurringRevenue", "netMonthlyRecurringRevenue"];
/// The order the list is answered in, as `X-SortExpression` and
/// `X-SortOrder` state it.
pub(crate) const SORT_EXPRESSION: &str = "id";
/// See [`SORT_EXPRESSION`].
pub(crate) const SORT_ORDER: &str = "Ascending";

/// One bound of a range.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Bound {
    Date(DateTime<Utc>),
    Decimal(f64),
}

/// One `name:value` pair of `query`.
enum Filter {
    /// String filtering: wildcards, `[empty]`, comma sets.
    Text { path: String, wanted: String },
    /// Range filtering: `lower <= value < upper`, either bound optional.
    Range {
        path: String,
        lower: Option<Bound>,
        upper: Option<Bound>,
    },
}

impl State {
    /// `GET /v1/customers` with Stax Bill's "String Filtering"
    /// (`query=name:value;name:value`, `*` wildcards, `[empty]`, comma sets
    /// on enum and id fields), "Date Filtering" (`name:lower|upper` on
    /// timestamps and decimals, either bound may be left out) and
    /// "Pagination" (`pageSize`, `pageNumber`, `X-*` paging and sort
    /// headers). The answer is sorted by `id`, ascending.
    pub(super) fn list(&self, req: &Req) -> Resp {
        let mut filters: Vec<Filter> = Vec::new();
        if let Some(q) = req.query_param("query") {
            for pair in q.split(';').filter(|p| !p.is_empty()) {
                let Some((field, wanted)) = pair.split_once(':') else {
                    return error(400, "query", "query must look like name:value;name:value");
                };
                let Some(path) = filter_path(field) else {
                    return error(
                        400,
                        "query",
                        &format!("cannot filter customers by '{field}'"),
                    );
                };
                if wanted.contains('|') {
                    match range_filter(path, wanted) {
                        Ok(f) => filters.push(f),
                        Err(message) => return error(400, "query", &message),
                    }
                } else {
                    filters.push(Filter::Text {
                        path,
                        wanted: wanted.to_string(),
                    });
                }
            }
        }
        let page_size = match req.query_param("pageSize").map(|v| v.parse::<usize>()) {
            None => 1000,
            Some(Ok(n)) if n > 0 => n,
            Some(_) => return error(400, "pageSize", "pageSize must be a positive integer"),
        };
        let page = match req.query_param("pageNumber").map(|v| v.parse::<usize>()) {
            None => 0,
            Some(Ok(n)) => n,
            Some(_) => {
                return error(
                    400,
                    "pageNumber",
                    "pageNumber must be a non-negative integer",
                )
            }
        };
        let first = page.saturating_mul(page_size);
        let (count, items): (usize, Vec<Value>) = if filters.is_empty() {
            // The whole list: a page is a slice of the id order.
            let ordered = self.order.entries();
            let start = first.min(ordered.len());
            let end = start.saturating_add(page_size).min(ordered.len());
            let items = ordered[start..end]
                .iter()
                .map(|(_, i)| self.customers[*i].clone())
                .collect();
            (ordered.len(), items)
        } else {
            let matches = self.matching(&filters);
            let items = matches
                .iter()
                .skip(first)
                .take(page_size)
                .map(|i| self.customers[*i].clone())
                .collect();
            (matches.len(), items)
        };
        // "X-MaxPageIndex: Total number of pages" (the Pagination page):
        // 0 when nothing matches.
        let total_pages = count.div_ceil(page_size);
        let mut resp = Resp::json(200, &Value::Array(items));
        let next = if page + 1 < total_pages {
            (page + 1) as i64
        } else {
            -1
        };
        let previous = if page == 0 { -1 } else { page as i64 - 1 };
        for (name, value) in [
            ("X-Count", count.to_string()),
            ("X-MaxCount", self.customers.len().to_string()),
            ("X-CurrentPage", page.to_string()),
            ("X-PreviousPage", previous.to_string()),
            ("X-NextPage", next.to_string()),
            ("X-PageSize", page_size.to_string()),
            ("X-MaxPageIndex", total_pages.to_string()),
            ("X-SortOrder", SORT_ORDER.to_string()),
            ("X-SortExpression", SORT_EXPRESSION.to_string()),
        ] {
            resp.set_header(name, value);
        }
        resp
    }

    /// The positions of the customers every filter accepts, in list order
    /// (by `id`, then by when they were added).
    ///
    /// A range on `modifiedTimestamp` (as an incremental sync sends,
    /// `modifiedTimestamp:T|`) reads its customers off the timestamp order
    /// and sorts only those; any other filter is a pass over the id order.
    fn matching(&self, filters: &[Filter]) -> Vec<usize> {
        let by_modified = filters
            .iter()
            .position(|f| matches!(f, Filter::Range { path, .. } if path == "modifiedTimestamp"));
        let Some(at) = by_modified else {
            return self
                .order
                .entries()
                .iter()
                .map(|(_, i)| *i)
                .filter(|i| filters.iter().all(|f| f.matches(&self.customers[*i])))
                .collect();
        };
        let Filter::Range { lower, upper, .. } = &filters[at] else {
            unreachable!("by_modified finds a range")
        };
        let date = |b: &Option<Bound>| match b {
            Some(Bound::Date(t)) => Some(Some(*t)),
            _ => None,
        };
        // `None` (no timestamp) sorts first: a missing lower bound starts
        // after it, as the filter refuses such customers.
        let lower = date(lower).unwrap_or(Some(DateTime::<Utc>::MIN_UTC));
        let mut found: Vec<(i64, usize)> = self
            .modified
            .range(Some(&lower), date(upper).as_ref())
            .iter()
            .map(|(_, i)| *i)
            .filter(|i| {
                let c = &self.customers[*i];
                filters
                    .iter()
                    .enumerate()
                    .all(|(k, f)| k == at || f.matches(c))
            })
            .map(|i| (self.order.key(i), i))
            .collect();
        found.sort_unstable();
        found.into_iter().map(|(_, i)| i).collect()
    }
}

impl Filter {
    fn matches(&self, customer: &Value) -> bool {
        match self {
            Filter::Text { path, wanted } => filter_matches(customer, path, wanted),
            Filter::Range { path, lower, upper } => {
                let Some(value) = field(customer, path).and_then(|v| bound_of(path, v)) else {
                    return false;
                };
                lower.is_none_or(|l| l <= value) && upper.is_none_or(|u| value < u)
            }
        }
    }
}

/// The value at `path` (`name` or `object.name`).
fn field<'a>(customer: &'a Value, path: &str) -> Option<&'a Value> {
    match path.split_once('.') {
        Some((obj, field)) => customer.get(obj).and_then(|o| o.get(field)),
        None => customer.get(path),
    }
}

/// A stored value as a range bound of its field's kind; `None` for `null`
/// or a value of another kind.
fn bound_of(path: &str, v: &Value) -> Option<Bound> {
    if DATE_RANGE_FIELDS.contains(&path) {
        v.as_str()
            .and_then(crate::time::parse_timestamp)
            .map(Bound::Date)
    } else {
        match v {
            Value::Number(n) => n.as_f64().map(Bound::Decimal),
            Value::String(s) => parse_decimal(s).map(Bound::Decimal),
            _ => None,
        }
    }
}

/// A decimal bound: optional `-`, digits, optional `.` and digits.
fn parse_decimal(s: &str) -> Option<f64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && frac.is_empty());
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

/// `lower|upper` on `path` as a range filter, or why it is refused.
fn range_filter(path: String, wanted: &str) -> Result<Filter, String> {
    let date = DATE_RANGE_FIELDS.contains(&path.as_str());
    if !date && !DECIMAL_RANGE_FIELDS.contains(&path.as_str()) {
        return Err(format!(
            "range filtering (a|b) applies to {} and {}, not to '{path}'",
            DATE_RANGE_FIELDS.join(", "),
            DECIMAL_RANGE_FIELDS.join(", ")
        ));
    }
    let Some((lo, hi)) = wanted.split_once('|') else {
        return Err(format!("'{wanted}' is not a range (lower|upper)"));
    };
    if hi.contains('|') {
        return Err(format!("'{wanted}' has more than one '|'"));
    }
    let parse = |text: &str| -> Result<Option<Bound>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        let bound = if date {
            crate::time::parse_timestamp(text).map(Bound::Date)
        } else {
            parse_decimal(text).map(Bound::Decimal)
        };
        match bound {
            Some(b) => Ok(Some(b)),
            None if date => Err(format!(
                "'{text}' is not a timestamp (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS) for {path}"
            )),
            None => Err(format!("'{text}' is not a decimal number for {path}")),
        }
    };
    let (lower, upper) = (parse(lo)?, parse(hi)?);
    if lower.is_none() && upper.is_none() {
        return Err(format!("the range for {path} has no bound"));
    }
    Ok(Filter::Range { path, lower, upper })
}

/// Fields whose filter value may be a comma-separated set (enums and ids).
const SET_FILTERS: &[&str] = &[
    "id",
    "parentId",
    "quickBooksId",
    "status",
    "title",
    "customerAccountStatus",
    "salesforceAccountType",
    "salesforceSynchStatus",
    "netsuiteSynchStatus",
    "quickBooksLatchType",
];

/// The record path (`name` or `object.name`) a filter name selects, matched
/// case-insensitively; `accountStatus` is the documented name of
/// `customerAccountStatus`.
fn filter_path(name: &str) -> Option<String> {
    if name.eq_ignore_ascii_case("accountStatus") {
        return Some("customerAccountStatus".into());
    }
    if let Some((obj, field)) = name.split_once('.') {
        let (obj, fields) = if obj.eq_ignore_ascii_case("customerReference") {
            ("customerReference", REFERENCE_FIELDS)
        } else if obj.eq_ignore_ascii_case("customerAcquisition") {
            ("customerAcquisition", ACQUISITION_FIELDS)
        } else {
            return None;
        };
        let field = canonical(field, fields.iter().copied())?;
        return Some(format!("{obj}.{field}"));
    }
    let top = WRITABLE
        .iter()
        .map(|(k, _)| *k)
        .chain(SYSTEM_FIELDS.iter().copied())
        .filter(|k| !matches!(*k, "customerReference" | "customerAcquisition"));
    canonical(name, top).map(str::to_string)
}

fn filter_matches(customer: &Value, path: &str, wanted: &str) -> bool {
    let value = field(customer, path);
    let text = match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    if wanted == "[empty]" {
        return text.is_none_or(|t| t.is_empty());
    }
    let Some(text) = text else {
        return false;
    };
    let set = SET_FILTERS.contains(&path);
    let alternatives: Vec<&str> = if set {
        wanted.split(',').map(str::trim).collect()
    } else {
        vec![wanted]
    };
    alternatives.iter().any(|alt| {
        if set && !alt.contains('*') {
            text.eq_ignore_ascii_case(alt)
        } else {
            wildcard_match(alt, &text)
        }
    })
}

/// `*` matches any run of characters (none included); everything else is
/// compared exactly.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::state::State;
    use crate::http::Req;
    use crate::time::parse_timestamp;

    /// One page of `GET /v1/customers?{query}`: the ids answered and the
    /// `X-Count` header.
    fn get(state: &State, query: &str) -> (Vec<i64>, usize) {
        let resp = state.list(&Req::get("/v1/customers", query));
        assert_eq!(resp.status, 200, "{query}");
        let body: Value = serde_json::from_slice(&resp.body).unwrap();
        let ids = body
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        let count = resp
            .headers
            .iter()
            .find(|(k, _)| k == "X-Count")
            .map(|(_, v)| v.parse().unwrap())
            .unwrap();
        (ids, count)
    }

    /// Every page of `query` at `page_size`, in the order answered.
    fn all_pages(state: &State, query: &str, page_size: usize) -> Vec<i64> {
        let mut ids = Vec::new();
        for page in 0.. {
            let (found, count) = get(
                state,
                &format!("{query}&pageSize={page_size}&pageNumber={page}"),
            );
            if found.is_empty() {
                assert_eq!(ids.len(), count, "{query}");
                return ids;
            }
            ids.extend(found);
        }
        unreachable!()
    }

    /// What the list must answer: the customers `keep` accepts, as a
    /// pass over the whole store finds them, sorted by id.
    fn expected(state: &State, keep: impl Fn(&Value) -> bool) -> Vec<i64> {
        let mut ids: Vec<i64> = state
            .customers
            .iter()
            .filter(|c| keep(c))
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        ids.sort();
        ids
    }

    fn modified_at_or_after(c: &Value, t: &str) -> bool {
        let t = parse_timestamp(t).unwrap();
        c["modifiedTimestamp"]
            .as_str()
            .and_then(parse_timestamp)
            .is_some_and(|m| m >= t)
    }

    #[test]
    fn pages_keep_the_order_and_the_modified_filter_after_updates() {
        let mut state = State::seeded();
        let copies = state.add_copies(30);
        state.add_lookup_seeds();
        // Updates in an order that is not the id order, so the timestamp
        // order and the id order differ: two through `PUT` (the stored
        // record sent back), one through the handle's update.
        let put = |state: &mut State, id: &str| {
            let mut body = state.customer(id).unwrap();
            body["companyName"] = json!("Moved Co");
            let resp = state.put(body);
            assert_eq!(resp.status, 200);
        };
        put(&mut state, &copies[25]);
        put(&mut state, &copies[2]);
        assert!(state.update_customer(&copies[14], &mut |c| {
            c["companyName"] = json!("Moved Co");
        }));
        // One customer moves to the front of the id order.
        assert!(state.update_customer(&copies[20], &mut |c| c["id"] = json!(5)));

        let all = expected(&state, |_| true);
        assert_eq!(all[0], 5);
        for page_size in [1, 4, 1000] {
            assert_eq!(
                all_pages(&state, "", page_size),
                all,
                "pageSize={page_size}"
            );
        }

        // Every update is newer than 2024: the filter finds exactly them,
        // in id order, however it is paged.
        let since = "2024-01-01T00:00:00";
        let modified = expected(&state, |c| modified_at_or_after(c, since));
        assert_eq!(modified.len(), 4);
        assert_eq!(modified[0], 5);
        for page_size in [1, 3, 1000] {
            let query = format!("query=modifiedTimestamp:{since}|");
            assert_eq!(all_pages(&state, &query, page_size), modified);
        }
        // Combined with another filter, and bounded above: nothing updated
        // is older than 2024, everything else is.
        let query = format!("query=companyName:Moved*;modifiedTimestamp:{since}|");
        let moved = expected(&state, |c| c["companyName"] == json!("Moved Co"));
        assert_eq!(all_pages(&state, &query, 2), moved);
        assert_eq!(moved.len(), 3);
        let query = format!("query=modifiedTimestamp:|{since}");
        let older = expected(&state, |c| !modified_at_or_after(c, since));
        assert_eq!(all_pages(&state, &query, 7), older);
        assert_eq!(older.len() + modified.len(), all.len());

        // A later update moves a customer from one side of the bound to
        // the other.
        put(&mut state, &copies[29]);
        let moved: i64 = copies[29].parse().unwrap();
        let newer = all_pages(&state, &format!("query=modifiedTimestamp:{since}|"), 2);
        assert_eq!(newer, expected(&state, |c| modified_at_or_after(c, since)));
        assert!(newer.contains(&moved));
        let older = all_pages(&state, &format!("query=modifiedTimestamp:|{since}"), 2);
        assert_eq!(older, expected(&state, |c| !modified_at_or_after(c, since)));
        assert!(!older.contains(&moved));
    }
}
