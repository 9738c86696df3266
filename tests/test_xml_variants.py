"""The annotated copy of a workbook whose XML is written another way (issue 21, point 5).

XML allows single-quoted attributes, any prefix for a namespace, whitespace inside tags and between
elements, and a byte-order mark; other tools write all of these. Each variant of one workbook (shared
strings, a merged range, a clerk's legacy comment with its VML shape) must give a copy that openpyxl reads
with the marks in place, that openxml-audit passes, and whose every XML part parses.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree
from openpyxl import load_workbook

from pipeline.core.findings import Severity
from pipeline.workbooks.annotate import LIST_SHEET, annotate_book
from tests.test_annotate import HAVE_AUDIT, audit, clean_book, finding

XML_NS = "http://www.w3.org/XML/1998/namespace"
# Prefixes other writers pick for the namespaces Excel leaves as the default one.
OTHER_PREFIXES = {
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main": "ss",
    "http://schemas.openxmlformats.org/package/2006/relationships": "pr",
    "http://schemas.openxmlformats.org/package/2006/content-types": "ct",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships": "rel",
    "urn:schemas-microsoft-com:vml": "vml",
    "urn:schemas-microsoft-com:office:excel": "xl",
    "urn:schemas-microsoft-com:office:office": "off",
}


class Style:
    def __init__(self, *, quote="'", prefixes=False, spaces=False, bom=False):
        self.quote, self.prefixes, self.spaces, self.bom = quote, prefixes, spaces, bom


def _write(el: etree._Element, style: Style, names: dict[str, str], out: list[str], depth: int, top: bool) -> None:
    """One element as the style writes it (namespace declarations on the root only)."""

    def name(qname: str, attribute: bool = False) -> str:
        q = etree.QName(qname)
        if q.namespace is None:
            return q.localname
        if q.namespace == XML_NS:
            return f"xml:{q.localname}"
        prefix = names[q.namespace]
        if not prefix:
            return q.localname
        return f"{prefix}:{q.localname}"

    sp = "\n  " if style.spaces else " "
    eq = " = " if style.spaces else "="
    qt = style.quote
    attrs = []
    if top:
        for ns, prefix in names.items():
            decl = f"xmlns:{prefix}" if prefix else "xmlns"
            attrs.append(f"{decl}{eq}{qt}{escape(ns, {qt: '&apos;' if qt == chr(39) else '&quot;'})}{qt}")
    for k, v in el.attrib.items():
        value = escape(v, {'"': "&quot;", "'": "&apos;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
        attrs.append(f"{name(k, attribute=True)}{eq}{qt}{value}{qt}")
    tag = name(el.tag)
    out.append(f"<{tag}" + "".join(sp + a for a in attrs))
    if len(el) == 0 and el.text is None:
        out.append(f"{sp if style.spaces else ''}/>")
    else:
        out.append(">")
        if el.text is not None:
            out.append(escape(el.text))
        for child in el:
            if style.spaces and el.text is None:
                out.append("\n" + "  " * (depth + 1))
            if isinstance(child.tag, str):
                _write(child, style, names, out, depth + 1, False)
            if child.tail is not None:
                out.append(escape(child.tail))
        if style.spaces and el.text is None and len(el):
            out.append("\n" + "  " * depth)
        out.append(f"</{tag}{' ' if style.spaces else ''}>")


def rewrite(xml: bytes, style: Style) -> bytes:
    root = etree.fromstring(xml)
    names: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for qname in [el.tag, *el.attrib]:
            ns = etree.QName(qname).namespace
            if ns and ns != XML_NS and ns not in names:
                known = {v: k for k, v in (el.nsmap or {}).items() if v}
                prefix = OTHER_PREFIXES.get(ns) if style.prefixes else known.get(ns)
                names[ns] = prefix if prefix is not None else (known.get(ns) or f"n{len(names)}")
    if not style.prefixes:  # the default namespace stays the default one, as the writer had it
        default = root.nsmap.get(None)
        if default:
            names[default] = ""
    out: list[str] = []
    _write(root, style, names, out, 0, True)
    decl = f"<?xml version={style.quote}1.0{style.quote} encoding={style.quote}UTF-8{style.quote} standalone={style.quote}yes{style.quote}?>"
    if style.spaces:
        decl += "\n\n"
    return (b"\xef\xbb\xbf" if style.bom else b"") + (decl + "".join(out)).encode("utf-8")


def variant(source: Path, target: Path, style: Style) -> Path:
    with zipfile.ZipFile(source) as zin:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename.endswith((".xml", ".rels", ".vml")):
                    data = rewrite(data, style)
                zout.writestr(info.filename, data)
    target.write_bytes(buf.getvalue())
    return target


VARIANTS = {
    "single quotes": Style(),
    "other prefixes": Style(quote='"', prefixes=True),
    "whitespace": Style(quote='"', spaces=True),
    "byte-order mark": Style(quote='"', bom=True),
    "all at once": Style(prefixes=True, spaces=True, bom=True),
}


def _findings():
    return [
        finding("委員", "C2", "委嘱日が不正です", Severity.WARNING),  # a new comment
        finding("委員", "A3", "結合の中"),  # inside the merged A2:A3: shown on A2
        finding("署", "B1", "情報", Severity.INFO),
        finding("委員", "D9", "空欄"),  # a cell and a row the sheet lacks
    ]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return clean_book(tmp_path_factory.mktemp("variants") / "base.xlsx")


def test_the_variants_are_what_they_claim(base, tmp_path):
    """The corpus itself: each variant is well-formed, reads in openpyxl, and differs from Excel's bytes."""
    for label, style in VARIANTS.items():
        path = variant(base, tmp_path / f"{label}.xlsx", style)
        with zipfile.ZipFile(path) as z:
            sst = z.read("xl/sharedStrings.xml")
            etree.fromstring(sst)
            if style.quote == "'":
                assert b"'1.0'" in sst and b'"' not in sst
            if style.prefixes:
                assert b"<ss:sst" in sst
            if style.bom:
                assert sst.startswith(b"\xef\xbb\xbf")
        load_workbook(path)


@pytest.mark.parametrize("label", list(VARIANTS))
def test_a_variant_gives_a_copy_openpyxl_reads_with_every_mark(base, tmp_path, label):
    src = variant(base, tmp_path / "in.xlsx", VARIANTS[label])
    data = annotate_book(src, _findings())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith((".xml", ".rels", ".vml")):
                etree.fromstring(z.read(name))  # every part parses
    out = tmp_path / "copy.xlsx"
    out.write_bytes(data)
    copy = load_workbook(out)
    assert copy.sheetnames[0] == LIST_SHEET
    ws = copy["委員"]
    assert ws["C2"].fill.fgColor.rgb.endswith("FFEB9C") or ws["C2"].fill.fill_type == "solid"
    assert "委嘱日が不正です" in ws["C2"].comment.text
    assert "結合の中" in ws["A2"].comment.text and ws["A2"].fill.fill_type == "solid"
    assert "空欄" in ws["D9"].comment.text
    assert "情報" in copy["署"]["B1"].comment.text
    original = load_workbook(src)
    for name in original.sheetnames:
        assert [[c.value for c in row] for row in original[name].iter_rows()] == [
            [c.value for c in row] for row in copy[name].iter_rows(max_row=original[name].max_row)
        ][: original[name].max_row] or name == "委員"
    listed = [row for row in copy[LIST_SHEET].iter_rows(values_only=True)][1:]
    assert len(listed) == len(_findings())


@pytest.mark.skipif(not HAVE_AUDIT, reason="openxml-audit がありません")
@pytest.mark.parametrize("label", list(VARIANTS))
def test_a_variant_gives_a_copy_openxml_audit_passes(base, tmp_path, label):
    src = variant(base, tmp_path / "in.xlsx", VARIANTS[label])
    out = tmp_path / "copy.xlsx"
    out.write_bytes(annotate_book(src, _findings(), documents=[]))
    assert audit(out) == []


def test_a_rewritten_part_that_does_not_parse_is_never_saved(base, tmp_path, monkeypatch):
    """Each rewritten part is parsed again before the copy is saved: a broken one stops the copy."""
    import pipeline.ooxml.xlsx_edit as xlsx_edit

    real = xlsx_edit.Comments.finish

    def finish(self):
        real(self)
        self.book.dirty[self.part] = self.book.dirty[self.part].replace(b"</comments>", b"</comment>")

    monkeypatch.setattr(xlsx_edit.Comments, "finish", finish)
    with pytest.raises(xlsx_edit.CopyMalformed):
        annotate_book(base, _findings())


@pytest.mark.parametrize("label", list(VARIANTS))
def test_a_variant_of_a_station_workbook_reads_as_the_original(tmp_path, label):
    """The whole run: the same findings as Excel's bytes give (merged 協議会ID cells included), and a copy."""
    from pipeline.report import RunOptions
    from pipeline.run.steps import reports
    from tests.builders import AS_OF, baseline, merge_council_ids, write_book

    original = write_book(tmp_path / "a" / "署.xlsx", baseline())
    merge_council_ids(original)
    (tmp_path / "b").mkdir()
    variant(original, tmp_path / "b" / "署.xlsx", VARIANTS[label])
    want = reports(tmp_path / "a", tmp_path / "out-a", RunOptions(as_of=AS_OF))
    got = reports(tmp_path / "b", tmp_path / "out-b", RunOptions(as_of=AS_OF))
    assert [f.to_json() for f in got.workbooks[0].findings] == [f.to_json() for f in want.workbooks[0].findings]
    assert got.annotated and not got.annotate_failed
    load_workbook(got.annotated[0])
