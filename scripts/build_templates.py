"""Build templates_docx/*.docx (the three 別記様式) reproducibly with python-docx."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.zipfix import normalise_docx  # noqa: E402

FONT = "ＭＳ 明朝"
OUT = ROOT / "templates_docx"
TEXT_WIDTH_MM = 160  # A4 210 mm - left 30 mm - right 20 mm
LABEL_MM = 30
CELL_LINE = 17  # exact line pitch inside table cells (12 pt text)


def new_document(title: str):
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(25), Mm(25)
    sec.left_margin, sec.right_margin = Mm(30), Mm(20)
    sec.header_distance, sec.footer_distance = Mm(12), Mm(12)
    # No document grid: exact line spacing lays out the same in Word and LibreOffice.
    sectPr = sec._sectPr
    for grid in sectPr.findall(qn("w:docGrid")):
        sectPr.remove(grid)
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "default")
    sectPr.append(grid)
    for style_name in ("Normal", "Table Grid"):
        style = doc.styles[style_name]
        _set_font(style.element.get_or_add_rPr(), 12)
    normal = doc.styles["Normal"].paragraph_format
    normal.space_before = Pt(0)
    normal.space_after = Pt(0)
    normal.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.line_spacing = Pt(20)
    # Document defaults too, so text that Word adds later keeps the 明朝 East-Asian font.
    rpr_default = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_font(rpr_default, 12)
    props = doc.core_properties
    props.title = title
    props.author = ""
    props.last_modified_by = ""
    props.comments = ""
    props.revision = 1
    fixed = dt.datetime(2020, 3, 5)  # the 要綱's date: templates are byte-reproducible
    props.created = fixed
    props.modified = fixed
    props.last_printed = fixed
    return doc


def _set_font(rpr, size_pt: float | None = None) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    if size_pt is not None:
        for tag in ("w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is None:
                el = OxmlElement(tag)
                rpr.append(el)
            el.set(qn("w:val"), str(int(size_pt * 2)))


def para(container, text: str = "", *, size: float | None = None, align=None, before: float = 0,
         after: float = 0, indent_mm: float = 0, spacing_pt: float | None = None, line: float | None = None,
         distribute: bool = False):  # fmt: skip
    p = container.add_paragraph()
    pf = p.paragraph_format
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    if line or size:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(line or max(20, (size or 12) * 1.5))
    if indent_mm:
        pf.left_indent = Mm(indent_mm)
    if align is not None:
        p.alignment = align
    if distribute:
        jc = OxmlElement("w:jc")
        jc.set(qn("w:val"), "distribute")
        p._p.get_or_add_pPr().append(jc)
    if text:
        run(p, text, size=size, spacing_pt=spacing_pt)
    return p


def run(p, text: str, *, size: float | None = None, spacing_pt: float | None = None):
    r = p.add_run(text)
    rpr = r._r.get_or_add_rPr()
    _set_font(rpr, size)
    if spacing_pt:
        sp = OxmlElement("w:spacing")
        sp.set(qn("w:val"), str(int(spacing_pt * 20)))
        rpr.append(sp)
    return r


def table(doc, widths_mm: list[float], rows: int, container=None):
    container = container if container is not None else doc
    if container is doc:
        t = doc.add_table(rows=rows, cols=len(widths_mm))
    else:
        t = container.add_table(rows=rows, cols=len(widths_mm))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    tblPr = t._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblPr.append(layout)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        b = OxmlElement(f"w:{edge}")
        b.set(qn("w:val"), "single")
        b.set(qn("w:sz"), "4")  # eighths of a point: 0.5 pt
        b.set(qn("w:space"), "0")
        b.set(qn("w:color"), "000000")
        borders.append(b)
    tblPr.append(borders)
    grid = t._tbl.tblGrid
    for gc, w in zip(grid.findall(qn("w:gridCol")), widths_mm, strict=True):
        gc.set(qn("w:w"), str(int(Mm(w).twips)))
    for row in t.rows:
        for cell, w in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(w)
    return t


def cell_text(cell, lines: list[str] | str, *, distribute: bool = False, center: bool = False,
              size: float | None = None, vcenter: bool = True, line: float | None = None):  # fmt: skip
    if isinstance(lines, str):
        lines = [lines]
    first = cell.paragraphs[0]
    for i, text in enumerate(lines):
        p = first if i == 0 else cell.add_paragraph()
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        p.paragraph_format.line_spacing = Pt(line or CELL_LINE)
        if distribute:
            jc = OxmlElement("w:jc")
            jc.set(qn("w:val"), "distribute")
            p._p.get_or_add_pPr().append(jc)
        elif center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if text:
            run(p, text, size=size)
    if vcenter:
        tcPr = cell._tc.get_or_add_tcPr()
        v = OxmlElement("w:vAlign")
        v.set(qn("w:val"), "center")
        tcPr.append(v)
    return cell


def vmerge(cell, restart: bool) -> None:
    tcPr = cell._tc.get_or_add_tcPr()
    v = OxmlElement("w:vMerge")
    if restart:
        v.set(qn("w:val"), "restart")
    tcPr.append(v)


def row_height(row, mm: float, exact: bool = False) -> None:
    trPr = row._tr.get_or_add_trPr()
    h = OxmlElement("w:trHeight")
    h.set(qn("w:val"), str(int(Mm(mm).twips)))
    h.set(qn("w:hRule"), "exact" if exact else "atLeast")
    trPr.append(h)


def save(doc, name: str) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / name
    doc.save(path)
    path.write_bytes(normalise_docx(path.read_bytes()))
    return path


# --- 別記様式第1号 委嘱状 -------------------------------------------------------------


def build_commission() -> Path:
    doc = new_document("委嘱状")
    para(doc, "委　嘱　状", size=28, align=WD_ALIGN_PARAGRAPH.CENTER, before=36, after=48, spacing_pt=8, line=44)
    p = para(doc, "", size=20, indent_mm=10, after=36, line=32)
    run(p, "{{ name }}{{ honorific }}", size=20)
    p = para(doc, "", indent_mm=10, after=30, line=24)
    run(p, "あなたを{{ council_name }}委員に委嘱します。")
    p = para(doc, "", indent_mm=10, line=24)
    run(p, "任期：{{ start }}から")
    p = para(doc, "", indent_mm=10, after=60, line=24)
    run(p, "　　　{{ end }}まで")
    p = para(doc, "", indent_mm=20, after=30, line=24)
    run(p, "{{ issued }}")
    p = para(doc, "", align=WD_ALIGN_PARAGRAPH.RIGHT, line=24)
    run(p, "{{ station }}長　{{ chief }}　印")
    return save(doc, "委嘱状.docx")


# --- 別記様式第2号 設置報告書 --------------------------------------------------------


def build_establishment() -> Path:
    doc = new_document("交番・駐在所連絡協議会設置報告書")
    para(doc, "別記様式第2号", after=12)
    para(doc, "{{ addressee }}　殿", after=12)
    right = WD_ALIGN_PARAGRAPH.RIGHT
    para(doc, "宮地第{{ doc_no }}号", align=right)
    para(doc, "{{ report_date }}", align=right)
    para(doc, "{{ station }}長", align=right, after=12)
    para(doc, "交番・駐在所連絡協議会設置報告書", size=16, align=WD_ALIGN_PARAGRAPH.CENTER, after=12, line=28)
    widths = [LABEL_MM, 44, 43, 43]
    t = table(doc, widths, 4)
    labels = [["名称"], ["協議会種別", "（設置理由）"], ["委員の構成"], ["運営責任者"]]
    for row, lines in zip(t.rows, labels, strict=True):
        cell_text(row.cells[0], lines, distribute=True)
    for r in range(3):
        merged = t.cell(r, 1).merge(t.cell(r, 3))
        if r == 0:
            cell_text(merged, "{{ name }}")
        elif r == 1:
            cell_text(merged, "{{ kind }}")
    row_height(t.rows[0], 12)
    row_height(t.rows[1], 16)
    row_height(t.rows[3], 12)
    cell_text(t.cell(3, 1), "職名　{{ manager_title }}")
    cell_text(t.cell(3, 2), "階級　{{ manager_rank }}")
    cell_text(t.cell(3, 3), "氏名　{{ manager_name }}")
    # 委員の構成: a nested table, one row per member ({%tr %} loop).
    holder = t.cell(2, 1)
    inner_w = [30, 20, 12, 12, 52]  # 126 mm: fits the 130 mm merged cell with its margins
    inner = table(doc, inner_w, 4, container=holder)
    for c, label in zip(inner.rows[0].cells, ["氏名", "役職名", "年齢", "性別", "職業"], strict=True):
        cell_text(c, label, center=True, size=10.5, line=15)
    cell_text(inner.cell(1, 0), "{%tr for m in members %}", size=10.5, vcenter=False)
    for c, key in zip(inner.rows[2].cells, ["name", "role", "age", "gender", "job"], strict=True):
        cell_text(c, "{{ m." + key + " }}", center=key in ("age", "gender"), size=10.5, line=15)
    cell_text(inner.cell(3, 0), "{%tr endfor %}", size=10.5, vcenter=False)
    row_height(inner.rows[2], 6.5)
    # The cell's own empty first paragraph would sit above the nested table: move it below
    # (a cell must end with a paragraph), so the table starts at the top of the cell.
    first = holder.paragraphs[0]
    holder._tc.remove(first._p)
    holder._tc.append(first._p)
    first.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    first.paragraph_format.line_spacing = Pt(2)
    # python-docx leaves an empty paragraph after a nested table; Word requires one anyway.
    notes = [
        "注1　名称は、連絡協議会の固有名称を記載すること。",
        "　　例　○○○交番連絡協議会、○○地区○○連絡協議会等",
        "　2　協議会種別は、所管区ごとの連絡協議会、単位連絡協議会又は職種等連絡協議会の別を記載すること。",
        "　3　委員の構成は、氏名、役職名、年齢等を記載すること。",
    ]
    for i, text in enumerate(notes):
        p = para(doc, text, size=10.5, before=6 if i == 0 else 0, line=17)
        # Hanging indent: a wrapped note continues under its text, not under 注1 / 2.
        p.paragraph_format.left_indent = Pt(31.5)
        p.paragraph_format.first_line_indent = Pt(-31.5)
    return save(doc, "設置報告書.docx")


# --- 別記様式第3号 開催結果報告書 ----------------------------------------------------


def build_meeting() -> Path:
    doc = new_document("連絡協議会開催結果報告書")
    para(doc, "別記様式第3号", after=12)
    para(doc, "{{ addressee }}　殿", after=12)
    block = dict(indent_mm=100)
    para(doc, "{{ report_date }}", **block)
    para(doc, "{{ reporter_post }}", **block)
    para(doc, "階級　{{ reporter_rank }}", **block)
    para(doc, "氏名　{{ reporter_name }}", **block, after=12)
    para(doc, "連絡協議会開催結果報告書", size=16, align=WD_ALIGN_PARAGRAPH.CENTER, after=12, line=28)
    # 意見・要望 (two middle columns) and 回答 get the same width.
    widths = [LABEL_MM, 30, 35, 65]
    t = table(doc, widths, 13)
    simple = [("所管区名", "district"), ("協議会名", "council_name"), ("開催日時", "when"), ("開催場所", "place"),
              ("参加委員数", "members_n")]  # fmt: skip
    for r, (label, key) in enumerate(simple):
        cell_text(t.cell(r, 0), label, distribute=True)
        cell_text(t.cell(r, 1).merge(t.cell(r, 3)), "{{ " + key + " }}")
        row_height(t.rows[r], 9)
    # 参加警察官数 with 警察幹部等の参加数（内数）: two rows, merged vertically.
    cell_text(t.cell(5, 0), "参加警察官数", distribute=True)
    cell_text(t.cell(5, 1), "{{ officers_n }}", center=True)
    cell_text(t.cell(5, 2), ["警察幹部等の", "参加数（内数）"], distribute=True)
    cell_text(t.cell(5, 3), "地域幹部　　{{ local_n }}")
    cell_text(t.cell(6, 3), "その他の幹部{{ other_n }}")
    for c in range(3):
        vmerge(t.cell(5, c), True)
        vmerge(t.cell(6, c), False)
    row_height(t.rows[5], 8)
    row_height(t.rows[6], 8)
    cell_text(t.cell(7, 0), "会議種別", distribute=True)
    cell_text(t.cell(7, 1).merge(t.cell(7, 2)), "{{ regular_mark }}定期会議（第{{ round }}回目）", center=True)
    cell_text(t.cell(7, 3), "{{ extra_mark }}臨時会議", center=True)
    row_height(t.rows[7], 9)
    # 開催状況: header row, then one row per 意見・要望 ({%tr %} loop), label merged down.
    cell_text(t.cell(8, 0), "開催状況", distribute=True)
    vmerge(t.cell(8, 0), True)
    cell_text(t.cell(8, 1).merge(t.cell(8, 2)), "意見・要望", center=True)
    cell_text(t.cell(8, 3), "回答", center=True)
    cell_text(t.cell(9, 0), "{%tr for o in opinions %}", vcenter=False)
    vmerge(t.cell(10, 0), False)
    cell_text(t.cell(10, 1).merge(t.cell(10, 2)), "{{ o.text }}", vcenter=False)
    cell_text(t.cell(10, 3), "{{ o.answer }}", vcenter=False)
    row_height(t.rows[10], 12)
    cell_text(t.cell(11, 0), "{%tr endfor %}", vcenter=False)
    cell_text(t.cell(12, 0), "備考", distribute=True)
    cell_text(t.cell(12, 1).merge(t.cell(12, 3)), "{{ note }}")
    row_height(t.rows[12], 18)
    return save(doc, "開催結果報告書.docx")


def build_all() -> list[Path]:
    return [build_commission(), build_establishment(), build_meeting()]


if __name__ == "__main__":
    for p in build_all():
        print(f"wrote {p.relative_to(ROOT)}")
