"""The prefecture's numbers: each workbook's "summary" (SPEC section 4) and 県集計.xlsx built from them.

figures() computes one station's summary from the station page's view (overview.station_view), so the
definitions the pages use (who serves on a day, which councils exist, which 意見・要望 are open) are the
summary's too. The figures live in StationSummary (the run record keeps them), so 県集計.xlsx is written
without the stations' models, and every number in it is one of 検証結果.json's.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from .contract import KINDS
from .fmt import wareki, wareki_fy
from .model import fiscal_year

if TYPE_CHECKING:
    from .overview import StationView
    from .run import RunReport, WorkbookRun

SUMMARY_BOOK = "県集計.xlsx"
AGE_BANDS = ("〜39", "40代", "50代", "60代", "70以上", "不明")
ROW_KEYS = ("council_rows", "open_opinion_rows")  # in the run record and 県集計.xlsx, not in 検証結果.json
WOMAN = "女"


def age_band(age: int | None) -> str:
    if age is None:
        return "不明"
    if age < 40:
        return "〜39"
    return f"{age // 10 * 10}代" if age < 70 else "70以上"


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def figures(sv: StationView, as_of: dt.date, regular: int, extra: int, pending: int) -> dict:
    """SPEC section 4's summary of one station on the as-of date (regular, extra and pending as the index
    page counts them), with a row per council and per open 意見・要望 for 県集計.xlsx."""
    from .overview import _open_opinions  # the station page's list of 意見・要望 without an answer

    fy = fiscal_year(as_of)
    existing = [cv for cv in sv.councils if cv.exists]  # the page's (and model's) "exists on the as-of date"
    kinds = Counter(cv.council.kind if cv.council.kind in KINDS else "その他" for cv in existing)
    serving = [m for cv in sv.councils for m in cv.serving]
    leaders = sum(cv.leaders for cv in sv.councils)
    ages = Counter(age_band(m.age_at(as_of)) for m in serving)
    years: dict[int, list[int]] = {}
    for mt in sv.book.meetings:
        if mt.date and mt.date <= as_of and mt.kind in ("定例", "臨時"):
            counts = years.setdefault(fiscal_year(mt.date), [0, 0])
            counts[0 if mt.kind == "定例" else 1] += 1
    council_rows = []
    for cv in sv.councils:
        c = cv.council
        this = next((y for y in cv.years if y.fy == fy), None)
        council_rows.append(
            {
                "id": c.id,
                "name": c.name,
                "kind": c.kind,
                "posts": c.posts,
                "established": _iso(c.established),
                "exists": cv.exists,
                "serving": len(cv.serving),
                "leaders": cv.leaders,
                "women": sum(1 for m in cv.serving if m.gender == WOMAN),
                "chair": next((m.name for m in cv.chairs), None),
                "regular_this_fy": this.regular if this else 0,
                "extra_this_fy": this.extra if this else 0,
            }
        )
    councils = sv.book.councils_by_id()
    opinion_rows = []
    for o, mt in _open_opinions(sv.book):  # Opinion.is_open: a blank 回答 and a blank 措置状況
        c = councils.get(mt.council_id or "") if mt else None
        opinion_rows.append(
            {
                "date": _iso(mt.date) if mt else None,
                "council": (c.name if c else mt.council_id) if mt else None,
                "meeting_id": o.meeting_id,
                "kind": mt.kind if mt else None,
                "text": o.text,
                "days": (as_of - mt.date).days if mt and mt.date and mt.date <= as_of else None,
            }
        )
    return {
        "councils": len(existing),
        "councils_by_kind": {k: kinds[k] for k in (*KINDS, "その他") if k in KINDS or kinds[k]},
        "members_serving": len(serving),
        "leaders": leaders,
        "leader_share": round(leaders / len(serving), 4) if serving else None,
        "women": sum(1 for m in serving if m.gender == WOMAN),
        "age_bands": {b: ages[b] for b in AGE_BANDS},
        "meetings_by_fy": [{"fy": y, "label": _fy(y), "regular": r, "extra": e} for y, (r, e) in sorted(years.items())],
        "meetings_this_fy": {"regular": regular, "extra": extra},
        "no_regular_this_fy": pending,
        "open_opinions": len(opinion_rows),
        "council_rows": council_rows,
        "open_opinion_rows": opinion_rows,
    }


def _fy(fy: int) -> str:
    try:
        return wareki_fy(fy)
    except ValueError:
        return f"{fy}年度"


def json_summary(wr: WorkbookRun) -> dict | None:
    """The workbook's "summary" in 検証結果.json: the figures without the per-row lists."""
    s = wr.summary
    if s is None or not s.figures:
        return None
    return {k: v for k, v in s.figures.items() if k not in ROW_KEYS}


def ensure_summaries(report: RunReport) -> None:
    """Every readable station workbook's summary (a watch run writes no pages, so the workers made none)."""
    from .overview import station_summary, station_view

    for wr in report.workbooks:
        if wr.result.has_book and wr.folder and (wr.summary is None or not wr.summary.figures):
            wr.summary = station_summary(station_view(wr, report.as_of), report.as_of)


# --- 県集計.xlsx ------------------------------------------------------------------------------------------

DATE_FORMAT = "yyyy/m/d"  # Excel and LibreOffice show it alike (LibreOffice prints ggge-era formats as serials)
SHARE_FORMAT = "0.0%"
STATUS_WORDS = {"ok": "問題なし", "warnings": "警告あり", "errors": "エラーあり", "unreadable": "読み込めません"}
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


def build_summary_xlsx(report: RunReport) -> bytes:
    """県集計.xlsx as bytes: a sheet per view, each an Excel table under a title with the as-of date."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties
    from openpyxl.worksheet.table import Table, TableStyleInfo

    from .xlsx_clean import clean_xlsx

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
        ws["A2"] = f"基準日 {when}（{_fy(fiscal_year(as_of))}）。数値は 検証結果.json の各ブックの summary と同じです。"
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


def write_summary_xlsx(report: RunReport, output_dir: Path, *, unchanged: bool = False) -> Path:
    """<output>/県集計.xlsx, rewritten only when its content changed (a run with every workbook as the last run
    saw it leaves the one there untouched, without building it). Raises OSError when the disk refuses it."""
    from .write import atomic_write

    path = output_dir / SUMMARY_BOOK
    if unchanged and path.is_file() and not path.is_symlink():
        return path
    ensure_summaries(report)
    data = build_summary_xlsx(report)
    try:
        same = path.is_file() and not path.is_symlink() and path.read_bytes() == data
    except OSError:
        same = False
    if not same:
        atomic_write(path, data)
    return path
