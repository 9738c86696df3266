"""Excel 365 threaded comments (issue 21, point 9): Excel 365 shows a cell's thread, not the legacy note
beneath it, so a finding on such a cell is added to the thread as a reply by the tool, as well as to the
legacy note; a copy given back loses those replies again, keeping the clerk's."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

from pipeline.core.findings import Severity
from pipeline.workbooks.annotate import AUTHOR, annotate_book
from tests.test_annotate import HAVE_AUDIT, audit, clean_book, finding

TC = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
CLERK = "{6B2A4C1E-0000-4000-8000-000000000001}"
ROOT_ID = "{1A2B3C4D-0000-4000-8000-0000000000A1}"
THREADED_CT = "application/vnd.ms-excel.threadedcomments+xml"
PERSON_CT = "application/vnd.ms-excel.person+xml"
REL = "http://schemas.microsoft.com/office/2017/10/relationships/"
PLACEHOLDER = (
    "[Threaded comment]\n\nYour version of Excel allows you to read this threaded comment; however, any edits "
    "to it will get removed if the file is opened in a newer version of Excel.\n\nComment:\n    入力を確認しました"
)


def threaded_book(path: Path) -> Path:
    """clean_book's 委員!B2 comment as Excel 365 writes a threaded one: the thread (a comment and the
    clerk's reply), the person list, and the legacy placeholder note."""
    clean_book(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    thread = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<ThreadedComments xmlns="{TC}" '
        'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<threadedComment ref="B2" dT="2026-11-20T09:15:00.00" personId="{CLERK}" id="{ROOT_ID}">'
        "<text>入力を確認しました</text></threadedComment>"
        f'<threadedComment ref="B2" dT="2026-11-21T10:00:00.00" personId="{CLERK}" '
        f'id="{{1A2B3C4D-0000-4000-8000-0000000000A2}}" parentId="{ROOT_ID}"><text>住所も確認</text></threadedComment>'
        "</ThreadedComments>"
    ).encode()
    persons = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<personList xmlns="{TC}" '
        'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<person displayName="事務担当" id="{CLERK}" userId="jimu@example.jp" providerId="AD"/></personList>'
    ).encode()
    parts["xl/threadedComments/threadedComment1.xml"] = thread
    parts["xl/persons/person.xml"] = persons
    parts["xl/worksheets/_rels/sheet2.xml.rels"] = parts["xl/worksheets/_rels/sheet2.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rId3" Type="{REL}threadedComment" '
        'Target="../threadedComments/threadedComment1.xml"/></Relationships>'.encode(),
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rId9" Type="{REL}person" Target="persons/person.xml"/></Relationships>'.encode(),
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        f'<Override PartName="/xl/threadedComments/threadedComment1.xml" ContentType="{THREADED_CT}"/>'
        f'<Override PartName="/xl/persons/person.xml" ContentType="{PERSON_CT}"/></Types>'.encode(),
    )
    legacy = parts["xl/comments1.xml"].decode()
    legacy = legacy.replace("<author>事務担当</author>", f"<author>tc={ROOT_ID}</author>")
    start, end = legacy.index("<text>"), legacy.index("</text>") + len("</text>")
    legacy = legacy[:start] + f'<text><t xml:space="preserve">{PLACEHOLDER}</t></text>' + legacy[end:]
    parts["xl/comments1.xml"] = legacy.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _thread(data: bytes) -> list[dict]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        root = etree.fromstring(z.read("xl/threadedComments/threadedComment1.xml"))
        people = {
            p.get("id"): p.get("displayName")
            for p in etree.fromstring(z.read("xl/persons/person.xml")).iter(f"{{{TC}}}person")
        }
    return [
        {
            "ref": c.get("ref"),
            "who": people.get(c.get("personId")),
            "parent": c.get("parentId"),
            "text": c.findtext(f"{{{TC}}}text"),
        }
        for c in root.iter(f"{{{TC}}}threadedComment")
    ]


def _findings():
    return [finding("委員", "B2", "氏名の表記を確認してください"), finding("委員", "C2", "日付", Severity.WARNING)]


def test_a_finding_on_a_threaded_cell_is_a_reply_in_its_thread(tmp_path):
    src = threaded_book(tmp_path / "in" / "b.xlsx")
    data = annotate_book(src, _findings())
    thread = _thread(data)
    assert [t["who"] for t in thread] == ["事務担当", "事務担当", AUTHOR]  # the clerk's thread, then the tool
    reply = thread[-1]
    assert reply["ref"] == "B2" and reply["parent"] == ROOT_ID
    assert "氏名の表記を確認してください" in reply["text"] and "public-office" in reply["text"]
    assert not any(t["ref"] == "C2" for t in thread)  # no thread there: the legacy note is enough
    out = tmp_path / "copy.xlsx"
    out.write_bytes(data)
    copy = load_workbook(out)  # read back with openpyxl
    note = copy["委員"]["B2"].comment.text
    assert "入力を確認しました" in note and "氏名の表記を確認してください" in note  # the legacy note as well
    assert "日付" in copy["委員"]["C2"].comment.text
    assert annotate_book(src, _findings()) == data  # deterministic: the same bytes again


def test_a_copy_given_back_loses_the_tools_replies_and_keeps_the_clerks(tmp_path):
    src = threaded_book(tmp_path / "in" / "b.xlsx")
    first = tmp_path / "copy.xlsx"
    first.write_bytes(annotate_book(src, _findings()))
    again = annotate_book(first, [finding("委員", "C2", "日付", Severity.WARNING)])  # B2 fixed
    thread = _thread(again)
    assert [(t["who"], t["text"]) for t in thread] == [("事務担当", "入力を確認しました"), ("事務担当", "住所も確認")]
    out = tmp_path / "again.xlsx"
    out.write_bytes(again)
    note = load_workbook(out)["委員"]["B2"].comment.text
    assert "氏名の表記" not in note and "入力を確認しました" in note
    # Marked again: one reply, not two.
    third = annotate_book(first, _findings())
    assert [t["who"] for t in _thread(third)].count(AUTHOR) == 1


@pytest.mark.skipif(not HAVE_AUDIT, reason="openxml-audit がありません")
def test_the_copy_with_a_reply_passes_openxml_audit(tmp_path):
    src = threaded_book(tmp_path / "in" / "b.xlsx")
    out = tmp_path / "copy.xlsx"
    out.write_bytes(annotate_book(src, _findings(), documents=[]))
    assert audit(out) == audit(src) == []
