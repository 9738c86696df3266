"""Internal errors (a bug of ours, never bad input): a log file with the traceback, versions and arguments.

A run that meets one exits 2 and names the log file; a workbook whose processing failed gets status
`failed` and one `internal-error` finding naming it, the other workbooks are completed (SPEC section 6).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

LOG_DIR = ".kobankyo-logs"
# What the log lists besides the program: the libraries whose behaviour the outputs depend on.
DEPENDENCIES = ("koban-council-pipeline", "openpyxl", "lxml", "pandas", "pandera", "docxtpl", "python-docx", "jinja2")


@dataclass(frozen=True)
class Crash:
    """An unexpected exception met while processing one workbook, as text (it crosses process boundaries)."""

    where: str  # what was being done, in the clerk's words (e.g. 「検証」)
    file: str
    traceback: str


def capture(where: str, file: str, error: BaseException) -> Crash:
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return Crash(where, file, text)


def versions() -> list[str]:
    import platform  # here: only a crash needs them, and every run imports this module
    from importlib import metadata

    lines = [f"Python {sys.version.split()[0]} ({platform.platform()})"]
    for name in DEPENDENCIES:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name} (not installed)")
    return lines


_ARGUMENTS: list[str] | None = None  # the command line as the CLI got it (main(argv) in tests and scripts)


def set_arguments(argv: list[str]) -> None:
    global _ARGUMENTS
    _ARGUMENTS = list(argv)


class CrashLog:
    """One log file per run, created on the first internal error; every later one is appended to it."""

    def __init__(self, output_dir: Path | None, argv: list[str] | None = None):
        self.output_dir = output_dir
        self.argv = list(argv if argv is not None else _ARGUMENTS if _ARGUMENTS is not None else sys.argv)
        self.path: Path | None = None
        self._lock = threading.Lock()

    def _open(self) -> Path:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        header = "\n".join(
            [
                f"kobankyo internal error log {dt.datetime.now().isoformat(timespec='seconds')}",
                *versions(),
                f"arguments: {self.argv!r}",
                f"working folder: {os.getcwd()}",
                "",
            ]
        )
        folders = [self.output_dir / LOG_DIR] if self.output_dir is not None else []
        import tempfile

        folders.append(Path(tempfile.gettempdir()) / "kobankyo-logs")  # when the output cannot be written
        last: OSError | None = None
        for folder in folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                for n in range(1, 1000):
                    path = folder / (f"{stamp}.log" if n == 1 else f"{stamp}-{n}.log")
                    try:
                        with open(path, "x", encoding="utf-8", errors="replace") as f:
                            f.write(header + "\n")
                        return path
                    except FileExistsError:
                        continue
            except OSError as e:
                last = e
        raise last or OSError("no log folder")

    def record(self, crash: Crash) -> Path | None:
        """Append one traceback; returns the log file, or None when no folder at all could take it."""
        with self._lock:
            try:
                if self.path is None:
                    self.path = self._open()
                with open(self.path, "a", encoding="utf-8", errors="replace") as f:
                    f.write(f"--- {crash.where}: {crash.file}\n{crash.traceback}\n")
            except OSError:
                return None
            return self.path

    def record_exception(self, where: str, error: BaseException) -> Path | None:
        return self.record(capture(where, "", error))


def message(log: Path | None) -> str:
    """What the screen says for an internal error: not the clerk's fault, and where the details are."""
    where = f"詳しい記録: {log}" if log else "記録ファイルも書き込めませんでした"
    return (
        "プログラム内部のエラーで処理を完了できませんでした（入力ブックの誤りではありません）。"
        f"{where}。この記録ファイルを担当者に送ってください。"
    )


def finding_message(crash: Crash, log: Path | None) -> str:
    where = f"記録ファイル「{log}」" if log else "記録ファイル（書き込めませんでした）"
    first = crash.traceback.strip().splitlines()[-1] if crash.traceback.strip() else ""
    return (
        f"このブックの{crash.where}中にプログラム内部のエラーが起きたため、処理を完了できませんでした"
        f"（ブックの誤りではありません: {first}）。{where}を担当者に送ってください。"
        "ほかのブックの処理は完了しています。"
    )


def safe_console() -> None:
    """Characters outside the console's encoding (cp932 has no 「𠮷」) are replaced, never fatal: a batch
    file or Task Scheduler redirects the output to a file or pipe written in the system's code page."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):  # already closed or detached
                pass
