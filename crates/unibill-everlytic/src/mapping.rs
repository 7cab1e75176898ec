//! Neutral model <-> Everlytic properties, both ways. Pure functions: no
//! I/O, so every rule here is unit-tested on its own.

use serde::Serialize;
use serde_json::{Map, Value};
use unibill_core::customer::json_text;
use unibill_core::{Change, Customer, CustomerId, CustomerPatch, CustomerStatus, Error, Field};

use crate::extension;
use crate::wire::{read_u64, read_yes_no, CustomerView, CustomerWrite, IndustryValue, Status};
use crate::KIND;

/// The largest id accepted: the platform's ids are PHP integers.
const MAX_ID_DIGITS: usize = 18;

/// Checks a customer id: the platform's ids are positive integers (seed
/// 004 types `id` as an integer), so only the canonical form is accepted:
/// ASCII digits without a leading zero, not `0` (an [`Error::Validation`]
/// on `id` otherwise, before any request). `012000750` would reach the
/// same customer through PHP's integer cast, but the answer's id would not
/// be the id asked for; as for Fusebill, write the id without the zero.
pub(crate) fn check_id(id: &CustomerId) -> Result<(), Error> {
    let s = id.as_str();
    if s.is_empty() {
        return Err(Error::validation(
            "id",
            "empty; an Everlytic customer id is an integer",
        ));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::validation(
            "id",
            format!(
                "`{}` is not an Everlytic customer id (digits only)",
                unibill_core::error::clip(s)
            ),
        ));
    }
    if s.starts_with('0') {
        return Err(Error::validation(
            "id",
            format!(
                "`{}` is not an Everlytic customer id: ids are positive integers written without a leading zero",
                unibill_core::error::clip(s)
            ),
        ));
    }
    if s.len() > MAX_ID_DIGITS {
        return Err(Error::validation(
            "id",
            format!(
                "`{}` is longer than {MAX_ID_DIGITS} digits",
                unibill_core::error::clip(s)
            ),
        ));
    }
    Ok(())
}

/// The platform's `status` for a neutral status. Only four exist; any
/// other neutral status is refused naming `status`.
pub(crate) fn status_to_wire(status: &CustomerStatus) -> Result<Status, Error> {
    match status {
        CustomerStatus::Active => Ok(Status::On),
        CustomerStatus::Inactive => Ok(Status::Off),
        CustomerStatus::Suspended => Ok(Status::Suspended),
        CustomerStatus::Deleted => Ok(Status::Deleted),
        other => Err(Error::validation(
            Field::Status.name(),
            format!(
                "Everlytic has no `{other}` status; use active (on), inactive (off), suspended or deleted"
            ),
        )),
    }
}

/// The neutral status for the platform's `status` text (case and spaces
/// forgiven); an unknown value is kept as [`CustomerStatus::Other`].
pub(crate) fn status_from_wire(text: &str) -> CustomerStatus {
    match Status::from_text_loose(text) {
        Some(Status::On) => CustomerStatus::Active,
        Some(Status::Off) => CustomerStatus::Inactive,
        Some(Status::Suspended) => CustomerStatus::Suspended,
        Some(Status::Deleted) => CustomerStatus::Deleted,
        None => CustomerStatus::Other(text.to_owned()),
    }
}

/// A string property the platform lets us empty: `Set` sends the text,
/// `Clear` sends `""` (the platform's "empty" default; it does not accept
/// `null` for string properties).
fn text_change(change: &Change<String>) -> Option<String> {
    match change {
        Change::Keep => None,
        Change::Set(s) => Some(s.clone()),
        Change::Clear => Some(String::new()),
    }
}

fn not_clearable(field: &str, why: &str) -> Error {
    Error::validation(field, format!("cannot be cleared: {why}"))
}

/// The properties a patch changes, validated: every rule of the platform
/// that can be checked without it is checked here (the patch's
/// [`EverlyticExtension`](crate::EverlyticExtension) included, read and
/// checked once), so that a refused patch sends nothing. Does not include
/// `name`/`email` unless the patch changes them; see [`put_body`].
pub(crate) fn changes(patch: &CustomerPatch) -> Result<CustomerWrite, Error> {
    let ext = extension::from_patch(patch)?;
    let mut out = CustomerWrite::default();
    match &patch.name {
        Change::Keep => {}
        Change::Set(name) => out.name = Some(name.clone()),
        Change::Clear => {
            return Err(not_clearable(
                Field::DisplayName.name(),
                "the platform requires a name",
            ))
        }
    }
    match &patch.email {
        Change::Keep => {}
        Change::Set(email) => {
            unibill_core::check::email(Field::Email.name(), email)?;
            out.email = Some(email.clone());
        }
        Change::Clear => {
            return Err(not_clearable(
                Field::Email.name(),
                "the platform requires an email",
            ))
        }
    }
    match &patch.status {
        Change::Keep => {}
        Change::Set(s) => out.status = Some(status_to_wire(s)?),
        Change::Clear => {
            return Err(not_clearable(
                Field::Status.name(),
                "the platform accepts only on, off, suspended or deleted",
            ))
        }
    }
    let a = &patch.address;
    out.address = text_change(&a.line1);
    out.state_provinces = text_change(&a.region);
    out.postal_code = text_change(&a.postal_code);
    match &a.country {
        Change::Keep => {}
        Change::Set(c) => out.country = Some(c.as_str().to_owned()),
        Change::Clear => {
            return Err(not_clearable(
                Field::Country.name(),
                "the platform accepts only a two-character country code",
            ))
        }
    }
    out.telephone = text_change(&patch.phone);
    out.website_url = text_change(&patch.website);
    out.unique_id = text_change(&patch.external_reference);
    if let Some(ext) = ext {
        // Checked by `from_patch`: nothing here is cleared.
        let set = |c: &Change<u64>| match c {
            Change::Set(n) => Some(*n),
            _ => None,
        };
        out.email_package_id = set(&ext.email_package_id);
        out.email_quota = set(&ext.email_quota);
        out.sms_quota = set(&ext.sms_quota);
        out.transactions_package_id = set(&ext.transactions_package_id);
        out.transactions_quota = set(&ext.transactions_quota);
        if let Change::Set(i) = &ext.industry {
            out.industry = Some(*i);
        }
        if let Change::Set(d) = &ext.deleted {
            out.deleted = Some(*d);
        }
    }
    Ok(out)
}

/// Drops `new` when the platform already holds its text (read as the
/// platform writes it: numbers as numbers or strings, `""` as empty).
fn drop_same_text(new: &mut Option<String>, cur: Option<&Value>) {
    if let Some(n) = new {
        let n = (!n.is_empty()).then_some(n.as_str());
        if json_text(cur).as_deref() == n {
            *new = None;
        }
    }
}

/// Drops `new` when the platform already holds that integer (a JSON
/// number or digits in a string).
fn drop_same_u64(new: &mut Option<u64>, cur: Option<&Value>) {
    if new.is_some() && read_u64(cur) == *new {
        *new = None;
    }
}

/// Drops the changes the platform already holds (when the customer was
/// read anyway), so that a patch that changes nothing sends nothing.
pub(crate) fn drop_unchanged(changes: &mut CustomerWrite, current: &Map<String, Value>) {
    let cur = CustomerView::of(current);
    let w = changes;
    drop_same_text(&mut w.name, cur.name);
    drop_same_text(&mut w.email, cur.email);
    if let Some(s) = w.status {
        if json_text(cur.status).is_some_and(|c| c.trim().eq_ignore_ascii_case(s.as_str())) {
            w.status = None;
        }
    }
    drop_same_text(&mut w.address, cur.address);
    drop_same_text(&mut w.state_provinces, cur.state_provinces);
    drop_same_text(&mut w.postal_code, cur.postal_code);
    drop_same_text(&mut w.country, cur.country);
    drop_same_text(&mut w.telephone, cur.telephone);
    drop_same_text(&mut w.website_url, cur.website_url);
    drop_same_text(&mut w.unique_id, cur.unique_id);
    drop_same_u64(&mut w.email_package_id, cur.email_package_id);
    drop_same_u64(&mut w.email_quota, cur.email_quota);
    drop_same_u64(&mut w.sms_quota, cur.sms_quota);
    drop_same_u64(&mut w.transactions_package_id, cur.transactions_package_id);
    drop_same_u64(&mut w.transactions_quota, cur.transactions_quota);
    if let Some(i) = w.industry {
        if json_text(cur.industry).as_deref() == Some(i.as_str()) {
            w.industry = None;
        }
    }
    if w.deleted.is_some() && read_yes_no(cur.deleted) == w.deleted {
        w.deleted = None;
    }
}

/// The `PUT` body: `name` and `email` (required on every update: the
/// patch's values, else the current ones) with the changes. A current
/// email that is not an address is refused naming `email` rather than
/// sent back: the platform would refuse the whole update.
pub(crate) fn put_body(
    mut changes: CustomerWrite,
    current: Option<&Map<String, Value>>,
) -> Result<Value, Error> {
    let view = current.map(CustomerView::of).unwrap_or_default();
    for (key, field, slot, cur) in [
        (
            "name",
            Field::DisplayName.name(),
            &mut changes.name,
            view.name,
        ),
        ("email", Field::Email.name(), &mut changes.email, view.email),
    ] {
        if slot.is_some() {
            continue;
        }
        match json_text(cur) {
            Some(text) if key == "email" && !unibill_core::check::is_email(&text) => {
                return Err(Error::validation(
                    field,
                    format!(
                        "the platform requires a valid `{key}` on every update and holds `{text}`, which is not an email address; set it in the patch"
                    ),
                ))
            }
            Some(text) if !text.trim().is_empty() => *slot = Some(text),
            _ => {
                return Err(Error::validation(
                    field,
                    format!(
                        "the platform requires `{key}` on every update and holds none for this customer; set it in the patch"
                    ),
                ))
            }
        }
    }
    changes
        .to_json()
        .map_err(|e| Error::decode(KIND, "customer update", e.to_string()))
}

/// Whether a patch carries both required properties, so no read is needed.
pub(crate) fn sets_name_and_email(changes: &CustomerWrite) -> bool {
    changes.name.is_some() && changes.email.is_some()
}

/// The neutral customer of an answer holding a customer object (wrapped
/// in `{"links":[..],"item":{..}}` or bare). `raw` keeps the whole answer.
pub(crate) fn customer_from_answer(requested: &CustomerId, raw: Value) -> Result<Customer, Error> {
    let Some(w) = CustomerView::of_answer(&raw) else {
        return Err(Error::decode(
            KIND,
            "customer response",
            "no customer object (expected {\"links\":[..],\"item\":{..}} or a customer object)",
        ));
    };
    let id = json_text(w.id)
        .map(CustomerId::new)
        .unwrap_or_else(|| requested.clone());
    let name = json_text(w.name);
    let email = json_text(w.email);
    let status = json_text(w.status).map(|s| status_from_wire(&s));
    let line1 = json_text(w.address);
    let region = json_text(w.state_provinces);
    let postal_code = json_text(w.postal_code);
    let country = json_text(w.country);
    let phone = json_text(w.telephone);
    let website = json_text(w.website_url);
    let external_reference = json_text(w.unique_id);
    let mut c = Customer::new(id, raw);
    c.name = name;
    c.email = email;
    c.status = status;
    c.address.line1 = line1;
    c.address.region = region;
    c.address.postal_code = postal_code;
    c.address.country = country;
    c.phone = phone;
    c.website = website;
    c.external_reference = external_reference;
    Ok(c)
}

/// The platform-only properties of a customer, read from its raw answer
/// (numbers given as numbers or as strings; `None` where the platform has
/// no readable value: [`Customer::raw`] always keeps the original).
///
/// ```
/// use unibill_everlytic::{EverlyticFields, Industry, IndustryValue};
/// let raw = serde_json::json!({"links": [], "item": {
///     "id": "7", "name": "A", "email_quota": "5000", "deleted": "no",
///     "industry": "Retail & Wholesale"
/// }});
/// let f = EverlyticFields::from_raw(&raw);
/// assert_eq!(f.email_quota, Some(5000));
/// assert_eq!(f.deleted, Some(false));
/// assert_eq!(f.industry, Some(IndustryValue::Known(Industry::RetailWholesale)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EverlyticFields {
    /// `email_package_id`.
    pub email_package_id: Option<u64>,
    /// `email_quota`.
    pub email_quota: Option<u64>,
    /// `sms_quota`.
    pub sms_quota: Option<u64>,
    /// `transactions_package_id`.
    pub transactions_package_id: Option<u64>,
    /// `transactions_quota`.
    pub transactions_quota: Option<u64>,
    /// `industry`, recognised or verbatim.
    pub industry: Option<IndustryValue>,
    /// `deleted` (`yes` = true).
    pub deleted: Option<bool>,
}

impl EverlyticFields {
    /// Reads the fields from a customer's [`Customer::raw`].
    pub fn from_customer(customer: &Customer) -> Self {
        Self::from_raw(&customer.raw)
    }

    /// Reads the fields from an answer (wrapped or bare customer object);
    /// all `None` when it holds none.
    pub fn from_raw(raw: &Value) -> Self {
        let Some(w) = CustomerView::of_answer(raw) else {
            return Self::default();
        };
        Self {
            email_package_id: read_u64(w.email_package_id),
            email_quota: read_u64(w.email_quota),
            sms_quota: read_u64(w.sms_quota),
            transactions_package_id: read_u64(w.transactions_package_id),
            transactions_quota: read_u64(w.transactions_quota),
            industry: json_text(w.industry).map(|t| IndustryValue::from_text(&t)),
            deleted: read_yes_no(w.deleted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extension::EverlyticExtension;
    use crate::wire::Industry;
    use serde_json::json;

    fn field_of(r: Result<impl std::fmt::Debug, Error>) -> String {
        match r {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn ids_are_canonical_integers() {
        for ok in ["1", "1001", "123"] {
            check_id(&CustomerId::new(ok)).unwrap();
        }
        for bad in [
            "",
            "abc",
            "12a",
            "-1",
            "1.5",
            " 1",
            "1/2",
            "..",
            "١٢",
            "1234567890123456789",
            "0",
            "012000750",
            "00",
        ] {
            assert_eq!(field_of(check_id(&CustomerId::new(bad))), "id", "{bad:?}");
        }
    }

    #[test]
    fn statuses_both_ways() {
        for (neutral, wire_text) in [
            (CustomerStatus::Active, "on"),
            (CustomerStatus::Inactive, "off"),
            (CustomerStatus::Suspended, "suspended"),
            (CustomerStatus::Deleted, "deleted"),
        ] {
            assert_eq!(status_to_wire(&neutral).unwrap().as_str(), wire_text);
            assert_eq!(status_from_wire(wire_text), neutral);
        }
        assert_eq!(status_from_wire(" ON "), CustomerStatus::Active);
        assert_eq!(
            status_from_wire("pending"),
            CustomerStatus::Other("pending".into())
        );
        for bad in [
            CustomerStatus::Cancelled,
            CustomerStatus::Lead,
            CustomerStatus::Hold,
            CustomerStatus::Other("on".into()),
        ] {
            assert_eq!(field_of(status_to_wire(&bad)), "status");
        }
    }

    #[test]
    fn every_neutral_field_maps_to_its_property() {
        let patch = CustomerPatch::new()
            .name("Acme")
            .email("a@acme.example")
            .status(CustomerStatus::Suspended)
            .address_line1("1 Main Rd")
            .region("Gauteng")
            .postal_code("2000")
            .country("ZA")
            .phone("+27 11 555 0000")
            .website("https://acme.example")
            .external_reference("AC-1");
        let ext = EverlyticExtension::new()
            .email_package_id(4)
            .email_quota(0)
            .sms_quota(12)
            .transactions_package_id(5)
            .transactions_quota(6)
            .industry(Industry::LifestyleArtsEntertainment)
            .deleted(true);
        let out = changes(&patch.extension(ext)).unwrap();
        assert_eq!(
            out.to_json().unwrap(),
            json!({
                "name": "Acme", "email": "a@acme.example", "status": "suspended",
                "address": "1 Main Rd", "state_provinces": "Gauteng", "postal_code": "2000",
                "country": "ZA", "telephone": "+27 11 555 0000",
                "website_url": "https://acme.example", "unique_id": "AC-1",
                "email_package_id": 4, "email_quota": 0, "sms_quota": 12,
                "transactions_package_id": 5, "transactions_quota": 6,
                "industry": "Lifestyle, Arts & Entertainment", "deleted": "yes"
            })
        );
    }

    #[test]
    fn clearable_strings_send_empty_text() {
        let patch = CustomerPatch::new()
            .clear_address_line1()
            .clear_region()
            .clear_postal_code()
            .clear_phone()
            .clear_website()
            .clear_external_reference();
        let out = changes(&patch).unwrap();
        assert_eq!(
            out.to_json().unwrap(),
            json!({"address": "", "state_provinces": "", "postal_code": "",
                   "telephone": "", "website_url": "", "unique_id": ""})
        );
    }

    #[test]
    fn refused_changes_name_their_field() {
        let cases = [
            (CustomerPatch::new().clear_name(), "name"),
            (CustomerPatch::new().clear_email(), "email"),
            (CustomerPatch::new().email("not-an-email"), "email"),
            (CustomerPatch::new().email("a b@x.example"), "email"),
            (CustomerPatch::new().clear_status(), "status"),
            (
                CustomerPatch::new().status(CustomerStatus::PastDue),
                "status",
            ),
            (CustomerPatch::new().clear_country(), "address.country"),
        ];
        for (p, field) in cases {
            assert_eq!(field_of(changes(&p)), field);
        }
    }

    #[test]
    fn body_carries_name_and_email_first_from_patch_or_current() {
        let current = json!({"id": 1, "name": "Old", "email": "old@x.example", "sms_quota": "3"});
        let cur = current.as_object().unwrap();
        let mut ch = CustomerWrite {
            sms_quota: Some(4),
            ..CustomerWrite::default()
        };
        let body = put_body(ch.clone(), Some(cur)).unwrap();
        assert_eq!(
            body,
            json!({"name": "Old", "email": "old@x.example", "sms_quota": 4})
        );
        ch.name = Some("New".into());
        let body = put_body(ch, Some(cur)).unwrap();
        assert_eq!(
            body,
            json!({"name": "New", "email": "old@x.example", "sms_quota": 4})
        );
        let nameless = json!({"id": 1, "name": "", "email": "e@x.example"});
        let e = put_body(CustomerWrite::default(), nameless.as_object());
        assert_eq!(field_of(e), "name");
    }

    #[test]
    fn a_current_email_that_is_no_address_is_not_sent_back() {
        for bad in [json!("not-an-address"), json!("a b@x.example"), json!(42)] {
            let current = json!({"id": 1, "name": "A", "email": bad});
            let mut ch = CustomerWrite {
                sms_quota: Some(4),
                ..CustomerWrite::default()
            };
            let e = put_body(ch.clone(), current.as_object());
            assert_eq!(field_of(e), "email", "{current}");
            // Setting the email in the patch replaces it: no refusal.
            ch.email = Some("new@x.example".into());
            let body = put_body(ch, current.as_object()).unwrap();
            assert_eq!(
                body,
                json!({"name": "A", "email": "new@x.example", "sms_quota": 4})
            );
        }
    }

    #[test]
    fn unchanged_values_are_dropped_whatever_their_json_type() {
        let current = json!({
            "name": "A", "email_quota": "50", "sms_quota": 7, "deleted": "no",
            "status": "On", "telephone": "", "country": "ZA"
        });
        let cur = current.as_object().unwrap();
        let mut ch = CustomerWrite {
            name: Some("A".into()),
            email_quota: Some(50),
            sms_quota: Some(8),
            deleted: Some(false),
            status: Some(Status::On),
            telephone: Some(String::new()),
            country: Some("ZA".into()),
            website_url: Some(String::new()),
            unique_id: Some("U".into()),
            ..CustomerWrite::default()
        };
        drop_unchanged(&mut ch, cur);
        assert_eq!(
            ch.to_json().unwrap(),
            json!({"sms_quota": 8, "unique_id": "U"})
        );
    }

    fn seed_like() -> Value {
        json!({"links": [{"rel": "self", "href": "https://x/api/2.0/customers/1001"}],
               "item": {
            "id": 1001, "name": "Cape Mailers (Pty) Ltd", "email": "a@c.example",
            "status": "on", "email_package_id": "3", "email_quota": 50000, "sms_quota": 2000,
            "transactions_package_id": 2, "transactions_quota": "10000", "deleted": "no",
            "address": "12 Loop Street, Cape Town City Centre", "state_provinces": "Western Cape",
            "postal_code": 8001, "telephone": "+27 21 555 0100",
            "website_url": "https://c.example", "country": "ZA",
            "industry": "Hospitality, Travel & Tourism", "unique_id": "CM-0001"
        }})
    }

    #[test]
    fn wrapped_customer_decodes_with_raw_kept() {
        let raw = seed_like();
        let c = customer_from_answer(&CustomerId::new("1001"), raw.clone()).unwrap();
        assert_eq!(c.id, CustomerId::new("1001"));
        assert_eq!(c.name.as_deref(), Some("Cape Mailers (Pty) Ltd"));
        assert_eq!(c.email.as_deref(), Some("a@c.example"));
        assert_eq!(c.status, Some(CustomerStatus::Active));
        assert_eq!(
            c.address.line1.as_deref(),
            Some("12 Loop Street, Cape Town City Centre")
        );
        assert_eq!(c.address.region.as_deref(), Some("Western Cape"));
        assert_eq!(c.address.postal_code.as_deref(), Some("8001"));
        assert_eq!(c.address.country.as_deref(), Some("ZA"));
        assert_eq!(c.phone.as_deref(), Some("+27 21 555 0100"));
        assert_eq!(c.website.as_deref(), Some("https://c.example"));
        assert_eq!(c.external_reference.as_deref(), Some("CM-0001"));
        assert_eq!(c.raw, raw);
        let f = EverlyticFields::from_customer(&c);
        assert_eq!(
            f,
            EverlyticFields {
                email_package_id: Some(3),
                email_quota: Some(50000),
                sms_quota: Some(2000),
                transactions_package_id: Some(2),
                transactions_quota: Some(10000),
                industry: Some(IndustryValue::Known(Industry::HospitalityTravelTourism)),
                deleted: Some(false),
            }
        );
    }

    #[test]
    fn bare_customer_decodes_and_other_answers_do_not() {
        let item = seed_like()["item"].clone();
        let c = customer_from_answer(&CustomerId::new("1001"), item.clone()).unwrap();
        assert_eq!(c.raw, item);
        assert_eq!(c.name.as_deref(), Some("Cape Mailers (Pty) Ltd"));
        let no_id = json!({"name": "N", "status": "frozen"});
        let c = customer_from_answer(&CustomerId::new("5"), no_id).unwrap();
        assert_eq!(c.id, CustomerId::new("5"));
        assert_eq!(c.status, Some(CustomerStatus::Other("frozen".into())));
        for not_customer in [json!(1001), json!(true), json!({"links": []}), json!("ok")] {
            let e = customer_from_answer(&CustomerId::new("5"), not_customer).unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{e:?}");
        }
        assert_eq!(
            EverlyticFields::from_raw(&json!(1)),
            EverlyticFields::default()
        );
    }
}

#[cfg(test)]
mod prop_tests {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,12}".prop_map(Value::from),
            proptest::sample::select(vec![
                "on",
                "off",
                "deleted",
                "yes",
                "no",
                "12",
                "-3",
                "Automotive",
            ])
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 48, 8, |inner| {
            let keys = proptest::sample::select(vec![
                "id",
                "item",
                "links",
                "name",
                "email",
                "status",
                "email_quota",
                "sms_quota",
                "industry",
                "deleted",
                "country",
                "postal_code",
                "error",
                "message",
                "x",
            ]);
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(keys, inner, 0..8).prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_answer_decodes_or_errors_without_panicking(v in json_value()) {
            let id = CustomerId::new("1");
            if let Ok(c) = customer_from_answer(&id, v.clone()) {
                prop_assert_eq!(&c.raw, &v);
            }
            let _ = EverlyticFields::from_raw(&v);
            let _ = crate::error::vendor_messages(v.to_string().as_bytes());
            let _ = crate::error::error_in_success(&v);
            if let Some(obj) = v.as_object() {
                let mut ch = CustomerWrite {
                    sms_quota: Some(1),
                    ..CustomerWrite::default()
                };
                drop_unchanged(&mut ch, obj);
                let _ = put_body(ch, Some(obj));
            }
        }

        #[test]
        fn any_bytes_give_messages_without_panicking(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            let m = crate::error::vendor_messages(&b);
            prop_assert!(m.iter().all(|s| !s.trim().is_empty()));
            if serde_json::from_slice::<Value>(&b).is_err() {
                prop_assert!(m.len() <= 1);
                prop_assert!(m.iter().all(|s| s.chars().count() <= 301));
            }
        }

        #[test]
        fn ids_accepted_iff_short_canonical_integers(s in "[0-9a-z/. -]{0,22}") {
            let ok = !s.is_empty()
                && s.len() <= 18
                && s.bytes().all(|b| b.is_ascii_digit())
                && !s.starts_with('0');
            prop_assert_eq!(check_id(&CustomerId::new(s.clone())).is_ok(), ok);
        }

        #[test]
        fn quotas_read_from_numbers_and_text_alike(n in any::<u64>()) {
            prop_assert_eq!(read_u64(Some(&Value::from(n))), Some(n));
            prop_assert_eq!(read_u64(Some(&Value::from(n.to_string()))), Some(n));
        }
    }
}
