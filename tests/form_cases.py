"""Contexts of every form at its ordinary, empty and extreme values (SPEC section 5 limits)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from pipeline.core.model import Council, Meeting, Member, Opinion, Station
from pipeline.documents import forms

D = dt.date
STATION = Station("仙台中央警察署", chief_name="大槻　正和", honorific="殿")
COUNCIL = Council(
    row=2, id="1", name="一番町交番連絡協議会", kind="単位", job_kind=None, reason="2交番の統合のため",
    posts="一番町交番", post_type="交番", district="一番町交番所管区", established=D(2020, 3, 5),
    manager_title="交番所長", manager_rank="警部補", manager_name="千葉　健一", doc_no="12", report_date=D(2020, 3, 10),
)  # fmt: skip


def member(row, name, role, birth, start=D(2019, 5, 1), end=D(2021, 3, 31), **kw) -> Member:
    base = dict(
        row=row, council_id="1", name=name, kana=None, gender="男", birth=birth, age=None, job="会社員",
        role=role, category="その他", public_office=None, start=start, end=end, issued=None, first_start=None,
        predecessor=None, term_change=None,
    )  # fmt: skip
    base.update(kw)
    return Member(**base)


MEMBERS = [
    member(3, "佐藤　一郎", "委員", D(1950, 5, 1)),
    member(4, "高橋　洋子", "会長", D(1962, 3, 6), gender="女", job="町内会長"),
    member(5, "鈴木　健一", "副会長", None, age=58),
    member(6, "遠藤　隆", "委員", D(1970, 1, 1), start=D(2021, 4, 1), end=D(2023, 3, 31)),
]
MEETING = Meeting(
    row=2, id="M1", council_id="1", kind="定例", round=2, date=D(2020, 3, 5), start_time=dt.time(14, 0),
    end_time=dt.time(15, 30), place="一番町交番2階", members_n=8, officers_n=4, local_n=1, other_n=2,
    outsiders="PTA役員2名", theme="通学路の安全", report_date=D(2020, 3, 9), reporter_post="一番町交番",
    reporter_rank="巡査部長", reporter_name="千葉　健一", report_to="署長", note="資料配布",
    opinions=(Opinion(2, "M1", "街路灯が暗い。", "市に伝えます。"), Opinion(3, "M1", "夜間の見回りを", None)),
)  # fmt: skip

# --- every optional value blank ---------------------------------------------------------
EMPTY_STATION = Station("仙台中央警察署")
EMPTY_COUNCIL = Council(
    row=2, id="1", name="一番町交番連絡協議会", kind="所管区", job_kind=None, reason=None, posts="一番町交番",
    post_type="交番", district="一番町交番所管区", established=D(2020, 3, 5), manager_title="交番所長",
    manager_rank="警部補", manager_name="千葉　健一", doc_no=None, report_date=None,
)  # fmt: skip
EMPTY_MEMBERS = [
    member(3, "佐藤　一郎", "会長", None, gender=None, job=None, start=D(2020, 3, 5), end=D(2022, 3, 4)),
]
EMPTY_MEETING = Meeting(
    row=2, id="M1", council_id="1", kind="臨時", round=None, date=D(2020, 3, 5), start_time=None, end_time=None,
    place="一番町交番", members_n=0, officers_n=0, local_n=None, other_n=None, outsiders=None, theme=None,
    report_date=None, reporter_post="一番町交番", reporter_rank="巡査", reporter_name="千葉　健一", report_to=None,
    note=None, opinions=(),
)  # fmt: skip

# --- extremes: SPEC section 5's limits ---------------------------------------------------
LONG_NAME = "長谷川　左衛門太郎"  # 9 characters
LONG_JOB = "宮城県仙台市青葉区一番町商店街振興組合理事兼酒類小売販売業者"  # 30 characters
LONG_REASON = (
    "一番町交番及び二番町交番の統合に伴い、所管区の住民、事業者及び学校関係者の意見を広く聴くため、"
    "両交番の所管区を一つの単位として設置するもの"
)
LONG_COUNCIL_NAME = "仙台市青葉区一番町二番町地区商店街防犯職種等連絡協議会"
LONG_STATION = Station("仙台東部地区中央警察署", chief_name="長谷川　左衛門太郎", honorific="")
EXTREME_COUNCIL = replace(COUNCIL, name=LONG_COUNCIL_NAME, reason=LONG_REASON, district="一番町・二番町交番所管区")
EXTREME_MEMBERS = [
    member(
        10 + i,
        LONG_NAME if i % 5 == 2 else f"委員{i}　太郎",
        "会長" if i == 0 else "副会長" if i == 1 else "委員",
        None,
        age=40 + i,
        job=LONG_JOB if i % 5 == 2 else "自営業（酒店・たばこ販売）",
    )
    for i in range(15)
]
assert len(LONG_NAME) == 9 and len(LONG_JOB) == 30


def opinion_text(n: int, i: int, tag: str) -> str:
    base = f"{tag}{i + 1}：通学路の街路灯が暗く、夜間に子どもが歩くのは危険であるので改善してほしい。" * 4
    return base[:n]


def meeting_with(n_opinions: int, chars: int, **kw) -> Meeting:
    ops = tuple(
        Opinion(2 + i, "M1", opinion_text(chars, i, "意見"), opinion_text(chars, i, "回答")) for i in range(n_opinions)
    )
    return replace(MEETING, opinions=ops, **kw)


LONG_PLACE = "仙台市青葉区一番町四丁目一番町商店街振興組合会館三階大会議室"


def contexts() -> dict[str, tuple[str, dict]]:
    """case name -> (form, context), the documents every check runs over."""
    ordinary_m = forms.meeting(STATION, COUNCIL, MEETING)
    return {
        "form1-ordinary": ("委嘱状", forms.commission(STATION, COUNCIL, MEMBERS[0])),
        "form1-empty": ("委嘱状", forms.commission(EMPTY_STATION, EMPTY_COUNCIL, EMPTY_MEMBERS[0])),
        "form1-extreme": ("委嘱状", forms.commission(LONG_STATION, EXTREME_COUNCIL, EXTREME_MEMBERS[2])),
        "form2-ordinary": ("設置報告書", forms.establishment(STATION, COUNCIL, MEMBERS)),
        "form2-empty": ("設置報告書", forms.establishment(EMPTY_STATION, EMPTY_COUNCIL, EMPTY_MEMBERS)),
        "form2-extreme": ("設置報告書", forms.establishment(LONG_STATION, EXTREME_COUNCIL, EXTREME_MEMBERS)),
        "form3-ordinary": ("開催結果報告書", ordinary_m),
        "form3-empty": ("開催結果報告書", forms.meeting(EMPTY_STATION, EMPTY_COUNCIL, EMPTY_MEETING)),
        # The limit that still fits: 5 opinions of 60 characters, answers alike.
        "form3-limit": ("開催結果報告書", forms.meeting(STATION, COUNCIL, meeting_with(5, 60))),
        "form3-4-long": ("開催結果報告書", forms.meeting(STATION, COUNCIL, meeting_with(4, 120))),
        "form3-bessi": ("開催結果報告書", forms.meeting(STATION, COUNCIL, meeting_with(12, 26))),
        "form3-extreme": (
            "開催結果報告書",
            forms.meeting(
                LONG_STATION,
                EXTREME_COUNCIL,
                meeting_with(12, 120, place=LONG_PLACE, note="資料配布\n次回は6月に開催予定", theme="通学路"),
            ),
        ),
    }


# Pages each case prints in LibreOffice: the form, plus its 別紙 when the opinions do not fit.
PAGES = {
    "form1-ordinary": 1,
    "form1-empty": 1,
    "form1-extreme": 1,
    "form2-ordinary": 1,
    "form2-empty": 1,
    "form2-extreme": 1,
    "form3-ordinary": 1,
    "form3-empty": 1,
    "form3-limit": 1,
    "form3-4-long": 2,
    "form3-bessi": 2,
    "form3-extreme": 4,
}
