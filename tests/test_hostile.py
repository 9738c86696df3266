"""Untrusted folders (issue 18): every hostile case beside one good workbook.

SPEC section 7: workbooks are untrusted input, and no input produces a traceback, a half-written file or a
changed input; SPEC section 6: a link in the output folder the run did not create blocks that output
(output-link), reserved names at the output root are never a station's folder, and candidates are the
workbook files of the input folder. Each case builds the hostile file or folder here, runs the real command
and checks what the clerk gets: the good workbook's documents, the bad file reported, and nothing outside
the output folder changed. The cost cases run in a subprocess whose time and peak memory are measured and
printed (`pytest -s tests/test_hostile.py -k cost` shows the figures).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.report import RunOptions
from pipeline.run.steps import reports
from tests.builders import AS_OF, baseline, make_inline_string, rewrite_part, write_book

ROOT = Path(__file__).resolve().parents[1]
GOOD_FILE, GOOD_STATION = "良い署.xlsx", "良い警察署"
LIMIT_S, LIMIT_MB = 10.0, 300  # the target on the 2-core machine, for every case


def _book(path: Path, station: str) -> Path:
    sheets = baseline()
    sheets["署"][0]["値"] = station
    return write_book(path, sheets)


def _good(folder: Path) -> Path:
    return _book(folder / GOOD_FILE, GOOD_STATION)


def _tree(folder: Path, skip: Path | None = None) -> dict[str, tuple]:
    """Every entry under folder (links not followed) with its kind and content hash: what 'changed' means."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            if skip is not None and (p == skip or skip in p.parents):
                continue
            if p.is_symlink():
                out[str(p)] = ("link", os.readlink(p))
            elif p.is_file():
                out[str(p)] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            else:
                out[str(p)] = ("dir",)
    return out


def _report(out: Path) -> dict:
    return json.loads((out / "検証結果.json").read_text("utf-8"))


def _entry(out: Path, file: str) -> dict:
    return next(w for w in _report(out)["workbooks"] if w["file"] == file)


def _assert_good_documents(out: Path, folder: str = GOOD_STATION) -> None:
    """The good workbook: processed, its documents written where SPEC section 4 puts them."""
    good = _entry(out, GOOD_FILE)
    assert good["status"] in ("ok", "warnings"), good["findings"][:3]
    assert len(good["documents"]) >= 20
    for d in good["documents"]:
        assert d["status"] in ("written", "unchanged") and d["path"].startswith(folder + "/")
        assert (out / d["path"]).is_file() and not (out / d["path"]).is_symlink()
    assert (out / folder / "検証結果.xlsx").is_file()


# -- building hostile workbooks ---------------------------------------------------------------------------


def _zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written byte by byte: (name, raw data, method, CRC, declared size) per member, so a member can
    declare any size it likes."""
    out, central = io.BytesIO(), []
    for name, raw, method, crc, size in members:
        n = name.encode()
        offset = out.tell()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, method, 0, 0, crc, len(raw), size, len(n), 0))
        out.write(n + raw)
        central.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0x800, method, 0, 0, crc, len(raw), size,
                len(n), 0, 0, 0, 0, 0, offset,
            ) + n
        )  # fmt: skip
    start = out.tell()
    cd = b"".join(central)
    out.write(cd)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), len(cd), start, 0))
    return out.getvalue()


@functools.lru_cache(maxsize=1)
def _gigabyte_of_zeros_deflated() -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    return b"".join(c.compress(chunk) for _ in range(1024)) + c.flush()


def lying_zip(folder: Path) -> Path:
    """A workbook with a member that declares 1 KB (its CRC that of the first KB) and inflates to 1 GB."""
    good = _book(folder / "tmp.xlsx", "偽装警察署")
    members = []
    with zipfile.ZipFile(good) as z:
        for i in z.infolist():
            data = z.read(i)
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            members.append((i.filename, c.compress(data) + c.flush(), 8, zlib.crc32(data), len(data)))
    members.append(("xl/bomb.xml", _gigabyte_of_zeros_deflated(), 8, zlib.crc32(bytes(1024)), 1024))
    good.unlink()
    path = folder / "偽装署.xlsx"
    path.write_bytes(_zip(members))
    return path


def _append_rows(path: Path, part: str, rows: str, after_data: str = "") -> None:
    rewrite_part(path, part, lambda xml: xml.replace("</sheetData>", rows + "</sheetData>" + after_data, 1))


def xfd_rows(folder: Path) -> Path:
    """10,000 rows each with one empty cell in column XFD (Excel's last column), below the 委員 records."""
    path = _book(folder / "XFD署.xlsx", "XFD警察署")
    _append_rows(
        path, "xl/worksheets/sheet3.xml", "".join(f'<row r="{r}"><c r="XFD{r}"/></row>' for r in range(30, 10030))
    )
    return path


def xfd_values(folder: Path) -> Path:
    """10,000 rows each with a value in column XFD: a sheet far wider than any clerk's is refused, cheaply."""
    path = _book(folder / "XFD値署.xlsx", "XFD値警察署")
    cells = "".join(f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>' for r in range(30, 10030))
    _append_rows(path, "xl/worksheets/sheet3.xml", cells)
    return path


def wide_merges(folder: Path) -> Path:
    """1,500 merged ranges of two rows each from column Z to XFD, their anchors holding a value (outside the
    contract columns): 3,000 rows that Excel shows 16,384 cells wide."""
    path = _book(folder / "結合署.xlsx", "結合警察署")
    rows = "".join(f'<row r="{r}"><c r="Z{r}" t="inlineStr"><is><t>x</t></is></c></row>' for r in range(10, 3010))
    merges = "".join(f'<mergeCell ref="Z{r}:XFD{r + 1}"/>' for r in range(10, 3010, 2))
    _append_rows(path, "xl/worksheets/sheet4.xml", rows, f'<mergeCells count="1500">{merges}</mergeCells>')
    return path


def overlapping_merges(folder: Path) -> Path:
    """20,000 merged ranges over the same 1,000 rows (Excel never writes overlapping merges)."""
    path = _book(folder / "重複結合署.xlsx", "重複結合警察署")
    rows = "".join(f'<row r="{r}"><c r="Z{r}" t="inlineStr"><is><t>x</t></is></c></row>' for r in range(6, 1001))
    merges = '<mergeCell ref="Z6:AZ1000"/>' * 20_000
    _append_rows(path, "xl/worksheets/sheet4.xml", rows, f'<mergeCells count="20000">{merges}</mergeCells>')
    return path


def huge_file(folder: Path) -> Path:
    """A sparse 1.5 GB file named .xlsx that is no workbook."""
    path = folder / "巨大.xlsx"
    with open(path, "wb") as f:
        f.truncate(1536 * 1024 * 1024)
    return path


COST_CASES = {
    # case: (builder, what the bad file's entry in 検証結果.json must say)
    "lying zip": (lying_zip, "unreadable"),
    "XFD rows": (xfd_rows, None),
    "XFD values": (xfd_values, "unreadable"),
    "wide merges": (wide_merges, None),
    "overlapping merges": (overlapping_merges, None),
    "sparse 1.5 GB file": (huge_file, "unreadable"),
}

MEASURE = """
import json, resource, subprocess, sys, time
started = time.monotonic()
done = subprocess.run(sys.argv[1:], capture_output=True)
seconds = time.monotonic() - started
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"code": done.returncode, "seconds": seconds, "peak_mb": peak_mb,
                  "stdout": done.stdout.decode("utf-8", "replace"),
                  "stderr": done.stderr.decode("utf-8", "replace")[-2000:]}))
"""


def measure(argv: list[str], timeout: float = 300) -> dict:
    """Run argv in a fresh process; its wall time and the peak resident memory of its process tree."""
    wrapper = [sys.executable, "-c", MEASURE, *argv]
    done = subprocess.run(wrapper, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return json.loads(done.stdout)


@pytest.mark.parametrize("case", list(COST_CASES))
def test_cost_of_a_hostile_file_is_bounded_and_the_good_workbook_is_processed(tmp_path, case):
    make, status = COST_CASES[case]
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    _good(inp)
    bad = make(inp)
    before = _tree(tmp_path, skip=out)
    argv = [sys.executable, "-m", "pipeline", "reports", "--input", str(inp), "--output", str(out)]
    got = measure([*argv, "--as-of", AS_OF.isoformat()])
    print(f"\n[cost] {case}: {got['seconds']:.1f} s, {got['peak_mb']:.0f} MB peak (exit {got['code']})")
    assert got["code"] in (0, 1), got["stderr"]
    assert got["seconds"] < LIMIT_S and got["peak_mb"] < LIMIT_MB
    _assert_good_documents(out)
    entry = _entry(out, bad.name)
    if status is not None:
        assert entry["status"] == status and entry["findings"][0]["rule"] == "file-unreadable"
    else:
        assert entry["status"] != "failed"
    assert _tree(tmp_path, skip=out) == before  # the input folder and everything else as they were


# -- per-file faults ---------------------------------------------------------------------------------------


def _deny(monkeypatch, name: str) -> None:
    """Reading `name` is refused as the OS refuses a file locked by Excel or without read permission."""
    if os.geteuid() != 0:
        return  # chmod 000 does it for real (see the caller)
    import builtins

    real = builtins.open

    def guarded(file, *args, **kw):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file).endswith(name):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return real(file, *args, **kw)

    monkeypatch.setattr(builtins, "open", guarded)
    monkeypatch.setattr(io, "open", guarded)


@pytest.mark.parametrize("fault", ["no permission", "vanished"])
def test_an_unreadable_workbook_is_a_finding_and_the_run_goes_on(tmp_path, monkeypatch, capsys, fault):
    inp, out = tmp_path / "in", tmp_path / "out"
    _good(inp)
    bad = _book(inp / "読めない署.xlsx", "読めない警察署")
    if fault == "no permission":
        bad.chmod(0)
        _deny(monkeypatch, bad.name)
    else:
        import pipeline.run.steps as run_mod

        real = run_mod.discover
        monkeypatch.setattr(run_mod, "discover", lambda d: (real(d)[0] + [d / "消えた署.xlsx"], real(d)[1]))
        bad = inp / "消えた署.xlsx"
    code = main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()])
    err = capsys.readouterr()
    assert code == 1, err.err  # an error finding, not "the run could not proceed"
    entry = _entry(out, bad.name)
    assert entry["status"] == "unreadable"
    (finding,) = entry["findings"]
    assert finding["rule"] == "file-unreadable" and "読み取れません" in finding["message"]
    assert "書き込めません" not in err.out + err.err
    _assert_good_documents(out)


# -- links in the output folder ----------------------------------------------------------------------------

TARGET_FILE, TARGET = "標的署.xlsx", "標的警察署"
LINKS = {
    # where the link is planted (relative to the output folder): is it a folder
    "station folder": (TARGET, True),
    "form folder": (f"{TARGET}/委嘱状", True),
    "document": (f"{TARGET}/設置報告書/一番町交番連絡協議会.docx", False),
    "annotated copy": (f"{TARGET}/検証結果.xlsx", False),
    "station page": (f"{TARGET}/概要.html", False),
    "index": ("index.html", False),
    "report JSON": ("検証結果.json", False),
    "run record folder": (".kobankyo-cache", True),
    "manifest": (".manifest.json", False),
}


@pytest.mark.parametrize("where", list(LINKS))
def test_nothing_is_written_through_a_link_the_run_did_not_create(tmp_path, capsys, where):
    rel, is_dir = LINKS[where]
    inp, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "outside"
    _good(inp)
    _book(inp / TARGET_FILE, TARGET)
    outside.mkdir()
    (outside / "大事.txt").write_text("a colleague's file")
    target = outside if is_dir else outside / Path(rel).name
    if not is_dir:
        target.write_bytes(b"a colleague's file")
    link = out / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=is_dir)
    before = _tree(tmp_path, skip=out)
    code = main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()])
    err = capsys.readouterr()
    assert _tree(tmp_path, skip=out) == before  # nothing outside the output folder changed
    assert link.is_symlink()
    assert "\x1b" not in err.out
    if where in ("report JSON", "manifest"):
        # The run's own report or manifest cannot be written: said on the screen, exit 2 (SPEC section 6:
        # the run could not proceed), the documents written before that stay.
        assert code == 2 and str(link) in err.err and "リンク" in err.err
        assert len(list((out / GOOD_STATION / "委嘱状").glob("*.docx"))) >= 10
        return
    assert code == 1 or where in ("index", "run record folder"), err.err
    _assert_good_documents(out)
    if where != "index":  # the prefecture's page is written whatever station's page is a link
        assert (out / "index.html").is_file() and not (out / "index.html").is_symlink()
    if where in ("index", "run record folder"):
        return
    entry = _entry(out, TARGET_FILE)
    links = [f for f in entry["findings"] if f["rule"] == "output-link"]
    assert len(links) == 1 and f"{link}" in links[0]["message"] and links[0]["severity"] == "error"


def test_a_document_swapped_for_a_link_after_a_run_is_not_taken_from_the_record(tmp_path):
    """A link to an exact copy (same bytes, same time) put in place of a document the last run wrote: the
    record does not vouch for it, and the run writes nothing through it."""
    inp, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "outside"
    _good(inp)
    reports(inp, out, RunOptions(as_of=AS_OF))
    outside.mkdir()
    doc = next((out / GOOD_STATION / "設置報告書").glob("*.docx"))
    twin = outside / doc.name
    shutil.copy2(doc, twin)
    doc.unlink()
    doc.symlink_to(twin)
    before = _tree(tmp_path, skip=out)
    again = reports(inp, out, RunOptions(as_of=AS_OF))
    assert _tree(tmp_path, skip=out) == before
    (wr,) = [w for w in again.workbooks if w.result.file == GOOD_FILE]
    assert not wr.cached and [f.rule for f in wr.findings if f.severity.value == "error"] == ["output-link"]
    (d,) = [d for d in wr.documents if d.path.endswith(f"設置報告書/{doc.name}")]
    assert d.status == "blocked" and d.blocked_by == ["output-link"]


@pytest.mark.parametrize("inside", [True, False])
def test_an_input_link_is_read_only_when_its_target_is_inside_the_input_folder(tmp_path, inside):
    """SPEC section 6: a link to a workbook elsewhere (another station's share) is not a candidate."""
    inp, out, elsewhere = tmp_path / "in", tmp_path / "out", tmp_path / "elsewhere"
    _good(inp)
    target = _book((inp / "sub" if inside else elsewhere) / "本物.xlsx", "別の警察署")
    (inp / "リンク署.xlsx").symlink_to(target)
    reports(inp, out, RunOptions(as_of=AS_OF))
    files = {w["file"] for w in _report(out)["workbooks"]}
    assert files == ({GOOD_FILE, "リンク署.xlsx"} if inside else {GOOD_FILE})
    _assert_good_documents(out)


# -- the run record ----------------------------------------------------------------------------------------


class _Planted:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))  # runs at load time: creates the marker file


@pytest.mark.parametrize("plant", ["pickle replaced", "record entry naming a file outside"])
def test_a_planted_pickle_or_record_entry_never_runs(tmp_path, plant):
    inp, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "outside"
    _good(inp)
    reports(inp, out, RunOptions(as_of=AS_OF))
    outside.mkdir()
    marker = outside / "ran.txt"
    evil = pickle.dumps(_Planted(marker))
    record_path = out / ".kobankyo-cache" / "record.json"
    record = json.loads(record_path.read_text("utf-8"))
    entry = record["workbooks"][GOOD_FILE]
    if plant == "pickle replaced":
        (out / ".kobankyo-cache" / entry["pickle"]).write_bytes(evil)
    else:
        (outside / "evil.pickle").write_bytes(evil)
        entry["pickle"] = "../../outside/evil.pickle"
        record_path.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    (out / GOOD_STATION / "概要.html").unlink()  # the page is drawn from the model: it must be loaded
    before = _tree(tmp_path, skip=out)
    reports(inp, out, RunOptions(as_of=AS_OF))
    assert not marker.exists()
    assert _tree(tmp_path, skip=out) == before
    assert (out / GOOD_STATION / "概要.html").is_file()
    _assert_good_documents(out)


# -- reserved names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("station", ["index.html", "検証結果.json", "INDEX.HTML", "県集計.xlsx"])
def test_a_station_named_like_the_runs_own_files_gets_another_folder(tmp_path, capsys, station):
    inp, out = tmp_path / "in", tmp_path / "out"
    _good(inp)
    _book(inp / "変な署.xlsx", station)
    code = main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()])
    capsys.readouterr()
    assert code in (0, 1)
    report = _report(out)  # 検証結果.json is the report, a file
    assert {w["file"] for w in report["workbooks"]} == {GOOD_FILE, "変な署.xlsx"}
    assert "<html" in (out / "index.html").read_text("utf-8").lower() and (out / "index.html").is_file()
    odd = _entry(out, "変な署.xlsx")
    assert odd["documents"] and all(d["path"].startswith(f"{station}_2/") for d in odd["documents"])
    assert (out / f"{station}_2" / "検証結果.xlsx").is_file()
    _assert_good_documents(out)


# -- macros and the clerk's own sheets in the copy --------------------------------------------------------

XLM_CT = "application/vnd.ms-excel.macrosheet+xml"
XLM_REL = "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"
ACTIVEX_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/control"
ACTIVEX_BIN_REL = "http://schemas.microsoft.com/office/2006/relationships/activeXControlBinary"
VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
MACRO_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="str"><f>EXEC("calc.exe")</f><v>0</v></c></row>'
    '<row r="2"><c r="A2" t="str"><f>HALT()</f><v>0</v></c></row></sheetData></xm:macrosheet>'
)


def macro_book(folder: Path) -> Path:
    """A .xlsm with VBA, an Excel 4.0 macro sheet (hidden, EXEC, Auto_Open) and an ActiveX control."""
    path = _book(folder / "マクロ署.xlsm", "マクロ警察署")
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    ct = parts["[Content_Types].xml"].decode()
    ct = ct.replace("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", MACRO_MAIN)
    ct = ct.replace(
        "</Types>",
        f'<Override PartName="/xl/macrosheets/sheet1.xml" ContentType="{XLM_CT}"/>'
        '<Override PartName="/xl/activeX/activeX1.xml" ContentType="application/vnd.ms-office.activeX+xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )
    parts["[Content_Types].xml"] = ct.encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdXlm" Type="{XLM_REL}" Target="macrosheets/sheet1.xml"/>'
        f'<Relationship Id="rIdVba" Type="{VBA_REL}" Target="vbaProject.bin"/></Relationships>',
    )
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    wb = parts["xl/workbook.xml"].decode()
    wb = wb.replace(
        "</sheets>",
        '<sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" name="Macro1" sheetId="99" state="hidden" r:id="rIdXlm"/></sheets>'
        '<definedNames><definedName name="_xlnm.Auto_Open" hidden="1">Macro1!$A$1</definedName>'
        '<definedName name="Auto_Open2">Macro1!$A$1</definedName></definedNames>',
    )
    parts["xl/workbook.xml"] = wb.encode()
    parts["xl/macrosheets/sheet1.xml"] = MACRO_SHEET.encode()
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 not really a VBA project"
    # The ActiveX control on the 署 sheet.
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace(
        "</worksheet>",
        '<controls><control shapeId="1025" r:id="rIdAx" name="CommandButton1" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></controls></worksheet>',
    )
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    parts["xl/worksheets/_rels/sheet1.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rIdAx" Type="{ACTIVEX_REL}" Target="../activeX/activeX1.xml"/></Relationships>'
    ).encode()
    parts["xl/activeX/activeX1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        b'ax:classid="{D7053240-CE69-11CD-A777-00DD01143C57}" ax:persistence="persistStreamInit" r:id="rIdBin"/>'
    )
    parts["xl/activeX/_rels/activeX1.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rIdBin" Type="{ACTIVEX_BIN_REL}" Target="activeX1.bin"/></Relationships>'
    ).encode()
    parts["xl/activeX/activeX1.bin"] = b"binary control"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_the_copy_of_a_xlsm_carries_no_macro_of_any_kind(tmp_path):
    inp, out = tmp_path / "in", tmp_path / "out"
    _good(inp)
    source = macro_book(inp)
    before = source.read_bytes()
    reports(inp, out, RunOptions(as_of=AS_OF))
    copy = out / "マクロ警察署" / "検証結果.xlsx"
    with zipfile.ZipFile(copy) as z:
        names = z.namelist()
        text = {n: z.read(n).decode("utf-8", "replace") for n in names if n.endswith((".xml", ".rels"))}
    assert not [n for n in names if re.search(r"macrosheet|activeX|vbaProject|\.bin$", n, re.I)], names
    everything = "\n".join(text.values())
    for needle in ("Auto_Open", "Macro1", "macrosheet", "activeX", "vbaProject", "macroEnabled", "<controls"):
        assert needle.lower() not in everything.lower(), needle
    for part, xml in text.items():  # every relationship points at a part the copy has
        if part.endswith(".rels"):
            base = part.replace("_rels/", "").removesuffix(".rels")
            for target in re.findall(r'Target="([^"]+)"', xml):
                if "TargetMode" in xml and target.startswith(("http", "mailto")):
                    continue
                resolved = os.path.normpath(os.path.join(os.path.dirname(base), target)).lstrip("/")
                assert resolved in names, (part, target)
    assert source.read_bytes() == before  # the input as it was
    _assert_good_documents(out)
    from openpyxl import load_workbook

    wb = load_workbook(copy)
    assert "署" in wb.sheetnames and "Macro1" not in wb.sheetnames


def test_the_clerks_own_sheets_named_like_ours_keep_their_content(tmp_path):
    from openpyxl import load_workbook

    from pipeline.workbooks.annotate import LIST_SHEET, STATUS_SHEET

    inp, out = tmp_path / "in", tmp_path / "out"
    _good(inp)
    path = _book(inp / "係の署.xlsx", "係の警察署")
    wb = load_workbook(path)
    for name in (LIST_SHEET, STATUS_SHEET):
        wb.create_sheet(name)["A1"] = f"係が書いた{name}"
    wb.save(path)
    reports(inp, out, RunOptions(as_of=AS_OF))
    copy = out / "係の警察署" / "検証結果.xlsx"

    def clerk_and_ours(p: Path) -> tuple[list[str], list[str]]:
        wb = load_workbook(p)
        clerks = [n for n in wb.sheetnames if wb[n]["A1"].value and str(wb[n]["A1"].value).startswith("係が書いた")]
        ours = [n for n in wb.sheetnames if wb[n]["A1"].value in ("重要度", "様式")]
        for n in clerks:
            assert wb[n]["A1"].value == f"係が書いた{n}"
        return clerks, ours

    clerks, ours = clerk_and_ours(copy)
    assert sorted(clerks) == sorted([LIST_SHEET, STATUS_SHEET]) and len(ours) == 2
    # The copy given back as input: the clerk's sheets stay (once), only the run's own are replaced.
    shutil.copy(copy, path)
    reports(inp, out, RunOptions(as_of=AS_OF))
    clerks_again, ours_again = clerk_and_ours(copy)
    assert sorted(clerks_again) == sorted(clerks) and len(ours_again) == 2
    _assert_good_documents(out)


# -- the terminal ------------------------------------------------------------------------------------------


def test_control_characters_from_file_names_and_cells_never_reach_the_terminal(tmp_path, capsys):
    inp, out = tmp_path / "in", tmp_path / "out"
    _good(inp)
    name = "\x1b]0;pwned\x07\x1b[2J\x1b[31m悪い署\x9b2J.xlsx"
    bad = _book(inp / name, "仮の警察署")
    make_inline_string(bad, "xl/worksheets/sheet1.xml", "B1", "悪い_x001B_[2J_x0007_警察署")
    (inp / "\x1b[2Jでたらめ.xlsx").write_bytes(b"not a workbook \x1b[2J")
    code = main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()])
    got = capsys.readouterr()
    assert code == 1
    shown = re.sub(r"\r(?=\[[#.]+\] )", "", got.out + got.err)  # the progress bar's own carriage returns
    assert "悪い署" in shown and "でたらめ" in shown  # named, without their control characters
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown), repr(shown[:400])
    _assert_good_documents(out)


# -- every other case, measured as the cost cases are ------------------------------------------------------

DENIED_RUN = """
import builtins, errno, io, os, sys
real = builtins.open
def guarded(file, *args, **kw):
    if isinstance(file, (str, os.PathLike)) and os.fspath(file).endswith(sys.argv[1]):
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
    return real(file, *args, **kw)
builtins.open = io.open = guarded  # as the OS refuses a workbook Excel holds locked (root reads anything)
from pipeline.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _plant_station_link(tmp: Path, inp: Path, out: Path) -> Path | None:
    _book(inp / TARGET_FILE, TARGET)
    out.mkdir()
    (out / TARGET).symlink_to(tmp / "outside", target_is_directory=True)
    return None


def _plant_pickle(tmp: Path, inp: Path, out: Path) -> Path | None:
    reports(inp, out, RunOptions(as_of=AS_OF))
    entry = json.loads((out / ".kobankyo-cache" / "record.json").read_text("utf-8"))["workbooks"][GOOD_FILE]
    (out / ".kobankyo-cache" / entry["pickle"]).write_bytes(pickle.dumps(_Planted(tmp / "outside" / "ran.txt")))
    (out / GOOD_STATION / "概要.html").unlink()
    return None


def _unreadable(tmp: Path, inp: Path, out: Path) -> Path | None:
    bad = _book(inp / "読めない署.xlsx", "読めない警察署")
    bad.chmod(0)
    return bad


def _clerk_sheets(tmp: Path, inp: Path, out: Path) -> Path | None:
    from openpyxl import load_workbook

    path = _book(inp / "係の署.xlsx", "係の警察署")
    wb = load_workbook(path)
    for name in ("指摘一覧", "作成状況"):
        wb.create_sheet(name)["A1"] = f"係が書いた{name}"
    wb.save(path)
    return None


def _no_macro(out: Path, got: dict) -> None:
    with zipfile.ZipFile(out / "マクロ警察署" / "検証結果.xlsx") as z:
        assert not [n for n in z.namelist() if re.search(r"macrosheet|activeX|vbaProject", n, re.I)]
        assert b"Auto_Open" not in z.read("xl/workbook.xml")


def _clerk_kept(out: Path, got: dict) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(out / "係の警察署" / "検証結果.xlsx")
    assert wb["指摘一覧"]["A1"].value == "係が書いた指摘一覧" and wb["作成状況"]["A1"].value == "係が書いた作成状況"


def _no_escape(out: Path, got: dict) -> None:
    shown = re.sub(r"\r(?=\[[#.]+\] )", "", got["stdout"] + got["stderr"])
    assert "署.xlsx" in shown and not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown)


MEASURED = {
    # case: (what it plants beside the good workbook, returning a workbook to deny reading; what to check)
    "unreadable workbook": (_unreadable, None),
    "station folder is a planted link": (_plant_station_link, None),
    "planted pickle": (_plant_pickle, None),
    "Excel 4.0 macro sheet": (lambda tmp, inp, out: macro_book(inp) and None, _no_macro),
    "clerk sheets named like ours": (_clerk_sheets, _clerk_kept),
    "ESC file name": (
        lambda tmp, inp, out: _book(inp / "\x1b]0;x\x07\x1b[2J署.xlsx", "ESC警察署") and None,
        _no_escape,
    ),
    "station named index.html": (lambda tmp, inp, out: _book(inp / "変な署.xlsx", "index.html") and None, None),
    "station named 検証結果.json": (lambda tmp, inp, out: _book(inp / "変な署2.xlsx", "検証結果.json") and None, None),
}


@pytest.mark.parametrize("case", list(MEASURED))
def test_cost_of_every_other_hostile_case(tmp_path, case):
    """The same measure for the cases that are not about size: time, peak memory, the good workbook's
    documents and nothing outside the output folder changed (their own checks are in the tests above)."""
    inp, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    (outside / "大事.txt").write_text("a colleague's file")
    _good(inp)
    plant, check = MEASURED[case]
    denied = plant(tmp_path, inp, out)
    before = _tree(tmp_path, skip=out)
    args = ["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()]
    if denied is not None and os.geteuid() == 0:
        got = measure([sys.executable, "-c", DENIED_RUN, denied.name, *args])
    else:
        got = measure([sys.executable, "-m", "pipeline", *args])
    print(f"\n[cost] {case}: {got['seconds']:.1f} s, {got['peak_mb']:.0f} MB peak (exit {got['code']})")
    assert got["code"] in (0, 1), got["stderr"]
    assert got["seconds"] < LIMIT_S and got["peak_mb"] < LIMIT_MB
    _assert_good_documents(out)
    assert _tree(tmp_path, skip=out) == before
    assert not (outside / "ran.txt").exists()
    assert (out / "index.html").is_file() and isinstance(_report(out)["workbooks"], list)
    if denied is not None:
        assert "読み取れません" in json.dumps(_entry(out, denied.name), ensure_ascii=False)
    if check is not None:
        check(out, got)
