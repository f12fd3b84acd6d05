//! Exact money arithmetic: rounding, 人民币大写, thousands separators.
//!
//! Every number is a `rust_decimal::Decimal` (language.md §4). Rounding here is always half away
//! from zero (四舍五入), never rust_decimal's default banker's rounding. `rmb_upper` and
//! `thousands` are the built-ins of language.md §8; `tests/data/money/*.tsv` hold oracle vectors
//! for all three functions (see `tests/data/money/generate.py`).

use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// The first amount in 分 that `rmb_upper` cannot write: 10^16 元, since the units stop at 万亿.
const FEN_LIMIT: u64 = 1_000_000_000_000_000_000;

/// Why an amount cannot be written in Chinese capitals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    /// The amount, rounded to 分, is 10^16 元 or more (or less than −10^16 元): the units stop at
    /// 万亿. `amount` is the value as given, before rounding.
    TooLarge { amount: Decimal },
}

impl fmt::Display for MoneyError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::TooLarge { amount } => write!(
                formatter,
                "amount `{amount}` is too large to write in Chinese capitals: the units stop at 万亿, \
                 so the largest is 9999999999999999.99"
            ),
        }
    }
}

impl std::error::Error for MoneyError {}

/// Rounds `value` to `places` decimals, halves away from zero (四舍五入): 2.5 → 3, −2.5 → −3,
/// 1.005 at two places → 1.01. A value with `places` decimals or fewer is returned unchanged
/// (its scale is not raised).
pub fn round_half_away(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

/// Writes `amount` in Chinese capitals (人民币大写) as language.md §8 specifies: rounded to 分
/// half away from zero first, then `1680.32` → 壹仟陆佰捌拾元零叁角贰分, `0.05` → 伍分,
/// `0` → 零元整, negatives with a 负 prefix. Amounts of 10^16 元 or more are an error.
pub fn rmb_upper(amount: Decimal) -> Result<String, MoneyError> {
    let rounded = round_half_away(amount, 2);
    let total_fen = rounded
        .abs()
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|fen| fen.to_u64())
        .filter(|fen| *fen < FEN_LIMIT)
        .ok_or(MoneyError::TooLarge { amount })?;
    if total_fen == 0 {
        return Ok("零元整".to_owned());
    }
    let yuan = total_fen / 100;
    let jiao = total_fen / 10 % 10;
    let fen = total_fen % 10;

    let mut text = String::new();
    if rounded.is_sign_negative() {
        text.push('负');
    }
    // Under one 元 there is no integer part at all: no 元 and no leading 零 (0.50 → 伍角).
    if yuan > 0 {
        write_yuan(yuan, &mut text);
        text.push('元');
    }
    match (jiao, fen) {
        // An amount that stops at 元 ends with 整.
        (0, 0) => text.push('整'),
        // A zero 角 before a non-zero 分 is written 零 (柒元零壹分), except under one 元 (伍分).
        (0, fen) => {
            if yuan > 0 {
                text.push('零');
            }
            text.push(digit_char(fen));
            text.push('分');
        }
        // A zero 元 digit before a non-zero 角 is written 零 (壹拾元零伍角). An amount that stops
        // at 角 takes no 整.
        (jiao, fen) => {
            if yuan > 0 && yuan % 10 == 0 {
                text.push('零');
            }
            text.push(digit_char(jiao));
            text.push('角');
            if fen > 0 {
                text.push(digit_char(fen));
                text.push('分');
            }
        }
    }
    Ok(text)
}

/// Appends the reading of `yuan` (1 ≤ yuan < 10^16), without 元. Digits are read from the
/// highest place down in groups of four: the 万亿 group (its unit 万, then 亿), the 亿 group, the
/// 万 group and the units. Zeros at the end of a non-zero group are silent (壹拾万柒仟); any other
/// run of zeros, including one that covers a whole group, is one 零 before the next non-zero
/// digit (壹亿零壹仟, 壹万亿零壹仟万). Every digit is written before its unit, so a leading 拾 is
/// 壹拾.
fn write_yuan(yuan: u64, text: &mut String) {
    let mut started = false;
    let mut zero_pending = false;
    for position in (0..16u32).rev() {
        let power = 10u64.pow(position);
        let digit = yuan / power % 10;
        if digit == 0 {
            zero_pending = started;
        } else {
            if zero_pending {
                text.push('零');
                zero_pending = false;
            }
            text.push(digit_char(digit));
            text.push_str(place_unit(position % 4));
            started = true;
        }
        if position > 0 && position % 4 == 0 {
            let group = yuan / power % 10_000;
            if group != 0 {
                text.push_str(group_unit(position));
                // The zeros at the end of this group are silent.
                zero_pending = false;
            } else if position == 8 && yuan >= 1_000_000_000_000 {
                // 万亿 with a zero 亿 group: the 亿 is still written (壹万亿), and the zeros of the
                // 亿 group still count as a run before the next digit (壹万亿零壹仟万).
                text.push('亿');
            }
        }
    }
}

/// The capital for a digit in 0..10.
fn digit_char(digit: u64) -> char {
    match digit {
        0 => '零',
        1 => '壹',
        2 => '贰',
        3 => '叁',
        4 => '肆',
        5 => '伍',
        6 => '陆',
        7 => '柒',
        8 => '捌',
        _ => '玖',
    }
}

/// The unit of a place inside a group of four: 拾 佰 仟, nothing for the group's last digit.
fn place_unit(place: u32) -> &'static str {
    match place {
        1 => "拾",
        2 => "佰",
        3 => "仟",
        _ => "",
    }
}

/// The unit written after a non-zero group ending at `position` (4, 8 or 12). The 万亿 group
/// takes 万 here; its 亿 comes with the 亿 group.
fn group_unit(position: u32) -> &'static str {
    match position {
        8 => "亿",
        4 | 12 => "万",
        _ => "",
    }
}

/// `thousands(x, n)` (language.md §8): `value` rounded half away from zero to `places` decimals,
/// the integer part grouped by three with `,`, always exactly `places` decimals (none and no
/// point when `places` is 0): `1234567.5` at 2 → `1,234,567.50`. A value that rounds to zero has
/// no minus sign.
pub fn thousands(value: Decimal, places: u32) -> String {
    let rounded = round_half_away(value, places);
    let digits = rounded.abs().to_string();
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits.as_str(), ""));

    let mut text = String::new();
    if rounded.is_sign_negative() && !rounded.is_zero() {
        text.push('-');
    }
    let count = whole.chars().count();
    for (index, character) in whole.chars().enumerate() {
        if index > 0 && (count - index) % 3 == 0 {
            text.push(',');
        }
        text.push(character);
    }
    if places > 0 {
        text.push('.');
        text.push_str(fraction);
        // INVARIANT: rounding leaves at most `places` decimals, so this only pads.
        for _ in fraction.chars().count()..places as usize {
            text.push('0');
        }
    }
    text
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).expect("a decimal literal")
    }

    fn upper(text: &str) -> String {
        rmb_upper(decimal(text)).expect("an amount below 10^16 元")
    }

    #[test]
    fn language_md_examples() {
        let examples = [
            ("0.05", "伍分"),
            ("1.10", "壹元壹角"),
            ("7.01", "柒元零壹分"),
            ("10.50", "壹拾元零伍角"),
            ("1409.50", "壹仟肆佰零玖元伍角"),
            ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
            ("6007.14", "陆仟零柒元壹角肆分"),
            ("107000.53", "壹拾万柒仟元零伍角叁分"),
            ("120000.02", "壹拾贰万元零贰分"),
            ("100001000", "壹亿零壹仟元整"),
        ];
        for (amount, expected) in examples {
            assert_eq!(upper(amount), expected, "{amount}");
        }
    }

    #[test]
    fn zero_negative_and_under_one_yuan() {
        assert_eq!(upper("0"), "零元整");
        assert_eq!(upper("0.00"), "零元整");
        assert_eq!(upper("-0.004"), "零元整");
        assert_eq!(upper("0.50"), "伍角");
        assert_eq!(upper("0.56"), "伍角陆分");
        assert_eq!(upper("0.005"), "壹分");
        assert_eq!(upper("-0.05"), "负伍分");
        assert_eq!(upper("-1680.32"), "负壹仟陆佰捌拾元零叁角贰分");
        assert_eq!(upper("-10"), "负壹拾元整");
    }

    #[test]
    fn jiao_fen_and_zheng() {
        assert_eq!(upper("1"), "壹元整");
        assert_eq!(upper("1.5"), "壹元伍角");
        assert_eq!(upper("1.05"), "壹元零伍分");
        assert_eq!(upper("10"), "壹拾元整");
        assert_eq!(upper("10.05"), "壹拾元零伍分");
        assert_eq!(upper("10.55"), "壹拾元零伍角伍分");
        assert_eq!(upper("15"), "壹拾伍元整");
    }

    #[test]
    fn rounds_to_fen_half_away_from_zero() {
        assert_eq!(upper("1.005"), "壹元零壹分");
        assert_eq!(upper("1.004999"), "壹元整");
        assert_eq!(upper("2.125"), "贰元壹角叁分");
        assert_eq!(upper("-2.125"), "负贰元壹角叁分");
        assert_eq!(upper("9.995"), "壹拾元整");
    }

    #[test]
    fn zeros_across_groups() {
        let cases = [
            ("10000000", "壹仟万元整"),
            ("100000000", "壹亿元整"),
            ("100010000", "壹亿零壹万元整"),
            ("1000000001", "壹拾亿零壹元整"),
            ("100700", "壹拾万零柒佰元整"),
            ("10001000", "壹仟万壹仟元整"),
            ("1010000", "壹佰零壹万元整"),
            ("10010", "壹万零壹拾元整"),
            ("10001", "壹万零壹元整"),
            ("1000000000000", "壹万亿元整"),
            ("1000000000001", "壹万亿零壹元整"),
            ("1000010000000", "壹万亿零壹仟万元整"),
            ("1000000010000", "壹万亿零壹万元整"),
            ("1000100000000", "壹万零壹亿元整"),
            ("1100000000000", "壹万壹仟亿元整"),
            ("100000000000000", "壹佰万亿元整"),
            ("1000000000000000", "壹仟万亿元整"),
            ("1234567800000000", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌亿元整"),
            ("9999999999999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        ];
        for (amount, expected) in cases {
            assert_eq!(upper(amount), expected, "{amount}");
        }
    }

    #[test]
    fn too_large() {
        for amount in
            ["10000000000000000", "9999999999999999.995", "-10000000000000000", "79228162514264337593543950335"]
        {
            let error = rmb_upper(decimal(amount)).expect_err("too large");
            assert_eq!(error, MoneyError::TooLarge { amount: decimal(amount) });
        }
        let message = MoneyError::TooLarge { amount: decimal("1E16") }.to_string();
        assert!(message.starts_with("amount `"), "{message}");
        assert!(!message.ends_with('.'), "{message}");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        let cases = [
            ("2.5", 0, "3"),
            ("-2.5", 0, "-3"),
            ("3.5", 0, "4"),
            ("2.4999", 0, "2"),
            ("1.005", 2, "1.01"),
            ("-1.005", 2, "-1.01"),
            ("1.2345", 3, "1.235"),
            ("1.2", 4, "1.2"),
            ("0.5", 0, "1"),
            ("-0.4", 0, "0"),
        ];
        for (value, places, expected) in cases {
            assert_eq!(round_half_away(decimal(value), places), decimal(expected), "{value} at {places}");
        }
    }

    #[test]
    fn thousands_groups_and_pads() {
        let cases = [
            ("1234567.5", 2, "1,234,567.50"),
            ("-1234", 2, "-1,234.00"),
            ("1234.5", 0, "1,235"),
            ("-1234.5", 0, "-1,235"),
            ("999.995", 2, "1,000.00"),
            ("0", 2, "0.00"),
            ("-0.001", 2, "0.00"),
            ("12", 0, "12"),
            ("123", 1, "123.0"),
            ("123456", 3, "123,456.000"),
            ("0.125", 2, "0.13"),
            ("1000000", 4, "1,000,000.0000"),
        ];
        for (value, places, expected) in cases {
            assert_eq!(thousands(decimal(value), places), expected, "{value} at {places}");
        }
    }
}
