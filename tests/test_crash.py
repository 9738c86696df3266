"""Internal errors and consoles (SPEC section 6): a bug of ours exits 2 with a log file, never a traceback on
screen nor advice to re-save a workbook; the workbook it stopped is `failed`, the others are completed; the
console never fails on a character outside its encoding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import pipeline.checking.validate
import pipeline.workbooks.annotate
from pipeline.cli import main
from tests.builders import AS_OF, baseline, write_book

ROOT = Path(__file__).resolve().parents[1]
BROKEN = "B署.xlsx"


def _folder(tmp: Path, n: int) -> Path:
    inp = tmp / "in"
    for i in range(n):
        sheets = baseline()
        sheets["署"][0]["値"] = f"{'ABCDEFG'[i]}警察署"
        write_book(inp / f"{'ABCDEFG'[i]}署.xlsx", sheets)
    return inp


def _break_validation(monkeypatch) -> None:
    real = pipeline.checking.validate.build_book

    def build_book(file, tables, sheets):
        if file == BROKEN:
            raise RuntimeError("injected bug")
        return real(file, tables, sheets)

    monkeypatch.setattr(pipeline.checking.validate, "build_book", build_book)


def _break_copy(monkeypatch) -> None:
    real = pipeline.workbooks.annotate.annotate_book

    def annotate_book(source, findings, *rest):
        if Path(source).name == BROKEN:
            raise AttributeError("injected bug in the copy")
        return real(source, findings, *rest)

    monkeypatch.setattr(pipeline.workbooks.annotate, "annotate_book", annotate_book)


# (case, workbooks in the folder: 5 runs the pool's forked workers, 2 runs in this process, the injection)
CASES = [
    ("validation in this process", 2, _break_validation),
    ("validation in a pool worker", 5, _break_validation),
    ("annotated copy in this process", 2, _break_copy),
    ("annotated copy in a pool worker", 5, _break_copy),
]


@pytest.mark.parametrize(("case", "books", "inject"), CASES, ids=[c[0] for c in CASES])
def test_an_internal_error_fails_its_workbook_logs_it_and_exits_2(tmp_path, monkeypatch, capsys, case, books, inject):
    inp, out = _folder(tmp_path, books), tmp_path / "out"
    inject(monkeypatch)
    code = main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()])
    err = capsys.readouterr().err
    assert code == 2
    logs = sorted((out / ".kobankyo-logs").glob("*.log"))
    assert len(logs) == 1 and logs[0].name[:8].isdigit() and logs[0].name[8] == "-"
    text = logs[0].read_text("utf-8")
    assert "injected bug" in text and "Traceback" in text  # the traceback
    assert "openpyxl" in text and "Python" in text  # the versions
    assert "reports" in text and str(inp) in text  # the arguments
    assert str(logs[0]) in err and "Traceback" not in err
    assert "壊れて" not in err and "保存し直して" not in err  # not the clerk's workbook's fault
    report = json.loads((out / "検証結果.json").read_text("utf-8"))
    by_file = {w["file"]: w for w in report["workbooks"]}
    broken = by_file[BROKEN]
    assert broken["status"] == "failed"
    internal = [f for f in broken["findings"] if f["rule"] == "internal-error"]
    assert len(internal) == 1
    assert internal[0]["severity"] == "error" and internal[0]["article"] == "入力規則"
    assert str(logs[0]) in internal[0]["message"]
    assert not any(f["rule"] == "file-unreadable" for f in broken["findings"])
    for file, w in by_file.items():
        if file != BROKEN:  # the others are completed
            assert w["status"] == "ok"
            assert w["documents"] and all(d["status"] == "written" for d in w["documents"])
            assert (out / w["station"] / "検証結果.xlsx").exists()


def test_a_failed_workbook_is_worked_out_again_by_the_next_run(tmp_path, monkeypatch, capsys):
    inp, out = _folder(tmp_path, 2), tmp_path / "out"
    with monkeypatch.context() as m:
        _break_validation(m)
        assert main(["check", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()]) == 2
    assert main(["check", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()]) == 0
    report = json.loads((out / "検証結果.json").read_text("utf-8"))
    assert {w["status"] for w in report["workbooks"]} == {"ok"}


def test_an_error_outside_any_workbook_exits_2_with_a_log(tmp_path, monkeypatch, capsys):
    import pipeline.run.steps

    inp, out = _folder(tmp_path, 1), tmp_path / "out"

    def write_report(*a, **k):
        raise KeyError("injected")

    monkeypatch.setattr(pipeline.run.steps, "write_report", write_report)
    code = main(["check", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()])
    err = capsys.readouterr().err
    assert code == 2
    logs = list((out / ".kobankyo-logs").glob("*.log"))
    assert len(logs) == 1 and "KeyError" in logs[0].read_text("utf-8")
    assert str(logs[0]) in err and "Traceback" not in err


def test_the_log_goes_to_the_temp_folder_when_the_output_cannot_take_it(tmp_path, monkeypatch):
    from pipeline.core import crash

    blocked = tmp_path / "out"
    blocked.write_text("a file where the output folder should be")
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path / "temp"))
    log = crash.CrashLog(blocked, ["reports"])
    path = log.record_exception("reports", ValueError("x"))
    assert path is not None and path.parent == tmp_path / "temp" / "kobankyo-logs"
    assert "ValueError" in path.read_text("utf-8")


YOSHIDA = "𠮷田　太郎"  # 𠮷 (U+20BB7) is not in cp932


@pytest.mark.parametrize("command", ["check", "reports"])
def test_a_cp932_console_replaces_what_it_cannot_show(tmp_path, command):
    """Output redirected on Windows is written in cp932: a member named 𠮷田 must not kill the run."""
    inp, out = tmp_path / "in", tmp_path / "out"
    sheets = baseline()
    sheets["委員"][0]["氏名"] = sheets["委員"][10]["氏名"] = YOSHIDA  # his two terms
    sheets["委員"][10]["公職"] = "市議会議員"  # public-office while serving: an error finding naming him
    write_book(inp / "署.xlsx", sheets)
    env = os.environ | {"PYTHONIOENCODING": "cp932"}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", command, "--input", str(inp), "--output", str(out), "--as-of", "2026-11-27"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
    )
    stdout, stderr = proc.stdout.decode("cp932"), proc.stderr.decode("cp932")
    assert proc.returncode == 1, stderr  # error findings, not a crash
    assert "UnicodeEncodeError" not in stderr and "Traceback" not in stderr
    assert "?田" in stdout  # the finding is shown, the character it cannot show replaced
    assert YOSHIDA in (out / "検証結果.json").read_text("utf-8")  # the files keep the real name


@pytest.mark.parametrize("error", [AttributeError, TypeError])
def test_a_bug_while_reading_is_not_called_a_damaged_workbook(tmp_path, monkeypatch, capsys, error):
    """The reader's excepts take what a bad workbook raises; a bug of ours reading a sheet is an internal
    error (status failed, a log), never file-unreadable with advice to re-save the workbook in Excel."""
    import pipeline.reading.read

    def rows(ws):
        raise error("renamed internal")

    monkeypatch.setattr(pipeline.reading.read, "_rows", rows)
    inp, out = _folder(tmp_path, 1), tmp_path / "out"
    assert main(["check", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()]) == 2
    report = json.loads((out / "検証結果.json").read_text("utf-8"))
    (w,) = report["workbooks"]
    assert w["status"] == "failed" and [f["rule"] for f in w["findings"]] == ["internal-error"]
    assert "保存し直して" not in capsys.readouterr().err
