"""A small .xlsx part editor: cell styles, legacy comments and new sheets without loading every cell."""

from pipeline.ooxml.xlsx_edit.book import Book, NewSheet
from pipeline.ooxml.xlsx_edit.comments import VML_HEAD, VML_NOTE_TYPE, Comments
from pipeline.ooxml.xlsx_edit.parts import (
    COPY_INPUT_ERRORS,
    CT_NS,
    CT_SST,
    NS,
    PKG_NS,
    R_NS,
    REL,
    REL_COMMENTS,
    REL_SST,
    REL_STYLES,
    REL_THREADED,
    REL_WORKSHEET,
    CopyMalformed,
    XlsxEditError,
    parse,
    q,
    unxstring,
)
from pipeline.ooxml.xlsx_edit.styles import FONT_ORDER, Styles, cell_style, set_cell_style

__all__ = [
    "COPY_INPUT_ERRORS",
    "CT_NS",
    "CT_SST",
    "FONT_ORDER",
    "NS",
    "PKG_NS",
    "REL",
    "REL_COMMENTS",
    "REL_SST",
    "REL_STYLES",
    "REL_THREADED",
    "REL_WORKSHEET",
    "R_NS",
    "VML_HEAD",
    "VML_NOTE_TYPE",
    "Book",
    "Comments",
    "CopyMalformed",
    "NewSheet",
    "Styles",
    "XlsxEditError",
    "cell_style",
    "parse",
    "q",
    "set_cell_style",
    "unxstring",
]
