//! Typed custom attributes ([`AttributeValue`], [`CustomAttribute`]).
//!
//! The rules are those of ChartMogul's custom attributes, the strictest of
//! the vendors: a key is `[A-Za-z0-9_]+`; a value has one of five types.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::change::Change;
use crate::error::Error;
use crate::values::Decimal;

/// The most characters a `String` attribute may hold.
pub(crate) const MAX_STRING_CHARS: usize = 255;

/// The type of a custom attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AttributeType {
    /// Text of at most 255 characters.
    String,
    /// A whole number (`i64`).
    Integer,
    /// An exact decimal number.
    Decimal,
    /// An ISO 8601 date-time.
    Timestamp,
    /// True or false.
    Boolean,
}

impl fmt::Display for AttributeType {
    /// The vendor's name for the type (`Integer`), as in JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.serialize(f)
    }
}

/// A typed custom attribute value.
///
/// Build one with `From` (`25.into()`, `true.into()`, `"Twitter".into()`)
/// or parse text as a given type with [`AttributeValue::parse`]. Whatever
/// way it was built, [`AttributeValue::check`] applies the rules and every
/// backend calls it (through [`crate::CustomerPatch::validate`]) before the
/// first request.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeValue {
    /// Text of at most 255 characters.
    String(String),
    /// A whole number.
    Integer(i64),
    /// An exact decimal.
    Decimal(Decimal),
    /// A point in time with its offset.
    Timestamp(DateTime<FixedOffset>),
    /// True or false.
    Boolean(bool),
}

fn field(key: &str) -> String {
    format!("custom.{key}")
}

/// The most characters of a custom attribute key (none is documented;
/// keys are identifiers).
pub(crate) const MAX_KEY_CHARS: usize = 255;

/// Checks a custom attribute key: one to 255 characters of
/// `A-Z a-z 0-9 _`.
pub fn check_attribute_key(key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::validation("custom", "attribute key is empty"));
    }
    let n = key.chars().count();
    if n > MAX_KEY_CHARS {
        return Err(Error::validation(
            field(&crate::error::clip(key)),
            format!("attribute key has {n} characters; at most {MAX_KEY_CHARS} are allowed"),
        ));
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(Error::validation(
            field(key),
            format!("attribute key may hold only letters A-Z, digits and `_`, found {c:?}"),
        ));
    }
    Ok(())
}

/// Parses an ISO 8601 date-time as the vendors accept it: RFC 3339
/// (`2015-06-13T15:45:13Z`, `...+02:00`, fractions allowed), a date and
/// time with a space or `T` and no offset (taken as UTC:
/// `2015-01-01 00:00:00`), or a date alone (midnight UTC). Every field has
/// its fixed width: `2015-1-1` and two-digit years (`15-01-01`, which
/// would be the year 15) are refused. Surrounding whitespace is ignored.
///
/// ```
/// use unibill_core::attribute::parse_timestamp;
/// assert!(parse_timestamp("2015-06-13 15:45:13").is_some());
/// assert!(parse_timestamp("2015-06-13T15:45:13.5+0200").is_some());
/// assert!(parse_timestamp("15-06-13 15:45:13").is_none());
/// ```
pub fn parse_timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    let t = text.trim();
    // Chrono's RFC 3339 parser holds every field to its width; fill in
    // what ISO 8601 lets a vendor leave out: the time (midnight), the
    // seconds, the offset (UTC) and the colon of a `±hhmm` offset.
    let (date, time) = (t.get(..10)?, t.get(10..)?);
    let time = if time.is_empty() { "T00:00" } else { time };
    let (clock, zone) = time.split_at(time.find(['Z', 'z', '+', '-']).unwrap_or(time.len()));
    let seconds = if clock.len() == "Thh:mm".len() {
        ":00"
    } else {
        ""
    };
    let zone = match zone.split_at_checked(3) {
        None if zone.is_empty() => "Z".to_owned(),
        Some((hh, mm)) if zone.len() == 5 => format!("{hh}:{mm}"),
        _ => zone.to_owned(),
    };
    DateTime::parse_from_rfc3339(&format!("{date}{clock}{seconds}{zone}")).ok()
}

impl AttributeValue {
    /// The value's type.
    pub fn attribute_type(&self) -> AttributeType {
        match self {
            AttributeValue::String(_) => AttributeType::String,
            AttributeValue::Integer(_) => AttributeType::Integer,
            AttributeValue::Decimal(_) => AttributeType::Decimal,
            AttributeValue::Timestamp(_) => AttributeType::Timestamp,
            AttributeValue::Boolean(_) => AttributeType::Boolean,
        }
    }

    /// Parses text as the given type, with the vendor's accepted formats;
    /// the error names `custom.{key}` and the rule.
    pub fn parse(key: &str, ty: AttributeType, text: &str) -> Result<Self, Error> {
        let err = |rule: &str| Error::validation(field(key), format!("{ty} value `{text}` {rule}"));
        let v = match ty {
            AttributeType::String => AttributeValue::String(text.to_owned()),
            AttributeType::Integer => {
                let digits = text.strip_prefix('-').unwrap_or(text);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("must contain only digits (an optional leading `-`)"));
                }
                AttributeValue::Integer(text.parse().map_err(|_| err("does not fit in 64 bits"))?)
            }
            AttributeType::Decimal => {
                AttributeValue::Decimal(text.parse().map_err(|_| err("is not a decimal number"))?)
            }
            AttributeType::Timestamp => AttributeValue::Timestamp(
                parse_timestamp(text).ok_or_else(|| err("is not an ISO 8601 date-time"))?,
            ),
            // The spellings the vendor accepts, nothing else.
            AttributeType::Boolean => AttributeValue::Boolean(match text {
                "TRUE" | "true" | "t" | "1" => true,
                "FALSE" | "false" | "f" | "0" => false,
                _ => return Err(err("must be one of TRUE, true, t, 1, FALSE, false, f, 0")),
            }),
        };
        v.check(key)?;
        Ok(v)
    }

    /// Reads a JSON value as the given type: the JSON type the vendor
    /// accepts for it, or its text form (`"25"` for an Integer, `"t"` for a
    /// Boolean). A JSON number is read from its exact text by the type's
    /// rule (`1` and `0` are Boolean spellings).
    pub(crate) fn from_json(key: &str, ty: AttributeType, value: &Value) -> Result<Self, Error> {
        match (ty, value) {
            (_, Value::String(s)) => Self::parse(key, ty, s),
            (AttributeType::Boolean, Value::Bool(b)) => Ok(AttributeValue::Boolean(*b)),
            (
                AttributeType::Integer | AttributeType::Decimal | AttributeType::Boolean,
                Value::Number(n),
            ) => Self::parse(key, ty, &n.to_string()),
            _ => Err(Error::validation(
                field(key),
                format!("{ty} attribute cannot take the JSON value {value}"),
            )),
        }
    }

    /// Applies the rules that construction through `From` cannot: a
    /// `String` follows the text rule of every other text field
    /// ([`crate::check::text`]: not blank, no control characters, no bidi
    /// overrides) and holds at most 255 characters.
    pub fn check(&self, key: &str) -> Result<(), Error> {
        match self {
            AttributeValue::Timestamp(at) => crate::check::timestamp(&field(key), at),
            AttributeValue::String(s) => {
                crate::check::text_within(&field(key), s, MAX_STRING_CHARS)
            }
            _ => Ok(()),
        }
    }

    /// The value as the neutral JSON form: strings, numbers, booleans, and
    /// RFC 3339 text for timestamps; decimals as a JSON number where that
    /// keeps every digit, else as text.
    pub fn to_json(&self) -> Value {
        match self {
            AttributeValue::String(s) => Value::String(s.clone()),
            AttributeValue::Integer(i) => Value::from(*i),
            AttributeValue::Decimal(d) => d
                .to_json_number()
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(d.to_string())),
            AttributeValue::Timestamp(t) => Value::String(t.to_rfc3339()),
            AttributeValue::Boolean(b) => Value::Bool(*b),
        }
    }
}

/// `From` each Rust type a custom attribute value is built from, into the
/// variant holding it.
macro_rules! attribute_value_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for AttributeValue {
            fn from(v: $ty) -> Self {
                AttributeValue::$variant(v.into())
            }
        }
    )*};
}
attribute_value_from!(
    &str => String,
    String => String,
    i64 => Integer,
    i32 => Integer,
    u32 => Integer,
    bool => Boolean,
    Decimal => Decimal,
    DateTime<FixedOffset> => Timestamp,
    DateTime<Utc> => Timestamp,
);

/// A custom attribute to set: a typed value and, optionally, the `source`
/// the vendor shows for it (ChartMogul defaults it to `"API"`).
///
/// In JSON: `{"type":"Integer","value":25,"source":"crm"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomAttribute {
    /// The typed value.
    pub value: AttributeValue,
    /// Where the value came from, as shown in the vendor's UI.
    pub source: Option<String>,
}

impl CustomAttribute {
    /// A value without a source.
    pub fn new(value: impl Into<AttributeValue>) -> Self {
        Self {
            value: value.into(),
            source: None,
        }
    }

    /// The same value with a source.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomAttributeJson {
    #[serde(rename = "type")]
    ty: AttributeType,
    value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

impl Serialize for CustomAttribute {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CustomAttributeJson {
            ty: self.value.attribute_type(),
            value: self.value.to_json(),
            source: self.source.clone(),
        }
        .serialize(s)
    }
}

impl CustomAttributeJson {
    /// The attribute this JSON describes; an error names `custom.{key}`.
    fn into_attribute(self, key: &str) -> Result<CustomAttribute, Error> {
        Ok(CustomAttribute {
            value: AttributeValue::from_json(key, self.ty, &self.value)?,
            source: self.source,
        })
    }
}

impl<'de> Deserialize<'de> for CustomAttribute {
    /// Alone, an attribute does not know its key: an error gives the rule
    /// only. Inside a [`CustomerPatch`](crate::CustomerPatch), the error
    /// names `custom.{key}`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CustomAttributeJson::deserialize(d)?
            .into_attribute("")
            .map_err(|e| match e {
                Error::Validation { reason, .. } => serde::de::Error::custom(reason),
                other => serde::de::Error::custom(other),
            })
    }
}

/// Reads a patch's `custom` map (`null` clears an attribute) so that a
/// value the type refuses is reported as `custom.{key}`.
pub(crate) fn deserialize_custom<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Change<CustomAttribute>>, D::Error> {
    BTreeMap::<String, Option<CustomAttributeJson>>::deserialize(d)?
        .into_iter()
        .map(|(key, entry)| {
            let change = match entry {
                Some(json) => Change::Set(
                    json.into_attribute(&key)
                        .map_err(serde::de::Error::custom)?,
                ),
                None => Change::Clear,
            };
            Ok((key, change))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys() {
        assert!(check_attribute_key("CAC").is_ok());
        assert!(check_attribute_key("utm_Campaign_2").is_ok());
        let e = check_attribute_key("bad-key").unwrap_err().to_string();
        assert!(e.contains("custom.bad-key") && e.contains("'-'"), "{e}");
        assert!(check_attribute_key("").is_err());
        assert!(check_attribute_key("naïve").is_err());
        assert!(check_attribute_key("a b").is_err());
    }

    #[test]
    fn strings_up_to_255_characters() {
        let ok = AttributeValue::from("é".repeat(255));
        assert!(ok.check("k").is_ok());
        let e = AttributeValue::from("x".repeat(256))
            .check("k")
            .unwrap_err()
            .to_string();
        assert!(e.contains("custom.k") && e.contains("256"), "{e}");
    }

    #[test]
    fn booleans_only_the_documented_spellings() {
        for (t, v) in [
            ("TRUE", true),
            ("true", true),
            ("t", true),
            ("1", true),
            ("FALSE", false),
            ("false", false),
            ("f", false),
            ("0", false),
        ] {
            assert_eq!(
                AttributeValue::parse("b", AttributeType::Boolean, t).unwrap(),
                AttributeValue::Boolean(v)
            );
        }
        for t in ["True", "yes", "T", "2", "", "y"] {
            let e = AttributeValue::parse("b", AttributeType::Boolean, t)
                .unwrap_err()
                .to_string();
            assert!(e.contains("custom.b"), "{e}");
        }
        assert_eq!(
            AttributeValue::from_json("b", AttributeType::Boolean, &json!(1)).unwrap(),
            AttributeValue::Boolean(true)
        );
        assert!(AttributeValue::from_json("b", AttributeType::Boolean, &json!(2)).is_err());
        assert!(AttributeValue::from_json("b", AttributeType::Boolean, &json!(1.0)).is_err());
        assert_eq!(
            AttributeValue::from_json("b", AttributeType::Boolean, &json!(0)).unwrap(),
            AttributeValue::Boolean(false)
        );
        assert!(AttributeValue::from_json("s", AttributeType::String, &json!(1)).is_err());
    }

    #[test]
    fn integers_digits_only() {
        assert_eq!(
            AttributeValue::parse("n", AttributeType::Integer, "25").unwrap(),
            AttributeValue::Integer(25)
        );
        assert_eq!(
            AttributeValue::parse("n", AttributeType::Integer, "-3").unwrap(),
            AttributeValue::Integer(-3)
        );
        for t in ["2.5", "1e3", "", "abc", "12 ", "99999999999999999999"] {
            assert!(
                AttributeValue::parse("n", AttributeType::Integer, t).is_err(),
                "{t}"
            );
        }
        assert!(AttributeValue::from_json("n", AttributeType::Integer, &json!(2.5)).is_err());
        assert!(AttributeValue::from_json("n", AttributeType::Integer, &json!(1e3)).is_err());
        let huge: Value = serde_json::from_str("99999999999999999999").unwrap();
        assert!(AttributeValue::from_json("n", AttributeType::Integer, &huge).is_err());
        assert_eq!(
            AttributeValue::from_json("n", AttributeType::Integer, &json!(-3)).unwrap(),
            AttributeValue::Integer(-3)
        );
        assert!(AttributeValue::from_json("n", AttributeType::Integer, &json!(true)).is_err());
    }

    #[test]
    fn decimals_exact() {
        let v = AttributeValue::parse("d", AttributeType::Decimal, "0.1").unwrap();
        assert_eq!(v.to_json(), json!(0.1));
        let v = AttributeValue::from_json("d", AttributeType::Decimal, &json!(12.5)).unwrap();
        assert_eq!(v, AttributeValue::Decimal("12.5".parse().unwrap()));
        assert!(AttributeValue::parse("d", AttributeType::Decimal, "12,5").is_err());
    }

    #[test]
    fn timestamps_iso_8601() {
        for t in [
            "2022-09-08 00:00:00",
            "2015-06-13T15:45:13.000Z",
            "2015-06-19T13:16:00-04:00",
            "2015-01-01",
            "2015-01-01T10:00:00",
            "2015-01-01 10:00",
            "2015-06-13t15:45:13.5+0200",
            " 2015-01-01 00:00:00 ",
        ] {
            assert!(
                AttributeValue::parse("t", AttributeType::Timestamp, t).is_ok(),
                "{t}"
            );
        }
        for t in [
            "yesterday",
            "2015-13-01",
            "01/02/2015",
            "2015-01-01T25:00:00Z",
            // Not ISO 8601's fixed widths; chrono alone would take them
            // (the first as the year 15).
            "15-01-01 00:00:00",
            "2015-1-1",
            "2015-01-01 0:00:00",
            "+2015-01-01",
            "2015-01-01T00:00:00.Z",
            "2015-01-01T00:00:00 +02:00",
            "2015-01-01T00:00:00+2:00",
            // Left to chrono's RFC 3339 parser after the spelling is
            // completed: none of these may come out as a time.
            "2015-01-01T10:00.5Z",
            "2015-01-01T10:0",
            "2015-01-01T",
            "2015-01-01x",
            "2015-01-01T00:00:00\u{2212}04:00",
            "2015-01-01T00:00\u{2212}0400",
            "2015-01-01T00:00:00+0\u{e9}0",
            "2015-01-01T00:00:00Z0000",
            "2015-01-01T00:00:00+02:00:00",
            "2015-01-0\u{e9}",
        ] {
            assert!(
                AttributeValue::parse("t", AttributeType::Timestamp, t).is_err(),
                "{t}"
            );
        }
        let v =
            AttributeValue::parse("t", AttributeType::Timestamp, "2015-01-01 00:00:00").unwrap();
        assert_eq!(v.to_json(), json!("2015-01-01T00:00:00+00:00"));
        // Every spelling means the instant it says, its offset kept.
        for (given, instant) in [
            (
                "2015-06-13t15:45:13.5+0200",
                "2015-06-13T15:45:13.500+02:00",
            ),
            ("2015-06-13T15:45:13.5z", "2015-06-13T15:45:13.500+00:00"),
            ("2015-06-19T13:16:00-04:00", "2015-06-19T13:16:00-04:00"),
            ("2015-06-19T13:16-0400", "2015-06-19T13:16:00-04:00"),
            ("2015-01-01 10:00", "2015-01-01T10:00:00+00:00"),
            ("2015-01-01", "2015-01-01T00:00:00+00:00"),
        ] {
            let parsed = parse_timestamp(given).unwrap();
            assert_eq!(
                parsed.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                instant,
                "{given}"
            );
        }
    }

    #[test]
    fn custom_attribute_json() {
        let a = CustomAttribute::new(25).with_source("crm");
        let j = serde_json::to_value(&a).unwrap();
        assert_eq!(j, json!({"type":"Integer","value":25,"source":"crm"}));
        let back: CustomAttribute = serde_json::from_value(j).unwrap();
        assert_eq!(back, a);
        let e = serde_json::from_value::<CustomAttribute>(json!({"type":"Integer","value":"x"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("digits") && !e.contains("custom."), "{e}");
        assert!(
            serde_json::from_value::<CustomAttribute>(json!({"type":"Money","value":1})).is_err()
        );
    }

    #[test]
    fn decimals_from_json_keep_every_digit_or_are_refused() {
        let read = |json: &str| -> Result<CustomAttribute, String> {
            let v: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
            serde_json::from_value(serde_json::json!({"type": "Decimal", "value": v}))
                .map_err(|e| e.to_string())
        };
        for digits in [
            "0.1234567890123456789012345",
            "12345678901234567890123",
            "-0.05",
        ] {
            let attr = read(digits).unwrap();
            // A number where an f64 reader keeps the digits, else text.
            assert_eq!(attr.value.to_json().to_string().trim_matches('"'), digits);
            match &attr.value {
                AttributeValue::Decimal(d) => assert_eq!(d.to_string(), digits),
                other => panic!("{other:?}"),
            }
        }
        // Too small to hold in 28 decimal places: refused, never rounded to 0.
        assert!(read("1e-400").is_err());
        let patch: crate::CustomerPatch = serde_json::from_str(
            r#"{"custom":{"d":{"type":"Decimal","value":12345678901234567890123}}}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&patch).unwrap()["custom"]["d"]["value"],
            "12345678901234567890123"
        );
    }

    #[test]
    fn string_attributes_follow_the_text_rule() {
        for bad in ["", "  ", "a\u{0}b", "\u{1b}[2J", "x\u{202e}y"] {
            let e = AttributeValue::String(bad.into()).check("k").unwrap_err();
            assert!(
                matches!(&e, Error::Validation { field, .. } if field == "custom.k"),
                "{bad:?}"
            );
        }
        assert!(AttributeValue::String("two\nlines".into())
            .check("k")
            .is_ok());
    }

    #[test]
    fn leap_seconds_are_refused_as_leap_seconds() {
        let at = parse_timestamp("2015-06-30T23:59:60Z").unwrap();
        let e = AttributeValue::Timestamp(at)
            .check("t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("leap second"), "{e}");
        assert!(!e.contains("fraction"), "{e}");
        let e = crate::CustomerPatch::new()
            .lead_created_at(at.with_timezone(&Utc))
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("lead_created_at") && e.contains("leap second"),
            "{e}"
        );
    }

    #[test]
    fn neutral_timestamp_fields_read_the_spellings_custom_attributes_read() {
        use crate::field::Field;
        for (given, utc) in [
            ("2015-06-13 15:45:13", "2015-06-13T15:45:13+00:00"),
            (
                "2015-06-13T17:45:13.5+0200",
                "2015-06-13T15:45:13.500+00:00",
            ),
            ("2015-01-01", "2015-01-01T00:00:00+00:00"),
        ] {
            let patch = crate::CustomerPatch::new().set_text(Field::LeadCreatedAt, given);
            patch.validate().unwrap();
            let json = serde_json::to_value(&patch).unwrap();
            let at: chrono::DateTime<Utc> =
                serde_json::from_value(json["lead_created_at"].clone()).unwrap();
            assert_eq!(
                at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                utc,
                "{given}"
            );
        }
        let e = crate::CustomerPatch::new()
            .set_text(Field::LeadCreatedAt, "2015-1-1")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("lead_created_at") && e.contains("ISO 8601"),
            "{e}"
        );
    }

    #[test]
    fn attribute_keys_have_a_length_limit() {
        assert!(check_attribute_key(&"k".repeat(MAX_KEY_CHARS)).is_ok());
        let e = check_attribute_key(&"k".repeat(10_000))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most 255") && e.len() < 400, "{e}");
    }
}
