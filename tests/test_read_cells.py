"""The fast cell reader gives exactly openpyxl's values, for the cells Excel writes and for the unusual ones."""

from __future__ import annotations

import io
import warnings
import zipfile
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline.reading import read

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# Styles: 0 general, 1 a date (built-in 14), 2 a time of day (21), 3 a duration ([h]:mm, custom 164)
XF = '<xf numFmtId="{}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
STYLES = (
    f'<styleSheet xmlns="{NS}"><numFmts count="1"><numFmt numFmtId="164" formatCode="[h]:mm"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    f'<cellXfs count="4">{"".join(XF.format(n) for n in (0, 14, 21, 164))}</cellXfs></styleSheet>'
)


DATE1904 = ' date1904="1"'


def _package(rows_xml: str, shared: list[str], date1904: bool = False) -> bytes:
    sst = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in shared)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="xl/workbook.xml" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<workbookPr{DATE1904 if date1904 else ''}/>"
            '<sheets><sheet name="委員" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
            '<Relationship Id="rId2" Target="styles.xml" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"/>'
            '<Relationship Id="rId3" Target="sharedStrings.xml" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": STYLES,
        "xl/sharedStrings.xml": f'<sst xmlns="{NS}" count="{len(shared)}" uniqueCount="{len(shared)}">{sst}</sst>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{NS}"><sheetData>{rows_xml}</sheetData></worksheet>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


def _letters(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
# (kind, payload): each kind is one way a cell can be written in SpreadsheetML.
cells = st.one_of(
    st.tuples(st.just("shared"), texts),
    st.tuples(st.just("inline"), texts),
    st.tuples(st.just("rich"), st.lists(texts, min_size=1, max_size=3)),
    st.tuples(st.just("int"), st.integers(-(10**12), 10**12)),
    st.tuples(st.just("float"), st.floats(-1e9, 1e9, allow_nan=False)),
    st.tuples(st.just("date"), st.integers(1, 80_000)),
    st.tuples(st.just("bad-date"), st.just(10**9)),  # outside the limits of dates: openpyxl's "#VALUE!"
    st.tuples(st.just("time"), st.floats(0, 0.999)),
    st.tuples(st.just("duration"), st.floats(0, 100)),
    st.tuples(st.just("bool"), st.sampled_from(["0", "1"])),
    st.tuples(st.just("error"), st.sampled_from(["#N/A", "#REF!", "#DIV/0!"])),
    st.tuples(st.just("str"), texts),  # a formula's text result
    st.tuples(st.just("iso"), st.just("2024-04-01T00:00:00")),
    st.tuples(st.just("empty"), st.just("")),
    st.tuples(st.just("no-address"), texts),
)


def _cell(ref: str | None, kind: str, payload, shared: list[str]) -> str:
    r = f' r="{ref}"' if ref and kind != "no-address" else ""
    if kind == "shared":
        shared.append(payload)
        return f'<c{r} t="s"><v>{len(shared) - 1}</v></c>'
    if kind in ("inline", "no-address"):
        return f'<c{r} t="inlineStr"><is><t xml:space="preserve">{escape(payload)}</t></is></c>'
    if kind == "rich":
        runs = "".join(f'<r><t xml:space="preserve">{escape(t)}</t></r>' for t in payload)
        return f'<c{r} t="inlineStr"><is>{runs}</is></c>'
    if kind in ("int", "float"):
        return f"<c{r}><v>{payload!r}</v></c>"
    style = {"date": 1, "bad-date": 1, "time": 2, "duration": 3}.get(kind)
    if style is not None:
        return f'<c{r} s="{style}"><v>{payload!r}</v></c>'
    if kind == "bool":
        return f'<c{r} t="b"><v>{payload}</v></c>'
    if kind == "error":
        return f'<c{r} t="e"><v>{payload}</v></c>'
    if kind == "str":
        return f'<c{r} t="str"><f>A1</f><v>{escape(payload)}</v></c>'
    if kind == "iso":
        return f'<c{r} t="d"><v>{payload}</v></c>'
    return f"<c{r}/>"


def _both(data: bytes) -> tuple[list[tuple], list[tuple]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about the date out of range, on both paths
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        fast = read._rows_fast(ws)
        ws.reset_dimensions()
        slow = [read._trimmed(r) for r in ws.iter_rows(min_row=1, values_only=True)]  # up to the last value
    # Typed: True == 1 and 1.0 == 1 in Python, but not to a rule that reads a cell's value.
    return _typed(fast), _typed(slow)


def _typed(rows: list[tuple]) -> list[tuple]:
    return [tuple((type(v).__name__, v) for v in row) for row in rows]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, 3), st.lists(st.tuples(st.integers(0, 2), cells), max_size=6)), max_size=8),
    st.booleans(),
)
def test_fast_rows_equal_openpyxls_own_reader(rows, date1904):
    """Rows with gaps, cells with gaps, every value kind; 1900 and 1904 date systems."""
    shared: list[str] = []
    xml, r = [], 0
    for row_gap, row_cells in rows:
        r += 1 + row_gap
        col, cells_xml = 0, []
        for col_gap, (kind, payload) in row_cells:
            col += 1 + col_gap
            cells_xml.append(_cell(f"{_letters(col)}{r}", kind, payload, shared))
        xml.append(f'<row r="{r}">{"".join(cells_xml)}</row>')
    fast, slow = _both(_package("".join(xml), shared, date1904))
    assert fast == slow


def test_the_fast_path_reads_excels_usual_cells_itself(monkeypatch):
    """Shared strings, inline strings, numbers, dates and booleans never fall back to openpyxl's parse_row."""
    calls = []
    monkeypatch.setattr(read, "_openpyxl_row", lambda *a: calls.append(a) or (_ for _ in ()).throw(AssertionError))
    shared: list[str] = []
    row = "".join(
        _cell(f"{_letters(i + 1)}1", kind, payload, shared)
        for i, (kind, payload) in enumerate(
            [("shared", "会長"), ("inline", "宮城　太郎"), ("int", 12), ("float", 1.5), ("date", 45383),
             ("time", 0.5), ("bool", "1"), ("error", "#N/A"), ("str", "計")]
        )
    )  # fmt: skip
    fast, slow = _both(_package(f'<row r="1">{row}</row>', shared))
    assert fast == slow and not calls
    assert fast[0][0] == ("str", "会長") and fast[0][4][1].year == 2024 and fast[0][6] == ("bool", True)


# A sheet's <dimension> as other tools write it: none, Excel's, one too small, one far too large. The reader
# sizes a sheet from the part's first bytes instead of openpyxl's parse of the whole sheet at load time (its
# speed is `make bench`'s); whatever the dimension says, every row is read.
DIMENSIONS = ["", '<dimension ref="A1:Z30"/>', '<dimension ref="A1"/>', '<dimension ref="A1:XFD1048576"/>']


@pytest.mark.parametrize("dimension", DIMENSIONS, ids=["none", "excel", "too small", "too large"])
def test_a_sheets_dimension_does_not_change_what_is_read(tmp_path, dimension):
    from pipeline.checking.result import Options
    from pipeline.checking.validate import validate_workbook
    from tests.builders import AS_OF, baseline, write_book

    original = write_book(tmp_path / "a" / "署.xlsx", baseline())
    changed = tmp_path / "b" / "署.xlsx"
    changed.parent.mkdir()
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(changed, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                start, end = body.find(b"<dimension"), body.find(b"<sheetViews")
                body = body[:start] + dimension.encode() + body[end:] if 0 <= start < end else body
            dst.writestr(item, body)
    want = validate_workbook(original, Options(as_of=AS_OF))
    got = validate_workbook(changed, Options(as_of=AS_OF))
    assert [f.to_json() for f in got.findings] == [f.to_json() for f in want.findings]
    assert got.book == want.book and len(got.book.members) == len(baseline()["委員"])
