"""End to end: the CLI on the samples and on planted problems; JSON contract; hand edits; determinism."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from docx import Document

from pipeline.cli import main
from tests.builders import baseline, write_book

SAMPLES = Path(__file__).resolve().parents[1] / "input_samples"
AS_OF = "2026-11-27"


def reports(inp: Path, out: Path, *extra: str) -> int:
    return main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF, *extra])


def load_json(out: Path) -> dict:
    return json.loads((out / "検証結果.json").read_text("utf-8"))


def tree_hashes(root: Path, pattern: str = "*.docx") -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob(pattern))}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    before = tree_hashes(SAMPLES, "*.xlsx")
    code = reports(SAMPLES, out)
    return code, out, before


def test_samples_run_clean_and_write_every_document(sample_run):
    code, out, _ = sample_run
    assert code == 0
    report = load_json(out)
    assert report["as_of"] == AS_OF
    stations = [w for w in report["workbooks"] if w["station"]]
    assert {w["station"] for w in stations} == {"仙台中央警察署", "石巻警察署", "気仙沼警察署", "泉警察署"}
    for w in stations:
        assert w["status"] in ("ok", "warnings")
        forms = {d["form"] for d in w["documents"]}
        assert forms == {"委嘱状", "設置報告書", "開催結果報告書"}
        assert all(d["status"] == "written" for d in w["documents"])
        for d in w["documents"]:
            path = out / d["path"]
            assert path.is_file() and d["path"].startswith(w["station"] + "/")
            assert not Path(d["path"]).is_absolute()
    # Some warnings and info, so a newcomer sees what findings look like; no errors.
    severities = {f["severity"] for w in report["workbooks"] for f in w["findings"]}
    assert severities == {"warning", "info"}


def test_every_sample_document_opens_in_python_docx(sample_run):
    _, out, _ = sample_run
    docs = sorted(out.rglob("*.docx"))
    assert len(docs) > 300
    for p in docs:
        Document(p)


def test_json_contract(sample_run):
    _, out, _ = sample_run
    report = load_json(out)
    assert set(report) == {"as_of", "workbooks"}
    for w in report["workbooks"]:
        assert set(w) == {"file", "station", "status", "findings", "documents", "summary"}
        for f in w["findings"]:
            assert set(f) == {"severity", "rule", "article", "sheet", "row", "column", "cell", "message"}
            assert f["severity"] in ("error", "warning", "info")
            assert isinstance(f["row"], int) and f["cell"].endswith(str(f["row"]))
        for d in w["documents"]:
            assert d["form"] in ("委嘱状", "設置報告書", "開催結果報告書")
            assert d["status"] in ("written", "unchanged", "kept-edited", "blocked")


def test_inputs_are_never_modified(sample_run):
    _, _, before = sample_run
    assert tree_hashes(SAMPLES, "*.xlsx") == before


def test_rerun_is_unchanged_and_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert reports(SAMPLES, a) == 0
    assert reports(SAMPLES, b) == 0
    assert tree_hashes(a) == tree_hashes(b)
    mtimes = {p: p.stat().st_mtime_ns for p in a.rglob("*.docx")}
    assert reports(SAMPLES, a) == 0  # taken from the run record: nothing is written
    assert {p: p.stat().st_mtime_ns for p in a.rglob("*.docx")} == mtimes
    shutil.rmtree(a / ".kobankyo-cache")  # without the record, each document is compared with the manifest
    assert reports(SAMPLES, a) == 0
    statuses = {d["status"] for w in load_json(a)["workbooks"] for d in w["documents"]}
    assert statuses == {"unchanged"} and tree_hashes(a) == tree_hashes(b)


def _one_station(tmp_path, sheets=None) -> Path:
    inp = tmp_path / "in"
    write_book(inp / "テスト署.xlsx", sheets or baseline())
    return inp


def _docs(out: Path) -> dict[str, dict]:
    return {d["path"]: d for w in load_json(out)["workbooks"] for d in w["documents"]}


def test_hand_edit_is_never_overwritten(tmp_path, capsys):
    inp, out = _one_station(tmp_path), tmp_path / "out"
    assert reports(inp, out) == 0
    target = sorted((out / "テスト警察署" / "委嘱状").glob("*.docx"))[0]
    rel = target.relative_to(out).as_posix()
    doc = Document(target)
    doc.paragraphs[1].runs[0].text = "手で直した氏名"
    doc.save(target)
    edited = target.read_bytes()
    capsys.readouterr()
    # The record has not changed: the clerk's file is the current one, and no 新版 is written.
    for _ in range(2):
        assert reports(inp, out) == 0
        assert target.read_bytes() == edited
        assert _docs(out)[rel]["status"] == "kept-edited" and "new_path" not in _docs(out)[rel]
        assert not list(out.rglob("*_新版.docx"))
    printed = capsys.readouterr().out
    assert "上書きしていません" in printed and target.name in printed
    # Now the record changes (a new 署長): the clerk's file stays, the new version goes beside it.
    sheets = baseline()
    sheets["署"][1]["値"] = "新井　署長"
    write_book(inp / "テスト署.xlsx", sheets)
    for _ in range(2):
        assert reports(inp, out) == 0
        assert target.read_bytes() == edited
        d = _docs(out)[rel]
        assert d["status"] == "kept-edited" and d["new_path"].endswith("_新版.docx")
        text = "".join(p.text for p in Document(out / d["new_path"]).paragraphs)
        assert "新井　署長" in text and "手で直した氏名" not in text


def test_resaved_unchanged_document_settles_as_kept_edited(tmp_path):
    """Opening and re-saving in Word changes the bytes, not the content: no endless 新版."""
    inp, out = _one_station(tmp_path), tmp_path / "out"
    assert reports(inp, out) == 0
    target = sorted((out / "テスト警察署" / "委嘱状").glob("*.docx"))[0]
    Document(target).save(target)  # a re-save: same text, other bytes
    for _ in range(3):
        assert reports(inp, out) == 0
        d = _docs(out)[target.relative_to(out).as_posix()]
        assert d["status"] == "kept-edited" and "new_path" not in d
    assert not list(out.rglob("*_新版.docx"))


def test_renamed_member_leaves_an_orphan_that_is_listed_never_deleted(tmp_path, capsys):
    inp, out = _one_station(tmp_path), tmp_path / "out"
    assert reports(inp, out) == 0
    sheets = baseline()
    old_name = sheets["委員"][4]["氏名"]
    sheets["委員"][4]["氏名"] = old_name + "之"  # 阿部　浩 -> 阿部　浩之
    write_book(inp / "テスト署.xlsx", sheets)
    capsys.readouterr()
    assert reports(inp, out) == 0
    docs = _docs(out)
    orphans = [p for p, d in docs.items() if d["status"] == "orphaned"]
    assert len(orphans) == 1 and old_name in orphans[0] and old_name + "之" not in orphans[0]
    assert (out / orphans[0]).is_file() and docs[orphans[0]]["form"] == "委嘱状"
    assert any(old_name + "之" in p and d["status"] == "written" for p, d in docs.items())
    assert orphans[0].split("/")[-1] in capsys.readouterr().out  # named on screen too
    # Still listed on the next run; forgotten once the clerk deletes it.
    assert reports(inp, out) == 0
    assert _docs(out)[orphans[0]]["status"] == "orphaned"
    (out / orphans[0]).unlink()
    assert reports(inp, out) == 0
    assert orphans[0] not in _docs(out)


def test_regenerates_what_it_wrote_when_input_changes(tmp_path):
    inp, out = _one_station(tmp_path), tmp_path / "out"
    assert reports(inp, out) == 0
    sheets = baseline()
    sheets["会議"][0]["開催場所"] = "地区公民館"
    write_book(inp / "テスト署.xlsx", sheets)
    assert reports(inp, out) == 0
    docs = [d for w in load_json(out)["workbooks"] for d in w["documents"] if d["form"] == "開催結果報告書"]
    assert sorted(d["status"] for d in docs) == ["unchanged"] * 3 + ["written"]


def test_errors_block_documents_and_exit_1(tmp_path):
    sheets = baseline()
    # A member about to be appointed (交付日 on the as-of date) holds a 公職 (第6-4(1)); the report is dated then too.
    sheets["委員"][10].update(公職="市議会議員", 交付日=dt.date.fromisoformat(AS_OF))
    sheets["協議会"][0]["報告日"] = dt.date.fromisoformat(AS_OF)
    inp, out = _one_station(tmp_path, sheets), tmp_path / "out"
    assert reports(inp, out) == 1
    w = load_json(out)["workbooks"][0]
    assert w["status"] == "errors"
    blocked = [d for d in w["documents"] if d["status"] == "blocked"]
    assert [(d["form"], d["blocked_by"]) for d in blocked] == [
        ("委嘱状", ["public-office"]),
        ("設置報告書", ["public-office"]),
    ]
    assert not (out / blocked[0]["path"]).exists()
    written = [d for d in w["documents"] if d["status"] == "written"]
    assert len(written) == 19 + 4


def test_one_bad_workbook_never_stops_the_others(tmp_path):
    inp, out = _one_station(tmp_path), tmp_path / "out"
    (inp / "壊れた署.xlsx").write_bytes(b"not a workbook")
    (inp / "古い署.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    (inp / "~$テスト署.xlsx").write_bytes(b"lock")
    assert reports(inp, out) == 1
    books = {w["file"]: w for w in load_json(out)["workbooks"]}
    assert set(books) == {"テスト署.xlsx", "壊れた署.xlsx", "古い署.xls"}
    assert books["壊れた署.xlsx"]["status"] == "unreadable"
    assert books["壊れた署.xlsx"]["findings"][0]["rule"] == "file-unreadable"
    assert books["テスト署.xlsx"]["status"] == "ok" and books["テスト署.xlsx"]["documents"]


def test_names_are_sanitised_and_never_collide(tmp_path):
    sheets = baseline()
    c2 = dict(sheets["協議会"][0], 協議会ID="C2")
    sheets["協議会"].append(c2)  # same 名称, different ID
    sheets["協議会"][0]["名称"] = sheets["協議会"][1]["名称"] = "../一番町:交番*連絡協議会"
    sheets["署"][0]["値"] = "../../etc"
    inp, out = _one_station(tmp_path, sheets), tmp_path / "out"
    reports(inp, out)
    w = load_json(out)["workbooks"][0]
    paths = [d["path"] for d in w["documents"]]
    assert len(paths) == len(set(paths))
    for p in paths:
        assert ".." not in p and ":" not in p and "*" not in p
        assert (out / p).resolve().is_relative_to(out.resolve())
    reports_ = [d["path"] for d in w["documents"] if d["form"] == "設置報告書"]
    assert len(reports_) == 2
    assert not list(out.rglob(".tmp-*"))


def test_check_writes_findings_but_no_documents(tmp_path, capsys):
    sheets = baseline()
    sheets["協議会"][0]["名称"] = "一番町交番協議会"
    inp, out = _one_station(tmp_path, sheets), tmp_path / "out"
    code = main(["check", "--input", str(inp), "--output", str(out), "--as-of", AS_OF])
    assert code == 0
    printed = capsys.readouterr().out
    assert "council-name" in printed and "協議会!B2" in printed and "様式第2号注1" in printed
    assert load_json(out)["workbooks"][0]["documents"] == []
    assert not list(out.rglob("*.docx"))


@pytest.mark.parametrize(
    "argv",
    [
        ["reports", "--as-of", "2026/13/27"],
        ["reports", "--as-of", "きのう"],
        ["reports", "--bogus"],
        ["nonsense"],
        [],
        ["reports", "--input", "/nonexistent/folder"],
    ],
)
def test_bad_arguments_exit_2_with_a_japanese_message(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err and any("\u3040" <= ch <= "\u30ff" for ch in err)


@pytest.mark.parametrize("as_of", ["2026-11-27", "2026/11/27", "令和8年11月27日", "R8.11.27", "２０２６年１１月２７日"])
def test_as_of_accepts_what_a_date_cell_accepts(as_of, tmp_path):
    # SPEC section 6: --as-of accepts what the workbook accepts.
    main(["check", "--input", str(SAMPLES), "--output", str(tmp_path), "--as-of", as_of])
    assert load_json(tmp_path)["as_of"] == "2026-11-27"


def test_unwritable_output_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["check", "--input", str(SAMPLES), "--output", str(blocker / "sub")]) == 2
    assert "書き込めません" in capsys.readouterr().err


def test_module_entry_point_runs(tmp_path):
    import subprocess
    import sys

    inp = _one_station(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "check",
            "--input",
            str(inp),
            "--output",
            str(tmp_path / "o"),
            "--as-of",
            AS_OF,
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "テスト警察署" in proc.stdout


def test_output_folder_copy_keeps_working(tmp_path):
    """The manifest travels with the output folder: a moved folder still protects hand edits."""
    inp, out = _one_station(tmp_path), tmp_path / "out"
    reports(inp, out)
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    assert reports(inp, moved) == 0
    docs = [d for w in load_json(moved)["workbooks"] for d in w["documents"]]
    assert docs and not any(d["status"] in ("kept-edited", "orphaned", "blocked") for d in docs)
    assert tree_hashes(moved) == tree_hashes(out)  # nothing mistaken for a hand edit, nothing rewritten


WEIRD = [
    '=HYPERLINK("http://x")',
    "<w:t>&amp;</w:t>",
    "_x0001_制御_x001F_\t\r\n",  # escaped control characters, as Excel stores them
    "x" * 5000,
    "../../../etc/passwd",
    12345.678,
    True,
    "😀👮‍♀️",
    "　",
    "#REF!",
]


@pytest.mark.parametrize("value", WEIRD, ids=[f"weird{i}" for i in range(len(WEIRD))])
def test_any_cell_content_gives_findings_not_tracebacks(tmp_path, value):
    sheets = baseline()
    for name in ("協議会", "委員", "会議", "意見要望"):
        for rec in sheets[name][1:3]:
            for key in rec:
                if key not in ("協議会ID", "会議ID"):
                    rec[key] = value
    inp, out = _one_station(tmp_path, sheets), tmp_path / "out"
    code = reports(inp, out)
    assert code in (0, 1)
    report = load_json(out)
    for w in report["workbooks"]:
        for d in w["documents"]:
            if d["status"] == "written":
                Document(out / d["path"])
                assert (out / d["path"]).resolve().is_relative_to(out.resolve())
    assert not list(out.rglob(".tmp-*"))


def test_write_failure_is_a_finding_not_a_traceback(tmp_path):
    inp, out = _one_station(tmp_path), tmp_path / "out"
    assert reports(inp, out) == 0
    target = sorted((out / "テスト警察署" / "委嘱状").glob("*.docx"))[0]
    target.unlink()
    target.mkdir()  # a real refusal by the file system: a folder where the document should go
    assert reports(inp, out) == 1
    w = load_json(out)["workbooks"][0]
    rel = str(target.relative_to(out))
    doc = next(d for d in w["documents"] if d["path"] == rel)
    assert (doc["status"], doc["blocked_by"]) == ("blocked", ["write-failed"])
    f = next(f for f in w["findings"] if f["rule"] == "write-failed")
    assert f["sheet"] == "委員" and 2 <= f["row"] <= 21 and target.name in f["message"]
    assert "同じ名前のフォルダ" in f["message"] and "Word" not in f["message"]  # the real cause, not a guess
    others = [d for d in w["documents"] if d["path"] != rel]
    assert {d["status"] for d in others} == {"unchanged"}


@pytest.mark.parametrize(
    ("code", "says", "not_says"),
    [
        (errno.ENOSPC, "空き容量", "Word"),
        (errno.EACCES, "Word", "空き容量"),
        (errno.ENAMETOOLONG, "パスが長すぎ", "Word"),
        (errno.EROFS, "読み取り専用", "空き容量"),
    ],
)
def test_write_errors_name_their_real_cause(tmp_path, monkeypatch, code, says, not_says):
    import pipeline.core.write as write_mod

    inp, out = _one_station(tmp_path), tmp_path / "out"
    real = write_mod.atomic_write

    def refuse(path, data, **kw):
        if path.suffix == ".docx" and "委嘱状" in path.parts:
            raise OSError(code, os.strerror(code), str(path))
        real(path, data, **kw)

    monkeypatch.setattr(write_mod, "atomic_write", refuse)
    assert reports(inp, out) == 1
    w = load_json(out)["workbooks"][0]
    failed = [f for f in w["findings"] if f["rule"] == "write-failed"]
    blocked = [d for d in w["documents"] if d.get("blocked_by") == ["write-failed"]]
    assert failed and len(failed) == len(blocked) == sum(d["form"] == "委嘱状" for d in w["documents"])
    assert all(says in f["message"] and not_says not in f["message"] for f in failed)
    assert all(d["blocked_at"] == [d["path"]] for d in blocked)
    # The other forms were written, and the JSON and the annotated copy exist.
    assert {d["status"] for d in w["documents"] if d["form"] != "委嘱状"} == {"written"}
    assert (out / "テスト警察署" / "検証結果.xlsx").is_file()


def test_xlsm_annotated_copy_is_a_plain_xlsx(tmp_path):
    from openpyxl import load_workbook

    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsm", baseline())
    assert main(["check", "--input", str(inp), "--output", str(out), "--as-of", AS_OF]) == 0
    import zipfile

    annotated = out / "テスト警察署" / "検証結果.xlsx"
    with zipfile.ZipFile(annotated) as z:
        types = z.read("[Content_Types].xml").decode()
    assert "macroEnabled" not in types
    assert load_workbook(annotated).sheetnames[0] == "指摘一覧"


def test_empty_folder_says_so(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    assert reports(tmp_path / "in", tmp_path / "out") == 0
    assert "見つかりませんでした" in capsys.readouterr().err
    assert load_json(tmp_path / "out")["workbooks"] == []


def test_strict_blocks_on_warnings_end_to_end(tmp_path):
    sheets = baseline()
    sheets["協議会"][0]["名称"] = "一番町交番協議会"
    inp = _one_station(tmp_path, sheets)
    assert reports(inp, tmp_path / "normal") == 0
    assert {d["status"] for w in load_json(tmp_path / "normal")["workbooks"] for d in w["documents"]} == {"written"}
    assert reports(inp, tmp_path / "strict", "--strict") == 0
    docs = [d for w in load_json(tmp_path / "strict")["workbooks"] for d in w["documents"]]
    assert {(d["status"], tuple(d["blocked_by"])) for d in docs} == {("blocked", ("council-name",))}


def test_outputs_get_the_usual_permissions(tmp_path):
    import os
    import stat

    inp, out = _one_station(tmp_path), tmp_path / "out"
    reports(inp, out)
    mask = os.umask(0)
    os.umask(mask)
    for p in [out / "検証結果.json", *out.rglob("*.docx"), *out.rglob("*.xlsx")]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask, p


def _four_stations(tmp_path) -> Path:
    inp = tmp_path / "in"
    for i in range(4):
        sheets = baseline()
        sheets["署"][0]["値"] = f"第{i}警察署"
        if i == 2:  # a 委嘱状 not yet handed over, and a report dated today: public-office stops both
            sheets["委員"][10].update(公職="市議会議員", 交付日=dt.date.fromisoformat(AS_OF))
            sheets["協議会"][0]["報告日"] = dt.date.fromisoformat(AS_OF)
        write_book(inp / f"署{i}.xlsx", sheets)
    return inp


def test_parallel_run_equals_the_sequential_one(tmp_path, monkeypatch):
    import pipeline.run.steps as run_mod

    inp = _four_stations(tmp_path)
    assert reports(inp, tmp_path / "par") == 1  # 4 workbooks: the process pool is used
    monkeypatch.setattr(run_mod, "PARALLEL_MIN", 10**6)
    assert reports(inp, tmp_path / "seq") == 1
    assert tree_hashes(tmp_path / "par") == tree_hashes(tmp_path / "seq")
    assert load_json(tmp_path / "par") == load_json(tmp_path / "seq")
    manifests = [json.loads((tmp_path / d / ".manifest.json").read_text("utf-8")) for d in ("par", "seq")]
    assert manifests[0] == manifests[1] and len(manifests[0]["files"]) == 4 * 25 - 2


def test_parallel_run_keeps_hand_edits_and_reports_write_failures(tmp_path):
    inp, out = _four_stations(tmp_path), tmp_path / "out"
    reports(inp, out)
    edited = sorted((out / "第1警察署" / "委嘱状").glob("*.docx"))[0]
    doc = Document(edited)
    doc.paragraphs[1].runs[0].text = "手で直した"
    doc.save(edited)
    locked = sorted((out / "第3警察署" / "開催結果報告書").glob("*.docx"))[0]
    locked.unlink()
    locked.mkdir()
    before = edited.read_bytes()
    assert reports(inp, out) == 1
    assert edited.read_bytes() == before
    docs = {d["path"]: d for w in load_json(out)["workbooks"] for d in w["documents"]}
    assert docs[str(edited.relative_to(out))]["status"] == "kept-edited"
    assert docs[str(locked.relative_to(out))]["blocked_by"] == ["write-failed"]
    findings = [f["rule"] for w in load_json(out)["workbooks"] if w["station"] == "第3警察署" for f in w["findings"]]
    assert findings == ["write-failed"]


def test_spawned_workers_do_not_rerun_the_cli():
    """A "spawn" worker imports the main module as __mp_main__: that must not start another run."""
    import runpy

    runpy.run_module("pipeline", run_name="__mp_main__")  # would raise SystemExit without the guard


def test_spawn_pool_from_the_command_line(tmp_path):
    """The pool path as `python -m pipeline` runs it, with the spawn start method forced."""
    import subprocess
    import sys

    inp = _four_stations(tmp_path)
    code = (
        "import sys, multiprocessing as mp, pipeline.run.steps as r;"
        "mp.get_all_start_methods = lambda: ['spawn'];"
        "from pipeline.cli import main;"
        f"sys.exit(main(['reports', '--input', r'{inp}', '--output', r'{tmp_path / 'out'}', '--as-of', '{AS_OF}']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=SAMPLES.parent)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(list((tmp_path / "out").rglob("*.docx"))) == 4 * 25 - 2


def test_two_workbooks_of_one_station_warn_and_keep_separate_folders(tmp_path, monkeypatch):
    """泉警察署.xlsx and 泉警察署 - コピー.xlsx: a warning on both, two folders, also across watch runs."""
    import pipeline.run.watch as watch_mod

    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    shutil.copy(inp / "テスト署.xlsx", inp / "テスト署 - コピー.xlsx")
    assert reports(inp, out) == 0
    report = load_json(out)
    books = {w["file"]: w for w in report["workbooks"]}
    for w in books.values():
        dup = [f for f in w["findings"] if f["rule"] == "duplicate-station"]
        assert len(dup) == 1 and dup[0]["severity"] == "warning" and dup[0]["article"] == "入力規則"
        assert (dup[0]["sheet"], dup[0]["cell"], dup[0]["row"]) == ("署", "B1", 1)  # the 警察署名 cell
        assert "テスト署.xlsx" in dup[0]["message"] and "テスト署 - コピー.xlsx" in dup[0]["message"]
    folders = {f: {d["path"].split("/")[0] for d in w["documents"]} for f, w in books.items()}
    assert folders == {"テスト署 - コピー.xlsx": {"テスト警察署"}, "テスト署.xlsx": {"テスト警察署_2"}}

    # watch re-reads only the saved copy: it must keep writing into its own folder.
    def fake_watch(folder, on_change, log, **kw):
        on_change([folder / "テスト署.xlsx"])

    monkeypatch.setattr(watch_mod, "watch", fake_watch)
    assert main(["watch", "--input", str(inp), "--output", str(out), "--as-of", AS_OF]) == 0
    again = {w["file"]: w for w in load_json(out)["workbooks"]}
    assert {d["path"].split("/")[0] for d in again["テスト署.xlsx"]["documents"]} == {"テスト警察署_2"}
    assert not any(d["status"] in ("kept-edited", "orphaned") for w in again.values() for d in w["documents"])


def test_same_input_gives_the_same_bytes_in_separate_processes(tmp_path):
    """Determinism across processes (hash seeds, dict order, pool or not): docx, JSON and pages byte-identical."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}"
        # SOURCE_DATE_EPOCH fixes the run's clock: pages say when they were made.
        env = {**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": "1796000000"}
        cmd = [sys.executable, "-m", "pipeline", "reports", "--input", str(SAMPLES), "--output", str(out)]
        done = subprocess.run([*cmd, "--as-of", AS_OF], cwd=root, env=env, capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr.decode()
        outs.append(out)
    for pattern in ("*.docx", "検証結果.json", "*.html"):
        first, second = (tree_hashes(o, pattern) for o in outs)
        assert first and first == second, pattern
