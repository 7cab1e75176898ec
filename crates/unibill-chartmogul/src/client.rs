//! The [`ChartMogul`] client: [`Backend`] implementation (callers use it as a [`CustomerUpdater`](unibill_core::CustomerUpdater))
//! and the ChartMogul-only operations.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};
use unibill_core::backend::{self, read_back};
use unibill_core::check;
use unibill_core::transport::{Idempotency, RateLimit, Request, Response, Transport};
use unibill_core::Backend;
use unibill_core::{
    async_trait, Capabilities, CheckedPatch, CustomAttribute, Customer, CustomerId, Error, Field,
    FieldCaps, ListOptions, ListPage, Listing, LockGuard, LookupKind, PlannedRequest, Result,
    UpdateOutcome,
};

use crate::builder::ChartMogulBuilder;
use crate::error::ERRORS;
use crate::extension::ChartMogulExtension;
use crate::mapping::{self, Call, Method, Target};
use crate::wire::{
    AddCustomAttributesByEmail, AddTagsByEmail, CustomAttributesResponse, EntriesResponse, Tags,
    TagsResponse, UpdateCustomAttributes,
};
use crate::KIND;

/// ChartMogul's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.chartmogul.com";

/// The client-side default: ChartMogul's documented limit of 40 requests
/// per second per account, with the window stretched by 2% (40 per
/// 1.02 s).
///
/// The vendor counts a request when it arrives, after network latency, so
/// a client pacing at exactly 40 per second sees a 41st request land in
/// some one-second windows whenever latency varies by a millisecond: in a
/// 10,000-update run on the sandbox with 50 ms latency, 6.9% of requests
/// were refused with 429 (and retried). With this margin refusals fell to
/// 0.1% and useful throughput rose from 0.93 to 0.98 of the limit (see
/// `docs/performance.md`). Set `rate_limit` in the builder's
/// [`Settings`](unibill_core::Settings) to change it.
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit {
    requests: 40,
    per: Duration::from_millis(1020),
};

/// What ChartMogul can do with each neutral field.
///
/// | field | read | set | clear | ChartMogul |
/// |---|---|---|---|---|
/// | `name` | yes | yes | no | `name` (every customer has one) |
/// | `email`, `company`, `website` | yes | yes | yes | `email`, `company`, `website_url` |
/// | `address.city`, `.region`, `.postal_code`, `.country` | yes | yes | yes | `city`, `state`, `zip`, `country` |
/// | `lead_created_at`, `free_trial_started_at` | yes | yes | yes | same names |
/// | `status` | yes | lead stages only | no | `status` |
/// | `tags` | yes | add | remove | tag endpoints |
/// | `custom` | yes | create/set | delete | custom attribute endpoints |
/// | `external_reference` | yes | no | no | `external_id` (fixed at import) |
/// | `currency`, `customer_since`, `mrr`, `arr` | yes | no | no | computed by ChartMogul |
///
/// Everything else (phones, street lines, person names, acquisition) does
/// not exist at ChartMogul and is refused before any request.
///
/// Lookups: by email (customer search) and by external reference
/// (`external_id`, customer list); see [`crate::lookup`].
pub fn capabilities() -> Capabilities {
    Capabilities::new(KIND)
        .with(Field::DisplayName, FieldCaps::READ_SET)
        .with_all(
            &[
                Field::Email,
                Field::Company,
                Field::Website,
                Field::City,
                Field::Region,
                Field::PostalCode,
                Field::Country,
                Field::LeadCreatedAt,
                Field::FreeTrialStartedAt,
                Field::Tags,
                Field::CustomAttributes,
            ],
            FieldCaps::ALL,
        )
        .with(Field::Status, FieldCaps::READ_SET)
        .with_lookup(LookupKind::Email)
        .with_lookup(LookupKind::External)
        .with_listing(Listing::All)
        .with_all(
            &[
                Field::ExternalReference,
                Field::Currency,
                Field::CustomerSince,
                Field::Mrr,
                Field::Arr,
            ],
            FieldCaps::READ,
        )
}

/// A ChartMogul account, reached over its REST API.
///
/// Implements [`Backend`], so it is a
/// [`CustomerUpdater`](unibill_core::CustomerUpdater) (see the crate docs for the calls an
/// update makes) and adds the ChartMogul-only operations: custom
/// attributes and tags by email, the `PUT` of existing custom attributes,
/// and tags.
/// Cheap to clone; clones share the connection pool and the rate limit.
#[derive(Clone)]
pub struct ChartMogul {
    transport: Transport,
    caps: Capabilities,
}

impl fmt::Debug for ChartMogul {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChartMogul")
            .field("base_url", &self.transport.base_url())
            .field("config", self.transport.config())
            .finish_non_exhaustive()
    }
}

/// A request with a JSON body. Every `POST` this backend sends sets
/// state (typed attributes, tags), so repeating it after an unknown
/// outcome leaves the same state: it is marked retry-safe.
fn write_request(method: Method, path: String, body: &Value) -> Request {
    let retry_safe = method == Method::POST;
    let req = Request::new(method, path).json(body);
    if retry_safe {
        req.idempotency(Idempotency::RetrySafe)
    } else {
        req
    }
}

/// A write ready to send: the call, its path, and its `"METHOD path"`
/// label for [`Error::PartialUpdate`].
struct Prepared {
    call: Call,
    path: String,
}

impl Prepared {
    fn label(&self) -> String {
        format!("{} {}", self.call.method.as_str(), self.path)
    }

    fn request(&self) -> Request {
        write_request(self.call.method.clone(), self.path.clone(), &self.call.body)
    }
}

impl ChartMogul {
    /// The client over a built transport (see [`ChartMogulBuilder`]).
    pub(crate) fn new(transport: Transport) -> Self {
        ChartMogul {
            transport,
            caps: capabilities(),
        }
    }

    /// The transport this client sends through.
    #[cfg(test)]
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// A builder with ChartMogul's defaults.
    pub fn builder() -> ChartMogulBuilder {
        ChartMogulBuilder::default()
    }

    /// `/v1/customers/{uuid}`, after checking the id
    /// ([`Backend::canonical_id`]).
    fn customer_path(&self, id: &CustomerId) -> Result<String> {
        let id = self.canonical_id(id)?;
        self.transport.path(&["v1", "customers", id.as_str()])
    }

    fn target_path(&self, id: &CustomerId, target: Target) -> Result<String> {
        Ok(self.customer_path(id)? + target.suffix())
    }

    /// Sends a request; an error status becomes the neutral error (`who`
    /// names the customer or email for a 404).
    async fn send_ok(&self, req: Request, who: &str) -> Result<Response> {
        ERRORS.send(&self.transport, req, Some(who)).await
    }

    /// Decodes an answer that must be a JSON object (every answer this
    /// backend reads is one; see [`backend::decode_object`]).
    async fn decode<T>(resp: &Response, what: &str) -> Result<T>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        backend::decode_object(KIND, resp, what).await
    }

    /// `GET` of the customer at `path` (its [`Self::customer_path`]).
    async fn read_raw(&self, id: &CustomerId, path: &str) -> Result<Value> {
        let resp = self
            .send_ok(Request::new(Method::GET, path), id.as_str())
            .await?;
        Self::decode(&resp, "customer response").await
    }

    async fn read(&self, id: &CustomerId, path: &str) -> Result<Customer> {
        mapping::customer_from_json(self.read_raw(id, path).await?, Some(id))
    }

    /// Validates a patch and computes its writes; shared by `apply` and
    /// `plan`. `path` is the customer's path (the id is checked). Reads
    /// the customer first only when the primary contact changes (its whole
    /// object is sent back, see the docs).
    async fn prepare(
        &self,
        id: &CustomerId,
        path: &str,
        patch: &CheckedPatch,
    ) -> Result<Vec<Prepared>> {
        let ext = patch.get_extension::<ChartMogulExtension>()?;
        mapping::validate(patch, ext.as_ref())?;
        let contact: Option<Map<String, Value>> = match &ext {
            Some(e) if !e.primary_contact.is_empty() => match self.read_raw(id, path).await? {
                Value::Object(mut customer) => match customer.remove("primary_contact") {
                    Some(Value::Object(contact)) => Some(contact),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        Ok(mapping::plan_writes(patch, ext.as_ref(), contact.as_ref())?
            .into_iter()
            .map(|call| Prepared {
                path: format!("{path}{}", call.target.suffix()),
                call,
            })
            .collect())
    }

    fn planned(&self, p: &Prepared) -> PlannedRequest {
        PlannedRequest::new(
            p.call.method.as_str(),
            self.transport.url(&p.path),
            Some(p.call.body.clone()),
        )
    }

    /// Adds typed custom attributes to **every** customer with this email
    /// (`POST /v1/customers/attributes/custom`), creating keys that do not
    /// exist yet with the given type. Answers the customers changed (the
    /// summaries ChartMogul returns; `raw` holds each).
    ///
    /// Validated before the request: email form, a non-empty list, keys,
    /// values, sources, no key twice. Sent as retry-safe: repeating it
    /// sets the same values on the same customers.
    pub async fn add_custom_attributes_by_email<K: Into<String>>(
        &self,
        email: &str,
        attrs: impl IntoIterator<Item = (K, CustomAttribute)>,
    ) -> Result<Vec<Customer>> {
        check::email(Field::Email.name(), email)?;
        let list = mapping::custom_list(attrs)?;
        let body = mapping::to_value(&AddCustomAttributesByEmail {
            email: email.to_owned(),
            custom: list
                .iter()
                .map(|(k, a)| mapping::new_custom_attribute(k, a))
                .collect(),
        });
        let path = self
            .transport
            .path(&["v1", "customers", "attributes", "custom"])?;
        let resp = self
            .send_ok(write_request(Method::POST, path, &body), email)
            .await?;
        Self::entries(&resp, "custom attributes by email response").await
    }

    /// Adds tags to **every** customer with this email
    /// (`POST /v1/customers/attributes/tags`); a tag a customer already
    /// has changes nothing. Answers the customers changed (the summaries
    /// ChartMogul returns; `raw` holds each).
    ///
    /// Validated before the request: email form, a non-empty list of tags
    /// (not blank, no control characters). Sent as retry-safe: repeating
    /// it adds the same tags to the same customers.
    pub async fn add_tags_by_email<T: Into<String>>(
        &self,
        email: &str,
        tags: impl IntoIterator<Item = T>,
    ) -> Result<Vec<Customer>> {
        check::email(Field::Email.name(), email)?;
        let body = mapping::to_value(&AddTagsByEmail {
            email: email.to_owned(),
            tags: mapping::tag_list(tags)?,
        });
        let path = self
            .transport
            .path(&["v1", "customers", "attributes", "tags"])?;
        let resp = self
            .send_ok(write_request(Method::POST, path, &body), email)
            .await?;
        Self::entries(&resp, "tags by email response").await
    }

    /// Decodes a by-email answer: `{"entries": [customer summary, ..]}`.
    async fn entries(resp: &Response, what: &str) -> Result<Vec<Customer>> {
        let entries: EntriesResponse = Self::decode(resp, what).await?;
        entries
            .entries
            .into_iter()
            .map(|raw| mapping::customer_from_json(raw, None))
            .collect()
    }

    /// Changes custom attributes that already exist on the customer
    /// (`PUT /v1/customers/{uuid}/attributes/custom`); ChartMogul refuses a
    /// key the customer does not have (use [`CustomerUpdater::update`](unibill_core::CustomerUpdater::update),
    /// which creates keys). The value's type is not sent: ChartMogul
    /// checks it against the key's defined type. Answers the customer's
    /// whole custom map.
    pub async fn update_custom_attributes<K: Into<String>>(
        &self,
        id: &CustomerId,
        attrs: impl IntoIterator<Item = (K, CustomAttribute)>,
    ) -> Result<BTreeMap<String, Value>> {
        let path = self.target_path(id, Target::Custom)?;
        let list = mapping::custom_list(attrs)?;
        let body = mapping::to_value(&UpdateCustomAttributes {
            custom: list
                .iter()
                .map(|(k, a)| (k.clone(), mapping::updated_custom_attribute(a)))
                .collect(),
        });
        let lock = self.transport.locks().acquire(id).await?;
        let sent = self
            .send_ok(write_request(Method::PUT, path, &body), id.as_str())
            .await;
        // Released and awaited before answering, as `update` does, so a
        // process that ends right after this call leaves the customer free.
        lock.release().await;
        let answer: CustomAttributesResponse =
            Self::decode(&sent?, "custom attributes response").await?;
        Ok(answer.custom)
    }

    /// Adds tags (`POST /v1/customers/{uuid}/attributes/tags`); adding a
    /// tag already there changes nothing. Answers every tag now on the
    /// customer.
    pub async fn add_tags<T: Into<String>>(
        &self,
        id: &CustomerId,
        tags: impl IntoIterator<Item = T>,
    ) -> Result<Vec<String>> {
        self.tags(id, tags, Method::POST).await
    }

    /// Removes tags (`DELETE /v1/customers/{uuid}/attributes/tags`);
    /// removing an absent tag changes nothing. Answers every tag left.
    pub async fn remove_tags<T: Into<String>>(
        &self,
        id: &CustomerId,
        tags: impl IntoIterator<Item = T>,
    ) -> Result<Vec<String>> {
        self.tags(id, tags, Method::DELETE).await
    }

    async fn tags<T: Into<String>>(
        &self,
        id: &CustomerId,
        tags: impl IntoIterator<Item = T>,
        method: Method,
    ) -> Result<Vec<String>> {
        let path = self.target_path(id, Target::Tags)?;
        let body = mapping::to_value(&Tags {
            tags: mapping::tag_list(tags)?,
        });
        let lock = self.transport.locks().acquire(id).await?;
        let sent = self
            .send_ok(write_request(method, path, &body), id.as_str())
            .await;
        lock.release().await;
        let answer: TagsResponse = Self::decode(&sent?, "tags response").await?;
        Ok(answer.tags)
    }
}

#[async_trait]
impl Backend for ChartMogul {
    unibill_core::transport_backend!(KIND);

    async fn fetch(&self, id: &CustomerId) -> Result<Customer> {
        let path = self.customer_path(id)?;
        self.read(id, &path).await
    }

    async fn lookup(&self, kind: LookupKind, value: &str) -> Result<Vec<CustomerId>> {
        crate::lookup::find_ids(&self.transport, kind, value, crate::lookup::PAGE_SIZE).await
    }

    async fn list_page(&self, options: &ListOptions) -> Result<ListPage> {
        crate::list::page(&self.transport, options).await
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
        let prepared = self.prepare(id, &path, patch).await?;
        if prepared.is_empty() {
            return Ok(UpdateOutcome::new(self.read(id, &path).await?, Vec::new()));
        }
        let mut applied: Vec<String> = Vec::with_capacity(prepared.len());
        let mut writes = Vec::with_capacity(prepared.len());
        // The customer as the answers so far show it: the PATCH answers the
        // whole customer, and each attribute call answers the whole map it
        // changed (custom attributes, or tags), written into that record.
        // `None` once an answer does not carry what it documents, or when
        // there was no PATCH to start from.
        let mut record: Option<Value> = None;
        for p in &prepared {
            tracing::debug!(backend = %KIND, call = %p.label(), "chartmogul update call");
            let sent = match lock.ensure_held() {
                Ok(()) => self.send_ok(p.request(), id.as_str()).await,
                Err(lost) => Err(lost),
            };
            match sent {
                Ok(resp) => {
                    applied.push(p.label());
                    writes.push(self.planned(p));
                    record = match (p.call.target, record) {
                        (Target::Customer, _) => serde_json::from_slice::<Value>(&resp.body).ok(),
                        (target, Some(mut raw)) => {
                            mapping::merge_attribute_answer(&mut raw, target, &resp.body)
                                .then_some(raw)
                        }
                        (_, None) => None,
                    };
                }
                Err(source) if applied.is_empty() => return Err(source),
                Err(source) => return Err(Error::partial_update(KIND, applied, p.label(), source)),
            }
        }
        if let Some(customer) =
            record.and_then(|raw| mapping::customer_from_json(raw, Some(id)).ok())
        {
            return Ok(UpdateOutcome::new(customer, writes));
        }
        // Without a PATCH there is no record to start from (the attribute
        // calls answer only their map), and an unreadable answer says
        // nothing: the writes applied, so read the customer once to return
        // it as ChartMogul now holds it.
        tracing::debug!(backend = %KIND, "reading the customer after the update");
        let customer =
            read_back(KIND, applied, format!("GET {path}"), self.read(id, &path)).await?;
        Ok(UpdateOutcome::new(customer, writes))
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        let path = self.customer_path(id)?;
        Ok(self
            .prepare(id, &path, patch)
            .await?
            .iter()
            .map(|p| self.planned(p))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_client_paces_just_under_the_documented_limit() {
        let client = ChartMogul::builder().api_key("k").build().unwrap();
        let limit = client.transport.config().rate_limit;
        assert_eq!(limit, Some(DEFAULT_RATE_LIMIT));
        let per_second =
            f64::from(DEFAULT_RATE_LIMIT.requests) / DEFAULT_RATE_LIMIT.per.as_secs_f64();
        // Below ChartMogul's 40/s, by no more than the 2% margin.
        assert!(per_second < 40.0 && per_second > 39.0, "{per_second}");
    }

    fn answer(body: &str) -> Response {
        Response {
            status: 200,
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec().into(),
            attempts: 1,
        }
    }

    #[tokio::test]
    async fn answers_must_be_objects_holding_what_they_answer() {
        let ok: TagsResponse = ChartMogul::decode(&answer(r#"{"tags":["a"]}"#), "tags")
            .await
            .unwrap();
        assert_eq!(ok.tags, vec!["a"]);
        // An array would otherwise be read field by field, and a missing
        // field as "no tags": both are undecodable answers.
        for body in ["[]", r#"[["a"]]"#, "{}", r#"{"tags":null}"#, "\"x\""] {
            let e = ChartMogul::decode::<TagsResponse>(&answer(body), "tags")
                .await
                .unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{body}: {e:?}");
        }
        for body in ["[]", "{}"] {
            let e = ChartMogul::decode::<CustomAttributesResponse>(&answer(body), "custom")
                .await
                .unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{body}: {e:?}");
            let e = ChartMogul::decode::<EntriesResponse>(&answer(body), "entries")
                .await
                .unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{body}: {e:?}");
        }
    }
}
