"""Incremental re-runs give what a clean run gives, after every kind of change (issue: work proportional to it)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

import pipeline.checking.validate
import pipeline.run.record as cache_mod
from pipeline.core import version
from pipeline.report import RunOptions
from pipeline.run.steps import reports
from tests.builders import AS_OF, baseline, write_book

ROOT = Path(__file__).resolve().parents[1]


def _station(folder: Path, file: str, name: str, place: str = "一番町交番") -> None:
    sheets = baseline()
    sheets["署"][0]["値"] = name
    for m in sheets["会議"]:
        m["開催場所"] = place
    write_book(folder / file, sheets)


def _elections(folder: Path, notice: dt.date) -> None:
    write_book(
        folder / "選挙期間.xlsx",
        {"選挙期間": [{"選挙名": "県議会議員選挙", "告示日": notice, "投票日": notice + dt.timedelta(days=9)}]},
    )


def _input(tmp: Path) -> Path:
    inp = tmp / "in"
    _station(inp, "A署.xlsx", "A警察署")
    _station(inp, "B署.xlsx", "B警察署")
    _station(inp, "C署.xlsx", "C警察署")
    _elections(inp, dt.date(2025, 6, 1))
    return inp


def _undated(page: str) -> str:
    """A page without the time the run made it (a page kept from an earlier run says when that run was)."""
    return re.sub(r'<span data-key="made-at">[^<]*</span>', "", page)


def _snapshot(out: Path) -> dict:
    """What the clerk sees: findings, documents (status modulo written/unchanged) and their bytes, the copies."""
    data = json.loads((out / "検証結果.json").read_text("utf-8"))
    books = []
    for w in data["workbooks"]:
        docs = []
        for d in w["documents"]:
            status = "current" if d["status"] in ("written", "unchanged") else d["status"]
            digest = hashlib.sha256((out / d["path"]).read_bytes()).hexdigest() if status == "current" else None
            docs.append((d["form"], d["path"], status, digest))
        books.append((w["file"], w["station"], w["status"], w["findings"], docs))
    copies = {}
    for p in sorted(out.glob("*/検証結果.xlsx")):
        if not any(p.parent.name == (w["station"] or "") for w in data["workbooks"]):
            continue  # a station no longer in the input: its old folder stays, untouched
        wb = load_workbook(p)
        copies[p.parent.name] = {
            ws.title: [
                [(c.value, c.fill.fgColor.rgb if c.fill.fill_type else None, c.comment.text if c.comment else None)]
                for row in ws.iter_rows()
                if row[0].value != "作成日時"  # when the run that made the copy ran, as the pages' made-at
                for c in row
            ]
            for ws in wb.worksheets
            if ws.title != "作成状況"  # it names this run's statuses (作成 / 変更なし)
        }
    pages = {"index.html": _undated((out / "index.html").read_text("utf-8"))}
    for w in data["workbooks"]:
        if w["station"]:
            # Up to its table of this run's document statuses (作成 / 変更なし), the page must be the same.
            page = (out / w["station"] / "概要.html").read_text("utf-8")
            pages[w["station"]] = _undated(page.split('<h2 id="documents">')[0])
    return {"as_of": data["as_of"], "books": books, "copies": copies, "pages": pages}


def _edit(inp: Path) -> None:
    _station(inp, "B署.xlsx", "B警察署", place="地区公民館")


def _add(inp: Path) -> None:
    _station(inp, "D署.xlsx", "D警察署")


def _remove(inp: Path) -> None:
    (inp / "C署.xlsx").unlink()


def _rename(inp: Path) -> None:
    (inp / "A署.xlsx").rename(inp / "A署（令和8年度）.xlsx")


def _copy_of_a_station(inp: Path) -> None:
    shutil.copy(inp / "A署.xlsx", inp / "A署 - コピー.xlsx")  # duplicate-station on both, an unchanged one too


def _elections_changed(inp: Path) -> None:
    _elections(inp, dt.date(2024, 6, 8))  # now the 2024-06-10 meeting falls in the campaign


CHANGES = [
    ("workbook edited", _edit),
    ("workbook added", _add),
    ("workbook removed", _remove),
    ("workbook renamed", _rename),
    ("copy of a station", _copy_of_a_station),
    ("elections changed", _elections_changed),
]


@pytest.mark.parametrize(("label", "change"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_rerun_after_a_change_equals_a_clean_run(tmp_path, label, change):
    inp = _input(tmp_path)
    out = tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF))
    change(inp)
    again = reports(inp, out, RunOptions(as_of=AS_OF))
    clean = tmp_path / "clean"
    reports(inp, clean, RunOptions(as_of=AS_OF))
    assert _snapshot(out) == _snapshot(clean)
    assert not again.same_as_last  # the change was seen


def test_nothing_changed_takes_everything_from_the_record(tmp_path):
    inp, out = _input(tmp_path), tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF))
    copies = {p: p.stat().st_mtime_ns for p in out.glob("*/検証結果.xlsx")}
    first = json.loads((out / "検証結果.json").read_text("utf-8"))
    again = reports(inp, out, RunOptions(as_of=AS_OF))
    assert again.workbooks and all(wr.cached for wr in again.workbooks)
    # The same findings; every document the first run wrote is `unchanged` now (this run wrote none of them).
    second = json.loads((out / "検証結果.json").read_text("utf-8"))
    for w in first["workbooks"]:
        for d in w["documents"]:
            d["status"] = "unchanged" if d["status"] == "written" else d["status"]
    assert second == first
    assert {p: p.stat().st_mtime_ns for p in copies} == copies  # 検証結果.xlsx not rewritten
    clean = tmp_path / "clean"
    reports(inp, clean, RunOptions(as_of=AS_OF))
    assert _snapshot(out) == _snapshot(clean)


@pytest.mark.parametrize("what", ["as-of date", "strict"])
def test_a_change_outside_the_workbooks_redoes_them_all(tmp_path, what):
    inp, out = _input(tmp_path), tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF))
    if what == "as-of date":
        options = RunOptions(as_of=dt.date(2027, 5, 1))  # other terms serve, other findings
    else:
        options = RunOptions(as_of=AS_OF, strict=True)
    again = reports(inp, out, options)
    assert not any(wr.cached for wr in again.workbooks)
    clean = tmp_path / "clean"
    reports(inp, clean, options)
    assert _snapshot(out) == _snapshot(clean)


def _as_an_earlier_version_wrote_it(out: Path, path: Path, data: bytes) -> None:
    """The file as the program before the upgrade wrote it: other bytes, recorded in the manifest as ours."""
    path.write_bytes(data)
    manifest = json.loads((out / ".manifest.json").read_text("utf-8"))
    rel = path.relative_to(out).as_posix()
    if rel in manifest["files"]:
        manifest["files"][rel] = hashlib.sha256(data).hexdigest()
    (out / ".manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


def _upgrade(monkeypatch) -> None:
    """A new release: the program's output version changes (SPEC section 4: it re-renders every unedited
    document, whatever its date, and keeps the hand-edited ones without a _新版)."""
    real = version.output_version
    monkeypatch.setattr(version, "output_version", lambda: real() + "-next")


def test_an_upgrade_rerenders_every_output_still_ours_and_keeps_hand_edits(tmp_path, monkeypatch):
    inp, out = _input(tmp_path), tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF))
    clean = tmp_path / "clean"
    reports(inp, clean, RunOptions(as_of=AS_OF))
    docs = sorted((out / "A警察署" / "委嘱状").glob("*.docx"))
    old, edited = docs[0], docs[1]
    # What the earlier release wrote differs from what this one writes (the fix that made copies open in
    # Excel without a repair, for one): stand-ins with other bytes, recorded as the run's own.
    _as_an_earlier_version_wrote_it(out, old, old.read_bytes() + b"earlier release")
    copy = out / "A警察署" / "検証結果.xlsx"
    _as_an_earlier_version_wrote_it(out, copy, (out / "B警察署" / "検証結果.xlsx").read_bytes())
    clerk = edited.read_bytes() + b"\0"  # stands in for the clerk's edit in Word
    edited.write_bytes(clerk)
    _upgrade(monkeypatch)
    again = reports(inp, out, RunOptions(as_of=AS_OF))
    docs_now = {d.path: d for wr in again.workbooks for d in wr.documents}
    rel = lambda p: p.relative_to(out).as_posix()  # noqa: E731
    assert docs_now[rel(old)].status == "written"
    assert old.read_bytes() == (clean / rel(old)).read_bytes()  # re-rendered by this release
    assert copy.read_bytes() != (out / "B警察署" / "検証結果.xlsx").read_bytes()
    assert _snapshot(out)["copies"]["A警察署"] == _snapshot(clean)["copies"]["A警察署"]
    kept = docs_now[rel(edited)]
    assert kept.status == "kept-edited" and getattr(kept, "form_changed", False) and kept.new_path is None
    assert edited.read_bytes() == clerk  # untouched
    assert not list(out.rglob("*_新版*"))  # a mere upgrade writes no 新版
    report = json.loads((out / "検証結果.json").read_text("utf-8"))
    listed = {d["path"]: d for w in report["workbooks"] for d in w["documents"]}
    assert listed[rel(edited)] == {"form": "委嘱状", "path": rel(edited), "status": "kept-edited", "form_changed": True}
    for path in listed:  # every other document: the bytes this release writes
        if path != rel(edited):
            assert (out / path).read_bytes() == (clean / path).read_bytes()
    # The next run, with nothing changed, says the same of the clerk's file and still writes no 新版.
    third = reports(inp, out, RunOptions(as_of=AS_OF))
    kept = {d.path: d for wr in third.workbooks for d in wr.documents}[rel(edited)]
    assert kept.status == "kept-edited" and getattr(kept, "form_changed", False) and not list(out.rglob("*_新版*"))


def test_a_record_change_after_an_upgrade_writes_a_new_version_beside_a_hand_edit(tmp_path, monkeypatch):
    inp, out = _input(tmp_path), tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF))
    meeting = sorted((out / "B警察署" / "開催結果報告書").glob("*.docx"))[0]
    meeting.write_bytes(meeting.read_bytes() + b"\0")
    _upgrade(monkeypatch)
    _edit(inp)  # B's meetings now held elsewhere: the record of the edited report changed
    again = reports(inp, out, RunOptions(as_of=AS_OF))
    d = {d.path: d for wr in again.workbooks for d in wr.documents}[meeting.relative_to(out).as_posix()]
    assert d.status == "kept-edited" and d.new_path and (out / d.new_path).exists()


def test_a_third_copy_of_a_station_updates_the_first_two(tmp_path):
    """Cross-workbook findings are compared as findings: the first two copies' 検証結果.xlsx say 3冊 too."""
    inp, out = _input(tmp_path), tmp_path / "out"
    shutil.copy(inp / "A署.xlsx", inp / "A署 - コピー.xlsx")
    reports(inp, out, RunOptions(as_of=AS_OF))
    shutil.copy(inp / "A署.xlsx", inp / "A署（3冊目）.xlsx")  # sorted last: the first two keep their folders
    reports(inp, out, RunOptions(as_of=AS_OF))
    report = json.loads((out / "検証結果.json").read_text("utf-8"))
    copies = [w for w in report["workbooks"] if w["station"] == "A警察署"]
    assert len(copies) == 3
    for w in copies:
        dup = [f for f in w["findings"] if f["rule"] == "duplicate-station"]
        assert len(dup) == 1 and "3冊" in dup[0]["message"], w["file"]
    for folder in ("A警察署", "A警察署_2", "A警察署_3"):
        wb = load_workbook(out / folder / "検証結果.xlsx", read_only=True)
        listed = [row for row in wb["指摘一覧"].iter_rows(values_only=True) if "duplicate-station" in row]
        assert len(listed) == 1 and "3冊" in listed[0][-1], folder
    clean = tmp_path / "clean"
    reports(inp, clean, RunOptions(as_of=AS_OF))
    assert _snapshot(out) == _snapshot(clean)


def test_a_document_deleted_or_edited_by_the_clerk_is_seen(tmp_path):
    inp, out = _input(tmp_path), tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF))
    docs = sorted((out / "A警察署" / "委嘱状").glob("*.docx"))
    docs[0].unlink()  # "to go back to the generated version the clerk deletes the file and re-runs"
    docs[1].write_bytes(docs[1].read_bytes() + b"\0")  # stands in for an edit
    again = reports(inp, out, RunOptions(as_of=AS_OF))
    status = {d.path: d.status for wr in again.workbooks for d in wr.documents}
    rel = [d.relative_to(out).as_posix() for d in docs[:2]]
    assert status[rel[0]] == "written" and docs[0].exists()
    assert status[rel[1]] == "kept-edited"


def test_a_run_killed_part_way_is_completed_by_the_next(tmp_path, monkeypatch):
    import pipeline.run.steps as run_mod

    inp, out = _input(tmp_path), tmp_path / "out"
    real = run_mod.write_documents
    calls = []

    def dies_on_the_second(wr, *args, **kw):
        calls.append(wr.folder)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the clerk closes the window
        return real(wr, *args, **kw)

    monkeypatch.setattr(run_mod, "write_documents", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        reports(inp, out, RunOptions(as_of=AS_OF))
    monkeypatch.setattr(run_mod, "write_documents", real)
    again = reports(inp, out, RunOptions(as_of=AS_OF))
    assert not any(d.status == "kept-edited" for wr in again.workbooks for d in wr.documents)
    clean = tmp_path / "clean"
    reports(inp, clean, RunOptions(as_of=AS_OF))
    assert _snapshot(out) == _snapshot(clean)


def test_a_rerun_with_nothing_changed_does_not_import_pandas(tmp_path):
    inp, out = _input(tmp_path), tmp_path / "out"
    args = ["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()]
    code = (
        f"import sys; from pipeline.cli import main; code = main({args!r}); "
        "print('LOADED', sorted(m for m in ('pandas', 'pandera', 'openpyxl', 'docxtpl') if m in sys.modules)); "
        "sys.exit(code)"
    )
    first = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0 and "'pandas'" in first.stdout  # the first run needs it
    again = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "LOADED []" in again.stdout, again.stdout[-500:]


def _forget_models(out: Path) -> None:
    """Everything the run record keeps besides the record itself (the stored models, whatever their form)."""
    keep = {cache_mod.RECORD, cache_mod.REPORT_NOTE}
    for p in (out / cache_mod.CACHE_DIR).iterdir():
        if p.is_file() and p.name not in keep:
            p.unlink()


def test_what_the_record_holds_is_enough_for_a_rerun(tmp_path, monkeypatch):
    """SPEC section 4: a workbook whose inputs are as they were is taken from the run record, neither
    validated nor rendered; its findings, its line of the index and its copy come from the record, and only
    what needs its model (its page, drawn again) validates it again. With the stored models gone, the
    workbooks validated are exactly the ones that changed or need their model."""
    inp, out = _input(tmp_path), tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF))
    validated: list[str] = []
    real = pipeline.checking.validate.validate_workbook
    monkeypatch.setattr(
        pipeline.checking.validate,
        "validate_workbook",
        lambda path, *a, **k: validated.append(path.name) or real(path, *a, **k),
    )
    _forget_models(out)
    again = reports(inp, out, RunOptions(as_of=AS_OF))
    assert again.same_as_last and validated == []
    _edit(inp)  # B changed: B is validated, A and C stay on the index page from the record
    _forget_models(out)
    reports(inp, out, RunOptions(as_of=AS_OF))
    assert validated == ["B署.xlsx"]
    (out / "A警察署" / "検証結果.xlsx").unlink()  # made again from the workbook and the recorded findings
    _forget_models(out)
    reports(inp, out, RunOptions(as_of=AS_OF))
    assert validated == ["B署.xlsx"] and (out / "A警察署" / "検証結果.xlsx").exists()
    (out / "A警察署" / "概要.html").unlink()  # A's page is drawn from A's model
    _forget_models(out)
    reports(inp, out, RunOptions(as_of=AS_OF))
    assert validated == ["B署.xlsx", "A署.xlsx"] and (out / "A警察署" / "概要.html").exists()
    clean = tmp_path / "clean"
    reports(inp, clean, RunOptions(as_of=AS_OF))
    assert _snapshot(out) == _snapshot(clean)


@pytest.mark.parametrize("damage", ["deleted", "truncated", "not a model"])
def test_a_damaged_model_pickle_is_rebuilt_from_the_workbook(tmp_path, damage):
    """A power cut can leave a pickle half written (they are not fsync'd): the model is validated again."""
    inp, out = _input(tmp_path), tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF))
    for p in (out / cache_mod.CACHE_DIR).glob("*.pickle"):
        if damage == "deleted":
            p.unlink()
        elif damage == "truncated":
            p.write_bytes(p.read_bytes()[:100])
        else:
            p.write_bytes(cache_mod.pickle.dumps({"not": "a book"}))
    _edit(inp)  # B is validated against the election list's model
    (out / "A警察署" / "概要.html").unlink()  # and A's page must be drawn again from its model
    again = reports(inp, out, RunOptions(as_of=AS_OF))
    assert any(wr.cached for wr in again.workbooks)
    clean = tmp_path / "clean"
    reports(inp, clean, RunOptions(as_of=AS_OF))
    assert _snapshot(out) == _snapshot(clean)


def test_nothing_changed_rewrites_neither_report_nor_manifest_but_restores_a_deleted_report(tmp_path):
    inp, out = _input(tmp_path), tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF))
    report, manifest = out / "検証結果.json", out / ".manifest.json"
    stamps = (report.stat().st_mtime_ns, manifest.stat().st_mtime_ns)
    first = report.read_bytes()
    assert reports(inp, out, RunOptions(as_of=AS_OF)).same_as_last  # says `unchanged` now: written once more
    stamps = (report.stat().st_mtime_ns, manifest.stat().st_mtime_ns)
    first = report.read_bytes()
    assert b'"written"' not in first
    assert reports(inp, out, RunOptions(as_of=AS_OF)).same_as_last
    assert (report.stat().st_mtime_ns, manifest.stat().st_mtime_ns) == stamps
    report.write_text("{}", "utf-8")  # edited (or damaged) by someone: written again
    reports(inp, out, RunOptions(as_of=AS_OF))
    assert report.read_bytes() == first
    report.unlink()  # deleted: written again
    reports(inp, out, RunOptions(as_of=AS_OF))
    assert report.read_bytes() == first


def test_a_deleted_manifest_is_rebuilt_and_no_document_is_taken_for_a_hand_edit(tmp_path):
    """Without .manifest.json no document is known as ours: the run works everything out again, adopts the
    files that are as it would write them, and writes the manifest again, so later changes are not 新版."""
    inp, out = _input(tmp_path), tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF))
    (out / ".manifest.json").unlink()
    again = reports(inp, out, RunOptions(as_of=AS_OF))
    assert not any(wr.cached for wr in again.workbooks)
    assert {d.status for wr in again.workbooks for d in wr.documents} <= {"unchanged", "blocked"}
    assert (out / ".manifest.json").exists()
    _edit(inp)
    after = reports(inp, out, RunOptions(as_of=AS_OF))
    assert not any(d.status == "kept-edited" for wr in after.workbooks for d in wr.documents)


def test_an_upgrade_converts_the_pdfs_again(tmp_path, monkeypatch):
    """A PDF is an output too: one made by an earlier output version is made again, even of a hand-edited
    document whose .docx is kept; with nothing changed, none is."""
    import pipeline.documents.pdf as pdf_mod

    converted: list[Path] = []

    def convert(files):  # LibreOffice stands aside: what matters is which files are sent to it
        converted.extend(files)
        out = {}
        for f in files:
            f.with_suffix(".pdf").write_bytes(b"%PDF-1.4 " + f.name.encode())
            out[f] = f.with_suffix(".pdf")
        return out

    monkeypatch.setattr(pdf_mod, "convert", convert)
    monkeypatch.setattr(pdf_mod, "bundle", lambda pdfs, target: None)
    inp, out = _input(tmp_path), tmp_path / "out"
    reports(inp, out, RunOptions(as_of=AS_OF, pdf=True))
    first = sorted(converted)
    assert first
    converted.clear()
    reports(inp, out, RunOptions(as_of=AS_OF, pdf=True))
    assert converted == []  # nothing changed: every PDF is current
    edited = sorted((out / "A警察署" / "委嘱状").glob("*.docx"))[0]
    edited.write_bytes(edited.read_bytes() + b"\0")
    future = edited.stat().st_mtime - 3600  # older than its PDF: only the upgrade makes that PDF stale
    os.utime(edited, (future, future))
    _upgrade(monkeypatch)
    reports(inp, out, RunOptions(as_of=AS_OF, pdf=True))
    assert sorted(converted) == first
