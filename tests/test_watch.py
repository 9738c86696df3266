"""`watch` never gives up (issue 21, point 6): a run that fails is reported and watching goes on, a busy output
folder is tried again, and a workbook deleted or moved away leaves the JSON, the pages and the record."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

import pipeline.run.steps
import pipeline.run.watch as watch_mod
from pipeline.cli import main
from pipeline.core.write import OutputLock
from pipeline.run.watch import watch
from tests.builders import AS_OF, baseline, write_book

AS_OF_S = AS_OF.isoformat()


def _two(inp: Path) -> None:
    write_book(inp / "A署.xlsx", baseline())
    sheets = baseline()
    sheets["署"][0]["値"] = "B警察署"
    write_book(inp / "B署.xlsx", sheets)


def _files(out: Path) -> list[str]:
    return [w["file"] for w in json.loads((out / "検証結果.json").read_text("utf-8"))["workbooks"]]


def _quick_lock(monkeypatch) -> None:
    """A second run waits 10 s for the first one's lock; here a fraction of that."""

    class Quick(OutputLock):
        def __init__(self, root, wait_s=10.0):
            super().__init__(root, 0.2)

    monkeypatch.setattr(pipeline.run.steps, "OutputLock", Quick)


def test_a_busy_output_folder_is_reported_and_tried_again(tmp_path, monkeypatch, capsys):
    inp, out = tmp_path / "in", tmp_path / "out"
    _two(inp)
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    _quick_lock(monkeypatch)
    answers = []

    def fake_watch(folder, on_change, log, **kw):
        sheets = baseline()
        sheets["署"][0]["値"] = "B警察署"
        sheets["委員"][3]["委嘱日"] = "令和8年13月1日"
        write_book(folder / "B署.xlsx", sheets)
        with OutputLock(out):  # a `make reports` on the same folder
            answers.append(on_change([folder / "B署.xlsx"]))
        answers.append(on_change([folder / "B署.xlsx"]))  # watch hands it over again later

    monkeypatch.setattr(watch_mod, "watch", fake_watch)
    assert main(["watch", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    assert answers == [False, True]  # False: watch tries the same workbook again
    err = capsys.readouterr().err
    assert "別の実行" in err and "もう一度試します" in err and "Traceback" not in err
    report = json.loads((out / "検証結果.json").read_text("utf-8"))
    b = next(w for w in report["workbooks"] if w["file"] == "B署.xlsx")
    assert b["status"] == "errors"  # the retry did the work


@pytest.mark.parametrize("failure", ["report not writable", "internal error"])
def test_a_failed_run_is_reported_and_watching_goes_on(tmp_path, monkeypatch, capsys, failure):
    inp, out = tmp_path / "in", tmp_path / "out"
    _two(inp)
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    real = pipeline.run.steps.write_report
    calls = []

    def write_report(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            if failure == "report not writable":
                raise OSError(28, "No space left on device", str(out / "検証結果.json"))
            raise RuntimeError("injected bug")
        return real(*a, **k)

    answers = []

    def fake_watch(folder, on_change, log, **kw):
        monkeypatch.setattr(pipeline.run.steps, "write_report", write_report)
        answers.append(on_change([folder / "A署.xlsx"]))  # fails
        answers.append(on_change([folder / "B署.xlsx"]))  # and the next one works

    monkeypatch.setattr(watch_mod, "watch", fake_watch)
    assert main(["watch", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    assert answers == [True, True] and len(calls) == 2
    err = capsys.readouterr().err
    assert "見張りは続けます" in err and "Traceback" not in err
    if failure == "internal error":
        assert list((out / ".kobankyo-logs").glob("*.log"))


@pytest.mark.parametrize("how", ["deleted", "moved away"])
def test_a_workbook_deleted_or_moved_away_is_forgotten(tmp_path, monkeypatch, how):
    inp, out = tmp_path / "in", tmp_path / "out"
    _two(inp)
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    assert _files(out) == ["A署.xlsx", "B署.xlsx"]
    assert "B警察署" in (out / "index.html").read_text("utf-8")

    def fake_watch(folder, on_change, log, **kw):
        b = folder / "B署.xlsx"
        if how == "deleted":
            b.unlink()
        else:
            (tmp_path / "elsewhere").mkdir()
            b.rename(tmp_path / "elsewhere" / b.name)
        on_change([b])

    monkeypatch.setattr(watch_mod, "watch", fake_watch)
    assert main(["watch", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    assert _files(out) == ["A署.xlsx"]  # the JSON
    index = (out / "index.html").read_text("utf-8")
    assert "B署.xlsx" not in index and "B警察署" not in index  # the prefecture's page
    record = json.loads((out / ".kobankyo-cache" / "record.json").read_text("utf-8"))
    assert set(record["workbooks"]) == {"A署.xlsx"}


def _wait(pred, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_the_watcher_hands_over_a_deletion_and_retries_what_was_refused(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    calls: list[tuple[list[Path], bool]] = []
    refuse = [True]

    def on_change(paths):
        calls.append((paths, paths[0].exists()))
        if refuse[0]:
            refuse[0] = False
            return False  # busy: hand it over again
        if len(calls) == 3:
            raise RuntimeError("a bug the caller did not catch")
        return True

    stop = threading.Event()
    t = threading.Thread(
        target=watch, args=(folder, on_change), kwargs={"stop": stop, "debounce": 0.3, "retry": 0.5}, daemon=True
    )
    t.start()
    try:
        time.sleep(0.5)
        book = write_book(folder / "テスト署.xlsx", baseline())
        assert _wait(lambda: len(calls) >= 2)  # refused once, handed over again
        book.unlink()
        assert _wait(lambda: len(calls) >= 3)  # the deletion (on_change raises: watching goes on)
        write_book(folder / "テスト署.xlsx", baseline())
        assert _wait(lambda: len(calls) >= 4)
    finally:
        stop.set()
        t.join(timeout=10)
    assert not t.is_alive()
    assert [(p[0].name, exists) for p, exists in calls[:4]] == [
        ("テスト署.xlsx", True),
        ("テスト署.xlsx", True),
        ("テスト署.xlsx", False),
        ("テスト署.xlsx", True),
    ]
