//! The [`Fusebill`] client: [`Backend`] implementation (callers use it as a [`CustomerUpdater`](unibill_core::CustomerUpdater))
//! and Fusebill-only methods.

use serde_json::Value;
use std::time::{Duration, Instant};
use tracing::debug;
use unibill_core::backend::{decode, fresh_enough, read_back};

use unibill_core::transport::{Idempotency, Method, Permit, RateLimit, Request, Transport};
use unibill_core::Backend;
use unibill_core::{
    async_trait, Capabilities, CheckedPatch, ConflictCheck, Customer, CustomerId, Error, Field,
    FieldCaps, ListOptions, ListPage, Listing, LockGuard, LookupKind, PlannedRequest, Result,
    UpdateOutcome,
};

use crate::builder::FusebillBuilder;
use crate::error::ERRORS;
use crate::merge::{merge, Edit};
use crate::{mapping, KIND};

/// Fusebill's production host; paths are `/v1/customers...` below it.
pub const DEFAULT_BASE_URL: &str = "https://secure.fusebill.com";

/// Fusebill's limit on live accounts: 1,000 requests per minute (sandbox
/// accounts get 50: set [`Settings::rate_limit`](unibill_core::Settings::rate_limit)
/// accordingly).
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit::per_minute(1000);

/// What [`Fusebill`] can do with each neutral field.
///
/// | field | caps | Fusebill property |
/// |---|---|---|
/// | title | read set clear | `title` (Mr, Mrs, Ms, Miss, Dr) |
/// | first/middle/last name, suffix | read set clear | `firstName`, `middleName`, `lastName`, `suffix` |
/// | company | read set clear | `companyName` |
/// | email, secondary_email | read set clear | `primaryEmail`, `secondaryEmail` |
/// | phone, secondary_phone | read set clear | `primaryPhone`, `secondaryPhone` |
/// | external_reference | read set clear | `reference` |
/// | status | read set | `status` (required; `Suspended` refused) |
/// | currency | read set | `currency` |
/// | acquisition.* | read set clear | `customerAcquisition.*` |
/// | mrr | read | `monthlyRecurringRevenue` |
/// | everything else | - | (no display name, website, address, tags, custom attributes or dates on this endpoint) |
pub fn capabilities() -> Capabilities {
    Capabilities::new(KIND)
        .with_all(
            &[
                Field::Title,
                Field::FirstName,
                Field::MiddleName,
                Field::LastName,
                Field::Suffix,
                Field::Company,
                Field::Email,
                Field::SecondaryEmail,
                Field::Phone,
                Field::SecondaryPhone,
                Field::ExternalReference,
                Field::Campaign,
                Field::AcquisitionSource,
                Field::Medium,
                Field::Keyword,
                Field::AdContent,
                Field::LandingPage,
            ],
            FieldCaps::ALL,
        )
        .with(Field::Status, FieldCaps::READ_SET)
        .with(Field::Currency, FieldCaps::READ_SET)
        .with(Field::Mrr, FieldCaps::READ)
        .with_lookup(LookupKind::Email)
        .with_lookup(LookupKind::External)
        .with_listing(Listing::ChangedSince)
}

/// A Fusebill account, as a [`CustomerUpdater`](unibill_core::CustomerUpdater).
///
/// An update is a lossless read-modify-write, because Fusebill's
/// `PUT /v1/customers` nulls every property its body leaves out:
///
/// 1. `GET /v1/customers/{id}`;
/// 2. the patch is merged into the JSON as read ([`crate::merge`]): every
///    property is sent back, known or not, with its JSON type; only the
///    patched ones change. If the merged body equals the record, nothing
///    is written and the update ends here (1 request);
/// 3. the `PUT`'s rate-limit permit is taken; then, with
///    [`ConflictCheck::Reread`] (the default), when the `GET` was answered
///    longer ago than [`Settings::max_read_age`] (default 1 s: a
///    rate-limit wait delayed the write), `GET` again and compare: on a
///    difference, merge again onto the fresh record and repeat (at most 3
///    rounds, then [`Error::Conflict`]);
/// 4. `PUT /v1/customers` with the merged object.
///
/// An update that writes thus costs 2 requests when nothing delayed the
/// write (3 when it had to read again); one that changes nothing costs 1.
///
/// **Remaining race window**: Fusebill offers no conditional write, so an
/// edit made by someone else after the last `GET` and before the `PUT`
/// lands is overwritten. That window is at most
/// [`Settings::max_read_age`] plus the `PUT`'s round trip; after a
/// re-read (the bound was passed), it is one rate-limit wait plus a round
/// trip, as a plain `GET`+`PUT` has. If Fusebill answers the
/// `PUT` with 429 or 503 (not processed), the transport waits and sends
/// the same body again: the window then also spans that wait (at most
/// [`RetryConfig::max_retry_after`]). A `PUT` that fails with another 5xx
/// or times out is not sent again (it may have applied); re-running the
/// update is safe, since it reads again.
///
/// [`RetryConfig::max_retry_after`]: unibill_core::transport::RetryConfig::max_retry_after
/// [`Settings::max_read_age`]: unibill_core::Settings::max_read_age
#[derive(Clone, Debug)]
pub struct Fusebill {
    transport: Transport,
    caps: Capabilities,
    conflict: ConflictCheck,
    pub(crate) max_read_age: Duration,
}

/// The customer collection: `PUT` target and list endpoint.
const CUSTOMERS_PATH: &str = "/v1/customers";

impl Fusebill {
    /// The client over a built transport (see [`FusebillBuilder`]).
    pub(crate) fn new(
        transport: Transport,
        conflict: ConflictCheck,
        max_read_age: Duration,
    ) -> Self {
        Fusebill {
            transport,
            caps: capabilities(),
            conflict,
            max_read_age,
        }
    }

    /// A builder with Fusebill's defaults.
    pub fn builder() -> FusebillBuilder {
        FusebillBuilder::default()
    }

    /// The transport (base URL, settings, retry counter).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The customer as Fusebill answers `GET /v1/customers/{id}`, unchanged.
    pub async fn get_raw(&self, id: &CustomerId) -> Result<Value> {
        self.read(id).await
    }

    /// Customers whose `reference` is exactly `reference`, each as
    /// `GET /v1/customers/{id}` answers it.
    ///
    /// The reference is looked up like [`CustomerUpdater::find`](unibill_core::CustomerUpdater::find) does
    /// (`GET /v1/customers?query=reference:{reference}`, every page, only
    /// ids kept while paging), then each match is read by id: one request
    /// per page plus one per match. Fusebill's query treats `*` as a
    /// wildcard and `;` as the separator of filter pairs, so only entries
    /// whose reference equals the text are kept, and a reference
    /// containing `;`, `|` or `*` is refused (it cannot be searched for);
    /// more than [`MAX_MATCHES`](unibill_core::reference::MAX_MATCHES)
    /// matches is [`Error::Ambiguous`] with the count.
    pub async fn find_by_reference(&self, reference: &str) -> Result<Vec<Customer>> {
        let r = reference.trim();
        if r.is_empty() || mapping::wire_len(r) > mapping::MAX_LONG {
            return Err(Error::validation(
                Field::ExternalReference.name(),
                "must be 1 to 255 characters",
            ));
        }
        if r.contains(';') {
            return Err(Error::validation(
                Field::ExternalReference.name(),
                "cannot contain ';': Fusebill's query separates filters with it",
            ));
        }
        let ids = crate::lookup::find_ids(
            &self.transport,
            LookupKind::External,
            r,
            crate::lookup::PAGE_SIZE,
        )
        .await?;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.push(self.fetch(&id).await?);
        }
        Ok(found)
    }

    /// `/v1/customers/{id}`, the id checked and written as Fusebill stores
    /// it ([`Backend::canonical_id`]).
    fn customer_path(&self, id: &CustomerId) -> Result<String> {
        let n = self.canonical_id(id)?;
        self.transport.path(&["v1", "customers", n.as_str()])
    }

    async fn read(&self, id: &CustomerId) -> Result<Value> {
        self.read_on(id, None).await
    }

    /// [`Self::read`], on a rate-limit permit already taken when given.
    async fn read_on(&self, id: &CustomerId, permit: Option<Permit>) -> Result<Value> {
        let path = self.customer_path(id)?;
        let request = Request::new(Method::GET, path);
        let response = ERRORS
            .send_permitted(&self.transport, request, permit, Some(id.as_str()))
            .await?;
        let raw: Value = decode(KIND, &response, "customer").await?;
        mapping::check_record(id, &raw)?;
        Ok(raw)
    }

    /// Validates the patch and turns it into edits: shared by `apply` and
    /// `plan`, and done before any request.
    fn prepare(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<Edit>> {
        mapping::edits(mapping::check_id(id)?, patch)
    }

    /// The body to `PUT` for `record`, or `None` when the patch changes
    /// nothing: shared by `apply` and `plan`.
    fn write_for(&self, record: &Value, edits: &[Edit]) -> Result<Option<Value>> {
        let merged =
            merge(record, edits).map_err(|e| Error::decode(KIND, "customer", e.to_string()))?;
        currency_kept(record, &merged)?;
        Ok((merged != *record).then_some(merged))
    }

    fn planned_put(&self, body: Value) -> PlannedRequest {
        PlannedRequest::new("PUT", self.transport.url(CUSTOMERS_PATH), Some(body))
    }

    async fn put(
        &self,
        id: &CustomerId,
        body: Value,
        permit: Option<Permit>,
    ) -> Result<UpdateOutcome> {
        // Not re-sent after a 5xx or a timeout: it may have applied, and a
        // late copy of a read-modify-write could overwrite a newer edit.
        let request = Request::new(Method::PUT, CUSTOMERS_PATH)
            .json(&body)
            .idempotency(Idempotency::NonIdempotent);
        let response = ERRORS
            .send_permitted(&self.transport, request, permit, Some(id.as_str()))
            .await?;
        let written = vec![self.planned_put(body)];
        let answer = decode::<Value>(KIND, &response, "PUT answer")
            .await
            .and_then(|raw| mapping::customer_from_json(id, raw));
        match answer {
            Ok(customer) => Ok(UpdateOutcome::new(customer, written)),
            Err(e) => {
                // The write applied; read the result back instead.
                debug!(backend = %KIND, customer = %id, error = %e, "unreadable PUT answer; reading back");
                let raw = read_back(
                    KIND,
                    vec![format!("PUT {CUSTOMERS_PATH}")],
                    format!("GET {}", self.customer_path(id)?),
                    self.read(id),
                )
                .await?;
                Ok(UpdateOutcome::new(
                    mapping::customer_from_json(id, raw)?,
                    written,
                ))
            }
        }
    }
}

/// A customer's `currency` as read (its key matched ignoring ASCII case,
/// as Fusebill matches it); `None` when absent, `null` or blank.
fn currency_of(record: &Value) -> Option<&str> {
    record
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("currency"))
        .and_then(|(_, v)| v.as_str())
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

/// [`Error::Validation`] on `currency`, before anything is sent, when the
/// merged body would change the currency the customer already has:
/// Fusebill sets a customer's currency when it is created and refuses to
/// change it afterwards (`docs/fusebill.md`). Setting the same code, or a
/// currency where the customer has none, passes.
fn currency_kept(record: &Value, merged: &Value) -> Result<()> {
    match (currency_of(record), currency_of(merged)) {
        (Some(held), Some(wanted)) if !held.eq_ignore_ascii_case(wanted) => {
            Err(Error::validation(
                Field::Currency.name(),
                format!(
                    "the customer's currency is {}; Fusebill does not change a customer's currency after it is created",
                    unibill_core::error::clip(held)
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// [`Error::Conflict`] when the update named the customer by email or
/// reference ([`CheckedPatch::resolved_from`]) and `record`, just read,
/// no longer holds it (matched as the lookup matches): the reference has
/// moved to another customer since it was resolved, and writing this one
/// would update a customer the caller did not name.
fn still_named(id: &CustomerId, record: &Value, patch: &CheckedPatch) -> Result<()> {
    let Some(reference) = patch.resolved_from() else {
        return Ok(());
    };
    let Some(kind) = reference.lookup_kind() else {
        return Ok(());
    };
    if crate::lookup::record_matches(record, kind, reference.as_str()) {
        return Ok(());
    }
    Err(Error::Conflict {
        backend: KIND,
        message: format!(
            "customer {id} no longer has {reference}, which it was looked up by; nothing was written"
        ),
    })
}

#[async_trait]
impl Backend for Fusebill {
    unibill_core::transport_backend!(KIND);

    async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
        let raw = self.read(id).await?;
        mapping::customer_from_json(id, raw)
    }

    fn canonical_id(&self, id: &CustomerId) -> Result<CustomerId> {
        Ok(CustomerId::from(mapping::check_id(id)?))
    }

    async fn lookup(&self, kind: LookupKind, value: &str) -> Result<Vec<CustomerId>> {
        crate::lookup::find_ids(&self.transport, kind, value, crate::lookup::PAGE_SIZE).await
    }

    async fn list_page(&self, options: &ListOptions) -> Result<ListPage> {
        crate::list::page(&self.transport, options).await
    }

    async fn apply(
        &self,
        id: &CustomerId,
        patch: &CheckedPatch,
        lock: &LockGuard,
    ) -> Result<UpdateOutcome> {
        let edits = self.prepare(id, patch)?;
        let Some(rounds) = self.conflict.reread_rounds() else {
            let base = self.read(id).await?;
            still_named(id, &base, patch)?;
            let Some(body) = self.write_for(&base, &edits)? else {
                return Ok(UpdateOutcome::new(
                    mapping::customer_from_json(id, base)?,
                    Vec::new(),
                ));
            };
            lock.ensure_held()?;
            return self.put(id, body, None).await;
        };
        let mut base = self.read(id).await?;
        let mut answered = Instant::now();
        still_named(id, &base, patch)?;
        // Re-reads that found the record changed, and whether the last
        // one found it unchanged (then the write goes without another).
        let mut changed = 0;
        let mut confirmed = false;
        loop {
            // Merged onto every record read, the last included: when the
            // record already holds what the patch sets (another writer
            // may have made the same change), nothing is written.
            let Some(body) = self.write_for(&base, &edits)? else {
                return Ok(UpdateOutcome::new(
                    mapping::customer_from_json(id, base)?,
                    Vec::new(),
                ));
            };
            if changed >= rounds {
                break;
            }
            // The write's slot first, then the age of the read it was
            // worked out from: a rate-limit wait counts.
            let permit = self.transport.permit().await?;
            if confirmed || fresh_enough(answered, self.max_read_age) {
                lock.ensure_held()?;
                return self.put(id, body, Some(permit)).await;
            }
            // Older than the bound: read again, on the write's slot.
            let fresh = self.read_on(id, Some(permit)).await?;
            answered = Instant::now();
            still_named(id, &fresh, patch)?;
            if fresh == base {
                confirmed = true;
            } else {
                changed += 1;
                debug!(backend = %KIND, customer = %id, round = changed, "customer changed since it was read; merging again");
                base = fresh;
            }
        }
        Err(Error::Conflict {
            backend: KIND,
            message: format!(
                "customer {id} changed every time it was read back ({rounds} rounds); \
                 nothing was written, try again later"
            ),
        })
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        let edits = self.prepare(id, patch)?;
        let record = self.read(id).await?;
        Ok(self
            .write_for(&record, &edits)?
            .map(|body| vec![self.planned_put(body)])
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unibill_core::Op;

    #[test]
    fn a_held_currency_is_never_changed_but_may_be_set_where_none_is() {
        let eur = serde_json::json!({"id": 1, "Currency": "EUR"});
        let usd = serde_json::json!({"id": 1, "Currency": "USD"});
        match currency_kept(&eur, &usd) {
            Err(Error::Validation { field, reason }) => {
                assert_eq!(field, "currency");
                assert!(reason.contains("EUR"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(currency_kept(&eur, &serde_json::json!({"currency": "eur"})).is_ok());
        assert!(currency_kept(&serde_json::json!({"currency": null}), &usd).is_ok());
        assert!(currency_kept(&serde_json::json!({}), &usd).is_ok());
    }

    #[test]
    fn capability_table() {
        let c = capabilities();
        assert_eq!(c.get(Field::FirstName), FieldCaps::ALL);
        assert!(!c.allows(Field::Status, Op::Clear));
        assert!(!c.allows(Field::Currency, Op::Clear));
        assert_eq!(c.get(Field::Mrr), FieldCaps::READ);
        for f in [
            Field::DisplayName,
            Field::Website,
            Field::City,
            Field::Tags,
            Field::CustomAttributes,
            Field::Arr,
            Field::CustomerSince,
        ] {
            assert_eq!(c.get(f), FieldCaps::NONE, "{f}");
        }
    }

    #[test]
    fn query_encoding() {
        assert_eq!(
            crate::lookup::enc("reference:A B/1"),
            "reference%3AA%20B%2F1"
        );
    }
}
