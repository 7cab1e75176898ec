//! [`StripeExtension`]: the customer fields only Stripe has.

use serde::{Deserialize, Serialize};
use unibill_core::{check, Change, Error, PatchExtension, Result};

/// Fields of a Stripe customer that have no neutral equivalent, carried in
/// a [`unibill_core::CustomerPatch`] under the key `"stripe"` (other
/// backends ignore it).
///
/// ```
/// use unibill_core::{Change, CustomerPatch};
/// use unibill_stripe::{Shipping, StripeExtension, TaxExempt};
///
/// let patch = CustomerPatch::new().extension(
///     StripeExtension::new()
///         .description("Key account")
///         .preferred_locales(["fr", "en"])
///         .tax_exempt(TaxExempt::Reverse)
///         .shipping(Shipping::new("Jenny Rosen").city("Paris").country("FR"))
///         .clear_invoice_footer(),
/// );
/// let json = serde_json::to_value(&patch).unwrap();
/// assert_eq!(json["extensions"]["stripe"]["tax_exempt"], "reverse");
/// assert!(json["extensions"]["stripe"]["invoice_footer"].is_null());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StripeExtension {
    /// `description`: a free text shown in the Dashboard (the neutral
    /// model has no description field).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub description: Change<String>,
    /// `preferred_locales`: the customer's languages, most preferred
    /// first (e.g. `["fr", "en"]`); the whole list is replaced.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub preferred_locales: Change<Vec<String>>,
    /// `invoice_settings[footer]`: the default footer of the customer's
    /// invoices.
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub invoice_footer: Change<String>,
    /// `tax_exempt`: `none`, `exempt` or `reverse`. It cannot be cleared:
    /// set [`TaxExempt::None`].
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub tax_exempt: Change<TaxExempt>,
    /// `shipping`: name, phone and address for shipping, replaced whole
    /// (Stripe requires the name with any shipping change).
    #[serde(default, skip_serializing_if = "Change::is_keep")]
    pub shipping: Change<Shipping>,
}

impl PatchExtension for StripeExtension {
    const KEY: &'static str = "stripe";
}

/// Setters in the style every backend extension shares: `set(impl
/// Into<T>)` and `clear_set()`.
macro_rules! setters {
    ($( $field:ident : $ty:ty => $set:ident, $clear:ident; )*) => {
        $(
            #[doc = concat!("Sets `", stringify!($field), "`.")]
            pub fn $set(mut self, value: impl Into<$ty>) -> Self {
                self.$field = Change::Set(value.into());
                self
            }
            #[doc = concat!("Clears `", stringify!($field), "`.")]
            pub fn $clear(mut self) -> Self {
                self.$field = Change::Clear;
                self
            }
        )*
    };
}

impl StripeExtension {
    /// An extension that changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        description: String => description, clear_description;
        invoice_footer: String => invoice_footer, clear_invoice_footer;
        shipping: Shipping => shipping, clear_shipping;
    }

    /// Sets `preferred_locales` (the whole list).
    pub fn preferred_locales<L: Into<String>>(
        mut self,
        locales: impl IntoIterator<Item = L>,
    ) -> Self {
        self.preferred_locales = Change::Set(locales.into_iter().map(Into::into).collect());
        self
    }

    /// Clears `preferred_locales`.
    pub fn clear_preferred_locales(mut self) -> Self {
        self.preferred_locales = Change::Clear;
        self
    }

    /// Sets `tax_exempt`.
    pub fn tax_exempt(mut self, value: TaxExempt) -> Self {
        self.tax_exempt = Change::Set(value);
        self
    }

    /// True when the extension changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Checks what the types cannot rule out, before any request: texts
    /// (not blank, no control characters), locales (non-empty list of
    /// non-blank tags), a shipping name, and `tax_exempt` not cleared. The
    /// error names the field (`extensions.stripe.shipping.name`).
    pub fn validate(&self) -> Result<()> {
        let field = |name: &str| format!("extensions.stripe.{name}");
        if let Change::Set(text) = &self.description {
            check::text(&field("description"), text)?;
        }
        if let Change::Set(text) = &self.invoice_footer {
            check::text(&field("invoice_footer"), text)?;
        }
        if let Change::Set(locales) = &self.preferred_locales {
            if locales.is_empty() {
                return Err(Error::validation(
                    field("preferred_locales"),
                    "empty list; clear the field instead",
                ));
            }
            for (i, locale) in locales.iter().enumerate() {
                check::text(&field(&format!("preferred_locales.{i}")), locale)?;
            }
        }
        if self.tax_exempt == Change::Clear {
            return Err(Error::validation(
                field("tax_exempt"),
                "cannot be cleared: Stripe takes `none`, `exempt` or `reverse` (set `none`)",
            ));
        }
        if let Change::Set(shipping) = &self.shipping {
            check::text(&field("shipping.name"), &shipping.name)?;
            if let Some(phone) = &shipping.phone {
                check::text(&field("shipping.phone"), phone)?;
            }
            for (name, value) in shipping.address.fields() {
                if let Some(v) = value {
                    check::text(&field(&format!("shipping.address.{name}")), v)?;
                }
            }
        }
        Ok(())
    }
}

/// A customer's tax status (`tax_exempt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaxExempt {
    /// `none`: taxed normally.
    None,
    /// `exempt`: not taxed.
    Exempt,
    /// `reverse`: reverse charge ("Reverse charge" on invoices).
    Reverse,
}

impl TaxExempt {
    /// Stripe's value.
    pub fn as_str(self) -> &'static str {
        match self {
            TaxExempt::None => "none",
            TaxExempt::Exempt => "exempt",
            TaxExempt::Reverse => "reverse",
        }
    }
}

/// The customer's `shipping` details, sent whole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Shipping {
    /// Recipient name (required by Stripe).
    pub name: String,
    /// Recipient phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Shipping address.
    #[serde(default)]
    pub address: ShippingAddress,
}

impl Shipping {
    /// Shipping details for this recipient, with no phone or address yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Sets the phone.
    pub fn phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    /// Sets the first address line.
    pub fn line1(mut self, v: impl Into<String>) -> Self {
        self.address.line1 = Some(v.into());
        self
    }

    /// Sets the second address line.
    pub fn line2(mut self, v: impl Into<String>) -> Self {
        self.address.line2 = Some(v.into());
        self
    }

    /// Sets the city.
    pub fn city(mut self, v: impl Into<String>) -> Self {
        self.address.city = Some(v.into());
        self
    }

    /// Sets the state, county, province or region.
    pub fn state(mut self, v: impl Into<String>) -> Self {
        self.address.state = Some(v.into());
        self
    }

    /// Sets the postal code.
    pub fn postal_code(mut self, v: impl Into<String>) -> Self {
        self.address.postal_code = Some(v.into());
        self
    }

    /// Sets the two-letter country code.
    pub fn country(mut self, v: impl Into<String>) -> Self {
        self.address.country = Some(v.into());
        self
    }
}

/// The address of [`Shipping`], with Stripe's field names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ShippingAddress {
    /// First line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    /// Second line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State, county, province or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Two-letter country code (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl ShippingAddress {
    /// The fields with their Stripe names, in Stripe's order.
    pub fn fields(&self) -> [(&'static str, Option<&String>); 6] {
        [
            ("line1", self.line1.as_ref()),
            ("line2", self.line2.as_ref()),
            ("city", self.city.as_ref()),
            ("state", self.state.as_ref()),
            ("postal_code", self.postal_code.as_ref()),
            ("country", self.country.as_ref()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_match_the_struct_form() {
        let built = StripeExtension::new()
            .description("d")
            .preferred_locales(["fr", "en"])
            .clear_invoice_footer()
            .tax_exempt(TaxExempt::Exempt)
            .shipping(Shipping::new("N").phone("+33").line1("1 rue").country("FR"));
        let literal = StripeExtension {
            description: Change::Set("d".into()),
            preferred_locales: Change::Set(vec!["fr".into(), "en".into()]),
            invoice_footer: Change::Clear,
            tax_exempt: Change::Set(TaxExempt::Exempt),
            shipping: Change::Set(Shipping {
                name: "N".into(),
                phone: Some("+33".into()),
                address: ShippingAddress {
                    line1: Some("1 rue".into()),
                    country: Some("FR".into()),
                    ..ShippingAddress::default()
                },
            }),
        };
        assert_eq!(built, literal);
        assert!(StripeExtension::new().is_empty());
        assert!(!built.is_empty());
        assert_eq!(
            StripeExtension::new().clear_description().description,
            Change::Clear
        );
        assert_eq!(
            StripeExtension::new()
                .clear_preferred_locales()
                .preferred_locales,
            Change::Clear
        );
        assert_eq!(
            StripeExtension::new().clear_shipping().shipping,
            Change::Clear
        );
    }

    #[test]
    fn json_form_round_trips_and_refuses_unknown_keys() {
        let ext = StripeExtension::new()
            .tax_exempt(TaxExempt::None)
            .clear_description();
        let json = serde_json::to_value(&ext).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"description": null, "tax_exempt": "none"})
        );
        assert_eq!(
            serde_json::from_value::<StripeExtension>(json).unwrap(),
            ext
        );
        assert!(
            serde_json::from_value::<StripeExtension>(serde_json::json!({"footer": "x"})).is_err()
        );
        assert!(serde_json::from_value::<StripeExtension>(
            serde_json::json!({"tax_exempt": "maybe"})
        )
        .is_err());
    }

    #[test]
    fn validation_names_the_field() {
        let field_of = |ext: StripeExtension| match ext.validate().unwrap_err() {
            Error::Validation { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field_of(StripeExtension {
                tax_exempt: Change::Clear,
                ..Default::default()
            }),
            "extensions.stripe.tax_exempt"
        );
        assert_eq!(
            field_of(StripeExtension::new().preferred_locales(Vec::<String>::new())),
            "extensions.stripe.preferred_locales"
        );
        assert_eq!(
            field_of(StripeExtension::new().preferred_locales(["fr", " "])),
            "extensions.stripe.preferred_locales.1"
        );
        assert_eq!(
            field_of(StripeExtension::new().shipping(Shipping::new(" "))),
            "extensions.stripe.shipping.name"
        );
        assert_eq!(
            field_of(StripeExtension::new().shipping(Shipping::new("N").city("\u{1b}x"))),
            "extensions.stripe.shipping.address.city"
        );
        assert_eq!(
            field_of(StripeExtension::new().description("")),
            "extensions.stripe.description"
        );
        assert!(StripeExtension::new()
            .shipping(Shipping::new("N").city("Paris"))
            .clear_invoice_footer()
            .validate()
            .is_ok());
    }
}
