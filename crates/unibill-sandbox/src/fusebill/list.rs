//! `GET /v1/customers`: string filtering and pagination.

use serde_json::Value;

use super::errors::error;
use super::fields::{ACQUISITION_FIELDS, REFERENCE_FIELDS, WRITABLE};
use super::state::State;
use super::validate::canonical;
use super::SYSTEM_FIELDS;
use crate::http::{Req, Resp};

impl State {
    /// `GET /v1/customers` with Stax Bill's "String Filtering"
    /// (`query=name:value;name:value`, `*` wildcards, `[empty]`, comma sets
    /// on enum and id fields) and "Pagination" (`pageSize`, `pageNumber`,
    /// `X-*` paging headers). Range filtering (`a|b`) is not emulated.
    pub(super) fn list(&self, req: &Req) -> Resp {
        let mut filters: Vec<(String, String)> = Vec::new();
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
                    return error(
                        400,
                        "query",
                        "range filtering (a|b) is not emulated by the sandbox",
                    );
                }
                filters.push((path, wanted.to_string()));
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
        let matches: Vec<&Value> = self
            .customers
            .iter()
            .filter(|c| {
                filters
                    .iter()
                    .all(|(path, wanted)| filter_matches(c, path, wanted))
            })
            .collect();
        let count = matches.len();
        let pages = count.div_ceil(page_size).max(1);
        let items: Vec<Value> = matches
            .into_iter()
            .skip(page.saturating_mul(page_size))
            .take(page_size)
            .cloned()
            .collect();
        let mut resp = Resp::json(200, &Value::Array(items));
        let next = if page + 1 < pages {
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
            ("X-MaxPageIndex", (pages - 1).to_string()),
        ] {
            resp.set_header(name, value);
        }
        resp
    }
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
    let value = match path.split_once('.') {
        Some((obj, field)) => customer.get(obj).and_then(|o| o.get(field)),
        None => customer.get(path),
    };
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
