"""The blank input workbook: every sheet and header, drop-down lists, an 記入例 row and an 説明 sheet."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.core.contract import (
    CHOICES,
    EXAMPLE_MARK,
    EXAMPLES,
    GENDERS,
    JOB_KINDS,
    MEETING_KINDS,
    POST_TYPES,
    RANKS,
    REPORT_TO,
    SHEETS,
    SheetSpec,
)
from pipeline.core.write import atomic_write
from pipeline.ooxml.xlsx_clean import clean_xlsx

ROWS = 500  # rows prepared with drop-downs and formats
DATE_FORMAT = '[$-ja-JP]ggge"年"m"月"d"日"'
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
EXAMPLE_FONT = Font(color="808080", italic=True)

LISTS: dict[str, list[str]] = {
    "種別": list(dict.fromkeys(CHOICES["種別"].values())),
    "職種等区分": [f"{k}{v}" for k, v in JOB_KINDS.items()],
    "交番等区分": POST_TYPES,
    "階級": RANKS,
    "性別": GENDERS,
    "区分": list(dict.fromkeys(CHOICES["区分"].values())),
    "会議種別": MEETING_KINDS,
    "報告先": REPORT_TO,
}


EXPLAIN = [
    (
        "使い方",
        "各シートの1行目が見出しです。2行目（灰色の斜体）は記入例で、検証では読み飛ばします。消してもかまいません。",
    ),
    ("使い方", "3行目から1件1行で入力してください。行の間の空行、右側の余分な列（メモ欄など）は無視します。"),
    ("使い方", "日付は Excel の日付のほか「令和7年4月1日」「2025/4/1」「R7.4.1」などの文字でも入力できます。"),
    ("使い方", "セル内の改行（Alt+Enter）は、Wordの文書でも改行になります。"),
    ("使い方", "選択肢のある列はドロップダウンから選んでください。"),
    (
        "履歴",
        "ブックは何年も使う履歴です。退任・解嘱・署長の交代・協議会の廃止や移管は、前の記録を書き換えず、日付を足して記録します。",
    ),
    (
        "履歴",
        "委員が任期の途中で辞めたときは、その行の「退任日」（在任した最後の日）と「退任理由」を入力します。任期満了日は変えません（交付済みの委嘱状の任期は変わりません）。後任は新しい行に、任期満了日を前任者と同じにして「前任者」を入力します。",
    ),
    (
        "履歴",
        "署長が交代したときは、シート「署長」に新しい署長の氏名と着任日の行を追加します。委嘱状には交付日に在任の署長を印字します（シート「署長」がなければ、シート「署」の署長氏名をすべての委嘱状に印字するので、名前を変えると交付済みの委嘱状も作り直されます）。",
    ),
    (
        "履歴",
        "協議会が統合・分割・移管・廃止でなくなったときは「廃止日」（最後の日）と「廃止理由」を、他署から移管されたときは「移管日」と「移管元」を入力します。",
    ),
]


def _column_help(spec: SheetSpec) -> list[tuple[str, str, str, str]]:
    rows = []
    for c in spec.columns:
        need = "必須" if c.required else ("場合により必須" if "必須" in c.help else "任意")
        choices = "・".join(LISTS[c.choices or c.name]) if c.kind == "choice" else "・".join(c.suggest)
        rows.append(
            (spec.name, c.name, need, "　".join(x for x in (c.help, f"選択肢：{choices}" if choices else "") if x))
        )
    return rows


def build_template() -> Workbook:
    wb = Workbook()
    info = wb.active
    info.title = "説明"
    info.append(["シート", "項目・列", "必須", "説明"])
    for cell in info[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for topic, text in EXPLAIN:
        info.append([topic, "", "", text])
    for spec in SHEETS:
        for row in _column_help(spec):
            info.append(list(row))
    info.column_dimensions["A"].width = 10
    info.column_dimensions["B"].width = 18
    info.column_dimensions["C"].width = 14
    info.column_dimensions["D"].width = 90
    info.freeze_panes = "A2"
    for spec in SHEETS:
        ws = wb.create_sheet(spec.name)
        if spec.key_value:
            _station_sheet(ws, spec)
        else:
            _record_sheet(ws, spec)
    return wb


def _station_sheet(ws, spec: SheetSpec) -> None:
    ws.append(["項目", "値", "説明"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for c in spec.columns:
        ws.append([c.name, None, ("（必須）" if c.required else "") + c.help])
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 60
    ws.freeze_panes = "A2"


def _record_sheet(ws, spec: SheetSpec) -> None:
    example = EXAMPLES.get(spec.name, {})
    for i, c in enumerate(spec.columns, start=1):
        cell = ws.cell(1, i, c.name)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if c.help:
            cell.comment = Comment(c.help, "雛形")
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = (
            14 if c.kind in ("date", "choice") else max(10, min(30, len(c.name) * 2 + 4))
        )
        ex = ws.cell(2, i, example.get(c.name))
        ex.font = EXAMPLE_FONT
        if c.kind == "date":
            for r in range(2, ROWS + 2):
                ws.cell(r, i).number_format = DATE_FORMAT
        elif c.kind == "time":
            for r in range(2, ROWS + 2):
                ws.cell(r, i).number_format = "h:mm"
        if c.kind == "choice":
            values = LISTS[c.choices or c.name]
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(values) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",  # aliases such as 単位連絡協議会 are still accepted by the reader
                errorTitle="選択肢にない値",
                error="一覧にない値です。このまま入力すると検証で指摘される場合があります。",
            )
            dv.add(f"{letter}2:{letter}{ROWS + 1}")
            ws.add_data_validation(dv)
        elif c.suggest:
            # Free text accepted (統合, 辞任, 中間連絡 … or the clerk's own words): the list only suggests.
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(c.suggest) + '"',
                allow_blank=True,
                showErrorMessage=False,
            )
            dv.add(f"{letter}2:{letter}{ROWS + 1}")
            ws.add_data_validation(dv)
    marker = ws.cell(2, len(spec.columns) + 1, EXAMPLE_MARK)
    marker.font = EXAMPLE_FONT
    ws.freeze_panes = "A2"


def write_template(path: Path) -> None:
    """Write the template atomically, cleaned so that Excel opens it without a repair or a rewrite."""
    buf = io.BytesIO()
    build_template().save(buf)
    atomic_write(path, clean_xlsx(buf.getvalue()))
