"""One station on the as-of date, computed once from the model and the findings: what its page, its line of
the index and its summary figures all read (who serves, which councils exist, meetings per 年度)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.checking.checks import Ctx, missing_regular_years
from pipeline.core.contract import LEADER_CATEGORIES
from pipeline.core.findings import Finding
from pipeline.core.model import Book, Council, Meeting, Member, Opinion, add_years, fiscal_year
from pipeline.overview import svg
from pipeline.overview.svg import PLOT_X0, PLOT_X1

if TYPE_CHECKING:
    from pipeline.report import WorkbookRun


EXPIRY_DAYS = Ctx.expiry_days  # 第6-3: the window term-expiry looks ahead


PAST_YEARS, FUTURE_YEARS = 15, 5  # the time axis never stretches further for a mistyped year


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


def severities(findings: Iterable[Finding]) -> Counter:
    return Counter(f.severity.value for f in findings)


def canon(wr: WorkbookRun, sheet: str | None) -> str:
    return wr.result.canon.get(sheet or "", sheet or "")


def this_fy_meetings(meetings: Iterable[Meeting], as_of: dt.date) -> tuple[int, int]:
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
            flagged[(canon(wr, f.sheet), f.row)].add(f.rule)
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
                exists=council_open(c, as_of),
            )
        )
    # Closed councils (廃止日 passed) below the open ones, each group in workbook order.
    councils.sort(key=lambda v: not v.exists)
    name = wr.result.station or wr.result.path.stem
    return StationView(wr, name, book, findings, councils, axis, flagged, severities(findings))


def council_open(c: Council, as_of: dt.date) -> bool:
    """Shown with the open councils: not closed by the as-of date (one set up later is still to come)."""
    return c.closed is None or c.closed >= as_of


def open_opinions(book: Book) -> list[tuple[Opinion, Meeting | None]]:
    """意見要望 without a 回答 or 措置状況 yet (第8-2), oldest meeting first."""
    meetings: dict[str, Meeting] = {}
    for mt in book.meetings:
        if mt.id is not None:
            meetings.setdefault(mt.id, mt)
    open_ = [(o, meetings.get(o.meeting_id or "")) for o in book.opinions if o.is_open]
    open_.sort(key=lambda p: ((p[1].date if p[1] and p[1].date else dt.date.max), p[1].row if p[1] else 0, p[0].row))
    return open_
