"""What a run found and wrote: one WorkbookRun per workbook (with its StationSummary), the RunReport, the options.

Plain data that the later stages read (the annotated copy, the pages and 県集計.xlsx, the CLI) and the run
stage fills; the JSON contract of 検証結果.json (SPEC section 4) is written from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.checking.result import Options, Result, status_of
from pipeline.core.crash import Crash, CrashLog, finding_message
from pipeline.core.findings import Finding, Severity, make_finding
from pipeline.core.write import OutputLink, write_error_message
from pipeline.documents.plan import Document

if TYPE_CHECKING:
    from pipeline.documents.form_templates import FormSet


# The JSON contract's workbook statuses as the pages and 県集計.xlsx print them.
STATUS_WORDS = {
    "ok": "問題なし",
    "warnings": "警告あり",
    "errors": "エラーあり",
    "unreadable": "読み込めません",
    "failed": "処理できませんでした（ログを参照）",
}
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


@dataclass(frozen=True)
class WriteFailure:
    """A document the disk refused (full, read-only, locked by Word, path too long): output, not validation."""

    document: Document
    error: OSError

    def finding(self, canon: dict[str, str]) -> Finding:
        sheet, row = self.document.source or (None, None)
        actual = next((a for a, c in canon.items() if c == sheet), sheet)
        rule = "output-link" if isinstance(self.error, OutputLink) else "write-failed"
        return make_finding(rule, write_error_message(self.document.path, self.error), sheet=actual, row=row)


@dataclass
class WorkbookRun:
    result: Result
    folder: str | None = None
    documents: list[Document] = field(default_factory=list)
    cached: bool = False  # taken from the last run's record: nothing changed, nothing re-done
    extra_before: list[dict] = field(default_factory=list)  # cross-workbook findings the record had (JSON)
    run_findings: list[Finding] = field(default_factory=list)  # across workbooks (duplicate-station)
    write_failures: list[WriteFailure] = field(default_factory=list)
    summary: StationSummary | None = None  # its line of index.html, made with its 概要.html
    internal_errors: list[Finding] = field(default_factory=list)  # a bug of ours stopped it (status failed)

    @property
    def findings(self) -> list[Finding]:
        """Validation findings, those across workbooks, then what writing the documents ran into."""
        return (
            self.internal_errors
            + self.result.findings
            + self.run_findings
            + [w.finding(self.result.canon) for w in self.write_failures]
        )

    @property
    def status(self) -> str:
        return "failed" if self.internal_errors else status_of(self.findings, self.result.unreadable)

    def crashed(self, crash: Crash, log: CrashLog) -> None:
        """An internal error ended this workbook's processing: one internal-error finding names the log."""
        self.internal_errors.append(make_finding("internal-error", finding_message(crash, log.record(crash))))

    def to_json(self) -> dict:
        r = self.result
        return {
            "file": r.file,
            "station": r.station,
            "status": self.status,
            "findings": [f.to_json() for f in self.findings],
            "documents": [d.to_json() for d in self.documents],
            "summary": self.summary.json_figures()
            if self.summary
            else None,  # SPEC 4: index.html's and 県集計.xlsx's numbers
        }


@dataclass
class RunOptions(Options):
    """Everything one run needs: the validation options, and what to write."""

    documents: bool = True  # False: validate only (`check`)
    pdf: bool = False
    only: list[Path] | None = None  # watch: just these workbooks; the JSON keeps the others' entries
    lock_wait_s: float = 10.0  # how long a second run on the same output folder waits for the first
    forms_dir: Path | None = None  # --forms: the office's templates (else 様式 in the input folder)


@dataclass
class RunReport:
    as_of: dt.date
    input_dir: Path | None = None
    output_dir: Path | None = None
    workbooks: list[WorkbookRun] = field(default_factory=list)
    documents: bool = False  # whether this run wrote documents (reports) or only validated (check)
    same_as_last: bool = False  # every workbook taken from the record, and the same workbooks as last time
    record_sha: str = ""  # the run record this report was made from
    json_path: Path | None = None
    annotated: list[Path] = field(default_factory=list)
    annotate_failed: list[str] = field(default_factory=list)  # report files that could not be written, and why
    overview: list[Path] = field(default_factory=list)  # index.html and each station's 概要.html
    pdf_note: str | None = None
    forms: FormSet | None = None  # the templates this run used (or would use, for check)
    made_at: str | None = None  # when this run made its pages and copies (clock.stamp)
    summary_book: Path | None = None  # 県集計.xlsx
    crash_log: CrashLog | None = None  # where internal errors were logged (its path is None while there were none)

    @property
    def failed(self) -> list[WorkbookRun]:
        """Workbooks an internal error stopped: the run exits 2."""
        return [w for w in self.workbooks if w.internal_errors]

    @property
    def has_errors(self) -> bool:
        return any(f.severity == Severity.ERROR for w in self.workbooks for f in w.findings)

    @property
    def stations(self) -> list[WorkbookRun]:
        """The station workbooks (readable or not), without the shared election list."""
        return [w for w in self.workbooks if w.folder is not None or w.result.unreadable or w.internal_errors]

    def to_json(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "workbooks": [w.to_json() for w in self.workbooks]}
