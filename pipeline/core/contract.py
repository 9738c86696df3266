"""The input workbook contract (SPEC section 2): sheets, columns, aliases, kinds and choices."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field

from pipeline.core.normalize import choice_key

RANKS = ["巡査", "巡査長", "巡査部長", "警部補", "警部", "警視", "警視正", "警視長", "警視監", "警視総監"]

KINDS = {"所管区": "所管区ごとの連絡協議会", "単位": "単位連絡協議会", "職種等": "職種等連絡協議会"}
JOB_KINDS = {"(1)": "団地等", "(2)": "繁華街等", "(3)": "外国人", "(4)": "女性", "(5)": "その他"}
POST_TYPES = ["交番", "駐在所（単独配置）", "駐在所（複数配置）"]
CATEGORIES = {
    "自治会等役員": "ア",
    "自治体・公的機関職員": "イ",
    "公益的団体関係者": "ウ",
    "ボランティア団体関係者": "エ",
    "その他": "",
}
LEADER_CATEGORIES = {k for k, v in CATEGORIES.items() if v}
GENDERS = ["男", "女", "その他"]
MEETING_KINDS = ["定例", "臨時"]
REPORT_TO = ["署長", "副署長", "次長"]
# Choice columns that also accept free text: the drop-down offers these, the reader keeps what was typed.
CLOSE_REASONS = ["統合", "分割", "移管", "廃止"]
LEAVE_REASONS = ["辞任", "解嘱（公職）", "死亡", "転出", "その他"]
MEASURES = ["済", "中間連絡", "検討中"]


def _table(pairs: dict[str, list[str]]) -> dict[str, str]:
    """choice_key(alias) -> canonical, every canonical value being its own alias."""
    out: dict[str, str] = {}
    for canonical, aliases in pairs.items():
        for a in [canonical, *aliases]:
            out[choice_key(a)] = canonical
    return out


CHOICES: dict[str, dict[str, str]] = {
    "種別": _table(
        {
            "所管区": ["連絡協議会", "所管区連絡協議会", "所管区ごとの連絡協議会", "所管区ごと"],
            "単位": ["単位連絡協議会"],
            "職種等": ["職種等連絡協議会", "職種"],
        }
    ),
    "職種等区分": _table({k: [k.strip("()"), v, f"{k}{v}", f"{k.strip('()')}{v}"] for k, v in JOB_KINDS.items()}),
    "交番等区分": _table(
        {
            "交番": [],
            "駐在所（単独配置）": ["駐在所単独", "単独駐在所", "単独配置駐在所", "単独配置", "単独"],
            "駐在所（複数配置）": ["駐在所複数", "複数駐在所", "複数配置駐在所", "複数配置", "複数"],
        }
    ),
    "階級": _table({r: [] for r in RANKS}),
    "性別": _table({"男": ["男性", "M"], "女": ["女性", "F"], "その他": []}),
    "区分": _table({k: ([v, f"({v})", f"{v}{k}"] if v else ["他"]) for k, v in CATEGORIES.items()} | {}),
    "会議種別": _table({"定例": ["定期", "定例会議", "定期会議", "定例会", "定期会"], "臨時": ["臨時会議", "臨時会"]}),
    "報告先": _table({"署長": ["警察署長"], "副署長": [], "次長": []}),
}
# Common longer spellings of the 選定区分 (第3-2(2)イ (ア)-(エ)).
CHOICES["区分"].update(
    {
        choice_key(a): c
        for c, aliases in {
            "自治会等役員": ["自治会役員", "町内会役員", "自治会・町内会役員", "地域自治組織の役員"],
            "自治体・公的機関職員": ["自治体職員", "公的機関職員", "自治体又は公的機関の職員"],
            "公益的団体関係者": ["公益的団体の関係者", "防犯協会", "交通安全協会"],
            "ボランティア団体関係者": ["ボランティア", "ボランティア団体", "ボランティア活動団体関係者"],
        }.items()
        for a in aliases
    }
)


@dataclass(frozen=True)
class Col:
    name: str
    kind: str  # text | id | date | time | count | choice | flag
    required: bool = False  # value required in every record
    aliases: tuple[str, ...] = ()
    choices: str | None = None  # key into CHOICES
    must_exist: bool | None = None  # column-missing when absent; defaults to `required`
    help: str = ""
    field: str = ""  # the model attribute this column fills (model objects are built by this name)
    suggest: tuple[str, ...] = ()  # drop-down values of the blank workbook for a free-text column

    @property
    def needed(self) -> bool:
        return self.required if self.must_exist is None else self.must_exist


@dataclass(frozen=True)
class SheetSpec:
    name: str
    columns: tuple[Col, ...]
    required: bool = True
    key_value: bool = False  # 署: 項目 / 値 pairs
    example: dict = field(default_factory=dict)

    def col(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


COUNCIL_REF = ("協議会番号", "協議会No", "協議会No.", "協議会コード")
MEETING_REF = ("会議番号", "会議No", "会議No.")

STATION = SheetSpec(
    "署",
    (
        Col("警察署名", "text", True, help="例：仙台中央警察署", field="name"),
        Col(
            "署長氏名",
            "text",
            help="現在の署長。シート「署長」があれば委嘱状には交付日に在任の署長を印字します（署長の交代はシート「署長」に記録）",
            field="chief_name",
        ),
        Col("本部長宛名", "text", help="設置報告書の宛名。空欄なら「宮城県警察本部長」", field="addressee"),
        Col("委嘱状敬称", "text", help="委嘱状の氏名の後の敬称（例：殿・様）。空欄なら「殿」", field="honorific"),
    ),
    key_value=True,
)

COUNCILS = SheetSpec(
    "協議会",
    (
        Col("協議会ID", "id", True, ("ID", *COUNCIL_REF), help="ブック内で重複しない番号", field="id"),
        Col("名称", "text", True, ("協議会名",), help="例：一番町交番連絡協議会", field="name"),
        Col("種別", "choice", True, ("協議会種別",), "種別", help="所管区／単位／職種等", field="kind"),
        Col(
            "職種等区分",
            "choice",
            False,
            (),
            "職種等区分",
            must_exist=False,
            help="職種等のとき必須（第5-1(1)～(5)）",
            field="job_kind",
        ),
        Col("設置理由", "text", False, (), must_exist=False, help="単位・職種等のとき必須", field="reason"),
        Col(
            "交番等", "text", True, ("交番・駐在所",), help="交番・駐在所の名称。複数なら「、」で区切る", field="posts"
        ),
        Col(
            "交番等区分",
            "choice",
            True,
            (),
            "交番等区分",
            help="交番／駐在所（単独配置）／駐在所（複数配置）",
            field="post_type",
        ),
        Col("所管区名", "text", True, ("所管区",), help="開催結果報告書に印字します", field="district"),
        Col("設置日", "date", True, ("設置年月日",), help="例：令和2年4月1日", field="established"),
        Col("運営責任者職名", "text", True, (), help="交番所長／駐在所長／駐在所勤務員", field="manager_title"),
        Col("運営責任者階級", "choice", True, (), "階級", help="巡査～警視", field="manager_rank"),
        Col("運営責任者氏名", "text", True, field="manager_name"),
        Col("文書番号", "text", False, help="「宮地第　号」の番号。空欄なら手書き用に空けます", field="doc_no"),
        Col("報告日", "date", False, help="設置報告書の日付。空欄なら手書き用に空けます", field="report_date"),
        Col(
            "廃止日",
            "date",
            False,
            ("廃止年月日",),
            help="統合・分割・他署への移管・廃止で協議会がなくなった最後の日",
            field="closed",
        ),
        Col(
            "廃止理由",
            "text",
            False,
            help="統合／分割／移管／廃止（自由記入も可）",
            field="close_reason",
            suggest=tuple(CLOSE_REASONS),
        ),
        Col(
            "移管日",
            "date",
            False,
            ("受入日",),
            help="他署から移管された協議会：この署の協議会になった最初の日（第6-2(2)）",
            field="received",
        ),
        Col("移管元", "text", False, help="移管元の警察署名", field="received_from"),
    ),
)

MEMBERS = SheetSpec(
    "委員",
    (
        Col("協議会ID", "id", True, COUNCIL_REF, field="council_id"),
        Col("氏名", "text", True, ("委員氏名",), field="name"),
        Col("ふりがな", "text", False, ("フリガナ", "よみがな"), field="kana"),
        Col("性別", "choice", False, (), "性別", help="男／女／その他", field="gender"),
        Col("生年月日", "date", False, help="生年月日か年齢のどちらかは必須", field="birth"),
        Col("年齢", "count", False, help="生年月日か年齢のどちらかは必須", field="age"),
        Col("職業", "text", False, ("職業・所属",), field="job"),
        Col("役職", "text", True, ("協議会役職",), help="会長／副会長／委員 など", field="role"),
        Col("区分", "choice", True, ("選定区分",), "区分", help="第3-2(2)イ (ア)～(エ) またはその他", field="category"),
        Col(
            "公職",
            "flag",
            False,
            ("公職の有無",),
            help="空欄・無＝なし。公職にある（なろうとする）ときは記入",
            field="public_office",
        ),
        Col("委嘱日", "date", True, ("任期開始日",), field="start"),
        Col("任期満了日", "date", True, ("任期終了日",), field="end"),
        Col("交付日", "date", False, help="委嘱状の日付。空欄なら委嘱日", field="issued"),
        Col("初回委嘱日", "date", False, help="最初に委嘱された日。空欄なら委嘱日", field="first_start"),
        Col("前任者", "text", False, help="欠員の後任のとき前任者の氏名", field="predecessor"),
        Col("任期変更", "text", False, help="承諾を得て任期を変更したときその理由", field="term_change"),
        Col(
            "退任日",
            "date",
            False,
            ("退任年月日",),
            help="任期の途中で辞任・解嘱・死亡・転出したときの在任最後の日。委嘱状の任期は書き換えません",
            field="left",
        ),
        Col(
            "退任理由",
            "text",
            False,
            help="辞任／解嘱（公職）／死亡／転出／その他（自由記入も可）",
            field="leave_reason",
            suggest=tuple(LEAVE_REASONS),
        ),
        Col(
            "役職変更日",
            "date",
            False,
            help="任期の途中で役職が変わったとき、新しい役職になった日",
            field="role_changed",
        ),
        Col("新役職", "text", False, help="役職変更日からの役職（会長／副会長 など）", field="new_role"),
    ),
)

MEETINGS = SheetSpec(
    "会議",
    (
        Col("会議ID", "id", True, MEETING_REF, field="id"),
        Col("協議会ID", "id", True, COUNCIL_REF, field="council_id"),
        Col("会議種別", "choice", True, (), "会議種別", help="定例／臨時", field="kind"),
        Col("回次", "count", False, (), must_exist=False, help="定例のとき必須（年度内の第何回か）", field="round"),
        Col("開催日", "date", True, field="date"),
        Col("開始時刻", "time", False, help="例：14:00、午後2時", field="start_time"),
        Col("終了時刻", "time", False, field="end_time"),
        Col("開催場所", "text", True, field="place"),
        Col("参加委員数", "count", True, field="members_n"),
        Col("参加警察官数", "count", True, field="officers_n"),
        Col("地域幹部数", "count", False, help="参加警察官数の内数", field="local_n"),
        Col("その他幹部数", "count", False, help="参加警察官数の内数", field="other_n"),
        Col("委員以外の参加者", "text", False, help="備考に印字します（第7-4）", field="outsiders"),
        Col("テーマ", "text", False, help="第8-1。備考に印字します", field="theme"),
        Col("報告日", "date", False, help="開催結果報告書の日付。空欄なら手書き用に空けます", field="report_date"),
        Col("報告者交番等", "text", True, field="reporter_post"),
        Col("報告者階級", "choice", True, (), "階級", field="reporter_rank"),
        Col("報告者氏名", "text", True, field="reporter_name"),
        Col("報告先", "choice", False, (), "報告先", help="署長（既定）／副署長／次長", field="report_to"),
        Col("備考", "text", False, field="note"),
    ),
)

OPINIONS = SheetSpec(
    "意見要望",
    (
        Col("会議ID", "id", True, MEETING_REF, field="meeting_id"),
        Col("意見・要望", "text", True, ("意見要望", "意見", "要望"), field="text"),
        Col("回答", "text", False, field="answer"),
        Col(
            "回答日",
            "date",
            False,
            help="措置状況を参加者に伝えた日（第8-2）。空欄は会議の場で回答。報告日より後の回答は報告書に印字しません",
            field="answered",
        ),
        Col(
            "措置状況",
            "text",
            False,
            help="済／中間連絡／検討中（自由記入も可）",
            field="status",
            suggest=tuple(MEASURES),
        ),
    ),
    required=False,
)

CHIEFS = SheetSpec(
    "署長",
    (
        Col("氏名", "text", True, ("署長氏名",), help="署長の氏名", field="name"),
        Col("着任日", "date", True, ("就任日",), help="着任した日。次の署長の着任日の前日まで在任", field="since"),
    ),
    required=False,
)

ELECTIONS = SheetSpec(
    "選挙期間",
    (
        Col("選挙名", "text", True, field="name"),
        Col("告示日", "date", True, ("公示日", "告示日・公示日", "告示日/公示日"), field="notice"),
        Col("投票日", "date", True, field="vote"),
    ),
    required=False,
)

SHEETS: tuple[SheetSpec, ...] = (STATION, CHIEFS, COUNCILS, MEMBERS, MEETINGS, OPINIONS, ELECTIONS)
ELECTION_BOOK = "選挙期間.xlsx"


@functools.lru_cache(maxsize=8192)  # called for every cell of a sheet's first rows: the same few texts
def header_key(s: object) -> str:
    """Header matching key: width/spaces folded, bracketed notes, colons and required marks dropped."""
    t = unicodedata.normalize("NFKC", str(s))
    t = re.sub(r"\([^)]*\)", "", t)  # （注）, (必須), (YYYY/MM/DD) ...
    t = re.sub(r"[\s※*＊:]", "", t)
    return t


# Sheet names clerks use for the same sheets.
SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    "署": ("警察署", "署情報", "基本情報"),
    "署長": ("歴代署長", "署長履歴", "署長一覧"),
    "協議会": ("協議会一覧", "連絡協議会", "連絡協議会一覧"),
    "委員": ("委員名簿", "委員一覧", "委員名簿一覧"),
    "会議": ("会議一覧", "会議記録", "開催状況", "会議開催状況"),
    "意見要望": ("意見・要望", "意見要望一覧"),
    "選挙期間": ("選挙", "選挙日程", "選挙一覧"),
}


def alias_map(spec: SheetSpec) -> dict[str, str]:
    m: dict[str, str] = {}
    for c in spec.columns:
        for a in (c.name, *c.aliases):
            m.setdefault(header_key(a), c.name)
    return m


D = dt.date
EXAMPLE_MARK = "記入例"  # the mark beside the template's example row (a row so marked is not a record)
# The template's 記入例 row (template_xlsx.py writes it; read.py skips it while it still reads so).
EXAMPLES: dict[str, dict[str, object]] = {
    "協議会": {
        "協議会ID": "1", "名称": "一番町交番連絡協議会", "種別": "所管区", "交番等": "一番町交番",
        "交番等区分": "交番", "所管区名": "一番町交番所管区", "設置日": D(2020, 4, 1), "運営責任者職名": "交番所長",
        "運営責任者階級": "警部補", "運営責任者氏名": "宮城　太郎",
    },
    "委員": {
        "協議会ID": "1", "氏名": "仙台　花子", "ふりがな": "せんだい　はなこ", "性別": "女",
        "生年月日": D(1965, 4, 1), "職業": "町内会長", "役職": "会長", "区分": "自治会等役員", "公職": "無",
        "委嘱日": D(2025, 4, 1), "任期満了日": D(2027, 3, 31),
    },
    "会議": {
        "会議ID": "1-001", "協議会ID": "1", "会議種別": "定例", "回次": 1, "開催日": D(2025, 6, 10),
        "開始時刻": dt.time(14, 0), "終了時刻": dt.time(15, 30), "開催場所": "一番町交番2階会議室",
        "参加委員数": 8, "参加警察官数": 4, "地域幹部数": 1, "その他幹部数": 0, "テーマ": "特殊詐欺被害防止",
        "報告者交番等": "一番町交番", "報告者階級": "巡査部長", "報告者氏名": "宮城　太郎", "報告先": "署長",
    },
    "意見要望": {"会議ID": "1-001", "意見・要望": "夜間、公園周辺が暗い。", "回答": "市に街路灯の設置を要望します。"},
    "署長": {"氏名": "宮城　一郎", "着任日": D(2025, 4, 1)},
    "選挙期間": {"選挙名": "○○市長選挙", "告示日": D(2025, 7, 20), "投票日": D(2025, 8, 3)},
}  # fmt: skip
