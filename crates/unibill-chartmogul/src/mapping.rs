//! Neutral model <-> ChartMogul JSON, both ways, as pure functions.
//!
//! Reading: [`customer_from_json`] turns a customer answer into a neutral
//! [`Customer`] (cents + currency into [`Money`], the vendor's status
//! labels into [`CustomerStatus`], the whole answer kept in `raw`).
//!
//! Writing: [`plan_writes`] turns a checked patch into the ordered list of
//! [`Call`]s an update sends, after [`validate`] has refused everything
//! ChartMogul would refuse. The client and the dry run share it.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use unibill_core::attribute::parse_timestamp;
use unibill_core::check;
use unibill_core::customer::json_text;
use unibill_core::{
    AttributeValue, Change, Currency, CustomAttribute, Customer, CustomerId, CustomerPatch,
    CustomerStatus, Decimal, Error, Field, Money, Result,
};

use crate::extension::ChartMogulExtension;
use crate::wire::{
    AddCustomAttributes, CustomerResponse, CustomerUpdate, NewCustomAttribute,
    RemoveCustomAttributes, Tags,
};
use crate::KIND;

/// HTTP method of a [`Call`]: the type core's transport takes.
pub use reqwest::Method;

/// ChartMogul's labels of the lead stages: the only statuses a PATCH may
/// set.
pub const LEAD_STATUSES: [(CustomerStatus, &str); 4] = [
    (CustomerStatus::NewLead, "New Lead"),
    (CustomerStatus::WorkingLead, "Working Lead"),
    (CustomerStatus::QualifiedLead, "Qualified Lead"),
    (CustomerStatus::UnqualifiedLead, "Unqualified Lead"),
];

// ----- reading -------------------------------------------------------------

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
            format!("`{}` is not a ChartMogul customer UUID (`cus_` followed by letters, digits and `-`)", unibill_core::error::clip(s)),
        ))
    }
}

/// The neutral status for a ChartMogul status label; an unknown label is
/// kept verbatim as [`CustomerStatus::Other`].
pub fn status_from_wire(label: &str) -> CustomerStatus {
    match label {
        "Lead" => CustomerStatus::Lead,
        "Active" => CustomerStatus::Active,
        "Past due" => CustomerStatus::PastDue,
        "Cancelled" => CustomerStatus::Cancelled,
        other => LEAD_STATUSES
            .iter()
            .find(|(_, l)| *l == other)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| CustomerStatus::Other(other.to_owned())),
    }
}

fn decode_err(what: &str, msg: impl std::fmt::Display) -> Error {
    Error::decode(KIND, what, msg)
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn timestamp(field: &str, text: Option<String>) -> Result<Option<DateTime<FixedOffset>>> {
    match non_empty(text) {
        None => Ok(None),
        Some(t) => parse_timestamp(&t).map(Some).ok_or_else(|| {
            decode_err(
                "customer response",
                format!("`{field}` is not a timestamp: `{t}`"),
            )
        }),
    }
}

fn cents(field: &str, n: &serde_json::Number) -> Result<i64> {
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    // Some answers carry cents as `3000.0`; accept whole values only.
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(decode_err(
            "customer response",
            format!("`{field}` is not a whole number of cents: {n}"),
        )),
    }
}

/// ChartMogul's `mrr`/`arr` are hundredths of the currency whatever its
/// minor unit ("divide by 100"), while [`Money`] counts the currency's own
/// minor unit. Equal for two-decimal currencies; for others the amount is
/// rescaled exactly (JPY `3000` = 30 yen, KWD `3000` = 30.000 dinars), and
/// an amount that is not a whole number of the minor unit (JPY `3050`)
/// gives `None` rather than a rounded or hundredfold value.
pub fn money_from_cents(cents: i64, currency: Currency) -> Option<Money> {
    let amount = Decimal::new(i128::from(cents), 2).ok()?;
    Money::from_major(amount, currency).ok()
}

/// Reads a customer answer (`GET`/`PATCH /v1/customers/{uuid}`, or one
/// entry of the by-email answer) into a neutral [`Customer`]; `raw` keeps
/// the whole answer. `fallback_id` is used when the answer has no `uuid`.
///
/// Location fields are read from the top-level keys, falling back to the
/// `address` object. `mrr`/`arr` are cents of `currency` (see
/// [`money_from_cents`]); without a currency they stay `None` (the raw
/// answer still has them). An answer that is not a JSON object is a
/// decode error.
pub fn customer_from_json(raw: Value, fallback_id: Option<&CustomerId>) -> Result<Customer> {
    // A customer is a JSON object. Serde would also read a struct from an
    // array (field by field, in order), turning `[]` into a blank customer
    // and `["a","b"]` into one with uuid `b`.
    if !raw.is_object() {
        return Err(decode_err("customer response", "not a JSON object"));
    }
    // Deserialized from a borrow of `raw`: no copy of the tree.
    let wire = CustomerResponse::deserialize(&raw).map_err(|source| Error::Decode {
        backend: KIND,
        what: "customer response".into(),
        source,
    })?;
    let id = match (non_empty(wire.uuid), fallback_id) {
        (Some(uuid), _) => CustomerId::new(uuid),
        (None, Some(id)) => id.clone(),
        (None, None) => return Err(decode_err("customer response", "no `uuid`")),
    };
    let mut c = Customer::new(id, raw);
    let address = wire.address.unwrap_or_default();
    c.name = non_empty(wire.name);
    c.email = non_empty(wire.email);
    c.company = non_empty(wire.company);
    c.website = non_empty(wire.website_url);
    c.address.city = non_empty(wire.city).or_else(|| non_empty(address.city));
    c.address.region = non_empty(wire.state).or_else(|| non_empty(address.state));
    c.address.postal_code = non_empty(wire.zip).or_else(|| non_empty(address.address_zip));
    c.address.country = non_empty(wire.country).or_else(|| non_empty(address.country));
    c.status = non_empty(wire.status).map(|s| status_from_wire(&s));
    c.external_reference = json_text(wire.external_id.as_ref());
    c.lead_created_at = timestamp(Field::LeadCreatedAt.name(), wire.lead_created_at)?;
    c.free_trial_started_at =
        timestamp(Field::FreeTrialStartedAt.name(), wire.free_trial_started_at)?;
    c.customer_since = timestamp("customer-since", wire.customer_since)?;
    c.currency = match non_empty(wire.currency) {
        None => None,
        Some(code) => Some(Currency::new(&code).map_err(|_| {
            decode_err(
                "customer response",
                format!("`currency` is not ISO 4217: `{code}`"),
            )
        })?),
    };
    if let Some(cur) = c.currency {
        c.mrr = wire
            .mrr
            .as_ref()
            .map(|n| cents(Field::Mrr.name(), n))
            .transpose()?
            .and_then(|m| money_from_cents(m, cur));
        c.arr = wire
            .arr
            .as_ref()
            .map(|n| cents(Field::Arr.name(), n))
            .transpose()?
            .and_then(|m| money_from_cents(m, cur));
    }
    if let Some(attrs) = wire.attributes {
        c.tags = attrs.tags.unwrap_or_default();
        c.custom = attrs.custom.unwrap_or_default();
    }
    Ok(c)
}

/// Writes the answer of an attribute call into a customer answer, so the
/// customer reads as ChartMogul holds it after that call: the custom
/// attribute calls answer the customer's whole custom map
/// (`{"custom": {..}}`), the tag calls every tag now on the customer
/// (`{"tags": [..]}`), and the answer replaces `attributes.custom` or
/// `attributes.tags` of `customer` (ChartMogul's own Ruby client keeps a
/// customer current the same way; see `docs/chartmogul.md`).
///
/// Returns `false`, leaving `customer` as it was, when the answer does not
/// carry what it documents (an empty `204`, a body that is not JSON, a
/// `custom` that is not an object, a `tags` that is not a list of text), or
/// when `customer` has no `attributes` object to write into (its other
/// attributes would then be unknown): the caller reads the customer
/// instead.
pub fn merge_attribute_answer(customer: &mut Value, target: Target, answer: &[u8]) -> bool {
    let key = match target {
        Target::Custom => "custom",
        Target::Tags => "tags",
        Target::Customer => return false,
    };
    let Ok(Value::Object(mut answer)) = serde_json::from_slice::<Value>(answer) else {
        return false;
    };
    let value = match answer.remove(key) {
        Some(v @ Value::Object(_)) if target == Target::Custom => v,
        Some(Value::Array(tags)) if target == Target::Tags && tags.iter().all(Value::is_string) => {
            Value::Array(tags)
        }
        _ => return false,
    };
    match customer.get_mut("attributes") {
        Some(Value::Object(attributes)) => {
            attributes.insert(key.to_owned(), value);
            true
        }
        _ => false,
    }
}

// ----- validation ----------------------------------------------------------

/// The ChartMogul label of a lead stage; any other status is refused:
/// ChartMogul derives `Active`, `Past due` and `Cancelled` from
/// subscriptions, and a PATCH sets only the four lead stages.
pub fn lead_status_to_wire(status: &CustomerStatus) -> Result<&'static str> {
    let found = LEAD_STATUSES
        .iter()
        .find(|(s, label)| s == status || matches!(status, CustomerStatus::Other(o) if o == label));
    match found {
        Some((_, label)) => Ok(label),
        None => Err(Error::validation(
            Field::Status.name(),
            format!(
                "ChartMogul sets only the lead stages (new_lead, working_lead, qualified_lead, unqualified_lead); `{status}` is derived from the customer's subscriptions"
            ),
        )),
    }
}

/// Formats a timestamp as ChartMogul's input form `YYYY-MM-DD HH:MM:SS`
/// (UTC). ChartMogul keeps whole seconds: a value with a fraction of a
/// second is refused rather than silently truncated.
pub fn timestamp_to_wire(field: &str, at: &DateTime<Utc>) -> Result<String> {
    check_year(field, at.year())?;
    if at.nanosecond() != 0 {
        return Err(Error::validation(
            field,
            "ChartMogul stores whole seconds; truncate the fraction (e.g. chrono's `trunc_subsecs(0)`)",
        ));
    }
    Ok(at.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// ChartMogul's timestamps are ISO 8601, which writes the years 0001-9999
/// only.
fn check_year(field: &str, year: i32) -> Result<()> {
    if (1..=9999).contains(&year) {
        Ok(())
    } else {
        Err(Error::validation(
            field,
            format!("year {year} is outside 0001-9999 (not ISO 8601)"),
        ))
    }
}

/// Checks the `source` of a custom attribute: not blank, no control
/// characters. Named `custom.{key}.source`.
fn check_source(key: &str, attr: &CustomAttribute) -> Result<()> {
    match &attr.source {
        Some(src) => check::text(&format!("custom.{key}.source"), src),
        None => Ok(()),
    }
}

/// Checks what ChartMogul needs of a value beyond core's rules: a
/// Timestamp is sent as ISO 8601, which writes years 0001-9999 only (the
/// year as written and in UTC). Named `custom.{key}`.
fn check_custom_value(key: &str, attr: &CustomAttribute) -> Result<()> {
    if let AttributeValue::Timestamp(at) = &attr.value {
        let field = format!("custom.{key}");
        check_year(&field, at.year())?;
        check_year(&field, at.naive_utc().year())?;
    }
    Ok(())
}

/// Checks one custom attribute to send: key, value and source.
pub fn check_custom_attribute(key: &str, attr: &CustomAttribute) -> Result<()> {
    unibill_core::attribute::check_attribute_key(key)?;
    attr.value.check(key)?;
    check_custom_value(key, attr)?;
    check_source(key, attr)
}

/// Everything ChartMogul would refuse in a patch that core's checks do
/// not cover: the lead-only status, timestamp precision and range, email
/// form, attribute sources, Timestamp attribute years and the
/// extension's values. Attribute keys, tags and core's value rules are
/// not checked again: [`CustomerPatch::validate`] has (every update runs
/// it first). Runs before the first request; the error names the field.
pub fn validate(patch: &CustomerPatch, ext: Option<&ChartMogulExtension>) -> Result<()> {
    if let Change::Set(email) = &patch.email {
        check::email(Field::Email.name(), email)?;
    }
    if let Change::Set(status) = &patch.status {
        lead_status_to_wire(status)?;
    }
    if let Change::Set(at) = &patch.lead_created_at {
        timestamp_to_wire(Field::LeadCreatedAt.name(), at)?;
    }
    if let Change::Set(at) = &patch.free_trial_started_at {
        timestamp_to_wire(Field::FreeTrialStartedAt.name(), at)?;
    }
    for (key, change) in &patch.custom {
        if let Change::Set(attr) = change {
            check_custom_value(key, attr)?;
            check_source(key, attr)?;
        }
    }
    if let Some(ext) = ext {
        if let Change::Set(owner) = &ext.owner {
            check::email("extensions.chartmogul.owner", owner)?;
        }
        for (name, change) in ext.primary_contact.fields() {
            if let Change::Set(v) = change {
                let field = format!("extensions.chartmogul.primary_contact.{name}");
                if name == "email" {
                    check::email(&field, v)?;
                } else {
                    check::text(&field, v)?;
                }
            }
        }
    }
    Ok(())
}

// ----- writing -------------------------------------------------------------

/// The PATCH body of a patch: only the plain fields it changes (`null`
/// clears). `current_contact` is the customer's primary contact as last
/// read, merged under the changes so the whole object is sent (see
/// `docs/chartmogul.md`). Call [`validate`] first.
pub fn customer_update(
    patch: &CustomerPatch,
    ext: Option<&ChartMogulExtension>,
    current_contact: Option<&Map<String, Value>>,
) -> Result<CustomerUpdate> {
    let ts = |field: &str, c: &Change<DateTime<Utc>>| -> Result<Change<String>> {
        c.clone().try_map(|at| timestamp_to_wire(field, &at))
    };
    let mut up = CustomerUpdate {
        name: patch.name.clone(),
        email: patch.email.clone(),
        company: patch.company.clone(),
        city: patch.address.city.clone(),
        state: patch.address.region.clone(),
        zip: patch.address.postal_code.clone(),
        country: patch.address.country.clone().map(|c| c.as_str().to_owned()),
        website_url: patch.website.clone(),
        lead_created_at: ts(Field::LeadCreatedAt.name(), &patch.lead_created_at)?,
        free_trial_started_at: ts(
            Field::FreeTrialStartedAt.name(),
            &patch.free_trial_started_at,
        )?,
        status: patch
            .status
            .clone()
            .try_map(|s| lead_status_to_wire(&s).map(str::to_owned))?,
        ..CustomerUpdate::default()
    };
    if let Some(ext) = ext {
        up.owner = ext.owner.clone();
        if !ext.primary_contact.is_empty() {
            let mut contact = current_contact.cloned().unwrap_or_default();
            for (name, change) in ext.primary_contact.fields() {
                match change {
                    Change::Keep => {}
                    Change::Set(v) => {
                        contact.insert(name.to_owned(), Value::String(v.clone()));
                    }
                    Change::Clear => {
                        contact.insert(name.to_owned(), Value::Null);
                    }
                }
            }
            up.primary_contact = Change::Set(contact);
        }
    }
    Ok(up)
}

/// The typed form of one custom attribute for the POST calls. The value
/// is in its type's JSON form ([`unibill_core::AttributeValue::to_json`]:
/// timestamps as RFC 3339, an ISO 8601 form; decimals as JSON numbers
/// where that is exact, else as decimal text).
pub fn new_custom_attribute(key: &str, attr: &CustomAttribute) -> NewCustomAttribute {
    NewCustomAttribute {
        ty: attr.value.attribute_type(),
        key: key.to_owned(),
        value: attr.value.to_json(),
        source: attr.source.clone(),
    }
}

/// One value of the `PUT` body: bare, or `{"value", "source"}`.
pub fn updated_custom_attribute(attr: &CustomAttribute) -> Value {
    let value = attr.value.to_json();
    match &attr.source {
        None => value,
        Some(src) => serde_json::json!({ "value": value, "source": src }),
    }
}

/// Which endpoint a [`Call`] goes to, below `/v1/customers/{uuid}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `/v1/customers/{uuid}`.
    Customer,
    /// `/v1/customers/{uuid}/attributes/custom`.
    Custom,
    /// `/v1/customers/{uuid}/attributes/tags`.
    Tags,
}

impl Target {
    /// The path below `/v1/customers/{uuid}` (empty for the customer).
    pub fn suffix(self) -> &'static str {
        match self {
            Target::Customer => "",
            Target::Custom => "/attributes/custom",
            Target::Tags => "/attributes/tags",
        }
    }
}

/// One write of an update, before it gets a URL. Every write of an
/// update sets state (no call increments anything), so each may be sent
/// again after an unknown outcome; the client marks the POSTs retry-safe.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Method.
    pub method: Method,
    /// Endpoint.
    pub target: Target,
    /// JSON body.
    pub body: Value,
}

/// A request body as JSON. Serializing these plain structs (strings,
/// numbers, maps with string keys) cannot fail; `Null` is unreachable.
pub(crate) fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The writes a patch needs, in the order they are sent:
///
/// 1. `PATCH /v1/customers/{uuid}` with the plain fields that change (left
///    out when none do);
/// 2. `POST .../attributes/custom` with the attributes to create or set,
///    each with its type;
/// 3. `DELETE .../attributes/custom` with the keys to remove;
/// 4. `POST .../attributes/tags` with the tags to add;
/// 5. `DELETE .../attributes/tags` with the tags to remove.
///
/// A patch that changes nothing gives no call. Call [`validate`] first.
pub fn plan_writes(
    patch: &CustomerPatch,
    ext: Option<&ChartMogulExtension>,
    current_contact: Option<&Map<String, Value>>,
) -> Result<Vec<Call>> {
    let mut calls = Vec::new();
    let mut push = |method: Method, target: Target, body: Value| {
        calls.push(Call {
            method,
            target,
            body,
        })
    };
    let update = customer_update(patch, ext, current_contact)?;
    if !update.is_empty() {
        push(Method::PATCH, Target::Customer, to_value(&update));
    }
    let mut sets = Vec::new();
    let mut clears = Vec::new();
    for (key, change) in &patch.custom {
        match change {
            Change::Set(attr) => sets.push(new_custom_attribute(key, attr)),
            Change::Clear => clears.push(key.clone()),
            Change::Keep => {}
        }
    }
    if !sets.is_empty() {
        let body = to_value(&AddCustomAttributes { custom: sets });
        push(Method::POST, Target::Custom, body);
    }
    if !clears.is_empty() {
        let body = to_value(&RemoveCustomAttributes { custom: clears });
        push(Method::DELETE, Target::Custom, body);
    }
    for (method, tags) in [
        (Method::POST, &patch.tags.add),
        (Method::DELETE, &patch.tags.remove),
    ] {
        if !tags.is_empty() {
            let body = to_value(&Tags {
                tags: tags.iter().cloned().collect(),
            });
            push(method, Target::Tags, body);
        }
    }
    Ok(calls)
}

/// Custom attributes given as a list: refuses an empty list and a key
/// given twice, checks each, and keeps the caller's order.
pub fn custom_list<K: Into<String>>(
    attrs: impl IntoIterator<Item = (K, CustomAttribute)>,
) -> Result<Vec<(String, CustomAttribute)>> {
    let list: Vec<(String, CustomAttribute)> =
        attrs.into_iter().map(|(k, a)| (k.into(), a)).collect();
    if list.is_empty() {
        return Err(Error::validation(
            Field::CustomAttributes.name(),
            "no custom attribute given",
        ));
    }
    let mut seen = BTreeSet::new();
    for (key, attr) in &list {
        check_custom_attribute(key, attr)?;
        if !seen.insert(key.as_str()) {
            return Err(Error::validation(
                format!("custom.{key}"),
                "key given twice",
            ));
        }
    }
    Ok(list)
}

/// Tags given as a list: refuses an empty list and the tags a patch
/// would refuse ([`check::tag`]); drops duplicates, keeping the first.
pub fn tag_list<T: Into<String>>(tags: impl IntoIterator<Item = T>) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.into();
        check::tag(&t)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(Error::validation(Field::Tags.name(), "no tag given"));
    }
    Ok(out)
}
