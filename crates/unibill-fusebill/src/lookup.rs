//! Finding customers by external reference or email (behind
//! [`CustomerUpdater::find`](unibill_core::CustomerUpdater::find)), with
//! Fusebill's customer list and its string filter (Stax Bill "List
//! Customers" <https://developer.staxbill.com/reference/list-customers>,
//! "String Filtering" <https://developer.staxbill.com/reference/string-filtering>,
//! "Pagination" <https://developer.staxbill.com/reference/pagination>):
//!
//! - External reference: `GET /v1/customers?query=reference:X&pageSize=100&pageNumber=N`;
//!   only customers whose `reference` (trimmed) equals X are kept (the
//!   filter reads `*` as a wildcard).
//! - Email: `GET /v1/customers?query=primaryEmail:*X*&pageSize=100&pageNumber=N`;
//!   `primaryEmail` may hold several addresses joined by `;`, which the
//!   filter cannot name exactly (`;` separates filters), so the wildcard
//!   query is sent and only customers one of whose addresses (split on
//!   `;`, trimmed) equals X ignoring ASCII case are kept. Whether the
//!   filter itself ignores case is not documented (the sandbox does not).
//!
//! Pages are read from `pageNumber=0` until the `X-NextPage` header says
//! there is none (`-1`), or, without the header, until a page is shorter
//! than `pageSize`. A value holding `;` or `|` (filter separator, range
//! filter) or equal to `[empty]` cannot be expressed in the filter and is
//! refused with [`Error::Validation`] before any request. Each page is one
//! `GET` through the client's transport (rate limit, retries).

use serde::Deserialize;
use serde_json::{Map, Value};
use unibill_core::backend::decode;
use unibill_core::customer::json_text;
use unibill_core::transport::{Request, Transport};
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
/// lookup reads the id, the reference and the primary email (each matched
/// by name ignoring ASCII case, as Fusebill's own keys are read).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct CustomerListPage {
    /// The customers of the page, each as sent.
    pub customers: Vec<Map<String, Value>>,
}

/// A value the filter can express: not `[empty]`, without `;` or `|`.
fn check_filter_value(kind: LookupKind, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|c| matches!(c, ';' | '|')) {
        return Err(Error::validation(
            kind.field(),
            format!(
                "cannot contain `{c}`: Fusebill's customer filter reads it as syntax, so a {} holding it cannot be searched for",
                kind.name()
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
/// order, reading `page_size` customers per page.
pub(crate) async fn find_ids(
    transport: &Transport,
    kind: LookupKind,
    value: &str,
    page_size: u32,
) -> Result<Vec<CustomerId>> {
    Ok(find_customers(transport, kind, value, page_size)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect())
}

/// Every customer whose `kind` is `value` (its id and its record as
/// listed), in Fusebill's order, reading `page_size` customers per page.
pub(crate) async fn find_customers(
    transport: &Transport,
    kind: LookupKind,
    value: &str,
    page_size: u32,
) -> Result<Vec<(CustomerId, Map<String, Value>)>> {
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
    let mut found: Vec<(CustomerId, Map<String, Value>)> = Vec::new();
    let mut page_number: u32 = 0;
    for _ in 0..MAX_PAGES {
        let path = format!(
            "/v1/customers?query={}&pageSize={page_size}&pageNumber={page_number}",
            enc(&filter)
        );
        let resp = ERRORS.send(transport, Request::get(path), None).await?;
        let page: CustomerListPage = decode(KIND, &resp, "customer list")?;
        let len = page.customers.len();
        for customer in page.customers {
            if matches(&customer, kind, value) {
                let id = wire::get_ci(&customer, wire::ID)
                    .and_then(|v| json_text(Some(v)))
                    .ok_or_else(|| Error::decode(KIND, "customer list", "an entry has no id"))?;
                let id = CustomerId::new(id);
                if !found.iter().any(|(seen, _)| *seen == id) {
                    found.push((id, customer));
                }
            }
        }
        let next = resp
            .headers
            .get("x-nextpage")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok());
        page_number = match next {
            Some(n) if n > i64::from(page_number) && len > 0 => u32::try_from(n)
                .map_err(|_| Error::decode(KIND, "customer list", "X-NextPage is out of range"))?,
            Some(_) => return Ok(found),
            None if len < page_size as usize || len == 0 => return Ok(found),
            None => page_number + 1,
        };
    }
    Err(Error::decode(
        KIND,
        "customer list",
        format!("more than {MAX_PAGES} pages"),
    ))
}

/// Whether a listed customer really has `value`: an entry that does not
/// say is kept (the vendor chose it), one that says otherwise is not.
fn matches(customer: &Map<String, Value>, kind: LookupKind, value: &str) -> bool {
    match kind {
        LookupKind::Email => {
            match wire::get_ci(customer, wire::PRIMARY_EMAIL).and_then(|v| json_text(Some(v))) {
                None => false,
                Some(emails) => emails
                    .split(';')
                    .any(|e| e.trim().eq_ignore_ascii_case(value)),
            }
        }
        _ => wire::get_ci(customer, wire::REFERENCE)
            .and_then(|v| json_text(Some(v)))
            .is_none_or(|r| r.trim() == value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fusebill;
    use serde_json::json;
    use unibill_sandbox::fusebill::{LOOKUP_SHARED_REFERENCE, LOOKUP_SHARED_REFERENCE_IDS};
    use unibill_sandbox::{Sandbox, FUSEBILL_API_KEY};

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
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
        assert!(check_filter_value(LookupKind::External, "A*B:C").is_ok());
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
