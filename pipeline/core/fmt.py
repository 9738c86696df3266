"""Formatting helpers for printed values: 和暦 dates (元年), weekdays, times, counts, marks."""

from __future__ import annotations

import datetime as dt

from pipeline.core.normalize import ERAS, strip_illegal_xml

WEEKDAYS = "月火水木金土日"
BLANK_DATE = "　　年　　月　　日"  # the form's own blanks, left for hand entry


def era_of(d: dt.date) -> tuple[str, int]:
    for name, _, start in ERAS:
        if d >= start:
            return name, d.year - start.year + 1
    raise ValueError(f"date before 明治: {d}")


def era_year(name: str, year: int) -> str:
    return f"{name}{'元' if year == 1 else year}年"


def wareki(d: dt.date | None, blank: str = "") -> str:
    """2020-03-05 -> 令和2年3月5日; 2019-05-01 -> 令和元年5月1日."""
    if d is None:
        return blank
    name, year = era_of(d)
    return f"{era_year(name, year)}{d.month}月{d.day}日"


def wareki_fy(fy: int) -> str:
    """年度 named by the era of its first day: 2019 -> 平成31年度 (it begins 2019-04-01)."""
    name, year = era_of(dt.date(fy, 4, 1))
    return f"{era_year(name, year)}度"


def fy_label(fy: int) -> str:
    """wareki_fy for a page or a table: a 年度 before 明治 (a typo) is shown as its Western year."""
    try:
        return wareki_fy(fy)
    except ValueError:
        return f"{fy}年度"


def weekday(d: dt.date) -> str:
    return f"（{WEEKDAYS[d.weekday()]}）"


def time_ja(t: dt.time | None) -> str:
    """As 公用文 writes times: 14:00 -> 午後2時; 15:30 -> 午後3時30分; 9:05 -> 午前9時5分; 12:15 -> 午後0時15分."""
    if t is None:
        return ""
    half = "午前" if t.hour < 12 else "午後"
    return f"{half}{t.hour % 12}時" + (f"{t.minute}分" if t.minute else "")


def meeting_when(d: dt.date, start: dt.time | None, end: dt.time | None) -> str:
    """令和2年3月5日（木）午後2時から午後3時30分まで."""
    s = wareki(d) + weekday(d)
    s += f"{time_ja(start)}から" if start else "　　時　　分から"
    s += f"{time_ja(end)}まで" if end else "　　時　　分まで"
    return s


def count(n: int | None) -> str:
    return "" if n is None else f"{n}人"


def mark(applies: bool) -> str:
    """The ○ put before the 会議種別 that applies; the other is printed plain."""
    return "○" if applies else ""


def text(s: object) -> str:
    """Any value as printable text: None -> '', XML-illegal characters removed (line breaks kept)."""
    if s is None:
        return ""
    return strip_illegal_xml(str(s).replace("\r\n", "\n").replace("\r", "\n"))
