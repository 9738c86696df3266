"""Narrow normalisation of cell values: dates, times, counts, choices, IDs and free text."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Invalid:
    """A cell value that could not be read as what its column expects.

    `reason` says, in Japanese, why a value that looks like a date is refused (a year alone, a day before
    its era began, a year out of range), so the message can tell the clerk what to check.
    """

    raw: object
    reason: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return str(self.raw)


# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, mapped to half-width.
# Used only where a number, date, time or ID is expected: names and free text are
# never normalised (NFKC would change characters such as 神 U+FA19).
_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALF[0x3000] = 0x20
_HALF.update({ord("―"): ord("-"), ord("‐"): ord("-"), ord("−"): ord("-")})
_HALF.update({ord("．"): ord("."), ord("／"): ord("/"), ord("："): ord(":")})

# XML 1.0 forbids these code points; Word refuses a file containing them.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def to_half(s: str) -> str:
    return s.translate(_HALF)


def is_blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and v.strip(" \u3000\t\r\n") == "")


def clean_text(v: object) -> str | None:
    """Free text as typed: outer whitespace trimmed, CR/LF unified, illegal characters dropped."""
    if is_blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, dt.datetime):
        v = v.date()
    s = str(v).replace("\r\n", "\n").replace("\r", "\n")
    s = _ILLEGAL_XML.sub("", s)
    s = s.strip(" \u3000\t\n")
    return s or None


def clean_id(v: object) -> str | None:
    """IDs compare across sheets: 1, 1.0, '1' and '１' are the same ID."""
    s = clean_text(v)
    return to_half(s).strip() if s is not None else None


# --- eras -------------------------------------------------------------------

ERAS: list[tuple[str, str, dt.date]] = [
    # (name, initial, first day) newest first
    ("令和", "R", dt.date(2019, 5, 1)),
    ("平成", "H", dt.date(1989, 1, 8)),
    ("昭和", "S", dt.date(1926, 12, 25)),
    ("大正", "T", dt.date(1912, 7, 30)),
    ("明治", "M", dt.date(1868, 1, 25)),
]
_ERA_BY_KEY = {k: e for e in ERAS for k in (e[0], e[1], e[1].lower(), e[0][0])}

EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_EPOCH_1904 = dt.date(1904, 1, 1)  # workbooks saved with <workbookPr date1904="1"/> (old Mac Excel)

# Dates outside these years are refused as typing mistakes (1899/12/31, 2299/1/1). A parameter of
# parse_date overrides it per call; changing the constant changes the default of every call.
DATE_YEARS: tuple[int, int] = (1900, 2100)

# A number 1000..2999 alone in a date column is a year typed without month and day (2020 would
# otherwise be the Excel serial of 1905-07-12, printed 明治38年).
YEAR_ALONE = (1000, 2999)

_RE_YMD = re.compile(r"^(\d{4})\s*[/\-.年]\s*(\d{1,2})\s*[/\-.月]\s*(\d{1,2})\s*日?$")
_RE_ERA = re.compile(
    r"^(令和|平成|昭和|大正|明治|[RHSTMrhstm])\s*(元|\d{1,2})\s*[/\-.年]\s*(\d{1,2})\s*[/\-.月]\s*(\d{1,2})\s*日?$"
)
_RE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_RE_YEAR_ONLY = re.compile(r"^(?:(令和|平成|昭和|大正|明治|[RHSTMrhstm])\s*(?:元|\d{1,2})|\d{4})\s*年?度?$")
_RE_WEEKDAY = re.compile(r"[(（]\s*([^)）]*?)\s*[)）]\s*$")
_WEEKDAYS = {
    **{w: i for i, w in enumerate("月火水木金土日")},
    **{f"{w}曜": i for i, w in enumerate("月火水木金土日")},
    **{f"{w}曜日": i for i, w in enumerate("月火水木金土日")},
    **{w: i for i, w in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])},
}

_YEAR_ALONE_FIX = "「令和2年3月5日」や「2020/3/5」のように月日まで入力してください。"


def _ymd(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _era_name(d: dt.date) -> str:
    """令和2年3月5日 for 2020-03-05 (元年 for the first year); only for messages."""
    for name, _, start in ERAS:
        if d >= start:
            year = d.year - start.year + 1
            return f"{name}{'元' if year == 1 else year}年{d.month}月{d.day}日"
    return _ymd(d)


def is_year_alone(v: object) -> bool:
    """A whole number 1000..2999 (as a number or digits): a year typed without month and day."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return (isinstance(v, int) or v.is_integer()) and YEAR_ALONE[0] <= v <= YEAR_ALONE[1]


def serial_to_date(n: float, *, date1904: bool = False) -> dt.date | None:
    """An Excel date serial as a date, counted from the workbook's own epoch; None if implausible.

    Plausible serials only (1900-03-01 .. 2199 in the 1900 system): a stray count is not a date.
    """
    if date1904:
        n += (EXCEL_EPOCH_1904 - EXCEL_EPOCH).days  # 1,462 days
    if 61 <= n < 109574:
        return EXCEL_EPOCH + dt.timedelta(days=int(n))
    return None


def _year_alone(v: object, n: float | None) -> Invalid:
    seen = f"（数値のままでは{_ymd(EXCEL_EPOCH + dt.timedelta(days=int(n)))}と読まれます）" if n else ""
    return Invalid(v, f"年だけが入力されています{seen}。{_YEAR_ALONE_FIX}")


def parse_date(v: object, *, years: tuple[int, int] | None = None) -> dt.date | Invalid | None:
    """Excel dates, serial numbers (Japanese built-in formats arrive as numbers) and text dates.

    Refused with a reason: a year alone (2020), a day before its era began (令和元年4月30日, H1.1.1),
    and a year outside `years` (default DATE_YEARS). A day after its era ended (平成31年5月1日) is read
    as the calendar date it denotes, because clerks write it.
    """
    d = _parse_date(v)
    if isinstance(d, dt.date):
        lo, hi = years or DATE_YEARS
        if not lo <= d.year <= hi:
            return Invalid(
                v,
                f"{d.year}年は受け付ける年の範囲（{lo}年～{hi}年）の外です。年の入力誤りがないか確かめてください。",
            )
    return d


def _parse_date(v: object) -> dt.date | Invalid | None:
    if is_blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, bool):
        return Invalid(v)
    if isinstance(v, (int, float)):
        if is_year_alone(v):
            return _year_alone(v, float(v))
        if not -1e9 < v < 1e9:  # also ints too large for a float
            return Invalid(v)
        return serial_to_date(float(v)) or Invalid(v)
    s = to_half(str(v)).strip()
    s = _RE_WEEKDAY.sub("", s).strip()  # trailing weekday such as （木）: checked by weekday_mismatch
    s = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", s)  # a time typed after the date
    try:
        if m := _RE_YMD.match(s):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _RE_ERA.match(s):
            return _era_date(v, m)
        if m := _RE_COMPACT.match(s):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if re.fullmatch(r"\d+(\.0+)?", s):
            n = float(s)
            if is_year_alone(n):
                return _year_alone(v, n)
            return serial_to_date(n) or Invalid(v)
        if _RE_YEAR_ONLY.match(s):
            return _year_alone(v, None)
    except (ValueError, OverflowError):
        return Invalid(v)
    return Invalid(v)


def _era_date(v: object, m: re.Match) -> dt.date | Invalid:
    name, _, start = _ERA_BY_KEY[m[1]]
    year = 1 if m[2] == "元" else int(m[2])
    if year < 1:
        return Invalid(v)
    # 平成31年5月1日 is not a real name of a day, but clerks write it: take the
    # calendar date it denotes rather than reject it (docs/decisions.md).
    d = dt.date(start.year + year - 1, int(m[3]), int(m[4]))
    if d < start:
        # 令和元年4月30日, 平成元年1月7日: no such day of that era.
        return Invalid(
            v,
            f"{name}は{_ymd(start)}からのため、この日付は{name}にはありません"
            f"（{_ymd(d)}なら{_era_name(d)}です）。元号と日付を確かめてください。",
        )
    return d


def weekday_mismatch(v: object) -> tuple[dt.date, str, str] | None:
    """A text date whose written weekday is not its real one: (date, weekday written, real weekday).

    令和2年3月5日（金） -> (2020-03-05, "金", "木"), since 2020-03-05 was a Thursday. None when the value
    has no weekday, the weekday agrees, or the date cannot be read (bad-date reports that).
    """
    if not isinstance(v, str):
        return None
    m = _RE_WEEKDAY.search(to_half(v).strip())
    if m is None:
        return None
    written = _WEEKDAYS.get(m[1].lower())
    d = parse_date(v, years=(dt.MINYEAR, dt.MAXYEAR))
    if written is None or not isinstance(d, dt.date) or d.weekday() == written:
        return None
    return d, m[1], "月火水木金土日"[d.weekday()]


_RE_HM = re.compile(r"^(午前|午後|AM|PM|am|pm)?\s*(\d{1,2})\s*[:時]\s*(\d{1,2}|半)?\s*分?\s*(AM|PM|am|pm)?$")


def parse_time(v: object) -> dt.time | Invalid | None:
    """14:00, Excel times (fractions of a day), 午後2時, 午後2時30分, 2時半."""
    if is_blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.time().replace(second=0, microsecond=0)
    if isinstance(v, dt.time):
        return v.replace(second=0, microsecond=0)
    if isinstance(v, dt.timedelta):
        minutes = round(v.total_seconds() / 60)
        return dt.time(minutes // 60 % 24, minutes % 60) if 0 <= minutes < 1440 else Invalid(v)
    if isinstance(v, bool):
        return Invalid(v)
    if isinstance(v, (int, float)):
        if 0 <= v < 1:
            minutes = round(v * 1440)
            return dt.time(minutes // 60 % 24, minutes % 60)
        return Invalid(v)
    s = to_half(str(v)).strip()
    s = re.sub(r"\s*(～|~|〜|から|まで|頃|ごろ)$", "", s)  # 14:00～, 15:30まで
    m = _RE_HM.match(s)
    if not m:
        return Invalid(v)
    hour = int(m[2])
    minute = 30 if m[3] == "半" else int(m[3] or 0)
    pm = (m[1] or m[4] or "").lower() in ("午後", "pm")
    am = (m[1] or m[4] or "").lower() in ("午前", "am")
    if pm and hour < 12:
        hour += 12
    if am and hour == 12:
        hour = 0
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return Invalid(v)
    return dt.time(hour, minute)


def parse_count(v: object) -> int | Invalid | None:
    """A non-negative integer: 10, 10.0, '１０', '10人', '10名'."""
    if is_blank(v):
        return None
    if isinstance(v, bool):
        return Invalid(v)
    if isinstance(v, int):
        return v if v >= 0 else Invalid(v)
    if isinstance(v, float):
        return int(v) if v.is_integer() and v >= 0 else Invalid(v)
    s = to_half(str(v)).strip()
    s = re.sub(r"\s*(人|名|回|回目|件|歳|才)$", "", s)
    s = re.sub(r"^(第|満)\s*", "", s)
    if re.fullmatch(r"\d+(\.0+)?", s):
        return int(s.split(".")[0])
    return Invalid(v)


def choice_key(s: str) -> str:
    """Matching key for enumerated values (never printed): width, spaces and brackets folded."""
    s = unicodedata.normalize("NFKC", s)
    return re.sub(r"[\s()\[\]【】「」]", "", s)


def parse_choice(v: object, table: dict[str, str]) -> str | Invalid | None:
    """Map a typed value to its canonical choice via `table` (choice_key -> canonical)."""
    s = clean_text(v)
    if s is None:
        return None
    return table.get(choice_key(s), Invalid(v))


def parse_flag(v: object) -> str | None:
    """公職: blank/無/なし/FALSE/0 mean none; anything else is kept as typed (holds or seeks 公職)."""
    if v is False or (isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0):
        return None
    if v is True:
        return "有"  # a ticked check box
    s = clean_text(v)
    if s is None:
        return None
    key = choice_key(s).rstrip("。.")
    if key in NO_WORDS or (key.startswith("特に") and key[2:] in NO_WORDS):  # 特になし
        return None
    return s


NO_WORDS = {
    "無", "無し", "なし", "ない", "-", "ー", "―", "×", "否", "no", "No", "NO", "いいえ", "非該当", "該当なし",
    "0", "FALSE", "False", "false",
}  # fmt: skip


def strip_illegal_xml(s: str) -> str:
    """Drop the code points XML 1.0 forbids (Word refuses a file containing them)."""
    return _ILLEGAL_XML.sub("", s)


_RE_XESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def decode_excel_escapes(s: str) -> str:
    """Excel's _xHHHH_ escapes in cell strings decoded as Excel does, then XML-illegal characters dropped.

    Excel stores a carriage return as _x000D_ and a control character as _x0001_; a literal "_x0041_"
    typed by the clerk is stored with its underscore escaped, "_x005F_x0041_". One left-to-right pass
    decodes both correctly: _x005F_ becomes "_" and the text after it is not an escape any more.
    """
    if "_x" not in s:
        return s
    out = _RE_XESCAPE.sub(lambda m: chr(int(m[1], 16)), s)
    if any("\ud800" <= ch <= "\udfff" for ch in out):
        # A surrogate pair written as two escapes is one character; lone halves are dropped below.
        out = out.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return strip_illegal_xml(out)
