//! Neutral model <-> Fusebill JSON, both ways, as pure functions.
//!
//! * [`customer_edits`] turns a neutral [`CustomerPatch`] (and its
//!   [`FusebillExtension`]) into the typed [`CustomerEdits`], validating
//!   every value against Fusebill's documented rules first, so nothing
//!   invalid is ever sent; [`edits`] gives them as the [`Edit`]s
//!   [`crate::merge::merge`] applies to the customer as read.
//! * [`customer_from_json`] reads Fusebill's customer JSON into a neutral
//!   [`Customer`], keeping the whole answer in [`Customer::raw`].

use serde_json::{Map, Value};
use tracing::warn;
use unibill_core::customer::json_text;
use unibill_core::{
    Change, Currency, Customer, CustomerId, CustomerPatch, CustomerStatus, Decimal, Error, Field,
    Money, Result,
};

use crate::extension::{FusebillExtension, SalesTrackingCode};
use crate::merge::Edit;
use crate::wire::{
    self, AcquisitionEdits, CustomerEdits, CustomerView, ReferenceEdits, Status, Title,
    TrackingCode,
};
use crate::KIND;

/// Maximum length of name parts, company, suffix and phones.
pub const MAX_SHORT: usize = 50;
/// Maximum length of emails, reference, reference1-3, acquisition fields
/// and sales tracking code types and codes.
pub const MAX_LONG: usize = 255;
/// Most sales tracking codes a customer can have.
pub const MAX_SALES_TRACKING_CODES: usize = 5;

/// Largest id Fusebill (a .NET service with signed 64-bit ids) has.
const MAX_ID: u64 = i64::MAX as u64;

/// Checks and parses a Fusebill customer id: a positive integer that fits Fusebill's
/// 64-bit ids, written as Fusebill writes it (no leading zero: the answer
/// must carry the id asked for). Anything else is a validation error
/// naming `id`.
pub fn check_id(id: &CustomerId) -> Result<u64> {
    let s = id.as_str();
    let bad = |why: &str| {
        Error::validation(
            "id",
            format!(
                "`{}` is not a Fusebill customer id: {why}",
                unibill_core::error::clip(s)
            ),
        )
    };
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("Fusebill ids are positive integers"));
    }
    match s.parse::<u64>() {
        Ok(0) => Err(bad("Fusebill ids start at 1")),
        Ok(_) if s.starts_with('0') => Err(bad("leading zero; write the id without it")),
        Ok(n) if n <= MAX_ID => Ok(n),
        _ => Err(bad("larger than a 64-bit id")),
    }
}

/// Fusebill's status for a neutral status a patch may set. `Suspended` is
/// refused (Fusebill suspends customers itself), as is any status Fusebill
/// does not have.
pub fn status_to_wire(status: &CustomerStatus) -> Result<Status> {
    match status {
        CustomerStatus::Draft => Ok(Status::Draft),
        CustomerStatus::Active => Ok(Status::Active),
        CustomerStatus::Hold => Ok(Status::Hold),
        CustomerStatus::Cancelled => Ok(Status::Cancelled),
        CustomerStatus::Suspended => Err(Error::validation(
            Field::Status.name(),
            "Fusebill does not let any API call suspend a customer: the system suspends \
             customers itself (e.g. for non-payment); use hold or cancelled instead",
        )),
        other => Err(Error::validation(
            Field::Status.name(),
            format!(
                "`{other}` is not a Fusebill status; a patch may set draft, active, hold or cancelled"
            ),
        )),
    }
}

/// The neutral status of a Fusebill status text (case-insensitive);
/// unknown texts are kept as [`CustomerStatus::Other`].
pub fn status_from_wire(text: &str) -> CustomerStatus {
    match Status::from_text(text) {
        Some(Status::Draft) => CustomerStatus::Draft,
        Some(Status::Active) => CustomerStatus::Active,
        Some(Status::Hold) => CustomerStatus::Hold,
        Some(Status::Suspended) => CustomerStatus::Suspended,
        Some(Status::Cancelled) => CustomerStatus::Cancelled,
        None => CustomerStatus::Other(text.to_owned()),
    }
}

/// The Fusebill title for `text` (`mr`, `Mr.` -> [`Title::Mr`]); other
/// titles are refused: Fusebill accepts only Mr, Mrs, Ms, Miss and Dr.
pub fn title_to_wire(text: &str) -> Result<Title> {
    let t = text.trim();
    let t = t.strip_suffix('.').unwrap_or(t);
    Title::from_text(t).ok_or_else(|| {
        Error::validation(
            Field::Title.name(),
            format!("`{text}` is not a Fusebill title; use one of Mr, Mrs, Ms, Miss, Dr"),
        )
    })
}

/// Length as Fusebill (a .NET service) counts it: UTF-16 code units, so a
/// character outside the Basic Multilingual Plane counts twice.
pub fn wire_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn check_len(field: &str, s: &str, max: usize) -> Result<()> {
    let n = wire_len(s);
    if n > max {
        return Err(Error::validation(
            field,
            format!("{n} characters; Fusebill allows at most {max}"),
        ));
    }
    Ok(())
}

fn check_text(field: &str, s: &str, max: usize) -> Result<()> {
    unibill_core::check::text(field, s)?;
    check_len(field, s, max)
}

/// An email field: one address or several separated by `;`
/// (`"a@x.com; b@y.com"`), at most 255 characters in all.
fn check_emails(field: &str, s: &str) -> Result<()> {
    check_text(field, s, MAX_LONG)?;
    for part in s.split(';').map(str::trim) {
        if part.is_empty() {
            return Err(Error::validation(
                field,
                "empty entry in the `;`-separated list of addresses",
            ));
        }
        if !unibill_core::check::is_email(part) {
            return Err(Error::validation(
                field,
                format!("`{part}` is not an email address"),
            ));
        }
    }
    Ok(())
}

/// The edit of `change`: a set goes through `to_wire`, which validates
/// and gives the value to send; a clear sends `null` (`Some(None)`).
fn change<T, W>(
    change: &Change<T>,
    to_wire: impl FnOnce(&T) -> Result<W>,
) -> Result<Option<Option<W>>> {
    Ok(match change {
        Change::Keep => None,
        Change::Set(v) => Some(Some(to_wire(v)?)),
        Change::Clear => Some(None),
    })
}

fn text(field: &str, c: &Change<String>, max: usize) -> Result<Option<Option<String>>> {
    change(c, |s| {
        check_text(field, s, max)?;
        Ok(s.clone())
    })
}

fn emails(field: &str, c: &Change<String>) -> Result<Option<Option<String>>> {
    change(c, |s| {
        check_emails(field, s)?;
        Ok(s.trim().to_owned())
    })
}

/// An id held in an extension field (`parentId`, `quickBooksId`).
fn extension_id(field: &str, n: u64) -> Result<u64> {
    if n == 0 || n > MAX_ID {
        return Err(Error::validation(
            field,
            format!("{n} is not an id: ids are integers from 1 to 2^63-1"),
        ));
    }
    Ok(n)
}

fn sales_tracking_codes(codes: &[SalesTrackingCode]) -> Result<Vec<TrackingCode>> {
    const FIELD: &str = "extensions.fusebill.sales_tracking_codes";
    if codes.len() > MAX_SALES_TRACKING_CODES {
        return Err(Error::validation(
            FIELD,
            format!(
                "{} codes; Fusebill allows at most {MAX_SALES_TRACKING_CODES}",
                codes.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(codes.len());
    for (i, c) in codes.iter().enumerate() {
        check_text(&format!("{FIELD}[{i}].type"), &c.kind, MAX_LONG)?;
        check_text(&format!("{FIELD}[{i}].code"), &c.code, MAX_LONG)?;
        if codes[..i]
            .iter()
            .any(|p| p.kind.trim().eq_ignore_ascii_case(c.kind.trim()))
        {
            return Err(Error::validation(
                format!("{FIELD}[{i}].type"),
                format!("type `{}` is given more than once", c.kind),
            ));
        }
        out.push(TrackingCode {
            kind: c.kind.clone(),
            code: c.code.clone(),
        });
    }
    Ok(out)
}

/// Validates `patch` against Fusebill's rules and turns it into the typed
/// [`CustomerEdits`]. `id` is the customer's id (a customer cannot be its
/// own parent). Every error is raised here, before any request.
///
/// The patch must already have passed the capability check (fields
/// Fusebill does not have, such as tags, are refused there); this function
/// ignores them.
pub fn customer_edits(id: u64, patch: &CustomerPatch) -> Result<CustomerEdits> {
    let mut w = CustomerEdits {
        title: change(&patch.title, |t| title_to_wire(t))?,
        first_name: text(Field::FirstName.name(), &patch.first_name, MAX_SHORT)?,
        middle_name: text(Field::MiddleName.name(), &patch.middle_name, MAX_SHORT)?,
        last_name: text(Field::LastName.name(), &patch.last_name, MAX_SHORT)?,
        suffix: text(Field::Suffix.name(), &patch.suffix, MAX_SHORT)?,
        company_name: text(Field::Company.name(), &patch.company, MAX_SHORT)?,
        primary_email: emails(Field::Email.name(), &patch.email)?,
        secondary_email: emails(Field::SecondaryEmail.name(), &patch.secondary_email)?,
        primary_phone: text(Field::Phone.name(), &patch.phone, MAX_SHORT)?,
        secondary_phone: text(
            Field::SecondaryPhone.name(),
            &patch.secondary_phone,
            MAX_SHORT,
        )?,
        reference: text(
            Field::ExternalReference.name(),
            &patch.external_reference,
            MAX_LONG,
        )?,
        ..CustomerEdits::default()
    };
    if matches!(patch.status, Change::Clear) {
        return Err(Error::validation(
            Field::Status.name(),
            "Fusebill requires a status on every customer; it cannot be cleared",
        ));
    }
    w.status = change(&patch.status, status_to_wire)?.flatten();
    if matches!(patch.currency, Change::Clear) {
        return Err(Error::validation(
            Field::Currency.name(),
            "clearing would silently switch the customer to the account's default \
             currency; set the currency you want instead",
        ));
    }
    w.currency = change(&patch.currency, |c| Ok(c.as_str().to_owned()))?.flatten();
    let q = &patch.acquisition;
    w.customer_acquisition = AcquisitionEdits {
        campaign: text(Field::Campaign.name(), &q.campaign, MAX_LONG)?,
        source: text(Field::AcquisitionSource.name(), &q.source, MAX_LONG)?,
        medium: text(Field::Medium.name(), &q.medium, MAX_LONG)?,
        keyword: text(Field::Keyword.name(), &q.keyword, MAX_LONG)?,
        ad_content: text(Field::AdContent.name(), &q.ad_content, MAX_LONG)?,
        landing_page: text(Field::LandingPage.name(), &q.landing_page, MAX_LONG)?,
    };
    if let Some(ext) = patch.get_extension::<FusebillExtension>()? {
        w.customer_reference = ReferenceEdits {
            reference1: text("extensions.fusebill.reference1", &ext.reference1, MAX_LONG)?,
            reference2: text("extensions.fusebill.reference2", &ext.reference2, MAX_LONG)?,
            reference3: text("extensions.fusebill.reference3", &ext.reference3, MAX_LONG)?,
            sales_tracking_codes: match &ext.sales_tracking_codes {
                Change::Keep => None,
                // An empty list, not null: the customer keeps a list.
                Change::Clear => Some(Vec::new()),
                Change::Set(c) => Some(sales_tracking_codes(c)?),
            },
        };
        const PARENT: &str = "extensions.fusebill.parent_id";
        w.parent_id = change(&ext.parent_id, |&n| {
            if n == id {
                return Err(Error::validation(
                    PARENT,
                    "a customer cannot be its own parent",
                ));
            }
            extension_id(PARENT, n)
        })?;
        w.quick_books_latch_type = change(&ext.quickbooks_latch_type, |t| Ok(t.as_str()))?;
        w.quick_books_id = change(&ext.quickbooks_id, |&n| {
            extension_id("extensions.fusebill.quickbooks_id", n)
        })?;
    }
    Ok(w)
}

/// Validates `patch` against Fusebill's rules ([`customer_edits`]) and
/// turns it into the edits of the customer JSON that [`crate::merge`]
/// applies, in a fixed order. Every error is raised before any request.
pub fn edits(id: u64, patch: &CustomerPatch) -> Result<Vec<Edit>> {
    customer_edits(id, patch)?
        .into_edits()
        .map_err(|e| Error::decode(KIND, "customer edits", e))
}

/// Checks that `raw` is a customer object about `id` (its `id` property,
/// a number or a string, equals the id asked for) and returns the object.
pub fn check_record<'a>(id: &CustomerId, raw: &'a Value) -> Result<&'a Map<String, Value>> {
    let Some(obj) = raw.as_object() else {
        return Err(Error::decode(KIND, "customer", "expected a JSON object"));
    };
    match json_text(wire::get_ci(obj, wire::ID)) {
        Some(got) if got == id.as_str() => Ok(obj),
        Some(got) => Err(Error::decode(
            KIND,
            "customer",
            format!("asked for customer {id}, Fusebill answered customer {got}"),
        )),
        None => Err(Error::decode(KIND, "customer", "the answer has no `id`")),
    }
}

/// Reads Fusebill's customer JSON into a neutral [`Customer`].
///
/// `id` is the id that was asked for; an answer about another customer is
/// a decode error. Numbers where Fusebill documents strings (phones,
/// `reference`) become text; the MRR, in decimal currency units, becomes
/// exact minor units of the customer's currency. [`Customer::raw`] keeps
/// the answer unchanged.
pub fn customer_from_json(id: &CustomerId, raw: Value) -> Result<Customer> {
    let w = CustomerView::of(check_record(id, &raw)?);
    let mut c = Customer::new(id.clone(), Value::Null);
    c.title = json_text(w.title);
    c.first_name = json_text(w.first_name);
    c.middle_name = json_text(w.middle_name);
    c.last_name = json_text(w.last_name);
    c.suffix = json_text(w.suffix);
    c.company = json_text(w.company_name);
    c.email = json_text(w.primary_email);
    c.secondary_email = json_text(w.secondary_email);
    c.phone = json_text(w.primary_phone);
    c.secondary_phone = json_text(w.secondary_phone);
    c.external_reference = json_text(w.reference);
    c.status = json_text(w.status).map(|s| status_from_wire(&s));
    c.currency = json_text(w.currency).and_then(|s| match Currency::new(s.trim()) {
        Ok(cur) => Some(cur),
        Err(_) => {
            warn!(backend = %KIND, customer = %id, currency = %s, "unknown currency code");
            None
        }
    });
    c.mrr = mrr(id, w.monthly_recurring_revenue, c.currency);
    if let Some(a) = w.customer_acquisition {
        c.acquisition.campaign = json_text(a.campaign);
        c.acquisition.source = json_text(a.source);
        c.acquisition.medium = json_text(a.medium);
        c.acquisition.keyword = json_text(a.keyword);
        c.acquisition.ad_content = json_text(a.ad_content);
        c.acquisition.landing_page = json_text(a.landing_page);
    }
    c.raw = raw;
    Ok(c)
}

/// `monthlyRecurringRevenue` (decimal currency units, a JSON number or a
/// numeric string) as exact minor units; `None` when absent, when the
/// currency is unknown or when the amount is not a whole number of minor
/// units (never rounded; [`Customer::raw`] keeps it).
fn mrr(id: &CustomerId, v: Option<&Value>, currency: Option<Currency>) -> Option<Money> {
    let amount = match v? {
        Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
        Value::String(s) => s.parse::<Decimal>().ok(),
        _ => None,
    };
    let (Some(amount), Some(currency)) = (amount, currency) else {
        if !v?.is_null() {
            warn!(backend = %KIND, customer = %id, "monthlyRecurringRevenue not read: no currency or not a number");
        }
        return None;
    };
    match Money::from_major(amount, currency) {
        Ok(m) => Some(m),
        Err(e) => {
            warn!(backend = %KIND, customer = %id, error = %e, "monthlyRecurringRevenue not read");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extension::QuickBooksLatchType;
    use serde_json::json;
    use unibill_core::Error;

    fn field_of(e: Error) -> String {
        match e {
            Error::Validation { field, .. } => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn ids_must_be_positive_integers() {
        assert_eq!(check_id(&"12000750".into()).unwrap(), 12000750);
        for bad in [
            "",
            "0",
            "-1",
            "+5",
            "12a",
            "1.5",
            " 1",
            "012000750",
            "00",
            "cus_123",
            "99999999999999999999",
        ] {
            assert_eq!(field_of(check_id(&bad.into()).unwrap_err()), "id", "{bad}");
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(
            status_to_wire(&CustomerStatus::Hold).unwrap().as_str(),
            "Hold"
        );
        let e = status_to_wire(&CustomerStatus::Suspended).unwrap_err();
        assert!(e.to_string().contains("suspends customers itself"), "{e}");
        assert_eq!(field_of(e), "status");
        assert_eq!(
            field_of(status_to_wire(&CustomerStatus::PastDue).unwrap_err()),
            "status"
        );
        assert_eq!(status_from_wire("ACTIVE"), CustomerStatus::Active);
        assert_eq!(status_from_wire("Suspended"), CustomerStatus::Suspended);
        assert_eq!(
            status_from_wire("Frozen"),
            CustomerStatus::Other("Frozen".into())
        );
    }

    #[test]
    fn titles() {
        assert_eq!(title_to_wire("miss").unwrap().as_str(), "Miss");
        assert_eq!(title_to_wire("Dr.").unwrap().as_str(), "Dr");
        assert_eq!(field_of(title_to_wire("Sir").unwrap_err()), "title");
    }

    #[test]
    fn edits_cover_every_mapped_field() {
        let patch = CustomerPatch::new()
            .title("mr")
            .first_name("A")
            .clear_middle_name()
            .last_name("B")
            .suffix("Jr.")
            .company("Acme")
            .email("a@x.com; b@y.org")
            .clear_secondary_email()
            .phone("+1 555")
            .secondary_phone("2")
            .external_reference("ext-1")
            .status(CustomerStatus::Cancelled)
            .currency("CAD")
            .campaign("c")
            .acquisition_source("s")
            .medium("m")
            .keyword("k")
            .ad_content("ad")
            .clear_landing_page()
            .extension(
                FusebillExtension::new()
                    .reference1("r1")
                    .clear_reference2()
                    .sales_tracking_codes([SalesTrackingCode::new("Sales Tracking Code 1", "X")])
                    .parent_id(5u64)
                    .quickbooks_latch_type(QuickBooksLatchType::CreateNew)
                    .clear_quickbooks_id(),
            );
        let got: Vec<(String, Value)> = edits(7, &patch)
            .unwrap()
            .into_iter()
            .map(|e| (e.dotted(), e.value))
            .collect();
        let want: Vec<(String, Value)> = [
            ("title", json!("Mr")),
            ("firstName", json!("A")),
            ("middleName", Value::Null),
            ("lastName", json!("B")),
            ("suffix", json!("Jr.")),
            ("companyName", json!("Acme")),
            ("primaryEmail", json!("a@x.com; b@y.org")),
            ("secondaryEmail", Value::Null),
            ("primaryPhone", json!("+1 555")),
            ("secondaryPhone", json!("2")),
            ("reference", json!("ext-1")),
            ("status", json!("Cancelled")),
            ("currency", json!("CAD")),
            ("customerAcquisition.campaign", json!("c")),
            ("customerAcquisition.source", json!("s")),
            ("customerAcquisition.medium", json!("m")),
            ("customerAcquisition.keyword", json!("k")),
            ("customerAcquisition.adContent", json!("ad")),
            ("customerAcquisition.landingPage", Value::Null),
            ("customerReference.reference1", json!("r1")),
            ("customerReference.reference2", Value::Null),
            (
                "customerReference.salesTrackingCodes",
                json!([{"type": "Sales Tracking Code 1", "code": "X"}]),
            ),
            ("parentId", json!(5)),
            ("quickBooksLatchType", json!("CreateNew")),
            ("quickBooksId", Value::Null),
        ]
        .into_iter()
        .map(|(p, v)| (p.to_owned(), v))
        .collect();
        assert_eq!(got, want);
        assert!(edits(7, &CustomerPatch::new()).unwrap().is_empty());
    }

    #[test]
    fn validation_names_the_field() {
        let long50 = "x".repeat(51);
        let long255 = "y".repeat(256);
        // 26 emoji = 52 UTF-16 units > 50, though only 26 characters.
        let emoji = "\u{1F600}".repeat(26);
        let ext = |e: FusebillExtension| CustomerPatch::new().extension(e);
        let code = |t: &str, c: &str| SalesTrackingCode::new(t, c);
        let cases: Vec<(CustomerPatch, &str)> = vec![
            (CustomerPatch::new().first_name(&long50), "first_name"),
            (CustomerPatch::new().last_name(emoji), "last_name"),
            (CustomerPatch::new().middle_name(&long50), "middle_name"),
            (CustomerPatch::new().suffix(&long50), "suffix"),
            (CustomerPatch::new().company(&long50), "company"),
            (CustomerPatch::new().phone(&long50), "phone"),
            (
                CustomerPatch::new().secondary_phone(&long50),
                "secondary_phone",
            ),
            (
                CustomerPatch::new().email(format!("{long255}@x.com")),
                "email",
            ),
            (CustomerPatch::new().email("not-an-email"), "email"),
            (CustomerPatch::new().email("a@x.com;"), "email"),
            (
                CustomerPatch::new().secondary_email("a@b"),
                "secondary_email",
            ),
            (
                CustomerPatch::new().external_reference(&long255),
                "external_reference",
            ),
            (
                CustomerPatch::new().campaign(&long255),
                "acquisition.campaign",
            ),
            (
                CustomerPatch::new().landing_page(&long255),
                "acquisition.landing_page",
            ),
            (CustomerPatch::new().title("Sir"), "title"),
            (
                CustomerPatch::new().status(CustomerStatus::Suspended),
                "status",
            ),
            (CustomerPatch::new().clear_status(), "status"),
            (CustomerPatch::new().clear_currency(), "currency"),
            (
                ext(FusebillExtension::new().reference3(&long255)),
                "extensions.fusebill.reference3",
            ),
            (
                ext(FusebillExtension::new().reference1(" ")),
                "extensions.fusebill.reference1",
            ),
            (
                ext(FusebillExtension::new().parent_id(7u64)),
                "extensions.fusebill.parent_id",
            ),
            (
                ext(FusebillExtension::new().parent_id(0u64)),
                "extensions.fusebill.parent_id",
            ),
            (
                ext(FusebillExtension::new().sales_tracking_codes(
                    (1..=6).map(|i| code(&format!("Sales Tracking Code {i}"), "c")),
                )),
                "extensions.fusebill.sales_tracking_codes",
            ),
            (
                ext(FusebillExtension::new().sales_tracking_codes([code("T", &long255)])),
                "extensions.fusebill.sales_tracking_codes[0].code",
            ),
            (
                ext(FusebillExtension::new().sales_tracking_codes([code("T", "a"), code("t", "b")])),
                "extensions.fusebill.sales_tracking_codes[1].type",
            ),
        ];
        for (patch, field) in cases {
            assert_eq!(field_of(edits(7, &patch).unwrap_err()), field);
        }
        // Exactly at the limits is fine.
        let ok = CustomerPatch::new()
            .first_name("x".repeat(50))
            .email(format!("{}@x.com", "a".repeat(249)));
        assert_eq!(edits(7, &ok).unwrap().len(), 2);
    }

    #[test]
    fn decoding_requires_the_asked_id() {
        let e = customer_from_json(&"5".into(), json!({"id": 6})).unwrap_err();
        assert!(e.to_string().contains("customer 6"), "{e}");
        assert!(customer_from_json(&"5".into(), json!({"firstName": "x"})).is_err());
        assert!(customer_from_json(&"5".into(), json!("5")).is_err());
        let c = customer_from_json(&"5".into(), json!({"ID": "5", "Status": "hold"})).unwrap();
        assert_eq!(c.status, Some(CustomerStatus::Hold));
    }

    #[test]
    fn mrr_is_exact_or_absent() {
        let read = |mrr: Value, cur: &str| {
            customer_from_json(
                &"1".into(),
                json!({"id": 1, "currency": cur, "monthlyRecurringRevenue": mrr}),
            )
            .unwrap()
            .mrr
        };
        assert_eq!(
            read(json!(250), "USD"),
            Some(Money::from_minor(25000, Currency::USD))
        );
        assert_eq!(read(json!(19.99), "USD").unwrap().minor_units, 1999);
        assert_eq!(read(json!("0.10"), "USD").unwrap().minor_units, 10);
        assert_eq!(read(json!(300), "JPY").unwrap().minor_units, 300);
        assert_eq!(read(json!(1.005), "USD"), None);
        assert_eq!(read(json!(250), "XYZ"), None);
        assert_eq!(read(Value::Null, "USD"), None);
    }
}
