"""Writes the oracle vectors for src/runtime/money.rs (checked by tests/suite/money.rs).

The vectors are committed; the tests never run Python. To regenerate them:

    python3 -m venv /tmp/money-venv
    /tmp/money-venv/bin/pip install cn2an==0.5.24
    /tmp/money-venv/bin/python tests/data/money/generate.py

Three files, tab separated, one vector a line (the random choices are seeded, so a rerun
writes the same files):

- rounding.tsv   value, places, value rounded half away from zero (Python's decimal module,
                 ROUND_HALF_UP, which for Decimal is half away from zero: -2.5 -> -3).
- thousands.tsv  value, places, thousands(value, places): the same rounding, then Python's
                 format(value, ",.Nf"); a value that rounds to zero has no minus sign.
- rmb_upper.tsv  amount, rmb_upper(amount): cn2an.an2cn(amount, "rmb") as the oracle, with the
                 post-processing of `to_language_md` where docs/language.md §8.7 chose the other of two
                 allowed forms. An amount too large to write has the expectation `error: too large`.
"""

import random
import re
import sys
from decimal import ROUND_HALF_UP, Decimal, getcontext
from pathlib import Path

import cn2an

HERE = Path(__file__).resolve().parent
getcontext().prec = 60
random.seed(20261128)

UPPER_DIGITS = "壹贰叁肆伍陆柒捌玖"


def round_half_away(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------
# rmb_upper


def to_language_md(amount: Decimal, cn2an_text: str) -> str:
    """Converts cn2an's reading of `amount` (already rounded to 分) to docs/language.md's choices.

    Where cn2an and docs/language.md agree nothing is done: a leading 拾 is 壹拾 in cn2an's "up"
    digits too (it only drops the 一 of 一十 in lower-case mode); 整 follows an amount that stops
    at 元 and not one that stops at 角; an amount under one 元 has no leading 零 and no 元
    (0.05 -> 伍分, 0.50 -> 伍角); a zero 角 before a non-zero 分 is 零 (柒元零壹分); negatives
    take 负.
    """
    text = cn2an_text
    yuan = int(amount.copy_abs())
    jiao = int(amount.copy_abs() * 10) % 10

    # Rule "zeros at the end of a 万 or 亿 group are silent; one 零 marks any other run of
    # zeros". cn2an deletes every 零 between 万/亿 and a following 仟 digit (its regex
    # `([万亿])零(X仟)`), which is right when the zeros are the end of the group before
    # (107000 -> 壹拾万柒仟) but wrong when a whole group of zeros lies between: docs/language.md's
    # 100001000 -> 壹亿零壹仟. Where cn2an wrote the 仟 right after the unit, the run was a
    # whole group when
    # - the unit is the 亿 of 万亿 (the 亿 group is zero): 1000010000000 -> 壹万亿零壹仟万;
    # - the unit is 亿 and no 万 follows before 元 (the 万 group is zero): 壹亿零壹仟.
    digit = f"[{UPPER_DIGITS}]"
    text = re.sub(f"万亿({digit}仟)", r"万亿零\1", text)
    text = re.sub(f"(?<!万)亿({digit}仟[^万元]*元)", r"亿零\1", text)

    # Rule "when the 元 digit is zero and 角 is not, write 元零" (壹拾元零伍角): cn2an writes
    # 壹拾元伍角. Only when there is an integer part: under one 元 there is no 元 at all.
    if yuan > 0 and yuan % 10 == 0 and jiao != 0:
        text = text.replace("元", "元零", 1)

    return text


def rmb_upper(amount: Decimal) -> str:
    # Rule "round to 分 first, half away from zero": cn2an reads only the first two decimals
    # (it truncates), so it is given the rounded amount.
    rounded = round_half_away(amount, 2)
    # Rule "zero is 零元整", with no sign: cn2an writes 负零元整 for -0.00.
    if rounded == 0:
        rounded = abs(rounded)
    try:
        text = cn2an.an2cn(str(rounded), "rmb")
    except ValueError as error:
        # cn2an's units stop at 万亿 too: 17 digits or more is its range error.
        if "超出数据范围" in str(error):
            return "error: too large"
        raise
    return to_language_md(rounded, text)


def structured_integers() -> list[int]:
    numbers = set()
    # One non-zero digit in every position, and two: every pair of positions, so every run of
    # zeros between two digits, across every group boundary.
    for high in range(16):
        for digit in (1, 5, 9):
            numbers.add(digit * 10**high)
        for low in range(high):
            numbers.add(random.randint(1, 9) * 10**high + random.randint(1, 9) * 10**low)
    # Every combination of group shapes in the four groups (万亿, 亿, 万, units).
    shapes = [0, 1, 10, 100, 1000, 1001, 1010, 101, 9999]
    for top in shapes:
        for yi in shapes:
            for wan in shapes:
                for units in (0, 1, 10, 1000, 1001, 5000, 9999):
                    numbers.add(((top * 10_000 + yi) * 10_000 + wan) * 10_000 + units)
    return sorted(numbers)


def random_integer() -> int:
    length = random.randint(1, 16)
    zero_chance = random.choice([0.0, 0.3, 0.6, 0.85])
    digits = [str(random.randint(1, 9))]
    for _ in range(length - 1):
        digits.append("0" if random.random() < zero_chance else str(random.randint(1, 9)))
    return int("".join(digits))


def rmb_amounts() -> list[str]:
    examples = ["0.05", "1.10", "7.01", "10.50", "1409.50", "1680.32", "6007.14", "107000.53",
                "120000.02", "100001000"]
    amounts = list(examples)
    amounts += ["0", "0.00", "-0.004", "0.004", "0.005", "-0.005", "0.5", "0.50", "0.56", "9.995",
                "9999999999999999.99", "9999999999999999.994", "9999999999999999.995",
                "10000000000000000", "-10000000000000000", "123456789012345678.5"]
    integers = structured_integers()
    fractions = ["", ".00", ".01", ".10", ".11", ".5", ".05", ".50", ".99"]
    for number in integers:
        amounts.append(f"{number}{random.choice(fractions)}")
    for number in random.sample(integers, 600):
        amounts.append(f"{number}.{random.randint(0, 99):02d}")
    for _ in range(1500):
        cents = f"{random.randint(0, 99):02d}"
        amount = f"{random_integer()}.{cents}"
        if random.random() < 0.15:
            amount = "-" + amount
        amounts.append(amount)
    # Three or more decimals: rounding to 分 first, midpoints included.
    for _ in range(400):
        whole = random.choice([0, random.randint(0, 99), random_integer()])
        tail = random.choice(["5", "49", "51", "4999", "0001", str(random.randint(0, 999))])
        amount = f"{whole}.{random.randint(0, 99):02d}{tail}"
        if random.random() < 0.3:
            amount = "-" + amount
        amounts.append(amount)
    seen = set()
    return [amount for amount in amounts if not (amount in seen or seen.add(amount))]


# ---------------------------------------------------------------------------------------------
# rounding and thousands


def random_value() -> str:
    kind = random.random()
    whole = random.choice([0, random.randint(0, 9), random.randint(0, 10**6), random.randint(0, 10**15)])
    if kind < 0.4:
        # An exact midpoint at some number of places.
        decimals = "".join(str(random.randint(0, 9)) for _ in range(random.randint(0, 5))) + "5"
    elif kind < 0.5:
        decimals = random.choice(["49999", "50001", "9995", "999", "0005", ""])
    else:
        decimals = "".join(str(random.randint(0, 9)) for _ in range(random.randint(0, 10)))
    text = f"{whole}.{decimals}" if decimals else str(whole)
    if random.random() < 0.35:
        text = "-" + text
    return text


def value_places() -> list[tuple[str, int]]:
    fixed = ["0", "-0", "0.5", "-0.5", "1.5", "2.5", "-2.5", "1.005", "-1.005", "2.675", "0.125",
             "999.995", "-999.995", "999999.5", "1234567.5", "-1234", "0.0000000000000000000000000005",
             "7922816251426433759354395033.5", "-7922816251426433759354395033.5",
             "79228162514264337593543950335", "1.2345678901234567890123456785"]
    pairs = [(value, places) for value in fixed for places in (0, 1, 2, 3, 6)]
    for _ in range(3000):
        pairs.append((random_value(), random.choice([0, 0, 1, 2, 2, 2, 3, 4, 6, 8])))
    return list(dict.fromkeys(pairs))


def thousands(value: Decimal, places: int) -> str:
    rounded = round_half_away(value, places)
    if rounded == 0:
        rounded = abs(rounded)
    return format(rounded, f",.{places}f")


# ---------------------------------------------------------------------------------------------


def write(name: str, rows: list[tuple]) -> None:
    path = HERE / name
    with path.open("w", encoding="utf-8", newline="\n") as file:
        for row in rows:
            file.write("\t".join(str(cell) for cell in row) + "\n")
    print(f"{path.name}: {len(rows)} vectors", file=sys.stderr)


def main() -> None:
    write("rmb_upper.tsv", [(amount, rmb_upper(Decimal(amount))) for amount in rmb_amounts()])
    pairs = value_places()
    rounding = [(value, places, format(round_half_away(Decimal(value), places), "f")) for value, places in pairs]
    write("rounding.tsv", rounding)
    write("thousands.tsv", [(value, places, thousands(Decimal(value), places)) for value, places in pairs])


if __name__ == "__main__":
    main()
