"""The private names of openpyxl the reader relies on, in one place, checked when the reader is first needed.

read.py reads worksheets with openpyxl's own row parser (WorkSheetParser) over the C XML parser, and sizes
sheets from their first bytes instead of openpyxl's full parse (ReadOnlyWorksheet._get_size). Those names are
not openpyxl's public API: a release may rename them. pyproject.toml bounds openpyxl to the versions checked
(SUPPORTED); should an installation still lack one of the names, every valid workbook would otherwise fail
to read, so the check below stops the run with exit 2 and says what to reinstall, instead of blaming the
clerk's workbooks.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable, Iterator

from pipeline.core.errors import InstallationProblem

try:
    import openpyxl
    from openpyxl import Workbook, load_workbook
    from openpyxl.worksheet import _reader as reader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
except ImportError as e:  # a module renamed or moved in another release
    raise InstallationProblem(
        f"インストールに問題があります: openpyxl を読み込めません（{e}）。入力ブックの問題ではありません。"
        '対応する版を入れ直してください（pip install "openpyxl>=3.1,<3.2"、または pip install -c constraints.txt .）。'
    ) from None

SUPPORTED = ">=3.1,<3.2"  # as pyproject.toml pins it

READER_NAMES = (
    "WorkSheetParser", "SHEET_MAIN_NS", "ROW_TAG", "VALUE_TAG", "INLINE_STRING", "COL_TAG", "PROT_TAG",
    "EXT_TAG", "CF_TAG", "LEGACY_TAG", "ROW_BREAK_TAG", "COL_BREAK_TAG", "CUSTOM_VIEWS_TAG", "PRINT_TAG",
    "MARGINS_TAG", "PAGE_TAG", "HEADER_TAG", "FILTER_TAG", "VALIDATION_TAG", "PROPERTIES_TAG", "VIEWS_TAG",
    "FORMAT_TAG", "SCENARIOS_TAG", "TABLE_TAG", "HYPERLINK_TAG", "MERGE_TAG", "PrintOptions", "PageMargins",
    "PrintPageSetup", "HeaderFooter", "AutoFilter", "DataValidationList", "WorksheetProperties",
    "SheetViewList", "SheetFormatProperties", "ScenarioList", "TablePartList", "HyperlinkList", "MergeCells",
    "_cast_number", "from_excel",
)  # fmt: skip
PARSER_METHODS = (
    "parse_row", "parse_column_dimensions", "parse_sheet_protection", "parse_extensions", "parse_formatting",
    "parse_legacy", "parse_row_breaks", "parse_col_breaks", "parse_custom_views",
)  # fmt: skip
PARSER_FIELDS = ("epoch", "date_formats", "timedelta_formats", "shared_strings", "row_counter", "col_counter")
SHEET_METHODS = ("_get_size", "_get_source")
SHEET_FIELDS = ("_worksheet_path", "_shared_strings", "_min_column", "_min_row", "_max_column", "_max_row")
BOOK_FIELDS = ("_date_formats", "_timedelta_formats")


def missing() -> list[str]:
    """The private names this openpyxl lacks (empty when it is one the reader works with)."""
    gone = [f"openpyxl.worksheet._reader.{n}" for n in READER_NAMES if not hasattr(reader, n)]
    parser_class = getattr(reader, "WorkSheetParser", None)
    gone += [f"WorkSheetParser.{n}" for n in PARSER_METHODS if not hasattr(parser_class, n)]
    gone += [f"ReadOnlyWorksheet.{n}" for n in SHEET_METHODS if not hasattr(ReadOnlyWorksheet, n)]
    if gone:
        return gone
    # The instance attributes: on a one-cell workbook read as the reader reads one (a few milliseconds).
    buf = io.BytesIO()
    wb = Workbook()
    wb.active["A1"] = 1
    wb.save(buf)
    buf.seek(0)
    try:
        book = load_workbook(buf, read_only=True, data_only=True)
        ws = book.worksheets[0]
        gone += [f"Workbook.{n}" for n in BOOK_FIELDS if not hasattr(book, n)]
        gone += [f"ReadOnlyWorksheet.{n}" for n in SHEET_FIELDS if not hasattr(ws, n)]
        if not gone:
            with ws._get_source() as src:
                parser = reader.WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=book.epoch)
                gone += [f"WorkSheetParser.{n}" for n in PARSER_FIELDS if not hasattr(parser, n)]
        book.close()
    except (AttributeError, TypeError) as e:
        gone.append(f"({type(e).__name__}: {e})")
    return gone


def check() -> None:
    """Raise InstallationProblem naming what is missing, in Japanese."""
    gone = missing()
    if gone:
        raise InstallationProblem(
            f"インストールに問題があります: openpyxl {openpyxl.__version__} には、このプログラムが使う内部の名前"
            f"（{'、'.join(gone[:5])}{' ほか' if len(gone) > 5 else ''}）がありません。入力ブックの問題ではありません。"
            f'対応する版を入れ直してください（pip install "openpyxl{SUPPORTED}"、または pip install -c constraints.txt .）。'
        )


# -- the names, for read.py ---------------------------------------------------------------------------
def source(ws):
    """The worksheet part's XML, as a file object (openpyxl's private _get_source)."""
    return ws._get_source()


def part_name(ws) -> str:
    return getattr(ws, "_worksheet_path", "")


def shared_strings(ws) -> list | None:
    return getattr(ws, "_shared_strings", None)


def set_size(ws, bounds: tuple[int, int, int, int]) -> None:
    ws._min_column, ws._min_row, ws._max_column, ws._max_row = bounds


def row_parser(ws, src):
    """openpyxl's own worksheet parser over src, set up as a read-only worksheet sets it up."""
    wb = ws.parent
    return reader.WorkSheetParser(
        src,
        ws._shared_strings,
        data_only=wb.data_only,
        epoch=wb.epoch,
        date_formats=wb._date_formats,
        timedelta_formats=wb._timedelta_formats,
    )


_PATCH = threading.Lock()  # the patch is class-wide: one load at a time while it is in place


@contextlib.contextmanager
def sizes_from(size: Callable[[ReadOnlyWorksheet], None]) -> Iterator[None]:
    """Worksheets sized by `size` instead of openpyxl's full parse, while loading a workbook."""
    with _PATCH:
        real = ReadOnlyWorksheet._get_size
        ReadOnlyWorksheet._get_size = size
        try:
            yield
        finally:
            ReadOnlyWorksheet._get_size = real


check()  # when the reader is first imported: a run stops at once, before any workbook is called unreadable
