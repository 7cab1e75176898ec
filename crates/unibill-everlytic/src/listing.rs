//! Reading the customer collection page by page: `GET /api/2.0/customers`
//! and the `next` links of its answers.
//!
//! This is Everlytic's own listing, what a neutral listing of customers
//! builds on: the platform pages its collections and names the following
//! page in the answer's `links` (`rel: "next"`), so a client follows that
//! link rather than counting pages itself. Every page is one request
//! through the client's transport, so it is paced by the same rate limit
//! and retried like any other read.

use std::collections::HashSet;

use serde_json::Value;
use unibill_core::backend::decode;
use unibill_core::transport::{Method, Request};
use unibill_core::{Customer, CustomerId, Error, Result};

use crate::client::Everlytic;
use crate::error::{error_in_success, ERRORS};
use crate::{mapping, wire, KIND};

/// What a page is called in errors.
const WHAT: &str = "customer list";

/// Where the following page of the collection is: the `next` link of a
/// page, checked to lead to the customer collection of the same install.
///
/// Only [`Everlytic::customers_page`] makes one, from an answer; pass it
/// back to read that page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NextPage {
    /// The path and query under the install's address
    /// (`/api/2.0/customers?page=2&count=100`).
    path: String,
}

impl NextPage {
    /// The path and query of the page under the install's address, e.g.
    /// `/api/2.0/customers?page=2&count=100`.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// One page of the customer collection.
#[derive(Debug, Clone)]
pub struct CustomerPage {
    /// The customers of this page, in the platform's order, each mapped as
    /// [`get`](unibill_core::CustomerUpdater::get) maps one.
    pub customers: Vec<Customer>,
    /// The following page, when the answer links one.
    pub next: Option<NextPage>,
}

impl Everlytic {
    /// Reads one page of `GET /api/2.0/customers`: the first page for
    /// `None`, else the page `next` names (from an earlier
    /// [`CustomerPage::next`]). Answers its customers and the link to the
    /// following page.
    ///
    /// A `next` link is followed only when it leads to the customer
    /// collection under this client's base URL (absolute, or a path):
    /// credentials are never sent elsewhere. A link elsewhere, an entry
    /// without an `id`, an answer without a `collection`, or a page that
    /// lists no customers but links to a next one is [`Error::Decode`];
    /// error answers map as for every other call.
    ///
    /// ```no_run
    /// # async fn demo(everlytic: unibill_everlytic::Everlytic) -> unibill_core::Result<()> {
    /// let first = everlytic.customers_page(None).await?;
    /// if let Some(next) = &first.next {
    ///     let second = everlytic.customers_page(Some(next)).await?;
    ///     println!("{} more", second.customers.len());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn customers_page(&self, next: Option<&NextPage>) -> Result<CustomerPage> {
        let path = match next {
            Some(n) => n.path.clone(),
            None => {
                let [a, b, c] = wire::CUSTOMERS;
                self.transport().path(&[a, b, c])?
            }
        };
        let resp = ERRORS
            .send(self.transport(), Request::new(Method::GET, &path), None)
            .await?;
        let answer: Value = decode(KIND, &resp, WHAT).await?;
        if let Some(messages) = error_in_success(&answer) {
            return Err(Error::vendor(KIND, resp.status, messages));
        }
        self.page_from_answer(&answer)
    }

    /// Every customer of the collection: the first page, then each `next`
    /// link until a page has none ([`Everlytic::customers_page`]). A `next`
    /// link that leads back to a page already read is
    /// [`Error::Decode`] rather than an endless loop.
    pub async fn all_customers(&self) -> Result<Vec<Customer>> {
        let mut out = Vec::new();
        let mut seen: HashSet<NextPage> = HashSet::new();
        let mut page = self.customers_page(None).await?;
        loop {
            out.append(&mut page.customers);
            let Some(next) = page.next.take() else {
                return Ok(out);
            };
            if !seen.insert(next.clone()) {
                return Err(Error::decode(
                    KIND,
                    WHAT,
                    format!("the next link leads back to {}", next.path),
                ));
            }
            page = self.customers_page(Some(&next)).await?;
        }
    }

    /// The customers and `next` link of a page's answer.
    fn page_from_answer(&self, answer: &Value) -> Result<CustomerPage> {
        let entries: Vec<&Value> = match answer.get("collection") {
            Some(Value::Array(items)) => items.iter().collect(),
            // A PHP encoder answers an associative array as an object.
            Some(Value::Object(items)) => items.values().collect(),
            _ => {
                return Err(Error::decode(
                    KIND,
                    WHAT,
                    "no collection (expected {\"links\":[..],\"collection\":[..]})",
                ))
            }
        };
        let mut customers = Vec::with_capacity(entries.len());
        for entry in entries {
            let id = match entry.get("id") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
                _ => return Err(Error::decode(KIND, WHAT, "a collection entry has no id")),
            };
            customers.push(mapping::customer_from_answer(
                &CustomerId::new(id),
                entry.clone(),
            )?);
        }
        let next = match next_href(answer) {
            // More promised on a page that lists nothing: an answer cut
            // short, or a listing that never ends; never a shorter list.
            Some(_) if customers.is_empty() => {
                return Err(Error::decode(
                    KIND,
                    WHAT,
                    "a page that lists no customers links to a next one",
                ))
            }
            Some(href) => Some(self.next_page(href)?),
            None => None,
        };
        Ok(CustomerPage { customers, next })
    }

    /// `href` as a page of the customer collection of this install.
    fn next_page(&self, href: &str) -> Result<NextPage> {
        let base = self.base_url();
        let path = if let Some(rest) = href.strip_prefix(base) {
            rest
        } else if href.starts_with('/') && !href.starts_with("//") {
            href
        } else {
            return Err(Error::decode(
                KIND,
                WHAT,
                "the next link leads away from the configured base URL; it was not followed",
            ));
        };
        let collection = format!("/{}", wire::CUSTOMERS.join("/"));
        let under = path
            .strip_prefix(&collection)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('?'));
        if !under {
            return Err(Error::decode(
                KIND,
                WHAT,
                "the next link does not lead to the customer collection; it was not followed",
            ));
        }
        Ok(NextPage {
            path: path.to_owned(),
        })
    }
}

/// The `href` of the answer's `next` link, if any.
fn next_href(answer: &Value) -> Option<&str> {
    answer
        .get("links")?
        .as_array()?
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str) == Some("next"))?
        .get("href")?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use unibill_core::BackendBuilder;

    fn client() -> Everlytic {
        Everlytic::builder()
            .base_url("https://mail.example.com/sub")
            .username("u")
            .api_key("k")
            .build()
            .unwrap()
    }

    #[test]
    fn next_links_are_followed_only_into_the_customer_collection() {
        let c = client();
        for (href, path) in [
            (
                "https://mail.example.com/sub/api/2.0/customers?page=2&count=2",
                "/api/2.0/customers?page=2&count=2",
            ),
            ("/api/2.0/customers?page=3", "/api/2.0/customers?page=3"),
            (
                "https://mail.example.com/sub/api/2.0/customers",
                "/api/2.0/customers",
            ),
        ] {
            assert_eq!(c.next_page(href).unwrap().path(), path, "{href}");
        }
        for href in [
            "https://evil.example/api/2.0/customers?page=2",
            "//evil.example/api/2.0/customers",
            "https://mail.example.com/api/2.0/customers?page=2",
            "https://mail.example.com/sub/api/2.0/lists?page=2",
            "https://mail.example.com/sub/api/2.0/customersX",
            "/api/2.0/customers/1001",
            "ftp://mail.example.com/sub/api/2.0/customers",
        ] {
            let e = c.next_page(href).unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{href}: {e:?}");
            assert!(!e.to_string().contains("evil"), "{e}");
        }
    }

    #[test]
    fn a_page_reads_its_entries_and_next_link() {
        let c = client();
        let answer = json!({
            "links": [
                {"title": "Self", "rel": "self", "href": "https://mail.example.com/sub/api/2.0/customers?page=1"},
                {"title": "Next", "rel": "next", "href": "https://mail.example.com/sub/api/2.0/customers?page=2"}
            ],
            "collection": [{"id": 7, "name": "A"}, {"id": "8", "name": "B"}]
        });
        let page = c.page_from_answer(&answer).unwrap();
        let ids: Vec<&str> = page.customers.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["7", "8"]);
        assert_eq!(page.customers[1].name.as_deref(), Some("B"));
        assert_eq!(page.next.unwrap().path(), "/api/2.0/customers?page=2");
        let last = c
            .page_from_answer(&json!({"links": [], "collection": {"a": {"id": 9}}}))
            .unwrap();
        assert_eq!(last.customers[0].id.as_str(), "9");
        assert!(last.next.is_none());
        for bad in [
            json!({"links": []}),
            json!({"collection": 3}),
            json!({"collection": [{"name": "no id"}]}),
            json!({"collection": [{"id": " "}]}),
            json!({"collection": [], "links": [
                {"rel": "next", "href": "https://mail.example.com/sub/api/2.0/customers?page=2"}
            ]}),
        ] {
            let e = c.page_from_answer(&bad).unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{bad}: {e:?}");
        }
    }
}
