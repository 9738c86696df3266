"""検証結果.xlsx: a copy of the input with problem cells filled and commented, plus a 指摘一覧 sheet."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from lxml import etree

from pipeline.core.findings import RULES, Finding, Severity
from pipeline.documents.plan import STATUS_LABEL
from pipeline.ooxml import xlsx_edit

LIST_SHEET = "指摘一覧"
STATUS_SHEET = "作成状況"
# What this run marked, and what each cell had before (a veryHidden sheet): when a clerk fixes the cells
# in 検証結果.xlsx and drops it back as input, the next copy restores them and carries only its own marks.
MARKS_SHEET = "_検証記録"
OUR_SHEETS = (LIST_SHEET, STATUS_SHEET, MARKS_SHEET)
# Which sheets of a copy this program made: a hidden workbook name per sheet pointing at its A1 (Excel keeps
# the reference when the sheet is renamed). A clerk's own sheet that happens to be called 指摘一覧 or 作成状況
# is the clerk's: kept with its content, ours then take another name (指摘一覧_2).
SHEET_NAMES = {LIST_SHEET: "_kobankyo_list", STATUS_SHEET: "_kobankyo_status", MARKS_SHEET: "_kobankyo_marks"}
_A1_OF = re.compile(r"'((?:[^']|'')+)'!\$A\$1|([^'!]+)!\$A\$1")
# Excel's own "Bad" and "Neutral" cell-style fills for errors and warnings, a light blue for information.
FILL_RGB = {Severity.ERROR: "FFC7CE", Severity.WARNING: "FFEB9C", Severity.INFO: "DDEBF7"}
RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
LINK_RGB = "0563C1"
AUTHOR = "検証"
SEPARATOR = "\n―――\n"  # between a clerk's own comment and this run's findings
# The cell's fill and comment before it was marked, then the mark's colour and the comment text this run added.
MARKS_HEADERS = ("シート", "セル", "元の塗りつぶし", "元のコメント", "付けた塗りつぶし", "付けたコメント")
LIST_HEADERS = ("重要度", "要綱の条項", "規則", "規則の名前", "シート", "セル", "内容")
# Column widths in characters: 規則の名前 and 内容 (ファイル and 内容 of 作成状況) wrap, and the sheets are
# printed one A4 landscape page wide.
LIST_WIDTHS = [8, 14, 18, 22, 10, 8, 60]
STATUS_WIDTHS = [14, 50, 14, 26, 60, 8]


def _fill_record(styles: xlsx_edit.Styles, s: int) -> str:
    """What a cell's fill was before it was marked: the fill's XML, plus type and colour as earlier copies wrote."""
    xml = styles.fill_xml(s)
    m = re.search(rb'patternType="(\w+)"', xml)
    fg = re.search(rb'<(?:\w+:)?fgColor rgb="(\w+)"', xml)
    kind = m.group(1).decode() if m and m.group(1) != b"none" else None
    return json.dumps({"type": kind, "fg": fg.group(1).decode() if fg else None, "xml": xml.decode()})


def _fill_from_record(styles: xlsx_edit.Styles, text: str | None) -> int:
    """The fill id a record names (0, no fill, when it names none or cannot be read)."""
    try:
        d = json.loads(text or "{}")
        if d.get("xml"):
            return styles.add_fill(d["xml"].encode())
        if d.get("type"):  # a copy written by the openpyxl version of this module
            kind = re.sub(r"[^A-Za-z0-9]", "", d["type"])
            fg = re.sub(r"[^A-Fa-f0-9]", "", d.get("fg") or "00000000")[:8]
            fill = f'<fill xmlns="{xlsx_edit.NS}"><patternFill patternType="{kind}"><fgColor rgb="{fg}"/></patternFill></fill>'
            return styles.add_fill(fill.encode())
    except (ValueError, TypeError, AttributeError, etree.XMLSyntaxError, xlsx_edit.XlsxEditError):
        pass
    return 0


def _still_our_mark(styles: xlsx_edit.Styles, s: int, rgb: str | None) -> bool:
    """Whether cell format s still has the fill an earlier run marked it with (rgb, or for a record that did
    not keep it, any of the mark colours): a fill the clerk changed since is the clerk's."""
    try:
        fill = xlsx_edit.parse(styles.fill_xml(s))
    except (etree.XMLSyntaxError, ValueError):
        return False
    pattern = fill.find(xlsx_edit.q("patternFill"))
    fg = pattern.find(xlsx_edit.q("fgColor")) if pattern is not None else None
    if pattern is None or pattern.get("patternType") != "solid" or fg is None:
        return False
    colour = (fg.get("rgb") or "").upper()
    ours = [rgb.upper()] if rgb else list(FILL_RGB.values())
    return colour in {f"FF{c}" for c in ours}


def _earlier_sheets(book: xlsx_edit.Book) -> dict[str, str]:
    """The sheets an earlier run made, in a copy given back as input: our name -> the sheet's name there."""
    found = {}
    names = book.defined_names()
    for ours, defined in SHEET_NAMES.items():
        m = _A1_OF.fullmatch(names.get(defined, "").strip())
        sheet = (m[1].replace("''", "'") if m[1] else m[2]) if m else None
        if sheet and book.sheet(sheet) is not None:
            found[ours] = sheet
    marks = book.sheet(MARKS_SHEET)
    if not found and marks is not None and marks.el.get("state") == "veryHidden":
        # A copy made before the names: its sheets had exactly our names, and a veryHidden record sheet.
        found = {n: n for n in OUR_SHEETS if book.sheet(n) is not None}
    return found


def _restore_earlier_marks(book: xlsx_edit.Book) -> None:
    """An earlier 検証結果.xlsx given back as input: put back each marked cell's own fill and comment, unless
    the clerk has changed the fill or the comment since (their change is kept). Then the sheets that run
    made are removed, and only those."""
    earlier = _earlier_sheets(book)
    ours_there = set(earlier.values())
    marks_sheet = earlier.get(MARKS_SHEET)
    if marks_sheet is not None and book.sheet(marks_sheet).kind == "worksheet":
        # Copies from before the last two columns leave them empty (None): see _still_our_mark, restore.
        records = [(r + [None] * len(MARKS_HEADERS))[: len(MARKS_HEADERS)] for r in book.cell_texts(marks_sheet)[1:]]
        by_sheet: dict[str, list] = {}
        for sheet, addr, *rest in records:
            ref = book.sheet(sheet) if sheet else None
            if ref is not None and ref.kind == "worksheet" and sheet not in ours_there and addr:
                by_sheet.setdefault(sheet, []).append((addr, *rest))
        for sheet, marks in by_sheet.items():
            ws = book.worksheet(sheet)
            by_anchor = {ws.anchor(addr): rest for addr, *rest in marks}
            for chunk in ws.in_chunks(list(by_anchor)):
                for anchor in chunk:
                    fill, comment, marked_rgb, ours = by_anchor[anchor]
                    c = ws.cell(anchor)
                    s = xlsx_edit.cell_style(c)
                    if _still_our_mark(book.styles, s, marked_rgb):
                        fill_id = _fill_from_record(book.styles, fill)
                        xlsx_edit.set_cell_style(c, book.styles.with_fill(s, fill_id))
                    book.comments(sheet).restore(anchor, comment, SEPARATOR, ours)
    for ref in book.sheets:  # this tool's replies in Excel 365 threads, whatever the record says
        if ref.kind == "worksheet" and ref.part and ref.name not in OUR_SHEETS:
            if book.rels(ref.part).by_type(xlsx_edit.REL_THREADED):
                book.threads(ref.name).remove_tool_replies(AUTHOR)
    for name in ours_there:
        book.remove_sheet(name)
    for defined in SHEET_NAMES.values():
        book.set_defined_name(defined, None)


def _free_names(book: xlsx_edit.Book) -> dict[str, str]:
    """Our sheets' names in this copy: as they are, or with _2, _3 ... where the clerk's sheets have them
    (Excel compares sheet names without case)."""
    taken = {n.casefold() for n in book.sheet_names}
    out = {}
    for name in OUR_SHEETS:
        n, candidate = 1, name
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate.casefold())
        out[name] = candidate
    return out


MADE_AT = "作成日時"


def made_at_line(made_at: str) -> str:
    """When the run that made this copy ran: the statuses 作成／変更なし are that run's."""
    return f"{made_at} の実行で作成（「作成」「変更なし」はこの実行での状況です）"


def _location(sheet: str, addr: str) -> str:
    quoted = sheet.replace("'", "''")
    return f"'{quoted}'!{addr}"


def _is_xls(source: Path) -> bool:
    try:
        with open(source, "rb") as f:
            return f.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    except OSError:
        return False


def annotate_book(
    source: Path,
    findings: list[Finding],
    documents: list | None = None,
    form_lines: tuple[str, ...] = (),
    made_at: str = "",
) -> bytes:
    """The annotated copy as bytes; the source file is only read.

    The workbook's parts are edited in the zip: only the rows that carry a mark are parsed, every other part
    is copied as it is (an openpyxl load and save took 23 s and 400 MB for 50,000 member rows).
    """
    note = None
    if _is_xls(source):
        from pipeline.reading.read_xls import to_xlsx

        # The clerk's values as an .xlsx, annotated as any .xlsx; the list says where it came from.
        book = xlsx_edit.Book(io.BytesIO(to_xlsx(source)))
        note = (
            f"このファイルは「{source.name}」（Excel 97-2003 形式の .xls）を .xlsx に変換したものです。"
            "値は元のブックのままです（数式は計算結果の値になっています）。直すときは元の .xls を直すか、"
            "元のブックを Excel で「Excel ブック (*.xlsx)」として保存し直して、そのブックを入力フォルダに置いてください。"
        )
    else:
        book = xlsx_edit.Book(source)
    # Macros are dropped: the copy is a report saved as .xlsx, which Excel refuses to open with a VBA part.
    book.drop_macros()
    _restore_earlier_marks(book)
    sheet_names = list(book.sheet_names)
    named = _free_names(book)
    styles = book.styles
    by_sheet: dict[str, list[Finding]] = {}
    for f in findings:
        if f.sheet in sheet_names and f.cell:
            by_sheet.setdefault(f.sheet, []).append(f)
    marks = []
    fill_records: dict[int, str] = {}
    for sheet, fs in by_sheet.items():
        ws = book.worksheet(sheet)  # a finding on a chartsheet raises: findings come from worksheets
        by_cell: dict[str, list[Finding]] = {}
        for f in fs:
            by_cell.setdefault(ws.anchor(f.cell), []).append(f)
        comments = book.comments(sheet)
        threads = book.threads(sheet)
        for chunk in ws.in_chunks(list(by_cell)):
            for addr in chunk:
                cell_fs = by_cell[addr]
                c = ws.cell(addr)
                s = xlsx_edit.cell_style(c)
                if s not in fill_records:
                    fill_records[s] = _fill_record(styles, s)
                worst = min(cell_fs, key=lambda f: RANK[f.severity])
                rgb = FILL_RGB[worst.severity]
                xlsx_edit.set_cell_style(c, styles.with_fill(s, styles.solid_fill(rgb)))
                body = "\n".join(f"【{f.severity.label}】{f.article}（{f.rule}）\n{f.message}" for f in cell_fs)
                marks.append((sheet, addr, fill_records[s], comments.text(addr), rgb, body))
                comments.add(addr, body, AUTHOR, 320, min(60 + 70 * len(cell_fs), 400), SEPARATOR)
                if threads.has(addr):  # Excel 365 shows the thread, not the legacy note: reply in it too
                    threads.reply(addr, body, AUTHOR)
    bold = styles.with_font(0, bold=True)
    # The rows of the two lists are set at the top of their cells: a long message wraps onto more lines.
    link = styles.with_alignment(styles.with_font(0, color=LINK_RGB, underline=True), wrap=False)
    severity_style = {
        sev: styles.with_alignment(styles.with_fill(0, styles.solid_fill(rgb)), wrap=False)
        for sev, rgb in FILL_RGB.items()
    }
    top, wrap = styles.with_alignment(0, wrap=False), styles.with_alignment(0, wrap=True)
    rows: list[list[tuple[str | None, int]]] = [[(h, bold) for h in LIST_HEADERS]]
    if note is not None:  # the first line under the header, before every finding
        rows.append([("変換", top), (None, top), (None, top), (None, top), (None, top), (None, top), (note, wrap)])
    links = []
    for r, f in enumerate(findings, start=len(rows) + 1):
        linked = bool(f.cell and f.sheet in sheet_names)
        rows.append(
            [
                (f.severity.label, severity_style[f.severity]),
                (f.article, top),
                (f.rule, top),
                (RULES[f.rule].title if f.rule in RULES else "", wrap),
                (f.sheet, top),
                (f.cell or (f"{f.row}行" if f.row else ""), link if linked else top),
                (f.message, wrap),
            ]
        )
        if linked:
            links.append((f"F{r}", _location(f.sheet, f.cell), f.cell))
    if not findings:  # a printed page that is not just a header
        rows.append([("指摘はありません。", 0)])
    if made_at:  # a copy a later run keeps (its workbook unchanged) still says which run made it
        rows.append([(MADE_AT, bold), *[(None, top)] * 5, (made_at_line(made_at), top)])
    book.add_sheet(
        xlsx_edit.NewSheet(named[LIST_SHEET], rows, LIST_WIDTHS, links, selected=True, printable=True, wrapped=(4, 7)),
        0,
    )
    if documents is not None:
        status = _status_sheet(documents, findings, sheet_names, bold, link, severity_style, top, wrap)
        status.rows.extend([[(line, top if i else bold)] for i, line in enumerate(form_lines)])  # 様式 used, unwrapped
        if made_at:
            status.rows.append([(f"{MADE_AT}：{made_at_line(made_at)}", top)])
        status.name = named[STATUS_SHEET]
        book.add_sheet(status, 1)
    record = [[(h, 0) for h in MARKS_HEADERS]]
    record += [[(v, 0) for v in m] for m in marks]
    book.add_sheet(
        xlsx_edit.NewSheet(named[MARKS_SHEET], record, freeze_header=False, state="veryHidden"), len(book.sheets)
    )
    book.select_first_sheet()
    book.renumber_local_names()
    for ours in (LIST_SHEET, STATUS_SHEET):
        if named[ours] in book.sheet_names:
            book.set_print_titles(named[ours])
    for ours, defined in SHEET_NAMES.items():
        if named[ours] in book.sheet_names:
            book.set_defined_name(defined, _location(named[ours], "$A$1"))
    book.drop_app_sheet_lists()
    return book.save()


def _status_sheet(
    documents: list,
    findings: list[Finding],
    sheet_names: list[str],
    bold: int,
    link: int,
    severity_style: dict,
    top: int,
    wrap: int,
) -> xlsx_edit.NewSheet:
    """作成状況: every document, its status, and for a stopped one the rule, the message and the cell."""
    rows: list[list[tuple[str | None, int]]] = [
        [(h, bold) for h in ("様式", "ファイル", "状況", "止めた規則", "内容", "セル")]
    ]
    links = []
    by_cell = {f"{f.sheet}!{f.cell}": f for f in findings if f.cell}
    for r, d in enumerate(documents, start=2):
        row: list[tuple[str | None, int]] = [(d.form, top), (d.path.split("/", 1)[-1], wrap)]
        status = STATUS_LABEL.get(d.status, d.status)
        if d.status == "blocked":
            row.append((status, severity_style[Severity.ERROR]))
            first = next((by_cell[c] for c in d.blocked_at or [] if c in by_cell), None)
            rules = [f"{rule}（{RULES[rule].title}）" if rule in RULES else rule for rule in d.blocked_by or []]
            row.append(("、".join(rules), wrap))
            row.append((first.message if first else "、".join(d.blocked_at or []), wrap))
            if first is not None:
                linked = first.sheet in sheet_names
                row.append((first.cell, link if linked else top))
                if linked:
                    links.append((f"F{r}", _location(first.sheet, first.cell), first.cell))
        else:
            row.append((status, top))
            note = []
            if d.status == "kept-edited" and d.new_path:
                note.append(f"新しい版: {d.new_path.split('/', 1)[-1]}")
            if getattr(d, "form_changed", False):
                note.append("作成後に様式が変わりました（手修正を保護したため、この文書は前の様式のままです）")
            if note:
                row += [(None, top), ("\n".join(note), wrap)]
        rows.append(row)
    return xlsx_edit.NewSheet(STATUS_SHEET, rows, STATUS_WIDTHS, links, printable=True, wrapped=(2, 4, 5))
