//! Listing every customer (behind
//! [`CustomerUpdater::list`](unibill_core::CustomerUpdater::list)):
//! `GET /v1/customers?limit=100`, then `&starting_after=<last id>` while
//! `has_more` ("List all customers",
//! <https://docs.stripe.com/api/customers/list>). Each entry is a whole
//! customer, read as `GET /v1/customers/{id}` would be
//! ([`mapping::customer_from_json`]), with its `raw` record. The position
//! of a page is the id it starts after.
//!
//! Stripe's list filters by `created` only, not by modification time, so
//! a listing of the customers changed since a time is refused
//! ([`Listing::All`](unibill_core::Listing::All)): compare a full listing
//! instead.

use serde_json::Value;
use unibill_core::backend::decode_object;
use unibill_core::transport::{query_value as enc, Method, Request, Transport};
use unibill_core::{ListOptions, ListPage, ListPosition, Result};

use crate::error::from_response;
use crate::lookup::{next_position, PAGE_SIZE};
use crate::wire::ListPage as WirePage;
use crate::{mapping, KIND};

/// The page of the customer list at `options.from` (the first when
/// `None`): one `GET` through the client's transport.
pub(crate) async fn page(
    transport: &Transport,
    options: &ListOptions,
    reference_key: &str,
) -> Result<ListPage> {
    let mut path = format!("/v1/customers?limit={PAGE_SIZE}");
    if let Some(after) = &options.from {
        path.push_str(&format!("&starting_after={}", enc(after.as_str())));
    }
    let resp = transport.send(Request::new(Method::GET, path)).await?;
    if !resp.is_success() {
        return Err(from_response(&resp, None, reference_key));
    }
    let page: WirePage<Value> = decode_object(KIND, &resp, "customer list").await?;
    let listed = page.data.len();
    let customers = page
        .data
        .into_iter()
        .map(|raw| mapping::customer_from_json(raw, None, reference_key))
        .collect::<Result<Vec<_>>>()?;
    let next = if page.has_more {
        let last = customers.last().map(|c| c.id.as_str().to_owned());
        let previous = options.from.as_ref().map(ListPosition::as_str);
        Some(ListPosition::new(next_position(listed, last, previous)?))
    } else {
        None
    };
    Ok(ListPage::new(customers, next))
}
