//! The [`Everlytic`] client (its builder is in [`crate::builder`]).

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Map, Value};
use unibill_core::backend::{decode, fresh_enough, read_back};
use unibill_core::transport::{Method, Permit, Request, Transport};
use unibill_core::Backend;
use unibill_core::{
    Capabilities, CheckedPatch, ConflictCheck, Customer, CustomerId, CustomerPatch,
    CustomerUpdater, Error, Field, FieldCaps, ListOptions, ListPage, Listing, LockGuard,
    PlannedRequest, Result, UpdateOutcome,
};

use crate::builder::EverlyticBuilder;
use crate::error::{error_in_success, ERRORS};
use crate::{mapping, wire, KIND};

/// What Everlytic can do with each neutral field.
///
/// `name` and `email` are required by the platform, so they can be set but
/// never cleared; `status` takes one of four values and `country` a
/// two-character code, so neither can be emptied. Everything not listed
/// (first/last name, company, city, second address line, currency, tags,
/// custom attributes, ...) does not exist on the platform.
///
/// No lookup: Everlytic documents no customer search or filter, so a
/// [`CustomerRef`](unibill_core::CustomerRef) by email or external
/// reference is refused with
/// [`Error::UnsupportedLookup`](unibill_core::Error::UnsupportedLookup)
/// before any request (see `docs/everlytic.md`).
pub fn capabilities() -> Capabilities {
    Capabilities::new(KIND)
        .with_all(
            &[
                Field::DisplayName,
                Field::Email,
                Field::Status,
                Field::Country,
            ],
            FieldCaps::READ_SET,
        )
        .with_all(
            &[
                Field::AddressLine1,
                Field::Region,
                Field::PostalCode,
                Field::Phone,
                Field::Website,
                Field::ExternalReference,
            ],
            FieldCaps::ALL,
        )
        .with_listing(Listing::All)
}

/// An Everlytic install's customers behind the neutral
/// [`CustomerUpdater`] API.
///
/// * `get` reads `GET /api/2.0/customers/{id}` (the `{"links":[..],
///   "item":{..}}` envelope is unwrapped; a bare object is accepted too).
/// * `update` sends one `PUT /api/2.0/customers/{id}` with the changed
///   properties plus `name` and `email`, which the platform requires on
///   every update. When the patch sets both, that `PUT` is the only
///   request; otherwise the customer is read first and its current values
///   are sent. A patch whose values the platform already holds sends no
///   `PUT`. When the `PUT` answers something other than a customer (the
///   XML-RPC-style integer, an empty body), the customer is read again so
///   the result is what the platform holds afterwards.
/// * [`list`](unibill_core::CustomerUpdater::list) reads the customer
///   collection page by page, following its `next` links.
///
/// Cloning is cheap and clones share the connection pool, the rate limit
/// and the retry counter.
#[derive(Clone)]
pub struct Everlytic {
    transport: Transport,
    caps: Capabilities,
    username: String,
    conflict: ConflictCheck,
    pub(crate) max_read_age: Duration,
}

impl fmt::Debug for Everlytic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Everlytic")
            .field("base_url", &self.transport.base_url())
            .field("username", &self.username)
            .field("api_key", &"***")
            .finish()
    }
}

/// What an update will do, computed by [`Everlytic::prepare`] for both
/// `apply` and `plan`.
struct Prepared {
    /// The path of the customer.
    path: String,
    /// The validated changes, before comparison with the customer.
    changes: wire::CustomerWrite,
    /// The customer read on the way (when the patch needed it).
    current: Option<Customer>,
    /// The write, if any: the `PUT` body.
    put: Option<Value>,
    /// When the read of `current` was answered.
    answered: Option<Instant>,
}

impl Everlytic {
    /// The client over a built transport (see [`EverlyticBuilder`]).
    pub(crate) fn new(
        transport: Transport,
        username: String,
        conflict: ConflictCheck,
        max_read_age: Duration,
    ) -> Self {
        Everlytic {
            transport,
            caps: capabilities(),
            username,
            conflict,
            max_read_age,
        }
    }

    /// A builder.
    pub fn builder() -> EverlyticBuilder {
        EverlyticBuilder::default()
    }

    /// The install's address as configured (without a trailing `/`).
    pub fn base_url(&self) -> &str {
        self.transport.base_url()
    }

    /// The API user's name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The transport every request goes through (rate limit, retries).
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    fn customer_path(&self, id: &CustomerId) -> Result<String> {
        let id = self.canonical_id(id)?;
        let [a, b, c] = wire::CUSTOMERS;
        self.transport.path(&[a, b, c, id.as_str()])
    }

    async fn read(&self, id: &CustomerId, path: &str) -> Result<Customer> {
        let (status, raw) = self.read_answer(id, path, None).await?;
        decode_read(id, status, raw)
    }

    /// The `GET` of the customer at `path`: its status and its answer read
    /// as JSON, not yet checked or mapped ([`decode_read`] does both).
    async fn read_answer(
        &self,
        id: &CustomerId,
        path: &str,
        permit: Option<Permit>,
    ) -> Result<(u16, Value)> {
        let request = Request::new(Method::GET, path);
        let resp = ERRORS
            .send_permitted(&self.transport, request, permit, Some(id.as_str()))
            .await?;
        let raw: Value = decode(KIND, &resp, "customer response").await?;
        Ok((resp.status, raw))
    }

    /// Validates the patch and works out the write: everything that can
    /// be refused is refused here, before the first request. Reads the
    /// customer when the patch does not set both `name` and `email`.
    async fn prepare(&self, id: &CustomerId, patch: &CustomerPatch) -> Result<Prepared> {
        let path = self.customer_path(id)?;
        let changes = mapping::changes(patch)?;
        if changes.is_empty() {
            return Ok(Prepared {
                path,
                changes,
                current: None,
                put: None,
                answered: None,
            });
        }
        if mapping::sets_name_and_email(&changes) {
            let body = mapping::put_body(changes.clone(), None)?;
            return Ok(Prepared {
                path,
                changes,
                current: None,
                put: Some(body),
                answered: None,
            });
        }
        let current = self.read(id, &path).await?;
        let answered = Instant::now();
        let put = Self::write_for(&changes, &current)?;
        Ok(Prepared {
            path,
            changes,
            current: Some(current),
            put,
            answered: Some(answered),
        })
    }

    /// The `PUT` body for `changes` over the customer as read (its `name`
    /// and `email` filled in), or `None` when it already holds them all.
    fn write_for(changes: &wire::CustomerWrite, current: &Customer) -> Result<Option<Value>> {
        let empty = Map::new();
        let obj = wire::customer_object(&current.raw).unwrap_or(&empty);
        let mut changes = changes.clone();
        mapping::drop_unchanged(&mut changes, obj);
        if changes.is_empty() {
            return Ok(None);
        }
        mapping::put_body(changes, Some(obj)).map(Some)
    }

    /// The customer after a successful `PUT` whose answer, read as JSON,
    /// is `answer`: that answer when it is a customer object, otherwise
    /// (an integer, an empty or unreadable body) the customer read again.
    async fn after_put(
        &self,
        id: &CustomerId,
        path: &str,
        answer: Option<Value>,
    ) -> Result<Customer> {
        if let Some(raw) = answer {
            if holds_customer(&raw) {
                return mapping::customer_from_answer(id, raw);
            }
        }
        tracing::debug!(
            backend = %KIND,
            "update answered without a customer object; reading the customer"
        );
        read_back(
            KIND,
            vec![format!("PUT {path}")],
            format!("GET {path}"),
            self.read(id, path),
        )
        .await
    }
}

/// An error reported with a success status (`{"error":{"message":..}}`
/// answered 2xx, read as JSON) as [`Error::Vendor`] with the platform's
/// message; `Ok` for any other answer.
fn reported_error(status: u16, answer: &Value) -> Result<()> {
    match error_in_success(answer) {
        Some(messages) => Err(Error::vendor(KIND, status, messages)),
        None => Ok(()),
    }
}

/// The customer of a successful `GET` answer, read as JSON: an error
/// reported with a success status is [`Error::Vendor`], not a decoding
/// error.
pub(crate) fn decode_read(id: &CustomerId, status: u16, raw: Value) -> Result<Customer> {
    reported_error(status, &raw)?;
    mapping::customer_from_answer(id, raw)
}

/// Whether a successful `PUT`'s answer is the updated customer: a customer
/// object (wrapped or bare) that carries `name` or `email`, which every
/// customer has. Anything else (`{"id":1001}`, an integer, an empty body)
/// is no account of what the platform now holds, so the customer is read
/// again.
fn holds_customer(answer: &Value) -> bool {
    wire::CustomerView::of_answer(answer).is_some_and(|c| c.name.is_some() || c.email.is_some())
}

#[async_trait]
impl Backend for Everlytic {
    unibill_core::transport_backend!(KIND);

    async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
        let path = self.customer_path(id)?;
        self.read(id, &path).await
    }

    async fn list_page(&self, options: &ListOptions) -> Result<ListPage> {
        self.list_page_at(options).await
    }

    fn canonical_id(&self, id: &CustomerId) -> Result<CustomerId> {
        mapping::check_id(id)?;
        Ok(id.clone())
    }

    async fn apply(
        &self,
        id: &CustomerId,
        patch: &CheckedPatch,
        lock: &LockGuard,
    ) -> Result<UpdateOutcome> {
        let Prepared {
            path,
            changes,
            mut current,
            mut put,
            answered,
        } = self.prepare(id, patch).await?;
        // The current `name` and `email` (and what the patch need not
        // send) came from a read: with `ConflictCheck::Reread`, once the
        // `PUT`'s rate-limit permit is taken, when that read is older than
        // `max_read_age`, read again and work the write out anew from the
        // fresh record when someone else changed it in between.
        let mut permit = None;
        if let (Some(_), Some(max_rounds), Some(mut answered)) =
            (&put, self.conflict.reread_rounds(), answered)
        {
            let mut round = 0;
            let mut confirmed = false;
            while let Some(base) = &current {
                let slot = self.transport.permit().await?;
                if confirmed || fresh_enough(answered, self.max_read_age) {
                    permit = Some(slot);
                    break;
                }
                // Compared before it is mapped: an answer equal to the one
                // `base` was mapped from would map (and check) the same.
                let (status, raw) = self.read_answer(id, &path, Some(slot)).await?;
                answered = Instant::now();
                if raw == base.raw {
                    confirmed = true;
                    continue;
                }
                let fresh = decode_read(id, status, raw)?;
                round += 1;
                if round >= max_rounds {
                    return Err(Error::Conflict {
                        backend: KIND,
                        message: format!(
                            "customer {id} changed every time it was read back ({round} rounds); \
                             nothing was written, try again later"
                        ),
                    });
                }
                tracing::debug!(backend = %KIND, customer = %id, round, "customer changed since it was read; working the write out again");
                put = Self::write_for(&changes, &fresh)?;
                current = Some(fresh);
                if put.is_none() {
                    break;
                }
            }
        }
        let Some(body) = put else {
            let customer = match current {
                Some(c) => c,
                None => self.get(id).await?,
            };
            return Ok(UpdateOutcome::new(customer, Vec::new()));
        };
        lock.ensure_held()?;
        let request = Request::new(Method::PUT, &path).json(&body);
        let resp = ERRORS
            .send_permitted(&self.transport, request, permit, Some(id.as_str()))
            .await?;
        let planned = PlannedRequest::new("PUT", self.transport.url(&path), Some(body));
        // The answer is read once, for both checks below.
        let answer: Option<Value> = serde_json::from_slice(&resp.body).ok();
        if let Some(answer) = &answer {
            reported_error(resp.status, answer)?;
        }
        let customer = self.after_put(id, &path, answer).await?;
        Ok(UpdateOutcome::new(customer, vec![planned]))
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        let prepared = self.prepare(id, patch).await?;
        let url = self.transport.url(&prepared.path);
        Ok(prepared
            .put
            .map(|body| PlannedRequest::new("PUT", url, Some(body)))
            .into_iter()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_reported_by_a_successful_read_keeps_its_message() {
        let id = CustomerId::new("9");
        let raw = json!({"error": {"message": "Customer 9 not found"}});
        match decode_read(&id, 200, raw) {
            Err(Error::Vendor {
                status, messages, ..
            }) => {
                assert_eq!(status, 200);
                assert_eq!(messages, ["Customer 9 not found"]);
            }
            other => panic!("{other:?}"),
        }
        let c = decode_read(
            &id,
            200,
            json!({"links": [], "item": {"id": 9, "name": "N"}}),
        )
        .unwrap();
        assert_eq!(c.name.as_deref(), Some("N"));
        let e = decode_read(&id, 200, json!(9)).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    }

    #[test]
    fn only_a_customer_with_its_properties_stands_for_the_update() {
        for yes in [
            json!({"links": [], "item": {"id": 1, "name": "A", "email": "a@x.example"}}),
            json!({"id": 1, "name": "A"}),
            json!({"email": "a@x.example"}),
        ] {
            assert!(holds_customer(&yes), "{yes}");
        }
        for no in [
            json!({"id": 1001}),
            json!({"links": [], "item": {"id": 1001}}),
            json!({"links": [], "item": 1001}),
            json!(1001),
            json!(true),
            json!({"links": []}),
        ] {
            assert!(!holds_customer(&no), "{no}");
        }
    }
}
