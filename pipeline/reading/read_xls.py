"""The old Excel 97-2003 .xls, and what the other files that look like a workbook really are.

An .xls is read with xlrd (docs/decisions.md says why) into the rows openpyxl gives for an .xlsx: the same
values (numbers as int or float, dates and times as openpyxl converts them, by the cell's number format,
errors as their text), the same sheet names, merged ranges, the workbook's date system. read.py's table
builders then read them exactly as an .xlsx's, so findings name the same sheets and cells.

The annotated copy of an .xls is an .xlsx (to_xlsx): the clerk's values, number formats, merged cells and
column widths, nothing computed.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# What every message ends with: how to make the file readable.
SAVE_AS = "Excelで開き、「名前を付けて保存」で「ファイルの種類」を「Excel ブック (*.xlsx)」にして保存し直してください。"
# A clerk's .xls is a few MB; one far larger is not read (xlrd holds the whole file in memory).
MAX_XLS_BYTES = 64 * 1024 * 1024


def sniff(path: Path) -> str | None:
    """What a candidate file is by its content: "xls" for an Excel 97-2003 workbook, None for what read.py's
    .xlsx path decides (a zip holding xl/workbook.xml, or a file it refuses with its own message), or a
    Japanese sentence saying which other format it is and how to save it as .xlsx."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return None  # read.py says why it cannot be read
    if not head:
        return None
    if head.startswith(OLE_MAGIC):
        return _ole_kind(path)
    if head.startswith(b"PK"):
        return _zip_kind(path)
    return _text_kind(path, head)


def _ole_kind(path: Path) -> str:
    """An OLE2 compound file: an .xls (a Workbook or Book stream), an encrypted .xlsx, or something else."""
    from xlrd.compdoc import CompDoc

    try:
        if path.stat().st_size > MAX_XLS_BYTES:
            return "ファイルが大きすぎるため読み込みを中止しました。"
        streams = {d.name for d in CompDoc(path.read_bytes(), logfile=io.StringIO()).dirlist}
    except Exception:  # a damaged container: say it as for an .xls that cannot be read
        return "古い.xls形式のファイルとして読めません（壊れているか、パスワードで保護されています）。" + SAVE_AS
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        return (
            "パスワードで保護されています。Excelで開いてパスワードを解除し"
            "（「ファイル」→「情報」→「ブックの保護」→「パスワードを使用して暗号化」を空にする）、保存し直してください。"
        )
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if "WordDocument" in streams:
        return "Word 97-2003 文書（.doc）で、Excelブックではありません。表をExcelに移し、.xlsx形式で保存してください。"
    return "Excelブックではありません（古いOffice形式の別の種類のファイルです）。" + SAVE_AS


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            mimetype = z.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None  # read.py: 壊れています
    if "xl/workbook.xml" in names:
        return None
    if b"opendocument.spreadsheet" in mimetype:
        return "OpenDocument スプレッドシート（.ods）形式です。" + _SAVE_ODS
    if "xl/workbook.bin" in names:
        return "Excel バイナリ ブック（.xlsb）形式です。" + SAVE_AS
    if b"opendocument" in mimetype or "word/document.xml" in names or "ppt/presentation.xml" in names:
        return "Excelブックではありません（Word や PowerPoint などの文書です）。表をExcelに移し、.xlsx形式で保存してください。"
    return None


_SAVE_ODS = (
    "LibreOffice Calc か Excel で開き、「名前を付けて保存」で「ファイルの種類」を"
    "「Excel ブック (*.xlsx)」（LibreOffice では「Excel 2007-365 (.xlsx)」）にして保存し直してください。"
)


def _text_kind(path: Path, head: bytes) -> str:
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith(b"%pdf"):
        return "PDFファイルで、Excelブックではありません。元のExcelブック（.xlsx）を入力フォルダに置いてください。"
    if low.startswith((b"<html", b"<!doctype html", b"<table", b"<meta")) or b"<html" in low[:1000]:
        return "Webページ（HTML）形式のファイルです（拡張子だけが Excel のものです）。" + SAVE_AS
    if low.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return "XML スプレッドシート 2003 形式のファイルです。" + SAVE_AS
    if _looks_like_text(head):
        what = (
            "CSV（カンマ区切りのテキスト）"
            if path.suffix.lower() == ".csv" or b"," in head or b"\t" in head
            else "テキスト"
        )
        renamed = "" if path.suffix.lower() == ".csv" else f"（拡張子は {path.suffix} ですが、中身は{what}です）"
        return f"{what}形式のファイルで、シートや日付の書式を持てません{renamed}。" + SAVE_AS
    return "Excelブックではありません（中身の形式が分かりません）。" + SAVE_AS


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return head.startswith((b"\xff\xfe", b"\xfe\xff"))  # UTF-16 text (Excel's "Unicode テキスト")
    for encoding in ("utf-8", "cp932"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as e:
            if e.start >= len(head) - 3:  # a character cut by the 4 KB window
                return True
    return False


# --- reading --------------------------------------------------------------------------------------------


@dataclass
class XlsSheet:
    """A worksheet of an .xls as read.py reads an openpyxl read-only worksheet (reset_dimensions, iter_rows)."""

    title: str
    rows: list[tuple]
    _worksheet_path: str  # never an .xml part: read.py's fast path is for .xlsx only
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_row, min_col, max_row, max_col)

    def reset_dimensions(self) -> None:
        pass

    def iter_rows(self, min_row: int = 1, values_only: bool = True):
        yield from (tuple(r) for r in self.rows[min_row - 1 :])


@dataclass
class XlsBook:
    """An .xls as read.py uses an openpyxl workbook: sheetnames, wb[name], epoch, close()."""

    sheets: dict[str, XlsSheet]
    epoch: dt.datetime
    # Per sheet, the cells the copy needs beyond the values: (row, col) -> number format
    formats: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    widths: dict[str, dict[int, float]] = field(default_factory=dict)

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    def __getitem__(self, name: str) -> XlsSheet:
        return self.sheets[name]

    def close(self) -> None:
        pass


class XlsUnreadable(Exception):
    """The .xls cannot be read: the Japanese reason (read.py makes the file-unreadable finding of it)."""


def open_xls(path: Path) -> XlsBook:
    """Every worksheet of an .xls, its cells as openpyxl reads an .xlsx's (data_only)."""
    import xlrd
    from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    try:
        if path.stat().st_size > MAX_XLS_BYTES:
            raise XlsUnreadable("ファイルが大きすぎるため読み込みを中止しました。")
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=False, logfile=io.StringIO())
    except XlsUnreadable:
        raise
    except Exception as e:  # xlrd raises XLRDError, CompDocError, struct.error, IndexError… for damaged files
        if "encrypted" in str(e).lower():
            raise XlsUnreadable(
                "パスワードで保護されています。Excelで開いてパスワードを解除し、保存し直してください。"
            ) from None
        raise XlsUnreadable(
            f"古い.xls形式のファイルとして読めません（{type(e).__name__}）。壊れているか、パスワードで保護されています。"
            + SAVE_AS
        ) from None
    epoch = CALENDAR_MAC_1904 if book.datemode == 1 else CALENDAR_WINDOWS_1900
    # Each XF's number format as openpyxl sees an .xlsx's: a custom format by its text, a built-in one
    # (below 164) by openpyxl's table, so that the locale-dependent built-ins stay numbers as they do there.
    xf_format: list[str | None] = []
    for xf in book.xf_list:
        key = xf.format_key
        if key >= 164:
            f = book.format_map.get(key)
            xf_format.append(f.format_str if f is not None else None)
        else:
            xf_format.append(builtin_format_code(key))
    kinds = [(is_date_format(f), is_timedelta_format(f)) for f in xf_format]
    out = XlsBook({}, epoch)
    try:
        for index, sh in enumerate(book.sheets()):
            rows: list[tuple] = []
            formats: dict[tuple[int, int], str] = {}
            for r in range(sh.nrows):
                types, values = sh.row_types(r), sh.row_values(r)
                row: list[object] = []
                for c, (t, v) in enumerate(zip(types, values, strict=True)):
                    value: object = None
                    if t == xlrd.XL_CELL_TEXT:
                        value = v
                    elif t in (xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE):
                        xfi = sh.cell_xf_index(r, c)
                        is_date, is_delta = kinds[xfi] if 0 <= xfi < len(kinds) else (False, False)
                        fmt = xf_format[xfi] if 0 <= xfi < len(xf_format) else None
                        if fmt and fmt != "General":
                            formats[(r + 1, c + 1)] = fmt
                        value = _number(v)
                        if is_date:
                            try:
                                value = from_excel(value, epoch, timedelta=is_delta)
                            except (OverflowError, ValueError):
                                pass  # a serial no date has: the number, read.py's bad-date says so
                    elif t == xlrd.XL_CELL_BOOLEAN:
                        value = bool(v)
                    elif t == xlrd.XL_CELL_ERROR:
                        value = xlrd.error_text_from_code.get(v, "#VALUE!")
                    row.append(value)
                while row and row[-1] is None:
                    row.pop()
                rows.append(tuple(row))
            while rows and not rows[-1]:
                rows.pop()
            merges = [(rlo + 1, clo + 1, rhi, chi) for rlo, rhi, clo, chi in sh.merged_cells if rhi > rlo and chi > clo]
            out.sheets[sh.name] = XlsSheet(sh.name, rows, f"xls:{index}", merges)
            out.formats[sh.name] = formats
            out.widths[sh.name] = {c: info.width / 256 for c, info in sh.colinfo_map.items() if not info.hidden}
    finally:
        book.release_resources()
    return out


def _number(v: float) -> int | float:
    """As openpyxl casts an .xlsx's value: an integral number is an int (Excel writes "10", not "10.0")."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


# --- the copy -------------------------------------------------------------------------------------------


def to_xlsx(path: Path) -> bytes:
    """The .xls as an .xlsx holding the clerk's values (not the merged-cell fill the reader applies), their
    number formats, merged ranges and column widths: the base of its 検証結果.xlsx."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    from pipeline.ooxml.xlsx_clean import clean_xlsx

    xls = open_xls(path)
    wb = Workbook()
    wb.remove(wb.active)
    if xls.epoch.year == 1904:
        wb.epoch = xls.epoch
    for name, sheet in xls.sheets.items():
        ws = wb.create_sheet(ILLEGAL_CHARACTERS_RE.sub("", name) or "Sheet")
        formats = xls.formats.get(name, {})
        for r, row in enumerate(sheet.rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is None:
                    continue
                cell = ws.cell(r, c)
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v  # none in an .xlsx
                if isinstance(v, str) and v.startswith("="):
                    cell.data_type = "s"  # text the clerk typed, not a formula
                fmt = formats.get((r, c))
                if fmt:
                    cell.number_format = fmt
        for r1, c1, r2, c2 in sheet.merges:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        for c, width in xls.widths.get(name, {}).items():
            ws.column_dimensions[get_column_letter(c + 1)].width = round(width, 2)
    if not wb.worksheets:
        wb.create_sheet("Sheet1")
    buf = io.BytesIO()
    wb.save(buf)
    return clean_xlsx(buf.getvalue())
