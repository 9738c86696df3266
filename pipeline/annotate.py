"""検証結果.xlsx: a copy of the input with problem cells filled and commented, plus a 指摘一覧 sheet."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.hyperlink import Hyperlink

from .findings import RULES, Finding, Severity
from .plan import STATUS_LABEL
from .write import ANNOTATED, Manifest, atomic_write, sha256, write_error_message

LIST_SHEET = "指摘一覧"
STATUS_SHEET = "作成状況"
# What this run marked, and what each cell had before (a veryHidden sheet): when a clerk fixes the cells
# in 検証結果.xlsx and drops it back as input, the next copy restores them and carries only its own marks.
MARKS_SHEET = "_検証記録"
OUR_SHEETS = (LIST_SHEET, STATUS_SHEET, MARKS_SHEET)
FILLS = {
    Severity.ERROR: PatternFill("solid", fgColor="FFC7CE"),
    Severity.WARNING: PatternFill("solid", fgColor="FFEB9C"),
    Severity.INFO: PatternFill("solid", fgColor="DDEBF7"),
}
RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def text_cell(ws, row: int, col: int, value: object):
    """Write a value as text: '=…', '+…', '-…', '@…' must never become a formula."""
    cell = ws.cell(row, col)
    if value is None:
        return cell
    cell.value = str(value) if not isinstance(value, (int, float)) else value
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell


def _anchor(ws, addr: str):
    """A finding inside a merged range is shown on the range's top-left cell (the one Excel displays)."""
    cell = ws[addr]
    if isinstance(cell, MergedCell):
        for rng in ws.merged_cells.ranges:
            if addr in rng:
                return ws.cell(rng.min_row, rng.min_col)
    return cell


def _restore_earlier_marks(wb) -> None:
    """An earlier 検証結果.xlsx given back as input: put back each marked cell's own fill and comment."""
    if MARKS_SHEET in wb.sheetnames:
        for sheet, addr, fill, comment in wb[MARKS_SHEET].iter_rows(min_row=2, values_only=True):
            if sheet in wb.sheetnames and addr:
                cell = _anchor(wb[sheet], addr)
                cell.fill = _fill_from_json(fill)
                cell.comment = Comment(comment, "") if comment else None
    for name in OUR_SHEETS:
        if name in wb.sheetnames:
            del wb[name]


def _fill_to_json(cell) -> str:
    f = cell.fill
    return json.dumps({"type": f.fill_type, "fg": f.fgColor.rgb if f.fgColor.type == "rgb" else None})


def _fill_from_json(text: str | None) -> PatternFill:
    try:
        d = json.loads(text or "{}")
        return PatternFill(d.get("type"), fgColor=d.get("fg") or "00000000") if d.get("type") else PatternFill()
    except (ValueError, TypeError):
        return PatternFill()


def _link(ws, cell, sheet_names: list[str], sheet: str | None, addr: str | None) -> None:
    if addr and sheet in sheet_names:
        quoted = sheet.replace("'", "''")
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{quoted}'!{addr}", display=addr)
        cell.font = Font(color="0563C1", underline="single")


def annotate_book(source: Path, findings: list[Finding], documents: list | None = None) -> bytes:
    """The annotated copy as bytes; the source file is only read."""
    # Macros are dropped: the copy is a report saved as .xlsx, which Excel refuses to open with a VBA part.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's notes on unsupported extensions mean nothing to a clerk
        wb = load_workbook(source)
    _restore_earlier_marks(wb)
    sheet_names = list(wb.sheetnames)
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet in wb.sheetnames and f.cell:
            by_cell.setdefault((f.sheet, f.cell), []).append(f)
    marks = []
    for (sheet, addr), fs in by_cell.items():
        cell = _anchor(wb[sheet], addr)
        marks.append((sheet, cell.coordinate, _fill_to_json(cell), cell.comment.text if cell.comment else None))
        worst = min(fs, key=lambda f: RANK[f.severity])
        cell.fill = FILLS[worst.severity]
        body = "\n".join(f"【{f.severity.label}】{f.article}（{f.rule}）\n{f.message}" for f in fs)
        if cell.comment is not None:
            body = f"{cell.comment.text}\n―――\n{body}"
        comment = Comment(body, "検証")
        comment.width, comment.height = 320, min(60 + 70 * len(fs), 400)
        cell.comment = comment
    ws = wb.create_sheet(LIST_SHEET, 0)
    headers = ["重要度", "要綱の条項", "規則", "規則の名前", "シート", "セル", "内容"]
    for c, h in enumerate(headers, start=1):
        ws.cell(1, c, h).font = Font(bold=True)
    for r, f in enumerate(findings, start=2):
        text_cell(ws, r, 1, f.severity.label).fill = FILLS[f.severity]
        text_cell(ws, r, 2, f.article)
        text_cell(ws, r, 3, f.rule)
        text_cell(ws, r, 4, RULES[f.rule].title if f.rule in RULES else "")
        text_cell(ws, r, 5, f.sheet)
        cell = text_cell(ws, r, 6, f.cell or (f"{f.row}行" if f.row else ""))
        _link(ws, cell, sheet_names, f.sheet, f.cell)
        text_cell(ws, r, 7, f.message)
    for col, width in zip("ABCDEFG", (8, 16, 20, 22, 10, 8, 100), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    if documents is not None:
        _status_sheet(wb, documents, findings, sheet_names)
    record = wb.create_sheet(MARKS_SHEET)
    record.append(["シート", "セル", "元の塗りつぶし", "元のコメント"])
    for m in marks:
        record.append(list(m))
    record.sheet_state = "veryHidden"
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    buf = io.BytesIO()
    wb.save(buf)
    wb.close()
    return buf.getvalue()


def _status_sheet(wb, documents: list, findings: list[Finding], sheet_names: list[str]) -> None:
    """作成状況: every document, its status, and for a stopped one the rule, the message and the cell."""
    ws = wb.create_sheet(STATUS_SHEET, 1)
    headers = ["様式", "ファイル", "状況", "止めた規則", "内容", "セル"]
    for c, h in enumerate(headers, start=1):
        ws.cell(1, c, h).font = Font(bold=True)
    by_cell = {f"{f.sheet}!{f.cell}": f for f in findings if f.cell}
    for r, d in enumerate(documents, start=2):
        text_cell(ws, r, 1, d.form)
        text_cell(ws, r, 2, d.path.split("/", 1)[-1])
        status = text_cell(ws, r, 3, STATUS_LABEL.get(d.status, d.status))
        if d.status == "blocked":
            status.fill = FILLS[Severity.ERROR]
            first = next((by_cell[c] for c in d.blocked_at or [] if c in by_cell), None)
            rules = [f"{rule}（{RULES[rule].title}）" if rule in RULES else rule for rule in d.blocked_by or []]
            text_cell(ws, r, 4, "、".join(rules))
            text_cell(ws, r, 5, first.message if first else "、".join(d.blocked_at or []))
            if first is not None:
                cell = text_cell(ws, r, 6, first.cell)
                _link(ws, cell, sheet_names, first.sheet, first.cell)
        elif d.status == "kept-edited" and d.new_path:
            text_cell(ws, r, 5, f"新しい版: {d.new_path.split('/', 1)[-1]}")
    for col, width in zip("ABCDEF", (14, 60, 18, 30, 80, 8), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"


def write_annotated(report, output: Path) -> tuple[list[Path], list[str]]:
    """One 検証結果.xlsx per readable station workbook (skipped when input and findings are unchanged).

    Returns the files and, for a workbook openpyxl could read but not copy, a Japanese reason.
    """
    manifest = Manifest(output)
    written, failed = [], []
    for wr in report.workbooks:
        r = wr.result
        if r.unreadable or r.book is None or not wr.folder:
            continue
        rel = f"{wr.folder}/{ANNOTATED}"
        if wr.cached and (output / rel).exists():
            written.append(output / rel)  # the workbook is as the last run saw it: so is its copy
            continue
        findings = json.dumps(
            [[f.to_json() for f in wr.findings], [d.to_json() for d in wr.documents]], ensure_ascii=False
        )
        key = sha256(r.path.read_bytes() + findings.encode())
        path = output / rel
        if manifest.keys.get(rel) == key and path.exists():
            written.append(path)
            continue
        try:
            data = annotate_book(r.path, wr.findings, wr.documents if report.documents else None)
        except Exception as e:  # an exotic feature openpyxl cannot copy must not stop the run
            failed.append(
                f"{r.file}: 検証結果.xlsx を作れませんでした（{type(e).__name__}）。指摘は 検証結果.json と画面の表にあります。"
            )
            continue
        try:
            atomic_write(path, data)
        except OSError as e:
            failed.append(f"{r.file}: {write_error_message(path, e)}")
            continue
        manifest.keys[rel] = key
        written.append(path)
    try:
        manifest.save()
    except OSError as e:  # only a cache of what is unchanged: the next run rewrites the copies
        failed.append(write_error_message(manifest.path, e))
    return written, failed
