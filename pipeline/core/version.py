"""The output version: what produced an output, so that an upgrade reaches every output folder.

Every output (a document, the annotated copy, the pages, the run record) is keyed on its inputs AND on this
version. It is a digest of the program (its code and the files it ships: templates, fontconfig alias) and of
the versions of the libraries that shape the bytes written (docxtpl, python-docx, jinja2, lxml, openpyxl,
pandas, pandera): a release or a library upgrade re-renders every output that is still ours, and a document
the clerk edited is kept and reported `kept-edited` with `"form_changed": true` (SPEC section 4).

Callers use `version.output_version()` through the module, so a test can simulate an upgrade by replacing it.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata, resources

# The libraries whose behaviour is part of what the outputs hold (their versions are in the key).
OUTPUT_LIBRARIES = ("docxtpl", "python-docx", "jinja2", "lxml", "openpyxl", "pandas", "pandera", "defusedxml")
_DATA_PACKAGES = ("pipeline.templates_docx", "pipeline.resources")  # mapped from the repository's own folders
_SUFFIXES = (".py", ".docx", ".conf", ".html", ".css")


def library_versions() -> dict[str, str]:
    found = {}
    for name in OUTPUT_LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "-"
    return found


@functools.cache
def _digest() -> str:
    h = hashlib.sha256()
    for package in ("pipeline", *_DATA_PACKAGES):
        for name, entry in _files(resources.files(package), package):
            h.update(name.encode())
            h.update(entry.read_bytes())
    for name, v in library_versions().items():
        h.update(f"\n{name}=={v}".encode())
    return h.hexdigest()


def _files(folder, prefix: str):
    """The package's files in a stable order, subpackages included (the stages' folders and the page templates);
    the data packages are read once each, from wherever they are installed."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        name = f"{prefix}/{entry.name}"
        if entry.is_file() and entry.name.endswith(_SUFFIXES):
            yield name, entry
        elif entry.is_dir() and entry.name != "__pycache__" and name.replace("/", ".") not in _DATA_PACKAGES:
            yield from _files(entry, name)


def output_version() -> str:
    """The program's output version (a hex digest): equal only for the same code, files and libraries."""
    return _digest()
