//! Values as a person wrote them in JSON (runtime.md §3): the request's form, an action's
//! `set`, a saved state's form. serde_json reads a number that is not a 64-bit integer as an
//! `f64`, which would change `123456789012345678901234567` or `1000000000000000.001` without a
//! word; here every value is read through its raw text ([`Entered`]), and a number keeps its
//! digits ([`Written`]) until the field it goes into decides whether it can hold them.
//!
//! (serde_json's `arbitrary_precision` feature would keep the text too, but crate-wide: it turns
//! every number into a map inside serde's untagged enums, and the language server's messages
//! are untagged enums with integer ids.)

use std::borrow::Cow;
use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Objects and lists inside an entered value nest at most this deep (a form needs four:
/// form, table, row, list of ids); the reader recurses once per level.
const MAX_DEPTH: usize = 32;

/// A JSON value with every number as written. Text and numbers borrow from the JSON text when
/// they can (no escapes), so reading a million rows allocates for what is kept, not per cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entered<'a> {
    Null,
    Bool(bool),
    /// The number's JSON text, exactly as written (`-1.5e3`, `0.10`).
    Number(Cow<'a, str>),
    Text(Cow<'a, str>),
    List(Vec<Entered<'a>>),
    /// Members in written order; a key given twice is kept twice, for the reader to refuse.
    Object(Vec<(Cow<'a, str>, Entered<'a>)>),
}

impl Entered<'_> {
    pub fn is_null(&self) -> bool {
        matches!(self, Entered::Null)
    }
}

/// Compact JSON, as serde_json shows a value: messages quote what was entered.
impl fmt::Display for Entered<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entered::Null => formatter.write_str("null"),
            Entered::Bool(flag) => write!(formatter, "{flag}"),
            Entered::Number(text) => formatter.write_str(text),
            Entered::Text(text) => write!(formatter, "{}", serde_json::Value::from(text.as_ref())),
            Entered::List(items) => {
                formatter.write_str("[")?;
                for (position, item) in items.iter().enumerate() {
                    if position > 0 {
                        formatter.write_str(",")?;
                    }
                    write!(formatter, "{item}")?;
                }
                formatter.write_str("]")
            }
            Entered::Object(members) => {
                formatter.write_str("{")?;
                for (position, (key, value)) in members.iter().enumerate() {
                    if position > 0 {
                        formatter.write_str(",")?;
                    }
                    write!(formatter, "{}:{value}", serde_json::Value::from(key.as_ref()))?;
                }
                formatter.write_str("}")
            }
        }
    }
}

/// Reads through the raw text, so numbers are exact: from JSON text (`serde_json::from_str`),
/// whose raw values the reader borrows.
impl<'de> Deserialize<'de> for Entered<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Exact { depth: 0 }.deserialize(deserializer)
    }
}

/// One value, read from its raw text.
#[derive(Clone, Copy)]
struct Exact {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Exact {
    type Value = Entered<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Entered<'de>, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        let text = raw.get().trim();
        match text.as_bytes().first() {
            Some(b'{' | b'[') => {
                if self.depth >= MAX_DEPTH {
                    return Err(de::Error::custom(format_args!("values nest more than {MAX_DEPTH} levels deep")));
                }
                let mut inner = serde_json::Deserializer::from_str(text);
                let value = inner
                    .deserialize_any(Members { depth: self.depth + 1 })
                    .and_then(|value| inner.end().map(|()| value))
                    .map_err(|error| de::Error::custom(bare_message(&error)))?;
                Ok(value)
            }
            // Without escapes the text between the quotes is the string (the parser checked it).
            Some(b'"') => match text.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')) {
                Some(plain) if !plain.contains('\\') => Ok(Entered::Text(Cow::Borrowed(plain))),
                _ => serde_json::from_str::<String>(text)
                    .map(|text| Entered::Text(Cow::Owned(text)))
                    .map_err(|error| de::Error::custom(bare_message(&error))),
            },
            Some(b't') => Ok(Entered::Bool(true)),
            Some(b'f') => Ok(Entered::Bool(false)),
            Some(b'n') => Ok(Entered::Null),
            _ => Ok(Entered::Number(Cow::Borrowed(text))),
        }
    }
}

/// A key, borrowed from the text unless it has escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
}

/// Reads an object or a list whose members are read exactly. Given anything else directly (a
/// row that is not an object), it takes what the parser gives: an `f64` for a number with a
/// fraction, which only ever shows in the message refusing it.
#[derive(Clone, Copy)]
pub struct Members {
    depth: usize,
}

impl Members {
    /// A value read where an object is expected (a detail row); its members are exact.
    pub fn top() -> Members {
        Members { depth: 1 }
    }
}

impl<'de> DeserializeSeed<'de> for Members {
    type Value = Entered<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Entered<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Members {
    type Value = Entered<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entered<'de>, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let value = map.next_value_seed(Exact { depth: self.depth })?;
            members.push((key, value));
        }
        Ok(Entered::Object(members))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entered<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Exact { depth: self.depth })? {
            items.push(item);
        }
        Ok(Entered::List(items))
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Entered<'de>, E> {
        Ok(Entered::Bool(flag))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Entered<'de>, E> {
        Ok(Entered::Number(Cow::Owned(number.to_string())))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Entered<'de>, E> {
        Ok(Entered::Number(Cow::Owned(number.to_string())))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Entered<'de>, E> {
        Ok(Entered::Number(Cow::Owned(serde_json::Value::from(number).to_string())))
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Entered<'de>, E> {
        Ok(Entered::Text(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Entered<'de>, E> {
        Ok(Entered::Text(Cow::Owned(text.to_owned())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Entered<'de>, E> {
        Ok(Entered::Null)
    }
}

/// serde_json's message without its " at line L column C": a position inside a value's own
/// text would point nowhere in the file.
pub fn bare_message(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_owned()
}

/// A decimal number as written, before a field decides whether it can hold it:
/// `± digits × 10^(−places)`, the digits without leading or trailing zeros (none for zero), and
/// `places` below zero for a number written with an exponent (`1e3`: digits 1, places −3).
/// Parsed without allocating: a million rows of numbers cost no strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    negative: bool,
    /// The significant digits as a number; `None` past 38 of them (no decimal holds those).
    digits: Option<u128>,
    /// How many significant digits there are.
    count: u64,
    places: i64,
}

/// No exponent beyond this is read as written; far beyond any decimal either way.
const EXPONENT_LIMIT: i64 = 1_000_000_000;

impl Written {
    /// A JSON number (`-1.5e3`), or, without `exponent`, a number written as text: an optional
    /// sign, digits and at most one decimal point (thousands separators already removed).
    pub fn parse(text: &str, exponent: bool) -> Option<Written> {
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, text.get(1..)?),
            Some(b'+') if !exponent => (false, text.get(1..)?),
            _ => (false, text),
        };
        let (mantissa, power) = match unsigned.find(['e', 'E']) {
            Some(at) if exponent => (unsigned.get(..at)?, parse_exponent(unsigned.get(at + 1..)?)?),
            Some(_) => return None,
            None => (unsigned, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        // Significant digits: leading zeros skipped, zeros held back until a digit follows them,
        // so trailing zeros end up in `pending` and out of the number.
        let (mut digits, mut count, mut pending) = (Some(0_u128), 0_u64, 0_u64);
        for byte in whole.bytes().chain(fraction.bytes()) {
            match byte {
                b'0' if count > 0 => pending += 1,
                b'0' => {}
                b'1'..=b'9' => {
                    for _ in 0..pending {
                        digits = digits.and_then(|digits| digits.checked_mul(10));
                    }
                    digits = digits.and_then(|digits| digits.checked_mul(10)?.checked_add(u128::from(byte - b'0')));
                    count += pending + 1;
                    pending = 0;
                }
                _ => return None,
            }
        }
        if count == 0 {
            return Some(Written { negative: false, digits: Some(0), count: 0, places: 0 });
        }
        let places = i64::try_from(fraction.len()).ok()? - power - i64::try_from(pending).ok()?;
        Some(Written { negative, digits, count, places })
    }

    /// The decimal places the number needs (0 for a whole number).
    pub fn decimals(&self) -> u64 {
        u64::try_from(self.places).unwrap_or(0)
    }

    /// The digits before the decimal point (0 for zero and for numbers below one).
    pub fn whole_digits(&self) -> u64 {
        let count = i64::try_from(self.count).unwrap_or(i64::MAX);
        u64::try_from(count.saturating_sub(self.places)).unwrap_or(0)
    }

    /// The number as a decimal, exactly; `None` when no decimal holds it (more than 28 decimal
    /// places, or more than 79228162514264337593543950335 in its digits).
    pub fn to_decimal(&self) -> Option<Decimal> {
        if self.count == 0 {
            return Some(Decimal::ZERO);
        }
        let scale = u32::try_from(self.places.max(0)).ok().filter(|&scale| scale <= Decimal::MAX_SCALE)?;
        let zeros = u32::try_from((-self.places).max(0)).ok().filter(|&zeros| zeros <= 29)?;
        let mantissa = self.digits?.checked_mul(10_u128.checked_pow(zeros)?)?;
        let mantissa = i128::try_from(mantissa).ok()?;
        Decimal::try_from_i128_with_scale(if self.negative { -mantissa } else { mantissa }, scale).ok()
    }
}

fn parse_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let magnitude =
        digits.bytes().fold(0_i64, |value, digit| (value * 10 + i64::from(digit - b'0')).min(EXPONENT_LIMIT));
    Some(if negative { -magnitude } else { magnitude })
}

/// Whether `number` can be held with exactly `scale` decimal places (a field's scale): a
/// decimal has room for about 28 significant digits, so 6.6×10^20 cannot keep ten.
pub fn fits_scale(number: Decimal, scale: u32) -> bool {
    let mut rescaled = number;
    rescaled.rescale(scale);
    rescaled.scale() == scale && rescaled == number
}

/// The digits before the decimal point of `number` (at least 1).
pub fn whole_digits(number: Decimal) -> u64 {
    u64::try_from(number.abs().trunc().to_string().len()).unwrap_or(u64::MAX)
}

/// Why a number is too large for a field, with its size: "… is too large to keep 10 decimal
/// places: that takes 31 digits, and a number holds at most 28 significant digits".
pub fn too_large(shown: &str, whole_digits: u64, scale: u32) -> String {
    let total = whole_digits.saturating_add(u64::from(scale));
    if scale == 0 {
        format!("{shown} is too large: it has {total} digits, and a number holds at most 28 significant digits")
    } else {
        format!(
            "{shown} is too large to keep {scale} decimal places: that takes {total} digits, \
             and a number holds at most 28 significant digits"
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    fn exact(text: &str) -> Option<String> {
        Written::parse(text, true).and_then(|written| written.to_decimal()).map(|number| number.to_string())
    }

    #[test]
    fn numbers_keep_every_digit() {
        assert_eq!(exact("123456789012345678901234567").as_deref(), Some("123456789012345678901234567"));
        assert_eq!(exact("18446744073709551617").as_deref(), Some("18446744073709551617"));
        assert_eq!(exact("1000000000000000.001").as_deref(), Some("1000000000000000.001"));
        assert_eq!(exact("-1.5e3").as_deref(), Some("-1500"));
        assert_eq!(exact("1.50").as_deref(), Some("1.5"));
        assert_eq!(exact("100").as_deref(), Some("100"));
        assert_eq!(exact("10.50").as_deref(), Some("10.5"));
        assert_eq!(exact("00012.3400e1").as_deref(), Some("123.4"));
        assert_eq!(exact("0.000").as_deref(), Some("0"));
        assert_eq!(exact("-0").as_deref(), Some("0"));
        assert_eq!(exact("12e-2").as_deref(), Some("0.12"));
        assert_eq!(exact("79228162514264337593543950335").as_deref(), Some("79228162514264337593543950335"));
        assert_eq!(exact("0.0000000000000000000000000001").as_deref(), Some("0.0000000000000000000000000001"));
    }

    #[test]
    fn what_no_decimal_holds_is_none() {
        assert_eq!(exact("79228162514264337593543950336"), None);
        assert_eq!(exact("1e400"), None);
        assert_eq!(exact("1e-400"), None);
        assert_eq!(exact("1.00000000000000000000000000001"), None);
        assert_eq!(exact("1e99999999999999999999"), None);
        assert_eq!(Written::parse("1e3", false), None, "text has no exponent");
        assert_eq!(Written::parse("1_000", false), None);
        assert_eq!(Written::parse(".", false), None);
        assert_eq!(Written::parse("-", false), None);
        assert_eq!(Written::parse("", false), None);
    }

    #[test]
    fn sizes() {
        let written = Written::parse("660000000000000000000", true).unwrap();
        assert_eq!((written.whole_digits(), written.decimals()), (21, 0));
        let written = Written::parse("1000000000000000000000000000000000000000", true).unwrap();
        assert_eq!((written.whole_digits(), written.to_decimal()), (40, None));
        let written = Written::parse("1234567890123456789012345678901234567890.5", true).unwrap();
        assert_eq!((written.whole_digits(), written.decimals(), written.to_decimal()), (40, 1, None));
        let written = Written::parse("0.125", true).unwrap();
        assert_eq!((written.whole_digits(), written.decimals()), (0, 3));
        let big: Decimal = "660000000000000000000.5".parse().unwrap();
        assert!(!fits_scale(big, 10));
        assert!(fits_scale(big, 2));
        assert_eq!(whole_digits(big), 21);
    }

    #[test]
    fn entered_values_read_exactly() {
        let value: Entered = serde_json::from_str(r#"{"a": [1e400, 0.1, "x"], "a": null, "b": true}"#).unwrap();
        assert_eq!(value.to_string(), r#"{"a":[1e400,0.1,"x"],"a":null,"b":true}"#);
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(serde_json::from_str::<Entered>(&deep).is_err());
        assert!(serde_json::from_str::<Entered>(r#""\ud800""#).is_err());
    }
}
