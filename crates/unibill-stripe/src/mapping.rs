//! Neutral model <-> Stripe, both ways, as pure functions.
//!
//! Reading: [`customer_from_json`] turns a customer answer into a neutral
//! [`Customer`] (metadata into custom attributes and the external
//! reference, the whole answer kept in `raw`).
//!
//! Writing: [`form`] turns a checked patch into the form parameters of
//! the one `POST /v1/customers/{id}` an update sends, after [`validate`]
//! has refused everything Stripe would refuse that can be known
//! beforehand. The client and the dry run share them.

use serde::Deserialize;
use serde_json::Value;
use unibill_core::check;
use unibill_core::customer::json_text;
use unibill_core::{
    AttributeValue, Change, Currency, Customer, CustomerId, CustomerPatch, Error, Field, Result,
};

use crate::extension::StripeExtension;
use crate::wire::{AddressResponse, CustomerResponse, Form};
use crate::KIND;

/// Stripe's limit on metadata keys per object ("You can specify up to 50
/// keys").
pub const MAX_METADATA_KEYS: usize = 50;
/// Stripe's limit on a metadata key's length, in characters.
pub const MAX_METADATA_KEY_CHARS: usize = 40;
/// Stripe's limit on a metadata value's length, in characters.
pub const MAX_METADATA_VALUE_CHARS: usize = 500;

// ----- ids -----------------------------------------------------------------

/// Checks a customer id before it is put in a path: Stripe customer ids
/// are `cus_` followed by letters and digits.
///
/// ```
/// use unibill_core::CustomerId;
/// use unibill_stripe::mapping::check_id;
/// assert!(check_id(&CustomerId::from("cus_NffrFeUfNV2Hib")).is_ok());
/// assert!(check_id(&CustomerId::from("cus_../x")).is_err());
/// ```
pub fn check_id(id: &CustomerId) -> Result<()> {
    let s = id.as_str();
    let ok = s
        .strip_prefix("cus_")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "id",
            format!(
                "`{}` is not a Stripe customer id (`cus_` followed by letters and digits)",
                unibill_core::error::clip(s)
            ),
        ))
    }
}

// ----- reading -------------------------------------------------------------

fn decode_err(msg: impl std::fmt::Display) -> Error {
    Error::decode(KIND, "customer response", msg)
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// Reads a customer answer (`GET`/`POST /v1/customers/{id}`, or an entry
/// of a list page) into a neutral [`Customer`], keeping the whole answer
/// in `raw`. `fallback_id` names the customer when the answer has no
/// `id`; `reference_key` is the metadata key of the external reference,
/// which is left out of the custom attributes.
///
/// A deleted customer (`"deleted": true`, which Stripe still answers with
/// `200`) is [`Error::NotFound`]; an answer that is not a JSON object,
/// has no id, or names a currency that is not ISO 4217 is
/// [`Error::Decode`].
pub fn customer_from_json(
    raw: Value,
    fallback_id: Option<&CustomerId>,
    reference_key: &str,
) -> Result<Customer> {
    if !raw.is_object() {
        return Err(decode_err("not a JSON object"));
    }
    let wire = CustomerResponse::deserialize(&raw).map_err(|source| Error::Decode {
        backend: KIND,
        what: "customer response".into(),
        source,
    })?;
    let id = match (non_empty(wire.id), fallback_id) {
        (Some(id), _) => CustomerId::new(id),
        (None, Some(id)) => id.clone(),
        (None, None) => return Err(decode_err("no `id`")),
    };
    if wire.deleted == Some(true) {
        return Err(Error::NotFound {
            backend: KIND,
            id: id.as_str().to_owned(),
        });
    }
    let mut c = Customer::new(id, raw);
    c.name = non_empty(wire.name);
    c.email = non_empty(wire.email);
    c.phone = non_empty(wire.phone);
    let address = wire.address.unwrap_or_default();
    c.address.line1 = non_empty(address.line1);
    c.address.line2 = non_empty(address.line2);
    c.address.city = non_empty(address.city);
    c.address.region = non_empty(address.state);
    c.address.postal_code = non_empty(address.postal_code);
    c.address.country = non_empty(address.country);
    c.currency = match non_empty(wire.currency) {
        None => None,
        Some(code) => Some(
            Currency::new(&code.to_ascii_uppercase())
                .map_err(|_| decode_err(format!("`currency` is not ISO 4217: `{code}`")))?,
        ),
    };
    let mut metadata = wire.metadata.unwrap_or_default();
    c.external_reference = metadata
        .remove(reference_key)
        .and_then(|v| json_text(Some(&v)))
        .filter(|s| !s.is_empty());
    c.custom = metadata;
    Ok(c)
}

// ----- validation ----------------------------------------------------------

/// Checks a metadata key against Stripe's rules: 1 to 40 characters, no
/// `[` or `]`. [`Error::Validation`] names `field`.
pub fn check_metadata_key(field: &str, key: &str) -> Result<()> {
    let n = key.chars().count();
    if n == 0 || n > MAX_METADATA_KEY_CHARS {
        return Err(Error::validation(
            field,
            format!(
                "a Stripe metadata key has 1 to {MAX_METADATA_KEY_CHARS} characters, this one {n}"
            ),
        ));
    }
    if key.contains(['[', ']']) {
        return Err(Error::validation(
            field,
            "a Stripe metadata key cannot contain `[` or `]`",
        ));
    }
    Ok(())
}

/// Checks a metadata value: at most 500 characters.
fn check_metadata_value(field: &str, value: &str) -> Result<()> {
    let n = value.chars().count();
    if n > MAX_METADATA_VALUE_CHARS {
        return Err(Error::validation(
            field,
            format!("a Stripe metadata value has at most {MAX_METADATA_VALUE_CHARS} characters, this one {n}"),
        ));
    }
    Ok(())
}

/// Everything Stripe would refuse in a patch that can be known without
/// asking it, beyond core's checks, before the first request; the error
/// names the field:
///
/// - email form;
/// - custom attributes are metadata: text values only (an Integer,
///   Decimal, Timestamp or Boolean is refused, naming `custom.KEY` and
///   the type), no `source` (Stripe keeps none), keys of at most 40
///   characters without `[`/`]`, values of at most 500 characters, and
///   not the external reference's key (set `external_reference`);
/// - the external reference's value: at most 500 characters;
/// - at most 50 metadata keys set by the patch. The limit concerns the
///   customer after the update, which only Stripe knows without a read:
///   a patch within 50 that takes the customer over is refused by Stripe
///   (a `400` naming `metadata`, see [`crate::error`]);
/// - the extension's rules ([`StripeExtension::validate`]).
pub fn validate(
    patch: &CustomerPatch,
    ext: Option<&StripeExtension>,
    reference_key: &str,
) -> Result<()> {
    if let Change::Set(email) = &patch.email {
        check::email(Field::Email.name(), email)?;
    }
    let mut set_keys = 0usize;
    for (key, change) in &patch.custom {
        let field = format!("custom.{key}");
        check_metadata_key(&field, key)?;
        if key == reference_key {
            return Err(Error::validation(
                field,
                format!("`{key}` is the metadata key of the external reference: change `external_reference` instead"),
            ));
        }
        if let Change::Set(attr) = change {
            let AttributeValue::String(text) = &attr.value else {
                return Err(Error::validation(
                    field,
                    format!(
                        "Stripe metadata holds text only; this value is of type {:?} (convert it to text first)",
                        attr.value.attribute_type()
                    ),
                ));
            };
            check_metadata_value(&field, text)?;
            if attr.source.is_some() {
                return Err(Error::validation(
                    format!("{field}.source"),
                    "Stripe metadata has no source; leave it out",
                ));
            }
            set_keys += 1;
        }
    }
    if let Change::Set(reference) = &patch.external_reference {
        check_metadata_value(Field::ExternalReference.name(), reference)?;
        set_keys += 1;
    }
    if set_keys > MAX_METADATA_KEYS {
        return Err(Error::validation(
            Field::CustomAttributes.name(),
            format!("the patch sets {set_keys} metadata keys; a Stripe customer holds at most {MAX_METADATA_KEYS}"),
        ));
    }
    if let Some(ext) = ext {
        ext.validate()?;
    }
    Ok(())
}

// ----- writing -------------------------------------------------------------

/// The neutral address fields with their Stripe names, in Stripe's order.
fn address_changes(patch: &CustomerPatch) -> [(&'static str, Change<String>); 6] {
    let a = &patch.address;
    [
        ("line1", a.line1.clone()),
        ("line2", a.line2.clone()),
        ("city", a.city.clone()),
        ("state", a.region.clone()),
        ("postal_code", a.postal_code.clone()),
        ("country", a.country.clone().map(|c| c.as_str().to_owned())),
    ]
}

/// Whether the patch changes some address fields but not all: Stripe
/// replaces the `address` sub-object whole, so the others must be sent
/// back as they are, which needs the current address (one `GET` first).
/// A patch that sets or clears all six, or none, needs no read.
pub fn needs_current_address(patch: &CustomerPatch) -> bool {
    let changes = address_changes(patch);
    let kept = changes.iter().filter(|(_, c)| c.is_keep()).count();
    kept != 0 && kept != changes.len()
}

fn text_param(form: &mut Form, key: &str, change: &Change<String>) {
    match change {
        Change::Set(v) => form.push(key, v.clone()),
        Change::Clear => form.push(key, ""),
        Change::Keep => {}
    }
}

/// The form parameters of the update, in this order: `name`, `email`,
/// `phone`, the address, the extension's fields, `metadata[...]` (the
/// external reference first). Only what changes is sent; `""` clears a
/// field or deletes a metadata key. `current_address` is the customer's
/// address as last read, needed when [`needs_current_address`] (a
/// customer without an address passes `None`); the whole address is then
/// sent, the unchanged fields as they were. Clearing all six fields sends
/// `address=`. Call [`validate`] first.
pub fn form(
    patch: &CustomerPatch,
    ext: Option<&StripeExtension>,
    reference_key: &str,
    current_address: Option<&AddressResponse>,
) -> Form {
    let mut f = Form::new();
    text_param(&mut f, "name", &patch.name);
    text_param(&mut f, "email", &patch.email);
    text_param(&mut f, "phone", &patch.phone);
    let changes = address_changes(patch);
    if changes.iter().all(|(_, c)| *c == Change::Clear) {
        f.push("address", "");
    } else if changes.iter().any(|(_, c)| !c.is_keep()) {
        let current = current_address.cloned().unwrap_or_default();
        let was = |name: &str| match name {
            "line1" => current.line1.clone(),
            "line2" => current.line2.clone(),
            "city" => current.city.clone(),
            "state" => current.state.clone(),
            "postal_code" => current.postal_code.clone(),
            _ => current.country.clone(),
        };
        for (name, change) in &changes {
            let value = match change {
                Change::Set(v) => v.clone(),
                Change::Clear => String::new(),
                Change::Keep => was(name).unwrap_or_default(),
            };
            f.push(format!("address[{name}]"), value);
        }
    }
    if let Some(ext) = ext {
        extension_params(&mut f, ext);
    }
    text_param(
        &mut f,
        &format!("metadata[{reference_key}]"),
        &patch.external_reference,
    );
    for (key, change) in &patch.custom {
        let key = format!("metadata[{key}]");
        match change {
            Change::Set(attr) => {
                if let AttributeValue::String(s) = &attr.value {
                    f.push(key, s.clone());
                }
            }
            Change::Clear => f.push(key, ""),
            Change::Keep => {}
        }
    }
    f
}

fn extension_params(f: &mut Form, ext: &StripeExtension) {
    text_param(f, "description", &ext.description);
    match &ext.preferred_locales {
        Change::Set(locales) => {
            for (i, l) in locales.iter().enumerate() {
                f.push(format!("preferred_locales[{i}]"), l.clone());
            }
        }
        Change::Clear => f.push("preferred_locales", ""),
        Change::Keep => {}
    }
    text_param(f, "invoice_settings[footer]", &ext.invoice_footer);
    if let Change::Set(t) = &ext.tax_exempt {
        f.push("tax_exempt", t.as_str());
    }
    match &ext.shipping {
        Change::Set(s) => {
            f.push("shipping[name]", s.name.clone());
            if let Some(phone) = &s.phone {
                f.push("shipping[phone]", phone.clone());
            }
            for (name, value) in s.address.fields() {
                if let Some(v) = value {
                    f.push(format!("shipping[address][{name}]"), v.clone());
                }
            }
        }
        Change::Clear => f.push("shipping", ""),
        Change::Keep => {}
    }
}

/// The neutral name of a Stripe parameter an error names (`param`):
/// `address[state]` is `address.region`, `metadata[plan]` is
/// `custom.plan` (or `external_reference` for the reference's key), the
/// extension's parameters are `extensions.stripe.*`. `None` for a
/// parameter this backend does not send.
///
/// ```
/// use unibill_stripe::mapping::neutral_field;
/// assert_eq!(neutral_field("address[state]", "external_id").as_deref(), Some("address.region"));
/// assert_eq!(neutral_field("metadata[external_id]", "external_id").as_deref(), Some("external_reference"));
/// ```
pub fn neutral_field(param: &str, reference_key: &str) -> Option<String> {
    let ext = |name: &str| Some(format!("extensions.stripe.{name}"));
    if let Some(inner) = param
        .strip_prefix("address[")
        .and_then(|r| r.strip_suffix(']'))
    {
        let name = match inner {
            "state" => "region",
            "line1" | "line2" | "city" | "postal_code" | "country" => inner,
            _ => return None,
        };
        return Some(format!("address.{name}"));
    }
    if let Some(key) = param
        .strip_prefix("metadata[")
        .and_then(|r| r.strip_suffix(']'))
    {
        return Some(if key == reference_key {
            Field::ExternalReference.name().to_owned()
        } else {
            format!("custom.{key}")
        });
    }
    match param {
        "name" => Some(Field::DisplayName.name().to_owned()),
        "email" | "phone" | "id" => Some(param.to_owned()),
        "address" => Some("address".to_owned()),
        "metadata" => Some(Field::CustomAttributes.name().to_owned()),
        "description" | "tax_exempt" => ext(param),
        "invoice_settings[footer]" => ext("invoice_footer"),
        p if p.starts_with("preferred_locales") => ext("preferred_locales"),
        p if p.starts_with("shipping") => ext("shipping"),
        _ => None,
    }
}
