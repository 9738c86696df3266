"""和暦 dates, weekdays, times and counts as the forms print them."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.core import fmt

D = dt.date


@pytest.mark.parametrize(
    "day,expected",
    [
        (D(2019, 4, 30), "平成31年4月30日"),
        (D(2019, 5, 1), "令和元年5月1日"),
        (D(2019, 12, 31), "令和元年12月31日"),
        (D(2020, 1, 1), "令和2年1月1日"),
        (D(2020, 3, 5), "令和2年3月5日"),
        (D(1989, 1, 7), "昭和64年1月7日"),
        (D(1989, 1, 8), "平成元年1月8日"),
        (D(1926, 12, 25), "昭和元年12月25日"),
        (D(2026, 11, 27), "令和8年11月27日"),
    ],
)
def test_wareki(day, expected):
    assert fmt.wareki(day) == expected


def test_blank_date_leaves_the_form_blanks():
    assert fmt.wareki(None, fmt.BLANK_DATE) == "　　年　　月　　日"


@pytest.mark.parametrize("fy,expected", [(2018, "平成30年度"), (2019, "平成31年度"), (2020, "令和2年度")])
def test_fiscal_year(fy, expected):
    assert fmt.wareki_fy(fy) == expected


@pytest.mark.parametrize(
    "t,expected",
    [
        (dt.time(14, 0), "午後2時"),  # 公用文: no 00分
        (dt.time(15, 30), "午後3時30分"),
        (dt.time(9, 5), "午前9時5分"),
        (dt.time(11, 0), "午前11時"),
        (dt.time(12, 15), "午後0時15分"),
        (dt.time(0, 30), "午前0時30分"),
    ],
)
def test_time_ja(t, expected):
    assert fmt.time_ja(t) == expected


def test_meeting_when_matches_the_form():
    assert (
        fmt.meeting_when(D(2020, 3, 5), dt.time(14, 0), dt.time(15, 30))
        == "令和2年3月5日（木）午後2時から午後3時30分まで"
    )
    assert fmt.meeting_when(D(2020, 3, 5), None, None) == "令和2年3月5日（木）　　時　　分から　　時　　分まで"


def test_counts_and_marks():
    assert fmt.count(8) == "8人"
    assert fmt.count(0) == "0人"
    assert fmt.count(None) == ""
    assert (fmt.mark(True), fmt.mark(False)) == ("○", "")


def test_text_drops_xml_illegal_characters_but_keeps_line_breaks():
    assert fmt.text("a\x00b\x08c\nd\r\ne") == "abc\nd\ne"
