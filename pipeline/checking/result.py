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


def status_of(findings: list[Finding], unreadable: bool = False) -> str:
    """The JSON contract's workbook status."""
    if unreadable:
        return "unreadable"
    sev = {f.severity for f in findings}
    if Severity.ERROR in sev:
        return "errors"
    return "warnings" if Severity.WARNING in sev else "ok"
