//! Listing every customer (behind
//! [`CustomerUpdater::list`](unibill_core::CustomerUpdater::list)), with
//! Fusebill's customer list ("List Customers",
//! <https://developer.staxbill.com/reference/list-customers>):
//! `GET /v1/customers?pageSize=100&pageNumber=N`, pages from 0 as the
//! paging headers say (the same reading as the lookups, see
//! [`crate::lookup`]). Each listed customer is read as
//! `GET /v1/customers/{id}` would be ([`mapping::customer_from_json`]),
//! with its `raw` record. The position of a page is its number.
//!
//! Customers changed since a time: the same list with
//! `query=modifiedTimestamp:T|`, a range filter with only its lower bound
//! ("Date Filtering", <https://developer.staxbill.com/reference/date-filtering>:
//! `lower|upper`, either bound optional), `T` in UTC as
//! `YYYY-MM-DDTHH:MM:SS` (whole seconds, rounded down, so nothing changed
//! within the second is missed).

use serde_json::Value;
use unibill_core::backend::decode;
use unibill_core::customer::json_text;
use unibill_core::transport::{Method, Request, Transport};
use unibill_core::{CustomerId, Error, ListOptions, ListPage, ListPosition, Result};

use crate::error::ERRORS;
use crate::lookup::{enc, next_page, PAGE_SIZE};
use crate::{mapping, wire, KIND};

/// The page of the customer list at `options.from` (page 0 when `None`),
/// filtered by `options.changed_since`: one `GET` through the client's
/// transport. A position that is not a page number is
/// [`Error::Validation`] on `from`, before any request.
pub(crate) async fn page(transport: &Transport, options: &ListOptions) -> Result<ListPage> {
    let number: u32 = match &options.from {
        None => 0,
        Some(p) => p.as_str().parse().map_err(|_| {
            Error::validation(
                "from",
                format!(
                    "`{}` is not a position of a Fusebill listing (a page number)",
                    unibill_core::error::clip(p.as_str())
                ),
            )
        })?,
    };
    let mut path = format!("/v1/customers?pageSize={PAGE_SIZE}&pageNumber={number}");
    if let Some(since) = options.changed_since {
        let filter = format!("modifiedTimestamp:{}|", since.format("%Y-%m-%dT%H:%M:%S"));
        path.push_str(&format!("&query={}", enc(&filter)));
    }
    let resp = ERRORS
        .send(transport, Request::new(Method::GET, path), None)
        .await?;
    let entries: Vec<Value> = decode(KIND, &resp, "customer list").await?;
    let listed = entries.len();
    let customers = entries
        .into_iter()
        .map(|raw| {
            let id = raw
                .as_object()
                .and_then(|obj| json_text(wire::get_ci(obj, wire::ID)))
                .ok_or_else(|| Error::decode(KIND, "customer list", "an entry has no id"))?;
            mapping::customer_from_json(&CustomerId::new(id), raw)
        })
        .collect::<Result<Vec<_>>>()?;
    let next = next_page(&resp.headers, number, listed, PAGE_SIZE)?;
    Ok(ListPage::new(
        customers,
        next.map(|n| ListPosition::new(n.to_string())),
    ))
}
