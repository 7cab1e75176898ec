//! Stripe's wire forms: the form-encoded parameters the client sends
//! ([`Form`]), the JSON it reads (customers, list and search pages, the
//! error envelope) and the idempotency key of a write.
//!
//! Answers are read leniently (every field optional, unknown fields
//! ignored here and kept whole in [`unibill_core::Customer::raw`]).
//! Conversions to and from the neutral model live in [`crate::mapping`].

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};
use unibill_core::Error;

/// A customer as `GET`/`POST /v1/customers/{id}` answer it (and as the
/// entries of the list and search pages).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CustomerResponse {
    /// `cus_...`.
    #[serde(default)]
    pub id: Option<String>,
    /// `true` on a deleted customer (whose answer holds only `id`,
    /// `object` and `deleted`).
    #[serde(default)]
    pub deleted: Option<bool>,
    /// Full name or business name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The billing address.
    #[serde(default)]
    pub address: Option<AddressResponse>,
    /// Metadata: text values, keyed by text.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, Value>>,
    /// The customer's currency, lower case (`usd`), once it has one.
    #[serde(default)]
    pub currency: Option<String>,
}

/// `address` of a customer answer.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct AddressResponse {
    /// First line.
    #[serde(default)]
    pub line1: Option<String>,
    /// Second line.
    #[serde(default)]
    pub line2: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State, county, province or region.
    #[serde(default)]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// Two-letter country code.
    #[serde(default)]
    pub country: Option<String>,
}

/// One page of `GET /v1/customers` (`"object": "list"`): the customers and
/// whether more follow (the next page starts after the last id).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ListPage<E = Value> {
    /// The customers of this page. Required.
    pub data: Vec<E>,
    /// Whether another page follows. Required.
    pub has_more: bool,
}

/// One page of `GET /v1/customers/search` (`"object": "search_result"`):
/// the customers, whether more follow and the token of the next page.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct SearchPage<E = CustomerEntry> {
    /// The customers of this page. Required.
    pub data: Vec<E>,
    /// Whether another page follows. Required.
    pub has_more: bool,
    /// The `page` token of the next page (`null` on the last).
    #[serde(default)]
    pub next_page: Option<String>,
}

/// The parts of a listed or found customer a lookup reads.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CustomerEntry {
    /// `cus_...`.
    #[serde(default)]
    pub id: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Metadata.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, Value>>,
}

/// Stripe's error answer: `{"error": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ErrorBody,
}

/// The `error` object of an error answer.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ErrorBody {
    /// `api_error`, `card_error`, `idempotency_error` or
    /// `invalid_request_error`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// A short code for errors a program can handle (`resource_missing`,
    /// `parameter_invalid_empty`, `lock_timeout`, ...).
    #[serde(default)]
    pub code: Option<String>,
    /// The parameter the error is about (`address[city]`,
    /// `metadata[plan]`).
    #[serde(default)]
    pub param: Option<String>,
    /// A human-readable message.
    #[serde(default)]
    pub message: Option<String>,
}

/// Form-encoded request parameters (`application/x-www-form-urlencoded`),
/// in the order they are sent, with Stripe's nested keys
/// (`address[city]`, `metadata[plan]`, `preferred_locales[0]`). An empty
/// value clears a field (`phone=`) or deletes a metadata key
/// (`metadata[plan]=`).
///
/// ```
/// use unibill_stripe::wire::Form;
///
/// let mut form = Form::new();
/// form.push("address[city]", "Saint-Étienne");
/// form.push("phone", "");
/// form.push("metadata[note]", "a&b=c");
/// assert_eq!(
///     form.encode(),
///     "address%5Bcity%5D=Saint-%C3%89tienne&phone=&metadata%5Bnote%5D=a%26b%3Dc"
/// );
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl fmt::Debug for Form {
    /// Shows the keys only: values are customer data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

impl Form {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one parameter.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.push((key.into(), value.into()));
    }

    /// The parameters, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The value of `key`, if sent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `application/x-www-form-urlencoded` text. Encoded by
    /// `serde_urlencoded` (the encoder reqwest itself uses for forms,
    /// already in the dependency tree through it, and the `url` crate's
    /// `form_urlencoded` underneath) rather than by hand: the
    /// WHATWG rules for which bytes to escape are easy to get subtly
    /// wrong. Brackets are sent escaped (`%5B`/`%5D`), which Stripe reads
    /// as `[`/`]` like every form decoder.
    pub fn encode(&self) -> String {
        // A list of string pairs always serializes.
        serde_urlencoded::to_string(&self.0).unwrap_or_default()
    }

    /// The parameters as one JSON object (`{"address[city]": "Paris"}`),
    /// for dry runs and the writes an update reports.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<Map<_, _>>(),
        )
    }
}

/// The `Idempotency-Key` of one update: a random version 4 UUID (122
/// random bits from the operating system), made once per update and sent
/// with every attempt of its `POST`, so Stripe applies the update at most
/// once however many times the transport re-sends it. Stripe suggests V4
/// UUIDs and accepts up to 255 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdempotencyKey").field(&self.0).finish()
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl IdempotencyKey {
    /// A new random key; [`Error::Config`] naming `idempotency_key` when
    /// the operating system's random source fails (nothing is sent then).
    ///
    /// ```
    /// use unibill_stripe::wire::IdempotencyKey;
    /// let a = IdempotencyKey::random().unwrap();
    /// assert_eq!(a.as_str().len(), 36);
    /// assert_eq!(&a.as_str()[14..15], "4");
    /// assert_ne!(a, IdempotencyKey::random().unwrap());
    /// ```
    pub fn random() -> Result<Self, Error> {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes).map_err(|e| {
            Error::config(
                "idempotency_key",
                format!("the operating system's random source failed: {e}"),
            )
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// The UUID text of 16 random bytes, with the version (4) and variant
    /// (RFC 4122) bits set.
    fn from_bytes(mut b: [u8; 16]) -> Self {
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Self(format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        ))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_form_has_version_and_variant() {
        let k = IdempotencyKey::from_bytes([0xff; 16]);
        assert_eq!(k.as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let k = IdempotencyKey::from_bytes([0; 16]);
        assert_eq!(k.as_str(), "00000000-0000-4000-8000-000000000000");
        let keys: std::collections::HashSet<String> = (0..1000)
            .map(|_| IdempotencyKey::random().unwrap().to_string())
            .collect();
        assert_eq!(keys.len(), 1000);
    }

    #[test]
    fn form_encodes_nested_keys_and_empty_values() {
        let mut form = Form::new();
        for (k, v) in [
            ("name", "Jenny Rosen"),
            ("address[line1]", "1 Main St"),
            ("address[state]", ""),
            ("metadata[plan]", "gold+1"),
            ("metadata[gone]", ""),
            ("preferred_locales[0]", "fr"),
            ("invoice_settings[footer]", "Merci ✓"),
            ("shipping[address][city]", "Paris"),
        ] {
            form.push(k, v);
        }
        assert_eq!(
            form.encode(),
            "name=Jenny+Rosen&address%5Bline1%5D=1+Main+St&address%5Bstate%5D=\
             &metadata%5Bplan%5D=gold%2B1&metadata%5Bgone%5D=\
             &preferred_locales%5B0%5D=fr&invoice_settings%5Bfooter%5D=Merci+%E2%9C%93\
             &shipping%5Baddress%5D%5Bcity%5D=Paris"
        );
        // Decoding gives the pairs back, in order.
        let back: Vec<(String, String)> = serde_urlencoded::from_str(&form.encode()).unwrap();
        assert_eq!(back, form.pairs());
        assert_eq!(form.get("address[state]"), Some(""));
        assert_eq!(form.to_json()["metadata[plan]"], "gold+1");
        assert!(!format!("{form:?}").contains("Jenny"));
        assert_eq!(Form::new().encode(), "");
    }

    #[test]
    fn error_envelope_reads_the_documented_fields() {
        let e: ErrorEnvelope = serde_json::from_str(
            r#"{"error":{"type":"invalid_request_error","code":"resource_missing","param":"id","message":"No such customer: 'cus_x'","doc_url":"https://stripe.com/docs/error-codes/resource-missing"}}"#,
        )
        .unwrap();
        assert_eq!(e.error.kind.as_deref(), Some("invalid_request_error"));
        assert_eq!(e.error.code.as_deref(), Some("resource_missing"));
        assert_eq!(e.error.param.as_deref(), Some("id"));
    }
}
