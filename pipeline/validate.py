"""Validate one workbook: schemas and rules over its sheets, the model, and what each error blocks."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .checks import Ctx, run_checks, term_order
from .contract import ELECTIONS
from .findings import Finding, Severity, WorkbookUnreadable, make_finding
from .model import Book, Council, Election, Meeting, Member, Opinion, Station
from .normalize import Invalid, is_blank
from .read import RawBook, RawTable, read_workbook
from .schemas import missing_keys, typed_frame, validate_table

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass
class Options:
    as_of: dt.date
    strict: bool = False
    long_tenure_years: int = 10


@dataclass
class Result:
    """What validation knows about one workbook."""

    path: Path
    findings: list[Finding] = field(default_factory=list)
    book: Book | None = None
    unreadable: bool = False
    canon: dict[str, str] = field(default_factory=dict)  # actual sheet name -> canonical
    strict: bool = False

    @property
    def file(self) -> str:
        return self.path.name

    @property
    def station(self) -> str | None:
        return self.book.station.name if self.book else None

    @property
    def status(self) -> str:
        if self.unreadable:
            return "unreadable"
        sev = {f.severity for f in self.findings}
        if Severity.ERROR in sev:
            return "errors"
        return "warnings" if Severity.WARNING in sev else "ok"

    def _blocking(self) -> dict[tuple[str, int | None], set[str]]:
        out: dict[tuple[str, int | None], set[str]] = defaultdict(set)
        for f in self.findings:
            if f.severity == Severity.ERROR or (self.strict and f.severity == Severity.WARNING):
                out[(self.canon.get(f.sheet or "", f.sheet or ""), f.row)].add(f.rule)
        return out

    def blockers(self) -> Blockers:
        return Blockers(self, self._blocking())


class Blockers:
    """Which rule ids stop which document (SPEC section 3, 'What an error blocks')."""

    def __init__(self, result: Result, blocking: dict[tuple[str, int | None], set[str]]):
        self.book = result.book
        self.at = blocking
        wb: set[str] = set()
        for (sheet, row), rules in blocking.items():
            # Sheet-level errors, and anything on 署 (printed on every form), stop the workbook.
            if sheet == "署" or (row is None and sheet != ELECTIONS.name):
                wb |= rules
        self.workbook = wb | ({"file-unreadable"} if result.unreadable else set())

    def _rows(self, sheet: str, rows: list[int]) -> set[str]:
        out: set[str] = set()
        for r in rows:
            out |= self.at.get((sheet, r), set())
        return out

    def council(self, council_id: str | None) -> set[str]:
        rows = [c.row for c in self.book.councils if c.id == council_id]
        return self.workbook | self._rows("協議会", rows)

    def member(self, m: Member) -> set[str]:
        return self.council(m.council_id) | self._rows("委員", [m.row])

    def report(self, council_id: str | None) -> set[str]:
        rows = [m.row for m in self.book.members if m.council_id == council_id]
        return self.council(council_id) | self._rows("委員", rows)

    def meeting(self, mt: Meeting) -> set[str]:
        rows = [o.row for o in self.book.opinions if o.meeting_id == mt.id]
        return self.council(mt.council_id) | self._rows("会議", [mt.row]) | self._rows("意見要望", rows)


def _v(rec: dict, key: str):
    v = rec.get(key)
    return None if isinstance(v, Invalid) else v


def _records(typed: pd.DataFrame) -> list[tuple[int, dict]]:
    return list(zip(typed.index.tolist(), typed.to_dict("records"), strict=True))


def build_book(file: str, tables: dict[str, pd.DataFrame], sheets: dict[str, str]) -> Book:
    """Model objects from typed frames; unreadable values are None (their findings are already made)."""
    st = tables.get("署")
    s = st.to_dict("records")[0] if st is not None and len(st) else {}
    station = Station(
        name=_v(s, "警察署名"),
        chief_name=_v(s, "署長氏名"),
        addressee=_v(s, "本部長宛名") or "宮城県警察本部長",
        honorific=_v(s, "委嘱状敬称") or "",
    )
    book = Book(file, station)
    for row, r in _records(tables.get("協議会", pd.DataFrame())):
        book.councils.append(
            Council(
                row, _v(r, "協議会ID"), _v(r, "名称"), _v(r, "種別"), _v(r, "職種等区分"), _v(r, "設置理由"),
                _v(r, "交番等"), _v(r, "交番等区分"), _v(r, "所管区名"), _v(r, "設置日"),
                _v(r, "運営責任者職名"), _v(r, "運営責任者階級"), _v(r, "運営責任者氏名"),
                _v(r, "文書番号"), _v(r, "報告日"),
            )
        )  # fmt: skip
    for row, r in _records(tables.get("委員", pd.DataFrame())):
        book.members.append(
            Member(
                row, _v(r, "協議会ID"), _v(r, "氏名"), _v(r, "ふりがな"), _v(r, "性別"), _v(r, "生年月日"),
                _v(r, "年齢"), _v(r, "職業"), _v(r, "役職"), _v(r, "区分"), _v(r, "公職"), _v(r, "委嘱日"),
                _v(r, "任期満了日"), _v(r, "交付日"), _v(r, "初回委嘱日"), _v(r, "前任者"), _v(r, "任期変更"),
            )
        )  # fmt: skip
    for row, r in _records(tables.get("意見要望", pd.DataFrame())):
        book.opinions.append(Opinion(row, _v(r, "会議ID"), _v(r, "意見・要望"), _v(r, "回答")))
    by_meeting: dict[str | None, list[Opinion]] = defaultdict(list)
    for o in book.opinions:
        by_meeting[o.meeting_id].append(o)
    for row, r in _records(tables.get("会議", pd.DataFrame())):
        mid = _v(r, "会議ID")
        book.meetings.append(
            Meeting(
                row, mid, _v(r, "協議会ID"), _v(r, "会議種別"), _v(r, "回次"), _v(r, "開催日"),
                _v(r, "開始時刻"), _v(r, "終了時刻"), _v(r, "開催場所"), _v(r, "参加委員数"),
                _v(r, "参加警察官数"), _v(r, "地域幹部数"), _v(r, "その他幹部数"), _v(r, "委員以外の参加者"),
                _v(r, "テーマ"), _v(r, "報告日"), _v(r, "報告者交番等"), _v(r, "報告者階級"),
                _v(r, "報告者氏名"), _v(r, "報告先") or "署長", _v(r, "備考"),
                tuple(by_meeting.get(mid, ())) if mid is not None else (),
            )
        )  # fmt: skip
    for row, r in _records(tables.get("選挙期間", pd.DataFrame())):
        book.elections.append(
            Election(row, sheets.get("選挙期間", "選挙期間"), file, _v(r, "選挙名"), _v(r, "告示日"), _v(r, "投票日"))
        )
    return book


def _check_tables(raw: RawBook) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    typed: dict[str, pd.DataFrame] = {}
    findings: list[Finding] = []
    for name, table in raw.tables.items():
        t = typed_frame(table)
        typed[name] = t
        findings += validate_table(table, t)
        if table.spec.key_value:
            findings += missing_keys(table)
    return typed, findings


def _locator(tables: dict[str, RawTable]):
    def locate(sheet: str, row: int | None, column: str) -> dict:
        t = tables.get(sheet)
        if t is None:
            return {"sheet": sheet, "row": row, "column": column, "cell": None}
        return {"sheet": t.sheet, "row": t.excel_row(column, row), "column": column, "cell": t.cell(column, row)}

    def present(sheet: str, row: int, column: str) -> bool:
        t = tables.get(sheet)
        return bool(t is not None and column in t.frame.columns and not is_blank(t.frame.at[row, column]))

    return locate, present


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """A formula without a value is reported once, not again as an empty required cell."""
    formula_cells = {(f.sheet, f.cell) for f in findings if f.rule == "formula-no-value"}
    out, seen = [], set()
    for f in findings:
        if f.rule == "required-value" and (f.sheet, f.cell) in formula_cells:
            continue
        key = (f.rule, f.sheet, f.cell, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def sort_findings(findings: list[Finding], sheet_order: list[str] | None = None) -> list[Finding]:
    order = {s: i for i, s in enumerate(sheet_order or [])}
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_ORDER[f.severity],
            order.get(f.sheet or "", -1 if f.row is None else 99),
            f.row or 0,
            f.cell or "",
            f.rule,
        ),
    )


def validate_workbook(path: Path, options: Options, shared_elections: list[Election] = ()) -> Result:
    """Read and validate one station workbook; never raises for bad input."""
    result = Result(path, strict=options.strict)
    try:
        raw = read_workbook(path)
    except WorkbookUnreadable as e:
        result.unreadable = True
        result.findings = [e.finding]
        return result
    result.canon = {t.sheet: name for name, t in raw.tables.items()}
    typed, findings = _check_tables(raw)
    book = build_book(path.name, typed, {n: t.sheet for n, t in raw.tables.items()})
    book.elections.extend(shared_elections)
    result.book = book
    locate, present = _locator(raw.tables)
    ctx = Ctx(book, options.as_of, locate, present, long_tenure_years=options.long_tenure_years)
    # With a sheet or column missing the cross-sheet rules would only echo it: fix the layout first.
    findings = raw.findings + findings + ([] if raw.blocked else run_checks(ctx))
    result.findings = sort_findings(_dedupe(findings), [t.sheet for t in raw.tables.values()])
    return result


def read_elections(path: Path) -> Result:
    """The shared 選挙期間.xlsx that applies to every station in the folder."""
    result = Result(path)
    try:
        raw = read_workbook(path, only=(ELECTIONS.name,))
    except WorkbookUnreadable as e:
        result.unreadable = True
        result.findings = [e.finding]
        return result
    if ELECTIONS.name not in raw.tables:
        result.findings = [
            make_finding("sheet-missing", f"「{path.name}」にシート「選挙期間」がありません。", sheet=ELECTIONS.name)
        ]
        return result
    typed, findings = _check_tables(raw)
    result.canon = {t.sheet: name for name, t in raw.tables.items()}
    book = build_book(path.name, typed, {n: t.sheet for n, t in raw.tables.items()})
    locate, present = _locator(raw.tables)
    ctx = Ctx(book, dt.date.today(), locate, present)
    result.findings = sort_findings(findings + list(term_order(ctx)))
    result.book = book
    return result
