"""One worksheet part split at its rows: only the rows that change are parsed and written again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from lxml import etree

from pipeline.ooxml.xlsx_edit.parts import MC_NS, NS, R_NS, XlsxEditError, col_index, col_letters, parse, q, split_addr
from pipeline.ooxml.xlsx_edit.styles import cell_style, set_cell_style

if TYPE_CHECKING:
    from pipeline.ooxml.xlsx_edit.book import Book


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

_LETTERS = re.compile(r"\$?[A-Za-z]*")

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


def _row_bytes(row: etree._Element) -> bytes:
    data = etree.tostring(row, encoding="UTF-8", xml_declaration=False, with_tail=False)
    # The row is serialised alone, so lxml repeats the root's namespace declarations on it: drop them.
    end = data.index(b">")
    return re.sub(rb'\sxmlns(?::[\w.-]+)?="[^"]*"', b"", data[:end]) + data[end:]


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
