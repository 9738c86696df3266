"""The numbers of one station: its line of index.html (StationSummary) and SPEC section 4's summary, which
検証結果.json and 県集計.xlsx show.

figures() reads the station's view (station.station_view), so the definitions the pages use (who serves on
a day, which councils exist, which 意見・要望 are open) are the summary's too. The figures live in
StationSummary (the run record keeps them), so 県集計.xlsx is written without the stations' models, and every
number in it is one of 検証結果.json's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING

from pipeline.core.contract import KINDS
from pipeline.core.fmt import fy_label
from pipeline.core.model import fiscal_year
from pipeline.overview.station import StationView, open_opinions, station_view, this_fy_meetings
from pipeline.overview.svg import WIDTH
from pipeline.report import StationSummary

if TYPE_CHECKING:
    from pipeline.report import RunReport


AGE_BANDS = ("〜39", "40代", "50代", "60代", "70以上", "不明")


WOMAN = "女"


def age_band(age: int | None) -> str:
    if age is None:
        return "不明"
    if age < 40:
        return "〜39"
    return f"{age // 10 * 10}代" if age < 70 else "70以上"


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def figures(sv: StationView, as_of: dt.date, regular: int, extra: int, pending: int) -> dict:
    """SPEC section 4's summary of one station on the as-of date (regular, extra and pending as the index
    page counts them), with a row per council and per open 意見・要望 for 県集計.xlsx."""
    fy = fiscal_year(as_of)
    existing = [cv for cv in sv.councils if cv.exists]  # the page's (and model's) "exists on the as-of date"
    kinds = Counter(cv.council.kind if cv.council.kind in KINDS else "その他" for cv in existing)
    serving = [m for cv in sv.councils for m in cv.serving]
    leaders = sum(cv.leaders for cv in sv.councils)
    ages = Counter(age_band(m.age_at(as_of)) for m in serving)
    years: dict[int, list[int]] = {}
    for mt in sv.book.meetings:
        if mt.date and mt.date <= as_of and mt.kind in ("定例", "臨時"):
            counts = years.setdefault(fiscal_year(mt.date), [0, 0])
            counts[0 if mt.kind == "定例" else 1] += 1
    council_rows = []
    for cv in sv.councils:
        c = cv.council
        this = next((y for y in cv.years if y.fy == fy), None)
        council_rows.append(
            {
                "id": c.id,
                "name": c.name,
                "kind": c.kind,
                "posts": c.posts,
                "established": _iso(c.established),
                "exists": cv.exists,
                "serving": len(cv.serving),
                "leaders": cv.leaders,
                "women": sum(1 for m in cv.serving if m.gender == WOMAN),
                "chair": next((m.name for m in cv.chairs), None),
                "regular_this_fy": this.regular if this else 0,
                "extra_this_fy": this.extra if this else 0,
            }
        )
    councils = sv.book.councils_by_id()
    opinion_rows = []
    for o, mt in open_opinions(sv.book):  # Opinion.is_open: a blank 回答 and a blank 措置状況
        c = councils.get(mt.council_id or "") if mt else None
        opinion_rows.append(
            {
                "date": _iso(mt.date) if mt else None,
                "council": (c.name if c else mt.council_id) if mt else None,
                "meeting_id": o.meeting_id,
                "kind": mt.kind if mt else None,
                "text": o.text,
                "days": (as_of - mt.date).days if mt and mt.date and mt.date <= as_of else None,
            }
        )
    return {
        "councils": len(existing),
        "councils_by_kind": {k: kinds[k] for k in (*KINDS, "その他") if k in KINDS or kinds[k]},
        "members_serving": len(serving),
        "leaders": leaders,
        "leader_share": round(leaders / len(serving), 4) if serving else None,
        "women": sum(1 for m in serving if m.gender == WOMAN),
        "age_bands": {b: ages[b] for b in AGE_BANDS},
        "meetings_by_fy": [
            {"fy": y, "label": fy_label(y), "regular": r, "extra": e} for y, (r, e) in sorted(years.items())
        ],
        "meetings_this_fy": {"regular": regular, "extra": extra},
        "no_regular_this_fy": pending,
        "open_opinions": len(opinion_rows),
        "council_rows": council_rows,
        "open_opinion_rows": opinion_rows,
    }


def ensure_summaries(report: RunReport) -> None:
    """Every readable station workbook's summary (a watch run writes no pages, so the workers made none)."""
    for wr in report.workbooks:
        if wr.result.has_book and wr.folder and (wr.summary is None or not wr.summary.figures):
            wr.summary = station_summary(station_view(wr, report.as_of), report.as_of)


INDEX_SQUARES = (WIDTH - 170 - 200) // (14 + 4)  # councils a station's line of the index chart has room for


def station_summary(sv: StationView, as_of: dt.date) -> StationSummary:
    """The index page's figures of one station (see StationSummary)."""
    fy = fiscal_year(as_of)
    regular, extra = this_fy_meetings(sv.book.meetings, as_of)
    squares = []
    for c in [v for v in sv.councils if v.exists][:INDEX_SQUARES]:  # a closed council is history: not charted
        this = next((y_ for y_ in c.years if y_.fy == fy), None)
        if any(y_.state == "missing" for y_ in c.years):
            cls, word = "fy-missing", "過去に定例会議のない年度あり"
        elif this is not None and this.regular:
            cls, word = "term-now", "今年度の定例会議あり"
        else:
            cls, word = "fy-pending", "今年度まだ定例会議なし"
        squares.append((cls, f"{c.council.name or '協議会'}：{word}"))
    summary = StationSummary(
        name=sv.name,
        councils=sum(1 for c in sv.councils if c.exists),
        serving=sum(len(c.serving) for c in sv.councils),
        regular=regular,
        extra=extra,
        pending=sum(1 for c in sv.councils if c.exists and any(y.fy == fy and not y.regular for y in c.years)),
        squares=tuple(squares),
    )
    # SPEC 4's summary (検証結果.json, 県集計.xlsx), with the index's own numbers of this 年度
    return dataclasses.replace(summary, figures=figures(sv, as_of, regular, extra, summary.pending))
