"""Findings as data: one frozen record per problem, plus the rule registry they refer to."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

from pipeline.core.model import fast_pickle


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def label(self) -> str:
        return {"error": "エラー", "warning": "警告", "info": "情報"}[self.value]


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue (SPEC section 3)."""

    id: str
    article: str
    severity: Severity
    title: str


INPUT = "入力規則"
OUTPUT = "出力"

# The single registry of every rule id, its article and default severity.
# docs/rules.md has one row per entry; tests/test_traceability.py enforces that.
RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule("file-unreadable", INPUT, Severity.ERROR, "ファイルが読めない"),
        Rule("sheet-missing", INPUT, Severity.ERROR, "必要なシートがない"),
        Rule("column-missing", INPUT, Severity.ERROR, "必要な列がない"),
        Rule("required-value", INPUT, Severity.ERROR, "必須の値が空欄"),
        Rule("bad-date", INPUT, Severity.ERROR, "日付が読めない"),
        Rule("bad-number", INPUT, Severity.ERROR, "人数・回次が0以上の整数でない"),
        Rule("bad-choice", INPUT, Severity.ERROR, "選択肢にない値"),
        Rule("duplicate-id", INPUT, Severity.ERROR, "IDまたは委員の重複"),
        Rule("unknown-ref", INPUT, Severity.ERROR, "存在しないIDの参照"),
        Rule("formula-no-value", INPUT, Severity.ERROR, "数式の値がない"),
        Rule("term-order", INPUT, Severity.ERROR, "日付の前後が逆"),
        Rule("time-order", INPUT, Severity.ERROR, "終了時刻が開始時刻より前"),
        Rule("after-closure", INPUT, Severity.ERROR, "廃止後の会議・任期"),
        Rule("weekday-mismatch", INPUT, Severity.WARNING, "日付と曜日が合わない"),
        Rule("duplicate-station", INPUT, Severity.WARNING, "同じ警察署のブックが複数"),
        Rule("example-row", INPUT, Severity.WARNING, "記入例の行に記録"),
        Rule("write-failed", OUTPUT, Severity.ERROR, "文書を書き込めない"),
        Rule("internal-error", INPUT, Severity.ERROR, "プログラム内部のエラー"),
        Rule("output-link", INPUT, Severity.ERROR, "出力先が見知らぬリンク"),
        Rule("public-office", "第6-4(1)", Severity.ERROR, "公職にある委員"),
        Rule("chair", "第3-2(1)", Severity.ERROR, "会長の選任"),
        Rule("vice-chair", "第3-2(1)", Severity.WARNING, "副会長の選任"),
        Rule("manager-designation", "第3-2(3)ア", Severity.ERROR, "運営責任者の指定"),
        Rule("member-count", "第6-1", Severity.WARNING, "委員の人数"),
        Rule("community-leaders", "第3-2(2)イ", Severity.WARNING, "コミュニティ・リーダーの割合"),
        Rule("breadth", "第3-2(2)ア", Severity.WARNING, "委員の幅広い選定"),
        Rule("term-length", "第6-2(1)(3)", Severity.WARNING, "任期が2年を超える"),
        Rule("successor-term", "第6-2(1)", Severity.ERROR, "後任委員の任期"),
        Rule("unknown-predecessor", "第6-2(1)", Severity.WARNING, "前任者が見つからない"),
        Rule("term-expiry", "第6-3", Severity.INFO, "任期満了が近い"),
        Rule("long-tenure", "第6-4(2)", Severity.WARNING, "長期在任"),
        Rule("regular-meeting", "第7-2(1)", Severity.WARNING, "定例会議の未開催"),
        Rule("election-period", "第10-3", Severity.WARNING, "選挙運動期間中の開催"),
        Rule("meeting-place", "第10-3", Severity.WARNING, "開催場所"),
        Rule("open-request", "第8-2", Severity.WARNING, "意見・要望の措置状況"),
        Rule("chief-history", "様式第1号", Severity.WARNING, "署長の在任期間"),
        Rule("officer-inner-count", "様式第3号", Severity.ERROR, "幹部数の内数"),
        Rule("attending-members", "様式第3号", Severity.ERROR, "参加委員数が委員数を超える"),
        Rule("future-meeting", "第11-2", Severity.ERROR, "開催前の結果報告"),
        Rule("regular-sequence", "第7-2", Severity.WARNING, "定例会議の回次"),
        Rule("kind-details", "第4-1, 第5-1, 様式第2号注2", Severity.ERROR, "種別の記載事項"),
        Rule("council-name", "様式第2号注1", Severity.WARNING, "協議会の名称"),
    ]
}


@fast_pickle
@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    rule: str
    article: str
    sheet: str | None
    row: int | None
    column: str | None
    cell: str | None
    message: str

    def to_json(self) -> dict:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


def make_finding(
    rule: str,
    message: str,
    *,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    cell: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """Build a finding whose article and default severity come from the registry."""
    r = RULES[rule]
    return Finding(
        severity=severity or r.severity,
        rule=rule,
        article=r.article,
        sheet=sheet,
        row=row,
        column=column,
        cell=cell,
        message=message,
    )


class WorkbookUnreadable(Exception):
    """Stops one workbook entirely (the only exception findings ever become)."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding
