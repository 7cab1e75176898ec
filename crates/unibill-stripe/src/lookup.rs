//! Finding customers by email or by external reference (behind
//! [`CustomerUpdater::find`](unibill_core::CustomerUpdater::find)).
//!
//! - Email: `GET /v1/customers?email=X&limit=100`, then
//!   `&starting_after=<last id>` while `has_more` ("List all customers",
//!   <https://docs.stripe.com/api/customers/list>). Stripe's filter is
//!   documented as **case-sensitive**: `Jenny@example.com` does not find
//!   `jenny@example.com`. Entries whose email differs from X are dropped.
//! - External reference: `GET /v1/customers/search?query=Q&limit=100`,
//!   then `&page=<next_page>` while `has_more` ("Search customers",
//!   <https://docs.stripe.com/api/customers/search>), with
//!   `Q = metadata['<reference key>']:'<value>'`; a `'` in the value is
//!   escaped as `\'` and a `\` as `\\` (the query language escapes quotes
//!   with a backslash, <https://docs.stripe.com/search#search-query-language>).
//!   Only customers whose metadata holds exactly the value are kept.
//!   Search is **eventually consistent**: "under normal operating
//!   conditions, data is searchable in under 1 minute"
//!   (<https://docs.stripe.com/search#data-freshness>), so a customer
//!   whose reference was set moments ago may not be found yet (an update
//!   by that reference fails with `NotFound`, writing nothing), and one
//!   whose reference just moved may still be found under the old one.
//!   Search needs the account's API version 2020-08-27 or later and is
//!   not offered to accounts in India; it is limited to 20 requests per
//!   second.
//!
//! Each page is one `GET` through the client's transport (rate limit,
//! retries: a `GET` is safe to repeat). A page saying `has_more: true`
//! that lists nobody, or gives no way to the next page, is
//! [`Error::Decode`]. Matches are kept through [`LookupPages`] (dedup, at
//! most [`MAX_MATCHES`](unibill_core::reference::MAX_MATCHES), one overall
//! deadline).

use unibill_core::backend::decode_object;
use unibill_core::customer::json_text;
use unibill_core::lookup::LookupPages;
use unibill_core::transport::{query_value as enc, Method, Request, Response, Transport};
use unibill_core::{check, CustomerId, Error, LookupKind, Result};

use crate::error::from_response;
use crate::wire::{CustomerEntry, ListPage, SearchPage};
use crate::KIND;

/// Customers asked for per page: the most Stripe's list and search
/// answer (`limit` ranges from 1 to 100).
pub const PAGE_SIZE: u32 = 100;

/// The most pages one lookup reads before giving up with
/// [`Error::Decode`]: a guard against a cursor that never ends.
pub const MAX_PAGES: usize = 1000;

/// A value as a quoted string of Stripe's search query language:
/// `'`-quoted, with `\` and `'` escaped by a backslash.
///
/// ```
/// use unibill_stripe::lookup::search_literal;
/// assert_eq!(search_literal(r"O'Brien\1"), r"'O\'Brien\\1'");
/// ```
pub fn search_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if matches!(c, '\'' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The search query finding `value` under the metadata key
/// `reference_key`.
///
/// ```
/// use unibill_stripe::lookup::reference_query;
/// assert_eq!(reference_query("external_id", "A-1"), "metadata['external_id']:'A-1'");
/// ```
pub fn reference_query(reference_key: &str, value: &str) -> String {
    format!("metadata['{reference_key}']:{}", search_literal(value))
}

/// The ids of every customer whose `kind` is `value`, in Stripe's order,
/// reading `page_size` customers per page.
pub(crate) async fn find_ids(
    transport: &Transport,
    kind: LookupKind,
    value: &str,
    reference_key: &str,
    page_size: u32,
) -> Result<Vec<CustomerId>> {
    let first = match kind {
        LookupKind::Email => {
            check::email(kind.field(), value)?;
            format!("/v1/customers?email={}&limit={page_size}", enc(value))
        }
        LookupKind::External => {
            check::text(kind.field(), value)?;
            format!(
                "/v1/customers/search?query={}&limit={page_size}",
                enc(&reference_query(reference_key, value))
            )
        }
        _ => {
            return Err(Error::UnsupportedLookup {
                backend: KIND,
                lookup: kind,
            })
        }
    };
    let mut lookup = LookupPages::new(transport, kind, value);
    let mut path = first.clone();
    let mut previous: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let resp = lookup
            .page(read_page(transport, path, reference_key))
            .await?;
        let (entries, has_more, next) = match kind {
            LookupKind::Email => {
                let page: ListPage<CustomerEntry> =
                    decode_object(KIND, &resp, "customer list").await?;
                let next = page.data.last().and_then(|e| e.id.clone());
                (page.data, page.has_more, next)
            }
            _ => {
                let page: SearchPage = decode_object(KIND, &resp, "customer search").await?;
                (page.data, page.has_more, page.next_page)
            }
        };
        let listed = entries.len();
        for entry in entries {
            if matches(&entry, kind, value, reference_key) {
                let id = entry
                    .id
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| Error::decode(KIND, "customer list", "an entry has no id"))?;
                lookup.add(CustomerId::new(id));
            }
            lookup.tick().await;
        }
        if lookup.is_full() || !has_more {
            return lookup.finish();
        }
        let next = next_position(listed, next, previous.as_deref())?;
        path = match kind {
            LookupKind::Email => format!("{first}&starting_after={}", enc(&next)),
            _ => format!("{first}&page={}", enc(&next)),
        };
        previous = Some(next);
    }
    Err(Error::decode(
        KIND,
        "customer list",
        format!("more than {MAX_PAGES} pages"),
    ))
}

/// The position of the page after one that said `has_more: true` and
/// listed `listed` customers: its last id (list) or its `next_page`
/// (search). Nobody listed, or a position missing or the same as the one
/// just read (`previous`), is [`Error::Decode`]: the list would be cut
/// short or never end.
pub(crate) fn next_position(
    listed: usize,
    next: Option<String>,
    previous: Option<&str>,
) -> Result<String> {
    if listed == 0 {
        return Err(Error::decode(
            KIND,
            "customer list",
            "Stripe answered `has_more: true` with no customers: the list is cut short",
        ));
    }
    match next {
        Some(n) if !n.is_empty() && previous != Some(n.as_str()) => Ok(n),
        _ => Err(Error::decode(
            KIND,
            "customer list",
            "`has_more` is true but the next page's position is missing or repeated",
        )),
    }
}

/// One page's answer, when a success.
async fn read_page(transport: &Transport, path: String, reference_key: &str) -> Result<Response> {
    let resp = transport.send(Request::new(Method::GET, path)).await?;
    if resp.is_success() {
        Ok(resp)
    } else {
        Err(from_response(&resp, None, reference_key))
    }
}

/// Whether a listed customer really has `value`: Stripe chose it, so an
/// entry that does not say is kept; one that says otherwise is not.
/// Emails compare exactly, as Stripe's filter does (case-sensitive);
/// references compare exactly (the search's `:` is not documented as
/// case-sensitive, a reference is an identifier).
fn matches(entry: &CustomerEntry, kind: LookupKind, value: &str, reference_key: &str) -> bool {
    match kind {
        LookupKind::Email => entry.email.as_deref().is_none_or(|e| e == value),
        _ => entry
            .metadata
            .as_ref()
            .is_none_or(|m| json_text(m.get(reference_key)).as_deref() == Some(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn entry(email: Option<&str>, reference: Option<&str>) -> CustomerEntry {
        CustomerEntry {
            id: Some("cus_1".into()),
            email: email.map(str::to_owned),
            metadata: reference.map(|r| BTreeMap::from([("external_id".to_string(), r.into())])),
        }
    }

    #[test]
    fn only_entries_with_the_value_match() {
        let (e, x, key) = (LookupKind::Email, LookupKind::External, "external_id");
        assert!(matches(
            &entry(Some("a@b.example"), None),
            e,
            "a@b.example",
            key
        ));
        assert!(!matches(
            &entry(Some("A@b.example"), None),
            e,
            "a@b.example",
            key
        ));
        assert!(matches(&entry(None, None), e, "a@b.example", key));
        assert!(matches(&entry(None, Some("R-1")), x, "R-1", key));
        assert!(!matches(&entry(None, Some("r-1")), x, "R-1", key));
        let mut other = entry(None, None);
        other.metadata = Some(BTreeMap::new());
        assert!(!matches(&other, x, "R-1", key));
    }

    #[test]
    fn queries_quote_and_escape() {
        assert_eq!(
            reference_query("crm", "a' OR created>0 OR email:'x"),
            r"metadata['crm']:'a\' OR created>0 OR email:\'x'"
        );
        assert_eq!(search_literal(r"\"), r"'\\'");
        assert_eq!(
            enc(&reference_query("external_id", "A 1")),
            "metadata%5B%27external_id%27%5D%3A%27A%201%27"
        );
    }

    #[test]
    fn next_position_refuses_a_cut_or_endless_list() {
        assert_eq!(
            next_position(2, Some("cus_2".into()), None).unwrap(),
            "cus_2"
        );
        assert!(next_position(0, Some("cus_2".into()), None).is_err());
        assert!(next_position(1, None, None).is_err());
        assert!(next_position(1, Some("p".into()), Some("p")).is_err());
    }
}
