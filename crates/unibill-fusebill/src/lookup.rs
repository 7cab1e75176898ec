//! Finding customers by external reference or email (behind
//! [`CustomerUpdater::find`](unibill_core::CustomerUpdater::find)), with
//! Fusebill's customer list and its string filter (Stax Bill "List
//! Customers" <https://developer.staxbill.com/reference/list-customers>,
//! "String Filtering" <https://developer.staxbill.com/reference/string-filtering>,
//! "Pagination" <https://developer.staxbill.com/reference/pagination>):
//!
//! - External reference: `GET /v1/customers?query=reference:X&pageSize=100&pageNumber=N`;
//!   only customers whose `reference` (trimmed) equals X are kept.
//! - Email: `GET /v1/customers?query=primaryEmail:*X*&pageSize=100&pageNumber=N`;
//!   `primaryEmail` may hold several addresses joined by `;`, which the
//!   filter cannot name exactly (`;` separates filters), so the wildcard
//!   query is sent and only customers one of whose addresses (split on
//!   `;`, trimmed) equals X ignoring ASCII case are kept. Whether the
//!   filter itself ignores case is not documented (the sandbox does not).
//!
//! Pages are read from `pageNumber=0` as the paging headers say
//! (`X-NextPage`, else `X-Count`, else `X-MaxPageIndex` under either of
//! its readings, else a short page); a next page promised after
//! an empty one is [`Error::Decode`]. Only each customer's id, reference
//! and primary email are decoded ([`ListedCustomer`]); matches are kept
//! through [`LookupPages`] (hash-set dedup, at most
//! [`MAX_MATCHES`](unibill_core::reference::MAX_MATCHES), one overall
//! deadline). A value holding `;`, `|` (filter separator, range filter) or
//! `*` (a wildcard with no documented escape), or equal to `[empty]`,
//! cannot be expressed in the filter and is refused with
//! [`Error::Validation`] before any request. Each page is one
//! `GET` through the client's transport (rate limit, retries).

use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use unibill_core::backend::decode;
use unibill_core::customer::json_text;
use unibill_core::lookup::LookupPages;
use unibill_core::transport::{Method, Request, Transport};
use unibill_core::{check, CustomerId, Error, LookupKind, Result};

use crate::error::ERRORS;
use crate::{wire, KIND};

/// Customers asked for per page (Stax Bill's "Pagination" example size; a
/// lookup usually fits in one page).
pub const PAGE_SIZE: u32 = 100;

/// The most pages one lookup reads before giving up with
/// [`Error::Decode`]: a guard against a list that never ends.
pub const MAX_PAGES: u32 = 1000;

pub(crate) use unibill_core::transport::query_value as enc;

/// One page of `GET /v1/customers`: a JSON array of customers, of which a
/// lookup keeps only what it compares (see [`ListedCustomer`]), never the
/// whole records.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct CustomerListPage {
    /// The customers of the page, each reduced to its id, reference and
    /// primary email.
    pub customers: Vec<ListedCustomer>,
}

/// What a lookup reads of a listed customer: its `id`, `reference` and
/// `primaryEmail`, each matched by name ignoring ASCII case (an exact
/// name wins over a case variant), as Fusebill's own keys are read. Every
/// other property is skipped while decoding, so a page of large records
/// costs no more memory than its ids.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListedCustomer {
    /// `id`, as sent.
    pub id: Option<Value>,
    /// `reference`, as sent.
    pub reference: Option<Value>,
    /// `primaryEmail`, as sent.
    pub primary_email: Option<Value>,
}

impl<'de> Deserialize<'de> for ListedCustomer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = ListedCustomer;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a customer object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<ListedCustomer, A::Error> {
                // (value, whether its name matched exactly)
                let mut slots: [(Option<Value>, bool); 3] = Default::default();
                let names = [wire::ID, wire::REFERENCE, wire::PRIMARY_EMAIL];
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let Some(i) = names.iter().position(|n| key.eq_ignore_ascii_case(n)) else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        continue;
                    };
                    let exact = key == names[i];
                    let slot = &mut slots[i];
                    if slot.0.is_none() || (exact && !slot.1) {
                        *slot = (Some(map.next_value::<Value>()?), exact);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                let [id, reference, email] = slots;
                Ok(ListedCustomer {
                    id: id.0,
                    reference: reference.0,
                    primary_email: email.0,
                })
            }
        }
        d.deserialize_map(Fields)
    }
}

/// A value the filter can express: not `[empty]`, without `;` or `|`
/// (filter syntax) and without `*` (a wildcard Fusebill's "String
/// Filtering" documents no escape for).
fn check_filter_value(kind: LookupKind, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|c| matches!(c, ';' | '|')) {
        return Err(Error::validation(
            kind.field(),
            format!(
                "cannot contain `{c}`: Fusebill's customer filter reads it as syntax, so a value holding it cannot be searched for"
            ),
        ));
    }
    if value.contains('*') {
        return Err(Error::validation(
            kind.field(),
            format!(
                "cannot contain `*`: Fusebill's customer filter reads it as a wildcard and documents no escape, so a value holding it would match other customers (`*` alone lists the whole account, one request per {PAGE_SIZE} customers)"
            ),
        ));
    }
    if value.trim().eq_ignore_ascii_case("[empty]") {
        return Err(Error::validation(
            kind.field(),
            "`[empty]` is Fusebill's filter for a blank value, not a value",
        ));
    }
    Ok(())
}

/// The ids of every customer whose `kind` is `value`, in Fusebill's
/// order, reading `page_size` customers per page (see the module
/// documentation for paging, the match cap and the deadline).
pub(crate) async fn find_ids(
    transport: &Transport,
    kind: LookupKind,
    value: &str,
    page_size: u32,
) -> Result<Vec<CustomerId>> {
    let value = value.trim();
    let filter = match kind {
        LookupKind::Email => {
            check::email(kind.field(), value)?;
            check_filter_value(kind, value)?;
            format!("{}:*{value}*", wire::PRIMARY_EMAIL)
        }
        LookupKind::External => {
            check::text(kind.field(), value)?;
            check_filter_value(kind, value)?;
            format!("{}:{value}", wire::REFERENCE)
        }
        _ => {
            return Err(Error::UnsupportedLookup {
                backend: KIND,
                lookup: kind,
            })
        }
    };
    let mut lookup = LookupPages::new(transport, kind, value);
    let mut page_number: u32 = 0;
    for _ in 0..MAX_PAGES {
        let path = format!(
            "/v1/customers?query={}&pageSize={page_size}&pageNumber={page_number}",
            enc(&filter)
        );
        let resp = lookup
            .page(ERRORS.send(transport, Request::new(Method::GET, path), None))
            .await?;
        let page: CustomerListPage = decode(KIND, &resp, "customer list").await?;
        let headers = resp.headers;
        let len = page.customers.len();
        for customer in page.customers {
            if matches(&customer, kind, value) {
                let id = json_text(customer.id.as_ref())
                    .ok_or_else(|| Error::decode(KIND, "customer list", "an entry has no id"))?;
                lookup.add(CustomerId::new(id));
            }
            lookup.tick().await;
        }
        if lookup.is_full() {
            return lookup.finish();
        }
        match next_page(&headers, page_number, len, page_size)? {
            Some(next) => page_number = next,
            None => return lookup.finish(),
        }
    }
    Err(Error::decode(
        KIND,
        "customer list",
        format!("more than {MAX_PAGES} pages"),
    ))
}

/// An integer paging header, when present and readable.
fn header(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
}

/// The page to read after page `current` (which listed `len` customers),
/// or `None` when it was the last, from Fusebill's paging headers
/// ("Pagination", <https://developer.staxbill.com/reference/pagination>),
/// in this order:
///
/// 1. `X-NextPage`: the next page's number, `-1` for none. A next page
///    promised after an empty page, or one that does not move forward, is
///    [`Error::Decode`] naming the header: the list would be cut short.
/// 2. `X-Count` (matches in all) with the page size (`X-PageSize`, else
///    the size asked): more pages while `(current + 1) × size < count`.
/// 3. `X-MaxPageIndex`, which the reference calls the "total number of
///    pages" while some answers give the last page's index: both readings
///    agree that more follow while `current + 1 < max` and that none does
///    once `current ≥ max`; at `current + 1 = max` (the last page in one
///    reading, not in the other) a short page ends the list, a full one is
///    followed by one more request (an empty answer then ends it).
/// 4. Without any of them, a page shorter than the page size is the last.
///
/// An empty page is always the last when no header promises more.
pub(crate) fn next_page(
    headers: &HeaderMap,
    current: u32,
    len: usize,
    page_size: u32,
) -> Result<Option<u32>> {
    let now = i64::from(current);
    let advance = |n: i64| -> Result<Option<u32>> {
        u32::try_from(n)
            .map(Some)
            .map_err(|_| Error::decode(KIND, "customer list", "X-NextPage is out of range"))
    };
    if let Some(next) = header(headers, "x-nextpage") {
        if next < 0 {
            return Ok(None);
        }
        if next <= now {
            return Err(Error::decode(
                KIND,
                "customer list",
                format!("Fusebill answered page {current} with `X-NextPage: {next}`, which does not move forward"),
            ));
        }
        if len == 0 {
            return Err(Error::decode(
                KIND,
                "customer list",
                format!("Fusebill answered page {current} with no customers but `X-NextPage: {next}`: the list is cut short"),
            ));
        }
        return advance(next);
    }
    if len == 0 {
        return Ok(None);
    }
    // The page size the vendor applied (it may list fewer than asked).
    let size = header(headers, "x-pagesize")
        .filter(|s| *s > 0)
        .unwrap_or(i64::from(page_size));
    if let Some(count) = header(headers, "x-count").filter(|c| *c >= 0) {
        return if (now + 1).saturating_mul(size) < count {
            advance(now + 1)
        } else {
            Ok(None)
        };
    }
    let short = i64::try_from(len).unwrap_or(i64::MAX) < size;
    if let Some(max) = header(headers, "x-maxpageindex").filter(|m| *m >= 0) {
        return if now + 1 < max || (now + 1 == max && !short) {
            advance(now + 1)
        } else {
            Ok(None)
        };
    }
    if short {
        Ok(None)
    } else {
        advance(now + 1)
    }
}

/// Whether a customer record (as `GET /v1/customers/{id}` answers it)
/// has `value` as its `kind`, compared as a lookup compares a listed
/// customer, except that a record read by id must hold the value: a
/// blank or missing one does not match. A record that is not an object
/// has nothing.
pub(crate) fn record_matches(record: &Value, kind: LookupKind, value: &str) -> bool {
    let Some(obj) = record.as_object() else {
        return false;
    };
    let value = value.trim();
    match kind {
        LookupKind::Email => {
            let listed = ListedCustomer {
                primary_email: wire::get_ci(obj, wire::PRIMARY_EMAIL).cloned(),
                ..ListedCustomer::default()
            };
            matches(&listed, kind, value)
        }
        _ => json_text(wire::get_ci(obj, wire::REFERENCE)).is_some_and(|r| r.trim() == value),
    }
}

/// Whether a listed customer really has `value`: an entry that does not
/// say is kept (the vendor chose it), one that says otherwise is not.
fn matches(customer: &ListedCustomer, kind: LookupKind, value: &str) -> bool {
    match kind {
        LookupKind::Email => match json_text(customer.primary_email.as_ref()) {
            None => false,
            Some(emails) => emails
                .split(';')
                .any(|e| e.trim().eq_ignore_ascii_case(value)),
        },
        _ => json_text(customer.reference.as_ref()).is_none_or(|r| r.trim() == value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fusebill;
    use serde_json::json;
    use unibill_core::BackendBuilder;
    use unibill_sandbox::fusebill::{LOOKUP_SHARED_REFERENCE, LOOKUP_SHARED_REFERENCE_IDS};
    use unibill_sandbox::{Sandbox, FUSEBILL_API_KEY};

    fn obj(v: Value) -> ListedCustomer {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_exact_matches_are_kept() {
        let e = LookupKind::Email;
        let multi = obj(json!({"id": 1, "primaryEmail": "ops@v.example; Billing@v.example"}));
        assert!(matches(&multi, e, "billing@v.example"));
        assert!(matches(&multi, e, "ops@v.example"));
        assert!(!matches(&multi, e, "v.example"));
        assert!(!matches(&multi, e, "illing@v.example"));
        assert!(!matches(&obj(json!({"id": 1})), e, "a@b.example"));
        let x = LookupKind::External;
        assert!(matches(&obj(json!({"reference": " R-1 "})), x, "R-1"));
        assert!(matches(&obj(json!({"Reference": 100986})), x, "100986"));
        assert!(!matches(&obj(json!({"reference": "R-10"})), x, "R-1"));
        assert!(!matches(&obj(json!({"reference": "r-1"})), x, "R-1"));
    }

    #[test]
    fn filter_syntax_is_refused() {
        for (kind, v) in [
            (LookupKind::External, "a;status:Active"),
            (LookupKind::External, "a|b"),
            (LookupKind::External, "[empty]"),
            (LookupKind::Email, "a;b@c.example"),
        ] {
            match check_filter_value(kind, v).unwrap_err() {
                Error::Validation { field, .. } => assert_eq!(field, kind.field()),
                other => panic!("{other:?}"),
            }
        }
        assert!(check_filter_value(LookupKind::External, "AB:C").is_ok());
        // A wildcard with no documented escape: refused, saying why.
        for (kind, v) in [
            (LookupKind::External, "*"),
            (LookupKind::External, "A*B"),
            (LookupKind::Email, "*@*.*"),
        ] {
            match check_filter_value(kind, v).unwrap_err() {
                Error::Validation { field, reason } => {
                    assert_eq!(field, kind.field());
                    assert!(reason.contains("wildcard"), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// One customer per page: pages are read by number until X-NextPage
    /// says there is none.
    #[tokio::test]
    async fn every_page_is_read() {
        let sb = Sandbox::start().await.unwrap();
        sb.fusebill().add_lookup_seeds();
        let f = Fusebill::builder()
            .api_key(FUSEBILL_API_KEY)
            .base_url(sb.fusebill().base_url())
            .build()
            .unwrap();
        let ids = find_ids(
            f.transport(),
            LookupKind::External,
            LOOKUP_SHARED_REFERENCE,
            1,
        )
        .await
        .unwrap();
        let want: Vec<CustomerId> = LOOKUP_SHARED_REFERENCE_IDS
            .iter()
            .map(|i| CustomerId::new(*i))
            .collect();
        assert_eq!(ids, want);
        let sent: Vec<String> = sb
            .fusebill()
            .journal()
            .into_iter()
            .map(|e| e.path)
            .collect();
        let q = enc(&format!("reference:{LOOKUP_SHARED_REFERENCE}"));
        assert_eq!(
            sent,
            vec![
                format!("/v1/customers?query={q}&pageSize=1&pageNumber=0"),
                format!("/v1/customers?query={q}&pageSize=1&pageNumber=1"),
            ]
        );
    }
}
