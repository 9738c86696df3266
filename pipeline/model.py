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
class Station:
    name: str | None
    chief_name: str | None = None
    addressee: str = DEFAULT_ADDRESSEE
    honorific: str = ""
    row: int | None = None


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

    @property
    def person(self) -> str | None:
        return same_text_key(self.name)

    @property
    def role_key(self) -> str | None:
        return same_text_key(self.role)

    @property
    def is_chair(self) -> bool:
        return self.role_key == "会長"

    def serving(self, day: dt.date) -> bool:
        return self.start is not None and self.end is not None and self.start <= day <= self.end

    def age_at(self, day: dt.date) -> int | None:
        if self.birth is not None:
            return age_on(self.birth, day)
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

    def councils_by_id(self) -> dict[str, Council]:
        """Each 協議会ID once, its first row (a duplicate ID is a finding of its own)."""
        out: dict[str, Council] = {}
        for c in self.councils:
            if c.id is not None:
                out.setdefault(c.id, c)
        return out

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
