"""Build templates_docx/*.docx (the three 別記様式) reproducibly and schema-valid with python-docx."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.ooxml.zipfix import read_zip, write_zip  # noqa: E402

FONT = "ＭＳ 明朝"
OUT = ROOT / "templates_docx"
TEXT_WIDTH_MM = 160  # A4 210 mm - left 30 mm - right 20 mm
LABEL_MM = 30
CHAR = 240  # twips of one 12 pt full-width character
CELL_LINE = 17  # exact line pitch inside table cells (12 pt text)
SMALL = 10.5  # member list, opinions and notes
SMALL_LINE = 14
CREATED = "2020-03-05T00:00:00Z"  # the 要綱's date: templates are byte-reproducible

# ECMA-376 transitional: the child order of every property element this script writes into.
SCHEMA_ORDER = {
    "pPr": (
        "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
        "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
        "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
        "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
    ),
    "rPr": (
        "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof snapToGrid "
        "vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl cs "
        "em lang eastAsianLayout specVanish oMath rPrChange"
    ),
    "tblPr": (
        "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc tblCellSpacing "
        "tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription tblPrChange"
    ),
    "trPr": "cnfStyle divId gridBefore gridAfter wBefore wAfter cantSplit trHeight tblHeader tblCellSpacing jc hidden",
    "tcPr": (
        "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign hideMark "
        "headers cellIns cellDel cellMerge tcPrChange"
    ),
    "sectPr": (
        "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders lnNumType "
        "pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid printerSettings "
        "sectPrChange"
    ),
    "tblBorders": "top left start bottom right end insideH insideV",
    "tblCellMar": "top left start bottom right end",
}
SCHEMA_ORDER = {k: tuple(v.split()) for k, v in SCHEMA_ORDER.items()}


def put(parent, tag: str, attrs: dict[str, str] | None = None):
    """Set the child `tag` of a property element, inserted at its schema position (never appended)."""
    local = tag.split(":", 1)[1]
    order = SCHEMA_ORDER[parent.tag.rsplit("}", 1)[1]]
    for old in parent.findall(qn(tag)):
        parent.remove(old)
    el = OxmlElement(tag)
    for k, v in (attrs or {}).items():
        el.set(qn(k), str(v))
    later = {qn(f"w:{n}") for n in order[order.index(local) + 1 :]}
    for child in parent:
        if child.tag in later:
            child.addprevious(el)
            return el
    parent.append(el)
    return el


def twips(mm: float) -> int:
    return int(Mm(mm).twips)


# --- paragraphs and runs ---------------------------------------------------------------


def para(container, text: str = "", *, size: float | None = None, align: str | None = None, before: float = 0,
         after: float = 0, line: float | None = None, left: int = 0, right: int = 0, hanging: int = 0,
         style: str | None = None, keep_next: bool = False, page_break: bool = False, letter: float | None = None):  # fmt: skip
    """A paragraph: sizes in points, indents in twips; align is a w:jc value."""
    p = container.add_paragraph()
    ppr = p._p.get_or_add_pPr()
    if style:
        put(ppr, "w:pStyle", {"w:val": style})
    if keep_next:
        put(ppr, "w:keepNext")
    if page_break:
        put(ppr, "w:pageBreakBefore")
    spacing = {}
    if before:
        spacing["w:before"] = int(before * 20)
    if after:
        spacing["w:after"] = int(after * 20)
    if line or size:
        spacing["w:line"] = int((line or max(18, (size or 12) * 1.5)) * 20)
        spacing["w:lineRule"] = "exact"
    if spacing:
        put(ppr, "w:spacing", spacing)
    ind = {}
    if left:
        ind["w:left"] = left
    if right:
        ind["w:right"] = right
    if hanging:
        ind["w:hanging"] = hanging
    if ind:
        put(ppr, "w:ind", ind)
    if align:
        put(ppr, "w:jc", {"w:val": align})
    if text:
        run(p, text, size=size, letter=letter)
    return p


def run(p, text: str, *, size: float | None = None, letter: float | None = None):
    """A run; `letter` is extra letter spacing in points."""
    r = p.add_run(text)
    if size or letter:
        rpr = r._r.get_or_add_rPr()
        if letter:
            put(rpr, "w:spacing", {"w:val": int(letter * 20)})
        if size:
            put(rpr, "w:sz", {"w:val": int(size * 2)})
            put(rpr, "w:szCs", {"w:val": int(size * 2)})
    return r


def end_paragraph(doc) -> None:
    """A tiny last paragraph: a document must end in one, and it must never spill onto a page of its own."""
    p = para(doc, "", line=1)
    rpr = put(p._p.get_or_add_pPr(), "w:rPr")
    put(rpr, "w:sz", {"w:val": 2})
    put(rpr, "w:szCs", {"w:val": 2})


# --- tables ----------------------------------------------------------------------------


def table(doc, grid_mm: list[float], rows: int):
    """A fixed-layout table with single 0.5 pt borders, centred, columns exactly as given."""
    t = doc.add_table(rows=rows, cols=len(grid_mm))
    tbl = t._tbl
    tblPr = tbl.tblPr
    put(tblPr, "w:tblW", {"w:w": sum(twips(w) for w in grid_mm), "w:type": "dxa"})
    put(tblPr, "w:jc", {"w:val": "center"})
    borders = put(tblPr, "w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        put(borders, f"w:{edge}", {"w:val": "single", "w:sz": 4, "w:space": 0, "w:color": "000000"})
    put(tblPr, "w:tblLayout", {"w:type": "fixed"})
    mar = put(tblPr, "w:tblCellMar")
    put(mar, "w:left", {"w:w": 85, "w:type": "dxa"})
    put(mar, "w:right", {"w:w": 85, "w:type": "dxa"})
    put(tblPr, "w:tblLook", {"w:val": "0000", "w:firstRow": 0, "w:lastRow": 0, "w:firstColumn": 0,
                             "w:lastColumn": 0, "w:noHBand": 1, "w:noVBand": 1})  # fmt: skip
    for gc, w in zip(tbl.tblGrid.findall(qn("w:gridCol")), grid_mm, strict=True):
        gc.set(qn("w:w"), str(twips(w)))
    for row in t.rows:
        for cell, w in zip(row.cells, grid_mm, strict=True):
            cell.width = Mm(w)
        put(row._tr.get_or_add_trPr(), "w:cantSplit")  # a row never splits across pages
    return t


def spans(t, r: int, widths: list[int]) -> list:
    """Merge row r into cells spanning the given numbers of grid columns; returns the cells."""
    cells, c = [], 0
    for n in widths:
        cell = t.cell(r, c)
        if n > 1:
            cell = cell.merge(t.cell(r, c + n - 1))
        cells.append(cell)
        c += n
    return cells


def cell_text(cell, lines: list[str] | str, *, align: str | None = None, size: float | None = None,
              vcenter: bool = True, line: float | None = None, keep_next: bool = False):  # fmt: skip
    """Text in a cell, one paragraph per line; align 'distribute' is 均等割り付け."""
    if isinstance(lines, str):
        lines = [lines]
    first = cell.paragraphs[0]
    for i, text in enumerate(lines):
        p = first if i == 0 else cell.add_paragraph()
        ppr = p._p.get_or_add_pPr()
        if keep_next:
            put(ppr, "w:keepNext")
        put(ppr, "w:spacing", {"w:line": int((line or CELL_LINE) * 20), "w:lineRule": "exact"})
        if align:
            put(ppr, "w:jc", {"w:val": align})
        if text:
            run(p, text, size=size)
    if vcenter:
        put(cell._tc.get_or_add_tcPr(), "w:vAlign", {"w:val": "center"})
    return cell


def vmerge(cell, restart: bool) -> None:
    put(cell._tc.get_or_add_tcPr(), "w:vMerge", {"w:val": "restart"} if restart else None)


def row_props(row, mm: float | None = None, header: bool = False) -> None:
    trPr = row._tr.get_or_add_trPr()
    if mm:
        put(trPr, "w:trHeight", {"w:val": twips(mm), "w:hRule": "atLeast"})
    if header:
        put(trPr, "w:tblHeader")  # repeated at the top of every page


# --- the package around word/document.xml ----------------------------------------------

NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
FONTS = f'<w:rFonts w:ascii="{FONT}" w:eastAsia="{FONT}" w:hAnsi="{FONT}" w:cs="{FONT}"/>'

CONTENT_TYPES = (
    DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
    '<Override PartName="/word/settings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>'
    '<Override PartName="/word/fontTable.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/>'
    '<Override PartName="/word/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
    'core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{REL}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)
DOCUMENT_RELS = (
    DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/settings" Target="settings.xml"/>'
    f'<Relationship Id="rId3" Type="{REL}/fontTable" Target="fontTable.xml"/>'
    f'<Relationship Id="rId4" Type="{REL}/theme" Target="theme/theme1.xml"/>'
    "</Relationships>"
)
APP = (
    DECL + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Template>Normal.dotm</Template><Application>kobankyo</Application><DocSecurity>0</DocSecurity>"
    "</Properties>"
)
FONT_TABLE = (
    DECL + f'<w:fonts xmlns:w="{NS_W}">'
    f'<w:font w:name="{FONT}"><w:altName w:val="MS Mincho"/><w:panose1 w:val="02020609040205080304"/>'
    '<w:charset w:val="80"/><w:family w:val="roman"/><w:pitch w:val="fixed"/>'
    '<w:sig w:usb0="E00002FF" w:usb1="6AC7FDFB" w:usb2="08000012" w:usb3="00000000" w:csb0="0002009F" '
    'w:csb1="00000000"/></w:font>'
    "</w:fonts>"
)
WORD = "http://schemas.microsoft.com/office/word"
SETTINGS = (
    DECL + f'<w:settings xmlns:w="{NS_W}">'
    '<w:zoom w:percent="100"/><w:defaultTabStop w:val="840"/>'
    '<w:characterSpacingControl w:val="compressPunctuation"/>'
    # A line ending in a line break (Alt+Enter in a cell) is not stretched to the full width.
    "<w:compat><w:doNotExpandShiftReturn/>"
    f'<w:compatSetting w:name="compatibilityMode" w:uri="{WORD}" w:val="15"/>'
    f'<w:compatSetting w:name="overrideTableStyleFontSizeAndJustification" w:uri="{WORD}" w:val="1"/>'
    f'<w:compatSetting w:name="enableOpenTypeFeatures" w:uri="{WORD}" w:val="1"/>'
    f'<w:compatSetting w:name="doNotFlipMirrorIndents" w:uri="{WORD}" w:val="1"/>'
    f'<w:compatSetting w:name="differentiateMultirowTableHeaders" w:uri="{WORD}" w:val="1"/>'
    "</w:compat>"
    '<w:themeFontLang w:val="en-US" w:eastAsia="ja-JP"/>'
    '<w:clrSchemeMapping w:bg1="light1" w:t1="dark1" w:bg2="light2" w:t2="dark2" w:accent1="accent1" '
    'w:accent2="accent2" w:accent3="accent3" w:accent4="accent4" w:accent5="accent5" w:accent6="accent6" '
    'w:hyperlink="hyperlink" w:followedHyperlink="followedHyperlink"/>'
    '<w:decimalSymbol w:val="."/><w:listSeparator w:val=","/>'
    "</w:settings>"
)


def styles_xml() -> str:
    """Document defaults and the few styles the forms use: 明朝 in every slot, ja-JP, exact line pitch."""
    text_w = twips(TEXT_WIDTH_MM)
    sender_left = text_w - CHAR - 15 * CHAR  # a 15-character block, one character inside the right margin
    note_hang = 3 * int(SMALL * 20)  # 「注1　」 / 「　2　」 + tab: three 10.5 pt characters
    cell_mar = (
        '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar>'
    )
    return (
        DECL + f'<w:styles xmlns:w="{NS_W}">'
        "<w:docDefaults><w:rPrDefault><w:rPr>"
        f'{FONTS}<w:kern w:val="2"/><w:sz w:val="24"/><w:szCs w:val="24"/>'
        '<w:lang w:val="en-US" w:eastAsia="ja-JP" w:bidi="ar-SA"/>'
        "</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr>"
        '<w:widowControl w:val="0"/><w:spacing w:line="360" w:lineRule="exact"/>'
        "</w:pPr></w:pPrDefault></w:docDefaults>"
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/>'
        f'<w:pPr><w:widowControl w:val="0"/><w:spacing w:line="360" w:lineRule="exact"/></w:pPr>'
        f'<w:rPr>{FONTS}<w:sz w:val="24"/><w:szCs w:val="24"/></w:rPr></w:style>'
        '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
        '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/><w:unhideWhenUsed/>'
        "</w:style>"
        '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
        '<w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/>'
        f'<w:tblPr><w:tblInd w:w="0" w:type="dxa"/>{cell_mar}</w:tblPr></w:style>'
        '<w:style w:type="numbering" w:default="1" w:styleId="NoList"><w:name w:val="No List"/>'
        '<w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/></w:style>'
        '<w:style w:type="paragraph" w:customStyle="1" w:styleId="Sender"><w:name w:val="差出人"/>'
        '<w:basedOn w:val="Normal"/><w:qFormat/>'
        f'<w:pPr><w:ind w:left="{sender_left}" w:right="{CHAR}"/><w:jc w:val="left"/></w:pPr></w:style>'
        '<w:style w:type="paragraph" w:customStyle="1" w:styleId="Note"><w:name w:val="注記"/>'
        '<w:basedOn w:val="Normal"/><w:qFormat/>'
        f'<w:pPr><w:keepNext/><w:keepLines/><w:tabs><w:tab w:val="left" w:pos="{note_hang}"/></w:tabs>'
        f'<w:spacing w:line="{SMALL_LINE * 20 + 20}" w:lineRule="exact"/>'
        f'<w:ind w:left="{note_hang}" w:hanging="{note_hang}"/></w:pPr>'
        f'<w:rPr><w:sz w:val="{int(SMALL * 2)}"/><w:szCs w:val="{int(SMALL * 2)}"/></w:rPr></w:style>'
        # Word's own header and footer styles: a header or footer the clerk adds in Word (or python-docx)
        # refers to them, and a reference to a style that is not there is a finding of openxml-audit.
        + "".join(
            f'<w:style w:type="paragraph" w:styleId="{sid}"><w:name w:val="{name}"/><w:basedOn w:val="Normal"/>'
            '<w:uiPriority w:val="99"/><w:unhideWhenUsed/><w:pPr><w:tabs>'
            f'<w:tab w:val="center" w:pos="{text_w // 2}"/><w:tab w:val="right" w:pos="{text_w}"/>'
            "</w:tabs></w:pPr></w:style>"
            for sid, name in (("Header", "header"), ("Footer", "footer"))
        )
        + "</w:styles>"
    )


def core_xml(title: str) -> str:
    return (
        DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{title}</dc:title><cp:revision>1</cp:revision>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{CREATED}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{CREATED}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def new_document():
    doc = Document()
    sec = doc.sections[0]
    sectPr = sec._sectPr
    for attr in list(sectPr.attrib):
        del sectPr.attrib[attr]  # rsids of the default template
    put(sectPr, "w:pgSz", {"w:w": twips(210), "w:h": twips(297)})
    put(sectPr, "w:pgMar", {"w:top": twips(25), "w:right": twips(20), "w:bottom": twips(25), "w:left": twips(30),
                            "w:header": twips(12), "w:footer": twips(12), "w:gutter": 0})  # fmt: skip
    put(sectPr, "w:cols", {"w:space": 425})
    # No document grid: exact line spacing lays out the same in Word and LibreOffice.
    put(sectPr, "w:docGrid", {"w:type": "default", "w:linePitch": 360})
    return doc


def save(doc, name: str, title: str) -> Path:
    """Write the form with only the parts it needs; every other part of python-docx's default template goes."""
    buf = io.BytesIO()
    doc.save(buf)
    parts = dict(read_zip(buf.getvalue()))
    members = [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", PACKAGE_RELS),
        ("docProps/core.xml", core_xml(title)),
        ("docProps/app.xml", APP),
        ("word/document.xml", parts["word/document.xml"]),
        ("word/_rels/document.xml.rels", DOCUMENT_RELS),
        ("word/styles.xml", styles_xml()),
        ("word/settings.xml", SETTINGS),
        ("word/fontTable.xml", FONT_TABLE),
        ("word/theme/theme1.xml", parts["word/theme/theme1.xml"]),
    ]
    data = write_zip([(n, d.encode("utf-8") if isinstance(d, str) else d) for n, d in members])
    OUT.mkdir(exist_ok=True)
    path = OUT / name
    path.write_bytes(data)
    return path


def sender(doc, lines: list[str], after: float = 8) -> None:
    """差出人: the sender block shared by 様式第2号 and 第3号."""
    for i, text in enumerate(lines):
        para(doc, text, style="Sender", after=after if i == len(lines) - 1 else 0)


def report_title(doc, text: str) -> None:
    para(doc, text, size=16, align="center", after=10, line=28)


# --- 別記様式第1号 委嘱状 -------------------------------------------------------------


def build_commission() -> Path:
    doc = new_document()
    # Letter spacing goes after every character it is set on: the last one gets none, so the
    # title stays truly centred.
    p = para(doc, "", align="center", before=40, after=70, line=52)
    run(p, "委嘱", size=28, letter=14)
    run(p, "状", size=28)
    p = para(doc, "", left=2 * CHAR, after=56, line=36)
    run(p, "{{ 氏名 }}　{{ 敬称 }}", size=20)
    para(doc, "あなたを{{ 協議会名 }}委員に委嘱します。", size=16, left=2 * CHAR, after=40, line=34)
    para(doc, "任期：{{ 委嘱日 }}から", size=16, left=2 * CHAR, line=34)
    para(doc, "　　　{{ 任期満了日 }}まで", size=16, left=2 * CHAR, after=100, line=34)
    para(doc, "{{ 交付日 }}", size=16, left=4 * CHAR, after=60, line=34)
    # 印 with one character of space before the right margin, for the seal.
    para(doc, "{{ 警察署名 }}長　{{ 署長氏名 }}　印", size=16, align="right", right=320, line=34)
    return save(doc, "委嘱状.docx", "委嘱状")


# --- 別記様式第2号 設置報告書 --------------------------------------------------------

# Grid (mm): label, then the union of the member-list and 運営責任者 column edges.
# Members: 氏名 28 | 役職名 17 | 年齢 12 | 性別 12 | 職業 61; 運営責任者: 職名 45 | 階級 34 | 氏名 51.
FORM2_GRID = [LABEL_MM, 28, 17, 12, 12, 10, 51]
NOTES = [
    "注1\t名称は、連絡協議会の固有名称を記載すること。",
    "\t例　○○○交番連絡協議会、○○地区○○連絡協議会等",
    "　2\t協議会種別は、所管区ごとの連絡協議会、単位連絡協議会又は職種等連絡協議会の別を記載すること。",
    "　3\t委員の構成は、氏名、役職名、年齢等を記載すること。",
]


def build_establishment() -> Path:
    doc = new_document()
    para(doc, "別記様式第2号", after=6)
    para(doc, "{{ 本部長宛名 }}　殿", after=6)
    sender(doc, ["宮地第{{ 文書番号 }}号", "{{ 報告日 }}", "{{ 警察署名 }}長"])
    report_title(doc, "交番・駐在所連絡協議会設置報告書")
    t = table(doc, FORM2_GRID, 7)
    whole = [1, 6]
    member = [1, 1, 1, 1, 1, 2]
    # 名称, 協議会種別（設置理由）
    label, value = spans(t, 0, whole)
    cell_text(label, "名称", align="distribute")
    cell_text(value, "{{ 名称 }}")
    row_props(t.rows[0], 10)
    label, value = spans(t, 1, whole)
    cell_text(label, ["協議会種別", "（設置理由）"], align="distribute")
    cell_text(value, "{{ 協議会種別 }}")
    row_props(t.rows[1], 13)
    # 委員の構成: a header row and one row per member ({%tr %} loop), the label merged down.
    cells = spans(t, 2, member)
    cell_text(cells[0], "委員の構成", align="distribute")
    vmerge(cells[0], True)
    for c, text in zip(cells[1:], ["氏名", "役職名", "年齢", "性別", "職業"], strict=True):
        cell_text(c, text, align="center", size=SMALL, line=SMALL_LINE)
    row_props(t.rows[2], 6)
    cells = spans(t, 3, [1, 6])
    vmerge(cells[0], False)
    cell_text(cells[1], "{%tr for 委員 in 委員一覧 %}", size=SMALL, line=SMALL_LINE, vcenter=False)
    cells = spans(t, 4, member)
    vmerge(cells[0], False)
    for c, key in zip(cells[1:], ["氏名", "役職名", "年齢", "性別", "職業"], strict=True):
        align = "center" if key in ("年齢", "性別") else None
        cell_text(c, "{{ 委員." + key + " }}", align=align, size=SMALL, line=SMALL_LINE)
    row_props(t.rows[4], 6)
    cells = spans(t, 5, [1, 6])
    vmerge(cells[0], False)
    cell_text(cells[1], "{%tr endfor %}", size=SMALL, line=SMALL_LINE, vcenter=False)
    # 運営責任者: keep-with-next on its paragraphs keeps the notes on the page of the table.
    cells = spans(t, 6, [1, 2, 3, 1])
    cell_text(cells[0], "運営責任者", align="distribute", keep_next=True)
    cell_text(cells[1], "職名　{{ 運営責任者職名 }}", keep_next=True)
    cell_text(cells[2], "階級　{{ 運営責任者階級 }}", keep_next=True)
    cell_text(cells[3], "氏名　{{ 運営責任者氏名 }}", keep_next=True)
    row_props(t.rows[6], 10)
    # Notes hang (style 注記): wrapped lines align with the text after the number.
    for i, text in enumerate(NOTES):
        para(doc, text, style="Note", before=4 if i == 0 else 0)
    end_paragraph(doc)
    return save(doc, "設置報告書.docx", "交番・駐在所連絡協議会設置報告書")


# --- 別記様式第3号 開催結果報告書 ----------------------------------------------------

# Grid (mm): label | 30 | 35 | 35 | 30. 意見・要望 and 回答 get 65 mm each.
FORM3_GRID = [LABEL_MM, 30, 35, 35, 30]


def build_meeting() -> Path:
    doc = new_document()
    para(doc, "別記様式第3号", after=6)
    para(doc, "{{ 宛先 }}　殿", after=6)
    sender(doc, ["{{ 報告日 }}", "{{ 報告者交番等 }}", "階級　{{ 報告者階級 }}", "氏名　{{ 報告者氏名 }}"])
    report_title(doc, "連絡協議会開催結果報告書")
    t = table(doc, FORM3_GRID, 17)
    simple = [("所管区名", "所管区名"), ("協議会名", "協議会名"), ("開催日時", "開催日時"), ("開催場所", "開催場所"),
              ("参加委員数", "参加委員数")]  # fmt: skip
    for r, (label, key) in enumerate(simple):
        a, b = spans(t, r, [1, 4])
        cell_text(a, label, align="distribute")
        cell_text(b, "{{ " + key + " }}")
        row_props(t.rows[r], 8)
    # 参加警察官数 with 警察幹部等の参加数（内数）: two rows, merged vertically; each count in its own
    # cell so that 地域幹部 and その他の幹部 line up.
    top = spans(t, 5, [1, 1, 1, 1, 1])
    bottom = spans(t, 6, [1, 1, 1, 1, 1])
    cell_text(top[0], "参加警察官数", align="distribute")
    cell_text(top[1], "{{ 参加警察官数 }}", align="center")
    cell_text(top[2], ["警察幹部等の", "参加数（内数）"], align="distribute")
    cell_text(top[3], "地域幹部", align="distribute")
    cell_text(top[4], "{{ 地域幹部数 }}", align="center")
    cell_text(bottom[3], "その他の幹部", align="distribute")
    cell_text(bottom[4], "{{ その他幹部数 }}", align="center")
    for c in range(3):
        vmerge(top[c], True)
        vmerge(bottom[c], False)
    row_props(t.rows[5], 7)
    row_props(t.rows[6], 7)
    a, b, c = spans(t, 7, [1, 2, 2])
    cell_text(a, "会議種別", align="distribute")
    cell_text(b, "{{ 定期会議印 }}定期会議（{{ 回次 }}回目）", align="center")
    cell_text(c, "{{ 臨時会議印 }}臨時会議", align="center")
    row_props(t.rows[7], 8)
    # 開催状況: header row, then one row per 意見・要望 ({%tr %} loop), label merged down; or, when
    # the opinions do not fit on the page (forms.meeting decides), 「別紙のとおり」 and a 別紙.
    a, b = spans(t, 8, [1, 4])
    cell_text(b, "{%tr if not 別紙 %}", vcenter=False)
    a, b, c = spans(t, 9, [1, 2, 2])
    cell_text(a, "開催状況", align="distribute")
    vmerge(a, True)
    cell_text(b, "意見・要望", align="center")
    cell_text(c, "回答", align="center")
    row_props(t.rows[9], 7)
    a, b = spans(t, 10, [1, 4])
    vmerge(a, False)
    cell_text(b, "{%tr for 意見 in 意見要望一覧 %}", vcenter=False)
    a, b, c = spans(t, 11, [1, 2, 2])
    vmerge(a, False)
    cell_text(b, "{{ 意見.意見要望 }}", size=SMALL, line=SMALL_LINE)
    cell_text(c, "{{ 意見.回答 }}", size=SMALL, line=SMALL_LINE)
    row_props(t.rows[11], 9)
    a, b = spans(t, 12, [1, 4])
    vmerge(a, False)
    cell_text(b, "{%tr endfor %}", vcenter=False)
    a, b = spans(t, 13, [1, 4])
    cell_text(b, "{%tr else %}", vcenter=False)
    a, b = spans(t, 14, [1, 4])
    cell_text(a, "開催状況", align="distribute")
    cell_text(b, "別紙のとおり")
    row_props(t.rows[14], 9)
    a, b = spans(t, 15, [1, 4])
    cell_text(b, "{%tr endif %}", vcenter=False)
    a, b = spans(t, 16, [1, 4])
    cell_text(a, "備考", align="distribute")
    cell_text(b, "{{ 備考 }}")
    row_props(t.rows[16], 14)
    # 別紙: every opinion, its 意見・要望/回答 header repeated on each page.
    para(doc, "{%p if 別紙 %}")
    para(doc, "別紙", page_break=True, after=6)
    # Which meeting: a 別紙 printed in a bundle is told apart from the others by council and date.
    para(doc, "開催状況（{{ 協議会名 }}　{{ 開催日 }}開催）", size=14, align="center", after=10, line=24)
    annex = table(doc, [80, 80], 4)
    a, b = annex.rows[0].cells
    cell_text(a, "意見・要望", align="center")
    cell_text(b, "回答", align="center")
    row_props(annex.rows[0], 8, header=True)
    cell_text(spans(annex, 1, [2])[0], "{%tr for 意見 in 意見要望一覧 %}", vcenter=False)
    a, b = annex.rows[2].cells
    cell_text(a, "{{ 意見.意見要望 }}", vcenter=False)
    cell_text(b, "{{ 意見.回答 }}", vcenter=False)
    row_props(annex.rows[2], 10)
    cell_text(spans(annex, 3, [2])[0], "{%tr endfor %}", vcenter=False)
    para(doc, "{%p endif %}")
    end_paragraph(doc)
    return save(doc, "開催結果報告書.docx", "連絡協議会開催結果報告書")


def build_all() -> list[Path]:
    return [build_commission(), build_establishment(), build_meeting()]


if __name__ == "__main__":
    for p in build_all():
        print(f"wrote {p.relative_to(ROOT)}")
