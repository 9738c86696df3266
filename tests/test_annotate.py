"""The annotated copy edited in the zip: same cells as the input, marks, comments, new sheets, clean for Excel."""

from __future__ import annotations

import json
import shutil
import subprocess
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.writer.theme import theme_xml

import pipeline.ooxml.xlsx_edit as xlsx_edit
import pipeline.ooxml.xlsx_edit.comments as xlsx_comments
import pipeline.ooxml.xlsx_edit.worksheet as xlsx_worksheet
from pipeline.core.findings import Finding, Severity
from pipeline.workbooks.annotate import LIST_SHEET, MARKS_SHEET, STATUS_SHEET, annotate_book

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted(p for p in (ROOT / "input_samples").glob("*.xlsx") if p.name != "選挙期間.xlsx")
AUDIT = ROOT / ".venv" / "bin" / "openxml-audit"
HAVE_AUDIT = AUDIT.exists() or shutil.which("openxml-audit") is not None
_SOFFICE = shutil.which("soffice")
# CI installs LibreOffice Writer only (for the forms): converting a workbook needs Calc as well.
HAVE_CALC = _SOFFICE is not None and (Path(_SOFFICE).resolve().parent / "libsclo.so").exists()

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
STRINGS = ["警察署名", "テスト警察署", "協議会ID", "氏名", "委嘱日", "C1", "宮城　太郎", "仙台　花子", "備考"]


def _s(text: str) -> str:
    return f'<c r="{{}}" t="s"><v>{STRINGS.index(text)}</v></c>'


def _row(r: int, cells: list[tuple[str, str]], attrs: str = "") -> str:
    return f'<row r="{r}"{attrs}>' + "".join(x.format(f"{col}{r}") for col, x in cells) + "</row>"


def clean_book(path: Path, *, clerk_comment: bool = True, macro: bool = False) -> Path:
    """A small workbook written the way Excel writes one: shared strings, styles in schema order, a print
    area on the second sheet, a merged range, a date cell, column widths, and (optionally) a clerk's comment."""
    station = (
        f'{DECL}<worksheet {NS} {R}><dimension ref="A1:B1"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/>'
        '</sheetViews><sheetFormatPr defaultRowHeight="15"/><sheetData>'
        + _row(1, [("A", _s("警察署名")), ("B", _s("テスト警察署"))])
        + '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )
    legacy = '<legacyDrawing r:id="rId1"/>' if clerk_comment else ""
    # The root and rows as Excel 365 writes them: markup-compatibility namespaces, x14ac:dyDescent on rows.
    excel_root = (
        f'<worksheet {NS} {R} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'mc:Ignorable="x14ac xr" xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
        'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
        'xr:uid="{00000000-0001-0000-0000-000000000000}">'
    )
    dy = ' x14ac:dyDescent="0.4"'
    members = (
        f'{DECL}{excel_root}<dimension ref="A1:D4"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/><cols><col min="1" max="1" width="12.5" customWidth="1"/>'
        '<col min="2" max="2" width="20" customWidth="1"/><col min="3" max="3" width="14" style="1" customWidth="1"/>'
        "</cols><sheetData>"
        + _row(
            1, [("A", _s("協議会ID")), ("B", _s("氏名")), ("C", _s("委嘱日")), ("D", _s("備考"))], ' spans="1:4"' + dy
        )
        + _row(
            2,
            [("A", _s("C1")), ("B", _s("宮城　太郎")), ("C", '<c r="{}" s="1"><v>46113</v></c>')],
            ' spans="1:3"' + dy,
        )
        + _row(3, [("A", '<c r="{}"/>'), ("B", _s("仙台　花子"))], ' spans="1:2"' + dy)
        + '</sheetData><mergeCells count="1"><mergeCell ref="A2:A3"/></mergeCells>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        f'<pageSetup paperSize="9" orientation="portrait"/>{legacy}</worksheet>'
    )
    styles = (
        f'{DECL}<styleSheet {NS}><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/m/d"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><color theme="1"/><name val="Yu Gothic"/><family val="3"/>'
        '<charset val="128"/><scheme val="minor"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
        '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" '
        'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
    )
    sst = f'{DECL}<sst {NS} count="{len(STRINGS)}" uniqueCount="{len(STRINGS)}">' + "".join(
        f"<si><t>{t}</t></si>" for t in STRINGS
    )
    sst += "</sst>"
    workbook = (
        f'{DECL}<workbook {NS} {R}><workbookPr/><bookViews><workbookView xWindow="0" yWindow="0" windowWidth="16384" '
        'windowHeight="8192" activeTab="0"/></bookViews><sheets><sheet name="署" sheetId="1" r:id="rId1"/>'
        '<sheet name="委員" sheetId="2" r:id="rId2"/></sheets><definedNames>'
        '<definedName name="_xlnm.Print_Area" localSheetId="1">\'委員\'!$A$1:$D$4</definedName></definedNames>'
        '<calcPr calcId="191029"/></workbook>'
    )
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    pkg = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
    wb_rels = (
        f'{DECL}<Relationships {pkg}><Relationship Id="rId1" Type="{rel}worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}worksheet" Target="worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{rel}styles" Target="styles.xml"/>'
        f'<Relationship Id="rId4" Type="{rel}sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId6" Type="{rel}theme" Target="theme/theme1.xml"/>'
    )
    if macro:
        wb_rels += (
            '<Relationship Id="rId5" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            'Target="vbaProject.bin"/>'
        )
    wb_rels += "</Relationships>"
    main_type = (
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
        if macro
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    )
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    types = (
        f'{DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + ('<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' if macro else "")
        + ('<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>')
        + f'<Override PartName="/xl/workbook.xml" ContentType="{main_type}"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{ct}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
        '<Override PartName="/xl/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>'
        + (f'<Override PartName="/xl/comments1.xml" ContentType="{ct}.comments+xml"/>' if clerk_comment else "")
        + '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>'
    )
    root_rels = (
        f'{DECL}<Relationships {pkg}><Relationship Id="rId1" Type="{rel}officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'extended-properties" Target="docProps/app.xml"/></Relationships>'
    )
    vt = 'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"'
    app = (
        f'{DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" {vt}>'
        '<Application>Microsoft Excel</Application><HeadingPairs><vt:vector size="2" baseType="variant">'
        "<vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>2</vt:i4></vt:variant>"
        '</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="2" baseType="lpstr"><vt:lpstr>署</vt:lpstr>'
        "<vt:lpstr>委員</vt:lpstr></vt:vector></TitlesOfParts></Properties>"
    )
    parts = {
        "[Content_Types].xml": types,
        "_rels/.rels": root_rels,
        "docProps/app.xml": app,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": wb_rels,
        "xl/styles.xml": styles,
        "xl/sharedStrings.xml": sst,
        "xl/theme/theme1.xml": theme_xml,
        "xl/worksheets/sheet1.xml": station,
        "xl/worksheets/sheet2.xml": members,
    }
    if clerk_comment:
        parts["xl/worksheets/_rels/sheet2.xml.rels"] = (
            f'{DECL}<Relationships {pkg}><Relationship Id="rId1" Type="{rel}vmlDrawing" '
            'Target="../drawings/vmlDrawing1.vml"/><Relationship Id="rId2" Type="'
            f'{rel}comments" Target="../comments1.xml"/></Relationships>'
        )
        parts["xl/comments1.xml"] = (
            f"{DECL}<comments {NS}><authors><author>事務担当</author></authors><commentList>"
            '<comment ref="B2" authorId="0"><text><r><rPr><b/><sz val="9"/><color indexed="81"/>'
            '<rFont val="MS P ゴシック"/><family val="3"/><charset val="128"/></rPr><t>確認済み</t></r></text>'
            "</comment></commentList></comments>"
        )
        parts["xl/drawings/vmlDrawing1.vml"] = (
            xlsx_edit.VML_HEAD.format(idmap=1)
            + xlsx_edit.VML_NOTE_TYPE
            + xlsx_comments._note_shape("B2", 160, 60).replace(b"{ID}", b"1025").decode()
            + "</xml>"
        )
    if macro:
        parts["xl/vbaProject.bin"] = "not really a VBA project"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text.encode("utf-8"))
    return path


def finding(sheet: str | None, cell: str | None, message: str = "確認してください", sev=Severity.ERROR) -> Finding:
    row = int("".join(ch for ch in cell if ch.isdigit())) if cell else None
    return Finding(sev, "public-office", "第6-4(1)", sheet, row, None, cell, message)


def annotate_to(tmp_path: Path, source: Path, findings: list[Finding], documents=None, name="copy.xlsx") -> Path:
    out = tmp_path / name
    out.write_bytes(annotate_book(source, findings, documents))
    return out


def audit(path: Path) -> list[tuple[str, str]]:
    """openxml-audit's findings as (severity, description), part names left out (new parts get new names)."""
    exe = str(AUDIT) if AUDIT.exists() else "openxml-audit"
    done = subprocess.run([exe, str(path), "-o", "json"], capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)[0]
    return sorted({(e.get("severity", ""), e.get("description", "")) for e in report.get("errors", [])})


def _cells(ws) -> list[list[tuple]]:
    return [[(c.value, c.number_format) for c in row] for row in ws.iter_rows()]


INPUTS = ["clean", "no-comment", *(p.name for p in SAMPLES)]


def _input(tmp_path: Path, which: str) -> Path:
    if which == "clean":
        return clean_book(tmp_path / "in" / "clean.xlsx")
    if which == "no-comment":
        return clean_book(tmp_path / "in" / "plain.xlsx", clerk_comment=False)
    return ROOT / "input_samples" / which


@pytest.mark.parametrize("which", INPUTS)
def test_copy_keeps_every_sheets_values_formats_and_widths(tmp_path, which):
    src = _input(tmp_path, which)
    original = load_workbook(src)
    names = original.sheetnames
    findings = [finding(names[-1], "B2"), finding(names[-1], "Z40", "空欄です", Severity.WARNING)]
    copy = load_workbook(annotate_to(tmp_path, src, findings))
    assert copy.sheetnames == [LIST_SHEET, *names, MARKS_SHEET]
    for name in names:
        a, b = original[name], copy[name]
        rows_a, rows_b = _cells(a), _cells(b)
        if name == names[-1]:  # Z40 was created: the copy is wider and longer by empty cells only
            rows_b = [row[: a.max_column] for row in rows_b[: a.max_row]]
        assert rows_a == rows_b, name
        assert {k: d.width for k, d in a.column_dimensions.items()} == {
            k: d.width for k, d in b.column_dimensions.items()
        }
        assert [str(r) for r in a.merged_cells.ranges] == [str(r) for r in b.merged_cells.ranges]
    assert copy[MARKS_SHEET].sheet_state == "veryHidden"
    assert copy.active.title == LIST_SHEET
    assert [ws.title for ws in copy.worksheets if ws.sheet_view.tabSelected] == [LIST_SHEET]


def test_marks_fills_comments_and_merged_anchor(tmp_path):
    src = clean_book(tmp_path / "in" / "b.xlsx")
    findings = [
        finding("委員", "C2", "委嘱日が不正です", Severity.WARNING),
        finding("委員", "C2", "二つ目", Severity.ERROR),
        finding("委員", "A3", "結合の中", Severity.INFO),  # inside A2:A3: shown on A2
        finding("署", "B1", "情報", Severity.INFO),
    ]
    copy = load_workbook(annotate_to(tmp_path, src, findings))
    c2 = copy["委員"]["C2"]
    assert c2.fill.fill_type == "solid" and c2.fill.fgColor.rgb == "FFFFC7CE"  # the worst of the two
    assert c2.number_format == "yyyy/m/d" and c2.value is not None  # the date format kept under the fill
    assert c2.comment.author == "検証"
    assert (
        c2.comment.text
        == "【警告】第6-4(1)（public-office）\n委嘱日が不正です\n【エラー】第6-4(1)（public-office）\n二つ目"
    )
    a2 = copy["委員"]["A2"]
    assert a2.fill.fgColor.rgb == "FFDDEBF7" and "結合の中" in a2.comment.text
    assert copy["委員"]["A3"].comment is None
    assert copy["署"]["B1"].fill.fgColor.rgb == "FFDDEBF7"
    listing = list(copy[LIST_SHEET].iter_rows(values_only=True))
    assert listing[0] == ("重要度", "要綱の条項", "規則", "規則の名前", "シート", "セル", "内容")
    assert [r[5] for r in listing[1:]] == ["C2", "C2", "A3", "B1"]
    assert copy[LIST_SHEET]["A2"].fill.fgColor.rgb == "FFFFEB9C" and copy[LIST_SHEET]["A1"].font.b
    assert copy[LIST_SHEET]["F4"].hyperlink.location == "'委員'!A3"
    assert copy[LIST_SHEET].freeze_panes == "A2"
    widths = [copy[LIST_SHEET].column_dimensions[c].width for c in "ABCDEFG"]
    assert widths == [8, 14, 18, 22, 10, 8, 60]


def test_clerks_comment_is_kept_and_merged(tmp_path):
    src = clean_book(tmp_path / "in" / "b.xlsx")
    copy = load_workbook(annotate_to(tmp_path, src, [finding("委員", "B2", "公職です")]))
    text = copy["委員"]["B2"].comment.text
    assert text == "確認済み\n―――\n【エラー】第6-4(1)（public-office）\n公職です"
    with zipfile.ZipFile(tmp_path / "copy.xlsx") as z:
        names = z.namelist()
        assert [n for n in names if n.startswith("xl/comments")] == ["xl/comments1.xml"]  # merged, not a second set
        assert [n for n in names if n.endswith(".vml")] == ["xl/drawings/vmlDrawing1.vml"]


@pytest.mark.parametrize(
    ("addr", "why"),
    [("D2", "row exists, cell missing after the last"), ("B3", "exists"), ("D3", "row with spans"),
     ("C5", "no such row, after the last"), ("A4", "no such row")],
)  # fmt: skip
def test_a_cell_missing_from_the_xml_is_created_in_order(tmp_path, addr, why):
    src = clean_book(tmp_path / "in" / "b.xlsx", clerk_comment=False)
    copy = load_workbook(annotate_to(tmp_path, src, [finding("委員", addr, why)]))
    cell = copy["委員"][addr]
    assert cell.fill.fgColor.rgb == "FFFFC7CE" and why in cell.comment.text
    if addr.startswith("C") and addr != "C2":
        assert cell.number_format == "yyyy/m/d"  # an empty cell takes its column's format
    with zipfile.ZipFile(tmp_path / "copy.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet2.xml").decode()
    rows = [int(r) for r in __import__("re").findall(r'<row r="(\d+)"', sheet)]
    assert rows == sorted(rows) and len(rows) == len(set(rows))


def test_rows_and_cells_without_r_attributes(tmp_path):
    """r is optional on rows and cells (the position counts): the marked cell is still the right one."""
    src = clean_book(tmp_path / "in" / "b.xlsx", clerk_comment=False)
    with zipfile.ZipFile(src) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    sheet = parts["xl/worksheets/sheet2.xml"].decode()
    sheet = sheet.replace('<row r="2"', "<row").replace('<c r="A2"', "<c").replace('<c r="B2"', "<c")
    parts["xl/worksheets/sheet2.xml"] = sheet.encode()
    bare = tmp_path / "in" / "bare.xlsx"
    with zipfile.ZipFile(bare, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    copy = load_workbook(annotate_to(tmp_path, bare, [finding("委員", "B2", "二行目")]))
    assert copy["委員"]["B2"].value == "宮城　太郎" and "二行目" in copy["委員"]["B2"].comment.text
    assert copy["委員"]["B3"].comment is None and copy["委員"]["C2"].number_format == "yyyy/m/d"


def test_earlier_copy_given_back_loses_its_marks(tmp_path):
    src = clean_book(tmp_path / "in" / "b.xlsx")
    first = annotate_to(
        tmp_path,
        src,
        [finding("委員", "B2", "公職"), finding("委員", "C2"), finding("委員", "D4", "空欄")],
        name="1.xlsx",
    )
    second = annotate_to(tmp_path, first, [finding("署", "B1", "今回", Severity.INFO)], name="2.xlsx")
    wb = load_workbook(second)
    assert wb.sheetnames == [LIST_SHEET, "署", "委員", MARKS_SHEET]
    members = wb["委員"]
    assert members["B2"].comment.text == "確認済み"  # the clerk's own comment, as it was
    assert members["C2"].comment is None and members["D4"].comment is None
    for addr in ("B2", "C2", "D4"):
        assert members[addr].fill.fill_type is None, addr
    assert members["C2"].number_format == "yyyy/m/d"
    assert wb["署"]["B1"].fill.fgColor.rgb == "FFDDEBF7"
    assert len(list(wb[LIST_SHEET].iter_rows(min_row=2))) == 1
    # Nothing found the third time: the copy is the input again, apart from the new sheets.
    third = load_workbook(annotate_to(tmp_path, second, [], name="3.xlsx"))
    assert third["署"]["B1"].fill.fill_type is None and third["署"]["B1"].comment is None
    with zipfile.ZipFile(tmp_path / "3.xlsx") as z:
        assert not [n for n in z.namelist() if n.startswith("xl/comments") and n != "xl/comments1.xml"]


MEMO = "担当メモ：R3年度から開催予定"


@pytest.mark.parametrize(
    "edit", ["unchanged", "recoloured", "memo appended", "memo above", "comment deleted", "our text replaced"]
)
def test_clerks_changes_to_a_marked_cell_survive_the_round_trip(tmp_path, edit):
    """B2 had the clerk's own comment before it was marked, C2 had none; the clerk edits both in the copy."""
    src = clean_book(tmp_path / "in" / "b.xlsx")
    findings = [finding("委員", "B2", "公職です"), finding("委員", "C2", "日付です", Severity.WARNING)]
    first = annotate_to(tmp_path, src, findings, name="1.xlsx")
    wb = load_workbook(first)
    for addr in ("B2", "C2"):
        cell = wb["委員"][addr]
        text = cell.comment.text
        if edit == "recoloured":
            cell.fill = PatternFill("solid", fgColor="FFB4C6E7")
        elif edit == "memo appended":
            cell.comment = Comment(f"{text}\n{MEMO}", "事務担当")
        elif edit == "memo above":
            cell.comment = Comment(f"{MEMO}\n{text}", "事務担当")
        elif edit == "comment deleted":
            cell.comment = None
        elif edit == "our text replaced":
            cell.comment = Comment(MEMO, "事務担当")
    wb.save(first)
    members = load_workbook(annotate_to(tmp_path, first, [], name="2.xlsx"))["委員"]
    b2, c2 = members["B2"], members["C2"]
    expected = {
        "unchanged": ("確認済み", None),
        "recoloured": ("確認済み", None),
        "memo appended": (f"確認済み\n{MEMO}", MEMO),
        "memo above": (f"{MEMO}\n確認済み", MEMO),
        "comment deleted": (None, None),
        "our text replaced": (MEMO, MEMO),
    }[edit]
    assert (b2.comment and b2.comment.text, c2.comment and c2.comment.text) == expected
    for cell in (b2, c2):
        if edit == "recoloured":
            assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == "FFB4C6E7"  # the clerk's colour
        else:
            assert cell.fill.fill_type is None
    assert c2.number_format == "yyyy/m/d"


def test_our_text_is_cut_out_of_a_comment_keeping_the_clerks_runs(tmp_path):
    """Given back untouched (no openpyxl in between): the clerk's formatted run is kept as it was."""
    src = clean_book(tmp_path / "in" / "b.xlsx")
    first = annotate_to(tmp_path, src, [finding("委員", "B2", "公職です")], name="1.xlsx")
    second = annotate_to(tmp_path, first, [], name="2.xlsx")
    with zipfile.ZipFile(second) as z:
        comments = z.read("xl/comments1.xml").decode()
    assert "公職です" not in comments and "―――" not in comments
    assert '<rFont val="MS P ゴシック"/>' in comments and ">確認済み</t>" in comments


def test_copy_from_the_openpyxl_version_given_back_loses_its_marks(tmp_path):
    """Earlier copies recorded only the fill's type and colour (JSON) and the comment's text."""
    src = clean_book(tmp_path / "in" / "b.xlsx")
    first = annotate_to(tmp_path, src, [finding("委員", "B2"), finding("委員", "C2")], name="1.xlsx")
    wb = load_workbook(first)
    for row in wb[MARKS_SHEET].iter_rows(min_row=2):
        row[2].value = json.dumps({"type": None, "fg": None})
    wb[MARKS_SHEET].delete_cols(5, 2)  # nor the mark's colour and the comment text it added
    wb.save(first)
    members = load_workbook(annotate_to(tmp_path, first, [], name="2.xlsx"))["委員"]
    assert members["B2"].comment.text == "確認済み" and members["C2"].comment is None
    assert members["B2"].fill.fill_type is None and members["C2"].fill.fill_type is None


def test_styles_do_not_grow_when_a_copy_comes_back_again_and_again(tmp_path):
    src = clean_book(tmp_path / "in" / "b.xlsx")
    findings = [finding("委員", "B2"), finding("委員", "C2", "w", Severity.WARNING), finding("委員", "D9")]
    sizes = []
    for i in range(4):
        src = annotate_to(tmp_path, src, findings, documents=[], name=f"{i}.xlsx")
        with zipfile.ZipFile(src) as z:
            sizes.append(len(z.read("xl/styles.xml")))
    assert sizes[1] == sizes[2] == sizes[3]


def test_print_area_follows_its_sheet_after_the_new_sheets(tmp_path):
    src = clean_book(tmp_path / "in" / "b.xlsx")
    docs = []
    copy = load_workbook(annotate_to(tmp_path, src, [finding("委員", "B2")], documents=docs))
    assert copy.sheetnames[:2] == [LIST_SHEET, STATUS_SHEET]
    assert copy["委員"].print_area == "'委員'!$A$1:$D$4"
    assert not copy["署"].print_area
    with zipfile.ZipFile(tmp_path / "copy.xlsx") as z:
        workbook = z.read("xl/workbook.xml").decode()
    assert 'localSheetId="3"' in workbook and 'activeTab="0"' in workbook


def test_macro_workbook_gives_a_plain_xlsx(tmp_path):
    src = clean_book(tmp_path / "in" / "b.xlsm", macro=True)
    out = annotate_to(tmp_path, src, [finding("委員", "B2")])
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        types = z.read("[Content_Types].xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    assert "xl/vbaProject.bin" not in names and "vbaProject" not in rels
    assert "macroEnabled" not in types and "spreadsheetml.sheet.main+xml" in types
    assert load_workbook(out).sheetnames[0] == LIST_SHEET


@pytest.mark.parametrize("message", ["=1+1", "+81", "-x", "@SUM(A1)", "_x0041_ と\x01制御文字"])
def test_formula_looking_messages_stay_text(tmp_path, message):
    src = clean_book(tmp_path / "in" / "b.xlsx")
    copy = load_workbook(annotate_to(tmp_path, src, [finding("委員", "B3", message)]))
    cell = copy[LIST_SHEET]["G2"]
    # A control character is stored as Excel stores it, _x0001_ (openpyxl reads that back literally).
    assert cell.data_type == "s" and cell.value in (message, message.replace("\x01", "_x0001_"))
    assert xlsx_edit.unxstring(copy["委員"]["B3"].comment.text).endswith(message)


@pytest.mark.skipif(not HAVE_AUDIT, reason="openxml-audit がありません")
def test_copy_of_a_clean_input_audits_clean(tmp_path):
    src = clean_book(tmp_path / "in" / "b.xlsx")
    assert audit(src) == []  # the fixture itself is what Excel writes
    findings = [finding("委員", "B2"), finding("委員", "D9", "空欄"), finding("署", "B1", "=x", Severity.WARNING)]
    assert audit(annotate_to(tmp_path, src, findings, documents=[])) == []
    plain = clean_book(tmp_path / "in" / "p.xlsx", clerk_comment=False)
    assert audit(annotate_to(tmp_path, plain, findings, name="p.xlsx")) == []


@pytest.mark.skipif(not HAVE_AUDIT, reason="openxml-audit がありません")
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_copy_adds_no_audit_findings(tmp_path, sample):
    names = load_workbook(sample, read_only=True).sheetnames
    copy = annotate_to(tmp_path, sample, [finding(names[-1], "B2"), finding(names[0], "C30")], documents=[])
    added = set(audit(copy)) - set(audit(sample))
    assert not added


@pytest.mark.skipif(not HAVE_CALC, reason="LibreOffice Calc がありません（apt-get install libreoffice-calc-nogui）")
def test_libreoffice_converts_the_copy(tmp_path):
    src = clean_book(tmp_path / "in" / "b.xlsx")
    copy = annotate_to(tmp_path, src, [finding("委員", "B2"), finding("委員", "D9")])
    done = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / "csv"), str(copy)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    csv = tmp_path / "csv" / "copy.csv"
    assert csv.exists(), done.stderr
    assert "重要度" in csv.read_text("utf-8", errors="replace")  # the first sheet is 指摘一覧


def test_lists_print_on_a4_landscape_one_page_wide_with_the_header_on_every_page(tmp_path):
    src = clean_book(tmp_path / "in" / "b.xlsx")
    out = annotate_to(tmp_path, src, [finding("委員", "B2", "公職です" * 40)], documents=[])
    copy = load_workbook(out)
    assert copy.sheetnames[:2] == [LIST_SHEET, STATUS_SHEET]
    for name in (LIST_SHEET, STATUS_SHEET):
        ws = copy[name]
        assert ws.print_title_rows == "$1:$1", name  # after the sheets shifted: the right sheet
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_options.gridLines
        assert "&A" in ws.oddFooter.left.text and ws.oddFooter.right.text == "&P / &N"
    assert copy["委員"].print_area == "'委員'!$A$1:$D$4" and not copy["委員"].print_title_rows
    listing = copy[LIST_SHEET]
    assert listing["G2"].alignment.wrap_text and listing["G2"].alignment.vertical == "top"
    assert listing.column_dimensions["G"].width == 60 and listing.row_dimensions[2].height > 15 * 5
    with zipfile.ZipFile(out) as z:
        workbook = z.read("xl/workbook.xml").decode()
        sheets = {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet")}
    assert '<definedName name="_xlnm.Print_Titles" localSheetId="0">\'指摘一覧\'!$1:$1</definedName>' in workbook
    assert '<definedName name="_xlnm.Print_Titles" localSheetId="1">\'作成状況\'!$1:$1</definedName>' in workbook
    for data in sheets.values():  # CT_Worksheet's order, in every sheet the copy has
        order = [xlsx_worksheet._child_order(c) for c in xlsx_edit.parse(data)]
        assert order == sorted(order)
    # Nothing found: the list still says so.
    empty = load_workbook(annotate_to(tmp_path, src, [], name="empty.xlsx"))[LIST_SHEET]
    assert [r[0] for r in empty.iter_rows(min_row=2, values_only=True)] == ["指摘はありません。"]


@pytest.mark.skipif(not HAVE_CALC, reason="LibreOffice Calc がありません（apt-get install libreoffice-calc-nogui）")
def test_libreoffice_prints_the_list_whole_on_few_pages(tmp_path):
    """60 long findings: every message whole in the PDF, the header on each of 指摘一覧's few pages."""
    src = clean_book(tmp_path / "in" / "b.xlsx")
    messages = [
        f"{i:02d}番目：委員「宮城 太郎」の委嘱期間が満了しています。" + "再委嘱の手続を確認してください。" * 3
        for i in range(60)
    ]
    findings = [finding("委員", f"B{i + 2}", m, Severity.WARNING) for i, m in enumerate(messages)]
    copy = annotate_to(tmp_path, src, findings, documents=[])
    done = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(copy)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "pdf" / "copy.pdf"
    assert pdf.exists(), done.stderr
    pages = []
    for i in range(1, 40):
        page = subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True, text=True)
        if page.returncode != 0 or not page.stdout.strip():
            break
        pages.append(page.stdout)
    listing = [p for p in pages if LIST_SHEET in p.split()[-3:] or f"{LIST_SHEET}\n" in p[-200:]]
    assert 1 < len(listing) <= 6, len(listing)
    assert all("重要度" in p and "内容" in p for p in listing)  # the header row on every page
    joined = "".join("".join(p.split()) for p in listing)
    for m in messages:
        assert "".join(m.split()) in joined, m


def test_a_large_sheet_is_not_parsed_whole(tmp_path, monkeypatch):
    """20,000 rows and a handful of marks: no parser call sees the whole sheet, and Python allocations
    stay a small multiple of the sheet's XML (a cell-object model is tens of times larger)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "委員"
    for i in range(20_000):
        ws.append([f"C{i // 10}", f"委員{i}　太郎", i, "会社員"])
    src = tmp_path / "big.xlsx"
    wb.save(src)
    with zipfile.ZipFile(src) as z:
        size = z.getinfo("xl/worksheets/sheet1.xml").file_size
    parsed: list[int] = []
    real_parse = xlsx_edit.parse
    for module in ("parts", "styles", "strings", "worksheet", "comments", "book"):  # each editor module that parses
        monkeypatch.setattr(
            f"pipeline.ooxml.xlsx_edit.{module}.parse", lambda data: parsed.append(len(data)) or real_parse(data)
        )
    findings = [finding("委員", f"B{r}") for r in (2, 500, 9_999, 19_999, 20_001)] + [finding("委員", "F20005")]
    tracemalloc.start()
    data = annotate_book(src, findings)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert max(parsed) < size / 20
    assert peak < 3 * size
    out = tmp_path / "copy.xlsx"
    out.write_bytes(data)
    copy = load_workbook(out, read_only=True)
    rows = list(copy["委員"].iter_rows(min_row=19_999, values_only=True))
    assert rows[0][:2] == ("C1999", "委員19998　太郎") and len(rows) == 20_005 - 19_999 + 1


@pytest.mark.skipif(not HAVE_AUDIT, reason="openxml-audit がありません")
def test_the_copy_puts_an_inputs_fonts_in_schema_order(tmp_path):
    """A workbook saved by openpyxl (or another tool) writes font properties out of CT_Font's order, which
    Excel repairs; the copy is clean all the same."""
    src = tmp_path / "in" / "openpyxl.xlsx"
    src.parent.mkdir()
    wb = load_workbook(SAMPLES[0])
    wb.save(src)
    assert audit(src)  # the input itself is reported
    names = load_workbook(src, read_only=True).sheetnames
    assert audit(annotate_to(tmp_path, src, [finding(names[-1], "B2")], documents=[])) == []
