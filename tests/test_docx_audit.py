"""Word opens every template and document cleanly: openxml-audit, schema element order, package hygiene."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from openxml_audit import OpenXmlValidator

from pipeline.documents import forms
from pipeline.documents.render import FORMS, TEMPLATE_DIR, load_templates
from tests.form_cases import contexts

ROOT = Path(__file__).resolve().parents[1]
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TITLES = {
    "委嘱状": "委嘱状",
    "設置報告書": "交番・駐在所連絡協議会設置報告書",
    "開催結果報告書": "連絡協議会開催結果報告書",
}

# ECMA-376 transitional child order, written out here independently of scripts/build_templates.py.
ORDER = {
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc tblCellSpacing "
    "tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription tblPrChange",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign hideMark "
    "headers cellIns cellDel cellMerge tcPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof snapToGrid "
    "vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl cs em "
    "lang eastAsianLayout specVanish oMath rPrChange",
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
    "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi adjustRightInd "
    "snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection textAlignment "
    "textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "sectPr": "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders lnNumType "
    "pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid printerSettings "
    "sectPrChange",
    "tblBorders": "top left start bottom right end insideH insideV",
}
ORDER = {k: v.split() for k, v in ORDER.items()}


@pytest.fixture(scope="module")
def validator():
    return OpenXmlValidator(max_errors=0)


@pytest.fixture(scope="module")
def templates():
    return load_templates(fields=forms.FIELDS)


def findings(validator, data: bytes, tmp_path: Path, name: str) -> list[str]:
    path = tmp_path / name
    path.write_bytes(data)
    result = validator.validate(str(path))
    return [f"{e.part_uri}: {e.description}" for e in result.errors]


def order_violations(xml: bytes) -> list[str]:
    """Every property element whose children are out of schema order, or repeated."""
    out = []
    for local, order in ORDER.items():
        for el in etree.fromstring(xml).iter(W + local):
            names = [c.tag.rsplit("}", 1)[1] for c in el if c.tag.startswith(W)]
            unknown = [n for n in names if n not in order]
            positions = [order.index(n) for n in names if n in order]
            repeated = local != "sectPr" and len(set(names)) != len(names)
            if unknown or repeated or positions != sorted(positions):
                out.append(f"{local}: {names}")
    return out


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("form", FORMS)
def test_template_has_zero_findings(validator, tmp_path, form):
    data = (TEMPLATE_DIR / FORMS[form]).read_bytes()
    assert findings(validator, data, tmp_path, FORMS[form]) == []
    assert order_violations(_parts(data)["word/document.xml"]) == []


@pytest.mark.parametrize("case", sorted(contexts()))
def test_rendered_document_has_zero_findings(validator, templates, tmp_path, case):
    """Ordinary, empty and extreme values (15 members with wrapped cells, 4 and 12 long opinions …)."""
    form, ctx = contexts()[case]
    data = templates[form].render(ctx)
    assert findings(validator, data, tmp_path, f"{case}.docx") == []
    assert order_violations(_parts(data)["word/document.xml"]) == []


def test_order_check_catches_the_old_mistakes():
    """The element-order check fails on what the old templates had (it is not vacuous)."""
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    bad = [
        f"<w:tblPr {w}><w:tblW/><w:tblLook/><w:tblLayout/></w:tblPr>",
        f"<w:tblPr {w}><w:tblLayout/><w:tblLook/><w:tblLayout/></w:tblPr>",
        f"<w:tcPr {w}><w:tcW/><w:vAlign/><w:vMerge/></w:tcPr>",
        f"<w:rPr {w}><w:rFonts/><w:sz/><w:spacing/></w:rPr>",
        f"<w:pPr {w}><w:jc/><w:spacing/></w:pPr>",
        f"<w:sectPr {w}><w:docGrid/><w:pgSz/></w:sectPr>",
    ]
    for xml in bad:
        assert order_violations(xml.encode()) != [], xml
    assert order_violations(f"<w:tcPr {w}><w:tcW/><w:vMerge/><w:vAlign/></w:tcPr>".encode()) == []


@pytest.mark.parametrize("form", FORMS)
def test_template_package_carries_no_foreign_leftovers(form):
    parts = _parts((TEMPLATE_DIR / FORMS[form]).read_bytes())
    assert sorted(parts) == [
        "[Content_Types].xml",
        "_rels/.rels",
        "docProps/app.xml",
        "docProps/core.xml",
        "word/_rels/document.xml.rels",
        "word/document.xml",
        "word/fontTable.xml",
        "word/settings.xml",
        "word/styles.xml",
        "word/theme/theme1.xml",
    ]
    wiring = (
        "[Content_Types].xml",
        "_rels/.rels",
        "word/_rels/document.xml.rels",
        "docProps/app.xml",
        "docProps/core.xml",
    )
    text = b"".join(parts[n] for n in wiring).decode("utf-8")
    for leftover in ("stylesWithEffects", "thumbnail", "customXml", "numbering", "lastPrinted", "Macintosh"):
        assert leftover not in text, leftover
    settings = parts["word/settings.xml"].decode()
    assert re.search(r'w:name="compatibilityMode"[^>]*w:val="15"', settings)
    assert '<w:zoom w:percent="100"/>' in settings
    styles = parts["word/styles.xml"].decode()
    assert 'w:eastAsia="ja-JP"' in styles and 'en-US" w:eastAsia="en-US' not in styles
    assert styles.count('w:eastAsia="ＭＳ 明朝"') >= 2  # document defaults and Normal
    assert 'w:name="ＭＳ 明朝"><w:altName w:val="MS Mincho"/>' in parts["word/fontTable.xml"].decode()
    app = parts["docProps/app.xml"].decode()
    assert "Microsoft" not in app and "<Application>kobankyo</Application>" in app
    core = parts["docProps/core.xml"].decode()
    assert f"<dc:title>{TITLES[form]}</dc:title>" in core
    assert "2020-03-05T00:00:00Z" in core and "creator" not in core and "lastModifiedBy" not in core


def test_templates_rebuild_byte_for_byte(tmp_path):
    """`make templates` is reproducible: building again gives the committed bytes."""
    code = (
        "import sys; sys.path.insert(0, 'scripts'); import build_templates as b; from pathlib import Path; "
        f"b.OUT = Path({str(tmp_path)!r}); b.build_all()"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    for name in FORMS.values():
        assert (tmp_path / name).read_bytes() == (TEMPLATE_DIR / name).read_bytes(), name


def test_every_document_of_the_samples_has_zero_findings(validator, tmp_path):
    """What `make reports` writes: every document of input_samples/."""
    from pipeline.checking.result import Options
    from pipeline.run.steps import run
    from tests.builders import AS_OF

    out = tmp_path / "out"
    run(ROOT / "input_samples", out, Options(as_of=AS_OF))
    docs = sorted(out.rglob("*.docx"))
    assert len(docs) > 300
    bad = {}
    for d in docs:
        errors = [e.description for e in validator.validate(str(d)).errors]
        if errors:
            bad[str(d.relative_to(out))] = errors[:3]
    assert bad == {}
