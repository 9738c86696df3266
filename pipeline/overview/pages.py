"""Overview pages: 概要.html per station and index.html across stations, self-contained HTML with inline SVG.

This module computes what the pages show (views of plain strings, numbers and chart coordinates); the markup
is in the Jinja2 templates of pipeline/overview/templates (autoescape on, style.css inlined), which a designer
edits without reading Python."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from pipeline.checking.checks import LEADER_SHARE, MEMBER_COUNT
from pipeline.core import clock
from pipeline.core.contract import CATEGORIES, ELECTION_BOOK
from pipeline.core.findings import RULES, Finding
from pipeline.core.fmt import fy_label, wareki
from pipeline.core.fmt import text as plain
from pipeline.core.model import Council, Election, Meeting, Member, fiscal_year
from pipeline.core.write import ANNOTATED, INDEX, OVERVIEW, OutputLink, atomic_write
from pipeline.documents.plan import FORMS, STATUS_LABEL, Document
from pipeline.overview import svg
from pipeline.overview.figures import station_summary
from pipeline.overview.station import (
    EXPIRY_DAYS,
    CouncilView,
    StationView,
    canon,
    open_opinions,
    severities,
    station_view,
    this_fy_meetings,
)
from pipeline.overview.svg import LABEL_W, PLOT_X0, WIDTH
from pipeline.report import STATUS_WORDS, StationSummary

if TYPE_CHECKING:
    from pipeline.report import RunReport, WorkbookRun

MEMBER_RANGE = MEMBER_COUNT  # 第6-1 おおむね10人程度: the rule's own parameters (checks.py), never a copy

DOC_STATUS_LABELS = STATUS_LABEL
ERA_SHORT = {"令和": "R", "平成": "H", "昭和": "S", "大正": "T", "明治": "M"}

# Chart geometry (SVG user units; the plot's width is svg.WIDTH).
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


def _next_day(d: dt.date) -> dt.date:
    return d if d == dt.date.max else d + dt.timedelta(days=1)


def _covers(e: Election, day: dt.date) -> bool:
    return bool(e.notice and e.vote and e.vote > dt.date.min and e.covers(day))


# --- charts ---------------------------------------------------------------------------


def _fy_label(fy: int, width: float) -> str:
    full = fy_label(fy)
    if width >= 62:
        return full
    era = next((k for k in ERA_SHORT if full.startswith(k)), None)
    if era is None:
        return str(fy)
    year = full[len(era) :].removesuffix("年度")
    return f"{ERA_SHORT[era]}{1 if year == '元' else year}"


def _axis_layer(axis: svg.DateScale, height: float, as_of: dt.date) -> list[svg.Shape]:
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


def _asof_label(axis: svg.DateScale, as_of: dt.date) -> svg.Shape:
    x = axis.x(as_of)
    anchor = "end" if x > WIDTH - 290 else "start"
    dx = -4 if anchor == "end" else 4
    return svg.text(x + dx, 11, f"基準日 {_date(as_of)}（以後{EXPIRY_DAYS}日を網掛け）", "asof-label", anchor)


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


def timeline_chart(view: CouncilView, sv: StationView, as_of: dt.date) -> svg.Chart:
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
    return svg.Chart(WIDTH, height, f"{view.council.name or '協議会'}の委員の任期", body)


def meetings_chart(view: CouncilView, sv: StationView, as_of: dt.date) -> svg.Chart:
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
    return svg.Chart(WIDTH, height, f"{view.council.name or '協議会'}の会議と選挙運動期間", body)


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


def gauge_members(n: int) -> svg.Chart:
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
    return svg.Chart(260, 38, f"在任委員{n}人（おおむね10人程度）", body, "gauge")


def gauge_share(leaders: int, n: int) -> svg.Chart:
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
    return svg.Chart(260, 38, f"(ア)～(エ)の委員の割合 {leaders}人／{n}人", body, "gauge")


# --- the pages' views (plain strings and numbers; the markup is in templates/) --------------


def _href(path: str) -> str:
    return quote(path, safe="/")


def _meeting_kind(mt: Meeting) -> str:
    if mt.kind == "定例":
        return f"定例（第{mt.round}回）" if mt.round is not None else "定例"
    return mt.kind or "種別不明"


def _status_class(status: str) -> str:
    return {"ok": "ok", "warnings": "warning", "errors": "error", "unreadable": "unreadable", "failed": "error"}.get(
        status, "info"
    )


@dataclass(frozen=True)
class Card:
    label: str
    value: int
    key: str  # data-key, what the tests and scripts read
    unit: str = "件"


@dataclass(frozen=True)
class DocLink:
    """A document as seen from the station folder: href None when it was not made (blocked)."""

    name: str
    href: str | None
    new_name: str | None = None
    new_href: str | None = None


def _doc_link(d: Document, folder: str) -> DocLink:
    """A document as a link from the station folder (blocked and orphaned ones are not on disk as named)."""
    path = d.path
    rel = path[len(folder) + 1 :] if path.startswith(folder + "/") else "../" + path
    name = path.rsplit("/", 1)[-1]
    if d.status == "blocked":
        return DocLink(name, None)
    if not d.new_path:
        return DocLink(name, _href(rel))
    new = d.new_path[len(folder) + 1 :] if d.new_path.startswith(folder + "/") else "../" + d.new_path
    return DocLink(name, _href(rel), d.new_path.rsplit("/", 1)[-1], _href(new))


@dataclass(frozen=True)
class YearCell:
    fy: int
    state: str
    title: str  # the 年度 in full
    label: str  # in full, or short when the table has many columns
    note: str
    regular: int
    extra: int


@dataclass(frozen=True)
class CouncilSection:
    """One council's section of the station page (_council.html)."""

    anchor: str
    exists: bool
    name: str | None
    id: str | None
    closed_iso: str
    kind: str
    posts: str
    established: str
    received: str  # 移管日, "" when none
    received_from: str
    closed: str  # 廃止日, "" when none
    close_reason: str  # "・理由" or ""
    manager: str
    serving: int
    leaders: int
    share: str
    warn_count: bool
    warn_share: bool
    chairs: str
    chair_count: int
    fy: str
    regular: int
    extra: int
    missing: str
    persons: int
    terms: int
    gauge_members: svg.Chart
    gauge_share: svg.Chart
    timeline: svg.Chart
    meetings: svg.Chart
    years: list[YearCell]


COUNCIL_KINDS = {"所管区": "所管区ごとの連絡協議会", "単位": "単位連絡協議会", "職種等": "職種等連絡協議会"}
YEAR_NOTES = {"missing": "定例なし", "pending": "未開催", "partial": "設置年度", "closed": "廃止", "future": ""}


def _council_section(view: CouncilView, sv: StationView, as_of: dt.date, cid: str) -> CouncilSection:
    c = view.council
    n, leaders = len(view.serving), view.leaders
    regular, extra = this_fy_meetings(view.meetings, as_of)
    short = len(view.years) > 9
    years = [
        YearCell(r.fy, r.state, fy_label(r.fy), _fy_label(r.fy, 0) if short else fy_label(r.fy), YEAR_NOTES.get(r.state, ""),
                 r.regular, r.extra)
        for r in view.years
    ]  # fmt: skip
    return CouncilSection(
        anchor=cid,
        exists=view.exists,
        name=c.name,
        id=c.id,
        closed_iso=c.closed.isoformat() if c.closed else "",
        kind=COUNCIL_KINDS.get(c.kind or "", c.kind or "種別不明"),
        posts=c.posts or "—",
        established=_date(c.established, "—"),
        received=_date(c.received) if c.received else "",
        received_from=c.received_from or "記載なし",
        closed=_date(c.closed) if c.closed else "",
        close_reason=f"・{c.close_reason}" if c.close_reason else "",
        manager=f"{plain(c.manager_title)} {plain(c.manager_rank)} {plain(c.manager_name)}",
        serving=n,
        leaders=leaders,
        share=f"{round(100 * leaders / n)}%" if n else "—",
        warn_count="member-count" in view.rules,
        warn_share="community-leaders" in view.rules,
        chairs="、".join(plain(m.name) for m in view.chairs),
        chair_count=len(view.chairs),
        fy=fy_label(fiscal_year(as_of)),
        regular=regular,
        extra=extra,
        missing="、".join(fy_label(r.fy) for r in view.years if r.state == "missing"),
        persons=len({m.person for m in view.members}),
        terms=len(view.members),
        gauge_members=gauge_members(n),
        gauge_share=gauge_share(leaders, n),
        timeline=timeline_chart(view, sv, as_of),
        meetings=meetings_chart(view, sv, as_of),
        years=years,
    )


@dataclass(frozen=True)
class OtherCouncil:
    name: str
    serving: int
    held: str


def _other_councils(views: list[CouncilView], as_of: dt.date) -> list[OtherCouncil]:
    """Past MAX_COUNCIL_SECTIONS councils a page of charts is no longer an overview (nor loads in a browser):
    one line each."""
    fy = fiscal_year(as_of)
    out = []
    for v in views:
        this = next((y for y in v.years if y.fy == fy), None)
        held = "あり" if this is not None and this.regular else "まだなし"
        out.append(OtherCouncil(plain(v.council.name or v.council.id or "協議会"), len(v.serving), held))
    return out


@dataclass(frozen=True)
class OpinionRow:
    row: int
    when: str
    council: str
    meeting: str
    doc: DocLink | None
    text: str
    days: str


def _opinions(sv: StationView, as_of: dt.date) -> list[OpinionRow]:
    councils = sv.book.councils_by_id()
    meeting_docs = {
        d.source[1]: d for d in sv.wr.documents if d.source and d.source[0] == "会議" and d.form == "開催結果報告書"
    }
    out = []
    for o, mt in open_opinions(sv.book):
        doc = None
        if mt is None:
            when, council, meeting = "—", "—", f"会議ID「{plain(o.meeting_id)}」（会議シートにありません）"
            days = "—"
        else:
            when = _date(mt.date, "—")
            c = councils.get(mt.council_id or "")
            council = plain(c.name if c else mt.council_id)
            meeting = f"{_meeting_kind(mt)}　会議ID {plain(mt.id)}"
            d = meeting_docs.get(mt.row)
            if d is not None and d.status != "blocked":
                doc = _doc_link(d, sv.wr.folder or "")
            days = str((as_of - mt.date).days) + "日" if mt.date and mt.date <= as_of else "—"
        out.append(OpinionRow(o.row, when, council, meeting, doc, plain(o.text), days))
    return out


def _article_key(article: str) -> tuple:
    group = 0 if article.startswith("第") else (1 if article.startswith("様式") else 2)
    return (group, tuple(int(n) for n in re.findall(r"\d+", article)), article)


@dataclass(frozen=True)
class FindingRow:
    rule: str
    severity: str
    where: str
    message: str
    note: str  # instead of documents: the whole workbook's stopped documents
    docs: list[DocLink]
    more_docs: int


@dataclass(frozen=True)
class ArticleGroup:
    article: str
    titles: str
    count: int
    rows: list[FindingRow]
    more: int


def _findings(sv: StationView) -> list[ArticleGroup]:
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
    out = []
    for article in sorted(groups, key=_article_key):
        items = groups[article]
        rows = []
        for f in items[:MAX_FINDING_ROWS]:
            sev = f.severity.value
            where = f"シート「{f.sheet}」" if f.sheet else "ブック全体"
            if f.cell:
                where += f" {f.cell}"
            if f.column:
                where += f"（{f.column}）"
            docs: list[Document] = []
            seen: set[str] = set()
            related = by_cell.get(f"{f.sheet}!{f.cell}", []) if f.cell else []
            if f.row is not None:
                related = related + by_source.get((canon(wr, f.sheet), f.row), [])
            for d in related:
                if d.path not in seen:
                    seen.add(d.path)
                    docs.append(d)
            note, links, more = "", [], 0
            if f.row is None or canon(wr, f.sheet) == "署":
                stopped = sum(1 for d in wr.documents if d.status == "blocked")
                note = f"このブックの文書（作成停止 {stopped}件）" if sev == "error" else ""
            else:
                links = [_doc_link(d, folder) for d in docs[:5]]
                more = max(len(docs) - 5, 0)
            rows.append(FindingRow(plain(f.rule), sev, plain(where), plain(f.message), note, links, more))
        titles = "・".join(sorted({RULES[f.rule].title for f in items if f.rule in RULES}))
        out.append(ArticleGroup(plain(article), titles, len(items), rows, max(len(items) - MAX_FINDING_ROWS, 0)))
    return out


@dataclass(frozen=True)
class FormCounts:
    name: str
    counts: list[int]  # per shown status
    total: int


@dataclass(frozen=True)
class BlockedDoc:
    form: str
    name: str
    why: str  # the rules that stopped it
    at: str  # the cells that stopped it


@dataclass(frozen=True)
class ListedDoc:
    form: str
    link: DocLink


@dataclass(frozen=True)
class DocumentsView:
    total: int
    statuses: list[str] = field(default_factory=list)  # labels of the statuses that occur
    forms: list[FormCounts] = field(default_factory=list)
    blocked: list[BlockedDoc] = field(default_factory=list)
    blocked_count: int = 0
    blocked_more: int = 0
    listed: list[ListedDoc] = field(default_factory=list)
    listed_count: int = 0
    listed_more: int = 0


def _documents(sv: StationView) -> DocumentsView:
    docs = sv.wr.documents
    if not docs:
        return DocumentsView(0)
    table: dict[str, Counter] = defaultdict(Counter)
    for d in docs:
        table[d.form][d.status] += 1
    statuses = [s for s in DOC_STATUS_LABELS if any(table[f][s] for f in table)]
    names = [f for f in FORMS if f in table] + [f for f in table if f not in FORMS]
    forms = [FormCounts(plain(f), [table[f][s] for s in statuses], sum(table[f].values())) for f in names]
    blocked = [d for d in docs if d.status == "blocked"]
    stopped = []
    for d in blocked[:MAX_DOCUMENT_ROWS]:
        why = "、".join(f"{r}（{RULES[r].title}）" if r in RULES else plain(r) for r in (d.blocked_by or []))
        stopped.append(BlockedDoc(plain(d.form), plain(d.path.rsplit("/", 1)[-1]), why, "、".join(d.blocked_at or [])))
    folder = sv.wr.folder or ""
    listed = [d for d in docs if d.status != "blocked"]
    return DocumentsView(
        total=len(docs),
        statuses=[DOC_STATUS_LABELS[s] for s in statuses],
        forms=forms,
        blocked=stopped,
        blocked_count=len(blocked),
        blocked_more=max(len(blocked) - MAX_DOCUMENT_ROWS, 0),
        listed=[ListedDoc(plain(d.form), _doc_link(d, folder)) for d in listed[:MAX_DOCUMENT_ROWS]],
        listed_count=len(listed),
        listed_more=max(len(listed) - MAX_DOCUMENT_ROWS, 0),
    )


@dataclass(frozen=True)
class StationPage:
    """What station.html shows: every value plain text or a number, escaped by the template."""

    title: str
    name: str
    as_of: str
    fy: str
    file: str
    status_class: str
    status_label: str
    made_at: str
    cards: list[Card]
    councils: int
    max_sections: int
    max_findings: int
    sections: list[CouncilSection]
    others: list[OtherCouncil]
    opinions: list[OpinionRow]
    articles: list[ArticleGroup]
    documents: DocumentsView


def station_page_view(sv: StationView, as_of: dt.date, made_at: str = "") -> StationPage:
    wr = sv.wr
    c = sv.counts
    blocked = sum(1 for d in wr.documents if d.status == "blocked")
    serving = sum(len(v.serving) for v in sv.councils)
    regular, extra = this_fy_meetings(sv.book.meetings, as_of)
    status = wr.status
    closed = sum(1 for v in sv.councils if not v.exists)
    cards = [
        Card("協議会" + (f"（ほかに廃止{closed}）" if closed else ""), len(sv.councils) - closed, "councils"),
        Card("在任委員", serving, "serving", "人"),
        Card(f"今年度の会議（定例{regular}・臨時{extra}）", regular + extra, "meetings-this-fy", "回"),
        Card("エラー", c["error"], "errors"),
        Card("警告", c["warning"], "warnings"),
        Card("情報", c["info"], "infos"),
        Card("作成停止の文書", blocked, "blocked"),
    ]
    return StationPage(
        title=f"{sv.name} 連絡協議会の概要（{_date(as_of)}現在）",
        name=sv.name,
        as_of=_date(as_of),
        fy=fy_label(fiscal_year(as_of)),
        file=wr.result.file,
        status_class=_status_class(status),
        status_label=STATUS_WORDS.get(status, status),
        made_at=made_at,
        cards=cards,
        councils=len(sv.councils),
        max_sections=MAX_COUNCIL_SECTIONS,
        max_findings=MAX_FINDING_ROWS,
        sections=[
            _council_section(v, sv, as_of, f"council-{i}") for i, v in enumerate(sv.councils[:MAX_COUNCIL_SECTIONS], 1)
        ],
        others=_other_councils(sv.councils[MAX_COUNCIL_SECTIONS:], as_of),
        opinions=_opinions(sv, as_of),
        articles=_findings(sv),
        documents=_documents(sv),
    )


def station_page(sv: StationView, as_of: dt.date, made_at: str = "") -> str:
    """The 概要.html of one station."""
    return _render("station.html", station_page_view(sv, as_of, made_at))


@dataclass
class IndexRow:
    wr: WorkbookRun
    view: StationSummary | None
    counts: Counter
    blocked: int


@dataclass
class IndexLine:
    """One row of the index table: a station (station=True), the shared election list or an unreadable file."""

    station: bool
    name: str
    file: str
    folder: str
    status: str
    status_class: str
    status_label: str
    errors: int
    warnings: int
    blocked: int
    councils: int = 0
    serving: int = 0
    regular: int = 0
    extra: int = 0
    pending: int = 0
    unreadable: bool = False
    message: str = ""


@dataclass(frozen=True)
class IndexPage:
    title: str
    as_of: str
    fy: str
    made_at: str
    stations: int
    chart: svg.Chart | None
    rows: list[IndexLine]
    total: IndexLine


def index_page_view(report: RunReport, rows: list[IndexRow], made_at: str = "") -> IndexPage:
    as_of = report.as_of
    lines = []
    total = IndexLine(True, "県計", "", "", "", "", "", 0, 0, 0)
    for r in rows:
        wr, v = r.wr, r.view
        status = wr.status
        line = IndexLine(
            station=v is not None,
            name="",
            file=wr.result.file,
            folder=wr.folder or "",
            status=status,
            status_class=_status_class(status),
            status_label=STATUS_WORDS.get(status, status),
            errors=r.counts["error"],
            warnings=r.counts["warning"],
            blocked=r.blocked,
        )
        total.errors, total.warnings, total.blocked = (
            total.errors + line.errors, total.warnings + line.warnings, total.blocked + line.blocked
        )  # fmt: skip
        if v is not None:
            line.name = v.name
            line.councils, line.serving, line.regular, line.extra, line.pending = (
                v.councils, v.serving, v.regular, v.extra, v.pending
            )  # fmt: skip
            for k in ("councils", "serving", "regular", "extra", "pending"):
                setattr(total, k, getattr(total, k) + getattr(line, k))
        elif wr.result.file == ELECTION_BOOK or (wr.result.has_book and not wr.result.unreadable):
            book = wr.result.book
            n = len(book.elections) if book else 0
            line.name = f"選挙期間（全署共通・{n}件）"
        else:
            line.name = "（読み込めません）"
        if v is None and wr.result.unreadable:
            line.unreadable = True
            line.message = next((f.message for f in wr.findings), "")
        lines.append(line)
    stations = [r for r in rows if r.view is not None]
    return IndexPage(
        title=f"連絡協議会 全署の概要（{_date(as_of)}現在）",
        as_of=_date(as_of),
        fy=fy_label(fiscal_year(as_of)),
        made_at=made_at,
        stations=len(stations),
        chart=_index_chart(stations, as_of),
        rows=lines,
        total=total,
    )


def index_page(report: RunReport, rows: list[IndexRow], made_at: str = "") -> str:
    """index.html: one row per workbook, the prefecture's totals."""
    return _render("index.html", index_page_view(report, rows, made_at))


def _index_chart(stations: list[IndexRow], as_of: dt.date) -> svg.Chart | None:
    """Per station, one square per council: 定例 held this 年度, not yet, or a past 年度 without one."""
    if not stations:
        return None
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
    return svg.Chart(WIDTH, height, "警察署ごとの協議会の定例会議の状況", body)


# --- rendering ------------------------------------------------------------------------

BADGE_WORDS = {"error": "エラー", "warning": "警告", "info": "情報"}


def _finalize(value: object) -> object:
    """What `{{ value }}` prints before autoescape: None as nothing, text without XML-illegal characters.
    Numbers and the output of macros pass unchanged."""
    if value is None:
        return ""
    if type(value) is str:
        return plain(value)
    return value


@cache
def environment() -> SandboxedEnvironment:
    """The pages' Jinja2 environment: templates from pipeline/overview/templates, autoescape on everything,
    sandboxed, an undefined name an error. trim_blocks/lstrip_blocks: a line holding only a tag writes nothing."""
    env = SandboxedEnvironment(
        loader=PackageLoader("pipeline.overview", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = svg.num
    env.filters["href"] = _href
    env.globals.update(
        INDEX=INDEX, OVERVIEW=OVERVIEW, ANNOTATED=ANNOTATED, EXPIRY_DAYS=EXPIRY_DAYS, BADGE_WORDS=BADGE_WORDS
    )
    return env


def _render(template: str, page: object) -> str:
    """A page as text. MarkupSafe spells an escaped quote &#34; and an apostrophe &#39;; the pages keep
    html.escape's &quot; and &#x27; (what they said before the templates), so that a page is byte for byte
    the same from one version to the next. Both spellings only ever come from escaping: workbook text that
    holds one is written &amp;#39;, and the templates' own text holds none."""
    html = environment().get_template(template).render(page=page)
    return html.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")


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
                try:
                    wr.summary = write_station_page(wr, as_of, output_dir, made_at)
                except OutputLink:
                    pass  # a link in its place (output-link on the workbook): no page, the index still
            view = wr.summary
            written.append(path)
        rows.append(IndexRow(wr, view, severities(findings), blocked))
    rows.sort(key=lambda r: r.wr.folder is None and not r.wr.result.unreadable)  # the shared election list last
    path = output_dir / INDEX
    atomic_write(path, index_page(report, rows, made_at).encode("utf-8"))
    written.append(path)
    return written


__all__ = ["INDEX", "OVERVIEW", "station_summary", "write_overview", "write_station_page"]
