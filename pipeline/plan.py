"""Document planning: every document a workbook calls for, its file name, and what blocks it (SPEC section 3)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import forms
from .contract import ELECTIONS
from .findings import Finding, Severity, make_finding
from .model import Book, Council, Meeting, Member
from .write import Names

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
}


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

    def to_json(self) -> dict:
        d = {"form": self.form, "path": self.path, "status": self.status}
        if self.new_path:
            d["new_path"] = self.new_path
        if self.blocked_by:
            d["blocked_by"] = self.blocked_by
            d["blocked_at"] = self.blocked_at or []
        return d


@dataclass
class Plan:
    document: Document
    build: Callable[[], dict] | None  # the form's context; None when blocked
    blockers: list[Finding] = field(default_factory=list)


class Blockers:
    """Which findings stop which document: exactly those in cells the document prints or needs."""

    def __init__(self, book: Book, findings: Iterable[Finding], canon: dict[str, str], strict: bool = False):
        self.book = book
        self.workbook: list[Finding] = []
        self.rows: dict[tuple[str, int], list[Finding]] = defaultdict(list)
        for f in findings:
            if not (f.severity == Severity.ERROR or (strict and f.severity == Severity.WARNING)):
                continue
            sheet = canon.get(f.sheet or "", f.sheet or "")
            if sheet == ELECTIONS.name:
                continue  # an election list prints on no form
            if sheet == "署" or f.row is None:
                # 署 values print on every form; a missing sheet or column stops the workbook.
                self.workbook.append(f)
            else:
                self.rows[(sheet, f.row)].append(f)
        self.council_rows: dict[str | None, list[int]] = defaultdict(list)
        for c in book.councils:
            self.council_rows[c.id].append(c.row)
        self.member_rows: dict[str | None, list[int]] = defaultdict(list)
        for m in book.members:
            self.member_rows[m.council_id].append(m.row)
        self.opinion_rows: dict[str | None, list[int]] = defaultdict(list)
        for o in book.opinions:
            self.opinion_rows[o.meeting_id].append(o.row)

    def _at(self, sheet: str, rows: Iterable[int]) -> list[Finding]:
        return [f for r in rows for f in self.rows.get((sheet, r), ())]

    def council(self, council_id: str | None, form: str) -> list[Finding]:
        found = self._at("協議会", self.council_rows.get(council_id, ()))
        return self.workbook + [f for f in found if form in COUNCIL_COLUMN_FORMS.get(f.column or "", FORMS)]

    def member(self, m: Member) -> list[Finding]:
        return self.council(m.council_id, COMMISSION) + self._at("委員", [m.row])

    def report(self, council_id: str | None) -> list[Finding]:
        return self.council(council_id, REPORT) + self._at("委員", self.member_rows.get(council_id, ()))

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
    book: Book, findings: Iterable[Finding], canon: dict[str, str], folder: str, *, strict: bool = False
) -> list[Plan]:
    """Every document the workbook calls for, in workbook order, each with its builder or its blockers."""
    blockers = Blockers(book, findings, canon, strict)
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
        members = book.members_of(cid)
        build = lambda c=c, members=members: forms.establishment(station, c, members)  # noqa: E731
        add(REPORT, c.name or f"行{c.row}", blockers.report(cid), ("協議会", c.row), build)
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
