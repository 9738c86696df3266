"""Overview pages: 概要.html per station and index.html across stations, self-contained HTML with inline SVG."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from . import clock, svg
from .checks import LEADER_SHARE, MEMBER_COUNT, Ctx, missing_regular_years
from .contract import CATEGORIES, ELECTION_BOOK, LEADER_CATEGORIES
from .findings import RULES, Finding
from .fmt import wareki, wareki_fy
from .model import Book, Council, Election, Meeting, Member, Opinion, add_years, fiscal_year
from .plan import STATUS_LABEL
from .result import StationSummary
from .svg import esc
from .write import ANNOTATED, INDEX, OVERVIEW, atomic_write

if TYPE_CHECKING:
    from .run import RunReport, WorkbookRun

EXPIRY_DAYS = Ctx.expiry_days  # 第6-3: the window term-expiry looks ahead
MEMBER_RANGE = MEMBER_COUNT  # 第6-1 おおむね10人程度: the rule's own parameters (checks.py), never a copy
PAST_YEARS, FUTURE_YEARS = 15, 5  # the time axis never stretches further for a mistyped year

STATUS_LABELS = {"ok": "問題なし", "warnings": "警告あり", "errors": "エラーあり", "unreadable": "読み込めません"}
DOC_STATUS_LABELS = STATUS_LABEL
FORMS = ("委嘱状", "設置報告書", "開催結果報告書")
ERA_SHORT = {"令和": "R", "平成": "H", "昭和": "S", "大正": "T", "明治": "M"}

# Chart geometry (SVG user units; CSS scales the charts down to the page or A4 width).
WIDTH = 760  # about the printable width of A4 at 96 dpi, so charts print near full size
LABEL_W = 200
PLOT_X0, PLOT_X1 = LABEL_W + 8, WIDTH - 12
ROW_H = 17
AXIS_H = 36


# A station page stays an overview however large the workbook: the charts of the first councils, then a
# line per council; the first rows of each list, then where the rest is (検証結果.xlsx has every row).
MAX_COUNCIL_SECTIONS = 100
MAX_FINDING_ROWS = 200  # per 要綱 article
MAX_DOCUMENT_ROWS = 1000


def _date(d: dt.date | None, blank: str = "") -> str:
    """和暦 as the forms print it; a date before 明治 (a typo) is shown as typed rather than failing."""
    try:
        return wareki(d, blank)
    except ValueError:
        return d.isoformat() if d else blank


def _fy(fy: int) -> str:
    try:
        return wareki_fy(fy)
    except ValueError:
        return f"{fy}年度"


def _next_day(d: dt.date) -> dt.date:
    return d if d == dt.date.max else d + dt.timedelta(days=1)


def _covers(e: Election, day: dt.date) -> bool:
    return bool(e.notice and e.vote and e.vote > dt.date.min and e.covers(day))


# --- data ---------------------------------------------------------------------------


@dataclass
class FyRow:
    fy: int
    regular: int = 0
    extra: int = 0
    state: str = "ok"  # ok | missing (a whole 年度 without 定例) | pending (this 年度, none yet) | partial | future


@dataclass
class CouncilView:
    council: Council
    members: list[Member]
    meetings: list[Meeting]
    serving: list[Member]
    leaders: int
    chairs: list[Member]
    years: list[FyRow]
    rules: set[str]  # rule ids of findings on this council's row
    exists: bool = True  # on the as-of date; a closed council is shown below the open ones, marked 廃止


@dataclass
class StationView:
    wr: WorkbookRun
    name: str
    book: Book
    findings: list[Finding]
    councils: list[CouncilView]
    axis: svg.DateScale
    flagged: dict[tuple[str, int], set[str]]  # (canonical sheet, row) -> rule ids
    counts: Counter = field(default_factory=Counter)


def _severities(findings: Iterable[Finding]) -> Counter:
    return Counter(f.severity.value for f in findings)


def _canon(wr: WorkbookRun, sheet: str | None) -> str:
    return wr.result.canon.get(sheet or "", sheet or "")


def _this_fy_meetings(meetings: Iterable[Meeting], as_of: dt.date) -> tuple[int, int]:
    """(定例, 臨時) held in the 年度 of the as-of date, up to that date."""
    fy = fiscal_year(as_of)
    regular = extra = 0
    for mt in meetings:
        if mt.date and mt.date <= as_of and fiscal_year(mt.date) == fy:
            if mt.kind == "定例":
                regular += 1
            elif mt.kind == "臨時":
                extra += 1
    return regular, extra


def _axis(book: Book, as_of: dt.date) -> svg.DateScale:
    """One time axis per station, whole 年度 from the earliest record to 60 days past the as-of date."""
    lo_limit, hi_limit = add_years(as_of, -PAST_YEARS), add_years(as_of, FUTURE_YEARS)
    starts = [c.established for c in book.councils] + [m.start for m in book.members] + [m.date for m in book.meetings]
    ends = [m.end for m in book.members] + [m.date for m in book.meetings]
    lo = min([d for d in starts if d and d >= lo_limit] + [as_of])
    hi = max([d for d in ends if d and d <= hi_limit] + [as_of + dt.timedelta(days=EXPIRY_DAYS)])
    return svg.DateScale(dt.date(fiscal_year(lo), 4, 1), dt.date(fiscal_year(hi) + 1, 4, 1), PLOT_X0, PLOT_X1)


def _years(c: Council, meetings: list[Meeting], as_of: dt.date, axis: svg.DateScale) -> list[FyRow]:
    """Meetings per 年度, the 年度 the regular-meeting rule (第7-2(1)) reports marked missing: the same
    computation as the rule (checks.missing_regular_years), so the page and the findings always agree."""
    rows: dict[int, FyRow] = {}
    first = fiscal_year(axis.start)
    last = fiscal_year(axis.end - dt.timedelta(days=1))
    begins = c.begins
    start_fy = fiscal_year(begins) if begins else None
    dated = [mt.date for mt in meetings if mt.date]
    lo = max(first, start_fy if start_fy is not None else min(map(fiscal_year, dated), default=fiscal_year(as_of)))
    hi = min(last, max([fiscal_year(as_of), *map(fiscal_year, dated)]))
    for fy in range(lo, hi + 1):
        rows[fy] = FyRow(fy)
    for mt in meetings:
        if mt.date and fiscal_year(mt.date) in rows:
            row = rows[fiscal_year(mt.date)]
            if mt.kind == "定例":
                row.regular += 1
            elif mt.kind == "臨時":
                row.extra += 1
    warn, info = missing_regular_years(c, meetings, as_of)
    missing = set(warn) | set(info)
    for fy, row in rows.items():
        begin, end = dt.date(fy, 4, 1), dt.date(fy + 1, 3, 31)
        if row.regular:
            row.state = "ok"
        elif begin > as_of:
            row.state = "future"
        elif fy in missing:
            row.state = "missing"
        elif end > as_of and c.exists(as_of):
            row.state = "pending"
        elif c.closed is not None and c.closed < end:
            row.state = "closed"  # the 年度 of 廃止日 or after it
        else:
            row.state = "partial"  # the 年度 of 設置日 (移管日, 廃止日), or outside them: no 定例 required
    return [rows[k] for k in sorted(rows)]


def station_view(wr: WorkbookRun, as_of: dt.date) -> StationView:
    """What the station page shows, computed once from the model and the findings."""
    book = wr.result.book
    assert book is not None
    findings = wr.findings
    flagged: dict[tuple[str, int], set[str]] = defaultdict(set)
    for f in findings:
        if f.row is not None:
            flagged[(_canon(wr, f.sheet), f.row)].add(f.rule)
    members_by: dict[str | None, list[Member]] = defaultdict(list)
    for m in book.members:
        members_by[m.council_id].append(m)
    meetings_by: dict[str | None, list[Meeting]] = defaultdict(list)
    for mt in book.meetings:
        meetings_by[mt.council_id].append(mt)
    axis = _axis(book, as_of)
    councils = []
    for c in book.councils_by_id().values():
        members = members_by.get(c.id, [])
        serving = [m for m in members if book.serving_in(c, m, as_of)]
        meetings = meetings_by.get(c.id, [])
        councils.append(
            CouncilView(
                council=c,
                members=members,
                meetings=meetings,
                serving=serving,
                leaders=sum(1 for m in serving if m.category in LEADER_CATEGORIES),
                chairs=[m for m in serving if m.role_key_on(as_of) == "会長"],
                years=_years(c, meetings, as_of, axis),
                rules=flagged.get(("協議会", c.row), set()),
                exists=_open(c, as_of),
            )
        )
    # Closed councils (廃止日 passed) below the open ones, each group in workbook order.
    councils.sort(key=lambda v: not v.exists)
    name = wr.result.station or wr.result.path.stem
    return StationView(wr, name, book, findings, councils, axis, flagged, _severities(findings))


# --- charts ---------------------------------------------------------------------------


def _fy_label(fy: int, width: float) -> str:
    full = _fy(fy)
    if width >= 62:
        return full
    era = next((k for k in ERA_SHORT if full.startswith(k)), None)
    if era is None:
        return str(fy)
    year = full[len(era) :].removesuffix("年度")
    return f"{ERA_SHORT[era]}{1 if year == '元' else year}"


def _axis_layer(axis: svg.DateScale, height: float, as_of: dt.date) -> list[str]:
    """年度 columns with labels, the next 60 days shaded and the as-of line, over the whole chart height."""
    out = []
    fy, last = fiscal_year(axis.start), fiscal_year(axis.end - dt.timedelta(days=1))
    n = last - fy + 1
    width = (axis.x1 - axis.x0) / max(n, 1)
    step = 1 if width >= 30 else (2 if width >= 15 else 5)
    for i, year in enumerate(range(fy, last + 1)):
        x = axis.x(dt.date(year, 4, 1))
        if i % 2:
            out.append(svg.rect(x, AXIS_H - 4, width, height - AXIS_H + 4, "fy-band"))
        out.append(svg.line(x, AXIS_H - 8, x, height, "tick"))
        if i % step == 0:
            out.append(svg.text(x + width * step / 2, AXIS_H - 11, _fy_label(year, width * step), "axis", "middle"))
    soon = as_of + dt.timedelta(days=EXPIRY_DAYS)
    x_now, x_soon = axis.x(as_of), axis.x(soon)
    out.append(svg.rect(x_now, AXIS_H - 4, x_soon - x_now, height - AXIS_H + 4, "soon", f"{EXPIRY_DAYS}日以内"))
    out.append(svg.line(x_now, AXIS_H - 6, x_now, height, "asof"))
    return out


def _asof_label(axis: svg.DateScale, as_of: dt.date) -> str:
    x = axis.x(as_of)
    anchor = "end" if x > WIDTH - 290 else "start"
    dx = -4 if anchor == "end" else 4
    return svg.text(x + dx, 11, f"基準日 {_date(as_of)}（以後{EXPIRY_DAYS}日を網掛け）", "asof-label", anchor)


def _open(c: Council, as_of: dt.date) -> bool:
    """Shown with the open councils: not closed by the as-of date (one set up later is still to come)."""
    return c.closed is None or c.closed >= as_of


def _served_until(m: Member, c: Council) -> dt.date | None:
    """The last day the term was served: 任期満了日, 退任日, or the council's 廃止日, whichever is first."""
    last = m.last_day
    if last is not None and c.closed is not None and c.closed < last:
        return c.closed
    return last


def _term_class(m: Member, as_of: dt.date, c: Council) -> str:
    soon = as_of + dt.timedelta(days=EXPIRY_DAYS)
    last = _served_until(m, c)
    if last is not None and last < as_of:
        return "term-past"
    if m.start is not None and m.start > as_of:
        return "term-future"
    if m.end is not None and m.end <= soon:
        return "term-ending"
    return "term-now"


def _people(members: list[Member]) -> list[tuple[str, list[Member]]]:
    """Terms grouped by person (names compared as clerks read them), earliest first."""
    groups: dict[str, list[Member]] = {}
    for m in members:
        key = m.person or f"\0{m.row}"  # a row without a name is its own person
        groups.setdefault(key, []).append(m)
    out = []
    for terms in groups.values():
        terms.sort(key=lambda m: (m.start or dt.date.max, m.row))
        out.append((terms[0].name or "（氏名なし）", terms))
    out.sort(key=lambda p: (p[1][0].start or dt.date.max, p[1][0].row))
    return out


def timeline_svg(view: CouncilView, sv: StationView, as_of: dt.date) -> str:
    """Every member's terms on the station's time axis, one row per person."""
    axis = sv.axis
    people = _people(view.members)
    height = AXIS_H + max(len(people), 1) * ROW_H + 8
    body = [_asof_label(axis, as_of), *_axis_layer(axis, height, as_of)]
    if not people:
        body.append(svg.text(PLOT_X0 + 8, AXIS_H + 12, "委員の登録がありません", "note"))
    for i, (name, terms) in enumerate(people):
        y = AXIS_H + i * ROW_H
        current = next((t for t in terms if sv.book.serving_in(view.council, t, as_of)), None)
        shown = current or terms[-1]
        long = any("long-tenure" in sv.flagged.get(("委員", t.row), ()) for t in terms)
        mark = CATEGORIES.get(shown.category or "", "")
        label = [svg.text(4, y + 12, svg.clip(name, 8), "name" + (" serving" if current else ""))]
        label.append(svg.text(104, y + 12, svg.clip(shown.role_on(as_of) or "", 4), "role"))
        if mark:
            label.append(svg.text(146, y + 12, f"({mark})", "cat"))
        if long:
            label.append(svg.text(LABEL_W - 2, y + 12, "長期", "long", "end"))
        body.extend(label)
        undated = [t for t in terms if t.start is None or t.end is None]
        for t in terms:
            if t in undated or not axis.visible(t.start, t.end):
                continue
            cls = _term_class(t, as_of, view.council)
            # A member who left is drawn to his 退任日 (or the council's 廃止日): the days served, not the
            # term as appointed.
            last = _served_until(t, view.council)
            last = last if last is not None and last >= t.start else t.end
            x0, x1 = axis.x(t.start), axis.x(_next_day(last))
            h = 6 if cls == "term-past" else 11
            tip = f"{name}　{t.role or ''}　{_date(t.start)}～{_date(t.end)}"
            if t.left is not None:
                tip += f"（{_date(t.left)}退任{('・' + t.leave_reason) if t.leave_reason else ''}）"
            body.append(svg.rect(x0 + 0.5, y + (ROW_H - h) / 2, max(x1 - x0 - 1, 1.5), h, cls, tip))
        if undated:
            body.append(svg.text(PLOT_X0 + 4, y + 12, "任期の日付が読めない行があります", "note"))
    return svg.svg(WIDTH, height, body, f"{view.council.name or '協議会'}の委員の任期")


def meetings_svg(view: CouncilView, sv: StationView, as_of: dt.date) -> str:
    """Meetings per 年度 (定例 ● and 臨時 ◆), 年度 without a 定例 shaded, election periods below."""
    axis = sv.axis
    elections = [
        e for e in sv.book.elections if e.notice and e.vote and e.notice < e.vote and axis.visible(e.notice, e.vote)
    ]
    lanes = _election_lanes(elections, axis)
    lane_h = 40
    height = AXIS_H + lane_h + 8 + max(len(lanes), 1) * 18 + 6
    body = [_asof_label(axis, as_of), *_axis_layer(axis, height, as_of)]
    body.append(svg.text(4, AXIS_H + 16, "会議", "name"))
    body.append(svg.text(4, AXIS_H + 32, "●定例　◆臨時", "role"))
    for row in view.years:
        x0, x1 = axis.x(dt.date(row.fy, 4, 1)), axis.x(dt.date(row.fy + 1, 4, 1))
        if row.state in ("missing", "pending"):
            tip = "定例会議の記録がない年度" if row.state == "missing" else "この年度の定例会議はまだ記録がありません"
            body.append(svg.rect(x0 + 1, AXIS_H, x1 - x0 - 2, lane_h, f"fy-{row.state}", tip))
            word = "定例なし" if row.state == "missing" else "定例未開催"
            if x1 - x0 >= 56:
                body.append(svg.text((x0 + x1) / 2, AXIS_H + 12, word, f"fy-{row.state}-label", "middle"))
        w = x1 - x0
        count = (
            f"定例{row.regular}・臨時{row.extra}" if w >= 80 else (f"定{row.regular}・臨{row.extra}" if w >= 48 else "")
        )
        body.append(svg.text((x0 + x1) / 2, AXIS_H + lane_h - 3, count, "count", "middle"))
    cy = AXIS_H + 22
    for mt in sorted(view.meetings, key=lambda m: (m.date or dt.date.max, m.row)):
        if not mt.date or not axis.visible(mt.date, mt.date):
            continue
        x = axis.x(mt.date)
        during = next((e for e in sv.book.elections if _covers(e, mt.date)), None)
        tip = f"{_date(mt.date)} {_meeting_kind(mt)}" + (f"（{during.name}の選挙運動期間中）" if during else "")
        cls = "mt-regular" if mt.kind == "定例" else "mt-extra"
        if during:
            cls += " mt-election"
        body.append(svg.circle(x, cy, 4.5, cls, tip) if mt.kind == "定例" else svg.diamond(x, cy, 5.5, cls, tip))
    y0 = AXIS_H + lane_h + 8
    body.append(svg.text(4, y0 + 13, "選挙運動期間", "name"))
    if not lanes:
        body.append(svg.text(PLOT_X0 + 4, y0 + 13, "登録された選挙はありません", "note"))
    for i, lane in enumerate(lanes):
        y = y0 + i * 18
        for e in lane:
            last = e.vote - dt.timedelta(days=1)
            x0, x1 = axis.x(e.notice), axis.x(e.vote)
            tip = f"{e.name or '選挙'}　{_date(e.notice)}～{_date(last)}"
            body.append(svg.rect(x0, y + 3, max(x1 - x0, 2.5), 12, "election", tip))
            body.append(svg.text(x1 + 3, y + 13, svg.clip(e.name or "選挙", 12), "election-label"))
    return svg.svg(WIDTH, height, body, f"{view.council.name or '協議会'}の会議と選挙運動期間")


def _election_lanes(elections: list[Election], axis: svg.DateScale) -> list[list[Election]]:
    """Stack elections so that no two labels overlap (a label takes about 12 characters)."""
    lanes: list[list[Election]] = []
    ends: list[float] = []
    for e in sorted(elections, key=lambda e: (e.notice, e.vote, e.row)):
        x0 = axis.x(e.notice)
        x_end = axis.x(e.vote) + 3 + 12 * min(len(e.name or "選挙"), 12)
        for i, end in enumerate(ends):
            if x0 > end + 4:
                lanes[i].append(e)
                ends[i] = x_end
                break
        else:
            lanes.append([e])
            ends.append(x_end)
    return lanes


def gauge_members(n: int) -> str:
    top = max(20, n)
    x0, x1, y = 6, 254, 14

    def x(v: float) -> float:
        return x0 + (x1 - x0) * v / top

    body = [
        svg.rect(x0, y - 6, x1 - x0, 12, "gauge-bg"),
        svg.rect(x(MEMBER_RANGE[0]), y - 6, x(MEMBER_RANGE[1]) - x(MEMBER_RANGE[0]), 12, "gauge-ok"),
        svg.line(x(10), y - 9, x(10), y + 9, "gauge-target"),
        svg.rect(x0, y - 3, x(n) - x0, 6, "gauge-bar"),
        svg.text(x(10), y + 20, "10人", "axis", "middle"),
        svg.text(x(MEMBER_RANGE[0]), y + 20, str(MEMBER_RANGE[0]), "axis", "middle"),
        svg.text(x(MEMBER_RANGE[1]), y + 20, str(MEMBER_RANGE[1]), "axis", "middle"),
    ]
    return svg.svg(260, 38, body, f"在任委員{n}人（おおむね10人程度）", "gauge")


def gauge_share(leaders: int, n: int) -> str:
    x0, x1, y = 6, 254, 14
    share = leaders / n if n else 0.0

    def x(v: float) -> float:
        return x0 + (x1 - x0) * v

    body = [
        svg.rect(x0, y - 6, x1 - x0, 12, "gauge-bg"),
        svg.rect(x(LEADER_SHARE), y - 6, x(1) - x(LEADER_SHARE), 12, "gauge-ok"),
        svg.line(x(0.5), y - 9, x(0.5), y + 9, "gauge-target"),
        svg.rect(x0, y - 3, x(share) - x0, 6, "gauge-bar"),
        svg.text(x(0.5), y + 20, "半数", "axis", "middle"),
        svg.text(x(0), y + 20, "0%", "axis", "start"),
        svg.text(x(1), y + 20, "100%", "axis", "end"),
    ]
    return svg.svg(260, 38, body, f"(ア)～(エ)の委員の割合 {leaders}人／{n}人", "gauge")


# --- HTML ---------------------------------------------------------------------------

CSS = """
:root{--ink:#1d2733;--muted:#5b6673;--line:#c9d1da;--err:#b3261e;--warn:#9a6200;--info:#2f5f8f;--ok:#2e7d32}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0 auto;max-width:1000px;padding:16px 20px 40px;color:var(--ink);background:#fff;line-height:1.55;
font-family:"Hiragino Kaku Gothic ProN","Hiragino Sans","Yu Gothic UI","Yu Gothic","Meiryo","Noto Sans CJK JP",
"Noto Sans JP","IPAexGothic","IPAGothic","IPAexMincho","IPAMincho",sans-serif;font-size:14px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid var(--ink);padding-bottom:2px}
h3{font-size:16px;margin:18px 0 6px}
.sub{color:var(--muted);margin:0 0 12px}
nav a{margin-right:14px}
a{color:#174ea6}
table{border-collapse:collapse;width:100%;margin:6px 0 10px}
th,td{border:1px solid var(--line);padding:3px 6px;vertical-align:top;text-align:left}
th{background:#eef2f6;font-weight:bold}
td.n,th.n{text-align:right;white-space:nowrap}
td.nowrap{white-space:nowrap}
td a{overflow-wrap:anywhere}
tr.total td{font-weight:bold;background:#f6f8fa}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:6px 12px;min-width:110px}
.card b{display:block;font-size:22px}
.card .label{color:var(--muted);font-size:12px}
.council{border:1px solid var(--line);border-radius:8px;padding:10px 14px;margin:14px 0;break-inside:auto}
.council.closed{background:#f6f6f6;border-style:dashed}
.council h3{margin-top:0}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:4px 0 8px}
.fact{min-width:260px}
.fact .v{font-size:15px}
.badge{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;color:#fff;white-space:nowrap}
.b-error{background:var(--err)}.b-warning{background:var(--warn)}.b-info{background:var(--info)}.b-ok{background:var(--ok)}
.b-unreadable{background:#444}
.muted{color:var(--muted)}
th.fy-missing,td.fy-missing{background:#f6c9c6;color:#7a1510}
th.fy-pending,td.fy-pending{background:#ffe8b3}
table.years th,table.years td{padding:2px 4px}
.pre{white-space:pre-wrap}
figure{margin:6px 0 10px;break-inside:avoid}
figcaption{font-size:12px;color:var(--muted)}
svg.chart{max-width:100%;height:auto;display:block}
svg.gauge{width:260px;max-width:100%;height:auto;display:block}
svg text{font-size:12px;fill:var(--ink)}
svg .axis{font-size:11px;fill:var(--muted)}
svg .name{font-size:12px}
svg .name.serving{font-weight:bold}
svg .role{font-size:11px;fill:var(--muted)}
svg .cat{font-size:11px;fill:#2e7d32}
svg .long{font-size:11px;fill:var(--err);font-weight:bold}
svg .note{font-size:11px;fill:var(--muted)}
svg .count{font-size:11px;fill:var(--ink)}
svg .fy-band{fill:#f3f5f8}
svg .tick{stroke:#d5dbe2;stroke-width:1}
svg .soon{fill:#ffb74d;fill-opacity:.28}
svg .asof{stroke:#c62828;stroke-width:2}
svg .asof-label{font-size:11px;fill:#c62828;font-weight:bold}
svg .term-past{fill:#a9b2bd}
svg .term-now{fill:#2f6fb3}
svg .term-ending{fill:#e07b00}
svg .term-future{fill:#dbe9f7;stroke:#2f6fb3;stroke-width:1;stroke-dasharray:3 2}
svg .fy-missing{fill:#f6c9c6}
svg .fy-pending{fill:#ffe8b3}
svg .fy-missing-label{font-size:11px;fill:var(--err);font-weight:bold}
svg .fy-pending-label{font-size:11px;fill:var(--warn);font-weight:bold}
svg .mt-regular{fill:#2f6fb3}
svg .mt-extra{fill:#7b3fa0}
svg .mt-election{stroke:#c62828;stroke-width:2.5}
svg .election{fill:#6d7681;fill-opacity:.55}
svg .election-label{font-size:11px;fill:#3d4650}
svg .gauge-bg{fill:#eceff3}
svg .gauge-ok{fill:#cfe8d0}
svg .gauge-target{stroke:#1d2733;stroke-width:1.5}
svg .gauge-bar{fill:#2f6fb3}
.legend svg{vertical-align:middle}
.legend{font-size:12px;color:var(--muted);margin:2px 0 4px}
.legend span{margin-right:14px;white-space:nowrap}
details summary{cursor:pointer}
@page{size:A4 portrait;margin:12mm}
@media print{
body{max-width:none;padding:0;font-size:10.5pt}
nav,.noprint{display:none}
h2{break-after:avoid}
a{color:inherit;text-decoration:none}
.council{border-color:#999}
details{display:block}
}
"""


def _page(title: str, body: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _href(path: str) -> str:
    return quote(path, safe="/")


def _badge(severity: str, label: str | None = None) -> str:
    words = {"error": "エラー", "warning": "警告", "info": "情報"}
    return f'<span class="badge b-{esc(severity)}">{esc(label or words.get(severity, severity))}</span>'


def _meeting_kind(mt: Meeting) -> str:
    if mt.kind == "定例":
        return f"定例（第{mt.round}回）" if mt.round is not None else "定例"
    return mt.kind or "種別不明"


def _legend_swatch(cls: str, shape: str = "rect") -> str:
    if shape == "circle":
        inner = svg.circle(7, 7, 4.5, cls)
    elif shape == "diamond":
        inner = svg.diamond(7, 7, 5.5, cls)
    else:
        inner = svg.rect(1, 3, 12, 8, cls)
    return f'<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">{inner}</svg>'


TIMELINE_LEGEND = (
    '<p class="legend">'
    f"<span>{_legend_swatch('term-now')} 在任中</span>"
    f"<span>{_legend_swatch('term-ending')} {EXPIRY_DAYS}日以内に任期満了</span>"
    f"<span>{_legend_swatch('term-future')} これからの任期</span>"
    f"<span>{_legend_swatch('term-past')} 終わった任期</span>"
    f"<span>{_legend_swatch('soon')} 基準日から{EXPIRY_DAYS}日</span>"
    "<span>(ア)～(エ) 第3-2(2)イの区分</span><span>長期 第6-4(2)の長期在任</span></p>"
)
MEETING_LEGEND = (
    '<p class="legend">'
    f"<span>{_legend_swatch('mt-regular', 'circle')} 定例会議</span>"
    f"<span>{_legend_swatch('mt-extra', 'diamond')} 臨時会議</span>"
    f"<span>{_legend_swatch('mt-regular mt-election', 'circle')} 選挙運動期間中の開催（第10-3）</span>"
    f"<span>{_legend_swatch('fy-missing')} 定例会議のない年度（第7-2(1)）</span>"
    f"<span>{_legend_swatch('fy-pending')} 今年度まだ定例会議なし</span>"
    f"<span>{_legend_swatch('election')} 選挙運動期間（告示日～投票日の前日）</span></p>"
)


def _council_section(view: CouncilView, sv: StationView, as_of: dt.date, cid: str) -> list[str]:
    c = view.council
    n, leaders = len(view.serving), view.leaders
    share = f"{round(100 * leaders / n)}%" if n else "—"
    kind = {"所管区": "所管区ごとの連絡協議会", "単位": "単位連絡協議会", "職種等": "職種等連絡協議会"}.get(
        c.kind or "", c.kind or "種別不明"
    )
    warn_n = _badge("warning", "第6-1 人数") if "member-count" in view.rules else ""
    warn_share = _badge("warning", "第3-2(2)イ") if "community-leaders" in view.rules else ""
    if len(view.chairs) == 1:
        chair = esc(view.chairs[0].name)
    elif view.chairs:
        chair = "、".join(esc(m.name) for m in view.chairs) + " " + _badge("error", "会長が複数")
    else:
        chair = '<span class="muted">なし</span>' + (" " + _badge("warning", "第3-2(1)") if n else "")
    regular, extra = _this_fy_meetings(view.meetings, as_of)
    missing = [_fy(r.fy) for r in view.years if r.state == "missing"]
    attrs = f'data-council="{esc(c.name)}" data-council-id="{esc(c.id)}"'
    if not view.exists:
        attrs += f' data-closed="{esc(c.closed.isoformat() if c.closed else "")}"'
    history = ""
    if c.received:
        history += f"　移管：{esc(_date(c.received))}（移管元：{esc(c.received_from or '記載なし')}）"
    if c.closed:
        reason = f"・{c.close_reason}" if c.close_reason else ""
        history += f"　{_badge('info', '廃止')} {esc(_date(c.closed))}{esc(reason)}"
    out = [
        f'<section class="council{"" if view.exists else " closed"}" id="{cid}" {attrs}>',
        f"<h3>{esc(c.name or '（名称なし）')}{'（廃止）' if not view.exists else ''}</h3>",
        f'<p class="sub">{esc(kind)}　交番等：{esc(c.posts or "—")}　設置日：{esc(_date(c.established, "—"))}'
        f"{history}"
        f"　運営責任者：{esc(c.manager_title or '')} {esc(c.manager_rank or '')} {esc(c.manager_name or '')}</p>",
        '<div class="facts">',
        f'<div class="fact"><div class="v">在任委員 <b data-key="serving">{n}</b>人'
        f"（おおむね10人程度） {warn_n}</div>{gauge_members(n)}</div>",
        f'<div class="fact"><div class="v">(ア)～(エ)の委員 <b data-key="leaders">{leaders}</b>人／{n}人'
        f' = <b data-key="leader-share">{share}</b>（おおむね半数程度） {warn_share}</div>{gauge_share(leaders, n)}</div>',
        f'<div class="fact"><div class="v">会長：{chair}</div>'
        f'<div class="v">今年度（{esc(_fy(fiscal_year(as_of)))}）の会議：'
        f'定例 <b data-key="regular-this-fy">{regular}</b>回・臨時 <b data-key="extra-this-fy">{extra}</b>回</div>',
    ]
    if missing:
        out.append(f'<div class="v">定例会議のない年度：<b class="warn-text">{esc("、".join(missing))}</b></div>')
    out += ["</div>", "</div>"]
    out += [
        "<figure>",
        timeline_svg(view, sv, as_of),
        f"<figcaption>委員の任期（{len({m.person for m in view.members})}人・{len(view.members)}期）。"
        f"赤線が基準日、網掛けがその後{EXPIRY_DAYS}日。</figcaption>",
        TIMELINE_LEGEND,
        "</figure>",
        "<figure>",
        meetings_svg(view, sv, as_of),
        "<figcaption>年度ごとの会議（数字は 定例・臨時 の回数）と選挙運動期間。</figcaption>",
        MEETING_LEGEND,
        "</figure>",
        _years_table(view),
        "</section>",
    ]
    return out


def _years_table(view: CouncilView) -> str:
    """Meetings per 年度 as numbers, one column per 年度 (the chart above, for reading off and printing)."""
    if not view.years:
        return '<p class="muted">会議の記録がありません。</p>'
    short = len(view.years) > 9
    notes = {"missing": "定例なし", "pending": "未開催", "partial": "設置年度", "closed": "廃止", "future": ""}
    head, regular, extra = ["<th>年度</th>"], ["<th>定例</th>"], ["<th>臨時</th>"]
    for r in view.years:
        label = _fy_label(r.fy, 0) if short else _fy(r.fy)
        note = notes.get(r.state, "")
        head.append(
            f'<th class="n fy-{r.state}" data-fy="{r.fy}" data-fy-state="{r.state}" title="{esc(_fy(r.fy))}">'
            f"{esc(label)}{f'<br><small>{note}</small>' if note else ''}</th>"
        )
        regular.append(f'<td class="n fy-{r.state}">{r.regular}</td>')
        extra.append(f'<td class="n">{r.extra}</td>')
    rows = "".join(f"<tr>{''.join(cells)}</tr>" for cells in (head, regular, extra))
    return f'<table class="years">{rows}</table>'


def _doc_link(d, folder: str) -> str:
    """A document as a link from the station folder (blocked and orphaned ones are not on disk as named)."""
    path = d.path
    rel = path[len(folder) + 1 :] if path.startswith(folder + "/") else "../" + path
    name = path.rsplit("/", 1)[-1]
    if d.status == "blocked":
        return f'<span class="muted">{esc(name)}（作成停止）</span>'
    link = f'<a href="{_href(rel)}">{esc(name)}</a>'
    if d.new_path:
        new = d.new_path[len(folder) + 1 :] if d.new_path.startswith(folder + "/") else "../" + d.new_path
        link += f'（新版：<a href="{_href(new)}">{esc(d.new_path.rsplit("/", 1)[-1])}</a>）'
    return link


def _article_key(article: str) -> tuple:
    group = 0 if article.startswith("第") else (1 if article.startswith("様式") else 2)
    return (group, tuple(int(n) for n in re.findall(r"\d+", article)), article)


def _findings_section(sv: StationView) -> list[str]:
    wr, folder = sv.wr, sv.wr.folder or ""
    by_source: dict[tuple[str, int], list] = defaultdict(list)
    by_cell: dict[str, list] = defaultdict(list)
    for d in wr.documents:
        src = d.source
        if src:
            by_source[(src[0], src[1])].append(d)
        for cell in d.blocked_at or ():
            by_cell[cell].append(d)
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in sv.findings:
        groups[f.article or "—"].append(f)
    out = ['<h2 id="findings">指摘（要綱の条項ごと）</h2>']
    if not groups:
        return [*out, '<p data-key="no-findings">指摘はありません。</p>']
    xlsx = f'<a href="{_href(ANNOTATED)}">{ANNOTATED}</a>'
    out.append(f'<p class="sub">セルの位置は {xlsx}（入力の写しに色と注釈を付けたもの）で確かめられます。</p>')
    for article in sorted(groups, key=_article_key):
        items = groups[article]
        titles = sorted({RULES[f.rule].title for f in items if f.rule in RULES})
        out.append(f'<h3 data-article="{esc(article)}">{esc(article)}　{esc("・".join(titles))}（{len(items)}件）</h3>')
        out.append(
            '<table class="findings"><colgroup><col style="width:8%"><col style="width:18%"><col style="width:46%">'
            '<col style="width:28%"></colgroup><tr><th>区分</th><th>場所</th><th>内容</th><th>関係する文書</th></tr>'
        )
        for f in items[:MAX_FINDING_ROWS]:
            sev = f.severity.value
            where = f"シート「{f.sheet}」" if f.sheet else "ブック全体"
            if f.cell:
                where += f" {f.cell}"
            if f.column:
                where += f"（{f.column}）"
            docs = []
            seen: set[str] = set()
            related = by_cell.get(f"{f.sheet}!{f.cell}", []) if f.cell else []
            if f.row is not None:
                related = related + by_source.get((_canon(wr, f.sheet), f.row), [])
            for d in related:
                if d.path not in seen:
                    seen.add(d.path)
                    docs.append(d)
            if f.row is None or _canon(wr, f.sheet) == "署":
                stopped = sum(1 for d in wr.documents if d.status == "blocked")
                cell = f"このブックの文書（作成停止 {stopped}件）" if sev == "error" else ""
            else:
                shown = [_doc_link(d, folder) for d in docs[:5]]
                if len(docs) > 5:
                    shown.append(f"ほか{len(docs) - 5}件")
                cell = "<br>".join(shown)
            out.append(
                f'<tr data-rule="{esc(f.rule)}" data-severity="{esc(sev)}"><td>{_badge(sev)}</td>'
                f'<td>{esc(where)}</td><td class="pre">{esc(f.message)}</td><td>{cell}</td></tr>'
            )
        if len(items) > MAX_FINDING_ROWS:
            out.append(
                f'<tr><td colspan="4" class="muted">ほか{len(items) - MAX_FINDING_ROWS}件：すべての指摘は {xlsx} の'
                "「指摘一覧」にあります。</td></tr>"
            )
        out.append("</table>")
    return out


def _open_opinions(book: Book) -> list[tuple[Opinion, Meeting | None]]:
    """意見要望 without a 回答 or 措置状況 yet (第8-2), oldest meeting first."""
    meetings: dict[str, Meeting] = {}
    for mt in book.meetings:
        if mt.id is not None:
            meetings.setdefault(mt.id, mt)
    open_ = [(o, meetings.get(o.meeting_id or "")) for o in book.opinions if o.is_open]
    open_.sort(key=lambda p: ((p[1].date if p[1] and p[1].date else dt.date.max), p[1].row if p[1] else 0, p[0].row))
    return open_


def _opinions_section(sv: StationView, as_of: dt.date) -> list[str]:
    out = ['<h2 id="opinions">回答のない意見・要望（第8-2）</h2>']
    items = _open_opinions(sv.book)
    out.append(f'<p class="sub">回答・措置状況が空欄の意見・要望 <b data-key="open-opinions">{len(items)}</b>件（古い順）。'
               "措置状況は速やかに会議の出席者へ連絡します。</p>")  # fmt: skip
    if not items:
        return out
    councils = sv.book.councils_by_id()
    meeting_docs = {
        d.source[1]: d for d in sv.wr.documents if d.source and d.source[0] == "会議" and d.form == "開催結果報告書"
    }
    out.append(
        '<table class="opinions"><tr><th>開催日</th><th>協議会</th><th>会議</th><th>意見・要望</th>'
        '<th class="n">経過日数</th></tr>'
    )
    for o, mt in items:
        if mt is None:
            when, council, meeting = "—", "—", f"会議ID「{esc(o.meeting_id)}」（会議シートにありません）"
            days = "—"
        else:
            when = esc(_date(mt.date, "—"))
            c = councils.get(mt.council_id or "")
            council = esc(c.name if c else mt.council_id)
            meeting = f"{esc(_meeting_kind(mt))}　会議ID {esc(mt.id)}"
            doc = meeting_docs.get(mt.row)
            if doc is not None and doc.status != "blocked":
                meeting += "<br>" + _doc_link(doc, sv.wr.folder or "")
            days = str((as_of - mt.date).days) + "日" if mt.date and mt.date <= as_of else "—"
        out.append(
            f'<tr data-opinion-row="{o.row}"><td>{when}</td><td>{council}</td><td>{meeting}</td>'
            f'<td class="pre">{esc(o.text)}</td><td class="n">{days}</td></tr>'
        )
    out.append("</table>")
    return out


def _documents_section(sv: StationView) -> list[str]:
    docs = sv.wr.documents
    out = ['<h2 id="documents">作成した文書</h2>']
    if not docs:
        return [*out, '<p class="muted">文書はありません（検証のみの実行、または作成できる記録がありません）。</p>']
    table: dict[str, Counter] = defaultdict(Counter)
    for d in docs:
        table[d.form][d.status] += 1
    statuses = [s for s in DOC_STATUS_LABELS if any(table[f][s] for f in table)]
    head = "".join(f'<th class="n">{esc(DOC_STATUS_LABELS[s])}</th>' for s in statuses)
    out.append(f'<table class="docs"><tr><th>様式</th>{head}<th class="n">計</th></tr>')
    forms = [f for f in FORMS if f in table] + [f for f in table if f not in FORMS]
    for form in forms:
        cells = "".join(f'<td class="n">{table[form][s]}</td>' for s in statuses)
        out.append(f"<tr><td>{esc(form)}</td>{cells}<td class='n'>{sum(table[form].values())}</td></tr>")
    out.append("</table>")
    blocked = [d for d in docs if d.status == "blocked"]
    if blocked:
        out.append(f"<h3>作成を止めた文書（{len(blocked)}件）</h3><table><tr><th>文書</th><th>止めた指摘</th></tr>")
        for d in blocked[:MAX_DOCUMENT_ROWS]:
            why = "、".join(
                f"{esc(r)}（{esc(RULES[r].title)}）" if r in RULES else esc(r) for r in (d.blocked_by or [])
            )
            at = d.blocked_at
            if at:
                why += f'<br><span class="muted">{esc("、".join(at))}</span>'
            out.append(f"<tr><td>{esc(d.form)}：{esc(d.path.rsplit('/', 1)[-1])}</td><td>{why}</td></tr>")
        if len(blocked) > MAX_DOCUMENT_ROWS:
            out.append(
                f'<tr><td colspan="2" class="muted">ほか{len(blocked) - MAX_DOCUMENT_ROWS}件：すべて '
                f"{esc(ANNOTATED)} の「作成状況」にあります。</td></tr>"
            )
        out.append("</table>")
    folder = sv.wr.folder or ""
    listed = [d for d in docs if d.status != "blocked"]
    if listed:
        items = "".join(f"<li>{esc(d.form)}：{_doc_link(d, folder)}</li>" for d in listed[:MAX_DOCUMENT_ROWS])
        if len(listed) > MAX_DOCUMENT_ROWS:
            items += f'<li class="muted">ほか{len(listed) - MAX_DOCUMENT_ROWS}件（フォルダと {esc(ANNOTATED)} の「作成状況」にあります）</li>'
        out.append(f"<details><summary>文書の一覧（{len(listed)}件）</summary><ul>{items}</ul></details>")
    return out


def station_page(sv: StationView, as_of: dt.date, made_at: str = "") -> str:
    """The 概要.html of one station."""
    wr = sv.wr
    c = sv.counts
    blocked = sum(1 for d in wr.documents if d.status == "blocked")
    serving = sum(len(v.serving) for v in sv.councils)
    regular, extra = _this_fy_meetings(sv.book.meetings, as_of)
    status = wr.status
    closed = sum(1 for v in sv.councils if not v.exists)
    body = [
        f'<header data-station="{esc(sv.name)}">',
        f"<h1>{esc(sv.name)}　連絡協議会の概要</h1>",
        f'<p class="sub">基準日 {esc(_date(as_of))}（{esc(_fy(fiscal_year(as_of)))}）'
        f"　入力：{esc(wr.result.file)}　状態：{_badge(_status_class(status), STATUS_LABELS.get(status, status))}"
        f'　<span data-key="made-at">このページの作成：{esc(made_at)}</span></p>',
        f'<nav><a href="../{INDEX}">全署の一覧</a><a href="{_href(ANNOTATED)}">検証結果.xlsx</a>'
        '<a href="#opinions">回答のない意見・要望</a><a href="#findings">指摘</a><a href="#documents">文書</a></nav>',
        "</header>",
        '<div class="cards">',
        _card("協議会" + (f"（ほかに廃止{closed}）" if closed else ""), len(sv.councils) - closed, "councils"),
        _card("在任委員", serving, "serving", "人"),
        _card(f"今年度の会議（定例{regular}・臨時{extra}）", regular + extra, "meetings-this-fy", "回"),
        _card("エラー", c["error"], "errors"),
        _card("警告", c["warning"], "warnings"),
        _card("情報", c["info"], "infos"),
        _card("作成停止の文書", blocked, "blocked"),
        "</div>",
        '<h2 id="councils">協議会</h2>',
    ]
    if len(sv.councils) > MAX_COUNCIL_SECTIONS:
        body.append(
            f'<p class="sub" data-key="councils-drawn">協議会が{len(sv.councils)}あるため、図は先頭の'
            f'{MAX_COUNCIL_SECTIONS}協議会だけに示し、残りは<a href="#other-councils">1協議会1行の表</a>'
            f"にまとめています。指摘は条項ごとに{MAX_FINDING_ROWS}件まで示します"
            f"（すべての指摘は {esc(ANNOTATED)} の「指摘一覧」にあります）。</p>"
        )
    if not sv.councils:
        body.append('<p class="muted">協議会の記録がありません。</p>')
    for i, view in enumerate(sv.councils[:MAX_COUNCIL_SECTIONS], 1):
        body += _council_section(view, sv, as_of, f"council-{i}")
    body += _other_councils(sv.councils[MAX_COUNCIL_SECTIONS:], as_of)
    body += _opinions_section(sv, as_of)
    body += _findings_section(sv)
    body += _documents_section(sv)
    return _page(f"{sv.name} 連絡協議会の概要（{_date(as_of)}現在）", body)


def _other_councils(views: list[CouncilView], as_of: dt.date) -> list[str]:
    """Past MAX_COUNCIL_SECTIONS councils a page of charts is no longer an overview (nor loads in a browser):
    one line each."""
    if not views:
        return []
    fy = fiscal_year(as_of)
    out = [
        f'<h3 id="other-councils" data-key="councils-listed">ほかの協議会（{len(views)}件）</h3>'
        f'<p class="sub">協議会が{MAX_COUNCIL_SECTIONS}を超えるため、{MAX_COUNCIL_SECTIONS + 1}番目からは図を省き、'
        "1協議会1行で示します。</p>",
        '<table class="councils"><tr><th>協議会</th><th class="n">在任委員</th><th>今年度の定例会議</th></tr>',
    ]
    for v in views:
        this = next((y for y in v.years if y.fy == fy), None)
        held = "あり" if this is not None and this.regular else "まだなし"
        out.append(
            f"<tr><td>{esc(v.council.name or v.council.id or '協議会')}</td>"
            f'<td class="n">{len(v.serving)}</td><td>{held}</td></tr>'
        )
    out.append("</table>")
    return out


def _card(label: str, value: int, key: str, unit: str = "件") -> str:
    return (
        f'<div class="card"><b><span data-key="{key}">{value}</span>{esc(unit)}</b>'
        f'<span class="label">{esc(label)}</span></div>'
    )


def _status_class(status: str) -> str:
    return {"ok": "ok", "warnings": "warning", "errors": "error", "unreadable": "unreadable"}.get(status, "info")


@dataclass
class IndexRow:
    wr: WorkbookRun
    view: StationSummary | None
    counts: Counter
    blocked: int


INDEX_SQUARES = (WIDTH - 170 - 200) // (14 + 4)  # councils a station's line of the index chart has room for


def station_summary(sv: StationView, as_of: dt.date) -> StationSummary:
    """The index page's figures of one station (see StationSummary)."""
    fy = fiscal_year(as_of)
    regular, extra = _this_fy_meetings(sv.book.meetings, as_of)
    squares = []
    for c in sv.councils[:INDEX_SQUARES]:
        this = next((y_ for y_ in c.years if y_.fy == fy), None)
        if any(y_.state == "missing" for y_ in c.years):
            cls, word = "fy-missing", "過去に定例会議のない年度あり"
        elif this is not None and this.regular:
            cls, word = "term-now", "今年度の定例会議あり"
        else:
            cls, word = "fy-pending", "今年度まだ定例会議なし"
        squares.append((cls, f"{c.council.name or '協議会'}：{word}"))
    return StationSummary(
        name=sv.name,
        councils=sum(1 for c in sv.councils if c.exists),
        serving=sum(len(c.serving) for c in sv.councils),
        regular=regular,
        extra=extra,
        pending=sum(1 for c in sv.councils if c.exists and any(y.fy == fy and not y.regular for y in c.years)),
        squares=tuple(squares),
    )


def index_page(report: RunReport, rows: list[IndexRow], made_at: str = "") -> str:
    """index.html: one row per workbook, the prefecture's totals."""
    as_of = report.as_of
    fy = _fy(fiscal_year(as_of))
    head = (
        "<tr><th>警察署</th><th>入力ファイル</th><th>状態</th><th class='n'>協議会</th><th class='n'>在任委員</th>"
        "<th class='n'>今年度の会議<br>（定例・臨時）</th><th class='n'>定例会議のない<br>協議会（今年度）</th>"
        "<th class='n'>エラー</th><th class='n'>警告</th><th class='n'>作成停止の文書</th></tr>"
    )
    total: Counter = Counter()
    lines = []
    for r in rows:
        wr, v = r.wr, r.view
        status = wr.status
        badge = _badge(_status_class(status), STATUS_LABELS.get(status, status))
        errors, warnings = r.counts["error"], r.counts["warning"]
        total.update(errors=errors, warnings=warnings, blocked=r.blocked)
        if v is not None:
            regular, extra, serving, pending = v.regular, v.extra, v.serving, v.pending
            total.update(councils=v.councils, serving=serving, regular=regular, extra=extra, pending=pending)
            link = f'<a href="{_href(wr.folder or "")}/{_href(OVERVIEW)}">{esc(v.name)}</a>'
            lines.append(
                f'<tr data-station="{esc(v.name)}" data-file="{esc(wr.result.file)}"><td class="nowrap">{link}</td>'
                f"<td>{esc(wr.result.file)}</td><td>{badge}</td>"
                f'<td class="n" data-key="councils">{v.councils}</td>'
                f'<td class="n" data-key="serving">{serving}</td>'
                f'<td class="n"><span data-key="meetings-this-fy">{regular + extra}</span>'
                f'<span class="muted">（{regular}・{extra}）</span></td>'
                f'<td class="n" data-key="no-regular-this-fy">{pending}</td>'
                f'<td class="n" data-key="errors">{errors}</td><td class="n" data-key="warnings">{warnings}</td>'
                f'<td class="n" data-key="blocked">{r.blocked}</td></tr>'
            )
            continue
        if wr.result.file == ELECTION_BOOK or (wr.result.has_book and not wr.result.unreadable):
            book = wr.result.book
            n = len(book.elections) if book else 0
            name = f"選挙期間（全署共通・{n}件）"
        else:
            name = "（読み込めません）"
        note = ""
        if wr.result.unreadable:
            msg = next((f.message for f in wr.findings), "")
            note = f'<br><span class="muted">{esc(msg)}</span>'
        lines.append(
            f'<tr data-file="{esc(wr.result.file)}" data-status="{esc(status)}"><td class="nowrap">{esc(name)}</td>'
            f"<td>{esc(wr.result.file)}{note}</td><td>{badge}</td>"
            '<td class="n">—</td><td class="n">—</td><td class="n">—</td><td class="n">—</td>'
            f'<td class="n" data-key="errors">{errors}</td><td class="n" data-key="warnings">{warnings}</td>'
            f'<td class="n" data-key="blocked">{r.blocked}</td></tr>'
        )
    lines.append(
        '<tr class="total" data-total="1"><td>県計</td><td></td><td></td>'
        f'<td class="n" data-key="councils">{total["councils"]}</td><td class="n" data-key="serving">{total["serving"]}</td>'
        f'<td class="n"><span data-key="meetings-this-fy">{total["regular"] + total["extra"]}</span>'
        f'<span class="muted">（{total["regular"]}・{total["extra"]}）</span></td>'
        f'<td class="n" data-key="no-regular-this-fy">{total["pending"]}</td>'
        f'<td class="n" data-key="errors">{total["errors"]}</td><td class="n" data-key="warnings">{total["warnings"]}</td>'
        f'<td class="n" data-key="blocked">{total["blocked"]}</td></tr>'
    )
    stations = [r for r in rows if r.view is not None]
    body = [
        "<header>",
        "<h1>交番・駐在所連絡協議会　全署の概要</h1>",
        f'<p class="sub">基準日 {esc(_date(as_of))}（{esc(fy)}）　警察署 {len(stations)}署'
        f'　入力ファイル {len(rows)}件　<span data-key="made-at">作成：{esc(made_at)}</span></p>',
        "</header>",
        _index_chart(stations, as_of),
        '<h2 id="stations">警察署ごとの状況</h2>',
        f'<table class="stations">{head}{"".join(lines)}</table>',
        '<p class="sub">在任委員・会議は基準日現在。「定例会議のない協議会（今年度）」は今年度にまだ定例会議の記録が'
        "ない協議会の数です（第7-2(1)）。エラー・警告の件数は 検証結果.json と同じです。</p>",
    ]
    return _page(f"連絡協議会 全署の概要（{_date(as_of)}現在）", body)


def _index_chart(stations: list[IndexRow], as_of: dt.date) -> str:
    """Per station, one square per council: 定例 held this 年度, not yet, or a past 年度 without one."""
    if not stations:
        return '<p class="muted">読み込めた警察署のブックがありません。</p>'
    row_h, box = 22, 14
    height = 26 + len(stations) * row_h
    body = [svg.text(4, 14, "協議会ごとの定例会議（今年度）", "name")]
    for i, r in enumerate(stations):
        v = r.view
        y = 26 + i * row_h
        body.append(svg.text(4, y + 12, svg.clip(v.name, 12), "name"))
        x = 170
        for cls, title in v.squares:
            body.append(svg.rect(x, y + 1, box, box, cls, title))
            x += box + 4
        if v.councils > len(v.squares):
            body.append(svg.text(x + 2, y + 12, f"ほか{v.councils - len(v.squares)}", "note"))
        blocked = f"　作成停止{r.blocked}" if r.blocked else ""
        body.append(
            svg.text(
                WIDTH - 8, y + 12, f"エラー{r.counts['error']}　警告{r.counts['warning']}{blocked}", "count", "end"
            )
        )
    legend = (
        '<p class="legend">'
        f"<span>{_legend_swatch('term-now')} 今年度の定例会議あり</span>"
        f"<span>{_legend_swatch('fy-pending')} 今年度まだなし</span>"
        f"<span>{_legend_swatch('fy-missing')} 過去に定例会議のない年度あり（第7-2(1)）</span></p>"
    )
    return f"<figure>{svg.svg(WIDTH, height, body, '警察署ごとの協議会の定例会議の状況')}{legend}</figure>"


# --- entry point ----------------------------------------------------------------------


def write_station_page(wr: WorkbookRun, as_of: dt.date, output_dir: Path, made_at: str = "") -> StationSummary | None:
    """<output>/<署>/概要.html of one readable station workbook (a reused workbook's page is current), and
    the station's line of the index page.

    Run in the worker that wrote the workbook's documents; raises OSError when the disk refuses it.
    """
    if not wr.result.has_book or not wr.folder:
        return None
    path = output_dir / wr.folder / OVERVIEW
    if wr.cached and path.exists() and wr.summary is not None:
        return wr.summary
    view = station_view(wr, as_of)
    if not (wr.cached and path.exists()):
        # No fsync: the page is made again by every run that changes what it shows.
        atomic_write(path, station_page(view, as_of, made_at).encode("utf-8"), durable=False)
    return station_summary(view, as_of)


def write_overview(
    report: RunReport, output_dir: Path, *, station_pages: bool = True, made_at: str | None = None
) -> list[Path]:
    """Write <output>/<署>/概要.html for every readable station workbook (unless the workers already did)
    and <output>/index.html; return the paths."""
    as_of = report.as_of
    made_at = clock.stamp(clock.now()) if made_at is None else made_at
    written: list[Path] = []
    rows: list[IndexRow] = []
    for wr in report.workbooks:
        findings = wr.findings
        blocked = sum(1 for d in wr.documents if d.status == "blocked")
        view = None
        if wr.result.has_book and wr.folder:
            path = output_dir / wr.folder / OVERVIEW
            if station_pages or not path.exists() or wr.summary is None:
                # A page the workers did not write, or the clerk deleted: its model is needed here.
                wr.summary = write_station_page(wr, as_of, output_dir, made_at)
            view = wr.summary
            written.append(path)
        rows.append(IndexRow(wr, view, _severities(findings), blocked))
    rows.sort(key=lambda r: r.wr.folder is None and not r.wr.result.unreadable)  # the shared election list last
    path = output_dir / INDEX
    atomic_write(path, index_page(report, rows, made_at).encode("utf-8"))
    written.append(path)
    return written


__all__ = ["INDEX", "OVERVIEW", "station_summary", "write_overview", "write_station_page"]
