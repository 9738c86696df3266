"""Narrow normalisation of cell values: dates, times, counts, choices, IDs and free text."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Invalid:
    """A cell value that could not be read as what its column expects."""

    raw: object

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

_RE_YMD = re.compile(r"^(\d{4})\s*[/\-.年]\s*(\d{1,2})\s*[/\-.月]\s*(\d{1,2})\s*日?$")
_RE_ERA = re.compile(
    r"^(令和|平成|昭和|大正|明治|[RHSTMrhstm])\s*(元|\d{1,2})\s*[/\-.年]\s*(\d{1,2})\s*[/\-.月]\s*(\d{1,2})\s*日?$"
)
_RE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _serial_to_date(n: float) -> dt.date | None:
    # Plausible Excel serials only (1900-03-01 .. 2199): a stray count is not a date.
    if 61 <= n < 109574:
        return EXCEL_EPOCH + dt.timedelta(days=int(n))
    return None


def parse_date(v: object) -> dt.date | Invalid | None:
    """Excel dates, serial numbers (Japanese built-in formats arrive as numbers) and text dates."""
    if is_blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, bool):
        return Invalid(v)
    if isinstance(v, (int, float)):
        return _serial_to_date(float(v)) or Invalid(v)
    s = to_half(str(v)).strip()
    s = re.sub(r"\s*[(（][^)）]*[)）]\s*$", "", s)  # trailing weekday such as （木）
    s = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", s)  # a time typed after the date
    try:
        if m := _RE_YMD.match(s):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _RE_ERA.match(s):
            era = _ERA_BY_KEY[m[1]]
            year = 1 if m[2] == "元" else int(m[2])
            if year < 1:
                return Invalid(v)
            # 平成31年5月1日 is not a real name of a day, but clerks write it: take the
            # calendar date it denotes rather than reject it.
            return dt.date(era[2].year + year - 1, int(m[3]), int(m[4]))
        if m := _RE_COMPACT.match(s):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if re.fullmatch(r"\d+(\.0+)?", s):
            return _serial_to_date(float(s)) or Invalid(v)
    except ValueError:
        return Invalid(v)
    return Invalid(v)


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
    if isinstance(v, (int, float)):
        if float(v).is_integer() and v >= 0:
            return int(v)
        return Invalid(v)
    s = to_half(str(v)).strip()
    s = re.sub(r"\s*(人|名|回|回目|件|歳|才)$", "", s)
    s = re.sub(r"^(第|満)\s*", "", s)
    if re.fullmatch(r"\d+(\.0+)?", s):
        return int(float(s))
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
    return _ILLEGAL_XML.sub("", s)
