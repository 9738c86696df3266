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

from .findings import Finding, Severity
from .write import Manifest, atomic_write, sha256, write_error_message

ANNOTATED = "検証結果.xlsx"
LIST_SHEET = "指摘一覧"
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


def annotate_book(source: Path, findings: list[Finding]) -> bytes:
    """The annotated copy as bytes; the source file is only read."""
    # Macros are dropped: the copy is a report saved as .xlsx, which Excel refuses to open with a VBA part.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's notes on unsupported extensions mean nothing to a clerk
        wb = load_workbook(source)
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet in wb.sheetnames and f.cell:
            by_cell.setdefault((f.sheet, f.cell), []).append(f)
    for (sheet, addr), fs in by_cell.items():
        cell = _anchor(wb[sheet], addr)
        worst = min(fs, key=lambda f: RANK[f.severity])
        cell.fill = FILLS[worst.severity]
        body = "\n".join(f"【{f.severity.label}】{f.article}（{f.rule}）\n{f.message}" for f in fs)
        if cell.comment is not None:
            body = f"{cell.comment.text}\n―――\n{body}"
        comment = Comment(body, "検証")
        comment.width, comment.height = 320, min(60 + 70 * len(fs), 400)
        cell.comment = comment
    if LIST_SHEET in wb.sheetnames:
        del wb[LIST_SHEET]
    ws = wb.create_sheet(LIST_SHEET, 0)
    headers = ["重要度", "要綱の条項", "規則", "シート", "セル", "内容"]
    for c, h in enumerate(headers, start=1):
        ws.cell(1, c, h).font = Font(bold=True)
    for r, f in enumerate(findings, start=2):
        text_cell(ws, r, 1, f.severity.label).fill = FILLS[f.severity]
        text_cell(ws, r, 2, f.article)
        text_cell(ws, r, 3, f.rule)
        text_cell(ws, r, 4, f.sheet)
        cell = text_cell(ws, r, 5, f.cell or (f"{f.row}行" if f.row else ""))
        if f.cell and f.sheet in wb.sheetnames:
            quoted = f.sheet.replace("'", "''")
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{quoted}'!{f.cell}", display=f.cell)
            cell.font = Font(color="0563C1", underline="single")
        text_cell(ws, r, 6, f.message)
    for col, width in zip("ABCDEF", (8, 16, 20, 10, 8, 100), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    buf = io.BytesIO()
    wb.save(buf)
    wb.close()
    return buf.getvalue()


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
        findings = json.dumps([f.to_json() for f in wr.findings], ensure_ascii=False)
        key = sha256(r.path.read_bytes() + findings.encode())
        path = output / rel
        if manifest.keys.get(rel) == key and path.exists():
            written.append(path)
            continue
        try:
            data = annotate_book(r.path, wr.findings)
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
