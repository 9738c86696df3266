"""Build station workbooks inside tests (no hand-edited binary fixtures)."""

from __future__ import annotations

import copy
import datetime as dt
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904

D = dt.date
AS_OF = D(2026, 11, 27)

NAMES = [
    ("佐藤　一郎", "男", D(1950, 5, 1), "自治会等役員", "会長"),
    ("高橋　洋子", "女", D(1962, 8, 12), "自治体・公的機関職員", "副会長"),
    ("鈴木　健一", "男", D(1975, 1, 30), "公益的団体関係者", "委員"),
    ("阿部　恵子", "女", D(1980, 3, 3), "ボランティア団体関係者", "委員"),
    ("千葉　誠", "男", D(1990, 11, 11), "その他", "委員"),
    ("伊藤　美香", "女", D(1970, 7, 7), "自治会等役員", "委員"),
    ("菅原　浩", "男", D(1958, 2, 14), "その他", "委員"),
    ("佐々木　由美", "女", D(1985, 6, 6), "公益的団体関係者", "委員"),
    ("遠藤　隆", "男", D(1966, 9, 9), "その他", "委員"),
    ("渡辺　愛", "女", D(1995, 4, 4), "その他", "委員"),
]


def council(**kw) -> dict:
    row = {
        "協議会ID": "C1", "名称": "一番町交番連絡協議会", "種別": "所管区", "職種等区分": None, "設置理由": None,
        "交番等": "一番町交番", "交番等区分": "交番", "所管区名": "一番町交番所管区", "設置日": D(2024, 4, 1),
        "運営責任者職名": "交番所長", "運営責任者階級": "警部補", "運営責任者氏名": "千葉　健一",
        "文書番号": None, "報告日": None,
    }  # fmt: skip
    row.update(kw)
    return row


def member(i: int, start: dt.date, end: dt.date, **kw) -> dict:
    name, gender, birth, cat, role = NAMES[i]
    row = {
        "協議会ID": "C1", "氏名": name, "ふりがな": None, "性別": gender, "生年月日": birth, "年齢": None,
        "職業": "会社員", "役職": role, "区分": cat, "公職": "無", "委嘱日": start, "任期満了日": end,
        "交付日": None, "初回委嘱日": None, "前任者": None, "任期変更": None,
    }  # fmt: skip
    row.update(kw)
    return row


def meeting(mid: str, day: dt.date, **kw) -> dict:
    row = {
        "会議ID": mid, "協議会ID": "C1", "会議種別": "定例", "回次": 1, "開催日": day,
        "開始時刻": dt.time(14, 0), "終了時刻": dt.time(15, 30), "開催場所": "一番町交番", "参加委員数": 8,
        "参加警察官数": 4, "地域幹部数": 1, "その他幹部数": 1, "委員以外の参加者": None, "テーマ": "防犯",
        "報告日": day + dt.timedelta(days=2), "報告者交番等": "一番町交番", "報告者階級": "巡査部長",
        "報告者氏名": "千葉　健一", "報告先": "署長", "備考": None,
    }  # fmt: skip
    row.update(kw)
    return row


def baseline() -> dict[str, list[dict]]:
    """A valid workbook on AS_OF: one council, ten members over two terms, a 定例 meeting every 年度."""
    t1 = (D(2024, 4, 1), D(2026, 3, 31))
    t2 = (D(2026, 4, 1), D(2028, 3, 31))
    members = [member(i, *t1, 初回委嘱日=t1[0]) for i in range(10)]
    members += [member(i, *t2, 初回委嘱日=t1[0]) for i in range(10)]
    meetings = [
        meeting("M1", D(2024, 6, 10)),
        meeting("M2", D(2025, 6, 10)),
        meeting("M3", D(2026, 6, 10)),
        meeting("M4", D(2026, 9, 1), 会議種別="臨時", 回次=None),
    ]
    return {
        "署": [{"項目": "警察署名", "値": "テスト警察署"}, {"項目": "署長氏名", "値": "大槻　正和"}],
        "協議会": [council()],
        "委員": members,
        "会議": meetings,
        "意見要望": [{"会議ID": "M1", "意見・要望": "街路灯が暗い。", "回答": "市に伝えます。"}],
        "選挙期間": [{"選挙名": "市長選挙", "告示日": D(2025, 7, 20), "投票日": D(2025, 8, 3)}],
    }


def sheets_copy(sheets: dict) -> dict:
    return copy.deepcopy(sheets)


def write_book(path: Path, sheets: dict[str, list[dict]], *, header_row: int = 1, date1904: bool = False) -> Path:
    """Write sheets as a clerk's workbook: headers at `header_row`, records right below.

    `date1904` saves it in Excel's 1904 date system (<workbookPr date1904="1"/>, serials from 1904-01-01).
    """
    wb = Workbook()
    wb.remove(wb.active)
    if date1904:
        wb.epoch = CALENDAR_MAC_1904
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        if name == "署":
            for r in rows:
                ws.append([r["項目"], r["値"]])
            continue
        headers: list[str] = []
        for r in rows:
            headers += [k for k in r if k not in headers]
        if not rows:  # a sheet with no record yet still has the blank template's headers
            from pipeline.core.contract import SHEETS

            headers = [c.name for spec in SHEETS if spec.name == name for c in spec.columns]
        for c, h in enumerate(headers, start=1):
            ws.cell(header_row, c, h)
        for i, r in enumerate(rows):
            for c, h in enumerate(headers, start=1):
                ws.cell(header_row + 1 + i, c, r.get(h))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def cell_of(sheets: dict, sheet: str, index: int, column: str, header_row: int = 1) -> str:
    """The A1 address write_book gives record `index` of `sheet` in `column`."""
    headers: list[str] = []
    for r in sheets[sheet]:
        headers += [k for k in r if k not in headers]
    return f"{get_column_letter(headers.index(column) + 1)}{header_row + 1 + index}"


def merge_council_ids(path: Path) -> None:
    """Merge the 委員 sheet's 協議会ID cells down (A2:A21), the way clerks group members by council."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["委員"]
    for r in range(3, 22):
        ws.cell(r, 1).value = None
    ws.merge_cells("A2:A21")
    wb.save(path)


def rewrite_part(path: Path, part: str, edit: Callable[[str], str]) -> None:
    """Edit one XML part of a saved workbook in place, the way a hostile or foreign tool could have written it."""
    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            z.writestr(info, edit(data.decode("utf-8")).encode("utf-8") if info.filename == part else data)


def use_builtin_date_format(path: Path, num_fmt_id: int = 57) -> None:
    """Give every date cell Excel's built-in Japanese date format `num_fmt_id` (57 = ggge"年"m"月"d"日").

    Excel refers to its built-in formats 27-36 and 50-58 by id alone, with no <numFmt> entry; openpyxl does
    not know them as dates, so such cells read as plain serial numbers.
    """

    def edit(xml: str) -> str:
        ids = re.findall(r'<numFmt numFmtId="(\d+)" formatCode="yyyy-mm-dd"/>', xml)
        assert ids, "no date format to replace"
        for i in ids:
            xml = xml.replace(f'numFmtId="{i}"', f'numFmtId="{num_fmt_id}"')
        return xml.replace(f'<numFmt numFmtId="{num_fmt_id}" formatCode="yyyy-mm-dd"/>', "")

    rewrite_part(path, "xl/styles.xml", edit)


def use_shared_strings(path: Path, sheet_part: str, cells: dict[str, str]) -> None:
    """Store `cells` of one sheet in a shared string table, as Excel does (openpyxl writes inline strings).

    Each value is the raw inner XML of its <si>: escapes, rich-text runs and phonetic runs as Excel writes them.
    """
    table = "".join(f"<si>{inner}</si>" for inner in cells.values())
    sst = f'<sst xmlns="{MAIN_NS}" count="{len(cells)}" uniqueCount="{len(cells)}">{table}</sst>'
    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            xml = data.decode("utf-8") if info.filename.endswith((".xml", ".rels")) else None
            if info.filename == "[Content_Types].xml":
                xml = xml.replace(
                    "</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_TYPE}"/></Types>'
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                rel = f'<Relationship Id="rIdSst" Type="{SST_REL}" Target="sharedStrings.xml"/>'
                xml = xml.replace("</Relationships>", rel + "</Relationships>")
            elif info.filename == sheet_part:
                for i, cell in enumerate(cells):
                    xml, n = re.subn(rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)', f'<c r="{cell}" t="s"><v>{i}</v></c>', xml)
                    assert n == 1, f"{cell} not found in {sheet_part}"
            z.writestr(info, xml.encode("utf-8") if xml is not None else data)
        z.writestr("xl/sharedStrings.xml", sst)


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def make_inline_string(path: Path, sheet_part: str, cell: str, text_xml: str) -> None:
    """Turn `cell` of `sheet_part` into an inline string cell holding `text_xml` (as xlsxwriter or POI write them)."""

    def edit(xml: str) -> str:
        new, n = re.subn(
            rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)', f'<c r="{cell}" t="inlineStr"><is><t>{text_xml}</t></is></c>', xml
        )
        assert n == 1, f"{cell} not found in {sheet_part}"
        return new

    rewrite_part(path, sheet_part, edit)
