"""Write the three bundled sample workbooks in input_samples/ (fictional people, real Miyagi places)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.samplegen import CouncilPlan, plan_rows, write_workbook

AS_OF = dt.date(2026, 11, 27)
OUT = Path(__file__).resolve().parents[1] / "input_samples"
D = dt.date


def sendai() -> None:
    councils = [
        CouncilPlan("1", "一番町交番連絡協議会", "所管区", "一番町交番", "交番", "一番町交番所管区", D(2021, 4, 1), "交番所長"),
        CouncilPlan(
            "2", "国分町地区繁華街連絡協議会", "職種等", "国分町交番", "交番", "国分町交番所管区", D(2021, 4, 1),
            "交番所長", job_kind="(2)", reason="繁華街における客引き・迷惑行為対策のため", members=8,
        ),
        CouncilPlan("3", "八幡町交番連絡協議会", "所管区", "八幡町交番", "交番", "八幡町交番所管区", D(2020, 4, 1), "交番所長"),
    ]  # fmt: skip
    c, m, mt, op = plan_rows("仙台中央警察署", councils, seed=1, as_of=AS_OF)
    # A long-serving chair (第6-4(2)) and a member whose term was extended with consent (第6-2(3)).
    for r in m:
        if r["協議会ID"] == "1" and r["役職"] == "会長":
            r["初回委嘱日"] = D(2012, 4, 1)
    m[-1]["任期満了日"] = D(2028, 3, 31)
    m[-1]["任期変更"] = "地区再編の完了まで委員の承諾を得て延長"
    # Alt+Enter inside a cell, and 〒 & < > that must survive Word escaping.
    op[0]["回答"] = "パトロールを強化します。\n結果は次回会議で報告します。"
    mt[0]["備考"] = "会場：交番2階\n資料「防犯だより」配布 & 説明"
    elections = [
        {"選挙名": "宮城県議会議員一般選挙", "告示日": D(2023, 10, 13), "投票日": D(2023, 10, 22)},
        {"選挙名": "仙台市長選挙", "告示日": D(2025, 7, 20), "投票日": D(2025, 8, 3)},
    ]
    station = {"警察署名": "仙台中央警察署", "署長氏名": "大槻　正和", "本部長宛名": "", "委嘱状敬称": "殿"}
    write_workbook(
        OUT / "仙台中央警察署.xlsx",
        station,
        {"協議会": c, "委員": m, "会議": mt, "意見要望": op, "選挙期間": elections},
        title_rows=True,
        date_style="excel",
    )


def ishinomaki() -> None:
    councils = [
        CouncilPlan("IS-01", "石巻駅前交番連絡協議会", "所管区", "石巻駅前交番", "交番", "石巻駅前交番所管区", D(2021, 4, 1), "交番所長"),
        CouncilPlan(
            "IS-02", "渡波・万石浦地区連絡協議会", "単位", "渡波交番、万石浦交番", "交番", "渡波・万石浦地区",
            D(2021, 4, 1), "交番所長", reason="地域の一体性が強い2交番の所管区を統合するため", members=11,
        ),
        CouncilPlan("IS-03", "牡鹿駐在所連絡協議会", "所管区", "牡鹿駐在所", "駐在所（単独配置）", "牡鹿駐在所所管区", D(2021, 4, 1), "駐在所勤務員", members=6),
    ]  # fmt: skip
    c, m, mt, op = plan_rows("石巻警察署", councils, seed=2, as_of=AS_OF)
    # Clerks' spellings: 単位連絡協議会 for 単位, 定期 for 定例, (ア) for 自治会等役員.
    c[1]["種別"] = "単位連絡協議会"
    for r in mt[::4]:
        if r["会議種別"] == "定例":
            r["会議種別"] = "定期"
    for r in m[::7]:
        if r["区分"] == "自治会等役員":
            r["区分"] = "（ア）"
    # A successor who filled a vacancy for the rest of the predecessor's term (第6-2(1)); the predecessor's
    # departure is recorded with 退任日 (his last day), his 任期満了日 left as appointed.
    for r in m:
        r["退任日"], r["退任理由"] = None, None
    last = [r for r in m if r["協議会ID"] == "IS-01" and r["委嘱日"] == D(2023, 4, 1)][-1]
    last["退任日"], last["退任理由"] = D(2024, 9, 30), "転出"
    m.append(
        last
        | {
            "氏名": "早坂　美香", "ふりがな": "はやさか　みか", "性別": "女", "生年月日": D(1983, 9, 2),
            "役職": "委員", "委嘱日": D(2024, 10, 1), "交付日": D(2024, 10, 1), "初回委嘱日": None,
            "前任者": last["氏名"], "退任日": None, "退任理由": None,
        }
    )  # fmt: skip
    station = {"警察署名": "石巻警察署", "署長氏名": "阿部　孝志"}
    write_workbook(
        OUT / "石巻警察署.xlsx",
        station,
        {"協議会": c, "委員": m, "会議": mt, "意見要望": op},
        date_style="text",
        header_variants={
            "氏名": "氏　名",
            "委嘱日": "委嘱日（任期開始日）",
            "協議会ID": "協議会 ID",
            "参加委員数": "参加委員数(注)",
        },
    )


def kesennuma() -> None:
    councils = [
        CouncilPlan("1", "気仙沼駅前交番連絡協議会", "所管区", "気仙沼駅前交番", "交番", "気仙沼駅前交番所管区", D(2021, 4, 1), "交番所長"),
        CouncilPlan("2", "唐桑駐在所連絡協議会", "所管区", "唐桑駐在所", "駐在所（複数配置）", "唐桑駐在所所管区", D(2021, 4, 1), "駐在所長", members=7),
        CouncilPlan(
            "3", "気仙沼地区外国人居住者連絡協議会", "職種等", "気仙沼駅前交番", "交番", "気仙沼駅前交番所管区",
            D(2021, 4, 1), "交番所長", job_kind="外国人", reason="水産加工業に従事する外国人居住者の保護対策のため", members=6,
        ),
    ]  # fmt: skip
    c, m, mt, op = plan_rows("気仙沼警察署", councils, seed=3, as_of=AS_OF)
    # Ages instead of birthdays for some members (one of the two is enough).
    for r in m[::5]:
        r["年齢"] = AS_OF.year - r["生年月日"].year
        r["生年月日"] = None
    for r in m:
        r.setdefault("年齢", None)
    # A meeting reported to the 副署長 (第11-2 ただし書).
    mt[2]["報告先"] = "副署長"
    # A term shortened at the member's request: it ends soon, so a reminder (第6-3) appears.
    short = [r for r in m if r["協議会ID"] == "2"][-1]
    short["任期満了日"] = D(2027, 1, 15)
    short["任期変更"] = "本人の申出により短縮"
    station = {"警察署名": "気仙沼警察署", "署長氏名": "小野寺　誠"}
    write_workbook(
        OUT / "気仙沼警察署.xlsx",
        station,
        {"協議会": c, "委員": [_order(r) for r in m], "会議": mt, "意見要望": op},
        blank_every=7,
        extra_column=True,
        header_variants={"名称": "協議会名", "区分": "選定区分", "委嘱日": "任期開始日", "任期満了日": "任期終了日"},
    )
    election = [{"選挙名": "参議院議員通常選挙", "告示日": D(2022, 6, 22), "投票日": D(2022, 7, 10)}]
    write_workbook(OUT / "選挙期間.xlsx", {"警察署名": "（全署共通）"}, {"選挙期間": election})


def izumi() -> None:
    """A station kept as a history through two 年度 (SPEC section 2): a resignation and its successor, a
    dismissal under 第6-4(1), a change of 役職, a change of 署長, a merged council and a received one."""
    own = [
        CouncilPlan("IZ-1", "泉中央交番連絡協議会", "所管区", "泉中央交番", "交番", "泉中央交番所管区", D(2019, 4, 1), "交番所長"),
        CouncilPlan("IZ-2", "泉ヶ丘交番連絡協議会", "所管区", "泉ヶ丘交番", "交番", "泉ヶ丘交番所管区", D(2019, 4, 1), "交番所長", members=8),
    ]  # fmt: skip
    received = [
        CouncilPlan("IZ-3", "根白石駐在所連絡協議会", "所管区", "根白石駐在所", "駐在所（単独配置）", "根白石駐在所所管区", D(2015, 4, 1), "駐在所勤務員", members=6),
    ]  # fmt: skip
    c, m, mt, op = plan_rows("泉警察署", own, seed=4, as_of=AS_OF, first_fy=2019)
    c3, m3, mt3, op3 = plan_rows("泉警察署", received, seed=5, as_of=AS_OF, first_fy=2025)
    c, m, mt, op = c + c3, m + m3, mt + mt3, op + op3
    for r in c:
        r |= {"廃止日": None, "廃止理由": None, "移管日": None, "移管元": None}
    for r in m:
        r |= {"退任日": None, "退任理由": None, "役職変更日": None, "新役職": None}
    for r in op:
        r |= {"回答日": None, "措置状況": None}
    # 第4-3: 泉ヶ丘 merged into 泉中央 at the end of 令和7年度; its records stay, dated.
    c[1] |= {"廃止日": D(2026, 3, 31), "廃止理由": "統合"}
    closed = {x["会議ID"] for x in mt if x["協議会ID"] == "IZ-2" and x["開催日"] > D(2026, 3, 31)}
    mt = [x for x in mt if x["会議ID"] not in closed]
    op = [x for x in op if x["会議ID"] not in closed]
    m = [x for x in m if not (x["協議会ID"] == "IZ-2" and x["委嘱日"] > D(2026, 3, 31))]
    # 第6-2(2): 根白石 moved from 仙台北警察署 on 令和7年4月1日; its members re-appointed for the rest of the term.
    c[2] |= {"移管日": D(2025, 4, 1), "移管元": "仙台北警察署"}
    current = [x for x in m if x["協議会ID"] == "IZ-1" and x["委嘱日"] == D(2025, 4, 1)]
    # A resignation on 令和7年9月30日 and the successor for the rest of the term (第6-2(1)).
    gone = current[5]
    gone |= {"退任日": D(2025, 9, 30), "退任理由": "辞任"}
    m.append(
        gone
        | {
            "氏名": "渡辺　美香", "ふりがな": "わたなべ　みか", "性別": "女", "生年月日": D(1979, 5, 20),
            "職業": "保育士", "区分": "ボランティア団体関係者", "役職": "委員", "委嘱日": D(2025, 10, 15),
            "交付日": D(2025, 10, 15), "初回委嘱日": D(2025, 10, 15), "前任者": gone["氏名"],
            "退任日": None, "退任理由": None,
        }
    )  # fmt: skip
    # 第6-4(1): a member elected to the city council is dismissed; the row stays as history. His successor is
    # appointed under the new 署長 (乙山, from 令和8年4月1日), whose name her 委嘱状 prints.
    current[6] |= {"公職": "市議会議員（令和8年6月当選）", "退任日": D(2026, 6, 30), "退任理由": "解嘱（公職）"}
    m.append(
        current[6]
        | {
            "氏名": "及川　智子", "ふりがな": "おいかわ　ともこ", "性別": "女", "生年月日": D(1968, 2, 11),
            "職業": "民生委員", "区分": "公益的団体関係者", "役職": "委員", "公職": "無", "委嘱日": D(2026, 7, 10),
            "交付日": D(2026, 7, 10), "初回委嘱日": D(2026, 7, 10), "前任者": current[6]["氏名"],
            "退任日": None, "退任理由": None, "役職変更日": None, "新役職": None,
        }
    )  # fmt: skip
    # The 会長 hands over to another member on 令和8年4月1日 (a change of 役職 in mid-term).
    current[0] |= {"役職変更日": D(2026, 4, 1), "新役職": "委員"}
    current[2] |= {"役職変更日": D(2026, 4, 1), "新役職": "会長"}
    # 第8-2: an answer given later, and a request still in progress (中間連絡).
    june = {x["会議ID"] for x in mt if x["協議会ID"] == "IZ-1" and D(2026, 6, 1) <= x["開催日"] <= D(2026, 6, 30)}
    recent = [x for x in op if x["会議ID"] in june][:2]
    recent[0] |= {"回答日": D(2026, 8, 20), "措置状況": "済"}
    recent[1] |= {"回答": "市と協議しています。", "回答日": D(2026, 9, 1), "措置状況": "中間連絡"}
    chiefs = [{"氏名": "甲野　太郎", "着任日": D(2019, 4, 1)}, {"氏名": "乙山　次郎", "着任日": D(2026, 4, 1)}]
    station = {"警察署名": "泉警察署", "署長氏名": "乙山　次郎"}
    write_workbook(
        OUT / "泉警察署.xlsx",
        station,
        {"署長": chiefs, "協議会": c, "委員": m, "会議": mt, "意見要望": op},
        date_style="excel",
    )


def _order(r: dict) -> dict:
    keys = ["協議会ID", "氏名", "ふりがな", "性別", "生年月日", "年齢"]
    return {k: r[k] for k in keys} | {k: v for k, v in r.items() if k not in keys}


if __name__ == "__main__":
    sendai()
    ishinomaki()
    kesennuma()
    izumi()
    print(f"wrote samples to {OUT}")
