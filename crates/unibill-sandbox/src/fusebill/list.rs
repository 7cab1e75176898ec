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
        let mut matches: Vec<&Value> = self
            .customers
            .iter()
            .filter(|c| filters.iter().all(|f| f.matches(c)))
            .collect();
        // Usually already in id order (customers are added with rising
        // ids): checking is one pass, sorting a large store per page is not.
        let id = |c: &&Value| c.get("id").and_then(Value::as_i64).unwrap_or(i64::MAX);
        if !matches.is_sorted_by_key(id) {
            matches.sort_by_key(id);
        }
        let count = matches.len();
        // "X-MaxPageIndex: Total number of pages" (the Pagination page):
        // 0 when nothing matches.
        let total_pages = count.div_ceil(page_size);
        let items: Vec<Value> = matches
            .into_iter()
            .skip(page.saturating_mul(page_size))
            .take(page_size)
            .cloned()
            .collect();
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
