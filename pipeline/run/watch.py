"""Watch the input folder and regenerate a workbook's outputs once it is dropped in or saved."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from pipeline.run.steps import WORKBOOK_SUFFIXES

DEBOUNCE_S = 1.5  # Excel writes a file in several steps; wait until it is quiet
POLL_S = 0.25
RETRY_S = 15.0  # a run that could not proceed (the output folder busy with another run) is tried again


def wanted(path: Path) -> bool:
    return path.suffix.lower() in WORKBOOK_SUFFIXES and not path.name.startswith(("~$", ".", "~"))


class _Pending(FileSystemEventHandler):
    def __init__(self, forms: Path | None = None) -> None:
        self.forms = forms  # the office's templates: a saved .docx there is a change too
        self.lock = threading.Lock()
        self.seen: dict[Path, tuple[float, int]] = {}  # path -> (last event time, size then)

    def _touch(self, raw: str | bytes) -> None:
        path = Path(raw if isinstance(raw, str) else raw.decode())
        template = self.forms is not None and path.suffix.lower() == ".docx" and path.parent == self.forms
        if wanted(path) or (template and not path.name.startswith(("~$", "."))):
            with self.lock:
                self.seen[path] = (time.monotonic(), _size(path))

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._touch(event.src_path)

    def on_modified(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._touch(event.src_path)

    def on_moved(self, event: FileSystemEvent) -> None:  # Excel saves via a temporary file and a rename
        if not event.is_directory:
            self._touch(event.src_path)  # moved away: gone, unless something takes its name again
            self._touch(event.dest_path)

    def on_deleted(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._touch(event.src_path)

    def again(self, paths: list[Path], after: float) -> None:
        """Hand paths over once more after `after` seconds (a run that failed for now)."""
        with self.lock:
            for path in paths:
                self.seen[path] = (time.monotonic() + after, _size(path))

    def ready(self, debounce: float) -> list[Path]:
        """Files quiet for `debounce` seconds whose size stopped changing (copy finished)."""
        now = time.monotonic()
        out = []
        with self.lock:
            for path, (when, size) in list(self.seen.items()):
                if now - when < debounce:
                    continue
                current = _size(path)
                if current < 0 and size < 0:
                    del self.seen[path]
                    out.append(path)  # deleted or moved away, and still gone: the caller forgets it
                elif current < 0:
                    self.seen[path] = (now, current)  # gone for now (Excel's save renames): wait once more
                elif current != size:
                    self.seen[path] = (now, current)  # still being copied
                else:
                    del self.seen[path]
                    out.append(path)
        return sorted(out)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def watch(
    folder: Path,
    on_change: Callable[[list[Path]], bool | None],
    *,
    log: Callable[[str], None] = lambda s: None,
    stop: threading.Event | None = None,
    debounce: float = DEBOUNCE_S,
    retry: float = RETRY_S,
    forms: Path | None = None,
) -> None:
    """Call on_change with the workbooks (and the templates in forms) that changed, were added, deleted or
    moved away, until Ctrl+C or `stop` is set. on_change returning False means "not now" (the output folder
    busy): the same workbooks are handed over again after `retry` seconds. An exception from on_change is
    the caller's to report: it is logged here and watching goes on."""
    handler = _Pending(forms)
    observer = Observer()
    observer.schedule(handler, str(folder), recursive=False)
    if forms is not None and forms.is_dir():
        observer.schedule(handler, str(forms), recursive=False)
    observer.start()
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            for path in handler.ready(debounce):
                log(f"{'変更' if path.exists() else '削除・移動'}を検知しました: {path.name}")
                try:
                    done = on_change([path])
                except Exception as e:  # the caller reports its own failures; this one it did not catch
                    log(f"処理できませんでした（{type(e).__name__}）。見張りは続けます。")
                    done = True
                if done is False:
                    log(f"{int(retry)}秒後にもう一度試します: {path.name}")
                    handler.again([path], retry)
            stop.wait(POLL_S)
    except KeyboardInterrupt:
        log("見張りを終了します。")
    finally:
        observer.stop()
        observer.join(timeout=5)
