//! The neutral [`CustomerStatus`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A customer's status, one enum for every vendor.
///
/// | neutral | ChartMogul | Fusebill | Everlytic |
/// |---|---|---|---|
/// | `Lead` | `Lead` (read) | | |
/// | `NewLead`, `WorkingLead`, `QualifiedLead`, `UnqualifiedLead` | `New Lead`, ... (the only statuses a PATCH may set) | | |
/// | `Draft` | | `Draft` | |
/// | `Active` | `Active` | `Active` | `on` |
/// | `PastDue` | `Past due` | | |
/// | `Hold` | | `Hold` | |
/// | `Suspended` | | `Suspended` (set by the system only) | `suspended` |
/// | `Inactive` | | | `off` |
/// | `Cancelled` | `Cancelled` | `Cancelled` | |
/// | `Deleted` | | | `deleted` |
///
/// A value a backend does not know is kept as [`CustomerStatus::Other`]
/// with the vendor's text, never dropped or guessed. In JSON the neutral
/// names are snake case (`"past_due"`); any other string is `Other`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CustomerStatus {
    /// A lead, without a finer stage (ChartMogul).
    Lead,
    /// ChartMogul lead stage `New Lead`.
    NewLead,
    /// ChartMogul lead stage `Working Lead`.
    WorkingLead,
    /// ChartMogul lead stage `Qualified Lead`.
    QualifiedLead,
    /// ChartMogul lead stage `Unqualified Lead`.
    UnqualifiedLead,
    /// Not yet activated (Fusebill).
    Draft,
    /// Active / paying / on.
    Active,
    /// Payment overdue (ChartMogul).
    PastDue,
    /// On hold (Fusebill).
    Hold,
    /// Suspended (Fusebill: by the system only; Everlytic).
    Suspended,
    /// Switched off (Everlytic `off`).
    Inactive,
    /// Cancelled.
    Cancelled,
    /// Deleted (Everlytic).
    Deleted,
    /// A vendor value unknown to unibill, verbatim.
    Other(String),
}

const NAMES: &[(CustomerStatus, &str)] = &[
    (CustomerStatus::Lead, "lead"),
    (CustomerStatus::NewLead, "new_lead"),
    (CustomerStatus::WorkingLead, "working_lead"),
    (CustomerStatus::QualifiedLead, "qualified_lead"),
    (CustomerStatus::UnqualifiedLead, "unqualified_lead"),
    (CustomerStatus::Draft, "draft"),
    (CustomerStatus::Active, "active"),
    (CustomerStatus::PastDue, "past_due"),
    (CustomerStatus::Hold, "hold"),
    (CustomerStatus::Suspended, "suspended"),
    (CustomerStatus::Inactive, "inactive"),
    (CustomerStatus::Cancelled, "cancelled"),
    (CustomerStatus::Deleted, "deleted"),
];

impl CustomerStatus {
    /// The neutral snake-case name, or the vendor's text for `Other`.
    pub fn as_str(&self) -> &str {
        if let CustomerStatus::Other(s) = self {
            return s;
        }
        NAMES
            .iter()
            .find(|(s, _)| s == self)
            .map(|(_, n)| *n)
            .unwrap_or("other")
    }

    /// The status for a neutral name; unknown names become `Other`.
    pub(crate) fn from_name(name: &str) -> Self {
        NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| CustomerStatus::Other(name.to_owned()))
    }
}

impl fmt::Display for CustomerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CustomerStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CustomerStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(CustomerStatus::from_name(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_survives() {
        for (s, n) in NAMES {
            assert_eq!(CustomerStatus::from_name(n), *s);
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(n));
        }
        let o: CustomerStatus = serde_json::from_str("\"Frozen\"").unwrap();
        assert_eq!(o, CustomerStatus::Other("Frozen".into()));
        assert_eq!(serde_json::to_string(&o).unwrap(), "\"Frozen\"");
    }
}
