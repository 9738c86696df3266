"""The placeholders each form may use: Japanese name, its meaning in Japanese, the key forms.py fills.

One declaration serves the renderer (the Japanese names are put beside forms.py's English keys at render
time, so the English names stay valid as aliases), `forms check` (every name a template uses must be
declared here) and `forms export` (the list of placeholders a clerk reads beside the templates).
forms.py computes the values; this module only names them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str  # the placeholder as the clerk types it: {{ 氏名 }}
    meaning: str  # what it prints, in Japanese
    key: str  # the key of forms.py's context
    example: str = ""  # a value of the kind it prints (the list and the trial render of `forms check`)
    items: tuple[Field, ...] = ()  # a list: the fields of each of its rows
    loop_var: str = ""  # a list: the row name the shipped template uses ({% for 委員 in 委員一覧 %})
    flag: bool = False  # a yes/no value, for {% if %}


def _f(name: str, key: str, meaning: str, example: str = "") -> Field:
    return Field(name, meaning, key, example)


FIELDS: dict[str, tuple[Field, ...]] = {
    "委嘱状": (
        _f("氏名", "name", "委員の氏名（委員シートの氏名）", "佐藤　一郎"),
        _f("敬称", "honorific", "氏名の後の敬称（署シートの委嘱状敬称。空欄なら「殿」）", "殿"),
        _f("協議会名", "council_name", "委嘱する連絡協議会の名称（協議会シートの名称）", "一番町交番連絡協議会"),
        _f("委嘱日", "start", "任期の初日（委員シートの委嘱日、和暦）", "令和2年4月1日"),
        _f("任期満了日", "end", "任期の末日（委員シートの任期満了日、和暦。退任日ではありません）", "令和4年3月31日"),
        _f("交付日", "issued", "委嘱状の日付（委員シートの交付日。空欄なら委嘱日、和暦）", "令和2年4月1日"),
        _f("警察署名", "station", "警察署名（署シートの警察署名）", "仙台中央警察署"),
        _f(
            "署長氏名",
            "chief",
            "交付日に在任の署長の氏名（署長シート。シートがなければ署シートの署長氏名。分からなければ手書き用の空白）",
            "大槻　正和",
        ),
    ),
    "設置報告書": (
        _f("本部長宛名", "addressee", "宛先（署シートの本部長宛名。空欄なら「宮城県警察本部長」）", "宮城県警察本部長"),
        _f("文書番号", "doc_no", "「宮地第　号」の番号（協議会シートの文書番号。空欄なら手書き用の空白）", "12"),
        _f("報告日", "report_date", "報告書の日付（協議会シートの報告日、和暦。空欄なら「年　月　日」）", "令和2年3月10日"),
        _f("警察署名", "station", "警察署名（署シートの警察署名）", "仙台中央警察署"),
        _f("名称", "name", "連絡協議会の名称（協議会シートの名称）", "一番町交番連絡協議会"),
        _f(
            "協議会種別",
            "kind",
            "協議会種別と（設置理由）（協議会シートの種別・設置理由）",
            "単位連絡協議会（2交番の統合のため）",
        ),
        Field(
            "委員一覧",
            "委員の構成：報告日（空欄なら設置日）に在任の委員。1行に1人",
            "members",
            items=(
                _f("氏名", "name", "委員の氏名", "佐藤　一郎"),
                _f("役職名", "role", "報告日（空欄なら設置日）の協議会での役職（役職変更日以後は新役職）", "会長"),
                _f("年齢", "age", "報告日（空欄なら設置日）の年齢", "65"),
                _f("性別", "gender", "性別", "男"),
                _f("職業", "job", "職業", "会社員"),
            ),
            loop_var="委員",
        ),
        _f("運営責任者職名", "manager_title", "運営責任者の職名（協議会シート）", "交番所長"),
        _f("運営責任者階級", "manager_rank", "運営責任者の階級（協議会シート）", "警部補"),
        _f("運営責任者氏名", "manager_name", "運営責任者の氏名（協議会シート）", "千葉　健一"),
    ),
    "開催結果報告書": (
        _f("宛先", "addressee", "宛先の「○○警察署長」（会議シートの報告先が副署長・次長ならその職）", "仙台中央警察署長"),
        _f("警察署名", "station", "警察署名（署シートの警察署名）", "仙台中央警察署"),
        _f("報告日", "report_date", "報告書の日付（会議シートの報告日、和暦。空欄なら「年　月　日」）", "令和2年3月9日"),
        _f("報告者交番等", "reporter_post", "報告者の交番・駐在所（会議シート）", "一番町交番"),
        _f("報告者階級", "reporter_rank", "報告者の階級（会議シート）", "巡査部長"),
        _f("報告者氏名", "reporter_name", "報告者の氏名（会議シート）", "千葉　健一"),
        _f("所管区名", "district", "所管区名（協議会シート）", "一番町交番所管区"),
        _f("協議会名", "council_name", "連絡協議会の名称（協議会シートの名称）", "一番町交番連絡協議会"),
        _f("開催日時", "when", "開催日と時刻（会議シートの開催日・開始時刻・終了時刻）", "令和2年3月5日（木）午後2時から午後3時30分まで"),
        _f("開催場所", "place", "開催場所（会議シート）", "一番町交番2階"),
        _f("参加委員数", "members_n", "参加委員数（会議シート）", "8"),
        _f("参加警察官数", "officers_n", "参加警察官数（会議シート）", "4"),
        _f("地域幹部数", "local_n", "参加した地域幹部の数（会議シート）", "1"),
        _f("その他幹部数", "other_n", "参加したその他の幹部の数（会議シート）", "2"),
        _f("定期会議印", "regular_mark", "定期会議のとき「○」、ほかは空白", "○"),
        _f("回次", "round", "定期会議の回次（会議シート。臨時会議では空白）", "2"),
        _f("臨時会議印", "extra_mark", "臨時会議のとき「○」、ほかは空白", ""),
        Field(
            "意見要望一覧",
            "開催状況：意見・要望と回答。1行に1件（なければ空の1行）",
            "opinions",
            items=(
                _f("意見要望", "text", "意見・要望（意見要望シート）", "街路灯が暗い。"),
                _f("回答", "answer", "回答（意見要望シート。回答日が報告日（空欄なら開催日）より後のものは空白）", "市に伝えます。"),
            ),
            loop_var="意見",
        ),
        Field(
            "別紙",
            "意見・要望が様式に収まらず別紙に回すとき真（{% if 別紙 %} で使います）",
            "annex",
            flag=True,
        ),
        _f("開催日", "held", "開催日（和暦。別紙の見出しに使います）", "令和2年3月5日"),
        _f("備考", "note", "備考（テーマ、会議シートの備考、委員以外の参加者）", "テーマ：通学路の安全"),
    ),
}  # fmt: skip


def known_names(form: str) -> dict[str, Field]:
    """Every name a template of the form may use at its top level: Japanese, and English as an alias."""
    out: dict[str, Field] = {}
    for f in FIELDS[form]:
        out[f.name] = f
        out[f.key] = f
    return out


def _item(fields: tuple[Field, ...], row: dict) -> dict:
    out = dict(row)
    for f in fields:
        if f.key in row:
            out[f.name] = row[f.key]
    return out


def template_context(form: str, context: dict) -> dict:
    """forms.py's context with the Japanese names beside the English ones (the same values)."""
    out = dict(context)
    for f in FIELDS[form]:
        if f.key not in context:
            continue
        value = context[f.key]
        if f.items:
            value = [_item(f.items, row) for row in value]
            out[f.key] = value
        out[f.name] = value
    return out


def example_context(form: str) -> dict:
    """forms.py-shaped context (English keys) of example values: what `forms check` renders on trial."""
    out: dict = {}
    for f in FIELDS[form]:
        if f.items:
            out[f.key] = [{i.key: i.example for i in f.items}] * 2
        elif f.flag:
            out[f.key] = False
        else:
            out[f.key] = f.example
    return out


# --- the list a clerk reads beside the exported templates ---------------------------------------

LIST_NAME = "差込み項目一覧.html"


def _usage(f: Field) -> str:
    if f.items:
        first = f.items[0].name
        return f"{{%tr for {f.loop_var} in {f.name} %}} … {{{{ {f.loop_var}.{first} }}}} … {{%tr endfor %}}"
    if f.flag:
        return f"{{%p if {f.name} %}} … {{%p endif %}}"
    return f"{{{{ {f.name} }}}}"


def placeholder_rows(form: str) -> list[tuple[str, str, str, str]]:
    """(placeholder as typed, meaning, example, English alias) for each declared name, then a list's row fields."""
    rows = []
    for f in FIELDS[form]:
        rows.append((_usage(f), f.meaning, f.example, f.key))
        for i in f.items:
            rows.append(
                (f"{{{{ {f.loop_var}.{i.name} }}}}", f"（{f.name}の各行）{i.meaning}", i.example, f"{f.key}[].{i.key}")
            )
    return rows


def placeholder_page(forms: list[str]) -> str:
    """The HTML page exported beside the templates: each form's placeholders and their meaning."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="ja"><head><meta charset="utf-8"><title>様式の差込み項目一覧</title>',
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
        "th,td{border:1px solid #888;padding:4px 8px;text-align:left;vertical-align:top}"
        "code{font-size:110%}</style></head><body>",
        "<h1>様式の差込み項目一覧</h1>",
        "<p>Wordで様式を直すときは、下の差込み記号をそのまま（半角の {{ }} で）入力します。"
        "文言・罫線・書式は自由に変えられます。直したら <code>kobankyo forms check フォルダ</code> で確かめてください。"
        "英語の名前（右の列）も同じ値を差し込みます。</p>",
    ]
    for form in forms:
        out.append(f"<h2>{e(form)}（{e(form)}.docx）</h2>")
        out.append('<table class="fields"><tr><th>差込み記号</th><th>意味</th><th>例</th><th>英語名（別名）</th></tr>')
        for usage, meaning, example, alias in placeholder_rows(form):
            out.append(
                f"<tr><td><code>{e(usage)}</code></td><td>{e(meaning)}</td><td>{e(example)}</td>"
                f"<td><code>{e(alias)}</code></td></tr>"
            )
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
