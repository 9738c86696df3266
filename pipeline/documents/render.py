"""Render the forms with docxtpl's own template preparation, escaped and sandboxed, compiled once per form."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment

from pipeline.core import fmt
from pipeline.core.errors import TemplateProblem
from pipeline.documents import form_fields
from pipeline.ooxml.zipfix import Frame, Member, read_zip


def template_dir() -> Path:
    """The templates shipped with the package (the repository's templates_docx/, mapped into the wheel)."""
    return Path(str(resources.files("pipeline.templates_docx")))


TEMPLATE_DIR = template_dir()
FORMS = {"委嘱状": "委嘱状.docx", "設置報告書": "設置報告書.docx", "開催結果報告書": "開催結果報告書.docx"}


def make_env() -> SandboxedEnvironment:
    """Autoescape on (a bare & or < would corrupt the .docx), sandboxed, strict about unknown names."""
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, finalize=fmt.text)


# The parts a clerk can edit in Word and that are rendered, as docxtpl's render() does (body,
# headers, footers, footnotes; the document properties as XML, so escaping applies there too).
RENDERED_PARTS = re.compile(r"word/(header|footer)\d*\.xml|word/footnotes\.xml|docProps/core\.xml")
BODY = "word/document.xml"
_TAG = re.compile(r"\{[{%#]")
_LISTING = re.compile("[\n\t\a\f]")
_LITERALS = {"{_{": "{{", "}_}": "}}", "{_%": "{%", "%_}": "%}"}
_LITERAL_BRACES = re.compile("|".join(re.escape(k) for k in _LITERALS))
_MARKUP = re.compile(r"<[^>]*>")
_RUN_TEXT = re.compile(r"<w:t(?: [^>]*)?>.*?</w:t>", re.DOTALL)  # as docxtpl's resolve_listing finds them
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'


def has_placeholder(xml: str) -> bool:
    """A jinja tag in the part's text, also when Word has split it over several runs."""
    return bool(_TAG.search(_MARKUP.sub("", xml)))


# Word writes who saved a template into its properties: no document made from it carries that (SPEC 5: no
# personal data in the properties). The built-in templates have none of these: their bytes stay as they are.
_PERSONAL = re.compile(
    rb"<(?P<p>[A-Za-z][\w.-]*:)?(?P<n>creator|lastModifiedBy|lastPrinted)\b[^>]*?(?:/>|>.*?</(?P=p)?(?P=n)>)", re.S
)


def _scrub(name: str, blob: bytes) -> bytes:
    return _PERSONAL.sub(b"", blob) if name == "docProps/core.xml" else blob


class _Part:
    """One rendered part: the compiled template and the unchanged text around it."""

    def __init__(self, env: SandboxedEnvironment, name: str, prefix: str, src: str, suffix: str, label: str):
        self.name, self.prefix, self.suffix = name, prefix, suffix
        src = re.sub(r"<w:p([ >])", r"\n<w:p\1", src)
        # docxtpl's literal braces ({_{ }_} {_% %_}) are the template's own text: turn them into jinja
        # string literals here, so that a value a clerk typed (型番{_{1}_}) is printed exactly as typed.
        src = _LITERAL_BRACES.sub(lambda m: "{{ '" + _LITERALS[m.group()] + "' }}", src)
        try:
            self.template = env.from_string(src)
            self.names = meta.find_undeclared_variables(env.parse(src))
        except TemplateError as e:
            raise TemplateProblem(f"テンプレート「{label}」の{name}の差込み記号が正しくありません（{e}）。") from None


class FormTemplate:
    """One .docx template, prepared exactly as docxtpl prepares it, then reused for every document.

    docxtpl's render() re-opens the package, re-patches and re-compiles the XML for each
    document; here that happens once per part that holds a placeholder (the body, headers,
    footers, footnotes and document properties), and each document is the compiled parts'
    output placed into the template's other zip members unchanged. A placeholder in any other
    part would be printed literally: such a template is refused, naming the part.
    """

    def __init__(self, path: Path, env: SandboxedEnvironment | None = None, form: str | None = None):
        self.path = path
        self.form = form  # a known form: its context gets the Japanese placeholder names (form_fields)
        self.env = env or make_env()
        try:
            data = path.read_bytes()
            tpl = DocxTemplate(path)
            tpl.init_docx()
            body = tpl.patch_xml(tpl.get_xml())
            members = [(n, _scrub(n, b)) for n, b in read_zip(data)]
        except Exception as e:
            raise TemplateProblem(f"テンプレート「{path.name}」を開けません（{type(e).__name__}: {e}）。") from None
        self.fingerprint = hashlib.sha256(data).hexdigest()
        self.parts: dict[str, _Part] = {}
        for name, blob in members:
            if name == BODY:
                doc_xml = blob.decode("utf-8")
                prefix = doc_xml[: doc_xml.index("<w:body")]
                suffix = doc_xml[doc_xml.rindex("</w:body>") + len("</w:body>") :]
                self.parts[name] = _Part(self.env, name, prefix, body, suffix, path.name)
                continue
            if not name.endswith((".xml", ".rels")):
                continue
            xml = blob.decode("utf-8", errors="replace")
            if not has_placeholder(xml):
                continue
            if not RENDERED_PARTS.fullmatch(name):
                raise TemplateProblem(
                    f"テンプレート「{path.name}」の部分 {name} に差込み記号がありますが、この部分は差し込みません"
                    "（本文、ヘッダー、フッター、脚注、文書のプロパティだけに置けます）。"
                )
            decl = re.match(r"<\?xml[^>]*\?>\s*", xml)
            head = decl.group(0) if decl else ""
            self.parts[name] = _Part(self.env, name, head, tpl.patch_xml(xml[len(head) :]), "", path.name)
        self.names = set().union(*(p.names for p in self.parts.values()))
        # Every other member is the same in every document: deflate it once, here.
        self.members = [(n, None if n in self.parts else Member.of(n, b)) for n, b in members]
        self.frame = Frame(self.members)

    def check_fields(self, supplied: set[str]) -> None:
        missing = sorted(self.names - supplied)
        if missing:
            raise TemplateProblem(
                f"テンプレート「{self.path.name}」の差込み項目 {', '.join(missing)} はパイプラインが提供しない名前です。"
                f"使える名前: {', '.join(sorted(supplied))}"
            )

    def render_xml(self, context: dict, part: str = BODY) -> str:
        """The rendered XML of one part (for the body: the <w:body> element only, as docxtpl renders it)."""
        where = "" if part == BODY else f"の{part}"
        try:
            xml = self.parts[part].template.render(context)
        except UndefinedError as e:
            raise TemplateProblem(
                f"テンプレート「{self.path.name}」{where}が提供されない値を参照しています（{e.message}）。"
            ) from None
        except TemplateError as e:  # SecurityError from the sandbox, among others
            raise TemplateProblem(f"テンプレート「{self.path.name}」{where}を差し込めません（{e}）。") from None
        # The same post-processing as docxtpl's render_xml_part (plain replaces: values are escaped, so
        # "\n<w:p" can only be the marker the source was given).
        xml = xml.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
        if _LISTING.search(xml) is None:
            return xml  # no line break, tab or page break in any value: nothing for resolve_listing to do
        if "\t" not in xml and "\a" not in xml and "\f" not in xml:
            # Line breaks only (Alt+Enter in a cell), all inside text runs: resolve_listing's result is the
            # same break put into each run's text, without its three nested regex passes per paragraph.
            texts = _RUN_TEXT.findall(xml)
            if sum(t.count("\n") for t in texts) == xml.count("\n"):
                return _RUN_TEXT.sub(lambda m: m.group(0).replace("\n", _BREAK), xml)
        return DocxTemplate.resolve_listing(None, xml)  # \n in a value -> <w:br/> (Alt+Enter)

    def render(self, context: dict) -> bytes:
        if self.form is not None:
            context = form_fields.template_context(self.form, context)
        return self.frame.fill(
            {
                name: Member.stored(name, (p.prefix + self.render_xml(context, name) + p.suffix).encode("utf-8"))
                for name, p in self.parts.items()
            }
        )


# The built-in templates before their placeholders were Japanese (SHA-256), and the context keys added since:
# a manifest key of that version (sha256 of template SHA + values) is recognised, so that an upgrade alone
# gives a hand-edited document no _新版 (write.py: same_record).
EARLIER_TEMPLATES = {
    "委嘱状": "3d4db583a3ef7402b7835c455754d3ec9c72073ff1f1c7e83bad3a66135c51cd",
    "設置報告書": "77996094f93ecc8282614378017d6e667d7978d40dde3a25ec0dc889c24b119d",
    "開催結果報告書": "2bb61f37a867fb3cb9bbf2013ccc654f5db4a6307cdfe72998124efd0024362b",
}
_ADDED_KEYS = {"開催結果報告書": {"station"}}


def earlier_keys(form: str, fingerprint: str, context: dict) -> set[str]:
    """The manifest keys an earlier version would have recorded for this document with these values."""
    values = {k: v for k, v in context.items() if k not in _ADDED_KEYS.get(form, set())}
    blob = json.dumps(values, ensure_ascii=False, sort_keys=True).encode()
    return {hashlib.sha256(fp.encode() + blob).hexdigest() for fp in (fingerprint, EARLIER_TEMPLATES.get(form, ""))}


def load_templates(
    directory: Path = TEMPLATE_DIR, fields: dict[str, set[str]] | None = None, paths: dict[str, Path] | None = None
) -> dict[str, FormTemplate]:
    """The three forms from directory, or each from paths[form] when given (an office's edited templates)."""
    env = make_env()
    out = {}
    for form, name in FORMS.items():
        path = paths[form] if paths and form in paths else directory / name
        if not path.exists():
            raise TemplateProblem(f"テンプレート「{path}」がありません。`make templates` で作り直してください。")
        out[form] = FormTemplate(path, env, form)
        if fields is not None:
            out[form].check_fields(set(fields[form]) | set(form_fields.known_names(form)))
    return out
