//! Reading the customer collection page by page (behind
//! [`CustomerUpdater::list`](unibill_core::CustomerUpdater::list)):
//! `GET /api/2.0/customers` and the `next` links of its answers.
//!
//! The platform pages its collections and names the following page in
//! the answer's `links` (`rel: "next"`, "The REST API"), so the client
//! follows that link rather than counting pages itself; the position of a
//! page ([`ListPosition`]) is its path and query under the install's
//! address (`/api/2.0/customers?page=2&count=100`). A link, or a position
//! given back to resume, is followed only when it leads to the customer
//! collection under this client's base URL (absolute, or a path):
//! credentials are never sent elsewhere. Every page is one request
//! through the client's transport, paced by the same rate limit and
//! retried like any other read. No filter by modification time is
//! documented ([`Listing::All`](unibill_core::Listing::All)).

use serde_json::Value;
use unibill_core::backend::decode;
use unibill_core::transport::{Method, Request};
use unibill_core::{CustomerId, Error, ListOptions, ListPage, ListPosition, Result};

use crate::client::Everlytic;
use crate::error::{error_in_success, ERRORS};
use crate::{mapping, wire, KIND};

/// What a page is called in errors.
const WHAT: &str = "customer list";

impl Everlytic {
    /// The page of `GET /api/2.0/customers` at `options.from` (the first
    /// for `None`). A position that does not lead to the customer
    /// collection of this install is [`Error::Validation`] on `from`,
    /// before any request. A `next` link elsewhere, an entry without an
    /// `id`, an answer without a `collection`, or a page that lists no
    /// customers but links to a next one is [`Error::Decode`]; error
    /// answers map as for every other call.
    pub(crate) async fn list_page_at(&self, options: &ListOptions) -> Result<ListPage> {
        let path = match &options.from {
            Some(position) => self.next_page(position.as_str()).map_err(|_| {
                Error::validation(
                    "from",
                    format!(
                        "`{}` is not a page of this install's customer collection",
                        unibill_core::error::clip(position.as_str())
                    ),
                )
            })?,
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

    /// The customers and `next` link of a page's answer.
    fn page_from_answer(&self, answer: &Value) -> Result<ListPage> {
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
            Some(href) => Some(ListPosition::new(self.next_page(href)?)),
            None => None,
        };
        Ok(ListPage::new(customers, next))
    }

    /// `href` as the path and query of a page of the customer collection
    /// of this install.
    fn next_page(&self, href: &str) -> Result<String> {
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
        Ok(path.to_owned())
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
            assert_eq!(c.next_page(href).unwrap(), path, "{href}");
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
        assert_eq!(page.next.unwrap().as_str(), "/api/2.0/customers?page=2");
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
