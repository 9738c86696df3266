"""Word tables of the 要綱 rules that read free text: 公職 (第6-4(1)) and 開催場所 (第10-3); docs/rules.md lists them."""

from __future__ import annotations

import re
import unicodedata

from pipeline.core.normalize import choice_key

# --- 公職 (公職選挙法第3条: 衆議院議員、参議院議員並びに地方公共団体の議会の議員及び長) -------------------

# Text that begins with one of these says the member holds no office now (なし（元市議会議員）, 前町長).
PUBLIC_OFFICE_NONE_PREFIXES: tuple[str, ...] = ("なし", "無", "元", "前")
# Offices and functions that are not 公職 under 公職選挙法第3条 (appointed, honorary or community posts).
NOT_PUBLIC_OFFICES: tuple[str, ...] = (
    "民生委員",
    "児童委員",
    "主任児童委員",
    "消防団員",
    "消防団",
    "行政区長",
    "区長",  # in Miyagi a 区長 is a 行政区長 or a city ward's appointed head: no 特別区 outside Tokyo
    "副知事",
    "副市長",
    "副町長",
    "副村長",
    "議会事務局",
    "町内会長",
    "自治会長",
    "区長代理",
    "保護司",
    "人権擁護委員",
    "教育委員",
    "農業委員",
    "選挙管理委員",
    "監査委員",
    "行政相談委員",
    "交通指導員",
    "防犯指導員",
    "少年警察ボランティア",
    "PTA会長",
)
# Words that name a 公職 or a candidacy (checked after the words above are taken out of the text, so that
# 行政区長 is not read as 区長).
PUBLIC_OFFICES: tuple[str, ...] = (
    "国会議員",
    "衆議院",
    "参議院",
    "議員",
    "議会",
    "知事",
    "市長",
    "町長",
    "村長",
    "首長",
    "立候補",
    "候補",
    "出馬",
    "公認",
)

_NOT_PUBLIC_KEYS = tuple(choice_key(w) for w in NOT_PUBLIC_OFFICES)  # folded once, not per member


def holds_public_office(text: str | None) -> bool:
    """Whether what was typed in 公職 says the member holds or seeks a 公職 (SPEC section 3, public-office).

    Blank and the none words are handled by the reader; here: text beginning with なし/無/元/前 is none;
    a 公職 word (after the not-公職 words are taken out) is 公職; only not-公職 words is none; anything else
    (有, あり, a title we do not know) is 公職, so that nothing slips through unread.
    """
    if not text:
        return False
    key = choice_key(text)  # width folded (ＰＴＡ = PTA), spaces and brackets dropped
    if not key or key.startswith(PUBLIC_OFFICE_NONE_PREFIXES):
        return False
    rest = key
    for w in _NOT_PUBLIC_KEYS:
        rest = rest.replace(w, "")
    if any(w in rest for w in PUBLIC_OFFICES):
        return True
    return rest == key  # a not-公職 word alone (with its decorations) is none; anything else counts


# --- 開催場所 (第10-3: 交番等又は公民館、集会所等の地域のコミュニティー施設を利用する) ----------------------

# Commercial or entertainment venues, a company's premises: a warning even when a public word is also there.
VENUE_WORDS: tuple[str, ...] = (
    "居酒屋",
    "料亭",
    "料理店",
    "割烹",
    "スナック",
    "キャバクラ",
    "ラウンジ",
    "ナイトクラブ",
    "飲食店",
    "レストラン",
    "焼肉",
    "寿司",
    "ホテル",
    "旅館",
    "宴会場",
    "遊技場",
    "パチンコ",
    "カラオケ",
    "株式会社",
    "㈱",
    "(株)",
    "有限会社",
    "㈲",
    "(有)",
    "本社",
    "支社",
    "工場",
)
# Places 第10-3 names or means (no warning without a venue word); listed for the documentation and tests.
PUBLIC_PLACES: tuple[str, ...] = (
    "交番",
    "駐在所",
    "警察署",
    "公民館",
    "集会所",
    "集会場",
    "会館",
    "コミュニティセンター",
    "市民センター",
    "地区センター",
    "学校",
    "市役所",
    "役場",
)

_VENUE_KEYS = tuple((w, unicodedata.normalize("NFKC", w)) for w in VENUE_WORDS)  # ㈱ is (株) after NFKC


def venue_word(place: str | None) -> str | None:
    """The first venue word in 開催場所 (spaces removed, width folded), or None."""
    if not place:
        return None
    key = re.sub(r"\s", "", unicodedata.normalize("NFKC", place))
    for w, folded in _VENUE_KEYS:
        if folded in key:
            return w
    return None
