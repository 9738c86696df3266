"""Write outputs safely: sanitised unique names, atomic writes, and a manifest that protects hand edits."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

MANIFEST = ".manifest.json"
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


class Names:
    """Hands out relative paths, never the same one twice, also as Windows compares names (ignoring case)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, folder: str, stem: str, suffix: str = ".docx", max_chars: int = MAX_NAME) -> str:
        budget = min(max_chars, MAX_REL - (len(folder) + 1 if folder else 0))
        n = 1
        while True:
            tail = "" if n == 1 else f"_{n}"  # kept even when a long stem has to be shortened
            name = safe_name(safe_name(stem, suffix, budget - len(tail))[: -len(suffix) or None] + tail, suffix, budget)
            rel = f"{folder}/{name}" if folder else name
            if rel.casefold() not in self.used:
                self.used.add(rel.casefold())
                return rel
            n += 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_mode() -> int:
    # mkstemp creates 0600 files; outputs should get the usual permissions (colleagues read them).
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()


def atomic_write(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Manifest:
    """What the pipeline wrote last time, kept in the output folder.

    files: relative path -> sha256 of the bytes written (a different file on disk was edited by hand);
    keys: relative path -> fingerprint of the template and values it was rendered from (lets a re-run
    with nothing changed skip rendering).
    """

    def __init__(self, root: Path):
        self.root = root
        self.path = root / MANIFEST
        try:
            data = json.loads(self.path.read_text("utf-8"))
            self.files: dict[str, str] = dict(data.get("files", {}))
            self.keys: dict[str, str] = dict(data.get("keys", {}))
        except (OSError, ValueError, AttributeError, TypeError):
            self.files, self.keys = {}, {}

    @classmethod
    def part_of(cls, root: Path, files: dict[str, str], keys: dict[str, str]) -> Manifest:
        """A manifest over one folder's entries, for a worker process (the parent merges and saves)."""
        m = cls.__new__(cls)
        m.root, m.path, m.files, m.keys = root, root / MANIFEST, dict(files), dict(keys)
        return m

    def part(self, folder: str) -> tuple[dict[str, str], dict[str, str]]:
        prefix = folder + "/"
        return (
            {k: v for k, v in self.files.items() if k.startswith(prefix)},
            {k: v for k, v in self.keys.items() if k.startswith(prefix)},
        )

    def save(self) -> None:
        data = {"files": dict(sorted(self.files.items())), "keys": dict(sorted(self.keys.items()))}
        atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))

    def _on_disk(self, rel: str) -> bytes | None:
        try:
            return (self.root / rel).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, rel: str, render: Callable[[], bytes], key: str | None = None) -> tuple[str, str | None]:
        """Write a generated document; returns (status, new_path) as the JSON contract names them."""
        current = self._on_disk(rel)
        ours = current is not None and sha256(current) == self.files.get(rel)
        if ours and key is not None and self.keys.get(rel) == key:
            return "unchanged", None  # same template, same values, untouched file: nothing to render
        data = render()
        if current is not None:
            if current == data:
                self.files[rel], self.keys[rel] = sha256(data), key or ""
                return "unchanged", None
            if not ours:
                # Not what we wrote: a clerk edited it. Keep it; put the new version beside it.
                new_rel = edited_sibling(rel)
                self.write(new_rel, lambda: data, key)
                return "kept-edited", new_rel
        atomic_write(self.root / rel, data)
        self.files[rel], self.keys[rel] = sha256(data), key or ""
        return "written", None


def edited_sibling(rel: str) -> str:
    p = Path(rel)
    return p.with_name(f"{p.stem}{EDITED_TAG}{p.suffix}").as_posix()


def write_json(path: Path, obj: object) -> None:
    atomic_write(path, (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
