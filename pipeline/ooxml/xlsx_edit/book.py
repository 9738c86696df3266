"""The workbook opened for editing: parts on demand, sheets added and removed, macros stripped, zip written."""

from __future__ import annotations

import math
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

from pipeline.ooxml.xlsx_edit.comments import Comments, Threads, idmap_numbers, parse_vml, tool_guid
from pipeline.ooxml.xlsx_edit.parts import (
    CT_MACRO_MAIN,
    CT_MAIN,
    CT_NS,
    CT_PERSON,
    CT_SHEET,
    CT_VML,
    DECL,
    MACRO_CONTENT_TYPES,
    MACRO_SHEET_KINDS,
    MS_REL,
    NS,
    R_NS,
    REL,
    REL_CONTROL,
    REL_PERSON,
    REL_STYLES,
    REL_VBA,
    REL_WORKSHEET,
    TC_NS,
    Rels,
    WellFormed,
    XlsxEditError,
    col_letters,
    parse,
    q,
    rels_path,
    resolve,
    serialize,
    shared_text,
    split_addr,
    unxstring,
)
from pipeline.ooxml.xlsx_edit.strings import SharedStrings
from pipeline.ooxml.xlsx_edit.styles import Styles
from pipeline.ooxml.xlsx_edit.worksheet import Worksheet
from pipeline.ooxml.zipfix import LEVEL, Member, pack

# Names Excel runs on opening, closing or switching sheets (Auto_Open, Auto_Open2, auto_openFoo ...).
AUTO_NAMES = ("auto_open", "auto_close", "auto_activate", "auto_deactivate")

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
                        self._idmaps |= idmap_numbers(parse_vml(self.read(part) or b"<xml/>"))
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
        check = WellFormed(name)  # every rewritten part is parsed again as it is written
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
