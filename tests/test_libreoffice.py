"""Each form converts in LibreOffice: page counts at SPEC 5's limits, every label visible, only IPA fonts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace

import pytest
from docx import Document
from pypdf import PdfReader

from pipeline.core.model import Member
from pipeline.documents import forms
from pipeline.documents.pdf import convert
from pipeline.documents.render import load_templates
from tests.form_cases import COUNCIL, MEETING, MEMBERS, PAGES, STATION, contexts, member

_member = member

HAVE_LO = shutil.which("soffice") is not None and shutil.which("pdftotext") is not None
if not HAVE_LO and os.environ.get("CI"):
    raise RuntimeError("CI must install libreoffice-writer-nogui and poppler-utils (see .ci/run)")
pytestmark = pytest.mark.skipif(
    not HAVE_LO, reason="LibreOffice/pdftotext がありません（apt-get install libreoffice-writer-nogui poppler-utils）"
)

# member-count allows up to 15 without a warning: all 15 must fit on the one page.
ROSTER = [
    _member(10 + i, f"委員{i}　太郎", "会長" if i == 0 else "委員", None, age=40 + i, job="自営業（酒店・たばこ販売）")
    for i in range(15)
]

LABELS = {
    "委嘱状": ["委", "嘱", "状", "あなたを", "委員に委嘱します。", "任期", "から", "まで", "印"],
    "設置報告書": [
        "別記様式第2号", "殿", "宮地第", "交番・駐在所連絡協議会設置報告書", "名", "称", "協", "種", "別",
        "設置理由", "委", "構", "成", "運", "営", "責", "任", "者", "職名", "階級", "氏名", "役職名", "年齢", "性別",
        "職業", "注1", "名称は、連絡協議会の固有名称を記載すること。", "協議会種別は、", "委員の構成は、",
    ],
    "開催結果報告書": [
        "別記様式第3号", "連絡協議会開催結果報告書", "所", "管", "区", "名", "開", "催", "日", "時", "場",
        "参加警察官数", "警察幹部等の", "参加数（内数）", "地域幹部", "その他の幹部", "定期会議", "回目",
        "臨時会議", "意見・要望", "回答", "状", "況", "備", "考", "階級", "氏名",
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lo")
    templates = load_templates(fields=forms.FIELDS)
    cases = {
        "委嘱状": forms.commission(STATION, COUNCIL, MEMBERS[0]),
        "設置報告書": forms.establishment(STATION, COUNCIL, [_as_member(m) for m in ROSTER]),
        "開催結果報告書": forms.meeting(STATION, COUNCIL, MEETING),
    }
    paths = []
    for form, ctx in cases.items():
        p = tmp / f"{form}.docx"
        p.write_bytes(templates[form].render(ctx))
        paths.append(p)
    return convert(paths)


def _as_member(m: Member) -> Member:
    return replace(m, start=MEMBERS[0].start, end=MEMBERS[0].end)


def _text(pdf, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    out = subprocess.run(["pdftotext", *pages, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # pdftotext puts spaces between kana/kanji and digits and wraps lines: compare without white space.
    return "".join(out.split())


def _fonts(pdf) -> set[str]:
    """The base names of the fonts a PDF embeds or references (subset prefixes dropped)."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {line.split()[0].split("+")[-1] for line in out.splitlines()[2:] if line.strip()}


@pytest.fixture(scope="module")
def case_pdfs(tmp_path_factory):
    """Every form at ordinary, empty and extreme values, converted in one LibreOffice run."""
    tmp = tmp_path_factory.mktemp("cases")
    templates = load_templates(fields=forms.FIELDS)
    paths = {}
    for case, (form, ctx) in contexts().items():
        p = tmp / f"{case}.docx"
        p.write_bytes(templates[form].render(ctx))
        paths[case] = p
    pdfs = convert(list(paths.values()))
    return {case: pdfs[p] for case, p in paths.items()}


@pytest.mark.parametrize("case", sorted(PAGES))
def test_page_count_at_the_limits(case_pdfs, case):
    """One page per form at SPEC 5's limits (15 members with wrapped cells, 5 opinions of 60 characters);
    the form plus its 別紙 when the opinions do not fit (12 of about 26 characters: exactly one 別紙 page)."""
    assert len(PdfReader(case_pdfs[case]).pages) == PAGES[case]


@pytest.mark.parametrize("case", sorted(PAGES))
def test_pdf_uses_only_ipa_fonts(case_pdfs, case):
    """ＭＳ 明朝 maps to IPA明朝 for every character, digits, Latin letters and ○ included."""
    fonts = _fonts(case_pdfs[case])
    assert fonts and all(f.startswith("IPA") for f in fonts), fonts


def test_bessi_repeats_its_header_on_every_page(case_pdfs):
    pdf = case_pdfs["form3-extreme"]
    n = len(PdfReader(pdf).pages)
    assert n >= 3
    assert "別紙のとおり" in _text(pdf, 1)
    for page in range(2, n + 1):
        text = _text(pdf, page)
        assert "意見・要望" in text and "回答" in text, page
    assert "意見12：" in _text(pdf, n) and "回答12：" in _text(pdf, n)


def test_limit_case_keeps_the_notes_and_opinions_on_the_form(case_pdfs):
    text = _text(case_pdfs["form2-extreme"])
    assert "長谷川左衛門太郎" in text and "委員の構成は、" in text
    text = _text(case_pdfs["form3-limit"])
    assert "意見5：" in text and "回答5：" in text and "別紙" not in text
    # 公用文 times, and the 開催日時 line does not wrap inside a word.
    assert "午後2時から午後3時30分まで" in text


@pytest.mark.parametrize("form", ["委嘱状", "設置報告書", "開催結果報告書"])
def test_form_is_one_page_with_every_label(pdfs, form):
    pdf = next(v for k, v in pdfs.items() if k.stem == form)
    assert len(PdfReader(pdf).pages) == 1
    text = _text(pdf)
    for label in LABELS[form]:
        assert "".join(label.split()) in text, f"{form}: 「{label}」が PDF にありません"


def test_establishment_lists_all_fifteen_members(pdfs):
    text = _text(next(v for k, v in pdfs.items() if k.stem == "設置報告書"))
    for m in ROSTER:
        assert m.name.split("　")[0] in text


def test_pdf_on_an_existing_folder_then_bundles_of_what_changed_in_workbook_order(tmp_path):
    from pipeline.report import RunOptions
    from pipeline.run.steps import reports
    from tests.builders import AS_OF, baseline, write_book

    inp, out = tmp_path / "in", tmp_path / "out"
    sheets = baseline()
    for term in (0, 10):  # the 会長 sits in a later row than two 委員
        sheets["委員"][term]["役職"], sheets["委員"][term + 2]["役職"] = "委員", "会長"
    write_book(inp / "テスト署.xlsx", sheets)
    reports(inp, out, RunOptions(as_of=AS_OF))  # the first run without --pdf
    # --pdf on the existing folder: every current document gets its PDF; nothing was written, so no bundle.
    report = reports(inp, out, RunOptions(as_of=AS_OF, pdf=True))
    docx = sorted(out.rglob("*.docx"))
    assert docx and all(p.with_suffix(".pdf").is_file() for p in docx)
    assert not list((out / "テスト警察署").glob("印刷用/*.pdf")) and "PDF" in report.pdf_note
    # A hand-edited 委嘱状 gets a fresh PDF of the clerk's version.
    edited = docx[0]
    doc = Document(edited)
    doc.paragraphs[-1].add_run("（手で追記）")
    doc.save(edited)
    # A new 署長: every 委嘱状 changes; the bundle holds them, 会長 first, named with the run's time.
    sheets["署"][1]["値"] = "新井　署長"
    write_book(inp / "テスト署.xlsx", sheets)
    report = reports(inp, out, RunOptions(as_of=AS_OF, pdf=True))
    assert "（手で追記）" in _text(edited.with_suffix(".pdf"))
    bundles = sorted((out / "テスト警察署" / "印刷用").glob("*.pdf"))
    assert [b.name.split("_印刷用_")[0] for b in bundles] == ["委嘱状"]
    assert re.fullmatch(r"委嘱状_印刷用_\d{8}-\d{6}\.pdf", bundles[0].name)
    reader = PdfReader(bundles[0])
    assert len(reader.pages) == 20  # 19 rewritten, and the 新版 beside the clerk's edited one
    first = reader.pages[0].extract_text()
    assert sheets["委員"][2]["氏名"].replace("　", "") in first.replace(" ", "").replace("　", "")


def test_reports_pdf_from_the_command_line(tmp_path, capsys):
    from pipeline.cli import main
    from tests.builders import AS_OF, baseline, write_book

    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat(), "--pdf"]) == 0
    assert len(list((out / "テスト警察署" / "委嘱状").glob("*.pdf"))) == 20
    assert "印刷用まとめ" in capsys.readouterr().out


def test_every_sample_document_converts_to_one_page(tmp_path):
    """The reliability bar: every generated .docx opens in LibreOffice (one batch for the lot)."""
    from pathlib import Path

    from pipeline.checking.result import Options
    from pipeline.run.steps import run
    from tests.builders import AS_OF

    root = Path(__file__).resolve().parents[1]
    run(root / "input_samples", tmp_path, Options(as_of=AS_OF))
    docs = sorted(tmp_path.rglob("*.docx"))
    assert len(docs) > 300
    pdfs = convert(docs)
    assert sorted(pdfs) == docs
    # One page each; a meeting whose opinions do not fit has its 別紙 after the form.
    pages = {str(d.relative_to(tmp_path)): len(PdfReader(p).pages) for d, p in pdfs.items()}
    with_bessi = {str(d.relative_to(tmp_path)) for d in docs if "別紙のとおり" in _text(pdfs[d], 1)}
    assert {k: v for k, v in pages.items() if (v != 1) != (k in with_bessi)} == {}
    assert {k: v for k, v in pages.items() if k in with_bessi and v < 2} == {}
    fonts = set().union(*(_fonts(p) for p in pdfs.values()))
    assert all(f.startswith("IPA") for f in fonts), fonts
