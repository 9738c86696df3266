"""openpyxl's private names only behind pipeline/reading/openpyxl_private.py, checked before any workbook is read
(issue 21, point 2): a release that renames one stops the run with exit 2 and a Japanese message naming the
installation problem, instead of calling every valid workbook unreadable."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import AS_OF, baseline, write_book

ROOT = Path(__file__).resolve().parents[1]

REMOVALS = [
    (
        "ReadOnlyWorksheet._get_size",
        "from openpyxl.worksheet._read_only import ReadOnlyWorksheet as C; del C._get_size",
    ),
    ("WorkSheetParser.parse_row", "from openpyxl.worksheet._reader import WorkSheetParser as C; del C.parse_row"),
    ("_reader._cast_number", "import openpyxl.worksheet._reader as m; del m._cast_number"),
    ("the _reader module", "import sys; sys.modules['openpyxl.worksheet._reader'] = None"),
]


@pytest.mark.parametrize(("name", "removal"), REMOVALS, ids=[r[0] for r in REMOVALS])
@pytest.mark.parametrize("books", [1, 5])  # in this process, and in the pool's workers
def test_a_private_name_missing_stops_the_run_with_exit_2(tmp_path, name, removal, books):
    inp, out = tmp_path / "in", tmp_path / "out"
    for i in range(books):
        sheets = baseline()
        sheets["署"][0]["値"] = f"第{i}警察署"
        write_book(inp / f"{i}署.xlsx", sheets)
    code = (
        f"{removal}\nimport sys\nfrom pipeline.cli import main\n"
        f"sys.exit(main(['reports', '--input', r'{inp}', '--output', r'{out}', '--as-of', '{AS_OF}']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "インストール" in proc.stderr and "openpyxl" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "保存し直して" not in proc.stderr  # not the clerk's workbooks
    report = out / "検証結果.json"
    if report.exists():  # no workbook is called unreadable
        rules = {f["rule"] for w in json.loads(report.read_text("utf-8"))["workbooks"] for f in w["findings"]}
        assert "file-unreadable" not in rules


def test_the_installed_openpyxl_has_every_name():
    from pipeline.reading import openpyxl_private

    assert openpyxl_private.missing() == []


def test_no_private_openpyxl_name_outside_the_adapter():
    """read.py and the rest reach openpyxl's private names only through pipeline/reading/openpyxl_private.py."""
    # Imports of private modules, private attributes of worksheets and workbooks, a patch of the class.
    private = re.compile(r"openpyxl\.\w+(?:\.\w+)*\._\w+|\bws\._[a-z]\w*|\bwb\._[a-z]\w*|ReadOnlyWorksheet\._\w+ =")
    offenders = []
    modules = sorted((ROOT / "pipeline").rglob("*.py"))  # every stage's folder
    assert {p.name for p in modules} >= {"read.py", "read_xls.py", "annotate.py", "openpyxl_private.py"}
    for path in modules:
        if path.name == "openpyxl_private.py":
            continue
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if private.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


def test_openpyxl_has_an_upper_bound():
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    spec = re.search(r'"openpyxl([^"]*)"', text)[1]
    assert "<" in spec
