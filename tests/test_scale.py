"""The scale workbook: realistic councils of about ten members over several terms, meetings and opinions, a
few planted findings of every cross-row rule, plus one council with thousands of members to catch
per-council quadratic work.

Whether validation time grows with the workbook and not with its square (20,000 against 40,000 member rows,
CPU-time ratios) is measured by `make bench` (bench/run.py): timing on a shared machine is noise in a test.

`python -m tests.test_scale DIR N` writes such a workbook (docs/performance.md measures `check` on them).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

from pipeline.checking.checks import first_earlier_overlaps
from pipeline.checking.result import Options
from pipeline.checking.validate import validate_workbook

D = dt.date
AS_OF = D(2026, 11, 27)

SURNAMES = "佐藤 高橋 鈴木 阿部 千葉 伊藤 菅原 佐々木 遠藤 渡辺 斎藤 菊地 小野寺 後藤 及川 今野 熊谷 木村 山﨑 髙橋 三浦 大友 早坂 庄司".split()
GIVEN = "一郎 健一 正夫 浩 誠 大輔 和也 隆 洋子 恵子 美香 由美 さくら 真理子 愛 智子".split()
CATEGORIES = ["自治会等役員", "自治体・公的機関職員", "公益的団体関係者", "ボランティア団体関係者", "その他"]
COUNCIL_COLUMNS = [
    "協議会ID", "名称", "種別", "職種等区分", "設置理由", "交番等", "交番等区分", "所管区名", "設置日",
    "運営責任者職名", "運営責任者階級", "運営責任者氏名",
]  # fmt: skip
MEMBER_COLUMNS = [
    "協議会ID", "氏名", "性別", "生年月日", "年齢", "職業", "役職", "区分", "公職", "委嘱日", "任期満了日",
    "初回委嘱日", "前任者", "任期変更",
]  # fmt: skip
MEETING_COLUMNS = [
    "会議ID", "協議会ID", "会議種別", "回次", "開催日", "開催場所", "参加委員数", "参加警察官数", "地域幹部数",
    "その他幹部数", "報告者交番等", "報告者階級", "報告者氏名",
]  # fmt: skip
TERMS = [(D(2020, 4, 1), D(2022, 3, 31)), (D(2022, 4, 1), D(2024, 3, 31)), (D(2024, 4, 1), D(2026, 3, 31))]
TERMS.append((D(2026, 4, 1), D(2028, 3, 31)))


def _person(rnd: random.Random, name: str) -> dict:
    birth = D(rnd.randint(1945, 1995), rnd.randint(1, 12), rnd.randint(1, 28))
    return {
        "氏名": name,
        "性別": rnd.choice(["男", "女"]),
        "生年月日": birth if rnd.random() > 0.05 else None,
        "年齢": None,
        "職業": rnd.choice(["会社員", "自営業", "町内会長", "市役所職員", "農業", "元教員"]),
        "区分": rnd.choice(CATEGORIES),
    }


def _member_rows(rnd: random.Random, cid: str, names: list[str], terms: list[tuple[D, D]]) -> list[dict]:
    """Each person serves consecutive terms; now and then a planted finding of a cross-row rule."""
    people = [_person(rnd, n) for n in names]
    rows = []
    for t, (start, end) in enumerate(terms):
        for i, p in enumerate(people):
            if rnd.random() < 0.03 and t:
                continue  # a gap in service
            row = p | {
                "協議会ID": cid, "役職": "会長" if i == 0 else ("副会長" if i == 1 else "委員"), "公職": "無",
                "委嘱日": start, "任期満了日": end, "初回委嘱日": None, "前任者": None, "任期変更": None,
            }  # fmt: skip
            x = rnd.random()
            if x < 0.01:
                row["初回委嘱日"] = D(2010, 4, 1)  # long-tenure
            elif x < 0.015:
                row["公職"] = "市議会議員"  # public-office
            elif x < 0.02:
                row["任期満了日"] = end + dt.timedelta(days=200)  # term-length
            elif x < 0.025 and i > 2:
                row["前任者"] = people[i - 1]["氏名"]  # successor-term (the predecessor's term ends first)
                row["任期満了日"] = end + dt.timedelta(days=30)
                row["任期変更"] = "承諾済み"
            elif x < 0.03:
                row["任期満了日"] = D(2027, 1, 15) if t == len(terms) - 1 else end  # term-expiry
            elif x < 0.033:
                row["役職"] = "会長"  # a second chair
            elif x < 0.036:
                rows.append(dict(row))  # duplicate-id: the same member twice
            elif x < 0.038:
                row["生年月日"] = row["年齢"] = None  # required-value
            elif x < 0.04:
                row["任期満了日"] = start - dt.timedelta(days=1)  # term-order
            rows.append(row)
    return rows


def _meeting_rows(rnd: random.Random, cid: str, per_year: int, members: int, counter: list[int]) -> list[dict]:
    rows = []
    for fy in range(2020, 2026):
        for k in range(per_year):
            if rnd.random() < 0.05:
                continue  # regular-meeting: a 年度 without a 定例
            counter[0] += 1
            day = D(fy, 6, 1) + dt.timedelta(days=(k * 7) % 250 + rnd.randint(0, 5))
            rows.append(
                {
                    "会議ID": f"M{counter[0]:06d}", "協議会ID": cid, "会議種別": "定例", "回次": k + 1, "開催日": day,
                    "開催場所": "交番2階会議室", "参加委員数": members + (3 if rnd.random() < 0.02 else -2),
                    "参加警察官数": 4, "地域幹部数": 1, "その他幹部数": 1, "報告者交番等": "一番町交番",
                    "報告者階級": "巡査部長", "報告者氏名": "千葉　健一",
                }
            )  # fmt: skip
    return rows


def plan(n_members: int, seed: int = 11) -> dict[str, list[dict]]:
    """Rows of a station with n_members member rows: one council with a quarter of them, the rest in councils
    of ten people over four terms, with meetings in proportion."""
    rnd = random.Random(seed)
    councils, members, meetings = [], [], []
    counter = [0]
    big = n_members // 4
    i = 0
    while len(members) < n_members:
        cid = f"C{i:05d}"
        if i == 0:
            names = [f"{SURNAMES[k % 24]}　{GIVEN[k // 24 % 16]}{k // 384 or ''}" for k in range(big // len(TERMS))]
        else:
            names = [f"{s}　{g}" for s, g in rnd.sample([(s, g) for s in SURNAMES for g in GIVEN], 10)]
        rows = _member_rows(rnd, cid, names, TERMS)
        members += rows
        # A 定例 a 年度 in a council of ten; in the big one a meeting for every eight of its rows, so that
        # counting the members serving on each meeting's day one by one would be quadratic.
        meetings += _meeting_rows(rnd, cid, max(1, len(rows) // 8) if i == 0 else 1, len(names), counter)
        kind = "単位" if i % 50 == 7 else "所管区"  # kind-details: 単位 without 設置理由
        councils.append(
            {
                "協議会ID": cid if i % 997 != 5 else "C00001", "名称": f"第{i}交番連絡協議会", "種別": kind,
                "職種等区分": None, "設置理由": None, "交番等": f"第{i}交番", "交番等区分": "交番",
                "所管区名": f"第{i}交番所管区", "設置日": D(2019, 4, 1), "運営責任者職名": "交番所長",
                "運営責任者階級": "警部補", "運営責任者氏名": "千葉　健一",
            }
        )  # fmt: skip
        i += 1
    opinions = [{"会議ID": m["会議ID"], "意見・要望": "街路灯が暗い。", "回答": "市に伝えます。"} for m in meetings]
    elections = [
        {"選挙名": "参議院議員通常選挙", "告示日": D(2022, 6, 22), "投票日": D(2022, 7, 10)},
        {"選挙名": "市長選挙", "告示日": D(2023, 7, 20), "投票日": D(2023, 8, 6)},
    ]
    return {
        "協議会": councils,
        "委員": members[:n_members],
        "会議": meetings,
        "意見要望": opinions,
        "選挙期間": elections,
    }


def write(path: Path, n_members: int, seed: int = 11) -> Path:
    """The workbook of plan(n_members) as Excel saves one (shared strings, <dimension>), written directly:
    openpyxl takes minutes for such a workbook, and its write-only mode writes inline strings, which read slower."""
    sheets = {"署": [{"項目": "警察署名", "値": "大規模警察署"}]} | plan(n_members, seed)
    columns = {"協議会": COUNCIL_COLUMNS, "委員": MEMBER_COLUMNS, "会議": MEETING_COLUMNS}
    strings: dict[str, int] = {}
    parts = {}
    for n, (name, rows) in enumerate(sheets.items(), start=1):
        headers = columns.get(name) or list(rows[0])
        grid = [headers] + [[r.get(h) for h in headers] for r in rows]
        xml = [f'<dimension ref="A1:{get_column_letter(len(headers))}{len(grid)}"/><sheetData>']
        for i, values in enumerate(grid, start=1):
            xml.append(f'<row r="{i}">')
            for j, v in enumerate(values):
                ref = f"{get_column_letter(j + 1)}{i}"
                if isinstance(v, str):
                    xml.append(f'<c r="{ref}" t="s"><v>{strings.setdefault(v, len(strings))}</v></c>')
                elif isinstance(v, D):
                    xml.append(f'<c r="{ref}" s="1"><v>{(v - EPOCH).days}</v></c>')
                elif v is not None:
                    xml.append(f'<c r="{ref}"><v>{v}</v></c>')
            xml.append("</row>")
        parts[f"xl/worksheets/sheet{n}.xml"] = f'<worksheet xmlns="{NS}">{"".join(xml)}</sheetData></worksheet>'
    sst = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    parts["xl/sharedStrings.xml"] = f'<sst xmlns="{NS}" count="{len(strings)}" uniqueCount="{len(strings)}">{sst}</sst>'
    names = list(sheets)
    parts["xl/workbook.xml"] = (
        f'<workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'
        + "".join(f'<sheet name="{s}" sheetId="{n}" r:id="rId{n}"/>' for n, s in enumerate(names, start=1))
        + "</sheets></workbook>"
    )
    rels = [
        f'<Relationship Id="rId{n}" Type="{REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(names) + 1)
    ]
    rels.append(f'<Relationship Id="rIdS" Type="{REL}/styles" Target="styles.xml"/>')
    rels.append(f'<Relationship Id="rIdT" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>')
    parts["xl/_rels/workbook.xml.rels"] = f'<Relationships xmlns="{PKG}">{"".join(rels)}</Relationships>'
    parts["xl/styles.xml"] = STYLES
    parts["_rels/.rels"] = (
        f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    overrides = [f'<Override PartName="/{p}" ContentType="{CT}.{kind}+xml"/>' for p, kind in CONTENT_TYPES(len(names))]
    parts["[Content_Types].xml"] = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{"".join(overrides)}</Types>'
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, xml in parts.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml)
    return path


EPOCH = D(1899, 12, 30)
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
STYLES = (
    f'<styleSheet xmlns="{NS}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/m/d"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    "</styleSheet>"
)


def CONTENT_TYPES(sheets: int) -> list[tuple[str, str]]:
    out = [("xl/workbook.xml", "sheet.main"), ("xl/styles.xml", "styles"), ("xl/sharedStrings.xml", "sharedStrings")]
    return out + [(f"xl/worksheets/sheet{n}.xml", "worksheet") for n in range(1, sheets + 1)]


def test_planted_findings_are_found(tmp_path):
    """The scale workbook is not trivially clean: the cross-row rules have work to do on it."""
    result = validate_workbook(write(tmp_path / "署.xlsx", 2_000), Options(as_of=AS_OF))
    rules = {f.rule for f in result.findings}
    expected = {
        "duplicate-id", "term-order", "required-value", "public-office", "chair", "term-length", "successor-term",
        "term-expiry", "long-tenure", "regular-meeting", "election-period", "attending-members", "kind-details",
        "member-count", "regular-sequence",
    }  # fmt: skip
    assert expected <= rules, expected - rules


def test_first_earlier_overlaps_agrees_with_pairwise_scan():
    """The segment tree behind duplicate-id and chair gives what comparing every pair gives."""
    rnd = random.Random(7)
    for case in range(300):
        n = rnd.randint(0, 120)
        span = rnd.choice([20, 400, 5000])
        terms = []
        for _ in range(n):
            start = D(2020, 1, 1) + dt.timedelta(days=rnd.randrange(span))
            terms.append((start, start + dt.timedelta(days=rnd.randint(-30, span // 3))))  # some end before they start
        keys = [rnd.choice(["佐藤", "高橋", None]) for _ in range(n)] if case % 2 else None
        pairwise = [
            next(
                (
                    j
                    for j in range(i)
                    if terms[i][0] <= terms[j][1]
                    and terms[j][0] <= terms[i][1]
                    and (keys is None or keys[j] != keys[i])
                ),
                None,
            )
            for i in range(n)
        ]
        assert first_earlier_overlaps(terms, keys, small=0) == pairwise, case
        assert first_earlier_overlaps(terms, keys) == pairwise, case


if __name__ == "__main__":
    out = write(Path(sys.argv[1]) / "大規模警察署.xlsx", int(sys.argv[2]))
    print(out)
