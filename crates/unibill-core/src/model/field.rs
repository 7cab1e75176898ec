//! The neutral field table: one row per field, from which the neutral
//! model is generated: [`Field`] with its names and kinds, the struct
//! fields (and docs) of [`Customer`] and [`CustomerPatch`] and of their
//! address and acquisition groups, [`Customer::new`], the groups'
//! `is_empty`, the [`CustomerPatch`] setters, access by field on a patch
//! ([`CustomerPatch::touched`], [`CustomerPatch::without`],
//! [`CustomerPatch::set_text`], [`CustomerPatch::clear`],
//! [`CustomerPatch::text`]) and on a customer ([`Customer::get`]).
//!
//! Adding a neutral field is one row in the table below: `touched`,
//! `without`, the per-field part of `validate`, the capability table and
//! the tests that walk [`Field::ALL`] follow from the row.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use serde::de::IntoDeserializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attribute::{check_attribute_key, CustomAttribute};
use crate::capability::Op;
use crate::change::Change;
use crate::customer::Customer;
use crate::error::Error;
use crate::patch::{CustomerPatch, TagChanges};
use crate::status::CustomerStatus;
use crate::values::{CountryCode, Currency, Money};

/// What kind of value a [`Field`] holds, which says what
/// [`CustomerPatch::set_text`] accepts for it and which [`FieldValue`]
/// variant [`Customer::get`] answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldKind {
    /// Free text (names, emails, address lines, ...), checked by the rule
    /// of [`crate::check::text`] with [`Field::max_chars`] as the limit.
    Text,
    /// An ISO 3166-1 alpha-2 country code ([`CountryCode`]); a customer
    /// reports it as the vendor wrote it.
    Country,
    /// An ISO 4217 currency ([`Currency`]).
    Currency,
    /// A [`CustomerStatus`].
    Status,
    /// A point in time.
    Timestamp,
    /// Minor units and currency ([`Money`]); read only.
    Money,
    /// Tags (a patch adds and removes them).
    Tags,
    /// Typed custom attributes (a patch sets and clears them by key).
    CustomAttributes,
}

/// One field's value on a [`Customer`], as returned by [`Customer::get`]:
/// a borrowed view, one variant per [`FieldKind`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum FieldValue<'a> {
    /// A text field, or the country as the vendor wrote it.
    Text(&'a str),
    /// The status.
    Status(&'a CustomerStatus),
    /// The billing currency.
    Currency(&'a Currency),
    /// A timestamp, in the offset the vendor sent.
    Timestamp(&'a DateTime<FixedOffset>),
    /// An amount (MRR, ARR).
    Money(&'a Money),
    /// The tags (never empty: no tags is `None`).
    Tags(&'a [String]),
    /// The custom attributes' values (never empty: none is `None`).
    CustomAttributes(&'a BTreeMap<String, Value>),
}

impl FieldValue<'_> {
    /// The value as neutral JSON: the same JSON that serializing the
    /// whole [`Customer`] puts at [`Field::name`].
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A value type a [`CustomerPatch`] holds as a [`Change`]: how it is read
/// from text and what `validate` checks on it.
trait SlotValue: Sized {
    fn parse(field: Field, text: &str) -> Result<Self, Error>;
    fn check(&self, _field: Field) -> Result<(), Error> {
        Ok(())
    }
}

impl SlotValue for String {
    fn parse(_: Field, text: &str) -> Result<Self, Error> {
        Ok(text.to_owned())
    }
    fn check(&self, field: Field) -> Result<(), Error> {
        let max = field.max_chars().unwrap_or(crate::check::MAX_TEXT_CHARS);
        crate::check::text_within(field.name(), self, max)
    }
}

impl SlotValue for CountryCode {
    fn parse(_: Field, text: &str) -> Result<Self, Error> {
        CountryCode::new(text)
    }
}

impl SlotValue for Currency {
    fn parse(_: Field, text: &str) -> Result<Self, Error> {
        Currency::new(text)
    }
}

impl SlotValue for CustomerStatus {
    fn parse(field: Field, text: &str) -> Result<Self, Error> {
        // Its JSON form: a neutral name, or any other text as `Other`.
        CustomerStatus::deserialize(text.into_deserializer())
            .map_err(|e: serde::de::value::Error| Error::validation(field.name(), e.to_string()))
    }
    fn check(&self, field: Field) -> Result<(), Error> {
        match self {
            CustomerStatus::Other(s) if s.trim().is_empty() => {
                Err(Error::validation(field.name(), "empty status"))
            }
            _ => Ok(()),
        }
    }
}

impl SlotValue for DateTime<Utc> {
    fn parse(field: Field, text: &str) -> Result<Self, Error> {
        crate::attribute::parse_timestamp(text)
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| {
                Error::validation(field.name(), format!("`{text}` is not an ISO 8601 time"))
            })
    }
    fn check(&self, field: Field) -> Result<(), Error> {
        crate::check::timestamp(field.name(), self)
    }
}

/// One field's place in a [`CustomerPatch`], whatever its type.
trait PatchSlot: Any {
    fn touches(&self, op: Op) -> bool;
    fn remove(&mut self, op: Op);
    fn set_text(&mut self, field: Field, text: &str) -> Result<(), Error>;
    fn clear(&mut self, field: Field) -> Result<(), Error>;
    fn check(&self, field: Field) -> Result<(), Error>;
}

fn matches_op<T>(c: &Change<T>, op: Op) -> bool {
    matches!(
        (c, op),
        (Change::Set(_), Op::Set) | (Change::Clear, Op::Clear)
    )
}

impl<T: SlotValue + 'static> PatchSlot for Change<T> {
    fn touches(&self, op: Op) -> bool {
        matches_op(self, op)
    }
    fn remove(&mut self, op: Op) {
        if matches_op(self, op) {
            *self = Change::Keep;
        }
    }
    fn set_text(&mut self, field: Field, text: &str) -> Result<(), Error> {
        *self = Change::Set(T::parse(field, text)?);
        Ok(())
    }
    fn clear(&mut self, _: Field) -> Result<(), Error> {
        *self = Change::Clear;
        Ok(())
    }
    fn check(&self, field: Field) -> Result<(), Error> {
        match self {
            Change::Set(v) => v.check(field),
            _ => Ok(()),
        }
    }
}

impl PatchSlot for TagChanges {
    fn touches(&self, op: Op) -> bool {
        match op {
            Op::Set => !self.add.is_empty(),
            Op::Clear => !self.remove.is_empty(),
        }
    }
    fn remove(&mut self, op: Op) {
        match op {
            Op::Set => self.add.clear(),
            Op::Clear => self.remove.clear(),
        }
    }
    fn set_text(&mut self, _: Field, text: &str) -> Result<(), Error> {
        self.add.insert(text.to_owned());
        Ok(())
    }
    fn clear(&mut self, field: Field) -> Result<(), Error> {
        Err(Error::validation(
            field.name(),
            "tags are removed one by one: name the tag (remove_tag)",
        ))
    }
    fn check(&self, field: Field) -> Result<(), Error> {
        for tag in self.add.iter().chain(&self.remove) {
            crate::check::tag(tag)?;
        }
        if let Some(t) = self.add.intersection(&self.remove).next() {
            return Err(Error::validation(
                field.name(),
                format!("tag `{t}` is both added and removed"),
            ));
        }
        Ok(())
    }
}

impl PatchSlot for BTreeMap<String, Change<CustomAttribute>> {
    fn touches(&self, op: Op) -> bool {
        self.values().any(|c| matches_op(c, op))
    }
    fn remove(&mut self, op: Op) {
        self.retain(|_, c| !matches_op(c, op));
    }
    fn set_text(&mut self, field: Field, _: &str) -> Result<(), Error> {
        Err(Error::validation(
            field.name(),
            "a custom attribute needs a key and a type: use custom(key, value)",
        ))
    }
    fn clear(&mut self, field: Field) -> Result<(), Error> {
        Err(Error::validation(
            field.name(),
            "custom attributes are deleted by key: use clear_custom(key)",
        ))
    }
    fn check(&self, _: Field) -> Result<(), Error> {
        for (key, change) in self {
            check_attribute_key(key)?;
            match change {
                Change::Set(attr) => attr.value.check(key)?,
                Change::Clear => {}
                Change::Keep => {
                    return Err(Error::validation(
                        format!("custom.{key}"),
                        "a custom attribute entry must set or clear",
                    ))
                }
            }
        }
        Ok(())
    }
}

/// The neutral model's table, one row per field. `neutral_table!(cb)`
/// hands the table, normalised, to the macro `cb`, which generates one
/// part of the model where it belongs: [`Customer`] and its groups
/// ([`crate::Address`], [`crate::Acquisition`]) in `customer.rs`,
/// [`CustomerPatch`] and its groups ([`crate::AddressPatch`],
/// [`crate::AcquisitionPatch`]) in `patch.rs`, and [`Field`] with access
/// by field and the setters here.
///
/// A row is
///
/// ```text
/// /// docs (the Field variant's, the struct fields', the setters')
/// Variant struct_field: Kind(max chars)? mode #[patch field attribute]*;
/// ```
///
/// where `Kind` is a [`FieldKind`] (it fixes the types: `Option<String>`
/// on the customer and `Change<String>` on the patch for `Text`, ...) and
/// `mode` is `set(setter, clearer)` (a setter and a clearer are
/// generated), `keyed` (on the patch, changed by key through its own
/// builders: tags and custom attributes) or `read_only` (not on the
/// patch). A group `name: Struct / PatchStruct { rows }` puts its rows in
/// a sub-struct on both sides (every row of a group has `set(..)`); a
/// row's neutral name is its struct path (`"address.city"`).
///
/// The normalised form passed to `cb` is
/// `customer [{[attrs] field (type)}..] patch [{[attrs] field (type)}..]
/// groups [{[attrs] field Struct PatchStruct [{[attrs] field Kind}..]}..]
/// fields [flat rows]`.
macro_rules! neutral_table {
    (@munch $cb:ident [$($c:tt)*] [$($p:tt)*] [$($g:tt)*] [$($f:tt)*] ;) => {
        $cb! { customer [$($c)*] patch [$($p)*] groups [$($g)*] fields [$($f)*] }
    };
    (@munch $cb:ident [$($c:tt)*] [$($p:tt)*] [$($g:tt)*] [$($f:tt)*] ;
        $(#[$gm:meta])* $grp:ident : $G:ident / $GP:ident {
            $( $(#[$m:meta])* $v:ident $fld:ident : $kind:ident $(($max:ident))?
                set($set:ident, $clear:ident) ; )*
        }
        $($rest:tt)*
    ) => {
        $crate::field::neutral_table! { @munch $cb
            [$($c)* {[$(#[$gm])*] $grp ($G)}]
            [$($p)* {[#[doc = concat!("Changes to `", stringify!($grp), "`.")]] $grp ($GP)}]
            [$($g)* {[$(#[$gm])*] $grp $G $GP [$({[$(#[$m])*] $fld $kind})*]}]
            [$($f)* $( $(#[$m])* $v : $kind
                ($($max)?) [$grp.$fld] [$grp.$fld] set($set, $clear); )*]
            ; $($rest)*
        }
    };
    (@munch $cb:ident [$($c:tt)*] [$($p:tt)*] [$($g:tt)*] [$($f:tt)*] ;
        $(#[$m:meta])* $v:ident $fld:ident : $kind:ident read_only ; $($rest:tt)*
    ) => {
        $crate::field::neutral_table! { @munch $cb
            [$($c)* {[$(#[$m])*] $fld ($crate::field::neutral_table!(@read $kind))}]
            [$($p)*]
            [$($g)*]
            [$($f)* $(#[$m])* $v : $kind () [] [$fld] read_only; ]
            ; $($rest)*
        }
    };
    (@munch $cb:ident [$($c:tt)*] [$($p:tt)*] [$($g:tt)*] [$($f:tt)*] ;
        $(#[$m:meta])* $v:ident $fld:ident : $kind:ident $(($max:ident))?
            $mode:ident $(($($ma:tt)*))? $(#[$pa:meta])* ; $($rest:tt)*
    ) => {
        $crate::field::neutral_table! { @munch $cb
            [$($c)* {[$(#[$m])*] $fld ($crate::field::neutral_table!(@read $kind))}]
            [$($p)* {[$(#[$m])* $(#[$pa])*] $fld ($crate::field::neutral_table!(@write $kind))}]
            [$($g)*]
            [$($f)* $(#[$m])* $v : $kind ($($max)?) [$fld] [$fld]
                $mode $(($($ma)*))?; ]
            ; $($rest)*
        }
    };

    // A kind's type on the customer (read) and on the patch (write).
    (@read Text) => { Option<String> };
    (@read Country) => { Option<String> };
    (@read Status) => { Option<$crate::status::CustomerStatus> };
    (@read Currency) => { Option<$crate::values::Currency> };
    (@read Timestamp) => { Option<chrono::DateTime<chrono::FixedOffset>> };
    (@read Money) => { Option<$crate::values::Money> };
    (@read Tags) => { Vec<String> };
    (@read CustomAttributes) => { std::collections::BTreeMap<String, serde_json::Value> };
    (@write Text) => { $crate::change::Change<String> };
    (@write Country) => { $crate::change::Change<$crate::values::CountryCode> };
    (@write Status) => { $crate::change::Change<$crate::status::CustomerStatus> };
    (@write Currency) => { $crate::change::Change<$crate::values::Currency> };
    (@write Timestamp) => { $crate::change::Change<chrono::DateTime<chrono::Utc>> };
    (@write Tags) => { $crate::patch::TagChanges };
    (@write CustomAttributes) => {
        std::collections::BTreeMap<String, $crate::change::Change<$crate::attribute::CustomAttribute>>
    };

    ($cb:ident) => { $crate::field::neutral_table! { @munch $cb [] [] [] [] ;
        // The table. Order is `Field::ALL` order (public: capability
        // tables list fields in it) and the order of the struct fields
        // (so of the neutral JSON).

        /// Display name (ChartMogul `name`, Everlytic `name`).
        DisplayName name: Text(MAX_TEXT_CHARS) set(name, clear_name);
        /// Courtesy title (Mr, Ms, ...).
        Title title: Text(MAX_TEXT_CHARS) set(title, clear_title);
        /// Given name.
        FirstName first_name: Text(MAX_TEXT_CHARS) set(first_name, clear_first_name);
        /// Middle name.
        MiddleName middle_name: Text(MAX_TEXT_CHARS) set(middle_name, clear_middle_name);
        /// Family name.
        LastName last_name: Text(MAX_TEXT_CHARS) set(last_name, clear_last_name);
        /// Name suffix (Jr., Sr.).
        Suffix suffix: Text(MAX_TEXT_CHARS) set(suffix, clear_suffix);
        /// Company name.
        Company company: Text(MAX_TEXT_CHARS) set(company, clear_company);
        /// Primary email.
        Email email: Text(MAX_EMAIL_CHARS) set(email, clear_email);
        /// Secondary email.
        SecondaryEmail secondary_email: Text(MAX_EMAIL_CHARS) set(secondary_email, clear_secondary_email);
        /// Primary phone (a number the vendor sent as a JSON number is
        /// read as text; [`crate::Customer::raw`] keeps the original).
        Phone phone: Text(MAX_TEXT_CHARS) set(phone, clear_phone);
        /// Secondary phone.
        SecondaryPhone secondary_phone: Text(MAX_TEXT_CHARS) set(secondary_phone, clear_secondary_phone);
        /// Website URL.
        Website website: Text(MAX_TEXT_CHARS) set(website, clear_website);
        /// A postal address. On a customer it is as the vendor reports it
        /// (not validated: a vendor may answer `"United States"` where it
        /// accepts only `"US"`).
        address: Address / AddressPatch {
            /// Street address, first line.
            AddressLine1 line1: Text(MAX_TEXT_CHARS) set(address_line1, clear_address_line1);
            /// Street address, second line.
            AddressLine2 line2: Text(MAX_TEXT_CHARS) set(address_line2, clear_address_line2);
            /// City.
            City city: Text(MAX_TEXT_CHARS) set(city, clear_city);
            /// State, province or region.
            Region region: Text(MAX_TEXT_CHARS) set(region, clear_region);
            /// Postal or ZIP code.
            PostalCode postal_code: Text(MAX_POSTAL_CODE_CHARS) set(postal_code, clear_postal_code);
            /// ISO 3166-1 alpha-2 country, upper case (a customer reports
            /// it as the vendor wrote it).
            Country country: Country set(country, clear_country);
        }
        /// Customer status.
        Status status: Status set(status, clear_status);
        /// ISO 4217 billing currency.
        Currency currency: Currency set(currency, clear_currency);
        /// The caller's own reference for the customer.
        ExternalReference external_reference: Text(MAX_TEXT_CHARS)
            set(external_reference, clear_external_reference);
        /// When the customer became a lead.
        LeadCreatedAt lead_created_at: Timestamp set(lead_created_at, clear_lead_created_at);
        /// When the customer's free trial started.
        FreeTrialStartedAt free_trial_started_at: Timestamp
            set(free_trial_started_at, clear_free_trial_started_at);
        /// When the customer started paying (read only everywhere).
        CustomerSince customer_since: Timestamp read_only;
        /// Monthly recurring revenue, in minor units (read only everywhere).
        Mrr mrr: Money read_only;
        /// Annual run rate, in minor units (read only everywhere).
        Arr arr: Money read_only;
        /// Tags (a patch adds and removes them one by one: set = add,
        /// clear = remove).
        Tags tags: Tags keyed;
        /// Typed custom attributes (set = create or update, clear =
        /// delete); a customer reports their values only (vendors do not
        /// report the types).
        CustomAttributes custom: CustomAttributes keyed
            #[serde(deserialize_with = "crate::attribute::deserialize_custom")];
        /// How the customer was acquired (Fusebill's `customerAcquisition`).
        acquisition: Acquisition / AcquisitionPatch {
            /// Acquisition campaign.
            Campaign campaign: Text(MAX_TEXT_CHARS) set(campaign, clear_campaign);
            /// Where the campaign originates (a site, a company).
            AcquisitionSource source: Text(MAX_TEXT_CHARS)
                set(acquisition_source, clear_acquisition_source);
            /// Campaign medium (banner, email, ...).
            Medium medium: Text(MAX_TEXT_CHARS) set(medium, clear_medium);
            /// Search keyword.
            Keyword keyword: Text(MAX_TEXT_CHARS) set(keyword, clear_keyword);
            /// Ad content description.
            AdContent ad_content: Text(MAX_TEXT_CHARS) set(ad_content, clear_ad_content);
            /// Entrance (landing) page.
            LandingPage landing_page: Text(MAX_TEXT_CHARS) set(landing_page, clear_landing_page);
        }
    } };
}
pub(crate) use neutral_table;

/// Generates [`Field`], access by field and the setters from the table's
/// flat rows.
macro_rules! field_model {
    (customer [$($c:tt)*] patch [$($p:tt)*] groups [$($g:tt)*] fields [$(
        $(#[$m:meta])* $v:ident : $kind:ident ($($max:ident)?)
            [$($pp:ident).*] [$cp0:ident $(. $cpr:ident)*] $mode:ident $(($($ma:tt)*))? ;
    )*]) => {
        /// A neutral customer field, named in errors and capability tables
        /// by its path in the neutral JSON (`"address.city"`).
        ///
        /// Generated, with everything that goes by field, from the table
        /// in `unibill-core/src/field.rs`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $( $(#[$m])* $v, )*
        }

        impl Field {
            /// Every field, in table order.
            pub const ALL: &'static [Field] = &[ $( Field::$v, )* ];

            /// The field's path in the neutral JSON, e.g. `"address.city"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $( Field::$v => concat!(stringify!($cp0) $(, ".", stringify!($cpr))*), )*
                    }
            }

            /// What kind of value the field holds.
            pub const fn kind(self) -> FieldKind {
                match self { $( Field::$v => FieldKind::$kind, )* }
            }

            /// Whether a [`CustomerPatch`] can carry a change to the field
            /// (false for the read-only `customer_since`, `mrr`, `arr` and
            /// for `extensions`, which is carried by key).
            pub const fn is_writable(self) -> bool {
                match self {
                    $( Field::$v => field_model!(@writable [$($pp).*]), )*
                }
            }

            /// The most characters a text field accepts (`None` for
            /// fields that are not text).
            pub const fn max_chars(self) -> Option<usize> {
                match self {
                    $( Field::$v => field_model!(@max $($max)?), )*
                }
            }
        }

        fn patch_slot(patch: &CustomerPatch, field: Field) -> Option<&dyn PatchSlot> {
            match field {
                $( Field::$v => field_model!(@slot patch [$($pp).*]), )*
            }
        }

        fn patch_slot_mut(patch: &mut CustomerPatch, field: Field) -> Option<&mut dyn PatchSlot> {
            match field {
                $( Field::$v => field_model!(@slot_mut patch [$($pp).*]), )*
            }
        }

        impl Customer {
            /// One field's value, as a borrowed [`FieldValue`]: `None`
            /// when the customer has none (the vendor did not report it,
            /// or the backend cannot read it), no tags or no custom
            /// attributes.
            ///
            /// ```
            /// use unibill_core::{Customer, Field, FieldValue};
            /// let mut c = Customer::new("cus_1", serde_json::Value::Null);
            /// c.address.city = Some("Paris".into());
            /// assert_eq!(c.get(Field::City), Some(FieldValue::Text("Paris")));
            /// assert_eq!(c.get(Field::Email), None);
            /// ```
            pub fn get(&self, field: Field) -> Option<FieldValue<'_>> {
                match field {
                    $( Field::$v => field_model!(@view $kind self.$cp0 $(.$cpr)*), )*
                }
            }
        }

        /// The customer's struct field for `field`, for tests that fill
        /// every field.
        #[cfg(test)]
        fn customer_slot_mut(c: &mut Customer, field: Field) -> Option<&mut dyn std::any::Any> {
            match field {
                $( Field::$v => Some(&mut c.$cp0 $(.$cpr)*), )*
            }
        }

        impl CustomerPatch {
            $( field_model!(@setter [$($pp).*] $v $kind $mode $(($($ma)*))?
                $(#[$m])*); )*
        }
    };

    // A customer's field as a `FieldValue` (whose variants are named
    // after the kinds); no tags or attributes are `None`.
    (@view Text $($e:tt)+) => { $($e)+.as_deref().map(FieldValue::Text) };
    (@view Country $($e:tt)+) => { $($e)+.as_deref().map(FieldValue::Text) };
    (@view Tags $($e:tt)+) => { (!$($e)+.is_empty()).then_some(FieldValue::Tags(&$($e)+)) };
    (@view CustomAttributes $($e:tt)+) => {
        (!$($e)+.is_empty()).then_some(FieldValue::CustomAttributes(&$($e)+))
    };
    (@view $kind:ident $($e:tt)+) => { $($e)+.as_ref().map(FieldValue::$kind) };
    (@writable []) => { false };
    (@writable [$($pp:ident).+]) => { true };
    (@max) => { None };
    (@max $max:ident) => { Some(crate::check::$max) };
    (@slot $p:ident []) => { None };
    (@slot $p:ident [$($pp:ident).+]) => { Some(&$p.$($pp).+ as &dyn PatchSlot) };
    (@slot_mut $p:ident []) => { None };
    (@slot_mut $p:ident [$($pp:ident).+]) => { Some(&mut $p.$($pp).+ as &mut dyn PatchSlot) };

    // Setters: a setter and a clearer per `set(..)` row; the setter reads
    // a code as `set_text` reads it (a bad code kept for `validate`), and
    // takes `impl Into` the field's type otherwise.
    (@setter [$($pp:ident).*] $v:ident $kind:ident $mode:ident $(#[$m:meta])*) => {};
    (@setter [$($pp:ident).+] $v:ident $kind:ident set($set:ident, $clear:ident) $(#[$m:meta])*) => {
        field_model!(@set $kind [$($pp).+] $v $set $(#[$m])*);
        #[doc = concat!("Clears [`Field::", stringify!($v), "`]: ")]
        $(#[$m])*
        pub fn $clear(mut self) -> Self {
            self.$($pp).+ = Change::Clear;
            self
        }
    };
    (@set Text $($row:tt)*) => { field_model!(@value (String) $($row)*); };
    (@set Status $($row:tt)*) => { field_model!(@value (CustomerStatus) $($row)*); };
    (@set Timestamp $($row:tt)*) => { field_model!(@value (DateTime<Utc>) $($row)*); };
    (@set Country $($row:tt)*) => { field_model!(@code $($row)*); };
    (@set Currency $($row:tt)*) => { field_model!(@code $($row)*); };
    (@code [$($pp:ident).+] $v:ident $set:ident $(#[$m:meta])*) => {
        #[doc = concat!("Sets [`Field::", stringify!($v), "`] (a bad code is reported by [`Self::validate`]): ")]
        $(#[$m])*
        pub fn $set(self, code: &str) -> Self {
            self.set_text(Field::$v, code)
        }
    };
    (@value ($($ty:tt)*) [$($pp:ident).+] $v:ident $set:ident $(#[$m:meta])*) => {
        #[doc = concat!("Sets [`Field::", stringify!($v), "`]: ")]
        $(#[$m])*
        pub fn $set(mut self, value: impl Into<$($ty)*>) -> Self {
            self.$($pp).+ = Change::Set(value.into());
            self
        }
    };
}
neutral_table!(field_model);

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The kinds `validate` checks, in the order it checks them (so the first
/// error a patch reports is the same whatever else it holds).
const VALIDATION_ORDER: [FieldKind; 5] = [
    FieldKind::Timestamp,
    FieldKind::Text,
    FieldKind::Status,
    FieldKind::CustomAttributes,
    FieldKind::Tags,
];

/// Access by [`Field`], generated from the table.
impl CustomerPatch {
    /// Whether the patch does `op` to `field` (for tags: adds any with
    /// `Set`, removes any with `Clear`; for custom attributes: sets any,
    /// deletes any). Always false for read-only fields.
    pub(crate) fn touches(&self, field: Field, op: Op) -> bool {
        patch_slot(self, field).is_some_and(|s| s.touches(op))
    }

    /// Every neutral field the patch touches, with what it does to it (a
    /// field may appear twice: tags added and removed). Single-valued
    /// fields come first in [`Field::ALL`] order, then tags and custom
    /// attributes (set before clear).
    ///
    /// ```
    /// use unibill_core::{CustomerPatch, Field, Op};
    /// let p = CustomerPatch::new().city("Paris").clear_phone();
    /// assert_eq!(p.touched(), [(Field::Phone, Op::Clear), (Field::City, Op::Set)]);
    /// ```
    pub fn touched(&self) -> Vec<(Field, Op)> {
        let mut touched: Vec<(Field, Op)> = Field::ALL
            .iter()
            .flat_map(|&f| [Op::Set, Op::Clear].map(|op| (f, op)))
            .filter(|&(f, op)| self.touches(f, op))
            .collect();
        // Tags and custom attributes last; a stable sort keeps the rest.
        touched.sort_by_key(|(f, _)| {
            matches!(f.kind(), FieldKind::Tags | FieldKind::CustomAttributes)
        });
        touched
    }

    /// The same patch without the change `op` makes to `field` (for tags:
    /// every added tag with `Set`, every removed one with `Clear`; for
    /// custom attributes: every set, or every delete); a change with the
    /// other op stays. Used when a caller opts to ignore what a backend
    /// cannot do. Read-only fields are never touched, so never dropped.
    pub fn without(mut self, field: Field, op: Op) -> Self {
        if let Some(slot) = patch_slot_mut(&mut self, field) {
            slot.remove(op);
        }
        self
    }

    /// Sets `field` from text, read the way its [`FieldKind`] says: text
    /// as is; a country or currency code checked as by [`Self::country`]
    /// and [`Self::currency`]; a status by name (unknown names become
    /// [`CustomerStatus::Other`]); a timestamp in RFC 3339; for tags, adds
    /// the tag. Text the field does not accept, and fields no text can set
    /// (custom attributes, which need a type; read-only fields), are kept as errors naming the field and reported by
    /// [`Self::validate`], like every builder mistake.
    ///
    /// ```
    /// use unibill_core::{CustomerPatch, Field, Change};
    /// let p = CustomerPatch::new().set_text(Field::City, "Paris");
    /// assert_eq!(p, CustomerPatch::new().city("Paris"));
    /// let bad = CustomerPatch::new().set_text(Field::Mrr, "100");
    /// assert!(bad.validate().unwrap_err().to_string().contains("mrr"));
    /// ```
    pub fn set_text(self, field: Field, text: impl AsRef<str>) -> Self {
        self.by_field(field, |slot| slot.set_text(field, text.as_ref()))
    }

    /// Clears `field` (JSON `null` in the merge patch). Tags and custom
    /// attributes are removed by name ([`Self::remove_tag`],
    /// [`Self::clear_custom`]); clearing them or a read-only field here
    /// is kept as an error naming the field and reported by
    /// [`Self::validate`].
    pub fn clear(self, field: Field) -> Self {
        self.by_field(field, |slot| slot.clear(field))
    }

    /// Applies `change` to `field`'s place in the patch, keeping its error
    /// (or, for a read-only field, that it is not in a patch) for
    /// [`Self::validate`].
    fn by_field(
        mut self,
        field: Field,
        change: impl FnOnce(&mut dyn PatchSlot) -> Result<(), Error>,
    ) -> Self {
        let result = match patch_slot_mut(&mut self, field) {
            Some(slot) => change(slot),
            None => Err(Error::validation(
                field.name(),
                "read only: a patch cannot set or clear it",
            )),
        };
        if let Err(e) = result {
            self.defer(e);
        }
        self
    }

    /// The change to a text field (`None` when `field` is not text).
    pub fn text(&self, field: Field) -> Option<&Change<String>> {
        // A text field's place is a `Change<String>`.
        let slot: &dyn Any = patch_slot(self, field)?;
        slot.downcast_ref()
    }

    /// The per-field part of [`Self::validate`]: timestamps, then texts
    /// (not blank, no control or bidi characters, at most
    /// [`Field::max_chars`]), then the status, custom attributes and
    /// tags. The error names the field.
    pub(crate) fn validate_fields(&self) -> Result<(), Error> {
        for kind in VALIDATION_ORDER {
            for field in Field::ALL.iter().filter(|f| f.kind() == kind) {
                if let Some(slot) = patch_slot(self, *field) {
                    slot.check(*field)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    /// A valid text for each field, as `set_text` reads it.
    fn sample_text(field: Field) -> &'static str {
        match field.kind() {
            FieldKind::Country => "FR",
            FieldKind::Currency => "EUR",
            FieldKind::Status => "active",
            FieldKind::Timestamp => "2024-05-01T12:00:00Z",
            FieldKind::Money => "100",
            FieldKind::Tags => "vip",
            _ if field.max_chars() == Some(crate::check::MAX_EMAIL_CHARS) => "ada@example.com",
            _ => "Ada",
        }
    }

    fn get_path<'a>(v: &'a Value, path: &str) -> &'a Value {
        path.split('.').fold(v, |v, p| &v[p])
    }

    fn is_empty_json(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(m) => m.is_empty(),
            _ => false,
        }
    }

    /// Every row of the table, through every generated accessor: a row
    /// wired to the wrong struct field, or missing from one of the
    /// generated matches, fails here.
    #[test]
    fn every_field_through_every_accessor() {
        for field in Field::ALL.iter().copied() {
            let name = field.name();
            // Writable exactly when the neutral JSON merge patch (serde,
            // not the table) has the path.
            let mut probe = json!({});
            let mut cur = &mut probe;
            for part in name.split('.') {
                cur = &mut cur[part];
            }
            *cur = json!([]);
            let accepted = match serde_json::from_value::<CustomerPatch>(probe) {
                Ok(_) => true,
                Err(e) => !e.to_string().contains("unknown field"),
            };
            assert_eq!(field.is_writable(), accepted, "{name}");
            if !field.is_writable() {
                // Read only: a patch cannot touch it, and saying so is an
                // error naming the field.
                let p = CustomerPatch::new().set_text(field, sample_text(field));
                assert!(p.touched().is_empty(), "{name}");
                match p.validate() {
                    Err(Error::Validation { field: f, .. }) => assert_eq!(f, name),
                    other => panic!("{name}: {other:?}"),
                }
                match CustomerPatch::new().clear(field).validate() {
                    Err(Error::Validation { field: f, .. }) => assert_eq!(f, name),
                    other => panic!("{name}: {other:?}"),
                }
                continue;
            }
            let p = match field.kind() {
                FieldKind::CustomAttributes => CustomerPatch::new().custom("CAC", 25),
                _ => CustomerPatch::new().set_text(field, sample_text(field)),
            };
            p.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
            // Set: touched, exactly this field.
            assert_eq!(p.touched(), vec![(field, Op::Set)], "{name}");
            assert!(p.touches(field, Op::Set) && !p.touches(field, Op::Clear));
            // The merge patch has it at the field's path, and the JSON
            // merge patch with only that path is the same patch.
            let j = serde_json::to_value(&p).unwrap();
            assert!(!is_empty_json(get_path(&j, name)), "{name} in {j}");
            let back: CustomerPatch = serde_json::from_value(j).unwrap();
            assert_eq!(back, p, "{name}");
            // `without` drops it, and only with the op it has.
            assert_eq!(p.clone().without(field, Op::Clear), p, "{name}");
            let dropped = p.clone().without(field, Op::Set);
            assert!(dropped.is_empty(), "{name}: {dropped:?}");
            // Text fields: the validation path names the field.
            if field.kind() == FieldKind::Text {
                assert_eq!(
                    p.text(field),
                    Some(&Change::Set(sample_text(field).to_owned()))
                );
                let blank = CustomerPatch::new().set_text(field, "  ");
                match blank.validate() {
                    Err(Error::Validation { field: f, .. }) => assert_eq!(f, name),
                    other => panic!("{name}: {other:?}"),
                }
                let max = field.max_chars().expect("text has a limit");
                let long = CustomerPatch::new().set_text(field, "x".repeat(max + 1));
                match long.validate() {
                    Err(Error::Validation { field: f, .. }) => assert_eq!(f, name),
                    other => panic!("{name}: {other:?}"),
                }
            } else {
                assert_eq!(p.text(field), None, "{name}");
            }
            // Clear, where a field can be cleared as a whole.
            match field.kind() {
                FieldKind::Tags | FieldKind::CustomAttributes => {
                    let e = CustomerPatch::new().clear(field).validate().unwrap_err();
                    assert!(matches!(&e, Error::Validation { field: f, .. } if f == name));
                }
                _ => {
                    let c = CustomerPatch::new().clear(field);
                    c.validate().unwrap();
                    assert_eq!(c.touched(), vec![(field, Op::Clear)], "{name}");
                    let j = serde_json::to_value(&c).unwrap();
                    assert_eq!(get_path(&j, name), &Value::Null, "{name} in {j}");
                    assert!(c.clone().without(field, Op::Clear).is_empty(), "{name}");
                }
            }
        }
    }

    /// `Customer::get` reads the struct field the row names: fill every
    /// field with a distinct value, and each `get` must be what the whole
    /// customer serializes at the field's path.
    #[test]
    fn customer_get_reads_every_field() {
        let mut c = Customer::new("cus_1", Value::Null);
        let empty = serde_json::to_value(&c).unwrap();
        for field in Field::ALL.iter().copied() {
            assert_eq!(c.get(field), None, "{field}");
            assert!(is_empty_json(get_path(&empty, field.name())), "{field}");
        }
        let at = |d: u32| {
            FixedOffset::east_opt(3600)
                .unwrap()
                .with_ymd_and_hms(2024, 1, d, 0, 0, 0)
                .unwrap()
        };
        for (n, field) in Field::ALL.iter().copied().enumerate() {
            let slot = customer_slot_mut(&mut c, field).expect("a row");
            if let Some(s) = slot.downcast_mut::<Option<String>>() {
                *s = Some(format!("text {n}"));
            } else if let Some(s) = slot.downcast_mut::<Option<CustomerStatus>>() {
                *s = Some(CustomerStatus::Active);
            } else if let Some(s) = slot.downcast_mut::<Option<Currency>>() {
                *s = Some(Currency::USD);
            } else if let Some(s) = slot.downcast_mut::<Option<DateTime<FixedOffset>>>() {
                *s = Some(at(n as u32 + 1));
            } else if let Some(s) = slot.downcast_mut::<Option<Money>>() {
                *s = Some(Money::from_minor(100 * n as i64, Currency::USD));
            } else if let Some(s) = slot.downcast_mut::<Vec<String>>() {
                *s = vec!["vip".into()];
            } else if let Some(s) = slot.downcast_mut::<BTreeMap<String, Value>>() {
                s.insert("CAC".into(), json!(25));
            } else {
                panic!("{field}: no test value for its type");
            }
        }
        let whole = serde_json::to_value(&c).unwrap();
        let mut seen = Vec::new();
        for field in Field::ALL.iter().copied() {
            let v = c.get(field).unwrap_or_else(|| panic!("{field} unset"));
            assert_eq!(&v.to_json(), get_path(&whole, field.name()), "{field}");
            let kind_matches = matches!(
                (field.kind(), v),
                (FieldKind::Text | FieldKind::Country, FieldValue::Text(_))
                    | (FieldKind::Status, FieldValue::Status(_))
                    | (FieldKind::Currency, FieldValue::Currency(_))
                    | (FieldKind::Timestamp, FieldValue::Timestamp(_))
                    | (FieldKind::Money, FieldValue::Money(_))
                    | (FieldKind::Tags, FieldValue::Tags(_))
                    | (FieldKind::CustomAttributes, FieldValue::CustomAttributes(_))
            );
            assert!(kind_matches, "{field}: {:?} read as {v:?}", field.kind());
            // Two rows reading the same struct field would repeat a value.
            assert!(!seen.contains(&v.to_json()), "{field} repeats {v:?}");
            seen.push(v.to_json());
        }
    }

    /// The table's length limits are the documented ones: emails RFC
    /// 5321's, postal codes their own, every other text the general one;
    /// `validate` accepts the limit and refuses one more.
    #[test]
    fn text_limits_are_the_documented_ones() {
        use crate::check::{MAX_EMAIL_CHARS, MAX_POSTAL_CODE_CHARS, MAX_TEXT_CHARS};
        for field in Field::ALL.iter().copied() {
            let expected = match field {
                Field::Email | Field::SecondaryEmail => Some(MAX_EMAIL_CHARS),
                Field::PostalCode => Some(MAX_POSTAL_CODE_CHARS),
                f if f.kind() == FieldKind::Text => Some(MAX_TEXT_CHARS),
                _ => None,
            };
            assert_eq!(field.max_chars(), expected, "{field}");
            if let Some(max) = expected {
                let at = CustomerPatch::new().set_text(field, "x".repeat(max));
                at.validate().unwrap_or_else(|e| panic!("{field}: {e}"));
            }
        }
    }

    #[test]
    fn set_text_reads_by_kind_and_defers_mistakes() {
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        assert_eq!(
            CustomerPatch::new()
                .set_text(Field::Country, "FR")
                .set_text(Field::Currency, "EUR")
                .set_text(Field::Status, "past_due")
                .set_text(Field::LeadCreatedAt, "2024-05-01T12:00:00Z")
                .set_text(Field::Tags, "vip"),
            CustomerPatch::new()
                .country("FR")
                .currency("EUR")
                .status(CustomerStatus::PastDue)
                .lead_created_at(at)
                .add_tag("vip")
        );
        for (field, text) in [
            (Field::Country, "France"),
            (Field::Currency, "usd"),
            (Field::FreeTrialStartedAt, "yesterday"),
            (Field::CustomAttributes, "25"),
        ] {
            match CustomerPatch::new().set_text(field, text).validate() {
                Err(Error::Validation { field: f, .. }) => assert_eq!(f, field.name()),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
