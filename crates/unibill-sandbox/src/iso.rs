//! ISO 3166-1 alpha-2 country codes and ISO 4217 currency codes.

/// The 249 officially assigned ISO 3166-1 alpha-2 codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY \
HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ OM \
PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// ISO 4217 currency codes with their minor units: this crate's copy of the
/// data file unibill-core reads too (its header gives the source and the
/// choice of codes): `#` comment lines, then one `CODE N` record a line.
/// Only the data is shared, never code; the workspace test
/// `tests/packaging.rs` keeps the two copies equal.
const ISO_4217: &str = include_str!("../data/iso4217.txt");

/// The currency codes of [`ISO_4217`], in file order.
fn currencies() -> impl Iterator<Item = &'static str> {
    ISO_4217
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
}

/// Whether `code` is an assigned ISO 3166-1 alpha-2 code (upper case).
pub(crate) fn is_country(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split_whitespace().any(|c| c == code)
}

/// Whether `code` is an active ISO 4217 code (upper case).
pub(crate) fn is_currency(code: &str) -> bool {
    code.len() == 3 && currencies().any(|c| c == code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts() {
        assert_eq!(super::COUNTRIES.split_whitespace().count(), 249);
        assert!(super::is_country("US"));
        assert!(!super::is_country("XX"));
        assert!(!super::is_country("us"));
        assert!(super::is_currency("USD"));
        assert!(!super::is_currency("usd"));
        assert!(!super::is_currency("ABC"));
    }

    #[test]
    fn currency_file_is_read() {
        let codes: Vec<&str> = super::currencies().collect();
        assert_eq!(codes.len(), 160);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert!(codes.iter().all(|c| super::is_currency(c)));
        // Codes the two lists used to disagree on: changeover codes still
        // listed are accepted, funds / metals / testing codes are not.
        for code in ["VED", "CUC", "SLL", "ZWL", "ZWG", "XCG", "EUR", "JPY"] {
            assert!(super::is_currency(code), "{code}");
        }
        for code in ["BOV", "CHE", "XAU", "XTS", "XXX", "XDR", "HRK"] {
            assert!(!super::is_currency(code), "{code}");
        }
    }
}
