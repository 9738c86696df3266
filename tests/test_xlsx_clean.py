"""Excel opens our .xlsx without a repair: openxml-audit finds nothing, and cleaning changes no content."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Font

from pipeline.ooxml.xlsx_clean import FONT_ORDER, clean_xlsx
from pipeline.workbooks.template_xlsx import build_template, write_template

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "input_samples").glob("*.xlsx"))
AUDIT = shutil.which("openxml-audit") or str(Path(sys.executable).with_name("openxml-audit"))
needs_audit = pytest.mark.skipif(not Path(AUDIT).exists(), reason="openxml-audit is not installed")
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def audit(path: Path) -> list[str]:
    """Every finding of openxml-audit, errors and warnings alike, as 'severity part: description'."""
    proc = subprocess.run([AUDIT, "-o", "json", "-m", "0", str(path)], capture_output=True, text=True)
    reports = json.loads(proc.stdout)
    found = [f"{e['severity']} {e['part_uri']}: {e['description']}" for r in reports for e in r["errors"]]
    assert found or all(r["error_count"] == r["warning_count"] == 0 for r in reports), proc.stdout
    return found


def saved(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@cache
def raw_template() -> bytes:
    return saved(build_template())


@cache
def uncleaned(name: str) -> bytes:
    """What openpyxl writes for a workbook: the template, or a sample saved again by openpyxl."""
    if name == "template":
        return raw_template()
    return saved(load_workbook(ROOT / "input_samples" / name))


def _sheets() -> list[tuple[str, str]]:
    out = [("template", s) for s in build_template().sheetnames]
    for p in SAMPLES:
        out += [(p.name, s) for s in load_workbook(p, read_only=True).sheetnames]
    return out


# --- openxml-audit ----------------------------------------------------------------------------------------


@needs_audit
def test_the_template_has_zero_findings(tmp_path):
    path = tmp_path / "雛形.xlsx"
    write_template(path)
    assert audit(path) == []


@needs_audit
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_has_zero_findings(sample):
    assert audit(sample) == []


@needs_audit
def test_the_audit_sees_what_openpyxl_writes(tmp_path):
    """Not vacuous: openpyxl's own bytes have the font-order error and the inline-string warnings."""
    path = tmp_path / "raw.xlsx"
    path.write_bytes(raw_template())
    found = audit(path)
    assert any("error /xl/styles.xml: Unexpected element 'color'" in f for f in found), found
    assert any(f.startswith("warning") and "inlineStr" in f for f in found), found


@needs_audit
def test_rich_text_and_an_existing_shared_string_table_stay_clean(tmp_path):
    path = tmp_path / "rich.xlsx"
    path.write_bytes(_extended(clean_xlsx(_rich_workbook())))
    assert audit(path) == []


# --- the cleaned workbook reads exactly like the uncleaned one ---------------------------------------------


def _cell(c) -> tuple:
    font, fill = c.font, c.fill
    return (
        c.value,
        c.data_type if c.value is not None else None,
        c.number_format,
        (font.b, font.i, font.u, font.strike, font.sz, font.name, _color(font.color)),
        (fill.fill_type, _color(fill.fgColor), _color(fill.bgColor)),
        (c.alignment.horizontal, c.alignment.vertical, c.alignment.wrap_text),
        c.comment.text if c.comment else None,
    )


def _color(color) -> tuple | None:
    return None if color is None else (color.type, color.rgb, color.theme, color.tint, color.indexed)


def _sheet(ws) -> dict:
    return {
        "cells": [[_cell(c) for c in row] for row in ws.iter_rows()],
        "dimensions": ws.dimensions,
        "widths": {k: (d.width, d.customWidth) for k, d in sorted(ws.column_dimensions.items())},
        "validations": sorted(
            (
                str(dv.sqref),
                dv.type,
                dv.formula1,
                dv.allow_blank,
                dv.showErrorMessage,
                dv.errorStyle,
                dv.errorTitle,
                dv.error,
            )
            for dv in ws.data_validations.dataValidation
        ),
        "freeze": ws.freeze_panes,
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
    }


@cache
def _loaded(data: bytes):
    return load_workbook(io.BytesIO(data))


@pytest.mark.parametrize(("book", "sheet"), _sheets())
def test_cleaning_keeps_every_sheet_as_openpyxl_reads_it(book, sheet):
    before, after = _loaded(uncleaned(book)), _loaded(clean_xlsx(uncleaned(book)))
    assert after.sheetnames == before.sheetnames
    assert _sheet(after[sheet]) == _sheet(before[sheet])


def test_the_template_keeps_its_drop_downs_fonts_and_fills():
    """The comparison above is not vacuous for what the template is made of."""
    ws = _loaded(clean_xlsx(raw_template()))["委員"]
    assert [v.type for v in ws.data_validations.dataValidation] == ["list", "list", "list"]  # 性別, 区分, 退任理由
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("DDEBF7")
    assert ws["A2"].font.i and ws["A2"].font.color.rgb.endswith("808080")
    assert ws.column_dimensions["A"].width > 0 and any(c.comment for c in ws[1])


def test_fonts_are_in_schema_order_and_strings_are_shared():
    parts = _parts(clean_xlsx(raw_template()))

    styles = etree.fromstring(parts["xl/styles.xml"])
    fonts = list(styles.iter(MAIN + "font"))
    assert fonts
    for font in fonts:
        names = [c.tag.removeprefix(MAIN) for c in font]
        assert names == sorted(names, key=FONT_ORDER.index), names
    sheets = [n for n in parts if n.startswith("xl/worksheets/sheet")]
    assert all(b"inlineStr" not in parts[n] for n in sheets)
    sst = etree.fromstring(parts["xl/sharedStrings.xml"])
    items = [etree.tostring(si) for si in sst]
    assert len(items) == len(set(items)) == int(sst.get("uniqueCount"))
    refs = sum(len(re.findall(rb't="s"', parts[n])) for n in sheets)
    assert int(sst.get("count")) == refs
    assert b"relationships/sharedStrings" in parts["xl/_rels/workbook.xml.rels"]
    assert b'PartName="/xl/sharedStrings.xml"' in parts["[Content_Types].xml"]


def test_cleaning_is_idempotent():
    once = clean_xlsx(raw_template())
    twice = clean_xlsx(once)
    assert _parts(twice) == _parts(once)


def test_a_path_is_accepted_as_well_as_bytes(tmp_path):
    path = tmp_path / "raw.xlsx"
    path.write_bytes(raw_template())
    assert clean_xlsx(path) == clean_xlsx(raw_template())


# --- strings ------------------------------------------------------------------------------------------------


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_a_string_that_starts_with_an_equals_sign_stays_a_string():
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "=1+1"
    ws["A1"].data_type = "s"  # typed text, not a formula
    ws["A2"] = "=SUM(1,2)"  # a real formula stays a formula
    ws["A3"] = "=1+1"
    ws["A3"].data_type = "s"
    out = load_workbook(io.BytesIO(clean_xlsx(saved(wb)))).active
    assert (out["A1"].value, out["A1"].data_type) == ("=1+1", "s")
    assert (out["A2"].value, out["A2"].data_type) == ("=SUM(1,2)", "f")
    assert (out["A3"].value, out["A3"].data_type) == ("=1+1", "s")


def _rich_workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = CellRichText(
        "普通 ", TextBlock(InlineFont(b=True, color="FF0000", sz=14, rFont="ＭＳ 明朝"), "太字赤"), " 残り"
    )
    ws["A2"] = "重複"
    ws["B2"] = "重複"
    ws["A3"] = " 前後に空白 "
    ws["A4"] = "一行目\n二行目"
    ws["A5"] = ""
    ws["A5"].font = Font(bold=True)
    return saved(wb)


def _extended(cleaned: bytes) -> bytes:
    """The cleaned workbook with two more inline-string cells, as another openpyxl-like writer might add."""
    parts = _parts(cleaned)
    row = b'<row r="9"><c r="A9" t="inlineStr"><is><t>new</t></is></c><c r="B9" t="inlineStr"><is><t>'
    row += "重複".encode() + b"</t></is></c></row></sheetData>"
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b"</sheetData>", row)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return clean_xlsx(out.getvalue())


def test_rich_text_duplicates_spaces_and_newlines_survive():
    data = clean_xlsx(_rich_workbook())
    ws = load_workbook(io.BytesIO(data), rich_text=True).active
    rich = ws["A1"].value
    assert isinstance(rich, CellRichText) and str(rich) == "普通 太字赤 残り"
    bold = [b for b in rich if isinstance(b, TextBlock)]
    assert [(b.text, b.font.b, b.font.sz, b.font.rFont) for b in bold] == [("太字赤", True, 14, "ＭＳ 明朝")]
    assert bold[0].font.color.rgb.endswith("FF0000")
    assert [ws["A2"].value, ws["B2"].value, ws["A3"].value, ws["A4"].value] == [
        "重複",
        "重複",
        " 前後に空白 ",
        "一行目\n二行目",
    ]
    assert ws["A5"].value is None and ws["A5"].font.b  # an empty string is an empty (still bold) cell
    sst = _parts(data)["xl/sharedStrings.xml"].decode()
    assert sst.count("<t>重複</t>") == 1
    assert '<t xml:space="preserve"> 前後に空白 </t>' in sst
    assert '<t xml:space="preserve">一行目\n二行目</t>' in sst


def test_an_existing_shared_string_table_is_extended_not_replaced():
    data = _extended(clean_xlsx(_rich_workbook()))
    ws = load_workbook(io.BytesIO(data)).active
    assert [ws["A9"].value, ws["B9"].value, ws["A2"].value, ws["A3"].value] == ["new", "重複", "重複", " 前後に空白 "]
    parts = _parts(data)
    assert parts["xl/_rels/workbook.xml.rels"].count(b"relationships/sharedStrings") == 1
    assert parts["[Content_Types].xml"].count(b'PartName="/xl/sharedStrings.xml"') == 1
    sst = parts["xl/sharedStrings.xml"].decode()
    assert sst.count("<t>重複</t>") == 1 and sst.count("<t>new</t>") == 1


TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Cn")) | st.sampled_from([" ", "\n", "\u3000"]),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=6))
@example(texts=[" ", "\n", "  a  ", "\nb\n", "=1+1", "神", "\U0001f600 x"])
def test_any_text_survives_cleaning_exactly(texts):
    wb = Workbook()
    ws = wb.active
    for i, text in enumerate(texts, start=1):
        ws.cell(i, 1).value = text
        ws.cell(i, 1).data_type = "s"  # a text cell even when it starts with '='
        ws.cell(i, 2).value = text  # the same text twice: one shared string
        ws.cell(i, 2).data_type = "s"
    data = clean_xlsx(saved(wb))
    out = load_workbook(io.BytesIO(data)).active
    assert [[c.value for c in row] for row in out.iter_rows()] == [[t, t] for t in texts]

    sst = etree.fromstring(_parts(data)["xl/sharedStrings.xml"])
    assert len(sst) == len(set(texts))
    for t in sst.iter(MAIN + "t"):  # Excel drops leading and trailing white space without it
        preserved = t.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"
        assert preserved or t.text == t.text.strip(), repr(t.text)


def test_the_template_command_still_never_writes_over_an_existing_file(tmp_path, capsys):
    from pipeline.cli import main

    path = tmp_path / "記入済み.xlsx"
    assert main(["template", str(path)]) == 0
    assert path.read_bytes()[:2] == b"PK" and not list(tmp_path.glob(".*tmp*"))
    path.write_bytes(b"filled in by a clerk")
    assert main(["template", str(path)]) == 2
    assert path.read_bytes() == b"filled in by a clerk"
    assert "上書きしない" in capsys.readouterr().err
