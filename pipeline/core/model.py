"""Plain model objects built from validated sheets; rendering sees only these, never DataFrames."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def period_end(start: dt.date, years: int) -> dt.date:
    """Last day of a period of `years` years from `start` (民法143条2項): the day before the same month and
    day `years` later; from 29 February, when that year has none, the last day of February."""
    try:
        return start.replace(year=start.year + years) - dt.timedelta(days=1)
    except ValueError:  # 29 February into a common year: the period ends at the end of February
        return dt.date(start.year + years, 2, 28)


def whole_years(since: dt.date, day: dt.date) -> int:
    """Whole years from `since` to `day` by the anniversary rule (a year is complete after its period_end)."""
    if day < since:
        return 0
    n = day.year - since.year
    while n > 0 and period_end(since, n) >= day:
        n -= 1
    return n


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def same_text_key(s: str | None) -> str | None:
    """Compare names and roles the way a clerk reads them: 佐藤一郎 = 佐藤　一郎, 会　長 = 会長."""
    return "".join(s.split()) if s else None


def fiscal_year(d: dt.date) -> int:
    """年度: April to March, named by the year it starts in."""
    return d.year if d.month >= 4 else d.year - 1


DEFAULT_ADDRESSEE = "宮城県警察本部長"


def fast_pickle(cls: type) -> type:
    """Pickle a frozen slotted dataclass as a tuple restored by one loop over precomputed names: the
    dataclasses module's own __setstate__ calls fields() for every object, most of a run record's load time."""
    names = tuple(f.name for f in dataclasses.fields(cls))

    def __getstate__(self) -> tuple:
        return tuple([getattr(self, n) for n in names])

    def __setstate__(self, state: tuple) -> None:
        for n, v in zip(names, state, strict=True):
            object.__setattr__(self, n, v)

    cls.__getstate__, cls.__setstate__ = __getstate__, __setstate__
    return cls


# slots: a prefecture's run holds hundreds of thousands of these; a __dict__ each is most of their memory.
@fast_pickle
@dataclass(frozen=True, slots=True)
class Chief:
    """One row of sheet 署長: in office from `since` until the day before the next 着任日."""

    row: int
    name: str | None
    since: dt.date | None


@fast_pickle
@dataclass(frozen=True, slots=True)
class Station:
    name: str | None
    chief_name: str | None = None
    addressee: str = DEFAULT_ADDRESSEE
    honorific: str = ""
    row: int | None = None
    # Sheet 署長 in 着任日 order (rows without a readable 着任日 left out); empty when the sheet is absent.
    chiefs: tuple[Chief, ...] = ()
    has_chief_sheet: bool = False  # the sheet is there with at least one data row

    def chief_on(self, day: dt.date | None) -> Chief | None:
        """The 署長 in office on `day` by sheet 署長 (None before the first 着任日 or without the sheet)."""
        if day is None:
            return None
        current = None
        for c in self.chiefs:
            if c.since is not None and c.since <= day:
                current = c
            else:
                break
        return current


@fast_pickle
@dataclass(frozen=True, slots=True)
class Council:
    row: int
    id: str | None
    name: str | None
    kind: str | None  # 所管区 / 単位 / 職種等
    job_kind: str | None
    reason: str | None
    posts: str | None
    post_type: str | None
    district: str | None
    established: dt.date | None
    manager_title: str | None
    manager_rank: str | None
    manager_name: str | None
    doc_no: str | None
    report_date: dt.date | None
    closed: dt.date | None = None  # 廃止日: the last day it existed
    close_reason: str | None = None  # 廃止理由
    received: dt.date | None = None  # 移管日: first day it belongs to this station (第6-2(2))
    received_from: str | None = None  # 移管元

    @property
    def begins(self) -> dt.date | None:
        """First day the council exists in this workbook: 移管日 for a received council, else 設置日."""
        return self.received if self.received is not None else self.established

    def exists(self, day: dt.date) -> bool:
        """設置日 (or 移管日) <= day <= 廃止日 (when given). A council without a readable start exists on no day."""
        begins = self.begins
        return begins is not None and begins <= day and (self.closed is None or day <= self.closed)

    @property
    def is_received(self) -> bool:
        return self.received is not None


@fast_pickle
@dataclass(frozen=True, slots=True)
class Member:
    row: int
    council_id: str | None
    name: str | None
    kana: str | None
    gender: str | None
    birth: dt.date | None
    age: int | None
    job: str | None
    role: str | None
    category: str | None
    public_office: str | None
    start: dt.date | None
    end: dt.date | None
    issued: dt.date | None
    first_start: dt.date | None
    predecessor: str | None
    term_change: str | None
    left: dt.date | None = None  # 退任日: last day in office when the member left before 任期満了日
    leave_reason: str | None = None  # 退任理由
    role_changed: dt.date | None = None  # 役職変更日: from this day the member holds 新役職
    new_role: str | None = None  # 新役職

    @property
    def person(self) -> str | None:
        return same_text_key(self.name)

    @property
    def role_key(self) -> str | None:
        return same_text_key(self.role)

    @property
    def is_chair(self) -> bool:
        return self.role_key == "会長"

    def role_on(self, day: dt.date | None) -> str | None:
        """役職 on `day`: 新役職 from 役職変更日 on (a change of 役職 in mid-term is a dated event)."""
        if day is not None and self.role_changed is not None and self.new_role and day >= self.role_changed:
            return self.new_role
        return self.role

    def role_key_on(self, day: dt.date | None) -> str | None:
        return same_text_key(self.role_on(day))

    @property
    def last_day(self) -> dt.date | None:
        """Last day served: 任期満了日, or 退任日 when the member left earlier."""
        if self.left is not None and (self.end is None or self.left < self.end):
            return self.left
        return self.end

    def serving(self, day: dt.date) -> bool:
        """委嘱日 <= day <= 任期満了日 and day <= 退任日 (when given). The council's existence is checked by
        serving_in(), which every rule and form uses."""
        return (
            self.start is not None
            and self.end is not None
            and self.start <= day <= self.end
            and (self.left is None or day <= self.left)
        )

    def has_left(self, day: dt.date) -> bool:
        """History on `day`: he left before it (退任日 < day)."""
        return self.left is not None and self.left < day

    def age_at(self, day: dt.date) -> int | None:
        """Age on `day`: from 生年月日, else 年齢 (the age on 委嘱日) plus the whole years since 委嘱日."""
        if self.birth is not None:
            return age_on(self.birth, day)
        if self.age is not None and self.start is not None:
            return self.age + whole_years(self.start, day)
        return self.age

    @property
    def issue_date(self) -> dt.date | None:
        return self.issued or self.start

    @property
    def first_date(self) -> dt.date | None:
        return self.first_start or self.start


@fast_pickle
@dataclass(frozen=True, slots=True)
class Opinion:
    row: int
    meeting_id: str | None
    text: str | None
    answer: str | None
    answered: dt.date | None = None  # 回答日: the day the 措置状況 was told to the attendees (第8-2)
    status: str | None = None  # 措置状況: 済 / 中間連絡 / 検討中 / free text

    @property
    def is_open(self) -> bool:
        """Not answered yet: blank 回答 and blank 措置状況 (open-request, the pages and the summary alike)."""
        return not (self.answer and self.answer.strip()) and not (self.status and self.status.strip())

    def printed_answer(self, report_day: dt.date | None) -> str | None:
        """The 回答 a report dated `report_day` prints: one answered at the meeting (回答日 blank) or by that
        day, so that answering later never changes a filed report."""
        if self.answered is None or (report_day is not None and self.answered <= report_day):
            return self.answer
        return None


@fast_pickle
@dataclass(frozen=True, slots=True)
class Meeting:
    row: int
    id: str | None
    council_id: str | None
    kind: str | None  # 定例 / 臨時
    round: int | None
    date: dt.date | None
    start_time: dt.time | None
    end_time: dt.time | None
    place: str | None
    members_n: int | None
    officers_n: int | None
    local_n: int | None
    other_n: int | None
    outsiders: str | None
    theme: str | None
    report_date: dt.date | None
    reporter_post: str | None
    reporter_rank: str | None
    reporter_name: str | None
    report_to: str | None
    note: str | None
    opinions: tuple[Opinion, ...] = ()


@fast_pickle
@dataclass(frozen=True, slots=True)
class Election:
    row: int
    sheet: str
    source: str  # file name it came from
    name: str | None
    notice: dt.date | None
    vote: dt.date | None

    def covers(self, day: dt.date) -> bool:
        # 公職選挙法第129条: the campaign runs from 告示日 to the day before 投票日.
        return (
            self.notice is not None and self.vote is not None and self.notice <= day <= self.vote - dt.timedelta(days=1)
        )


@dataclass
class Book:
    """Everything one station workbook says, as model objects."""

    file: str
    station: Station
    councils: list[Council] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    opinions: list[Opinion] = field(default_factory=list)
    elections: list[Election] = field(default_factory=list)
    chief_rows: list[Chief] = field(default_factory=list)  # sheet 署長 in workbook order

    def councils_by_id(self) -> dict[str, Council]:
        """Each 協議会ID once, its first row (a duplicate ID is a finding of its own)."""
        out: dict[str, Council] = {}
        for c in self.councils:
            if c.id is not None:
                out.setdefault(c.id, c)
        return out

    def serving_in(self, council: Council | None, m: Member, day: dt.date) -> bool:
        """The one definition of "serving on day d": the term covers d, he has not left, his council exists."""
        return m.serving(day) and council is not None and council.exists(day)

    def members_of(self, council_id: str | None) -> list[Member]:
        """The council's members in workbook order (a new list each call)."""
        return list(self._members_by_council().get(council_id, ()))

    def _members_by_council(self) -> dict[str | None, list[Member]]:
        """Members grouped by 協議会ID once, not scanned per council; rebuilt if the member list grew or was replaced."""
        state = (id(self.members), len(self.members))
        cached = self.__dict__.get("_by_council")
        if cached is None or cached[0] != state:
            index: dict[str | None, list[Member]] = {}
            for m in self.members:
                index.setdefault(m.council_id, []).append(m)
            cached = self.__dict__["_by_council"] = (state, index)
        return cached[1]

    def __getstate__(self) -> dict:
        # The index is rebuilt on demand: not pickled with the book (worker processes send books back).
        return {k: v for k, v in self.__dict__.items() if k != "_by_council"}
