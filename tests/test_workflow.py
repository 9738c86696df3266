"""Clerk workflow: the annotated copy, the blank template, and the watch folder."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.styles import PatternFill

from pipeline.checking.result import Options
from pipeline.checking.validate import validate_workbook
from pipeline.cli import main
from pipeline.core.write import ANNOTATED
from pipeline.run.watch import watch
from pipeline.workbooks.annotate import LIST_SHEET, STATUS_SHEET
from pipeline.workbooks.template_xlsx import write_template
from tests.builders import AS_OF, baseline, merge_council_ids, write_book

AS_OF_S = AS_OF.isoformat()


def _bad_book(tmp_path) -> Path:
    sheets = baseline()
    sheets["委員"][10]["公職"] = "=市議会議員"  # an error, written as a formula-looking string
    # Its 委嘱状 is dated the as-of date, as is the 設置報告書: not yet handed over, so the error stops both.
    sheets["委員"][10]["交付日"] = AS_OF
    sheets["協議会"][0]["報告日"] = AS_OF
    sheets["協議会"][0]["名称"] = "一番町交番協議会"  # a warning
    sheets["委員"][19]["任期満了日"] = "2027/1/10"
    sheets["委員"][19]["任期変更"] = "短縮"  # info
    src = write_book(tmp_path / "in" / "テスト署.xlsx", sheets)
    # The formula-looking text must be plain text in the input too.
    wb = load_workbook(src)
    wb["委員"]["J12"].data_type = "s"
    wb.save(src)
    return src


def test_annotated_copy_marks_cells_and_lists_findings(tmp_path):
    src = _bad_book(tmp_path)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "out"
    code = main(["check", "--input", str(src.parent), "--output", str(out), "--as-of", AS_OF_S])
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    # _bad_book plants 公職 「=市議会議員」 on a serving member: a public-office error (第6-4(1)), and SPEC
    # section 6 says exit code 1 when there are error findings.
    assert code == 1
    result = validate_workbook(src, Options(as_of=AS_OF))
    wb = load_workbook(out / "テスト警察署" / ANNOTATED)
    assert wb.sheetnames[0] == LIST_SHEET
    listing = wb[LIST_SHEET]
    rows = list(listing.iter_rows(min_row=2, values_only=True))
    # The last line says when the copy was made (a later run that keeps it does not change it).
    assert rows[-1][0] == "作成日時" and "の実行で作成" in rows[-1][6]
    rows = rows[:-1]
    assert len(rows) == len(result.findings)
    by_rule = {r[2]: r for r in rows}
    assert {"council-name", "term-expiry"} <= set(by_rule)
    colours = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
    order = ["error", "warning", "info"]
    worst: dict[tuple[str, str], str] = {}
    for f in result.findings:
        if f.cell:
            key = (f.sheet, f.cell)
            worst[key] = min(worst.get(key, "info"), f.severity.value, key=order.index)
            cell = wb[f.sheet][f.cell]
            assert f.message in cell.comment.text and f.article in cell.comment.text
    assert worst
    for (sheet, addr), sev in worst.items():
        assert wb[sheet][addr].fill.fgColor.rgb.endswith(colours[sev]), (sheet, addr, sev)
    name_cell = wb["協議会"]["B2"]
    assert name_cell.fill.fgColor.rgb.endswith("FFEB9C")
    expiry = wb["委員"]["L21"]
    assert expiry.fill.fgColor.rgb.endswith("DDEBF7")
    # Hyperlinks jump to the cell; messages are text, never formulas.
    assert by_rule["council-name"][3] == "協議会の名称"  # the rule's short Japanese name beside its id
    links = [c.hyperlink.location for c in listing["F"][1:] if c.hyperlink]
    assert "'協議会'!B2" in links
    for row in listing.iter_rows(min_row=2):
        for c in row:
            assert c.data_type != "f"


def test_status_sheet_lists_every_document_and_links_a_stopped_one_to_its_cell(tmp_path):
    src = _bad_book(tmp_path)
    out = tmp_path / "out"
    assert main(["reports", "--input", str(src.parent), "--output", str(out), "--as-of", AS_OF_S]) == 1
    data = json.loads((out / "検証結果.json").read_text("utf-8"))
    docs = data["workbooks"][0]["documents"]
    wb = load_workbook(out / "テスト警察署" / ANNOTATED)
    assert wb.sheetnames[:2] == [LIST_SHEET, STATUS_SHEET]
    rows = list(wb[STATUS_SHEET].iter_rows(min_row=2))
    assert rows[-1][0].value.startswith("作成日時：")
    rows = rows[:-1]
    assert len(rows) == len(docs)
    stopped = [r for r in rows if r[2].value == "作成を停止"]
    # The planted public-office error stops that member's 委嘱状 and the council's 設置報告書.
    assert sorted(r[0].value for r in stopped) == ["委嘱状", "設置報告書"]
    for r in stopped:
        assert "public-office" in r[3].value and "公職" in r[4].value
        assert r[5].hyperlink.location == "'委員'!J12"


def test_annotated_copy_given_back_as_input_carries_only_this_runs_marks(tmp_path):
    """A clerk fixes the cells inside 検証結果.xlsx and drops it back as input."""
    src = _bad_book(tmp_path)
    wb = load_workbook(src)
    wb["委員"]["B3"].fill = PatternFill("solid", fgColor="FF00B050")  # the clerk's own green fill
    wb.save(src)
    first = tmp_path / "out1"
    main(["check", "--input", str(src.parent), "--output", str(first), "--as-of", AS_OF_S])
    fed = tmp_path / "again"
    fed.mkdir()
    shutil.copy(first / "テスト警察署" / ANNOTATED, fed / ANNOTATED)
    wb = load_workbook(fed / ANNOTATED)
    wb["委員"]["J12"].value = None  # the public-office error fixed
    wb["協議会"]["B2"].value = "一番町交番連絡協議会"  # the warning fixed
    wb.save(fed / ANNOTATED)
    second = tmp_path / "out2"
    assert main(["check", "--input", str(fed), "--output", str(second), "--as-of", AS_OF_S]) == 0
    data = json.loads((second / "検証結果.json").read_text("utf-8"))
    assert {f["rule"] for w in data["workbooks"] for f in w["findings"]} == {"term-expiry"}
    wb = load_workbook(second / "テスト警察署" / ANNOTATED)
    for sheet, addr in (("委員", "J12"), ("協議会", "B2")):
        assert wb[sheet][addr].comment is None and wb[sheet][addr].fill.fill_type is None, addr
    assert wb["委員"]["B3"].fill.fgColor.rgb.endswith("00B050")  # the clerk's own fill is kept
    assert wb["委員"]["L21"].fill.fgColor.rgb.endswith("DDEBF7")  # this run's mark
    assert wb.sheetnames.count(LIST_SHEET) == 1 and len(list(wb[LIST_SHEET].iter_rows(min_row=2))) == 2  # +作成日時


def test_template_has_every_sheet_header_and_drop_down(tmp_path):
    path = tmp_path / "雛形.xlsx"
    assert main(["template", str(path)]) == 0
    wb = load_workbook(path)
    assert wb.sheetnames == ["説明", "署", "署長", "協議会", "委員", "会議", "意見要望", "選挙期間"]
    assert [c.value for c in wb["委員"][1]][:3] == ["協議会ID", "氏名", "ふりがな"]
    lists = {
        sheet: {str(dv.sqref).split(":")[0][:-1]: dv.formula1 for dv in wb[sheet].data_validations.dataValidation}
        for sheet in ("協議会", "委員", "会議")
    }
    assert lists["協議会"]["C"] == '"所管区,単位,職種等"'
    assert "駐在所（単独配置）" in lists["協議会"]["G"]
    assert "自治会等役員" in lists["委員"]["I"]
    assert lists["会議"]["C"] == '"定例,臨時"'
    # Free-text columns with suggestions (SPEC section 2: 退任理由, 廃止理由 accept free text).
    assert lists["委員"]["R"] == '"辞任,解嘱（公職）,死亡,転出,その他"'
    assert lists["協議会"]["P"] == '"統合,分割,移管,廃止"'
    assert [c.value for c in wb["署長"][1]][:2] == ["氏名", "着任日"]
    assert wb["委員"].freeze_panes == "A2"
    assert "ggge" in wb["委員"]["K3"].number_format
    explained = " ".join(str(v) for row in wb["説明"].iter_rows(values_only=True) for v in row if v)
    assert "記入例" in explained and "公職" in explained and "シート「署長」" in explained


def test_blank_template_and_a_filled_template_validate(tmp_path):
    path = tmp_path / "雛形.xlsx"
    write_template(path)
    empty = validate_workbook(path, Options(as_of=AS_OF))
    # Only the station name is asked for: everything else is empty, not wrong.
    assert [(f.rule, f.column) for f in empty.findings] == [("required-value", "警察署名")]
    wb = load_workbook(path)
    sheets = baseline()
    wb["署"]["B2"] = "テスト警察署"
    for name in ("協議会", "委員", "会議", "意見要望", "選挙期間"):
        ws = wb[name]
        headers = [c.value for c in ws[1]]
        for i, rec in enumerate(sheets[name], start=3):
            for key, value in rec.items():
                ws.cell(i, headers.index(key) + 1, value)
    wb.save(path)
    filled = validate_workbook(path, Options(as_of=AS_OF))
    assert filled.findings == []
    assert len(filled.book.members) == 20 and len(filled.book.meetings) == 4


def test_a_council_typed_over_the_example_row_is_read_with_a_warning(tmp_path):
    """The clerk types the first council over the grey 記入例 row and leaves its marker there."""
    path = tmp_path / "雛形.xlsx"
    write_template(path)
    wb = load_workbook(path)
    wb["署"]["B2"] = "テスト警察署"
    sheets = baseline()
    for name, first_row in (("協議会", 2), ("委員", 3), ("会議", 3), ("意見要望", 3)):
        ws = wb[name]
        headers = [c.value for c in ws[1]]
        for i, rec in enumerate(sheets[name], start=first_row):
            for key, value in rec.items():
                ws.cell(i, headers.index(key) + 1, value)
    marker = next(c for c in wb["協議会"][2] if c.value == "記入例")
    wb.save(path)
    r = validate_workbook(path, Options(as_of=AS_OF))
    assert [c.id for c in r.book.councils] == ["C1"]  # the typed-over row is a record
    assert [(f.rule, f.severity.value, f.sheet, f.cell) for f in r.findings] == [
        ("example-row", "warning", "協議会", marker.coordinate)
    ]
    assert "記入例" in r.findings[0].message
    # End to end: the council's documents are written; no 協議会ID is reported missing.
    out = tmp_path / "out"
    assert main(["reports", "--input", str(tmp_path), "--output", str(out), "--as-of", AS_OF_S]) == 0
    data = json.loads((out / "検証結果.json").read_text("utf-8"))
    rules = {f["rule"] for w in data["workbooks"] for f in w["findings"]}
    assert rules == {"example-row"}
    docs = [d for w in data["workbooks"] for d in w["documents"]]
    assert {d["form"] for d in docs} == {"委嘱状", "設置報告書", "開催結果報告書"}
    assert all(d["status"] == "written" for d in docs)
    copy = load_workbook(out / "テスト警察署" / ANNOTATED)
    assert copy["協議会"][marker.coordinate].comment is not None  # the marker cell carries the warning


def test_watch_regenerates_a_dropped_workbook(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    calls: list[list[Path]] = []
    stop = threading.Event()
    t = threading.Thread(target=watch, args=(folder, calls.append), kwargs={"stop": stop, "debounce": 0.5})
    t.start()
    try:
        time.sleep(0.5)
        (folder / "~$テスト署.xlsx").write_bytes(b"lock")  # Excel's lock file: ignored
        (folder / "memo.txt").write_text("x")
        write_book(folder / "テスト署.xlsx", baseline())
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # repeated saves within the debounce window give one call
    finally:
        stop.set()
        t.join(timeout=10)
    assert not t.is_alive()
    assert calls == [[folder / "テスト署.xlsx"]]


def test_watch_cli_regenerates_only_the_changed_workbook(tmp_path, monkeypatch, capsys):
    import pipeline.run.watch as watch_mod

    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "A署.xlsx", baseline())
    sheets = baseline()
    sheets["署"][0]["値"] = "B警察署"
    write_book(inp / "B署.xlsx", sheets)
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    capsys.readouterr()

    started = {}

    def fake_watch(folder, on_change, log, **kw):
        started["printed"] = capsys.readouterr().out  # what watch did before it began to watch
        sheets["委員"][3]["委嘱日"] = "令和8年13月1日"  # B is saved with an error
        write_book(folder / "B署.xlsx", sheets)
        on_change([folder / "B署.xlsx"])

    monkeypatch.setattr(watch_mod, "watch", fake_watch)
    assert main(["watch", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    # At start, the workbooks already there are processed.
    first = started["printed"]
    assert "A署.xlsx" in first and "B署.xlsx" in first and "［前回から変更なし］" in first
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if "B署.xlsx" in line]
    assert len(lines) == 1 and "エラー1件" in lines[0]
    assert "A署.xlsx" not in printed
    # The action names the error's cell and message, and where its 検証結果.xlsx is.
    assert "委員!K5" in printed and "令和8年13月1日" in printed
    assert str(out / "B警察署" / "検証結果.xlsx") in printed
    import json

    report = json.loads((out / "検証結果.json").read_text("utf-8"))
    assert [w["file"] for w in report["workbooks"]] == ["A署.xlsx", "B署.xlsx"]


def test_pdf_without_libreoffice_explains_and_keeps_the_docx(tmp_path, monkeypatch, capsys):
    import pipeline.documents.pdf as pdf

    monkeypatch.setattr(pdf, "soffice", lambda: None)
    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S, "--pdf"]) == 0
    printed = capsys.readouterr().out
    assert "LibreOffice" in printed and "インストール" in printed
    assert len(list(out.rglob("*.docx"))) == 25
    assert not list(out.rglob("*.pdf"))


def test_template_never_overwrites_an_existing_workbook(tmp_path, capsys):
    path = write_book(tmp_path / "記入済み.xlsx", baseline())
    before = path.read_bytes()
    assert main(["template", str(path)]) == 2
    assert path.read_bytes() == before
    assert "上書きしない" in capsys.readouterr().err


def test_annotated_copy_keeps_values_formats_and_widths(tmp_path):
    src = Path(__file__).resolve().parents[1] / "input_samples" / "仙台中央警察署.xlsx"
    out = tmp_path / "out"
    main(["check", "--input", str(src.parent), "--output", str(out), "--as-of", AS_OF_S])
    original = load_workbook(src)
    copy = load_workbook(out / "仙台中央警察署" / ANNOTATED)
    for name in original.sheetnames:
        a, b = original[name], copy[name]
        assert [[c.value for c in row] for row in a.iter_rows()] == [[c.value for c in row] for row in b.iter_rows()]
        assert [[c.number_format for c in row] for row in a.iter_rows()] == [
            [c.number_format for c in row] for row in b.iter_rows()
        ]
        assert {k: d.width for k, d in a.column_dimensions.items()} == {
            k: d.width for k, d in b.column_dimensions.items()
        }


def test_findings_inside_merged_cells_are_shown_on_the_anchor(tmp_path):
    sheets = baseline()
    for rec in sheets["委員"]:
        rec["協議会ID"] = "C9"  # unknown: every member row gets a finding
    src = write_book(tmp_path / "in" / "テスト署.xlsx", sheets)
    merge_council_ids(src)
    out = tmp_path / "out"
    assert main(["check", "--input", str(src.parent), "--output", str(out), "--as-of", AS_OF_S]) == 1
    copy = load_workbook(out / "テスト警察署" / ANNOTATED)
    anchor = copy["委員"]["A2"]
    assert anchor.fill.fgColor.rgb.endswith("FFC7CE")
    assert anchor.comment.text.count("unknown-ref") == 20


def test_watch_waits_until_a_copy_has_finished(tmp_path):
    """A file still growing is not handed over; once its size holds still, it is (once)."""
    from pipeline.run.watch import _Pending

    pending = _Pending()
    path = tmp_path / "大きな署.xlsx"
    path.write_bytes(b"x" * 10)
    pending._touch(str(path))
    time.sleep(0.05)
    path.write_bytes(b"x" * 20)  # the copy goes on, without a new event yet
    assert pending.ready(0.01) == []  # size changed since the event: wait again
    time.sleep(0.05)
    assert pending.ready(0.01) == [path]
    assert pending.ready(0.01) == []
    pending._touch(str(tmp_path / "~$大きな署.xlsx"))
    pending._touch(str(tmp_path / "メモ.txt"))
    time.sleep(0.05)
    assert pending.ready(0.01) == []
