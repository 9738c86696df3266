"""Read a clerk's workbook safely into raw tables that remember every cell's Excel address."""

from __future__ import annotations

import datetime as dt
import os
import re
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import openpyxl as openpyxl_package
import pandas as pd
from defusedxml import ElementTree as SafeElementTree
from lxml import etree
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.exceptions import CellCoordinatesException, IllegalCharacterError, InvalidFileException

from pipeline.core.contract import EXAMPLE_MARK, EXAMPLES, SHEET_ALIASES, SHEETS, SheetSpec, alias_map, header_key
from pipeline.core.findings import Finding, WorkbookUnreadable, make_finding
from pipeline.core.normalize import decode_excel_escapes, is_blank, is_year_alone, serial_to_date, weekday_mismatch
from pipeline.reading import openpyxl_private as private

# Zip-bomb guard: the workbooks clerks keep are a few MB at most. The cap counts the bytes actually
# inflated (a member may declare 1 KB and inflate to 1 GB), and every member is inflated once, in chunks,
# before openpyxl sees the file, so that what it inflates later is known to be what the zip declares.
MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_RATIO = 200
MAX_FILE_BYTES = 256 * 1024 * 1024  # a larger file is no clerk's workbook: refused before it is read
MAX_MEMBERS = 10_000
INFLATE_CHUNK = 1 << 20
# What one sheet may cost once read: its rows hold the cells up to the last one with a value, and all of
# them together at most this many (a 50,000-member sheet holds about a million).
MAX_SHEET_CELLS = 8_000_000
HEADER_SCAN_ROWS = 30
EXCEL_ERRORS = {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}


@dataclass
class RawTable:
    """One sheet's records: values as typed, indexed by Excel row number."""

    spec: SheetSpec
    sheet: str  # the sheet name as it is in the workbook
    frame: pd.DataFrame
    letters: dict[str, str]  # canonical column -> Excel column letter
    header_row: int | None = None
    kv_rows: dict[str, int] = field(default_factory=dict)  # 署: key -> its Excel row
    # 記入例 rows read as data: (row, marker cell, the marker column's header if it has one)
    typed_over: list[tuple[int, str, str | None]] = field(default_factory=list)

    def cell(self, column: str, row: int | None) -> str | None:
        letter = self.letters.get(column)
        if self.spec.key_value:
            row = self.kv_rows.get(column)
        return f"{letter}{row}" if letter and row else None

    def excel_row(self, column: str, row: int | None) -> int | None:
        return self.kv_rows.get(column) if self.spec.key_value else row


@dataclass
class RawBook:
    path: Path
    tables: dict[str, RawTable] = field(default_factory=dict)  # by canonical sheet name
    findings: list[Finding] = field(default_factory=list)
    blocked: bool = False  # a workbook-level error: no documents for this workbook


def _unreadable(path: Path, why: str) -> WorkbookUnreadable:
    return WorkbookUnreadable(make_finding("file-unreadable", f"「{path.name}」を開けません。{why}"))


Merges = dict[str, list[tuple[int, int, int, int]]]  # worksheet part -> merged ranges
SST_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


@dataclass
class Container:
    """What the single pass over the zip's XML parts learns before openpyxl reads the workbook."""

    has_formula: bool = False
    merges: Merges = field(default_factory=dict)
    # Shared strings decoded here when they hold _xHHHH_ escapes (openpyxl reads them lossily), else None.
    shared_strings: list[str] | None = None
    inline_escaped: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # part -> (row, col) to decode


def _check_container(path: Path) -> Container:
    """Reject what is not a sane .xlsx zip before openpyxl sees it.

    Returns whether any sheet has formulas, each sheet's merged ranges (read-only worksheets do not
    expose them) and what needs Excel's _xHHHH_ escapes decoded, gathered in one pass over the XML parts.
    """
    try:
        with open(path, "rb") as f:  # only the head: a 1.5 GB file that is no workbook is never read whole
            head = f.read(8)
            size = os.fstat(f.fileno()).st_size
    except OSError as e:
        raise _unreadable(
            path,
            f"ファイルを読み取れません（{e.strerror or type(e).__name__}）。ほかのアプリで開いていれば閉じ、"
            "読み取りが許可されているか確かめてから、もう一度実行してください。",
        ) from None
    if size > MAX_FILE_BYTES:
        raise _unreadable(path, "ファイルが大きすぎます（Excelブックとして異常な大きさです）。読み込みを中止しました。")
    if not head:
        raise _unreadable(path, "ファイルが空です。Excelで.xlsx形式で保存し直してください。")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _unreadable(
            path,
            "古い.xls形式か、パスワードで保護されたファイルです。"
            "パスワードを解除し、Excelで「Excelブック(*.xlsx)」として保存し直してください。",
        )
    if not head.startswith(b"PK"):
        raise _unreadable(path, "Excelブックではありません（CSVなど）。Excelで.xlsx形式で保存し直してください。")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if (
                len(infos) > MAX_MEMBERS
                or total > MAX_UNCOMPRESSED
                or any(
                    i.compress_size and i.file_size / i.compress_size > MAX_RATIO and i.file_size > 10_000_000
                    for i in infos
                )
            ):
                raise _unreadable(path, "展開後のサイズが異常に大きいため読み込みを中止しました。")
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                raise _unreadable(path, "Excelブックの形式ではありません。Excelで.xlsx形式で保存し直してください。")
            box = Container()
            sst_part, sst_candidates = "xl/sharedStrings.xml", {}
            for i in infos:
                xml = i.filename.endswith((".xml", ".rels"))
                data = _inflate(path, z, i, keep=xml)  # every member: its true size is checked, not declared
                if not xml:
                    continue
                # A workbook saved by Excel never declares entities: refuse any that does.
                if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
                    raise _unreadable(
                        path,
                        "Excelが作らない不正な内容（XMLの実体宣言）が含まれています。Excelで開いて保存し直してください。",
                    )
                if i.filename == "[Content_Types].xml":
                    sst_part = _shared_strings_part(data) or sst_part
                elif _SST_ROOT.search(data[:1000]) and (b"_x" in data or b"x005F_" in data):
                    sst_candidates[i.filename] = data
                if i.filename.startswith("xl/worksheets/"):
                    if b"<f>" in data or b"<f " in data or b":f>" in data or b":f " in data:
                        box.has_formula = True
                    box.merges[i.filename] = _merged_ranges(data)
                    if b"inlineStr" in data and b"_x" in data:
                        box.inline_escaped[i.filename] = _inline_cells(data)
            if sst_part in sst_candidates:
                box.shared_strings = _shared_strings(sst_candidates[sst_part])
            return box
    except (zipfile.BadZipFile, zlib.error, EOFError, struct.error):
        raise _unreadable(path, "ファイルが壊れています。Excelで開き、.xlsx形式で保存し直してください。") from None
    except OSError as e:  # the file vanished or was locked while it was being read
        raise _unreadable(path, f"ファイルを読み取れません（{e.strerror or type(e).__name__}）。") from None


def _inflate(path: Path, z: zipfile.ZipFile, info: zipfile.ZipInfo, *, keep: bool) -> bytes:
    """A member's bytes, inflated in chunks from its raw data: never more than it declares (a member that
    inflates beyond its declared size is a lie, refused after at most one chunk more), its CRC checked.
    Returns b"" unless keep (a member only checked)."""
    if info.flag_bits & 1:
        raise _unreadable(path, "パスワードで保護されています。パスワードを解除して保存し直してください。")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise zipfile.BadZipFile(f"compression {info.compress_type}")
    fp = z.fp
    fp.seek(info.header_offset)
    header = fp.read(30)
    if header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local header")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    left, out, size, crc = info.compress_size, [], 0, 0
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    while left > 0 or (inflater is not None and inflater.unconsumed_tail):
        raw = b""
        if inflater is None or not inflater.unconsumed_tail:
            raw = fp.read(min(INFLATE_CHUNK, left))
            if not raw:
                raise EOFError
            left -= len(raw)
        if inflater is None:
            piece = raw
        else:
            # At most one chunk of output per call: a lying member costs a chunk, not its whole inflation.
            piece = inflater.decompress(inflater.unconsumed_tail + raw, INFLATE_CHUNK)
        size += len(piece)
        if size > info.file_size:
            raise _unreadable(path, "展開後のサイズが申告と違い、異常に大きいため読み込みを中止しました。")
        crc = zlib.crc32(piece, crc)
        if keep:
            out.append(piece)
        if inflater is not None and inflater.eof:
            break
    if inflater is not None and not inflater.eof:
        raise zipfile.BadZipFile("deflate stream cut short")
    if size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile("size or CRC differs")
    return b"".join(out)


def _sheet_lookup(names: list[str]) -> dict[str, str]:
    """canonical sheet name -> actual sheet name (tolerating spaces and width variants)."""
    found: dict[str, str] = {}
    keys = {s.name: {header_key(a) for a in (s.name, *SHEET_ALIASES.get(s.name, ()))} for s in SHEETS}
    # Exact names first, so that a sheet called 協議会 wins over one called 連絡協議会.
    for exact in (True, False):
        for actual in names:
            k = header_key(actual)
            for canon, aliases in keys.items():
                hit = k == header_key(canon) if exact else k in aliases
                if hit and canon not in found and actual not in found.values():
                    found[canon] = actual
    return found


def _rows(ws) -> list[tuple]:
    """Every row of a read-only worksheet as a tuple of values, row 1 first (gaps as empty rows)."""
    if _plain_xml_part(ws):
        try:
            return _rows_fast(ws)
        except SheetTooLarge:
            raise
        except BAD_WORKBOOK:  # anything unusual: openpyxl's own parser decides, and raises what it raises
            pass
    ws.reset_dimensions()  # files written by other tools often carry a wrong <dimension>
    out, held = [], 0
    for r in ws.iter_rows(min_row=1, values_only=True):
        row = _trimmed(r)
        held += len(row) + 1
        if held > MAX_SHEET_CELLS:
            raise SheetTooLarge
        out.append(row)
    return out


class SheetTooLarge(Exception):
    """A sheet whose rows reach further than any clerk's: refused before it costs gigabytes."""


def _trimmed(row) -> tuple:
    """A row up to its last cell with a value: an empty cell in column XFD costs nothing."""
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return tuple(row[:end])


def _plain_xml_part(ws) -> bool:
    """A worksheet part _check_container has scanned for DTDs and entities: named .xml, in an ASCII-compatible
    encoding (a UTF-16 part would hide "<!DOCTYPE" from a byte search)."""
    path = private.part_name(ws)
    if not path.endswith(".xml"):
        return False
    with private.source(ws) as src:
        head = src.read(4)
    return b"\x00" not in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _rows_fast(ws) -> list[tuple]:
    """What _rows gets from openpyxl (ws.iter_rows(values_only=True) without <dimension>), twice as fast.

    openpyxl parses worksheets with defusedxml's iterparse, whose parser runs in Python for every element;
    the part has already been refused if it declares a DTD or entities (_check_container), so the standard
    library's C parser reads it here. The loop is openpyxl's WorkSheetParser.parse, and openpyxl's own
    parse_row turns each row into values, so the values are exactly openpyxl's; the rows are assembled as
    ReadOnlyWorksheet._cells_by_row and _get_row do.
    """
    wb = ws.parent
    out: list[tuple] = []
    _reader = private.reader
    with private.source(ws) as src:
        parser = private.row_parser(ws, src)
        dispatcher = {
            _reader.COL_TAG: parser.parse_column_dimensions,
            _reader.PROT_TAG: parser.parse_sheet_protection,
            _reader.EXT_TAG: parser.parse_extensions,
            _reader.CF_TAG: parser.parse_formatting,
            _reader.LEGACY_TAG: parser.parse_legacy,
            _reader.ROW_BREAK_TAG: parser.parse_row_breaks,
            _reader.COL_BREAK_TAG: parser.parse_col_breaks,
            _reader.CUSTOM_VIEWS_TAG: parser.parse_custom_views,
        }
        properties = {
            _reader.PRINT_TAG: ("print_options", _reader.PrintOptions),
            _reader.MARGINS_TAG: ("page_margins", _reader.PageMargins),
            _reader.PAGE_TAG: ("page_setup", _reader.PrintPageSetup),
            _reader.HEADER_TAG: ("HeaderFooter", _reader.HeaderFooter),
            _reader.FILTER_TAG: ("auto_filter", _reader.AutoFilter),
            _reader.VALIDATION_TAG: ("data_validations", _reader.DataValidationList),
            _reader.PROPERTIES_TAG: ("sheet_properties", _reader.WorksheetProperties),
            _reader.VIEWS_TAG: ("views", _reader.SheetViewList),
            _reader.FORMAT_TAG: ("sheet_format", _reader.SheetFormatProperties),
            _reader.SCENARIOS_TAG: ("scenarios", _reader.ScenarioList),
            _reader.TABLE_TAG: ("tables", _reader.TablePartList),
            _reader.HYPERLINK_TAG: ("hyperlinks", _reader.HyperlinkList),
            _reader.MERGE_TAG: ("merged_cells", _reader.MergeCells),
        }
        row_tag = _reader.ROW_TAG
        counter = 1
        held = 0  # cells held so far (each row also counts one)
        fast = _CellValues(parser) if wb.data_only else None
        for _, element in ElementTree.iterparse(src):
            tag = element.tag
            if tag == row_tag:
                idx, cells = (fast.row(element) if fast else None) or _openpyxl_row(parser, element)
                element.clear()
                width = max((column for column, value in cells if value is not None), default=0)
                held += width + max(0, idx - counter) + 1
                if held > MAX_SHEET_CELLS:
                    raise SheetTooLarge
                while counter < idx:  # rows missing from the XML
                    out.append(())
                    counter += 1
                if counter <= idx:
                    values = [None] * width
                    for column, value in cells:
                        if 1 <= column <= len(values):
                            values[column - 1] = value
                    out.append(tuple(values))
                    counter += 1
            elif tag in dispatcher:
                dispatcher[tag](element)
                element.clear()
            elif tag in properties:
                name, kind = properties[tag]
                setattr(parser, name, kind.from_tree(element))
                element.clear()
    return out


def _openpyxl_row(parser, element) -> tuple[int, list[tuple[int, object]]]:
    idx, cells = parser.parse_row(element)
    return idx, [(c["column"], c["value"]) for c in cells]


_CELL = f"{{{private.reader.SHEET_MAIN_NS}}}c"
_V = private.reader.VALUE_TAG
_IS = private.reader.INLINE_STRING
_T = f"{{{private.reader.SHEET_MAIN_NS}}}t"
_R = f"{{{private.reader.SHEET_MAIN_NS}}}r"
_CELL_ADDRESS = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")


class _CellValues:
    """openpyxl's parse_row and parse_cell (data_only) for the cells Excel writes, without a dict per cell.

    A row with anything else in it (a cell without an address, a rich inline string, a style id that is not
    a number) returns None, and openpyxl's own parse_row reads it: the values are openpyxl's either way.
    """

    def __init__(self, parser):
        self.parser = parser
        self.columns: dict[str, int] = {}

    def row(self, element) -> tuple[int, list[tuple[int, object]]] | None:
        p = self.parser
        r = element.get("r")
        if r is None or not r.isdigit():
            return None
        idx = int(r)
        cells = []
        columns = self.columns
        for c in element:
            if c.tag != _CELL:
                return None
            m = _CELL_ADDRESS.fullmatch(c.get("r") or "")
            if m is None or int(m[2]) != idx:
                return None
            column = columns.get(m[1])
            if column is None:
                column = columns[m[1]] = column_index_from_string(m[1])
            kind = c.get("t", "n")
            if kind == "inlineStr":
                value = self._inline(c)
                if value is _UNUSUAL:
                    return None
            else:
                value = c.findtext(_V, None) or None
                if value is not None:
                    if kind == "n":
                        style = c.get("s")
                        if style is not None and not style.isdigit():
                            return None
                        value = private.reader._cast_number(value)
                        if style and (style := int(style)) in p.date_formats:
                            try:
                                value = private.reader.from_excel(
                                    value, p.epoch, timedelta=style in p.timedelta_formats
                                )
                            except (OverflowError, ValueError):
                                return None  # openpyxl warns and reads "#VALUE!"
                    elif kind == "s":
                        value = p.shared_strings[int(value)]
                    elif kind == "b":
                        value = bool(int(value))
                    elif kind not in ("str", "e"):
                        return None
            cells.append((column, value))
        p.row_counter, p.col_counter = idx, cells[-1][0] if cells else 0
        return idx, cells

    @staticmethod
    def _inline(c) -> object:
        child = c.find(_IS)
        if child is None:
            return None
        if len(child) == 1 and child[0].tag == _T and not child[0].attrib.keys() - {_XML_SPACE}:
            return child[0].text or ""
        return _UNUSUAL


_UNUSUAL = object()
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?ref="([A-Z]{1,3}[0-9]+(?::[A-Z]{1,3}[0-9]+)?)"')
_HEAD = 64 * 1024


def _size_from_head(ws) -> None:
    """ReadOnlyWorksheet._get_size without parsing the whole sheet: openpyxl iterparses until the end of
    <sheetData> when a sheet has no <dimension> (files written by tools other than Excel), with the Python
    parser, for every sheet at load time: seconds for a large sheet, for a value nothing here uses."""
    with private.source(ws) as src:
        head = src.read(_HEAD)
    m = _DIMENSION.search(head.split(b"<sheetData", 1)[0].split(b":sheetData", 1)[0])
    if m is not None:
        try:
            private.set_size(ws, range_boundaries(m[1].decode()))
        except (ValueError, TypeError):
            pass  # an unusable <dimension>: none, as openpyxl leaves it; _rows never relies on it


# What openpyxl raises for a damaged or unusual workbook (a zip member missing, XML that does not parse, a
# value of the wrong kind). TypeError, AttributeError and NotImplementedError count only when openpyxl itself raised them
# (_ours_unless_openpyxl): from this package's code they are bugs of ours, logged as internal errors and
# never reported as a workbook to re-save in Excel.
BAD_WORKBOOK = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    ValueError,  # UnicodeDecodeError, defusedxml's refusals, openpyxl's own checks
    IndexError,
    EOFError,
    OSError,
    ElementTree.ParseError,
    etree.XMLSyntaxError,
    ArithmeticError,  # a number or date out of range
    InvalidFileException,
    CellCoordinatesException,
    IllegalCharacterError,
    TypeError,
    AttributeError,
    NotImplementedError,
)
_OPENPYXL_DIR = str(Path(openpyxl_package.__file__).parent)


def _ours_unless_openpyxl(e: BaseException) -> None:
    """Re-raise a TypeError or AttributeError that was not raised inside openpyxl (a bug of ours)."""
    if not isinstance(e, (TypeError, AttributeError, NotImplementedError)):
        return
    tb, last = e.__traceback__, None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None or not last.tb_frame.f_code.co_filename.startswith(_OPENPYXL_DIR):
        raise e


def _sizes_from_the_head():
    return private.sizes_from(_size_from_head)


def read_workbook(path: Path, *, only: tuple[str, ...] | None = None) -> RawBook:
    """Read every contract sheet of a workbook. Raises WorkbookUnreadable only when nothing can be read."""
    with warnings.catch_warnings():
        # openpyxl warns about extensions it drops (slicers, some validations): nothing a clerk can act on.
        warnings.simplefilter("ignore")
        return _read_workbook(path, only)


def _read_workbook(path: Path, only: tuple[str, ...] | None) -> RawBook:
    from pipeline.reading import read_xls  # .xls (xlrd) and the formats that are not a workbook, named by their content

    kind = read_xls.sniff(path)
    if kind == "xls":
        try:
            wb = read_xls.open_xls(path)  # the rows openpyxl would give: read on as an .xlsx below
        except read_xls.XlsUnreadable as e:
            raise _unreadable(path, str(e)) from None
        box = Container(merges={private.part_name(ws): ws.merges for ws in wb.sheets.values()})
    elif kind is not None:
        raise _unreadable(path, kind)
    else:
        box = _check_container(path)
    try:
        if kind is None:
            with _sizes_from_the_head():
                wb = load_workbook(path, read_only=True, data_only=True)
    except BAD_WORKBOOK as e:
        _ours_unless_openpyxl(e)
        raise _unreadable(
            path, f"Excelブックとして読み込めません（{type(e).__name__}）。Excelで開いて保存し直してください。"
        ) from None
    formula_wb = None
    try:
        if box.has_formula:
            with _sizes_from_the_head():
                formula_wb = load_workbook(path, read_only=True, data_only=False)
        if box.shared_strings is not None:
            _use_shared_strings(wb, box.shared_strings)
        date1904 = wb.epoch.year == 1904  # <workbookPr date1904="1"/>
        book = RawBook(path)
        lookup = _sheet_lookup(wb.sheetnames)
        for spec in SHEETS:
            if only is not None and spec.name not in only:
                continue
            actual = lookup.get(spec.name)
            if actual is None:
                if spec.required:
                    book.findings.append(
                        make_finding(
                            "sheet-missing",
                            f"シート「{spec.name}」がありません。シートを追加してください"
                            f"（`python -m pipeline template` で作る雛形にすべてのシートがあります）。",
                            sheet=spec.name,
                        )
                    )
                    book.blocked = True
                continue
            try:
                rows = _rows(wb[actual])
                frows = _rows(formula_wb[actual]) if formula_wb is not None else None
            except SheetTooLarge:
                raise _unreadable(
                    path,
                    f"シート「{actual}」のデータの範囲が広すぎます（右端の列や下端の行まで値や書式が入っています）。"
                    "使っていない行と列を削除して保存し直してください。",
                ) from None
            except BAD_WORKBOOK as e:
                _ours_unless_openpyxl(e)
                raise _unreadable(path, f"シート「{actual}」を読み込めません（{type(e).__name__}）。") from None
            part = private.part_name(wb[actual])
            _decode_inline(rows, box.inline_escaped.get(part, set()))
            bad_cells = _formula_cells(rows, frows)
            _fill_merged(rows, box.merges.get(part, []))
            if spec.key_value:
                book.tables[spec.name] = _key_value_table(spec, actual, rows)
            else:
                table, missing = _record_table(spec, actual, rows)
                book.tables[spec.name] = table
                for col in missing:
                    book.findings.append(
                        make_finding(
                            "column-missing",
                            f"シート「{actual}」に必須の列「{col}」がありません。見出し行に列を追加してください。",
                            sheet=actual,
                            column=col,
                        )
                    )
                    book.blocked = True
            table = book.tables[spec.name]
            if date1904:
                _from_1904(table)
            book.findings += _weekday_findings(table)
            for r, cell, header in table.typed_over:
                book.findings.append(
                    make_finding(
                        "example-row",
                        f"{r}行目には雛形の「{EXAMPLE_MARK}」の印がありますが、記入例と違う値が入っているので記録として読みました。"
                        f"記録なら、セル{cell}の「{EXAMPLE_MARK}」の印を消してください。",
                        sheet=actual,
                        row=r,
                        column=header,
                        cell=cell,
                    )
                )
            by_letter = {v: k for k, v in table.letters.items()}
            for r, c, reason in bad_cells:
                cell = f"{get_column_letter(c)}{r}"
                column = by_letter.get(get_column_letter(c))
                what = f"「{column}」の" if column else ""
                book.findings.append(
                    make_finding(
                        "formula-no-value", f"{what}セル{cell}: {reason}", sheet=actual, row=r, column=column, cell=cell
                    )
                )
        return book
    finally:
        wb.close()
        if formula_wb is not None:
            formula_wb.close()


_SST_ROOT = re.compile(rb"<(?:\w+:)?sst\b")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c\s([^>]*)>")
_CELL_REF = re.compile(rb"""\br\s*=\s*["']([A-Z]+)(\d+)["']""")
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _shared_strings_part(content_types: bytes) -> str | None:
    """The shared string table's part name, as [Content_Types].xml declares it (openpyxl reads that one)."""
    for m in re.finditer(rb"<(?:\w+:)?Override\b[^>]*>", content_types):
        if SST_TYPE in m[0] and (name := re.search(rb"""PartName\s*=\s*["']/?([^"']+)["']""", m[0])):
            return name[1].decode("utf-8", "replace")
    return None


def _shared_strings(data: bytes) -> list[str] | None:
    """Every <si> as Excel shows it: plain text or its runs (phonetic rPh runs left out), escapes decoded."""
    try:
        root = SafeElementTree.fromstring(data)
    except (ElementTree.ParseError, ValueError):  # openpyxl will report the damaged part (defusedxml's are ValueErrors)
        return None
    out = []
    for si in root.iter(f"{_MAIN_NS}si"):
        parts = [si.findtext(f"{_MAIN_NS}t") or ""]
        parts += [r.findtext(f"{_MAIN_NS}t") or "" for r in si.findall(f"{_MAIN_NS}r")]
        out.append(decode_excel_escapes("".join(parts)))
    return out


def _use_shared_strings(wb, strings: list[str]) -> None:
    """Put the decoded table in place of openpyxl's, which keeps _x000D_ as text and drops every "x005F_".

    Read-only worksheets share one list object; it is replaced in place only if it has the same length.
    """
    for ws in wb.worksheets:
        shared = private.shared_strings(ws)
        if isinstance(shared, list):
            if len(shared) == len(strings):
                shared[:] = strings
            return


def _inline_cells(sheet_xml: bytes) -> set[tuple[int, int]]:
    """(row, col) of the inline-string cells of a sheet (openpyxl returns their text undecoded)."""
    out = set()
    for m in _CELL_TAG.finditer(sheet_xml):
        if b"inlineStr" in m[1] and (ref := _CELL_REF.search(m[1])):
            out.add((int(ref[2]), column_index_from_string(ref[1].decode())))
    return out


def _decode_inline(rows: list[tuple], cells: set[tuple[int, int]]) -> None:
    for r, c in cells:
        if r <= len(rows) and c <= len(rows[r - 1]) and isinstance(rows[r - 1][c - 1], str):
            row = list(rows[r - 1])
            row[c - 1] = decode_excel_escapes(row[c - 1])
            rows[r - 1] = tuple(row)


def _date_columns(table: RawTable) -> list[str]:
    return [c.name for c in table.spec.columns if c.kind == "date" and c.name in table.frame.columns]


def _from_1904(table: RawTable) -> None:
    """A 1904-system workbook: numeric serials in date columns counted from 1904-01-01, as Excel shows them.

    openpyxl converts cells whose format it knows as a date with the workbook's epoch, but Excel's
    built-in Japanese formats (numFmtId 27-36, 50-58) arrive as plain numbers. A year typed alone stays a
    number so that parse_date can say so.
    """
    for col in _date_columns(table):
        values = []
        for v in table.frame[col]:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not is_year_alone(v) and -1e9 < v < 1e9:
                v = serial_to_date(float(v), date1904=True) or v
            values.append(v)
        table.frame[col] = pd.Series(values, index=table.frame.index, dtype=object)


def _weekday_findings(table: RawTable) -> list[Finding]:
    """weekday-mismatch: a text date whose written weekday is not that day's (the date is still read)."""
    out = []
    for col in _date_columns(table):
        for row, v in table.frame[col].items():
            hit = weekday_mismatch(v)
            if hit is None:
                continue
            d, written, real = hit
            out.append(
                make_finding(
                    "weekday-mismatch",
                    f"「{col}」の「{v}」: {_ymd(d)}は{real}曜日で、書かれた曜日（{written}）と合いません。"
                    f"{_ymd(d)}として読みました。日付と曜日のどちらが正しいか確かめて直してください。",
                    sheet=table.sheet,
                    row=table.excel_row(col, row),
                    column=col,
                    cell=table.cell(col, row),
                )
            )
    return out


def _ymd(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


_ROOT_TAG = re.compile(rb"<(?![?!])([^\s>/]+)[^>]*>")
_MERGE_REF = re.compile(r"^([A-Z]{1,3})([0-9]+):([A-Z]{1,3})([0-9]+)$")
_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _merged_ranges(sheet_xml: bytes) -> list[tuple[int, int, int, int]]:
    """Merged ranges of one sheet's XML as (min_row, min_col, max_row, max_col).

    <mergeCells> follows <sheetData>: the root's start tag and what follows the rows are parsed with lxml
    (any prefix, quotes or whitespace), the rows themselves are not (a large sheet is tens of MB).
    """
    if b"mergeCell" not in sheet_xml:
        return []
    root = _ROOT_TAG.search(sheet_xml)
    if root is None:
        return []
    prefix = root[1][: root[1].rfind(b":") + 1]
    ends = list(
        re.finditer(
            rb"</" + re.escape(prefix) + rb"sheetData\s*>|<" + re.escape(prefix) + rb"sheetData\b[^>]*/>", sheet_xml
        )
    )
    tail = sheet_xml[ends[-1].end() :] if ends else sheet_xml[root.end() :]
    try:
        tree = etree.fromstring(root[0] + tail, _XML)
    except etree.XMLSyntaxError:
        return []  # openpyxl reports the damaged part
    out = []
    for mc in tree.iter(f"{_MAIN_NS}mergeCell"):
        m = _MERGE_REF.match((mc.get("ref") or "").strip().replace("$", ""))
        if m:
            c1, r1, c2, r2 = m.groups()
            out.append((int(r1), column_index_from_string(c1), int(r2), column_index_from_string(c2)))
    return out


def _fill_merged(rows: list[tuple], ranges: list[tuple[int, int, int, int]]) -> None:
    """Clerks merge cells (one 協議会ID beside many members): every cell of a range reads as its anchor.

    The cost stays in proportion to the cells the sheet holds: a range is cut at the widest row (the cells
    beyond hold nothing, and no header can be there), and ranges that together cover more cells than the
    sheet has overlap, which Excel never writes: the first ones are filled, the rest ignored.
    """
    widest = max(map(len, rows), default=0)
    budget = len(rows) * widest
    for r1, c1, r2, c2 in ranges:
        c2 = min(c2, widest)
        r2 = min(r2, len(rows))
        if r1 > len(rows) or c1 > c2 or r1 > r2 or (r2 - r1 + 1) * (c2 - c1 + 1) > 100_000:
            continue
        budget -= (r2 - r1 + 1) * (c2 - c1 + 1)
        if budget < 0:
            break
        anchor = rows[r1 - 1][c1 - 1] if c1 <= len(rows[r1 - 1]) else None
        if anchor is None:
            continue
        for r in range(r1, min(r2, len(rows)) + 1):
            row = list(rows[r - 1])
            if len(row) < c2:
                row += [None] * (c2 - len(row))
            for c in range(c1, c2 + 1):
                row[c - 1] = anchor
            rows[r - 1] = tuple(row)


def _formula_cells(rows: list[tuple], frows: list[tuple] | None) -> list[tuple[int, int, str]]:
    """Formula cells without a cached value, and Excel error values: reported, then read as blanks."""
    out = []
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            reason = None
            if v is None and frows is not None and r <= len(frows) and c <= len(frows[r - 1]):
                f = frows[r - 1][c - 1]
                if isinstance(f, str) and f.startswith("="):
                    reason = "数式の計算結果が保存されていません。Excelで開いて保存し直してください。"
            elif isinstance(v, str) and v.strip() in EXCEL_ERRORS:
                reason = f"数式がエラー値（{v.strip()}）になっています。数式を直すか値を入力してください。"
            if reason:
                out.append((r, c, reason))
                if v is not None:
                    lst = list(rows[r - 1])
                    lst[c - 1] = None
                    rows[r - 1] = tuple(lst)
    return out


def _key_value_table(spec: SheetSpec, sheet: str, rows: list[tuple]) -> RawTable:
    """署: 項目 in column A and 値 in column B; or, as some clerks lay it out, 項目 across one header row."""
    amap = alias_map(spec)
    values: dict[str, object] = {}
    index: dict[str, int] = {}
    letters: dict[str, str] = {}
    down = sum(1 for row in rows if row and not is_blank(row[0]) and header_key(row[0]) in amap)
    across = max((sum(1 for v in row if not is_blank(v) and header_key(v) in amap) for row in rows), default=0)
    laid_across = across >= 2 and across > down
    for r, row in enumerate([] if laid_across else rows, start=1):
        if not row or is_blank(row[0]):
            continue
        canon = amap.get(header_key(row[0]))
        if canon and canon not in values:
            values[canon] = row[1] if len(row) > 1 else None
            index[canon], letters[canon] = r, "B"
    if not values:
        table, _ = _record_table(spec, sheet, rows)
        if len(table.frame):
            first = int(table.frame.index[0])
            for k in table.frame.columns:
                values[k] = table.frame.at[first, k]
                index[k], letters[k] = first, table.letters[k]
        elif table.header_row is not None:
            # Headers but no values yet: point at the cells under them.
            for k, letter in table.letters.items():
                values[k] = None
                index[k], letters[k] = table.header_row + 1, letter
    # A one-row frame; kv_rows and letters keep each value's own cell.
    frame = pd.DataFrame({k: [values.get(k)] for k in values}, index=pd.Index([0], name="row"), dtype=object)
    return RawTable(spec, sheet, frame, letters, kv_rows=index)


def _forward_filled(row: tuple, width: int) -> list[str]:
    """A header row with merged cells: openpyxl gives the value in the first cell only (and may stop there)."""
    out, last = [], ""
    for i in range(width):
        v = row[i] if i < len(row) else None
        last = str(v) if not is_blank(v) else last
        out.append(last)
    return out


def _record_table(spec: SheetSpec, sheet: str, rows: list[tuple]) -> tuple[RawTable, list[str]]:
    amap = alias_map(spec)
    best_row, best_map = None, {}
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS], start=1):
        above = _forward_filled(rows[r - 2], len(row)) if r > 1 else []
        mapping: dict[int, str] = {}
        for c, v in enumerate(row):
            if is_blank(v):
                continue
            canon = amap.get(header_key(v))
            if canon is None and c < len(above) and above[c]:
                # Two-row headers: 運営責任者 merged above 職名 | 階級 | 氏名.
                canon = amap.get(header_key(f"{above[c]}{v}"))
            if canon and canon not in mapping.values():
                mapping[c] = canon
        if len(mapping) > len(best_map):
            best_row, best_map = r, mapping
    if len(best_map) < min(2, len(spec.columns)):
        best_row, best_map = None, {}
    data_start = best_row + 1 if best_row is not None else None
    if best_row is not None and best_row < len(rows):
        # Two-row headers the other way round: 運営責任者 (merged) on the header row, 職名 | 階級 | 氏名 below.
        above = _forward_filled(rows[best_row - 1], len(rows[best_row]))
        extra = {}
        for c, v in enumerate(rows[best_row]):
            if c in best_map or is_blank(v) or not above[c]:
                continue
            canon = amap.get(header_key(f"{above[c]}{v}"))
            if canon and canon not in best_map.values() and canon not in extra.values():
                extra[c] = canon
        if extra:
            best_map |= extra
            data_start = best_row + 2
    present = set(best_map.values())
    missing = [c.name for c in spec.columns if c.needed and c.name not in present]
    if spec.name == "委員" and best_row is not None and not ({"生年月日", "年齢"} & present):
        missing.append("生年月日または年齢")
    letters = {canon: get_column_letter(c + 1) for c, canon in best_map.items()}
    records: list[dict] = []
    index: list[int] = []
    typed_over: list[tuple[int, str, str | None]] = []
    if data_start is not None:
        for r in range(data_start, len(rows) + 1):
            row = rows[r - 1]
            mark = next((c for c, v in enumerate(row) if isinstance(v, str) and v.strip() == EXAMPLE_MARK), None)
            rec = {canon: (row[c] if c < len(row) else None) for c, canon in best_map.items()}
            if mark is not None:
                if _still_the_example(rec, EXAMPLES.get(spec.name, {})):
                    continue  # the 記入例 row of the blank template, as it was
                head = rows[best_row - 1][mark] if best_row and mark < len(rows[best_row - 1]) else None
                header = None if is_blank(head) else str(head).strip()
                typed_over.append((r, f"{get_column_letter(mark + 1)}{r}", header))  # typed over: a record after all
            if all(is_blank(v) for v in rec.values()):
                continue
            records.append(rec)
            index.append(r)
    cols = [c.name for c in spec.columns if c.name in present]
    frame = pd.DataFrame(records, index=pd.Index(index, name="row", dtype="int64"), columns=cols, dtype=object)
    return RawTable(spec, sheet, frame, letters, best_row, typed_over=typed_over), missing


def _plain(v: object) -> object:
    """A value as the template wrote it, for comparing a 記入例 row with the template's example."""
    if is_blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date() if v.time() == dt.time() else v.time() if v.date() == dt.date(1899, 12, 30) else v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v.strip() if isinstance(v, str) else v


def _still_the_example(rec: dict, example: dict) -> bool:
    """True while no cell of the row holds anything but the template's 記入例 value (or is emptied)."""
    return all(_plain(v) in (None, EXAMPLE_MARK, _plain(example.get(canon))) for canon, v in rec.items())
