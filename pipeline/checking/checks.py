"""Cross-row and cross-sheet 要綱 rules, registered by rule id; each docstring quotes its article."""

from __future__ import annotations

import datetime as dt
import heapq
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from pipeline.checking.words import holds_public_office, venue_word
from pipeline.core.contract import LEADER_CATEGORIES
from pipeline.core.findings import Finding, Severity, make_finding
from pipeline.core.fmt import time_ja as fmt_time
from pipeline.core.fmt import wareki, wareki_fy
from pipeline.core.model import (
    Book,
    Council,
    Election,
    Meeting,
    Member,
    fiscal_year,
    period_end,
    same_text_key,
    whole_years,
)


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

    @cached_property
    def councils(self) -> dict[str, Council]:
        return self.book.councils_by_id()

    def council_of(self, record: Member | Meeting) -> Council | None:
        return self.councils.get(record.council_id) if record.council_id is not None else None

    def exists_now(self, c: Council) -> bool:
        """The council exists on the as-of date: only then do the as-of-date rules apply to it."""
        return c.exists(self.as_of)

    def serving(self, council_id: str | None, day: dt.date) -> list[Member]:
        """The council's members serving on `day` (model.Book.serving_in), in workbook order."""
        if day == self.as_of:
            return list(self._serving_now.get(council_id, ()))
        c = self.councils.get(council_id) if council_id is not None else None
        return [m for m in self.members_of(council_id) if self.book.serving_in(c, m, day)]

    def serving_count(self, council_id: str | None, day: dt.date) -> int:
        """len(serving(council_id, day)) in O(log n): sorted starts and last days of the council's terms."""
        c = self.councils.get(council_id) if council_id is not None else None
        if c is None or not c.exists(day):
            return 0
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
        out = {}
        for cid, ms in self._by_council.items():
            c = self.councils.get(cid) if cid is not None else None
            out[cid] = [m for m in ms if self.book.serving_in(c, m, self.as_of)]
        return out

    @cached_property
    def _term_bounds(self) -> dict[str | None, tuple[list[dt.date], list[dt.date]]]:
        # A term whose last day is before its 委嘱日 serves on no day (it has a term-order finding): left out,
        # the count #(start <= day) - #(last < day) is exactly the number of terms serving on the day.
        out = {}
        for cid, ms in self._by_council.items():
            terms = [(m.start, m.last_day) for m in ms if m.start is not None and m.end is not None]
            terms = [t for t in terms if t[0] <= t[1]]
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

    @cached_property
    def meetings_by_id(self) -> dict[str, Meeting]:
        out: dict[str, Meeting] = {}
        for mt in self.book.meetings:
            if mt.id is not None:
                out.setdefault(mt.id, mt)
        return out


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
        """Start of continuous service up to a term starting on `start` (SPEC section 3, long-tenure): walk back
        over back-to-back terms; 初回委嘱日 of the terms walked counts only where no recorded gap contradicts it
        (a gap of a day or more between the last day served and the next 委嘱日 breaks the service)."""
        current = self._chains.get(start)
        if current is None:
            chain_start, limit = start, dt.date.min
            walked = [t for t in self.by_start_desc if t.start == start]
            for t in self.started_before(start):
                if t.last_day < chain_start - dt.timedelta(days=1):
                    limit = t.last_day + dt.timedelta(days=1)  # the service cannot have begun before this
                    break
                chain_start = min(chain_start, t.start)
                walked.append(t)
            firsts = [t.first_start for t in walked if t.first_start is not None and t.first_start >= limit]
            current = min([chain_start, *firsts])
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


# Rule parameters, one source for the rules and the overview pages.
MEMBER_COUNT = (5, 15)  # 第6-1 おおむね10人程度
LEADER_SHARE = 0.4  # 第3-2(2)イ おおむね半数程度
OPEN_REQUEST_DAYS = 60  # 第8-2 速やかに: a warning from the 61st day
INTERIM_DAYS = 180  # 第8-2 中間連絡: info from the 181st day


# --- input rules that span rows and sheets ------------------------------------------


@check("duplicate-id")
def duplicate_ids(ctx: Ctx) -> Iterator[Finding]:
    """協議会ID and 会議ID are unique keys; the same member twice with overlapping terms in one council;
    two rows of sheet 署長 with one 着任日."""
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
    since: dict[dt.date, int] = {}
    for c in ctx.book.chief_rows:
        if c.since is None:
            continue
        if c.since in since:
            yield make_finding(
                "duplicate-id",
                f"着任日（{wareki(c.since)}）が{since[c.since]}行目の署長と同じです。署長1人につき1行、着任日を直してください。",
                **ctx.at("署長", c.row, "着任日"),
            )
        else:
            since[c.since] = c.row
    # Each row against the earlier rows of the same person in the same council: the first one it overlaps.
    # Periods served: 委嘱日 … min(任期満了日, 退任日).
    members = ctx.book.members
    groups: dict[tuple, list[int]] = defaultdict(list)
    for pos, m in enumerate(members):
        if m.council_id is not None and m.name is not None and _served(m):
            groups[(m.council_id, m.person)].append(pos)
    clash: dict[int, Member] = {}
    for positions in groups.values():
        if len(positions) > 1:
            earlier = first_earlier_overlaps([(members[p].start, members[p].last_day) for p in positions])
            clash |= {p: members[positions[j]] for p, j in zip(positions, earlier, strict=True) if j is not None}
    for pos in sorted(clash):
        m, other = members[pos], clash[pos]
        yield make_finding(
            "duplicate-id",
            f"{_who(m)}の任期（{_term(m)}）が{other.row}行目の任期（{_term(other)}）と重なっています。"
            "同じ委員の重複行を削除するか、任期を直してください（途中で退任したときは前の行に退任日を入力します）。",
            **ctx.at("委員", m.row, "委嘱日"),
        )


def _cell_or(ctx: Ctx, sheet: str, row: int, column: str, fallback: str) -> dict:
    """At `column`, or at `fallback` of the same row when the workbook has no such column (yet)."""
    loc = ctx.at(sheet, row, column)
    return loc if loc["cell"] is not None else ctx.at(sheet, row, fallback)


def _served(m: Member) -> bool:
    """The row has a period served: 委嘱日 and 任期満了日 read, and its last day not before 委嘱日."""
    return m.start is not None and m.end is not None and m.start <= m.last_day


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


def _begins_label(c: Council) -> str:
    return "移管日" if c.is_received else "設置日"


@check("term-order")
def term_order(ctx: Ctx) -> Iterator[Finding]:
    """Dates in the order the history runs: 委嘱日 ≤ 退任日 ≤ 任期満了日; 設置日 (移管日) ≤ 委嘱日, 開催日;
    設置日 ≤ 移管日 ≤ 廃止日; 開催日 ≤ 回答日; 告示日 ≤ 投票日."""
    for c in ctx.book.councils:
        if c.established and c.received and c.received < c.established:
            yield make_finding(
                "term-order",
                f"協議会「{c.name}」の移管日（{wareki(c.received)}）が設置日（{wareki(c.established)}）より前です。日付を直してください。",
                **ctx.at("協議会", c.row, "移管日"),
            )
        begins = c.begins
        if c.closed and begins and c.closed < begins:
            yield make_finding(
                "term-order",
                f"協議会「{c.name}」の廃止日（{wareki(c.closed)}）が{_begins_label(c)}（{wareki(begins)}）より前です。日付を直してください。",
                **ctx.at("協議会", c.row, "廃止日"),
            )
    for m in ctx.book.members:
        if m.start and m.end and m.end < m.start:
            yield make_finding(
                "term-order",
                f"{_who(m)}の任期満了日（{wareki(m.end)}）が委嘱日（{wareki(m.start)}）より前です。日付を直してください。",
                **ctx.at("委員", m.row, "任期満了日"),
            )
        if m.left and ((m.start and m.left < m.start) or (m.end and m.left > m.end)):
            yield make_finding(
                "term-order",
                f"{_who(m)}の退任日（{wareki(m.left)}）が任期（{_term(m)}）の外です。退任日は委嘱日から任期満了日までの、"
                "在任した最後の日を入力してください（任期満了で退任したときは空欄のままにします）。",
                **ctx.at("委員", m.row, "退任日"),
            )
        if m.role_changed and m.start and (m.role_changed < m.start or m.role_changed > (m.last_day or m.role_changed)):
            yield make_finding(
                "term-order",
                f"{_who(m)}の役職変更日（{wareki(m.role_changed)}）が任期（{_term(m)}）の外です。日付を直してください。",
                **ctx.at("委員", m.row, "役職変更日"),
            )
        c = ctx.council_of(m)
        if c and m.start and c.begins and m.start < c.begins:
            yield make_finding(
                "term-order",
                f"{_who(m)}の委嘱日（{wareki(m.start)}）が協議会「{c.name}」の{_begins_label(c)}（{wareki(c.begins)}）より前です。"
                f"委嘱日か{_begins_label(c)}を直してください。",
                **ctx.at("委員", m.row, "委嘱日"),
            )
    for mt in ctx.book.meetings:
        c = ctx.council_of(mt)
        if c and c.begins and mt.date and mt.date < c.begins:
            yield make_finding(
                "term-order",
                f"開催日（{wareki(mt.date)}）が協議会「{c.name}」の{_begins_label(c)}（{wareki(c.begins)}）より前です。"
                f"開催日か{_begins_label(c)}を直してください"
                + ("（移管前の会議は移管元の署のブックに記録します）。" if c.is_received else "。"),
                **ctx.at("会議", mt.row, "開催日"),
            )
    for o in ctx.book.opinions:
        mt = ctx.meetings_by_id.get(o.meeting_id) if o.meeting_id is not None else None
        if mt and mt.date and o.answered and o.answered < mt.date:
            yield make_finding(
                "term-order",
                f"回答日（{wareki(o.answered)}）が会議の開催日（{wareki(mt.date)}）より前です。日付を直してください。",
                **ctx.at("意見要望", o.row, "回答日"),
            )
    for e in ctx.book.elections:
        if e.notice and e.vote and e.vote < e.notice:
            loc = ctx.at("選挙期間", e.row, "投票日") | {"sheet": e.sheet}
            yield make_finding(
                "term-order",
                f"選挙「{e.name}」の投票日が告示日より前です（{e.source}）。日付を直してください。",
                **loc,
            )


@check("time-order")
def time_order(ctx: Ctx) -> Iterator[Finding]:
    """様式第3号「開催日時」: 終了時刻 must not precede 開始時刻 (the form would print 午後2時から午後1時まで)."""
    for mt in ctx.book.meetings:
        if mt.start_time is not None and mt.end_time is not None and mt.end_time < mt.start_time:
            yield make_finding(
                "time-order",
                f"終了時刻（{fmt_time(mt.end_time)}）が開始時刻（{fmt_time(mt.start_time)}）より前です。"
                "時刻を直してください（午後は「14:00」や「午後2時」と入力します）。",
                **ctx.at("会議", mt.row, "終了時刻"),
            )


@check("after-closure")
def after_closure(ctx: Ctx) -> Iterator[Finding]:
    """A council that was closed (廃止日: merged, split, moved or closed, 第4-3・第6-2(2)) holds no meeting and
    starts no term after its last day."""
    for mt in ctx.book.meetings:
        c = ctx.council_of(mt)
        if c and c.closed and mt.date and mt.date > c.closed:
            yield make_finding(
                "after-closure",
                f"開催日（{wareki(mt.date)}）が協議会「{c.name}」の廃止日（{wareki(c.closed)}）より後です。"
                "協議会IDか開催日、廃止日を確認してください。",
                **ctx.at("会議", mt.row, "開催日"),
            )
    for m in ctx.book.members:
        c = ctx.council_of(m)
        if c and c.closed and m.start and m.start > c.closed:
            yield make_finding(
                "after-closure",
                f"{_who(m)}の委嘱日（{wareki(m.start)}）が協議会「{c.name}」の廃止日（{wareki(c.closed)}）より後です。"
                "統合先などの協議会IDで委嘱してください。",
                **ctx.at("委員", m.row, "委嘱日"),
            )


@check("required-value")
def conditional_required(ctx: Ctx) -> Iterator[Finding]:
    """Values required only in some records: 回次 of a 定例 meeting; 生年月日 or 年齢 of a member; 役職変更日
    and 新役職 together."""
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
        if m.new_role and m.role_changed is None and not ctx.present("委員", m.row, "役職変更日"):
            yield make_finding(
                "required-value",
                f"{_who(m)}の「新役職」がありますが「役職変更日」が空欄です。新しい役職になった日を入力してください。",
                **ctx.at("委員", m.row, "役職変更日"),
            )
        if m.role_changed and not m.new_role:
            yield make_finding(
                "required-value",
                f"{_who(m)}の「役職変更日」がありますが「新役職」が空欄です。新しい役職を入力してください。",
                **ctx.at("委員", m.row, "新役職"),
            )


# --- 要綱 rules ----------------------------------------------------------------------


@check("public-office")
def public_office(ctx: Ctx) -> Iterator[Finding]:
    """第6-4(1)「公職（地方公共団体の長、議会議員等をいう。）にある者を委員として選定しないこと。
    また、委員が公職の候補者になろうとし、又は公職に就いた場合は、警察署長は、当該委員の職を免ずるものとする。」"""
    for m in ctx.book.members:
        if not holds_public_office(m.public_office) or m.start is None or m.end is None:
            continue
        c = ctx.council_of(m)
        if c is None or not ctx.exists_now(c):
            continue
        if not (ctx.book.serving_in(c, m, ctx.as_of) or m.start > ctx.as_of):
            continue  # history: he left (or his term ended) before the as-of date
        issued = m.issue_date is not None and m.issue_date < ctx.as_of
        if issued:
            advice = (
                "委嘱済みの委員が公職に就いた（なろうとする）ときは職を免じます。解嘱したら「退任日」と、"
                "退任理由「解嘱（公職）」を入力してください。公職でなければ「公職」を「無」にしてください。"
            )
        else:
            advice = (
                "公職にある者は委員に選定できません。委員から外すか、公職でなければ「公職」を「無」にしてください。"
            )
        yield make_finding(
            "public-office",
            f"{_who(m)}は公職（{m.public_office}）にある、又はなろうとしています。{advice}",
            **ctx.at("委員", m.row, "公職"),
        )


def _role_periods(m: Member) -> list[tuple[dt.date, dt.date, str | None]]:
    """(first, last, 役職 key) of each stretch of the term with one 役職 (two when 役職変更日 splits it)."""
    if not _served(m):
        return []
    last = m.last_day
    ch = m.role_changed
    if ch is not None and m.new_role and m.start < ch <= last:
        return [(m.start, ch - dt.timedelta(days=1), m.role_key), (ch, last, same_text_key(m.new_role))]
    return [(m.start, last, m.role_key_on(m.start))]


def _officer_clashes(ctx: Ctx, c: Council, role: str) -> Iterator[tuple[Member, Member]]:
    periods = [(m, a, b) for m in ctx.members_of(c.id) for a, b, r in _role_periods(m) if r == role]
    earlier = first_earlier_overlaps([(a, b) for _, a, b in periods], [m.person for m, _, _ in periods])
    seen: set[int] = set()
    for (m, _, _), j in zip(periods, earlier, strict=True):
        if j is not None and m.row not in seen:
            seen.add(m.row)
            yield periods[j][0], m


@check("chair")
def chair(ctx: Ctx) -> Iterator[Finding]:
    """第3-2(1)「委員の中から会長、副会長その他必要な役職（以下「会長等」という。）を選任するものとする。」"""
    for c in ctx.councils.values():
        for other, m in _officer_clashes(ctx, c, "会長"):
            yield make_finding(
                "chair",
                f"協議会「{c.name}」で会長が同時に2人います（{_who(other)}（{other.row}行目）と{_who(m)}）。"
                "任期か役職を直してください（途中で交代したときは前の会長の行に退任日か役職変更日を入力します）。",
                severity=Severity.ERROR,
                **ctx.at("委員", m.row, "役職"),
            )
        yield from _officer_missing(ctx, c, "chair", "会長", Severity.WARNING)


@check("vice-chair")
def vice_chair(ctx: Ctx) -> Iterator[Finding]:
    """第3-2(1)「委員の中から会長、副会長その他必要な役職（以下「会長等」という。）を選任するものとする。」"""
    for c in ctx.councils.values():
        yield from _officer_missing(ctx, c, "vice-chair", "副会長")


def _officer_missing(ctx: Ctx, c: Council, rule: str, role: str, severity: Severity | None = None) -> Iterator[Finding]:
    """A council existing on the as-of date, with members then, none of whom holds `role` that day."""
    if not ctx.exists_now(c):
        return
    serving = ctx.serving(c.id, ctx.as_of)
    if serving and not any(m.role_key_on(ctx.as_of) == role for m in serving):
        yield make_finding(
            rule,
            f"協議会「{c.name}」に{wareki(ctx.as_of)}現在の{role}がいません。委員の中から{role}を選任し、"
            f"役職に「{role}」と入力してください。",
            severity=severity,
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
    for c in ctx.councils.values():
        if not ctx.exists_now(c):
            continue
        n = len(ctx.serving(c.id, ctx.as_of))
        if n < MEMBER_COUNT[0] or n > MEMBER_COUNT[1]:
            yield make_finding(
                "member-count",
                f"協議会「{c.name}」の{wareki(ctx.as_of)}現在の委員は{n}人です。委員はおおむね10人程度（5～15人）を選定してください。",
                **ctx.at("協議会", c.row, "名称"),
            )


@check("community-leaders")
def community_leaders(ctx: Ctx) -> Iterator[Finding]:
    """第3-2(2)イ「委員のうちおおむね半数程度は、コミュニティ・リーダーとしての影響力等を考慮し、
    次に掲げる者の中から選定するよう配意すること。(ア)…(エ)」"""
    for c in ctx.councils.values():
        if not ctx.exists_now(c):
            continue
        serving = ctx.serving(c.id, ctx.as_of)
        if not serving:
            continue
        leaders = sum(1 for m in serving if m.category in LEADER_CATEGORIES)
        if leaders / len(serving) < LEADER_SHARE:
            yield make_finding(
                "community-leaders",
                f"協議会「{c.name}」の委員{len(serving)}人のうち、自治会等役員・自治体職員・公益的団体・ボランティア団体の関係者"
                f"（第3-2(2)イ(ア)～(エ)）は{leaders}人です。おおむね半数程度をこれらの者から選定してください。",
                **ctx.at("協議会", c.row, "名称"),
            )


@check("breadth")
def breadth(ctx: Ctx) -> Iterator[Finding]:
    """第3-2(2)ア「職業、年齢、性別等を考慮して幅広く選定すること。」（職種等連絡協議会は第5-2により「その目的等に即して」と読み替え）"""
    for c in ctx.councils.values():
        if c.kind == "職種等" or not ctx.exists_now(c):
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
            if m.end > period_end(m.start, 2):
                yield make_finding(
                    "term-length",
                    f"{_who(m)}の任期（{_term(m)}）が2年を超えています。任期は原則2年です"
                    f"（{wareki(m.start)}からの2年は{wareki(period_end(m.start, 2))}まで）。"
                    "承諾を得て任期を変更したときは「任期変更」にその理由を入力してください。",
                    **ctx.at("委員", m.row, "任期満了日"),
                )


def _predecessor(ctx: Ctx, m: Member) -> Member | None:
    """The predecessor's latest row in the same council that starts before this member's 委嘱日."""
    terms = ctx._terms.get((m.council_id, same_text_key(m.predecessor)))
    return terms.latest_before(m.start) if terms and m.start else None


@check("successor-term")
def successor_term(ctx: Ctx) -> Iterator[Finding]:
    """第6-2(1)「委員が欠けた場合において委嘱する後任の委員の任期は、前任者の残任期間とする。」"""
    for m in ctx.book.members:
        if not (m.predecessor and m.end and m.start):
            continue
        p = _predecessor(ctx, m)
        if p is None or p.end is None:
            continue
        if m.end > p.end:
            yield make_finding(
                "successor-term",
                f"{_who(m)}は「{p.name}」の後任ですが、任期満了日（{wareki(m.end)}）が前任者の任期満了日"
                f"（{wareki(p.end)}）より後です。後任の任期は前任者の残任期間（{wareki(p.end)}まで）です。",
                severity=Severity.ERROR,
                **ctx.at("委員", m.row, "任期満了日"),
            )
        elif m.end < p.end and not m.term_change:
            yield make_finding(
                "successor-term",
                f"{_who(m)}は「{p.name}」の後任ですが、任期満了日（{wareki(m.end)}）が前任者の任期満了日"
                f"（{wareki(p.end)}）より前です。後任の任期は前任者の残任期間です。承諾を得て任期を変更したときは"
                "「任期変更」にその理由を入力してください。",
                severity=Severity.WARNING,
                **ctx.at("委員", m.row, "任期満了日"),
            )
        if p.left is None or p.left >= m.start:
            yield make_finding(
                "successor-term",
                f"{_who(m)}の前任者「{p.name}」（{p.row}行目）の退任日が"
                + ("空欄です。" if p.left is None else f"後任の委嘱日以後（{wareki(p.left)}）です。")
                + "前任者の退任日を入力してください（在任した最後の日。任期満了日はそのままにします）。",
                severity=Severity.WARNING,
                **_cell_or(ctx, "委員", p.row, "退任日", "氏名"),
            )


@check("unknown-predecessor")
def unknown_predecessor(ctx: Ctx) -> Iterator[Finding]:
    """第6-2(1)「委員が欠けた場合において委嘱する後任の委員の任期は、前任者の残任期間とする。」: 前任者 names a
    member of the same council."""
    for m in ctx.book.members:
        if not m.predecessor or m.council_id is None:
            continue
        if (m.council_id, same_text_key(m.predecessor)) in ctx._terms:
            continue
        c = ctx.council_of(m)
        if c is None:
            continue
        if c.received and m.start and m.start <= period_end(c.received, 2):
            continue  # the predecessor served before the transfer, in the former station's workbook
        yield make_finding(
            "unknown-predecessor",
            f"前任者「{m.predecessor}」は協議会「{c.name}」の委員にいません。前任者の氏名をシート"
            f"「{ctx.sheet('委員')}」の氏名と同じに入力してください。",
            **ctx.at("委員", m.row, "前任者"),
        )


@check("term-expiry")
def term_expiry(ctx: Ctx) -> Iterator[Finding]:
    """第6-3「警察署長は、委員に対し、任期ごとに委嘱状（別記様式第1号）を交付して委嘱するものとする。」"""
    limit = ctx.as_of + dt.timedelta(days=ctx.expiry_days)
    for m in ctx.book.members:
        if not (m.end and ctx.as_of <= m.end <= limit) or m.left is not None:
            continue
        c = ctx.council_of(m)
        if c is None or not ctx.exists_now(c) or (c.closed is not None and c.closed <= m.end):
            continue
        latest = ctx.terms_of(m).latest_start
        if latest is not None and latest > m.start:
            continue  # the next term is already recorded
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
        c = ctx.council_of(m)
        if c is None or not ctx.book.serving_in(c, m, ctx.as_of):
            continue
        first = _service_start(ctx, m)
        if first and ctx.as_of > period_end(first, ctx.long_tenure_years):
            years = whole_years(first, ctx.as_of)
            column = "初回委嘱日" if m.first_start else "委嘱日"
            yield make_finding(
                "long-tenure",
                f"{_who(m)}は{wareki(first)}から{years}年間委員を務めています。長期間特定の者に依存しないよう、新陳代謝に配慮してください。",
                **ctx.at("委員", m.row, column),
            )


def _service_start(ctx: Ctx, m: Member) -> dt.date | None:
    """Start of continuous service: back-to-back terms of the same member, and their 初回委嘱日 unless a
    recorded gap contradicts it (Terms.chain_start)."""
    if m.start is None:
        return m.first_date
    return ctx.terms_of(m).chain_start(m.start)


def missing_regular_years(c: Council, meetings: Iterable[Meeting], as_of: dt.date) -> tuple[list[int], list[int]]:
    """年度 without a 定例 meeting that regular-meeting reports: (warning years, info years).

    Fiscal year fy is checked from 1 April fy+1: a warning while the as-of date is in fy+1, info from fy+2 on
    (it can only be recorded now, not fixed). The council must have existed in it: the first year counts when
    設置日 (移管日 for a received council) is on or before 30 September, the last when 廃止日 is on or after it.
    The overview pages draw their missing years from this same function.
    """
    begins = c.begins
    if begins is None:
        return [], []
    held = {fiscal_year(mt.date) for mt in meetings if mt.kind == "定例" and mt.date and mt.date <= as_of}
    now = fiscal_year(as_of)
    warn: list[int] = []
    info: list[int] = []
    for fy in range(max(fiscal_year(begins), dt.MINYEAR), now):  # 年度 0 (Jan-Mar of year 1) has no 9月30日
        mid = dt.date(fy, 9, 30)
        if fy == fiscal_year(begins) and begins > mid:
            continue
        if c.closed is not None and (c.closed < dt.date(fy, 4, 1) or c.closed < mid):
            break
        if fy not in held:
            (warn if fy == now - 1 else info).append(fy)
    return warn, info


@check("regular-meeting")
def regular_meeting(ctx: Ctx) -> Iterator[Finding]:
    """第7-2(1)「定例会議は、年1回以上開催するものとする。」"""
    for c in ctx.councils.values():
        warn, info = missing_regular_years(c, ctx.meetings_by_council.get(c.id, ()), ctx.as_of)
        record = f"（開催していれば、シート「{ctx.sheet('会議')}」に記録してください）"
        if warn:
            yield make_finding(
                "regular-meeting",
                f"協議会「{c.name}」の{wareki_fy(warn[0])}に定例会議の記録がありません。定例会議は年1回以上開催します{record}。",
                **ctx.at("協議会", c.row, "名称"),
            )
        if info:
            # One finding naming every earlier 年度: a long gap is one thing to record, not many.
            yield make_finding(
                "regular-meeting",
                f"協議会「{c.name}」の{'、'.join(wareki_fy(fy) for fy in info)}に定例会議の記録がありません"
                f"（終わった年度のため情報として表示します）{record}。",
                severity=Severity.INFO,
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


@check("meeting-place")
def meeting_place(ctx: Ctx) -> Iterator[Finding]:
    """第10-3「開催場所については交番等又は公民館、集会所等の地域のコミュニティー施設を利用するなど、
    公正な連絡協議会の運営に努めること。」"""
    for mt in ctx.book.meetings:
        word = venue_word(mt.place)
        if word:
            yield make_finding(
                "meeting-place",
                f"開催場所「{mt.place}」は「{word}」を含む、飲食店・宴会場・企業の施設等のようです。開催場所は交番等又は"
                "公民館、集会所等の地域のコミュニティー施設を利用してください。",
                **ctx.at("会議", mt.row, "開催場所"),
            )


@check("open-request")
def open_request(ctx: Ctx) -> Iterator[Finding]:
    """第8-2「要望事項等の措置状況については、速やかに会議の出席者に連絡するとともに、当該措置を実施するため時間を
    要する問題等については、…計画的に推進し中間連絡を行うなど、適切な処理が行われるように配慮すること。」"""
    for o in ctx.book.opinions:
        mt = ctx.meetings_by_id.get(o.meeting_id) if o.meeting_id is not None else None
        if mt is None or mt.date is None or mt.date > ctx.as_of:
            continue
        c = ctx.council_of(mt)
        if c is None or not ctx.exists_now(c):
            continue
        age = (ctx.as_of - mt.date).days
        if o.is_open:
            yield make_finding(
                "open-request",
                f"意見・要望（{_excerpt(o.text)}）に回答がありません（会議から{age}日）。措置状況を速やかに会議の出席者に"
                "連絡し、「回答」「回答日」「措置状況」を入力してください。",
                severity=Severity.WARNING if age > OPEN_REQUEST_DAYS else Severity.INFO,
                **ctx.at("意見要望", o.row, "回答"),
            )
        elif o.status and same_text_key(o.status) != "済":
            since, label = (o.answered, "回答日") if o.answered else (mt.date, "会議の開催日")
            days = (ctx.as_of - since).days
            if days > INTERIM_DAYS:
                yield make_finding(
                    "open-request",
                    f"措置状況が「{o.status}」のまま、{label}（{wareki(since)}）から{days}日が経っています"
                    f"（中間連絡から{days}日）。措置が済んだら措置状況を「済」にし、時間を要するときは中間連絡を行ってください。",
                    severity=Severity.INFO,
                    **ctx.at("意見要望", o.row, "回答"),
                )


def _excerpt(s: str | None, n: int = 20) -> str:
    s = " ".join((s or "").split())
    return s if len(s) <= n else s[:n] + "…"


@check("chief-history")
def chief_history(ctx: Ctx) -> Iterator[Finding]:
    """様式第1号「警察署長　印」: each 委嘱状 names the 署長 in office on its 交付日 (sheet 署長); 署!署長氏名 names
    the 署長 in office on the as-of date."""
    station = ctx.book.station
    if not station.has_chief_sheet or not station.chiefs:
        return
    now = station.chief_on(ctx.as_of)
    if (
        station.chief_name
        and now is not None
        and now.name
        and same_text_key(now.name) != same_text_key(station.chief_name)
    ):
        yield make_finding(
            "chief-history",
            f"署長氏名「{station.chief_name}」が、シート「{ctx.sheet('署長')}」の{wareki(ctx.as_of)}現在の署長"
            f"「{now.name}」（{wareki(now.since)}着任）と違います。署長が交代したときはシート「{ctx.sheet('署長')}」に"
            "新しい署長の行を追加し、署長氏名も直してください。",
            **ctx.at("署", None, "署長氏名"),
        )
    first = station.chiefs[0].since
    for m in ctx.book.members:
        day = m.issue_date
        if day is not None and first is not None and day < first:
            yield make_finding(
                "chief-history",
                f"{_who(m)}の委嘱状の日付（{wareki(day)}）は、シート「{ctx.sheet('署長')}」の最初の着任日（{wareki(first)}）"
                "より前です。署長名は手書き用に空けます（その日に在任した署長の行を追加すると印字します）。",
                severity=Severity.INFO,
                **ctx.at("委員", m.row, "交付日" if m.issued else "委嘱日"),
            )


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
        c = ctx.council_of(mt)
        if c is None or not c.exists(mt.date):
            continue  # a meeting outside the council's existence has its own term-order/after-closure finding
        n = ctx.serving_count(mt.council_id, mt.date)
        if mt.members_n > n:
            yield make_finding(
                "attending-members",
                f"参加委員数（{mt.members_n}人）が、開催日（{wareki(mt.date)}）に在任中の委員数（{n}人）を超えています。"
                f"参加委員数か、シート「{ctx.sheet('委員')}」の任期・退任日を確認してください。",
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
    for (cid, fy), meetings in groups.items():
        c = ctx.councils.get(cid)
        if c is not None and c.received is not None and fiscal_year(c.received) == fy:
            continue  # the year of the transfer: its first 回次 were held under the former station
        seen: set[int] = set()
        highest = 0  # max(seen, default=0)
        for mt in sorted(meetings, key=lambda m: (m.date, m.row)):
            if mt.round in seen:
                msg = f"{wareki_fy(fy)}の定例会議の回次「第{mt.round}回」が重複しています。"
            elif mt.round != highest + 1:
                if highest == 0:
                    msg = f"{wareki_fy(fy)}の最初の定例会議が第{mt.round}回になっています（第1回がありません）。"
                else:
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
