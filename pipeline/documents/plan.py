"""Document planning: every document a workbook calls for, its file name, and what blocks it (SPEC section 3)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pipeline.core.contract import CHIEFS, ELECTIONS
from pipeline.core.findings import INPUT, RULES, Finding, Severity, make_finding
from pipeline.core.model import Book, Council, Meeting, Member
from pipeline.core.write import Names
from pipeline.documents import forms

COMMISSION, REPORT, MEETING = "委嘱状", "設置報告書", "開催結果報告書"
# What a clerk reads for each document status, on screen, in 検証結果.xlsx and on the overview pages.
STATUS_LABEL = {
    "written": "作成",
    "unchanged": "変更なし",
    "kept-edited": "手修正を保護",
    "blocked": "作成を停止",
    "orphaned": "旧版",
}
FORMS = (COMMISSION, REPORT, MEETING)

# 協議会 columns and the forms that print them or cannot be built without them. A column not listed
# here (協議会ID, 名称, 種別, or a finding without a column) stops every document of the council.
COUNCIL_COLUMN_FORMS: dict[str, frozenset[str]] = {
    "職種等区分": frozenset({REPORT}),
    "設置理由": frozenset({REPORT}),
    "交番等": frozenset({REPORT}),
    "交番等区分": frozenset({REPORT}),
    "所管区名": frozenset({MEETING}),
    "設置日": frozenset({REPORT}),
    "運営責任者職名": frozenset({REPORT}),
    "運営責任者階級": frozenset({REPORT}),
    "運営責任者氏名": frozenset({REPORT}),
    "文書番号": frozenset({REPORT}),
    "報告日": frozenset({REPORT}),
    "廃止日": frozenset({REPORT}),  # who serves on the report's date depends on it
    "廃止理由": frozenset(),  # printed on no form
    "移管日": frozenset({REPORT}),  # whether there is a 設置報告書 at all (a transfer is not a 設置)
    "移管元": frozenset(),
}
# Input rules: they block whatever the bad cell feeds, also on the row of a member who has left. The 要綱 rules
# never block on the history of a member who has left (SPEC section 3).
INPUT_RULES = frozenset(r.id for r in RULES.values() if r.article == INPUT)
# A bad cell in these 委員 columns makes a council's roster unknowable: it blocks the 設置報告書 whoever it lists.
ROSTER_COLUMNS = frozenset({"協議会ID", "委嘱日", "任期満了日", "退任日"})
ROSTER_BREAKERS = INPUT_RULES - {"after-closure"}  # a term starting after 廃止日 is on no roster of the council


@dataclass(slots=True)
class Document:
    """One document of the JSON contract's `documents` list."""

    form: str
    path: str  # relative to the output folder, always with /
    status: str  # written | unchanged | kept-edited | blocked | orphaned (pending while planned)
    new_path: str | None = None
    blocked_by: list[str] | None = None
    blocked_at: list[str] | None = None  # the cells that stopped it, as 「シート!A1」
    source: tuple[str, int] | None = None  # (canonical sheet, row) it was made from
    form_changed: bool = False  # kept-edited: made from another template than the one used now

    def to_json(self) -> dict:
        d = {"form": self.form, "path": self.path, "status": self.status}
        if self.new_path:
            d["new_path"] = self.new_path
        if self.blocked_by:
            d["blocked_by"] = self.blocked_by
            d["blocked_at"] = self.blocked_at or []
        if self.form_changed:
            d["form_changed"] = True
        return d


@dataclass
class Plan:
    document: Document
    build: Callable[[], dict] | None  # the form's context; None when blocked
    blockers: list[Finding] = field(default_factory=list)


class Blockers:
    """Which findings stop which document: exactly those in cells the document prints or needs."""

    def __init__(
        self,
        book: Book,
        findings: Iterable[Finding],
        canon: dict[str, str],
        strict: bool = False,
        as_of: dt.date | None = None,
    ):
        self.book = book
        self.as_of = as_of
        self.workbook: list[Finding] = []
        self.rows: dict[tuple[str, int], list[Finding]] = defaultdict(list)
        self.chief_periods: list[tuple[dt.date, dt.date, Finding]] = []
        chief_findings: list[Finding] = []
        for f in findings:
            if not (f.severity == Severity.ERROR or (strict and f.severity == Severity.WARNING)):
                continue
            sheet = canon.get(f.sheet or "", f.sheet or "")
            if sheet == ELECTIONS.name:
                continue  # an election list prints on no form
            if f.rule == "chief-history":
                continue  # 署!署長氏名 beside sheet 署長: no form prints it (委嘱状 print the 署長 of their date)
            if sheet == CHIEFS.name and f.row is not None:
                chief_findings.append(f)  # blocks the 委嘱状 dated in the periods the bad row affects
            elif sheet == "署" or f.row is None:
                # 署 values print on every form; a missing sheet or column stops the workbook.
                self.workbook.append(f)
            else:
                self.rows[(sheet, f.row)].append(f)
        if chief_findings:
            self._chief_periods(chief_findings)
        self.council_rows: dict[str | None, list[int]] = defaultdict(list)
        for c in book.councils:
            self.council_rows[c.id].append(c.row)
        self.opinion_rows: dict[str | None, list[int]] = defaultdict(list)
        for o in book.opinions:
            self.opinion_rows[o.meeting_id].append(o.row)

    def _chief_periods(self, found: list[Finding]) -> None:
        """A bad 氏名 or 着任日 in sheet 署長 affects the days its row would cover: from its 着任日 (or, when that
        cannot be read, the 着任日 of the nearest dated row above it) to the day before the next 着任日 below."""
        rows = {c.row: c for c in self.book.chief_rows}
        dated = sorted({c.since for c in self.book.chief_rows if c.since is not None})
        for f in found:
            c = rows.get(f.row or -1)
            if c is not None and c.since is not None:  # a bad 氏名, or a 着任日 shared with another row
                lo = c.since
                later = [d for d in dated if d > lo]
            else:
                above = [x.since for x in self.book.chief_rows if x.row < (f.row or 0) and x.since is not None]
                below = [x.since for x in self.book.chief_rows if x.row > (f.row or 0) and x.since is not None]
                lo = max(above, default=dt.date.min)
                later = [d for d in below if d > lo]
            hi = min(later) - dt.timedelta(days=1) if later else dt.date.max
            self.chief_periods.append((lo, hi, f))

    def _at(self, sheet: str, rows: Iterable[int]) -> list[Finding]:
        return [f for r in rows for f in self.rows.get((sheet, r), ())]

    def council(self, council_id: str | None, form: str) -> list[Finding]:
        found = self._at("協議会", self.council_rows.get(council_id, ()))
        return self.workbook + [f for f in found if form in COUNCIL_COLUMN_FORMS.get(f.column or "", FORMS)]

    def _issued(self, m: Member) -> bool:
        """The 委嘱状 was handed over before the as-of date: a 要綱 finding today cannot stop it."""
        return self.as_of is not None and m.issue_date is not None and m.issue_date < self.as_of

    def _own(self, m: Member) -> list[Finding]:
        """The errors on the member's row that count: input rules always, 要綱 rules unless he has left."""
        left = self.as_of is not None and m.has_left(self.as_of)
        return [f for f in self._at("委員", [m.row]) if f.rule in INPUT_RULES or not left]

    def member(self, m: Member) -> list[Finding]:
        own = [f for f in self._own(m) if not (f.rule == "public-office" and self._issued(m))]
        day = m.issue_date
        chief = [f for lo, hi, f in self.chief_periods if day is None or lo <= day <= hi]
        return self.council(m.council_id, COMMISSION) + chief + own

    def report(self, council: Council, listed: list[Member]) -> list[Finding]:
        """A member's error stops the 設置報告書 when he is on its roster, or when the bad cell makes the roster
        unknowable; public-office only for a report dated on or after the as-of date."""
        on_roster = {m.row for m in listed}
        day = forms.roster_day(council)
        found: list[Finding] = []
        for m in self.book.members_of(council.id):
            for f in self._own(m):
                if f.rule == "public-office":
                    dated_after = self.as_of is None or (day is not None and day >= self.as_of)
                    if m.row in on_roster and dated_after:
                        found.append(f)
                elif m.row in on_roster or (f.rule in ROSTER_BREAKERS and f.column in ROSTER_COLUMNS):
                    found.append(f)
        return self.council(council.id, REPORT) + found

    def meeting(self, mt: Meeting) -> list[Finding]:
        return (
            self.council(mt.council_id, MEETING)
            + self._at("会議", [mt.row])
            + self._at("意見要望", self.opinion_rows.get(mt.id, ()) if mt.id is not None else ())
        )


def _commission_stem(c: Council | None, m: Member) -> str:
    day = m.start.strftime("%Y%m%d") if m.start else f"行{m.row}"
    return f"{c.name if c and c.name else '協議会不明'}_{m.name or f'行{m.row}'}_{day}"


def _meeting_stem(c: Council | None, mt: Meeting) -> str:
    kind = f"定例{mt.round}" if mt.kind == "定例" and mt.round is not None else (mt.kind or "")
    day = mt.date.strftime("%Y%m%d") if mt.date else f"行{mt.row}"
    return f"{c.name if c and c.name else '協議会不明'}_{day}_{kind}"


def plan_documents(
    book: Book,
    findings: Iterable[Finding],
    canon: dict[str, str],
    folder: str,
    *,
    strict: bool = False,
    as_of: dt.date | None = None,
) -> list[Plan]:
    """Every document the workbook calls for, in workbook order, each with its builder or its blockers.

    A received council (移管日) gets no 設置報告書: 第11-1(1) reports a 設置, and a transfer is not one."""
    blockers = Blockers(book, findings, canon, strict, as_of)
    councils = book.councils_by_id()
    names = Names()
    station = book.station
    plans: list[Plan] = []

    def add(form: str, stem: str, blocked: list[Finding], source: tuple[str, int], build: Callable[[], dict]):
        rel = names.take(f"{folder}/{form}", stem)
        if not blocked:
            plans.append(Plan(Document(form, rel, "pending", source=source), build))
            return
        rules = sorted({f.rule for f in blocked})
        cells = sorted({f"{f.sheet}!{f.cell}" if f.cell else (f.sheet or "") for f in blocked})
        doc = Document(form, rel, "blocked", blocked_by=rules, blocked_at=cells, source=source)
        plans.append(Plan(doc, None, blocked))

    for m in book.members:
        c = councils.get(m.council_id or "")
        blocked = blockers.member(m)
        build = (lambda c=c, m=m: forms.commission(station, c, m)) if c else None
        add(COMMISSION, _commission_stem(c, m), blocked or _no_council(c, m), ("委員", m.row), build)
    for cid, c in councils.items():
        if c.is_received:
            continue
        members = book.members_of(cid)
        build = lambda c=c, members=members: forms.establishment(station, c, members)  # noqa: E731
        _, listed = forms.roster(c, members)
        add(REPORT, c.name or f"行{c.row}", blockers.report(c, listed), ("協議会", c.row), build)
    for mt in book.meetings:
        c = councils.get(mt.council_id or "")
        blocked = blockers.meeting(mt)
        build = (lambda c=c, mt=mt: forms.meeting(station, c, mt)) if c else None
        add(MEETING, _meeting_stem(c, mt), blocked or _no_council(c, mt), ("会議", mt.row), build)
    return plans


def _no_council(c: Council | None, record: Member | Meeting) -> list[Finding]:
    """A record without its council cannot be printed; its row already has the required-value or
    unknown-ref finding, so this only guards against building a form without a council."""
    if c is not None:
        return []
    return [make_finding("unknown-ref", "協議会が見つかりません。", row=record.row)]
