"""Cell notes: legacy comments with their VML shapes, and Excel 365's threaded comments."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

from lxml import etree

from pipeline.ooxml.xlsx_edit.parts import (
    CT_COMMENTS,
    CT_VML,
    NS,
    REL_COMMENTS,
    REL_THREADED,
    REL_VML,
    TC_NS,
    XlsxEditError,
    parse,
    q,
    resolve,
    serialize,
    shared_text,
    split_addr,
    unxstring,
    xstring,
)
from pipeline.ooxml.xlsx_edit.worksheet import Worksheet

if TYPE_CHECKING:
    from pipeline.ooxml.xlsx_edit.book import Book


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


def idmap_numbers(root: etree._Element) -> set[int]:
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
            block = min(idmap_numbers(vml) or {1})
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
