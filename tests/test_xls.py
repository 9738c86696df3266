"""SPEC 2 and 3: an Excel 97-2003 .xls reads as its .xlsx does (same findings, same cells, same documents);
other formats (.ods, .csv, .xlsb, renamed files) are named in their file-unreadable message."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.checking.result import Options
from pipeline.checking.validate import validate_workbook
from pipeline.cli import main
from pipeline.reading.read import read_workbook
from tests.builders import AS_OF, baseline, merge_council_ids, sheets_copy, write_book
from tests.test_annotate import HAVE_AUDIT, audit

SAMPLES = Path(__file__).resolve().parents[1] / "input_samples"
HAVE_LO = shutil.which("soffice") is not None
needs_lo = pytest.mark.skipif(not HAVE_LO, reason="LibreOffice (soffice) がありません")
SAVE_AS = "Excel ブック (*.xlsx)"


def to_format(sources: list[Path], folder: Path, fmt: str = "xls") -> list[Path]:
    """LibreOffice Calc's conversion of each workbook (as an office would save it from Excel 97-2003)."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = folder.parent / f".lo-profile-{folder.name}"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
         "--outdir", str(folder), *map(str, sources)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    out = [folder / f"{p.stem}.{fmt}" for p in sources]
    assert all(p.is_file() for p in out)
    return out


def run_cli(command: str, inp: Path, out: Path) -> int:
    return main([command, "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()])


def _entries(out: Path) -> dict[str, dict]:
    data = json.loads((out / "検証結果.json").read_text("utf-8"))
    return {Path(w["file"]).stem: w for w in data["workbooks"]}


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.docx"))}


def _planted(tmp_path: Path) -> Path:
    """A workbook with errors and warnings (findings at known cells), merged 協議会ID cells, 1904 dates."""
    sheets = sheets_copy(baseline())
    sheets["委員"][3]["性別"] = "不明"  # bad-choice
    sheets["委員"][12]["委嘱日"] = "令和8年13月1日"  # bad-date
    sheets["会議"][1]["終了時刻"] = sheets["会議"][1]["開始時刻"]  # a zero-length meeting, if any rule sees it
    sheets["意見要望"][0]["会議ID"] = "M9"  # unknown-ref
    path = write_book(tmp_path / "src" / "planted.xlsx", sheets, date1904=True)
    merge_council_ids(path)
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The samples and a planted workbook, as .xlsx in one folder and converted to .xls in another, each
    folder run through `reports`."""
    if not HAVE_LO:
        pytest.skip("LibreOffice (soffice) がありません")
    root = tmp_path_factory.mktemp("xls")
    xlsx_in = root / "xlsx"
    xlsx_in.mkdir()
    for p in SAMPLES.glob("*.xlsx"):
        shutil.copy(p, xlsx_in / p.name)
    shutil.copy(_planted(root), xlsx_in / "planted.xlsx")
    sources = sorted(xlsx_in.glob("*.xlsx"))
    xls_in = root / "xls-in"
    to_format(sources, xls_in)
    codes = {kind: run_cli("reports", inp, root / f"out-{kind}") for kind, inp in (("xlsx", xlsx_in), ("xls", xls_in))}
    return root, codes


@needs_lo
def test_xls_gives_the_same_findings_at_the_same_cells(pair):
    root, codes = pair
    assert codes["xlsx"] == codes["xls"] == 1  # the planted workbook has errors
    a, b = _entries(root / "out-xlsx"), _entries(root / "out-xls")
    assert set(a) == set(b) and "planted" in a and "選挙期間" in a
    for stem in a:
        assert b[stem]["file"] == f"{stem}.xls"
        assert b[stem]["status"] == a[stem]["status"], stem
        assert b[stem]["findings"] == a[stem]["findings"], stem
        assert b[stem]["documents"] == a[stem]["documents"], stem
    rules = {f["rule"] for f in a["planted"]["findings"]}
    assert {"bad-choice", "bad-date", "unknown-ref"} <= rules


@needs_lo
def test_xls_writes_byte_identical_documents(pair):
    root, _ = pair
    a, b = _hashes(root / "out-xlsx"), _hashes(root / "out-xls")
    assert len(a) > 50
    assert a == b


@needs_lo
def test_the_annotated_copy_of_an_xls_is_an_xlsx_that_says_so(pair):
    root, _ = pair
    source = root / "xls-in" / "planted.xls"
    copy = root / "out-xls" / "テスト警察署" / "検証結果.xlsx"
    with zipfile.ZipFile(copy) as z:
        assert "xl/workbook.xml" in z.namelist()
    wb = load_workbook(copy)
    sheets = [s for s in wb.sheetnames if not s.startswith("_")]
    assert sheets == ["指摘一覧", "作成状況", "署", "協議会", "委員", "会議", "意見要望", "選挙期間"]
    first = [c.value for c in wb["指摘一覧"][2]]
    assert "planted.xls" in first[6] and ".xlsx" in first[6] and "変換" in first[6]
    # The clerk's values are kept, and every finding's cell is commented in the copy as in the .xlsx's.
    original = load_workbook(root / "xlsx" / "planted.xlsx")
    for name in ("委員", "会議"):
        for row_a, row_b in zip(original[name].iter_rows(), wb[name].iter_rows(), strict=False):
            assert [c.value for c in row_a] == [c.value for c in row_b][: len(row_a)]
    findings = _entries(root / "out-xls")["planted"]["findings"]
    for f in findings:
        if f["cell"]:
            assert wb[f["sheet"]][f["cell"]].comment is not None, f
    assert source.read_bytes() == (root / "xls-in" / "planted.xls").read_bytes()
    merged = [str(r) for r in wb["委員"].merged_cells.ranges]
    assert merged == ["A2:A21"]


@needs_lo
@pytest.mark.skipif(not HAVE_AUDIT, reason="openxml-audit がありません")
def test_the_copy_of_an_xls_passes_openxml_audit(pair):
    root, _ = pair
    for copy in sorted((root / "out-xls").rglob("検証結果.xlsx")):
        assert audit(copy) == [], copy


@needs_lo
def test_xls_in_1904_with_merged_cells_reads_as_its_xlsx(tmp_path):
    src = _planted(tmp_path)
    (xls,) = to_format([src], tmp_path / "xls")
    a, b = read_workbook(src), read_workbook(xls)
    assert list(a.tables) == list(b.tables)
    for name, t in a.tables.items():
        u = b.tables[name]
        assert (u.sheet, u.letters, u.header_row, u.kv_rows) == (t.sheet, t.letters, t.header_row, t.kv_rows)
        assert u.frame.index.tolist() == t.frame.index.tolist()
    ra = validate_workbook(src, Options(AS_OF))
    rb = validate_workbook(xls, Options(AS_OF))
    assert [f.to_json() for f in rb.findings] == [f.to_json() for f in ra.findings]
    members = rb.book.members
    assert {m.council_id for m in members} == {"C1"}  # the merged cells read as their anchor
    assert members[0].start == a.tables["委員"].frame.iloc[0]["委嘱日"].date()  # 1904 serials, right dates


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


ODS = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})
CSV = "協議会ID,名称\n1,一番町交番連絡協議会\n".encode("cp932")
# (case, file name, content, words the message must hold)
FORMATS = [
    ("ods", "署.ods", ODS, [".ods", SAVE_AS]),
    ("csv", "署.csv", CSV, ["CSV", SAVE_AS]),
    ("csv-renamed-xlsx", "署.xlsx", CSV, ["CSV", "拡張子は .xlsx", SAVE_AS]),
    ("csv-renamed-xls", "署.xls", CSV, ["CSV", "拡張子は .xls", SAVE_AS]),
    ("csv-utf8-bom", "署.csv", "\ufeff協議会ID,名称\n".encode(), ["CSV", SAVE_AS]),
    ("xlsb", "署.xlsb", _zip({"[Content_Types].xml": b"<x/>", "xl/workbook.bin": b"\0"}), [".xlsb", SAVE_AS]),
    ("html-as-xls", "署.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>", ["HTML", SAVE_AS]),
    ("pdf-renamed", "署.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ["PDF"]),
    ("docx-renamed", "署.xlsx", _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"}), ["Word"]),
    ("broken-ole", "署.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, [".xls", "パスワード", SAVE_AS]),
]


@pytest.mark.parametrize("name,data,words", [c[1:] for c in FORMATS], ids=[c[0] for c in FORMATS])
def test_other_formats_are_named_with_how_to_save_as_xlsx(tmp_path, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    r = validate_workbook(path, Options(AS_OF))
    assert r.unreadable and [f.rule for f in r.findings] == ["file-unreadable"]
    message = r.findings[0].message
    assert name in message
    for w in words:
        assert w in message, message
    assert path.read_bytes() == data


@needs_lo
def test_a_real_ods_gets_its_own_message(tmp_path):
    (ods,) = to_format([SAMPLES / "石巻警察署.xlsx"], tmp_path / "ods", "ods")
    r = validate_workbook(ods, Options(AS_OF))
    assert r.unreadable and ".ods" in r.findings[0].message and SAVE_AS in r.findings[0].message


def test_every_candidate_format_is_listed_and_the_rest_ignored(tmp_path):
    """SPEC 6: .xlsx .xlsm .xls .xlsb .ods .csv (any case) are candidates; hidden, ~$ and other files are not."""
    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    files = {
        "a.ods": ODS,
        "b.CSV": CSV,
        "c.xlsb": FORMATS[5][2],
        "d.XLS": CSV,
        "memo.txt": b"x",
        "~$テスト署.xlsx": b"lock",
        ".hidden.xls": CSV,
        "notes.docx": FORMATS[8][2],
    }
    for n, data in files.items():
        (inp / n).write_bytes(data)
    assert run_cli("check", inp, out) == 1
    books = _entries(out)
    assert {w["file"] for w in books.values()} == {"テスト署.xlsx", "a.ods", "b.CSV", "c.xlsb", "d.XLS"}
    for w in books.values():
        if w["file"] != "テスト署.xlsx":
            assert w["status"] == "unreadable"
            assert [f["rule"] for f in w["findings"]] == ["file-unreadable"]
            assert SAVE_AS in w["findings"][0]["message"]
