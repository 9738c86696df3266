"""A clerk's two 年度 on one output folder, run after run (SPEC sections 2 and 4): every event is a new dated fact,
every document prints the facts of its own date, and every status stays truthful."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline.cli import main
from pipeline.core.model import Book, Chief, Council, Member, Station
from pipeline.core.write import ANNOTATED, OVERVIEW
from pipeline.documents import forms
from pipeline.documents.plan import plan_documents
from pipeline.workbooks.annotate import STATUS_SHEET
from tests.builders import D, council, meeting, member, write_book
from tests.docx_text import extract
from tests.test_overview import page_of

STATION = "テスト警察署"


def _members(council_id: str, n: int, start: dt.date, end: dt.date, prefix: str) -> list[dict]:
    rows = []
    for i in range(n):
        rows.append(
            member(
                i % 10,
                start,
                end,
                協議会ID=council_id,
                氏名=f"{prefix}　{'一二三四五六七八九十'[i]}郎",
                初回委嘱日=start,
            )
            | {"退任日": None, "退任理由": None}
        )
    return rows


class Station2Years:
    """The workbook as the clerk keeps it: each method records one event, nothing earlier is rewritten."""

    def __init__(self) -> None:
        term = (D(2025, 4, 1), D(2027, 3, 31))
        self.sheets: dict[str, list[dict]] = {
            "署": [{"項目": "警察署名", "値": STATION}, {"項目": "署長氏名", "値": "甲野　太郎"}],
            "署長": [{"氏名": "甲野　太郎", "着任日": D(2019, 4, 1)}],
            "協議会": [
                council(協議会ID="K1", 設置日=term[0])
                | {"廃止日": None, "廃止理由": None, "移管日": None, "移管元": None},
                council(
                    協議会ID="K2",
                    名称="二番町交番連絡協議会",
                    交番等="二番町交番",
                    所管区名="二番町交番所管区",
                    設置日=term[0],
                )
                | {"廃止日": None, "廃止理由": None, "移管日": None, "移管元": None},
            ],
            "委員": _members("K1", 10, *term, "一番") + _members("K2", 6, *term, "二番"),
            "会議": [],
            "意見要望": [],
        }
        for rows in self.sheets["委員"][:10], self.sheets["委員"][10:]:
            rows[0]["役職"], rows[1]["役職"] = "会長", "副会長"
            for r in rows[2:]:
                r["役職"] = "委員"

        self.saved: dict | None = None  # what the workbook on disk holds

    def row(self, name: str) -> dict:
        return next(r for r in self.sheets["委員"] if r["氏名"] == name)

    def meeting(self, mid: str, council_id: str, day: dt.date, n: int) -> None:
        self.sheets["会議"].append(meeting(mid, day, 協議会ID=council_id, 参加委員数=n))
        self.sheets["意見要望"].append({"会議ID": mid, "意見・要望": "街路灯が暗い。", "回答": "市に伝えました。"})


def _run(tmp: Path, book: Station2Years, as_of: dt.date) -> tuple[dict, dict[str, bytes], str]:
    inp, out = tmp / "in", tmp / "out"
    if book.sheets != book.saved:  # re-saving would change the file's bytes (openpyxl stamps the time)
        write_book(inp / "テスト署.xlsx", book.sheets)
        book.saved = copy.deepcopy(book.sheets)
    screen = io.StringIO()
    with redirect_stdout(screen):
        code = main(["reports", "--input", str(inp), "--output", str(out), "--as-of", as_of.isoformat()])
    assert code in (0, 1), screen.getvalue()
    entry = json.loads((out / "検証結果.json").read_text("utf-8"))["workbooks"][0]
    docs = {d["path"]: (out / d["path"]).read_bytes() for d in entry["documents"] if d["status"] != "blocked"}
    return entry, docs, screen.getvalue()


def _status(entry: dict) -> dict[str, str]:
    return {d["path"].split("/", 1)[1]: d["status"] for d in entry["documents"]}


def _rules(entry: dict) -> list[tuple[str, str]]:
    return sorted((f["rule"], f["severity"]) for f in entry["findings"])


def _written(entry: dict) -> set[str]:
    return {p for p, s in _status(entry).items() if s == "written"}


def _commission(docs: dict[str, bytes], name: str) -> str:
    path = next(p for p in docs if "/委嘱状/" in p and f"_{name}_" in p)
    return "\n".join(extract(docs[path])["paragraphs"])


def _serving(tmp: Path) -> int:
    return page_of(tmp / "out" / STATION / OVERVIEW).number("serving")


def test_two_years_of_one_station(tmp_path):
    book = Station2Years()
    history: list[dict[str, bytes]] = []

    def step(as_of: dt.date, expect_written: set[str], expect_rules: list[tuple[str, str]], serving: int) -> dict:
        entry, docs, _ = _run(tmp_path, book, as_of)
        assert _rules(entry) == expect_rules, [f["message"] for f in entry["findings"]]
        assert _written(entry) == expect_written
        # Every document an earlier run wrote is still byte for byte what it was (no event rewrote it).
        for earlier in history:
            for path, data in earlier.items():
                if path in docs:
                    assert docs[path] == data, f"{path} changed"
        assert all(s in ("written", "unchanged") for s in _status(entry).values()), _status(entry)
        assert _serving(tmp_path) == serving
        history.append(docs)
        return docs

    # 令和7年4月1日: 16 members appointed; 委嘱状 signed by 甲野.
    docs = step(
        D(2025, 4, 1),
        {f"委嘱状/{c}_{m['氏名']}_20250401.docx" for c, m in _named(book)}
        | {"設置報告書/一番町交番連絡協議会.docx", "設置報告書/二番町交番連絡協議会.docx"},
        [],
        16,
    )
    text = _commission(docs, "一番　一郎")
    assert "甲野　太郎" in text and "令和7年4月1日から" in text and "令和9年3月31日まで" in text

    # 令和7年9月30日: 一番 五郎 resigns. Nothing is rewritten; he no longer counts from 10月1日.
    book.meeting("M1", "K1", D(2025, 6, 10), 8)
    book.meeting("M2", "K2", D(2025, 6, 12), 5)
    book.row("一番　五郎").update(退任日=D(2025, 9, 30), 退任理由="辞任")
    docs = step(
        D(2025, 10, 1),
        {
            "開催結果報告書/一番町交番連絡協議会_20250610_定例1.docx",
            "開催結果報告書/二番町交番連絡協議会_20250612_定例1.docx",
        },
        [],
        15,
    )
    assert "令和9年3月31日まで" in _commission(docs, "一番　五郎")  # the term as appointed, not 退任日

    # 令和7年10月15日: the successor for the rest of the term (第6-2(1)): no successor-term error.
    successor = member(4, D(2025, 10, 15), D(2027, 3, 31), 協議会ID="K1", 氏名="渡辺　花子", 前任者="一番　五郎")
    book.sheets["委員"].append(successor | {"退任日": None, "退任理由": None, "役職": "委員"})
    docs = step(D(2025, 10, 20), {"委嘱状/一番町交番連絡協議会_渡辺　花子_20251015.docx"}, [], 16)
    assert "甲野　太郎" in _commission(docs, "渡辺　花子")

    # 令和8年3月31日: K2 merged into K1 (第4-3). Its documents stay as they were; no as-of-date rule for it.
    book.sheets["協議会"][1].update(廃止日=D(2026, 3, 31), 廃止理由="統合")
    step(D(2026, 4, 2), set(), [], 10)

    # 令和8年4月1日: a new 署長. Nothing issued before changes; 委嘱状 dated from then are signed 乙山.
    book.sheets["署長"].append({"氏名": "乙山　次郎", "着任日": D(2026, 4, 1)})
    book.sheets["署"][1]["値"] = "乙山　次郎"
    step(D(2026, 4, 2), set(), [], 10)

    # 令和8年6月: 一番 七郎 is elected to the city council. Recorded as 公職 first: an error that stops nothing
    # already handed over, asking for 退任日.
    book.meeting("M3", "K1", D(2026, 6, 10), 8)
    book.row("一番　七郎")["公職"] = "市議会議員"
    entry, docs, _ = _run(tmp_path, book, D(2026, 6, 20))
    assert _rules(entry) == [("public-office", "error")]
    assert "解嘱（公職）" in entry["findings"][0]["message"]
    assert _written(entry) == {"開催結果報告書/一番町交番連絡協議会_20260610_定例1.docx"}
    assert "blocked" not in _status(entry).values()
    history.append(docs)

    # 令和8年6月30日: dismissed under 第6-4(1); a successor appointed 7月10日 under the new 署長.
    book.row("一番　七郎").update(退任日=D(2026, 6, 30), 退任理由="解嘱（公職）")
    successor = member(6, D(2026, 7, 10), D(2027, 3, 31), 協議会ID="K1", 氏名="丙川　三郎", 前任者="一番　七郎")
    book.sheets["委員"].append(successor | {"退任日": None, "退任理由": None, "役職": "委員"})
    docs = step(D(2026, 7, 15), {"委嘱状/一番町交番連絡協議会_丙川　三郎_20260710.docx"}, [], 10)
    assert "乙山　次郎" in _commission(docs, "丙川　三郎")
    assert "甲野　太郎" in _commission(docs, "一番　七郎")

    # 令和8年10月1日: a council received from 仙台北警察署 (第6-2(2)): its members' 委嘱状, no 設置報告書.
    book.sheets["協議会"].append(
        council(協議会ID="K3", 名称="根白石駐在所連絡協議会", 交番等="根白石駐在所", 所管区名="根白石駐在所所管区")
        | {
            "設置日": D(2015, 4, 1),
            "廃止日": None,
            "廃止理由": None,
            "移管日": D(2026, 10, 1),
            "移管元": "仙台北警察署",
        }
    )
    book.sheets["委員"] += _members("K3", 5, D(2026, 10, 1), D(2027, 3, 31), "三番")
    for r in book.sheets["委員"][-5:]:
        r["役職"] = "委員"
    book.sheets["委員"][-5]["役職"], book.sheets["委員"][-4]["役職"] = "会長", "副会長"
    docs = step(
        D(2026, 11, 27),
        {f"委嘱状/根白石駐在所連絡協議会_三番　{k}郎_20261001.docx" for k in "一二三四五"},
        [],
        15,
    )
    assert not any("設置報告書/根白石" in p for p in docs)
    assert "乙山　次郎" in _commission(docs, "三番　一郎")


def _named(book: Station2Years):
    names = {"K1": "一番町交番連絡協議会", "K2": "二番町交番連絡協議会"}
    return [(names[m["協議会ID"]], m) for m in book.sheets["委員"]]


def test_rerun_with_nothing_changed_says_written_nowhere(tmp_path):
    book = Station2Years()
    book.meeting("M1", "K1", D(2025, 6, 10), 8)
    first, _, _ = _run(tmp_path, book, D(2025, 10, 1))
    assert _written(first)
    again, _, screen = _run(tmp_path, book, D(2025, 10, 1))
    assert set(_status(again).values()) == {"unchanged"}
    # The screen's table: 作成 0 for the station.
    line = next(ln for ln in screen.splitlines() if ln.strip().startswith(STATION))
    assert re.split(r"\s+", line.strip())[1] == "0", line
    # 作成状況 in 検証結果.xlsx and the station page: the copy and page of the run that made them, which say when.
    annotated = load_workbook(tmp_path / "out" / STATION / ANNOTATED)
    statuses = {r[2] for r in annotated[STATUS_SHEET].iter_rows(min_row=2, values_only=True) if r[2]}
    page = (tmp_path / "out" / STATION / OVERVIEW).read_text("utf-8")
    assert "このページの作成：" in page
    made = [r[0] for r in annotated[STATUS_SHEET].iter_rows(values_only=True) if str(r[0]).startswith("作成日時")]
    assert len(made) == 1 and "の実行で作成" in made[0]
    assert statuses <= {"作成", "変更なし"}  # written by the first run, which did write them


def test_rerun_after_an_event_reports_only_its_documents_as_written(tmp_path):
    book = Station2Years()
    _run(tmp_path, book, D(2025, 4, 1))
    book.row("一番　二郎").update(退任日=D(2025, 5, 31), 退任理由="転出")
    entry, _, _ = _run(tmp_path, book, D(2025, 6, 1))
    assert _written(entry) == set()
    annotated = load_workbook(tmp_path / "out" / STATION / ANNOTATED)
    statuses = {r[2] for r in annotated[STATUS_SHEET].iter_rows(min_row=2, values_only=True) if r[2]}
    assert statuses == {"変更なし"}
    assert 'data-key="serving">15<' in (tmp_path / "out" / STATION / OVERVIEW).read_text("utf-8")


# --- property: an event dated after a document's date never changes that document ----------------------------


def _doc_contexts(book: Book) -> dict[str, dict]:
    plans = plan_documents(book, [], {}, "x", as_of=None)
    return {p.document.path: p.build() for p in plans if p.build is not None}


def _doc_dates(book: Book) -> dict[str, dt.date]:
    """Each document's date (SPEC section 4): 委嘱状 交付日 (else 委嘱日), 設置報告書 報告日 (else 設置日)."""
    out = {}
    plans = plan_documents(book, [], {}, "x", as_of=None)
    rows = {("委員", m.row): m for m in book.members} | {("協議会", c.row): c for c in book.councils}
    for p in plans:
        rec = rows.get(p.document.source)
        if isinstance(rec, Member):
            out[p.document.path] = rec.issue_date
        elif isinstance(rec, Council):
            out[p.document.path] = forms.roster_day(rec)
    return out


@st.composite
def histories(draw):
    base = D(2019, 4, 1)
    n = draw(st.integers(3, 8))
    members = []
    for i in range(n):
        start = base + dt.timedelta(days=draw(st.integers(0, 1400)))
        end = start + dt.timedelta(days=draw(st.integers(30, 730)))
        members.append(
            Member(
                row=i + 2, council_id="K1", name=f"委員{i}", kana=None, gender="女", birth=D(1960, 1, 1), age=None,
                job="会社員", role=draw(st.sampled_from(["会長", "副会長", "委員"])), category="その他",
                public_office=None, start=start, end=end, issued=None, first_start=None, predecessor=None,
                term_change=None,
            )
        )  # fmt: skip
    report = draw(st.one_of(st.none(), st.dates(D(2019, 4, 1), D(2023, 3, 31))))
    c = Council(
        row=2, id="K1", name="一番町交番連絡協議会", kind="所管区", job_kind=None, reason=None, posts="一番町交番",
        post_type="交番", district="一番町", established=base, manager_title="交番所長", manager_rank="警部補",
        manager_name="千葉　健一", doc_no=None, report_date=report,
    )  # fmt: skip
    chiefs = (Chief(2, "甲野　太郎", D(2015, 4, 1)),)
    station = Station("テスト警察署", "甲野　太郎", chiefs=chiefs, has_chief_sheet=True)
    event_day = draw(st.dates(D(2019, 4, 2), D(2024, 12, 31)))
    kind = draw(st.sampled_from(["leave", "close", "chief", "successor", "role"]))
    who = draw(st.integers(0, n - 1))
    return station, c, members, event_day, kind, who


def _with_event(station, c, members, day, kind, who):
    members = list(members)
    if kind == "leave" and members[who].start <= day <= members[who].end:
        members[who] = dataclasses.replace(members[who], left=day, leave_reason="辞任")
    elif kind == "close":
        c = dataclasses.replace(c, closed=day, close_reason="統合")
    elif kind == "chief":
        station = dataclasses.replace(station, chiefs=(*station.chiefs, Chief(3, "乙山　次郎", day)))
    elif kind == "successor" and members[who].start < day <= members[who].end:
        members[who] = dataclasses.replace(members[who], left=day - dt.timedelta(days=1), leave_reason="辞任")
        members.append(
            dataclasses.replace(
                members[who], row=99, name="後任　花子", start=day, predecessor=members[who].name, left=None
            )
        )
    elif kind == "role" and members[who].start <= day <= members[who].end:
        members[who] = dataclasses.replace(members[who], role_changed=day, new_role="会長")
    book = Book("x.xlsx", station, councils=[c], members=members)
    return book


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_an_event_after_a_documents_date_never_changes_it(h):
    station, c, members, day, kind, who = h
    before = Book("x.xlsx", station, councils=[c], members=list(members))
    after = _with_event(station, c, members, day, kind, who)
    old, new = _doc_contexts(before), _doc_contexts(after)
    dates = _doc_dates(before)
    for path, ctx in old.items():
        dated = dates.get(path)
        if dated is not None and dated < day:
            assert new.get(path) == ctx, (kind, path, dated, day)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
