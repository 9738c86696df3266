"""Overview pages (概要.html, index.html): numbers checked against the 検証結果 contract, pages opened in Chromium."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline.checking.result import Options, Result
from pipeline.core.model import Book, Council, Election, Meeting, Member, Opinion, Station
from pipeline.core.write import INDEX, OVERVIEW
from pipeline.overview.pages import write_overview
from pipeline.report import RunReport, WorkbookRun
from pipeline.run.steps import run
from scripts.render_overview_png import FLAGS
from tests import builders as b

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "input_samples"
AS_OF = b.AS_OF  # 2026-11-27, 令和8年度
SAMPLE_STATIONS = ["仙台中央警察署", "気仙沼警察署", "泉警察署", "石巻警察署"]


# --- reading the pages -----------------------------------------------------------------


class Page(HTMLParser):
    """The parts of a page the tests look at: data-key numbers by scope, attributes, text, tags."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []  # (tag, attrs, text chunks)
        self.stack: list[int] = []
        self.scopes: list[tuple[str, str, int]] = []  # (kind, value, depth) for data-station/council rows
        self.keys: list[tuple[str | None, str | None, str, str]] = []  # (station, council, key, text)
        self.text: list[str] = []
        self.tags: Counter = Counter()
        self.feed(html)
        self.close()

    VOID: ClassVar[set[str]] = {"meta", "br", "img", "input", "link", "hr", "col", "rect", "line", "circle", "polygon"}

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.tags[tag] += 1
        self.elements.append((tag, a, []))
        if tag in self.VOID:
            return
        self.stack.append(len(self.elements) - 1)
        for kind in ("data-station", "data-council", "data-total", "data-file"):
            if kind in a:
                self.scopes.append((kind, a[kind], len(self.stack)))

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] += 1
        self.elements.append((tag, {k: v or "" for k, v in attrs}, []))

    def handle_endtag(self, tag):
        if tag in self.VOID or not self.stack:
            return
        i = self.stack.pop()
        _, a, chunks = self.elements[i]
        if "data-key" in a:
            scope = {k: v for k, v, _ in self.scopes}
            station = scope.get("data-station") or ("県計" if "data-total" in scope else scope.get("data-file"))
            self.keys.append((station, scope.get("data-council"), a["data-key"], "".join(chunks).strip()))
        self.scopes = [s for s in self.scopes if s[2] <= len(self.stack)]

    def handle_data(self, data):
        self.text.append(data)
        for i in self.stack:
            self.elements[i][2].append(data)

    def value(self, key: str, station: str | None = None, council: str | None = None) -> str:
        found = [t for s, c, k, t in self.keys if k == key and (station is None or s == station) and c == council]
        assert len(found) == 1, (key, station, council, found)
        return found[0]

    def number(self, key: str, station: str | None = None, council: str | None = None) -> int:
        return int(self.value(key, station, council))

    def attrs(self, **want: str) -> list[dict[str, str]]:
        return [a for _, a, _ in self.elements if all(a.get(k.replace("_", "-")) == v for k, v in want.items())]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def page_of(path: Path) -> Page:
    return Page(path.read_text("utf-8"))


def json_counts(entry: dict) -> dict[str, int]:
    """What 検証結果.json says about one workbook, counted the way the index page counts it."""
    sev = Counter(f["severity"] for f in entry["findings"])
    return {
        "errors": sev["error"],
        "warnings": sev["warning"],
        "blocked": sum(1 for d in entry["documents"] if d["status"] == "blocked"),
    }


def serving_by_contract(book: Book, council_id: str, day: dt.date) -> int:
    """第6-1 count straight from SPEC section 2: a member serves on day d when 委嘱日 ≤ d ≤ 任期満了日, d ≤ 退任日 if
    given, and his council exists on d (設置日, or 移管日, ≤ d ≤ 廃止日 if given)."""
    c = next(x for x in book.councils if x.id == council_id)
    begins = c.received or c.established
    if begins is None or day < begins or (c.closed is not None and day > c.closed):
        return 0
    return sum(
        1
        for m in book.members
        if m.council_id == council_id
        and m.start
        and m.end
        and m.start <= day <= m.end
        and (m.left is None or day <= m.left)
    )


# --- fixtures ----------------------------------------------------------------------------


@dataclass
class Run:
    out: Path
    report: RunReport
    paths: list[Path]
    data: dict  # 検証結果.json as the run writes it

    def entry(self, file: str) -> dict:
        return next(w for w in self.data["workbooks"] if w["file"] == file)

    def folder(self, station: str) -> str:
        return next(w.folder for w in self.report.workbooks if w.result.station == station)


def _run(inp: Path, out: Path) -> Run:
    report = run(inp, out, Options(as_of=AS_OF), documents=True)
    paths = write_overview(report, out)
    data = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    return Run(out, report, paths, data)


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Run:
    return _run(SAMPLES, tmp_path_factory.mktemp("ov-samples"))


OLD_REQUEST = "防犯カメラを増やしてほしい（古い要望）"
NEW_REQUEST = "<script>alert('x')</script>&街灯"


def write_odd_input(inp: Path) -> None:
    """A station with open requests and a bad member row, a station without meetings, an unreadable file."""
    sheets = b.baseline()
    sheets["意見要望"] += [
        {"会議ID": "M3", "意見・要望": NEW_REQUEST, "回答": None},
        {"会議ID": "M2", "意見・要望": OLD_REQUEST, "回答": "  "},
    ]
    # 任期満了日 missing: an error that stops this member's 委嘱状 and the council's 設置報告書 (SPEC 3).
    sheets["委員"].append(b.member(4, b.D(2026, 4, 1), None, 氏名="追加　太郎", 役職="委員", 区分="その他"))
    b.write_book(inp / "テスト警察署.xlsx", sheets)

    quiet = b.baseline()
    quiet["署"][0]["値"] = "会議なし警察署"
    del quiet["意見要望"]
    path = b.write_book(inp / "会議なし警察署.xlsx", quiet)
    wb = load_workbook(path)
    wb["会議"].delete_rows(2, wb["会議"].max_row)  # headers stay, no meeting recorded
    wb.save(path)

    (inp / "壊れた警察署.xlsx").write_bytes(b"this is not a workbook \x00\xff" * 20)


@pytest.fixture(scope="module")
def odd(tmp_path_factory) -> Run:
    inp = tmp_path_factory.mktemp("ov-odd-in")
    write_odd_input(inp)
    return _run(inp, tmp_path_factory.mktemp("ov-odd-out"))


# --- pages without a browser ---------------------------------------------------------------


def test_writes_index_and_one_page_per_station(samples: Run):
    expected = {samples.out / INDEX} | {samples.out / s / OVERVIEW for s in SAMPLE_STATIONS}
    assert set(samples.paths) == expected
    assert all(p.is_file() for p in samples.paths)
    assert not list(samples.out.glob(".tmp-*")) and not list(samples.out.glob("*/.tmp-*"))


def test_pages_are_self_contained(samples: Run, odd: Run):
    for path in samples.paths + odd.paths:
        html = path.read_text("utf-8")
        for banned in ("<script", "http://", "https://", "<link", "@import", "url(", "<img", "<iframe"):
            assert banned not in html, (path.name, banned)
        assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
        assert "<svg" in html


def test_same_report_gives_same_bytes_anywhere(samples: Run, tmp_path: Path):
    again = write_overview(samples.report, tmp_path)
    for a, c in zip(sorted(samples.paths), sorted(again), strict=True):
        assert a.relative_to(samples.out) == c.relative_to(tmp_path)
        assert a.read_bytes() == c.read_bytes()


def test_index_numbers_equal_report_json(samples: Run):
    index = page_of(samples.out / INDEX)
    totals: Counter = Counter()
    for w in samples.data["workbooks"]:
        counts = json_counts(w)
        scope = w["station"] or w["file"]
        for key, n in counts.items():
            assert index.number(key, scope) == n, (scope, key)
        totals.update(counts)
    for key, n in totals.items():
        assert index.number(key, "県計") == n, key
    assert totals["warnings"] == 4  # the samples' known warnings (仙台中央: 第7-2(1), 第6-4(2), 第10-3 ×2)


def test_station_pages_numbers_equal_report_json_and_contract(samples: Run):
    index = page_of(samples.out / INDEX)
    for wr in samples.report.workbooks:
        if wr.folder is None:
            continue
        station, book = wr.result.station, wr.result.book
        page = page_of(samples.out / wr.folder / OVERVIEW)
        counts = json_counts(samples.entry(wr.result.file))
        assert page.number("errors") == counts["errors"]
        assert page.number("warnings") == counts["warnings"]
        assert page.number("blocked") == counts["blocked"]
        total = 0
        for c in book.councils:
            n = serving_by_contract(book, c.id, AS_OF)
            total += n
            assert page.number("serving", None, c.name) == n, c.name
        assert page.number("serving") == total == index.number("serving", station)
        this_fy = [mt for mt in book.meetings if dt.date(2026, 4, 1) <= mt.date <= AS_OF]
        assert page.number("meetings-this-fy") == len(this_fy) == index.number("meetings-this-fy", station)
        # Councils existing on the as-of date (SPEC section 4's summary): a closed one is listed, not counted.
        existing = [c for c in book.councils if (c.closed is None or AS_OF <= c.closed)]
        assert page.number("councils") == len(existing) == index.number("councils", station)


def test_every_link_opens_a_file(samples: Run):
    """Links to pages and documents resolve on disk (the annotated copy is written by the CLI, not by run())."""
    checked = 0
    for path in samples.paths:
        for a in page_of(path).attrs():
            href = a.get("href")
            if not href or href.startswith("#") or unquote(href).endswith("検証結果.xlsx"):
                continue
            assert (path.parent / unquote(href)).resolve().is_file(), (path, href)
            checked += 1
    assert checked > 3 + 4  # index -> 3 pages, pages -> index, findings -> documents


def test_sample_station_shows_its_regular_meeting_gap_and_election(samples: Run):
    page = page_of(samples.out / "仙台中央警察署" / OVERVIEW)
    # 八幡町: 設置 令和2年4月1日, no 定例 in 令和2年度 (the regular-meeting warning of 検証結果.json).
    missing = [a["data-fy"] for a in page.attrs(data_fy_state="missing")]
    assert missing == ["2020"]
    assert "令和2年度" in page.all_text and "参議院議員通常選挙" in page.all_text
    articles = [a["data-article"] for a in page.attrs() if "data-article" in a]
    assert articles == ["第6-4(2)", "第7-2(1)", "第10-3"]  # grouped by article, in the 要綱's order
    assert len(page.attrs(data_rule="election-period")) == 2


def test_contract_numbers_for_a_built_station(odd: Run):
    page = page_of(odd.out / "テスト警察署" / OVERVIEW)
    council = "一番町交番連絡協議会"
    # baseline(): ten members serve 2026-04-01..2028-03-31; (ア)(イ)(ウ)(エ) are 佐藤, 高橋, 鈴木, 阿部, 伊藤, 佐々木.
    assert page.number("serving", None, council) == 10
    assert page.number("leaders", None, council) == 6
    assert page.value("leader-share", None, council) == "60%"
    # 令和8年度: M3 定例 2026-06-10 and M4 臨時 2026-09-01.
    assert page.number("regular-this-fy", None, council) == 1
    assert page.number("extra-this-fy", None, council) == 1
    # The member without 任期満了日 stops exactly his 委嘱状 and the council's 設置報告書.
    entry = odd.entry("テスト警察署.xlsx")
    assert json_counts(entry)["blocked"] == 2 == page.number("blocked")
    assert page.number("errors") == json_counts(entry)["errors"] >= 1


def test_open_requests_oldest_first_and_escaped(odd: Run):
    html = (odd.out / "テスト警察署" / OVERVIEW).read_text("utf-8")
    page = Page(html)
    assert page.number("open-opinions") == 2  # the answered one (M1) is not listed; a blank 回答 counts as none
    rows = [e for e in page.elements if "data-opinion-row" in e[1]]
    texts = ["".join(chunks) for _, _, chunks in rows]
    assert OLD_REQUEST in texts[0] and "令和7年6月10日" in texts[0]  # M2, the older meeting
    assert NEW_REQUEST in texts[1] and "令和8年6月10日" in texts[1]
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;街灯" in html


def test_station_without_meetings(odd: Run):
    page = page_of(odd.out / "会議なし警察署" / OVERVIEW)
    states = {a["data-fy"]: a["data-fy-state"] for a in page.attrs() if "data-fy-state" in a}
    # 設置 2024-04-01: 令和6・7年度 are whole 年度 without a 定例 (第7-2(1)); 令和8年度 is still running.
    assert states == {"2024": "missing", "2025": "missing", "2026": "pending"}
    assert page.number("meetings-this-fy") == 0
    assert page.number("open-opinions") == 0
    index = page_of(odd.out / INDEX)
    assert index.number("no-regular-this-fy", "会議なし警察署") == 1
    assert index.number("meetings-this-fy", "会議なし警察署") == 0
    found = [f for f in odd.entry("会議なし警察署.xlsx")["findings"] if f["rule"] == "regular-meeting"]
    # As of 令和8年度: the year just over (令和7年度) is a warning; 令和6年度, over more than a whole 年度 ago, is
    # info (it can only be recorded now). The page marks exactly the years the findings name.
    assert sorted(f["severity"] for f in found) == ["info", "warning"]
    by_severity = {f["severity"]: f["message"] for f in found}
    assert "令和7年度" in by_severity["warning"] and "令和6年度" not in by_severity["warning"]
    assert "令和6年度" in by_severity["info"] and "令和7年度" not in by_severity["info"]


def test_unreadable_workbook_is_listed_not_paged(odd: Run):
    index = page_of(odd.out / INDEX)
    row = index.attrs(data_file="壊れた警察署.xlsx")
    assert row and row[0]["data-status"] == "unreadable"
    assert index.number("errors", "壊れた警察署.xlsx") == 1
    assert "読み込めません" in index.all_text
    assert not (odd.out / "壊れた警察署").exists()
    assert {p.parent.name for p in odd.paths if p.name == OVERVIEW} == {"テスト警察署", "会議なし警察署"}


dates = st.none() | st.dates()  # the whole range: a mistyped year must not break the page
texts = st.none() | st.text(alphabet=st.sampled_from("佐藤<>&\"'\n\x00 一郎会長臨時定例"), max_size=12)


@st.composite
def odd_books(draw) -> Book:
    book = Book("x.xlsx", Station(draw(texts)))
    ids = ["C1", "C2", None]
    for i in range(draw(st.integers(0, 3))):
        book.councils.append(
            Council(i + 2, draw(st.sampled_from(ids)), draw(texts), draw(st.sampled_from(["所管区", "職種等", None])),
                    None, None, draw(texts), None, None, draw(dates), None, None, None, None, None)
        )  # fmt: skip
    for i in range(draw(st.integers(0, 6))):
        book.members.append(
            Member(i + 2, draw(st.sampled_from(ids)), draw(texts), None, None, draw(dates), None, None,
                   draw(st.sampled_from(["会長", "委員", None])), draw(st.sampled_from(["自治会等役員", "その他", None])),
                   None, draw(dates), draw(dates), None, draw(dates), None, None)
        )  # fmt: skip
    for i in range(draw(st.integers(0, 4))):
        ops = tuple(Opinion(i + 2, f"M{i}", draw(texts), draw(texts)) for _ in range(draw(st.integers(0, 2))))
        book.opinions.extend(ops)
        book.meetings.append(
            Meeting(i + 2, draw(st.sampled_from([f"M{i}", None])), draw(st.sampled_from(ids)),
                    draw(st.sampled_from(["定例", "臨時", None])), draw(st.none() | st.integers(0, 9)), draw(dates),
                    None, None, None, None, None, None, None, None, None, None, None, None, None, None, None, ops)
        )  # fmt: skip
    for i in range(draw(st.integers(0, 2))):
        book.elections.append(Election(i + 2, "選挙期間", "x.xlsx", draw(texts), draw(dates), draw(dates)))
    return book


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(book=odd_books(), as_of=st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)))
def test_odd_model_values_never_raise(tmp_path: Path, book: Book, as_of: dt.date):
    report = RunReport(as_of)
    report.workbooks.append(WorkbookRun(Result(Path("x.xlsx"), book=book), folder="x"))
    report.workbooks.append(WorkbookRun(Result(Path("y.xlsx"), unreadable=True)))
    paths = write_overview(report, tmp_path)
    html = (tmp_path / "x" / OVERVIEW).read_text("utf-8")
    assert len(paths) == 2 and "<script" not in html and "\x00" not in html
    for m in book.members:
        # every workbook text is escaped: a name that would open a tag never appears raw
        if m.name and re.search(r"<[A-Za-z/!?]", m.name):
            assert m.name not in html


# --- in a real browser ---------------------------------------------------------------------

BROWSER_FLAGS = [*FLAGS, "--enable-logging=stderr", "--v=0"]


def chromium() -> str:
    """The browser, or a skip where it is not installed; CI must have it (it installs the apt package)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        raise RuntimeError("chromium is required in CI for the overview browser test (apt-get install chromium)")
    pytest.skip("chromium is not installed (Debian: apt-get install chromium)")


@dataclass
class Rendered:
    dom: str
    png: bytes
    console: list[str]


def open_page(path: Path, tmp: Path) -> Rendered:
    """Open a page from disk in headless Chromium: its DOM, a screenshot and what the page logged."""
    browser = chromium()
    shot = tmp / f"{path.parent.name}-{path.stem}.png"
    with tempfile.TemporaryDirectory(dir=tmp) as profile:
        done = subprocess.run(
            [browser, *BROWSER_FLAGS, f"--user-data-dir={profile}", "--dump-dom", f"--screenshot={shot}",
             "--window-size=1200,1600", path.resolve().as_uri()],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    # Chromium logs every console message of the page (console.error, uncaught exceptions, failed loads)
    # as "...:CONSOLE...". These pages run no script, so any such line is a fault.
    console = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if ":CONSOLE" in line]
    return Rendered(done.stdout.decode("utf-8"), shot.read_bytes(), console)


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into rows of pixel bytes, stdlib only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif f == 2:
            line = bytearray((a + c) & 0xFF for a, c in zip(line, prev, strict=True))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                c = prev[i - bpp] if i >= bpp else 0
                up = prev[i]
                p = a + up - c
                pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (up if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def ink(png: bytes) -> tuple[int, float]:
    """(distinct colours, share of pixels that differ from the background) of a screenshot."""
    width, _, rows = png_pixels(png)
    bpp = len(rows[0]) // width
    colours: Counter = Counter()
    for row in rows[::4]:  # every 4th row is plenty to tell a page from a blank one
        colours.update(row[i : i + 3] for i in range(0, len(row), bpp * 2))
    _, n = colours.most_common(1)[0]  # the background colour
    total = sum(colours.values())
    return len(colours), 1 - n / total


def assert_shown(r: Rendered) -> None:
    assert r.console == [], r.console
    colours, share = ink(r.png)
    assert colours > 20 and share > 0.02, (colours, share)  # text, charts and colours, not an empty page


def test_browser_checks_can_fail(tmp_path: Path):
    """The console and blank-screenshot checks really catch a faulty page."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html lang="ja"><meta charset="utf-8"><body><p>文字</p>'
                   "<script>console.error('boom'); missing();</script></body></html>", "utf-8")  # fmt: skip
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", "utf-8")
    r = open_page(bad, tmp_path)
    assert any("boom" in line for line in r.console) and any("Uncaught" in line for line in r.console)
    colours, share = ink(open_page(blank, tmp_path).png)
    assert colours <= 2 and share < 0.001


def test_sample_pages_in_browser(samples: Run, tmp_path: Path):
    index = open_page(samples.out / INDEX, tmp_path)
    assert_shown(index)
    dom = Page(index.dom)
    for w in samples.data["workbooks"]:
        scope = w["station"] or w["file"]
        for key, n in json_counts(w).items():
            assert dom.number(key, scope) == n
    links = {unquote(a["href"]) for a in dom.attrs() if "href" in a}
    for station in SAMPLE_STATIONS:
        assert station in dom.all_text
        assert f"{samples.folder(station)}/{OVERVIEW}" in links
    for wr in samples.report.workbooks:
        if wr.folder is None:
            continue
        r = open_page(samples.out / wr.folder / OVERVIEW, tmp_path)
        assert_shown(r)
        page = Page(r.dom)
        counts = json_counts(samples.entry(wr.result.file))
        assert page.number("errors") == counts["errors"] and page.number("warnings") == counts["warnings"]
        assert wr.result.station in page.all_text
        for c in wr.result.book.councils:
            assert c.name in page.all_text
            assert page.number("serving", None, c.name) == serving_by_contract(wr.result.book, c.id, AS_OF)
        assert page.tags["svg"] >= 4 * len(wr.result.book.councils)  # 2 gauges, timeline, meetings per council


def test_odd_pages_in_browser(odd: Run, tmp_path: Path):
    index = open_page(odd.out / INDEX, tmp_path)
    assert_shown(index)
    dom = Page(index.dom)
    assert "壊れた警察署.xlsx" in dom.all_text and "読み込めません" in dom.all_text
    assert dom.number("errors", "県計") == sum(json_counts(w)["errors"] for w in odd.data["workbooks"])
    quiet = open_page(odd.out / "会議なし警察署" / OVERVIEW, tmp_path)
    assert_shown(quiet)
    page = Page(quiet.dom)
    assert "定例なし" in page.all_text and page.number("meetings-this-fy") == 0
    busy = open_page(odd.out / "テスト警察署" / OVERVIEW, tmp_path)
    assert_shown(busy)
    page = Page(busy.dom)
    assert NEW_REQUEST in page.all_text and page.tags["script"] == 0


def test_a_large_station_page_stays_an_overview_and_says_where_the_rest_is(tmp_path, monkeypatch, capsys):
    """Past the limits the page draws the first councils, lists the others a line each, shows the first
    findings of each article, and says so at the top; the screen shows the first findings of a workbook."""
    import pipeline.cli as cli_mod
    import pipeline.overview.pages as overview_mod
    from pipeline.cli import main

    monkeypatch.setattr(overview_mod, "MAX_COUNCIL_SECTIONS", 1)
    monkeypatch.setattr(overview_mod, "MAX_FINDING_ROWS", 1)
    monkeypatch.setattr(cli_mod, "FINDINGS_AT_MOST", 1)
    out = tmp_path / "out"
    main(["check", "--input", str(SAMPLES), "--output", str(out), "--as-of", "2026-11-27"])
    data = json.loads((out / "検証結果.json").read_text("utf-8"))
    entry = next(w for w in data["workbooks"] if w["station"] == "仙台中央警察署")
    page = (out / "仙台中央警察署" / OVERVIEW).read_text("utf-8")
    councils = page.count('data-key="councils-drawn"')
    assert councils == 1 and page.index('data-key="councils-drawn"') < page.index("council-1")
    sections = page.count('id="council-')
    assert sections == 1
    listed = re.search(r"ほかの協議会（(\d+)件）", page)
    total = int(re.search(r'data-key="councils">(\d+)<', page)[1])
    assert listed and int(listed[1]) == total - 1
    by_article = Counter(f["article"] or "—" for f in entry["findings"])
    more = [n - 1 for n in by_article.values() if n > 1]
    assert more  # the samples have an article with two findings or more
    assert sorted(int(m) for m in re.findall(r"ほか(\d+)件：すべての指摘は", page)) == sorted(more)
    screen = capsys.readouterr().out
    assert f"ほか{len(entry['findings']) - 1}件（すべての指摘は" in screen
