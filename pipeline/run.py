"""One run over an input folder: validate every workbook, then render and write what is valid."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import forms
from .contract import ELECTION_BOOK
from .findings import Finding, Severity, make_finding
from .model import Council, Member
from .render import FormTemplate, load_templates
from .validate import Options, Result, read_elections, validate_workbook
from .write import Manifest, Names, sha256, write_json

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".csv", ".ods"}
REPORT_JSON = "検証結果.json"


@dataclass
class Document:
    form: str
    path: str  # relative to the output folder
    status: str  # written | unchanged | kept-edited | blocked
    new_path: str | None = None
    blocked_by: list[str] | None = None
    source: tuple[str, int] | None = None  # (canonical sheet, row) it was made from

    def to_json(self) -> dict:
        d = {"form": self.form, "path": self.path, "status": self.status}
        if self.new_path:
            d["new_path"] = self.new_path
        if self.blocked_by:
            d["blocked_by"] = self.blocked_by
        return d


@dataclass
class WorkbookRun:
    result: Result
    folder: str | None = None
    documents: list[Document] = field(default_factory=list)

    def to_json(self) -> dict:
        r = self.result
        return {
            "file": r.file,
            "station": r.station,
            "status": r.status,
            "findings": [f.to_json() for f in r.findings],
            "documents": [d.to_json() for d in self.documents],
        }


@dataclass
class RunReport:
    as_of: dt.date
    workbooks: list[WorkbookRun] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == Severity.ERROR for w in self.workbooks for f in w.result.findings)

    def to_json(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "workbooks": [w.to_json() for w in self.workbooks]}


def discover(input_dir: Path) -> tuple[list[Path], Path | None]:
    """Station workbooks (and files that look like one but are not .xlsx), plus the shared election book."""
    books, elections = [], None
    for p in sorted(input_dir.iterdir()):
        if not p.is_file() or p.name.startswith(("~$", ".")) or p.suffix.lower() not in WORKBOOK_SUFFIXES:
            continue
        if p.name == ELECTION_BOOK:
            elections = p
        else:
            books.append(p)
    return books, elections


Progress = Callable[[str, int, int], None]


def run(
    input_dir: Path,
    output_dir: Path,
    options: Options,
    *,
    documents: bool = True,
    only: list[Path] | None = None,
    templates: dict[str, FormTemplate] | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Validate every workbook in input_dir; with documents=True also write the forms."""
    books, election_path = discover(input_dir)
    if only is not None:
        wanted = {p.resolve() for p in only}
        books = [b for b in books if b.resolve() in wanted]
    report = RunReport(options.as_of)
    shared: list = []
    if election_path is not None:
        er = read_elections(election_path)
        if er.book:
            shared = er.book.elections
        report.workbooks.append(WorkbookRun(er))
    output_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(output_dir) if documents else None
    if documents:
        # Fail fast on a broken template, before any work (workers load their own copies).
        checked = templates or load_templates(fields=forms.FIELDS)
    steps = len(books) * (2 if documents else 1)
    with _pool(len(books), templates) as pool:
        mapper = pool.map if pool else map
        # Phase 1: validate every workbook (in parallel when there are many).
        jobs = [(p, options, shared) for p in books]
        runs = []
        for i, result in enumerate(mapper(_validate_job, jobs)):
            if progress:
                progress(result.file, i + 1, steps)
            runs.append(WorkbookRun(result))
        # Folders are named in input order, so the same input always gives the same tree.
        folders = Names()
        for wr in runs:
            if wr.result.book:
                wr.folder = folders.take("", wr.result.station or wr.result.path.stem, "")
        report.workbooks.extend(runs)
        if not documents:
            return report
        # Phase 2: render and write; each workbook's documents live in its own folder.
        todo = [wr for wr in runs if wr.result.book and wr.folder]
        if pool is None:
            outcomes = (
                (write_documents(wr.result, wr.folder, output_dir, checked, manifest), None, None, None) for wr in todo
            )
        else:
            jobs = [(wr.result, wr.folder, output_dir, *manifest.part(wr.folder)) for wr in todo]
            outcomes = pool.map(_write_job, jobs)
        for i, (wr, (docs, files, keys, findings)) in enumerate(zip(todo, outcomes, strict=True)):
            wr.documents = docs
            if files is not None:
                manifest.files.update(files)
                manifest.keys.update(keys)
                wr.result.findings = findings  # write failures found in the worker
            manifest.save()  # after every workbook: an interrupted run keeps what it wrote
            if progress:
                progress(wr.result.file, len(books) + i + 1, steps)
    return report


PARALLEL_MIN = 4  # fewer workbooks than this: starting processes costs more than it saves
_WORKER_TEMPLATES: dict[str, FormTemplate] | None = None


def _pool(jobs: int, templates: dict[str, FormTemplate] | None):
    """A process pool over both cores for a big folder; None (run in this process) otherwise."""
    cpus = os.cpu_count() or 1
    if jobs < PARALLEL_MIN or cpus < 2 or templates is not None:
        return contextlib.nullcontext(None)
    # fork is cheapest (modules already imported) but unsafe with other threads running (watch).
    method = "fork" if "fork" in mp.get_all_start_methods() and threading.active_count() == 1 else "spawn"
    return ProcessPoolExecutor(max_workers=min(cpus, jobs, 4), mp_context=mp.get_context(method))


def _validate_job(job: tuple) -> Result:
    path, options, shared = job
    return validate_workbook(path, options, shared)


def _write_job(job: tuple) -> tuple:
    """In a worker: render and write one workbook's documents against its part of the manifest."""
    global _WORKER_TEMPLATES
    result, folder, root, files, keys = job
    if _WORKER_TEMPLATES is None:
        _WORKER_TEMPLATES = load_templates(fields=forms.FIELDS)
    manifest = Manifest.part_of(root, files, keys)
    docs = write_documents(result, folder, root, _WORKER_TEMPLATES, manifest)
    return docs, manifest.files, manifest.keys, result.findings


def _commission_stem(c: Council | None, m: Member) -> str:
    day = m.start.strftime("%Y%m%d") if m.start else f"行{m.row}"
    return f"{c.name if c and c.name else '協議会不明'}_{m.name or f'行{m.row}'}_{day}"


def plan_documents(result: Result, folder: str) -> list[tuple[Document, Callable[[], dict] | None, str]]:
    """Every document the workbook calls for, with its context builder, or blocked with its rule ids."""
    book = result.book
    blockers = result.blockers()
    councils = book.councils_by_id()
    names = Names()
    station = book.station
    plans: list[tuple[Document, Callable[[], dict] | None, str]] = []

    def add(form: str, stem: str, blocked: set[str], source: tuple[str, int], build: Callable[[], dict]):
        rel = names.take(f"{folder}/{form}", stem)
        if blocked:
            plans.append((Document(form, rel, "blocked", blocked_by=sorted(blocked), source=source), None, form))
        else:
            plans.append((Document(form, rel, "pending", source=source), build, form))

    for m in book.members:
        c = councils.get(m.council_id or "")
        blocked = blockers.member(m) | ({"unknown-ref"} if c is None else set())
        add(
            "委嘱状", _commission_stem(c, m), blocked, ("委員", m.row), lambda c=c, m=m: forms.commission(station, c, m)
        )
    for cid, c in councils.items():
        members = book.members_of(cid)
        add(
            "設置報告書",
            c.name or f"行{c.row}",
            blockers.report(cid),
            ("協議会", c.row),
            lambda c=c, members=members: forms.establishment(station, c, members),
        )
    for mt in book.meetings:
        c = councils.get(mt.council_id or "")
        blocked = blockers.meeting(mt) | ({"unknown-ref"} if c is None else set())
        kind = f"定例{mt.round}" if mt.kind == "定例" and mt.round is not None else (mt.kind or "")
        day = mt.date.strftime("%Y%m%d") if mt.date else f"行{mt.row}"
        stem = f"{c.name if c and c.name else '協議会不明'}_{day}_{kind}"
        add("開催結果報告書", stem, blocked, ("会議", mt.row), lambda c=c, mt=mt: forms.meeting(station, c, mt))
    return plans


def write_documents(
    result: Result, folder: str, output_dir: Path, templates: dict[str, FormTemplate], manifest: Manifest
) -> list[Document]:
    docs = []
    for doc, build, form in plan_documents(result, folder):
        if build is not None:
            context = build()
            template = templates[form]
            key = sha256(
                template.fingerprint.encode() + json.dumps(context, ensure_ascii=False, sort_keys=True).encode()
            )
            try:
                doc.status, doc.new_path = manifest.write(doc.path, lambda t=template, c=context: t.render(c), key)
            except OSError as e:
                # A file open in Word (Windows locks it), a full disk: say so, keep going.
                doc.status, doc.blocked_by = "blocked", ["write-failed"]
                result.findings.append(_write_failed(result, doc, e))
        docs.append(doc)
    return docs


def _write_failed(result: Result, doc: Document, e: OSError) -> Finding:
    sheet, row = doc.source
    actual = next((a for a, c in result.canon.items() if c == sheet), sheet)
    return make_finding(
        "write-failed",
        f"文書「{doc.path}」を書き込めませんでした（{e.strerror or type(e).__name__}）。"
        "Wordで開いている場合は閉じてから、もう一度実行してください。",
        sheet=actual,
        row=row,
    )


def write_report(report: RunReport, output_dir: Path, *, merge: bool = False) -> Path:
    """Write 検証結果.json; a partial run (watch) keeps the entries of the workbooks it did not read."""
    path = output_dir / REPORT_JSON
    data = report.to_json()
    if merge and path.exists():
        try:
            old = json.loads(path.read_text("utf-8"))
            fresh = {w["file"] for w in data["workbooks"]}
            kept = [w for w in old.get("workbooks", []) if w.get("file") not in fresh]
            data["workbooks"] = sorted(kept + data["workbooks"], key=lambda w: w["file"])
        except (OSError, ValueError, AttributeError, TypeError):
            pass  # an unreadable old report is simply replaced
    write_json(path, data)
    return path
