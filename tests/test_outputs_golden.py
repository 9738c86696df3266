"""Every file a run writes for the samples is byte for byte the file main wrote before the package was regrouped.

outputs_golden.json was recorded once from main before the move into stage subpackages
(`python -m tests.test_outputs_golden > tests/outputs_golden.json`). It covers `reports` on the input samples
(every 委嘱状, 設置報告書 and 開催結果報告書, the annotated copies, the pages, 県集計.xlsx, 検証結果.json),
a second run with --strict on the same folder, the blank input workbook and the exported form templates.
Left out: the run record and the manifest, whose keys carry the output version (a digest of the code itself,
so any change of a source file changes them by design), and the lock file.
A change meant to change what the outputs hold records the hashes again with the same command and says so in
its commit message.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "input_samples"
GOLDEN = Path(__file__).with_name("outputs_golden.json")
EPOCH = "1796000000"  # SOURCE_DATE_EPOCH: the 'made at' time the pages and 検証結果.xlsx print
AS_OF = "2026-11-27"
NOT_OUTPUTS = (".kobankyo-cache/", ".kobankyo.lock", ".manifest.json")


def _files(root: Path, prefix: str) -> dict[str, bytes]:
    found = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not any(rel == n or rel.startswith(n) or rel.endswith("/" + n) for n in NOT_OUTPUTS):
            found[f"{prefix}/{rel}"] = p.read_bytes()
    return found


def _members_but_times(xlsx: Path) -> bytes:
    """The blank workbook's members without docProps/core.xml, whose created time is the moment it was made."""
    with zipfile.ZipFile(xlsx) as z:
        return b"".join(n.encode() + z.read(n) for n in sorted(z.namelist()) if n != "docProps/core.xml")


def write_all(tmp: Path) -> dict[str, bytes]:
    """Run every command that writes files, in a fixed clock; every file by name."""
    files: dict[str, bytes] = {}
    out = tmp / "reports"
    assert main(["reports", "--input", str(SAMPLES), "--output", str(out), "--as-of", AS_OF]) in (0, 1)
    files.update(_files(out, "reports"))
    strict = tmp / "strict"
    assert main(["reports", "--input", str(SAMPLES), "--output", str(strict), "--as-of", AS_OF, "--strict"]) in (0, 1)
    files.update(_files(strict, "strict"))
    blank = tmp / "blank" / "入力ブック雛形.xlsx"
    blank.parent.mkdir()
    assert main(["template", str(blank)]) == 0
    files["template/入力ブック雛形.xlsx"] = _members_but_times(blank)
    forms = tmp / "forms"
    assert main(["forms", "export", str(forms)]) == 0
    files.update(_files(forms, "forms"))
    return files


def hashes(files: dict[str, bytes]) -> dict[str, str]:
    return {k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items())}


def test_outputs_are_the_files_main_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    want = json.loads(GOLDEN.read_text("utf-8"))
    got = hashes(write_all(tmp_path))
    assert sorted(got) == sorted(want)  # the same files
    assert sum(k.endswith(".docx") for k in got) >= 100
    assert [k for k in want if got[k] != want[k]] == []


if __name__ == "__main__":
    import contextlib
    import os
    import tempfile

    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(sys.stderr):
        found = hashes(write_all(Path(d)))
    sys.stdout.write(json.dumps(found, ensure_ascii=False, indent=1) + "\n")
