"""Faults: concurrent runs, a full disk, killed runs and their leftovers (issue: faults and hostile data)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.core.errors import RunFailed
from pipeline.core.write import LOCK_NAME, OutputLock
from pipeline.report import RunOptions
from pipeline.run.steps import reports
from tests.builders import AS_OF, baseline, write_book

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "input_samples"


def _station(folder: Path, name: str = "テスト署", chief: str = "大槻　正和") -> Path:
    sheets = baseline()
    sheets["署"][1]["値"] = chief
    return write_book(folder / f"{name}.xlsx", sheets)


def _all_documents(out: Path) -> list[dict]:
    data = json.loads((out / "検証結果.json").read_text("utf-8"))
    return [d for w in data["workbooks"] for d in w["documents"]]


HOLD = """
import sys, time
from pathlib import Path
from pipeline.core.write import OutputLock
with OutputLock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_second_run_waits_then_stops_naming_the_other_run(tmp_path):
    out = tmp_path / "out"
    _station(tmp_path / "in")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out), "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(RunFailed) as e:
            reports(tmp_path / "in", out, RunOptions(as_of=AS_OF, lock_wait_s=1.0))
        assert time.monotonic() - started >= 1.0  # it waited before giving up
        msg = str(e.value)
        assert str(out) in msg and str(holder.pid) in msg and "使っています" in msg
        assert not (out / "検証結果.json").exists()  # nothing written under someone else's lock
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path):
    out = tmp_path / "out"
    _station(tmp_path / "in")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out), "30"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (out / LOCK_NAME).exists()  # the killed run's note is still there
    report = reports(tmp_path / "in", out, RunOptions(as_of=AS_OF, lock_wait_s=1.0))
    assert report.json_path and report.json_path.exists()


def test_the_lock_is_released_after_a_run(tmp_path):
    out = tmp_path / "out"
    _station(tmp_path / "in")
    reports(tmp_path / "in", out, RunOptions(as_of=AS_OF, documents=False))
    with OutputLock(out, wait_s=0):
        pass


def test_two_concurrent_runs_never_mark_a_document_as_edited(tmp_path):
    """A clerk double-clicks, or watch runs while someone types make reports: different inputs, one folder."""
    out = tmp_path / "out"
    _station(tmp_path / "a", chief="大槻　正和")
    _station(tmp_path / "b", chief="佐藤　新署長")
    cmd = [sys.executable, "-m", "pipeline", "reports", "--output", str(out), "--as-of", AS_OF.isoformat()]
    procs = [
        subprocess.Popen([*cmd, "--input", str(tmp_path / x)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for x in ("a", "b")
    ]
    codes = [p.wait(timeout=120) for p in procs]
    assert all(c in (0, 2) for c in codes) and 0 in codes
    docs = _all_documents(out)
    assert docs and not any(d["status"] == "kept-edited" for d in docs)
    assert not list(out.rglob("*_新版.docx"))
    # Whichever ran last, a further run of the same input finds every file as it wrote it.
    last = tmp_path / ("b" if codes[1] == 0 else "a")
    assert main(["reports", "--input", str(last), "--output", str(out), "--as-of", AS_OF.isoformat()]) == 0
    assert {d["status"] for d in _all_documents(out)} <= {"written", "unchanged"}


def _disk_full(path, data, **kw):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def test_full_disk_for_the_report_prints_findings_then_exits_2(tmp_path, monkeypatch, capsys):
    import pipeline.run.steps as run_mod

    _station(tmp_path / "in")
    monkeypatch.setattr(run_mod, "write_json", _disk_full)
    code = main(["check", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--as-of", "2026-11-27"])
    cap = capsys.readouterr()
    assert code == 2
    assert "テスト署.xlsx" in cap.out  # the findings table was still printed
    assert "検証結果.json" in cap.err and "空き容量" in cap.err and "Traceback" not in cap.err


def test_full_disk_for_the_annotated_copy_is_reported_not_a_traceback(tmp_path, monkeypatch, capsys):
    import pipeline.run.steps as run_mod

    _station(tmp_path / "in")
    monkeypatch.setattr(run_mod, "atomic_write", _disk_full)  # the copy is written by run.annotate_one
    code = main(["check", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--as-of", "2026-11-27"])
    err = capsys.readouterr().err
    assert code == 0  # the findings themselves are fine; the copy is a report of them
    assert "検証結果.xlsx" in err and "空き容量" in err
    assert (tmp_path / "out" / "検証結果.json").is_file()


def test_temporary_files_of_a_killed_run_are_removed_and_never_documents(tmp_path):
    out = tmp_path / "out"
    _station(tmp_path / "in")
    reports(tmp_path / "in", out, RunOptions(as_of=AS_OF))
    folder = out / "テスト警察署" / "委嘱状"
    leftovers = [folder / ".kobankyo-tmp-abc123.tmp", folder / ".tmp-old5678.docx", out / ".kobankyo-tmp-x.tmp"]
    for p in leftovers:
        p.write_bytes(b"half a file")
    keep = folder / "メモ.tmp.txt"  # a clerk's own file is not ours to remove
    keep.write_text("x")
    # What a killed run leaves in the lock file: who held it, and no "finished".
    (out / LOCK_NAME).write_text(json.dumps({"pid": 999999, "started": "2026-11-29T10:00:00"}))
    reports(tmp_path / "in", out, RunOptions(as_of=AS_OF))
    assert not any(p.exists() for p in leftovers) and keep.exists()
    assert not any(".tmp" in d["path"] for d in _all_documents(out))


def test_after_a_run_that_finished_the_next_does_not_search_the_tree(tmp_path, monkeypatch):
    """Temporary files only outlive a run that was killed or failed: after one that finished, the next run
    does not walk the output tree for them (tens of thousands of files for a prefecture)."""
    import pipeline.run.steps as run_mod

    out = tmp_path / "out"
    _station(tmp_path / "in")
    searched = []
    real = run_mod.remove_stale_temporaries
    monkeypatch.setattr(run_mod, "remove_stale_temporaries", lambda root: searched.append(root) or real(root))
    reports(tmp_path / "in", out, RunOptions(as_of=AS_OF))
    assert searched == [out]  # a new folder: no record of a finished run
    reports(tmp_path / "in", out, RunOptions(as_of=AS_OF))
    assert searched == [out]

    def fails(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "validate_and_write", fails)
    with pytest.raises(KeyboardInterrupt):
        reports(tmp_path / "in", out, RunOptions(as_of=AS_OF))
    monkeypatch.undo()
    monkeypatch.setattr(run_mod, "remove_stale_temporaries", lambda root: searched.append(root) or real(root))
    reports(tmp_path / "in", out, RunOptions(as_of=AS_OF))
    assert searched == [out, out]  # the run after the interrupted one searches


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux) to find the workers")
def test_pool_workers_die_with_a_killed_main_process(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    for i in range(6):  # enough workbooks for the process pool
        shutil.copy(SAMPLES / "仙台中央警察署.xlsx", inp / f"署{i}.xlsx")
    cmd = [sys.executable, "-m", "pipeline", "reports", "--input", str(inp), "--output", str(tmp_path / "out")]
    main_proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while not workers and time.monotonic() < deadline and main_proc.poll() is None:
        workers = _children(main_proc.pid)
        time.sleep(0.05)
    assert workers, "the run finished before its pool started; give it more workbooks"
    main_proc.send_signal(signal.SIGKILL)
    main_proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        try:
            fields = dict(line.split(":", 1) for line in (d / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip() or 0) == pid:
            out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state  # a zombie has exited; it only waits to be reaped
