"""Blocking by dependency (SPEC section 3): an error stops exactly the documents that print or need its cell."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from pipeline.core import contract, model
from pipeline.report import RunOptions
from pipeline.run.steps import reports
from tests.builders import AS_OF, baseline, cell_of, write_book

C, R, M = "委嘱状", "設置報告書", "開催結果報告書"


def _set(sheet: str, index: int, **values):
    def change(s):
        s[sheet][index].update(values)

    return change


def _station_blank(s):
    s["署"][0]["値"] = None


# (what is planted, its cell as (sheet, record index, column), which documents it must stop)
# Documents are named by (form, source row index): ("委嘱状", 0) is the 委嘱状 of 委員 record 0.
CASES = [
    # 運営責任者 prints only on 様式第2号: the 委嘱状 and the meeting reports do not depend on it.
    ("manager title", _set("協議会", 0, 運営責任者職名="巡査部長"), ("協議会", 0, "運営責任者職名"), {R}),
    ("manager rank", _set("協議会", 0, 運営責任者階級="大将"), ("協議会", 0, "運営責任者階級"), {R}),
    ("report date", _set("協議会", 0, 報告日="令和2年13月1日"), ("協議会", 0, "報告日"), {R}),
    # 所管区名 prints only on 様式第3号.
    ("district", _set("協議会", 0, 所管区名=None), ("協議会", 0, "所管区名"), {M}),
    # 名称 prints on every form of the council.
    ("council name", _set("協議会", 0, 名称=None), ("協議会", 0, "名称"), {C, R, M}),
    # A bad member row: that member's 委嘱状, and the council's 設置報告書 when he is on its roster (the report is
    # dated 設置日 2024-04-01: the first term's members) or the bad cell makes the roster unknowable.
    ("member on the roster", _set("委員", 0, 年齢="七十"), ("委員", 0, "年齢"), {(C, 0), R}),
    ("member off the roster", _set("委員", 10, 年齢="七十"), ("委員", 10, "年齢"), {(C, 10)}),
    ("委嘱日 off the roster", _set("委員", 10, 委嘱日="春ごろ"), ("委員", 10, "委嘱日"), {(C, 10), R}),
    # public-office (第6-4(1)) stops a 委嘱状 not yet handed over and a report dated on or after the as-of date
    # that lists him; an issued one it does not stop (the message asks for 退任日).
    ("public office, issued", _set("委員", 10, 公職="市議会議員"), ("委員", 10, "公職"), set()),
    ("public office, issued today", _set("委員", 10, 公職="市議会議員", 交付日=AS_OF), ("委員", 10, "公職"), {(C, 10)}),
    (
        "public office, report after",
        lambda s: (_set("委員", 10, 公職="市議会議員", 交付日=AS_OF)(s), _set("協議会", 0, 報告日=AS_OF)(s)),
        ("委員", 10, "公職"),
        {(C, 10), R},
    ),
    # A bad meeting row, or one of its opinions: that meeting's report only.
    ("meeting count", _set("会議", 1, 参加委員数="たくさん"), ("会議", 1, "参加委員数"), {(M, 1)}),
    ("opinion", _set("意見要望", 0, **{"意見・要望": None}), ("意見要望", 0, "意見・要望"), {(M, 0)}),
]


def _run(tmp_path, change):
    sheets = baseline()
    change(sheets)
    write_book(tmp_path / "in" / "テスト署.xlsx", sheets)
    report = reports(tmp_path / "in", tmp_path / "out", RunOptions(as_of=AS_OF))
    return sheets, next(w for w in report.workbooks if w.folder)


def _expected(sheets, stops) -> set[tuple[str, int]]:
    """Expand {form} (every document of that form) and {(form, index)} to (form, source index) pairs."""
    count = {C: len(sheets["委員"]), R: len(sheets["協議会"]), M: len(sheets["会議"])}
    out = set()
    for s in stops:
        out |= {(s, i) for i in range(count[s])} if isinstance(s, str) else {s}
    return out


@pytest.mark.parametrize(("label", "change", "where", "stops"), CASES, ids=[c[0] for c in CASES])
def test_an_error_blocks_exactly_the_documents_that_depend_on_its_cell(tmp_path, label, change, where, stops):
    sheets, wr = _run(tmp_path, change)
    sheet, index, column = where
    cell = f"{sheet}!{cell_of(sheets, sheet, index, column)}"
    header = {"委員": 1, "協議会": 1, "会議": 1}
    blocked = set()
    for d in wr.documents:
        src_sheet, row = d.source
        if d.status == "blocked":
            blocked.add((d.form, row - 1 - header[src_sheet]))
            assert cell in d.blocked_at, (d.path, d.blocked_at)
        else:
            assert d.status == "written", d
    assert blocked == _expected(sheets, stops)


def test_a_station_error_blocks_the_whole_workbook(tmp_path):
    _, wr = _run(tmp_path, _station_blank)
    assert wr.documents and all(d.status == "blocked" for d in wr.documents)
    assert all(d.blocked_by == ["required-value"] for d in wr.documents)


def test_strict_blocks_on_warnings_too(tmp_path):
    sheets = baseline()
    sheets["協議会"][0]["名称"] = "一番町交番協議会"  # council-name: a warning
    write_book(tmp_path / "in" / "テスト署.xlsx", sheets)
    lenient = reports(tmp_path / "in", tmp_path / "a", RunOptions(as_of=AS_OF))
    strict = reports(tmp_path / "in", tmp_path / "b", RunOptions(as_of=AS_OF, strict=True))
    assert all(d.status == "written" for w in lenient.workbooks for d in w.documents)
    docs = [d for w in strict.workbooks for d in w.documents]
    assert docs and all(d.status == "blocked" and d.blocked_by == ["council-name"] for d in docs)


# Fields of the model that no workbook column fills.
NOT_FROM_COLUMNS = {"row", "opinions", "sheet", "source", "chiefs", "has_chief_sheet"}
MODELS = [
    (contract.STATION, model.Station),
    (contract.CHIEFS, model.Chief),
    (contract.COUNCILS, model.Council),
    (contract.MEMBERS, model.Member),
    (contract.MEETINGS, model.Meeting),
    (contract.OPINIONS, model.Opinion),
    (contract.ELECTIONS, model.Election),
]


@pytest.mark.parametrize(("spec", "cls"), MODELS, ids=[m[0].name for m in MODELS])
def test_every_column_fills_exactly_one_model_field(spec, cls):
    fields = {f.name for f in dataclasses.fields(cls)} - NOT_FROM_COLUMNS
    declared = [c.field for c in spec.columns]
    assert sorted(declared) == sorted(fields), "each model field comes from exactly one column of the contract"
    hints = typing.get_type_hints(cls)
    assert all(c.field in hints for c in spec.columns)
