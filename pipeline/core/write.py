"""Write outputs safely: sanitised unique names, atomic writes, and a manifest that protects hand edits."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import itertools
import json
import os
import re
import stat
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

MANIFEST = ".manifest.json"
ANNOTATED = "検証結果.xlsx"  # the annotated copy of a station workbook, in its output folder
OVERVIEW = "概要.html"  # each station's overview page, beside its 検証結果.xlsx
INDEX = "index.html"  # the prefecture's overview page, at the top of the output folder
JOURNAL = ".manifest.journal"
LOCK_NAME = ".kobankyo.lock"
MAX_NAME = 120  # characters of one file name (SPEC section 4)
MAX_NAME_BYTES = 255  # bytes of one name in UTF-8: the limit of Linux file systems
# Windows' MAX_PATH is 260 with the drive and the final NUL; an output folder up to 100 characters deep
# leaves about 158 for the relative path. 150 keeps a margin, and covers the `_新版` sibling and PDFs.
MAX_REL = 150
MAX_FOLDER = 40  # a station folder's name: leaves room for the form folder and the document's name
EDITED_TAG = "_新版"
_BAD = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
    *(f"{p}{d}" for p in ("COM", "LPT") for d in (*"123456789", "¹", "²", "³")),
}  # fmt: skip


def _shorten(stem: str, chars: int, suffix: str) -> str:
    """Cut a stem to fit, ending it with a hash of the whole stem so that two long names stay apart."""
    tag = "_" + hashlib.sha256(stem.encode("utf-8")).hexdigest()[:6]
    keep = max(1, chars - len(tag))
    cut = stem[:keep]
    while len((cut + tag + suffix).encode("utf-8")) > MAX_NAME_BYTES - len(EDITED_TAG.encode("utf-8")):
        cut = cut[:-1]
    return cut.rstrip(" .\u3000") + tag


def safe_name(stem: str, suffix: str = "", max_chars: int = MAX_NAME) -> str:
    """A file or folder name valid on Windows and Linux: no separators or control characters, no leading
    dots, no reserved device name, at most max_chars characters and 255 bytes (room kept for `_新版`).

    Deterministic, and idempotent: a safe name stays as it is.
    """
    s = _BAD.sub("_", stem.replace("\n", " "))
    s = re.sub(r"\.{2,}", "_", s)
    s = s.strip(" .\u3000") or "_"
    if s.split(".")[0].rstrip(" ").upper() in _RESERVED:
        s = "_" + s
    limit = max_chars - len(suffix) - len(EDITED_TAG)
    too_long = len((s + suffix).encode("utf-8")) > MAX_NAME_BYTES - len(EDITED_TAG.encode("utf-8"))
    if len(s) > limit or too_long:
        s = _shorten(s, limit, suffix)
    return s + suffix


# The run's own files and folders at the top of the output folder (SPEC section 6): no station folder may
# take one of these names, compared as Windows and macOS compare names (without case, after NFC).
RESERVED_AT_ROOT = (
    INDEX,
    "検証結果.json",
    "県集計.xlsx",
    MANIFEST,
    JOURNAL,
    ".kobankyo-cache",
    ".kobankyo.lock",
    ".kobankyo-logs",
)


def _name_key(rel: str) -> str:
    return unicodedata.normalize("NFC", rel).casefold()


class Names:
    """Hands out relative paths, never the same one twice, also as Windows compares names (ignoring case)."""

    def __init__(self, reserved: tuple[str, ...] = ()) -> None:
        self.used: set[str] = {_name_key(r) for r in reserved}

    def reserve(self, rel: str) -> None:
        self.used.add(_name_key(rel))

    def take(self, folder: str, stem: str, suffix: str = ".docx", max_chars: int = MAX_NAME) -> str:
        budget = min(max_chars, MAX_REL - (len(folder) + 1 if folder else 0))
        n = 1
        while True:
            tail = "" if n == 1 else f"_{n}"  # kept even when a long stem has to be shortened
            name = safe_name(safe_name(stem, suffix, budget - len(tail))[: -len(suffix) or None] + tail, suffix, budget)
            rel = f"{folder}/{name}" if folder else name
            if _name_key(rel) not in self.used:
                self.used.add(_name_key(rel))
                return rel
            n += 1


# EDQUOT and ETXTBSY are not defined on every platform (Windows).
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DENIED = {errno.EACCES, errno.EPERM, errno.EBUSY, getattr(errno, "ETXTBSY", errno.EACCES)}


class OutputLink(OSError):
    """A path in the output folder that goes through a symbolic link or junction this run did not create."""

    def __init__(self, link: str) -> None:
        super().__init__(errno.ELOOP, "リンクです", link)
        self.link = link

    def message(self) -> str:
        return (
            f"「{self.link}」は、この実行が作ったものではないリンク（シンボリックリンクまたはジャンクション）です。"
            "リンク先のファイルを書き換えないよう、ここへの書き込みをやめました。"
            "リンクを削除するか別の場所へ移してから、もう一度実行してください。"
        )


_ROOTS: list[str] = []  # the output folders of this process: paths below them are checked for links


def guard_output(root: Path) -> None:
    """Check every later write below root for links (the root itself may be a link: the clerk chose it)."""
    r = os.path.abspath(root)
    if r not in _ROOTS:
        _ROOTS.append(r)


def _is_link(st: os.stat_result) -> bool:
    junction = getattr(stat, "IO_REPARSE_TAG_MOUNT_POINT", None)
    return stat.S_ISLNK(st.st_mode) or (junction is not None and getattr(st, "st_reparse_tag", None) == junction)


def link_on_the_way(path: Path | str) -> str | None:
    """The first link between an output folder and path (path itself included), or None."""
    p = os.path.abspath(path)
    for root in _ROOTS:
        if not p.startswith(root + os.sep):
            continue
        cur = root
        for part in p[len(root) + 1 :].split(os.sep):
            cur = os.path.join(cur, part)
            try:
                st = os.lstat(cur)
            except OSError:
                return None  # not there yet: what follows will be made by this run
            if _is_link(st):
                return cur
        return None
    return None


def check_no_link(path: Path | str) -> None:
    link = link_on_the_way(path)
    if link is not None:
        raise OutputLink(link)


def safe_relative(rel: object) -> bool:
    """A relative path that stays inside its folder: what the manifest and the run record may name."""
    if not isinstance(rel, str) or not rel or "\\" in rel or ":" in rel or "\x00" in rel or rel.startswith("/"):
        return False
    return all(p not in ("", ".", "..") for p in rel.split("/"))


def write_error_message(path: str | Path, e: OSError) -> str:
    """What went wrong with a write, in the clerk's words, naming the path and the real cause."""
    if isinstance(e, OutputLink):
        return e.message()
    code = e.errno
    if code in _NO_SPACE:
        why = "ディスクの空き容量が足りません。不要なファイルを削除して空きを作ってから、もう一度実行してください。"
    elif code == errno.EISDIR:
        why = "同じ名前のフォルダがあります。そのフォルダの名前を変えるか移してから、もう一度実行してください。"
    elif code == errno.ENAMETOOLONG:
        why = "パスが長すぎます。出力フォルダをもっと浅い場所（例: C:\\協議会）にしてください。"
    elif code == errno.EROFS:
        why = "出力先が読み取り専用です。書き込めるフォルダを --output で指定してください。"
    elif code in _DENIED:
        why = (
            "書き込みが許可されていません。Wordなどで開いている場合は閉じて、"
            "フォルダが読み取り専用でないことを確かめてから、もう一度実行してください。"
        )
    else:
        why = "もう一度実行してください。続くときはフォルダの状態を確かめてください。"
    return f"「{path}」を書き込めませんでした（{e.strerror or type(e).__name__}）。{why}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_mode() -> int:
    # mkstemp creates 0600 files; outputs should get the usual permissions (colleagues read them).
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()


TMP_PREFIX = ".kobankyo-tmp-"  # recognisable: removed at the start of the next run, never a document
_OLD_TMP = ".tmp-"  # what earlier versions named them


_TMP_COUNTER = itertools.count()
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def atomic_write(path: Path, data: bytes | Callable[[BinaryIO], None], *, durable: bool = True) -> None:
    """Temporary file in the same folder, then rename: a reader never sees half a file. data is the bytes,
    or a function that writes them to the open file (a large pickle, without holding it whole in memory).

    durable=False skips the fsync: for generated documents, which a killed process cannot leave half
    written either (the rename is atomic) and which the next run re-renders byte for byte and adopts;
    only a power cut could lose them, and thousands of fsyncs are most of a run's writing time.

    Raises OutputLink, writing nothing, when a folder on the way or the file itself is a link.
    """
    check_no_link(path)
    while True:
        tmp = path.parent / f"{TMP_PREFIX}{os.getpid()}-{next(_TMP_COUNTER)}.tmp"
        try:
            fd = os.open(tmp, _OPEN_FLAGS, FILE_MODE)
            break
        except FileExistsError:
            continue  # left by a killed run of a process with the same id
        except FileNotFoundError:
            if path.parent.is_dir():
                raise
            path.parent.mkdir(parents=True, exist_ok=True)  # the first file of a folder (no mkdir per file)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_temporaries(root: Path) -> list[Path]:
    """Temporary files a killed run left behind (call only while holding the output lock)."""
    removed = []
    for folder, _, names in os.walk(root):  # os.walk: a prefecture's tree has tens of thousands of files
        for name in names:
            if name.startswith(TMP_PREFIX) or (
                name.startswith(_OLD_TMP) and os.path.splitext(name)[1] in _OLD_SUFFIXES
            ):
                p = Path(folder, name)
                try:
                    p.unlink()
                    removed.append(p)
                except OSError:
                    pass  # still not removable (locked): try again next run
    return removed


_OLD_SUFFIXES = {".docx", ".xlsx", ".json", ".pdf"}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class OutputBusy(Exception):
    """Another run holds the output folder."""


class OutputLock:
    """An exclusive lock on the output folder, held by an open file: the OS releases it when the holder
    dies, so a lock left by a killed run is simply taken over. The file says who holds it."""

    def __init__(self, root: Path, wait_s: float = 10.0):
        self.path = root / LOCK_NAME
        self.wait_s = wait_s
        self.file = None

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(self.path):
            raise OutputLink(str(self.path))
        # Held open for the whole run: the lock lives as long as the file. Never through a planted link.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | _NOFOLLOW | getattr(os, "O_BINARY", 0), 0o666)
        f = open(fd, "a+b")
        deadline = time.monotonic() + self.wait_s
        while not _try_lock(f):
            if time.monotonic() >= deadline:
                holder = _read_holder(self.path)
                f.close()
                raise OutputBusy(holder)
            time.sleep(0.2)
        f.seek(0)
        try:
            before = json.loads(f.read() or b"{}")
        except ValueError:
            before = {}
        # The last run of this folder got to its end: it left no temporary files behind to look for.
        self.left_clean = isinstance(before, dict) and bool(before.get("finished"))
        self.info = {"pid": os.getpid(), "started": dt.datetime.now().isoformat(timespec="seconds")}
        self._note(f, self.info)
        self.file = f
        return self

    @staticmethod
    def _note(f, info: dict) -> None:
        f.seek(0)
        f.truncate()
        f.write(json.dumps(info).encode())
        f.flush()

    def __exit__(self, exc_type, *exc) -> None:
        if self.file is not None:
            if exc_type is None:
                try:
                    self._note(self.file, self.info | {"finished": dt.datetime.now().isoformat(timespec="seconds")})
                except OSError:
                    pass  # the next run then looks for temporary files, as after a killed run
            _unlock(self.file)
            self.file.close()
            self.file = None


def _read_holder(path: Path) -> dict:
    try:
        return json.loads(path.read_bytes() or b"{}")
    except (OSError, ValueError):
        return {}


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _LOCK_AT = 1 << 20  # a byte past the holder's note, so reading the note is never blocked

    def _try_lock(f) -> bool:
        f.seek(_LOCK_AT)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(f) -> None:
        f.seek(_LOCK_AT)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(f) -> bool:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(f) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class Manifest:
    """What the pipeline wrote last time, kept in the output folder.

    files: relative path -> sha256 of the bytes written (a different file on disk was edited by hand);
    keys: relative path -> fingerprint of the template and values it was rendered from (lets a re-run
    with nothing changed skip rendering).
    """

    def __init__(self, root: Path):
        self.root = root
        self.path = root / MANIFEST
        self.journal = root / JOURNAL
        self._saved = ""  # sha256 of the text on disk: the text itself is megabytes for a prefecture
        try:
            check_no_link(self.path)  # a manifest reached through a planted link is not ours
            text = self.path.read_text("utf-8")
            self._saved = sha256(text.encode("utf-8"))
            data = json.loads(text)
            self.files: dict[str, str] = dict(data.get("files", {}))
            self.keys: dict[str, str] = dict(data.get("keys", {}))
            self.folders: dict[str, str] = dict(data.get("folders", {}))  # workbook file -> station folder
        except (OSError, ValueError, AttributeError, TypeError):
            self.files, self.keys, self.folders = {}, {}, {}
        self._replay()
        # The output folder is shared: an entry naming a path outside it was not written by this program.
        for table in (self.files, self.keys):
            for k in [k for k in table if not safe_relative(k)]:
                del table[k]
        self.folders = {k: v for k, v in self.folders.items() if safe_relative(v) and "/" not in v}

    def _replay(self) -> None:
        """Apply what a run killed before its final save had journalled, workbook by workbook."""
        try:
            lines = self.journal.read_text("utf-8").splitlines()
        except OSError:
            return
        for line in lines:
            try:
                entry = json.loads(line)
                self.replace_part(entry["prefix"], dict(entry["files"]), dict(entry["keys"]))
                self.folders.update(entry.get("folders", {}))
            except (ValueError, KeyError, TypeError, AttributeError):
                break  # a line cut short by the kill: everything before it stands

    def replace_part(self, prefix: str, files: dict[str, str], keys: dict[str, str]) -> None:
        self.drop(prefix)
        self.files.update(files)
        self.keys.update(keys)

    def set_folder(self, workbook: str, folder: str) -> None:
        self.folders[workbook] = folder

    def commit_part(self, prefix: str) -> None:
        """Journal one folder's entries (appended, fsync'd): linear in the run, unlike saving the whole manifest."""
        files, keys = self.part(prefix.rstrip("/"))
        line = json.dumps({"prefix": prefix, "files": files, "keys": keys, "folders": self.folders}, ensure_ascii=False)
        check_no_link(self.journal)
        fd = os.open(self.journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NOFOLLOW, FILE_MODE)
        with open(fd, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    @classmethod
    def part_of(cls, root: Path, files: dict[str, str], keys: dict[str, str]) -> Manifest:
        """A manifest over one folder's entries, for a worker process (the parent merges and saves)."""
        m = cls.__new__(cls)
        m.root, m.path, m.files, m.keys, m.folders = root, root / MANIFEST, dict(files), dict(keys), {}
        m.journal, m._saved = root / JOURNAL, ""
        return m

    def part(self, folder: str) -> tuple[dict[str, str], dict[str, str]]:
        prefix = folder + "/"
        return (
            {k: v for k, v in self.files.items() if k.startswith(prefix)},
            {k: v for k, v in self.keys.items() if k.startswith(prefix)},
        )

    def drop(self, prefix: str) -> None:
        for table in (self.files, self.keys):
            for k in [k for k in table if k.startswith(prefix)]:
                del table[k]

    def save(self) -> None:
        """Write the manifest once (atomically) when it changed, then drop the journal it now contains."""
        data = {
            "files": dict(sorted(self.files.items())),
            "keys": dict(sorted(self.keys.items())),
            "folders": dict(sorted(self.folders.items())),
        }
        # A line per table, through the C encoder (the indenting one runs in Python: 100,000 entries for a
        # prefecture). Compared with what was read, so a run that changed nothing writes nothing.
        blob = json_text(data, flat_depth=1).encode("utf-8")
        if sha256(blob) != self._saved:
            atomic_write(self.path, blob)
            self._saved = sha256(blob)
        self.journal.unlink(missing_ok=True)

    def _on_disk(self, rel: str) -> bytes | None:
        try:
            return (self.root / rel).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, rel: str, render: Callable[[], bytes], key: str | None = None) -> tuple[str, str | None]:
        """Write a generated document; returns (status, new_path) as the JSON contract names them.

        Raises OutputLink when the document or a folder on its way is a link the run did not create."""
        check_no_link(self.root / rel)  # a planted link is never read as the clerk's edited document either
        current = self._on_disk(rel)
        ours = current is not None and sha256(current) == self.files.get(rel)
        if ours and key is not None and self.keys.get(rel) == key:
            return "unchanged", None  # same template, same values, untouched file: nothing to render
        edited = current is not None and not ours
        if edited and key is not None and same_record(self.keys.get(rel), key):
            # Edited by hand (or only re-saved in Word) and the record is as it was when the clerk's
            # version was generated: the clerk's file is the current one; no 新版.
            return "kept-edited", None
        data = render()
        if current is not None:
            if current == data:
                self.files[rel], self.keys[rel] = sha256(data), key or ""
                return "unchanged", None
            if edited:
                # The clerk edited it and the record has changed since: keep the file, put the new
                # version beside it. keys[rel] stays that of the version the clerk edited.
                new_rel = edited_sibling(rel)
                self.write(new_rel, lambda: data, key)
                return "kept-edited", new_rel
        atomic_write(self.root / rel, data, durable=False)
        self.files[rel], self.keys[rel] = sha256(data), key or ""
        return "written", None

    def forget_missing(self, prefix: str, keep: set[str]) -> list[str]:
        """Documents under prefix that an earlier run wrote and this run did not produce: the ones still
        on disk are returned (orphaned: never deleted); the ones the clerk deleted are forgotten."""
        orphans = []
        for rel in sorted(k for k in self.files if k.startswith(prefix) and k not in keep):
            if (self.root / rel).is_file():
                orphans.append(rel)
            else:
                del self.files[rel]
                self.keys.pop(rel, None)
        return orphans


def same_record(old: str | None, new: str) -> bool:
    """Keys are "<record>:<template>": a hand-edited file gets a 新版 only when its record changed."""
    return old is not None and old.split(":", 1)[0] == new.split(":", 1)[0]


def edited_sibling(rel: str) -> str:
    p = Path(rel)
    return p.with_name(f"{p.stem}{EDITED_TAG}{p.suffix}").as_posix()


def json_text(obj: object, indent: str = "", flat_depth: int = 3) -> str:
    """JSON indented by two spaces down to flat_depth levels, each deeper value on one line.

    What json.dumps(indent=2) shows, down to one line per finding and per document, written with the C
    encoder: the indenting encoder runs in Python, and a prefecture's report has tens of thousands of lines.
    """
    if flat_depth <= 0 or not isinstance(obj, (dict, list)) or not obj:
        return json.dumps(obj, ensure_ascii=False)
    inner = indent + "  "
    if isinstance(obj, dict):
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {json_text(v, inner, flat_depth - 1)}" for k, v in obj.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    items = [f"{inner}{json_text(v, inner, flat_depth - 1)}" for v in obj]
    return "[\n" + ",\n".join(items) + f"\n{indent}]"


def write_json(path: Path, obj: object, flat_depth: int = 4) -> None:
    """Write the JSON unless the file already holds exactly it (a re-run with nothing changed)."""
    data = (json_text(obj, flat_depth=flat_depth) + "\n").encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write(path, data)
