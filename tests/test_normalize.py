"""Narrow normalisation: every date, time and count form clerks type."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.contract import CHOICES
from pipeline.normalize import (
    Invalid,
    clean_id,
    clean_text,
    parse_choice,
    parse_count,
    parse_date,
    parse_flag,
    parse_time,
)

D = dt.date


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2020/3/5", D(2020, 3, 5)),
        ("2020-03-05", D(2020, 3, 5)),
        ("2020年3月5日", D(2020, 3, 5)),
        ("令和2年3月5日", D(2020, 3, 5)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("令和1年5月1日", D(2019, 5, 1)),
        ("R2.3.5", D(2020, 3, 5)),
        ("r2.3.5", D(2020, 3, 5)),
        ("H31.4.30", D(2019, 4, 30)),
        ("平成元年1月8日", D(1989, 1, 8)),
        ("昭和64年1月7日", D(1989, 1, 7)),
        ("S55.10.1", D(1980, 10, 1)),
        ("２０２０年３月５日", D(2020, 3, 5)),
        ("令和２年３月５日", D(2020, 3, 5)),
        ("Ｒ２．３．５", D(2020, 3, 5)),
        ("2020/3/5（木）", D(2020, 3, 5)),
        (" 2020 年 3 月 5 日 ", D(2020, 3, 5)),
        ("20200305", D(2020, 3, 5)),
        (dt.datetime(2020, 3, 5, 0, 0), D(2020, 3, 5)),
        (D(2020, 3, 5), D(2020, 3, 5)),
        (43895, D(2020, 3, 5)),  # Excel serial (Japanese built-in formats arrive as numbers)
        (43895.0, D(2020, 3, 5)),
        ("43895", D(2020, 3, 5)),
        (None, None),
        ("", None),
        ("　", None),
    ],
)
def test_dates(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["令和2年2月30日", "2020/13/1", "春", "R2", "10", 5, True, "令和0年1月1日", "X2.3.5"])
def test_bad_dates(raw):
    assert isinstance(parse_date(raw), Invalid)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("14:00", dt.time(14, 0)),
        ("１４：３０", dt.time(14, 30)),
        ("午後2時", dt.time(14, 0)),
        ("午後2時30分", dt.time(14, 30)),
        ("午前10時", dt.time(10, 0)),
        ("2時半", dt.time(2, 30)),
        ("14時", dt.time(14, 0)),
        ("午後12時", dt.time(12, 0)),
        ("午後２時～", dt.time(14, 0)),
        ("15:30まで", dt.time(15, 30)),
        (dt.time(18, 30), dt.time(18, 30)),
        (0.5833333333, dt.time(14, 0)),
        (dt.datetime(1899, 12, 30, 14, 0), dt.time(14, 0)),
        (None, None),
    ],
)
def test_times(raw, expected):
    assert parse_time(raw) == expected


@pytest.mark.parametrize("raw", ["夕方", "25:00", "14:75", 3])
def test_bad_times(raw):
    assert isinstance(parse_time(raw), Invalid)


@pytest.mark.parametrize(
    "raw,expected",
    [
        (10, 10),
        (10.0, 10),
        ("10", 10),
        ("１０", 10),
        ("10人", 10),
        ("１０名", 10),
        ("第2回", 2),
        ("2回目", 2),
        (0, 0),
        (None, None),
    ],
)
def test_counts(raw, expected):
    assert parse_count(raw) == expected


@pytest.mark.parametrize("raw", [-1, 2.5, "八人", "10.5", "約10", True])
def test_bad_counts(raw):
    assert isinstance(parse_count(raw), Invalid)


def test_names_are_never_nfkc_normalised():
    # U+FA11 﨑 and U+FA19 神 are compatibility ideographs that NFKC would replace.
    assert clean_text(" 山\ufa11　太郎 ") == "山\ufa11　太郎"
    assert clean_text("\ufa19田") == "\ufa19田"
    assert clean_text("ＡＢＣ商店") == "ＡＢＣ商店"


def test_alt_enter_line_breaks_are_kept():
    assert clean_text("一行目\r\n二行目\r三行目") == "一行目\n二行目\n三行目"


def test_xml_illegal_characters_are_dropped():
    assert clean_text("A\x01B\x0bC\x1fD") == "ABCD"


def test_ids_compare_across_sheets():
    assert clean_id(1) == clean_id(1.0) == clean_id("1") == clean_id("１") == "1"


@pytest.mark.parametrize(
    "column,raw,expected",
    [
        ("種別", "所管区", "所管区"),
        ("種別", "単位連絡協議会", "単位"),
        ("種別", "職種等連絡協議会", "職種等"),
        ("種別", "連絡協議会", "所管区"),
        ("交番等区分", "駐在所(単独配置)", "駐在所（単独配置）"),
        ("交番等区分", "駐在所 （ 複数配置 ）", "駐在所（複数配置）"),
        ("区分", "（ア）", "自治会等役員"),
        ("区分", "エ", "ボランティア団体関係者"),
        ("職種等区分", "(2)", "(2)"),
        ("職種等区分", "２", "(2)"),
        ("職種等区分", "外国人", "(3)"),
        ("会議種別", "定期", "定例"),
        ("会議種別", "臨時会議", "臨時"),
        ("会議種別", "定例会", "定例"),
        ("階級", "巡査 部長", "巡査部長"),
        ("性別", "女性", "女"),
        ("報告先", "副署長", "副署長"),
        ("階級", "巡査部長", "巡査部長"),
    ],
)
def test_choices(column, raw, expected):
    assert parse_choice(raw, CHOICES[column]) == expected


def test_unknown_choice_is_invalid():
    assert isinstance(parse_choice("派出所", CHOICES["交番等区分"]), Invalid)


@pytest.mark.parametrize(
    "raw,holds",
    [
        (None, False),
        ("無", False),
        ("なし", False),
        ("-", False),
        ("有", True),
        ("市議会議員", True),
        ("町長選挙に立候補予定", True),
    ],
)
def test_public_office_flag(raw, holds):
    assert (parse_flag(raw) is not None) is holds


def test_parsers_never_raise_on_arbitrary_text():
    """Whatever a cell holds, the parsers answer with a value, Invalid or None: never an exception."""
    import random

    rnd = random.Random(20261127)
    alphabet = "0123456789０１２３４５６７８９/.-:年月日時分午前後令和平成昭元RHS第人名回歳（）() 　半~～\n\x00"
    samples = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14))) for _ in range(3000)]
    samples += [-1e308, 1e308, float("nan"), float("inf"), 10**30, -5, 0.999999, dt.timedelta(days=-1)]
    for s in samples:
        assert parse_date(s) is None or isinstance(parse_date(s), (dt.date, Invalid))
        assert parse_time(s) is None or isinstance(parse_time(s), (dt.time, Invalid))
        assert parse_count(s) is None or isinstance(parse_count(s), (int, Invalid))
        clean_text(s)
