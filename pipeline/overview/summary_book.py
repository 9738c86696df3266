"""県集計.xlsx: the prefecture's tables, built from each workbook's summary figures (see overview.figures)."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.contract import KINDS
from pipeline.core.fmt import fy_label, wareki
from pipeline.core.model import fiscal_year
from pipeline.overview.figures import AGE_BANDS, ensure_summaries
from pipeline.report import STATUS_WORDS

if TYPE_CHECKING:
    from pipeline.report import RunReport

SUMMARY_BOOK = "県集計.xlsx"
DATE_FORMAT = "yyyy/m/d"  # Excel and LibreOffice show it alike (LibreOffice prints ggge-era formats as serials)
SHARE_FORMAT = "0.0%"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entry times: the same tables give the same bytes

# (sheet, table name, [(header, kind)]): kind "text", "int", "share", "date", "wrap"
STATION_COLUMNS = [
    ("警察署", "text"), ("入力ファイル", "text"), ("状態", "text"),
    ("協議会", "int"), *((f"協議会（{k}）", "int") for k in KINDS),
    ("在任委員", "int"), ("(ア)～(エ)の委員", "int"), ("(ア)～(エ)の割合", "share"), ("女性委員", "int"),
    *((f"年齢 {b}", "int") for b in AGE_BANDS),
    ("今年度の定例会議", "int"), ("今年度の臨時会議", "int"), ("定例会議のない協議会（今年度）", "int"),
    ("未回答の意見要望", "int"), ("エラー", "int"), ("警告", "int"),
]  # fmt: skip
COUNCIL_COLUMNS = [
    ("警察署", "text"), ("協議会ID", "text"), ("名称", "text"), ("種別", "text"), ("交番等", "text"),
    ("設置日", "date"), ("基準日に存続", "text"), ("在任委員", "int"), ("(ア)～(エ)の委員", "int"),
    ("(ア)～(エ)の割合", "share"), ("女性委員", "int"), ("会長", "text"),
    ("今年度の定例会議", "int"), ("今年度の臨時会議", "int"),
]  # fmt: skip
YEAR_COLUMNS = [
    ("警察署", "text"), ("年度", "text"), ("年度（西暦）", "int"), ("定例会議", "int"), ("臨時会議", "int"),
    ("会議計", "int"),
]  # fmt: skip
OPINION_COLUMNS = [
    ("警察署", "text"), ("開催日", "date"), ("協議会", "text"), ("会議ID", "text"), ("会議種別", "text"),
    ("意見・要望", "wrap"), ("経過日数", "int"),
]  # fmt: skip
SHEETS = [
    ("署別", "署別", STATION_COLUMNS),
    ("協議会別", "協議会別", COUNCIL_COLUMNS),
    ("年度別", "年度別会議", YEAR_COLUMNS),
    ("未回答の意見要望", "未回答の意見要望", OPINION_COLUMNS),
]


def _date(s: str | None) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


def summary_rows(report: RunReport) -> dict[str, list[list]]:
    """Each sheet's data rows, workbook by workbook in the order of 検証結果.json."""
    stations, councils, years, opinions = [], [], [], []
    for wr in report.workbooks:
        if wr.folder is None and not wr.result.unreadable:
            continue  # the shared election list
        counts = Counter(f.severity.value for f in wr.findings)
        f = wr.summary.figures if wr.summary is not None else {}
        name = (wr.summary.name if wr.summary is not None else None) or wr.result.station or wr.result.path.stem
        head = [name, wr.result.file, STATUS_WORDS.get(wr.status, wr.status)]
        if not f:
            stations.append(head + [None] * (len(STATION_COLUMNS) - 5) + [counts["error"], counts["warning"]])
            continue
        stations.append(
            head
            + [f["councils"], *(f["councils_by_kind"].get(k, 0) for k in KINDS)]
            + [f["members_serving"], f["leaders"], f["leader_share"], f["women"]]
            + [f["age_bands"][b] for b in AGE_BANDS]
            + [f["meetings_this_fy"]["regular"], f["meetings_this_fy"]["extra"], f["no_regular_this_fy"]]
            + [f["open_opinions"], counts["error"], counts["warning"]]
        )
        for c in f["council_rows"]:
            share = round(c["leaders"] / c["serving"], 4) if c["serving"] else None
            councils.append(
                [
                    *(name, c["id"], c["name"], c["kind"], c["posts"], _date(c["established"])),
                    *("存続" if c["exists"] else "なし", c["serving"], c["leaders"], share, c["women"], c["chair"]),
                    *(c["regular_this_fy"], c["extra_this_fy"]),
                ]
            )
        for y in f["meetings_by_fy"]:
            years.append([name, y["label"], y["fy"], y["regular"], y["extra"], y["regular"] + y["extra"]])
        for o in f["open_opinion_rows"]:
            opinions.append([name, _date(o["date"]), o["council"], o["meeting_id"], o["kind"], o["text"], o["days"]])
    return {"署別": stations, "協議会別": councils, "年度別": years, "未回答の意見要望": opinions}


def _width(text: object) -> int:
    """Display width in half-width columns: wide and full-width characters count two."""
    s = text if isinstance(text, str) else "" if text is None else str(text)
    line = max(s.split("\n"), key=len) if s else ""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def build_summary_book(report: RunReport) -> bytes:
    """県集計.xlsx as bytes: a sheet per view, each an Excel table under a title with the as-of date."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties
    from openpyxl.worksheet.table import Table, TableStyleInfo

    from pipeline.ooxml.xlsx_clean import clean_xlsx

    as_of = report.as_of
    when = wareki(as_of)
    rows_by_sheet = summary_rows(report)
    wb = Workbook()
    wb.remove(wb.active)
    header_row = 3
    for sheet, table_name, columns in SHEETS:
        ws = wb.create_sheet(sheet)
        ws["A1"] = f"交番・駐在所連絡協議会　県集計　{sheet}（{when}現在）"
        ws["A1"].font = Font(bold=True, size=14)
        ws["A2"] = (
            f"基準日 {when}（{fy_label(fiscal_year(as_of))}）。数値は 検証結果.json の各ブックの summary と同じです。"
        )
        headers = [h for h, _ in columns]
        for c, h in enumerate(headers, start=1):
            cell = ws.cell(header_row, c, h)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.font = Font(bold=True)  # the table style's bold header, for viewers without table styles
        data = rows_by_sheet[sheet] or [[None] * len(columns)]  # a table has at least one data row
        widths = [max(8, min(_width(h) + 2, 24)) for h in headers]
        for r, values in enumerate(data, start=header_row + 1):
            for c, ((_, kind), v) in enumerate(zip(columns, values, strict=True), start=1):
                if isinstance(v, str):
                    v = ILLEGAL_CHARACTERS_RE.sub("", v)  # control characters a file name or cell may hold
                cell = ws.cell(r, c, v)
                if kind == "date":
                    cell.number_format = DATE_FORMAT
                    widths[c - 1] = max(widths[c - 1], 18)
                elif kind == "share":
                    cell.number_format = SHARE_FORMAT
                elif kind == "wrap":
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                    widths[c - 1] = 50
                elif kind == "text":
                    widths[c - 1] = max(widths[c - 1], min(_width(v) + 2, 40))
        for c, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = w
        ref = f"A{header_row}:{get_column_letter(len(columns))}{header_row + len(data)}"
        table = Table(displayName=table_name, ref=ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)
        ws.freeze_panes = f"A{header_row + 1}"
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_options.gridLines = False
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.oddHeader.center.text = f"県集計　&A（{when}現在）"
        ws.oddFooter.center.text = "&P / &N"
    moment = dt.datetime.combine(as_of, dt.time())
    wb.properties.creator = "kobankyo"
    wb.properties.title = f"県集計（{when}現在）"
    wb.properties.created = moment
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed(clean_xlsx(buf.getvalue()), moment)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _fixed(data: bytes, moment: dt.datetime) -> bytes:
    """The same content, the same bytes: zip entry times and the document's modified time fixed."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, body)
    return out.getvalue()


def write_summary_book(report: RunReport, output_dir: Path, *, unchanged: bool = False) -> Path:
    """<output>/県集計.xlsx, rewritten only when its content changed (a run with every workbook as the last run
    saw it leaves the one there untouched, without building it). Raises OSError when the disk refuses it."""
    from pipeline.core.write import atomic_write

    path = output_dir / SUMMARY_BOOK
    if unchanged and path.is_file() and not path.is_symlink():
        return path
    ensure_summaries(report)
    data = build_summary_book(report)
    try:
        same = path.is_file() and not path.is_symlink() and path.read_bytes() == data
    except OSError:
        same = False
    if not same:
        atomic_write(path, data)
    return path
