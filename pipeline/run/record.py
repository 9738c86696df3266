"""What the last run found, per workbook, so that a re-run skips the workbooks whose inputs have not changed.

A workbook is taken from the record, neither validated nor rendered, when its bytes, the as-of date and
options, the election list, the templates and the program are all as they were, and every document it
produced is still on disk as that run left it (size and modification time). The record is one JSON file
written atomically once per run, with each workbook's findings and its line of index.html; each workbook's
model is a pickle named by its fingerprint, written by the worker that validated it, never overwritten, and
read only when something needs the model. A run killed at any moment leaves a record that matches what is
on disk or that the next run simply does not use.

The output folder is shared, so nothing in it is trusted: a model pickle is loaded only when it carries an
HMAC made with a key kept outside the output folder (in the user's own profile, see _key), so a pickle
planted by anyone else is ignored and the workbook validated again; and the record may name only files of
the record folder (a model) and of the output folder (documents), never a path that leaves them.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import pickle
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.checking.result import Result
from pipeline.core import version
from pipeline.core.findings import Finding, Severity
from pipeline.core.model import Book
from pipeline.core.write import OutputLink, atomic_write, check_no_link, safe_relative
from pipeline.documents.plan import Document
from pipeline.report import StationSummary

CACHE_DIR = ".kobankyo-cache"
RECORD = "record.json"
REPORT_NOTE = "report.sha"  # the record and the 検証結果.json written from it
FORMAT = 2  # 2: the findings in the record, only the model in the pickle


def _program_fingerprint() -> str:
    """The output version (the code, the files it ships, the libraries' versions): any change to them makes
    every recorded result stale."""
    return version.output_version()


MAX_HASHED = 256 * 1024 * 1024  # read.MAX_FILE_BYTES (not imported: read.py brings pandas)


def file_sha(path: Path) -> str | None:
    """The file's SHA-256, read in chunks (a 1.5 GB file is never held whole); None when it cannot be read
    (locked, no permission, vanished): the workbook is then validated, which says why, and not recorded."""
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size > MAX_HASHED:
                return None  # no clerk's workbook: read.py refuses it without reading it, nothing to record
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


KEY_ENV = "KOBANKYO_KEY_FILE"  # where the key is, for tests and for machines without a user profile
_TAG = b"KBK-HMAC1\n"  # a model file: this, the HMAC-SHA256 of the pickle, then the pickle
_KEY: list[bytes] = []


def _key_file() -> Path:
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV])
    if os.name == "nt":  # pragma: no cover - Windows
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "kobankyo" / "record.key"


def _key() -> bytes:
    """The key that authenticates model pickles: 32 random bytes in the user's own profile, outside any output
    folder (whoever can write to a shared output folder cannot forge a model). When no profile folder can
    be written, a key for this process only: pickles are then never reused, only slower."""
    if _KEY:
        return _KEY[0]
    path = _key_file()
    key = None
    try:
        key = path.read_bytes()
    except OSError:
        pass
    if key is None or len(key) != 32:
        key = secrets.token_bytes(32)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
            try:
                os.link(tmp, path)  # never replaces a key another process has just made
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
            key = path.read_bytes()
        except OSError:
            pass
        if len(key) != 32:
            key = secrets.token_bytes(32)
    _KEY.append(key)
    return key


_MODEL_NAME = re.compile(r"[0-9a-f]{16}-[0-9a-f]{16}\.pickle")


def _stat(path: Path | str) -> list[int] | None:
    try:
        st = os.lstat(path)  # a link planted in place of a document never matches
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


class RecordedResult(Result):
    """A result from the run record: findings and the rest at once, the model (a pickle) on first use, so a
    re-run with nothing changed reads no pickle at all."""

    def __init__(self, path: Path, source: Path, rebuild: Callable, station: str | None, has_book: bool):
        super().__init__(path)
        del self._book  # the dataclass __init__ set book = None: not loaded yet
        self._source, self._rebuild, self._station, self._has_book = source, rebuild, station, has_book

    def __getstate__(self) -> dict:
        return dict(self.__dict__)  # sent to a pool worker as it is: a model not loaded yet loads there

    @classmethod
    def from_record(cls, path: Path, rec: dict, source: Path, rebuild: Callable) -> RecordedResult:
        r = cls(path, source, rebuild, rec["station"], bool(rec["has_book"]))
        r.findings = [Finding(**(f | {"severity": Severity(f["severity"])})) for f in rec["findings"]]
        r.unreadable, r.canon, r.station_at = bool(rec["unreadable"]), dict(rec["canon"]), rec["station_at"]
        return r

    @property
    def book(self) -> Book | None:
        if "_book" not in self.__dict__:
            self._book = self._load() if self._has_book else None
        return self._book

    @book.setter
    def book(self, value: Book | None) -> None:
        self._book = value

    def _load(self) -> Book | None:
        try:
            with open(self._source, "rb") as f:
                blob = f.read()
            head = len(_TAG) + 32
            if blob[: len(_TAG)] == _TAG and hmac.compare_digest(
                blob[len(_TAG) : head], hmac.new(_key(), memoryview(blob)[head:], "sha256").digest()
            ):
                f = io.BytesIO(memoryview(blob)[head:])
                f.name = str(self._source)
                book = pickle.load(f)
                if isinstance(book, Book):
                    return book
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, KeyError, TypeError):
            pass
        # The pickle is gone, damaged (a power cut) or not one this user's runs wrote: the workbook's bytes
        # are as recorded, so validating it again gives the same model.
        return self._rebuild(self.path).book

    @property
    def has_book(self) -> bool:
        return self._has_book

    @property
    def station(self) -> str | None:
        return self._station


def store_model(target: Path, result: Result) -> None:
    """The workbook's model as a pickle (in the process that validated it: the parent need not pickle
    hundreds of models one after another). No fsync: a pickle a power cut cut short fails to load, and the
    workbook is validated again."""
    book = result.book
    # Streamed into the file: the pickle of a 50,000-member model is tens of MB that need not be held at once.
    atomic_write(target, lambda f: _dump_signed(book, f), durable=False)


class _Signing:
    """A file that authenticates what is written through it."""

    def __init__(self, f) -> None:
        self.f, self.mac = f, hmac.new(_key(), digestmod="sha256")

    def write(self, data) -> int:
        self.mac.update(data)
        return self.f.write(data)


def _dump_signed(book: Book | None, f) -> None:
    f.write(_TAG + bytes(32))
    signing = _Signing(f)
    pickle.dump(book, signing, protocol=pickle.HIGHEST_PROTOCOL)
    f.seek(len(_TAG))
    f.write(signing.mac.digest())


def report_is_current(root: Path, json_path: Path, record_sha: str) -> bool:
    """Whether json_path is the report a full run wrote from this very record (a re-run with nothing changed
    then has nothing to write: its report would be the same, finding for finding)."""
    try:
        noted = (root / CACHE_DIR / REPORT_NOTE).read_text("utf-8").split()
        return bool(record_sha) and noted == [record_sha, hashlib.sha256(json_path.read_bytes()).hexdigest()]
    except OSError:
        return False


def note_report(root: Path, json_path: Path, record_sha: str | None) -> None:
    """Remember which record the report was written from (None: a partial report, written by a watch run)."""
    note = root / CACHE_DIR / REPORT_NOTE
    if record_sha:
        text = f"{record_sha} {hashlib.sha256(json_path.read_bytes()).hexdigest()}"
        atomic_write(note, text.encode(), durable=False)
    else:
        note.unlink(missing_ok=True)


@dataclass
class Hit:
    result: Result
    folder: str | None
    documents: list[Document]
    extra: list  # the findings made across workbooks last time (duplicate-station), as JSON
    summary: StationSummary | None = None


def _entry_stays_inside(e: dict) -> bool:
    """Whether every file a record entry names is inside its folder: the model a plain name of the record
    folder, the documents and their stats relative paths of the output folder."""
    if not isinstance(e.get("pickle"), str) or not _MODEL_NAME.fullmatch(e["pickle"]):
        return False
    stats, docs = e.get("stats", {}), e.get("documents", [])
    if not isinstance(stats, dict) or not isinstance(docs, list) or not all(map(safe_relative, stats)):
        return False
    for d in docs:
        if not isinstance(d, dict) or not safe_relative(d.get("path")):
            return False
        if d.get("new_path") is not None and not safe_relative(d["new_path"]):
            return False
    folder = e.get("folder")
    return folder is None or (safe_relative(folder) and "/" not in folder)


class RunRecord:
    def __init__(self, root: Path):
        self.root = root
        self.dir = root / CACHE_DIR
        self.entries: dict[str, dict] = {}
        self.sha = ""  # of the record as it is on disk (after save: as this run wrote it)
        try:
            check_no_link(self.dir / RECORD)  # a record reached through a planted link is not ours
            blob = (self.dir / RECORD).read_bytes()
            data = json.loads(blob)
            if data.get("format") == FORMAT:
                self.entries = dict(data.get("workbooks", {}))
                self.sha = hashlib.sha256(blob).hexdigest()
        except (OSError, ValueError, AttributeError, TypeError):
            pass
        self.fresh: dict[str, dict] = {}

    @staticmethod
    def environment(options, election_sha: str | None) -> str:
        """Everything besides the workbook's own bytes that its findings and documents depend on."""
        parts = [
            _program_fingerprint(),
            options.as_of.isoformat(),
            str(options.strict),
            str(options.long_tenure_years),
            str(options.documents),
            election_sha or "-",
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def model_path(self, sha: str | None, env: str) -> Path:
        return self.dir / f"{(sha or '0' * 16)[:16]}-{env[:16]}.pickle"

    def lookup(self, path: Path, sha: str, env: str, rebuild: Callable[[Path], Result]) -> Hit | None:
        """The record of a workbook whose inputs are as they were, or None. rebuild validates the workbook
        again, should its recorded model be unreadable when it is needed (picklable: it may go to a worker)."""
        e = self.entries.get(path.name)
        if not sha or not isinstance(e, dict) or e.get("sha") != sha or e.get("env") != env or "result" not in e:
            return None
        if not _entry_stays_inside(e):
            return None  # names a file outside the record or output folder: not a record this program wrote
        root = str(self.root)  # os.path on strings: thousands of documents, checked on every re-run
        for rel, stat in e.get("stats", {}).items():
            if _stat(os.path.join(root, rel)) != stat:
                return None  # a document was edited, deleted or replaced since: work it out again
        try:
            result = RecordedResult.from_record(path, e["result"], self.dir / e["pickle"], rebuild)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        docs = [
            Document(
                d["form"],
                d["path"],
                # This run wrote none of them: what the last run wrote is `unchanged` now (SPEC section 4).
                "unchanged" if d["status"] == "written" else d["status"],
                new_path=d.get("new_path"),
                blocked_by=d.get("blocked_by"),
                blocked_at=d.get("blocked_at"),
                source=tuple(d["source"]) if d.get("source") else None,
                form_changed=bool(d.get("form_changed")),
            )
            for d in e.get("documents", [])
        ]
        summary = StationSummary.from_json(e["summary"]) if e.get("summary") else None
        return Hit(result, e.get("folder"), docs, list(e.get("extra", [])), summary)

    def keep(
        self,
        path: Path,
        sha: str,
        env: str,
        result: Result,
        folder: str | None,
        documents,
        extra,
        summary: StationSummary | None = None,
    ) -> None:
        """Record a workbook worked out in this run (the caller leaves out one whose writes failed)."""
        if not sha:
            return  # the workbook could not be read: nothing to record
        target = self.model_path(sha, env)
        name = target.name
        if not target.exists():  # the worker that validated it has usually written it already
            try:
                store_model(target, result)
            except OutputLink:
                return
        stats = {}
        for d in documents:
            for rel in (d.path, d.new_path):
                if rel and d.status != "blocked":
                    s = _stat(self.root / rel)
                    if s is not None:
                        stats[rel] = s
        self.fresh[path.name] = {
            "sha": sha,
            "env": env,
            "pickle": name,
            "result": {
                "findings": [f.to_json() for f in result.findings],
                "unreadable": result.unreadable,
                "canon": result.canon,
                "station_at": result.station_at,
                "station": result.station,
                "has_book": result.has_book,
            },
            "folder": folder,
            "extra": list(extra),
            "summary": summary.to_json() if summary is not None else None,
            "stats": stats,
            "documents": [d.to_json() | {"source": list(d.source) if d.source else None} for d in documents],
        }

    def save(self, present: set[str]) -> None:
        """Write the record once: this run's entries, the reused ones, and the others of the input folder."""
        entries = {k: v for k, v in self.entries.items() if k in present} | self.fresh
        if not self.fresh and entries == self.entries:
            return  # nothing new: the record on disk is already right
        blob = json.dumps({"format": FORMAT, "workbooks": entries}, ensure_ascii=False).encode("utf-8")
        try:
            atomic_write(self.dir / RECORD, blob)
        except OutputLink:
            return  # a planted link: no record (the next run works everything out again)
        self.sha = hashlib.sha256(blob).hexdigest()
        keep = {e.get("pickle") for e in entries.values() if isinstance(e, dict)}
        for p in self.dir.glob("*.pickle"):
            if p.name not in keep:
                try:
                    os.unlink(p)
                except OSError:
                    pass
