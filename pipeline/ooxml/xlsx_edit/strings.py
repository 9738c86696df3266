"""The shared-string table: existing strings read, new ones appended."""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from lxml import etree

from pipeline.ooxml.xlsx_edit.parts import (
    CT_SST,
    DECL,
    NS,
    REL_SST,
    XlsxEditError,
    parse,
    q,
    resolve,
    serialize,
    shared_text,
    xstring,
)

if TYPE_CHECKING:
    from pipeline.ooxml.xlsx_edit.book import Book


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
