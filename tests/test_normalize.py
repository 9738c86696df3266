"""Narrow normalisation: every date, time and count form clerks type."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.core.contract import CHOICES
from pipeline.core.normalize import (
    DATE_YEARS,
    Invalid,
    clean_id,
    clean_text,
    decode_excel_escapes,
    parse_choice,
    parse_count,
    parse_date,
    parse_flag,
    parse_time,
    serial_to_date,
    weekday_mismatch,
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


# --- dates a careful clerk would want questioned (issue #10) -----------------------------------------


@pytest.mark.parametrize(
    "raw,why",
    [
        (2020, "年だけ"),  # as a number it would be the Excel serial of 1905-07-12 (明治38年)
        (1985.0, "年だけ"),
        ("2020", "年だけ"),
        ("２０２０", "年だけ"),
        ("2020年", "年だけ"),
        ("令和2年", "年だけ"),
        ("R2", "年だけ"),
        ("令和元年4月30日", "2019年5月1日"),  # 令和 began on 2019-05-01
        ("R1.4.30", "2019年5月1日"),
        ("平成元年1月7日", "1989年1月8日"),  # 平成 began on 1989-01-08
        ("H1.1.1", "1989年1月8日"),
        ("昭和元年12月24日", "1926年12月25日"),
        ("1899/12/31", "1900年～2100年"),
        ("2299/1/1", "1900年～2100年"),
        (dt.datetime(2299, 1, 1), "1900年～2100年"),  # a real Excel date cell, out of range
        ("明治5年12月2日", "1900年～2100年"),
    ],
)
def test_questionable_dates_are_refused_with_a_reason(raw, why):
    got = parse_date(raw)
    assert isinstance(got, Invalid)
    assert got.reason and why in got.reason
    assert any("\u3040" <= ch <= "\u30ff" for ch in got.reason)  # a Japanese sentence


def test_year_alone_message_says_what_excel_would_make_of_it():
    assert "1905年7月12日" in parse_date(2020).reason  # 1899-12-30 + 2020 days


def test_era_reason_names_the_day_in_the_era_before():
    assert "平成31年4月30日" in parse_date("令和元年4月30日").reason
    assert "昭和64年1月7日" in parse_date("平成元年1月7日").reason


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("令和元年5月1日", D(2019, 5, 1)),  # first day of 令和
        ("平成元年1月8日", D(1989, 1, 8)),  # first day of 平成
        ("平成31年5月1日", D(2019, 5, 1)),  # after 平成 ended: accepted on purpose (docs/decisions.md)
        ("昭和64年1月8日", D(1989, 1, 8)),
        ("1900/1/1", D(1900, 1, 1)),  # the range is inclusive
        ("2100/12/31", D(2100, 12, 31)),
        (999, D(1902, 9, 25)),  # just below the numbers read as a year alone
        (3000, D(1908, 3, 18)),  # just above
    ],
)
def test_dates_just_inside_the_boundaries(raw, expected):
    assert parse_date(raw) == expected


def test_year_range_is_a_parameter_and_a_module_default():
    assert DATE_YEARS == (1900, 2100)
    assert parse_date("1899/12/31", years=(1873, 2100)) == D(1899, 12, 31)
    assert isinstance(parse_date("2030/1/1", years=(1900, 2029)), Invalid)
    assert parse_date("明治6年1月1日", years=(1873, 2099)) == D(1873, 1, 1)


@pytest.mark.parametrize(
    "raw,written,real",
    [
        ("令和２年３月５日（金）", "金", "木"),  # 2020-03-05 was a Thursday
        ("2020/3/5(金曜日)", "金曜日", "木"),
        ("R2.3.5 (Fri)", "Fri", "木"),
        ("令和6年6月10日（日）", "日", "月"),
    ],
)
def test_weekday_that_does_not_match_the_date(raw, written, real):
    d, w, r = weekday_mismatch(raw)
    assert (w, r) == (written, real)
    assert parse_date(raw) == d  # the date is still read


@pytest.mark.parametrize(
    "raw", ["令和2年3月5日（木）", "2020/3/5(木曜日)", "R2.3.5 (thu)", "令和2年3月5日", "春（金）", None, 43895]
)
def test_weekday_that_matches_or_is_absent(raw):
    assert weekday_mismatch(raw) is None


def test_1904_serials_count_from_1904():
    """Excel's 1904 system: serial 0 is 1904-01-01."""
    assert serial_to_date((D(2020, 3, 5) - D(1904, 1, 1)).days, date1904=True) == D(2020, 3, 5)
    assert serial_to_date((D(2020, 3, 5) - D(1899, 12, 30)).days) == D(2020, 3, 5)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("一行目_x000D_\n二行目", "一行目\r\n二行目"),  # Excel's CR
        ("A_x0001_B_x001F_C", "ABC"),  # control characters: decoded, then dropped (XML cannot hold them)
        ("A_x0009_B", "A\tB"),
        ("_x005F_x0041_", "_x0041_"),  # a typed "_x0041_": the underscore is escaped
        ("_x005F_x005F_", "_x005F_"),
        ("_x005f_x000d_", "_x000d_"),  # hex in either case
        ("_x0041__x0042_", "AB"),
        ("_xD83D__xDE00_", "\U0001f600"),  # a surrogate pair as two escapes
        ("_xD83D_", ""),  # a lone surrogate is not a character
        ("a_b_x12_ _x00ZZ_ x005F_", "a_b_x12_ _x00ZZ_ x005F_"),  # no escape syntax: as typed
        ("名前", "名前"),
    ],
)
def test_excel_escapes(raw, expected):
    assert decode_excel_escapes(raw) == expected


def test_huge_numbers_are_invalid_not_a_crash():
    for raw in (10**400, -(10**400), "9" * 400, 1e308, float("inf"), float("nan")):
        assert isinstance(parse_date(raw), Invalid)
    assert isinstance(parse_count(-(10**400)), Invalid)
    assert parse_count("9" * 400) == int("9" * 400)
