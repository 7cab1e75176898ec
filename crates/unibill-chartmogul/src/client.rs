//! The [`ChartMogul`] client: builder, [`CustomerUpdater`] implementation
//! and the ChartMogul-only operations.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use unibill_core::transport::{
    Auth, ClientOptions, Idempotency, RateLimit, Request, Response, Transport,
};
use unibill_core::{
    async_trait, BackendKind, Capabilities, CheckedPatch, CustomAttribute, Customer, CustomerId,
    CustomerUpdater, Error, Field, FieldCaps, PlannedRequest, Result, UpdateOutcome,
};

use crate::error::from_answer;
use crate::extension::ChartMogulExtension;
use crate::mapping::{self, Call, Method, Target};
use crate::wire::{
    AddCustomAttributesByEmail, CustomAttributesResponse, EntriesResponse, Tags, TagsResponse,
    UpdateCustomAttributes,
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
/// `docs/performance.md`). Set `rate_limit` on the builder to change it.
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

/// Builds a [`ChartMogul`] client.
///
/// ```
/// use std::time::Duration;
/// use unibill_chartmogul::ChartMogul;
///
/// let cm = ChartMogul::builder()
///     .api_key("my-secret-key")
///     .timeouts(Duration::from_secs(5), Duration::from_secs(20))
///     .build()
///     .unwrap();
/// assert!(!format!("{cm:?}").contains("my-secret-key"));
/// ```
#[derive(Clone, Debug)]
pub struct ChartMogulBuilder {
    api_key: Option<SecretString>,
    options: ClientOptions,
}

impl Default for ChartMogulBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            options: ClientOptions::new(Some(DEFAULT_BASE_URL)).with_rate_limit(DEFAULT_RATE_LIMIT),
        }
    }
}

impl ChartMogulBuilder {
    /// The account's API key (sent as the Basic user name with an empty
    /// password). Held as a [`SecretString`]: never printed.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    unibill_core::client_option_setters!();

    /// The client; [`Error::Config`] when the key is missing or empty, or
    /// the base URL or a setting is unusable.
    pub fn build(self) -> Result<ChartMogul> {
        let key = match self.api_key {
            Some(k) if !secrecy::ExposeSecret::expose_secret(&k).trim().is_empty() => k,
            Some(_) => return Err(Error::config("api_key", "the ChartMogul API key is empty")),
            None => return Err(Error::config("api_key", "a ChartMogul API key is required")),
        };
        Ok(ChartMogul {
            transport: self.options.transport(KIND, Auth::KeyAsUser(key))?,
            caps: capabilities(),
        })
    }
}

/// A ChartMogul account, reached over its REST API.
///
/// Implements [`CustomerUpdater`] (see the crate docs for the calls an
/// update makes) and adds the ChartMogul-only operations: custom
/// attributes by email, the `PUT` of existing custom attributes, and tags.
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

/// Checks a customer id before it is put in a path: ChartMogul customer
/// UUIDs are `cus_` followed by letters, digits and `-`.
pub fn check_id(id: &CustomerId) -> Result<()> {
    let s = id.as_str();
    let ok = s.strip_prefix("cus_").is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "id",
            format!("`{s}` is not a ChartMogul customer UUID (`cus_` followed by letters, digits and `-`)"),
        ))
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
        let req = match self.call.method {
            Method::Patch => Request::patch(self.path.clone()),
            Method::Post => Request::post(self.path.clone()),
            Method::Put => Request::put(self.path.clone()),
            Method::Delete => Request::delete(self.path.clone()),
        }
        .json(&self.call.body);
        if self.call.method == Method::Post && self.call.retry_safe {
            req.idempotency(Idempotency::RetrySafe)
        } else {
            req
        }
    }
}

impl ChartMogul {
    /// A builder with ChartMogul's defaults.
    pub fn builder() -> ChartMogulBuilder {
        ChartMogulBuilder::default()
    }

    fn customer_path(&self, id: &CustomerId, rest: &[&str]) -> Result<String> {
        check_id(id)?;
        let mut segs = vec!["v1", "customers", id.as_str()];
        segs.extend_from_slice(rest);
        self.transport.path(&segs)
    }

    fn target_path(&self, id: &CustomerId, target: Target) -> Result<String> {
        match target {
            Target::Customer => self.customer_path(id, &[]),
            Target::Custom => self.customer_path(id, &["attributes", "custom"]),
            Target::Tags => self.customer_path(id, &["attributes", "tags"]),
        }
    }

    /// Sends a request; an error status becomes the neutral error (`who`
    /// names the customer or email for a 404).
    async fn send_ok(&self, req: Request, who: &str) -> Result<Response> {
        let resp = self.transport.send(req).await?;
        if resp.is_success() {
            Ok(resp)
        } else {
            Err(from_answer(
                resp.status,
                &resp.body,
                resp.retry_after(),
                Some(who),
            ))
        }
    }

    fn decode<T: DeserializeOwned>(resp: &Response, what: &str) -> Result<T> {
        resp.json().map_err(|source| Error::Decode {
            backend: KIND,
            what: what.to_owned(),
            source,
        })
    }

    async fn get_raw(&self, id: &CustomerId) -> Result<Value> {
        let path = self.customer_path(id, &[])?;
        let resp = self.send_ok(Request::get(path), id.as_str()).await?;
        Self::decode(&resp, "customer response")
    }

    /// Validates a patch and computes its writes; shared by `apply` and
    /// `plan`. Reads the customer first only when the primary contact
    /// changes (its whole object is sent back, see the docs).
    async fn prepare(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<Prepared>> {
        check_id(id)?;
        let ext = patch.get_extension::<ChartMogulExtension>()?;
        mapping::validate(patch, ext.as_ref())?;
        let contact: Option<Map<String, Value>> = match &ext {
            Some(e) if !e.primary_contact.is_empty() => self
                .get_raw(id)
                .await?
                .get("primary_contact")
                .and_then(Value::as_object)
                .cloned(),
            _ => None,
        };
        mapping::plan_writes(patch, ext.as_ref(), contact.as_ref())?
            .into_iter()
            .map(|call| {
                let path = self.target_path(id, call.target)?;
                Ok(Prepared { call, path })
            })
            .collect()
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
        mapping::check_email("email", email)?;
        let list = mapping::custom_list(attrs)?;
        let body = AddCustomAttributesByEmail {
            email: email.to_owned(),
            custom: list
                .iter()
                .map(|(k, a)| mapping::new_custom_attribute(k, a))
                .collect(),
        };
        let body =
            serde_json::to_value(&body).map_err(|e| Error::validation("custom", e.to_string()))?;
        let path = self
            .transport
            .path(&["v1", "customers", "attributes", "custom"])?;
        let req = Request::post(path)
            .json(&body)
            .idempotency(Idempotency::RetrySafe);
        let resp = self.send_ok(req, email).await?;
        let entries: EntriesResponse = Self::decode(&resp, "custom attributes by email response")?;
        entries
            .entries
            .into_iter()
            .map(|raw| mapping::customer_from_json(raw, None))
            .collect()
    }

    /// Changes custom attributes that already exist on the customer
    /// (`PUT /v1/customers/{uuid}/attributes/custom`); ChartMogul refuses a
    /// key the customer does not have (use [`CustomerUpdater::update`],
    /// which creates keys). The value's type is not sent: ChartMogul
    /// checks it against the key's defined type. Answers the customer's
    /// whole custom map.
    pub async fn update_custom_attributes<K: Into<String>>(
        &self,
        id: &CustomerId,
        attrs: impl IntoIterator<Item = (K, CustomAttribute)>,
    ) -> Result<BTreeMap<String, Value>> {
        let path = self.customer_path(id, &["attributes", "custom"])?;
        let list = mapping::custom_list(attrs)?;
        let body = UpdateCustomAttributes {
            custom: list
                .iter()
                .map(|(k, a)| (k.clone(), mapping::updated_custom_attribute(a)))
                .collect(),
        };
        let body =
            serde_json::to_value(&body).map_err(|e| Error::validation("custom", e.to_string()))?;
        let resp = self
            .send_ok(Request::put(path).json(&body), id.as_str())
            .await?;
        let answer: CustomAttributesResponse = Self::decode(&resp, "custom attributes response")?;
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
        self.tags(id, tags, Method::Post).await
    }

    /// Removes tags (`DELETE /v1/customers/{uuid}/attributes/tags`);
    /// removing an absent tag changes nothing. Answers every tag left.
    pub async fn remove_tags<T: Into<String>>(
        &self,
        id: &CustomerId,
        tags: impl IntoIterator<Item = T>,
    ) -> Result<Vec<String>> {
        self.tags(id, tags, Method::Delete).await
    }

    async fn tags<T: Into<String>>(
        &self,
        id: &CustomerId,
        tags: impl IntoIterator<Item = T>,
        method: Method,
    ) -> Result<Vec<String>> {
        let path = self.customer_path(id, &["attributes", "tags"])?;
        let body = Tags {
            tags: mapping::tag_list(tags)?,
        };
        let body =
            serde_json::to_value(&body).map_err(|e| Error::validation("tags", e.to_string()))?;
        let req = match method {
            Method::Delete => Request::delete(path),
            _ => Request::post(path).idempotency(Idempotency::RetrySafe),
        }
        .json(&body);
        let resp = self.send_ok(req, id.as_str()).await?;
        let answer: TagsResponse = Self::decode(&resp, "tags response")?;
        Ok(answer.tags)
    }
}

#[async_trait]
impl CustomerUpdater for ChartMogul {
    fn kind(&self) -> BackendKind {
        KIND
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn get(&self, id: &CustomerId) -> Result<Customer> {
        let raw = self.get_raw(id).await?;
        mapping::customer_from_json(raw, Some(id))
    }

    async fn apply(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<UpdateOutcome> {
        let prepared = self.prepare(id, patch).await?;
        if prepared.is_empty() {
            return Ok(UpdateOutcome::new(self.get(id).await?, Vec::new()));
        }
        let mut applied: Vec<String> = Vec::new();
        let mut writes = Vec::with_capacity(prepared.len());
        let mut last: Option<(Method, Response)> = None;
        for p in &prepared {
            tracing::debug!(backend = %KIND, call = %p.label(), "chartmogul update call");
            match self.send_ok(p.request(), id.as_str()).await {
                Ok(resp) => {
                    applied.push(p.label());
                    writes.push(self.planned(p));
                    last = Some((p.call.method, resp));
                }
                Err(source) if applied.is_empty() => return Err(source),
                Err(source) => {
                    return Err(Error::PartialUpdate {
                        backend: KIND,
                        applied,
                        failed: p.label(),
                        source: Box::new(source),
                    })
                }
            }
        }
        let customer = match last {
            // The PATCH answers the whole customer: when it was the only
            // call, that answer is the result.
            Some((Method::Patch, resp)) if prepared.len() == 1 => {
                let raw: Value = Self::decode(&resp, "customer response")?;
                mapping::customer_from_json(raw, Some(id))?
            }
            // The attribute calls answer fragments (or nothing): read the
            // customer once to return it as ChartMogul now holds it.
            _ => match self.get(id).await {
                Ok(c) => c,
                Err(source) => {
                    let failed = self
                        .customer_path(id, &[])
                        .map(|p| format!("GET {p}"))
                        .unwrap_or_else(|_| "GET customer".into());
                    return Err(Error::PartialUpdate {
                        backend: KIND,
                        applied,
                        failed,
                        source: Box::new(source),
                    });
                }
            },
        };
        Ok(UpdateOutcome::new(customer, writes))
    }

    async fn plan(&self, id: &CustomerId, patch: &CheckedPatch) -> Result<Vec<PlannedRequest>> {
        Ok(self
            .prepare(id, patch)
            .await?
            .iter()
            .map(|p| self.planned(p))
            .collect())
    }

    fn retries(&self) -> u64 {
        self.transport.retries()
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
}
