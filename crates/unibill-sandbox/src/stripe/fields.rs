//! `POST /v1/customers/{id}`: the parameters an update may send, as one
//! table of field rules ([`UPDATE_FIELDS`]), and the update over it.
//!
//! Parameters are applied in the order sent to a copy of the customer;
//! the first one refused answers 400 and nothing changes. `""` clears a
//! field (`name=`, `address=`); `metadata[key]=` removes one key and
//! `metadata=` all of them (the "Metadata" page).

use serde_json::{json, Map, Value};

use super::errors::{invalid, invalid_code, missing_parameter, unknown_parameter};
use super::form::Param;
use super::state::empty_address;
use super::{
    MAX_EMAIL_CHARS, MAX_METADATA_KEYS, MAX_METADATA_KEY_CHARS, MAX_METADATA_VALUE_CHARS,
    TAX_EXEMPT_VALUES,
};
use crate::http::{plausible_email, Resp};

/// How a parameter's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// A string, at most this many characters when a limit is known;
    /// `""` stores `null`.
    Text(Option<usize>),
    /// An email address of at most [`MAX_EMAIL_CHARS`]; `""` stores `null`.
    Email,
    /// A whole number.
    Integer,
    /// 3-12 upper-case letters or digits.
    InvoicePrefix,
    /// One of these strings; `""` stores the first.
    OneOf(&'static [&'static str]),
    /// `city`, `country`, `line1`, `line2`, `postal_code`, `state`; `""`
    /// stores `null`.
    Address,
    /// `name` and `address` required, `phone` optional; `""` stores `null`.
    Shipping,
    /// `custom_fields`, `footer`, `default_payment_method`.
    InvoiceSettings,
    /// Merged key by key.
    Metadata,
    /// A list of strings; `""` stores `[]`.
    Locales,
}

/// Every parameter an update may send, with its rule ("Update a
/// customer", <https://docs.stripe.com/api/customers/update>).
const UPDATE_FIELDS: &[(&str, Rule)] = &[
    ("address", Rule::Address),
    ("balance", Rule::Integer),
    ("description", Rule::Text(None)),
    ("email", Rule::Email),
    ("invoice_prefix", Rule::InvoicePrefix),
    ("invoice_settings", Rule::InvoiceSettings),
    ("metadata", Rule::Metadata),
    ("name", Rule::Text(None)),
    ("next_invoice_sequence", Rule::Integer),
    ("phone", Rule::Text(None)),
    ("preferred_locales", Rule::Locales),
    ("shipping", Rule::Shipping),
    ("tax_exempt", Rule::OneOf(TAX_EXEMPT_VALUES)),
];

/// Documented update parameters the emulator does not model (payment
/// sources, discounts, tax ids, cash balances, expansions): a request
/// that sends one gets the not-emulated answer, never a vendor refusal.
pub(super) const NOT_MODELLED: &[&str] = &[
    "cash_balance",
    "coupon",
    "default_source",
    "discounts",
    "expand",
    "promotion_code",
    "source",
    "tax",
];

/// The fields of an address hash.
const ADDRESS_FIELDS: &[&str] = &["city", "country", "line1", "line2", "postal_code", "state"];

/// Most custom fields on a customer's invoices, and their name and value
/// lengths ("Update a customer", `invoice_settings.custom_fields`).
const MAX_CUSTOM_FIELDS: usize = 4;
const MAX_CUSTOM_FIELD_NAME_CHARS: usize = 40;
const MAX_CUSTOM_FIELD_VALUE_CHARS: usize = 140;

/// Why an update was not applied.
pub(super) enum Refusal {
    /// A 400 in Stripe's envelope.
    Vendor(Resp),
    /// A documented parameter the emulator does not model.
    NotModelled,
}

impl From<Resp> for Refusal {
    fn from(resp: Resp) -> Self {
        Refusal::Vendor(resp)
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The plain value of `param`, or the 400 for a hash or list sent instead.
fn text<'a>(name: &str, value: &'a Param) -> Result<&'a str, Resp> {
    match value {
        Param::Str(s) => Ok(s),
        _ => Err(invalid(
            name,
            &format!("Invalid string: {name} must be a string, not a hash or a list"),
        )),
    }
}

fn nullable(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        json!(s)
    }
}

/// An address hash read from `entries` (under parameter `name`): every
/// field absent from it is `null`, as the whole address is replaced.
fn address(name: &str, entries: &[(String, Param)]) -> Result<Value, Resp> {
    let mut out = empty_address();
    for (k, v) in entries {
        let param = format!("{name}[{k}]");
        if !ADDRESS_FIELDS.contains(&k.as_str()) {
            return Err(unknown_parameter(&param));
        }
        out[k.as_str()] = nullable(text(&param, v)?);
    }
    Ok(out)
}

impl Rule {
    /// Applies `value` of parameter `name` to `customer`.
    fn apply(self, name: &str, value: &Param, customer: &mut Value) -> Result<(), Refusal> {
        match self {
            Rule::Text(max) => {
                let s = text(name, value)?;
                if let Some(max) = max.filter(|m| chars(s) > *m) {
                    return Err(invalid(
                        name,
                        &format!("Invalid string: {name} must be at most {max} characters"),
                    )
                    .into());
                }
                customer[name] = nullable(s);
            }
            Rule::Email => {
                let s = text(name, value)?;
                if chars(s) > MAX_EMAIL_CHARS {
                    return Err(invalid(
                        name,
                        &format!(
                            "Invalid string: email must be at most {MAX_EMAIL_CHARS} characters"
                        ),
                    )
                    .into());
                }
                if !s.is_empty() && !plausible_email(s, false) {
                    return Err(invalid_code(
                        "email_invalid",
                        name,
                        &format!("Invalid email address: {s}"),
                    )
                    .into());
                }
                customer[name] = nullable(s);
            }
            Rule::Integer => {
                let s = text(name, value)?;
                match s.parse::<i64>() {
                    Ok(n) => customer[name] = json!(n),
                    Err(_) => {
                        return Err(invalid_code(
                            "parameter_invalid_integer",
                            name,
                            &format!("Invalid integer: {s}"),
                        )
                        .into())
                    }
                }
            }
            Rule::InvoicePrefix => {
                let s = text(name, value)?;
                let ok = (3..=12).contains(&s.len())
                    && s.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
                if !ok {
                    return Err(invalid(
                        name,
                        "Invalid invoice_prefix: it must be 3-12 upper-case letters or digits",
                    )
                    .into());
                }
                customer[name] = json!(s);
            }
            Rule::OneOf(allowed) => {
                let s = text(name, value)?;
                let stored = if s.is_empty() { allowed[0] } else { s };
                if !allowed.contains(&stored) {
                    return Err(invalid(
                        name,
                        &format!("Invalid {name}: must be one of {}", allowed.join(", ")),
                    )
                    .into());
                }
                customer[name] = json!(stored);
            }
            Rule::Address => {
                customer[name] = match value {
                    Param::Str(s) if s.is_empty() => Value::Null,
                    Param::Map(entries) => address(name, entries)?,
                    _ => {
                        return Err(invalid(
                            name,
                            "Invalid object: address must be a hash, or \"\" to clear it",
                        )
                        .into())
                    }
                };
            }
            Rule::Shipping => {
                customer[name] = match value {
                    Param::Str(s) if s.is_empty() => Value::Null,
                    Param::Map(entries) => {
                        let mut out = json!({"address": null, "name": null, "phone": null});
                        for (k, v) in entries {
                            let param = format!("{name}[{k}]");
                            match (k.as_str(), v) {
                                ("address", Param::Map(fields)) => {
                                    out["address"] = address(&param, fields)?
                                }
                                ("address", _) => {
                                    return Err(invalid(
                                        &param,
                                        "Invalid object: shipping[address] must be a hash",
                                    )
                                    .into())
                                }
                                ("name" | "phone", v) => {
                                    out[k.as_str()] = nullable(text(&param, v)?)
                                }
                                _ => return Err(unknown_parameter(&param).into()),
                            }
                        }
                        for required in ["address", "name"] {
                            if out[required].is_null() {
                                return Err(
                                    missing_parameter(&format!("{name}[{required}]")).into()
                                );
                            }
                        }
                        out
                    }
                    _ => {
                        return Err(invalid(
                            name,
                            "Invalid object: shipping must be a hash, or \"\" to clear it",
                        )
                        .into())
                    }
                };
            }
            Rule::InvoiceSettings => {
                let Param::Map(entries) = value else {
                    return Err(
                        invalid(name, "Invalid object: invoice_settings must be a hash").into(),
                    );
                };
                for (k, v) in entries {
                    let param = format!("{name}[{k}]");
                    match k.as_str() {
                        "footer" => customer[name]["footer"] = nullable(text(&param, v)?),
                        "custom_fields" => {
                            customer[name]["custom_fields"] = custom_fields(&param, v)?
                        }
                        "default_payment_method" => {
                            let s = text(&param, v)?;
                            if !s.is_empty() {
                                // The emulator holds no payment methods.
                                return Err(super::errors::error(
                                    400,
                                    super::errors::INVALID_REQUEST,
                                    Some("resource_missing"),
                                    Some(&param),
                                    &format!("No such PaymentMethod: '{s}'"),
                                )
                                .into());
                            }
                            customer[name]["default_payment_method"] = Value::Null;
                        }
                        "rendering_options" => return Err(Refusal::NotModelled),
                        _ => return Err(unknown_parameter(&param).into()),
                    }
                }
            }
            Rule::Metadata => customer[name] = metadata(customer.get(name), value)?,
            Rule::Locales => {
                customer[name] = match value {
                    Param::Str(s) if s.is_empty() => json!([]),
                    other => match other.as_list() {
                        Some(items) => {
                            let mut locales = Vec::with_capacity(items.len());
                            for (i, item) in items.into_iter().enumerate() {
                                locales.push(json!(text(&format!("{name}[{i}]"), item)?));
                            }
                            Value::Array(locales)
                        }
                        None => {
                            return Err(invalid(
                                name,
                                "Invalid array: preferred_locales must be a list",
                            )
                            .into())
                        }
                    },
                };
            }
        }
        Ok(())
    }
}

/// `invoice_settings[custom_fields]`: a list of `{name, value}`, at most
/// four; `""` clears them.
fn custom_fields(param: &str, value: &Param) -> Result<Value, Resp> {
    if matches!(value, Param::Str(s) if s.is_empty()) {
        return Ok(Value::Null);
    }
    let Some(items) = value.as_list() else {
        return Err(invalid(
            param,
            "Invalid array: custom_fields must be a list",
        ));
    };
    if items.len() > MAX_CUSTOM_FIELDS {
        return Err(invalid(
            param,
            &format!("Invalid array: at most {MAX_CUSTOM_FIELDS} custom fields"),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Param::Map(entries) = item else {
            return Err(invalid(
                &format!("{param}[{i}]"),
                "Invalid object: a custom field is a hash",
            ));
        };
        let mut field = json!({"name": null, "value": null});
        for (k, v) in entries {
            let at = format!("{param}[{i}][{k}]");
            let max = match k.as_str() {
                "name" => MAX_CUSTOM_FIELD_NAME_CHARS,
                "value" => MAX_CUSTOM_FIELD_VALUE_CHARS,
                _ => return Err(unknown_parameter(&at)),
            };
            let s = text(&at, v)?;
            if chars(s) > max {
                return Err(invalid(
                    &at,
                    &format!("Invalid string: {k} must be at most {max} characters"),
                ));
            }
            field[k.as_str()] = json!(s);
        }
        for required in ["name", "value"] {
            if field[required].is_null() {
                return Err(missing_parameter(&format!("{param}[{i}][{required}]")));
            }
        }
        out.push(field);
    }
    Ok(Value::Array(out))
}

/// The customer's metadata after `value`: `""` removes every key, a hash
/// sets its keys and removes those sent as `""`. At most
/// [`MAX_METADATA_KEYS`] keys afterwards, keys of at most
/// [`MAX_METADATA_KEY_CHARS`] characters without square brackets, values
/// of at most [`MAX_METADATA_VALUE_CHARS`]. Every refusal names `metadata`
/// in `param`, as Stripe's answers do.
fn metadata(current: Option<&Value>, value: &Param) -> Result<Value, Resp> {
    let mut map: Map<String, Value> = current
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    match value {
        Param::Str(s) if s.is_empty() => return Ok(json!({})),
        Param::Map(entries) => {
            for (k, v) in entries {
                if k.is_empty() || k.contains('[') || k.contains(']') {
                    return Err(invalid("metadata", &format!("Invalid key: '{k}': metadata keys must be non-empty and cannot contain square brackets")));
                }
                if chars(k) > MAX_METADATA_KEY_CHARS {
                    return Err(invalid("metadata", &format!("Invalid key: {k} must be a string under {MAX_METADATA_KEY_CHARS} characters")));
                }
                let Param::Str(v) = v else {
                    return Err(invalid(
                        "metadata",
                        &format!("Invalid value type: metadata[{k}] must be a string"),
                    ));
                };
                if chars(v) > MAX_METADATA_VALUE_CHARS {
                    return Err(invalid("metadata", &format!("Invalid val: metadata[{k}] must be a string under {MAX_METADATA_VALUE_CHARS} characters")));
                }
                if v.is_empty() {
                    map.remove(k);
                } else {
                    map.insert(k.clone(), json!(v));
                }
            }
        }
        _ => {
            return Err(invalid(
                "metadata",
                "Invalid object: metadata must be a hash, or \"\" to remove every key",
            ))
        }
    }
    if map.len() > MAX_METADATA_KEYS {
        return Err(invalid(
            "metadata",
            &format!(
                "Metadata can have up to {MAX_METADATA_KEYS} keys, but you've set {}.",
                map.len()
            ),
        ));
    }
    Ok(Value::Object(map))
}

/// `customer` with the update's `params` applied, or why not.
pub(super) fn updated(customer: &Value, params: &[(String, Param)]) -> Result<Value, Refusal> {
    let mut out = customer.clone();
    for (name, value) in params {
        if NOT_MODELLED.contains(&name.as_str()) {
            return Err(Refusal::NotModelled);
        }
        let Some((_, rule)) = UPDATE_FIELDS.iter().find(|(n, _)| n == name) else {
            return Err(unknown_parameter(name).into());
        };
        rule.apply(name, value, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stripe::form::parse;

    fn apply(customer: &Value, body: &str) -> Result<Value, Value> {
        let (params, _) = parse(body.as_bytes()).unwrap();
        match updated(customer, &params) {
            Ok(c) => Ok(c),
            Err(Refusal::Vendor(r)) => {
                assert_eq!(r.status, 400);
                Err(serde_json::from_slice::<Value>(&r.body).unwrap()["error"].clone())
            }
            Err(Refusal::NotModelled) => Err(json!("not modelled")),
        }
    }

    fn seed() -> Value {
        crate::stripe::seed_customers()[2].clone()
    }

    #[test]
    fn sets_clears_and_merges() {
        let c = apply(
            &seed(),
            "name=New+Name&address[city]=Paris&address[country]=FR&metadata[plan]=gold&metadata[external_id]=&phone=&preferred_locales[0]=fr&preferred_locales[1]=en&tax_exempt=reverse&balance=-250&invoice_settings[footer]=Thanks&invoice_settings[custom_fields][0][name]=PO&invoice_settings[custom_fields][0][value]=42",
        )
        .unwrap();
        assert_eq!(c["name"], "New Name");
        assert_eq!(
            c["address"],
            json!({"city": "Paris", "country": "FR", "line1": null, "line2": null, "postal_code": null, "state": null})
        );
        assert_eq!(c["metadata"], json!({"plan": "gold"}));
        assert_eq!(c["phone"], Value::Null);
        assert_eq!(c["preferred_locales"], json!(["fr", "en"]));
        assert_eq!(c["tax_exempt"], "reverse");
        assert_eq!(c["balance"], -250);
        assert_eq!(c["invoice_settings"]["footer"], "Thanks");
        assert_eq!(
            c["invoice_settings"]["custom_fields"],
            json!([{"name": "PO", "value": "42"}])
        );
        let c = apply(
            &c,
            "address=&metadata=&preferred_locales=&name=&tax_exempt=",
        )
        .unwrap();
        assert_eq!(c["address"], Value::Null);
        assert_eq!(c["metadata"], json!({}));
        assert_eq!(c["preferred_locales"], json!([]));
        assert_eq!(c["name"], Value::Null);
        assert_eq!(c["tax_exempt"], "none");
        // An empty update changes nothing.
        assert_eq!(apply(&seed(), "").unwrap(), seed());
    }

    #[test]
    fn refusals_name_the_param() {
        let cases = [
            ("nickname=x", "nickname", Some("parameter_unknown")),
            ("address[zip]=1", "address[zip]", Some("parameter_unknown")),
            ("address=Paris", "address", None),
            ("name[first]=A", "name", None),
            ("balance=ten", "balance", Some("parameter_invalid_integer")),
            ("tax_exempt=maybe", "tax_exempt", None),
            ("invoice_prefix=ab", "invoice_prefix", None),
            ("email=not-an-email", "email", Some("email_invalid")),
            (
                "shipping[name]=A",
                "shipping[address]",
                Some("parameter_missing"),
            ),
            (
                "invoice_settings[default_payment_method]=pm_x",
                "invoice_settings[default_payment_method]",
                Some("resource_missing"),
            ),
            ("metadata[a[b]]=1", "metadata", None),
        ];
        for (body, param, code) in cases {
            let err = apply(&seed(), body).unwrap_err();
            assert_eq!(err["param"], param, "{body}: {err}");
            assert_eq!(err["type"], "invalid_request_error", "{body}");
            assert_eq!(
                err.get("code").and_then(Value::as_str),
                code,
                "{body}: {err}"
            );
        }
        let long_email = format!("email={}@example.com", "a".repeat(501));
        assert_eq!(apply(&seed(), &long_email).unwrap_err()["param"], "email");
        assert_eq!(
            apply(&seed(), "coupon=X").unwrap_err(),
            json!("not modelled")
        );
        assert_eq!(
            apply(&seed(), "invoice_settings[rendering_options][template]=x").unwrap_err(),
            json!("not modelled")
        );
    }

    #[test]
    fn metadata_limits() {
        let key41 = format!("metadata[{}]=v", "k".repeat(41));
        let key40 = format!("metadata[{}]=v", "k".repeat(40));
        let val501 = format!("metadata[k]={}", "v".repeat(501));
        let val500 = format!("metadata[k]={}", "v".repeat(500));
        assert!(apply(&seed(), &key40).is_ok());
        assert!(apply(&seed(), &val500).is_ok());
        for body in [key41, val501] {
            assert_eq!(apply(&seed(), &body).unwrap_err()["param"], "metadata");
        }
        // The seed holds two keys: 48 more make 50, 49 more make 51.
        let many = |n: usize| {
            (0..n)
                .map(|i| format!("metadata[k{i}]=v"))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert!(apply(&seed(), &many(48)).is_ok());
        let err = apply(&seed(), &many(49)).unwrap_err();
        assert_eq!(err["param"], "metadata");
        assert!(err["message"].as_str().unwrap().contains("51"), "{err}");
        // Removing keys in the same update counts.
        assert!(apply(&seed(), &format!("{}&metadata[plan]=", many(49))).is_ok());
    }
}
