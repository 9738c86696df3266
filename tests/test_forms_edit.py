"""Form templates the office edits in Word (SPEC section 6): export, check, use; documents follow the edit.

Templates are edited the way Word leaves them: python-docx opens the exported .docx, changes a run, types
into a header, splits a placeholder over runs, and saves the whole package again.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from docx import Document as Docx
from docx.oxml import parse_xml
from lxml import html as lhtml
from openpyxl import load_workbook
from openxml_audit import OpenXmlValidator

from pipeline.cli import _watch_run, build_parser, main
from pipeline.core.write import ANNOTATED
from pipeline.documents import form_fields, forms
from pipeline.documents.form_templates import FOLDER, check_folder
from pipeline.documents.render import FormTemplate
from pipeline.run.watch import _Pending
from pipeline.workbooks.annotate import STATUS_SHEET
from tests.builders import AS_OF, baseline, write_book
from tests.docx_text import extract
from tests.form_cases import contexts

AS_OF_S = AS_OF.isoformat()
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NAMES = {"委嘱状": "委嘱状.docx", "設置報告書": "設置報告書.docx", "開催結果報告書": "開催結果報告書.docx"}
NEW_WORDING = "あなたを{{ 協議会名 }}の委員として委嘱します。"


def _runs_with(doc, needle: str):
    parts = [doc.paragraphs, *(c.paragraphs for t in doc.tables for c in t._cells)]
    for paragraphs in parts:
        for p in paragraphs:
            for r in p.runs:
                if needle in r.text:
                    yield p, r


def _edit(path: Path, change) -> None:
    doc = Docx(path)
    change(doc)
    doc.save(path)


# --- the Word-like edits ---------------------------------------------------------------------------


def wording(doc) -> None:
    """A change of wording inside the run that holds a placeholder."""
    _, r = next(_runs_with(doc, "委嘱します。"))
    r.text = NEW_WORDING


def header(doc) -> None:
    """A placeholder typed into a new header."""
    doc.sections[0].header.paragraphs[0].text = "{{ 警察署名 }}　控"


def split(doc) -> None:
    """The placeholder 協議会名 split over three runs, the middle one bold (what Word does after an edit)."""
    p, r = next(_runs_with(doc, "委嘱します。"))
    r.text = "あなたを{{ 協議"
    r2 = p.add_run("会")
    r2.bold = True
    p.add_run("名 }}委員に委嘱します。")


def unknown(doc) -> None:
    _, r = next(_runs_with(doc, "委嘱します。"))
    r.text = "あなたを{{ 協議会 }}委員に委嘱します。"


def bare_if(doc) -> None:
    _, r = next(_runs_with(doc, "委嘱します。"))
    r.text = "{% if %}あなたを{{ 協議会名 }}委員に委嘱します。{% endif %}"


def split_into_link(doc) -> None:
    """The second brace of {{ inside a hyperlink: the renderer cannot join it without breaking the XML."""
    p, r = next(_runs_with(doc, "委嘱します。"))
    r.text = "あなたを{"
    p._p.append(
        parse_xml(
            f'<w:hyperlink xmlns:w="{W}" w:anchor="x"><w:r><w:t>{{ 協議会名 }}}}委員に委嘱します。</w:t></w:r></w:hyperlink>'
        )
    )


def wide_braces(doc) -> None:
    _, r = next(_runs_with(doc, "委嘱します。"))
    r.text = "あなたを｛｛ 協議会名 ｝｝委員に委嘱します。"


def unknown_in_header(doc) -> None:
    doc.sections[0].header.paragraphs[0].text = "{{ 所長名 }}　控"


def unknown_row_item(doc) -> None:
    _, r = next(_runs_with(doc, "委嘱します。"))
    r.text = "{% for 委員 in 委員一覧 %}{{ 委員.氏名 }}{% endfor %}"


def title(doc) -> None:
    doc.core_properties.title = "{{ 氏名 }}様の委嘱状"


def python_internals(doc) -> None:
    _, r = next(_runs_with(doc, "委嘱します。"))
    r.text = "あなたを{{ 協議会名.__class__.__mro__ }}委員に委嘱します。"


# (edit, expected exit code, what the message must contain: form, part, placeholder, text around)
CASES = {
    "wording": (wording, 0, []),
    "header": (header, 0, []),
    "split-runs": (split, 0, []),
    "unknown-name": (unknown, 2, ["委嘱状.docx", "本文", "「協議会」", "近い名前: 協議会名", "あなたを{{ 協議会 }}委員に委嘱します。"]),
    "if-without-condition": (bare_if, 2, ["委嘱状.docx", "本文", "条件", "{% if %}あなたを"]),
    "split-unjoinable": (split_into_link, 2, ["委嘱状.docx", "本文", "壊れます"]),
    "full-width-braces": (wide_braces, 2, ["委嘱状.docx", "本文", "全角", "｛｛", "あなたを｛｛ 協議会名"]),
    "unknown-in-header": (unknown_in_header, 2, ["委嘱状.docx", "ヘッダー", "「所長名」", "{{ 所長名 }}　控"]),
    "list-of-another-form": (unknown_row_item, 2, ["委嘱状.docx", "本文", "「委員一覧」"]),
    "title": (title, 0, []),
    "sandbox": (python_internals, 2, ["委嘱状.docx"]),
}  # fmt: skip


@pytest.fixture
def exported(tmp_path) -> Path:
    d = tmp_path / "様式"
    assert main(["forms", "export", str(d)]) == 0
    return d


@pytest.mark.parametrize("case", sorted(CASES))
def test_forms_check_verdict_and_message(exported, case, capsys):
    change, code, needles = CASES[case]
    _edit(exported / "委嘱状.docx", change)
    capsys.readouterr()
    assert main(["forms", "check", str(exported)]) == code
    out = capsys.readouterr()
    text = out.out + out.err
    for needle in needles:
        assert needle in text, (needle, text)
    if code == 0:
        assert "問題はありません" in text


def test_forms_check_of_the_exported_templates_passes(exported):
    problems, missing = check_folder(exported)
    assert problems == [] and missing == []


def test_forms_check_names_a_missing_form_and_passes(exported, capsys):
    (exported / "設置報告書.docx").unlink()
    assert main(["forms", "check", str(exported)]) == 0
    assert "設置報告書.docx はありません（組み込みの様式を使います）" in capsys.readouterr().out


def test_split_placeholder_renders_as_typed(exported):
    _edit(exported / "委嘱状.docx", split)
    form, ctx = contexts()["form1-ordinary"]
    out = extract(FormTemplate(exported / "委嘱状.docx", form=form).render(ctx))
    assert f"あなたを{ctx['council_name']}委員に委嘱します。" in out["paragraphs"]


# --- export ----------------------------------------------------------------------------------------


def test_export_refuses_to_overwrite_without_force(exported, capsys):
    (exported / "委嘱状.docx").write_bytes(b"edited by the office")
    capsys.readouterr()
    assert main(["forms", "export", str(exported)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (exported / "委嘱状.docx").read_bytes() == b"edited by the office"
    assert main(["forms", "export", str(exported), "--force"]) == 0
    assert (exported / "委嘱状.docx").read_bytes() != b"edited by the office"


def _page_rows(exported: Path) -> dict[str, list[tuple[str, ...]]]:
    page = lhtml.fromstring((exported / form_fields.LIST_NAME).read_bytes())
    out = {}
    for h2, table in zip(page.findall(".//h2"), page.findall(".//table"), strict=True):
        form = h2.text_content().split("（")[0]
        out[form] = [tuple(td.text_content() for td in tr.findall("td")) for tr in table.findall("tr")[1:]]
    return out


def test_exported_list_is_the_declaration(exported):
    rows = _page_rows(exported)
    assert set(rows) == set(NAMES)
    for form, fields in form_fields.FIELDS.items():
        expected = []
        for f in fields:
            if f.items:
                usage = f"for {f.loop_var} in {f.name}"
            elif f.flag:
                usage = f"if {f.name}"
            else:
                usage = f"{{{{ {f.name} }}}}"
            expected.append((usage, f.meaning, f.example, f.key))
            expected += [
                (f"{{{{ {f.loop_var}.{i.name} }}}}", i.meaning, i.example, f"{f.key}[].{i.key}") for i in f.items
            ]
        got = rows[form]
        assert len(got) == len(expected), form
        for (usage, meaning, example, alias), (g_usage, g_meaning, g_example, g_alias) in zip(
            expected, got, strict=True
        ):
            assert usage in g_usage and meaning in g_meaning and g_example == example and g_alias == alias
        # The declaration covers every value forms.py gives the form, and nothing else.
        assert {f.key for f in fields} == forms.FIELDS[form]


def _listed_values(rows: list[tuple[str, ...]], ctx: dict) -> list[tuple[str, str]]:
    """(template source, text expected) for every placeholder of the exported list: the source from its
    placeholder column, the expected text from forms.py's context through its English-name column."""
    out, loop = [], None
    for usage, _meaning, _example, alias in rows:
        if m := re.match(r"\{%tr for (\S+) in (\S+) %\}", usage):
            loop = m.groups()  # (row name, list name): the rows below are its fields
            continue
        if "[]." in alias:
            key, item = alias.split("[].")
            var, listed = loop
            src = f"{{% for {var} in {listed} %}}[{usage}]{{% endfor %}}"
            out.append((src, "".join(f"[{row[item]}]" for row in ctx[key])))
        elif m := re.match(r"\{%p if (\S+) %\}", usage):
            out.append(
                (f"{{% if {m.group(1)} %}}はい{{% else %}}いいえ{{% endif %}}", "はい" if ctx[alias] else "いいえ")
            )
        else:
            out.append((usage, ctx[alias]))
    return out


@pytest.mark.parametrize("case", sorted(contexts()))
def test_every_listed_placeholder_renders_its_value(exported, tmp_path, case):
    form, ctx = contexts()[case]
    pairs = _listed_values(_page_rows(exported)[form], ctx)
    assert len(pairs) == sum(len(f.items) or 1 for f in form_fields.FIELDS[form])
    doc = Docx()
    for n, (src, _) in enumerate(pairs):
        doc.add_paragraph(f"{n}:{src}")
    path = tmp_path / "all.docx"
    doc.save(path)
    printed = [p.text for p in Docx(io.BytesIO(FormTemplate(path, form=form).render(ctx))).paragraphs]
    assert printed == [f"{n}:{value}" for n, (_, value) in enumerate(pairs)]


# --- using edited templates in a run --------------------------------------------------------------


def _setup(tmp_path) -> tuple[Path, Path]:
    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    return inp, out


def _docs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.docx"))}


def _statuses(out: Path) -> dict[str, dict]:
    data = json.loads((out / "検証結果.json").read_text("utf-8"))
    return {d["path"]: d for w in data["workbooks"] for d in w["documents"]}


def _hand_edit(path: Path) -> None:
    doc = Docx(path)
    doc.add_paragraph("（手書きの追記）")
    doc.save(path)


@pytest.mark.parametrize("how", ["様式-folder", "--forms"])
def test_an_edited_form_reaches_every_unedited_document_of_that_form_only(tmp_path, how, capsys):
    inp, out = _setup(tmp_path)
    before = _docs(out)
    commissions = sorted(p for p in before if "/委嘱状/" in p)
    edited = commissions[0]
    _hand_edit(out / edited)
    edited_bytes = (out / edited).read_bytes()
    forms_dir = inp / FOLDER if how == "様式-folder" else tmp_path / "office-forms"
    assert main(["forms", "export", str(forms_dir)]) == 0
    _edit(forms_dir / "委嘱状.docx", wording)
    _edit(forms_dir / "委嘱状.docx", header)
    extra = ["--forms", str(forms_dir)] if how == "--forms" else []
    capsys.readouterr()
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S, *extra]) == 0
    screen = capsys.readouterr().out
    after = _docs(out)
    status = _statuses(out)
    assert set(after) == set(before)  # no 新版 beside the hand-edited file, nothing else new
    for rel in commissions[1:]:
        text = extract(after[rel])
        name = re.sub(r"^.*/", "", rel)
        assert any("の委員として委嘱します。" in p for p in text["paragraphs"]), name
        assert status[rel]["status"] == "written"
        header_xml = [v for k, v in _parts(after[rel]).items() if k.startswith("word/header")]
        assert header_xml and "テスト警察署　控" in header_xml[0].decode()
    assert (out / edited).read_bytes() == edited_bytes
    assert status[edited]["status"] == "kept-edited" and status[edited].get("form_changed") is True
    assert "new_path" not in status[edited]
    for rel in before:
        if "/委嘱状/" not in rel:
            assert after[rel] == before[rel], rel
            assert status[rel]["status"] == "unchanged"
    # The screen and 作成状況 name the folder and the SHA-256 of each template.
    sha = hashlib.sha256((forms_dir / "委嘱状.docx").read_bytes()).hexdigest()
    assert str(forms_dir) in screen and sha in screen
    assert "作成後に様式が変わりました" in screen
    ws = load_workbook(out / "テスト警察署" / ANNOTATED)[STATUS_SHEET]
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value]
    assert any(str(forms_dir) in c for c in cells) and any(sha in c for c in cells)
    assert any("様式が変わりました" in c for c in cells)
    # Word opens both cleanly: the copy with its template lines, a document with the header the office added.
    validator = OpenXmlValidator(max_errors=0)
    assert validator.validate(str(out / "テスト警察署" / ANNOTATED)).errors == []
    assert validator.validate(str(out / commissions[1])).errors == []
    # A re-run with nothing changed keeps saying so, and writes nothing.
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S, *extra]) == 0
    assert _docs(out) == after
    assert _statuses(out)[edited].get("form_changed") is True


def _parts(data: bytes) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_forms_option_wins_over_the_folder_and_a_missing_form_falls_back(tmp_path, capsys):
    inp, out = _setup(tmp_path)
    before = _docs(out)
    assert main(["forms", "export", str(inp / FOLDER)]) == 0
    _edit(inp / FOLDER / "委嘱状.docx", unknown)  # broken: would stop the run
    office = tmp_path / "office"
    assert main(["forms", "export", str(office)]) == 0
    (office / "設置報告書.docx").unlink()
    (office / "開催結果報告書.docx").unlink()
    capsys.readouterr()
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S, "--forms", str(office)]) == 0
    screen = capsys.readouterr().out
    assert "設置報告書: 「" in screen and "設置報告書.docx がないため組み込みの様式" in screen
    assert "開催結果報告書.docx がないため組み込みの様式" in screen
    assert _docs(out) == before  # the exported template is the built-in one: the same bytes


@pytest.mark.parametrize("case", ["unknown-name", "if-without-condition", "split-unjoinable", "unknown-in-header"])
@pytest.mark.parametrize("fresh", [True, False])
def test_a_bad_template_writes_no_document(tmp_path, case, fresh, capsys):
    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    if not fresh:
        assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    before = _docs(out) if out.exists() else {}
    assert main(["forms", "export", str(inp / FOLDER)]) == 0
    _edit(inp / FOLDER / "委嘱状.docx", wording)
    _edit(inp / FOLDER / "委嘱状.docx", CASES[case][0])
    capsys.readouterr()
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 2
    err = capsys.readouterr().err
    assert "委嘱状.docx" in err and "文書は作っていません" in err
    assert _docs(out) == before


def test_check_command_uses_and_checks_the_forms_too(tmp_path, capsys):
    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    assert main(["forms", "export", str(inp / FOLDER)]) == 0
    _edit(inp / FOLDER / "開催結果報告書.docx", lambda d: setattr(d.paragraphs[1].runs[0], "text", "{{ 宛名 }}　殿"))
    assert main(["check", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 2
    assert "開催結果報告書.docx の本文" in capsys.readouterr().err


def test_forms_folder_is_not_an_input_candidate(tmp_path):
    inp, out = _setup(tmp_path)
    assert main(["forms", "export", str(inp / FOLDER)]) == 0
    (inp / FOLDER / "古い様式.xlsx").write_bytes(b"not a workbook")
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    files = [w["file"] for w in json.loads((out / "検証結果.json").read_text("utf-8"))["workbooks"]]
    assert files == ["テスト署.xlsx"]


def test_watch_reports_a_failing_template_writes_nothing_and_recovers(tmp_path, capsys):
    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    assert main(["forms", "export", str(inp / FOLDER)]) == 0
    _edit(inp / FOLDER / "委嘱状.docx", bare_if)
    args = build_parser().parse_args(["watch", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S])
    _watch_run(args, None)  # does not raise: the watcher keeps running
    screen = capsys.readouterr().out
    assert "文書は作っていません" in screen and "委嘱状.docx の本文" in screen
    assert not list(out.rglob("*.docx")) if out.exists() else True
    # A saved template in the forms folder is a change the watcher sees.
    pending = _Pending((inp / FOLDER).resolve())
    pending._touch(str((inp / FOLDER / "委嘱状.docx").resolve()))
    assert pending.ready(0) == [(inp / FOLDER / "委嘱状.docx").resolve()]
    assert main(["forms", "export", str(inp / FOLDER), "--force"]) == 0  # fixed
    _watch_run(args, None)
    assert len(list(out.rglob("*.docx"))) == 25


def test_a_placeholder_where_it_is_not_rendered_is_refused_naming_the_part(exported, capsys):
    """The company field (docProps/app.xml) is not rendered: printed literally, so refused."""
    company = "<Company>{{ 警察署名 }}</Company></Properties>".encode()
    _rezip(
        exported / "設置報告書.docx",
        lambda name, data: data.replace(b"</Properties>", company) if name == "docProps/app.xml" else data,
    )
    capsys.readouterr()
    assert main(["forms", "check", str(exported)]) == 2
    out = capsys.readouterr().out
    assert "設置報告書.docx の文書のプロパティ（app.xml）" in out and "{{ 警察署名 }}" in out


def test_a_title_placeholder_is_rendered(exported):
    _edit(exported / "委嘱状.docx", title)
    form, ctx = contexts()["form1-ordinary"]
    data = FormTemplate(exported / "委嘱状.docx", form=form).render(ctx)
    assert Docx(io.BytesIO(data)).core_properties.title == f"{ctx['name']}様の委嘱状"


def test_an_upgrade_from_earlier_manifest_keys_gives_no_new_version(tmp_path):
    """Keys written by the version before Japanese placeholders (sha256 of template SHA + values): a
    hand-edited document stays kept-edited without a _新版, its form reported as changed."""
    from pipeline.checking.result import Options
    from pipeline.checking.validate import validate_workbook
    from pipeline.documents.plan import plan_documents
    from pipeline.documents.render import EARLIER_TEMPLATES

    inp, out = _setup(tmp_path)
    result = validate_workbook(inp / "テスト署.xlsx", Options(as_of=AS_OF))
    manifest = json.loads((out / ".manifest.json").read_text("utf-8"))
    for plan in plan_documents(result.book, result.findings, result.canon, "テスト警察署"):
        ctx = {k: v for k, v in plan.build().items() if not (plan.document.form == "開催結果報告書" and k == "station")}
        blob = json.dumps(ctx, ensure_ascii=False, sort_keys=True).encode()
        fp = EARLIER_TEMPLATES[plan.document.form].encode()
        manifest["keys"][plan.document.path] = hashlib.sha256(fp + blob).hexdigest()
    (out / ".manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    edited = sorted(p for p in _docs(out) if "/開催結果報告書/" in p)[0]
    _hand_edit(out / edited)
    kept = (out / edited).read_bytes()
    (inp / "テスト署.xlsx").touch()  # the run record alone would take the workbook as it was
    import shutil

    shutil.rmtree(out / ".kobankyo-cache")
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 0
    status = _statuses(out)[edited]
    assert status["status"] == "kept-edited" and status.get("form_changed") is True and "new_path" not in status
    assert (out / edited).read_bytes() == kept
    assert not [p for p in _docs(out) if "_新版" in p]


def _rezip(path: Path, change) -> None:
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            z.writestr(info, change(info.filename, data))


def test_openxml_audit_findings_are_reported_with_form_and_part(exported, capsys):
    """A header whose paragraph style is not in styles.xml: Word would repair the file."""

    def drop_header_style(name: str, data: bytes) -> bytes:
        if name != "word/styles.xml":
            return data
        return re.sub(rb'<w:style w:type="paragraph" w:styleId="Header">.*?</w:style>', b"", data)

    _rezip(exported / "委嘱状.docx", drop_header_style)
    _edit(exported / "委嘱状.docx", header)
    capsys.readouterr()
    assert main(["forms", "check", str(exported)]) == 2
    out = capsys.readouterr().out
    assert "委嘱状.docx のヘッダー（header1.xml）" in out and "openxml-audit" in out and "Header" in out


def test_a_forms_folder_that_is_not_there_stops_the_run(tmp_path, capsys):
    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    missing = tmp_path / "ない"
    assert (
        main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S, "--forms", str(missing)]) == 2
    )
    assert str(missing) in capsys.readouterr().err
    assert not list(out.rglob("*.docx"))
    assert main(["forms", "check", str(missing)]) == 2


def test_who_saved_the_template_is_not_in_the_documents(exported):
    """Word records the author and who saved last: a document made from the template carries neither."""

    def saved_by_a_clerk(doc) -> None:
        wording(doc)
        doc.core_properties.author = "山田　花子"
        doc.core_properties.last_modified_by = "山田　花子"

    _edit(exported / "委嘱状.docx", saved_by_a_clerk)
    assert check_folder(exported)[0] == []
    form, ctx = contexts()["form1-ordinary"]
    data = FormTemplate(exported / "委嘱状.docx", form=form).render(ctx)
    assert "山田".encode() not in b"".join(_parts(data).values())
    props = Docx(io.BytesIO(data)).core_properties
    assert props.author == "" and props.last_modified_by == "" and props.title == "委嘱状"


def test_a_template_that_inflates_beyond_reason_is_refused_before_it_is_opened(exported, capsys):
    """A zip member of a few KB that inflates to 40 MB (the template folder is as untrusted as the input)."""
    import zipfile

    with zipfile.ZipFile(exported / "委嘱状.docx", "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/media/padding.bin", b"\0" * (40 * 2**20))
    assert (exported / "委嘱状.docx").stat().st_size < 2**20
    capsys.readouterr()
    assert main(["forms", "check", str(exported)]) == 2
    assert "委嘱状.docx のファイル: 展開すると大きすぎる" in capsys.readouterr().out


def test_a_template_linked_from_outside_the_input_folder_is_not_read(tmp_path, capsys):
    inp, out = tmp_path / "in", tmp_path / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    elsewhere = tmp_path / "elsewhere"
    assert main(["forms", "export", str(elsewhere)]) == 0
    (inp / FOLDER).mkdir()
    (inp / FOLDER / "委嘱状.docx").symlink_to(elsewhere / "委嘱状.docx")
    assert main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF_S]) == 2
    assert "入力フォルダの外を指すリンク" in capsys.readouterr().err
    assert not list(out.rglob("*.docx"))
