"""The workbook as a history (SPEC section 2): 退任日, 廃止日, 移管日, sheet 署長, 役職変更日 and 回答日, as the
model, the rules, the forms and what an error blocks read them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.checking.result import Options
from pipeline.checking.validate import validate_workbook
from pipeline.checking.words import (
    NOT_PUBLIC_OFFICES,
    PUBLIC_OFFICES,
    PUBLIC_PLACES,
    VENUE_WORDS,
    holds_public_office,
    venue_word,
)
from pipeline.core.contract import SHEETS
from pipeline.core.findings import Severity
from pipeline.core.model import period_end, whole_years
from pipeline.documents import forms
from pipeline.documents.plan import Blockers, plan_documents
from tests.builders import AS_OF, D, baseline, meeting, member, write_book

RULES_DOC = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text("utf-8")


def run(tmp_path, sheets, as_of=AS_OF):
    return validate_workbook(write_book(tmp_path / "book.xlsx", sheets), Options(as_of=as_of))


def rules_at(r, rule):
    return [(f.severity.value, f.sheet, f.cell) for f in r.findings if f.rule == rule]


# --- the anniversary rule (民法143条) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "start,years,end",
    [
        (D(2024, 4, 1), 2, D(2026, 3, 31)),
        (D(2024, 2, 29), 2, D(2026, 2, 28)),  # no 29 February in 2026: the end of February
        (D(2024, 2, 29), 4, D(2028, 2, 28)),
        (D(2025, 3, 1), 2, D(2027, 2, 28)),
        (D(2023, 3, 1), 1, D(2024, 2, 29)),
    ],
)
def test_period_end(start, years, end):
    assert period_end(start, years) == end


def test_leap_day_term_of_exactly_two_years_is_not_too_long(tmp_path):
    sheets = baseline()
    sheets["委員"][10].update(委嘱日=D(2024, 2, 29), 任期満了日=D(2026, 2, 28))
    sheets["協議会"][0].update(設置日=D(2024, 2, 1))
    assert rules_at(run(tmp_path, sheets), "term-length") == []
    sheets["委員"][10].update(任期満了日=D(2026, 3, 1))
    assert rules_at(run(tmp_path, sheets), "term-length") == [("warning", "委員", "L12")]


@pytest.mark.parametrize("since,day,n", [(D(2020, 4, 1), D(2021, 3, 31), 0), (D(2020, 4, 1), D(2021, 4, 1), 1)])
def test_whole_years(since, day, n):
    assert whole_years(since, day) == n


# --- word tables (docs/rules.md lists every word) --------------------------------------------------------


@pytest.mark.parametrize(
    "text,office",
    [
        ("市議会議員", True),
        ("有", True),
        ("あり", True),
        ("立候補予定", True),
        ("町長選挙に出馬予定", True),
        ("県議会議員候補", True),
        ("民生委員", False),
        ("民生委員・児童委員", False),
        ("なし（元市議会議員）", False),
        ("元町議会議員", False),
        ("前村長", False),
        ("消防団員", False),
        ("行政区長", False),
        ("町内会長", False),
        ("ＰＴＡ会長", False),
        ("民生委員、市議会議員", True),  # a 公職 beside a post that is not one
        ("", False),
        (None, False),
    ],
)
def test_public_office_words(text, office):
    assert holds_public_office(text) is office


@pytest.mark.parametrize(
    "place,word",
    [
        ("居酒屋たぬき 2階座敷", "居酒屋"),
        ("ホテル宴会場「松の間」", "ホテル"),
        ("料亭 松月", "料亭"),
        ("㈱仙台商事 本社", "㈱"),
        ("スナック　ゆり", "スナック"),
        ("○○会館内 居酒屋", "居酒屋"),
        ("一番町交番", None),
        ("青葉公民館", None),
        ("一番町 地区センター 和室", None),
        ("集会所", None),
        ("小学校 多目的室", None),
    ],
)
def test_venue_words(place, word):
    assert venue_word(place) == word


@pytest.mark.parametrize("word", [*PUBLIC_OFFICES, *NOT_PUBLIC_OFFICES, *VENUE_WORDS, *PUBLIC_PLACES])
def test_every_word_is_documented(word):
    assert f"`{word}`" in RULES_DOC, f"docs/rules.md does not list {word}"


# --- rules over the history ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "as_of,severity",
    [
        (D(2026, 2, 28), "warning"),  # 令和6年度 (ended 2025-03-31) 11 months ago: the year just over
        (D(2026, 4, 30), "info"),  # 13 months ago: over more than a whole 年度 before the as-of date
    ],
)
def test_missing_year_warns_while_it_is_the_last_one(tmp_path, as_of, severity):
    sheets = baseline()
    sheets["会議"] = [m for m in sheets["会議"] if m["会議ID"] != "M2"]  # 令和7年度 (2025-06-10) held
    sheets["会議"][0].update(会議種別="臨時", 回次=None)  # 令和6年度: no 定例
    sheets["会議"] = [m for m in sheets["会議"] if m["開催日"] <= as_of]
    sheets["会議"].append(meeting("M7", D(2025, 6, 10)))
    found = [f for f in run(tmp_path, sheets, as_of).findings if f.rule == "regular-meeting"]
    assert [(f.severity.value, "令和6年度" in f.message) for f in found] == [(severity, True)]


def test_chief_named_in_station_sheet_must_be_the_one_in_office(tmp_path):
    sheets = baseline()  # 署!署長氏名 大槻　正和 (B2)
    sheets["署長"] = [{"氏名": "甲野　太郎", "着任日": D(2019, 4, 1)}, {"氏名": "乙山　次郎", "着任日": D(2026, 4, 1)}]
    assert rules_at(run(tmp_path, sheets), "chief-history") == [("warning", "署", "B2")]
    sheets["署"][1]["値"] = "乙山 次郎"  # the same name, typed with a half-width space
    assert rules_at(run(tmp_path, sheets), "chief-history") == []


def test_chief_sheet_without_rows_counts_as_absent(tmp_path):
    sheets = baseline()
    sheets["署長"] = []
    r = run(tmp_path, sheets)
    assert not r.book.station.has_chief_sheet
    ctx = forms.commission(r.book.station, r.book.councils[0], r.book.members[0])
    assert ctx["chief"] == "大槻　正和"


def test_commission_prints_the_chief_of_its_date_and_the_term_as_appointed(tmp_path):
    sheets = baseline()
    sheets["署長"] = [{"氏名": "甲野　太郎", "着任日": D(2019, 4, 1)}, {"氏名": "大槻　正和", "着任日": D(2026, 4, 1)}]
    sheets["委員"][14].update(退任日=D(2026, 9, 30), 退任理由="辞任")
    r = run(tmp_path, sheets)
    st, c = r.book.station, r.book.councils[0]
    first, second, left = (forms.commission(st, c, r.book.members[i]) for i in (0, 10, 14))
    assert (first["chief"], first["issued"]) == ("甲野　太郎", "令和6年4月1日")
    assert (second["chief"], second["issued"]) == ("大槻　正和", "令和8年4月1日")
    # 退任日 is history, not a rewrite: the certificate keeps the term it was issued with.
    assert (left["start"], left["end"]) == ("令和8年4月1日", "令和10年3月31日")


def test_commission_before_the_first_chief_leaves_the_name_for_hand_entry(tmp_path):
    sheets = baseline()
    sheets["署長"] = [{"氏名": "大槻　正和", "着任日": D(2025, 4, 1)}]
    r = run(tmp_path, sheets)
    assert forms.commission(r.book.station, r.book.councils[0], r.book.members[0])["chief"] == forms.HAND
    infos = [f for f in r.findings if f.rule == "chief-history"]
    assert len(infos) == 10 and {f.severity for f in infos} == {Severity.INFO}  # one per 委嘱状 of 令和6年度


def test_bad_chief_row_blocks_only_the_commissions_of_its_period(tmp_path):
    sheets = baseline()
    sheets["署長"] = [
        {"氏名": "甲野　太郎", "着任日": D(2019, 4, 1)},
        {"氏名": "乙山　次郎", "着任日": "春ごろ"},  # unreadable: somewhere after 2019-04-01, before 2026-04-01
        {"氏名": "大槻　正和", "着任日": D(2026, 4, 1)},
    ]
    r = run(tmp_path, sheets)
    assert ("bad-date", "署長", "B3") in {(f.rule, f.sheet, f.cell) for f in r.findings}
    plans = plan_documents(r.book, r.findings, r.canon, "x", as_of=AS_OF)
    status = {p.document.path.rsplit("/", 1)[-1]: p.document.status for p in plans if p.document.form == "委嘱状"}
    blocked = sorted(n for n, s in status.items() if s == "blocked")
    assert len(blocked) == 10 and all(n.endswith("_20240401.docx") for n in blocked)  # the 令和6年 terms only
    assert all(s == "pending" for n, s in status.items() if n.endswith("_20260401.docx"))
    reports = [p.document.status for p in plans if p.document.form == "設置報告書"]
    assert reports == ["pending"]  # the 設置報告書 prints no 署長


def test_members_who_left_are_not_serving_nor_listed(tmp_path):
    sheets = baseline()
    sheets["委員"][14].update(退任日=D(2026, 9, 30), 退任理由="辞任")
    sheets["委員"].append(member(4, D(2026, 10, 15), D(2028, 3, 31), 氏名="渡辺　花子", 前任者="千葉　誠"))
    sheets["協議会"][0].update(報告日=D(2026, 10, 1))
    r = run(tmp_path, sheets)
    assert [f.rule for f in r.findings] == []
    c = r.book.councils[0]
    day, listed = forms.roster(c, r.book.members_of("C1"))
    assert day == D(2026, 10, 1)
    names = [m.name for m in listed]
    assert "千葉　誠" not in names and "渡辺　花子" not in names and len(names) == 9  # the vacancy of 10-1 to 10-14


def test_roster_uses_the_role_of_its_day(tmp_path):
    sheets = baseline()
    sheets["委員"][10].update(役職変更日=D(2026, 10, 1), 新役職="委員")
    sheets["委員"][12].update(役職変更日=D(2026, 10, 1), 新役職="会長")
    sheets["協議会"][0].update(報告日=D(2026, 10, 1))
    r = run(tmp_path, sheets)
    ctx = forms.establishment(r.book.station, r.book.councils[0], r.book.members_of("C1"))
    assert [(m["name"], m["role"]) for m in ctx["members"][:2]] == [("鈴木　健一", "会長"), ("高橋　洋子", "副会長")]


def test_age_from_age_column_grows_with_the_date(tmp_path):
    sheets = baseline()
    sheets["委員"][10].update(生年月日=None, 年齢=70)  # 70 on 委嘱日 2026-04-01
    sheets["協議会"][0].update(報告日=D(2027, 4, 1))
    r = run(tmp_path, sheets, as_of=D(2027, 4, 1))
    ctx = forms.establishment(r.book.station, r.book.councils[0], r.book.members_of("C1"))
    assert ctx["members"][0]["age"] == "71"


def test_answer_given_after_the_report_is_not_printed(tmp_path):
    sheets = baseline()  # M1 2024-06-10, 報告日 2024-06-12
    sheets["意見要望"] = [
        {"会議ID": "M1", "意見・要望": "街路灯が暗い。", "回答": "市に伝えます。", "回答日": None},
        {"会議ID": "M1", "意見・要望": "見通しが悪い。", "回答": "カーブミラー設置済み。", "回答日": D(2024, 9, 1)},
        {"会議ID": "M1", "意見・要望": "駐車が多い。", "回答": "警告しました。", "回答日": D(2024, 6, 12)},
    ]
    r = run(tmp_path, sheets)
    mt = r.book.meetings[0]
    ctx = forms.meeting(r.book.station, r.book.councils[0], mt)
    assert [o["answer"] for o in ctx["opinions"]] == ["市に伝えます。", "", "警告しました。"]


def test_received_council_gets_no_establishment_report(tmp_path):
    sheets = baseline()
    sheets["協議会"][0].update(設置日=D(2010, 4, 1), 移管日=D(2024, 4, 1), 移管元="旧泉警察署")
    r = run(tmp_path, sheets)
    assert [f.rule for f in r.findings] == []
    plans = plan_documents(r.book, r.findings, r.canon, "x", as_of=AS_OF)
    assert {p.document.form for p in plans} == {"委嘱状", "開催結果報告書"}


def test_closed_council_gets_no_as_of_rules(tmp_path):
    sheets = baseline()
    sheets["協議会"][0].update(廃止日=D(2026, 9, 30), 廃止理由="統合")
    for mt in sheets["会議"][2:]:
        mt["参加委員数"] = 2
    sheets["委員"] = sheets["委員"][:12]  # two members left in the last term: member-count if it still existed
    sheets["委員"][10]["公職"] = "市議会議員"
    r = run(tmp_path, sheets)
    assert [f.rule for f in r.findings] == []


def test_dismissed_members_history_blocks_nothing(tmp_path):
    sheets = baseline()
    sheets["委員"][12].update(公職="市議会議員", 退任日=D(2026, 10, 31), 退任理由="解嘱（公職）")
    sheets["委員"][13].update(年齢="七十")  # an input error on a row of someone still serving
    sheets["委員"][11].update(退任日=D(2026, 10, 31), 退任理由="辞任", 役職="委員")  # vice-chair gone: a warning
    r = run(tmp_path, sheets)
    assert "public-office" not in {f.rule for f in r.findings}
    b = Blockers(r.book, r.findings, r.canon, as_of=AS_OF)
    members = r.book.members
    assert {f.rule for f in b.member(members[12])} == set()
    assert {f.rule for f in b.member(members[13])} == {"bad-number"}


def test_sheet_spec_reads_the_new_columns_by_their_aliases(tmp_path):
    sheets = baseline()
    for m in sheets["委員"][10:]:
        m["退任年月日"] = None
    sheets["委員"][14]["退任年月日"] = D(2026, 9, 30)
    sheets["協議会"][0]["受入日"] = D(2024, 4, 1)
    sheets["署長"] = [{"署長氏名": "大槻　正和", "就任日": D(2020, 4, 1)}]
    r = run(tmp_path, sheets)
    assert r.book.members[14].left == D(2026, 9, 30)
    assert r.book.councils[0].received == D(2024, 4, 1)
    assert [c.name for c in r.book.station.chiefs] == ["大槻　正和"]


def test_new_columns_are_in_the_contract():
    cols = {s.name: {c.name for c in s.columns} for s in SHEETS}
    assert {"廃止日", "廃止理由", "移管日", "移管元"} <= cols["協議会"]
    assert {"退任日", "退任理由", "役職変更日", "新役職"} <= cols["委員"]
    assert {"回答日", "措置状況"} <= cols["意見要望"]
    assert cols["署長"] == {"氏名", "着任日"}


def test_a_received_year_and_transfer_are_no_regular_sequence_gap(tmp_path):
    sheets = baseline()
    sheets["協議会"][0].update(設置日=D(2010, 4, 1), 移管日=D(2024, 5, 1), 移管元="旧署")
    for m in sheets["委員"][:10]:
        m.update(委嘱日=D(2024, 5, 1), 初回委嘱日=D(2024, 5, 1))
    sheets["会議"][0].update(回次=2)  # 第1回 was held under the former station
    r = run(tmp_path, sheets)
    assert rules_at(r, "regular-sequence") == []
    assert dt.date(2024, 5, 1) == r.book.councils[0].begins
