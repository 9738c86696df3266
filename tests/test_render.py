"""The three forms: golden text and table grids, escaping, line breaks, template safety."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from dataclasses import replace

import pytest
from docx.oxml.ns import qn
from docxtpl import DocxTemplate

from pipeline.core.errors import TemplateProblem
from pipeline.core.model import Opinion, Station
from pipeline.documents import forms
from pipeline.documents.form_fields import template_context
from pipeline.documents.render import FormTemplate, load_templates, make_env
from tests.docx_text import extract
from tests.form_cases import COUNCIL, MEETING, MEMBERS, STATION, contexts, member

D = dt.date
_member = member  # the name other test modules import


@pytest.fixture(scope="module")
def templates():
    return load_templates(fields=forms.FIELDS)


def test_commission_golden(templates):
    out = extract(templates["委嘱状"].render(forms.commission(STATION, COUNCIL, MEMBERS[0])))
    assert out["paragraphs"] == [
        "委嘱状",  # letter-spaced, not spaced with blanks
        "佐藤　一郎　殿",
        "あなたを一番町交番連絡協議会委員に委嘱します。",
        "任期：令和元年5月1日から",
        "　　　令和3年3月31日まで",
        "令和元年5月1日",
        "仙台中央警察署長　大槻　正和　印",
    ]
    assert out["tables"] == []


def test_establishment_golden(templates):
    out = extract(templates["設置報告書"].render(forms.establishment(STATION, COUNCIL, MEMBERS)))
    assert out["paragraphs"] == [
        "別記様式第2号",
        "宮城県警察本部長　殿",
        "宮地第12号",
        "令和2年3月10日",
        "仙台中央警察署長",
        "交番・駐在所連絡協議会設置報告書",
        # A tab after the number: the hanging indent aligns the wrapped lines with the text.
        "注1\t名称は、連絡協議会の固有名称を記載すること。",
        "\t例　○○○交番連絡協議会、○○地区○○連絡協議会等",
        "　2\t協議会種別は、所管区ごとの連絡協議会、単位連絡協議会又は職種等連絡協議会の別を記載すること。",
        "　3\t委員の構成は、氏名、役職名、年齢等を記載すること。",
    ]
    [grid] = out["tables"]  # one table: no table nested in a cell
    assert [row[0] for row in grid] == ["名称", "協議会種別\n（設置理由）"] + ["委員の構成"] * 4 + ["運営責任者"]
    assert grid[0][1:] == ["一番町交番連絡協議会"] * 6  # merged across the value columns
    assert grid[1][1] == "単位連絡協議会（2交番の統合のため）"
    assert dict.fromkeys(grid[6][1:]) == dict.fromkeys(["職名　交番所長", "階級　警部補", "氏名　千葉　健一"])
    # Serving on 報告日 (2020-03-10), 会長 first, ages on that day; the later term is not listed.
    assert [row[1:6] for row in grid[2:6]] == [
        ["氏名", "役職名", "年齢", "性別", "職業"],
        ["高橋　洋子", "会長", "58", "女", "町内会長"],
        ["鈴木　健一", "副会長", "58", "男", "会社員"],
        ["佐藤　一郎", "委員", "69", "男", "会社員"],
    ]
    # The label is merged down over the header and member rows.
    tcs = [row._tr.tc_lst[0] for row in out["doc"].tables[0].rows[2:6]]
    assert [tc.tcPr.find(qn("w:vMerge")).get(qn("w:val")) for tc in tcs] == ["restart", None, None, None]


def test_establishment_blanks_for_hand_entry(templates):
    council = replace(COUNCIL, doc_no=None, report_date=None, kind="所管区", reason=None)
    out = extract(templates["設置報告書"].render(forms.establishment(STATION, council, MEMBERS)))
    assert "宮地第　　　号" in out["paragraphs"]
    assert "　　年　　月　　日" in out["paragraphs"]
    assert out["tables"][0][1][1] == "所管区ごとの連絡協議会"


def test_roster_falls_back_to_the_earliest_later_term():
    council = replace(COUNCIL, report_date=None, established=D(2021, 4, 1))
    day, listed = forms.roster(council, MEMBERS)
    assert day == D(2021, 4, 1)
    assert [m.name for m in listed] == ["遠藤　隆"]
    council = replace(COUNCIL, report_date=None, established=D(2019, 1, 1))
    day, listed = forms.roster(council, MEMBERS)
    assert [m.name for m in listed] == ["高橋　洋子", "鈴木　健一", "佐藤　一郎"]


def test_meeting_golden(templates):
    out = extract(templates["開催結果報告書"].render(forms.meeting(STATION, COUNCIL, MEETING)))
    assert out["paragraphs"] == [
        "別記様式第3号",
        "仙台中央警察署長　殿",
        "令和2年3月9日",
        "一番町交番",
        "階級　巡査部長",
        "氏名　千葉　健一",
        "連絡協議会開催結果報告書",
    ]
    grid = out["tables"][0]
    assert [r[0] for r in grid] == [
        "所管区名", "協議会名", "開催日時", "開催場所", "参加委員数", "参加警察官数", "参加警察官数",
        "会議種別", "開催状況", "開催状況", "開催状況", "備考",
    ]  # fmt: skip
    assert grid[2][1] == "令和2年3月5日（木）午後2時から午後3時30分まで"
    assert grid[4][1] == "8人"
    # Each count in a cell of its own, so that 地域幹部 and その他の幹部 line up.
    assert grid[5][1:] == ["4人", "警察幹部等の\n参加数（内数）", "地域幹部", "1人"]
    assert grid[6][3:] == ["その他の幹部", "2人"]
    assert grid[7][1:] == ["○定期会議（2回目）"] * 2 + ["臨時会議"] * 2
    assert grid[8][1:] == ["意見・要望"] * 2 + ["回答"] * 2
    assert grid[9][1:] == ["街路灯が暗い。"] * 2 + ["市に伝えます。"] * 2
    assert grid[10][1:] == ["夜間の見回りを"] * 2 + ["", ""]
    assert grid[11][1] == "テーマ：通学路の安全\n資料配布\n（委員以外の参加者：PTA役員2名）"
    assert len(out["tables"]) == 1  # no 別紙


def test_meeting_extraordinary_and_deputy(templates):
    mt = replace(MEETING, kind="臨時", round=None, report_to="副署長", opinions=())
    out = extract(templates["開催結果報告書"].render(forms.meeting(STATION, COUNCIL, mt)))
    assert out["paragraphs"][1] == "仙台中央警察署副署長　殿"
    grid = out["tables"][0]
    assert grid[7][1:] == ["定期会議（　回目）"] * 2 + ["○臨時会議"] * 2
    # No opinions recorded: one empty row remains to write in by hand.
    assert grid[9][1:] == [""] * 4 and grid[10][0] == "備考"


@pytest.mark.parametrize(
    "name",
    ["A&B <script>", 'O\'Brien "Bob"', "山﨑　太郎😀", "制御\x01文字\x0b入り", "{{ evil }}{% raw %}", "]]><w:t>"],
)
def test_untrusted_text_is_escaped(templates, name):
    m = _member(3, name, "委員", D(1950, 5, 1))
    data = templates["委嘱状"].render(forms.commission(STATION, COUNCIL, m))
    out = extract(data)
    expected = name.replace("\x01", "").replace("\x0b", "")
    assert out["paragraphs"][1] == f"{expected}　殿"


def test_alt_enter_becomes_a_line_break(templates):
    mt = replace(MEETING, opinions=(Opinion(2, "M1", "一行目\n二行目", "回答"),))
    data = templates["開催結果報告書"].render(forms.meeting(STATION, COUNCIL, mt))
    out = extract(data)
    assert out["tables"][0][9][1] == "一行目\n二行目"
    cell = out["doc"].tables[0].rows[9].cells[1]
    assert "<w:br/>" in cell._tc.xml


def _docxtpl_render(path, ctx) -> bytes:
    tpl = DocxTemplate(path)
    tpl.render(ctx, jinja_env=make_env(), autoescape=True)
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


def _canonical_parts(data: bytes) -> dict[str, bytes]:
    """Every XML part that rendering touches, canonicalised (C14N): attribute order, quotes and
    redundant namespace declarations do not count, every element, attribute and text does."""
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = [
            n for n in z.namelist() if n == "word/document.xml" or re.fullmatch(r"word/(header|footer)\d*\.xml", n)
        ]
        return {n: etree.tostring(etree.fromstring(z.read(n)), method="c14n") for n in names}


def _core(data: bytes) -> dict[str, str]:
    from docx import Document

    props = Document(io.BytesIO(data)).core_properties
    return {k: getattr(props, k) for k in ("title", "subject", "author", "comments", "identifier", "language")}


@pytest.mark.parametrize("case", sorted(contexts()))
def test_fast_renderer_matches_plain_docxtpl_at_xml_level(templates, case):
    """Compiling once must give the same XML docxtpl's own render() gives, element for element."""
    form, ctx = contexts()[case]
    fast = templates[form].render(ctx)
    plain = _docxtpl_render(templates[form].path, template_context(form, ctx))
    assert _canonical_parts(fast) == _canonical_parts(plain)
    assert _core(fast) == _core(plain)


def test_rendering_is_deterministic(templates):
    ctx = forms.meeting(STATION, COUNCIL, MEETING)
    assert templates["開催結果報告書"].render(ctx) == templates["開催結果報告書"].render(ctx)


def _template_with(tmp_path, text: str):
    from docx import Document

    doc = Document()
    doc.add_paragraph(text)
    path = tmp_path / "custom.docx"
    doc.save(path)
    return FormTemplate(path)


def test_literal_braces_belong_to_the_template_not_to_the_values(tmp_path):
    # docxtpl's spelling for literal braces in a template ({_{ }_}) prints {{ }}; the same text in a value
    # is something a clerk typed, and is printed as typed.
    tpl = _template_with(tmp_path, "記入欄{_{ 例 }_}：{{ name }}")
    out = extract(tpl.render({"name": "型番{_{1}_}"}))
    assert "記入欄{{ 例 }}：型番{_{1}_}" in out["paragraphs"]


def test_unknown_template_name_fails_clearly(tmp_path):
    tpl = _template_with(tmp_path, "{{ name }} {{ shoe_size }}")
    with pytest.raises(TemplateProblem) as e:
        tpl.check_fields(forms.FIELDS["委嘱状"])
    assert "custom.docx" in str(e.value) and "shoe_size" in str(e.value)


def test_sandbox_blocks_python_internals(tmp_path):
    tpl = _template_with(tmp_path, "{{ name.__class__.__mro__ }}")
    with pytest.raises(TemplateProblem):
        tpl.render({"name": "x"})


def test_missing_template_file_is_a_clear_problem(tmp_path):
    for f in ("委嘱状.docx", "設置報告書.docx"):
        shutil.copy(f"templates_docx/{f}", tmp_path / f)
    with pytest.raises(TemplateProblem) as e:
        load_templates(tmp_path)
    assert "開催結果報告書.docx" in str(e.value)


def test_templates_set_the_east_asian_font():
    from docx import Document

    for name in ("委嘱状.docx", "設置報告書.docx", "開催結果報告書.docx"):
        doc = Document(f"templates_docx/{name}")
        styles_xml = doc.styles.element.xml
        assert 'w:eastAsia="ＭＳ 明朝"' in styles_xml, name
        sec = doc.sections[0]
        assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
        assert [round(x.mm) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)] == [
            25,
            25,
            30,
            20,
        ]


def test_template_edited_in_word_with_split_runs_still_renders(tmp_path):
    """Word often splits a tag over several runs when a clerk edits a template."""
    from docx import Document

    doc = Document()
    p = doc.add_paragraph()
    for piece in ["{{ na", "me }}", "{{ hono", "rific }}", "　様へ"]:
        p.add_run(piece).bold = piece.startswith("{{ hono")
    path = tmp_path / "edited.docx"
    doc.save(path)
    tpl = FormTemplate(path)
    tpl.check_fields(forms.FIELDS["委嘱状"])
    out = extract(tpl.render({"name": "佐藤　一郎", "honorific": "殿"}))
    assert out["paragraphs"] == ["佐藤　一郎殿　様へ"]


@pytest.mark.parametrize("given,printed", [("", "殿"), ("殿", "殿"), ("様", "様"), ("　様 ", "様")])
def test_commission_honorific_defaults_to_dono_after_a_full_width_space(templates, given, printed):
    station = Station("仙台中央警察署", chief_name="大槻　正和", honorific=given)
    out = extract(templates["委嘱状"].render(forms.commission(station, COUNCIL, MEMBERS[0])))
    assert out["paragraphs"][1] == f"佐藤　一郎　{printed}"


def _opinions(n: int, chars: int) -> tuple[Opinion, ...]:
    return tuple(Opinion(2 + i, "M1", "意" * chars, "答" * chars) for i in range(n))


@pytest.mark.parametrize(
    "n,chars,annex",
    [(0, 0, False), (5, 60, False), (1, 300, False), (1, 400, True), (4, 120, True), (6, 5, True), (12, 26, True)],
)
def test_opinions_go_to_a_bessi_when_they_do_not_fit(n, chars, annex):
    mt = replace(MEETING, opinions=_opinions(n, chars))
    assert forms.meeting(STATION, COUNCIL, mt)["annex"] is annex


def test_long_values_above_take_room_from_the_opinions():
    mt = replace(MEETING, opinions=_opinions(5, 60))
    assert forms.meeting(STATION, COUNCIL, mt)["annex"] is False
    long_note = replace(mt, note="\n".join(["備考の行"] * 8))
    assert forms.meeting(STATION, COUNCIL, long_note)["annex"] is True
    long_place = replace(mt, place="会" * 70)
    assert forms.meeting(STATION, COUNCIL, long_place)["annex"] is True


def test_bessi_holds_every_opinion_under_a_repeating_header(templates):
    mt = replace(MEETING, opinions=_opinions(12, 26))
    out = extract(templates["開催結果報告書"].render(forms.meeting(STATION, COUNCIL, mt)))
    form, annex = out["tables"]
    assert [r[0] for r in form][8:] == ["開催状況", "備考"]
    assert form[8][1:] == ["別紙のとおり"] * 4
    assert out["paragraphs"][-2:] == ["別紙", "開催状況（一番町交番連絡協議会　令和2年3月5日開催）"]
    assert annex == [["意見・要望", "回答"]] + [["意" * 26, "答" * 26]] * 12
    rows = out["doc"].tables[1].rows
    assert rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in rows)
    bessi = next(p for p in out["doc"].paragraphs if p.text == "別紙")
    assert bessi._p.pPr.find(qn("w:pageBreakBefore")) is not None


def _template_with_parts(tmp_path, *, header: str = "", footer: str = "", title: str = "", name="parts.docx"):
    from docx import Document

    doc = Document()
    doc.add_paragraph("{{ name }}")
    sec = doc.sections[0]
    if header:
        sec.header.paragraphs[0].text = header
    if footer:
        sec.footer.paragraphs[0].text = footer
    doc.core_properties.title = title
    path = tmp_path / name
    doc.save(path)
    return path


def test_headers_footers_and_title_are_rendered(tmp_path):
    """A clerk adds a placeholder to a header, a footer or the document title in Word."""
    from docx import Document

    path = _template_with_parts(
        tmp_path, header="{{ station }} 様式", footer="{{ council_name }} & 控", title="{{ name }}の委嘱状"
    )
    tpl = FormTemplate(path)
    assert tpl.names == {"name", "station", "council_name"}  # check_fields sees every part
    tpl.check_fields(forms.FIELDS["委嘱状"])
    ctx = {"name": "A&B <佐藤>", "station": "仙台中央警察署", "council_name": "一番町交番連絡協議会"}
    data = tpl.render(ctx)
    doc = Document(io.BytesIO(data))
    assert doc.sections[0].header.paragraphs[0].text == "仙台中央警察署 様式"
    assert doc.sections[0].footer.paragraphs[0].text == "一番町交番連絡協議会 & 控"
    assert doc.core_properties.title == "A&B <佐藤>の委嘱状"
    assert doc.paragraphs[0].text == "A&B <佐藤>"
    # The same XML docxtpl's own render() writes for the body, header and footer.
    plain = _docxtpl_render(path, ctx)
    assert _canonical_parts(data) == _canonical_parts(plain)
    assert len(_canonical_parts(data)) == 3


def test_header_placeholder_unknown_to_the_pipeline_is_named(tmp_path):
    tpl = FormTemplate(_template_with_parts(tmp_path, header="{{ shoe_size }}"))
    with pytest.raises(TemplateProblem) as e:
        tpl.check_fields(forms.FIELDS["委嘱状"])
    assert "shoe_size" in str(e.value)


@pytest.mark.parametrize(
    "part,xml",
    [
        ("docProps/app.xml", "<Company>{{ station }}</Company>"),
        ("word/comments.xml", "<w:t>{{</w:t></w:r><w:r><w:t> name }}</w:t>"),
        ("docProps/custom.xml", "<vt:lpwstr>{% if x %}</vt:lpwstr>"),
    ],
)
def test_placeholder_in_a_part_that_is_not_rendered_refuses_the_template(tmp_path, part, xml):
    from pipeline.ooxml.zipfix import read_zip, write_zip

    path = _template_with_parts(tmp_path)
    members = dict(read_zip(path.read_bytes()))
    old = members.get(part, b"<root></root>").decode("utf-8")
    cut = old.rindex("</")
    members[part] = (old[:cut] + xml + old[cut:]).encode("utf-8")
    path.write_bytes(write_zip(list(members.items())))
    with pytest.raises(TemplateProblem) as e:
        FormTemplate(path)
    assert part in str(e.value) and "parts.docx" in str(e.value)
