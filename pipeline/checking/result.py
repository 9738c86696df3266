"""What validating a workbook takes and gives: options and the result, light enough for a cached re-run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.findings import Finding, Severity
from pipeline.core.model import Book


@dataclass
class Options:
    as_of: dt.date
    strict: bool = False
    long_tenure_years: int = 10

    def validation(self) -> Options:
        """Just what validating a workbook depends on (a subclass may carry more)."""
        return Options(self.as_of, self.strict, self.long_tenure_years)


@dataclass
class Result:
    """What validation knows about one workbook."""

    path: Path
    findings: list[Finding] = field(default_factory=list)
    book: Book | None = None
    unreadable: bool = False
    canon: dict[str, str] = field(default_factory=dict)  # actual sheet name -> canonical
    station_at: dict | None = None  # where 警察署名 is (sheet, row, column, cell), for findings about the station
    as_of: dt.date | None = None  # the as-of date it was validated for (what a public-office error blocks)
    crash: object | None = None  # crash.Crash: validating it met an internal error (a bug of ours, not the input)

    @property
    def file(self) -> str:
        return self.path.name

    @property
    def has_book(self) -> bool:
        """Readable enough to have a model (the workbook's documents and pages can be made)."""
        return self.book is not None

    @property
    def station(self) -> str | None:
        return self.book.station.name if self.book else None

    @property
    def status(self) -> str:
        return status_of(self.findings, self.unreadable)


ROW_KEYS = ("council_rows", "open_opinion_rows")  # in the run record and 県集計.xlsx, not in 検証結果.json


@dataclass(frozen=True)
class StationSummary:
    """What index.html shows of one station: made with its 概要.html, kept in the run record, so the index
    of a prefecture is written without the stations' models."""

    name: str
    councils: int
    serving: int
    regular: int  # 定例 meetings held this 年度 up to the as-of date
    extra: int  # 臨時 ones
    pending: int  # councils without a 定例 meeting this 年度 yet
    squares: tuple[tuple[str, str], ...]  # the first councils' (chart class, tooltip) for the index chart
    # SPEC section 4's "summary" of the workbook (overview.figures.figures): its JSON numbers and, for 県集計.xlsx,
    # a row per council and per open 意見・要望, so that the prefecture's tables need no model.
    figures: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def json_figures(self) -> dict | None:
        """The workbook's "summary" in 検証結果.json: the figures without the per-row lists."""
        return {k: v for k, v in self.figures.items() if k not in ROW_KEYS} if self.figures else None

    @classmethod
    def from_json(cls, d: dict) -> StationSummary:
        return cls(**(d | {"squares": tuple(tuple(x) for x in d["squares"])}))


def status_of(findings: list[Finding], unreadable: bool = False) -> str:
    """The JSON contract's workbook status."""
    if unreadable:
        return "unreadable"
    sev = {f.severity for f in findings}
    if Severity.ERROR in sev:
        return "errors"
    return "warnings" if Severity.WARNING in sev else "ok"
