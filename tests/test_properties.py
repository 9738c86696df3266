"""Properties over many generated inputs (hypothesis): dates round-trip, parsers never raise, zips are sound,
any cell text reaches the Word file intact.

Expectations come from the contract: SPEC section 2 (the date forms clerks type), section 5 (和暦 with 元年,
令和 from 2019-05-01, 平成 from 1989-01-08), section 7 (no input gives a traceback; every .docx opens in
python-docx). Example counts stay moderate so the suite stays fast.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from functools import cache

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.core import fmt
from pipeline.core.model import Member
from pipeline.core.normalize import Invalid, clean_text, parse_count, parse_date, parse_time, strip_illegal_xml
from pipeline.documents import forms
from pipeline.documents.render import load_templates
from pipeline.ooxml.zipfix import Member as ZipMember
from pipeline.ooxml.zipfix import pack
from tests.docx_text import extract
from tests.form_cases import COUNCIL, STATION

D = dt.date
GREGORIAN = (1873, 2099)  # Japan counts days in the Gregorian calendar from 明治6年1月1日 (1873-01-01)
DAYS = st.dates(min_value=D(GREGORIAN[0], 1, 1), max_value=D(GREGORIAN[1], 12, 31))
# The era of a day and its first day (SPEC section 5; 大正 and 明治 as history has them), newest first.
ERA_STARTS = [("令和", "R", D(2019, 5, 1)), ("平成", "H", D(1989, 1, 8)), ("昭和", "S", D(1926, 12, 25)),
              ("大正", "T", D(1912, 7, 30)), ("明治", "M", D(1868, 1, 25))]  # fmt: skip
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
FAST = settings(max_examples=200, deadline=None)


def _era(d: dt.date) -> tuple[str, str, int]:
    name, initial, start = next(e for e in ERA_STARTS if d >= e[2])
    return name, initial, d.year - start.year + 1


# --- dates ----------------------------------------------------------------------------------------


def test_every_day_of_the_gregorian_era_round_trips_through_wareki():
    """parse_date(wareki(d)) == d for every day from 1873-01-01 to 2099-12-31 (82,000 days, exhaustively)."""
    d, end, bad = D(GREGORIAN[0], 1, 1), D(GREGORIAN[1], 12, 31), []
    while d <= end:
        if parse_date(fmt.wareki(d), years=GREGORIAN) != d:
            bad.append((d, fmt.wareki(d)))
        d += dt.timedelta(days=1)
    assert bad[:5] == []


@FAST
@given(DAYS)
@example(D(2019, 5, 1))
@example(D(2019, 4, 30))
@example(D(1989, 1, 8))
@example(D(1989, 1, 7))
def test_wareki_prints_the_era_and_round_trips(d):
    name, _, year = _era(d)
    printed = fmt.wareki(d)
    assert printed == f"{name}{'元' if year == 1 else year}年{d.month}月{d.day}日"
    assert parse_date(printed, years=GREGORIAN) == d
    assert parse_date(printed.translate(FULL_WIDTH), years=GREGORIAN) == d


@FAST
@given(DAYS)
def test_other_written_forms_of_a_day_round_trip(d):
    _, initial, year = _era(d)
    forms_ = [
        f"{d.year}/{d.month}/{d.day}",
        f"{d.year}-{d.month:02d}-{d.day:02d}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{initial}{year}.{d.month}.{d.day}",
        f"{d.year}/{d.month}/{d.day}{fmt.weekday(d)}",
    ]
    for s in forms_:
        assert parse_date(s, years=GREGORIAN) == d, s


@FAST
@given(st.dates(min_value=D(1900, 3, 1), max_value=D(2100, 12, 31)))
def test_excel_serials_round_trip(d):
    """Excel's 1900 system: serial n is 1899-12-30 + n days (from 1900-03-01 on); a year alone is questioned."""
    serial = (d - D(1899, 12, 30)).days
    got = parse_date(serial)
    if 1000 <= serial <= 2999:
        assert isinstance(got, Invalid)
    else:
        assert got == d
        assert parse_date(float(serial) + 0.5) == d  # a date with a time of day


DATE_ALPHABET = "0123456789０１２３４５６７８９/.-:年月日時分午前後令和平成昭大正明治元RHSTM第人名回歳（）() 　半~～金木_x\n\r\t\x00"
CELL_VALUES = st.one_of(
    st.text(),
    st.text(alphabet=DATE_ALPHABET, max_size=20),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.datetimes(),
    st.dates(),
    st.times(),
    st.timedeltas(),
)


@settings(max_examples=500, deadline=None)
@given(CELL_VALUES)
def test_any_cell_value_is_a_date_none_or_invalid(v):
    """Never an exception: a date, blank (None) or an Invalid value (a bad-date finding)."""
    got = parse_date(v)
    assert got is None or isinstance(got, (dt.date, Invalid))
    assert not isinstance(got, dt.datetime)
    if isinstance(got, dt.date):
        assert 1900 <= got.year <= 2100


@settings(max_examples=500, deadline=None)
@given(CELL_VALUES)
def test_any_cell_value_is_a_time_none_or_invalid(v):
    got = parse_time(v)
    assert got is None or isinstance(got, (dt.time, Invalid))


@settings(max_examples=500, deadline=None)
@given(CELL_VALUES)
def test_any_cell_value_is_a_count_none_or_invalid(v):
    got = parse_count(v)
    assert got is None or isinstance(got, Invalid) or (type(got) is int and got >= 0)


@FAST
@given(st.integers(min_value=0, max_value=10**6))
def test_counts_in_every_written_form(n):
    for v in (n, float(n), str(n), str(n).translate(FULL_WIDTH), f"{n}人", f"{n}名"):
        assert parse_count(v) == n, v
    assert isinstance(parse_count(n + 0.5), Invalid)
    assert isinstance(parse_count(-n - 1), Invalid)


@FAST
@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_times_in_every_written_form(h, m):
    t = dt.time(h, m)
    half, h12 = ("午前" if h < 12 else "午後"), h % 12
    for v in (f"{h}:{m:02d}", f"{h}時{m}分", f"{half}{h12}時{m}分", t):
        assert parse_time(v) == t, v
    assert parse_time((h * 60 + m) / 1440) == t


# --- zips -----------------------------------------------------------------------------------------

ZIP_NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\\"), min_size=1, max_size=40
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(ZIP_NAMES, st.binary(max_size=5000), min_size=1, max_size=8))
def test_packed_zip_is_sound_and_round_trips(members):
    data = pack([ZipMember.of(name, content) for name, content in members.items()])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        assert z.namelist() == list(members)
        assert {n: z.read(n) for n in z.namelist()} == members
    assert pack([ZipMember.of(n, c) for n, c in members.items()]) == data  # the same bytes every time


# --- cell text to Word ----------------------------------------------------------------------------


def _member(name: str) -> Member:
    return Member(
        row=3, council_id="1", name=name, kana=None, gender="男", birth=D(1950, 5, 1), age=None, job="会社員",
        role="委員", category="その他", public_office=None, start=D(2019, 5, 1), end=D(2021, 3, 31), issued=None,
        first_start=None, predecessor=None, term_change=None,
    )  # fmt: skip


@cache
def _templates():
    return load_templates(fields=forms.FIELDS)


CELL_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("<>&\"'{}%#\n\r\t_x0D\u3000神﨑"),
    min_size=1,
    max_size=60,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CELL_TEXT)
@example("{{ name }}{% if 1 %}x{% endif %}")
@example("A\r\nB\rC\nD")
@example("<w:t>&amp;</w:t>")
@example("\x01\x0b\ufffe神\ufa19")
@example("型番{_{1}_} {_%x%_}")  # docxtpl's literal-brace spelling, typed in a cell, prints as typed
def test_any_cell_text_reaches_the_docx_intact(raw):
    """The 氏名 as read from the cell (clean_text) is what python-docx reads back from 委嘱状, minus what XML forbids.

    Alt+Enter line breaks arrive as line breaks; template syntax, XML markup and entities are printed as typed.
    """
    name = clean_text(raw)
    if name is None:
        return
    data = _templates()["委嘱状"].render(forms.commission(STATION, COUNCIL, _member(name)))
    paragraphs = extract(data)["paragraphs"]
    # SPEC section 5: one full-width space before the honorific (templates before that change print none).
    expected = {strip_illegal_xml(name) + "\u3000殿", strip_illegal_xml(name) + "殿"}
    assert expected & set(paragraphs), (expected, paragraphs)
