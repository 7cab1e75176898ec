//! The [`Stripe`] client: [`Backend`] implementation (callers use it as a
//! [`CustomerUpdater`](unibill_core::CustomerUpdater)).

use std::fmt;
use std::time::Duration;

use serde_json::Value;
use unibill_core::backend::{self, read_back};
use unibill_core::transport::{Idempotency, Method, RateLimit, Request, Response, Transport};
use unibill_core::Backend;
use unibill_core::{
    async_trait, Capabilities, CheckedPatch, Customer, CustomerId, CustomerRef, Error, Field,
    FieldCaps, ListOptions, ListPage, Listing, LockGuard, LookupKind, PlannedRequest, Result,
    UpdateOutcome,
};

use crate::builder::StripeBuilder;
use crate::error::from_response;
use crate::extension::StripeExtension;
use crate::mapping;
use crate::wire::{AddressResponse, CustomerResponse, Form, IdempotencyKey};
use crate::KIND;

/// Stripe's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";

/// The metadata key that holds the external reference unless the builder
/// names another ([`StripeBuilder::reference_key`]).
pub const DEFAULT_REFERENCE_KEY: &str = "external_id";

/// The client-side default: 25 requests per second per account, with the
/// window stretched by 2% (25 per 1.02 s, the margin ChartMogul's client
/// uses for the same reason: the vendor counts requests as they arrive).
///
/// Stripe's rate-limit page (<https://docs.stripe.com/rate-limits>) gives
/// a global limit of 100 requests per second in live mode and 25 in a
/// sandbox (test mode), and "API endpoints have a default limit of 25
/// requests per second" on top of it. An update run sends every write to
/// one endpoint (`POST /v1/customers/{id}`), so 25 per second is the
/// ceiling for live and test keys alike, and one default serves both
/// (the key's mode need not be read). Search is limited to 20 per second:
/// a run of lookups by reference above that meets 429s, which the
/// transport retries. Set `rate_limit` in the builder's
/// [`Settings`](unibill_core::Settings) to change it.
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit {
    requests: 25,
    per: Duration::from_millis(1020),
};

/// What Stripe can do with each neutral field.
///
/// | field | read | set | clear | Stripe |
/// |---|---|---|---|---|
/// | `name`, `email`, `phone` | yes | yes | yes | same names (`""` clears) |
/// | `address.line1`, `.line2`, `.city`, `.region`, `.postal_code`, `.country` | yes | yes | yes | `address[line1]` ... `address[state]` ... |
/// | `external_reference` | yes | yes | yes | `metadata[<reference key>]` |
/// | `custom` | yes | set (text only) | delete | `metadata[<key>]` |
/// | `currency` | yes | no | no | `currency` (set by Stripe on first charge) |
///
/// Everything else (company, website, person names, status, tags,
/// timestamps, revenue, acquisition) has no Stripe customer field and is
/// refused before any request; `description`, `preferred_locales`, the
/// invoice footer, `tax_exempt` and `shipping` are in
/// [`StripeExtension`].
///
/// Lookups: by email (list filter) and by external reference (search);
/// listing: every customer ([`Listing::All`]).
pub fn capabilities() -> Capabilities {
    Capabilities::new(KIND)
        .with_all(
            &[
                Field::DisplayName,
                Field::Email,
                Field::Phone,
                Field::AddressLine1,
                Field::AddressLine2,
                Field::City,
                Field::Region,
                Field::PostalCode,
                Field::Country,
                Field::ExternalReference,
                Field::CustomAttributes,
            ],
            FieldCaps::ALL,
        )
        .with(Field::Currency, FieldCaps::READ)
        .with_lookup(LookupKind::Email)
        .with_lookup(LookupKind::External)
        .with_listing(Listing::All)
}

/// A Stripe account, reached over its REST API (`/v1`).
///
/// Implements [`Backend`], so it is a
/// [`CustomerUpdater`](unibill_core::CustomerUpdater); see the crate docs
/// for the calls an update makes. Cheap to clone; clones share the
/// connection pool and the rate limit.
#[derive(Clone)]
pub struct Stripe {
    transport: Transport,
    caps: Capabilities,
    reference_key: String,
}

impl fmt::Debug for Stripe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stripe")
            .field("base_url", &self.transport.base_url())
            .field("reference_key", &self.reference_key)
            .field("config", self.transport.config())
            .finish_non_exhaustive()
    }
}

/// The `POST` of an update: the form-encoded parameters as its body, the
/// `Idempotency-Key` fixed before the first attempt, and the request
/// marked retry-safe, so the transport re-sends it after a 5xx or a lost
/// connection with the same key (Stripe then answers the first attempt's
/// result instead of applying it again).
pub(crate) fn write_request(path: &str, form: &Form, key: &IdempotencyKey) -> Request {
    Request::new(Method::POST, path)
        .form(form.encode())
        .header("idempotency-key", key.as_str())
        .idempotency(Idempotency::RetrySafe)
}

impl Stripe {
    /// The client over a built transport (see [`StripeBuilder`]).
    pub(crate) fn new(transport: Transport, reference_key: String) -> Self {
        Stripe {
            transport,
            caps: capabilities(),
            reference_key,
        }
    }

    /// A builder with Stripe's defaults.
    pub fn builder() -> StripeBuilder {
        StripeBuilder::default()
    }

    /// The metadata key holding the external reference.
    pub fn reference_key(&self) -> &str {
        &self.reference_key
    }

    /// The transport's settings (rate limit, retries, ...).
    pub fn transport_config(&self) -> &unibill_core::transport::TransportConfig {
        self.transport.config()
    }

    /// `/v1/customers/{id}`, after checking the id
    /// ([`Backend::canonical_id`]).
    fn customer_path(&self, id: &CustomerId) -> Result<String> {
        let id = self.canonical_id(id)?;
        self.transport.path(&["v1", "customers", id.as_str()])
    }

    /// Sends a request; an error status becomes the neutral error (`id`
    /// names the customer for a 404).
    async fn send_ok(&self, req: Request, id: &CustomerId) -> Result<Response> {
        let resp = self.transport.send(req).await?;
        if resp.is_success() {
            Ok(resp)
        } else {
            Err(from_response(&resp, Some(id.as_str()), &self.reference_key))
        }
    }

    /// `GET` of the customer at `path` (its [`Self::customer_path`]).
    async fn read_raw(&self, id: &CustomerId, path: &str) -> Result<Value> {
        let resp = self.send_ok(Request::new(Method::GET, path), id).await?;
        backend::decode_object(KIND, &resp, "customer response").await
    }

    async fn read(&self, id: &CustomerId, path: &str) -> Result<Customer> {
        mapping::customer_from_json(
            self.read_raw(id, path).await?,
            Some(id),
            &self.reference_key,
        )
    }

    /// Validates a patch and computes its form; shared by `apply` and
    /// `plan`. Reads the customer first only when the address changes in
    /// part (see [`mapping::needs_current_address`]); that read also
    /// checks that a customer named by email or reference still holds it.
    async fn prepare(&self, id: &CustomerId, path: &str, patch: &CheckedPatch) -> Result<Form> {
        let ext = patch.get_extension::<StripeExtension>()?;
        mapping::validate(patch, ext.as_ref(), &self.reference_key)?;
        let current = if mapping::needs_current_address(patch) {
            tracing::debug!(backend = %KIND, "reading the address the update changes in part");
            let raw = self.read_raw(id, path).await?;
            let customer = mapping::customer_from_json(raw.clone(), Some(id), &self.reference_key)?;
            self.check_still_matches(&customer, patch.resolved_from())?;
            let wire: CustomerResponse = serde_json::from_value(raw).unwrap_or_default();
            Some(wire.address.unwrap_or_default())
        } else {
            None
        };
        Ok(mapping::form(
            patch,
            ext.as_ref(),
            &self.reference_key,
            current.as_ref().or(Some(&AddressResponse::default())),
        ))
    }

    /// [`Error::Conflict`] when the customer read no longer holds the
    /// email or reference it was found by.
    fn check_still_matches(&self, c: &Customer, by: Option<&CustomerRef>) -> Result<()> {
        let holds = match by {
            Some(CustomerRef::Email(e)) => c.email.as_deref() == Some(e.as_str()),
            Some(CustomerRef::External(r)) => c.external_reference.as_deref() == Some(r.as_str()),
            _ => true,
        };
        if holds {
            Ok(())
        } else {
            Err(Error::Conflict {
                backend: KIND,
                message: format!(
                    "customer `{}` no longer holds the reference it was found by; nothing was written",
                    c.id.as_str()
                ),
            })
        }
    }

    fn planned(&self, path: &str, form: &Form) -> PlannedRequest {
        PlannedRequest::new("POST", self.transport.url(path), Some(form.to_json()))
    }
}

#[async_trait]
impl Backend for Stripe {
    unibill_core::transport_backend!(KIND);

    async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
        let path = self.customer_path(id)?;
        self.read(id, &path).await
    }

    async fn lookup(&self, kind: LookupKind, value: &str) -> Result<Vec<CustomerId>> {
        crate::lookup::find_ids(
            &self.transport,
            kind,
            value,
            &self.reference_key,
            crate::lookup::PAGE_SIZE,
        )
        .await
    }

    async fn list_page(&self, options: &ListOptions) -> Result<ListPage> {
        crate::list::page(&self.transport, options, &self.reference_key).await
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
        let path = self.customer_path(id)?;
        let form = self.prepare(id, &path, patch).await?;
        if form.is_empty() {
            // Nothing to send: answer the customer as Stripe holds it.
            return Ok(UpdateOutcome::new(self.read(id, &path).await?, Vec::new()));
        }
        let key = IdempotencyKey::random()?;
        lock.ensure_held()?;
        tracing::debug!(backend = %KIND, params = form.pairs().len(), "stripe update");
        let resp = self.send_ok(write_request(&path, &form, &key), id).await?;
        let writes = vec![self.planned(&path, &form)];
        let answered = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|raw| mapping::customer_from_json(raw, Some(id), &self.reference_key).ok());
        if let Some(customer) = answered {
            return Ok(UpdateOutcome::new(customer, writes));
        }
        // The write applied but its answer is unreadable: read once.
        let customer = read_back(
            KIND,
            vec![format!("POST {path}")],
            format!("GET {path}"),
            self.read(id, &path),
        )
        .await?;
        Ok(UpdateOutcome::new(customer, writes))
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        let path = self.customer_path(id)?;
        let form = self.prepare(id, &path, patch).await?;
        Ok(if form.is_empty() {
            Vec::new()
        } else {
            vec![self.planned(&path, &form)]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_client_paces_just_under_the_endpoint_limit() {
        let client = Stripe::builder().api_key("sk_test_k").build().unwrap();
        assert_eq!(
            client.transport.config().rate_limit,
            Some(DEFAULT_RATE_LIMIT)
        );
        let per_second =
            f64::from(DEFAULT_RATE_LIMIT.requests) / DEFAULT_RATE_LIMIT.per.as_secs_f64();
        assert!(per_second < 25.0 && per_second > 24.0, "{per_second}");
    }

    #[test]
    fn the_write_request_carries_the_form_and_the_key() {
        let mut form = Form::new();
        form.push("address[city]", "Paris");
        let key = IdempotencyKey::random().unwrap();
        let req = format!("{:?}", write_request("/v1/customers/cus_1", &form, &key));
        assert!(req.contains("POST"), "{req}");
        assert!(req.contains("\"/v1/customers/cus_1\""), "{req}");
        assert!(req.contains("body_bytes: Some(23)"), "{req}");
        assert!(req.contains("RetrySafe"), "{req}");
        assert!(req.contains("idempotency-key"), "{req}");
    }

    #[test]
    fn capabilities_match_the_mapping() {
        let caps = capabilities();
        for f in [
            Field::Company,
            Field::Website,
            Field::Tags,
            Field::Status,
            Field::FirstName,
        ] {
            assert_eq!(caps.get(f), FieldCaps::NONE, "{f:?}");
        }
        assert_eq!(caps.get(Field::Currency), FieldCaps::READ);
        assert_eq!(caps.get(Field::Region), FieldCaps::ALL);
        assert!(caps.can_lookup(LookupKind::Email) && caps.can_lookup(LookupKind::External));
        assert_eq!(caps.listing(), Listing::All);
    }
}
