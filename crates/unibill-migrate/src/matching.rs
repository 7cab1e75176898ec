//! Pairing the customers of two backends: by your own reference, by email,
//! or by an explicit id map ([`MatchBy`], [`IdMap`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use unibill_core::{Customer, CustomerId, Error, Result};

/// How the customers of two backends are paired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatchBy {
    /// Your own reference ([`Customer::external_reference`]: ChartMogul's
    /// `external_id`, Fusebill's `reference`, Everlytic's `unique_id`),
    /// trimmed, compared exactly. The default.
    #[default]
    External,
    /// The primary email, trimmed, ASCII case ignored.
    Email,
    /// An explicit map of left ids to right ids (Stripe's migration "map").
    Map(IdMap),
}

/// Which side of a comparison: the left (a sync's source of truth) or
/// the right (a sync's target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The first backend given (`--from`).
    Left,
    /// The second backend given (`--to`).
    Right,
}

impl MatchBy {
    /// The keys `customer` pairs by on `side`: none when it has no value
    /// to match on (unmatched), several only through a map that names its
    /// id more than once.
    pub(crate) fn keys(&self, customer: &Customer, side: Side) -> Vec<String> {
        match self {
            MatchBy::External => customer
                .external_reference
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| vec![r.to_string()])
                .unwrap_or_default(),
            MatchBy::Email => customer
                .email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|e| vec![e.to_ascii_lowercase()])
                .unwrap_or_default(),
            MatchBy::Map(map) => match side {
                Side::Left => vec![customer.id.as_str().to_string()],
                Side::Right => map
                    .lefts_of(&customer.id)
                    .map(|l| l.as_str().to_string())
                    .collect(),
            },
        }
    }

    /// What the key is, for reports: `external`, `email` or `map`.
    pub fn name(&self) -> &'static str {
        match self {
            MatchBy::External => "external",
            MatchBy::Email => "email",
            MatchBy::Map(_) => "map",
        }
    }
}

/// An explicit pairing of customer ids: left id → right id, read from a
/// CSV file of two columns, `left_id,right_id` (a first line with exactly
/// those names is a header; blank lines are skipped; fields may be quoted).
/// A left id given twice, or a right id given for two left ids, pairs
/// ambiguously and is reported as such, never guessed.
///
/// ```
/// use unibill_migrate::IdMap;
/// let map = IdMap::parse("left_id,right_id\ncus_1,101\ncus_2,102\n").unwrap();
/// assert_eq!(map.len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdMap {
    /// Right id → the left ids mapped to it.
    by_right: BTreeMap<CustomerId, BTreeSet<CustomerId>>,
    pairs: usize,
}

impl IdMap {
    /// Reads a map from CSV text (see the type's docs);
    /// [`Error::Validation`] on field `map` naming the line of a row
    /// without exactly two non-blank ids.
    pub fn parse(text: &str) -> Result<Self> {
        Self::from_reader(text.as_bytes())
    }

    /// Reads a map from CSV (a file, say); errors as [`Self::parse`].
    pub fn from_reader(reader: impl Read) -> Result<Self> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let mut map = IdMap::default();
        for (n, row) in csv.records().enumerate() {
            let line = n + 1;
            let row =
                row.map_err(|e| Error::validation("map", format!("line {line}: not CSV ({e})")))?;
            if row.iter().all(str::is_empty) {
                continue;
            }
            if line == 1 && row.len() == 2 && &row[0] == "left_id" && &row[1] == "right_id" {
                continue;
            }
            match (row.len(), row.get(0), row.get(1)) {
                (2, Some(left), Some(right)) if !left.is_empty() && !right.is_empty() => {
                    map.insert(CustomerId::from(left), CustomerId::from(right));
                }
                _ => {
                    return Err(Error::validation(
                        "map",
                        format!(
                            "line {line}: expected two ids, `left_id,right_id`, found {} field(s)",
                            row.len()
                        ),
                    ))
                }
            }
        }
        Ok(map)
    }

    /// Pairs `left` with `right`.
    pub fn insert(&mut self, left: CustomerId, right: CustomerId) {
        if self.by_right.entry(right).or_default().insert(left) {
            self.pairs += 1;
        }
    }

    /// How many pairs the map holds.
    pub fn len(&self) -> usize {
        self.pairs
    }

    /// Whether the map holds no pair.
    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// The left ids mapped to `right`.
    pub fn lefts_of<'a>(&'a self, right: &CustomerId) -> impl Iterator<Item = &'a CustomerId> + 'a {
        self.by_right.get(right).into_iter().flatten()
    }

    /// The right id `left` is mapped to, when exactly one is.
    pub fn right_of(&self, left: &CustomerId) -> Option<&CustomerId> {
        let mut rights = self
            .by_right
            .iter()
            .filter(|(_, lefts)| lefts.contains(left))
            .map(|(right, _)| right);
        match (rights.next(), rights.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_reads_pairs_with_or_without_header_and_refuses_bad_rows() {
        let map =
            IdMap::parse("left_id,right_id\n cus_1 , 101\n\n\"cus_2\",102\ncus_3,101\n").unwrap();
        assert_eq!(map.len(), 3);
        let lefts: Vec<&str> = map.lefts_of(&"101".into()).map(|l| l.as_str()).collect();
        assert_eq!(lefts, ["cus_1", "cus_3"]);
        assert_eq!(
            map.right_of(&"cus_2".into()).map(|r| r.as_str()),
            Some("102")
        );
        assert_eq!(IdMap::parse("a,b\n").unwrap().len(), 1, "no header: a pair");
        for bad in ["cus_1\n", "cus_1,101,x\n", "cus_1,\n", ",101\n"] {
            match IdMap::parse(bad) {
                Err(Error::Validation { field, reason }) => {
                    assert_eq!(field, "map");
                    assert!(reason.starts_with("line 1:"), "{reason}");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn keys_are_trimmed_emails_ignore_case_and_blank_is_no_key() {
        let mut c = Customer::new("cus_1", serde_json::Value::Null);
        c.external_reference = Some(" R-1 ".into());
        c.email = Some(" Ann@Example.COM".into());
        assert_eq!(MatchBy::External.keys(&c, Side::Left), ["R-1"]);
        assert_eq!(MatchBy::Email.keys(&c, Side::Right), ["ann@example.com"]);
        c.external_reference = Some("  ".into());
        assert!(MatchBy::External.keys(&c, Side::Left).is_empty());
        let map = IdMap::parse("cus_9,cus_1\ncus_8,cus_1\n").unwrap();
        assert_eq!(
            MatchBy::Map(map.clone()).keys(&c, Side::Right),
            ["cus_8", "cus_9"]
        );
        assert_eq!(MatchBy::Map(map).keys(&c, Side::Left), ["cus_1"]);
    }
}
