"""styles.xml: cell formats cloned with another fill, font or alignment, fonts kept in schema order."""

from __future__ import annotations

from copy import deepcopy
from typing import TYPE_CHECKING

from lxml import etree

from pipeline.ooxml.xlsx_edit.parts import NS, PARSER, XlsxEditError, parse, q, serialize

if TYPE_CHECKING:
    from pipeline.ooxml.xlsx_edit.book import Book


# CT_Font as Excel and the Open XML SDK expect it (openpyxl writes name/family/color/sz out of this order).
FONT_ORDER = {
    name: i
    for i, name in enumerate(
        "b i strike condense extend outline shadow u vertAlign sz color name family charset scheme".split()
    )
}
STYLESHEET_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs"]


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


def cell_style(c: etree._Element) -> int:
    return int(c.get("s") or 0)


def set_cell_style(c: etree._Element, s: int) -> None:
    if s:
        c.set("s", str(s))
    else:
        c.attrib.pop("s", None)


def _font_in_order(font: etree._Element) -> None:
    """A font's children in CT_Font's order: a workbook saved by openpyxl or another tool has them as name,
    family, color, sz, which Excel repairs (openxml-audit reports it); the copy should not inherit that."""
    font[:] = sorted(font, key=lambda c: FONT_ORDER.get(etree.QName(c).localname, 99) if isinstance(c.tag, str) else 99)
