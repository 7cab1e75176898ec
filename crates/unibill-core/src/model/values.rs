//! Validated value types: [`CountryCode`], [`Currency`], [`Decimal`], [`Money`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// The officially assigned ISO 3166-1 alpha-2 codes (249), one `CC` record
/// a line after a `#` comment block that gives the source.
const ISO_3166: &str = include_str!("../../data/iso3166.txt");

/// ISO 4217 currency codes and their minor units, one `CODE N` record a
/// line after a `#` comment block that gives the source and says which
/// codes are in the list and why (funds, metals, `XTS` and `XXX` are not).
const ISO_4217: &str = include_str!("../../data/iso4217.txt");

/// The fixed-width records of a data file: the bytes after its opening
/// `#` comment block, cut in `N`-byte records (each ends with a line feed;
/// tests check that the files are sorted records of that width).
fn records<const N: usize>(file: &'static str) -> &'static [[u8; N]] {
    let mut body = file;
    while body.starts_with('#') {
        body = body.split_once('\n').map_or("", |(_, rest)| rest);
    }
    body.as_bytes().as_chunks::<N>().0
}

/// The record of a data file that starts with `code` (`width` bytes), by
/// a binary search, borrowed from the file; `None` when the code is not
/// listed.
fn lookup<const N: usize>(file: &'static str, width: usize, code: &str) -> Option<&'static str> {
    let list = records::<N>(file);
    let i = list
        .binary_search_by(|r| r[..width].cmp(code.as_bytes()))
        .ok()?;
    std::str::from_utf8(&list[i]).ok()
}

/// The minor unit of a listed currency code; `None` when the code is not
/// listed.
fn currency_minor_unit(code: &str) -> Option<u32> {
    lookup::<6>(ISO_4217, 3, code).and_then(|record| record[4..5].parse().ok())
}

/// Whether `code` is `n` ASCII upper-case letters.
fn upper_letters(code: &str, n: usize) -> bool {
    code.len() == n && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// What the two code types share: the code, borrowed from its data file,
/// is how they show and serialize, and text is read through `new`.
macro_rules! code_type {
    ($name:ident) => {
        impl $name {
            /// The code as text.
            pub fn as_str(&self) -> &'static str {
                self.0
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.0, f)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::new(s)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// An ISO 3166-1 alpha-2 country code such as `US`, checked against the
/// list of officially assigned codes. Lower case is refused rather than
/// guessed at: `"us"` is an error.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CountryCode(&'static str);

impl CountryCode {
    /// Parses a code; the error names `address.country` and the rule.
    pub fn new(code: &str) -> Result<Self, Error> {
        let reason = match lookup::<3>(ISO_3166, 2, code) {
            Some(record) => return Ok(Self(&record[..2])),
            None if upper_letters(code, 2) => "is not an assigned ISO 3166-1 alpha-2 code",
            None => "is not two upper-case letters (ISO 3166-1 alpha-2)",
        };
        Err(Error::validation(
            "address.country",
            format!("`{code}` {reason}"),
        ))
    }
}
code_type!(CountryCode);

/// An ISO 4217 currency code such as `USD`, checked against the list in
/// `data/iso4217.txt` (currencies in use; no funds, metal or test codes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Currency(&'static str);

impl Currency {
    /// US dollar.
    pub const USD: Currency = Currency("USD");

    /// Parses a code; the error names `currency` and the rule.
    pub fn new(code: &str) -> Result<Self, Error> {
        let reason = match lookup::<6>(ISO_4217, 3, code) {
            Some(record) => return Ok(Self(&record[..3])),
            None if upper_letters(code, 3) => "is not an active ISO 4217 currency code",
            None => "is not three upper-case letters (ISO 4217)",
        };
        Err(Error::validation("currency", format!("`{code}` {reason}")))
    }

    /// How many decimal digits the currency's minor unit has (2 for USD,
    /// 0 for JPY, 3 for KWD).
    pub(crate) fn minor_exponent(&self) -> u32 {
        currency_minor_unit(self.0).unwrap_or(2)
    }
}
code_type!(Currency);

/// An exact decimal number (mantissa and scale), so that `0.1` stays `0.1`
/// and `250.00` converts to `25000` cents without float rounding.
///
/// ```
/// use unibill_core::Decimal;
/// let d: Decimal = "12.50".parse().unwrap();
/// assert_eq!(d.to_string(), "12.50");
/// assert_eq!(d, unibill_core::Decimal::new(1250, 2).unwrap());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// The largest scale a [`Decimal`] keeps.
pub(crate) const MAX_DECIMAL_SCALE: u32 = 28;

impl Decimal {
    /// `mantissa × 10^-scale`.
    pub fn new(mantissa: i128, scale: u32) -> Result<Self, Error> {
        if scale > MAX_DECIMAL_SCALE {
            return Err(Error::validation(
                "decimal",
                format!("scale {scale} exceeds {MAX_DECIMAL_SCALE}"),
            ));
        }
        Ok(Self { mantissa, scale })
    }

    /// The same number without trailing fractional zeros (`2.50` -> `2.5`).
    pub(crate) fn normalized(&self) -> Self {
        let mut d = *self;
        while d.scale > 0 && d.mantissa % 10 == 0 {
            d.mantissa /= 10;
            d.scale -= 1;
        }
        d
    }

    /// The value scaled by `10^exp` if that is a whole number fitting in
    /// `i64` (used to turn currency units into minor units exactly).
    pub(crate) fn to_scaled_integer(self, exp: u32) -> Option<i64> {
        let d = self.normalized();
        let shift = exp.checked_sub(d.scale)?;
        let v = d.mantissa.checked_mul(10i128.checked_pow(shift)?)?;
        i64::try_from(v).ok()
    }

    /// A JSON number with exactly these digits where `serde_json` can hold
    /// it without changing them, else `None`.
    ///
    /// "Hold" means a reader that takes JSON numbers as `f64` (as most
    /// do) gets these digits back: longer decimals are left to the caller
    /// to send as text.
    pub(crate) fn to_json_number(self) -> Option<serde_json::Number> {
        let text = self.to_string();
        let float: f64 = text.parse().ok()?;
        // A non-finite float prints as `inf`, which is no decimal.
        let back: Decimal = float.to_string().parse().ok()?;
        (back.normalized() == self.normalized())
            .then(|| serde_json::from_str(&text).ok())
            .flatten()
    }
}

impl FromStr for Decimal {
    type Err = Error;

    /// Accepts `-12`, `12.50`, `.5`, `1e3`, `2.5E-2`; refuses anything else.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::validation("decimal", format!("`{s}` is not a decimal number"));
        let t = s.trim();
        let (neg, body) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (num, exp) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], body[i + 1..].parse::<i32>().map_err(|_| bad())?),
            None => (body, 0),
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let mut mantissa: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(b - b'0')))
                .ok_or_else(bad)?;
        }
        let mut scale = i64::try_from(frac.len()).map_err(|_| bad())? - i64::from(exp);
        if mantissa == 0 {
            // Zero has no digits to shift: clamp its scale at once rather
            // than looping once per unit of exponent (`0e-2147483647`
            // would otherwise spin for billions of steps).
            scale = scale.clamp(0, i64::from(MAX_DECIMAL_SCALE));
        }
        while scale < 0 {
            mantissa = mantissa.checked_mul(10).ok_or_else(bad)?;
            scale += 1;
        }
        let mut d = Decimal {
            mantissa: if neg { -mantissa } else { mantissa },
            scale: u32::try_from(scale).map_err(|_| bad())?,
        };
        while d.scale > MAX_DECIMAL_SCALE {
            if d.mantissa % 10 != 0 {
                return Err(Error::validation(
                    "decimal",
                    format!("`{s}` has more than {MAX_DECIMAL_SCALE} decimal places"),
                ));
            }
            d.mantissa /= 10;
            d.scale -= 1;
        }
        Ok(d)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (i, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{i}.{frac}")
    }
}

impl Serialize for Decimal {
    /// As a string, so no JSON reader can round it.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    /// From a string or a JSON number, exactly.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => s.parse().map_err(serde::de::Error::custom),
            serde_json::Value::Number(n) => n.to_string().parse().map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "expected a decimal number, found {other}"
            ))),
        }
    }
}

/// An amount of money in minor units (cents for USD) of a currency.
///
/// ChartMogul reports cents, Fusebill decimal currency units: backends
/// convert into this one form so the two can never be mixed up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount in the currency's minor unit (cents for USD, yen for
    /// JPY, fils for KWD: the exponent ISO 4217 lists for the currency).
    pub minor_units: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// An amount already in minor units.
    pub fn from_minor(minor_units: i64, currency: Currency) -> Self {
        Self {
            minor_units,
            currency,
        }
    }

    /// Converts an amount in major units (`250.00` USD) exactly; an amount
    /// with more decimals than the currency has is an error, never rounded.
    pub fn from_major(amount: Decimal, currency: Currency) -> Result<Self, Error> {
        let exp = currency.minor_exponent();
        amount
            .to_scaled_integer(exp)
            .map(|minor_units| Self {
                minor_units,
                currency,
            })
            .ok_or_else(|| {
                Error::validation(
                    "money",
                    format!("{amount} {currency} is not a whole number of minor units or is out of range"),
                )
            })
    }

    /// The amount in major units, exactly (`25000` cents -> `250.00`).
    pub fn to_major(&self) -> Decimal {
        Decimal {
            mantissa: i128::from(self.minor_units),
            scale: self.currency.minor_exponent(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of a data file after its comment block, checked to be
    /// sorted records of `width` bytes (line feed included) that
    /// [`records`] cuts exactly.
    fn checked_body<const N: usize>(file: &'static str, title: &str) -> Vec<&'static str> {
        let header: Vec<&str> = file.lines().take_while(|l| l.starts_with('#')).collect();
        assert!(header.iter().any(|l| l.contains(title)), "{title}");
        let body: Vec<&str> = file.lines().skip(header.len()).collect();
        assert!(body.windows(2).all(|w| w[0] < w[1]), "{title}: not sorted");
        assert!(body.iter().all(|l| l.len() + 1 == N), "{title}: widths");
        assert!(file.ends_with('\n'), "{title}");
        assert_eq!(records::<N>(file).len(), body.len(), "{title}");
        body
    }

    #[test]
    fn data_files_are_sorted_fixed_width_records() {
        let countries = checked_body::<3>(ISO_3166, "ISO 3166-1");
        assert_eq!(countries.len(), 249);
        for code in &countries {
            assert!(code.bytes().all(|b| b.is_ascii_uppercase()), "{code}");
            assert_eq!(CountryCode::new(code).unwrap().as_str(), *code);
        }
        let currencies = checked_body::<6>(ISO_4217, "ISO 4217");
        assert_eq!(currencies.len(), 160);
        for line in currencies {
            let b = line.as_bytes();
            assert!(b[..3].iter().all(u8::is_ascii_uppercase), "{line}");
            assert_eq!(b[3], b' ', "{line}");
            assert!(matches!(b[4], b'0' | b'2' | b'3'), "{line}");
            let exp = u32::from(b[4] - b'0');
            assert_eq!(currency_minor_unit(&line[..3]), Some(exp), "{line}");
            assert_eq!(Currency::new(&line[..3]).unwrap().minor_exponent(), exp);
        }
        for absent in ["", "A", "AA", "ZZ", "ZZZ", "AAA", "usd", "US ", "AD\n", "é"] {
            assert!(CountryCode::new(absent).is_err(), "{absent:?}");
            assert!(currency_minor_unit(absent).is_none(), "{absent:?}");
        }
        // The first and last records are found too.
        assert!(CountryCode::new("AD").is_ok() && CountryCode::new("ZW").is_ok());
        assert_eq!(currency_minor_unit("AED"), Some(2));
        assert_eq!(currency_minor_unit("ZWL"), Some(2));
    }

    #[test]
    fn currency_list_choice() {
        // Changeover codes still listed by ISO are accepted, both sides.
        for code in [
            "ANG", "XCG", "SLL", "SLE", "ZWL", "ZWG", "CUC", "VED", "VES",
        ] {
            assert!(Currency::new(code).is_ok(), "{code}");
        }
        // Funds, metals, bond units, IMF units, testing and "no currency"
        // codes, and the withdrawn kuna, are not billing currencies.
        for code in [
            "BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW", "XAG", "XAU", "XPD",
            "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX", "HRK",
        ] {
            let e = Currency::new(code).unwrap_err().to_string();
            assert!(e.contains("currency") && e.contains(code), "{e}");
        }
        assert_eq!(Currency::new("BHD").unwrap().minor_exponent(), 3);
        assert_eq!(Currency::new("XOF").unwrap().minor_exponent(), 0);
        assert_eq!(Currency::new("EUR").unwrap().minor_exponent(), 2);
    }

    #[test]
    fn country_list_is_complete_and_checked() {
        assert!(CountryCode::new("US").is_ok());
        assert!(CountryCode::new("us").is_err());
        assert!(CountryCode::new("XX").is_err());
        assert!(CountryCode::new("USA").is_err());
        let e = CountryCode::new("ZZ").unwrap_err().to_string();
        assert!(e.contains("address.country") && e.contains("ZZ"), "{e}");
    }

    #[test]
    fn currency_checked_with_exponents() {
        assert_eq!(Currency::new("USD").unwrap(), Currency::USD);
        assert!(Currency::new("usd").is_err());
        assert!(Currency::new("ABC").is_err());
        assert_eq!(Currency::new("JPY").unwrap().minor_exponent(), 0);
        assert_eq!(Currency::new("KWD").unwrap().minor_exponent(), 3);
        assert_eq!(Currency::USD.minor_exponent(), 2);
    }

    #[test]
    fn decimal_parses_exactly() {
        let d: Decimal = "0.1".parse().unwrap();
        assert_eq!((d.mantissa, d.scale), (1, 1));
        assert_eq!(
            "250".parse::<Decimal>().unwrap().to_scaled_integer(2),
            Some(25000)
        );
        assert_eq!(
            "250.5".parse::<Decimal>().unwrap().to_scaled_integer(2),
            Some(25050)
        );
        assert_eq!(
            "250.505".parse::<Decimal>().unwrap().to_scaled_integer(2),
            None
        );
        assert_eq!("1e3".parse::<Decimal>().unwrap().to_string(), "1000");
        assert_eq!("2.5E-2".parse::<Decimal>().unwrap().to_string(), "0.025");
        assert_eq!("-0.05".parse::<Decimal>().unwrap().to_string(), "-0.05");
        assert_eq!(".5".parse::<Decimal>().unwrap().to_string(), "0.5");
        for bad in ["", ".", "1.2.3", "abc", "1,5", "NaN", "1e", "--1"] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad}");
        }
    }

    #[test]
    fn zero_with_a_huge_exponent_parses_at_once() {
        // Each of these took seconds to minutes (one loop step per unit of
        // exponent) before zero's scale was clamped directly.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let parsed: Vec<Decimal> = ["0e-2147483647", "0e2147483647", "-0.0e-40", "0.00e5"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
            let _ = tx.send(parsed);
        });
        let parsed = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("parsing zero must not loop over the exponent");
        let scales: Vec<(i128, u32)> = parsed.iter().map(|d| (d.mantissa, d.scale)).collect();
        assert_eq!(
            scales,
            [
                (0, MAX_DECIMAL_SCALE),
                (0, 0),
                (0, MAX_DECIMAL_SCALE),
                (0, 0)
            ]
        );
    }

    #[test]
    fn decimal_json_number_round_trip() {
        let d: Decimal = "12.345".parse().unwrap();
        assert_eq!(d.to_json_number().unwrap().to_string(), "12.345");
        let n: serde_json::Number = serde_json::from_str("250.0").unwrap();
        assert_eq!(
            n.to_string()
                .parse::<Decimal>()
                .unwrap()
                .to_scaled_integer(2),
            Some(25000)
        );
        // 30 significant digits cannot be an f64 without change.
        let long: Decimal = "1234567890.12345678901234567890".parse().unwrap();
        assert!(long.to_json_number().is_none());
    }

    #[test]
    fn money_converts_exactly() {
        let m = Money::from_major("250.00".parse().unwrap(), Currency::USD).unwrap();
        assert_eq!(m.minor_units, 25000);
        assert_eq!(m.to_major().to_string(), "250.00");
        assert!(Money::from_major("0.001".parse().unwrap(), Currency::USD).is_err());
        let jpy = Currency::new("JPY").unwrap();
        assert_eq!(
            Money::from_major("300".parse().unwrap(), jpy)
                .unwrap()
                .minor_units,
            300
        );
        assert_eq!(m.to_string(), "250.00 USD");
    }
}
