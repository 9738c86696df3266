"""A small .xlsx part editor: cell styles, legacy comments and new sheets without loading every cell."""

from __future__ import annotations

import math
import posixpath
import re
import struct
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from .zipfix import LEVEL, Member, pack

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
# Names Excel runs on opening, closing or switching sheets (Auto_Open, Auto_Open2, auto_openFoo ...).
AUTO_NAMES = ("auto_open", "auto_close", "auto_activate", "auto_deactivate")
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

# CT_Worksheet's child order (ECMA-376 Part 1, 18.3.1.99): new children go where the schema puts them.
WORKSHEET_ORDER = {
    name: i
    for i, name in enumerate(
        "sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection protectedRanges "
        "scenarios autoFilter sortState dataConsolidate customSheetViews mergeCells phoneticPr conditionalFormatting "
        "dataValidations hyperlinks printOptions pageMargins pageSetup headerFooter rowBreaks colBreaks "
        "customProperties cellWatches ignoredErrors smartTags drawing legacyDrawing legacyDrawingHF drawingHF "
        "picture oleObjects controls webPublishItems tableParts extLst".split()
    )
}
# CT_Font as Excel and the Open XML SDK expect it (openpyxl writes name/family/color/sz out of this order).
FONT_ORDER = {
    name: i
    for i, name in enumerate(
        "b i strike condense extend outline shadow u vertAlign sz color name family charset scheme".split()
    )
}
STYLESHEET_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs"]

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")


class CopyMalformed(Exception):
    """A part this editor rewrote does not parse: a bug of ours, never saved (the run logs it)."""


class _NoTree:
    def close(self) -> None:
        return None


_FEED = 1 << 20


class _WellFormed:
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


_LETTERS = re.compile(r"\$?[A-Za-z]*")
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


class Styles:
    """styles.xml: cell formats cloned with another fill or font, each clone made once."""

    def __init__(self, book: Book, part: str) -> None:
        data = book.read(part)
        if data is None:
            raise XlsxEditError(f"missing {part}")
        self.root = parse(data)
        for font in self.root.iter(q("font")):  # the fonts of cell formats and of conditional formats (dxfs)
            _font_in_order(font)
        book.dirty[part] = self
        self._known: dict[int, dict[bytes, int]] = {}
        self.cellxfs = self._section("cellXfs", "xf")
        self.fills = self._section("fills", "fill")
        self.fonts = self._section("fonts", "font")
        self._clones: dict[tuple, int] = {}
        self._fill_ids: dict[bytes, int] = {}
        self._fill_xml: dict[int, bytes] = {}

    def _section(self, name: str, child: str) -> etree._Element:
        el = self.root.find(q(name))
        if el is None:
            el = etree.Element(q(name))
            later = STYLESHEET_ORDER[STYLESHEET_ORDER.index(name) + 1 :]
            nxt = next((c for c in self.root if etree.QName(c).localname in later), None)
            if nxt is not None:
                nxt.addprevious(el)
            else:
                self.root.append(el)
            if name == "cellXfs":
                etree.SubElement(el, q("xf"), numFmtId="0", fontId="0", fillId="0", borderId="0", xfId="0")
            elif name == "fills":  # the two fills Excel reserves
                etree.SubElement(etree.SubElement(el, q("fill")), q("patternFill"), patternType="none")
                etree.SubElement(etree.SubElement(el, q("fill")), q("patternFill"), patternType="gray125")
        el.set("count", str(len(el.findall(q(child)))))
        return el

    def _append(self, section: etree._Element, child: etree._Element) -> int:
        """The index of an identical entry, else of child appended: a copy given back run after run
        does not grow a new font and format each time."""
        tag = child.tag.split("}")[1]
        known = self._known.get(id(section))
        if known is None:
            known = self._known[id(section)] = {}
            for i, el in enumerate(section.findall(q(tag))):
                known.setdefault(etree.tostring(el), i)
        key = etree.tostring(child)
        if key not in known:
            section.append(child)
            n = len(section.findall(q(tag)))
            section.set("count", str(n))
            known[key] = n - 1
        return known[key]

    def _xf(self, s: int) -> etree._Element:
        xfs = self.cellxfs.findall(q("xf"))
        return xfs[s] if 0 <= s < len(xfs) else xfs[0]

    def fill_xml(self, s: int) -> bytes:
        """The fill of cell format s, as XML (what a cell looked like before it was marked)."""
        if s not in self._fill_xml:
            fills = self.fills.findall(q("fill"))
            fid = int(self._xf(s).get("fillId", "0"))
            self._fill_xml[s] = etree.tostring(fills[fid] if fid < len(fills) else fills[0])
        return self._fill_xml[s]

    def add_fill(self, xml: bytes) -> int:
        if not self._fill_ids:
            for i, f in enumerate(self.fills.findall(q("fill"))):
                self._fill_ids.setdefault(etree.tostring(f), i)
        if xml not in self._fill_ids:
            el = etree.fromstring(xml, PARSER)
            if el.tag != q("fill"):
                raise XlsxEditError("not a fill")
            self._fill_ids[xml] = self._append(self.fills, el)
        return self._fill_ids[xml]

    def solid_fill(self, rgb: str) -> int:
        return self.add_fill(
            f'<fill xmlns="{NS}"><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/>'
            f'<bgColor indexed="64"/></patternFill></fill>'.encode()
        )

    def with_fill(self, s: int, fill_id: int) -> int:
        """Cell format s with another fill; number format, font, border and alignment kept."""
        key = ("fill", s, fill_id)
        if key not in self._clones:
            xf = deepcopy(self._xf(s))
            xf.set("fillId", str(fill_id))
            xf.set("applyFill", "1")
            self._clones[key] = self._append(self.cellxfs, xf)
        return self._clones[key]

    def with_font(self, s: int, *, bold: bool = False, color: str | None = None, underline: bool = False) -> int:
        """Cell format s with font 0 made bold or a coloured, underlined link."""
        key = ("font", s, bold, color, underline)
        if key not in self._clones:
            base = self.fonts.find(q("font"))
            font = deepcopy(base) if base is not None else etree.Element(q("font"))
            for tag, attrs in (("b", {}), ("u", {}), ("color", {"rgb": f"FF{color}"})):
                if (tag == "b" and bold) or (tag == "u" and underline) or (tag == "color" and color):
                    for old in font.findall(q(tag)):
                        font.remove(old)
                    etree.SubElement(font, q(tag), attrs)
            _font_in_order(font)
            xf = deepcopy(self._xf(s))
            xf.set("fontId", str(self._append(self.fonts, font)))
            xf.set("applyFont", "1")
            self._clones[key] = self._append(self.cellxfs, xf)
        return self._clones[key]

    def with_alignment(self, s: int, *, wrap: bool) -> int:
        """Cell format s set at the top of the cell, its text wrapped if wrap (a row of a printed list)."""
        key = ("alignment", s, wrap)
        if key not in self._clones:
            xf = deepcopy(self._xf(s))
            for old in xf.findall(q("alignment")):
                xf.remove(old)
            alignment = etree.Element(q("alignment"), vertical="top")
            if wrap:
                alignment.set("wrapText", "1")
            xf.insert(0, alignment)  # CT_Xf: alignment, protection, extLst
            xf.set("applyAlignment", "1")
            self._clones[key] = self._append(self.cellxfs, xf)
        return self._clones[key]

    def bytes(self) -> bytes:
        return serialize(self.root)


class SharedStrings:
    """xl/sharedStrings.xml (found through the workbook's relationships): parsed with lxml, new strings
    appended as <si> elements of the table, whatever prefix, quotes or whitespace its writer used."""

    def __init__(self, book: Book) -> None:
        self.book = book
        rel = book.wb_rels.by_type(REL_SST)
        self.part = resolve(book.wb_part, rel[0].get("Target")) if rel else None
        data = book.read(self.part) if self.part else None
        if self.part and data is None:
            raise XlsxEditError(f"missing {self.part}")
        self.root = parse(data) if data is not None else None
        if self.root is not None and self.root.tag != q("sst"):
            raise XlsxEditError("unexpected sharedStrings part")
        self.existing = sum(1 for _ in self.root.iterchildren(q("si"))) if self.root is not None else 0
        self.new: dict[str, int] = {}
        self.refs = 0

    def index(self, text: str) -> int:
        self.refs += 1
        if text not in self.new:
            self.new[text] = self.existing + len(self.new)
        return self.new[text]

    def texts(self) -> list[str]:
        if self.root is None:
            return []
        return [shared_text(si) for si in self.root.iterchildren(q("si"))]

    def finish(self) -> None:
        if not self.new:
            return
        total = self.existing + len(self.new)
        if self.root is None:  # a table of this tool's strings only: written as it is built, no tree
            self.part = "xl/sharedStrings.xml"
            while self.book.exists(self.part):
                self.part = f"xl/sharedStrings{total}.xml"
            self.book.wb_rels.add(REL_SST, self.part)
            self.book.override(self.part, CT_SST)
            items = "".join(f'<si><t xml:space="preserve">{escape(xstring(t))}</t></si>' for t in self.new)
            self.book.dirty[self.part] = (
                DECL + f'<sst xmlns="{NS}" count="{self.refs}" uniqueCount="{total}">{items}</sst>'.encode()
            )
            return
        if self.root.get("count") is not None:
            try:
                self.root.set("count", str(int(self.root.get("count")) + self.refs))
            except ValueError:
                del self.root.attrib["count"]  # optional, and not a number: dropped rather than kept wrong
        self.root.set("uniqueCount", str(total))
        # CT_Sst: si*, then extLst: new items go before an extLst.
        ext = self.root.find(q("extLst"))
        for text in self.new:
            si = etree.Element(q("si"))
            t = etree.SubElement(si, q("t"))
            t.text = xstring(text)
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            if ext is not None:
                ext.addprevious(si)
            else:
                self.root.append(si)
        self.book.dirty[self.part] = serialize(self.root)


_ROOT = re.compile(rb"<(?![?!])([^\s>/]+)[^>]*>")
_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b([^>]*)>")
_R_ATTR = re.compile(rb'\sr\s*=\s*["\'](\d+)["\']')


class Worksheet:
    """One worksheet part, split at its rows: only the rows that change are parsed (a member sheet of
    50,000 rows is 30 MB of XML; its tree would be ten times that)."""

    def __init__(self, book: Book, name: str, part: str) -> None:
        self.book, self.name, self.part = book, name, part
        data = book.read(part)
        if data is None:
            raise XlsxEditError(f"missing {part}")
        if data[:4].find(b"\x00") >= 0 or data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise XlsxEditError("worksheet not in UTF-8")
        root = _ROOT.search(data)
        if not root or etree.QName(parse(root.group(0) + b"</" + root.group(1) + b">")).namespace != NS:
            raise XlsxEditError(f"unexpected worksheet root in {part}")
        self.root_start, self.root_end = root.group(0), b"</" + root.group(1) + b">"
        prefix = root.group(1)[: root.group(1).rfind(b":") + 1]
        self.prefix = prefix
        m = re.compile(rb"<" + re.escape(prefix) + rb"sheetData\b([^>]*?)(/?)>").search(data)
        if not m:
            raise XlsxEditError(f"no sheetData in {part}")
        self.close = b"</" + prefix + b"sheetData>"
        if m.group(2):
            self.head = data[: m.start()] + b"<" + prefix + b"sheetData" + m.group(1) + b">"
            self.rows_data = memoryview(b"")
            self.tail = self.close + data[m.end() :]
        else:
            # The end tag as written (XML allows whitespace before its ">"), the last one in the part.
            ends = list(re.finditer(rb"</" + re.escape(prefix) + rb"sheetData\s*>", data[m.end() :]))
            if not ends:
                raise XlsxEditError(f"no end of sheetData in {part}")
            close, after = m.end() + ends[-1].start(), m.end() + ends[-1].end()
            # A view, not a copy: the rows are the bulk of the part and most are written back untouched.
            self.head, self.rows_data = data[: m.end()], memoryview(data)[m.end() : close]
            self.tail = self.close + data[after:]
        self._index: dict[int, tuple[int, int]] | None = None  # row number -> (start, end) in rows_data
        self.rows: dict[int, etree._Element] = {}  # rows parsed for editing, by number
        self.frozen: dict[int, bytes] = {}  # rows edited and serialised again, by number
        self._tail_el: etree._Element | None = None
        self._merges: list[tuple[int, int, int, int]] | None = None
        self._col_styles: dict[int, int] | None = None
        self.tab_selected: bool | None = None
        self.max_cell: tuple[int, int] = (0, 0)
        book.dirty[part] = self

    # -- rows ------------------------------------------------------------------------------------
    def _row_index(self) -> dict[int, tuple[int, int]]:
        """Where each row is: found by a byte search for row start tags (in a well-formed sheet "<row" can
        only be a tag; text holds "&lt;"), a row running to the next row's start."""
        if self._index is None:
            index: dict[int, tuple[int, int]] = {}
            n, prev = 0, None
            for m in _ROW.finditer(self.rows_data):
                r = _R_ATTR.search(m.group(1))
                if prev is not None:
                    index[prev[0]] = (prev[1], m.start())
                number = int(r.group(1)) if r else n + 1
                if number <= n:  # Excel writes rows in ascending order; anything else is not edited blind
                    raise XlsxEditError(f"rows out of order in {self.part}")
                n, prev = number, (number, m.start())
            if prev is not None:
                index[prev[0]] = (prev[1], len(self.rows_data))
            self._index = index
        return self._index

    def load_rows(self, numbers: set[int]) -> None:
        """Parse the given rows in one parser call, creating the ones the sheet lacks."""
        numbers = {n for n in numbers if n not in self.rows}
        if not numbers:
            return
        spans = self._row_index()
        pieces: list = [self.root_start]
        order = []
        for n in sorted(numbers):
            if n in self.frozen:
                pieces.append(self.frozen[n])
            elif n in spans:
                s, e = spans[n]
                pieces.append(self.rows_data[s:e])
            else:
                continue
            order.append(n)
        pieces.append(self.root_end)
        wrapper = parse(b"".join(pieces))
        elements = [el for el in wrapper if el.tag == q("row")]
        if len(elements) != len(order):
            raise XlsxEditError(f"unexpected rows in {self.part}")
        for n, el in zip(order, elements, strict=True):
            el.set("r", str(n))
            self.rows[n] = el
        for n in numbers - set(order):
            self.rows[n] = etree.SubElement(wrapper, q("row"), r=str(n))

    def flush(self) -> None:
        """Turn the parsed rows back into bytes: a tree costs ten times its XML, so few rows live at once."""
        for n, el in self.rows.items():
            self.frozen[n] = _row_bytes(el)
        self.rows.clear()

    def in_chunks(self, addrs: list[str], size: int = 1000) -> Iterator[list[str]]:
        """The addresses in row order, a chunk of rows parsed at a time (and flushed after it)."""
        ordered = sorted(addrs, key=split_addr)
        for i in range(0, len(ordered), size):
            chunk = ordered[i : i + size]
            self.load_rows({split_addr(a)[0] for a in chunk})
            yield chunk
            self.flush()

    def cell(self, addr: str) -> etree._Element:
        """The <c> element of addr (its row loaded first), created in column order when missing."""
        rnum, cnum = split_addr(addr)
        self.load_rows({rnum})
        row = self.rows[rnum]
        addr, last = f"{col_letters(cnum)}{rnum}", 0
        for c in row.findall(q("c")):
            ref = c.get("r")
            col = col_index(_LETTERS.match(ref).group(0).upper()) if ref else last + 1
            if not ref:
                c.set("r", f"{col_letters(col)}{rnum}")
            if col == cnum:
                return c
            if col > cnum:
                new = etree.Element(q("c"), r=addr)
                c.addprevious(new)
                break
            last = col
        else:
            new = etree.SubElement(row, q("c"), r=addr)
        # An empty cell shows its row's format, else its column's: keep what the clerk sees.
        if row.get("customFormat") in ("1", "true") and row.get("s"):
            style = row.get("s")
        else:
            style = str(self.col_styles().get(cnum, 0))
        if style != "0":
            new.set("s", style)
        row.attrib.pop("spans", None)  # an optimisation hint; dropped rather than kept wrong
        self.max_cell = (max(self.max_cell[0], rnum), max(self.max_cell[1], cnum))
        return new

    def col_styles(self) -> dict[int, int]:
        if self._col_styles is None:
            self._col_styles = {}
            m = re.search(
                rb"<" + re.escape(self.prefix) + rb"cols\b.*?</" + re.escape(self.prefix) + rb"cols\s*>",
                self.head,
                re.S,
            )
            if m:
                for col in parse(self.root_start + m.group(0) + self.root_end).iter(q("col")):
                    if col.get("style"):
                        for c in range(int(col.get("min", "1")), min(int(col.get("max", "1")), 16384) + 1):
                            self._col_styles[c] = int(col.get("style"))
        return self._col_styles

    def style(self, addr: str) -> int:
        return cell_style(self.cell(addr))

    def set_style(self, addr: str, s: int) -> None:
        set_cell_style(self.cell(addr), s)

    # -- after sheetData -------------------------------------------------------------------------
    def tail_el(self) -> etree._Element:
        if self._tail_el is None:
            self._tail_el = parse(self.root_start + self.tail[len(self.close) :])
        return self._tail_el

    def anchor(self, addr: str) -> str:
        """The top-left cell of the merged range holding addr (the cell Excel shows), else addr."""
        if self._merges is None:
            self._merges = []
            if b"mergeCell" in self.tail:
                for mc in self.tail_el().iter(q("mergeCell")):
                    a, _, b = (mc.get("ref") or "").partition(":")
                    if a and b:
                        (r1, c1), (r2, c2) = split_addr(a), split_addr(b)
                        self._merges.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
        r, c = split_addr(addr)
        for r1, c1, r2, c2 in self._merges:
            if r1 <= r <= r2 and c1 <= c <= c2:
                return f"{col_letters(c1)}{r1}"
        return f"{col_letters(c)}{r}"

    def legacy_drawing(self) -> str | None:
        if b"legacyDrawing" not in self.tail:
            return None
        el = self.tail_el().find(q("legacyDrawing"))
        return el.get(q("id", R_NS)) if el is not None else None

    def set_legacy_drawing(self, rid: str | None) -> None:
        tail = self.tail_el()
        for old in tail.findall(q("legacyDrawing")):
            tail.remove(old)
        if rid is None:
            return
        el = etree.Element(q("legacyDrawing"), nsmap={"r": R_NS})
        el.set(q("id", R_NS), rid)
        mine = WORKSHEET_ORDER["legacyDrawing"]
        for child in tail:
            if _child_order(child) > mine:
                child.addprevious(el)
                break
        else:
            tail.append(el)

    # -- output ----------------------------------------------------------------------------------
    def chunks(self) -> Iterator[bytes | memoryview]:
        """The part's new bytes in pieces: untouched runs of rows are views into the original."""
        head = self.head
        if self.tab_selected is not None:
            head = re.sub(rb'\stabSelected\s*=\s*["\'](?:1|true)["\']', b"", head)
        if self.max_cell != (0, 0):
            head = self._widen_dimension(head)
        yield head
        self.flush()
        index = self._row_index()
        pending = sorted(n for n in self.frozen if n not in index)  # rows this editor created
        pos, p = 0, 0
        for n, (s, e) in index.items():
            if n in self.frozen or (p < len(pending) and pending[p] < n):
                yield self.rows_data[pos:s]
                pos = s
                while p < len(pending) and pending[p] < n:
                    yield self.frozen[pending[p]]
                    p += 1
                if n in self.frozen:
                    yield self.frozen[n]
                    pos = e
        yield self.rows_data[pos:]
        for n in pending[p:]:
            yield self.frozen[n]
        if self._tail_el is not None:
            yield self.close + _inner(self._tail_el) + self.root_end
        else:
            yield self.tail

    def _widen_dimension(self, head: bytes) -> bytes:
        m = re.search(rb"""(<(?:[\w.-]+:)?dimension\s+ref\s*=\s*["'])([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?(["'])""", head)
        if not m:
            return head
        r2 = int(m.group(5) or m.group(3))
        c2 = col_index((m.group(4) or m.group(2)).decode())
        r2, c2 = max(r2, self.max_cell[0]), max(c2, self.max_cell[1])
        ref = m.group(2) + m.group(3) + b":" + col_letters(c2).encode() + str(r2).encode()
        return head[: m.start()] + m.group(1) + ref + m.group(6) + head[m.end() :]


def cell_style(c: etree._Element) -> int:
    return int(c.get("s") or 0)


def set_cell_style(c: etree._Element, s: int) -> None:
    if s:
        c.set("s", str(s))
    else:
        c.attrib.pop("s", None)


def _row_bytes(row: etree._Element) -> bytes:
    data = etree.tostring(row, encoding="UTF-8", xml_declaration=False, with_tail=False)
    # The row is serialised alone, so lxml repeats the root's namespace declarations on it: drop them.
    end = data.index(b">")
    return re.sub(rb'\sxmlns(?::[\w.-]+)?="[^"]*"', b"", data[:end]) + data[end:]


def _font_in_order(font: etree._Element) -> None:
    """A font's children in CT_Font's order: a workbook saved by openpyxl or another tool has them as name,
    family, color, sz, which Excel repairs (openxml-audit reports it); the copy should not inherit that."""
    font[:] = sorted(font, key=lambda c: FONT_ORDER.get(etree.QName(c).localname, 99) if isinstance(c.tag, str) else 99)


def _child_order(child: etree._Element) -> int:
    if not isinstance(child.tag, str):
        return -1
    name = etree.QName(child).localname
    if child.tag == q("AlternateContent", MC_NS):  # Excel wraps controls in mc:AlternateContent
        inner = next((e for e in child.iter() if isinstance(e.tag, str) and e.tag.startswith(f"{{{NS}}}")), None)
        name = etree.QName(inner).localname if inner is not None else "controls"
    return WORKSHEET_ORDER.get(name, -1)


def _inner(el: etree._Element) -> bytes:
    """The serialised children of el (its own start and end tags cut off)."""
    data = etree.tostring(el, encoding="UTF-8", xml_declaration=False)
    if data.endswith(b"/>") and len(el) == 0 and not el.text:
        return b""
    return data[data.index(b">") + 1 : data.rindex(b"</")]


def _cut_text(body: etree._Element, start: int, end: int) -> None:
    """Delete characters start..end of a comment's plain text (as shared_text reads it), run by run: the
    formatting of what is left is kept, and a run left empty is dropped."""
    pos = 0
    for t in list(body.iter(q("t"))):
        parent = t.getparent()
        if parent is not None and parent.tag == q("rPh"):
            continue
        plain = unxstring(t.text or "")
        a, b = max(start - pos, 0), min(end - pos, len(plain))
        pos += len(plain)
        if a >= b:
            continue
        rest = plain[:a] + plain[b:]
        if rest:
            t.text = xstring(rest)
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        elif parent is not None and parent.tag == q("r"):
            body.remove(parent)
        else:
            t.text = ""


VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel">\n'
    ' <o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>\n'
)
VML_NOTE_TYPE = (
    ' <v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>\n'
)
V_NS, O_NS, X_NS = (
    "urn:schemas-microsoft-com:vml",
    "urn:schemas-microsoft-com:office:office",
    ("urn:schemas-microsoft-com:office:excel"),
)
_VML_WRAP = f'<xml xmlns:v="{V_NS}" xmlns:o="{O_NS}" xmlns:x="{X_NS}">'.encode()
_SHAPE_ID = re.compile(r"_x0000_s(\d+)")
# Legacy VML is not always well-formed XML (older writers leave <br> open): lxml recovers what it can.
VML_RECOVER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)


def parse_vml(data: bytes) -> etree._Element:
    try:
        return parse(data)
    except etree.XMLSyntaxError:
        root = etree.fromstring(data, VML_RECOVER)
        if root is None:
            raise XlsxEditError("VML part that does not parse") from None
        return root


def _vml_elements(xml: bytes) -> list[etree._Element]:
    """Our VML snippets (written with the v:, o: and x: prefixes) as elements in their namespaces."""
    return list(parse(_VML_WRAP + xml + b"</xml>"))


def _idmap_numbers(root: etree._Element) -> set[int]:
    found = set()
    for el in root.iter(f"{{{O_NS}}}idmap"):
        found |= {int(x) for x in re.findall(r"\d+", el.get("data", ""))}
    return found


def _is_note_at(shape: etree._Element, row: int, col: int) -> bool:
    data = shape.find(f"{{{X_NS}}}ClientData")
    if data is None or data.get("ObjectType") != "Note":
        return False
    r, c = data.findtext(f"{{{X_NS}}}Row"), data.findtext(f"{{{X_NS}}}Column")
    return (r or "").strip() == str(row - 1) and (c or "").strip() == str(col - 1)


class Comments:
    """A worksheet's legacy comments (xl/commentsN.xml) and their VML shapes, created or merged into."""

    def __init__(self, book: Book, ws: Worksheet) -> None:
        self.book, self.ws = book, ws
        self.rels = book.rels(ws.part)
        rel = self.rels.by_type(REL_COMMENTS)
        self.part = resolve(ws.part, rel[0].get("Target")) if rel else None
        data = book.read(self.part) if self.part else None
        if self.part and data is None:
            raise XlsxEditError(f"missing {self.part}")
        if data is not None:
            self.root = parse(data)
        else:
            self.root = etree.Element(q("comments"), nsmap={None: NS})
            etree.SubElement(self.root, q("authors"))
            etree.SubElement(self.root, q("commentList"))
        self.authors = self.root.find(q("authors"))
        self.list = self.root.find(q("commentList"))
        if self.authors is None or self.list is None:
            raise XlsxEditError(f"unexpected comments part {self.part}")
        rid = ws.legacy_drawing()
        self.vml_part = self.rels.target(rid) if rid else None
        vml = book.read(self.vml_part) if self.vml_part else None
        if self.vml_part and vml is None:
            raise XlsxEditError(f"missing {self.vml_part}")
        self.vml = parse_vml(vml) if vml is not None else None
        self.by_ref = {c.get("ref"): c for c in self.list.findall(q("comment"))}
        self.new_shapes: list[bytes] = []

    def text(self, ref: str) -> str | None:
        c = self.by_ref.get(ref)
        return shared_text(c.find(q("text"))) if c is not None and c.find(q("text")) is not None else None

    def _author(self, name: str) -> int:
        names = [a.text or "" for a in self.authors.findall(q("author"))]
        if name in names:
            return names.index(name)
        etree.SubElement(self.authors, q("author")).text = name
        return len(names)

    def add(self, ref: str, text: str, author: str, width: int, height: int, separator: str) -> None:
        """A new comment, or text appended (after separator) to the comment ref already has."""
        existing = self.by_ref.get(ref)
        if existing is not None:
            body = existing.find(q("text"))
            plain = body.find(q("t"))
            if plain is not None:  # a plain <t> becomes a run, so that runs can follow it
                r = etree.Element(q("r"))
                plain.addprevious(r)
                r.append(plain)
            r = etree.Element(q("r"))
            t = etree.SubElement(r, q("t"))
            t.text = xstring(separator + text)
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            runs = body.findall(q("r"))
            if runs:
                runs[-1].addnext(r)
            else:
                body.insert(0, r)
            return
        c = etree.SubElement(self.list, q("comment"), ref=ref, authorId=str(self._author(author)))
        c.set("shapeId", "0")
        t = etree.SubElement(etree.SubElement(c, q("text")), q("t"))
        t.text = xstring(text)
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        self.by_ref[ref] = c
        self.new_shapes.append(_note_shape(ref, width, height))

    def restore(self, ref: str, original: str | None, separator: str, ours: str | None = None) -> None:
        """Take this tool's text off a comment, keeping whatever else the clerk wrote.

        ours is the text an earlier run added (after separator when the cell had the clerk's comment): when
        the comment still holds it, just that part is cut out; when the clerk removed or rewrote it, the
        comment stays as the clerk left it. A comment left empty is removed. Without ours (a copy from an
        older version that did not record it) the comment goes back to the recorded original.
        """
        c = self.by_ref.get(ref)
        if c is None:
            return
        body = c.find(q("text"))
        if ours is not None:
            if body is None:
                return
            text = shared_text(body)
            parts = [separator + ours, ours] if original else [ours]
            start = next((text.find(p) for p in parts if p and p in text), -1)
            if start < 0:
                return  # the clerk removed or rewrote this tool's text: theirs now
            part = next(p for p in parts if p and text.find(p) == start)
            end = start + len(part)
            if start == 0:  # the clerk's lines after ours lose the line break that followed ours
                while end < len(text) and text[end] == "\n":
                    end += 1
            if end == len(text):
                while start > 0 and text[start - 1] == "\n":
                    start -= 1
            if not text[:start].strip() and not text[end:].strip():
                self._remove(ref)
            else:
                _cut_text(body, start, end)
            return
        if original:
            runs = body.findall(q("r"))
            cut = next((i for i, r in enumerate(runs) if shared_text(r).startswith(separator)), None)
            if cut is not None and shared_text(body) != original:
                for r in runs[cut:]:
                    body.remove(r)
            if shared_text(body) != original:  # rewritten by Excel: back to the plain text recorded
                body.clear()
                t = etree.SubElement(body, q("t"))
                t.text = xstring(original)
                t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            return
        self._remove(ref)

    def _remove(self, ref: str) -> None:
        """The comment on ref and its VML note shape."""
        c = self.by_ref.pop(ref, None)
        if c is None:
            return
        self.list.remove(c)
        if self.vml is not None:
            r, col = split_addr(ref)
            for shape in list(self.vml.iter(f"{{{V_NS}}}shape")):
                if _is_note_at(shape, r, col):
                    shape.getparent().remove(shape)

    def finish(self) -> None:
        book, ws = self.book, self.ws
        has_comments = len(self.list) > 0
        vml = self.vml
        if self.new_shapes:
            if vml is None:
                vml = parse((VML_HEAD.format(idmap=book.next_idmap()) + VML_NOTE_TYPE + "</xml>").encode())
            if not any(t.get("id") == "_x0000_t202" for t in vml.iter(f"{{{V_NS}}}shapetype")):
                vml.extend(_vml_elements(VML_NOTE_TYPE.encode()))
            ids = [
                int(m.group(1))
                for el in vml.iter()
                if isinstance(el.tag, str)
                for v in el.attrib.values()
                if (m := _SHAPE_ID.fullmatch(v))
            ]
            block = min(_idmap_numbers(vml) or {1})
            first = max([*ids, block * 1024]) + 1
            shapes = b"".join(s.replace(b"{ID}", str(first + i).encode()) for i, s in enumerate(self.new_shapes))
            vml.extend(_vml_elements(shapes))
        shapes_left = vml is not None and next(vml.iter(f"{{{V_NS}}}shape"), None) is not None
        if has_comments:
            if self.part is None:
                self.part = book.fresh("xl/comments{}.xml")
                self.rels.add(REL_COMMENTS, self.part)
                book.override(self.part, CT_COMMENTS)
            book.dirty[self.part] = serialize(self.root)
        elif self.part is not None:  # every comment was this tool's, from an earlier run
            book.remove_part(self.part)
            for r in self.rels.by_type(REL_COMMENTS):
                self.rels.remove(r.get("Id"))
        if vml is None:
            return
        if shapes_left:
            if self.vml_part is None:
                self.vml_part = book.fresh("xl/drawings/vmlDrawing{}.vml")
                ws.set_legacy_drawing(self.rels.add(REL_VML, self.vml_part))
                book.default("vml", CT_VML)
            book.dirty[self.vml_part] = etree.tostring(vml, encoding="UTF-8", xml_declaration=False)
        elif self.vml_part is not None:
            book.remove_part(self.vml_part)
            for r in self.rels.by_type(REL_VML):
                self.rels.remove(r.get("Id"))
            ws.set_legacy_drawing(None)


def _note_shape(ref: str, width: int, height: int) -> bytes:
    r, c = split_addr(ref)
    # Anchor: left column, offset, top row, offset, right column, offset, bottom row, offset (64x20 px cells).
    anchor = f"{c}, 15, {max(r - 2, 0)}, 10, {c + max(width // 64, 1)}, 15, {max(r - 2, 0) + max(height // 20, 1)}, 4"
    return (
        f'<v:shape id="_x0000_s{{ID}}" type="#_x0000_t202" style="position:absolute;margin-left:80pt;'
        f'margin-top:2pt;width:{width * 3 // 4}pt;height:{height * 3 // 4}pt;z-index:1;visibility:hidden" '
        f'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
        f'<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
        f'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
        f'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{anchor}</x:Anchor>'
        f"<x:AutoFill>False</x:AutoFill><x:Row>{r - 1}</x:Row><x:Column>{c - 1}</x:Column></x:ClientData>"
        f"</v:shape>\n"
    ).encode()


LINE_HEIGHT = 18  # points: a line of 11-point Yu Gothic, MS P Gothic or Calibri with some room


def _wrapped_lines(text: str, width: float) -> int:
    """How many lines text takes in a wrapping column width characters wide (a full-width character
    counts as two, as in Excel's column width; a little room is left for the cell's padding)."""
    room = max(width - 1, 1)
    lines = 0
    for line in text.split("\n"):
        used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
        lines += max(math.ceil(used / room), 1)
    return lines


def tool_guid(*parts: str) -> str:
    """A GUID as Excel writes them ({XXXXXXXX-...}), the same for the same parts: the copy stays
    deterministic, and this tool's person and replies are recognised when a copy comes back."""
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "kobankyo:" + "\x1f".join(parts))).upper() + "}"


class Threads:
    """A worksheet's threaded comments (Excel 365), found through its relationships: this tool's findings
    are added to a cell's thread as a reply by the tool's own person, and taken off again when a copy
    comes back (every reply by that person)."""

    def __init__(self, book: Book, ws: Worksheet) -> None:
        self.book, self.ws = book, ws
        rel = book.rels(ws.part).by_type(REL_THREADED)
        self.part = resolve(ws.part, rel[0].get("Target")) if rel else None
        data = book.read(self.part) if self.part else None
        self.root = parse(data) if data is not None else None
        if self.root is not None and self.root.tag != q("ThreadedComments", TC_NS):
            raise XlsxEditError(f"unexpected threaded comments part {self.part}")
        self.changed = False

    def _comments(self) -> list[etree._Element]:
        return list(self.root.iterchildren(q("threadedComment", TC_NS))) if self.root is not None else []

    def has(self, ref: str) -> bool:
        return any(c.get("ref") == ref for c in self._comments())

    def reply(self, ref: str, text: str, author: str) -> None:
        """text as the tool's reply at the end of the thread on ref (there must be one: see has)."""
        thread = [c for c in self._comments() if c.get("ref") == ref]
        first = next((c for c in thread if not c.get("parentId")), thread[0])
        person = self.book.tool_person(author)
        el = etree.Element(q("threadedComment", TC_NS), nsmap={None: TC_NS})
        el.set("ref", ref)
        el.set("dT", max((c.get("dT") or "" for c in thread), default="") or "2000-01-01T00:00:00.00")
        el.set("personId", person)
        el.set("id", tool_guid("reply", self.ws.name, ref, text))
        el.set("parentId", first.get("id") or "")
        etree.SubElement(el, q("text", TC_NS)).text = text
        el.tail = thread[-1].tail  # the writer's indentation, if any
        thread[-1].addnext(el)
        self.changed = True

    def remove_tool_replies(self, author: str) -> None:
        person = tool_guid("person", author)
        for c in self._comments():
            if c.get("personId") == person:
                self.root.remove(c)
                self.changed = True

    def finish(self) -> None:
        if self.changed and self.part is not None:
            self.book.dirty[self.part] = serialize(self.root)


@dataclass
class SheetRef:
    name: str
    el: etree._Element
    part: str | None
    kind: str  # the relationship type's last word: worksheet, chartsheet, dialogsheet, ...


@dataclass
class NewSheet:
    """A sheet this tool writes: rows of (text, style) cells, all text in the shared-string table."""

    name: str
    rows: list[list[tuple[str | None, int]]]
    widths: list[float] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (cell, location, display)
    freeze_header: bool = True
    selected: bool = False
    state: str | None = None
    # Printed on A4 landscape, one page wide, gridlines, the header row on every page (Book.set_print_titles)
    # and a footer with the sheet's name and the page number.
    printable: bool = False
    # Columns (1-based) whose cells wrap: each row is given the height its longest wrapped text needs, as
    # LibreOffice and Excel do not grow a row on opening.
    wrapped: tuple[int, ...] = ()


class Book:
    """An .xlsx opened for editing: parts read on demand, changed parts rewritten, the rest copied raw."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path)
        self.infos = {i.filename: i for i in self.zip.infolist() if not i.is_dir()}
        self.dirty: dict[str, object] = {}  # part -> bytes, or an editor with .chunks() or .bytes()
        self.removed: set[str] = set()
        self._rels: dict[str, Rels] = {}
        self.ct = parse(self._need("[Content_Types].xml"))
        root_rels = parse(self._need("_rels/.rels"))
        main = [r for r in root_rels if r.get("Type", "").endswith("/officeDocument")]
        if not main or main[0].get("Type") != REL + "officeDocument":
            raise XlsxEditError("no workbook, or a strict OOXML workbook")
        self.wb_part = resolve("", main[0].get("Target"))
        self.wb = parse(self._need(self.wb_part))
        if self.wb.tag != q("workbook"):
            raise XlsxEditError(f"unexpected workbook root {self.wb.tag}")
        self.dirty[self.wb_part] = self
        self.wb_rels = self.rels(self.wb_part)
        sheets = self.wb.find(q("sheets"))
        if sheets is None:
            raise XlsxEditError("no sheets")
        self.sheets_el = sheets
        self.sheets: list[SheetRef] = []
        for el in sheets.findall(q("sheet")):
            rel = next((r for r in self.wb_rels.items() if r.get("Id") == el.get(q("id", R_NS))), None)
            part = resolve(self.wb_part, rel.get("Target")) if rel is not None else None
            kind = rel.get("Type", "").rsplit("/", 1)[-1] if rel is not None else ""
            self.sheets.append(SheetRef(el.get("name"), el, part, kind))
        self.original_order = list(self.sheets)
        self._worksheets: dict[str, Worksheet] = {}
        self._comments: dict[str, Comments] = {}
        self._threads: dict[str, Threads] = {}
        self._styles: Styles | None = None
        self.sst = SharedStrings(self)
        self._idmaps: set[int] | None = None

    # -- parts -----------------------------------------------------------------------------------
    def _need(self, part: str) -> bytes:
        data = self.read(part)
        if data is None:
            raise XlsxEditError(f"missing {part}")
        return data

    def exists(self, part: str) -> bool:
        return (part in self.infos and part not in self.removed) or part in self.dirty

    def read(self, part: str) -> bytes | None:
        cur = self.dirty.get(part)
        if isinstance(cur, bytes):
            return cur
        if part in self.removed or part not in self.infos:
            return None
        return self.zip.read(self.infos[part])

    def fresh(self, pattern: str) -> str:
        n = 1
        taken = {p.lower() for p in self.infos} | {p.lower() for p in self.dirty}
        while pattern.format(n).lower() in taken:
            n += 1
        self.dirty[pattern.format(n)] = b""  # reserved until written
        return pattern.format(n)

    def remove_part(self, part: str) -> None:
        self.removed.add(part)
        self.dirty.pop(part, None)
        rels = rels_path(part)
        self.removed.add(rels)
        self.dirty.pop(rels, None)
        self._rels.pop(part, None)
        for o in self.ct.findall(q("Override", CT_NS)):
            if o.get("PartName", "").lstrip("/") == part:
                self.ct.remove(o)

    def rels(self, part: str) -> Rels:
        if part not in self._rels:
            self._rels[part] = Rels(self, part)
        return self._rels[part]

    def _content_type(self, part: str) -> str | None:
        for o in self.ct.findall(q("Override", CT_NS)):
            if o.get("PartName", "").lstrip("/") == part:
                return o.get("ContentType")
        return None

    def override(self, part: str, content_type: str) -> None:
        for o in self.ct.findall(q("Override", CT_NS)):
            if o.get("PartName", "").lstrip("/") == part:
                o.set("ContentType", content_type)
                return
        etree.SubElement(self.ct, q("Override", CT_NS), PartName="/" + part, ContentType=content_type)

    def default(self, ext: str, content_type: str) -> None:
        if not any(d.get("Extension", "").lower() == ext for d in self.ct.findall(q("Default", CT_NS))):
            d = etree.Element(q("Default", CT_NS), Extension=ext, ContentType=content_type)
            first = self.ct.find(q("Override", CT_NS))
            if first is not None:
                first.addprevious(d)
            else:
                self.ct.append(d)

    def next_idmap(self) -> int:
        """A VML shape-id block no other VML part of the workbook uses."""
        if self._idmaps is None:
            self._idmaps = set()
            for part in self.infos:
                if part.endswith(".vml") or self._content_type(part) == CT_VML:
                    try:
                        self._idmaps |= _idmap_numbers(parse_vml(self.read(part) or b"<xml/>"))
                    except (etree.XMLSyntaxError, XlsxEditError):
                        continue  # a part this editor does not touch; its numbers cannot be read
        n = 1
        while n in self._idmaps:
            n += 1
        self._idmaps.add(n)
        return n

    # -- sheets and styles -----------------------------------------------------------------------
    @property
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.sheets]

    def sheet(self, name: str) -> SheetRef | None:
        return next((s for s in self.sheets if s.name == name), None)

    def worksheet(self, name: str) -> Worksheet:
        if name not in self._worksheets:
            ref = self.sheet(name)
            if ref is None or ref.kind != "worksheet" or ref.part is None:
                raise XlsxEditError(f"not a worksheet: {name}")
            self._worksheets[name] = Worksheet(self, name, ref.part)
        return self._worksheets[name]

    def threads(self, name: str) -> Threads:
        if name not in self._threads:
            self._threads[name] = Threads(self, self.worksheet(name))
        return self._threads[name]

    def tool_person(self, author: str) -> str:
        """This tool's entry in the workbook's person list (created when missing); returns its id."""
        person = tool_guid("person", author)
        rel = self.wb_rels.by_type(REL_PERSON)
        part = resolve(self.wb_part, rel[0].get("Target")) if rel else None
        data = self.read(part) if part else None
        root = parse(data) if data is not None else etree.Element(q("personList", TC_NS), nsmap={None: TC_NS})
        if any(p.get("id") == person for p in root.iterchildren(q("person", TC_NS))):
            return person
        el = etree.SubElement(root, q("person", TC_NS))
        el.set("displayName", author)
        el.set("id", person)
        el.set("userId", author)
        el.set("providerId", "None")
        if part is None:  # Excel's name for it, else a free one
            part = "xl/persons/person.xml" if not self.exists("xl/persons/person.xml") else None
            part = part or self.fresh("xl/persons/person{}.xml")
            self.wb_rels.add(REL_PERSON, part)
            self.override(part, CT_PERSON)
        self.dirty[part] = serialize(root)
        return person

    def comments(self, name: str) -> Comments:
        if name not in self._comments:
            self._comments[name] = Comments(self, self.worksheet(name))
        return self._comments[name]

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            rel = self.wb_rels.by_type(REL_STYLES)
            if not rel:
                raise XlsxEditError("no styles part")
            self._styles = Styles(self, resolve(self.wb_part, rel[0].get("Target")))
        return self._styles

    def cell_texts(self, name: str) -> list[list[str | None]]:
        """A small sheet's values as text, row by row (for a sheet this tool wrote in an earlier run)."""
        ws = self.worksheet(name)
        root = parse(b"".join(ws.chunks()))
        strings: list[str] | None = None
        rows = []
        for row in root.iter(q("row")):
            values: list[str | None] = []
            for c in row.iter(q("c")):
                col = split_addr(c.get("r"))[1] if c.get("r") else len(values) + 1
                values.extend([None] * (col - 1 - len(values)))
                t, v = c.get("t"), c.find(q("v"))
                if t == "s" and v is not None:
                    strings = self.sst.texts() if strings is None else strings
                    values.append(strings[int(v.text)])
                elif t == "inlineStr":
                    is_ = c.find(q("is"))
                    values.append(shared_text(is_) if is_ is not None else None)
                else:
                    values.append(unxstring(v.text or "") if v is not None else None)
            rows.append(values)
        return rows

    def remove_sheet(self, name: str) -> None:
        ref = self.sheet(name)
        if ref is None:
            return
        self.sheets.remove(ref)
        self.sheets_el.remove(ref.el)
        self.wb_rels.remove(ref.el.get(q("id", R_NS)))
        self._worksheets.pop(name, None)
        if ref.part:
            self.remove_part(ref.part)

    def add_sheet(self, sheet: NewSheet, position: int) -> None:
        part = self.fresh("xl/worksheets/sheet{}.xml")
        rid = self.wb_rels.add(REL_WORKSHEET, part)
        ids = [int(s.el.get("sheetId", "0")) for s in self.sheets]
        el = etree.Element(q("sheet"), nsmap={"r": R_NS})
        el.set("name", sheet.name)
        el.set("sheetId", str(max(ids, default=0) + 1))
        if sheet.state:
            el.set("state", sheet.state)
        el.set(q("id", R_NS), rid)
        ref = SheetRef(sheet.name, el, part, "worksheet")
        if position < len(self.sheets):
            self.sheets[position].el.addprevious(el)
        else:
            self.sheets_el.append(el)
        self.sheets.insert(position, ref)
        self.override(part, CT_SHEET)
        self.dirty[part] = self._sheet_xml(sheet)

    def _sheet_xml(self, sheet: NewSheet) -> bytes:
        out = [f'<worksheet xmlns="{NS}" xmlns:r="{R_NS}">']
        if sheet.printable:
            out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        ncols = max((len(r) for r in sheet.rows), default=1)
        out.append(f'<dimension ref="A1:{col_letters(max(ncols, 1))}{max(len(sheet.rows), 1)}"/>')
        sel = ' tabSelected="1"' if sheet.selected else ""
        if sheet.freeze_header:
            out.append(
                f'<sheetViews><sheetView{sel} workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                "</sheetView></sheetViews>"
            )
        else:
            out.append(f'<sheetViews><sheetView{sel} workbookViewId="0"/></sheetViews>')
        out.append('<sheetFormatPr defaultRowHeight="15"/>')
        if sheet.widths:
            out.append("<cols>")
            out.extend(
                f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(sheet.widths, 1)
            )
            out.append("</cols>")
        out.append("<sheetData>")
        for r, row in enumerate(sheet.rows, 1):
            lines = max(
                (
                    _wrapped_lines(text, sheet.widths[c - 1])
                    for c, (text, _) in enumerate(row, 1)
                    if c in sheet.wrapped and text and c <= len(sheet.widths)
                ),
                default=1,
            )
            height = f' ht="{LINE_HEIGHT * lines:g}" customHeight="1"' if lines > 1 else ""
            out.append(f'<row r="{r}"{height}>')
            for c, (text, s) in enumerate(row, 1):
                style = f' s="{s}"' if s else ""
                if text is None or text == "":
                    if s:
                        out.append(f'<c r="{col_letters(c)}{r}"{style}/>')
                    continue
                out.append(f'<c r="{col_letters(c)}{r}"{style} t="s"><v>{self.sst.index(text)}</v></c>')
            out.append("</row>")
        out.append("</sheetData>")
        if sheet.links:
            out.append("<hyperlinks>")
            out.extend(
                f"<hyperlink ref={quoteattr(c)} location={quoteattr(loc)} display={quoteattr(d)}/>"
                for c, loc, d in sheet.links
            )
            out.append("</hyperlinks>")
        if sheet.printable:
            out.append('<printOptions gridLines="1"/>')
            out.append('<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>')
            out.append('<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>')
            out.append("<headerFooter><oddFooter>&amp;L&amp;A&amp;R&amp;P / &amp;N</oddFooter></headerFooter>")
        else:
            out.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
        out.append("</worksheet>")
        return DECL + "".join(out).encode("utf-8")

    # -- workbook-level fixes --------------------------------------------------------------------
    def select_first_sheet(self) -> None:
        """The first sheet active and the only one selected."""
        for view in self.wb.iter(q("workbookView")):
            view.set("activeTab", "0")
            view.attrib.pop("firstSheet", None)
        for ref in self.sheets[1:]:
            if not ref.part or ref.part not in self.infos or ref.part in self.removed:
                continue  # a sheet this tool writes, or none
            if ref.name in self._worksheets:
                self._worksheets[ref.name].tab_selected = False
                continue
            with self.zip.open(self.infos[ref.part]) as f:
                head = f.read(65536)  # sheetViews comes before the cells: no need to inflate a large sheet
            if b"tabSelected" not in head:
                continue
            if ref.kind == "worksheet":
                self.worksheet(ref.name).tab_selected = False
            else:
                data = self.read(ref.part) or b""
                self.dirty[ref.part] = re.sub(rb'\stabSelected\s*=\s*["\'](?:1|true)["\']', b"", data)

    def renumber_local_names(self) -> None:
        """definedName localSheetId is a sheet's position: follow each sheet to where it is now."""
        new_pos = {id(s.el): i for i, s in enumerate(self.sheets)}
        names = self.wb.find(q("definedNames"))
        if names is None:
            return
        for dn in list(names):
            lid = dn.get("localSheetId")
            if lid is None:
                continue
            old = self.original_order[int(lid)] if lid.isdigit() and int(lid) < len(self.original_order) else None
            if old is None or id(old.el) not in new_pos:
                names.remove(dn)  # its sheet is gone
            else:
                dn.set("localSheetId", str(new_pos[id(old.el)]))
        if len(names) == 0:
            self.wb.remove(names)

    def defined_names(self) -> dict[str, str]:
        """Workbook-level defined names and what they refer to."""
        names = self.wb.find(q("definedNames"))
        if names is None:
            return {}
        return {dn.get("name", ""): dn.text or "" for dn in names if dn.get("localSheetId") is None}

    def set_defined_name(self, name: str, text: str | None, *, hidden: bool = True) -> None:
        """Set (or with text None remove) a workbook-level defined name."""
        names = self.wb.find(q("definedNames"))
        if names is None:
            if text is None:
                return
            names = etree.Element(q("definedNames"))
            before = [
                c for c in self.wb if etree.QName(c).localname in ("sheets", "functionGroups", "externalReferences")
            ]
            before[-1].addnext(names)
        for dn in names.findall(q("definedName")):
            if dn.get("name") == name and dn.get("localSheetId") is None:
                names.remove(dn)
        if text is not None:
            dn = etree.SubElement(names, q("definedName"), name=name)
            if hidden:
                dn.set("hidden", "1")
            dn.text = text
        if len(names) == 0:
            self.wb.remove(names)

    def set_print_titles(self, name: str, rows: str = "$1:$1") -> None:
        """Rows printed at the top of every page of sheet name (call after renumber_local_names: the
        localSheetId written is the sheet's position now)."""
        pos = self.sheet_names.index(name)
        names = self.wb.find(q("definedNames"))
        if names is None:
            names = etree.Element(q("definedNames"))
            # CT_Workbook: definedNames follows sheets, functionGroups and externalReferences.
            before = [
                c for c in self.wb if etree.QName(c).localname in ("sheets", "functionGroups", "externalReferences")
            ]
            before[-1].addnext(names)
        for dn in names.findall(q("definedName")):
            if dn.get("name") == "_xlnm.Print_Titles" and dn.get("localSheetId") == str(pos):
                names.remove(dn)
        dn = etree.SubElement(names, q("definedName"), name="_xlnm.Print_Titles", localSheetId=str(pos))
        quoted = name.replace("'", "''")
        dn.text = f"'{quoted}'!{rows}"

    def drop_macros(self) -> None:
        """The copy is an .xlsx with no macro of any kind: no VBA project, no Excel 4.0 macro sheet and no
        name that runs one (Auto_Open ...), no ActiveX control; the workbook's content type says .xlsx."""
        for r in self.wb_rels.by_type(REL_VBA):
            target = resolve(self.wb_part, r.get("Target"))
            self.wb_rels.remove(r.get("Id"))
            self._remove_with_targets(target)
        gone = [ref.name for ref in self.sheets if ref.kind in MACRO_SHEET_KINDS or self._is_macro_part(ref.part)]
        for name in gone:
            ref = self.sheet(name)
            if ref is not None and ref.part:
                self._remove_with_targets(ref.part, keep_self=True)
            self.remove_sheet(name)
        self._drop_macro_names(gone)
        for ref in self.sheets:
            if ref.kind == "worksheet" and ref.part and self.exists(rels_path(ref.part)):
                self._drop_controls(ref)
        for o in self.ct.findall(q("Override", CT_NS)):
            if o.get("ContentType") == CT_MACRO_MAIN:
                o.set("ContentType", CT_MAIN)
            elif o.get("ContentType", "").startswith(MACRO_CONTENT_TYPES):
                self.ct.remove(o)
        for d in self.ct.findall(q("Default", CT_NS)):
            if d.get("ContentType", "").startswith(MACRO_CONTENT_TYPES):
                self.ct.remove(d)

    def _is_macro_part(self, part: str | None) -> bool:
        if not part:
            return False
        for o in self.ct.findall(q("Override", CT_NS)):
            if o.get("PartName", "").lstrip("/") == part:
                return o.get("ContentType", "").startswith(MACRO_CONTENT_TYPES)
        return False

    def _remove_with_targets(self, part: str, *, keep_self: bool = False) -> None:
        """A part and the parts its relationships point at (a VBA project's signature, a control's .bin)."""
        if self.exists(rels_path(part)):
            for extra in self.rels(part).items():
                if extra.get("TargetMode") != "External":
                    target = resolve(part, extra.get("Target", ""))
                    if self.exists(target):
                        self._remove_with_targets(target)
        if not keep_self:
            self.remove_part(part)

    def _drop_macro_names(self, sheets: list[str]) -> None:
        """Defined names that run or point at macros: Auto_Open and its kin, XLM functions and commands, and
        every name that refers to a macro sheet removed."""
        names = self.wb.find(q("definedNames"))
        if names is None:
            return
        refs = [f"{n}!" for n in sheets] + ["'" + n.replace("'", "''") + "'!" for n in sheets]
        for dn in list(names):
            name = (dn.get("name") or "").removeprefix("_xlnm.").casefold()
            text = dn.text or ""
            if (
                name.startswith(AUTO_NAMES)
                or any(dn.get(a) in ("1", "true") for a in ("function", "vbProcedure", "xlm"))
                or any(r in text for r in refs)
            ):
                names.remove(dn)
        if len(names) == 0:
            self.wb.remove(names)

    def _drop_controls(self, ref: SheetRef) -> None:
        """A worksheet's ActiveX controls: their parts, relationships and the <controls> element."""
        rels = self.rels(ref.part)
        controls = [r for r in rels.items() if r.get("Type") in (REL_CONTROL, MS_REL + "activeXControlBinary")]
        if not controls:
            return
        for r in controls:
            if r.get("TargetMode") != "External":
                self._remove_with_targets(resolve(ref.part, r.get("Target", "")))
            rels.remove(r.get("Id"))
        tail = self.worksheet(ref.name).tail_el()
        for el in list(tail.iter(q("controls"))):
            holder = el
            # Excel writes <controls> inside mc:AlternateContent: the whole alternative goes.
            while holder.getparent() is not None and holder.getparent() is not tail:
                holder = holder.getparent()
            if holder.getparent() is tail:
                tail.remove(holder)

    def drop_app_sheet_lists(self) -> None:
        """docProps/app.xml lists the sheets: drop the lists (optional) rather than keep them stale."""
        part = "docProps/app.xml"
        data = self.read(part)
        if data is None or (b"TitlesOfParts" not in data and b"HeadingPairs" not in data):
            return
        root = parse(data)
        for el in list(root):
            if etree.QName(el).localname in ("TitlesOfParts", "HeadingPairs"):
                root.remove(el)
        self.dirty[part] = serialize(root)

    # -- output ----------------------------------------------------------------------------------
    def bytes(self) -> bytes:
        return serialize(self.wb)

    def save(self) -> bytes:
        for c in self._comments.values():
            c.finish()
        for t in self._threads.values():
            t.finish()
        self.sst.finish()
        for rels in list(self._rels.values()):
            if not rels.items() and rels.path not in self.infos:
                self.dirty.pop(rels.path, None)  # an empty .rels we created and did not use
        self.dirty["[Content_Types].xml"] = serialize(self.ct)
        members: list[Member] = []
        written = set()
        for name, info in self.infos.items():
            if name in self.removed:
                continue
            written.add(name)
            if name in self.dirty:
                members.append(self._member(name))
            else:
                members.append(self._raw(info))
        for name in self.dirty:
            if name not in written and name not in self.removed:
                members.append(self._member(name))
        members.sort(key=lambda m: m.name != b"[Content_Types].xml")
        self.zip.close()
        return pack(members)

    def _member(self, name: str) -> Member:
        """A changed part deflated piece by piece: a large sheet is never joined into one new string."""
        cur = self.dirty[name]
        pieces = [cur] if isinstance(cur, bytes) else cur.chunks() if hasattr(cur, "chunks") else [cur.bytes()]
        c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        crc, size, out = 0, 0, []
        check = _WellFormed(name)  # every rewritten part is parsed again as it is written
        for piece in pieces:
            crc = zlib.crc32(piece, crc)
            size += len(piece)
            out.append(c.compress(piece))
            check.feed(piece)
        check.close()
        out.append(c.flush())
        return Member(name.encode("utf-8"), crc, size, b"".join(out))

    def _raw(self, info: zipfile.ZipInfo) -> Member:
        """An unchanged part: its deflated bytes copied as they are (no inflate and deflate again)."""
        if info.compress_type == zipfile.ZIP_DEFLATED and not info.flag_bits & 1:
            fp = self.zip.fp
            fp.seek(info.header_offset)
            header = fp.read(30)
            if header[:4] == b"PK\x03\x04":
                name_len, extra_len = struct.unpack("<HH", header[26:30])
                fp.seek(info.header_offset + 30 + name_len + extra_len)
                return Member(info.filename.encode("utf-8"), info.CRC, info.file_size, fp.read(info.compress_size))
        return Member.of(info.filename, self.zip.read(info))
