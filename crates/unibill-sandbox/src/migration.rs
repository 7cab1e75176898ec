//! Two vendors holding the same customers, with known drift: the set-up of
//! a migration rehearsal ([`Sandbox::seed_migration`]).
//!
//! Each customer is first described neutrally (name, email, company, ...),
//! then written into each vendor's store in that vendor's own shape
//! (ChartMogul's `website_url` and cents, Fusebill's `companyName` and
//! decimal MRR, Everlytic's `telephone` and `on`/`off` status, Stripe's
//! `address` object and `metadata[external_id]`). The truth
//! returned is computed from the neutral descriptions, field by field,
//! over the fields both vendors' stores carry.

use serde_json::{json, Value};
use unibill_core::{Currency, CustomerStatus, Field, Money};

use crate::{Sandbox, Vendor};

/// How many customers [`Sandbox::seed_migration`] adds, and how many of
/// them drift.
///
/// ```
/// use unibill_sandbox::MigrationScenario;
/// let small = MigrationScenario { matched: 50, ..MigrationScenario::default() };
/// assert_eq!(small.drift_every, 10);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationScenario {
    /// Customers held by both vendors under the same own reference
    /// (default 1,000).
    pub matched: usize,
    /// One matched customer in this many differs between the vendors
    /// (default 10: 10% drift). 0 seeds no drift.
    pub drift_every: usize,
    /// Customers only on the left, and as many only on the right (default 20).
    pub unmatched: usize,
    /// Own references held by two customers on the left and one on the
    /// right (default 3).
    pub ambiguous: usize,
}

impl Default for MigrationScenario {
    fn default() -> Self {
        Self {
            matched: 1_000,
            drift_every: 10,
            unmatched: 20,
            ambiguous: 3,
        }
    }
}

/// One seeded difference: a matched pair whose `field` holds `left` on
/// the left vendor and `right` on the right one, as neutral JSON (the
/// form a unibill `Customer` serializes to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededDifference {
    /// The pair's own reference.
    pub key: String,
    /// The customer's id on the left.
    pub left_id: String,
    /// The customer's id on the right.
    pub right_id: String,
    /// The field.
    pub field: Field,
    /// The neutral value on the left (`null` when absent).
    pub left: Value,
    /// The neutral value on the right.
    pub right: Value,
}

/// What [`Sandbox::seed_migration`] wrote: the truth a comparison of the
/// two vendors must find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeededDrift {
    /// The fields both vendors' stores carry, other than the own
    /// reference the pairs match by: the fields the drift is spread over.
    pub fields: Vec<Field>,
    /// The matched pairs: own reference, left id, right id.
    pub pairs: Vec<(String, String, String)>,
    /// Every seeded difference, sorted by key then field.
    pub differences: Vec<SeededDifference>,
    /// The ids of the customers only on the left.
    pub unmatched_left: Vec<String>,
    /// The ids of the customers only on the right.
    pub unmatched_right: Vec<String>,
    /// The own references held by several customers (sorted).
    pub ambiguous: Vec<String>,
}

/// A customer described neutrally, as both vendors should hold it.
#[derive(Clone, Debug)]
struct Person {
    reference: String,
    name: String,
    company: String,
    email: String,
    phone: String,
    website: String,
    line1: String,
    city: String,
    region: String,
    postal_code: String,
    country: String,
    status: CustomerStatus,
    currency: String,
    mrr_cents: i64,
    /// The one custom attribute (`plan`), where a vendor holds custom
    /// attributes (ChartMogul's `attributes.custom`, Stripe's metadata).
    plan: String,
}

impl Person {
    fn new(n: usize, reference: String) -> Self {
        Self {
            reference,
            name: format!("Customer {n}"),
            company: format!("Company {n} Ltd"),
            email: format!("customer{n}@example.com"),
            phone: format!("555-{:04}", n % 10_000),
            website: format!("https://c{n}.example.com"),
            line1: format!("{n} Long Street"),
            city: "Cape Town".into(),
            region: "Western Cape".into(),
            postal_code: format!("{:04}", 8000 + n % 1000),
            country: "ZA".into(),
            status: CustomerStatus::Active,
            currency: "USD".into(),
            mrr_cents: 1_000 + (n as i64 % 50) * 100,
            plan: "gold".into(),
        }
    }

    /// This person with `field` changed to another value `vendor` can
    /// hold (its own statuses, a currency it knows).
    fn drifted(&self, field: Field, vendor: Vendor) -> Self {
        let mut p = self.clone();
        match field {
            Field::DisplayName => p.name.push_str(" (old)"),
            Field::Company => p.company = format!("Old {}", p.company),
            Field::Email => p.email = p.email.replace("@example.com", "@old.example.com"),
            Field::Phone => p.phone = format!("555-9{}", &p.phone[5..]),
            Field::Website => p.website = p.website.replace("https://", "https://old."),
            Field::AddressLine1 => p.line1.push_str(" (old)"),
            Field::City => p.city = "Durban".into(),
            Field::Region => p.region = "KwaZulu-Natal".into(),
            Field::PostalCode => p.postal_code = "4001".into(),
            Field::Country => p.country = "NA".into(),
            Field::Status => {
                p.status = match vendor {
                    Vendor::Everlytic => CustomerStatus::Suspended,
                    // Stripe holds no status (never among its fields).
                    Vendor::ChartMogul | Vendor::Fusebill | Vendor::Stripe => {
                        CustomerStatus::Cancelled
                    }
                }
            }
            Field::Currency => p.currency = "EUR".into(),
            Field::Mrr => p.mrr_cents += 250,
            Field::CustomAttributes => p.plan = "silver".into(),
            _ => {}
        }
        p
    }

    /// `field` as neutral JSON (`null` for a field this seeding does not
    /// hold).
    fn neutral(&self, field: Field) -> Value {
        let text = |s: &str| Value::String(s.to_owned());
        match field {
            Field::DisplayName => text(&self.name),
            Field::Company => text(&self.company),
            Field::Email => text(&self.email),
            Field::Phone => text(&self.phone),
            Field::Website => text(&self.website),
            Field::AddressLine1 => text(&self.line1),
            Field::City => text(&self.city),
            Field::Region => text(&self.region),
            Field::PostalCode => text(&self.postal_code),
            Field::Country => text(&self.country),
            Field::Status => serde_json::to_value(&self.status).unwrap_or(Value::Null),
            Field::Currency => text(&self.currency),
            Field::Mrr => match Currency::new(&self.currency) {
                Ok(c) => serde_json::to_value(Money::from_minor(self.mrr_cents, c))
                    .unwrap_or(Value::Null),
                Err(_) => Value::Null,
            },
            Field::ExternalReference => text(&self.reference),
            Field::CustomAttributes => json!({ "plan": self.plan }),
            _ => Value::Null,
        }
    }
}

/// The neutral fields `vendor`'s store carries for the seeding (as the
/// unibill backends read them).
fn fields_of(vendor: Vendor) -> &'static [Field] {
    match vendor {
        Vendor::ChartMogul => &[
            Field::DisplayName,
            Field::Company,
            Field::Email,
            Field::Website,
            Field::City,
            Field::Region,
            Field::PostalCode,
            Field::Country,
            Field::Status,
            Field::Currency,
            Field::Mrr,
            Field::ExternalReference,
            Field::CustomAttributes,
        ],
        Vendor::Fusebill => &[
            Field::Company,
            Field::Email,
            Field::Phone,
            Field::Status,
            Field::Currency,
            Field::Mrr,
            Field::ExternalReference,
        ],
        Vendor::Everlytic => &[
            Field::DisplayName,
            Field::Email,
            Field::Phone,
            Field::Website,
            Field::AddressLine1,
            Field::Region,
            Field::PostalCode,
            Field::Country,
            Field::Status,
            Field::ExternalReference,
        ],
        // Stripe's customer has no company, website or status; its
        // `currency` (lower case at Stripe) is set by its first invoice or
        // subscription, and read only; the own reference is
        // `metadata[external_id]`, the other metadata its custom
        // attributes.
        Vendor::Stripe => &[
            Field::DisplayName,
            Field::Email,
            Field::Phone,
            Field::AddressLine1,
            Field::City,
            Field::Region,
            Field::PostalCode,
            Field::Country,
            Field::Currency,
            Field::ExternalReference,
            Field::CustomAttributes,
        ],
    }
}

/// Writes `p` into `stored`, a customer in `vendor`'s own shape.
fn write(vendor: Vendor, stored: &mut Value, p: &Person) {
    let mut put = |properties: Vec<(&str, Value)>| {
        for (key, value) in properties {
            stored[key] = value;
        }
    };
    match vendor {
        Vendor::ChartMogul => {
            let status = match p.status {
                CustomerStatus::Cancelled => "Cancelled",
                _ => "Active",
            };
            put(vec![
                ("name", json!(p.name)),
                ("company", json!(p.company)),
                ("email", json!(p.email)),
                ("website_url", json!(p.website)),
                ("city", json!(p.city)),
                ("state", json!(p.region)),
                ("zip", json!(p.postal_code)),
                ("country", json!(p.country)),
                ("status", json!(status)),
                ("currency", json!(p.currency)),
                ("mrr", json!(p.mrr_cents)),
                ("external_id", json!(p.reference)),
                ("external_ids", json!([p.reference])),
            ]);
            stored["attributes"]["custom"] = json!({ "plan": p.plan });
        }
        Vendor::Fusebill => {
            let status = match p.status {
                CustomerStatus::Cancelled => "Cancelled",
                CustomerStatus::Suspended => "Suspended",
                _ => "Active",
            };
            let mrr = serde_json::Number::from_f64(p.mrr_cents as f64 / 100.0)
                .map_or(Value::Null, Value::Number);
            put(vec![
                ("companyName", json!(p.company)),
                ("primaryEmail", json!(p.email)),
                ("primaryPhone", json!(p.phone)),
                ("status", json!(status)),
                ("currency", json!(p.currency)),
                ("monthlyRecurringRevenue", mrr),
                ("reference", json!(p.reference)),
            ]);
        }
        Vendor::Everlytic => {
            let status = match p.status {
                CustomerStatus::Suspended => "suspended",
                CustomerStatus::Inactive => "off",
                _ => "on",
            };
            put(vec![
                ("name", json!(p.name)),
                ("email", json!(p.email)),
                ("telephone", json!(p.phone)),
                ("website_url", json!(p.website)),
                ("address", json!(p.line1)),
                ("state_provinces", json!(p.region)),
                ("postal_code", json!(p.postal_code)),
                ("country", json!(p.country)),
                ("status", json!(status)),
                ("unique_id", json!(p.reference)),
            ]);
        }
        Vendor::Stripe => {
            put(vec![
                ("name", json!(p.name)),
                ("email", json!(p.email)),
                ("phone", json!(p.phone)),
                (
                    "address",
                    json!({
                        "city": p.city,
                        "country": p.country,
                        "line1": p.line1,
                        "line2": null,
                        "postal_code": p.postal_code,
                        "state": p.region,
                    }),
                ),
                ("currency", json!(p.currency.to_ascii_lowercase())),
                (
                    "metadata",
                    json!({"external_id": p.reference, "plan": p.plan}),
                ),
            ]);
        }
    }
}

impl Sandbox {
    /// Seeds `left` and `right` for a migration rehearsal, and returns the
    /// truth a comparison must find:
    ///
    /// - [`MigrationScenario::matched`] customers held by both under the
    ///   same own reference (`MIG-00001`, ...: ChartMogul's `external_id`,
    ///   Fusebill's `reference`, Everlytic's `unique_id`, Stripe's
    ///   `metadata[external_id]`), equal on every
    ///   field both carry, except one in [`MigrationScenario::drift_every`],
    ///   whose right copy differs on one field, the fields taken in turn
    ///   (so the drift covers every field both carry; a drifted currency
    ///   also changes the MRR, whose amount is in it);
    /// - [`MigrationScenario::unmatched`] customers only on the left
    ///   (`LEFT-ONLY-…`) and as many only on the right (`RIGHT-ONLY-…`);
    /// - [`MigrationScenario::ambiguous`] references (`DUP-…`) held by two
    ///   customers on the left and one on the right.
    ///
    /// The customers already held (the vendors' example customers) stay,
    /// under their own references; they pair with nothing on the other
    /// side. `left` and `right` must differ (panics otherwise: the two
    /// sides would be one store).
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// use unibill_sandbox::{MigrationScenario, Sandbox, Vendor};
    /// let sandbox = Sandbox::start().await?;
    /// let truth = sandbox.seed_migration(Vendor::Fusebill, Vendor::ChartMogul, &MigrationScenario::default());
    /// assert_eq!(truth.pairs.len(), 1_000);
    /// assert_eq!(truth.ambiguous.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn seed_migration(
        &self,
        left: Vendor,
        right: Vendor,
        scenario: &MigrationScenario,
    ) -> SeededDrift {
        assert_ne!(left, right, "a migration needs two different vendors");
        let right_fields = fields_of(right);
        let fields: Vec<Field> = fields_of(left)
            .iter()
            .copied()
            .filter(|f| right_fields.contains(f) && *f != Field::ExternalReference)
            .collect();
        let (lh, rh) = (self.vendor(left), self.vendor(right));
        let mut truth = SeededDrift {
            fields: fields.clone(),
            ..SeededDrift::default()
        };
        let lids = lh.add_customers(scenario.matched);
        let rids = rh.add_customers(scenario.matched);
        let mut drifted = 0;
        for (n, (lid, rid)) in lids.iter().zip(&rids).enumerate() {
            let key = format!("MIG-{n:05}");
            let person = Person::new(n, key.clone());
            let other = if scenario.drift_every > 0 && n % scenario.drift_every == 0 {
                let field = fields.get(drifted % fields.len().max(1)).copied();
                drifted += 1;
                field.map_or_else(|| person.clone(), |f| person.drifted(f, right))
            } else {
                person.clone()
            };
            for field in &fields {
                let (a, b) = (person.neutral(*field), other.neutral(*field));
                if a != b {
                    truth.differences.push(SeededDifference {
                        key: key.clone(),
                        left_id: lid.clone(),
                        right_id: rid.clone(),
                        field: *field,
                        left: a,
                        right: b,
                    });
                }
            }
            lh.update_customer(lid, |c| write(left, c, &person));
            rh.update_customer(rid, |c| write(right, c, &other));
            truth.pairs.push((key, lid.clone(), rid.clone()));
        }
        let base = scenario.matched;
        for (side, handle, vendor, label) in [
            (&mut truth.unmatched_left, lh, left, "LEFT"),
            (&mut truth.unmatched_right, rh, right, "RIGHT"),
        ] {
            let ids = handle.add_customers(scenario.unmatched);
            for (k, id) in ids.iter().enumerate() {
                let p = Person::new(base + k, format!("{label}-ONLY-{k:03}"));
                handle.update_customer(id, |c| write(vendor, c, &p));
            }
            side.extend(ids);
        }
        for k in 0..scenario.ambiguous {
            let key = format!("DUP-{k:03}");
            for (handle, vendor, copies) in [(lh, left, 2), (rh, right, 1)] {
                for (j, id) in handle.add_customers(copies).iter().enumerate() {
                    let p = Person::new(base + scenario.unmatched + 2 * k + j, key.clone());
                    handle.update_customer(id, |c| write(vendor, c, &p));
                }
            }
            truth.ambiguous.push(key);
        }
        truth
            .differences
            .sort_by(|a, b| (&a.key, a.field).cmp(&(&b.key, b.field)));
        truth
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_touches_every_shared_field_and_only_one_per_drifted_pair_but_currency() {
        let p = Person::new(7, "MIG-00007".into());
        for vendor in Vendor::ALL.iter().copied() {
            for field in fields_of(vendor) {
                if *field == Field::ExternalReference {
                    continue;
                }
                let q = p.drifted(*field, vendor);
                let changed: Vec<Field> = fields_of(vendor)
                    .iter()
                    .copied()
                    .filter(|f| p.neutral(*f) != q.neutral(*f))
                    .collect();
                let holds_mrr = fields_of(vendor).contains(&Field::Mrr);
                let expected: &[Field] = match field {
                    Field::Currency if holds_mrr => &[Field::Currency, Field::Mrr],
                    f => std::slice::from_ref(f),
                };
                assert_eq!(changed, expected, "{vendor:?} {field}");
            }
        }
    }
}
