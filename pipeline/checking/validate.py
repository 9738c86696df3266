"""Validate one workbook: schemas and rules over its sheets, the model, and what each error blocks."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pipeline.checking.checks import Ctx, run_checks, term_order
from pipeline.checking.result import Options, Result
from pipeline.checking.schemas import missing_keys, typed_frame, validate_table
from pipeline.core.contract import CHIEFS, COUNCILS, ELECTIONS, MEETINGS, MEMBERS, OPINIONS, STATION, SheetSpec
from pipeline.core.findings import Finding, Severity, WorkbookUnreadable, make_finding
from pipeline.core.model import DEFAULT_ADDRESSEE, Book, Chief, Council, Election, Meeting, Member, Opinion, Station
from pipeline.core.normalize import Invalid, is_blank
from pipeline.reading.read import RawBook, RawTable, read_workbook

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _v(rec: dict, key: str):
    v = rec.get(key)
    return None if isinstance(v, Invalid) else v


def _fields(spec: SheetSpec, rec: dict) -> dict:
    """Model keyword arguments for one record: each contract column fills the field it declares."""
    return {c.field: _v(rec, c.name) for c in spec.columns}


def _records(spec: SheetSpec, typed: pd.DataFrame) -> Iterator[tuple[int, dict]]:
    """(row, model keyword arguments) of every record, column by column rather than cell by cell (as _fields)."""
    n = len(typed)
    columns = [
        [None if isinstance(v, Invalid) else v for v in typed[c.name].tolist()]
        if c.name in typed.columns
        else [None] * n
        for c in spec.columns
    ]
    names = [c.field for c in spec.columns]
    for row, values in zip(typed.index.tolist(), zip(*columns, strict=True), strict=True):
        yield row, dict(zip(names, values, strict=True))


def build_book(file: str, tables: dict[str, pd.DataFrame], sheets: dict[str, str]) -> Book:
    """Model objects from typed frames; unreadable values are None (their findings are already made)."""
    st = tables.get(STATION.name)
    s = _fields(STATION, st.to_dict("records")[0] if st is not None and len(st) else {})
    empty = pd.DataFrame()
    chiefs = [Chief(row=row, **f) for row, f in _records(CHIEFS, tables.get(CHIEFS.name, empty))]
    # A sheet without data rows counts as absent; rows are taken in 着任日 order (a row whose 着任日 cannot
    # be read has its own finding and no place in the order).
    dated = sorted((c for c in chiefs if c.since is not None), key=lambda c: (c.since, c.row))
    station = Station(
        **(s | {"addressee": s["addressee"] or DEFAULT_ADDRESSEE, "honorific": s["honorific"] or ""}),
        chiefs=tuple(dated),
        has_chief_sheet=bool(chiefs),
    )
    book = Book(file, station)
    book.chief_rows = chiefs
    book.councils += [Council(row=row, **f) for row, f in _records(COUNCILS, tables.get(COUNCILS.name, empty))]
    book.members += [Member(row=row, **f) for row, f in _records(MEMBERS, tables.get(MEMBERS.name, empty))]
    book.opinions += [Opinion(row=row, **f) for row, f in _records(OPINIONS, tables.get(OPINIONS.name, empty))]
    by_meeting: dict[str | None, list[Opinion]] = defaultdict(list)
    for o in book.opinions:
        by_meeting[o.meeting_id].append(o)
    for row, f in _records(MEETINGS, tables.get(MEETINGS.name, empty)):
        f["report_to"] = f["report_to"] or "署長"
        opinions = tuple(by_meeting.get(f["id"], ())) if f["id"] is not None else ()
        book.meetings.append(Meeting(row=row, **f, opinions=opinions))
    sheet = sheets.get(ELECTIONS.name, ELECTIONS.name)
    for row, f in _records(ELECTIONS, tables.get(ELECTIONS.name, empty)):
        book.elections.append(Election(row=row, sheet=sheet, source=file, **f))
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

    cells: dict[tuple[str, str], dict[int, object]] = {}  # (sheet, column) -> row -> raw value, built on first use

    def present(sheet: str, row: int, column: str) -> bool:
        t = tables.get(sheet)
        if t is None or column not in t.frame.columns:
            return False
        values = cells.get((sheet, column))
        if values is None:
            values = cells[(sheet, column)] = dict(zip(t.frame.index.tolist(), t.frame[column].tolist(), strict=True))
        return not is_blank(values[row])

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


@contextlib.contextmanager
def _no_collector_passes() -> Iterator[None]:
    """Validation allocates a few million small objects that live until it ends: the cyclic collector's
    repeated passes over them took a fifth of the time and freed nothing. Reference counting frees as usual;
    the collector runs again afterwards (unless the caller had turned it off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def validate_workbook(path: Path, options: Options, shared_elections: list[Election] = ()) -> Result:
    """Read and validate one station workbook; never raises for bad input."""
    with _no_collector_passes():
        return _validate_workbook(path, options, shared_elections)


def _validate_workbook(path: Path, options: Options, shared_elections: list[Election]) -> Result:
    result = Result(path, as_of=options.as_of)
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
    if STATION.name in raw.tables:
        result.station_at = locate(STATION.name, None, "警察署名")
    ctx = Ctx(book, options.as_of, locate, present, long_tenure_years=options.long_tenure_years)
    # With a sheet or column missing the cross-sheet rules would only echo it: fix the layout first.
    findings = raw.findings + findings + ([] if raw.blocked else run_checks(ctx))
    result.findings = sort_findings(_dedupe(findings), [t.sheet for t in raw.tables.values()])
    return result


def read_elections(path: Path, as_of: dt.date) -> Result:
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
    ctx = Ctx(book, as_of, locate, present)
    result.findings = sort_findings(findings + list(term_order(ctx)))
    result.book = book
    return result
