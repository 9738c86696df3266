"""Reading workbooks as clerks really keep them, and refusing what is not a workbook."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from pipeline.checking.result import Options
from pipeline.checking.validate import validate_workbook
from pipeline.reading.read import read_workbook
from tests.builders import (
    AS_OF,
    D,
    baseline,
    cell_of,
    make_inline_string,
    merge_council_ids,
    use_builtin_date_format,
    use_shared_strings,
    write_book,
)


def _validate(path):
    return validate_workbook(path, Options(as_of=AS_OF))


def _messy(tmp_path):
    """The baseline, rewritten with title rows, header variants, blank rows and extra columns."""
    sheets = baseline()
    variants = {
        "氏名": "氏　名",
        "委嘱日": "委嘱日（任期開始日）",
        "任期満了日": "任期終了日",
        "協議会ID": " 協議会ＩＤ ",
        "区分": "選定区分(注)",
        "参加委員数": "参加委員数※",
        "名称": "協議会名",
    }
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        if name == "署":
            ws.append(["署の情報"])
            for r in rows:
                ws.append([r["項目"], r["値"]])
            continue
        ws.append([f"{name}一覧（令和8年度）"])
        ws.append([])
        headers = list(rows[0].keys())
        ws.append(["メモ", *[variants.get(h, h) for h in headers], None, None])
        for i, r in enumerate(rows):
            if i % 3 == 1:
                ws.append([])
            ws.append(["", *[r[h] for h in headers]])
    path = tmp_path / "messy.xlsx"
    wb.save(path)
    return path


def test_messy_layout_reads_like_the_clean_one(tmp_path):
    clean = _validate(write_book(tmp_path / "clean.xlsx", baseline()))
    messy = _validate(_messy(tmp_path))
    assert messy.findings == []
    assert [m.name for m in messy.book.members] == [m.name for m in clean.book.members]
    assert [(m.start, m.end, m.category) for m in messy.book.members] == [
        (m.start, m.end, m.category) for m in clean.book.members
    ]
    assert len(messy.book.meetings) == len(clean.book.meetings)


def test_cells_point_at_the_real_excel_rows(tmp_path):
    path = _messy(tmp_path)
    wb = load_workbook(path)
    ws = wb["委員"]
    # Header is on row 3 and column B holds 協議会ID (column A is the clerk's own メモ).
    ws["D6"] = "春"  # 性別 of the third record: blank row after the first puts it on row 6
    headers = [c.value for c in ws[3]]
    col = headers.index("性別") + 1
    ws.cell(6, col, "不明")
    wb.save(path)
    r = _validate(path)
    bad = [f for f in r.findings if f.rule == "bad-choice"]
    assert [(f.sheet, f.cell, f.row, f.column) for f in bad] == [
        ("委員", f"{ws.cell(6, col).column_letter}6", 6, "性別")
    ]


def test_text_dates_full_width_counts_and_line_breaks(tmp_path):
    sheets = baseline()
    m = sheets["委員"][10]
    m["委嘱日"], m["任期満了日"], m["生年月日"] = "令和8年4月1日", "R10.3.31", "昭和25年5月1日"
    mt = sheets["会議"][2]
    mt["開催日"], mt["参加委員数"], mt["開始時刻"], mt["終了時刻"] = "２０２６年６月１０日", "８人", "午後2時", "15:30"
    mt["備考"] = "一行目\n二行目"
    r = _validate(write_book(tmp_path / "b.xlsx", sheets))
    assert r.findings == []
    member = r.book.members[10]
    assert (member.start, member.end, member.birth) == (D(2026, 4, 1), D(2028, 3, 31), D(1950, 5, 1))
    meeting = r.book.meetings[2]
    assert (meeting.date, meeting.members_n, meeting.start_time) == (D(2026, 6, 10), 8, dt.time(14, 0))
    assert meeting.note == "一行目\n二行目"


@pytest.mark.parametrize(
    "number_format",
    ['[$-ja-JP]ggge"年"m"月"d"日"', "[$-411]ge.m.d", 'yyyy"年"m"月"d"日"', "yyyy/m/d", "General"],
)
def test_excel_dates_in_japanese_formats(tmp_path, number_format):
    sheets = baseline()
    path = write_book(tmp_path / "b.xlsx", sheets)
    wb = load_workbook(path)
    ws = wb["協議会"]
    cell = ws["I2"]  # 設置日
    assert ws["I1"].value == "設置日"
    cell.value = 45383 if number_format == "General" else dt.datetime(2024, 4, 1)  # serial of 2024-04-01
    cell.number_format = number_format
    wb.save(path)
    r = _validate(path)
    assert r.findings == []
    assert r.book.councils[0].established == D(2024, 4, 1)


def test_example_row_of_the_template_is_skipped(tmp_path):
    sheets = baseline()
    sheets["会議"].insert(0, {k: None for k in sheets["会議"][0]} | {"会議ID": "記入例"})
    r = _validate(write_book(tmp_path / "b.xlsx", sheets))
    assert r.findings == []
    assert [m.id for m in r.book.meetings] == ["M1", "M2", "M3", "M4"]


def test_station_sheet_without_station_name(tmp_path):
    sheets = baseline()
    sheets["署"] = [{"項目": "署長氏名", "値": "大槻　正和"}]
    r = _validate(write_book(tmp_path / "b.xlsx", sheets))
    f = [f for f in r.findings if f.rule == "required-value"]
    assert [(f.sheet, f.column) for f in f] == [("署", "警察署名")]
    from pipeline.documents.plan import Blockers

    assert {f.rule for f in Blockers(r.book, r.findings, r.canon).workbook} == {"required-value"}


def test_station_name_blank_points_at_its_cell(tmp_path):
    sheets = baseline()
    sheets["署"][0]["値"] = None
    r = _validate(write_book(tmp_path / "b.xlsx", sheets))
    assert [(f.rule, f.sheet, f.cell, f.row) for f in r.findings] == [("required-value", "署", "B1", 1)]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members.items():
            z.writestr(n, d)
    return buf.getvalue()


def _valid_bytes(tmp_path) -> bytes:
    return write_book(tmp_path / "ok.xlsx", baseline()).read_bytes()


UNREADABLE = [
    ("empty", lambda t: b"", "空"),
    ("old-xls-or-encrypted", lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "パスワード"),
    ("renamed-csv", lambda t: "協議会ID,名称\n1,一番町\n".encode("cp932"), "CSV"),
    ("truncated", lambda t: _valid_bytes(t)[:3000], "壊れて"),
    ("zip-not-xlsx", lambda t: _zip({"hello.txt": b"hi"}), "形式"),
    (
        "zip-bomb",
        lambda t: _zip({"xl/workbook.xml": b"<a/>", "xl/worksheets/sheet1.xml": b"0" * 300_000_000}),
        "大きい",
    ),
    ("bad-xml", lambda t: _zip({"[Content_Types].xml": b"<bad", "xl/workbook.xml": b"<bad"}), "読み込めません"),
]


@pytest.mark.parametrize("make,word", [c[1:] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE])
def test_unreadable_files_become_a_finding(tmp_path, make, word):
    path = tmp_path / "station.xlsx"
    path.write_bytes(make(tmp_path))
    before = path.read_bytes()
    r = _validate(path)
    assert r.unreadable and r.status == "unreadable"
    assert [f.rule for f in r.findings] == ["file-unreadable"]
    assert word in r.findings[0].message and "station.xlsx" in r.findings[0].message
    assert path.read_bytes() == before


def test_xml_entities_are_not_expanded(tmp_path):
    """A billion-laughs style shared string table must not be expanded (defusedxml)."""
    path = write_book(tmp_path / "b.xlsx", baseline())
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    wb_xml = members["xl/workbook.xml"].decode()
    decl_end = wb_xml.index("?>") + 2 if wb_xml.startswith("<?xml") else 0
    doctype = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    members["xl/workbook.xml"] = (wb_xml[:decl_end] + doctype + wb_xml[decl_end:]).encode()
    path.write_bytes(_zip(members))
    r = _validate(path)
    assert r.unreadable
    assert r.findings[0].rule == "file-unreadable"


def test_xlsm_is_accepted(tmp_path):
    path = write_book(tmp_path / "b.xlsm", baseline())
    r = _validate(path)
    assert r.findings == [] and r.station == "テスト警察署"


def test_missing_optional_sheets_are_fine(tmp_path):
    sheets = baseline()
    del sheets["意見要望"], sheets["選挙期間"]
    r = _validate(write_book(tmp_path / "b.xlsx", sheets))
    assert r.findings == []


def test_reader_keeps_raw_values_for_messages(tmp_path):
    sheets = baseline()
    sheets["委員"][0]["委嘱日"] = "令和6年13月1日"
    book = read_workbook(write_book(tmp_path / "b.xlsx", sheets))
    table = book.tables["委員"]
    assert table.frame.at[2, "委嘱日"] == "令和6年13月1日"
    assert table.cell("委嘱日", 2) == "K2"


def test_two_row_headers_and_sheet_name_variants(tmp_path):
    """運営責任者 merged over 職名/階級/氏名, sheets called 委員名簿 and 会議記録, keys with a colon."""
    sheets = baseline()
    path = write_book(tmp_path / "b.xlsx", sheets)
    wb = load_workbook(path)
    ws = wb["協議会"]
    ws.insert_rows(1)
    headers = [c.value for c in ws[2]]
    first = headers.index("運営責任者職名") + 1
    ws.cell(1, first, "運営責任者")
    ws.merge_cells(start_row=1, start_column=first, end_row=1, end_column=first + 2)
    for i, sub in enumerate(("職名", "階級", "氏名")):
        ws.cell(2, first + i, sub)
    wb["委員"].title = "委員名簿"
    wb["会議"].title = "会議記録"
    wb["署"]["A1"] = "警察署名："
    wb.save(path)
    r = _validate(path)
    assert r.findings == []
    c = r.book.councils[0]
    assert (c.manager_title, c.manager_rank, c.manager_name) == ("交番所長", "警部補", "千葉　健一")
    assert len(r.book.members) == 20 and r.station == "テスト警察署"


def test_spacing_in_names_and_roles_does_not_matter(tmp_path):
    sheets = baseline()
    for rec in sheets["委員"][10:]:
        rec["氏名"] = rec["氏名"].replace("　", "")  # 佐藤一郎 in the second term
    sheets["委員"][10]["役職"] = "会　長"
    r = _validate(write_book(tmp_path / "b.xlsx", sheets))
    assert r.findings == []
    # The same person twice with overlapping terms is still caught across spellings.
    sheets["委員"].append(dict(sheets["委員"][12], 氏名="鈴木 健一", 委嘱日=D(2026, 5, 1)))
    r = _validate(write_book(tmp_path / "c.xlsx", sheets))
    assert [f.rule for f in r.findings] == ["duplicate-id"]


def test_check_boxes_in_public_office(tmp_path):
    sheets = baseline()
    sheets["委員"][10]["公職"] = False
    sheets["委員"][11]["公職"] = 0
    sheets["委員"][12]["公職"] = True
    r = _validate(write_book(tmp_path / "b.xlsx", sheets))
    assert [(f.rule, f.cell) for f in r.findings] == [("public-office", "J14")]


def test_sub_headers_below_a_merged_header(tmp_path):
    """Header on row 4 with 運営責任者 merged over 職名 | 階級 | 氏名 on row 5; records from row 6."""
    sheets = baseline()
    path = write_book(tmp_path / "b.xlsx", sheets)
    wb = load_workbook(path)
    ws = wb["協議会"]
    ws.insert_rows(1, 3)
    ws["A1"] = "連絡協議会一覧表"
    ws["A2"] = "※ 太枠内を入力"
    ws.insert_rows(5)
    headers = [c.value for c in ws[4]]
    first = headers.index("運営責任者職名") + 1
    for i, sub in enumerate(("職名", "階級", "氏名")):
        ws.cell(4, first + i, "運営責任者" if i == 0 else None)
        ws.cell(5, first + i, sub)
    ws.merge_cells(start_row=4, start_column=first, end_row=4, end_column=first + 2)
    ws.cell(6, first, "駐在所長")  # planted: a 交番 needs its 交番所長
    wb.save(path)
    r = _validate(path)
    assert [(f.rule, f.sheet, f.cell) for f in r.findings] == [
        ("manager-designation", "協議会", f"{ws.cell(6, first).column_letter}6")
    ]
    c = r.book.councils[0]
    assert (c.manager_rank, c.manager_name) == ("警部補", "千葉　健一")


def test_layout_errors_come_alone(tmp_path):
    """With a required column missing, the cross-sheet rules stay quiet until the layout is fixed."""
    sheets = baseline()
    for rec in sheets["委員"]:
        del rec["協議会ID"]
    r = _validate(write_book(tmp_path / "b.xlsx", sheets))
    assert [(f.rule, f.column) for f in r.findings] == [("column-missing", "協議会ID")]


@pytest.mark.parametrize("format_id", [27, 30, 31, 36, 50, 57, 58])
def test_builtin_japanese_date_format_ids(tmp_path, format_id):
    """Excel's locale-specific built-in ids (27-36, 50-58) have no format code in the file."""
    sheets = baseline()
    path = write_book(tmp_path / "b.xlsx", sheets)
    wb = load_workbook(path)
    cell = wb["協議会"]["I2"]  # 設置日
    cell.value = dt.datetime(2024, 4, 1)
    cell.number_format = "yyyy/mm/dd;@"  # a custom format, replaced below by the bare built-in id
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    styles = members["xl/styles.xml"].decode()
    custom_id = re.search(r'<numFmt numFmtId="(\d+)" formatCode="yyyy/mm/dd;@"', styles)[1]
    styles = re.sub(r"<numFmts.*?</numFmts>", "", styles, flags=re.S)
    styles = styles.replace(f'numFmtId="{custom_id}"', f'numFmtId="{format_id}"')
    members["xl/styles.xml"] = styles.encode()
    path.write_bytes(_zip(members))
    r = _validate(path)
    assert r.findings == []
    assert r.book.councils[0].established == D(2024, 4, 1)


def test_merged_cells_read_as_their_anchor(tmp_path):
    """One 協議会ID merged down beside all its members, as clerks lay such lists out."""
    sheets = baseline()
    path = write_book(tmp_path / "b.xlsx", sheets)
    merge_council_ids(path)
    r = _validate(path)
    assert r.findings == []
    assert {m.council_id for m in r.book.members} == {"C1"}


def test_station_sheet_laid_out_across(tmp_path):
    """署 as one header row (警察署名 | 署長氏名) and one row of values."""
    path = write_book(tmp_path / "b.xlsx", baseline())
    wb = load_workbook(path)
    del wb["署"]
    ws = wb.create_sheet("署", 0)
    ws.append(["警察署の情報"])
    ws.append(["警察署名", "署長氏名", "委嘱状敬称"])
    ws.append(["横書き警察署", None, "様"])
    wb.save(path)
    r = _validate(path)
    assert r.findings == []
    assert (r.station, r.book.station.honorific) == ("横書き警察署", "様")
    ws["A3"] = None
    wb.save(path)
    r = _validate(path)
    assert [(f.rule, f.sheet, f.cell) for f in r.findings] == [("required-value", "署", "A3")]


# --- the 1904 date system -----------------------------------------------------------------------


@pytest.mark.parametrize("format_id", [27, 31, 57, 58])
def test_1904_workbook_with_builtin_japanese_date_formats(tmp_path, format_id):
    """A workbook saved in the 1904 date system: serials count from 1904-01-01 (Excel's definition).

    Its dates carry built-in Japanese format ids, which arrive as plain numbers; read from 1899-12-30 they
    would be 1,462 days early. Every planted date must read back as the calendar date the clerk typed.
    """
    sheets = baseline()
    path = write_book(tmp_path / "b.xlsx", sheets, date1904=True)
    use_builtin_date_format(path, format_id)
    with zipfile.ZipFile(path) as z:
        assert b'date1904="1"' in z.read("xl/workbook.xml")
        sheet = z.read("xl/worksheets/sheet2.xml").decode()
    # The planted 設置日 2024-04-01 is stored as its 1904 serial, a plain number with format `format_id`.
    serial = (D(2024, 4, 1) - D(1904, 1, 1)).days
    assert re.search(rf'<c r="{cell_of(sheets, "協議会", 0, "設置日")}" s="\d+"[^>]*><v>{serial}</v>', sheet)
    r = _validate(path)
    assert [(f.rule, f.cell, f.message) for f in r.findings] == []
    assert r.book.councils[0].established == D(2024, 4, 1)
    expected = [(m["生年月日"], m["委嘱日"], m["任期満了日"]) for m in sheets["委員"]]
    assert [(m.birth, m.start, m.end) for m in r.book.members] == expected
    assert [mt.date for mt in r.book.meetings] == [m["開催日"] for m in sheets["会議"]]
    assert [(e.notice, e.vote) for e in r.book.elections] == [(D(2025, 7, 20), D(2025, 8, 3))]


def test_1904_workbook_with_recognised_date_format(tmp_path):
    """Date cells with an ordinary format (which openpyxl converts itself) read right in 1904 workbooks too."""
    sheets = baseline()
    r = _validate(write_book(tmp_path / "b.xlsx", sheets, date1904=True))
    assert r.findings == []
    assert [m.start for m in r.book.members] == [m["委嘱日"] for m in sheets["委員"]]


def test_1904_workbook_year_alone_is_still_questioned(tmp_path):
    """A year typed alone stays a year in any date system: bad-date at its cell, not a date of 1909."""
    sheets = baseline()
    sheets["委員"][0]["生年月日"] = 1950
    r = _validate(write_book(tmp_path / "b.xlsx", sheets, date1904=True))
    assert [(f.rule, f.cell) for f in r.findings if f.rule == "bad-date"] == [
        ("bad-date", cell_of(sheets, "委員", 0, "生年月日"))
    ]


# --- Excel's _xHHHH_ escapes ---------------------------------------------------------------------


def test_escapes_in_shared_strings_are_decoded(tmp_path):
    """Excel writes CR as _x000D_, control characters as _x0001_ and a typed "_x0041_" as "_x005F_x0041_".

    openpyxl keeps _x000D_ as text and drops every "x005F_"; the reader decodes as Excel does and then drops
    what XML cannot hold. Phonetic runs (ふりがな that Excel stores with the text) are not part of the text.
    """
    sheets = baseline()
    path = write_book(tmp_path / "b.xlsx", sheets)
    job = [cell_of(sheets, "委員", i, "職業") for i in range(4)]
    use_shared_strings(
        path,
        "xl/worksheets/sheet3.xml",
        {
            job[0]: "<t>会社員_x000D_\n（営業）</t>",
            job[1]: "<t>自営業_x0001__x001F_</t>",
            job[2]: "<t>型番_x005F_x0041_と_x005f_x000d_</t>",
            job[3]: '<t>農業_x0009_</t><rPh sb="0" eb="2"><t>ノウギョウ</t></rPh>',
            cell_of(sheets, "委員", 4, "氏名"): "<r><t>千葉</t></r><r><rPr><b/></rPr><t>_x0001_　誠</t></r>",
        },
    )
    r = _validate(path)
    assert r.findings == []
    jobs = [m.job for m in r.book.members[:4]]
    assert jobs == ["会社員\n（営業）", "自営業", "型番_x0041_と_x000d_", "農業"]
    assert r.book.members[4].name == "千葉　誠"


def test_escapes_in_inline_strings_are_decoded(tmp_path):
    """Inline strings (openpyxl, xlsxwriter's constant-memory mode, Apache POI) carry the same escapes."""
    sheets = baseline()
    sheets["会議"][0]["備考"] = "備考"
    path = write_book(tmp_path / "b.xlsx", sheets)
    make_inline_string(
        path,
        "xl/worksheets/sheet3.xml",
        cell_of(sheets, "委員", 0, "職業"),
        "会社員_x000D_\n_x0002_（営業）_x005F_x0030_",
    )
    make_inline_string(path, "xl/worksheets/sheet4.xml", cell_of(sheets, "会議", 0, "備考"), "資料_x000D_\n配布")
    r = _validate(path)
    assert r.findings == []
    assert r.book.members[0].job == "会社員\n（営業）_x0030_"
    assert r.book.meetings[0].note == "資料\n配布"


def test_text_without_escapes_is_untouched(tmp_path):
    """An underscore or "x005F_" typed without Excel's escape syntax reads as typed."""
    sheets = baseline()
    path = write_book(tmp_path / "b.xlsx", sheets)
    use_shared_strings(
        path,
        "xl/worksheets/sheet3.xml",
        {
            cell_of(sheets, "委員", 0, "職業"): "<t>a_b_x12_ x005F_ _x00ZZ_</t>",
            cell_of(sheets, "委員", 1, "職業"): "<t>_x000D_会社員</t>",
        },
    )
    make_inline_string(path, "xl/worksheets/sheet3.xml", cell_of(sheets, "委員", 2, "職業"), "x005F_ _x00_")
    r = _validate(path)
    assert [m.job for m in r.book.members[:3]] == ["a_b_x12_ x005F_ _x00ZZ_", "会社員", "x005F_ _x00_"]
