"""What each form prints: model objects turned into the plain strings the templates place."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata

from pipeline.core import fmt
from pipeline.core.contract import KINDS
from pipeline.core.model import Council, Meeting, Member, Station

FIELDS: dict[str, set[str]] = {
    "委嘱状": {"name", "honorific", "council_name", "start", "end", "issued", "station", "chief"},
    "設置報告書": {
        "addressee", "doc_no", "report_date", "station", "name", "kind", "members",
        "manager_title", "manager_rank", "manager_name",
    },
    "開催結果報告書": {
        "addressee", "station", "report_date", "reporter_post", "reporter_rank", "reporter_name", "district",
        "council_name", "when", "place", "members_n", "officers_n", "local_n", "other_n",
        "regular_mark", "round", "extra_mark", "opinions", "annex", "held", "note",
    },
}  # fmt: skip

HAND = "　　　"  # left blank for hand entry
ROLE_ORDER = {"会長": 0, "副会長": 1}
HONORIFIC = "殿"  # 委嘱状: when the workbook gives none; the template puts one full-width space before it

# 様式第3号 fits on one page with up to 5 opinions of up to 60 characters, answers alike (SPEC 5).
# Measured in printed lines: an opinion cell (65 mm, 10.5 pt) holds 16 characters a line; a value
# cell of the upper rows (130 mm, 12 pt) 29; the 備考 row has room for 3 lines before it grows.
INLINE_OPINIONS = 5
OPINION_CHARS = 16
OPINION_LINES = 20  # 5 opinions x 4 lines (60 characters)
VALUE_CHARS = 29
NOTE_LINES = 3


def text_lines(s: str, per_line: int) -> int:
    """Printed lines of s in a cell that holds per_line full-width characters (half-width count half)."""
    total = 0
    for seg in s.split("\n"):
        width = sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in seg)
        total += max(1, math.ceil(width / per_line))
    return total


def opinions_fit(opinions: list[dict], upper: list[str], note: str) -> bool:
    """Whether the opinions fit in the form itself; otherwise they go to a 別紙.

    Extra lines taken by long values above (所管区名, 協議会名, 開催場所) or by a long 備考 come out
    of the opinions' share of the page (12 pt lines are taller than 10.5 pt ones: 17 against 14 pt).
    """
    if len(opinions) > INLINE_OPINIONS:
        return False
    used = sum(max(text_lines(o["text"], OPINION_CHARS), text_lines(o["answer"], OPINION_CHARS)) for o in opinions)
    extra = sum(text_lines(v, VALUE_CHARS) - 1 for v in upper)
    extra += max(0, text_lines(note, VALUE_CHARS) - NOTE_LINES)
    return used + math.ceil(extra * 17 / 14) <= OPINION_LINES


def chief_for(station: Station, day: dt.date | None) -> str:
    """The 署長 a document dated `day` names: with sheet 署長 the one in office that day (blank for hand entry
    before the first 着任日); without it 署!署長氏名."""
    if station.has_chief_sheet:
        chief = station.chief_on(day)
        return chief.name if chief is not None and chief.name else HAND
    return station.chief_name or HAND


def commission(station: Station, council: Council, m: Member) -> dict:
    """別記様式第1号 委嘱状: the term as appointed (never 退任日), the 署長 in office on its 交付日."""
    return {
        "name": m.name,
        "honorific": (station.honorific or "").strip(" 　") or HONORIFIC,
        "council_name": council.name,
        "start": fmt.wareki(m.start, fmt.BLANK_DATE),
        "end": fmt.wareki(m.end, fmt.BLANK_DATE),
        "issued": fmt.wareki(m.issue_date, fmt.BLANK_DATE),
        "station": station.name,
        "chief": chief_for(station, m.issue_date),
    }


def roster_day(council: Council) -> dt.date | None:
    """The date of a 設置報告書: 報告日, else 設置日."""
    return council.report_date or council.established


def roster(council: Council, members: list[Member]) -> tuple[dt.date | None, list[Member]]:
    """委員の構成: members serving on 報告日 (else 設置日), or if none the earliest later term's members who
    have not left by its start; ordered 会長, 副会長, other officers, 委員 by their 役職 on that day."""
    day = roster_day(council)
    if day is None:
        return None, []
    serving = [m for m in members if m.serving(day)]
    on = day
    if not serving:
        later = sorted({m.start for m in members if m.start and m.start > day})
        if later:
            on = later[0]
            serving = [m for m in members if m.start == on and m.serving(on)]
    serving.sort(key=lambda m: (_role_rank(m.role_key_on(day)), m.row))  # 役職 as on the document's date
    return day, serving


def _role_rank(key: str | None) -> int:
    return ROLE_ORDER.get(key or "", 9 if key == "委員" else 5)


def establishment(station: Station, council: Council, members: list[Member]) -> dict:
    """別記様式第2号 交番・駐在所連絡協議会設置報告書."""
    day, listed = roster(council, members)
    kind = KINDS.get(council.kind or "", council.kind or "")
    if council.reason:
        kind += f"（{council.reason}）"
    return {
        "addressee": station.addressee,
        "doc_no": council.doc_no or HAND,
        "report_date": fmt.wareki(council.report_date, fmt.BLANK_DATE),
        "station": station.name,
        "name": council.name,
        "kind": kind,
        "members": [
            {
                "name": m.name,
                "role": m.role_on(day),
                "age": "" if day is None or m.age_at(day) is None else str(m.age_at(day)),
                "gender": m.gender or "",
                "job": m.job or "",
            }
            for m in listed
        ],
        "manager_title": council.manager_title,
        "manager_rank": council.manager_rank,
        "manager_name": council.manager_name,
    }


def meeting(station: Station, council: Council, mt: Meeting) -> dict:
    """別記様式第3号 連絡協議会開催結果報告書."""
    to = {"署長": "長", "副署長": "副署長", "次長": "次長"}.get(mt.report_to or "署長", "長")
    note = []
    if mt.theme:
        note.append(f"テーマ：{mt.theme}")
    if mt.note:
        note.append(mt.note)
    if mt.outsiders:
        note.append(f"（委員以外の参加者：{mt.outsiders}）")
    # A 回答 given after the report's date prints on no filed report (回答日 blank: answered at the meeting).
    report_day = mt.report_date or mt.date
    opinions = [{"text": fmt.text(o.text), "answer": fmt.text(o.printed_answer(report_day))} for o in mt.opinions]
    regular = mt.kind == "定例"
    upper = [fmt.text(council.district), fmt.text(council.name), fmt.text(mt.place)]
    annex = not opinions_fit(opinions, upper, "\n".join(note))
    return {
        "addressee": f"{station.name}{to}",
        "station": station.name,  # not printed by the shipped template: for an office's own (header, title)
        "report_date": fmt.wareki(mt.report_date, fmt.BLANK_DATE),
        "reporter_post": mt.reporter_post,
        "reporter_rank": mt.reporter_rank,
        "reporter_name": mt.reporter_name,
        "district": council.district,
        "council_name": council.name,
        "when": fmt.meeting_when(mt.date, mt.start_time, mt.end_time),
        "place": mt.place,
        "members_n": fmt.count(mt.members_n),
        "officers_n": fmt.count(mt.officers_n),
        "local_n": fmt.count(mt.local_n or 0),
        "other_n": fmt.count(mt.other_n or 0),
        "regular_mark": fmt.mark(regular),
        "round": str(mt.round) if regular and mt.round is not None else "　",
        "extra_mark": fmt.mark(mt.kind == "臨時"),
        # One empty row when nothing was recorded, so the form keeps a row to write in.
        "opinions": opinions or [{"text": "", "answer": ""}],
        # True: 開催状況 prints 「別紙のとおり」 and every opinion goes to a 別紙 after the form.
        "annex": annex,
        "held": fmt.wareki(mt.date),  # the 別紙 heading names the meeting's date
        "note": "\n".join(note),
    }
