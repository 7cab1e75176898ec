//! Listing every customer (behind
//! [`CustomerUpdater::list`](unibill_core::CustomerUpdater::list)):
//! `GET /v1/customers?per_page=200`, then `&cursor=C` while `has_more`
//! ("List Customers", <https://dev.chartmogul.com/reference/list-customers>;
//! the same cursor paging as the lookups, see [`crate::lookup`]). Each
//! entry is a whole customer, read as [`GET /v1/customers/{uuid}`] would
//! be ([`mapping::customer_from_json`]), with its `raw` record. The
//! position of a page is the cursor that fetches it.
//!
//! ChartMogul's list has no filter by modification time, so a listing of
//! the customers changed since a time is refused
//! ([`Listing::All`](unibill_core::Listing::All)): compare a full listing
//! instead.

use serde_json::Value;
use unibill_core::backend::decode_object;
use unibill_core::transport::{query_value as enc, Method, Request, Transport};
use unibill_core::{ListOptions, ListPage, ListPosition, Result};

use crate::error::ERRORS;
use crate::lookup::{next_cursor, PAGE_SIZE};
use crate::wire::CustomerPage;
use crate::{mapping, KIND};

/// The page of the customer list at `options.from` (the first when
/// `None`): one `GET` through the client's transport.
pub(crate) async fn page(transport: &Transport, options: &ListOptions) -> Result<ListPage> {
    let mut path = format!("/v1/customers?per_page={PAGE_SIZE}");
    if let Some(cursor) = &options.from {
        path.push_str(&format!("&cursor={}", enc(cursor.as_str())));
    }
    let resp = ERRORS
        .send(transport, Request::new(Method::GET, path), None)
        .await?;
    let page: CustomerPage<Value> = decode_object(KIND, &resp, "customer list").await?;
    let CustomerPage {
        entries,
        has_more,
        cursor,
    } = page;
    let listed = entries.len();
    let customers = entries
        .into_iter()
        .map(|raw| mapping::customer_from_json(raw, None))
        .collect::<Result<Vec<_>>>()?;
    let previous = options.from.as_ref().map(ListPosition::as_str);
    let at = previous.map_or("the first page".into(), |c| {
        format!("the page at cursor `{}`", unibill_core::error::clip(c))
    });
    let next = next_cursor(&at, listed, has_more, cursor, previous)?;
    Ok(ListPage::new(customers, next.map(ListPosition::new)))
}
