"""One run over an input folder: validate every workbook, then render and write what is valid."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.checking.result import Options, Result
from pipeline.core import clock, version
from pipeline.core.contract import ELECTION_BOOK
from pipeline.core.crash import Crash, CrashLog, capture
from pipeline.core.errors import InstallationProblem, OutputInUse, RunFailed, TemplateProblem, missing_module
from pipeline.core.findings import make_finding
from pipeline.core.write import (
    ANNOTATED,
    INDEX,
    MANIFEST,
    MAX_FOLDER,
    OVERVIEW,
    RESERVED_AT_ROOT,
    Manifest,
    Names,
    OutputBusy,
    OutputLink,
    OutputLock,
    atomic_write,
    guard_output,
    link_on_the_way,
    remove_stale_temporaries,
    sha256,
    write_error_message,
    write_json,
)
from pipeline.documents import forms
from pipeline.documents.plan import FORMS, Document, plan_documents
from pipeline.overview.figures import ensure_summaries
from pipeline.overview.summary_book import write_summary_book
from pipeline.report import RunOptions, RunReport, StationSummary, WorkbookRun, WriteFailure
from pipeline.run.record import RunRecord, file_sha, note_report, report_is_current, store_model

if TYPE_CHECKING:
    from pipeline.documents.form_templates import FormSet
    from pipeline.documents.render import FormTemplate

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".csv", ".ods"}
REPORT_JSON = "検証結果.json"
ELECTION_STEM = Path(ELECTION_BOOK).stem  # 選挙期間.xls is the shared election list too


def discover(input_dir: Path) -> tuple[list[Path], Path | None]:
    """Station workbooks (and files that look like one but are not .xlsx), plus the shared election book."""
    books, elections = [], None
    for p in sorted(input_dir.iterdir()):
        if not p.is_file() or p.name.startswith(("~$", ".")) or p.suffix.lower() not in WORKBOOK_SUFFIXES:
            continue
        if p.is_symlink() and not _inside(p, input_dir):
            continue  # a link is read only when its target lies inside the input folder (SPEC section 6)
        if p.name == ELECTION_BOOK or (p.stem == ELECTION_STEM and p.suffix.lower() == ".xls"):
            elections = p if elections is None or elections.name != ELECTION_BOOK else elections
        else:
            books.append(p)
    return books, elections


def _inside(link: Path, folder: Path) -> bool:
    try:
        return link.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


Progress = Callable[[str, int, int], None]


def reports(
    input_dir: Path,
    output_dir: Path,
    options: RunOptions,
    *,
    templates: dict[str, FormTemplate] | None = None,
    progress: Progress | None = None,
    on_report: Callable[[RunReport], None] | None = None,
) -> RunReport:
    """One whole run: validate, write the documents, 検証結果.json and 検証結果.xlsx, then PDFs when asked.

    on_report is called once the findings and the report files are final, before the (slow) PDF step,
    so a caller can show them at once. Raises RunFailed or TemplateProblem when the run cannot proceed.
    """
    if not input_dir.is_dir():
        raise RunFailed(
            f"入力フォルダ「{input_dir}」がありません。ブックを置いたフォルダを --input で指定してください"
            "（例: kobankyo reports --input . --output 結果）。"
        )
    _check_writable(output_dir)
    guard_output(output_dir)
    try:
        with OutputLock(output_dir, options.lock_wait_s) as lock:
            if not lock.left_clean:  # a run killed part-way may have left temporary files
                remove_stale_temporaries(output_dir)
            return _locked_run(input_dir, output_dir, options, templates, progress, on_report)
    except OutputBusy as e:
        holder = e.args[0] if e.args else {}
        who = f"プロセス番号 {holder.get('pid', '不明')}、{holder.get('started', '開始時刻不明')} 開始"
        raise OutputInUse(
            f"出力フォルダ「{output_dir}」は別の実行（{who}）が使っています。"
            "その実行が終わってから、もう一度実行してください。"
        ) from None
    except OutputLink as e:  # the lock file is a planted link
        raise RunFailed(e.message()) from None


def _locked_run(input_dir, output_dir, options, templates, progress, on_report) -> RunReport:
    started = dt.datetime.now()
    try:
        report = validate_and_write(
            input_dir, output_dir, options, templates=templates, progress=progress, annotate=True
        )
    except OSError as e:  # the manifest could not be saved: what was written stays, but the run stops
        raise RunFailed(write_error_message(getattr(e, "filename", None) or output_dir, e)) from None
    unchanged = report.same_as_last
    if options.only is None:  # a watch run re-reads only some workbooks: the pages need them all
        try:
            if unchanged and (output_dir / INDEX).exists():
                report.overview = [output_dir / wr.folder / OVERVIEW for wr in report.stations if wr.folder]
                report.overview.append(output_dir / INDEX)
            else:
                from pipeline.overview.pages import write_overview  # only when there is a page to write

                report.overview = write_overview(report, output_dir, station_pages=False, made_at=report.made_at)
        except OSError as e:
            report.annotate_failed.append(write_error_message(getattr(e, "filename", None) or output_dir, e))
        try:
            report.summary_book = write_summary_book(report, output_dir, unchanged=unchanged)  # 県集計.xlsx
        except OSError as e:
            report.annotate_failed.append(write_error_message(getattr(e, "filename", None) or output_dir, e))
        except Exception as e:  # the prefecture's tables must never stop the run that made the documents
            report.annotate_failed.append(
                f"県集計.xlsx を作れませんでした（{type(e).__name__}）。数字は 検証結果.json にあります。"
            )
    else:
        ensure_summaries(report)  # the JSON's summary of the workbooks a watch run re-read
    failed: OSError | None = None
    try:
        report.json_path = write_report(report, output_dir, merge=options.only is not None)
    except OSError as e:
        failed = e
    if on_report:
        on_report(report)  # the findings are shown even when the disk refused the report file
    if failed is not None:
        raise RunFailed(write_error_message(output_dir / REPORT_JSON, failed))
    if options.documents and options.pdf:
        from pipeline.documents.pdf import export_pdfs

        report.pdf_note = export_pdfs(report, output_dir, started)
    return report


def _page_present(output_dir: Path, wr: WorkbookRun, pages: dt.date | None) -> bool:
    return pages is None or (output_dir / wr.folder / OVERVIEW).exists()


def annotated_path(output_dir: Path, wr: WorkbookRun) -> Path:
    return output_dir / wr.folder / ANNOTATED


def _check_writable(output_dir: Path) -> None:
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        probe = output_dir / f".write-test-{os.getpid()}"
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # never through a planted link
        except FileExistsError:  # left by a killed run of a process with the same id (or planted: removed)
            probe.unlink()
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as e:
        raise RunFailed(f"出力フォルダ「{output_dir}」に書き込めません（{e.strerror or type(e).__name__}）。") from None


def validate_and_write(
    input_dir: Path,
    output_dir: Path,
    options: RunOptions,
    *,
    templates: dict[str, FormTemplate] | None = None,
    progress: Progress | None = None,
    annotate: bool = False,
) -> RunReport:
    """Validate every workbook in input_dir; with options.documents also write the forms; with annotate
    also each workbook's 検証結果.xlsx (in the same worker that wrote its documents).

    A workbook whose inputs are all as the last run saw them is taken from the run record (run/record.py):
    neither validated nor rendered, and pandas is not even imported when that holds for every workbook.
    The run is four named steps (RunSteps): find the work, validate what changed, write, record.
    """
    steps = RunSteps(input_dir, output_dir, options, templates, progress, annotate)
    steps.find_work()
    steps.validate_changed()
    steps.write()
    steps.record()
    return steps.report


@dataclass(eq=False)
class RunSteps:
    """One run's state, passed from step to step; each step reads what the earlier ones left."""

    input_dir: Path
    output_dir: Path
    options: RunOptions
    templates: dict[str, FormTemplate] | None
    progress: Progress | None
    annotate: bool
    # Left by find_work:
    report: RunReport = field(init=False)
    books: list[Path] = field(init=False)
    election_path: Path | None = field(init=False)
    cache: RunRecord = field(init=False)
    manifest: Manifest = field(init=False)
    env: str = field(init=False)
    election_sha: str | None = field(init=False)
    shas: dict[Path, str] = field(init=False)
    runs: dict[Path, WorkbookRun] = field(init=False)
    fresh: list[Path] = field(init=False)
    form_paths: tuple | None = field(init=False)
    checked: dict[str, FormTemplate] | None = None
    _election: list[Result] = field(default_factory=list)  # the shared election list's result, once known
    # Left by validate_changed:
    ordered: list[WorkbookRun] = field(default_factory=list)
    linked: set[int] = field(default_factory=set)
    link_findings: list = field(default_factory=list)
    # Left by write:
    todo: list[WorkbookRun] = field(default_factory=list)

    @property
    def log(self) -> CrashLog:
        return self.report.crash_log

    def find_work(self) -> None:
        """The workbooks of the input folder, the form set, and which workbooks the run record already holds
        as they are now (those are neither validated nor rendered again)."""
        options, output_dir = self.options, self.output_dir
        books, self.election_path = discover(self.input_dir)
        if options.only is not None:
            wanted = {p.resolve() for p in options.only}
            books = [b for b in books if b.resolve() in wanted]
        self.books = books
        self.report = report = RunReport(options.as_of, self.input_dir, output_dir, documents=options.documents)
        report.crash_log = CrashLog(output_dir)
        report.forms = form_set = _form_set(self.input_dir, options)  # a broken template stops the run here
        self.form_paths = tuple(form_set.paths.items()) if form_set.custom else None
        output_dir.mkdir(parents=True, exist_ok=True)
        guard_output(output_dir)
        self.cache = cache = RunRecord(output_dir)
        if not (output_dir / MANIFEST).exists():
            # Without the manifest no document is known as ours: work everything out again, so that the files
            # on disk that are as they would be written are adopted and the manifest is rebuilt.
            cache.entries = {}
        self.election_sha = file_sha(self.election_path) if self.election_path is not None else None
        self.env = RunRecord.environment(options, self.election_sha)
        if form_set.custom:  # the office's templates: a change of one is a change of every document's input
            self.env = sha256((self.env + form_set.fingerprint()).encode())
        self.shas = {p: file_sha(p) for p in books}
        self.runs = {}
        again = functools.partial(_validate_again, options.validation(), self._election)
        for p in books:
            hit = cache.lookup(p, self.shas[p], self.env, again)
            if hit is not None:
                self.runs[p] = WorkbookRun(
                    hit.result, hit.folder, hit.documents, cached=True, extra_before=hit.extra, summary=hit.summary
                )
        self.fresh = [p for p in books if p not in self.runs]
        self.manifest = Manifest(output_dir)
        if options.documents and self.fresh:
            if len(self.fresh) < PARALLEL_MIN or self.templates is not None:
                # Fail fast on a broken template, before any work.
                self.checked = _load_templates(self.templates, self.form_paths)
            else:
                # The workers load and check their own copies; the parent need not hold docxtpl too.
                _templates_present()

    def validate_changed(self) -> None:
        """Phase 1: validate the workbooks that changed (in parallel when there are many), then the findings
        across workbooks (duplicate stations, links in the output folder)."""
        # Its workers import pandas, pandera and openpyxl; they are gone before phase 2, which needs none.
        options, cache, env, report = self.options, self.cache, self.env, self.report
        with _pool(len(self.fresh), self.templates) as pool:
            if self.election_path is not None:
                self._validate_elections(pool)
            mapper = pool.map if pool else map
            shared = _shared_elections(self._election) if self.fresh else []
            jobs = [(p, options.validation(), shared, cache.model_path(self.shas[p], env)) for p in self.fresh]
            for i, (p, result) in enumerate(zip(self.fresh, mapper(_validate_job, jobs), strict=True)):
                if self.progress:
                    self.progress(result.file, i + 1, self._steps)
                self.runs[p] = WorkbookRun(result)
                if result.crash is not None:
                    self.runs[p].crashed(result.crash, self.log)
        self.ordered = ordered = [self.runs[p] for p in self.books]
        _assign_folders(ordered, self.manifest, self.input_dir, options)
        _flag_duplicate_stations(ordered)
        self.linked, self.link_findings = _flag_output_links(ordered, self.output_dir)  # nothing through a link
        for wr in ordered:
            if wr.cached and [f.to_json() for f in wr.run_findings] != wr.extra_before:
                # Another workbook of the same station came or went: its findings, and what they block, change.
                wr.cached, wr.documents = False, []
        report.workbooks.extend(ordered)

    @property
    def _steps(self) -> int:
        return len(self.fresh) * (2 if self.options.documents else 1)

    def _validate_elections(self, pool) -> None:
        """The shared 選挙期間.xlsx: from the record, or validated first (every station's rules read it)."""
        path, sha, env, as_of = self.election_path, self.election_sha, self.env, self.options.as_of
        hit = self.cache.lookup(path, sha, env, functools.partial(_elections_again, as_of))
        if hit is not None:
            er = hit.result
        else:
            job = (path, as_of)
            er = pool.submit(_elections_job, job).result() if pool else _elections_job(job)
            if er.crash is None:
                self.cache.keep(path, sha, env, er, None, [], [])
        self._election.append(er)
        self.report.workbooks.append(ewr := WorkbookRun(er, cached=hit is not None))
        if er.crash is not None:
            ewr.crashed(er.crash, self.log)

    def write(self) -> None:
        """Phase 2: each workbook's documents, then its 検証結果.xlsx and 概要.html, workbook by workbook; each
        workbook's files live in its own folder, so the workers never write the same file. (A watch run writes
        no station page here: its index needs every workbook.)"""
        options, output_dir, report, annotate = self.options, self.output_dir, self.report, self.annotate
        documents = options.documents
        pages = options.as_of if annotate and options.only is None else None
        copies: dict[int, Path] = {}
        todo = []
        for wr in self.ordered:
            if not (wr.result.has_book and wr.folder) or id(wr) in self.linked:
                continue
            if not wr.cached:
                todo.append(wr)
            elif (
                annotate and (path := annotated_path(output_dir, wr)).exists() and _page_present(output_dir, wr, pages)
            ):
                copies[id(wr)] = path  # the workbook is as the last run saw it: so are its copy and page
            elif annotate:
                todo.append(wr)  # the clerk deleted the copy or the page: only that is made again
        if not documents and not annotate:
            todo = []
        self.todo = todo
        report.made_at = clock.stamp(clock.now())
        forms = tuple(report.forms.lines())
        job = Finish(output_dir, options.strict, documents, annotate, pages, report.made_at, self.form_paths, forms)
        with _pool(len(todo), self.templates) as pool:
            if pool is None:
                if documents and self.checked is None and any(not wr.cached for wr in todo):
                    self.checked = _load_templates(self.templates, self.form_paths)
                outcomes = ((*job.run(wr, self.checked, self.manifest), None, None) for wr in todo)
            else:
                outcomes = pool.map(_finish_job, [(job, wr, *self.manifest.part(wr.folder)) for wr in todo])
            done = len(self.fresh)
            for wr, outcome in zip(todo, outcomes, strict=True):
                copy = self._take(wr, outcome)
                if copy is not None:
                    copies[id(wr)] = copy
                if self.progress and documents and not wr.cached:
                    done += 1
                    self.progress(wr.result.file, done, self._steps)
        for wr, finding in self.link_findings:
            wr.run_findings.append(finding)
        report.annotated = [copies[id(wr)] for wr in self.ordered if id(wr) in copies]

    def _take(self, wr: WorkbookRun, outcome: tuple) -> Path | None:
        """What phase 2 made of one workbook, into the report and the manifest; returns its copy."""
        docs, failures, copy, problems, summary, crashes, files, keys = outcome
        wr.summary = summary
        for crash in crashes:
            wr.crashed(crash, self.log)
        if self.options.documents and not wr.cached:
            wr.documents, wr.write_failures = docs, failures
        self.report.annotate_failed += problems
        if files is not None:  # the worker's view of this folder replaces the parent's
            self.manifest.replace_part(wr.folder + "/", files, keys)
        self.manifest.commit_part(wr.folder + "/")  # journalled: an interrupted run keeps what it wrote
        return copy

    def record(self) -> None:
        """The manifest and the run record, saved once, and only when something changed."""
        options, report, cache = self.options, self.report, self.cache
        present = {p.name for p in self.books} | ({self.election_path.name} if self.election_path else set())
        report.same_as_last = (
            options.only is None and all(wr.cached for wr in report.workbooks) and present == set(cache.entries)
        )
        if self.todo or not report.same_as_last or self.manifest.journal.exists():
            self.manifest.save()  # else nothing was written, and the manifest on disk is already right
        for p, wr in self.runs.items():
            if not wr.cached and not wr.write_failures and not wr.internal_errors and id(wr) not in self.linked:
                extra = [f.to_json() for f in wr.run_findings]
                cache.keep(p, self.shas[p], self.env, wr.result, wr.folder, wr.documents, extra, wr.summary)
        if options.only is not None:  # the record keeps the workbooks this run did not look at
            present |= {p.name for p in discover(self.input_dir)[0]}
        cache.save(present)
        report.record_sha = cache.sha


def _load_templates(given: dict[str, FormTemplate] | None, paths: tuple | None = None) -> dict[str, FormTemplate]:
    """The prepared forms (docxtpl is imported only here, when something is to be rendered)."""
    if given is not None:
        return given
    from pipeline.documents.render import load_templates

    return load_templates(fields=forms.FIELDS, paths=dict(paths) if paths else None)


def _form_set(input_dir: Path, options: RunOptions) -> FormSet:
    """The templates of this run: --forms, else 様式 in the input folder, checked before anything is written."""
    from pipeline.documents.form_templates import ensure_sound, resolve

    form_set = resolve(input_dir, options.forms_dir)
    ensure_sound(form_set)
    return form_set


def _templates_present() -> None:
    root = resources.files("pipeline.templates_docx")
    for form in FORMS:
        if not root.joinpath(f"{form}.docx").is_file():
            raise TemplateProblem(f"テンプレート「{form}.docx」がありません。`make templates` で作り直してください。")


def _assign_folders(ordered: list[WorkbookRun], manifest: Manifest, input_dir: Path, options: RunOptions) -> None:
    """Folders are named in input order, so the same input always gives the same tree."""
    folders = Names(RESERVED_AT_ROOT)
    if options.only is not None:
        # A watch run re-reads some workbooks: the others keep the folders they were given.
        processed = {wr.result.file for wr in ordered}
        for file, folder in sorted(manifest.folders.items()):
            if file not in processed and (input_dir / file).exists():
                folders.reserve(folder)
    for wr in ordered:
        if wr.result.has_book:
            folder = folders.take("", wr.result.station or wr.result.path.stem, "", MAX_FOLDER)
            if wr.cached and folder != wr.folder:
                wr.cached, wr.documents = False, []  # its documents now belong in another folder
            wr.folder = folder
            manifest.set_folder(wr.result.file, folder)


def run(
    input_dir: Path,
    output_dir: Path,
    options: Options,
    *,
    documents: bool = True,
    templates: dict[str, FormTemplate] | None = None,
) -> RunReport:
    """Validate and write documents only (no 検証結果 files, no PDFs): for scripts and tests of those stages."""
    opts = RunOptions(options.as_of, options.strict, options.long_tenure_years, documents=documents)
    return validate_and_write(input_dir, output_dir, opts, templates=templates)


def _flag_output_links(runs: list[WorkbookRun], output_dir: Path) -> tuple[set[int], list]:
    """output-link (SPEC section 6) for a station folder that is a link the run did not create: nothing of
    that workbook is written, and the finding blocks its documents. Returns those workbooks, and the
    findings for a 検証結果.xlsx or 概要.html that is such a link, to add once the rest is written (a link
    in place of a document or a form folder blocks just those documents, as a write that failed)."""
    linked, later = set(), []
    for wr in runs:
        if not (wr.result.has_book and wr.folder):
            continue
        if (link := link_on_the_way(output_dir / wr.folder)) is not None:
            wr.run_findings.append(make_finding("output-link", OutputLink(link).message()))
            linked.add(id(wr))
            continue
        for name in (ANNOTATED, OVERVIEW):
            if (link := link_on_the_way(output_dir / wr.folder / name)) is not None:
                later.append((wr, make_finding("output-link", OutputLink(link).message())))
    return linked, later


def _flag_duplicate_stations(runs: list[WorkbookRun]) -> None:
    """Two workbooks that name the same 警察署: a warning on both; their outputs already go to separate folders."""
    by_station: dict[str, list[WorkbookRun]] = {}
    for wr in runs:
        if wr.result.has_book and wr.result.station:
            by_station.setdefault(wr.result.station, []).append(wr)
    for station, same in by_station.items():
        if len(same) < 2:
            continue
        files = "、".join(w.result.file for w in same)
        for wr in same:
            sheet = next((a for a, c in wr.result.canon.items() if c == "署"), "署")
            where = wr.result.station_at or {"sheet": sheet}  # the 警察署名 cell, where the run knows it
            wr.run_findings.append(
                make_finding(
                    "duplicate-station",
                    f"警察署名「{station}」のブックが{len(same)}冊あります（{files}）。"
                    f"このブックの結果はフォルダ「{wr.folder}」に分けて書きました。"
                    "正しいブックを確かめ、不要な方（コピーなど）は入力フォルダから移してください。",
                    **where,
                )
            )


PARALLEL_MIN = 4  # fewer workbooks than this: starting processes costs more than it saves
_WORKER_TEMPLATES: dict[str, FormTemplate] | None = None


def _pool(jobs: int, templates: dict[str, FormTemplate] | None):
    """A process pool over both cores for a big folder; None (run in this process) otherwise."""
    cpus = os.cpu_count() or 1
    if jobs < PARALLEL_MIN or cpus < 2 or templates is not None:
        return contextlib.nullcontext(None)
    # fork is cheapest (modules already imported) but unsafe with other threads running (watch).
    import multiprocessing as mp  # here: a re-run with nothing to validate starts no process
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if "fork" in mp.get_all_start_methods() and threading.active_count() == 1 else "spawn"
    return ProcessPoolExecutor(
        max_workers=min(cpus, jobs, 4),
        mp_context=mp.get_context(method),
        initializer=_die_with_parent,
    )


def _die_with_parent() -> None:
    """In a pool worker: exit when the main process is gone (killed from a task manager, SIGKILL), instead
    of working on and writing into a folder whose lock is already free.

    Waits on the parent's sentinel, which multiprocessing hands every child: the read end of a pipe only
    the parent writes to (POSIX: it reads end-of-file when the parent dies) or the parent's process handle
    (Windows: signalled when it exits). os.getppid() would not do: on Windows it keeps the dead parent's id.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    parent = mp.parent_process()
    if parent is None:
        return

    def watch() -> None:
        try:
            wait([parent.sentinel])
        except OSError:
            pass  # the sentinel is unusable: the parent is gone as far as this worker can tell
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _shared_elections(election: list[Result]) -> list:
    return election[0].book.elections if election and election[0].has_book else []


def _validate_again(options: Options, election: list[Result], path: Path) -> Result:
    return _validate_job((path, options, _shared_elections(election)))


def _elections_again(as_of: dt.date, path: Path) -> Result:
    return _elections_job((path, as_of))


def _reader():
    """The validation module (it imports the reader, pandas and openpyxl): InstallationProblem when one of
    them cannot serve, which stops the run (exit 2) instead of failing every workbook."""
    try:
        from pipeline.checking import validate
    except ImportError as e:
        raise missing_module(e) from None
    return validate


def _elections_job(job: tuple) -> Result:
    read_elections = _reader().read_elections

    try:
        return read_elections(*job)
    except InstallationProblem:
        raise  # stops the run (exit 2): no workbook is to blame
    except Exception as e:  # a bug of ours, not the input: logged by the parent, the others go on
        return Result(job[0], crash=capture("検証", job[0].name, e))


def _validate_job(job: tuple) -> Result:
    validate_workbook = _reader().validate_workbook

    path, options, shared, *model = job
    try:
        result = validate_workbook(path, options, shared)
    except InstallationProblem:
        raise  # stops the run (exit 2): no workbook is to blame
    except Exception as e:  # a bug of ours, not the input: logged by the parent, the others go on
        return Result(path, crash=capture("検証", path.name, e))
    if model and result.has_book:
        try:
            store_model(model[0], result)  # for the run record, should this run complete
        except OSError:
            pass  # the parent tries again when it records the workbook, and says why if it cannot
    return result


@dataclass(frozen=True)
class Finish:
    """Phase 2 for one workbook: its documents (reports), then its 検証結果.xlsx and 概要.html."""

    output_dir: Path
    strict: bool
    documents: bool
    annotate: bool
    pages: dt.date | None = None  # the as-of date of the station pages (概要.html) to write; None: none
    made_at: str = ""  # when this run made its outputs, as the pages and copies say it (clock.stamp)
    form_paths: tuple | None = None  # ((form, template path), ...) of the office's templates; None: built-in
    form_lines: tuple[str, ...] = ()  # the templates used, for 作成状況

    def run(
        self, wr: WorkbookRun, templates: dict[str, FormTemplate] | None, manifest: Manifest
    ) -> tuple[list[Document], list[WriteFailure], Path | None, list[str], StationSummary | None, list[Crash]]:
        """An unexpected exception in one step (a bug of ours) comes back as a Crash; the other steps go on."""
        docs, failures, crashes = wr.documents, wr.write_failures, []
        if self.documents and not wr.cached:
            try:
                docs, failures = write_documents(wr, self.output_dir, templates, manifest, self.strict)
            except Exception as e:
                docs, failures = [], []
                crashes.append(capture("文書の作成", wr.result.file, e))
            wr.documents, wr.write_failures = docs, failures
        copy, problems = None, []
        if self.annotate:
            try:
                copy, problem = annotate_one(
                    wr, self.output_dir, manifest, self.documents, self.form_lines, self.made_at
                )
                problems += [problem] if problem else []
            except Exception as e:
                crashes.append(capture("検証結果.xlsx の作成", wr.result.file, e))
        if self.pages is not None:
            from pipeline.overview.pages import write_station_page

            try:
                wr.summary = write_station_page(wr, self.pages, self.output_dir, self.made_at)
            except OSError as e:
                problems.append(write_error_message(getattr(e, "filename", None) or self.output_dir, e))
            except Exception as e:
                crashes.append(capture("概要ページの作成", wr.result.file, e))
        return docs, failures, copy, problems, wr.summary, crashes


def _finish_job(job: tuple) -> tuple:
    """In a worker: phase 2 of one workbook against its part of the manifest."""
    global _WORKER_TEMPLATES
    finish, wr, files, keys = job
    guard_output(finish.output_dir)  # a spawned worker: the parent's guard is not inherited
    if finish.documents and not wr.cached and _WORKER_TEMPLATES is None:
        _WORKER_TEMPLATES = _load_templates(None, finish.form_paths)
    manifest = Manifest.part_of(finish.output_dir, files, keys)
    return (*finish.run(wr, _WORKER_TEMPLATES, manifest), manifest.files, manifest.keys)


def annotate_one(
    wr: WorkbookRun,
    output_dir: Path,
    manifest: Manifest,
    with_documents: bool,
    form_lines: tuple[str, ...] = (),
    made_at: str = "",
) -> tuple[Path | None, str | None]:
    """The workbook's 検証結果.xlsx, unless the manifest says the one on disk is for the same input and
    findings. Returns the file, or a Japanese reason why it could not be made (the run goes on)."""
    r = wr.result
    if r.unreadable or not r.has_book or not wr.folder:
        return None, None
    rel = f"{wr.folder}/{ANNOTATED}"
    path = output_dir / rel
    listed = json.dumps(
        [
            [f.to_json() for f in wr.findings],
            [d.to_json() for d in wr.documents],
            *([list(form_lines)] if form_lines else []),
        ],
        ensure_ascii=False,
    ).encode()
    try:
        with open(r.path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256")
        digest.update(listed)
        digest.update(version.output_version().encode())  # and the program that makes the copy
        key = digest.hexdigest()
    except OSError as e:
        return None, f"{r.file}: 「{r.path.name}」を読み取れません（{e.strerror or type(e).__name__}）。"
    if manifest.keys.get(rel) == key and path.exists():
        return path, None
    from pipeline.ooxml.xlsx_edit import COPY_INPUT_ERRORS
    from pipeline.workbooks.annotate import annotate_book  # only when a copy is to be made

    try:
        data = annotate_book(r.path, wr.findings, wr.documents if with_documents else None, form_lines, made_at)
    except COPY_INPUT_ERRORS as e:  # an exotic part the copy cannot carry must not stop the run
        return None, (
            f"{r.file}: 検証結果.xlsx を作れませんでした（{type(e).__name__}）。指摘は 検証結果.json と画面の表にあります。"
        )
    # Any other exception is a bug of ours: Finish.run logs it and the workbook is reported failed.
    try:
        atomic_write(path, data)
    except OSError as e:
        return None, f"{r.file}: {write_error_message(path, e)}"
    manifest.keys[rel] = key
    return path, None


def write_documents(
    wr: WorkbookRun,
    output_dir: Path,
    templates: dict[str, FormTemplate],
    manifest: Manifest,
    strict: bool = False,
) -> tuple[list[Document], list[WriteFailure]]:
    """Render and write every unblocked document of one workbook; the disk's refusals come back as data."""
    docs, failures = [], []
    result, folder = wr.result, wr.folder
    findings = result.findings + wr.run_findings
    for plan in plan_documents(result.book, findings, result.canon, folder, strict=strict, as_of=result.as_of):
        doc = plan.document
        if plan.build is not None:
            context = plan.build()
            template = templates[doc.form]
            values = json.dumps(context, ensure_ascii=False, sort_keys=True).encode()
            # "<record>:<template>": a hand-edited file whose template alone changed gets no 新版 (write.py).
            # The template part carries the program's output version: an upgrade re-renders every document
            # still ours, and a hand-edited one is kept with form_changed, without a 新版.
            key = f"{sha256(values)}:{sha256(template.fingerprint.encode() + version.output_version().encode())[:16]}"
            old = manifest.keys.get(doc.path)
            if old is not None and ":" not in old:  # written by an earlier version: the same values?
                from pipeline.documents.render import earlier_keys

                if old in earlier_keys(doc.form, template.fingerprint, context):
                    manifest.keys[doc.path] = old = f"{sha256(values)}:earlier"
            try:
                doc.status, doc.new_path = manifest.write(doc.path, lambda t=template, c=context: t.render(c), key)
                doc.form_changed = (
                    doc.status == "kept-edited" and bool(old) and old.split(":")[-1] != key.split(":")[-1]
                )
            except OSError as e:
                # A file open in Word (Windows locks it), a full disk, a planted link: say so, keep going.
                link = isinstance(e, OutputLink)
                doc.status, doc.blocked_at = "blocked", [doc.path]
                doc.blocked_by = ["output-link" if link else "write-failed"]
                if not (link and any(f.error.filename == e.filename for f in failures)):
                    failures.append(WriteFailure(doc, e))  # a link: said once, not for every document behind it
        docs.append(doc)
    produced = {d.path for d in docs} | {d.new_path for d in docs if d.new_path}
    for rel in manifest.forget_missing(folder + "/", produced):
        form = rel.split("/")[1] if rel.count("/") >= 2 else ""
        docs.append(Document(form, rel, "orphaned"))
    return docs, failures


def write_report(report: RunReport, output_dir: Path, *, merge: bool = False) -> Path:
    """Write 検証結果.json; a partial run (watch) keeps the entries of the workbooks it did not read."""
    path = output_dir / REPORT_JSON
    if not merge and report.same_as_last and report_is_current(output_dir, path, report.record_sha):
        return path  # written by the last run from the same record: the same findings, the same statuses
    data = report.to_json()
    if merge and path.exists():
        try:
            old = json.loads(path.read_text("utf-8"))
            fresh = {w["file"] for w in data["workbooks"]}
            here = report.input_dir  # a workbook deleted or moved away since is forgotten
            kept = [
                w
                for w in old.get("workbooks", [])
                if w.get("file") not in fresh and (here is None or (here / str(w.get("file"))).is_file())
            ]
            data["workbooks"] = sorted(kept + data["workbooks"], key=lambda w: w["file"])
        except (OSError, ValueError, AttributeError, TypeError):
            pass  # an unreadable old report is simply replaced
    write_json(path, data)
    try:
        # Noted only for a run that wrote nothing: a report that says `written` is true of one run only, and the
        # next run with nothing changed must say `unchanged` (it rewrites the report once, then skips it).
        note_report(output_dir, path, report.record_sha if report.same_as_last and not merge else None)
    except OSError:
        pass  # only lets the next run skip rewriting an unchanged report
    return path
