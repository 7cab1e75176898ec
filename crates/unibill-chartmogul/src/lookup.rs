//! Finding customers by email or external id (behind
//! [`CustomerUpdater::find`](unibill_core::CustomerUpdater::find)).
//!
//! - Email: `GET /v1/customers/search?email=X&per_page=200`, then
//!   `&cursor=C` while `has_more` ("Search for Customers",
//!   <https://dev.chartmogul.com/reference/search-for-customers>). No match
//!   is a 404 whose message is "Can't find any customers with email: …":
//!   zero matches, not an error. Entries whose email differs from X (ASCII
//!   case ignored: ChartMogul does not document case) are dropped.
//! - External id: `GET /v1/customers?external_id=X&per_page=200`, then
//!   `&cursor=C` while `has_more` ("List Customers",
//!   <https://dev.chartmogul.com/reference/list-customers>). `page` is never
//!   sent: ChartMogul pages these lists by cursor. One external id may name
//!   several customers (one per data source, or merged customers).
//!
//! Each page is one `GET` through the client's transport (rate limit,
//! retries: a `GET` is safe to repeat). A page saying `has_more: true` is
//! followed; one that says so but lists nobody is [`Error::Decode`]. Only
//! the uuid and the compared fields of each entry are decoded, and matches
//! are kept through [`LookupPages`] (hash-set dedup, at most
//! [`MAX_MATCHES`](unibill_core::reference::MAX_MATCHES), one overall
//! deadline).

use unibill_core::backend::decode_object;
use unibill_core::customer::json_text;
use unibill_core::lookup::LookupPages;
use unibill_core::transport::{Method, Request, Response, Transport};
use unibill_core::{check, CustomerId, Error, LookupKind, Result};

use crate::error::{vendor_messages, ERRORS};
use crate::wire::{CustomerEntry, CustomerPage};
use crate::KIND;

/// Customers asked for per page: the largest page ChartMogul answers (its
/// default for these lists, as recorded by chartmogul-ruby).
pub const PAGE_SIZE: u32 = 200;

/// The most pages one lookup reads before giving up with
/// [`Error::Decode`]: a guard against a cursor that never ends.
pub const MAX_PAGES: usize = 1000;

/// The start of the message of the search's "no match" 404.
const NO_MATCH: &str = "Can't find any customers with email";

use unibill_core::transport::query_value as enc;

/// The uuids of every customer whose `kind` is `value`, in ChartMogul's
/// order, reading `page_size` customers per page.
pub(crate) async fn find_ids(
    transport: &Transport,
    kind: LookupKind,
    value: &str,
    page_size: u32,
) -> Result<Vec<CustomerId>> {
    let first = match kind {
        LookupKind::Email => {
            check::email(kind.field(), value)?;
            format!(
                "/v1/customers/search?email={}&per_page={page_size}",
                enc(value)
            )
        }
        LookupKind::External => {
            check::text(kind.field(), value)?;
            format!(
                "/v1/customers?external_id={}&per_page={page_size}",
                enc(value)
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
    let mut previous_cursor: Option<String> = None;
    for page_number in 1..=MAX_PAGES {
        let Some(resp) = lookup.page(read_page(transport, kind, path)).await? else {
            return lookup.finish();
        };
        let page: CustomerPage = decode_object(KIND, &resp, "customer list").await?;
        let CustomerPage {
            entries,
            has_more,
            cursor,
        } = page;
        let listed = entries.len();
        for entry in entries {
            if matches(&entry, kind, value) {
                let uuid = entry
                    .uuid
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| Error::decode(KIND, "customer list", "an entry has no uuid"))?;
                lookup.add(CustomerId::new(uuid));
            }
            lookup.tick().await;
        }
        if lookup.is_full() {
            return lookup.finish();
        }
        let Some(cursor) = next_cursor(
            &format!("page {page_number}"),
            listed,
            has_more,
            cursor,
            previous_cursor.as_deref(),
        )?
        else {
            return lookup.finish();
        };
        path = format!("{first}&cursor={}", enc(&cursor));
        previous_cursor = Some(cursor);
    }
    Err(Error::decode(
        KIND,
        "customer list",
        format!("more than {MAX_PAGES} pages"),
    ))
}

/// The cursor of the page after the one described by `page` (which listed
/// `listed` customers and said `has_more` and `cursor`), or `None` when it
/// was the last. `has_more: true` with nobody listed, or with a cursor that is
/// missing or the same as the one just read (`previous`), is
/// [`Error::Decode`]: the list would be cut short or never end.
pub(crate) fn next_cursor(
    page: &str,
    listed: usize,
    has_more: Option<bool>,
    cursor: Option<String>,
    previous: Option<&str>,
) -> Result<Option<String>> {
    if has_more != Some(true) {
        return Ok(None);
    }
    if listed == 0 {
        return Err(Error::decode(
            KIND,
            "customer list",
            format!(
                "ChartMogul answered `has_more: true` with no customers on {} (cursor {}): the list is cut short",
                page,
                cursor.as_deref().map_or("null".into(), |c| format!("`{}`", unibill_core::error::clip(c)))
            ),
        ));
    }
    match cursor {
        Some(c) if !c.is_empty() && previous != Some(c.as_str()) => Ok(Some(c)),
        _ => Err(Error::decode(
            KIND,
            "customer list",
            "`has_more` is true but the cursor is missing or repeated",
        )),
    }
}

/// One page's answer (a success); `None` for the search's "no match"
/// 404.
async fn read_page(
    transport: &Transport,
    kind: LookupKind,
    path: String,
) -> Result<Option<Response>> {
    let resp = transport.send(Request::new(Method::GET, path)).await?;
    if !resp.is_success() {
        if kind == LookupKind::Email
            && resp.status == 404
            && vendor_messages(&resp.body)
                .iter()
                .any(|m| m.starts_with(NO_MATCH))
        {
            return Ok(None);
        }
        return Err(ERRORS.from_response(&resp, None));
    }
    Ok(Some(resp))
}

/// Whether a listed customer really has `value`: the vendor chose it, so
/// an entry that does not say is kept; one that says otherwise is not.
fn matches(entry: &CustomerEntry, kind: LookupKind, value: &str) -> bool {
    match kind {
        LookupKind::Email => entry
            .email
            .as_deref()
            .is_none_or(|e| e.trim().eq_ignore_ascii_case(value.trim())),
        _ => {
            let one = entry.external_id.as_ref().map(|v| json_text(Some(v)));
            let all = entry.external_ids.as_ref();
            if one.is_none() && all.is_none() {
                return true;
            }
            one.flatten().as_deref() == Some(value)
                || all.is_some_and(|ids| {
                    ids.iter()
                        .any(|v| json_text(Some(v)).as_deref() == Some(value))
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChartMogul;
    use unibill_core::BackendBuilder;
    use unibill_sandbox::chartmogul::{
        LOOKUP_SHARED_EMAIL, LOOKUP_SHARED_EXTERNAL_ID, LOOKUP_SHARED_UUIDS,
    };
    use unibill_sandbox::{Sandbox, CHARTMOGUL_API_KEY};

    fn entry(email: Option<&str>, ext: Option<serde_json::Value>) -> CustomerEntry {
        CustomerEntry {
            uuid: Some("cus_1".into()),
            email: email.map(str::to_owned),
            external_id: ext,
            external_ids: None,
        }
    }

    #[test]
    fn only_entries_with_the_value_match() {
        let e = LookupKind::Email;
        assert!(matches(&entry(Some("A@B.example"), None), e, "a@b.example"));
        assert!(!matches(
            &entry(Some("c@b.example"), None),
            e,
            "a@b.example"
        ));
        assert!(matches(&entry(None, None), e, "a@b.example"));
        let x = LookupKind::External;
        assert!(matches(&entry(None, Some("7".into())), x, "7"));
        assert!(matches(&entry(None, Some(7.into())), x, "7"));
        assert!(!matches(&entry(None, Some("8".into())), x, "7"));
        let mut merged = entry(None, Some("8".into()));
        merged.external_ids = Some(vec!["8".into(), "7".into()]);
        assert!(matches(&merged, x, "7"));
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(enc("a+b@c.example&x=1"), "a%2Bb%40c.example%26x%3D1");
    }

    /// Paging with one customer per page: every page is read, by cursor,
    /// and both customers are found once, in ChartMogul's order.
    #[tokio::test]
    async fn every_page_is_read_by_cursor() {
        let sb = Sandbox::start().await.unwrap();
        sb.chartmogul().add_lookup_seeds();
        let cm = ChartMogul::builder()
            .api_key(CHARTMOGUL_API_KEY)
            .base_url(sb.chartmogul().base_url())
            .build()
            .unwrap();
        let want: Vec<CustomerId> = LOOKUP_SHARED_UUIDS
            .iter()
            .map(|u| CustomerId::new(*u))
            .collect();
        for (kind, value, path) in [
            (
                LookupKind::Email,
                LOOKUP_SHARED_EMAIL,
                "/v1/customers/search?email=",
            ),
            (
                LookupKind::External,
                LOOKUP_SHARED_EXTERNAL_ID,
                "/v1/customers?external_id=",
            ),
        ] {
            let before = sb.chartmogul().journal().len();
            let ids = find_ids(cm.transport(), kind, value, 1).await.unwrap();
            assert_eq!(ids, want, "{kind}");
            let j = sb.chartmogul().journal();
            let sent: Vec<&str> = j[before..].iter().map(|e| e.path.as_str()).collect();
            // Two customers, one per page: the second page says has_more
            // false (or a third, empty page ends it).
            assert!(sent.len() >= 2, "{sent:?}");
            assert!(sent
                .iter()
                .all(|p| p.starts_with(path) && p.contains("per_page=1")));
            assert!(!sent[0].contains("cursor="), "{sent:?}");
            assert!(sent[1..].iter().all(|p| p.contains("&cursor=")), "{sent:?}");
            // Cursor paging only: never a `page` parameter.
            assert!(sent
                .iter()
                .all(|p| p.split(['?', '&']).all(|kv| !kv.starts_with("page="))));
            assert!(j[before..].iter().all(|e| e.status == 200 && !e.is_write()));
        }
    }
}
