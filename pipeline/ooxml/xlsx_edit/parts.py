"""Package plumbing: namespaces, part and content types, XML in and out, cell addresses, .rels parts, errors."""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from pipeline.ooxml.xlsx_edit.book import Book


NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
REL_WORKSHEET = REL + "worksheet"
REL_STYLES = REL + "styles"
REL_SST = REL + "sharedStrings"
REL_COMMENTS = REL + "comments"
REL_VML = REL + "vmlDrawing"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
MS_REL = "http://schemas.microsoft.com/office/2006/relationships/"
# Excel 4.0 (XLM) macro sheets: code that Excel runs from a hidden sheet, named by Auto_Open and the like.
MACRO_SHEET_KINDS = {"xlMacrosheet", "xlIntlMacrosheet", "macrosheet", "intlMacrosheet"}
REL_CONTROL = REL + "control"  # an ActiveX control of a worksheet (xl/activeX/activeXN.xml and its .bin)

MACRO_CONTENT_TYPES = (
    "application/vnd.ms-office.vbaProject",
    "application/vnd.ms-office.activeX",
    "application/vnd.ms-excel.macrosheet",
    "application/vnd.ms-excel.intlmacrosheet",
)
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_SST = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
# Excel 365's threaded comments: a thread per cell, its people in a workbook-wide person list.
REL_THREADED = "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"
REL_PERSON = "http://schemas.microsoft.com/office/2017/10/relationships/person"
TC_NS = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
CT_PERSON = "application/vnd.ms-excel.person+xml"
CT_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

# Entities are never expanded and nothing is fetched; huge_tree stays off (lxml's depth and text-size limits
# guard against bombs), which is affordable because the large sheets are never parsed whole (Worksheet).
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")


class CopyMalformed(Exception):
    """A part this editor rewrote does not parse: a bug of ours, never saved (the run logs it)."""


class _NoTree:
    def close(self) -> None:
        return None


_FEED = 1 << 20


class WellFormed:
    """Parses a part piece by piece as it is written, building no tree (a large sheet costs no memory)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.xml = name.endswith((".xml", ".rels", ".vml"))
        self.parser = (
            etree.XMLParser(target=_NoTree(), resolve_entities=False, no_network=True, load_dtd=False)
            if self.xml
            else None
        )

    def feed(self, piece: bytes | memoryview) -> None:
        if self.parser is None:
            return
        view = memoryview(piece)
        try:
            for i in range(0, len(view), _FEED):  # a large run of untouched rows is a view: copied a slice at a time
                self.parser.feed(bytes(view[i : i + _FEED]))
        except etree.XMLSyntaxError as e:
            raise CopyMalformed(f"{self.name}: {e}") from None

    def close(self) -> None:
        if self.parser is not None:
            try:
                self.parser.close()
            except etree.XMLSyntaxError as e:
                raise CopyMalformed(f"{self.name}: {e}") from None


class XlsxEditError(Exception):
    """The workbook has something this editor does not handle (a missing part, strict OOXML, ...)."""


# What a workbook the reader accepted can still make the copy fail on: a part this editor does not handle,
# XML that does not parse, a zip member missing or damaged. Anything else is a bug of ours (logged).
COPY_INPUT_ERRORS = (
    XlsxEditError,
    etree.XMLSyntaxError,
    zipfile.BadZipFile,
    KeyError,
    UnicodeDecodeError,
    EOFError,
    zlib.error,
)


def q(tag: str, ns: str = NS) -> str:
    return f"{{{ns}}}{tag}"


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, PARSER)


def serialize(root: etree._Element) -> bytes:
    return DECL + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def xstring(text: str) -> str:
    """Text as ST_Xstring: a literal '_x0041_' escaped, characters XML cannot carry as _xHHHH_ (as Excel does)."""
    text = _ESCAPED.sub(lambda m: "_x005F" + m.group(0), text)
    return _ILLEGAL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def unxstring(text: str) -> str:
    def one(m: re.Match) -> str:
        return chr(int(m.group(1), 16))

    return _ESCAPED.sub(one, text)


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


_ADDR = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})$")


def split_addr(addr: str) -> tuple[int, int]:
    """'B12' -> (12, 2): row and column, 1-based."""
    m = _ADDR.match(addr.upper())
    if not m:
        raise XlsxEditError(f"not a cell address: {addr!r}")
    return int(m.group(2)), col_index(m.group(1))


def rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def relative(source: str, target: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(source) or ".")


def shared_text(si: etree._Element) -> str:
    """The plain text of a shared string or comment body: its t elements, phonetic runs left out."""
    parts = []
    for t in si.iter(q("t")):
        if t.getparent() is not None and t.getparent().tag == q("rPh"):
            continue
        parts.append(t.text or "")
    return unxstring("".join(parts))


class Rels:
    """One .rels part: relationships by id, fresh ids that cannot collide."""

    def __init__(self, book: Book, source: str) -> None:
        self.book, self.source, self.path = book, source, rels_path(source)
        data = book.read(self.path)
        self.root = parse(data) if data is not None else etree.Element(q("Relationships", PKG_NS), nsmap={None: PKG_NS})
        book.dirty[self.path] = self

    def items(self) -> list[etree._Element]:
        return list(self.root.iter(q("Relationship", PKG_NS)))

    def target(self, rid: str) -> str | None:
        for r in self.items():
            if r.get("Id") == rid and r.get("TargetMode") != "External":
                return resolve(self.source, r.get("Target", ""))
        return None

    def by_type(self, rel_type: str) -> list[etree._Element]:
        return [r for r in self.items() if r.get("Type") == rel_type]

    def add(self, rel_type: str, part: str) -> str:
        used = {r.get("Id") for r in self.items()}
        n = len(used) + 1
        while f"rId{n}" in used:
            n += 1
        rid = f"rId{n}"
        etree.SubElement(
            self.root, q("Relationship", PKG_NS), Id=rid, Type=rel_type, Target=relative(self.source, part)
        )
        return rid

    def remove(self, rid: str) -> None:
        for r in self.items():
            if r.get("Id") == rid:
                self.root.remove(r)

    def bytes(self) -> bytes:
        return serialize(self.root)
