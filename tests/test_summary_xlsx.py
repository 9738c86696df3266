"""SPEC section 4: 県集計.xlsx, headquarters' tables, and each workbook's "summary" in 検証結果.json.

Every number of 県集計.xlsx is read back with openpyxl and compared with 検証結果.json (and the index page);
the summary's own numbers are checked against what the planted workbook holds (derived here, by hand)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.cli import main
from tests.builders import AS_OF, baseline, sheets_copy, write_book
from tests.test_annotate import HAVE_AUDIT, audit

SAMPLES = Path(__file__).resolve().parents[1] / "input_samples"
SHEETS = ["署別", "協議会別", "年度別", "未回答の意見要望"]
HEADER_ROW = 3
HAVE_LO = shutil.which("soffice") is not None


def _planted() -> dict:
    """baseline() plus: two open 意見・要望 (blank 回答), a member of 70, a woman, a 2nd council of another 種別."""
    sheets = sheets_copy(baseline())
    sheets["意見要望"] += [
        {"会議ID": "M3", "意見・要望": "通学路に街灯を。", "回答": None},
        {"会議ID": "M4", "意見・要望": "防犯カメラの設置を。\n二か所。", "回答": "  "},
    ]
    c2 = dict(sheets["協議会"][0], 協議会ID="C2", 名称="第二協議会", 種別="単位", 職種等区分=None)
    sheets["協議会"].append(c2)
    return sheets


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("summary")
    inp, out = root / "in", root / "out"
    inp.mkdir()
    for p in SAMPLES.glob("*.xlsx"):
        shutil.copy(p, inp / p.name)
    write_book(inp / "planted.xlsx", _planted())
    (inp / "壊れた署.xlsx").write_bytes(b"not a workbook")
    code = main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()])
    report = json.loads((out / "検証結果.json").read_text("utf-8"))
    return code, inp, out, report


def _table_rows(ws) -> list[dict]:
    (table,) = ws.tables.values()
    cells = ws[table.ref]
    headers = [c.value for c in cells[0]]
    return [dict(zip(headers, (c.value for c in row), strict=True)) for row in cells[1:]]


def _stations(report: dict) -> dict[str, dict]:
    return {w["station"]: w for w in report["workbooks"] if w["station"]}


def test_the_json_summary_counts_what_the_workbook_holds(run):
    _, _, _, report = run
    s = _stations(report)["テスト警察署"]["summary"]
    # baseline(): on 2026-11-27 the second term's 10 members serve (2026-04-01..2028-03-31), of council C1.
    assert s["councils"] == 2 and s["councils_by_kind"] == {"所管区": 1, "単位": 1, "職種等": 0}
    assert s["members_serving"] == 10
    assert s["open_opinions"] == 2
    # 年度 2024, 2025 and 2026 have one 定例 each; the 臨時 of 2026-09-01 is in 2026.
    assert s["meetings_by_fy"] == [
        {"fy": 2024, "label": "令和6年度", "regular": 1, "extra": 0},
        {"fy": 2025, "label": "令和7年度", "regular": 1, "extra": 0},
        {"fy": 2026, "label": "令和8年度", "regular": 1, "extra": 1},
    ]
    assert s["meetings_this_fy"] == {"regular": 1, "extra": 1}
    assert s["no_regular_this_fy"] == 1  # C2 has no meeting at all
    assert sum(s["age_bands"].values()) == s["members_serving"]
    assert s["leader_share"] == round(s["leaders"] / s["members_serving"], 4)
    unreadable = next(w for w in report["workbooks"] if w["file"] == "壊れた署.xlsx")
    assert unreadable["summary"] is None


def test_every_number_of_the_summary_workbook_is_the_json_s(run):
    code, _, out, report = run
    assert code == 1  # the unreadable file
    wb = load_workbook(out / "県集計.xlsx")
    assert wb.sheetnames == SHEETS
    stations = _stations(report)
    by_sheet = {name: _table_rows(wb[name]) for name in SHEETS}

    rows = {r["警察署"]: r for r in by_sheet["署別"]}
    assert set(rows) == set(stations) | {"壊れた署"}
    assert rows["壊れた署"]["状態"] == "読み込めません" and rows["壊れた署"]["エラー"] == 1
    for name, w in stations.items():
        s, r = w["summary"], rows[name]
        severities = Counter(f["severity"] for f in w["findings"])
        assert r["入力ファイル"] == w["file"]
        assert (r["協議会"], r["在任委員"], r["(ア)～(エ)の委員"], r["女性委員"]) == (
            s["councils"], s["members_serving"], s["leaders"], s["women"]
        )  # fmt: skip
        assert [r[f"協議会（{k}）"] for k in ("所管区", "単位", "職種等")] == [
            s["councils_by_kind"][k] for k in ("所管区", "単位", "職種等")
        ]
        assert [r[f"年齢 {b}"] for b in s["age_bands"]] == list(s["age_bands"].values())
        assert r["(ア)～(エ)の割合"] == pytest.approx(s["leader_share"])
        assert (r["今年度の定例会議"], r["今年度の臨時会議"]) == (
            s["meetings_this_fy"]["regular"], s["meetings_this_fy"]["extra"]
        )  # fmt: skip
        assert r["定例会議のない協議会（今年度）"] == s["no_regular_this_fy"]
        assert r["未回答の意見要望"] == s["open_opinions"]
        assert (r["エラー"], r["警告"]) == (severities["error"], severities["warning"])

    councils = defaultdict(list)
    for r in by_sheet["協議会別"]:
        councils[r["警察署"]].append(r)
    for name, w in stations.items():
        s, rs = w["summary"], councils[name]
        assert sum(1 for r in rs if r["基準日に存続"] == "存続") == s["councils"]
        assert sum(r["在任委員"] for r in rs) == s["members_serving"]
        assert sum(r["(ア)～(エ)の委員"] for r in rs) == s["leaders"]
        assert sum(r["女性委員"] for r in rs) == s["women"]
        assert all(isinstance(r["設置日"], dt.datetime) for r in rs)

    years = defaultdict(list)
    for r in by_sheet["年度別"]:
        years[r["警察署"]].append((r["年度（西暦）"], r["年度"], r["定例会議"], r["臨時会議"], r["会議計"]))
    for name, w in stations.items():
        expected = [(y["fy"], y["label"], y["regular"], y["extra"], y["regular"] + y["extra"]) for y in w["summary"]["meetings_by_fy"]]  # fmt: skip
        assert years[name] == expected

    opinions = Counter(r["警察署"] for r in by_sheet["未回答の意見要望"] if r["警察署"])
    assert opinions == Counter({n: w["summary"]["open_opinions"] for n, w in stations.items() if w["summary"]["open_opinions"]})  # fmt: skip
    planted = [r for r in by_sheet["未回答の意見要望"] if r["警察署"] == "テスト警察署"]
    assert [r["意見・要望"] for r in planted] == ["通学路に街灯を。", "防犯カメラの設置を。\n二か所。"]
    assert (
        planted[0]["開催日"] == dt.datetime(2026, 6, 10)
        and planted[0]["経過日数"] == (AS_OF - dt.date(2026, 6, 10)).days
    )


def test_the_index_page_shows_the_same_numbers(run):
    _, _, out, report = run
    page = (out / "index.html").read_text("utf-8")
    for name, w in _stations(report).items():
        line = re.search(rf'<tr data-station="{name}".*?</tr>', page).group(0)
        value = {k: int(v) for k, v in re.findall(r'data-key="([\w-]+)">(\d+)<', line)}
        s = w["summary"]
        assert value["serving"] == s["members_serving"] and value["councils"] == s["councils"]
        assert value["meetings-this-fy"] == s["meetings_this_fy"]["regular"] + s["meetings_this_fy"]["extra"]
        assert value["no-regular-this-fy"] == s["no_regular_this_fy"]


def test_tables_types_titles_and_print_settings(run):
    _, _, out, _ = run
    wb = load_workbook(out / "県集計.xlsx")
    for name in SHEETS:
        ws = wb[name]
        assert "令和8年11月27日現在" in ws["A1"].value
        (table,) = ws.tables.values()
        assert table.ref.startswith(f"A{HEADER_ROW}:") and table.autoFilter is not None
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
        assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows.replace("$", "") == f"{HEADER_ROW}:{HEADER_ROW}"
    numbers = [r["在任委員"] for r in _table_rows(wb["署別"]) if r["在任委員"] is not None]
    assert numbers and all(type(v) is int for v in numbers)
    headers = [c.value for c in wb["署別"][HEADER_ROW]]
    share = wb["署別"].cell(HEADER_ROW + 1, headers.index("(ア)～(エ)の割合") + 1)
    assert share.number_format == "0.0%"
    council = wb["協議会別"].cell(HEADER_ROW + 1, [c.value for c in wb["協議会別"][HEADER_ROW]].index("設置日") + 1)
    assert council.is_date and isinstance(council.value, dt.datetime)


def test_the_summary_workbook_is_rewritten_only_when_it_changes(run, tmp_path):
    _, inp, out, _ = run
    path = out / "県集計.xlsx"
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    assert main(["check", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()]) == 1
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    other = tmp_path / "other"
    main(["check", "--input", str(inp), "--output", str(other), "--as-of", AS_OF.isoformat()])
    assert (other / "県集計.xlsx").read_bytes() == before  # check writes it too, the same bytes


@pytest.mark.skipif(not HAVE_AUDIT, reason="openxml-audit がありません")
def test_the_summary_workbook_passes_openxml_audit(run):
    _, _, out, _ = run
    assert audit(out / "県集計.xlsx") == []


@pytest.mark.skipif(not HAVE_LO, reason="LibreOffice (soffice) がありません")
def test_libreoffice_prints_each_sheet_one_page_wide(run, tmp_path):
    from pypdf import PdfReader

    _, _, out, _ = run
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(out / "県集計.xlsx")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    pages = PdfReader(tmp_path / "県集計.pdf").pages
    wb = load_workbook(out / "県集計.xlsx")
    seen = []
    for page in pages:
        assert page.mediabox.width > page.mediabox.height  # landscape
        text = re.sub(r"\s", "", page.extract_text())
        # The page header names the sheet; its header row is repeated on every page, whole: a sheet wider
        # than the page would print its last columns on pages of their own, without the first header.
        name = next(n for n in sorted(SHEETS, key=len, reverse=True) if f"県集計{n}（" in text)
        seen.append(name)
        (table,) = wb[name].tables.values()
        header = wb[name][table.ref][0]
        for cell in (header[0], header[-1]):
            assert re.sub(r"\s", "", cell.value) in text, (name, cell.value)
    assert sorted(set(seen), key=SHEETS.index) == SHEETS


def test_a_workbook_an_internal_error_stopped_reads_in_japanese_in_every_table():
    """SPEC 4's status "failed" is printed in words, in 県集計.xlsx as on the index page (never the JSON key)."""
    from pipeline.checking.result import Result
    from pipeline.core.findings import make_finding
    from pipeline.overview.summary_book import summary_rows
    from pipeline.report import STATUS_WORDS, RunReport, WorkbookRun

    wr = WorkbookRun(Result(Path("壊れた処理.xlsx")), folder="壊れた処理")
    wr.internal_errors.append(make_finding("internal-error", "内部エラー"))
    report = RunReport(AS_OF, workbooks=[wr])
    assert wr.status == "failed"
    row = summary_rows(report)["署別"][0]
    assert row[2] == "処理できませんでした（ログを参照）"
    assert set(STATUS_WORDS) == {"ok", "warnings", "errors", "unreadable", "failed"}
    assert all(re.fullmatch(r"[^A-Za-z]+", w) for w in STATUS_WORDS.values())
