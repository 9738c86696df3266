"""Pool workers exit when their parent dies, on every platform (issue 21, point 4).

A run killed from Task Manager or with SIGKILL must not leave workers writing into a folder whose lock is
already free. The parent is watched through its sentinel: os.getppid() keeps the dead parent's id on
Windows, which the test reproduces by pinning getppid to the parent's id in the workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.builders import AS_OF, baseline, write_book

ROOT = Path(__file__).resolve().parents[1]

PARENT = """
import os, sys, time
parent = os.getpid()
os.getppid = lambda: parent  # as on Windows: the id of a dead parent does not change
import pipeline.checking.validate

def busy(*a, **k):
    time.sleep(120)  # a worker busy with a large workbook

pipeline.checking.validate.validate_workbook = busy
from pipeline.run import RunOptions, reports
import datetime as dt
reports(__import__("pathlib").Path(sys.argv[1]), __import__("pathlib").Path(sys.argv[2]),
        RunOptions(as_of=dt.date.fromisoformat(sys.argv[3])))
"""


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or os.name != "posix", reason="reads /proc")
def test_busy_workers_exit_when_their_parent_is_killed(tmp_path):
    inp, out = tmp_path / "in", tmp_path / "out"
    for i in range(6):  # enough workbooks for the pool
        sheets = baseline()
        sheets["署"][0]["値"] = f"第{i}警察署"
        write_book(inp / f"{i}署.xlsx", sheets)
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(inp), str(out), AS_OF.isoformat()], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            workers = _children(parent.pid)
            time.sleep(0.1)
        assert len(workers) >= 2, "the pool did not start"
        time.sleep(0.5)  # the workers are inside the sleeping validation
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        left = [w for w in workers if _alive(w)]
    finally:
        for w in _children(parent.pid):
            try:
                os.kill(w, signal.SIGKILL)
            except OSError:
                pass
        if parent.poll() is None:
            parent.kill()
    for w in left:
        try:
            os.kill(w, signal.SIGKILL)  # do not leave them behind on a failure
        except OSError:
            pass
    assert left == [], f"workers still running after their parent died: {left}"
