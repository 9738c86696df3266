"""The three forms: golden text and table grids, escaping, line breaks, template safety."""

from __future__ import annotations

import datetime as dt
import io
import shutil

import pytest
from docxtpl import DocxTemplate

from pipeline import forms
from pipeline.model import Council, Meeting, Member, Opinion, Station
from pipeline.render import FormTemplate, TemplateProblem, load_templates, make_env
from tests.docx_text import extract

D = dt.date
STATION = Station("仙台中央警察署", chief_name="大槻　正和", honorific="殿")
COUNCIL = Council(
    row=2, id="1", name="一番町交番連絡協議会", kind="単位", job_kind=None, reason="2交番の統合のため",
    posts="一番町交番", post_type="交番", district="一番町交番所管区", established=D(2020, 3, 5),
    manager_title="交番所長", manager_rank="警部補", manager_name="千葉　健一", doc_no="12", report_date=D(2020, 3, 10),
)  # fmt: skip


def _member(row, name, role, birth, start=D(2019, 5, 1), end=D(2021, 3, 31), **kw):
    base = dict(
        row=row, council_id="1", name=name, kana=None, gender="男", birth=birth, age=None, job="会社員",
        role=role, category="その他", public_office=None, start=start, end=end, issued=None, first_start=None,
        predecessor=None, term_change=None,
    )  # fmt: skip
    base.update(kw)
    return Member(**base)


MEMBERS = [
    _member(3, "佐藤　一郎", "委員", D(1950, 5, 1)),
    _member(4, "高橋　洋子", "会長", D(1962, 3, 6), gender="女", job="町内会長"),
    _member(5, "鈴木　健一", "副会長", None, age=58),
    _member(6, "遠藤　隆", "委員", D(1970, 1, 1), start=D(2021, 4, 1), end=D(2023, 3, 31)),
]
MEETING = Meeting(
    row=2, id="M1", council_id="1", kind="定例", round=2, date=D(2020, 3, 5), start_time=dt.time(14, 0),
    end_time=dt.time(15, 30), place="一番町交番2階", members_n=8, officers_n=4, local_n=1, other_n=2,
    outsiders="PTA役員2名", theme="通学路の安全", report_date=D(2020, 3, 9), reporter_post="一番町交番",
    reporter_rank="巡査部長", reporter_name="千葉　健一", report_to="署長", note="資料配布",
    opinions=(Opinion(2, "M1", "街路灯が暗い。", "市に伝えます。"), Opinion(3, "M1", "夜間の見回りを", None)),
)  # fmt: skip


@pytest.fixture(scope="module")
def templates():
    return load_templates(fields=forms.FIELDS)


def test_commission_golden(templates):
    out = extract(templates["委嘱状"].render(forms.commission(STATION, COUNCIL, MEMBERS[0])))
    assert out["paragraphs"] == [
        "委　嘱　状",
        "佐藤　一郎殿",
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
        "注1　名称は、連絡協議会の固有名称を記載すること。",
        "　　例　○○○交番連絡協議会、○○地区○○連絡協議会等",
        "　2　協議会種別は、所管区ごとの連絡協議会、単位連絡協議会又は職種等連絡協議会の別を記載すること。",
        "　3　委員の構成は、氏名、役職名、年齢等を記載すること。",
    ]
    outer, inner = out["tables"]
    assert [row[0] for row in outer] == ["名称", "協議会種別\n（設置理由）", "委員の構成", "運営責任者"]
    assert outer[0][1:] == ["一番町交番連絡協議会"] * 3  # merged across the value columns
    assert outer[1][1] == "単位連絡協議会（2交番の統合のため）"
    assert outer[3][1:] == ["職名　交番所長", "階級　警部補", "氏名　千葉　健一"]
    # Serving on 報告日 (2020-03-10), 会長 first, ages on that day; the later term is not listed.
    assert inner == [
        ["氏名", "役職名", "年齢", "性別", "職業"],
        ["高橋　洋子", "会長", "58", "女", "町内会長"],
        ["鈴木　健一", "副会長", "58", "男", "会社員"],
        ["佐藤　一郎", "委員", "69", "男", "会社員"],
    ]


def test_establishment_blanks_for_hand_entry(templates):
    council = Council(**{**COUNCIL.__dict__, "doc_no": None, "report_date": None, "kind": "所管区", "reason": None})
    out = extract(templates["設置報告書"].render(forms.establishment(STATION, council, MEMBERS)))
    assert "宮地第　　　号" in out["paragraphs"]
    assert "　　年　　月　　日" in out["paragraphs"]
    assert out["tables"][0][1][1] == "所管区ごとの連絡協議会"


def test_roster_falls_back_to_the_earliest_later_term():
    council = Council(**{**COUNCIL.__dict__, "report_date": None, "established": D(2021, 4, 1)})
    day, listed = forms.roster(council, MEMBERS)
    assert day == D(2021, 4, 1)
    assert [m.name for m in listed] == ["遠藤　隆"]
    council = Council(**{**COUNCIL.__dict__, "report_date": None, "established": D(2019, 1, 1)})
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
    assert grid[2][1] == "令和2年3月5日（木）午後2時00分から午後3時30分まで"
    assert grid[4][1] == "8人"
    assert grid[5][1:] == ["4人", "警察幹部等の\n参加数（内数）", "地域幹部　　1人"]
    assert grid[6][3] == "その他の幹部2人"
    assert grid[7][1:] == ["○定期会議（第2回目）", "○定期会議（第2回目）", "臨時会議"]
    assert grid[8][1:] == ["意見・要望", "意見・要望", "回答"]
    assert grid[9][1:] == ["街路灯が暗い。", "街路灯が暗い。", "市に伝えます。"]
    assert grid[10][1:] == ["夜間の見回りを", "夜間の見回りを", ""]
    assert grid[11][1] == "テーマ：通学路の安全\n資料配布\n（委員以外の参加者：PTA役員2名）"


def test_meeting_extraordinary_and_deputy(templates):
    mt = Meeting(**{**MEETING.__dict__, "kind": "臨時", "round": None, "report_to": "副署長", "opinions": ()})
    out = extract(templates["開催結果報告書"].render(forms.meeting(STATION, COUNCIL, mt)))
    assert out["paragraphs"][1] == "仙台中央警察署副署長　殿"
    grid = out["tables"][0]
    assert grid[7][1:] == ["定期会議（第　回目）", "定期会議（第　回目）", "○臨時会議"]
    # No opinions recorded: one empty row remains to write in by hand.
    assert grid[9][1:] == ["", "", ""] and grid[10][0] == "備考"


@pytest.mark.parametrize(
    "name",
    ["A&B <script>", 'O\'Brien "Bob"', "山﨑　太郎😀", "制御\x01文字\x0b入り", "{{ evil }}{% raw %}", "]]><w:t>"],
)
def test_untrusted_text_is_escaped(templates, name):
    m = _member(3, name, "委員", D(1950, 5, 1))
    data = templates["委嘱状"].render(forms.commission(STATION, COUNCIL, m))
    out = extract(data)
    expected = name.replace("\x01", "").replace("\x0b", "")
    assert out["paragraphs"][1] == f"{expected}殿"


def test_alt_enter_becomes_a_line_break(templates):
    mt = Meeting(**{**MEETING.__dict__, "opinions": (Opinion(2, "M1", "一行目\n二行目", "回答"),)})
    data = templates["開催結果報告書"].render(forms.meeting(STATION, COUNCIL, mt))
    out = extract(data)
    assert out["tables"][0][9][1] == "一行目\n二行目"
    cell = out["doc"].tables[0].rows[9].cells[1]
    assert "<w:br/>" in cell._tc.xml


def test_fast_renderer_matches_plain_docxtpl(templates):
    """Compiling once must give the same document docxtpl's own render() gives."""
    cases = [
        ("委嘱状", forms.commission(STATION, COUNCIL, MEMBERS[0])),
        ("設置報告書", forms.establishment(STATION, COUNCIL, MEMBERS)),
        ("開催結果報告書", forms.meeting(STATION, COUNCIL, MEETING)),
    ]
    for form, ctx in cases:
        tpl = DocxTemplate(templates[form].path)
        tpl.render(ctx, jinja_env=make_env(), autoescape=True)
        buf = io.BytesIO()
        tpl.save(buf)
        plain = extract(buf.getvalue())
        fast = extract(templates[form].render(ctx))
        assert (fast["paragraphs"], fast["tables"]) == (plain["paragraphs"], plain["tables"]), form


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
