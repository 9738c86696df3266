"""Write outputs safely: sanitised unique names, atomic writes, and a manifest that protects hand edits."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

MANIFEST = ".manifest.json"
MAX_NAME = 120
_BAD = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(stem: str, suffix: str = "") -> str:
    """A file or folder name safe on Windows and Linux: no separators, no leading dots, ≤ 120 characters."""
    s = _BAD.sub("_", stem.replace("\n", " "))
    s = re.sub(r"\.{2,}", "_", s)
    s = s.strip(" .\u3000") or "_"
    if s.split(".")[0].upper() in _RESERVED:
        s = "_" + s
    s = s[: MAX_NAME - len(suffix)]
    return s.rstrip(" .") + suffix


class Names:
    """Hands out relative paths, never the same one twice (case-insensitively, as Windows sees them)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, folder: str, stem: str, suffix: str = ".docx") -> str:
        n = 1
        while True:
            tail = "" if n == 1 else f"_{n}"  # kept even when a long stem has to be shortened
            name = safe_name(safe_name(stem)[: MAX_NAME - len(suffix) - len(tail)] + tail, suffix)
            rel = f"{folder}/{name}" if folder else name
            if rel.lower() not in self.used:
                self.used.add(rel.lower())
                return rel
            n += 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Manifest:
    """What the pipeline wrote last time (relative path -> sha256), kept in the output folder."""

    def __init__(self, root: Path):
        self.root = root
        self.path = root / MANIFEST
        try:
            self.files: dict[str, str] = json.loads(self.path.read_text("utf-8")).get("files", {})
        except (OSError, ValueError, AttributeError):
            self.files = {}

    def save(self) -> None:
        data = json.dumps({"files": dict(sorted(self.files.items()))}, ensure_ascii=False, indent=1)
        atomic_write(self.path, data.encode("utf-8"))

    def write(self, rel: str, data: bytes) -> tuple[str, str | None]:
        """Write a generated document; returns (status, new_path) as the JSON contract names them."""
        target = self.root / rel
        digest = sha256(data)
        if target.exists():
            current = target.read_bytes()
            if current == data:
                self.files[rel] = digest
                return "unchanged", None
            if sha256(current) != self.files.get(rel):
                # Not what we wrote: a clerk edited it. Keep it; put the new version beside it.
                new_rel = edited_sibling(rel)
                self.write(new_rel, data)
                return "kept-edited", new_rel
        atomic_write(target, data)
        self.files[rel] = digest
        return "written", None


def edited_sibling(rel: str) -> str:
    p = Path(rel)
    return str(p.with_name(f"{p.stem}_新版{p.suffix}"))


def write_json(path: Path, obj: object) -> None:
    atomic_write(path, (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
