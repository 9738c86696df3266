"""Make an openpyxl-written .xlsx schema-clean for Excel: font child order and shared strings."""

from __future__ import annotations

import io
import posixpath
import zipfile
from pathlib import Path

from lxml import etree

from pipeline.ooxml.xlsx_edit.parts import CT_NS, CT_SST, REL, REL_COMMENTS, REL_SST, REL_STYLES, REL_WORKSHEET
from pipeline.ooxml.xlsx_edit.parts import NS as MAIN_NS
from pipeline.ooxml.xlsx_edit.parts import PKG_NS as REL_NS
from pipeline.ooxml.xlsx_edit.parts import R_NS as DOC_REL_NS
from pipeline.ooxml.xlsx_edit.styles import FONT_ORDER as FONT_RANK

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
OFFICE_DOCUMENT = REL + "officeDocument"
WORKSHEET, STYLES, SHARED_STRINGS, COMMENTS = REL_WORKSHEET, REL_STYLES, REL_SST, REL_COMMENTS
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'

# The Open XML SDK validates CT_Font (styles) and CT_RPrElt (rich-text runs) as these sequences.
FONT_ORDER = list(FONT_RANK)  # CT_Font, as xlsx_edit orders the copy's fonts
RUN_ORDER = "b i strike condense extend outline shadow u vertAlign sz color rFont family charset scheme".split()

_C, _IS, _T, _V = (f"{{{MAIN_NS}}}{name}" for name in ("c", "is", "t", "v"))
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def clean_xlsx(source: bytes | Path) -> bytes:
    """The same workbook with schema-ordered fonts and every inline string moved to shared strings."""
    data = source.read_bytes() if isinstance(source, Path) else source
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i) for i in infos}
    changed: dict[str, bytes] = {}

    workbook = _target("", _rels(parts, ""), OFFICE_DOCUMENT)[0]
    wb_rels_name = _rels_name(workbook)
    wb_rels = _parse(parts[wb_rels_name])
    for name in _target(workbook, wb_rels, STYLES):
        changed[name] = _serialize(_order_children(_parse(parts[name]), {"font": FONT_ORDER, "rPr": RUN_ORDER}))

    sheets = _sheets_in_order(parts, workbook, wb_rels)
    for sheet in sheets:
        for comments in _target(sheet, _rels(parts, sheet), COMMENTS):
            changed[comments] = _serialize(_order_children(_parse(parts[comments]), {"rPr": RUN_ORDER}))

    existing = _target(workbook, wb_rels, SHARED_STRINGS)
    sst_name = existing[0] if existing else posixpath.join(posixpath.dirname(workbook), "sharedStrings.xml")
    sst = _parse(parts[sst_name]) if existing else etree.Element(f"{{{MAIN_NS}}}sst", nsmap={None: MAIN_NS})
    strings = _SharedStrings(sst)
    references = 0
    for sheet in sheets:
        root = _parse(parts[sheet])
        converted = _share_inline_strings(root, strings)
        references += int(root.xpath("count(//m:c[@t='s'])", namespaces={"m": MAIN_NS}))
        if converted:
            changed[sheet] = _serialize(root)
    if len(sst) or existing:
        for t in sst.iter(f"{{{MAIN_NS}}}t"):
            _preserve_space(t)
        _order_children(sst, {"rPr": RUN_ORDER})
        sst.set("count", str(references))
        sst.set("uniqueCount", str(strings.size))
        changed[sst_name] = _serialize(sst)
        if not existing:
            changed[wb_rels_name] = _serialize(_add_relationship(wb_rels, SHARED_STRINGS, sst_name, workbook))
            types = _parse(parts["[Content_Types].xml"])
            override = etree.SubElement(types, f"{{{CT_NS}}}Override")
            override.set("PartName", "/" + sst_name)
            override.set("ContentType", CT_SST)
            changed["[Content_Types].xml"] = _serialize(types)

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in infos:
            if info.filename in changed:
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, changed.pop(info.filename))
            else:
                z.writestr(info, parts[info.filename])
        for name, body in changed.items():  # the new shared-strings part
            info = zipfile.ZipInfo(name, date_time=infos[0].date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, body)
    return out.getvalue()


def _parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, _PARSER)


def _serialize(root: etree._Element) -> bytes:
    """UTF-8 with the declaration Excel writes."""
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8")


def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _rels(parts: dict[str, bytes], part: str) -> etree._Element | None:
    name = _rels_name(part)
    return _parse(parts[name]) if name in parts else None


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _target(source: str, rels: etree._Element | None, rel_type: str) -> list[str]:
    if rels is None:
        return []
    return [
        _resolve(source, r.get("Target", ""))
        for r in rels.iterchildren(f"{{{REL_NS}}}Relationship")
        if r.get("Type") == rel_type and r.get("TargetMode") != "External"
    ]


def _sheets_in_order(parts: dict[str, bytes], workbook: str, wb_rels: etree._Element) -> list[str]:
    """Worksheet parts in the workbook's tab order (shared strings are numbered in reading order)."""
    by_id = {
        r.get("Id"): _resolve(workbook, r.get("Target", ""))
        for r in wb_rels.iterchildren(f"{{{REL_NS}}}Relationship")
        if r.get("Type") == WORKSHEET
    }
    ordered = []
    for sheet in _parse(parts[workbook]).iter(f"{{{MAIN_NS}}}sheet"):
        name = by_id.pop(sheet.get(f"{{{DOC_REL_NS}}}id"), None)
        if name:
            ordered.append(name)
    return [n for n in ordered + list(by_id.values()) if n in parts]


def _order_children(root: etree._Element, orders: dict[str, list[str]]) -> etree._Element:
    """Put the children of every element named in orders into that sequence (unknown ones last, stably)."""
    for local, order in orders.items():
        rank = {f"{{{MAIN_NS}}}{name}": i for i, name in enumerate(order)}
        for el in root.iter(f"{{{MAIN_NS}}}{local}"):
            children = list(el)
            ordered = sorted(children, key=lambda c: rank.get(c.tag, len(order)))
            if ordered != children:
                for c in children:
                    el.remove(c)
                el.extend(ordered)
    return root


def _preserve_space(t: etree._Element) -> None:
    text = t.text or ""
    if text != text.strip() or "\n" in text or "\r" in text or "\t" in text:
        t.set(XML_SPACE, "preserve")


def _key(si: etree._Element) -> str:
    """Two strings are the same shared string when their runs, fonts and text are the same."""
    if len(si) == 1 and si[0].tag == _T and all(k == XML_SPACE for k in si[0].attrib):
        return "t:" + (si[0].text or "")  # plain text, the usual case: no need to walk the tree
    return repr(_shape(si))


def _shape(el: etree._Element) -> tuple:
    attrs = sorted((k, v) for k, v in el.attrib.items() if k != XML_SPACE)
    return (el.tag, attrs, el.text or "", [(_shape(c), c.tail or "") for c in el])


class _SharedStrings:
    """The shared-string table being built: existing items first, each distinct string once."""

    def __init__(self, sst: etree._Element) -> None:
        self.sst = sst
        self.index: dict[str, int] = {}
        self.size = 0
        for si in sst.iterchildren(f"{{{MAIN_NS}}}si"):
            self.index.setdefault(_key(si), self.size)
            self.size += 1

    def add(self, si: etree._Element) -> int:
        key = _key(si)
        if key not in self.index:
            self.index[key] = self.size
            self.size += 1
            ext = self.sst.find(f"{{{MAIN_NS}}}extLst")
            if ext is None:
                self.sst.append(si)
            else:
                ext.addprevious(si)
        return self.index[key]


def _share_inline_strings(root: etree._Element, strings: _SharedStrings) -> int:
    """Turn every `<c t="inlineStr"><is>…</is></c>` into a shared-string reference; the count changed."""
    cells = root.xpath("//m:c[@t='inlineStr']", namespaces={"m": MAIN_NS})
    for c in cells:
        inline = c.find(_IS)
        if inline is None:  # openpyxl writes an empty string as an inline-string cell without text
            del c.attrib["t"]
            continue
        si = etree.Element(f"{{{MAIN_NS}}}si", nsmap={None: MAIN_NS})
        si.extend(list(inline))
        c.remove(inline)
        c.set("t", "s")
        for old in c.findall(_V):
            c.remove(old)
        v = etree.Element(_V)
        v.text = str(strings.add(si))
        c.insert(0, v)  # CT_Cell: f, v, is, extLst (an inline-string cell has no formula)
    return len(cells)


def _add_relationship(rels: etree._Element, rel_type: str, part: str, source: str) -> etree._Element:
    used = {r.get("Id") for r in rels.iterchildren(f"{{{REL_NS}}}Relationship")}
    n = len(used) + 1
    while f"rId{n}" in used:
        n += 1
    rel = etree.SubElement(rels, f"{{{REL_NS}}}Relationship")
    rel.set("Type", rel_type)
    rel.set("Target", posixpath.relpath(part, posixpath.dirname(source)))
    rel.set("Id", f"rId{n}")
    return rels
