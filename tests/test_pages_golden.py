"""The overview pages, rendered from template files, are byte for byte the pages the f-string code wrote.

The hashes in pages_golden.json were recorded once from main before the move to templates
(`python -m tests.test_pages_golden > tests/pages_golden.json` on that commit, b129387). The pages keep even
the spelling of escaped quotes (`&quot;`, `&#x27;`), so the comparison is of the raw bytes.
Cases: the input samples, the odd stations of test_overview (open requests with markup, a station without
meetings, an unreadable file), a station past the page's limits, and hand-built books whose every text field
holds markup, quotes, line breaks and an XML-illegal character.
A change meant to change what the pages show (or the samples) records the hashes again with the same command
and says so in its commit message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.checking.result import Options, Result
from pipeline.core.findings import Finding, Severity
from pipeline.core.model import Book, Council, Election, Meeting, Member, Opinion, Station
from pipeline.documents.plan import Document
from pipeline.overview import pages as overview
from pipeline.overview.pages import write_overview
from pipeline.report import RunReport, WorkbookRun
from pipeline.run.steps import run
from tests import builders as b
from tests.test_overview import write_odd_input

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "input_samples"
GOLDEN = Path(__file__).with_name("pages_golden.json")
EPOCH = "1796000000"  # SOURCE_DATE_EPOCH: the 'made at' time the pages print
NASTY = "<b>佐藤</b> & \"一郎\" 'x'\n\x00会長"


def _pages(out: Path, prefix: str) -> Iterator[tuple[str, bytes]]:
    for p in sorted(out.rglob("*.html")):
        yield f"{prefix}/{p.relative_to(out).as_posix()}", p.read_bytes()


def _nasty_book(i: int) -> Book:
    """Every text the page prints holds markup, quotes, a line break and an XML-illegal character."""
    d = dt.date
    t = f"{NASTY}{i}"
    book = Book("x.xlsx", Station(t))
    for k, cid in enumerate(["C1", "C2", "C9"][: i + 2]):
        book.councils.append(
            Council(k + 2, cid, t, ["所管区", "職種等", None][k], None, None, t, None, None, d(2019 + k, 6, 1),
                    None, None, None, None, None)
        )  # fmt: skip
    for k in range(4 + i):
        book.members.append(
            Member(k + 2, ["C1", "C2", None][k % 3], t if k % 2 else f"氏名{k}", None, None,
                   d(2020 + k % 4, 4, 1), None, None, ["会長", "委員", None][k % 3],
                   ["自治会等役員", "その他", None][k % 3], None, d(2020 + k % 4, 4, 1), d(2027 + k % 3, 3, 31), None,
                   d(2025, 1, 1) if k == 3 else None, None, None)
        )  # fmt: skip
    for k in range(3):
        ops = (Opinion(k + 2, f"M{k}", t, None), Opinion(k + 20, f"M{k}", t, t))
        book.opinions.extend(ops)
        book.meetings.append(
            Meeting(k + 2, f"M{k}" if k != 2 else None, "C1", ["定例", "臨時", None][k], k or None,
                    d(2022 + k, 7, 1), None, None, None, None, None, None, None, None, None, None, None, None, None,
                    None, None, ops)
        )  # fmt: skip
    if i:
        return book  # no election at all
    book.elections.append(Election(2, "選挙期間", "x.xlsx", t, d(2024, 6, 20), d(2024, 7, 7)))
    book.elections.append(Election(3, "選挙期間", "x.xlsx", None, d(2025, 10, 1), d(2025, 10, 20)))
    return book


def _nasty_run(i: int) -> WorkbookRun:
    """The nasty book with findings on its rows and documents in every state, texts full of markup."""
    t = f"{NASTY}{i}"
    e, w = Severity.ERROR, Severity.WARNING
    findings = [
        Finding(w, "member-count", "第6-1", "協議会", 2, None, "A2", t),
        Finding(w, "community-leaders", "第3-2(2)イ", "協議会", 2, "区分", None, t),
        Finding(e, "long-tenure", "第6-4(2)", "委員", 3, "氏名", "C3", t),
        Finding(e, "required", t, "署", 2, None, "B2", t),
        Finding(e, "required", "様式1", None, None, None, None, t),
        Finding(Severity.INFO, t, "第10-3", "会議", 2, None, "F2", t),
    ]
    docs = [
        Document("委嘱状", f"x/委嘱状_{t}.docx", "written", source=("委員", 3)),
        Document("委嘱状", "x/委嘱状_b.docx", "kept-edited", new_path=f"x/委嘱状_{t}(2).docx", source=("委員", 3)),
        Document(t, f"y/{t}.docx", "blocked", blocked_by=["long-tenure", t], blocked_at=["委員!C3", t]),
        Document("開催結果報告書", "x/開催結果報告書_M0.docx", "unchanged", source=("会議", 2)),
        Document("開催結果報告書", "x/開催結果報告書_M1.docx", "blocked", blocked_by=["required"], source=("会議", 3)),
        Document("設置報告書", "x/設置報告書.docx", "orphaned"),
    ]
    result = Result(Path(f"{t}.xlsx"), book=_nasty_book(i), findings=findings)
    return WorkbookRun(result, folder="x", documents=docs)


def render_all(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Every page of every case, by name."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    pages: dict[str, bytes] = {}

    out = tmp / "samples"
    write_overview(run(SAMPLES, out, Options(as_of=b.AS_OF), documents=True), out)
    pages.update(_pages(out, "samples"))

    inp, out = tmp / "odd-in", tmp / "odd"
    inp.mkdir()
    write_odd_input(inp)  # the odd stations of tests/test_overview.py
    write_overview(run(inp, out, Options(as_of=b.AS_OF), documents=True), out)
    pages.update(_pages(out, "odd"))

    for i, as_of in enumerate([dt.date(2026, 11, 27), dt.date(2024, 6, 25)]):
        out = tmp / f"nasty-{i}"
        report = RunReport(as_of)
        report.workbooks.append(_nasty_run(i))
        report.workbooks.append(WorkbookRun(Result(Path("empty.xlsx"), book=Book("e.xlsx", Station(None))), folder="e"))
        report.workbooks.append(WorkbookRun(Result(Path("y.xlsx"), unreadable=True)))
        write_overview(report, out, made_at=NASTY)
        pages.update(_pages(out, f"nasty-{i}"))

    out = tmp / "none"
    report = RunReport(b.AS_OF)
    report.workbooks.append(WorkbookRun(Result(Path(f"{NASTY}.xlsx"), unreadable=True)))
    write_overview(report, out, made_at="")
    pages.update(_pages(out, "none"))

    with monkeypatch.context() as m:
        m.setattr(overview, "MAX_COUNCIL_SECTIONS", 1)
        m.setattr(overview, "MAX_FINDING_ROWS", 1)
        m.setattr(overview, "MAX_DOCUMENT_ROWS", 1)
        out = tmp / "large"
        write_overview(run(SAMPLES, out, Options(as_of=b.AS_OF), documents=True), out)
        pages.update(_pages(out, "large"))
    return pages


def hashes(pages: dict[str, bytes]) -> dict[str, str]:
    return {k: hashlib.sha256(v).hexdigest() for k, v in sorted(pages.items())}


def test_pages_are_the_pages_main_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    want = json.loads(GOLDEN.read_text("utf-8"))
    got = hashes(render_all(tmp_path, monkeypatch))
    assert sorted(got) == sorted(want)  # the same pages
    assert len(got) >= 12
    assert [k for k in want if got[k] != want[k]] == []


# --- no workbook text marked safe ------------------------------------------------------

PAGES = ROOT / "pipeline" / "overview" / "templates"
VIEW_CODE = sorted((ROOT / "pipeline" / "overview").glob("*.py"))  # the pages' views, charts and figures
SAFE_IN_TEMPLATE = re.compile(r"\|\s*safe\b|\bmarkup\s*\(|autoescape\s+false", re.IGNORECASE)
SAFE_IN_PYTHON = re.compile(r"\bMarkup\s*\(|\bmarkupsafe\b|autoescape\s*=\s*False|\|\s*safe\b|\.__html__")


def _offending(text: str, pattern: re.Pattern[str]) -> list[str]:
    return [line.strip() for line in text.splitlines() if pattern.search(line)]


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("{{ name|safe }}", SAFE_IN_TEMPLATE),
        ("{{ name | safe }}", SAFE_IN_TEMPLATE),
        ("{% autoescape false %}", SAFE_IN_TEMPLATE),
        ("{{ markup(x) }}", SAFE_IN_TEMPLATE),
        ("return Markup(name)", SAFE_IN_PYTHON),
        ("from markupsafe import escape", SAFE_IN_PYTHON),
        ("env = Environment(autoescape=False)", SAFE_IN_PYTHON),
    ],
)
def test_safe_patterns_catch_what_they_should(line: str, pattern: re.Pattern[str]):
    assert _offending(line, pattern) == [line]


def test_no_template_receives_text_marked_safe():
    templates = sorted(PAGES.glob("*.html"))
    assert {p.name for p in templates} >= {"index.html", "station.html", "_macros.html"}
    for p in templates:
        assert _offending(p.read_text("utf-8"), SAFE_IN_TEMPLATE) == [], p.name
        assert "&#34;" not in p.read_text("utf-8") and "&#39;" not in p.read_text("utf-8"), p.name
    assert {p.name for p in VIEW_CODE} >= {"pages.py", "station.py", "svg.py", "figures.py"}
    for p in VIEW_CODE:
        assert _offending(p.read_text("utf-8"), SAFE_IN_PYTHON) == [], p.name
        assert "esc(" not in p.read_text("utf-8"), p.name


def test_the_wheel_carries_every_template():
    """pyproject's packages and package-data name the folder and every kind of file in it (make wheel-test
    runs the installed wheel)."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    assert "pipeline.overview.templates" in tool["packages"]
    patterns = tool["package-data"]["pipeline.overview.templates"]
    files = [p for p in PAGES.iterdir() if p.is_file() and p.suffix != ".py"]
    assert files and all(any(p.match(pat) for pat in patterns) for p in files), files


def test_a_template_edit_makes_the_run_record_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A re-run keeps the 概要.html of an unchanged workbook only while the program is the same: the page
    templates are part of it, as the f-strings were, and so is every stage's code in its subfolder
    (version.output_version reads the package's folders all the way down)."""
    import shutil

    from pipeline.core import version
    from pipeline.run import record

    copy = tmp_path / "pipeline"
    shutil.copytree(ROOT / "pipeline", copy, ignore=shutil.ignore_patterns("__pycache__"))
    real = version.resources.files
    monkeypatch.setattr(version.resources, "files", lambda p: copy if p == "pipeline" else real(p))
    try:
        for name in ("overview/templates/station.html", "overview/templates/style.css", "checking/checks.py"):
            version._digest.cache_clear()  # the output version is worked out once per process
            before = record._program_fingerprint()
            (copy / name).write_text((copy / name).read_text("utf-8") + " ", "utf-8")
            version._digest.cache_clear()
            assert record._program_fingerprint() != before, name
    finally:
        version._digest.cache_clear()


def test_the_environment_escapes():
    env = overview.environment()
    assert env.autoescape is True or env.autoescape("x.html")
    html = env.from_string("{{ x }}").render(x=NASTY)
    assert "<b>" not in html and "\x00" not in html and "&lt;b&gt;" in html


if __name__ == "__main__":  # record the hashes (on the commit whose pages are the reference)
    import tempfile

    mp = pytest.MonkeyPatch()
    with tempfile.TemporaryDirectory() as d:
        json.dump(hashes(render_all(Path(d), mp)), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    mp.undo()
