//! The neutral [`CustomerStatus`].

use std::fmt;

use serde::{Deserialize, Serialize};

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
/// Shown ([`fmt::Display`]) as in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    rename_all = "snake_case",
    expecting = "a customer status: a string (a neutral name such as `past_due`, or the vendor's text)"
)]
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
    #[serde(untagged)]
    Other(String),
}

impl fmt::Display for CustomerStatus {
    /// The neutral snake-case name, or the vendor's text for `Other`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.serialize(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_survives() {
        use CustomerStatus::*;
        for (s, n) in [
            (Lead, "lead"),
            (NewLead, "new_lead"),
            (WorkingLead, "working_lead"),
            (QualifiedLead, "qualified_lead"),
            (UnqualifiedLead, "unqualified_lead"),
            (Draft, "draft"),
            (Active, "active"),
            (PastDue, "past_due"),
            (Hold, "hold"),
            (Suspended, "suspended"),
            (Inactive, "inactive"),
            (Cancelled, "cancelled"),
            (Deleted, "deleted"),
        ] {
            assert_eq!(
                serde_json::from_value::<CustomerStatus>(n.into()).unwrap(),
                s
            );
            assert_eq!(serde_json::to_value(&s).unwrap(), serde_json::json!(n));
            assert_eq!(s.to_string(), n);
        }
        for text in ["Frozen", "other", "Past due", ""] {
            let o: CustomerStatus = serde_json::from_value(text.into()).unwrap();
            assert_eq!(o, Other(text.into()));
            assert_eq!(serde_json::to_value(&o).unwrap(), text);
            assert_eq!(o.to_string(), text);
        }
        let e = serde_json::from_str::<CustomerStatus>("5").unwrap_err();
        assert!(
            e.to_string().starts_with("a customer status: a string"),
            "{e}"
        );
    }
}
