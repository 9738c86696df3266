"""Deterministic fictional station workbooks, written the way clerks keep them (samples and bench)."""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from pipeline.ooxml.xlsx_clean import clean_xlsx

SURNAMES = "佐藤 高橋 鈴木 阿部 千葉 伊藤 菅原 佐々木 遠藤 渡辺 斎藤 菊地 小野寺 後藤 及川 今野 熊谷 木村 山﨑 髙橋 三浦 大友 早坂 庄司".split()
SURNAME_KANA = "さとう たかはし すずき あべ ちば いとう すがわら ささき えんどう わたなべ さいとう きくち おのでら ごとう おいかわ こんの くまがい きむら やまざき たかはし みうら おおとも はやさか しょうじ".split()
GIVEN_M = [
    ("一郎", "いちろう"),
    ("健一", "けんいち"),
    ("正夫", "まさお"),
    ("浩", "ひろし"),
    ("誠", "まこと"),
    ("大輔", "だいすけ"),
    ("和也", "かずや"),
    ("隆", "たかし"),
]
GIVEN_F = [
    ("洋子", "ようこ"),
    ("恵子", "けいこ"),
    ("美香", "みか"),
    ("由美", "ゆみ"),
    ("さくら", "さくら"),
    ("真理子", "まりこ"),
    ("愛", "あい"),
    ("智子", "ともこ"),
]
JOBS = [
    "会社員",
    "自営業（酒店）",
    "町内会長",
    "市役所職員",
    "農業",
    "主婦",
    "会社役員",
    "元教員",
    "漁業",
    "商店街振興組合理事",
    "保育士",
    "僧侶",
]
CATEGORIES = ["自治会等役員", "自治体・公的機関職員", "公益的団体関係者", "ボランティア団体関係者", "その他"]
RANKS = ["巡査", "巡査長", "巡査部長", "警部補"]
PLACES = ["交番2階会議室", "地区公民館", "集会所", "市民センター会議室"]
OPINIONS = [
    ("夜間、公園周辺で若者がたむろしている。", "夜間のパトロールを強化します。"),
    ("通学路の見通しの悪い交差点で事故が心配。", "道路管理者と協議し、注意喚起看板の設置を働きかけます。"),
    (
        "高齢者を狙った特殊詐欺の手口を知りたい。",
        "最新の手口をまとめたチラシを配布しました。\n次回会議でも説明します。",
    ),
    ("街路灯が切れている場所がある。", "市に連絡し、修理を依頼しました。"),
    ("空き家への不審者の出入りが心配です。", "所有者に連絡するとともに、立寄り警戒を実施します。"),
]


@dataclass
class CouncilPlan:
    id: str
    name: str
    kind: str
    posts: str
    post_type: str
    district: str
    established: dt.date
    manager_title: str
    job_kind: str = ""
    reason: str = ""
    members: int = 10


def fy_start(y: int) -> dt.date:
    return dt.date(y, 4, 1)


def plan_rows(station: str, councils: list[CouncilPlan], seed: int, as_of: dt.date, first_fy: int = 2021):
    """Members over 2-year terms since first_fy, and two or three meetings a 年度, all valid on as_of."""
    rnd = random.Random(seed)
    council_rows, member_rows, meeting_rows, opinion_rows = [], [], [], []
    mid = 0
    used: set[tuple[str, str]] = set()
    for c in councils:
        mgr = f"{rnd.choice(SURNAMES)}　{rnd.choice(GIVEN_M)[0]}"
        council_rows.append(
            {
                "協議会ID": c.id, "名称": c.name, "種別": c.kind, "職種等区分": c.job_kind, "設置理由": c.reason,
                "交番等": c.posts, "交番等区分": c.post_type, "所管区名": c.district, "設置日": c.established,
                "運営責任者職名": c.manager_title, "運営責任者階級": rnd.choice(RANKS[2:]), "運営責任者氏名": mgr,
                "文書番号": "", "報告日": None,
            }
        )  # fmt: skip
        people = []
        for i in range(c.members + 3):
            while True:  # one name, one person: no two members share a name in a station
                s = rnd.randrange(len(SURNAMES))
                female = rnd.random() < 0.4
                given, gkana = rnd.choice(GIVEN_F if female else GIVEN_M)
                if (SURNAMES[s], given) not in used:
                    used.add((SURNAMES[s], given))
                    break
            birth = dt.date(rnd.randint(1945, 1995), rnd.randint(1, 12), rnd.randint(1, 28))
            people.append(
                {
                    "氏名": f"{SURNAMES[s]}　{given}", "ふりがな": f"{SURNAME_KANA[s]}　{gkana}",
                    "性別": "女" if female else "男", "生年月日": birth, "職業": rnd.choice(JOBS),
                    "区分": CATEGORIES[i % 5] if i % 5 != 4 or rnd.random() < 0.5 else CATEGORIES[0],
                }
            )  # fmt: skip
        # Three members retire after the first term; three newcomers take their places.
        terms = []
        for y in range(first_fy, fiscal_year(as_of) + 1, 2):
            terms.append((fy_start(y), dt.date(y + 2, 3, 31)))
        first_start = max(c.established, fy_start(first_fy))
        for t, (start, end) in enumerate(terms):
            roster = people[: c.members] if t == 0 else people[3 : c.members + 3]
            for i, p in enumerate(roster):
                role = "会長" if i == 0 else ("副会長" if i == 1 else "委員")
                first = first_start if (t == 0 or people.index(p) < c.members) else terms[1][0]
                row = dict(p) | {
                    "協議会ID": c.id, "役職": role, "公職": "無", "委嘱日": start, "任期満了日": end,
                    "交付日": start, "初回委嘱日": first, "前任者": "", "任期変更": "",
                }  # fmt: skip
                member_rows.append(row)
        # Meetings: 定例 twice a 年度 (June, November), one 臨時 now and then.
        for y in range(max(first_fy, fiscal_year(c.established)), fiscal_year(as_of) + 1):
            dates = [
                (dt.date(y, 6, 10 + rnd.randint(0, 15)), "定例", 1),
                (dt.date(y, 11, 5 + rnd.randint(0, 15)), "定例", 2),
            ]
            if rnd.random() < 0.3:
                dates.append((dt.date(y + 1, 2, 3 + rnd.randint(0, 20)), "臨時", None))
            for d, kind, rnd_no in dates:
                if d > as_of - dt.timedelta(days=3) or d < c.established:
                    continue
                mid += 1
                meeting_id = f"{c.id}-{mid:03d}"
                serving = c.members
                officers = rnd.randint(3, 6)
                meeting_rows.append(
                    {
                        "会議ID": meeting_id, "協議会ID": c.id, "会議種別": kind, "回次": rnd_no, "開催日": d,
                        "開始時刻": dt.time(14, 0) if kind == "定例" else dt.time(18, 30),
                        "終了時刻": dt.time(15, 30) if kind == "定例" else dt.time(19, 45),
                        "開催場所": f"{c.posts.split('、')[0]}{rnd.choice(PLACES)}",
                        "参加委員数": rnd.randint(serving - 4, serving), "参加警察官数": officers,
                        "地域幹部数": 1, "その他幹部数": rnd.randint(0, 1),
                        "委員以外の参加者": "小学校PTA役員2名" if rnd.random() < 0.2 else "",
                        "テーマ": rnd.choice(["特殊詐欺被害防止", "通学路の安全", "夜間の防犯", "交通事故防止"]),
                        "報告日": d + dt.timedelta(days=3), "報告者交番等": c.posts.split("、")[0],
                        "報告者階級": rnd.choice(RANKS), "報告者氏名": mgr, "報告先": "署長", "備考": "",
                    }
                )  # fmt: skip
                for o in rnd.sample(OPINIONS, rnd.randint(1, 3)):
                    opinion_rows.append({"会議ID": meeting_id, "意見・要望": o[0], "回答": o[1]})
    return council_rows, member_rows, meeting_rows, opinion_rows


def fiscal_year(d: dt.date) -> int:
    return d.year if d.month >= 4 else d.year - 1


def write_workbook(
    path: Path,
    station: dict,
    sheets: dict[str, list[dict]],
    *,
    title_rows: bool = False,
    date_style: str = "excel",
    blank_every: int = 0,
    extra_column: bool = False,
    header_variants: dict[str, str] | None = None,
) -> None:
    """Write rows the way a clerk would, with the chosen quirks."""
    wb = Workbook()
    ws = wb.active
    ws.title = "署"
    ws.append(["項目", "値"])
    for k, v in station.items():
        ws.append([k, v])
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 30
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        if not rows:
            continue
        headers = list(rows[0].keys())
        if title_rows:
            ws.append([f"{station['警察署名']}　{name}一覧"])
            ws["A1"].font = Font(bold=True, size=14)
            ws.append([])
        shown = [(header_variants or {}).get(h, h) for h in headers]
        ws.append(shown + (["メモ"] if extra_column else []))
        for i, row in enumerate(rows):
            if blank_every and i and i % blank_every == 0:
                ws.append([])
            values = [_style(row[h], date_style, i) for h in headers]
            ws.append(values + ([""] if extra_column else []))
            r = ws.max_row
            for j, h in enumerate(headers):
                cell = ws.cell(r, j + 1)
                if isinstance(row[h], dt.date) and date_style == "excel":
                    cell.number_format = '[$-ja-JP]ggge"年"m"月"d"日"' if i % 2 else "yyyy/m/d"
                elif isinstance(row[h], dt.time):
                    cell.number_format = "h:mm"
        for j, h in enumerate(shown):
            ws.column_dimensions[chr(65 + j) if j < 26 else "A"].width = max(10, len(h) * 2 + 2)
    wb.properties.creator = "sample"
    fixed = dt.datetime(2026, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(clean_xlsx(buf.getvalue()))  # shared strings and schema order, as Excel saves it


def _zen(s: str) -> str:
    return s.translate({i: i + 0xFEE0 for i in range(0x30, 0x3A)})


def _style(v, date_style: str, i: int):
    """Dates and counts typed as text in the ways clerks type them."""
    if isinstance(v, dt.date) and date_style == "text":
        from pipeline.core.fmt import wareki

        forms = [
            wareki(v),
            f"{v.year}/{v.month}/{v.day}",
            _zen(f"{v.year}年{v.month}月{v.day}日"),
            _era_short(v),
        ]
        return forms[i % len(forms)]
    if isinstance(v, int) and not isinstance(v, bool) and date_style == "text" and i % 3 == 0:
        return _zen(str(v)) + ("人" if i % 2 else "")
    if isinstance(v, dt.time) and date_style == "text":
        return f"午後{v.hour - 12}時{v.minute:02d}分" if v.hour >= 12 and v.minute else f"{v.hour}:{v.minute:02d}"
    return v


def _era_short(v: dt.date) -> str:
    from pipeline.core.fmt import era_of

    name, year = era_of(v)
    initial = {"令和": "R", "平成": "H", "昭和": "S"}[name]
    return f"{initial}{year}.{v.month}.{v.day}"
