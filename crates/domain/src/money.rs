//! Amounts of money. Stored as whole minor units (kopiykas, cents) so sums are exact; written
//! and read in JSON as decimal strings such as `"1500.50"`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::validation::ValidationErrors;

/// Active ISO 4217 currency codes.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// An ISO 4217 currency code such as `UAH` or `EUR`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "UAH")]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim().to_ascii_uppercase();
        if ISO_4217.contains(&code.as_str()) {
            Ok(Self(code))
        } else {
            Err(format!(
                "`{}` is not an ISO 4217 currency code such as UAH, EUR or USD",
                raw.trim()
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The largest amount accepted anywhere: a trillion in major units is beyond any real need.
const MAX_MINOR: i64 = 100_000_000_000_000;

/// An amount in minor units (hundredths) of a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Money {
    /// Decimal string with at most two decimals, e.g. `"45000.00"`.
    #[serde(serialize_with = "ser_amount", deserialize_with = "de_amount")]
    #[schema(value_type = String, example = "45000.00")]
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount: amount_minor,
            currency,
        }
    }

    pub(crate) fn validate(&self, field: &str, errors: &mut ValidationErrors) {
        if self.amount < 0 {
            errors.add(field, "negative", "must not be negative");
        } else if self.amount > MAX_MINOR {
            errors.add(
                field,
                "too_large",
                "is larger than any amount the directory accepts",
            );
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", format_amount(self.amount), self.currency)
    }
}

/// `150050` → `"1500.50"`.
pub fn format_amount(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `"1500.5"` → `150050`. At most two decimals; no exponent, no thousands separators.
pub fn parse_amount(raw: &str) -> Result<i64, String> {
    let s = raw.trim();
    let err = || format!("`{s}` is not an amount such as 1500 or 1500.50");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole
            .chars()
            .chain(frac.chars())
            .all(|c| c.is_ascii_digit())
    {
        return Err(err());
    }
    let whole: i64 = whole.parse().map_err(|_| err())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| err())?
    };
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .filter(|v| *v <= MAX_MINOR)
        .ok_or_else(err)
}

fn ser_amount<S: Serializer>(minor: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_amount(*minor))
}

fn de_amount<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Whole(u64),
        Float(f64),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Text(t) => t,
        Raw::Whole(n) => n.to_string(),
        // As written (the shortest form that reads back the same): `1.234` is refused like the
        // text "1.234", never rounded to 1.23.
        Raw::Float(f) => f.to_string(),
    };
    parse_amount(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip() {
        assert_eq!(parse_amount("1500").unwrap(), 150000);
        assert_eq!(parse_amount("1500.5").unwrap(), 150050);
        assert_eq!(parse_amount("0.05").unwrap(), 5);
        assert_eq!(format_amount(150050), "1500.50");
        for bad in [
            "",
            "1,5",
            "1e3",
            "-4",
            "1.234",
            ".5",
            "99999999999999999999",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn money_json() {
        let m: Money = serde_json::from_str(r#"{"amount": 250.5, "currency": "uah"}"#).unwrap();
        assert_eq!(m, Money::new(25050, Currency::parse("UAH").unwrap()));
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"amount":"250.50","currency":"UAH"}"#
        );
        assert!(serde_json::from_str::<Money>(r#"{"amount": "1", "currency": "XXY"}"#).is_err());
        // A number is read as written, never rounded: three decimals are refused like text.
        for bad in ["1.234", "-5", "1e20", "0.0001"] {
            let json = format!(r#"{{"amount": {bad}, "currency": "UAH"}}"#);
            assert!(serde_json::from_str::<Money>(&json).is_err(), "{bad}");
        }
    }
}
