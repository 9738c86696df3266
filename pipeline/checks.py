"""Cross-row and cross-sheet 要綱 rules, registered by rule id; each docstring quotes its article."""

from __future__ import annotations

import datetime as dt
import heapq
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from .contract import LEADER_CATEGORIES
from .findings import Finding, Severity, make_finding
from .fmt import wareki, wareki_fy
from .model import Book, Election, Meeting, Member, add_years, fiscal_year, same_text_key


@dataclass
class Ctx:
    book: Book
    as_of: dt.date
    locate: Callable[[str, int | None, str], dict]  # (canonical sheet, row, column) -> location kwargs
    # Whether the raw cell holds anything: a value that is there but unreadable already has its own
    # bad-date/bad-number finding, so it is not also reported as missing.
    present: Callable[[str, int, str], bool]
    long_tenure_years: int = 10
    expiry_days: int = 60

    def at(self, sheet: str, row: int | None, column: str) -> dict:
        return self.locate(sheet, row, column)

    def sheet(self, canonical: str) -> str:
        """The sheet's name as the clerk named it (委員名簿 for 委員), for messages."""
        return self.locate(canonical, None, "")["sheet"]

    def serving(self, council_id: str | None, day: dt.date) -> list[Member]:
        """The council's members serving on `day`, in workbook order."""
        if day == self.as_of:
            return list(self._serving_now.get(council_id, ()))
        return [m for m in self.members_of(council_id) if m.serving(day)]

    def serving_count(self, council_id: str | None, day: dt.date) -> int:
        """len(serving(council_id, day)) in O(log n): sorted starts and ends of the council's terms."""
        starts, ends = self._term_bounds.get(council_id, ((), ()))
        return bisect_right(starts, day) - bisect_left(ends, day)

    def members_of(self, council_id: str | None) -> list[Member]:
        return self._by_council.get(council_id, [])

    def terms_of(self, m: Member) -> Terms:
        """Every row of the same person (same_text_key of 氏名) in the same council."""
        return self._terms[(m.council_id, m.person)]

    # Indexes built once per workbook: every rule then does O(log n) work per row, not O(n).

    @cached_property
    def _by_council(self) -> dict[str | None, list[Member]]:
        out: dict[str | None, list[Member]] = defaultdict(list)
        for m in self.book.members:
            out[m.council_id].append(m)
        return dict(out)

    @cached_property
    def _serving_now(self) -> dict[str | None, list[Member]]:
        return {cid: [m for m in ms if m.serving(self.as_of)] for cid, ms in self._by_council.items()}

    @cached_property
    def _term_bounds(self) -> dict[str | None, tuple[list[dt.date], list[dt.date]]]:
        # A term with 満了日 before 委嘱日 serves on no day (it has a term-order finding): left out, the count
        # #(start <= day) - #(end < day) is exactly the number of terms with start <= day <= end.
        out = {}
        for cid, ms in self._by_council.items():
            terms = [(m.start, m.end) for m in ms if m.start is not None and m.end is not None and m.start <= m.end]
            out[cid] = (sorted(t[0] for t in terms), sorted(t[1] for t in terms))
        return out

    @cached_property
    def _terms(self) -> dict[tuple[str | None, str | None], Terms]:
        groups: dict[tuple[str | None, str | None], list[Member]] = defaultdict(list)
        for m in self.book.members:
            groups[(m.council_id, m.person)].append(m)
        return {key: Terms(ms) for key, ms in groups.items()}

    @cached_property
    def meetings_by_council(self) -> dict[str | None, list[Meeting]]:
        out: dict[str | None, list[Meeting]] = defaultdict(list)
        for mt in self.book.meetings:
            out[mt.council_id].append(mt)
        return dict(out)


class Terms:
    """The rows of one person in one council, with what the term rules ask of them precomputed."""

    def __init__(self, rows: list[Member]):
        self.rows = rows  # workbook order
        self.latest_start = max((m.start for m in rows if m.start), default=None)
        dated = [m for m in rows if m.start and m.end]
        # Latest start first; rows with the same start stay in workbook order (sorted() is stable with reverse).
        self.by_start_desc = sorted(dated, key=lambda m: m.start, reverse=True)
        self._desc_keys = [-m.start.toordinal() for m in self.by_start_desc]
        self._chains: dict[dt.date, dt.date] = {}

    def started_before(self, day: dt.date) -> list[Member]:
        """Rows with both dates that started before `day`, latest first (workbook order among equal starts)."""
        return self.by_start_desc[bisect_right(self._desc_keys, -day.toordinal()) :]

    def latest_before(self, day: dt.date) -> Member | None:
        """The row that started last before `day` (the first such row in workbook order on a tie)."""
        earlier = self.started_before(day)
        return earlier[0] if earlier else None

    def chain_start(self, start: dt.date) -> dt.date:
        """Start of continuous service up to a term starting on `start`: walk back over back-to-back terms."""
        current = self._chains.get(start)
        if current is None:
            current = start
            for t in self.started_before(start):
                if t.end < current - dt.timedelta(days=1):
                    break  # a gap: service before it was not continuous
                current = min(current, t.first_date)
            self._chains[start] = current
        return current


Check = Callable[[Ctx], Iterable[Finding]]
CHECKS: dict[str, Check] = {}
CHECK_RULES: dict[str, tuple[str, ...]] = {}  # check name -> rule ids it may report


def check(*rules: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[fn.__name__] = fn
        CHECK_RULES[fn.__name__] = rules
        return fn

    return register


def run_checks(ctx: Ctx) -> list[Finding]:
    out: list[Finding] = []
    for fn in CHECKS.values():
        out.extend(fn(ctx))
    return out


def _who(m: Member) -> str:
    return f"委員「{m.name or '（氏名なし）'}」"


def _term(m: Member) -> str:
    return f"{wareki(m.start)}～{wareki(m.end)}"


# --- input rules that span rows and sheets ------------------------------------------


@check("duplicate-id")
def duplicate_ids(ctx: Ctx) -> Iterator[Finding]:
    """協議会ID and 会議ID are unique keys; the same member twice with overlapping terms in one council."""
    for sheet, col, records in (
        ("協議会", "協議会ID", ctx.book.councils),
        ("会議", "会議ID", ctx.book.meetings),
    ):
        first: dict[str, int] = {}
        for r in records:
            if r.id is None:
                continue
            if r.id in first:
                yield make_finding(
                    "duplicate-id",
                    f"{col}「{r.id}」が{first[r.id]}行目と重複しています。別のIDを付けてください。",
                    **ctx.at(sheet, r.row, col),
                )
            else:
                first[r.id] = r.row
    # Each row against the earlier rows of the same person in the same council: the first one it overlaps.
    members = ctx.book.members
    groups: dict[tuple, list[int]] = defaultdict(list)
    for pos, m in enumerate(members):
        if m.council_id is not None and m.name is not None and m.start is not None and m.end is not None:
            groups[(m.council_id, m.person)].append(pos)
    clash: dict[int, Member] = {}
    for positions in groups.values():
        if len(positions) > 1:
            earlier = first_earlier_overlaps([(members[p].start, members[p].end) for p in positions])
            clash |= {p: members[positions[j]] for p, j in zip(positions, earlier, strict=True) if j is not None}
    for pos in sorted(clash):
        m, other = members[pos], clash[pos]
        yield make_finding(
            "duplicate-id",
            f"{_who(m)}の任期（{_term(m)}）が{other.row}行目の任期（{_term(other)}）と重なっています。"
            "同じ委員の重複行を削除するか、任期を直してください。",
            **ctx.at("委員", m.row, "委嘱日"),
        )


@check("unknown-ref")
def unknown_refs(ctx: Ctx) -> Iterator[Finding]:
    """Every 協議会ID and 会議ID referred to must exist in its own sheet."""
    councils = {c.id for c in ctx.book.councils}
    meetings = {m.id for m in ctx.book.meetings}
    for sheet, records, col, known, target in (
        ("委員", ctx.book.members, "協議会ID", councils, "協議会"),
        ("会議", ctx.book.meetings, "協議会ID", councils, "協議会"),
        ("意見要望", ctx.book.opinions, "会議ID", meetings, "会議"),
    ):
        for r in records:
            ref = r.council_id if col == "協議会ID" else r.meeting_id
            if ref is not None and ref not in known:
                yield make_finding(
                    "unknown-ref",
                    f"{col}「{ref}」はシート「{ctx.sheet(target)}」にありません。正しい{col}を入力してください。",
                    **ctx.at(sheet, r.row, col),
                )


@check("term-order")
def term_order(ctx: Ctx) -> Iterator[Finding]:
    """任期満了日 must not precede 委嘱日; a meeting cannot precede its council's 設置日."""
    for m in ctx.book.members:
        if m.start and m.end and m.end < m.start:
            yield make_finding(
                "term-order",
                f"{_who(m)}の任期満了日（{wareki(m.end)}）が委嘱日（{wareki(m.start)}）より前です。日付を直してください。",
                **ctx.at("委員", m.row, "任期満了日"),
            )
    councils = ctx.book.councils_by_id()
    for mt in ctx.book.meetings:
        c = councils.get(mt.council_id or "")
        if c and c.established and mt.date and mt.date < c.established:
            yield make_finding(
                "term-order",
                f"開催日（{wareki(mt.date)}）が協議会「{c.name}」の設置日（{wareki(c.established)}）より前です。"
                "開催日か設置日を直してください。",
                **ctx.at("会議", mt.row, "開催日"),
            )
    for e in ctx.book.elections:
        if e.notice and e.vote and e.vote < e.notice:
            loc = ctx.at("選挙期間", e.row, "投票日") | {"sheet": e.sheet}
            yield make_finding(
                "term-order",
                f"選挙「{e.name}」の投票日が告示日より前です（{e.source}）。日付を直してください。",
                **loc,
            )


@check("required-value")
def conditional_required(ctx: Ctx) -> Iterator[Finding]:
    """Values required only in some records: 回次 of a 定例 meeting; 生年月日 or 年齢 of a member."""
    for mt in ctx.book.meetings:
        if mt.kind == "定例" and mt.round is None and not ctx.present("会議", mt.row, "回次"):
            yield make_finding(
                "required-value",
                "定例会議の「回次」が空欄です。その年度の第何回目かを数字で入力してください。",
                **ctx.at("会議", mt.row, "回次"),
            )
    for m in ctx.book.members:
        if (
            m.birth is None
            and m.age is None
            and not (ctx.present("委員", m.row, "生年月日") or ctx.present("委員", m.row, "年齢"))
        ):
            yield make_finding(
                "required-value",
                f"{_who(m)}の「生年月日」と「年齢」がどちらも空欄です。どちらかを入力してください。",
                **ctx.at("委員", m.row, "生年月日"),
            )


# --- 要綱 rules ----------------------------------------------------------------------


@check("public-office")
def public_office(ctx: Ctx) -> Iterator[Finding]:
    """第6-4(1)「公職（地方公共団体の長、議会議員等をいう。）にある者を委員として選定しないこと。
    また、委員が公職の候補者になろうとし、又は公職に就いた場合は、警察署長は、当該委員の職を免ずるものとする。」"""
    for m in ctx.book.members:
        if m.public_office:
            yield make_finding(
                "public-office",
                f"{_who(m)}は公職（{m.public_office}）にある、又はなろうとしています。公職にある者は委員に選定できず、"
                "就いた場合は職を免ずることになります。委員から外すか、公職がなければ「無」と入力してください。",
                **ctx.at("委員", m.row, "公職"),
            )


@check("chair")
def chair(ctx: Ctx) -> Iterator[Finding]:
    """第3-2(1)「委員の中から会長、副会長その他必要な役職（以下「会長等」という。）を選任するものとする。」"""
    for c in ctx.book.councils_by_id().values():
        chairs = [m for m in ctx.members_of(c.id) if m.is_chair and m.start and m.end]
        earlier = first_earlier_overlaps([(m.start, m.end) for m in chairs], [m.person for m in chairs])
        for m, j in zip(chairs, earlier, strict=True):
            if j is not None:
                other = chairs[j]
                yield make_finding(
                    "chair",
                    f"協議会「{c.name}」で会長が同時に2人います（{_who(other)}（{other.row}行目）と{_who(m)}）。"
                    "任期か役職を直してください。",
                    severity=Severity.ERROR,
                    **ctx.at("委員", m.row, "役職"),
                )
        serving = ctx.serving(c.id, ctx.as_of)
        if serving and not any(m.is_chair for m in serving):
            yield make_finding(
                "chair",
                f"協議会「{c.name}」に{wareki(ctx.as_of)}現在の会長がいません。委員の中から会長を選任し、役職に「会長」と入力してください。",
                severity=Severity.WARNING,
                **ctx.at("協議会", c.row, "名称"),
            )


@check("manager-designation")
def manager_designation(ctx: Ctx) -> Iterator[Finding]:
    """第3-2(3)ア「警察署長は、交番にあっては交番所長を、駐在所にあっては複数配置の場合は駐在所長を、
    単独配置の場合は勤務員を運営責任者として指定するものとする。」"""
    expected = {
        "交番": (("交番所長",), "交番所長"),
        "駐在所（複数配置）": (("駐在所長",), "駐在所長"),
        "駐在所（単独配置）": (("勤務員", "駐在所員"), "駐在所勤務員"),
    }
    for c in ctx.book.councils:
        if c.post_type in expected and c.manager_title:
            words, label = expected[c.post_type]
            if not any(w in c.manager_title for w in words):
                yield make_finding(
                    "manager-designation",
                    f"{c.post_type}の運営責任者は{label}を指定します（運営責任者職名が「{c.manager_title}」になっています）。",
                    **ctx.at("協議会", c.row, "運営責任者職名"),
                )


@check("member-count")
def member_count(ctx: Ctx) -> Iterator[Finding]:
    """第6-1「委員の人数は、所管区の実情や交番等の勤務態勢に応じ、連絡協議会ごとにおおむね10人程度を選定するものとする。」"""
    for c in ctx.book.councils_by_id().values():
        if c.established and c.established > ctx.as_of:
            continue
        n = len(ctx.serving(c.id, ctx.as_of))
        if n < 5 or n > 15:
            yield make_finding(
                "member-count",
                f"協議会「{c.name}」の{wareki(ctx.as_of)}現在の委員は{n}人です。委員はおおむね10人程度（5～15人）を選定してください。",
                **ctx.at("協議会", c.row, "名称"),
            )


@check("community-leaders")
def community_leaders(ctx: Ctx) -> Iterator[Finding]:
    """第3-2(2)イ「委員のうちおおむね半数程度は、コミュニティ・リーダーとしての影響力等を考慮し、
    次に掲げる者の中から選定するよう配意すること。(ア)…(エ)」"""
    for c in ctx.book.councils_by_id().values():
        serving = ctx.serving(c.id, ctx.as_of)
        if not serving:
            continue
        leaders = sum(1 for m in serving if m.category in LEADER_CATEGORIES)
        if leaders / len(serving) < 0.4:
            yield make_finding(
                "community-leaders",
                f"協議会「{c.name}」の委員{len(serving)}人のうち、自治会等役員・自治体職員・公益的団体・ボランティア団体の関係者"
                f"（第3-2(2)イ(ア)～(エ)）は{leaders}人です。おおむね半数程度をこれらの者から選定してください。",
                **ctx.at("協議会", c.row, "名称"),
            )


@check("breadth")
def breadth(ctx: Ctx) -> Iterator[Finding]:
    """第3-2(2)ア「職業、年齢、性別等を考慮して幅広く選定すること。」（職種等連絡協議会は第5-2により「その目的等に即して」と読み替え）"""
    for c in ctx.book.councils_by_id().values():
        if c.kind == "職種等":
            continue
        serving = ctx.serving(c.id, ctx.as_of)
        if len(serving) < 4:
            continue
        genders = {m.gender for m in serving}
        if len(genders) == 1 and None not in genders:
            yield make_finding(
                "breadth",
                f"協議会「{c.name}」の委員{len(serving)}人が全員「{genders.pop()}」です。性別を考慮して幅広く選定してください。",
                **ctx.at("協議会", c.row, "名称"),
            )
        ages = [m.age_at(ctx.as_of) for m in serving]
        if all(a is not None for a in ages) and max(ages) - min(ages) < 10:
            yield make_finding(
                "breadth",
                f"協議会「{c.name}」の委員の年齢が{min(ages)}歳～{max(ages)}歳に偏っています（差が10歳未満）。"
                "年齢を考慮して幅広く選定してください。",
                **ctx.at("協議会", c.row, "名称"),
            )


@check("term-length")
def term_length(ctx: Ctx) -> Iterator[Finding]:
    """第6-2(1)「委員の任期は、原則として2年とし、再任を妨げないものとする。」
    (3)「警察署長は、委員の再委嘱に当たり、委員の承諾を得て、任期の変更を行うことができる。」"""
    for m in ctx.book.members:
        if m.start and m.end and not m.term_change:
            if m.end > add_years(m.start, 2) - dt.timedelta(days=1):
                yield make_finding(
                    "term-length",
                    f"{_who(m)}の任期（{_term(m)}）が2年を超えています。任期は原則2年です。"
                    "承諾を得て任期を変更したときは「任期変更」にその理由を入力してください。",
                    **ctx.at("委員", m.row, "任期満了日"),
                )


def _predecessor(ctx: Ctx, m: Member) -> Member | None:
    """The predecessor's row that started last before this member's term (first in workbook order on a tie)."""
    terms = ctx._terms.get((m.council_id, same_text_key(m.predecessor)))
    return terms.latest_before(m.start) if terms and m.start else None


@check("successor-term")
def successor_term(ctx: Ctx) -> Iterator[Finding]:
    """第6-2(1)「委員が欠けた場合において委嘱する後任の委員の任期は、前任者の残任期間とする。」"""
    for m in ctx.book.members:
        if not (m.predecessor and m.end):
            continue
        p = _predecessor(ctx, m)
        if p and p.end and m.end > p.end:
            yield make_finding(
                "successor-term",
                f"{_who(m)}は「{p.name}」の後任ですが、任期満了日（{wareki(m.end)}）が前任者の任期満了日"
                f"（{wareki(p.end)}）より後です。後任の任期は前任者の残任期間です。",
                **ctx.at("委員", m.row, "任期満了日"),
            )


@check("term-expiry")
def term_expiry(ctx: Ctx) -> Iterator[Finding]:
    """第6-3「警察署長は、委員に対し、任期ごとに委嘱状（別記様式第1号）を交付して委嘱するものとする。」"""
    limit = ctx.as_of + dt.timedelta(days=ctx.expiry_days)
    for m in ctx.book.members:
        if not (m.end and ctx.as_of <= m.end <= limit):
            continue
        latest = ctx.terms_of(m).latest_start
        renewed = latest is not None and latest > m.end
        if not renewed:
            yield make_finding(
                "term-expiry",
                f"{_who(m)}の任期が{wareki(m.end)}に満了します。再任する場合は次の任期の行を追加すると、新しい委嘱状を作成します。",
                **ctx.at("委員", m.row, "任期満了日"),
            )


@check("long-tenure")
def long_tenure(ctx: Ctx) -> Iterator[Finding]:
    """第6-4(2)「委員の委嘱に当たっては、長期間特定の者に依存することのないよう、常に組織の新陳代謝に配慮し、
    連絡協議会の活性化を図ること。」"""
    for m in ctx.book.members:
        if not m.serving(ctx.as_of):
            continue
        first = _service_start(ctx, m)
        if first and ctx.as_of >= add_years(first, ctx.long_tenure_years):
            years = ctx.as_of.year - first.year - ((ctx.as_of.month, ctx.as_of.day) < (first.month, first.day))
            column = "初回委嘱日" if m.first_start else "委嘱日"
            yield make_finding(
                "long-tenure",
                f"{_who(m)}は{wareki(first)}から{years}年間委員を務めています。長期間特定の者に依存しないよう、新陳代謝に配慮してください。",
                **ctx.at("委員", m.row, column),
            )


def _service_start(ctx: Ctx, m: Member) -> dt.date | None:
    """Start of continuous service: 初回委嘱日, or earlier back-to-back terms of the same member."""
    first = m.first_date
    if first is None or m.start is None:
        return first
    return min(first, ctx.terms_of(m).chain_start(m.start))


@check("regular-meeting")
def regular_meeting(ctx: Ctx) -> Iterator[Finding]:
    """第7-2(1)「定例会議は、年1回以上開催するものとする。」"""
    for c in ctx.book.councils_by_id().values():
        if not c.established:
            continue
        held = {fiscal_year(mt.date) for mt in ctx.meetings_by_council.get(c.id, ()) if mt.kind == "定例" and mt.date}
        missing = []
        for fy in range(fiscal_year(c.established), fiscal_year(ctx.as_of) + 1):
            start, end = dt.date(fy, 4, 1), dt.date(fy + 1, 3, 31)
            if start >= c.established and end <= ctx.as_of and fy not in held:
                missing.append(wareki_fy(fy))
        if missing:
            # One finding per council, naming every 年度: a long gap is one thing to fix, not many.
            yield make_finding(
                "regular-meeting",
                f"協議会「{c.name}」の{'、'.join(missing)}に定例会議の記録がありません。定例会議は年1回以上開催します"
                f"（開催していれば、シート「{ctx.sheet('会議')}」に記録してください）。",
                **ctx.at("協議会", c.row, "名称"),
            )


@check("election-period")
def election_period(ctx: Ctx) -> Iterator[Finding]:
    """第10-3「連絡協議会の開催時期については選挙運動期間中等の開催することにより公平性を疑われるような時期は避ける」"""
    during = _first_covering_election(ctx.book.meetings, ctx.book.elections)
    for pos, mt in enumerate(ctx.book.meetings):
        e = during.get(pos)
        if e is not None:
            yield make_finding(
                "election-period",
                f"開催日（{wareki(mt.date)}）が「{e.name}」の選挙運動期間（{wareki(e.notice)}～{wareki(e.vote - dt.timedelta(days=1))}）"
                "中です。公平性を疑われる時期の開催は避けてください。",
                **ctx.at("会議", mt.row, "開催日"),
            )


def _first_covering_election(meetings: list[Meeting], elections: list[Election]) -> dict[int, Election]:
    """Position of a meeting in the list -> the first election in list order whose campaign covers its 開催日.

    A sweep over the days: elections enter a heap (by list position) when their campaign starts and leave
    it once it is over, so the heap's top is the first election covering the day: O((m + e) log e).
    """
    periods = sorted(
        (e.notice, e.vote - dt.timedelta(days=1), i)
        for i, e in enumerate(elections)
        if e.notice is not None and e.vote is not None
    )
    if not periods:
        return {}
    out: dict[int, Election] = {}
    active: list[tuple[int, dt.date]] = []
    k = 0
    for pos in sorted((p for p, mt in enumerate(meetings) if mt.date), key=lambda p: meetings[p].date):
        day = meetings[pos].date
        while k < len(periods) and periods[k][0] <= day:
            heapq.heappush(active, (periods[k][2], periods[k][1]))
            k += 1
        while active and active[0][1] < day:
            heapq.heappop(active)  # over before this day, and so before every later one
        if active:
            out[pos] = elections[active[0][0]]
    return out


@check("officer-inner-count")
def officer_inner_count(ctx: Ctx) -> Iterator[Finding]:
    """様式第3号「警察幹部等の参加数（内数）」: 地域幹部 and その他の幹部 are part of 参加警察官数."""
    for mt in ctx.book.meetings:
        if mt.officers_n is None:
            continue
        inner = (mt.local_n or 0) + (mt.other_n or 0)
        if inner > mt.officers_n:
            yield make_finding(
                "officer-inner-count",
                f"地域幹部数とその他幹部数の合計（{inner}人）が参加警察官数（{mt.officers_n}人）を超えています。"
                "幹部数は参加警察官数の内数です。",
                **ctx.at("会議", mt.row, "地域幹部数" if mt.local_n else "その他幹部数"),
            )


@check("attending-members")
def attending_members(ctx: Ctx) -> Iterator[Finding]:
    """様式第3号「参加委員数」: cannot exceed the council's members serving on 開催日."""
    for mt in ctx.book.meetings:
        if mt.members_n is None or mt.date is None or mt.council_id is None:
            continue
        n = ctx.serving_count(mt.council_id, mt.date)
        if mt.members_n > n:
            yield make_finding(
                "attending-members",
                f"参加委員数（{mt.members_n}人）が、開催日（{wareki(mt.date)}）に在任中の委員数（{n}人）を超えています。"
                f"参加委員数か、シート「{ctx.sheet('委員')}」の任期を確認してください。",
                **ctx.at("会議", mt.row, "参加委員数"),
            )


@check("future-meeting")
def future_meeting(ctx: Ctx) -> Iterator[Finding]:
    """第11-2「運営担当者は、連絡協議会の開催結果について、その都度、連絡協議会開催結果報告書（別記様式第3号）により警察署長に報告すること。」"""
    for mt in ctx.book.meetings:
        if mt.date and mt.date > ctx.as_of:
            yield make_finding(
                "future-meeting",
                f"開催日（{wareki(mt.date)}）が基準日（{wareki(ctx.as_of)}）より後です。開催前の会議の結果は報告できません。"
                "開催日を確認するか、開催後に記入してください。",
                **ctx.at("会議", mt.row, "開催日"),
            )


@check("regular-sequence")
def regular_sequence(ctx: Ctx) -> Iterator[Finding]:
    """第7-2 定例会議: 回次 (「定期会議（第N回目）」) counts 1, 2, … within each council's 年度."""
    groups: dict[tuple, list[Meeting]] = defaultdict(list)
    for mt in ctx.book.meetings:
        if mt.kind == "定例" and mt.date and mt.round is not None and mt.council_id:
            groups[(mt.council_id, fiscal_year(mt.date))].append(mt)
    for (_, fy), meetings in groups.items():
        seen: set[int] = set()
        highest = 0  # max(seen, default=0)
        for mt in sorted(meetings, key=lambda m: (m.date, m.row)):
            if mt.round in seen:
                msg = f"{wareki_fy(fy)}の定例会議の回次「第{mt.round}回」が重複しています。"
            elif mt.round != highest + 1:
                msg = f"{wareki_fy(fy)}の定例会議が第{highest}回の次に第{mt.round}回になっています（回次が飛んでいます）。"
            else:
                msg = None
            seen.add(mt.round)
            highest = max(highest, mt.round)
            if msg:
                yield make_finding(
                    "regular-sequence",
                    msg + "回次は年度ごとに1から順に付けてください。",
                    **ctx.at("会議", mt.row, "回次"),
                )


@check("kind-details")
def kind_details(ctx: Ctx) -> Iterator[Finding]:
    """第4-1・第5-1 単位・職種等連絡協議会は設置の理由（地域の特性・目的等）があって設置する。
    様式第2号注2「協議会種別は、所管区ごとの連絡協議会、単位連絡協議会又は職種等連絡協議会の別を記載すること。」"""
    for c in ctx.book.councils:
        if c.kind in ("単位", "職種等") and not c.reason:
            yield make_finding(
                "kind-details",
                f"{c.kind}連絡協議会には「設置理由」が必要です（設置報告書の「協議会種別（設置理由）」に印字します）。",
                **ctx.at("協議会", c.row, "設置理由"),
            )
        if c.kind == "職種等" and not c.job_kind and not ctx.present("協議会", c.row, "職種等区分"):
            yield make_finding(
                "kind-details",
                "職種等連絡協議会には「職種等区分」（第5-1の(1)～(5)：団地等・繁華街等・外国人・女性・その他）が必要です。",
                **ctx.at("協議会", c.row, "職種等区分"),
            )


@check("council-name")
def council_name(ctx: Ctx) -> Iterator[Finding]:
    """様式第2号注1「名称は、連絡協議会の固有名称を記載すること。例 ○○○交番連絡協議会、○○地区○○連絡協議会等」"""
    for c in ctx.book.councils:
        if c.name and not c.name.endswith("連絡協議会"):
            yield make_finding(
                "council-name",
                f"名称「{c.name}」が「連絡協議会」で終わっていません。「○○交番連絡協議会」のような固有名称にしてください。",
                **ctx.at("協議会", c.row, "名称"),
            )


# --- interval helper -------------------------------------------------------------------

SMALL = 32  # below this many terms the plain pairwise scan is faster than the tree


def first_earlier_overlaps(
    terms: Sequence[tuple[dt.date, dt.date]], keys: Sequence[Hashable] | None = None, small: int = SMALL
) -> list[int | None]:
    """For each term i, the smallest j < i whose term overlaps it (s_j <= e_i and s_i <= e_j) and, with
    `keys`, whose key differs (keys[j] != keys[i]); None if there is none.

    The same answer as comparing every term with each earlier one, in O(n log n): queries in order of their
    end, terms entering a segment tree over list positions in order of their start (so every term in the
    tree starts no later than the query ends); each node keeps the latest end below it, that term's key and
    the latest end of a term with another key, so one descent finds the leftmost position that fits.
    """
    n = len(terms)
    if n <= small:
        return [_first_pairwise(terms, keys, i) for i in range(n)]
    tree = _EndTree(n)
    ordinals = [(s.toordinal(), e.toordinal()) for s, e in terms]
    by_start = sorted(range(n), key=lambda j: ordinals[j][0])
    out: list[int | None] = [None] * n
    k = 0
    for i in sorted(range(n), key=lambda i: ordinals[i][1]):
        start, end = ordinals[i]
        while k < n and ordinals[by_start[k]][0] <= end:
            j = by_start[k]
            tree.add(j, ordinals[j][1], keys[j] if keys is not None else None)
            k += 1
        out[i] = tree.leftmost(i, start, keys[i] if keys is not None else _ANY)
    return out


_ANY = object()  # a query key unequal to every key: any overlapping term fits


class _EndTree:
    """Segment tree over list positions: per node the latest end, its key, and the latest end of another key."""

    def __init__(self, n: int):
        self.size = 1 << max(n - 1, 1).bit_length()
        self.top = [-1] * (2 * self.size)  # -1: no term (date ordinals are >= 1)
        self.key: list[object] = [None] * (2 * self.size)
        self.other = [-1] * (2 * self.size)

    def add(self, pos: int, end: int, key: object) -> None:
        top, keys, other = self.top, self.key, self.other
        node = self.size + pos
        top[node], keys[node] = end, key
        node >>= 1
        while node:
            a, b = 2 * node, 2 * node + 1
            if top[b] > top[a]:
                a, b = b, a
            top[node], keys[node] = top[a], keys[a]
            other[node] = max(other[a], top[b] if keys[b] != keys[a] else other[b])
            node >>= 1

    def leftmost(self, limit: int, start: int, key: object) -> int | None:
        """The smallest position < limit holding a term that ends on or after `start` with a key != `key`."""
        top, keys, other = self.top, self.key, self.other

        def search(node: int, lo: int, hi: int) -> int | None:
            if lo >= limit or not ((top[node] >= start and keys[node] != key) or other[node] >= start):
                return None
            if hi - lo == 1:
                return lo
            mid = (lo + hi) // 2
            found = search(2 * node, lo, mid)
            return found if found is not None else search(2 * node + 1, mid, hi)

        return search(1, 0, self.size)


def _first_pairwise(terms: Sequence[tuple[dt.date, dt.date]], keys: Sequence[Hashable] | None, i: int) -> int | None:
    start, end = terms[i]
    for j in range(i):
        if start <= terms[j][1] and terms[j][0] <= end and (keys is None or keys[j] != keys[i]):
            return j
    return None
